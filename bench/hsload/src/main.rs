//! Full TLS handshakes from many concurrent clients for a fixed time, as `openssl s_time -new`
//! makes them, but on rustls (aws-lc-rs): a client's handshake then costs a fraction of the
//! server's, so a saturation run on shared cores measures the proxy rather than its clients.
//!
//! Prints one line: `handshakes seconds errors`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use rustls::client::Resumption;
use rustls::crypto::aws_lc_rs::{cipher_suite, default_provider, kx_group};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Command line.
#[derive(Parser)]
#[command(about = "Full TLS handshakes per second from concurrent clients")]
struct Args {
    /// The TLS server, `ADDRESS:PORT`.
    #[arg(long)]
    connect: SocketAddr,
    /// PEM file of the certificate (or its CA) the server presents.
    #[arg(long)]
    ca: PathBuf,
    /// The protocol version every handshake uses.
    #[arg(long, value_enum)]
    version: Version,
    /// The key exchange groups offered, the first with a key share.
    #[arg(long, value_enum)]
    groups: Groups,
    /// Concurrent clients, each making one handshake after another.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

/// The protocol version.
#[derive(Clone, Copy, ValueEnum)]
enum Version {
    #[value(name = "tls1.3")]
    Tls13,
    #[value(name = "tls1.2")]
    Tls12,
}

/// The groups offered, as bench/proxy.sh names them.
#[derive(Clone, Copy, ValueEnum)]
enum Groups {
    /// P-256 only: every server does the same key exchange.
    P256,
    /// OpenSSL 3.0's default order (X25519 first, with the key share), P-256 and P-384 after it.
    Default,
}

fn provider(args: &Args) -> CryptoProvider {
    CryptoProvider {
        cipher_suites: match args.version {
            Version::Tls13 => vec![cipher_suite::TLS13_AES_128_GCM_SHA256],
            Version::Tls12 => vec![
                cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            ],
        },
        kx_groups: match args.groups {
            Groups::P256 => vec![kx_group::SECP256R1],
            Groups::Default => vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        },
        ..default_provider()
    }
}

fn config(args: &Args) -> Result<ClientConfig, String> {
    let in_ca = |e: &dyn std::fmt::Display| format!("{}: {e}", args.ca.display());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args.ca).map_err(|e| in_ca(&e))? {
        roots
            .add(cert.map_err(|e| in_ca(&e))?)
            .map_err(|e| in_ca(&e))?;
    }
    let version = match args.version {
        Version::Tls13 => &rustls::version::TLS13,
        Version::Tls12 => &rustls::version::TLS12,
    };
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider(args)))
        .with_protocol_versions(&[version])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Every handshake is a full one, as with `s_time -new`.
    config.resumption = Resumption::disabled();
    Ok(config)
}

/// One full handshake, then a clean close.
async fn handshake(connector: &TlsConnector, addr: SocketAddr) -> std::io::Result<()> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::IpAddress(addr.ip().into());
    let mut tls = connector.connect(name, tcp).await?;
    tls.shutdown().await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hsload: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let connector = TlsConnector::from(Arc::new(config));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let deadline = began + Duration::from_secs(args.seconds);
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let (connector, done, errors, addr) = (
            connector.clone(),
            done.clone(),
            errors.clone(),
            args.connect,
        );
        clients.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                // A handshake stuck past the end is abandoned, not waited for.
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, handshake(&connector, addr)).await {
                    Ok(Ok(())) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Err(e)) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("hsload: first error: {e}");
                        }
                    }
                    Err(_) => break,
                }
            }
        }));
    }
    for client in clients {
        let _ = client.await;
    }
    println!(
        "{} {:.3} {}",
        done.load(Ordering::Relaxed),
        began.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed)
    );
    std::process::ExitCode::SUCCESS
}
