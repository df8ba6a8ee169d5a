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
    let mut builder = tauri::Builder::default();
    if single {
        // A second launch (the menu entry clicked again) brings up this one. In the split the
        // resident keeps the one instance.
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            app.state::<Resident>().show_window()
        }));
    }
    let app = builder
        .invoke_handler(commands::dispatch)
        .on_window_event(on_window_event)
        .setup(move |app| {
            if single {
                set_up_single(app, options)
            } else {
                set_up_window(app, options)
            }
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

/// The whole app here: the resident, Tauri's tray, and the window unless hidden.
fn set_up_single(app: &mut App<Wry>, options: Options) -> Result<(), Box<dyn std::error::Error>> {
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

#[cfg(not(freedesktop))]
fn set_up_window(app: &mut App<Wry>, options: Options) -> Result<(), Box<dyn std::error::Error>> {
    set_up_single(app, options)
}

/// The window was created (and focused): the backend hears it opened.
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
