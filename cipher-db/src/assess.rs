//! Observations in, findings out: what a probe saw on one endpoint, judged by one policy, with
//! the endpoint verdict (fips-only, fips-capable, not-fips-capable).
use crate::item::{Item, Kind};
use crate::policy::{Confidence, Feature, Judgement, Policy, Protocol, Reason};
use crate::ssh::{self, SshKind};
use crate::tls::{self, TlsVersion};
use crate::verdict::{EndpointVerdict, Verdict};
use serde::{Deserialize, Serialize};

/// One protocol version a TLS server accepts, with the suites it accepts under it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VersionOffer {
    /// The version.
    pub version: Option<TlsVersion>,
    /// Suite codes, in the server's preference order when it has one.
    pub suites: Vec<u16>,
    /// Whether the server enforces its own order (None: not determined).
    pub server_preference: Option<bool>,
}

/// A public key seen on the wire (certificate leaf key or SSH host key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PublicKey {
    /// rsa, dsa, ec, ed25519, ed448.
    pub key: String,
    /// TLS group name of the curve, for EC keys (secp256r1 …).
    pub curve: Option<String>,
    /// Modulus or field size in bits.
    pub bits: u32,
}

impl PublicKey {
    fn item(&self) -> Item {
        Item::key(&self.key, self.curve.as_deref(), self.bits)
    }

    fn label(&self) -> String {
        match &self.curve {
            Some(c) => format!("{} key on {c}", self.key.to_uppercase()),
            None => format!("{} {}-bit key", self.key.to_uppercase(), self.bits),
        }
    }
}

/// Finite-field DH parameters a server used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DhParams {
    /// Prime size in bits.
    pub bits: u32,
    /// Name of the safe-prime group the prime equals (`ffdhe2048`, `modp2048` …), if any.
    pub named_group: Option<String>,
}

/// Protocol features of a TLS server; None means not tested.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsFeatures {
    /// Extended master secret negotiated under TLS 1.2.
    pub extended_master_secret: Option<bool>,
    /// renegotiation_info answered.
    pub secure_renegotiation: Option<bool>,
    /// A downgraded hello with TLS_FALLBACK_SCSV is refused.
    pub fallback_scsv: Option<bool>,
    /// encrypt_then_mac answered for a CBC suite.
    pub encrypt_then_mac: Option<bool>,
    /// An OCSP response is stapled.
    pub ocsp_stapling: Option<bool>,
    /// A compression method other than null is accepted.
    pub compression: Option<bool>,
    /// 0-RTT early data is accepted.
    pub early_data: Option<bool>,
}

/// Everything a TLS probe saw, in wire terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TlsOffer {
    /// Versions the server accepts, each with its suites.
    pub versions: Vec<VersionOffer>,
    /// SSL 2.0 cipher specs, when the server speaks SSL 2.0.
    pub sslv2_ciphers: Vec<u32>,
    /// Groups the server accepts (None: not enumerated).
    pub groups: Option<Vec<u16>>,
    /// Signature schemes the server uses (None: not enumerated).
    pub signature_schemes: Option<Vec<u16>>,
    /// Leaf keys of its certificates.
    pub keys: Vec<PublicKey>,
    /// Signature schemes of the certificates' own signatures, trust anchors left out.
    pub certificate_signatures: Vec<u16>,
    /// DHE parameters seen.
    pub dh_params: Vec<DhParams>,
    /// Protocol features.
    pub features: TlsFeatures,
    /// Items (versions, features) the probe could not decide: no finding rests on their absence.
    #[serde(default)]
    pub undetermined: Vec<String>,
}

/// Everything an SSH probe saw, in wire terms. Lists keep the server's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SshOffer {
    /// kex_algorithms (markers included).
    pub kex: Vec<String>,
    /// server_host_key_algorithms.
    pub host_key_algorithms: Vec<String>,
    /// encryption_algorithms_client_to_server.
    pub ciphers_client_to_server: Vec<String>,
    /// encryption_algorithms_server_to_client.
    pub ciphers_server_to_client: Vec<String>,
    /// mac_algorithms_client_to_server.
    pub macs_client_to_server: Vec<String>,
    /// mac_algorithms_server_to_client.
    pub macs_server_to_client: Vec<String>,
    /// compression_algorithms_client_to_server.
    pub compression: Vec<String>,
    /// Host keys proven by a key exchange.
    pub host_keys: Vec<PublicKey>,
    /// Group-exchange modulus sizes the server handed out.
    pub gex_moduli_bits: Vec<u32>,
}

