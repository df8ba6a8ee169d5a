//! The resident shown through Tauri: its window, and (one process) its tray. The one mapping
//! from the `Desktop` calls to Tauri's: the resident in this process makes them, and so does
//! `remote.rs` for the resident process's messages.

use std::sync::Mutex;

use chatbell_engine::sync::lock;
use chatbell_ipc::UiEvent;
use chatbell_resident::Desktop;
use chatbell_resident::tray::{Menu, Picture};
use tauri::{AppHandle, Emitter};

use crate::{tray, window};

pub struct TauriDesktop {
    app: AppHandle,
    /// The window's title, kept for when it is opened again.
    title: Mutex<Option<String>>,
    /// Told when a window created is on screen (`lib.rs` tells the backend).
    opened: fn(&AppHandle),
}

impl TauriDesktop {
    pub fn new(app: AppHandle, opened: fn(&AppHandle)) -> TauriDesktop {
        TauriDesktop {
            app,
            title: Mutex::new(None),
            opened,
        }
    }

    /// The count on the window's taskbar or dock entry.
    pub fn set_badge(&self, unread: u64) {
        window::set_badge(&self.app, unread);
    }
}

impl Desktop for TauriDesktop {
    fn emit(&self, event: UiEvent) {
        let name = event.name();
        if window::is_open(&self.app)
            && let Err(e) = self.app.emit_to(window::MAIN, name, event.payload())
        {
            tracing::debug!(error = %e, name, "emit failed");
        }
    }

    fn window_open(&self) -> bool {
        window::is_open(&self.app)
    }

    fn show_window(&self) {
        // Copied first: creating the window waits for the toolkit's thread, which may be
        // setting the title.
        let title = lock(&self.title).clone();
        window::show(&self.app, title.as_deref(), self.opened);
    }

    fn set_title(&self, title: &str) {
        *lock(&self.title) = Some(title.to_string());
        window::set_title(&self.app, title);
    }

    fn ask_attention(&self) {
        window::ask_attention(&self.app);
    }

    fn draw_tray(&self, picture: &Picture) {
        tray::draw(&self.app, picture);
        self.set_badge(picture.look.unread);
    }

    fn label_tray(&self, menu: &Menu) {
        tray::label(&self.app, menu);
    }

    fn quit(&self) {
        self.app.exit(0);
    }
}
