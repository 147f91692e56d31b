//! Faults around `fipsgate proxy`: backends that refuse, stall or reset, clients that abort,
//! half-closes both ways, 2,000 idle connections at a limit of 1,000, a lowered file-descriptor
//! limit, a certificate replaced with garbage before a reload, and a full disk under the log.
//! Each checks that the proxy survives, that good connections' bytes arrive intact (SHA-256),
//! that file descriptors and memory come back to their baseline, and that every refusal is
//! logged (or, with a full disk, counted) with its reason.
mod support;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::proxy::*;
use support::*;

/// Accepts the proxy's test certificates (self-signed, so no WebPKI path) but checks the
/// handshake signatures: the tests are about bytes, not trust.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

type Client = StreamOwned<ClientConnection, TcpStream>;

/// A TLS client of the proxy on `port`, handshake done.
fn client(port: u16) -> Client {
    let provider = Arc::new(rustls::crypto::default_fips_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("{e}"))
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap_or_else(|e| panic!("{e}"));
    let conn = ClientConnection::new(Arc::new(config), name).unwrap_or_else(|e| panic!("{e}"));
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(20)));
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .unwrap_or_else(|e| panic!("handshake with the proxy: {e}"));
    }
    tls
}

/// Reads until the proxy's close_notify (Ok) or an error (the answer was cut short).
fn read_all(tls: &mut Client) -> (Vec<u8>, std::io::Result<()>) {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Err(e)),
        }
    }
}

/// Deterministic bytes that are not all alike.
fn payload(len: usize) -> Vec<u8> {
    (0..len as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// A backend thread running `behave` on every connection; returns its port.
fn backend(behave: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
            std::thread::spawn(move || behave(s));
        }
    });
    port
}

/// The proxy in front of `backend` with these [proxy] settings.
fn proxy_to(backend: &str, global: &str) -> Proxy {
    proxy(|port, admin| config(port, admin, backend, global, ""))
}

/// Waits until the proxy's file descriptors are back to `fds` (+2 for timing), at most 10 s.
fn back_to_baseline(p: &Proxy, fds: u64, rss_kb: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.pid_stat("fds") > fds + 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (fds_now, rss_now) = (p.pid_stat("fds"), p.pid_stat("rss"));
    assert!(fds_now <= fds + 2, "file descriptors {fds} -> {fds_now}");
    assert!(rss_now < rss_kb + 40_000, "RSS {rss_kb} kB -> {rss_now} kB");
}

