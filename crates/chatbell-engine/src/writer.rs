//! The writer thread: batches what the connection hands over, commits it, and only then
//! tells anyone (UI events, notification decisions). A crash after a notification can
//! therefore never lose the event it was about.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatbell_protocol::{Envelope, ParseError, UserId};
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_util::sync::CancellationToken;

use crate::backoff::{Backoff, BackoffPolicy};
use crate::clock::{Clock, Steady};
use crate::coalesce::Incoming;
use crate::forwarder::ForwardMsg;
use crate::model::{
    Alert, AlertLevel, Decision, EngineEvent, Focus, ForwardRecord, NotifyKind, Outcome,
    StoreUpdate,
};
use crate::notifier::ServiceMsg;
use crate::outbox::Outbox;
use crate::policy::{self, ChatHolds, Mutes};
use crate::settings::{NotificationSettings, Settings};
use crate::store::{Applied, Input, Removed, StoreError, Writer, retention_cutoff};
use crate::typing::Typing;

/// Frames committed in one transaction at most. Large enough that a burst pays the per-batch
/// costs (commit, search-index flush, summaries) once per thousands of events; a lone event is
/// committed alone, at once.
pub const MAX_BATCH: usize = 4096;

/// How soon after a write the writer hands back the memory writing used, once nothing is
/// queued: SQLite's page cache (up to `cache_size`, 16 MB) and the batch's buffer. Without it
/// a burst leaves the process at its peak for the rest of the day: `chatbell-cli listen`
/// measured 47.5 MiB PSS a minute after 50,000 events (12 MiB before them), 35.1 MiB with it
/// (`docs/footprint.md`).
pub const RELEASE_AFTER: Duration = Duration::from_secs(10);

/// What the writer logs (debug) when it has handed memory back.
pub const RELEASED: &str = "handed back the memory of the last writes";

/// Retries of a batch the disk refused (full, read-only, locked by another program).
const WRITE_RETRY: BackoffPolicy = BackoffPolicy {
    base: Duration::from_millis(100),
    cap: Duration::from_secs(5),
    reset_after: Duration::ZERO,
    unauthorized: Duration::ZERO,
};

/// How the writer ended: what it could not write while stopping, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterExit {
    /// Frames received but not stored, because the store kept refusing them while the
    /// engine was stopping.
    pub unwritten: usize,
    /// The last store error (or the writer's crash), if any.
    pub error: Option<String>,
}

/// The writer's inbox: what the connection received, and the engine's requests, in order.
pub(crate) enum WriterMsg {
    Inbound(Inbound),
    MarkRead {
        user_id: UserId,
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    Focus(Focus),
    Snooze {
        user_id: UserId,
        until: Option<DateTime<Utc>>,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    Retention {
        days: u32,
        reply: oneshot::Sender<Result<Removed, StoreError>>,
    },
    /// How a forward ended, kept for `doctor`.
    Forwarded(Box<ForwardRecord>),
    Shutdown,
}

impl WriterMsg {
    /// Whether carrying it out writes to the store (and so fills the page cache that
    /// `RELEASE_AFTER` hands back).
    fn writes(&self) -> bool {
        match self {
            WriterMsg::Inbound(_)
            | WriterMsg::MarkRead { .. }
            | WriterMsg::Snooze { .. }
            | WriterMsg::Retention { .. }
            | WriterMsg::Forwarded(_) => true,
            WriterMsg::Focus(_) | WriterMsg::Shutdown => false,
        }
    }
}

/// What the connection hands to the writer, in order.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// Parsed here, on the reading task, so the writer's thread only writes.
    Frame {
        text: Utf8Bytes,
        received_at: DateTime<Utc>,
        parsed: Option<Result<Envelope, ParseError>>,
    },
    Connected {
        at: DateTime<Utc>,
    },
    Disconnected {
        at: DateTime<Utc>,
    },
}

impl Inbound {
    /// The store's view of it, borrowing the text: the owned frame stays here until its batch
    /// is committed (a refused batch is retried). `take_parsed` hands over what the
    /// connection parsed; a retry parses again.
    fn as_input(&mut self, take_parsed: bool) -> Input<'_> {
        match self {
            Inbound::Frame {
                text,
                received_at,
                parsed,
            } => Input::Frame {
                text: text.as_str(),
                received_at: *received_at,
                parsed: if take_parsed { parsed.take() } else { None },
            },
            Inbound::Connected { at } => Input::Connected { at: *at },
            Inbound::Disconnected { at } => Input::Disconnected { at: *at },
        }
    }
}

