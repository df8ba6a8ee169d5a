//! Figure 7 — Simulator fan-out: many clients connected, a steady stream delivered to all of them —
//! delivered rate and delivery latency, against the same stream to a single client.
//!
//! The delivered rate is timed over exactly the span it counts: from the first frame handed to
//! the simulator's hub to the last frame read by the last client, and the run waits for that
//! event (every connected client has read every frame queued for it) rather than sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chatbell_sim::SimConfig;
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;

use crate::Scale;
use crate::report::{Figure, Goal, num};
use crate::stats::Samples;

const SECTION: &str = "7. Simulator fan-out";
/// Events per second handed to the hub; every connected client gets each one.
const RATE: u64 = 100;
/// The figure describes a load of this share of the requested clients at least; fewer
/// connected fails the run (with the first connect error) instead of reporting another load.
const MIN_CONNECTED: f64 = 0.95;
/// How long after the last frame was handed to the hub every client must have read all of
/// its frames; past it the run fails with who is behind.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);
/// The delivered rate must reach this share of `RATE` × the clients connected.
const GOAL_SHARE: f64 = 0.99;

/// Frames read by all clients, and the moment the last of them arrived.
struct Progress {
    /// The run's time origin; frames carry their send time in µs since it.
    start: Instant,
    received: AtomicU64,
    /// Frames the hub queued for all clients together; `u64::MAX` until the sending is over.
    expected: AtomicU64,
    last_arrival_us: AtomicU64,
    all_in: Notify,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            start: Instant::now(),
            received: AtomicU64::new(0),
            expected: AtomicU64::new(u64::MAX),
            last_arrival_us: AtomicU64::new(0),
            all_in: Notify::new(),
        }
    }

    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn arrived(&self, at_us: u64) {
        self.last_arrival_us.fetch_max(at_us, Ordering::SeqCst);
        let n = self.received.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.expected.load(Ordering::SeqCst) {
            // Stores a permit if nobody waits yet, so the event cannot be missed.
            self.all_in.notify_one();
        }
    }

    /// Declares how many frames are due and waits until all have arrived, up to `within`.
    async fn all_arrived(&self, expected: u64, within: Duration) -> bool {
        self.expected.store(expected, Ordering::SeqCst);
        if self.received.load(Ordering::SeqCst) >= expected {
            return true;
        }
        tokio::time::timeout(within, self.all_in.notified())
            .await
            .is_ok()
    }
}

struct Run {
    requested: usize,
    connected: usize,
    /// Frames read by all clients per second, from the first frame handed to the hub to the
    /// last frame read.
    delivered_per_s: f64,
    /// Frames handed to the hub for all clients per second, over the sending span.
    offered_per_s: f64,
    /// Frames the hub did not queue because a client's queue was full.
    dropped: u64,
    /// From the last frame handed to the hub to its arrival at the last client.
    tail: Duration,
    latency: Samples,
}

impl Run {
    /// The bound the delivered rate is held to: the stream's rate to every connected client.
    fn goal(&self) -> f64 {
        (RATE as usize * self.connected) as f64 * GOAL_SHARE
    }

    fn note(&self, seconds: u64) -> String {
        let mut note = format!("{RATE} events/s for {seconds} s to each of ");
        if self.connected == self.requested {
            note += &format!("{} clients in one process", self.connected);
        } else {
            note += &format!(
                "{} clients connected in one process ({} requested)",
                self.connected, self.requested
            );
        }
        if let Some(cause) = shortfall(self) {
            note += &format!("; missed because {cause}");
        }
        note
    }
}

/// Why the delivered rate fell short of its goal, from what was measured; `None` if it did not.
fn shortfall(run: &Run) -> Option<String> {
    let goal = run.goal();
    if run.delivered_per_s >= goal {
        return None;
    }
    Some(if run.offered_per_s < goal {
        format!(
            "the sender fell behind: frames handed to the hub at {} fr/s",
            num(run.offered_per_s)
        )
    } else if run.dropped > 0 {
        format!("{} frames were dropped by full client queues", run.dropped)
    } else {
        format!(
            "the last frame reached its last client {} ms after it was handed to the hub",
            num(run.tail.as_secs_f64() * 1000.0)
        )
    })
}

/// The send time a frame carries (µs since the run's origin).
fn sent_us(text: &str) -> Option<u64> {
    text.split("\"sent_us\":")
        .nth(1)
        .and_then(|r| r.split('}').next())
        .and_then(|v| v.parse().ok())
}

