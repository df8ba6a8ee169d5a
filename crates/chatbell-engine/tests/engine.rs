//! The engine against a real simulator over loopback, with a real SQLite file.

use std::time::{Duration, Instant};

use chatbell_engine::clock::{Clock, ManualClock};
use chatbell_engine::connection::ConnectionTuning;
use chatbell_engine::liveness::Heartbeat;
use chatbell_engine::model::{
    ConnState, EngineEvent, Focus, Outcome, SuppressReason, TimelineItem,
};
use chatbell_engine::store::StoreError;
use chatbell_engine::{Engine, EngineConfig, EngineError, Secret, ServerConfig};
use chatbell_sim::{Fault, SimConfig, SimHandle};
use serde_json::json;
use tokio::sync::broadcast;

const SEED: [&str; 6] = [
    include_str!("../../chatbell-protocol/tests/fixtures/seed_new_chat.json"),
    include_str!("../../chatbell-protocol/tests/fixtures/seed_new_message.json"),
    include_str!("../../chatbell-protocol/tests/fixtures/seed_user_typing.json"),
    include_str!("../../chatbell-protocol/tests/fixtures/seed_message_read.json"),
    include_str!("../../chatbell-protocol/tests/fixtures/seed_user_online.json"),
    include_str!("../../chatbell-protocol/tests/fixtures/seed_user_offline.json"),
];

struct Rig {
    sim: SimHandle,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
}

async fn rig(config: SimConfig) -> Rig {
    let sim = chatbell_sim::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        rate: 0.0,
        ..config
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chatbell.db");
    Rig { sim, _dir: dir, db }
}

fn fast_tuning() -> ConnectionTuning {
    let mut tuning = ConnectionTuning {
        heartbeat: Heartbeat {
            ping_interval: Duration::from_millis(200),
            dead_after: Duration::from_millis(800),
        },
        ..ConnectionTuning::default()
    };
    tuning.backoff.base = Duration::from_millis(100);
    tuning.backoff.cap = Duration::from_millis(500);
    tuning.backoff.unauthorized = Duration::from_secs(60);
    tuning
}

impl Rig {
    fn server(&self, token: Option<&str>) -> ServerConfig {
        ServerConfig::new(self.sim.ws_url(), token.map(Secret::new))
    }

    fn config(&self, subscriptions: Vec<i64>) -> EngineConfig {
        let mut config = EngineConfig::new(&self.db);
        config.server = Some(self.server(None));
        config.subscriptions = subscriptions;
        config.tuning = fast_tuning();
        config
    }

    /// An engine on a clock moved by hand (not yet online).
    async fn engine_on(&self, clock: &ManualClock) -> Engine {
        Engine::start_with_clock(
            self.config(vec![]),
            None,
            std::sync::Arc::new(clock.clone()),
        )
        .await
        .unwrap()
    }

    async fn engine(&self, subscriptions: Vec<i64>) -> Engine {
        let engine = Engine::start(self.config(subscriptions), None)
            .await
            .unwrap();
        online(&engine).await;
        engine
    }

    async fn post(&self, frames: &[serde_json::Value]) {
        let answer = self
            .sim
            .control()
            .post_events(&json!(frames))
            .await
            .unwrap();
        assert!(
            answer["total"].as_u64().unwrap() > 0,
            "nobody got {frames:?}"
        );
    }
}

/// A clock moved by hand, starting now at noon local time.
fn manual_clock() -> ManualClock {
    ManualClock::new(
        chrono::Utc::now(),
        chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
    )
}

async fn wait_state(
    engine: &Engine,
    within: Duration,
    pred: impl Fn(&ConnState) -> bool,
) -> ConnState {
    chatbell_testkit::watch_until("the state matched", &mut engine.state(), within, pred).await
}

async fn online(engine: &Engine) {
    wait_state(engine, Duration::from_secs(5), |s| {
        matches!(s, ConnState::Online { .. })
    })
    .await;
}

