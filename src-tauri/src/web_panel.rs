//! The service's web panel, where the agent answers: a chat's link (filled by the engine from
//! the configured template) opened in the system's default browser (the opener plugin,
//! `xdg-open` on Linux). Only links filled from the template are ever opened.

use tauri::AppHandle;
use tauri_plugin_opener::OpenerExt;

/// Opens a filled link in the default browser.
pub async fn open(app: &AppHandle, url: String) -> Result<(), String> {
    // The template allows nothing else; checked again because this is where a URL leaves us.
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err("only http and https links are opened".into());
    }
    let app = app.clone();
    // The launcher is watched for a quick failure (up to 250 ms per candidate): not on the
    // async workers.
    tauri::async_runtime::spawn_blocking(move || app.opener().open_url(url, None::<&str>))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot start the browser: {e}"))
}
