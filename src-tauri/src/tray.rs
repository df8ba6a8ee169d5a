//! The tray icon through Tauri: the resident's picture and menu words (`chatbell_resident::
//! tray`) shown as they come, its menu's choices and the icon's click handed back.
//!
//! On Linux (libayatana-appindicator) the item registers as a StatusNotifierItem only if it
//! has a menu, and the icon is exposed as a PNG file the library writes.

use chatbell_resident::Resident;
use chatbell_resident::tray::{Action, Menu as Words, Picture};
use tauri::image::Image;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

pub const TRAY_ID: &str = "main";

/// The tray's handles.
struct Tray {
    icon: TrayIcon,
    /// The first line, disabled: "3 waiting · longest 7 min".
    waiting: MenuItem<Wry>,
    open: MenuItem<Wry>,
    dnd: MenuItem<Wry>,
    quit: MenuItem<Wry>,
}

/// Builds the tray showing what the resident shows now.
pub fn create(app: &AppHandle, resident: &Resident) -> tauri::Result<()> {
    let words = resident.tray_menu();
    let item =
        |action: Action, text: &str| MenuItem::with_id(app, action.id(), text, true, None::<&str>);
    let waiting = MenuItem::with_id(app, "waiting", &words.waiting, false, None::<&str>)?;
    let open = item(Action::Open, words.open)?;
    let dnd = item(Action::ToggleDnd, words.dnd)?;
    let quit = item(Action::Quit, words.quit)?;
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
    let picture = resident.tray_picture();
    let icon = TrayIconBuilder::with_id(TRAY_ID)
        .icon(image(&picture))
        .tooltip(&picture.tooltip)
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
                tray.app_handle()
                    .state::<Resident>()
                    .tray_action(Action::Open);
            }
        })
        .build(app)?;
    app.manage(Tray {
        icon,
        waiting,
        open,
        dnd,
        quit,
    });
    Ok(())
}

fn image(picture: &Picture) -> Image<'static> {
    Image::new_owned(
        picture.icon.rgba.clone(),
        picture.icon.width,
        picture.icon.height,
    )
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    if let Some(action) = Action::from_id(event.id().as_ref()) {
        app.state::<Resident>().tray_action(action);
    }
}

pub fn draw(app: &AppHandle, picture: &Picture) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    if let Err(e) = tray.icon.set_icon(Some(image(picture))) {
        tracing::warn!(error = %e, "updating the tray icon");
    }
    // Shown beside the icon where the platform has room for text (macOS, some Linux panels).
    let _ = tray.icon.set_title(picture.label.as_deref());
    let _ = tray.icon.set_tooltip(Some(&picture.tooltip));
}

pub fn label(app: &AppHandle, words: &Words) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    if let Err(e) = tray.waiting.set_text(&words.waiting) {
        tracing::warn!(error = %e, "updating the tray menu's waiting line");
    }
    let _ = tray.open.set_text(words.open);
    let _ = tray.dnd.set_text(words.dnd);
    let _ = tray.quit.set_text(words.quit);
}
