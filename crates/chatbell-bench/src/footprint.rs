//! Figure 4 — Footprint (PSS and private memory of every process of each program, from
//! /proc/*/smaps_rollup, under a virtual display) and 5. idle cost (CPU, wakeups, heartbeat
//! bytes). The baseline is what an agent would use instead: a Chromium tab running the
//! original document's `handleEvent` against the same simulator. Opening the window (figure
//! 10) is `opening.rs`; the resident after bursts and a shift (figure 13) is `soak.rs`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::{NotificationServer, Spawned, TrayWatcher, VirtualDisplay};

use crate::procfs::{self, Memory};
use crate::report::{Figure, Goal, num};
use crate::{Scale, bin};

const MEMORY: &str = "4. Footprint (MiB, lower is better)";
const IDLE: &str = "5. Idle cost while connected";

pub(crate) struct Env<'a> {
    pub(crate) display: &'a VirtualDisplay,
    pub(crate) home: &'a Path,
}

/// A desktop for the app: the session bus's notification server, a virtual display and a
/// home of its own, torn down when dropped.
pub(crate) struct Desktop {
    pub(crate) bus: String,
    home: tempfile::TempDir,
    display: VirtualDisplay,
    _notifications: NotificationServer,
}

impl Desktop {
    pub(crate) async fn start() -> Result<Desktop> {
        let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").context("no session bus")?;
        let notifications =
            NotificationServer::start_at(&bus, &["body", "body-markup", "actions"]).await;
        Ok(Desktop {
            home: tempfile::tempdir()?,
            display: VirtualDisplay::start(),
            _notifications: notifications,
            bus,
        })
    }

    /// Programs on this desktop, in its home.
    pub(crate) fn env(&self) -> Env<'_> {
        self.env_at(self.home.path())
    }

    /// Programs on this desktop with `home` as their home.
    pub(crate) fn env_at<'a>(&'a self, home: &'a Path) -> Env<'a> {
        Env {
            display: &self.display,
            home,
        }
    }
}

