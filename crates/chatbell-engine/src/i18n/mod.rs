//! The words Chatbell says in Rust — notifications, the tray, the window's title — in English
//! and Russian: one table per language (`en.rs`, `ru.rs`), and the functions here that pick
//! from a table and put the words together (truncation, which words for which case). The
//! window's page has its own catalogue (`ui/js/i18n`); where both say the same thing (how long
//! someone has waited) a test compares them.

mod en;
mod ru;

use std::time::Duration;

use chrono::NaiveTime;

use crate::coalesce::Content;
use crate::model::{Alert, AlertLevel, NotifyKind};
use crate::net::{NetFailure, Route, TrustUsed};
use crate::outage::{Notice, OutageCause};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    /// The language a settings choice means, following the OS locale for `System`.
    pub fn of(language: crate::settings::Language) -> Lang {
        match language {
            crate::settings::Language::En => Lang::En,
            crate::settings::Language::Ru => Lang::Ru,
            crate::settings::Language::System => {
                Lang::from_locale(sys_locale::get_locale().as_deref())
            }
        }
    }

    /// The language of the OS locale, English unless it is Russian.
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("ru") => Lang::Ru,
            _ => Lang::En,
        }
    }

    fn table(self) -> &'static Table {
        match self {
            Lang::En => &en::TABLE,
            Lang::Ru => &ru::TABLE,
        }
    }
}

/// One language's words. A phrase with something in it is a function, so each language
/// orders, inflects and punctuates it its own way.
struct Table {
    labels: Labels,
    tray_open: &'static str,
    tray_pause: &'static str,
    tray_resume: &'static str,
    tray_quit: &'static str,
    nobody_waiting: &'static str,
    waiting: fn(u32) -> String,
    waiting_longest: fn(u32, &str) -> String,
    title_waiting: fn(u32) -> String,
    test_summary: &'static str,
    test_body: &'static str,
    fallback_demo: fn(&str) -> String,
    fallback_connection: fn(&str) -> String,
    token_refused: &'static str,
    token_refused_body: &'static str,
    offline_since: fn(&str) -> String,
    offline_body: fn(&str) -> String,
    /// A failure the agent can act on: what is wrong, what to do.
    offline_failure: fn(&str, &str) -> String,
    no_network: &'static str,
    unreachable: &'static str,
    back: &'static str,
    back_body: fn(&str, &str) -> String,
    /// Under a minute, and the units: minutes, hours, days.
    units: [&'static str; 4],
    urgent: &'static str,
    /// (prefix, name, wait)
    one_waiting: fn(&str, &str, &str) -> String,
    /// (prefix, chats, wait)
    many_waiting: fn(&str, u32, &str) -> String,
    and_more: fn(usize) -> String,
    new_chat: fn(&str) -> String,
    new_messages: fn(&str, u32) -> String,
    attachment: fn(&str) -> String,
    /// (messages, chats)
    digest: fn(u32, u32) -> String,
    /// The tray's first line while away: (the targets' names)
    away_line: fn(&str) -> String,
    /// Back at the desk: (chats forwarded, longest wait), (the targets' names)
    away_summary: fn(u32, &str) -> String,
    away_body: fn(&str) -> String,
    /// To the lead: (name, wait), (chats, longest wait)
    lead_one: fn(&str, &str) -> String,
    lead_many: fn(u32, &str) -> String,
    /// A target that refuses: (its name)
    forward_trouble: fn(&str) -> String,
    forward_dropped: &'static str,
    forward_withdrawn: &'static str,
    keychain_silent: &'static str,
}

/// The labels of a notification's default action and buttons.
#[derive(Debug)]
pub struct Labels {
    pub open: &'static str,
    pub read: &'static str,
    pub snooze: &'static str,
    pub web_panel: &'static str,
    pub open_settings: &'static str,
}

pub fn labels(lang: Lang) -> &'static Labels {
    &lang.table().labels
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

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(path)
}

/// Who waits, in a line (the tray menu's first): "3 waiting · longest 7 min", or "Nobody
/// waiting".
pub fn waiting_line(chats: u32, longest: Option<Duration>, lang: Lang) -> String {
    let t = lang.table();
    match (chats, longest) {
        (0, _) => t.nobody_waiting.into(),
        (n, Some(w)) => (t.waiting_longest)(n, &wait_text(w, lang)),
        (n, None) => (t.waiting)(n),
    }
}

