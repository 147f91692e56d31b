//! `fipsgate proxy` as a STARTTLS front for plaintext-only legacy servers: OpenSMTPD, dovecot
//! (IMAP, POP3), slapd, PostgreSQL and vsftpd, reached by `openssl s_client -starttls`, curl,
//! psql and ldapsearch; plaintext commands refused before TLS; `fipsgate scan --starttls` of
//! each front.
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;
use support::legacy;
use support::proxy::*;
use support::*;

/// A proxy playing `proto`'s opening in front of `backend`.
fn front(proto: &str, backend: &str) -> Proxy {
    let extra = format!("starttls = \"{proto}\"\n");
    proxy(move |port, admin| config(port, admin, backend, "", &extra))
}

/// `openssl s_client -starttls PROTO` through the front, sending `input`: the session's output
/// when the certificate verified.
fn through(p: &Proxy, proto: &str, input: &str) -> String {
    let (ok, out) = s_client(
        p.port,
        &[
            "-starttls",
            proto,
            "-CAfile",
            &material().path("ec.crt"),
            "-verify_return_error",
            "-servername",
            "localhost",
        ],
        input,
    );
    assert!(
        ok && out.contains("Verify return code: 0 (ok)"),
        "{proto}: {out}"
    );
    // GnuTLS's own STARTTLS dialogue and handshake, an implementation independent of OpenSSL.
    let gnutls = Command::new("gnutls-cli")
        .arg(format!("--starttls-proto={proto}"))
        .args(["--x509cafile", &material().path("ec.crt")])
        .args(["-p", &p.port.to_string(), "localhost"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("gnutls-cli (.ci/run installs gnutls-bin): {e}"));
    let said = String::from_utf8_lossy(&gnutls.stdout);
    assert!(
        said.contains("The certificate is trusted") && said.contains("Handshake was completed"),
        "gnutls-cli {proto}: {said}{}",
        String::from_utf8_lossy(&gnutls.stderr)
    );
    out
}

/// `fipsgate scan --starttls PROTO` of the front: fips-only under FIPS 140-3.
fn scanned_fips_only(p: &Proxy, proto: &str) {
    let (lines, _) = scan(&["--starttls", proto, &format!("127.0.0.1:{}", p.port)]);
    let e = &lines[0];
    assert_eq!(e["service"], format!("{proto}+starttls"), "{e}");
    assert_eq!(verdict(e, "fips-140-3"), "fips-only", "{proto}: {e}");
}

/// Sends `lines` in the clear after reading the greeting, and returns all the front answered
/// before it closed.
fn in_the_clear(p: &Proxy, lines: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(lines);
    let mut all = String::new();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    while r.read_line(&mut line).is_ok_and(|n| n > 0) {
        all.push_str(&line);
        line.clear();
    }
    all
}

fn curl_ok(args: &[&str]) -> String {
    let ca = material().path("ec.crt");
    let mut all = vec!["--ssl-reqd", "--cacert", &ca];
    all.extend_from_slice(args);
    let (code, out) = curl(&all);
    assert_eq!(code, Some(0), "curl {all:?}: {out}");
    out
}

#[test]
fn smtp_to_opensmtpd() {
    let mta = legacy::smtpd(None);
    let p = front("smtp", &mta.addr());
    // After TLS the client greets again, and the MTA answers (one command: OpenSMTPD refuses
    // pipelining before EHLO).
    let out = through(&p, "smtp", "EHLO client.example\r\n");
    assert!(out.contains("250-ENHANCEDSTATUSCODES"), "{out}");
    let mail = legacy::scratch("mail").join("mail.txt");
    let _ = std::fs::write(&mail, "Subject: through fipsgate\r\n\r\nhello\r\n");
    let url = format!("smtp://127.0.0.1:{}", p.port);
    let mail_path = mail.display().to_string();
    curl_ok(&[
        &url,
        "--mail-from",
        "a@example.org",
        "--mail-rcpt",
        "b@example.org",
        "-T",
        &mail_path,
    ]);
    let refused = in_the_clear(&p, b"EHLO me\r\nAUTH PLAIN AGEAYg==\r\n");
    assert!(
        refused.ends_with("530 5.7.0 Must issue a STARTTLS command first\r\n"),
        "{refused}"
    );
    let l = p.wait_log(|l| l["close_reason"] == "starttls_refused");
    assert!(
        l["error"].as_str().is_some_and(|e| e.contains("\"AUTH\"")),
        "{l}"
    );
    assert_eq!(l["starttls"], "smtp");
    scanned_fips_only(&p, "smtp");
}

#[test]
fn imap_and_pop3_to_dovecot() {
    let (_dovecot, imap, pop3) = legacy::dovecot(None);
    let p_imap = front("imap", &format!("127.0.0.1:{imap}"));
    let p_pop3 = front("pop3", &format!("127.0.0.1:{pop3}"));

    let out = through(&p_imap, "imap", "a1 CAPABILITY\r\na2 LOGOUT\r\n");
    assert!(out.contains("a1 OK") && out.contains("AUTH=PLAIN"), "{out}");
    let listed = curl_ok(&[
        &format!("imap://127.0.0.1:{}/", p_imap.port),
        "-u",
        "user:secret",
    ]);
    assert!(listed.contains("INBOX"), "{listed}");
    let out = through(&p_pop3, "pop3", "CAPA\r\nQUIT\r\n");
    assert!(out.contains("USER") && out.contains("+OK"), "{out}");
    curl_ok(&[
        &format!("pop3://127.0.0.1:{}/", p_pop3.port),
        "-u",
        "user:secret",
    ]);

    // LOGIN and USER in the clear never reach dovecot.
    let refused = in_the_clear(&p_imap, b"a1 LOGIN user secret\r\n");
    assert!(refused.contains("a1 NO [PRIVACYREQUIRED]"), "{refused}");
    let refused = in_the_clear(&p_pop3, b"USER user\r\n");
    assert!(refused.ends_with("-ERR STLS first\r\n"), "{refused}");
    for p in [&p_imap, &p_pop3] {
        p.wait_log(|l| l["close_reason"] == "starttls_refused");
    }
    scanned_fips_only(&p_imap, "imap");
    scanned_fips_only(&p_pop3, "pop3");

    // The one-line form.
    let m = material();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fipsgate"))
        .args(["proxy", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--backend", &format!("127.0.0.1:{pop3}")])
        .args(["--cert", &m.path("ec.crt"), "--key", &m.path("ec.key")])
        .args(["--starttls", "pop3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    wait_port(port);
    let (code, _) = curl(&[
        "--ssl-reqd",
        "--cacert",
        &m.path("ec.crt"),
        &format!("pop3://127.0.0.1:{port}/"),
        "-u",
        "user:secret",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(code, Some(0));
    let out = fipsgate(&[
        "proxy",
        "--listen",
        "127.0.0.1:1",
        "--backend",
        "a:1",
        "--cert",
        "c",
        "--key",
        "k",
        "--starttls",
        "xmpp",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("smtp, imap, pop3, ldap, postgres or ftp")
    );
}

#[test]
fn ldap_to_slapd_and_postgres() {
    let slapd = legacy::slapd("");
    let p = front("ldap", &slapd.addr());
    through(&p, "ldap", "");
    let out = Command::new("ldapsearch")
        .env("LDAPTLS_CACERT", material().path("ec.crt"))
        .env("LDAPTLS_REQCERT", "demand")
        // The address, not localhost: libldap would check the name its reverse lookup gives.
        .args(["-x", "-ZZ", "-H", &format!("ldap://127.0.0.1:{}", p.port)])
        .args(["-b", "", "-s", "base", "supportedLDAPVersion"])
        .output()
        .unwrap_or_else(|e| panic!("ldapsearch (.ci/run installs ldap-utils): {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("supportedLDAPVersion: 3"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A simple bind in the clear: a Notice of Disconnection (confidentialityRequired).
    let plain = Command::new("ldapsearch")
        .args(["-x", "-H", &format!("ldap://127.0.0.1:{}", p.port)])
        .args(["-D", "cn=admin", "-w", "secret", "-b", "", "-s", "base"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!plain.status.success());
    p.wait_log(|l| l["close_reason"] == "starttls_refused");
    scanned_fips_only(&p, "ldap");
    drop(p);

    let db = legacy::postgres(&[]);
    let p = front("postgres", &db.addr());
    through(&p, "postgres", "");
    let out = Command::new("psql")
        .arg(format!(
            "host=localhost port={} user=postgres dbname=postgres sslmode=verify-full sslrootcert={}",
            p.port,
            material().path("ec.crt")
        ))
        .args(["-tAc", "select 'through ' || current_setting('ssl')"])
        .output()
        .unwrap_or_else(|e| panic!("psql: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "through off",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // sslmode=disable: the startup message in the clear is refused.
    let plain = Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres sslmode=disable",
            p.port
        ))
        .args(["-tAc", "select 1"])
        .output()
        .unwrap_or_else(|e| panic!("psql: {e}"));
    assert!(
        String::from_utf8_lossy(&plain.stderr).contains("TLS is required"),
        "{plain:?}"
    );
    scanned_fips_only(&p, "postgres");
}

#[test]
fn ftp_to_vsftpd_with_protected_data_connections() {
    let (ftpd, public) = legacy::vsftpd(None);
    let p = front("ftp", &ftpd.addr());
    let out = through(&p, "ftp", "USER anonymous\r\nQUIT\r\n");
    assert!(out.contains("230") || out.contains("331"), "{out}");

    // A download and an upload of 4 MiB, intact, over EPSV and over PASV.
    let file = legacy::scratch("ftp-data").join("blob.bin");
    let blob: Vec<u8> = (0..4 * 1024 * 1024u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let _ = std::fs::write(&file, &blob);
    let _ = std::fs::copy(&file, public.join("down.bin"));
    let want = sha256(&file.display().to_string());
    let base = format!("ftp://127.0.0.1:{}/pub", p.port);
    for (i, mode) in [&[][..], &["--disable-epsv"][..]].into_iter().enumerate() {
        let got = legacy::scratch("ftp-got").join("down.bin");
        let mut args = mode.to_vec();
        let (url, out) = (format!("{base}/down.bin"), got.display().to_string());
        args.extend([url.as_str(), "-o", &out]);
        curl_ok(&args);
        assert_eq!(sha256(&out), want, "download {mode:?}");
        let mut args = mode.to_vec();
        let (up, src) = (format!("{base}/up{i}.bin"), file.display().to_string());
        args.extend(["-T", &src, &up]);
        curl_ok(&args);
        assert_eq!(
            sha256(&public.join(format!("up{i}.bin")).display().to_string()),
            want,
            "upload {mode:?}"
        );
    }
    // Each transfer is one session with one data connection, counted in its log line.
    let l = p.wait_log(|l| l["data_bytes_to_client"].as_u64() == Some(blob.len() as u64));
    assert_eq!(l["data_connections"], 1, "{l}");
    p.wait_log(|l| l["data_bytes_from_client"].as_u64() == Some(blob.len() as u64));

    // Clear data connections, a clear command channel and active mode are refused by the front
    // itself.
    let out = through(
        &p,
        "ftp",
        "PROT C\r\nCCC\r\nEPRT |1|127.0.0.1|1025|\r\nPBSZ 0\r\n",
    );
    for refusal in [
        "536 Only PROT P",
        "533 The command channel stays TLS",
        "502 Active mode",
        "200 PBSZ=0",
    ] {
        assert!(out.contains(refusal), "{refusal}: {out}");
    }
    let (code, _) = curl(&[
        "--ssl-reqd",
        "--ftp-port",
        "127.0.0.1",
        "--cacert",
        &material().path("ec.crt"),
        &format!("{base}/down.bin"),
        "-o",
        "/dev/null",
    ]);
    assert_ne!(code, Some(0), "active mode accepted");
    let refused = in_the_clear(&p, b"USER anonymous\r\n");
    assert!(refused.ends_with("530 AUTH TLS first\r\n"), "{refused}");
    scanned_fips_only(&p, "ftp");
}
