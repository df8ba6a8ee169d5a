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
    config.server = Some(ServerConfig::new(url, None));
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

/// The first event from now that `pick` takes, within [`WITHIN`] (a subscriber that lagged
/// reads on); `what` names it when it does not come.
#[allow(dead_code)] // Not every test that shares this module reads events.
pub async fn next_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<chatbell_engine::model::EngineEvent>,
    what: &str,
    pick: impl Fn(chatbell_engine::model::EngineEvent) -> Option<T>,
) -> T {
    use tokio::sync::broadcast::error::RecvError;
    tokio::time::timeout(WITHIN, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} within {WITHIN:?}"))
}