async fn wait_event(
    rx: &mut broadcast::Receiver<EngineEvent>,
    within: Duration,
    pred: impl Fn(&EngineEvent) -> bool,
) -> EngineEvent {
    tokio::time::timeout(within, async {
        loop {
            match rx.recv().await {
                Ok(e) if pred(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("event within the time limit")
}

/// Waits until `check` passes, polling the store (the test kit's `eventually`, for a check
/// that answers yes or no).
async fn eventually<F: AsyncFn() -> bool>(within: Duration, what: &str, check: F) {
    chatbell_testkit::eventually(what, within, async || match check().await {
        true => Ok(()),
        false => Err("not yet"),
    })
    .await
}

fn message(id: i64, user: i64, text: &str) -> serde_json::Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": format!("User {user}"), "text": text, "file_path": null, "source": "telegram"}, "timestamp": "2026-01-10T15:31:00Z"})
}

#[tokio::test]
async fn seed_events_go_end_to_end_into_the_store() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![]).await;
    let mut events = engine.events();
    let frames: Vec<serde_json::Value> = SEED
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect();
    rig.post(&frames).await;
    eventually(Duration::from_secs(5), "six events stored", async || {
        engine.queries().counts().await.unwrap().events == 6
    })
    .await;

    let chats = engine.queries().chats(10, 0).await.unwrap();
    assert_eq!(
        chats.len(),
        1,
        "message_read for a user with no chat makes no chat"
    );
    let ivan = &chats[0];
    assert_eq!(
        (ivan.user_id, ivan.name.as_str(), ivan.source.as_deref()),
        (123456789, "Иван Петров", Some("telegram"))
    );
    assert_eq!(
        ivan.unread, 2,
        "the new_chat's first message and message 123"
    );
    assert_eq!(ivan.online, Some(false), "online, then offline");
    let page = engine.queries().history(123456789, None, 50).await.unwrap();
    let texts: Vec<_> = page
        .items
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Message(m) => m.text.clone(),
            TimelineItem::Gap(_) => None,
        })
        .collect();
    assert_eq!(texts, ["Привет!", "Когда будет доставка?"]);
    assert_eq!(
        engine
            .queries()
            .search("доставка".into(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(engine.queries().unread_total().await.unwrap(), 2);
    // Typing started (and stopped by nothing yet: the message came before it).
    wait_event(&mut events, Duration::from_secs(2), |e| {
        matches!(e, EngineEvent::Typing { typing: true, .. })
    })
    .await;
    engine.shutdown().await;
}

#[tokio::test]
async fn subscriptions_are_sent_changed_live_and_resent_after_every_reconnect() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![1, 2]).await;
    let control = rig.sim.control();
    let filters = async |want: Vec<i64>| {
        let clients = control
            .wait_clients(Duration::from_secs(5), |c| {
                c.len() == 1 && c[0].filters == want
            })
            .await
            .unwrap();
        assert_eq!(clients[0].filters, want);
    };
    filters(vec![1, 2]).await;
    engine.subscribe(3);
    engine.unsubscribe(1);
    filters(vec![2, 3]).await;

    // Only subscribed users' events arrive.
    control
        .send_event(&message(1, 1, "filtered out"))
        .await
        .unwrap();
    control.send_event(&message(2, 3, "wanted")).await.unwrap();
    eventually(Duration::from_secs(5), "one message", async || {
        engine.queries().counts().await.unwrap().messages == 1
    })
    .await;

    control.fault(&Fault::Reset).await.unwrap();
    wait_state(&engine, Duration::from_secs(5), |s| {
        !matches!(s, ConnState::Online { .. })
    })
    .await;
    online(&engine).await;
    filters(vec![2, 3]).await;
    engine.unsubscribe(2);
    engine.unsubscribe(3);
    filters(vec![]).await;
    engine.shutdown().await;
}

#[tokio::test]
async fn reconnects_after_a_reset_and_after_a_close_code() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![]).await;
    for fault in [
        Fault::Reset,
        Fault::Close {
            code: 1011,
            reason: "restart".into(),
        },
    ] {
        rig.sim.control().fault(&fault).await.unwrap();
        let down = wait_state(&engine, Duration::from_secs(5), |s| {
            matches!(s, ConnState::Offline { .. })
        })
        .await;
        if let (Fault::Close { .. }, ConnState::Offline { failure, .. }) = (&fault, &down) {
            let reason = failure.to_string();
            assert!(reason.contains("1011"), "{reason}");
        }
        online(&engine).await;
    }
    // And it still works.
    rig.post(&[message(1, 1, "after faults")]).await;
    eventually(Duration::from_secs(5), "stored", async || {
        engine.queries().counts().await.unwrap().messages == 1
    })
    .await;
    engine.shutdown().await;
}

