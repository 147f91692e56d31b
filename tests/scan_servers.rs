//! `fipsgate scan` against other real servers: gnutls-serv (priority strings), nginx
//! (ssl_ciphers, ssl_prefer_server_ciphers), vsftpd (explicit FTPS, AUTH TLS) and dovecot
//! (IMAP and POP3 STARTTLS); IPv6, SNI, and a name that resolves to two addresses.
mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;
use support::legacy::{self, scratch};
use support::*;

/// Ground truth from GnuTLS itself: the suites a priority string enables, in its order.
fn gnutls_codes(priority: &str) -> Vec<String> {
    let out = Command::new("gnutls-cli")
        .args(["--priority", priority, "--list"])
        .output()
        .unwrap_or_else(|e| panic!("gnutls-cli: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("TLS_"))
        .filter_map(|l| {
            let hex: Vec<String> = l
                .split('\t')
                .nth(1)?
                .split(',')
                .map(|b| b.trim().trim_start_matches("0x").to_uppercase())
                .collect();
            Some(format!("0x{}", hex.concat()))
        })
        .collect()
}

/// `gnutls-serv` with the RSA certificate and this priority string.
fn gnutls_rsa_server(priority: &str) -> Server {
    let m = material();
    start(
        "gnutls-serv",
        &[
            "--port",
            "{port}",
            "--x509certfile",
            &m.path("rsa.crt"),
            "--x509keyfile",
            &m.path("rsa.key"),
            "--priority",
            priority,
            "-q",
        ],
    )
}

#[test]
fn gnutls_priority_string_in_server_order() {
    let priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-CBC:-KX-ALL:+ECDHE-RSA:+RSA:-MAC-ALL:+AEAD:+SHA1:%SERVER_PRECEDENCE";
    let s = gnutls_rsa_server(priority);
    let (lines, _) = scan(&[&s.addr()]);
    let e = &lines[0];
    assert_eq!(versions(e), ["tls1.2"]);
    assert_eq!(suites(e, "tls1.2"), gnutls_codes(priority));
    assert_eq!(
        e["tls"]["versions"][0]["server_preference"],
        Value::Bool(true)
    );
    assert_eq!(verdict(e, "fips-140-3"), "fips-capable");
}

#[test]
fn tls13_with_tls12_without_extended_master_secret_is_only_fips_capable() {
    // Issue #17: TLS 1.3 is approved, but a client that speaks only TLS 1.2 gets a handshake
    // without EMS, whose KDF is not approved (IG D.Q): capable, not fips-only.
    let priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:-KX-ALL:+ECDHE-RSA:-GROUP-ALL:+GROUP-SECP256R1:+GROUP-SECP384R1:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-SHA256:%NO_SESSION_HASH";
    let s = gnutls_rsa_server(priority);
    let (lines, _) = scan(&[&s.addr()]);
    let e = &lines[0];
    assert_eq!(versions(e), ["tls1.2", "tls1.3"]);
    assert_eq!(
        e["tls"]["features"]["extended_master_secret"],
        Value::Bool(false)
    );
    assert_eq!(verdict(e, "fips-140-3"), "fips-capable");
    // Every algorithm is approved: the missing EMS alone keeps it from fips-only.
    let not_allowed: Vec<&str> = e["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["policy"] == "fips-140-3" && f["kind"].is_string())
        .filter(|f| f["verdict"] != "approved" && f["verdict"] != "deprecated")
        .filter_map(|f| f["item"].as_str())
        .collect();
    assert!(not_allowed.is_empty(), "{not_allowed:?}");
    let ems = e["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["policy"] == "fips-140-3" && f["item"] == "tls-extended-master-secret");
    assert_eq!(ems.map(|f| &f["source"]), Some(&Value::from("IG-D.Q")));
}

#[test]
fn tls12_without_extended_master_secret_is_not_fips_capable_under_140_3() {
    // GnuTLS can switch off EMS (%NO_SESSION_HASH) and encrypt-then-MAC (%NO_ETM).
    let priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-128-CBC:-KX-ALL:+ECDHE-RSA:-GROUP-ALL:+GROUP-SECP256R1:%NO_SESSION_HASH:%NO_ETM";
    let s = gnutls_rsa_server(priority);
    let (lines, _) = scan(&["--policy", "fips-140-3,fips-140-2", &s.addr()]);
    let e = &lines[0];
    assert_eq!(
        e["tls"]["features"]["extended_master_secret"],
        Value::Bool(false)
    );
    assert_eq!(e["tls"]["features"]["encrypt_then_mac"], Value::Bool(false));
    assert_eq!(
        verdict(e, "fips-140-3"),
        "not-fips-capable",
        "IG D.Q: the TLS 1.2 KDF needs EMS"
    );
    // GnuTLS still signs with rsa_pkcs1_sha1 when a client offers it: disallowed in both views.
    assert_eq!(verdict(e, "fips-140-2"), "fips-capable");
    let items: Vec<&str> = e["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["policy"] == "fips-140-3")
        .filter_map(|f| f["item"].as_str())
        .collect();
    assert!(
        items.contains(&"tls-extended-master-secret")
            && items.contains(&"tls-encrypt-then-mac")
            && items.contains(&"rsa_pkcs1_sha1"),
        "{items:?}"
    );
}

#[test]
fn a_name_with_two_addresses_is_two_endpoints() {
    // gnutls-serv listens on both 0.0.0.0 and [::]; --resolve gives the name two addresses
    // (as a name with A and AAAA records has), without touching the machine's resolver.
    let m = material();
    let s = start(
        "gnutls-serv",
        &[
            "--port",
            "{port}",
            "--x509certfile",
            &m.path("ec.crt"),
            "--x509keyfile",
            &m.path("ec.key"),
            "-q",
        ],
    );
    let target = format!("fips.test:{}", s.port);
    let (lines, _) = scan(&[
        "--resolve",
        "fips.test:127.0.0.1",
        "--resolve",
        "fips.test:::1",
        &target,
    ]);
    let ips: Vec<String> = lines
        .iter()
        .filter_map(|e| e["target"]["ip"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ips, ["127.0.0.1", "::1"], "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|e| e["status"] == "ok" && e["target"]["host"] == "fips.test"),
        "{lines:?}"
    );
    let out = fipsgate(&["scan", "--resolve", "fips.test", &target]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a --resolve without an address is a usage error"
    );
}

#[test]
fn ipv6_literal_and_sni() {
    let m = material();
    let port = free_port();
    let accept = format!("[::1]:{port}");
    let _s = start_on(
        "openssl",
        &[
            "s_server",
            "-accept",
            &accept,
            "-quiet",
            "-cert",
            &m.path("rsa.crt"),
            "-key",
            &m.path("rsa.key"),
            "-servername",
            "fips.example",
            "-cert2",
            &m.path("ec.crt"),
            "-key2",
            &m.path("ec.key"),
            "-tls1_2",
        ],
        port,
    );
    let target = format!("[::1]:{port}");
    let (lines, _) = scan(&["--sni", "fips.example", &target]);
    assert_eq!(lines[0]["target"]["ip"], "::1");
    assert_eq!(
        lines[0]["tls"]["certificates"][0]["chain"][0]["sha256"].as_str(),
        Some(fingerprint(&m.path("ec.crt")).as_str()),
        "SNI picks the second certificate"
    );
    let (lines, _) = scan(&[&target]);
    assert_eq!(
        lines[0]["tls"]["certificates"][0]["chain"][0]["sha256"].as_str(),
        Some(fingerprint(&m.path("rsa.crt")).as_str()),
        "no SNI for IP literals"
    );
}

#[test]
fn nginx_ssl_ciphers_with_server_preference() {
    let m = material();
    let ciphers = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA256:AES128-GCM-SHA256";
    let s = nginx(&format!(
        "ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.2;\n    ssl_ciphers {ciphers};\n    ssl_prefer_server_ciphers on;\n    ssl_ecdh_curve secp384r1:prime256v1;",
        m.path("rsa.crt"),
        m.path("rsa.key")
    ));
    let (lines, _) = scan(&[&s.addr()]);
    let e = &lines[0];
    assert_eq!(
        suites(e, "tls1.2"),
        openssl_codes(false, &["-tls1_2", ciphers])
    );
    assert_eq!(
        e["tls"]["versions"][0]["server_preference"],
        Value::Bool(true)
    );
    let groups: Vec<&str> = e["tls"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(groups, ["secp384r1", "secp256r1"]);
    assert_eq!(verdict(e, "fips-140-3"), "fips-capable");
}

#[test]
fn vsftpd_explicit_ftps() {
    let m = material();
    let ciphers = "ECDHE-RSA-AES256-GCM-SHA384:AES256-SHA";
    let tls = format!(
        "ssl_enable=YES\nrsa_cert_file={}\nrsa_private_key_file={}\nssl_ciphers={ciphers}\nssl_tlsv1=NO\nssl_sslv3=NO\n",
        m.path("rsa.crt"),
        m.path("rsa.key"),
    );
    let (s, _) = legacy::vsftpd(Some(&tls));
    let (lines, _) = scan(&[
        "--starttls",
        "ftp",
        "--policy",
        "fips-140-3,axway-securetransport",
        &s.addr(),
    ]);
    let e = &lines[0];
    assert_eq!(e["service"], "ftp+starttls");
    assert_eq!(e["status"], "ok", "{e}");
    let got: BTreeSet<String> = suites(e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = openssl_codes(false, &["-tls1_2", ciphers])
        .into_iter()
        .collect();
    assert_eq!(got, want);
    assert_eq!(e["negotiations"][0]["policy"], "axway-securetransport");
    // Without --starttls, a TLS hello to an FTP port reads the FTP banner: not TLS.
    let (lines, _) = scan(&["--starttls", "none", &s.addr()]);
    assert_eq!(lines[0]["error"]["kind"], "not_tls");
}

#[test]
fn dovecot_imap_and_pop3_starttls() {
    let m = material();
    let tls = format!(
        "ssl = yes\nssl_cert = <{}\nssl_key = <{}\nssl_min_protocol = TLSv1.2\nssl_cipher_list = ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384\nssl_prefer_server_ciphers = yes\n",
        m.path("rsa.crt"),
        m.path("rsa.key"),
    );
    let (_s, imap, pop3) = legacy::dovecot(Some(&tls));
    for (proto, port) in [("imap", imap), ("pop3", pop3)] {
        let (lines, _) = scan(&["--starttls", proto, &format!("127.0.0.1:{port}")]);
        let e = &lines[0];
        assert_eq!(e["service"], format!("{proto}+starttls"));
        assert_eq!(suites(e, "tls1.2"), ["0xC02F", "0xC030"], "{proto}: {e}");
        assert_eq!(
            e["tls"]["versions"][0]["server_preference"],
            Value::Bool(true)
        );
    }
    let (lines, _) = scan(&["--starttls", "imap", &format!("127.0.0.1:{pop3}")]);
    assert_eq!(
        lines[0]["error"]["kind"], "starttls",
        "IMAP dialogue on a POP3 port"
    );
}

#[test]
fn opensmtpd_starttls_with_a_delay_for_its_flood_limit() {
    // OpenSMTPD withholds its banner after about 16 quick connections: --delay paces the scan.
    let m = material();
    let ciphers = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA";
    // smtpd insists on a key file only its owner may read.
    let key = scratch("smtpd-key").join("key.pem");
    let _ = std::fs::copy(m.path("rsa.key"), &key);
    let pki = format!(
        "smtp ciphers \"{ciphers}\"\npki fips cert \"{}\"\npki fips key \"{}\"\n",
        m.path("rsa.crt"),
        key.display(),
    );
    let s = legacy::smtpd(Some((&pki, " tls pki fips")));
    let port = s.port;
    let (lines, _) = scan(&[
        "--starttls",
        "smtp",
        "--delay",
        "250",
        &format!("127.0.0.1:{port}"),
    ]);
    let e = &lines[0];
    assert_eq!(e["service"], "smtp+starttls");
    assert_eq!(e["tls"]["notes"], serde_json::json!([]), "{e}");
    let got: BTreeSet<String> = suites(e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = openssl_codes(false, &["-tls1_2", ciphers])
        .into_iter()
        .collect();
    assert_eq!(got, want);
    assert_eq!(verdict(e, "fips-140-3"), "fips-capable");
}

#[test]
fn postgres_sslrequest() {
    // PostgreSQL refuses to run as root: initdb and the server run as the postgres user.
    let ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";
    let settings = [
        "ssl=on".to_owned(),
        "ssl_cert_file={dir}/rsa.crt".to_owned(),
        "ssl_key_file={dir}/rsa.key".to_owned(),
        format!("ssl_ciphers={ciphers}"),
        "ssl_min_protocol_version=TLSv1.2".to_owned(),
        "ssl_max_protocol_version=TLSv1.2".to_owned(),
    ];
    let s = legacy::postgres(&settings);
    let port = s.port;
    let (lines, _) = scan(&["--starttls", "postgres", &format!("127.0.0.1:{port}")]);
    let e = &lines[0];
    assert_eq!(e["service"], "postgres+starttls");
    assert_eq!(versions(e), ["tls1.2"], "{e}");
    let got: BTreeSet<String> = suites(e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = openssl_codes(false, &["-tls1_2", ciphers])
        .into_iter()
        .collect();
    assert_eq!(got, want);
}

#[test]
fn slapd_ldap_starttls() {
    // Debian's slapd uses GnuTLS: its cipher setting is a GnuTLS priority string.
    let m = material();
    let priority =
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:-KX-ALL:+ECDHE-RSA";
    let tls = format!(
        "TLSCertificateFile {}\nTLSCertificateKeyFile {}\nTLSCipherSuite {priority}\n",
        m.path("rsa.crt"),
        m.path("rsa.key"),
    );
    let s = legacy::slapd(&tls);
    let port = s.port;
    let (lines, _) = scan(&["--starttls", "ldap", &format!("127.0.0.1:{port}")]);
    let e = &lines[0];
    assert_eq!(e["service"], "ldap+starttls");
    let got: BTreeSet<String> = suites(e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = gnutls_codes(priority).into_iter().collect();
    assert_eq!(got, want, "{e}");
}

#[test]
fn prosody_xmpp_starttls() {
    let m = material();
    let dir = scratch("prosody");
    let port = free_port();
    let ciphers = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256";
    let d = dir.display();
    let conf = format!(
        "run_as_root = true\npidfile = \"{d}/prosody.pid\"\ndata_path = \"{d}\"\ndaemonize = false\nlog = {{ {{ levels = {{ min = \"error\" }}, to = \"console\" }} }}\ninterfaces = {{ \"127.0.0.1\" }}\nc2s_ports = {{ {port} }}\ns2s_ports = {{ }}\nc2s_direct_tls_ports = {{ }}\nmodules_enabled = {{ \"tls\", \"saslauth\", \"disco\" }}\nmodules_disabled = {{ \"s2s\", \"http\", \"posix\" }}\nssl = {{ certificate = \"{crt}\", key = \"{key}\", ciphers = \"{ciphers}\", protocol = \"tlsv1_2\" }}\nVirtualHost \"localhost\"\n",
        crt = m.path("rsa.crt"),
        key = m.path("rsa.key"),
    );
    let conf_path = dir.join("prosody.cfg.lua");
    let _ = std::fs::write(&conf_path, conf);
    let _s = start_on(
        "prosody",
        &["--config", &conf_path.display().to_string()],
        port,
    );
    let (lines, _) = scan(&[
        "--starttls",
        "xmpp",
        "--sni",
        "localhost",
        &format!("127.0.0.1:{port}"),
    ]);
    let e = &lines[0];
    assert_eq!(e["service"], "xmpp+starttls");
    let got: BTreeSet<String> = suites(e, "tls1.2").into_iter().collect();
    let want: BTreeSet<String> = openssl_codes(false, &["-tls1_2", ciphers])
        .into_iter()
        .collect();
    assert_eq!(got, want, "{e}");
}
