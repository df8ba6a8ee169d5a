//! libFuzzer's entry to `fuzz/checks/parse_frame.rs`, which says what it feeds and what must hold.
//! The same check replays the committed corpus in the normal test build
//! (`crates/chatbell-engine/tests/fuzz_corpus.rs`).

#![no_main]

#[path = "../checks/parse_frame.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
