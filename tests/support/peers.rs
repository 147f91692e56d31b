//! Independent TLS and SSH implementations from PyPI, and the checkers of evidence formats, in
//! virtualenvs made once per machine under the target directory (pinned versions; a second test
//! binary reuses them).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The PyPI peers and their versions.
const PACKAGES: &[&str] = &["tlslite-ng==0.8.2", "paramiko==3.5.1", "asyncssh==2.21.0"];

/// The checkers of evidence formats: CycloneDX's own validator and a JUnit XML parser.
const EVIDENCE: &[&str] = &[
    "cyclonedx-python-lib[json-validation]==11.12.0",
    "junitparser==5.0.3",
];

/// The virtualenv holding [`PACKAGES`]; made on first use.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| make_venv("peers", PACKAGES))
}

/// The virtualenv holding [`EVIDENCE`]'s python; made on first use.
pub fn evidence_python() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| make_venv("evidence", EVIDENCE))
        .join("bin/python")
}

/// A virtualenv under the target directory with these pinned packages, made once per machine
/// (a second test binary reuses it).
fn make_venv(purpose: &str, packages: &[&str]) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let name = packages.join("+").replace(['=', '.', '[', ']'], "_");
    let dir = root.join(format!("{purpose}-{name}"));
    if dir.join("ready").exists() {
        return dir;
    }
    // Made aside and renamed into place, so concurrent test binaries never see half a venv.
    let building = root.join(format!("{purpose}-{name}.{}", std::process::id()));
    let run = |program: &Path, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _ = std::fs::remove_dir_all(&building);
    let target = building.display().to_string();
    run(Path::new("python3"), &["-m", "venv", &target]);
    let mut install = vec![
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ];
    install.extend_from_slice(packages);
    run(&building.join("bin/python"), &install);
    let _ = std::fs::write(building.join("ready"), "");
    if std::fs::rename(&building, &dir).is_err() {
        // Another binary got there first.
        let _ = std::fs::remove_dir_all(&building);
    }
    dir
}

/// The virtualenv's python.
pub fn python() -> PathBuf {
    venv().join("bin/python")
}

/// Runs a Python snippet in the virtualenv and returns its standard output.
pub fn python_output(code: &str) -> String {
    let out = Command::new(python())
        .args(["-c", code])
        .output()
        .unwrap_or_else(|e| panic!("python: {e}"));
    assert!(
        out.status.success(),
        "python {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a peer's build and insists that it succeeds.
fn build(mut cmd: Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Go crypto/tls peer (tests/peers/go-tls), built once per test binary with Debian's Go
/// and the standard library only.
fn go_tls_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let bin = tmp.join(format!("go-tls-{}", std::process::id()));
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/go-tls/main.go");
        let mut go = Command::new("go");
        go.args(["build", "-o"])
            .arg(&bin)
            .arg(&source)
            .env("GO111MODULE", "off")
            .env("GOCACHE", tmp.join("go-cache"))
            .env("GOPATH", tmp.join("go-path"));
        build(go, "go build (.ci/run installs golang-go)");
        bin
    })
}

/// Go crypto/tls flags for TLS 1.2 and 1.3 with three RSA-compatible TLS 1.2 suites, P-256 and
/// X25519, and three signature schemes (the certificate and key are added by the caller).
pub const GO_TLS12_13: [&str; 10] = [
    "-min",
    "tls1.2",
    "-max",
    "tls1.3",
    "-suites",
    "C02F,C030,CCA8",
    "-curves",
    "secp256r1,x25519",
    "-sigalgs",
    "0804,0501,0401",
];

/// Starts the Go crypto/tls server with these flags (besides -listen), and returns it with what
/// crypto/tls says the configuration accepts.
pub fn go_tls(flags: &[&str]) -> (super::Server, serde_json::Value) {
    let mut cmd = Command::new(go_tls_binary());
    cmd.args(["-listen", "127.0.0.1:0"]).args(flags);
    start_reporting(cmd)
}

/// Starts a Python SSH server of tests/peers (`paramiko_server.py`, `asyncssh_server.py`) with
/// this RSA host key (PEM), and returns it with the KEXINIT lists its library builds and the
/// key's fingerprint.
pub fn python_ssh(script: &str, host_key: &str) -> (super::Server, serde_json::Value) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(script);
    let mut cmd = Command::new(python());
    // The libraries log a traceback for every probe they refuse.
    cmd.arg(script)
        .arg(host_key)
        .stderr(std::process::Stdio::null());
    start_reporting(cmd)
}

/// Starts a peer that prints one JSON line (its port and its ground truth) before it serves.
fn start_reporting(mut cmd: Command) -> (super::Server, serde_json::Value) {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stdout = child.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        if let Some(out) = stdout {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap_or_default();
    let truth: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{cmd:?} printed {line:?}: {e}"));
    let port = truth["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or_else(|| panic!("{cmd:?} gave no port: {truth}"));
    (super::Server::adopt(child, port), truth)
}

/// The JSSE peer (tests/peers/jsse), compiled once per test binary with the JDK's javac.
fn jsse_classes() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("jsse-{}", std::process::id()));
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/jsse/TlsServer.java");
        let mut javac = Command::new("javac");
        javac.arg("-d").arg(&dir).arg(&source);
        build(javac, "javac (.ci/run installs openjdk-17-jdk-headless)");
        dir
    })
}

/// JSSE's settings beyond its keystore: protocols, suites, named groups and the signature
/// schemes its server may sign with, each comma-separated in JSSE's names.
pub struct JsseSettings<'a> {
    /// `SSLParameters.setProtocols`.
    pub protocols: &'a str,
    /// `SSLParameters.setCipherSuites`, in the server's order.
    pub suites: &'a str,
    /// `jdk.tls.namedGroups`.
    pub groups: &'a str,
    /// `jdk.tls.server.SignatureSchemes`.
    pub signature_schemes: &'a str,
}

/// Starts the JSSE server with a PKCS#12 keystore and these settings, and returns it with what
/// JSSE says it has in effect.
pub fn jsse(
    keystore: &str,
    password: &str,
    settings: &JsseSettings,
) -> (super::Server, serde_json::Value) {
    let JsseSettings {
        protocols,
        suites,
        groups,
        signature_schemes,
    } = settings;
    let mut cmd = Command::new("java");
    cmd.arg(format!("-Djdk.tls.namedGroups={groups}"))
        .arg(format!(
            "-Djdk.tls.server.SignatureSchemes={signature_schemes}"
        ))
        .arg("-cp")
        .arg(jsse_classes())
        .args(["TlsServer", keystore, password, protocols, suites]);
    start_reporting(cmd)
}

/// The russh peer (tests/peers/russh-server), built once per machine with its own lockfile, in
/// its own target directory: it is no part of fipsgate's dependency tree.
fn russh_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("russh");
        let manifest =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/russh-server/Cargo.toml");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build_cmd = Command::new(cargo);
        build_cmd
            .args([
                "build",
                "--release",
                "--locked",
                "--quiet",
                "--manifest-path",
            ])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target);
        build(build_cmd, "cargo build of tests/peers/russh-server");
        target.join("release/russh-peer")
    })
    .clone()
}

/// Starts the russh SSH server with this host key (OpenSSH format), and returns it with the
/// KEXINIT lists russh builds for it.
pub fn russh(host_key: &str) -> (super::Server, serde_json::Value) {
    let mut cmd = Command::new(russh_binary());
    cmd.arg(host_key).stderr(std::process::Stdio::null());
    start_reporting(cmd)
}
