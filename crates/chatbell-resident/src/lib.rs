//! What Chatbell does while it lives in the tray, with no window toolkit: one session of the
//! engine, the settings' one owner, the commands the page may ask, who waits, and the tray's
//! picture and words. A shell shows it (`Desktop`): the Tauri app in its own process, or the
//! tray-resident `chatbell` with the window in a process of its own.

mod autostart;
pub mod badge;
mod bridge;
mod commands;
pub mod desktop;
mod lifecycle;
pub mod local;
pub mod logging;
mod prefs;
pub mod process;
pub mod reads;
mod resident;
mod secrets;
mod session;
#[cfg(freedesktop)]
pub mod sni;
#[cfg(freedesktop)]
pub mod split;
mod switch;
pub mod tray;
mod tray_host;
mod waiting;
mod web_panel;

pub use commands::preview_web_panel;
pub use desktop::Desktop;
pub use prefs::load as load_settings;
pub use resident::{Options, Resident, View};
pub use tray_host::TrayHost;
