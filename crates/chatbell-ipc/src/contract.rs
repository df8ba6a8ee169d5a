//! What the window and the page are told, and what a failed command says: the types of
//! `docs/ipc.md`, shared by the process that owns the engine and the window that shows it (the
//! engine's own types are in `chatbell_engine::model`).

use chatbell_engine::model::{
    ChatSummary, ConnState, Gap, Message, SettingsSection, WaitingSummary,
};
use chatbell_engine::settings::Settings;
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
    pub has_token: bool,
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

/// What a failed command tells the UI: a kind to branch on and a message to show; a store
/// error also says why (`reason`), so the UI can say what happened and what to do. On the wire
/// `{ kind, message }`, or `{ kind: "store", reason, message }` (`docs/ipc.md`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandError {
    #[error("{message}")]
    Store {
        reason: StoreReason,
        message: String,
    },
    #[error("{message}")]
    Settings { message: String },
    #[error("{message}")]
    Keychain { message: String },
    #[error("{message}")]
    Engine { message: String },
    #[error("{message}")]
    Invalid { message: String },
}

impl CommandError {
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

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Store {
            reason: e.reason(),
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

impl From<chatbell_engine::settings::SettingsError> for CommandError {
    fn from(e: chatbell_engine::settings::SettingsError) -> Self {
        CommandError::settings(e.to_string())
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
                json!({ "kind": "store", "reason": reason, "message": message })
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
            (CommandError::settings("ui.language: nope"), "settings"),
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
