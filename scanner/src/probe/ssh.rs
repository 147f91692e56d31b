//! SSH probe: banner and KEXINIT from one connection, then one key exchange per host key type
//! (the exchange-hash signature is verified, so the report proves the server holds the key), and
//! the group-exchange moduli the server hands out.
use super::{Conn, ErrorKind, Failure, Heard, ProbeConfig, ProbeError, Slot};
use crate::observation::{SshCertificate, SshHostKey, SshObservation};
use crate::wire::kexinit_rules;
use crate::wire::ssh::{self, HostKey, KexInit, KexReply};
use crate::wire::ssh_stream::{GreetingReader, PacketReader, SshStreamError};
use crate::wire::WireError;
use aws_lc_rs::{agreement, digest, signature};
use fipsgate_cipher_db::tls;
use futures_util::future::join_all;
use num_bigint::BigUint;
use std::net::SocketAddr;

/// What fipsgate sends as its identification.
pub const CLIENT_ID: &str = concat!("SSH-2.0-fipsgate_", env!("CARGO_PKG_VERSION"));

/// Modulus sizes requested from group-exchange servers.
const GEX_SIZES: [u32; 4] = [1024, 2048, 4096, 8192];

fn malformed(e: WireError) -> ProbeError {
    ProbeError::new(ErrorKind::Malformed, e.to_string())
}

/// One SSH connection up to and including the server's KEXINIT.
struct Session {
    conn: Conn,
    packets: PacketReader,
    server_id: ssh::Identification,
    pre_banner: Vec<String>,
    server_kexinit: Vec<u8>,
}

impl Session {
    async fn open(slot: Slot, addr: SocketAddr, cfg: &ProbeConfig) -> Result<Self, ProbeError> {
        Self::greet(Conn::open_in(slot, addr, cfg).await?, &mut false).await
    }

    /// Exchanges identifications and KEXINITs on a new connection; `identified` turns true as
    /// soon as the server's bytes name SSH.
    async fn greet(mut conn: Conn, identified: &mut bool) -> Result<Self, ProbeError> {
        conn.send(format!("{CLIENT_ID}\r\n").as_bytes()).await?;
        let mut reader = GreetingReader::default();
        let mut chunk = [0u8; 4096];
        let greeting = loop {
            let step = match conn.recv(&mut chunk).await {
                Ok(0) => Err(ProbeError::new(
                    ErrorKind::ConnectionReset,
                    "the server closed the connection before its SSH identification",
                )),
                Ok(n) => reader.push(&chunk[..n]).map_err(stream_error),
                Err(e) => Err(e),
            };
            match step {
                Ok(Some(greeting)) => break greeting,
                Ok(None) => {}
                Err(e) => {
                    *identified |= reader.names_ssh();
                    return Err(e);
                }
            }
        };
        *identified = true;
        let mut session = Self {
            conn,
            packets: PacketReader::new(greeting.rest),
            server_id: greeting.identification,
            pre_banner: greeting.pre_banner,
            server_kexinit: Vec::new(),
        };
        session.server_kexinit = session.read_message(ssh::msg::KEXINIT).await?;
        Ok(session)
    }

    /// Reads packets until one of type `want` (IGNORE and DEBUG skipped).
    async fn read_message(&mut self, want: u8) -> Result<Vec<u8>, ProbeError> {
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            if let Some(payload) = self.packets.next_message(want).map_err(stream_error)? {
                return Ok(payload);
            }
            let n = self.conn.recv(&mut chunk).await?;
            if n == 0 {
                return Err(ProbeError::new(
                    ErrorKind::ConnectionReset,
                    "the server closed the connection",
                ));
            }
            self.packets.push(&chunk[..n]);
        }
    }

    async fn send_payload(&mut self, payload: &[u8]) -> Result<(), ProbeError> {
        self.conn.send(&ssh::encode_packet(payload)).await
    }
}

/// The probe's error for a stream the wire reader refused.
fn stream_error(e: SshStreamError) -> ProbeError {
    let kind = match e {
        SshStreamError::NotSsh(_) => ErrorKind::NotTls,
        SshStreamError::Disconnected(_) => ErrorKind::ConnectionReset,
        SshStreamError::Malformed(_) | SshStreamError::Unexpected { .. } => ErrorKind::Malformed,
    };
    ProbeError::new(kind, e.to_string())
}

