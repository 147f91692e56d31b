//! `fipsgate proxy` with its keys in a PKCS#11 token: Debian's SoftHSM2, a token initialised
//! and keys imported by `softhsm2-util`, served to curl and `openssl s_client`; a wrong PIN, a
//! missing object, a key that is not the certificate's, and a token that goes away and comes
//! back.
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::proxy::*;
use support::*;

/// Debian's SoftHSM2 module (package softhsm2).
const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "246810";

/// A SoftHSM2 store of its own: one token, `fipsgate`, holding the keys imported into it.
struct Token {
    dir: PathBuf,
}

impl Token {
    fn new(keys: &[(&str, &str, &str)]) -> Self {
        let dir = material().dir.join(format!("softhsm-{}", free_port()));
        let _ = std::fs::create_dir_all(dir.join("tokens"));
        let _ = std::fs::write(
            dir.join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.join("tokens").display()
            ),
        );
        let _ = std::fs::write(dir.join("pin"), format!("{PIN}\n"));
        let t = Self { dir };
        t.util(&[
            "--init-token",
            "--free",
            "--label",
            "fipsgate",
            "--pin",
            PIN,
            "--so-pin",
            "13579",
        ]);
        for (key, label, id) in keys {
            t.util(&[
                "--import", key, "--token", "fipsgate", "--label", label, "--id", id, "--pin", PIN,
            ]);
        }
        t
    }

    fn conf(&self) -> String {
        self.dir.join("softhsm2.conf").display().to_string()
    }

    fn util(&self, args: &[&str]) {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", self.conf())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("softhsm2-util (.ci/run installs softhsm2): {e}"));
        assert!(
            out.status.success(),
            "softhsm2-util {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".into(), self.conf()),
            ("FIPSGATE_TEST_PIN".into(), PIN.into()),
        ]
    }

    /// The token's directory inside the store, which SoftHSM2 reads at every access.
    fn token_dir(&self) -> PathBuf {
        std::fs::read_dir(self.dir.join("tokens"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .map(|e| e.path())
            .unwrap_or_else(|| panic!("no token in {}", self.dir.display()))
    }

    /// Takes the token out of the store: the running module no longer finds it.
    fn remove(&self) -> PathBuf {
        let from = self.token_dir();
        let to = self.dir.join(from.file_name().unwrap_or_default());
        std::fs::rename(&from, &to).unwrap_or_else(|e| panic!("{e}"));
        to
    }

    /// Puts a removed token back.
    fn insert(&self, removed: &Path) {
        let to = self
            .dir
            .join("tokens")
            .join(removed.file_name().unwrap_or_default());
        std::fs::rename(removed, to).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// A listener whose certificates' keys are token objects, given as `(chain, key lines)`.
fn token_config(port: u16, admin: u16, backend: &str, certs: &[(&str, String)]) -> String {
    let mut text = format!(
        "[proxy]\nadmin = \"127.0.0.1:{admin}\"\n\n[[listener]]\nname = \"web\"\n\
         listen = [\"127.0.0.1:{port}\"]\nbackend = \"{backend}\"\n"
    );
    for (chain, key) in certs {
        text.push_str(&format!(
            "[[listener.certificate]]\nchain = \"{chain}\"\n{key}\n"
        ));
    }
    text
}

/// The key lines of a token object: its URI with the PIN in a file, the module apart.
fn by_pin_file(token: &Token, object: &str) -> String {
    format!(
        "key = \"pkcs11:token=fipsgate;object={object}?pin-source=file:{}\"\npkcs11_module = \"{MODULE}\"",
        token.dir.join("pin").display()
    )
}

/// `fipsgate proxy --check FILE --format json` with the token's environment.
fn check(token: &Token, text: &str) -> Output {
    let path = token.dir.join(format!("check-{}.toml", free_port()));
    let _ = std::fs::write(&path, text);
    Command::new(env!("CARGO_BIN_EXE_fipsgate"))
        .envs(token.env())
        .args(["proxy", "--check", &path.display().to_string()])
        .args(["--format", "json"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn keys_in_a_token_serve_curl_and_s_client() {
    let m = material();
    let (p384_crt, p384_key) = (m.path("ec384.crt"), m.path("ec384.key"));
    let token = Token::new(&[
        (&m.path("rsa.key"), "rsa", "01"),
        (&m.path("ec.key"), "ec", "02"),
        (&p384_key, "ec384", "03"),
    ]);
    let nginx = nginx_server("", "return 200 token;");
    let (rsa_crt, ec_crt) = (m.path("rsa.crt"), m.path("ec.crt"));
    let certs = [
        (ec_crt.as_str(), by_pin_file(&token, "ec")),
        (
            rsa_crt.as_str(),
            format!("key = \"pkcs11:token=fipsgate;id=%01\"\npkcs11_module = \"{MODULE}\"\npin_env = \"FIPSGATE_TEST_PIN\""),
        ),
    ];

    // --check says where the signatures are made.
    let out = check(&token, &token_config(1, 2, &nginx.addr(), &certs));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let keys = report["token_keys"].as_array().cloned().unwrap_or_default();
    let described: Vec<(&str, &str)> = keys
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap_or(""),
                k["uri"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            ("ECDSA P-256", "pkcs11:token=fipsgate;object=ec"),
            ("RSA 2048", "pkcs11:token=fipsgate;id=%01")
        ],
        "{report}"
    );
    assert_eq!(keys[0]["token"], "fipsgate");
    assert_eq!(keys[0]["model"], "SoftHSM v2");
    assert!(keys[0]["note"]
        .as_str()
        .unwrap_or("")
        .contains("made in the PKCS#11 token"));
    assert_eq!(
        keys[1]["schemes"][0], "rsa_pss_rsae_sha512",
        "SoftHSM2 signs RSA-PSS: {report}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PIN));

    let p = proxy_with(
        |port, admin| token_config(port, admin, &nginx.addr(), &certs),
        Launch {
            env: token.env(),
            ..Launch::default()
        },
    );
    let starting = p.wait_event("\"starting\"");
    assert!(
        starting.contains("\"token_keys\"") && starting.contains("SoftHSM"),
        "{starting}"
    );
    let url = format!("https://127.0.0.1:{}/", p.port);
    for (cacert, extra) in [
        (&ec_crt, &[][..]),
        (
            &rsa_crt,
            &[
                "--tls-max",
                "1.2",
                "--ciphers",
                "ECDHE-RSA-AES256-GCM-SHA384",
            ][..],
        ),
    ] {
        let mut args = vec!["--cacert", cacert.as_str()];
        args.extend_from_slice(extra);
        args.push(&url);
        assert_eq!(curl(&args), (Some(0), "token".to_owned()), "curl {args:?}");
    }
    // Every signature scheme family the token makes, as s_client reports the server's.
    for (args, says) in [
        (
            &["-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256"][..],
            "Peer signature type: ECDSA",
        ),
        (
            &["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha384"][..],
            "Peer signature type: RSA-PSS",
        ),
        (
            &["-tls1_2", "-sigalgs", "RSA+SHA256"][..],
            "Peer signature type: RSA\n",
        ),
        (
            &["-tls1_2", "-sigalgs", "RSA-PSS+SHA512"][..],
            "Peer signature type: RSA-PSS",
        ),
    ] {
        let mut all = args.to_vec();
        all.extend(["-CAfile", &ec_crt, "-verify_return_error"]);
        if args
            .iter()
            .any(|a| a.starts_with("RSA") || a.starts_with("rsa"))
        {
            all.extend(["-CAfile", &rsa_crt]);
        }
        let (ok, text) = s_client(p.port, &all, "GET / HTTP/1.0\r\n\r\n");
        assert!(ok && text.contains(says), "{args:?}: {text}");
        assert!(text.contains("token"), "{args:?}: {text}");
    }
    drop(p);

    // The one-line form, with a P-384 key and the PIN in the URI.
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fipsgate"))
        .envs(token.env())
        .args(["proxy", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--backend", &nginx.addr(), "--cert", &p384_crt])
        .args([
            "--key",
            &format!("pkcs11:token=fipsgate;object=ec384?pin-value={PIN}"),
        ])
        .args(["--pkcs11-module", MODULE])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    wait_port(port);
    let (ok, text) = s_client(
        port,
        &[
            "-CAfile",
            &p384_crt,
            "-verify_return_error",
            "-sigalgs",
            "ecdsa_secp384r1_sha384",
        ],
        "GET / HTTP/1.0\r\n\r\n",
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok && text.contains("Peer signature type: ECDSA"), "{text}");
    assert!(text.contains("token"), "{text}");
}

#[test]
fn wrong_pins_missing_objects_and_foreign_keys_are_refused_at_start() {
    let m = material();
    let token = Token::new(&[
        (&m.path("ec.key"), "ec", "02"),
        (&m.path("rsa.key"), "rsa", "01"),
    ]);
    let ec_crt = m.path("ec.crt");
    let pin_file = token.dir.join("pin").display().to_string();
    for (key, says) in [
        (
            format!("key = \"pkcs11:token=fipsgate;object=ec?pin-value=000000\"\npkcs11_module = \"{MODULE}\""),
            "C_Login: PinIncorrect",
        ),
        (
            format!("key = \"pkcs11:token=fipsgate;object=gone?pin-source=file:{pin_file}\"\npkcs11_module = \"{MODULE}\""),
            "no private key in the token matches pkcs11:token=fipsgate;object=gone",
        ),
        (
            format!("key = \"pkcs11:token=elsewhere;object=ec?pin-source=file:{pin_file}\"\npkcs11_module = \"{MODULE}\""),
            "no token present matches pkcs11:token=elsewhere;object=ec",
        ),
        (
            format!("key = \"pkcs11:token=fipsgate;object=rsa?pin-source=file:{pin_file}\"\npkcs11_module = \"{MODULE}\""),
            "is not an EC key, as the certificate's is",
        ),
        (
            format!("key = \"pkcs11:object=ec?pin-source=file:{pin_file}\"\npkcs11_module = \"/nonexistent/p11.so\""),
            "PKCS#11 module /nonexistent/p11.so",
        ),
        (
            "key = \"pkcs11:object=ec?pin-value=1\"".to_owned(),
            "which PKCS#11 library? Set pkcs11_module",
        ),
        (
            format!("key = \"pkcs11:object=ec\"\npkcs11_module = \"{MODULE}\""),
            "no PIN",
        ),
        (
            format!("key = \"pkcs11:object=ec\"\npkcs11_module = \"{MODULE}\"\npin_env = \"FIPSGATE_NO_SUCH_PIN\""),
            "the PIN variable FIPSGATE_NO_SUCH_PIN is not set",
        ),
    ] {
        let out = check(&token, &token_config(1, 2, "127.0.0.1:9", &[(&ec_crt, key.clone())]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {err}");
        assert!(err.contains(says), "{key}: {err}");
        assert!(!err.contains(PIN), "{key}: {err}");
    }

    // A token key whose certificate is another key's: a signature that does not verify.
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "other.key",
        ],
        &token.dir,
    );
    let other = Token::new(&[(
        &token.dir.join("other.key").display().to_string(),
        "ec",
        "02",
    )]);
    let foreign = [(ec_crt.as_str(), by_pin_file(&other, "ec"))];
    let out = check(&other, &token_config(1, 2, "127.0.0.1:9", &foreign));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not the key of the certificate"), "{err}");
}

#[test]
fn a_removed_token_fails_handshakes_until_it_is_back() {
    let m = material();
    let token = Token::new(&[(&m.path("ec.key"), "ec", "02")]);
    let nginx = nginx_server("", "return 200 token;");
    let ec_crt = m.path("ec.crt");
    let certs = [(ec_crt.as_str(), by_pin_file(&token, "ec"))];
    let p = proxy_with(
        |port, admin| token_config(port, admin, &nginx.addr(), &certs),
        Launch {
            env: token.env(),
            ..Launch::default()
        },
    );
    let url = format!("https://127.0.0.1:{}/", p.port);
    let get = || curl(&["--cacert", &ec_crt, &url]);
    assert_eq!(get(), (Some(0), "token".to_owned()));

    let removed = token.remove();
    let (code, _) = get();
    assert_ne!(code, Some(0), "a handshake without the token's signature");
    let failed = p.wait_log(|l| l["close_reason"] == "handshake_failed");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("the PKCS#11 token could not sign (pkcs11:token=fipsgate;object=ec)"),
        "{failed}"
    );
    assert!(p
        .admin_get("/metrics")
        .contains("reason=\"handshake_failed\""));

    token.insert(&removed);
    let deadline = Instant::now() + Duration::from_secs(10);
    while get().0 != Some(0) {
        assert!(
            Instant::now() < deadline,
            "the token is back, the proxy is not: {:?}",
            p.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // A reload opens the key afresh and goes on serving.
    assert!(p.hup().contains("\"reloaded\""), "{}", p.events());
    let _ = std::fs::write(token.dir.join("pin"), "000000\n");
    let refused = p.hup();
    assert!(
        refused.contains("reload_refused") && refused.contains("logged in with another PIN"),
        "{refused}"
    );
    assert_eq!(
        get(),
        (Some(0), "token".to_owned()),
        "the old keys serve on"
    );
    let _ = std::fs::write(token.dir.join("pin"), format!("{PIN}\n"));
    assert!(p.hup().contains("\"reloaded\""), "{}", p.events());
    assert_eq!(get(), (Some(0), "token".to_owned()));
}
