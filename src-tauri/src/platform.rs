//! What differs by platform: how the window's taskbar/dock badge is set.

use tauri::{AppHandle, Manager};

/// The count on the window's taskbar or dock entry, where the platform has one.
pub fn set_window_badge(app: &AppHandle, unread: u64) {
    let Some(window) = app.get_webview_window(crate::window::MAIN) else {
        return;
    };
    #[cfg(target_os = "macos")]
    let _ = window.set_badge_label(chatbell_resident::badge::label(unread));
    // Linux: the Unity LauncherEntry API (docks that implement it); Windows has no count
    // badge (only overlay icons) and the tray carries the count there.
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let _ = window.set_badge_count((unread > 0).then_some(unread as i64));
    #[cfg(target_os = "windows")]
    let _ = (window, unread);
}
