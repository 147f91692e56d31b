//! `fipsgate audit sshd` on sample configurations. Ground truth for the effective lists is
//! `sshd -T` on the same files (with `-C` for Match blocks).
mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use support::*;

fn dir(name: &str) -> PathBuf {
    let d = material().dir.join(format!("audit-{name}-{}", free_port()));
    let _ = std::fs::create_dir_all(&d);
    d
}

fn write(path: &PathBuf, text: &str) -> String {
    let _ = std::fs::write(path, text);
    path.display().to_string()
}

fn sshd_t(file: &str, connection: Option<&str>) -> String {
    let mut args = vec!["-T", "-f", file];
    if let Some(c) = connection {
        args.extend(["-C", c]);
    }
    let out = Command::new("/usr/sbin/sshd")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("sshd -T: {e}"));
    assert!(
        out.status.success(),
        "sshd -T {file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sshd_t_list(text: &str, key: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_default();
    line.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn audit_json(args: &[&str]) -> (Value, Option<i32>) {
    let mut all = vec!["audit", "sshd", "--format", "json"];
    all.extend_from_slice(args);
    let out = fipsgate(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (v, out.status.code())
}

fn setting(report: &Value, directive: &str, match_block: Option<&str>) -> Vec<String> {
    report["settings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["directive"] == directive && s["match_block"].as_str() == match_block)
        .map(|s| {
            s["effective"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn include_match_and_modifiers_resolve_like_sshd() {
    let d = dir("modifiers");
    let inc = d.join("conf.d");
    let _ = std::fs::create_dir_all(&inc);
    write(
        &inc.join("10-crypto.conf"),
        "Ciphers -chacha20*\nMACs ^hmac-sha2-512\n",
    );
    write(
        &inc.join("20-kex.conf"),
        "KexAlgorithms +diffie-hellman-group14-sha1\n",
    );
    let main = write(
        &d.join("sshd_config"),
        &format!(
            "# sample\nInclude {}/*.conf\nCiphers aes128-cbc\nHostKeyAlgorithms ecdsa-sha2-nistp256,rsa-sha2-512\nMatch User bob\n  PubkeyAcceptedAlgorithms +ssh-rsa\n",
            inc.display()
        ),
    );
    let truth = sshd_t(&main, None);
    let (r, code) = audit_json(&[&main]);
    assert_eq!(code, Some(1));
    assert_eq!(
        setting(&r, "Ciphers", None),
        sshd_t_list(&truth, "ciphers"),
        "the first value (from the Include) wins"
    );
    assert_eq!(setting(&r, "MACs", None), sshd_t_list(&truth, "macs"));
    assert_eq!(
        setting(&r, "KexAlgorithms", None),
        sshd_t_list(&truth, "kexalgorithms")
    );
    assert_eq!(
        setting(&r, "HostKeyAlgorithms", None),
        sshd_t_list(&truth, "hostkeyalgorithms")
    );
    let bob = sshd_t(&main, Some("user=bob,host=client.example,addr=127.0.0.1"));
    assert_eq!(
        setting(&r, "PubkeyAcceptedAlgorithms", Some("User bob")),
        sshd_t_list(&bob, "pubkeyacceptedalgorithms")
    );
    let notes = r["notes"].to_string();
    assert!(notes.contains("sshd_config:3: Ciphers ignored"), "{notes}");
    let findings = r["findings"].as_array().cloned().unwrap_or_default();
    let sha1_kex = findings
        .iter()
        .find(|f| f["item"] == "diffie-hellman-group14-sha1")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(sha1_kex["verdict"], "disallowed");
    assert!(
        sha1_kex["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("20-kex.conf"))
            && sha1_kex["line"] == 1,
        "{sha1_kex}"
    );
    let rsa = findings
        .iter()
        .find(|f| f["item"] == "ssh-rsa")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(rsa["match_block"], "User bob");
}

#[test]
fn aspera_list_passes_aspera_and_the_nist_view_says_where_it_is_older() {
    let d = dir("aspera");
    let rsa = d.join("host_rsa").display().to_string();
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "rsa", "-b", "3072", "-f", &rsa])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok);
    let conf = write(
        &d.join("sshd_config"),
        &format!(
            "Protocol 2\nHostKey {rsa}\nKexAlgorithms ecdh-sha2-nistp256,diffie-hellman-group14-sha256\nHostKeyAlgorithms rsa-sha2-512,rsa-sha2-256\nPubkeyAcceptedAlgorithms rsa-sha2-512,rsa-sha2-256\nCASignatureAlgorithms rsa-sha2-512\nHostbasedAcceptedAlgorithms rsa-sha2-512\nRequiredRSASize 2048\nCiphers aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,3des-cbc,aes192-cbc,aes256-cbc\nMACs hmac-sha1,hmac-sha2-256,hmac-sha2-512\n"
        ),
    );
    let (r, code) = audit_json(&["--policy", "aspera", &conf]);
    assert_eq!(
        code,
        Some(0),
        "the Aspera guide's own lines pass under aspera: {r}"
    );
    let out = fipsgate(&["audit", "sshd", "--policy", "fips-140-3,aspera", &conf]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("3des-cbc is in the Ciphers list of aspera but disallowed under fips-140-3"),
        "{text}"
    );
    assert!(
        text.contains("hmac-sha1 is in the MACs list of aspera but deprecated under fips-140-3"),
        "{text}"
    );
    assert!(
        text.contains("replace with: Ciphers aes128-ctr,aes192-ctr,aes256-ctr"),
        "{text}"
    );
    assert!(
        text.contains("aspera: compliant") && text.contains("fips-140-3: NOT compliant"),
        "{text}"
    );
}

#[test]
fn weak_host_keys_and_defaults_are_findings() {
    let d = dir("weak");
    let rsa = d.join("host_rsa1024").display().to_string();
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "rsa", "-b", "1024", "-f", &rsa])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok);
    let conf = write(
        &d.join("sshd_config"),
        &format!("HostKey {rsa}\nProtocol 2,1\n"),
    );
    let (r, code) = audit_json(&[&conf]);
    assert_eq!(code, Some(1));
    let items: Vec<String> = r["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {}",
                f["directive"].as_str().unwrap_or(""),
                f["item"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        items
            .iter()
            .any(|i| i.starts_with("HostKey") && i.contains("rsa 1024 bits")),
        "{items:?}"
    );
    assert!(
        items.iter().any(|i| i == "RequiredRSASize 1024"),
        "OpenSSH's default RequiredRSASize is 1024: {items:?}"
    );
    assert!(items.iter().any(|i| i == "Protocol 2,1"), "{items:?}");
    assert!(
        items
            .iter()
            .any(|i| i == "Ciphers chacha20-poly1305@openssh.com"),
        "unset Ciphers are judged at their defaults: {items:?}"
    );
}

#[test]
fn effective_mode_audits_sshd_t_output() {
    let d = dir("effective");
    let conf = write(&d.join("sshd_config"), "Ciphers +3des-cbc\n");
    let (r, code) = audit_json(&["--effective", &conf]);
    assert_eq!(code, Some(1));
    let items: Vec<&str> = r["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["item"].as_str())
        .collect();
    assert!(
        items.contains(&"3des-cbc") && items.contains(&"chacha20-poly1305@openssh.com"),
        "{items:?}"
    );
    assert!(r["findings"][0]["file"]
        .as_str()
        .is_some_and(|f| f.starts_with("sshd -T")));
}

#[test]
fn malformed_and_missing_files_exit_2_with_file_and_line() {
    let d = dir("bad");
    let conf = write(
        &d.join("sshd_config"),
        "Port 22\nBanner \"/etc/issue\nCiphers aes128-ctr\n",
    );
    let out = fipsgate(&["audit", "sshd", &conf]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{conf}:2: unterminated quote")));
    let conf = write(
        &d.join("include_missing"),
        "Include /nonexistent/fipsgate.conf\n",
    );
    let out = fipsgate(&["audit", "sshd", &conf]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains(":1: Include /nonexistent/fipsgate.conf: no such file"));
    let looped = d.join("loop.conf");
    write(&looped, &format!("Include {}\n", looped.display()));
    let out = fipsgate(&["audit", "sshd", &looped.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nested more than 16 deep"));
    let out = fipsgate(&["audit", "sshd", "/nonexistent/sshd_config"]);
    assert_eq!(out.status.code(), Some(2));
    let conf = write(&d.join("empty_value"), "Ciphers\n");
    let out = fipsgate(&["audit", "sshd", &conf]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":1: ciphers has no value"));
}
