//! What a TLS probe observed, in wire terms, with no judgement (the `tls` object of reports).
use fipsgate_cipher_db::assess::{
    DhParams, PublicKey, TlsFeatures as OfferFeatures, TlsOffer, VersionOffer,
};
use fipsgate_cipher_db::tls::{self, TlsVersion};
use serde::{Deserialize, Serialize};

/// A cipher suite as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SuiteRef {
    /// `0xC02F` (SSL 2.0 specs: `0x0700C0`).
    pub code: String,
    /// IANA name (or the hex code when cipher-db does not know it).
    pub iana: String,
    /// OpenSSL name, when there is one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub openssl: String,
}

impl SuiteRef {
    /// The reference for a TLS suite code.
    pub fn tls(code: u16) -> Self {
        match tls::suite_by_code(code) {
            Some(s) => Self {
                code: s.code_hex(),
                iana: s.iana.to_owned(),
                openssl: s.openssl.to_owned(),
            },
            None => Self {
                code: format!("0x{code:04X}"),
                iana: format!("0x{code:04X}"),
                openssl: String::new(),
            },
        }
    }

    /// The reference for an SSL 2.0 cipher spec.
    pub fn sslv2(code: u32) -> Self {
        match tls::sslv2_ciphers().iter().find(|c| c.code == code) {
            Some(c) => Self {
                code: format!("0x{code:06X}"),
                iana: c.name.to_owned(),
                openssl: c.openssl.to_owned(),
            },
            None => Self {
                code: format!("0x{code:06X}"),
                iana: format!("0x{code:06X}"),
                openssl: String::new(),
            },
        }
    }

    /// The numeric code.
    pub fn code_value(&self) -> Option<u32> {
        tls::parse_code(&self.code)
    }
}

/// A protocol version the server accepts, with its suites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VersionResult {
    /// The version.
    pub version: TlsVersion,
    /// Suites, in the server's order when `server_preference` is true.
    pub cipher_suites: Vec<SuiteRef>,
    /// Whether the server enforces its own order (null: fewer than two suites to tell).
    pub server_preference: Option<bool>,
}

/// A group or signature scheme as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CodeName {
    /// `0x0017`.
    pub code: String,
    /// IANA name (or the hex code when unknown).
    pub name: String,
}

impl CodeName {
    /// A supported group.
    pub fn group(code: u16) -> Self {
        Self {
            code: format!("0x{code:04X}"),
            name: tls::group_by_code(code).map_or(format!("0x{code:04X}"), |g| g.name.to_owned()),
        }
    }

    /// A signature scheme.
    pub fn sigalg(code: u16) -> Self {
        Self {
            code: format!("0x{code:04X}"),
            name: tls::sigalg_by_code(code).map_or(format!("0x{code:04X}"), |s| s.name.to_owned()),
        }
    }

    /// The numeric code.
    pub fn code_value(&self) -> Option<u16> {
        tls::parse_code(&self.code).and_then(|c| u16::try_from(c).ok())
    }
}

/// One certificate of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateInfo {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// DNS names and IP addresses of subjectAltName.
    pub sans: Vec<String>,
    /// notBefore, RFC 3339.
    pub not_before: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// rsa, ec, ed25519, ed448, dsa, or the key OID.
    pub key_type: String,
    /// Key size in bits.
    pub key_bits: u32,
    /// Curve of EC keys, as a TLS group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// Signature algorithm (OID name, e.g. sha256WithRSAEncryption).
    pub signature_algorithm: String,
    /// The same as a TLS signature scheme name, when it maps onto one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_scheme: Option<String>,
    /// Whether subject and issuer are the same (a trust anchor's self-signature is exempt).
    pub self_signed: bool,
    /// SHA-256 fingerprint of the DER, lower-case hex.
    pub sha256: String,
}

/// A certificate chain the server presented, leaf first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateChain {
    /// Key type of the leaf.
    pub key_type: String,
    /// Protocol version that carried it.
    pub version: TlsVersion,
    /// Certificates, leaf first.
    pub chain: Vec<CertificateInfo>,
}

