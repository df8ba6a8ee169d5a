//! `chatbell-cli listen`: the engine in a terminal.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chatbell_engine::i18n::{Lang, net_words, wait_text};
use chatbell_engine::model::{
    AlertLevel, ConnState, Delivery, Diagnostic, EngineEvent, Outcome, SoundEvent, SoundOutcome,
};
use chatbell_engine::net::ProxySetting;
use chatbell_engine::notifier::{DesktopNotifier, Notifier, NotifierConfig};
use chatbell_engine::settings::organization;
use chatbell_engine::settings::{Settings, check_url};
use chatbell_engine::{Credentials, Engine, EngineConfig, Secret, paths, server_config};
use tokio::sync::broadcast::error::RecvError;

use crate::AuthArg;
use crate::output::outln;
use crate::output::{print_json, terminal_safe};

#[derive(clap::Args, Debug)]
pub struct ListenArgs {
    /// The events WebSocket (ws:// or wss://). Default: the server in the app's settings.
    #[arg(long)]
    url: Option<String>,
    /// Receive only this user's events (repeatable). Default: every event of the organization.
    #[arg(long = "subscribe", value_name = "USER_ID", allow_hyphen_values = true)]
    subscribe: Vec<i64>,
    /// Take the token from this environment variable instead of the OS keychain.
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
    /// How the token is sent: an `Authorization: Bearer` header, or a URL query parameter.
    #[arg(long, value_enum)]
    auth: Option<AuthArg>,
    /// The query parameter that carries the token with `--auth query`.
    #[arg(long)]
    query_param: Option<String>,
    /// The way out: `system` (the desktop's proxy), `none`, or `http://[user@]host:port` or
    /// `socks5://…` (the password: `chatbell-cli proxy-password set`). Default: the settings'.
    #[arg(long, value_name = "PROXY")]
    proxy: Option<String>,
    /// A PEM bundle of CAs to trust for this server, besides the system's. Default: the
    /// settings'.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<std::path::PathBuf>,
    /// Store and print, but raise no desktop notifications.
    #[arg(long)]
    no_notify: bool,
    /// Play no sounds: neither Chatbell's own nor the notification server's.
    #[arg(long)]
    no_sound: bool,
    /// One JSON object per line for each state change, stored batch and notification decision.
    #[arg(long)]
    json: bool,
    /// Ping interval in milliseconds (default 15000).
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(50..=600_000))]
    ping_ms: Option<u64>,
    /// Silence after which the connection is dead, in milliseconds (default 30000).
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(50..=600_000))]
    dead_ms: Option<u64>,
    /// The least time between two sounds, in milliseconds (default 10000; 0: no limit), so a
    /// test can want a second sound without waiting it out.
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    sound_interval_ms: Option<u64>,
}

