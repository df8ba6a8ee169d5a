//! Time, injected. Code that decides by time (backoff, typing expiry, quiet hours, coalescing,
//! sleep detection) takes it from a [`Clock`] so tests can set it.
//!
//! The wall clock can step either way while the monotonic clock runs on: forward after a
//! suspend (which the monotonic clock does not count), back after an NTP correction, a manual
//! change or a VM's resync. Whatever waits for a wall-clock time (a reminder step, a snooze's
//! end, the offline alarm's threshold) measures on a [`Steady`] timeline, which follows the
//! first and ignores the second: stepped back two hours, a customer must not wait two more
//! hours unnoticed.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Local, NaiveTime, TimeDelta, Utc};

pub trait Clock: Send + Sync + 'static {
    /// Monotonic time: for durations and deadlines.
    fn mono(&self) -> Instant;
    /// Wall-clock time, UTC.
    fn utc(&self) -> DateTime<Utc>;
    /// The local time of day, for quiet hours.
    fn local_time(&self) -> NaiveTime;
    fn system(&self) -> SystemTime {
        self.utc().into()
    }
    /// Resolves once `mono()` reaches `deadline`. Waiting on this clock rather than on the
    /// runtime's lets a test move time by hand and see what is due happen, without sleeping.
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
            deadline,
        )))
    }
}

