//! The single writer: applies batches of frames in one transaction each.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::batch::{Applied, Batch, Input, WriterState, mark_offline, mark_read_on};
use super::checkpoint::Checkpoints;
use super::{StoreError, open_rw, to_ms};
use crate::model::Focus;

/// How many forward records the store keeps.
pub const FORWARDS_KEPT: usize = 200;

pub struct Writer {
    conn: Connection,
    path: PathBuf,
    state: WriterState,
    checkpoints: Arc<Checkpoints>,
}

impl Writer {
    pub fn open(path: &Path) -> Result<Writer, StoreError> {
        let mut conn = open_rw(path)?;
        conn.set_prepared_statement_cache_capacity(32);
        let sql = |e| StoreError::from_sql(path, e);
        let checkpoints = Checkpoints::new(path);
        checkpoints.attach(&mut conn).map_err(sql)?;
        // The writer touches index pages all over a large store; a bigger cache saves rereads.
        conn.execute_batch("PRAGMA cache_size = -16000;")
            .map_err(sql)?;
        // Fewer, larger merges of the search index during bursts (default 4); queries read a
        // few more segments, which the search benchmark shows is well within its budget.
        conn.execute_batch(
            "INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 8);",
        )
        .map_err(sql)?;
        // Where the last run stopped listening: recorded on disconnect and shutdown, or, after a
        // crash, the last frame received.
        let recorded: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'offline_since'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        let offline_since = match recorded.and_then(|v| v.parse().ok()) {
            Some(ms) => Some(ms),
            None => conn
                .query_row("SELECT max(received_at) FROM events", [], |r| r.get(0))
                .map_err(sql)?,
        };
        Ok(Writer {
            conn,
            path: path.to_path_buf(),
            state: WriterState {
                offline_since,
                ..WriterState::default()
            },
            checkpoints,
        })
    }

    /// How many checkpoints of the WAL have completed since this writer opened the store (they
    /// run off its thread, once the WAL holds [`CHECKPOINT_PAGES`](super::CHECKPOINT_PAGES)).
    pub fn checkpoints(&self) -> u64 {
        self.checkpoints.done()
    }

    fn sql(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sql(&self.path, e)
    }

