//! Telling someone who is not at the desk (issue 28): which forwarding target receives what
//! ([`takes`], [`replaces_desktop`], pure and table-tested), in the agent's words with privacy
//! mode applied, through one [`Queue`] per target so that a slow target holds up nothing. The
//! reminders' task, the writer (a new chat's first notification) and the offline alarm hand
//! their alerts to this task; it never hands anything back to them.
//!
//! - A target receives the kinds it lists, while the agent is away (`when: away`) or always.
//! - A `lead` target receives only the hand-off: every urgent reminder, away or not.
//! - While the agent is away and an away target takes a reminder, the desktop does not play it
//!   (the reminders' task asks [`replaces_desktop`]); back at the desk, what went out is listed
//!   once ("While you were away: 3 chats, longest 14 min").
//! - Every delivery and failure is an [`EngineEvent::Forwarded`] record (the diagnostics keep
//!   them); a target that refuses its token is said once on the desktop, until it works again
//!   or its settings change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::forward::queue::{Delivery, Outcome, Queue};
use crate::forward::{Event, Forward, ForwardChat, Service};
use crate::i18n::{self, Lang};
use crate::keychain::Keychain;
use crate::model::{Alert, AlertLevel, EngineEvent, ForwardRecord, Slot};
use crate::net::{NetFailure, Way};
use crate::notifier::ServiceMsg;
use crate::outage::Notice;
use crate::outbox::Outbox;
use crate::secret::Secret;
use crate::settings::forward::{ForwardTarget, What, When};
use crate::settings::{ProxySetting, Settings, TlsSettings};
use crate::web_panel::{ChatFields, WebPanel};

/// What a target may receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NewChat,
    /// A reminder at `step` (1: the first re-alert).
    Reminder {
        step: u32,
    },
    /// A reminder past the chat's urgent step.
    Urgent {
        step: u32,
    },
    Offline,
    Online,
}

impl Kind {
    pub fn of(alert: &Alert) -> Kind {
        match alert.level {
            AlertLevel::Urgent => Kind::Urgent { step: alert.step },
            AlertLevel::ReAlert => Kind::Reminder { step: alert.step },
        }
    }
}

/// Whether `target` receives `kind` now, the agent away or not. A lead target receives only
/// the hand-off ([`hands_off`]).
pub fn takes(target: &ForwardTarget, kind: Kind, away: bool) -> bool {
    if target.lead || (target.when == When::Away && !away) {
        return false;
    }
    let has = |what| target.kinds.contains(&what);
    match kind {
        Kind::NewChat => has(What::NewChat),
        Kind::Reminder { step } => has(What::Reminder) && step >= target.from_step,
        Kind::Urgent { .. } => has(What::Urgent),
        Kind::Offline | Kind::Online => has(What::Offline),
    }
}

/// Whether `target` is handed `kind` as the lead: urgent reminders, whether or not the agent
/// is away.
pub fn hands_off(target: &ForwardTarget, kind: Kind) -> bool {
    target.lead && matches!(kind, Kind::Urgent { .. })
}

/// Whether the desktop leaves `kind` to the phone: the agent is away and a target that is for
/// when they are away takes it. The reminders' task plays only what this leaves.
pub fn replaces_desktop(targets: &[ForwardTarget], kind: Kind, away: bool) -> bool {
    away && targets
        .iter()
        .any(|t| t.when == When::Away && takes(t, kind, true))
}

/// What the alerting tasks hand the forwarder.
#[derive(Debug)]
pub(crate) enum ForwardMsg {
    /// Reminders due now (a digest when several), and whether the agent was away when the
    /// reminders' task decided what the desktop plays: the two decide alike.
    Remind { alerts: Vec<Alert>, away: bool },
    /// A new chat's first notification was allowed.
    NewChat(Alert),
    /// The connection's warning, or its end.
    Outage(Notice, Option<NetFailure>),
}

/// A test sent to one target: delivered, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardCheck {
    pub id: String,
    pub delivered: bool,
    pub error: Option<String>,
}

/// How secrets are read for a delivery: each target's (ntfy's access token, Gotify's
/// application token, a webhook's secret address) and the proxy's password.
#[derive(Clone, Default)]
pub enum Secrets {
    /// The OS keychain, read for each delivery (never kept).
    #[default]
    Keychain,
    /// None at all: tools and tests that leave the keychain alone.
    None,
}