pub(crate) struct WriterShared {
    pub outbox: Outbox,
    pub typing: Arc<Mutex<Typing>>,
    pub typing_changed: Arc<Notify>,
    pub notify: Option<mpsc::Sender<ServiceMsg>>,
    /// New chats for the forwarding targets that take them.
    pub forward: Option<mpsc::Sender<ForwardMsg>>,
    pub clock: Arc<dyn Clock>,
    /// The engine's runtime: the writer's own thread waits on the clock's timers through it.
    pub runtime: tokio::runtime::Handle,
    /// Cancelled when the engine stops: from then on a refused batch is not retried.
    pub stopping: CancellationToken,
    /// Told after every change of who waits (new messages, read, snoozed, removed).
    pub waiting_changed: Arc<Notify>,
}

/// What the writer's thread waits for next.
enum Next {
    Message(WriterMsg),
    /// Time to hand back memory: writes happened and nothing is queued.
    Idle,
    /// Everyone who could send is gone.
    Closed,
}

pub(crate) struct WriterLoop {
    writer: Option<Writer>,
    shared: WriterShared,
    /// The published settings; `policy` and `mutes` are what the policy takes of them,
    /// renewed when they change.
    settings: watch::Receiver<Settings>,
    policy: NotificationSettings,
    mutes: Mutes,
    /// The timeline snooze and mute ends are measured on, so a wall clock stepped back does
    /// not stretch them.
    steady: Steady,
    focus: Focus,
    rx: mpsc::Receiver<WriterMsg>,
    exit: WriterExit,
    /// The store is refusing writes (reported once per stretch, not per retry).
    failing: bool,
    /// Snoozed chats, as the store has them (their ends placed on `steady`): read at start,
    /// kept in step with every snooze.
    snoozes: HashMap<UserId, DateTime<Utc>>,
}

