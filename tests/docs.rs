//! Generated documentation matches the command line: docs/usage.md and docs/man/ are what
//! `fipsgate docs` makes now (regenerate with `fipsgate docs usage > docs/usage.md` and
//! `fipsgate docs man docs/man`).
mod support;

use std::path::Path;
use support::*;

#[test]
fn usage_md_matches_the_help() {
    let out = fipsgate(&["docs", "usage"]);
    let published =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/usage.md"))
            .unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&out.stdout) == published,
        "docs/usage.md is stale: run `fipsgate docs usage > docs/usage.md`"
    );
}

#[test]
fn man_pages_match_the_help() {
    let dir = material().dir.join(format!("man-{}", free_port()));
    let d = dir.display().to_string();
    assert_eq!(fipsgate(&["docs", "man", &d]).status.code(), Some(0));
    let published = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut old: Vec<String> = std::fs::read_dir(&published)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    old.sort();
    assert_eq!(
        names, old,
        "docs/man is stale: run `fipsgate docs man docs/man`"
    );
    for n in &names {
        assert!(
            std::fs::read(dir.join(n)).ok() == std::fs::read(published.join(n)).ok(),
            "docs/man/{n} is stale: run `fipsgate docs man docs/man`"
        );
    }
}
