//! Figure 6 — Recovery: (a) the simulator restarts — how long until the engine is back online with
//! its subscriptions sent again, against a bare client connecting and subscribing; (b) the
//! connection stalls (TCP open, nothing moves) — how long until the engine declares it dead,
//! against the same engine noticing a server that closes the connection (timed in (a)).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chatbell_engine::connection::ConnectionTuning;
use chatbell_engine::liveness::Heartbeat;
use chatbell_engine::model::ConnState;
use chatbell_engine::{Engine, EngineConfig};
use chatbell_protocol::ClientAction;
use chatbell_sim::{Fault, SimConfig, SimHandle};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::Scale;
use crate::report::{Figure, Goal};
use crate::stats::Samples;

const SECTION: &str = "6. Recovery (ms, lower is better)";
const SUBSCRIPTIONS: [i64; 2] = [7, -7];

async fn sim_at(addr: SocketAddr) -> Result<SimHandle> {
    // The port was just released by the previous simulator: retry a moment if it lingers.
    for _ in 0..100 {
        match chatbell_sim::start(SimConfig {
            listen: addr,
            rate: 0.0,
            ..SimConfig::default()
        })
        .await
        {
            Ok(sim) => return Ok(sim),
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    bail!("cannot listen on {addr} again")
}

async fn subscribed(sim: &SimHandle, within: Duration) -> Result<()> {
    let want: Vec<i64> = {
        let mut w = SUBSCRIPTIONS.to_vec();
        w.sort();
        w
    };
    // A stalled connection the engine has already given up on stays listed until its stall
    // ends: only a live one counts.
    let live = |c: &[chatbell_sim::ClientInfo]| c.iter().any(|c| c.filters == want && !c.stalled);
    let clients = sim.control().wait_clients(within, live).await?;
    if !live(&clients) {
        bail!("no client with the subscriptions after {within:?}");
    }
    Ok(())
}

/// How long a connection must stay up before a failure starts the backoff again from its first
/// step. The product waits 60 s; the restart runs shorten it so that each restart follows a
/// healthy connection, as a real server restart does, without waiting a minute each time.
const HEALTHY_AFTER: Duration = Duration::from_secs(2);

fn engine_config(dir: &std::path::Path, url: String, heartbeat: Heartbeat) -> EngineConfig {
    let mut config = crate::engine_config(dir, url);
    config.subscriptions = SUBSCRIPTIONS.to_vec();
    config.tuning = ConnectionTuning {
        heartbeat,
        ..ConnectionTuning::default()
    };
    config.tuning.backoff.reset_after = HEALTHY_AFTER;
    config
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let runs = scale.pick(3, 10);
    let dir = tempfile::tempdir()?;
    let mut sim = chatbell_sim::start(SimConfig::quiet()).await?;
    let addr = sim.addr();

    // Baseline of (a): a bare WebSocket client connecting and subscribing to a running server.
    let mut fresh = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        // Nagle off, as the engine has it: otherwise the second subscription waits for the
        // first one's delayed ACK (40 ms on Linux) and the baseline measures that instead.
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(sim.ws_url(), None, true).await?;
        for user_id in SUBSCRIPTIONS {
            ws.send(Message::text(ClientAction::Subscribe { user_id }.to_json()))
                .await?;
        }
        subscribed(&sim, Duration::from_secs(5)).await?;
        fresh.push(t.elapsed());
        drop(ws);
        sim.control()
            .wait_clients(Duration::from_secs(5), |c| c.is_empty())
            .await?;
    }

    let engine = Engine::start(
        engine_config(dir.path(), sim.ws_url(), Heartbeat::default()),
        None,
    )
    .await?;
    subscribed(&sim, Duration::from_secs(10)).await?;
    let mut restart = Vec::new();
    // Baseline of (b): shutting down sends every client a close frame ("going away"); the time
    // until the engine leaves Online is how fast it notices a server that says goodbye.
    let mut closed = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut state = engine.state();
        let ((), noticed) = tokio::join!(sim.shutdown(), async {
            state
                .wait_for(|s| !matches!(s, ConnState::Online { .. }))
                .await
                .map(|_| t.elapsed())
        });
        closed.push(noticed?);
        sim = sim_at(addr).await?;
        let t = Instant::now();
        subscribed(&sim, Duration::from_secs(40)).await?;
        restart.push(t.elapsed());
        // Stay up long enough to count as healthy, so the next restart is a first retry again.
        tokio::time::sleep(HEALTHY_AFTER + Duration::from_millis(200)).await;
    }
    engine.shutdown().await;

    // Stall detection, with the product's heartbeat (or a short one in the quick run).
    let heartbeat = scale.pick(
        Heartbeat {
            ping_interval: Duration::from_millis(500),
            dead_after: Duration::from_secs(2),
        },
        Heartbeat::default(),
    );
    let stall_runs = scale.pick(1, 3);
    let dir = tempfile::tempdir()?;
    let engine = Engine::start(engine_config(dir.path(), sim.ws_url(), heartbeat), None).await?;
    let mut stall = Vec::new();
    for _ in 0..stall_runs {
        engine
            .state()
            .wait_for(|s| matches!(s, ConnState::Online { .. }))
            .await?;
        subscribed(&sim, Duration::from_secs(10)).await?;
        let stall_ms = (heartbeat.dead_after + Duration::from_secs(10)).as_millis() as u64;
        let t = Instant::now();
        sim.control().fault(&Fault::Stall { ms: stall_ms }).await?;
        engine
            .state()
            .wait_for(|s| !matches!(s, ConnState::Online { .. }))
            .await?;
        stall.push(t.elapsed());
    }
    engine.shutdown().await;
    sim.shutdown().await;

    let (fresh, restart, closed, stall) = (
        Samples::from_durations(&fresh),
        Samples::from_durations(&restart),
        Samples::from_durations(&closed),
        Samples::from_durations(&stall),
    );
    // A goal, not a result: detection within a second of the configured silence.
    let goal_ms = heartbeat.dead_after.as_secs_f64() * 1000.0 + 1000.0;
    Ok(vec![
        Figure::new(
            SECTION,
            "server restart → online, subscriptions re-sent (median)",
            restart.median(),
            "ms",
        )
        .baseline("bare client: connect + subscribe", fresh.median())
        .goal(Goal::AtMost(1500.0))
        .note(format!(
            "{runs} restarts, each after a healthy connection; first retry after a full-jitter delay in [0, 1 s]"
        )),
        Figure::new(
            SECTION,
            "server restart → online, subscriptions re-sent (max)",
            restart.max(),
            "ms",
        )
        .baseline("bare client: connect + subscribe", fresh.max())
        .goal(Goal::AtMost(1500.0)),
        Figure::new(
            SECTION,
            "stalled connection detected (median)",
            stall.median(),
            "ms",
        )
        .baseline("server closes → noticed", closed.median())
        .goal(Goal::AtMost(goal_ms))
        .note(format!(
            "{} stall(s); configured: ping every {:?}, dead after {:?} of silence{}; baseline: \
             the {runs} closes of the restarts",
            stall.len(),
            heartbeat.ping_interval,
            heartbeat.dead_after,
            if scale.quick {
                " (shortened from the product's 15 s / 30 s)"
            } else {
                " (the product's)"
            }
        )),
    ])
}
