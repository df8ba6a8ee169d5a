//! Showing notifications: the [`Notifier`] trait the engine talks to, its desktop
//! implementations (freedesktop D-Bus over zbus and notify-rust on Linux/BSD; notify-rust's
//! native backends on macOS and Windows), and the service task that feeds it from the coalescer
//! and stops asking a failing notification server until a backoff ends.

#[cfg(freedesktop)]
mod freedesktop;
mod health;
#[cfg(any(target_os = "macos", target_os = "windows"))]
mod native;
mod service;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::i18n::Lang;

#[cfg(freedesktop)]
pub use freedesktop::Freedesktop as DesktopNotifier;
#[cfg(any(target_os = "macos", target_os = "windows"))]
pub use native::Native as DesktopNotifier;
pub(crate) use service::{NotifyService, ServiceMsg, ServiceParts, TestShown};

/// Chatbell's AppUserModelID on Windows: toasts carry it, and the installer stamps the
/// Start-menu shortcut with it (Windows shows a toast only for an ID that a shortcut names).
/// The bundle identifier of `src-tauri/tauri.conf.json`, which a test holds it to.
pub const APP_USER_MODEL_ID: &str = "app.chatbell.desktop";

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One notification to show, in plain text: the backend escapes it for whatever markup its
/// server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub summary: String,
    pub body: String,
    pub open_label: &'static str,
    /// Buttons besides the default click, shown where the server has the `actions` capability.
    pub actions: Vec<(Action, &'static str)>,
    /// Critical notifications stay until acted on, on servers that honour it.
    pub critical: bool,
    /// Ask the server to play its sound; otherwise ask it for silence (Chatbell plays its
    /// own, or none is wanted): never two sounds for one alert.
    pub sound: bool,
    /// The server's id of a notification to update in place.
    pub replaces: Option<u32>,
}

/// The buttons a chat's notification may carry, by their stable keys (scripts and tests press
/// them by key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `read`: mark the chat read.
    Read,
    /// `snooze`: put the chat aside for the configured minutes.
    Snooze,
    /// `web-panel`: open the chat in the service's web panel.
    WebPanel,
    /// `settings`: open Settings → Server (on the "token refused" warning).
    Settings,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Read,
        Action::Snooze,
        Action::WebPanel,
        Action::Settings,
    ];
    /// The buttons of a chat's notification.
    pub const CHAT: [Action; 3] = [Action::Read, Action::Snooze, Action::WebPanel];

    pub fn key(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Snooze => "snooze",
            Action::WebPanel => "web-panel",
            Action::Settings => "settings",
        }
    }

    pub fn from_key(key: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.key() == key)
    }

    /// The button's label.
    pub fn label(self, lang: Lang) -> &'static str {
        let labels = crate::i18n::labels(lang);
        match self {
            Action::Read => labels.read,
            Action::Snooze => labels.snooze,
            Action::WebPanel => labels.web_panel,
            Action::Settings => labels.open_settings,
        }
    }
}

/// What the notification server reports back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Invoked { id: u32, action: String },
    Closed { id: u32 },
}

/// The notification server, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerInfo {
    pub name: String,
    pub vendor: String,
    pub version: String,
    pub capabilities: Vec<String>,
}

/// How long one call to the notification server may take before it counts as failed: a hung
/// daemon must not hold up the notifications after it. A call that times out is dropped, not
/// left waiting on a thread.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "no notification server answers on the session bus ({0}); start a notification daemon or check the desktop's notification settings"
    )]
    NoServer(String),
    #[error("the notification server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the notification server refused the notification: {0}")]
    Failed(String),
}

/// Shows and closes notifications. Implemented over the real desktop; the engine owns one.
pub trait Notifier: Send + 'static {
    /// Shows a notification (or updates `request.replaces` in place); returns its id.
    fn show(&mut self, request: Request) -> BoxFuture<'_, Result<u32, NotifyError>>;
    fn close(&mut self, id: u32) -> BoxFuture<'_, Result<(), NotifyError>>;
    /// The server's answers (action invoked, notification closed). Taken once.
    fn take_responses(&mut self) -> Option<mpsc::Receiver<Response>>;
    fn server_info(&mut self) -> BoxFuture<'_, Result<ServerInfo, NotifyError>>;
}

/// How the desktop notifier presents Chatbell.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    pub app_name: String,
    /// An icon name from the theme or an absolute path to an image.
    pub icon: String,
    /// The `.desktop` file name without extension, so servers can find the app's icon and name.
    pub desktop_entry: String,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            app_name: "Chatbell".into(),
            icon: "chatbell".into(),
            desktop_entry: "chatbell".into(),
        }
    }
}
