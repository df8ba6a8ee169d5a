//! The store on a real SQLite file: idempotence, the unread model, receipts, presence, gaps,
//! search, paging, retention, and files that are not what they should be.

use chatbell_engine::model::{Focus, TimelineItem};
use chatbell_engine::store::{CHECKPOINT_PAGES, Input, Reader, StoreError, Writer, mark_read};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 10, 15, 30, 0).unwrap()
}

fn no_typing(_: i64) -> bool {
    false
}

fn message(id: i64, user: i64, text: &str) -> String {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": format!("User {user}"), "text": text, "file_path": null, "source": "telegram"}, "timestamp": "2026-01-10T15:31:00Z"}).to_string()
}

fn new_chat(user: i64, name: &str, first: &str) -> String {
    json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": "nick", "source": "widget", "first_message": first}, "timestamp": "2026-01-10T15:30:00Z"}).to_string()
}

struct Db {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/chatbell.db");
    Db { _dir: dir, path }
}

fn apply(w: &mut Writer, frames: &[String], at: DateTime<Utc>) -> chatbell_engine::store::Applied {
    let inputs: Vec<Input<'_>> = frames
        .iter()
        .map(|f| Input::Frame {
            text: f,
            received_at: at,
            parsed: None,
        })
        .collect();
    w.apply(inputs, Focus::default()).unwrap()
}

#[test]
fn the_same_message_twice_is_stored_and_counted_once() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let a = apply(&mut w, &[message(1, 5, "hi"), message(1, 5, "hi")], t0());
    assert_eq!((a.messages.len(), a.duplicates), (1, 1));
    let b = apply(&mut w, &[message(1, 5, "hi")], t0());
    assert_eq!((b.messages.len(), b.duplicates), (0, 1));
    assert!(
        b.candidates[0].duplicate,
        "a duplicate is never notified again"
    );
    let r = Reader::open(&db.path).unwrap();
    assert_eq!(r.chats(10, 0, &no_typing).unwrap()[0].unread, 1);
    let c = r.counts().unwrap();
    assert_eq!(
        (c.events, c.messages, c.chats),
        (3, 1, 1),
        "every frame is in the raw log"
    );
}

#[test]
fn new_chat_starts_with_one_unread_and_a_repeat_updates_it() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let a = apply(&mut w, &[new_chat(-7, "Anna", "Hello")], t0());
    assert!(!a.candidates[0].duplicate);
    let r = Reader::open(&db.path).unwrap();
    let chat = r.chat(-7, &no_typing).unwrap().unwrap();
    assert_eq!(
        (chat.unread, chat.name.as_str(), chat.source.as_deref()),
        (1, "Anna", Some("widget"))
    );
    assert_eq!(
        chat.last_message.unwrap().message_id,
        None,
        "the first message has no id"
    );

    let b = apply(&mut w, &[new_chat(-7, "Anna K.", "Hello")], t0());
    assert!(b.candidates[0].duplicate);
    let chat = r.chat(-7, &no_typing).unwrap().unwrap();
    assert_eq!((chat.unread, chat.name.as_str()), (1, "Anna K."));
}

#[test]
fn a_message_for_an_unknown_chat_creates_it_and_missing_fields_never_erase_known_ones() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    apply(&mut w, &[message(10, 42, "first contact")], t0());
    let bare = json!({"event": "new_message", "data": {"message_id": 11, "user_id": 42, "text": "no name here"}}).to_string();
    apply(&mut w, &[bare], t0());
    let r = Reader::open(&db.path).unwrap();
    let chat = r.chat(42, &no_typing).unwrap().unwrap();
    assert_eq!(
        (chat.name.as_str(), chat.source.as_deref(), chat.unread),
        ("User 42", Some("telegram"), 2)
    );
}

