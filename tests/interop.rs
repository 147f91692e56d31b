//! The interop matrix: `fipsgate scan` against independent TLS implementations on loopback,
//! each compared with what the server's own configuration says it accepts (never with
//! fipsgate's output). docs/interop.md has the table and every difference found.
mod support;

use fipsgate_scanner::wire::hello_rules::HelloView;
use serde_json::Value;
use std::collections::BTreeSet;
use support::*;

/// The versions a ground-truth object names (its `versions` keys), oldest first.
fn truth_versions(truth: &Value) -> Vec<String> {
    let mut versions: Vec<String> = truth["versions"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(v, _)| v.clone())
        .collect();
    versions.sort();
    versions
}

/// Every certificate chain the scan read starts with the test certificate (rsa.crt), which
/// every TLS peer here serves.
fn serves_the_test_certificate(e: &Value) {
    let want = fingerprint(&material().path("rsa.crt"));
    let leaves: Vec<&str> = e["tls"]["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["chain"][0]["sha256"].as_str())
        .collect();
    assert!(!leaves.is_empty(), "no certificate read: {e}");
    assert!(
        leaves.iter().all(|l| *l == want),
        "{leaves:?} against {want}"
    );
}

/// The endpoint line of a scan of one port on 127.0.0.1 (a relay's).
fn scan_port(port: u16) -> Value {
    let (mut lines, _) = scan(&[&format!("127.0.0.1:{port}")]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines.remove(0)
}

/// The SHA-256 fingerprints of the host keys an SSH scan proved, in order.
fn host_key_fingerprints(ssh: &Value) -> Vec<&str> {
    ssh["host_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["fingerprint_sha256"].as_str())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// tlslite-ng, a strict pure-Python implementation: it refuses a TLS 1.3-only hello that lists
/// groups RFC 8446 made obsolete, which once hid its TLS 1.3 from the scanner.
#[test]
fn tlslite_ng_server_is_read_exactly() {
    // Ground truth: the suites and groups tlslite-ng's server picks from (its
    // _serverGetClientHello with an RSA certificate), and the TLS 1.2 signature schemes it
    // signs with, in the order it prefers them (_sigHashesToList, which
    // _pickServerKeyExchangeSig walks), from its own default settings.
    let m = material();
    let truth: Value = serde_json::from_str(&peers::python_output(
        &r#"
import json
from tlslite import HandshakeSettings, X509CertChain
from tlslite.constants import CipherSuite
from tlslite.tlsconnection import TLSConnection
s = HandshakeSettings().validate()
chain = X509CertChain()
chain.parsePemList(open("CERT").read())
schemes = TLSConnection._sigHashesToList(s, certList=chain, version=(3, 3))
names = {(3, 1): "tls1.0", (3, 2): "tls1.1", (3, 3): "tls1.2", (3, 4): "tls1.3"}
def suites(v):
    if v == (3, 4):
        found = CipherSuite.getTLS13Suites(s, v)
    else:
        found = (CipherSuite.getEcdheCertSuites(s, v) + CipherSuite.getDheCertSuites(s, v)
                 + CipherSuite.getCertSuites(s, v))
    return ["0x%04X" % c for c in found]
groups = [g for g in s.eccCurves + s.dhGroups
          if not (g.startswith("brainpool") and not g.endswith("tls13"))]
print(json.dumps({
    "versions": {names[v]: suites(v) for v in s.versions},
    "tls13_groups": groups,
    "tls12_signature_schemes": ["0x%04X" % (h << 8 | a) for h, a in schemes],
}))
"#
        .replace("CERT", &m.path("rsa.crt")),
    ))
    .unwrap_or_else(|e| panic!("tlslite-ng ground truth: {e}"));
    let python = peers::python();
    let tls_py = peers::venv().join("bin/tls.py");
    let s = start(
        &python.display().to_string(),
        &[
            &tls_py.display().to_string(),
            "server",
            "-c",
            &m.path("rsa.crt"),
            "-k",
            &m.path("rsa.key"),
            "127.0.0.1:{port}",
        ],
    );
    let (lines, _) = scan(&[&s.addr()]);
    let e = &lines[0];
    let want = truth_versions(&truth);
    assert_eq!(versions(e), want, "{e}");
    serves_the_test_certificate(e);
    for version in &want {
        assert_eq!(
            suites(e, version),
            strings(&truth["versions"][version]),
            "{version}, in the server's order"
        );
    }
    let groups: BTreeSet<String> = strings(&truth["tls13_groups"]).into_iter().collect();
    let seen: BTreeSet<String> = names(e, "groups").into_iter().collect();
    assert_eq!(seen, groups);
    assert_eq!(
        names_codes(e, "signature_schemes"),
        strings(&truth["tls12_signature_schemes"]),
        "TLS 1.2 signature schemes, in the server's order"
    );
    let findings = e["findings"].to_string();
    assert!(!findings.contains("tls-offers-tls13"), "{findings}");
    assert!(
        e["tls"]["notes"].as_array().is_none_or(|n| n.is_empty()),
        "{e}"
    );
}

/// A TLS 1.3 hello of the scanner's own: it offers x448, which rustls never does.
fn scanner_tls13_hello(record: &[u8]) -> bool {
    use fipsgate_scanner::wire::client_hello::ext;
    HelloView::parse_record(record).is_ok_and(|h| {
        h.offered().contains(&0x0304) && h.list(ext::SUPPORTED_GROUPS).contains(&0x001E)
    })
}

/// Any hello offering TLS 1.3.
fn any_tls13_hello(record: &[u8]) -> bool {
    HelloView::parse_record(record).is_ok_and(|h| h.offered().contains(&0x0304))
}

/// The undetermined items of an endpoint, by name.
fn undetermined(e: &Value) -> Vec<(String, String)> {
    e["tls"]["undetermined"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            assert_eq!(u["status"], "undetermined", "{u}");
            (
                u["item"].as_str().unwrap_or_default().to_owned(),
                u["note"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A server (behind a middlebox) that drops the scanner's TLS 1.3 hellos: the absence of TLS 1.3
/// is checked with a real handshake, and what cannot be decided is reported as undetermined,
/// with no "shall support TLS 1.3" finding resting on it.
#[test]
fn a_tls13_the_scanner_cannot_enumerate_is_undetermined_not_absent() {
    let s = openssl_rsa_server(&[]);
    let no_tls13_finding = |e: &Value| !e["findings"].to_string().contains("tls-offers-tls13");

    let relay = filtering_relay(s.port, scanner_tls13_hello);
    let e = &scan_port(relay);
    assert_eq!(versions(e), ["tls1.2"], "{e}");
    let items = undetermined(e);
    assert_eq!(items.len(), 1, "{e}");
    assert_eq!(items[0].0, "tls1.3");
    assert!(
        items[0].1.contains("a real TLS 1.3 handshake completed"),
        "{items:?}"
    );
    assert!(no_tls13_finding(e), "{e}");

    // The real handshake is dropped too: still undetermined, with what happened.
    let relay = filtering_relay(s.port, any_tls13_hello);
    let (lines, _) = scan(&[&format!("127.0.0.1:{relay}")]);
    let items = undetermined(&lines[0]);
    assert_eq!(items.len(), 1, "{}", lines[0]);
    assert!(
        items[0].1.contains("without the server refusing TLS 1.3"),
        "{items:?}"
    );
    assert!(no_tls13_finding(&lines[0]));

    // A server without TLS 1.3 says so itself: the absence is certain and the finding stands.
    let old = openssl_rsa_server(&["-no_tls1_3"]);
    let (lines, _) = scan(&[&old.addr()]);
    assert!(undetermined(&lines[0]).is_empty(), "{}", lines[0]);
    assert!(!no_tls13_finding(&lines[0]));
}

/// Go crypto/tls: ground truth is what crypto/tls itself says the configuration accepts. Go
/// picks suites and groups in its own order (by AES hardware support, not the configured
/// order), so sets are compared; docs/interop.md says so.
#[test]
fn go_crypto_tls_servers_are_read_exactly() {
    let m = material();
    let (cert, key) = (m.path("rsa.crt"), m.path("rsa.key"));
    for flags in [
        peers::GO_TLS12_13.to_vec(),
        vec![
            "-min",
            "tls1.0",
            "-max",
            "tls1.2",
            "-suites",
            "C013,C014,002F,C02F",
            "-curves",
            "secp384r1",
        ],
        vec![
            "-min",
            "tls1.3",
            "-max",
            "tls1.3",
            "-curves",
            "secp256r1,secp384r1,secp521r1,x25519",
            "-sigalgs",
            "0805,0804,0401",
        ],
    ] {
        let mut all = flags.clone();
        all.extend(["-cert", &cert, "-key", &key]);
        let (server, truth) = peers::go_tls(&all);
        let (lines, _) = scan(&[&server.addr()]);
        let e = &lines[0];
        let want = truth_versions(&truth);
        assert_eq!(versions(e), want, "{flags:?}: {e}");
        serves_the_test_certificate(e);
        for version in &want {
            let seen: BTreeSet<String> = suites(e, version).into_iter().collect();
            let truth: BTreeSet<String> =
                strings(&truth["versions"][version]).into_iter().collect();
            assert_eq!(seen, truth, "{flags:?} {version}");
        }
        let seen: BTreeSet<String> = names(e, "groups").into_iter().collect();
        let groups: BTreeSet<String> = strings(&truth["groups"]).into_iter().collect();
        assert_eq!(seen, groups, "{flags:?}");
        // The key's schemes, as configured; in TLS 1.3, without rsa_pkcs1 (RFC 8446 4.2.3).
        // Go picks by the client's order, so sets are compared.
        let tls12 = want.contains(&"tls1.2".to_owned());
        let configured: BTreeSet<String> = strings(&truth["signature_schemes"])
            .into_iter()
            .filter(|s| tls12 || !s.starts_with("0x04") && !s.starts_with("0x05"))
            .collect();
        if !configured.is_empty() {
            let seen: BTreeSet<String> = names_codes(e, "signature_schemes").into_iter().collect();
            assert_eq!(seen, configured, "{flags:?} signature schemes");
        }
        assert!(undetermined(e).is_empty(), "{flags:?}: {e}");
    }
}

/// Scans an SSH peer and compares every KEXINIT list in order (the protocol markers apart) and
/// the host key with what its library says.
fn ssh_peer_is_read_exactly(name: &str, server: &Server, truth: &Value, fingerprint: &str) {
    let port = server.port.to_string();
    let (lines, _) = scan(&["--ssh-ports", &port, &server.addr()]);
    let e = &lines[0];
    assert_eq!(e["service"], "ssh", "{name}: {e}");
    let lists = &truth["lists"];
    let markers: Vec<String> = strings(&lists["kex"])
        .into_iter()
        .filter(|k| k.starts_with("kex-strict-") || k.starts_with("ext-info-"))
        .collect();
    let kex: Vec<String> = strings(&lists["kex"])
        .into_iter()
        .filter(|k| !markers.contains(k))
        .collect();
    let ssh = &e["ssh"];
    assert_eq!(strings(&ssh["kex"]), kex, "{name}");
    assert_eq!(strings(&ssh["kex_markers"]), markers, "{name}");
    for (ours, theirs) in [
        ("host_key_algorithms", "host_key"),
        ("ciphers_client_to_server", "ciphers_c2s"),
        ("ciphers_server_to_client", "ciphers_s2c"),
        ("macs_client_to_server", "macs_c2s"),
        ("macs_server_to_client", "macs_s2c"),
        ("compression_client_to_server", "compression_c2s"),
        ("compression_server_to_client", "compression_s2c"),
    ] {
        assert_eq!(
            strings(&ssh[ours]),
            strings(&lists[theirs]),
            "{name} {ours}"
        );
    }
    assert_eq!(host_key_fingerprints(ssh), [fingerprint], "{name}");
    // Proven by a key exchange the peer completed: group exchange where it offers one.
    assert_eq!(
        ssh["host_keys"][0]["signature_verified"],
        Value::Bool(true),
        "{name}"
    );
}

/// A host key for an SSH peer, made in a scratch directory: its path and fingerprint.
fn peer_host_key(name: &str, args: &[&str]) -> (String, String) {
    let dir = material().dir.join(format!("{name}-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let key = keygen(&dir, "host", args);
    let fingerprint = fingerprint_of(&format!("{key}.pub"));
    (key, fingerprint)
}

/// Scans a Python SSH peer of tests/peers.
fn python_ssh_peer_is_read_exactly(script: &str) {
    let (key, fingerprint) = peer_host_key(script, &["-t", "rsa", "-b", "2048", "-m", "PEM"]);
    let (server, truth) = peers::python_ssh(script, &key);
    assert_eq!(truth["fingerprint"], fingerprint.as_str(), "{script}");
    ssh_peer_is_read_exactly(script, &server, &truth, &fingerprint);
}

/// russh, against the lists its `write_kex` builds from its defaults for an Ed25519 key.
#[test]
fn russh_server_is_read_exactly() {
    let (key, fingerprint) = peer_host_key("russh", &["-t", "ed25519"]);
    let (server, truth) = peers::russh(&key);
    ssh_peer_is_read_exactly("russh", &server, &truth, &fingerprint);
}

/// paramiko, against the KEXINIT paramiko's own code builds for its configuration.
#[test]
fn paramiko_server_is_read_exactly() {
    python_ssh_peer_is_read_exactly("paramiko_server.py");
}

/// AsyncSSH, against the KEXINIT its own connection builds (captured from itself).
#[test]
fn asyncssh_server_is_read_exactly() {
    python_ssh_peer_is_read_exactly("asyncssh_server.py");
}

/// A rustls server in this test process, with these suites, groups and versions, enforcing
/// its own suite order. Returns its port; its thread ends with the test process.
fn rustls_server(
    suites: &[rustls::SupportedCipherSuite],
    groups: &[&'static dyn rustls::crypto::SupportedKxGroup],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::Write;
    let m = material();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(m.path("rsa.crt"))
        .unwrap_or_else(|e| panic!("rsa.crt: {e}"))
        .filter_map(Result::ok)
        .collect();
    let key =
        PrivateKeyDer::from_pem_file(m.path("rsa.key")).unwrap_or_else(|e| panic!("rsa.key: {e}"));
    let provider = rustls::crypto::CryptoProvider {
        cipher_suites: suites.to_vec(),
        kx_groups: groups.to_vec(),
        ..rustls::crypto::aws_lc_rs::default_provider()
    };
    let mut config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(provider))
        .with_protocol_versions(versions)
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .unwrap_or_else(|e| panic!("rustls server config: {e}"));
    config.ignore_client_order = true;
    let config = std::sync::Arc::new(config);
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("rustls server: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                if let Ok(conn) = rustls::ServerConnection::new(config) {
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let _ = tls.write_all(b"hello from rustls\n");
                }
            });
        }
    });
    port
}

/// The signature schemes a rustls server signs TLS 1.2 key exchanges with for rsa.key, in its
/// order: rustls's own signing key chooses, offered every scheme rustls knows, until it has none.
fn rustls_rsa_schemes() -> Vec<String> {
    use rustls::pki_types::pem::PemObject;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(material().path("rsa.key"))
        .unwrap_or_else(|e| panic!("rsa.key: {e}"));
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .unwrap_or_else(|e| panic!("rsa.key: {e}"));
    let mut offered: Vec<rustls::SignatureScheme> = (0..=u16::MAX)
        .map(rustls::SignatureScheme::from)
        .filter(|s| !matches!(s, rustls::SignatureScheme::Unknown(_)))
        .collect();
    let mut chosen = Vec::new();
    while let Some(signer) = signing.choose_scheme(&offered) {
        let scheme = signer.scheme();
        offered.retain(|s| *s != scheme);
        chosen.push(format!("0x{:04X}", u16::from(scheme)));
    }
    chosen
}

/// The codes in one of an endpoint's TLS lists, in order.
fn names_codes(endpoint: &Value, field: &str) -> Vec<String> {
    endpoint["tls"][field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["code"].as_str().map(str::to_owned))
        .collect()
}

/// rustls (with every suite and group it has, not the FIPS subset): ground truth is the
/// server's own configuration, in its order, and the schemes its signing key chooses.
#[test]
fn rustls_servers_are_read_exactly() {
    use rustls::crypto::aws_lc_rs::{cipher_suite as cs, kx_group};
    let suite_code = |s: &rustls::SupportedCipherSuite| format!("0x{:04X}", u16::from(s.suite()));
    let both = [
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    let port = rustls_server(
        &both,
        &[kx_group::SECP384R1, kx_group::X25519],
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    );
    let (lines, _) = scan(&[&format!("127.0.0.1:{port}")]);
    let e = &lines[0];
    assert_eq!(versions(e), ["tls1.2", "tls1.3"], "{e}");
    serves_the_test_certificate(e);
    assert_eq!(names_codes(e, "signature_schemes"), rustls_rsa_schemes());
    let in_order = |v: &str| -> Vec<String> {
        both.iter()
            .filter(|s| (s.version() == &rustls::version::TLS13) == (v == "tls1.3"))
            .map(suite_code)
            .collect()
    };
    for v in ["tls1.2", "tls1.3"] {
        assert_eq!(suites(e, v), in_order(v), "{v}, in the server's order");
    }
    let groups: BTreeSet<String> = names(e, "groups").into_iter().collect();
    let want: BTreeSet<String> = ["secp384r1", "x25519"].map(String::from).into();
    assert_eq!(groups, want);

    // TLS 1.3 only, with the post-quantum hybrid first.
    let port = rustls_server(
        &[cs::TLS13_AES_128_GCM_SHA256],
        &[kx_group::X25519MLKEM768, kx_group::SECP256R1],
        &[&rustls::version::TLS13],
    );
    let (lines, _) = scan(&[&format!("127.0.0.1:{port}")]);
    let e = &lines[0];
    assert_eq!(versions(e), ["tls1.3"], "{e}");
    serves_the_test_certificate(e);
    assert_eq!(suites(e, "tls1.3"), ["0x1301"]);
    let groups: BTreeSet<String> = names(e, "groups").into_iter().collect();
    let want: BTreeSet<String> = ["X25519MLKEM768", "secp256r1"].map(String::from).into();
    assert_eq!(groups, want);
    assert!(undetermined(e).is_empty(), "{e}");
    assert_eq!(e["quantum_safe_kex"], serde_json::json!(["X25519MLKEM768"]));

    // Every other ML-KEM group aws-lc-rs serves: the P-256 hybrid and pure ML-KEM-768 and -1024.
    let port = rustls_server(
        &[cs::TLS13_AES_256_GCM_SHA384],
        &[
            kx_group::SECP256R1MLKEM768,
            kx_group::MLKEM1024,
            kx_group::MLKEM768,
            kx_group::SECP384R1,
        ],
        &[&rustls::version::TLS13],
    );
    let (lines, _) = scan(&[&format!("127.0.0.1:{port}")]);
    let e = &lines[0];
    let quantum_safe: BTreeSet<String> = e["quantum_safe_kex"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(String::from))
        .collect();
    let want: BTreeSet<String> = ["SecP256r1MLKEM768", "MLKEM1024", "MLKEM768"]
        .map(String::from)
        .into();
    assert_eq!(quantum_safe, want, "{e}");
    let groups: BTreeSet<String> = names(e, "groups").into_iter().collect();
    assert_eq!(groups, &want | &BTreeSet::from(["secp384r1".to_owned()]));
}

/// Java JSSE (OpenJDK 17): ground truth is the protocols, suites and groups its
/// SSLServerSocket reports in effect, with the server's suite order.
#[test]
fn jsse_servers_are_read_exactly() {
    let m = material();
    let keystore = m.dir.join("server.p12").display().to_string();
    openssl(
        &[
            "pkcs12",
            "-export",
            "-in",
            "rsa.crt",
            "-inkey",
            "rsa.key",
            "-out",
            &keystore,
            "-passout",
            "pass:peer",
            "-name",
            "server",
        ],
        &m.dir,
    );
    for settings in [
        peers::JsseSettings {
            protocols: "TLSv1.3,TLSv1.2",
            suites: "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            groups: "secp384r1,x25519",
            signature_schemes: "rsa_pss_rsae_sha384,rsa_pkcs1_sha256",
        },
        peers::JsseSettings {
            protocols: "TLSv1.3",
            suites: "TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256",
            groups: "ffdhe2048,secp256r1",
            signature_schemes: "rsa_pss_rsae_sha512,rsa_pss_rsae_sha256,rsa_pkcs1_sha384",
        },
    ] {
        let protocols = settings.protocols;
        let (server, truth) = peers::jsse(&keystore, "peer", &settings);
        let (lines, _) = scan(&[&server.addr()]);
        let e = &lines[0];
        let mut want: Vec<String> = strings(&truth["protocols"])
            .iter()
            .map(|p| p.replace("TLSv", "tls"))
            .collect();
        want.sort();
        assert_eq!(versions(e), want, "{protocols}: {e}");
        serves_the_test_certificate(e);
        for version in &want {
            // JSSE's TLS_AES_*/TLS_CHACHA20_* names are the TLS 1.3 suites.
            let tls13 = version == "tls1.3";
            let expected: Vec<String> = strings(&truth["suites"])
                .into_iter()
                .filter(|s| s.contains("_WITH_") != tls13)
                .collect();
            assert_eq!(
                suite_names(e, version),
                expected,
                "{protocols} {version}, in the server's order"
            );
        }
        let seen: BTreeSet<String> = names(e, "groups").into_iter().collect();
        let want: BTreeSet<String> = strings(&truth["groups"]).into_iter().collect();
        assert_eq!(seen, want, "{protocols}");
        // The schemes it was given; in TLS 1.3 without rsa_pkcs1 (RFC 8446 4.2.3). JSSE picks
        // by the client's order, so sets are compared.
        let tls12 = protocols.contains("TLSv1.2");
        let want: BTreeSet<String> = strings(&truth["signature_schemes"])
            .into_iter()
            .filter(|s| tls12 || !s.starts_with("rsa_pkcs1"))
            .collect();
        let seen: BTreeSet<String> = names(e, "signature_schemes").into_iter().collect();
        assert_eq!(seen, want, "{protocols} signature schemes");
    }
}

/// Botan 2 (`botan tls_server` with a policy file): ground truth is the suites `botan
/// tls_ciphers` says the policy enables (those an RSA certificate can serve, in Botan's order),
/// the policy's own key exchange groups, and its signature methods and hashes.
#[test]
fn botan_server_is_read_exactly() {
    let m = material();
    let policy = m.dir.join(format!("botan-{}.policy", free_port()));
    let groups = ["x25519", "secp256r1"];
    let text = format!(
        "allow_tls10 = false\nallow_tls11 = false\nallow_tls12 = true\nallow_dtls10 = false\n\
         allow_dtls12 = false\nciphers = AES-256/GCM ChaCha20Poly1305 AES-128/GCM AES-128\n\
         macs = AEAD SHA-256 SHA-1\nkey_exchange_methods = ECDH DH\n\
         signature_methods = RSA\nsignature_hashes = SHA-384 SHA-256\n\
         key_exchange_groups = {} ffdhe/ietf/2048\nminimum_dh_group_size = 2048\n\
         server_uses_own_ciphersuite_preferences = true\n",
        groups.join(" ")
    );
    let _ = std::fs::write(&policy, text);
    let policy = policy.display().to_string();
    let listed = std::process::Command::new("botan")
        .args([
            "tls_ciphers",
            &format!("--policy={policy}"),
            "--version=tls1.2",
        ])
        .output()
        .unwrap_or_else(|e| panic!("botan (.ci/run installs it): {e}"));
    let expected: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|s| s.contains("_RSA_"))
        .map(|s| format!("TLS_{}", s.trim()))
        .collect();
    assert!(!expected.is_empty(), "botan tls_ciphers listed nothing");
    let s = start(
        "botan",
        &[
            "tls_server",
            &m.path("rsa.crt"),
            &m.path("rsa.key"),
            "--port={port}",
            &format!("--policy={policy}"),
        ],
    );
    let (lines, _) = scan(&[&s.addr()]);
    let e = &lines[0];
    assert_eq!(versions(e), ["tls1.2"], "{e}");
    serves_the_test_certificate(e);
    assert_eq!(suite_names(e, "tls1.2"), expected, "in the server's order");
    assert_eq!(names(e, "groups"), groups, "{e}");
    assert_eq!(e["tls"]["dh_params"][0]["named_group"], "ffdhe2048");
    // The policy's signature methods and hashes: RSA (Botan signs PKCS#1 v1.5 and PSS with it)
    // by SHA-384 and SHA-256.
    let seen: BTreeSet<String> = names(e, "signature_schemes").into_iter().collect();
    let want: BTreeSet<String> = [
        "rsa_pkcs1_sha256",
        "rsa_pkcs1_sha384",
        "rsa_pss_rsae_sha256",
        "rsa_pss_rsae_sha384",
    ]
    .map(String::from)
    .into();
    assert_eq!(seen, want, "{e}");
    assert!(
        undetermined(e).is_empty(),
        "Botan 2 refuses TLS 1.3 itself: {e}"
    );
}

/// tinysshd (under tcpserver): ground truth is what its manual says each flag enables (-s
/// state-of-the-art: ssh-ed25519, curve25519-sha256, chacha20-poly1305; -p post-quantum:
/// sntrup761x25519-sha512) and the host key tinysshd-printkey prints.
#[test]
fn tinysshd_is_read_exactly() {
    let dir = material().dir.join(format!("tinyssh-{}", free_port()));
    let keys = dir.join("keys").display().to_string();
    let _ = std::fs::create_dir_all(&dir);
    let made = std::process::Command::new("tinysshd-makekey")
        .arg(&keys)
        .status();
    assert!(made.is_ok_and(|s| s.success()), "tinysshd-makekey");
    let printed = std::process::Command::new("tinysshd-printkey")
        .arg(&keys)
        .output()
        .unwrap_or_else(|e| panic!("tinysshd-printkey: {e}"));
    let public = dir.join("key.pub");
    let _ = std::fs::write(&public, &printed.stdout);
    let fingerprint = fingerprint_of(&public.display().to_string());
    for (flag, post_quantum) in [("-p", true), ("-P", false)] {
        let s = start(
            "tcpserver",
            &[
                "-q",
                "127.0.0.1",
                "{port}",
                "/usr/sbin/tinysshd",
                flag,
                &keys,
            ],
        );
        let port = s.port.to_string();
        let (lines, _) = scan(&["--ssh-ports", &port, &s.addr()]);
        let ssh = &lines[0]["ssh"];
        assert_eq!(
            strings(&ssh["host_key_algorithms"]),
            ["ssh-ed25519"],
            "{flag}"
        );
        for list in ["ciphers_client_to_server", "ciphers_server_to_client"] {
            assert_eq!(
                strings(&ssh[list]),
                ["chacha20-poly1305@openssh.com"],
                "{flag}"
            );
        }
        let kex = strings(&ssh["kex"]);
        assert!(
            kex.contains(&"curve25519-sha256".to_owned()),
            "{flag}: {kex:?}"
        );
        assert_eq!(
            kex.contains(&"sntrup761x25519-sha512@openssh.com".to_owned()),
            post_quantum,
            "{flag}: {kex:?}"
        );
        assert_eq!(host_key_fingerprints(ssh), [fingerprint.as_str()], "{flag}");
    }
}

/// Whether a hello is a TLS 1.1 ClientHello (client_version 0x0302).
fn tls11_hello(record: &[u8]) -> bool {
    HelloView::parse_record(record).is_ok_and(|h| h.version == 0x0302)
}

/// Whether a hello is a TLS 1.1 ClientHello offering extended_master_secret.
fn tls11_hello_with_ems(record: &[u8]) -> bool {
    HelloView::parse_record(record)
        .is_ok_and(|h| h.version == 0x0302 && h.extensions.iter().any(|(t, _)| *t == 23))
}

/// A version whose hellos meet a reset is tried once more with minimal hellos: answered, it is
/// enumerated that way; still unanswered, it is undetermined, never "not supported".
#[test]
fn a_version_answered_with_resets_is_retried_minimal_then_undetermined() {
    let s = openssl_rsa_server(&[
        "-cipher",
        "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
        "-groups",
        "P-256",
    ]);
    let (lines, _) = scan(&[&s.addr()]);
    assert_eq!(
        versions(&lines[0]),
        ["tls1.0", "tls1.1", "tls1.2", "tls1.3"]
    );
    let direct_tls11 = suites(&lines[0], "tls1.1");

    // A middlebox that resets TLS 1.1 hellos carrying extended_master_secret.
    let relay = filtering_relay(s.port, tls11_hello_with_ems);
    let e = &scan_port(relay);
    assert_eq!(versions(e), ["tls1.0", "tls1.1", "tls1.2", "tls1.3"], "{e}");
    assert_eq!(suites(e, "tls1.1"), direct_tls11);
    assert!(
        e["tls"]["notes"]
            .to_string()
            .contains("only minimal hellos"),
        "{e}"
    );
    assert!(undetermined(e).is_empty(), "{e}");

    // One that resets every TLS 1.1 hello: TLS 1.1 is undetermined, not absent.
    let relay = filtering_relay(s.port, tls11_hello);
    let e = &scan_port(relay);
    assert_eq!(versions(e), ["tls1.0", "tls1.2", "tls1.3"], "{e}");
    let items = undetermined(e);
    assert_eq!(items.len(), 1, "{e}");
    assert_eq!(items[0].0, "tls1.1");
}

/// A TLS 1.3 hello that does not offer x25519.
fn tls13_hello_without_x25519(record: &[u8]) -> bool {
    use fipsgate_scanner::wire::client_hello::ext;
    HelloView::parse_record(record).is_ok_and(|h| {
        h.offered().contains(&0x0304) && !h.list(ext::SUPPORTED_GROUPS).contains(&0x001D)
    })
}

/// Group probes that meet a reset or silence are tried once more, then leave the group list
/// undetermined instead of reading as "not accepted".
#[test]
fn groups_behind_resets_are_undetermined_not_absent() {
    let s = openssl_rsa_server(&[]);
    let (lines, _) = scan(&[&s.addr()]);
    let direct = names(&lines[0], "groups");
    assert!(direct.len() > 1 && direct[0] == "x25519", "{direct:?}");
    assert!(undetermined(&lines[0]).is_empty(), "{}", lines[0]);

    let relay = filtering_relay(s.port, tls13_hello_without_x25519);
    let e = &scan_port(relay);
    assert_eq!(names(e, "groups"), ["x25519"], "{e}");
    let items = undetermined(e);
    assert_eq!(items.len(), 1, "{e}");
    assert_eq!(items[0].0, "tls1.3 groups");
}

/// A TLS 1.2 hello that does not offer both ECDHE-RSA suites of the server below.
fn tls12_hello_without_both_suites(record: &[u8]) -> bool {
    HelloView::parse_record(record).is_ok_and(|h| {
        h.offered() == [0x0303]
            && !(h.cipher_suites.contains(&0xC013) && h.cipher_suites.contains(&0xC02F))
    })
}

/// The same, only when the hello carries session_ticket (the minimal hello does not).
fn tls12_full_hello_without_both_suites(record: &[u8]) -> bool {
    tls12_full_hello(record) && tls12_hello_without_both_suites(record)
}

fn tls12_full_hello(record: &[u8]) -> bool {
    HelloView::parse_record(record).is_ok_and(|h| h.extensions.iter().any(|(t, _)| *t == 35))
}

/// A suite-elimination hello that meets a reset within a version the server answers is tried
/// once more in minimal form: answered, the rest is enumerated that way; unanswered again, the
/// version's suites are undetermined, and the verdict says it rests on what was seen.
#[test]
fn suites_behind_resets_are_retried_minimal_then_undetermined() {
    let s = openssl_rsa_server(&[
        "-tls1_2",
        "-cipher",
        "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256",
        "-groups",
        "P-256",
    ]);
    let (lines, _) = scan(&[&s.addr()]);
    let direct = suites(&lines[0], "tls1.2");
    assert_eq!(direct.len(), 2, "{}", lines[0]);
    assert!(undetermined(&lines[0]).is_empty(), "{}", lines[0]);

    let relay = filtering_relay(s.port, tls12_full_hello_without_both_suites);
    let e = &scan_port(relay);
    assert_eq!(suites(e, "tls1.2"), direct, "{e}");
    assert!(
        e["tls"]["notes"]
            .to_string()
            .contains("answered only minimal hellos"),
        "{e}"
    );
    assert!(undetermined(e).is_empty(), "{e}");

    let relay = filtering_relay(s.port, tls12_hello_without_both_suites);
    let e = &scan_port(relay);
    assert_eq!(suites(e, "tls1.2"), direct[..1], "{e}");
    let items: Vec<String> = undetermined(e).into_iter().map(|(i, _)| i).collect();
    assert!(items.contains(&"tls1.2 suites".to_owned()), "{e}");
    let fips = policy_verdict(e, "fips-140-3").cloned().unwrap_or_default();
    assert!(
        fips["note"].to_string().contains("tls1.2 suites"),
        "the verdict names what it could not decide: {fips}"
    );
}

/// A TLS 1.2 hello offering extended_master_secret (and no TLS 1.3).
fn tls12_hello_with_ems(record: &[u8]) -> bool {
    HelloView::parse_record(record)
        .is_ok_and(|h| h.offered() == [0x0303] && h.extensions.iter().any(|(t, _)| *t == 23))
}

/// TLS 1.2 found only by the minimal retry still has its signature schemes and chains read, as
/// when it is found at once.
#[test]
fn tls12_found_by_the_minimal_retry_is_read_whole() {
    let s = openssl_rsa_server(&[]);
    let e = scan_port(s.port);
    let schemes = names(&e, "signature_schemes");
    assert!(!schemes.is_empty(), "{e}");

    // A middlebox that resets TLS 1.2 hellos carrying extended_master_secret.
    let behind = scan_port(filtering_relay(s.port, tls12_hello_with_ems));
    assert!(versions(&behind).contains(&"tls1.2".to_owned()), "{behind}");
    assert!(
        behind["tls"]["notes"]
            .to_string()
            .contains("only minimal hellos"),
        "{behind}"
    );
    assert_eq!(names(&behind, "signature_schemes"), schemes, "{behind}");
    serves_the_test_certificate(&behind);
}
