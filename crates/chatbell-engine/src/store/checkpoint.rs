//! Folding the WAL back into the database, off the writer's thread.
//!
//! SQLite's own automatic checkpoint runs inside the commit that crosses its threshold, on
//! the writer's thread: every few thousand pages one commit waited while megabytes were
//! copied and synced, and every frame queued behind it waited too, notifications included.
//! With it, frame → `Notify` p99 was 7.2–8.5 ms on this machine; without it, 2.3–2.5 ms
//! (`chatbell-bench --only latency`, three runs each). So the writer only notices the WAL has
//! grown, and a thread of its own runs a PASSIVE checkpoint, which never blocks the writer's
//! commits or anyone's reads. One runs at a time, and none while the WAL is small; the thread
//! ends with its checkpoint, so nothing stays behind while idle.

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};

use super::BUSY_TIMEOUT;

/// Pages in the WAL before a checkpoint is started (SQLite's default is 1,000; 4,000 pages,
/// 16 MB, fold a burst back in fewer, larger passes).
pub const CHECKPOINT_PAGES: c_int = 4000;

/// Starts checkpoints of one database when its writer reports the WAL's size.
pub(crate) struct Checkpoints {
    path: PathBuf,
    running: AtomicBool,
    done: AtomicU64,
}

impl Checkpoints {
    pub fn new(path: &Path) -> Arc<Checkpoints> {
        Arc::new(Checkpoints {
            path: path.to_path_buf(),
            running: AtomicBool::new(false),
            done: AtomicU64::new(0),
        })
    }

    /// Hooks into `conn`'s commits, in place of SQLite's automatic checkpoint (which the
    /// hook replaces on that connection).
    pub fn attach(self: &Arc<Self>, conn: &mut Connection) -> rusqlite::Result<()> {
        let this = self.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: c_int| {
            if pages >= CHECKPOINT_PAGES {
                this.start();
            }
            Ok(())
        }))
    }

    /// How many checkpoints have completed.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Acquire)
    }

    fn start(self: &Arc<Self>) {
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        let spawned = std::thread::Builder::new()
            .name("chatbell-checkpoint".into())
            .spawn(move || {
                // Cleared however the checkpoint ends, so a failure cannot stop the next one.
                let _running = Running(&this.running);
                match checkpoint(&this.path) {
                    Ok((frames, copied)) => {
                        this.done.fetch_add(1, Ordering::AcqRel);
                        tracing::debug!(frames, copied, "checkpointed the WAL");
                    }
                    // The WAL only grows until the next one: nothing is lost.
                    Err(e) => tracing::warn!(error = %e, "checkpointing the WAL failed"),
                }
            });
        if let Err(e) = spawned {
            self.running.store(false, Ordering::Release);
            tracing::warn!(error = %e, "cannot start a thread to checkpoint the WAL");
        }
    }
}

struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// One PASSIVE checkpoint on a connection of its own: the WAL's frames, and how many of them
/// are now in the database.
fn checkpoint(path: &Path) -> rusqlite::Result<(c_int, c_int)> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE)
}
