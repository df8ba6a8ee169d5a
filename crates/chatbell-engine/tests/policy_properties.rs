//! The notification policy over generated settings, chats, focus and times: every decision is
//! made (no panic, whatever the input), it is the first rule of `policy.rs`'s order that
//! applies, the obvious laws hold, and a hold ends exactly when it says. The table tests in
//! `policy.rs` pin the particular cases.
//!
//! Sound follows from these: only an allowed notification reaches the coalescer (which alone
//! plays its sound) and only a reminder nothing holds is shown, so "a muted chat never sounds"
//! is "a muted chat is never allowed and always held".

use chatbell_engine::model::{Focus, NotifyKind, Outcome, SuppressReason};
use chatbell_engine::policy::{About, ChatHolds, decide, hold, hold_all};
use chatbell_engine::settings::{NotificationSettings, QuietHours};
use chatbell_protocol::UserId;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use proptest::prelude::*;

use SuppressReason::*;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

const DAY: TimeDelta = TimeDelta::days(1);

/// A moment a clock can give (1970 to 9999), to the nanosecond.
fn clock_time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..=253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).expect("in range"))
}

/// Any moment chrono can hold, its ends included.
fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    prop_oneof![
        Just(min),
        Just(max),
        (0i64..=172_800).prop_map(move |s| min + TimeDelta::seconds(s)),
        (0i64..=172_800).prop_map(move |s| max - TimeDelta::seconds(s)),
        (min.timestamp()..=max.timestamp())
            .prop_map(|secs| DateTime::from_timestamp(secs, 0).expect("in range")),
    ]
}

/// A time of day as a clock shows it: often on the minute, like the settings' "22:00".
fn time_of_day() -> impl Strategy<Value = NaiveTime> {
    prop_oneof![
        (0u32..1440).prop_map(|m| NaiveTime::from_hms_opt(m / 60, m % 60, 0).expect("valid")),
        (0u32..86_400, 0u32..1_000_000_000).prop_map(|(s, n)| {
            NaiveTime::from_num_seconds_from_midnight_opt(s, n).expect("valid")
        }),
    ]
}

/// Any time of day chrono can hold, including a leap second (`23:59:60.5`).
fn any_time_of_day() -> impl Strategy<Value = NaiveTime> {
    prop_oneof![
        3 => time_of_day(),
        1 => (0u32..1440, 1_000_000_000u32..2_000_000_000).prop_map(|(m, n)| {
            NaiveTime::from_hms_nano_opt(m / 60, m % 60, 59, n).expect("a leap second")
        }),
    ]
}

/// Quiet hours of every shape: within a day, spanning midnight, empty (start = end), and
/// around the edges of the day.
fn quiet_hours(time: BoxedStrategy<NaiveTime>) -> impl Strategy<Value = QuietHours> {
    let edge = prop::sample::select(vec!["00:00", "00:01", "08:00", "12:00", "22:00", "23:59"])
        .prop_map(|s| NaiveTime::parse_from_str(s, "%H:%M").expect("valid"));
    let point = prop_oneof![time, edge.boxed()];
    prop_oneof![
        3 => (point.clone(), point.clone()).prop_map(|(start, end)| QuietHours { start, end }),
        1 => point.prop_map(|t| QuietHours { start: t, end: t }),
    ]
}

/// An offset from now for an end time (a mute's, a snooze's): just past, exactly now, just
/// ahead, or minutes to hours either way.
fn offset() -> impl Strategy<Value = TimeDelta> {
    prop_oneof![
        Just(TimeDelta::zero()),
        (-1i64..=1).prop_map(TimeDelta::nanoseconds),
        (-7_200i64..=7_200).prop_map(TimeDelta::seconds),
    ]
}

/// Everything one decision depends on.
#[derive(Debug, Clone)]
struct Case {
    kind: NotifyKind,
    user: UserId,
    duplicate: bool,
    snoozed_until: Option<DateTime<Utc>>,
    enabled: bool,
    dnd: bool,
    quiet: Option<QuietHours>,
    allow_new_chats: bool,
    mutes: Vec<(UserId, Option<DateTime<Utc>>)>,
    focus: Focus,
    now: DateTime<Utc>,
    local: NaiveTime,
}

impl Case {
    fn settings(&self) -> NotificationSettings {
        NotificationSettings {
            enabled: self.enabled,
            do_not_disturb: self.dnd,
            quiet_hours: self.quiet,
            quiet_hours_allow_new_chats: self.allow_new_chats,
            mutes: self.mutes.iter().copied().collect(),
            ..NotificationSettings::default()
        }
    }

    fn about(&self) -> About {
        About {
            user_id: self.user,
            duplicate: self.duplicate,
            holds: ChatHolds::of(self.user, self.snoozed_until, &self.settings()),
        }
    }

    fn new_chat(&self) -> bool {
        self.kind == NotifyKind::NewChat
    }

    fn decide(&self) -> Outcome {
        decide(
            self.kind,
            self.about(),
            &self.settings(),
            self.focus,
            self.now,
            self.local,
        )
    }

