//! The legacy servers behind STARTTLS, started on loopback from a scratch directory: dovecot
//! (IMAP and POP3), OpenSMTPD, PostgreSQL, slapd and vsftpd. `tls` lines, when given, turn on
//! the server's own TLS (the scanner's tests); without them the server speaks plaintext only
//! (the proxy's STARTTLS fronts).
use super::{free_port, material, start_on, wait_port, Server};
use std::path::PathBuf;
use std::process::Command;

/// A fresh scratch directory for one server.
pub fn scratch(name: &str) -> PathBuf {
    let dir = material().dir.join(format!("{name}-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// dovecot serving IMAP and POP3 (ports returned) for any user with password `secret`, with an
/// empty Maildir; `tls` holds its ssl lines (else `ssl = no`, plaintext logins allowed).
pub fn dovecot(tls: Option<&str>) -> (Server, u16, u16) {
    let dir = scratch("dovecot");
    let (imap, pop3) = (free_port(), free_port());
    let d = dir.display();
    let mail = dir.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        let _ = std::fs::create_dir_all(mail.join(sub));
    }
    let _ = Command::new("chmod")
        .args(["-R", "777", &d.to_string()])
        .status();
    let ssl = tls.map_or_else(
        || "ssl = no\ndisable_plaintext_auth = no\n".to_owned(),
        str::to_owned,
    );
    let conf = format!(
        "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/log\nprotocols = imap pop3\nlisten = 127.0.0.1\n{ssl}\nmail_location = maildir:{d}/Maildir\npassdb {{\n  driver = static\n  args = password=secret\n}}\nuserdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}\n}}\nservice imap-login {{\n  inet_listener imap {{\n    port = {imap}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\nservice pop3-login {{\n  inet_listener pop3 {{\n    port = {pop3}\n  }}\n  inet_listener pop3s {{\n    port = 0\n  }}\n}}\n",
    );
    let conf_path = dir.join("dovecot.conf");
    let _ = std::fs::write(&conf_path, conf);
    let server = start_on(
        "dovecot",
        &["-F", "-c", &conf_path.display().to_string()],
        imap,
    );
    wait_port(pop3);
    (server, imap, pop3)
}

/// OpenSMTPD accepting mail for anyone and queueing it for a relay on a closed loopback port
/// (nothing leaves the machine); `tls` holds its `pki` lines and the `listen` suffix.
pub fn smtpd(tls: Option<(&str, &str)>) -> Server {
    let dir = scratch("smtpd");
    let port = free_port();
    let (pki, listen) = tls.unwrap_or(("", ""));
    let conf = format!(
        "{pki}listen on 127.0.0.1 port {port}{listen}\naction \"relay\" relay host \"smtp://127.0.0.1:9\"\nmatch from any for any action \"relay\"\n",
    );
    let conf_path = dir.join("smtpd.conf");
    let _ = std::fs::write(&conf_path, conf);
    start_on(
        "smtpd",
        &["-d", "-f", &conf_path.display().to_string()],
        port,
    )
}

/// PostgreSQL (initdb'd as the postgres user, trust authentication) with these `-c` settings
/// besides its address and port.
pub fn postgres(settings: &[String]) -> Server {
    let dir = scratch("postgres");
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(Result::ok)
        .map(|e| e.path().join("bin"))
        .unwrap_or_else(|| {
            panic!("PostgreSQL server binaries are missing (.ci/run installs postgresql)")
        });
    for f in ["rsa.crt", "rsa.key"] {
        let _ = std::fs::copy(material().path(f), dir.join(f));
    }
    let owned = Command::new("chown")
        .args(["-R", "postgres:postgres", &dir.display().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(owned, "chown needs root");
    let _ = Command::new("chmod")
        .args(["600", &dir.join("rsa.key").display().to_string()])
        .status();
    let data = dir.join("data").display().to_string();
    let initdb = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join("initdb"))
        .args(["-D", &data, "-A", "trust"])
        .output();
    assert!(
        initdb.as_ref().is_ok_and(|o| o.status.success()),
        "initdb failed: {initdb:?}"
    );
    let port = free_port();
    let d = dir.display().to_string();
    let postgres = bin.join("postgres").display().to_string();
    let mut all = vec![
        "listen_addresses=127.0.0.1".to_owned(),
        format!("port={port}"),
        format!("unix_socket_directories={d}"),
    ];
    all.extend(settings.iter().map(|s| s.replace("{dir}", &d)));
    let mut args = vec!["-u", "postgres", "--", &postgres, "-D", &data];
    for s in &all {
        args.extend(["-c", s]);
    }
    start_on("runuser", &args, port)
}

/// slapd with only the core schema (the root DSE answers searches); `tls` holds its TLS lines.
pub fn slapd(tls: &str) -> Server {
    let dir = scratch("slapd");
    let port = free_port();
    let d = dir.display();
    let conf = format!("include /etc/ldap/schema/core.schema\npidfile {d}/slapd.pid\n{tls}");
    let conf_path = dir.join("slapd.conf");
    let _ = std::fs::write(&conf_path, conf);
    let url = format!("ldap://127.0.0.1:{port}/");
    start_on(
        "slapd",
        &[
            "-d",
            "0",
            "-f",
            &conf_path.display().to_string(),
            "-h",
            &url,
        ],
        port,
    )
}

/// vsftpd with anonymous logins, an `pub` directory anyone may upload to (its path returned),
/// passive mode; `tls` holds its ssl lines (else `ssl_enable=NO`).
pub fn vsftpd(tls: Option<&str>) -> (Server, PathBuf) {
    let dir = scratch("vsftpd");
    let root = dir.join("root");
    let public = root.join("pub");
    let _ = std::fs::create_dir_all(&public);
    let _ = std::fs::create_dir_all("/var/run/vsftpd/empty");
    let _ = Command::new("chmod")
        .args(["777", &public.display().to_string()])
        .status();
    let port = free_port();
    let ssl = tls.unwrap_or("ssl_enable=NO\n");
    let conf = format!(
        "listen=YES\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\nanonymous_enable=YES\nno_anon_password=YES\nanon_root={root}\nwrite_enable=YES\nanon_upload_enable=YES\nanon_other_write_enable=YES\nanon_world_readable_only=NO\nanon_umask=022\nlocal_enable=NO\npasv_enable=YES\n{ssl}secure_chroot_dir=/var/run/vsftpd/empty\nseccomp_sandbox=NO\nxferlog_enable=NO\nvsftpd_log_file={d}/log\n",
        root = root.display(),
        d = dir.display(),
    );
    let conf_path = dir.join("vsftpd.conf");
    let _ = std::fs::write(&conf_path, conf);
    let server = start_on("vsftpd", &[&conf_path.display().to_string()], port);
    (server, public)
}
