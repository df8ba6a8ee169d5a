//! What both of Chatbell's programs do as processes, the resident `chatbell` and the window
//! `chatbell-window`: find the other beside them, and quit cleanly on a signal.

use std::path::PathBuf;

/// The program `name` installed beside this one (`chatbell`, `chatbell-window`); the bare name,
/// looked up in `PATH`, if this program's own path is unknown.
pub fn sibling(name: &str) -> PathBuf {
    let name = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(&name)))
        .unwrap_or_else(|| name.into())
}

/// Until SIGTERM (a session ending, `systemctl`, `kill`) or SIGINT (a terminal's Ctrl+C): the
/// name of the one that came, for the caller to quit as the tray's Quit does, so everything
/// received is written and the stop time recorded (a signal's default action would end the
/// process mid-write). Never, if they cannot be listened for (logged), and never off Unix.
pub async fn quit_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
        }
        tracing::warn!("cannot listen for SIGTERM: a signal will end Chatbell abruptly");
    }
    std::future::pending().await
}
