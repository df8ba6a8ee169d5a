//! Settings: one typed struct with defaults, kept as JSON in the config folder.
//!
//! The API token is not here: it lives in the OS keychain only (see `keychain`). A settings
//! file that cannot be read is never overwritten: it is moved aside and the error is reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chatbell_protocol::UserId;
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

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
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            url: None,
            auth: AuthMode::Header,
            query_param: "token".into(),
            subscriptions: Vec::new(),
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct StoreSettings {
    /// Delete messages and raw events older than this many days; `None` keeps everything.
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
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
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

const MAX_SUBSCRIPTIONS: usize = 1000;

impl Settings {
    /// Checks every field a user can type; the error names the field and what is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |field, problem: String| Err(SettingsError::Invalid { field, problem });
        if let Some(url) = &self.server.url
            && let Err(problem) = check_url(url)
        {
            return invalid("server.url", problem);
        }
        let p = &self.server.query_param;
        if p.is_empty()
            || p.len() > 64
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return invalid(
                "server.query_param",
                format!("{p:?} must be 1–64 letters, digits, '_' or '-'"),
            );
        }
        if self.server.subscriptions.len() > MAX_SUBSCRIPTIONS {
            return invalid(
                "server.subscriptions",
                format!("at most {MAX_SUBSCRIPTIONS} user ids"),
            );
        }
        if let Some(q) = self.notifications.quiet_hours
            && q.start == q.end
        {
            return invalid(
                "notifications.quiet_hours",
                "start and end are the same time".into(),
            );
        }
        if self.store.retention_days == Some(0) {
            return invalid(
                "store.retention_days",
                "must be at least 1 day (or empty to keep everything)".into(),
            );
        }
        Ok(())
    }

    /// Reads settings; a missing file gives the defaults. A file that is not valid settings is
    /// moved aside (never lost, never overwritten) and reported in the error, with defaults
    /// returned alongside so the app can still start.
    pub fn load(path: &Path) -> (Settings, Option<SettingsError>) {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (Settings::default(), None);
            }
            Err(source) => {
                return (
                    Settings::default(),
                    Some(SettingsError::Read {
                        path: path.into(),
                        source,
                    }),
                );
            }
        };
        let problem = match serde_json::from_str::<Settings>(&text) {
            Ok(settings) => match settings.validate() {
                Ok(()) => return (settings, None),
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        let moved_to = aside_path(path);
        if let Err(source) = std::fs::rename(path, &moved_to) {
            return (
                Settings::default(),
                Some(SettingsError::Write {
                    path: moved_to,
                    source,
                }),
            );
        }
        (
            Settings::default(),
            Some(SettingsError::Unreadable {
                path: path.into(),
                problem,
                moved_to,
            }),
        )
    }

    /// Validates and writes atomically (a crash mid-write leaves the old file).
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        self.validate()?;
        let write = |source| SettingsError::Write {
            path: path.into(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).expect("settings serialize");
        std::fs::write(&tmp, text).map_err(write)?;
        std::fs::rename(&tmp, path).map_err(write)
    }
}

fn aside_path(path: &Path) -> PathBuf {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".invalid-{stamp}"));
    path.with_file_name(name)
}

/// A server URL must be `ws://` or `wss://` with a host; it carries no token (that belongs in
/// the keychain).
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("wss://")
        .or_else(|| url.strip_prefix("ws://"))
        .ok_or_else(|| format!("{url:?} must start with ws:// or wss://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    if host.contains('@') {
        return Err("put the token in the token field, not in the URL".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{url:?} contains spaces or control characters"));
    }
    Ok(())
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map_err(|_| D::Error::custom(format!("{s:?} is not a time like 22:30")))
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
    }

    #[test]
    fn round_trips_and_keeps_unreadable_files_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        assert_eq!(
            Settings::load(&path).0,
            Settings::default(),
            "missing file gives defaults"
        );

        let mut s = Settings::default();
        s.server.url = Some("ws://127.0.0.1:8765/ws".into());
        s.notifications.quiet_hours = Some(QuietHours {
            start: t("22:00"),
            end: t("07:30"),
        });
        s.notifications.mutes.insert(-5, None);
        s.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"22:00\""), "{text}");
        let (loaded, err) = Settings::load(&path);
        assert!(err.is_none());
        assert_eq!(loaded, s);

        // Older or newer files: unknown fields ignored, missing fields defaulted.
        std::fs::write(
            &path,
            r#"{"server":{"url":"ws://h/ws","future":1},"new_section":{}}"#,
        )
        .unwrap();
        let (loaded, err) = Settings::load(&path);
        assert!(err.is_none());
        assert_eq!(loaded.server.url.as_deref(), Some("ws://h/ws"));
        assert!(loaded.notifications.enabled);

        std::fs::write(&path, "{ not json").unwrap();
        let (loaded, err) = Settings::load(&path);
        assert_eq!(loaded, Settings::default());
        let err = err.unwrap();
        let SettingsError::Unreadable { moved_to, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(
            std::fs::read_to_string(moved_to).unwrap(),
            "{ not json",
            "the bad file is kept"
        );
        assert!(!path.exists());

        std::fs::write(&path, r#"{"server":{"url":"ftp://x"}}"#).unwrap();
        let err = Settings::load(&path).1.unwrap().to_string();
        assert!(err.contains("server.url"), "{err}");
    }
}
