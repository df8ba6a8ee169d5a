//! What the window and the page are told, and what a failed command says: the types of
//! `docs/ipc.md`, shared by the process that owns the engine and the window that shows it (the
//! engine's own types are in `chatbell_engine::model`).

use std::path::PathBuf;

use chatbell_engine::model::{
    ChatSummary, ConnState, Gap, Message, SettingsSection, WaitingSummary,
};
use chatbell_engine::net::NetFailure;
use chatbell_engine::settings::forward;
use chatbell_engine::settings::organization::{OrgProblem, Organization};
use chatbell_engine::settings::{
    Bounds, LADDER_MINUTES, MAX_SUBSCRIPTIONS, OFFLINE_ALERT_SECS, Problem, QUERY_PARAM_LEN,
    RETENTION_DAYS, SNOOZE_MINUTES, Settings, SettingsError, Unit, VOLUME,
};
use chatbell_engine::sound::AudioStatus;
use chatbell_engine::store::{StoreError, StoreReason};
use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which server the app is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The embedded simulator, with its own database.
    Demo,
    Server,
    /// No server configured yet: the store is shown, nothing connects.
    Unconfigured,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppInfo {
    pub version: String,
    pub mode: Mode,
    pub server_url: Option<String>,
    /// Whether each secret is stored in the keychain (never what it is).
    pub has_token: bool,
    pub has_proxy_password: bool,
    pub has_key_passphrase: bool,
    pub tray_available: bool,
    /// A chat to open: a notification was clicked before the window existed.
    pub pending_open_chat: Option<UserId>,
    pub unread_total: u64,
    /// Who is waiting for the agent to open their chat (as the tray shows it).
    pub waiting: WaitingSummary,
    pub connection: ConnState,
    pub settings: Settings,
    /// Something the user should know once (e.g. a settings file that could not be read).
    pub notice: Option<String>,
    /// Whether sounds reach the audio device, as the last one found.
    pub audio: AudioStatus,
    /// A part of Settings to open: asked for (a notification's button) before the window
    /// existed.
    pub pending_settings: Option<SettingsSection>,
    /// What the settings' numbers may be: the page's inputs take their bounds from here.
    pub limits: Limits,
    /// The organization's file: what it locks, and what is wrong with it.
    pub organization: OrganizationInfo,
    /// The forwarding targets (by id) whose secret is stored in the keychain (never what it is).
    pub forward_secrets: Vec<String>,
    /// Whether the agent counts as away now (read only while a forwarding target is set).
    pub away: bool,
}

/// `chatbell:organization`, and `AppInfo.organization`: the organization's settings file as
/// read (`docs/deployment.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationInfo {
    /// Where it is looked for.
    pub path: PathBuf,
    /// Whether there is a file there (most computers have none).
    pub present: bool,
    /// The dotted keys it locks (`server.url`): the page disables their fields.
    pub locked: Vec<String>,
    /// Why the file is set aside as a whole, if it is (never quoting a value).
    pub problem: Option<OrgProblem>,
    /// Say the problem now (the banner): true once per problem, the first time a window is told.
    pub announce: bool,
}

impl OrganizationInfo {
    pub fn of(org: &Organization) -> OrganizationInfo {
        OrganizationInfo {
            path: org.path.clone(),
            present: org.present,
            locked: org.locked_keys(),
            problem: org.problem.clone(),
            announce: false,
        }
    }
}

/// The bounds `Settings::validate` holds the settings' numbers to, for the page's inputs (and
/// its own check before saving): the engine's constants, the one copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// `store.retention_days`.
    pub retention_days: Bounds,
    /// Every step of a reminder ladder (`notifications.escalation`).
    pub ladder_minutes: Bounds,
    /// `notifications.snooze_minutes`.
    pub snooze_minutes: Bounds,
    /// `notifications.sounds.volume`.
    pub volume: Bounds,
    /// `notifications.offline_alert_secs`.
    pub offline_alert_secs: Bounds,
    /// How many user ids `server.subscriptions` may hold.
    pub subscriptions: Bounds,
    /// How long `server.query_param` may be, in characters.
    pub query_param_len: Bounds,
    /// `notifications.away.idle_minutes`.
    pub idle_minutes: Bounds,
    /// How many targets `notifications.forward` may hold.
    pub forward_targets: Bounds,
    /// A target's `from_step`.
    pub from_step: Bounds,
}

