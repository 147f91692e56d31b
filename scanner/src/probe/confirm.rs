//! `--confirm`: a real SSH handshake with libssh2 offering only what a policy approves. It
//! proves that a FIPS-only client can connect, and shows what it negotiated. No credentials are
//! sent: the session is closed right after the key exchange.
use fipsgate_cipher_db::policy::Policy;
use fipsgate_cipher_db::ssh::SshKind;
use fipsgate_cipher_db::{Item, Kind, Verdict};
use serde::{Deserialize, Serialize};
use ssh2::{MethodType, Session};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The outcome of a confirmation handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Confirmation {
    /// The policy whose approved algorithms were offered.
    pub policy: String,
    /// Whether the handshake completed.
    pub ok: bool,
    /// Negotiated methods: kex, host_key, cipher_client_to_server, cipher_server_to_client,
    /// mac_client_to_server, mac_server_to_client.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub negotiated: BTreeMap<String, String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

const METHODS: [(MethodType, SshKind, &str); 6] = [
    (MethodType::Kex, SshKind::Kex, "kex"),
    (MethodType::HostKey, SshKind::HostKey, "host_key"),
    (
        MethodType::CryptCs,
        SshKind::Cipher,
        "cipher_client_to_server",
    ),
    (
        MethodType::CryptSc,
        SshKind::Cipher,
        "cipher_server_to_client",
    ),
    (MethodType::MacCs, SshKind::Mac, "mac_client_to_server"),
    (MethodType::MacSc, SshKind::Mac, "mac_server_to_client"),
];

/// The approved algorithms libssh2 supports, in the policy's profile order when it has one.
fn preferences(
    session: &Session,
    policy: &Policy,
    method: MethodType,
    kind: SshKind,
) -> Result<String, String> {
    let supported = session
        .supported_algs(method)
        .map_err(|e| format!("libssh2: {e}"))?;
    let approved =
        |name: &&str| policy.judge(&Item::ssh_name(kind, name)).verdict == Verdict::Approved;
    let mut names: Vec<&str> = supported.iter().copied().filter(approved).collect();
    if let Some(order) = policy
        .profile
        .as_ref()
        .and_then(|p| p.list(Kind::of_ssh(kind)))
    {
        names.sort_by_key(|n| {
            order
                .iter()
                .position(|i| i.name == *n)
                .unwrap_or(usize::MAX)
        });
    }
    if names.is_empty() {
        return Err(format!(
            "libssh2 supports no {kind:?} algorithm that {} approves",
            policy.name
        ));
    }
    Ok(names.join(","))
}

fn handshake(
    addr: SocketAddr,
    deadline: Duration,
    policy: &Policy,
) -> Result<BTreeMap<String, String>, String> {
    let tcp = TcpStream::connect_timeout(&addr, deadline).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(deadline))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(deadline))
        .map_err(|e| e.to_string())?;
    let mut session = Session::new().map_err(|e| format!("libssh2: {e}"))?;
    session.set_timeout(u32::try_from(deadline.as_millis()).unwrap_or(u32::MAX));
    for (method, kind, _) in METHODS {
        let prefs = preferences(&session, policy, method, kind)?;
        session
            .method_pref(method, &prefs)
            .map_err(|e| format!("libssh2 refused the {kind:?} preferences {prefs}: {e}"))?;
    }
    session.set_tcp_stream(tcp);
    session.handshake().map_err(|e| format!("handshake: {e}"))?;
    let negotiated = METHODS
        .iter()
        .map(|(m, _, name)| {
            (
                (*name).to_owned(),
                session.methods(*m).unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let _ = session.disconnect(None, "fipsgate --confirm: key exchange only", None);
    Ok(negotiated)
}

/// Runs the confirmation handshake on a blocking thread.
pub async fn confirm(addr: SocketAddr, deadline: Duration, policy: Policy) -> Confirmation {
    let name = policy.name.clone();
    let result = tokio::task::spawn_blocking(move || handshake(addr, deadline, &policy)).await;
    match result {
        Ok(Ok(negotiated)) => Confirmation {
            policy: name,
            ok: true,
            negotiated,
            error: None,
        },
        Ok(Err(e)) => Confirmation {
            policy: name,
            ok: false,
            negotiated: BTreeMap::new(),
            error: Some(e),
        },
        Err(e) => Confirmation {
            policy: name,
            ok: false,
            negotiated: BTreeMap::new(),
            error: Some(format!("the handshake thread failed: {e}")),
        },
    }
}