    fn hold(&self) -> Option<(SuppressReason, Option<DateTime<Utc>>)> {
        let settings = self.settings();
        hold(
            self.new_chat(),
            ChatHolds::of(self.user, self.snoozed_until, &settings),
            &settings,
            self.now,
            self.local,
        )
    }

    /// The mute on this chat, if one is on now.
    fn mute(&self) -> Option<Option<DateTime<Utc>>> {
        self.settings()
            .mutes
            .get(&self.user)
            .copied()
            .filter(|until| until.is_none_or(|t| t > self.now))
    }

    fn in_quiet_hours(&self) -> bool {
        self.quiet.is_some_and(|q| q.contains(self.local))
    }

    /// The rules in the order `decide` documents ("the order a user would look for the
    /// reason"), each stated on its own; the first that applies is the answer.
    fn rules(&self) -> Vec<SuppressReason> {
        let applies = [
            (Duplicate, self.duplicate),
            (NotificationsOff, !self.enabled),
            (
                ChatOpenAndFocused,
                self.focus.window_focused && self.focus.open_chat == Some(self.user),
            ),
            (Muted, self.mute().is_some()),
            (Snoozed, self.snoozed_until.is_some_and(|t| t > self.now)),
            (DoNotDisturb, self.dnd),
            (
                QuietHours,
                self.in_quiet_hours() && !(self.new_chat() && self.allow_new_chats),
            ),
        ];
        applies
            .into_iter()
            .filter(|(_, applies)| *applies)
            .map(|(reason, _)| reason)
            .collect()
    }
}

fn case(
    now: BoxedStrategy<DateTime<Utc>>,
    local: BoxedStrategy<NaiveTime>,
) -> impl Strategy<Value = Case> {
    let user = 1i64..=4;
    let mutes = prop::collection::vec((user.clone(), prop::option::of(offset())), 0..3);
    let focus =
        (any::<bool>(), prop::option::of(user.clone())).prop_map(|(window_focused, open_chat)| {
            Focus {
                window_focused,
                open_chat,
            }
        });
    (
        (
            prop_oneof![Just(NotifyKind::NewChat), Just(NotifyKind::NewMessage)],
            user,
            prop::bool::weighted(0.15),
            prop::option::of(offset()),
        ),
        (
            prop::bool::weighted(0.85),
            prop::bool::weighted(0.2),
            prop::option::weighted(0.6, quiet_hours(local.clone().boxed())),
            any::<bool>(),
        ),
        (mutes, focus, now, local),
    )
        .prop_map(
            |(
                (kind, user, duplicate, snoozed),
                (enabled, dnd, quiet, allow_new_chats),
                (mutes, focus, now, local),
            )| {
                // Ends are times of their own, `now` plus the offset where chrono can hold it.
                let at = |d: TimeDelta| now.checked_add_signed(d).unwrap_or(now);
                Case {
                    kind,
                    user,
                    duplicate,
                    snoozed_until: snoozed.map(at),
                    enabled,
                    dnd,
                    quiet,
                    allow_new_chats,
                    mutes: mutes
                        .into_iter()
                        .map(|(user, until)| (user, until.map(at)))
                        .collect(),
                    focus,
                    now,
                    local,
                }
            },
        )
}

fn clock_case() -> impl Strategy<Value = Case> {
    case(clock_time().boxed(), time_of_day().boxed())
}

/// A time of day `d` later, round the clock.
fn later(local: NaiveTime, d: TimeDelta) -> NaiveTime {
    local.overflowing_add_signed(d).0
}

