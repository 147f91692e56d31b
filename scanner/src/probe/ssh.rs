//! SSH probe: banner and KEXINIT from one connection, then one key exchange per host key type
//! (the exchange-hash signature is verified, so the report proves the server holds the key), and
//! the group-exchange moduli the server hands out, each asked for on a host key's exchange where
//! there is one. Two more connections are greeted beside the first, so that the next key
//! exchanges start as soon as the server's lists are known instead of a connection later.
use super::{Conn, ErrorKind, Failure, Heard, ProbeConfig, ProbeError, Slot};
use crate::observation::{SshCertificate, SshHostKey, SshObservation};
use crate::wire::kexinit_rules;
use crate::wire::ssh::{self, GexGroup, HostKey, KexInit, KexReply};
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

/// Connections greeted beside the first. A server with three host key types and group exchange
/// (OpenSSH's defaults) needs four; the fourth only reads a modulus and is not the last to end.
const SPARES: usize = 2;

/// A connection greeted beside the first, for a later job to take: opened only within the
/// address's `--per-host` places free now, and closed (or stopped) when dropped unused.
struct Spare(tokio::task::JoinHandle<Option<Session>>);

impl Spare {
    fn open(addr: SocketAddr, cfg: &ProbeConfig) -> Option<Self> {
        let slot = Slot::try_acquire(cfg)?;
        let cfg = cfg.clone();
        Some(Self(tokio::spawn(async move {
            let conn = Conn::open_in(slot, addr, &cfg).await.ok()?;
            let mut identified = false;
            let greeting = Session::greet(conn, &mut identified, &[]);
            tokio::time::timeout(cfg.timeout * 3, greeting)
                .await
                .ok()?
                .ok()
        })))
    }

    /// The greeted session, or none if it failed: the job then opens a connection of its own.
    async fn take(mut self) -> Option<Session> {
        (&mut self.0).await.ok().flatten()
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        self.0.abort();
    }
}

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
    /// A new connection whose identification is followed at once by `payloads`, as packets.
    async fn open(
        slot: Slot,
        addr: SocketAddr,
        cfg: &ProbeConfig,
        payloads: &[&[u8]],
    ) -> Result<Self, ProbeError> {
        let conn = Conn::open_in(slot, addr, cfg).await?;
        Self::greet(conn, &mut false, payloads).await
    }

    /// Exchanges identifications and KEXINITs on a new connection, sending `payloads` right
    /// after our identification; `identified` turns true as soon as the server's bytes name SSH.
    async fn greet(
        mut conn: Conn,
        identified: &mut bool,
        payloads: &[&[u8]],
    ) -> Result<Self, ProbeError> {
        let mut opening = format!("{CLIENT_ID}\r\n").into_bytes();
        for payload in payloads {
            opening.extend_from_slice(&ssh::encode_packet(payload));
        }
        conn.send(&opening).await?;
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

/// The probe's error for an ephemeral key it could not make.
fn no_key(what: &str) -> ProbeError {
    ProbeError::new(
        ErrorKind::Io,
        format!("cannot generate an ephemeral key: {what}"),
    )
}

impl Ephemeral {
    /// A key for one of the fixed methods of [`KEX_METHODS`].
    fn generate(kex: &str) -> Result<Self, ProbeError> {
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
                .ok_or_else(|| no_key("unknown DH group"))?;
            return Self::finite_field(BigUint::from_bytes_be(prime.prime), BigUint::from(2u32));
        }
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(agreement_of(kex), &rng)
            .map_err(|_| no_key("ECDH"))?;
        let public = private
            .compute_public_key()
            .map_err(|_| no_key("ECDH public key"))?
            .as_ref()
            .to_vec();
        Ok(Self::Ecdh(private, public))
    }

    /// A finite-field key for modulus `p` and generator `g`.
    fn finite_field(p: BigUint, g: BigUint) -> Result<Self, ProbeError> {
        let mut secret = [0u8; 64];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| no_key("no randomness"))?;
        let x = BigUint::from_bytes_be(&secret) + 2u32;
        let e = g.modpow(&x, &p);
        Ok(Self::Dh { p, x, e })
    }

    /// The KEX(EC)DH_INIT (or KEX_DH_GEX_INIT, `number`) payload.
    fn init(&self, number: u8) -> Vec<u8> {
        let mut init = vec![number];
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

/// Group-exchange methods, best first (RFC 4419, RFC 8268).
const GEX_METHODS: [(&str, &digest::Algorithm); 2] = [
    ("diffie-hellman-group-exchange-sha256", &digest::SHA256),
    (
        "diffie-hellman-group-exchange-sha1",
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
    ),
];

/// The largest modulus the probe asks for; a bigger one is not computed with.
const GEX_MAX: u32 = 8192;

/// The key exchange one connection runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exchange {
    /// A method of [`KEX_METHODS`]: a fixed group or curve, one round trip.
    Fixed(&'static str, &'static digest::Algorithm),
    /// Group exchange asking for a modulus of `preferred` bits: one round trip more, and the
    /// modulus the server hands out is read on the way.
    Group(&'static str, &'static digest::Algorithm, u32),
}

