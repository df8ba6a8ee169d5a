//! Linux: a tray exists only if some process owns `org.kde.StatusNotifierWatcher` (KDE, XFCE,
//! most panels; GNOME only with the AppIndicator extension).

use std::time::Duration;

/// Asks the session bus whether a StatusNotifierWatcher is present; `None` when the bus does
/// not answer within 3 s.
pub async fn tray_host_present() -> Option<bool> {
    let ask = async {
        let conn = zbus::Connection::session().await.ok()?;
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.ok()?;
        let name = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher").ok()?;
        dbus.name_has_owner(name).await.ok()
    };
    tokio::time::timeout(Duration::from_secs(3), ask)
        .await
        .ok()
        .flatten()
}
