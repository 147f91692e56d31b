//! The NDJSON lines as one type that is written and read back: `report`, `diff` and `--resume`
//! read saved scans through [`Line::parse`], so a renamed or retyped field is a compile error
//! there, and a line they cannot read is a typed [`LineError`] naming what is wrong.
use super::{EndpointReport, ScanBegin, ScanEnd, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares the type of a line's `type` field: it writes one word and reads back only that word.
macro_rules! line_tag {
    ($(#[$doc:meta])* $tag:ident = $word:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $tag;

        impl $tag {
            /// The word.
            pub const WORD: &'static str = $word;
        }

        impl Serialize for $tag {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($word)
            }
        }

        impl<'de> Deserialize<'de> for $tag {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = String::deserialize(d)?;
                if word == $word {
                    Ok(Self)
                } else {
                    Err(serde::de::Error::custom(format!(
                        "type is {word:?}, not {:?}",
                        $word
                    )))
                }
            }
        }

        impl schemars::JsonSchema for $tag {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($tag).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "string", "const": $word})
            }
        }
    };
}

line_tag!(
    /// `"type": "scan_begin"`.
    ScanBeginTag = "scan_begin"
);
line_tag!(
    /// `"type": "endpoint"`.
    EndpointTag = "endpoint"
);
line_tag!(
    /// `"type": "scan_end"`.
    ScanEndTag = "scan_end"
);

/// One NDJSON line of a scan.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Line {
    /// The first line.
    ScanBegin(ScanBegin),
    /// One endpoint.
    Endpoint(Box<EndpointReport>),
    /// The last line.
    ScanEnd(ScanEnd),
}

/// Why a saved line could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not a JSON object.
    NotJson(String),
    /// Written with another report format (None: the line has no `schema_version`).
    SchemaVersion(Option<u64>),
    /// A `type` this fipsgate does not write (None: the line has none).
    UnknownType(Option<String>),
    /// The line's fields do not fit its type: missing, unknown or mistyped fields.
    Invalid {
        /// The line's type.
        kind: &'static str,
        /// What serde found wrong.
        message: String,
    },
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson(e) => write!(f, "not a JSON line: {e}"),
            Self::SchemaVersion(Some(v)) => write!(
                f,
                "schema_version {v}: written by another fipsgate; this one reads schema_version {SCHEMA_VERSION}"
            ),
            Self::SchemaVersion(None) => write!(
                f,
                "no schema_version: not a line of `fipsgate scan --format ndjson`"
            ),
            Self::UnknownType(Some(t)) => {
                write!(f, "type {t:?} is none of scan_begin, endpoint, scan_end")
            }
            Self::UnknownType(None) => write!(f, "a line without a type"),
            Self::Invalid { kind, message } => write!(f, "{kind} line: {message}"),
        }
    }
}

impl std::error::Error for LineError {}

impl Line {
    /// Reads one saved line.
    pub fn parse(text: &str) -> Result<Self, LineError> {
        /// The two fields that say what a line is; the rest is skipped, not built.
        #[derive(Deserialize)]
        struct Head<'a> {
            schema_version: Option<serde_json::Value>,
            #[serde(rename = "type", borrow)]
            kind: Option<std::borrow::Cow<'a, str>>,
        }
        let head: Head<'_> =
            serde_json::from_str(text).map_err(|e| LineError::NotJson(e.to_string()))?;
        let version = head
            .schema_version
            .as_ref()
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(SCHEMA_VERSION)) {
            return Err(LineError::SchemaVersion(version));
        }
        // Typed straight from the text: building a JSON tree first costs as much again.
        fn read<T: serde::de::DeserializeOwned>(
            kind: &'static str,
            text: &str,
        ) -> Result<T, LineError> {
            serde_json::from_str(text).map_err(|e| LineError::Invalid {
                kind,
                message: e.to_string(),
            })
        }
        match head.kind.as_deref() {
            Some(ScanBeginTag::WORD) => read(ScanBeginTag::WORD, text).map(Self::ScanBegin),
            Some(EndpointTag::WORD) => {
                read(EndpointTag::WORD, text).map(|r| Self::Endpoint(Box::new(r)))
            }
            Some(ScanEndTag::WORD) => read(ScanEndTag::WORD, text).map(Self::ScanEnd),
            other => Err(LineError::UnknownType(other.map(str::to_owned))),
        }
    }

    /// Reads one line already parsed as JSON: its schema version first, then its type, then its
    /// fields.
    pub fn from_value(value: serde_json::Value) -> Result<Self, LineError> {
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(SCHEMA_VERSION)) {
            return Err(LineError::SchemaVersion(version));
        }
        let kind = value.get("type").and_then(serde_json::Value::as_str);
        fn read<T: serde::de::DeserializeOwned>(
            kind: &'static str,
            value: serde_json::Value,
        ) -> Result<T, LineError> {
            serde_json::from_value(value).map_err(|e| LineError::Invalid {
                kind,
                message: e.to_string(),
            })
        }
        match kind {
            Some(ScanBeginTag::WORD) => read(ScanBeginTag::WORD, value).map(Self::ScanBegin),
            Some(EndpointTag::WORD) => {
                read(EndpointTag::WORD, value).map(|r| Self::Endpoint(Box::new(r)))
            }
            Some(ScanEndTag::WORD) => read(ScanEndTag::WORD, value).map(Self::ScanEnd),
            other => Err(LineError::UnknownType(other.map(str::to_owned))),
        }
    }
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{ErrorKind, ProbeError};
    use crate::report::Target;

    fn endpoint() -> EndpointReport {
        let target = Target {
            host: "a.example".into(),
            ip: Some("127.0.0.1".into()),
            port: 443,
        };
        EndpointReport::failed(
            target,
            "tls",
            ProbeError::new(ErrorKind::Timeout, "no answer"),
            1,
            5,
        )
    }

    #[test]
    fn lines_read_back_as_written() {
        let lines = [
            Line::ScanBegin(ScanBegin::now(&[], vec!["fipsgate".into()])),
            Line::Endpoint(Box::new(endpoint())),
            Line::ScanEnd(ScanEnd::new(&[])),
        ];
        for line in lines {
            let text = serde_json::to_string(&line).unwrap_or_default();
            let back = Line::parse(&text);
            assert_eq!(
                back.as_ref()
                    .map(|b| serde_json::to_string(b).unwrap_or_default()),
                Ok(text.clone()),
                "{back:?}"
            );
        }
    }

    #[test]
    fn foreign_lines_get_a_clear_error() {
        let text = serde_json::to_string(&endpoint()).unwrap_or_default();
        let older = text.replace("\"schema_version\":1", "\"schema_version\":0");
        assert_eq!(
            Line::parse(&older).err(),
            Some(LineError::SchemaVersion(Some(0)))
        );
        let renamed = text.replace("\"service\"", "\"protocol\"");
        let e = Line::parse(&renamed).err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|m| m.starts_with("endpoint line: unknown field `protocol`")),
            "{e:?}"
        );
        let retyped = text.replace("\"connections\":1", "\"connections\":\"one\"");
        assert!(matches!(
            Line::parse(&retyped),
            Err(LineError::Invalid {
                kind: "endpoint",
                ..
            })
        ));
        let other = text.replace("\"type\":\"endpoint\"", "\"type\":\"finding\"");
        assert_eq!(
            Line::parse(&other).err(),
            Some(LineError::UnknownType(Some("finding".into())))
        );
        assert!(matches!(Line::parse("{\"sche"), Err(LineError::NotJson(_))));
    }
}
