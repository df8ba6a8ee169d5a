//! Figure 2 — Latency at a steady 200 events/s: from the simulator handing a frame to the socket to
//! (a) the engine's UI event for it (read, parsed, committed, published) and (b) its
//! `Notify` call arriving at a notification server on D-Bus. The coalescing window is turned
//! off here (each message is a fresh notification): it is a setting, not a measurement, and
//! `docs/benchmarks-method.md` states it. Every sample is waited for (within a deadline);
//! fewer than 99 % timed fails the run, so the slowest cannot drop out of p99 and max.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chatbell_engine::Engine;
use chatbell_engine::coalesce::CoalesceConfig;
use chatbell_engine::model::{ConnState, EngineEvent};
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_sim::SimConfig;
use chatbell_testkit::NotificationServer;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::Scale;
use crate::report::{Figure, Goal};
use crate::stats::Samples;

const SECTION: &str = "2. Latency at 200 events/s (ms, lower is better)";
const RATE: u64 = 200;

fn frame(id: i64) -> String {
    // 40 chats in turn; each message's text carries its id so the notification can be matched.
    let user = 1_000 + id % 40;
    serde_json::json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": format!("Client {user}"), "text": format!("m{id} когда будет доставка?"), "file_path": null, "source": "telegram"}, "timestamp": chrono::Utc::now().to_rfc3339()}).to_string()
}

/// The latencies of one run: to the UI event, to the `Notify` call, and of a bare client.
pub struct Timed {
    pub stored: Samples,
    pub notified: Samples,
    pub raw: Samples,
    pub note: String,
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let Timed {
        stored,
        notified,
        raw,
        note,
    } = measure(scale, |_| {}).await?;
    Ok(vec![
        Figure::new(
            SECTION,
            "frame → committed → UI event, p50",
            stored.median(),
            "ms",
        )
        .baseline("raw p50", raw.median()),
        Figure::new(
            SECTION,
            "frame → committed → UI event, p99",
            stored.percentile(99.0),
            "ms",
        )
        .baseline("raw p99", raw.percentile(99.0))
        .goal(Goal::AtMost(5.0))
        .note(note),
        Figure::new(
            SECTION,
            "frame → committed → UI event, max",
            stored.max(),
            "ms",
        )
        .baseline("raw max", raw.max()),
        Figure::new(
            SECTION,
            "frame → Notify on D-Bus, p50",
            notified.median(),
            "ms",
        )
        .baseline("raw p50", raw.median()),
        Figure::new(
            SECTION,
            "frame → Notify on D-Bus, p99",
            notified.percentile(99.0),
            "ms",
        )
        .baseline("raw p99", raw.percentile(99.0))
        .goal(Goal::AtMost(5.0)),
        Figure::new(
            SECTION,
            "frame → Notify on D-Bus, max",
            notified.max(),
            "ms",
        )
        .baseline("raw max", raw.max()),
    ])
}

/// Streams `RATE` messages a second to an engine configured by `route` (and, beside it, a bare
/// client connected directly) and times each one.
pub async fn measure(
    scale: Scale,
    route: impl FnOnce(&mut chatbell_engine::EngineConfig),
) -> Result<Timed> {
    let seconds = scale.pick(3, 20);
    let n = RATE * seconds;
    let Some(address) = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok() else {
        bail!("no session bus")
    };
    let server = NotificationServer::start_at(&address, &["body", "body-markup", "actions"]).await;
    let sim = chatbell_sim::start(SimConfig::quiet()).await?;

    let dir = tempfile::tempdir()?;
    let mut config = crate::engine_config(dir.path(), sim.ws_url());
    route(&mut config);
    // Every message its own notification: the latency of the path, not of the deliberate wait.
    config.coalesce = CoalesceConfig {
        chat_window: Duration::ZERO,
        digest_chats: usize::MAX,
        ..CoalesceConfig::default()
    };
    let engine = Engine::start(
        config,
        Some(Box::new(DesktopNotifier::new(NotifierConfig::default()))),
    )
    .await?;
    engine
        .state()
        .wait_for(|s| matches!(s, ConnState::Online { .. }))
        .await?;

    // The baseline: a bare client reading the same stream (the socket's own latency).
    let (mut raw, _) = tokio_tungstenite::connect_async(sim.ws_url()).await?;
    sim.control()
        .wait_clients(Duration::from_secs(10), |c| c.len() == 2)
        .await?;

    let sent: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let stored: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut events = engine.events();
    let (sent_r, stored_w) = (sent.clone(), stored.clone());
    let total = n as usize;
    let collector = tokio::spawn(async move {
        // Until every message is timed; a lagging receiver skips some, which the count shows.
        while stored_w.lock().unwrap().len() < total {
            match events.recv().await {
                Ok(EngineEvent::Stored(update)) => {
                    let now = Instant::now();
                    let sent = sent_r.lock().unwrap();
                    for m in update.messages {
                        if let Some(t) = m.message_id.and_then(|id| sent.get(&id)) {
                            stored_w.lock().unwrap().push(now - *t);
                        }
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let (sent_raw, raw_lat): (_, Arc<Mutex<Vec<Duration>>>) = (sent.clone(), Arc::default());
    let raw_w = raw_lat.clone();
    let raw_task = tokio::spawn(async move {
        while raw_w.lock().unwrap().len() < total
            && let Some(Ok(msg)) = raw.next().await
        {
            if let Message::Text(text) = msg {
                let now = Instant::now();
                let id = text
                    .split("\"message_id\":")
                    .nth(1)
                    .and_then(|r| r.split([',', '}']).next())
                    .and_then(|v| v.parse::<i64>().ok());
                if let Some(t) = id.and_then(|id| sent_raw.lock().unwrap().get(&id).copied()) {
                    raw_w.lock().unwrap().push(now - t);
                }
            }
        }
    });

    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for id in 1..=n as i64 {
        tick.tick().await;
        let text = frame(id);
        sent.lock().unwrap().insert(id, Instant::now());
        sim.hub().deliver(text.into(), Some(1_000 + id % 40));
    }
    // Every sample, or as many as arrive within the deadline (then the count below fails).
    let deadline = Duration::from_secs(10);
    let (_, _, _) = tokio::join!(
        tokio::time::timeout(deadline, collector),
        tokio::time::timeout(deadline, raw_task),
        server.wait_calls(total, deadline),
    );

    let sent = sent.lock().unwrap().clone();
    let notified: Vec<Duration> = server
        .calls()
        .iter()
        .filter_map(|c| {
            let id = c
                .body
                .strip_prefix('m')?
                .split(' ')
                .next()?
                .parse::<i64>()
                .ok()?;
            sent.get(&id)
                .map(|t| c.arrived.saturating_duration_since(*t))
        })
        .collect();
    let stored = Samples::from_durations(&stored.lock().unwrap());
    let notified = Samples::from_durations(&notified);
    let raw = Samples::from_durations(&raw_lat.lock().unwrap());
    engine.shutdown().await;
    sim.shutdown().await;
    let enough = total * 99 / 100;
    if stored.len() < enough || notified.len() < enough || raw.len() < enough {
        bail!(
            "only {} of {n} stored, {} notified and {} raw were timed within {deadline:?}",
            stored.len(),
            notified.len(),
            raw.len()
        );
    }
    let note = format!(
        "{n} messages over {seconds} s in 40 chats; raw = a bare WebSocket client on the same stream"
    );
    Ok(Timed {
        stored,
        notified,
        raw,
        note,
    })
}
