//! Figure 7 — Simulator fan-out: many clients connected, a steady stream delivered to all of them —
//! delivered rate and delivery latency, against the same stream to a single client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use chatbell_sim::SimConfig;
use futures_util::StreamExt;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::Scale;
use crate::report::{Figure, Goal};
use crate::stats::Samples;

const SECTION: &str = "7. Simulator fan-out";
const RATE: u64 = 100;

struct Run {
    delivered_per_s: f64,
    latency: Samples,
    clients: usize,
}

async fn fan_out(clients: usize, seconds: u64) -> Result<Run> {
    let sim = chatbell_sim::start(SimConfig::quiet()).await?;
    let start = Arc::new(Instant::now());
    let received = Arc::new(AtomicU64::new(0));
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut tasks = Vec::new();
    let mut connected = 0;
    for _ in 0..clients {
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(sim.ws_url()).await else {
            break;
        };
        connected += 1;
        let (start, received, latencies) = (start.clone(), received.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(text) = msg {
                    // The frame carries its send time (µs since the run started).
                    let sent = text
                        .split("\"sent_us\":")
                        .nth(1)
                        .and_then(|r| r.split('}').next())
                        .and_then(|v| v.parse::<u64>().ok());
                    if let Some(sent) = sent {
                        mine.push(start.elapsed().saturating_sub(Duration::from_micros(sent)));
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies.lock().await.extend(mine);
        }));
    }
    sim.control()
        .wait_clients(Duration::from_secs(30), |c| c.len() == connected)
        .await?;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    let began = Instant::now();
    for i in 0..RATE * seconds {
        tick.tick().await;
        let frame = format!(
            r#"{{"event":"user_online","data":{{"user_id":{}}},"sent_us":{}}}"#,
            i % 50 + 1,
            start.elapsed().as_micros()
        );
        sim.hub().deliver(frame.into(), Some((i % 50 + 1) as i64));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let elapsed = began.elapsed().as_secs_f64() - 0.5;
    let delivered = received.load(Ordering::Relaxed) as f64 / elapsed.max(0.001);
    sim.shutdown().await;
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    let latency = Samples::from_durations(&latencies.lock().await);
    Ok(Run {
        delivered_per_s: delivered,
        latency,
        clients: connected,
    })
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let seconds = scale.pick(3, 10);
    let many = scale.pick(200, 1000);
    let one = fan_out(1, seconds).await?;
    let all = fan_out(many, seconds).await?;
    let note = format!(
        "{} clients connected in one process, {RATE} events/s for {seconds} s",
        all.clients
    );
    Ok(vec![
        Figure::new(
            SECTION,
            format!("delivered to {} clients (frames/s)", all.clients),
            all.delivered_per_s,
            "fr/s",
        )
        .baseline("1 client", one.delivered_per_s)
        .goal(Goal::AtLeast((RATE as usize * many) as f64 * 0.99))
        .note(note),
        Figure::new(
            SECTION,
            format!("delivery latency to {} clients, p50 (ms)", all.clients),
            all.latency.median(),
            "ms",
        )
        .baseline("1 client", one.latency.median()),
        Figure::new(
            SECTION,
            format!("delivery latency to {} clients, p99 (ms)", all.clients),
            all.latency.percentile(99.0),
            "ms",
        )
        .baseline("1 client", one.latency.percentile(99.0)),
    ])
}
