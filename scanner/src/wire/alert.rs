//! TLS alerts.
use super::{Reader, WireError};
use std::fmt;

/// A TLS alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// Alert description code.
    pub description: u8,
}

impl Alert {
    /// handshake_failure: typically "no suite or group in common".
    pub const HANDSHAKE_FAILURE: u8 = 40;
    /// protocol_version: the offered version is not supported.
    pub const PROTOCOL_VERSION: u8 = 70;
    /// inappropriate_fallback: TLS_FALLBACK_SCSV honoured (RFC 7507).
    pub const INAPPROPRIATE_FALLBACK: u8 = 86;
    /// insufficient_security.
    pub const INSUFFICIENT_SECURITY: u8 = 71;

    /// Parses an alert record payload.
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        let level = r.u8("alert level")?;
        let description = r.u8("alert description")?;
        r.finish("alert")?;
        Ok(Self { level, description })
    }

    /// The RFC name of the description.
    pub fn name(&self) -> &'static str {
        match self.description {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            22 => "record_overflow",
            40 => "handshake_failure",
            42 => "bad_certificate",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            109 => "missing_extension",
            110 => "unsupported_extension",
            112 => "unrecognized_name",
            120 => "no_application_protocol",
            _ => "unknown_alert",
        }
    }
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names() {
        let a = Alert::parse(&[2, 40]);
        assert_eq!(
            a.map(|a| a.to_string()),
            Ok("handshake_failure (40)".to_owned())
        );
        assert!(Alert::parse(&[2]).is_err());
        assert!(Alert::parse(&[2, 40, 0]).is_err());
    }
}
