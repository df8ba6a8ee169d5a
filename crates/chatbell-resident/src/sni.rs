//! The tray without a toolkit (Linux): a StatusNotifierItem with a dbusmenu menu, spoken over
//! D-Bus by `ksni` on the caller's tokio runtime. The icon is the resident's picture, passed as
//! a pixmap (the badge drawn into it), so no file is written and no icon theme is needed.

use ksni::menu::StandardItem;
use ksni::{Icon, MenuItem, ToolTip, TrayMethods};
use tokio::sync::mpsc;

use crate::tray::{Action, Menu, Picture};

/// What the item shows; ksni reads it whenever a tray host asks.
struct Item {
    picture: Picture,
    menu: Menu,
    actions: mpsc::UnboundedSender<Action>,
}

/// RGBA rows to the item's ARGB32 in network byte order.
fn pixmap(picture: &Picture) -> Icon {
    let data = picture
        .icon
        .rgba
        .chunks_exact(4)
        .flat_map(|p| [p[3], p[0], p[1], p[2]])
        .collect();
    Icon {
        width: picture.icon.width as i32,
        height: picture.icon.height as i32,
        data,
    }
}

impl Item {
    fn choice(&self, action: Action, label: &str) -> MenuItem<Self> {
        StandardItem {
            label: label.replace('_', "__"),
            activate: Box::new(move |item: &mut Item| {
                let _ = item.actions.send(action);
            }),
            ..Default::default()
        }
        .into()
    }
}

impl ksni::Tray for Item {
    fn id(&self) -> String {
        "chatbell".into()
    }

    fn title(&self) -> String {
        "Chatbell".into()
    }

    fn icon_pixmap(&self) -> Vec<Icon> {
        vec![pixmap(&self.picture)]
    }

    fn tool_tip(&self) -> ToolTip {
        ToolTip {
            title: self.picture.tooltip.clone(),
            ..Default::default()
        }
    }

    /// A click on the icon opens the window, as the menu's Open does.
    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.actions.send(Action::Open);
    }

    fn menu(&self) -> Vec<MenuItem<Self>> {
        vec![
            StandardItem {
                label: self.menu.waiting.replace('_', "__"),
                enabled: false,
                ..Default::default()
            }
            .into(),
            MenuItem::Separator,
            self.choice(Action::Open, self.menu.open),
            self.choice(Action::ToggleDnd, self.menu.dnd),
            MenuItem::Separator,
            self.choice(Action::Quit, self.menu.quit),
        ]
    }
}

/// The running item; dropping it takes the item off the bus.
pub struct Sni {
    handle: ksni::Handle<Item>,
}

impl Sni {
    /// Puts the item on the session bus showing `picture` and `menu`; the agent's choices
    /// arrive on `actions`. Without a tray host the item waits for one (ksni registers it
    /// when a StatusNotifierWatcher appears).
    pub async fn spawn(
        picture: Picture,
        menu: Menu,
        actions: mpsc::UnboundedSender<Action>,
    ) -> Result<Sni, ksni::Error> {
        let item = Item {
            picture,
            menu,
            actions,
        };
        let handle = item.assume_sni_available(true).spawn().await?;
        Ok(Sni { handle })
    }

    /// Shows a new picture (the resident hands one out only when it changes).
    pub async fn draw(&self, picture: Picture) {
        self.handle.update(move |item| item.picture = picture).await;
    }

    /// Shows new menu words.
    pub async fn label(&self, menu: Menu) {
        self.handle.update(move |item| item.menu = menu).await;
    }
}

impl Drop for Sni {
    fn drop(&mut self) {
        // The request is sent at once; the awaiter would only wait for it to complete.
        drop(self.handle.shutdown());
    }
}
