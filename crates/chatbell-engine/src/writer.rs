//! The writer thread: batches what the connection hands over, commits it, and only then
//! tells anyone (UI events, notification decisions). A crash after a notification can
//! therefore never lose the event it was about.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Notify, mpsc};

use crate::clock::Clock;
use crate::coalesce::Incoming;
use crate::connection::Inbound;
use crate::engine::WriterMsg;
use crate::model::{Decision, EngineEvent, Focus, Outcome, StoreUpdate};
use crate::notifier::ServiceMsg;
use crate::outbox::Outbox;
use crate::policy;
use crate::settings::NotificationSettings;
use crate::store::{Applied, Input, StoreError, Writer};
use crate::typing::Typing;

/// Frames committed in one transaction at most. Large enough that a burst pays the per-batch
/// costs (commit, search-index flush, summaries) once per thousands of events; a lone event is
/// committed alone, at once.
pub const MAX_BATCH: usize = 4096;

fn input(inbound: &mut Inbound, take_parsed: bool) -> Input<'_> {
    match inbound {
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

pub(crate) struct WriterShared {
    pub outbox: Outbox,
    pub typing: Arc<Mutex<Typing>>,
    pub typing_changed: Arc<Notify>,
    pub notify: Option<mpsc::Sender<ServiceMsg>>,
    pub clock: Arc<dyn Clock>,
}

pub(crate) struct WriterLoop {
    writer: Option<Writer>,
    shared: WriterShared,
    settings: NotificationSettings,
    focus: Focus,
    rx: mpsc::Receiver<WriterMsg>,
}

impl WriterLoop {
    pub fn new(
        writer: Writer,
        shared: WriterShared,
        settings: NotificationSettings,
        rx: mpsc::Receiver<WriterMsg>,
    ) -> Self {
        WriterLoop {
            writer: Some(writer),
            shared,
            settings,
            focus: Focus::default(),
            rx,
        }
    }

    fn writer(&self) -> &Writer {
        self.writer
            .as_ref()
            .expect("the writer lives until shutdown")
    }

    pub fn run(mut self) {
        let mut batch: Vec<Inbound> = Vec::with_capacity(MAX_BATCH);
        let mut pending: Option<WriterMsg> = None;
        loop {
            let msg = match pending.take() {
                Some(msg) => msg,
                None => match self.rx.blocking_recv() {
                    Some(msg) => msg,
                    None => break,
                },
            };
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
                    let _ = reply.send(result);
                }
                WriterMsg::Focus(focus) => self.focus = focus,
                WriterMsg::Policy(settings) => self.settings = settings,
                WriterMsg::Retention { days, reply } => {
                    let cutoff = Utc::now() - chrono::Duration::days(days.into());
                    let _ = reply.send(self.writer().remove_older_than(cutoff));
                }
                WriterMsg::Shutdown => break,
            }
        }
        if let Some(writer) = self.writer.take()
            && let Err(e) = writer.close(self.shared.clock.utc())
        {
            tracing::error!(error = %e, "closing the store");
        }
    }

    /// Commits a batch, retrying while the disk refuses (full, read-only, locked): frames are
    /// held, not dropped, and the connection stops reading until they are written.
    fn commit(&mut self, batch: &mut Vec<Inbound>) {
        // The first attempt takes the frames as the reader parsed them; a retry parses again.
        let mut inputs: Vec<Input<'_>> = batch.iter_mut().map(|i| input(i, true)).collect();
        let mut delay = Duration::from_millis(100);
        let applied = loop {
            let focus = self.focus;
            match self.writer.as_mut().expect("writer").apply(inputs, focus) {
                Ok(applied) => break applied,
                Err(e) => {
                    tracing::error!(error = %e, frames = batch.len(), ?delay, "cannot write to the store; retrying");
                    self.shared.outbox.send(EngineEvent::StoreFailed {
                        error: e.to_string(),
                    });
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                    inputs = batch.iter_mut().map(|i| input(i, false)).collect();
                }
            }
        };
        batch.clear();
        if let Err(e) = self.publish(applied) {
            tracing::error!(error = %e, "reading back a committed batch");
        }
    }

    /// Tells everyone what the committed batch changed: typing, the store update, then the
    /// notification decisions.
    fn publish(&mut self, applied: Applied) -> Result<(), StoreError> {
        let now = self.shared.clock.mono();
        let outbox = &self.shared.outbox;
        {
            let mut typing = self.shared.typing.lock().unwrap_or_else(|p| p.into_inner());
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
        let is_typing = |user| {
            typing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_typing(user, now)
        };
        let chats = self
            .writer()
            .chats_by_id(&applied.changed_chats, &is_typing)?;
        let stored = applied.frames > 0 || applied.gap.is_some();
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
        let at = self.shared.clock.utc();
        let local = self.shared.clock.local_time();
        let mut decisions = Vec::with_capacity(applied.candidates.len());
        for c in applied.candidates {
            let outcome = policy::decide(
                c.kind,
                c.user_id,
                c.duplicate,
                &self.settings,
                self.focus,
                at,
                local,
            );
            let allowed = outcome == Outcome::Allowed;
            decisions.push(Decision {
                at,
                user_id: c.user_id,
                kind: c.kind,
                message_id: c.message_id,
                outcome,
            });
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
                if tx
                    .try_send(ServiceMsg::Notify {
                        incoming,
                        sound: self.settings.sound,
                    })
                    .is_err()
                {
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
        Ok(())
    }
}
