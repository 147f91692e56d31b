//! TLS code points: protocol versions, cipher suites with their components, SSL 2.0 cipher
//! specs, supported groups and signature schemes.
use serde::{Deserialize, Serialize};
use std::fmt;

/// A TLS or SSL protocol version.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum TlsVersion {
    /// SSL 2.0.
    #[serde(rename = "ssl2")]
    Ssl2,
    /// SSL 3.0.
    #[serde(rename = "ssl3")]
    Ssl3,
    /// TLS 1.0.
    #[serde(rename = "tls1.0")]
    Tls10,
    /// TLS 1.1.
    #[serde(rename = "tls1.1")]
    Tls11,
    /// TLS 1.2.
    #[serde(rename = "tls1.2")]
    Tls12,
    /// TLS 1.3.
    #[serde(rename = "tls1.3")]
    Tls13,
}

impl TlsVersion {
    /// All versions, oldest first.
    pub const ALL: [TlsVersion; 6] = [
        Self::Ssl2,
        Self::Ssl3,
        Self::Tls10,
        Self::Tls11,
        Self::Tls12,
        Self::Tls13,
    ];

    /// The report spelling (`tls1.2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ssl2 => "ssl2",
            Self::Ssl3 => "ssl3",
            Self::Tls10 => "tls1.0",
            Self::Tls11 => "tls1.1",
            Self::Tls12 => "tls1.2",
            Self::Tls13 => "tls1.3",
        }
    }

    /// The human spelling (`TLS 1.2`).
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Ssl2 => "SSL 2.0",
            Self::Ssl3 => "SSL 3.0",
            Self::Tls10 => "TLS 1.0",
            Self::Tls11 => "TLS 1.1",
            Self::Tls12 => "TLS 1.2",
            Self::Tls13 => "TLS 1.3",
        }
    }

    /// The wire value (SSL 2.0 uses 0x0002 in its own hello).
    pub fn wire(self) -> u16 {
        match self {
            Self::Ssl2 => 0x0002,
            Self::Ssl3 => 0x0300,
            Self::Tls10 => 0x0301,
            Self::Tls11 => 0x0302,
            Self::Tls12 => 0x0303,
            Self::Tls13 => 0x0304,
        }
    }

    /// The version with this wire value.
    pub fn from_wire(v: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.wire() == v)
    }

    /// Parses `tls1.2`, `TLSv1.2`, `TLS 1.2`, `tls12`, `SSLv3`, `0x0303` and similar.
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(code) = parse_code(s) {
            return u16::try_from(code).ok().and_then(Self::from_wire);
        }
        let norm: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '_' | '-'))
            .collect::<String>()
            .to_ascii_lowercase()
            .replace('v', "");
        match norm.as_str() {
            "ssl2" | "ssl20" => Some(Self::Ssl2),
            "ssl3" | "ssl30" => Some(Self::Ssl3),
            "tls1" | "tls10" => Some(Self::Tls10),
            "tls11" => Some(Self::Tls11),
            "tls12" => Some(Self::Tls12),
            "tls13" => Some(Self::Tls13),
            _ => None,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TLS cipher suite and its components, as IANA names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CipherSuite {
    /// Two-byte code point.
    pub code: u16,
    /// IANA name (for codes IANA never assigned, the name deployed software uses).
    pub iana: &'static str,
    /// OpenSSL name, empty when OpenSSL never had one.
    pub openssl: &'static str,
    /// Key exchange: RSA, DHE, ECDHE, DH, ECDH, PSK, DHE_PSK, RSA_PSK, ECDHE_PSK, SRP, KRB5,
    /// ECCPWD, GOST, CECPQ1, NULL; ANY for TLS 1.3.
    pub kx: &'static str,
    /// Authentication: RSA, DSS, ECDSA, PSK, SRP, KRB5, ECCPWD, GOST, anon, NULL; ANY for TLS 1.3.
    pub auth: &'static str,
    /// Bulk cipher family: AES, 3DES, CHACHA20, CAMELLIA, ARIA, RC4, NULL …
    pub enc: &'static str,
    /// Key bits of the bulk cipher (168 for 3DES, 0 for NULL).
    pub bits: u32,
    /// Cipher mode: CBC, GCM, CCM, CCM_8, POLY1305, STREAM, CTR, CNT, MGM_L, MGM_S, AEGIS, NONE.
    pub mode: &'static str,
    /// Record MAC: SHA1, SHA256, SHA384, MD5, AEAD, NULL …
    pub mac: &'static str,
    /// Handshake PRF hash, empty for the version's default.
    pub prf: &'static str,
    /// First protocol version the suite exists in.
    pub min_version: &'static str,
    /// 40 or 56 for EXPORT suites, else 0.
    pub export_bits: u32,
    /// Whether IANA registered the code (false for widely deployed unofficial codes).
    pub iana_registered: bool,
}

impl CipherSuite {
    /// `0xC02F`.
    pub fn code_hex(&self) -> String {
        format!("0x{:04X}", self.code)
    }

    /// Whether the suite only exists in TLS 1.3 (key exchange negotiated separately).
    pub fn is_tls13(&self) -> bool {
        self.kx == "ANY"
    }

    /// Whether integrity comes from the cipher mode.
    pub fn is_aead(&self) -> bool {
        self.mac == "AEAD"
    }
}

/// Every known cipher suite, by code.
pub fn cipher_suites() -> &'static [CipherSuite] {
    crate::data::CIPHER_SUITES
}

