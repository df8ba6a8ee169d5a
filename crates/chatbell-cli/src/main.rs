//! `chatbell-cli`: Chatbell without a window. The same engine and the same database as the
//! desktop app.

mod forward;
mod listen;
mod output;
mod settings;
mod store;
mod token;

use std::ops::RangeInclusive;
use std::path::PathBuf;

use chatbell_engine::settings::{AuthMode, RETENTION_DAYS};
use clap::{Parser, Subcommand, ValueEnum};

/// `--limit`: rows a listing prints.
const LIMIT: RangeInclusive<i64> = 1..=10_000;
/// `--older-than-days`: the range the settings' retention takes.
const DAYS: RangeInclusive<i64> = *RETENTION_DAYS.start() as i64..=*RETENTION_DAYS.end() as i64;

#[derive(Parser, Debug)]
#[command(
    name = "chatbell-cli",
    version,
    about = "Chatbell without a window: listen, list, search, diagnose."
)]
struct Cli {
    /// The database (default: the desktop app's, in the XDG data folder).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Connect and keep listening until Ctrl-C/SIGTERM, storing every event and raising
    /// desktop notifications.
    Listen(listen::ListenArgs),
    /// Chats by last activity, with unread counts and how long each has waited.
    Chats {
        #[arg(long)]
        json: bool,
        /// Only chats waiting for you to open them, the longest wait first.
        #[arg(long)]
        waiting: bool,
        /// At most this many (1–10000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(LIMIT))]
        limit: u32,
    },
    /// A chat's messages, oldest first.
    History {
        #[arg(allow_hyphen_values = true)]
        user_id: i64,
        /// At most this many (1–10000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(LIMIT))]
        limit: u32,
        /// Only messages before this message id.
        #[arg(long, value_name = "MESSAGE_ID")]
        before: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Full-text search over every message (Latin and Cyrillic; the last word matches as a prefix).
    Search {
        text: String,
        /// At most this many (1–10000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(LIMIT))]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Mark a chat read (its unread count becomes 0).
    Read {
        #[arg(allow_hyphen_values = true)]
        user_id: i64,
    },
    /// Check the notification daemon, the keychain, the database and the server.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// The API token in the OS keychain. It is never printed, logged or written elsewhere.
    Token {
        #[command(subcommand)]
        action: token::TokenAction,
    },
    /// The password of the proxy in the settings (`server.proxy` names the user), in the OS
    /// keychain.
    ProxyPassword {
        #[command(subcommand)]
        action: token::TokenAction,
    },
    /// The passphrase of an encrypted client key (`server.tls.client_key`), in the OS keychain.
    KeyPassphrase {
        #[command(subcommand)]
        action: token::TokenAction,
    },
    /// Forwarding while you are away: a test to every target, a target's secret.
    Forward {
        #[command(subcommand)]
        action: forward::ForwardAction,
    },
    /// The settings as they hold (yours, your organization's, built-in), and one changed or reset.
    Settings {
        #[command(subcommand)]
        action: settings::SettingsAction,
    },
    /// Delete messages older than N days (if given), merge the search index and shrink the file.
    Compact {
        /// 1–36500 (a hundred years), like the retention in the settings.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(DAYS))]
        older_than_days: Option<u32>,
    },
}

/// How the token travels (see `--auth`).
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum AuthArg {
    Header,
    Query,
}

impl From<AuthArg> for AuthMode {
    fn from(a: AuthArg) -> AuthMode {
        match a {
            AuthArg::Header => AuthMode::Header,
            AuthArg::Query => AuthMode::Query,
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHATBELL_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let db = cli
        .db
        .unwrap_or_else(chatbell_engine::paths::default_db_path);
    // One thread is plenty for one connection (the store writes on a thread of its own), and
    // an idle connection then wakes one thread per timer instead of handing work between two.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Listen(args) => listen::run(&db, args).await,
            Command::Chats {
                json,
                waiting,
                limit,
            } => store::chats(&db, limit, json, waiting),
            Command::History {
                user_id,
                limit,
                before,
                json,
            } => store::history(&db, user_id, before, limit, json),
            Command::Search { text, limit, json } => store::search(&db, &text, limit, json),
            Command::Read { user_id } => store::read(&db, user_id),
            Command::Doctor { json } => store::doctor(&db, json).await,
            // The keychain blocks on its own D-Bus calls: off the runtime's thread.
            Command::Token { action } => {
                tokio::task::spawn_blocking(move || token::run(token::Which::Token, action)).await?
            }
            Command::ProxyPassword { action } => {
                tokio::task::spawn_blocking(move || token::run(token::Which::ProxyPassword, action))
                    .await?
            }
            Command::KeyPassphrase { action } => {
                tokio::task::spawn_blocking(move || token::run(token::Which::KeyPassphrase, action))
                    .await?
            }
            Command::Settings { action } => settings::run(action).await,
            Command::Forward { action } => forward::run(action).await,
            Command::Compact { older_than_days } => store::compact(&db, older_than_days),
        }
    });
    // A call stuck in a hung D-Bus service must not keep the process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chatbell-cli: {}", output::error_chain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
