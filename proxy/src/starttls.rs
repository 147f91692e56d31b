//! Server-side STARTTLS: the proxy plays the server's part of a protocol's plaintext opening
//! (SMTP, IMAP, POP3, LDAP, PostgreSQL, FTP) until the client asks for TLS, refusing every
//! other command so that no credential crosses in the clear; then, towards the plaintext
//! backend, it reads and drops the greeting the client already had from the proxy.
use crate::config::Starttls;
use std::fmt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A command line longer than this before TLS ends the connection (SMTP allows 512).
const MAX_LINE: usize = 1024;
/// Commands before TLS; more is not a client about to ask for TLS.
const MAX_COMMANDS: usize = 20;
/// The LDAP StartTLS extended operation (RFC 4511 4.14).
const LDAP_STARTTLS: &[u8] = b"1.3.6.1.4.1.1466.20037";
/// The LDAP Notice of Disconnection (RFC 4511 4.4.1).
const LDAP_DISCONNECTION: &[u8] = b"1.3.6.1.4.1.1466.20036";
/// PostgreSQL request codes.
const PG_SSL_REQUEST: u32 = 80_877_103;
const PG_GSSENC_REQUEST: u32 = 80_877_104;

/// Why a client did not get to TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The client sent a plaintext command other than the STARTTLS verb (refused, then closed).
    Plaintext(String),
    /// The client said goodbye (QUIT, LOGOUT) or closed the connection.
    Quit,
    /// The client's bytes do not make a command of the protocol.
    Malformed(String),
    /// Reading or writing failed.
    Io(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plaintext(c) => write!(f, "plaintext command {c:?} before STARTTLS: refused"),
            Self::Quit => f.write_str("the client left before STARTTLS"),
            Self::Malformed(why) | Self::Io(why) => f.write_str(why),
        }
    }
}

impl From<std::io::Error> for Refusal {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// One CRLF- (or LF-) terminated line, read a byte at a time so that nothing after it (the
/// TLS hello) is consumed; `None` at the end of the stream.
async fn read_line<S: AsyncRead + Unpin>(s: &mut S) -> Result<Option<String>, Refusal> {
    let mut line = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        if s.read(&mut byte).await? == 0 {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(Refusal::Malformed("a line without its end".into()))
            };
        }
        if byte[0] == b'\n' {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
        line.push(byte[0]);
        if line.len() > MAX_LINE {
            return Err(Refusal::Malformed(format!(
                "a command line longer than {MAX_LINE} bytes"
            )));
        }
    }
}

/// The verb of a command line, upper-cased, and the rest.
pub(crate) fn verb(line: &str) -> (String, &str) {
    let line = line.trim_start();
    let (v, rest) = line.split_once(' ').unwrap_or((line, ""));
    (v.to_ascii_uppercase(), rest.trim())
}

/// The host name the greetings carry.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Plays the server's side of the protocol's plaintext opening until the client asks for TLS
/// and has been told to go ahead.
pub async fn negotiate<S: AsyncRead + AsyncWrite + Unpin>(
    proto: Starttls,
    s: &mut S,
) -> Result<(), Refusal> {
    match proto {
        Starttls::Smtp => smtp(s).await,
        Starttls::Imap => imap(s).await,
        Starttls::Pop3 => pop3(s).await,
        Starttls::Ftp => ftp(s).await,
        Starttls::Ldap => ldap(s).await,
        Starttls::Postgres => postgres(s).await,
    }
}

/// What a command line before TLS leads to, once its reply is sent.
enum Next {
    /// Another command.
    Wait,
    /// The handshake.
    Tls,
    /// The client said goodbye.
    Quit,
    /// The command (its verb) is refused: the connection ends.
    Refused(String),
}

