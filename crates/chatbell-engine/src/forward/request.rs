//! What each target receives, built from a [`Forward`] without doing anything: pure, and
//! table-tested against the services' documented APIs.
//!
//! - ntfy (<https://docs.ntfy.sh/publish/>): `POST <server>/<topic>`, the text as the body, the
//!   title, priority (1–5), tags and click URL as headers (`Title`, `Priority`, `Tags`, `Click`),
//!   `Authorization: Bearer <token>` when the topic needs one. A header that is not ASCII is
//!   sent RFC 2047 encoded (`=?UTF-8?B?…?=`), which ntfy decodes since 2.4.0.
//! - Gotify (<https://gotify.net/api-docs>): `POST <server>/message`, `X-Gotify-Key: <app
//!   token>`, a JSON body `{title, message, priority (0–10), extras}`, the click URL in
//!   `extras."client::notification".click.url`.
//! - A webhook: `POST <url>` of the [`Forward`] as JSON (`docs/ipc.md`).
//! - A command: the same JSON, one line, on its standard input.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::secret::Secret;
use crate::settings::forward::TargetKind;

/// Why something is told (the model's: the diagnostics' records name it too).
pub use crate::model::ForwardEvent as Event;

/// A chat in a forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardChat {
    pub user_id: i64,
    /// The customer's name; never the text under privacy mode (the text is not here at all).
    pub name: String,
    /// How long they have waited for the agent to open the chat.
    pub waiting_secs: u64,
    pub source: String,
}

/// What to tell, in the agent's words already (`i18n`), privacy mode applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forward {
    #[serde(flatten)]
    pub event: Event,
    pub title: String,
    pub text: String,
    /// Where a click goes: the web panel's chat, when a link is set.
    pub click: Option<String>,
    pub chats: Vec<ForwardChat>,
    pub at: DateTime<Utc>,
}

impl Forward {
    /// ntfy's priority: 1 (min) to 5 (max, "urgent").
    fn ntfy_priority(&self) -> u8 {
        match self.event {
            Event::Urgent { .. } | Event::Lead { .. } => 5,
            Event::Reminder { .. } | Event::Offline => 4,
            Event::NewChat | Event::Online | Event::Test => 3,
        }
    }

    /// Gotify's priority: 0 to 10; Gotify's Android app makes a sound from 4 and pops up
    /// from 8.
    fn gotify_priority(&self) -> u8 {
        match self.event {
            Event::Urgent { .. } | Event::Lead { .. } => 8,
            Event::Reminder { .. } | Event::Offline => 6,
            Event::NewChat => 5,
            Event::Online | Event::Test => 4,
        }
    }

    /// ntfy's tags (emoji short codes shown before the title).
    fn ntfy_tags(&self) -> &'static str {
        match self.event {
            Event::Urgent { .. } | Event::Lead { .. } => "rotating_light",
            Event::Reminder { .. } => "hourglass_flowing_sand",
            Event::NewChat => "speech_balloon",
            Event::Offline => "warning",
            Event::Online | Event::Test => "white_check_mark",
        }
    }
}

/// A request to make. Its address and headers may carry a secret (a webhook's secret address,
/// a token): its `Debug` names the headers only.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("HttpRequest")
            .field("url", &"…")
            .field("headers", &names)
            .field("body", &self.body.len())
            .finish()
    }
}

/// What a target gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Http(HttpRequest),
    Command {
        program: std::path::PathBuf,
        args: Vec<String>,
        stdin: Vec<u8>,
    },
}

/// Why a target cannot be sent to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("Gotify needs its application token: store it with the target")]
    NoGotifyToken,
    #[error("the webhook has no address: store it with the target, or set its url")]
    NoWebhookUrl,
}

/// `forward` as `target` documents it; `secret` is the target's from the keychain (ntfy's
/// access token, Gotify's application token, a webhook's secret address).
pub fn build(
    target: &TargetKind,
    secret: Option<&Secret>,
    forward: &Forward,
) -> Result<Outgoing, BuildError> {
    let json = || serde_json::to_vec(forward).expect("a Forward serializes");
    Ok(match target {
        TargetKind::Ntfy { url, topic } => {
            let mut headers = vec![
                ("Title", header_text(&forward.title)),
                ("Priority", forward.ntfy_priority().to_string()),
                ("Tags", forward.ntfy_tags().to_string()),
            ];
            if let Some(click) = &forward.click {
                headers.push(("Click", click.clone()));
            }
            if let Some(token) = secret {
                headers.push(("Authorization", format!("Bearer {}", token.expose())));
            }
            headers.push(("Content-Type", "text/plain; charset=utf-8".into()));
            Outgoing::Http(HttpRequest {
                url: format!("{}/{}", url.trim_end_matches('/'), topic),
                headers,
                body: forward.text.as_bytes().to_vec(),
            })
        }
        TargetKind::Gotify { url } => {
            let token = secret.ok_or(BuildError::NoGotifyToken)?;
            let mut body = serde_json::json!({
                "title": forward.title,
                "message": forward.text,
                "priority": forward.gotify_priority(),
            });
            if let Some(click) = &forward.click {
                body["extras"] =
                    serde_json::json!({"client::notification": {"click": {"url": click}}});
            }
            Outgoing::Http(HttpRequest {
                url: format!("{}/message", url.trim_end_matches('/')),
                headers: vec![
                    ("X-Gotify-Key", token.expose().to_string()),
                    ("Content-Type", "application/json".into()),
                ],
                body: body.to_string().into_bytes(),
            })
        }
        TargetKind::Webhook { url } => {
            let url = secret
                .map(|s| s.expose().to_string())
                .or_else(|| url.clone())
                .ok_or(BuildError::NoWebhookUrl)?;
            Outgoing::Http(HttpRequest {
                url,
                headers: vec![("Content-Type", "application/json".into())],
                body: json(),
            })
        }
        TargetKind::Command { program, args } => {
            let mut stdin = json();
            stdin.push(b'\n');
            Outgoing::Command {
                program: program.clone(),
                args: args.clone(),
                stdin,
            }
        }
    })
}

