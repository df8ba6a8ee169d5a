//! How the resident starts, and what its tray's menu does: what sets the other modules going
//! (the settings' owner, who waits, the bridge, the session and its restarts).

use std::sync::Arc;

use chatbell_engine::settings::organization::Loaded;
use chatbell_ipc::contract::Mode;

use crate::desktop::Desktop;
use crate::resident::{Options, Resident};
use crate::tray::{Action, Menu};
use crate::{bridge, prefs, switch, tray_host, waiting};

impl Resident {
    /// The resident with its settings' owner running, from the settings `prefs::load` read
    /// (the organization's file followed from there); `start` runs the rest. Called on the
    /// tokio runtime its tasks are to run on. Settings that could not be read are said once,
    /// at the window's first look.
    pub fn new(options: Options, settings: Loaded, desktop: Arc<dyn Desktop>) -> Resident {
        let notice = settings.user_error.map(|e| e.to_string());
        let layers = settings.layers;
        let resident = Resident::with_settings(options, notice, desktop, |resident| {
            let (owner, task) = prefs::own(layers, resident);
            tokio::spawn(task);
            owner
        });
        prefs::follow_organization(&resident, settings.organization);
        resident
    }

    /// Asks whether there is a tray host, starts the tasks that follow who waits, the settings
    /// and the engine's failures, and the session the options and settings ask for. Failing to
    /// start the session is kept (`start_failure`) and said by the window, never fatal.
    pub async fn start(&self) {
        // Unknown counts as no tray: closing then minimizes, which loses nothing.
        self.set_tray_available(tray_host::present().await.unwrap_or(false));
        waiting::start(self);
        bridge::follow_settings(self);
        self.spawn(switch::restart_after_failures(self.clone()));
        let settings = self.settings();
        let mode = if self.0.options.demo {
            Mode::Demo
        } else if settings.server.url.is_some() {
            Mode::Server
        } else {
            Mode::Unconfigured
        };
        if let Err(e) = switch::switch(self, mode).await {
            tracing::error!(error = %e, "starting the engine");
        }
        // With the session up: a change of the settings is applied to it.
        prefs::adopt_start_at_login(self).await;
    }

    /// The tray menu's words as they are now.
    pub fn tray_menu(&self) -> Menu {
        self.tray_menu_shown()
            .unwrap_or_else(|| waiting::menu_now(self))
    }

    /// The agent chose something in the tray's menu (or clicked the icon: `Open`).
    pub fn tray_action(&self, action: Action) {
        match action {
            Action::Open => self.show_window(),
            Action::ToggleDnd => {
                let me = self.clone();
                self.spawn(async move {
                    // Toggled from the settings as they are when the change runs.
                    let toggled = prefs::update(&me, |s| {
                        s.notifications.do_not_disturb = !s.notifications.do_not_disturb
                    });
                    if let Err(e) = toggled.await {
                        tracing::error!(error = %e, "toggling do-not-disturb");
                    }
                });
            }
            Action::Quit => self.desktop().quit(),
        }
    }
}
