//! The store's writer on arbitrary batches: one input is one batch, one line one input.
//!
//! A line is a frame (any text, parsed or not), except for these control lines:
//! `\x01` connected, `\x02` disconnected, `\x03<digits>` the agent reads that chat after the
//! batch, `\x04<byte>` the clock moves by that many seconds (signed: clocks go back too).
//!
//! One writer lives for many inputs, as in the app, so state carried between batches (the chat
//! cache, the offline mark) is exercised; the database starts over every `FRESH_EVERY` inputs to
//! stay small. After every batch the invariants that must always hold are checked: the batch is
//! stored (never an error), every frame lands in the raw log, malformed ones are counted, and the
//! unread counts match a recount of the messages.

use std::sync::Mutex;

use chatbell_engine::model::Focus;
use chatbell_engine::store::{Input, Reader, Writer};
use chatbell_protocol::parse_frame;
use chrono::{DateTime, TimeDelta, Utc};

const FRESH_EVERY: u32 = 500;

struct Harness {
    // Dropped last: the connections close before their folder goes.
    writer: Writer,
    reader: Reader,
    _dir: tempfile::TempDir,
    inputs: u32,
    now: DateTime<Utc>,
    frames: u64,
    malformed: u64,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("fuzz.db");
        let writer = Writer::open(&path).expect("a new store opens");
        let reader = Reader::open(&path).expect("a new store opens for reading");
        Harness {
            writer,
            reader,
            _dir: dir,
            inputs: 0,
            now: DateTime::from_timestamp(1_893_456_000, 0).expect("a valid time"),
            frames: 0,
            malformed: 0,
        }
    }

    fn tick(&mut self, seconds: i64) -> DateTime<Utc> {
        self.now += TimeDelta::seconds(seconds);
        self.now
    }
}

enum Line {
    Frame(String),
    Connected,
    Disconnected,
    Read(i64),
    Clock(i8),
}

fn lines(data: &[u8]) -> Vec<Line> {
    data.split(|&b| b == b'\n')
        .map(|line| match line {
            [1] => Line::Connected,
            [2] => Line::Disconnected,
            [3, digits @ ..] => Line::Read(
                std::str::from_utf8(digits)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            ),
            [4, by] => Line::Clock(*by as i8),
            frame => Line::Frame(String::from_utf8_lossy(frame).into_owned()),
        })
        .collect()
}

static HARNESS: Mutex<Option<Harness>> = Mutex::new(None);

pub fn check(data: &[u8]) {
    let mut guard = HARNESS.lock().unwrap_or_else(|e| e.into_inner());
    if guard.as_ref().is_none_or(|h| h.inputs >= FRESH_EVERY) {
        // The old store (and its folder) goes before the new one is made.
        *guard = None;
        *guard = Some(Harness::new());
    }
    let h = guard.as_mut().expect("just made");
    h.inputs += 1;

    let lines = lines(data);
    let mut inputs = Vec::new();
    let mut reads = Vec::new();
    let (mut frames, mut malformed) = (0u64, 0u64);
    for line in &lines {
        match line {
            Line::Frame(text) => {
                let received_at = h.tick(1);
                frames += 1;
                malformed += u64::from(parse_frame(text, received_at).is_err());
                inputs.push(Input::Frame {
                    text,
                    received_at,
                    parsed: None,
                });
            }
            Line::Connected => inputs.push(Input::Connected { at: h.tick(1) }),
            Line::Disconnected => inputs.push(Input::Disconnected { at: h.tick(1) }),
            Line::Read(user_id) => reads.push(*user_id),
            Line::Clock(by) => {
                h.tick(i64::from(*by));
            }
        }
    }

    let unread_before = h.writer.unread_total().expect("unread total");
    let applied = h
        .writer
        .apply(inputs, Focus::default())
        .unwrap_or_else(|e| panic!("a batch failed to store, losing its frames: {e}"));
    h.frames += frames;
    h.malformed += malformed;

    assert_eq!(u64::from(applied.frames), frames, "frames applied");
    assert_eq!(u64::from(applied.malformed), malformed, "malformed frames");
    let counts = h.reader.counts().expect("counts");
    assert_eq!(counts.events, h.frames, "every frame is in the raw log");
    assert_eq!(
        counts.malformed, h.malformed,
        "every malformed frame is kept"
    );
    assert_eq!(h.reader.frames_stored().expect("frames stored"), h.frames);

    // With no chat open, every new message is one more unread.
    let unread_after = h.writer.unread_total().expect("unread total");
    assert_eq!(
        unread_after,
        unread_before + applied.messages.len() as u64,
        "unread total after a batch of {} new messages",
        applied.messages.len()
    );
    let changed = h
        .writer
        .chats_by_id(&applied.changed_chats, &|_| false)
        .expect("changed chats");
    assert_eq!(
        changed.iter().map(|c| c.user_id).collect::<Vec<_>>(),
        applied.changed_chats,
        "every changed chat exists"
    );
    for message in &applied.messages {
        assert!(
            applied.changed_chats.contains(&message.user_id),
            "a new message's chat is reported changed: {message:?}"
        );
    }

    for user_id in reads {
        h.writer.mark_chat_read(user_id).expect("mark read");
        if let Some(chat) = h.reader.chat(user_id, &|_| false).expect("chat") {
            assert_eq!(chat.unread, 0, "a chat just read has no unread messages");
        }
    }

    assert_eq!(
        h.reader.unread_mismatches().expect("recount"),
        Vec::new(),
        "chats' unread counts match their messages"
    );
    assert_eq!(h.reader.total_mismatch().expect("recount"), None);
    let chats = h.reader.chats(u32::MAX, 0, &|_| false).expect("chats");
    let sum: u64 = chats.iter().map(|c| u64::from(c.unread)).sum();
    assert_eq!(
        h.writer.unread_total().expect("unread total"),
        sum,
        "the unread total is the sum of the chats' unread"
    );
    assert_eq!(counts.chats, chats.len() as u64);
}