/// Key-exchange methods the scanner can complete, best first: ECDH and Curve25519 with
/// aws-lc-rs, then finite-field DH on the RFC 3526 groups (for servers that offer nothing else).
const KEX_METHODS: [(&str, &digest::Algorithm); 9] = [
    ("ecdh-sha2-nistp256", &digest::SHA256),
    ("ecdh-sha2-nistp384", &digest::SHA384),
    ("ecdh-sha2-nistp521", &digest::SHA512),
    ("curve25519-sha256", &digest::SHA256),
    ("curve25519-sha256@libssh.org", &digest::SHA256),
    ("diffie-hellman-group14-sha256", &digest::SHA256),
    ("diffie-hellman-group16-sha512", &digest::SHA512),
    ("diffie-hellman-group18-sha512", &digest::SHA512),
    (
        "diffie-hellman-group14-sha1",
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
    ),
];

fn agreement_of(kex: &str) -> &'static agreement::Algorithm {
    match kex {
        "ecdh-sha2-nistp384" => &agreement::ECDH_P384,
        "ecdh-sha2-nistp521" => &agreement::ECDH_P521,
        "ecdh-sha2-nistp256" => &agreement::ECDH_P256,
        _ => &agreement::X25519,
    }
}

/// The client's ephemeral key for one key exchange.
enum Ephemeral {
    /// ECDH or X25519 (RFC 5656, RFC 8731): public values travel as strings.
    Ecdh(agreement::EphemeralPrivateKey, Vec<u8>),
    /// Finite-field DH with g = 2 (RFC 4253 8): public values travel as mpints.
    Dh { p: BigUint, x: BigUint, e: BigUint },
}

impl Ephemeral {
    fn generate(kex: &str) -> Result<Self, ProbeError> {
        let io = |what: &str| {
            ProbeError::new(
                ErrorKind::Io,
                format!("cannot generate an ephemeral key: {what}"),
            )
        };
        let group = match kex {
            "diffie-hellman-group14-sha256" | "diffie-hellman-group14-sha1" => Some("modp2048"),
            "diffie-hellman-group16-sha512" => Some("modp4096"),
            "diffie-hellman-group18-sha512" => Some("modp8192"),
            _ => None,
        };
        if let Some(name) = group {
            let prime = tls::dh_groups()
                .iter()
                .find(|g| g.name == name)
                .ok_or_else(|| io("unknown DH group"))?;
            let p = BigUint::from_bytes_be(prime.prime);
            let mut secret = [0u8; 64];
            aws_lc_rs::rand::fill(&mut secret).map_err(|_| io("no randomness"))?;
            let x = BigUint::from_bytes_be(&secret) + 2u32;
            let e = BigUint::from(2u32).modpow(&x, &p);
            return Ok(Self::Dh { p, x, e });
        }
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(agreement_of(kex), &rng)
            .map_err(|_| io("ECDH"))?;
        let public = private
            .compute_public_key()
            .map_err(|_| io("ECDH public key"))?
            .as_ref()
            .to_vec();
        Ok(Self::Ecdh(private, public))
    }

    /// The KEX(EC)DH_INIT payload.
    fn init(&self) -> Vec<u8> {
        let mut init = vec![ssh::msg::KEX_ECDH_INIT];
        match self {
            Self::Ecdh(_, public) => ssh::put_string(&mut init, public),
            Self::Dh { e, .. } => ssh::put_mpint(&mut init, &e.to_bytes_be()),
        }
        init
    }