/// The suite with this code.
pub fn suite_by_code(code: u16) -> Option<&'static CipherSuite> {
    cipher_suites().iter().find(|s| s.code == code)
}

/// The suite with this IANA name (or its `SSL_` spelling used by Java) or OpenSSL name.
pub fn suite_by_name(name: &str) -> Option<&'static CipherSuite> {
    let name = name.trim();
    let tls_spelling = name.strip_prefix("SSL_").map(|rest| format!("TLS_{rest}"));
    cipher_suites().iter().find(|s| {
        s.iana.eq_ignore_ascii_case(name)
            || (!s.openssl.is_empty() && s.openssl == name)
            || tls_spelling
                .as_deref()
                .is_some_and(|t| s.iana.eq_ignore_ascii_case(t))
    })
}

/// Signalling cipher suite values: sent in cipher lists, never negotiated.
pub const SIGNALLING_SUITES: [(u16, &str); 2] = [
    (0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
    (0x5600, "TLS_FALLBACK_SCSV"),
];

/// Whether a two-byte code is a GREASE value (RFC 8701): 0x0A0A, 0x1A1A, … 0xFAFA.
pub fn is_grease(code: u16) -> bool {
    code & 0x0F0F == 0x0A0A && code >> 8 == code & 0xFF
}

/// An SSL 2.0 cipher spec (three-byte code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Sslv2Cipher {
    /// Three-byte code, such as 0x0700C0.
    pub code: u32,
    /// Name in the SSL 2.0 draft (`SSL_CK_…`).
    pub name: &'static str,
    /// OpenSSL name.
    pub openssl: &'static str,
    /// Bulk cipher family.
    pub enc: &'static str,
    /// Key bits.
    pub bits: u32,
    /// Cipher mode.
    pub mode: &'static str,
    /// MAC hash.
    pub mac: &'static str,
    /// 40 for EXPORT specs, else 0.
    pub export_bits: u32,
}

/// Every SSL 2.0 cipher spec.
pub fn sslv2_ciphers() -> &'static [Sslv2Cipher] {
    crate::data::SSLV2_CIPHERS
}

/// A supported_groups entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct NamedGroup {
    /// Two-byte code point.
    pub code: u16,
    /// IANA name.
    pub name: &'static str,
    /// ec-prime, ec-koblitz, ec-binary, montgomery, brainpool, gost, sm2, ffdhe, mlkem, hybrid,
    /// kyber-draft, explicit.
    pub family: &'static str,
    /// Classical security strength in bits.
    pub bits: u32,
    /// Other spellings (NIST, OpenSSL).
    pub aliases: &'static [&'static str],
}

