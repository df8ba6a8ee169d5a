//! Printing for people (a terminal) and for programs (`--json`, one object per line).

use std::io::Write;

use chatbell_engine::i18n::{Lang, wait_text};
use chatbell_engine::model::{ChatSummary, Message, SearchHit};
use chrono::{DateTime, Local, Utc};
use serde::Serialize;

/// `println!` that ignores a closed stdout (`| head`): the listener keeps storing events.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use outln;

/// Text from the network, made safe for a terminal: control characters (escape sequences that
/// could move the cursor, clear the screen or retitle the window) are shown, not obeyed.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("↵ "),
            '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            // Bidi overrides could make a name read backwards into the next column.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// An error and its causes in one line, each cause once (many errors already quote their
/// source in their own message), made safe for the terminal.
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    terminal_safe(&line)
}

pub fn print_json<T: Serialize>(value: &T) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (| head) is not an error worth a panic.
    let _ = serde_json::to_writer(&mut out, value);
    let _ = writeln!(out);
    let _ = out.flush();
}

pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

fn preview(m: &Message, max: usize) -> String {
    let text = match (&m.text, &m.file_path) {
        (Some(t), _) if !t.trim().is_empty() => t.clone(),
        (_, Some(f)) => format!("[attachment: {f}]"),
        _ => String::new(),
    };
    let safe = terminal_safe(&text);
    match safe.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &safe[..i]),
        None => safe,
    }
}

pub fn print_chats(chats: &[ChatSummary]) {
    if chats.is_empty() {
        outln!("No chats yet.");
        return;
    }
    let now = chrono::Utc::now();
    outln!(
        "{:>6}  {:<12} {:<24} {:<9} {:<7} {:<16}  last message",
        "unread",
        "waiting",
        "chat",
        "source",
        "status",
        "when"
    );
    for c in chats {
        let status = match (c.typing, c.online) {
            (true, _) => "typing",
            (_, Some(true)) => "online",
            (_, Some(false)) => "offline",
            (_, None) => "",
        };
        let unread = if c.unread > 0 {
            c.unread.to_string()
        } else {
            String::new()
        };
        let name: String = terminal_safe(&c.name).chars().take(24).collect();
        let source: String = terminal_safe(c.source.as_deref().unwrap_or(""))
            .chars()
            .take(9)
            .collect();
        let (when, last) = match &c.last_message {
            Some(m) => (local(m.received_at), preview(m, 60)),
            None => (String::new(), String::new()),
        };
        let waiting = c
            .waiting_since
            .map(|since| wait_text((now - since).to_std().unwrap_or_default(), Lang::En))
            .unwrap_or_default();
        outln!(
            "{unread:>6}  {waiting:<12} {name:<24} {source:<9} {status:<7} {when:<16}  {last}  [{}]",
            c.user_id
        );
    }
}

pub fn print_message(m: &Message) {
    let id = m
        .message_id
        .map_or("first".to_string(), |id| id.to_string());
    outln!("{}  #{id:<8} {}", local(m.sent_at), preview(m, 2000));
}

pub fn print_hits(hits: &[SearchHit]) {
    if hits.is_empty() {
        outln!("No messages match.");
        return;
    }
    for h in hits {
        let snippet: String = h
            .snippet
            .iter()
            .map(|s| {
                if s.hit {
                    format!("[{}]", s.text)
                } else {
                    s.text.clone()
                }
            })
            .collect();
        outln!(
            "{}  {} [{}]: {}",
            local(h.message.sent_at),
            terminal_safe(&h.chat_name),
            h.message.user_id,
            terminal_safe(&snippet)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn an_error_chain_names_each_cause_once_and_safely() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot create the data folder /x: {source}")]
        struct Folder {
            source: std::io::Error,
        }
        let io = std::io::Error::other("Not a directory \u{1b}[31m");
        let e = anyhow::Error::new(Folder { source: io }).context("opening the store");
        assert_eq!(
            super::error_chain(&e),
            "opening the store: cannot create the data folder /x: Not a directory \\u{1b}[31m"
        );
    }

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        assert_eq!(terminal_safe("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(terminal_safe("x\ny\tz\u{7}"), "x↵ y z\\u{7}");
        assert_eq!(terminal_safe("\u{202e}gnp.exe"), "\\u{202e}gnp.exe");
        assert_eq!(terminal_safe("Привет 👋"), "Привет 👋");
    }
}