/// What one connection asks: a host key (by a full key exchange), the modulus of a group
/// exchange, or both at once.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Job {
    host_key: Option<String>,
    exchange: Exchange,
}

/// One connection a question: each group-exchange size rides on a host key's exchange where
/// there is one, the smallest sizes first; the largest (8,192 bits) is asked alone wherever a
/// fixed method can take the host key instead, so neither side computes an 8,192-bit DH.
/// Leftover host keys use the best fixed method, leftover sizes stop at the modulus. Host keys
/// come out in `host_keys`' order, and the sizes in [`GEX_SIZES`]' order.
fn plan(
    host_keys: &[String],
    fixed: Option<(&'static str, &'static digest::Algorithm)>,
    gex: Option<(&'static str, &'static digest::Algorithm)>,
) -> Vec<Job> {
    let sizes: &[u32] = match gex {
        Some(_) => &GEX_SIZES,
        None => &[],
    };
    let pairable = match fixed {
        Some(_) => sizes.len().saturating_sub(1),
        None => sizes.len(),
    };
    let paired = host_keys.len().min(pairable);
    let alone = match (fixed, gex) {
        (Some((method, hash)), _) => Some(Exchange::Fixed(method, hash)),
        (None, Some((method, hash))) => Some(Exchange::Group(method, hash, 2048)),
        (None, None) => None,
    };
    let group = |size: u32| gex.map(|(method, hash)| Exchange::Group(method, hash, size));
    let job = |host_key: Option<&String>, exchange: Option<Exchange>| {
        exchange.map(|exchange| Job {
            host_key: host_key.cloned(),
            exchange,
        })
    };
    let pairs = host_keys.iter().zip(sizes).take(paired);
    pairs
        .filter_map(|(key, size)| job(Some(key), group(*size)))
        .chain(
            host_keys[paired..]
                .iter()
                .filter_map(|key| job(Some(key), alone)),
        )
        .chain(
            sizes[paired..]
                .iter()
                .filter_map(|size| job(None, group(*size))),
        )
        .collect()
}

/// What one job found: the host key or why not, the group-exchange modulus or why not, and the
/// connections it opened.
#[derive(Default)]
struct Found {
    host_key: Option<Result<SshHostKey, String>>,
    modulus: Option<Result<u32, String>>,
    opened: u32,
}

/// What a job sends as soon as it knows the server's lists: our KEXINIT and the first
/// key-exchange message. On a new connection both follow our identification in one write,
/// before the server's KEXINIT arrives (which saves a round trip); they are built from the
/// first connection's KEXINIT, and the exchange hash uses the one this connection received.
struct Opening {
    kexinit: Vec<u8>,
    first: Vec<u8>,
    ephemeral: Option<Ephemeral>,
}

