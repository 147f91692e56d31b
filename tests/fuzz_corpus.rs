//! Replays every committed fuzz input (fuzz/corpus/<target>/ and fuzz/regressions/<target>/)
//! through the fuzz targets' bodies on stable Rust: the CI smoke of docs/fuzzing.md. An input
//! that once crashed a target stays in fuzz/regressions/ and fails this test if it comes back.
#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn committed_fuzz_inputs_run_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut total = 0;
    for (name, target) in targets::ALL {
        let mut inputs = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(data) = std::fs::read(entry.path()) else {
                    continue;
                };
                let started = Instant::now();
                target(&data);
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "{name}: {} took {:?}",
                    entry.path().display(),
                    started.elapsed()
                );
                inputs += 1;
            }
        }
        assert!(inputs > 0, "no committed input for fuzz target {name}");
        total += inputs;
    }
    assert!(total >= targets::ALL.len());
}
