//! One writing engine per database file — the file itself, not its name: a hard link or a
//! second path to the same file must be refused too, or two engines' transactions would
//! overwrite each other's rows.
//!
//! On Unix the claim is an advisory `flock` on the database file. SQLite's own locks are
//! POSIX record locks, which are independent of `flock` on Linux and the BSDs, but which a
//! process loses on the whole file as soon as it closes *any* descriptor of it. So the
//! descriptor used for the claim is opened once per file and kept for the life of the
//! process; releasing the claim unlocks it instead of closing it.
//!
//! On Windows a lock on the database file would be mandatory and stop SQLite's own reads, so
//! the claim is on a sidecar `<db>.lock` file there.

use std::path::{Path, PathBuf};

use super::StoreError;

/// Holds the engine's claim on a database file for as long as it lives.
#[derive(Debug)]
pub struct EngineLock {
    #[cfg(unix)]
    key: (u64, u64),
    #[cfg(not(unix))]
    _file: std::fs::File,
}

fn folder_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Folder {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(unix)]
mod claims {
    use std::collections::HashMap;
    use std::fs::File;
    use std::sync::{Mutex, OnceLock};

    /// Per file (device, inode): the descriptor that carries the claim, and whether an
    /// engine of this process holds it now.
    pub type Claims = HashMap<(u64, u64), (File, bool)>;

    pub fn get() -> std::sync::MutexGuard<'static, Claims> {
        static CLAIMS: OnceLock<Mutex<Claims>> = OnceLock::new();
        CLAIMS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl EngineLock {
    /// Claims `db` (created empty and private if missing), or says who holds it.
    #[cfg(unix)]
    pub fn acquire(db: &Path) -> Result<EngineLock, StoreError> {
        use std::os::unix::fs::MetadataExt;
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private::dir(dir).map_err(folder_error(dir))?;
        }
        let in_use = || StoreError::InUse {
            path: db.to_path_buf(),
        };
        let mut claims = claims::get();
        // `stat`, not `open`: a descriptor opened and closed here would drop the locks this
        // process's SQLite connections hold on the file.
        let key = match std::fs::metadata(db) {
            Ok(meta) => Some((meta.dev(), meta.ino())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(folder_error(db)(e)),
        };
        let key = match key.filter(|k| claims.contains_key(k)) {
            Some(key) => key,
            None => {
                let file = crate::private::open_options()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(db)
                    .map_err(folder_error(db))?;
                let meta = file.metadata().map_err(folder_error(db))?;
                let key = (meta.dev(), meta.ino());
                claims.entry(key).or_insert((file, false));
                key
            }
        };
        let (file, held) = claims.get_mut(&key).expect("inserted above");
        if *held {
            return Err(in_use());
        }
        match file.try_lock() {
            Ok(()) => {
                *held = true;
                Ok(EngineLock { key })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(in_use()),
            Err(std::fs::TryLockError::Error(e)) => Err(folder_error(db)(e)),
        }
    }

    #[cfg(not(unix))]
    pub fn acquire(db: &Path) -> Result<EngineLock, StoreError> {
        let lock_path = sidecar_path(db);
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private::dir(dir).map_err(folder_error(dir))?;
        }
        let file = crate::private::open_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(folder_error(&lock_path))?;
        match file.try_lock() {
            Ok(()) => Ok(EngineLock { _file: file }),
            Err(_) => Err(StoreError::InUse {
                path: db.to_path_buf(),
            }),
        }
    }
}

#[cfg(unix)]
impl Drop for EngineLock {
    fn drop(&mut self) {
        let mut claims = claims::get();
        if let Some((file, held)) = claims.get_mut(&self.key) {
            let _ = file.unlock();
            *held = false;
        }
    }
}

/// `<db>.lock`: the claim on Windows, and a leftover of earlier versions elsewhere.
pub(crate) fn sidecar_path(db: &Path) -> PathBuf {
    super::with_suffix(db, ".lock")
}
