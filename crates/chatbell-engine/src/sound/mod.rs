//! Chatbell's own sounds: the tones (`tones.rs`), the audio output (`device.rs`), and the
//! player thread that opens the device for each sound and closes it after.
//!
//! Sounds play on a thread of their own: opening a device can take tens of milliseconds, or
//! hang on a broken sound server, and neither may hold up the engine or the UI. Requests
//! beyond a short queue are dropped (an alert sound that comes seconds late is no alert). A
//! failing device is reported once when it starts failing, not for every sound.

mod device;
mod tones;

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::clock::Clock;

pub use tones::Tone;

/// What a sound is for; each has its own tone in settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoundKind {
    NewChat,
    NewMessage,
    /// The reminders while a customer waits, and the alarm when Chatbell goes offline.
    Escalation,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoundError {
    #[error("no audio device: {0}")]
    NoDevice(String),
    #[error("the audio device cannot be opened: {0}")]
    Open(String),
    #[error("the audio stream failed: {0}")]
    Stream(String),
    #[error("the audio device did not play within {0:?}")]
    Stalled(Duration),
    #[error("sounds are off in this process")]
    Off,
    #[error("the sound player is busy with earlier sounds")]
    Busy,
}

/// How one sound played.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayReport {
    pub device: String,
    pub tone: Tone,
    /// From the request to the device taking the first samples.
    pub first_sample_ms: f64,
    pub duration_ms: u32,
}

/// Whether sounds reach the audio device: as the device said at the start, then as the last
/// sound found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AudioStatus {
    /// Not asked yet (or sounds are off in this process).
    #[default]
    Unknown,
    Working {
        device: String,
    },
    Failing {
        error: String,
        since: DateTime<Utc>,
    },
}

/// The default output device, named with its format, or why there is none (for `doctor`;
/// opens the device's configuration, plays nothing).
pub fn probe_device() -> Result<String, SoundError> {
    device::probe()
}

type OnFirst = Box<dyn FnOnce(&PlayReport) + Send>;
type OnEnd = Box<dyn FnOnce(Ended) + Send>;

/// How a sound ended.
pub(crate) struct Ended {
    pub result: Result<PlayReport, SoundError>,
    /// The first failed sound since one last played (or since the start): the one to report.
    pub newly_failing: bool,
}

struct Job {
    tone: Tone,
    volume: u8,
    queued: Instant,
    on_first: Option<OnFirst>,
    on_end: OnEnd,
}

/// Sounds queued before more are dropped.
const QUEUE: usize = 4;

/// The handle to the sound thread. The thread blocks on its queue while idle: no timer, no
/// device, no wakeups.
#[derive(Clone)]
pub(crate) struct Player {
    jobs: SyncSender<Job>,
    status: Arc<Mutex<AudioStatus>>,
}

impl Player {
    /// Starts the thread, which first asks the device whether it is there; `probed` answers
    /// when it has (the engine waits for it a little, so its first alert knows).
    pub fn start(clock: Arc<dyn Clock>) -> std::io::Result<(Player, oneshot::Receiver<()>)> {
        let (jobs, rx) = sync_channel(QUEUE);
        let (probed_tx, probed) = oneshot::channel();
        let status = Arc::new(Mutex::new(AudioStatus::Unknown));
        let thread_status = status.clone();
        std::thread::Builder::new()
            .name("chatbell-sound".into())
            .spawn(move || run(rx, thread_status, clock, probed_tx))?;
        Ok((Player { jobs, status }, probed))
    }

    /// Queues a sound. `on_first` runs when the device takes its first samples, `on_end` when
    /// it has played (or failed). Fails at once when the queue is full.
    pub fn play(
        &self,
        tone: Tone,
        volume: u8,
        on_first: Option<OnFirst>,
        on_end: OnEnd,
    ) -> Result<(), SoundError> {
        let job = Job {
            tone,
            volume,
            queued: Instant::now(),
            on_first,
            on_end,
        };
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(SoundError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(SoundError::Off),
        }
    }

    /// Plays a sound and waits until it has played.
    pub async fn play_now(&self, tone: Tone, volume: u8) -> Result<PlayReport, SoundError> {
        let (tx, rx) = oneshot::channel();
        self.play(
            tone,
            volume,
            None,
            Box::new(move |ended: Ended| {
                let _ = tx.send(ended.result);
            }),
        )?;
        rx.await.map_err(|_| SoundError::Off)?
    }

    pub fn status(&self) -> AudioStatus {
        crate::sync::lock(&self.status).clone()
    }

    /// Whether sounds are known to reach the device (until the start's probe has answered,
    /// and while they fail, the notification server is asked for its sound too).
    pub fn working(&self) -> bool {
        matches!(self.status(), AudioStatus::Working { .. })
    }
}

fn run(
    jobs: Receiver<Job>,
    status: Arc<Mutex<AudioStatus>>,
    clock: Arc<dyn Clock>,
    probed: oneshot::Sender<()>,
) {
    let set = |new: AudioStatus| *crate::sync::lock(&status) = new;
    let failing = |status: &Mutex<AudioStatus>| {
        matches!(*crate::sync::lock(status), AudioStatus::Failing { .. })
    };
    // Ask the device once at the start, so the first alert already knows whether the
    // notification server must sound instead of us.
    match device::probe() {
        Ok(device) => set(AudioStatus::Working { device }),
        Err(e) => {
            warn_failing(&e);
            set(AudioStatus::Failing {
                error: e.to_string(),
                since: clock.utc(),
            });
        }
    }
    let _ = probed.send(());
    // A failed sound has been reported, and none has played since.
    let mut reported = false;
    while let Ok(job) = jobs.recv() {
        let Job {
            tone,
            volume,
            queued,
            on_first,
            on_end,
        } = job;
        let duration_ms = tone.duration().as_millis() as u32;
        let report = |first: Instant, device: &str| PlayReport {
            device: device.to_string(),
            tone,
            first_sample_ms: first.saturating_duration_since(queued).as_secs_f64() * 1000.0,
            duration_ms,
        };
        let mut first_report = None;
        let played = device::play(tone, volume, |first, device| {
            let r = report(first, device);
            if let Some(on_first) = on_first {
                on_first(&r);
            }
            first_report = Some(r);
        });
        let result =
            played.map(|p| first_report.unwrap_or_else(|| report(p.first_sample, &p.device)));
        let was_failing = failing(&status);
        let newly_failing = match &result {
            Ok(r) => {
                if was_failing {
                    tracing::info!(device = %r.device, "sounds play again");
                }
                set(AudioStatus::Working {
                    device: r.device.clone(),
                });
                reported = false;
                false
            }
            Err(e) => {
                if was_failing {
                    tracing::debug!(error = %e, "a sound failed again");
                } else {
                    warn_failing(e);
                    set(AudioStatus::Failing {
                        error: e.to_string(),
                        since: clock.utc(),
                    });
                }
                !std::mem::replace(&mut reported, true)
            }
        };
        on_end(Ended {
            result,
            newly_failing,
        });
    }
}

fn warn_failing(e: &SoundError) {
    tracing::warn!(
        error = %e,
        "sounds cannot be played: notifications still show, and ask the notification server \
         for its sound until a sound plays again"
    );
}
