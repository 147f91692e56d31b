//! Latency-bound scanning: an endpoint's questions asked side by side (the default) give the
//! same report, connection for connection, as the same scan one connection at a time
//! (`--per-host 1`).
mod support;

use serde_json::Value;
use support::*;

/// The endpoint lines of a scan at this `--per-host`, less what differs between two runs of
/// the same scan (how long it took, and when).
fn reports(per_host: &str, ssh_port: u16, targets: &[String]) -> Vec<Value> {
    let ssh = ssh_port.to_string();
    let mut args = vec!["--per-host", per_host, "--ssh-ports", &ssh];
    args.extend(targets.iter().map(String::as_str));
    let (mut endpoints, _) = scan(&args);
    for e in &mut endpoints {
        if let Some(e) = e.as_object_mut() {
            e.remove("duration_ms");
            e.remove("scanned_at");
        }
    }
    endpoints
}

/// bench/tls.sh's server B: TLS 1.2 and 1.3, two suites each, server order.
fn server_b() -> Server {
    openssl_rsa_server(&[
        "-cipher",
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
        "-ciphersuites",
        "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
        "-serverpref",
        "-no_tls1",
        "-no_tls1_1",
    ])
}

#[test]
fn side_by_side_and_one_at_a_time_give_identical_reports() {
    let m = material();
    // bench/tls.sh's servers A (TLS 1.2, two suites) and B (TLS 1.2 and 1.3, server order).
    let a = openssl_rsa_server(&[
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
    ]);
    let b = server_b();
    // Every version from TLS 1.0, CBC, DHE and static RSA: the longest list of chains.
    let old = openssl_rsa_server(&[
        "-cipher",
        "ECDHE-RSA-AES128-SHA:DHE-RSA-AES256-SHA:AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0",
        "-dhparam",
        &m.path("ffdhe2048.pem"),
    ]);
    let web = nginx(&format!(
        "ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.2 TLSv1.3;",
        m.path("rsa.crt"),
        m.path("rsa.key")
    ));
    let dir = m.dir.join(format!("concurrency-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let host_keys: Vec<String> = [("rsa", "rsa"), ("ecdsa", "ecdsa"), ("ed25519", "ed25519")]
        .iter()
        .map(|(name, t)| keygen(&dir, name, &["-t", t]))
        .collect();
    let keys: Vec<&str> = host_keys.iter().map(String::as_str).collect();
    let ssh = sshd("concurrency", "", &keys);
    let targets: Vec<String> = [a.port, b.port, old.port, web.port, ssh.port]
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();

    let one_at_a_time = reports("1", ssh.port, &targets);
    let side_by_side = reports("6", ssh.port, &targets);
    assert_eq!(one_at_a_time.len(), targets.len());
    for (sequential, concurrent) in one_at_a_time.iter().zip(&side_by_side) {
        assert_eq!(sequential["status"], "ok", "{sequential}");
        assert_eq!(sequential, concurrent);
    }
    let ssh_report = &side_by_side[4];
    assert_eq!(
        ssh_report["ssh"]["host_keys"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(!ssh_report["ssh"]["gex_moduli_bits"]
        .as_array()
        .is_none_or(Vec::is_empty));
}

/// Scans the server on `port` through bench/relay.py holding every chunk 15 ms each way, at
/// `--per-host 6` and at `--per-host 1`, and checks that each chain's next connection was
/// opened while the last answer was on its way without changing the report, and that
/// connections stay within the budget of supported suites + groups + signature schemes + 12.
/// Returns the report.
fn across_a_slow_path(port: u16) -> Value {
    let dir = material().dir.join(format!("ahead-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let (count, waits) = (dir.join("count"), dir.join("waits"));
    let relay_script = format!("{}/bench/relay.py", env!("CARGO_MANIFEST_DIR"));
    let relay = start(
        "python3",
        &[
            &relay_script,
            "{port}",
            &port.to_string(),
            &count.display().to_string(),
            "15",
            &waits.display().to_string(),
        ],
    );
    // Milliseconds each connection of a scan waited between its accept and its first bytes,
    // none for a connection closed before any.
    let waited = |per_host: &str| {
        let _ = std::fs::remove_file(&waits);
        let mut report = reports(per_host, 22, &[relay.addr()]).remove(0);
        let log = std::fs::read_to_string(&waits).unwrap_or_default();
        let waits: Vec<Option<f64>> = log.lines().map(|l| l.parse().ok()).collect();
        let connections = report["connections"].as_u64().unwrap_or(0);
        if let Some(e) = report.as_object_mut() {
            e.remove("connections");
        }
        (report, connections, waits)
    };
    let (side_by_side, connections, ahead) = waited("6");
    let (one_at_a_time, _, fresh) = waited("1");
    assert_eq!(side_by_side["status"], "ok", "{side_by_side}");
    assert_eq!(side_by_side, one_at_a_time);
    let tls = &side_by_side["tls"];
    let budget =
        suite_count(tls) + count_of(&tls["groups"]) + count_of(&tls["signature_schemes"]) + 12;
    assert!(connections as usize <= budget, "{connections} > {budget}");
    // Connections opened ahead wait for the last answer before their hello, or end unused
    // when their chain has ended; one at a time, a connection carries its hello at once (but
    // for the scanner's own start-up work, such as the first TLS 1.3 handshake's key shares).
    // At most two are open ahead at a time (so that at most two end unused), and a server
    // that answers side by side leaves few chains waiting: at least two must be opened ahead,
    // and one of them must carry a hello. (Against Go's crypto/tls one scan in seven had one
    // used and two unused.)
    let late = |waits: &[Option<f64>]| waits.iter().flatten().filter(|w| **w >= 10.0).count();
    let unused = |waits: &[Option<f64>]| waits.iter().filter(|w| w.is_none()).count();
    let opened_ahead = |waits: &[Option<f64>]| late(waits) + unused(waits);
    assert!(late(&ahead) > late(&fresh), "{ahead:?} {fresh:?}");
    assert!(
        opened_ahead(&ahead) >= opened_ahead(&fresh) + 2,
        "{ahead:?} {fresh:?}"
    );
    side_by_side
}

fn count_of(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// Suites found over every version of a report's `tls`.
fn suite_count(tls: &Value) -> usize {
    tls["versions"]
        .as_array()
        .map_or(0, |v| v.iter().map(|v| count_of(&v["cipher_suites"])).sum())
}

/// OpenSSL's s_server, which serves one connection at a time, across a slow path.
#[test]
fn across_a_slow_path_connections_opened_ahead_change_no_result() {
    let b = server_b();
    let report = across_a_slow_path(b.port);
    assert_eq!(suite_count(&report["tls"]), 4, "{report}");
}

/// Go's crypto/tls, a strict independent stack serving connections side by side, across a
/// slow path: the suites are the ones crypto/tls says its configuration accepts.
#[test]
fn across_a_slow_path_a_strict_peer_gives_the_same_report() {
    let m = material();
    let (cert, key) = (m.path("rsa.crt"), m.path("rsa.key"));
    let mut flags = peers::GO_TLS12_13.to_vec();
    flags.extend(["-cert", &cert, "-key", &key]);
    let (server, truth) = peers::go_tls(&flags);
    let report = across_a_slow_path(server.port);
    let want: usize = truth["versions"]
        .as_object()
        .map_or(0, |v| v.values().map(count_of).sum());
    assert!(want > 0, "{truth}");
    assert_eq!(suite_count(&report["tls"]), want, "{report} {truth}");
}
