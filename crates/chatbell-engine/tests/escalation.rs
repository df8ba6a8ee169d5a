//! Reminders while a customer waits: the engine against a real simulator over loopback and a
//! real SQLite file, with time moved by hand (a `ManualClock`). Every check waits for an event
//! the engine publishes; nothing is concluded from time passing.

mod common;

use std::time::Duration;

use chatbell_engine::Engine;
use chatbell_engine::clock::{Clock, ManualClock};
use chatbell_engine::model::{
    AlertLevel, ChatOrder, Decision, Diagnostic, EngineEvent, Outcome, SuppressReason,
    WaitingSummary,
};
use chatbell_engine::settings::{NotificationSettings, QuietHours, Settings};
use chatbell_sim::{SimConfig, SimHandle};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use common::WITHIN;
use serde_json::json;
use tokio::sync::broadcast;

struct Rig {
    sim: SimHandle,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    clock: ManualClock,
    start: DateTime<Utc>,
}

async fn rig() -> Rig {
    let sim = chatbell_sim::start(SimConfig::quiet()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chatbell.db");
    Rig {
        sim,
        _dir: dir,
        db,
        clock: common::hand_clock(),
        start: common::start_of_day(),
    }
}

impl Rig {
    async fn engine(&self, notifications: NotificationSettings) -> Engine {
        let mut config = common::config(&self.db, self.sim.ws_url());
        config.settings.notifications = notifications;
        common::start(config, None, &self.clock).await
    }

    async fn post(&self, frame: serde_json::Value) {
        let answer = self.sim.control().send_event(&frame).await.unwrap();
        assert!(answer > 0, "nobody got {frame}");
    }

    /// Moves time on to `secs` seconds after the start.
    fn at(&self, secs: i64) {
        let now = self.clock.utc();
        let target = self.start + chrono::Duration::seconds(secs);
        assert!(target >= now, "time only moves forward");
        self.clock.advance((target - now).to_std().unwrap());
    }

    fn t(&self, secs: i64) -> DateTime<Utc> {
        self.start + chrono::Duration::seconds(secs)
    }
}

fn new_chat(user: i64, name: &str) -> serde_json::Value {
    json!({"event": "new_chat", "data": {"user_id": user, "user_name": name, "username": "u", "source": "telegram", "first_message": "Здравствуйте"}, "timestamp": "2026-03-02T12:00:00Z"})
}

fn message(id: i64, user: i64, text: &str) -> serde_json::Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user, "user_name": "Ann", "text": text, "file_path": null, "source": "widget"}, "timestamp": "2026-03-02T12:00:00Z"})
}

