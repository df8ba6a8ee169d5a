//! Why a forward did not arrive, typed: whether it is worth another try, and (in `i18n`) the
//! words for the agent, which name the service ("ntfy refused the access token").

use super::command::CommandError;
use super::http::PostError;
use super::request::BuildError;
use crate::settings::forward::TargetKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Post(PostError),
    Command(CommandError),
    /// The target cannot be sent to as it is (a token missing).
    Build(BuildError),
    /// The keychain did not answer for the target's secret in time (locked, a password
    /// prompt): tried again later rather than sent without it.
    Keychain,
}

impl Failure {
    /// Worth another try later: the network, a timeout, the server's own trouble (5xx, 429),
    /// a command that hung. A refusal (4xx), a command that failed or a missing token is not.
    pub fn retry(&self) -> bool {
        match self {
            Failure::Post(e) => e.retry(),
            Failure::Command(e) => matches!(e, CommandError::Timeout { .. }),
            Failure::Build(_) => false,
            Failure::Keychain => true,
        }
    }
}

impl std::fmt::Display for Failure {
    /// English without the service's name, for logs and errors that have no language.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Post(e) => e.fmt(f),
            Failure::Command(e) => e.fmt(f),
            Failure::Build(e) => e.fmt(f),
            Failure::Keychain => f.write_str("the keychain did not answer"),
        }
    }
}

/// The kind of service a target is, as its failures name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ntfy,
    Gotify,
    Webhook,
    Command,
}

impl Service {
    pub fn of(kind: &TargetKind) -> Service {
        match kind {
            TargetKind::Ntfy { .. } => Service::Ntfy,
            TargetKind::Gotify { .. } => Service::Gotify,
            TargetKind::Webhook { .. } => Service::Webhook,
            TargetKind::Command { .. } => Service::Command,
        }
    }
}