/// The window's title: "Chatbell — 3 waiting", plain "Chatbell" when nobody waits.
pub fn window_title(chats: u32, lang: Lang) -> String {
    match chats {
        0 => "Chatbell".into(),
        n => (lang.table().title_waiting)(n),
    }
}

/// The tray menu's items.
pub struct TrayWords {
    pub open: &'static str,
    pub pause: &'static str,
    pub resume: &'static str,
    pub quit: &'static str,
}

pub fn tray_words(lang: Lang) -> TrayWords {
    let t = lang.table();
    TrayWords {
        open: t.tray_open,
        pause: t.tray_pause,
        resume: t.tray_resume,
        quit: t.tray_quit,
    }
}

/// The sample notification of "Test my alerts".
pub fn test_words(lang: Lang) -> Words {
    let t = lang.table();
    Words {
        summary: t.test_summary.into(),
        body: t.test_body.into(),
        open_label: t.labels.open,
    }
}

/// What the desktop app says once it shows its database without a connection, because the demo
/// (`demo`) or the connection could not start for `error`.
pub fn fallback_notice(demo: bool, error: &str, lang: Lang) -> String {
    let t = lang.table();
    match demo {
        true => (t.fallback_demo)(error),
        false => (t.fallback_connection)(error),
    }
}

/// The alarm when Chatbell cannot hear the service, and its end.
/// The alarm words `failure`, the last one seen, where it says more than "cannot be reached".
pub fn outage_words(notice: &Notice, failure: Option<&NetFailure>, lang: Lang) -> Words {
    use NetFailure as F;
    let t = lang.table();
    let hhmm = |t: &NaiveTime| t.format("%H:%M").to_string();
    let telling = failure.filter(|f| {
        !matches!(
            f,
            F::Lost { .. } | F::Other { .. } | F::Refused { .. } | F::Timeout { .. } | F::NoNetwork
        )
    });
    let (summary, body) = match notice {
        Notice::Offline {
            cause: OutageCause::TokenRefused,
            ..
        } => (t.token_refused.into(), t.token_refused_body.into()),
        Notice::Offline { since, cause, .. } => (
            (t.offline_since)(&hhmm(since)),
            match telling {
                Some(f) => {
                    let w = net_words(f, lang);
                    (t.offline_failure)(&w.what, &w.todo)
                }
                None => (t.offline_body)(match cause {
                    OutageCause::NoNetwork => t.no_network,
                    _ => t.unreachable,
                }),
            },
        ),
        Notice::Back { from, to } => (t.back.into(), (t.back_body)(&hhmm(from), &hhmm(to))),
        Notice::Withdrawn => (String::new(), String::new()),
    };
    Words {
        summary,
        body,
        open_label: t.labels.open,
    }
}

/// A connection failure in words: what is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NetWords {
    pub what: String,
    pub todo: String,
}

impl std::fmt::Display for NetFailure {
    /// English, for logs and errors that have no language: the same sentences as the app's.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words = net_words(self, Lang::En);
        write!(f, "{} {}", words.what, words.todo)
    }
}

pub fn net_words(failure: &NetFailure, lang: Lang) -> NetWords {
    let (what, todo) = match lang {
        Lang::En => en::net(failure),
        Lang::Ru => ru::net(failure),
    };
    NetWords { what, todo }
}

/// The way a connection took: "via proxy http://proxy:3128 from the desktop's settings".
pub fn route_words(route: &Route, lang: Lang) -> String {
    let proxy = route.proxy.as_ref().map(ToString::to_string);
    match lang {
        Lang::En => en::route(proxy.as_deref(), route.source),
        Lang::Ru => ru::route(proxy.as_deref(), route.source),
    }
}

/// Which certificates verified the server.
pub fn trust_words(trust: &TrustUsed, lang: Lang) -> String {
    let extra = trust.extra_ca.as_ref().map(|p| p.display().to_string());
    match lang {
        Lang::En => en::trust(trust.store, extra.as_deref()),
        Lang::Ru => ru::trust(trust.store, extra.as_deref()),
    }
}

/// How long someone has waited, rounded down so it never claims a minute not yet waited:
/// "<1 min", "7 min", "1 h", "1 h 5 min", then "2 d 3 h". The chat list says it in the same
/// words (`duration.*` in `ui/js/i18n`; a test compares them).
pub fn wait_text(waited: Duration, lang: Lang) -> String {
    let minutes = waited.as_secs() / 60;
    let (hours, days) = (minutes / 60, minutes / (24 * 60));
    let [under, min, hour, day] = lang.table().units;
    match (days, hours % 24, minutes % 60) {
        _ if minutes < 1 => under.into(),
        (0, 0, m) => format!("{m} {min}"),
        (0, h, 0) => format!("{h} {hour}"),
        (0, h, m) => format!("{h} {hour} {m} {min}"),
        (d, 0, _) => format!("{d} {day}"),
        (d, h, _) => format!("{d} {day} {h} {hour}"),
    }
}

