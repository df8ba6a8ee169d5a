//! The toolkit-free tray on a private session bus, read and clicked as a tray host does
//! (`chatbell-testkit`'s StatusNotifierWatcher): the badge arrives as pixels, the menu's
//! words change in place, and a click reaches the resident as an action.
#![cfg(freedesktop)]

use std::time::Duration;

use chatbell_engine::i18n::Lang;
use chatbell_resident::sni::Sni;
use chatbell_resident::tray::{self, Action, Look, Menu};
use chatbell_testkit::{TrayWatcher, in_private_desktop};
use tokio::sync::mpsc;

const WITHIN: Duration = Duration::from_secs(10);

/// The pixels a tray host receives for `look`: ARGB32 in network byte order.
fn argb(look: Look) -> Vec<u8> {
    tray::picture(look)
        .icon
        .rgba
        .chunks_exact(4)
        .flat_map(|p| [p[3], p[0], p[1], p[2]])
        .collect()
}

#[tokio::test]
async fn the_tray_shows_the_badge_as_pixels_and_its_menu_answers() {
    if !in_private_desktop("the_tray_shows_the_badge_as_pixels_and_its_menu_answers") {
        return;
    }
    let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap();
    let watcher = TrayWatcher::start_at(&address).await;
    let three = Look {
        unread: 3,
        connected: true,
        alert: false,
    };
    let (actions, mut chosen) = mpsc::unbounded_channel();
    let menu = Menu::new("1 waiting · longest 7 min".into(), false, Lang::En);
    let sni = Sni::spawn(tray::picture(three), menu, actions)
        .await
        .unwrap();

    let item = watcher
        .wait_item(WITHIN)
        .await
        .expect("the item registered");
    assert_eq!(item.id, "chatbell");
    assert_eq!(item.tool_tip, "Chatbell — 3");
    assert_eq!(item.icon_pixmap.len(), 1);
    let (w, h, pixels) = &item.icon_pixmap[0];
    assert_eq!((*w, *h), (64, 64));
    assert_eq!(
        *pixels,
        argb(three),
        "the badge for 3, drawn by the resident"
    );
    assert_eq!(
        watcher.menu(&item).await,
        [
            ("1 waiting · longest 7 min".to_string(), false),
            (String::new(), true),
            ("Open Chatbell".to_string(), true),
            ("Pause notifications".to_string(), true),
            (String::new(), true),
            ("Quit".to_string(), true),
        ]
    );

    // A new picture and new words replace the old ones in place.
    let offline = Look {
        unread: 120,
        connected: false,
        alert: true,
    };
    sni.draw(tray::picture(offline)).await;
    sni.label(Menu::new("Nobody waiting".into(), true, Lang::En))
        .await;
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let now = watcher.read(&item.service, &item.path).await.unwrap();
        let menu = watcher.menu(&now).await;
        if now.icon_pixmap.first().map(|p| &p.2) == Some(&argb(offline))
            && menu[0].0 == "Nobody waiting"
            && menu[3].0 == "Resume notifications"
        {
            assert_eq!(now.tool_tip, "Chatbell — 99+");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the item still shows {now:?} {menu:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Each choice reaches the resident; the disabled first line is not a choice.
    for (label, action) in [
        ("Open Chatbell", Action::Open),
        ("Resume notifications", Action::ToggleDnd),
        ("Quit", Action::Quit),
    ] {
        assert!(watcher.click(&item, label).await, "{label} is in the menu");
        let got = tokio::time::timeout(WITHIN, chosen.recv()).await.unwrap();
        assert_eq!(got, Some(action), "{label}");
    }
}

/// The tray-resident process is to link no toolkit: neither does this crate, tray included.
#[test]
fn the_resident_maps_no_toolkit() {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(maps.contains("libc.so"), "the maps list shared libraries");
    for toolkit in ["libgtk", "libgdk", "libwebkit2gtk", "libjavascriptcore"] {
        assert!(!maps.contains(toolkit), "{toolkit} is mapped:\n{maps}");
    }
}
