//! Where the engine's events go: a broadcast to every subscriber, and a short memory of the
//! notification decisions for the "why didn't I get a notification" diagnostic.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::model::{Diagnostic, EngineEvent};

/// Events a slow subscriber may fall behind by before it is told it lagged (then it reloads
/// its view from the store instead of replaying).
pub const EVENT_BUFFER: usize = 4096;
/// Decisions and deliveries remembered for diagnostics.
pub const DIAGNOSTIC_MEMORY: usize = 500;

#[derive(Clone)]
pub(crate) struct Outbox {
    tx: broadcast::Sender<EngineEvent>,
    recent: Arc<Mutex<VecDeque<Diagnostic>>>,
}

impl Outbox {
    pub fn new() -> Self {
        Outbox {
            tx: broadcast::channel(EVENT_BUFFER).0,
            recent: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    pub fn send(&self, event: EngineEvent) {
        let remember: Vec<Diagnostic> = match &event {
            // A burst decides thousands at once; the diagnostics keep the newest.
            EngineEvent::Decisions { decisions } => {
                let skip = decisions.len().saturating_sub(DIAGNOSTIC_MEMORY);
                decisions[skip..]
                    .iter()
                    .cloned()
                    .map(Diagnostic::Decision)
                    .collect()
            }
            EngineEvent::Delivery(d) => vec![Diagnostic::Delivery(d.clone())],
            EngineEvent::Forwarded(f) => vec![Diagnostic::Forward(f.clone())],
            _ => Vec::new(),
        };
        if !remember.is_empty() {
            let mut recent = crate::sync::lock(&self.recent);
            for d in remember {
                if recent.len() == DIAGNOSTIC_MEMORY {
                    recent.pop_front();
                }
                recent.push_back(d);
            }
        }
        // No subscriber is fine: the store already has everything.
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.tx.subscribe()
    }

    pub fn recent(&self) -> Vec<Diagnostic> {
        crate::sync::lock(&self.recent).iter().cloned().collect()
    }
}
