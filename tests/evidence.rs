//! Evidence formats of one real loopback fleet scan, each checked by an independent tool against
//! the scan's own NDJSON: SARIF 2.1.0 against the OASIS schema (tests/data) with Debian's
//! python3-jsonschema, JUnit XML with junitparser and the CycloneDX 1.6 CBOM with CycloneDX's own
//! validator (cyclonedx-python-lib), both from PyPI.
mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;
use support::peers::evidence_python;
use support::*;

/// A fleet scanned once: its servers (alive while the test runs) and the NDJSON.
struct Fleet {
    _servers: Vec<Server>,
    _sshd: Sshd,
    scan: String,
    endpoints: Vec<Value>,
}

const POLICIES: &str = "fips-140-3,axway-securetransport";

fn fleet() -> Fleet {
    let m = material();
    let modern = openssl_server(&["-cert", &m.path("ec.crt"), "-key", &m.path("ec.key")]);
    let chacha = openssl_rsa_server(&["-no_tls1_3", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"]);
    let legacy = openssl_rsa_server(&["-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0"]);
    let dir = m.dir.join("evidence-keys");
    let _ = std::fs::create_dir_all(&dir);
    let key = keygen(&dir, "ecdsa256", &["-t", "ecdsa", "-b", "256"]);
    let sshd = sshd(
        "evidence",
        "KexAlgorithms ecdh-sha2-nistp256\nCiphers aes128-gcm@openssh.com\nMACs hmac-sha2-256\n",
        &[&key],
    );
    let scan = m.dir.join("evidence.ndjson").display().to_string();
    let targets = [
        modern.addr(),
        chacha.addr(),
        legacy.addr(),
        format!("127.0.0.1:{}", sshd.port),
        format!("127.0.0.1:{}", free_port()),
    ];
    let mut args = vec![
        "scan",
        "--format",
        "ndjson",
        "--timeout",
        "3",
        "--policy",
        POLICIES,
        "-o",
        &scan,
    ];
    args.extend(targets.iter().map(String::as_str));
    let out = fipsgate(&args);
    assert_eq!(out.status.code(), Some(3), "one target is closed");
    let endpoints = std::fs::read_to_string(&scan)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["type"] == "endpoint")
        .collect();
    Fleet {
        _servers: vec![modern, chacha, legacy],
        _sshd: sshd,
        scan,
        endpoints,
    }
}

/// `fipsgate report` of the scan in FORMAT, written to a file; its path.
fn render(f: &Fleet, format: &str, extra: &[&str]) -> String {
    let path = format!("{}.{format}", f.scan);
    let mut args = vec!["report", &f.scan, "--policy", POLICIES, "--format", format];
    args.extend_from_slice(extra);
    args.extend(["-o", &path]);
    let out = fipsgate(&args);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The findings other than approved: (policy, verdict, item) per endpoint, in order.
fn notable(e: &Value) -> Vec<(String, String, String)> {
    e["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["verdict"] != "approved")
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("policy"), s("verdict"), s("item"))
        })
        .collect()
}

