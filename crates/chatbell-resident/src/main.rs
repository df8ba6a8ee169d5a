//! `chatbell`: what the desktop entry and start at login run. On Linux it is the tray-resident
//! process — engine, store, notifications, the tray — with no window toolkit in it; the window
//! is the `chatbell-window` program beside it, started when wanted. Elsewhere the window's
//! program is the whole app, in one process, and this one hands over to it.

use clap::Parser;

/// jemalloc, configured at build time (`.cargo/config.toml`): freed memory goes back to the
/// system within a second, where glibc kept a busy hour's in its arenas (`docs/footprint.md`).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Chatbell: native notifications and a tray unread badge for your support chats.
#[derive(Parser, Debug)]
#[command(name = "chatbell", version)]
struct Args {
    /// Run against a built-in demo server with live, generated chats (its own database).
    #[arg(long)]
    demo: bool,
    /// Start in the tray without opening the window (used by start at login).
    #[arg(long)]
    hidden: bool,
}

/// The window's program, beside this one.
fn window_exe() -> std::path::PathBuf {
    chatbell_resident::process::sibling("chatbell-window")
}

#[cfg(freedesktop)]
fn main() -> std::process::ExitCode {
    let args = Args::parse();
    resident::run(
        chatbell_resident::Options {
            demo: args.demo,
            hidden: args.hidden,
        },
        window_exe(),
    )
}

#[cfg(not(freedesktop))]
fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let mut command = std::process::Command::new(window_exe());
    command.arg("--single-process");
    if args.demo {
        command.arg("--demo");
    }
    if args.hidden {
        command.arg("--hidden");
    }
    match command.status() {
        Ok(status) if status.success() => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chatbell: cannot start {}: {e}", window_exe().display());
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(freedesktop)]
mod resident {
    use std::path::PathBuf;
    use std::process::ExitCode;
    use std::sync::Arc;

    use chatbell_ipc::socket::{self, BindError, Listener};
    use chatbell_resident::split::{self, Split};
    use chatbell_resident::{Options, Resident};
    use tokio::sync::Notify;

    pub fn run(options: Options, window_exe: PathBuf) -> ExitCode {
        // One thread: the work is small and mostly waiting, whatever blocks (the keychain,
        // opening a browser, reading the store) runs on the blocking pool, and the store writes
        // on a thread of its own. An idle connection then wakes one thread per timer instead of
        // handing each pong from one worker to another: 20 wakeups a minute hidden in the tray
        // against 24 with two workers (`cargo xtask bench`, figure 5).
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("chatbell: cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
        runtime.block_on(main(options, window_exe))
    }

    async fn main(options: Options, window_exe: PathBuf) -> ExitCode {
        // Kept until the end, which flushes it.
        let log = chatbell_resident::logging::init("chatbell-resident");
        let path = socket::socket_path();
        let listener = match Listener::bind(&path).await {
            Ok(listener) => listener,
            Err(BindError::AlreadyRunning { .. }) => {
                tracing::info!(?options, "already running: asking it to show its window");
                return open_running(options, &path).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot start");
                eprintln!("chatbell: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(version = env!("CARGO_PKG_VERSION"), ?options, socket = %path.display(), "starting");
        let quit = Arc::new(Notify::new());
        let split = Split::new(window_exe, quit.clone());
        let settings = chatbell_resident::load_settings();
        let resident = Resident::new(options, settings, Arc::new(split.clone()));
        split.show_tray(&resident).await;
        resident.start().await;
        let for_window = split.clone();
        let server = tokio::spawn(chatbell_resident::local::serve(
            listener,
            resident.clone(),
            move |receiver, sender, resident| {
                split::window(receiver, sender, resident, for_window.clone())
            },
        ));
        if !options.hidden {
            resident.show_window();
        }
        // The tray's Quit, or a signal: each quits the same way.
        let why = tokio::select! {
            _ = quit.notified() => "tray",
            signal = chatbell_resident::process::quit_signal() => signal,
        };
        tracing::info!(why, "asked to quit");
        // No window is left talking to a resident that is going.
        chatbell_resident::Desktop::quit(&split);
        server.abort();
        resident.shutdown().await;
        tracing::info!("bye");
        drop(log);
        ExitCode::SUCCESS
    }

    /// Chatbell already runs: it shows its window, and this one ends.
    async fn open_running(options: Options, path: &std::path::Path) -> ExitCode {
        match chatbell_resident::local::open_running(path, options.hidden).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chatbell: Chatbell is already running, but {e}");
                ExitCode::FAILURE
            }
        }
    }
}
