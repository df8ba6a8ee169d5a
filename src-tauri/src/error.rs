use serde::Serialize;

/// What a failed command tells the UI: a kind to branch on and a message to show.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Store(String),
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
            CommandError::Store(_) => "store",
            CommandError::Settings(_) => "settings",
            CommandError::Keychain(_) => "keychain",
            CommandError::Engine(_) => "engine",
            CommandError::Invalid(_) => "invalid",
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("CommandError", 2)?;
        s.serialize_field("kind", self.kind())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

impl From<chatbell_engine::EngineError> for CommandError {
    fn from(e: chatbell_engine::EngineError) -> Self {
        match e {
            chatbell_engine::EngineError::Store(e) => CommandError::Store(e.to_string()),
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
