//! The words of a notification, in English or Russian.

use crate::coalesce::Content;
use crate::model::NotifyKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// The language of the OS locale, English unless it is Russian.
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("ru") => Lang::Ru,
            _ => Lang::En,
        }
    }
}

/// Longest summary and body, in characters. Notification servers cut or wrap long text
/// unpredictably; a chat notification needs the first lines only.
pub const MAX_SUMMARY_CHARS: usize = 80;
pub const MAX_BODY_CHARS: usize = 240;

/// A notification's text, plain (not yet escaped for any markup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words {
    pub summary: String,
    pub body: String,
    /// The label of the default action.
    pub open_label: &'static str,
}

/// Russian plural form: 1 сообщение, 2 сообщения, 5 сообщений (21 сообщение, 11 сообщений).
fn ru_plural<'a>(n: u32, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    match (n % 10, n % 100) {
        (1, r) if r != 11 => one,
        (2..=4, r) if !(12..=14).contains(&r) => few,
        _ => many,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(path)
}

/// The label of a notification's default action.
pub fn open_label(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Open",
        Lang::Ru => "Открыть",
    }
}

pub fn words(content: &Content, lang: Lang, privacy: bool) -> Words {
    let open_label = open_label(lang);
    let (summary, body) = match content {
        Content::Chat {
            name,
            kind,
            count,
            text,
            file_path,
            ..
        } => {
            let summary = match (lang, kind, count) {
                (Lang::En, NotifyKind::NewChat, 1) => format!("New chat: {name}"),
                (Lang::Ru, NotifyKind::NewChat, 1) => format!("Новый чат: {name}"),
                (_, _, 1) => name.clone(),
                (Lang::En, _, n) => format!("{name} · {n} new messages"),
                (Lang::Ru, _, n) => {
                    format!(
                        "{name} · {n} {}",
                        ru_plural(*n, "новое сообщение", "новых сообщения", "новых сообщений")
                    )
                }
            };
            let body = if privacy {
                String::new()
            } else {
                let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty());
                match (text, file_path) {
                    (Some(text), _) => text.to_string(),
                    (None, Some(path)) => match lang {
                        Lang::En => format!("Attachment: {}", file_name(path)),
                        Lang::Ru => format!("Вложение: {}", file_name(path)),
                    },
                    (None, None) => String::new(),
                }
            };
            (summary, body)
        }
        Content::Digest {
            messages,
            chats,
            names,
        } => {
            let summary = match lang {
                Lang::En => format!("{messages} new messages in {chats} chats"),
                Lang::Ru => format!(
                    "{messages} {} в {chats} {}",
                    ru_plural(
                        *messages,
                        "новое сообщение",
                        "новых сообщения",
                        "новых сообщений"
                    ),
                    if chats % 10 == 1 && chats % 100 != 11 {
                        "чате"
                    } else {
                        "чатах"
                    }
                ),
            };
            // Names say who is waiting without saying what they wrote, so privacy mode keeps them.
            (summary, names.join(", "))
        }
    };
    Words {
        summary: truncate(&summary, MAX_SUMMARY_CHARS),
        body: truncate(&body, MAX_BODY_CHARS),
        open_label,
    }
}

/// Cuts text to at most `max` characters (never inside a UTF-8 sequence), marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let cut: String = text.chars().take(max.saturating_sub(1)).collect();
            format!("{}…", cut.trim_end())
        }
    }
}

/// Escapes text for the freedesktop body markup (a subset of HTML): what a customer typed is
/// shown as typed, never as bold text or a link.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(kind: NotifyKind, count: u32, text: Option<&str>, file: Option<&str>) -> Content {
        Content::Chat {
            user_id: 1,
            name: "Иван Петров".into(),
            kind,
            count,
            text: text.map(Into::into),
            file_path: file.map(Into::into),
        }
    }

    #[test]
    fn words_in_both_languages() {
        use NotifyKind::*;
        let cases = [
            (
                chat(NewChat, 1, Some("Привет!"), None),
                Lang::En,
                false,
                "New chat: Иван Петров",
                "Привет!",
            ),
            (
                chat(NewChat, 1, Some("Привет!"), None),
                Lang::Ru,
                false,
                "Новый чат: Иван Петров",
                "Привет!",
            ),
            (
                chat(NewMessage, 1, Some(" hi "), None),
                Lang::En,
                false,
                "Иван Петров",
                "hi",
            ),
            (
                chat(NewMessage, 3, Some("x"), None),
                Lang::En,
                false,
                "Иван Петров · 3 new messages",
                "x",
            ),
            (
                chat(NewMessage, 2, Some("x"), None),
                Lang::Ru,
                false,
                "Иван Петров · 2 новых сообщения",
                "x",
            ),
            (
                chat(NewMessage, 5, Some("x"), None),
                Lang::Ru,
                false,
                "Иван Петров · 5 новых сообщений",
                "x",
            ),
            (
                chat(NewMessage, 21, Some("x"), None),
                Lang::Ru,
                false,
                "Иван Петров · 21 новое сообщение",
                "x",
            ),
            (
                chat(NewMessage, 1, None, Some("uploads/2026/receipt.pdf")),
                Lang::En,
                false,
                "Иван Петров",
                "Attachment: receipt.pdf",
            ),
            (
                chat(NewMessage, 1, None, Some("a/b/фото.jpg")),
                Lang::Ru,
                false,
                "Иван Петров",
                "Вложение: фото.jpg",
            ),
            (
                chat(NewMessage, 1, Some("secret"), None),
                Lang::En,
                true,
                "Иван Петров",
                "",
            ),
            (
                Content::Digest {
                    messages: 12,
                    chats: 5,
                    names: vec!["A".into(), "B".into()],
                },
                Lang::En,
                false,
                "12 new messages in 5 chats",
                "A, B",
            ),
            (
                Content::Digest {
                    messages: 12,
                    chats: 21,
                    names: vec!["A".into()],
                },
                Lang::Ru,
                true,
                "12 новых сообщений в 21 чате",
                "A",
            ),
        ];
        for (content, lang, privacy, summary, body) in cases {
            let w = words(&content, lang, privacy);
            assert_eq!(
                (w.summary.as_str(), w.body.as_str()),
                (summary, body),
                "{content:?} {lang:?}"
            );
        }
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("короткий", 10), "короткий");
        assert_eq!(truncate("абвгдеёжзий", 5), "абвг…");
        assert_eq!(truncate("👍👍👍👍", 3), "👍👍…");
        assert_eq!(truncate("ab   cd", 4), "ab…");
        let long = "я".repeat(1000);
        let w = words(
            &chat(NotifyKind::NewMessage, 1, Some(&long), None),
            Lang::Ru,
            false,
        );
        assert_eq!(w.body.chars().count(), MAX_BODY_CHARS);
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup(r#"<b>x</b> & <a href="http://e.vil">'y'</a>"#),
            "&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href=&quot;http://e.vil&quot;&gt;&apos;y&apos;&lt;/a&gt;"
        );
    }

    #[test]
    fn locale_picks_the_language() {
        assert_eq!(Lang::from_locale(Some("ru_RU.UTF-8")), Lang::Ru);
        assert_eq!(Lang::from_locale(Some("en_US")), Lang::En);
        assert_eq!(Lang::from_locale(Some("de")), Lang::En);
        assert_eq!(Lang::from_locale(None), Lang::En);
    }
}
