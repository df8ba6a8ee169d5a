//! The engine against servers that misbehave on purpose (the testkit's hostile peer, raw TCP)
//! and against the simulator's stall. Every fault must end in a state the engine publishes,
//! and nothing the server sent before it may be lost.

use std::collections::{BTreeMap, VecDeque};
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use chatbell_engine::connection::ConnectionTuning;
use chatbell_engine::liveness::Heartbeat;
use chatbell_engine::model::{ConnState, EngineEvent, Gap, Message, TimelineItem};
use chatbell_engine::{Engine, EngineConfig, ServerConfig};
use chatbell_sim::{Fault, SimConfig};
use chatbell_testkit::{HostileServer, Misbehaviour};
use serde_json::json;
use tokio::sync::broadcast;

fn tuning() -> ConnectionTuning {
    let mut tuning = ConnectionTuning {
        heartbeat: Heartbeat {
            ping_interval: Duration::from_millis(200),
            dead_after: Duration::from_millis(800),
        },
        connect_timeout: Duration::from_millis(500),
        ..ConnectionTuning::default()
    };
    // Full jitter can draw a 0 ms delay, and then Offline is replaced by Connecting before a
    // watcher sees it; a 1 s ceiling makes that 1 draw in 1001.
    tuning.backoff.base = Duration::from_secs(1);
    tuning.backoff.cap = Duration::from_secs(1);
    tuning.backoff.unauthorized = Duration::from_secs(60);
    tuning
}

/// An engine with its own database, and every event it published since it started.
struct Rig {
    engine: Engine,
    events: broadcast::Receiver<EngineEvent>,
    /// Events received but not yet taken by a wait, in order: each wait takes only its own.
    backlog: VecDeque<EngineEvent>,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn start(url: String) -> Rig {
    start_with(url, tuning()).await
}

async fn start_with(url: String, tuning: ConnectionTuning) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chatbell.db");
    let mut config = EngineConfig::new(&db);
    config.server = Some(ServerConfig::new(url, None));
    config.tuning = tuning;
    let engine = Engine::start(config, None).await.unwrap();
    let events = engine.events();
    Rig {
        engine,
        events,
        backlog: VecDeque::new(),
        db,
        _dir: dir,
    }
}

impl Rig {
    /// The first event not yet taken that matches `pred`.
    async fn take(
        &mut self,
        within: Duration,
        what: &str,
        mut pred: impl FnMut(&EngineEvent) -> bool,
    ) -> EngineEvent {
        if let Some(i) = self.backlog.iter().position(&mut pred) {
            return self.backlog.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(event) => event.expect("no lag: the event buffer holds 4096"),
                Err(_) => panic!(
                    "no {what} within {within:?}; state {:?}",
                    self.engine.state().borrow()
                ),
            };
            if pred(&event) {
                return event;
            }
            self.backlog.push_back(event);
        }
    }

    /// The first connection state matching `pred` (from the event stream, which also holds
    /// states that were replaced before the test looked).
    async fn state(&mut self, within: Duration, pred: impl Fn(&ConnState) -> bool) -> ConnState {
        let event = self
            .take(
                within,
                "such state",
                |e| matches!(e, EngineEvent::Connection(s) if pred(s)),
            )
            .await;
        let EngineEvent::Connection(state) = event else {
            unreachable!()
        };
        state
    }

    async fn offline(&mut self, within: Duration) -> String {
        let ConnState::Offline { failure, .. } = self
            .state(within, |s| matches!(s, ConnState::Offline { .. }))
            .await
        else {
            unreachable!()
        };
        failure.to_string()
    }

    /// Waits until the messages with these ids are stored; returns them as published.
    async fn stored(&mut self, ids: RangeInclusive<i64>, within: Duration) -> Vec<Message> {
        let mut seen = BTreeMap::new();
        let deadline = tokio::time::Instant::now() + within;
        while let Some(missing) = ids.clone().find(|id| !seen.contains_key(id)) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let what = format!("message {missing} ({} of {ids:?} stored)", seen.len());
            let event = self
                .take(left, &what, |e| matches!(e, EngineEvent::Stored(_)))
                .await;
            let EngineEvent::Stored(update) = event else {
                unreachable!()
            };
            for m in update.messages {
                let id = m.message_id.unwrap();
                if ids.contains(&id) {
                    seen.insert(id, m);
                }
            }
        }
        seen.into_values().collect()
    }

    /// The first store update that recorded a gap.
    async fn gap(&mut self, within: Duration) -> Gap {
        let event = self
            .take(
                within,
                "gap",
                |e| matches!(e, EngineEvent::Stored(u) if u.gap.is_some()),
            )
            .await;
        let EngineEvent::Stored(update) = event else {
            unreachable!()
        };
        update.gap.unwrap()
    }
}

