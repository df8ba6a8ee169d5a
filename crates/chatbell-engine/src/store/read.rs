//! Queries for the views: the chat list, a chat's timeline, search.

use std::path::{Path, PathBuf};

use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::batch::{fold_for_index, quality_from};
use super::{StoreError, from_ms, open_ro};
use crate::model::{
    ChatOrder, ChatSummary, Gap, HistoryPage, Message, SearchHit, Segment, Seq, TimelineItem,
    display_name,
};

/// A read-only connection to the store.
pub struct Reader {
    conn: Connection,
    path: PathBuf,
}

const SUMMARY_SELECT: &str = "
    SELECT c.user_id, c.user_name, c.username, c.source, c.created_at, c.unread,
           p.online, r.last_read_message_id,
           m.seq, m.message_id, substr(m.text, 1, 200), m.file_path, m.sent_at, m.ts_quality, m.received_at,
           CASE WHEN c.unread > 0 THEN (
               SELECT w.received_at FROM messages w
               WHERE w.user_id = c.user_id AND w.seq > c.read_seq ORDER BY w.seq LIMIT 1
           ) END AS waiting_since,
           c.snoozed_until
    FROM chats c
    LEFT JOIN presence p ON p.user_id = c.user_id
    LEFT JOIN read_receipts r ON r.user_id = c.user_id
    LEFT JOIN messages m ON m.seq = c.last_seq";

// Bound values are written `+?N` in these queries: SQLite (built with STAT4) otherwise lets the
// planner look at a bound value and then re-prepares the statement every time it is bound again,
// which cost a tenth of the writer's time in the ingest benchmark. The unary plus hides the value
// from the planner and changes nothing else.

const MESSAGE_COLUMNS: &str =
    "seq, message_id, user_id, text, file_path, sent_at, ts_quality, received_at";

/// Reads a message from the columns starting at `at`, in `MESSAGE_COLUMNS` order. The chat
/// list's join leaves out `user_id` (the chat row has it): then pass it in.
fn message_at(row: &Row<'_>, at: usize, user_id: Option<UserId>) -> rusqlite::Result<Message> {
    let mut col = at;
    let mut next = || {
        col += 1;
        col - 1
    };
    let seq = row.get(next())?;
    let message_id = row.get(next())?;
    let user_id = match user_id {
        Some(id) => id,
        None => row.get(next())?,
    };
    Ok(Message {
        seq,
        message_id,
        user_id,
        text: row.get(next())?,
        file_path: row.get(next())?,
        sent_at: from_ms(row.get(next())?),
        sent_at_quality: quality_from(row.get(next())?),
        received_at: from_ms(row.get(next())?),
    })
}

