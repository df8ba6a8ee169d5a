//! Figure 10 — Opening the window from the tray: the tray menu's *Open Chatbell* clicked over
//! dbusmenu (as a tray host does), timed until the chat list is painted (read from the X
//! server), in stages from the app's own log lines, and the page's own part as the page
//! measures it (`performance`, reported once per window). Baseline: the one process the app
//! was, which creates a new webview in its running process.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::Scale;
use crate::footprint::{Desktop, Env, Shape, close_window, stop, until};
use crate::report::{Figure, Goal, num};
use crate::stats::Samples;

const REOPEN: &str = "10. Opening the window from the tray (ms, lower is better)";

/// What one shape measured, one sample per opening.
struct Measured {
    /// Tray "Open" → the chat list painted.
    reopen: Samples,
    /// Tray "Open" → each stage of the opening the logs name.
    stages: Vec<(Stage, Samples)>,
    /// The page's own report: navigation start → DOMContentLoaded, and → first chat painted.
    dom: Samples,
    painted: Samples,
}

/// A step of opening the window, as the app logs it at info (once per window). The texts are
/// the app's log messages: a stage not found in the logs fails the benchmark, so a message
/// changed there cannot silently drop out of the breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stage {
    what: &'static str,
    /// The log file's name starts with this (the process that logs it).
    log: &'static str,
    message: &'static str,
}

const SPAWNED: Stage = Stage {
    what: "the resident started the window's process",
    log: "chatbell-resident",
    message: "window process started",
};
const RUNNING: Stage = Stage {
    what: "that process runs its `main`",
    log: "chatbell-window",
    message: "starting",
};
const CONNECTED: Stage = Stage {
    what: "connected to the resident",
    log: "chatbell-window",
    message: "connected to the resident",
};
const CREATED: Stage = Stage {
    what: "window and webview created",
    log: "chatbell-",
    message: "window created",
};
const LOADED: Stage = Stage {
    what: "page loaded",
    log: "chatbell-",
    message: "page loaded",
};

impl Shape {
    fn stages(self) -> &'static [Stage] {
        match self {
            Shape::Split => &[SPAWNED, RUNNING, CONNECTED, CREATED, LOADED],
            Shape::Single => &[CREATED, LOADED],
        }
    }
}

/// When each of `stages` was first logged since `since` (the click), as time after it.
fn stage_times(
    logs: &Path,
    since: chrono::DateTime<chrono::Utc>,
    stages: &[Stage],
) -> Result<Vec<Duration>> {
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(logs)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        lines.extend(text.lines().filter_map(|line| {
            let (at, rest) = line.split_once(' ')?;
            let at = chrono::DateTime::parse_from_rfc3339(at).ok()?.to_utc();
            // "INFO target: message fields…"
            let message = rest.split_once(": ")?.1.to_string();
            (at >= since).then(|| (at, name.clone(), message))
        }));
    }
    lines.sort();
    stages
        .iter()
        .map(|stage| {
            lines
                .iter()
                .find(|(_, file, message)| {
                    file.starts_with(stage.log)
                        && (message == stage.message
                            || message.starts_with(&format!("{} ", stage.message)))
                })
                .map(|(at, ..)| (*at - since).to_std().unwrap_or_default())
                .with_context(|| {
                    format!(
                        "no \"{}\" in {}'s log after the click ({})",
                        stage.message, stage.log, stage.what
                    )
                })
        })
        .collect()
}

/// Whether the window shows its chat list: an avatar (a disc of saturated colour, where text
/// and backgrounds are greys) in the list's first row, below the header and the search box.
fn list_painted(width: usize, height: usize, bgrx: &[u8]) -> bool {
    let mut coloured = 0;
    for y in 100..height.min(180) {
        for x in 0..width.min(90) {
            let p = &bgrx[(y * width + x) * 4..][..3];
            let (lo, hi) = (p.iter().min().unwrap(), p.iter().max().unwrap());
            if hi - lo > 60 {
                coloured += 1;
            }
        }
    }
    coloured > 400
}

/// Tray "Open" → one stage both shapes have, p50; the split's own stages before it in the note.
fn stage_figure(split: &Measured, single: &Measured, stage: Stage) -> Figure {
    let p50 = |m: &Measured, stage: Stage| {
        m.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(f64::NAN, |(_, samples)| samples.median())
    };
    let before: Vec<String> = split
        .stages
        .iter()
        .take_while(|(s, _)| *s != stage)
        .map(|(s, samples)| format!("{} {}", s.what, num(samples.median())))
        .collect();
    Figure::new(
        REOPEN,
        format!("tray Open → {}, p50", stage.what),
        p50(split, stage),
        "ms",
    )
    .baseline("one process", p50(single, stage))
    .note(if before.is_empty() {
        "from the app's log lines".to_string()
    } else {
        format!("split, p50 after the click: {}", before.join("; "))
    })
}

