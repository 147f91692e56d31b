//! `fipsgate proxy` as a test peer: started from a configuration text (optionally with a lowered
//! file-descriptor limit or another standard output), killed with its process group when
//! dropped, with its logs, events, metrics and process statistics at hand; and the clients the
//! proxy tests drive it with.
use super::{ca_dir, free_port, issue, material, wait_port};
use serde_json::Value;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running proxy; killed with its process group when dropped.
pub struct Proxy {
    /// The process.
    pub child: Child,
    /// Its listener's port on 127.0.0.1.
    pub port: u16,
    /// Its admin port.
    pub admin: u16,
    /// Its directory: configuration and logs.
    pub dir: PathBuf,
}

impl Proxy {
    /// Its configuration file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("proxy.toml")
    }
    /// The connection log so far (standard output).
    pub fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("stdout.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
    /// The operational events so far (standard error).
    pub fn events(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }
    /// Sends a signal (`-HUP`, `-TERM`).
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
    }
    /// An HTTP GET on the admin listener: the whole response.
    pub fn admin_get(&self, path: &str) -> String {
        super::http_get(self.admin, path, &[])
    }
    /// Waits until the connection log has a line matching `pred`, at most 10 s.
    pub fn wait_log(&self, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(v) = self.log().into_iter().find(|v| pred(v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no such log line: {:?}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Waits until standard error has an event containing `text`, at most 10 s.
    pub fn wait_event(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let events = self.events();
            if let Some(line) = events.lines().find(|l| l.contains(text)) {
                return line.to_owned();
            }
            assert!(Instant::now() < deadline, "no {text:?} event: {events}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Sends SIGHUP and returns the event the reload ended with (`reloaded` or
    /// `reload_refused`), waiting at most 5 s.
    pub fn hup(&self) -> String {
        let is_end = |l: &&str| l.contains("\"reloaded\"") || l.contains("reload_refused");
        let ended = |e: &str| e.lines().filter(is_end).count();
        let before = ended(&self.events());
        self.signal("-HUP");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let events = self.events();
            if ended(&events) > before {
                return events.lines().rfind(is_end).unwrap_or_default().to_owned();
            }
            assert!(Instant::now() < deadline, "no end of the reload: {events}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Writes a new configuration file, then [`Proxy::hup`].
    pub fn reload_to(&self, text: &str) -> String {
        let _ = std::fs::write(self.config_path(), text);
        self.hup()
    }
    /// The value of a Prometheus sample on /metrics (its name with labels, as printed).
    pub fn metric(&self, sample: &str) -> f64 {
        self.admin_get("/metrics")
            .lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }
    /// Open file descriptors (`fds`) or resident memory in kB (`rss`) of the process.
    pub fn pid_stat(&self, what: &str) -> u64 {
        let pid = self.child.id();
        match what {
            "fds" => std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64),
            _ => std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_default()
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TOML of one listener on `port` in front of `backend`, with `extra` lines in the listener
/// and `global` lines in [proxy].
pub fn config(port: u16, admin: u16, backend: &str, global: &str, extra: &str) -> String {
    let m = material();
    format!(
        "[proxy]\nadmin = \"127.0.0.1:{admin}\"\n{global}\n\n\
         [[listener]]\nname = \"web\"\nlisten = [\"127.0.0.1:{port}\"]\nbackend = \"{backend}\"\n{extra}\n\
         [[listener.certificate]]\nchain = \"{}\"\nkey = \"{}\"\n\
         [[listener.certificate]]\nchain = \"{}\"\nkey = \"{}\"\n",
        m.path("ec.crt"),
        m.path("ec.key"),
        m.path("rsa.crt"),
        m.path("rsa.key")
    )
}

/// Starts `fipsgate proxy --config` with this configuration text.
pub fn proxy(text_of: impl Fn(u16, u16) -> String) -> Proxy {
    proxy_with(text_of, Launch::default())
}

/// How a proxy is started beyond its configuration.
#[derive(Default)]
pub struct Launch {
    /// `ulimit -n` for the process.
    pub nofile: Option<u32>,
    /// Standard output (the connection log) goes here instead of `stdout.log`.
    pub stdout: Option<PathBuf>,
    /// Started by `systemd-socket-activate`, which binds the listener and admin ports and
    /// passes them on (the proxy is executed at the first connection).
    pub socket_activation: bool,
    /// Environment variables set for the process.
    pub env: Vec<(String, String)>,
}

/// Starts `fipsgate proxy --config` with this configuration text, launched as `launch` says.
pub fn proxy_with(text_of: impl Fn(u16, u16) -> String, launch: Launch) -> Proxy {
    let dir = material().dir.join(format!("proxy-{}", free_port()));
    let _ = std::fs::create_dir_all(&dir);
    let (port, admin) = (free_port(), free_port());
    let path = dir.join("proxy.toml");
    let _ = std::fs::write(&path, text_of(port, admin));
    let stdout = match &launch.stdout {
        Some(path) => std::fs::OpenOptions::new().write(true).open(path),
        None => std::fs::File::create(dir.join("stdout.log")),
    }
    .unwrap_or_else(|e| panic!("{e}"));
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap_or_else(|e| panic!("{e}"));
    let binary = env!("CARGO_BIN_EXE_fipsgate");
    let config = path.display().to_string();
    let mut command = match (launch.nofile, launch.socket_activation) {
        (Some(n), _) => {
            let mut c = Command::new("sh");
            let script = format!("ulimit -n {n} && exec \"$0\" \"$@\"");
            c.args(["-c", &script, binary]);
            c
        }
        (None, true) => {
            let mut c = Command::new("systemd-socket-activate");
            for p in [port, admin] {
                c.args(["-l", &format!("127.0.0.1:{p}")]);
            }
            c.arg(binary);
            c
        }
        (None, false) => Command::new(binary),
    };
    let child = command
        .process_group(0)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .args(["proxy", "--config", &config])
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let p = Proxy {
        child,
        port,
        admin,
        dir,
    };
    wait_port(port);
    p
}

/// `openssl s_client` against the proxy with these options, sending `input`: (success, output).
pub fn s_client(port: u16, args: &[&str], input: &str) -> (bool, String) {
    let mut all = vec!["s_client", "-connect", ""];
    let target = format!("127.0.0.1:{port}");
    all[2] = &target;
    all.extend_from_slice(args);
    let mut child = Command::new("openssl")
        .args(&all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = text.contains("Verify return code") && !text.contains("Cipher is (NONE)");
    (ok, text)
}

pub fn curl(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("curl (.ci/run installs it): {e}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

pub fn sha256(path: &str) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// nginx serving `/big.bin`, `len` random bytes, from a directory of its own: the server, the
/// file (remove it when done) and its SHA-256.
pub fn file_server(len: u64) -> (super::Server, PathBuf, String) {
    let www = material().dir.join(format!("www-{}", free_port()));
    let _ = std::fs::create_dir_all(&www);
    let big = www.join("big.bin");
    let ok = Command::new("head")
        .args(["-c", &len.to_string(), "/dev/urandom"])
        .stdout(std::fs::File::create(&big).unwrap_or_else(|e| panic!("{e}")))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "head -c {len} /dev/urandom");
    let sha = sha256(&big.display().to_string());
    let server = super::nginx_server("", &format!("root {};", www.display()));
    (server, big, sha)
}

/// Extensions of client certificates.
pub const CLIENT_EXT: &str =
    "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:client.example\n";

/// Extensions of server certificates for loopback.
pub const SERVER_EXT: &str =
    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n";

/// A fresh directory with a client CA (`ca.crt`, `ca.key`) and, for each name, `NAME.crt` and
/// `NAME.key` issued by it with subject `CN=NAME, O=Example`.
pub fn client_pki(name: &str, clients: &[&str]) -> PathBuf {
    pki(name, clients, CLIENT_EXT)
}

/// [`client_pki`] with other extensions for the issued certificates.
pub fn pki(name: &str, clients: &[&str], extensions: &str) -> PathBuf {
    let dir = ca_dir(name, "/CN=partners CA");
    for who in clients {
        issue(&dir, who, &format!("/CN={who}/O=Example"), extensions);
    }
    dir
}
