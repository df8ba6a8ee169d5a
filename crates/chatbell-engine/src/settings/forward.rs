//! Where Chatbell tells the agent (or their lead) when they are away: the settings of
//! `notifications.away` and `notifications.forward` (`docs/ipc.md`). Secrets are not here: each
//! target's token lives in the keychain under the target's `id` (`forward::secret_of`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::problem::{Bounds, Problem, Unit};

/// When the agent counts as away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AwaySettings {
    /// Away after this long without input; `None`: only while the screen is locked.
    pub idle_minutes: Option<u32>,
}

impl Default for AwaySettings {
    fn default() -> Self {
        AwaySettings {
            idle_minutes: Some(5),
        }
    }
}

/// One place to forward to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardTarget {
    /// The agent's name for it ("phone"), unique: it names the target's secret in the keychain.
    pub id: String,
    #[serde(flatten)]
    pub kind: TargetKind,
    #[serde(default)]
    pub when: When,
    /// What it receives.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<What>,
    /// Reminders from this step on (1: every reminder).
    #[serde(default = "first_step")]
    pub from_step: u32,
    /// The team lead's: it receives the urgent hand-off ([`What`] and [`When`] aside), whether
    /// or not the agent is away, and nothing else.
    #[serde(default)]
    pub lead: bool,
}

fn first_step() -> u32 {
    1
}

/// The service a target is, and its address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetKind {
    /// ntfy: `POST <url>/<topic>`; an access token, if any, in the keychain.
    Ntfy { url: String, topic: String },
    /// Gotify: `POST <url>/message`; the application token in the keychain.
    Gotify { url: String },
    /// A POST of Chatbell's JSON (`docs/ipc.md`) to a URL; the URL itself in the keychain when
    /// it carries a secret, else here.
    Webhook { url: Option<String> },
    /// A program run without a shell, Chatbell's JSON on its standard input, 10 s at most.
    Command { program: PathBuf, args: Vec<String> },
}

/// When a target receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// Only while the agent is away.
    #[default]
    Away,
    Always,
}

/// What a target receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    NewChat,
    Reminder,
    Urgent,
    Offline,
}

fn default_kinds() -> Vec<What> {
    vec![What::NewChat, What::Reminder, What::Urgent]
}

/// Idle minutes before the agent counts as away.
pub const IDLE_MINUTES: std::ops::RangeInclusive<u32> = 1..=240;
/// The most forwarding targets.
pub const MAX_TARGETS: usize = 16;
/// A target's id: 1 to 32 letters, digits, `_` or `-` (it names a keychain entry).
pub const ID_LEN: std::ops::RangeInclusive<usize> = 1..=32;
/// The first reminder step a target may start from.
pub const FROM_STEP: std::ops::RangeInclusive<u32> = 1..=50;
/// An ntfy topic, as ntfy allows it.
pub const TOPIC_LEN: std::ops::RangeInclusive<usize> = 1..=64;