/// Sleeps until `deadline` on `clock`, or forever when there is none: the arm of a `select!`
/// that has nothing to wait for runs no timer.
pub async fn sleep_or_pending(clock: &dyn Clock, deadline: Option<Instant>) {
    match deadline {
        Some(at) => clock.sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A wall-clock deadline is slept toward at most this long at a time: a monotonic sleep does
/// not see the wall clock step (a suspend stops the monotonic clock), so a hold that ends at a
/// wall time is looked at again this often, and only while one is pending.
pub const WALL_RECHECK: Duration = Duration::from_secs(60);

/// The monotonic instant at which a wall-clock time `left` from now falls, slept toward at
/// most [`WALL_RECHECK`] at a time.
pub fn wall_deadline(clock: &dyn Clock, left: Duration) -> Instant {
    clock.mono() + left.min(WALL_RECHECK)
}

/// A timeline in wall-clock terms that runs with the monotonic clock and follows the wall
/// clock forward, but never back: when the wall clock has gone further than the monotonic one
/// (a suspend, a step forward) the timeline jumps with it, and otherwise it runs on with the
/// monotonic clock, so it never decreases (stepped forward and then corrected back, it stays
/// where it was and runs on). A wall time read from outside (a stamp in the store, a snooze's
/// end) is placed on it once, when first seen ([`Steady::place`]), at the distance from now the
/// wall clock gives; from then on it is measured against [`Steady::now`]. Placed again later,
/// after the wall clock stepped back, it would land later: keep what `place` returned.
#[derive(Debug)]
pub struct Steady {
    anchor: Mutex<Anchor>,
}

/// Where the timeline was last set: its time then, and both clocks' readings then.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    steady: DateTime<Utc>,
    wall: DateTime<Utc>,
    mono: Instant,
}

impl Steady {
    pub fn new(clock: &dyn Clock) -> Self {
        let wall = clock.utc();
        Steady {
            anchor: Mutex::new(Anchor {
                steady: wall,
                wall,
                mono: clock.mono(),
            }),
        }
    }

    pub fn now(&self, clock: &dyn Clock) -> DateTime<Utc> {
        let (mono, wall) = (clock.mono(), clock.utc());
        let mut anchor = crate::sync::lock(&self.anchor);
        let by_mono = TimeDelta::from_std(mono.saturating_duration_since(anchor.mono))
            .unwrap_or(TimeDelta::MAX);
        let by_wall = wall - anchor.wall;
        let at = |by: TimeDelta| {
            anchor
                .steady
                .checked_add_signed(by)
                .unwrap_or(anchor.steady)
        };
        if by_wall > by_mono {
            // The wall clock went further: follow it, and measure from here on.
            *anchor = Anchor {
                steady: at(by_wall),
                wall,
                mono,
            };
            anchor.steady
        } else {
            at(by_mono)
        }
    }

    /// `wall`, a wall-clock time seen just now, on this timeline.
    pub fn place(&self, wall: DateTime<Utc>, clock: &dyn Clock) -> DateTime<Utc> {
        let now = self.now(clock);
        now.checked_add_signed(wall - clock.utc()).unwrap_or(now)
    }

    /// A stamp of something that has happened (a message received, a connection lost), seen
    /// just now: placed as [`Steady::place`], but never after now. Stamped just before the wall
    /// clock stepped back and seen just after, it would otherwise land in the future.
    pub fn place_past(&self, wall: DateTime<Utc>, clock: &dyn Clock) -> DateTime<Utc> {
        self.place(wall, clock).min(self.now(clock))
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn mono(&self) -> Instant {
        Instant::now()
    }
    fn utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn local_time(&self) -> NaiveTime {
        Local::now().time()
    }
    fn system(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<(Instant, DateTime<Utc>, NaiveTime)>>,
    advanced: Arc<tokio::sync::Notify>,
    /// The deadlines slept toward now: a test waits for a task to have scheduled something
    /// (a barrier) before it moves time past it.
    sleepers: tokio::sync::watch::Sender<Vec<Instant>>,
}

/// Takes a deadline off the sleepers when its sleep ends or is dropped.
struct Sleeper {
    sleepers: tokio::sync::watch::Sender<Vec<Instant>>,
    deadline: Instant,
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        self.sleepers.send_modify(|all| {
            if let Some(i) = all.iter().position(|d| *d == self.deadline) {
                all.swap_remove(i);
            }
        });
    }
}

impl ManualClock {
    pub fn new(utc: DateTime<Utc>, local: NaiveTime) -> Self {
        ManualClock {
            inner: Arc::new(Mutex::new((Instant::now(), utc, local))),
            advanced: Arc::new(tokio::sync::Notify::new()),
            sleepers: tokio::sync::watch::Sender::new(Vec::new()),
        }
    }

    /// Waits until some task sleeps toward a deadline `after` from now (monotonic). A task
    /// sleeping toward a wall-clock deadline further away sleeps [`WALL_RECHECK`] at a time:
    /// then this waits for its first step.
    pub async fn sleeping(&self, after: Duration) {
        let deadline = self.mono() + after.min(WALL_RECHECK);
        let mut sleepers = self.sleepers.subscribe();
        let _ = sleepers.wait_for(|all| all.contains(&deadline)).await;
    }

    /// Waits until some task sleeps toward the monotonic deadline exactly `after` from now, a
    /// sleep that is not toward a wall-clock time (so not cut to [`WALL_RECHECK`]).
    pub async fn sleeping_exactly(&self, after: Duration) {
        let deadline = self.mono() + after;
        let mut sleepers = self.sleepers.subscribe();
        let _ = sleepers.wait_for(|all| all.contains(&deadline)).await;
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.inner.lock().unwrap();
        t.0 += by;
        t.1 += by;
        t.2 =
            t.2.overflowing_add_signed(chrono::Duration::from_std(by).unwrap())
                .0;
        drop(t);
        self.advanced.notify_waiters();
    }

    /// Steps the wall clock (UTC and local time) by `by`, back when negative, while the
    /// monotonic clock stands: an NTP correction, a clock changed by hand, a suspend.
    pub fn step_wall(&self, by: TimeDelta) {
        let mut t = self.inner.lock().unwrap();
        t.1 += by;
        t.2 = t.2.overflowing_add_signed(by).0;
        drop(t);
        self.advanced.notify_waiters();
    }

    pub fn set_local_time(&self, local: NaiveTime) {
        self.inner.lock().unwrap().2 = local;
        self.advanced.notify_waiters();
    }
}

impl Clock for ManualClock {
    fn mono(&self) -> Instant {
        self.inner.lock().unwrap().0
    }
    fn utc(&self) -> DateTime<Utc> {
        self.inner.lock().unwrap().1
    }
    fn local_time(&self) -> NaiveTime {
        self.inner.lock().unwrap().2
    }
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let clock = self.clone();
        self.sleepers.send_modify(|all| all.push(deadline));
        let sleeper = Sleeper {
            sleepers: self.sleepers.clone(),
            deadline,
        };
        Box::pin(async move {
            let _sleeper = sleeper;
            loop {
                // Registered before the check: an advance in between still wakes it.
                let advanced = clock.advanced.notified();
                if clock.mono() >= deadline {
                    return;
                }
                advanced.await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> ManualClock {
        ManualClock::new(
            DateTime::from_timestamp(1_772_452_800, 0).unwrap(),
            NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        )
    }

    #[test]
    fn the_steady_timeline_runs_on_when_the_wall_clock_steps_back() {
        let clock = clock();
        let steady = Steady::new(&clock);
        let since = steady.place(clock.utc(), &clock);
        clock.advance(Duration::from_secs(60));
        clock.step_wall(TimeDelta::hours(-2));
        clock.advance(Duration::from_secs(60));
        assert_eq!(steady.now(&clock) - since, TimeDelta::minutes(2));
        // Seen after the step, a time is placed at its distance from now.
        let later = steady.place(clock.utc() - TimeDelta::seconds(5), &clock);
        assert_eq!(steady.now(&clock) - later, TimeDelta::seconds(5));
        // A stamp from before the step, first seen after it, is no later than now.
        let stamped = clock.utc() + TimeDelta::hours(2) - TimeDelta::seconds(1);
        assert_eq!(steady.place_past(stamped, &clock), steady.now(&clock));
    }

    #[test]
    fn the_steady_timeline_follows_the_wall_clock_forward() {
        let clock = clock();
        let steady = Steady::new(&clock);
        let since = steady.place(clock.utc(), &clock);
        // A suspend: the wall clock went on, the monotonic one did not.
        clock.step_wall(TimeDelta::days(3));
        assert_eq!(steady.now(&clock) - since, TimeDelta::days(3));
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            steady.now(&clock) - since,
            TimeDelta::days(3) + TimeDelta::seconds(1)
        );
    }

    #[test]
    fn the_steady_timeline_never_goes_back_after_a_step_forward_is_corrected() {
        let clock = clock();
        let steady = Steady::new(&clock);
        clock.step_wall(TimeDelta::hours(1));
        let ahead = steady.now(&clock);
        clock.step_wall(TimeDelta::hours(-1));
        assert_eq!(steady.now(&clock), ahead, "stays where it was");
        clock.advance(Duration::from_secs(30));
        assert_eq!(
            steady.now(&clock) - ahead,
            TimeDelta::seconds(30),
            "and runs on"
        );
    }

    #[test]
    fn a_time_placed_before_the_start_keeps_its_distance() {
        let clock = clock();
        let steady = Steady::new(&clock);
        let stored = clock.utc() - TimeDelta::minutes(7);
        let placed = steady.place(stored, &clock);
        clock.step_wall(TimeDelta::hours(-1));
        assert_eq!(steady.now(&clock) - placed, TimeDelta::minutes(7));
    }
}