impl Opening {
    fn new(job: &Job, server: &KexInit) -> Result<Self, ProbeError> {
        let (method, _) = job.exchange.method();
        let host_keys = match &job.host_key {
            Some(alg) => vec![alg.clone()],
            // Any host key will do when only the modulus is asked for.
            None => server
                .host_key
                .iter()
                .filter(|n| kexinit_rules::valid_name(n))
                .cloned()
                .collect(),
        };
        let mut cookie = [0u8; 16];
        aws_lc_rs::rand::fill(&mut cookie)
            .map_err(|_| ProbeError::new(ErrorKind::Io, "no randomness for the KEXINIT cookie"))?;
        let kexinit = client_kexinit(server, method, host_keys).encode(cookie);
        Ok(match job.exchange {
            Exchange::Fixed(..) => {
                let ephemeral = Ephemeral::generate(method)?;
                Self {
                    kexinit,
                    first: ephemeral.init(ssh::msg::KEX_ECDH_INIT),
                    ephemeral: Some(ephemeral),
                }
            }
            Exchange::Group(_, _, preferred) => Self {
                kexinit,
                first: ssh::gex_request(preferred.min(1024), preferred, GEX_MAX),
                ephemeral: None,
            },
        })
    }

    fn payloads(&self) -> [&[u8]; 2] {
        [&self.kexinit, &self.first]
    }
}

impl Exchange {
    fn method(self) -> (&'static str, &'static digest::Algorithm) {
        match self {
            Self::Fixed(method, hash) | Self::Group(method, hash, _) => (method, hash),
        }
    }
}

/// Completes one job on a session whose [`Opening`] was sent.
async fn finish_job(
    session: &mut Session,
    job: &Job,
    opening: Opening,
    found: &mut Found,
) -> Result<(), ProbeError> {
    let (method, hash) = job.exchange.method();
    // The exchange-hash fields that group exchange puts between K_S and e (RFC 4419 3).
    let mut group_fields = Vec::new();
    let (ephemeral, reply) = match (job.exchange, opening.ephemeral) {
        (Exchange::Fixed(..), Some(ephemeral)) => (ephemeral, ssh::msg::KEX_ECDH_REPLY),
        (Exchange::Group(_, _, preferred), _) => {
            let group = GexGroup::parse(&session.read_message(ssh::msg::KEX_DH_GEX_GROUP).await?)
                .map_err(malformed)?;
            let bits = group.bits();
            found.modulus = Some(Ok(bits));
            if job.host_key.is_none() {
                return Ok(());
            }
            let min = preferred.min(1024);
            if !(min..=GEX_MAX).contains(&bits) {
                return Err(ProbeError::new(
                    ErrorKind::Malformed,
                    format!("the server's group of {bits} bits is outside the {min}..{GEX_MAX} asked for"),
                ));
            }
            let p = BigUint::from_bytes_be(&group.prime);
            let g = BigUint::from_bytes_be(&group.generator);
            if g <= BigUint::from(1u32) || g >= &p - 1u32 {
                return Err(ProbeError::new(
                    ErrorKind::Malformed,
                    "the server's group generator is out of range",
                ));
            }
            for v in [min, preferred, GEX_MAX] {
                group_fields.extend_from_slice(&v.to_be_bytes());
            }
            ssh::put_mpint(&mut group_fields, &group.prime);
            ssh::put_mpint(&mut group_fields, &group.generator);
            let ephemeral = Ephemeral::finite_field(p, g)?;
            session
                .send_payload(&ephemeral.init(ssh::msg::KEX_DH_GEX_INIT))
                .await?;
            (ephemeral, ssh::msg::KEX_DH_GEX_REPLY)
        }
        (Exchange::Fixed(..), None) => {
            return Err(ProbeError::new(ErrorKind::Io, "no ephemeral key was made"))
        }
    };
    let reply = KexReply::parse(&session.read_message(reply).await?, reply).map_err(malformed)?;
    let mut exchange = Vec::new();
    ssh::put_string(&mut exchange, CLIENT_ID.as_bytes());
    ssh::put_string(&mut exchange, session.server_id.raw.as_bytes());
    ssh::put_string(&mut exchange, &opening.kexinit);
    ssh::put_string(&mut exchange, &session.server_kexinit);
    ssh::put_string(&mut exchange, &reply.host_key);
    exchange.extend_from_slice(&group_fields);
    let shared = ephemeral.finish(method, &reply.server_public, &mut exchange)?;
    ssh::put_mpint(&mut exchange, &shared);
    let h = digest::digest(hash, &exchange);
    let alg = job.host_key.as_deref().unwrap_or_default();
    found.host_key = Some(Ok(described(alg, &reply, h.as_ref())?));
    Ok(())
}

