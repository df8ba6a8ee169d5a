//! Figure 11 — Through a proxy: what an HTTP CONNECT proxy (Debian's `tinyproxy`, on
//! loopback) adds to a connect and to every frame, each beside the same measured directly in
//! the same run. The goal: the proxy adds its own hop and nothing more (≤ 1.2 × direct at p99).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chatbell_engine::Engine;
use chatbell_engine::model::ConnState;
use chatbell_engine::net::ProxySetting;
use chatbell_sim::SimConfig;
use chatbell_testkit::{Pki, Proxy};

use crate::Scale;
use crate::latency::measure;
use crate::report::{Figure, Goal};
use crate::stats::Samples;

const SECTION: &str = "11. Through a proxy (ms, lower is better)";
const MEMORY: &str = "11. Through a proxy: the resident's memory (MiB, lower is better)";

/// The user every connect subscribes to: the server has it once the subscription arrived.
const SUBSCRIBED: i64 = 7;

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    let proxy = Proxy::http();
    let via = ProxySetting::parse(&proxy.url()).context("the proxy's URL")?;
    let rounds = scale.pick(5, 40);

    // The control: a CONNECT relay of a few lines that sets TCP_NODELAY on both of its hops,
    // which tinyproxy 1.11 does not (its second small write waits for the peer's delayed ACK).
    let relay = NodelayRelay::start().await?;
    let quick = ProxySetting::parse(&relay.url).context("the relay's URL")?;

    let pki = Pki::new();
    let direct = connects(&pki, ProxySetting::None, rounds).await?;
    let proxied = connects(&pki, via.clone(), rounds).await?;
    let relayed = connects(&pki, quick.clone(), rounds).await?;

    let straight = measure(scale, |c| set_proxy(c, ProxySetting::None)).await?;
    let tunnelled = measure(scale, |c| set_proxy(c, via.clone())).await?;
    let controlled = measure(scale, |c| set_proxy(c, quick.clone())).await?;

    let settle = Duration::from_secs(scale.pick(5, 60));
    let plain = hidden_resident(None, settle).await?;
    let tls = hidden_resident(Some(&pki), settle).await?;
    let connect_note = format!(
        "{rounds} reconnects each over wss:// with a private CA (`server.tls.ca_file`): TCP, \
         tunnel, TLS and WebSocket handshakes, then the subscription frame, until the simulator \
         has the subscription"
    );
    Ok(vec![
        Figure::new(
            SECTION,
            "connect → subscribed via proxy, p50",
            proxied.median(),
            "ms",
        )
        .baseline("direct p50", direct.median())
        .note(connect_note),
        Figure::new(
            SECTION,
            "connect → subscribed via proxy, p99",
            proxied.percentile(99.0),
            "ms",
        )
        .baseline("direct p99", direct.percentile(99.0))
        .goal(one_hop(direct.percentile(99.0))),
        Figure::new(
            SECTION,
            "frame → Notify via proxy, p50",
            tunnelled.notified.median(),
            "ms",
        )
        .baseline("direct p50", straight.notified.median()),
        Figure::new(
            SECTION,
            "frame → Notify via proxy, p99",
            tunnelled.notified.percentile(99.0),
            "ms",
        )
        .baseline("direct p99", straight.notified.percentile(99.0))
        .goal(one_hop(straight.notified.percentile(99.0)))
        .note("ws:// at 200 events/s; goal: at most 1.2 × direct p99 (at least 1 ms of it)"),
        Figure::new(
            SECTION,
            "connect → subscribed via a TCP_NODELAY relay (control), p99",
            relayed.percentile(99.0),
            "ms",
        )
        .baseline("direct p99", direct.percentile(99.0))
        .goal(one_hop(direct.percentile(99.0))),
        Figure::new(
            SECTION,
            "frame → Notify via a TCP_NODELAY relay (control), p99",
            controlled.notified.percentile(99.0),
            "ms",
        )
        .baseline("direct p99", straight.notified.percentile(99.0))
        .goal(one_hop(straight.notified.percentile(99.0)))
        .note("the same tunnel through a minimal CONNECT relay with Nagle off on both hops: what is left is Chatbell's"),
        Figure::new(
            MEMORY,
            "resident, hidden, over wss:// (system store + CA file)",
            tls.pss_mib,
            "MiB",
        )
        .baseline("over ws://", plain.pss_mib)
        .goal(Goal::AtMost(20.0))
        .note(format!(
            "`chatbell --hidden` connected to a quiet simulator, {settle:?} after it came online; \
             the trust is this machine's store ({} roots) plus the test CA",
            system_roots()
        )),
    ])
}

/// The goal of a figure through a proxy: its own hop and nothing more, at most 1.2 × the same
/// measured directly (at least 1 ms of it: below that a loopback's noise is the whole figure).
fn one_hop(direct: f64) -> Goal {
    Goal::AtMost(1.2 * direct.max(1.0))
}

