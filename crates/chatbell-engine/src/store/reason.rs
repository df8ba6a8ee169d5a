//! What kind of trouble a [`StoreError`] is, as one word a program can branch on: the desktop
//! app says per reason what happened and what to do, while the error's message keeps the
//! details (the path, SQLite's words). The one place a store error becomes a reason.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StoreError;

/// Why the store could not be used. Serialized in `snake_case` (`"in_use"`); `docs/ipc.md`
/// lists them, and the app's contract test checks that the list there and the UI's words
/// follow [`StoreReason::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreReason {
    /// Another Chatbell engine (the app or `chatbell-cli listen`) has the file open.
    InUse,
    /// Another program held SQLite's lock on the file for longer than the busy timeout.
    Locked,
    /// SQLite found the file damaged, or not a database at all; it was left as it was.
    Corrupt,
    /// Written by a newer Chatbell (a schema this build does not know); refused, unchanged.
    TooNew,
    /// Another program's file, or no SQLite file at all; left byte-identical.
    Foreign,
    /// No database yet (only reading asks for an existing one).
    Missing,
    /// The folder or the files in it cannot be created, opened, read or made private.
    Folder,
    /// The disk (or the user's quota) is full.
    DiskFull,
    /// Any other error SQLite reported.
    Sql,
}

impl StoreReason {
    /// Every reason, in the order `docs/ipc.md` lists them.
    pub const ALL: [StoreReason; 9] = [
        StoreReason::InUse,
        StoreReason::Locked,
        StoreReason::Corrupt,
        StoreReason::TooNew,
        StoreReason::Foreign,
        StoreReason::Missing,
        StoreReason::Folder,
        StoreReason::DiskFull,
        StoreReason::Sql,
    ];
}

impl StoreError {
    /// The file (or folder) the trouble is with: the desktop app names it beside its own words
    /// for the reason.
    pub fn path(&self) -> &Path {
        match self {
            StoreError::InUse { path }
            | StoreError::Locked { path, .. }
            | StoreError::Corrupt { path, .. }
            | StoreError::TooNew { path, .. }
            | StoreError::Foreign { path, .. }
            | StoreError::Missing { path }
            | StoreError::Folder { path, .. }
            | StoreError::Sql { path, .. } => path,
        }
    }

    /// The reason, for a program to branch on; `Display` says the rest.
    pub fn reason(&self) -> StoreReason {
        use rusqlite::ErrorCode;
        match self {
            StoreError::InUse { .. } => StoreReason::InUse,
            StoreError::Locked { .. } => StoreReason::Locked,
            StoreError::Corrupt { .. } => StoreReason::Corrupt,
            StoreError::TooNew { .. } => StoreReason::TooNew,
            StoreError::Foreign { .. } => StoreReason::Foreign,
            StoreError::Missing { .. } => StoreReason::Missing,
            StoreError::Folder { source, .. } => match source.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                    StoreReason::DiskFull
                }
                _ => StoreReason::Folder,
            },
            StoreError::Sql { source, .. } => match source.sqlite_error_code() {
                Some(ErrorCode::DiskFull) => StoreReason::DiskFull,
                // The file or its folder cannot be opened or written (permissions, a read-only
                // mount): the same advice as for the folder.
                Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
                    StoreReason::Folder
                }
                _ => StoreReason::Sql,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use rusqlite::ErrorCode;

    use super::*;
    use crate::store::{EngineLock, open_rw};

