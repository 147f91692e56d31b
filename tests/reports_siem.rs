//! SIEM reports from one scan of a small loopback fleet (openssl s_server in three
//! configurations, OpenSSH sshd, nginx, a closed port): the canonical NDJSON checked against
//! its published JSON Schema, every projection checked against its spec, and delivery to real
//! receivers (rsyslog over UDP and TCP, an HTTP(S) collector).
mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

/// Fields of the Elastic Common Schema 8.x reference that the ECS projection may use outside
/// its own `fipsgate.*` namespace.
const ECS_FIELDS: &[&str] = &[
    "@timestamp",
    "message",
    "tags",
    "ecs.version",
    "event.kind",
    "event.category",
    "event.type",
    "event.module",
    "event.dataset",
    "event.outcome",
    "event.duration",
    "observer.vendor",
    "observer.product",
    "observer.type",
    "observer.version",
    "observer.hostname",
    "server.address",
    "server.ip",
    "server.port",
    "server.domain",
    "network.transport",
    "network.protocol",
    "error.type",
    "error.message",
    "tls.version_protocol",
    "tls.version",
    "tls.cipher",
    "tls.server.subject",
    "tls.server.issuer",
    "tls.server.not_before",
    "tls.server.not_after",
    "tls.server.hash.sha256",
    "tls.server.x509.subject.distinguished_name",
    "tls.server.x509.issuer.distinguished_name",
    "tls.server.x509.not_before",
    "tls.server.x509.not_after",
    "tls.server.x509.public_key_algorithm",
    "tls.server.x509.public_key_size",
    "tls.server.x509.public_key_curve",
    "tls.server.x509.signature_algorithm",
    "tls.server.x509.alternative_names",
];

/// A policy whose reasons hold every character CEF and LEEF must escape.
const AWKWARD_POLICY: &str = r#"name = "awkward"
extends = "fips-140-3"
title = "reasons with = | \\ and a line break"

[[rule]]
kind = "tls-suite"
names = ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"]
verdict = "disallowed"
reason = "a=b | c\\d\nsecond line"
source = "POLICY"
"#;

/// The fleet and its scan.
struct Fleet {
    _servers: Vec<Server>,
    _sshd: Sshd,
    scan: String,
    policy: String,
    targets: Vec<String>,
}

/// Starts the fleet and scans it once.
fn fleet() -> Fleet {
    {
        let m = material();
        let modern = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
        let chacha = openssl_rsa_server(&["-no_tls1_3", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"]);
        let legacy = openssl_rsa_server(&["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"]);
        let web = nginx(&format!(
            "ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.2 TLSv1.3;",
            m.path("rsa.crt"),
            m.path("rsa.key")
        ));
        let dir = m.dir.join("siem-keys");
        let _ = std::fs::create_dir_all(&dir);
        let key = keygen(&dir, "ecdsa256", &["-t", "ecdsa", "-b", "256"]);
        let sshd = sshd(
            "siem",
            "KexAlgorithms ecdh-sha2-nistp256\nCiphers aes128-gcm@openssh.com\nMACs hmac-sha2-256\nHostKeyAlgorithms ecdsa-sha2-nistp256\n",
            &[&key],
        );
        let closed = free_port();
        let targets = vec![
            modern.addr(),
            chacha.addr(),
            legacy.addr(),
            web.addr(),
            format!("127.0.0.1:{}", sshd.port),
            format!("127.0.0.1:{closed}"),
        ];
        let policy = m.dir.join("awkward.toml").display().to_string();
        let _ = std::fs::write(&policy, AWKWARD_POLICY);
        let scan = m.dir.join("fleet.ndjson").display().to_string();
        let mut args = vec!["scan", "--format", "ndjson", "--timeout", "3", "-o", &scan];
        args.extend(targets.iter().map(String::as_str));
        args.extend(["--policy", "fips-140-3", "--policy", &policy]);
        let out = fipsgate(&args);
        assert_eq!(out.status.code(), Some(3), "one target is closed: exit 3");
        assert!(out.stdout.is_empty(), "-o takes the report off stdout");
        Fleet {
            _servers: vec![modern, chacha, legacy, web],
            _sshd: sshd,
            scan,
            policy,
            targets,
        }
    }
}

/// `fipsgate report` of the fleet scan in a format: its stdout and exit code.
fn render(f: &Fleet, format: &str) -> (String, Option<i32>) {
    let out = fipsgate(&[
        "report",
        &f.scan,
        "--format",
        format,
        "--policy",
        "fips-140-3",
        "--policy",
        &f.policy,
    ]);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Every dotted path to a leaf of a JSON object (arrays count as leaves).
fn paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v.as_object() {
        Some(map) => {
            for (k, child) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                paths(child, &p, out);
            }
        }
        None => {
            out.insert(prefix.to_owned());
        }
    }
}

fn schema_path() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schema/report.schema.json")
        .display()
        .to_string()
}