fn reasons(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter_map(|l| l["close_reason"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn backends_that_refuse_stall_or_reset() {
    // Refused: nothing listens.
    let closed = free_port();
    let p = proxy_to(&format!("127.0.0.1:{closed}"), "");
    let mut tls = client(p.port);
    let _ = tls.write_all(b"hello");
    let (got, end) = read_all(&mut tls);
    assert!(got.is_empty());
    assert!(end.is_ok(), "the client gets a clean close: {end:?}");
    let l = p.wait_log(|l| l["close_reason"] == "backend_unreachable");
    assert!(
        l["error"].as_str().is_some_and(|e| e.contains("refused")),
        "{l}"
    );

    // Stalls: accepts, reads, never answers. The idle timeout ends it.
    let stalls = backend(|mut s| {
        let mut buf = [0u8; 1024];
        while s.read(&mut buf).is_ok_and(|n| n > 0) {}
    });
    let p = proxy_to(&format!("127.0.0.1:{stalls}"), "idle_timeout = 2");
    let (fds, rss) = (p.pid_stat("fds"), p.pid_stat("rss"));
    let started = Instant::now();
    let mut tls = client(p.port);
    let _ = tls.write_all(b"GET / HTTP/1.1\r\n\r\n");
    let (got, _) = read_all(&mut tls);
    assert!(got.is_empty());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "{took:?}"
    );
    let l = p.wait_log(|l| l["close_reason"] == "idle_timeout");
    assert_eq!(l["bytes_from_client"], 18);
    drop(tls);
    back_to_baseline(&p, fds, rss);

    // Resets mid-stream: 4 MiB, then a reset (unread bytes make the close a reset). The client
    // must not get a close_notify, so that it knows the answer was cut short.
    let resets = backend(|mut s| {
        let _ = s.write_all(&payload(4 << 20));
        std::thread::sleep(Duration::from_millis(300));
        let _ = s.shutdown(Shutdown::Read);
    });
    let p = proxy_to(&format!("127.0.0.1:{resets}"), "");
    let mut tls = client(p.port);
    let _ = tls.write_all(&payload(100_000));
    let (got, end) = read_all(&mut tls);
    let e = end.expect_err("a cut-short answer is an error for the client, not a clean end");
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
    assert!(payload(4 << 20).starts_with(&got), "what arrived is intact");
    let l = p.wait_log(|l| l["close_reason"] == "backend_reset");
    assert!(l["error"].is_string(), "{l}");
    assert!(p.admin_get("/healthz").ends_with("ok\n"));
}

#[test]
fn half_closes_pass_both_ways() {
    // Client to backend: the client sends 1 MiB and close_notify, then still reads the
    // backend's answer, which the backend sends only after it saw the end of the request.
    let answers_at_eof = backend(|mut s| {
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        let _ = write!(
            s,
            "got {} bytes, intact: {}",
            got.len(),
            got == payload(1 << 20)
        );
    });
    let p = proxy_to(&format!("127.0.0.1:{answers_at_eof}"), "");
    let mut tls = client(p.port);
    tls.write_all(&payload(1 << 20))
        .unwrap_or_else(|e| panic!("{e}"));
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let (got, end) = read_all(&mut tls);
    assert!(end.is_ok(), "{end:?}");
    assert_eq!(
        String::from_utf8_lossy(&got),
        "got 1048576 bytes, intact: true"
    );

    // Backend to client: the backend says hello and shuts its sending side; the client gets
    // close_notify after the hello, then sends 1 MiB, which the backend still receives whole.
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        if let Some(Ok(mut s)) = listener.incoming().next() {
            let _ = s.write_all(b"hello");
            let _ = s.shutdown(Shutdown::Write);
            let mut got = Vec::new();
            let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
            let _ = s.read_to_end(&mut got);
            let _ = tx.send(got);
        }
    });
    let p = proxy_to(&format!("127.0.0.1:{port}"), "");
    let mut tls = client(p.port);
    let (got, end) = read_all(&mut tls);
    assert!(
        end.is_ok(),
        "close_notify after the backend's half-close: {end:?}"
    );
    assert_eq!(got, b"hello");
    tls.write_all(&payload(1 << 20))
        .unwrap_or_else(|e| panic!("writing after the proxy's close_notify: {e}"));
    tls.conn.send_close_notify();
    let _ = tls.flush();
    let received = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(received == payload(1 << 20), "{} bytes", received.len());
    let l = p.wait_log(|l| l["bytes_from_client"] == 1 << 20);
    assert_eq!(l["bytes_to_client"], 5, "{l}");
}

