//! What is wrong with a setting's value, as data: [`Problem`] crosses to the window with the
//! field it is about (`CommandError::Setting`), and the window words it in the agent's language
//! and points at the field; `Display` is the same in English, for logs and the command line.
//! No problem quotes the value: it may be a token pasted into the wrong field.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::web_panel::WebPanelError;

/// What a number or a count is of (the sentence's unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Minutes,
    Seconds,
    Days,
    Percent,
    Characters,
    UserIds,
    MutedChats,
    Sources,
    Targets,
    /// Reminder steps.
    Steps,
}

impl Unit {
    fn word(self) -> &'static str {
        match self {
            Unit::Minutes => " minutes",
            Unit::Seconds => " seconds",
            Unit::Days => " days",
            Unit::Percent => "",
            Unit::Characters => " characters",
            Unit::UserIds => " user ids",
            Unit::MutedChats => " muted chats",
            Unit::Sources => " sources",
            Unit::Targets => " targets",
            Unit::Steps => "",
        }
    }
}

/// The bounds of a setting that takes a number (or a count, or a length): what the engine
/// accepts, given to the window in `AppInfo.limits` so that the page keeps no copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    pub min: u64,
    pub max: u64,
    pub unit: Unit,
}

impl Bounds {
    pub fn of<T: Copy + Into<u64>>(range: &RangeInclusive<T>, unit: Unit) -> Bounds {
        Bounds {
            min: (*range.start()).into(),
            max: (*range.end()).into(),
            unit,
        }
    }

    /// `value` within the bounds, or the problem that it is not.
    pub fn check(self, value: impl Into<u64>) -> Result<(), Problem> {
        let value = value.into();
        if (self.min..=self.max).contains(&value) {
            Ok(())
        } else {
            Err(Problem::OutOfRange {
                min: self.min,
                max: self.max,
                unit: self.unit,
            })
        }
    }
}

/// The kinds of trouble a setting's value can be in. On the wire `{ kind: "out_of_range", min,
/// max, unit }`, `{ kind: "scheme", expected: ["ws://", "wss://"] }`… (`docs/ipc.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A number outside `min..=max`.
    #[error("must be from {min} to {max}{}", unit.word())]
    OutOfRange { min: u64, max: u64, unit: Unit },
    /// More entries than `max`.
    #[error("at most {max}{}", unit.word())]
    TooMany { max: u64, unit: Unit },
    /// Longer than `max` characters.
    #[error("is longer than {max} characters")]
    TooLong { max: u64 },
    /// A name (the token's query parameter) of `min`–`max` letters, digits, `_` or `-`.
    #[error("must be {min}–{max} letters, digits, '_' or '-'")]
    NotAName { min: u64, max: u64 },
    /// A source's name: `min`–`max` characters, no spaces.
    #[error("a source's name must be {min}–{max} characters without spaces")]
    NotASourceName { min: u64, max: u64 },
    /// Quiet hours that start when they end.
    #[error("start and end are the same time")]
    SameTimes,
    /// A name that another item of the same list already has.
    #[error("another one has this name")]
    SameName,
    /// An address with spaces or control characters in it.
    #[error("contains spaces or control characters")]
    Spaces,
    /// An address that does not start with one of `expected`.
    #[error("must start with {}", expected.join(" or "))]
    Scheme { expected: Vec<String> },
    /// An address with no host after the scheme.
    #[error("has no host after the scheme")]
    NoHost,
    /// A user name or password before the host (for the server: the token belongs in the
    /// keychain, not in the address).
    #[error("must not carry a user name or password before the host")]
    Credentials,
    /// An address the URL parser refuses; `why` is its words, which quote nothing of it.
    #[error("is not a valid address ({why})")]
    NotAnAddress { why: String },
    /// A web panel placeholder in the host.
    #[error("placeholders may only come after the host (in the path or the query)")]
    PlaceholderInHost,
    /// A placeholder the web panel link does not have (`name`: what was written).
    #[error("unknown placeholder {{{name}}}: use {{user_id}}, {{username}} or {{source}}")]
    UnknownPlaceholder { name: String },
    /// A `{` without its `}`.
    #[error("has a {{ without its }}")]
    Unclosed,
    /// A `}` without its `{`.
    #[error("has a }} without its {{")]
    Unopened,
    /// Not a proxy setting: `"system"`, `"none"` or an `http://`/`socks5://` URL.
    #[error("must be \"system\", \"none\" or a proxy address such as http://proxy:3128")]
    NotAProxy,
    /// A proxy address with a password in it: it belongs in the keychain.
    #[error("must not carry a password: save it as the proxy password")]
    ProxyPassword,
    /// A file's path that does not start at the root (or a drive).
    #[error("must be a full path")]
    NotAbsolute,
    /// A client key without the certificate it goes with.
    #[error("is needed with a client key")]
    KeyWithoutCertificate,
    /// Set by the organization (`locked` in its file): not the agent's to change.
    #[error("is set by your organization")]
    Locked,
    /// A key the settings do not have (a typo in a dotted key, or in the organization's file).
    #[error("is not a setting")]
    NoSuchSetting,
    /// A value of the wrong kind for the setting (text where a number goes).
    #[error("is not a value this setting takes")]
    WrongType,
    /// Saved, but what it configures refused it (`error`: the system's words), e.g. start at
    /// login.
    #[error("could not be applied: {error}")]
    NotApplied { error: String },
}