    fn sqlite(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    fn io(kind: std::io::ErrorKind) -> std::io::Error {
        std::io::Error::from(kind)
    }

    #[test]
    fn every_store_error_has_its_reason() {
        let path = PathBuf::from("/data/chatbell.db");
        let cases = [
            (StoreError::InUse { path: path.clone() }, StoreReason::InUse),
            (
                StoreError::Locked {
                    path: path.clone(),
                    source: sqlite(rusqlite::ffi::SQLITE_BUSY),
                },
                StoreReason::Locked,
            ),
            (
                StoreError::Corrupt {
                    path: path.clone(),
                    source: sqlite(rusqlite::ffi::SQLITE_CORRUPT),
                },
                StoreReason::Corrupt,
            ),
            (
                StoreError::TooNew {
                    path: path.clone(),
                    found: 99,
                    known: 2,
                },
                StoreReason::TooNew,
            ),
            (
                StoreError::Foreign {
                    path: path.clone(),
                    why: "it is not an SQLite database".into(),
                },
                StoreReason::Foreign,
            ),
            (
                StoreError::Missing { path: path.clone() },
                StoreReason::Missing,
            ),
            (
                StoreError::Folder {
                    path: path.clone(),
                    source: io(std::io::ErrorKind::PermissionDenied),
                },
                StoreReason::Folder,
            ),
            (
                StoreError::Folder {
                    path: path.clone(),
                    source: io(std::io::ErrorKind::StorageFull),
                },
                StoreReason::DiskFull,
            ),
            (
                StoreError::Folder {
                    path: path.clone(),
                    source: io(std::io::ErrorKind::QuotaExceeded),
                },
                StoreReason::DiskFull,
            ),
            (
                StoreError::Sql {
                    path: path.clone(),
                    source: sqlite(rusqlite::ffi::SQLITE_FULL),
                },
                StoreReason::DiskFull,
            ),
            (
                StoreError::Sql {
                    path: path.clone(),
                    source: sqlite(rusqlite::ffi::SQLITE_READONLY),
                },
                StoreReason::Folder,
            ),
            (
                StoreError::Sql {
                    path: path.clone(),
                    source: sqlite(rusqlite::ffi::SQLITE_CANTOPEN),
                },
                StoreReason::Folder,
            ),
            (
                StoreError::Sql {
                    path: path.clone(),
                    source: sqlite(rusqlite::ffi::SQLITE_IOERR),
                },
                StoreReason::Sql,
            ),
            (
                StoreError::Sql {
                    path: path.clone(),
                    source: rusqlite::Error::QueryReturnedNoRows,
                },
                StoreReason::Sql,
            ),
        ];
        for (error, reason) in &cases {
            assert_eq!(error.reason(), *reason, "{error}");
            assert_eq!(error.path(), path, "{error}");
        }
        // ALL is what `reason` can answer: nothing missing, nothing that never happens.
        let answered: BTreeSet<_> = cases.iter().map(|(_, r)| format!("{r:?}")).collect();
        let all: BTreeSet<_> = StoreReason::ALL.iter().map(|r| format!("{r:?}")).collect();
        assert_eq!(answered, all);
    }

    #[test]
    fn sqlite_codes_become_the_variant_that_has_the_reason() {
        let path = Path::new("/data/chatbell.db");
        let cases = [
            (rusqlite::ffi::SQLITE_BUSY, StoreReason::Locked),
            (rusqlite::ffi::SQLITE_LOCKED, StoreReason::Locked),
            (rusqlite::ffi::SQLITE_CORRUPT, StoreReason::Corrupt),
            (rusqlite::ffi::SQLITE_NOTADB, StoreReason::Corrupt),
            (rusqlite::ffi::SQLITE_FULL, StoreReason::DiskFull),
            (rusqlite::ffi::SQLITE_ERROR, StoreReason::Sql),
        ];
        for (code, reason) in cases {
            let error = StoreError::from_sql(path, sqlite(code));
            assert_eq!(error.reason(), reason, "{code}: {error}");
        }
        assert_eq!(
            sqlite(rusqlite::ffi::SQLITE_FULL).sqlite_error_code(),
            Some(ErrorCode::DiskFull)
        );
    }

    #[test]
    fn reasons_are_snake_case_words() {
        let words: Vec<_> = StoreReason::ALL
            .iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect();
        assert_eq!(
            words,
            [
                "in_use",
                "locked",
                "corrupt",
                "too_new",
                "foreign",
                "missing",
                "folder",
                "disk_full",
                "sql"
            ]
        );
    }

    #[test]
    fn a_second_engine_on_the_same_file_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chatbell.db");
        let first = EngineLock::acquire(&db).unwrap();
        let second = EngineLock::acquire(&db).expect_err("the file is claimed");
        assert_eq!(second.reason(), StoreReason::InUse, "{second}");
        drop(first);
        drop(EngineLock::acquire(&db).expect("released"));
    }

    #[test]
    fn a_file_another_program_holds_locked_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chatbell.db");
        drop(open_rw(&db).unwrap());
        // Another program's connection (a database viewer, a backup tool) takes the file out of
        // WAL and holds an exclusive lock: not even the schema can be read until it lets go.
        let other = rusqlite::Connection::open(&db).unwrap();
        other
            .execute_batch("PRAGMA journal_mode = DELETE; BEGIN EXCLUSIVE;")
            .unwrap();
        let err = open_rw(&db).expect_err("the lock is held");
        assert_eq!(err.reason(), StoreReason::Locked, "{err}");
        other.execute_batch("COMMIT;").unwrap();
        drop(other);
        drop(open_rw(&db).expect("let go"));
    }

    #[test]
    fn a_damaged_file_is_corrupt_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chatbell.db");
        drop(open_rw(&db).unwrap());
        let mut bytes = std::fs::read(&db).unwrap();
        // Keep the 100-byte header (so it still reads as Chatbell's), garble the schema's page.
        for b in &mut bytes[100..4096] {
            *b = 0xA5;
        }
        std::fs::write(&db, &bytes).unwrap();
        let err = open_rw(&db).expect_err("damaged");
        assert_eq!(err.reason(), StoreReason::Corrupt, "{err}");
        assert_eq!(std::fs::read(&db).unwrap(), bytes, "nothing was changed");
    }
}
