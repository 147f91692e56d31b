//! STARTTLS dialogues: the plaintext exchange that turns a connection into one ready for a
//! ClientHello. Each reply is bounded in size and read under the probe's deadline.
use super::{Conn, ErrorKind, ProbeError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Most bytes a server may send before its STARTTLS answer.
const MAX_DIALOGUE: usize = 64 * 1024;

/// Protocols that upgrade a plaintext connection to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Starttls {
    /// SMTP `STARTTLS` (RFC 3207).
    Smtp,
    /// IMAP `STARTTLS` (RFC 3501).
    Imap,
    /// POP3 `STLS` (RFC 2595).
    Pop3,
    /// FTP `AUTH TLS` (RFC 4217): explicit FTPS.
    Ftp,
    /// LDAP StartTLS extended operation (RFC 4511).
    Ldap,
    /// XMPP `<starttls/>` (RFC 6120).
    Xmpp,
    /// PostgreSQL SSLRequest.
    Postgres,
}

impl Starttls {
    /// Every protocol.
    pub const ALL: [Starttls; 7] = [
        Self::Smtp,
        Self::Imap,
        Self::Pop3,
        Self::Ftp,
        Self::Ldap,
        Self::Xmpp,
        Self::Postgres,
    ];

    /// The name used on the command line and in `service` (`smtp` gives `smtp+starttls`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Smtp => "smtp",
            Self::Imap => "imap",
            Self::Pop3 => "pop3",
            Self::Ftp => "ftp",
            Self::Ldap => "ldap",
            Self::Xmpp => "xmpp",
            Self::Postgres => "postgres",
        }
    }

    /// Parses [`Starttls::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The protocol that well-known plaintext ports speak.
    pub fn for_port(port: u16) -> Option<Self> {
        match port {
            25 | 587 => Some(Self::Smtp),
            143 => Some(Self::Imap),
            110 => Some(Self::Pop3),
            21 => Some(Self::Ftp),
            389 => Some(Self::Ldap),
            5222 => Some(Self::Xmpp),
            5432 => Some(Self::Postgres),
            _ => None,
        }
    }

    /// `smtp+starttls`.
    pub fn service(self) -> String {
        format!("{}+starttls", self.as_str())
    }
}

impl fmt::Display for Starttls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn refused(proto: Starttls, detail: impl Into<String>) -> ProbeError {
    ProbeError::new(ErrorKind::Starttls, format!("{proto}: {}", detail.into()))
}

