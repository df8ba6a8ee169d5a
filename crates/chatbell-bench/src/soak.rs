//! Figure 13 — The resident after a busy day: `chatbell --hidden` connected to the simulator,
//! its PSS after a quiet minute (the baseline), 60 s after bursts of 5,000 and 50,000 events,
//! and through a shift: 8 hours of traffic compressed in real time (200 chats, 20,000
//! messages, the agent opening chats and snoozing some through the window's socket, the server
//! restarted every hour), sampled every simulated 10 minutes. The figure of the shift is the
//! slope (least squares, MiB per simulated hour) and its last sample.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chatbell_ipc::{Command, Role, ToResident, ToWindow};
use chatbell_sim::{SimConfig, SimHandle};
use chatbell_testkit::{Spawned, TrayWatcher};
use serde_json::{Value, json};

use crate::Scale;
use crate::procfs;
use crate::report::{Figure, Goal, num};

const MEMORY: &str = "13. The resident after a busy day (MiB, lower is better)";

/// The shift: chats and messages, and how often memory is sampled.
const CHATS: i64 = 200;
/// 20,000 messages in an 8-hour shift.
const MESSAGES_PER_HOUR: u64 = 2_500;
const SAMPLES_PER_HOUR: u32 = 6;

struct Resident {
    app: Spawned,
    home: tempfile::TempDir,
    _tray: TrayWatcher,
}

impl Resident {
    async fn start(url: &str) -> Result<Resident> {
        let home = tempfile::tempdir()?;
        let config = home.path().join("config");
        std::fs::create_dir_all(&config)?;
        let settings = json!({
            "server": {"url": url, "proxy": "none"},
            "ui": {"welcome_done": true}
        });
        std::fs::write(config.join("settings.json"), settings.to_string())?;
        let c = crate::hidden_resident(home.path());
        let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").context("no session bus")?;
        let tray = TrayWatcher::start_at(&bus).await;
        Ok(Resident {
            app: Spawned::spawn(c),
            home,
            _tray: tray,
        })
    }

    fn db(&self) -> PathBuf {
        self.home.path().join("data/chatbell.db")
    }

    /// PSS of the resident (all its processes) now.
    fn pss_now(&mut self) -> Result<f64> {
        crate::footprint::alive(&mut self.app, "chatbell --hidden")?;
        let pss = procfs::memory(&procfs::tree(self.app.pid())).pss_mib;
        if pss <= 0.0 {
            bail!("no memory read for the resident (pid {})", self.app.pid());
        }
        Ok(pss)
    }

