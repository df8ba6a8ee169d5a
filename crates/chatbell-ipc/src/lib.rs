//! Chatbell's local IPC. The resident process (engine, store, notifier, tray) and the window
//! process (the Tauri app, started on demand) talk over a private local socket: the typed
//! commands and events of `docs/ipc.md` (`contract`), the messages and their versioned
//! handshake (`wire`), and the socket itself (`socket`: a Unix socket, a named pipe on Windows).

pub mod contract;
pub mod socket;
pub mod wire;

pub use contract::{CommandError, CommandResult, Mode, OrganizationInfo, UiEvent};
pub use wire::{CliReply, CliRequest, Command, PROTOCOL, Role, ToResident, ToWindow, Welcome};
