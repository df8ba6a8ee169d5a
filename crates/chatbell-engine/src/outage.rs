//! The alarm when Chatbell cannot hear the service: a connection down (or refused) for longer
//! than the agent's threshold raises one notification naming why, a reminder every
//! [`REMIND_EVERY`] while it stays down, and "back online" with the gap when it returns.
//!
//! [`Alarm`] is pure (time and settings are arguments); [`run`] feeds it the connection's
//! state and settings and sleeps on the engine's clock until the next thing due. While the
//! connection is up, or down for less than the threshold, nothing is scheduled but that.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, Steady, sleep_or_pending, wall_deadline};
use crate::model::{ConnState, OfflineCause};
use crate::net::NetFailure;
use crate::policy::hold_all;
use crate::settings::{NotificationSettings, Settings};

/// While the connection stays down, the warning comes again this often (and no more).
pub const REMIND_EVERY: Duration = Duration::from_secs(30 * 60);

/// Why Chatbell is deaf, as the warning names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageCause {
    ServerUnreachable,
    NoNetwork,
    /// The server refused the token (HTTP 401/403): only the agent can fix it.
    TokenRefused,
}

/// A notification the alarm wants shown. Times are local, as the agent reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Down since `since` (a reminder when it was shown before and is still down).
    Offline {
        since: NaiveTime,
        cause: OutageCause,
        reminder: bool,
    },
    /// Up again: nothing was heard from `from` to `to`.
    Back { from: NaiveTime, to: NaiveTime },
    /// The server setting went away: the warning no longer applies.
    Withdrawn,
}

#[derive(Debug, Clone, Copy)]
struct Down {
    since: DateTime<Utc>,
    cause: OutageCause,
}

#[derive(Debug, Clone, Copy)]
struct Shown {
    at: DateTime<Utc>,
    cause: OutageCause,
}

/// What to show now, and when to look again (`None`: when the state or settings change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    pub notice: Option<NoticeAt>,
    pub wake_at: Option<DateTime<Utc>>,
}

/// A notice with its times still in UTC; [`Step::local`] turns them into the agent's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeAt {
    Offline {
        since: DateTime<Utc>,
        cause: OutageCause,
        reminder: bool,
    },
    Back {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    Withdrawn,
}

impl NoticeAt {
    /// In local time, given the local time `local` at `now`.
    pub fn local(self, now: DateTime<Utc>, local: NaiveTime) -> Notice {
        let at = |t: DateTime<Utc>| local - (now - t);
        match self {
            NoticeAt::Offline {
                since,
                cause,
                reminder,
            } => Notice::Offline {
                since: at(since),
                cause,
                reminder,
            },
            NoticeAt::Back { from, to } => Notice::Back {
                from: at(from),
                to: at(to),
            },
            NoticeAt::Withdrawn => Notice::Withdrawn,
        }
    }
}

#[derive(Debug, Default)]
pub struct Alarm {
    down: Option<Down>,
    shown: Option<Shown>,
}

impl Alarm {
    /// The connection's state changed. Returns "back online" when it returns after a warning.
    pub fn observe(&mut self, state: &ConnState) -> Option<NoticeAt> {
        match state {
            ConnState::Online { since } => {
                let down = self.down.take();
                match (down, self.shown.take()) {
                    (Some(down), Some(_)) => Some(NoticeAt::Back {
                        from: down.since,
                        to: *since,
                    }),
                    _ => None,
                }
            }
            ConnState::Offline { since, cause, .. } => {
                let cause = match cause {
                    OfflineCause::ServerUnreachable => OutageCause::ServerUnreachable,
                    OfflineCause::NoNetwork => OutageCause::NoNetwork,
                };
                self.down_since(*since, cause);
                None
            }
            ConnState::Unauthorized { since, .. } => {
                self.down_since(*since, OutageCause::TokenRefused);
                None
            }
            // Between attempts: what the last failure said still holds.
            ConnState::Connecting { .. } => None,
            ConnState::NotConfigured | ConnState::Stopped => {
                self.down = None;
                self.shown.take().map(|_| NoticeAt::Withdrawn)
            }
        }
    }

    fn down_since(&mut self, since: DateTime<Utc>, cause: OutageCause) {
        let since = self.down.map_or(since, |d| d.since.min(since));
        self.down = Some(Down { since, cause });
    }

