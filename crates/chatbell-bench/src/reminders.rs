//! Figure 8 — Reminders while a customer waits: (a) from the moment a chat's wait reaches a
//! step of the ladder to the reminder's `Notify` arriving at a notification server on D-Bus,
//! and (b) what waiting chats cost an idle `chatbell-cli listen` in wakeups.
//!
//! (a) is measured twice: with time moved by hand (the engine's own reaction: wake, read the
//! waiting chats, decide, render, call D-Bus), and in the full run also on the real clock with
//! a one-minute ladder (adding the timer's own accuracy). The baseline is the same run's first
//! notification of a chat, frame → `Notify`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chatbell_engine::clock::ManualClock;
use chatbell_engine::model::{ConnState, Delivery, EngineEvent, Slot};
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_engine::settings::{Ladder, NotificationSettings};
use chatbell_engine::{Engine, EngineConfig};
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::{NotificationServer, NotifyCall};
use chrono::{NaiveTime, Utc};
use tokio::sync::broadcast;

use crate::Scale;
use crate::footprint::wakeups_over;
use crate::report::{Figure, Goal};
use crate::stats::Samples;

const SECTION: &str = "8. Reminders while a customer waits";

fn new_chat(user: i64, name: &str) -> serde_json::Value {
    serde_json::json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": "u", "source": "telegram", "first_message": "Здравствуйте"}, "timestamp": Utc::now().to_rfc3339()})
}

async fn sim() -> Result<SimHandle> {
    Ok(chatbell_sim::start(SimConfig::quiet()).await?)
}

async fn online(engine: &Engine) -> Result<()> {
    engine
        .state()
        .wait_for(|s| matches!(s, ConnState::Online { .. }))
        .await?;
    Ok(())
}

/// The calls whose summary starts with `name`, once there are `n` of them.
async fn calls_of(
    server: &NotificationServer,
    name: &str,
    n: usize,
    within: Duration,
) -> Result<Vec<NotifyCall>> {
    let deadline = Instant::now() + within;
    loop {
        let calls: Vec<NotifyCall> = server
            .calls()
            .into_iter()
            .filter(|c| c.summary.contains(name))
            .collect();
        if calls.len() >= n {
            return Ok(calls);
        }
        if Instant::now() > deadline {
            bail!("{} of {n} notifications about {name} arrived", calls.len());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn shown(events: &mut broadcast::Receiver<EngineEvent>, want: Slot) -> Result<()> {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(EngineEvent::Delivery(Delivery::Shown { slot, .. })) = events.recv().await
                && slot == want
            {
                return;
            }
        }
    })
    .await
    .context("the notification was never shown")
}

/// (a) with time moved by hand: each chat, left unopened for two minutes, is reminded; the
/// clock is moved to the threshold and the reminder's `Notify` timed. Also times each chat's
/// first notification (the baseline).
async fn by_hand(server: &NotificationServer, n: usize) -> Result<(Samples, Samples)> {
    let sim = sim().await?;
    let dir = tempfile::tempdir()?;
    let clock = ManualClock::new(Utc::now(), NaiveTime::from_hms_opt(12, 0, 0).unwrap());
    let mut config = crate::engine_config(dir.path(), sim.ws_url());
    config.tuning.heartbeat.ping_interval = Duration::from_secs(3600);
    config.tuning.heartbeat.dead_after = Duration::from_secs(86_400);
    let engine = Engine::start_with_clock(
        config,
        Some(Box::new(DesktopNotifier::new(NotifierConfig::default()))),
        Arc::new(clock.clone()),
    )
    .await?;
    online(&engine).await?;
    let mut events = engine.events();
    let (mut first, mut reminder) = (Vec::new(), Vec::new());
    for i in 0..n {
        let user = 500 + i as i64;
        let name = format!("Hand {i}");
        let sent = Instant::now();
        sim.control().send_event(&new_chat(user, &name)).await?;
        let calls = calls_of(server, &name, 1, Duration::from_secs(10)).await?;
        first.push(calls[0].arrived.saturating_duration_since(sent));
        shown(&mut events, Slot::Chat(user)).await?;
        // Past the coalescer's window, then to the threshold.
        clock.advance(Duration::from_secs(119));
        let threshold = Instant::now();
        clock.advance(Duration::from_secs(1));
        let calls = calls_of(server, &name, 2, Duration::from_secs(10)).await?;
        reminder.push(calls[1].arrived.saturating_duration_since(threshold));
        engine.mark_read(user).await?;
    }
    engine.shutdown().await;
    sim.shutdown().await;
    Ok((
        Samples::from_durations(&first),
        Samples::from_durations(&reminder),
    ))
}

