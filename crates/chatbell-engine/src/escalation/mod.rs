//! Reminders while a customer waits: after the first notification of a chat, the agent is
//! reminded on a ladder (re-alerts, then urgent ones) until the chat is opened, read, snoozed
//! or muted; do-not-disturb and quiet hours hold the reminders.
//!
//! "Waiting" is what the store says: a chat with messages the agent has not opened. This task
//! reads the waiting chats from the store whenever the writer says they may have changed, and
//! keeps only what the store cannot know: which reminder each chat has had. No timer runs
//! while nobody waits; while chats wait, the task wakes at the next step due, not on a tick.

pub mod ladder;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::model::{
    Alert, AlertLevel, Decision, EngineEvent, Escalation, NotifyKind, Outcome, SuppressReason,
    WaitingSummary,
};
use crate::notifier::ServiceMsg;
use crate::outbox::Outbox;
use crate::settings::NotificationSettings;
use crate::store::{Reader, StoreError, WaitingChat};

/// Chats whose next reminder falls this close after one being shown now are reminded in the
/// same notification: a few chats arriving together become one digest, not a stack.
pub const GROUP_WITHIN: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Track {
    chat: WaitingChat,
    /// The last step shown (0: only the first notification).
    fired: u32,
    /// The hold last recorded for this chat, so a hold is written down once, not per step.
    held: Option<SuppressReason>,
    /// Until when the recorded hold lasts (`None`: until something changes).
    held_until: Option<DateTime<Utc>>,
    /// Something holds its reminders right now (as of the last evaluation).
    holding: bool,
    level: Option<AlertLevel>,
    /// The agent snoozed it until then: a reminder comes when the snooze ends, whatever the
    /// ladder's next step.
    snooze_ends: Option<DateTime<Utc>>,
}

pub(crate) struct Escalator {
    pub reader: Arc<Mutex<Reader>>,
    pub outbox: Outbox,
    pub clock: Arc<dyn Clock>,
    pub notify: Option<mpsc::Sender<ServiceMsg>>,
    /// The writer (or a snooze) says the waiting chats may have changed.
    pub changed: Arc<Notify>,
    pub settings: watch::Receiver<NotificationSettings>,
    /// The latest summary, for whoever asks rather than listens.
    pub summary: watch::Sender<WaitingSummary>,
    pub cancel: CancellationToken,
}

#[derive(Default)]
struct State {
    tracks: HashMap<UserId, Track>,
    summary: Option<WaitingSummary>,
}

