//! CycloneDX 1.6 Cryptography Bill of Materials: each endpoint a service, each TLS version or SSH
//! session it speaks a protocol asset listing its cipher suites or algorithms, each algorithm an
//! asset with its primitive, mode, parameter set and classical and quantum security levels, and
//! certificates and keys as assets with their algorithm, size, validity and fingerprint.
//! Dependencies tie services to protocols and keys, and protocols to algorithms; each policy's
//! verdict is a service property. The document is written when the scan ends.
use super::format::{address, Render, Settings};
use super::{EndpointReport, ScanBegin, ScanEnd};
use crate::observation::{CertificateInfo, SshHostKey, SshObservation, TlsObservation};
use fipsgate_cipher_db::ssh::{self, SshKind};
use fipsgate_cipher_db::tls::{self, CipherSuite, NamedGroup, SignatureScheme};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The CycloneDX version written.
pub const SPEC_VERSION: &str = "1.6";

/// An algorithm asset.
#[derive(Debug, Clone, Default)]
struct Algorithm {
    name: String,
    primitive: &'static str,
    mode: Option<&'static str>,
    parameter_set: Option<String>,
    curve: Option<String>,
    padding: Option<&'static str>,
    functions: &'static [&'static str],
    classical: Option<u32>,
    quantum: Option<u32>,
}

impl Algorithm {
    fn bom_ref(&self) -> String {
        format!("crypto/algorithm/{}", self.name)
    }

    fn component(&self) -> Value {
        let mut props = json!({"primitive": self.primitive});
        let p = &mut props;
        if let Some(m) = self.mode {
            p["mode"] = json!(m);
        }
        if let Some(s) = &self.parameter_set {
            p["parameterSetIdentifier"] = json!(s);
        }
        if let Some(c) = &self.curve {
            p["curve"] = json!(c);
        }
        if let Some(pad) = self.padding {
            p["padding"] = json!(pad);
        }
        if !self.functions.is_empty() {
            p["cryptoFunctions"] = json!(self.functions);
        }
        if let Some(c) = self.classical {
            p["classicalSecurityLevel"] = json!(c);
        }
        if let Some(q) = self.quantum {
            p["nistQuantumSecurityLevel"] = json!(q);
        }
        json!({
            "type": "cryptographic-asset",
            "bom-ref": self.bom_ref(),
            "name": self.name,
            "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": props},
        })
    }
}

/// NIST PQC category of a symmetric key (or MAC key) of this many bits: 1, 3 or 5 for AES-128,
/// -192 and -256 strength, 0 below.
fn symmetric_quantum(bits: u32) -> u32 {
    match bits {
        b if b >= 256 => 5,
        b if b >= 192 => 3,
        b if b >= 128 => 1,
        _ => 0,
    }
}

/// SP 800-57 Part 1 Table 2 strength of an RSA, DSA or finite-field DH modulus.
fn modulus_strength(bits: u32) -> u32 {
    match bits {
        b if b >= 15360 => 256,
        b if b >= 7680 => 192,
        b if b >= 3072 => 128,
        b if b >= 2048 => 112,
        b if b >= 1024 => 80,
        _ => 0,
    }
}

/// A hash: its name, collision strength and NIST PQC category (2, 4, 5 for SHA-256, -384, -512).
fn hash(name: &str) -> Algorithm {
    let (canonical, classical, quantum) = match name.to_ascii_uppercase().as_str() {
        "MD5" => ("MD5", 0, 0),
        "SHA1" | "SHA-1" => ("SHA-1", 63, 0),
        "SHA224" => ("SHA-224", 112, 1),
        "SHA256" => ("SHA-256", 128, 2),
        "SHA384" => ("SHA-384", 192, 4),
        "SHA512" => ("SHA-512", 256, 5),
        other => {
            return Algorithm {
                name: other.to_owned(),
                primitive: "hash",
                functions: &["digest"],
                ..Default::default()
            }
        }
    };
    Algorithm {
        name: canonical.to_owned(),
        primitive: "hash",
        functions: &["digest"],
        classical: Some(classical),
        quantum: Some(quantum),
        ..Default::default()
    }
}

