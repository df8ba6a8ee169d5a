//! The tasks themselves.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::setup::{self, Need};

fn run(program: &str, args: &[&str]) -> Result<()> {
    println!("xtask: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("starting {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn cargo(args: &[&str]) -> Result<()> {
    run(
        &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        args,
    )
}

pub fn demo() -> Result<()> {
    setup::run(Need::Demo)?;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!("no display: run `cargo xtask demo` in a desktop session (or under `xvfb-run`)");
    }
    cargo(&["run", "--release", "--package", "chatbell", "--", "--demo"])
}

pub fn test() -> Result<()> {
    setup::run(Need::Bundle)?;
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--release",
        "--",
        "-D",
        "warnings",
    ])?;
    // One profile for everything: the end-to-end tests drive the release binary, and the
    // unit tests reuse the same compiled dependencies.
    cargo(&["test", "--workspace", "--release", "--no-fail-fast"])?;
    run_bench(true)?;
    build_and_check_deb()
}

pub fn bench(quick: bool) -> Result<()> {
    setup::run(Need::Test)?;
    run_bench(quick)
}

fn run_bench(quick: bool) -> Result<()> {
    let mut args = vec!["run", "--release", "--package", "chatbell-bench", "--"];
    if quick {
        args.push("--quick");
    } else {
        args.extend(["--write", "docs/BENCHMARKS.md"]);
    }
    cargo(&args)
}

pub fn bundle() -> Result<()> {
    setup::run(Need::Bundle)?;
    build_and_check_deb()
}

/// Builds the .deb (the same release binaries the tests used, so nothing recompiles), checks
/// what it contains, and, as root, installs it, starts it and removes it again.
fn build_and_check_deb() -> Result<()> {
    cargo(&["build", "--release", "--package", "chatbell-cli"])?;
    run("npm", &["ci", "--no-audit", "--no-fund"])?;
    run(
        "npx",
        &["--no-install", "tauri", "build", "--bundles", "deb"],
    )?;
    let mut args = vec![
        "test",
        "--release",
        "--package",
        "chatbell",
        "--test",
        "deb",
        "--",
        "--include-ignored",
    ];
    if !setup::is_root() {
        println!(
            "xtask: not root: checking the package's contents only (installing it needs dpkg as root)"
        );
        args.extend(["--skip", "the_installed_app"]);
    }
    cargo(&args)
}

pub fn icons() -> Result<()> {
    run("sh", &["icons/generate.sh"])
}
