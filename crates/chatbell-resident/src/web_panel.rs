//! The service's web panel, where the agent answers: a chat's link (filled by the engine from
//! the configured template) opened in the system's default browser (`xdg-open` on Linux). Only
//! links filled from the template are ever opened.

/// Opens a filled link in the default browser.
pub async fn open(url: String) -> Result<(), String> {
    // The template allows nothing else; checked again because this is where a URL leaves us.
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err("only http and https links are opened".into());
    }
    // Starting the launcher is a fork and an exec: not on the async workers.
    tokio::task::spawn_blocking(move || open::that_detached(url))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot start the browser: {e}"))
}
