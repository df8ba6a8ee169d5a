//! The engine's outward types: what the UI, the CLI and the app shell receive. Each is serde
//! with snake_case fields, documented once here.

use std::time::Duration;

use chatbell_protocol::{MessageId, TimestampQuality, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sound::{PlayReport, SoundKind, Tone};

/// A message's local sequence number: its row in the store, increasing in receive order.
/// Timelines are ordered and paged by it.
pub type Seq = i64;

/// A chat as the chat list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSummary {
    pub user_id: UserId,
    /// What to call the chat: the user's name, else their username, else "#<id>".
    pub name: String,
    pub user_name: Option<String>,
    pub username: Option<String>,
    pub source: Option<String>,
    /// `None` until a presence event has been seen.
    pub online: Option<bool>,
    pub typing: bool,
    /// Messages the agent has not seen, derived from the store.
    pub unread: u32,
    pub last_message: Option<Message>,
    /// The end user has read the agent's messages up to this id (`message_read`).
    pub peer_read_up_to: Option<MessageId>,
    pub created_at: DateTime<Utc>,
    /// When the oldest message the agent has not opened arrived on this machine (local receive
    /// time, so a server's clock cannot make a customer look newer); `None` when nothing is
    /// unread. Derived from the store like `unread`.
    pub waiting_since: Option<DateTime<Utc>>,
    /// Snoozed until then, as stored: a time in the past means the snooze has ended.
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// How the chat list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatOrder {
    /// Newest activity first.
    #[default]
    Activity,
    /// Waiting chats first, the longest wait first; then the rest by activity.
    Waiting,
}

/// Who is waiting for the agent to open their chat, for the tray and the window title.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WaitingSummary {
    /// Chats with messages the agent has not opened.
    pub chats: u32,
    /// The earliest `waiting_since` among them.
    pub longest_since: Option<DateTime<Utc>>,
    /// Chats whose escalation has reached the urgent step (and is not stopped or held).
    pub urgent: u32,
    /// Of the waiting chats, those snoozed now.
    pub snoozed: u32,
}

/// One message of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub seq: Seq,
    /// `None` for the first message a `new_chat` carries: the protocol gives it no id.
    pub message_id: Option<MessageId>,
    pub user_id: UserId,
    /// Plain text written by a stranger: never markup.
    pub text: Option<String>,
    /// An attachment name on the service; never a local path to open.
    pub file_path: Option<String>,
    pub sent_at: DateTime<Utc>,
    /// Whether `sent_at` came from the frame or stands in for a missing/invalid one.
    pub sent_at_quality: TimestampQuality,
    pub received_at: DateTime<Utc>,
}

/// A stretch when the connection was down: events sent meanwhile may be missing
/// (the protocol has no replay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineItem {
    Message(Message),
    Gap(Gap),
}

/// A page of a chat's timeline, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub user_id: UserId,
    pub items: Vec<TimelineItem>,
    /// Pass as `before` to get the page before this one; `None` at the start of the chat.
    pub next_before: Option<Seq>,
    pub peer_read_up_to: Option<MessageId>,
}

/// A piece of a search snippet; `hit` marks the matched words. Text, never markup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub chat_name: String,
    pub message: Message,
    pub snippet: Vec<Segment>,
}

/// The connection, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnState {
    /// No server URL configured.
    NotConfigured,
    Connecting {
        attempt: u32,
    },
    Online {
        since: DateTime<Utc>,
    },
    /// Down; the next attempt is at `retry_at`.
    Offline {
        attempt: u32,
        retry_at: DateTime<Utc>,
        /// Why, in terms the agent can act on.
        failure: crate::net::NetFailure,
        /// What kind of trouble `failure` is.
        cause: OfflineCause,
        /// Since when nothing has been heard: the start of the gap the timeline records.
        since: DateTime<Utc>,
    },
    /// The server refused the token (HTTP 401/403). Retried rarely; fix the token in settings.
    Unauthorized {
        status: u16,
        retry_at: DateTime<Utc>,
        since: DateTime<Utc>,
    },
    Stopped,
}