/// A bulk cipher from its family, key bits and mode.
fn cipher(family: &str, bits: u32, mode: &str) -> Algorithm {
    let mode_lc = mode.to_ascii_lowercase();
    let (primitive, cdx_mode) = match mode_lc.as_str() {
        "gcm" => ("ae", Some("gcm")),
        "ccm" | "ccm_8" => ("ae", Some("ccm")),
        "poly1305" => ("ae", Some("other")),
        "cbc" => ("block-cipher", Some("cbc")),
        "ctr" => ("block-cipher", Some("ctr")),
        "stream" => ("stream-cipher", None),
        _ => ("other", Some("other")),
    };
    let classical = match family {
        "3DES" => 112,
        "RC4" | "DES" | "NULL" | "NONE" => 0,
        _ => bits,
    };
    let name = match (family, mode_lc.as_str()) {
        ("CHACHA20", _) => "ChaCha20-Poly1305".to_owned(),
        ("RC4", _) => format!("RC4-{bits}"),
        ("3DES", _) => format!("3DES-{}", mode.to_ascii_uppercase()),
        _ => format!("{family}-{bits}-{}", mode.to_ascii_uppercase()),
    };
    Algorithm {
        name,
        primitive,
        mode: cdx_mode,
        parameter_set: Some(bits.to_string()),
        functions: &["encrypt", "decrypt"],
        classical: Some(classical),
        quantum: Some(symmetric_quantum(classical)),
        ..Default::default()
    }
}

/// An HMAC over this hash, with a tag of `tag_bits` (0 for the hash's length).
fn hmac(hash_name: &str, tag_bits: u32) -> Algorithm {
    let h = hash(hash_name);
    let out = match h.name.as_str() {
        "MD5" => 128,
        "SHA-1" => 160,
        "SHA-224" => 224,
        "SHA-256" => 256,
        "SHA-384" => 384,
        "SHA-512" => 512,
        _ => 0,
    };
    let bits = if tag_bits > 0 { tag_bits.min(out) } else { out };
    let name = if tag_bits > 0 && tag_bits < out {
        format!("HMAC-{}-{tag_bits}", h.name)
    } else {
        format!("HMAC-{}", h.name)
    };
    Algorithm {
        name,
        primitive: "mac",
        functions: &["tag"],
        classical: Some(bits.min(256)),
        quantum: Some(symmetric_quantum(bits)),
        ..Default::default()
    }
}

/// A named group's key agreement or KEM.
fn group(g: &NamedGroup) -> Algorithm {
    let kem_category = |name: &str| {
        if name.contains("1024") {
            5
        } else if name.contains("768") {
            3
        } else {
            1
        }
    };
    let (primitive, quantum, parameter_set, curve) = match g.family {
        "mlkem" => (
            "kem",
            Some(kem_category(g.name)),
            g.name.trim_start_matches("MLKEM").to_owned(),
            None,
        ),
        "hybrid" => ("kem", Some(kem_category(g.name)), g.name.to_owned(), None),
        "kyber-draft" => ("kem", None, g.name.to_owned(), None),
        "ffdhe" => ("key-agree", Some(0), g.name.to_owned(), None),
        _ => (
            "key-agree",
            Some(0),
            g.name.to_owned(),
            Some(g.name.to_owned()),
        ),
    };
    let functions: &[&str] = if primitive == "kem" {
        &["keygen", "encapsulate", "decapsulate"]
    } else {
        &["keygen", "keyderive"]
    };
    Algorithm {
        name: g.name.to_owned(),
        primitive,
        parameter_set: Some(parameter_set),
        curve,
        functions,
        classical: Some(g.bits),
        quantum,
        ..Default::default()
    }
}

/// A signature scheme.
fn signature(s: &SignatureScheme) -> Algorithm {
    let curve_strength = |c: &str| match c {
        "secp256r1" | "ed25519" | "brainpoolP256r1" => Some(128),
        "secp384r1" | "brainpoolP384r1" => Some(192),
        "secp521r1" => Some(256),
        "ed448" => Some(224),
        _ => None,
    };
    let (classical, quantum) = match s.sig {
        "mldsa" if s.name.contains("44") => (Some(128), Some(2)),
        "mldsa" if s.name.contains("65") => (Some(192), Some(3)),
        "mldsa" => (Some(256), Some(5)),
        "ecdsa" | "eddsa" => (curve_strength(s.curve), Some(0)),
        // RSA and DSA strength is the key's, not the scheme's.
        _ => (None, Some(0)),
    };
    Algorithm {
        name: s.name.to_owned(),
        primitive: "signature",
        curve: (!s.curve.is_empty()).then(|| s.curve.to_owned()),
        padding: match s.sig {
            "rsa-pkcs1" => Some("pkcs1v15"),
            "rsa-pss-rsae" | "rsa-pss-pss" => Some("other"),
            _ => None,
        },
        parameter_set: Some(s.hash.to_owned()).filter(|h| !h.is_empty()),
        functions: &["sign", "verify"],
        classical,
        quantum,
        ..Default::default()
    }
}