#[tokio::test]
async fn reconnects_after_stall_within_the_dead_timeout() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![]).await;
    let dead_after = fast_tuning().heartbeat.dead_after;
    rig.sim
        .control()
        .fault(&Fault::Stall { ms: 10_000 })
        .await
        .unwrap();
    let started = Instant::now();
    let state = wait_state(&engine, dead_after + Duration::from_secs(2), |s| {
        matches!(s, ConnState::Offline { .. })
    })
    .await;
    let detected = started.elapsed();
    assert!(
        detected <= dead_after + Duration::from_secs(1),
        "took {detected:?}"
    );
    let ConnState::Offline { failure, .. } = state else {
        unreachable!()
    };
    let reason = failure.to_string();
    assert!(reason.contains("no frame or pong"), "{reason}");
    online(&engine).await;
    engine.shutdown().await;
}

#[tokio::test]
async fn a_burst_with_malformed_and_duplicate_frames_stores_each_valid_event_once() {
    let rig = rig(SimConfig {
        client_queue: 100_000,
        ..SimConfig::default()
    })
    .await;
    let engine = rig.engine(vec![]).await;
    let mut frames = Vec::new();
    let mut valid_ids = 0;
    for i in 1..=10_000i64 {
        frames.push(message(i, i % 50, "burst"));
        valid_ids += 1;
        if i % 100 == 0 {
            frames
                .push(json!({"event": "new_message", "data": {"message_id": "bad", "user_id": 1}}));
            frames.push(message(i, i % 50, "duplicate"));
        }
    }
    for chunk in frames.chunks(2_000) {
        rig.sim.control().post_events(&json!(chunk)).await.unwrap();
    }
    rig.sim
        .control()
        .fault(&Fault::Malformed { count: 30 })
        .await
        .unwrap();
    let total = frames.len() as u64 + 30;
    eventually(
        Duration::from_secs(20),
        "every frame in the raw log",
        async || engine.queries().counts().await.unwrap().events == total,
    )
    .await;
    let counts = engine.queries().counts().await.unwrap();
    assert_eq!(counts.messages, valid_ids);
    assert_eq!(counts.malformed, 100 + 30);
    assert_eq!(engine.queries().unread_total().await.unwrap(), valid_ids);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_refused_token_is_unauthorized_until_fixed() {
    let rig = rig(SimConfig {
        token: Some("right".into()),
        ..SimConfig::default()
    })
    .await;
    let mut config = rig.config(vec![]);
    config.server = Some(rig.server(Some("wrong")));
    let engine = Engine::start(config, None).await.unwrap();
    let state = wait_state(&engine, Duration::from_secs(5), |s| {
        matches!(s, ConnState::Unauthorized { .. })
    })
    .await;
    let ConnState::Unauthorized {
        status, retry_at, ..
    } = state
    else {
        unreachable!()
    };
    assert_eq!(status, 401);
    assert!(
        retry_at > chrono::Utc::now() + chrono::Duration::seconds(30),
        "long backoff, no hammering"
    );
    engine.set_server(Some(rig.server(Some("right")))).await;
    online(&engine).await;
    engine.shutdown().await;
}

#[tokio::test]
async fn a_disconnect_leaves_a_gap_marker_in_the_timeline() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![]).await;
    let mut events = engine.events();
    rig.post(&[message(1, 9, "before")]).await;
    eventually(Duration::from_secs(5), "stored", async || {
        engine.queries().counts().await.unwrap().messages == 1
    })
    .await;
    rig.sim.control().fault(&Fault::Reset).await.unwrap();
    let gap = wait_event(
        &mut events,
        Duration::from_secs(5),
        |e| matches!(e, EngineEvent::Stored(u) if u.gap.is_some()),
    )
    .await;
    let EngineEvent::Stored(update) = gap else {
        unreachable!()
    };
    let gap = update.gap.unwrap();
    assert!(gap.to >= gap.from);
    rig.post(&[message(2, 9, "after")]).await;
    eventually(Duration::from_secs(5), "stored", async || {
        engine.queries().counts().await.unwrap().messages == 2
    })
    .await;
    let page = engine.queries().history(9, None, 10).await.unwrap();
    assert!(
        matches!(page.items[1], TimelineItem::Gap(_)),
        "{:?}",
        page.items
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn the_open_chat_in_a_focused_window_neither_notifies_nor_counts_unread() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![]).await;
    let mut events = engine.events();
    engine.set_focus(Focus {
        window_focused: true,
        open_chat: Some(5),
    });
    rig.post(&[message(1, 5, "seen"), message(2, 6, "not seen")])
        .await;
    let mut decided = Vec::new();
    while decided.len() < 2 {
        let batch = wait_event(&mut events, Duration::from_secs(5), |e| {
            matches!(e, EngineEvent::Decisions { .. })
        })
        .await;
        let EngineEvent::Decisions { decisions } = batch else {
            unreachable!()
        };
        decided.extend(decisions);
    }
    let outcome = |user| {
        decided
            .iter()
            .find(|d| d.user_id == user)
            .map(|d| d.outcome.clone())
    };
    assert_eq!(
        outcome(5),
        Some(Outcome::Suppressed {
            reason: SuppressReason::ChatOpenAndFocused
        })
    );
    assert_eq!(outcome(6), Some(Outcome::Allowed));
    assert_eq!(engine.queries().chat(5).await.unwrap().unwrap().unread, 0);
    assert_eq!(engine.queries().chat(6).await.unwrap().unwrap().unread, 1);
    // Reading persists, and is announced.
    assert_eq!(engine.mark_read(6).await.unwrap(), 0);
    wait_event(&mut events, Duration::from_secs(2), |e| {
        matches!(
            e,
            EngineEvent::ChatRead {
                user_id: 6,
                unread_total: 0
            }
        )
    })
    .await;
    assert!(
        engine.recent_decisions().len() >= 2,
        "decisions are remembered for diagnostics"
    );
    engine.shutdown().await;
    let engine = Engine::start(rig.config(vec![]), None).await.unwrap();
    assert_eq!(engine.queries().unread_total().await.unwrap(), 0);
    engine.shutdown().await;
}

