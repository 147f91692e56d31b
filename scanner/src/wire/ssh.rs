//! SSH transport codec (RFC 4253): identification banner, unencrypted binary packets, KEXINIT,
//! ECDH/X25519 key exchange (RFC 5656, RFC 8731), group-exchange (RFC 4419), host key blobs and
//! signatures. Bytes in, typed values out; every length is bounded.
use super::{Reader, WireError};

/// Longest identification or pre-banner line accepted (RFC 4253 allows 255 bytes).
pub const MAX_LINE: usize = 8 * 1024;
/// Most lines a server may send before its identification.
pub const MAX_PRE_BANNER_LINES: usize = 64;
/// Largest unencrypted packet accepted (RFC 4253 requires at least 35000).
pub const MAX_PACKET: usize = 256 * 1024;
/// Largest name-list accepted.
pub const MAX_NAME_LIST: usize = 64 * 1024;

/// Message numbers used by the scanner.
pub mod msg {
    /// SSH_MSG_DISCONNECT.
    pub const DISCONNECT: u8 = 1;
    /// SSH_MSG_IGNORE.
    pub const IGNORE: u8 = 2;
    /// SSH_MSG_DEBUG.
    pub const DEBUG: u8 = 4;
    /// SSH_MSG_KEXINIT.
    pub const KEXINIT: u8 = 20;
    /// SSH_MSG_KEX_ECDH_INIT (also KEXDH_INIT).
    pub const KEX_ECDH_INIT: u8 = 30;
    /// SSH_MSG_KEX_ECDH_REPLY (also KEXDH_REPLY, and KEX_DH_GEX_GROUP in group exchange).
    pub const KEX_ECDH_REPLY: u8 = 31;
    /// SSH_MSG_KEX_DH_GEX_GROUP.
    pub const KEX_DH_GEX_GROUP: u8 = 31;
    /// SSH_MSG_KEX_DH_GEX_INIT.
    pub const KEX_DH_GEX_INIT: u8 = 32;
    /// SSH_MSG_KEX_DH_GEX_REPLY.
    pub const KEX_DH_GEX_REPLY: u8 = 33;
    /// SSH_MSG_KEX_DH_GEX_REQUEST.
    pub const KEX_DH_GEX_REQUEST: u8 = 34;
}

/// What one line of the server's greeting is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BannerLine {
    /// `SSH-protoversion-softwareversion SP comments`.
    Identification(Identification),
    /// A line before the identification (allowed by RFC 4253 4.2).
    Other(String),
}

/// The parsed identification string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    /// The whole line without CR LF.
    pub raw: String,
    /// `2.0` (or `1.99`).
    pub protocol: String,
    /// `OpenSSH_9.2p1`.
    pub software: String,
    /// Text after the first space, if any.
    pub comments: Option<String>,
}

/// Parses one greeting line (without its line ending).
pub fn parse_banner_line(line: &[u8]) -> Result<BannerLine, WireError> {
    if line.len() > MAX_LINE {
        return Err(WireError::TooLarge {
            what: "SSH banner line",
            len: line.len(),
            max: MAX_LINE,
        });
    }
    let text = String::from_utf8_lossy(line).into_owned();
    let Some(rest) = text.strip_prefix("SSH-") else {
        return Ok(BannerLine::Other(text));
    };
    let (ident, comments) = match rest.split_once(' ') {
        Some((i, c)) => (i, Some(c.to_owned())),
        None => (rest, None),
    };
    let (protocol, software) = ident.split_once('-').ok_or_else(|| WireError::Invalid {
        what: "SSH identification",
        detail: format!("{text:?} has no software version"),
    })?;
    Ok(BannerLine::Identification(Identification {
        raw: text.clone(),
        protocol: protocol.to_owned(),
        software: software.to_owned(),
        comments,
    }))
}

