//! Which reminder is due when. Pure: the wait and the settings are arguments, so every step is
//! a row in a table test. What holds a reminder back is the policy's (`policy::hold`).
//!
//! A ladder's steps, as waits since the customer started waiting: the first re-alert after
//! `realert_after_min`, then one every `every_min` until `urgent_after_min`; the urgent step
//! exactly then, and every `every_min` after it (all urgent). Step 0, the first notification,
//! is the policy's and the coalescer's; the ladder starts at step 1.

use std::time::Duration;

use crate::model::AlertLevel;
use crate::settings::Ladder;

/// One step of a ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// 1 for the first re-alert.
    pub index: u32,
    /// The wait at which it is due.
    pub at: Duration,
    pub level: AlertLevel,
}

fn minutes(m: u32) -> u64 {
    u64::from(m.max(1)) * 60
}

/// Steps before the urgent one (they are not urgent); `u32::MAX` without an urgent step.
fn before_urgent(ladder: &Ladder) -> u32 {
    let (first, every) = (minutes(ladder.realert_after_min), minutes(ladder.every_min));
    match ladder.urgent_after_min.map(minutes) {
        None => u32::MAX,
        Some(urgent) if urgent <= first => 0,
        Some(urgent) => (urgent - first).div_ceil(every).min(u64::from(u32::MAX)) as u32,
    }
}

/// Step `index` (from 1) of a ladder.
pub fn step(ladder: &Ladder, index: u32) -> Step {
    let index = index.max(1);
    let every = minutes(ladder.every_min);
    let pre = before_urgent(ladder);
    let (secs, level) = if index <= pre {
        let n = u64::from(index - 1);
        (
            minutes(ladder.realert_after_min).saturating_add(n.saturating_mul(every)),
            AlertLevel::ReAlert,
        )
    } else {
        let urgent = ladder.urgent_after_min.map(minutes).unwrap_or(u64::MAX);
        let n = u64::from(index - 1 - pre);
        (
            urgent.saturating_add(n.saturating_mul(every)),
            AlertLevel::Urgent,
        )
    };
    Step {
        index,
        at: Duration::from_secs(secs),
        level,
    }
}

/// How many steps are due after `waited`.
fn steps_due(ladder: &Ladder, waited: Duration) -> u32 {
    let w = waited.as_secs();
    let (first, every) = (minutes(ladder.realert_after_min), minutes(ladder.every_min));
    let pre = before_urgent(ladder);
    let early = if w < first {
        0
    } else {
        ((w - first) / every + 1).min(u64::from(pre)) as u32
    };
    let late = match ladder.urgent_after_min.map(minutes) {
        Some(urgent) if w >= urgent => ((w - urgent) / every + 1).min(u64::from(u32::MAX)) as u32,
        _ => 0,
    };
    early.saturating_add(late)
}

/// The step to show now, if one is due that has not been shown: the latest one due. Steps
/// missed (the computer slept, a hold ended) are not shown one after another; the latest one
/// says how long the customer has waited.
pub fn due(ladder: &Ladder, waited: Duration, fired: u32) -> Option<Step> {
    let n = steps_due(ladder, waited);
    (n > fired).then(|| step(ladder, n))
}