/// A reminder to show: one chat, or with others in a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub user_id: UserId,
    pub name: String,
    pub new_chat: bool,
    pub waited: Duration,
    pub level: AlertLevel,
    pub text: Option<String>,
    pub file_path: Option<String>,
    /// The ladder's step (1: the first re-alert).
    pub step: u32,
    /// For the web panel's link in a forward.
    pub username: Option<String>,
    pub source: Option<String>,
}

/// Why the connection is down, in the terms an agent can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineCause {
    /// The network is there, the server is not (refused, timed out, closed on us).
    ServerUnreachable,
    /// This computer has no route to the network, or names cannot be looked up.
    NoNetwork,
}

impl OfflineCause {
    /// The kind of trouble a connection failure is, for the offline alarm's words.
    pub fn of(failure: &crate::net::NetFailure) -> OfflineCause {
        use crate::net::NetFailure as F;
        match failure {
            F::Dns { .. } | F::NoNetwork => OfflineCause::NoNetwork,
            _ => OfflineCause::ServerUnreachable,
        }
    }
}

/// What one committed write batch changed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StoreUpdate {
    /// Chats whose summary changed, as they are now.
    pub chats: Vec<ChatSummary>,
    /// New messages, in receive order.
    pub messages: Vec<Message>,
    pub unread_total: u64,
    /// Frames stored in this batch, of which malformed and duplicates.
    pub frames: u32,
    pub malformed: u32,
    pub duplicates: u32,
    /// A stretch of lost connection recorded in this batch.
    pub gap: Option<Gap>,
}

/// Why a notification was or was not raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Passed the policy; handed to the notifier (possibly coalesced there).
    Allowed,
    Suppressed {
        reason: SuppressReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressReason {
    NotificationsOff,
    DoNotDisturb,
    QuietHours,
    Muted,
    ChatOpenAndFocused,
    /// The same message arrived again; it was notified (or not) the first time.
    Duplicate,
    /// The agent snoozed the chat; it is brought back when the snooze ends.
    Snoozed,
    /// The agent is away: the reminder went to a forwarding target instead of being played.
    Away,
}

/// A reminder about a chat that is still waiting, after the first notification (step 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// 1 for the first re-alert, then counting.
    pub step: u32,
    pub level: AlertLevel,
    /// How long the customer had waited when the step came due.
    pub waited_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertLevel {
    ReAlert,
    /// Critical urgency, the tray's alert icon, the window asks for attention.
    Urgent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    NewChat,
    NewMessage,
}

/// One notification decision, for the "why didn't I get a notification" diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub at: DateTime<Utc>,
    pub user_id: UserId,
    pub kind: NotifyKind,
    pub message_id: Option<MessageId>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Set for the reminders after the first notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
}

/// Which on-screen notification a command is about: one per chat, plus one digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "slot", content = "user_id", rename_all = "snake_case")]
pub enum Slot {
    Chat(UserId),
    Digest,
    /// The reminder about several waiting chats at once.
    Waiting,
    /// Chatbell's own connection: offline, back online, or the token refused.
    Connection,
    /// Back at the desk: what was forwarded while away.
    Away,
    /// A forwarding target refused.
    Forward,
}

/// What the notifier did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Delivery {
    Shown {
        slot: Slot,
        replaced: bool,
        count: u32,
        sound: bool,
        summary: String,
    },
    Closed {
        slot: Slot,
    },
    Failed {
        slot: Slot,
        error: String,
    },
}

