//! The single writer: applies batches of frames in one transaction each.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chatbell_protocol::{Envelope, Event, MessageId, TimestampQuality, UserId, parse_frame};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, from_ms, open_rw, to_ms};

use crate::model::{Focus, Gap, Message, NotifyKind, display_name};

/// What the writer is given, in the order it happened.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Frame { text: &'a str, received_at: DateTime<Utc> },
    Connected { at: DateTime<Utc> },
    Disconnected { at: DateTime<Utc> },
}

/// A new chat or message that may deserve a notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub kind: NotifyKind,
    pub user_id: UserId,
    pub message_id: Option<MessageId>,
    pub name: String,
    pub text: Option<String>,
    pub file_path: Option<String>,
    /// Already stored before: shown (or not) the first time, never again.
    pub duplicate: bool,
}

/// What one batch changed, for the engine to publish after the commit.
#[derive(Debug, Default)]
pub struct Applied {
    pub messages: Vec<Message>,
    /// Chats whose summary changed, in the order first touched.
    pub changed_chats: Vec<UserId>,
    pub candidates: Vec<Candidate>,
    pub typing: Vec<UserId>,
    /// Users who sent a message: they are no longer typing.
    pub typing_done: Vec<UserId>,
    pub frames: u32,
    pub malformed: u32,
    pub duplicates: u32,
    pub gap: Option<Gap>,
}