/// The algorithms a TLS cipher suite names.
fn suite_algorithms(cs: &CipherSuite) -> Vec<Algorithm> {
    let mut out = Vec::new();
    match cs.kx {
        "ECDHE" | "DHE" | "ECDH" | "DH" => out.push(Algorithm {
            name: cs.kx.to_owned(),
            primitive: "key-agree",
            functions: &["keygen", "keyderive"],
            quantum: Some(0),
            ..Default::default()
        }),
        "RSA" => out.push(Algorithm {
            name: "RSA-key-transport".to_owned(),
            primitive: "pke",
            padding: Some("pkcs1v15"),
            functions: &["encrypt", "decrypt"],
            quantum: Some(0),
            ..Default::default()
        }),
        _ => {}
    }
    match cs.auth {
        "RSA" | "ECDSA" | "DSS" => out.push(Algorithm {
            name: if cs.auth == "DSS" { "DSA" } else { cs.auth }.to_owned(),
            primitive: "signature",
            functions: &["sign", "verify"],
            quantum: Some(0),
            ..Default::default()
        }),
        _ => {}
    }
    if cs.enc != "NULL" {
        out.push(cipher(cs.enc, cs.bits, cs.mode));
    }
    if !matches!(cs.mac, "AEAD" | "NULL") {
        out.push(hmac(cs.mac, 0));
    }
    let prf = match (cs.prf, cs.is_tls13()) {
        ("", false) => None,
        ("", true) => Some("SHA256"),
        (h, _) => Some(h),
    };
    if let Some(h) = prf {
        out.push(hash(h));
    }
    out
}

/// An SSH algorithm by its wire name, from cipher-db's components.
fn ssh_algorithm(kind: SshKind, name: &str) -> Option<Algorithm> {
    let a = ssh::find(kind, name)?;
    let named = |primitive, functions, classical, quantum| Algorithm {
        name: name.to_owned(),
        primitive,
        parameter_set: Some(a.param.to_owned()).filter(|p| !p.is_empty()),
        functions,
        classical,
        quantum,
        ..Default::default()
    };
    Some(match (kind, a.family) {
        (SshKind::Kex, "KEM-HYBRID") => {
            let quantum = a
                .param
                .contains("mlkem1024")
                .then_some(5)
                .or(a.param.contains("mlkem768").then_some(3));
            named(
                "kem",
                &["keygen", "encapsulate", "decapsulate"],
                None,
                quantum,
            )
        }
        (SshKind::Kex, "DH") => {
            let bits = a.param.trim_start_matches("modp").parse().unwrap_or(0);
            named(
                "key-agree",
                &["keygen", "keyderive"],
                Some(modulus_strength(bits)),
                Some(0),
            )
        }
        (SshKind::Kex, "RSA") => named("pke", &["encrypt", "decrypt"], None, Some(0)),
        (SshKind::Kex, _) => named("key-agree", &["keygen", "keyderive"], None, Some(0)),
        (SshKind::HostKey, _) => named("signature", &["sign", "verify"], None, Some(0)),
        (SshKind::Cipher, family) => cipher(family, a.bits, a.mode),
        (SshKind::Mac, "HMAC") => hmac(a.hash, a.bits),
        (SshKind::Mac, _) => named("mac", &["tag"], None, None),
        (SshKind::Compression, _) => return None,
    })
}

