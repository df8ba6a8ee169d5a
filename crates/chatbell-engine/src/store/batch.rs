//! One write batch: every frame of it applied inside one transaction, with the statements it
//! needs prepared once for the whole batch.

use std::collections::HashMap;

use chatbell_protocol::{
    Envelope, Event, MessageId, ParseError, Timestamp, TimestampQuality, UserId, parse_frame,
};
use chrono::{DateTime, Utc};
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};

use super::{from_ms, to_ms};
use crate::model::{Focus, Gap, Message, NotifyKind, display_name};

/// What the writer is given, in the order it happened.
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// A frame as received; `parsed` when the reader already parsed it (off the writer's
    /// thread), else the writer parses it.
    Frame {
        text: &'a str,
        received_at: DateTime<Utc>,
        parsed: Option<Result<Envelope, ParseError>>,
    },
    Connected {
        at: DateTime<Utc>,
    },
    Disconnected {
        at: DateTime<Utc>,
    },
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
    /// A new chat's, for the web panel's link in a forward.
    pub username: Option<String>,
    pub source: Option<String>,
}

/// What one batch changed, for the engine to publish after the commit.
#[derive(Debug, Default)]
pub struct Applied {
    pub messages: Vec<Message>,
    /// Chats whose summary changed, in the order first touched.
    pub changed_chats: Vec<UserId>,
    pub candidates: Vec<Candidate>,
    /// Typing started (`true`, from `user_typing`) or ended (`false`: the user's message
    /// arrived), in the order the events came.
    pub typing: Vec<(UserId, bool)>,
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

/// What is known of a chat between batches.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct KnownChat {
    pub user_name: Option<String>,
    pub username: Option<String>,
    pub source: Option<String>,
}

/// The most chats remembered between batches; beyond it the cache starts over (it only saves
/// lookups, the database stays the truth).
const CHAT_CACHE: usize = 50_000;

/// What the writer keeps across batches.
#[derive(Debug, Default)]
pub(super) struct WriterState {
    pub chats: HashMap<UserId, KnownChat>,
    /// Users known to have no chat (presence and receipts come for them before `new_chat`).
    pub no_chat: std::collections::HashSet<UserId>,
    /// Since when no connection has been up (for the next gap marker), ms.
    pub offline_since: Option<i64>,
}

pub(super) fn quality_code(q: TimestampQuality) -> i64 {
    match q {
        TimestampQuality::Given => 0,
        TimestampQuality::Missing => 1,
        TimestampQuality::Invalid => 2,
    }
}

/// The inverse of [`quality_code`].
pub(crate) fn quality_from(code: i64) -> TimestampQuality {
    match code {
        1 => TimestampQuality::Missing,
        2 => TimestampQuality::Invalid,
        _ => TimestampQuality::Given,
    }
}

/// Text as the search index holds it: ё folded into е (see the schema), so the two
/// spellings of a word find each other.
pub(crate) fn fold_for_index(text: &str) -> String {
    text.replace('ё', "е").replace('Ё', "Е")
}

/// The statements a frame may need, prepared once per batch: looking each up in the
/// statement cache per row cost a tenth of the writer's time.
struct Hot<'c> {
    event: CachedStatement<'c>,
    message: CachedStatement<'c>,
    fts: CachedStatement<'c>,
    chat_lookup: CachedStatement<'c>,
    chat_insert: CachedStatement<'c>,
    chat_update: CachedStatement<'c>,
    presence_update: CachedStatement<'c>,
    presence_insert: CachedStatement<'c>,
}

