//! A server's answer to one ClientHello, read sans-IO: the bytes as they arrive go in, and a
//! typed [`Answer`] comes out once the answer is complete (TLS 1.3 ServerHello or
//! HelloRetryRequest, ServerHelloDone, an alert) or the stream stops. Records are framed,
//! handshake messages reassembled and dispatched by type; the probe and the fuzz target both
//! read servers through this.
use super::alert::Alert;
use super::certificate;
use super::record::{
    classify, content_type, handshake_type, HandshakeReassembler, RecordDecoder, StreamKind,
};
use super::server_hello::ServerHello;
use super::WireError;

/// What the server sent after ServerHello in TLS 1.0-1.2.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flight {
    /// The Certificate message's chain, DER.
    pub certificates: Option<Vec<Vec<u8>>>,
    /// The ServerKeyExchange body, parsed later against the chosen suite.
    pub key_exchange: Option<Vec<u8>>,
}

/// How a server answered one hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A ServerHello (with what followed it in TLS 1.0-1.2).
    Hello(Box<ServerHello>, Flight),
    /// An alert before any ServerHello.
    Alert(Alert),
    /// The stream ended before a ServerHello (or opened as SSL 2.0, which refuses this way).
    Closed,
    /// Nothing more arrived before the deadline, and no ServerHello had.
    Silent,
}

impl Answer {
    /// Whether the hello met a reset or silence: no answer and no refusal.
    pub fn unanswered(&self) -> bool {
        matches!(self, Self::Closed | Self::Silent)
    }
}

/// Why a server's answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightError {
    /// The first bytes are not TLS (or SSL 2.0): here they are, for the caller to name.
    NotTls(Vec<u8>),
    /// Bytes that break the TLS format.
    Malformed(WireError),
}

impl From<WireError> for FlightError {
    fn from(e: WireError) -> Self {
        Self::Malformed(e)
    }
}

/// Reads one server's answer to one hello.
#[derive(Debug)]
pub struct FlightReader {
    records: RecordDecoder,
    handshake: HandshakeReassembler,
    hello: Option<ServerHello>,
    flight: Flight,
    opened: bool,
}

impl FlightReader {
    /// A reader that refuses handshake messages over `max_handshake_message` bytes.
    pub fn new(max_handshake_message: usize) -> Self {
        Self {
            records: RecordDecoder::default(),
            handshake: HandshakeReassembler::new(max_handshake_message),
            hello: None,
            flight: Flight::default(),
            opened: false,
        }
    }

