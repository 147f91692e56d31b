//! `fipsgate proxy` with real peers on loopback: nginx behind it, `openssl s_client` and curl in
//! front, `fipsgate scan` against it, signals for reload and drain, and hostile clients.
mod support;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::proxy::*;
use support::*;

const GET: &str = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

#[test]
fn fips_clients_pass_and_the_rest_is_refused() {
    let backend = nginx_server("", "return 200 ok;");
    let p = proxy(|port, admin| config(port, admin, &backend.addr(), "", ""));
    let url = format!("https://127.0.0.1:{}/", p.port);
    let (code, body) = curl(&["--cacert", &material().path("ec.crt"), &url]);
    assert_eq!((code, body.as_str()), (Some(0), "ok"));

    // Both certificates: ECDSA for a client that takes ECDSA, RSA for an RSA-only one.
    let (ok, out) = s_client(
        p.port,
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"],
        GET,
    );
    assert!(
        ok && out.contains("CN = fipsgate-ec") && out.contains("200 OK"),
        "{out}"
    );
    let (ok, out) = s_client(p.port, &["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"], GET);
    assert!(ok && out.contains("CN = fipsgate-rsa"), "{out}");

    // Not FIPS: refused with an alert.
    for args in [
        &["-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"][..],
        &["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"],
        &["-tls1_1", "-cipher", "ALL:@SECLEVEL=0"],
        &["-tls1_2", "-cipher", "AES128-GCM-SHA256"],
    ] {
        let (ok, out) = s_client(p.port, args, "");
        assert!(!ok, "{args:?} was accepted: {out}");
        assert!(out.contains("alert"), "{args:?}: {out}");
    }

    // An X25519-only key share: HelloRetryRequest to P-256, then it works.
    let (ok, out) = s_client(p.port, &["-tls1_3", "-groups", "X25519:P-256", "-msg"], GET);
    assert!(ok, "{out}");
    assert_eq!(
        out.matches(", ServerHello").count(),
        2,
        "HRR then ServerHello: {out}"
    );
    assert!(out.contains("prime256v1"), "{out}");

    let hrr = p.wait_log(|l| l["group"] == "secp256r1" && l["version"] == "tls1.3");
    assert_eq!(hrr["close_reason"], "closed", "{hrr}");
    let refused = p.wait_log(|l| l["close_reason"] == "peer_incompatible");
    assert!(refused["error"].as_str().is_some_and(|e| !e.is_empty()));

    let metrics = p.admin_get("/metrics");
    assert!(
        metrics.contains("fipsgate_proxy_handshakes_total{listener=\"web\",version=\"tls1.3\""),
        "{metrics}"
    );
    assert!(metrics
        .contains("fipsgate_proxy_failures_total{listener=\"web\",reason=\"peer_incompatible\"}"));
    assert!(p.admin_get("/healthz").ends_with("ok\n"));
    assert!(p.admin_get("/nope").starts_with("HTTP/1.1 404"));

    // What the scanner sees in front of the legacy backend.
    let (endpoints, _) = scan(&[&format!("127.0.0.1:{}", p.port)]);
    assert_eq!(
        verdict(&endpoints[0], "fips-140-3"),
        "fips-only",
        "{}",
        endpoints[0]
    );
    let versions = versions(&endpoints[0]);
    assert_eq!(versions, ["tls1.2", "tls1.3"]);
    assert_eq!(
        endpoints[0]["quantum_safe_kex"],
        serde_json::json!(["X25519MLKEM768"]),
        "the proxy's one post-quantum group"
    );
}

