//! Who is waiting for the agent to open their chat, where the desktop shows it outside the
//! page: the tray menu's first line ("3 waiting · longest 7 min"), the tray's alert mark while
//! some wait is urgent, and the window's title ("Chatbell — 3 waiting").
//!
//! The engine tells when who waits changes (`EngineEvent::Waiting`), not as time passes. One
//! task owns the display: it redraws on each change and, only while someone waits, sleeps until
//! the next moment the line's "longest 7 min" would read differently. Nobody waiting, no timer.

use std::time::{Duration, Instant};

use chatbell_engine::clock::{SystemClock, sleep_or_pending};
use chatbell_engine::i18n::{Lang, away_line, waiting_line, window_title};
use chatbell_engine::model::WaitingSummary;
use chatbell_engine::settings::forward::{ForwardTarget, What};
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

use crate::resident::Resident;
use crate::tray::Menu;

/// Starts the display task (after the shell's tray exists, so its first drawing lands).
pub(crate) fn start(resident: &Resident) {
    let changes = resident.0.waiting.subscribe();
    resident.spawn(run(resident.clone(), changes));
}

/// A new summary from the engine: shown at once, and the minute timer set for it.
pub(crate) fn show(resident: &Resident, summary: WaitingSummary) {
    resident.0.waiting.send_replace(summary);
}

/// The tray menu's words as they read now.
pub(crate) fn menu_now(resident: &Resident) -> Menu {
    let summary = resident.0.waiting.borrow().clone();
    menu(resident, &summary, lang(resident))
}

fn lang(resident: &Resident) -> Lang {
    Lang::of(resident.settings().ui.language)
}

/// The menu's words in `lang`: who waits first (or, while the agent is away, where reminders
/// go), then the settings' do-not-disturb.
fn menu(resident: &Resident, summary: &WaitingSummary, lang: Lang) -> Menu {
    let settings = resident.settings();
    let dnd = settings.notifications.do_not_disturb;
    let away = resident.session().is_ok_and(|s| *s.engine.away().borrow());
    let line = match forwarding_to(&settings.notifications.forward) {
        Some(targets) if away => away_line(&targets, lang),
        _ => tray_line(summary, Utc::now(), lang),
    };
    Menu::new(line, dnd, lang)
}

