//! The task that owns the notifier: coalesces, renders, shows, and reports back. It keeps
//! track of whether the notification server works, so a failing one is asked again only after
//! a backoff and its failure is logged once, not once per notification.

use std::collections::HashMap;
use std::sync::Arc;

use chatbell_protocol::UserId;
use tokio::sync::{mpsc, oneshot, watch};

use super::health::{Change, DaemonHealth, daemon_backoff};
use super::{Action, Notifier, NotifyError, Request, Response, ServerInfo};
use crate::clock::{Clock, sleep_or_pending};
use crate::coalesce::{Coalescer, Command, Content, Incoming};
use crate::i18n::{Lang, outage_words, reminder_words, test_words, words};
use crate::model::{
    Alert, AlertLevel, Delivery, EngineEvent, NotifyKind, SettingsSection, Slot, SoundEvent,
    SoundOutcome,
};
use crate::outage::{Notice, OutageCause};
use crate::outbox::Outbox;
use crate::settings::{Settings, SoundSettings};
use crate::sound::{Ended, PlayReport, Player, SoundKind};

pub(crate) enum ServiceMsg {
    Notify(Incoming),
    /// Remind of chats still waiting: one fresh notification (a digest for several).
    Remind(Vec<Alert>),
    /// The connection's warning: offline, back online, or withdrawn.
    /// A connection warning, with what went wrong last (the warning words it).
    Outage(Notice, Option<crate::net::NetFailure>),
    /// The agent opened this chat: close its notification.
    Dismiss(UserId),
    /// Forwarding's words for the agent (back at the desk; a target that refused), shown in
    /// `slot` in place of the last ones there, without a sound.
    Say {
        slot: Slot,
        summary: String,
        body: String,
    },
    /// Show a sample notification now, past the coalescer; answer whether it was shown.
    Test {
        reply: oneshot::Sender<TestShown>,
    },
}

/// How the sample notification went, and what the server that showed it can do.
pub(crate) struct TestShown {
    pub result: Result<(), NotifyError>,
    pub server: Option<ServerInfo>,
}

/// What the service takes from the published settings, read again whenever they change.
struct Prefs {
    lang: Lang,
    privacy: bool,
    /// Sounds at all (the master switch), and which tone for what.
    sound: bool,
    sounds: SoundSettings,
    /// A web panel link is configured: chat notifications offer it.
    web_panel: bool,
}

impl Prefs {
    fn of(settings: &Settings) -> Self {
        Prefs {
            lang: Lang::of(settings.ui.language),
            privacy: settings.notifications.privacy,
            sound: settings.notifications.sound,
            sounds: settings.notifications.sounds,
            web_panel: settings.server.web_panel().is_some(),
        }
    }
}

/// How a shown notification is reported (`Delivery::Shown`).
struct Report {
    count: u32,
    sound: bool,
    summary: String,
}

/// What the service is built with.
pub(crate) struct ServiceParts {
    pub notifier: Box<dyn Notifier>,
    pub coalescer: Coalescer,
    pub outbox: Outbox,
    pub clock: Arc<dyn Clock>,
    /// Where the buttons pressed on a notification go (read, snooze, web panel).
    pub actions: mpsc::Sender<(UserId, Action)>,
    /// Chatbell's own player; `None`: the notification server is asked for its sound.
    pub player: Option<Player>,
    pub settings: watch::Receiver<Settings>,
}

pub(crate) struct NotifyService {
    notifier: Box<dyn Notifier>,
    coalescer: Coalescer,
    outbox: Outbox,
    clock: Arc<dyn Clock>,
    actions: mpsc::Sender<(UserId, Action)>,
    player: Option<Player>,
    settings: watch::Receiver<Settings>,
    prefs: Prefs,
    ids: HashMap<Slot, u32>,
    /// The chats the live reminder digest is about, the longest wait first.
    waiting: Vec<UserId>,
    health: DaemonHealth,
}

impl NotifyService {
    pub fn new(mut parts: ServiceParts) -> Self {
        let prefs = Prefs::of(&parts.settings.borrow_and_update());
        NotifyService {
            notifier: parts.notifier,
            coalescer: parts.coalescer,
            outbox: parts.outbox,
            clock: parts.clock,
            actions: parts.actions,
            player: parts.player,
            settings: parts.settings,
            prefs,
            ids: HashMap::new(),
            waiting: Vec::new(),
            health: DaemonHealth::new(),
        }
    }