impl Limits {
    pub fn of_settings() -> Limits {
        Limits {
            retention_days: Bounds::of(&RETENTION_DAYS, Unit::Days),
            ladder_minutes: Bounds::of(&LADDER_MINUTES, Unit::Minutes),
            snooze_minutes: Bounds::of(&SNOOZE_MINUTES, Unit::Minutes),
            volume: Bounds::of(&VOLUME, Unit::Percent),
            offline_alert_secs: Bounds::of(&OFFLINE_ALERT_SECS, Unit::Seconds),
            subscriptions: Bounds {
                min: 0,
                max: MAX_SUBSCRIPTIONS as u64,
                unit: Unit::UserIds,
            },
            query_param_len: Bounds {
                min: *QUERY_PARAM_LEN.start() as u64,
                max: *QUERY_PARAM_LEN.end() as u64,
                unit: Unit::Characters,
            },
            idle_minutes: Bounds::of(&forward::IDLE_MINUTES, Unit::Minutes),
            forward_targets: Bounds {
                min: 0,
                max: forward::MAX_TARGETS as u64,
                unit: Unit::Targets,
            },
            from_step: Bounds::of(&forward::FROM_STEP, Unit::Steps),
        }
    }
}

/// Whether a forwarding target's secret is stored now (`set_forward_secret`,
/// `clear_forward_secret`): the page knows it for a draft AppInfo does not list yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardSecret {
    pub id: String,
    pub stored: bool,
}

/// A secret of the connection, kept in the system keychain only (never in the settings, a log or
/// an error): `set_secret` and `clear_secret` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretName {
    /// The API token.
    Token,
    /// The password for the user named in `server.proxy` (`http://user@proxy:3128`).
    ProxyPassword,
    /// The passphrase of the client key (`server.tls.client_key`).
    KeyPassphrase,
}

impl SecretName {
    pub const ALL: [SecretName; 3] = [
        SecretName::Token,
        SecretName::ProxyPassword,
        SecretName::KeyPassphrase,
    ];

    /// Its name in English, for an error's message.
    pub fn label(self) -> &'static str {
        match self {
            SecretName::Token => "token",
            SecretName::ProxyPassword => "proxy password",
            SecretName::KeyPassphrase => "key passphrase",
        }
    }
}

/// `chatbell:stored`: what a write batch (or several, merged) changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub chats: Vec<ChatSummary>,
    /// Only the open chat's new messages: the UI shows no others.
    pub messages: Vec<Message>,
    pub unread_total: u64,
    pub gap: Option<Gap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    pub user_id: UserId,
    pub typing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRead {
    pub user_id: UserId,
    pub unread_total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenChat {
    pub user_id: Option<UserId>,
}

/// `chatbell:open-settings`: show Settings at `section`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSettings {
    pub section: SettingsSection,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreFailed {
    pub error: String,
}

/// `chatbell:snoozed`, and what `snooze_chat` answers: the chat is snoozed until `until`
/// (`None`: unsnoozed; never `None` from `snooze_chat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snoozed {
    pub user_id: UserId,
    pub until: Option<DateTime<Utc>>,
}

/// A web panel link filled for the sample chat (`preview_web_panel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebPanelPreview {
    pub url: String,
}

/// `chatbell:service`: whether the window's background service (the resident process) is
/// there. `running: false` while it is being restarted; nothing the page asks can be done then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub running: bool,
}

/// An event for the page, with its payload. Its name on the page (`chatbell:…`) is given by
/// [`UiEvent::name`], the one place the names are written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "payload", rename_all = "snake_case")]
pub enum UiEvent {
    Connection(ConnState),
    Stored(Stored),
    Typing(Typing),
    ChatRead(ChatRead),
    OpenChat(OpenChat),
    Settings(Box<Settings>),
    Resync,
    StoreFailed(StoreFailed),
    Waiting(WaitingSummary),
    Snoozed(Snoozed),
    OpenSettings(OpenSettings),
    Service(Service),
    Organization(OrganizationInfo),
}