/// One judged observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// Policy name.
    pub policy: String,
    /// Kind of item, or none for a protocol feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// What was judged: an algorithm name, a key, a feature.
    pub item: String,
    /// Verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// Source id.
    pub source: String,
    /// Whether the verdict row was checked against its source.
    pub confidence: Confidence,
    /// A remark that does not change the verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A policy's view of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Assessment {
    /// Policy name.
    pub policy: String,
    /// Endpoint verdict.
    pub verdict: EndpointVerdict,
    /// Findings: everything not plainly approved, and approved items that carry a note.
    pub findings: Vec<Finding>,
    /// Why the verdict may be incomplete: the items the probe could not decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Collects findings and remembers whether everything offered was allowed.
struct Collector<'p> {
    policy: &'p Policy,
    findings: Vec<Finding>,
    all_allowed: bool,
}

impl<'p> Collector<'p> {
    fn new(policy: &'p Policy) -> Self {
        Self {
            policy,
            findings: Vec::new(),
            all_allowed: true,
        }
    }

    fn record(&mut self, kind: Option<Kind>, item: String, reason: &Reason, counts: bool) {
        if counts && !reason.verdict.is_allowed() {
            self.all_allowed = false;
        }
        let finding = Finding {
            policy: self.policy.name.clone(),
            kind,
            item,
            verdict: reason.verdict,
            reason: reason.reason.clone(),
            source: reason.source.clone(),
            confidence: reason.confidence,
            note: reason.note.clone(),
        };
        if !self.findings.contains(&finding) {
            self.findings.push(finding);
        }
    }

    /// Judges an offered item; returns whether it is allowed.
    fn item(&mut self, item: &Item) -> bool {
        let j: Judgement = self.policy.judge(item);
        if let Some(primary) = j.primary() {
            if primary.verdict != Verdict::Approved || primary.note.is_some() {
                self.record(Some(item.kind), item.name.clone(), primary, true);
            } else if let Some(noted) = j.reasons.iter().find(|r| r.note.is_some()) {
                self.record(Some(item.kind), item.name.clone(), noted, true);
            }
        }
        j.verdict.is_allowed()
    }

    /// Judges a key, with the policy's size limit; returns whether it is allowed.
    fn key(&mut self, key: &PublicKey) -> bool {
        let mut ok = self.item(&key.item());
        let min = self.policy.keys.rsa_min_bits;
        if key.key == "rsa" && key.bits < min {
            let reason = Reason {
                verdict: Verdict::Disallowed,
                reason: format!(
                    "RSA key of {} bits is below the {min}-bit minimum",
                    key.bits
                ),
                source: self.policy.keys.source.clone(),
                confidence: Confidence::Verified,
                note: None,
            };
            self.record(Some(Kind::Key), key.label(), &reason, true);
            ok = false;
        }
        ok
    }

    /// Judges DH parameters; returns whether they are allowed.
    fn dh(&mut self, dh: &DhParams) -> bool {
        let limits = &self.policy.keys;
        let (verdict, reason) = if dh.bits < limits.dh_min_bits {
            (
                Verdict::Disallowed,
                format!(
                    "{}-bit DH group is below the {}-bit minimum",
                    dh.bits, limits.dh_min_bits
                ),
            )
        } else if limits.dh_safe_prime_only && dh.named_group.is_none() {
            (Verdict::NotApproved, format!("{}-bit server-chosen DH prime is not an approved safe-prime group (RFC 7919 / RFC 3526)", dh.bits))
        } else {
            return true;
        };
        let source = if verdict == Verdict::NotApproved {
            "SP800-56Ar3".to_owned()
        } else {
            limits.source.clone()
        };
        let item = match &dh.named_group {
            Some(n) => format!("DH {n}"),
            None => format!("DH {}-bit custom prime", dh.bits),
        };
        let reason = Reason {
            verdict,
            reason,
            source,
            confidence: Confidence::Verified,
            note: None,
        };
        self.record(None, item, &reason, true);
        false
    }

    /// Records a failed feature requirement; it changes the endpoint verdict only when it
    /// `blocks` an otherwise accepted handshake.
    fn requirement(&mut self, feature: Feature, met: Option<bool>, blocks: bool) {
        if met != Some(false) {
            return;
        }
        if let Some(req) = self
            .policy
            .requirements
            .iter()
            .find(|r| r.feature == feature)
        {
            let reason = req.reason.clone();
            self.record(None, feature.as_str().to_owned(), &reason, blocks);
        }
    }