fn set_proxy(config: &mut chatbell_engine::EngineConfig, proxy: ProxySetting) {
    if let Some(server) = config.server.as_mut() {
        server.proxy = proxy;
    }
}

/// Reconnects `rounds` times over `wss://` through `proxy` and times each, from the request to
/// the simulator holding the new connection's subscription.
async fn connects(pki: &Pki, proxy: ProxySetting, rounds: usize) -> Result<Samples> {
    let server = pki.server();
    let sim = chatbell_sim::start(SimConfig {
        tls: Some(pki.sim_tls(&server, false)),
        ..SimConfig::quiet()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let mut config = crate::engine_config(dir.path(), sim.ws_url());
    config.subscriptions = vec![SUBSCRIBED];
    if let Some(s) = config.server.as_mut() {
        s.proxy = proxy;
        s.tls.ca_file = Some(pki.ca().cert_file().to_path_buf());
    }
    let engine = Engine::start(config, None).await?;
    let hub = sim.hub().clone();
    let subscribed = |after: Option<u64>| {
        hub.clients()
            .iter()
            .find(|c| c.filters.contains(&SUBSCRIBED) && Some(c.id) != after)
            .map(|c| c.id)
    };
    let mut last = wait_for(|| subscribed(None), "the first subscription").await?;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        engine.reconnect_now().await;
        last = wait_for(|| subscribed(Some(last)), "a reconnect's subscription").await?;
        times.push(started.elapsed());
        let mut state = engine.state();
        let online = state.wait_for(|s| matches!(s, ConnState::Online { .. }));
        tokio::time::timeout(Duration::from_secs(10), online).await??;
    }
    engine.shutdown().await;
    sim.shutdown().await;
    Ok(Samples::from_durations(&times))
}

/// Polls `check` every half millisecond (the figures are milliseconds) for up to 10 s.
async fn wait_for<T>(check: impl Fn() -> Option<T>, what: &str) -> Result<T> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            bail!("{what} did not arrive within 10 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// How many certificates this machine's trust store holds (what each `wss://` connect loads).
fn system_roots() -> usize {
    rustls_native_certs::load_native_certs().certs.len()
}

/// The resident (`chatbell --hidden`, no window ever opened) connected to a quiet simulator,
/// over `wss://` with `pki`'s CA as `server.tls.ca_file`, or over `ws://`: its memory once it
/// has been online for `settle`.
async fn hidden_resident(pki: Option<&Pki>, settle: Duration) -> Result<crate::procfs::Memory> {
    let sim = chatbell_sim::start(SimConfig {
        tls: pki.map(|p| p.sim_tls(&p.server(), false)),
        ..SimConfig::quiet()
    })
    .await?;
    let home = tempfile::tempdir()?;
    let config = home.path().join("config");
    std::fs::create_dir_all(&config)?;
    let tls = match pki {
        Some(p) => serde_json::json!({"ca_file": p.ca().cert_file()}),
        None => serde_json::json!({}),
    };
    let settings = serde_json::json!({
        "server": {"url": sim.ws_url(), "proxy": "none", "tls": tls},
        "ui": {"welcome_done": true}
    });
    std::fs::write(config.join("settings.json"), settings.to_string())?;
    let c = crate::hidden_resident(home.path());
    let bus = std::env::var("DBUS_SESSION_BUS_ADDRESS").context("no session bus")?;
    let _tray = chatbell_testkit::TrayWatcher::start_at(&bus).await;
    let mut app = chatbell_testkit::Spawned::spawn(c);
    let hub = sim.hub().clone();
    wait_for(
        || (!hub.clients().is_empty()).then_some(()),
        "the resident's connection",
    )
    .await?;
    tokio::time::sleep(settle).await;
    if let Some(status) = app.child.try_wait()? {
        bail!("chatbell --hidden exited ({status}): {}", app.stderr.text());
    }
    // The median of three samples a second apart, as the footprint section takes them.
    let mut samples = Vec::new();
    for _ in 0..3 {
        samples.push(crate::procfs::memory(&crate::procfs::tree(app.pid())));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    samples.sort_by(|a, b| a.pss_mib.total_cmp(&b.pss_mib));
    let memory = samples[1];
    app.signal("TERM");
    app.wait(Duration::from_secs(20));
    sim.shutdown().await;
    Ok(memory)
}

/// A minimal HTTP CONNECT relay that disables Nagle's algorithm on both hops: the control
/// that tells the proxy's own delays from Chatbell's.
struct NodelayRelay {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl NodelayRelay {
    async fn start() -> Result<NodelayRelay> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if client.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let text = String::from_utf8_lossy(&head);
                    let Some(target) = text.split_whitespace().nth(1) else {
                        return;
                    };
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = (client.set_nodelay(true), server.set_nodelay(true));
                    if client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_ok()
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Ok(NodelayRelay { url, task })
    }
}

impl Drop for NodelayRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
