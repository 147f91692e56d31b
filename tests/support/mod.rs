//! Helpers for end-to-end tests: real servers from Debian's packages on loopback, free ports,
//! keys made once per test binary, and the fipsgate binary itself.
#![allow(dead_code)]

pub mod hostile;
pub mod legacy;
pub mod peers;
pub mod proxy;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Runs fipsgate with these arguments.
pub fn fipsgate(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_fipsgate"))
        .args(args)
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run fipsgate: {e}"),
    }
}

/// Scans with `--format ndjson` and returns every line: `scan_begin`, the endpoints, `scan_end`.
pub fn scan_lines(args: &[&str]) -> (Vec<Value>, Option<i32>) {
    let mut all = vec!["scan", "--format", "ndjson", "--timeout", "3"];
    all.extend_from_slice(args);
    let out = fipsgate(&all);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (lines, out.status.code())
}

/// Scans with `--format ndjson` and returns the endpoint objects and the exit code, after
/// checking that the scan is framed by its `scan_begin` and `scan_end` lines.
pub fn scan(args: &[&str]) -> (Vec<Value>, Option<i32>) {
    let (lines, code) = scan_lines(args);
    if code != Some(2) {
        assert_eq!(
            lines.first().map(|l| l["type"].clone()),
            Some(Value::from("scan_begin")),
            "{lines:?}"
        );
        assert_eq!(
            lines.last().map(|l| l["type"].clone()),
            Some(Value::from("scan_end")),
            "{lines:?}"
        );
    }
    let endpoints: Vec<Value> = lines
        .into_iter()
        .filter(|l| l["type"] == "endpoint")
        .collect();
    (endpoints, code)
}

/// A port nobody listens on right now, below the kernel's ephemeral range.
///
/// A port the kernel hands out for `:0` comes from the ephemeral range, where the next outgoing
/// connection of any test (curl, a scan) may take it as its local port before the server this
/// port is for gets to bind it. Ports below that range are only ever taken by a bind; each test
/// binary walks its own stretch of them, so parallel tests and binaries do not meet.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOW: u32 = 10_000;
    let high = ephemeral_start().max(LOW + 1_000);
    let span = high - LOW;
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let step = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = LOW + (start + step.wrapping_mul(13)) % span;
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() && !port_open(port) {
            return port;
        }
    }
    panic!("no free port below {high}")
}

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(32_768)
}

/// A server process killed when dropped.
pub struct Server {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Server {
    /// A server started elsewhere, killed when dropped like the others.
    pub fn adopt(child: Child, port: u16) -> Self {
        Self { child, port }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    /// Kills the whole process group: servers such as PostgreSQL (under runuser) and dovecot
    /// fork children that must not outlive the test.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program args…` (with `{port}` replaced by a free port) and waits until it accepts.
pub fn start(program: &str, args: &[&str]) -> Server {
    for _attempt in 0..3 {
        let port = free_port();
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Some(server) = try_start(program, &args, port) {
            return server;
        }
    }
    panic!("{program} {args:?} did not start listening");
}

/// Starts a server whose configuration names `port` and waits until it accepts.
pub fn start_on(program: &str, args: &[&str], port: u16) -> Server {
    try_start(program, args, port)
        .unwrap_or_else(|| panic!("{program} {args:?} did not start listening on {port}"))
}

fn try_start(program: &str, args: &[&str], port: u16) -> Option<Server> {
    let child = Command::new(program)
        .process_group(0)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} (.ci/run installs it): {e}"));
    let mut server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = server.child.try_wait() {
            return None;
        }
        if port_open(port) {
            return Some(server);
        }
        sleep(Duration::from_millis(20));
    }
    None
}

fn port_open(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok() || TcpStream::connect(("::1", port)).is_ok()
}

/// An HTTP/1.1 GET on 127.0.0.1:PORT with extra header lines: the whole response, empty when
/// nothing listens.
pub fn http_get(port: u16, path: &str, headers: &[&str]) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

/// Waits up to 10 s for a port to accept.
pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !port_open(port) {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        sleep(Duration::from_millis(20));
    }
}

