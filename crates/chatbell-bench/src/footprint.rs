//! Figure 4 — Footprint (PSS and private memory of every process of each program, from
//! /proc/*/smaps_rollup, under a virtual display) and 5. idle cost (CPU, wakeups, heartbeat
//! bytes). The baseline is what an agent would use instead: a Chromium tab running the
//! original document's `handleEvent` against the same simulator.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::{NotificationServer, Spawned, TrayWatcher, VirtualDisplay};

use crate::procfs::{self, Memory};
use crate::report::{Figure, Goal};
use crate::{Scale, bin};

const MEMORY: &str = "4. Footprint (MiB, lower is better)";
const IDLE: &str = "5. Idle cost while connected";

struct Env<'a> {
    display: &'a VirtualDisplay,
    home: &'a Path,
}

impl Env<'_> {
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", self.display.display())
            .env("HOME", self.home)
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_RUNTIME_DIR", self.home)
            .env("CHATBELL_DATA_DIR", self.home.join("data"))
            .env("CHATBELL_CONFIG_DIR", self.home.join("config"))
            .env("LANG", "en_US.UTF-8")
            .env_remove("WAYLAND_DISPLAY");
        c
    }

    fn settings(&self, server: Option<&str>) -> Result<()> {
        let dir = self.home.join("config");
        std::fs::create_dir_all(&dir)?;
        let json = serde_json::json!({"server": {"url": server}, "ui": {"welcome_done": true}});
        std::fs::write(dir.join("settings.json"), json.to_string())?;
        Ok(())
    }
}

/// Memory of a process tree: the median of three samples a second apart.
async fn sample(pid: u32) -> Memory {
    let mut samples = Vec::new();
    for _ in 0..3 {
        samples.push(procfs::memory(&procfs::tree(pid)));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    samples.sort_by(|a, b| a.pss_mib.total_cmp(&b.pss_mib));
    samples[1]
}

/// CPU %, wakeups per minute and heartbeat bytes per minute of a process tree over `span`.
pub(crate) async fn idle(pid: u32, server_port: u16, span: Duration) -> (f64, f64, f64) {
    let before = procfs::activity(&procfs::tree(pid));
    let bytes_before = procfs::socket_bytes(server_port);
    let started = Instant::now();
    tokio::time::sleep(span).await;
    let after = procfs::activity(&procfs::tree(pid));
    let bytes_after = procfs::socket_bytes(server_port);
    let secs = started.elapsed().as_secs_f64();
    let cpu = (after.cpu_seconds - before.cpu_seconds) / secs * 100.0;
    let wakeups = (after.switches.saturating_sub(before.switches)) as f64 / secs * 60.0;
    let bytes = ((bytes_after.0 + bytes_after.1).saturating_sub(bytes_before.0 + bytes_before.1))
        as f64
        / secs
        * 60.0;
    (cpu, wakeups, bytes)
}

fn chromium(env: &Env<'_>, page: &Path, ws: &str) -> Result<Spawned> {
    let profile = env.home.join("chromium-profile");
    let mut c = env.command(Path::new("chromium"));
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--remote-debugging-port=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("file://{}?ws={ws}", page.display()));
    Ok(Spawned::spawn(c))
}

async fn wait_clients(sim: &SimHandle, n: usize, what: &str) -> Result<()> {
    let clients = sim
        .control()
        .wait_clients(Duration::from_secs(60), |c| c.len() >= n)
        .await?;
    if clients.len() < n {
        bail!("{what} never connected to the simulator");
    }
    Ok(())
}

async fn sim(rate: f64) -> Result<SimHandle> {
    Ok(chatbell_sim::start(SimConfig {
        listen: "127.0.0.1:0".parse()?,
        rate,
        ..SimConfig::default()
    })
    .await?)
}