/// The step after `fired`: when the next reminder comes.
pub fn next(ladder: &Ladder, fired: u32) -> Step {
    step(ladder, fired.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertLevel::*;

    fn min(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    fn ladder(first: u32, every: u32, urgent: Option<u32>) -> Ladder {
        Ladder {
            realert_after_min: first,
            every_min: every,
            urgent_after_min: urgent,
        }
    }

    #[test]
    fn the_steps_of_the_default_ladders() {
        // New chat: 2, 4, 6, 8, then urgent at 10, 12, …
        let chat = Ladder::NEW_CHAT;
        let want = [
            (1, 2, ReAlert),
            (2, 4, ReAlert),
            (3, 6, ReAlert),
            (4, 8, ReAlert),
            (5, 10, Urgent),
            (6, 12, Urgent),
            (7, 14, Urgent),
        ];
        for (index, at, level) in want {
            assert_eq!(
                step(&chat, index),
                Step {
                    index,
                    at: min(at),
                    level
                },
                "step {index}"
            );
        }
        // Message: 5, 7, 9, then urgent at 10 (not 11: urgent comes when it is due), 12, …
        let msg = Ladder::NEW_MESSAGE;
        let want = [
            (1, 5, ReAlert),
            (2, 7, ReAlert),
            (3, 9, ReAlert),
            (4, 10, Urgent),
            (5, 12, Urgent),
        ];
        for (index, at, level) in want {
            assert_eq!(
                step(&msg, index),
                Step {
                    index,
                    at: min(at),
                    level
                },
                "step {index}"
            );
        }
    }

    #[test]
    // A table of cases: each row spells out its inputs and the expected outcome.
    #[allow(clippy::type_complexity)]
    fn what_is_due_after_a_wait() {
        let chat = Ladder::NEW_CHAT;
        let never_urgent = ladder(3, 5, None);
        let urgent_first = ladder(10, 2, Some(4));
        let on_grid = ladder(2, 4, Some(10));
        let cases: Vec<(
            &str,
            &Ladder,
            Duration,
            u32,
            Option<(u32, Duration, AlertLevel)>,
        )> = vec![
            (
                "nothing before the first",
                &chat,
                Duration::from_secs(119),
                0,
                None,
            ),
            (
                "first re-alert on the minute",
                &chat,
                min(2),
                0,
                Some((1, min(2), ReAlert)),
            ),
            ("not again", &chat, Duration::from_secs(239), 1, None),
            ("second", &chat, min(4), 1, Some((2, min(4), ReAlert))),
            (
                "urgent at 10",
                &chat,
                min(10),
                4,
                Some((5, min(10), Urgent)),
            ),
            (
                "urgent keeps coming",
                &chat,
                min(12),
                5,
                Some((6, min(12), Urgent)),
            ),
            (
                "missed steps: only the latest",
                &chat,
                min(11),
                1,
                Some((5, min(10), Urgent)),
            ),
            (
                "after a long sleep",
                &chat,
                min(600),
                0,
                Some((300, min(600), Urgent)),
            ),
            (
                "never urgent",
                &never_urgent,
                min(13),
                2,
                Some((3, min(13), ReAlert)),
            ),
            (
                "never urgent, late",
                &never_urgent,
                min(1000),
                0,
                Some((200, min(998), ReAlert)),
            ),
            (
                "urgent before the first re-alert",
                &urgent_first,
                min(4),
                0,
                Some((1, min(4), Urgent)),
            ),
            (
                "then every 2",
                &urgent_first,
                min(6),
                1,
                Some((2, min(6), Urgent)),
            ),
            (
                "urgent on the grid",
                &on_grid,
                min(10),
                2,
                Some((3, min(10), Urgent)),
            ),
            (
                "grid before it",
                &on_grid,
                min(6),
                1,
                Some((2, min(6), ReAlert)),
            ),
        ];
        for (name, ladder, waited, fired, want) in cases {
            let got = due(ladder, waited, fired).map(|s| (s.index, s.at, s.level));
            assert_eq!(got, want, "{name}");
            if let Some((index, ..)) = want {
                assert_eq!(next(ladder, fired).index, fired + 1, "{name}");
                assert!(step(ladder, index).at <= waited, "{name}");
                assert!(
                    step(ladder, index + 1).at > waited,
                    "{name}: the latest due"
                );
            }
        }
    }

    #[test]
    fn the_largest_settings_do_not_overflow() {
        let huge = ladder(1440, 1440, Some(1440));
        assert_eq!(
            due(&huge, Duration::from_secs(u64::MAX / 2), 0)
                .unwrap()
                .level,
            Urgent
        );
        let tiny = ladder(1, 1, None);
        assert_eq!(step(&tiny, u32::MAX).level, ReAlert);
        assert!(due(&tiny, Duration::from_secs(u64::MAX), 0).is_some());
    }
}
