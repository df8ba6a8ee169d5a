//! The buttons on a notification and the reminders' look on the desktop: the engine with its
//! real freedesktop notifier on a private D-Bus, a recording notification server that presses
//! the buttons (`ActionInvoked`), the simulator over loopback and time moved by hand.
//!
//! The notifier talks to the session bus named by `DBUS_SESSION_BUS_ADDRESS`. A test cannot
//! set that for itself (the tests of a binary share one environment), so each test runs again
//! in a child process of this binary with the private bus's address set.

// Its peers (a private D-Bus, Xvfb, PulseAudio, gnome-keyring, tinyproxy, /proc…) are Linux's.
#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use chatbell_engine::Engine;
use chatbell_engine::clock::{Clock, ManualClock};
use chatbell_engine::model::{Delivery, EngineEvent, Outcome, Slot, SuppressReason};
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_engine::settings::NotificationSettings;
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::in_private_desktop;
use chatbell_testkit::{HintValue, NotificationServer, NotifyCall};
use common::WITHIN;
use serde_json::json;
use tokio::sync::broadcast;
struct Desk {
    sim: SimHandle,
    server: NotificationServer,
    engine: Engine,
    events: broadcast::Receiver<EngineEvent>,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn desk(capabilities: &[&str]) -> Desk {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    let server = NotificationServer::start_at(&address, capabilities).await;
    let sim = chatbell_sim::start(SimConfig::quiet()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = common::hand_clock();
    let mut config = common::config(&dir.path().join("chatbell.db"), sim.ws_url());
    config.settings.notifications = NotificationSettings::default();
    config.settings.server.web_panel =
        Some("https://support.example.com/chats/{user_id}?u={username}&s={source}".into());
    let notifier = Box::new(DesktopNotifier::new(NotifierConfig::default()));
    let engine = common::start(config, Some(notifier), &clock).await;
    let events = engine.events();
    Desk {
        sim,
        server,
        engine,
        events,
        clock,
        _dir: dir,
    }
}

impl Desk {
    async fn new_chat(&self, user: i64, name: &str, username: &str) {
        let frame = json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": username, "source": "telegram", "first_message": "Здравствуйте"}, "timestamp": "2026-03-02T12:00:00Z"});
        assert!(self.sim.control().send_event(&frame).await.unwrap() > 0);
    }

    /// The Notify call number `n` (from 1), once it has arrived.
    async fn call(&self, n: usize) -> NotifyCall {
        let calls = self.server.wait_calls(n, WITHIN).await;
        assert!(
            calls.len() >= n,
            "only {} Notify calls: {calls:#?}",
            calls.len()
        );
        calls[n - 1].clone()
    }

    async fn event<T>(&mut self, pick: impl Fn(EngineEvent) -> Option<T>) -> T {
        self.event_within(WITHIN, &pick)
            .await
            .expect("the event within the time limit")
    }

    async fn event_within<T>(
        &mut self,
        within: Duration,
        pick: &impl Fn(EngineEvent) -> Option<T>,
    ) -> Option<T> {
        tokio::time::timeout(within, async {
            loop {
                match self.events.recv().await {
                    Ok(e) => {
                        if let Some(found) = pick(e) {
                            return found;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        })
        .await
        .ok()
    }

    /// Presses a button until the engine shows it was heard. The notifier starts listening for
    /// the press on the notification's own connection just after `Notify` returns; a press in
    /// between is lost, as it would be for a person faster than a D-Bus round trip.
    async fn press<T>(
        &mut self,
        id: u32,
        action: &str,
        pick: impl Fn(EngineEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + WITHIN;
        loop {
            self.server.invoke(id, action).await;
            if let Some(found) = self.event_within(Duration::from_millis(300), &pick).await {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{action} on {id} was never heard"
            );
        }
    }

    async fn shown(&mut self, want: Slot) -> String {
        self.event(|e| match e {
            EngineEvent::Delivery(Delivery::Shown { slot, summary, .. }) if slot == want => {
                Some(summary)
            }
            _ => None,
        })
        .await
    }
}

const ALL_CAPS: &[&str] = &["body", "body-markup", "actions", "sound"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buttons_on_a_notification_work_with_no_window() {
    if !in_private_desktop("the_buttons_on_a_notification_work_with_no_window") {
        return;
    }
    let mut desk = desk(ALL_CAPS).await;

    desk.new_chat(1, "Ann", "ann").await;
    let ann = desk.call(1).await;
    assert_eq!(
        ann.actions,
        [
            "default",
            "Open",
            "read",
            "Mark as read",
            "snooze",
            "Snooze",
            "web-panel",
            "Open in web panel"
        ]
    );
    assert_eq!(
        ann.hints.get("urgency"),
        None,
        "a first notification is not urgent"
    );

    // Mark as read: stored, told, and the notification closed.
    let total = desk
        .press(ann.id, "read", |e| match e {
            EngineEvent::ChatRead {
                user_id: 1,
                unread_total,
            } => Some(unread_total),
            _ => None,
        })
        .await;
    assert_eq!(total, 0);
    assert_eq!(
        desk.engine.queries().chat(1).await.unwrap().unwrap().unread,
        0
    );

    // Snooze: until the configured 10 minutes from now, in the store.
    desk.new_chat(2, "Bob", "bob").await;
    let bob = desk.call(2).await;
    let until = desk
        .press(bob.id, "snooze", |e| match e {
            EngineEvent::Snoozed { user_id: 2, until } => Some(until),
            _ => None,
        })
        .await;
    let want = desk.clock.utc() + chrono::Duration::minutes(10);
    assert_eq!(until, Some(want));
    let stored = desk.engine.queries().chat(2).await.unwrap().unwrap();
    assert_eq!(stored.snoozed_until, Some(want));
    desk.event(|e| {
        matches!(
            e,
            EngineEvent::Delivery(Delivery::Closed {
                slot: Slot::Chat(2)
            })
        )
        .then_some(())
    })
    .await;
    assert!(
        desk.server.closed_by_client().contains(&bob.id),
        "the snoozed chat's notification is put away"
    );

    // Open in web panel: the agent's template, filled with the chat's fields encoded.
    desk.new_chat(3, "Eve", "../a b?x=\"q'&y=1").await;
    let eve = desk.call(3).await;
    let url = desk
        .press(eve.id, "web-panel", |e| match e {
            EngineEvent::WebPanelRequested { user_id: 3, url } => Some(url),
            _ => None,
        })
        .await;
    assert_eq!(
        url,
        "https://support.example.com/chats/3?u=..%2Fa%20b%3Fx%3D%22q%27%26y%3D1&s=telegram"
    );

    // The click opens the chat. (A notification answers one press: Eve's is spent. Past the
    // coalescer's window, so a fourth chat is not folded into a digest.)
    desk.clock.advance(Duration::from_secs(11));
    desk.new_chat(7, "Gus", "gus").await;
    let gus = desk.call(4).await;
    let opened = desk
        .press(gus.id, "default", |e| match e {
            EngineEvent::NotificationOpened { user_id } => Some(user_id),
            _ => None,
        })
        .await;
    assert_eq!(opened, Some(7));
    desk.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_are_fresh_notifications_urgent_ones_critical_and_many_one_digest() {
    if !in_private_desktop(
        "reminders_are_fresh_notifications_urgent_ones_critical_and_many_one_digest",
    ) {
        return;
    }
    let mut desk = desk(ALL_CAPS).await;
    desk.new_chat(4, "Dan", "dan").await;
    assert_eq!(desk.shown(Slot::Chat(4)).await, "New chat: Dan");
    let first = desk.call(1).await;

    // Ten minutes unopened: the reminder is urgent, a fresh notification (not a silent
    // replace), and the first one is closed.
    desk.clock.advance(Duration::from_secs(600));
    let summary = desk.shown(Slot::Chat(4)).await;
    assert_eq!(summary, "Urgent: Dan is waiting · 10 min");
    let urgent = desk.call(2).await;
    assert_eq!(urgent.summary, summary);
    assert_eq!(urgent.replaces_id, 0);
    assert_eq!(urgent.hints.get("urgency"), Some(&HintValue::Int(2)));
    assert_eq!(urgent.body, "Здравствуйте");
    assert!(urgent.actions.contains(&"read".to_string()));
    assert!(desk.server.closed_by_client().contains(&first.id));

    // Two more chats; two minutes later all three are due together: one digest, longest
    // wait first, critical because one of them is urgent.
    desk.new_chat(5, "Eve", "eve").await;
    desk.new_chat(6, "Fay", "fay").await;
    desk.call(4).await;
    let mut waiting = desk.engine.waiting_changes();
    tokio::time::timeout(WITHIN, waiting.wait_for(|w| w.chats == 3))
        .await
        .expect("three chats waiting")
        .unwrap();
    desk.clock.advance(Duration::from_secs(120));
    let summary = desk.shown(Slot::Waiting).await;
    assert_eq!(summary, "Urgent: 3 chats waiting, longest 12 min");
    let calls = desk.server.calls();
    assert_eq!(
        calls.len(),
        5,
        "one notification for three chats: {calls:#?}"
    );
    let digest = &calls[4];
    assert_eq!(digest.body, "Dan, Eve, Fay");
    assert_eq!(digest.hints.get("urgency"), Some(&HintValue::Int(2)));
    assert_eq!(digest.actions, ["default", "Open"], "a digest only opens");

    // Clicking the digest opens the chat that has waited longest.
    let opened = desk
        .press(digest.id, "default", |e| match e {
            EngineEvent::NotificationOpened { user_id } => Some(user_id),
            _ => None,
        })
        .await;
    assert_eq!(opened, Some(4));
    desk.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_actions_capability_only_the_click_is_offered() {
    if !in_private_desktop("without_the_actions_capability_only_the_click_is_offered") {
        return;
    }
    let mut desk = desk(&["body"]).await;
    desk.new_chat(1, "Ann", "ann").await;
    let ann = desk.call(1).await;
    assert_eq!(ann.actions, ["default", "Open"]);
    let opened = desk
        .press(ann.id, "default", |e| match e {
            EngineEvent::NotificationOpened { user_id } => Some(user_id),
            _ => None,
        })
        .await;
    assert_eq!(opened, Some(1));
    desk.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn do_not_disturb_sends_nothing_to_the_server() {
    if !in_private_desktop("do_not_disturb_sends_nothing_to_the_server") {
        return;
    }
    let mut desk = desk(&["body", "actions"]).await;
    let settings = NotificationSettings {
        do_not_disturb: true,
        ..NotificationSettings::default()
    };
    desk.engine
        .set_settings(chatbell_engine::settings::Settings {
            notifications: settings,
            ..desk.engine.settings()
        });
    desk.new_chat(1, "Ann", "ann").await;
    let reason = desk
        .event(|e| match e {
            EngineEvent::Decisions { decisions } => decisions.first().map(|d| match &d.outcome {
                Outcome::Suppressed { reason } => *reason,
                Outcome::Allowed => panic!("allowed under do-not-disturb: {d:?}"),
            }),
            _ => None,
        })
        .await;
    assert_eq!(reason, SuppressReason::DoNotDisturb);
    // The barrier: the self-test's notification goes through the notifier's queue after
    // anything the decision could have sent, so once it is shown, that is all there was.
    let test = desk.engine.test_alerts().await;
    assert!(test.notification.shown, "{test:?}");
    let calls = desk.server.calls();
    assert_eq!(
        calls.iter().map(|c| c.summary.as_str()).collect::<Vec<_>>(),
        ["Chatbell test notification"]
    );
    desk.engine.shutdown().await;
}