/// DHE parameters the server used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DhInfo {
    /// Prime size in bits.
    pub bits: u32,
    /// The RFC 7919 / RFC 3526 group the prime equals, if any.
    pub named_group: Option<String>,
}

/// Protocol features (null: not tested or not applicable): the ones policies judge, and more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Features {
    /// Extended master secret, secure renegotiation, fallback SCSV, encrypt-then-MAC, OCSP
    /// stapling, compression, early data.
    #[serde(flatten)]
    pub judged: OfferFeatures,
    /// The server offers RFC 5077 session tickets.
    pub session_ticket: Option<bool>,
    /// A TLS 1.3 hello without a usable key share gets a HelloRetryRequest.
    pub hello_retry_request: Option<bool>,
    /// ALPN protocol chosen when offered h2 and http/1.1.
    pub alpn: Option<String>,
}

/// Everything a TLS probe saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsObservation {
    /// Versions the server accepts, oldest first.
    pub versions: Vec<VersionResult>,
    /// Groups accepted, in the server's order of choice.
    pub groups: Vec<CodeName>,
    /// Signature schemes the server signs with: TLS 1.2 ServerKeyExchange, or for servers
    /// without TLS 1.2, TLS 1.3 CertificateVerify.
    pub signature_schemes: Vec<CodeName>,
    /// Certificate chains, one per key type.
    pub certificates: Vec<CertificateChain>,
    /// DHE parameters.
    pub dh_params: Vec<DhInfo>,
    /// Protocol features.
    pub features: Features,
    /// Remarks on how the probe went (split hellos, partial results).
    pub notes: Vec<String>,
    /// Items the probe could not decide either way: never read as "not supported".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undetermined: Vec<Undetermined>,
}

/// The status of an item the probe could not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Neither established nor ruled out.
    Undetermined,
}

/// An item (a version, a feature) the probe could not decide, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Undetermined {
    /// What: `tls1.3`, a feature name.
    pub item: String,
    /// Always `undetermined`.
    pub status: ItemStatus,
    /// What happened.
    pub note: String,
}

impl Undetermined {
    /// An undetermined item, with what happened.
    pub fn new(item: impl Into<String>, note: String) -> Self {
        Self {
            item: item.into(),
            status: ItemStatus::Undetermined,
            note,
        }
    }
}

impl TlsObservation {
    /// Takes in what another probe of the same endpoint saw (one line of questions asked
    /// beside others): lists are appended, a chain, DH group, scheme or undetermined item only
    /// once, and features it decided fill those still open here.
    pub(crate) fn absorb(&mut self, other: TlsObservation) {
        fn once<T: PartialEq>(into: &mut Vec<T>, from: Vec<T>, same: impl Fn(&T, &T) -> bool) {
            for item in from {
                if !into.iter().any(|x| same(x, &item)) {
                    into.push(item);
                }
            }
        }
        self.versions.extend(other.versions);
        self.groups.extend(other.groups);
        once(
            &mut self.signature_schemes,
            other.signature_schemes,
            PartialEq::eq,
        );
        once(&mut self.certificates, other.certificates, |a, b| {
            a.chain.first().map(|l| &l.sha256) == b.chain.first().map(|l| &l.sha256)
        });
        once(&mut self.dh_params, other.dh_params, PartialEq::eq);
        once(&mut self.undetermined, other.undetermined, |a, b| {
            a.item == b.item
        });
        self.notes.extend(other.notes);
        let (mine, theirs) = (&mut self.features, other.features);
        let (j, t) = (&mut mine.judged, theirs.judged);
        j.extended_master_secret = j.extended_master_secret.or(t.extended_master_secret);
        j.secure_renegotiation = j.secure_renegotiation.or(t.secure_renegotiation);
        j.fallback_scsv = j.fallback_scsv.or(t.fallback_scsv);
        j.encrypt_then_mac = j.encrypt_then_mac.or(t.encrypt_then_mac);
        j.ocsp_stapling = j.ocsp_stapling.or(t.ocsp_stapling);
        j.compression = j.compression.or(t.compression);
        j.early_data = j.early_data.or(t.early_data);
        mine.session_ticket = mine.session_ticket.or(theirs.session_ticket);
        mine.hello_retry_request = mine.hello_retry_request.or(theirs.hello_retry_request);
        mine.alpn = mine.alpn.take().or(theirs.alpn);
    }

