//! Negotiation simulation: what a product with an ordered profile (SecureTransport, Aspera, a
//! RHEL host in FIPS mode) would agree on with a scanned server, or why the transfer fails.
use crate::assess::{SshOffer, TlsOffer};
use crate::item::{Item, Kind};
use crate::policy::{Policy, Profile};
use crate::ssh::{self, SshKind};
use crate::tls::TlsVersion;
use serde::{Deserialize, Serialize};

/// The outcome for one algorithm list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Choice {
    /// Both sides agree on this name.
    Chosen {
        /// The agreed algorithm.
        name: String,
    },
    /// Nothing in common: the connection fails.
    NoCommon,
    /// The profile does not list this kind: a client bound by the policy picks the server's most
    /// preferred entry that the policy allows (shown here).
    Unconstrained {
        /// The server's most preferred entry, if it has one.
        server_first: Option<String>,
    },
    /// The MAC list is not used because the chosen cipher authenticates itself.
    Implicit,
}

impl Choice {
    /// Whether this list does not make the connection fail.
    pub fn is_ok(&self) -> bool {
        !matches!(self, Self::NoCommon)
    }
}

/// SSH picks, for each list, the first client algorithm that the server also offers (RFC 4253
/// 7.1). The profile plays the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SshNegotiation {
    /// Key exchange.
    pub kex: Choice,
    /// Host key algorithm.
    pub host_key: Choice,
    /// Cipher, client to server.
    pub cipher_client_to_server: Choice,
    /// Cipher, server to client.
    pub cipher_server_to_client: Choice,
    /// MAC, client to server.
    pub mac_client_to_server: Choice,
    /// MAC, server to client.
    pub mac_server_to_client: Choice,
}

impl SshNegotiation {
    /// Whether a connection would be set up.
    pub fn succeeds(&self) -> bool {
        [
            &self.kex,
            &self.host_key,
            &self.cipher_client_to_server,
            &self.cipher_server_to_client,
            &self.mac_client_to_server,
            &self.mac_server_to_client,
        ]
        .iter()
        .all(|c| c.is_ok())
    }
}

fn first_common(policy: &Policy, profile: &Profile, kind: Kind, server: &[String]) -> Choice {
    let server: Vec<&String> = server
        .iter()
        .filter(|n| !(kind == Kind::SshKex && ssh::is_kex_marker(n)))
        .collect();
    match profile.list(kind) {
        None => {
            let allowed = server.iter().find(|s| {
                kind.ssh_kind()
                    .is_some_and(|k| policy.judge(&Item::ssh_name(k, s)).verdict.is_allowed())
            });
            Choice::Unconstrained {
                server_first: allowed.map(|s| (*s).clone()),
            }
        }
        Some(client) => client
            .iter()
            .find(|c| server.iter().any(|s| c.names().any(|n| n == s.as_str())))
            .map_or(Choice::NoCommon, |c| Choice::Chosen {
                name: c.name.clone(),
            }),
    }
}

fn mac_for(cipher: &Choice, policy: &Policy, profile: &Profile, server: &[String]) -> Choice {
    let aead = match cipher {
        Choice::Chosen { name }
        | Choice::Unconstrained {
            server_first: Some(name),
        } => ssh::find(SshKind::Cipher, name).is_some_and(|c| c.is_aead_cipher()),
        _ => false,
    };
    if aead {
        Choice::Implicit
    } else {
        first_common(policy, profile, Kind::SshMac, server)
    }
}

