//! Forwarding in the running engine (issue 28): the simulator over loopback, a real SQLite
//! file, a recording notification server, a stand-in screensaver and logind on a private bus,
//! and recording HTTP servers in place of ntfy and a lead's webhook; time moved by hand.
//! Every check waits for what the engine publishes (a delivery, a forward's record, a
//! request received), never for time to pass.

#![cfg(target_os = "linux")]

mod common;

use chatbell_engine::Engine;
use chatbell_engine::away::Source;
use chatbell_engine::clock::ManualClock;
use chatbell_engine::forward::Event;
use chatbell_engine::forwarder::Secrets;
use chatbell_engine::model::{
    Decision, Delivery, EngineEvent, ForwardRecord, Outcome, Slot, SuppressReason,
};
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_engine::settings::Settings;
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::{
    Answer, FakeLogind, FakeScreenSaver, NotificationServer, RecordingHttp, in_private_desktop,
};
use common::WITHIN;
use serde_json::json;
use tokio::sync::broadcast;

struct Desk {
    sim: SimHandle,
    server: NotificationServer,
    engine: Engine,
    events: broadcast::Receiver<EngineEvent>,
    clock: ManualClock,
    saver: FakeScreenSaver,
    logind: FakeLogind,
    _dir: tempfile::TempDir,
}

