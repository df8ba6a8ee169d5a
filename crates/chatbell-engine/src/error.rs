//! What the engine's calls can fail with.

use chatbell_protocol::UserId;

use crate::notifier::NotifyError;
use crate::sound::SoundError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the engine has stopped")]
    Stopped,
    #[error("there is no chat with user id {0}")]
    NoSuchChat(UserId),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Sound(#[from] SoundError),
}