fn summary(row: &Row<'_>, typing: &dyn Fn(UserId) -> bool) -> rusqlite::Result<ChatSummary> {
    let user_id: UserId = row.get(0)?;
    let user_name: Option<String> = row.get(1)?;
    let username: Option<String> = row.get(2)?;
    let last_seq: Option<Seq> = row.get(8)?;
    let last_message = match last_seq {
        Some(_) => Some(message_at(row, 8, Some(user_id))?),
        None => None,
    };
    Ok(ChatSummary {
        user_id,
        name: display_name(user_id, user_name.as_deref(), username.as_deref()),
        user_name,
        username,
        source: row.get(3)?,
        created_at: from_ms(row.get(4)?),
        unread: row.get(5)?,
        online: row.get(6)?,
        peer_read_up_to: row.get(7)?,
        typing: typing(user_id),
        last_message,
        waiting_since: row.get::<_, Option<i64>>(15)?.map(from_ms),
        snoozed_until: row.get::<_, Option<i64>>(16)?.map(from_ms),
    })
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader, StoreError> {
        let conn = open_ro(path)?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(Reader {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn sql(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sql(&self.path, e)
    }

    /// Chats by last activity, newest first.
    pub fn chats(
        &self,
        limit: u32,
        offset: u32,
        typing: &dyn Fn(UserId) -> bool,
    ) -> Result<Vec<ChatSummary>, StoreError> {
        self.chats_by(ChatOrder::Activity, limit, offset, typing)
    }

    /// Chats in the given order.
    pub fn chats_by(
        &self,
        order: ChatOrder,
        limit: u32,
        offset: u32,
        typing: &dyn Fn(UserId) -> bool,
    ) -> Result<Vec<ChatSummary>, StoreError> {
        let order = match order {
            // The user id last: chats alike in the rest keep one order from page to page.
            ChatOrder::Activity => "c.last_seq DESC, c.user_id",
            ChatOrder::Waiting => {
                "waiting_since IS NULL, waiting_since, c.last_seq DESC, c.user_id"
            }
        };
        let sql = format!("{SUMMARY_SELECT} ORDER BY {order} LIMIT +?1 OFFSET +?2");
        let run = || -> rusqlite::Result<Vec<ChatSummary>> {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![limit, offset], |r| summary(r, typing))?;
            rows.collect()
        };
        run().map_err(|e| self.sql(e))
    }

    pub fn chat(
        &self,
        user_id: UserId,
        typing: &dyn Fn(UserId) -> bool,
    ) -> Result<Option<ChatSummary>, StoreError> {
        let sql = format!("{SUMMARY_SELECT} WHERE c.user_id = +?1");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([user_id], |r| summary(r, typing)).optional())
            .map_err(|e| self.sql(e))
    }

    /// The summaries of several chats in one query, in the order asked for.
    pub fn chats_by_id(
        &self,
        ids: &[UserId],
        typing: &dyn Fn(UserId) -> bool,
    ) -> Result<Vec<ChatSummary>, StoreError> {
        chats_by_id(&self.conn, ids, typing).map_err(|e| self.sql(e))
    }

    pub fn unread_total(&self) -> Result<u64, StoreError> {
        unread_total(&self.conn).map_err(|e| self.sql(e))
    }

    /// The chats with messages the agent has not opened, the longest wait first.
    pub fn waiting(&self) -> Result<Vec<WaitingChat>, StoreError> {
        waiting(&self.conn).map_err(|e| self.sql(e))
    }

    /// Frees the connection's page cache (it fills again as pages are read).
    pub fn release_memory(&self) -> Result<(), StoreError> {
        shrink_memory(&self.conn).map_err(|e| self.sql(e))
    }

    /// A page of a chat's timeline ending before `before` (a `seq`), oldest first, with the
    /// connection gaps that fall inside it.
    pub fn history(
        &self,
        user_id: UserId,
        before: Option<Seq>,
        limit: u32,
    ) -> Result<HistoryPage, StoreError> {
        self.history_inner(user_id, before, limit)
            .map_err(|e| self.sql(e))
    }

    fn history_inner(
        &self,
        user_id: UserId,
        before: Option<Seq>,
        limit: u32,
    ) -> rusqlite::Result<HistoryPage> {
        let limit = limit.clamp(1, 1000);
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE user_id = +?1 AND seq < +?2 ORDER BY seq DESC LIMIT +?3"
        );
        let mut messages: Vec<Message> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(
                params![user_id, before.unwrap_or(i64::MAX), limit + 1],
                |r| message_at(r, 0, None),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let has_more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        messages.reverse();

        let created_at: Option<i64> = self
            .conn
            .prepare_cached("SELECT created_at FROM chats WHERE user_id = ?1")?
            .query_row([user_id], |r| r.get(0))
            .optional()?;
        // Gaps between the oldest message of the page (or the chat's start) and the message
        // after the page (or now).
        let lower = if has_more {
            messages.first().map(|m| m.received_at.timestamp_millis())
        } else {
            created_at
        };
        let upper: Option<i64> = match before {
            Some(seq) => self
                .conn
                .prepare_cached("SELECT received_at FROM messages WHERE seq = ?1")?
                .query_row([seq], |r| r.get(0))
                .optional()?,
            None => None,
        };
        let gaps: Vec<Gap> = match lower {
            Some(lower) => self
                .conn
                .prepare_cached(
                    "SELECT from_at, to_at FROM gaps WHERE to_at > +?1 AND from_at < +?2 ORDER BY from_at",
                )?
                .query_map(params![lower, upper.unwrap_or(i64::MAX)], |r| {
                    Ok(Gap { from: from_ms(r.get(0)?), to: from_ms(r.get(1)?) })
                })?
                .collect::<rusqlite::Result<_>>()?,
            None => Vec::new(),
        };

        let mut items = Vec::with_capacity(messages.len() + gaps.len());
        let mut gaps = gaps.into_iter().peekable();
        let next_before = if has_more {
            messages.first().map(|m| m.seq)
        } else {
            None
        };
        for message in messages {
            while let Some(gap) = gaps.next_if(|g| g.from < message.received_at) {
                items.push(TimelineItem::Gap(gap));
            }
            items.push(TimelineItem::Message(message));
        }
        items.extend(gaps.map(TimelineItem::Gap));

        let peer_read_up_to = self
            .conn
            .prepare_cached("SELECT last_read_message_id FROM read_receipts WHERE user_id = ?1")?
            .query_row([user_id], |r| r.get(0))
            .optional()?;
        Ok(HistoryPage {
            user_id,
            items,
            next_before,
            peer_read_up_to,
        })
    }

    /// The `seq` of a message by its server id, for paging by message id.
    pub fn seq_of(&self, message_id: i64) -> Result<Option<Seq>, StoreError> {
        self.conn
            .prepare_cached("SELECT seq FROM messages WHERE message_id = ?1")
            .and_then(|mut s| s.query_row([message_id], |r| r.get(0)).optional())
            .map_err(|e| self.sql(e))
    }

    /// Full-text search over message text, newest first. Every word of `query` must match;
    /// the last one also as a prefix (so results appear while typing). Any text is a valid
    /// query: words are quoted, never read as FTS syntax.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>, StoreError> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT snippet(messages_fts, 0, char(1), char(2), '…', 16), c.user_name, c.username,
                    m.{cols}
             FROM messages_fts
             JOIN messages m ON m.seq = messages_fts.rowid
             LEFT JOIN chats c ON c.user_id = m.user_id
             WHERE messages_fts MATCH ?1
             ORDER BY messages_fts.rowid DESC
             LIMIT +?2",
            cols = MESSAGE_COLUMNS.replace(", ", ", m.")
        );
        let run = || -> rusqlite::Result<Vec<SearchHit>> {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![fts, limit.clamp(1, 500)], |r| {
                let message = message_at(r, 3, None)?;
                let user_name: Option<String> = r.get(1)?;
                let username: Option<String> = r.get(2)?;
                Ok(SearchHit {
                    chat_name: display_name(
                        message.user_id,
                        user_name.as_deref(),
                        username.as_deref(),
                    ),
                    snippet: segments(&r.get::<_, String>(0)?),
                    message,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.sql(e))
    }

    /// Chats whose stored unread count differs from a recount of their messages. Empty when
    /// the store is consistent (checked by `doctor` and the tests).
    pub fn unread_mismatches(&self) -> Result<Vec<(UserId, u32, u32)>, StoreError> {
        let run = || -> rusqlite::Result<Vec<(UserId, u32, u32)>> {
            let mut stmt = self.conn.prepare(
                "SELECT c.user_id, c.unread,
                        (SELECT count(*) FROM messages m WHERE m.user_id = c.user_id AND m.seq > c.read_seq) AS actual
                 FROM chats c WHERE c.unread != actual",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        };
        run().map_err(|e| self.sql(e))
    }

    /// The kept unread total and a recount of it, when they differ.
    pub fn total_mismatch(&self) -> Result<Option<(u64, u64)>, StoreError> {
        let kept = self.unread_total()?;
        let actual: i64 = self
            .conn
            .query_row("SELECT count(*) FROM messages m JOIN chats c ON c.user_id = m.user_id WHERE m.seq > c.read_seq", [], |r| r.get(0))
            .map_err(|e| self.sql(e))?;
        Ok((kept != actual as u64).then_some((kept, actual as u64)))
    }

    /// The newest raw event's id: the number of frames ever stored, in O(log n).
    pub fn frames_stored(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.sql(e))
    }

    /// The newest forward records, newest first (a row that does not read is skipped: a
    /// newer build's, say).
    pub fn forwards(&self, limit: u32) -> Result<Vec<crate::model::ForwardRecord>, StoreError> {
        let run = || -> rusqlite::Result<Vec<String>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT record FROM forwards ORDER BY id DESC LIMIT ?1")?;
            let rows = stmt.query_map([limit], |r| r.get(0))?;
            rows.collect()
        };
        Ok(run()
            .map_err(|e| self.sql(e))?
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect())
    }

    /// Row counts, for diagnostics.
    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        let count = |table: &str| -> rusqlite::Result<u64> {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n as u64)
        };
        let run = || -> rusqlite::Result<StoreCounts> {
            Ok(StoreCounts {
                events: count("events")?,
                malformed: self.conn.query_row(
                    "SELECT count(*) FROM events WHERE error IS NOT NULL",
                    [],
                    |r| r.get::<_, i64>(0),
                )? as u64,
                chats: count("chats")?,
                messages: count("messages")?,
                gaps: count("gaps")?,
            })
        };
        run().map_err(|e| self.sql(e))
    }
}