fn message(id: i64, user: i64) -> serde_json::Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": format!("User {user}"), "text": format!("message {id}"), "file_path": null, "source": "telegram"}, "timestamp": "2026-01-10T15:31:00Z"})
}

fn messages(n: i64) -> Vec<String> {
    (1..=n).map(|id| message(id, 7).to_string()).collect()
}

#[tokio::test]
async fn http_401_and_403_mean_the_token_was_refused() {
    for status in [401, 403] {
        let server = HostileServer::start(Misbehaviour::HttpStatus(status))
            .await
            .unwrap();
        let mut rig = start(server.url()).await;
        let state = rig
            .state(Duration::from_secs(5), |s| {
                !matches!(s, ConnState::Connecting { .. })
            })
            .await;
        assert!(
            matches!(state, ConnState::Unauthorized { status: s, .. } if s == status),
            "{state:?}"
        );
        rig.engine.shutdown().await;
    }
}

#[tokio::test]
async fn http_500_is_offline_naming_the_status() {
    let server = HostileServer::start(Misbehaviour::HttpStatus(500))
        .await
        .unwrap();
    let mut rig = start(server.url()).await;
    let reason = rig.offline(Duration::from_secs(5)).await;
    assert!(reason.contains("HTTP 500"), "{reason}");
    rig.engine.shutdown().await;
}

#[tokio::test]
async fn a_redirect_is_offline_naming_the_status_and_is_not_followed() {
    let target = HostileServer::start(Misbehaviour::PingFlood {
        messages: messages(1),
        pings_between: 0,
    })
    .await
    .unwrap();
    let server = HostileServer::start(Misbehaviour::Redirect {
        location: target.url(),
    })
    .await
    .unwrap();
    let mut rig = start(server.url()).await;
    let reason = rig.offline(Duration::from_secs(5)).await;
    assert_eq!(target.connections(), 0, "the redirect target was contacted");
    assert!(reason.contains("HTTP 302"), "{reason}");
    assert!(server.connections() >= 1);
    rig.engine.shutdown().await;
}

#[tokio::test]
async fn a_handshake_left_unanswered_is_offline_within_the_connect_timeout() {
    let server = HostileServer::start(Misbehaviour::NeverCompletesHandshake)
        .await
        .unwrap();
    let started = Instant::now();
    let mut rig = start(server.url()).await;
    let reason = rig.offline(Duration::from_secs(5)).await;
    let took = started.elapsed();
    let timeout = tuning().connect_timeout;
    assert!(reason.contains("did not answer within"), "{reason}");
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(1),
        "Offline after {took:?}, the timeout is {timeout:?}"
    );
    assert_eq!(server.connections(), 1, "the request reached the server");
    rig.engine.shutdown().await;
}

#[tokio::test]
async fn a_ping_flood_keeps_the_connection_and_every_message_between_is_stored() {
    let (n, pings) = (50, 200);
    let server = HostileServer::start(Misbehaviour::PingFlood {
        messages: messages(n),
        pings_between: pings,
    })
    .await
    .unwrap();
    let mut rig = start(server.url()).await;
    let ConnState::Online { since } = rig
        .state(Duration::from_secs(5), |s| {
            matches!(s, ConnState::Online { .. })
        })
        .await
    else {
        unreachable!()
    };
    rig.stored(1..=n, Duration::from_secs(10)).await;
    assert_eq!(
        *rig.engine.state().borrow(),
        ConnState::Online { since },
        "still the first session"
    );
    assert_eq!(server.connections(), 1);
    // Every message but the last was followed by its whole flood before the last was read.
    assert!(server.frames_written() >= (n as u64 - 1) * (pings as u64 + 1));
    assert_eq!(
        rig.engine.queries().counts().await.unwrap().messages,
        n as u64
    );
    rig.engine.shutdown().await;
}

#[tokio::test]
async fn an_oversize_frame_drops_the_connection_and_the_next_one_delivers() {
    let server = HostileServer::start(Misbehaviour::OversizeFrame { then: messages(3) })
        .await
        .unwrap();
    let mut rig = start(server.url()).await;
    let reason = rig.offline(Duration::from_secs(5)).await;
    assert!(reason.contains("frame too large"), "{reason}");
    rig.stored(1..=3, Duration::from_secs(5)).await;
    assert_eq!(server.connections(), 2);
    let counts = rig.engine.queries().counts().await.unwrap();
    assert_eq!(
        (counts.events, counts.messages),
        (3, 3),
        "nothing of the big frame kept"
    );
    rig.engine.shutdown().await;
}

