//! What the reminders' task does at a moment: which waiting chats get a reminder, which are
//! held (recorded once), and when to look again. Pure: the chats, the settings and the time
//! are arguments, so every rule is a row in a table test, as for the ladder.
//!
//! Times here are on the task's steady timeline (`clock::Steady`): a wait's start and a
//! snooze's or mute's end are placed on it when first seen, so a wall clock stepped back does
//! not stretch a wait, and one stepped forward (a suspend) counts.

use std::collections::BTreeMap;
use std::time::Duration;

use chatbell_protocol::UserId;
use chrono::{DateTime, NaiveTime, Utc};

use super::ladder::{self, Step};
use crate::model::{
    Alert, AlertLevel, Decision, Escalation, NotifyKind, Outcome, SuppressReason, WaitingSummary,
};
use crate::policy::{ChatHolds, Mutes};
use crate::settings::NotificationSettings;
use crate::store::WaitingChat;

/// Chats whose next reminder falls this close after one being shown now are reminded in the
/// same notification: a few chats arriving together become one digest, not a stack.
pub const GROUP_WITHIN: Duration = Duration::from_secs(30);

/// What holds a chat's reminders, as far as the task has recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Nothing holds them.
    Free,
    /// Something holds them, but no step has come due while it did.
    Held,
    /// A step came due while held: written down once, with when the hold ends (`None`: when
    /// something changes), not again at every step.
    Recorded {
        reason: SuppressReason,
        until: Option<DateTime<Utc>>,
    },
}

/// One waiting chat and what it has been shown.
#[derive(Debug, Clone)]
pub struct Track {
    pub chat: WaitingChat,
    /// When its wait began, on the steady timeline.
    pub since: DateTime<Utc>,
    /// The last step shown (0: only the first notification).
    pub fired: u32,
    pub hold: Hold,
    pub level: Option<AlertLevel>,
    /// The agent snoozed it until then (steady): a reminder comes when the snooze ends,
    /// whatever the ladder's next step.
    pub snooze_ends: Option<DateTime<Utc>>,
}

impl Track {
    /// A chat first seen waiting, its times placed on the steady timeline: the wait's start
    /// with `place_past` (never after now), the snooze's end with `place`.
    pub fn new(
        chat: WaitingChat,
        place_past: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
        place: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
    ) -> Self {
        Track {
            since: place_past(chat.since),
            snooze_ends: chat.snoozed_until.map(&place),
            chat,
            fired: 0,
            hold: Hold::Free,
            level: None,
        }
    }

    /// The store read the chat again, still in the same wait (the same `since`; a new wait
    /// is a new track).
    pub fn refreshed(
        mut self,
        chat: WaitingChat,
        place: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
    ) -> Self {
        if self.chat.snoozed_until != chat.snoozed_until {
            self.hold = Hold::Free;
            self.snooze_ends = chat.snoozed_until.map(&place);
        }
        self.chat = chat;
        self
    }

    fn holds(&self, mutes: &Mutes) -> ChatHolds {
        ChatHolds {
            muted: mutes.get(self.chat.user_id),
            snoozed_until: self.snooze_ends,
        }
    }
}

/// What to do now.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Every reminder shown or hold recorded, for the diagnostics.
    pub decisions: Vec<Decision>,
    /// The reminders to show, the longest wait first (a digest names them in that order).
    pub alerts: Vec<Alert>,
}

