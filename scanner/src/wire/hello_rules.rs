//! What a ClientHello may hold for the versions it offers, as data: each rule with the clause it
//! comes from. The hello builder keeps to the code-point ranges here, and [`violations`] reads a
//! hello back (sans-IO) and names every rule it breaks, so a test can check every hello the
//! scanner can build. A strict server refuses a hello that breaks one; a lenient one hides it.
use super::client_hello::ext;
use super::record::{content_type, handshake_type};
use super::{Reader, WireError};

/// One rule a hello must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Short name.
    pub id: &'static str,
    /// The clause it comes from.
    pub clause: &'static str,
    /// What it asks, in one sentence.
    pub text: &'static str,
}

/// A hello offering TLS 1.3 sets legacy_version to 0x0303 and lists versions in supported_versions (RFC 8446 4.1.2, 4.2.1).
pub const TLS13_LEGACY_VERSION: Rule = Rule {
    id: "tls13-legacy-version",
    clause: "RFC 8446 4.1.2, 4.2.1",
    text: "a hello offering TLS 1.3 sets legacy_version to 0x0303 and lists versions in supported_versions",
};

/// A TLS 1.3-only hello offers no obsolete_RESERVED group (0x0001-0x0016, 0x001A-0x001C, 0xFF01-0xFF02) (RFC 8446 4.2.7).
pub const TLS13_OBSOLETE_GROUP: Rule = Rule {
    id: "tls13-obsolete-group",
    clause: "RFC 8446 4.2.7",
    text: "a TLS 1.3-only hello offers no obsolete_RESERVED group (0x0001-0x0016, 0x001A-0x001C, 0xFF01-0xFF02)",
};

/// A TLS 1.3-only hello offers no obsolete_RESERVED signature scheme (MD5, SHA-224, DSA, 0xFE00-0xFFFF) (RFC 8446 4.2.3).
pub const TLS13_OBSOLETE_SIGNATURE_SCHEME: Rule = Rule {
    id: "tls13-obsolete-signature-scheme",
    clause: "RFC 8446 4.2.3",
    text: "a TLS 1.3-only hello offers no obsolete_RESERVED signature scheme (MD5, SHA-224, DSA, 0xFE00-0xFFFF)",
};

/// A hello offering TLS 1.3 carries supported_versions, signature_algorithms, supported_groups and key_share (RFC 8446 9.2).
pub const TLS13_MANDATORY_EXTENSIONS: Rule = Rule {
    id: "tls13-mandatory-extensions",
    clause: "RFC 8446 9.2",
    text: "a hello offering TLS 1.3 carries supported_versions, signature_algorithms, supported_groups and key_share",
};

/// A TLS 1.3-only hello carries only extensions RFC 8446 defines for ClientHello (no ec_point_formats, encrypt_then_mac, extended_master_secret, session_ticket, renegotiation_info) (RFC 8446 4.2).
pub const TLS13_EXTENSION_NOT_ALLOWED: Rule = Rule {
    id: "tls13-extension-not-allowed",
    clause: "RFC 8446 4.2",
    text: "a TLS 1.3-only hello carries only extensions RFC 8446 defines for ClientHello (no ec_point_formats, encrypt_then_mac, extended_master_secret, session_ticket, renegotiation_info)",
};

/// A hello offering TLS 1.3 has exactly the null compression method (RFC 8446 4.1.2).
pub const TLS13_NULL_COMPRESSION: Rule = Rule {
    id: "tls13-null-compression",
    clause: "RFC 8446 4.1.2",
    text: "a hello offering TLS 1.3 has exactly the null compression method",
};

/// Every key_share entry is for a group listed in supported_groups (RFC 8446 4.2.8).
pub const KEY_SHARE_IN_GROUPS: Rule = Rule {
    id: "key-share-in-groups",
    clause: "RFC 8446 4.2.8",
    text: "every key_share entry is for a group listed in supported_groups",
};

/// A hello whose highest version is below TLS 1.2 does not offer signature_algorithms (RFC 5246 7.4.1.4.1).
pub const SIGNATURE_ALGORITHMS_BEFORE_TLS12: Rule = Rule {
    id: "signature-algorithms-before-tls12",
    clause: "RFC 5246 7.4.1.4.1",
    text: "a hello whose highest version is below TLS 1.2 does not offer signature_algorithms",
};