/// A line protocol's loop: the greeting, then each command answered by `answer` until it
/// leads to TLS or to the end.
async fn lines<S, F>(s: &mut S, greeting: &str, mut answer: F) -> Result<(), Refusal>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut(&str) -> (String, Next),
{
    s.write_all(greeting.as_bytes()).await?;
    for _ in 0..MAX_COMMANDS {
        let Some(line) = read_line(s).await? else {
            return Err(Refusal::Quit);
        };
        let (reply, next) = answer(&line);
        s.write_all(reply.as_bytes()).await?;
        match next {
            Next::Wait => {}
            Next::Tls => return Ok(()),
            Next::Quit => return Err(Refusal::Quit),
            Next::Refused(verb) => return Err(Refusal::Plaintext(verb)),
        }
    }
    Err(Refusal::Malformed(format!(
        "{MAX_COMMANDS} commands without STARTTLS"
    )))
}

async fn smtp<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<(), Refusal> {
    let host = host_name();
    lines(
        s,
        &format!("220 {host} ESMTP fipsgate\r\n"),
        |line| match verb(line).0.as_str() {
            "EHLO" => (format!("250-{host}\r\n250 STARTTLS\r\n"), Next::Wait),
            "HELO" => (format!("250 {host}\r\n"), Next::Wait),
            "STARTTLS" => ("220 2.0.0 Ready to start TLS\r\n".into(), Next::Tls),
            "NOOP" | "RSET" => ("250 2.0.0 OK\r\n".into(), Next::Wait),
            "QUIT" => ("221 2.0.0 Bye\r\n".into(), Next::Quit),
            other => (
                "530 5.7.0 Must issue a STARTTLS command first\r\n".into(),
                Next::Refused(other.to_owned()),
            ),
        },
    )
    .await
}

async fn imap<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<(), Refusal> {
    let caps = "IMAP4rev1 STARTTLS LOGINDISABLED";
    lines(s, &format!("* OK [CAPABILITY {caps}] fipsgate ready\r\n"), |line| {
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        match verb(rest).0.as_str() {
            "CAPABILITY" => (
                format!("* CAPABILITY {caps}\r\n{tag} OK CAPABILITY completed\r\n"),
                Next::Wait,
            ),
            "STARTTLS" => (format!("{tag} OK Begin TLS negotiation now\r\n"), Next::Tls),
            "NOOP" => (format!("{tag} OK NOOP completed\r\n"), Next::Wait),
            "LOGOUT" => (
                format!("* BYE fipsgate logging out\r\n{tag} OK LOGOUT completed\r\n"),
                Next::Quit,
            ),
            other => (
                format!("* BYE [PRIVACYREQUIRED] STARTTLS first\r\n{tag} NO [PRIVACYREQUIRED] STARTTLS first\r\n"),
                Next::Refused(other.to_owned()),
            ),
        }
    })
    .await
}

async fn pop3<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<(), Refusal> {
    lines(s, "+OK fipsgate ready\r\n", |line| {
        match verb(line).0.as_str() {
            "CAPA" => (
                "+OK Capability list follows\r\nSTLS\r\n.\r\n".into(),
                Next::Wait,
            ),
            "STLS" => ("+OK Begin TLS negotiation\r\n".into(), Next::Tls),
            "QUIT" => ("+OK Bye\r\n".into(), Next::Quit),
            other => (
                "-ERR STLS first\r\n".into(),
                Next::Refused(other.to_owned()),
            ),
        }
    })
    .await
}

async fn ftp<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<(), Refusal> {
    lines(s, "220 fipsgate FTP ready: AUTH TLS first\r\n", |line| {
        let (v, arg) = verb(line);
        match v.as_str() {
            "AUTH" if ["TLS", "SSL", "TLS-C"].contains(&arg.to_ascii_uppercase().as_str()) => {
                ("234 AUTH TLS successful\r\n".into(), Next::Tls)
            }
            "AUTH" => ("504 AUTH TLS only\r\n".into(), Next::Wait),
            "FEAT" => (
                "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPSV\r\n211 End\r\n".into(),
                Next::Wait,
            ),
            "NOOP" => ("200 OK\r\n".into(), Next::Wait),
            "QUIT" => ("221 Bye\r\n".into(), Next::Quit),
            other => (
                "530 AUTH TLS first\r\n".into(),
                Next::Refused(other.to_owned()),
            ),
        }
    })
    .await
}

