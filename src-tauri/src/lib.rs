//! The Chatbell desktop shell: wires the engine to Tauri — commands, events, the tray, the
//! window, settings. The work itself lives in `chatbell-engine`.

mod badge;
mod bridge;
mod commands;
mod logging;
mod platform;
mod prefs;
mod session;
mod state;
mod token;
mod tray;
mod waiting;
mod web_panel;
mod window;

use std::time::Duration;

use chatbell_ipc::contract::Mode;
use tauri::{Manager, RunEvent};

pub use state::Options;

use crate::state::AppState;

/// Runs the app until the user quits from the tray.
pub fn run(options: Options) {
    // Dropped at exit, which flushes it: Tauri ends the process without returning from `run`.
    let mut log = logging::init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), ?options, "starting");
    let (settings, notice) = prefs::load();
    let app = tauri::Builder::default()
        // A second launch (the menu entry clicked again) brings up this one.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            window::show(app)
        }))
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .args(["--hidden"])
                .app_name("Chatbell")
                .build(),
        )
        // For the web panel link, opened from Rust only: the UI is granted none of its commands.
        .plugin(tauri_plugin_opener::init())
        .manage(AppState::new(options, notice))
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
        .setup(|app| {
            let handle = app.handle().clone();
            let state = app.state::<AppState>();
            state.set_settings_owner(prefs::own(&handle, settings));
            // Unknown counts as no tray: closing then minimizes, which loses nothing.
            state.set_tray_available(
                tauri::async_runtime::block_on(platform::tray_host_present()).unwrap_or(false),
            );
            quit_on_signals(&handle);
            tray::create(&handle, &waiting::line_now(&handle))?;
            waiting::start(&handle);
            bridge::follow_settings(&handle);
            let settings = state.settings();
            let mode = if state.options.demo {
                Mode::Demo
            } else if settings.server.url.is_some() {
                Mode::Server
            } else {
                Mode::Unconfigured
            };
            if let Err(e) = tauri::async_runtime::block_on(session::switch(&handle, mode)) {
                tracing::error!(error = %e, "starting the engine");
            }
            if !state.options.hidden {
                window::show(&handle);
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
            if let Some(session) = app.state::<AppState>().replace_session(None) {
                // Everything received is written and the stop time recorded before exit.
                let stopped = tauri::async_runtime::block_on(async {
                    tokio::time::timeout(Duration::from_secs(5), session.stop()).await
                });
                if stopped.is_err() {
                    tracing::warn!("the engine did not stop within 5 s");
                }
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