/// No extension type appears twice (RFC 5246 7.4.1.4, RFC 8446 4.2).
pub const EXTENSION_ONCE: Rule = Rule {
    id: "extension-once",
    clause: "RFC 5246 7.4.1.4, RFC 8446 4.2",
    text: "no extension type appears twice",
};

/// A hello offers at least one cipher suite and the null compression method (RFC 5246 7.4.1.2).
pub const SUITES_AND_NULL_COMPRESSION: Rule = Rule {
    id: "suites-and-null-compression",
    clause: "RFC 5246 7.4.1.2",
    text: "a hello offers at least one cipher suite and the null compression method",
};

/// Server_name holds a host name, not an IP address literal (RFC 6066 3).
pub const SNI_HOST_NAME: Rule = Rule {
    id: "sni-host-name",
    clause: "RFC 6066 3",
    text: "server_name holds a host name, not an IP address literal",
};

/// An SSL 2.0 CLIENT-HELLO has version 0x0002, whole three-byte cipher specs and a 16-32 byte challenge (SSL 2.0 (draft-hickman-netscape-ssl-00) and RFC 6101 E.1).
pub const SSLV2_CLIENT_HELLO: Rule = Rule {
    id: "sslv2-client-hello",
    clause: "SSL 2.0 (draft-hickman-netscape-ssl-00) and RFC 6101 E.1",
    text: "an SSL 2.0 CLIENT-HELLO has version 0x0002, whole three-byte cipher specs and a 16-32 byte challenge",
};

/// Whether a group code is in RFC 8446's obsolete_RESERVED ranges (TLS 1.2-only or retired).
pub fn obsolete_in_tls13_group(code: u16) -> bool {
    matches!(code, 0x0001..=0x0016 | 0x001A..=0x001C | 0xFF01..=0xFF02)
}

/// Whether a signature scheme code is in RFC 8446's obsolete_RESERVED or DSA ranges.
pub fn obsolete_in_tls13_sigalg(code: u16) -> bool {
    match code {
        0xFE00..=0xFFFF => true,
        0x0000..=0x06FF => !matches!(
            code,
            0x0201 | 0x0203 | 0x0401 | 0x0403 | 0x0501 | 0x0503 | 0x0601 | 0x0603
        ),
        _ => false,
    }
}

/// The parts of a ClientHello the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloView {
    /// client_version / legacy_version.
    pub version: u16,
    /// Cipher suite codes.
    pub cipher_suites: Vec<u16>,
    /// Compression methods.
    pub compression_methods: Vec<u8>,
    /// Extensions, in order: type and body.
    pub extensions: Vec<(u16, Vec<u8>)>,
}

