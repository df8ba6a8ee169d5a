//! The local event store: SQLite (bundled), WAL, one writer.
//!
//! Every frame is kept verbatim in `events`; known events are also written to normalized
//! tables (chats, messages with full-text search, read receipts, presence, gaps). Writes come
//! in batches, one transaction each, from a single writer; readers use their own connections
//! (WAL lets them read while the writer writes).

mod batch;
mod read;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

pub use read::{Reader, StoreCounts};
pub use schema::VERSION as SCHEMA_VERSION;
pub use write::{Applied, Candidate, Input, Removed, Writer, mark_read};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a Chatbell database or is damaged ({source}). Nothing was changed; move the file aside to start a new one, or check it with `chatbell-cli doctor`"
    )]
    Corrupt {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{path} was written by a newer Chatbell (schema {found}; this build knows up to {known}). Update Chatbell to open it"
    )]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error(
        "the database {path} is busy: another process holds it locked ({source}). Close the other Chatbell or chatbell-cli and try again"
    )]
    Locked {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the database {path} is in use by another running Chatbell engine. Quit it (or use --db for another file)"
    )]
    InUse { path: PathBuf },
    #[error("no database at {path} yet: run Chatbell or `chatbell-cli listen` once to create it")]
    Missing { path: PathBuf },
    #[error("database error on {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Maps a SQLite error to the variant that tells the user what to do.
    pub(crate) fn from_sql(path: &Path, source: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode::*;
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(DatabaseCorrupt | NotADatabase) => StoreError::Corrupt { path, source },
            Some(DatabaseBusy | DatabaseLocked) => StoreError::Locked { path, source },
            _ => StoreError::Sql { path, source },
        }
    }
}

/// How long a connection waits for another one's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating and migrating if needed) the database for writing.
pub(crate) fn open_rw(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let sql = |e| StoreError::from_sql(path, e);
    let conn = Connection::open(path).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    // auto_vacuum must be chosen before the first table exists; on an existing file it is a no-op.
    conn.execute_batch(
        "PRAGMA auto_vacuum = INCREMENTAL;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA wal_autocheckpoint = 4000;",
    )
    .map_err(sql)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Opens an existing database for reading only.
pub(crate) fn open_ro(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::Missing {
            path: path.to_path_buf(),
        });
    }
    let sql = |e| StoreError::from_sql(path, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    let version = conn
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map_err(sql)? as usize;
    if version > schema::VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: schema::VERSION,
        });
    }
    if version < schema::VERSION {
        // An older file: the writer migrates it; until then reads would see missing tables.
        drop(conn);
        drop(open_rw(path)?);
        return open_ro(path);
    }
    Ok(conn)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |e| StoreError::from_sql(path, e);
    let version = conn
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map_err(sql)? as usize;
    if version > schema::VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: schema::VERSION,
        });
    }
    for (i, migration) in schema::MIGRATIONS.iter().enumerate().skip(version) {
        let apply = format!(
            "BEGIN IMMEDIATE; {migration}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        );
        if let Err(e) = conn.execute_batch(&apply) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(sql(e));
        }
        tracing::info!(path = %path.display(), version = i + 1, "database migrated");
    }
    Ok(())
}

/// Checks the whole file (`PRAGMA integrity_check`); returns the problems found.
pub fn integrity_check(path: &Path) -> Result<Vec<String>, StoreError> {
    let conn = open_ro(path)?;
    let mut stmt = conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| StoreError::from_sql(path, e))?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| StoreError::from_sql(path, e))?;
    Ok(rows.into_iter().filter(|r| r != "ok").collect())
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Holds the engine's exclusive claim on a database file for as long as it lives, so two
/// engines (the app and `chatbell-cli listen`) never write one file at once.
#[derive(Debug)]
pub struct EngineLock {
    _file: std::fs::File,
}

impl EngineLock {
    pub fn acquire(db: &Path) -> Result<EngineLock, StoreError> {
        let mut lock_path = db.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::Folder {
                path: lock_path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(EngineLock { _file: file }),
            Err(_) => Err(StoreError::InUse {
                path: db.to_path_buf(),
            }),
        }
    }
}
