//! The shell's own types shared with the UI (the engine's are in `chatbell_engine::model`).
//! The whole contract is written down once, in `docs/ipc.md`.

use chatbell_engine::model::{
    ChatSummary, ConnState, Gap, Message, SettingsSection, WaitingSummary,
};
use chatbell_engine::settings::Settings;
use chatbell_engine::sound::AudioStatus;
use chatbell_protocol::UserId;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Which server the app is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The embedded simulator, with its own database.
    Demo,
    Server,
    /// No server configured yet: the store is shown, nothing connects.
    Unconfigured,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
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
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stored {
    pub chats: Vec<ChatSummary>,
    /// Only the open chat's new messages: the UI shows no others.
    pub messages: Vec<Message>,
    pub unread_total: u64,
    pub gap: Option<Gap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Typing {
    pub user_id: UserId,
    pub typing: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatRead {
    pub user_id: UserId,
    pub unread_total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenChat {
    pub user_id: Option<UserId>,
}

/// `chatbell:open-settings`: show Settings at `section`.
#[derive(Debug, Clone, Serialize)]
pub struct OpenSettings {
    pub section: SettingsSection,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoreFailed {
    pub error: String,
}

/// `chatbell:snoozed`, and what `snooze_chat` answers: the chat is snoozed until `until`
/// (`None`: unsnoozed; never `None` from `snooze_chat`).
#[derive(Debug, Clone, Serialize)]
pub struct Snoozed {
    pub user_id: UserId,
    pub until: Option<DateTime<Utc>>,
}

/// A web panel link filled for the sample chat (`preview_web_panel`).
#[derive(Debug, Clone, Serialize)]
pub struct WebPanelPreview {
    pub url: String,
}

/// Event names, one per payload type.
pub mod event {
    pub const CONNECTION: &str = "chatbell:connection";
    pub const STORED: &str = "chatbell:stored";
    pub const TYPING: &str = "chatbell:typing";
    pub const CHAT_READ: &str = "chatbell:chat-read";
    pub const OPEN_CHAT: &str = "chatbell:open-chat";
    pub const SETTINGS: &str = "chatbell:settings";
    pub const RESYNC: &str = "chatbell:resync";
    pub const STORE_FAILED: &str = "chatbell:store-failed";
    pub const WAITING: &str = "chatbell:waiting";
    pub const SNOOZED: &str = "chatbell:snoozed";
    pub const OPEN_SETTINGS: &str = "chatbell:open-settings";
}
