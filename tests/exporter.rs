//! `fipsgate exporter` with real parts: Debian's Prometheus scrapes it with the scrape
//! configuration of docs/exporter/ against real servers (OpenSSL s_server, nginx, OpenSSH), and
//! its HTTP API must show each target's verdict; promtool checks the alert rules, the Grafana
//! dashboard's queries and a scrape; targets outside --allow get 403 with no connection made;
//! a hostile target is a failed probe while the exporter goes on serving; a bearer token, when
//! set, is required.
mod support;

use serde_json::Value;
use std::io::Write;
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::hostile::{hostile, Opening};
use support::*;

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/exporter");

/// A running exporter on a free port, with these extra arguments.
fn exporter(extra: &[&str]) -> Server {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec!["exporter", "--listen", &listen];
    args.extend_from_slice(extra);
    start_on(env!("CARGO_BIN_EXE_fipsgate"), &args, port)
}

/// GET a path: status code and body.
fn get(port: u16, path: &str, headers: &[&str]) -> (u16, String) {
    let text = http_get(port, path, headers);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// The value of a sample line `name{labels} value` in an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Runs promtool; its exit status must be 0.
fn promtool(args: &[&str], stdin: Option<&str>) {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("promtool (.ci/run installs prometheus): {e}"));
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        let _ = input.write_all(text.as_bytes());
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn prometheus_scrapes_the_verdicts_of_real_servers() {
    let m = material();
    let fips_only = openssl_rsa_server(&[
        "-no_tls1_3",
        "-groups",
        "P-256:P-384",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ]);
    let chacha = openssl_rsa_server(&["-no_tls1_3", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"]);
    let web = nginx(&format!(
        "ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.2 TLSv1.3;",
        m.path("rsa.crt"),
        m.path("rsa.key")
    ));
    let dir = m.dir.join(format!("exporter-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let key = keygen(&dir, "ecdsa256", &["-t", "ecdsa", "-b", "256"]);
    let sshd = sshd(
        "exporter",
        "KexAlgorithms ecdh-sha2-nistp256\nCiphers aes128-gcm@openssh.com\nMACs hmac-sha2-256\nHostKeyAlgorithms ecdsa-sha2-nistp256\n",
        &[&key],
    );
    // What each server's own configuration makes it: P-256/P-384 and AES-GCM only is
    // fips-only; ChaCha20 only is not-fips-capable; nginx's defaults add X25519 and ChaCha20 to
    // approved choices (fips-capable); the sshd offers approved algorithms only.
    let expected = [
        (fips_only.addr(), "fips-only"),
        (chacha.addr(), "not-fips-capable"),
        (web.addr(), "fips-capable"),
        (format!("127.0.0.1:{}", sshd.port), "fips-only"),
    ];
    let exp = exporter(&[
        "--allow",
        "127.0.0.0/8",
        "--min-interval",
        "2",
        "--timeout",
        "20",
    ]);

    // The documented configuration, pointed at these servers and this exporter, scraping fast.
    let documented = std::fs::read_to_string(format!("{DOCS}/prometheus.yml")).unwrap_or_default();
    let targets: String = expected
        .iter()
        .map(|(t, _)| format!("          - {t}\n"))
        .collect();
    let start = documented.find("          - web1").unwrap_or(0);
    let end = documented.find("    relabel_configs").unwrap_or(0);
    assert!(
        start > 0 && end > start,
        "docs/exporter/prometheus.yml changed shape"
    );
    let config = format!("{}{targets}{}", &documented[..start], &documented[end..])
        .replace("127.0.0.1:9716", &exp.addr())
        .replace("scrape_interval: 5m", "scrape_interval: 3s")
        .replace("scrape_timeout: 60s", "scrape_timeout: 3s")
        .replace("evaluation_interval: 1m", "evaluation_interval: 2s");
    let _ = std::fs::write(dir.join("prometheus.yml"), config);
    let _ = std::fs::copy(format!("{DOCS}/alerts.yml"), dir.join("alerts.yml"));
    promtool(
        &[
            "check",
            "config",
            &dir.join("prometheus.yml").display().to_string(),
        ],
        None,
    );
    let prom_port = free_port();
    let _prometheus = start_on(
        "prometheus",
        &[
            &format!("--config.file={}", dir.join("prometheus.yml").display()),
            &format!("--storage.tsdb.path={}", dir.join("data").display()),
            &format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        prom_port,
    );
    // Prometheus's own view: every target with its verdict series.
    let began = Instant::now();
    let deadline = began + Duration::from_secs(90);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let (_, body) = get(
            prom_port,
            "/api/v1/query?query=fipsgate_endpoint_verdict%7Bpolicy%3D%22fips-140-3%22%7D%3D%3D1",
            &[],
        );
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        seen = v["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let l = &r["metric"];
                (
                    l["instance"].as_str().unwrap_or_default().to_owned(),
                    l["verdict"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        seen.sort();
        if seen.len() == expected.len() {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(t, v)| (t.clone(), (*v).to_owned()))
        .collect();
    want.sort();
    assert_eq!(seen, want, "Prometheus's fipsgate_endpoint_verdict series");
    eprintln!("Prometheus had every verdict after {:?}", began.elapsed());

    // promtool: the alert rules, the dashboard's queries and a scrape.
    promtool(&["check", "rules", &format!("{DOCS}/alerts.yml")], None);
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DOCS}/dashboard.json")).unwrap_or_default(),
    )
    .unwrap_or(Value::Null);
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| {
            t["expr"]
                .as_str()
                .map(|e| e.replace("$policy", "fips-140-3"))
        })
        .collect();
    assert!(exprs.len() >= 6 && exprs.iter().all(|e| e.contains("fipsgate_")));
    let rules: String = exprs
        .iter()
        .enumerate()
        .map(|(n, e)| {
            format!(
                "      - record: fipsgate:dashboard_{n}\n        expr: {}\n",
                serde_json::json!(e)
            )
        })
        .collect();
    let rules_file = dir.join("dashboard-queries.yml");
    let _ = std::fs::write(
        &rules_file,
        format!("groups:\n  - name: dashboard\n    rules:\n{rules}"),
    );
    promtool(&["check", "rules", &rules_file.display().to_string()], None);
    let (status, scrape) = get(exp.port, &format!("/probe?target={}", expected[2].0), &[]);
    assert_eq!(status, 200);
    promtool(&["check", "metrics"], Some(&scrape));
    // Within --min-interval the result is reused, however often it is asked for. Prometheus
    // scrapes the same target, so a scrape may hit a result that is about to expire: wait for a
    // fresh scan, then ask again at once.
    let probe = format!("/probe?target={}", expected[2].0);
    let mut fresh = scrape;
    for _ in 0..20 {
        if sample(&fresh, "fipsgate_probe_cache_age_seconds") == Some(0.0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
        fresh = get(exp.port, &probe, &[]).1;
    }
    assert_eq!(
        sample(&fresh, "fipsgate_probe_cache_age_seconds"),
        Some(0.0),
        "a fresh scan once the cached one expired: {fresh}"
    );
    let (_, again) = get(exp.port, &probe, &[]);
    assert!(
        sample(&again, "fipsgate_probe_cache_age_seconds").is_some_and(|a| a > 0.0),
        "{again}"
    );
    let (_, own) = get(exp.port, "/metrics", &[]);
    promtool(&["check", "metrics"], Some(&own));
    assert!(
        sample(&own, "fipsgate_exporter_cache_hits_total").is_some_and(|n| n >= 1.0),
        "{own}"
    );
    let (_, open_metrics) = get(
        exp.port,
        &format!("/probe?target={}", expected[0].0),
        &["Accept: application/openmetrics-text; version=1.0.0"],
    );
    assert!(open_metrics.ends_with("# EOF\n"));

    // The docs show the files as they are.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/exporter.md"))
        .unwrap_or_default();
    for file in ["prometheus.yml", "alerts.yml", "dashboard.json"] {
        let text = std::fs::read_to_string(format!("{DOCS}/{file}")).unwrap_or_default();
        assert!(
            doc.contains(text.trim_end()),
            "docs/exporter.md shows docs/exporter/{file}"
        );
    }
}

#[test]
fn targets_outside_allow_get_403_with_no_connection_and_hostile_ones_fail_alone() {
    // A listener on 127.0.0.2, outside the allowed 127.0.0.1/32, that counts connections.
    let recorder = TcpListener::bind("127.0.0.2:0").unwrap_or_else(|e| panic!("{e}"));
    let outside = recorder.local_addr().map(|a| a.port()).unwrap_or(0);
    let _ = recorder.set_nonblocking(true);
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || loop {
        if recorder.accept().is_ok() {
            counted.fetch_add(1, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(10));
    });
    let good = openssl_rsa_server(&["-no_tls1_3", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]);
    let garbage = hostile(Opening::ReadsHello, |s| {
        let _ = s.write_all(&[0x16, 0x03, 0x03, 0xff, 0xff, 0, 0, 0]);
    });
    let exp = exporter(&[
        "--allow",
        "127.0.0.1/32",
        "--allow",
        "::1/128",
        "--timeout",
        "10",
    ]);
    let (status, body) = get(exp.port, &format!("/probe?target=127.0.0.2:{outside}"), &[]);
    assert_eq!(status, 403, "{body}");
    let (status, _) = get(exp.port, "/probe?target=10.0.0.1:443", &[]);
    assert_eq!(status, 403);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        connections.load(Ordering::Relaxed),
        0,
        "no connection to a forbidden target"
    );
    // A name is allowed when what it resolves to is.
    let (status, body) = get(
        exp.port,
        &format!("/probe?target=localhost:{}", good.port),
        &[],
    );
    assert_eq!(
        (status, sample(&body, "fipsgate_probe_success")),
        (200, Some(1.0)),
        "{body}"
    );
    // A hostile server: a failed probe with its error kind, and the next probe works.
    let (status, body) = get(exp.port, &format!("/probe?target=127.0.0.1:{garbage}"), &[]);
    assert_eq!(status, 200);
    assert_eq!(sample(&body, "fipsgate_probe_success"), Some(0.0), "{body}");
    assert!(body.contains("fipsgate_probe_error{kind=\""), "{body}");
    let (status, body) = get(
        exp.port,
        &format!("/probe?target={}&policy=cnsa", good.addr()),
        &[],
    );
    assert_eq!(
        (status, sample(&body, "fipsgate_probe_success")),
        (200, Some(1.0)),
        "{body}"
    );
    for bad in [
        "/probe",
        "/probe?target=127.0.0.1:1&policy=nope",
        "/probe?target=127.0.0.1:1&service=gopher",
    ] {
        assert_eq!(get(exp.port, bad, &[]).0, 400, "{bad}");
    }
    let (_, own) = get(exp.port, "/metrics", &[]);
    assert_eq!(
        sample(&own, "fipsgate_exporter_probes_total{result=\"forbidden\"}"),
        Some(2.0),
        "{own}"
    );

    // With a bearer token, requests without it are refused.
    let token = material().dir.join(format!("token-{}", free_port()));
    let _ = std::fs::write(&token, "s3cret\n");
    let guarded = exporter(&[
        "--allow",
        "127.0.0.1/32",
        "--bearer-token-file",
        &token.display().to_string(),
    ]);
    assert_eq!(get(guarded.port, "/metrics", &[]).0, 401);
    assert_eq!(
        get(guarded.port, "/metrics", &["Authorization: Bearer wrong"]).0,
        401
    );
    assert_eq!(
        get(guarded.port, "/metrics", &["Authorization: Bearer s3cret"]).0,
        200
    );
    // No --allow: it refuses to start.
    let out = fipsgate(&["exporter", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow"));
}