    /// What is due at `now` under `settings`.
    pub fn check(
        &mut self,
        settings: &NotificationSettings,
        now: DateTime<Utc>,
        local: NaiveTime,
    ) -> Step {
        let (Some(down), Some(after)) = (self.down, settings.offline_alert_secs) else {
            return Step::default();
        };
        let due = down.since + TimeDelta::seconds(after.into());
        if now < due {
            return Step {
                notice: None,
                wake_at: Some(due),
            };
        }
        // Do-not-disturb and quiet hours hold the warning; it comes when they end.
        if let Some((_, until)) = hold_all(false, settings, now, local) {
            return Step {
                notice: None,
                wake_at: until,
            };
        }
        let remind = TimeDelta::from_std(REMIND_EVERY).unwrap_or(TimeDelta::MAX);
        let reminder = match self.shown {
            None => false,
            // What went wrong changed (the token refused now, or the other way): say so.
            Some(shown)
                if (shown.cause == OutageCause::TokenRefused)
                    != (down.cause == OutageCause::TokenRefused) =>
            {
                false
            }
            Some(shown) if now >= shown.at + remind => true,
            Some(shown) => {
                return Step {
                    notice: None,
                    wake_at: Some(shown.at + remind),
                };
            }
        };
        self.shown = Some(Shown {
            at: now,
            cause: down.cause,
        });
        Step {
            notice: Some(NoticeAt::Offline {
                since: down.since,
                cause: down.cause,
                reminder,
            }),
            wake_at: Some(now + remind),
        }
    }
}

/// Watches the connection and settings and hands each notice to `deliver`. The alarm counts
/// on a steady timeline (`clock::Steady`): the connection's times are placed on it as they
/// are seen, so a wall clock stepped back neither delays the warning nor makes the gap
/// run backwards.
pub(crate) async fn run(
    mut state: watch::Receiver<ConnState>,
    mut settings: watch::Receiver<Settings>,
    clock: Arc<dyn Clock>,
    deliver: impl Fn(Notice, Option<NetFailure>) + Send,
    cancel: CancellationToken,
) {
    let steady = Steady::new(&*clock);
    let mut alarm = Alarm::default();
    loop {
        let current = placed(state.borrow_and_update().clone(), &steady, &*clock);
        let now = steady.now(&*clock);
        let local = clock.local_time();
        // The warning words the latest failure: what is wrong now is what the agent can fix.
        let failure = match &current {
            ConnState::Offline { failure, .. } => Some(failure.clone()),
            _ => None,
        };
        if let Some(notice) = alarm.observe(&current) {
            deliver(notice.local(now, local), failure.clone());
        }
        let step = alarm.check(&settings.borrow_and_update().notifications, now, local);
        if let Some(notice) = step.notice {
            deliver(notice.local(now, local), failure);
        }
        let wake = step.wake_at.map(|at| {
            let left = (at - now).to_std().unwrap_or_default();
            wall_deadline(&*clock, left)
        });
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = state.changed() => if changed.is_err() { return },
            changed = settings.changed() => if changed.is_err() { return },
            _ = sleep_or_pending(&*clock, wake) => {}
        }
    }
}

