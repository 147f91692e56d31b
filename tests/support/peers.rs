//! Independent TLS and SSH implementations from PyPI, in a virtualenv made once per machine
//! under the target directory (pinned versions; a second test binary reuses it).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The PyPI peers and their versions.
const PACKAGES: &[&str] = &["tlslite-ng==0.8.2"];

/// The virtualenv holding [`PACKAGES`]; made on first use.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let name = PACKAGES.join("+").replace(['=', '.'], "_");
        let dir = root.join(format!("peers-{name}"));
        if dir.join("ready").exists() {
            return dir;
        }
        // Made aside and renamed into place, so concurrent test binaries never see half a venv.
        let building = root.join(format!("peers-{name}.{}", std::process::id()));
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
        install.extend_from_slice(PACKAGES);
        run(&building.join("bin/python"), &install);
        let _ = std::fs::write(building.join("ready"), "");
        if std::fs::rename(&building, &dir).is_err() {
            // Another binary got there first.
            let _ = std::fs::remove_dir_all(&building);
        }
        dir
    })
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