pub(super) fn chats_by_id(
    conn: &Connection,
    ids: &[UserId],
    typing: &dyn Fn(UserId) -> bool,
) -> rusqlite::Result<Vec<ChatSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(ids).expect("ids serialize");
    let sql = format!("{SUMMARY_SELECT} WHERE c.user_id IN (SELECT value FROM json_each(+?1))");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut chats = stmt
        .query_map([list], |r| summary(r, typing))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    chats.sort_by_key(|c| ids.iter().position(|id| *id == c.user_id));
    Ok(chats)
}

/// A chat that waits for the agent to open it, as the reminders need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingChat {
    pub user_id: UserId,
    pub name: String,
    pub username: Option<String>,
    pub source: Option<String>,
    /// Never opened in Chatbell: reminded on the new-chat timings.
    pub new_chat: bool,
    /// When the oldest unread message arrived here.
    pub since: DateTime<Utc>,
    pub snoozed_until: Option<DateTime<Utc>>,
    /// The newest message, for the reminder's body.
    pub text: Option<String>,
    pub file_path: Option<String>,
}

/// Hands a connection's page cache back to the allocator.
pub(super) fn shrink_memory(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("PRAGMA shrink_memory;")
}

pub(super) fn waiting(conn: &Connection) -> rusqlite::Result<Vec<WaitingChat>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.user_id, c.user_name, c.username, c.source, c.read_seq = 0, c.snoozed_until,
                (SELECT w.received_at FROM messages w
                 WHERE w.user_id = c.user_id AND w.seq > c.read_seq ORDER BY w.seq LIMIT 1) AS since,
                substr(m.text, 1, 200), m.file_path
         FROM chats c INDEXED BY chats_waiting
         LEFT JOIN messages m ON m.seq = c.last_seq
         WHERE c.unread > 0",
    )?;
    let rows = stmt.query_map([], |r| {
        let user_id: UserId = r.get(0)?;
        let user_name: Option<String> = r.get(1)?;
        let username: Option<String> = r.get(2)?;
        Ok((
            r.get::<_, Option<i64>>(6)?,
            WaitingChat {
                user_id,
                name: display_name(user_id, user_name.as_deref(), username.as_deref()),
                username,
                source: r.get(3)?,
                new_chat: r.get(4)?,
                since: DateTime::<Utc>::MIN_UTC,
                snoozed_until: r.get::<_, Option<i64>>(5)?.map(from_ms),
                text: r.get(7)?,
                file_path: r.get(8)?,
            },
        ))
    })?;
    let mut chats = Vec::new();
    for row in rows {
        // A count without its messages cannot be (a trigger keeps them together); skip it
        // rather than invent a time.
        if let (Some(since), chat) = row? {
            chats.push(WaitingChat {
                since: from_ms(since),
                ..chat
            });
        }
    }
    chats.sort_by_key(|c| (c.since, c.user_id));
    Ok(chats)
}