/// Every known group.
pub fn named_groups() -> &'static [NamedGroup] {
    crate::data::NAMED_GROUPS
}

impl NamedGroup {
    /// Whether the group's key establishment resists a quantum adversary: ML-KEM (FIPS 203),
    /// alone or in a hybrid. The pre-standard Kyber drafts are not counted.
    pub fn is_quantum_safe(&self) -> bool {
        matches!(self.family, "mlkem" | "hybrid")
    }
}

/// The group with this code.
pub fn group_by_code(code: u16) -> Option<&'static NamedGroup> {
    named_groups().iter().find(|g| g.code == code)
}

/// The group with this name or alias (case-insensitive).
pub fn group_by_name(name: &str) -> Option<&'static NamedGroup> {
    named_groups().iter().find(|g| {
        g.name.eq_ignore_ascii_case(name) || g.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// A TLS signature scheme (TLS 1.3 SignatureScheme, or a TLS 1.2 hash/signature pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SignatureScheme {
    /// Two-byte code point.
    pub code: u16,
    /// IANA name.
    pub name: &'static str,
    /// rsa-pkcs1, rsa-pss-rsae, rsa-pss-pss, ecdsa, eddsa, dsa, mldsa, sm2, gost …
    pub sig: &'static str,
    /// Hash: MD5, SHA1, SHA224, SHA256, SHA384, SHA512 …
    pub hash: &'static str,
    /// Curve bound to the scheme, if any.
    pub curve: &'static str,
}

/// Every known signature scheme.
pub fn signature_schemes() -> &'static [SignatureScheme] {
    crate::data::SIGNATURE_SCHEMES
}

/// The scheme with this code.
pub fn sigalg_by_code(code: u16) -> Option<&'static SignatureScheme> {
    signature_schemes().iter().find(|s| s.code == code)
}

/// The scheme with this name (case-insensitive).
pub fn sigalg_by_name(name: &str) -> Option<&'static SignatureScheme> {
    signature_schemes()
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
}

/// A named finite-field DH group (RFC 7919 ffdhe*, RFC 3526 MODP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DhGroup {
    /// `ffdhe2048`, `modp2048` …
    pub name: &'static str,
    /// Prime size in bits.
    pub bits: u32,
    /// The prime, big-endian, without leading zeros.
    #[serde(skip)]
    pub prime: &'static [u8],
}

/// Every named DH group.
pub fn dh_groups() -> &'static [DhGroup] {
    crate::data::DH_GROUPS
}

/// The named group whose prime this is (leading zero bytes ignored).
pub fn dh_group_by_prime(prime: &[u8]) -> Option<&'static DhGroup> {
    let start = prime.iter().position(|b| *b != 0).unwrap_or(prime.len());
    let prime = &prime[start..];
    dh_groups().iter().find(|g| g.prime == prime)
}