/// How long a delivery waits for the keychain: an unlock prompt while the screen is locked
/// must not hold a target's queue.
const KEYCHAIN_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

impl Secrets {
    pub async fn target(&self, id: &str) -> Result<Option<Secret>, crate::forward::Failure> {
        tokio::time::timeout(KEYCHAIN_WITHIN, self.read(crate::forward::secret_entry(id)))
            .await
            .map_err(|_| crate::forward::Failure::Keychain)
    }

    async fn proxy_password(&self, proxy: &ProxySetting) -> Option<Secret> {
        // Only a proxy of the settings that names a user has a password here; the desktop's
        // and the environment's are the connection's to find.
        match proxy {
            ProxySetting::Url(url) if url.user.is_some() => {
                self.read(Keychain::proxy_password()).await
            }
            _ => None,
        }
    }

    async fn read(&self, entry: Keychain) -> Option<Secret> {
        if let Secrets::None = self {
            return None;
        }
        match tokio::task::spawn_blocking(move || entry.get()).await {
            Ok(Ok(secret)) => secret,
            Ok(Err(error)) => {
                tracing::debug!(%error, "a forwarding secret cannot be read; sending without it");
                None
            }
            Err(_) => None,
        }
    }
}

/// The company's way out for forwards: the settings' proxy and CA file (never the chat
/// server's client certificate).
#[derive(Debug, Clone, Default, PartialEq)]
struct Route {
    proxy: ProxySetting,
    tls: TlsSettings,
}

impl Route {
    fn of(settings: &Settings) -> Route {
        Route {
            proxy: settings.server.proxy(),
            tls: TlsSettings {
                ca_file: settings.server.tls.ca_file.clone(),
                ..TlsSettings::default()
            },
        }
    }
}

/// Sends `forward` to `target` once, now (a queue's delivery, or a test).
async fn deliver(
    target: &ForwardTarget,
    route: &Route,
    secrets: &Secrets,
    forward: &Forward,
) -> Result<(), crate::forward::Failure> {
    let (secret, proxy_password) = tokio::join!(
        secrets.target(&target.id),
        tokio::time::timeout(KEYCHAIN_WITHIN, secrets.proxy_password(&route.proxy))
    );
    let secret = secret?;
    let proxy_password = proxy_password.map_err(|_| crate::forward::Failure::Keychain)?;
    let way = Way {
        proxy: &route.proxy,
        proxy_password: proxy_password.as_ref(),
        tls: &route.tls,
        key_passphrase: None,
    };
    crate::forward::send(target, secret.as_ref(), forward, &way).await
}

/// Sends `forward` to `target` now and says how it went, in `lang`: *Send test* and *Test my
/// alerts*.
pub async fn check(
    target: &ForwardTarget,
    settings: &Settings,
    secrets: &Secrets,
    forward: &Forward,
) -> ForwardCheck {
    let lang = Lang::of(settings.ui.language);
    let result = deliver(target, &Route::of(settings), secrets, forward).await;
    ForwardCheck {
        id: target.id.clone(),
        delivered: result.is_ok(),
        error: result
            .err()
            .map(|why| i18n::forward_failure_words(Service::of(&target.kind), &why, lang)),
    }
}

/// What a test sends: *Test my alerts*' words, in the agent's language.
pub fn test_forward(lang: Lang, at: DateTime<Utc>) -> Forward {
    let words = i18n::test_words(lang);
    Forward {
        event: Event::Test,
        title: words.summary,
        text: words.body,
        click: None,
        chats: Vec::new(),
        at,
    }
}

/// The forwarding task.
pub(crate) struct Forwarder {
    pub settings: watch::Receiver<Settings>,
    /// Whether the agent is away (`away`), as the desktop says.
    pub away: watch::Receiver<bool>,
    /// The chats waiting now (the reminders' task's): a forward about chats none of which
    /// still waits is not sent, nor tried again (a chat opened stops its hand-off).
    pub waiting: watch::Receiver<Arc<BTreeSet<UserId>>>,
    pub inbox: mpsc::Receiver<ForwardMsg>,
    pub outbox: Outbox,
    pub clock: Arc<dyn Clock>,
    /// For the desktop: "while you were away", a target's trouble, and a reminder an away
    /// target did not take after all.
    pub notify: Option<mpsc::Sender<ServiceMsg>>,
    pub secrets: Secrets,
    pub cancel: CancellationToken,
}

