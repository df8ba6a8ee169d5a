//! The API token in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows) — and nowhere else: not in settings, not in logs.
//!
//! Calls block (they talk to a daemon); call them off the async runtime.

use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    #[error(
        "the OS keychain is not available ({0}). On Linux a Secret Service (e.g. gnome-keyring) must be running and unlocked"
    )]
    Unavailable(String),
    #[error("the keychain refused: {0}")]
    Failed(String),
}

/// One credential entry.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
    account: String,
}

impl Default for Keychain {
    fn default() -> Self {
        Keychain {
            service: "chatbell".into(),
            account: "api-token".into(),
        }
    }
}

fn map(e: keyring::Error) -> KeychainError {
    match e {
        keyring::Error::NoStorageAccess(_)
        | keyring::Error::PlatformFailure(_)
        | keyring::Error::NoDefaultStore => KeychainError::Unavailable(e.to_string()),
        other => KeychainError::Failed(other.to_string()),
    }
}

impl Keychain {
    pub fn new(service: impl Into<String>, account: impl Into<String>) -> Self {
        Keychain {
            service: service.into(),
            account: account.into(),
        }
    }

    fn entry(&self) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, &self.account).map_err(map)
    }

    /// The stored token, if any.
    pub fn get(&self) -> Result<Option<Secret>, KeychainError> {
        match self.entry()?.get_password() {
            Ok(token) => Ok(Some(Secret::new(token))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map(e)),
        }
    }

    pub fn set(&self, token: &Secret) -> Result<(), KeychainError> {
        self.entry()?.set_password(token.expose()).map_err(map)
    }

    /// Removes the token; returns whether there was one.
    pub fn clear(&self) -> Result<bool, KeychainError> {
        match self.entry()?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map(e)),
        }
    }

    /// Whether the keychain can be used at all (for `doctor` and the settings screen).
    pub fn check(&self) -> Result<(), KeychainError> {
        self.get().map(|_| ())
    }
}