/// The words of a reminder: about one chat, or a digest of several, the longest wait first.
pub fn reminder_words(alerts: &[Alert], lang: Lang, privacy: bool) -> Words {
    let t = lang.table();
    let urgent = alerts.iter().any(|a| a.level == AlertLevel::Urgent);
    let longest = alerts.iter().map(|a| a.waited).max().unwrap_or_default();
    let wait = wait_text(longest, lang);
    let prefix = if urgent { t.urgent } else { "" };
    let (summary, body) = match alerts {
        [one] => {
            let chat = Content::Chat {
                user_id: one.user_id,
                name: one.name.clone(),
                kind: NotifyKind::NewMessage,
                count: 1,
                text: one.text.clone(),
                file_path: one.file_path.clone(),
            };
            (
                (t.one_waiting)(prefix, &one.name, &wait),
                words(&chat, lang, privacy).body,
            )
        }
        many => {
            let shown: Vec<&str> = many.iter().take(3).map(|a| a.name.as_str()).collect();
            let mut body = shown.join(", ");
            let more = many.len().saturating_sub(shown.len());
            if more > 0 {
                body.push_str(&(t.and_more)(more));
            }
            ((t.many_waiting)(prefix, many.len() as u32, &wait), body)
        }
    };
    Words {
        summary: truncate(&summary, MAX_SUMMARY_CHARS),
        body: truncate(&body, MAX_BODY_CHARS),
        open_label: t.labels.open,
    }
}

/// The tray's first line while the agent is away and reminders go to `targets`.
pub fn away_line(targets: &str, lang: Lang) -> String {
    (lang.table().away_line)(targets)
}

/// Back at the desk: "While you were away: 3 chats, longest 14 min", and where they went.
pub fn away_summary(chats: u32, longest: Duration, targets: &str, lang: Lang) -> (String, String) {
    let t = lang.table();
    (
        (t.away_summary)(chats, &wait_text(longest, lang)),
        (t.away_body)(targets),
    )
}

/// The hand-off to the lead: who has waited how long for someone to open the chat (the
/// names only: the lead is told who, not what).
pub fn lead_words(alerts: &[Alert], lang: Lang) -> (String, String) {
    let t = lang.table();
    let longest = alerts.iter().map(|a| a.waited).max().unwrap_or_default();
    let wait = wait_text(longest, lang);
    let title = match alerts {
        [one] => (t.lead_one)(&one.name, &wait),
        many => (t.lead_many)(many.len() as u32, &wait),
    };
    let names: Vec<&str> = alerts.iter().take(5).map(|a| a.name.as_str()).collect();
    let mut body = names.join(", ");
    let more = alerts.len().saturating_sub(names.len());
    if more > 0 {
        body.push_str(&(t.and_more)(more));
    }
    (
        truncate(&title, MAX_SUMMARY_CHARS),
        truncate(&body, MAX_BODY_CHARS),
    )
}

/// Why a forward did not arrive, naming its service ("ntfy refused the access token").
pub fn forward_failure_words(
    service: crate::forward::Service,
    failure: &crate::forward::Failure,
    lang: Lang,
) -> String {
    match lang {
        Lang::En => en::forward_failure(service, failure),
        Lang::Ru => ru::forward_failure(service, failure),
    }
}

/// A target that refused: the notification's title.
pub fn forward_trouble(target: &str, lang: Lang) -> String {
    (lang.table().forward_trouble)(target)
}

/// A forward not sent: the chat it was about was opened meanwhile.
pub fn forward_withdrawn(lang: Lang) -> String {
    lang.table().forward_withdrawn.into()
}

/// A forward that found its target's queue full.
pub fn forward_dropped(lang: Lang) -> String {
    lang.table().forward_dropped.into()
}