/// `openssl s_server` on a free loopback port with these extra arguments.
pub fn openssl_server(extra: &[&str]) -> Server {
    let mut args = vec!["s_server", "-accept", "127.0.0.1:{port}", "-quiet"];
    args.extend_from_slice(extra);
    start("openssl", &args)
}

/// `openssl s_server` serving the RSA test certificate (rsa.crt, rsa.key), with these extra
/// arguments.
pub fn openssl_rsa_server(extra: &[&str]) -> Server {
    let m = material();
    let (cert, key) = (m.path("rsa.crt"), m.path("rsa.key"));
    let mut args = vec!["-cert", &cert, "-key", &key];
    args.extend_from_slice(extra);
    openssl_server(&args)
}

/// Keys, certificates and DH parameters made once per test binary.
pub struct Material {
    /// Directory holding them.
    pub dir: PathBuf,
}

impl Material {
    /// A file in the material directory.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

/// A fresh directory `NAME-N` under the test material holding a P-256 CA, `ca.crt` and
/// `ca.key`, with this subject.
pub fn ca_dir(name: &str, subject: &str) -> PathBuf {
    let dir = material().dir.join(format!("{name}-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            subject,
        ],
        &dir,
    );
    dir
}

/// Issues `WHO.crt` and `WHO.key` (P-256) from the CA in `dir`, with this subject and these
/// extension lines.
pub fn issue(dir: &Path, who: &str, subject: &str, extensions: &str) {
    let (key, csr, crt, ext) = (
        format!("{who}.key"),
        format!("{who}.csr"),
        format!("{who}.crt"),
        format!("{who}.ext"),
    );
    let _ = std::fs::write(dir.join(&ext), extensions);
    openssl(
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
        dir,
    );
}

/// Runs `openssl ARGS` in `dir`, insists that it succeeds, and returns its standard output.
pub fn openssl(args: &[&str], dir: &Path) -> String {
    let out = Command::new("openssl").args(args).current_dir(dir).output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("cannot run openssl: {e}"),
    }
}

/// rsa.crt/rsa.key (RSA 2048), ec.crt/ec.key (P-256), rsa1024.crt/key, ffdhe2048.pem and
/// custom2048.pem (a 2048-bit safe prime that is no named group: tests/data, made once with
/// `openssl dhparam 2048`, which is too slow to run in every test).
pub fn material() -> &'static Material {
    static MATERIAL: OnceLock<Material> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        remove_stale_material();
        let dir = std::env::temp_dir().join(format!("{MATERIAL_PREFIX}{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let san = "subjectAltName=DNS:localhost,IP:127.0.0.1";
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "rsa.key",
                "-out",
                "rsa.crt",
                "-days",
                "30",
                "-subj",
                "/CN=fipsgate-rsa",
                "-addext",
                san,
            ],
            &dir,
        );
        for (curve, name) in [("P-256", "ec"), ("P-384", "ec384")] {
            let (key, crt, subject) = (
                format!("{name}.key"),
                format!("{name}.crt"),
                format!("/CN=fipsgate-{name}"),
            );
            let curve = format!("ec_paramgen_curve:{curve}");
            openssl(
                &[
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", &curve, "-nodes", "-keyout", &key,
                    "-out", &crt, "-days", "30", "-subj", &subject, "-addext", san,
                ],
                &dir,
            );
        }
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:1024",
                "-nodes",
                "-keyout",
                "rsa1024.key",
                "-out",
                "rsa1024.crt",
                "-days",
                "30",
                "-subj",
                "/CN=fipsgate-rsa1024",
            ],
            &dir,
        );
        openssl(
            &[
                "genpkey",
                "-genparam",
                "-algorithm",
                "DH",
                "-pkeyopt",
                "group:ffdhe2048",
                "-out",
                "ffdhe2048.pem",
            ],
            &dir,
        );
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/custom-dh-2048.pem");
        let _ = std::fs::copy(fixture, dir.join("custom2048.pem"));
        Material { dir }
    })
}