#[test]
fn clients_that_abort_mid_transfer_free_everything() {
    let m = material();
    let (nginx, big, want) = file_server(32 << 20);
    let p = proxy_to(&nginx.addr(), "");
    let (fds, rss) = (p.pid_stat("fds"), p.pid_stat("rss"));
    let request = "GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for _ in 0..20 {
        let mut tls = client(p.port);
        let _ = tls.write_all(request.as_bytes());
        let mut first = vec![0u8; 1 << 20];
        let _ = tls.read_exact(&mut first);
        // Unread data in the receive buffer: the close is a reset.
        drop(tls);
    }
    // Only connections past the handshake: wait_port's probe also ends as `client_closed`.
    let relayed = || -> Vec<Value> {
        let all = p.log();
        all.into_iter()
            .filter(|l| l["handshake_ms"].is_u64())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while reasons(&relayed()).len() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let ended = reasons(&relayed());
    assert_eq!(ended.len(), 20, "{ended:?}");
    assert!(
        ended
            .iter()
            .all(|r| r == "client_reset" || r == "client_closed"),
        "{ended:?}"
    );
    back_to_baseline(&p, fds, rss);
    let got = m
        .dir
        .join(format!("abort-{}", p.port))
        .display()
        .to_string();
    let url = format!("https://127.0.0.1:{}/big.bin", p.port);
    let (code, _) = curl(&["--cacert", &m.path("ec.crt"), "-o", &got, &url]);
    assert_eq!(code, Some(0));
    assert_eq!(sha256(&got), want, "a whole transfer after the aborts");
    let _ = std::fs::remove_file(&got);
    let _ = std::fs::remove_file(&big);
}

/// Opens up to `n` idle TCP connections to `port` within `budget`.
fn idle_connections(port: u16, n: usize, budget: Duration) -> Vec<TcpStream> {
    let started = Instant::now();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    (0..n)
        .map_while(|_| {
            (started.elapsed() < budget)
                .then(|| TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok())
        })
        .flatten()
        .collect()
}

/// Raises this process's open-file limit so that the test itself can hold `n` sockets.
fn allow_files(n: u64) {
    let _ = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={n}:{n}"),
        ])
        .status();
}

#[test]
fn two_thousand_idle_connections_at_a_limit_of_one_thousand() {
    allow_files(8192);
    let nginx = nginx_server("", "return 200 ok;");
    let p = proxy_to(
        &nginx.addr(),
        "max_connections = 1000\nhandshake_timeout = 2",
    );
    let ca = material().path("ec.crt");
    let url = format!("https://127.0.0.1:{}/", p.port);
    let (fds, rss) = (p.pid_stat("fds"), p.pid_stat("rss"));
    let started = Instant::now();
    let idle = idle_connections(p.port, 2000, Duration::from_secs(10));
    assert!(idle.len() >= 1900, "{} connected", idle.len());
    std::thread::sleep(Duration::from_millis(500));
    let active = p.metric("fipsgate_proxy_connections_active");
    assert!(
        (1.0..=1000.0).contains(&active),
        "{active} connections open at a limit of 1000"
    );
    // A real client queues behind them and is served once the idle ones time out.
    let (code, body) = curl(&["--cacert", &ca, "--max-time", "30", &url]);
    assert_eq!((code, body.as_str()), (Some(0), "ok"));
    drop(idle);
    assert!(started.elapsed() < Duration::from_secs(40));
    let deadline = Instant::now() + Duration::from_secs(15);
    while reasons(&p.log()).len() < 1900 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let ended = reasons(&p.log());
    let timed_out = ended.iter().filter(|r| *r == "handshake_timeout").count();
    assert!(timed_out >= 1000, "{timed_out} handshake timeouts logged");
    assert!(
        ended.len() >= 1900,
        "every refusal is logged: {} lines",
        ended.len()
    );
    back_to_baseline(&p, fds, rss);
}

#[test]
fn a_lowered_file_descriptor_limit_pauses_accepting_and_recovers() {
    allow_files(8192);
    let nginx = nginx_server("", "return 200 ok;");
    let p = proxy_with(
        |port, admin| {
            config(
                port,
                admin,
                &nginx.addr(),
                "max_connections = 2000\nhandshake_timeout = 2",
                "",
            )
        },
        Launch {
            nofile: Some(256),
            ..Launch::default()
        },
    );
    let ca = material().path("ec.crt");
    let url = format!("https://127.0.0.1:{}/", p.port);
    let (code, _) = curl(&["--cacert", &ca, &url]);
    assert_eq!(code, Some(0));
    let (fds, rss) = (p.pid_stat("fds"), p.pid_stat("rss"));
    let idle = idle_connections(p.port, 400, Duration::from_secs(10));
    assert!(idle.len() >= 300, "{} connected", idle.len());
    let event = p.wait_event("accept_failed");
    assert!(event.contains("Too many open files"), "{event}");
    drop(idle);
    let (code, body) = curl(&["--cacert", &ca, "--max-time", "30", &url]);
    assert_eq!((code, body.as_str()), (Some(0), "ok"));
    assert!(p.admin_get("/healthz").ends_with("ok\n"));
    back_to_baseline(&p, fds, rss);
}

