//! Imports run one way in the window (`chatbell_testkit::layering`): `commands` → `backend` →
//! `remote` → `desktop` → the Tauri-only `window` and `tray`, which know nothing of the
//! backend (`lib.rs` turns the window's events into the backend's calls).

#[test]
fn no_module_uses_one_that_uses_it_back() {
    chatbell_testkit::layering::assert_one_way(env!("CARGO_MANIFEST_DIR"), ("remote", "desktop"));
}
