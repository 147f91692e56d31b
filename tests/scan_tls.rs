//! `fipsgate scan` against real `openssl s_server` instances on loopback. Ground truth is the
//! server's own configuration (`openssl ciphers -V` on the same cipher string, the certificate
//! files), never the scanner's output.
mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpListener;
use std::process::Command;
use support::*;

fn one(args: &[&str]) -> (Value, Option<i32>) {
    let (mut lines, code) = scan(args);
    assert_eq!(lines.len(), 1, "one endpoint expected: {lines:?}");
    (lines.remove(0), code)
}

#[test]
fn tls12_server_order_is_exact() {
    let m = material();
    let ciphers =
        "ECDHE-RSA-AES256-GCM-SHA384:AES256-SHA:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-GCM-SHA256";
    let s = openssl_rsa_server(&[
        "-tls1_2",
        "-cipher",
        ciphers,
        "-serverpref",
        "-dhparam",
        &m.path("ffdhe2048.pem"),
    ]);
    let (e, _) = one(&[&s.addr()]);
    assert_eq!(e["status"], "ok", "{e}");
    assert_eq!(versions(&e), ["tls1.2"]);
    assert_eq!(
        suites(&e, "tls1.2"),
        openssl_codes(false, &["-tls1_2", ciphers])
    );
    assert_eq!(
        e["tls"]["versions"][0]["server_preference"],
        Value::Bool(true)
    );
    assert_eq!(e["tls"]["dh_params"][0]["named_group"], "ffdhe2048");
    assert_eq!(e["tls"]["dh_params"][0]["bits"], 2048);
    let leaf = &e["tls"]["certificates"][0]["chain"][0];
    assert_eq!(
        leaf["sha256"].as_str(),
        Some(fingerprint(&m.path("rsa.crt")).as_str())
    );
    assert_eq!(leaf["key_type"], "rsa");
    assert_eq!(leaf["key_bits"], 2048);
    assert_eq!(
        e["tls"]["features"]["extended_master_secret"],
        Value::Bool(true)
    );
    assert_eq!(
        e["tls"]["features"]["secure_renegotiation"],
        Value::Bool(true)
    );
    assert_eq!(e["tls"]["features"]["encrypt_then_mac"], Value::Bool(true));
    // AES256-SHA is RSA key transport: disallowed; the ECDHE and DHE suites keep it capable.
    assert_eq!(verdict(&e, "fips-140-3"), "fips-capable");
    let connections = e["connections"].as_u64().unwrap_or(999);
    let sigalgs = e["tls"]["signature_schemes"].as_array().map_or(0, Vec::len) as u64;
    let groups = e["tls"]["groups"].as_array().map_or(0, Vec::len) as u64;
    assert!(
        connections <= 4 + groups + sigalgs + 12,
        "{connections} connections for 4 suites, {groups} groups, {sigalgs} sigalgs"
    );
}