    pub async fn run(mut self, mut rx: mpsc::Receiver<ServiceMsg>) {
        let mut responses = self.notifier.take_responses();
        loop {
            // On the engine's clock: a test that moves time by hand moves the windows too.
            let deadline = self.coalescer.next_deadline();
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(msg) => self.handle(msg).await,
                    None => return,
                },
                Some(response) = async { match responses.as_mut() { Some(r) => r.recv().await, None => None } } => {
                    self.response(response);
                }
                changed = self.settings.changed() => match changed {
                    Ok(()) => self.prefs = Prefs::of(&self.settings.borrow_and_update()),
                    Err(_) => return,
                },
                _ = sleep_or_pending(&*self.clock, deadline) => {
                    let commands = self.coalescer.tick(self.clock.mono());
                    self.execute(commands).await;
                }
            }
        }
    }

    async fn handle(&mut self, msg: ServiceMsg) {
        match msg {
            ServiceMsg::Notify(incoming) => {
                // A kind whose tone is off wants no sound, and uses up no sound limit.
                let kind = match incoming.kind {
                    NotifyKind::NewChat => SoundKind::NewChat,
                    NotifyKind::NewMessage => SoundKind::NewMessage,
                };
                let sound = self.prefs.sound && self.prefs.sounds.tone(kind).is_some();
                let commands = self.coalescer.push(incoming, sound, self.clock.mono());
                self.execute(commands).await;
            }
            ServiceMsg::Remind(alerts) => self.remind(alerts).await,
            ServiceMsg::Say {
                slot,
                summary,
                body,
            } => {
                let request = Request {
                    summary: summary.clone(),
                    body,
                    open_label: crate::i18n::labels(self.prefs.lang).open,
                    actions: Vec::new(),
                    critical: false,
                    sound: false,
                    replaces: self.ids.get(&slot).copied(),
                };
                let report = Report {
                    count: 1,
                    sound: false,
                    summary,
                };
                self.post(slot, request, report, Vec::new()).await;
            }
            ServiceMsg::Dismiss(user_id) => {
                let mut commands: Vec<Command> =
                    self.coalescer.dismiss(user_id).into_iter().collect();
                // A reminder the coalescer did not show (or has forgotten) goes too.
                if commands.is_empty() && self.ids.contains_key(&Slot::Chat(user_id)) {
                    commands.push(Command::Close {
                        slot: Slot::Chat(user_id),
                    });
                }
                self.waiting.retain(|u| *u != user_id);
                if self.waiting.is_empty() && self.ids.contains_key(&Slot::Waiting) {
                    commands.push(Command::Close {
                        slot: Slot::Waiting,
                    });
                }
                self.execute(commands).await;
            }
            ServiceMsg::Outage(notice, failure) => self.outage(notice, failure).await,
            ServiceMsg::Test { reply } => {
                let w = test_words(self.prefs.lang);
                let request = Request {
                    summary: w.summary,
                    body: w.body,
                    open_label: w.open_label,
                    actions: Vec::new(),
                    critical: false,
                    // The self-test plays Chatbell's own sound.
                    sound: self.player.is_none(),
                    replaces: None,
                };
                // The agent asked for it: a real call even while the daemon is known down.
                let result = self.notifier.show(request).await.map(|_| ());
                self.note(result.as_ref().copied());
                let server = match result {
                    Ok(()) => self.notifier.server_info().await.ok(),
                    Err(_) => None,
                };
                let _ = reply.send(TestShown { result, server });
            }
        }
    }

    async fn execute(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Show {
                    slot,
                    content,
                    sound,
                } => {
                    let w = words(&content, self.prefs.lang, self.prefs.privacy);
                    let replaces = self.ids.get(&slot).copied();
                    let count = match &content {
                        Content::Chat { count, .. } => *count,
                        Content::Digest { messages, .. } => *messages,
                    };
                    let server_sound = sound.is_some_and(|kind| self.play(kind));
                    let request = Request {
                        summary: w.summary.clone(),
                        body: w.body,
                        open_label: w.open_label,
                        actions: self.chat_actions(slot),
                        critical: false,
                        sound: server_sound,
                        replaces,
                    };
                    let report = Report {
                        count,
                        sound: sound.is_some(),
                        summary: w.summary,
                    };
                    if !self.post(slot, request, report, Vec::new()).await {
                        self.ids.remove(&slot);
                        self.coalescer.closed(slot);
                    }
                }
                Command::Close { slot } => {
                    if let Some(id) = self.ids.remove(&slot) {
                        self.close(id).await;
                        self.outbox
                            .send(EngineEvent::Delivery(Delivery::Closed { slot }));
                    }
                }
            }
        }
    }

    /// The buttons of a notification in `slot`: a chat's carry read, snooze and the web panel
    /// (when configured); a digest only opens.
    fn chat_actions(&self, slot: Slot) -> Vec<(Action, &'static str)> {
        match slot {
            Slot::Chat(_) => Action::CHAT
                .into_iter()
                .filter(|a| *a != Action::WebPanel || self.prefs.web_panel)
                .map(|a| (a, a.label(self.prefs.lang)))
                .collect(),
            Slot::Digest | Slot::Waiting | Slot::Connection | Slot::Away | Slot::Forward => {
                Vec::new()
            }
        }
    }

    /// Plays the sound of `kind` with Chatbell's player; returns whether the notification
    /// server should play its own instead (no player here, or ours failing or busy).
    fn play(&self, kind: SoundKind) -> bool {
        let Some(tone) = self.prefs.sounds.tone(kind) else {
            return false;
        };
        let Some(player) = &self.player else {
            return true;
        };
        // While ours fail (or are not known to work yet), the server's sound too: a sound
        // twice beats none.
        let unsure = !player.working();
        let first = self.outbox.clone();
        let end = self.outbox.clone();
        let on_first = Box::new(move |report: &PlayReport| {
            first.send(EngineEvent::Sound(SoundEvent {
                kind,
                tone,
                outcome: SoundOutcome::Played(report.clone()),
            }));
        });
        let on_end = Box::new(move |ended: Ended| {
            if let (Err(e), true) = (ended.result, ended.newly_failing) {
                end.send(EngineEvent::Sound(SoundEvent {
                    kind,
                    tone,
                    outcome: SoundOutcome::Failed {
                        error: e.to_string(),
                    },
                }));
            }
        });
        match player.play(tone, self.prefs.sounds.volume, Some(on_first), on_end) {
            Ok(()) => unsure,
            Err(e) => {
                tracing::debug!(error = %e, ?kind, "a sound was not queued");
                true
            }
        }
    }

    /// The connection's warning: shown at once, in place of the previous one; a reminder is a
    /// fresh notification (an updated one often stays silent) and the old one is closed.
    async fn outage(&mut self, notice: Notice, failure: Option<crate::net::NetFailure>) {
        let slot = Slot::Connection;
        let (critical, sound, actions, fresh) = match notice {
            Notice::Withdrawn => {
                self.execute(vec![Command::Close { slot }]).await;
                return;
            }
            Notice::Offline {
                cause, reminder, ..
            } => {
                // Only the agent can fix a refused token, a proxy's password or a certificate:
                // the warning opens Settings.
                let fixable = cause == OutageCause::TokenRefused
                    || failure.as_ref().is_some_and(|f| f.needs_the_agent());
                let actions = match fixable {
                    true => vec![(Action::Settings, Action::Settings.label(self.prefs.lang))],
                    false => Vec::new(),
                };
                let sound =
                    self.prefs.sound && self.prefs.sounds.tone(SoundKind::Escalation).is_some();
                (true, sound && !reminder, actions, reminder)
            }
            Notice::Back { .. } => (false, false, Vec::new(), false),
        };
        let w = outage_words(&notice, failure.as_ref(), self.prefs.lang);
        let server_sound = sound && self.play(SoundKind::Escalation);
        let old = if fresh { self.ids.remove(&slot) } else { None };
        let request = Request {
            summary: w.summary.clone(),
            body: w.body,
            open_label: w.open_label,
            actions,
            critical,
            sound: server_sound,
            replaces: self.ids.get(&slot).copied(),
        };
        let report = Report {
            count: 1,
            sound,
            summary: w.summary,
        };
        self.post(slot, request, report, old.into_iter().collect())
            .await;
    }

    /// Shows a reminder as a fresh notification (a replaced one is often updated silently),
    /// then closes the one it stands for: one chat's earlier notification, or for a digest
    /// the previous digest and the notifications of the chats it names.
    async fn remind(&mut self, alerts: Vec<Alert>) {
        if alerts.is_empty() {
            return;
        }
        let w = reminder_words(&alerts, self.prefs.lang, self.prefs.privacy);
        let slot = match alerts.as_slice() {
            [one] => Slot::Chat(one.user_id),
            _ => Slot::Waiting,
        };
        let critical = alerts.iter().any(|a| a.level == AlertLevel::Urgent);
        let sound = self.prefs.sound && self.prefs.sounds.tone(SoundKind::Escalation).is_some();
        let server_sound = sound && self.play(SoundKind::Escalation);
        let request = Request {
            summary: w.summary.clone(),
            body: w.body,
            open_label: w.open_label,
            actions: self.chat_actions(slot),
            critical,
            sound: server_sound,
            replaces: None,
        };
        let mut stale: Vec<Slot> = vec![slot];
        if slot == Slot::Waiting {
            stale.extend(alerts.iter().map(|a| Slot::Chat(a.user_id)));
        }
        let old: Vec<u32> = stale.iter().filter_map(|s| self.ids.remove(s)).collect();
        let report = Report {
            count: alerts.len() as u32,
            sound,
            summary: w.summary,
        };
        for s in &stale {
            if let Slot::Chat(_) = s {
                self.coalescer.closed(*s);
            }
        }
        if self.post(slot, request, report, old).await && slot == Slot::Waiting {
            self.waiting = alerts.iter().map(|a| a.user_id).collect();
        }
    }

    /// Shows `request` in `slot`, keeps its id for the slot, closes the notifications it stands
    /// for (`stale`), then reports the delivery: the one path every notification takes.
    /// Returns whether it was shown; on failure what the slot holds is the caller's to keep or
    /// forget (a warning that could not be replaced is still on screen). The failure is logged
    /// by `note` when the daemon starts failing, not per notification.
    async fn post(
        &mut self,
        slot: Slot,
        request: Request,
        report: Report,
        stale: Vec<u32>,
    ) -> bool {
        let replaced = request.replaces.is_some();
        let delivery = match self.show(request).await {
            Ok(id) => {
                self.ids.insert(slot, id);
                Delivery::Shown {
                    slot,
                    replaced,
                    count: report.count,
                    sound: report.sound,
                    summary: report.summary,
                }
            }
            Err(e) => Delivery::Failed {
                slot,
                error: e.to_string(),
            },
        };
        let shown = matches!(delivery, Delivery::Shown { .. });
        for old in stale {
            self.close(old).await;
        }
        self.outbox.send(EngineEvent::Delivery(delivery));
        shown
    }

    /// Closes a notification, unless the daemon is known to be down (the id is forgotten
    /// either way).
    async fn close(&mut self, id: u32) {
        if self.health.admit(self.clock.mono()).is_err() {
            return;
        }
        match self.notifier.close(id).await {
            // A server may refuse to close a notification that is already gone (the spec
            // allows it): that says nothing of its health.
            Err(e @ NotifyError::Failed(_)) => {
                tracing::debug!(error = %e, "closing a notification failed")
            }
            result => self.note(result.as_ref().copied()),
        }
    }

    /// Shows a notification, or fails at once with the last error while the daemon is known
    /// to be down and not yet due for another try.
    async fn show(&mut self, request: Request) -> Result<u32, NotifyError> {
        self.health.admit(self.clock.mono())?;
        let result = self.notifier.show(request).await;
        self.note(result.as_ref().map(|_| ()));
        result
    }

    /// Records how a call went; logs when the daemon starts failing or works again.
    fn note(&mut self, outcome: Result<(), &NotifyError>) {
        let change = self.health.record(outcome, self.clock.mono());
        match (change, outcome) {
            (Change::Failed { retry_in }, Err(error)) => tracing::warn!(
                %error,
                ?retry_in,
                "the notification server is failing: notifications are reported as not shown, \
                 and it is tried again at growing intervals (up to {:?})",
                daemon_backoff().cap
            ),
            (Change::FailedAgain { retry_in }, Err(error)) => {
                tracing::debug!(%error, ?retry_in, "the notification server is still failing")
            }
            (Change::Recovered, _) => tracing::info!("the notification server works again"),
            _ => {}
        }
    }

    fn slot_of(&self, id: u32) -> Option<Slot> {
        self.ids.iter().find(|(_, i)| **i == id).map(|(s, _)| *s)
    }

    fn response(&mut self, response: Response) {
        match response {
            Response::Invoked { id, action } => {
                let Some(slot) = self.slot_of(id) else { return };
                tracing::info!(?slot, action, "notification clicked");
                let user_id = match slot {
                    Slot::Chat(user) => Some(user),
                    Slot::Digest | Slot::Connection | Slot::Away | Slot::Forward => None,
                    // The reminder digest opens the chat that has waited longest.
                    Slot::Waiting => self.waiting.first().copied(),
                };
                match (Action::from_key(&action), user_id) {
                    (Some(Action::Settings), _) => {
                        self.outbox.send(EngineEvent::SettingsRequested {
                            section: SettingsSection::Server,
                        })
                    }
                    (Some(action), Some(user_id)) => {
                        if self.actions.try_send((user_id, action)).is_err() {
                            tracing::warn!(
                                ?action,
                                "notification action dropped: the engine is busy or stopping"
                            );
                        }
                    }
                    // `default` (the click) and any key a server makes up: open.
                    _ => self
                        .outbox
                        .send(EngineEvent::NotificationOpened { user_id }),
                }
            }
            Response::Closed { id } => {
                if let Some(slot) = self.slot_of(id) {
                    self.ids.remove(&slot);
                    if slot == Slot::Waiting {
                        self.waiting.clear();
                    }
                    self.coalescer.closed(slot);
                    self.outbox
                        .send(EngineEvent::Delivery(Delivery::Closed { slot }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use chrono::{NaiveTime, TimeZone, Utc};

    use super::*;
    use crate::clock::ManualClock;
    use crate::coalesce::CoalesceConfig;
    use crate::notifier::{BoxFuture, ServerInfo};

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// A notifier that counts its calls and fails while `up` is false.
    struct Fake {
        calls: Arc<AtomicUsize>,
        up: Arc<AtomicBool>,
    }

    impl Notifier for Fake {
        fn show(&mut self, _request: Request) -> BoxFuture<'_, Result<u32, NotifyError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let up = self.up.load(Ordering::SeqCst);
            Box::pin(async move {
                if up {
                    Ok(7)
                } else {
                    Err(NotifyError::NoServer("gone".into()))
                }
            })
        }
        fn close(&mut self, _id: u32) -> BoxFuture<'_, Result<(), NotifyError>> {
            Box::pin(async { Ok(()) })
        }
        fn take_responses(&mut self) -> Option<mpsc::Receiver<Response>> {
            None
        }
        fn server_info(&mut self) -> BoxFuture<'_, Result<ServerInfo, NotifyError>> {
            Box::pin(async { Err(NotifyError::NoServer("gone".into())) })
        }
    }

    fn notify(user_id: UserId) -> ServiceMsg {
        ServiceMsg::Notify(Incoming {
            user_id,
            kind: NotifyKind::NewMessage,
            name: "Ann".into(),
            text: Some("hello".into()),
            file_path: None,
        })
    }

    fn deliveries(events: &mut tokio::sync::broadcast::Receiver<EngineEvent>) -> Vec<Delivery> {
        let mut out = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let EngineEvent::Delivery(d) = event {
                out.push(d);
            }
        }
        out
    }

    #[tokio::test]
    async fn notifications_fail_fast_while_the_daemon_is_down_and_reach_it_when_it_is_back() {
        let calls = Arc::new(AtomicUsize::new(0));
        let up = Arc::new(AtomicBool::new(false));
        let fake = Fake {
            calls: calls.clone(),
            up: up.clone(),
        };
        let clock = ManualClock::new(
            Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        );
        let outbox = Outbox::new();
        let mut events = outbox.subscribe();
        let mut settings = Settings::default();
        settings.ui.language = crate::settings::Language::En;
        settings.notifications.sound = false;
        let mut service = NotifyService::new(ServiceParts {
            notifier: Box::new(fake),
            coalescer: Coalescer::new(CoalesceConfig::default()),
            outbox,
            clock: Arc::new(clock.clone()),
            actions: mpsc::channel(1).0,
            player: None,
            settings: watch::channel(settings).1,
        });

        // 50 notifications at once: one call, 50 failures reported with its error.
        for _ in 0..50 {
            service.handle(notify(1)).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let failed = deliveries(&mut events);
        assert_eq!(failed.len(), 50);
        assert!(failed.iter().all(|d| matches!(d,
            Delivery::Failed { error, .. } if error.contains("no notification server"))));

        // Not asked again until the backoff (1 s) ends; then once, which fails again (next: 2 s).
        clock.advance(secs(0.999));
        service.handle(notify(1)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        clock.advance(secs(0.001));
        service.handle(notify(1)).await;
        service.handle(notify(1)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        // The daemon is back: used at the end of the backoff, and from then on every time.
        up.store(true, Ordering::SeqCst);
        clock.advance(secs(1.0));
        service.handle(notify(1)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "still in the 2 s backoff");
        clock.advance(secs(1.0));
        service.handle(notify(2)).await;
        service.handle(notify(3)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let last = deliveries(&mut events);
        assert!(
            matches!(
                last[..],
                [.., Delivery::Shown { .. }, Delivery::Shown { .. }]
            ),
            "{last:?}"
        );

        // A test notification is a real call, even while the daemon is known to be down.
        up.store(false, Ordering::SeqCst);
        for _ in 0..2 {
            let (reply, answer) = oneshot::channel();
            service.handle(ServiceMsg::Test { reply }).await;
            assert!(answer.await.unwrap().result.is_err());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 6);
    }
}
