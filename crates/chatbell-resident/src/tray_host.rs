//! Is there a tray to live in? On Linux only if some process owns
//! `org.kde.StatusNotifierWatcher` (KDE, XFCE, most panels; GNOME only with the AppIndicator
//! extension); macOS and Windows always have a menu bar or a notification area.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Asks the session bus whether a StatusNotifierWatcher is present; `None` when the bus does
/// not answer within 3 s.
#[cfg(freedesktop)]
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

#[cfg(not(freedesktop))]
pub async fn present() -> Option<bool> {
    Some(true)
}

/// Whether closing the window leaves Chatbell in a tray (else it minimizes), as last asked. A
/// close only reads it: asking the bus there would block a toolkit's thread. Clones share it.
#[derive(Debug, Clone)]
pub struct TrayHost(Arc<AtomicBool>);

impl Default for TrayHost {
    /// A tray, until asked.
    fn default() -> TrayHost {
        TrayHost(Arc::new(AtomicBool::new(true)))
    }
}

impl TrayHost {
    pub fn available(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, available: bool) {
        self.0.store(available, Ordering::Relaxed);
    }

    /// Asks the bus again (a tray extension may have been switched on or off meanwhile), for the
    /// caller to spawn on its runtime. A bus too busy to answer changes nothing.
    pub fn refresh(&self) -> impl Future<Output = ()> + Send + 'static {
        let me = self.clone();
        async move {
            if let Some(present) = present().await {
                me.set(present);
            }
        }
    }
}
