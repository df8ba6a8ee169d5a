//! Settings loading on arbitrary file contents: never a panic; a file that is refused gives the
//! defaults and is kept aside byte for byte; a file that is accepted saves and loads back equal.

use std::path::Path;
use std::sync::OnceLock;

use chatbell_engine::settings::{Settings, SettingsError};

/// One folder for the whole run, emptied after every input.
fn folder() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder"))
        .path()
}

fn empty(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("the folder lists").flatten() {
        std::fs::remove_file(entry.path()).expect("a file in the folder is removed");
    }
}

pub fn check(data: &[u8]) {
    let dir = folder();
    let path = dir.join("settings.json");
    std::fs::write(&path, data).expect("settings written");

    let (settings, error) = Settings::load(&path);
    match error {
        None => {
            settings.validate().expect("loaded settings are valid");
            settings
                .save(&path)
                .unwrap_or_else(|e| panic!("accepted settings fail to save: {e}"));
            let (again, error) = Settings::load(&path);
            assert!(
                error.is_none(),
                "saved settings fail to load: {}",
                error.unwrap()
            );
            assert_eq!(again, settings, "settings change on save and load");
        }
        Some(SettingsError::Unreadable { moved_to, .. }) => {
            assert_eq!(settings, Settings::default());
            assert!(!path.exists(), "a refused file is moved, not left in place");
            assert_eq!(
                std::fs::read(&moved_to).expect("the refused file is kept"),
                data,
                "the refused file is kept unchanged"
            );
        }
        Some(SettingsError::Read { .. }) => {
            // A file that cannot be read is reported and left alone; the defaults are used.
            assert_eq!(settings, Settings::default());
            assert_eq!(std::fs::read(&path).expect("still there"), data);
        }
        Some(other) => panic!("unexpected error loading settings: {other}"),
    }
    empty(dir);
}
