//! OCSP checks of client certificates by `fipsgate proxy`, with `openssl ocsp` as the responder
//! (signing itself as the CA, or as a delegated responder) and curl as the client: good,
//! revoked and unknown certificates, an unreachable and a silent responder (asked once while
//! held), a response signed by a stranger, answers kept until their nextUpdate, and a revoked
//! intermediate that only the chain scope sees.
mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::proxy::*;
use support::*;

/// Client certificates `good`, `revoked` and `stranger` (the responder does not know it) whose
/// AIA names a responder on `aia_port`, a delegated responder certificate, and the CA's index.
fn ocsp_pki(aia_port: u16) -> PathBuf {
    let ext = format!("{CLIENT_EXT}authorityInfoAccess=OCSP;URI:http://127.0.0.1:{aia_port}/\n");
    let dir = pki("ocsp", &["good", "revoked", "stranger"], &ext);
    issue(
        &dir,
        "responder",
        "/CN=partners OCSP",
        "basicConstraints=CA:FALSE\nextendedKeyUsage=OCSPSigning\n",
    );
    index(&dir, &["good"]);
    revoke(&dir, "revoked", "keyCompromise");
    dir
}

/// `openssl ca` options for the CA in the current directory and its index.
const CA: [&str; 6] = ["-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt"];

/// The index of the CA in `dir` (index.txt, read by `openssl ocsp`), with `valid`'s
/// certificates recorded as issued.
fn index(dir: &Path, valid: &[&str]) {
    let _ = std::fs::write(dir.join("index.txt"), "");
    let _ = std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = here\n[here]\ndatabase = index.txt\ndefault_md = sha256\n",
    );
    for who in valid {
        let crt = format!("{who}.crt");
        openssl(&[&["ca", "-valid", crt.as_str()][..], &CA].concat(), dir);
    }
}

/// Records `who`'s certificate as revoked, for `reason`, in the index of the CA in `dir`.
fn revoke(dir: &Path, who: &str, reason: &str) {
    let crt = format!("{who}.crt");
    let args = ["ca", "-revoke", crt.as_str(), "-crl_reason", reason];
    openssl(&[&args[..], &CA].concat(), dir);
}