    /// The median of three samples a second apart, for a resident at rest.
    async fn pss(&mut self) -> Result<f64> {
        let mut samples = Vec::new();
        for _ in 0..3 {
            samples.push(self.pss_now()?);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        samples.sort_by(f64::total_cmp);
        Ok(samples[1])
    }

    /// The agent opens the window: `read` chats opened (read), `snooze` snoozed, then closed.
    async fn agent(&self, read: &[i64], snooze: &[i64]) -> Result<()> {
        let socket = self.home.path().join("run/chatbell.sock");
        let (_, mut receiver, mut sender) = chatbell_ipc::socket::connect(&socket, Role::Window)
            .await
            .context("the window's socket")?;
        let calls = read
            .iter()
            .map(|&user_id| Command::MarkRead { user_id })
            .chain(snooze.iter().map(|&user_id| Command::SnoozeChat {
                user_id,
                minutes: Some(30),
            }));
        for (id, command) in calls.enumerate() {
            let id = id as u64;
            sender.send(&ToResident::Call { id, command }).await?;
            loop {
                let message =
                    tokio::time::timeout(Duration::from_secs(10), receiver.recv::<ToWindow>())
                        .await
                        .context("the resident's answer")??;
                if let ToWindow::Reply { id: got, result } = message
                    && got == id
                {
                    result.map_err(|e| anyhow::anyhow!("{e}"))?;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Events in the resident's raw log: what it has stored.
fn stored(db: &Path) -> u64 {
    let count = || -> rusqlite::Result<u64> {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    count().unwrap_or(0)
}

async fn until_stored(db: &Path, at_least: u64, within: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        let n = stored(db);
        if n >= at_least {
            return Ok(());
        }
        if started.elapsed() > within {
            bail!("the resident stored {n} events of {at_least} within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sim_at(listen: std::net::SocketAddr) -> Result<SimHandle> {
    Ok(chatbell_sim::start(SimConfig {
        listen,
        ..SimConfig::quiet()
    })
    .await?)
}

async fn connected(sim: &SimHandle) -> Result<()> {
    let clients = sim
        .control()
        .wait_clients(Duration::from_secs(30), |c| !c.is_empty())
        .await?;
    if clients.is_empty() {
        bail!("the resident never connected to the simulator");
    }
    Ok(())
}

fn new_chat(user: i64) -> Value {
    json!({"event": "new_chat", "data": {"user_id": user, "user_name": format!("Customer {user}"),
        "source": if user % 2 == 0 { "telegram" } else { "web" },
        "first_message": "Здравствуйте, у меня вопрос по заказу"},
        "timestamp": chrono::Utc::now().to_rfc3339()})
}

fn message(id: u64, user: i64) -> Value {
    json!({"event": "new_message", "data": {"message_id": id, "user_id": user,
        "user_name": format!("Customer {user}"),
        "text": format!("Сообщение {id}: когда будет доставка? The courier has not arrived yet."),
        "file_path": null, "source": "web"},
        "timestamp": chrono::Utc::now().to_rfc3339()})
}

/// The slope of `samples` (x: simulated hours, y: MiB) by least squares.
fn slope(samples: &[(f64, f64)]) -> f64 {
    let n = samples.len() as f64;
    let (mx, my) = samples
        .iter()
        .fold((0.0, 0.0), |(x, y), (a, b)| (x + a / n, y + b / n));
    let (num, den) = samples.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (num + (x - mx) * (y - my), den + (x - mx) * (x - mx))
    });
    num / den
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let settle = Duration::from_secs(scale.pick(5, 60));
    let after = Duration::from_secs(scale.pick(5, 60));
    // A simulated hour outlasts the reconnect backoff's reset (60 s), so each restart is met
    // by a first retry, as after a real server restart an hour after the last.
    let hour = Duration::from_secs(scale.pick(3, 65));
    let hours: u32 = scale.pick(2, 8);
    let mut sim = sim_at("127.0.0.1:0".parse()?).await?;
    let addr = sim.addr();
    let mut resident = Resident::start(&sim.ws_url()).await?;
    connected(&sim).await?;
    tokio::time::sleep(settle).await;
    let quiet = resident.pss().await?;

    let mut bursts = Vec::new();
    for (count, seed) in [(5_000, 5), (50_000, 50)] {
        let before = stored(&resident.db());
        sim.hub().burst(count, seed, None);
        until_stored(&resident.db(), before + count, Duration::from_secs(120)).await?;
        tokio::time::sleep(after).await;
        bursts.push((count, resident.pss().await?));
    }

    resident.app.signal("TERM");
    resident.app.wait(Duration::from_secs(20));

    // The shift, in a resident of its own. Each simulated hour is `hour` of real time;
    // messages go out in small groups spread over it, the agent opens the window every 10
    // simulated minutes.
    let mut resident = Resident::start(&sim.ws_url()).await?;
    connected(&sim).await?;
    let started = Instant::now();
    let per_sample = hour / SAMPLES_PER_HOUR;
    // Ten groups per 10-minute step; the hour's messages split over its groups to the last one.
    let groups_per_hour = u64::from(SAMPLES_PER_HOUR) * 10;
    let in_group = |g: u64| {
        (g + 1) * MESSAGES_PER_HOUR / groups_per_hour - g * MESSAGES_PER_HOUR / groups_per_hour
    };
    let mut next_group = 0;
    let mut next_id = 10_000_000;
    let mut samples = Vec::new();
    for h in 0..hours {
        if h > 0 {
            sim.shutdown().await;
            sim = sim_at(addr).await?;
            connected(&sim).await?;
        }
        for s in 0..SAMPLES_PER_HOUR {
            let tick = Instant::now();
            if h == 0 && s == 0 {
                for user in 1..=CHATS {
                    sim.hub()
                        .deliver(new_chat(user).to_string().into(), Some(user));
                }
            }
            // Ten groups per tick, each a tenth of the tick apart.
            for group in 0..10u64 {
                for _ in 0..in_group(next_group) {
                    next_id += 1;
                    let user = (next_id % CHATS as u64) as i64 + 1;
                    sim.hub()
                        .deliver(message(next_id, user).to_string().into(), Some(user));
                }
                next_group += 1;
                let due = per_sample * (group as u32 + 1) / 10;
                tokio::time::sleep(due.saturating_sub(tick.elapsed())).await;
            }
            let first = (i64::from(h * SAMPLES_PER_HOUR + s) * 7) % CHATS + 1;
            let read: Vec<i64> = (0..20).map(|i| (first + i) % CHATS + 1).collect();
            resident.agent(&read, &[(first + 40) % CHATS + 1]).await?;
            let at = f64::from(h) + f64::from(s + 1) / f64::from(SAMPLES_PER_HOUR);
            samples.push((at, resident.pss_now()?));
        }
    }
    let took = started.elapsed();
    let messages = MESSAGES_PER_HOUR * u64::from(hours);
    // Nothing sent is lost, restarts included.
    until_stored(
        &resident.db(),
        CHATS as u64 + messages,
        Duration::from_secs(30),
    )
    .await?;
    let all = stored(&resident.db());
    resident.app.signal("TERM");
    resident.app.wait(Duration::from_secs(20));
    sim.shutdown().await;

    let growth = slope(&samples);
    let last = samples.last().map_or(f64::NAN, |s| s.1);
    let peak = samples.iter().map(|s| s.1).fold(f64::NAN, f64::max);
    let mut figures = vec![
        Figure::new(
            MEMORY,
            "resident, hidden, after a quiet minute",
            quiet,
            "MiB",
        )
        .goal(Goal::AtMost(20.0))
        .note(format!(
            "`chatbell --hidden` online for {settle:?}, nothing received"
        )),
    ];
    for (count, pss) in bursts {
        figures.push(
            Figure::new(
                MEMORY,
                format!(
                    "resident, {after:?} after a burst of {} events",
                    num(count as f64)
                ),
                pss,
                "MiB",
            )
            .baseline("quiet", quiet)
            .goal(Goal::AtMost(20.0))
            .note("the simulator's realistic mix, all stored before the wait starts"),
        );
    }
    figures.push(
        Figure::new(
            MEMORY,
            "resident through a shift: growth per simulated hour",
            growth,
            "MiB/h",
        )
        .goal(Goal::AtMost(1.0))
        .note(format!(
            "{hours} h compressed into {took:.0?} ({hour:?} per hour): {CHATS} chats, {} \
             messages sent ({all} events stored), the window opened every 10 min \
             to read 20 chats and snooze one, the server restarted every hour; PSS every \
             simulated 10 min: {} samples, peak {} MiB",
            num(messages as f64),
            samples.len(),
            num(peak)
        )),
    );
    figures.push(
        Figure::new(
            MEMORY,
            "resident through a shift: the last sample",
            last,
            "MiB",
        )
        .baseline("quiet", quiet)
        .goal(Goal::AtMost(20.0)),
    );
    // The quick run's figures only show that each is produced.
    if scale.pick(true, false) {
        figures = figures
            .into_iter()
            .map(|f| {
                f.unmeasurable(
                    "its 5 s waits end before the writer hands memory back (10 s after its \
                     last write), and two 3-second hours give no slope",
                )
            })
            .collect();
    }
    Ok(figures)
}