/// Splits an unencrypted binary packet off the front of `buf`: Ok(None) if incomplete,
/// otherwise the payload and the bytes consumed.
pub fn split_packet(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, WireError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > MAX_PACKET {
        return Err(WireError::TooLarge {
            what: "SSH packet",
            len,
            max: MAX_PACKET,
        });
    }
    if len < 5 {
        return Err(WireError::Invalid {
            what: "SSH packet",
            detail: format!("packet_length {len}"),
        });
    }
    if buf.len() < 4 + len {
        return Ok(None);
    }
    let padding = usize::from(buf[4]);
    if padding < 4 || padding + 1 > len {
        return Err(WireError::Invalid {
            what: "SSH packet",
            detail: format!("padding_length {padding} with packet_length {len}"),
        });
    }
    Ok(Some((buf[5..4 + len - padding].to_vec(), 4 + len)))
}

/// Frames a payload as an unencrypted binary packet (block size 8, at least 4 padding bytes).
pub fn encode_packet(payload: &[u8]) -> Vec<u8> {
    let mut padding = 8 - (payload.len() + 5) % 8;
    if padding < 4 {
        padding += 8;
    }
    let len = (payload.len() + padding + 1) as u32;
    let mut out = Vec::with_capacity(4 + len as usize);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(padding as u8);
    out.extend_from_slice(payload);
    out.extend(std::iter::repeat_n(0u8, padding));
    out
}

/// Appends an SSH `string`.
pub fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Appends an unsigned big-endian integer as an SSH `mpint`.
pub fn put_mpint(out: &mut Vec<u8>, unsigned: &[u8]) {
    let start = unsigned
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(unsigned.len());
    let digits = &unsigned[start..];
    if digits.first().is_some_and(|b| b & 0x80 != 0) {
        out.extend_from_slice(&((digits.len() + 1) as u32).to_be_bytes());
        out.push(0);
    } else {
        out.extend_from_slice(&(digits.len() as u32).to_be_bytes());
    }
    out.extend_from_slice(digits);
}

fn u32_len(r: &mut Reader<'_>, what: &'static str, max: usize) -> Result<usize, WireError> {
    let b = r.take(4, what)?;
    let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if len > max {
        return Err(WireError::TooLarge { what, len, max });
    }
    Ok(len)
}

/// Reads an SSH `string`.
pub fn get_string<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], WireError> {
    let len = u32_len(r, what, MAX_PACKET)?;
    r.take(len, what)
}

fn get_name_list(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<String>, WireError> {
    let len = u32_len(r, what, MAX_NAME_LIST)?;
    let bytes = r.take(len, what)?;
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| WireError::Invalid {
        what,
        detail: "not ASCII".into(),
    })?;
    if !text.is_ascii() || text.split(',').any(str::is_empty) {
        return Err(WireError::Invalid {
            what,
            detail: format!(
                "malformed name-list {:?}",
                text.chars().take(80).collect::<String>()
            ),
        });
    }
    Ok(text.split(',').map(str::to_owned).collect())
}

/// The name lists of a KEXINIT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KexInit {
    /// kex_algorithms.
    pub kex: Vec<String>,
    /// server_host_key_algorithms.
    pub host_key: Vec<String>,
    /// encryption_algorithms_client_to_server.
    pub ciphers_client_to_server: Vec<String>,
    /// encryption_algorithms_server_to_client.
    pub ciphers_server_to_client: Vec<String>,
    /// mac_algorithms_client_to_server.
    pub macs_client_to_server: Vec<String>,
    /// mac_algorithms_server_to_client.
    pub macs_server_to_client: Vec<String>,
    /// compression_algorithms_client_to_server.
    pub compression_client_to_server: Vec<String>,
    /// compression_algorithms_server_to_client.
    pub compression_server_to_client: Vec<String>,
    /// languages_client_to_server.
    pub languages_client_to_server: Vec<String>,
    /// languages_server_to_client.
    pub languages_server_to_client: Vec<String>,
    /// first_kex_packet_follows.
    pub first_kex_packet_follows: bool,
}

