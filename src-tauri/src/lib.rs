//! Chatbell's window: the page (`ui/`) in a webview, its commands and the resident's events.
//! On Linux it is a process of its own, started by the tray-resident `chatbell` when the window
//! is wanted and gone when the window closes, so every byte of WebKit goes with it (`remote`).
//! On macOS and Windows, and with `--single-process` on Linux, it is the whole app in one
//! process: the resident (`chatbell-resident`) runs here and Tauri draws its tray.
//!
//! Imports run one way (`tests/layering.rs`): `commands` → `backend` → `remote` → `desktop` →
//! `window`, `tray`; the Tauri-only `window` and `tray` know nothing of the backend, and this
//! file wires them: the window's events become the backend's calls here.

mod backend;
mod commands;
mod desktop;
#[cfg(freedesktop)]
mod remote;
mod tray;
mod window;

use std::sync::Arc;

use chatbell_ipc::socket::{self, BindError, Listener};
use chatbell_resident::Resident;
use tauri::{App, AppHandle, Manager, RunEvent, Window, WindowEvent, Wry};

use crate::backend::Backend;
use crate::desktop::TauriDesktop;

/// How the window was started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Start with the embedded simulator.
    pub demo: bool,
    /// The whole app in this process, without a window at start (start at login).
    pub hidden: bool,
    /// The whole app in this process, as on macOS and Windows (on Linux: the benchmarks'
    /// baseline, and a way out should the split misbehave).
    pub single_process: bool,
}

/// Runs the window (or the whole app) until it ends.
pub fn run(options: Options) {
    let single = options.single_process || cfg!(not(freedesktop));
    // Dropped at exit, which flushes it: Tauri ends the process without returning from `run`.
    let mut log = chatbell_resident::logging::init(if single {
        "chatbell-app"
    } else {
        "chatbell-window"
    });
    tracing::info!(version = env!("CARGO_PKG_VERSION"), ?options, "starting");
    // The one instance: whoever binds the local socket (a named pipe on Windows). A second
    // launch (the menu entry clicked again) asks it for its window and ends. In the split the
    // resident binds it.
    let mut listener = None;
    if single {
        match claim(options) {
            Ok(bound) => listener = Some(bound),
            Err(code) => {
                drop(log.take());
                std::process::exit(code)
            }
        }
    }
    let app = tauri::Builder::default()
        .invoke_handler(commands::dispatch)
        .on_window_event(on_window_event)
        .setup(move |app| match listener.take() {
            Some(listener) => set_up_single(app, options, listener),
            #[cfg(freedesktop)]
            None => set_up_window(app, options),
            #[cfg(not(freedesktop))]
            None => Err("the window alone runs only on Linux".into()),
        })
        .build(tauri::generate_context!())
        .expect("the Tauri application builds");
    app.run(move |app, event| match event {
        // Closing the window must not end the whole app: it lives in the tray until Quit. The
        // window alone ends with its window.
        RunEvent::ExitRequested {
            code: None, api, ..
        } if single => api.prevent_exit(),
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

/// The local socket, bound on Tauri's runtime (where it is served). When Chatbell already runs
/// (asked for its window) or the socket cannot be bound (said), this launch ends with the
/// exit code given.
fn claim(options: Options) -> Result<Listener, i32> {
    let path = socket::socket_path();
    let bound = tauri::async_runtime::block_on(Listener::bind(&path));
    match bound {
        Ok(listener) => Ok(listener),
        Err(BindError::AlreadyRunning { .. }) => {
            tracing::info!(?options, "already running: asking it to show its window");
            let asked = tauri::async_runtime::block_on(chatbell_resident::local::open_running(
                &path,
                options.hidden,
            ));
            match asked {
                Ok(()) => Err(0),
                Err(e) => {
                    tracing::error!(error = %e, "already running, but cannot be reached");
                    eprintln!("chatbell: Chatbell is already running, but {e}");
                    Err(1)
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            eprintln!("chatbell: {e}");
            Err(1)
        }
    }
}

/// The whole app here: the resident, Tauri's tray, the local socket's door, and the window
/// unless hidden.
fn set_up_single(
    app: &mut App<Wry>,
    options: Options,
    listener: Listener,
) -> Result<(), Box<dyn std::error::Error>> {
    let handle = app.handle().clone();
    let desktop = Arc::new(TauriDesktop::new(handle.clone(), window_opened));
    let settings = chatbell_resident::load_settings();
    let resident_options = chatbell_resident::Options {
        demo: options.demo,
        hidden: options.hidden,
    };
    // On Tauri's runtime, where the resident's tasks run.
    let resident = tauri::async_runtime::block_on(async move {
        Resident::new(resident_options, settings, desktop)
    });
    app.manage(resident.clone());
    app.manage(Backend::Here(resident.clone()));
    quit_on_signals(&handle);
    tray::create(&handle, &resident)?;
    tauri::async_runtime::block_on(resident.start());
    // A window's process has nothing to do with the whole app: it is let go.
    tauri::async_runtime::spawn(chatbell_resident::local::serve(
        listener,
        resident.clone(),
        |_, _, _| async { tracing::warn!("a window process connected to the whole app: ignored") },
    ));
    if !options.hidden {
        resident.show_window();
    }
    Ok(())
}

/// The window only: connected to the resident (started if need be), then shown.
#[cfg(freedesktop)]
fn set_up_window(app: &mut App<Wry>, options: Options) -> Result<(), Box<dyn std::error::Error>> {
    use chatbell_resident::Desktop;
    let handle = app.handle().clone();
    quit_on_signals(&handle);
    let desktop = Arc::new(TauriDesktop::new(handle.clone(), window_opened));
    let remote =
        tauri::async_runtime::block_on(remote::Remote::start(desktop.clone(), options.demo));
    app.manage(Backend::Remote(remote));
    desktop.show_window();
    Ok(())
}

/// A window created is on screen (and focused): the backend hears it opened.
fn window_opened(app: &AppHandle) {
    if let Some(backend) = app.try_state::<Backend>() {
        backend.window_changed(true, true);
    }
}

/// The window's events, told to the backend.
fn on_window_event(window: &Window, event: &WindowEvent) {
    if window.label() != window::MAIN {
        return;
    }
    let backend = window.state::<Backend>();
    match event {
        WindowEvent::CloseRequested { api, .. } => {
            window::close_requested(window, api, backend.tray_available());
        }
        WindowEvent::Destroyed => backend.window_changed(false, false),
        WindowEvent::Focused(focused) => backend.window_changed(true, *focused),
        _ => {}
    }
}

/// A signal (SIGTERM, or a terminal's Ctrl+C) quits as the tray's Quit does.
fn quit_on_signals(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let signal = chatbell_resident::process::quit_signal().await;
        tracing::info!(signal, "asked to quit");
        app.exit(0);
    });
}

#[cfg(test)]
mod tests {
    /// Windows shows a toast only for an AppUserModelID a Start-menu shortcut carries: the
    /// engine's toasts and the installer's shortcut (stamped from this file) must agree.
    #[test]
    fn the_bundle_identifier_is_the_app_user_model_id() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        assert_eq!(
            conf["identifier"],
            chatbell_engine::notifier::APP_USER_MODEL_ID
        );
    }
}