/// Runs Python code with arguments; its standard output, which must be JSON.
fn python(program: &std::path::Path, code: &str, args: &[&str]) -> Value {
    let out = Command::new(program)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

#[test]
fn evidence_formats_of_one_fleet_scan() {
    let f = fleet();
    sarif_validates_and_has_a_result_per_finding(&f);
    junit_has_a_suite_per_policy_and_fails_at_fail_on(&f);
    cbom_validates_and_inventories_every_endpoint(&f);
}

fn sarif_validates_and_has_a_result_per_finding(f: &Fleet) {
    let path = render(f, "sarif", &[]);
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    );
    let check = "import json,sys,jsonschema\n\
        schema=json.load(open(sys.argv[1]))\n\
        jsonschema.Draft4Validator.check_schema(schema)\n\
        errors=[e.message[:300] for e in jsonschema.Draft4Validator(schema).iter_errors(json.load(open(sys.argv[2])))]\n\
        print(json.dumps(errors))\n";
    let errors = python(
        std::path::Path::new("/usr/bin/python3"),
        check,
        &[schema, &path],
    );
    assert_eq!(errors, serde_json::json!([]), "SARIF 2.1.0 schema");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
        .unwrap_or_default();
    let run = &log["runs"][0];
    let rules: BTreeSet<String> = run["tool"]["driver"]["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    let truth: Vec<(String, String)> = f
        .endpoints
        .iter()
        .flat_map(|e| {
            let port = e["target"]["port"].to_string();
            notable(e)
                .into_iter()
                .map(move |(p, v, i)| (format!("{p}/{v}/{i}"), port.clone()))
        })
        .collect();
    let want_rules: BTreeSet<String> = truth.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(rules, want_rules, "a rule per policy, verdict and item");
    let results: Vec<(String, String)> = run["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let name = r["locations"][0]["logicalLocations"][0]["name"]
                .as_str()
                .unwrap_or_default();
            let port = name.rsplit(':').next().unwrap_or_default().to_owned();
            (r["ruleId"].as_str().unwrap_or_default().to_owned(), port)
        })
        .collect();
    assert_eq!(results, truth, "a result per finding, at its endpoint");
    for r in run["results"].as_array().into_iter().flatten() {
        let id = r["ruleId"].as_str().unwrap_or_default();
        let want = if id.contains("/deprecated/") || id.contains("/unknown/") {
            "warning"
        } else {
            "error"
        };
        assert_eq!(r["level"], want, "{id}");
        let index = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(run["tool"]["driver"]["rules"][index]["id"], r["ruleId"]);
    }
    let rule = &run["tool"]["driver"]["rules"][0];
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap_or_default()
        .contains("Source: "));
    let invocation = &run["invocations"][0];
    assert_eq!(
        invocation["executionSuccessful"], false,
        "one target is closed"
    );
    assert_eq!(
        invocation["toolExecutionNotifications"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

fn junit_has_a_suite_per_policy_and_fails_at_fail_on(f: &Fleet) {
    let parse = "import json,sys\n\
        from junitparser import JUnitXml, Failure, Error, Skipped\n\
        xml=JUnitXml.fromfile(sys.argv[1])\n\
        out={}\n\
        for suite in xml:\n\
        \x20   cases=[]\n\
        \x20   for case in suite:\n\
        \x20       kinds=[type(r).__name__ for r in case.result]\n\
        \x20       text=[r.text or '' for r in case.result]\n\
        \x20       cases.append([case.name, kinds, text])\n\
        \x20   out[suite.name]={'tests':suite.tests,'failures':suite.failures,'errors':suite.errors,'cases':cases}\n\
        print(json.dumps(out))\n";
    for (fail_on, failing) in [
        ("not-fips-capable", &["not-fips-capable"][..]),
        ("fips-capable", &["fips-capable", "not-fips-capable"][..]),
    ] {
        let path = render(f, "junit", &["--fail-on", fail_on]);
        let suites = python(&evidence_python(), parse, &[&path]);
        for policy in POLICIES.split(',') {
            let suite = &suites[policy];
            assert_eq!(suite["tests"], f.endpoints.len(), "{policy}: {suites}");
            let mut want_failures = 0;
            for (e, case) in f
                .endpoints
                .iter()
                .zip(suite["cases"].as_array().into_iter().flatten())
            {
                let verdict = e["verdicts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|v| v["policy"] == policy)
                    .and_then(|v| v["verdict"].as_str());
                let kinds = &case[1];
                match verdict {
                    None => assert_eq!(kinds, &serde_json::json!(["Error"]), "{case}"),
                    Some(v) if failing.contains(&v) => {
                        want_failures += 1;
                        assert_eq!(kinds, &serde_json::json!(["Failure"]), "{case}");
                        // The failure lists every finding of the policy.
                        let text = case[2][0].as_str().unwrap_or_default();
                        for (p, verdict, item) in notable(e) {
                            if p == policy {
                                assert!(text.contains(&format!("{verdict} {item}:")), "{text}");
                            }
                        }
                    }
                    Some(_) => assert_eq!(kinds, &serde_json::json!([]), "{case}"),
                }
            }
            assert_eq!(suite["failures"], want_failures, "{policy} at {fail_on}");
            assert_eq!(suite["errors"], 1, "the closed port");
        }
    }
}

fn cbom_validates_and_inventories_every_endpoint(f: &Fleet) {
    let path = render(f, "cbom", &[]);
    let check = "import json,sys\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        from cyclonedx.schema import SchemaVersion\n\
        text=open(sys.argv[1]).read()\n\
        error=JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)\n\
        print(json.dumps(str(error) if error else None))\n";
    let error = python(&evidence_python(), check, &[&path]);
    assert_eq!(error, Value::Null, "CycloneDX 1.6 schema");
    let bom: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
        .unwrap_or_default();
    assert_eq!(bom["specVersion"], "1.6");
    let components: Vec<&Value> = bom["components"].as_array().into_iter().flatten().collect();
    let by_ref = |r: &str| components.iter().find(|c| c["bom-ref"] == r).copied();
    let services: Vec<&Value> = bom["services"].as_array().into_iter().flatten().collect();
    assert_eq!(services.len(), f.endpoints.len(), "a service per endpoint");
    let mut refs: BTreeSet<String> = components
        .iter()
        .chain(&services)
        .filter_map(|c| c["bom-ref"].as_str().map(str::to_owned))
        .collect();
    let dependencies = bom["dependencies"].as_array().cloned().unwrap_or_default();
    let depends = |r: &str| -> Vec<String> {
        dependencies
            .iter()
            .find(|d| d["ref"] == r)
            .and_then(|d| d["dependsOn"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    for d in &dependencies {
        for r in std::iter::once(&d["ref"]).chain(d["dependsOn"].as_array().into_iter().flatten()) {
            assert!(
                refs.contains(r.as_str().unwrap_or_default()),
                "dangling {r}"
            );
        }
    }
    for (e, s) in f.endpoints.iter().zip(&services) {
        let property = |name: &str| -> Vec<String> {
            s["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["name"] == name)
                .filter_map(|p| p["value"].as_str().map(str::to_owned))
                .collect()
        };
        for v in e["verdicts"].as_array().into_iter().flatten() {
            let name = format!(
                "fipsgate:verdict:{}",
                v["policy"].as_str().unwrap_or_default()
            );
            assert_eq!(property(&name), [v["verdict"].as_str().unwrap_or_default()]);
        }
        let service_ref = s["bom-ref"].as_str().unwrap_or_default();
        let uses = depends(service_ref);
        for v in e["tls"]["versions"].as_array().into_iter().flatten() {
            let version = v["version"].as_str().unwrap_or_default();
            let protocol = uses
                .iter()
                .find(|r| r.starts_with(&format!("crypto/protocol/{version}@")))
                .and_then(|r| by_ref(r))
                .unwrap_or_else(|| panic!("{version} of {service_ref}"));
            let listed: Vec<&str> = protocol["cryptoProperties"]["protocolProperties"]
                ["cipherSuites"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str())
                .collect();
            let scanned: Vec<&str> = v["cipher_suites"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["iana"].as_str())
                .collect();
            assert_eq!(listed, scanned, "{version} suites of {service_ref}");
        }
        for c in e["tls"]["certificates"].as_array().into_iter().flatten() {
            let sha = c["chain"][0]["sha256"].as_str().unwrap_or_default();
            let cert = format!("crypto/certificate/{sha}");
            assert!(uses.contains(&cert), "{cert}");
            let props =
                &by_ref(&cert).unwrap_or(&Value::Null)["cryptoProperties"]["certificateProperties"];
            assert_eq!(props["notValidAfter"], c["chain"][0]["not_after"]);
            let key = by_ref(props["subjectPublicKeyRef"].as_str().unwrap_or_default())
                .unwrap_or(&Value::Null);
            assert_eq!(
                key["cryptoProperties"]["relatedCryptoMaterialProperties"]["size"],
                c["chain"][0]["key_bits"]
            );
        }
        for k in e["ssh"]["host_keys"].as_array().into_iter().flatten() {
            let fp = k["fingerprint_sha256"].as_str().unwrap_or_default();
            assert!(uses.contains(&format!("crypto/key/ssh/{fp}")), "{fp}");
        }
        refs.remove(service_ref);
    }
    // Security levels as docs/evidence.md states them.
    let algorithm = |name: &str| {
        by_ref(&format!("crypto/algorithm/{name}")).map(|c| {
            let p = &c["cryptoProperties"]["algorithmProperties"];
            (
                p["primitive"].clone(),
                p["classicalSecurityLevel"].clone(),
                p["nistQuantumSecurityLevel"].clone(),
            )
        })
    };
    assert_eq!(
        algorithm("AES-256-GCM"),
        Some((json!("ae"), json!(256), json!(5)))
    );
    assert_eq!(
        algorithm("AES-128-CBC"),
        Some((json!("block-cipher"), json!(128), json!(1)))
    );
    assert_eq!(
        algorithm("secp256r1"),
        Some((json!("key-agree"), json!(128), json!(0)))
    );
    assert_eq!(
        algorithm("SHA-384"),
        Some((json!("hash"), json!(192), json!(4)))
    );
}

/// The finding of an item under a policy: its verdict and reason.
fn finding(e: &Value, policy: &str, item: &str) -> Option<(String, String)> {
    e["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["policy"] == policy && f["item"] == item)
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("verdict"), s("reason"))
        })
}

#[test]
fn cnsa_2_0_judges_a_real_server_on_both_sides_of_its_cut_over() {
    let m = material();
    let server = openssl_server(&[
        "-cert",
        &m.path("ec.crt"),
        "-key",
        &m.path("ec.key"),
        "-tls1_3",
        "-ciphersuites",
        "TLS_AES_256_GCM_SHA384",
        "-groups",
        "P-384",
    ]);
    let saved = m.dir.join("cnsa2.ndjson").display().to_string();
    let out = fipsgate(&[
        "scan",
        "--policy",
        "cnsa-2.0",
        "--as-of",
        "2026-11-30",
        "--format",
        "ndjson",
        "-o",
        &saved,
        &server.addr(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let endpoint = |text: &str| -> Value {
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["type"] == "endpoint")
            .unwrap_or(Value::Null)
    };
    let today = endpoint(&std::fs::read_to_string(&saved).unwrap_or_default());
    let (verdict, reason) = finding(&today, "cnsa-2.0", "secp384r1").unwrap_or_default();
    assert_eq!(verdict, "deprecated", "{today}");
    assert!(reason.ends_with("disallowed after 2032-12-31"), "{reason}");
    assert_eq!(
        finding(&today, "cnsa-2.0", "TLS_AES_256_GCM_SHA384"),
        None,
        "approved"
    );
    let out = fipsgate(&[
        "report",
        &saved,
        "--policy",
        "cnsa-2.0",
        "--as-of",
        "2033-01-01",
        "--format",
        "ndjson",
    ]);
    let later = endpoint(&String::from_utf8_lossy(&out.stdout));
    let (verdict, reason) = finding(&later, "cnsa-2.0", "secp384r1").unwrap_or_default();
    assert_eq!(verdict, "disallowed", "{later}");
    assert!(
        reason.ends_with("the transition ended 2032-12-31"),
        "{reason}"
    );
    assert_eq!(support::verdict(&later, "cnsa-2.0"), "not-fips-capable");
}