#[tokio::test]
async fn invalid_utf8_is_a_protocol_error_and_the_next_connection_delivers() {
    let server = HostileServer::start(Misbehaviour::InvalidUtf8 { then: messages(3) })
        .await
        .unwrap();
    let mut rig = start(server.url()).await;
    let reason = rig.offline(Duration::from_secs(5)).await;
    assert!(reason.contains("protocol error"), "{reason}");
    assert!(reason.contains("UTF-8"), "{reason}");
    rig.stored(1..=3, Duration::from_secs(5)).await;
    assert_eq!(server.connections(), 2);
    rig.engine.shutdown().await;
}

/// The flood's pongs fill the socket, so the client's next ping cannot be sent; the messages
/// come after that, while the write is stuck. Reading must go on regardless, and the stuck
/// write itself is the verdict.
#[tokio::test]
async fn a_server_that_never_reads_is_declared_dead_and_every_message_it_sent_is_stored() {
    let n = 200;
    // Time to read the flood and the messages before the verdict, on a busy machine too.
    let mut tuning = tuning();
    tuning.heartbeat.dead_after = Duration::from_secs(2);
    let heartbeat = tuning.heartbeat;
    let server = HostileServer::start(Misbehaviour::NeverReads {
        flood: 60_000,
        pause: heartbeat.ping_interval * 2,
        messages: messages(n),
        pings_between: 50,
    })
    .await
    .unwrap();
    let started = Instant::now();
    let mut rig = start_with(server.url(), tuning).await;
    rig.stored(1..=n, Duration::from_secs(10)).await;
    let reason = rig.offline(Duration::from_secs(10)).await;
    let dead = started.elapsed();
    assert!(reason.contains("the server stopped reading"), "{reason}");
    // Blocked by the first or second ping, then `dead_after` of waiting; a second to spare
    // (three on Windows, whose send buffers grow with the flood: the write sticks later).
    let spare = Duration::from_secs(if cfg!(windows) { 3 } else { 1 });
    let bound = heartbeat.ping_interval * 2 + heartbeat.dead_after + spare;
    assert!(dead < bound, "declared dead after {dead:?}");
    assert_eq!(server.connections(), 1, "stored from the first connection");
    assert_eq!(
        rig.engine.queries().counts().await.unwrap().messages,
        n as u64
    );
    rig.engine.shutdown().await;
}

/// Nothing was heard after the stall began, so the gap starts there, not at the verdict.
#[tokio::test]
async fn a_gap_starts_at_the_last_frame_heard() {
    let sim = chatbell_sim::start(SimConfig::quiet()).await.unwrap();
    let mut rig = start(sim.ws_url()).await;
    rig.state(Duration::from_secs(5), |s| {
        matches!(s, ConnState::Online { .. })
    })
    .await;
    let control = sim.control();
    control.post_events(&json!([message(1, 9)])).await.unwrap();
    let before = rig.stored(1..=1, Duration::from_secs(5)).await.remove(0);
    let stall_began = chrono::Utc::now();
    assert_eq!(control.fault(&Fault::Stall { ms: 5_000 }).await.unwrap(), 1);
    let gap = rig.gap(Duration::from_secs(5)).await;
    let ping_interval = chrono::Duration::from_std(tuning().heartbeat.ping_interval).unwrap();
    assert!(
        gap.from.timestamp_millis() >= before.received_at.timestamp_millis(),
        "the gap {gap:?} starts before message 1 arrived at {}",
        before.received_at
    );
    assert!(
        gap.from < stall_began + ping_interval,
        "the gap starts at {}, {} ms after the stall began",
        gap.from,
        (gap.from - stall_began).num_milliseconds()
    );

    // The same gap is stored, and shown in the chat's timeline.
    let stored: Vec<(i64, i64)> = {
        let db = rusqlite::Connection::open(&rig.db).unwrap();
        let mut q = db.prepare("SELECT from_at, to_at FROM gaps").unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        stored,
        [(gap.from.timestamp_millis(), gap.to.timestamp_millis())]
    );
    control.post_events(&json!([message(2, 9)])).await.unwrap();
    rig.stored(2..=2, Duration::from_secs(5)).await;
    let page = rig.engine.queries().history(9, None, 10).await.unwrap();
    let gaps: Vec<Gap> = page
        .items
        .iter()
        .filter_map(|i| match i {
            TimelineItem::Gap(g) => Some(*g),
            TimelineItem::Message(_) => None,
        })
        .collect();
    let ms = |g: &Gap| (g.from.timestamp_millis(), g.to.timestamp_millis());
    assert_eq!(
        gaps.iter().map(ms).collect::<Vec<_>>(),
        [ms(&gap)],
        "{:?}",
        page.items
    );
    rig.engine.shutdown().await;
    sim.shutdown().await;
}
