//! TLS record framing and handshake-message reassembly.
use super::{Reader, WireError};

/// Record content types.
pub mod content_type {
    /// change_cipher_spec.
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    /// alert.
    pub const ALERT: u8 = 21;
    /// handshake.
    pub const HANDSHAKE: u8 = 22;
    /// application_data.
    pub const APPLICATION_DATA: u8 = 23;
    /// heartbeat.
    pub const HEARTBEAT: u8 = 24;
}

/// Handshake message types.
pub mod handshake_type {
    /// client_hello.
    pub const CLIENT_HELLO: u8 = 1;
    /// server_hello (and HelloRetryRequest in TLS 1.3).
    pub const SERVER_HELLO: u8 = 2;
    /// certificate.
    pub const CERTIFICATE: u8 = 11;
    /// server_key_exchange.
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    /// certificate_request.
    pub const CERTIFICATE_REQUEST: u8 = 13;
    /// server_hello_done.
    pub const SERVER_HELLO_DONE: u8 = 14;
    /// certificate_status (stapled OCSP in TLS 1.2).
    pub const CERTIFICATE_STATUS: u8 = 22;
}

/// Largest record payload accepted: 2^14 plus the expansion TLS allows for ciphertext.
pub const MAX_RECORD_PAYLOAD: usize = 16384 + 2048;
/// Largest plaintext record payload (2^14).
pub const MAX_PLAINTEXT: usize = 16384;

/// One record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Content type.
    pub content_type: u8,
    /// Record-layer version.
    pub version: u16,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Frames `payload` into records of at most 2^14 bytes.
pub fn encode(content_type: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 5);
    for chunk in payload.chunks(16384) {
        out.push(content_type);
        out.extend_from_slice(&version.to_be_bytes());
        super::put_vec(&mut out, 2, chunk);
    }
    out
}

/// What the first bytes of a stream look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// A TLS record header.
    Tls,
    /// An SSL 2.0 record header (high bit of the first byte set).
    Sslv2,
    /// Something else (an HTTP reply, an SSH or SMTP banner …).
    NotTls,
}

/// Classifies the first bytes a server sent.
pub fn classify(first: &[u8]) -> StreamKind {
    match first {
        [ct, major, ..]
            if (content_type::CHANGE_CIPHER_SPEC..=content_type::HEARTBEAT).contains(ct)
                && (*major == 3 || *major == 0) =>
        {
            StreamKind::Tls
        }
        [b0, _, msg, ..] if b0 & 0x80 != 0 && *msg == 4 => StreamKind::Sslv2,
        [_] | [_, _] => StreamKind::Tls,
        _ => StreamKind::NotTls,
    }
}

/// Splits a byte stream into records.
#[derive(Debug, Default)]
pub struct RecordDecoder {
    buf: Vec<u8>,
}

impl RecordDecoder {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet framed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete record, None if more bytes are needed.
    pub fn next_record(&mut self) -> Result<Option<Record>, WireError> {
        if self.buf.len() < 5 {
            return Ok(None);
        }
        let mut r = Reader::new(&self.buf);
        let content_type = r.u8("record header")?;
        let version = r.u16("record header")?;
        let len = usize::from(r.u16("record header")?);
        if !(content_type::CHANGE_CIPHER_SPEC..=content_type::HEARTBEAT).contains(&content_type) {
            return Err(WireError::Invalid {
                what: "record content type",
                detail: format!("{content_type}"),
            });
        }
        if version >> 8 != 3 {
            return Err(WireError::Invalid {
                what: "record version",
                detail: format!("0x{version:04X}"),
            });
        }
        if len > MAX_RECORD_PAYLOAD {
            return Err(WireError::TooLarge {
                what: "record",
                len,
                max: MAX_RECORD_PAYLOAD,
            });
        }
        // Only application data may be ciphertext here; plaintext is capped at 2^14
        // (RFC 8446 5.1, RFC 5246 6.2.1), as OpenSSL's client enforces too.
        if content_type != content_type::APPLICATION_DATA && len > MAX_PLAINTEXT {
            return Err(WireError::TooLarge {
                what: "plaintext record",
                len,
                max: MAX_PLAINTEXT,
            });
        }
        if self.buf.len() < 5 + len {
            return Ok(None);
        }
        let payload = self.buf[5..5 + len].to_vec();
        self.buf.drain(..5 + len);
        Ok(Some(Record {
            content_type,
            version,
            payload,
        }))
    }
}

/// Reassembles handshake messages that may span records or share one.
#[derive(Debug)]
pub struct HandshakeReassembler {
    buf: Vec<u8>,
    max_message: usize,
}

/// One handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    /// Message type.
    pub typ: u8,
    /// Body without the 4-byte header.
    pub body: Vec<u8>,
}

impl HandshakeReassembler {
    /// A reassembler refusing messages larger than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_message,
        }
    }

    /// Appends a handshake record's payload.
    pub fn push(&mut self, payload: &[u8]) {
        self.buf.extend_from_slice(payload);
    }

    /// Bytes of a message received but not yet complete.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete message, None if more records are needed.
    pub fn next_message(&mut self) -> Result<Option<HandshakeMessage>, WireError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let mut r = Reader::new(&self.buf);
        let typ = r.u8("handshake header")?;
        let len = r.u24("handshake header")?;
        if len > self.max_message {
            return Err(WireError::TooLarge {
                what: "handshake message",
                len,
                max: self.max_message,
            });
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Ok(Some(HandshakeMessage { typ, body }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_and_join() {
        let payload = vec![7u8; 20000];
        let wire = encode(content_type::HANDSHAKE, 0x0303, &payload);
        let mut d = RecordDecoder::default();
        d.push(&wire[..10]);
        assert_eq!(d.next_record(), Ok(None));
        d.push(&wire[10..]);
        let a = d.next_record().ok().flatten().map(|r| r.payload.len());
        let b = d.next_record().ok().flatten().map(|r| r.payload.len());
        assert_eq!((a, b), (Some(16384), Some(20000 - 16384)));
        assert_eq!(d.next_record(), Ok(None));
    }

    #[test]
    fn hostile_records_are_typed_errors() {
        let mut d = RecordDecoder::default();
        d.push(&[22, 3, 3, 0xFF, 0xFF]);
        assert!(matches!(d.next_record(), Err(WireError::TooLarge { .. })));
        let mut d = RecordDecoder::default();
        d.push(b"HTTP/1.1 400 Bad Request\r\n");
        assert!(matches!(d.next_record(), Err(WireError::Invalid { .. })));
        assert_eq!(classify(b"SSH-2.0-OpenSSH"), StreamKind::NotTls);
        assert_eq!(classify(&[0x83, 0x2E, 4, 0, 1]), StreamKind::Sslv2);
        assert_eq!(classify(&[21, 3, 1, 0, 2]), StreamKind::Tls);
    }

    #[test]
    fn handshake_messages_span_records_and_share_them() {
        let mut h = HandshakeReassembler::new(1 << 16);
        h.push(&[2, 0, 0, 3, 1]);
        assert_eq!(h.next_message(), Ok(None));
        h.push(&[2, 3, 14, 0, 0, 0]);
        assert_eq!(
            h.next_message(),
            Ok(Some(HandshakeMessage {
                typ: 2,
                body: vec![1, 2, 3]
            }))
        );
        assert_eq!(
            h.next_message(),
            Ok(Some(HandshakeMessage {
                typ: 14,
                body: vec![]
            }))
        );
        let mut h = HandshakeReassembler::new(100);
        h.push(&[11, 1, 0, 0]);
        assert!(matches!(h.next_message(), Err(WireError::TooLarge { .. })));
    }
}
