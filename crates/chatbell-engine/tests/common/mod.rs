//! What the tests that move time by hand share: the clock, an engine pointed at the simulator
//! whose heartbeat does not take hand-moved minutes for silence, and starting it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chatbell_engine::clock::ManualClock;
use chatbell_engine::connection::ConnectionTuning;
use chatbell_engine::liveness::Heartbeat;
use chatbell_engine::model::ConnState;
use chatbell_engine::notifier::Notifier;
use chatbell_engine::{Engine, EngineConfig, ServerConfig};
use chrono::{DateTime, NaiveTime, TimeZone, Utc};

pub const WITHIN: Duration = Duration::from_secs(10);

/// When the tests' day starts: 2026-03-02, 12:00 UTC and local.
pub fn start_of_day() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

pub fn hand_clock() -> ManualClock {
    ManualClock::new(start_of_day(), NaiveTime::from_hms_opt(12, 0, 0).unwrap())
}

/// An engine on `db`, connected to the simulator at `url` without a token.
pub fn config(db: &Path, url: String) -> EngineConfig {
    let mut config = EngineConfig::new(db);
    config.server = Some(ServerConfig {
        url,
        token: None,
        auth: Default::default(),
        query_param: "token".into(),
    });
    // Minutes are moved by hand here; the heartbeat must not take that for silence.
    config.tuning = ConnectionTuning {
        heartbeat: Heartbeat {
            ping_interval: Duration::from_secs(3600),
            dead_after: Duration::from_secs(86_400),
        },
        ..ConnectionTuning::default()
    };
    config
}

/// Starts the engine on the hand-moved clock; returns once it is online.
#[allow(dead_code)] // The outage tests start engines that never come online.
pub async fn start(
    config: EngineConfig,
    notifier: Option<Box<dyn Notifier>>,
    clock: &ManualClock,
) -> Engine {
    let engine = Engine::start_with_clock(config, notifier, Arc::new(clock.clone()))
        .await
        .unwrap();
    let mut state = engine.state();
    tokio::time::timeout(WITHIN, async {
        while !matches!(*state.borrow_and_update(), ConnState::Online { .. }) {
            state.changed().await.unwrap();
        }
    })
    .await
    .expect("online");
    engine
}

const CHILD: &str = "CHATBELL_TEST_IN_PRIVATE_DESKTOP";

/// Runs the test named `name` again in a child process on a private session bus. Returns
/// true in that child (run the test), false in the parent (done: the child passed).
///
/// The notifier talks to the session bus named by `DBUS_SESSION_BUS_ADDRESS`. A test cannot
/// set that for itself (the tests of a binary share one environment).
#[allow(dead_code)] // Only the tests on a desktop use it.
pub fn in_private_desktop(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let bus = chatbell_testkit::PrivateBus::start();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
    false
}