impl Env<'_> {
    pub(crate) fn command(&self, program: &Path) -> Command {
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

    pub(crate) fn settings(&self, server: Option<&str>) -> Result<()> {
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

/// A connected Chatbell's heartbeat: a ping every 15 s, answered by a pong. Over a span at
/// least this long, a connected process that never woke is not what was measured.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// The shortest span a wakeups figure means anything over: four heartbeats, so each is counted
/// in proportion, and the tail of a start (its first reads, a log line, a pong) is diluted. The
/// quick run's spans (5–10 s) are shorter: a connected client may not wake at all in 5 s, and
/// one that just started wakes several times a second.
const WAKEUP_SPAN: Duration = Duration::from_secs(60);

/// A wakeups figure measured over `span`: marked as not measurable when `span` is shorter than
/// [`WAKEUP_SPAN`] (the quick run), so its number cannot pass for a result.
pub(crate) fn wakeups_over(figure: Figure, span: Duration) -> Figure {
    if span >= WAKEUP_SPAN {
        figure
    } else {
        figure.unmeasurable(format!(
            "a {} s span is shorter than the {} s a wakeups figure needs",
            span.as_secs(),
            WAKEUP_SPAN.as_secs()
        ))
    }
}

/// CPU %, wakeups per minute and heartbeat bytes per minute of a process tree over `span`.
pub(crate) async fn idle(pid: u32, server_port: u16, span: Duration) -> Result<(f64, f64, f64)> {
    Ok(idle_by_thread(pid, server_port, span).await?.0)
}

/// The same, with where the wakeups came from (`by_thread`). Wakeups are counted thread by
/// thread: what each thread alive at the end did since the start (all of it for a thread
/// born inside the span). A thread that ended inside the span is not counted (its switches
/// left with it), so the figure is a lower bound; the breakdown says how many ended. (Summing
/// all threads before and after instead subtracts every ended thread's whole life.)
pub(crate) async fn idle_by_thread(
    pid: u32,
    server_port: u16,
    span: Duration,
) -> Result<((f64, f64, f64), String)> {
    let tree = procfs::tree(pid);
    let before = procfs::activity(&tree);
    let threads_before = procfs::thread_switches(&tree);
    if threads_before.is_empty() {
        bail!("process {pid}: no thread found to count wakeups of (has it exited?)");
    }
    let bytes_before = procfs::socket_bytes(server_port);
    let started = Instant::now();
    tokio::time::sleep(span).await;
    let tree = procfs::tree(pid);
    let after = procfs::activity(&tree);
    let threads_after = procfs::thread_switches(&tree);
    if threads_after.is_empty() {
        bail!("process {pid} ended inside the {span:?} its wakeups were counted over");
    }
    let bytes_after = procfs::socket_bytes(server_port);
    let secs = started.elapsed().as_secs_f64();
    let per_minute = |n: u64| n as f64 / secs * 60.0;
    let cpu = (after.cpu_seconds - before.cpu_seconds) / secs * 100.0;
    let deltas = thread_deltas(&threads_before, &threads_after);
    let switches: u64 = deltas.iter().map(|(_, n)| n).sum();
    if switches == 0 && span >= HEARTBEAT {
        bail!(
            "process {pid} did not wake once in {span:?}: a connected client with a {HEARTBEAT:?} \
             heartbeat must, so the count read is not its own"
        );
    }
    let wakeups = per_minute(switches);
    let bytes =
        per_minute((bytes_after.0 + bytes_after.1).saturating_sub(bytes_before.0 + bytes_before.1));
    let ended = threads_before
        .keys()
        .filter(|t| !threads_after.contains_key(t))
        .count();
    Ok(((cpu, wakeups, bytes), by_thread(&deltas, ended, per_minute)))
}

/// What each thread alive at the end did since the start (all of it for one born since), with
/// its name.
fn thread_deltas<'a>(
    before: &std::collections::BTreeMap<u32, (String, u64)>,
    after: &'a std::collections::BTreeMap<u32, (String, u64)>,
) -> Vec<(&'a str, u64)> {
    after
        .iter()
        .map(|(tid, (name, n))| {
            let earlier = before.get(tid).map_or(0, |(_, b)| *b);
            (name.as_str(), n.saturating_sub(earlier))
        })
        .collect()
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

pub(crate) fn alive(child: &mut Spawned, what: &str) -> Result<()> {
    if let Some(status) = child.child.try_wait()? {
        bail!("{what} exited ({status}): {}", child.stderr.text());
    }
    Ok(())
}

/// The desktop app's two shapes: what ships on Linux (`chatbell`, the tray-resident process,
/// starting `chatbell-window` when the window is wanted) and the single process it was (and is
/// on macOS and Windows), run here as the same-run baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Split,
    Single,
}

impl Shape {
    pub(crate) fn command(self, env: &Env<'_>) -> Command {
        match self {
            Shape::Split => env.command(&bin("chatbell")),
            Shape::Single => {
                let mut c = env.command(&bin("chatbell-window"));
                c.arg("--single-process");
                c
            }
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Shape::Split => "chatbell",
            Shape::Single => "chatbell-window --single-process",
        }
    }
}

/// What one shape measured with the demo running.
struct Measured {
    window: Memory,
    hidden: Memory,
    /// WebKit processes left once the window was closed.
    hidden_webkit: usize,
}

fn webkit_processes(pids: &[u32]) -> usize {
    pids.iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.starts_with("WebKit"))
        })
        .count()
}

/// What is left of the app's window: a shown window, a WebKitWebProcess, or (in the split) the
/// window's process; `None` once all are gone.
fn window_left(display: &VirtualDisplay, app: u32) -> Option<String> {
    if display.window_pixels("Chatbell").is_ok() {
        return Some("a shown window".into());
    }
    procfs::tree(app)
        .into_iter()
        .filter(|p| *p != app)
        .find_map(|p| {
            let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).ok()?;
            (comm.starts_with("WebKitWebProc") || comm.trim() == "chatbell-window")
                .then(|| format!("process {p} ({})", comm.trim()))
        })
}

/// Quits the app as a session's end does (SIGTERM) and waits for all its processes to end: a
/// window process left behind would start a resident again.
pub(crate) async fn stop(mut app: Spawned) -> Result<()> {
    let tree = procfs::tree(app.pid());
    app.signal("TERM");
    app.wait(Duration::from_secs(20));
    until(
        "the app's processes ending",
        Duration::from_secs(20),
        || {
            tree.iter()
                .all(|p| !std::path::Path::new(&format!("/proc/{p}/exe")).exists())
        },
    )
    .await?;
    Ok(())
}