impl<'c> Hot<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Hot<'c>> {
        Ok(Hot {
            event: conn.prepare_cached(
                "INSERT INTO events (received_at, kind, user_id, ts, ts_quality, error, frame) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            message: conn.prepare_cached(
                "INSERT OR IGNORE INTO messages (message_id, user_id, text, file_path, sent_at, ts_quality, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            fts: conn.prepare_cached("INSERT INTO messages_fts (rowid, text) VALUES (?1, ?2)")?,
            chat_lookup: conn.prepare_cached("SELECT user_name, username, source FROM chats WHERE user_id = ?1")?,
            chat_insert: conn.prepare_cached(
                "INSERT INTO chats (user_id, user_name, username, source, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            chat_update: conn.prepare_cached("UPDATE chats SET user_name = ?2, username = ?3, source = ?4 WHERE user_id = ?1")?,
            presence_update: conn.prepare_cached("UPDATE presence SET online = ?2, at = ?3 WHERE user_id = ?1")?,
            presence_insert: conn.prepare_cached("INSERT INTO presence (user_id, online, at) VALUES (?1, ?2, ?3)")?,
        })
    }
}

/// A batch in progress.
pub(super) struct Batch<'w> {
    conn: &'w Connection,
    hot: Hot<'w>,
    state: &'w mut WriterState,
    focus: Focus,
    /// Per chat: new messages and the newest seq, written once at the end.
    new_per_chat: HashMap<UserId, (u32, i64)>,
    /// Chats watched by the agent that got messages.
    watched: Vec<UserId>,
    pub applied: Applied,
}

