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
//! On Windows locks are mandatory, so a lock on the whole file would stop SQLite's own reads;
//! the claim is an exclusive lock on one byte far past anything SQLite reads, writes or locks
//! (its lock bytes start at 1 GiB), on the database file itself, whatever its name. Windows'
//! byte-range locks belong to the handle, so a second engine of the same process is refused
//! too, and the claim ends when the handle closes.

use std::path::{Path, PathBuf};

use super::StoreError;

/// Holds the engine's claim on a database file for as long as it lives.
#[derive(Debug)]
pub struct EngineLock {
    #[cfg(unix)]
    key: (u64, u64),
    #[cfg(windows)]
    _claim: file_guard::FileGuard<std::sync::Arc<std::fs::File>>,
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

    #[cfg(windows)]
    pub fn acquire(db: &Path) -> Result<EngineLock, StoreError> {
        // 2^63 - 2^32: far past SQLite's lock bytes (1 GiB) and any database it can write.
        const CLAIM_AT: usize = 0x7FFF_FFFF_0000_0000;
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private::dir(dir).map_err(folder_error(dir))?;
        }
        let file = crate::private::open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(db)
            .map_err(folder_error(db))?;
        let file = std::sync::Arc::new(file);
        match file_guard::try_lock(file, file_guard::Lock::Exclusive, CLAIM_AT, 1) {
            Ok(claim) => Ok(EngineLock { _claim: claim }),
            // Another handle holds it (ERROR_LOCK_VIOLATION).
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(StoreError::InUse {
                path: db.to_path_buf(),
            }),
            Err(e) => Err(folder_error(db)(e)),
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

/// `<db>.lock`: a leftover of earlier versions' claims, kept private.
pub(crate) fn sidecar_path(db: &Path) -> PathBuf {
    super::with_suffix(db, ".lock")
}