fn a_name(text: &str, len: &std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Where a target's secret goes: its kind and its address's host. A secret stored for one
/// server is never sent to another.
fn secret_goes_to(target: &ForwardTarget) -> Option<(&'static str, String)> {
    let host = |url: &str| {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default()
    };
    match &target.kind {
        TargetKind::Ntfy { url, .. } => Some(("ntfy", host(url))),
        TargetKind::Gotify { url } => Some(("gotify", host(url))),
        // A secret address is the address itself: kept while the target is a webhook.
        TargetKind::Webhook { .. } => Some(("webhook", String::new())),
        TargetKind::Command { .. } => None,
    }
}

/// The targets whose stored secret must go when the settings change from `old` to `new`:
/// removed, or now a different kind or server (a token for ntfy.sh is not sent to another
/// host because a target kept its name).
pub fn secrets_to_forget(old: &[ForwardTarget], new: &[ForwardTarget]) -> Vec<String> {
    old.iter()
        .filter(|was| {
            new.iter()
                .find(|t| t.id == was.id)
                .is_none_or(|now| secret_goes_to(now) != secret_goes_to(was))
        })
        .map(|t| t.id.clone())
        .collect()
}

/// A target's id: it names the target's keychain entry.
pub fn check_id(id: &str) -> Result<(), Problem> {
    match a_name(id, &ID_LEN) {
        true => Ok(()),
        false => Err(Problem::NotAName {
            min: *ID_LEN.start() as u64,
            max: *ID_LEN.end() as u64,
        }),
    }
}

/// The away and forwarding settings' problems, with the field each is about
/// (`notifications.forward.<index>.<field>`). No problem quotes a value.
pub fn check(away: &AwaySettings, targets: &[ForwardTarget]) -> Result<(), (String, Problem)> {
    if let Some(minutes) = away.idle_minutes {
        Bounds::of(&IDLE_MINUTES, Unit::Minutes)
            .check(minutes)
            .map_err(|p| ("notifications.away.idle_minutes".to_string(), p))?;
    }
    if targets.len() > MAX_TARGETS {
        return Err((
            "notifications.forward".into(),
            Problem::TooMany {
                max: MAX_TARGETS as u64,
                unit: Unit::Targets,
            },
        ));
    }
    for (i, target) in targets.iter().enumerate() {
        let field = |name: &str| format!("notifications.forward.{i}.{name}");
        let not_a_name = |len: &std::ops::RangeInclusive<usize>| Problem::NotAName {
            min: *len.start() as u64,
            max: *len.end() as u64,
        };
        check_id(&target.id).map_err(|p| (field("id"), p))?;
        if targets[..i].iter().any(|t| t.id == target.id) {
            return Err((field("id"), Problem::SameName));
        }
        Bounds::of(&FROM_STEP, Unit::Steps)
            .check(target.from_step)
            .map_err(|p| (field("from_step"), p))?;
        match &target.kind {
            TargetKind::Ntfy { url, topic } => {
                check_http_url(url).map_err(|p| (field("url"), p))?;
                if !a_name(topic, &TOPIC_LEN) {
                    return Err((field("topic"), not_a_name(&TOPIC_LEN)));
                }
            }
            TargetKind::Gotify { url } => check_http_url(url).map_err(|p| (field("url"), p))?,
            TargetKind::Webhook { url: Some(url) } => {
                check_http_url(url).map_err(|p| (field("url"), p))?;
            }
            TargetKind::Webhook { url: None } => {}
            TargetKind::Command { program, .. } => {
                if !program.is_absolute() {
                    return Err((field("program"), Problem::NotAbsolute));
                }
            }
        }
    }
    Ok(())
}

/// A target's address: `https://` or `http://` with a host, no user or password in it.
pub fn check_http_url(url: &str) -> Result<(), Problem> {
    super::check_address(url, &["https", "http"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ntfy(id: &str, url: &str, topic: &str) -> ForwardTarget {
        ForwardTarget {
            id: id.into(),
            kind: TargetKind::Ntfy {
                url: url.into(),
                topic: topic.into(),
            },
            when: When::Away,
            kinds: default_kinds(),
            from_step: 1,
            lead: false,
        }
    }

    #[test]
    fn the_documented_shape_reads_with_its_defaults() {
        // An absolute path as this system writes one.
        let program = match cfg!(windows) {
            true => r"C:\Tools\pager.exe",
            false => "/usr/bin/pager",
        };
        let targets: Vec<ForwardTarget> = serde_json::from_value(serde_json::json!([
            {"id": "phone", "kind": "ntfy", "url": "https://ntfy.sh", "topic": "ann-support"},
            {"id": "lead", "kind": "gotify", "url": "https://gotify.example.com", "when": "always",
             "kinds": ["urgent"], "lead": true},
            {"id": "pager", "kind": "command", "program": program, "args": ["-q"]},
            {"id": "hook", "kind": "webhook"}
        ]))
        .unwrap();
        assert_eq!(targets[0], ntfy("phone", "https://ntfy.sh", "ann-support"));
        assert_eq!(targets[1].when, When::Always);
        assert!(targets[1].lead);
        assert_eq!(targets[1].kinds, [What::Urgent]);
        assert_eq!(targets[3].kind, TargetKind::Webhook { url: None });
        assert_eq!(check(&AwaySettings::default(), &targets), Ok(()));
    }

    #[test]
    fn a_secret_goes_with_its_target_and_its_server() {
        let phone = ntfy("phone", "https://ntfy.sh", "a");
        let same_host = ntfy("phone", "https://NTFY.sh/", "b");
        let moved = ntfy("phone", "https://ntfy.example.com", "a");
        let lead = ntfy("lead", "https://ntfy.sh", "l");
        let ids = |old: &[ForwardTarget], new: &[ForwardTarget]| secrets_to_forget(old, new);
        assert!(ids(std::slice::from_ref(&phone), &[same_host]).is_empty());
        assert_eq!(ids(std::slice::from_ref(&phone), &[moved]), ["phone"]);
        assert_eq!(ids(&[phone.clone(), lead.clone()], &[lead]), ["phone"]);
        let gotify = ForwardTarget {
            kind: TargetKind::Gotify {
                url: "https://ntfy.sh".into(),
            },
            ..phone.clone()
        };
        assert_eq!(ids(&[phone], &[gotify]), ["phone"]);
    }

    #[test]
    fn each_problem_names_its_field() {
        let away = AwaySettings::default();
        let cases: Vec<(Vec<ForwardTarget>, &str, Problem)> = vec![
            (
                vec![ntfy("phone", "ftp://x", "t")],
                "notifications.forward.0.url",
                Problem::Scheme {
                    expected: vec!["https://".into(), "http://".into()],
                },
            ),
            (
                vec![ntfy("phone", "https://u:p@ntfy.sh", "t")],
                "notifications.forward.0.url",
                Problem::Credentials,
            ),
            (
                vec![ntfy("phone", "https://ntfy.sh", "a b")],
                "notifications.forward.0.topic",
                Problem::NotAName { min: 1, max: 64 },
            ),
            (
                vec![
                    ntfy("phone", "https://ntfy.sh", "t"),
                    ntfy("phone", "https://ntfy.sh", "u"),
                ],
                "notifications.forward.1.id",
                Problem::SameName,
            ),
            (
                vec![ntfy("", "https://ntfy.sh", "t")],
                "notifications.forward.0.id",
                Problem::NotAName { min: 1, max: 32 },
            ),
        ];
        for (targets, field, problem) in cases {
            assert_eq!(check(&away, &targets), Err((field.to_string(), problem)));
        }
        let relative = ForwardTarget {
            kind: TargetKind::Command {
                program: "pager".into(),
                args: vec![],
            },
            ..ntfy("p", "https://x", "t")
        };
        assert_eq!(
            check(&away, &[relative]),
            Err((
                "notifications.forward.0.program".into(),
                Problem::NotAbsolute
            ))
        );
        let idle = AwaySettings {
            idle_minutes: Some(0),
        };
        assert!(matches!(
            check(&idle, &[]),
            Err((field, Problem::OutOfRange { .. })) if field == "notifications.away.idle_minutes"
        ));
        let many = vec![ntfy("x", "https://x", "t"); MAX_TARGETS + 1];
        assert!(matches!(
            check(&away, &many),
            Err((
                _,
                Problem::TooMany {
                    unit: Unit::Targets,
                    ..
                }
            ))
        ));
    }
}
