//! `fipsgate demo`: a self-contained tour on loopback. It starts, in this process, a plaintext
//! "legacy" HTTP backend and a legacy TLS server that offers only non-FIPS crypto (ChaCha20 and
//! X25519, served by the same AWS-LC module outside its approved mode), the FIPS proxy in front
//! of the backend, and, when OpenSSH is installed, an sshd with a legacy configuration; then it
//! sends a request through the proxy and scans everything with the real scanner.
use super::{load_policies, CommandResult};
use crate::cli::{ColorWhen, DeliverArgs, DemoArgs, FailOn, JudgeArgs, PoliciesArg};
use crate::emit::Emitter;
use crate::exit;
use fipsgate_proxy::config::Config;
use fipsgate_proxy::fips::FipsStatus;
use fipsgate_scanner::probe::ProbeConfig;
use fipsgate_scanner::report::{EndpointReport, ScanBegin};
use fipsgate_scanner::scan::{scan, ScanConfig, ScanEvent, StarttlsChoice};
use fipsgate_scanner::target::{TargetList, TargetPattern};
use rustls::crypto::aws_lc_rs::{cipher_suite, kx_group};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BACKEND_SAYS: &str = "hello from the legacy backend";

/// Answers every connection with one HTTP response and closes it.
async fn answer<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut s: S) {
    let mut buf = vec![0u8; 4096];
    let mut used = 0;
    while used < buf.len() && !buf[..used].windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf[used..])).await {
            Ok(Ok(n)) if n > 0 => used += n,
            _ => return,
        }
    }
    let body = format!("{BACKEND_SAYS}\n");
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(reply.as_bytes()).await;
    let _ = s.shutdown().await;
}

/// The plaintext legacy backend.
async fn backend() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(answer(s));
        }
    });
    Ok(addr)
}

/// A legacy TLS server: ChaCha20-Poly1305 only, X25519 only (not FIPS-approved).
async fn legacy_tls(cert: &Path, key: &Path) -> Result<SocketAddr, Box<dyn std::error::Error>> {
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        kx_groups: vec![kx_group::X25519],
        ..rustls::crypto::aws_lc_rs::default_provider()
    };
    let chain = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(5), acceptor.accept(s)).await
                {
                    answer(tls).await;
                }
            });
        }
    });
    Ok(addr)
}

/// An sshd with a legacy configuration, if OpenSSH is installed: (child, port) or why not.
fn legacy_sshd(dir: &Path) -> Result<(Child, u16), String> {
    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        return Err("/usr/sbin/sshd is not installed (apt-get install openssh-server)".into());
    }
    let key = dir.join("ssh_host_rsa_key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "rsa", "-b", "2048", "-f"])
        .arg(&key)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        return Err("ssh-keygen could not make a host key".into());
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let config = dir.join("sshd_config");
    let text = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}/sshd.pid\nUsePAM no\n\
         KexAlgorithms curve25519-sha256,diffie-hellman-group14-sha1\n\
         Ciphers chacha20-poly1305@openssh.com,aes128-cbc,aes128-ctr\n\
         MACs hmac-sha1,hmac-sha2-256\nHostKeyAlgorithms ssh-rsa,rsa-sha2-256\n",
        key.display(),
        dir.display()
    );
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let _ = std::fs::create_dir_all("/run/sshd");
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sshd: {e}"))?;
    Ok((child, port))
}

async fn accepts(addr: SocketAddr) -> bool {
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    false
}

