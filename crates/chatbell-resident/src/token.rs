//! The API token: in the OS keychain only, read when a connection needs it (the keychain is
//! opened for each call and let go, see `chatbell_engine::keychain`).

use chatbell_engine::Secret;
use chatbell_engine::keychain::Keychain;
use chatbell_ipc::contract::{CommandError, CommandResult};

/// The token from the keychain; a keychain that cannot be reached means no token (logged).
pub async fn stored_token() -> Option<Secret> {
    match tokio::task::spawn_blocking(|| Keychain::default().get()).await {
        Ok(Ok(token)) => token,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "keychain unavailable; connecting without a token");
            None
        }
        Err(_) => None,
    }
}

/// Stores a new token in the keychain (`None`: removes it); returns it as stored.
pub async fn store(token: Option<String>) -> CommandResult<Option<Secret>> {
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
            tokio::task::spawn_blocking(move || kc.set(&stored))
                .await
                .map_err(|e| CommandError::keychain(e.to_string()))??;
            Some(secret)
        }
        None => {
            tokio::task::spawn_blocking(move || keychain.clear())
                .await
                .map_err(|e| CommandError::keychain(e.to_string()))??;
            None
        }
    };
    Ok(token)
}

/// Whether a token is stored (never what it is).
pub async fn has_token() -> bool {
    tokio::task::spawn_blocking(|| {
        Keychain::default()
            .get()
            .map(|t| t.is_some())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}
