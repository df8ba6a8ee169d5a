//! The API token: in the OS keychain only, read when a connection needs it (the keychain is
//! opened for each call and let go, see `chatbell_engine::keychain`).

use chatbell_engine::keychain::Keychain;
use chatbell_engine::{Secret, server_config};
use chatbell_ipc::contract::{CommandError, CommandResult, Mode};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

/// The token from the keychain; a keychain that cannot be reached means no token (logged).
pub async fn stored_token() -> Option<Secret> {
    match tauri::async_runtime::spawn_blocking(|| Keychain::default().get()).await {
        Ok(Ok(token)) => token,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "keychain unavailable; connecting without a token");
            None
        }
        Err(_) => None,
    }
}

/// Stores a new token in the keychain and reconnects with it.
pub async fn set_token(app: &AppHandle, token: Option<String>) -> CommandResult<()> {
    let keychain = Keychain::default();
    let token = match token {
        Some(token) => {
            let token = token.trim().to_string();
            if token.is_empty() || token.chars().any(char::is_control) || token.len() > 4096 {
                return Err(CommandError::invalid(
                    "token: paste the API token (one line, no spaces around it)",
                ));
            }
            let secret = Secret::new(token);
            let kc = keychain.clone();
            let stored = secret.clone();
            tauri::async_runtime::spawn_blocking(move || kc.set(&stored))
                .await
                .map_err(|e| CommandError::keychain(e.to_string()))??;
            Some(secret)
        }
        None => {
            tauri::async_runtime::spawn_blocking(move || keychain.clear())
                .await
                .map_err(|e| CommandError::keychain(e.to_string()))??;
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
