//! Linux: a tray exists only if some process owns `org.kde.StatusNotifierWatcher` (KDE, XFCE,
//! most panels; GNOME only with the AppIndicator extension).

use std::time::Duration;

/// Asks the session bus whether a StatusNotifierWatcher is present.
pub fn tray_host_present() -> bool {
    let ask = async {
        let conn = zbus::Connection::session().await.ok()?;
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.ok()?;
        let name = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher").ok()?;
        dbus.name_has_owner(name).await.ok()
    };
    let answer = tauri::async_runtime::block_on(async {
        tokio::time::timeout(Duration::from_secs(1), ask).await
    });
    matches!(answer, Ok(Some(true)))
}