async fn desk(settings: Settings) -> Desk {
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    let server = NotificationServer::start_at(&address, &["body", "actions"]).await;
    let saver = FakeScreenSaver::start_at(&address).await;
    let logind = FakeLogind::start_at(&address).await;
    let sim = chatbell_sim::start(SimConfig::quiet()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = common::hand_clock();
    let mut config = common::config(&dir.path().join("chatbell.db"), sim.ws_url());
    config.settings = settings;
    let conn = || async {
        zbus::connection::Builder::address(address.as_str())
            .unwrap()
            .build()
            .await
            .unwrap()
    };
    // The same bus stands in for the system bus, where logind is.
    config.away = Source::Freedesktop {
        session: Some(conn().await),
        system: Some(conn().await),
    };
    config.secrets = Secrets::None;
    let notifier = Box::new(DesktopNotifier::new(NotifierConfig::default()));
    let engine = common::start(config, Some(notifier), &clock).await;
    let events = engine.events();
    Desk {
        sim,
        server,
        engine,
        events,
        clock,
        saver,
        logind,
        _dir: dir,
    }
}

fn new_chat(user: i64, name: &str) -> serde_json::Value {
    json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": format!("u{user}"), "source": "telegram", "first_message": "Здравствуйте, где мой заказ?"}, "timestamp": "2026-03-02T12:00:00Z"})
}

impl Desk {
    async fn post(&self, frame: serde_json::Value) {
        self.sim.control().post_events(&frame).await.unwrap();
    }

    async fn event<T>(&mut self, what: &str, pick: impl Fn(EngineEvent) -> Option<T>) -> T {
        common::next_event(&mut self.events, what, pick).await
    }

    /// The next notification shown in `want`: its summary.
    async fn shown(&mut self, want: Slot) -> String {
        self.event(&format!("a notification in {want:?}"), |e| match e {
            EngineEvent::Delivery(Delivery::Shown { slot, summary, .. }) if slot == want => {
                Some(summary)
            }
            _ => None,
        })
        .await
    }

    /// The next forward's record for `target`.
    async fn forwarded(&mut self, target: &str) -> ForwardRecord {
        self.event(&format!("a forward to {target}"), |e| match e {
            EngineEvent::Forwarded(r) if r.target == target => Some(r),
            _ => None,
        })
        .await
    }

    async fn reminder(&mut self, user: i64) -> Decision {
        self.event("a reminder's decision", |e| match e {
            EngineEvent::Decisions { decisions } => decisions
                .into_iter()
                .find(|d| d.user_id == user && d.escalation.is_some()),
            _ => None,
        })
        .await
    }

    async fn away(&self, away: bool) {
        let mut watch = self.engine.away();
        tokio::time::timeout(WITHIN, watch.wait_for(|a| *a == away))
            .await
            .unwrap_or_else(|_| panic!("away = {away} within {WITHIN:?}"))
            .unwrap();
    }

    async fn waiting(&self, chats: u32) {
        let mut changes = self.engine.waiting_changes();
        tokio::time::timeout(WITHIN, changes.wait_for(|w| w.chats == chats))
            .await
            .expect("the waiting chats")
            .unwrap();
    }

    /// Moves time to `min` minutes after the start of the day, once the reminders' task sleeps
    /// toward its next step, two minutes on (so it measures from the time it last looked).
    async fn at_minute(&self, min: i64) {
        self.clock
            .sleeping(std::time::Duration::from_secs(120))
            .await;
        let target = common::start_of_day() + chrono::Duration::minutes(min);
        let now = chatbell_engine::clock::Clock::utc(&self.clock);
        self.clock.advance((target - now).to_std().unwrap());
    }
}

fn settings(targets: serde_json::Value) -> Settings {
    let mut settings = Settings::default();
    settings.notifications.away.idle_minutes = None;
    settings.notifications.forward = serde_json::from_value(targets).unwrap();
    settings.server.web_panel = Some("https://support.example.com/chats/{user_id}".into());
    settings
}

/// The "done when": a locked screen sends the next reminder to the phone (and does not
/// play it), the agent back at the desk hears the next one and is told once what went out
/// while away, and an urgent wait reaches the lead whether or not the agent is away, once per
/// urgent step, until the chat is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_screen_forwards_the_next_reminder_and_an_urgent_wait_reaches_the_lead() {
    if !in_private_desktop(
        "a_locked_screen_forwards_the_next_reminder_and_an_urgent_wait_reaches_the_lead",
    ) {
        return;
    }
    let ntfy = RecordingHttp::start().await;
    let lead = RecordingHttp::start().await;
    let mut desk = desk(settings(json!([
        {"id": "phone", "kind": "ntfy", "url": ntfy.url(), "topic": "ann-support"},
        {"id": "lead", "kind": "webhook", "url": format!("{}/hooks/lead", lead.url()), "lead": true}
    ])))
    .await;

    desk.post(new_chat(1, "Иван Петров")).await;
    assert_eq!(desk.shown(Slot::Chat(1)).await, "New chat: Иван Петров");
    desk.waiting(1).await;

    // Locked (logind's LockedHint): the reminder at 2 min goes to the phone, not the speaker.
    desk.logind.lock(true).await;
    desk.away(true).await;
    desk.at_minute(2).await;
    let step1 = desk.reminder(1).await;
    assert_eq!(
        step1.outcome,
        Outcome::Suppressed {
            reason: SuppressReason::Away
        }
    );
    let got = ntfy.wait_for(1, WITHIN).await.remove(0);
    assert_eq!(
        (got.method.as_str(), got.path.as_str()),
        ("POST", "/ann-support")
    );
    assert_eq!(got.header("Priority"), Some("4"));
    assert_eq!(got.header("Tags"), Some("hourglass_flowing_sand"));
    assert_eq!(
        got.header("Click"),
        Some("https://support.example.com/chats/1")
    );
    // "Иван Петров is waiting · 2 min", RFC 2047 encoded as ntfy reads it.
    assert!(got.header("Title").unwrap().starts_with("=?UTF-8?B?"));
    assert_eq!(
        String::from_utf8(got.body.clone()).unwrap(),
        "Здравствуйте, где мой заказ?"
    );
    let record = desk.forwarded("phone").await;
    assert!(record.delivered, "{record:?}");
    assert_eq!(record.event, Event::Reminder { step: 1 });

    // Back: told once what went out, then the next reminder plays and is not forwarded.
    desk.logind.lock(false).await;
    desk.away(false).await;
    assert_eq!(
        desk.shown(Slot::Away).await,
        "While you were away: 1 chat, 2 min"
    );
    desk.at_minute(4).await;
    assert_eq!(
        desk.shown(Slot::Chat(1)).await,
        "Иван Петров is waiting · 4 min"
    );

    // Urgent at 10 min: played at the desk, and handed to the lead.
    desk.at_minute(10).await;
    assert_eq!(
        desk.shown(Slot::Chat(1)).await,
        "Urgent: Иван Петров is waiting · 10 min"
    );
    let handed = lead.wait_for(1, WITHIN).await.remove(0);
    assert_eq!(handed.path, "/hooks/lead");
    let body = handed.json();
    assert_eq!(body["event"], "lead");
    assert_eq!(body["step"], 5);
    assert_eq!(
        body["title"],
        "Иван Петров has waited 10 min for someone to open the chat"
    );
    assert_eq!(body["chats"][0]["user_id"], 1);
    assert_eq!(body["chats"][0]["waiting_secs"], 600);

    // Locked again (the screensaver this time): the urgent step at 12 min goes to the phone
    // and, once more, to the lead.
    desk.saver.lock(true).await;
    desk.away(true).await;
    desk.at_minute(12).await;
    let got = ntfy.wait_for(2, WITHIN).await;
    // The phone's second request is this urgent one: nothing went to it while the agent was
    // at the desk (steps 2 to 5).
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[1].header("Priority"), Some("5"));
    assert_eq!(got[1].header("Tags"), Some("rotating_light"));
    assert_eq!(lead.wait_for(2, WITHIN).await[1].json()["step"], 6);
    desk.saver.lock(false).await;
    desk.away(false).await;
    assert_eq!(
        desk.shown(Slot::Away).await,
        "While you were away: 1 chat, 12 min"
    );
    // Nothing was played while away: the desktop showed the first notification, the first
    // summary, the reminders at 4 and 10 min, and now the second summary.
    let calls = desk.server.calls();
    assert_eq!(calls.len(), 5, "{calls:#?}");
    assert!(calls[4].summary.starts_with("While you were away"));

    // Opened: the lead hears no more of this chat. A new chat's urgent step later is handed
    // off alone.
    desk.engine.mark_read(1).await.unwrap();
    desk.waiting(0).await;
    desk.post(new_chat(2, "Anna Lee")).await;
    desk.waiting(1).await;
    desk.at_minute(30).await;
    let third = lead.wait_for(3, WITHIN).await.remove(2).json();
    assert_eq!(third["chats"].as_array().unwrap().len(), 1, "{third}");
    assert_eq!(third["chats"][0]["user_id"], 2);
    desk.engine.shutdown().await;
}