/// The next decisions published that match, in order.
async fn decision(
    events: &mut broadcast::Receiver<EngineEvent>,
    pred: impl Fn(&Decision) -> bool,
) -> Decision {
    tokio::time::timeout(WITHIN, async {
        loop {
            match events.recv().await {
                Ok(EngineEvent::Decisions { decisions }) => {
                    if let Some(d) = decisions.into_iter().find(&pred) {
                        return d;
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("a decision within the time limit")
}

/// The next reminder decision (any chat), with every decision published before it.
async fn next_reminder(events: &mut broadcast::Receiver<EngineEvent>) -> Vec<Decision> {
    tokio::time::timeout(WITHIN, async {
        loop {
            if let Ok(EngineEvent::Decisions { decisions }) = events.recv().await
                && decisions.iter().any(|d| d.escalation.is_some())
            {
                return decisions;
            }
        }
    })
    .await
    .expect("a reminder within the time limit")
}

/// Waits until who waits matches (the engine's latest summary, not the event stream: the
/// summary may be told before or after the decisions of the same batch).
async fn waiting(engine: &Engine, pred: impl Fn(&WaitingSummary) -> bool) -> WaitingSummary {
    let mut changes = engine.waiting_changes();
    tokio::time::timeout(WITHIN, changes.wait_for(|w| pred(w)))
        .await
        .expect("a waiting summary within the time limit")
        .unwrap()
        .clone()
}

/// A new chat arrives: returns once its first notification is decided and the reminders know
/// that `waiting_now` chats wait.
async fn arrive(
    rig: &Rig,
    engine: &Engine,
    events: &mut broadcast::Receiver<EngineEvent>,
    user: i64,
    name: &str,
    waiting_now: u32,
) {
    rig.post(new_chat(user, name)).await;
    decision(events, |d| d.user_id == user).await;
    waiting(engine, |w| w.chats == waiting_now).await;
}

fn step_of(d: &Decision) -> (u32, AlertLevel, u64) {
    let e = d.escalation.expect("a reminder");
    (e.step, e.level, e.waited_secs)
}

#[tokio::test]
async fn a_new_chat_is_reminded_on_the_ladder_until_it_is_opened() {
    let rig = rig().await;
    let engine = rig.engine(NotificationSettings::default()).await;
    let mut events = engine.events();

    rig.post(new_chat(1, "Ann")).await;
    let first = decision(&mut events, |d| d.user_id == 1).await;
    assert_eq!(first.outcome, Outcome::Allowed);
    assert!(
        first.escalation.is_none(),
        "step 0 is the first notification"
    );
    let w = waiting(&engine, |w| w.chats == 1).await;
    assert_eq!(w.longest_since, Some(rig.start), "the local receive time");

    // The first re-alert comes at 2 minutes, not a second earlier: moving to 1:59 and then to
    // 2:00, the reminder is stamped 2:00.
    rig.at(119);
    rig.at(120);
    let d = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!((d.user_id, d.at), (1, rig.t(120)));
    assert_eq!(step_of(&d), (1, AlertLevel::ReAlert, 120));
    assert_eq!(d.outcome, Outcome::Allowed);

    // Then every 2 minutes, urgent from 10.
    for (secs, step, level) in [
        (240, 2, AlertLevel::ReAlert),
        (360, 3, AlertLevel::ReAlert),
        (480, 4, AlertLevel::ReAlert),
        (600, 5, AlertLevel::Urgent),
    ] {
        rig.at(secs);
        let d = decision(&mut events, |d| d.escalation.is_some()).await;
        assert_eq!(d.at, rig.t(secs));
        assert_eq!(step_of(&d), (step, level, secs as u64));
    }
    waiting(&engine, |w| w.urgent == 1).await;
    let listed = engine
        .queries()
        .chats_by(ChatOrder::Waiting, 10, 0)
        .await
        .unwrap();
    assert_eq!(listed[0].waiting_since, Some(rig.start));

    // Opened: nobody waits, nothing is urgent.
    engine.mark_read(1).await.unwrap();
    let w = waiting(&engine, |w| w.chats == 0).await;
    assert_eq!(w, WaitingSummary::default());
    assert_eq!(
        engine
            .queries()
            .chat(1)
            .await
            .unwrap()
            .unwrap()
            .waiting_since,
        None
    );

    // The proof that the rest stopped: another chat arrives at 11:00 and is reminded at 13:00;
    // chat 1's ladder (due at 12:00) would have spoken first.
    rig.at(660);
    rig.post(new_chat(2, "Bob")).await;
    decision(&mut events, |d| d.user_id == 2).await;
    rig.at(780);
    let next = next_reminder(&mut events).await;
    let about: Vec<i64> = next.iter().map(|d| d.user_id).collect();
    assert_eq!(about, [2], "only the chat still waiting");
    assert_eq!(step_of(&next[0]), (1, AlertLevel::ReAlert, 120));
    engine.shutdown().await;
}

#[tokio::test]
async fn a_snoozed_chat_is_quiet_until_the_snooze_ends_then_comes_back() {
    let rig = rig().await;
    let engine = rig.engine(NotificationSettings::default()).await;
    let mut events = engine.events();
    arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;
    rig.at(120);
    decision(&mut events, |d| d.escalation.is_some()).await;

    // Snoozed for the default 10 minutes at 2:00.
    let until = engine.snooze(1, None).await.unwrap();
    assert_eq!(until, rig.t(720));
    let stored = engine.queries().chat(1).await.unwrap().unwrap();
    assert_eq!(stored.snoozed_until, Some(until));
    waiting(&engine, |w| w.snoozed == 1).await;

    // The step due at 4:00 is held, and says why.
    rig.at(240);
    let held = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(
        held.outcome,
        Outcome::Suppressed {
            reason: SuppressReason::Snoozed
        }
    );
    assert_eq!(step_of(&held).0, 2);

    // A new message while snoozed does not notify either.
    rig.post(message(10, 1, "ещё тут?")).await;
    let quiet = decision(&mut events, |d| d.escalation.is_none()).await;
    assert_eq!(
        quiet.outcome,
        Outcome::Suppressed {
            reason: SuppressReason::Snoozed
        }
    );

    // At 12:00 the snooze ends: a reminder at once, as urgent as the wait has become.
    rig.at(720);
    let back = decision(&mut events, |d| {
        d.escalation.is_some() && d.outcome == Outcome::Allowed
    })
    .await;
    assert_eq!(back.at, rig.t(720));
    assert_eq!(step_of(&back), (6, AlertLevel::Urgent, 720));
    // Exactly one hold was written down for the whole snooze.
    let holds = engine
        .recent_decisions()
        .into_iter()
        .filter(|d| matches!(d, Diagnostic::Decision(d) if d.escalation.is_some() && d.outcome != Outcome::Allowed))
        .count();
    assert_eq!(holds, 1);
    engine.shutdown().await;
}

#[tokio::test]
async fn do_not_disturb_holds_reminders_and_quiet_hours_still_let_new_chats_through() {
    let rig = rig().await;
    let quiet = NotificationSettings {
        quiet_hours: Some(QuietHours {
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        }),
        ..NotificationSettings::default()
    };
    let engine = rig.engine(quiet.clone()).await;
    let mut events = engine.events();
    arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;

    let dnd = NotificationSettings {
        do_not_disturb: true,
        ..quiet.clone()
    };
    engine.set_settings(Settings {
        notifications: dnd,
        ..engine.settings()
    });
    rig.at(120);
    let held = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(
        held.outcome,
        Outcome::Suppressed {
            reason: SuppressReason::DoNotDisturb
        }
    );
    // Do-not-disturb off at 7:00: the reminder comes at once, with the wait as it is now.
    rig.at(420);
    engine.set_settings(Settings {
        notifications: quiet.clone(),
        ..engine.settings()
    });
    let back = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(back.outcome, Outcome::Allowed);
    assert_eq!(
        (back.at, step_of(&back)),
        (rig.t(420), (3, AlertLevel::ReAlert, 420))
    );

    // Quiet hours from 22:00: a chat never opened is still a new chat, so it is still reminded.
    rig.clock
        .set_local_time(NaiveTime::from_hms_opt(23, 0, 0).unwrap());
    rig.at(480);
    let night = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(night.outcome, Outcome::Allowed);
    assert_eq!(step_of(&night).0, 4);

    // An opened chat with a new message is held by them, until they end.
    engine.mark_read(1).await.unwrap();
    rig.post(message(11, 1, "а теперь?")).await;
    let quiet_first = decision(&mut events, |d| d.message_id == Some(11)).await;
    assert_eq!(
        quiet_first.outcome,
        Outcome::Suppressed {
            reason: SuppressReason::QuietHours
        }
    );
    waiting(&engine, |w| w.longest_since == Some(rig.t(480))).await;
    rig.at(480 + 300);
    let held = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(
        held.outcome,
        Outcome::Suppressed {
            reason: SuppressReason::QuietHours
        }
    );
    assert_eq!(
        step_of(&held).0,
        1,
        "the message ladder: first after 5 minutes"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_restart_keeps_how_long_a_customer_has_waited() {
    let rig = rig().await;
    let engine = rig.engine(NotificationSettings::default()).await;
    let mut events = engine.events();
    arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;
    assert!(engine.shutdown().await.is_clean());

    rig.at(180);
    let engine = rig.engine(NotificationSettings::default()).await;
    let chat = engine.queries().chat(1).await.unwrap().unwrap();
    assert_eq!(
        chat.waiting_since,
        Some(rig.start),
        "from the store, not from memory"
    );
    // Started again three minutes into the wait: reminded at once of the whole wait (the
    // reminder is in the diagnostics, published before this test could listen).
    let reminded = tokio::time::timeout(WITHIN, async {
        loop {
            let found = engine.recent_decisions().into_iter().find_map(|d| match d {
                Diagnostic::Decision(d) if d.escalation.is_some() => Some(d),
                _ => None,
            });
            if let Some(d) = found {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a reminder at start");
    let summary = engine.waiting();
    assert_eq!((summary.chats, summary.longest_since), (1, Some(rig.start)));
    assert_eq!(reminded.at, rig.t(180));
    assert_eq!(step_of(&reminded), (1, AlertLevel::ReAlert, 180));
    // And the ladder goes on from there.
    let mut events = engine.events();
    rig.at(240);
    let d = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(
        (d.at, step_of(&d)),
        (rig.t(240), (2, AlertLevel::ReAlert, 240))
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn chats_due_together_are_reminded_together() {
    let rig = rig().await;
    let engine = rig.engine(NotificationSettings::default()).await;
    let mut events = engine.events();
    rig.post(new_chat(1, "Ann")).await;
    decision(&mut events, |d| d.user_id == 1).await;
    rig.at(20);
    rig.post(new_chat(2, "Bob")).await;
    decision(&mut events, |d| d.user_id == 2).await;
    rig.at(60);
    arrive(&rig, &engine, &mut events, 3, "Eve", 3).await;
    // Ann is due at 2:00 and Bob 20 seconds later: one reminder for both. Eve, due a minute
    // later, keeps her own step.
    rig.at(120);
    let both = next_reminder(&mut events).await;
    let mut about: Vec<(i64, u64)> = both.iter().map(|d| (d.user_id, step_of(d).2)).collect();
    about.sort();
    assert_eq!(about, [(1, 120), (2, 120)], "Bob's step is his 2:00");
    rig.at(180);
    let eve = next_reminder(&mut events).await;
    let about: Vec<i64> = eve.iter().map(|d| d.user_id).collect();
    assert_eq!(about, [3]);
    engine.shutdown().await;
}

#[tokio::test]
async fn with_reminders_off_no_reminder_is_decided_and_waiting_is_still_told() {
    let rig = rig().await;
    let mut off = NotificationSettings::default();
    off.escalation.enabled = false;
    let engine = rig.engine(off).await;
    let mut events = engine.events();
    arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;
    rig.at(3600);
    // The barrier: a second chat's first notification comes after the hour; a reminder for
    // chat 1 would have been published before it.
    rig.post(new_chat(2, "Bob")).await;
    let next = tokio::time::timeout(WITHIN, async {
        loop {
            if let Ok(EngineEvent::Decisions { decisions }) = events.recv().await {
                return decisions;
            }
        }
    })
    .await
    .unwrap();
    assert!(
        next.iter()
            .all(|d| d.escalation.is_none() && d.user_id == 2),
        "{next:?}"
    );
    engine.shutdown().await;
}

/// The wall clock stepped back two hours while a customer waits (an NTP correction, a clock
/// changed by hand, a VM's resync), the monotonic clock running on: the ladder keeps its pace.
/// Measured from the wall clock, the next reminder would have come two hours late.
#[tokio::test]
async fn a_wall_clock_stepped_back_does_not_stall_the_reminders() {
    let rig = rig().await;
    let engine = rig.engine(NotificationSettings::default()).await;
    let mut events = engine.events();
    arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;
    rig.at(60);
    rig.clock.step_wall(TimeDelta::hours(-2));
    rig.clock.advance(Duration::from_secs(60));
    let d = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(step_of(&d), (1, AlertLevel::ReAlert, 120));
    assert_eq!(d.outcome, Outcome::Allowed);
    assert_eq!(
        d.at,
        rig.t(120) - TimeDelta::hours(2),
        "stamped as the agent's clock reads now"
    );

    // On, every 2 minutes; a chat arriving after the step waits from its own arrival.
    rig.clock.advance(Duration::from_secs(120));
    let d = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(step_of(&d), (2, AlertLevel::ReAlert, 240));
    rig.post(new_chat(2, "Bob")).await;
    decision(&mut events, |d| d.user_id == 2).await;
    waiting(&engine, |w| w.chats == 2).await;
    rig.clock.advance(Duration::from_secs(120));
    let both = next_reminder(&mut events).await;
    let steps: Vec<(i64, (u32, AlertLevel, u64))> =
        both.iter().map(|d| (d.user_id, step_of(d))).collect();
    assert_eq!(
        steps,
        [
            (1, (3, AlertLevel::ReAlert, 360)),
            (2, (1, AlertLevel::ReAlert, 120))
        ]
    );
    engine.shutdown().await;
}

/// A suspend: the wall clock went on three days, the monotonic clock did not. The wait counts
/// the three days, the latest step is shown once (urgent), and the ladder goes on from there
/// with no storm of the steps missed.
#[tokio::test]
async fn a_suspend_shows_the_latest_step_once_then_the_ladder_goes_on() {
    let rig = rig().await;
    let engine = rig.engine(NotificationSettings::default()).await;
    let mut events = engine.events();
    arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;
    rig.clock.step_wall(TimeDelta::days(3));
    // A wall-clock step is looked at within WALL_RECHECK of monotonic time.
    rig.clock.advance(chatbell_engine::clock::WALL_RECHECK);
    let first = next_reminder(&mut events).await;
    assert_eq!(first.len(), 1);
    let (step, level, waited) = step_of(&first[0]);
    assert_eq!(level, AlertLevel::Urgent);
    assert_eq!(waited, 3 * 86_400 + 60);
    // The urgent steps fall every 2 minutes of the wait (3 d + 2 min is one): the next in 60 s.
    rig.clock.advance(Duration::from_secs(60));
    let next = next_reminder(&mut events).await;
    assert_eq!(
        step_of(&next[0]),
        (step + 1, AlertLevel::Urgent, waited + 60),
        "the next step, not the ones the suspend skipped"
    );
    engine.shutdown().await;
}

/// A hold on a waiting chat, then the wall clock stepped back two hours: the next step is held
/// for it, and it ends on time by the monotonic clock (by the wall clock it would last two
/// hours more), with a reminder at once.
async fn a_hold_survives_a_step_back(reason: SuppressReason) {
    let rig = rig().await;
    let engine = rig.engine(NotificationSettings::default()).await;
    let mut events = engine.events();
    // Seconds after the arrival: when the held step falls, and when the hold ends.
    let (held_at, ends) = match reason {
        SuppressReason::Snoozed => {
            arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;
            rig.at(120);
            decision(&mut events, |d| d.escalation.is_some()).await;
            engine.snooze(1, Some(10)).await.unwrap();
            // The reminders' task has placed the snooze's end when it counts it.
            waiting(&engine, |w| w.snoozed == 1).await;
            (240, 720)
        }
        SuppressReason::Muted => {
            // Muted before the chat arrives: the mute's end is placed by the time the task
            // tells that the chat waits.
            let mut settings = engine.settings();
            settings.notifications.mutes.insert(1, Some(rig.t(300)));
            engine.set_settings(settings);
            arrive(&rig, &engine, &mut events, 1, "Ann", 1).await;
            (120, 300)
        }
        other => panic!("no case for {other:?}"),
    };
    rig.clock.step_wall(TimeDelta::hours(-2));
    let now = |rig: &Rig| (rig.clock.utc() + TimeDelta::hours(2) - rig.start).num_seconds() as u64;
    rig.clock.advance(Duration::from_secs(held_at - now(&rig)));
    let held = decision(&mut events, |d| d.escalation.is_some()).await;
    assert_eq!(held.outcome, Outcome::Suppressed { reason });
    rig.clock.advance(Duration::from_secs(ends - held_at));
    let back = decision(&mut events, |d| {
        d.escalation.is_some() && d.outcome == Outcome::Allowed
    })
    .await;
    assert_eq!(step_of(&back).2, ends, "the wait when the hold ended");
    // And the chat's next message notifies again: the first notification's policy measures
    // the hold on the same kind of timeline.
    rig.post(message(50, 1, "всё ещё жду")).await;
    let next = decision(&mut events, |d| d.escalation.is_none()).await;
    assert_eq!(next.outcome, Outcome::Allowed);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_snooze_ends_on_time_when_the_wall_clock_steps_back() {
    a_hold_survives_a_step_back(SuppressReason::Snoozed).await;
}

#[tokio::test]
async fn a_mute_ends_on_time_when_the_wall_clock_steps_back() {
    a_hold_survives_a_step_back(SuppressReason::Muted).await;
}