impl Applied {
    fn touch(&mut self, user_id: UserId) {
        if !self.changed_chats.contains(&user_id) {
            self.changed_chats.push(user_id);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct KnownChat {
    user_name: Option<String>,
    username: Option<String>,
    source: Option<String>,
}

/// The most chats remembered between batches; beyond it the cache starts over (it only saves
/// lookups, the database stays the truth).
const CHAT_CACHE: usize = 50_000;

pub struct Writer {
    conn: Connection,
    path: PathBuf,
    chats: HashMap<UserId, KnownChat>,
    /// Since when no connection has been up (for the next gap marker).
    offline_since: Option<i64>,
}

fn quality_code(q: TimestampQuality) -> i64 {
    match q {
        TimestampQuality::Given => 0,
        TimestampQuality::Missing => 1,
        TimestampQuality::Invalid => 2,
    }
}

pub(crate) fn quality_from(code: i64) -> TimestampQuality {
    match code {
        1 => TimestampQuality::Missing,
        2 => TimestampQuality::Invalid,
        _ => TimestampQuality::Given,
    }
}

impl Writer {
    pub fn open(path: &Path) -> Result<Writer, StoreError> {
        let conn = open_rw(path)?;
        conn.set_prepared_statement_cache_capacity(32);
        let sql = |e| StoreError::from_sql(path, e);
        // Where the last run stopped listening: recorded on disconnect and shutdown, or, after a
        // crash, the last frame received.
        let recorded: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'offline_since'", [], |r| r.get(0))
            .optional()
            .map_err(sql)?;
        let offline_since = match recorded.and_then(|v| v.parse().ok()) {
            Some(ms) => Some(ms),
            None => conn.query_row("SELECT max(received_at) FROM events", [], |r| r.get(0)).map_err(sql)?,
        };
        Ok(Writer { conn, path: path.to_path_buf(), chats: HashMap::new(), offline_since })
    }

    fn sql(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sql(&self.path, e)
    }

    /// Applies a batch in one transaction. On error nothing of the batch is kept.
    pub fn apply(&mut self, inputs: &[Input<'_>], focus: Focus) -> Result<Applied, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| self.sql(e))?;
        let mut applied = Applied::default();
        let result = inputs.iter().try_for_each(|input| self.apply_one(input, focus, &mut applied));
        match result.and_then(|()| self.conn.execute_batch("COMMIT")) {
            Ok(()) => Ok(applied),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                // The cache may hold chats of the rolled-back batch.
                self.chats.clear();
                Err(self.sql(e))
            }
        }
    }

    fn apply_one(&mut self, input: &Input<'_>, focus: Focus, applied: &mut Applied) -> rusqlite::Result<()> {
        match *input {
            Input::Frame { text, received_at } => {
                applied.frames += 1;
                let parsed = parse_frame(text, received_at);
                self.insert_raw(text, received_at, &parsed)?;
                match parsed {
                    Ok(env) => self.apply_event(env, received_at, focus, applied)?,
                    Err(e) => {
                        applied.malformed += 1;
                        tracing::debug!(error = %e, "malformed frame kept in the raw log");
                    }
                }
            }
            Input::Connected { at } => {
                if let Some(from) = self.offline_since.take() {
                    let to = to_ms(at);
                    if to > from {
                        self.conn
                            .prepare_cached("INSERT INTO gaps (from_at, to_at) VALUES (?1, ?2)")?
                            .execute(params![from, to])?;
                        applied.gap = Some(Gap { from: from_ms(from), to: at });
                    }
                    self.conn.execute("DELETE FROM meta WHERE key = 'offline_since'", [])?;
                }
            }
            Input::Disconnected { at } => self.mark_offline(at)?,
        }
        Ok(())
    }

    fn mark_offline(&mut self, at: DateTime<Utc>) -> rusqlite::Result<()> {
        if self.offline_since.is_none() {
            let ms = to_ms(at);
            self.offline_since = Some(ms);
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('offline_since', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [ms.to_string()],
            )?;
        }
        Ok(())
    }

    fn insert_raw(
        &self,
        text: &str,
        received_at: DateTime<Utc>,
        parsed: &Result<Envelope, chatbell_protocol::ParseError>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO events (received_at, kind, user_id, ts, ts_quality, error, frame)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        match parsed {
            Ok(env) => stmt.execute(params![
                to_ms(received_at),
                env.event.name(),
                env.event.user_id(),
                to_ms(env.timestamp.utc),
                quality_code(env.timestamp.quality),
                None::<String>,
                text
            ])?,
            Err(e) => stmt.execute(params![
                to_ms(received_at),
                None::<String>,
                None::<i64>,
                None::<i64>,
                None::<i64>,
                e.to_string(),
                text
            ])?,
        };
        Ok(())
    }

    fn apply_event(&mut self, env: Envelope, received_at: DateTime<Utc>, focus: Focus, applied: &mut Applied) -> rusqlite::Result<()> {
        let sent_at = env.timestamp;
        match env.event {
            Event::NewChat(c) => {
                let known = KnownChat { user_name: c.user_name, username: c.username, source: c.source };
                let existed = self.ensure_chat(c.user_id, &known, received_at)?;
                let mut inserted = None;
                if let Some(text) = &c.first_message {
                    inserted = self.insert_message(None, c.user_id, Some(text), None, sent_at, received_at)?;
                }
                let duplicate = existed && inserted.is_none();
                if let Some(message) = inserted {
                    applied.messages.push(message);
                    applied.typing_done.push(c.user_id);
                }
                applied.touch(c.user_id);
                if focus.is_watching(c.user_id) {
                    self.mark_read(c.user_id)?;
                }
                applied.candidates.push(Candidate {
                    kind: NotifyKind::NewChat,
                    user_id: c.user_id,
                    message_id: None,
                    name: display_name(c.user_id, known.user_name.as_deref(), known.username.as_deref()),
                    text: c.first_message,
                    file_path: None,
                    duplicate,
                });
            }
            Event::NewMessage(m) => {
                // Protocol reading 4: a message for an unknown chat creates it.
                let known = KnownChat { user_name: m.user_name, username: None, source: m.source };
                self.ensure_chat(m.user_id, &known, received_at)?;
                let inserted = self.insert_message(
                    Some(m.message_id),
                    m.user_id,
                    m.text.as_deref(),
                    m.file_path.as_deref(),
                    sent_at,
                    received_at,
                )?;
                let duplicate = inserted.is_none();
                if let Some(message) = inserted {
                    applied.messages.push(message);
                    applied.typing_done.push(m.user_id);
                    applied.touch(m.user_id);
                    if focus.is_watching(m.user_id) {
                        self.mark_read(m.user_id)?;
                    }
                } else {
                    applied.duplicates += 1;
                }
                let cached = self.chats.get(&m.user_id);
                let name = display_name(
                    m.user_id,
                    cached.and_then(|c| c.user_name.as_deref()),
                    cached.and_then(|c| c.username.as_deref()),
                );
                applied.candidates.push(Candidate {
                    kind: NotifyKind::NewMessage,
                    user_id: m.user_id,
                    message_id: Some(m.message_id),
                    name,
                    text: m.text,
                    file_path: m.file_path,
                    duplicate,
                });
            }
            Event::UserTyping(t) => applied.typing.push(t.user_id),
            Event::MessageRead(r) => {
                // Receipts only move forward: a late, older one does not undo a newer one.
                self.conn
                    .prepare_cached(
                        "INSERT INTO read_receipts (user_id, last_read_message_id, at) VALUES (?1, ?2, ?3)
                         ON CONFLICT(user_id) DO UPDATE SET
                            last_read_message_id = max(last_read_message_id, excluded.last_read_message_id),
                            at = excluded.at",
                    )?
                    .execute(params![r.user_id, r.last_read_message_id, to_ms(sent_at.utc)])?;
                if self.chat_exists(r.user_id)? {
                    applied.touch(r.user_id);
                }
            }
            Event::UserOnline(p) => self.set_presence(p.user_id, true, received_at, applied)?,
            Event::UserOffline(p) => self.set_presence(p.user_id, false, received_at, applied)?,
            Event::Unknown { .. } => {}
        }
        Ok(())
    }

    fn set_presence(&mut self, user_id: UserId, online: bool, at: DateTime<Utc>, applied: &mut Applied) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO presence (user_id, online, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(user_id) DO UPDATE SET online = excluded.online, at = excluded.at",
            )?
            .execute(params![user_id, online, to_ms(at)])?;
        if self.chat_exists(user_id)? {
            applied.touch(user_id);
        }
        Ok(())
    }

    fn chat_exists(&mut self, user_id: UserId) -> rusqlite::Result<bool> {
        Ok(self.lookup_chat(user_id)?.is_some())
    }

    fn lookup_chat(&mut self, user_id: UserId) -> rusqlite::Result<Option<&KnownChat>> {
        if !self.chats.contains_key(&user_id) {
            let row = self
                .conn
                .prepare_cached("SELECT user_name, username, source FROM chats WHERE user_id = ?1")?
                .query_row([user_id], |r| Ok(KnownChat { user_name: r.get(0)?, username: r.get(1)?, source: r.get(2)? }))
                .optional()?;
            let Some(known) = row else { return Ok(None) };
            if self.chats.len() >= CHAT_CACHE {
                self.chats.clear();
            }
            self.chats.insert(user_id, known);
        }
        Ok(self.chats.get(&user_id))
    }

    /// Creates the chat or fills in what it lacked; returns whether it existed.
    /// Fields an event does not carry (`None`) never erase what is known.
    fn ensure_chat(&mut self, user_id: UserId, seen: &KnownChat, at: DateTime<Utc>) -> rusqlite::Result<bool> {
        let merged = match self.lookup_chat(user_id)? {
            Some(known) => {
                let merged = KnownChat {
                    user_name: seen.user_name.clone().or_else(|| known.user_name.clone()),
                    username: seen.username.clone().or_else(|| known.username.clone()),
                    source: seen.source.clone().or_else(|| known.source.clone()),
                };
                if merged == *known {
                    return Ok(true);
                }
                self.conn
                    .prepare_cached("UPDATE chats SET user_name = ?2, username = ?3, source = ?4 WHERE user_id = ?1")?
                    .execute(params![user_id, merged.user_name, merged.username, merged.source])?;
                self.chats.insert(user_id, merged);
                return Ok(true);
            }
            None => seen.clone(),
        };
        self.conn
            .prepare_cached(
                "INSERT INTO chats (user_id, user_name, username, source, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![user_id, merged.user_name, merged.username, merged.source, to_ms(at)])?;
        self.chats.insert(user_id, merged);
        Ok(false)
    }

    /// Inserts a message unless it is already stored (same `message_id`, or the chat's first
    /// message when `message_id` is `None`); returns it when it is new.
    fn insert_message(
        &self,
        message_id: Option<MessageId>,
        user_id: UserId,
        text: Option<&str>,
        file_path: Option<&str>,
        sent_at: chatbell_protocol::Timestamp,
        received_at: DateTime<Utc>,
    ) -> rusqlite::Result<Option<Message>> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO messages (message_id, user_id, text, file_path, sent_at, ts_quality, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                message_id,
                user_id,
                text,
                file_path,
                to_ms(sent_at.utc),
                quality_code(sent_at.quality),
                to_ms(received_at)
            ])?;
        if inserted == 0 {
            return Ok(None);
        }
        Ok(Some(Message {
            seq: self.conn.last_insert_rowid(),
            message_id,
            user_id,
            text: text.map(str::to_string),
            file_path: file_path.map(str::to_string),
            // Stored in milliseconds: what readers will see.
            sent_at: from_ms(to_ms(sent_at.utc)),
            sent_at_quality: sent_at.quality,
            received_at: from_ms(to_ms(received_at)),
        }))
    }

    fn mark_read(&self, user_id: UserId) -> rusqlite::Result<bool> {
        mark_read_on(&self.conn, user_id)
    }

    /// Marks a chat read in its own transaction.
    pub fn mark_chat_read(&self, user_id: UserId) -> Result<bool, StoreError> {
        self.mark_read(user_id).map_err(|e| self.sql(e))
    }

    /// Records that listening stopped (clean shutdown), so the next start marks the gap.
    pub fn close(mut self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.mark_offline(at).map_err(|e| self.sql(e))?;
        // Fold the WAL back so the next cold start opens a compact file.
        self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(|e| self.sql(e))?;
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
        self.conn.execute("DELETE FROM gaps WHERE to_at < ?1", [cutoff]).map_err(|e| self.sql(e))?;
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

/// The agent has seen everything in this chat. Returns whether anything changed.
fn mark_read_on(conn: &Connection, user_id: UserId) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE chats SET read_seq = last_seq, unread = 0
             WHERE user_id = ?1 AND (unread != 0 OR read_seq != last_seq)",
        )?
        .execute([user_id])?;
    Ok(changed > 0)
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
