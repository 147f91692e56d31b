//! ServerHello, TLS 1.3 HelloRetryRequest and the SSL 2.0 SERVER-HELLO.
use super::client_hello::ext;
use super::{Reader, WireError};

/// The random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// A parsed ServerHello (or HelloRetryRequest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// server_version (legacy_version in TLS 1.3).
    pub version: u16,
    /// server random.
    pub random: [u8; 32],
    /// Session id echoed or assigned.
    pub session_id: Vec<u8>,
    /// The chosen suite.
    pub cipher_suite: u16,
    /// The chosen compression method.
    pub compression: u8,
    /// Extensions as (type, data), in order; unknown types are kept.
    pub extensions: Vec<(u16, Vec<u8>)>,
}

impl ServerHello {
    /// Parses a ServerHello body (handshake header removed).
    pub fn parse(body: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(body);
        let version = r.u16("server_hello version")?;
        let mut random = [0u8; 32];
        random.copy_from_slice(r.take(32, "server_hello random")?);
        let session_id = r.vec_u8("server_hello session_id")?.to_vec();
        if session_id.len() > 32 {
            return Err(WireError::Invalid {
                what: "server_hello session_id",
                detail: format!("{} bytes", session_id.len()),
            });
        }
        let cipher_suite = r.u16("server_hello cipher_suite")?;
        let compression = r.u8("server_hello compression")?;
        let mut extensions = Vec::new();
        if !r.is_empty() {
            let mut e = Reader::new(r.vec_u16("server_hello extensions")?);
            while !e.is_empty() {
                let typ = e.u16("extension type")?;
                let data = e.vec_u16("extension data")?.to_vec();
                if extensions.iter().any(|(t, _)| *t == typ) {
                    return Err(WireError::Invalid {
                        what: "server_hello extensions",
                        detail: format!("extension {typ} twice"),
                    });
                }
                extensions.push((typ, data));
            }
        }
        r.finish("server_hello")?;
        Ok(Self {
            version,
            random,
            session_id,
            cipher_suite,
            compression,
            extensions,
        })
    }

    /// Whether this is a TLS 1.3 HelloRetryRequest.
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The data of an extension.
    pub fn extension(&self, typ: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(t, _)| *t == typ)
            .map(|(_, d)| d.as_slice())
    }

    /// Whether the server sent an extension.
    pub fn has_extension(&self, typ: u16) -> bool {
        self.extension(typ).is_some()
    }

    /// The negotiated version: supported_versions when present (TLS 1.3), else server_version.
    pub fn negotiated_version(&self) -> Result<u16, WireError> {
        match self.extension(ext::SUPPORTED_VERSIONS) {
            None => Ok(self.version),
            Some(d) => {
                let mut r = Reader::new(d);
                let v = r.u16("supported_versions")?;
                r.finish("supported_versions")?;
                Ok(v)
            }
        }
    }

    /// The group of key_share: the selected group of a HelloRetryRequest, or the server's share.
    pub fn key_share_group(&self) -> Result<Option<u16>, WireError> {
        let Some(d) = self.extension(ext::KEY_SHARE) else {
            return Ok(None);
        };
        let mut r = Reader::new(d);
        let group = r.u16("key_share group")?;
        if self.is_hello_retry_request() {
            r.finish("key_share")?;
        } else {
            r.vec_u16("key_share key_exchange")?;
            r.finish("key_share")?;
        }
        Ok(Some(group))
    }

    /// The ALPN protocol the server selected.
    pub fn alpn(&self) -> Result<Option<Vec<u8>>, WireError> {
        let Some(d) = self.extension(ext::ALPN) else {
            return Ok(None);
        };
        let mut r = Reader::new(d);
        let mut list = Reader::new(r.vec_u16("alpn list")?);
        let proto = list.vec_u8("alpn protocol")?.to_vec();
        list.finish("alpn list")?;
        r.finish("alpn")?;
        Ok(Some(proto))
    }
}

/// An SSL 2.0 SERVER-HELLO: the server lists every cipher spec it accepts at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sslv2ServerHello {
    /// server_version (0x0002).
    pub version: u16,
    /// The certificate, DER.
    pub certificate: Vec<u8>,
    /// Three-byte cipher specs.
    pub cipher_specs: Vec<u32>,
}

