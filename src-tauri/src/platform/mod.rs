//! What differs by platform: is there a tray host, and how the window's taskbar/dock badge
//! is set.

#[cfg(all(unix, not(target_os = "macos")))]
mod linux;
#[cfg(all(unix, not(target_os = "macos")))]
pub use linux::tray_host_present;

use tauri::{AppHandle, Manager};

/// macOS and Windows always have a menu bar / notification area.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub async fn tray_host_present() -> Option<bool> {
    Some(true)
}

/// Asks again in the background whether there is a tray, for the next close of the window
/// (a tray extension may have been switched on or off meanwhile). The close itself only reads
/// the answer: asking the bus there would block the UI thread. A bus too busy to answer
/// changes nothing.
pub fn refresh_tray_host(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Some(present) = tray_host_present().await {
            app.state::<crate::state::AppState>()
                .set_tray_available(present);
        }
    });
}

/// The count on the window's taskbar or dock entry, where the platform has one.
pub fn set_window_badge(app: &AppHandle, unread: u64) {
    let Some(window) = app.get_webview_window(crate::window::MAIN) else {
        return;
    };
    #[cfg(target_os = "macos")]
    let _ = window.set_badge_label(crate::badge::label(unread));
    // Linux: the Unity LauncherEntry API (docks that implement it); Windows has no count
    // badge (only overlay icons) and the tray carries the count there.
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let _ = window.set_badge_count((unread > 0).then_some(unread as i64));
    #[cfg(target_os = "windows")]
    let _ = (window, unread);
}