/// Privacy mode sends the name, never the text; chats due together go as one digest; a
/// target set to `always` receives at the desk too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_mode_holds_and_chats_due_together_go_as_one_digest() {
    if !in_private_desktop("privacy_mode_holds_and_chats_due_together_go_as_one_digest") {
        return;
    }
    let hook = RecordingHttp::start().await;
    let mut settings = settings(json!([
        {"id": "log", "kind": "webhook", "url": hook.url(), "when": "always"}
    ]));
    settings.notifications.privacy = true;
    let desk = desk(settings).await;
    desk.post(json!([
        new_chat(1, "Ann"),
        new_chat(2, "Bob"),
        new_chat(3, "Cy")
    ]))
    .await;
    let new_chats = hook.wait_for(3, WITHIN).await;
    for (got, name) in new_chats.iter().zip(["Ann", "Bob", "Cy"]) {
        let body = got.json();
        assert_eq!(body["event"], "new_chat");
        assert_eq!(body["chats"][0]["name"], name);
        assert!(
            !String::from_utf8_lossy(&got.body).contains("заказ"),
            "the text went out under privacy mode: {body}"
        );
    }
    desk.waiting(3).await;
    desk.at_minute(2).await;
    let digest = hook.wait_for(4, WITHIN).await.remove(3).json();
    assert_eq!(digest["event"], "reminder");
    assert_eq!(digest["title"], "3 chats waiting, longest 2 min");
    assert_eq!(digest["chats"].as_array().unwrap().len(), 3);
    assert!(!digest.to_string().contains("заказ"), "{digest}");
    desk.engine.shutdown().await;
}