impl<'w> Batch<'w> {
    pub fn begin(
        conn: &'w Connection,
        state: &'w mut WriterState,
        focus: Focus,
    ) -> rusqlite::Result<Batch<'w>> {
        Ok(Batch {
            conn,
            hot: Hot::prepare(conn)?,
            state,
            focus,
            new_per_chat: HashMap::new(),
            watched: Vec::new(),
            applied: Applied::default(),
        })
    }

    pub fn apply(&mut self, input: Input<'_>) -> rusqlite::Result<()> {
        match input {
            Input::Frame {
                text,
                received_at,
                parsed,
            } => {
                self.applied.frames += 1;
                let parsed = parsed.unwrap_or_else(|| parse_frame(text, received_at));
                self.insert_raw(text, received_at, &parsed)?;
                match parsed {
                    Ok(env) => self.apply_event(env, received_at)?,
                    Err(e) => {
                        self.applied.malformed += 1;
                        tracing::debug!(error = %e, "malformed frame kept in the raw log");
                    }
                }
            }
            Input::Connected { at } => {
                if let Some(from) = self.state.offline_since.take() {
                    let to = to_ms(at);
                    if to > from {
                        self.conn
                            .prepare_cached("INSERT INTO gaps (from_at, to_at) VALUES (?1, ?2)")?
                            .execute(params![from, to])?;
                        // As stored (milliseconds): what is told now is what is read later.
                        self.applied.gap = Some(Gap {
                            from: from_ms(from),
                            to: from_ms(to),
                        });
                    }
                    self.conn
                        .execute("DELETE FROM meta WHERE key = 'offline_since'", [])?;
                }
            }
            Input::Disconnected { at } => mark_offline(self.conn, self.state, at)?,
        }
        Ok(())
    }

    /// Adds the batch's new messages to their chats, then marks the watched ones read.
    pub fn finish(mut self) -> rusqlite::Result<Applied> {
        let mut update = self
            .conn
            .prepare_cached("UPDATE chats SET last_seq = max(last_seq, ?2), unread = unread + ?3 WHERE user_id = ?1")?;
        for (user_id, (new, last_seq)) in self.new_per_chat.drain() {
            update.execute(params![user_id, last_seq, new])?;
        }
        for user_id in std::mem::take(&mut self.watched) {
            mark_read_on(self.conn, user_id)?;
        }
        Ok(self.applied)
    }

    fn insert_raw(
        &mut self,
        text: &str,
        received_at: DateTime<Utc>,
        parsed: &Result<Envelope, ParseError>,
    ) -> rusqlite::Result<()> {
        let at = to_ms(received_at);
        match parsed {
            Ok(env) => self.hot.event.execute(params![
                at,
                env.event.name(),
                env.event.user_id(),
                to_ms(env.timestamp.utc),
                quality_code(env.timestamp.quality),
                None::<String>,
                text
            ])?,
            Err(e) => self.hot.event.execute(params![
                at,
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

    fn watch_if_open(&mut self, user_id: UserId) {
        if self.focus.is_watching(user_id) && !self.watched.contains(&user_id) {
            self.watched.push(user_id);
        }
    }

    fn apply_event(&mut self, env: Envelope, received_at: DateTime<Utc>) -> rusqlite::Result<()> {
        let sent_at = env.timestamp;
        match env.event {
            Event::NewChat(c) => {
                let known = KnownChat {
                    user_name: c.user_name,
                    username: c.username,
                    source: c.source,
                };
                let existed = self.ensure_chat(c.user_id, &known, received_at)?;
                let inserted = match &c.first_message {
                    Some(text) => self.insert_message(
                        None,
                        c.user_id,
                        Some(text),
                        None,
                        sent_at,
                        received_at,
                    )?,
                    None => None,
                };
                let duplicate = existed && inserted.is_none();
                if let Some(message) = inserted {
                    self.applied.messages.push(message);
                    self.applied.typing.push((c.user_id, false));
                }
                self.applied.touch(c.user_id);
                self.watch_if_open(c.user_id);
                self.applied.candidates.push(Candidate {
                    kind: NotifyKind::NewChat,
                    user_id: c.user_id,
                    message_id: None,
                    name: display_name(
                        c.user_id,
                        known.user_name.as_deref(),
                        known.username.as_deref(),
                    ),
                    text: c.first_message,
                    file_path: None,
                    duplicate,
                    username: known.username.clone(),
                    source: known.source.clone(),
                });
            }
            Event::NewMessage(m) => {
                let inserted = self.insert_message(
                    Some(m.message_id),
                    m.user_id,
                    m.text.as_deref(),
                    m.file_path.as_deref(),
                    sent_at,
                    received_at,
                )?;
                let duplicate = inserted.is_none();
                match inserted {
                    Some(message) => {
                        // Protocol reading 4: a message for an unknown chat creates it. Only a
                        // new message does: a message id already stored (even under another
                        // user) is a duplicate and must not leave an empty chat behind.
                        let known = KnownChat {
                            user_name: m.user_name,
                            username: None,
                            source: m.source,
                        };
                        self.ensure_chat(m.user_id, &known, received_at)?;
                        self.applied.messages.push(message);
                        self.applied.typing.push((m.user_id, false));
                        self.applied.touch(m.user_id);
                        self.watch_if_open(m.user_id);
                    }
                    None => self.applied.duplicates += 1,
                }
                let cached = self.state.chats.get(&m.user_id);
                let name = display_name(
                    m.user_id,
                    cached.and_then(|c| c.user_name.as_deref()),
                    cached.and_then(|c| c.username.as_deref()),
                );
                self.applied.candidates.push(Candidate {
                    kind: NotifyKind::NewMessage,
                    user_id: m.user_id,
                    message_id: Some(m.message_id),
                    name,
                    text: m.text,
                    file_path: m.file_path,
                    duplicate,
                    username: None,
                    source: None,
                });
            }
            Event::UserTyping(t) => self.applied.typing.push((t.user_id, true)),
            Event::MessageRead(r) => {
                // Receipts only move forward: a late, older one does not undo a newer one.
                // (Update, then insert: an upsert would open a savepoint, see the schema.)
                let args = params![r.user_id, r.last_read_message_id, to_ms(sent_at.utc)];
                let updated = self
                    .conn
                    .prepare_cached(
                        "UPDATE read_receipts SET last_read_message_id = max(last_read_message_id, ?2), at = ?3 WHERE user_id = ?1",
                    )?
                    .execute(args)?;
                if updated == 0 {
                    self.conn
                        .prepare_cached("INSERT INTO read_receipts (user_id, last_read_message_id, at) VALUES (?1, ?2, ?3)")?
                        .execute(args)?;
                }
                if self.lookup_chat(r.user_id)?.is_some() {
                    self.applied.touch(r.user_id);
                }
            }
            Event::UserOnline(p) => self.set_presence(p.user_id, true, received_at)?,
            Event::UserOffline(p) => self.set_presence(p.user_id, false, received_at)?,
            Event::Unknown { .. } => {}
        }
        Ok(())
    }

    fn set_presence(
        &mut self,
        user_id: UserId,
        online: bool,
        at: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        let args = params![user_id, online, to_ms(at)];
        if self.hot.presence_update.execute(args)? == 0 {
            self.hot.presence_insert.execute(args)?;
        }
        if self.lookup_chat(user_id)?.is_some() {
            self.applied.touch(user_id);
        }
        Ok(())
    }

    fn lookup_chat(&mut self, user_id: UserId) -> rusqlite::Result<Option<&KnownChat>> {
        if !self.state.chats.contains_key(&user_id) {
            if self.state.no_chat.contains(&user_id) {
                return Ok(None);
            }
            let row = self
                .hot
                .chat_lookup
                .query_row([user_id], |r| {
                    Ok(KnownChat {
                        user_name: r.get(0)?,
                        username: r.get(1)?,
                        source: r.get(2)?,
                    })
                })
                .optional()?;
            if self.state.chats.len() >= CHAT_CACHE || self.state.no_chat.len() >= CHAT_CACHE {
                self.state.chats.clear();
                self.state.no_chat.clear();
            }
            let Some(known) = row else {
                self.state.no_chat.insert(user_id);
                return Ok(None);
            };
            self.state.chats.insert(user_id, known);
        }
        Ok(self.state.chats.get(&user_id))
    }

    /// Creates the chat or fills in what it lacked; returns whether it existed.
    /// Fields an event does not carry (`None`) never erase what is known.
    fn ensure_chat(
        &mut self,
        user_id: UserId,
        seen: &KnownChat,
        at: DateTime<Utc>,
    ) -> rusqlite::Result<bool> {
        if let Some(known) = self.lookup_chat(user_id)? {
            // Nearly always nothing new: compare before building anything.
            let same = |new: &Option<String>, old: &Option<String>| new.is_none() || new == old;
            if same(&seen.user_name, &known.user_name)
                && same(&seen.username, &known.username)
                && same(&seen.source, &known.source)
            {
                return Ok(true);
            }
            let merged = KnownChat {
                user_name: seen.user_name.clone().or_else(|| known.user_name.clone()),
                username: seen.username.clone().or_else(|| known.username.clone()),
                source: seen.source.clone().or_else(|| known.source.clone()),
            };
            {
                self.hot.chat_update.execute(params![
                    user_id,
                    merged.user_name,
                    merged.username,
                    merged.source
                ])?;
                self.state.chats.insert(user_id, merged);
            }
            return Ok(true);
        }
        self.hot.chat_insert.execute(params![
            user_id,
            seen.user_name,
            seen.username,
            seen.source,
            to_ms(at)
        ])?;
        self.state.no_chat.remove(&user_id);
        self.state.chats.insert(user_id, seen.clone());
        Ok(false)
    }

    /// Inserts a message unless it is already stored (same `message_id`, or the chat's first
    /// message when `message_id` is `None`); returns it when it is new.
    fn insert_message(
        &mut self,
        message_id: Option<MessageId>,
        user_id: UserId,
        text: Option<&str>,
        file_path: Option<&str>,
        sent_at: Timestamp,
        received_at: DateTime<Utc>,
    ) -> rusqlite::Result<Option<Message>> {
        let (sent_ms, received_ms) = (to_ms(sent_at.utc), to_ms(received_at));
        let inserted = self.hot.message.execute(params![
            message_id,
            user_id,
            text,
            file_path,
            sent_ms,
            quality_code(sent_at.quality),
            received_ms
        ])?;
        if inserted == 0 {
            return Ok(None);
        }
        let seq = self.conn.last_insert_rowid();
        self.hot
            .fts
            .execute(params![seq, text.map(fold_for_index)])?;
        let chat = self.new_per_chat.entry(user_id).or_insert((0, seq));
        chat.0 += 1;
        chat.1 = chat.1.max(seq);
        Ok(Some(Message {
            seq,
            message_id,
            user_id,
            text: text.map(str::to_string),
            file_path: file_path.map(str::to_string),
            // Stored in milliseconds: what readers will see.
            sent_at: from_ms(sent_ms),
            sent_at_quality: sent_at.quality,
            received_at: from_ms(received_ms),
        }))
    }
}

/// Records since when nothing has been received (kept across restarts, for the gap marker).
pub(super) fn mark_offline(
    conn: &Connection,
    state: &mut WriterState,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if state.offline_since.is_none() {
        let ms = to_ms(at);
        state.offline_since = Some(ms);
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('offline_since', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [ms.to_string()],
        )?;
    }
    Ok(())
}

/// The agent has seen everything in this chat. Returns whether anything changed.
pub(super) fn mark_read_on(conn: &Connection, user_id: UserId) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE chats SET read_seq = last_seq, unread = 0, snoozed_until = NULL
             WHERE user_id = ?1 AND (unread != 0 OR read_seq != last_seq OR snoozed_until IS NOT NULL)",
        )?
        .execute([user_id])?;
    Ok(changed > 0)
}
