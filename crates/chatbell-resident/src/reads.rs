//! The reads of the store the page asks for — the chat list, a chat, its history, search —
//! checked and bounded the same way wherever they run: in the resident through the engine, or
//! in the window process on a read-only connection of its own.

use std::ops::RangeInclusive;

use chatbell_engine::store::Reader;
use chatbell_ipc::Command;
use chatbell_ipc::contract::{CommandError, CommandResult};
use chatbell_protocol::UserId;
use serde::Serialize;
use serde_json::Value;

/// How many chats one page of the list may ask for.
pub const CHATS_PER_PAGE: RangeInclusive<u32> = 1..=500;
/// How many messages (or search hits) one page may ask for.
pub const MESSAGES_PER_PAGE: RangeInclusive<u32> = 1..=200;
/// The longest search, in characters.
pub const QUERY_CHARS: usize = 200;

/// A command's answer as the page receives it.
pub(crate) fn answer<T: Serialize>(result: CommandResult<T>) -> CommandResult<Value> {
    result.map(|value| serde_json::to_value(value).expect("answers serialize"))
}

pub fn bound(limit: u32, range: &RangeInclusive<u32>) -> u32 {
    limit.clamp(*range.start(), *range.end())
}

pub fn check_query(query: &str) -> CommandResult<()> {
    if query.chars().count() > QUERY_CHARS {
        return Err(CommandError::invalid(format!(
            "search: at most {QUERY_CHARS} characters"
        )));
    }
    Ok(())
}

/// Answers `command` from `reader` if it is a read of the store (`Command::is_read`); `typing`
/// says who is typing now. `None` for any other command.
pub fn on_reader(
    reader: &Reader,
    command: &Command,
    typing: &dyn Fn(UserId) -> bool,
) -> Option<CommandResult<Value>> {
    let result = match command {
        Command::ListChats {
            limit,
            offset,
            order,
        } => answer(
            reader
                .chats_by(
                    order.unwrap_or_default(),
                    bound(*limit, &CHATS_PER_PAGE),
                    *offset,
                    typing,
                )
                .map_err(CommandError::from),
        ),
        Command::GetChat { user_id } => {
            answer(reader.chat(*user_id, typing).map_err(CommandError::from))
        }
        Command::ChatHistory {
            user_id,
            before,
            limit,
        } => answer(
            reader
                .history(*user_id, *before, bound(*limit, &MESSAGES_PER_PAGE))
                .map_err(CommandError::from),
        ),
        Command::SearchMessages { query, limit } => check_query(query).and_then(|()| {
            answer(
                reader
                    .search(query, bound(*limit, &MESSAGES_PER_PAGE))
                    .map_err(CommandError::from),
            )
        }),
        _ => return None,
    };
    Some(result)
}