pub(crate) async fn until(
    what: &str,
    within: Duration,
    done: impl Fn() -> bool,
) -> Result<Duration> {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > within {
            bail!("{what}: not within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(started.elapsed())
}

/// Closes the window as a window manager does, asking again each second while it stays (a
/// window just mapped may not yet listen), until it and its processes are gone.
pub(crate) async fn close_window(display: &VirtualDisplay, app: u32) -> Result<()> {
    if !display
        .close_window("Chatbell")
        .map_err(anyhow::Error::msg)?
    {
        bail!("no Chatbell window to close");
    }
    let started = Instant::now();
    let mut again = Duration::from_secs(1);
    while let Some(left) = window_left(display, app) {
        if started.elapsed() > Duration::from_secs(20) {
            bail!("the window closing: {left} still there after 20 s");
        }
        if started.elapsed() > again {
            display
                .close_window("Chatbell")
                .map_err(anyhow::Error::msg)?;
            again += Duration::from_secs(1);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

impl Shape {
    /// The shape with the demo running and its window open, `warm` after its start, with a
    /// tray host of its own (the item of the shape measured before is gone with it).
    pub(crate) async fn demo(
        self,
        env: &Env<'_>,
        bus: &str,
        warm: Duration,
    ) -> Result<(Spawned, TrayWatcher)> {
        let tray = TrayWatcher::start_at(bus).await;
        let mut app = Spawned::spawn({
            let mut c = self.command(env);
            c.arg("--demo");
            c
        });
        tokio::time::sleep(warm).await;
        alive(&mut app, self.name())?;
        Ok((app, tray))
    }
}

/// One shape with the demo running: its window open, then closed to the tray.
async fn measure(
    shape: Shape,
    env: &Env<'_>,
    bus: &str,
    warm: Duration,
    hidden_wait: Duration,
) -> Result<Measured> {
    let (mut app, tray) = shape.demo(env, bus, warm).await?;
    let pid = app.pid();
    let window = sample(pid).await;
    close_window(env.display, pid).await?;
    tokio::time::sleep(hidden_wait).await;
    alive(
        &mut app,
        &format!("{} after closing its window", shape.name()),
    )?;
    let hidden = sample(pid).await;
    let hidden_webkit = webkit_processes(&procfs::tree(pid));
    stop(app).await?;
    drop(tray);
    Ok(Measured {
        window,
        hidden,
        hidden_webkit,
    })
}

/// The app hidden in the tray, connected to a server that sends nothing: CPU, wakeups and
/// heartbeat bytes of all its processes.
async fn idle_app(
    shape: Shape,
    env: &Env<'_>,
    quiet: &SimHandle,
    bus: &str,
    span: Duration,
) -> Result<((f64, f64, f64), String)> {
    // Closing leaves it in a tray (without one the window would only minimize).
    let _tray = TrayWatcher::start_at(bus).await;
    env.settings(Some(&quiet.ws_url()))?;
    let mut app = Spawned::spawn(shape.command(env));
    wait_clients(quiet, 1, shape.name()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    close_window(env.display, app.pid()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    alive(&mut app, shape.name())?;
    let (measured, threads) = idle_by_thread(app.pid(), quiet.addr().port(), span).await?;
    stop(app).await?;
    quiet
        .control()
        .wait_clients(Duration::from_secs(5), |c| c.is_empty())
        .await?;
    Ok((measured, threads))
}

/// Where the wakeups of a span came from: per minute by thread name (threads of one name
/// summed), busiest first, and how many threads ended inside the span (their switches are in
/// neither snapshot's sum, so the total is a lower bound).
fn by_thread(deltas: &[(&str, u64)], ended: usize, per_minute: impl Fn(u64) -> f64) -> String {
    let mut names: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (name, n) in deltas {
        *names.entry(name).or_default() += n;
    }
    let mut names: Vec<(&str, u64)> = names.into_iter().filter(|(_, n)| *n > 0).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.1));
    let mut parts: Vec<String> = names
        .iter()
        .map(|(name, n)| format!("{name} {}", num(per_minute(*n))))
        .collect();
    if ended > 0 {
        parts.push(format!("{ended} threads ended inside the span"));
    }
    if parts.is_empty() {
        "no thread woke".into()
    } else {
        parts.join(", ")
    }
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    crate::require(&["chatbell", "chatbell-window", "chatbell-cli"])?;
    let warm = Duration::from_secs(scale.pick(5, 20));
    let hidden_wait = Duration::from_secs(scale.pick(5, 60));
    let idle_span = Duration::from_secs(scale.pick(10, 60));
    let desktop = Desktop::start().await?;
    let bus = &desktop.bus;
    let env = desktop.env();
    let page = env.home.join("handle-event.html");
    std::fs::write(&page, include_str!("assets/handle-event.html"))?;

    // The app with its window open, demo traffic flowing: first with WebKit's own defaults (GPU
    // compositing on demand), the baseline of the webview settings the app makes; then as it
    // ships and as one process, each opened again from the tray and closed to the tray.
    env.settings(None)?;
    let mut app = Spawned::spawn({
        let mut c = env.command(&bin("chatbell"));
        c.arg("--demo").env("CHATBELL_WEBVIEW_DEFAULTS", "1");
        c
    });
    tokio::time::sleep(warm).await;
    alive(&mut app, "chatbell --demo with WebKit's defaults")?;
    let webkit_defaults = sample(app.pid()).await;
    stop(app).await?;
    let split = measure(Shape::Split, &env, bus, warm, hidden_wait).await?;
    let single = measure(Shape::Single, &env, bus, warm, hidden_wait).await?;
    let window = split.window;
    let hidden = split.hidden;

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

    // Idle: connected to a server that sends nothing, with nobody waiting. The demo's chats
    // above are still unopened, and the reminders they bring (a notification and a sound each
    // time, by design) are the product at work, not its idle cost: a home of its own.
    let idle_home = tempfile::tempdir()?;
    let env = desktop.env_at(idle_home.path());
    let quiet = sim(0.0).await?;
    let port = quiet.addr().port();
    let cli = Spawned::spawn({
        let mut c = env.command(&bin("chatbell-cli"));
        c.args(["listen", "--url", &quiet.ws_url()]);
        c
    });
    wait_clients(&quiet, 1, "chatbell-cli").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cli_cpu, cli_wakeups, cli_bytes) = idle(cli.pid(), port, idle_span).await?;
    drop(cli);
    quiet
        .control()
        .wait_clients(Duration::from_secs(5), |c| c.is_empty())
        .await?;

    let ((app_cpu, app_wakeups, app_bytes), app_threads) =
        idle_app(Shape::Split, &env, &quiet, bus, idle_span).await?;
    let ((single_cpu, single_wakeups, _), single_threads) =
        idle_app(Shape::Single, &env, &quiet, bus, idle_span).await?;

    let tab = chromium(&env, &page, &quiet.ws_url())?;
    wait_clients(&quiet, 1, "the Chromium tab").await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (tab_cpu, tab_wakeups, _) = idle(tab.pid(), port, idle_span).await?;
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
    let single_note = |m: &Measured| {
        format!(
            "one process: {}; hidden {} (private {:.0} MiB), {} WebKit processes left",
            procs(&m.window),
            num(m.hidden.pss_mib),
            m.hidden.uss_mib,
            m.hidden_webkit
        )
    };
    Ok(vec![
        Figure::new(
            MEMORY,
            "app, window open, demo running",
            window.pss_mib,
            "MiB",
        )
        .baseline("Chromium tab", browser.pss_mib)
        .goal(Goal::AtMost(browser.pss_mib / 2.0))
        .note(format!(
            "resident + window process: {}; after {warm:?}",
            procs(&window)
        )),
        Figure::new(
            MEMORY,
            "app, window open: two processes against one",
            window.pss_mib,
            "MiB",
        )
        .baseline("one process", single.window.pss_mib)
        .note(single_note(&single)),
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
            .baseline("one process", single.hidden.pss_mib)
            .goal(Goal::AtMost(20.0))
            .note(format!(
                "{}, {} WebKit processes; {hidden_wait:?} after closing the window",
                procs(&hidden),
                split.hidden_webkit
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
        wakeups_over(
            Figure::new(
                IDLE,
                "chatbell-cli: wakeups (context switches)",
                cli_wakeups,
                "/min",
            )
            .baseline("Chromium tab", tab_wakeups)
            .goal(Goal::AtMost(60.0))
            .note(format!("over {idle_span:?}, all threads")),
            idle_span,
        ),
        Figure::new(IDLE, "app hidden in the tray: CPU", app_cpu, "%")
            .baseline("one process", single_cpu)
            .goal(Goal::AtMost(0.5))
            .note(format!("Chromium tab: {}", num(tab_cpu))),
        wakeups_over(
            Figure::new(
                IDLE,
                "app hidden in the tray: wakeups (context switches)",
                app_wakeups,
                "/min",
            )
            .baseline("one process", single_wakeups)
            .goal(Goal::AtMost(30.0))
            .note(format!(
                "the resident alone, all threads, over {idle_span:?}, per minute: \
                 {app_threads}; one process: {single_threads}; Chromium tab: {}",
                num(tab_wakeups)
            )),
            idle_span,
        ),
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
