//! Whether a new chat or message raises a notification. Pure: everything it depends on is an
//! argument, so every rule is a row in a table test.

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
    /// The agent snoozed the chat and the snooze has not ended.
    pub snoozed: bool,
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
    let About {
        user_id,
        duplicate,
        snoozed,
    } = about;
    let reason = if duplicate {
        Some(Duplicate)
    } else if !settings.enabled {
        Some(NotificationsOff)
    } else if focus.is_watching(user_id) {
        Some(ChatOpenAndFocused)
    } else if settings.is_muted(user_id, now) {
        Some(Muted)
    } else if snoozed {
        Some(Snoozed)
    } else if settings.do_not_disturb {
        Some(DoNotDisturb)
    } else if settings.quiet_hours.is_some_and(|q| q.contains(local_time))
        && !(kind == NotifyKind::NewChat && settings.quiet_hours_allow_new_chats)
    {
        Some(QuietHours)
    } else {
        None
    };
    match reason {
        Some(reason) => Outcome::Suppressed { reason },
        None => Outcome::Allowed,
    }
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
                snoozed: false,
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
            snoozed: true,
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
        let mut muted = base.clone();
        muted.mutes.insert(5, None);
        let got = decide(
            NewMessage,
            snoozed,
            &muted,
            Focus::default(),
            now,
            t("12:00"),
        );
        assert_eq!(
            got,
            Outcome::Suppressed { reason: Muted },
            "muted is named first"
        );
        let awake = About {
            snoozed: false,
            ..snoozed
        };
        let got = decide(NewMessage, awake, &base, Focus::default(), now, t("12:00"));
        assert_eq!(got, Outcome::Allowed);
    }
}
