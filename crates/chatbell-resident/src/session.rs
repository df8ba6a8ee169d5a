//! A running engine and what it is connected to: the configured server, nothing, or the
//! embedded demo simulator (with a database of its own, so demo chats never mix with real
//! ones).

use std::sync::{Arc, Mutex};

use chatbell_engine::notifier::text::fallback_notice;
use chatbell_engine::notifier::{DesktopNotifier, NotifierConfig};
use chatbell_engine::settings::{AuthMode, Settings};
use chatbell_engine::{Engine, EngineConfig, ServerConfig, notification_lang, paths};
use chatbell_ipc::contract::{CommandError, CommandResult, Mode, UiEvent};
use chatbell_sim::{SimConfig, SimHandle};
use tokio::task::JoinHandle;

use crate::resident::{Resident, StartFailure};
use crate::token::stored_token;

pub struct Session {
    pub engine: Engine,
    mode: Mutex<Mode>,
    sim: Mutex<Option<SimHandle>>,
    bridge: JoinHandle<()>,
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
        app: &Resident,
        mode: Mode,
        settings: &Settings,
    ) -> CommandResult<Arc<Session>> {
        let db = db_path(mode);
        let (token, sim) = match mode {
            Mode::Demo => (None, Some(start_demo_sim().await?)),
            Mode::Server => (stored_token().await, None),
            Mode::Unconfigured => (None, None),
        };
        let mut config = EngineConfig::from_settings(db, settings, token);
        if mode != Mode::Server {
            config.subscriptions.clear();
            config.server = sim.as_ref().map(|sim| ServerConfig {
                url: sim.ws_url(),
                token: None,
                auth: AuthMode::Header,
                query_param: "token".into(),
            });
        }
        let notifier = DesktopNotifier::new(NotifierConfig {
            icon: notification_icon(),
            ..NotifierConfig::default()
        });
        let engine = Engine::start(config, Some(Box::new(notifier))).await?;
        engine.set_focus(app.focus());
        // Subscribed before the first read, so no change falls between the two.
        let events = engine.events();
        crate::bridge::sync(app, &engine).await;
        let bridge = tokio::spawn(crate::bridge::run(app.clone(), events));
        tracing::info!(?mode, db = %engine.db_path().display(), "session started");
        Ok(Arc::new(Session {
            engine,
            mode: Mutex::new(mode),
            sim: Mutex::new(sim),
            bridge,
        }))
    }

    pub fn mode(&self) -> Mode {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(|p| p.into_inner()) = mode;
    }

    /// Stops the engine (everything received is written) and the demo server, if any.
    pub async fn stop(&self) {
        self.bridge.abort();
        self.engine.close().await;
        let sim = self.sim.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(sim) = sim {
            sim.shutdown().await;
        }
    }
}

/// Starts the engine again after it failed (its store writer died), in the same mode. At most
/// once a minute, so a fault that comes back at every start does not spin.
pub(crate) async fn restart_failed(app: &Resident) {
    const AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
    static LAST: Mutex<Option<std::time::Instant>> = Mutex::new(None);
    let wait = {
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        let wait = last.map_or(std::time::Duration::ZERO, |t| {
            AT_MOST_EVERY.saturating_sub(now.duration_since(t))
        });
        *last = Some(now + wait);
        wait
    };
    tokio::time::sleep(wait).await;
    let Ok(failed) = app.session() else {
        return;
    };
    let mode = failed.mode();
    tracing::warn!(?mode, "restarting the engine after its failure");
    if let Err(e) = switch(app, mode).await {
        tracing::error!(error = %e, "restarting the engine failed");
    }
}

/// Replaces the running session with one in `mode`, then stops the old one. If it cannot start,
/// the failure is kept in `AppState` (every command answers with it while no session runs, and
/// `retry_start` tries the same mode again) and a window that is open is told to reload.
pub(crate) async fn switch(app: &Resident, mode: Mode) -> CommandResult<()> {
    let settings = app.settings();
    let old = app.replace_session(None);
    if let Some(old) = &old {
        old.stop().await;
    }
    match Session::start(app, mode, &settings).await {
        Ok(session) => {
            app.desktop().database(session.engine.db_path());
            app.replace_session(Some(session));
            app.set_start_failure(None);
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, ?mode, "cannot start the session");
            app.set_start_failure(Some(StartFailure {
                mode,
                error: e.clone(),
            }));
            // Keep the app usable: fall back to the main store without a connection, unless that
            // is the store that just failed (it would fail the same way; a locked one only after
            // another busy wait, with the window not yet shown at launch).
            let same_store = mode != Mode::Demo && matches!(e, CommandError::Store { .. });
            if mode != Mode::Unconfigured
                && !same_store
                && let Ok(fallback) = Session::start(app, Mode::Unconfigured, &settings).await
            {
                app.desktop().database(fallback.engine.db_path());
                app.replace_session(Some(fallback));
                if !app.desktop().window_open() {
                    // Nobody asked and heard the error (the start, a restart after a failure).
                    app.set_notice(fallback_notice(
                        mode == Mode::Demo,
                        &e.to_string(),
                        notification_lang(settings.ui.language),
                    ));
                }
            }
            // A window showing the old session reloads, and so hears why there is no new one.
            app.desktop().emit(UiEvent::Resync);
            Err(e)
        }
    }
}

/// The window's "Try again": starts the session that could not start, in the mode it was asked
/// for. Nothing failed: the running session stays.
pub(crate) async fn retry(app: &Resident) -> CommandResult<()> {
    match app.start_failure() {
        Some(failure) => switch(app, failure.mode).await,
        None => Ok(()),
    }
}
