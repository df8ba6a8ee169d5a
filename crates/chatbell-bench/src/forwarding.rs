//! Figure 12 — Forwarding when the agent is away (issue 28): (a) from the moment a chat's wait
//! reaches a reminder step, the screen locked, to the forward's request arriving at a recording
//! ntfy over loopback; the baseline is the same run's desktop `Notify` of the same step with the
//! screen unlocked (time moved by hand in both: the engine's own reaction). (b) The resident's
//! idle wakeups with away detection on (a target set, a screensaver on the bus, five idle
//! minutes) beside the same resident with no target.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chatbell_engine::Engine;
use chatbell_engine::away::Source;
use chatbell_engine::clock::ManualClock;
use chatbell_engine::forwarder::Secrets;
use chatbell_engine::model::ConnState;
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_testkit::{FakeScreenSaver, NotificationServer, RecordingHttp, Spawned};
use chrono::{NaiveTime, Utc};

use crate::Scale;
use crate::footprint::wakeups_over;
use crate::report::{Figure, Goal};
use crate::stats::Samples;

const SECTION: &str = "12. Forwarding when the agent is away";

fn new_chat(user: i64, name: &str) -> serde_json::Value {
    serde_json::json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": "u", "source": "telegram", "first_message": "Здравствуйте"}, "timestamp": Utc::now().to_rfc3339()})
}

fn target(url: &str) -> serde_json::Value {
    serde_json::json!([{"id": "phone", "kind": "ntfy", "url": url, "topic": "bench"}])
}

/// (a): `n` chats reminded at two minutes with the screen locked (timed to the request at the
/// recording ntfy), then `n` with it unlocked (timed to the reminder's `Notify`).
async fn reminders(server: &NotificationServer, bus: &str, n: usize) -> Result<(Samples, Samples)> {
    let sim = chatbell_sim::start(chatbell_sim::SimConfig::quiet()).await?;
    let ntfy = RecordingHttp::start().await;
    let saver = FakeScreenSaver::start_at(bus).await;
    let dir = tempfile::tempdir()?;
    let clock = ManualClock::new(Utc::now(), NaiveTime::from_hms_opt(12, 0, 0).unwrap());
    let mut config = crate::engine_config(dir.path(), sim.ws_url());
    config.tuning.heartbeat.ping_interval = Duration::from_secs(3600);
    config.tuning.heartbeat.dead_after = Duration::from_secs(86_400);
    config.settings.notifications.away.idle_minutes = None;
    config.settings.notifications.forward = serde_json::from_value(target(ntfy.url()))?;
    config.secrets = Secrets::None;
    let session = zbus::connection::Builder::address(bus)?.build().await?;
    config.away = Source::Freedesktop {
        session: Some(session),
        system: None,
    };
    let engine = Engine::start_with_clock(
        config,
        Some(Box::new(DesktopNotifier::new(NotifierConfig::default()))),
        Arc::new(clock.clone()),
    )
    .await?;
    engine
        .state()
        .wait_for(|s| matches!(s, ConnState::Online { .. }))
        .await?;
    let (mut forwarded, mut desktop) = (Vec::new(), Vec::new());
    for locked in [true, false] {
        saver.lock(locked).await;
        engine.away().wait_for(|a| *a == locked).await?;
        for i in 0..n {
            let user = if locked { 100 } else { 200 } + i as i64;
            let name = format!("Away {user}");
            sim.control().send_event(&new_chat(user, &name)).await?;
            until(&format!("{name}'s first notification"), || {
                server
                    .calls()
                    .iter()
                    .any(|c| c.summary.contains(&name))
                    .then_some(())
            })
            .await?;
            engine.waiting_changes().wait_for(|w| w.chats == 1).await?;
            // The reminders' task sleeps toward the step; then the step comes.
            clock.sleeping(Duration::from_secs(120)).await;
            let requests = ntfy.requests().len();
            let threshold = Instant::now();
            clock.advance(Duration::from_secs(120));
            if locked {
                let got = ntfy.wait_for(requests + 1, Duration::from_secs(10)).await;
                forwarded.push(got[requests].arrived.saturating_duration_since(threshold));
            } else {
                let call = until(&format!("{name}'s reminder"), || {
                    let calls: Vec<_> = server
                        .calls()
                        .into_iter()
                        .filter(|c| c.summary.contains(&name))
                        .collect();
                    (calls.len() >= 2).then(|| calls[1].clone())
                })
                .await?;
                desktop.push(call.arrived.saturating_duration_since(threshold));
            }
            engine.mark_read(user).await?;
            engine.waiting_changes().wait_for(|w| w.chats == 0).await?;
        }
    }
    engine.shutdown().await;
    sim.shutdown().await;
    Ok((
        Samples::from_durations(&forwarded),
        Samples::from_durations(&desktop),
    ))
}

