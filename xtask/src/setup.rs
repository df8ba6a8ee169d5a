//! What a fresh Debian/Ubuntu machine needs, installed only if missing, with sudo when not root.

use std::process::Command;

use anyhow::{Context, Result, bail};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Demo,
    Test,
    Bundle,
    /// `cargo xtask fuzz` alone: what building needs, and cargo-fuzz.
    Fuzz,
    /// Windows and macOS from here (`cargo xtask cross`, the end of `test`).
    Cross,
}

/// To build the app (WebKitGTK, the tray library, and what `-sys` crates link: ALSA for the
/// engine's sounds).
const BUILD: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libasound2-dev",
];

/// To run the tests: a private D-Bus, a virtual display, WebDriver for WebKitGTK, a real Secret
/// Service, a private PulseAudio server that records what is played (`pacat`/`parec`; ALSA's
/// `default` reaches it through the pulse plugin pulseaudio depends on; `aplay` to check by hand),
/// screenshots, a headless Wayland compositor (weston, with its screenshooter) for the agent's
/// day under Wayland, a browser for the footprint comparison, and `setpriv` with a Python to
/// play a process of another user at the local socket. For the network behind a company's:
/// real proxies on loopback (`tinyproxy-bin`, the binary without the system service that the
/// `tinyproxy` package would start on port 8888; `microsocks` for SOCKS5) and `openssl` to
/// encrypt the throwaway PKI's keys.
const TEST: &[&str] = &[
    "dbus",
    "dbus-daemon",
    "dbus-x11",
    "xvfb",
    "xauth",
    "weston",
    "webkit2gtk-driver",
    "gnome-keyring",
    "imagemagick",
    "librsvg2-bin",
    "at-spi2-core",
    "chromium",
    "pulseaudio",
    "pulseaudio-utils",
    "alsa-utils",
    "util-linux",
    "python3",
    "tinyproxy-bin",
    "microsocks",
    "openssl",
];

/// For Windows and macOS: the mingw C compiler and linker (with `windres` for the app's icon),
/// Wine to run the tests and the installer (the `wine` package brings the `wine` and
/// `wineserver` commands to `wine64`), NSIS to make the installer, and a Python virtualenv for
/// zig's C compiler (PyPI's `ziglang`, which has macOS's C headers).
const CROSS: &[&str] = &[
    "gcc-mingw-w64-x86-64",
    "wine64",
    "wine",
    "nsis",
    "python3-venv",
];

/// The Rust targets of `cargo xtask cross`.
fn rust_targets() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (the cross part needs a rustup toolchain)")?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    let missing: Vec<&str> = [crate::cross::WINDOWS, crate::cross::MACOS]
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("xtask: adding Rust targets: {}", missing.join(" "));
    let status = Command::new("rustup")
        .args(["target", "add"])
        .args(&missing)
        .status()
        .context("running rustup target add")?;
    if !status.success() {
        bail!("rustup target add {} failed ({status})", missing.join(" "));
    }
    Ok(())
}

/// To build and inspect the .deb; the Tauri CLI itself is a prebuilt binary in its npm package.
const BUNDLE: &[&str] = &["dpkg-dev", "fakeroot", "file"];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn apt(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !on_path("apt-get") {
        bail!(
            "these system packages are missing and this is not a Debian/Ubuntu machine: {}",
            missing.join(" ")
        );
    }
    println!("xtask: installing system packages: {}", missing.join(" "));
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let run = |args: &[&str]| -> Result<()> {
        let mut full: Vec<&str> = sudo.to_vec();
        full.extend_from_slice(args);
        let status = Command::new(full[0])
            .args(&full[1..])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .with_context(|| format!("running {}", full.join(" ")))?;
        if !status.success() {
            bail!("{} failed ({status})", full.join(" "));
        }
        Ok(())
    };
    run(&["apt-get", "update", "-qq"])?;
    let mut install = vec!["apt-get", "install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing.iter().copied());
    run(&install)
}

/// `tauri-driver` (the WebDriver proxy for Tauri apps) from crates.io, when missing.
fn tauri_driver() -> Result<()> {
    if on_path("tauri-driver") {
        return Ok(());
    }
    println!("xtask: installing tauri-driver (cargo install, about 30 s)");
    let status = Command::new("cargo")
        .args([
            "install",
            "tauri-driver",
            "--version",
            "^2",
            "--locked",
            "--quiet",
        ])
        .status()
        .context("running cargo install tauri-driver")?;
    if !status.success() {
        bail!("cargo install tauri-driver failed ({status})");
    }
    Ok(())
}

/// `cargo-fuzz` (runs the fuzz targets with libFuzzer) from crates.io, when missing.
fn cargo_fuzz() -> Result<()> {
    if on_path("cargo-fuzz") {
        return Ok(());
    }
    println!("xtask: installing cargo-fuzz (cargo install, about 1–2 min)");
    let status = Command::new("cargo")
        .args([
            "install",
            "cargo-fuzz",
            "--version",
            "^0.13",
            "--locked",
            "--quiet",
        ])
        .status()
        .context("running cargo install cargo-fuzz")?;
    if !status.success() {
        bail!("cargo install cargo-fuzz failed ({status})");
    }
    Ok(())
}

/// The window's page is bundled by esbuild from npm at build time (`src-tauri/build/page.rs`):
/// Node.js, and the packages of `package-lock.json` in `node_modules` (again when the lock
/// changed since).
fn page_bundler() -> Result<()> {
    // Node.js from elsewhere (nodesource, nvm) already brings npm, and Debian's npm package
    // conflicts with nodesource's nodejs: install only when npm is missing.
    if !on_path("npm") {
        apt(&["nodejs", "npm"])?;
    }
    let modified = |path: &str| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let current = match (
        modified("package-lock.json"),
        modified("node_modules/.package-lock.json"),
    ) {
        (Some(lock), Some(installed)) => installed >= lock,
        _ => false,
    };
    if current && std::path::Path::new("node_modules/.bin/esbuild").exists() {
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"]);
    crate::process::exec(npm)
}

pub fn run(need: Need) -> Result<()> {
    match need {
        Need::Demo => {
            apt(BUILD)?;
            page_bundler()
        }
        Need::Cross => {
            apt(CROSS)?;
            rust_targets()?;
            page_bundler()
        }
        Need::Fuzz => {
            apt(BUILD)?;
            cargo_fuzz()
        }
        Need::Test => {
            apt(&[BUILD, TEST].concat())?;
            page_bundler()?;
            tauri_driver()
        }
        Need::Bundle => {
            apt(&[BUILD, TEST, BUNDLE].concat())?;
            page_bundler()?;
            tauri_driver()
        }
    }
}