#[test]
fn unread_follows_messages_and_reading_persists() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let frames: Vec<String> = (1..=30).map(|i| message(i, i % 3, "x")).collect();
    apply(&mut w, &frames, t0());
    let r = Reader::open(&db.path).unwrap();
    assert_eq!(r.unread_total().unwrap(), 30);
    assert!(w.mark_chat_read(1).unwrap());
    assert!(!w.mark_chat_read(1).unwrap(), "nothing left to read");
    assert_eq!(r.unread_total().unwrap(), 20);
    apply(&mut w, &[message(31, 1, "y")], t0());
    assert_eq!(r.chat(1, &no_typing).unwrap().unwrap().unread, 1);
    // From another process, while this writer is open.
    assert!(mark_read(&db.path, 2).unwrap());
    assert_eq!(r.unread_total().unwrap(), 11);
    drop(w);
    let r2 = Reader::open(&db.path).unwrap();
    assert_eq!(r2.unread_total().unwrap(), 11, "persists");
    assert!(r2.unread_mismatches().unwrap().is_empty());
    assert_eq!(r2.total_mismatch().unwrap(), None);
}

#[test]
fn the_watched_chat_does_not_accumulate_unread() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let focus = Focus {
        window_focused: true,
        open_chat: Some(5),
    };
    let frames = [
        message(1, 5, "a"),
        message(2, 6, "b"),
        new_chat(5, "Five", "again"),
    ];
    let inputs: Vec<Input<'_>> = frames
        .iter()
        .map(|f| Input::Frame {
            text: f,
            received_at: t0(),
            parsed: None,
        })
        .collect();
    w.apply(inputs, focus).unwrap();
    let r = Reader::open(&db.path).unwrap();
    assert_eq!(r.chat(5, &no_typing).unwrap().unwrap().unread, 0);
    assert_eq!(r.chat(6, &no_typing).unwrap().unwrap().unread, 1);
    assert!(r.unread_mismatches().unwrap().is_empty());
    assert_eq!(
        (r.unread_total().unwrap(), r.total_mismatch().unwrap()),
        (1, None)
    );
}

#[test]
fn read_receipts_only_move_forward_and_presence_is_kept() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let read = |n: i64| {
        json!({"event": "message_read", "data": {"user_id": -3, "last_read_message_id": n}})
            .to_string()
    };
    let online = json!({"event": "user_online", "data": {"user_id": -3}}).to_string();
    let offline = json!({"event": "user_offline", "data": {"user_id": -3}}).to_string();
    apply(
        &mut w,
        &[message(1, -3, "x"), read(125), read(100), online.clone()],
        t0(),
    );
    let r = Reader::open(&db.path).unwrap();
    let chat = r.chat(-3, &no_typing).unwrap().unwrap();
    assert_eq!((chat.peer_read_up_to, chat.online), (Some(125), Some(true)));
    assert_eq!(chat.unread, 1, "a read receipt is not the agent reading");
    apply(&mut w, &[offline], t0());
    assert_eq!(r.chat(-3, &no_typing).unwrap().unwrap().online, Some(false));
    // Presence and receipts of users without a chat are stored but make no chat.
    let a = apply(
        &mut w,
        &[json!({"event": "user_online", "data": {"user_id": 99}}).to_string()],
        t0(),
    );
    assert!(a.changed_chats.is_empty());
    assert!(r.chat(99, &no_typing).unwrap().is_none());
}

#[test]
fn malformed_and_unknown_frames_are_kept_raw_and_nothing_else_breaks() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let frames = vec![
        "garbage".to_string(),
        message(1, 1, "ok"),
        r#"{"event":"new_message","data":{"message_id":"x","user_id":1}}"#.to_string(),
        r#"{"event":"agent_joined","data":{"user_id":1}}"#.to_string(),
        message(2, 1, "ok too"),
    ];
    let a = apply(&mut w, &frames, t0());
    assert_eq!((a.frames, a.malformed, a.messages.len()), (5, 2, 2));
    let r = Reader::open(&db.path).unwrap();
    let c = r.counts().unwrap();
    assert_eq!((c.events, c.malformed, c.messages), (5, 2, 2));
}