impl KexInit {
    /// Parses a KEXINIT payload (message number included).
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        message(&mut r, msg::KEXINIT, "KEXINIT")?;
        r.take(16, "KEXINIT cookie")?;
        let k = Self {
            kex: get_name_list(&mut r, "kex_algorithms")?,
            host_key: get_name_list(&mut r, "server_host_key_algorithms")?,
            ciphers_client_to_server: get_name_list(
                &mut r,
                "encryption_algorithms_client_to_server",
            )?,
            ciphers_server_to_client: get_name_list(
                &mut r,
                "encryption_algorithms_server_to_client",
            )?,
            macs_client_to_server: get_name_list(&mut r, "mac_algorithms_client_to_server")?,
            macs_server_to_client: get_name_list(&mut r, "mac_algorithms_server_to_client")?,
            compression_client_to_server: get_name_list(
                &mut r,
                "compression_algorithms_client_to_server",
            )?,
            compression_server_to_client: get_name_list(
                &mut r,
                "compression_algorithms_server_to_client",
            )?,
            languages_client_to_server: get_name_list(&mut r, "languages_client_to_server")?,
            languages_server_to_client: get_name_list(&mut r, "languages_server_to_client")?,
            first_kex_packet_follows: r.u8("first_kex_packet_follows")? != 0,
        };
        r.take(4, "KEXINIT reserved")?;
        Ok(k)
    }

    /// The payload (message number included).
    pub fn encode(&self, cookie: [u8; 16]) -> Vec<u8> {
        let mut out = vec![msg::KEXINIT];
        out.extend_from_slice(&cookie);
        for list in [
            &self.kex,
            &self.host_key,
            &self.ciphers_client_to_server,
            &self.ciphers_server_to_client,
            &self.macs_client_to_server,
            &self.macs_server_to_client,
            &self.compression_client_to_server,
            &self.compression_server_to_client,
            &self.languages_client_to_server,
            &self.languages_server_to_client,
        ] {
            put_string(&mut out, list.join(",").as_bytes());
        }
        out.push(u8::from(self.first_kex_packet_follows));
        out.extend_from_slice(&[0; 4]);
        out
    }
}

/// KEX_ECDH_REPLY (and KEXDH_REPLY, KEX_DH_GEX_REPLY): the host key, the server's ephemeral
/// key, the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KexReply {
    /// K_S: the host key blob.
    pub host_key: Vec<u8>,
    /// Q_S (or f for DH): the server's ephemeral public value.
    pub server_public: Vec<u8>,
    /// The signature blob over the exchange hash.
    pub signature: Vec<u8>,
}

impl KexReply {
    /// Parses the payload (message number included), which must be message `expected`.
    pub fn parse(payload: &[u8], expected: u8) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        message(&mut r, expected, "KEX reply")?;
        let host_key = get_string(&mut r, "host key")?.to_vec();
        let server_public = get_string(&mut r, "server ephemeral key")?.to_vec();
        let signature = get_string(&mut r, "exchange hash signature")?.to_vec();
        r.finish("KEX reply")?;
        Ok(Self {
            host_key,
            server_public,
            signature,
        })
    }
}

/// A KEX_DH_GEX_REQUEST for a modulus of `preferred` bits within [`min`, `max`].
pub fn gex_request(min: u32, preferred: u32, max: u32) -> Vec<u8> {
    let mut out = vec![msg::KEX_DH_GEX_REQUEST];
    for v in [min, preferred, max] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

/// KEX_DH_GEX_GROUP: the modulus and generator a group-exchange server hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GexGroup {
    /// p, as the mpint's bytes (big-endian, maybe with a leading zero).
    pub prime: Vec<u8>,
    /// g, likewise.
    pub generator: Vec<u8>,
}

impl GexGroup {
    /// Parses the payload (message number included).
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        message(&mut r, msg::KEX_DH_GEX_GROUP, "KEX_DH_GEX_GROUP")?;
        let prime = get_string(&mut r, "group-exchange prime")?.to_vec();
        let generator = get_string(&mut r, "group-exchange generator")?.to_vec();
        r.finish("KEX_DH_GEX_GROUP")?;
        Ok(Self { prime, generator })
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> u32 {
        unsigned_bits(&self.prime)
    }
}

/// Reads a payload's message number and insists that it is `expected`.
fn message(r: &mut Reader<'_>, expected: u8, what: &'static str) -> Result<(), WireError> {
    let number = r.u8(what)?;
    if number != expected {
        return Err(WireError::Invalid {
            what,
            detail: format!("message {number}"),
        });
    }
    Ok(())
}