/// The reminders due at `now` (steady), and the holds to record. `mutes` are the settings'
/// mutes placed on the same timeline; `wall` stamps the decisions as the agent's clock reads
/// them; `local` is the local time of day, for quiet hours.
pub fn plan(
    tracks: &mut BTreeMap<UserId, Track>,
    settings: &NotificationSettings,
    mutes: &Mutes,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
    local: NaiveTime,
) -> Plan {
    let mut out = Plan::default();
    if !settings.escalation.enabled {
        return out;
    }
    let mut due_now = Vec::new();
    let mut soon = Vec::new();
    for (id, track) in tracks.iter_mut() {
        let ladder = settings
            .escalation
            .ladder(track.chat.new_chat, track.chat.source.as_deref());
        let waited = (now - track.since).to_std().unwrap_or(Duration::ZERO);
        let hold = crate::policy::hold(
            track.chat.new_chat,
            track.holds(mutes),
            settings,
            now,
            local,
        );
        // A snooze that ended brings the chat back at once, with the step its wait is at.
        let snooze_over = track.snooze_ends.is_some_and(|t| t <= now) && hold.is_none();
        let fired = if snooze_over {
            track.snooze_ends = None;
            0
        } else {
            track.fired
        };
        match (ladder::due(&ladder, waited, fired), hold) {
            (Some(step), Some((reason, until))) => {
                let recorded =
                    matches!(track.hold, Hold::Recorded { reason: r, .. } if r == reason);
                if !recorded {
                    let outcome = Outcome::Suppressed { reason };
                    out.decisions
                        .push(decision(&track.chat, wall, step, waited, outcome));
                }
                track.hold = Hold::Recorded { reason, until };
            }
            (Some(step), None) => {
                track.hold = Hold::Free;
                due_now.push((*id, step, waited));
            }
            (None, Some(_)) => {
                if track.hold == Hold::Free {
                    track.hold = Hold::Held;
                }
            }
            (None, None) => {
                track.hold = Hold::Free;
                // Not due yet: a chat due soon may join a digest shown now.
                let next = ladder::next(&ladder, track.fired);
                soon.push((*id, next, next.at.saturating_sub(waited)));
            }
        }
    }
    if !due_now.is_empty() {
        for (id, next, left) in soon {
            if left <= GROUP_WITHIN {
                due_now.push((id, next, next.at));
            }
        }
    }
    for (id, step, waited) in due_now {
        let track = tracks.get_mut(&id).expect("listed");
        track.fired = step.index;
        track.level = Some(step.level);
        out.decisions
            .push(decision(&track.chat, wall, step, waited, Outcome::Allowed));
        out.alerts.push(Alert {
            user_id: id,
            name: track.chat.name.clone(),
            new_chat: track.chat.new_chat,
            waited,
            level: step.level,
            text: track.chat.text.clone(),
            file_path: track.chat.file_path.clone(),
            step: step.index,
            username: track.chat.username.clone(),
            source: track.chat.source.clone(),
        });
    }
    out.alerts
        .sort_by(|a, b| b.waited.cmp(&a.waited).then(a.user_id.cmp(&b.user_id)));
    out
}

fn decision(
    chat: &WaitingChat,
    at: DateTime<Utc>,
    step: Step,
    waited: Duration,
    outcome: Outcome,
) -> Decision {
    Decision {
        at,
        user_id: chat.user_id,
        kind: if chat.new_chat {
            NotifyKind::NewChat
        } else {
            NotifyKind::NewMessage
        },
        message_id: None,
        outcome,
        escalation: Some(Escalation {
            step: step.index,
            level: step.level,
            waited_secs: waited.as_secs(),
        }),
    }
}

