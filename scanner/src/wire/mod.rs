//! Sans-IO codecs for the TLS and SSL wire formats the scanner speaks: bytes in, typed values out.
//! Nothing here touches a socket, so every parser can be fuzzed and unit-tested on captured bytes.
pub mod alert;
pub mod certificate;
pub mod client_hello;
pub mod flight;
pub mod hello_rules;
pub mod kexinit_rules;
pub mod record;
pub mod server_hello;
pub mod server_key_exchange;
pub mod ssh;
pub mod ssh_stream;

use std::fmt;

/// Why bytes from a peer could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes than a length field or a fixed field needs.
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A length beyond what we accept.
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The largest we accept.
        max: usize,
    },
    /// A value that breaks the format.
    Invalid {
        /// What was being read.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Bytes left over after a structure that should end there.
    TrailingBytes {
        /// What was being read.
        what: &'static str,
        /// How many were left.
        count: usize,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what } => write!(f, "truncated {what}"),
            Self::TooLarge { what, len, max } => {
                write!(f, "{what} of {len} bytes exceeds the {max}-byte limit")
            }
            Self::Invalid { what, detail } => write!(f, "invalid {what}: {detail}"),
            Self::TrailingBytes { what, count } => write!(f, "{count} trailing bytes after {what}"),
        }
    }
}

impl std::error::Error for WireError {}

/// A bounds-checked cursor over received bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(WireError::Truncated { what })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, what)?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A big-endian 24-bit length.
    pub fn u24(&mut self, what: &'static str) -> Result<usize, WireError> {
        let b = self.take(3, what)?;
        Ok((usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }

    /// A block preceded by a one-byte length.
    pub fn vec_u8(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        let n = usize::from(self.u8(what)?);
        self.take(n, what)
    }

    /// A block preceded by a two-byte length.
    pub fn vec_u16(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        let n = usize::from(self.u16(what)?);
        self.take(n, what)
    }

    /// A block preceded by a three-byte length.
    pub fn vec_u24(&mut self, what: &'static str) -> Result<&'a [u8], WireError> {
        let n = self.u24(what)?;
        self.take(n, what)
    }

    /// Fails if bytes are left.
    pub fn finish(&self, what: &'static str) -> Result<(), WireError> {
        match self.buf.len().saturating_sub(self.pos) {
            0 => Ok(()),
            count => Err(WireError::TrailingBytes { what, count }),
        }
    }
}

/// Appends `body` preceded by its length in `width` bytes (1, 2 or 3).
pub(crate) fn put_vec(out: &mut Vec<u8>, width: usize, body: &[u8]) {
    let len = body.len();
    let bytes = (len as u32).to_be_bytes();
    out.extend_from_slice(&bytes[4 - width..]);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_never_reads_past_the_end() {
        let mut r = Reader::new(&[0, 3, 1, 2]);
        assert_eq!(r.vec_u16("x"), Err(WireError::Truncated { what: "x" }));
        let mut r = Reader::new(&[0, 2, 1, 2, 9]);
        assert_eq!(r.vec_u16("x"), Ok(&[1u8, 2][..]));
        assert_eq!(
            r.finish("x"),
            Err(WireError::TrailingBytes {
                what: "x",
                count: 1
            })
        );
        let mut r = Reader::new(&[0xFF, 0xFF, 0xFF]);
        assert_eq!(r.vec_u24("x"), Err(WireError::Truncated { what: "x" }));
    }

    #[test]
    fn put_vec_writes_big_endian_lengths() {
        let mut out = Vec::new();
        put_vec(&mut out, 3, &[7, 8]);
        put_vec(&mut out, 1, &[]);
        assert_eq!(out, vec![0, 0, 2, 7, 8, 0]);
    }
}
