//! Whether a new chat or message raises a notification, and what holds a waiting chat's
//! reminders back. Pure: everything it depends on is an argument, so every rule is a row in a
//! table test.

use std::collections::{BTreeMap, HashMap};

use chatbell_protocol::UserId;
use chrono::{DateTime, NaiveTime, Utc};

use crate::model::{Focus, NotifyKind, Outcome, SuppressReason};
use crate::settings::NotificationSettings;

/// What the policy needs to know of the chat a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct About {
    pub user_id: UserId,
    /// The same message was stored before.
    pub duplicate: bool,
    /// Its mute and snooze (a time past: it has ended), on the caller's timeline.
    pub holds: ChatHolds,
}

/// Only new chats and new messages ever reach this: typing, presence and read receipts never
/// notify. The first rule that applies wins, in the order a user would look for the reason.
pub fn decide(
    kind: NotifyKind,
    about: About,
    settings: &NotificationSettings,
    focus: Focus,
    now: DateTime<Utc>,
    local_time: NaiveTime,
) -> Outcome {
    use SuppressReason::*;
    let reason = if about.duplicate {
        Some(Duplicate)
    } else if !settings.enabled {
        Some(NotificationsOff)
    } else if focus.is_watching(about.user_id) {
        Some(ChatOpenAndFocused)
    } else {
        hold(
            kind == NotifyKind::NewChat,
            about.holds,
            settings,
            now,
            local_time,
        )
        .map(|(reason, _)| reason)
    };
    match reason {
        Some(reason) => Outcome::Suppressed { reason },
        None => Outcome::Allowed,
    }
}

/// What the agent put on one chat: a mute (until when; `Some(None)`: until unmuted) and a
/// snooze. Their times are on the caller's timeline: the wall clock for a decision made at once,
/// the reminders' steady one for a wait (`clock::Steady`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChatHolds {
    pub muted: Option<Option<DateTime<Utc>>>,
    pub snoozed_until: Option<DateTime<Utc>>,
}

impl ChatHolds {
    /// As the settings and the store say, in wall-clock time.
    pub fn of(
        user_id: UserId,
        snoozed_until: Option<DateTime<Utc>>,
        settings: &NotificationSettings,
    ) -> Self {
        ChatHolds {
            muted: settings.mutes.get(&user_id).copied(),
            snoozed_until,
        }
    }
}

/// The settings' mutes with their ends placed on a steady timeline (`clock::Steady`) when each
/// is first seen: a wall clock stepped back afterwards does not stretch a mute.
#[derive(Debug, Default)]
pub struct Mutes {
    placed: HashMap<UserId, Placed>,
}

/// A mute's end as the settings have it (wall clock; `None`: until unmuted), and placed.
#[derive(Debug, Clone, Copy)]
struct Placed {
    set: Option<DateTime<Utc>>,
    ends: Option<DateTime<Utc>>,
}

impl Mutes {
    /// Follows the settings' mutes: a new or changed end is placed with `place`, a mute gone
    /// is forgotten. Call it whenever the settings change, so each end is placed when seen.
    pub fn follow(
        &mut self,
        mutes: &BTreeMap<UserId, Option<DateTime<Utc>>>,
        place: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
    ) {
        self.placed.retain(|user, _| mutes.contains_key(user));
        for (user, until) in mutes {
            if self.placed.get(user).is_none_or(|p| p.set != *until) {
                let ends = until.map(&place);
                self.placed.insert(*user, Placed { set: *until, ends });
            }
        }
    }

    /// The chat's mute, its end placed (`Some(None)`: until unmuted).
    pub fn get(&self, user_id: UserId) -> Option<Option<DateTime<Utc>>> {
        self.placed.get(&user_id).map(|p| p.ends)
    }
}

/// What holds a notification or a waiting chat's reminders back right now, and until when
/// (`None`: until something changes, like do-not-disturb turned off). `new_chat`: a chat the
/// agent has never opened, which quiet hours may let through.
pub fn hold(
    new_chat: bool,
    chat: ChatHolds,
    settings: &NotificationSettings,
    now: DateTime<Utc>,
    local: NaiveTime,
) -> Option<(SuppressReason, Option<DateTime<Utc>>)> {
    use SuppressReason::*;
    if !settings.enabled {
        return Some((NotificationsOff, None));
    }
    if let Some(until) = chat.muted
        && until.is_none_or(|t| t > now)
    {
        return Some((Muted, until));
    }
    if let Some(until) = chat.snoozed_until.filter(|t| *t > now) {
        return Some((Snoozed, Some(until)));
    }
    hold_all(new_chat, settings, now, local)
}