    /// Takes the next bytes of the stream; the answer once it is complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Answer>, FlightError> {
        if !self.opened && !bytes.is_empty() {
            match classify(bytes) {
                StreamKind::NotTls => return Err(FlightError::NotTls(bytes.to_vec())),
                // An SSL 2.0-only server refuses TLS hellos this way.
                StreamKind::Sslv2 => {
                    self.opened = true;
                    return Ok(Some(Answer::Closed));
                }
                StreamKind::Tls => self.opened = true,
            }
        }
        self.records.push(bytes);
        while let Some(record) = self.records.next_record()? {
            match record.content_type {
                content_type::ALERT => {
                    let alert = Alert::parse(&record.payload)?;
                    return Ok(Some(self.or_hello(Answer::Alert(alert))));
                }
                content_type::HANDSHAKE => {
                    self.handshake.push(&record.payload);
                    if let Some(answer) = self.messages()? {
                        return Ok(Some(answer));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// Dispatches the complete handshake messages; the answer when one of them ends it.
    fn messages(&mut self) -> Result<Option<Answer>, WireError> {
        while let Some(msg) = self.handshake.next_message()? {
            match msg.typ {
                handshake_type::SERVER_HELLO => {
                    let h = ServerHello::parse(&msg.body)?;
                    // In TLS 1.3 everything after ServerHello is encrypted.
                    if h.is_hello_retry_request() || h.negotiated_version()? == 0x0304 {
                        return Ok(Some(Answer::Hello(
                            Box::new(h),
                            std::mem::take(&mut self.flight),
                        )));
                    }
                    self.hello = Some(h);
                }
                handshake_type::CERTIFICATE => {
                    self.flight.certificates = Some(certificate::parse_tls12(&msg.body)?);
                }
                handshake_type::SERVER_KEY_EXCHANGE => self.flight.key_exchange = Some(msg.body),
                handshake_type::SERVER_HELLO_DONE => {
                    return Ok(Some(self.or_hello(Answer::Closed)))
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// The ServerHello and flight read so far if there was one, otherwise `otherwise`.
    fn or_hello(&mut self, otherwise: Answer) -> Answer {
        match self.hello.take() {
            Some(h) => Answer::Hello(Box::new(h), std::mem::take(&mut self.flight)),
            None => otherwise,
        }
    }

    /// The answer of a stream that ended (closed or reset) here.
    pub fn closed(mut self) -> Answer {
        self.or_hello(Answer::Closed)
    }

    /// The answer of a stream that went silent here.
    pub fn silent(mut self) -> Answer {
        self.or_hello(Answer::Silent)
    }

    /// Bytes of an unfinished record or handshake message (an answer cut short).
    pub fn buffered(&self) -> usize {
        self.records.buffered() + self.handshake.buffered()
    }

    /// Whether the stream opened as TLS or SSL 2.0.
    pub fn spoke(&self) -> bool {
        self.opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::record::encode;

    fn handshake(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![typ];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    fn tls12_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[5; 32]);
        b.extend_from_slice(&[0, 0xC0, 0x2F, 0, 0, 0]);
        handshake(handshake_type::SERVER_HELLO, &b)
    }

    #[test]
    fn a_tls12_flight_split_anywhere_reads_the_same() {
        let mut msgs = tls12_hello();
        msgs.extend(handshake(handshake_type::SERVER_KEY_EXCHANGE, &[1, 2, 3]));
        msgs.extend(handshake(handshake_type::SERVER_HELLO_DONE, &[]));
        let bytes = encode(content_type::HANDSHAKE, 0x0303, &msgs);
        for cut in 1..bytes.len() {
            let mut r = FlightReader::new(1 << 16);
            assert_eq!(r.push(&bytes[..cut]), Ok(None), "cut at {cut}");
            let answer = r.push(&bytes[cut..]);
            let Ok(Some(Answer::Hello(h, flight))) = answer else {
                panic!("cut at {cut}: {answer:?}");
            };
            assert_eq!(h.cipher_suite, 0xC02F);
            assert_eq!(flight.key_exchange, Some(vec![1, 2, 3]));
        }
    }

    #[test]
    fn the_end_of_the_stream_keeps_what_arrived() {
        let mut r = FlightReader::new(1 << 16);
        let bytes = encode(content_type::HANDSHAKE, 0x0303, &tls12_hello());
        assert_eq!(r.push(&bytes), Ok(None));
        assert!(matches!(r.closed(), Answer::Hello(..)));
        let mut r = FlightReader::new(1 << 16);
        assert_eq!(r.push(&bytes[..7]), Ok(None));
        assert!(r.buffered() > 0 && r.spoke());
        assert_eq!(r.silent(), Answer::Silent);
    }

    #[test]
    fn alerts_garbage_and_oversized_messages_are_typed() {
        let mut r = FlightReader::new(1 << 16);
        let alert = encode(content_type::ALERT, 0x0303, &[2, 40]);
        assert!(matches!(r.push(&alert), Ok(Some(Answer::Alert(_)))));
        let mut r = FlightReader::new(1 << 16);
        assert_eq!(
            r.push(b"SSH-2.0-x\r\n"),
            Err(FlightError::NotTls(b"SSH-2.0-x\r\n".to_vec()))
        );
        assert!(!r.spoke());
        let mut r = FlightReader::new(16);
        let big = encode(content_type::HANDSHAKE, 0x0303, &handshake(11, &[0; 64]));
        assert!(matches!(r.push(&big), Err(FlightError::Malformed(_))));
    }
}
