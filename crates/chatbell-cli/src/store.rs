//! The commands that read or tend the store directly: chats, history, search, read, compact,
//! doctor. They work while an engine (the app, `listen`) is running.

use std::path::Path;
use std::process::ExitCode;

use chatbell_engine::i18n::Lang;
use chatbell_engine::keychain::Keychain;
use chatbell_engine::model::ChatOrder;
use chatbell_engine::notifier::{DesktopNotifier, Notifier, NotifierConfig};
use chatbell_engine::settings::organization::{self, Organization};
use chatbell_engine::store::{EngineLock, Reader, Writer, mark_read, retention_cutoff};
use chatbell_engine::{Credentials, paths, server_config};

use crate::output::outln;
use crate::output::{print_chats, print_hits, print_json, print_message};

fn no_one_typing(_: i64) -> bool {
    // Typing lives in a running engine's memory; a separate process cannot see it.
    false
}

pub fn chats(db: &Path, limit: u32, json: bool, waiting: bool) -> anyhow::Result<ExitCode> {
    let reader = Reader::open(db)?;
    let chats = if waiting {
        // Waiting chats come first in this order: the rest are cut off.
        let mut chats = reader.chats_by(ChatOrder::Waiting, limit, 0, &no_one_typing)?;
        chats.retain(|c| c.waiting_since.is_some());
        chats
    } else {
        reader.chats(limit, 0, &no_one_typing)?
    };
    if json {
        chats.iter().for_each(print_json);
    } else if waiting && chats.is_empty() {
        outln!("Nobody is waiting.");
    } else {
        print_chats(&chats);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn history(
    db: &Path,
    user_id: i64,
    before: Option<i64>,
    limit: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let reader = Reader::open(db)?;
    let before = match before {
        None => None,
        Some(message_id) => Some(
            reader
                .seq_of(message_id)?
                .ok_or_else(|| anyhow::anyhow!("no message with id {message_id} is stored"))?,
        ),
    };
    let page = reader.history(user_id, before, limit)?;
    if json {
        page.items.iter().for_each(print_json);
        return Ok(ExitCode::SUCCESS);
    }
    if page.items.is_empty() {
        outln!("No messages with user {user_id}.");
    }
    for item in &page.items {
        match item {
            chatbell_engine::model::TimelineItem::Message(m) => print_message(m),
            chatbell_engine::model::TimelineItem::Gap(g) => outln!(
                "--- connection lost {} … {}: messages sent meanwhile may be missing ---",
                crate::output::local(g.from),
                crate::output::local(g.to)
            ),
        }
    }
    if let Some(read) = page.peer_read_up_to {
        outln!("(the user has read up to message #{read})");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn search(db: &Path, text: &str, limit: u32, json: bool) -> anyhow::Result<ExitCode> {
    let hits = Reader::open(db)?.search(text, limit)?;
    if json {
        hits.iter().for_each(print_json);
    } else {
        print_hits(&hits);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn read(db: &Path, user_id: i64) -> anyhow::Result<ExitCode> {
    if !db.exists() {
        anyhow::bail!("no database at {} yet", db.display());
    }
    if mark_read(db, user_id)? {
        outln!("Chat {user_id} marked read.");
    } else {
        outln!("Chat {user_id} had nothing unread (or does not exist).");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn compact(db: &Path, older_than_days: Option<u32>) -> anyhow::Result<ExitCode> {
    let _lock = EngineLock::acquire(db)?;
    let writer = Writer::open(db)?;
    match older_than_days {
        Some(days) => {
            let cutoff = retention_cutoff(chrono::Utc::now(), days);
            let removed = writer.remove_older_than(cutoff)?;
            outln!(
                "Removed {} messages and {} raw events older than {days} days.",
                removed.messages,
                removed.events
            );
        }
        None => {
            writer.compact()?;
            outln!("Compacted {}.", db.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn doctor(db: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let loaded = organization::load_layers(&paths::settings_path(), &organization::path());
    let settings = loaded.layers.effective();
    let keychain = Keychain::token();
    let needs = settings.server.clone();
    let credentials = tokio::task::spawn_blocking(move || Credentials::load(&needs))
        .await?
        .unwrap_or_default();
    let server = server_config(&settings.server, credentials);
    let mut notifier = DesktopNotifier::new(NotifierConfig::default());
    let mut checks = chatbell_engine::doctor::run(
        db,
        &keychain,
        Some(&mut notifier as &mut dyn Notifier),
        server.as_ref(),
        Lang::of(settings.ui.language),
    )
    .await;
    if let Some(e) = &loaded.user_error {
        checks.push(chatbell_engine::doctor::Check {
            name: "settings",
            ok: false,
            detail: e.to_string(),
        });
    }
    checks.push(organization_check(&loaded.organization));
    checks.push(chatbell_engine::doctor::away(&settings).await);
    checks.push(chatbell_engine::doctor::forwarding(&settings, db).await);
    let ok = checks.iter().all(|c| c.ok);
    if json {
        checks.iter().for_each(print_json);
    } else {
        for c in &checks {
            outln!(
                "{} {:<20} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                crate::output::terminal_safe(&c.detail)
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The organization's file: none, what it sets and locks, or why it is set aside (its field,
/// never its value).
fn organization_check(org: &Organization) -> chatbell_engine::doctor::Check {
    let path = org.path.display();
    let (ok, detail) = match &org.problem {
        Some(problem) => (
            false,
            format!("{path} is set aside, the built-in and your settings hold: {problem}"),
        ),
        None if !org.present => (true, format!("none ({path})")),
        None => {
            let locked = org.locked_keys();
            let defaults = org.default_keys().len();
            let locks = if locked.is_empty() {
                "nothing locked".to_string()
            } else {
                format!("locked: {}", locked.join(", "))
            };
            (true, format!("{path}: {defaults} defaults; {locks}"))
        }
    };
    chatbell_engine::doctor::Check {
        name: "organization",
        ok,
        detail,
    }
}