    /// The observation in the terms cipher-db judges.
    pub fn to_offer(&self) -> TlsOffer {
        let versions = self
            .versions
            .iter()
            .filter(|v| v.version != TlsVersion::Ssl2)
            .map(|v| VersionOffer {
                version: Some(v.version),
                suites: v
                    .cipher_suites
                    .iter()
                    .filter_map(|s| s.code_value())
                    .filter_map(|c| u16::try_from(c).ok())
                    .collect(),
                server_preference: v.server_preference,
            })
            .collect();
        let sslv2_ciphers = self
            .versions
            .iter()
            .filter(|v| v.version == TlsVersion::Ssl2)
            .flat_map(|v| v.cipher_suites.iter().filter_map(SuiteRef::code_value))
            .collect();
        let keys = self
            .certificates
            .iter()
            .filter_map(|c| c.chain.first())
            .map(|leaf| PublicKey {
                key: leaf.key_type.clone(),
                curve: leaf.curve.clone(),
                bits: leaf.key_bits,
            })
            .collect();
        let certificate_signatures = self
            .certificates
            .iter()
            .flat_map(|c| &c.chain)
            .filter(|c| !c.self_signed)
            .filter_map(|c| {
                c.signature_scheme
                    .as_deref()
                    .and_then(tls::sigalg_by_name)
                    .map(|s| s.code)
            })
            .collect();
        TlsOffer {
            versions,
            sslv2_ciphers,
            groups: (!self.groups.is_empty()).then(|| {
                self.groups
                    .iter()
                    .filter_map(CodeName::code_value)
                    .collect()
            }),
            signature_schemes: (!self.signature_schemes.is_empty()).then(|| {
                self.signature_schemes
                    .iter()
                    .filter_map(CodeName::code_value)
                    .collect()
            }),
            keys,
            certificate_signatures,
            dh_params: self
                .dh_params
                .iter()
                .map(|d| DhParams {
                    bits: d.bits,
                    named_group: d.named_group.clone(),
                })
                .collect(),
            features: self.features.judged.clone(),
            undetermined: self.undetermined.iter().map(|u| u.item.clone()).collect(),
        }
    }
}

/// A host key proven by a key exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SshHostKey {
    /// The host key algorithm negotiated to fetch it (`rsa-sha2-512`, `ssh-ed25519` …).
    pub algorithm: String,
    /// rsa, ec, ed25519, dsa.
    pub key_type: String,
    /// Key size in bits.
    pub bits: u32,
    /// Curve of ECDSA keys, as a TLS group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// OpenSSH's fingerprint text, `SHA256:…`.
    pub fingerprint_sha256: String,
    /// Whether the server's signature over the exchange hash verified with this key.
    pub signature_verified: bool,
    /// For `*-cert-v01@openssh.com` algorithms: the certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<SshCertificate>,
}

/// An OpenSSH host certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SshCertificate {
    /// Key ID.
    pub key_id: String,
    /// Serial number.
    pub serial: u64,
    /// `host` or `user`.
    pub cert_type: String,
    /// Valid principals.
    pub principals: Vec<String>,
    /// Valid from, RFC 3339.
    pub valid_after: String,
    /// Valid until, RFC 3339, or `forever`.
    pub valid_before: String,
    /// Key type of the signing CA.
    pub ca_key_type: String,
    /// Fingerprint of the signing CA's key, `SHA256:…`.
    pub ca_fingerprint_sha256: String,
}