/// A key: its algorithm and size, as related crypto material.
fn key_component(
    bom_ref: &str,
    key_type: &str,
    bits: u32,
    curve: Option<&str>,
    fingerprint: &str,
) -> (Value, Algorithm) {
    let algorithm = match key_type {
        "rsa" | "dsa" => Algorithm {
            name: format!("{}-{bits}", key_type.to_ascii_uppercase()),
            primitive: "signature",
            parameter_set: Some(bits.to_string()),
            functions: &["sign", "verify"],
            classical: Some(modulus_strength(bits)),
            quantum: Some(0),
            ..Default::default()
        },
        _ => Algorithm {
            name: curve.map_or_else(|| key_type.to_owned(), str::to_owned),
            primitive: "signature",
            curve: curve.map(str::to_owned),
            functions: &["sign", "verify"],
            classical: Some(bits / 2),
            quantum: Some(0),
            ..Default::default()
        },
    };
    let component = json!({
        "type": "cryptographic-asset",
        "bom-ref": bom_ref,
        "name": format!("{key_type} public key ({bits} bits)"),
        "cryptoProperties": {
            "assetType": "related-crypto-material",
            "relatedCryptoMaterialProperties": {
                "type": "public-key",
                "id": fingerprint,
                "size": bits,
                "algorithmRef": algorithm.bom_ref(),
            },
        },
        "properties": [{"name": "fipsgate:fingerprint", "value": fingerprint}],
    });
    (component, algorithm)
}

/// Renders the CBOM.
pub struct CbomRender {
    started: String,
    version: String,
    components: BTreeMap<String, Value>,
    services: Vec<Value>,
    dependencies: BTreeMap<String, Vec<String>>,
}

impl CbomRender {
    /// A renderer.
    pub fn new(_settings: Settings) -> Self {
        Self {
            started: String::new(),
            version: String::new(),
            components: BTreeMap::new(),
            services: Vec::new(),
            dependencies: BTreeMap::new(),
        }
    }

    /// Adds an algorithm once; its reference.
    fn algorithm(&mut self, a: &Algorithm) -> String {
        let r = a.bom_ref();
        self.components
            .entry(r.clone())
            .or_insert_with(|| a.component());
        r
    }

    fn depend(&mut self, from: &str, on: Vec<String>) {
        let list = self.dependencies.entry(from.to_owned()).or_default();
        for r in on {
            if !list.contains(&r) {
                list.push(r);
            }
        }
    }

    fn certificate(&mut self, c: &CertificateInfo) -> String {
        let cert_ref = format!("crypto/certificate/{}", c.sha256);
        let key_ref = format!("crypto/key/certificate/{}", c.sha256);
        let (key, key_algorithm) = key_component(
            &key_ref,
            &c.key_type,
            c.key_bits,
            c.curve.as_deref(),
            &c.sha256,
        );
        let key_algorithm_ref = self.algorithm(&key_algorithm);
        let signature = c
            .signature_scheme
            .as_deref()
            .and_then(tls::sigalg_by_name)
            .map(signature)
            .unwrap_or_else(|| Algorithm {
                name: c.signature_algorithm.clone(),
                primitive: "signature",
                functions: &["sign", "verify"],
                ..Default::default()
            });
        let signature_ref = self.algorithm(&signature);
        self.components.insert(key_ref.clone(), key);
        self.components.insert(
            cert_ref.clone(),
            json!({
                "type": "cryptographic-asset",
                "bom-ref": cert_ref,
                "name": c.subject,
                "cryptoProperties": {
                    "assetType": "certificate",
                    "certificateProperties": {
                        "subjectName": c.subject,
                        "issuerName": c.issuer,
                        "notValidBefore": c.not_before,
                        "notValidAfter": c.not_after,
                        "signatureAlgorithmRef": signature_ref,
                        "subjectPublicKeyRef": key_ref,
                        "certificateFormat": "X.509",
                        "certificateExtension": "crt",
                    },
                },
                "properties": [{"name": "fipsgate:fingerprint:sha256", "value": c.sha256}],
            }),
        );
        self.depend(&cert_ref, vec![key_ref.clone(), signature_ref]);
        self.depend(&key_ref, vec![key_algorithm_ref]);
        cert_ref
    }