/// A BER TLV with a short-form length.
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if value.len() < 0x80 {
        out.push(value.len() as u8);
    } else {
        out.extend([0x81, value.len() as u8]);
    }
    out.extend_from_slice(value);
    out
}

/// An LDAP ExtendedResponse (RFC 4511 4.12) with this message ID, result code and name.
fn ldap_extended_response(message_id: &[u8], result: u8, name: &[u8]) -> Vec<u8> {
    let body = [
        tlv(0x0a, &[result]),
        tlv(0x04, b""),
        tlv(0x04, b""),
        tlv(0x8a, name),
    ]
    .concat();
    tlv(0x30, &[tlv(0x02, message_id), tlv(0x78, &body)].concat())
}

/// What the proxy reads of an LDAPMessage before TLS.
struct LdapRequest<'a> {
    /// The message ID (INTEGER contents).
    id: &'a [u8],
    /// The protocolOp's tag.
    tag: u8,
    /// The request name, when it is an ExtendedRequest.
    name: Option<&'a [u8]>,
}

/// The most octets a BER long-form length takes in what the LDAP front reads. Some encoders
/// (Active Directory's, and others after it) always write four, whatever the length.
const LDAP_LENGTH_OCTETS: usize = 4;

fn ldap_request(msg: &[u8]) -> Option<LdapRequest<'_>> {
    if *msg.first()? != 0x02 {
        return None;
    }
    let (len, at) = crate::ber::length(msg.get(1..)?, LDAP_LENGTH_OCTETS)?;
    let id = msg.get(1 + at..1 + at + len)?;
    let op = msg.get(1 + at + len..)?;
    let tag = *op.first()?;
    let name = (tag == 0x77)
        .then(|| {
            let (_, at) = crate::ber::length(op.get(1..)?, LDAP_LENGTH_OCTETS)?;
            let body = op.get(1 + at..)?;
            (*body.first()? == 0x80).then_some(())?;
            let (len, at) = crate::ber::length(body.get(1..)?, LDAP_LENGTH_OCTETS)?;
            body.get(1 + at..1 + at + len)
        })
        .flatten();
    Some(LdapRequest { id, tag, name })
}

async fn ldap<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<(), Refusal> {
    let mut head = [0u8; 2];
    if s.read(&mut head[..1]).await? == 0 {
        return Err(Refusal::Quit);
    }
    s.read_exact(&mut head[1..]).await?;
    if head[0] != 0x30 {
        return Err(Refusal::Malformed("not an LDAPMessage".into()));
    }
    let mut length = vec![head[1]];
    if head[1] & 0x80 != 0 {
        let n = usize::from(head[1] & 0x7f);
        if n == 0 || n > LDAP_LENGTH_OCTETS {
            return Err(Refusal::Malformed(
                "an LDAPMessage length out of range".into(),
            ));
        }
        let mut more = vec![0u8; n];
        s.read_exact(&mut more).await?;
        length.extend(more);
    }
    let (len, _) = crate::ber::length(&length, LDAP_LENGTH_OCTETS)
        .ok_or(Refusal::Malformed("a bad BER length".into()))?;
    if len > 4096 {
        return Err(Refusal::Malformed(format!(
            "a {len}-byte LDAPMessage before StartTLS"
        )));
    }
    let mut msg = vec![0u8; len];
    s.read_exact(&mut msg).await?;
    let request = ldap_request(&msg)
        .ok_or_else(|| Refusal::Malformed("an LDAPMessage that does not parse".into()))?;
    match request {
        LdapRequest {
            id,
            name: Some(LDAP_STARTTLS),
            ..
        } => {
            s.write_all(&ldap_extended_response(id, 0, LDAP_STARTTLS))
                .await?;
            Ok(())
        }
        LdapRequest { tag, name, .. } => {
            // confidentialityRequired (13), as a Notice of Disconnection.
            s.write_all(&ldap_extended_response(&[0], 13, LDAP_DISCONNECTION))
                .await?;
            Err(Refusal::Plaintext(match name {
                Some(n) => format!("extended operation {}", String::from_utf8_lossy(n)),
                None => format!("LDAP operation with tag 0x{tag:02x}"),
            }))
        }
    }
}