/// Bit length of a big-endian unsigned integer (leading zero bytes allowed).
pub fn unsigned_bits(bytes: &[u8]) -> u32 {
    match bytes.iter().position(|b| *b != 0) {
        None => 0,
        Some(i) => ((bytes.len() - i) as u32) * 8 - bytes[i].leading_zeros(),
    }
}

/// A host public key, from its blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKey {
    /// ssh-rsa: exponent and modulus.
    Rsa {
        /// e.
        e: Vec<u8>,
        /// n.
        n: Vec<u8>,
    },
    /// ecdsa-sha2-*: curve identifier (`nistp256`) and point.
    Ecdsa {
        /// `nistp256`, `nistp384`, `nistp521`.
        curve: String,
        /// Uncompressed point.
        point: Vec<u8>,
    },
    /// ssh-ed25519.
    Ed25519(Vec<u8>),
    /// ssh-dss: p, q, g, y.
    Dsa {
        /// p (its size is the key size).
        p: Vec<u8>,
        /// q, g, y.
        qgy: [Vec<u8>; 3],
    },
    /// A type the scanner does not decode (certificates, sk-, x509v3-).
    Other(String),
}

/// An OpenSSH certificate (PROTOCOL.certkeys) presented as a host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Serial number.
    pub serial: u64,
    /// 1 user, 2 host.
    pub cert_type: u32,
    /// Key ID.
    pub key_id: String,
    /// Valid principals (host names).
    pub principals: Vec<String>,
    /// Valid after, Unix time.
    pub valid_after: u64,
    /// Valid before, Unix time (u64::MAX: forever).
    pub valid_before: u64,
    /// The signing CA's public key blob.
    pub ca_key: Vec<u8>,
}

fn get_u64(r: &mut Reader<'_>, what: &'static str) -> Result<u64, WireError> {
    let b = r.take(8, what)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_be_bytes(a))
}

impl HostKey {
    /// Parses a public key blob.
    pub fn parse(blob: &[u8]) -> Result<Self, WireError> {
        Self::parse_with_certificate(blob).map(|(k, _)| k)
    }

    /// Parses a public key or certificate blob: the key, and the certificate if it is one.
    pub fn parse_with_certificate(blob: &[u8]) -> Result<(Self, Option<Certificate>), WireError> {
        let mut r = Reader::new(blob);
        let kind = String::from_utf8_lossy(get_string(&mut r, "host key type")?).into_owned();
        let (base, cert) = match kind.strip_suffix("-cert-v01@openssh.com") {
            Some(base) => {
                get_string(&mut r, "certificate nonce")?;
                (base.to_owned(), true)
            }
            None => (kind.clone(), false),
        };
        let key = match base.as_str() {
            "ssh-rsa" => {
                let e = get_string(&mut r, "rsa e")?.to_vec();
                let n = get_string(&mut r, "rsa n")?.to_vec();
                Self::Rsa { e, n }
            }
            k if k.starts_with("ecdsa-sha2-") => {
                let curve =
                    String::from_utf8_lossy(get_string(&mut r, "ecdsa curve")?).into_owned();
                let point = get_string(&mut r, "ecdsa point")?.to_vec();
                Self::Ecdsa { curve, point }
            }
            "ssh-ed25519" => Self::Ed25519(get_string(&mut r, "ed25519 key")?.to_vec()),
            "ssh-dss" => {
                let p = get_string(&mut r, "dsa p")?.to_vec();
                let q = get_string(&mut r, "dsa q")?.to_vec();
                let g = get_string(&mut r, "dsa g")?.to_vec();
                let y = get_string(&mut r, "dsa y")?.to_vec();
                Self::Dsa { p, qgy: [q, g, y] }
            }
            other => return Ok((Self::Other(other.to_owned()), None)),
        };
        if !cert {
            return Ok((key, None));
        }
        let serial = get_u64(&mut r, "certificate serial")?;
        let t = r.take(4, "certificate type")?;
        let cert_type = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        let key_id =
            String::from_utf8_lossy(get_string(&mut r, "certificate key id")?).into_owned();
        let mut names = Reader::new(get_string(&mut r, "certificate principals")?);
        let mut principals = Vec::new();
        while !names.is_empty() {
            principals
                .push(String::from_utf8_lossy(get_string(&mut names, "principal")?).into_owned());
        }
        let valid_after = get_u64(&mut r, "certificate valid after")?;
        let valid_before = get_u64(&mut r, "certificate valid before")?;
        get_string(&mut r, "certificate critical options")?;
        get_string(&mut r, "certificate extensions")?;
        get_string(&mut r, "certificate reserved")?;
        let ca_key = get_string(&mut r, "certificate signature key")?.to_vec();
        get_string(&mut r, "certificate signature")?;
        Ok((
            key,
            Some(Certificate {
                serial,
                cert_type,
                key_id,
                principals,
                valid_after,
                valid_before,
                ca_key,
            }),
        ))
    }