    fn finish(self, capable: bool) -> Assessment {
        let verdict = match (capable, self.all_allowed) {
            (true, true) => EndpointVerdict::FipsOnly,
            (true, false) => EndpointVerdict::FipsCapable,
            (false, _) => EndpointVerdict::NotFipsCapable,
        };
        let mut findings = self.findings;
        findings.sort_by_key(|f| std::cmp::Reverse(f.verdict));
        Assessment {
            policy: self.policy.name.clone(),
            verdict,
            findings,
            note: None,
        }
    }
}

impl Assessment {
    /// The verdict as far as undetermined items let it stand: `fips-only` claims that nothing
    /// unapproved is accepted, which an item the probe could not decide may contradict, so it
    /// becomes `fips-capable`; a `not-fips-capable` verdict is kept, since what was seen has no
    /// approved combination, and the note names where one could still be.
    fn bounded_by(mut self, undetermined: &[String]) -> Self {
        if undetermined.is_empty() {
            return self;
        }
        let items = undetermined.join(", ");
        self.note = Some(match self.verdict {
            EndpointVerdict::FipsOnly => {
                self.verdict = EndpointVerdict::FipsCapable;
                format!("fips-only not established: everything seen is approved, but {items} could not be decided")
            }
            EndpointVerdict::FipsCapable => {
                format!("{items} could not be decided; the verdict rests on what was seen")
            }
            EndpointVerdict::NotFipsCapable => format!(
                "no approved combination among what was seen; {items} could not be decided and may hold one"
            ),
        });
        self
    }
}

/// What the judged parts of a TLS offer allow: the material from which complete approved
/// handshakes are built (docs/policies.md, "Endpoint verdicts").
struct Allowed<'o> {
    /// Whether an allowed group was accepted (None: groups not enumerated).
    groups: Option<bool>,
    /// Whether allowed DH parameters were seen (None: none seen).
    dh: Option<bool>,
    /// Certificate keys that are allowed.
    keys: Vec<&'o PublicKey>,
    /// Whether the scan read any certificate key at all.
    keys_seen: bool,
    /// Signature schemes the server used, each with whether it is allowed.
    sigalgs: Vec<(&'static tls::SignatureScheme, bool)>,
}

impl Allowed<'_> {
    /// Whether the suite's key exchange can use an allowed group (SP 800-56A r3, IG C.K).
    fn key_exchange(&self, suite: &tls::CipherSuite) -> bool {
        match suite.kx {
            "ECDHE" | "ECDHE_PSK" | "ANY" => self.groups.unwrap_or(true),
            "DHE" | "DHE_PSK" => self.dh.unwrap_or(true),
            _ => true,
        }
    }

    /// Whether the server can authenticate the suite with an allowed key and, where the
    /// handshake is signed, an allowed signature scheme for that key (FIPS 186-5,
    /// SP 800-131A r2). Keys or schemes the scan could not read count as allowed.
    fn authentication(&self, suite: &tls::CipherSuite, version: TlsVersion) -> bool {
        if matches!(suite.auth, "PSK" | "anon" | "NULL") || !self.keys_seen {
            return true;
        }
        let tls13 = suite.is_tls13();
        // TLS 1.2 signs the (EC)DHE parameters with a negotiated scheme; older versions use
        // fixed MD5/SHA-1 constructions that the version's own verdict already covers.
        let signed = tls13 || (version == TlsVersion::Tls12 && matches!(suite.kx, "ECDHE" | "DHE"));
        self.keys.iter().any(|key| {
            (tls13 || key_fits_auth(key, suite.auth)) && (!signed || self.signs_with(key, tls13))
        })
    }

    /// Whether an allowed scheme the server used fits this key; true when the scan saw no
    /// scheme for the key at all (undetermined, so no verdict rests on it).
    fn signs_with(&self, key: &PublicKey, tls13: bool) -> bool {
        let mut fitting = self
            .sigalgs
            .iter()
            .filter(|(s, _)| scheme_fits_key(s, key, tls13))
            .peekable();
        fitting.peek().is_none() || fitting.any(|(_, allowed)| *allowed)
    }
}

/// Whether a certificate key can serve a TLS 1.0-1.2 suite's authentication.
fn key_fits_auth(key: &PublicKey, auth: &str) -> bool {
    match auth {
        "RSA" => key.key == "rsa",
        "ECDSA" => key.key == "ec",
        "DSS" => key.key == "dsa",
        _ => true,
    }
}

