//! The secrets in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows) — and nowhere else: not in settings, not in logs. The API token, a
//! proxy's password and a client key's passphrase, one entry each.
//!
//! Calls block (they talk to a daemon); call them off the async runtime.
//!
//! Each call opens the keychain and lets it go: the token is needed only at a connect and when
//! it changes, and an open Secret Service store keeps a D-Bus connection for nothing. Its zbus
//! runs on the caller's tokio runtime (see `Cargo.toml`): on async-io's pool instead, the
//! pool's first thread woke the process twice a second for the rest of its life, most of an
//! idle connected process's wakeups.

use keyring_core::Error;

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

fn map(e: Error) -> KeychainError {
    match e {
        Error::NoStorageAccess(_) | Error::PlatformFailure(_) | Error::NoDefaultStore => {
            KeychainError::Unavailable(e.to_string())
        }
        other => KeychainError::Failed(other.to_string()),
    }
}

impl Keychain {
    /// The service's API token.
    pub fn token() -> Self {
        Keychain::default()
    }

    /// The password of the proxy named in `server.proxy`.
    pub fn proxy_password() -> Self {
        Keychain::new("chatbell", "proxy-password")
    }

    /// The passphrase of the client key named in `server.tls`.
    pub fn key_passphrase() -> Self {
        Keychain::new("chatbell", "client-key-passphrase")
    }

    pub fn new(service: impl Into<String>, account: impl Into<String>) -> Self {
        Keychain {
            service: service.into(),
            account: account.into(),
        }
    }

    /// The entry, with the store (and its connection) that lives only as long as it does.
    fn entry(&self) -> Result<keyring_core::Entry, KeychainError> {
        #[cfg(freedesktop)]
        {
            use keyring_core::api::CredentialStoreApi;
            zbus_secret_service_keyring_store::Store::new()
                .and_then(|store| store.build(&self.service, &self.account, None))
                .map_err(map)
        }
        #[cfg(not(freedesktop))]
        {
            keyring::Entry::new(&self.service, &self.account)
                .map(|e| e.inner)
                .map_err(map)
        }
    }

    /// The stored token, if any.
    pub fn get(&self) -> Result<Option<Secret>, KeychainError> {
        match self.entry()?.get_password() {
            Ok(token) => Ok(Some(Secret::new(token))),
            Err(Error::NoEntry) => Ok(None),
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
            Err(Error::NoEntry) => Ok(false),
            Err(e) => Err(map(e)),
        }
    }

    /// Which keychain holds the secrets, by its maker's name ("Windows Credential Manager").
    pub fn store_name() -> Result<String, KeychainError> {
        #[cfg(freedesktop)]
        let vendor = {
            use keyring_core::api::CredentialStoreApi;
            zbus_secret_service_keyring_store::Store::new()
                .map(|store| store.vendor())
                .map_err(map)?
        };
        #[cfg(not(freedesktop))]
        let vendor = {
            if let Err(e) = keyring::Entry::store_status() {
                return Err(KeychainError::Unavailable(e.to_string()));
            }
            keyring_core::get_default_store()
                .map(|store| store.vendor())
                .ok_or_else(|| KeychainError::Unavailable("no credential store".into()))?
        };
        // "Windows Credential Manager, https://crates.io/…": the name, not the crate.
        Ok(vendor
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string())
    }

    /// Whether the keychain can be used at all (for `doctor` and the settings screen).
    pub fn check(&self) -> Result<(), KeychainError> {
        self.get().map(|_| ())
    }
}

/// The secrets a connection may need, read from the keychain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub token: Option<Secret>,
    pub proxy_password: Option<Secret>,
    pub key_passphrase: Option<Secret>,
}

impl Credentials {
    /// Just the token.
    pub fn token(token: Option<Secret>) -> Self {
        Credentials {
            token,
            ..Credentials::default()
        }
    }

    /// Reads what `server` may need: the token, the proxy's password (sent only to a proxy
    /// whose address names a user, from the settings, the desktop or the environment) and,
    /// when a client certificate is set, the key's passphrase. Blocks. A keychain that cannot
    /// be used is an error; one entry that cannot be read is logged and left out, so the
    /// others still connect.
    pub fn load(server: &crate::settings::ServerSettings) -> Result<Credentials, KeychainError> {
        let token = Keychain::token().get()?;
        let optional = |keychain: Keychain, what: &str| {
            keychain.get().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the keychain's {what} cannot be read; connecting without it");
                None
            })
        };
        Ok(Credentials {
            token,
            proxy_password: optional(Keychain::proxy_password(), "proxy password"),
            key_passphrase: match server.tls.client_cert.is_some() {
                true => optional(Keychain::key_passphrase(), "key passphrase"),
                false => None,
            },
        })
    }
}

/// Under Wine here: the Wine prefix's Credential Manager, for real.
#[cfg(all(test, windows))]
mod tests {
    use super::*;

    #[test]
    fn windows_keeps_secrets_in_the_credential_manager() {
        assert_eq!(
            Keychain::store_name().unwrap(),
            "Windows Credential Manager"
        );
        let entry = Keychain::new(
            "chatbell-test",
            format!("round-trip-{}", std::process::id()),
        );
        assert_eq!(entry.get().unwrap().map(|s| s.expose().to_string()), None);
        entry.set(&Secret::new("s3cret")).unwrap();
        assert_eq!(
            entry.get().unwrap().map(|s| s.expose().to_string()),
            Some("s3cret".into())
        );
        assert!(entry.clear().unwrap());
        assert!(!entry.clear().unwrap());
    }
}