    /// The protocol assets of a TLS endpoint; their references.
    fn tls(&mut self, at: &str, t: &TlsObservation) -> Vec<String> {
        let groups: Vec<String> = t
            .groups
            .iter()
            .filter_map(|g| tls::group_by_name(&g.name))
            .map(|g| self.algorithm(&group(g)))
            .collect();
        let schemes: Vec<String> = t
            .signature_schemes
            .iter()
            .filter_map(|s| tls::sigalg_by_name(&s.name))
            .map(|s| self.algorithm(&signature(s)))
            .collect();
        let mut refs = Vec::new();
        for v in &t.versions {
            let protocol_ref = format!("crypto/protocol/{}@{at}", v.version.as_str());
            let mut all = Vec::new();
            let suites: Vec<Value> = v
                .cipher_suites
                .iter()
                .map(|s| {
                    let algorithms: Vec<String> = s
                        .code_value()
                        .and_then(|c| u16::try_from(c).ok())
                        .and_then(tls::suite_by_code)
                        .map(suite_algorithms)
                        .unwrap_or_default()
                        .iter()
                        .map(|a| self.algorithm(a))
                        .collect();
                    all.extend(algorithms.iter().cloned());
                    let code = s.code.trim_start_matches("0x");
                    let identifiers: Vec<String> = code
                        .as_bytes()
                        .chunks(2)
                        .map(|b| format!("0x{}", String::from_utf8_lossy(b)))
                        .collect();
                    json!({"name": s.iana, "algorithms": algorithms, "identifiers": identifiers})
                })
                .collect();
            let tls13 = v.version.as_str() == "tls1.3";
            let extra: Vec<String> = groups
                .iter()
                .chain(&schemes)
                .filter(|_| v.version.as_str() != "ssl2")
                .cloned()
                .collect();
            all.extend(extra.iter().cloned());
            self.components.insert(
                protocol_ref.clone(),
                json!({
                    "type": "cryptographic-asset",
                    "bom-ref": protocol_ref,
                    "name": v.version.display_name(),
                    "cryptoProperties": {
                        "assetType": "protocol",
                        "protocolProperties": {
                            "type": "tls",
                            "version": v.version.as_str().trim_start_matches("tls").trim_start_matches("ssl"),
                            "cipherSuites": suites,
                            "cryptoRefArray": extra,
                        },
                    },
                    "properties": [{"name": "fipsgate:server-preference", "value": match v.server_preference {
                        Some(true) => "yes", Some(false) => "no", None => if tls13 { "not-tested" } else { "unknown" },
                    }}],
                }),
            );
            self.depend(&protocol_ref, all);
            refs.push(protocol_ref);
        }
        refs
    }

    /// The protocol asset of an SSH endpoint and its host keys; their references.
    fn ssh(&mut self, at: &str, s: &SshObservation) -> Vec<String> {
        let protocol_ref = format!("crypto/protocol/ssh@{at}");
        let lists = [
            (SshKind::Kex, &s.kex),
            (SshKind::HostKey, &s.host_key_algorithms),
            (SshKind::Cipher, &s.ciphers_server_to_client),
            (SshKind::Cipher, &s.ciphers_client_to_server),
            (SshKind::Mac, &s.macs_server_to_client),
            (SshKind::Mac, &s.macs_client_to_server),
        ];
        let mut algorithms: Vec<String> = Vec::new();
        for (kind, list) in lists {
            for name in list {
                if let Some(a) = ssh_algorithm(kind, name) {
                    let r = self.algorithm(&a);
                    if !algorithms.contains(&r) {
                        algorithms.push(r);
                    }
                }
            }
        }
        self.components.insert(
            protocol_ref.clone(),
            json!({
                "type": "cryptographic-asset",
                "bom-ref": protocol_ref,
                "name": format!("SSH {}", s.protocol),
                "cryptoProperties": {
                    "assetType": "protocol",
                    "protocolProperties": {"type": "ssh", "version": s.protocol, "cryptoRefArray": algorithms},
                },
                "properties": [{"name": "fipsgate:banner", "value": s.banner}],
            }),
        );
        self.depend(&protocol_ref, algorithms);
        let mut refs = vec![protocol_ref];
        for k in &s.host_keys {
            refs.push(self.host_key(k));
        }
        refs
    }

    fn host_key(&mut self, k: &SshHostKey) -> String {
        let key_ref = format!("crypto/key/ssh/{}", k.fingerprint_sha256);
        let (key, algorithm) = key_component(
            &key_ref,
            &k.key_type,
            k.bits,
            k.curve.as_deref(),
            &k.fingerprint_sha256,
        );
        let algorithm_ref = self.algorithm(&algorithm);
        self.components.insert(key_ref.clone(), key);
        self.depend(&key_ref, vec![algorithm_ref]);
        key_ref
    }
}