/// The host key of a key-exchange reply, with whether its signature over `h` verifies.
fn described(host_alg: &str, reply: &KexReply, h: &[u8]) -> Result<SshHostKey, ProbeError> {
    let (key, cert) = HostKey::parse_with_certificate(&reply.host_key).map_err(malformed)?;
    let verified = verify(&key, &reply.signature, h).map_err(malformed)?;
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

/// Runs one job within the probe's overall timeout, on `reused` or on a connection of its own
/// (counted in `found`); the error is in the report's words.
async fn job_on(
    reused: Option<Session>,
    job: &Job,
    server: &KexInit,
    addr: SocketAddr,
    cfg: &ProbeConfig,
    found: &mut Found,
) -> Result<(), String> {
    let overall = cfg.timeout * 3;
    let run = async {
        let opening = Opening::new(job, server)?;
        let mut session = match reused {
            Some(mut s) => {
                for payload in opening.payloads() {
                    s.send_payload(payload).await?;
                }
                s
            }
            None => {
                found.opened += 1;
                Session::open(Slot::acquire(cfg).await, addr, cfg, &opening.payloads()).await?
            }
        };
        finish_job(&mut session, job, opening, found).await
    };
    match tokio::time::timeout(overall, run).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".to_owned()),
    }
}

/// What a connection's job asked and did not get, in the report's words.
fn missed(job: &Job, found: &mut Found, why: &str) {
    if let Some(alg) = &job.host_key {
        if !matches!(found.host_key, Some(Ok(_))) {
            found.host_key = Some(Err(format!("host key {alg} not fetched: {why}")));
        }
    }
    if let Exchange::Group(_, _, size) = job.exchange {
        if found.modulus.is_none() {
            found.modulus = Some(Err(format!("group exchange for {size} bits: {why}")));
        }
    }
}

