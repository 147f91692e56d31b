//! ClientHello builders: hand-built, so the scanner can offer anything from SSL 2.0 to TLS 1.3,
//! including code points no TLS library still sends.
use super::put_vec;
use super::record::{self, content_type, handshake_type};

/// Extension type codes used by the scanner.
pub mod ext {
    /// server_name (SNI).
    pub const SERVER_NAME: u16 = 0;
    /// status_request (OCSP stapling).
    pub const STATUS_REQUEST: u16 = 5;
    /// supported_groups.
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// ec_point_formats.
    pub const EC_POINT_FORMATS: u16 = 11;
    /// signature_algorithms.
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    /// application_layer_protocol_negotiation.
    pub const ALPN: u16 = 16;
    /// encrypt_then_mac (RFC 7366).
    pub const ENCRYPT_THEN_MAC: u16 = 22;
    /// extended_master_secret (RFC 7627).
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    /// session_ticket (RFC 5077).
    pub const SESSION_TICKET: u16 = 35;
    /// supported_versions (TLS 1.3).
    pub const SUPPORTED_VERSIONS: u16 = 43;
    /// psk_key_exchange_modes (TLS 1.3).
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    /// key_share (TLS 1.3).
    pub const KEY_SHARE: u16 = 51;
    /// renegotiation_info (RFC 5746).
    pub const RENEGOTIATION_INFO: u16 = 0xFF01;
}

/// One ClientHello extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// SNI host name.
    ServerName(String),
    /// Groups, in preference order.
    SupportedGroups(Vec<u16>),
    /// EC point formats (0 = uncompressed).
    EcPointFormats(Vec<u8>),
    /// Signature schemes.
    SignatureAlgorithms(Vec<u16>),
    /// TLS 1.3 supported_versions.
    SupportedVersions(Vec<u16>),
    /// TLS 1.3 key shares (group, public key); empty to provoke a HelloRetryRequest.
    KeyShare(Vec<(u16, Vec<u8>)>),
    /// Empty renegotiation_info for an initial handshake.
    RenegotiationInfo,
    /// extended_master_secret.
    ExtendedMasterSecret,
    /// encrypt_then_mac.
    EncryptThenMac,
    /// status_request for OCSP.
    StatusRequest,
    /// Empty session_ticket.
    SessionTicket,
    /// ALPN protocol names.
    Alpn(Vec<Vec<u8>>),
    /// psk_key_exchange_modes (1 = psk_dhe_ke).
    PskKeyExchangeModes(Vec<u8>),
}

impl Extension {
    fn encode(&self, out: &mut Vec<u8>) {
        let (typ, body) = match self {
            Self::ServerName(name) => {
                let mut entry = vec![0u8];
                put_vec(&mut entry, 2, name.as_bytes());
                let mut list = Vec::new();
                put_vec(&mut list, 2, &entry);
                (ext::SERVER_NAME, list)
            }
            Self::SupportedGroups(groups) => (ext::SUPPORTED_GROUPS, u16_list(groups, 2)),
            Self::EcPointFormats(formats) => {
                let mut b = Vec::new();
                put_vec(&mut b, 1, formats);
                (ext::EC_POINT_FORMATS, b)
            }
            Self::SignatureAlgorithms(schemes) => (ext::SIGNATURE_ALGORITHMS, u16_list(schemes, 2)),
            Self::SupportedVersions(versions) => (ext::SUPPORTED_VERSIONS, u16_list(versions, 1)),
            Self::KeyShare(shares) => {
                let mut entries = Vec::new();
                for (group, key) in shares {
                    entries.extend_from_slice(&group.to_be_bytes());
                    put_vec(&mut entries, 2, key);
                }
                let mut b = Vec::new();
                put_vec(&mut b, 2, &entries);
                (ext::KEY_SHARE, b)
            }
            Self::RenegotiationInfo => (ext::RENEGOTIATION_INFO, vec![0]),
            Self::ExtendedMasterSecret => (ext::EXTENDED_MASTER_SECRET, vec![]),
            Self::EncryptThenMac => (ext::ENCRYPT_THEN_MAC, vec![]),
            Self::StatusRequest => (ext::STATUS_REQUEST, vec![1, 0, 0, 0, 0]),
            Self::SessionTicket => (ext::SESSION_TICKET, vec![]),
            Self::Alpn(protocols) => {
                let mut list = Vec::new();
                for p in protocols {
                    put_vec(&mut list, 1, p);
                }
                let mut b = Vec::new();
                put_vec(&mut b, 2, &list);
                (ext::ALPN, b)
            }
            Self::PskKeyExchangeModes(modes) => {
                let mut b = Vec::new();
                put_vec(&mut b, 1, modes);
                (ext::PSK_KEY_EXCHANGE_MODES, b)
            }
        };
        out.extend_from_slice(&typ.to_be_bytes());
        put_vec(out, 2, &body);
    }
}

