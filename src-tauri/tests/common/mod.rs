//! What the page's tests share: where the page's source is, and its modules.

use std::path::{Path, PathBuf};

/// The page's source, `ui/`.
pub fn ui() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui")
}

/// Every module of the page: `ui/js` and the folders under it.
pub fn modules() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![ui().join("js")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "js") {
                found.push(path);
            }
        }
    }
    assert!(found.len() > 15, "found only {found:?}");
    found
}