pub(super) fn unread_total(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT unread FROM totals WHERE id = 1")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|t| t.max(0) as u64)
}

/// Row counts of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    pub events: u64,
    pub malformed: u64,
    pub chats: u64,
    pub messages: u64,
    pub gaps: u64,
}

/// Turns what a user typed into an FTS5 query: each word quoted (so `"`, `*`, `AND`, `:` are
/// just text), all required, the last one also matching as a prefix; ё folded into е as the
/// index does. Words are runs of letters and digits, so no quote can reach the query.
fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"", fold_for_index(w)))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

/// Splits a snippet marked with \x01 … \x02 into plain and matched pieces.
fn segments(marked: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut hit = false;
    for (i, piece) in marked.split(['\u{1}', '\u{2}']).enumerate() {
        if i > 0 {
            hit = !hit;
        }
        if !piece.is_empty() {
            out.push(Segment {
                text: piece.to_string(),
                hit,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_becomes_a_safe_fts_query() {
        let cases = [
            ("доставка", Some("\"доставка\"*")),
            ("когда будет", Some("\"когда\" \"будет\"*")),
            ("  ", None),
            ("\"AND OR *", Some("\"AND\" \"OR\"*")),
            ("a:b NEAR(c", Some("\"a\" \"b\" \"NEAR\" \"c\"*")),
            ("<script>", Some("\"script\"*")),
        ];
        for (input, want) in cases {
            assert_eq!(fts_query(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn snippets_split_into_hits_and_text() {
        let s = segments("…когда \u{1}доставка\u{2} будет \u{1}x\u{2}");
        let flat: Vec<(&str, bool)> = s.iter().map(|s| (s.text.as_str(), s.hit)).collect();
        assert_eq!(
            flat,
            [
                ("…когда ", false),
                ("доставка", true),
                (" будет ", false),
                ("x", true)
            ]
        );
    }
}