pub async fn run(db: &Path, args: ListenArgs) -> anyhow::Result<ExitCode> {
    let org_path = organization::path();
    let loaded = organization::load_layers(&paths::settings_path(), &org_path);
    crate::settings::warn(&loaded);
    let settings = loaded.layers.effective();
    let url = args.url.or(settings.server.url.clone()).context(
        "no server: pass --url ws://host/path (or set the server in the app's settings)",
    )?;
    check_url(&url).map_err(|problem| anyhow::anyhow!("--url: {problem}"))?;
    let mut server = settings.server.clone();
    if let Some(proxy) = &args.proxy {
        ProxySetting::parse(proxy).map_err(|problem| anyhow::anyhow!("--proxy: {problem}"))?;
        server.proxy = proxy.clone();
    }
    if let Some(ca_file) = args.ca_file {
        server.tls.ca_file = Some(std::path::absolute(ca_file)?);
    }
    let needs = server.clone();
    let mut credentials =
        match tokio::task::spawn_blocking(move || Credentials::load(&needs)).await? {
            Ok(credentials) => credentials,
            Err(e) => {
                eprintln!(
                    "warning: {}; connecting without the keychain's secrets",
                    terminal_safe(&e.to_string())
                );
                Credentials::default()
            }
        };
    if let Some(var) = &args.token_env {
        credentials.token = Some(Secret::new(std::env::var(var).with_context(|| {
            format!("--token-env: the environment variable {var} is not set")
        })?));
    }
    let mut config = EngineConfig::from_settings(db, &settings, Credentials::default());
    server.url = Some(url);
    server.auth = args.auth.map_or(server.auth, Into::into);
    server.query_param = args.query_param.unwrap_or(server.query_param);
    config.server = server_config(&server, credentials);
    let lang = Lang::of(settings.ui.language);
    if !args.subscribe.is_empty() {
        config.subscriptions = args.subscribe;
    }
    // What the flags say over the settings, again each time the organization's file changes.
    let no_sound = args.no_sound;
    let flags = move |settings: &mut Settings| {
        if no_sound {
            settings.notifications.sound = false;
        }
    };
    flags(&mut config.settings);
    if args.no_sound {
        config.audio = false;
    }
    if let Some(ms) = args.ping_ms {
        config.tuning.heartbeat.ping_interval = Duration::from_millis(ms);
    }
    if let Some(ms) = args.dead_ms {
        config.tuning.heartbeat.dead_after = Duration::from_millis(ms);
    }
    if let Some(ms) = args.sound_interval_ms {
        config.coalesce.sound_interval = Duration::from_millis(ms);
    }
    let notifier: Option<Box<dyn Notifier>> = (!args.no_notify)
        .then(|| Box::new(DesktopNotifier::new(NotifierConfig::default())) as Box<dyn Notifier>);
    // Forwards as the app does: away by the same desktop's word.
    config.away = chatbell_engine::away::Source::desktop().await;
    let stop = shutdown_signal();
    let engine = Engine::start(config, notifier).await?;
    let mut events = engine.events();
    // The organization's file is followed as the app follows it; the connection stays as this
    // run started (`set_settings` never reconnects; the flags may have chosen the server).
    let mut layers = loaded.layers;
    let mut org_changes = organization::watch(org_path, loaded.organization);
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut failed = None;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(org) = org_changes.recv() => {
                match &org.problem {
                    Some(problem) => eprintln!(
                        "warning: the organization's settings ({}) are set aside: {}",
                        org.path.display(),
                        terminal_safe(&problem.to_string())
                    ),
                    None => eprintln!("the organization's settings ({}) changed", org.path.display()),
                }
                layers.defaults = org.defaults;
                layers.locked = org.locked;
                let mut now = layers.effective();
                flags(&mut now);
                engine.set_settings(now);
            }
            event = events.recv() => match event {
                Ok(EngineEvent::Failed { error }) => {
                    failed = Some(error);
                    break;
                }
                Ok(event @ EngineEvent::WebPanelRequested { .. }) => {
                    if args.json {
                        print_json(&event);
                    }
                    if let EngineEvent::WebPanelRequested { url, .. } = event {
                        open_in_browser(url);
                    }
                }
                Ok(EngineEvent::Decisions { decisions }) if args.json => {
                    // One line per decision, like every other event.
                    for d in decisions {
                        print_json(&Diagnostic::Decision(d));
                    }
                }
                Ok(event) if args.json => print_json(&event),
                Ok(event) => print_human(&event, &mut names, lang),
                Err(RecvError::Lagged(n)) => eprintln!("warning: output fell {n} events behind; they are in the store"),
                Err(RecvError::Closed) => break,
            },
        }
    }
    let report = engine.shutdown().await;
    if let Some(error) = failed {
        anyhow::bail!("{error}");
    }
    if report.unwritten > 0 {
        anyhow::bail!(
            "stopped with {} received event(s) not stored: {}",
            report.unwritten,
            report
                .error
                .map_or_else(|| "the store refused them".into(), |e| e.to_string())
        );
    }
    if let Some(error) = report.error {
        anyhow::bail!("stopped, but the store was not closed cleanly: {error}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the web panel in the default browser (`xdg-open` on Linux), without waiting for it.
/// The URL is the agent's template filled with percent-encoded fields (never a URL from the
/// network).
fn open_in_browser(url: String) {
    if let Err(e) = open::that_detached(&url) {
        eprintln!(
            "warning: cannot open the web panel in a browser: {}",
            terminal_safe(&e.to_string())
        );
    }
}

/// Resolves on SIGINT or SIGTERM (on Windows: Ctrl-C, the console closed, the system shutting
/// down). The handlers are installed when this is called, not when it is first polled, so a
/// signal that comes right after start still shuts down cleanly.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    }
    #[cfg(windows)]
    {
        use tokio::signal::windows::{ctrl_c, ctrl_close, ctrl_shutdown};
        let mut interrupt = ctrl_c().expect("Ctrl-C handler");
        let mut close = ctrl_close().expect("console close handler");
        let mut shutdown = ctrl_shutdown().expect("shutdown handler");
        async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = close.recv() => {}
                _ = shutdown.recv() => {}
            }
        }
    }
}

