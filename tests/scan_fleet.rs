//! Fleet targets: port lists, address ranges, target files, exclusions and the `--yes` guard,
//! all on loopback. Endpoints from lists that do not answer are left out of the report.
mod support;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use support::*;

#[test]
fn port_lists_and_ranges_report_only_what_answers() {
    let m = material();
    let a = openssl_server(&["-cert", &m.path("rsa.crt"), "-key", &m.path("rsa.key")]);
    let b = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let closed = free_port();
    let ports = format!("{},{},{closed}", a.port, b.port);
    let (lines, code) = scan_lines(&["-p", &ports, "127.0.0.1"]);
    let endpoints: Vec<&Value> = lines.iter().filter(|l| l["type"] == "endpoint").collect();
    let got: Vec<u64> = endpoints
        .iter()
        .filter_map(|e| e["target"]["port"].as_u64())
        .collect();
    assert_eq!(
        got,
        [u64::from(a.port), u64::from(b.port)],
        "the closed port is left out"
    );
    let end = lines.last().cloned().unwrap_or(Value::Null);
    assert_eq!(
        (end["endpoints"].as_u64(), end["errors"].as_u64()),
        (Some(2), Some(0))
    );
    assert_ne!(code, Some(3));
    // 127.0.0.2 and .3 refuse (s_server listens on 127.0.0.1 only): left out as well.
    let (endpoints, _) = scan(&[&format!("127.0.0.1-3:{}", a.port)]);
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["target"]["ip"], "127.0.0.1");
}

#[test]
fn target_files_and_exclusions() {
    let m = material();
    let a = openssl_server(&["-cert", &m.path("rsa.crt"), "-key", &m.path("rsa.key")]);
    let list = m.dir.join(format!("targets-{}.txt", free_port()));
    let _ = std::fs::write(
        &list,
        format!(
            "# partners\n127.0.0.1:{p}  127.0.0.2:{p}\n\n127.0.0.3:{p} # old\n",
            p = a.port
        ),
    );
    let (endpoints, _) = scan(&[
        "--input-list",
        &list.display().to_string(),
        "--exclude",
        "127.0.0.2,127.0.0.3/32",
    ]);
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    // nmap's spelling, and stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_fipsgate"))
        .args(["scan", "--format", "ndjson", "-iL", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "127.0.0.1:{}", a.port);
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"type\":\"endpoint\""))
            .count(),
        1,
        "{text}"
    );
}

#[test]
fn huge_expansions_need_yes_and_bad_lists_are_refused() {
    let out = fipsgate(&["scan", "-p", "443,22", "127.0.0.0/8"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expand to 33554432 endpoints: add --yes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for bad in [
        vec!["scan", "-p", "0", "127.0.0.1"],
        vec!["scan", "127.0.0.9-1"],
        vec!["scan", "--exclude", "nope..x", "127.0.0.1"],
        vec!["scan"],
    ] {
        let out = fipsgate(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    let out = fipsgate(&["scan", "--input-list", "/nonexistent/targets.txt"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--input-list /nonexistent/targets.txt"));
}