impl Sslv2ServerHello {
    /// Parses one SSL 2.0 record holding a SERVER-HELLO; None if more bytes are needed.
    pub fn parse_record(bytes: &[u8]) -> Result<Option<Self>, WireError> {
        if bytes.len() < 2 {
            return Ok(None);
        }
        if bytes[0] & 0x80 == 0 {
            return Err(WireError::Invalid {
                what: "SSL 2.0 record header",
                detail: "3-byte header with padding".into(),
            });
        }
        let len = (usize::from(bytes[0] & 0x7F) << 8) | usize::from(bytes[1]);
        if bytes.len() < 2 + len {
            return Ok(None);
        }
        let mut r = Reader::new(&bytes[2..2 + len]);
        let msg = r.u8("SSL 2.0 message type")?;
        if msg != 4 {
            return Err(WireError::Invalid {
                what: "SSL 2.0 message type",
                detail: format!("{msg}, expected SERVER-HELLO (4)"),
            });
        }
        let _session_id_hit = r.u8("SSL 2.0 session_id_hit")?;
        let _certificate_type = r.u8("SSL 2.0 certificate_type")?;
        let version = r.u16("SSL 2.0 server_version")?;
        let cert_len = usize::from(r.u16("SSL 2.0 certificate_length")?);
        let specs_len = usize::from(r.u16("SSL 2.0 cipher_specs_length")?);
        let conn_id_len = usize::from(r.u16("SSL 2.0 connection_id_length")?);
        if specs_len % 3 != 0 {
            return Err(WireError::Invalid {
                what: "SSL 2.0 cipher_specs_length",
                detail: format!("{specs_len} is not a multiple of 3"),
            });
        }
        let certificate = r.take(cert_len, "SSL 2.0 certificate")?.to_vec();
        let specs = r.take(specs_len, "SSL 2.0 cipher_specs")?;
        r.take(conn_id_len, "SSL 2.0 connection_id")?;
        let cipher_specs = specs
            .chunks(3)
            .map(|c| (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]))
            .collect();
        Ok(Some(Self {
            version,
            certificate,
            cipher_specs,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(random: [u8; 32], exts: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&random);
        b.extend_from_slice(&[0, 0x13, 0x02, 0]);
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(exts);
        b
    }

    #[test]
    fn hello_retry_request_names_suite_and_group() {
        let exts = [0, 43, 0, 2, 3, 4, 0, 51, 0, 2, 0, 23];
        let hrr = ServerHello::parse(&body(HELLO_RETRY_REQUEST_RANDOM, &exts));
        let hrr = hrr.as_ref().ok();
        assert_eq!(hrr.map(|h| h.is_hello_retry_request()), Some(true));
        assert_eq!(hrr.map(|h| h.cipher_suite), Some(0x1302));
        assert_eq!(hrr.map(|h| h.negotiated_version()), Some(Ok(0x0304)));
        assert_eq!(hrr.map(|h| h.key_share_group()), Some(Ok(Some(23))));
    }

    #[test]
    fn tls12_hello_with_extensions() {
        let exts = [
            0xFF, 0x01, 0, 1, 0, 0, 23, 0, 0, 0, 16, 0, 5, 0, 3, 2, b'h', b'2',
        ];
        let h = ServerHello::parse(&body([1; 32], &exts));
        let h = h.as_ref().ok();
        assert_eq!(
            h.map(|h| h.has_extension(ext::EXTENDED_MASTER_SECRET)),
            Some(true)
        );
        assert_eq!(h.map(|h| h.alpn()), Some(Ok(Some(b"h2".to_vec()))));
        assert_eq!(h.map(|h| h.negotiated_version()), Some(Ok(0x0303)));
    }

    #[test]
    fn malformed_hellos_are_errors() {
        assert!(ServerHello::parse(&[3, 3, 0]).is_err());
        let mut b = body([1; 32], &[0, 23, 0, 5]);
        assert!(
            ServerHello::parse(&b).is_err(),
            "extension longer than its block"
        );
        b = body([1; 32], &[0, 23, 0, 0, 0, 23, 0, 0]);
        assert!(ServerHello::parse(&b).is_err(), "duplicate extension");
    }

    #[test]
    fn sslv2_server_hello() {
        let mut msg = vec![
            4, 0, 1, 0, 2, 0, 2, 0, 6, 0, 16, 0xAA, 0xBB, 7, 0, 0xC0, 1, 0, 0x80,
        ];
        msg.extend_from_slice(&[5; 16]);
        let mut rec = vec![0x80, msg.len() as u8];
        rec.extend_from_slice(&msg);
        let h = Sslv2ServerHello::parse_record(&rec);
        assert_eq!(
            h.as_ref().ok().cloned().flatten().map(|h| h.cipher_specs),
            Some(vec![0x0700C0, 0x010080])
        );
        assert_eq!(Sslv2ServerHello::parse_record(&rec[..10]), Ok(None));
    }
}
