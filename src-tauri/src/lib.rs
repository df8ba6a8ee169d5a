//! The Chatbell desktop shell: shows the resident (`chatbell-resident`: the session, the
//! settings, the commands) through Tauri — its commands, the window, the tray. The work itself
//! lives in `chatbell-engine`.

mod commands;
mod desktop;
mod logging;
mod platform;
mod tray;
mod window;

use std::sync::Arc;

use chatbell_resident::Resident;
use tauri::{Manager, RunEvent};

pub use chatbell_resident::Options;

use crate::desktop::TauriDesktop;

/// Runs the app until the user quits from the tray.
pub fn run(options: Options) {
    // Dropped at exit, which flushes it: Tauri ends the process without returning from `run`.
    let mut log = logging::init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), ?options, "starting");
    let (settings, notice) = chatbell_resident::load_settings();
    let app = tauri::Builder::default()
        // A second launch (the menu entry clicked again) brings up this one.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            app.state::<Resident>().show_window()
        }))
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_chats,
            commands::get_chat,
            commands::chat_history,
            commands::search_messages,
            commands::mark_read,
            commands::set_open_chat,
            commands::save_settings,
            commands::set_token,
            commands::clear_token,
            commands::mute_chat,
            commands::unmute_chat,
            commands::snooze_chat,
            commands::unsnooze_chat,
            commands::open_web_panel,
            commands::preview_web_panel,
            commands::set_dnd,
            commands::preview_sound,
            commands::test_alerts,
            commands::recent_decisions,
            commands::start_demo,
            commands::retry_start,
            commands::reconnect_now,
        ])
        .on_window_event(window::on_window_event)
        .setup(move |app| {
            let handle = app.handle().clone();
            let desktop = Arc::new(TauriDesktop(handle.clone()));
            // On Tauri's runtime, where the resident's tasks run.
            let resident = tauri::async_runtime::block_on(async move {
                Resident::new(options, settings, notice, desktop)
            });
            app.manage(resident.clone());
            quit_on_signals(&handle);
            tray::create(&handle, &resident)?;
            tauri::async_runtime::block_on(resident.start());
            if !options.hidden {
                resident.show_window();
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("the Tauri application builds");
    app.run(move |app, event| match event {
        // Closing the window must not end the app: it lives in the tray until Quit.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            // Everything received is written and the stop time recorded before exit.
            if let Some(resident) = app.try_state::<Resident>() {
                tauri::async_runtime::block_on(resident.shutdown());
            }
            tracing::info!("bye");
            drop(log.take());
        }
        _ => {}
    });
}

/// A session ending, `systemctl` or `kill` stops the app with SIGTERM, a terminal with Ctrl+C:
/// both quit as the tray's Quit does, so everything received is written and the stop time
/// recorded (without this, the signal's default action would end the process mid-write).
fn quit_on_signals(app: &tauri::AppHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                tracing::warn!("cannot listen for SIGTERM: a signal will end the app abruptly");
                return;
            };
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!(signal = name, "asked to quit");
            app.exit(0);
        });
    }
    #[cfg(not(unix))]
    let _ = app;
}
