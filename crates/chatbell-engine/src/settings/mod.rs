//! Settings: one typed struct with defaults, kept as JSON in the config folder.
//!
//! The API token is not here: it lives in the OS keychain only (see `keychain`). A settings
//! file that cannot be read is never overwritten: it is moved aside and the error is reported.
//! Errors name the field and what is wrong with it, never the value: a value may be a token
//! pasted into the wrong field, and the messages are shown in the app and in logs.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use chatbell_protocol::UserId;
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sound::{SoundKind, Tone};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    pub notifications: NotificationSettings,
    pub store: StoreSettings,
    pub ui: UiSettings,
}

/// How the token travels on the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// `Authorization: Bearer <token>`
    #[default]
    Header,
    /// `?<query_param>=<token>` on the URL.
    Query,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// `ws://` or `wss://` URL of the events endpoint; `None` until configured.
    pub url: Option<String>,
    pub auth: AuthMode,
    pub query_param: String,
    /// Users to receive events of; empty means every event of the organization.
    pub subscriptions: Vec<UserId>,
    /// Where the agent answers: a link template for the service's web panel, with
    /// `{user_id}`, `{username}` and `{source}` (see [`crate::web_panel`]).
    pub web_panel: Option<String>,
    /// Which way out: `"system"` (the desktop's proxy), `"none"`, or a proxy URL
    /// (`http://[user@]host:port`, `socks5://…`); see `docs/network.md`. Text, so that a bad
    /// one is refused by [`Settings::validate`] with its field, as the other addresses are.
    pub proxy: String,
    /// A CA bundle to trust besides the system's; a client certificate and key.
    pub tls: TlsSettings,
}

impl ServerSettings {
    /// The proxy setting, parsed. Settings are validated before they are saved or used; should
    /// a bad one get through, the desktop's route is the one to take.
    pub fn proxy(&self) -> ProxySetting {
        ProxySetting::parse(&self.proxy).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "settings: server.proxy ignored; the desktop's proxy is used");
            ProxySetting::System
        })
    }

    /// The web panel link template, checked. Settings are validated before they are saved,
    /// but a file edited by hand may still hold a bad one: it is logged and treated as none
    /// (the notifications' web panel button is left off), never a reason not to start.
    pub fn web_panel(&self) -> Option<crate::web_panel::WebPanel> {
        let template = self.web_panel.as_deref()?;
        crate::web_panel::WebPanel::parse(template)
            .map_err(Problem::from)
            .inspect_err(|e| {
                tracing::warn!(error = %e, "settings: server.web_panel ignored; the web panel button is off")
            })
            .ok()
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            url: None,
            auth: AuthMode::Header,
            query_param: "token".into(),
            subscriptions: Vec::new(),
            web_panel: None,
            proxy: "system".into(),
            tls: TlsSettings::default(),
        }
    }
}

/// Quiet hours, local time; `start > end` spans midnight (22:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    #[serde(with = "hhmm")]
    pub start: NaiveTime,
    #[serde(with = "hhmm")]
    pub end: NaiveTime,
}

impl QuietHours {
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    pub enabled: bool,
    pub sound: bool,
    /// Show only who wrote, never what.
    pub privacy: bool,
    pub do_not_disturb: bool,
    pub quiet_hours: Option<QuietHours>,
    /// During quiet hours, still alert on new chats.
    pub quiet_hours_allow_new_chats: bool,
    /// Muted chats: until when (`None`: until unmuted).
    pub mutes: BTreeMap<UserId, Option<DateTime<Utc>>>,
    /// Reminders while a customer waits for the agent to open the chat.
    pub escalation: EscalationSettings,
    /// How long "Snooze" puts a chat aside ([`SNOOZE_MINUTES`]).
    pub snooze_minutes: u32,
    /// The sounds Chatbell plays itself (when `sound` is on).
    pub sounds: SoundSettings,
    /// Warn when the connection has been down this many seconds ([`OFFLINE_ALERT_SECS`]);
    /// `None`: never.
    pub offline_alert_secs: Option<u32>,
    /// When the agent counts as away.
    pub away: forward::AwaySettings,
    /// Where to tell the agent, or their lead, when they are away (`forward`).
    pub forward: Vec<forward::ForwardTarget>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            enabled: true,
            sound: true,
            privacy: false,
            do_not_disturb: false,
            quiet_hours: None,
            quiet_hours_allow_new_chats: true,
            mutes: BTreeMap::new(),
            escalation: EscalationSettings::default(),
            snooze_minutes: 10,
            sounds: SoundSettings::default(),
            offline_alert_secs: Some(60),
            away: forward::AwaySettings::default(),
            forward: Vec::new(),
        }
    }
}