/// How long until something is next due after `now` (steady): the earliest next step of a
/// chat not held, or the end of a hold that has one. `None` when nothing is (nobody waits,
/// reminders are off, or every waiting chat is held until a setting changes): then no timer
/// runs.
pub fn next_wake(
    tracks: &BTreeMap<UserId, Track>,
    settings: &NotificationSettings,
    now: DateTime<Utc>,
) -> Option<Duration> {
    if !settings.escalation.enabled {
        return None;
    }
    tracks
        .values()
        .filter_map(|t| {
            let step = match t.hold {
                Hold::Recorded { until, .. } => until,
                Hold::Free | Hold::Held => {
                    let ladder = settings
                        .escalation
                        .ladder(t.chat.new_chat, t.chat.source.as_deref());
                    let at = chrono::TimeDelta::from_std(ladder::next(&ladder, t.fired).at).ok();
                    at.and_then(|at| t.since.checked_add_signed(at))
                }
            };
            // A snooze end already past is handled, or held by something else.
            let snooze = t.snooze_ends.filter(|end| *end > now);
            match (step, snooze) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        // Whatever is due by now has been shown or held by the evaluation just done.
        .filter(|at| *at > now)
        .min()
        .map(|at| (at - now).to_std().unwrap_or(Duration::ZERO))
}

/// Who waits, for the tray and the window. `now` is steady; the chats' own wall times are
/// what the window measures waits from.
pub fn summarize(
    tracks: &BTreeMap<UserId, Track>,
    reminders: bool,
    now: DateTime<Utc>,
) -> WaitingSummary {
    let urgent = tracks
        .values()
        .filter(|t| reminders && t.level == Some(AlertLevel::Urgent) && t.hold == Hold::Free)
        .count();
    WaitingSummary {
        chats: tracks.len() as u32,
        longest_since: tracks.values().map(|t| t.chat.since).min(),
        urgent: urgent as u32,
        snoozed: tracks
            .values()
            .filter(|t| t.snooze_ends.is_some_and(|until| until > now))
            .count() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::QuietHours;
    use chrono::{TimeDelta, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
    }

    fn at(min: i64) -> DateTime<Utc> {
        t0() + TimeDelta::minutes(min)
    }

    fn noon() -> NaiveTime {
        NaiveTime::from_hms_opt(12, 0, 0).unwrap()
    }

    fn chat(user_id: UserId, since_min: i64) -> WaitingChat {
        WaitingChat {
            user_id,
            name: format!("User {user_id}"),
            username: None,
            source: Some("telegram".into()),
            new_chat: true,
            since: at(since_min),
            snoozed_until: None,
            text: Some("hello".into()),
            file_path: None,
        }
    }

    /// The plan at minute `min`, wall and steady clocks alike, no mutes.
    fn plan_at(
        tracks: &mut BTreeMap<UserId, Track>,
        settings: &NotificationSettings,
        min: i64,
    ) -> Plan {
        plan(
            tracks,
            settings,
            &Mutes::default(),
            at(min),
            at(min),
            noon(),
        )
    }

    fn tracks(chats: Vec<WaitingChat>) -> BTreeMap<UserId, Track> {
        chats
            .into_iter()
            .map(|c| (c.user_id, Track::new(c, |t| t, |t| t)))
            .collect()
    }

    /// (user, step, level, shown) of a decision.
    type Row = (UserId, u32, AlertLevel, bool);

    fn steps(plan: &Plan) -> Vec<Row> {
        plan.decisions
            .iter()
            .map(|d| {
                let e = d.escalation.unwrap();
                (d.user_id, e.step, e.level, d.outcome == Outcome::Allowed)
            })
            .collect()
    }

    use AlertLevel::*;

    #[test]
    fn the_ladder_is_followed_and_missed_steps_show_as_the_latest() {
        // Defaults for new chats: 2 min, then every 2, urgent from 10.
        let settings = NotificationSettings::default();
        let cases: &[(&str, i64, u32, Vec<Row>)] = &[
            ("before the first step", 1, 0, vec![]),
            ("the first step", 2, 0, vec![(1, 1, ReAlert, true)]),
            ("already shown", 3, 1, vec![]),
            ("the second step", 4, 1, vec![(1, 2, ReAlert, true)]),
            ("urgent at ten", 10, 4, vec![(1, 5, Urgent, true)]),
            (
                "after a long sleep: only the latest",
                60,
                1,
                vec![(1, 30, Urgent, true)],
            ),
        ];
        for (name, now, fired, want) in cases {
            let mut tracks = tracks(vec![chat(1, 0)]);
            tracks.get_mut(&1).unwrap().fired = *fired;
            let plan = plan_at(&mut tracks, &settings, *now);
            assert_eq!(&steps(&plan), want, "{name}");
            assert_eq!(plan.alerts.len(), want.len(), "{name}");
        }
    }

    #[test]
    fn a_hold_is_recorded_once_and_its_end_is_the_next_wake() {
        let mut settings = NotificationSettings {
            quiet_hours: Some(QuietHours {
                start: NaiveTime::from_hms_opt(11, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
            }),
            quiet_hours_allow_new_chats: false,
            ..NotificationSettings::default()
        };
        let mut tracks = tracks(vec![chat(1, 0)]);
        let first = plan_at(&mut tracks, &settings, 2);
        assert_eq!(
            steps(&first),
            vec![(1, 1, ReAlert, false)],
            "held, recorded"
        );
        assert!(first.alerts.is_empty());
        let again = plan_at(&mut tracks, &settings, 4);
        assert!(again.decisions.is_empty(), "recorded once, not per step");
        // Quiet hours end at 13:00, an hour after noon on the local clock.
        assert_eq!(
            next_wake(&tracks, &settings, at(4)),
            Some(Duration::from_secs(3600))
        );
        settings.quiet_hours = None;
        let over = plan_at(&mut tracks, &settings, 5);
        assert_eq!(
            steps(&over),
            vec![(1, 2, ReAlert, true)],
            "the latest step at once"
        );
    }

    #[test]
    fn chats_due_together_become_one_plan_longest_first() {
        let settings = NotificationSettings::default();
        // User 2's first step falls 20 s after user 1's: within GROUP_WITHIN.
        let mut late = chat(2, 0);
        late.since = at(0) + TimeDelta::seconds(20);
        let mut tracks = tracks(vec![chat(1, 0), late, chat(3, 1)]);
        let plan = plan_at(&mut tracks, &settings, 2);
        let order: Vec<UserId> = plan.alerts.iter().map(|a| a.user_id).collect();
        assert_eq!(order, vec![1, 2], "3 is a minute away: not grouped");
    }

    #[test]
    fn a_snooze_holds_until_its_end_then_reminds_at_once() {
        let settings = NotificationSettings::default();
        let mut snoozed = chat(1, 0);
        snoozed.snoozed_until = Some(at(7));
        let mut tracks = tracks(vec![snoozed]);
        let held = plan_at(&mut tracks, &settings, 3);
        assert_eq!(steps(&held), vec![(1, 1, ReAlert, false)]);
        assert_eq!(
            next_wake(&tracks, &settings, at(3)),
            Some(Duration::from_secs(4 * 60))
        );
        let ended = plan_at(&mut tracks, &settings, 7);
        assert_eq!(steps(&ended), vec![(1, 3, ReAlert, true)]);
    }

    #[test]
    fn a_mute_is_held_until_its_placed_end() {
        let mut settings = NotificationSettings::default();
        // The mute ends at 12:05 on the wall clock; placed 2 h later on the steady timeline
        // (the wall clock was stepped back 2 h before it was seen).
        settings.mutes.insert(1, Some(at(5)));
        let mut mutes = Mutes::default();
        let two_hours = TimeDelta::hours(2);
        mutes.follow(&settings.mutes, |t| t + two_hours);
        let mut tracks = tracks(vec![chat(1, 0)]);
        let held = plan(&mut tracks, &settings, &mutes, at(6), at(6), noon());
        assert_eq!(steps(&held), vec![(1, 3, ReAlert, false)], "still muted");
        let over = plan(&mut tracks, &settings, &mutes, at(125), at(125), noon());
        assert_eq!(steps(&over).len(), 1);
        assert!(steps(&over)[0].3, "shown once its placed end passed");
        // Placed once: the same mute seen again is not placed anew.
        mutes.follow(&settings.mutes, |t| t + two_hours + two_hours);
        assert_eq!(mutes.get(1), Some(Some(at(125))));
    }

    #[test]
    fn nothing_is_scheduled_with_reminders_off_or_nobody_waiting() {
        let mut off = NotificationSettings::default();
        off.escalation.enabled = false;
        let mut some = tracks(vec![chat(1, 0)]);
        assert_eq!(plan_at(&mut some, &off, 30), Plan::default());
        assert_eq!(next_wake(&some, &off, at(30)), None);
        let on = NotificationSettings::default();
        assert_eq!(next_wake(&BTreeMap::new(), &on, at(30)), None);
    }
}
