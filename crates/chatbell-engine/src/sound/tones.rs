//! Chatbell's own sounds, synthesized here: the code is the recording. They are the project's
//! own work, under the project's licence (MIT OR Apache-2.0), and cost no files or decoders.
//!
//! Each tone is a few notes of decaying partials with a short attack (no clicks), rendered at
//! the output device's own rate, so nothing is resampled. Pure: the samples depend only on the
//! tone, the rate and the volume.

use std::f32::consts::TAU;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The built-in sounds, by stable key (settings name them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Two rising notes, soft: a new chat.
    Chime,
    /// One struck bell, ringing out.
    Bell,
    /// A short rising blip: a new message.
    Pop,
    /// Two low knocks.
    Knock,
    /// Three rising beeps, twice: a reminder that someone still waits.
    Alarm,
}

/// One note: starts at `at` seconds, lasts `len`, sounds `freq` Hz with partials
/// `(multiple of freq, relative amplitude)`, decaying with time constant `decay` seconds.
struct Note {
    at: f32,
    len: f32,
    freq: f32,
    partials: &'static [(f32, f32)],
    decay: f32,
}

const SOFT: &[(f32, f32)] = &[(1.0, 1.0), (2.0, 0.25), (3.0, 0.08)];
/// A struck bell's partials are not harmonic; these are a small bell's.
const BELL: &[(f32, f32)] = &[(1.0, 1.0), (2.76, 0.45), (5.4, 0.2), (8.93, 0.08)];
const PURE: &[(f32, f32)] = &[(1.0, 1.0)];
const HOLLOW: &[(f32, f32)] = &[(1.0, 1.0), (1.5, 0.5), (2.5, 0.2)];
const BEEP: &[(f32, f32)] = &[(1.0, 1.0), (3.0, 0.15)];

const fn note(at: f32, len: f32, freq: f32, partials: &'static [(f32, f32)], decay: f32) -> Note {
    Note {
        at,
        len,
        freq,
        partials,
        decay,
    }
}

const CHIME: &[Note] = &[
    note(0.0, 0.22, 880.0, SOFT, 0.09),
    note(0.16, 0.34, 1318.5, SOFT, 0.12),
];
const BELL_NOTES: &[Note] = &[note(0.0, 1.3, 1046.5, BELL, 0.35)];
const POP: &[Note] = &[
    note(0.0, 0.09, 740.0, PURE, 0.03),
    note(0.045, 0.1, 1108.7, PURE, 0.03),
];
const KNOCK: &[Note] = &[
    note(0.0, 0.07, 180.0, HOLLOW, 0.018),
    note(0.13, 0.07, 180.0, HOLLOW, 0.018),
];
const ALARM: &[Note] = &[
    note(0.0, 0.11, 987.8, BEEP, 0.2),
    note(0.15, 0.11, 1174.7, BEEP, 0.2),
    note(0.3, 0.11, 1396.9, BEEP, 0.2),
    note(0.55, 0.11, 987.8, BEEP, 0.2),
    note(0.7, 0.11, 1174.7, BEEP, 0.2),
    note(0.85, 0.11, 1396.9, BEEP, 0.2),
];

/// Attack and release ramps: long enough that no note starts or stops with a click.
const RAMP: f32 = 0.004;

impl Tone {
    pub const ALL: [Tone; 5] = [Tone::Chime, Tone::Bell, Tone::Pop, Tone::Knock, Tone::Alarm];

    fn notes(self) -> &'static [Note] {
        match self {
            Tone::Chime => CHIME,
            Tone::Bell => BELL_NOTES,
            Tone::Pop => POP,
            Tone::Knock => KNOCK,
            Tone::Alarm => ALARM,
        }
    }

    /// How long the tone sounds, from its first sample to its last.
    pub fn duration(self) -> Duration {
        let end = self
            .notes()
            .iter()
            .map(|n| n.at + n.len)
            .fold(0.0f32, f32::max);
        Duration::from_secs_f32(end)
    }

    /// The tone as mono samples at `rate` Hz, its loudest sample at `volume` (0–100 on a
    /// perceptual curve: half the slider is a quarter of the amplitude).
    pub fn render(self, rate: u32, volume: u8) -> Vec<f32> {
        let rate_f = rate as f32;
        let len = (self.duration().as_secs_f32() * rate_f).round() as usize;
        let mut out = vec![0.0f32; len];
        for n in self.notes() {
            let start = (n.at * rate_f) as usize;
            let count = ((n.len * rate_f) as usize).min(len.saturating_sub(start));
            for i in 0..count {
                let t = i as f32 / rate_f;
                let ramp = (t / RAMP).min((n.len - t) / RAMP).clamp(0.0, 1.0);
                let env = ramp * (-t / n.decay).exp();
                let wave: f32 = n
                    .partials
                    .iter()
                    .map(|(mult, amp)| amp * (TAU * n.freq * mult * t).sin())
                    .sum();
                out[start + i] += env * wave;
            }
        }
        let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let v = f32::from(volume.min(100)) / 100.0;
        let gain = if peak > 0.0 { v * v / peak } else { 0.0 };
        for s in &mut out {
            *s *= gain;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(s: &[f32]) -> f32 {
        s.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    #[test]
    fn every_tone_is_as_long_as_it_says_loud_as_asked_and_starts_and_ends_quietly() {
        for tone in Tone::ALL {
            for rate in [44_100, 48_000] {
                let s = tone.render(rate, 100);
                let expected = tone.duration().as_secs_f64() * f64::from(rate);
                assert!(
                    (s.len() as f64 - expected).abs() <= 1.0,
                    "{tone:?} at {rate}"
                );
                assert!(
                    (peak(&s) - 1.0).abs() < 1e-4,
                    "{tone:?} peaks at full scale"
                );
                // No click: the first and last quarter milliseconds stay far below the peak.
                let q = rate as usize / 4000;
                assert!(peak(&s[..q]) < 0.15, "{tone:?} starts softly");
                assert!(peak(&s[s.len() - q..]) < 0.15, "{tone:?} ends softly");
            }
            let half = tone.render(48_000, 50);
            assert!(
                (peak(&half) - 0.25).abs() < 1e-4,
                "{tone:?}: half the slider"
            );
            assert_eq!(peak(&tone.render(48_000, 0)), 0.0, "{tone:?}: volume 0");
            assert!((peak(&tone.render(48_000, 255)) - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn tones_differ_from_each_other() {
        let durations: Vec<Duration> = Tone::ALL.iter().map(|t| t.duration()).collect();
        for (i, a) in durations.iter().enumerate() {
            for b in &durations[i + 1..] {
                let (a, b) = (a.as_secs_f64(), b.as_secs_f64());
                // The sound tests tell tones apart by duration in a recording.
                assert!((a - b).abs() / a.max(b) > 0.25, "{a} s vs {b} s");
            }
        }
    }
}