impl UiEvent {
    /// The event's name on the page (`ui/js/api.js` `EVENTS`, `docs/ipc.md`).
    pub fn name(&self) -> &'static str {
        match self {
            UiEvent::Connection(_) => "chatbell:connection",
            UiEvent::Stored(_) => "chatbell:stored",
            UiEvent::Typing(_) => "chatbell:typing",
            UiEvent::ChatRead(_) => "chatbell:chat-read",
            UiEvent::OpenChat(_) => "chatbell:open-chat",
            UiEvent::Settings(_) => "chatbell:settings",
            UiEvent::Resync => "chatbell:resync",
            UiEvent::StoreFailed(_) => "chatbell:store-failed",
            UiEvent::Waiting(_) => "chatbell:waiting",
            UiEvent::Snoozed(_) => "chatbell:snoozed",
            UiEvent::OpenSettings(_) => "chatbell:open-settings",
            UiEvent::Service(_) => "chatbell:service",
            UiEvent::Organization(_) => "chatbell:organization",
        }
    }

    /// What the page's handler is given (`null` for `resync`).
    pub fn payload(&self) -> serde_json::Value {
        let mut tagged = serde_json::to_value(self).expect("events serialize");
        tagged
            .get_mut("payload")
            .map(serde_json::Value::take)
            .unwrap_or_default()
    }
}

/// What a failed command tells the UI: a kind to branch on and a message in English (for logs
/// and for a kind the page does not know). What the page words itself crosses as data: a store
/// error's `reason` and file, a setting's `field` and `problem` (`docs/ipc.md`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandError {
    /// The database cannot be used: why, and which file.
    #[error("{message}")]
    Store {
        reason: StoreReason,
        path: PathBuf,
        message: String,
    },
    /// One setting's value is refused (or could not be applied): its path in `Settings`
    /// (`server.url`, `notifications.escalation.sources.widget.new_chat.every_min`) and what
    /// is wrong.
    #[error("{message}")]
    Setting {
        field: String,
        problem: Problem,
        message: String,
    },
    /// The settings file cannot be read or written.
    #[error("{message}")]
    Settings { message: String },
    #[error("{message}")]
    Keychain { message: String },
    /// The connection could not be made (`check_connection`): why, as data the page words
    /// (`failure`), and the engine's English sentence.
    #[error("{message}")]
    Net {
        failure: NetFailure,
        message: String,
    },
    #[error("{message}")]
    Engine { message: String },
    #[error("{message}")]
    Invalid { message: String },
}

impl CommandError {
    /// `field`'s value has `problem`.
    pub fn setting(field: impl Into<String>, problem: Problem) -> Self {
        let field = field.into();
        CommandError::Setting {
            message: format!("{field}: {problem}"),
            field,
            problem,
        }
    }

    pub fn settings(message: impl Into<String>) -> Self {
        CommandError::Settings {
            message: message.into(),
        }
    }

    pub fn keychain(message: impl Into<String>) -> Self {
        CommandError::Keychain {
            message: message.into(),
        }
    }

    pub fn engine(message: impl Into<String>) -> Self {
        CommandError::Engine {
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        CommandError::Invalid {
            message: message.into(),
        }
    }
}

impl From<NetFailure> for CommandError {
    fn from(failure: NetFailure) -> Self {
        CommandError::Net {
            message: failure.to_string(),
            failure,
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Store {
            reason: e.reason(),
            path: e.path().to_path_buf(),
            message: e.to_string(),
        }
    }
}

impl From<chatbell_engine::EngineError> for CommandError {
    fn from(e: chatbell_engine::EngineError) -> Self {
        match e {
            chatbell_engine::EngineError::Store(e) => e.into(),
            e @ chatbell_engine::EngineError::NoSuchChat(_) => CommandError::invalid(e.to_string()),
            other => CommandError::engine(other.to_string()),
        }
    }
}

impl From<SettingsError> for CommandError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid { field, problem } => CommandError::setting(field, problem),
            other => CommandError::settings(other.to_string()),
        }
    }
}