/// Polls `found` until it gives something, for at most 10 s.
async fn until<T>(what: &str, found: impl Fn() -> Option<T>) -> Result<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = found() {
            return Ok(t);
        }
        if Instant::now() > deadline {
            bail!("{what}: not within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// (b): the resident, hidden, connected to a server that sends nothing, for `span`: its
/// wakeups per minute without a target and with one (away detection on), `rounds` times each,
/// alternating; the median of each (one round can catch a neighbour's burst).
async fn resident_wakeups(bus: &str, span: Duration, rounds: usize) -> Result<(f64, f64)> {
    let sim = chatbell_sim::start(chatbell_sim::SimConfig::quiet()).await?;
    let ntfy = RecordingHttp::start().await;
    let _saver = FakeScreenSaver::start_at(bus).await;
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 0..rounds * 2 {
        let forward = match round % 2 {
            0 => serde_json::json!([]),
            _ => target(ntfy.url()),
        };
        let home = tempfile::tempdir()?;
        let config = home.path().join("config");
        std::fs::create_dir_all(&config)?;
        let settings = serde_json::json!({
            "server": {"url": sim.ws_url()},
            "ui": {"welcome_done": true},
            "notifications": {"forward": forward, "away": {"idle_minutes": 5}}
        });
        std::fs::write(config.join("settings.json"), settings.to_string())?;
        let mut c = std::process::Command::new(crate::bin("chatbell"));
        c.arg("--hidden")
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("DBUS_SYSTEM_BUS_ADDRESS", bus)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_RUNTIME_DIR", home.path())
            .env("CHATBELL_DATA_DIR", home.path().join("data"))
            .env("CHATBELL_CONFIG_DIR", &config)
            .env("LANG", "en_US.UTF-8");
        let resident = Spawned::spawn(c);
        sim.control()
            .wait_clients(Duration::from_secs(10), |c| c.len() == 1)
            .await
            .context("the resident never connected")?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let ((_, wakeups, _), threads) =
            crate::footprint::idle_by_thread(resident.pid(), sim.addr().port(), span).await?;
        match round % 2 {
            0 => without.push(wakeups),
            _ => {
                with.push(wakeups);
                eprintln!(
                    "bench: forwarding's resident, round {round}: {wakeups:.1}/min: {threads}"
                );
            }
        }
        drop(resident);
        sim.control()
            .wait_clients(Duration::from_secs(10), |c| c.is_empty())
            .await?;
    }
    sim.shutdown().await;
    Ok((Samples::new(without).median(), Samples::new(with).median()))
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").context("no session bus")?;
    let server = NotificationServer::start_at(&bus, &["body", "actions"]).await;
    let n = scale.pick(5, 20);
    let (forwarded, desktop) = reminders(&server, &bus, n).await?;
    drop(server);
    let span = Duration::from_secs(scale.pick(10, 60));
    let rounds = scale.pick(1, 3);
    let (without, with) = resident_wakeups(&bus, span, rounds).await?;
    Ok(vec![
        Figure::new(
            SECTION,
            "step due while away → forward received by ntfy (time moved by hand), p99",
            forwarded.percentile(99.0),
            "ms",
        )
        .baseline("the step's desktop Notify p99", desktop.percentile(99.0))
        .goal(Goal::AtMost(1000.0))
        .note(format!(
            "{n} chats each way, reminded at 2 minutes; ntfy is a recording HTTP server on loopback"
        )),
        Figure::new(
            SECTION,
            "step due while away → forward received by ntfy, p50",
            forwarded.median(),
            "ms",
        )
        .baseline("the step's desktop Notify p50", desktop.median()),
        wakeups_over(
            Figure::new(
                SECTION,
                "resident idle wakeups, away detection on",
                with,
                "/min",
            )
            .baseline("no forwarding target", without)
            .goal(Goal::AtMost(30.0))
            .note(format!(
                "context switches of all threads over {} s, the median of {rounds} rounds \
                 each, alternating; a screensaver on the bus, 5 idle minutes",
                span.as_secs()
            )),
            span,
        ),
    ])
}