#[test]
fn check_validates_and_refuses_non_fips_settings() {
    let dir = material().dir.join(format!("check-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("p.toml");
    let good = config(8443, 9901, "127.0.0.1:8080", "", "");
    let _ = std::fs::write(&path, &good);
    let p = path.display().to_string();
    let out = fipsgate(&["proxy", "--check", &p, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(v["fips"]["fips_mode"], true);
    assert_eq!(v["listeners"][0]["fips"], true);
    let groups = v["listeners"][0]["groups"].to_string();
    assert!(
        groups.contains("X25519MLKEM768") && !groups.contains("\"x25519\""),
        "{groups}"
    );
    for (extra, says) in [
        (
            "cipher_suites = [\"TLS_CHACHA20_POLY1305_SHA256\"]",
            "not in the FIPS set",
        ),
        ("groups = [\"x25519\"]", "not in the FIPS set"),
        ("versions = [\"tls1.1\"]", "tls1.2 and tls1.3 only"),
        ("colour = \"blue\"", "unknown field"),
    ] {
        let _ = std::fs::write(&path, config(8443, 9901, "127.0.0.1:8080", "", extra));
        let out = fipsgate(&["proxy", "--check", &p]);
        assert_eq!(out.status.code(), Some(2), "{extra}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{extra}: {err}");
    }
    let _ = std::fs::write(
        &path,
        config(8443, 9901, "127.0.0.1:8080", "", "pq_hybrid_x25519 = false"),
    );
    let out = fipsgate(&["proxy", "--check", &p, "--format", "json"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("X25519MLKEM768"));
    let _ = std::fs::write(&path, good.replace("ec.key", "nonexistent.key"));
    let out = fipsgate(&["proxy", "--check", &p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nonexistent.key"));
}

#[test]
fn bytes_arrive_intact_across_reload_and_drain() {
    let m = material();
    let (backend, big, want) = file_server(100 << 20);
    let p = proxy(|port, admin| config(port, admin, &backend.addr(), "drain_timeout = 20", ""));
    let url = format!("https://127.0.0.1:{}/big.bin", p.port);
    // Both certificates: the reload below drops the ECDSA one.
    let ca = m
        .dir
        .join(format!("both-{}.pem", p.port))
        .display()
        .to_string();
    let both = [m.path("ec.crt"), m.path("rsa.crt")]
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect::<String>();
    let _ = std::fs::write(&ca, both);

    // 100 MiB at full speed.
    let got = m.dir.join(format!("got-{}", p.port)).display().to_string();
    let (code, _) = curl(&["--cacert", &ca, "-o", &got, &url]);
    assert_eq!(code, Some(0));
    assert_eq!(sha256(&got), want);

    // A slow transfer while the configuration is reloaded (only RSA now), then a bad reload.
    let slow = |out: &str| {
        Command::new("curl")
            .args([
                "-sS",
                "--cacert",
                &ca,
                "--limit-rate",
                "40M",
                "-o",
                out,
                &url,
            ])
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let during_reload = format!("{got}.reload");
    let mut transfer = slow(&during_reload);
    std::thread::sleep(Duration::from_millis(500));
    let rsa_only = config(p.port, p.admin, &backend.addr(), "drain_timeout = 20", "")
        .split("[[listener.certificate]]")
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, s)| s)
        .collect::<Vec<_>>()
        .join("[[listener.certificate]]");
    let ended = p.reload_to(&rsa_only);
    assert!(ended.contains("\"reloaded\""), "{ended}");
    let (ok, out) = s_client(p.port, &["-tls1_3"], "");
    assert!(
        ok && out.contains("CN = fipsgate-rsa"),
        "new connections use the new certificates: {out}"
    );
    let ended = p.reload_to("this is [not toml");
    assert!(ended.contains("reload_refused"), "{ended}");
    let (code, body) = curl(&[
        "--cacert",
        &m.path("rsa.crt"),
        &format!("https://127.0.0.1:{}/", p.port),
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
    ]);
    assert_eq!(
        (code, body.as_str()),
        (Some(0), "403"),
        "the old configuration still serves (nginx: no index)"
    );
    assert!(transfer.wait().is_ok_and(|s| s.success()));
    assert_eq!(
        sha256(&during_reload),
        want,
        "no byte lost across the reload"
    );

    // SIGTERM with a transfer open: it completes within the drain deadline; nothing new is let in.
    let during_drain = format!("{got}.drain");
    let mut transfer = slow(&during_drain);
    std::thread::sleep(Duration::from_millis(500));
    p.signal("-TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect(("127.0.0.1", p.port)).is_err(),
        "no longer accepting"
    );
    assert!(transfer.wait().is_ok_and(|s| s.success()));
    assert_eq!(sha256(&during_drain), want, "no byte lost while draining");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.events().contains("\"stopped\"") {
        assert!(Instant::now() < deadline, "{}", p.events());
        std::thread::sleep(Duration::from_millis(50));
    }
    for f in [&got, &during_reload, &during_drain] {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_file(&big);
}

#[test]
fn hostile_clients_floods_and_dead_backends_end_cleanly() {
    let backend = nginx_server("", "return 200 ok;");
    let p = proxy(|port, admin| {
        config(
            port,
            admin,
            &backend.addr(),
            "max_connections = 50\nhandshake_timeout = 1",
            "",
        )
    });
    let url = format!("https://127.0.0.1:{}/", p.port);
    let ca = material().path("ec.crt");
    let (code, _) = curl(&["--cacert", &ca, &url]);
    assert_eq!(code, Some(0));
    let (fds, rss) = (p.pid_stat("fds"), p.pid_stat("rss"));

    // Garbage instead of a ClientHello.
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    p.wait_log(|l| l["close_reason"] == "bad_client_hello");
    // A huge record length, then silence: the handshake deadline ends it.
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.write_all(&[0x16, 0x03, 0x01, 0xFF, 0xFF, 0x01]);
    p.wait_log(|l| {
        l["close_reason"] == "handshake_timeout" || l["close_reason"] == "bad_client_hello"
    });
    drop(s);

    // A bounded flood: 200 silent connections against a limit of 50, for at most 3 s.
    let started = Instant::now();
    let flood: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", p.port)).ok())
        .collect();
    assert!(started.elapsed() < Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(1500));
    drop(flood);
    // The silent ones time out (1 s each, 50 at a time); then a real client is served again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, body) = curl(&["--cacert", &ca, "--max-time", "3", &url]);
        if code == Some(0) && body == "ok" {
            break;
        }
        assert!(Instant::now() < deadline, "not served after the flood");
    }
    std::thread::sleep(Duration::from_millis(1500));
    let (fds_after, rss_after) = (p.pid_stat("fds"), p.pid_stat("rss"));
    assert!(
        fds_after <= fds + 2,
        "file descriptors {fds} -> {fds_after}"
    );
    assert!(rss_after < rss + 30_000, "RSS {rss} kB -> {rss_after} kB");

    // The backend goes away: the client's connection ends, the proxy keeps serving.
    drop(backend);
    let (code, _) = curl(&["--cacert", &ca, &url]);
    assert_ne!(code, Some(0));
    let down = p.wait_log(|l| l["close_reason"] == "backend_unreachable");
    assert_eq!(down["version"], "tls1.3");
    assert!(p.admin_get("/healthz").ends_with("ok\n"));
}

/// A backend behind PROXY protocol v2 that records the header and the first data it gets,
/// answers `BACKEND-SAYS-HI`, and closes.
fn recording_backend() -> (u16, std::sync::mpsc::Receiver<Vec<u8>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let mut s = s;
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            // The PROXY v2 header (16 bytes and the length they give), then one read of data.
            let mut got = vec![0u8; 16];
            if s.read_exact(&mut got).is_err() {
                continue;
            }
            let len = usize::from(u16::from_be_bytes([got[14], got[15]]));
            got.resize(16 + len, 0);
            if s.read_exact(&mut got[16..]).is_err() {
                continue;
            }
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            got.extend_from_slice(&buf[..n]);
            let _ = s.write_all(b"BACKEND-SAYS-HI");
            let _ = tx.send(got);
        }
    });
    (port, rx)
}

#[test]
fn proxy_protocol_sni_routes_and_client_certificates() {
    let (plain, plain_rx) = recording_backend();
    let (routed, routed_rx) = recording_backend();
    let dir = client_pki("mtls", &["partner1", "stranger"]);
    let ca = dir.join("ca.crt").display().to_string();
    let p = proxy(|port, admin| {
        config(
            port,
            admin,
            &format!("127.0.0.1:{plain}"),
            "",
            &format!(
                "proxy_protocol = \"v2\"\n\
                 [listener.client_auth]\nca = \"{ca}\"\nrequired = true\nallowed_subjects = [\"CN=partner1, O=Example\"]\n\
                 [[listener.route]]\nnames = [\"*.partner.example\"]\nbackend = \"127.0.0.1:{routed}\"\n"
            ),
        )
    });
    let cert = |who: &str| {
        (
            dir.join(format!("{who}.crt")).display().to_string(),
            dir.join(format!("{who}.key")).display().to_string(),
        )
    };
    let (c, k) = cert("partner1");
    let (ok, out) = s_client(p.port, &["-cert", &c, "-key", &k], "hello");
    assert!(ok && out.contains("BACKEND-SAYS-HI"), "{out}");
    let first = plain_rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_default();
    assert_eq!(
        &first[..12],
        &[0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    );
    assert_eq!(&first[12..14], &[0x21, 0x11], "PROXY v2, TCP over IPv4");
    assert_eq!(&first[16..20], &[127, 0, 0, 1]);
    assert!(first.ends_with(b"hello"));
    // SNI route.
    let (ok, _) = s_client(
        p.port,
        &[
            "-cert",
            &c,
            "-key",
            &k,
            "-servername",
            "sftp.partner.example",
        ],
        "x",
    );
    assert!(ok);
    assert!(routed_rx
        .recv_timeout(Duration::from_secs(5))
        .is_ok_and(|b| b.ends_with(b"x")));
    // No certificate: refused; a certificate of the right CA but not allowed: closed.
    let (_, out) = s_client(p.port, &["-tls1_3"], "hello");
    assert!(!out.contains("BACKEND-SAYS-HI"), "{out}");
    p.wait_log(|l| l["close_reason"] == "client_certificate_missing");
    let (c, k) = cert("stranger");
    let (_, out) = s_client(p.port, &["-cert", &c, "-key", &k], "hello");
    assert!(!out.contains("BACKEND-SAYS-HI"), "{out}");
    let denied = p.wait_log(|l| l["close_reason"] == "client_not_allowed");
    assert!(denied["client_subject"]
        .as_str()
        .is_some_and(|s| s.contains("stranger")));
}

#[test]
fn one_line_form_and_refusal_without_certificates() {
    let backend = nginx_server("", "return 200 ok;");
    let m = material();
    let port = free_port();
    let dir = m.dir.join(format!("oneline-{port}"));
    let _ = std::fs::create_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_fipsgate"))
        .args([
            "proxy",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--backend",
            &backend.addr(),
            "--cert",
            &m.path("rsa.crt"),
            "--key",
            &m.path("rsa.key"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    wait_port(port);
    let (code, body) = curl(&[
        "--cacert",
        &m.path("rsa.crt"),
        &format!("https://127.0.0.1:{port}/"),
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((code, body.as_str()), (Some(0), "ok"));
    let out = fipsgate(&["proxy", "--listen", "127.0.0.1:1", "--backend", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ocsp_responses_are_stapled() {
    let dir = ca_dir("ocsp", "/CN=ocsp CA");
    let run = |args: &[&str]| openssl(args, &dir);
    issue(
        &dir,
        "leaf",
        "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    );
    // A responder database saying the leaf is valid, and the response OpenSSL's responder signs.
    let serial = run(&["x509", "-in", "leaf.crt", "-noout", "-serial"]);
    let serial = serial.trim().trim_start_matches("serial=");
    let _ = std::fs::write(
        dir.join("index.txt"),
        format!("V\t491231235959Z\t\t{serial}\tunknown\t/CN=127.0.0.1\n"),
    );
    run(&[
        "ocsp",
        "-index",
        "index.txt",
        "-rsigner",
        "ca.crt",
        "-rkey",
        "ca.key",
        "-CA",
        "ca.crt",
        "-issuer",
        "ca.crt",
        "-cert",
        "leaf.crt",
        "-respout",
        "resp.der",
        "-ndays",
        "1",
    ]);
    let backend = nginx_server("", "return 200 ok;");
    let d = dir.display();
    let p = proxy(|port, admin| {
        format!(
            "[proxy]\nadmin = \"127.0.0.1:{admin}\"\n[[listener]]\nname = \"ocsp\"\nlisten = [\"127.0.0.1:{port}\"]\nbackend = \"{}\"\n[[listener.certificate]]\nchain = \"{d}/leaf.crt\"\nkey = \"{d}/leaf.key\"\nocsp = \"{d}/resp.der\"\n",
            backend.addr()
        )
    });
    let (ok, out) = s_client(p.port, &["-status", "-CAfile", &format!("{d}/ca.crt")], "");
    assert!(ok, "{out}");
    assert!(out.contains("OCSP Response Status: successful"), "{out}");
    assert!(out.contains("Cert Status: good"), "{out}");
    let (endpoints, _) = scan(&[&format!("127.0.0.1:{}", p.port)]);
    assert_eq!(
        endpoints[0]["tls"]["features"]["ocsp_stapling"], true,
        "{}",
        endpoints[0]["tls"]["features"]
    );
}

#[test]
fn revoked_client_certificates_are_refused() {
    let dir = client_pki("crl", &["partner1", "revoked"]);
    let _ = std::fs::write(dir.join("index.txt"), "");
    let _ = std::fs::write(dir.join("crlnumber"), "01\n");
    let _ = std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = here\n[here]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sha256\ndefault_crl_days = 1\n",
    );
    let ca_args = ["-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt"];
    let with_ca = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&ca_args);
        openssl(&all, &dir);
    };
    with_ca(&["ca", "-revoke", "revoked.crt"]);
    with_ca(&["ca", "-gencrl", "-out", "crl.pem"]);
    openssl(
        &[
            "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der",
        ],
        &dir,
    );
    // A CRL whose nextUpdate has passed, and one from a CA that did not issue the clients.
    with_ca(&[
        "ca",
        "-gencrl",
        "-crl_lastupdate",
        "20250101000000Z",
        "-crl_nextupdate",
        "20250102000000Z",
        "-out",
        "expired.pem",
    ]);
    let other = client_pki("crl-other", &[]);
    openssl(
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=other CA",
            "-days",
            "2",
        ],
        &other,
    );
    let _ = std::fs::write(other.join("index.txt"), "");
    let _ = std::fs::write(other.join("crlnumber"), "01\n");
    let _ = std::fs::copy(dir.join("ca.cnf"), other.join("ca.cnf"));
    openssl(
        &[
            "ca", "-gencrl", "-out", "crl.pem", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert",
            "ca.crt",
        ],
        &other,
    );

    let (plain, _plain_rx) = recording_backend();
    let ca = dir.join("ca.crt").display().to_string();
    let path = |d: &Path, f: &str| d.join(f).display().to_string();
    let cert = |who: &str| {
        (
            path(&dir, &format!("{who}.crt")),
            path(&dir, &format!("{who}.key")),
        )
    };
    let listener = |client_auth: &str| {
        let extra = format!(
            "proxy_protocol = \"v2\"\n[listener.client_auth]\nca = \"{ca}\"\n{client_auth}"
        );
        proxy(move |port, admin| config(port, admin, &format!("127.0.0.1:{plain}"), "", &extra))
    };
    let admitted = |p: &Proxy, who: &str| {
        let (c, k) = cert(who);
        let (ok, out) = s_client(p.port, &["-cert", &c, "-key", &k], "hello");
        ok && out.contains("BACKEND-SAYS-HI")
    };

    // The CA's CRL (DER): the revoked client is refused and logged as such, the other passes.
    let p = listener(&format!("crls = [\"{}\"]\n", path(&dir, "crl.der")));
    assert!(admitted(&p, "partner1"));
    assert!(!admitted(&p, "revoked"));
    let l = p.wait_log(|l| l["close_reason"] == "client_certificate_revoked");
    assert!(
        l["error"].as_str().is_some_and(|e| e.contains("Revoked")),
        "{l}"
    );
    drop(p);

    // PEM, leaf scope: the same answer.
    let p = listener(&format!(
        "crls = [\"{}\"]\ncrl_scope = \"leaf\"\n",
        path(&dir, "crl.pem")
    ));
    assert!(admitted(&p, "partner1"));
    assert!(!admitted(&p, "revoked"));
    drop(p);

    // An expired CRL, or only another CA's: the status is unknown, and unknown is refused...
    for crl in [path(&dir, "expired.pem"), path(&other, "crl.pem")] {
        let p = listener(&format!("crls = [\"{crl}\"]\n"));
        assert!(!admitted(&p, "partner1"), "{crl}");
        p.wait_log(|l| l["close_reason"] == "client_certificate_revocation_unknown");
    }
    // ... unless the configuration lets it through.
    let p = listener(&format!(
        "crls = [\"{}\"]\nallow_unknown_revocation = true\n",
        path(&other, "crl.pem")
    ));
    assert!(admitted(&p, "partner1"));
    drop(p);

    // A file that holds no CRL, and CRL settings without CRLs, are refused at start.
    let toml = dir.join("bad.toml");
    let checked = |client_auth: &str| {
        let extra = format!("[listener.client_auth]\nca = \"{ca}\"\n{client_auth}");
        let _ = std::fs::write(&toml, config(8443, 9901, "127.0.0.1:8080", "", &extra));
        let out = fipsgate(&["proxy", "--check", &toml.display().to_string()]);
        assert_eq!(out.status.code(), Some(2), "{client_auth}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = checked(&format!("crls = [\"{ca}\"]\n"));
    assert!(err.contains("ca.crt"), "{err}");
    let err = checked("crl_scope = \"leaf\"\n");
    assert!(err.contains("need crls"), "{err}");
}

#[test]
fn reload_adds_moves_and_removes_listen_addresses() {
    let m = material();
    let (one, two) = (
        nginx_server("", "return 200 one;"),
        nginx_server("", "return 200 two;"),
    );
    let p = proxy(|port, admin| config(port, admin, &one.addr(), "", ""));
    let ca = m.path("ec.crt");
    let get = |port: u16| {
        let url = format!("https://127.0.0.1:{port}/");
        let (code, body) = curl(&["--cacert", &ca, "--max-time", "5", &url]);
        (code == Some(0)).then_some(body)
    };
    assert_eq!(get(p.port).as_deref(), Some("one"));
    // `web` listening on `ports`, and a second listener `other` (to nginx "two") on `other`.
    let listeners = |ports: &[u16], other: &[u16]| {
        let listen = |ports: &[u16]| {
            let a: Vec<String> = ports.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
            a.join(", ")
        };
        let web = config(0, p.admin, &one.addr(), "", "").replace(
            "listen = [\"127.0.0.1:0\"]",
            &format!("listen = [{}]", listen(ports)),
        );
        if other.is_empty() {
            return web;
        }
        format!(
            "{web}\n[[listener]]\nname = \"other\"\nlisten = [{}]\nbackend = \"{}\"\n\
             [[listener.certificate]]\nchain = \"{}\"\nkey = \"{}\"\n",
            listen(other),
            two.addr(),
            m.path("ec.crt"),
            m.path("ec.key")
        )
    };
    let (a, b, c) = (p.port, free_port(), free_port());

    // `a` moves to the new listener `other`; `web` gets `b`.
    let ended = p.reload_to(&listeners(&[b], &[a]));
    assert!(ended.contains("\"reloaded\""), "{ended}");
    assert_eq!(get(a).as_deref(), Some("two"));
    assert_eq!(get(b).as_deref(), Some("one"));

    // `other` goes away, and `a` with it; `web` listens on `b` and `c`.
    let ended = p.reload_to(&listeners(&[b, c], &[]));
    assert!(ended.contains("\"reloaded\""), "{ended}");
    assert_eq!(get(b).as_deref(), Some("one"));
    assert_eq!(get(c).as_deref(), Some("one"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", a)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "{a} still accepts after its removal"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopped = p.wait_event("stopped_listening");
    assert!(stopped.contains(&format!("127.0.0.1:{a}")), "{stopped}");

    // An address another process holds: refused as a whole, nothing changes.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let held = taken.local_addr().map(|a| a.port()).unwrap_or(0);
    let ended = p.reload_to(&listeners(&[held], &[c]));
    assert!(
        ended.contains("reload_refused") && ended.contains(&held.to_string()),
        "{ended}"
    );
    assert_eq!(get(b).as_deref(), Some("one"));
    assert_eq!(get(c).as_deref(), Some("one"), "c still belongs to web");
    // The admin address is the one thing a reload cannot move.
    let moved_admin = listeners(&[b, c], &[]).replace(
        &format!("admin = \"127.0.0.1:{}\"", p.admin),
        &format!("admin = \"127.0.0.1:{}\"", free_port()),
    );
    let ended = p.reload_to(&moved_admin);
    assert!(ended.contains("admin address changed"), "{ended}");
    assert!(p.admin_get("/healthz").contains("ok"));
}

#[test]
fn sockets_passed_by_systemd_are_used() {
    let nginx = nginx_server("", "return 200 activated;");
    let p = proxy_with(
        |port, admin| config(port, admin, &nginx.addr(), "", ""),
        Launch {
            socket_activation: true,
            ..Launch::default()
        },
    );
    let url = format!("https://127.0.0.1:{}/", p.port);
    let (code, body) = curl(&["--cacert", &material().path("ec.crt"), &url]);
    assert_eq!((code, body.as_str()), (Some(0), "activated"));
    assert!(p.admin_get("/healthz").contains("ok"));
    let listening = p.wait_event("\"listening\"");
    assert!(
        listening.contains("\"socket_activation\":true"),
        "{listening}"
    );

    // A socket that the configuration does not name: the proxy refuses to start.
    let extra = free_port();
    let (port, admin) = (free_port(), free_port());
    let path = p.dir.join("extra.toml");
    let _ = std::fs::write(&path, config(port, admin, &nginx.addr(), "", ""));
    let mut child = Command::new("systemd-socket-activate")
        .args(["-l", &format!("127.0.0.1:{port}")])
        .args(["-l", &format!("127.0.0.1:{extra}")])
        .args([env!("CARGO_BIN_EXE_fipsgate"), "proxy", "--config"])
        .arg(&path)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("systemd-socket-activate (systemd): {e}"));
    wait_port(port);
    // The first connection makes systemd-socket-activate execute the proxy.
    let _first = TcpStream::connect(("127.0.0.1", port));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the proxy kept running with a socket it was not configured for");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("socket activation passed 127.0.0.1:{extra}")),
        "{err}"
    );
}

/// A minimal HTTP server answering `text` on 127.0.0.1:`port` until dropped; each connection
/// gets one answer.
struct TextBackend {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TextBackend {
    fn start(port: u16, text: &'static str) -> Self {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("127.0.0.1:{port}: {e}"));
        let _ = listener.set_nonblocking(true);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if !request.is_empty() {
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                }
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for TextBackend {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn several_backends_are_balanced_and_failed_ones_skipped() {
    let (pa, pb) = (free_port(), free_port());
    let a = TextBackend::start(pa, "a");
    let _b = TextBackend::start(pb, "b");
    let pool = format!("[\"127.0.0.1:{pa}\", \"127.0.0.1:{pb}\"]");
    let with = |settings: &str| {
        let text = config(0, 0, "BACKENDS", "", settings);
        let text = text.replace("\"BACKENDS\"", &pool);
        move |port: u16, admin: u16| {
            text.replace("127.0.0.1:0\"]", &format!("127.0.0.1:{port}\"]"))
                .replace(
                    "admin = \"127.0.0.1:0\"",
                    &format!("admin = \"127.0.0.1:{admin}\""),
                )
        }
    };
    let ca = material().path("ec.crt");
    let get = |port: u16| {
        let url = format!("https://127.0.0.1:{port}/");
        curl(&["--cacert", &ca, "--max-time", "5", &url]).1
    };

    // Round robin: each in turn.
    let rr = proxy(with(""));
    let got: Vec<String> = (0..4).map(|_| get(rr.port)).collect();
    assert_eq!(got, ["a", "b", "a", "b"]);
    // Standby order, with active checks every 0.2 s.
    let first = proxy(with("balance = \"first\"\nhealth_check_interval = 0.2"));
    assert_eq!([get(first.port), get(first.port)], ["a", "a"]);
    let metrics = first.admin_get("/metrics");
    assert!(
        metrics.contains(&format!(
            "fipsgate_proxy_backend_up{{listener=\"web\",backend=\"127.0.0.1:{pa}\"}} 1"
        )),
        "{metrics}"
    );

    // `a` goes away: clients of both proxies still get answers, from `b`, and `a` is marked down
    // (by the failed connection under round robin, by the checks under `first`).
    drop(a);
    let down = first.wait_event("backend_down");
    assert!(down.contains(&format!("127.0.0.1:{pa}")), "{down}");
    assert_eq!(get(first.port), "b");
    let got: Vec<String> = (0..4).map(|_| get(rr.port)).collect();
    assert_eq!(got, ["b", "b", "b", "b"]);
    let down = rr.wait_event("backend_down");
    assert!(down.contains("refused"), "{down}");
    let metrics = first.admin_get("/metrics");
    assert!(
        metrics.contains(&format!(
            "fipsgate_proxy_backend_up{{listener=\"web\",backend=\"127.0.0.1:{pa}\"}} 0"
        )),
        "{metrics}"
    );

    // `a` comes back: two good checks in a row, and `first` uses it again.
    let _a = TextBackend::start(pa, "a");
    let up = first.wait_event("backend_up");
    assert!(up.contains(&format!("127.0.0.1:{pa}")), "{up}");
    assert_eq!(get(first.port), "a");

    // Both gone: the client is closed and the log names every attempt.
    drop((_a, _b));
    let _ = get(rr.port);
    let l = rr.wait_log(|l| l["close_reason"] == "backend_unreachable");
    let error = l["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("127.0.0.1:{pa}")) && error.contains(&format!("127.0.0.1:{pb}")),
        "{l}"
    );
}

#[test]
fn backends_can_be_reached_over_fips_tls() {
    let m = material();
    let dir = pki("backend-tls", &["backend"], SERVER_EXT);
    let file = |f: &str| dir.join(f).display().to_string();
    let tls_body = |extra: &str, text: &str| {
        format!(
            "ssl_certificate {};\n    ssl_certificate_key {};\n    {extra}\n    return 200 {text};",
            file("backend.crt"),
            file("backend.key")
        )
    };
    let modern = nginx_server("ssl", &tls_body("", "secured"));
    // A backend that speaks only TLS 1.2 with ChaCha20: nothing FIPS in common.
    let legacy = nginx_server(
        "ssl",
        &tls_body(
            "ssl_protocols TLSv1.2;\n    ssl_ciphers ECDHE-ECDSA-CHACHA20-POLY1305;",
            "legacy",
        ),
    );
    let ca = file("ca.crt");
    let through = |backend: &str, backend_tls: &str| {
        let extra = format!("[listener.backend_tls]\n{backend_tls}");
        let p = proxy(|port, admin| config(port, admin, backend, "", &extra));
        let url = format!("https://127.0.0.1:{}/", p.port);
        let (code, body) = curl(&["--cacert", &m.path("ec.crt"), "--max-time", "5", &url]);
        (p, (code == Some(0)).then_some(body))
    };

    // Verified against the CA, by the backend's address (its certificate has IP:127.0.0.1).
    let (p, body) = through(&modern.addr(), &format!("ca = \"{ca}\"\n"));
    assert_eq!(body.as_deref(), Some("secured"), "{:?}", p.log());
    let l = p.wait_log(|l| l["backend_suite"].is_string());
    assert!(
        l["backend_suite"]
            .as_str()
            .is_some_and(|s| s.contains("AES") && s.contains("GCM")),
        "{l}"
    );
    // By a configured name.
    let (_, body) = through(
        &modern.addr(),
        &format!("ca = \"{ca}\"\nserver_name = \"localhost\"\n"),
    );
    assert_eq!(body.as_deref(), Some("secured"));

    // A name the certificate does not carry, another CA, and a backend with no FIPS suite: the
    // client is closed and the log says why.
    for (backend, settings, says) in [
        (
            modern.addr(),
            format!("ca = \"{ca}\"\nserver_name = \"elsewhere.example\"\n"),
            "not valid for name",
        ),
        (
            modern.addr(),
            format!("ca = \"{}\"\n", m.path("rsa.crt")),
            "UnknownIssuer",
        ),
        (legacy.addr(), format!("ca = \"{ca}\"\n"), "alert"),
    ] {
        let (p, body) = through(&backend, &settings);
        assert_eq!(body, None, "{settings}");
        let l = p.wait_log(|l| l["close_reason"] == "backend_tls_failed");
        assert!(
            l["error"].as_str().is_some_and(|e| e.contains(says)),
            "{settings}: {l}"
        );
    }
    // A Unix-socket backend has no host name to verify: the configuration must give one.
    let toml = dir.join("unix.toml");
    let extra = format!("[listener.backend_tls]\nca = \"{ca}\"\n");
    let _ = std::fs::write(&toml, config(8443, 9901, "unix:/run/app.sock", "", &extra));
    let out = fipsgate(&["proxy", "--check", &toml.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("need a server_name"), "{err}");
}