/// Everything an SSH probe saw. Lists keep the server's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SshObservation {
    /// The identification line, without CR LF.
    pub banner: String,
    /// Protocol version of the identification (`2.0`).
    pub protocol: String,
    /// Software version (`OpenSSH_9.2p1`).
    pub software: String,
    /// Comments after the software version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Lines the server sent before its identification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_banner: Vec<String>,
    /// kex_algorithms without protocol markers.
    pub kex: Vec<String>,
    /// Protocol markers of the kex list (ext-info-s, kex-strict-s-v00@openssh.com …).
    pub kex_markers: Vec<String>,
    /// server_host_key_algorithms.
    pub host_key_algorithms: Vec<String>,
    /// Ciphers, client to server.
    pub ciphers_client_to_server: Vec<String>,
    /// Ciphers, server to client.
    pub ciphers_server_to_client: Vec<String>,
    /// MACs, client to server.
    pub macs_client_to_server: Vec<String>,
    /// MACs, server to client.
    pub macs_server_to_client: Vec<String>,
    /// Compression, client to server.
    pub compression_client_to_server: Vec<String>,
    /// Compression, server to client.
    pub compression_server_to_client: Vec<String>,
    /// Languages, client to server (almost always empty).
    pub languages_client_to_server: Vec<String>,
    /// Languages, server to client (almost always empty).
    pub languages_server_to_client: Vec<String>,
    /// Host keys, one per key type.
    pub host_keys: Vec<SshHostKey>,
    /// Group-exchange modulus sizes the server handed out.
    pub gex_moduli_bits: Vec<u32>,
    /// The `--confirm` handshake, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<crate::probe::confirm::Confirmation>,
    /// Remarks on how the probe went.
    pub notes: Vec<String>,
}

impl SshObservation {
    /// The lists of a server's first KEXINIT.
    pub fn new(
        id: &crate::wire::ssh::Identification,
        pre_banner: &[String],
        k: &crate::wire::ssh::KexInit,
    ) -> Self {
        let (markers, kex): (Vec<String>, Vec<String>) = k
            .kex
            .iter()
            .cloned()
            .partition(|n| fipsgate_cipher_db::ssh::is_kex_marker(n));
        Self {
            banner: id.raw.clone(),
            protocol: id.protocol.clone(),
            software: id.software.clone(),
            comments: id.comments.clone(),
            pre_banner: pre_banner.to_vec(),
            kex,
            kex_markers: markers,
            host_key_algorithms: k.host_key.clone(),
            ciphers_client_to_server: k.ciphers_client_to_server.clone(),
            ciphers_server_to_client: k.ciphers_server_to_client.clone(),
            macs_client_to_server: k.macs_client_to_server.clone(),
            macs_server_to_client: k.macs_server_to_client.clone(),
            compression_client_to_server: k.compression_client_to_server.clone(),
            compression_server_to_client: k.compression_server_to_client.clone(),
            languages_client_to_server: k.languages_client_to_server.clone(),
            languages_server_to_client: k.languages_server_to_client.clone(),
            host_keys: Vec::new(),
            gex_moduli_bits: Vec::new(),
            confirm: None,
            notes: Vec::new(),
        }
    }

    /// The observation in the terms cipher-db judges.
    pub fn to_offer(&self) -> fipsgate_cipher_db::assess::SshOffer {
        fipsgate_cipher_db::assess::SshOffer {
            kex: self.kex.clone(),
            host_key_algorithms: self.host_key_algorithms.clone(),
            ciphers_client_to_server: self.ciphers_client_to_server.clone(),
            ciphers_server_to_client: self.ciphers_server_to_client.clone(),
            macs_client_to_server: self.macs_client_to_server.clone(),
            macs_server_to_client: self.macs_server_to_client.clone(),
            compression: self.compression_client_to_server.clone(),
            host_keys: self
                .host_keys
                .iter()
                .map(|k| PublicKey {
                    key: k.key_type.clone(),
                    curve: k.curve.clone(),
                    bits: k.bits,
                })
                .collect(),
            gex_moduli_bits: self.gex_moduli_bits.clone(),
        }
    }
}