impl Escalator {
    pub async fn run(mut self) {
        let mut state = State::default();
        // What the store holds at start: reminders pick up where the waits are.
        self.refresh(&mut state).await;
        loop {
            let settings = self.settings.borrow_and_update().clone();
            self.evaluate(&mut state, &settings);
            let wake = next_wake(&state, &settings, self.clock.utc());
            let sleep = wake.map(|at| {
                let left = (at - self.clock.utc()).to_std().unwrap_or(Duration::ZERO);
                self.clock.sleep_until(self.clock.mono() + left)
            });
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = self.changed.notified() => self.refresh(&mut state).await,
                changed = self.settings.changed() => if changed.is_err() { return },
                _ = async { match sleep { Some(s) => s.await, None => std::future::pending().await } } => {}
            }
        }
    }

    async fn refresh(&self, state: &mut State) {
        let reader = self.reader.clone();
        let read = tokio::task::spawn_blocking(move || -> Result<Vec<WaitingChat>, StoreError> {
            reader.lock().unwrap_or_else(|p| p.into_inner()).waiting()
        })
        .await;
        let chats = match read {
            Ok(Ok(chats)) => chats,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reading the waiting chats");
                return;
            }
            Err(_) => return,
        };
        let mut old = std::mem::take(&mut state.tracks);
        for chat in chats {
            let track = match old.remove(&chat.user_id) {
                // Still the same wait: keep what it has been shown.
                Some(mut t) if t.chat.since == chat.since => {
                    if t.chat.snoozed_until != chat.snoozed_until {
                        t.held = None;
                        t.held_until = None;
                        t.snooze_ends = chat.snoozed_until;
                    }
                    t.chat = chat;
                    t
                }
                _ => Track {
                    snooze_ends: chat.snoozed_until,
                    chat,
                    fired: 0,
                    held: None,
                    held_until: None,
                    holding: false,
                    level: None,
                },
            };
            state.tracks.insert(track.chat.user_id, track);
        }
    }

    /// Shows what is due, records what is held, and publishes the decisions.
    fn evaluate(&self, state: &mut State, settings: &NotificationSettings) {
        if !settings.escalation.enabled || state.tracks.is_empty() {
            self.publish_summary(state, settings);
            return;
        }
        let now = self.clock.utc();
        let local = self.clock.local_time();
        let mut decisions = Vec::new();
        let mut alerts = Vec::new();
        let mut ids: Vec<UserId> = state.tracks.keys().copied().collect();
        ids.sort_unstable();
        let mut candidates = Vec::new();
        for id in &ids {
            let track = state.tracks.get_mut(id).expect("listed");
            let chat = &track.chat;
            let ladder = settings
                .escalation
                .ladder(chat.new_chat, chat.source.as_deref());
            let waited = (now - chat.since).to_std().unwrap_or(Duration::ZERO);
            let hold = crate::policy::hold(
                chat.user_id,
                chat.new_chat,
                chat.snoozed_until,
                settings,
                now,
                local,
            );
            track.holding = hold.is_some();
            if hold.is_none() {
                track.held = None;
                track.held_until = None;
            }
            // A snooze that ended brings the chat back at once, with the step its wait is at.
            let snooze_over = track.snooze_ends.is_some_and(|t| t <= now) && hold.is_none();
            let due = if snooze_over {
                track.snooze_ends = None;
                ladder::due(&ladder, waited, 0)
            } else {
                ladder::due(&ladder, waited, track.fired)
            };
            match (due, hold) {
                (Some(step), Some((reason, until))) => {
                    if track.held != Some(reason) {
                        decisions.push(decision(
                            chat,
                            now,
                            step,
                            waited,
                            Outcome::Suppressed { reason },
                        ));
                    }
                    track.held = Some(reason);
                    track.held_until = until;
                }
                (Some(step), None) => alerts.push((*id, step, waited)),
                (None, _) => {
                    // Not due yet: a chat due soon may join a digest shown now.
                    if hold.is_none() {
                        let next = ladder::next(&ladder, track.fired);
                        candidates.push((*id, next, next.at.saturating_sub(waited)));
                    }
                }
            }
        }
        if !alerts.is_empty() {
            for (id, next, left) in candidates {
                if left <= GROUP_WITHIN {
                    let waited = next.at;
                    alerts.push((id, next, waited));
                }
            }
        }
        let mut shown = Vec::with_capacity(alerts.len());
        for (id, step, waited) in alerts {
            let track = state.tracks.get_mut(&id).expect("listed");
            track.fired = step.index;
            track.level = Some(step.level);
            decisions.push(decision(&track.chat, now, step, waited, Outcome::Allowed));
            shown.push(Alert {
                user_id: id,
                name: track.chat.name.clone(),
                new_chat: track.chat.new_chat,
                waited,
                level: step.level,
                text: track.chat.text.clone(),
                file_path: track.chat.file_path.clone(),
            });
        }
        if !decisions.is_empty() {
            self.outbox.send(EngineEvent::Decisions { decisions });
        }
        if !shown.is_empty()
            && let Some(tx) = &self.notify
        {
            // The longest wait first: a digest names them in that order.
            shown.sort_by(|a, b| b.waited.cmp(&a.waited).then(a.user_id.cmp(&b.user_id)));
            if tx
                .try_send(ServiceMsg::Remind {
                    alerts: shown,
                    sound: settings.sound,
                })
                .is_err()
            {
                tracing::warn!("notifier queue full; reminder dropped");
            }
        }
        self.publish_summary(state, settings);
    }

    fn publish_summary(&self, state: &mut State, settings: &NotificationSettings) {
        let summary = summarize(state, settings.escalation.enabled, self.clock.utc());
        if state.summary.as_ref() != Some(&summary) {
            state.summary = Some(summary.clone());
            self.summary.send_replace(summary.clone());
            self.outbox.send(EngineEvent::Waiting(summary));
        }
    }
}

fn summarize(state: &State, reminders: bool, now: DateTime<Utc>) -> WaitingSummary {
    let urgent = state
        .tracks
        .values()
        .filter(|t| reminders && t.level == Some(AlertLevel::Urgent) && !t.holding)
        .count();
    WaitingSummary {
        chats: state.tracks.len() as u32,
        longest_since: state.tracks.values().map(|t| t.chat.since).min(),
        urgent: urgent as u32,
        snoozed: state
            .tracks
            .values()
            .filter(|t| t.chat.snoozed_until.is_some_and(|until| until > now))
            .count() as u32,
    }
}

fn decision(
    chat: &WaitingChat,
    at: DateTime<Utc>,
    step: ladder::Step,
    waited: Duration,
    outcome: Outcome,
) -> Decision {
    Decision {
        at,
        user_id: chat.user_id,
        kind: if chat.new_chat {
            NotifyKind::NewChat
        } else {
            NotifyKind::NewMessage
        },
        message_id: None,
        outcome,
        escalation: Some(Escalation {
            step: step.index,
            level: step.level,
            waited_secs: waited.as_secs(),
        }),
    }
}

/// When something is next due: the earliest next step of a chat not held, or the end of a
/// hold that has one. `None` when nothing is (nobody waits, reminders are off, or every
/// waiting chat is held until a setting changes): then no timer runs.
fn next_wake(
    state: &State,
    settings: &NotificationSettings,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if !settings.escalation.enabled {
        return None;
    }
    state
        .tracks
        .values()
        .filter_map(|t| {
            let step = if t.held.is_some() {
                t.held_until
            } else {
                let ladder = settings
                    .escalation
                    .ladder(t.chat.new_chat, t.chat.source.as_deref());
                let at = chrono::TimeDelta::from_std(ladder::next(&ladder, t.fired).at).ok();
                at.and_then(|at| t.chat.since.checked_add_signed(at))
            };
            // A snooze end already past is handled, or held by something else.
            let snooze = t.snooze_ends.filter(|end| *end > now);
            match (step, snooze) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        // Whatever is due by now has been shown or held by the evaluation just done.
        .filter(|at| *at > now)
        .min()
}
