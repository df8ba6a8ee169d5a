//! The local event store: SQLite (bundled), WAL, one writer.
//!
//! Every frame is kept verbatim in `events`; known events are also written to normalized
//! tables (chats, messages with full-text search, read receipts, presence, gaps). Writes come
//! in batches, one transaction each, from a single writer; readers use their own connections
//! (WAL lets them read while the writer writes).

mod batch;
mod checkpoint;
mod header;
mod lock;
mod read;
mod reason;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

pub use batch::{Applied, Candidate, Input};
pub use checkpoint::CHECKPOINT_PAGES;
pub use header::APPLICATION_ID;
pub use lock::EngineLock;
pub use read::{Reader, StoreCounts, WaitingChat};
pub use reason::StoreReason;
pub use schema::VERSION as SCHEMA_VERSION;
pub use write::{Removed, Writer, mark_read, retention_cutoff};

/// What went wrong with the store; [`StoreError::reason`] says which kind of trouble it is, as
/// one word to branch on.
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
    #[error(
        "{path} is not a Chatbell database ({why}); it was left untouched. Pass another file with --db, or move this one aside"
    )]
    Foreign { path: PathBuf, why: String },
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

/// The files SQLite keeps beside a database.
const SIDECARS: [&str; 3] = ["-wal", "-shm", "-journal"];

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes the database and the files beside it readable by their owner only (SQLite creates
/// its `-wal`, `-shm` and `-journal` files with the database file's mode).
fn make_private(path: &Path) -> Result<(), StoreError> {
    let folder = |source| StoreError::Folder {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private::dir(dir).map_err(|source| StoreError::Folder {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    for suffix in SIDECARS {
        crate::private::file(&with_suffix(path, suffix)).map_err(folder)?;
    }
    crate::private::file(&lock::sidecar_path(path)).map_err(folder)?;
    // Created here, not by SQLite, so that it and its sidecars start private. An existing
    // file is only chmod-ed: closing a descriptor of it would drop the locks this process's
    // SQLite connections hold on it.
    match crate::private::open_options()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            crate::private::file(path).map_err(folder)
        }
        Err(source) => Err(folder(source)),
    }
}

/// Opens (creating and migrating if needed) the database for writing. A file that is not
/// Chatbell's is refused before anything is written to it.
pub(crate) fn open_rw(path: &Path) -> Result<Connection, StoreError> {
    let identity = header::identify(path)?;
    make_private(path)?;
    let sql = |e| StoreError::from_sql(path, e);
    let conn = Connection::open(path).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    if identity == header::Identity::New {
        // Chosen before the first table exists; on an existing file it would be a no-op.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")
            .map_err(sql)?;
    }
    // Migrations first: a new file is then still in rollback-journal mode, so its first
    // transaction (which stamps the application id) lands in the file itself, and a failed
    // migration leaves no WAL switch behind.
    migrate(&conn, path)?;
    // The automatic checkpoint stays for other writing connections (`mark_read`, a store
    // opened to be created); the writer replaces it with its own, off its thread
    // (`checkpoint.rs`).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA wal_autocheckpoint = 4000;",
    )
    .map_err(sql)?;
    Ok(conn)
}

/// Opens an existing database for reading only.
pub(crate) fn open_ro(path: &Path) -> Result<Connection, StoreError> {
    let missing = || StoreError::Missing {
        path: path.to_path_buf(),
    };
    if !path.exists() {
        return Err(missing());
    }
    if header::identify(path)? == header::Identity::New {
        return Err(missing());
    }
    let sql = |e| StoreError::from_sql(path, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    if schema_version(&conn, path)? < schema::VERSION {
        // An older file: the writer migrates it; until then reads would see missing tables.
        drop(conn);
        drop(open_rw(path)?);
        return open_ro(path);
    }
    Ok(conn)
}

/// The file's schema version; a newer one than this build knows is refused.
fn schema_version(conn: &Connection, path: &Path) -> Result<usize, StoreError> {
    let version = conn
        .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        .map_err(|e| StoreError::from_sql(path, e))? as usize;
    known_version(version, path)
}

/// `found` if this build knows that schema version; a newer file is refused, never opened.
fn known_version(found: usize, path: &Path) -> Result<usize, StoreError> {
    if found > schema::VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known: schema::VERSION,
        });
    }
    Ok(found)
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let sql = |e| StoreError::from_sql(path, e);
    let version = schema_version(conn, path)?;
    let stamp = format!("PRAGMA application_id = {};", header::APPLICATION_ID);
    for (i, migration) in schema::MIGRATIONS.iter().enumerate().skip(version) {
        let apply = format!(
            "BEGIN IMMEDIATE; {stamp} {migration}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        );
        if let Err(e) = conn.execute_batch(&apply) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(sql(e));
        }
        tracing::info!(path = %path.display(), version = i + 1, "database migrated");
    }
    let id: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(sql)?;
    if id != i64::from(header::APPLICATION_ID) {
        // A database of an earlier Chatbell, from before the application id.
        conn.execute_batch(&stamp).map_err(sql)?;
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