/// The targets that take the agent's reminders while away, by name: "phone, pager".
pub fn forwarding_to(targets: &[ForwardTarget]) -> Option<String> {
    let names: Vec<&str> = targets
        .iter()
        .filter(|t| {
            !t.lead
                && t.kinds
                    .iter()
                    .any(|k| matches!(k, What::Reminder | What::Urgent))
        })
        .map(|t| t.id.as_str())
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// The tray's first line and alert mark, and its menu's words in the settings' language.
fn draw(resident: &Resident, summary: &WaitingSummary, lang: Lang) {
    resident.relabel_tray(menu(resident, summary, lang));
    resident.change_tray(|look| look.alert = summary.urgent > 0);
}

async fn run(resident: Resident, mut changes: watch::Receiver<WaitingSummary>) {
    // A change of settings may be one of language or do-not-disturb: the words are drawn again.
    let mut settings = resident.settings_owner().subscribe();
    loop {
        // The running engine's word on whether the agent is away (a new session, a new one).
        let mut away = resident.session().ok().map(|s| s.engine.away());
        let summary = changes.borrow_and_update().clone();
        let lang = lang(&resident);
        draw(&resident, &summary, lang);
        resident.set_title(&window_title(summary.chats, lang));
        // While someone waits: redraw the line when its wait next reads differently.
        loop {
            let next = summary
                .longest_since
                .filter(|_| summary.chats > 0)
                .map(|since| until_next_change(since, Utc::now()));
            tokio::select! {
                changed = changes.changed() => match changed {
                    Ok(()) => break,
                    Err(_) => return,
                },
                changed = settings.changed() => match changed {
                    Ok(()) => {
                        settings.borrow_and_update();
                        break;
                    }
                    Err(_) => return,
                },
                _ = async {
                    match away.as_mut() {
                        // Ended with its engine: the next session's is taken on redrawing.
                        Some(watch) => {
                            if watch.changed().await.is_err() {
                                std::future::pending::<()>().await;
                            }
                        }
                        None => std::future::pending().await,
                    }
                } => break,
                _ = sleep_or_pending(&SystemClock, next.map(|d| Instant::now() + d)) => {
                    draw(&resident, &summary, lang)
                }
            }
        }
    }
}

/// The tray menu's first line: "3 waiting · longest 7 min", or "Nobody waiting".
pub fn tray_line(summary: &WaitingSummary, now: DateTime<Utc>, lang: Lang) -> String {
    let longest = summary
        .longest_since
        .map(|since| (now - since).to_std().unwrap_or_default());
    waiting_line(summary.chats, longest, lang)
}

/// Time until a wait that began at `since` next reads differently: the next whole minute of
/// waiting, or the next whole hour once it is counted in days.
pub fn until_next_change(since: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let waited = (now - since).max(TimeDelta::zero());
    let step = if waited < TimeDelta::days(1) {
        TimeDelta::minutes(1)
    } else {
        TimeDelta::hours(1)
    };
    let step_ms = step.num_milliseconds();
    let next = (waited.num_milliseconds() / step_ms + 1) * step_ms;
    Duration::from_millis((next - waited.num_milliseconds()) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatbell_engine::i18n::wait_text;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn the_tray_line_says_how_many_wait_and_the_longest_wait() {
        let now = at(10_000);
        let summary = |chats, since: Option<i64>, urgent| WaitingSummary {
            chats,
            longest_since: since.map(|s| at(10_000 - s)),
            urgent,
            snoozed: 0,
        };
        let cases = [
            (summary(0, None, 0), "Nobody waiting", "Никто не ждёт"),
            (
                summary(1, Some(20), 0),
                "1 waiting · longest <1 min",
                "Ждут: 1 · дольше всех <1 мин",
            ),
            (
                summary(3, Some(7 * 60 + 5), 0),
                "3 waiting · longest 7 min",
                "Ждут: 3 · дольше всех 7 мин",
            ),
            (
                summary(12, Some(65 * 60), 2),
                "12 waiting · longest 1 h 5 min",
                "Ждут: 12 · дольше всех 1 ч 5 мин",
            ),
            (summary(2, None, 0), "2 waiting", "Ждут: 2"),
        ];
        for (s, en, ru) in cases {
            assert_eq!(tray_line(&s, now, Lang::En), en);
            assert_eq!(tray_line(&s, now, Lang::Ru), ru);
        }
    }

    #[test]
    fn the_window_title_carries_the_count() {
        let cases = [
            (0, "Chatbell", "Chatbell"),
            (1, "Chatbell — 1 waiting", "Chatbell — ждут: 1"),
            (3, "Chatbell — 3 waiting", "Chatbell — ждут: 3"),
        ];
        for (n, en, ru) in cases {
            assert_eq!(window_title(n, Lang::En), en);
            assert_eq!(window_title(n, Lang::Ru), ru);
        }
    }

    #[test]
    fn the_line_is_redrawn_at_the_next_boundary_of_the_longest_wait() {
        let since = at(0);
        let ms = |n| Duration::from_millis(n);
        let cases = [
            (at(0), ms(60_000)),
            (at(0) + TimeDelta::milliseconds(1), ms(59_999)),
            (at(59), ms(1_000)),
            (at(60), ms(60_000)),
            (at(7 * 60 + 20), ms(40_000)),
            // Clock skew: a wait that seems to start in the future reads "<1 min" until then.
            (at(-30), ms(60_000)),
            // Counted in days, the words change each hour.
            (at(24 * 3600), ms(3_600_000)),
            (at(24 * 3600 + 59 * 60), ms(60_000)),
        ];
        for (now, want) in cases {
            assert_eq!(until_next_change(since, now), want, "at {now}");
        }
    }

    #[test]
    fn after_the_sleep_the_line_reads_differently() {
        let since = at(0);
        for start in [0, 1, 59, 61, 3_599, 86_399, 86_400, 90_000] {
            let now = at(start);
            let wake = now + TimeDelta::from_std(until_next_change(since, now)).unwrap();
            let waited = |t: DateTime<Utc>| (t - since).to_std().unwrap();
            let before = wait_text(waited(now), Lang::En);
            let after = wait_text(waited(wake), Lang::En);
            assert_ne!(before, after, "from {start} s");
            // And not a moment earlier.
            let early = wake - TimeDelta::milliseconds(1);
            assert_eq!(wait_text(waited(early), Lang::En), before, "from {start} s");
        }
    }
}
