use chatbell_engine::store::{StoreError, StoreReason};
use serde::Serialize;

/// What a failed command tells the UI: a kind to branch on and a message to show; a store
/// error also says why (`reason`), so the UI can say what happened and what to do. Serialized
/// as `{ kind, message }`, or `{ kind: "store", reason, message }` (`docs/ipc.md`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError {
    #[error("{message}")]
    Store {
        reason: StoreReason,
        message: String,
    },
    #[error("{0}")]
    Settings(String),
    #[error("{0}")]
    Keychain(String),
    #[error("{0}")]
    Engine(String),
    #[error("{0}")]
    Invalid(String),
}

impl CommandError {
    fn kind(&self) -> &'static str {
        match self {
            CommandError::Store { .. } => "store",
            CommandError::Settings(_) => "settings",
            CommandError::Keychain(_) => "keychain",
            CommandError::Engine(_) => "engine",
            CommandError::Invalid(_) => "invalid",
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            kind: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            reason: Option<StoreReason>,
            message: String,
        }
        let reason = match self {
            CommandError::Store { reason, .. } => Some(*reason),
            _ => None,
        };
        Wire {
            kind: self.kind(),
            reason,
            message: self.to_string(),
        }
        .serialize(serializer)
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Store {
            reason: e.reason(),
            message: e.to_string(),
        }
    }
}

impl From<chatbell_engine::EngineError> for CommandError {
    fn from(e: chatbell_engine::EngineError) -> Self {
        match e {
            chatbell_engine::EngineError::Store(e) => e.into(),
            e @ chatbell_engine::EngineError::NoSuchChat(_) => CommandError::Invalid(e.to_string()),
            other => CommandError::Engine(other.to_string()),
        }
    }
}

impl From<chatbell_engine::settings::SettingsError> for CommandError {
    fn from(e: chatbell_engine::settings::SettingsError) -> Self {
        CommandError::Settings(e.to_string())
    }
}

impl From<chatbell_engine::keychain::KeychainError> for CommandError {
    fn from(e: chatbell_engine::keychain::KeychainError) -> Self {
        CommandError::Keychain(e.to_string())
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chatbell_engine::{Engine, EngineConfig, EngineError};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_store_error_says_its_reason_and_its_message() {
        let path = PathBuf::from("/home/agent/.local/share/chatbell/chatbell.db");
        let cases = [
            (StoreError::InUse { path: path.clone() }, "in_use"),
            (
                StoreError::TooNew {
                    path: path.clone(),
                    found: 9,
                    known: 2,
                },
                "too_new",
            ),
            (
                StoreError::Foreign {
                    path: path.clone(),
                    why: "it is not an SQLite database".into(),
                },
                "foreign",
            ),
            (StoreError::Missing { path: path.clone() }, "missing"),
            (
                StoreError::Folder {
                    path: path.clone(),
                    source: std::io::ErrorKind::PermissionDenied.into(),
                },
                "folder",
            ),
        ];
        for (store, reason) in cases {
            let message = store.to_string();
            let wire = serde_json::to_value(CommandError::from(EngineError::Store(store))).unwrap();
            assert_eq!(
                wire,
                json!({ "kind": "store", "reason": reason, "message": message })
            );
            assert!(
                message.contains("chatbell.db"),
                "the path is kept: {message}"
            );
        }
    }

    #[test]
    fn other_errors_have_a_kind_and_a_message_and_no_reason() {
        let cases = [
            (
                CommandError::Settings("ui.language: nope".into()),
                "settings",
            ),
            (CommandError::Keychain("locked".into()), "keychain"),
            (
                CommandError::Engine("the engine has stopped".into()),
                "engine",
            ),
            (CommandError::from(EngineError::NoSuchChat(7)), "invalid"),
            (CommandError::from(EngineError::Stopped), "engine"),
        ];
        for (error, kind) in cases {
            let message = error.to_string();
            assert_eq!(
                serde_json::to_value(&error).unwrap(),
                json!({ "kind": kind, "message": message })
            );
        }
    }

    /// Through the real store: a second engine on a database another one holds is refused
    /// before anything is opened, and the UI hears `in_use`.
    #[tokio::test]
    async fn a_second_engine_on_the_same_database_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chatbell.db");
        let first = Engine::start(EngineConfig::new(db.clone()), None)
            .await
            .unwrap();
        let second = Engine::start(EngineConfig::new(db.clone()), None)
            .await
            .err()
            .expect("the database is held");
        let wire = serde_json::to_value(CommandError::from(second)).unwrap();
        assert_eq!(wire["kind"], "store");
        assert_eq!(wire["reason"], "in_use");
        assert!(
            wire["message"]
                .as_str()
                .unwrap()
                .contains(&db.display().to_string()),
            "{wire}"
        );
        first.close().await;
        Engine::start(EngineConfig::new(db), None)
            .await
            .expect("free once the first one closed")
            .close()
            .await;
    }
}
