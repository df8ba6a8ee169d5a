//! `chatbell-cli settings`: `show [--origin] [--json]`, every setting as it holds and where its
//! value comes from (in the manner of `git config --show-origin`); `set KEY VALUE` and
//! `reset KEY`, one field by its dotted key, through the running app when one answers on its
//! socket (Linux's resident, which owns the settings while it runs), else in the agent's file.

use std::path::PathBuf;
use std::process::ExitCode;

use chatbell_engine::paths;
use chatbell_engine::settings::organization::{self, Loaded, Organization};
use chatbell_engine::settings::{Layers, Origin, Settings};
use clap::Subcommand;
use serde::Serialize;
use serde_json::Value;

use crate::output::{outln, print_json, terminal_safe};

#[derive(Subcommand, Debug)]
pub enum SettingsAction {
    /// Every effective value; with --origin, where it came from.
    Show {
        #[arg(long)]
        origin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sets one setting by its dotted key (notifications.escalation.new_chat.every_min). VALUE
    /// is JSON where it reads as JSON (5, true, null, [7, 9], {"start": "22:00", "end":
    /// "07:00"}), else text (wss://support.example/ws).
    Set {
        key: String,
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Drops your choice for a setting: it follows the organization's default or the built-in
    /// value again.
    Reset { key: String },
}

/// The settings as they hold now (the agent's file over the organization's), with a file
/// that is set aside said on stderr.
pub fn effective() -> chatbell_engine::settings::Settings {
    Files::read().layers.effective()
}

/// Every layer as the files say now.
struct Files {
    layers: Layers,
    user_path: PathBuf,
    org: Organization,
}

impl Files {
    /// Reads both files, warning on stderr about one that is set aside.
    fn read() -> Files {
        let user_path = paths::settings_path();
        let loaded = organization::load_layers(&user_path, &organization::path());
        warn(&loaded);
        Files {
            layers: loaded.layers,
            user_path,
            org: loaded.organization,
        }
    }

    /// The file a field's value came from (none for built-in values).
    fn file_of(&self, origin: Origin) -> Option<String> {
        match origin {
            Origin::BuiltIn => None,
            Origin::User => Some(self.user_path.display().to_string()),
            Origin::Organization | Origin::Locked => Some(self.org.path.display().to_string()),
        }
    }

    /// `key=value`, with where it came from when `origin`.
    fn line(&self, key: &str, value: &Value, from: Origin, origin: bool) -> String {
        let value = terminal_safe(&value.to_string());
        if !origin {
            return format!("{key}={value}");
        }
        let file = self.file_of(from).unwrap_or_default();
        let from = match from {
            Origin::BuiltIn => "built-in".to_string(),
            Origin::Organization => format!("organization default\t{file}"),
            Origin::User => format!("your file\t{file}"),
            Origin::Locked => format!("locked by the organization\t{file}"),
        };
        format!("{from}\t{key}={value}")
    }
}

/// Says on stderr which file is set aside and why (never a value).
pub fn warn(loaded: &Loaded) {
    if let Some(e) = &loaded.user_error {
        eprintln!("warning: {}", terminal_safe(&e.to_string()));
    }
    let org = &loaded.organization;
    if let Some(problem) = &org.problem {
        eprintln!(
            "warning: the organization's settings ({}) are set aside: {}",
            org.path.display(),
            terminal_safe(&problem.to_string())
        );
    }
}

#[derive(Serialize)]
struct Line<'a> {
    key: &'a str,
    value: &'a Value,
    origin: Origin,
    /// The file it came from (none for built-in values).
    file: Option<String>,
}

pub async fn run(action: SettingsAction) -> anyhow::Result<ExitCode> {
    match action {
        SettingsAction::Show { origin, json } => show(origin, json),
        SettingsAction::Set { key, value } => {
            let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
            change(key.clone(), Change::Set { key, value }).await
        }
        SettingsAction::Reset { key } => change(key.clone(), Change::Reset { key }).await,
    }
}

fn show(origin: bool, json: bool) -> anyhow::Result<ExitCode> {
    let files = Files::read();
    for shown in files.layers.shown() {
        if json {
            print_json(&Line {
                key: &shown.key,
                value: &shown.value,
                origin: shown.origin,
                file: files.file_of(shown.origin),
            });
        } else {
            outln!(
                "{}",
                files.line(&shown.key, &shown.value, shown.origin, origin)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

enum Change {
    Set { key: String, value: Value },
    Reset { key: String },
}

/// Asks the running app to make the change, or makes it in the agent's file when none runs;
/// then says the field as it holds, and where it comes from.
async fn change(key: String, change: Change) -> anyhow::Result<ExitCode> {
    match through_resident(&change).await? {
        Some(Ok(_)) => {}
        Some(Err(refused)) => anyhow::bail!("{}", terminal_safe(&refused.to_string())),
        None => {
            let files = Files::read();
            let user = match &change {
                Change::Set { key, value } => files.layers.set(key, value.clone()),
                Change::Reset { key } => files.layers.reset(key),
            }
            .map_err(|e| anyhow::anyhow!("{}", terminal_safe(&e.to_string())))?;
            Settings::save_user(&user, &files.user_path)?;
        }
    }
    let files = Files::read();
    let value = serde_json::to_value(files.layers.effective())?;
    let now = key
        .split('.')
        .try_fold(&value, |v, part| v.get(part))
        .cloned()
        .unwrap_or(Value::Null);
    outln!(
        "{}",
        files.line(&key, &now, files.layers.origin(&key), true)
    );
    Ok(ExitCode::SUCCESS)
}

/// The running app's answer, or `None` when no app runs (no one listens on its socket).
async fn through_resident(change: &Change) -> anyhow::Result<Option<chatbell_ipc::CliReply>> {
    use chatbell_ipc::socket::{self, ConnectError};
    use chatbell_ipc::{CliRequest, Role};
    let request = match change {
        Change::Set { key, value } => CliRequest::SetSetting {
            key: key.clone(),
            value: value.clone(),
        },
        Change::Reset { key } => CliRequest::ResetSetting { key: key.clone() },
    };
    let (_, mut receiver, mut sender) =
        match socket::connect(&socket::socket_path(), Role::Cli).await {
            Ok(connected) => connected,
            Err(ConnectError::NotRunning { .. }) => return Ok(None),
            // A running app of another version: its settings must not be written behind it.
            Err(e) => anyhow::bail!("the running Chatbell did not take the change: {e}"),
        };
    sender.send(&request).await?;
    Ok(Some(receiver.recv().await?))
}
