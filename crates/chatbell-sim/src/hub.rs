//! Who is connected, what each one asked for, and delivery to them.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chatbell_protocol::{ClientAction, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Utf8Bytes;

pub type ClientId = u64;

/// A fault to inject into client connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Drop the TCP connection with a reset, no close handshake.
    Reset,
    /// Close with this WebSocket close code and reason.
    Close {
        code: u16,
        #[serde(default)]
        reason: String,
    },
    /// Keep TCP open but send nothing and answer no pings for this long.
    Stall { ms: u64 },
    /// Send this many frames that break the protocol.
    Malformed { count: u32 },
}

/// What a client's task is asked to send.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Frame(Utf8Bytes),
    /// Generate `count` events from `seed` and send them as fast as the socket takes them.
    Burst {
        count: u64,
        seed: u64,
    },
}

/// A connected client, as `GET /clients` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientInfo {
    pub id: ClientId,
    pub peer: String,
    pub connected_at: DateTime<Utc>,
    /// The subscription set; empty means every event.
    pub filters: Vec<UserId>,
    /// Frames written to the socket.
    pub sent: u64,
    /// Events not queued because this client's queue was full (a stalled or slow client).
    pub dropped: u64,
    /// In a `stall` fault right now: neither reading nor writing.
    #[serde(default)]
    pub stalled: bool,
}

#[derive(Debug, Default)]
pub(crate) struct ClientStats {
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub stalled: AtomicBool,
}

struct Entry {
    peer: String,
    connected_at: DateTime<Utc>,
    filters: BTreeSet<UserId>,
    frames: mpsc::Sender<Outgoing>,
    faults: mpsc::Sender<Fault>,
    stats: Arc<ClientStats>,
}

impl Entry {
    /// Protocol reading 10: an empty set means all events; otherwise only the listed users'.
    /// An event that names no user reaches only unfiltered clients.
    fn wants(&self, user_id: Option<UserId>) -> bool {
        self.filters.is_empty() || user_id.is_some_and(|id| self.filters.contains(&id))
    }
}

/// What a new client's task receives from the hub.
pub(crate) struct Registration {
    pub id: ClientId,
    pub frames: mpsc::Receiver<Outgoing>,
    pub faults: mpsc::Receiver<Fault>,
    pub stats: Arc<ClientStats>,
}

/// The registry of connected clients. Held only for short, non-async sections.
pub struct Hub {
    clients: Mutex<HashMap<ClientId, Entry>>,
    next_id: AtomicU64,
    queue: usize,
}

impl Hub {
    /// `queue` bounds each client's outgoing queue; when it is full, new events for that
    /// client are dropped and counted (a stalled client must not grow the server's memory).
    pub fn new(queue: usize) -> Self {
        Hub {
            clients: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            queue,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientId, Entry>> {
        // A panic in another holder leaves the map consistent (every write is one insert or
        // remove), so a poisoned lock is still usable.
        self.clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn register(&self, peer: String) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (frames_tx, frames) = mpsc::channel(self.queue);
        let (faults_tx, faults) = mpsc::channel(16);
        let stats = Arc::new(ClientStats::default());
        let entry = Entry {
            peer,
            connected_at: Utc::now(),
            filters: BTreeSet::new(),
            frames: frames_tx,
            faults: faults_tx,
            stats: stats.clone(),
        };
        self.lock().insert(id, entry);
        Registration {
            id,
            frames,
            faults,
            stats,
        }
    }

    pub(crate) fn unregister(&self, id: ClientId) {
        self.lock().remove(&id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn apply(&self, id: ClientId, action: ClientAction) {
        if let Some(entry) = self.lock().get_mut(&id) {
            match action {
                ClientAction::Subscribe { user_id } => entry.filters.insert(user_id),
                ClientAction::Unsubscribe { user_id } => entry.filters.remove(&user_id),
            };
        }
    }

    /// Queues a frame for every client that wants events of `user_id`; returns how many.
    pub fn deliver(&self, frame: Utf8Bytes, user_id: Option<UserId>) -> usize {
        let clients = self.lock();
        let mut delivered = 0;
        for entry in clients.values().filter(|e| e.wants(user_id)) {
            match entry.frames.try_send(Outgoing::Frame(frame.clone())) {
                Ok(()) => delivered += 1,
                Err(_) => {
                    entry.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        delivered
    }

    /// Asks clients (all, or one) to send a burst; returns how many accepted it.
    pub fn burst(&self, count: u64, seed: u64, client: Option<ClientId>) -> usize {
        let clients = self.lock();
        clients
            .iter()
            .filter(|(id, _)| client.is_none_or(|c| c == **id))
            .filter(|(_, e)| e.frames.try_send(Outgoing::Burst { count, seed }).is_ok())
            .count()
    }

    /// Injects a fault into clients (all, or one); returns how many accepted it.
    pub fn fault(&self, fault: &Fault, client: Option<ClientId>) -> usize {
        let clients = self.lock();
        clients
            .iter()
            .filter(|(id, _)| client.is_none_or(|c| c == **id))
            .filter(|(_, e)| e.faults.try_send(fault.clone()).is_ok())
            .count()
    }

    pub fn clients(&self) -> Vec<ClientInfo> {
        let clients = self.lock();
        let mut list: Vec<ClientInfo> = clients
            .iter()
            .map(|(id, e)| ClientInfo {
                id: *id,
                peer: e.peer.clone(),
                connected_at: e.connected_at,
                filters: e.filters.iter().copied().collect(),
                sent: e.stats.sent.load(Ordering::Relaxed),
                dropped: e.stats.dropped.load(Ordering::Relaxed),
                stalled: e.stats.stalled.load(Ordering::Relaxed),
            })
            .collect();
        list.sort_by_key(|c| c.id);
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_sets_follow_protocol_reading_10() {
        let hub = Hub::new(8);
        let mut a = hub.register("a".into());
        let mut b = hub.register("b".into());
        hub.apply(b.id, ClientAction::Subscribe { user_id: 1 });
        hub.apply(b.id, ClientAction::Subscribe { user_id: 2 });
        hub.apply(b.id, ClientAction::Subscribe { user_id: 2 });

        assert_eq!(hub.deliver("x".into(), Some(1)), 2);
        assert_eq!(
            hub.deliver("x".into(), Some(3)),
            1,
            "b is filtered to users 1 and 2"
        );
        assert_eq!(
            hub.deliver("x".into(), None),
            1,
            "events naming no user reach unfiltered clients only"
        );

        hub.apply(b.id, ClientAction::Unsubscribe { user_id: 1 });
        assert_eq!(hub.deliver("x".into(), Some(1)), 1);
        hub.apply(b.id, ClientAction::Unsubscribe { user_id: 2 });
        assert_eq!(
            hub.deliver("x".into(), Some(3)),
            2,
            "unsubscribing the last filter returns to all"
        );

        assert_eq!(std::iter::from_fn(|| a.frames.try_recv().ok()).count(), 5);
        assert_eq!(std::iter::from_fn(|| b.frames.try_recv().ok()).count(), 2);
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let hub = Hub::new(2);
        let reg = hub.register("slow".into());
        for _ in 0..5 {
            hub.deliver("x".into(), Some(1));
        }
        let info = &hub.clients()[0];
        assert_eq!(info.dropped, 3);
        assert_eq!(reg.stats.dropped.load(Ordering::Relaxed), 3);
        hub.unregister(reg.id);
        assert!(hub.is_empty());
    }
}
