// The app's commands get `allow-<command>` permissions generated here; the capability file
// grants exactly those the UI uses (and nothing else: no plugin commands, no shell, no fs).
const COMMANDS: &[&str] = &[
    "app_info",
    "list_chats",
    "get_chat",
    "chat_history",
    "search_messages",
    "mark_read",
    "set_open_chat",
    "save_settings",
    "set_secret",
    "clear_secret",
    "set_forward_secret",
    "clear_forward_secret",
    "test_forward",
    "check_connection",
    "mute_chat",
    "unmute_chat",
    "snooze_chat",
    "unsnooze_chat",
    "open_web_panel",
    "preview_web_panel",
    "set_dnd",
    "preview_sound",
    "test_alerts",
    "recent_decisions",
    "start_demo",
    "retry_start",
    "reconnect_now",
    "page_painted",
];

#[path = "build/page.rs"]
mod page;

fn main() {
    page::bundle();
    // `cfg(freedesktop)`: Linux and the BSDs, the desktops of freedesktop.org
    // (docs/architecture.md).
    cfg_aliases::cfg_aliases! {
        freedesktop: { all(unix, not(target_os = "macos")) },
    }
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
