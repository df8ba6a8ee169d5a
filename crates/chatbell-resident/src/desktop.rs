//! What a shell shows for the resident: the window and the tray. The Tauri app shows both in
//! its own process; the tray-resident `chatbell` draws the tray itself and hands the window's
//! part to a window process over the local socket.

use chatbell_ipc::UiEvent;

use crate::tray::{Menu, Picture};

pub trait Desktop: Send + Sync + 'static {
    /// Tells the page, if a window is open (none open: the page reads the store when it opens).
    fn emit(&self, event: UiEvent);
    /// Whether a window is open (shown, minimized or hidden behind others).
    fn window_open(&self) -> bool;
    /// Brings the window up and gives it the focus, creating it if there is none.
    fn show_window(&self);
    /// The window's title, now if it is open (the resident keeps it for a window opened later).
    fn set_title(&self, title: &str);
    /// A customer's wait turned urgent: the taskbar's urgency hint, never the focus.
    fn ask_attention(&self);
    /// A new tray picture: called only when what it shows changes.
    fn draw_tray(&self, picture: &Picture);
    /// New words in the tray's menu: called only when they change.
    fn label_tray(&self, menu: &Menu);
    /// The session now keeps its store in `db` (the demo started, or ended): a window reading
    /// the store itself reads that one from now on.
    fn database(&self, _db: &std::path::Path) {}
    /// The agent chose Quit: end the app (the shell then calls `Resident::shutdown`).
    fn quit(&self);
}