/// A 401 is said once (one notification, a record per forward) in the service's words; a
/// target that hangs holds up nothing: 1,000 new chats are all stored and their reminder is
/// on time while its queue is full and drops with a record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_said_once_and_a_hanging_target_holds_up_nothing() {
    if !in_private_desktop("a_refused_token_is_said_once_and_a_hanging_target_holds_up_nothing") {
        return;
    }
    let ntfy = RecordingHttp::start().await;
    ntfy.answer(Answer::Status(401));
    let slow = RecordingHttp::start().await;
    slow.answer(Answer::Hang);
    let mut desk = desk(settings(json!([
        {"id": "phone", "kind": "ntfy", "url": ntfy.url(), "topic": "t", "when": "always"},
        {"id": "slow", "kind": "webhook", "url": slow.url(), "when": "always"}
    ])))
    .await;

    desk.post(new_chat(1, "Ann")).await;
    let first = desk.forwarded("phone").await;
    assert!(!first.delivered);
    assert_eq!(first.attempts, 1, "a 401 is not tried again");
    assert_eq!(
        first.error.as_deref(),
        Some("ntfy refused the access token")
    );
    assert_eq!(
        desk.shown(Slot::Forward).await,
        "Forwarding to phone does not work"
    );
    desk.post(new_chat(2, "Bob")).await;
    let second = desk.forwarded("phone").await;
    assert_eq!(
        second.error.as_deref(),
        Some("ntfy refused the access token")
    );

    // 1,000 more while the slow target hangs on the first.
    let burst: Vec<_> = (100..1100).map(|u| new_chat(u, "Burst")).collect();
    desk.post(serde_json::Value::Array(burst)).await;
    desk.waiting(1002).await;
    let dropped = desk
        .event("a dropped forward", |e| match e {
            EngineEvent::Forwarded(r) if r.target == "slow" && r.attempts == 0 => Some(r),
            _ => None,
        })
        .await;
    assert!(!dropped.delivered);
    desk.at_minute(2).await;
    assert_eq!(
        desk.shown(Slot::Waiting).await,
        "1002 chats waiting, longest 2 min"
    );
    // The notifier works through its queue in order: by the digest, a second word about the
    // refused token would have been shown. There was one.
    let said = desk
        .server
        .calls()
        .into_iter()
        .filter(|c| c.summary == "Forwarding to phone does not work")
        .count();
    assert_eq!(said, 1);
    assert_eq!(slow.requests().len(), 1, "one request in flight, hanging");
    desk.engine.shutdown().await;
}

/// No customer waits unnoticed: a reminder the phone does not take at the first try (a 503,
/// tried again meanwhile) is played at the desk after all, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_the_phone_does_not_take_is_played_at_the_desk() {
    if !in_private_desktop("a_reminder_the_phone_does_not_take_is_played_at_the_desk") {
        return;
    }
    let ntfy = RecordingHttp::start().await;
    ntfy.answer(Answer::Status(503));
    let mut desk = desk(settings(json!([
        {"id": "phone", "kind": "ntfy", "url": ntfy.url(), "topic": "ann-support"}
    ])))
    .await;
    desk.post(new_chat(1, "Ann")).await;
    assert_eq!(desk.shown(Slot::Chat(1)).await, "New chat: Ann");
    desk.waiting(1).await;
    desk.saver.lock(true).await;
    desk.away(true).await;
    desk.at_minute(2).await;
    assert_eq!(
        desk.reminder(1).await.outcome,
        Outcome::Suppressed {
            reason: SuppressReason::Away
        }
    );
    ntfy.wait_for(1, WITHIN).await;
    assert_eq!(desk.shown(Slot::Chat(1)).await, "Ann is waiting · 2 min");
    // Taken at the second try: no second reminder at the desk, and it counts as forwarded.
    ntfy.answer(Answer::Status(200));
    let record = desk.forwarded("phone").await;
    assert!(record.delivered, "{record:?}");
    assert_eq!(record.attempts, 2);
    desk.saver.lock(false).await;
    assert_eq!(
        desk.shown(Slot::Away).await,
        "While you were away: 1 chat, 2 min"
    );
    let calls = desk.server.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    desk.engine.shutdown().await;
}
