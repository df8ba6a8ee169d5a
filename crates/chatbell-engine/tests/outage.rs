//! The alarm when Chatbell cannot hear the service, on a desktop: the engine with its real
//! freedesktop notifier on a private D-Bus and a recording notification server, the simulator
//! over loopback (stopped and started again on the same port), and the threshold crossed by
//! moving the engine's clock by hand.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use chatbell_engine::Engine;
use chatbell_engine::clock::ManualClock;
use chatbell_engine::model::{ConnState, Delivery, EngineEvent, Gap, SettingsSection, Slot};
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_engine::settings::NotificationSettings;
use chatbell_engine::{EngineConfig, Secret, ServerConfig};
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::in_private_desktop;
use chatbell_testkit::{HintValue, NotificationServer, NotifyCall};
use common::WITHIN;
use tokio::sync::broadcast;

const CAPS: &[&str] = &["body", "actions", "persistence"];

struct Desk {
    server: NotificationServer,
    engine: Engine,
    events: broadcast::Receiver<EngineEvent>,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn desk(config: impl FnOnce(&mut EngineConfig), clock: ManualClock) -> Desk {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    let server = NotificationServer::start_at(&address, CAPS).await;
    let dir = tempfile::tempdir().unwrap();
    let mut engine_config = common::config(&dir.path().join("chatbell.db"), String::new());
    engine_config.settings.notifications = NotificationSettings::default();
    config(&mut engine_config);
    let notifier = Box::new(DesktopNotifier::new(NotifierConfig::default()));
    let engine = Engine::start_with_clock(
        engine_config,
        Some(notifier),
        std::sync::Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    let events = engine.events();
    Desk {
        server,
        engine,
        events,
        clock,
        _dir: dir,
    }
}

impl Desk {
    async fn event<T>(&mut self, pick: impl Fn(EngineEvent) -> Option<T>) -> T {
        common::next_event(&mut self.events, "the event", pick).await
    }

    /// The connection's warning shown (its summary), as the engine reports it.
    async fn warned(&mut self) -> String {
        self.event(|e| match e {
            EngineEvent::Delivery(Delivery::Shown {
                slot: Slot::Connection,
                summary,
                ..
            }) => Some(summary),
            _ => None,
        })
        .await
    }

    /// Back online: the gap the timeline stores and the notice shown (its summary), which come
    /// in either order.
    async fn back_online(&mut self) -> (Gap, String) {
        let (mut gap, mut back) = (None, None);
        while gap.is_none() || back.is_none() {
            match self.event(Some).await {
                EngineEvent::Stored(update) if update.gap.is_some() => gap = update.gap,
                EngineEvent::Delivery(Delivery::Shown {
                    slot: Slot::Connection,
                    summary,
                    ..
                }) => back = Some(summary),
                _ => {}
            }
        }
        (gap.unwrap(), back.unwrap())
    }

    async fn state(&self, want: impl Fn(&ConnState) -> bool) -> ConnState {
        let mut state = self.engine.state();
        tokio::time::timeout(WITHIN, async {
            loop {
                let current = state.borrow_and_update().clone();
                if want(&current) {
                    return current;
                }
                state.changed().await.unwrap();
            }
        })
        .await
        .expect("the state within the time limit")
    }

    async fn call(&self, n: usize) -> NotifyCall {
        let calls = self.server.wait_calls(n, WITHIN).await;
        assert!(calls.len() >= n, "only {} calls: {calls:#?}", calls.len());
        calls[n - 1].clone()
    }
}

/// An engine online with a simulator that then goes away at 12:00: returns once the engine
/// says it is offline, with the simulator's address (to start it again there).
async fn gone_offline() -> (Desk, std::net::SocketAddr) {
    gone_offline_with(|_| {}).await
}

/// [`gone_offline`], the engine configured by `config` too.
async fn gone_offline_with(config: impl FnOnce(&mut EngineConfig)) -> (Desk, std::net::SocketAddr) {
    let sim = chatbell_sim::start(SimConfig::quiet()).await.unwrap();
    let addr = sim.addr();
    let clock = common::hand_clock();
    let desk = desk(
        |c| {
            c.server.as_mut().unwrap().url = format!("ws://{addr}/ws");
            config(c);
        },
        clock,
    )
    .await;
    desk.state(|s| matches!(s, ConnState::Online { .. })).await;
    sim.shutdown().await;
    desk.state(|s| matches!(s, ConnState::Offline { .. })).await;
    (desk, addr)
}

async fn sim_at(listen: std::net::SocketAddr) -> SimHandle {
    chatbell_sim::start(SimConfig {
        listen,
        ..SimConfig::quiet()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_raises_one_warning_and_its_end_names_the_gap() {
    if !in_private_desktop("a_long_outage_raises_one_warning_and_its_end_names_the_gap") {
        return;
    }
    // The service goes away at 12:00; the engine finds out and keeps retrying.
    let (mut desk, addr) = gone_offline().await;
    // A minute later (the threshold's exact edge is the unit tests'): the warning, with the
    // escalation sound asked of the server (this engine plays no sounds of its own).
    desk.clock.advance(Duration::from_secs(60));
    assert_eq!(desk.warned().await, "Chatbell is offline since 12:00");
    let offline = desk.call(1).await;
    assert_eq!(offline.summary, "Chatbell is offline since 12:00");
    assert_eq!(
        offline.body,
        "New chats are not reaching you: the server cannot be reached."
    );
    assert_eq!(offline.hints.get("urgency"), Some(&HintValue::Int(2)));
    assert_eq!(
        offline.hints.get("sound-name"),
        Some(&HintValue::Str("message-new-instant".into()))
    );

    // Back at 12:07: the warning is replaced by the gap, as the timeline records it.
    desk.clock.advance(Duration::from_secs(6 * 60));
    let sim = sim_at(addr).await;
    desk.engine.reconnect_now().await;
    // The timeline's gap is stored on reconnecting, before or after the notice is shown.
    let (gap, back) = desk.back_online().await;
    assert_eq!(back, "Back online");
    let calls = desk.server.wait_calls(2, WITHIN).await;
    assert_eq!(calls.len(), 2, "one warning, then its end: {calls:#?}");
    let back = &calls[1];
    assert_eq!(back.replaces_id, offline.id, "replaces the warning");
    assert_eq!(
        back.body,
        "12:00–12:07 not covered: chats written then did not arrive live."
    );
    assert_eq!(
        back.hints.get("suppress-sound"),
        Some(&HintValue::Bool(true))
    );
    assert_eq!(
        (
            gap.from.format("%H:%M").to_string(),
            gap.to.format("%H:%M").to_string()
        ),
        ("12:00".into(), "12:07".into()),
        "the notification names the gap the timeline keeps"
    );
    sim.shutdown().await;
}

/// The wall clock stepped back two hours during an outage: the warning still comes after the
/// threshold of monotonic time, names the start as the agent's clock now reads it, and the gap
/// the timeline keeps has its true length (its end never before its start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_clock_stepped_back_neither_delays_the_warning_nor_bends_the_gap() {
    if !in_private_desktop("a_wall_clock_stepped_back_neither_delays_the_warning_nor_bends_the_gap")
    {
        return;
    }
    let (mut desk, addr) = gone_offline().await;
    // The barrier: the alarm has seen the outage and sleeps toward its threshold.
    desk.clock.sleeping(Duration::from_secs(60)).await;
    desk.clock.step_wall(chrono::TimeDelta::hours(-2));
    desk.clock.advance(Duration::from_secs(60));
    assert_eq!(desk.warned().await, "Chatbell is offline since 10:00");

    desk.clock.advance(Duration::from_secs(6 * 60));
    let sim = sim_at(addr).await;
    desk.engine.reconnect_now().await;
    let (gap, back) = desk.back_online().await;
    assert_eq!(back, "Back online");
    let calls = desk.server.wait_calls(2, WITHIN).await;
    assert_eq!(
        calls[1].body,
        "10:00–10:07 not covered: chats written then did not arrive live."
    );
    assert_eq!(
        gap.to - gap.from,
        chrono::TimeDelta::minutes(7),
        "the gap is as long as nothing was heard"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_says_so_and_its_button_opens_the_server_settings() {
    if !in_private_desktop("a_refused_token_says_so_and_its_button_opens_the_server_settings") {
        return;
    }
    let sim = chatbell_sim::start(SimConfig {
        token: Some("right".into()),
        ..SimConfig::quiet()
    })
    .await
    .unwrap();
    let url = sim.ws_url();
    let mut desk = desk(
        |c| c.server = Some(ServerConfig::new(url, Some(Secret::new("wrong")))),
        common::hand_clock(),
    )
    .await;
    desk.state(|s| matches!(s, ConnState::Unauthorized { status: 401, .. }))
        .await;
    desk.clock.advance(Duration::from_secs(60));
    assert_eq!(desk.warned().await, "The server refused the token");
    let call = desk.call(1).await;
    assert_eq!(
        call.body,
        "New chats are not reaching you. Update the token in Settings."
    );
    assert_eq!(
        call.actions,
        ["default", "Open", "settings", "Open Settings"]
    );
    // The button is heard on the notification's own connection once `Notify` has returned:
    // press until the engine reports it.
    let deadline = tokio::time::Instant::now() + WITHIN;
    let section = loop {
        desk.server.invoke(call.id, "settings").await;
        let heard = tokio::time::timeout(Duration::from_millis(300), async {
            loop {
                if let Ok(EngineEvent::SettingsRequested { section }) = desk.events.recv().await {
                    return section;
                }
            }
        })
        .await;
        if let Ok(section) = heard {
            break section;
        }
        assert!(tokio::time::Instant::now() < deadline, "never heard");
    };
    assert_eq!(section, SettingsSection::Server);
    sim.shutdown().await;
}

/// A target that takes the offline warning gets it, and its end, as the desktop does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_warning_and_its_end_are_forwarded_to_a_target_that_takes_them() {
    if !in_private_desktop(
        "the_offline_warning_and_its_end_are_forwarded_to_a_target_that_takes_them",
    ) {
        return;
    }
    let hook = chatbell_testkit::RecordingHttp::start().await;
    let (mut desk, addr) = gone_offline_with(|c| {
        c.settings.notifications.forward = serde_json::from_value(serde_json::json!([
            {"id": "pager", "kind": "webhook", "url": hook.url(), "when": "always",
             "kinds": ["offline"]}
        ]))
        .unwrap();
        c.secrets = chatbell_engine::forwarder::Secrets::None;
    })
    .await;
    desk.clock.advance(Duration::from_secs(60));
    assert_eq!(desk.warned().await, "Chatbell is offline since 12:00");
    let offline = hook.wait_for(1, WITHIN).await.remove(0).json();
    assert_eq!(offline["event"], "offline");
    assert_eq!(offline["title"], "Chatbell is offline since 12:00");
    assert_eq!(
        offline["text"],
        "New chats are not reaching you: the server cannot be reached."
    );
    desk.clock.advance(Duration::from_secs(60));
    let sim = sim_at(addr).await;
    desk.engine.reconnect_now().await;
    desk.back_online().await;
    let back = hook.wait_for(2, WITHIN).await.remove(1).json();
    assert_eq!(back["event"], "online");
    assert_eq!(back["title"], "Back online");
    sim.shutdown().await;
}
