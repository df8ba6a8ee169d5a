//! A command target: the program started without a shell (its path and arguments as given,
//! nothing expanded), the forward's JSON line on its standard input, ended if it has not
//! finished within the limit. What it prints on standard error says why it failed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// How long a command may run.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The most of a failed command's standard error kept for its record.
const MAX_SAID: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("cannot start {}: {error}", program.display())]
    Start { program: PathBuf, error: String },
    #[error("{} did not finish within {} s and was ended", program.display(), limit.as_secs_f32())]
    Timeout { program: PathBuf, limit: Duration },
    #[error("{} failed ({status}){}", program.display(), said.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    Failed {
        program: PathBuf,
        status: String,
        said: Option<String>,
    },
}

/// Runs `program` with `args`, `stdin` on its standard input, for at most `limit`.
pub async fn run(
    program: &Path,
    args: &[String],
    stdin: &[u8],
    limit: Duration,
) -> Result<(), CommandError> {
    let mut command = tokio::process::Command::new(program);
    // Only what a program needs to run: never Chatbell's own environment, which may hold the
    // chat service's token (`chatbell-cli listen --token-env`) or a proxy's password.
    command.env_clear();
    for (name, value) in std::env::vars_os() {
        if passed_on(&name.to_string_lossy()) {
            command.env(name, value);
        }
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Ended with this future: a timeout drops it.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| CommandError::Start {
            program: program.into(),
            error: e.to_string(),
        })?;
    let mut input = child.stdin.take().expect("piped");
    let finished = async {
        // A program that does not read its input is not an error: it may not need it.
        let _ = input.write_all(stdin).await;
        drop(input);
        child.wait_with_output().await
    };
    let output = match tokio::time::timeout(limit, finished).await {
        Err(_) => {
            return Err(CommandError::Timeout {
                program: program.into(),
                limit,
            });
        }
        Ok(Err(e)) => {
            return Err(CommandError::Start {
                program: program.into(),
                error: e.to_string(),
            });
        }
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        return Ok(());
    }
    Err(CommandError::Failed {
        program: program.into(),
        status: output.status.to_string(),
        said: said(&output.stderr),
    })
}

/// The environment a command target is given.
fn passed_on(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "XDG_RUNTIME_DIR",
        "DBUS_SESSION_BUS_ADDRESS",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "SystemRoot",
        "SYSTEMROOT",
        "TEMP",
        "TMP",
        "USERPROFILE",
        "APPDATA",
        "LOCALAPPDATA",
        "PATHEXT",
        "ComSpec",
    ];
    NAMES.contains(&name) || name.starts_with("LC_")
}

/// The first line of what a program said, printable characters only, cut to a length.
fn said(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line: String = text
        .lines()
        .find(|l| !l.trim().is_empty())?
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SAID)
        .collect();
    Some(line.trim().to_string())
}