#[tokio::test]
async fn typing_shows_and_a_message_from_the_same_user_ends_it() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![]).await;
    let mut events = engine.events();
    rig.post(&[
        message(1, 4, "hi"),
        json!({"event": "user_typing", "data": {"user_id": 4, "user_name": "U"}}),
    ])
    .await;
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(
            e,
            EngineEvent::Typing {
                user_id: 4,
                typing: true
            }
        )
    })
    .await;
    assert!(engine.queries().chat(4).await.unwrap().unwrap().typing);
    rig.post(&[message(2, 4, "done typing")]).await;
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(
            e,
            EngineEvent::Typing {
                user_id: 4,
                typing: false
            }
        )
    })
    .await;
    assert!(!engine.queries().chat(4).await.unwrap().unwrap().typing);
    engine.shutdown().await;
}

#[tokio::test]
async fn one_database_one_engine() {
    let rig = rig(SimConfig::default()).await;
    let engine = rig.engine(vec![]).await;
    match Engine::start(rig.config(vec![]), None).await {
        Err(EngineError::Store(StoreError::InUse { .. })) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a second engine opened the same database"),
    }
    engine.shutdown().await;
    // Once the first is gone, the file is free again.
    Engine::start(rig.config(vec![]), None)
        .await
        .unwrap()
        .shutdown()
        .await;
}