#[test]
fn a_garbage_certificate_before_a_reload_keeps_the_old_one() {
    let m = material();
    let nginx = nginx_server("", "return 200 ok;");
    let dir = m.dir.join(format!("garbage-cert-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    for f in ["ec.crt", "ec.key"] {
        let _ = std::fs::copy(m.path(f), dir.join(f));
    }
    let (crt, key) = (dir.join("ec.crt"), dir.join("ec.key"));
    let p = proxy(|port, admin| {
        format!(
            "[proxy]\nadmin = \"127.0.0.1:{admin}\"\n\n[[listener]]\nname = \"web\"\n\
             listen = [\"127.0.0.1:{port}\"]\nbackend = \"{}\"\n\n\
             [[listener.certificate]]\nchain = \"{}\"\nkey = \"{}\"\n",
            nginx.addr(),
            crt.display(),
            key.display()
        )
    });
    let url = format!("https://127.0.0.1:{}/", p.port);
    let ca = m.path("ec.crt");
    let _ = std::fs::write(&crt, b"-----BEGIN CERTIFICATE-----\ngarbage\n");
    let refused = p.hup();
    assert!(
        refused.contains("reload_refused") && refused.contains("ec.crt"),
        "the event names the file: {refused}"
    );
    let (code, body) = curl(&["--cacert", &ca, &url]);
    assert_eq!(
        (code, body.as_str()),
        (Some(0), "ok"),
        "the old certificate still serves"
    );
    assert!(p.metric("fipsgate_proxy_reload_failures_total") >= 1.0);
    let _ = std::fs::copy(m.path("ec.crt"), &crt);
    let reloaded = p.hup();
    assert!(reloaded.contains("\"reloaded\""), "{reloaded}");
    let (code, _) = curl(&["--cacert", &ca, &url]);
    assert_eq!(code, Some(0));
}

#[test]
fn a_full_disk_loses_log_lines_not_connections() {
    let m = material();
    let (nginx, file, want) = file_server(1 << 20);
    let p = proxy_with(
        |port, admin| config(port, admin, &nginx.addr(), "", ""),
        Launch {
            stdout: Some("/dev/full".into()),
            ..Launch::default()
        },
    );
    let url = format!("https://127.0.0.1:{}/big.bin", p.port);
    let got = m.dir.join(format!("full-{}", p.port)).display().to_string();
    for _ in 0..10 {
        let (code, _) = curl(&["--cacert", &m.path("ec.crt"), "-o", &got, &url]);
        assert_eq!(code, Some(0));
        assert_eq!(sha256(&got), want);
    }
    for _ in 0..5 {
        let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap_or_else(|e| panic!("{e}"));
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.read_to_end(&mut Vec::new());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    // 15 connections, and the one that saw the port open at start-up.
    while p.metric("fipsgate_proxy_log_write_failures_total") < 16.0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(p.metric("fipsgate_proxy_log_write_failures_total"), 16.0);

    assert_eq!(
        p.metric("fipsgate_proxy_failures_total{listener=\"web\",reason=\"bad_client_hello\"}"),
        5.0,
        "refusals are still counted with their reason"
    );
    assert!(p.admin_get("/healthz").ends_with("ok\n"));
    let _ = std::fs::remove_file(&got);
    let _ = std::fs::remove_file(&file);
}
