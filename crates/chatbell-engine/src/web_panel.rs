//! The link to the service's web panel, where the agent answers: a URL template the agent
//! configures, filled with a chat's fields. Nothing from the network is ever opened as a URL
//! except through this template, and what the network supplies (a username, a source) can
//! only ever land in the path or query, percent-encoded.

use chatbell_protocol::UserId;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters is encoded, `/`, `?`, `&`, `#` and `%`
/// included: a value cannot add a path segment, a parameter or a fragment.
pub(crate) const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest template accepted (browsers take longer URLs; a template is never this long).
pub const MAX_TEMPLATE_LEN: usize = 2048;

/// The placeholders a template may use, in the order the help text names them.
pub const PLACEHOLDERS: [&str; 3] = ["user_id", "username", "source"];

/// Why a template cannot be used. The words are the settings' (`settings::Problem`, which
/// each kind becomes): the window words them in the agent's language, the logs in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebPanelError {
    /// Not `https://` or `http://`.
    Scheme,
    NoHost,
    /// A user name or password before the host.
    UserInfo,
    PlaceholderInHost,
    /// Spaces or control characters.
    Whitespace,
    /// Longer than [`MAX_TEMPLATE_LEN`].
    TooLong,
    /// A placeholder other than [`PLACEHOLDERS`], as written.
    UnknownPlaceholder(String),
    /// A `{` without its `}`.
    Unclosed,
    /// A `}` without its `{`.
    Unopened,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    UserId,
    Username,
    Source,
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPanel {
    parts: Vec<Part>,
}

/// The fields of a chat a link is filled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatFields<'a> {
    pub user_id: UserId,
    pub username: Option<&'a str>,
    pub source: Option<&'a str>,
}

impl WebPanel {
    pub fn parse(template: &str) -> Result<WebPanel, WebPanelError> {
        if template.len() > MAX_TEMPLATE_LEN {
            return Err(WebPanelError::TooLong);
        }
        if template
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(WebPanelError::Whitespace);
        }
        let lower = template.to_ascii_lowercase();
        let scheme_len = ["https://", "http://"]
            .into_iter()
            .find(|s| lower.starts_with(s))
            .ok_or(WebPanelError::Scheme)?
            .len();
        let rest = &template[scheme_len..];
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.contains(['{', '}']) {
            return Err(WebPanelError::PlaceholderInHost);
        }
        if host.contains('@') {
            return Err(WebPanelError::UserInfo);
        }
        if host.is_empty() {
            return Err(WebPanelError::NoHost);
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = template.chars();
        while let Some(c) = chars.next() {
            match c {
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => return Err(WebPanelError::Unclosed),
                            Some(c) => name.push(c),
                        }
                    }
                    let part = match name.as_str() {
                        "user_id" => Part::UserId,
                        "username" => Part::Username,
                        "source" => Part::Source,
                        _ => return Err(WebPanelError::UnknownPlaceholder(name)),
                    };
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(part);
                }
                '}' => return Err(WebPanelError::Unopened),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(WebPanel { parts })
    }

    /// The link for a chat; the chat's fields percent-encoded (a missing one is empty).
    pub fn url_for(&self, chat: ChatFields<'_>) -> String {
        let mut url = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => url.push_str(t),
                Part::UserId => url.push_str(&chat.user_id.to_string()),
                Part::Username => {
                    url.extend(utf8_percent_encode(chat.username.unwrap_or(""), VALUE))
                }
                Part::Source => url.extend(utf8_percent_encode(chat.source.unwrap_or(""), VALUE)),
            }
        }
        url
    }

    /// The link for a sample chat, for the settings page's preview.
    pub fn preview(&self) -> String {
        self.url_for(ChatFields {
            user_id: 123_456_789,
            username: Some("ivan_petrov"),
            source: Some("telegram"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use WebPanelError::*;

    #[test]
    fn templates_are_checked_and_the_error_says_what_is_wrong() {
        let cases: [(&str, Result<(), WebPanelError>); 16] = [
            ("https://support.example.com/chats/{user_id}", Ok(())),
            ("HTTP://panel.local:8080/c?u={username}&s={source}", Ok(())),
            ("https://x.example/", Ok(())),
            ("javascript:alert(1)//{user_id}", Err(Scheme)),
            ("file:///etc/passwd", Err(Scheme)),
            ("support.example.com/chats/{user_id}", Err(Scheme)),
            ("ftp://x.example/{user_id}", Err(Scheme)),
            ("https:///chats", Err(NoHost)),
            ("https://{username}.example.com/", Err(PlaceholderInHost)),
            ("https://evil.example@support.example.com/", Err(UserInfo)),
            (
                "https://x.example/{user}",
                Err(UnknownPlaceholder("user".into())),
            ),
            ("https://x.example/{user_id", Err(Unclosed)),
            ("https://x.example/{{user_id}}", Err(Unclosed)),
            ("https://x.example/user_id}", Err(Unopened)),
            ("https://x.example/a b", Err(Whitespace)),
            ("https://x.example/\u{7}", Err(Whitespace)),
        ];
        for (template, want) in cases {
            assert_eq!(WebPanel::parse(template).map(|_| ()), want, "{template}");
        }
        let long = format!("https://x.example/{}", "a".repeat(MAX_TEMPLATE_LEN));
        assert_eq!(WebPanel::parse(&long), Err(TooLong));
    }

    #[test]
    fn values_from_the_network_are_percent_encoded() {
        let panel =
            WebPanel::parse("https://support.example.com/chats/{user_id}?u={username}&s={source}")
                .unwrap();
        let url = panel.url_for(ChatFields {
            user_id: -42,
            username: Some("../a b?x=\"q'&y=1#z%"),
            source: Some("виджет"),
        });
        assert_eq!(
            url,
            "https://support.example.com/chats/-42?u=..%2Fa%20b%3Fx%3D%22q%27%26y%3D1%23z%25&s=%D0%B2%D0%B8%D0%B4%D0%B6%D0%B5%D1%82"
        );
        let none = panel.url_for(ChatFields {
            user_id: 7,
            username: None,
            source: None,
        });
        assert_eq!(none, "https://support.example.com/chats/7?u=&s=");
        assert_eq!(
            panel.preview(),
            "https://support.example.com/chats/123456789?u=ivan_petrov&s=telegram"
        );
    }
}