impl HelloView {
    /// Reads a ClientHello from its record bytes.
    pub fn parse_record(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes);
        if r.u8("record type")? != content_type::HANDSHAKE {
            return Err(invalid("record type", "not a handshake record"));
        }
        r.u16("record version")?;
        let payload = r.vec_u16("record")?;
        r.finish("record")?;
        let mut m = Reader::new(payload);
        if m.u8("handshake type")? != handshake_type::CLIENT_HELLO {
            return Err(invalid("handshake type", "not a ClientHello"));
        }
        let body = m.vec_u24("ClientHello")?;
        m.finish("ClientHello message")?;
        let mut b = Reader::new(body);
        let version = b.u16("client_version")?;
        b.take(32, "random")?;
        b.vec_u8("session_id")?;
        let suites = b.vec_u16("cipher_suites")?;
        if suites.len() % 2 != 0 {
            return Err(invalid("cipher_suites", "odd length"));
        }
        let cipher_suites = suites
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let compression_methods = b.vec_u8("compression_methods")?.to_vec();
        let mut extensions = Vec::new();
        if !b.is_empty() {
            let mut e = Reader::new(b.vec_u16("extensions")?);
            while !e.is_empty() {
                let typ = e.u16("extension type")?;
                extensions.push((typ, e.vec_u16("extension")?.to_vec()));
            }
        }
        b.finish("ClientHello")?;
        Ok(Self {
            version,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    fn extension(&self, typ: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(t, _)| *t == typ)
            .map(|(_, b)| b.as_slice())
    }

    /// The versions offered: supported_versions if present, else client_version.
    pub fn offered(&self) -> Vec<u16> {
        match self.extension(ext::SUPPORTED_VERSIONS) {
            Some(b) => b.get(1..).map(u16s).unwrap_or_default(),
            None => vec![self.version],
        }
    }

    /// An extension that is a list of u16 behind a two-byte length (supported_groups,
    /// signature_algorithms).
    pub fn list(&self, typ: u16) -> Vec<u16> {
        self.extension(typ)
            .and_then(|b| b.get(2..))
            .map(u16s)
            .unwrap_or_default()
    }
}

fn u16s(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

fn invalid(what: &'static str, detail: &str) -> WireError {
    WireError::Invalid {
        what,
        detail: detail.to_owned(),
    }
}

/// Extensions RFC 8446 4.2 defines for ClientHello, plus those later RFCs define for TLS 1.3.
const TLS13_CLIENT_HELLO_EXTENSIONS: &[u16] = &[
    0, 1, 5, 10, 13, 14, 15, 16, 18, 19, 20, 21, 27, 28, 41, 42, 43, 44, 45, 47, 49, 50, 51,
];

/// Every rule the hello breaks.
pub fn violations(h: &HelloView) -> Vec<&'static Rule> {
    let mut out: Vec<&'static Rule> = Vec::new();
    let mut broke = |r: &'static Rule| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    let offered = h.offered();
    let tls13 = offered.contains(&0x0304);
    let tls13_only = tls13 && offered.iter().all(|v| *v >= 0x0304);
    let highest = offered.iter().copied().max().unwrap_or(h.version);
    let has = |typ: u16| h.extension(typ).is_some();
    if tls13 && (h.version != 0x0303 || !has(ext::SUPPORTED_VERSIONS)) {
        broke(&TLS13_LEGACY_VERSION);
    }
    if tls13_only
        && h.list(ext::SUPPORTED_GROUPS)
            .into_iter()
            .any(obsolete_in_tls13_group)
    {
        broke(&TLS13_OBSOLETE_GROUP);
    }
    if tls13_only
        && h.list(ext::SIGNATURE_ALGORITHMS)
            .into_iter()
            .any(obsolete_in_tls13_sigalg)
    {
        broke(&TLS13_OBSOLETE_SIGNATURE_SCHEME);
    }
    if tls13
        && ![
            ext::SUPPORTED_VERSIONS,
            ext::SIGNATURE_ALGORITHMS,
            ext::SUPPORTED_GROUPS,
            ext::KEY_SHARE,
        ]
        .into_iter()
        .all(has)
    {
        broke(&TLS13_MANDATORY_EXTENSIONS);
    }
    if tls13_only
        && h.extensions
            .iter()
            .any(|(t, _)| !TLS13_CLIENT_HELLO_EXTENSIONS.contains(t))
    {
        broke(&TLS13_EXTENSION_NOT_ALLOWED);
    }
    if tls13 && h.compression_methods != [0] {
        broke(&TLS13_NULL_COMPRESSION);
    }
    if let Some(shares) = h.extension(ext::KEY_SHARE).and_then(|b| b.get(2..)) {
        let groups = h.list(ext::SUPPORTED_GROUPS);
        let mut r = Reader::new(shares);
        while !r.is_empty() {
            match (r.u16("group"), r.vec_u16("key")) {
                (Ok(g), Ok(_)) if groups.contains(&g) => {}
                _ => {
                    broke(&KEY_SHARE_IN_GROUPS);
                    break;
                }
            }
        }
    }
    if highest < 0x0303 && has(ext::SIGNATURE_ALGORITHMS) {
        broke(&SIGNATURE_ALGORITHMS_BEFORE_TLS12);
    }
    let mut seen = Vec::new();
    for (t, _) in &h.extensions {
        if seen.contains(t) {
            broke(&EXTENSION_ONCE);
        }
        seen.push(*t);
    }
    if h.cipher_suites.is_empty() || !h.compression_methods.contains(&0) {
        broke(&SUITES_AND_NULL_COMPRESSION);
    }
    if let Some(name) = h.extension(ext::SERVER_NAME).and_then(|b| b.get(5..)) {
        if String::from_utf8_lossy(name)
            .parse::<std::net::IpAddr>()
            .is_ok()
        {
            broke(&SNI_HOST_NAME);
        }
    }
    out
}

/// The rules an SSL 2.0 CLIENT-HELLO record breaks.
pub fn sslv2_violations(bytes: &[u8]) -> Vec<&'static Rule> {
    let ok = (|| -> Result<bool, WireError> {
        let mut r = Reader::new(bytes);
        let len = usize::from(r.u16("SSL 2.0 record header")? & 0x7FFF);
        let mut m = Reader::new(r.take(len, "SSL 2.0 record")?);
        r.finish("SSL 2.0 record")?;
        let typ = m.u8("message type")?;
        let version = m.u16("version")?;
        let specs = usize::from(m.u16("cipher specs length")?);
        let session = usize::from(m.u16("session id length")?);
        let challenge = usize::from(m.u16("challenge length")?);
        m.take(specs + session + challenge, "SSL 2.0 CLIENT-HELLO")?;
        m.finish("SSL 2.0 CLIENT-HELLO")?;
        Ok(typ == 1
            && version == 0x0002
            && specs > 0
            && specs % 3 == 0
            && (16..=32).contains(&challenge))
    })();
    if ok == Ok(true) {
        Vec::new()
    } else {
        vec![&SSLV2_CLIENT_HELLO]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::client_hello::{sslv2_client_hello, ClientHello, Extension};

    fn tls13_hello(groups: Vec<u16>, extra: Vec<Extension>) -> HelloView {
        let mut extensions = vec![
            Extension::SupportedGroups(groups),
            Extension::SignatureAlgorithms(vec![0x0804, 0x0403]),
            Extension::SupportedVersions(vec![0x0304]),
            Extension::KeyShare(Vec::new()),
        ];
        extensions.extend(extra);
        let bytes = ClientHello {
            record_version: 0x0301,
            version: 0x0303,
            random: [1; 32],
            session_id: vec![2; 32],
            cipher_suites: vec![0x1301],
            compression_methods: vec![0],
            extensions: Some(extensions),
        }
        .encode();
        match HelloView::parse_record(&bytes) {
            Ok(h) => h,
            Err(e) => panic!("{e}"),
        }
    }

    fn ids(h: &HelloView) -> Vec<&'static str> {
        violations(h).iter().map(|r| r.id).collect()
    }

