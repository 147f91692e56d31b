//! The verdict words of reports, in order of severity.
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a policy judges one algorithm. Ordered from best to worst.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Allowed by the policy.
    Approved,
    /// Allowed today, scheduled to go or discouraged: a warning.
    Deprecated,
    /// A code point cipher-db does not know.
    Unknown,
    /// Not a NIST-approved algorithm at all.
    NotApproved,
    /// Forbidden by a document after a date that has passed.
    Disallowed,
}

impl Verdict {
    /// All verdicts, best first.
    pub const ALL: [Verdict; 5] = [
        Self::Approved,
        Self::Deprecated,
        Self::Unknown,
        Self::NotApproved,
        Self::Disallowed,
    ];

    /// Whether a peer bound by the policy may use it (approved or deprecated).
    pub fn is_allowed(self) -> bool {
        matches!(self, Self::Approved | Self::Deprecated)
    }

    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Deprecated => "deprecated",
            Self::Unknown => "unknown",
            Self::NotApproved => "not-approved",
            Self::Disallowed => "disallowed",
        }
    }

    /// Parses the report spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a whole endpoint is, under one policy.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointVerdict {
    /// Everything the server accepts is approved or deprecated.
    FipsOnly,
    /// At least one complete approved combination, but non-approved things are accepted too.
    FipsCapable,
    /// No approved combination: a FIPS-mode peer cannot talk to it.
    NotFipsCapable,
}

impl EndpointVerdict {
    /// The report spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FipsOnly => "fips-only",
            Self::FipsCapable => "fips-capable",
            Self::NotFipsCapable => "not-fips-capable",
        }
    }
}

impl fmt::Display for EndpointVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_and_spelling_round_trip() {
        assert!(Verdict::Approved < Verdict::Deprecated);
        assert!(Verdict::NotApproved < Verdict::Disallowed);
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
            assert_eq!(serde_json::to_string(&v).ok(), Some(format!("\"{v}\"")));
        }
        assert!(!Verdict::Unknown.is_allowed());
    }
}
