//! One target's deliveries, so that a slow or failing target never holds up the engine or the
//! other targets: a bounded queue (a forward that finds it full is dropped at once, with a
//! record), one delivery at a time, each tried again after a growing pause while the failure
//! is worth it ([`Failure::retry`]: a timeout, the network, the server's 5xx) until it has
//! waited [`GIVE_UP`], then dropped with a record. Every end is an [`Outcome`].

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::failure::Failure;
use super::request::{Event, Forward};
use crate::backoff::{Backoff, BackoffPolicy};

/// Forwards waiting for one target.
pub const QUEUE: usize = 64;
/// How long a forward is tried.
pub const GIVE_UP: Duration = Duration::from_secs(10 * 60);

/// How one forward ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered {
        attempts: u32,
    },
    /// Refused (a 4xx, a command that failed): not tried again.
    Refused {
        attempts: u32,
        why: Failure,
    },
    /// Failing still after [`GIVE_UP`].
    GaveUp {
        attempts: u32,
        why: Failure,
    },
    /// The queue was full.
    Dropped,
    /// Not sent (any more): what it was about no longer holds (the chat was opened).
    Withdrawn,
    /// Not final: the first try failed, and it is tried again.
    Retrying {
        why: Failure,
    },
}

impl Delivery {
    /// The forward's end (everything but [`Delivery::Retrying`]).
    pub fn is_final(&self) -> bool {
        !matches!(self, Delivery::Retrying { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub target: String,
    /// The submitter's tag for the forward.
    pub id: u64,
    pub event: Event,
    pub delivery: Delivery,
}

/// Whether a forward still means something when its turn (or its next try) comes.
pub type StillWanted = std::sync::Arc<dyn Fn(&Forward) -> bool + Send + Sync>;

/// The pauses between tries: 2 s, doubling, at most a minute.
fn policy() -> BackoffPolicy {
    BackoffPolicy {
        base: Duration::from_secs(2),
        cap: Duration::from_secs(60),
        ..BackoffPolicy::default()
    }
}

/// A target's queue: [`Queue::submit`] never waits. Dropped, it stops at once: what it still
/// held is not sent (a target removed or changed is not written to again with its old address).
pub struct Queue {
    target: String,
    forwards: mpsc::Sender<(u64, Forward)>,
    outcomes: mpsc::UnboundedSender<Outcome>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Queue {
    /// Delivers each forward with `send` while `wanted` says it still means something,
    /// reporting every end (and a first failed try) to `outcomes`.
    pub fn start<S, F>(
        target: &str,
        send: S,
        wanted: StillWanted,
        outcomes: mpsc::UnboundedSender<Outcome>,
    ) -> Queue
    where
        S: Fn(Forward) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), Failure>> + Send,
    {
        let (forwards, mut waiting) = mpsc::channel::<(u64, Forward)>(QUEUE);
        let (name, told) = (target.to_string(), outcomes.clone());
        let task = tokio::spawn(async move {
            while let Some((id, forward)) = waiting.recv().await {
                let event = forward.event;
                let tell = |delivery| {
                    let _ = told.send(Outcome {
                        target: name.clone(),
                        id,
                        event,
                        delivery,
                    });
                };
                let delivery = deliver(&send, &*wanted, forward, &tell).await;
                tell(delivery);
            }
        });
        Queue {
            target: target.into(),
            forwards,
            outcomes,
            task,
        }
    }

    /// Queues `forward` (tagged `id` in its outcomes); a full queue drops it (recorded), it
    /// never waits.
    pub fn submit(&self, id: u64, forward: Forward) {
        let event = forward.event;
        if self.forwards.try_send((id, forward)).is_err() {
            let _ = self.outcomes.send(Outcome {
                target: self.target.clone(),
                id,
                event,
                delivery: Delivery::Dropped,
            });
        }
    }
}

async fn deliver<S, F>(
    send: &S,
    wanted: &(dyn Fn(&Forward) -> bool + Send + Sync),
    forward: Forward,
    tell: &impl Fn(Delivery),
) -> Delivery
where
    S: Fn(Forward) -> F,
    F: Future<Output = Result<(), Failure>>,
{
    let queued = Instant::now();
    let mut backoff = Backoff::new(policy(), fastrand::Rng::new());
    let mut attempts = 0;
    loop {
        if !wanted(&forward) {
            return Delivery::Withdrawn;
        }
        attempts += 1;
        match send(forward.clone()).await {
            Ok(()) => return Delivery::Delivered { attempts },
            Err(why) if !why.retry() => return Delivery::Refused { attempts, why },
            Err(why) => {
                // The whole ceiling, as for the notification daemon: jitter spreads a fleet of
                // clients, and a target has one; a fixed schedule bounds the calls it gets.
                let pause = backoff.ceiling();
                backoff.next_delay();
                if queued.elapsed() + pause > GIVE_UP {
                    return Delivery::GaveUp { attempts, why };
                }
                if attempts == 1 {
                    tell(Delivery::Retrying { why });
                }
                tokio::time::sleep(pause).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn forward() -> Forward {
        Forward {
            event: Event::Test,
            title: "t".into(),
            text: "x".into(),
            click: None,
            chats: vec![],
            at: "2026-12-07T10:00:00Z".parse().unwrap(),
        }
    }

    fn always() -> StillWanted {
        Arc::new(|_| true)
    }

    /// What no longer means anything is not sent, nor tried again.
    #[tokio::test(start_paused = true)]
    async fn a_forward_no_longer_wanted_is_withdrawn() {
        let (tx, mut outcomes) = mpsc::unbounded_channel();
        let wanted = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let still = wanted.clone();
        let (calls, down) = target(u32::MAX, true);
        let queue = Queue::start(
            "lead",
            down,
            Arc::new(move |_| still.load(Ordering::SeqCst)),
            tx,
        );
        queue.submit(7, forward());
        assert!(!outcomes.recv().await.unwrap().delivery.is_final());
        wanted.store(false, Ordering::SeqCst);
        let end = outcomes.recv().await.unwrap();
        assert_eq!((end.id, end.delivery), (7, Delivery::Withdrawn));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// A 503 (worth a retry) or a 401 (not).
    fn failure(retry: bool) -> Failure {
        Failure::Post(crate::forward::http::PostError::Status(if retry {
            503
        } else {
            401
        }))
    }

    /// A target that fails `fails` times (worth a retry or not), then works.
    fn target(
        fails: u32,
        retry: bool,
    ) -> (
        Arc<AtomicU32>,
        impl Fn(Forward) -> std::future::Ready<Result<(), Failure>> + Send + Sync + 'static,
    ) {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let send = move |_| {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            std::future::ready(if n <= fails {
                Err(failure(retry))
            } else {
                Ok(())
            })
        };
        (calls, send)
    }

    #[tokio::test(start_paused = true)]
    async fn trouble_is_tried_again_a_refusal_is_not_and_after_ten_minutes_it_is_dropped() {
        let (tx, mut outcomes) = mpsc::unbounded_channel();

        let (_, flaky) = target(2, true);
        let queue = Queue::start("phone", flaky, always(), tx.clone());
        queue.submit(1, forward());
        let got = outcomes.recv().await.unwrap();
        assert!(matches!(got.delivery, Delivery::Retrying { .. }), "{got:?}");
        let got = outcomes.recv().await.unwrap();
        assert_eq!(got.delivery, Delivery::Delivered { attempts: 3 });
        assert_eq!(got.target, "phone");

        let (calls, refusing) = target(u32::MAX, false);
        let queue = Queue::start("lead", refusing, always(), tx.clone());
        queue.submit(2, forward());
        assert_eq!(
            outcomes.recv().await.unwrap().delivery,
            Delivery::Refused {
                attempts: 1,
                why: failure(false)
            }
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let (calls, down) = target(u32::MAX, true);
        let queue = Queue::start("hook", down, always(), tx.clone());
        let started = Instant::now();
        queue.submit(3, forward());
        let retrying = outcomes.recv().await.unwrap();
        assert!(!retrying.delivery.is_final());
        let Delivery::GaveUp { attempts, .. } = outcomes.recv().await.unwrap().delivery else {
            panic!("not given up");
        };
        let took = started.elapsed();
        assert!(took <= GIVE_UP, "gave up after {took:?}");
        assert!(
            took >= GIVE_UP - policy().cap,
            "gave up early, after {took:?}"
        );
        // 2, 4, … 32 s, then a minute each: 14 tries in ten minutes, not hundreds.
        assert_eq!(attempts, 14);
        assert_eq!(calls.load(Ordering::SeqCst), attempts);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_drops_at_once_and_says_so() {
        let (tx, mut outcomes) = mpsc::unbounded_channel();
        // A target that never answers: the first forward is taken and holds the queue.
        let (taken, taken_rx) = tokio::sync::oneshot::channel::<()>();
        let taken = std::sync::Mutex::new(Some(taken));
        let hanging = move |_| {
            if let Some(t) = taken.lock().unwrap().take() {
                let _ = t.send(());
            }
            std::future::pending::<Result<(), Failure>>()
        };
        let queue = Queue::start("slow", hanging, always(), tx);
        queue.submit(1, forward());
        taken_rx.await.unwrap();
        for _ in 0..QUEUE {
            queue.submit(1, forward());
        }
        queue.submit(1, forward());
        assert_eq!(outcomes.recv().await.unwrap().delivery, Delivery::Dropped);
    }
}
