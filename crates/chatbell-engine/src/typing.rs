//! Who is typing. `user_typing` has no "stopped" event, so an indicator expires on its own
//! some seconds after the last one, or at once when the user's message arrives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatbell_protocol::UserId;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, sleep_or_pending};
use crate::model::EngineEvent;
use crate::outbox::Outbox;
use crate::sync::lock;

/// How long one `user_typing` keeps the indicator on.
pub const TYPING_TTL: Duration = Duration::from_secs(6);

#[derive(Debug, Default)]
pub struct Typing {
    until: HashMap<UserId, Instant>,
}

impl Typing {
    /// A `user_typing` arrived; returns true if the indicator was off.
    pub fn start(&mut self, user_id: UserId, now: Instant) -> bool {
        self.until
            .insert(user_id, now + TYPING_TTL)
            .is_none_or(|until| until <= now)
    }

    /// The user's message arrived; returns true if the indicator was on.
    pub fn stop(&mut self, user_id: UserId, now: Instant) -> bool {
        self.until.remove(&user_id).is_some_and(|until| until > now)
    }

    pub fn is_typing(&self, user_id: UserId, now: Instant) -> bool {
        self.until.get(&user_id).is_some_and(|until| *until > now)
    }

    /// Removes and returns the indicators that have run out.
    pub fn expire(&mut self, now: Instant) -> Vec<UserId> {
        let gone: Vec<UserId> = self
            .until
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(u, _)| *u)
            .collect();
        for user in &gone {
            self.until.remove(user);
        }
        gone
    }

    /// When the next indicator runs out.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.until.values().min().copied()
    }
}

/// Turns typing indicators off when they run out: sleeps on the engine's clock until the next
/// one does, and runs no timer while nobody types.
pub(crate) async fn expire(
    typing: Arc<Mutex<Typing>>,
    changed: Arc<Notify>,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
) {
    loop {
        let next = lock(&typing).next_expiry();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = changed.notified() => continue,
            _ = sleep_or_pending(&*clock, next) => {}
        }
        let expired = lock(&typing).expire(clock.mono());
        for user_id in expired {
            outbox.send(EngineEvent::Typing {
                user_id,
                typing: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_expires_after_the_ttl_and_is_renewed_by_each_event() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut t = Typing::default();
        assert!(t.start(1, t0));
        assert!(!t.start(1, t0 + s(4)), "already on");
        assert!(t.is_typing(1, t0 + s(9)), "renewed at 4 s, lasts to 10 s");
        assert_eq!(t.next_expiry(), Some(t0 + s(10)));
        assert_eq!(t.expire(t0 + s(9)), Vec::<UserId>::new());
        assert_eq!(t.expire(t0 + s(10)), vec![1]);
        assert!(!t.is_typing(1, t0 + s(10)));
        assert!(t.start(1, t0 + s(11)), "on again");
    }

    #[test]
    fn a_message_stops_typing_at_once() {
        let t0 = Instant::now();
        let mut t = Typing::default();
        t.start(7, t0);
        assert!(t.stop(7, t0 + Duration::from_secs(1)));
        assert!(!t.is_typing(7, t0 + Duration::from_secs(1)));
        assert!(!t.stop(7, t0 + Duration::from_secs(1)), "already off");
        assert_eq!(t.next_expiry(), None);
    }
}