/// Reads until `done` says the reply is complete.
async fn read_until(
    conn: &mut Conn,
    proto: Starttls,
    done: impl Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, ProbeError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !done(&buf) {
        let n = conn.recv(&mut chunk).await?;
        if n == 0 {
            return Err(refused(
                proto,
                format!(
                    "the server closed the connection after {:?}",
                    printable(&buf)
                ),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_DIALOGUE {
            return Err(refused(
                proto,
                format!("more than {MAX_DIALOGUE} bytes before the STARTTLS answer"),
            ));
        }
    }
    Ok(buf)
}

fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]);
    text.trim_end()
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

/// The last complete line of a reply, once the reply has ended: for SMTP and FTP a line whose
/// code is followed by a space ends a (possibly multi-line) reply.
fn final_reply_line(buf: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(buf);
    if !text.ends_with('\n') {
        return None;
    }
    text.lines()
        .map(str::trim_end)
        .find(|l| {
            l.len() >= 4
                && l.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                && l.as_bytes()[3] == b' '
        })
        .map(str::to_owned)
}

async fn coded_reply(conn: &mut Conn, proto: Starttls) -> Result<String, ProbeError> {
    let buf = read_until(conn, proto, |b| final_reply_line(b).is_some()).await?;
    final_reply_line(&buf).ok_or_else(|| refused(proto, "no reply line"))
}

async fn line(conn: &mut Conn, proto: Starttls) -> Result<String, ProbeError> {
    let buf = read_until(conn, proto, |b| b.contains(&b'\n')).await?;
    Ok(printable(&buf))
}

/// The LDAP StartTLS ExtendedRequest, message id 1.
const LDAP_STARTTLS: &[u8] = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037";

/// Whether a BER LDAP message is complete (definite lengths only).
fn ber_complete(buf: &[u8]) -> Option<usize> {
    if buf.len() < 2 {
        return None;
    }
    let (len, header) = match buf[1] {
        n if n < 0x80 => (usize::from(n), 2),
        n => {
            let count = usize::from(n & 0x7F);
            if count == 0 || count > 4 || buf.len() < 2 + count {
                return None;
            }
            (
                buf[2..2 + count]
                    .iter()
                    .fold(0usize, |a, b| (a << 8) | usize::from(*b)),
                2 + count,
            )
        }
    };
    (buf.len() >= header + len).then_some(header + len)
}

/// Runs the dialogue; on success the next bytes on `conn` are TLS.
pub(crate) async fn negotiate(
    conn: &mut Conn,
    proto: Starttls,
    host: &str,
) -> Result<(), ProbeError> {
    match proto {
        Starttls::Smtp => {
            let banner = coded_reply(conn, proto).await?;
            if !banner.starts_with("220") {
                return Err(refused(proto, format!("banner {banner:?}")));
            }
            conn.send(b"EHLO fipsgate.invalid\r\n").await?;
            let ehlo = coded_reply(conn, proto).await?;
            if !ehlo.starts_with("250") {
                return Err(refused(proto, format!("EHLO answered {ehlo:?}")));
            }
            conn.send(b"STARTTLS\r\n").await?;
            let answer = coded_reply(conn, proto).await?;
            if !answer.starts_with("220") {
                return Err(refused(proto, format!("STARTTLS answered {answer:?}")));
            }
        }
        Starttls::Ftp => {
            let banner = coded_reply(conn, proto).await?;
            if !banner.starts_with("220") {
                return Err(refused(proto, format!("banner {banner:?}")));
            }
            conn.send(b"AUTH TLS\r\n").await?;
            let answer = coded_reply(conn, proto).await?;
            if !answer.starts_with("234") {
                return Err(refused(proto, format!("AUTH TLS answered {answer:?}")));
            }
        }
        Starttls::Imap => {
            let greeting = line(conn, proto).await?;
            if !greeting.starts_with("* OK") {
                return Err(refused(proto, format!("greeting {greeting:?}")));
            }
            conn.send(b"a1 STARTTLS\r\n").await?;
            let buf = read_until(conn, proto, |b| {
                String::from_utf8_lossy(b)
                    .lines()
                    .any(|l| l.starts_with("a1 "))
                    && b.ends_with(b"\n")
            })
            .await?;
            let text = String::from_utf8_lossy(&buf);
            let tagged = text
                .lines()
                .find(|l| l.starts_with("a1 "))
                .unwrap_or_default()
                .trim_end()
                .to_owned();
            if !tagged.starts_with("a1 OK") {
                return Err(refused(proto, format!("STARTTLS answered {tagged:?}")));
            }
        }
        Starttls::Pop3 => {
            let greeting = line(conn, proto).await?;
            if !greeting.starts_with("+OK") {
                return Err(refused(proto, format!("greeting {greeting:?}")));
            }
            conn.send(b"STLS\r\n").await?;
            let answer = line(conn, proto).await?;
            if !answer.starts_with("+OK") {
                return Err(refused(proto, format!("STLS answered {answer:?}")));
            }
        }
        Starttls::Ldap => {
            conn.send(LDAP_STARTTLS).await?;
            let buf = read_until(conn, proto, |b| ber_complete(b).is_some()).await?;
            // ExtendedResponse: ... 0x78 len, resultCode ENUMERATED (0x0a 0x01 code).
            let code = buf
                .windows(3)
                .position(|w| w[0] == 0x0a && w[1] == 0x01)
                .map(|i| buf[i + 2]);
            if !buf.contains(&0x78) || code != Some(0) {
                return Err(refused(proto, format!("StartTLS result code {code:?}")));
            }
        }
        Starttls::Xmpp => {
            let open = format!(
                "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='{host}' version='1.0'>"
            );
            conn.send(open.as_bytes()).await?;
            let features = read_until(conn, proto, |b| {
                String::from_utf8_lossy(b).contains("</stream:features>")
            })
            .await?;
            if !String::from_utf8_lossy(&features).contains("urn:ietf:params:xml:ns:xmpp-tls") {
                return Err(refused(proto, "the server does not offer STARTTLS"));
            }
            conn.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
                .await?;
            let answer = read_until(conn, proto, |b| {
                b.contains(&b'>')
                    && (String::from_utf8_lossy(b).contains("proceed")
                        || String::from_utf8_lossy(b).contains("failure"))
            })
            .await?;
            if !String::from_utf8_lossy(&answer).contains("<proceed") {
                return Err(refused(
                    proto,
                    format!("STARTTLS answered {:?}", printable(&answer)),
                ));
            }
        }
        Starttls::Postgres => {
            conn.send(&[0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]).await?;
            let answer = read_until(conn, proto, |b| !b.is_empty()).await?;
            match answer.first() {
                Some(b'S') => {}
                Some(b'N') => return Err(refused(proto, "the server does not accept SSL")),
                _ => {
                    return Err(refused(
                        proto,
                        format!("SSLRequest answered {:?}", printable(&answer)),
                    ))
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_replies_end_at_code_space() {
        assert_eq!(final_reply_line(b"220-hello\r\n"), None);
        assert_eq!(
            final_reply_line(b"220-hello\r\n220 ready\r\n").as_deref(),
            Some("220 ready")
        );
        assert_eq!(
            final_reply_line(b"250-a\r\n250-STARTTLS\r\n250 SIZE"),
            None,
            "an unfinished line"
        );
    }

    #[test]
    fn ports_and_names() {
        assert_eq!(Starttls::for_port(587), Some(Starttls::Smtp));
        assert_eq!(Starttls::for_port(443), None);
        assert_eq!(
            Starttls::parse("ftp").map(Starttls::service).as_deref(),
            Some("ftp+starttls")
        );
    }

    #[test]
    fn ber_lengths() {
        assert_eq!(ber_complete(&[0x30, 0x03, 1, 2]), None);
        assert_eq!(ber_complete(&[0x30, 0x02, 1, 2]), Some(4));
        assert_eq!(ber_complete(&[0x30, 0x81, 0x01, 9]), Some(4));
        assert_eq!(
            ber_complete(&[0x30, 0x80]),
            None,
            "indefinite lengths are refused"
        );
        assert_eq!(LDAP_STARTTLS.len(), 31);
    }
}