/// Simulates an SSH connection from a client with this policy's profile to the scanned server.
/// Lists the profile leaves open are filled with what the policy allows. None without a profile.
pub fn ssh(policy: &Policy, server: &SshOffer) -> Option<SshNegotiation> {
    let profile = policy.profile.as_ref()?;
    let cipher_cs = first_common(
        policy,
        profile,
        Kind::SshCipher,
        &server.ciphers_client_to_server,
    );
    let cipher_sc = first_common(
        policy,
        profile,
        Kind::SshCipher,
        &server.ciphers_server_to_client,
    );
    Some(SshNegotiation {
        kex: first_common(policy, profile, Kind::SshKex, &server.kex),
        host_key: first_common(
            policy,
            profile,
            Kind::SshHostkey,
            &server.host_key_algorithms,
        ),
        mac_client_to_server: mac_for(&cipher_cs, policy, profile, &server.macs_client_to_server),
        mac_server_to_client: mac_for(&cipher_sc, policy, profile, &server.macs_server_to_client),
        cipher_client_to_server: cipher_cs,
        cipher_server_to_client: cipher_sc,
    })
}

/// The outcome of a simulated TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum TlsNegotiation {
    /// A version and suite both sides accept.
    Chosen {
        /// Protocol version.
        version: TlsVersion,
        /// IANA name of the suite.
        suite: String,
        /// Code of the suite.
        code: String,
    },
    /// No version with a suite in common: the transfer fails.
    NoCommon,
    /// The profile does not list TLS suites.
    Unconstrained,
}