impl From<chatbell_engine::keychain::KeychainError> for CommandError {
    fn from(e: chatbell_engine::keychain::KeychainError) -> Self {
        CommandError::keychain(e.to_string())
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chatbell_engine::{Engine, EngineConfig, EngineError};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_store_error_says_its_reason_and_its_message() {
        let path = PathBuf::from("/home/agent/.local/share/chatbell/chatbell.db");
        let cases = [
            (StoreError::InUse { path: path.clone() }, "in_use"),
            (
                StoreError::TooNew {
                    path: path.clone(),
                    found: 9,
                    known: 2,
                },
                "too_new",
            ),
            (
                StoreError::Foreign {
                    path: path.clone(),
                    why: "it is not an SQLite database".into(),
                },
                "foreign",
            ),
            (StoreError::Missing { path: path.clone() }, "missing"),
            (
                StoreError::Folder {
                    path: path.clone(),
                    source: std::io::ErrorKind::PermissionDenied.into(),
                },
                "folder",
            ),
        ];
        for (store, reason) in cases {
            let message = store.to_string();
            let error = CommandError::from(EngineError::Store(store));
            let wire = serde_json::to_value(&error).unwrap();
            assert_eq!(
                wire,
                json!({ "kind": "store", "reason": reason, "path": path, "message": message })
            );
            assert!(
                message.contains("chatbell.db"),
                "the path is kept: {message}"
            );
            assert_eq!(serde_json::from_value::<CommandError>(wire).unwrap(), error);
        }
    }

    #[test]
    fn other_errors_have_a_kind_and_a_message_and_no_reason() {
        let cases = [
            (
                CommandError::settings("cannot write the settings file: disk full"),
                "settings",
            ),
            (CommandError::keychain("locked"), "keychain"),
            (CommandError::engine("the engine has stopped"), "engine"),
            (CommandError::from(EngineError::NoSuchChat(7)), "invalid"),
            (CommandError::from(EngineError::Stopped), "engine"),
        ];
        for (error, kind) in cases {
            let message = error.to_string();
            let wire = serde_json::to_value(&error).unwrap();
            assert_eq!(wire, json!({ "kind": kind, "message": message }));
            assert_eq!(serde_json::from_value::<CommandError>(wire).unwrap(), error);
        }
    }

    /// A refused setting crosses as its field and its problem, never as a sentence for the
    /// page to take apart.
    #[test]
    fn a_refused_setting_says_its_field_and_its_problem() {
        let mut settings = Settings::default();
        settings.notifications.escalation.new_chat.every_min = 0;
        let refused = settings.validate().unwrap_err();
        let wire = serde_json::to_value(CommandError::from(refused)).unwrap();
        assert_eq!(
            wire,
            json!({
                "kind": "setting",
                "field": "notifications.escalation.new_chat.every_min",
                "problem": { "kind": "out_of_range", "min": 1, "max": 1440, "unit": "minutes" },
                "message": "notifications.escalation.new_chat.every_min: must be from 1 to 1440 minutes",
            })
        );
        assert_eq!(
            serde_json::from_value::<CommandError>(wire.clone()).unwrap(),
            CommandError::from(settings.validate().unwrap_err())
        );
        settings.notifications.escalation.new_chat.every_min = 2;
        settings.server.url = Some("http://example.com/ws".into());
        let wire =
            serde_json::to_value(CommandError::from(settings.validate().unwrap_err())).unwrap();
        assert_eq!(wire["field"], "server.url");
        assert_eq!(
            wire["problem"],
            json!({ "kind": "scheme", "expected": ["ws://", "wss://"] })
        );
    }

    /// The limits the page is given are the ones `validate` holds the settings to.
    #[test]
    fn the_limits_are_the_ones_validation_holds_to() {
        let limits = Limits::of_settings();
        let refused = |edit: &dyn Fn(&mut Settings)| {
            let mut s = Settings::default();
            edit(&mut s);
            match s.validate() {
                Err(SettingsError::Invalid { problem, .. }) => Some(problem),
                _ => None,
            }
        };
        let out_of = |b: Bounds| {
            Some(Problem::OutOfRange {
                min: b.min,
                max: b.max,
                unit: b.unit,
            })
        };
        let max32 = |b: Bounds| u32::try_from(b.max).unwrap();
        let min32 = |b: Bounds| u32::try_from(b.min).unwrap();
        type Set = dyn Fn(&mut Settings, u32);
        let cases: [(Bounds, &Set); 4] = [
            (limits.retention_days, &|s, v| {
                s.store.retention_days = Some(v)
            }),
            (limits.ladder_minutes, &|s, v| {
                s.notifications.escalation.new_message.every_min = v
            }),
            (limits.snooze_minutes, &|s, v| {
                s.notifications.snooze_minutes = v
            }),
            (limits.offline_alert_secs, &|s, v| {
                s.notifications.offline_alert_secs = Some(v)
            }),
        ];
        for (bounds, set) in cases {
            assert_eq!(refused(&|s| set(s, min32(bounds))), None, "{bounds:?}");
            assert_eq!(refused(&|s| set(s, max32(bounds))), None, "{bounds:?}");
            assert_eq!(
                refused(&|s| set(s, max32(bounds) + 1)),
                out_of(bounds),
                "{bounds:?}"
            );
            if bounds.min > 0 {
                assert_eq!(
                    refused(&|s| set(s, min32(bounds) - 1)),
                    out_of(bounds),
                    "{bounds:?}"
                );
            }
        }
        let volume = limits.volume;
        assert_eq!(
            refused(&|s| s.notifications.sounds.volume = volume.max as u8),
            None
        );
        let n = limits.subscriptions.max as i64;
        assert_eq!(
            refused(&|s| s.server.subscriptions = (0..n).collect()),
            None
        );
        assert!(refused(&|s| s.server.subscriptions = (0..=n).collect()).is_some());
        let len = limits.query_param_len.max as usize;
        assert_eq!(refused(&|s| s.server.query_param = "p".repeat(len)), None);
        assert!(refused(&|s| s.server.query_param = "p".repeat(len + 1)).is_some());
    }

    /// A connection that could not be made crosses as its failure, as data the page words, with
    /// the engine's English sentence; a proxy's password never appears in either.
    #[test]
    fn a_failed_connection_says_its_failure() {
        let failure = NetFailure::ProxyAuthFailed {
            proxy: "http://bob@proxy.corp.example:3128".into(),
        };
        let error = CommandError::from(failure.clone());
        let wire = serde_json::to_value(&error).unwrap();
        assert_eq!(wire["kind"], "net");
        assert_eq!(
            wire["failure"],
            json!({ "kind": "proxy_auth_failed", "proxy": "http://bob@proxy.corp.example:3128" })
        );
        assert_eq!(wire["message"], json!(failure.to_string()));
        assert_eq!(serde_json::from_value::<CommandError>(wire).unwrap(), error);
    }

    #[test]
    fn secrets_are_named_in_snake_case() {
        let names: Vec<_> = SecretName::ALL
            .iter()
            .map(|n| serde_json::to_value(n).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                json!("token"),
                json!("proxy_password"),
                json!("key_passphrase")
            ]
        );
    }