#[test]
fn tls12_client_order_is_detected() {
    let ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";
    let s = openssl_rsa_server(&["-tls1_2", "-groups", "P-256:P-384", "-cipher", ciphers]);
    let (e, _) = one(&[&s.addr()]);
    assert_eq!(
        e["tls"]["versions"][0]["server_preference"],
        Value::Bool(false)
    );
    let got: BTreeSet<String> = suites(&e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = openssl_codes(false, &["-tls1_2", ciphers])
        .into_iter()
        .collect();
    assert_eq!(got, want);
    assert_eq!(verdict(&e, "fips-140-3"), "fips-only", "{e}");
}

#[test]
fn tls13_each_ciphersuite_alone() {
    let m = material();
    for suite in [
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    ] {
        let s = openssl_server(&[
            "-tls1_3",
            "-ciphersuites",
            suite,
            "-cert",
            &m.path("ec.crt"),
            "-key",
            &m.path("ec.key"),
        ]);
        let (e, _) = one(&[&s.addr()]);
        assert_eq!(versions(&e), ["tls1.3"], "{suite}: {e}");
        assert_eq!(
            suites(&e, "tls1.3"),
            openssl_codes(true, &["-s", "-tls1_3", "-ciphersuites", suite]),
            "{suite}"
        );
        assert_eq!(
            e["tls"]["features"]["hello_retry_request"],
            Value::Bool(true)
        );
        if suite.contains("CCM") {
            let notes = e["tls"]["notes"].to_string();
            assert!(
                notes.contains("TLS 1.3 certificates and signature schemes not read"),
                "{suite}: the gap must be said: {notes}"
            );
        } else {
            let leaf = &e["tls"]["certificates"][0]["chain"][0];
            assert_eq!(
                leaf["sha256"].as_str(),
                Some(fingerprint(&m.path("ec.crt")).as_str()),
                "{suite}: TLS 1.3 certificate"
            );
        }
        let expected = if suite.contains("CHACHA") {
            "not-fips-capable"
        } else {
            "fips-capable"
        };
        assert_eq!(
            verdict(&e, "fips-140-3"),
            expected,
            "{suite}: x25519 is among OpenSSL's groups, so at best capable"
        );
    }
}

#[test]
fn tls13_group_restriction_is_exact() {
    let m = material();
    let suites13 = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
    let s = openssl_server(&[
        "-tls1_3",
        "-groups",
        "P-384:P-256",
        "-ciphersuites",
        suites13,
        "-cert",
        &m.path("ec.crt"),
        "-key",
        &m.path("ec.key"),
    ]);
    let (e, _) = one(&["--policy", "fips-140-3,cnsa", &s.addr()]);
    let got: BTreeSet<String> = names(&e, "groups").into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from(["secp384r1".to_owned(), "secp256r1".to_owned()])
    );
    assert_eq!(verdict(&e, "fips-140-3"), "fips-only", "{e}");
    assert_eq!(
        verdict(&e, "cnsa"),
        "not-fips-capable",
        "a P-256 certificate signs ecdsa_secp256r1_sha256 only: CNSA needs P-384"
    );
}

#[test]
fn tls12_groups_come_from_server_key_exchange() {
    let m = material();
    let s = openssl_server(&[
        "-tls1_2",
        "-groups",
        "P-256:X25519",
        "-cipher",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "-cert",
        &m.path("ec.crt"),
        "-key",
        &m.path("ec.key"),
    ]);
    let (e, _) = one(&[&s.addr()]);
    let got: BTreeSet<String> = names(&e, "groups").into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from(["secp256r1".to_owned(), "x25519".to_owned()])
    );
    assert_eq!(
        verdict(&e, "fips-140-3"),
        "fips-capable",
        "x25519 is accepted too"
    );
    let schemes = names(&e, "signature_schemes");
    assert!(
        !schemes.is_empty() && schemes.iter().all(|s| s.starts_with("ecdsa")),
        "{schemes:?}"
    );
}

#[test]
fn legacy_versions_with_seclevel_0() {
    for (flag, version) in [("-tls1", "tls1.0"), ("-tls1_1", "tls1.1")] {
        let ciphers = "AES128-SHA:ECDHE-RSA-AES256-SHA:@SECLEVEL=0";
        let s = openssl_rsa_server(&[flag, "-groups", "P-256", "-cipher", ciphers, "-serverpref"]);
        let (e, _) = one(&["--policy", "fips-140-3,fips-140-2", &s.addr()]);
        assert_eq!(versions(&e), [version], "{e}");
        assert_eq!(suites(&e, version), openssl_codes(false, &[flag, ciphers]));
        // TLS 1.0 is disallowed for government servers, TLS 1.1 only deprecated.
        let v3 = if version == "tls1.0" {
            "not-fips-capable"
        } else {
            "fips-capable"
        };
        assert_eq!(verdict(&e, "fips-140-3"), v3, "{version}");
        assert_eq!(verdict(&e, "fips-140-2"), "fips-only", "{version}");
    }
}

#[test]
fn custom_dh_prime_is_not_a_named_group() {
    let m = material();
    let s = openssl_rsa_server(&[
        "-tls1_2",
        "-cipher",
        "DHE-RSA-AES256-GCM-SHA384",
        "-dhparam",
        &m.path("custom2048.pem"),
    ]);
    let (e, _) = one(&["--policy", "fips-140-3,fips-140-2", &s.addr()]);
    assert_eq!(e["tls"]["dh_params"][0]["bits"], 2048);
    assert_eq!(e["tls"]["dh_params"][0]["named_group"], Value::Null);
    assert_eq!(verdict(&e, "fips-140-3"), "not-fips-capable");
    assert_eq!(verdict(&e, "fips-140-2"), "fips-only");
}

