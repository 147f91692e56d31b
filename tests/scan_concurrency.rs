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

#[test]
fn side_by_side_and_one_at_a_time_give_identical_reports() {
    let m = material();
    // bench/tls.sh's servers A (TLS 1.2, two suites) and B (TLS 1.2 and 1.3, server order).
    let a = openssl_rsa_server(&[
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
    ]);
    let b = openssl_rsa_server(&[
        "-cipher",
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
        "-ciphersuites",
        "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
        "-serverpref",
        "-no_tls1",
        "-no_tls1_1",
    ]);
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
