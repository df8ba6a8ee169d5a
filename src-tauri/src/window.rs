//! The main window: created on demand, destroyed when closed (the app lives on in the tray and
//! WebKit's processes exit), its size and position remembered, and its taskbar or dock badge.
//! Tauri only: what it means to the app (the backend) is decided by whoever calls it, and its
//! events are turned into the backend's calls in `lib.rs`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, CloseRequestApi, Manager, WebviewWindow, WebviewWindowBuilder, Window};

pub const MAIN: &str = "main";

/// Whether the window exists (shown, minimized or hidden behind others).
pub fn is_open(app: &AppHandle) -> bool {
    app.get_webview_window(MAIN).is_some()
}

/// Brings the window up, creating it with `title` if it was closed to the tray; a window
/// created now calls `shown` once it is on screen (and focused).
pub fn show(app: &AppHandle, title: Option<&str>, shown: fn(&AppHandle)) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    if let Err(e) = create(app, title, shown) {
        tracing::error!(error = %e, "cannot open the window");
    }
}

/// The window's title, if it is open.
pub fn set_title(app: &AppHandle, title: &str) {
    if let Some(window) = app.get_webview_window(MAIN)
        && let Err(e) = window.set_title(title)
    {
        tracing::debug!(error = %e, "setting the window title");
    }
}

/// A customer's wait turned urgent: where the window exists but the agent is elsewhere, it
/// asks for attention (the taskbar's urgency hint). Never focused or raised: that would take
/// the keyboard from whatever the agent is typing into.
pub fn ask_attention(app: &AppHandle) {
    let Some(window) = app.get_webview_window(MAIN) else {
        return;
    };
    if window.is_focused().unwrap_or(false) {
        return;
    }
    if let Err(e) = window.request_user_attention(Some(tauri::UserAttentionType::Critical)) {
        tracing::debug!(error = %e, "asking for attention");
    }
}

fn create(
    app: &AppHandle,
    title: Option<&str>,
    shown: fn(&AppHandle),
) -> tauri::Result<WebviewWindow> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .expect("tauri.conf.json defines the main window");
    // Shown when the page has loaded, its first frame next, not as an empty window before it
    // (a second later at the latest, whatever the page does). Logged at info, once per window:
    // the benchmark times the opening from these lines.
    let mut builder = WebviewWindowBuilder::from_config(app, &config)?
        .visible(false)
        .on_page_load(move |window, page| {
            if matches!(page.event(), PageLoadEvent::Finished) {
                tracing::info!("page loaded");
                reveal(&window, shown);
            }
        });
    if let Some(title) = title {
        builder = builder.title(title);
    }
    let geometry = Geometry::load();
    if let Some(g) = &geometry {
        builder = builder.inner_size(g.width, g.height).position(g.x, g.y);
    }
    let window = builder.build()?;
    lighten(&window);
    tracing::info!("window created");
    let late = window.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(REVEAL_AT_THE_LATEST).await;
        reveal(&late, shown);
    });
    if geometry.is_some_and(|g| g.maximized) {
        let _ = window.maximize();
    }
    Ok(window)
}

/// How long a new window may stay hidden waiting for its page to load.
const REVEAL_AT_THE_LATEST: std::time::Duration = std::time::Duration::from_secs(1);

/// Shows a window created hidden, with the keyboard focus, once, and says so: only then does
/// the open chat count as watched.
fn reveal(window: &WebviewWindow, shown: fn(&AppHandle)) {
    if window.is_visible().unwrap_or(true) {
        return;
    }
    if let Err(e) = window.show() {
        tracing::warn!(error = %e, "cannot show the window");
        return;
    }
    let _ = window.set_focus();
    shown(window.app_handle());
}

/// WebKitGTK's hardware acceleration policy "never" and caches sized for a document viewer: a
/// chat list needs no GPU compositing, and compositing alone costs tens of MiB while the window
/// is open (`docs/footprint.md`, `docs/BENCHMARKS.md`). Set through the webview's settings, so
/// nothing else in the process is changed (as `WEBKIT_DISABLE_COMPOSITING_MODE` would).
/// The policy only on X11: under Wayland (weston, measured) WebKitGTK 2.50 paints nothing with
/// it, and the window stays blank. `CHATBELL_WEBVIEW_DEFAULTS` set leaves WebKit's defaults:
/// the benchmark's same-run baseline.
fn lighten(window: &WebviewWindow) {
    if std::env::var_os("CHATBELL_WEBVIEW_DEFAULTS").is_some() {
        return;
    }
    #[cfg(target_os = "linux")]
    let lightened = window.with_webview(|webview| {
        use gtk::gdk::prelude::DisplayExtManual;
        use gtk::prelude::WidgetExt;
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        let view = webview.inner();
        let x11 = WidgetExt::display(&view).backend().is_x11();
        if x11 && let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        if let Some(context) = view.context() {
            context.set_cache_model(CacheModel::DocumentViewer);
        }
    });
    // WebView2 and WKWebView keep their defaults: nothing to set there.
    #[cfg(not(target_os = "linux"))]
    let lightened: tauri::Result<()> = {
        let _ = window;
        Ok(())
    };
    if let Err(e) = lightened {
        tracing::warn!(error = %e, "cannot set the webview's settings");
    }
}

/// The agent asked to close the window: where it was is remembered, and without a tray to live
/// in (`tray` false) it is minimized instead of closed, for the app has nowhere else to be.
pub fn close_requested(window: &Window, api: &CloseRequestApi, tray: bool) {
    tracing::info!(tray, "window close requested");
    Geometry::save(window);
    if !tray {
        api.prevent_close();
        let _ = window.minimize();
    }
}

/// The count on the window's taskbar or dock entry, where the platform has one.
pub fn set_badge(app: &AppHandle, unread: u64) {
    let Some(window) = app.get_webview_window(MAIN) else {
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

/// Where the window was, in logical pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Geometry {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    maximized: bool,
}

impl Geometry {
    fn path() -> PathBuf {
        chatbell_engine::paths::config_dir().join("window.json")
    }

    /// A saved geometry if it is sane; a damaged file is ignored (the window opens centered).
    fn load() -> Option<Geometry> {
        let text = std::fs::read_to_string(Self::path()).ok()?;
        let g: Geometry = serde_json::from_str(&text).ok()?;
        let sane = (380.0..=20_000.0).contains(&g.width)
            && (420.0..=20_000.0).contains(&g.height)
            && (-20_000.0..=20_000.0).contains(&g.x)
            && (-20_000.0..=20_000.0).contains(&g.y);
        sane.then_some(g)
    }

    fn save(window: &Window) {
        let (Ok(scale), Ok(pos), Ok(size)) = (
            window.scale_factor(),
            window.outer_position(),
            window.inner_size(),
        ) else {
            return;
        };
        let g = Geometry {
            x: pos.to_logical::<f64>(scale).x,
            y: pos.to_logical::<f64>(scale).y,
            width: size.to_logical::<f64>(scale).width,
            height: size.to_logical::<f64>(scale).height,
            maximized: window.is_maximized().unwrap_or(false),
        };
        let path = Self::path();
        let written = path
            .parent()
            .map(chatbell_engine::private::dir)
            .transpose()
            .and_then(|_| {
                chatbell_engine::private::write(
                    &path,
                    serde_json::to_string(&g)
                        .expect("geometry serializes")
                        .as_bytes(),
                )
            });
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot remember the window geometry");
        }
    }
}
