//! Figure 3 — The store at scale: 10,000 chats and 1,000,000 messages (one chat holding 100,000),
//! written through the engine's own writer, then the queries the UI makes. Baselines are the
//! cheapest query SQLite can answer on the same file, or the query one would need without
//! the index or the maintained count.

use std::time::Instant;

use anyhow::Result;
use chatbell_engine::model::Focus;
use chatbell_engine::store::{Input, Reader, Writer};
use rusqlite::Connection;

use crate::Scale;
use crate::report::{Figure, Goal};
use crate::stats::median_of;

const SECTION: &str = "3. Store at scale (ms, lower is better)";
const HOT: i64 = 1;

const WORDS_RU: &[&str] = &[
    "когда",
    "будет",
    "доставка",
    "заказ",
    "оплата",
    "курьер",
    "спасибо",
    "адрес",
    "номер",
    "вернуть",
    "размер",
    "статус",
];
const WORDS_EN: &[&str] = &[
    "when", "will", "delivery", "order", "payment", "courier", "thanks", "address", "number",
    "refund", "size", "status",
];

fn text(i: u64) -> String {
    let words = if i.is_multiple_of(2) {
        WORDS_RU
    } else {
        WORDS_EN
    };
    (0..6)
        .map(|k| words[((i / 3 + k * 7) % words.len() as u64) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// Fills a store: `chats` chats, `messages` messages, `hot` of them in chat 1.
fn fill(path: &std::path::Path, chats: i64, messages: u64, hot: u64) -> Result<()> {
    let mut writer = Writer::open(path)?;
    let now = chrono::Utc::now();
    let mut frames = Vec::with_capacity(1000);
    let mut id = 0u64;
    let flush = |writer: &mut Writer, frames: &mut Vec<String>| -> Result<()> {
        let inputs: Vec<Input<'_>> = frames
            .iter()
            .map(|f| Input::Frame {
                text: f,
                received_at: now,
                parsed: None,
            })
            .collect();
        writer.apply(inputs, Focus::default())?;
        frames.clear();
        Ok(())
    };
    for user in 1..=chats {
        frames.push(format!(r#"{{"event":"new_chat","data":{{"user_id":{user},"user_name":"Client {user}","username":"c{user}","source":"telegram","first_message":"hello"}}}}"#));
        if frames.len() == 1000 {
            flush(&mut writer, &mut frames)?;
        }
    }
    while id < messages {
        id += 1;
        let user = if id <= hot {
            HOT
        } else {
            2 + (id as i64 % (chats - 1))
        };
        frames.push(format!(
            r#"{{"event":"new_message","data":{{"message_id":{id},"user_id":{user},"user_name":"Client {user}","text":"{}","file_path":null,"source":"telegram"}}}}"#,
            text(id)
        ));
        if frames.len() == 1000 {
            flush(&mut writer, &mut frames)?;
        }
    }
    flush(&mut writer, &mut frames)?;
    writer.close(now)?;
    Ok(())
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    tokio::task::spawn_blocking(move || measure(scale)).await?
}

fn measure(scale: Scale) -> Result<Vec<Figure>> {
    let (chats, messages, hot) = scale.pick(
        (1_000i64, 100_000u64, 10_000u64),
        (10_000, 1_000_000, 100_000),
    );
    let reps = scale.pick(5, 30);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("chatbell.db");
    let started = Instant::now();
    fill(&path, chats, messages, hot)?;
    let fill_rate = (messages as f64 + chats as f64) / started.elapsed().as_secs_f64();
    let size_mib = std::fs::metadata(&path)?.len() as f64 / 1024.0 / 1024.0;
    let none = |_: i64| false;

    let cold = median_of(reps.min(10), || {
        let t = Instant::now();
        let reader = Reader::open(&path).expect("opens");
        let chats = reader.chats(50, 0, &none).expect("lists");
        assert_eq!(chats.len(), 50);
        ms(t)
    });
    let cold_base = median_of(reps.min(10), || {
        let t = Instant::now();
        let conn = Connection::open(&path).expect("opens");
        let _: i64 = conn
            .query_row("SELECT user_id FROM chats LIMIT 1", [], |r| r.get(0))
            .expect("reads");
        ms(t)
    });

    let reader = Reader::open(&path)?;
    let raw = Connection::open(&path)?;
    let list = median_of(reps, || {
        let t = Instant::now();
        let _ = reader.chats(50, 0, &none).expect("lists");
        ms(t)
    });
    let list_base = median_of(reps, || {
        let t = Instant::now();
        let mut stmt = raw
            .prepare_cached("SELECT user_id FROM chats ORDER BY last_seq DESC LIMIT 50")
            .expect("sql");
        let n = stmt
            .query_map([], |r| r.get::<_, i64>(0))
            .expect("rows")
            .count();
        assert_eq!(n, 50);
        ms(t)
    });

    let middle: i64 = raw.query_row(
        "SELECT seq FROM messages WHERE user_id = ?1 ORDER BY seq LIMIT 1 OFFSET ?2",
        rusqlite::params![HOT, (hot / 2) as i64],
        |r| r.get(0),
    )?;
    let page = median_of(reps, || {
        let t = Instant::now();
        let page = reader.history(HOT, Some(middle), 50).expect("pages");
        assert_eq!(page.items.len(), 50);
        ms(t)
    });
    let page_base = median_of(reps, || {
        let t = Instant::now();
        let _: i64 = raw
            .prepare_cached("SELECT user_id FROM messages WHERE seq = ?1")
            .expect("sql")
            .query_row([middle], |r| r.get(0))
            .expect("row");
        ms(t)
    });

    let search = |q: &str| {
        median_of(reps.min(10), || {
            let t = Instant::now();
            let hits = reader.search(q, 50).expect("searches");
            assert!(!hits.is_empty(), "{q}");
            ms(t)
        })
    };
    let like = |needle: &str| {
        median_of(scale.pick(2, 3), || {
            let t = Instant::now();
            let _: i64 = raw
                .query_row(
                    "SELECT count(*) FROM (SELECT seq FROM messages WHERE text LIKE ?1 LIMIT 50)",
                    [format!("%{needle}%")],
                    |r| r.get(0),
                )
                .expect("scan");
            ms(t)
        })
    };
    let (search_ru, search_en) = (search("доставка курьер"), search("delivery courier"));
    let (scan_ru, scan_en) = (like("доставка курьер"), like("delivery courier"));

    // Marking the 100k-message chat read, then the new total, in the engine's own way.
    let writer = Writer::open(&path)?;
    let mark = median_of(scale.pick(3, 5), || {
        raw.execute("UPDATE chats SET read_seq = 0, unread = (SELECT count(*) FROM messages WHERE user_id = ?1) WHERE user_id = ?1", [HOT]).expect("reset");
        let t = Instant::now();
        assert!(writer.mark_chat_read(HOT).expect("marks"));
        let _ = reader.unread_total().expect("totals");
        ms(t)
    });
    let recount = median_of(scale.pick(3, 5), || {
        let t = Instant::now();
        let _: i64 = raw
            .query_row("SELECT count(*) FROM messages WHERE seq > 0", [], |r| {
                r.get(0)
            })
            .expect("count");
        ms(t)
    });
    drop(writer);

    let scale_note = format!(
        "{chats} chats, {messages} messages ({hot} in one chat), {size_mib:.0} MiB file; filled at {:.0} rows/s",
        fill_rate
    );
    Ok(vec![
        Figure::new(SECTION, "cold open + first chat page (50)", cold, "ms")
            .baseline("open + one row", cold_base)
            .goal(Goal::AtMost(200.0))
            .note(format!(
                "{scale_note}; a fresh connection each time, OS cache warm"
            )),
        Figure::new(
            SECTION,
            "chat list page (50, with last message, presence, receipts)",
            list,
            "ms",
        )
        .baseline("bare ORDER BY LIMIT 50", list_base)
        .goal(Goal::AtMost(10.0)),
        Figure::new(
            SECTION,
            "history page of 50 in the middle of the big chat (with gaps)",
            page,
            "ms",
        )
        .baseline("one row by key", page_base)
        .goal(Goal::AtMost(2.0)),
        Figure::new(
            SECTION,
            "search, Cyrillic (\"доставка курьер\", newest 50)",
            search_ru,
            "ms",
        )
        .baseline("LIKE scan", scan_ru)
        .goal(Goal::AtMost(30.0)),
        Figure::new(
            SECTION,
            "search, Latin (\"delivery courier\", newest 50)",
            search_en,
            "ms",
        )
        .baseline("LIKE scan", scan_en)
        .goal(Goal::AtMost(30.0)),
        Figure::new(
            SECTION,
            "mark the big chat read + new unread total",
            mark,
            "ms",
        )
        .baseline("recount all messages", recount)
        .note(
            "unread is kept in the same transaction as the messages, so reading needs no recount",
        ),
    ])
}