/// Parses a code written as `0xC02F`, `C02F`, `0xC0,0x2F` or `C0,2F`.
pub fn parse_code(s: &str) -> Option<u32> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let strip = |p: &str| {
        p.strip_prefix("0x")
            .or_else(|| p.strip_prefix("0X"))
            .unwrap_or(p)
            .to_owned()
    };
    let hex: String = if parts.len() > 1 {
        let bytes: Vec<String> = parts.iter().map(|p| strip(p)).collect();
        if bytes.iter().any(|b| b.is_empty() || b.len() > 2) {
            return None;
        }
        bytes.iter().map(|b| format!("{b:0>2}")).collect()
    } else {
        if !(s.starts_with("0x") || s.starts_with("0X")) {
            return None;
        }
        strip(s)
    };
    if hex.is_empty() || hex.len() > 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(&hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique() {
        let mut codes: Vec<u16> = cipher_suites().iter().map(|s| s.code).collect();
        codes.dedup();
        assert_eq!(
            codes.len(),
            cipher_suites().len(),
            "suites must be sorted and unique"
        );
        for s in cipher_suites() {
            assert_eq!(
                suite_by_name(s.iana).map(|x| x.code),
                Some(s.code),
                "{}",
                s.iana
            );
            if !s.openssl.is_empty() {
                assert_eq!(
                    suite_by_name(s.openssl).map(|x| x.code),
                    Some(s.code),
                    "{}",
                    s.openssl
                );
            }
        }
    }

    #[test]
    fn components_of_well_known_suites() {
        let s = suite_by_name("ECDHE-RSA-AES128-GCM-SHA256")
            .map(|s| (s.code, s.kx, s.auth, s.enc, s.bits, s.mode));
        assert_eq!(s, Some((0xC02F, "ECDHE", "RSA", "AES", 128, "GCM")));
        let s = suite_by_name("SSL_RSA_WITH_3DES_EDE_CBC_SHA").map(|s| (s.code, s.openssl, s.mac));
        assert_eq!(s, Some((0x000A, "DES-CBC3-SHA", "SHA1")));
        let s = suite_by_code(0x1303).map(|s| (s.kx, s.enc, s.mode, s.is_tls13()));
        assert_eq!(s, Some(("ANY", "CHACHA20", "POLY1305", true)));
        assert_eq!(suite_by_code(0x0003).map(|s| s.export_bits), Some(40));
    }

    #[test]
    fn versions_parse_in_every_spelling() {
        for (s, v) in [
            ("TLSv1.2", TlsVersion::Tls12),
            ("tls1.0", TlsVersion::Tls10),
            ("TLS 1.3", TlsVersion::Tls13),
            ("SSLv3", TlsVersion::Ssl3),
            ("0x0302", TlsVersion::Tls11),
            ("ssl2", TlsVersion::Ssl2),
            ("TLSv1", TlsVersion::Tls10),
        ] {
            assert_eq!(TlsVersion::parse(s), Some(v), "{s}");
        }
        assert_eq!(TlsVersion::parse("tls1.4"), None);
    }

    #[test]
    fn code_spellings() {
        assert_eq!(parse_code("0xC02F"), Some(0xC02F));
        assert_eq!(parse_code("0xC0,0x2F"), Some(0xC02F));
        assert_eq!(parse_code("C0,2F"), Some(0xC02F));
        assert_eq!(parse_code("0x07,0x00,0xC0"), Some(0x0700C0));
        assert_eq!(parse_code("C02F"), None);
        assert_eq!(parse_code("0x"), None);
        assert_eq!(parse_code("0x1234567"), None);
    }

    #[test]
    fn grease_and_groups() {
        assert!(is_grease(0x0A0A) && is_grease(0xFAFA) && !is_grease(0x0A1A) && !is_grease(0x1301));
        assert_eq!(group_by_name("P-256").map(|g| g.code), Some(23));
        assert_eq!(
            group_by_code(0x11EC).map(|g| g.name),
            Some("X25519MLKEM768")
        );
        assert_eq!(
            sigalg_by_code(0x0804).map(|s| s.name),
            Some("rsa_pss_rsae_sha256")
        );
    }

    #[test]
    fn dh_primes_are_recognised_with_leading_zeros() {
        let g = dh_groups()
            .iter()
            .find(|g| g.name == "ffdhe2048")
            .map(|g| g.prime.to_vec())
            .unwrap_or_default();
        assert_eq!(g.len(), 256);
        let mut padded = vec![0u8];
        padded.extend(&g);
        assert_eq!(
            dh_group_by_prime(&padded).map(|g| g.name),
            Some("ffdhe2048")
        );
        let mut other = g.clone();
        other[100] ^= 1;
        assert!(dh_group_by_prime(&other).is_none());
    }
}