fn alive(child: &mut Spawned, what: &str) -> Result<()> {
    if let Some(status) = child.child.try_wait()? {
        bail!("{what} exited ({status}): {}", child.stderr.text());
    }
    Ok(())
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    for program in ["chatbell", "chatbell-cli"] {
        if !bin(program).exists() {
            bail!(
                "{} is missing: build the release binaries first (cargo xtask bench does)",
                bin(program).display()
            );
        }
    }
    let warm = Duration::from_secs(scale.pick(5, 20));
    let hidden_wait = Duration::from_secs(scale.pick(5, 60));
    let idle_span = Duration::from_secs(scale.pick(10, 60));
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").context("no session bus")?;
    let _notifications =
        NotificationServer::start_at(&bus, &["body", "body-markup", "actions"]).await;
    let _tray = TrayWatcher::start_at(&bus).await;
    let display = VirtualDisplay::start();
    let home = tempfile::tempdir()?;
    let env = Env {
        display: &display,
        home: home.path(),
    };
    let page = home.path().join("handle-event.html");
    std::fs::write(&page, include_str!("assets/handle-event.html"))?;

    // The app with its window open, demo traffic flowing: first with WebKit's own defaults (GPU
    // compositing on demand), the baseline of the webview settings the app makes; then as it
    // ships, and closed to the tray.
    env.settings(None)?;
    let mut app = Spawned::spawn({
        let mut c = env.command(&bin("chatbell"));
        c.arg("--demo").env("CHATBELL_WEBVIEW_DEFAULTS", "1");
        c
    });
    tokio::time::sleep(warm).await;
    alive(&mut app, "chatbell --demo with WebKit's defaults")?;
    let webkit_defaults = sample(app.pid()).await;
    drop(app);
    let mut app = Spawned::spawn({
        let mut c = env.command(&bin("chatbell"));
        c.arg("--demo");
        c
    });
    tokio::time::sleep(warm).await;
    alive(&mut app, "chatbell --demo")?;
    let window = sample(app.pid()).await;
    if !display
        .close_window("Chatbell")
        .map_err(anyhow::Error::msg)?
    {
        bail!("no Chatbell window to close");
    }
    tokio::time::sleep(hidden_wait).await;
    alive(&mut app, "chatbell after closing its window")?;
    let hidden = sample(app.pid()).await;
    drop(app);

    // The same traffic to the CLI and to the browser tab.
    let live = sim(1.5).await?;
    let cli = Spawned::spawn({
        let mut c = env.command(&bin("chatbell-cli"));
        c.args(["listen", "--url", &live.ws_url()]);
        c
    });
    wait_clients(&live, 1, "chatbell-cli").await?;
    tokio::time::sleep(warm).await;
    let headless = sample(cli.pid()).await;
    drop(cli);
    let tab = chromium(&env, &page, &live.ws_url())?;
    wait_clients(&live, 1, "the Chromium tab").await?;
    tokio::time::sleep(warm).await;
    let browser = sample(tab.pid()).await;
    drop(tab);
    live.shutdown().await;

    // Idle: connected to a server that sends nothing.
    let quiet = sim(0.0).await?;
    let port = quiet.addr().port();
    let cli = Spawned::spawn({
        let mut c = env.command(&bin("chatbell-cli"));
        c.args(["listen", "--url", &quiet.ws_url()]);
        c
    });
    wait_clients(&quiet, 1, "chatbell-cli").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cli_cpu, cli_wakeups, cli_bytes) = idle(cli.pid(), port, idle_span).await;
    drop(cli);
    quiet
        .control()
        .wait_clients(Duration::from_secs(5), |c| c.is_empty())
        .await?;

    env.settings(Some(&quiet.ws_url()))?;
    let mut app = Spawned::spawn(env.command(&bin("chatbell")));
    wait_clients(&quiet, 1, "chatbell").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    if !display
        .close_window("Chatbell")
        .map_err(anyhow::Error::msg)?
    {
        bail!("no Chatbell window to close");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    alive(&mut app, "chatbell")?;
    let (app_cpu, app_wakeups, app_bytes) = idle(app.pid(), port, idle_span).await;
    drop(app);
    quiet
        .control()
        .wait_clients(Duration::from_secs(5), |c| c.is_empty())
        .await?;

    let tab = chromium(&env, &page, &quiet.ws_url())?;
    wait_clients(&quiet, 1, "the Chromium tab").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (tab_cpu, tab_wakeups, _) = idle(tab.pid(), port, idle_span).await;
    drop(tab);
    quiet.shutdown().await;

    let procs = |m: &Memory| {
        format!(
            "{} processes; private (USS) {:.0} MiB",
            m.processes, m.uss_mib
        )
    };
    let tab_note = format!(
        "Chromium: {} processes, PSS {:.0} MiB, USS {:.0} MiB",
        browser.processes, browser.pss_mib, browser.uss_mib
    );
    Ok(vec![
        Figure::new(
            MEMORY,
            "app, window open, demo running",
            window.pss_mib,
            "MiB",
        )
        .baseline("Chromium tab", browser.pss_mib)
        .goal(Goal::AtMost(browser.pss_mib / 2.0))
        .note(format!("{}; after {warm:?}", procs(&window))),
        Figure::new(
            MEMORY,
            "app, window open, hardware acceleration policy \"never\"",
            window.pss_mib,
            "MiB",
        )
        .baseline("WebKit's defaults", webkit_defaults.pss_mib)
        .note(format!(
            "with WebKit's defaults: {}; set through the webview's settings",
            procs(&webkit_defaults)
        )),
        Figure::new(MEMORY, "app, hidden to the tray", hidden.pss_mib, "MiB")
            .baseline("Chromium tab", browser.pss_mib)
            .goal(Goal::AtMost(50.0))
            .note(format!(
                "{}; {hidden_wait:?} after closing the window",
                procs(&hidden)
            )),
        Figure::new(
            MEMORY,
            "chatbell-cli listen (headless, with notifications)",
            headless.pss_mib,
            "MiB",
        )
        .baseline("Chromium tab", browser.pss_mib)
        .goal(Goal::AtMost(15.0))
        .note(procs(&headless)),
        Figure::new(
            MEMORY,
            "Chromium tab running handleEvent (baseline)",
            browser.pss_mib,
            "MiB",
        )
        .note(tab_note),
        Figure::new(IDLE, "chatbell-cli: CPU", cli_cpu, "%")
            .baseline("Chromium tab", tab_cpu)
            .goal(Goal::AtMost(0.5)),
        Figure::new(
            IDLE,
            "chatbell-cli: wakeups (context switches)",
            cli_wakeups,
            "/min",
        )
        .baseline("Chromium tab", tab_wakeups)
        .goal(Goal::AtMost(60.0))
        .note(format!("over {idle_span:?}, all threads")),
        Figure::new(IDLE, "app hidden in the tray: CPU", app_cpu, "%")
            .baseline("Chromium tab", tab_cpu)
            .goal(Goal::AtMost(0.5)),
        Figure::new(
            IDLE,
            "app hidden in the tray: wakeups (context switches)",
            app_wakeups,
            "/min",
        )
        .baseline("Chromium tab", tab_wakeups)
        .goal(Goal::AtMost(60.0)),
        Figure::new(
            IDLE,
            "heartbeat traffic on the wire (cli, both ways, payload bytes)",
            cli_bytes,
            "B/min",
        )
        .baseline("app", app_bytes)
        .note("ping every 15 s, answered by a pong"),
    ])
}