/// A target and its queue, as the settings last described it.
struct Running {
    target: ForwardTarget,
    route: Route,
    queue: Queue,
}

/// What went out while the agent was away, to list when they are back.
#[derive(Default)]
struct AwayLog {
    /// Each chat forwarded, with its longest wait.
    chats: BTreeMap<UserId, std::time::Duration>,
    targets: BTreeSet<String>,
}

/// A forward to an away target while the agent was away, until it ends: delivered, it goes
/// into the away log; not (or not at the first try), the reminders it stood for the desktop
/// did not play are played after all.
struct Pending {
    alerts: Vec<Alert>,
    /// The reminders the desktop left to this forward.
    instead_of_desktop: bool,
}

/// The task's state between messages.
#[derive(Default)]
struct State {
    running: BTreeMap<String, Running>,
    /// Targets whose trouble has been said, until they work again or change.
    told: BTreeSet<String>,
    log: AwayLog,
    pending: BTreeMap<u64, Pending>,
    /// Chats whose reminder has been played on the desktop after a forward failed, per the
    /// step it was at: played once, however many targets failed.
    played: BTreeSet<(UserId, u32)>,
    next_id: u64,
}

impl Forwarder {
    pub async fn run(mut self) {
        let (outcomes_tx, mut outcomes) = mpsc::unbounded_channel();
        let mut state = State::default();
        let mut settings = self.settings.borrow_and_update().clone();
        self.follow(&settings, &mut state.running, &outcomes_tx);
        let mut away = *self.away.borrow_and_update();
        // Nobody may say (no source): then the agent is at the desk for good.
        let mut followed = true;
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                msg = self.inbox.recv() => match msg {
                    // The agent's presence now, not as this loop last saw it change: the
                    // change may be queued behind this message.
                    Some(msg) => {
                        let now = *self.away.borrow();
                        self.handle(msg, &settings, now, &mut state);
                    }
                    None => return,
                },
                Some(outcome) = outcomes.recv() => self.record(outcome, &settings, &mut state),
                changed = self.settings.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    settings = self.settings.borrow_and_update().clone();
                    // A target whose settings changed may work now: its trouble is said again.
                    let running = &state.running;
                    state.told.retain(|id| {
                        running.get(id).map(|r| &r.target)
                            == settings.notifications.forward.iter().find(|t| &t.id == id)
                    });
                    self.follow(&settings, &mut state.running, &outcomes_tx);
                }
                changed = self.away.changed(), if followed => {
                    if changed.is_err() {
                        followed = false;
                        continue;
                    }
                    let now = *self.away.borrow_and_update();
                    if away && !now {
                        self.welcome_back(std::mem::take(&mut state.log), &settings);
                    }
                    away = now;
                }
            }
        }
    }

    /// A queue for each target of `settings`, kept while the target stays as it was (a queue
    /// dropped stops at once, with what it held).
    fn follow(
        &self,
        settings: &Settings,
        running: &mut BTreeMap<String, Running>,
        outcomes: &mpsc::UnboundedSender<Outcome>,
    ) {
        let route = Route::of(settings);
        let targets = &settings.notifications.forward;
        running.retain(|id, r| {
            targets.iter().any(|t| &t.id == id && *t == r.target) && r.route == route
        });
        for target in targets {
            if running.contains_key(&target.id) {
                continue;
            }
            let (t, r, secrets) = (target.clone(), route.clone(), self.secrets.clone());
            let send = move |forward: Forward| {
                let (t, r, secrets) = (t.clone(), r.clone(), secrets.clone());
                async move { deliver(&t, &r, &secrets, &forward).await }
            };
            let waiting = self.waiting.clone();
            // Reminders and hand-offs are about chats the reminders' task has just seen
            // waiting (it publishes them first); a new chat may reach here before it is seen.
            let wanted = Arc::new(move |forward: &Forward| match forward.event {
                Event::Reminder { .. } | Event::Urgent { .. } | Event::Lead { .. } => {
                    let now = waiting.borrow();
                    forward.chats.iter().any(|c| now.contains(&c.user_id))
                }
                _ => true,
            });
            let queue = Queue::start(&target.id, send, wanted, outcomes.clone());
            running.insert(
                target.id.clone(),
                Running {
                    target: target.clone(),
                    route: route.clone(),
                    queue,
                },
            );
        }
    }

    fn handle(&self, msg: ForwardMsg, settings: &Settings, away: bool, state: &mut State) {
        if state.running.is_empty() {
            return;
        }
        // A reminder is routed as the reminders' task saw the agent when it left it here.
        let away = match &msg {
            ForwardMsg::Remind { away, .. } => *away,
            _ => away,
        };
        let lang = Lang::of(settings.ui.language);
        let privacy = settings.notifications.privacy;
        let panel = settings
            .server
            .web_panel
            .as_deref()
            .and_then(|t| WebPanel::parse(t).ok());
        let at = self.clock.utc();
        let words = Words {
            lang,
            privacy,
            panel: panel.as_ref(),
            at,
        };
        let targets = &settings.notifications.forward;
        let State {
            running,
            pending,
            next_id,
            ..
        } = state;
        let mut submit = |r: &Running, forward: Forward, alerts: Vec<Alert>, instead: bool| {
            *next_id += 1;
            if away && r.target.when == When::Away && !alerts.is_empty() {
                pending.insert(
                    *next_id,
                    Pending {
                        alerts,
                        instead_of_desktop: instead,
                    },
                );
            }
            r.queue.submit(*next_id, forward);
        };
        match msg {
            ForwardMsg::Remind { alerts, .. } => {
                for r in running.values() {
                    let mine: Vec<&Alert> = alerts
                        .iter()
                        .filter(|a| takes(&r.target, Kind::of(a), away))
                        .collect();
                    if !mine.is_empty() {
                        // The reminders the desktop left to the away targets, as the reminders'
                        // task decided with the same rule.
                        let instead = mine
                            .iter()
                            .any(|a| replaces_desktop(targets, Kind::of(a), away));
                        let owned = mine.iter().map(|a| (*a).clone()).collect();
                        submit(r, words.reminder(&mine), owned, instead);
                    }
                    let handed: Vec<&Alert> = alerts
                        .iter()
                        .filter(|a| hands_off(&r.target, Kind::of(a)))
                        .collect();
                    if !handed.is_empty() {
                        submit(r, words.lead(&handed), Vec::new(), false);
                    }
                }
            }
            ForwardMsg::NewChat(chat) => {
                for r in running.values() {
                    if takes(&r.target, Kind::NewChat, away) {
                        submit(r, words.new_chat(&chat), vec![chat.clone()], false);
                    }
                }
            }
            ForwardMsg::Outage(notice, failure) => {
                let (kind, event) = match notice {
                    Notice::Offline { .. } => (Kind::Offline, Event::Offline),
                    Notice::Back { .. } => (Kind::Online, Event::Online),
                    Notice::Withdrawn => return,
                };
                let w = i18n::outage_words(&notice, failure.as_ref(), lang);
                let forward = Forward {
                    event,
                    title: w.summary,
                    text: w.body,
                    click: None,
                    chats: Vec::new(),
                    at,
                };
                for r in running.values() {
                    if takes(&r.target, kind, away) {
                        submit(r, forward.clone(), Vec::new(), false);
                    }
                }
            }
        }
    }

    /// Records how a forward went: its end for the diagnostics, a delivery while away for the
    /// away log, a reminder not taken after all for the desktop, a target's trouble said once.
    fn record(&self, outcome: Outcome, settings: &Settings, state: &mut State) {
        let lang = Lang::of(settings.ui.language);
        let service = state
            .running
            .get(&outcome.target)
            .map(|r| Service::of(&r.target.kind));
        let words = |why: &crate::forward::Failure| match service {
            Some(service) => i18n::forward_failure_words(service, why, lang),
            None => why.to_string(),
        };
        let delivered = matches!(outcome.delivery, Delivery::Delivered { .. });
        let not_taken = match &outcome.delivery {
            Delivery::Delivered { .. } | Delivery::Withdrawn => false,
            Delivery::Retrying { .. }
            | Delivery::Refused { .. }
            | Delivery::GaveUp { .. }
            | Delivery::Dropped => true,
        };
        if let Some(p) = state.pending.get(&outcome.id) {
            if delivered && *self.away.borrow() {
                state.log.add(&p.alerts, &outcome.target);
            }
            if not_taken && p.instead_of_desktop {
                // No customer waits unnoticed: what the phone did not get, the desk plays.
                let play: Vec<Alert> = p
                    .alerts
                    .iter()
                    .filter(|a| state.played.insert((a.user_id, a.step)))
                    .cloned()
                    .collect();
                if let (false, Some(tx)) = (play.is_empty(), &self.notify) {
                    let _ = tx.try_send(ServiceMsg::Remind(play));
                }
            }
        }
        let (attempts, error, trouble) = match &outcome.delivery {
            Delivery::Delivered { attempts } => (*attempts, None, false),
            Delivery::Refused { attempts, why } | Delivery::GaveUp { attempts, why } => {
                (*attempts, Some(words(why)), true)
            }
            Delivery::Dropped => (0, Some(i18n::forward_dropped(lang)), false),
            Delivery::Withdrawn => (0, Some(i18n::forward_withdrawn(lang)), false),
            // Not the end: the desk has been told what the phone did not get; the record
            // comes with the end.
            Delivery::Retrying { .. } => return,
        };
        state.pending.remove(&outcome.id);
        if state.pending.is_empty() {
            state.played.clear();
        }
        match &error {
            None => {
                state.told.remove(&outcome.target);
            }
            Some(error) => {
                tracing::warn!(target = %outcome.target, %error, "a forward did not arrive")
            }
        }
        if trouble
            && state.told.insert(outcome.target.clone())
            && let (Some(tx), Some(error)) = (&self.notify, &error)
        {
            let _ = tx.try_send(ServiceMsg::Say {
                slot: Slot::Forward,
                summary: i18n::forward_trouble(&outcome.target, lang),
                body: error.clone(),
            });
        }
        self.outbox.send(EngineEvent::Forwarded(ForwardRecord {
            at: self.clock.utc(),
            target: outcome.target,
            event: outcome.event,
            delivered,
            attempts,
            error,
        }));
    }

    /// Back at the desk: what went out while away, once.
    fn welcome_back(&self, log: AwayLog, settings: &Settings) {
        let Some(longest) = log.chats.values().max().copied() else {
            return;
        };
        let lang = Lang::of(settings.ui.language);
        let targets: Vec<&str> = log.targets.iter().map(String::as_str).collect();
        let (summary, body) =
            i18n::away_summary(log.chats.len() as u32, longest, &targets.join(", "), lang);
        if let Some(tx) = &self.notify {
            let _ = tx.try_send(ServiceMsg::Say {
                slot: Slot::Away,
                summary,
                body,
            });
        }
    }
}