async fn postgres<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> Result<(), Refusal> {
    for _ in 0..2 {
        let mut head = [0u8; 8];
        if s.read(&mut head[..1]).await? == 0 {
            return Err(Refusal::Quit);
        }
        s.read_exact(&mut head[1..]).await?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let code = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        match (len, code) {
            (8, PG_SSL_REQUEST) => {
                s.write_all(b"S").await?;
                return Ok(());
            }
            // No GSSAPI encryption here: the client may ask for TLS next.
            (8, PG_GSSENC_REQUEST) => s.write_all(b"N").await?,
            _ => {
                let message =
                    "SFATAL\0VFATAL\0C28000\0Mfipsgate: TLS is required (sslmode=require)\0\0";
                let mut error = vec![b'E'];
                error.extend(((message.len() + 4) as u32).to_be_bytes());
                error.extend(message.as_bytes());
                s.write_all(&error).await?;
                return Err(Refusal::Plaintext(format!(
                    "PostgreSQL message code {code} without SSLRequest"
                )));
            }
        }
    }
    Err(Refusal::Malformed("GSSENCRequest twice".into()))
}

/// Reads the backend's greeting, which the client already had from the proxy, and checks it
/// is a welcome: SMTP 220, IMAP `* OK`, POP3 `+OK`, FTP 220. LDAP and PostgreSQL servers do
/// not greet.
pub async fn skip_greeting<S: AsyncRead + Unpin>(proto: Starttls, s: &mut S) -> Result<(), String> {
    let (last, more) = match proto {
        Starttls::Smtp | Starttls::Ftp => ("220 ", Some("220-")),
        Starttls::Imap => ("* OK", None),
        Starttls::Pop3 => ("+OK", None),
        Starttls::Ldap | Starttls::Postgres => return Ok(()),
    };
    for _ in 0..MAX_COMMANDS {
        let line = read_line(s)
            .await
            .map_err(|e| format!("its greeting: {e}"))?
            .ok_or("it closed before greeting")?;
        if line.starts_with(last) {
            return Ok(());
        }
        if !more.is_some_and(|m| line.starts_with(m)) {
            return Err(format!("its greeting is not a welcome: {line:?}"));
        }
    }
    Err("its greeting does not end".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    /// Runs `negotiate` against a client sending `input`: the outcome and what the client got.
    async fn dialogue(proto: Starttls, input: &[u8]) -> (Result<(), Refusal>, Vec<u8>) {
        let (mut client, mut server) = duplex(64 * 1024);
        client.write_all(input).await.unwrap_or_default();
        client.shutdown().await.unwrap_or_default();
        let outcome = negotiate(proto, &mut server).await;
        drop(server);
        let mut got = Vec::new();
        let _ = client.read_to_end(&mut got).await;
        (outcome, got)
    }

    #[tokio::test]
    async fn line_protocols_allow_only_their_starttls_verb() {
        let (ok, got) = dialogue(Starttls::Smtp, b"EHLO me\r\nSTARTTLS\r\n\x16\x03\x01").await;
        assert_eq!(ok, Ok(()));
        let got = String::from_utf8_lossy(&got);
        assert!(got.contains("250 STARTTLS\r\n220 2.0.0"), "{got}");
        let (refused, got) = dialogue(Starttls::Smtp, b"EHLO me\r\nAUTH PLAIN AGFiYwA=\r\n").await;
        assert_eq!(refused, Err(Refusal::Plaintext("AUTH".into())));
        assert!(String::from_utf8_lossy(&got)
            .ends_with("530 5.7.0 Must issue a STARTTLS command first\r\n"));
        let (ok, got) = dialogue(Starttls::Imap, b"a1 CAPABILITY\r\na2 STARTTLS\r\n").await;
        assert_eq!(ok, Ok(()));
        assert!(String::from_utf8_lossy(&got).ends_with("a2 OK Begin TLS negotiation now\r\n"));
        let (refused, _) = dialogue(Starttls::Imap, b"a1 LOGIN user secret\r\n").await;
        assert_eq!(refused, Err(Refusal::Plaintext("LOGIN".into())));
        let (ok, _) = dialogue(Starttls::Pop3, b"CAPA\r\nSTLS\r\n").await;
        assert_eq!(ok, Ok(()));
        let (refused, _) = dialogue(Starttls::Pop3, b"USER me\r\n").await;
        assert_eq!(refused, Err(Refusal::Plaintext("USER".into())));
        let (ok, _) = dialogue(Starttls::Ftp, b"FEAT\r\nAUTH TLS\r\n").await;
        assert_eq!(ok, Ok(()));
        let (quit, _) = dialogue(Starttls::Ftp, b"QUIT\r\n").await;
        assert_eq!(quit, Err(Refusal::Quit));
        let long = vec![b'A'; 2000];
        assert!(matches!(
            dialogue(Starttls::Smtp, &long).await.0,
            Err(Refusal::Malformed(_))
        ));
        assert_eq!(dialogue(Starttls::Pop3, b"").await.0, Err(Refusal::Quit));
    }

    #[tokio::test]
    async fn ldap_and_postgres_answer_their_tls_requests_only() {
        // ldapsearch -ZZ: message 1, ExtendedRequest 1.3.6.1.4.1.1466.20037.
        let mut req = vec![0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16];
        req.extend_from_slice(LDAP_STARTTLS);
        let (ok, got) = dialogue(Starttls::Ldap, &req).await;
        assert_eq!(ok, Ok(()));
        assert_eq!(&got[..7], &[0x30, 0x24, 0x02, 0x01, 0x01, 0x78, 0x1f]);
        assert_eq!(&got[7..10], &[0x0a, 0x01, 0x00]);
        // The same request with four-octet lengths throughout, as some encoders write them.
        let mut long_form = vec![0x30, 0x84, 0, 0, 0, 0x29, 0x02, 0x84, 0, 0, 0, 0x01, 0x01];
        long_form.extend([0x77, 0x84, 0, 0, 0, 0x1c, 0x80, 0x84, 0, 0, 0, 0x16]);
        long_form.extend_from_slice(LDAP_STARTTLS);
        let (ok, got) = dialogue(Starttls::Ldap, &long_form).await;
        assert_eq!(ok, Ok(()));
        assert_eq!(&got[..7], &[0x30, 0x24, 0x02, 0x01, 0x01, 0x78, 0x1f]);
        // A simple bind in the clear: refused with a Notice of Disconnection.
        let bind = [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
        ];
        let (refused, got) = dialogue(Starttls::Ldap, &bind).await;
        assert!(matches!(refused, Err(Refusal::Plaintext(_))), "{refused:?}");
        assert_eq!(&got[7..10], &[0x0a, 0x01, 13]);
        let ssl_request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
        let gss = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30];
        let (ok, got) = dialogue(Starttls::Postgres, &[&gss[..], &ssl_request].concat()).await;
        assert_eq!((ok, got), (Ok(()), b"NS".to_vec()));
        let startup = [0, 0, 0, 9, 0, 3, 0, 0, 0];
        let (refused, got) = dialogue(Starttls::Postgres, &startup).await;
        assert!(matches!(refused, Err(Refusal::Plaintext(_))));
        assert_eq!(got.first(), Some(&b'E'));
    }

    #[tokio::test]
    async fn backend_greetings_are_read_to_their_last_line() {
        let (mut a, mut b) = duplex(1024);
        a.write_all(b"220-first\r\n220 mail ESMTP\r\nEHLO-REPLY")
            .await
            .unwrap_or_default();
        assert_eq!(skip_greeting(Starttls::Smtp, &mut b).await, Ok(()));
        let mut rest = [0u8; 10];
        let _ = b.read_exact(&mut rest).await;
        assert_eq!(&rest, b"EHLO-REPLY");
        let (mut a, mut b) = duplex(1024);
        a.write_all(b"* BYE too busy\r\n").await.unwrap_or_default();
        assert!(skip_greeting(Starttls::Imap, &mut b).await.is_err());
    }
}
