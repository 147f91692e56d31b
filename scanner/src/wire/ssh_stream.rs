//! An SSH server's byte stream read sans-IO: its identification (after the lines RFC 4253 4.2
//! lets a server send first), then binary packets up to the message the client waits for, with
//! IGNORE and DEBUG skipped and DISCONNECT read out. The probe and the fuzz target both read
//! servers through this.
use super::ssh::{self, BannerLine, Identification, MAX_LINE, MAX_PRE_BANNER_LINES};
use super::{Reader, WireError};
use std::fmt;

/// Why an SSH server's bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshStreamError {
    /// The peer does not speak SSH: why.
    NotSsh(String),
    /// Bytes that break the format.
    Malformed(WireError),
    /// The server sent DISCONNECT, with this description.
    Disconnected(String),
    /// A message of another type than the one awaited.
    Unexpected {
        /// The type awaited.
        want: u8,
        /// The type received.
        got: u8,
    },
}

impl From<WireError> for SshStreamError {
    fn from(e: WireError) -> Self {
        Self::Malformed(e)
    }
}

impl fmt::Display for SshStreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSsh(why) => f.write_str(why),
            Self::Malformed(e) => write!(f, "{e}"),
            Self::Disconnected(reason) => write!(f, "the server disconnected: {reason}"),
            Self::Unexpected { want, got } => write!(f, "expected SSH message {want}, got {got}"),
        }
    }
}

/// A server's identification, the lines before it, and the bytes that followed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// The identification line.
    pub identification: Identification,
    /// Lines the server sent before it.
    pub pre_banner: Vec<String>,
    /// Bytes after its line end: the start of the binary packets.
    pub rest: Vec<u8>,
}

/// Reads the server's identification.
#[derive(Debug, Default)]
pub struct GreetingReader {
    buf: Vec<u8>,
    pre_banner: Vec<String>,
}

impl GreetingReader {
    /// Takes the next bytes; the greeting once the identification line is complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Greeting>, SshStreamError> {
        self.buf.extend_from_slice(bytes);
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            match ssh::parse_banner_line(&line)? {
                BannerLine::Identification(identification) => {
                    return Ok(Some(Greeting {
                        identification,
                        pre_banner: std::mem::take(&mut self.pre_banner),
                        rest: std::mem::take(&mut self.buf),
                    }))
                }
                BannerLine::Other(text) => self.other_line(text)?,
            }
        }
        if self.buf.len() > MAX_LINE {
            return Err(SshStreamError::NotSsh(format!(
                "no line end within {MAX_LINE} bytes: not an SSH server"
            )));
        }
        Ok(None)
    }

    fn other_line(&mut self, text: String) -> Result<(), SshStreamError> {
        if self.pre_banner.len() == MAX_PRE_BANNER_LINES {
            return Err(SshStreamError::NotSsh(format!(
                "no SSH identification within {MAX_PRE_BANNER_LINES} lines"
            )));
        }
        if self.pre_banner.is_empty()
            && !text.is_empty()
            && text.chars().any(|c| c.is_control() && c != '\t')
        {
            return Err(SshStreamError::NotSsh(
                "the server does not speak SSH (binary data instead of an identification)"
                    .to_owned(),
            ));
        }
        self.pre_banner.push(text);
        Ok(())
    }

    /// Whether the unfinished line is an identification: one cut short or too long still names
    /// SSH.
    pub fn names_ssh(&self) -> bool {
        self.buf.starts_with(b"SSH-")
    }
}

/// Reads binary packets.
#[derive(Debug, Default)]
pub struct PacketReader {
    buf: Vec<u8>,
}

impl PacketReader {
    /// A reader that starts with the bytes that followed the identification.
    pub fn new(rest: Vec<u8>) -> Self {
        Self { buf: rest }
    }

    /// Takes the next bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next message of type `want`, once its packet is complete; IGNORE and DEBUG are
    /// skipped, anything else is an error.
    pub fn next_message(&mut self, want: u8) -> Result<Option<Vec<u8>>, SshStreamError> {
        while let Some((payload, used)) = ssh::split_packet(&self.buf)? {
            self.buf.drain(..used);
            match payload.first().copied() {
                Some(t) if t == want => return Ok(Some(payload)),
                Some(ssh::msg::IGNORE | ssh::msg::DEBUG) => {}
                Some(ssh::msg::DISCONNECT) => {
                    return Err(SshStreamError::Disconnected(disconnect_reason(&payload)))
                }
                Some(got) => return Err(SshStreamError::Unexpected { want, got }),
                None => {
                    return Err(WireError::Truncated {
                        what: "SSH packet payload",
                    }
                    .into())
                }
            }
        }
        Ok(None)
    }
}

/// The description of a DISCONNECT message (empty when it has none that can be read).
fn disconnect_reason(payload: &[u8]) -> String {
    let mut r = Reader::new(payload);
    let _ = r.u8("disconnect");
    let _ = r.take(4, "reason code");
    ssh::get_string(&mut r, "description")
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identification_after_other_lines_split_anywhere() {
        let bytes = b"hello there\r\nSSH-2.0-OpenSSH_9.2 x\r\n\x00\x00";
        // Every cut before the identification's line end.
        for cut in 1..bytes.len() - 2 {
            let mut r = GreetingReader::default();
            assert_eq!(r.push(&bytes[..cut]), Ok(None), "cut at {cut}");
            let Ok(Some(greeting)) = r.push(&bytes[cut..]) else {
                panic!("cut at {cut}");
            };
            assert_eq!(greeting.identification.software, "OpenSSH_9.2");
            assert_eq!(greeting.pre_banner, ["hello there"]);
            assert_eq!(greeting.rest, [0, 0]);
        }
    }

    #[test]
    fn non_ssh_peers_are_named() {
        let mut r = GreetingReader::default();
        assert!(matches!(
            r.push(b"\x16\x03\x01\x00\x05\n"),
            Err(SshStreamError::NotSsh(_))
        ));
        let mut r = GreetingReader::default();
        assert_eq!(r.push(b"SSH-2.0-cut"), Ok(None));
        assert!(r.names_ssh());
        let mut r = GreetingReader::default();
        assert!(matches!(
            r.push(&vec![b'a'; MAX_LINE + 1]),
            Err(SshStreamError::NotSsh(_))
        ));
    }

    #[test]
    fn packets_skip_ignore_and_read_disconnect() {
        let mut r = PacketReader::new(ssh::encode_packet(&[ssh::msg::IGNORE, 0, 0, 0, 0]));
        r.push(&ssh::encode_packet(&[ssh::msg::KEXINIT, 1]));
        assert_eq!(
            r.next_message(ssh::msg::KEXINIT),
            Ok(Some(vec![ssh::msg::KEXINIT, 1]))
        );
        assert_eq!(r.next_message(ssh::msg::KEXINIT), Ok(None));
        let mut bye = vec![ssh::msg::DISCONNECT, 0, 0, 0, 2, 0, 0, 0, 3];
        bye.extend_from_slice(b"bye");
        r.push(&ssh::encode_packet(&bye));
        assert_eq!(
            r.next_message(ssh::msg::KEXINIT),
            Err(SshStreamError::Disconnected("bye".into()))
        );
    }
}
