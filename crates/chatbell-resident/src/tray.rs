//! The tray, as a shell draws it: the engine's unread total drawn into the icon, a distinct
//! look while not connected, an alert mark while a customer's wait is urgent, and a menu whose
//! first line says who is waiting (the menu is the only text every tray host shows;
//! `waiting.rs` words it), then Open, Pause/Resume notifications, Quit.
//!
//! Tray hosts fetch a new icon over D-Bus for every change: the picture is handed to the shell
//! only when what it shows changes, and so are the menu's words.

use std::sync::{Mutex, OnceLock};

use chatbell_engine::i18n::{Lang, tray_words};
use chatbell_engine::sync::lock;

use crate::badge::{self, Canvas};

/// What the icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub unread: u64,
    pub connected: bool,
    /// Some customer's wait has reached the urgent step.
    pub alert: bool,
}

impl Look {
    /// Two looks that draw the same icon (e.g. 120 and 130 unread: both "99+").
    fn same_picture(&self, other: &Look) -> bool {
        self.connected == other.connected
            && self.alert == other.alert
            && badge::label(self.unread) == badge::label(other.unread)
    }
}

/// The icon drawn, with its text for hosts that show text beside or over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub look: Look,
    pub icon: Canvas,
    /// The count as the badge writes it ("7", "99+"), if any.
    pub label: Option<String>,
    /// "Chatbell — 7", "Chatbell — offline".
    pub tooltip: String,
}

/// The menu's words. Its items, in order: `waiting` (disabled), a separator, Open,
/// Pause/Resume, a separator, Quit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// "3 waiting · longest 7 min".
    pub waiting: String,
    pub open: &'static str,
    /// "Pause notifications" or "Resume notifications".
    pub dnd: &'static str,
    pub quit: &'static str,
}

impl Menu {
    pub fn new(waiting: String, do_not_disturb: bool, lang: Lang) -> Menu {
        let w = tray_words(lang);
        Menu {
            waiting,
            open: w.open,
            dnd: if do_not_disturb { w.resume } else { w.pause },
            quit: w.quit,
        }
    }
}

/// A choice in the tray's menu (or a click on the icon: `Open`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Open,
    ToggleDnd,
    Quit,
}

impl Action {
    /// The menu item's id, as shells name them.
    pub fn id(self) -> &'static str {
        match self {
            Action::Open => "open",
            Action::ToggleDnd => "dnd",
            Action::Quit => "quit",
        }
    }

    pub fn from_id(id: &str) -> Option<Action> {
        [Action::Open, Action::ToggleDnd, Action::Quit]
            .into_iter()
            .find(|a| a.id() == id)
    }
}

fn decode(png_bytes: &[u8]) -> Canvas {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("the bundled tray PNGs decode");
    let mut rgba = vec![0; reader.output_buffer_size().expect("a tray-sized PNG")];
    let info = reader
        .next_frame(&mut rgba)
        .expect("the bundled tray PNGs decode");
    assert_eq!(
        info.color_type,
        png::ColorType::Rgba,
        "the tray PNGs are RGBA"
    );
    rgba.truncate(info.buffer_size());
    Canvas {
        width: info.width,
        height: info.height,
        rgba,
    }
}

fn base(connected: bool) -> &'static Canvas {
    static NORMAL: OnceLock<Canvas> = OnceLock::new();
    static DISCONNECTED: OnceLock<Canvas> = OnceLock::new();
    if connected {
        NORMAL.get_or_init(|| decode(include_bytes!("../../../icons/tray/normal.png")))
    } else {
        DISCONNECTED.get_or_init(|| decode(include_bytes!("../../../icons/tray/disconnected.png")))
    }
}