    /// Applies a batch in one transaction. On error nothing of the batch is kept.
    pub fn apply(&mut self, inputs: Vec<Input<'_>>, focus: Focus) -> Result<Applied, StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.sql(e))?;
        let result = (|| {
            let mut batch = Batch::begin(&self.conn, &mut self.state, focus)?;
            for input in inputs {
                batch.apply(input)?;
            }
            batch.finish()
        })();
        match result.and_then(|applied| self.conn.execute_batch("COMMIT").map(|()| applied)) {
            Ok(applied) => Ok(applied),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                // The caches may hold chats of the rolled-back batch.
                self.state.chats.clear();
                self.state.no_chat.clear();
                Err(self.sql(e))
            }
        }
    }

    /// Summaries of chats as they are now, read through the writer's own connection: a second
    /// connection would drop its whole page cache after every commit of this one.
    pub fn chats_by_id(
        &self,
        ids: &[UserId],
        typing: &dyn Fn(UserId) -> bool,
    ) -> Result<Vec<crate::model::ChatSummary>, StoreError> {
        super::read::chats_by_id(&self.conn, ids, typing).map_err(|e| self.sql(e))
    }

    pub fn unread_total(&self) -> Result<u64, StoreError> {
        super::read::unread_total(&self.conn).map_err(|e| self.sql(e))
    }

    /// Marks a chat read in its own transaction.
    pub fn mark_chat_read(&self, user_id: UserId) -> Result<bool, StoreError> {
        mark_read_on(&self.conn, user_id).map_err(|e| self.sql(e))
    }

    /// The chats waiting for the agent, read through the writer's connection (see
    /// `chats_by_id`).
    pub fn waiting(&self) -> Result<Vec<super::read::WaitingChat>, StoreError> {
        super::read::waiting(&self.conn).map_err(|e| self.sql(e))
    }

    /// Frees the connection's page cache (it fills again as pages are read) and the chats
    /// remembered between batches (a burst's thousands; they are looked up again when next
    /// written).
    pub fn release_memory(&mut self) -> Result<(), StoreError> {
        self.state.chats = Default::default();
        self.state.no_chat = Default::default();
        super::read::shrink_memory(&self.conn).map_err(|e| self.sql(e))
    }

    /// The chats snoozed, with until when (ended snoozes included: the caller compares).
    pub fn snoozes(&self) -> Result<Vec<(UserId, DateTime<Utc>)>, StoreError> {
        let run = || -> rusqlite::Result<Vec<(UserId, DateTime<Utc>)>> {
            let mut stmt = self.conn.prepare_cached(
                "SELECT user_id, snoozed_until FROM chats WHERE snoozed_until IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, super::from_ms(r.get(1)?))))?;
            rows.collect()
        };
        run().map_err(|e| self.sql(e))
    }

    /// Keeps how a forward ended; the newest [`FORWARDS_KEPT`] are kept.
    pub fn record_forward(&self, record: &crate::model::ForwardRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(record).expect("a record serializes");
        let run = || -> rusqlite::Result<()> {
            self.conn
                .prepare_cached("INSERT INTO forwards (at, record) VALUES (?1, ?2)")?
                .execute(rusqlite::params![to_ms(record.at), json])?;
            self.conn
                .prepare_cached(
                    "DELETE FROM forwards WHERE id <= (SELECT max(id) FROM forwards) - ?1",
                )?
                .execute([FORWARDS_KEPT as i64])?;
            Ok(())
        };
        run().map_err(|e| self.sql(e))
    }

    /// Snoozes a chat until `until` (`None`: unsnoozes). Returns whether the chat exists.
    pub fn snooze(
        &self,
        user_id: UserId,
        until: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("UPDATE chats SET snoozed_until = ?2 WHERE user_id = ?1")
            .and_then(|mut s| s.execute(rusqlite::params![user_id, until.map(to_ms)]))
            .map(|n| n > 0)
            .map_err(|e| self.sql(e))
    }

    /// Records that listening stopped (clean shutdown), so the next start marks the gap.
    pub fn close(mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        mark_offline(&self.conn, &mut self.state, at).map_err(|e| self.sql(e))?;
        // Fold the WAL back so the next cold start opens a compact file.
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Deletes messages, raw events and gaps received before `cutoff`, in chunks so that
    /// readers are never blocked for long, then returns the freed pages to the file system.
    pub fn remove_older_than(&self, cutoff: DateTime<Utc>) -> Result<Removed, StoreError> {
        let cutoff = to_ms(cutoff);
        let mut removed = Removed::default();
        let chunked = |table: &str, key: &str| -> rusqlite::Result<u64> {
            let sql = format!(
                "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE received_at < ?1 LIMIT 5000)"
            );
            let mut total = 0u64;
            loop {
                let n = self.conn.execute(&sql, [cutoff])?;
                total += n as u64;
                if n == 0 {
                    return Ok(total);
                }
            }
        };
        removed.messages = chunked("messages", "seq").map_err(|e| self.sql(e))?;
        removed.events = chunked("events", "id").map_err(|e| self.sql(e))?;
        self.conn
            .execute("DELETE FROM gaps WHERE to_at < ?1", [cutoff])
            .map_err(|e| self.sql(e))?;
        self.compact()?;
        Ok(removed)
    }

    /// Merges full-text segments, truncates the WAL and frees unused pages.
    pub fn compact(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "INSERT INTO messages_fts(messages_fts) VALUES ('optimize');
                 PRAGMA incremental_vacuum;
                 PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .map_err(|e| self.sql(e))
    }
}

/// The moment `days` before `now`: what a retention of `days` keeps. Days far beyond what a
/// calendar can hold keep everything rather than fail.
pub fn retention_cutoff(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    chrono::TimeDelta::try_days(days.into())
        .and_then(|span| now.checked_sub_signed(span))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Marks a chat read from outside the engine (`chatbell-cli read`, also while the app runs:
/// it waits for the engine's write transaction). Returns whether anything changed.
pub fn mark_read(path: &Path, user_id: UserId) -> Result<bool, StoreError> {
    let conn = open_rw(path)?;
    mark_read_on(&conn, user_id).map_err(|e| StoreError::from_sql(path, e))
}

/// What a retention pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    pub messages: u64,
    pub events: u64,
}