/// `state` with its time placed on the steady timeline. The same `since` comes with every
/// state of one outage and is placed each time; after a step back a later placement lands
/// later, and `Alarm` keeps the earliest (`down_since`), the one placed when first seen.
fn placed(state: ConnState, steady: &Steady, clock: &dyn Clock) -> ConnState {
    let place = |t| steady.place_past(t, clock);
    match state {
        // Back online is seen as it happens; its stamp may be measured from the gap's start in
        // another frame than the wall clock's now (the connection keeps the gap's true length).
        ConnState::Online { .. } => ConnState::Online {
            since: steady.now(clock),
        },
        ConnState::Offline {
            attempt,
            retry_at,
            failure,
            cause,
            since,
        } => ConnState::Offline {
            attempt,
            retry_at,
            failure,
            cause,
            since: place(since),
        },
        ConnState::Unauthorized {
            status,
            retry_at,
            since,
        } => ConnState::Unauthorized {
            status,
            retry_at,
            since: place(since),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::QuietHours;
    use chrono::TimeZone;

    fn t(min: i64, sec: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 14, 0, 0).unwrap()
            + TimeDelta::minutes(min)
            + TimeDelta::seconds(sec)
    }

    fn noon() -> NaiveTime {
        NaiveTime::from_hms_opt(12, 0, 0).unwrap()
    }

    fn offline(since: DateTime<Utc>) -> ConnState {
        ConnState::Offline {
            attempt: 1,
            retry_at: since,
            failure: NetFailure::Refused { host: "h".into() },
            cause: OfflineCause::ServerUnreachable,
            since,
        }
    }

    fn warn(since: DateTime<Utc>, cause: OutageCause, reminder: bool) -> Option<NoticeAt> {
        Some(NoticeAt::Offline {
            since,
            cause,
            reminder,
        })
    }

    #[test]
    fn a_long_outage_warns_once_then_every_half_hour_and_ends_with_the_gap() {
        let settings = NotificationSettings::default();
        let mut alarm = Alarm::default();
        assert_eq!(alarm.observe(&ConnState::Online { since: t(0, 0) }), None);
        assert_eq!(alarm.check(&settings, t(0, 0), noon()), Step::default());

        alarm.observe(&offline(t(2, 0)));
        // Attempts fail again and again: the outage still started at 14:02.
        alarm.observe(&ConnState::Connecting { attempt: 2 });
        alarm.observe(&offline(t(2, 30)));
        let step = alarm.check(&settings, t(2, 59), noon());
        assert_eq!((step.notice, step.wake_at), (None, Some(t(3, 0))));
        let step = alarm.check(&settings, t(3, 0), noon());
        let cause = OutageCause::ServerUnreachable;
        assert_eq!(step.notice, warn(t(2, 0), cause, false));
        assert_eq!(step.wake_at, Some(t(33, 0)));
        // Nothing more while it stays down, until the half hour is up.
        assert_eq!(alarm.check(&settings, t(20, 0), noon()).notice, None);
        let step = alarm.check(&settings, t(33, 0), noon());
        assert_eq!(step.notice, warn(t(2, 0), cause, true));

        let back = alarm.observe(&ConnState::Online { since: t(40, 0) });
        assert_eq!(
            back,
            Some(NoticeAt::Back {
                from: t(2, 0),
                to: t(40, 0)
            })
        );
        assert_eq!(alarm.check(&settings, t(41, 0), noon()), Step::default());
    }

    #[test]
    fn a_short_outage_says_nothing_and_off_means_off() {
        let mut alarm = Alarm::default();
        alarm.observe(&offline(t(0, 0)));
        assert_eq!(
            alarm
                .check(&NotificationSettings::default(), t(0, 59), noon())
                .notice,
            None
        );
        assert_eq!(alarm.observe(&ConnState::Online { since: t(1, 0) }), None);

        let off = NotificationSettings {
            offline_alert_secs: None,
            ..NotificationSettings::default()
        };
        alarm.observe(&offline(t(2, 0)));
        assert_eq!(alarm.check(&off, t(59, 0), noon()), Step::default());
    }

    #[test]
    fn a_refused_token_is_its_own_warning_and_replaces_the_offline_one() {
        let settings = NotificationSettings::default();
        let mut alarm = Alarm::default();
        alarm.observe(&offline(t(0, 0)));
        let cause = OutageCause::ServerUnreachable;
        assert_eq!(
            alarm.check(&settings, t(1, 0), noon()).notice,
            warn(t(0, 0), cause, false)
        );
        alarm.observe(&ConnState::Unauthorized {
            status: 401,
            retry_at: t(6, 0),
            since: t(1, 30),
        });
        let step = alarm.check(&settings, t(1, 30), noon());
        assert_eq!(step.notice, warn(t(0, 0), OutageCause::TokenRefused, false));
    }

    #[test]
    fn do_not_disturb_and_quiet_hours_hold_the_warning_until_they_end() {
        let mut alarm = Alarm::default();
        alarm.observe(&offline(t(0, 0)));
        let dnd = NotificationSettings {
            do_not_disturb: true,
            ..NotificationSettings::default()
        };
        assert_eq!(alarm.check(&dnd, t(5, 0), noon()), Step::default());
        let quiet = NotificationSettings {
            quiet_hours: Some(QuietHours {
                start: NaiveTime::from_hms_opt(11, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(12, 30, 0).unwrap(),
            }),
            ..NotificationSettings::default()
        };
        let step = alarm.check(&quiet, t(5, 0), noon());
        assert_eq!((step.notice, step.wake_at), (None, Some(t(35, 0))));
        let cause = OutageCause::ServerUnreachable;
        let step = alarm.check(&NotificationSettings::default(), t(5, 0), noon());
        assert_eq!(step.notice, warn(t(0, 0), cause, false));
    }

    #[test]
    fn a_removed_server_withdraws_the_warning_and_local_times_follow_the_clock() {
        let mut alarm = Alarm::default();
        alarm.observe(&offline(t(0, 0)));
        alarm.check(&NotificationSettings::default(), t(1, 0), noon());
        assert_eq!(
            alarm.observe(&ConnState::NotConfigured),
            Some(NoticeAt::Withdrawn)
        );
        let back = NoticeAt::Back {
            from: t(2, 0),
            to: t(9, 0),
        };
        // At 14:10 UTC it is 12:00 here: 14:02 was 11:52.
        assert_eq!(
            back.local(t(10, 0), noon()),
            Notice::Back {
                from: NaiveTime::from_hms_opt(11, 52, 0).unwrap(),
                to: NaiveTime::from_hms_opt(11, 59, 0).unwrap(),
            }
        );
    }
}