impl Render for CbomRender {
    fn begin(&mut self, begin: &ScanBegin) -> String {
        self.started.clone_from(&begin.started_at);
        self.version.clone_from(&begin.tool_version);
        String::new()
    }

    fn endpoint(&mut self, r: &EndpointReport) -> String {
        let at = address(&r.target);
        let service_ref = format!("service/{}/{at}", r.service);
        let scheme = r.service.split('+').next().unwrap_or("tls");
        let mut uses = Vec::new();
        if let Some(t) = &r.tls {
            uses.extend(self.tls(&at, t));
            for chain in &t.certificates {
                if let Some(leaf) = chain.chain.first() {
                    uses.push(self.certificate(leaf));
                }
            }
        }
        if let Some(s) = &r.ssh {
            uses.extend(self.ssh(&at, s));
        }
        let mut properties = vec![
            json!({"name": "fipsgate:host", "value": r.target.host}),
            json!({"name": "fipsgate:status", "value": r.status}),
            json!({"name": "fipsgate:scanned_at", "value": r.scanned_at}),
        ];
        for v in &r.verdicts {
            properties.push(json!({"name": format!("fipsgate:verdict:{}", v.policy), "value": v.verdict.as_str()}));
        }
        for q in &r.quantum_safe_kex {
            properties.push(json!({"name": "fipsgate:quantum_safe_kex", "value": q}));
        }
        if let Some(e) = &r.error {
            properties.push(json!({"name": "fipsgate:error", "value": e.message}));
        }
        self.services.push(json!({
            "bom-ref": service_ref,
            "name": at,
            "endpoints": [format!("{scheme}://{at}")],
            "properties": properties,
        }));
        self.depend(&service_ref, uses);
        String::new()
    }

    fn end(&mut self, end: &ScanEnd) -> String {
        let serial = uuid_from(&self.started, end);
        let doc = json!({
            "bomFormat": "CycloneDX",
            "specVersion": SPEC_VERSION,
            "serialNumber": serial,
            "version": 1,
            "metadata": {
                "timestamp": self.started,
                "tools": {"components": [{"type": "application", "name": "fipsgate", "version": self.version}]},
                "properties": [
                    {"name": "fipsgate:endpoints", "value": end.endpoints.to_string()},
                    {"name": "fipsgate:errors", "value": end.errors.to_string()},
                ],
            },
            "components": std::mem::take(&mut self.components).into_values().collect::<Vec<_>>(),
            "services": std::mem::take(&mut self.services),
            "dependencies": std::mem::take(&mut self.dependencies)
                .into_iter()
                .map(|(r, on)| json!({"ref": r, "dependsOn": on}))
                .collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// A version-4-shaped UUID URN for the document, random per scan.
fn uuid_from(started: &str, end: &ScanEnd) -> String {
    let mut bytes = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    // Should the system RNG fail, the scan's own facts still make the serial distinct enough.
    if bytes == [0; 16] {
        let seed = format!("{started}{}{}", end.endpoints, end.duration_ms);
        for (i, b) in seed.bytes().enumerate() {
            bytes[i % 16] ^= b;
        }
    }
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ml_kem_groups_and_hybrids_are_kems_with_their_nist_category() {
        let level = |name: &str| {
            tls::group_by_name(name)
                .map(group)
                .map(|a| (a.primitive, a.quantum))
        };
        assert_eq!(level("MLKEM512"), Some(("kem", Some(1))));
        assert_eq!(level("MLKEM768"), Some(("kem", Some(3))));
        assert_eq!(level("X25519MLKEM768"), Some(("kem", Some(3))));
        assert_eq!(level("SecP384r1MLKEM1024"), Some(("kem", Some(5))));
        assert_eq!(level("x25519"), Some(("key-agree", Some(0))));
        let sntrup = ssh_algorithm(SshKind::Kex, "sntrup761x25519-sha512@openssh.com");
        assert_eq!(
            sntrup.map(|a| (a.primitive, a.quantum)),
            Some(("kem", None))
        );
        let mlkem = ssh_algorithm(SshKind::Kex, "mlkem768x25519-sha256");
        assert_eq!(mlkem.map(|a| a.quantum), Some(Some(3)));
    }
}