#[test]
fn gaps_are_recorded_between_disconnect_and_reconnect_and_shown_in_the_timeline() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let m = Duration::minutes;
    w.apply(vec![Input::Connected { at: t0() }], Focus::default())
        .unwrap();
    apply(&mut w, &[message(1, 1, "before")], t0() + m(1));
    let a = w
        .apply(
            vec![
                Input::Disconnected { at: t0() + m(2) },
                Input::Connected { at: t0() + m(7) },
            ],
            Focus::default(),
        )
        .unwrap();
    assert_eq!(
        a.gap.map(|g| (g.from, g.to)),
        Some((t0() + m(2), t0() + m(7)))
    );
    apply(&mut w, &[message(2, 1, "after")], t0() + m(8));
    let page = Reader::open(&db.path)
        .unwrap()
        .history(1, None, 50)
        .unwrap();
    let kinds: Vec<&str> = page
        .items
        .iter()
        .map(|i| match i {
            TimelineItem::Message(_) => "message",
            TimelineItem::Gap(_) => "gap",
        })
        .collect();
    assert_eq!(kinds, ["message", "gap", "message"]);
    // A restart after a clean close marks the time the app was not running.
    w.close(t0() + m(10)).unwrap();
    let mut w = Writer::open(&db.path).unwrap();
    let a = w
        .apply(
            vec![Input::Connected { at: t0() + m(60) }],
            Focus::default(),
        )
        .unwrap();
    assert_eq!(
        a.gap.map(|g| (g.from, g.to)),
        Some((t0() + m(10), t0() + m(60)))
    );
}

#[test]
fn after_a_crash_the_gap_starts_at_the_last_frame() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    w.apply(vec![Input::Connected { at: t0() }], Focus::default())
        .unwrap();
    apply(&mut w, &[message(1, 1, "x")], t0() + Duration::minutes(3));
    drop(w); // no close(): as after kill -9
    let mut w = Writer::open(&db.path).unwrap();
    let a = w
        .apply(
            vec![Input::Connected {
                at: t0() + Duration::minutes(9),
            }],
            Focus::default(),
        )
        .unwrap();
    assert_eq!(a.gap.unwrap().from, t0() + Duration::minutes(3));
}

#[test]
fn search_finds_cyrillic_and_latin_by_word_and_prefix_and_survives_any_input() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    apply(
        &mut w,
        &[
            message(1, 1, "Когда будет ДОСТАВКА?"),
            message(2, 2, "Where is my delivery?"),
            message(3, 1, "Ёжик в тумане"),
            message(4, 3, "<script>alert(1)</script>"),
        ],
        t0(),
    );
    let r = Reader::open(&db.path).unwrap();
    let ids = |q: &str| -> Vec<i64> {
        r.search(q, 10)
            .unwrap()
            .iter()
            .filter_map(|h| h.message.message_id)
            .collect()
    };
    assert_eq!(ids("доставка"), [1], "case-folded Cyrillic");
    assert_eq!(ids("достав"), [1], "prefix of the last word");
    assert_eq!(ids("когда доставка"), [1]);
    assert_eq!(ids("delivery"), [2]);
    assert_eq!(ids("ежик"), [3], "ё folds to е");
    assert_eq!(ids("script"), [4]);
    for hostile in [
        "\"",
        "AND",
        "*",
        "NEAR(",
        "a:b",
        "'; DROP TABLE messages; --",
        "",
        "   ",
    ] {
        r.search(hostile, 10).unwrap();
    }
    let hit = &r.search("доставка", 10).unwrap()[0];
    assert!(
        hit.snippet.iter().any(|s| s.hit && s.text == "ДОСТАВКА"),
        "{:?}",
        hit.snippet
    );
    assert_eq!(hit.chat_name, "User 1");
}

#[test]
fn history_pages_walk_a_long_chat_without_gaps_or_repeats() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let frames: Vec<String> = (1..=2_345)
        .map(|i| message(i, 77, &format!("m{i}")))
        .collect();
    for chunk in frames.chunks(1000) {
        apply(&mut w, chunk, t0());
    }
    let r = Reader::open(&db.path).unwrap();
    let mut before = None;
    let mut seen = Vec::new();
    loop {
        let page = r.history(77, before, 100).unwrap();
        let mut ids: Vec<i64> = page
            .items
            .iter()
            .filter_map(|i| match i {
                TimelineItem::Message(m) => m.message_id,
                TimelineItem::Gap(_) => None,
            })
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");
        ids.append(&mut seen);
        seen = ids;
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen, (1..=2_345).collect::<Vec<_>>());
}

