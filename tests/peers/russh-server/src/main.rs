//! An SSH server on russh, for fipsgate's interop tests.
//! Usage: russh-peer HOST_KEY_FILE (OpenSSH format)
//! Listens on 127.0.0.1 (a free port) and first prints one JSON line: the port and the KEXINIT
//! lists russh sends as a server with this key, from its own `Preferred` defaults the way its
//! `write_kex` builds them (the client's markers left out, host key algorithms narrowed to the
//! key). That line is the tests' ground truth.
use russh::kex;
use russh::server::Server as _;
use std::sync::Arc;

#[derive(Clone)]
struct Peer;

impl russh::server::Server for Peer {
    type Handler = Peer;
    fn new_client(&mut self, _: Option<std::net::SocketAddr>) -> Peer {
        Peer
    }
}

impl russh::server::Handler for Peer {
    type Error = russh::Error;
}

/// A JSON array of strings (the names hold no quotes or backslashes).
fn json(names: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = names.map(|n| format!("\"{n}\"")).collect();
    format!("[{}]", quoted.join(","))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: russh-peer HOST_KEY_FILE")?;
    let key = russh::keys::load_secret_key(&path, None)?;
    let prefs = russh::Preferred::default();
    let client_markers = [
        kex::EXTENSION_SUPPORT_AS_CLIENT,
        kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
    ];
    let kex_names = prefs
        .kex
        .iter()
        .filter(|k| !client_markers.contains(k))
        .map(|k| k.as_ref().to_owned());
    let host_keys = prefs
        .key
        .iter()
        .filter(|a| **a == key.algorithm())
        .map(ToString::to_string);
    let ciphers = || prefs.cipher.iter().map(|c| c.as_ref().to_owned());
    let macs = || prefs.mac.iter().map(|m| m.as_ref().to_owned());
    let compression = || prefs.compression.iter().map(|c| c.as_ref().to_owned());
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "{{\"port\":{},\"lists\":{{\"kex\":{},\"host_key\":{},\"ciphers_c2s\":{},\"ciphers_s2c\":{},\"macs_c2s\":{},\"macs_s2c\":{},\"compression_c2s\":{},\"compression_s2c\":{}}}}}",
        socket.local_addr()?.port(),
        json(kex_names),
        json(host_keys),
        json(ciphers()),
        json(ciphers()),
        json(macs()),
        json(macs()),
        json(compression()),
        json(compression()),
    );
    let config = russh::server::Config {
        keys: vec![key],
        ..Default::default()
    };
    Peer.run_on_socket(Arc::new(config), &socket).await?;
    Ok(())
}