#[test]
fn rsa_and_ecdsa_certificates_at_once() {
    let m = material();
    let s = openssl_rsa_server(&["-dcert", &m.path("ec.crt"), "-dkey", &m.path("ec.key")]);
    let (e, _) = one(&[&s.addr()]);
    let got: BTreeSet<String> = e["tls"]["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["chain"][0]["sha256"].as_str().map(str::to_owned))
        .collect();
    let want = BTreeSet::from([
        fingerprint(&m.path("rsa.crt")),
        fingerprint(&m.path("ec.crt")),
    ]);
    assert_eq!(got, want);
    let ec = e["tls"]["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["key_type"] == "ec")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(ec["chain"][0]["curve"], "secp256r1");
    assert_eq!(
        ec["chain"][0]["sans"],
        serde_json::json!(["localhost", "127.0.0.1"])
    );
}

#[test]
fn weak_rsa_key_is_a_finding() {
    let m = material();
    let s = openssl_server(&[
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
        "-cert",
        &m.path("rsa1024.crt"),
        "-key",
        &m.path("rsa1024.key"),
    ]);
    let (e, code) = one(&[&s.addr()]);
    assert_eq!(verdict(&e, "fips-140-3"), "not-fips-capable");
    let findings: Vec<String> = e["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["reason"].as_str().map(str::to_owned))
        .collect();
    assert!(
        findings.iter().any(|r| r.contains("RSA key of 1024 bits")),
        "{findings:?}"
    );
    assert_eq!(code, Some(1), "not-fips-capable fails by default");
}

#[test]
fn sha1_signatures_only_is_not_fips_capable() {
    // Issue #17: the server's one signature scheme is rsa_pkcs1_sha1, which SP 800-131A r2
    // disallows for signature generation, so no handshake with it is approved end to end.
    let s = openssl_rsa_server(&[
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
        "-sigalgs",
        "RSA+SHA1",
        "-groups",
        "P-256",
    ]);
    let (e, _) = one(&[&s.addr()]);
    assert_eq!(suites(&e, "tls1.2"), ["0xC02F"]);
    assert_eq!(names(&e, "signature_schemes"), ["rsa_pkcs1_sha1"]);
    assert_eq!(names(&e, "groups"), ["secp256r1"]);
    assert_eq!(verdict(&e, "fips-140-3"), "not-fips-capable");
}

#[test]
fn ndjson_endpoint_contract() {
    let s = openssl_rsa_server(&[]);
    let (e, code) = one(&["--policy", "fips-140-3,axway-securetransport", &s.addr()]);
    assert_eq!(code, Some(0));
    assert_eq!(e["type"], "endpoint");
    assert_eq!(e["schema_version"], 1);
    assert_eq!(e["target"]["ip"], "127.0.0.1");
    assert_eq!(e["target"]["port"].as_u64(), Some(u64::from(s.port)));
    assert_eq!(e["service"], "tls");
    assert_eq!(e["status"], "ok");
    let suite = &e["tls"]["versions"][0]["cipher_suites"][0];
    assert!(
        suite["code"].is_string() && suite["iana"].is_string() && suite["openssl"].is_string(),
        "{suite}"
    );
    for f in e["findings"].as_array().into_iter().flatten() {
        for key in ["policy", "item", "verdict", "reason", "source"] {
            assert!(f[key].is_string(), "finding without {key}: {f}");
        }
    }
    assert!(e["connections"].as_u64().is_some_and(|c| c > 0) && e["duration_ms"].is_u64());
    let (lines, _) = scan_lines(&["--policy", "fips-140-3,axway-securetransport", &s.addr()]);
    let (begin, end) = (&lines[0], &lines[lines.len() - 1]);
    assert_eq!(begin["schema_version"], 1);
    assert_eq!(begin["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        begin["policies"],
        serde_json::json!(["fips-140-3", "axway-securetransport"])
    );
    assert!(
        begin["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
            && begin["arguments"].is_array()
    );
    assert_eq!(end["endpoints"], 1);
    assert_eq!(end["errors"], 0);
    assert_eq!(end["verdicts"][0]["policy"], "fips-140-3");
    let counted = ["fips_only", "fips_capable", "not_fips_capable"]
        .iter()
        .map(|k| end["verdicts"][0][*k].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert_eq!(counted, 1);
    assert!(end["connections"].as_u64().is_some_and(|c| c > 0) && end["duration_ms"].is_u64());
    let negotiated = &e["negotiations"][0];
    assert_eq!(negotiated["policy"], "axway-securetransport");
    assert_eq!(negotiated["tls"]["outcome"], "chosen");
    assert_eq!(negotiated["tls"]["version"], "tls1.3");
}

#[test]
fn unreachable_and_non_tls_endpoints_are_typed_errors() {
    let closed = free_port();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let http = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let server = std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        }
    });
    let (lines, code) = scan(&[&format!("127.0.0.1:{closed}"), &format!("127.0.0.1:{http}")]);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["status"], "error");
    assert_eq!(lines[0]["error"]["kind"], "connect_refused");
    assert_eq!(lines[1]["error"]["kind"], "not_tls", "{}", lines[1]);
    assert_eq!(code, Some(3));
    let _ = server.join();
}

#[test]
fn bad_targets_are_refused_before_any_connection() {
    let out = fipsgate(&["scan", "127.0.0.1:99999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid target"));
    let out = fipsgate(&["scan", "--policy", "nope", "127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn servers_that_drop_large_hellos_are_scanned_in_smaller_hellos() {
    let ciphers = "ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA";
    let s = openssl_rsa_server(&["-tls1_2", "-cipher", ciphers]);
    let relay = filtering_relay(s.port, |record| record.len() > 5 + 600);
    let (e, _) = one(&[&format!("127.0.0.1:{relay}")]);
    assert_eq!(e["status"], "ok", "{e}");
    let got: BTreeSet<String> = suites(&e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = openssl_codes(false, &["-tls1_2", ciphers])
        .into_iter()
        .collect();
    assert_eq!(got, want);
    let notes = e["tls"]["notes"].to_string();
    assert!(
        notes.contains("drops ClientHellos offering"),
        "the split must be reported: {notes}"
    );
}

#[test]
fn tls13_only_signature_schemes_and_both_certificates() {
    // TLS 1.3 hides CertificateVerify: real handshakes name the scheme, one eliminated at a time.
    let m = material();
    let s = openssl_rsa_server(&[
        "-tls1_3",
        "-dcert",
        &m.path("ec.crt"),
        "-dkey",
        &m.path("ec.key"),
    ]);
    let (e, _) = one(&[&s.addr()]);
    let got: BTreeSet<String> = names(&e, "signature_schemes").into_iter().collect();
    // TLS 1.3 binds ECDSA to the key's curve, and OpenSSL signs RSA keys with PSS only.
    let want: BTreeSet<String> = [
        "ecdsa_secp256r1_sha256",
        "rsa_pss_rsae_sha256",
        "rsa_pss_rsae_sha384",
        "rsa_pss_rsae_sha512",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(got, want);
    let certs: BTreeSet<String> = e["tls"]["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["chain"][0]["sha256"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        certs,
        BTreeSet::from([
            fingerprint(&m.path("rsa.crt")),
            fingerprint(&m.path("ec.crt"))
        ])
    );
}

#[test]
fn servers_that_refuse_extensions_are_scanned_with_bare_hellos() {
    // Without signature_algorithms TLS 1.2 falls back to SHA-1 signatures, which OpenSSL 3 only
    // makes at security level 0: such old servers are the ones that refuse extensions.
    let m = material();
    // ECDHE needs supported_groups, so only suites negotiable without extensions are offered.
    let ciphers = "AES256-SHA:AES128-GCM-SHA256:DHE-RSA-AES128-SHA:@SECLEVEL=0";
    let s = openssl_rsa_server(&["-tls1_2", "-cipher", ciphers]);
    let relay = filtering_relay(s.port, hello_has_extensions);
    let (e, _) = one(&[&format!("127.0.0.1:{relay}")]);
    assert_eq!(e["status"], "ok", "{e}");
    let got: BTreeSet<String> = suites(&e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = openssl_codes(false, &["-tls1_2", ciphers])
        .into_iter()
        .collect();
    assert_eq!(got, want);
    assert!(
        e["tls"]["notes"]
            .to_string()
            .contains("refuses ClientHellos that carry extensions"),
        "{e}"
    );
    assert_eq!(
        e["tls"]["features"]["extended_master_secret"],
        Value::Null,
        "not tested, so not claimed false"
    );
    assert_eq!(
        e["tls"]["certificates"][0]["chain"][0]["sha256"].as_str(),
        Some(fingerprint(&m.path("rsa.crt")).as_str())
    );
}

#[test]
fn sslv2_is_detected_end_to_end() {
    // No SSL 2.0 server ships with Debian (OpenSSL 3 removed it): a scripted peer answers SSL 2.0
    // CLIENT-HELLOs with a SERVER-HELLO listing two specs and a real certificate, and refuses
    // every other hello.
    use std::io::{Read, Write};
    let der = Command::new("openssl")
        .args([
            "x509",
            "-in",
            &material().path("rsa.crt"),
            "-outform",
            "DER",
        ])
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    assert!(!der.is_empty());

    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut first = [0u8; 3];
            if s.read_exact(&mut first).is_err() || first[0] & 0x80 == 0 || first[2] != 1 {
                continue; // a TLS hello: close without answering
            }
            let specs = [0x07u8, 0x00, 0xC0, 0x01, 0x00, 0x80];
            let mut msg = vec![4, 0, 1, 0, 2];
            msg.extend_from_slice(&(der.len() as u16).to_be_bytes());
            msg.extend_from_slice(&(specs.len() as u16).to_be_bytes());
            msg.extend_from_slice(&16u16.to_be_bytes());
            msg.extend_from_slice(&der);
            msg.extend_from_slice(&specs);
            msg.extend_from_slice(&[7u8; 16]);
            let mut rec = vec![0x80 | (msg.len() >> 8) as u8, (msg.len() & 0xFF) as u8];
            rec.extend_from_slice(&msg);
            let _ = s.write_all(&rec);
        }
    });
    let (e, code) = one(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(versions(&e), ["ssl2"], "{e}");
    assert_eq!(suites(&e, "ssl2"), ["0x0700C0", "0x010080"]);
    assert_eq!(
        e["tls"]["versions"][0]["cipher_suites"][0]["iana"],
        "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
    );
    assert_eq!(
        e["tls"]["certificates"][0]["chain"][0]["sha256"].as_str(),
        Some(fingerprint(&material().path("rsa.crt")).as_str())
    );
    assert_eq!(verdict(&e, "fips-140-3"), "not-fips-capable");
    assert!(e["findings"]
        .to_string()
        .contains("SSL 2.0 shall not be allowed"));
    assert_eq!(code, Some(1));
}

/// A TLS 1.0-only `s_server`: ECDHE-RSA-AES256-SHA on P-256 with the RSA certificate.
fn tls10_server() -> Server {
    openssl_rsa_server(&[
        "-tls1",
        "-groups",
        "P-256",
        "-cipher",
        "ECDHE-RSA-AES256-SHA:@SECLEVEL=0",
    ])
}

#[test]
fn citizen_facing_servers_may_keep_tls10_in_scan_and_report() {
    // SP 800-52r2 3.1: TLS 1.0 "may be configured when necessary" on citizen-facing servers.
    let m = material();
    let s = tls10_server();
    let (lines, code) = scan_lines(&["--citizen-facing", &s.addr()]);
    assert_eq!(lines[0]["type"], "scan_begin");
    assert_eq!(lines[0]["citizen_facing"], Value::Bool(true));
    let e = &lines[1];
    assert_eq!(versions(e), ["tls1.0"]);
    assert_eq!(verdict(e, "fips-140-3"), "fips-only");
    assert_eq!(code, Some(0));
    let tls10 = e["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["item"] == "tls1.0");
    assert_eq!(
        tls10.map(|f| (&f["verdict"], &f["source"])),
        Some((&Value::from("deprecated"), &Value::from("SP800-52r2")))
    );
    // A saved government-only scan, judged again as citizen-facing, and the other way round.
    let (gov, _) = scan_lines(&[&s.addr()]);
    assert_eq!(gov[0]["citizen_facing"], Value::Bool(false));
    assert_eq!(verdict(&gov[1], "fips-140-3"), "not-fips-capable");
    let saved = m.dir.join(format!("gov-{}.ndjson", free_port()));
    let text: String = gov.iter().map(|l| format!("{l}\n")).collect();
    let _ = std::fs::write(&saved, text);
    let saved = saved.display().to_string();
    let out = fipsgate(&["report", "--format", "ndjson", "--citizen-facing", &saved]);
    let rejudged: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(rejudged[0]["citizen_facing"], Value::Bool(true));
    assert_eq!(verdict(&rejudged[1], "fips-140-3"), "fips-only");
}

#[test]
fn saved_scans_are_judged_again_offline() {
    let m = material();
    let file = m.dir.join(format!("saved-{}.ndjson", free_port()));
    {
        let s = tls10_server();
        let out = fipsgate(&["scan", "--format", "ndjson", &s.addr()]);
        let _ = std::fs::write(&file, &out.stdout);
    } // the server is gone: what follows touches no network
    let path = file.display().to_string();
    let written = m.dir.join(format!("rejudged-{}.ndjson", free_port()));
    let out = fipsgate(&[
        "report",
        "--format",
        "ndjson",
        "-o",
        &written.display().to_string(),
        &path,
    ]);
    assert!(
        out.stdout.is_empty(),
        "-o writes to the file, not standard output"
    );
    assert_eq!(
        std::fs::read_to_string(&written)
            .map(|t| t.lines().count())
            .ok(),
        Some(3)
    );
    let judge = |policy: &str| {
        let out = fipsgate(&["report", "--format", "ndjson", "--policy", policy, &path]);
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (lines, out.status.code())
    };
    let (v3, code3) = judge("fips-140-3");
    let (v2, code2) = judge("fips-140-2");
    assert_eq!(
        verdict(&v3[1], "fips-140-3"),
        "not-fips-capable",
        "TLS 1.0 is disallowed: {v3:?}"
    );
    assert_eq!(
        verdict(&v2[1], "fips-140-2"),
        "fips-only",
        "TLS 1.0 is only deprecated there"
    );
    assert_eq!((code3, code2), (Some(1), Some(0)));
    assert_eq!(v2[0]["type"], "scan_begin");
    assert_eq!(v2[2]["type"], "scan_end");
    assert_eq!(
        v2[1]["tls"], v3[1]["tls"],
        "the observations are carried over unchanged"
    );
    let bad = m.dir.join("bad.ndjson");
    let _ = std::fs::write(
        &bad,
        "{\"type\":\"endpoint\",\"schema_version\":1}\nnot json\n",
    );
    let refusal = |text: &str| {
        let _ = std::fs::write(&bad, text);
        let path = bad.display().to_string();
        let out = fipsgate(&["report", &path]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let diff = fipsgate(&["diff", &path, &path]);
        assert_eq!(diff.status.code(), Some(2), "{text}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = refusal("{\"type\":\"endpoint\",\"schema_version\":1}\nnot json\n");
    assert!(
        e.contains("bad.ndjson:1: endpoint line: missing field `target`"),
        "{e}"
    );
    let e = refusal("not json\n");
    assert!(e.contains("bad.ndjson:1: not a JSON line"), "{e}");
    // A line of another report format, and a renamed field, are named, not guessed at.
    let saved = std::fs::read_to_string(&path).unwrap_or_default();
    let endpoint = saved.lines().nth(1).unwrap_or_default();
    let e = refusal(&endpoint.replace("\"schema_version\":1", "\"schema_version\":0"));
    assert!(
        e.contains("schema_version 0: written by another fipsgate"),
        "{e}"
    );
    let e = refusal(&endpoint.replace("\"service\"", "\"protocol\""));
    assert!(e.contains("endpoint line: unknown field `protocol`"), "{e}");
}
