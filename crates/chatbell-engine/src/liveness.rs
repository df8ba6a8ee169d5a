//! Is the connection alive, and did the machine just sleep?
//!
//! Pure bookkeeping over instants the caller passes in, so both are tested without waiting.

use std::time::{Duration, Instant, SystemTime};

/// Heartbeat settings: ping every `ping_interval`; a connection that has been silent (no frame,
/// no pong) for `dead_after` is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub ping_interval: Duration,
    pub dead_after: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat {
            ping_interval: Duration::from_secs(15),
            dead_after: Duration::from_secs(30),
        }
    }
}

/// Tracks when the peer was last heard from.
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    heartbeat: Heartbeat,
    last_heard: Instant,
}

impl Liveness {
    pub fn new(heartbeat: Heartbeat, now: Instant) -> Self {
        Liveness {
            heartbeat,
            last_heard: now,
        }
    }

    /// Any frame from the peer (data, ping, pong) proves it alive.
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// When the connection will be declared dead if nothing is heard.
    pub fn deadline(&self) -> Instant {
        self.last_heard + self.heartbeat.dead_after
    }

    pub fn is_dead(&self, now: Instant) -> bool {
        now >= self.deadline()
    }
}

/// Detects suspend/resume: the monotonic clock stops while the machine sleeps, the wall clock
/// does not. A gap between the two larger than `threshold` means the machine slept, and every
/// connection is presumed dead (NAT mappings and server sessions time out meanwhile).
#[derive(Debug, Clone, Copy)]
pub struct SleepDetector {
    threshold: Duration,
    last_mono: Instant,
    last_wall: SystemTime,
}

impl SleepDetector {
    pub fn new(threshold: Duration, mono: Instant, wall: SystemTime) -> Self {
        SleepDetector {
            threshold,
            last_mono: mono,
            last_wall: wall,
        }
    }

    /// Takes a sample of both clocks; returns how long the machine slept, if it did.
    pub fn sample(&mut self, mono: Instant, wall: SystemTime) -> Option<Duration> {
        let mono_elapsed = mono.saturating_duration_since(self.last_mono);
        // A wall clock set backwards is not a sleep.
        let wall_elapsed = wall.duration_since(self.last_wall).unwrap_or_default();
        self.last_mono = mono;
        self.last_wall = wall;
        let slept = wall_elapsed.saturating_sub(mono_elapsed);
        (slept > self.threshold).then_some(slept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_past_the_timeout_is_death_and_any_frame_revives() {
        let t0 = Instant::now();
        let mut l = Liveness::new(Heartbeat::default(), t0);
        let s = Duration::from_secs;
        let cases = [(s(0), false), (s(29), false), (s(30), true), (s(45), true)];
        for (after, dead) in cases {
            assert_eq!(l.is_dead(t0 + after), dead, "{after:?}");
        }
        l.heard(t0 + s(20));
        assert!(!l.is_dead(t0 + s(45)));
        assert_eq!(l.deadline(), t0 + s(50));
    }

    #[test]
    fn detects_sleep_from_wall_clock_running_ahead_of_monotonic() {
        let mono = Instant::now();
        let wall = SystemTime::now();
        let s = Duration::from_secs;
        let mut d = SleepDetector::new(s(10), mono, wall);
        // Normal tick: both clocks advance alike.
        assert_eq!(d.sample(mono + s(5), wall + s(5)), None);
        // Small NTP adjustment: ignored.
        assert_eq!(d.sample(mono + s(10), wall + s(12)), None);
        // Slept for an hour between samples.
        assert_eq!(d.sample(mono + s(15), wall + s(3617)), Some(s(3600)));
        // Wall clock set back: not a sleep.
        assert_eq!(d.sample(mono + s(20), wall + s(100)), None);
    }
}
