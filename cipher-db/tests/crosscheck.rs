//! Cross-checks of cipher-db against the real tools and registries: the installed OpenSSL and
//! OpenSSH, and the IANA cipher-suite registry in ../shared/reference. Ground truth comes from
//! them, never from our own tables.
use fipsgate_cipher_db::ssh::{self, SshKind};
use fipsgate_cipher_db::tls;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (install it: .ci/run does): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One line of `openssl ciphers -V`: code, name, and the Kx/Au/Enc/Mac columns.
struct OpensslCipher {
    code: u16,
    name: String,
    kx: String,
    au: String,
    enc: String,
    mac: String,
}

fn openssl_ciphers(args: &[&str]) -> Vec<OpensslCipher> {
    run("openssl", args)
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 || f[1] != "-" {
                return None;
            }
            let code = u16::try_from(tls::parse_code(f[0])?).ok()?;
            let col = |prefix: &str| {
                f.iter()
                    .find_map(|x| x.strip_prefix(prefix))
                    .unwrap_or_default()
                    .to_owned()
            };
            Some(OpensslCipher {
                code,
                name: f[2].to_owned(),
                kx: col("Kx="),
                au: col("Au="),
                enc: col("Enc="),
                mac: col("Mac="),
            })
        })
        .collect()
}

/// OpenSSL's Kx= spelling of our key exchange component.
fn openssl_kx(kx: &str) -> &str {
    match kx {
        "ECDHE" => "ECDH",
        "DHE" => "DH",
        "DHE_PSK" => "DHEPSK",
        "ECDHE_PSK" => "ECDHEPSK",
        "RSA_PSK" => "RSAPSK",
        "ANY" => "any",
        other => other,
    }
}

/// OpenSSL's Au= spelling of our authentication component.
fn openssl_au(auth: &str) -> &str {
    match auth {
        "anon" | "NULL" => "None",
        "ANY" => "any",
        other => other,
    }
}

/// OpenSSL's Enc= spelling of our cipher components.
fn openssl_enc(s: &tls::CipherSuite) -> String {
    let fam = match (s.enc, s.mode) {
        ("NULL", _) => return "None".to_owned(),
        ("AES", "GCM") => "AESGCM",
        ("AES", "CCM") => "AESCCM",
        ("AES", "CCM_8") => "AESCCM8",
        ("ARIA", "GCM") => "ARIAGCM",
        ("CAMELLIA", "GCM") => "CamelliaGCM",
        ("CAMELLIA", _) => "Camellia",
        ("CHACHA20", _) => "CHACHA20/POLY1305",
        ("3DES", _) => "3DES",
        (enc, _) => enc,
    };
    format!("{fam}({})", s.bits)
}

#[test]
fn every_openssl_suite_has_our_code_name_and_components() {
    let mut seen = 0;
    let mut lists = openssl_ciphers(&["ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"]);
    lists.extend(openssl_ciphers(&["ciphers", "-V", "-s", "-tls1_3"]));
    assert!(
        lists.len() > 100,
        "openssl printed only {} suites",
        lists.len()
    );
    for o in &lists {
        let ours = tls::suite_by_code(o.code)
            .unwrap_or_else(|| panic!("0x{:04X} {} is not in cipher-db", o.code, o.name));
        assert_eq!(ours.openssl, o.name, "OpenSSL name of 0x{:04X}", o.code);
        assert_eq!(openssl_kx(ours.kx), o.kx, "Kx of {}", o.name);
        assert_eq!(openssl_au(ours.auth), o.au, "Au of {}", o.name);
        assert_eq!(
            openssl_enc(ours).to_ascii_lowercase(),
            o.enc.to_ascii_lowercase(),
            "Enc of {}",
            o.name
        );
        assert_eq!(ours.mac, o.mac, "Mac of {}", o.name);
        seen += 1;
    }
    assert!(seen > 100);
}

fn iana_csv() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/iana-tls-cipher-suites.csv");
    assert!(
        p.exists(),
        "{} is missing: the tests need ../shared beside the checkout",
        p.display()
    );
    p
}

#[test]
fn every_iana_suite_is_known_with_its_iana_name_and_nothing_else_claims_iana() {
    let text = std::fs::read_to_string(iana_csv()).unwrap_or_default();
    let mut registered = BTreeSet::new();
    for line in text.lines().skip(1) {
        // Rows look like: "0xC0,0x2F",TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,Y,Y,[RFC5289]
        let Some(rest) = line.strip_prefix('"') else {
            continue;
        };
        let Some((code, rest)) = rest.split_once("\",") else {
            continue;
        };
        let name = rest.split(',').next().unwrap_or_default();
        if !name.starts_with("TLS_") {
            continue;
        }
        let Some(code) = tls::parse_code(code).and_then(|c| u16::try_from(c).ok()) else {
            continue;
        };
        if tls::SIGNALLING_SUITES
            .iter()
            .any(|(c, n)| *c == code && *n == name)
        {
            continue;
        }
        let ours = tls::suite_by_code(code)
            .unwrap_or_else(|| panic!("IANA 0x{code:04X} {name} is not in cipher-db"));
        assert_eq!(ours.iana, name, "IANA name of 0x{code:04X}");
        assert!(ours.iana_registered, "0x{code:04X} is registered");
        registered.insert(code);
    }
    assert_eq!(
        registered.len(),
        350,
        "the 2023 registry has 352 named rows, 2 of them signalling values"
    );
    for s in tls::cipher_suites().iter().filter(|s| s.iana_registered) {
        assert!(
            registered.contains(&s.code),
            "{} claims an IANA registration it does not have",
            s.iana
        );
    }
}

#[test]
fn every_openssh_name_is_known() {
    for (query, kind) in [
        ("kex", SshKind::Kex),
        ("key", SshKind::HostKey),
        ("key-sig", SshKind::HostKey),
        ("sig", SshKind::HostKey),
        ("cipher", SshKind::Cipher),
        ("mac", SshKind::Mac),
        ("compression", SshKind::Compression),
    ] {
        let names = run("ssh", &["-Q", query]);
        assert!(!names.trim().is_empty(), "ssh -Q {query} printed nothing");
        for name in names.lines().map(str::trim).filter(|n| !n.is_empty()) {
            assert!(
                ssh::find(kind, name).is_some(),
                "ssh -Q {query}: {name} is not in cipher-db as {kind:?}"
            );
        }
    }
}

#[test]
fn every_named_curve_group_is_a_curve_openssl_knows() {
    let curves = run("openssl", &["ecparam", "-list_curves"]);
    let known: BTreeSet<&str> = curves
        .lines()
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    let mut checked = 0;
    for g in tls::named_groups().iter().filter(|g| {
        matches!(
            g.family,
            "ec-prime" | "ec-koblitz" | "ec-binary" | "brainpool"
        )
    }) {
        if g.name.ends_with("tls13") {
            continue;
        }
        let found = known.contains(g.name) || g.aliases.iter().any(|a| known.contains(a));
        assert!(
            found,
            "group {} is not a curve `openssl ecparam -list_curves` knows",
            g.name
        );
        checked += 1;
    }
    assert_eq!(
        checked, 28,
        "14 binary, 11 prime and Koblitz, 3 Brainpool curves"
    );
}