/// One scan of the fleet, then each format and each delivery path in turn (the servers stop
/// when the test ends).
#[test]
fn one_fleet_scan_in_every_format_and_to_every_receiver() {
    let f = fleet();
    ndjson_of_a_real_fleet_validates_against_the_schema(&f);
    ecs_documents_use_ecs_fields(&f);
    ocsf_compliance_findings_one_per_endpoint_and_policy(&f);
    splunk_hec_envelopes(&f);
    cef_lines_escape_as_the_spec_requires(&f);
    leef_lines_keep_one_event_per_line(&f);
    html_is_one_self_contained_page(&f);
    text_has_no_colours_when_not_a_terminal_unless_asked(&f);
    syslog_over_udp_and_tcp_reaches_rsyslog(&f);
    http_post_delivers_hec_batches_with_retries_over_https(&f);
    a_receiver_that_is_down_does_not_lose_the_report(&f);
}

#[test]
fn published_schema_is_current() {
    let out = fipsgate(&["schema"]);
    let generated: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let text = std::fs::read_to_string(schema_path()).unwrap_or_default();
    let published: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert!(
        generated == published,
        "docs/schema/report.schema.json is stale: run `fipsgate schema > docs/schema/report.schema.json`"
    );
}

fn ndjson_of_a_real_fleet_validates_against_the_schema(f: &Fleet) {
    let lines = json_lines(&std::fs::read_to_string(&f.scan).unwrap_or_default());
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"scan_begin"));
    assert_eq!(kinds.last(), Some(&"scan_end"));
    assert_eq!(kinds.iter().filter(|k| **k == "endpoint").count(), 6);
    let targets: Vec<String> = lines
        .iter()
        .filter(|l| l["type"] == "endpoint")
        .map(|l| format!("127.0.0.1:{}", l["target"]["port"]))
        .collect();
    assert_eq!(
        targets, f.targets,
        "reports stream in the order of the targets"
    );
    // Debian's python3-jsonschema, an independent Draft 2020-12 validator.
    let check = "import json,sys,jsonschema\n\
        schema=json.load(open(sys.argv[1]))\n\
        jsonschema.Draft202012Validator.check_schema(schema)\n\
        v=jsonschema.Draft202012Validator(schema)\n\
        bad=[(n,e.message[:300]) for n,l in enumerate(open(sys.argv[2])) for e in v.iter_errors(json.loads(l))]\n\
        print(bad)\n\
        sys.exit(1 if bad else 0)\n";
    let out = Command::new("/usr/bin/python3")
        .args(["-c", check, &schema_path(), &f.scan])
        .output()
        .unwrap_or_else(|e| panic!("python3 (.ci/run installs python3-jsonschema): {e}"));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ecs_documents_use_ecs_fields(f: &Fleet) {
    let (text, code) = render(f, "ecs");
    assert_eq!(code, Some(3));
    let docs = json_lines(&text);
    assert_eq!(docs.len(), 6, "one document per endpoint");
    for d in &docs {
        assert_eq!(d["event"]["kind"], "state");
        assert_eq!(d["ecs"]["version"], "8.11.0");
        let mut all = BTreeSet::new();
        paths(d, "", &mut all);
        for p in all.iter().filter(|p| !p.starts_with("fipsgate.")) {
            assert!(ECS_FIELDS.contains(&p.as_str()), "{p} is not an ECS field");
        }
    }
    let tls = &docs[0];
    assert_eq!(tls["tls"]["version"], "1.3");
    assert_eq!(
        tls["tls"]["server"]["x509"]["public_key_curve"],
        "secp256r1"
    );
    assert_eq!(
        tls["tls"]["server"]["hash"]["sha256"],
        fingerprint(&material().path("ec.crt")).to_uppercase()
    );
    assert_eq!(docs[4]["network"]["protocol"], "ssh");
    assert_eq!(docs[5]["event"]["outcome"], "failure");
    assert_eq!(docs[5]["error"]["type"], "connect_refused");
}

