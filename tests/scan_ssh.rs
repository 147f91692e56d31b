//! `fipsgate scan` against real OpenSSH `sshd` (FIPS-only, Debian default and legacy
//! configurations) and dropbear on loopback. Ground truth: `sshd -T` for the lists,
//! `ssh-keygen -lf` for the fingerprints.
mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use support::*;

/// Ground truth: a list from `sshd -T`.
fn sshd_t(config: &str, key: &str) -> Vec<String> {
    let out = Command::new("/usr/sbin/sshd")
        .args(["-T", "-f", config])
        .output()
        .unwrap_or_else(|e| panic!("sshd -T: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("sshd -T has no {key}"));
    line.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn list(e: &Value, field: &str) -> Vec<String> {
    e["ssh"][field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn host_key(e: &Value, key_type: &str) -> Value {
    e["ssh"]["host_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["key_type"] == key_type)
        .cloned()
        .unwrap_or(Value::Null)
}

/// RSA 3072, ECDSA P-256 and Ed25519 host keys in a directory of the test's own (tests run in
/// parallel, and ssh-keygen will not overwrite a key another test is writing).
fn keys(test: &str) -> (PathBuf, String, String, String) {
    let dir = material().dir.join(format!("keys-{test}"));
    let _ = std::fs::create_dir_all(&dir);
    let k = (
        keygen(&dir, "rsa3072", &["-t", "rsa", "-b", "3072"]),
        keygen(&dir, "ecdsa256", &["-t", "ecdsa", "-b", "256"]),
        keygen(&dir, "ed25519", &["-t", "ed25519"]),
    );
    (dir, k.0, k.1, k.2)
}

#[test]
fn fips_only_sshd_matches_sshd_t_and_is_fips_only() {
    let (_, rsa, ecdsa, _) = keys("fips");
    let s = sshd(
        "fips",
        "KexAlgorithms ecdh-sha2-nistp256,ecdh-sha2-nistp384,diffie-hellman-group14-sha256\nCiphers aes256-gcm@openssh.com,aes128-ctr\nMACs hmac-sha2-256-etm@openssh.com,hmac-sha2-256\nHostKeyAlgorithms ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256\n",
        &[&rsa, &ecdsa],
    );
    let (lines, code) = scan(&[
        "--policy",
        "fips-140-3,rhel9-fips",
        &format!("127.0.0.1:{}", s.port),
    ]);
    let e = &lines[0];
    assert_eq!(e["service"], "ssh", "{e}");
    assert_eq!(list(e, "kex"), sshd_t(&s.config, "kexalgorithms"));
    assert_eq!(
        list(e, "ciphers_client_to_server"),
        sshd_t(&s.config, "ciphers")
    );
    assert_eq!(
        list(e, "ciphers_server_to_client"),
        sshd_t(&s.config, "ciphers")
    );
    assert_eq!(list(e, "macs_client_to_server"), sshd_t(&s.config, "macs"));
    // OpenSSH advertises host key algorithms in the order of its HostKey files, not of
    // HostKeyAlgorithms: the set is what sshd -T can tell.
    let mut got = list(e, "host_key_algorithms");
    let mut want = sshd_t(&s.config, "hostkeyalgorithms");
    got.sort();
    want.sort();
    assert_eq!(got, want);

    for (kind, file) in [("rsa", &rsa), ("ec", &ecdsa)] {
        let k = host_key(e, kind);
        assert_eq!(
            k["fingerprint_sha256"].as_str(),
            Some(fingerprint_of(&format!("{file}.pub")).as_str()),
            "{kind}"
        );
        assert_eq!(k["signature_verified"], Value::Bool(true), "{kind}");
    }
    assert_eq!(host_key(e, "rsa")["bits"], 3072);
    assert_eq!(verdict(e, "fips-140-3"), "fips-only", "{e}");
    assert_eq!(verdict(e, "rhel9-fips"), "fips-only");
    assert_eq!(code, Some(0));
    let connections = e["connections"].as_u64().unwrap_or(99);
    assert!(
        connections <= 2 + 3,
        "{connections} connections: the TLS 1.2 and TLS 1.3 hellos that tell SSH on this port, then three greeted at once for 2 host key types and no group exchange (the third closes unused)"
    );
}

#[test]
fn debian_default_sshd_is_fips_capable_with_group_exchange_sizes() {
    let (_, rsa, ecdsa, ed25519) = keys("default");
    let s = sshd("default", "", &[&rsa, &ecdsa, &ed25519]);
    let (lines, _) = scan(&[
        "--policy",
        "fips-140-3,aspera",
        &format!("127.0.0.1:{}", s.port),
    ]);
    let e = &lines[0];
    assert_eq!(list(e, "kex"), sshd_t(&s.config, "kexalgorithms"));
    assert_eq!(
        list(e, "ciphers_client_to_server"),
        sshd_t(&s.config, "ciphers")
    );
    assert_eq!(list(e, "macs_server_to_client"), sshd_t(&s.config, "macs"));
    // Debian's OpenSSH offers the sntrup761 hybrid (and, from 9.9, ML-KEM) by default.
    let quantum_safe: Vec<String> = sshd_t(&s.config, "kexalgorithms")
        .into_iter()
        .filter(|k| k.starts_with("sntrup761") || k.starts_with("mlkem"))
        .collect();
    assert!(!quantum_safe.is_empty(), "Debian's sshd has sntrup761");
    let reported: Vec<String> = e["quantum_safe_kex"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(reported, quantum_safe);
    for (kind, file) in [("rsa", &rsa), ("ec", &ecdsa), ("ed25519", &ed25519)] {
        let k = host_key(e, kind);
        assert_eq!(
            k["fingerprint_sha256"].as_str(),
            Some(fingerprint_of(&format!("{file}.pub")).as_str()),
            "{kind}"
        );
        assert_eq!(k["signature_verified"], Value::Bool(true), "{kind}");
    }
    let gex: Vec<u64> = e["ssh"]["gex_moduli_bits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    assert!(
        !gex.is_empty() && gex.iter().all(|b| *b >= 2048),
        "OpenSSH hands out 2048 bits or more: {gex:?}"
    );
    assert_eq!(verdict(e, "fips-140-3"), "fips-capable");
    let aspera = e["negotiations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["policy"] == "aspera")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        aspera["ssh"]["cipher_client_to_server"]["name"], "aes128-ctr",
        "{aspera}"
    );
    assert_eq!(
        aspera["ssh"]["kex"]["server_first"], "ecdh-sha2-nistp256",
        "a FIPS client skips curve25519"
    );
    let connections = e["connections"].as_u64().unwrap_or(99);
    assert_eq!(
        connections, 6,
        "the TLS 1.2 and TLS 1.3 hellos sent side by side tell SSH on this port, then the four group-exchange sizes ride on the three host keys' exchanges"
    );
}

#[test]
fn legacy_sshd_is_not_fips_capable() {
    let (dir, _, _, _) = keys("legacy");
    let rsa1024 = keygen(&dir, "rsa1024", &["-t", "rsa", "-b", "1024"]);
    let dsa = keygen(&dir, "dsa", &["-t", "dsa"]);
    let s = sshd(
        "legacy",
        "KexAlgorithms diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,ecdh-sha2-nistp256\nCiphers 3des-cbc,aes128-cbc,aes128-ctr\nMACs hmac-sha1,hmac-md5\nHostKeyAlgorithms ssh-rsa,ssh-dss\n",
        &[&rsa1024, &dsa],
    );
    let (lines, code) = scan(&[
        "--policy",
        "fips-140-3,fips-140-2,aspera",
        &format!("127.0.0.1:{}", s.port),
    ]);
    let e = &lines[0];
    assert_eq!(list(e, "kex"), sshd_t(&s.config, "kexalgorithms"));
    assert_eq!(
        list(e, "ciphers_client_to_server"),
        sshd_t(&s.config, "ciphers")
    );
    assert_eq!(list(e, "macs_client_to_server"), sshd_t(&s.config, "macs"));
    assert_eq!(
        list(e, "languages_client_to_server"),
        Vec::<String>::new(),
        "OpenSSH sends no languages"
    );
    assert!(e["ssh"]["languages_server_to_client"].is_array());
    let rsa = host_key(e, "rsa");
    assert_eq!(rsa["bits"], 1024);
    assert_eq!(
        rsa["fingerprint_sha256"].as_str(),
        Some(fingerprint_of(&format!("{rsa1024}.pub")).as_str())
    );
    assert_eq!(rsa["signature_verified"], Value::Bool(true));
    let dsa_key = host_key(e, "dsa");
    assert_eq!(
        dsa_key["fingerprint_sha256"].as_str(),
        Some(fingerprint_of(&format!("{dsa}.pub")).as_str())
    );
    assert_eq!(
        dsa_key["signature_verified"],
        Value::Bool(false),
        "aws-lc-rs cannot verify DSA: the report must not claim it"
    );
    assert_eq!(verdict(e, "fips-140-3"), "not-fips-capable");
    assert_eq!(
        verdict(e, "aspera"),
        "not-fips-capable",
        "ssh-rsa (SHA-1) and ssh-dss host keys"
    );
    // DSA keys were approved under FIPS 186-4, but ssh-dss signs with SHA-1, disallowed for
    // signing in both views (SP 800-131A).
    assert_eq!(verdict(e, "fips-140-2"), "not-fips-capable");
    let reasons = e["findings"].to_string();
    assert!(
        reasons.contains("RSA key of 1024 bits") && reasons.contains("diffie-hellman-group1-sha1"),
        "{reasons}"
    );
    assert_eq!(code, Some(1));
}

#[test]
fn dropbear_lists_and_host_key() {
    let dir = material().dir.join(format!("dropbear-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let key = dir.join("ed25519").display().to_string();
    let ok = Command::new("dropbearkey")
        .args(["-t", "ed25519", "-f", &key])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "dropbearkey");
    let public = Command::new("dropbearkey")
        .args(["-y", "-f", &key])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let line = public
        .lines()
        .find(|l| l.starts_with("ssh-ed25519"))
        .unwrap_or_default()
        .to_owned();
    let pubfile = dir.join("ed25519.pub");
    let _ = std::fs::write(&pubfile, format!("{line}\n"));
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let _s = start_on(
        "dropbear",
        &["-F", "-E", "-s", "-p", &listen, "-r", &key],
        port,
    );
    let (lines, _) = scan(&[&listen]);
    let e = &lines[0];
    assert_eq!(e["service"], "ssh", "{e}");
    assert!(
        e["ssh"]["software"]
            .as_str()
            .is_some_and(|s| s.starts_with("dropbear")),
        "{e}"
    );
    assert!(
        list(e, "kex_markers")
            .iter()
            .any(|m| m == "kexguess2@matt.ucc.asn.au"),
        "dropbear's marker is reported as a feature"
    );
    assert!(
        !list(e, "kex").iter().any(|k| k.starts_with("kexguess")),
        "markers are not algorithms"
    );
    let k = host_key(e, "ed25519");
    assert_eq!(
        k["fingerprint_sha256"].as_str(),
        Some(fingerprint_of(&pubfile.display().to_string()).as_str())
    );
    assert_eq!(k["signature_verified"], Value::Bool(true));
}

#[test]
fn ssh_on_a_non_standard_port_is_detected_from_its_banner() {
    let (_, _, ecdsa, _) = keys("detect");
    let s = sshd("detect", "", &[&ecdsa]);
    // Port is not 22: the TLS probe meets the SSH identification and the scan switches to SSH.
    let (lines, _) = scan(&[&format!("127.0.0.1:{}", s.port)]);
    assert_eq!(lines[0]["service"], "ssh");
    assert_eq!(lines[0]["status"], "ok");
}

#[test]
fn confirm_proves_a_fips_only_client_connects_or_says_why_not() {
    let (dir, rsa, ecdsa, _) = keys("confirm");
    let fips = sshd("confirm-fips", "KexAlgorithms ecdh-sha2-nistp256\nCiphers aes128-ctr\nMACs hmac-sha2-256\nHostKeyAlgorithms rsa-sha2-256\n", &[&rsa, &ecdsa]);
    let (lines, _) = scan(&["--confirm", &format!("127.0.0.1:{}", fips.port)]);
    let c = &lines[0]["ssh"]["confirm"];
    assert_eq!(c["ok"], Value::Bool(true), "{c}");
    assert_eq!(c["policy"], "fips-140-3");
    assert_eq!(c["negotiated"]["kex"], "ecdh-sha2-nistp256");
    assert_eq!(c["negotiated"]["host_key"], "rsa-sha2-256");
    assert_eq!(c["negotiated"]["cipher_client_to_server"], "aes128-ctr");
    assert_eq!(c["negotiated"]["mac_server_to_client"], "hmac-sha2-256");
    let dsa = keygen(&dir, "dsa", &["-t", "dsa"]);
    let legacy = sshd("confirm-legacy", "KexAlgorithms diffie-hellman-group14-sha1,ecdh-sha2-nistp256\nCiphers aes128-ctr\nHostKeyAlgorithms ssh-dss\n", &[&dsa]);
    let (lines, _) = scan(&["--confirm", &format!("127.0.0.1:{}", legacy.port)]);
    let c = &lines[0]["ssh"]["confirm"];
    assert_eq!(
        c["ok"],
        Value::Bool(false),
        "only ssh-dss host keys: a FIPS-only client cannot connect: {c}"
    );
    assert!(c["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[test]
fn host_certificates_are_read_and_proven() {
    let (dir, _, _, ed25519) = keys("certificate");
    let ca = keygen(&dir, "ca", &["-t", "ed25519"]);
    let signed = Command::new("ssh-keygen")
        .args([
            "-q",
            "-s",
            &ca,
            "-h",
            "-I",
            "fipsgate-host",
            "-n",
            "localhost,127.0.0.1",
            "-V",
            "+52w",
            &format!("{ed25519}.pub"),
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(signed, "ssh-keygen -s");
    let s = sshd(
        "certificate",
        &format!("HostCertificate {ed25519}-cert.pub\n"),
        &[&ed25519],
    );
    let (lines, _) = scan(&[&format!("127.0.0.1:{}", s.port)]);
    let keys = lines[0]["ssh"]["host_keys"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let cert = keys
        .iter()
        .find(|k| k["algorithm"] == "ssh-ed25519-cert-v01@openssh.com")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(cert["signature_verified"], Value::Bool(true), "{cert}");
    assert_eq!(
        cert["fingerprint_sha256"].as_str(),
        Some(fingerprint_of(&format!("{ed25519}.pub")).as_str()),
        "a certificate is fingerprinted by its key"
    );
    let c = &cert["certificate"];
    assert_eq!(c["key_id"], "fipsgate-host");
    assert_eq!(c["cert_type"], "host");
    assert_eq!(
        c["principals"],
        serde_json::json!(["localhost", "127.0.0.1"])
    );
    assert_eq!(
        c["ca_fingerprint_sha256"].as_str(),
        Some(fingerprint_of(&format!("{ca}.pub")).as_str())
    );
}

#[test]
fn host_keys_of_dh_only_servers_are_proven_too() {
    let (_, rsa, ecdsa, _) = keys("dh");
    for kex in [
        "diffie-hellman-group14-sha256",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group14-sha1",
    ] {
        let s = sshd(
            &format!("dh-{kex}"),
            &format!("KexAlgorithms {kex}\n"),
            &[&rsa, &ecdsa],
        );
        let (lines, _) = scan(&[&format!("127.0.0.1:{}", s.port)]);
        let e = &lines[0];
        assert_eq!(list(e, "kex"), [kex]);
        for (kind, file) in [("rsa", &rsa), ("ec", &ecdsa)] {
            let k = host_key(e, kind);
            assert_eq!(
                k["signature_verified"],
                Value::Bool(true),
                "{kex} {kind}: {e}"
            );
            assert_eq!(
                k["fingerprint_sha256"].as_str(),
                Some(fingerprint_of(&format!("{file}.pub")).as_str())
            );
        }
    }
}
