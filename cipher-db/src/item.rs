//! A uniform view of any algorithm, so that one policy engine judges them all.
use crate::ssh::{self, SshAlgorithm, SshKind};
use crate::tls::{self, CipherSuite, NamedGroup, SignatureScheme, Sslv2Cipher, TlsVersion};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of algorithm an item is.
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
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A TLS or SSL protocol version.
    TlsVersion,
    /// A TLS cipher suite.
    TlsSuite,
    /// An SSL 2.0 cipher spec.
    Sslv2Cipher,
    /// A supported_groups entry.
    TlsGroup,
    /// A signature scheme.
    TlsSigalg,
    /// An SSH key exchange method.
    SshKex,
    /// An SSH host key or signature algorithm.
    SshHostkey,
    /// An SSH cipher.
    SshCipher,
    /// An SSH MAC.
    SshMac,
    /// An SSH compression method.
    SshCompression,
    /// A public key (certificate or host key), named by type and curve.
    Key,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 11] = [
        Self::TlsVersion,
        Self::TlsSuite,
        Self::Sslv2Cipher,
        Self::TlsGroup,
        Self::TlsSigalg,
        Self::SshKex,
        Self::SshHostkey,
        Self::SshCipher,
        Self::SshMac,
        Self::SshCompression,
        Self::Key,
    ];

    /// The spelling in policies, reports and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TlsVersion => "tls-version",
            Self::TlsSuite => "tls-suite",
            Self::Sslv2Cipher => "sslv2-cipher",
            Self::TlsGroup => "tls-group",
            Self::TlsSigalg => "tls-sigalg",
            Self::SshKex => "ssh-kex",
            Self::SshHostkey => "ssh-hostkey",
            Self::SshCipher => "ssh-cipher",
            Self::SshMac => "ssh-mac",
            Self::SshCompression => "ssh-compression",
            Self::Key => "key",
        }
    }

    /// Parses the spelling of [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The components a policy judges for this kind; the worst of them decides.
    pub fn judged_components(self) -> &'static [&'static str] {
        match self {
            Self::TlsSuite => &["kx", "auth", "enc", "mode", "mac", "export"],
            Self::Sslv2Cipher => &["enc", "mac", "export"],
            Self::TlsSigalg => &["sig", "hash", "curve"],
            Self::SshKex => &["family", "param", "hash"],
            Self::SshHostkey => &["family", "param", "hash"],
            Self::SshCipher => &["family", "mode"],
            Self::SshMac => &["family", "hash", "truncated"],
            Self::Key => &["key", "curve"],
            Self::TlsVersion | Self::TlsGroup | Self::SshCompression => &[],
        }
    }

    /// The SSH list this kind is, if it is one.
    pub fn ssh_kind(self) -> Option<SshKind> {
        match self {
            Self::SshKex => Some(SshKind::Kex),
            Self::SshHostkey => Some(SshKind::HostKey),
            Self::SshCipher => Some(SshKind::Cipher),
            Self::SshMac => Some(SshKind::Mac),
            Self::SshCompression => Some(SshKind::Compression),
            _ => None,
        }
    }

    /// The kind of an SSH list.
    pub fn of_ssh(kind: SshKind) -> Self {
        match kind {
            SshKind::Kex => Self::SshKex,
            SshKind::HostKey => Self::SshHostkey,
            SshKind::Cipher => Self::SshCipher,
            SshKind::Mac => Self::SshMac,
            SshKind::Compression => Self::SshCompression,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One algorithm of any kind, with its names and components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Item {
    /// Its kind.
    pub kind: Kind,
    /// Canonical name: IANA for TLS, the wire name for SSH.
    pub name: String,
    /// Wire code point, for TLS items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// Other names (OpenSSL, NIST).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Components as (name, value); empty values are left out.
    pub components: Vec<(&'static str, String)>,
    /// Whether cipher-db knows it. Unknown items are kept and judged `unknown`.
    pub known: bool,
}

impl Item {
    fn new(
        kind: Kind,
        name: &str,
        code: Option<u32>,
        aliases: Vec<String>,
        components: Vec<(&'static str, String)>,
    ) -> Self {
        let components = components
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        Self {
            kind,
            name: name.to_owned(),
            code,
            aliases,
            components,
            known: true,
        }
    }

    /// An item cipher-db does not know: kept so that reports show it.
    pub fn unknown(kind: Kind, name: &str, code: Option<u32>) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            code,
            aliases: Vec::new(),
            components: Vec::new(),
            known: false,
        }
    }

    /// The value of a component.
    pub fn component(&self, name: &str) -> Option<&str> {
        self.components
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every name it goes by.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// `0xC02F` for TLS items.
    pub fn code_hex(&self) -> Option<String> {
        self.code.map(|c| match self.kind {
            Kind::Sslv2Cipher => format!("0x{c:06X}"),
            _ => format!("0x{c:04X}"),
        })
    }

    /// A TLS protocol version.
    pub fn version(v: TlsVersion) -> Self {
        Self::new(
            Kind::TlsVersion,
            v.as_str(),
            Some(u32::from(v.wire())),
            vec![v.display_name().to_owned()],
            vec![],
        )
    }

    /// A TLS cipher suite.
    pub fn suite(s: &CipherSuite) -> Self {
        let mut aliases = Vec::new();
        if !s.openssl.is_empty() && s.openssl != s.iana {
            aliases.push(s.openssl.to_owned());
        }
        let export = if s.export_bits > 0 {
            s.export_bits.to_string()
        } else {
            String::new()
        };
        Self::new(
            Kind::TlsSuite,
            s.iana,
            Some(u32::from(s.code)),
            aliases,
            vec![
                ("kx", s.kx.to_owned()),
                ("auth", s.auth.to_owned()),
                ("enc", s.enc.to_owned()),
                ("bits", s.bits.to_string()),
                ("mode", s.mode.to_owned()),
                ("mac", s.mac.to_owned()),
                ("prf", s.prf.to_owned()),
                ("export", export),
                ("min_version", s.min_version.to_owned()),
            ],
        )
    }

    /// A TLS cipher suite by code, unknown codes kept.
    pub fn suite_code(code: u16) -> Self {
        match tls::suite_by_code(code) {
            Some(s) => Self::suite(s),
            None => Self::unknown(
                Kind::TlsSuite,
                &format!("0x{code:04X}"),
                Some(u32::from(code)),
            ),
        }
    }

    /// An SSL 2.0 cipher spec.
    pub fn sslv2(c: &Sslv2Cipher) -> Self {
        let export = if c.export_bits > 0 {
            c.export_bits.to_string()
        } else {
            String::new()
        };
        Self::new(
            Kind::Sslv2Cipher,
            c.name,
            Some(c.code),
            vec![c.openssl.to_owned()],
            vec![
                ("enc", c.enc.to_owned()),
                ("bits", c.bits.to_string()),
                ("mode", c.mode.to_owned()),
                ("mac", c.mac.to_owned()),
                ("export", export),
            ],
        )
    }

    /// An SSL 2.0 cipher spec by code, unknown codes kept.
    pub fn sslv2_code(code: u32) -> Self {
        match tls::sslv2_ciphers().iter().find(|c| c.code == code) {
            Some(c) => Self::sslv2(c),
            None => Self::unknown(Kind::Sslv2Cipher, &format!("0x{code:06X}"), Some(code)),
        }
    }

    /// A supported group.
    pub fn group(g: &NamedGroup) -> Self {
        let aliases = g.aliases.iter().map(|a| (*a).to_owned()).collect();
        Self::new(
            Kind::TlsGroup,
            g.name,
            Some(u32::from(g.code)),
            aliases,
            vec![
                ("family", g.family.to_owned()),
                ("bits", g.bits.to_string()),
            ],
        )
    }

    /// A supported group by code, unknown codes kept.
    pub fn group_code(code: u16) -> Self {
        match tls::group_by_code(code) {
            Some(g) => Self::group(g),
            None => Self::unknown(
                Kind::TlsGroup,
                &format!("0x{code:04X}"),
                Some(u32::from(code)),
            ),
        }
    }

    /// A signature scheme.
    pub fn sigalg(s: &SignatureScheme) -> Self {
        Self::new(
            Kind::TlsSigalg,
            s.name,
            Some(u32::from(s.code)),
            vec![],
            vec![
                ("sig", s.sig.to_owned()),
                ("hash", s.hash.to_owned()),
                ("curve", s.curve.to_owned()),
            ],
        )
    }

    /// A signature scheme by code, unknown codes kept.
    pub fn sigalg_code(code: u16) -> Self {
        match tls::sigalg_by_code(code) {
            Some(s) => Self::sigalg(s),
            None => Self::unknown(
                Kind::TlsSigalg,
                &format!("0x{code:04X}"),
                Some(u32::from(code)),
            ),
        }
    }

    /// An SSH algorithm.
    pub fn ssh(a: &SshAlgorithm) -> Self {
        let mut components = vec![
            ("family", a.family.to_owned()),
            ("param", a.param.to_owned()),
            ("hash", a.hash.to_owned()),
            (
                "bits",
                if a.bits > 0 {
                    a.bits.to_string()
                } else {
                    String::new()
                },
            ),
            ("mode", a.mode.to_owned()),
        ];
        for flag in a.flags {
            let name: &'static str = match *flag {
                "etm" => "etm",
                "cert" => "cert",
                "sk" => "sk",
                "truncated" => "truncated",
                _ => "x509",
            };
            components.push((name, "yes".to_owned()));
        }
        Self::new(Kind::of_ssh(a.kind), a.name, None, vec![], components)
    }

    /// An SSH name of a given list, unknown names kept.
    pub fn ssh_name(kind: SshKind, name: &str) -> Self {
        match ssh::find(kind, name) {
            Some(a) => Self::ssh(a),
            None => Self::unknown(Kind::of_ssh(kind), name, None),
        }
    }

    /// A public key: `key` is rsa, dsa, ec, ed25519 or ed448; `curve` is a TLS group name for EC.
    pub fn key(key: &str, curve: Option<&str>, bits: u32) -> Self {
        let name = match curve {
            Some(c) => format!("{key}-{c}"),
            None => key.to_owned(),
        };
        Self::new(
            Kind::Key,
            &name,
            None,
            vec![],
            vec![
                ("key", key.to_owned()),
                ("curve", curve.unwrap_or_default().to_owned()),
                ("bits", bits.to_string()),
            ],
        )
    }

    /// Every known item of a kind (keys are made from observations, so none are listed).
    pub fn all_of(kind: Kind) -> Vec<Item> {
        match kind {
            Kind::TlsVersion => TlsVersion::ALL.into_iter().map(Self::version).collect(),
            Kind::TlsSuite => tls::cipher_suites().iter().map(Self::suite).collect(),
            Kind::Sslv2Cipher => tls::sslv2_ciphers().iter().map(Self::sslv2).collect(),
            Kind::TlsGroup => tls::named_groups().iter().map(Self::group).collect(),
            Kind::TlsSigalg => tls::signature_schemes().iter().map(Self::sigalg).collect(),
            Kind::SshKex
            | Kind::SshHostkey
            | Kind::SshCipher
            | Kind::SshMac
            | Kind::SshCompression => ssh::algorithms()
                .iter()
                .filter(|a| Some(a.kind) == kind.ssh_kind())
                .map(Self::ssh)
                .collect(),
            Kind::Key => Vec::new(),
        }
    }

    /// Every known item that a name, alias or code denotes, in any kind (or only in `kind`).
    /// A code such as `0x0017` can be both a suite and a group; all matches are returned.
    pub fn lookup(text: &str, kind: Option<Kind>) -> Vec<Item> {
        let text = text.trim();
        let wanted = |k: Kind| kind.is_none_or(|w| w == k);
        let mut found = Vec::new();
        if let Some(code) = tls::parse_code(text) {
            if let Ok(c16) = u16::try_from(code) {
                if wanted(Kind::TlsSuite) {
                    found.extend(tls::suite_by_code(c16).map(Self::suite));
                }
                if wanted(Kind::TlsVersion) && kind.is_some() {
                    found.extend(TlsVersion::from_wire(c16).map(Self::version));
                }
                if wanted(Kind::TlsGroup) && kind.is_some() {
                    found.extend(tls::group_by_code(c16).map(Self::group));
                }
                if wanted(Kind::TlsSigalg) && kind.is_some() {
                    found.extend(tls::sigalg_by_code(c16).map(Self::sigalg));
                }
            } else if wanted(Kind::Sslv2Cipher) {
                found.extend(
                    tls::sslv2_ciphers()
                        .iter()
                        .filter(|c| c.code == code)
                        .map(Self::sslv2),
                );
            }
            return found;
        }
        if wanted(Kind::TlsVersion) {
            found.extend(TlsVersion::parse(text).map(Self::version));
        }
        if wanted(Kind::TlsSuite) {
            found.extend(tls::suite_by_name(text).map(Self::suite));
        }
        if wanted(Kind::Sslv2Cipher) {
            found.extend(
                tls::sslv2_ciphers()
                    .iter()
                    .filter(|c| c.name == text)
                    .map(Self::sslv2),
            );
        }
        if wanted(Kind::TlsGroup) {
            found.extend(tls::group_by_name(text).map(Self::group));
        }
        if wanted(Kind::TlsSigalg) {
            found.extend(tls::sigalg_by_name(text).map(Self::sigalg));
        }
        found.extend(
            ssh::algorithms()
                .iter()
                .filter(|a| a.name == text && wanted(Kind::of_ssh(a.kind)))
                .map(Self::ssh),
        );
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_every_spelling() {
        let by_openssl = Item::lookup("DES-CBC3-SHA", None);
        assert_eq!(by_openssl.len(), 1);
        assert_eq!(by_openssl[0].name, "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
        assert_eq!(
            Item::lookup("0x000A", None)[0].component("enc"),
            Some("3DES")
        );
        let none: Vec<Kind> = Item::lookup("none", None).iter().map(|i| i.kind).collect();
        assert_eq!(
            none,
            vec![Kind::SshCipher, Kind::SshMac, Kind::SshCompression]
        );
        assert_eq!(
            Item::lookup("0x0017", Some(Kind::TlsGroup))[0].name,
            "secp256r1"
        );
        assert_eq!(Item::lookup("0x0700C0", None)[0].kind, Kind::Sslv2Cipher);
        assert!(Item::lookup("no-such-thing", None).is_empty());
    }

    #[test]
    fn unknown_codes_are_kept() {
        let i = Item::suite_code(0x0A0B);
        assert!(!i.known);
        assert_eq!(i.name, "0x0A0B");
    }
}