impl NotificationSettings {
    pub fn is_muted(&self, user_id: UserId, now: DateTime<Utc>) -> bool {
        self.mutes
            .get(&user_id)
            .is_some_and(|until| until.is_none_or(|t| t > now))
    }
}

/// The tone of each kind of sound (`None`: that kind is silent) and their loudness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoundSettings {
    pub new_chat: Option<Tone>,
    pub new_message: Option<Tone>,
    pub escalation: Option<Tone>,
    /// 0–100 ([`VOLUME`]).
    pub volume: u8,
}

impl Default for SoundSettings {
    fn default() -> Self {
        SoundSettings {
            new_chat: Some(Tone::Chime),
            new_message: Some(Tone::Pop),
            escalation: Some(Tone::Alarm),
            volume: 80,
        }
    }
}

impl SoundSettings {
    pub fn tone(&self, kind: SoundKind) -> Option<Tone> {
        match kind {
            SoundKind::NewChat => self.new_chat,
            SoundKind::NewMessage => self.new_message,
            SoundKind::Escalation => self.escalation,
        }
    }
}

/// Days of history one may keep: a day to a hundred years. Further back than that is past
/// what date arithmetic can take (a cutoff 97 million days ago is no date at all).
pub const RETENTION_DAYS: RangeInclusive<u32> = 1..=36_500;
/// Users one may subscribe to (`server.subscriptions`); user ids themselves are any `i64`.
pub const MAX_SUBSCRIPTIONS: usize = 1000;
/// Chats one may mute (`notifications.mutes`).
pub const MAX_MUTES: usize = 10_000;
/// Minutes a snooze may last: a minute to a day.
pub const SNOOZE_MINUTES: RangeInclusive<u32> = 1..=1440;
/// Sound volume, in percent.
pub const VOLUME: RangeInclusive<u8> = 0..=100;
/// Seconds the connection may be down before Chatbell warns: ten seconds to an hour.
pub const OFFLINE_ALERT_SECS: RangeInclusive<u32> = 10..=3600;
/// Length of the query parameter's name that carries the token (`server.query_param`).
pub const QUERY_PARAM_LEN: RangeInclusive<usize> = 1..=64;
/// The largest settings file read: ours are a few KiB, so anything bigger is not settings.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StoreSettings {
    /// Delete messages and raw events older than this many days ([`RETENTION_DAYS`]); `None`
    /// keeps everything.
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Follow the OS locale.
    #[default]
    System,
    En,
    Ru,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the OS (light or dark).
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct UiSettings {
    pub language: Language,
    pub theme: Theme,
    pub start_at_login: bool,
    /// The first-run welcome has been answered.
    pub welcome_done: bool,
    /// The "no tray on this desktop" hint has been shown.
    pub tray_hint_shown: bool,
    /// The chat list puts the longest wait first (else the newest activity).
    pub sort_by_wait: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value `validate` refuses: the field's path (`server.url`) and what is wrong with it.
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: Problem },
    #[error("cannot read settings {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "settings {path} are not valid ({problem}); they were moved to {moved_to} and defaults are in use"
    )]
    Unreadable {
        path: PathBuf,
        problem: String,
        moved_to: PathBuf,
    },
    #[error("cannot write settings {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Settings {
    /// Checks every field a user can type; the error names the field and what is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |field: &str, problem: Problem| {
            Err(SettingsError::Invalid {
                field: field.to_string(),
                problem,
            })
        };
        let check = |field: &str, bounds: Bounds, value: Option<u64>| match value {
            Some(v) => bounds.check(v).map_err(|problem| SettingsError::Invalid {
                field: field.to_string(),
                problem,
            }),
            None => Ok(()),
        };
        if let Some(url) = &self.server.url
            && let Err(problem) = check_url(url)
        {
            return invalid("server.url", problem);
        }
        let p = &self.server.query_param;
        if !QUERY_PARAM_LEN.contains(&p.len())
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return invalid(
                "server.query_param",
                Problem::NotAName {
                    min: *QUERY_PARAM_LEN.start() as u64,
                    max: *QUERY_PARAM_LEN.end() as u64,
                },
            );
        }
        if self.server.subscriptions.len() > MAX_SUBSCRIPTIONS {
            return invalid(
                "server.subscriptions",
                Problem::TooMany {
                    max: MAX_SUBSCRIPTIONS as u64,
                    unit: Unit::UserIds,
                },
            );
        }
        if self.notifications.mutes.len() > MAX_MUTES {
            return invalid(
                "notifications.mutes",
                Problem::TooMany {
                    max: MAX_MUTES as u64,
                    unit: Unit::MutedChats,
                },
            );
        }
        if let Some(q) = self.notifications.quiet_hours
            && q.start == q.end
        {
            return invalid("notifications.quiet_hours", Problem::SameTimes);
        }
        if let Some(template) = &self.server.web_panel
            && let Err(e) = crate::web_panel::WebPanel::parse(template)
        {
            return invalid("server.web_panel", e.into());
        }
        if let Err(e) = ProxySetting::parse(&self.server.proxy) {
            return invalid("server.proxy", e.into());
        }
        let tls = &self.server.tls;
        for (field, path) in [
            ("server.tls.ca_file", &tls.ca_file),
            ("server.tls.client_cert", &tls.client_cert),
            ("server.tls.client_key", &tls.client_key),
        ] {
            if let Some(path) = path
                && let Err(problem) = check_path(path)
            {
                return invalid(field, problem);
            }
        }
        if tls.client_key.is_some() && tls.client_cert.is_none() {
            return invalid("server.tls.client_cert", Problem::KeyWithoutCertificate);
        }
        if let Err((field, problem)) = self.notifications.escalation.check() {
            return invalid(&field, problem);
        }
        if let Err((field, problem)) =
            forward::check(&self.notifications.away, &self.notifications.forward)
        {
            return invalid(&field, problem);
        }
        let n = &self.notifications;
        check(
            "notifications.snooze_minutes",
            Bounds::of(&SNOOZE_MINUTES, Unit::Minutes),
            Some(n.snooze_minutes.into()),
        )?;
        check(
            "notifications.sounds.volume",
            Bounds::of(&VOLUME, Unit::Percent),
            Some(n.sounds.volume.into()),
        )?;
        check(
            "notifications.offline_alert_secs",
            Bounds::of(&OFFLINE_ALERT_SECS, Unit::Seconds),
            n.offline_alert_secs.map(u64::from),
        )?;
        check(
            "store.retention_days",
            Bounds::of(&RETENTION_DAYS, Unit::Days),
            self.store.retention_days.map(u64::from),
        )
    }
}

