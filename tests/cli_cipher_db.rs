//! End-to-end tests of `fipsgate version`, `db` and `policy` through the real binary.
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn fipsgate(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_fipsgate"))
        .args(args)
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run fipsgate: {e}"),
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs/examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn version_reports_an_active_fips_module() {
    let out = fipsgate(&["version", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["fips_mode"], Value::Bool(true), "{v}");
    assert_eq!(v["rustls_provider_fips"], Value::Bool(true));
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn db_show_3des_rsa_is_disallowed_for_both_reasons_and_listed_by_securetransport() {
    let out = fipsgate(&[
        "db",
        "show",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let item = &v[0];
    assert_eq!(item["code"], "0x000A");
    assert_eq!(item["aliases"][0], "DES-CBC3-SHA");
    let verdicts = item["verdicts"].as_array().cloned().unwrap_or_default();
    let under = |p: &str| {
        verdicts
            .iter()
            .find(|x| x["policy"] == p)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let f3 = under("fips-140-3");
    assert_eq!(f3["verdict"], "disallowed");
    let sources: Vec<&str> = f3["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["verdict"] == "disallowed")
        .filter_map(|r| r["source"].as_str())
        .collect();
    assert_eq!(sources, vec!["SP800-131Ar2", "SP800-67r2-withdrawn"]);
    assert_eq!(under("axway-securetransport")["verdict"], "approved");
    assert_eq!(under("fips-140-2")["verdict"], "deprecated");
    assert!(
        under("aspera").get("verdict").is_none(),
        "aspera does not judge TLS"
    );
}

#[test]
fn db_show_accepts_codes_and_refuses_unknown_names() {
    let out = fipsgate(&["db", "show", "0xC0,0x2F"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
    let out = fipsgate(&["db", "show", "TLS_NO_SUCH_SUITE"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("knows no algorithm named"));
}

#[test]
fn db_check_exit_codes_follow_the_verdicts() {
    let ok = fipsgate(&[
        "db",
        "check",
        "--policy",
        "fips-140-3",
        "Ciphers aes256-gcm@openssh.com,aes128-ctr",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let bad = fipsgate(&[
        "db",
        "check",
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305",
        "--format",
        "json",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let v = json(&bad);
    assert_eq!(v["allowed"], Value::Bool(false));
    assert_eq!(v["items"][1]["verdict"], "not-approved");
    let unknown = fipsgate(&["db", "check", "HIGH:!aNULL"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stdout).contains("OpenSSL cipher-string keyword"));
    let aspera = fipsgate(&[
        "db",
        "check",
        "--policy",
        "aspera",
        "--kind",
        "ssh-mac",
        "hmac-sha1",
        "hmac-sha2-256",
        "hmac-sha2-512",
    ]);
    assert_eq!(aspera.status.code(), Some(0));
    let no_policy = fipsgate(&["db", "check", "--policy", "nope", "aes128-ctr"]);
    assert_eq!(no_policy.status.code(), Some(2));
}

#[test]
fn db_check_judges_citizen_facing_servers_when_asked() {
    let check = |extra: &[&str]| {
        let mut args = vec!["db", "check", "--format", "json", "tls1.0", "tls1.1"];
        args.extend_from_slice(extra);
        let out = fipsgate(&args);
        (out.status.code(), json(&out))
    };
    let (code, gov) = check(&[]);
    assert_eq!(code, Some(1));
    assert_eq!(gov["items"][0]["verdict"], "disallowed");
    let (code, citizen) = check(&["--citizen-facing"]);
    assert_eq!(code, Some(0), "{citizen}");
    for i in 0..2 {
        assert_eq!(citizen["items"][i]["verdict"], "deprecated");
        assert_eq!(citizen["items"][i]["source"], "SP800-52r2");
    }
    let (_, strict) = check(&[
        "--citizen-facing",
        "--policy",
        &example("agency-strict.toml"),
    ]);
    assert_eq!(
        strict["items"][0]["verdict"], "disallowed",
        "a policy that forbids TLS 1.0 itself still decides"
    );
}

#[test]
fn db_list_by_kind_and_policy() {
    let out = fipsgate(&[
        "db",
        "list",
        "--kind",
        "ssh-mac",
        "--policy",
        "fips-140-3,stig-rhel9",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let rows = v.as_array().cloned().unwrap_or_default();
    assert!(rows.iter().all(|r| r["kind"] == "ssh-mac"));
    let sha1 = rows
        .iter()
        .find(|r| r["name"] == "hmac-sha1")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(sha1["verdicts"][0]["verdict"], "deprecated");
    assert_eq!(sha1["verdicts"][1]["verdict"], "not-approved");
}

#[test]
fn worked_examples_validate_and_judge_as_documented() {
    for file in ["agency-strict.toml", "partner-sftp.toml"] {
        let out = fipsgate(&["policy", "validate", &example(file)]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let strict = example("agency-strict.toml");
    let out = fipsgate(&[
        "db",
        "check",
        "--policy",
        &strict,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "tls1.1",
        "TLS_AES_128_GCM_SHA256",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("agency baseline: AEAD suites only") && text.contains("2 of 3 not allowed"),
        "{text}"
    );
    let sftp = example("partner-sftp.toml");
    let out = fipsgate(&[
        "db",
        "check",
        "--policy",
        &sftp,
        "hmac-sha1-etm@openssh.com",
        "ssh-ed25519",
        "aes256-cbc",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("denied by policy partner-sftp") && text.contains("2 of 3 not allowed"),
        "{text}"
    );
}

#[test]
fn bad_policy_files_name_file_and_line() {
    let dir = std::env::temp_dir().join(format!("fipsgate-policy-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("bad.toml");
    let _ = std::fs::write(&file, "name = \"bad\"\nextends = \"fips-140-3\"\n\n[[rule]]\nkind = \"tls-cipher\"\nnames = [\"x\"]\nverdict = \"approved\"\nreason = \"r\"\nsource = \"POLICY\"\n");
    let path = file.display().to_string();
    let out = fipsgate(&["policy", "validate", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{path}:5: unknown variant `tls-cipher`")),
        "{err}"
    );
    let out = fipsgate(&[
        "policy",
        "validate",
        "/nonexistent/policy.toml",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["valid"], Value::Bool(false));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn policy_list_and_show() {
    let out = fipsgate(&["policy", "list", "--format", "json"]);
    let names: Vec<String> = json(&out)
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        names,
        [
            "fips-140-3",
            "fips-140-2",
            "aspera",
            "axway-securetransport",
            "rhel9-fips",
            "rhel8-fips",
            "stig-rhel9",
            "stig-rhel8",
            "cnsa",
            "cnsa-2.0"
        ]
    );
    let out = fipsgate(&["policy", "show", "aspera"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ssh-cipher: aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,3des-cbc,aes192-cbc,aes256-cbc"), "{text}");
    assert!(text.contains("ssh-mac: hmac-sha1,hmac-sha2-256,hmac-sha2-512"));
    // Dated rows: deprecated until the cut-over, disallowed after it; --as-of moves the day.
    let row = |args: &[&str]| -> String {
        let out = fipsgate(args);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains("names ecdh-sha2-nistp384"))
            .unwrap_or_default()
            .to_owned()
    };
    let today = row(&["policy", "show", "cnsa-2.0", "--as-of", "2026-11-30"]);
    assert!(
        today.contains("deprecated until 2032-12-31") && today.contains("[CNSA-2.0]"),
        "{today}"
    );
    let later = row(&["policy", "show", "cnsa-2.0", "--as-of", "2033-01-01"]);
    assert!(later.contains("disallowed (after 2032-12-31)"), "{later}");
    let out = fipsgate(&["policy", "show", "cnsa-2.0", "--format", "json"]);
    let dated: Vec<Value> = json(&out)["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["disallowed_after"] == "2032-12-31")
        .cloned()
        .collect();
    assert!(dated.len() >= 6, "every transitional row carries its date");
    assert!(dated
        .iter()
        .all(|r| r["source"].as_str().is_some_and(|s| !s.is_empty())));
    let out = fipsgate(&["policy", "show", "cnsa-2.0", "--as-of", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}