/// One GET through the proxy with a FIPS client that trusts the demo certificate.
async fn through_proxy(
    proxy: SocketAddr,
    cert: &Path,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert)? {
        roots.add(c?)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::default_fips_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(proxy).await?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), tls.read_to_string(&mut answer)).await??;
    let _ = tls.shutdown().await;
    let (_, conn) = tls.get_ref();
    let suite = conn
        .negotiated_cipher_suite()
        .map(fipsgate_proxy::tls::suite_name)
        .unwrap_or_default();
    Ok(format!(
        "{} over {suite}",
        answer.lines().last().unwrap_or_default()
    ))
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> CommandResult {
    if let Err(e) = FipsStatus::probe().check() {
        eprintln!("fipsgate demo: the FIPS proxy cannot start here: {e}");
        return Ok(exit::NOT_FIPS);
    }
    let dir = std::env::temp_dir().join(format!("fipsgate-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = demo(args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn demo(args: &DemoArgs, dir: &Path) -> CommandResult {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])?;
    let (cert_path, key_path) = (dir.join("demo.crt"), dir.join("demo.key"));
    std::fs::write(&cert_path, cert.cert.pem())?;
    std::fs::write(&key_path, cert.key_pair.serialize_pem())?;
    let policies = Arc::new(load_policies(&[
        "fips-140-3".to_owned(),
        "axway-securetransport".to_owned(),
    ])?);
    let (sshd, ssh_note) = match legacy_sshd(dir) {
        Ok((child, port)) => (Some((child, port)), None),
        Err(why) => (None, Some(why)),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(async {
        let backend = backend().await?;
        let legacy = legacy_tls(&cert_path, &key_path).await?;
        let proxy_addr = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
        let mut cfg = Config::simple(
            proxy_addr,
            &backend.to_string(),
            PathBuf::from(&cert_path),
            &key_path.to_string_lossy(),
            None,
            None,
        )?;
        // The demo prints the scan report; the proxy's own logs would only interleave with it.
        cfg.proxy.log_connections = false;
        cfg.proxy.log_events = false;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let runtimes = fipsgate_proxy::server::build(&cfg)?;
        let proxy = tokio::spawn(fipsgate_proxy::server::run_until(cfg, runtimes, None, async {
            let _ = stop_rx.await;
        }));
        if !accepts(proxy_addr).await {
            return Err::<u8, Box<dyn std::error::Error>>("the proxy did not start".into());
        }
        let mut targets = vec![
            ("legacy TLS server (ChaCha20 and X25519 only)", legacy),
            ("FIPS proxy in front of the plaintext backend", proxy_addr),
        ];
        if let Some((_, port)) = &sshd {
            let addr = SocketAddr::from(([127, 0, 0, 1], *port));
            if accepts(addr).await {
                targets.push(("legacy sshd (CBC, SHA-1, ssh-rsa, curve25519)", addr));
            }
        }
        let said = through_proxy(proxy_addr, &cert_path).await;
        let mut legend = format!(
            "fipsgate demo: on loopback, in this process unless said otherwise\n  plaintext backend   {backend}\n"
        );
        for (what, addr) in &targets {
            legend.push_str(&format!("  {addr:<19} {what}\n"));
        }
        if let Some(why) = &ssh_note {
            legend.push_str(&format!("  SSH skipped: {why}\n"));
        }
        match &said {
            Ok(answer) => legend.push_str(&format!("  request through the proxy: {answer}\n\n")),
            Err(e) => legend.push_str(&format!("  request through the proxy FAILED: {e}\n\n")),
        }
        // People read the legend; NDJSON consumers get only the report on stdout.
        if args.format == crate::cli::ScanFormat::Text {
            crate::output::print_text(&legend)?;
        } else {
            eprint!("{legend}");
        }
        let patterns = targets
            .iter()
            .map(|(_, a)| TargetPattern::parse(&a.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let list = TargetList::new(patterns, vec![443], Vec::new());
        let cfg = ScanConfig {
            probe: ProbeConfig::default(),
            concurrency: 8,
            per_host: 8,
            endpoint_deadline: Duration::from_secs(60),
            starttls: StarttlsChoice::Never,
            resolve: Vec::new(),
            // The demo knows where its sshd is: probe it as SSH at once.
            ssh_ports: sshd.iter().map(|(_, port)| *port).collect(),
            all_ports: false,
            shard: None,
            skip: Default::default(),
        };
        let judge = JudgeArgs {
            policies: PoliciesArg {
                names: policies.iter().map(|p| p.name.clone()).collect(),
            },
            citizen_facing: false,
            as_of: None,
            format: args.format,
            output: None,
            fail_on: FailOn::NotFipsCapable,
            color: ColorWhen::Auto,
            baseline: None,
            deliver: DeliverArgs {
                syslog: Vec::new(),
                http_post: Vec::new(),
                http_header: Vec::new(),
                http_ca: None,
            },
        };
        let mut out = Emitter::new(&judge, &policies, Vec::new(), Duration::from_secs(5), false)?;
        out.begin(&ScanBegin::now(&policies, std::env::args().collect()));
        let started = std::time::Instant::now();
        let mut reports: Vec<EndpointReport> = Vec::new();
        let mut on_event = |e: ScanEvent| {
            if let ScanEvent::Report(r) = e {
                out.endpoint(&r);
                reports.push(*r);
            }
        };
        scan(&list, &cfg, policies.clone(), &mut on_event).await;
        out.finish(started.elapsed().as_millis() as u64).await?;
        let proxy_report = reports
            .iter()
            .find(|r| r.target.port == proxy_addr.port());
        let proxy_fips_only = proxy_report.is_some_and(|r| {
            r.verdicts
                .iter()
                .any(|v| v.policy == "fips-140-3" && v.verdict == fipsgate_cipher_db::EndpointVerdict::FipsOnly)
        });
        if args.keep_running {
            eprintln!("fipsgate demo: servers left running; press Ctrl-C to stop");
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = stop_tx.send(());
        let _ = proxy.await;
        // The demo worked when the proxy served the request and scans fips-only.
        Ok(if said.is_ok() && proxy_fips_only {
            exit::OK
        } else {
            exit::FINDINGS
        })
    });
    if let Some((mut child, _)) = sshd {
        let _ = child.kill();
        let _ = child.wait();
    }
    outcome
}