fn ocsf_compliance_findings_one_per_endpoint_and_policy(f: &Fleet) {
    let (text, _) = render(f, "ocsf");
    let events = json_lines(&text);
    assert_eq!(events.len(), 12, "6 endpoints x 2 policies");
    for e in &events {
        assert_eq!(
            (&e["class_uid"], &e["category_uid"], &e["type_uid"]),
            (&Value::from(2003), &Value::from(2), &Value::from(200_301))
        );
        for required in [
            "activity_id",
            "time",
            "severity_id",
            "metadata",
            "finding_info",
        ] {
            assert!(!e[required].is_null(), "{required} missing: {e}");
        }
        assert_eq!(e["metadata"]["version"], "1.1.0");
        assert!(e["finding_info"]["uid"].is_string() && e["finding_info"]["title"].is_string());
    }
    let status = |i: usize| e_status(&events[i]);
    // modern (fips-capable: ChaCha20 and X25519 are offered too), chacha (not-fips-capable).
    assert_eq!(status(0), ("Warning".to_owned(), 2));
    assert_eq!(status(2), ("Fail".to_owned(), 3));
    assert_eq!(status(10), ("Unknown".to_owned(), 0), "the closed port");
}

fn e_status(e: &Value) -> (String, u64) {
    (
        e["compliance"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        e["compliance"]["status_id"].as_u64().unwrap_or(99),
    )
}

fn splunk_hec_envelopes(f: &Fleet) {
    let (text, _) = render(f, "splunk-hec");
    let events = json_lines(&text);
    assert_eq!(events.len(), 8, "begin, six endpoints, end");
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["sourcetype"].as_str())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "fipsgate:endpoint").count(),
        6
    );
    for e in &events {
        assert!(e["time"].as_f64().is_some_and(|t| t > 1.7e9));
        assert_eq!(e["source"], "fipsgate");
        assert!(e["host"].is_string());
        assert_eq!(e["event"]["schema_version"], 1);
    }
}

/// Splits a CEF line into its 7 header fields and its extension, honouring `\|` and `\\`.
fn cef_fields(line: &str) -> (Vec<String>, String) {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if fields.len() < 7 => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            '|' if fields.len() < 7 => fields.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    (fields, current)
}