/// Material directories are named this and the test binary's process id.
const MATERIAL_PREFIX: &str = "fipsgate-tests-";

/// Removes the material directories of test binaries that have ended: a static is never
/// dropped, so each binary leaves its own behind, and this keeps one per running binary.
fn remove_stale_material() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name.to_str().and_then(|n| n.strip_prefix(MATERIAL_PREFIX));
        if let Some(pid) = pid.filter(|p| p.parse::<u32>().is_ok()) {
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Ground truth: the codes `openssl ciphers -V` lists for a cipher string, in its order. OpenSSL
/// lists its TLS 1.3 suites first whatever the string says; `tls13` picks those or the others.
pub fn openssl_codes(tls13: bool, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ciphers", "-V"];
    all.extend_from_slice(args);
    let out = Command::new("openssl")
        .args(&all)
        .output()
        .unwrap_or_else(|e| panic!("openssl ciphers: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("TLSv1.3") == tls13)
        .filter_map(|l| l.split_whitespace().next())
        .map(|c| {
            let bytes: Vec<&str> = c.split(',').map(|b| b.trim_start_matches("0x")).collect();
            format!("0x{}", bytes.concat().to_uppercase())
        })
        .collect()
}

/// SHA-256 fingerprint of a PEM certificate, as `openssl x509` prints it, in lower-case hex.
pub fn fingerprint(pem: &str) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-in", pem, "-noout", "-fingerprint", "-sha256"])
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    text.trim()
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .replace(':', "")
        .to_lowercase()
}

/// The versions of an endpoint, in report order.
pub fn versions(endpoint: &Value) -> Vec<String> {
    endpoint["tls"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["version"].as_str().map(str::to_owned))
        .collect()
}

/// The names in one of an endpoint's TLS lists (`groups`, `signature_schemes`).
pub fn names(endpoint: &Value, field: &str) -> Vec<String> {
    endpoint["tls"][field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["name"].as_str().map(str::to_owned))
        .collect()
}

/// The suite codes reported for one version.
pub fn suites(endpoint: &Value, version: &str) -> Vec<String> {
    suite_field(endpoint, version, "code")
}

/// The IANA names of the suites reported for one version.
pub fn suite_names(endpoint: &Value, version: &str) -> Vec<String> {
    suite_field(endpoint, version, "iana")
}

/// One field of each suite reported for one version, in order.
fn suite_field(endpoint: &Value, version: &str, field: &str) -> Vec<String> {
    endpoint["tls"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["version"] == version)
        .flat_map(|v| v["cipher_suites"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s[field].as_str().map(str::to_owned))
        .collect()
}

/// The verdict of one policy.
pub fn verdict(endpoint: &Value, policy: &str) -> String {
    policy_verdict(endpoint, policy)
        .and_then(|v| v["verdict"].as_str())
        .unwrap_or("none")
        .to_owned()
}

/// The whole `verdicts` entry of one policy (verdict and note).
pub fn policy_verdict<'e>(endpoint: &'e Value, policy: &str) -> Option<&'e Value> {
    endpoint["verdicts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["policy"] == policy)
}

/// A relay that forwards to `backend` but closes any connection whose first TLS record (header
/// and payload) `drop_if` rejects, as some middleboxes and old servers do. Returns its port; its
/// thread ends with the test process.
pub fn filtering_relay(backend: u16, drop_if: fn(&[u8]) -> bool) -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("relay: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            std::thread::spawn(move || {
                let mut record = vec![0u8; 5];
                if client.read_exact(&mut record).is_err() {
                    return;
                }
                let len = usize::from(u16::from_be_bytes([record[3], record[4]]));
                record.resize(5 + len, 0);
                if client.read_exact(&mut record[5..]).is_err() || drop_if(&record) {
                    return; // dropped: the connection closes without an answer
                }
                let Ok(mut server) = TcpStream::connect(("127.0.0.1", backend)) else {
                    return;
                };
                let _ = server.write_all(&record);
                let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
                    return;
                };
                let up = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut s2);
                    let _ = s2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = up.join();
            });
        }
    });
    port
}

