//! Reminders while a customer waits: after the first notification of a chat, the agent is
//! reminded on a ladder (re-alerts, then urgent ones) until the chat is opened, read, snoozed
//! or muted; do-not-disturb and quiet hours hold the reminders.
//!
//! "Waiting" is what the store says: a chat with messages the agent has not opened. This task
//! reads the waiting chats from the store (through a reader of its own, so a slow search in the
//! window never delays a reminder) whenever the writer says they may have changed, and keeps
//! only what the store cannot know: which reminder each chat has had. What is due is decided by
//! [`plan`]; the task only reads, sleeps and sends. No timer runs while nobody waits; while
//! chats wait, the task wakes at the next step due, not on a tick.

pub mod ladder;
pub(crate) mod plan;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, Steady, sleep_or_pending, wall_deadline};
use crate::forwarder::{ForwardMsg, Kind, replaces_desktop};
use crate::model::{EngineEvent, Outcome, SuppressReason, WaitingSummary};
use crate::notifier::ServiceMsg;
use crate::outbox::Outbox;
use crate::policy::Mutes;
use crate::settings::{NotificationSettings, Settings};
use crate::store::{Reader, WaitingChat};

use plan::Track;

pub(crate) struct Escalator {
    /// Its own: the window's reads never stand in front of a reminder.
    pub reader: Arc<Mutex<Reader>>,
    pub outbox: Outbox,
    pub clock: Arc<dyn Clock>,
    pub notify: Option<mpsc::Sender<ServiceMsg>>,
    /// Reminders for the forwarding targets (`forwarder`).
    pub forward: Option<mpsc::Sender<ForwardMsg>>,
    /// Whether the agent is away: a reminder an away target takes is not played then.
    pub away: watch::Receiver<bool>,
    /// The writer (or a snooze) says the waiting chats may have changed.
    pub changed: Arc<Notify>,
    pub settings: watch::Receiver<Settings>,
    /// The latest summary, for whoever asks rather than listens.
    pub summary: watch::Sender<WaitingSummary>,
    /// Which chats wait now (the forwarder withdraws what is about chats opened meanwhile).
    pub waiting_ids: watch::Sender<Arc<std::collections::BTreeSet<i64>>>,
    pub cancel: CancellationToken,
}

impl Escalator {
    pub async fn run(mut self) {
        let steady = Steady::new(&*self.clock);
        let mut tracks = BTreeMap::new();
        let mut mutes = Mutes::default();
        let mut settings = NotificationSettings::default();
        let mut published = None;
        let mut renew = true;
        // What the store holds at start: reminders pick up where the waits are.
        self.refresh(&steady, &mut tracks).await;
        loop {
            // Taken again only when they changed; each mute's end is placed when the settings
            // that set it are first seen.
            if std::mem::take(&mut renew) || self.settings.has_changed().unwrap_or(false) {
                settings = self.settings.borrow_and_update().notifications.clone();
                mutes.follow(&settings.mutes, |t| steady.place(t, &*self.clock));
            }
            let now = steady.now(&*self.clock);
            let plan = plan::plan(
                &mut tracks,
                &settings,
                &mutes,
                now,
                self.clock.utc(),
                self.clock.local_time(),
            );
            let mut decisions = plan.decisions;
            let mut desktop = plan.alerts;
            if !desktop.is_empty() {
                let away = *self.away.borrow();
                let alerts = desktop.clone();
                // Left to the phone only once handed to the forwarder (which plays it here
                // after all if the phone does not take it).
                let handed = match &self.forward {
                    Some(tx) => match tx.try_send(ForwardMsg::Remind { alerts, away }) {
                        Ok(()) => true,
                        Err(_) => {
                            tracing::warn!("forwarding queue full; reminder not forwarded");
                            false
                        }
                    },
                    None => false,
                };
                let forwarded: Vec<i64> = desktop
                    .iter()
                    .filter(|a| handed && replaces_desktop(&settings.forward, Kind::of(a), away))
                    .map(|a| a.user_id)
                    .collect();
                if !forwarded.is_empty() {
                    desktop.retain(|a| !forwarded.contains(&a.user_id));
                    for d in &mut decisions {
                        if d.escalation.is_some() && forwarded.contains(&d.user_id) {
                            d.outcome = Outcome::Suppressed {
                                reason: SuppressReason::Away,
                            };
                        }
                    }
                }
            }
            if !decisions.is_empty() {
                self.outbox.send(EngineEvent::Decisions { decisions });
            }
            if !desktop.is_empty()
                && let Some(tx) = &self.notify
                && tx.try_send(ServiceMsg::Remind(desktop)).is_err()
            {
                tracing::warn!("notifier queue full; reminder dropped");
            }
            let summary = plan::summarize(&tracks, settings.escalation.enabled, now);
            if published.as_ref() != Some(&summary) {
                published = Some(summary.clone());
                self.summary.send_replace(summary.clone());
                self.outbox.send(EngineEvent::Waiting(summary));
            }
            let wake = plan::next_wake(&tracks, &settings, now)
                .map(|left| wall_deadline(&*self.clock, left));
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = self.changed.notified() => self.refresh(&steady, &mut tracks).await,
                changed = self.settings.changed() => match changed {
                    Ok(()) => renew = true,
                    Err(_) => return,
                },
                _ = sleep_or_pending(&*self.clock, wake) => {}
            }
        }
    }

    async fn refresh(&mut self, steady: &Steady, tracks: &mut BTreeMap<i64, Track>) {
        let Some(chats) = self.read().await else {
            return;
        };
        let place = |t| steady.place(t, &*self.clock);
        let mut old = std::mem::take(tracks);
        for chat in chats {
            let track = match old.remove(&chat.user_id) {
                // Still the same wait: keep what it has been shown.
                Some(t) if t.chat.since == chat.since => t.refreshed(chat, place),
                _ => Track::new(chat, |t| steady.place_past(t, &*self.clock), place),
            };
            tracks.insert(track.chat.user_id, track);
        }
        let ids: std::collections::BTreeSet<i64> = tracks.keys().copied().collect();
        self.waiting_ids.send_if_modified(|now| {
            let changed = **now != ids;
            if changed {
                *now = Arc::new(ids);
            }
            changed
        });
    }

    /// The waiting chats, read on the blocking pool with the task's own reader. Its page
    /// cache is handed back after each read: it holds the chats table (megabytes after a busy
    /// hour) for a process that lives for days, and the pages are in the OS's cache anyway.
    async fn read(&self) -> Option<Vec<WaitingChat>> {
        let reader = self.reader.clone();
        let read = tokio::task::spawn_blocking(move || {
            let reader = crate::sync::lock(&reader);
            let chats = reader.waiting();
            if let Err(e) = reader.release_memory() {
                tracing::debug!(error = %e, "releasing the waiting reader's cache");
            }
            chats
        })
        .await;
        match read {
            Ok(Ok(chats)) => Some(chats),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reading the waiting chats");
                None
            }
            Err(_) => None,
        }
    }
}