/// The value of an extension key, unescaped (`\=`, `\\`, `\n`, `\r`).
fn cef_value(extension: &str, key: &str) -> Option<String> {
    let start = extension.find(&format!(" {key}="))? + key.len() + 2;
    let mut out = String::new();
    let mut chars = extension[start..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => {}
            },
            // An unescaped `=` ends this value: the next key began at the last space.
            '=' => {
                let cut = out.rfind(' ').unwrap_or(0);
                out.truncate(cut);
                return Some(out);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn cef_lines_escape_as_the_spec_requires(f: &Fleet) {
    let (text, _) = render(f, "cef");
    let mut awkward = 0;
    for line in text.lines() {
        let (header, ext) = cef_fields(line);
        assert_eq!(header.len(), 7, "{line}");
        assert_eq!(header[0], "CEF:0");
        assert_eq!(
            (header[1].as_str(), header[2].as_str()),
            ("fipsgate", "fipsgate")
        );
        let severity: u8 = header[6].parse().unwrap_or(99);
        assert!(severity <= 10, "{line}");
        assert!(!line.contains('\n'));
        if cef_value(&ext, "cs1").as_deref() == Some("awkward")
            && cef_value(&ext, "cs2").as_deref()
                == Some("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")
        {
            awkward += 1;
            assert_eq!(
                cef_value(&ext, "reason").as_deref(),
                Some("a=b | c\\d\nsecond line"),
                "{line}"
            );
            assert!(
                ext.contains("reason=a\\=b | c\\\\d\\nsecond line"),
                "{line}"
            );
        }
    }
    assert_eq!(
        awkward, 2,
        "the ChaCha20 suite of s_server and nginx, under the awkward policy"
    );
}

fn leef_lines_keep_one_event_per_line(f: &Fleet) {
    let (text, _) = render(f, "leef");
    let mut awkward = 0;
    for line in text.lines() {
        let mut parts = line.splitn(6, '|');
        assert_eq!(parts.next(), Some("LEEF:1.0"));
        assert_eq!(parts.next(), Some("fipsgate"));
        let attrs = parts.nth(3).unwrap_or_default();
        for attr in attrs.split('\t') {
            assert!(attr.contains('='), "{attr:?} in {line}");
        }
        if attrs.contains("policy=awkward\t")
            && attrs.contains("item=TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\t")
        {
            awkward += 1;
            assert!(attrs.contains("reason=a=b | c\\d second line"), "{line}");
        }
    }
    assert_eq!(awkward, 2);
}

fn html_is_one_self_contained_page(f: &Fleet) {
    let (page, _) = render(f, "html");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    for banned in [
        "src=",
        "href=\"http",
        "http://",
        "https://",
        "@import",
        "url(",
    ] {
        assert!(!page.contains(banned), "{banned}: nothing is fetched");
    }
    // The endpoints are embedded once, as JSON, for the page's script.
    let start = page.find("id=\"data\">").map(|i| i + "id=\"data\">".len());
    let data = start.and_then(|s| page[s..].find("</script>").map(|e| &page[s..s + e]));
    let data: Value = serde_json::from_str(data.unwrap_or_default()).unwrap_or_default();
    let embedded: Vec<String> = data["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{}:{}", e[0].as_str().unwrap_or_default(), e[2]))
        .collect();
    assert_eq!(embedded, f.targets);
    assert!(page.contains("class=\"bar\""), "bar chart per policy");
    assert!(page.contains("a=b | c\\d"), "reasons are shown");
}

fn text_has_no_colours_when_not_a_terminal_unless_asked(f: &Fleet) {
    let (plain, _) = render(f, "text");
    assert!(!plain.contains('\x1b'));
    let out = fipsgate(&["report", &f.scan, "--color", "always"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b[31mnot-fips-capable"));
}

/// rsyslogd listening on UDP and TCP, writing what it receives to a file.
fn rsyslog() -> (Server, u16, u16, String) {
    let dir = material().dir.join(format!("rsyslog-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let (udp, tcp) = (free_port(), free_port());
    let received = dir.join("received.log").display().to_string();
    let conf = format!(
        "global(workDirectory=\"{d}\" maxMessageSize=\"1m\")\n\
         module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"{udp}\")\n\
         module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\")\n\
         template(name=\"line\" type=\"string\" string=\"%inputname%|%app-name%|%msgid%|%syslogseverity%|%msg%\\n\")\n\
         *.* action(type=\"omfile\" file=\"{received}\" template=\"line\")\n",
        d = dir.display()
    );
    let conf_path = dir.join("rsyslog.conf").display().to_string();
    let _ = std::fs::write(&conf_path, conf);
    let pid = dir.join("rsyslog.pid").display().to_string();
    let server = start_on(
        "/usr/sbin/rsyslogd",
        &["-n", "-f", &conf_path, "-i", &pid],
        tcp,
    );
    (server, udp, tcp, received)
}

/// Waits until `file` has `n` lines (rsyslog writes asynchronously), at most 10 s.
fn lines_of(file: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= n || std::time::Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn syslog_over_udp_and_tcp_reaches_rsyslog(f: &Fleet) {
    let (_rsyslog, udp, tcp, received) = rsyslog();
    let out = fipsgate(&[
        "report",
        &f.scan,
        "--format",
        "cef",
        "--syslog",
        &format!("udp://127.0.0.1:{udp}"),
        "--syslog",
        &format!("tcp://127.0.0.1:{tcp}"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cef = String::from_utf8_lossy(&out.stdout).lines().count();
    let lines = lines_of(&received, 2 * cef);
    for input in ["imudp", "imtcp"] {
        let got: Vec<&String> = lines.iter().filter(|l| l.starts_with(input)).collect();
        assert_eq!(got.len(), cef, "{input}: {lines:?}");
        assert!(got
            .iter()
            .all(|l| l.contains("|fipsgate|endpoint|") && l.contains("CEF:0|fipsgate|")));
        // The closed port is an error (3); not-fips-capable endpoints are warnings (4).
        assert!(got
            .iter()
            .any(|l| l.contains("|endpoint|3|") && l.contains("endpoint-error")));
        assert!(got.iter().any(|l| l.contains("|endpoint|4|")));
    }
    // Text is for people: syslog then carries the NDJSON lines, big certificates included.
    let out = fipsgate(&[
        "report",
        &f.scan,
        "--syslog",
        &format!("tcp://127.0.0.1:{tcp}"),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let lines = lines_of(&received, 2 * cef + 8);
    let ndjson: Vec<&String> = lines
        .iter()
        .skip(2 * cef)
        .filter(|l| l.starts_with("imtcp"))
        .collect();
    assert_eq!(ndjson.len(), 8, "{lines:?}");
    assert!(ndjson[0].contains("|fipsgate|scan|6|{\"type\":\"scan_begin\""));
}

fn http_post_delivers_hec_batches_with_retries_over_https(f: &Fleet) {
    // A CA and a receiver certificate for 127.0.0.1 signed by it.
    let dir = ca_dir("hec", "/CN=test CA");
    issue(
        &dir,
        "hec",
        "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    );
    let record = dir.join("requests.ndjson").display().to_string();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/http_receiver.py"
    );
    let crt = dir.join("hec.crt").display().to_string();
    let key = dir.join("hec.key").display().to_string();
    // Two 503s first: the batch must be tried again and arrive once.
    let receiver = start(
        "/usr/bin/python3",
        &[script, "{port}", &record, "2", &crt, &key],
    );
    let out = fipsgate(&[
        "report",
        &f.scan,
        "--format",
        "splunk-hec",
        "--http-post",
        &format!(
            "https://127.0.0.1:{}/services/collector/event",
            receiver.port
        ),
        "--http-header",
        "Authorization: Splunk 00000000-0000-0000-0000-000000000000",
        "--http-ca",
        &dir.join("ca.crt").display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = json_lines(&std::fs::read_to_string(&record).unwrap_or_default());
    let statuses: Vec<u64> = requests
        .iter()
        .filter_map(|r| r["status"].as_u64())
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
    let ok = &requests[2];
    assert_eq!(ok["path"], "/services/collector/event");
    assert_eq!(ok["content_type"], "application/json");
    assert_eq!(
        ok["authorization"],
        "Splunk 00000000-0000-0000-0000-000000000000"
    );
    let body = ok["body"].as_str().unwrap_or_default();
    let events = json_lines(body);
    assert_eq!(events.len(), 8, "one batch: begin, six endpoints, end");
    assert_eq!(
        body,
        String::from_utf8_lossy(&out.stdout),
        "the same envelopes"
    );
}

fn a_receiver_that_is_down_does_not_lose_the_report(f: &Fleet) {
    let dir = material().dir.join(format!("down-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let copy = dir.join("copy.ndjson").display().to_string();
    let started = std::time::Instant::now();
    let out = fipsgate(&[
        "report",
        &f.scan,
        "--format",
        "ndjson",
        "-o",
        &copy,
        "--http-post",
        &format!("http://127.0.0.1:{}/", free_port()),
    ]);
    assert_eq!(out.status.code(), Some(4), "4: not delivered");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("8 of 8 events not delivered"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&copy)
            .unwrap_or_default()
            .lines()
            .count(),
        8,
        "the -o file has the whole report"
    );
    assert!(started.elapsed().as_secs() < 20, "retries are bounded");
}

#[test]
fn delivery_options_are_checked_before_any_connection() {
    for bad in [
        &["--syslog", "syslog://127.0.0.1:514"][..],
        &["--syslog", "http://127.0.0.1:1/"],
        &["--http-post", "ftp://127.0.0.1/"],
        &["--http-header", "Authorization: x"],
        &[
            "--http-post",
            "http://127.0.0.1:1/",
            "--http-header",
            "no colon",
        ],
        &[
            "--http-post",
            "https://127.0.0.1:1/",
            "--http-ca",
            "/nonexistent/ca.pem",
        ],
    ] {
        let mut args = vec!["scan", "127.0.0.1:1"];
        args.extend_from_slice(bad);
        let out = fipsgate(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty(), "{bad:?}: nothing scanned");
    }
}