/// Probes one SSH endpoint; returns the observation and the connections used.
pub async fn probe(addr: SocketAddr, cfg: &ProbeConfig) -> Result<(SshObservation, u32), Failure> {
    // Key exchanges need it once the first KEXINIT is read.
    super::warm_up_randomness();
    let overall = cfg.timeout * 3;
    let conn = Conn::open(addr, cfg).await.map_err(|e| Failure {
        heard: Heard::at_connect(&e),
        error: e,
        connections: 1,
    })?;
    let spares: Vec<Spare> = (0..SPARES).map_while(|_| Spare::open(addr, cfg)).collect();
    let opened = 1 + spares.len() as u32;
    let failed = |error: ProbeError, heard: Heard| Failure {
        error,
        connections: opened,
        heard,
    };
    let mut identified = false;
    let greeting = tokio::time::timeout(overall, Session::greet(conn, &mut identified, &[])).await;
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
    let mut obs = SshObservation::new(&first.server_id, &first.pre_banner, &kexinit);
    let offered = |methods: &[(&'static str, &'static digest::Algorithm)]| {
        methods
            .iter()
            .copied()
            .find(|(m, _)| kexinit.kex.iter().any(|k| k == m))
    };
    let (fixed, gex) = (offered(&KEX_METHODS), offered(&GEX_METHODS));
    let mut host_keys = host_key_groups(&kexinit.host_key);
    if fixed.is_none() && gex.is_none() && !host_keys.is_empty() {
        obs.notes.push("host keys not fetched: the server offers no key exchange the scanner can complete (ECDH, Curve25519, DH groups 14, 16, 18, or group exchange)".to_owned());
        host_keys.clear();
    }
    let jobs = plan(&host_keys, fixed, gex);
    // Each job is a connection of its own (the first reuses the first connection, the next ones
    // the spares), all side by side within the address's `--per-host` connections; results are
    // read back in the jobs' order whatever finishes first. Connections no job takes are closed
    // here.
    let mut first = Some(first);
    let mut spares = spares.into_iter();
    let server = &kexinit;
    let runs = jobs.iter().map(|job| {
        let reused = first.take();
        let spare = reused.is_none().then(|| spares.next()).flatten();
        async move {
            let reused = match (reused, spare) {
                (Some(session), _) => Some(session),
                // Greeted beside the first, a spare that is not ready once the first is has
                // one answer's wait more.
                (None, Some(spare)) => tokio::time::timeout(cfg.timeout, spare.take())
                    .await
                    .ok()
                    .flatten(),
                (None, None) => None,
            };
            let mut found = Found::default();
            let outcome = job_on(reused, job, server, addr, cfg, &mut found).await;
            if let (Err(_), Some((method, hash)), Some(_)) = (&outcome, fixed, &job.host_key) {
                if matches!(job.exchange, Exchange::Group(..)) {
                    // Some servers list group exchange and refuse it (paramiko without a
                    // moduli file): the host key gets a fixed method of its own.
                    let alone = Job {
                        host_key: job.host_key.clone(),
                        exchange: Exchange::Fixed(method, hash),
                    };
                    let mut again = Found::default();
                    if job_on(None, &alone, server, addr, cfg, &mut again)
                        .await
                        .is_ok()
                    {
                        found.host_key = again.host_key;
                    }
                    found.opened += again.opened;
                }
            }
            if let Err(why) = outcome {
                missed(job, &mut found, &why);
            }
            found
        }
    });
    let runs: Vec<_> = runs.collect();
    drop((first, spares));
    let mut connections = opened;
    for found in join_all(runs).await {
        connections += found.opened;
        match found.host_key {
            Some(Ok(key)) => obs.host_keys.push(key),
            Some(Err(note)) => obs.notes.push(note),
            None => {}
        }
        match found.modulus {
            Some(Ok(bits)) if !obs.gex_moduli_bits.contains(&bits) => {
                obs.gex_moduli_bits.push(bits)
            }
            Some(Err(note)) => obs.notes.push(note),
            _ => {}
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
    fn group_exchange_sizes_ride_on_host_key_exchanges() {
        let fixed = Some(KEX_METHODS[3]);
        let gex = Some(GEX_METHODS[0]);
        let (method, hash) = GEX_METHODS[0];
        let group = |size| Exchange::Group(method, hash, size);
        let keys = names(&["rsa-sha2-512", "ecdsa-sha2-nistp256", "ssh-ed25519"]);
        let job = |key: Option<&str>, exchange| Job {
            host_key: key.map(str::to_owned),
            exchange,
        };
        // OpenSSH's defaults: four connections instead of seven.
        assert_eq!(
            plan(&keys, fixed, gex),
            [
                job(Some("rsa-sha2-512"), group(1024)),
                job(Some("ecdsa-sha2-nistp256"), group(2048)),
                job(Some("ssh-ed25519"), group(4096)),
                job(None, group(8192)),
            ]
        );
        // Four host keys: the fourth takes ECDH rather than an 8192-bit group.
        let five = names(&["a", "b", "c", "d", "e"]);
        let (f_method, f_hash) = KEX_METHODS[3];
        let ecdh = Exchange::Fixed(f_method, f_hash);
        assert_eq!(
            plan(&five, fixed, gex)[3..],
            [
                job(Some("d"), ecdh),
                job(Some("e"), ecdh),
                job(None, group(8192))
            ]
        );
        // Without a fixed method every host key needs group exchange.
        assert_eq!(plan(&five, None, gex)[3], job(Some("d"), group(8192)));
        assert_eq!(plan(&five, None, gex)[4], job(Some("e"), group(2048)));
        assert!(plan(&keys, fixed, None)
            .iter()
            .all(|j| j.exchange == Exchange::Fixed(f_method, f_hash)));
        assert_eq!(plan(&[], fixed, gex).len(), 4);
        assert!(plan(&keys, None, None).is_empty());
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