/// What holds every alert, whatever it is about: notifications off, do-not-disturb, quiet
/// hours (which let a new chat through when so set); and until when, as in [`hold`].
pub fn hold_all(
    new_chat: bool,
    settings: &NotificationSettings,
    now: DateTime<Utc>,
    local: NaiveTime,
) -> Option<(SuppressReason, Option<DateTime<Utc>>)> {
    use SuppressReason::*;
    if !settings.enabled {
        return Some((NotificationsOff, None));
    }
    if settings.do_not_disturb {
        return Some((DoNotDisturb, None));
    }
    if let Some(quiet) = settings.quiet_hours
        && quiet.contains(local)
        && !(new_chat && settings.quiet_hours_allow_new_chats)
    {
        let left = quiet.end.signed_duration_since(local);
        let left = if left <= chrono::TimeDelta::zero() {
            left + chrono::TimeDelta::days(1)
        } else {
            left
        };
        // At the end of the calendar the end has no date: held, with no end to show.
        return Some((QuietHours, now.checked_add_signed(left)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::QuietHours;
    use NotifyKind::*;
    use SuppressReason::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    // A table of cases: each row spells out its inputs and the expected outcome.
    #[allow(clippy::type_complexity)]
    fn the_rules_in_order() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let base = NotificationSettings::default();
        let quiet = NotificationSettings {
            quiet_hours: Some(QuietHours {
                start: t("22:00"),
                end: t("08:00"),
            }),
            ..base.clone()
        };
        let quiet_strict = NotificationSettings {
            quiet_hours_allow_new_chats: false,
            ..quiet.clone()
        };
        let mut muted = base.clone();
        muted.mutes.insert(5, None);
        let mut mute_expired = base.clone();
        mute_expired
            .mutes
            .insert(5, Some(now - chrono::Duration::minutes(1)));
        let mut mute_later = base.clone();
        mute_later
            .mutes
            .insert(5, Some(now + chrono::Duration::minutes(1)));
        let off = NotificationSettings {
            enabled: false,
            ..base.clone()
        };
        let dnd = NotificationSettings {
            do_not_disturb: true,
            ..base.clone()
        };
        let open5 = Focus {
            window_focused: true,
            open_chat: Some(5),
        };
        let open5_unfocused = Focus {
            window_focused: false,
            open_chat: Some(5),
        };
        let open6 = Focus {
            window_focused: true,
            open_chat: Some(6),
        };
        let none = Focus::default();

        let cases: Vec<(
            &str,
            NotifyKind,
            bool,
            &NotificationSettings,
            Focus,
            &str,
            Option<SuppressReason>,
        )> = vec![
            (
                "plain message",
                NewMessage,
                false,
                &base,
                none,
                "12:00",
                None,
            ),
            ("plain new chat", NewChat, false, &base, none, "12:00", None),
            (
                "duplicate",
                NewMessage,
                true,
                &base,
                none,
                "12:00",
                Some(Duplicate),
            ),
            (
                "all off",
                NewChat,
                false,
                &off,
                none,
                "12:00",
                Some(NotificationsOff),
            ),
            (
                "open and focused",
                NewMessage,
                false,
                &base,
                open5,
                "12:00",
                Some(ChatOpenAndFocused),
            ),
            (
                "open but window unfocused",
                NewMessage,
                false,
                &base,
                open5_unfocused,
                "12:00",
                None,
            ),
            (
                "another chat open",
                NewMessage,
                false,
                &base,
                open6,
                "12:00",
                None,
            ),
            (
                "muted forever",
                NewMessage,
                false,
                &muted,
                none,
                "12:00",
                Some(Muted),
            ),
            (
                "muted, new chat too",
                NewChat,
                false,
                &muted,
                none,
                "12:00",
                Some(Muted),
            ),
            (
                "mute expired",
                NewMessage,
                false,
                &mute_expired,
                none,
                "12:00",
                None,
            ),
            (
                "mute until later",
                NewMessage,
                false,
                &mute_later,
                none,
                "12:00",
                Some(Muted),
            ),
            (
                "dnd",
                NewChat,
                false,
                &dnd,
                none,
                "12:00",
                Some(DoNotDisturb),
            ),
            (
                "quiet hours message",
                NewMessage,
                false,
                &quiet,
                none,
                "23:00",
                Some(QuietHours),
            ),
            (
                "quiet hours new chat allowed",
                NewChat,
                false,
                &quiet,
                none,
                "23:00",
                None,
            ),
            (
                "quiet hours new chat strict",
                NewChat,
                false,
                &quiet_strict,
                none,
                "02:00",
                Some(QuietHours),
            ),
            (
                "outside quiet hours",
                NewMessage,
                false,
                &quiet,
                none,
                "08:00",
                None,
            ),
            (
                "focused beats mute",
                NewMessage,
                false,
                &muted,
                open5,
                "12:00",
                Some(ChatOpenAndFocused),
            ),
        ];
        for (name, kind, dup, settings, focus, at, want) in cases {
            let about = About {
                user_id: 5,
                duplicate: dup,
                holds: ChatHolds::of(5, None, settings),
            };
            let got = decide(kind, about, settings, focus, now, t(at));
            let want = match want {
                Some(reason) => Outcome::Suppressed { reason },
                None => Outcome::Allowed,
            };
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_snoozed_chat_is_quiet_until_the_snooze_ends() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let base = NotificationSettings::default();
        let snoozed = About {
            user_id: 5,
            duplicate: false,
            holds: ChatHolds::of(5, Some(now + chrono::Duration::minutes(1)), &base),
        };
        let got = decide(
            NewMessage,
            snoozed,
            &base,
            Focus::default(),
            now,
            t("12:00"),
        );
        assert_eq!(got, Outcome::Suppressed { reason: Snoozed });
        let got = decide(NewChat, snoozed, &base, Focus::default(), now, t("12:00"));
        assert_eq!(got, Outcome::Suppressed { reason: Snoozed });
        let muted = About {
            holds: ChatHolds {
                muted: Some(None),
                ..snoozed.holds
            },
            ..snoozed
        };
        let got = decide(NewMessage, muted, &base, Focus::default(), now, t("12:00"));
        assert_eq!(
            got,
            Outcome::Suppressed { reason: Muted },
            "muted is named first"
        );
        let awake = About {
            holds: ChatHolds {
                snoozed_until: Some(now),
                ..snoozed.holds
            },
            ..snoozed
        };
        let got = decide(NewMessage, awake, &base, Focus::default(), now, t("12:00"));
        assert_eq!(got, Outcome::Allowed);
    }

    #[test]
    // A table of cases: each row spells out its inputs and the expected outcome.
    #[allow(clippy::type_complexity)]
    fn what_holds_a_reminder_and_until_when() {
        use SuppressReason::*;
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let later = now + chrono::Duration::minutes(7);
        let base = NotificationSettings::default();
        let off = NotificationSettings {
            enabled: false,
            ..base.clone()
        };
        let dnd = NotificationSettings {
            do_not_disturb: true,
            ..base.clone()
        };
        let quiet = NotificationSettings {
            quiet_hours: Some(crate::settings::QuietHours {
                start: t("22:00"),
                end: t("08:00"),
            }),
            ..base.clone()
        };
        let strict = NotificationSettings {
            quiet_hours_allow_new_chats: false,
            ..quiet.clone()
        };
        let mut muted = base.clone();
        muted.mutes.insert(5, None);
        let mut muted_until = base.clone();
        muted_until.mutes.insert(5, Some(later));
        let mut mute_over = base.clone();
        mute_over.mutes.insert(5, Some(now));
        let cases: Vec<(
            &str,
            bool,
            Option<DateTime<Utc>>,
            &NotificationSettings,
            &str,
            Option<(SuppressReason, Option<DateTime<Utc>>)>,
        )> = vec![
            ("nothing holds", false, None, &base, "12:00", None),
            (
                "notifications off",
                true,
                None,
                &off,
                "12:00",
                Some((NotificationsOff, None)),
            ),
            ("muted", false, None, &muted, "12:00", Some((Muted, None))),
            (
                "muted until",
                false,
                None,
                &muted_until,
                "12:00",
                Some((Muted, Some(later))),
            ),
            ("mute over", false, None, &mute_over, "12:00", None),
            (
                "snoozed",
                false,
                Some(later),
                &base,
                "12:00",
                Some((Snoozed, Some(later))),
            ),
            ("snooze over", false, Some(now), &base, "12:00", None),
            (
                "mute before snooze",
                false,
                Some(later),
                &muted,
                "12:00",
                Some((Muted, None)),
            ),
            ("dnd", true, None, &dnd, "12:00", Some((DoNotDisturb, None))),
            (
                "quiet hours, message",
                false,
                None,
                &quiet,
                "23:00",
                Some((QuietHours, Some(now + chrono::Duration::hours(9)))),
            ),
            (
                "quiet hours, after midnight",
                false,
                None,
                &quiet,
                "07:30",
                Some((QuietHours, Some(now + chrono::Duration::minutes(30)))),
            ),
            (
                "quiet hours let new chats through",
                true,
                None,
                &quiet,
                "23:00",
                None,
            ),
            (
                "strict quiet hours",
                true,
                None,
                &strict,
                "02:00",
                Some((QuietHours, Some(now + chrono::Duration::hours(6)))),
            ),
            ("quiet hours over", false, None, &quiet, "08:00", None),
        ];
        for (name, new_chat, snoozed, settings, local, want) in cases {
            assert_eq!(
                hold(
                    new_chat,
                    ChatHolds::of(5, snoozed, settings),
                    settings,
                    now,
                    t(local)
                ),
                want,
                "{name}"
            );
        }
    }
}