    /// Appends both public values to the exchange-hash input and returns the shared secret.
    fn finish(
        self,
        kex: &str,
        server_public: &[u8],
        exchange: &mut Vec<u8>,
    ) -> Result<Vec<u8>, ProbeError> {
        let invalid = || {
            ProbeError::new(
                ErrorKind::Malformed,
                "the server's ephemeral key is invalid",
            )
        };
        match self {
            Self::Ecdh(private, public) => {
                ssh::put_string(exchange, &public);
                ssh::put_string(exchange, server_public);
                let peer =
                    agreement::UnparsedPublicKey::new(agreement_of(kex), server_public.to_vec());
                agreement::agree_ephemeral(private, peer, invalid(), |k| Ok(k.to_vec()))
            }
            Self::Dh { p, x, e } => {
                let f = BigUint::from_bytes_be(server_public);
                if f <= BigUint::from(1u32) || f >= &p - 1u32 {
                    return Err(invalid());
                }
                ssh::put_mpint(exchange, &e.to_bytes_be());
                ssh::put_mpint(exchange, server_public);
                Ok(f.modpow(&x, &p).to_bytes_be())
            }
        }
    }
}

/// Host key algorithms grouped by the key they need: one key exchange per group. RSA
/// signature variants share a key (the best one offered is used); each certificate type is a
/// group of its own.
fn host_key_groups(algorithms: &[String]) -> Vec<String> {
    let mut chosen: Vec<String> = Vec::new();
    for variants in [
        ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
        [
            "rsa-sha2-512-cert-v01@openssh.com",
            "rsa-sha2-256-cert-v01@openssh.com",
            "ssh-rsa-cert-v01@openssh.com",
        ],
    ] {
        if let Some(best) = variants.iter().find(|v| algorithms.iter().any(|a| a == *v)) {
            chosen.push((*best).to_owned());
        }
    }
    for a in algorithms {
        let plain = matches!(
            a.as_str(),
            "ecdsa-sha2-nistp256"
                | "ecdsa-sha2-nistp384"
                | "ecdsa-sha2-nistp521"
                | "ssh-ed25519"
                | "ssh-dss"
        );
        let cert = matches!(
            a.as_str(),
            "ecdsa-sha2-nistp256-cert-v01@openssh.com"
                | "ecdsa-sha2-nistp384-cert-v01@openssh.com"
                | "ecdsa-sha2-nistp521-cert-v01@openssh.com"
                | "ssh-ed25519-cert-v01@openssh.com"
                | "ssh-dss-cert-v01@openssh.com"
        );
        if (plain || cert) && !chosen.contains(a) {
            chosen.push(a.clone());
        }
    }
    chosen
}

