//! Logs to the platform's log folder (`~/.local/state/chatbell/logs` on Linux), one file a day
//! for each process (`chatbell`, `chatbell-window`), the last 7 kept. `CHATBELL_LOG` sets the
//! filter (default `info`).

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

/// Lines waiting for the writing thread before new ones are dropped. tracing-appender's
/// default (128,000) is a channel allocated and touched in full at start: 4 MiB of the
/// resident's memory, for a process that logs a few lines a minute.
const BUFFERED_LINES: usize = 1024;

/// Starts logging to files named after `process`; keep the guard alive for the life of the
/// process (it flushes on drop).
pub fn init(process: &str) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_env("CHATBELL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let dir = chatbell_engine::paths::log_dir();
    let appender = chatbell_engine::private::dir(&dir).ok().and_then(|_| {
        let appender = Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix(process)
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .ok();
        // The appender creates its files with the umask's mode; the folder (0700) keeps
        // them private, and this makes the files themselves so too.
        private_files(&dir);
        appender
    });
    match appender {
        Some(appender) => {
            let (writer, guard) = NonBlockingBuilder::default()
                .buffered_lines_limit(BUFFERED_LINES)
                .finish(appender);
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(writer)
                .with_ansi(false)
                .init();
            Some(guard)
        }
        None => {
            // No writable log folder: stderr is better than nothing.
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .init();
            tracing::warn!(dir = %dir.display(), "cannot write logs there; logging to stderr");
            None
        }
    }
}

fn private_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let _ = chatbell_engine::private::file(&entry.path());
    }
}
