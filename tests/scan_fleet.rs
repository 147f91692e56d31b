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
    let a = openssl_rsa_server(&[]);
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
    let a = openssl_rsa_server(&[]);
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

/// The ports of the endpoint lines of a scan.
fn ports(lines: &[Value]) -> Vec<u64> {
    lines
        .iter()
        .filter(|l| l["type"] == "endpoint")
        .filter_map(|l| l["target"]["port"].as_u64())
        .collect()
}

#[test]
fn shards_split_a_list_without_overlap() {
    let m = material();
    let servers: Vec<Server> = (0..4)
        .map(|_| openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]))
        .collect();
    let list = servers
        .iter()
        .map(|s| s.port.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let (a, _) = scan_lines(&["-p", &list, "--shard", "0/2", "127.0.0.1"]);
    let (b, _) = scan_lines(&["-p", &list, "--shard", "1/2", "127.0.0.1"]);
    let (a, b) = (ports(&a), ports(&b));
    assert_eq!(a.len() + b.len(), 4, "{a:?} {b:?}");
    let mut all: Vec<u64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    let mut expected: Vec<u64> = servers.iter().map(|s| u64::from(s.port)).collect();
    expected.sort_unstable();
    assert_eq!(all, expected);
    for bad in ["2/2", "x/2", "1"] {
        let out = fipsgate(&["scan", "--shard", bad, "127.0.0.1"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn resume_skips_what_an_interrupted_scan_finished() {
    let m = material();
    let a = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let b = openssl_rsa_server(&[]);
    let file = m.dir.join(format!("resume-{}.ndjson", a.port));
    let path = file.display().to_string();
    let out = fipsgate(&["scan", "--format", "ndjson", "-o", &path, &a.addr()]);
    assert_eq!(out.status.code(), Some(0));
    // A scan killed while writing leaves half a line behind.
    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
    text.push_str("{\"type\":\"endpoint\",\"schema_ver");
    let _ = std::fs::write(&file, &text);
    let out = fipsgate(&[
        "scan",
        "--format",
        "ndjson",
        "--resume",
        &path,
        "-o",
        &path,
        &a.addr(),
        &b.addr(),
    ]);
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();

    assert_eq!(
        ports(&lines),
        [u64::from(a.port), u64::from(b.port)],
        "{text}"
    );
    let out = fipsgate(&["scan", "--resume", "/nonexistent.ndjson", &a.addr()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rate_limits_new_connections() {
    let m = material();
    let a = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let started = std::time::Instant::now();
    let (endpoints, _) = scan(&["--rate", "40", &a.addr()]);
    let connections = endpoints[0]["connections"].as_u64().unwrap_or(0);
    // n connections at 40 a second cannot take less than (n - 1) / 40 seconds.
    let floor = std::time::Duration::from_millis((connections - 1) * 25);
    assert!(connections > 10);
    assert!(
        started.elapsed() >= floor,
        "{connections} connections in {:?}",
        started.elapsed()
    );
    assert_eq!(
        fipsgate(&["scan", "--rate", "0", &a.addr()]).status.code(),
        Some(2)
    );
}

#[test]
fn diff_lists_appeared_vanished_and_changed_endpoints() {
    let m = material();
    let a = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let b = openssl_rsa_server(&[]);
    let c = openssl_rsa_server(&[]);
    let dir = &m.dir;
    let old = dir
        .join(format!("old-{}.ndjson", a.port))
        .display()
        .to_string();
    let new = dir
        .join(format!("new-{}.ndjson", a.port))
        .display()
        .to_string();
    let (lines, _) = scan_lines(&[&a.addr(), &b.addr()]);
    // Before, A did not offer its first TLS 1.2 suite and B was judged differently.
    let mut before = Vec::new();
    let mut dropped = String::new();
    for mut l in lines {
        if l["target"]["port"] == a.port {
            if let Some(suites) = l["tls"]["versions"][0]["cipher_suites"].as_array_mut() {
                dropped = suites.remove(0)["iana"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            }
        }
        before.push(l.to_string());
    }
    let _ = std::fs::write(&old, before.join("\n") + "\n");
    let out = fipsgate(&[
        "scan",
        "--format",
        "ndjson",
        "-o",
        &new,
        &a.addr(),
        &c.addr(),
    ]);
    assert_ne!(out.status.code(), Some(2));
    let out = fipsgate(&["diff", &old, &new, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "drift exits 1");
    let drift: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let by_change = |c: &str| -> Vec<u64> {
        drift
            .iter()
            .filter(|d| d["change"] == c)
            .filter_map(|d| d["target"]["port"].as_u64())
            .collect()
    };
    assert_eq!(by_change("vanished"), [u64::from(b.port)]);
    assert_eq!(by_change("appeared"), [u64::from(c.port)]);
    assert_eq!(by_change("changed"), [u64::from(a.port)]);
    let changed = drift.iter().find(|d| d["change"] == "changed").cloned();
    let changes = changed.map(|d| d["changes"].clone()).unwrap_or_default();
    assert_eq!(changes[0]["facet"], "tls1.2 cipher_suites", "{changes}");
    assert_eq!(changes[0]["added"][0], dropped.as_str());
    let same = fipsgate(&["diff", &new, &new]);
    assert_eq!(same.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&same.stdout), "no drift\n");
    assert_eq!(
        fipsgate(&["diff", &new, "/nonexistent"]).status.code(),
        Some(2)
    );
}

/// Runs fipsgate on a pseudo-terminal (util-linux `script`): what the terminal showed.
fn on_a_terminal(args: &[&str]) -> String {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_fipsgate"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect();
    let out = Command::new("script")
        .args(["-qefc", &quoted.join(" "), "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("script (util-linux): {e}"));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_progress_bar_when_stderr_is_a_terminal() {
    let m = material();
    let a = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let ports = format!("{},{}", a.port, free_port());
    let dir = m.dir.join(format!("progress-{}", a.port));
    let _ = std::fs::create_dir_all(&dir);
    let report = dir.join("out.ndjson").display().to_string();
    let args = [
        "scan",
        "-p",
        &ports,
        "127.0.0.1",
        "--format",
        "ndjson",
        "-o",
        &report,
    ];
    let shown = on_a_terminal(&args);
    // The last drawing: both endpoints done, one open, none failed, and a whole-number rate.
    let last = shown
        .rsplit("2/2 endpoints  1 open, 0 errors  ")
        .next()
        .filter(|_| shown.contains("2/2 endpoints  1 open, 0 errors  "))
        .unwrap_or_else(|| panic!("{shown:?}"));
    let rate = last.split("/s").next().unwrap_or("");
    assert!(
        !rate.is_empty() && rate.chars().all(|c| c.is_ascii_digit()),
        "{last:?}"
    );
    let written = std::fs::read_to_string(&report).unwrap_or_default();
    assert_eq!(written.lines().count(), 3, "the report itself is unchanged");
    let mut quiet = args.to_vec();
    quiet.push("--no-progress");
    assert!(!on_a_terminal(&quiet).contains("endpoints"));
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let m = material();
    let a = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let out = fipsgate(&["scan", "--format", "ndjson", &a.addr()]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
