//! Whose file this is, decided before SQLite writes a byte to it.
//!
//! Chatbell's databases carry `PRAGMA application_id = APPLICATION_ID` from their first
//! transaction. Opening a file for writing switches it to WAL and may add tables, so any other
//! SQLite file (or any other file at all) passed as `--db` must be refused first: the header
//! is read directly, and only a database that is Chatbell's, or a file that is empty, is
//! handed to SQLite for writing.

use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::StoreError;
use super::schema;

/// "CHBL": Chatbell's `PRAGMA application_id`.
pub const APPLICATION_ID: u32 = 0x4348_424C;

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const USER_VERSION_AT: usize = 60;
const APPLICATION_ID_AT: usize = 68;

/// What a database file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    /// No file, or an empty one: a new database.
    New,
    /// Chatbell's, with this schema version as of its last checkpoint.
    Chatbell,
    /// Written by a Chatbell from before the application id (tables and version match):
    /// stamped on its next write.
    Unstamped,
}

/// Reads the header and decides; never writes.
pub(crate) fn identify(path: &Path) -> Result<Identity, StoreError> {
    let foreign = |why: &str| StoreError::Foreign {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Identity::New),
        Err(source) => {
            return Err(StoreError::Folder {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let meta = file.metadata().map_err(|source| StoreError::Folder {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(foreign("it is not a regular file"));
    }
    if meta.len() == 0 {
        return Ok(Identity::New);
    }
    let mut header = [0u8; 100];
    let read = file
        .read(&mut header)
        .map_err(|source| StoreError::Folder {
            path: path.to_path_buf(),
            source,
        })?;
    if read < header.len() || &header[..16] != MAGIC {
        return Err(foreign("it is not an SQLite database"));
    }
    let word = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let version = word(USER_VERSION_AT) as usize;
    match word(APPLICATION_ID_AT) {
        APPLICATION_ID => super::known_version(version, path).map(|_| Identity::Chatbell),
        0 if (1..=schema::VERSION).contains(&version) && has_chatbell_tables(path)? => {
            Ok(Identity::Unstamped)
        }
        0 => Err(foreign("it has no Chatbell tables")),
        _ => Err(foreign("it belongs to another application")),
    }
}

/// Whether a file without an application id has the tables the first schema created.
fn has_chatbell_tables(path: &Path) -> Result<bool, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::from_sql(path, e))?;
    let count: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'
             AND name IN ('events', 'chats', 'messages', 'gaps', 'meta', 'totals')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| StoreError::from_sql(path, e))?;
    Ok(count == 6)
}
