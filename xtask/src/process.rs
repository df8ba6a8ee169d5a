//! Running the programs the tasks are made of: each echoed, each failing the task unless it
//! succeeds, and where cargo puts what it builds.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The cargo that runs xtask (`CARGO`), else the one on `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs `command`, echoed; fails unless it succeeds.
pub fn exec(mut command: Command) -> Result<()> {
    println!("xtask: {}", shown(&command));
    let status = command
        .status()
        .with_context(|| format!("starting {}", shown(&command)))?;
    if !status.success() {
        bail!("{} failed ({status})", shown(&command));
    }
    Ok(())
}

/// A command as it would be typed.
pub fn shown(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where cargo builds (`CARGO_TARGET_DIR`, else `target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from)
}