/// Whether a signature scheme signs with this key (RFC 8446 4.2.3 binds ECDSA curves and
/// forbids PKCS#1 v1.5 and DSA in TLS 1.3 handshakes).
fn scheme_fits_key(scheme: &tls::SignatureScheme, key: &PublicKey, tls13: bool) -> bool {
    match scheme.sig {
        "rsa-pkcs1" | "dsa" if tls13 => false,
        "rsa-pkcs1" | "rsa-pss-rsae" | "rsa-pss-pss" => key.key == "rsa",
        "ecdsa" => key.key == "ec" && (!tls13 || key.curve.as_deref() == Some(scheme.curve)),
        "eddsa" => key.key == scheme.curve,
        "dsa" => key.key == "dsa",
        _ => false,
    }
}

impl Policy {
    /// Judges a TLS endpoint; None when the policy does not speak about TLS.
    pub fn assess_tls(&self, offer: &TlsOffer) -> Option<Assessment> {
        if !self.covers(Protocol::Tls) {
            return None;
        }
        let mut c = Collector::new(self);
        let groups = offer.groups.as_ref().map(|gs| {
            gs.iter()
                .fold(false, |any, g| c.item(&Item::group_code(*g)) | any)
        });
        let sigalgs = offer
            .signature_schemes
            .iter()
            .flatten()
            .filter_map(|code| {
                let allowed = c.item(&Item::sigalg_code(*code));
                tls::sigalg_by_code(*code).map(|s| (s, allowed))
            })
            .collect();
        let keys: Vec<&PublicKey> = offer.keys.iter().filter(|k| c.key(k)).collect();
        for s in &offer.certificate_signatures {
            c.item(&Item::sigalg_code(*s));
        }
        let dh = if offer.dh_params.is_empty() {
            None
        } else {
            Some(offer.dh_params.iter().fold(false, |any, d| c.dh(d) | any))
        };
        let allowed = Allowed {
            groups,
            dh,
            keys,
            keys_seen: !offer.keys.is_empty(),
            sigalgs,
        };
        if !offer.sslv2_ciphers.is_empty() {
            c.item(&Item::version(TlsVersion::Ssl2));
            for code in &offer.sslv2_ciphers {
                c.item(&Item::sslv2_code(*code));
            }
        }
        let ems_blocks_tls12 = offer.features.extended_master_secret == Some(false)
            && self.requirements.iter().any(|r| {
                r.feature == Feature::TlsExtendedMasterSecret && !r.reason.verdict.is_allowed()
            });
        let mut capable = false;
        for v in &offer.versions {
            let Some(version) = v.version else { continue };
            let version_ok = c.item(&Item::version(version));
            let version_counts = version_ok && !(version == TlsVersion::Tls12 && ems_blocks_tls12);
            for code in &v.suites {
                let suite_ok = c.item(&Item::suite_code(*code));
                if !(suite_ok && version_counts) {
                    continue;
                }
                let Some(s) = tls::suite_by_code(*code) else {
                    continue;
                };
                capable |= allowed.key_exchange(s) && allowed.authentication(s, version);
            }
        }
        let offered = |v: TlsVersion| offer.versions.iter().any(|o| o.version == Some(v));
        let legacy = offered(TlsVersion::Ssl3)
            || offered(TlsVersion::Tls10)
            || offered(TlsVersion::Tls11)
            || offered(TlsVersion::Tls12);
        if offered(TlsVersion::Tls12) {
            // Without EMS every TLS 1.2 handshake uses a KDF that is not approved (IG D.Q), so
            // the server accepts a handshake that is not approved: it cannot be fips-only.
            c.requirement(
                Feature::TlsExtendedMasterSecret,
                offer.features.extended_master_secret,
                ems_blocks_tls12,
            );
        }
        if legacy {
            c.requirement(
                Feature::TlsSecureRenegotiation,
                offer.features.secure_renegotiation,
                false,
            );
        }
        if (offered(TlsVersion::Tls10) || offered(TlsVersion::Tls11)) && !offered(TlsVersion::Tls13)
        {
            c.requirement(
                Feature::TlsFallbackScsv,
                offer.features.fallback_scsv,
                false,
            );
        }
        let cbc_offered = offer
            .versions
            .iter()
            .flat_map(|v| &v.suites)
            .any(|code| tls::suite_by_code(*code).is_some_and(|s| s.mode == "CBC"));
        if cbc_offered {
            c.requirement(
                Feature::TlsEncryptThenMac,
                offer.features.encrypt_then_mac,
                false,
            );
        }
        if !offer.versions.is_empty() {
            c.requirement(
                Feature::TlsOcspStapling,
                offer.features.ocsp_stapling,
                false,
            );
            let tls13 = if offered(TlsVersion::Tls13) {
                Some(true)
            } else if offer
                .undetermined
                .iter()
                .any(|i| i == TlsVersion::Tls13.as_str())
            {
                None
            } else {
                Some(false)
            };
            c.requirement(Feature::TlsOffersTls13, tls13, false);
        }
        c.requirement(
            Feature::TlsNoCompression,
            offer.features.compression.map(|on| !on),
            false,
        );
        c.requirement(
            Feature::TlsNoEarlyData,
            offer.features.early_data.map(|on| !on),
            false,
        );
        Some(c.finish(capable).bounded_by(&offer.undetermined))
    }

