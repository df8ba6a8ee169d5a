//! Who carries out what the page asks: the resident in this process, or (Linux) the resident
//! process over the socket.

#[cfg(freedesktop)]
use std::sync::Arc;

use chatbell_ipc::Command;
use chatbell_ipc::contract::CommandResult;
use chatbell_resident::Resident;
use serde_json::Value;

#[cfg(freedesktop)]
use crate::remote::Remote;

#[derive(Clone)]
pub enum Backend {
    /// The whole app in this process (macOS, Windows; `--single-process` on Linux).
    Here(Resident),
    /// The window in its own process, the resident `chatbell` beside it.
    #[cfg(freedesktop)]
    Remote(Arc<Remote>),
}

impl Backend {
    pub async fn call(&self, command: Command) -> CommandResult<Value> {
        match self {
            Backend::Here(resident) => resident.call(command).await,
            #[cfg(freedesktop)]
            Backend::Remote(remote) => remote.call(command).await,
        }
    }

    /// The window opened or closed, or gained or lost the keyboard focus.
    pub fn window_changed(&self, alive: bool, focused: bool) {
        match self {
            Backend::Here(resident) => resident.window_changed(alive, focused),
            // Its closing is the connection's end, which the resident sees.
            #[cfg(freedesktop)]
            Backend::Remote(remote) => remote.focus_changed(alive && focused),
        }
    }

    /// Whether closing the window leaves Chatbell in a tray (else it minimizes).
    pub fn tray_available(&self) -> bool {
        match self {
            Backend::Here(resident) => resident.tray_available(),
            #[cfg(freedesktop)]
            Backend::Remote(remote) => remote.tray_available(),
        }
    }
}
