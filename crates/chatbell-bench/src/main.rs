//! `chatbell-bench`: Chatbell's speed and footprint, each figure beside a baseline measured in
//! the same run. Run through `cargo xtask bench` (full, writes docs/BENCHMARKS.md) or
//! `cargo xtask bench --quick` (a short run in the test suite that proves the code still works).
//! `--only <words>` runs the sections whose name contains them (e.g. `--only store`).

mod fanout;
mod footprint;
mod forwarding;
mod ingest;
mod latency;
mod network;
mod opening;
mod procfs;
mod recovery;
mod reminders;
mod report;
mod soak;
mod sounds;
mod stats;
mod store;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use chatbell_testkit::{PrivateBus, PulseServer};

use crate::report::Figure;

/// The resident's allocator (`crates/chatbell-resident/src/main.rs`, `docs/footprint.md`).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// How much work a run does.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub quick: bool,
}

impl Scale {
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// Where the release binaries of the app, the CLI and the simulator are.
pub fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("CHATBELL_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release"));
    dir.join(name)
}

/// Fails unless the release binaries `programs` are built.
pub fn require(programs: &[&str]) -> Result<()> {
    for program in programs {
        if !bin(program).exists() {
            bail!(
                "{} is missing: build the release binaries first (cargo xtask bench does)",
                bin(program).display()
            );
        }
    }
    Ok(())
}

/// `chatbell-cli listen --json` against the simulator at `url`, with `extra` flags, in a home
/// of its own (the folder lives as long as the returned guard).
pub fn listen(url: &str, extra: &[&str]) -> Result<(chatbell_testkit::Spawned, tempfile::TempDir)> {
    let home = tempfile::tempdir()?;
    let mut c = in_home("chatbell-cli", home.path());
    c.args(["listen", "--json", "--url", url]).args(extra);
    Ok((chatbell_testkit::Spawned::spawn(c), home))
}

/// The release binary `program` with `home` as its home, its data in `home/data` and its
/// settings in `home/config`, in English.
fn in_home(program: &str, home: &std::path::Path) -> Command {
    let mut c = Command::new(bin(program));
    c.env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env("CHATBELL_DATA_DIR", home.join("data"))
        .env("CHATBELL_CONFIG_DIR", home.join("config"))
        .env("LANG", "en_US.UTF-8");
    c
}

/// `chatbell --hidden` (the resident, its window never opened) in `home`, with its settings in
/// `home/config` and its socket in `home/run`. It stays in a tray only with a tray host on the
/// bus (the caller's): without one the app would show its window instead.
pub fn hidden_resident(home: &std::path::Path) -> Command {
    let mut c = in_home("chatbell", home);
    c.arg("--hidden")
        .env("CHATBELL_RUNTIME_DIR", home.join("run"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    c
}

/// An engine with its database in `dir`, connected to the simulator at `url` without a token,
/// as settings with that server and nothing else changed configure it. Its own sounds are off:
/// only the sound benchmark plays on the audio device.
pub fn engine_config(dir: &std::path::Path, url: String) -> chatbell_engine::EngineConfig {
    let mut settings = chatbell_engine::settings::Settings::default();
    settings.server.url = Some(url);
    settings.ui.language = chatbell_engine::settings::Language::En;
    chatbell_engine::EngineConfig {
        audio: false,
        ..chatbell_engine::EngineConfig::from_settings(
            dir.join("chatbell.db"),
            &settings,
            Default::default(),
        )
    }
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kib| format!("{:.0} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cpus} × {model}, {mem} RAM, Linux")
}

/// Chatbell's benchmarks: each figure beside a baseline measured in the same run.
#[derive(clap::Parser, Debug)]
#[command(version)]
struct Args {
    /// A short run that proves the code still works (the test suite's); figures are rough.
    #[arg(long)]
    quick: bool,
    /// Write the report as Markdown to this file (docs/BENCHMARKS.md).
    #[arg(long, value_name = "PATH")]
    write: Option<PathBuf>,
    /// Run only the sections whose name contains this (e.g. `store`, `sounds`).
    #[arg(long, value_name = "WORDS")]
    only: Option<String>,
}

fn main() -> Result<()> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    // A mistyped flag is refused with clap's message, not ignored.
    let Args { quick, write, only } = clap::Parser::parse();
    // The notification figures need a session bus with a notification server on it, the
    // sound figures a sound server, and a process can only be given them through its
    // environment: start a private bus and a PulseAudio of the run's own, and run again inside.
    if std::env::var_os("CHATBELL_BENCH_INSIDE").is_none() {
        let bus = PrivateBus::start();
        let pulse = PulseServer::start();
        let status = Command::new(std::env::current_exe()?)
            .args(&raw)
            .env("CHATBELL_BENCH_INSIDE", "1")
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .envs(pulse.env())
            .status()
            .context("running the benchmarks inside a private D-Bus session")?;
        drop((bus, pulse));
        if !status.success() {
            bail!("benchmarks failed ({status})");
        }
        return Ok(());
    }
    let scale = Scale { quick };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let figures: Vec<Figure> = runtime.block_on(async {
        let mut all = Vec::new();
        for (name, section) in sections() {
            if only.as_deref().is_some_and(|o| !name.contains(o)) {
                continue;
            }
            eprintln!("bench: {name}…");
            let started = std::time::Instant::now();
            let figures = section(scale)
                .await
                .with_context(|| format!("benchmark {name}"))?;
            eprintln!(
                "bench: {name} took {:.1} s",
                started.elapsed().as_secs_f64()
            );
            all.extend(figures);
        }
        anyhow::Ok(all)
    })?;
    report::print(&figures);
    let broken: Vec<&Figure> = figures.iter().filter(|f| !f.value.is_finite()).collect();
    if !broken.is_empty() {
        bail!(
            "{} figures produced no number: {:?}",
            broken.len(),
            broken.iter().map(|f| &f.name).collect::<Vec<_>>()
        );
    }
    if let Some(path) = write {
        let md = report::markdown(&figures, "cargo xtask bench", &machine());
        std::fs::write(&path, md).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(())
}

type Section =
    fn(Scale) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Figure>>>>>;

fn sections() -> Vec<(&'static str, Section)> {
    vec![
        ("1. ingest throughput", |s| Box::pin(ingest::run(s))),
        ("2. latency", |s| Box::pin(latency::run(s))),
        ("3. store at scale", |s| Box::pin(store::run(s))),
        ("4-5. footprint, idle cost", |s| Box::pin(footprint::run(s))),
        ("10. opening the window", |s| Box::pin(opening::run(s))),
        ("6. recovery", |s| Box::pin(recovery::run(s))),
        ("7. simulator fan-out", |s| Box::pin(fanout::run(s))),
        ("8. reminders", |s| Box::pin(reminders::run(s))),
        ("9. sounds", |s| Box::pin(sounds::run(s))),
        ("11. through a proxy", |s| Box::pin(network::run(s))),
        ("12. forwarding", |s| Box::pin(forwarding::run(s))),
        ("13. the resident after a busy day", |s| {
            Box::pin(soak::run(s))
        }),
    ]
}