impl WriterLoop {
    pub fn new(
        writer: Writer,
        shared: WriterShared,
        mut settings: watch::Receiver<Settings>,
        rx: mpsc::Receiver<WriterMsg>,
    ) -> Self {
        let snoozes = writer.snoozes().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading the snoozed chats");
            Vec::new()
        });
        let clock = &*shared.clock;
        let steady = Steady::new(clock);
        let policy = settings.borrow_and_update().notifications.clone();
        let mut mutes = Mutes::default();
        mutes.follow(&policy.mutes, |t| steady.place(t, clock));
        WriterLoop {
            snoozes: snoozes
                .into_iter()
                .map(|(user, until)| (user, steady.place(until, clock)))
                .collect(),
            writer: Some(writer),
            settings,
            policy,
            mutes,
            steady,
            shared,
            focus: Focus::default(),
            rx,
            exit: WriterExit::default(),
            failing: false,
        }
    }

    fn writer(&self) -> &Writer {
        self.writer
            .as_ref()
            .expect("the writer lives until shutdown")
    }

    pub fn run(mut self) -> WriterExit {
        let mut batch: Vec<Inbound> = Vec::new();
        let mut pending: Option<WriterMsg> = None;
        // Set by the first write since memory was last handed back; later writes leave it, so
        // steady traffic still hands memory back every `RELEASE_AFTER`.
        let mut release_at: Option<std::time::Instant> = None;
        loop {
            let msg = match pending.take() {
                Some(msg) => msg,
                None => match self.next(release_at) {
                    Next::Message(msg) => msg,
                    Next::Idle => {
                        release_at = None;
                        batch = Vec::new();
                        self.release_memory();
                        continue;
                    }
                    Next::Closed => break,
                },
            };
            if msg.writes() {
                release_at.get_or_insert_with(|| self.shared.clock.mono() + RELEASE_AFTER);
            }
            match msg {
                WriterMsg::Inbound(first) => {
                    batch.push(first);
                    // Take whatever else is already queued, up to a batch; stop at the first
                    // command so commands keep their place in the order.
                    while batch.len() < MAX_BATCH {
                        match self.rx.try_recv() {
                            Ok(WriterMsg::Inbound(next)) => batch.push(next),
                            Ok(other) => {
                                pending = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit(&mut batch);
                }
                WriterMsg::MarkRead { user_id, reply } => {
                    let result = self
                        .writer()
                        .mark_chat_read(user_id)
                        .and_then(|_| self.writer().unread_total());
                    if result.is_ok() {
                        self.snoozes.remove(&user_id);
                        self.shared.waiting_changed.notify_one();
                    }
                    let _ = reply.send(result);
                }
                WriterMsg::Snooze {
                    user_id,
                    until,
                    reply,
                } => {
                    let result = self.writer().snooze(user_id, until);
                    if let Ok(true) = result {
                        match until {
                            Some(until) => {
                                let placed = self.steady.place(until, &*self.shared.clock);
                                self.snoozes.insert(user_id, placed)
                            }
                            None => self.snoozes.remove(&user_id),
                        };
                        self.shared.waiting_changed.notify_one();
                    }
                    let _ = reply.send(result);
                }
                WriterMsg::Focus(focus) => self.focus = focus,
                WriterMsg::Retention { days, reply } => {
                    let cutoff = retention_cutoff(self.shared.clock.utc(), days);
                    let _ = reply.send(self.writer().remove_older_than(cutoff));
                    self.shared.waiting_changed.notify_one();
                }
                WriterMsg::Forwarded(record) => {
                    if let Err(e) = self.writer().record_forward(&record) {
                        tracing::warn!(error = %e, "a forward's record was not kept");
                    }
                }
                WriterMsg::Shutdown => break,
            }
        }
        if let Some(writer) = self.writer.take()
            && let Err(e) = writer.close(self.shared.clock.utc())
        {
            tracing::error!(error = %e, "closing the store");
            self.exit.error.get_or_insert_with(|| e.to_string());
        }
        self.exit
    }

    /// The next message; with writes not yet followed by a release, `Idle` once `release_at`
    /// comes with nothing queued (a queued message always goes first).
    fn next(&mut self, release_at: Option<std::time::Instant>) -> Next {
        let Some(deadline) = release_at else {
            return self.rx.blocking_recv().map_or(Next::Closed, Next::Message);
        };
        let clock = self.shared.clock.clone();
        let rx = &mut self.rx;
        // As in `pause`: this thread is not one of the runtime's.
        self.shared.runtime.block_on(async move {
            tokio::select! {
                biased;
                msg = rx.recv() => msg.map_or(Next::Closed, Next::Message),
                () = clock.sleep_until(deadline) => Next::Idle,
            }
        })
    }

    /// Hands back what the last writes used and no longer need.
    fn release_memory(&mut self) {
        let writer = self
            .writer
            .as_mut()
            .expect("the writer lives until shutdown");
        match writer.release_memory() {
            Ok(()) => tracing::debug!("{RELEASED}"),
            Err(e) => tracing::debug!(error = %e, "releasing the store's cache"),
        }
    }

    /// Commits a batch, retrying while the disk refuses (full, read-only, locked): frames are
    /// held, not dropped, and the connection stops reading until they are written. Once the
    /// engine is stopping, a refused batch is given up at once (and counted), so that a full
    /// disk cannot keep the process from exiting.
    fn commit(&mut self, batch: &mut Vec<Inbound>) {
        // The first attempt takes the frames as the reader parsed them; a retry parses again.
        let mut inputs: Vec<Input<'_>> = batch.iter_mut().map(|i| i.as_input(true)).collect();
        let mut retry = Backoff::new(WRITE_RETRY, fastrand::Rng::new());
        let applied = loop {
            let focus = self.focus;
            match self.writer.as_mut().expect("writer").apply(inputs, focus) {
                Ok(applied) => break applied,
                Err(e) => {
                    let error = e.to_string();
                    if !self.failing {
                        self.failing = true;
                        tracing::error!(%error, frames = batch.len(), "cannot write to the store; holding the frames and retrying");
                        self.shared.outbox.send(EngineEvent::StoreFailed {
                            error: error.clone(),
                        });
                    }
                    if self.shared.stopping.is_cancelled() {
                        tracing::error!(%error, frames = batch.len(), "stopping: these frames could not be stored");
                        self.exit.unwritten += batch.len();
                        self.exit.error = Some(error);
                        batch.clear();
                        return;
                    }
                    self.pause(retry.next_delay());
                    inputs = batch.iter_mut().map(|i| i.as_input(false)).collect();
                }
            }
        };
        if std::mem::take(&mut self.failing) {
            tracing::info!("the store accepts writes again");
        }
        batch.clear();
        if let Err(e) = self.publish(applied) {
            tracing::error!(error = %e, "reading back a committed batch");
        }
    }

    /// Waits before a retry, on the engine's clock, but not past the engine starting to stop.
    fn pause(&self, delay: Duration) {
        let clock = self.shared.clock.clone();
        let stopping = self.shared.stopping.clone();
        // This thread is not one of the runtime's, so blocking it on the runtime is allowed;
        // the timer is made inside, where the runtime's time driver is found.
        self.shared.runtime.block_on(async move {
            tokio::select! {
                () = clock.sleep_until(clock.mono() + delay) => {}
                () = stopping.cancelled() => {}
            }
        });
    }

    /// Tells everyone what the committed batch changed: typing, the store update, then the
    /// notification decisions.
    fn publish(&mut self, applied: Applied) -> Result<(), StoreError> {
        let now = self.shared.clock.mono();
        let outbox = &self.shared.outbox;
        {
            let mut typing = crate::sync::lock(&self.shared.typing);
            let mut changed = false;
            for &(user_id, on) in &applied.typing {
                let flipped = if on {
                    typing.start(user_id, now)
                } else {
                    typing.stop(user_id, now)
                };
                if flipped {
                    outbox.send(EngineEvent::Typing {
                        user_id,
                        typing: on,
                    });
                }
                changed |= on || flipped;
            }
            if changed {
                self.shared.typing_changed.notify_one();
            }
        }
        let typing = &self.shared.typing;
        let is_typing = |user| crate::sync::lock(typing).is_typing(user, now);
        let chats = self
            .writer()
            .chats_by_id(&applied.changed_chats, &is_typing)?;
        let stored = applied.frames > 0 || applied.gap.is_some();
        let new_messages = !applied.messages.is_empty();
        if stored {
            let update = StoreUpdate {
                chats,
                messages: applied.messages,
                unread_total: self.writer().unread_total()?,
                frames: applied.frames,
                malformed: applied.malformed,
                duplicates: applied.duplicates,
                gap: applied.gap,
            };
            outbox.send(EngineEvent::Stored(update));
        }
        let clock = &*self.shared.clock;
        if self.settings.has_changed().unwrap_or(false) {
            self.policy = self.settings.borrow_and_update().notifications.clone();
            let steady = &self.steady;
            self.mutes
                .follow(&self.policy.mutes, |t| steady.place(t, clock));
        }
        let at = clock.utc();
        let now = self.steady.now(clock);
        let local = clock.local_time();
        let mut decisions = Vec::with_capacity(applied.candidates.len());
        let settings = &self.policy;
        for c in applied.candidates {
            let about = policy::About {
                user_id: c.user_id,
                duplicate: c.duplicate,
                holds: ChatHolds {
                    muted: self.mutes.get(c.user_id),
                    snoozed_until: self.snoozes.get(&c.user_id).copied(),
                },
            };
            let outcome = policy::decide(c.kind, about, settings, self.focus, now, local);
            let allowed = outcome == Outcome::Allowed;
            decisions.push(Decision {
                at,
                user_id: c.user_id,
                kind: c.kind,
                message_id: c.message_id,
                outcome,
                escalation: None,
            });
            if let (true, NotifyKind::NewChat, Some(tx)) = (allowed, c.kind, &self.shared.forward) {
                let chat = Alert {
                    user_id: c.user_id,
                    name: c.name.clone(),
                    new_chat: true,
                    waited: std::time::Duration::ZERO,
                    level: AlertLevel::ReAlert,
                    text: c.text.clone(),
                    file_path: c.file_path.clone(),
                    step: 0,
                    username: c.username.clone(),
                    source: c.source.clone(),
                };
                if tx.try_send(ForwardMsg::NewChat(chat)).is_err() {
                    tracing::warn!(
                        user_id = c.user_id,
                        "forwarding queue full; new chat not forwarded"
                    );
                }
            }
            if let (true, Some(tx)) = (allowed, &self.shared.notify) {
                let incoming = Incoming {
                    user_id: c.user_id,
                    kind: c.kind,
                    name: c.name,
                    text: c.text,
                    file_path: c.file_path,
                };
                // A notifier stuck on a hung D-Bus must not stall the store: past its queue,
                // notifications are dropped (the events are stored and counted unread).
                if tx.try_send(ServiceMsg::Notify(incoming)).is_err() {
                    tracing::warn!(
                        user_id = c.user_id,
                        "notifier queue full; notification dropped"
                    );
                }
            }
        }
        if !decisions.is_empty() {
            outbox.send(EngineEvent::Decisions { decisions });
        }
        // Last: who waits is told after what arrived and what was decided about it.
        if new_messages {
            self.shared.waiting_changed.notify_one();
        }
        Ok(())
    }
}

/// Runs the writer; a writer that panics is reported as the engine's failure instead of
/// leaving a process that looks alive but stores nothing.
pub(crate) fn supervised(run: impl FnOnce() -> WriterExit, outbox: &Outbox) -> WriterExit {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(exit) => exit,
        Err(panic) => {
            let cause = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            let error = format!("the store writer stopped: {cause}");
            tracing::error!(%error, "engine failed");
            outbox.send(EngineEvent::Failed {
                error: error.clone(),
            });
            WriterExit {
                unwritten: 0,
                error: Some(error),
            }
        }
    }
}

/// Hands every forward's record to the writer, to keep (`doctor` reads them). A subscriber
/// that falls behind a burst loses some records, never the engine's pace.
pub(crate) async fn keep_forwards(
    mut events: tokio::sync::broadcast::Receiver<EngineEvent>,
    writer: mpsc::Sender<WriterMsg>,
    cancel: CancellationToken,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            event = events.recv() => event,
        };
        match event {
            Ok(EngineEvent::Forwarded(record)) => {
                let _ = writer.try_send(WriterMsg::Forwarded(Box::new(record)));
            }
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_that_panics_is_reported_as_the_engines_failure() {
        let outbox = Outbox::new();
        let mut events = outbox.subscribe();
        let exit = supervised(|| panic!("DateTime - TimeDelta overflowed"), &outbox);
        assert_eq!(
            exit.error.as_deref(),
            Some("the store writer stopped: DateTime - TimeDelta overflowed")
        );
        assert_eq!(
            events.try_recv().unwrap(),
            EngineEvent::Failed {
                error: "the store writer stopped: DateTime - TimeDelta overflowed".into()
            }
        );
        let fine = supervised(WriterExit::default, &outbox);
        assert_eq!(fine, WriterExit::default());
    }
}
