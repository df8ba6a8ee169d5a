//! A running engine and what it is connected to: the configured server, nothing, or the
//! embedded demo simulator (with a database of its own, so demo chats never mix with real
//! ones).

use std::sync::{Arc, Mutex};

use chatbell_engine::model::Focus;
use chatbell_engine::net::ProxySetting;
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_engine::settings::Settings;
use chatbell_engine::sync::lock;
use chatbell_engine::{Credentials, Engine, EngineConfig, ServerConfig, paths};
use chatbell_ipc::contract::{CommandError, CommandResult, Mode};
use chatbell_sim::{SimConfig, SimHandle};
use tokio::task::JoinHandle;

use crate::secrets;

pub struct Session {
    pub engine: Engine,
    mode: Mutex<Mode>,
    sim: Mutex<Option<SimHandle>>,
    /// The task that carries the engine's events to the window and the tray (`bridge.rs`).
    follower: Mutex<Option<JoinHandle<()>>>,
}

/// The icon for notifications: the installed theme icon when the package put one in place,
/// else the PNG shipped inside the binary, written once to the data folder.
fn notification_icon() -> String {
    if std::path::Path::new("/usr/share/icons/hicolor/128x128/apps/chatbell.png").exists() {
        return "chatbell".into();
    }
    let path = paths::data_dir().join("icons/chatbell-128.png");
    if !path.exists() {
        let written = path
            .parent()
            .map(chatbell_engine::private::dir)
            .transpose()
            .and_then(|_| {
                chatbell_engine::private::write(&path, include_bytes!("../../../icons/128x128.png"))
            });
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot write the notification icon");
            return "chatbell".into();
        }
    }
    path.display().to_string()
}

/// Where a session in `mode` keeps its store: the demo has its own.
pub(crate) fn db_path(mode: Mode) -> std::path::PathBuf {
    match mode {
        Mode::Demo => paths::data_dir().join("demo.db"),
        Mode::Server | Mode::Unconfigured => paths::default_db_path(),
    }
}

async fn start_demo_sim() -> CommandResult<SimHandle> {
    let seed = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    let config = SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        rate: 1.5,
        seed,
        ..SimConfig::default()
    };
    chatbell_sim::start(config)
        .await
        .map_err(|e| CommandError::engine(format!("demo server: {e}")))
}

impl Session {
    pub async fn start(
        mode: Mode,
        settings: &Settings,
        focus: Focus,
    ) -> CommandResult<Arc<Session>> {
        let db = db_path(mode);
        let (credentials, sim) = match mode {
            Mode::Demo => (Credentials::default(), Some(start_demo_sim().await?)),
            Mode::Server => (secrets::credentials(&settings.server).await, None),
            Mode::Unconfigured => (Credentials::default(), None),
        };
        let mut config = EngineConfig::from_settings(db, settings, credentials);
        if mode != Mode::Server {
            config.subscriptions.clear();
            // The demo's simulator is on this computer: never through a proxy.
            config.server = sim.as_ref().map(|sim| ServerConfig {
                proxy: ProxySetting::None,
                ..ServerConfig::new(sim.ws_url(), None)
            });
        }
        let notifier = DesktopNotifier::new(NotifierConfig {
            icon: notification_icon(),
            ..NotifierConfig::default()
        });
        // Whether the agent is away, for forwarding: the desktop's screensaver and logind.
        config.away = chatbell_engine::away::Source::desktop().await;
        let engine = Engine::start(config, Some(Box::new(notifier))).await?;
        engine.set_focus(focus);
        tracing::info!(?mode, db = %engine.db_path().display(), "session started");
        Ok(Arc::new(Session {
            engine,
            mode: Mutex::new(mode),
            sim: Mutex::new(sim),
            follower: Mutex::new(None),
        }))
    }

    /// The task following the engine's events, stopped with the session.
    pub(crate) fn followed_by(&self, task: JoinHandle<()>) {
        *lock(&self.follower) = Some(task);
    }

    pub fn mode(&self) -> Mode {
        *lock(&self.mode)
    }

    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.mode) = mode;
    }

    /// Stops the engine (everything received is written) and the demo server, if any.
    pub async fn stop(&self) {
        let follower = lock(&self.follower).take();
        if let Some(follower) = follower {
            follower.abort();
        }
        self.engine.close().await;
        let sim = lock(&self.sim).take();
        if let Some(sim) = sim {
            sim.shutdown().await;
        }
    }
}
