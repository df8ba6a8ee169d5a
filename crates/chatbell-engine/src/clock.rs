//! Time, injected. Code that decides by time (backoff, typing expiry, quiet hours, coalescing,
//! sleep detection) takes it from a [`Clock`] so tests can set it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Local, NaiveTime, Utc};

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
}

impl ManualClock {
    pub fn new(utc: DateTime<Utc>, local: NaiveTime) -> Self {
        ManualClock {
            inner: Arc::new(Mutex::new((Instant::now(), utc, local))),
            advanced: Arc::new(tokio::sync::Notify::new()),
        }
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
        Box::pin(async move {
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
