//! The tray icon: the engine's unread total drawn into it, a distinct look while not
//! connected, an alert mark while a customer's wait is urgent, and a menu whose first line says
//! who is waiting (the menu is the only text every tray host shows; `waiting.rs` words it), then
//! Open, Pause/Resume notifications, Quit.
//!
//! On Linux (libayatana-appindicator) the item registers as a StatusNotifierItem only if it
//! has a menu, and the icon is exposed as a PNG file the library writes: updates are redrawn
//! only when what they show changes.

use std::sync::{Mutex, OnceLock};

use chatbell_engine::notification_lang;
use chatbell_engine::notifier::text::tray_words;
use chatbell_engine::settings::Settings;
use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::badge::{self, Canvas};
use crate::state::AppState;
use crate::window;

pub const TRAY_ID: &str = "main";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    unread: u64,
    connected: bool,
    /// Some customer's wait has reached the urgent step.
    alert: bool,
}

impl Look {
    /// Two looks that draw the same icon (e.g. 120 and 130 unread: both "99+").
    fn same_picture(&self, other: &Look) -> bool {
        self.connected == other.connected
            && self.alert == other.alert
            && badge::label(self.unread) == badge::label(other.unread)
    }
}

/// The tray's handles and what it shows now.
struct Tray {
    icon: TrayIcon,
    /// The first line, disabled: "3 waiting · longest 7 min".
    waiting: MenuItem<Wry>,
    /// What `waiting` says now: the menu is re-sent over D-Bus only when it changes.
    waiting_text: Mutex<String>,
    open: MenuItem<Wry>,
    dnd: MenuItem<Wry>,
    quit: MenuItem<Wry>,
    look: Mutex<Option<Look>>,
    pending: Mutex<Look>,
}

fn decode(png: &[u8]) -> Canvas {
    let image = Image::from_bytes(png).expect("the bundled tray PNGs decode");
    Canvas {
        width: image.width(),
        height: image.height(),
        rgba: image.rgba().to_vec(),
    }
}

fn base(connected: bool) -> &'static Canvas {
    static NORMAL: OnceLock<Canvas> = OnceLock::new();
    static DISCONNECTED: OnceLock<Canvas> = OnceLock::new();
    if connected {
        NORMAL.get_or_init(|| decode(include_bytes!("../../icons/tray/normal.png")))
    } else {
        DISCONNECTED.get_or_init(|| decode(include_bytes!("../../icons/tray/disconnected.png")))
    }
}

/// Builds the tray; `waiting_line` is the menu's first line to start with.
pub fn create(app: &AppHandle, waiting_line: &str) -> tauri::Result<()> {
    let settings = app.state::<AppState>().settings();
    let w = tray_words(notification_lang(settings.ui.language));
    let dnd_text = if settings.notifications.do_not_disturb {
        w.resume
    } else {
        w.pause
    };
    let waiting = MenuItem::with_id(app, "waiting", waiting_line, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", w.open, true, None::<&str>)?;
    let dnd = MenuItem::with_id(app, "dnd", dnd_text, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", w.quit, true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &waiting,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &dnd,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let start = Look {
        unread: 0,
        connected: false,
        alert: false,
    };
    let icon = TrayIconBuilder::with_id(TRAY_ID)
        .icon(image(start))
        .tooltip("Chatbell")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window::show(tray.app_handle());
            }
        })
        .build(app)?;
    app.manage(Tray {
        icon,
        waiting,
        waiting_text: Mutex::new(waiting_line.to_string()),
        open,
        dnd,
        quit,
        look: Mutex::new(Some(start)),
        pending: Mutex::new(start),
    });
    follow_settings(app);
    Ok(())
}

/// Re-labels the menu whenever the settings change (language, do-not-disturb), wherever the
/// change came from.
fn follow_settings(app: &AppHandle) {
    let mut settings = app.state::<AppState>().settings_owner().subscribe();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        while settings.changed().await.is_ok() {
            let now = settings.borrow_and_update().clone();
            label_menu(&app, &now);
        }
    });
}

fn image(look: Look) -> Image<'static> {
    let base = base(look.connected);
    let alerted = look.alert.then(|| badge::alert(base));
    let under = alerted.as_ref().unwrap_or(base);
    let canvas = match badge::label(look.unread) {
        Some(label) => badge::draw(under, &label),
        None => under.clone(),
    };
    Image::new_owned(canvas.rgba, canvas.width, canvas.height)
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        "open" => window::show(app),
        "dnd" => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                // Toggled from the settings as they are when the change runs.
                let toggled = crate::prefs::update(&app, |s| {
                    s.notifications.do_not_disturb = !s.notifications.do_not_disturb
                });
                if let Err(e) = toggled.await {
                    tracing::error!(error = %e, "toggling do-not-disturb");
                }
            });
        }
        "quit" => app.exit(0),
        _ => {}
    }
}

pub fn set_unread(app: &AppHandle, unread: u64) {
    update(app, |look| look.unread = unread);
}

pub fn set_connected(app: &AppHandle, connected: bool) {
    update(app, |look| look.connected = connected);
}

/// The menu's first line and the alert mark (while some wait is urgent).
pub fn set_waiting(app: &AppHandle, line: &str, alert: bool) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let changed = {
        let mut shown = tray.waiting_text.lock().unwrap_or_else(|p| p.into_inner());
        let changed = *shown != line;
        if changed {
            *shown = line.to_string();
        }
        changed
    };
    if changed && let Err(e) = tray.waiting.set_text(line) {
        tracing::warn!(error = %e, "updating the tray menu's waiting line");
    }
    update(app, |look| look.alert = alert);
}

fn update(app: &AppHandle, change: impl FnOnce(&mut Look)) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let next = {
        let mut pending = tray.pending.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut pending);
        *pending
    };
    {
        let mut shown = tray.look.lock().unwrap_or_else(|p| p.into_inner());
        if shown.is_some_and(|s| s.same_picture(&next)) {
            return;
        }
        *shown = Some(next);
    }
    let label = badge::label(next.unread);
    if let Err(e) = tray.icon.set_icon(Some(image(next))) {
        tracing::warn!(error = %e, "updating the tray icon");
    }
    // Shown beside the icon where the platform has room for text (macOS, some Linux panels).
    let _ = tray.icon.set_title(label.as_deref());
    let tooltip = match (&label, next.connected) {
        (Some(l), _) => format!("Chatbell — {l}"),
        (None, true) => "Chatbell".to_string(),
        (None, false) => "Chatbell — offline".to_string(),
    };
    let _ = tray.icon.set_tooltip(Some(tooltip));
    crate::platform::set_window_badge(app, next.unread);
}

fn label_menu(app: &AppHandle, settings: &Settings) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let w = tray_words(notification_lang(settings.ui.language));
    let _ = tray.open.set_text(w.open);
    let _ = tray.dnd.set_text(if settings.notifications.do_not_disturb {
        w.resume
    } else {
        w.pause
    });
    let _ = tray.quit.set_text(w.quit);
}