    /// Judges an SSH endpoint; None when the policy does not speak about SSH.
    pub fn assess_ssh(&self, offer: &SshOffer) -> Option<Assessment> {
        if !self.covers(Protocol::Ssh) {
            return None;
        }
        let mut c = Collector::new(self);
        let judge_list = |c: &mut Collector<'_>,
                          kind: SshKind,
                          names: &[String]|
         -> Vec<&'static ssh::SshAlgorithm> {
            names
                .iter()
                .filter(|n| !(kind == SshKind::Kex && ssh::is_kex_marker(n)))
                .filter_map(|n| {
                    let ok = c.item(&Item::ssh_name(kind, n));
                    ssh::find(kind, n).filter(|_| ok)
                })
                .collect()
        };
        let kex = judge_list(&mut c, SshKind::Kex, &offer.kex);
        let host_algs = judge_list(&mut c, SshKind::HostKey, &offer.host_key_algorithms);
        let ciphers_cs = judge_list(&mut c, SshKind::Cipher, &offer.ciphers_client_to_server);
        let ciphers_sc = judge_list(&mut c, SshKind::Cipher, &offer.ciphers_server_to_client);
        let macs_cs = judge_list(&mut c, SshKind::Mac, &offer.macs_client_to_server);
        let macs_sc = judge_list(&mut c, SshKind::Mac, &offer.macs_server_to_client);
        let good_keys: Vec<&PublicKey> = offer.host_keys.iter().filter(|k| c.key(k)).collect();
        let mut gex_ok = true;
        for bits in &offer.gex_moduli_bits {
            gex_ok &= c.dh(&DhParams {
                bits: *bits,
                named_group: Some("group-exchange".to_owned()),
            });
        }
        let kex_ok = kex
            .iter()
            .any(|k| k.family != "DH-GEX" || gex_ok || offer.gex_moduli_bits.is_empty());
        let host_ok = if offer.host_keys.is_empty() {
            !host_algs.is_empty()
        } else {
            host_algs.iter().any(|a| {
                good_keys.iter().any(|k| match a.family {
                    "RSA" => k.key == "rsa",
                    "ECDSA" => {
                        k.key == "ec"
                            && k.curve
                                .as_deref()
                                .is_some_and(|c| curve_matches(c, a.param))
                    }
                    "ED25519" => k.key == "ed25519",
                    "ED448" => k.key == "ed448",
                    "DSA" => k.key == "dsa",
                    _ => false,
                })
            })
        };
        let direction_ok = |ciphers: &[&ssh::SshAlgorithm], macs: &[&ssh::SshAlgorithm]| {
            ciphers.iter().any(|c| c.is_aead_cipher()) || (!ciphers.is_empty() && !macs.is_empty())
        };
        let capable = kex_ok
            && host_ok
            && direction_ok(&ciphers_cs, &macs_cs)
            && direction_ok(&ciphers_sc, &macs_sc);
        Some(c.finish(capable))
    }
}