/// A server URL must be `ws://` or `wss://` with a host; it carries no token (that belongs in
/// the keychain). The problem does not quote the URL: it may hold a token after all.
pub fn check_url(url: &str) -> Result<(), Problem> {
    check_address(url, &["ws", "wss"])
}

/// An address with one of `schemes` (lower case) and a host, and no user or password in it
/// (a secret goes to the keychain): the chat server's, and the forwarding targets'.
pub(crate) fn check_address(url: &str, schemes: &[&str]) -> Result<(), Problem> {
    // Before parsing: the URL parser drops tabs and newlines silently.
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Problem::Spaces);
    }
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !scheme.is_some_and(|s| schemes.contains(&s.as_str())) {
        return Err(Problem::Scheme {
            expected: schemes.iter().map(|s| format!("{s}://")).collect(),
        });
    }
    // The parser's messages quote nothing of the URL.
    let parsed = url::Url::parse(url).map_err(|e| match e {
        url::ParseError::EmptyHost => Problem::NoHost,
        e => Problem::NotAnAddress { why: e.to_string() },
    })?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Problem::NoHost);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Problem::Credentials);
    }
    Ok(())
}

/// A certificate or key file's path: whole (absolute), on one line.
fn check_path(path: &std::path::Path) -> Result<(), Problem> {
    if path.to_string_lossy().chars().any(char::is_control) {
        return Err(Problem::Spaces);
    }
    if !path.is_absolute() {
        return Err(Problem::NotAbsolute);
    }
    Ok(())
}

mod escalation;
mod file;
pub mod forward;
mod layers;
mod network;
pub mod organization;
mod owner;
mod problem;