impl AwayLog {
    fn add(&mut self, alerts: &[Alert], target: &str) {
        for a in alerts {
            let longest = self.chats.entry(a.user_id).or_default();
            *longest = (*longest).max(a.waited);
        }
        self.targets.insert(target.to_string());
    }
}

/// The words of a forward, privacy mode applied.
struct Words<'a> {
    lang: Lang,
    privacy: bool,
    panel: Option<&'a WebPanel>,
    at: DateTime<Utc>,
}

impl Words<'_> {
    fn chats(&self, alerts: &[&Alert]) -> Vec<ForwardChat> {
        alerts
            .iter()
            .map(|a| ForwardChat {
                user_id: a.user_id,
                name: a.name.clone(),
                waiting_secs: a.waited.as_secs(),
                source: a.source.clone().unwrap_or_default(),
            })
            .collect()
    }

    /// The web panel's link to the chat that has waited longest.
    fn click(&self, alerts: &[&Alert]) -> Option<String> {
        let first = alerts.iter().max_by_key(|a| a.waited)?;
        Some(self.panel?.url_for(ChatFields {
            user_id: first.user_id,
            username: first.username.as_deref(),
            source: first.source.as_deref(),
        }))
    }

    fn reminder(&self, alerts: &[&Alert]) -> Forward {
        let owned: Vec<Alert> = alerts.iter().map(|a| (*a).clone()).collect();
        let w = i18n::reminder_words(&owned, self.lang, self.privacy);
        let step = alerts.iter().map(|a| a.step).max().unwrap_or(1);
        let urgent = alerts.iter().any(|a| a.level == AlertLevel::Urgent);
        Forward {
            event: match urgent {
                true => Event::Urgent { step },
                false => Event::Reminder { step },
            },
            title: w.summary,
            text: w.body,
            click: self.click(alerts),
            chats: self.chats(alerts),
            at: self.at,
        }
    }

    fn lead(&self, alerts: &[&Alert]) -> Forward {
        let owned: Vec<Alert> = alerts.iter().map(|a| (*a).clone()).collect();
        let (title, text) = i18n::lead_words(&owned, self.lang);
        Forward {
            event: Event::Lead {
                step: alerts.iter().map(|a| a.step).max().unwrap_or(1),
            },
            title,
            text,
            click: self.click(alerts),
            chats: self.chats(alerts),
            at: self.at,
        }
    }

    fn new_chat(&self, chat: &Alert) -> Forward {
        let content = crate::coalesce::Content::Chat {
            user_id: chat.user_id,
            name: chat.name.clone(),
            kind: crate::model::NotifyKind::NewChat,
            count: 1,
            text: chat.text.clone(),
            file_path: chat.file_path.clone(),
        };
        let w = i18n::words(&content, self.lang, self.privacy);
        Forward {
            event: Event::NewChat,
            title: w.summary,
            text: w.body,
            click: self.click(&[chat]),
            chats: self.chats(&[chat]),
            at: self.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::forward::TargetKind;

    fn target(when: When, kinds: &[What], from_step: u32, lead: bool) -> ForwardTarget {
        ForwardTarget {
            id: "t".into(),
            kind: TargetKind::Webhook {
                url: Some("https://x".into()),
            },
            when,
            kinds: kinds.to_vec(),
            from_step,
            lead,
        }
    }

    #[test]
    fn each_target_takes_what_it_lists_when_it_says() {
        use Kind::*;
        use What as W;
        let all = [W::NewChat, W::Reminder, W::Urgent, W::Offline];
        let phone = target(When::Away, &all, 1, false);
        let later = target(When::Away, &[W::Reminder], 3, false);
        let log = target(When::Always, &[W::NewChat, W::Offline], 1, false);
        let lead = target(When::Away, &all, 1, true);
        let cases = [
            (&phone, Reminder { step: 1 }, true, true),
            (&phone, Reminder { step: 1 }, false, false),
            (&phone, Urgent { step: 5 }, true, true),
            (&phone, Online, true, true),
            (&later, Reminder { step: 2 }, true, false),
            (&later, Reminder { step: 3 }, true, true),
            (&later, Urgent { step: 6 }, true, false),
            (&log, NewChat, false, true),
            (&log, Offline, false, true),
            (&log, Reminder { step: 1 }, true, false),
            (&lead, Reminder { step: 1 }, true, false),
            (&lead, Urgent { step: 5 }, true, false),
        ];
        for (target, kind, away, expected) in cases {
            assert_eq!(
                takes(target, kind, away),
                expected,
                "{kind:?} away={away} to {target:?}"
            );
        }
        assert!(hands_off(&lead, Urgent { step: 5 }));
        assert!(!hands_off(&lead, Reminder { step: 5 }));
        assert!(!hands_off(&phone, Urgent { step: 5 }));
    }

    #[test]
    fn the_desktop_leaves_a_reminder_only_to_an_away_target_that_takes_it() {
        use What as W;
        let phone = target(When::Away, &[W::Reminder], 2, false);
        let always = target(When::Always, &[W::Reminder], 1, false);
        let lead = target(When::Away, &[W::Urgent], 1, true);
        let step = |step| Kind::Reminder { step };
        assert!(replaces_desktop(
            std::slice::from_ref(&phone),
            step(2),
            true
        ));
        assert!(!replaces_desktop(
            std::slice::from_ref(&phone),
            step(2),
            false
        ));
        assert!(!replaces_desktop(
            std::slice::from_ref(&phone),
            step(1),
            true
        ));
        assert!(!replaces_desktop(&[always, lead.clone()], step(2), true));
        assert!(!replaces_desktop(&[lead], Kind::Urgent { step: 5 }, true));
        assert!(!replaces_desktop(&[], step(2), true));
    }
}
