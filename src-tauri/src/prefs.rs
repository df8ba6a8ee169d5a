//! Settings in the running app: load at start, and apply a change everywhere it matters
//! (disk, engine, connection, web panel link, tray, autostart) in one place.

use chatbell_engine::keychain::Keychain;
use chatbell_engine::settings::{ServerSettings, Settings};
use chatbell_engine::{Secret, notification_lang, paths, server_config};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_autostart::ManagerExt;

use crate::error::{CommandError, CommandResult};
use crate::models::{Mode, event};
use crate::session::{self, stored_token};
use crate::state::AppState;
use crate::{tray, waiting, web_panel, window};

/// The settings file, or defaults with a notice when it could not be read (the bad file is
/// kept beside it, never overwritten).
pub fn load() -> (Settings, Option<String>) {
    let (settings, error) = Settings::load(&paths::settings_path());
    if let Some(e) = &error {
        tracing::warn!(error = %e, "settings");
    }
    (settings, error.map(|e| e.to_string()))
}

/// Validates, saves and applies new settings.
pub async fn apply(app: &AppHandle, new: Settings) -> CommandResult<()> {
    new.validate()?;
    let state = app.state::<AppState>();
    let old = state.settings();
    if new.ui.start_at_login != old.ui.start_at_login {
        let autostart = app.autolaunch();
        let result = if new.ui.start_at_login {
            autostart.enable()
        } else {
            autostart.disable()
        };
        result.map_err(|e| CommandError::Settings(format!("ui.start_at_login: {e}")))?;
    }
    new.save(&paths::settings_path())?;
    state.set_settings(new.clone());

    let session = state.session()?;
    let engine = &session.engine;
    if new.notifications != old.notifications || new.ui.language != old.ui.language {
        engine
            .set_notifications(
                new.notifications.clone(),
                notification_lang(new.ui.language),
            )
            .await;
    }
    if new.server.web_panel != old.server.web_panel {
        engine
            .set_web_panel(web_panel::configured(&new.server))
            .await;
    }
    if new.store.retention_days != old.store.retention_days
        && let Some(days) = new.store.retention_days
    {
        engine.apply_retention(days).await?;
    }
    // The web panel link is the server's too, but changing it must not reconnect.
    let connection = |s: &Settings| ServerSettings {
        web_panel: None,
        ..s.server.clone()
    };
    let reconnect = connection(&new) != connection(&old);
    match session.mode() {
        // The demo keeps running until a real server is configured.
        Mode::Demo if reconnect && new.server.url.is_some() => {
            session::switch(app, Mode::Server).await?
        }
        Mode::Demo => {}
        Mode::Server | Mode::Unconfigured => {
            if reconnect {
                let server = server_config(&new.server, stored_token().await);
                session.set_mode(if server.is_some() {
                    Mode::Server
                } else {
                    Mode::Unconfigured
                });
                for user in old
                    .server
                    .subscriptions
                    .iter()
                    .filter(|u| !new.server.subscriptions.contains(u))
                {
                    engine.unsubscribe(*user);
                }
                for user in new
                    .server
                    .subscriptions
                    .iter()
                    .filter(|u| !old.server.subscriptions.contains(u))
                {
                    engine.subscribe(*user);
                }
                engine.set_server(server).await;
            }
        }
    }
    tray::refresh_menu(app);
    if new.ui.language != old.ui.language {
        waiting::refresh(app);
    }
    let _ = app.emit_to(window::MAIN, event::SETTINGS, new);
    Ok(())
}

/// Pauses or resumes notifications (the tray menu and the UI).
pub async fn set_dnd(app: &AppHandle, on: bool) -> CommandResult<Settings> {
    let mut settings = app.state::<AppState>().settings();
    settings.notifications.do_not_disturb = on;
    apply(app, settings.clone()).await?;
    Ok(settings)
}

/// Stores a new token in the keychain and reconnects with it.
pub async fn set_token(app: &AppHandle, token: Option<String>) -> CommandResult<()> {
    let keychain = Keychain::default();
    let token = match token {
        Some(token) => {
            let token = token.trim().to_string();
            if token.is_empty() || token.chars().any(char::is_control) || token.len() > 4096 {
                return Err(CommandError::Invalid(
                    "token: paste the API token (one line, no spaces around it)".into(),
                ));
            }
            let secret = Secret::new(token);
            let kc = keychain.clone();
            let stored = secret.clone();
            tauri::async_runtime::spawn_blocking(move || kc.set(&stored))
                .await
                .map_err(|e| CommandError::Keychain(e.to_string()))??;
            Some(secret)
        }
        None => {
            tauri::async_runtime::spawn_blocking(move || keychain.clear())
                .await
                .map_err(|e| CommandError::Keychain(e.to_string()))??;
            None
        }
    };
    let state = app.state::<AppState>();
    let session = state.session()?;
    if session.mode() == Mode::Server {
        session
            .engine
            .set_server(server_config(&state.settings().server, token))
            .await;
    }
    Ok(())
}

/// Whether a token is stored (never what it is).
pub async fn has_token() -> bool {
    tauri::async_runtime::spawn_blocking(|| {
        Keychain::default()
            .get()
            .map(|t| t.is_some())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
