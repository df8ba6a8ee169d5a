//! Whether the notification server works, and when a failing one may be asked again.

use std::time::{Duration, Instant};

use super::NotifyError;
use crate::backoff::{Backoff, BackoffPolicy};

/// Retries of a failing daemon: after 1 s, 2 s, 4 s, 8 s, then every 10 s. A dead daemon costs
/// a call per 10 s at most (and only while notifications come); one that comes back is used
/// again within 10 s.
pub(super) fn daemon_backoff() -> BackoffPolicy {
    BackoffPolicy {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(10),
        ..BackoffPolicy::default()
    }
}

/// Whether the notification server works, and when a failing one may be asked again.
///
/// A missing, erroring or hung daemon used to be asked for every notification (issue 9: 1,273
/// calls and as many log lines in 30 s). After a failed call, notifications fail at once with
/// that error, without a call, until the backoff ends; the next one is the probe, and a success
/// resets the backoff. Pure: time is an argument.
#[derive(Debug)]
pub(super) struct DaemonHealth {
    backoff: Backoff,
    down: Option<Down>,
}

#[derive(Debug)]
struct Down {
    error: NotifyError,
    retry_at: Instant,
}

/// What a call's outcome changed: one log line per change, not per notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Worked, and had worked before.
    Steady,
    /// Failed after working.
    Failed { retry_in: Duration },
    /// Failed again.
    FailedAgain { retry_in: Duration },
    /// Worked after failing.
    Recovered,
}

impl DaemonHealth {
    pub fn new() -> Self {
        DaemonHealth {
            backoff: Backoff::new(daemon_backoff(), fastrand::Rng::new()),
            down: None,
        }
    }

    /// `Ok` when a call may be made now; the last failure while the daemon is known to be down
    /// and its retry is not yet due.
    pub fn admit(&self, now: Instant) -> Result<(), NotifyError> {
        match &self.down {
            Some(down) if now < down.retry_at => Err(down.error.clone()),
            _ => Ok(()),
        }
    }

    /// Records how a call that was made went.
    pub fn record(&mut self, outcome: Result<(), &NotifyError>, now: Instant) -> Change {
        match outcome {
            Ok(()) => {
                self.backoff.reset();
                match self.down.take() {
                    Some(_) => Change::Recovered,
                    None => Change::Steady,
                }
            }
            Err(error) => {
                // The whole ceiling, not a jittered part of it: jitter spreads a fleet of
                // clients, and a daemon has one. A fixed schedule bounds the calls it gets.
                let retry_in = self.backoff.ceiling();
                self.backoff.next_delay();
                let down = Down {
                    error: error.clone(),
                    retry_at: now + retry_in,
                };
                match self.down.replace(down) {
                    Some(_) => Change::FailedAgain { retry_in },
                    None => Change::Failed { retry_in },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn a_failing_daemon_is_retried_on_a_doubling_schedule_and_reset_by_a_success() {
        let gone = NotifyError::NoServer("gone".into());
        let t0 = Instant::now();
        let mut health = DaemonHealth::new();
        assert!(health.admit(t0).is_ok(), "a daemon is presumed to work");
        // (seconds from the start, outcome of a call made then, what it changed); after each
        // failure, notifications are turned away until the retry is due, and only until then.
        let failed = |s| Change::Failed { retry_in: secs(s) };
        let again = |s| Change::FailedAgain { retry_in: secs(s) };
        let table: &[(f64, Result<(), &NotifyError>, Change)] = &[
            (0.0, Ok(()), Change::Steady),
            (0.0, Err(&gone), failed(1.0)),
            (1.0, Err(&gone), again(2.0)),
            (3.0, Err(&gone), again(4.0)),
            (7.0, Err(&gone), again(8.0)),
            (15.0, Err(&gone), again(10.0)),
            (25.0, Err(&gone), again(10.0)),
            (35.0, Ok(()), Change::Recovered),
            (35.0, Ok(()), Change::Steady),
            (36.0, Err(&gone), failed(1.0)),
        ];
        for (at, outcome, change) in table {
            let now = t0 + secs(*at);
            assert_eq!(health.record(*outcome, now), *change, "at {at} s");
            if let Change::Failed { retry_in } | Change::FailedAgain { retry_in } = change {
                let before = health.admit(now + *retry_in - secs(0.001));
                assert_eq!(before.unwrap_err().to_string(), gone.to_string());
                assert!(
                    health.admit(now + *retry_in).is_ok(),
                    "retried at {at} s + {retry_in:?}"
                );
            } else {
                assert!(health.admit(now).is_ok());
            }
        }
    }
}
