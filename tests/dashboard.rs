//! The HTML dashboard in a real browser: Debian's Chromium, driven by Selenium
//! (tests/support/dashboard_check.py), opens the report of a real loopback fleet scanned twice,
//! with servers reconfigured, removed and added in between, and checks what the page shows
//! against the scans' own NDJSON: verdict counts, top-findings counts, search and filters, a
//! finding's endpoints, the detail view and the diff view. Screenshots are kept as artefacts in
//! the cargo target directory (tmp/dashboard/).
mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use support::*;

/// Where the pages and screenshots go.
fn artefacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Runs the browser check on a page; its JSON answer.
fn browser_check(page: &str, ndjson: &str, screenshot: &str, baseline: Option<&str>) -> Value {
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/dashboard_check.py"
    ))
    .args([page, ndjson, screenshot]);
    if let Some(old) = baseline {
        cmd.args(["--baseline", old]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("python3 with selenium (.ci/run installs it): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let answer: Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert!(
        out.status.success() && answer["ok"] == true,
        "browser check of {page}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    answer
}

fn scan_to(path: &str, format: &str, targets: &[String]) {
    let mut args = vec![
        "scan",
        "--format",
        format,
        "--timeout",
        "3",
        "--policy",
        "fips-140-3,axway-securetransport",
        "-o",
        path,
    ];
    args.extend(targets.iter().map(String::as_str));
    let out = fipsgate(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "scan: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_dashboard_shows_what_the_scan_found_in_chromium() {
    let m = material();
    let dir = artefacts();
    let at = |name: &str| dir.join(name).display().to_string();
    let keys = m.dir.join("dashboard-keys");
    let _ = std::fs::create_dir_all(&keys);
    let host_key = keygen(&keys, "ecdsa256", &["-t", "ecdsa", "-b", "256"]);
    let fips_ssh = "KexAlgorithms ecdh-sha2-nistp256\nCiphers aes128-gcm@openssh.com\n\
                    MACs hmac-sha2-256\nHostKeyAlgorithms ecdsa-sha2-nistp256\n";
    let (rsa_crt, rsa_key) = (m.path("rsa.crt"), m.path("rsa.key"));
    let s_server = |port: u16, extra: &[&str]| {
        let accept = format!("127.0.0.1:{port}");
        let mut args = vec![
            "s_server", "-accept", &accept, "-quiet", "-cert", &rsa_crt, "-key", &rsa_key,
        ];
        args.extend_from_slice(extra);
        start_on("openssl", &args, port)
    };

    // The fleet as the baseline saw it: a legacy TLS 1.0 server (fixed later), a FIPS-only
    // sshd (weakened later), a server that goes away, a modern server and a closed port.
    let fixed_port = free_port();
    let legacy = s_server(fixed_port, &["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"]);
    let modern = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let leaving = openssl_rsa_server(&["-no_tls1_3", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"]);
    let ssh_port = free_port();
    let strict_sshd = sshd_on("dashboard-strict", fips_ssh, &[&host_key], ssh_port);
    let closed = format!("127.0.0.1:{}", free_port());
    let old = at("old.ndjson");
    scan_to(
        &old,
        "ndjson",
        &[
            legacy.addr(),
            modern.addr(),
            leaving.addr(),
            format!("127.0.0.1:{ssh_port}"),
            closed.clone(),
        ],
    );

    // The fleet now: the legacy server fixed, the sshd weakened with ChaCha20, one server gone
    // and one new.
    drop((legacy, leaving, strict_sshd));
    let repaired = s_server(
        fixed_port,
        &[
            "-no_tls1_3",
            "-groups",
            "P-256:P-384",
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256",
        ],
    );
    let weak_sshd = sshd_on(
        "dashboard-weak",
        &fips_ssh.replace(
            "aes128-gcm@openssh.com",
            "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com",
        ),
        &[&host_key],
        ssh_port,
    );
    let arrived = openssl_rsa_server(&["-tls1_1", "-cipher", "AES256-SHA:@SECLEVEL=0"]);
    let now = vec![
        repaired.addr(),
        modern.addr(),
        arrived.addr(),
        format!("127.0.0.1:{}", weak_sshd.port),
        closed,
    ];
    let new = at("new.ndjson");
    scan_to(&new, "ndjson", &now);

    // The page of `report`, with the diff view.
    let page = at("report.html");
    let out = fipsgate(&[
        "report",
        &new,
        "--format",
        "html",
        "--policy",
        "fips-140-3,axway-securetransport",
        "--baseline",
        &old,
        "-o",
        &page,
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1 | 3)), "{out:?}");
    let checked = browser_check(&page, &new, &at("report.png"), Some(&old));
    assert_eq!(checked["endpoints"], 5);
    assert_eq!(
        checked["diff"],
        serde_json::json!({"appeared": 1, "vanished": 1, "better": 1, "worse": 1}),
        "the fixed server is better, the weakened sshd worse"
    );
    assert!(checked["top_findings"].as_u64() > Some(3), "{checked}");

    // `diff` says the same of the two scans.
    let out = fipsgate(&["diff", &old, &new, "--format", "json"]);
    let directions: BTreeMap<u64, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|d| d["change"] == "changed")
        .map(|d| {
            let port = d["target"]["port"].as_u64().unwrap_or(0);
            (port, d["direction"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    let expected = BTreeMap::from([
        (u64::from(fixed_port), "better".to_owned()),
        (u64::from(ssh_port), "worse".to_owned()),
    ]);
    assert_eq!(directions, expected);

    // The page `scan` writes itself, without a baseline.
    let scanned = at("scan.html");
    scan_to(&scanned, "html", &now);
    browser_check(&scanned, &new, &at("scan.png"), None);

    // --baseline is for the HTML page only.
    let out = fipsgate(&["report", &new, "--baseline", &old]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--baseline needs --format html"));
    drop((repaired, weak_sshd, arrived, modern));
}