fn u16_list(values: &[u16], width: usize) -> Vec<u8> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut b = Vec::new();
    put_vec(&mut b, width, &bytes);
    b
}

/// A TLS ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// Record-layer version (0x0301 is what most clients send for compatibility).
    pub record_version: u16,
    /// client_version (legacy_version in TLS 1.3, which uses supported_versions instead).
    pub version: u16,
    /// client random.
    pub random: [u8; 32],
    /// Session id (32 bytes in TLS 1.3 middlebox-compatible hellos).
    pub session_id: Vec<u8>,
    /// Cipher suite codes, in preference order (signalling values included as given).
    pub cipher_suites: Vec<u16>,
    /// Compression methods (0 = null).
    pub compression_methods: Vec<u8>,
    /// Extensions, in order; None sends no extensions block (SSL 3.0 style).
    pub extensions: Option<Vec<Extension>>,
}

impl ClientHello {
    /// The handshake message (header included).
    pub fn encode_handshake(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(512);
        body.extend_from_slice(&self.version.to_be_bytes());
        body.extend_from_slice(&self.random);
        put_vec(&mut body, 1, &self.session_id);
        let suites: Vec<u8> = self
            .cipher_suites
            .iter()
            .flat_map(|s| s.to_be_bytes())
            .collect();
        put_vec(&mut body, 2, &suites);
        put_vec(&mut body, 1, &self.compression_methods);
        if let Some(extensions) = &self.extensions {
            let mut exts = Vec::new();
            for e in extensions {
                e.encode(&mut exts);
            }
            put_vec(&mut body, 2, &exts);
        }
        let mut msg = vec![handshake_type::CLIENT_HELLO];
        put_vec(&mut msg, 3, &body);
        msg
    }

    /// The hello framed in records, ready to send.
    pub fn encode(&self) -> Vec<u8> {
        record::encode(
            content_type::HANDSHAKE,
            self.record_version,
            &self.encode_handshake(),
        )
    }
}

/// An SSL 2.0 CLIENT-HELLO offering these three-byte cipher specs.
pub fn sslv2_client_hello(cipher_specs: &[u32], challenge: &[u8; 16]) -> Vec<u8> {
    let mut body = vec![1u8, 0x00, 0x02];
    let specs: Vec<u8> = cipher_specs
        .iter()
        .flat_map(|c| c.to_be_bytes()[1..].to_vec())
        .collect();
    body.extend_from_slice(&(specs.len() as u16).to_be_bytes());
    body.extend_from_slice(&0u16.to_be_bytes());
    body.extend_from_slice(&16u16.to_be_bytes());
    body.extend_from_slice(&specs);
    body.extend_from_slice(challenge);
    let len = body.len() as u16;
    let mut out = vec![0x80 | (len >> 8) as u8, (len & 0xFF) as u8];
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> ClientHello {
        ClientHello {
            record_version: 0x0301,
            version: 0x0303,
            random: [0x11; 32],
            session_id: vec![],
            cipher_suites: vec![0xC02F, 0x00FF],
            compression_methods: vec![0],
            extensions: Some(vec![
                Extension::ServerName("a.example".into()),
                Extension::SupportedGroups(vec![23, 24]),
                Extension::ExtendedMasterSecret,
            ]),
        }
    }

    #[test]
    fn encodes_the_exact_bytes() {
        let wire = hello().encode();
        assert_eq!(&wire[..5], &[22, 3, 1, 0, (wire.len() - 5) as u8]);
        let hs = &wire[5..];
        assert_eq!(hs[0], 1);
        assert_eq!(&hs[4..6], &[3, 3]);
        assert_eq!(&hs[38..39], &[0], "empty session id");
        assert_eq!(&hs[39..45], &[0, 4, 0xC0, 0x2F, 0x00, 0xFF]);
        assert_eq!(&hs[45..47], &[1, 0]);
        let exts = &hs[47..];
        let sni = [
            0, 0, 0, 14, 0, 12, 0, 0, 9, b'a', b'.', b'e', b'x', b'a', b'm', b'p', b'l', b'e',
        ];
        let groups = [0, 10, 0, 6, 0, 4, 0, 23, 0, 24];
        let ems = [0, 23, 0, 0];
        let expected: Vec<u8> = [
            &[0u8, (sni.len() + groups.len() + ems.len()) as u8][..],
            &sni,
            &groups,
            &ems,
        ]
        .concat();
        assert_eq!(exts, expected.as_slice());
    }

    #[test]
    fn sslv2_hello_layout() {
        let wire = sslv2_client_hello(&[0x0700C0, 0x010080], &[9; 16]);
        assert_eq!(wire[0] & 0x80, 0x80);
        assert_eq!(usize::from(wire[1]), wire.len() - 2);
        assert_eq!(&wire[2..5], &[1, 0, 2]);
        assert_eq!(&wire[5..11], &[0, 6, 0, 0, 0, 16]);
        assert_eq!(&wire[11..17], &[7, 0, 0xC0, 1, 0, 0x80]);
    }
}