#[test]
fn once_the_wal_has_grown_it_is_checkpointed_off_the_writers_thread_and_nothing_is_lost() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    // One message per commit, each a handful of WAL pages, until a checkpoint has completed:
    // only the writer's own checkpointer counts one (SQLite's automatic checkpoint, inside a
    // commit, would not), and well past the threshold it must have.
    let most = CHECKPOINT_PAGES as i64 * 4;
    let mut sent = 0;
    while w.checkpoints() == 0 {
        assert!(
            sent < most,
            "{sent} commits and no checkpoint off the writer's thread"
        );
        sent += 1;
        apply(&mut w, &[message(sent, sent % 50, "order is late")], t0());
    }
    // Commits go on while it runs; then every one of them is there, in a sound file.
    for _ in 0..100 {
        sent += 1;
        apply(&mut w, &[message(sent, sent % 50, "order is late")], t0());
    }
    w.close(t0()).unwrap();
    let r = Reader::open(&db.path).unwrap();
    assert_eq!(r.counts().unwrap().messages, sent as u64);
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn retention_removes_old_messages_and_keeps_counts_right() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let old = t0() - Duration::days(40);
    apply(
        &mut w,
        &(1..=50).map(|i| message(i, 1, "old")).collect::<Vec<_>>(),
        old,
    );
    apply(
        &mut w,
        &(51..=60).map(|i| message(i, 1, "new")).collect::<Vec<_>>(),
        t0(),
    );
    let removed = w.remove_older_than(t0() - Duration::days(30)).unwrap();
    assert_eq!((removed.messages, removed.events), (50, 50));
    let r = Reader::open(&db.path).unwrap();
    assert_eq!(r.chat(1, &no_typing).unwrap().unwrap().unread, 10);
    assert!(r.unread_mismatches().unwrap().is_empty());
    assert_eq!(
        (r.unread_total().unwrap(), r.total_mismatch().unwrap()),
        (10, None)
    );
    assert!(
        r.search("old", 10).unwrap().is_empty(),
        "the index forgot them too"
    );
    assert_eq!(r.search("new", 100).unwrap().len(), 10);
}

#[test]
fn a_file_that_is_not_a_database_is_reported_and_left_alone() {
    let db = db();
    std::fs::create_dir_all(db.path.parent().unwrap()).unwrap();
    let junk = b"this is not sqlite, but it is somebody's file".repeat(100);
    std::fs::write(&db.path, &junk).unwrap();
    let err = Writer::open(&db.path).err().expect("refused");
    assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
    assert!(err.to_string().contains("move this one aside"), "{err}");
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        junk,
        "nothing was changed"
    );
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let db = db();
    drop(Writer::open(&db.path).unwrap());
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let before = std::fs::read(&db.path).unwrap();
    let err = Writer::open(&db.path).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    let err = Reader::open(&db.path).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "not a byte changed"
    );
}

/// A SQLite file of another program, as `sqlite3` would leave it (rollback journal).
fn foreign_database(path: &std::path::Path, application_id: Option<i32>) -> Vec<u8> {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
         INSERT INTO notes (body) VALUES ('somebody else''s data');",
    )
    .unwrap();
    if let Some(id) = application_id {
        conn.pragma_update(None, "application_id", id).unwrap();
    }
    drop(conn);
    std::fs::read(path).unwrap()
}

#[test]
fn another_programs_sqlite_file_is_refused_and_left_byte_identical() {
    for application_id in [None, Some(0x4750_4B47)] {
        let db = db();
        let before = foreign_database(&db.path, application_id);
        let err = Writer::open(&db.path).err().expect("refused");
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        let err = Reader::open(&db.path).err().expect("refused");
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        let err = mark_read(&db.path, 1).expect_err("refused");
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert_eq!(
            std::fs::read(&db.path).unwrap(),
            before,
            "not a byte changed ({application_id:?})"
        );
        let wal = db.path.with_file_name("chatbell.db-wal");
        assert!(!wal.exists(), "not switched to WAL");
    }
}