/// Verifies `sig_blob` over `h` with the host key.
fn verify(host_key: &HostKey, sig_blob: &[u8], h: &[u8]) -> Result<bool, WireError> {
    let (alg, sig) = ssh::parse_signature(sig_blob)?;
    let ok = match host_key {
        HostKey::Rsa { e, n } => {
            let params: &signature::RsaParameters = match alg.as_str() {
                "rsa-sha2-512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                "rsa-sha2-256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "ssh-rsa" => &signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                _ => return Ok(false),
            };
            // SSH mpints carry a leading zero byte when the top bit is set; aws-lc wants none.
            let strip = |v: &[u8]| v[v.iter().position(|b| *b != 0).unwrap_or(v.len())..].to_vec();
            let (n, e) = (strip(n), strip(e));
            signature::RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .verify(params, h, &sig)
            .is_ok()
        }
        HostKey::Ecdsa { curve, point } => {
            let (params, field): (&'static signature::EcdsaVerificationAlgorithm, usize) =
                match curve.as_str() {
                    "nistp256" => (&signature::ECDSA_P256_SHA256_FIXED, 32),
                    "nistp384" => (&signature::ECDSA_P384_SHA384_FIXED, 48),
                    "nistp521" => (&signature::ECDSA_P521_SHA512_FIXED, 66),
                    _ => return Ok(false),
                };
            let fixed = ssh::ecdsa_fixed(&sig, field)?;
            signature::UnparsedPublicKey::new(params, point)
                .verify(h, &fixed)
                .is_ok()
        }
        HostKey::Ed25519(pk) => signature::UnparsedPublicKey::new(&signature::ED25519, pk)
            .verify(h, &sig)
            .is_ok(),
        HostKey::Dsa { .. } | HostKey::Other(_) => return Ok(false),
    };
    Ok(ok)
}

/// The server's first name that is a valid algorithm name (RFC 4251 6), or `none`: a hostile
/// server's malformed names are never echoed back.
fn first_or_none(list: &[String]) -> Vec<String> {
    list.iter()
        .find(|n| kexinit_rules::valid_name(n))
        .cloned()
        .map_or_else(|| vec!["none".to_owned()], |f| vec![f])
}

/// Our KEXINIT: one kex method, the given host key algorithms, and the server's own first
/// cipher and MAC, so that negotiation cannot fail on lists the probe does not care about.
fn client_kexinit(server: &KexInit, kex: &str, host_key: Vec<String>) -> KexInit {
    KexInit {
        kex: vec![kex.to_owned()],
        host_key,
        ciphers_client_to_server: first_or_none(&server.ciphers_client_to_server),
        ciphers_server_to_client: first_or_none(&server.ciphers_server_to_client),
        macs_client_to_server: first_or_none(&server.macs_client_to_server),
        macs_server_to_client: first_or_none(&server.macs_server_to_client),
        compression_client_to_server: vec!["none".into()],
        compression_server_to_client: vec!["none".into()],
        ..Default::default()
    }
}

/// Completes a key exchange for one host key algorithm on an open session.
async fn fetch_host_key(
    session: &mut Session,
    kex: &str,
    hash: &'static digest::Algorithm,
    host_alg: &str,
) -> Result<SshHostKey, ProbeError> {
    let server = KexInit::parse(&session.server_kexinit).map_err(malformed)?;
    let ours = client_kexinit(&server, kex, vec![host_alg.to_owned()]);
    let mut cookie = [0u8; 16];
    aws_lc_rs::rand::fill(&mut cookie)
        .map_err(|_| ProbeError::new(ErrorKind::Io, "no randomness for the KEXINIT cookie"))?;
    let our_kexinit = ours.encode(cookie);
    session.send_payload(&our_kexinit).await?;
    let ephemeral = Ephemeral::generate(kex)?;
    session.send_payload(&ephemeral.init()).await?;
    let reply = KexReply::parse(&session.read_message(ssh::msg::KEX_ECDH_REPLY).await?)
        .map_err(malformed)?;
    let mut exchange = Vec::new();
    ssh::put_string(&mut exchange, CLIENT_ID.as_bytes());
    ssh::put_string(&mut exchange, session.server_id.raw.as_bytes());
    ssh::put_string(&mut exchange, &our_kexinit);
    ssh::put_string(&mut exchange, &session.server_kexinit);
    ssh::put_string(&mut exchange, &reply.host_key);
    let shared = ephemeral.finish(kex, &reply.server_public, &mut exchange)?;
    ssh::put_mpint(&mut exchange, &shared);
    let h = digest::digest(hash, &exchange);
    let (key, cert) = HostKey::parse_with_certificate(&reply.host_key).map_err(malformed)?;
    let verified = verify(&key, &reply.signature, h.as_ref()).map_err(malformed)?;
    let fp = digest::digest(&digest::SHA256, &key.blob());
    let certificate = cert.map(|c| {
        let time = |t: u64| {
            if t == u64::MAX {
                "forever".to_owned()
            } else {
                crate::time::rfc3339(i64::try_from(t).unwrap_or(i64::MAX))
            }
        };
        let ca = HostKey::parse(&c.ca_key)
            .map(|k| k.key_type())
            .unwrap_or_else(|_| "unknown".to_owned());
        SshCertificate {
            key_id: c.key_id,
            serial: c.serial,
            cert_type: if c.cert_type == 2 {
                "host".to_owned()
            } else {
                "user".to_owned()
            },
            principals: c.principals,
            valid_after: time(c.valid_after),
            valid_before: time(c.valid_before),
            ca_key_type: ca,
            ca_fingerprint_sha256: ssh::fingerprint_text(
                digest::digest(&digest::SHA256, &c.ca_key).as_ref(),
            ),
        }
    });
    Ok(SshHostKey {
        algorithm: host_alg.to_owned(),
        key_type: key.key_type(),
        bits: key.bits(),
        curve: match &key {
            HostKey::Ecdsa { curve, .. } => Some(match curve.as_str() {
                "nistp256" => "secp256r1".to_owned(),
                "nistp384" => "secp384r1".to_owned(),
                "nistp521" => "secp521r1".to_owned(),
                other => other.to_owned(),
            }),
            _ => None,
        },
        fingerprint_sha256: ssh::fingerprint_text(fp.as_ref()),
        signature_verified: verified,
        certificate,
    })
}

/// Asks a group-exchange server for a modulus of `preferred` bits; returns the size it gave.
async fn gex_size(
    slot: Slot,
    addr: SocketAddr,
    cfg: &ProbeConfig,
    kex: &str,
    preferred: u32,
) -> Result<u32, ProbeError> {
    let mut session = Session::open(slot, addr, cfg).await?;
    let server = KexInit::parse(&session.server_kexinit).map_err(malformed)?;
    let host_keys = server
        .host_key
        .iter()
        .filter(|n| kexinit_rules::valid_name(n))
        .cloned()
        .collect();
    let ours = client_kexinit(&server, kex, host_keys);
    session.send_payload(&ours.encode([0x5A; 16])).await?;
    session
        .send_payload(&ssh::gex_request(preferred.min(1024), preferred, 8192))
        .await?;
    let group = session.read_message(ssh::msg::KEX_DH_GEX_GROUP).await?;
    ssh::gex_group_bits(&group).map_err(malformed)
}

/// Probes one SSH endpoint; returns the observation and the connections used.
pub async fn probe(addr: SocketAddr, cfg: &ProbeConfig) -> Result<(SshObservation, u32), Failure> {
    let overall = cfg.timeout * 3;
    let failed = |error: ProbeError, heard: Heard| Failure {
        error,
        connections: 1,
        heard,
    };
    let conn = Conn::open(addr, cfg).await.map_err(|e| {
        let heard = Heard::at_connect(&e);
        failed(e, heard)
    })?;
    let mut identified = false;
    let greeting = tokio::time::timeout(overall, Session::greet(conn, &mut identified)).await;
    let heard = if identified {
        Heard::Protocol
    } else {
        Heard::Nothing
    };
    let first = match greeting {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => return Err(failed(e, heard)),
        Err(_) => {
            let e = ProbeError::new(
                ErrorKind::Timeout,
                format!("no SSH identification and KEXINIT within {overall:?}"),
            );
            return Err(failed(e, heard));
        }
    };
    let kexinit =
        KexInit::parse(&first.server_kexinit).map_err(|e| failed(malformed(e), Heard::Protocol))?;
    let mut connections = 1;
    let mut obs = SshObservation::new(&first.server_id, &first.pre_banner, &kexinit);
    let method = KEX_METHODS
        .iter()
        .find(|(m, _)| kexinit.kex.iter().any(|k| k == m));
    let groups = host_key_groups(&kexinit.host_key);
    let gex = [
        "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group-exchange-sha1",
    ]
    .into_iter()
    .find(|g| kexinit.kex.iter().any(|k| k == g));
    // Each host key type and each group-exchange size is a connection of its own (the first
    // host key reuses the first connection), all side by side within the address's
    // `--per-host` connections; results are read back in this order whatever finishes first.
    let mut first = Some(first);
    let host_key_jobs = match method {
        None => {
            obs.notes.push("host keys not fetched: the server offers no key exchange the scanner can complete (ECDH, Curve25519, or DH groups 14, 16, 18)".to_owned());
            Vec::new()
        }
        Some((kex, hash)) => groups
            .iter()
            .map(|alg| {
                let reused = first.take();
                connections += u32::from(reused.is_none());
                async move {
                    let mut session = match reused {
                        Some(s) => s,
                        None => Session::open(Slot::acquire(cfg).await, addr, cfg)
                            .await
                            .map_err(|e| format!("host key {alg} not fetched: {e}"))?,
                    };
                    match tokio::time::timeout(
                        overall,
                        fetch_host_key(&mut session, kex, hash, alg),
                    )
                    .await
                    {
                        Ok(Ok(key)) => Ok(key),
                        Ok(Err(e)) => Err(format!("host key {alg} not fetched: {e}")),
                        Err(_) => Err(format!(
                            "host key {alg} not fetched: the key exchange timed out"
                        )),
                    }
                }
            })
            .collect(),
    };
    // The first connection, if no host key needs it, is closed before the others open.
    drop(first);
    let gex_jobs: Vec<_> = gex
        .map(|gex| {
            GEX_SIZES
                .iter()
                .map(|size| async move {
                    let slot = Slot::acquire(cfg).await;
                    match tokio::time::timeout(overall, gex_size(slot, addr, cfg, gex, *size)).await
                    {
                        Ok(Ok(bits)) => Ok(bits),
                        Ok(Err(e)) => Err(format!("group exchange for {size} bits: {e}")),
                        Err(_) => Err(format!("group exchange for {size} bits timed out")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    connections += gex_jobs.len() as u32;
    let (host_keys, moduli) = tokio::join!(join_all(host_key_jobs), join_all(gex_jobs));
    for key in host_keys {
        match key {
            Ok(key) => obs.host_keys.push(key),
            Err(note) => obs.notes.push(note),
        }
    }
    for bits in moduli {
        match bits {
            Ok(bits) if !obs.gex_moduli_bits.contains(&bits) => obs.gex_moduli_bits.push(bits),
            Ok(_) => {}
            Err(note) => obs.notes.push(note),
        }
    }
    if let Some(policy) = cfg.confirm.clone() {
        connections += 1;
        obs.confirm = Some(super::confirm::confirm(addr, cfg.timeout, policy).await);
    }
    Ok((obs, connections))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::kexinit_rules::{identification_violations, kexinit_violations};

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_kexinit_the_probe_builds_keeps_rfc_4253() {
        assert!(identification_violations(CLIENT_ID).is_empty());
        let openssh = KexInit {
            kex: names(&["curve25519-sha256", "ecdh-sha2-nistp256"]),
            host_key: names(&["rsa-sha2-512", "ssh-ed25519"]),
            ciphers_client_to_server: names(&["chacha20-poly1305@openssh.com", "aes128-ctr"]),
            ciphers_server_to_client: names(&["chacha20-poly1305@openssh.com", "aes128-ctr"]),
            macs_client_to_server: names(&["umac-64-etm@openssh.com"]),
            macs_server_to_client: names(&["umac-64-etm@openssh.com"]),
            compression_client_to_server: names(&["none"]),
            compression_server_to_client: names(&["none"]),
            ..Default::default()
        };
        // A hostile server: empty lists, and names that break RFC 4251 first.
        let long = "x".repeat(80);
        let hostile = KexInit {
            host_key: names(&[&long, "ssh-ed25519"]),
            ciphers_client_to_server: names(&["a b", "aes256-ctr"]),
            macs_server_to_client: names(&["\u{1}"]),
            ..Default::default()
        };
        for server in [&openssh, &hostile] {
            for (kex, _) in KEX_METHODS {
                for host_key in [vec!["ssh-ed25519".to_owned()], server.host_key.clone()] {
                    let host_key: Vec<String> = host_key
                        .into_iter()
                        .filter(|n| kexinit_rules::valid_name(n))
                        .collect();
                    let ours = client_kexinit(server, kex, host_key);
                    let sent = KexInit::parse(&ours.encode([7; 16]))
                        .unwrap_or_else(|e| panic!("{kex}: {e}"));
                    let broken = kexinit_violations(&sent);
                    assert!(broken.is_empty(), "{kex} against {server:?}: {broken:#?}");
                }
            }
        }
    }

    #[test]
    fn one_exchange_per_key() {
        let algs: Vec<String> = [
            "rsa-sha2-512",
            "rsa-sha2-256",
            "ssh-rsa",
            "ecdsa-sha2-nistp256",
            "ssh-ed25519",
            "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            host_key_groups(&algs),
            [
                "rsa-sha2-512",
                "ecdsa-sha2-nistp256",
                "ssh-ed25519",
                "ecdsa-sha2-nistp256-cert-v01@openssh.com"
            ]
        );
        assert_eq!(host_key_groups(&["ssh-rsa".to_owned()]), ["ssh-rsa"]);
    }
}