/// Draws `look`.
pub fn picture(look: Look) -> Picture {
    let base = base(look.connected);
    let alerted = look.alert.then(|| badge::alert(base));
    let under = alerted.as_ref().unwrap_or(base);
    let label = badge::label(look.unread);
    let icon = match &label {
        Some(label) => badge::draw(under, label),
        None => under.clone(),
    };
    let tooltip = match (&label, look.connected) {
        (Some(l), _) => format!("Chatbell — {l}"),
        (None, true) => "Chatbell".to_string(),
        (None, false) => "Chatbell — offline".to_string(),
    };
    Picture {
        look,
        icon,
        label,
        tooltip,
    }
}

/// What the tray shows now, and what it was last drawn as.
#[derive(Debug)]
pub struct Tray {
    look: Mutex<Look>,
    drawn: Mutex<Option<Look>>,
    menu: Mutex<Option<Menu>>,
}

impl Default for Tray {
    fn default() -> Self {
        Tray {
            look: Mutex::new(Look {
                unread: 0,
                connected: false,
                alert: false,
            }),
            drawn: Mutex::new(None),
            menu: Mutex::new(None),
        }
    }
}

impl Tray {
    /// Changes what the icon shows; the picture to draw if it differs from the one drawn.
    pub fn change(&self, change: impl FnOnce(&mut Look)) -> Option<Picture> {
        let next = {
            let mut look = lock(&self.look);
            change(&mut look);
            *look
        };
        let mut drawn = lock(&self.drawn);
        if drawn.is_some_and(|d| d.same_picture(&next)) {
            return None;
        }
        *drawn = Some(next);
        Some(picture(next))
    }

    /// The picture as it is now (for a tray being created).
    pub fn picture_now(&self) -> Picture {
        let look = *lock(&self.look);
        *lock(&self.drawn) = Some(look);
        picture(look)
    }

    /// New menu words; `Some` if they differ from the ones shown.
    pub fn relabel(&self, menu: Menu) -> Option<Menu> {
        let mut shown = lock(&self.menu);
        if shown.as_ref() == Some(&menu) {
            return None;
        }
        *shown = Some(menu.clone());
        Some(menu)
    }

    /// The menu's words as they are now, if any were set.
    pub fn menu_now(&self) -> Option<Menu> {
        lock(&self.menu).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_pictures_decode_to_rgba() {
        for connected in [true, false] {
            let canvas = base(connected);
            assert!(canvas.width >= 16 && canvas.width == canvas.height);
            assert_eq!(
                canvas.rgba.len(),
                (canvas.width * canvas.height * 4) as usize
            );
        }
    }

    #[test]
    fn a_picture_is_handed_out_only_when_what_it_shows_changes() {
        let tray = Tray::default();
        let first = tray.change(|l| l.unread = 3).expect("the first drawing");
        assert_eq!(first.label.as_deref(), Some("3"));
        assert_eq!(first.tooltip, "Chatbell — 3");
        assert!(tray.change(|l| l.unread = 3).is_none());
        assert!(tray.change(|l| l.unread = 120).is_some());
        assert!(tray.change(|l| l.unread = 130).is_none(), "both read 99+");
        let online = tray.change(|l| l.connected = true).expect("connected");
        assert_ne!(online.icon, first.icon);
        assert!(tray.change(|l| l.alert = true).is_some());
        let cleared = tray
            .change(|l| {
                l.unread = 0;
                l.alert = false;
            })
            .expect("cleared");
        assert_eq!(cleared.tooltip, "Chatbell");
        assert_eq!(cleared.icon, *base(true));
    }

    #[test]
    fn menu_words_are_handed_out_only_when_they_change() {
        let tray = Tray::default();
        let menu = Menu::new("Nobody waiting".into(), false, Lang::En);
        assert_eq!(tray.relabel(menu.clone()), Some(menu.clone()));
        assert_eq!(tray.relabel(menu.clone()), None);
        let paused = Menu::new("Nobody waiting".into(), true, Lang::En);
        assert_ne!(paused.dnd, menu.dnd);
        assert_eq!(tray.relabel(paused.clone()), Some(paused));
        for action in [Action::Open, Action::ToggleDnd, Action::Quit] {
            assert_eq!(Action::from_id(action.id()), Some(action));
        }
    }
}
