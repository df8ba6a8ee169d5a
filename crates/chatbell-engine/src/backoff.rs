//! Reconnect delays: exponential with full jitter.
//!
//! Full jitter (a uniform delay in `[0, min(cap, base * 2^attempt)]`) spreads a fleet of clients
//! that lost the server at the same moment, so they do not return in lockstep. The first retry
//! comes within `base` (1 s); the ceiling is `cap` (30 s); after a connection has stayed healthy
//! for `reset_after`, the next failure starts again from the first step.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub base: Duration,
    pub cap: Duration,
    pub reset_after: Duration,
    /// Delay after the server refused the token (401/403): no point in hammering it.
    pub unauthorized: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
            reset_after: Duration::from_secs(60),
            unauthorized: Duration::from_secs(300),
        }
    }
}

/// Where a client is in its sequence of retries.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
    rng: fastrand::Rng,
}

impl Backoff {
    pub fn new(policy: BackoffPolicy, rng: fastrand::Rng) -> Self {
        Backoff {
            policy,
            attempt: 0,
            rng,
        }
    }

    /// Failed attempts since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The ceiling of the next delay, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        self.policy.base.saturating_mul(factor).min(self.policy.cap)
    }

    /// The delay before the next attempt; counts the failure.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let ms = ceiling.as_millis() as u64;
        Duration::from_millis(self.rng.u64(0..=ms))
    }

    /// A connection ended after being up for `uptime`: a healthy one resets the sequence.
    pub fn connection_ended(&mut self, uptime: Duration) {
        if uptime >= self.policy.reset_after {
            self.attempt = 0;
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn unauthorized_delay(&self) -> Duration {
        self.policy.unauthorized
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(seed: u64) -> Backoff {
        Backoff::new(BackoffPolicy::default(), fastrand::Rng::with_seed(seed))
    }

    #[test]
    fn ceilings_double_from_one_second_to_the_cap() {
        let mut b = backoff(1);
        let ceilings: Vec<u64> = (0..8)
            .map(|_| {
                let c = b.ceiling().as_secs();
                b.next_delay();
                c
            })
            .collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 30, 30, 30]);
        for _ in 0..100 {
            b.next_delay();
        }
        assert_eq!(
            b.ceiling(),
            Duration::from_secs(30),
            "no overflow after many attempts"
        );
    }

    #[test]
    fn delays_are_full_jitter_within_the_ceiling() {
        for seed in 0..200 {
            let mut b = backoff(seed);
            assert!(
                b.next_delay() <= Duration::from_secs(1),
                "first retry within 1 s"
            );
            for _ in 0..10 {
                let ceiling = b.ceiling();
                assert!(b.next_delay() <= ceiling);
            }
        }
        // Jitter actually spreads: 200 first delays are not all alike.
        let firsts: std::collections::HashSet<_> =
            (0..200).map(|s| backoff(s).next_delay()).collect();
        assert!(firsts.len() > 150);
    }

    #[test]
    fn a_healthy_connection_resets_the_sequence_and_a_short_one_does_not() {
        let mut b = backoff(3);
        for _ in 0..5 {
            b.next_delay();
        }
        b.connection_ended(Duration::from_secs(5));
        assert_eq!(b.attempt(), 5);
        b.connection_ended(Duration::from_secs(61));
        assert_eq!(b.attempt(), 0);
        assert!(b.next_delay() <= Duration::from_secs(1));
    }
}