    /// The plain public key blob (OpenSSH fingerprints a certificate by its key).
    pub fn blob(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Rsa { e, n } => {
                put_string(&mut out, b"ssh-rsa");
                put_string(&mut out, e);
                put_string(&mut out, n);
            }
            Self::Ecdsa { curve, point } => {
                put_string(&mut out, format!("ecdsa-sha2-{curve}").as_bytes());
                put_string(&mut out, curve.as_bytes());
                put_string(&mut out, point);
            }
            Self::Ed25519(pk) => {
                put_string(&mut out, b"ssh-ed25519");
                put_string(&mut out, pk);
            }
            Self::Dsa { p, qgy } => {
                put_string(&mut out, b"ssh-dss");
                put_string(&mut out, p);
                for v in qgy {
                    put_string(&mut out, v);
                }
            }
            Self::Other(name) => put_string(&mut out, name.as_bytes()),
        }
        out
    }

    /// `rsa`, `ec`, `ed25519`, `dsa`, or the blob's type name.
    pub fn key_type(&self) -> String {
        match self {
            Self::Rsa { .. } => "rsa".into(),
            Self::Ecdsa { .. } => "ec".into(),
            Self::Ed25519(_) => "ed25519".into(),
            Self::Dsa { .. } => "dsa".into(),
            Self::Other(t) => t.clone(),
        }
    }

    /// Key size in bits.
    pub fn bits(&self) -> u32 {
        match self {
            Self::Rsa { n, .. } => unsigned_bits(n),
            Self::Dsa { p, .. } => unsigned_bits(p),
            Self::Ecdsa { curve, .. } => match curve.as_str() {
                "nistp256" => 256,
                "nistp384" => 384,
                "nistp521" => 521,
                _ => 0,
            },
            Self::Ed25519(_) => 256,
            Self::Other(_) => 0,
        }
    }
}

/// A signature blob: algorithm name and raw signature.
pub fn parse_signature(blob: &[u8]) -> Result<(String, Vec<u8>), WireError> {
    let mut r = Reader::new(blob);
    let alg = String::from_utf8_lossy(get_string(&mut r, "signature algorithm")?).into_owned();
    let sig = get_string(&mut r, "signature")?.to_vec();
    Ok((alg, sig))
}

/// An ECDSA signature (`mpint r, mpint s`) as fixed-length `r || s` of `field` bytes each.
pub fn ecdsa_fixed(sig: &[u8], field: usize) -> Result<Vec<u8>, WireError> {
    let mut r = Reader::new(sig);
    let mut out = Vec::with_capacity(2 * field);
    for what in ["ecdsa r", "ecdsa s"] {
        let v = get_string(&mut r, what)?;
        let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        let digits = &v[start..];
        if digits.len() > field {
            return Err(WireError::Invalid {
                what,
                detail: format!("{} bytes for a {field}-byte field", digits.len()),
            });
        }
        out.extend(std::iter::repeat_n(0u8, field - digits.len()));
        out.extend_from_slice(digits);
    }
    Ok(out)
}