    #[test]
    fn a_good_tls13_hello_breaks_nothing_and_each_fault_is_named() {
        assert!(ids(&tls13_hello(vec![23, 29], vec![])).is_empty());
        assert_eq!(
            ids(&tls13_hello(vec![23, 21], vec![])),
            ["tls13-obsolete-group"]
        );
        assert_eq!(
            ids(&tls13_hello(vec![23], vec![Extension::RenegotiationInfo])),
            ["tls13-extension-not-allowed"]
        );
        assert_eq!(
            ids(&tls13_hello(
                vec![23],
                vec![Extension::ServerName("127.0.0.1".into())]
            )),
            ["sni-host-name"]
        );
        let mut twice = tls13_hello(vec![23], vec![]);
        twice.extensions.push((ext::KEY_SHARE, vec![0, 0]));
        assert_eq!(ids(&twice), ["extension-once"]);
    }

    #[test]
    fn code_point_ranges_follow_rfc_8446() {
        assert!(obsolete_in_tls13_group(21) && obsolete_in_tls13_group(26));
        assert!(!obsolete_in_tls13_group(23) && !obsolete_in_tls13_group(0x11EC));
        assert!(obsolete_in_tls13_sigalg(0x0101) && obsolete_in_tls13_sigalg(0x0202));
        assert!(!obsolete_in_tls13_sigalg(0x0201) && !obsolete_in_tls13_sigalg(0x0804));
    }

    #[test]
    fn sslv2_hellos_are_checked() {
        assert!(sslv2_violations(&sslv2_client_hello(&[0x0700C0], &[7; 16])).is_empty());
        assert!(!sslv2_violations(&[0x80, 3, 1, 0, 2]).is_empty());
    }
}