#[test]
fn chatbell_databases_carry_the_application_id_and_older_unmarked_ones_are_adopted() {
    let db = db();
    drop(Writer::open(&db.path).unwrap());
    let read_id = |path: &std::path::Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        read_id(&db.path),
        i64::from(chatbell_engine::store::APPLICATION_ID)
    );
    // A database written before the application id existed: same tables, id 0.
    rusqlite::Connection::open(&db.path)
        .unwrap()
        .pragma_update(None, "application_id", 0)
        .unwrap();
    let mut w = Writer::open(&db.path).expect("an earlier Chatbell's file is ours");
    apply(&mut w, &[message(1, 5, "still works")], t0());
    drop(w);
    assert_eq!(
        read_id(&db.path),
        i64::from(chatbell_engine::store::APPLICATION_ID)
    );
}

#[test]
fn a_message_id_already_stored_under_another_user_leaves_no_empty_chat() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    apply(&mut w, &[message(1, 5, "hi")], t0());
    let a = apply(&mut w, &[message(1, 3, "same id, other user")], t0());
    assert_eq!((a.messages.len(), a.duplicates), (0, 1));
    assert!(a.candidates[0].duplicate);
    assert!(a.changed_chats.is_empty(), "{:?}", a.changed_chats);
    let r = Reader::open(&db.path).unwrap();
    let chats = r.chats(10, 0, &no_typing).unwrap();
    assert_eq!(
        chats.iter().map(|c| c.user_id).collect::<Vec<_>>(),
        [5],
        "no phantom chat #3"
    );
}

#[cfg(unix)]
#[test]
fn the_database_and_its_folder_are_private_whatever_they_were() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    apply(&mut w, &[message(1, 5, "private")], t0());
    let folder = db.path.parent().unwrap();
    let wal = db.path.with_file_name("chatbell.db-wal");
    let shm = db.path.with_file_name("chatbell.db-shm");
    assert_eq!(mode(folder), 0o700);
    for f in [&db.path, &wal, &shm] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    drop(w);
    // An install from before this rule: world-readable files are tightened at start.
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let w = Writer::open(&db.path).unwrap();
    assert_eq!((mode(folder), mode(&db.path)), (0o700, 0o600));
    for f in [&wal, &shm] {
        if f.exists() {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
    }
    drop(w);
}

#[test]
fn one_engine_per_file_even_through_a_hard_link() {
    use chatbell_engine::store::EngineLock;
    let db = db();
    drop(Writer::open(&db.path).unwrap());
    let link = db.path.with_file_name("other.db");
    std::fs::hard_link(&db.path, &link).unwrap();
    let first = EngineLock::acquire(&db.path).unwrap();
    let err = EngineLock::acquire(&link).expect_err("the same file");
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
    let err = EngineLock::acquire(&db.path).expect_err("the same path");
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
    drop(first);
    let again = EngineLock::acquire(&link).expect("released");
    drop(again);
}

#[test]
fn retention_of_any_number_of_days_never_panics() {
    use chatbell_engine::store::retention_cutoff;
    assert_eq!(retention_cutoff(t0(), 30), t0() - Duration::days(30));
    for days in [97_000_000, u32::MAX] {
        assert_eq!(retention_cutoff(t0(), days), DateTime::<Utc>::MIN_UTC);
    }
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    apply(&mut w, &[message(1, 5, "kept")], t0());
    let removed = w
        .remove_older_than(retention_cutoff(t0(), u32::MAX))
        .unwrap();
    assert_eq!((removed.messages, removed.events), (0, 0));
}

#[test]
fn reading_a_missing_database_says_how_to_create_it() {
    let db = db();
    let err = Reader::open(&db.path).err().expect("refused");
    assert!(err.to_string().contains("chatbell-cli listen"), "{err}");
}