/// The base64 alphabet of OpenSSH key files and fingerprints (RFC 4648).
pub(crate) const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// OpenSSH's fingerprint text: `SHA256:` and unpadded base64 of the SHA-256 of the blob.
pub fn fingerprint_text(sha256: &[u8]) -> String {
    let mut out = String::from("SHA256:");
    for chunk in sha256.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(BASE64_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners() {
        let line = parse_banner_line(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6");
        let Ok(BannerLine::Identification(id)) = line else {
            panic!("{line:?}")
        };
        assert_eq!(
            (
                id.protocol.as_str(),
                id.software.as_str(),
                id.comments.as_deref()
            ),
            ("2.0", "OpenSSH_9.2p1", Some("Debian-2+deb12u6"))
        );
        assert_eq!(
            parse_banner_line(b"hello"),
            Ok(BannerLine::Other("hello".into()))
        );
        assert!(parse_banner_line(b"SSH-2.0").is_err());
        assert!(parse_banner_line(&vec![b'a'; MAX_LINE + 1]).is_err());
    }

    #[test]
    fn packets_round_trip_and_hostile_lengths_fail() {
        let wire = encode_packet(&[20, 1, 2, 3]);
        assert_eq!(wire.len() % 8, 0);
        assert_eq!(
            split_packet(&wire),
            Ok(Some((vec![20, 1, 2, 3], wire.len())))
        );
        assert_eq!(split_packet(&wire[..wire.len() - 1]), Ok(None));
        assert!(matches!(
            split_packet(&[0x80, 0, 0, 0, 4]),
            Err(WireError::TooLarge { .. })
        ));
        assert!(
            split_packet(&[0, 0, 0, 8, 200, 0, 0, 0, 0, 0, 0, 0]).is_err(),
            "padding longer than the packet"
        );
    }

    #[test]
    fn kexinit_round_trip_and_bad_lists() {
        let k = KexInit {
            kex: vec!["ecdh-sha2-nistp256".into(), "ext-info-s".into()],
            host_key: vec!["rsa-sha2-512".into()],
            ciphers_client_to_server: vec!["aes128-ctr".into()],
            ciphers_server_to_client: vec!["aes256-ctr".into()],
            macs_client_to_server: vec!["hmac-sha2-256".into()],
            macs_server_to_client: vec!["hmac-sha2-512".into()],
            compression_client_to_server: vec!["none".into()],
            compression_server_to_client: vec!["none".into(), "zlib@openssh.com".into()],
            ..Default::default()
        };
        assert_eq!(KexInit::parse(&k.encode([7; 16])), Ok(k.clone()));
        let mut bad = k.clone();
        bad.kex = vec!["a".into(), String::new()];
        assert!(
            KexInit::parse(&bad.encode([7; 16])).is_err(),
            "empty name in a list"
        );
        let mut huge = k.encode([7; 16]);
        huge[17..21].copy_from_slice(&(MAX_NAME_LIST as u32 + 1).to_be_bytes());
        assert!(matches!(
            KexInit::parse(&huge),
            Err(WireError::TooLarge { .. })
        ));
    }

    #[test]
    fn mpints_and_fixed_signatures() {
        let mut out = Vec::new();
        put_mpint(&mut out, &[0, 0, 0x80, 1]);
        assert_eq!(out, vec![0, 0, 0, 3, 0, 0x80, 1]);
        let mut sig = Vec::new();
        put_string(&mut sig, &[0, 0x90, 1]);
        put_string(&mut sig, &[2]);
        assert_eq!(ecdsa_fixed(&sig, 3), Ok(vec![0, 0x90, 1, 0, 0, 2]));
        assert!(ecdsa_fixed(&sig, 1).is_err());
    }

    #[test]
    fn fingerprints_are_openssh_base64() {
        // OpenSSH prints base64 without padding: 32 bytes give 43 characters.
        let fp = fingerprint_text(&[0xFF; 32]);
        assert_eq!(fp.len(), 7 + 43);
        assert!(fp.starts_with("SHA256:////"));
        assert_eq!(fingerprint_text(&[0, 0, 0]), "SHA256:AAAA");
        assert_eq!(fingerprint_text(&[0xFB]), "SHA256:+w");
    }

    #[test]
    fn host_key_blobs() {
        let mut blob = Vec::new();
        put_string(&mut blob, b"ssh-rsa");
        put_string(&mut blob, &[1, 0, 1]);
        put_string(&mut blob, &[0, 0xC0, 0, 0]);
        let k = HostKey::parse(&blob);
        assert_eq!(k.as_ref().map(HostKey::bits), Ok(24));
        assert_eq!(k.map(|k| k.key_type()), Ok("rsa".to_owned()));
        assert!(HostKey::parse(&blob[..10]).is_err());
    }
}