async fn fan_out(requested: usize, seconds: u64) -> Result<Run> {
    let sim = chatbell_sim::start(SimConfig::quiet()).await?;
    let progress = Arc::new(Progress::new());
    let mut tasks = Vec::new();
    let mut per_client = Vec::new();
    let mut refused = None;
    for _ in 0..requested {
        let mut ws = match tokio_tungstenite::connect_async(sim.ws_url()).await {
            Ok((ws, _)) => ws,
            Err(e) => {
                refused = Some(e.to_string());
                break;
            }
        };
        let (progress, mine) = (progress.clone(), Arc::new(AtomicU64::new(0)));
        per_client.push(mine.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while let Some(Ok(msg)) = ws.next().await {
                if let Message::Text(text) = msg
                    && let Some(sent) = sent_us(&text)
                {
                    let now = progress.now_us();
                    latencies.push(Duration::from_micros(now.saturating_sub(sent)));
                    mine.fetch_add(1, Ordering::Relaxed);
                    progress.arrived(now);
                }
            }
            latencies
        }));
    }
    let connected = tasks.len();
    if (connected as f64) < requested as f64 * MIN_CONNECTED {
        bail!(
            "only {connected} of {requested} clients could connect to the simulator (first refusal: {}); \
             the figure would describe a different load (check `ulimit -n`)",
            refused.as_deref().unwrap_or("none")
        );
    }
    let registered = sim
        .control()
        .wait_clients(Duration::from_secs(30), |c| c.len() == connected)
        .await?
        .len();
    if registered != connected {
        bail!(
            "{connected} clients connected but the simulator registered {registered} within 30 s"
        );
    }

    let frames = RATE * seconds;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    let (mut first_us, mut last_us, mut queued) = (0, 0, 0u64);
    for i in 0..frames {
        tick.tick().await;
        let now = progress.now_us();
        if i == 0 {
            first_us = now;
        }
        last_us = now;
        let frame = format!(
            r#"{{"event":"user_online","data":{{"user_id":{}}},"sent_us":{now}}}"#,
            i % 50 + 1,
        );
        queued += sim.hub().deliver(frame.into(), Some((i % 50 + 1) as i64)) as u64;
    }
    let handed = frames * connected as u64;
    if !progress.all_arrived(queued, DRAIN_DEADLINE).await {
        let counts: Vec<u64> = per_client
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let behind = counts.iter().filter(|&&n| n < frames).count();
        let slowest = counts.iter().min().copied().unwrap_or(0);
        let written: u64 = sim.hub().clients().iter().map(|c| c.sent).sum();
        let received = progress.received.load(Ordering::SeqCst);
        sim.shutdown().await;
        bail!(
            "fan-out to {connected} clients: {received} of {queued} queued frames read within \
             {DRAIN_DEADLINE:?} after the last was handed over ({behind} clients behind, the \
             slowest read {slowest} of {frames}); the simulator wrote {written} to its sockets \
             and dropped {} for full queues",
            handed - queued
        );
    }
    let last_arrival_us = progress.last_arrival_us.load(Ordering::SeqCst);
    let span = Duration::from_micros(last_arrival_us.saturating_sub(first_us));
    let send_span = Duration::from_micros(last_us.saturating_sub(first_us));
    sim.shutdown().await;
    let mut latencies = Vec::new();
    for t in tasks {
        if let Ok(Ok(mine)) = tokio::time::timeout(Duration::from_secs(5), t).await {
            latencies.extend(mine);
        }
    }
    if latencies.len() as u64 != queued {
        bail!(
            "{} latency samples for {queued} frames read: a client task did not finish",
            latencies.len()
        );
    }
    Ok(Run {
        requested,
        connected,
        delivered_per_s: queued as f64 / span.as_secs_f64().max(1e-6),
        offered_per_s: handed as f64 / send_span.as_secs_f64().max(1e-6),
        dropped: handed - queued,
        tail: Duration::from_micros(last_arrival_us.saturating_sub(last_us)),
        latency: Samples::from_durations(&latencies),
    })
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let seconds = scale.pick(3, 10);
    let many = scale.pick(200, 1000);
    let one = fan_out(1, seconds).await?;
    let all = fan_out(many, seconds).await?;
    Ok(vec![
        Figure::new(
            SECTION,
            format!("delivered to {} clients (frames/s)", all.connected),
            all.delivered_per_s,
            "fr/s",
        )
        .baseline("1 client", one.delivered_per_s)
        .goal(Goal::AtLeast(all.goal()))
        .note(all.note(seconds)),
        Figure::new(
            SECTION,
            format!("delivery latency to {} clients, p50 (ms)", all.connected),
            all.latency.median(),
            "ms",
        )
        .baseline("1 client", one.latency.median()),
        Figure::new(
            SECTION,
            format!("delivery latency to {} clients, p99 (ms)", all.connected),
            all.latency.percentile(99.0),
            "ms",
        )
        .baseline("1 client", one.latency.percentile(99.0)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(delivered: f64, offered: f64, dropped: u64) -> Run {
        Run {
            requested: 10,
            connected: 10,
            delivered_per_s: delivered,
            offered_per_s: offered,
            dropped,
            tail: Duration::from_millis(250),
            latency: Samples::new(vec![]),
        }
    }

    #[test]
    fn a_shortfall_names_its_measured_cause() {
        // Goal for 10 clients at 100 events/s: 990 frames/s.
        let cases = [
            (run(1000.0, 1001.0, 0), None),
            (run(900.0, 950.0, 0), Some("sender fell behind")),
            (run(900.0, 1001.0, 7), Some("7 frames were dropped")),
            (run(900.0, 1001.0, 0), Some("250.0 ms after")),
        ];
        for (run, want) in cases {
            let got = shortfall(&run);
            match want {
                None => assert_eq!(got, None),
                Some(w) => assert!(got.as_deref().is_some_and(|g| g.contains(w)), "{got:?}"),
            }
        }
    }

    #[test]
    fn the_note_says_when_fewer_clients_connected_than_requested() {
        let mut r = run(1000.0, 1001.0, 0);
        assert!(!r.note(3).contains("requested"));
        r.connected = 9;
        assert!(
            r.note(3)
                .contains("9 clients connected in one process (10 requested)")
        );
    }
}