/// Whether a TLS curve name and an SSH curve name denote the same curve.
fn curve_matches(tls_name: &str, ssh_param: &str) -> bool {
    matches!(
        (tls_name, ssh_param),
        ("secp256r1", "nistp256") | ("secp384r1", "nistp384") | ("secp521r1", "nistp521")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str) -> Policy {
        match Policy::builtin(name) {
            Ok(p) => p,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    fn rsa2048() -> PublicKey {
        PublicKey {
            key: "rsa".into(),
            curve: None,
            bits: 2048,
        }
    }

    fn tls12(suites: &[u16]) -> VersionOffer {
        VersionOffer {
            version: Some(TlsVersion::Tls12),
            suites: suites.to_vec(),
            server_preference: Some(true),
        }
    }

    #[test]
    fn modern_server_is_fips_only() {
        let offer = TlsOffer {
            versions: vec![
                tls12(&[0xC02F, 0xC030]),
                VersionOffer {
                    version: Some(TlsVersion::Tls13),
                    suites: vec![0x1301, 0x1302],
                    server_preference: Some(true),
                },
            ],
            groups: Some(vec![23, 24]),
            signature_schemes: Some(vec![0x0804, 0x0401]),
            keys: vec![rsa2048()],
            features: TlsFeatures {
                extended_master_secret: Some(true),
                secure_renegotiation: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        let a = policy("fips-140-3").assess_tls(&offer);
        assert_eq!(
            a.as_ref().map(|a| a.verdict),
            Some(EndpointVerdict::FipsOnly),
            "{a:?}"
        );
    }

    #[test]
    fn chacha_and_x25519_make_it_only_capable() {
        let offer = TlsOffer {
            versions: vec![VersionOffer {
                version: Some(TlsVersion::Tls13),
                suites: vec![0x1301, 0x1303],
                server_preference: None,
            }],
            groups: Some(vec![29, 23]),
            keys: vec![rsa2048()],
            ..Default::default()
        };
        let a = policy("fips-140-3").assess_tls(&offer);
        assert_eq!(
            a.as_ref().map(|a| a.verdict),
            Some(EndpointVerdict::FipsCapable)
        );
        let items: Vec<&str> = a
            .iter()
            .flat_map(|a| &a.findings)
            .map(|f| f.item.as_str())
            .collect();
        assert!(
            items.contains(&"TLS_CHACHA20_POLY1305_SHA256") && items.contains(&"x25519"),
            "{items:?}"
        );
    }

    #[test]
    fn tls12_without_ems_does_not_count_under_140_3_but_does_under_140_2() {
        let offer = TlsOffer {
            versions: vec![tls12(&[0xC02F])],
            groups: Some(vec![23]),
            keys: vec![rsa2048()],
            features: TlsFeatures {
                extended_master_secret: Some(false),
                ..Default::default()
            },
            ..Default::default()
        };
        let v3 = policy("fips-140-3").assess_tls(&offer).map(|a| a.verdict);
        let v2 = policy("fips-140-2").assess_tls(&offer).map(|a| a.verdict);
        assert_eq!(v3, Some(EndpointVerdict::NotFipsCapable));
        assert_eq!(v2, Some(EndpointVerdict::FipsOnly));
    }

    #[test]
    fn legacy_server_and_weak_keys() {
        let offer = TlsOffer {
            versions: vec![VersionOffer {
                version: Some(TlsVersion::Tls10),
                suites: vec![0x000A, 0x0005],
                server_preference: None,
            }],
            keys: vec![PublicKey {
                key: "rsa".into(),
                curve: None,
                bits: 1024,
            }],
            ..Default::default()
        };
        let a = policy("fips-140-3").assess_tls(&offer);
        assert_eq!(
            a.as_ref().map(|a| a.verdict),
            Some(EndpointVerdict::NotFipsCapable)
        );
        let worst = a
            .as_ref()
            .and_then(|a| a.findings.first())
            .map(|f| f.verdict);
        assert_eq!(worst, Some(Verdict::Disallowed));
    }

    #[test]
    fn custom_dh_prime_is_not_approved_under_140_3() {
        let offer = TlsOffer {
            versions: vec![tls12(&[0x009E])],
            keys: vec![rsa2048()],
            dh_params: vec![DhParams {
                bits: 2048,
                named_group: None,
            }],
            ..Default::default()
        };
        assert_eq!(
            policy("fips-140-3").assess_tls(&offer).map(|a| a.verdict),
            Some(EndpointVerdict::NotFipsCapable)
        );
        assert_eq!(
            policy("fips-140-2").assess_tls(&offer).map(|a| a.verdict),
            Some(EndpointVerdict::FipsOnly)
        );
    }

    /// An ECDHE-RSA TLS 1.2 server with EMS, on P-256, with these signature schemes.
    fn ecdhe_rsa_tls12(sigalgs: &[u16]) -> TlsOffer {
        TlsOffer {
            versions: vec![tls12(&[0xC02F])],
            groups: Some(vec![23]),
            signature_schemes: Some(sigalgs.to_vec()),
            keys: vec![rsa2048()],
            features: TlsFeatures {
                extended_master_secret: Some(true),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn verdict(policy_name: &str, offer: &TlsOffer) -> Option<EndpointVerdict> {
        policy(policy_name).assess_tls(offer).map(|a| a.verdict)
    }

    #[test]
    fn combination_version_part_sp800_52r2_3_1() {
        let mut offer = ecdhe_rsa_tls12(&[0x0401]);
        offer.versions[0].version = Some(TlsVersion::Tls10);
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::NotFipsCapable)
        );
    }

    #[test]
    fn combination_suite_part_sp800_52r2_3_3_1() {
        let mut offer = ecdhe_rsa_tls12(&[0x0401]);
        offer.versions[0].suites = vec![0xCCA8];
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::NotFipsCapable)
        );
    }

    #[test]
    fn combination_group_part_sp800_56ar3_ig_c_k() {
        let mut offer = ecdhe_rsa_tls12(&[0x0401]);
        offer.groups = Some(vec![29]);
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::NotFipsCapable)
        );
        offer.groups = Some(vec![29, 24]);
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::FipsCapable)
        );
    }

    #[test]
    fn combination_signature_part_sp800_131ar2_sha1_signatures_only() {
        // The server's only scheme is rsa_pkcs1_sha1: no handshake with it is approved.
        let offer = ecdhe_rsa_tls12(&[0x0201]);
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::NotFipsCapable)
        );
        let both = ecdhe_rsa_tls12(&[0x0201, 0x0401]);
        assert_eq!(
            verdict("fips-140-3", &both),
            Some(EndpointVerdict::FipsCapable)
        );
        let good = ecdhe_rsa_tls12(&[0x0804, 0x0401]);
        assert_eq!(
            verdict("fips-140-3", &good),
            Some(EndpointVerdict::FipsOnly)
        );
    }

    #[test]
    fn combination_signature_part_needs_a_scheme_for_the_key_fips186_5() {
        // An ECDSA key signed with SHA-1 and an RSA key with SHA-256: only ECDHE-RSA is approved.
        let mut offer = ecdhe_rsa_tls12(&[0x0203, 0x0401]);
        offer.keys.push(PublicKey {
            key: "ec".into(),
            curve: Some("secp256r1".into()),
            bits: 256,
        });
        offer.versions[0].suites = vec![0xC02B];
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::NotFipsCapable)
        );
        offer.versions[0].suites = vec![0xC02B, 0xC02F];
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::FipsCapable)
        );
    }

    #[test]
    fn combination_signature_part_undetermined_rfc8446_4_2_3() {
        // A TLS 1.3 server never signs with PKCS#1 v1.5: a list read over TLS 1.2 says nothing
        // about its TLS 1.3 signatures, so no verdict rests on it.
        let mut offer = ecdhe_rsa_tls12(&[0x0201]);
        offer.versions = vec![VersionOffer {
            version: Some(TlsVersion::Tls13),
            suites: vec![0x1301],
            server_preference: None,
        }];
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::FipsCapable)
        );
    }

    #[test]
    fn combination_key_part_sp800_131ar2() {
        let mut offer = ecdhe_rsa_tls12(&[0x0401]);
        offer.keys = vec![PublicKey {
            key: "rsa".into(),
            curve: None,
            bits: 1024,
        }];
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::NotFipsCapable)
        );
    }

    #[test]
    fn combination_ems_part_ig_d_q() {
        // TLS 1.3 is approved, but a TLS 1.2-only client gets a handshake without EMS.
        let mut offer = ecdhe_rsa_tls12(&[0x0804, 0x0401]);
        offer.features.extended_master_secret = Some(false);
        offer.versions.push(VersionOffer {
            version: Some(TlsVersion::Tls13),
            suites: vec![0x1301, 0x1302],
            server_preference: Some(true),
        });
        let a = policy("fips-140-3").assess_tls(&offer);
        assert_eq!(
            a.as_ref().map(|a| a.verdict),
            Some(EndpointVerdict::FipsCapable)
        );
        let ems = a
            .iter()
            .flat_map(|a| &a.findings)
            .find(|f| f.item == "tls-extended-master-secret")
            .map(|f| (f.verdict, f.source.as_str()));
        assert_eq!(ems, Some((Verdict::Disallowed, "IG-D.Q")));
        // The FIPS 140-2 view does not require EMS.
        assert_eq!(
            verdict("fips-140-2", &offer),
            Some(EndpointVerdict::FipsOnly)
        );
    }

    #[test]
    fn combination_psk_suites_need_no_certificate_sp800_52r2_app_c() {
        let offer = TlsOffer {
            versions: vec![tls12(&[0x00A8])],
            keys: vec![rsa2048()],
            features: TlsFeatures {
                extended_master_secret: Some(true),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            verdict("fips-140-3", &offer),
            Some(EndpointVerdict::FipsOnly)
        );
    }

    #[test]
    fn no_finding_rests_on_an_undetermined_absence() {
        let mut offer = ecdhe_rsa_tls12(&[0x0804]);
        let tls13_finding = |offer: &TlsOffer| {
            policy("fips-140-3")
                .assess_tls(offer)
                .iter()
                .flat_map(|a| &a.findings)
                .any(|f| f.item == "tls-offers-tls13")
        };
        assert!(tls13_finding(&offer));
        offer.undetermined.push("tls1.3".into());
        assert!(!tls13_finding(&offer));
    }

    #[test]
    fn fips_only_is_not_claimed_past_an_undetermined_item() {
        let mut offer = ecdhe_rsa_tls12(&[0x0804]);
        let judged = |offer: &TlsOffer| policy("fips-140-3").assess_tls(offer);
        offer.versions.push(VersionOffer {
            version: Some(TlsVersion::Tls13),
            suites: vec![0x1301],
            server_preference: None,
        });
        let seen = judged(&offer).unwrap_or_else(|| panic!("judged"));
        assert_eq!(seen.verdict, EndpointVerdict::FipsOnly, "{seen:?}");
        assert_eq!(seen.note, None);
        offer.undetermined.push("tls1.1".into());
        let gap = judged(&offer).unwrap_or_else(|| panic!("judged"));
        assert_eq!(gap.verdict, EndpointVerdict::FipsCapable);
        assert!(gap.note.is_some_and(|n| n.contains("tls1.1")));
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn openssh_default() -> SshOffer {
        SshOffer {
            kex: strings(&[
                "sntrup761x25519-sha512@openssh.com",
                "curve25519-sha256",
                "ecdh-sha2-nistp256",
                "diffie-hellman-group14-sha256",
                "kex-strict-s-v00@openssh.com",
            ]),
            host_key_algorithms: strings(&[
                "rsa-sha2-512",
                "rsa-sha2-256",
                "ecdsa-sha2-nistp256",
                "ssh-ed25519",
            ]),
            ciphers_client_to_server: strings(&[
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-gcm@openssh.com",
            ]),
            ciphers_server_to_client: strings(&[
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-gcm@openssh.com",
            ]),
            macs_client_to_server: strings(&[
                "umac-64-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
            ]),
            macs_server_to_client: strings(&[
                "umac-64-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
            ]),
            compression: strings(&["none", "zlib@openssh.com"]),
            host_keys: vec![
                PublicKey {
                    key: "ec".into(),
                    curve: Some("secp256r1".into()),
                    bits: 256,
                },
                rsa2048(),
            ],
            gex_moduli_bits: vec![],
        }
    }

    #[test]
    fn ssh_default_is_capable_and_markers_are_not_judged() {
        let a = policy("fips-140-3").assess_ssh(&openssh_default());
        assert_eq!(
            a.as_ref().map(|a| a.verdict),
            Some(EndpointVerdict::FipsCapable)
        );
        let items: Vec<&str> = a
            .iter()
            .flat_map(|a| &a.findings)
            .map(|f| f.item.as_str())
            .collect();
        assert!(!items.contains(&"kex-strict-s-v00@openssh.com"));
        assert!(
            items.contains(&"curve25519-sha256") && items.contains(&"umac-64-etm@openssh.com"),
            "{items:?}"
        );
        assert!(policy("fips-140-3")
            .assess_tls(&TlsOffer::default())
            .is_some());
        assert!(policy("aspera").assess_tls(&TlsOffer::default()).is_none());
    }

    #[test]
    fn ssh_combination_needs_a_mac_in_each_direction_rfc4253_6_4() {
        let mut offer = openssh_default();
        offer.ciphers_server_to_client = strings(&["aes128-ctr"]);
        offer.macs_server_to_client = strings(&["umac-64-etm@openssh.com"]);
        let a = policy("fips-140-3").assess_ssh(&offer);
        assert_eq!(a.map(|a| a.verdict), Some(EndpointVerdict::NotFipsCapable));
    }

    #[test]
    fn ssh_combination_needs_a_host_key_of_allowed_size_sp800_131ar2() {
        let mut offer = openssh_default();
        offer.host_key_algorithms = strings(&["rsa-sha2-256"]);
        offer.host_keys = vec![PublicKey {
            key: "rsa".into(),
            curve: None,
            bits: 1024,
        }];
        let a = policy("fips-140-3").assess_ssh(&offer);
        assert_eq!(a.map(|a| a.verdict), Some(EndpointVerdict::NotFipsCapable));
    }

    #[test]
    fn ssh_without_approved_cipher_is_not_capable() {
        let mut offer = openssh_default();
        offer.ciphers_client_to_server = strings(&["chacha20-poly1305@openssh.com"]);
        let a = policy("fips-140-3").assess_ssh(&offer);
        assert_eq!(a.map(|a| a.verdict), Some(EndpointVerdict::NotFipsCapable));
    }
}
