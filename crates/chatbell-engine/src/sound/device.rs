//! The audio output through cpal (ALSA on Linux — which reaches PipeWire or PulseAudio through
//! their ALSA plugins —, CoreAudio on macOS, WASAPI on Windows). The only file that knows cpal.
//!
//! A stream is opened for one sound and closed when it has played: while nothing plays,
//! Chatbell holds no audio device (an open stream wakes the process every period).

use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, FromSample, SampleFormat, SizedSample, StreamConfig};

use super::{SoundError, Tone};

/// Frames per device period asked for: 21 ms at 48 kHz. The device's default can be seconds,
/// and PulseAudio's ALSA plugin starts playing only once that much is buffered.
const PERIOD_FRAMES: u32 = 1024;
/// How long the device may take to ask for its first samples.
const START_WITHIN: Duration = Duration::from_secs(2);

/// What one sound did on the device.
pub(super) struct Played {
    pub device: String,
    /// When the device took the first samples.
    pub first_sample: Instant,
}

/// The default output device's name and format, without playing (for `doctor`).
pub(super) fn probe() -> Result<String, SoundError> {
    let device = default_device()?;
    let config = device.default_output_config().map_err(open_error)?;
    Ok(format!(
        "{} ({} Hz, {} ch)",
        name(&device),
        config.sample_rate(),
        config.channels()
    ))
}

/// Plays `tone` on the default output device and returns once it has played out.
/// `on_first` runs when the device takes the first samples (while the rest still plays).
pub(super) fn play(
    tone: Tone,
    volume: u8,
    on_first: impl FnOnce(Instant, &str),
) -> Result<Played, SoundError> {
    let device = default_device()?;
    let supported = device.default_output_config().map_err(open_error)?;
    let mut config = supported.config();
    if let cpal::SupportedBufferSize::Range { min, max } = supported.buffer_size() {
        config.buffer_size = cpal::BufferSize::Fixed(PERIOD_FRAMES.clamp(*min, *max));
    }
    let samples = tone.render(config.sample_rate, volume);
    let length = samples.len();
    let rate = config.sample_rate;
    let (first_tx, first_rx) = sync_channel(1);
    let (done_tx, done_rx) = sync_channel(1);
    let failure = Arc::new(Mutex::new(None::<String>));
    let feed = Feed {
        samples,
        pos: 0,
        channels: usize::from(config.channels.max(1)),
        first: Some(first_tx),
        done: Some(done_tx),
    };
    let stream = match supported.sample_format() {
        SampleFormat::F32 => open::<f32>(&device, config, feed, failure.clone()),
        SampleFormat::I16 => open::<i16>(&device, config, feed, failure.clone()),
        SampleFormat::I32 => open::<i32>(&device, config, feed, failure.clone()),
        SampleFormat::U16 => open::<u16>(&device, config, feed, failure.clone()),
        SampleFormat::F64 => open::<f64>(&device, config, feed, failure.clone()),
        other => Err(SoundError::Open(format!(
            "unsupported sample format {other}"
        ))),
    }?;
    stream.play().map_err(|e| SoundError::Open(e.to_string()))?;
    let device_name = name(&device);
    let first_sample = first_rx
        .recv_timeout(START_WITHIN)
        .map_err(|_| stalled(&failure, START_WITHIN))?;
    on_first(first_sample, &device_name);
    let sound = Duration::from_secs_f64(length as f64 / f64::from(rate));
    let limit = sound + START_WITHIN;
    done_rx
        .recv_timeout(limit)
        .map_err(|_| stalled(&failure, limit))?;
    // The last samples are in the device's buffer (and the sound server's): let them play
    // before the stream is dropped, which discards them.
    std::thread::sleep(
        Duration::from_secs_f64(f64::from(PERIOD_FRAMES) * 2.0 / f64::from(rate))
            + Duration::from_millis(60),
    );
    drop(stream);
    // PulseAudio's ALSA plugin reports errors (EIO from `snd_pcm_avail_delay`) on streams
    // that play on to the end, heard whole in the tests' recordings: a sound that played out
    // counts as played, and what was reported only goes to the debug log.
    if let Some(error) = crate::sync::lock(&failure).take() {
        tracing::debug!(%error, "the audio stream reported an error, and played on");
    }
    Ok(Played {
        device: device_name,
        first_sample,
    })
}

fn default_device() -> Result<cpal::Device, SoundError> {
    cpal::default_host()
        .default_output_device()
        .ok_or_else(|| SoundError::NoDevice("the audio system lists no output device".into()))
}

fn name(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.name().to_string())
        .unwrap_or_else(|_| "default".into())
}

fn open_error(e: cpal::Error) -> SoundError {
    match e.kind() {
        ErrorKind::DeviceNotAvailable | ErrorKind::HostUnavailable => {
            SoundError::NoDevice(e.to_string())
        }
        _ => SoundError::Open(e.to_string()),
    }
}

/// A sound that did not play through: the stream's own error if it reported one.
fn stalled(failure: &Mutex<Option<String>>, limit: Duration) -> SoundError {
    match crate::sync::lock(failure).take() {
        Some(error) => SoundError::Stream(error),
        None => SoundError::Stalled(limit),
    }
}

/// What the device's callback reads from: the tone, then silence.
struct Feed {
    samples: Vec<f32>,
    pos: usize,
    channels: usize,
    first: Option<std::sync::mpsc::SyncSender<Instant>>,
    done: Option<std::sync::mpsc::SyncSender<()>>,
}

impl Feed {
    fn fill<T: SizedSample + FromSample<f32>>(&mut self, data: &mut [T]) {
        if let Some(first) = self.first.take() {
            let _ = first.try_send(Instant::now());
        }
        for frame in data.chunks_mut(self.channels) {
            let v = self.samples.get(self.pos).copied().unwrap_or(0.0);
            self.pos += 1;
            for s in frame {
                *s = T::from_sample(v);
            }
        }
        if self.pos >= self.samples.len()
            && let Some(done) = self.done.take()
        {
            let _ = done.try_send(());
        }
    }
}

fn open<T: SizedSample + FromSample<f32>>(
    device: &cpal::Device,
    config: StreamConfig,
    mut feed: Feed,
    failure: Arc<Mutex<Option<String>>>,
) -> Result<cpal::Stream, SoundError> {
    device
        .build_output_stream(
            config,
            move |data: &mut [T], _| feed.fill(data),
            move |e| {
                crate::sync::lock(&failure).get_or_insert_with(|| e.to_string());
            },
            Some(START_WITHIN),
        )
        .map_err(open_error)
}
