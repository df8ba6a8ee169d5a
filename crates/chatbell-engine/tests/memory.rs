//! After writing, the writer hands back the memory writing used once nothing has come for
//! `RELEASE_AFTER` on the engine's clock: a burst does not leave the tray-resident app at its
//! peak for the rest of the day. What is handed back (SQLite's page cache) is measured in
//! `docs/footprint.md`; here, that it happens, and when. Its own test binary: it installs the
//! process's log subscriber to hear the writer say so.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatbell_engine::{RELEASE_AFTER, RELEASED};
use chatbell_sim::SimConfig;
use serde_json::json;

use common::{config, hand_clock, start};

/// The log lines written so far.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn releases(&self) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(RELEASED)
            .count()
    }
}

#[tokio::test]
async fn once_idle_after_a_burst_the_writer_hands_back_its_memory() {
    let log = Log::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_env_filter("chatbell_engine=debug")
        .with_writer(move || writer.clone())
        .init();
    let sim = chatbell_sim::start(SimConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        rate: 0.0,
        client_queue: 100_000,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = hand_clock();
    let engine = start(
        config(&dir.path().join("chatbell.db"), sim.ws_url()),
        None,
        &clock,
    )
    .await;

    const FRAMES: i64 = 5_000;
    let frames: Vec<serde_json::Value> = (1..=FRAMES)
        .map(|i| {
            json!({"event": "new_message", "data": {"message_id": i, "user_id": i % 500,
                "user_name": format!("User {}", i % 500), "text": format!("order {i} is late"),
                "file_path": null, "source": "telegram"}, "timestamp": "2026-01-10T15:31:00Z"})
        })
        .collect();
    sim.control().post_events(&json!(frames)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while engine.queries().counts().await.unwrap().events < FRAMES as u64 {
        assert!(Instant::now() < deadline, "the burst was never stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The engine's clock has not moved since the writes: nothing can be due yet.
    assert_eq!(log.releases(), 0, "handed back before its time");

    clock.advance(RELEASE_AFTER);
    let deadline = Instant::now() + Duration::from_secs(10);
    while log.releases() == 0 {
        assert!(
            Instant::now() < deadline,
            "{RELEASE_AFTER:?} after the burst, the writer still held its memory"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.shutdown().await;
}