pub use escalation::{
    EscalationSettings, LADDER_MINUTES, Ladder, MAX_SOURCES, SOURCE_LEN, SourceLadders,
};
pub use layers::{Layers, Origin, Shown, shown_key};
pub use network::{ProxyProblem, ProxyScheme, ProxySetting, ProxyUrl, TlsSettings};
pub use organization::{OrgProblem, Organization};
pub use owner::{Apply, ChangeError, SettingsOwner};
pub use problem::{Bounds, Problem, Unit};

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map_err(|_| D::Error::custom("not a time like 22:30"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn quiet_hours_span_midnight() {
        let night = QuietHours {
            start: t("22:00"),
            end: t("08:00"),
        };
        let day = QuietHours {
            start: t("12:00"),
            end: t("13:30"),
        };
        let cases = [
            (night, "21:59", false),
            (night, "22:00", true),
            (night, "03:00", true),
            (night, "07:59", true),
            (night, "08:00", false),
            (day, "12:00", true),
            (day, "13:29", true),
            (day, "13:30", false),
            (day, "02:00", false),
        ];
        for (q, at, want) in cases {
            assert_eq!(q.contains(t(at)), want, "{q:?} at {at}");
        }
    }

    #[test]
    // A table of cases: each row spells out its inputs and the expected outcome.
    #[allow(clippy::type_complexity)]
    fn validation_names_the_field() {
        let cases: Vec<(Box<dyn Fn(&mut Settings)>, &str)> = vec![
            (
                Box::new(|s| s.server.url = Some("http://x".into())),
                "server.url",
            ),
            (
                Box::new(|s| s.server.url = Some("ws://".into())),
                "server.url",
            ),
            (
                Box::new(|s| s.server.url = Some("wss://user:tok@host/ws".into())),
                "server.url",
            ),
            (
                Box::new(|s| s.server.url = Some("ws://host/ws x".into())),
                "server.url",
            ),
            (
                Box::new(|s| s.server.query_param = "a b".into()),
                "server.query_param",
            ),
            (
                Box::new(|s| s.server.subscriptions = vec![1; 1001]),
                "server.subscriptions",
            ),
            (
                Box::new(|s| {
                    s.notifications.quiet_hours = Some(QuietHours {
                        start: t("01:00"),
                        end: t("01:00"),
                    })
                }),
                "notifications.quiet_hours",
            ),
            (
                Box::new(|s| s.store.retention_days = Some(0)),
                "store.retention_days",
            ),
            (
                Box::new(|s| s.server.proxy = "http://bob:hunter2@proxy:3128".into()),
                "server.proxy",
            ),
            (
                Box::new(|s| s.server.proxy = "direct".into()),
                "server.proxy",
            ),
            (
                Box::new(|s| s.server.tls.ca_file = Some("corp.pem".into())),
                "server.tls.ca_file",
            ),
            (
                Box::new(|s| {
                    let full = if cfg!(windows) { r"C:\k.pem" } else { "/k.pem" };
                    s.server.tls.client_key = Some(full.into())
                }),
                "server.tls.client_cert",
            ),
        ];
        for (edit, field) in cases {
            let mut s = Settings::default();
            edit(&mut s);
            let err = s.validate().unwrap_err().to_string();
            assert!(err.starts_with(field), "{err}");
        }
        let mut ok = Settings::default();
        ok.server.url = Some("wss://support.example.com/ws?org=5".into());
        ok.validate().unwrap();
        ok.server.proxy = "socks5://bob@proxy:1080".into();
        ok.server.tls.ca_file = Some(if cfg!(windows) {
            r"C:\corp-ca.pem".into()
        } else {
            "/etc/corp-ca.pem".into()
        });
        ok.validate().unwrap();
        // A password is refused, and the error does not quote it.
        ok.server.proxy = "http://bob:hunter2@proxy:3128".into();
        let err = ok.validate().unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("proxy password"), "{err}");
    }

    #[test]
    // A table of cases: each row spells out its inputs and the expected outcome.
    #[allow(clippy::type_complexity)]
    fn numbers_are_checked_at_the_edges_of_their_ranges() {
        let days = |d: u32| -> Box<dyn Fn(&mut Settings)> {
            Box::new(move |s| s.store.retention_days = Some(d))
        };
        let subscriptions = |n: usize| -> Box<dyn Fn(&mut Settings)> {
            Box::new(move |s| s.server.subscriptions = (0..n as i64).collect())
        };
        let param = |n: usize| -> Box<dyn Fn(&mut Settings)> {
            Box::new(move |s| s.server.query_param = "p".repeat(n))
        };
        let mutes = |n: usize| -> Box<dyn Fn(&mut Settings)> {
            Box::new(move |s| s.notifications.mutes = (0..n as i64).map(|u| (u, None)).collect())
        };
        let ladder = |m: u32| -> Box<dyn Fn(&mut Settings)> {
            Box::new(move |s| s.notifications.escalation.new_chat.every_min = m)
        };
        let snooze = |m: u32| -> Box<dyn Fn(&mut Settings)> {
            Box::new(move |s| s.notifications.snooze_minutes = m)
        };
        let retention = Some(("store.retention_days", "from 1 to 36500 days"));
        let subs = Some(("server.subscriptions", "at most 1000"));
        let param_err = Some(("server.query_param", "1–64"));
        let cases: Vec<(Box<dyn Fn(&mut Settings)>, Option<(&str, &str)>)> = vec![
            (days(0), retention),
            (days(1), None),
            (days(90), None),
            (days(36_500), None),
            (days(36_501), retention),
            (days(97_000_000), retention),
            (days(u32::MAX), retention),
            (Box::new(|s| s.store.retention_days = None), None),
            (subscriptions(0), None),
            (subscriptions(1000), None),
            (subscriptions(1001), subs),
            (
                Box::new(|s| s.server.subscriptions = vec![i64::MIN, -1, 0, i64::MAX]),
                None,
            ),
            (param(0), param_err),
            (param(1), None),
            (param(64), None),
            (param(65), param_err),
            (mutes(10_000), None),
            (
                ladder(0),
                Some((
                    "notifications.escalation.new_chat.every_min",
                    "from 1 to 1440",
                )),
            ),
            (ladder(1), None),
            (ladder(1440), None),
            (
                ladder(1441),
                Some((
                    "notifications.escalation.new_chat.every_min",
                    "from 1 to 1440",
                )),
            ),
            (
                Box::new(|s| s.notifications.escalation.new_message.urgent_after_min = Some(0)),
                Some((
                    "notifications.escalation.new_message.urgent_after_min",
                    "from 1 to 1440",
                )),
            ),
            (
                Box::new(|s| s.notifications.escalation.new_message.urgent_after_min = None),
                None,
            ),
            (
                Box::new(|s| {
                    let mut own = SourceLadders {
                        new_chat: Ladder::NEW_CHAT,
                        new_message: Ladder::NEW_MESSAGE,
                    };
                    own.new_message.realert_after_min = 2000;
                    s.notifications
                        .escalation
                        .sources
                        .insert("widget".into(), own);
                }),
                Some((
                    "notifications.escalation.sources.widget.new_message.realert_after_min",
                    "from 1 to 1440",
                )),
            ),
            (
                Box::new(|s| {
                    let own = SourceLadders {
                        new_chat: Ladder::NEW_CHAT,
                        new_message: Ladder::NEW_MESSAGE,
                    };
                    s.notifications.escalation.sources.insert("a b".into(), own);
                }),
                Some(("notifications.escalation.sources", "without spaces")),
            ),
            (
                snooze(0),
                Some(("notifications.snooze_minutes", "from 1 to 1440")),
            ),
            (snooze(1440), None),
            (
                snooze(1441),
                Some(("notifications.snooze_minutes", "from 1 to 1440")),
            ),
            (
                mutes(10_001),
                Some(("notifications.mutes", "at most 10000")),
            ),
        ];
        for (i, (edit, want)) in cases.into_iter().enumerate() {
            let mut s = Settings::default();
            edit(&mut s);
            match (s.validate(), want) {
                (Ok(()), None) => {}
                (Err(e), Some((field, range))) => {
                    let e = e.to_string();
                    assert!(e.starts_with(field) && e.contains(range), "row {i}: {e}");
                }
                (got, want) => panic!("row {i}: got {got:?}, want {want:?}"),
            }
        }
        assert_eq!(RETENTION_DAYS, 1..=36_500);
        assert_eq!(LADDER_MINUTES, 1..=1440);
        assert_eq!(SNOOZE_MINUTES, 1..=1440);
        assert_eq!(MAX_SUBSCRIPTIONS, 1000);
    }
}