#[test]
fn who_waits_and_since_when_is_derived_from_the_messages() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    let at = |m: i64| t0() + Duration::minutes(m);
    apply(&mut w, &[new_chat(1, "Ann", "hi")], at(0));
    apply(&mut w, &[message(10, 1, "still there?")], at(1));
    apply(&mut w, &[new_chat(2, "Bob", "hello")], at(5));
    apply(&mut w, &[new_chat(3, "Cid", "hey")], at(6));
    w.mark_chat_read(3).unwrap();
    let r = Reader::open(&db.path).unwrap();
    let waiting: Vec<(i64, DateTime<Utc>, bool)> = r
        .waiting()
        .unwrap()
        .iter()
        .map(|c| (c.user_id, c.since, c.new_chat))
        .collect();
    assert_eq!(
        waiting,
        [(1, at(0), true), (2, at(5), true)],
        "the oldest unread message"
    );

    // Read, then written to again: waiting since the new message, no longer a new chat.
    w.mark_chat_read(1).unwrap();
    apply(&mut w, &[message(11, 1, "hello?")], at(10));
    let ann = r.chat(1, &no_typing).unwrap().unwrap();
    assert_eq!(ann.waiting_since, Some(at(10)));
    assert!(!r.waiting().unwrap()[1].new_chat);
    assert_eq!(r.chat(3, &no_typing).unwrap().unwrap().waiting_since, None);

    // Waiting first, the longest wait first; then the rest by activity.
    let order: Vec<i64> = r
        .chats_by(
            chatbell_engine::model::ChatOrder::Waiting,
            10,
            0,
            &no_typing,
        )
        .unwrap()
        .iter()
        .map(|c| c.user_id)
        .collect();
    assert_eq!(order, [2, 1, 3]);

    // Snoozed: kept with the chat; reading it ends the snooze.
    assert!(w.snooze(2, Some(at(20))).unwrap());
    assert!(!w.snooze(99, Some(at(20))).unwrap(), "no such chat");
    assert_eq!(
        r.chat(2, &no_typing).unwrap().unwrap().snoozed_until,
        Some(at(20))
    );
    assert_eq!(w.snoozes().unwrap(), [(2, at(20))]);
    w.mark_chat_read(2).unwrap();
    assert_eq!(r.chat(2, &no_typing).unwrap().unwrap().snoozed_until, None);

    // Retention removes the oldest unread message: the wait starts at the next one kept.
    apply(&mut w, &[message(12, 1, "and now?")], at(40));
    w.remove_older_than(at(30)).unwrap();
    assert_eq!(
        r.chat(1, &no_typing).unwrap().unwrap().waiting_since,
        Some(at(40))
    );
}

#[test]
fn a_database_of_the_first_schema_gains_snoozing_and_forwarding_s_record_and_keeps_its_chats() {
    let db = db();
    let mut w = Writer::open(&db.path).unwrap();
    apply(&mut w, &[new_chat(1, "Ann", "hi")], t0());
    drop(w);
    // As the first release left it.
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.execute_batch(
        "DROP TABLE forwards; DROP INDEX chats_waiting; ALTER TABLE chats DROP COLUMN snoozed_until; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let w = Writer::open(&db.path).unwrap();
    assert!(w.snooze(1, Some(t0())).unwrap());
    let r = Reader::open(&db.path).unwrap();
    let ann = r.chat(1, &no_typing).unwrap().unwrap();
    assert_eq!((ann.unread, ann.waiting_since), (1, Some(t0())));
    assert_eq!(r.forwards(10).unwrap(), []);
    assert_eq!(chatbell_engine::store::SCHEMA_VERSION, 3);
}

/// Forwarding's record keeps the newest 200 ends, newest first, for `doctor`; a row a newer
/// build wrote in a shape this one does not read is skipped, not an error.
#[test]
fn forwarding_s_record_keeps_the_newest() {
    use chatbell_engine::model::{ForwardEvent, ForwardRecord};
    let db = db();
    let w = Writer::open(&db.path).unwrap();
    for n in 0..205u32 {
        w.record_forward(&ForwardRecord {
            at: t0() + chrono::Duration::seconds(n.into()),
            target: "phone".into(),
            event: ForwardEvent::Reminder { step: n },
            delivered: n % 2 == 0,
            attempts: 1,
            error: (n % 2 == 1).then(|| "ntfy refused the access token".into()),
        })
        .unwrap();
    }
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.execute(
        "INSERT INTO forwards (at, record) VALUES (0, '{\"from\": \"the future\"}')",
        [],
    )
    .unwrap();
    let r = Reader::open(&db.path).unwrap();
    let kept = r.forwards(500).unwrap();
    assert_eq!(kept.len(), 200, "the newest 200, the foreign row skipped");
    assert_eq!(kept[0].event, ForwardEvent::Reminder { step: 204 });
    assert_eq!(kept[199].event, ForwardEvent::Reminder { step: 5 });
    assert_eq!(
        kept[1].error.as_deref(),
        Some("ntfy refused the access token")
    );
}
