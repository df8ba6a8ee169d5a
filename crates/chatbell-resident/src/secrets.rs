//! The connection's secrets — the API token, the proxy password, the client key's passphrase —
//! in the OS keychain only, read when a connection needs them (the keychain is opened for each
//! call and let go, see `chatbell_engine::keychain`). Never in the settings, a log or an error.

use chatbell_engine::keychain::Keychain;
use chatbell_engine::settings::ServerSettings;
use chatbell_engine::{Credentials, Secret};
use chatbell_ipc::contract::{CommandError, CommandResult, ForwardSecret, SecretName};

/// The most characters a secret may have.
const MAX_LEN: usize = 4096;

/// Where `name` is kept.
fn keychain(name: SecretName) -> Keychain {
    match name {
        SecretName::Token => Keychain::token(),
        SecretName::ProxyPassword => Keychain::proxy_password(),
        SecretName::KeyPassphrase => Keychain::key_passphrase(),
    }
}

/// What `server` needs from the keychain; a keychain that cannot be reached means none of them
/// (logged: the connection then says what is missing).
pub async fn credentials(server: &ServerSettings) -> Credentials {
    let server = server.clone();
    match tokio::task::spawn_blocking(move || Credentials::load(&server)).await {
        Ok(Ok(credentials)) => credentials,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "keychain unavailable; connecting without its secrets");
            Credentials::default()
        }
        Err(_) => Credentials::default(),
    }
}

/// The secret as it is stored: a token without spaces around it (pasted with a line break, as
/// often), a password or passphrase exactly as typed. Refused: empty, a control character, too
/// long.
fn checked(name: SecretName, value: String) -> CommandResult<Secret> {
    let value = match name {
        SecretName::Token => value.trim().to_string(),
        SecretName::ProxyPassword | SecretName::KeyPassphrase => value,
    };
    if value.is_empty() || value.chars().any(char::is_control) || value.chars().count() > MAX_LEN {
        return Err(CommandError::invalid(match name {
            SecretName::Token => "token: paste the API token (one line, no spaces around it)",
            SecretName::ProxyPassword => "proxy password: type it on one line",
            SecretName::KeyPassphrase => "key passphrase: type it on one line",
        }));
    }
    Ok(Secret::new(value))
}

/// Stores `name` in the keychain (`None`: removes it).
pub async fn store(name: SecretName, value: Option<String>) -> CommandResult<()> {
    let keychain = keychain(name);
    let value = value.map(|v| checked(name, v)).transpose()?;
    tokio::task::spawn_blocking(move || match value {
        Some(secret) => keychain.set(&secret),
        None => keychain.clear().map(|_| ()),
    })
    .await
    .map_err(|e| CommandError::keychain(format!("{}: {e}", name.label())))??;
    Ok(())
}

/// Stores a forwarding target's secret under its id (`None`: removes it). The id is checked as
/// the settings check it (it names the keychain entry); the value is kept as pasted but for
/// spaces around it.
pub async fn store_forward(id: String, value: Option<String>) -> CommandResult<ForwardSecret> {
    chatbell_engine::settings::forward::check_id(&id)
        .map_err(|problem| CommandError::setting("notifications.forward.id", problem))?;
    let value = match value.map(|v| v.trim().to_string()) {
        Some(v)
            if v.is_empty() || v.chars().any(char::is_control) || v.chars().count() > MAX_LEN =>
        {
            return Err(CommandError::invalid(
                "forwarding secret: paste the token or address (one line, no spaces around it)",
            ));
        }
        v => v.map(Secret::new),
    };
    let keychain = chatbell_engine::forward::secret_entry(&id);
    let stored = value.is_some();
    tokio::task::spawn_blocking(move || match value {
        Some(secret) => keychain.set(&secret),
        None => keychain.clear().map(|_| ()),
    })
    .await
    .map_err(|e| CommandError::keychain(format!("forwarding secret: {e}")))??;
    Ok(ForwardSecret { id, stored })
}

/// The targets of `targets` whose secret is stored (never what it is).
pub async fn forward_stored(targets: Vec<String>) -> Vec<String> {
    tokio::task::spawn_blocking(move || {
        targets
            .into_iter()
            .filter(|id| {
                chatbell_engine::forward::secret_entry(id)
                    .get()
                    .is_ok_and(|s| s.is_some())
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// Whether each secret is stored (never what it is), in the order of `SecretName::ALL`.
pub async fn stored() -> [bool; 3] {
    tokio::task::spawn_blocking(|| {
        SecretName::ALL.map(|name| keychain(name).get().is_ok_and(|s| s.is_some()))
    })
    .await
    .unwrap_or_default()
}
