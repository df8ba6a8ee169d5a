//! The agent's being away, read from a stand-in `org.freedesktop.ScreenSaver` on a private bus:
//! a lock is heard as its signal, the idle time is read, and together they decide.

#![cfg(target_os = "linux")]

use std::time::Duration;

use chatbell_engine::settings::Settings;
use chatbell_engine::settings::forward::AwaySettings;
use chatbell_testkit::{FakeScreenSaver, PrivateBus};

use std::sync::Arc;

use chatbell_engine::clock::ManualClock;

fn hand_clock() -> ManualClock {
    ManualClock::new(
        chrono::Utc::now(),
        chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
    )
}

fn with_a_target(idle_minutes: Option<u32>) -> Settings {
    let mut settings = Settings::default();
    settings.notifications.away = AwaySettings { idle_minutes };
    settings.notifications.forward = serde_json::from_value(serde_json::json!([
        {"id": "phone", "kind": "ntfy", "url": "https://ntfy.example", "topic": "t"}
    ]))
    .unwrap();
    settings
}

async fn connect(bus: &PrivateBus) -> zbus::Connection {
    zbus::connection::Builder::address(bus.address())
        .unwrap()
        .build()
        .await
        .unwrap()
}

/// Followed on a hand-moved clock: the idle time is looked at when the threshold could be
/// crossed (not before), a lock is heard as its signal, a change of the settings applies at
/// once; with no forwarding target nothing is asked.
#[tokio::test]
async fn the_agent_s_being_away_is_followed() {
    use chatbell_engine::away::{Source, follow};
    use chatbell_testkit::watch_until;

    let bus = PrivateBus::start();
    let saver = FakeScreenSaver::start(&bus).await;
    saver.set_idle(200);
    let clock = hand_clock();
    let source = Source::Freedesktop {
        session: Some(connect(&bus).await),
        system: None,
    };
    // No target yet: locked, but nobody asks.
    saver.lock(true).await;
    let (settings, watched) = tokio::sync::watch::channel(Settings::default());
    let mut away = follow(source, watched, Arc::new(clock.clone()));
    let within = Duration::from_secs(10);
    settings.send_replace(with_a_target(Some(5)));
    watch_until(
        "away: locked, asked once a target is set",
        &mut away,
        within,
        |a| *a,
    )
    .await;
    saver.lock(false).await;
    watch_until("back when unlocked", &mut away, within, |a| !*a).await;

    // 200 s idle of 300: the next look is when it could be crossed, and then it is away.
    saver.set_idle(300);
    clock.sleeping_exactly(Duration::from_secs(100)).await;
    clock.advance(Duration::from_secs(100));
    watch_until("away after 300 s idle", &mut away, within, |a| *a).await;

    // Only the lock counts now: idle is no longer away.
    settings.send_replace(with_a_target(None));
    watch_until("back once idle does not count", &mut away, within, |a| !*a).await;
    saver.lock(true).await;
    watch_until("away when locked", &mut away, within, |a| *a).await;

    // No target: at the desk, whatever the screen.
    settings.send_replace(Settings::default());
    watch_until("not away without a target", &mut away, within, |a| !*a).await;
}

/// GNOME: no freedesktop screensaver; Mutter's idle monitor gives the idle time, and logind's
/// `LockedHint` on the system bus the lock.
#[tokio::test]
async fn logind_s_lock_and_mutter_s_idle_time_are_heard() {
    use chatbell_engine::away::{Source, follow};
    use chatbell_testkit::{FakeIdleMonitor, FakeLogind, watch_until};

    let (session, system) = (PrivateBus::start(), PrivateBus::start());
    let logind = FakeLogind::start(&system).await;
    let mutter = FakeIdleMonitor::start(&session).await;
    let clock = hand_clock();
    let source = Source::Freedesktop {
        session: Some(connect(&session).await),
        system: Some(connect(&system).await),
    };
    let (_settings, watched) = tokio::sync::watch::channel(with_a_target(Some(5)));
    let mut away = follow(source, watched, Arc::new(clock.clone()));
    let within = Duration::from_secs(10);
    // Idle 0 s: the next look is five minutes away.
    clock.sleeping_exactly(Duration::from_secs(300)).await;
    logind.lock(true).await;
    watch_until("away when logind says locked", &mut away, within, |a| *a).await;
    logind.lock(false).await;
    watch_until("back when unlocked", &mut away, within, |a| !*a).await;
    mutter.set_idle(301);
    clock.sleeping_exactly(Duration::from_secs(300)).await;
    clock.advance(Duration::from_secs(300));
    watch_until("away after Mutter's 301 s idle", &mut away, within, |a| *a).await;
}
