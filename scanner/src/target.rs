//! Target specifications: `host`, `host:port`, `[v6addr]:port`, `v6addr`.
use std::fmt;
use std::net::IpAddr;

/// Port scanned when a target names none.
pub const DEFAULT_TLS_PORT: u16 = 443;

/// One target as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// Host name or IP literal.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// Why a target specification is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    /// The specification.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid target {:?}: {}", self.spec, self.reason)
    }
}

impl std::error::Error for TargetError {}

impl TargetSpec {
    /// Parses one specification; `default_port` applies when none is given.
    pub fn parse(spec: &str, default_port: u16) -> Result<Self, TargetError> {
        let err = |reason: &str| TargetError {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let s = spec.trim();
        if s.is_empty() {
            return Err(err("empty"));
        }
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (addr, after) = rest
                .split_once(']')
                .ok_or_else(|| err("missing ']' after an IPv6 address"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| err("expected ':PORT' after ']'"))?,
                ),
            };
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(err("not an IPv6 address inside [ ]"));
            }
            (addr.to_owned(), port)
        } else if s.parse::<IpAddr>().is_ok() {
            (s.to_owned(), None)
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_owned(), Some(p)),
                Some(_) => {
                    return Err(err(
                        "an IPv6 address with a port must be written [ADDR]:PORT",
                    ))
                }
                None => (s.to_owned(), None),
            }
        };
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(err("the port must be a number from 1 to 65535")),
                Ok(p) => p,
            },
        };
        let valid_host = host.parse::<IpAddr>().is_ok()
            || (!host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                }));
        if !valid_host {
            return Err(err("not a host name or IP address"));
        }
        Ok(Self { host, port })
    }

    /// Whether the host is an IP literal (no SNI is sent for those unless asked).
    pub fn is_ip(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let p = |s: &str| TargetSpec::parse(s, 443).map(|t| (t.host, t.port));
        assert_eq!(p("example.com"), Ok(("example.com".into(), 443)));
        assert_eq!(p("127.0.0.1:8443"), Ok(("127.0.0.1".into(), 8443)));
        assert_eq!(p("[::1]:993"), Ok(("::1".into(), 993)));
        assert_eq!(p("::1"), Ok(("::1".into(), 443)));
        assert_eq!(p("[::1]"), Ok(("::1".into(), 443)));
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        for bad in [
            "",
            "host:0",
            "host:99999",
            "host:x",
            "[::1",
            "[zz]:1",
            "::1:443x",
            "bad host",
            "a..b",
            "[::1]443",
        ] {
            assert!(TargetSpec::parse(bad, 443).is_err(), "{bad:?} was accepted");
        }
    }
}