/// (a) on the real clock: one chat on a one-minute ladder, `n` reminders; each timed from the
/// moment the frame was handed to the socket plus its step (an upper bound: the chat's wait
/// starts when the frame is read, a little later).
async fn real_clock(server: &NotificationServer, n: usize) -> Result<Samples> {
    let sim = sim().await?;
    let dir = tempfile::tempdir()?;
    let mut config: EngineConfig = crate::engine_config(dir.path(), sim.ws_url());
    let mut settings = NotificationSettings::default();
    settings.escalation.new_chat = Ladder {
        realert_after_min: 1,
        every_min: 1,
        urgent_after_min: None,
    };
    config.settings.notifications = settings;
    let engine = Engine::start(
        config,
        Some(Box::new(DesktopNotifier::new(NotifierConfig::default()))),
    )
    .await?;
    online(&engine).await?;
    let sent = Instant::now();
    sim.control()
        .send_event(&new_chat(900, "Real clock"))
        .await?;
    let within = Duration::from_secs(60 * n as u64 + 30);
    let calls = calls_of(server, "Real clock", n + 1, within).await?;
    let late: Vec<Duration> = calls[1..=n]
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let threshold = sent + Duration::from_secs(60 * (k as u64 + 1));
            c.arrived.saturating_duration_since(threshold)
        })
        .collect();
    engine.shutdown().await;
    sim.shutdown().await;
    Ok(Samples::from_durations(&late))
}

/// (b) `chatbell-cli listen`'s wakeups per minute, idle, with nobody waiting and then with 20
/// chats waiting (their reminders included: the span covers the first step of the ladder).
async fn wakeups(span: Duration) -> Result<(f64, f64)> {
    let sim = sim().await?;
    let (cli, _home) = crate::listen(&sim.ws_url(), &[])?;
    cli.stdout
        .wait_json(Duration::from_secs(10), |v| v["state"] == "online")
        .await
        .context("chatbell-cli never came online")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let port = sim.addr().port();
    let (_, nobody, _) = crate::footprint::idle(cli.pid(), port, span).await?;
    for user in 0..20 {
        sim.control()
            .send_event(&new_chat(2_000 + user, &format!("Waiting {user}")))
            .await?;
    }
    cli.stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "waiting" && v["chats"] == 20
        })
        .await
        .context("the 20 chats never waited")?;
    let (_, twenty, _) = crate::footprint::idle(cli.pid(), port, span).await?;
    drop(cli);
    sim.shutdown().await;
    Ok((nobody, twenty))
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").context("no session bus")?;
    let server = NotificationServer::start_at(&bus, &["body", "actions"]).await;
    let n = scale.pick(5, 20);
    let (first, reminder) = by_hand(&server, n).await?;
    // A span that covers the first reminder of chats that arrive at its start (2 minutes).
    let span = Duration::from_secs(scale.pick(5, 150));
    let real_steps = scale.pick(0, 3);
    let (idle, real) = tokio::join!(wakeups(span), async {
        if real_steps == 0 {
            Ok(None)
        } else {
            real_clock(&server, real_steps).await.map(Some)
        }
    });
    let (nobody, twenty) = idle?;
    let mut figures = vec![
        Figure::new(
            SECTION,
            "wait reaches a step → reminder's Notify on D-Bus (time moved by hand), p50",
            reminder.median(),
            "ms",
        )
        .baseline("first notification p50", first.median())
        .note(format!(
            "{n} chats, each reminded at 2 minutes; the engine's own reaction"
        )),
        Figure::new(
            SECTION,
            "wait reaches a step → reminder's Notify on D-Bus (time moved by hand), max",
            reminder.max(),
            "ms",
        )
        .baseline("first notification max", first.max())
        .goal(Goal::AtMost(1000.0)),
    ];
    if let Some(real) = real? {
        figures.push(
            Figure::new(SECTION, "wait reaches a step → reminder's Notify (real clock), max", real.max(), "ms")
                .baseline("first notification max", first.max())
                .goal(Goal::AtMost(1000.0))
                .note(format!("one chat on a 1-minute ladder, {real_steps} reminders, timed from the frame's send + the step")),
        );
    }
    figures.push(wakeups_over(
        Figure::new(
            SECTION,
            "chatbell-cli idle wakeups, nobody waiting",
            nobody,
            "/min",
        )
        .note(format!(
            "context switches of all threads over {} s",
            span.as_secs()
        )),
        span,
    ));
    figures.push(wakeups_over(
        Figure::new(
            SECTION,
            "chatbell-cli idle wakeups, 20 chats waiting",
            twenty,
            "/min",
        )
        .baseline("nobody waiting", nobody)
        .note(format!(
            "over {} s after they arrived, their first reminder (a digest) included",
            span.as_secs()
        )),
        span,
    ));
    Ok(figures)
}
