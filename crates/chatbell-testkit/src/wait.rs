//! Waiting for what a test expects, written once: a check is asked again until it holds or
//! the time is up, and a wait that runs out says what it waited for and what it saw last.
//!
//! A check answers `Ok(value)` once it holds and `Err(seen)` with what it saw instead, so a
//! timeout reads "the tray menu reads \"Nobody waiting\": not within 15s; last seen: …" rather
//! than a bare "timed out". Wait for something that proves the system got there (an event, a
//! line, a file), never for time to pass.

use std::fmt::{self, Debug, Display};
use std::time::{Duration, Instant};

/// The first pause between looks: most waits on loopback end within milliseconds.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The pause doubles up to this, so that a long wait on a costly check (a screenshot, a D-Bus
/// round trip, a WebDriver script) does not load the machine that is to get there.
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// A wait that ran out: what was awaited, for how long, and the check's last answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut {
    pub what: String,
    pub within: Duration,
    /// The last `Err(seen)`, `{:#?}`-printed.
    pub last: String,
}

impl Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: not within {:?}; last seen: {}",
            self.what, self.within, self.last
        )
    }
}

impl std::error::Error for TimedOut {}

/// What a check saw, printed as it is on a timeout (a `String` would be quoted and its lines
/// escaped): for multi-line output such as a process's stdout.
pub struct Text(pub String);

impl Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The looks of one wait: when the next is due, and when the time is up.
struct Looks<'a> {
    what: &'a str,
    within: Duration,
    deadline: Instant,
    pause: Duration,
}

impl<'a> Looks<'a> {
    fn new(what: &'a str, within: Duration) -> Self {
        Looks {
            what,
            within,
            deadline: Instant::now() + within,
            pause: FIRST_PAUSE,
        }
    }

    /// After a look that saw `seen`: the pause before the next, or the timeout. The last look
    /// is at the deadline itself, so a check that holds by then passes.
    fn again(&mut self, seen: &dyn Debug) -> Result<Duration, TimedOut> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TimedOut {
                what: self.what.to_string(),
                within: self.within,
                last: format!("{seen:#?}"),
            });
        }
        let pause = self.pause.min(left);
        self.pause = (self.pause * 2).min(MAX_PAUSE);
        Ok(pause)
    }
}

/// Asks `check` until it answers `Ok` (returned) or `within` has passed (then the timeout,
/// with `what` and the last thing seen).
pub async fn try_eventually<T, S: Debug>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Result<T, S>,
) -> Result<T, TimedOut> {
    let mut looks = Looks::new(what, within);
    loop {
        match check().await {
            Ok(value) => return Ok(value),
            Err(seen) => tokio::time::sleep(looks.again(&seen)?).await,
        }
    }
}

/// [`try_eventually`], failing the test on timeout with `what` and the last thing seen.
pub async fn eventually<T, S: Debug>(
    what: &str,
    within: Duration,
    check: impl AsyncFnMut() -> Result<T, S>,
) -> T {
    try_eventually(what, within, check)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// [`try_eventually`] for a thread without an async runtime (it sleeps the thread).
pub fn try_eventually_blocking<T, S: Debug>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Result<T, S>,
) -> Result<T, TimedOut> {
    let mut looks = Looks::new(what, within);
    loop {
        match check() {
            Ok(value) => return Ok(value),
            Err(seen) => std::thread::sleep(looks.again(&seen)?),
        }
    }
}

/// [`try_eventually_blocking`], failing the test on timeout.
pub fn eventually_blocking<T, S: Debug>(
    what: &str,
    within: Duration,
    check: impl FnMut() -> Result<T, S>,
) -> T {
    try_eventually_blocking(what, within, check).unwrap_or_else(|e| panic!("{e}"))
}

/// Waits until the value a watch channel holds satisfies `pred`, woken by each change (no
/// polling); fails the test with `what` and the last value seen when `within` runs out.
pub async fn watch_until<T: Clone + Debug>(
    what: &str,
    rx: &mut tokio::sync::watch::Receiver<T>,
    within: Duration,
    pred: impl Fn(&T) -> bool,
) -> T {
    let found = tokio::time::timeout(within, async {
        loop {
            let current = rx.borrow_and_update().clone();
            if pred(&current) {
                return current;
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("never {what} within {within:?}; last {:?}", *rx.borrow()))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn gives_the_value_once_the_check_holds() {
        let mut looks = 0;
        let got = eventually("the third look", Duration::from_secs(5), async || {
            looks += 1;
            if looks == 3 {
                Ok(looks * 10)
            } else {
                Err(looks)
            }
        })
        .await;
        assert_eq!((got, looks), (30, 3));
    }

    #[tokio::test]
    async fn a_timeout_names_what_was_awaited_and_the_last_thing_seen() {
        let started = Instant::now();
        let mut n = 0;
        let timeout = try_eventually(
            "the count reaches 1000",
            Duration::from_millis(120),
            async || {
                n += 1;
                Err::<(), _>(format!("count {n}"))
            },
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(120));
        assert_eq!(timeout.what, "the count reaches 1000");
        assert_eq!(timeout.last, format!("\"count {n}\""), "the very last look");
        assert!(n >= 3, "looked again and again: {n}");
        assert_eq!(
            timeout.to_string(),
            format!("the count reaches 1000: not within 120ms; last seen: \"count {n}\"")
        );
    }

    #[test]
    fn a_check_that_holds_at_once_does_not_wait_and_a_zero_wait_looks_once() {
        let started = Instant::now();
        assert_eq!(
            try_eventually_blocking("at once", Duration::ZERO, || Ok::<_, ()>(7)),
            Ok(7)
        );
        let mut looks = 0;
        let timeout = try_eventually_blocking("never", Duration::ZERO, || {
            looks += 1;
            Err::<(), _>(looks)
        })
        .unwrap_err();
        assert_eq!((looks, timeout.last.as_str()), (1, "1"));
        assert!(started.elapsed() < Duration::from_millis(100));
    }
}