/// Everything the engine tells its subscribers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    Connection(ConnState),
    Stored(StoreUpdate),
    Typing {
        user_id: UserId,
        typing: bool,
    },
    /// The notification decisions of one committed batch, in order.
    Decisions {
        decisions: Vec<Decision>,
    },
    Delivery(Delivery),
    /// A forward arrived, or did not (`forwarder`).
    Forwarded(ForwardRecord),
    /// The user clicked a notification: open this chat (`None`: the digest, open the list).
    NotificationOpened {
        user_id: Option<UserId>,
    },
    /// Who is waiting changed (not sent as time passes: the waits grow on their own).
    Waiting(WaitingSummary),
    /// A chat was snoozed until `until`, or unsnoozed (`None`).
    Snoozed {
        user_id: UserId,
        until: Option<DateTime<Utc>>,
    },
    /// The agent asked, on a notification, to answer in the service's web panel: open `url`
    /// (filled from the configured template, percent-encoded) in the browser.
    WebPanelRequested {
        user_id: UserId,
        url: String,
    },
    /// A sound played (when the device took its first samples), or sounds started failing
    /// (once, not for every sound while they fail).
    Sound(SoundEvent),
    /// The agent asked, on a notification, to fix something in Settings.
    SettingsRequested {
        section: SettingsSection,
    },
    /// The agent read a chat (here or in another view); its unread count is now 0.
    ChatRead {
        user_id: UserId,
        unread_total: u64,
    },
    /// The store refused a write (disk full, read-only); the batch is held and retried.
    /// Sent once when writes start failing.
    StoreFailed {
        error: String,
    },
    /// The engine cannot go on (its store writer died): nothing more will be stored. The
    /// shell restarts the engine or exits with this error.
    Failed {
        error: String,
    },
}

/// A sound Chatbell played, or failed to play.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoundEvent {
    pub kind: SoundKind,
    pub tone: Tone,
    pub outcome: SoundOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SoundOutcome {
    Played(PlayReport),
    Failed { error: String },
}

/// A part of Settings a notification can send the agent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsSection {
    Server,
}

/// One line of the notification diagnostics: a decision or what the notifier did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Diagnostic {
    Decision(Decision),
    Delivery(Delivery),
    Forward(ForwardRecord),
}

/// Why a forward is sent (`forward`, `forwarder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ForwardEvent {
    NewChat,
    /// A reminder: the chat's `step`-th re-alert.
    Reminder {
        step: u32,
    },
    /// A reminder past the chat's urgent step.
    Urgent {
        step: u32,
    },
    /// To the lead: a chat waited past its urgent step.
    Lead {
        step: u32,
    },
    /// The connection has been down past the offline threshold.
    Offline,
    /// Back online after an offline warning.
    Online,
    /// *Test my alerts* or `chatbell-cli forward test`.
    Test,
}

/// One forward's end (`forwarder`), for the diagnostics and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardRecord {
    pub at: DateTime<Utc>,
    /// The target's id.
    pub target: String,
    #[serde(flatten)]
    pub event: ForwardEvent,
    pub delivered: bool,
    pub attempts: u32,
    /// Why not, in the agent's language (never a secret).
    pub error: Option<String>,
}

/// What the UI says about itself, so the open chat in a focused window does not notify or
/// accumulate unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Focus {
    pub window_focused: bool,
    pub open_chat: Option<UserId>,
}

impl Focus {
    pub fn is_watching(&self, user_id: UserId) -> bool {
        self.window_focused && self.open_chat == Some(user_id)
    }
}

/// The name to show for a chat.
pub fn display_name(user_id: UserId, user_name: Option<&str>, username: Option<&str>) -> String {
    let pick = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    pick(user_name)
        .or_else(|| pick(username).map(|u| format!("@{u}")))
        .unwrap_or_else(|| format!("#{user_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_falls_back_from_name_to_username_to_id() {
        assert_eq!(
            display_name(1, Some("Иван Петров"), Some("ivan")),
            "Иван Петров"
        );
        assert_eq!(display_name(1, Some("  "), Some("ivan")), "@ivan");
        assert_eq!(display_name(-5, None, None), "#-5");
    }

    #[test]
    fn events_serialize_with_one_tag_each() {
        let e = EngineEvent::Typing {
            user_id: 5,
            typing: true,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"typing","user_id":5,"typing":true}"#
        );
        let s = ConnState::Connecting { attempt: 2 };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"state":"connecting","attempt":2}"#
        );
        let d = Decision {
            at: DateTime::from_timestamp(0, 0).unwrap(),
            user_id: 1,
            kind: NotifyKind::NewMessage,
            message_id: Some(3),
            outcome: Outcome::Suppressed {
                reason: SuppressReason::Muted,
            },
            escalation: None,
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["outcome"], "suppressed");
        assert_eq!(json["reason"], "muted");
        assert!(
            json.get("escalation").is_none(),
            "step 0 has no escalation key"
        );
    }
}
