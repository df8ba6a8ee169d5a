//! Is there a tray to live in? On Linux only if some process owns
//! `org.kde.StatusNotifierWatcher` (KDE, XFCE, most panels; GNOME only with the AppIndicator
//! extension); macOS and Windows always have a menu bar or a notification area.

/// Asks the session bus whether a StatusNotifierWatcher is present; `None` when the bus does
/// not answer within 3 s.
#[cfg(all(unix, not(target_os = "macos")))]
pub async fn present() -> Option<bool> {
    let ask = async {
        let conn = zbus::Connection::session().await.ok()?;
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.ok()?;
        let name = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher").ok()?;
        dbus.name_has_owner(name).await.ok()
    };
    tokio::time::timeout(std::time::Duration::from_secs(3), ask)
        .await
        .ok()
        .flatten()
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub async fn present() -> Option<bool> {
    Some(true)
}
