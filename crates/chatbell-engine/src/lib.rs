//! Chatbell's engine: everything between the support service's WebSocket and the agent's
//! screen, with no UI types — the desktop app and `chatbell-cli` are thin shells over it.
//!
//! - [`connection`]: one persistent WebSocket with backoff, heartbeat, sleep detection and
//!   subscriptions re-sent on every reconnect.
//! - [`store`]: SQLite (WAL) with the raw event log, normalized chats and messages, full-text
//!   search, gap markers and unread counts derived in the same transaction as the messages.
//! - [`policy`] and [`coalesce`]: pure decisions about notifications; [`notifier`] shows them.
//! - [`Engine`]: the handle that wires them and that shells hold.

mod actions;
pub mod alert_test;
pub mod away;
pub mod backoff;
pub mod clock;
pub mod coalesce;
pub mod connection;
pub mod doctor;
mod engine;
mod error;
pub mod escalation;
pub mod forward;
pub mod forwarder;
pub mod i18n;
pub mod keychain;
pub mod liveness;
pub mod model;
pub mod net;
pub mod notifier;
pub mod outage;
mod outbox;
mod outgoing;
pub mod paths;
pub mod policy;
pub mod private;
mod queries;
pub mod secret;
pub mod settings;
pub mod sound;
pub mod store;
pub mod sync;
pub mod typing;
pub mod web_panel;
mod writer;

pub use connection::ConnectionTuning;
pub use engine::{Engine, EngineConfig, STOP_WITHIN, ShutdownReport, StopError, WRITER_QUEUE};
pub use error::EngineError;
pub use net::ServerConfig;
pub use outbox::{DIAGNOSTIC_MEMORY, EVENT_BUFFER};
pub use queries::Queries;
pub use secret::Secret;
pub use writer::{MAX_BATCH, RELEASE_AFTER, RELEASED};

pub use keychain::Credentials;

/// The server settings as the connection needs them: the URL, the auth mode, the route and
/// the trust from settings, the secrets from the keychain.
pub fn server_config(
    settings: &settings::ServerSettings,
    credentials: Credentials,
) -> Option<ServerConfig> {
    settings.url.as_ref().map(|url| ServerConfig {
        url: url.clone(),
        token: credentials.token,
        auth: settings.auth,
        query_param: settings.query_param.clone(),
        proxy: settings.proxy(),
        tls: settings.tls.clone(),
        proxy_password: credentials.proxy_password,
        key_passphrase: credentials.key_passphrase,
    })
}