impl From<super::ProxyProblem> for Problem {
    fn from(e: super::ProxyProblem) -> Problem {
        use super::ProxyProblem as P;
        match e {
            P::Password => Problem::ProxyPassword,
            P::NotAUrl | P::Scheme | P::Shape => Problem::NotAProxy,
        }
    }
}

impl From<WebPanelError> for Problem {
    fn from(e: WebPanelError) -> Problem {
        match e {
            WebPanelError::Scheme => Problem::Scheme {
                expected: vec!["https://".into(), "http://".into()],
            },
            WebPanelError::NoHost => Problem::NoHost,
            WebPanelError::UserInfo => Problem::Credentials,
            WebPanelError::PlaceholderInHost => Problem::PlaceholderInHost,
            WebPanelError::Whitespace => Problem::Spaces,
            WebPanelError::TooLong => Problem::TooLong {
                max: crate::web_panel::MAX_TEMPLATE_LEN as u64,
            },
            WebPanelError::UnknownPlaceholder(name) => Problem::UnknownPlaceholder { name },
            WebPanelError::Unclosed => Problem::Unclosed,
            WebPanelError::Unopened => Problem::Unopened,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn problems_cross_as_tagged_data_and_read_back() {
        let cases = [
            (
                Problem::OutOfRange {
                    min: 1,
                    max: 1440,
                    unit: Unit::Minutes,
                },
                json!({ "kind": "out_of_range", "min": 1, "max": 1440, "unit": "minutes" }),
                "must be from 1 to 1440 minutes",
            ),
            (
                Problem::TooMany {
                    max: 1000,
                    unit: Unit::UserIds,
                },
                json!({ "kind": "too_many", "max": 1000, "unit": "user_ids" }),
                "at most 1000 user ids",
            ),
            (
                Problem::Scheme {
                    expected: vec!["ws://".into(), "wss://".into()],
                },
                json!({ "kind": "scheme", "expected": ["ws://", "wss://"] }),
                "must start with ws:// or wss://",
            ),
            (
                Problem::UnknownPlaceholder { name: "id".into() },
                json!({ "kind": "unknown_placeholder", "name": "id" }),
                "unknown placeholder {id}: use {user_id}, {username} or {source}",
            ),
            (
                Problem::SameTimes,
                json!({ "kind": "same_times" }),
                "start and end are the same time",
            ),
            (
                Problem::SameName,
                json!({ "kind": "same_name" }),
                "another one has this name",
            ),
        ];
        for (problem, wire, words) in cases {
            assert_eq!(serde_json::to_value(&problem).unwrap(), wire);
            assert_eq!(serde_json::from_value::<Problem>(wire).unwrap(), problem);
            assert_eq!(problem.to_string(), words);
        }
    }

    #[test]
    fn bounds_check_their_edges() {
        let bounds = Bounds::of(&(10u32..=3600), Unit::Seconds);
        assert_eq!(bounds.check(10u32), Ok(()));
        assert_eq!(bounds.check(3600u32), Ok(()));
        for outside in [0u32, 9, 3601, u32::MAX] {
            assert_eq!(
                bounds.check(outside),
                Err(Problem::OutOfRange {
                    min: 10,
                    max: 3600,
                    unit: Unit::Seconds
                })
            );
        }
    }

    /// Each of the web panel parser's kinds becomes a problem, worded once here.
    #[test]
    fn every_web_panel_error_is_a_problem() {
        let cases = [
            ("ftp://x/", "must start with https:// or http://"),
            ("https:///x", "has no host after the scheme"),
            (
                "https://u:p@host/",
                "must not carry a user name or password before the host",
            ),
            (
                "https://{user_id}.example.com/",
                "placeholders may only come after the host (in the path or the query)",
            ),
            ("https://host/a b", "contains spaces or control characters"),
            (
                "https://host/{chat}",
                "unknown placeholder {chat}: use {user_id}, {username} or {source}",
            ),
            ("https://host/{user_id", "has a { without its }"),
            ("https://host/}", "has a } without its {"),
        ];
        for (template, words) in cases {
            let e = crate::web_panel::WebPanel::parse(template).unwrap_err();
            assert_eq!(Problem::from(e).to_string(), words, "{template}");
        }
        let long = format!(
            "https://x/{}",
            "a".repeat(crate::web_panel::MAX_TEMPLATE_LEN)
        );
        let e = crate::web_panel::WebPanel::parse(&long).unwrap_err();
        assert_eq!(
            Problem::from(e).to_string(),
            "is longer than 2048 characters"
        );
    }
}