/// Whether a ClientHello record carries an extensions block.
pub fn hello_has_extensions(record: &[u8]) -> bool {
    // record header 5, handshake header 4, version 2, random 32, then session id, suites,
    // compression methods; anything after them is the extensions block.
    let mut at = 5 + 4 + 2 + 32;
    let byte = |i: usize| usize::from(*record.get(i).unwrap_or(&0));
    at += 1 + byte(at);
    at += 2 + ((byte(at) << 8) | byte(at + 1));
    at += 1 + byte(at);
    record.len() > at
}

/// `ssh-keygen` a key with these arguments unless it exists; returns its path.
pub fn keygen(dir: &Path, name: &str, args: &[&str]) -> String {
    let path = dir.join(name);
    if !path.exists() {
        let mut all = vec!["-q", "-N", "", "-f"];
        let p = path.display().to_string();
        all.push(&p);
        all.extend_from_slice(args);
        let ok = Command::new("ssh-keygen")
            .args(&all)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "ssh-keygen {args:?}");
    }
    path.display().to_string()
}

/// `ssh-keygen -lf` of a public key file: the `SHA256:…` field.
pub fn fingerprint_of(pubkey: &str) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-lf", pubkey])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    out.split_whitespace().nth(1).unwrap_or_default().to_owned()
}

/// An sshd killed when dropped.
pub struct Sshd {
    _server: Server,
    /// Its sshd_config.
    pub config: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// Starts sshd with `directives` and the given host keys.
pub fn sshd(name: &str, directives: &str, host_keys: &[&str]) -> Sshd {
    sshd_on(name, directives, host_keys, free_port())
}

/// `sshd` on a port chosen by the caller (to restart a server in another configuration).
pub fn sshd_on(name: &str, directives: &str, host_keys: &[&str], port: u16) -> Sshd {
    let dir = material().dir.join(format!("sshd-{name}-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::create_dir_all("/run/sshd");
    let mut conf = format!(
        "Port {port}\nListenAddress 127.0.0.1\nPidFile {}/sshd.pid\nUsePAM no\n",
        dir.display()
    );
    for k in host_keys {
        conf.push_str(&format!("HostKey {k}\n"));
    }
    conf.push_str(directives);
    let config = dir.join("sshd_config").display().to_string();
    let _ = std::fs::write(&config, conf);
    let server = start_on("/usr/sbin/sshd", &["-D", "-e", "-f", &config], port);
    Sshd {
        _server: server,
        config,
        port,
    }
}

/// nginx in the foreground on a free loopback port, its TLS server block given `ssl` (the
/// ssl_* directives), answering `ok`.
pub fn nginx(ssl: &str) -> Server {
    nginx_server("ssl", &format!("{ssl}\n    return 200 ok;"))
}

/// nginx in the foreground on a free loopback port: `listen 127.0.0.1:PORT {listen};` and the
/// `body` directives in one server block.
pub fn nginx_server(listen: &str, body: &str) -> Server {
    let dir = material().dir.join(format!("nginx-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let port = free_port();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d};\n  proxy_temp_path {d};\n  fastcgi_temp_path {d};\n  uwsgi_temp_path {d};\n  scgi_temp_path {d};\n  server {{\n    listen 127.0.0.1:{port} {listen};\n    {body}\n  }}\n}}\n",
        d = dir.display(),
    );
    let conf_path = dir.join("nginx.conf");
    let _ = std::fs::write(&conf_path, conf);
    let conf_arg = conf_path.display().to_string();
    let prefix = dir.display().to_string();
    start_on("nginx", &["-p", &prefix, "-c", &conf_arg], port)
}