/// The page's own report of its opening (`page painted`, logged once per window with the
/// page's `performance` times, ms after its navigation started): DOMContentLoaded and the
/// first frame with the chat list.
fn page_report(logs: &Path, since: chrono::DateTime<chrono::Utc>) -> Result<(f64, f64)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(logs)?.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        // Whole lines only: the last one may still be being written.
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            let Some((at, rest)) = line.trim_end().split_once(' ') else {
                continue;
            };
            let Ok(at) = chrono::DateTime::parse_from_rfc3339(at) else {
                continue;
            };
            if at.to_utc() < since || !rest.contains(": page painted ") {
                continue;
            }
            let field = |name: &str| -> Option<f64> {
                let start = rest.find(&format!(" {name}="))? + name.len() + 2;
                rest[start..].split_whitespace().next()?.parse().ok()
            };
            if let (Some(dom), Some(painted)) = (field("dom_ms"), field("painted_ms")) {
                found.push((at, dom, painted));
            }
        }
    }
    // The first report after the click: this opening's window.
    found
        .into_iter()
        .min_by_key(|(at, ..)| *at)
        .map(|(_, dom, painted)| (dom, painted))
        .context("no \"page painted\" with dom_ms and painted_ms in the logs after the click")
}

/// One shape with the demo running: its window closed and opened again from the tray's menu
/// `opens` times, each timed until the chat list is painted.
async fn measure(
    shape: Shape,
    env: &Env<'_>,
    bus: &str,
    opens: usize,
    warm: Duration,
) -> Result<Measured> {
    let (app, tray) = shape.demo(env, bus, warm).await?;
    let pid = app.pid();
    let item = tray
        .wait_item(Duration::from_secs(30))
        .await
        .context("no tray item")?;
    let logs = env.home.join("data/logs");
    let mut reopen = Vec::new();
    let mut stage_samples = vec![Vec::new(); shape.stages().len()];
    let (mut dom, mut painted) = (Vec::new(), Vec::new());
    for _ in 0..opens {
        close_window(env.display, pid).await?;
        let clicked = Instant::now();
        let clicked_at = chrono::Utc::now();
        if !tray.click(&item, "Open Chatbell").await {
            bail!("{}: no \"Open Chatbell\" in the tray menu", shape.name());
        }
        let shown = until("the chat list painted", Duration::from_secs(30), || {
            env.display
                .window_pixels("Chatbell")
                .is_ok_and(|(w, h, px)| list_painted(w, h, &px))
        })
        .await;
        if let Err(e) = shown {
            let shot = std::env::temp_dir().join("chatbell-bench-not-painted.png");
            env.display.screenshot(&shot);
            let logs = chatbell_testkit::logs_in(&logs);
            return Err(e.context(format!(
                "{}: the screen then: {}\n{logs}\n{}",
                shape.name(),
                shot.display(),
                app.stderr.text()
            )));
        }
        reopen.push(clicked.elapsed());
        // The page's report and the log lines are written by then; the page settles (its
        // first reads and events) before the next close.
        let report = until("the page's report", Duration::from_secs(10), || {
            page_report(&logs, clicked_at).is_ok()
        })
        .await;
        let (d, p) = report
            .and_then(|_| page_report(&logs, clicked_at))
            .with_context(|| format!("{}: the page's own timing", shape.name()))?;
        dom.push(d);
        painted.push(p);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let times = stage_times(&logs, clicked_at, shape.stages())
            .with_context(|| format!("{}: the opening's stages", shape.name()))?;
        for (samples, time) in stage_samples.iter_mut().zip(times) {
            samples.push(time);
        }
    }
    stop(app).await?;
    drop(tray);
    Ok(Measured {
        reopen: Samples::from_durations(&reopen),
        stages: shape
            .stages()
            .iter()
            .zip(stage_samples)
            .map(|(stage, times)| (*stage, Samples::from_durations(&times)))
            .collect(),
        dom: Samples::new(dom),
        painted: Samples::new(painted),
    })
}

pub async fn run(scale: Scale) -> Result<Vec<Figure>> {
    crate::require(&["chatbell", "chatbell-window"])?;
    let warm = Duration::from_secs(scale.pick(5, 10));
    let opens = scale.pick(3, 20);
    let desktop = Desktop::start().await?;
    let env = desktop.env();
    env.settings(None)?;
    let split = measure(Shape::Split, &env, &desktop.bus, opens, warm).await?;
    let single = measure(Shape::Single, &env, &desktop.bus, opens, warm).await?;
    Ok(vec![
        Figure::new(
            REOPEN,
            "tray Open → chat list painted, p50",
            split.reopen.median(),
            "ms",
        )
        .baseline("one process", single.reopen.median())
        .goal(Goal::AtMost(500.0))
        .note(format!(
            "a new window process each time; {} openings, demo running",
            split.reopen.len()
        )),
        Figure::new(
            REOPEN,
            "tray Open → chat list painted, p95",
            split.reopen.percentile(95.0),
            "ms",
        )
        .baseline("one process", single.reopen.percentile(95.0))
        .goal(Goal::AtMost(800.0))
        .note("painted: the first chat's avatar drawn in the window, read from the X server"),
        stage_figure(&split, &single, CREATED),
        stage_figure(&split, &single, LOADED),
        Figure::new(
            REOPEN,
            "page: navigation start → first chat painted, p50",
            split.painted.median(),
            "ms",
        )
        .baseline("one process", single.painted.median())
        .goal(Goal::AtMost(120.0))
        .note(format!(
            "the page's own `performance` times, reported once per window; DOMContentLoaded \
             p50 {} (one process {})",
            num(split.dom.median()),
            num(single.dom.median())
        )),
        Figure::new(
            REOPEN,
            "page: navigation start → first chat painted, p95",
            split.painted.percentile(95.0),
            "ms",
        )
        .baseline("one process", single.painted.percentile(95.0)),
    ])
}