    #[test]
    fn events_reach_the_page_under_their_names_with_bare_payloads() {
        let typing = UiEvent::Typing(Typing {
            user_id: 7,
            typing: true,
        });
        assert_eq!(typing.name(), "chatbell:typing");
        assert_eq!(typing.payload(), json!({ "user_id": 7, "typing": true }));
        assert_eq!(UiEvent::Resync.name(), "chatbell:resync");
        assert_eq!(UiEvent::Resync.payload(), serde_json::Value::Null);
        let wire = serde_json::to_string(&typing).unwrap();
        assert_eq!(serde_json::from_str::<UiEvent>(&wire).unwrap(), typing);
    }

    /// Through the real store: a second engine on a database another one holds is refused
    /// before anything is opened, and the UI hears `in_use`.
    #[tokio::test]
    async fn a_second_engine_on_the_same_database_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chatbell.db");
        let first = Engine::start(EngineConfig::new(db.clone()), None)
            .await
            .unwrap();
        let second = Engine::start(EngineConfig::new(db.clone()), None)
            .await
            .err()
            .expect("the database is held");
        let wire = serde_json::to_value(CommandError::from(second)).unwrap();
        assert_eq!(wire["kind"], "store");
        assert_eq!(wire["reason"], "in_use");
        assert!(
            wire["message"]
                .as_str()
                .unwrap()
                .contains(&db.display().to_string()),
            "{wire}"
        );
        first.close().await;
        Engine::start(EngineConfig::new(db), None)
            .await
            .expect("free once the first one closed")
            .close()
            .await;
    }
}