/// A header's value: as it is when it is printable ASCII, else RFC 2047's encoded word (the
/// name of a customer is anything but ASCII, and a header cannot carry UTF-8).
fn header_text(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(event: Event, click: Option<&str>) -> Forward {
        Forward {
            event,
            title: "Иван Петров waits".into(),
            text: "12 min without an answer".into(),
            click: click.map(String::from),
            chats: vec![ForwardChat {
                user_id: 42,
                name: "Иван Петров".into(),
                waiting_secs: 720,
                source: "telegram".into(),
            }],
            at: "2026-12-07T10:00:00Z".parse().unwrap(),
        }
    }

    fn http(outgoing: Outgoing) -> HttpRequest {
        match outgoing {
            Outgoing::Http(request) => request,
            other => panic!("not HTTP: {other:?}"),
        }
    }

    #[test]
    fn ntfy_gets_its_documented_headers_and_the_text_as_body() {
        let target = TargetKind::Ntfy {
            url: "https://ntfy.example.com/".into(),
            topic: "support-ann".into(),
        };
        let token = Secret::new("tk_abc");
        let urgent = forward(Event::Urgent { step: 3 }, Some("https://panel/chat/42"));
        let request = http(build(&target, Some(&token), &urgent).unwrap());
        assert_eq!(request.url, "https://ntfy.example.com/support-ann");
        assert_eq!(request.body, b"12 min without an answer");
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            header("Title"),
            Some("=?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCyIHdhaXRz?=")
        );
        assert_eq!(header("Priority"), Some("5"));
        assert_eq!(header("Tags"), Some("rotating_light"));
        assert_eq!(header("Click"), Some("https://panel/chat/42"));
        assert_eq!(header("Authorization"), Some("Bearer tk_abc"));

        // No token, no link: neither header; an ASCII title as it is.
        let mut plain = forward(Event::NewChat, None);
        plain.title = "Ann waits".into();
        let request = http(build(&target, None, &plain).unwrap());
        let names: Vec<&str> = request.headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["Title", "Priority", "Tags", "Content-Type"]);
        assert_eq!(request.headers[0].1, "Ann waits");
        assert_eq!(request.headers[1].1, "3");
    }

    #[test]
    fn gotify_gets_its_key_header_and_json_with_the_click_in_extras() {
        let target = TargetKind::Gotify {
            url: "https://gotify.example.com".into(),
        };
        let reminder = forward(Event::Reminder { step: 2 }, Some("https://panel/chat/42"));
        assert_eq!(
            build(&target, None, &reminder),
            Err(BuildError::NoGotifyToken)
        );
        let key = Secret::new("AppTok.1");
        let request = http(build(&target, Some(&key), &reminder).unwrap());
        assert_eq!(request.url, "https://gotify.example.com/message");
        assert!(
            request
                .headers
                .contains(&("X-Gotify-Key", "AppTok.1".into()))
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "title": "Иван Петров waits",
                "message": "12 min without an answer",
                "priority": 6,
                "extras": {"client::notification": {"click": {"url": "https://panel/chat/42"}}}
            })
        );
    }

    #[test]
    fn a_webhook_and_a_command_get_the_forward_as_json() {
        let lead = forward(Event::Lead { step: 3 }, None);
        let expected = serde_json::json!({
            "event": "lead",
            "step": 3,
            "title": "Иван Петров waits",
            "text": "12 min without an answer",
            "click": null,
            "chats": [{"user_id": 42, "name": "Иван Петров", "waiting_secs": 720, "source": "telegram"}],
            "at": "2026-12-07T10:00:00Z"
        });
        let hook = TargetKind::Webhook { url: None };
        assert_eq!(build(&hook, None, &lead), Err(BuildError::NoWebhookUrl));
        let secret_url = Secret::new("https://hooks.example.com/T0/secret");
        let request = http(build(&hook, Some(&secret_url), &lead).unwrap());
        assert_eq!(request.url, "https://hooks.example.com/T0/secret");
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, expected);

        let command = TargetKind::Command {
            program: "/usr/local/bin/page-me".into(),
            args: vec!["--team".into(), "support".into()],
        };
        let Outgoing::Command {
            program,
            args,
            stdin,
        } = build(&command, None, &lead).unwrap()
        else {
            panic!("not a command");
        };
        assert_eq!(program, std::path::PathBuf::from("/usr/local/bin/page-me"));
        assert_eq!(args, ["--team", "support"]);
        assert_eq!(stdin.last(), Some(&b'\n'));
        let line: serde_json::Value = serde_json::from_slice(&stdin).unwrap();
        assert_eq!(line, expected);
    }
}