/// Simulates a TLS handshake from a client with this profile to the scanned server: the highest
/// version both accept that has a suite in common, and within it the server's pick (its own order
/// when it enforces one, the client's otherwise).
pub fn tls(profile: &Profile, server: &TlsOffer) -> TlsNegotiation {
    let Some(client_suites) = profile.list(Kind::TlsSuite) else {
        return TlsNegotiation::Unconstrained;
    };
    let client_versions = profile.list(Kind::TlsVersion);
    let mut versions: Vec<_> = server
        .versions
        .iter()
        .filter_map(|v| v.version.map(|ver| (ver, v)))
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    for (version, offer) in versions {
        if client_versions.is_some_and(|cv| !cv.iter().any(|i| i.name == version.as_str())) {
            continue;
        }
        let client_codes: Vec<u32> = client_suites
            .iter()
            .filter(|i| {
                let min = i.component("min_version").and_then(TlsVersion::parse);
                let tls13_only = min == Some(TlsVersion::Tls13);
                (version == TlsVersion::Tls13) == tls13_only && min.is_none_or(|m| m <= version)
            })
            .filter_map(|i| i.code)
            .collect();
        let pick = if offer.server_preference.unwrap_or(false) {
            offer
                .suites
                .iter()
                .map(|c| u32::from(*c))
                .find(|c| client_codes.contains(c))
        } else {
            client_codes
                .iter()
                .copied()
                .find(|c| offer.suites.iter().any(|s| u32::from(*s) == *c))
        };
        if let Some(code) = pick {
            let suite = client_suites
                .iter()
                .find(|i| i.code == Some(code))
                .map(|i| i.name.clone())
                .unwrap_or_default();
            return TlsNegotiation::Chosen {
                version,
                suite,
                code: format!("0x{code:04X}"),
            };
        }
    }
    TlsNegotiation::NoCommon
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::VersionOffer;
    use crate::policy::Policy;

    fn profile(name: &str) -> Profile {
        match Policy::builtin(name).map(|p| p.profile) {
            Ok(Some(p)) => p,
            other => panic!("{name}: {other:?}"),
        }
    }

    fn policy_ssh(name: &str, server: &SshOffer) -> SshNegotiation {
        match Policy::builtin(name).ok().and_then(|p| ssh(&p, server)) {
            Some(n) => n,
            None => panic!("{name} has no SSH profile"),
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn securetransport_against_a_modern_tls12_server() {
        let server = TlsOffer {
            versions: vec![VersionOffer {
                version: Some(TlsVersion::Tls12),
                suites: vec![0xC030, 0xC02F, 0x009C],
                server_preference: Some(true),
            }],
            ..Default::default()
        };
        let got = tls(&profile("axway-securetransport"), &server);
        assert_eq!(
            got,
            TlsNegotiation::Chosen {
                version: TlsVersion::Tls12,
                suite: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
                code: "0xC02F".into()
            }
        );
        let client_order = TlsOffer {
            versions: vec![VersionOffer {
                version: Some(TlsVersion::Tls12),
                suites: vec![0x009C, 0xC02F],
                server_preference: Some(false),
            }],
            ..Default::default()
        };
        let got = tls(&profile("axway-securetransport"), &client_order);
        assert!(
            matches!(got, TlsNegotiation::Chosen { ref suite, .. } if suite == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            "{got:?}"
        );
    }

    #[test]
    fn securetransport_prefers_tls13_and_fails_on_chacha_only() {
        let server = TlsOffer {
            versions: vec![
                VersionOffer {
                    version: Some(TlsVersion::Tls12),
                    suites: vec![0xC02F],
                    server_preference: Some(true),
                },
                VersionOffer {
                    version: Some(TlsVersion::Tls13),
                    suites: vec![0x1302, 0x1301],
                    server_preference: Some(true),
                },
            ],
            ..Default::default()
        };
        assert!(matches!(
            tls(&profile("axway-securetransport"), &server),
            TlsNegotiation::Chosen {
                version: TlsVersion::Tls13,
                ..
            }
        ));
        let chacha = TlsOffer {
            versions: vec![VersionOffer {
                version: Some(TlsVersion::Tls12),
                suites: vec![0xCCA8],
                server_preference: Some(true),
            }],
            ..Default::default()
        };
        assert_eq!(
            tls(&profile("axway-securetransport"), &chacha),
            TlsNegotiation::NoCommon
        );
        assert_eq!(
            tls(&profile("aspera"), &chacha),
            TlsNegotiation::Unconstrained
        );
    }

    #[test]
    fn aspera_against_openssh_defaults() {
        let server = SshOffer {
            kex: strings(&["curve25519-sha256", "ecdh-sha2-nistp256", "ext-info-s"]),
            host_key_algorithms: strings(&["ssh-ed25519", "rsa-sha2-512"]),
            ciphers_client_to_server: strings(&[
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-ctr",
            ]),
            ciphers_server_to_client: strings(&[
                "chacha20-poly1305@openssh.com",
                "aes128-ctr",
                "aes256-ctr",
            ]),
            macs_client_to_server: strings(&["umac-64-etm@openssh.com", "hmac-sha2-256"]),
            macs_server_to_client: strings(&["umac-64-etm@openssh.com", "hmac-sha2-256"]),
            ..Default::default()
        };
        let n = policy_ssh("aspera", &server);
        assert!(n.succeeds());
        assert_eq!(
            n.cipher_client_to_server,
            Choice::Chosen {
                name: "aes128-ctr".into()
            }
        );
        assert_eq!(
            n.mac_server_to_client,
            Choice::Chosen {
                name: "hmac-sha2-256".into()
            }
        );
        assert_eq!(
            n.kex,
            Choice::Unconstrained {
                server_first: Some("ecdh-sha2-nistp256".into())
            },
            "curve25519 is not allowed, so a FIPS client skips it"
        );

        let n = policy_ssh("stig-rhel8", &server);
        assert_eq!(
            n.kex,
            Choice::Chosen {
                name: "ecdh-sha2-nistp256".into()
            }
        );

        let mut gcm_only = server.clone();
        gcm_only.ciphers_client_to_server = strings(&["aes256-gcm@openssh.com"]);
        gcm_only.macs_client_to_server = strings(&["umac-64-etm@openssh.com"]);
        let n = policy_ssh("rhel9-fips", &gcm_only);
        assert_eq!(n.mac_client_to_server, Choice::Implicit);
        let n = policy_ssh("aspera", &gcm_only);
        assert_eq!(n.cipher_client_to_server, Choice::NoCommon);
        assert!(!n.succeeds());
    }
}