proptest! {
    #![proptest_config(config())]

    /// The decision is the first rule, in the documented order, that applies; none applies:
    /// allowed.
    #[test]
    fn decide_names_the_first_rule_that_applies(c in clock_case()) {
        let want = match c.rules().first() {
            Some(&reason) => Outcome::Suppressed { reason },
            None => Outcome::Allowed,
        };
        prop_assert_eq!(c.decide(), want, "rules that apply: {:?}", c.rules());
    }

    /// The laws a user relies on, each on its own.
    #[test]
    fn the_obvious_laws_hold(c in clock_case()) {
        let decision = c.decide();
        let held = c.hold();
        if c.dnd {
            prop_assert_ne!(&decision, &Outcome::Allowed, "do-not-disturb shows");
            prop_assert!(held.is_some(), "do-not-disturb lets a reminder through");
        }
        if !c.enabled {
            prop_assert_ne!(&decision, &Outcome::Allowed, "notifications off, shown");
            prop_assert_eq!(held.map(|h| h.0), Some(NotificationsOff));
        }
        if c.mute().is_some() {
            prop_assert_ne!(&decision, &Outcome::Allowed, "a muted chat notifies");
            prop_assert!(held.is_some(), "a muted chat is reminded of");
        }
        if c.snoozed_until.is_some_and(|t| t > c.now) {
            prop_assert_ne!(&decision, &Outcome::Allowed, "a snoozed chat notifies");
            prop_assert!(held.is_some(), "a snoozed chat is reminded of");
        }
        if c.focus.is_watching(c.user) || c.duplicate {
            prop_assert_ne!(&decision, &Outcome::Allowed, "watched or duplicate, shown");
        }
        if c.in_quiet_hours() && !(c.new_chat() && c.allow_new_chats) {
            prop_assert_ne!(&decision, &Outcome::Allowed, "shown in quiet hours");
        }
        if c.quiet.is_some_and(|q| q.start == q.end) {
            prop_assert!(!c.in_quiet_hours(), "empty quiet hours hold");
        }
        if c.duplicate {
            prop_assert_eq!(&decision, &Outcome::Suppressed { reason: Duplicate });
        }
        // Nothing in the way: shown, and reminded.
        if c.rules().is_empty() {
            prop_assert_eq!(&decision, &Outcome::Allowed);
        }
        if c.enabled
            && !c.dnd
            && c.mute().is_none()
            && c.snoozed_until.is_none_or(|t| t <= c.now)
            && !c.in_quiet_hours()
        {
            prop_assert_eq!(held, None, "held for no reason");
        }
    }

    /// `decide` and the reminders' `hold` follow one set of rules: for a message that is new
    /// and not being watched, they give the same reason; and what holds every chat
    /// (`hold_all`) holds this one.
    #[test]
    fn decide_and_hold_agree(c in clock_case()) {
        let held = c.hold();
        if !c.duplicate && !c.focus.is_watching(c.user) {
            let want = match held {
                Some((reason, _)) => Outcome::Suppressed { reason },
                None => Outcome::Allowed,
            };
            prop_assert_eq!(c.decide(), want);
        }
        let all = hold_all(c.new_chat(), &c.settings(), c.now, c.local);
        if let Some((reason, until)) = all {
            prop_assert!(held.is_some(), "{:?} holds all chats but not this one", reason);
            let (mine, my_until) = held.expect("checked");
            if !matches!(mine, NotificationsOff | Muted | Snoozed) {
                prop_assert_eq!((mine, my_until), (reason, until));
            }
        }
    }

    /// A hold says until when, and means it: a time ahead; the mute's or the snooze's own end;
    /// for quiet hours, their end within a day. At that moment the reason no longer holds, a
    /// nanosecond before it still does. Open-ended holds are the ones a user must lift.
    #[test]
    fn a_hold_ends_when_it_says(c in clock_case()) {
        let Some((reason, until)) = c.hold() else { return Ok(()) };
        let Some(until) = until else {
            prop_assert!(
                matches!(reason, NotificationsOff | DoNotDisturb)
                    || (reason == Muted && c.mute() == Some(None)),
                "{:?} held without an end", reason
            );
            return Ok(());
        };
        prop_assert!(until > c.now, "{:?} until {} is not ahead of {}", reason, until, c.now);
        match reason {
            Muted => prop_assert_eq!(c.mute(), Some(Some(until))),
            Snoozed => prop_assert_eq!(c.snoozed_until, Some(until)),
            QuietHours => {
                let quiet = c.quiet.expect("quiet hours set");
                prop_assert!(until - c.now <= DAY);
                prop_assert_eq!(later(c.local, until - c.now), quiet.end, "not the end of quiet hours");
            }
            other => prop_assert!(false, "{:?} with an end", other),
        }
        let left = until - c.now;
        let at_end = Case { now: until, local: later(c.local, left), ..c.clone() };
        prop_assert_ne!(at_end.hold().map(|h| h.0), Some(reason), "still held at its end");
        let nearly = TimeDelta::nanoseconds(1);
        let before_end = Case {
            now: until - nearly,
            local: later(c.local, left - nearly),
            ..c.clone()
        };
        prop_assert_eq!(before_end.hold().map(|h| h.0), Some(reason), "let go before its end");
    }

    /// Quiet hours are the half-open stretch from start to end, round midnight when the start
    /// is later; start = end is no quiet hours at all.
    #[test]
    fn quiet_hours_are_a_stretch_of_the_clock(
        quiet in quiet_hours(time_of_day().boxed()),
        t in time_of_day(),
        edge in 0..4,
    ) {
        // Their own start and end often: the edges are where a stretch is wrong.
        let t = match edge {
            0 => quiet.start,
            1 => quiet.end,
            _ => t,
        };
        let since = |a: NaiveTime, b: NaiveTime| {
            let d = b.signed_duration_since(a);
            if d < TimeDelta::zero() { d + DAY } else { d }
        };
        let want = since(quiet.start, t) < since(quiet.start, quiet.end);
        prop_assert_eq!(quiet.contains(t), want);
        if quiet.start == quiet.end {
            prop_assert!(!quiet.contains(t));
        }
    }

    /// Total: any time chrono can hold, any time of day (a leap second too), any settings: a
    /// decision, never a panic.
    #[test]
    fn deciding_never_panics(c in case(any_time().boxed(), any_time_of_day().boxed())) {
        let _ = c.decide();
        let _ = c.hold();
        let _ = hold_all(c.new_chat(), &c.settings(), c.now, c.local);
    }
}