/// `openssl ocsp` answering from `dir`'s index, signing with `signer`.crt/.key (from `keys`),
/// answers valid for 10 minutes. Readiness is read from its log, not probed by a connection:
/// OpenSSL 3.0's responder stops serving after a connection that closes without a request.
fn responder(dir: &Path, keys: &Path, signer: &str, port: u16) -> Server {
    let p = |d: &Path, f: &str| d.join(f).display().to_string();
    let log = keys.join(format!("responder-{port}.log"));
    let child = Command::new("openssl")
        .process_group(0)
        .args([
            "ocsp",
            "-index",
            &p(dir, "index.txt"),
            "-port",
            &port.to_string(),
        ])
        .args(["-rsigner", &p(keys, &format!("{signer}.crt"))])
        .args(["-rkey", &p(keys, &format!("{signer}.key"))])
        .args(["-CA", &p(dir, "ca.crt"), "-nmin", "10"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}")))
        .spawn()
        .unwrap_or_else(|e| panic!("openssl ocsp: {e}"));
    let server = Server::adopt(child, port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("waiting for OCSP client connections")
    {
        assert!(
            Instant::now() < deadline,
            "openssl ocsp did not start on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// A root CA, an intermediate CA it issued (whose AIA names a responder on `root_port`), and
/// `good` issued by the intermediate (AIA: `inter_port`), sent with the intermediate after it.
/// Returns the root's and the intermediate's directories.
fn two_level_pki(root_port: u16, inter_port: u16) -> (PathBuf, PathBuf) {
    let aia = |port: u16| format!("authorityInfoAccess=OCSP;URI:http://127.0.0.1:{port}/\n");
    let root = ca_dir("ocsp-root", "/CN=partners root");
    issue(
        &root,
        "inter",
        "/CN=partners intermediate",
        &format!(
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n{}",
            aia(root_port)
        ),
    );
    index(&root, &["inter"]);
    let inter = material().dir.join(format!("ocsp-inter-{inter_port}"));
    let _ = std::fs::create_dir_all(&inter);
    for (from, to) in [("inter.crt", "ca.crt"), ("inter.key", "ca.key")] {
        std::fs::copy(root.join(from), inter.join(to)).unwrap_or_else(|e| panic!("{e}"));
    }
    issue(
        &inter,
        "good",
        "/CN=good/O=Example",
        &format!("{CLIENT_EXT}{}", aia(inter_port)),
    );
    index(&inter, &["good"]);
    let chain = [inter.join("good.crt"), inter.join("ca.crt")]
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{e}")))
        .collect::<String>();
    std::fs::write(inter.join("good.crt"), chain).unwrap_or_else(|e| panic!("{e}"));
    (root, inter)
}

/// A proxy whose client_auth has these OCSP lines.
fn front(dir: &Path, backend: &str, ocsp: &str) -> Proxy {
    let extra = format!(
        "[listener.client_auth]\nca = \"{}\"\n{ocsp}",
        dir.join("ca.crt").display()
    );
    proxy(move |port, admin| config(port, admin, backend, "", &extra))
}

/// Whether `who` gets the backend's answer, and the proxy's log line of that connection.
fn admitted(p: &Proxy, dir: &Path, who: &str) -> (bool, serde_json::Value) {
    let before = p.log().len();
    let (cert, key) = (
        dir.join(format!("{who}.crt")),
        dir.join(format!("{who}.key")),
    );
    let (code, body) = curl(&[
        "--cacert",
        &material().path("ec.crt"),
        "--cert",
        &cert.display().to_string(),
        "--key",
        &key.display().to_string(),
        &format!("https://127.0.0.1:{}/", p.port),
    ]);
    // The line of this connection (not the port probe's, nor an earlier client's).
    let cn = format!("CN={who}");
    let line = p.wait_log(|l| {
        l["client_subject"]
            .as_str()
            .is_some_and(|s| s.starts_with(&cn))
            && p.log().iter().position(|x| x == l) >= Some(before)
    });
    (code == Some(0) && body == "ok", line)
}

#[test]
fn client_certificates_are_checked_by_ocsp() {
    let backend = nginx_server("", "return 200 ok;");
    let aia_port = free_port();
    let dir = ocsp_pki(aia_port);
    let ca_signed = responder(&dir, &dir, "ca", aia_port);

    // Hard, the responder from the certificates' AIA, signing as the CA.
    let p = front(&dir, &backend.addr(), "client_ocsp = \"hard\"\n");
    let (ok, line) = admitted(&p, &dir, "good");
    assert!(ok, "{line}");
    assert_eq!(line["client_ocsp"], "good", "{line}");
    assert!(line.get("client_ocsp_cached").is_none(), "{line}");
    let (ok, line) = admitted(&p, &dir, "revoked");
    assert!(!ok, "{line}");
    assert_eq!(line["close_reason"], "client_certificate_revoked", "{line}");
    let error = line["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("OCSP: revoked at 20") && error.contains("KeyCompromise"),
        "{line}"
    );
    let (ok, line) = admitted(&p, &dir, "stranger");
    assert!(!ok, "{line}");
    assert_eq!(
        line["close_reason"], "client_certificate_revocation_unknown",
        "{line}"
    );
    assert_eq!(line["client_ocsp"], "unknown", "{line}");

    // Answers are kept until their nextUpdate: with the responder gone, the good client still
    // passes, from the cache.
    drop(ca_signed);
    let (ok, line) = admitted(&p, &dir, "good");
    assert!(ok, "{line}");
    assert_eq!(line["client_ocsp_cached"], true, "{line}");
    // The stranger's "unknown" was kept as well.
    let (ok, line) = admitted(&p, &dir, "stranger");
    assert!(!ok, "{line}");
    assert_eq!(
        (&line["client_ocsp"], &line["client_ocsp_cached"]),
        (&"unknown".into(), &true.into()),
        "{line}"
    );
    drop(p);

    // Soft, a configured delegated responder: revoked is refused, unknown let through.
    let delegated_port = free_port();
    let _delegated = responder(&dir, &dir, "responder", delegated_port);
    let p = front(
        &dir,
        &backend.addr(),
        &format!(
            "client_ocsp = \"soft\"\nocsp_responder = \"http://127.0.0.1:{delegated_port}/\"\n"
        ),
    );
    assert!(admitted(&p, &dir, "good").0);
    let (ok, line) = admitted(&p, &dir, "revoked");
    assert!(
        !ok && line["close_reason"] == "client_certificate_revoked",
        "{line}"
    );
    let (ok, line) = admitted(&p, &dir, "stranger");
    assert!(ok, "{line}");
    assert_eq!(line["client_ocsp"], "unknown", "{line}");
    assert!(
        line["client_ocsp_error"]
            .as_str()
            .is_some_and(|e| e.contains("does not know")),
        "{line}"
    );
    drop(p);

    // A responder signing with a key the CA never delegated to: no verified answer.
    let other = client_pki("ocsp-other", &[]);
    let forger_port = free_port();
    let _forger = responder(&dir, &other, "ca", forger_port);
    let forged = format!("ocsp_responder = \"http://127.0.0.1:{forger_port}/\"\n");
    let p = front(
        &dir,
        &backend.addr(),
        &format!("client_ocsp = \"hard\"\n{forged}"),
    );
    let (ok, line) = admitted(&p, &dir, "good");
    assert!(!ok, "{line}");
    assert_eq!(line["client_ocsp"], "failed", "{line}");
    assert!(
        line["error"]
            .as_str()
            .is_some_and(|e| e.contains("not signed by the issuer")),
        "{line}"
    );
    drop(p);
}

#[test]
fn the_chain_scope_checks_the_intermediate_too() {
    let backend = nginx_server("", "return 200 ok;");
    let (root_port, inter_port) = (free_port(), free_port());
    let (root, inter) = two_level_pki(root_port, inter_port);
    let _inter_responder = responder(&inter, &inter, "ca", inter_port);
    let root_responder = responder(&root, &root, "ca", root_port);
    let front_with = |scope: &str| {
        let lines = format!("client_ocsp = \"hard\"\nocsp_scope = \"{scope}\"\n");
        front(&root, &backend.addr(), &lines)
    };
    let p = front_with("chain");
    let (ok, line) = admitted(&p, &inter, "good");
    assert!(ok, "{line}");
    assert_eq!(line["client_ocsp"], "good", "{line}");
    drop((p, root_responder));

    // The intermediate revoked: the chain scope refuses its certificates, the leaf scope does
    // not look. Each proxy starts with an empty cache.
    revoke(&root, "inter", "CACompromise");
    let _root_responder = responder(&root, &root, "ca", root_port);
    for (scope, let_through) in [("chain", false), ("leaf", true)] {
        let p = front_with(scope);
        let (ok, line) = admitted(&p, &inter, "good");
        assert_eq!(ok, let_through, "{scope}: {line}");
        if !let_through {
            assert_eq!(line["close_reason"], "client_certificate_revoked", "{line}");
            assert!(
                line["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("CN=partners intermediate: revoked")),
                "{line}"
            );
        }
    }
}

#[test]
fn unreachable_and_silent_responders_fail_hard_and_pass_soft() {
    let backend = nginx_server("", "return 200 ok;");
    let closed = free_port();
    let dir = ocsp_pki(closed);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let silent_port = silent.local_addr().map(|a| a.port()).unwrap_or(0);

    for (mode, responder, says) in [
        ("hard", String::new(), "Connection refused"),
        (
            "hard",
            format!("ocsp_responder = \"http://127.0.0.1:{silent_port}/\"\nocsp_timeout = 0.5\n"),
            "no answer within 500ms",
        ),
        ("soft", String::new(), "Connection refused"),
    ] {
        let p = front(
            &dir,
            &backend.addr(),
            &format!("client_ocsp = \"{mode}\"\n{responder}"),
        );
        let started = Instant::now();
        let (ok, line) = admitted(&p, &dir, "good");
        assert!(started.elapsed() < Duration::from_secs(5), "{line}");
        assert_eq!(line["client_ocsp"], "failed", "{line}");
        let error = if mode == "hard" {
            assert!(!ok, "{line}");
            assert_eq!(
                line["close_reason"], "client_certificate_revocation_unknown",
                "{line}"
            );
            &line["error"]
        } else {
            assert!(ok, "{line}");
            &line["client_ocsp_error"]
        };
        assert!(
            error.as_str().is_some_and(|e| e.contains(says)),
            "{mode}: {line}"
        );
    }

    // A responder that gave no answer is not asked again for ocsp_failure_hold (30 s by
    // default): of two clients only the first reaches it. With a hold of 0 both do.
    silent
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("{e}"));
    let reached = || std::iter::from_fn(|| silent.accept().ok()).count();
    reached();
    for (hold, asked) in [("", 1), ("ocsp_failure_hold = 0\n", 2)] {
        let p = front(
            &dir,
            &backend.addr(),
            &format!(
                "client_ocsp = \"soft\"\nocsp_responder = \"http://127.0.0.1:{silent_port}/\"\nocsp_timeout = 0.5\n{hold}"
            ),
        );
        let (first_ok, first) = admitted(&p, &dir, "good");
        let (second_ok, second) = admitted(&p, &dir, "good");
        assert!(first_ok && second_ok, "{first}\n{second}");
        assert_eq!(reached(), asked, "{hold:?}: {second}");
        if asked == 1 {
            assert_eq!(second["client_ocsp_cached"], true, "{second}");
            assert!(
                second["client_ocsp_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("no answer within 500ms (not asked again for")),
                "{second}"
            );
        }
    }

    // Settings that cannot work are refused at start.
    let toml = dir.join("bad.toml");
    for (lines, says) in [
        (
            "ocsp_responder = \"http://127.0.0.1:1/\"\n",
            "ocsp_responder needs client_ocsp",
        ),
        (
            "client_ocsp = \"hard\"\nocsp_responder = \"https://x/\"\n",
            "is not an http:// URL",
        ),
        ("client_ocsp = \"always\"\n", "unknown variant"),
        ("client_ocsp = \"soft\"\nocsp_timeout = 0\n", "ocsp_timeout"),
        (
            "client_ocsp = \"soft\"\nocsp_failure_hold = -1\n",
            "ocsp_failure_hold",
        ),
        (
            "client_ocsp = \"soft\"\nocsp_scope = \"all\"\n",
            "unknown variant",
        ),
    ] {
        let extra = format!(
            "[listener.client_auth]\nca = \"{}\"\n{lines}",
            dir.join("ca.crt").display()
        );
        let _ = std::fs::write(&toml, config(8443, 9901, "127.0.0.1:8080", "", &extra));
        let out = fipsgate(&["proxy", "--check", &toml.display().to_string()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{lines}: {err}");
        assert!(err.contains(says), "{lines}: {err}");
    }
}
