//! The resident shown through Tauri: its window and tray in this process.

use chatbell_ipc::UiEvent;
use chatbell_resident::Desktop;
use chatbell_resident::tray::{Menu, Picture};
use tauri::{AppHandle, Emitter, Manager};

use crate::{tray, window};

pub struct TauriDesktop(pub AppHandle);

impl Desktop for TauriDesktop {
    fn emit(&self, event: UiEvent) {
        let name = event.name();
        if self.0.get_webview_window(window::MAIN).is_some()
            && let Err(e) = self.0.emit_to(window::MAIN, name, event.payload())
        {
            tracing::debug!(error = %e, name, "emit failed");
        }
    }

    fn window_open(&self) -> bool {
        self.0.get_webview_window(window::MAIN).is_some()
    }

    fn show_window(&self) {
        window::show(&self.0);
    }

    fn set_title(&self, title: &str) {
        window::set_title(&self.0, title);
    }

    fn ask_attention(&self) {
        window::ask_attention(&self.0);
    }

    fn draw_tray(&self, picture: &Picture) {
        tray::draw(&self.0, picture);
    }

    fn label_tray(&self, menu: &Menu) {
        tray::label(&self.0, menu);
    }

    fn quit(&self) {
        self.0.exit(0);
    }
}
