//! Figure 9 — Chatbell's own sounds: (a) from a frame handed to the simulator's socket to the
//! audio device taking the new-chat sound's first samples (the engine reports that moment as
//! a `Sound` event, in this process), beside the bare device: opening cpal's default output
//! and its first callback, with no engine; (b) `chatbell-cli listen`'s idle wakeups with
//! sounds on — after a sound has played, so a stream left open would show — against the same
//! CLI with `--no-sound`, in the same run.
//!
//! The audio device is a PulseAudio server of the run's own (null sink, reached through ALSA's
//! pulse plugin as on a desktop), started by `main` with the private D-Bus.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chatbell_engine::Engine;
use chatbell_engine::coalesce::CoalesceConfig;
use chatbell_engine::model::{ConnState, EngineEvent, SoundOutcome};
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_sim::SimConfig;
use chrono::Utc;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::Scale;
use crate::footprint::wakeups_over;
use crate::report::{Figure, Goal};
use crate::stats::Samples;

const SECTION: &str = "9. Sounds";

fn new_chat(user: i64) -> serde_json::Value {
    serde_json::json!({"event": "new_chat", "data": {"user_id": user, "user_name": format!("Caller {user}"), "username": "u", "source": "widget", "first_message": "Hello"}, "timestamp": Utc::now().to_rfc3339()})
}

/// (a) frame → first sample of the new-chat sound, `n` times, one chat at a time and each
/// after the last sound has played out (the sound's rate limit is off here).
async fn frame_to_sound(n: usize) -> Result<Samples> {
    let sim = chatbell_sim::start(SimConfig::quiet()).await?;
    let dir = tempfile::tempdir()?;
    let mut config = crate::engine_config(dir.path(), sim.ws_url());
    config.audio = true;
    config.coalesce = CoalesceConfig {
        sound_interval: Duration::ZERO,
        digest_chats: usize::MAX,
        ..CoalesceConfig::default()
    };
    let engine = Engine::start(
        config,
        Some(Box::new(DesktopNotifier::new(NotifierConfig::default()))),
    )
    .await?;
    engine
        .state()
        .wait_for(|s| matches!(s, ConnState::Online { .. }))
        .await?;
    let mut events = engine.events();
    let mut samples = Vec::new();
    let pause = chatbell_engine::sound::Tone::Chime.duration() + Duration::from_millis(400);
    for i in 0..n {
        let sent = Instant::now();
        sim.control()
            .send_event(&new_chat(10_000 + i as i64))
            .await?;
        let played = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Ok(EngineEvent::Sound(sound)) = events.recv().await {
                    return sound.outcome;
                }
            }
        })
        .await
        .context("no sound within 10 s")?;
        match played {
            SoundOutcome::Played(_) => samples.push(sent.elapsed()),
            SoundOutcome::Failed { error } => anyhow::bail!("the sound failed: {error}"),
        }
        tokio::time::sleep(pause).await;
    }
    engine.shutdown().await;
    sim.shutdown().await;
    Ok(Samples::from_durations(&samples))
}

/// The bare device: open cpal's default output as the engine does and wait for its first
/// callback; `n` times.
fn bare_device(n: usize) -> Result<Samples> {
    let mut samples = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let device = cpal::default_host()
            .default_output_device()
            .context("no audio device")?;
        let supported = device.default_output_config()?;
        let mut config = supported.config();
        if let cpal::SupportedBufferSize::Range { min, max } = supported.buffer_size() {
            config.buffer_size = cpal::BufferSize::Fixed(1024u32.clamp(*min, *max));
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let stream = device.build_output_stream(
            config,
            move |data: &mut [f32], _| {
                data.fill(0.0);
                let _ = tx.try_send(Instant::now());
            },
            |_| {},
            None,
        )?;
        stream.play()?;
        let first = rx.recv_timeout(Duration::from_secs(2))?;
        samples.push(first.duration_since(started));
        drop(stream);
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(Samples::from_durations(&samples))
}

/// (b) the CLI's wakeups per minute while idle and connected: with sounds (after one played)
/// and with `--no-sound`, side by side over the same span.
async fn wakeups(span: Duration) -> Result<(f64, f64)> {
    let sim = chatbell_sim::start(SimConfig::quiet()).await?;
    let (with_sound, _home1) = crate::listen(&sim.ws_url(), &[])?;
    let (silent, _home2) = crate::listen(&sim.ws_url(), &["--no-sound"])?;
    for cli in [&with_sound, &silent] {
        cli.stdout
            .wait_json(Duration::from_secs(10), |v| v["state"] == "online")
            .await
            .context("chatbell-cli never came online")?;
    }
    sim.control().send_event(&new_chat(1)).await?;
    with_sound
        .stdout
        .wait_json(Duration::from_secs(10), |v| {
            v["type"] == "sound" && v["outcome"]["result"] == "played"
        })
        .await
        .context("chatbell-cli played no sound")?;
    // Past the sound's end and the device's close.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let port = sim.addr().port();
    let (a, b) = tokio::join!(
        crate::footprint::idle(with_sound.pid(), port, span),
        crate::footprint::idle(silent.pid(), port, span)
    );
    drop((with_sound, silent));
    sim.shutdown().await;
    Ok((a?.1, b?.1))
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let n = scale.pick(3, 40);
    let engine = frame_to_sound(n).await?;
    let bare = tokio::task::spawn_blocking(move || bare_device(n)).await??;
    let span = Duration::from_secs(scale.pick(5, 60));
    let (sounds_on, no_sound) = wakeups(span).await?;
    Ok(vec![
        Figure::new(
            SECTION,
            "frame → first sample of the new-chat sound on the audio device, p50",
            engine.median(),
            "ms",
        )
        .baseline("bare device open → first callback p50", bare.median())
        .note(format!(
            "{n} new chats, one at a time; PulseAudio (null sink) through ALSA's pulse plugin; the device opened for each sound"
        )),
        Figure::new(
            SECTION,
            "frame → first sample of the new-chat sound on the audio device, p99",
            engine.percentile(99.0),
            "ms",
        )
        .baseline("bare device p99", bare.percentile(99.0))
        .goal(Goal::AtMost(50.0)),
        wakeups_over(
            Figure::new(
                SECTION,
                "chatbell-cli idle wakeups, sounds on (after one played)",
                sounds_on,
                "/min",
            )
            .baseline("--no-sound", no_sound)
            .note(format!(
                "context switches of all threads over {} s; an open stream would wake it \
                 every period",
                span.as_secs()
            )),
            span,
        ),
    ])
}
