//! Figure 1 — Ingest throughput: a simulator burst over loopback, read by (a) a reader that discards
//! frames — the socket's limit; (b) a bare durable writer that parses each frame and inserts
//! it into one table, 1,000 per transaction — SQLite's limit; (c) the engine, which stores the
//! raw frame, the normalized rows, the search index and the unread counts.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use chatbell_engine::Engine;
use chatbell_engine::model::{ConnState, EngineEvent};
use chatbell_protocol::parse_frame;
use chatbell_sim::{SimConfig, SimHandle};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::Scale;
use crate::report::{Figure, Goal};
use crate::stats::median_of_async;

const SECTION: &str = "1. Ingest throughput (events/s, higher is better)";
const SEED: u64 = 42;

async fn sim() -> Result<SimHandle> {
    Ok(chatbell_sim::start(SimConfig {
        client_queue: 16,
        ..SimConfig::quiet()
    })
    .await?)
}

async fn wait_alone(sim: &SimHandle) -> Result<()> {
    let clients = sim
        .control()
        .wait_clients(std::time::Duration::from_secs(10), |c| c.len() == 1)
        .await?;
    if clients.len() != 1 {
        bail!("expected one client, found {}", clients.len());
    }
    Ok(())
}

/// Reads `n` frames and drops them.
async fn raw_reader(sim: &SimHandle, n: u64) -> Result<f64> {
    let (mut ws, _) = tokio_tungstenite::connect_async(sim.ws_url()).await?;
    wait_alone(sim).await?;
    let started = Instant::now();
    sim.control().burst(n, SEED).await?;
    let mut got = 0;
    while got < n {
        match ws.next().await {
            Some(Ok(Message::Text(_))) => got += 1,
            Some(Ok(_)) => {}
            other => bail!("raw reader: stream ended after {got}: {other:?}"),
        }
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Parses every frame and inserts it into one table, 1,000 frames per transaction.
async fn bare_writer(sim: &SimHandle, n: u64) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let conn = rusqlite::Connection::open(dir.path().join("bare.db"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, user_id INTEGER, frame TEXT NOT NULL);",
    )?;
    let (mut ws, _) = tokio_tungstenite::connect_async(sim.ws_url()).await?;
    wait_alone(sim).await?;
    let started = Instant::now();
    sim.control().burst(n, SEED).await?;
    let mut got = 0;
    conn.execute_batch("BEGIN")?;
    {
        let mut insert =
            conn.prepare("INSERT INTO events (kind, user_id, frame) VALUES (?1, ?2, ?3)")?;
        while got < n {
            let Some(Ok(Message::Text(text))) = ws.next().await else {
                bail!("bare writer: stream ended after {got}")
            };
            let env = parse_frame(&text, chrono::Utc::now()).context("the burst is valid")?;
            insert.execute(rusqlite::params![
                env.event.name(),
                env.event.user_id(),
                text.as_str()
            ])?;
            got += 1;
            if got % 1000 == 0 {
                conn.execute_batch("COMMIT; BEGIN")?;
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The engine, from the burst request to the last frame committed and announced.
async fn engine(sim: &SimHandle, n: u64) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let config = crate::engine_config(dir.path(), sim.ws_url());
    let engine = Engine::start(config, None).await?;
    let mut state = engine.state();
    state
        .wait_for(|s| matches!(s, ConnState::Online { .. }))
        .await?;
    wait_alone(sim).await?;
    let mut events = engine.events();
    let started = Instant::now();
    sim.control().burst(n, SEED).await?;
    let mut stored = 0u64;
    while stored < n {
        match events.recv().await {
            Ok(EngineEvent::Stored(u)) => {
                let before = stored / 100_000;
                stored += u64::from(u.frames);
                if std::env::var_os("CHATBELL_BENCH_TRACE").is_some() && stored / 100_000 != before
                {
                    eprintln!(
                        "  {stored} frames at {:.2} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                stored = engine.queries().frames_stored().await?
            }
            Err(e) => bail!("engine events: {e}"),
        }
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let counts = engine.queries().counts().await?;
    if counts.events != n
        || counts.messages == 0
        || engine
            .queries()
            .search("доставк".into(), 5)
            .await?
            .is_empty()
    {
        bail!("the engine did not store the burst completely: {counts:?}");
    }
    engine.shutdown().await;
    Ok(rate)
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let n: u64 = scale.pick(20_000, 1_000_000);
    let runs = scale.pick(1, 3);
    let sim = sim().await?;
    let raw = median_of_async(runs, || raw_reader(&sim, n)).await?;
    let bare = median_of_async(runs, || bare_writer(&sim, n)).await?;
    let ours = median_of_async(runs, || engine(&sim, n)).await?;
    sim.shutdown().await;
    let note = format!(
        "{n} realistic events per run (seed {SEED}), median of {runs}; normalized, deduplicated, searchable"
    );
    Ok(vec![
        Figure::new(
            SECTION,
            "engine: frame → committed (raw log, chats, messages, FTS, unread)",
            ours,
            "ev/s",
        )
        .baseline("bare durable writer", bare)
        .goal(Goal::AtLeast(150_000.0))
        .note(note),
        Figure::new(
            SECTION,
            "engine vs bare durable writer",
            ours / bare * 100.0,
            "%",
        )
        .goal(Goal::AtLeast(50.0)),
        Figure::new(
            SECTION,
            "bare durable writer: parse + 1 insert, 1,000 per txn",
            bare,
            "ev/s",
        )
        .baseline("raw reader", raw),
        Figure::new(
            SECTION,
            "raw reader: read and discard (simulator-bound)",
            raw,
            "ev/s",
        ),
    ])
}
