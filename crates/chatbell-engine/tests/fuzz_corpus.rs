//! Every input of the committed fuzz corpora (`fuzz/corpus/<target>/`) replayed through the
//! checks the libFuzzer targets run (`fuzz/checks/`), in the normal test build: what fuzzing
//! once reached stays covered without the instrumented build. Fuzzing for new inputs is
//! `cargo xtask fuzz`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/checks/parse_frame.rs"]
mod parse_frame;
#[path = "../../../fuzz/checks/settings_load.rs"]
mod settings_load;
#[path = "../../../fuzz/checks/store_batch.rs"]
mod store_batch;

/// Runs `check` on every file of the target's corpus, in name order, and names the files that
/// fail.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 100,
        "{target}: only {} inputs in {}",
        files.len(),
        dir.display()
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("a corpus file reads");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} corpus inputs fail (reproduce one with `cargo fuzz run --sanitizer \
         none {target} <file>`):\n  {}",
        failed.len(),
        files.len(),
        failed.join("\n  ")
    );
}

#[test]
fn every_corpus_frame_parses_as_the_fuzz_check_demands() {
    replay("parse_frame", parse_frame::check);
}

#[test]
fn every_corpus_batch_is_stored_as_the_fuzz_check_demands() {
    replay("store_batch", store_batch::check);
}

#[test]
fn every_corpus_settings_file_loads_as_the_fuzz_check_demands() {
    replay("settings_load", settings_load::check);
}