#[tokio::test]
async fn shutdown_keeps_everything_and_a_restart_marks_the_time_away() {
    let rig = rig(SimConfig::default()).await;
    // Time moved by hand: the gap the restart records is exactly the time away.
    let clock = manual_clock();
    let closed_at = clock.utc();
    let engine = rig.engine_on(&clock).await;
    online(&engine).await;
    rig.post(
        &(1..=200)
            .map(|i| message(i, i % 7, "x"))
            .collect::<Vec<_>>(),
    )
    .await;
    // Once the engine has read them all, and at once: some are still in the writer's queue
    // or batch. Whatever was received is written before the store closes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while engine.frames_received() < 200 {
        assert!(
            Instant::now() < deadline,
            "read {}",
            engine.frames_received()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    engine.shutdown().await;

    clock.advance(Duration::from_secs(3600));
    let engine = rig.engine_on(&clock).await;
    let mut events = engine.events();
    assert_eq!(engine.queries().counts().await.unwrap().messages, 200);
    let gap = wait_event(
        &mut events,
        Duration::from_secs(5),
        |e| matches!(e, EngineEvent::Stored(u) if u.gap.is_some()),
    )
    .await;
    let EngineEvent::Stored(update) = gap else {
        unreachable!()
    };
    let gap = update.gap.unwrap();
    let ms = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis();
    assert_eq!(
        (ms(gap.from), ms(gap.to)),
        (ms(closed_at), ms(closed_at + chrono::TimeDelta::hours(1))),
        "the gap runs from the close to the restart"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_store_locked_by_another_program_holds_the_frames_and_retries_on_the_engines_clock() {
    let rig = rig(SimConfig::default()).await;
    let clock = manual_clock();
    let engine = rig.engine_on(&clock).await;
    online(&engine).await;
    let mut events = engine.events();

    // Another program takes the write lock: the writer's commit waits it out, then fails.
    let other = rusqlite::Connection::open(&rig.db).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    rig.post(&[message(1, 7, "held while the store is locked")])
        .await;
    wait_event(
        &mut events,
        Duration::from_secs(15),
        |e| matches!(e, EngineEvent::StoreFailed { error } if error.contains("busy")),
    )
    .await;
    other.execute_batch("ROLLBACK").unwrap();

    // The retry waits on the engine's clock: time moved by hand brings it, and the frame that
    // was held is stored. (Moved in steps, until then: the writer sets its deadline after
    // publishing the failure.)
    let stored = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            clock.advance(Duration::from_secs(1));
            if let Ok(Ok(EngineEvent::Stored(update))) =
                tokio::time::timeout(Duration::from_millis(20), events.recv()).await
                && update.messages.iter().any(|m| m.message_id == Some(1))
            {
                return;
            }
        }
    })
    .await;
    assert!(stored.is_ok(), "the held frame was never stored");
    assert_eq!(engine.queries().counts().await.unwrap().messages, 1);
    assert!(engine.shutdown().await.is_clean());
}

#[tokio::test]
async fn a_retention_beyond_the_calendar_keeps_everything_and_storing_goes_on() {
    let rig = rig(SimConfig::default()).await;
    let mut config = rig.config(vec![]);
    // Settings refuse this; the engine must not depend on that to keep storing.
    config.settings.store.retention_days = Some(97_000_000);
    let engine = Engine::start(config, None).await.unwrap();
    online(&engine).await;
    let mut events = engine.events();
    let frames: Vec<_> = (1..=100).map(|i| message(i, 7, "kept")).collect();
    rig.post(&frames).await;
    wait_event(&mut events, Duration::from_secs(5), |e| {
        matches!(e, EngineEvent::Stored(u) if u.messages.iter().any(|m| m.message_id == Some(100)))
    })
    .await;
    let removed = engine.apply_retention(u32::MAX).await.unwrap();
    assert_eq!((removed.messages, removed.events), (0, 0));
    assert_eq!(engine.queries().counts().await.unwrap().messages, 100);
    assert!(engine.shutdown().await.is_clean());
}

/// A machine that slept: the wall clock jumps ahead while the monotonic clock (and the
/// runtime's timers with it) went on as if nothing happened.
#[derive(Default)]
struct Slept {
    ahead: std::sync::Mutex<Duration>,
}

impl Clock for Slept {
    fn mono(&self) -> Instant {
        Instant::now()
    }
    fn utc(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + *self.ahead.lock().unwrap()
    }
    fn local_time(&self) -> chrono::NaiveTime {
        self.utc().time()
    }
}

#[tokio::test]
async fn after_a_sleep_the_connection_is_made_again_at_the_next_heartbeat() {
    let rig = rig(SimConfig::default()).await;
    let clock = std::sync::Arc::new(Slept::default());
    let engine = Engine::start_with_clock(rig.config(vec![]), None, clock.clone())
        .await
        .unwrap();
    let ConnState::Online { since: first } = wait_state(&engine, Duration::from_secs(5), |s| {
        matches!(s, ConnState::Online { .. })
    })
    .await
    else {
        unreachable!()
    };
    // An hour asleep. The server still answers every ping, so only the clocks can tell.
    *clock.ahead.lock().unwrap() = Duration::from_secs(3600);
    let again = wait_state(&engine, Duration::from_secs(5), |s| {
        matches!(s, ConnState::Online { since } if *since > first + chrono::Duration::minutes(30))
    })
    .await;
    assert!(matches!(again, ConnState::Online { .. }));
    engine.close().await;
}