fn print_human(event: &EngineEvent, names: &mut HashMap<i64, String>, lang: Lang) {
    match event {
        EngineEvent::Connection(state) => match state {
            ConnState::NotConfigured => outln!("no server configured"),
            ConnState::Connecting { attempt: 0 } => outln!("connecting…"),
            ConnState::Connecting { attempt } => outln!("connecting (attempt {})…", attempt + 1),
            ConnState::Online { .. } => outln!("online"),
            ConnState::Offline {
                retry_at, failure, ..
            } => {
                let secs =
                    (*retry_at - chrono::Utc::now()).num_milliseconds().max(0) as f64 / 1000.0;
                let words = net_words(failure, lang);
                outln!(
                    "offline: {} {} Retrying in {secs:.1} s.",
                    terminal_safe(&words.what),
                    terminal_safe(&words.todo)
                );
            }
            ConnState::Unauthorized { status, .. } => {
                outln!(
                    "the server refused the token (HTTP {status}); set it with `chatbell-cli token set`"
                )
            }
            ConnState::Stopped => outln!("stopped"),
        },
        EngineEvent::Stored(update) => {
            for chat in &update.chats {
                names.insert(chat.user_id, chat.name.clone());
            }
            for m in &update.messages {
                let name = names
                    .get(&m.user_id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", m.user_id));
                let text = m.text.as_deref().unwrap_or("");
                let file = m
                    .file_path
                    .as_deref()
                    .map(|f| format!(" [attachment: {}]", terminal_safe(f)))
                    .unwrap_or_default();
                outln!("{}: {}{file}", terminal_safe(&name), terminal_safe(text));
            }
            if update.malformed > 0 {
                outln!(
                    "({} malformed frame(s) kept in the raw log)",
                    update.malformed
                );
            }
            if let Some(gap) = update.gap {
                outln!(
                    "(connection was down {} … {}: events sent meanwhile may be missing)",
                    gap.from,
                    gap.to
                );
            }
        }
        EngineEvent::Delivery(Delivery::Failed { error, .. }) => {
            outln!("notification not shown: {}", terminal_safe(error))
        }
        EngineEvent::StoreFailed { error } => eprintln!("error: {}", terminal_safe(error)),
        EngineEvent::Forwarded(record) => match &record.error {
            None => outln!("forwarded to {}", terminal_safe(&record.target)),
            Some(error) => outln!(
                "not forwarded to {}: {}",
                terminal_safe(&record.target),
                terminal_safe(error)
            ),
        },
        EngineEvent::Decisions { decisions } => {
            for d in decisions {
                let Some(step) = d.escalation else { continue };
                if d.outcome != Outcome::Allowed {
                    continue;
                }
                let name = names
                    .get(&d.user_id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", d.user_id));
                let waited = wait_text(Duration::from_secs(step.waited_secs), Lang::En);
                let urgent = if step.level == AlertLevel::Urgent {
                    " (urgent)"
                } else {
                    ""
                };
                outln!(
                    "still waiting for you to open it: {} · {waited}{urgent}",
                    terminal_safe(&name)
                );
            }
        }
        EngineEvent::Snoozed { user_id, until } => {
            let name = names
                .get(user_id)
                .cloned()
                .unwrap_or_else(|| format!("#{user_id}"));
            match until {
                Some(until) => outln!(
                    "snoozed {} until {}",
                    terminal_safe(&name),
                    crate::output::local(*until)
                ),
                None => outln!("{} is no longer snoozed", terminal_safe(&name)),
            }
        }
        EngineEvent::Sound(SoundEvent {
            kind,
            tone,
            outcome,
        }) => {
            let (kind, tone) = (key(kind), key(tone));
            match outcome {
                SoundOutcome::Played(report) => outln!(
                    "sound: {kind} {tone} played on {} (first sample after {:.0} ms)",
                    terminal_safe(&report.device),
                    report.first_sample_ms
                ),
                SoundOutcome::Failed { error } => outln!(
                    "sound: failed: {}; notifications still show, with the notification server's sound",
                    terminal_safe(error)
                ),
            }
        }
        EngineEvent::SettingsRequested { .. } => {
            outln!("to update the token: `chatbell-cli token set`, then start listen again")
        }
        EngineEvent::ChatRead { user_id, .. } => {
            if let Some(name) = names.get(user_id) {
                outln!("marked read: {}", terminal_safe(name));
            }
        }
        _ => {}
    }
}

/// The stable key a value has in settings and JSON ("new_chat", "chime").
fn key(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
