//! What a policy is: verdict reasons, rules, feature requirements, key limits, product profiles.
use crate::item::{Item, Kind};
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};
use std::fmt;

use super::builtin_names;

/// A protocol a policy speaks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// TLS and SSL.
    Tls,
    /// SSH.
    Ssh,
}

/// Whether a verdict row was checked against its primary source.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Checked against the cited document.
    #[default]
    Verified,
    /// Believed right, not yet checked against the primary text.
    Unverified,
}

/// A verdict with why and on whose authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Reason {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// Source id (see [`crate::source`]).
    pub source: String,
    /// Whether the row was checked against the source.
    pub confidence: Confidence,
    /// A remark that does not change the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A policy's judgement of one item: the verdict and every reason behind it, worst first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Judgement {
    /// The worst verdict of the reasons.
    pub verdict: Verdict,
    /// Reasons, worst first; the first one explains the verdict.
    pub reasons: Vec<Reason>,
}

impl Judgement {
    pub(super) fn single(reason: Reason) -> Self {
        Self {
            verdict: reason.verdict,
            reasons: vec![reason],
        }
    }

    /// The reason that decides the verdict.
    pub fn primary(&self) -> Option<&Reason> {
        self.reasons.first()
    }

    /// Notes attached to any reason.
    pub fn notes(&self) -> impl Iterator<Item = &str> {
        self.reasons.iter().filter_map(|r| r.note.as_deref())
    }
}

/// What a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Selector {
    /// Any of these names or aliases (case-insensitive).
    Names(Vec<String>),
    /// Any of these glob patterns (`*`, `?`) against any name or alias.
    Patterns(Vec<String>),
    /// A component with one of these values (`*` for any).
    Component { name: String, values: Vec<String> },
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rule {
    pub(super) kind: Option<Kind>,
    pub(super) selector: Selector,
    pub(super) reason: Reason,
    /// Position in the `extends` chain: 0 for the root ancestor, higher for descendants.
    pub(super) level: usize,
    /// The last day (YYYY-MM-DD) the rule's verdict holds; after it the item is disallowed.
    pub(super) disallowed_after: Option<String>,
}

/// A protocol feature a policy can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// TLS 1.2 must negotiate the extended master secret (RFC 7627).
    TlsExtendedMasterSecret,
    /// Servers offering TLS ≤ 1.2 must support secure renegotiation (RFC 5746).
    TlsSecureRenegotiation,
    /// Servers offering TLS 1.0/1.1 without TLS 1.3 must honour TLS_FALLBACK_SCSV (RFC 7507).
    TlsFallbackScsv,
    /// Servers offering CBC suites must support encrypt-then-MAC (RFC 7366).
    TlsEncryptThenMac,
    /// The server must staple OCSP responses (status_request).
    TlsOcspStapling,
    /// Only null compression may be enabled.
    TlsNoCompression,
    /// 0-RTT early data should not be accepted.
    TlsNoEarlyData,
    /// The server must offer TLS 1.3.
    TlsOffersTls13,
}

impl Feature {
    /// The spelling in policies and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TlsExtendedMasterSecret => "tls-extended-master-secret",
            Self::TlsSecureRenegotiation => "tls-secure-renegotiation",
            Self::TlsFallbackScsv => "tls-fallback-scsv",
            Self::TlsEncryptThenMac => "tls-encrypt-then-mac",
            Self::TlsOcspStapling => "tls-ocsp-stapling",
            Self::TlsNoCompression => "tls-no-compression",
            Self::TlsNoEarlyData => "tls-no-early-data",
            Self::TlsOffersTls13 => "tls-offers-tls13",
        }
    }
}

/// A requirement on a protocol feature, with the verdict of a server that fails it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Requirement {
    /// The feature.
    pub feature: Feature,
    /// Verdict, reason and source when the server does not meet it.
    #[serde(flatten)]
    pub reason: Reason,
}

/// Limits on key and group sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeyLimits {
    /// Smallest RSA modulus, in bits.
    pub rsa_min_bits: u32,
    /// Smallest finite-field DH group (DHE primes, SSH group-exchange moduli), in bits.
    pub dh_min_bits: u32,
    /// Whether DHE must use a named safe-prime group (RFC 7919 or RFC 3526).
    pub dh_safe_prime_only: bool,
    /// Source of these limits.
    pub source: String,
}

/// How the product behind a profile takes part in a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// It connects to the scanned server (its list order is the client preference).
    Client,
    /// It accepts connections; simulations still treat its list as the peer's offer.
    Server,
}

/// The ordered algorithm lists of a product in FIPS mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Profile {
    /// Client or server.
    pub role: Role,
    /// Source id of the lists.
    pub source: String,
    /// Ordered lists by kind, each resolved to known items.
    pub lists: Vec<(Kind, Vec<Item>)>,
}

impl Profile {
    /// The ordered list for a kind, if the profile constrains it.
    pub fn list(&self, kind: Kind) -> Option<&[Item]> {
        self.lists
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, l)| l.as_slice())
    }
}

/// A resolved policy: its own rules after those of the policies it extends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Short name (`fips-140-3`).
    pub name: String,
    /// One-line title.
    pub title: String,
    /// Longer description.
    pub description: String,
    /// Where it came from: `built-in` or a file path.
    pub origin: String,
    /// The chain of policies it extends, nearest first.
    pub extends: Vec<String>,
    /// Protocols it judges.
    pub protocols: Vec<Protocol>,
    /// Verdict of anything no rule names.
    pub default: Reason,
    pub(super) rules: Vec<Rule>,
    /// Feature requirements.
    pub requirements: Vec<Requirement>,
    /// Key and group size limits.
    pub keys: KeyLimits,
    /// Ordered product lists, for vendor and OS profiles.
    pub profile: Option<Profile>,
    /// The `extends` level at which each profile list was defined.
    pub(super) profile_levels: Vec<(Kind, usize)>,
    /// Whether it judges citizen-facing servers (SP 800-52r2 §3.1): TLS 1.0 and 1.1 deprecated.
    pub citizen_facing: bool,
    /// The day (YYYY-MM-DD) the policy judges at: today unless [`Policy::at`] says otherwise.
    /// Rules with a `disallowed_after` date before it judge their items disallowed.
    pub as_of: String,
}

/// Why a policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// No built-in policy of that name and no such file.
    NotFound(String),
    /// The file could not be read.
    Io { path: String, message: String },
    /// The text is not a valid policy.
    Invalid {
        origin: String,
        line: usize,
        message: String,
    },
    /// `extends` forms a loop or chains too deep.
    ExtendsCycle(Vec<String>),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(n) => write!(
                f,
                "no policy named {n:?} (built-in: {}) and no such file",
                builtin_names().collect::<Vec<_>>().join(", ")
            ),
            Self::Io { path, message } => write!(f, "{path}: {message}"),
            Self::Invalid {
                origin,
                line,
                message,
            } => write!(f, "{origin}:{line}: {message}"),
            Self::ExtendsCycle(chain) => write!(f, "policy extends loop: {}", chain.join(" -> ")),
        }
    }
}

impl std::error::Error for PolicyError {}
