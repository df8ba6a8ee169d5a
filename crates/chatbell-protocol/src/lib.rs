//! The support-chat events protocol as types.
//!
//! The service pushes one JSON text frame per event (`{event, data, timestamp}`) and accepts
//! `subscribe`/`unsubscribe` actions. This crate turns frames into [`Envelope`]s and back, and
//! actions into JSON and back. It knows nothing of sockets or storage: it is pure functions over
//! text, so the simulator, the engine and the tests all agree on one reading of the protocol.
//!
//! Where the original document is silent, this crate implements the readings written down in
//! `docs/protocol.md` (ids are `i64`, negative for widget users; timestamps stored as UTC and
//! flagged when missing or invalid; unknown events kept, not rejected; inputs bounded by
//! [`Limits`]).

mod action;
mod error;
mod event;
mod json;
mod limits;
mod parse;
mod timestamp;

pub use action::{ClientAction, parse_action};
pub use error::{JsonKind, ParseError, ParseErrorKind};
pub use event::{
    Envelope, Event, EventKind, MessageRead, NewChat, NewMessage, Presence, UserTyping,
};
pub use limits::Limits;
pub use parse::{parse_frame, parse_frame_with};

/// The checked path alone, for tests that compare it with the fast path.
#[doc(hidden)]
pub fn parse_frame_checked_for_tests(
    text: &str,
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<Envelope, ParseError> {
    parse::parse_checked(text, received_at, &Limits::DEFAULT)
}
pub use timestamp::{Timestamp, TimestampQuality, format_timestamp};

/// An end user of the service, and the key of their chat. Negative ids are website-widget
/// users, positive ids are Telegram users.
pub type UserId = i64;

/// A message id: increasing per organization, unique.
pub type MessageId = i64;

/// Where an end user writes from, as the service names it ("telegram", "widget", ...).
/// Unknown sources are kept verbatim.
pub fn source_is_widget(user_id: UserId) -> bool {
    user_id < 0
}