/// The words of a chat's notification, or of a digest of several chats.
pub fn words(content: &Content, lang: Lang, privacy: bool) -> Words {
    let t = lang.table();
    let (summary, body) = match content {
        Content::Chat {
            name,
            kind,
            count,
            text,
            file_path,
            ..
        } => {
            let summary = match (kind, count) {
                (NotifyKind::NewChat, 1) => (t.new_chat)(name),
                (_, 1) => name.clone(),
                (_, n) => (t.new_messages)(name, *n),
            };
            let body = if privacy {
                String::new()
            } else {
                let text = text.as_deref().map(str::trim).filter(|t| !t.is_empty());
                match (text, file_path) {
                    (Some(text), _) => text.to_string(),
                    (None, Some(path)) => (t.attachment)(file_name(path)),
                    (None, None) => String::new(),
                }
            };
            (summary, body)
        }
        // Names say who is waiting without saying what they wrote, so privacy mode keeps them.
        Content::Digest {
            messages,
            chats,
            names,
        } => ((t.digest)(*messages, *chats), names.join(", ")),
    };
    Words {
        summary: truncate(&summary, MAX_SUMMARY_CHARS),
        body: truncate(&body, MAX_BODY_CHARS),
        open_label: t.labels.open,
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

    fn alert(name: &str, minutes: u64, level: AlertLevel) -> Alert {
        Alert {
            user_id: 1,
            name: name.into(),
            new_chat: true,
            waited: Duration::from_secs(minutes * 60 + 59),
            level,
            text: Some("Когда доставка?".into()),
            file_path: None,
            step: 1,
            username: None,
            source: None,
        }
    }

    #[test]
    fn reminders_in_both_languages() {
        use AlertLevel::*;
        let one = [alert("Ann", 4, ReAlert)];
        let urgent = [alert("Ann", 65, Urgent)];
        let two = [alert("Ann", 12, Urgent), alert("Bob", 3, ReAlert)];
        let five = [
            alert("A", 120, ReAlert),
            alert("B", 9, ReAlert),
            alert("C", 8, ReAlert),
            alert("D", 7, ReAlert),
            alert("E", 6, ReAlert),
        ];
        let cases: [(&[Alert], Lang, bool, &str, &str); 7] = [
            (
                &one,
                Lang::En,
                false,
                "Ann is waiting · 4 min",
                "Когда доставка?",
            ),
            (&one, Lang::Ru, false, "Ann ждёт · 4 мин", "Когда доставка?"),
            (&one, Lang::En, true, "Ann is waiting · 4 min", ""),
            (
                &urgent,
                Lang::En,
                false,
                "Urgent: Ann is waiting · 1 h 5 min",
                "Когда доставка?",
            ),
            (
                &two,
                Lang::Ru,
                false,
                "Срочно: ждут 2 чата, дольше всех 12 мин",
                "Ann, Bob",
            ),
            (
                &five,
                Lang::En,
                true,
                "5 chats waiting, longest 2 h",
                "A, B, C and 2 more",
            ),
            (
                &five,
                Lang::Ru,
                false,
                "Ждут 5 чатов, дольше всех 2 ч",
                "A, B, C и ещё 2",
            ),
        ];
        for (alerts, lang, privacy, summary, body) in cases {
            let w = reminder_words(alerts, lang, privacy);
            assert_eq!((w.summary.as_str(), w.body.as_str()), (summary, body));
        }
    }

    #[test]
    fn waits_are_worded_rounded_down() {
        let cases = [
            (0, "<1 min", "<1 мин"),
            (59, "<1 min", "<1 мин"),
            (60, "1 min", "1 мин"),
            (7 * 60 + 59, "7 min", "7 мин"),
            (59 * 60 + 59, "59 min", "59 мин"),
            (60 * 60, "1 h", "1 ч"),
            (65 * 60, "1 h 5 min", "1 ч 5 мин"),
            (23 * 3600 + 59 * 60, "23 h 59 min", "23 ч 59 мин"),
            (24 * 3600, "1 d", "1 дн."),
            (26 * 3600 + 30 * 60, "1 d 2 h", "1 дн. 2 ч"),
            (50 * 24 * 3600, "50 d", "50 дн."),
        ];
        for (secs, en, ru) in cases {
            let waited = Duration::from_secs(secs);
            assert_eq!(wait_text(waited, Lang::En), en, "{secs} s");
            assert_eq!(wait_text(waited, Lang::Ru), ru, "{secs} s");
        }
    }

    /// The offline warning says what the agent can act on (an untrusted certificate, a proxy's
    /// password), and keeps its short words for a server that is simply away.
    #[test]
    fn the_offline_warning_words_the_failure_the_agent_can_fix() {
        let notice = Notice::Offline {
            since: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            cause: OutageCause::ServerUnreachable,
            reminder: false,
        };
        let untrusted = NetFailure::UnknownIssuer {
            issuer: Some("Corp Root CA".into()),
        };
        let w = outage_words(&notice, Some(&untrusted), Lang::En);
        assert_eq!(w.summary, "Chatbell is offline since 10:00");
        assert_eq!(
            w.body,
            "New chats are not reaching you. The server's certificate is signed by “Corp Root CA”, \
             which this computer does not trust. Ask your IT for the CA certificate, or add it \
             under Certificate authority."
        );
        let w = outage_words(&notice, Some(&untrusted), Lang::Ru);
        assert!(w.body.contains("«Corp Root CA»"), "{}", w.body);
        let away = NetFailure::Refused { host: "h".into() };
        for failure in [None, Some(&away)] {
            let w = outage_words(&notice, failure, Lang::En);
            assert_eq!(
                w.body,
                "New chats are not reaching you: the server cannot be reached."
            );
        }
    }

    /// Every connection failure reads as two sentences in each language, the second saying
    /// what to do; the issuer and the proxy are named where known.
    #[test]
    fn every_connection_failure_is_worded_in_both_languages() {
        for failure in NetFailure::examples() {
            let en = net_words(&failure, Lang::En);
            let ru = net_words(&failure, Lang::Ru);
            for w in [&en, &ru] {
                for s in [&w.what, &w.todo] {
                    assert!(s.ends_with('.'), "{failure:?}: {s}");
                    assert!(!s.contains('{'), "{failure:?}: {s}");
                }
            }
            assert_ne!(en.what, ru.what, "{failure:?}");
            let wire = serde_json::to_value(&failure).unwrap();
            for name in ["issuer", "proxy", "host"] {
                if let Some(value) = wire.get(name).and_then(|v| v.as_str()) {
                    assert!(
                        en.what.contains(value) && ru.what.contains(value),
                        "{failure:?}"
                    );
                }
            }
        }
        let unknown = NetFailure::UnknownIssuer {
            issuer: Some("Corp Root CA".into()),
        };
        assert_eq!(
            net_words(&unknown, Lang::En).what,
            "The server's certificate is signed by “Corp Root CA”, which this computer does not trust."
        );
    }

    /// The chat list words waits itself (`duration(ms)` in `ui/js/time.js`, from the
    /// `duration.*` sentences): each sentence, filled, must read as the engine says it.
    #[test]
    fn the_chat_list_words_waits_the_same() {
        let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/js/i18n");
        for (file, lang) in [("en.js", Lang::En), ("ru.js", Lang::Ru)] {
            let words = std::fs::read_to_string(ui.join(file)).unwrap();
            let sentence = |key: &str| -> String {
                let line = words
                    .lines()
                    .find(|l| l.contains(&format!(r#""{key}""#)))
                    .unwrap_or_else(|| panic!("{file}: {key}"));
                line.split(':')
                    .nth(1)
                    .unwrap()
                    .trim()
                    .trim_end_matches(',')
                    .trim_matches('"')
                    .to_string()
            };
            let fill = |key: &str, args: &[(&str, u64)]| {
                let mut s = sentence(key);
                for (name, value) in args {
                    s = s.replace(&format!("{{{name}}}"), &value.to_string());
                }
                s
            };
            let m = |n: u64| Duration::from_secs(n * 60);
            let cases = [
                (fill("duration.under_minute", &[]), Duration::from_secs(30)),
                (fill("duration.minutes", &[("count", 7)]), m(7)),
                (fill("duration.hours", &[("hours", 2)]), m(120)),
                (
                    fill("duration.hours_minutes", &[("hours", 1), ("minutes", 5)]),
                    m(65),
                ),
                (fill("duration.days", &[("days", 3)]), m(3 * 1440)),
                (
                    fill("duration.days_hours", &[("days", 2), ("hours", 3)]),
                    m(2 * 1440 + 180),
                ),
            ];
            for (ui_words, waited) in cases {
                assert_eq!(ui_words, wait_text(waited, lang), "{file}");
            }
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
    fn locale_picks_the_language() {
        assert_eq!(Lang::from_locale(Some("ru_RU.UTF-8")), Lang::Ru);
        assert_eq!(Lang::from_locale(Some("en_US")), Lang::En);
        assert_eq!(Lang::from_locale(Some("de")), Lang::En);
        assert_eq!(Lang::from_locale(None), Lang::En);
    }
}
