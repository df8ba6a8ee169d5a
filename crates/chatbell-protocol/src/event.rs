use serde::Serialize;

use crate::timestamp::{Timestamp, format_timestamp};
use crate::{MessageId, UserId};

/// `new_chat`: an end user wrote for the first time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewChat {
    pub user_id: UserId,
    pub user_name: Option<String>,
    pub username: Option<String>,
    pub source: Option<String>,
    /// The chat's first message. It has no `message_id` in the protocol.
    pub first_message: Option<String>,
}

/// `new_message`: a message in a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMessage {
    pub message_id: MessageId,
    pub user_id: UserId,
    pub user_name: Option<String>,
    pub text: Option<String>,
    /// An attachment on the service. A name to show, never a local path to open.
    pub file_path: Option<String>,
    pub source: Option<String>,
}

/// `user_typing`: the end user is typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserTyping {
    pub user_id: UserId,
    pub user_name: Option<String>,
}

/// `message_read`: the end user has read the agent's messages up to `last_read_message_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRead {
    pub user_id: UserId,
    pub last_read_message_id: MessageId,
}

/// `user_online` / `user_offline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Presence {
    pub user_id: UserId,
}

/// One server event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    NewChat(NewChat),
    NewMessage(NewMessage),
    UserTyping(UserTyping),
    MessageRead(MessageRead),
    UserOnline(Presence),
    UserOffline(Presence),
    /// An event this version does not know. Kept, so that nothing the service sends is lost,
    /// and otherwise ignored.
    Unknown {
        event: String,
        data: serde_json::Value,
    },
}

/// The name of an event, without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    NewChat,
    NewMessage,
    UserTyping,
    MessageRead,
    UserOnline,
    UserOffline,
    Unknown,
}

impl EventKind {
    pub const KNOWN: [EventKind; 6] = [
        EventKind::NewChat,
        EventKind::NewMessage,
        EventKind::UserTyping,
        EventKind::MessageRead,
        EventKind::UserOnline,
        EventKind::UserOffline,
    ];

    /// The wire name (`"new_chat"`, ...). `Unknown` has none of its own: `"unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NewChat => "new_chat",
            EventKind::NewMessage => "new_message",
            EventKind::UserTyping => "user_typing",
            EventKind::MessageRead => "message_read",
            EventKind::UserOnline => "user_online",
            EventKind::UserOffline => "user_offline",
            EventKind::Unknown => "unknown",
        }
    }

    pub fn from_wire(name: &str) -> EventKind {
        EventKind::KNOWN
            .into_iter()
            .find(|k| k.as_str() == name)
            .unwrap_or(EventKind::Unknown)
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::NewChat(_) => EventKind::NewChat,
            Event::NewMessage(_) => EventKind::NewMessage,
            Event::UserTyping(_) => EventKind::UserTyping,
            Event::MessageRead(_) => EventKind::MessageRead,
            Event::UserOnline(_) => EventKind::UserOnline,
            Event::UserOffline(_) => EventKind::UserOffline,
            Event::Unknown { .. } => EventKind::Unknown,
        }
    }

    /// The wire name of this event; for `Unknown`, the name it arrived with.
    pub fn name(&self) -> &str {
        match self {
            Event::Unknown { event, .. } => event,
            other => other.kind().as_str(),
        }
    }

    /// The end user the event is about, which is also the chat it belongs to.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Event::NewChat(e) => Some(e.user_id),
            Event::NewMessage(e) => Some(e.user_id),
            Event::UserTyping(e) => Some(e.user_id),
            Event::MessageRead(e) => Some(e.user_id),
            Event::UserOnline(e) | Event::UserOffline(e) => Some(e.user_id),
            Event::Unknown { data, .. } => data.get("user_id").and_then(|v| v.as_i64()),
        }
    }

    fn wire_data(&self) -> WireData<'_> {
        match self {
            Event::NewChat(e) => WireData::NewChat(e),
            Event::NewMessage(e) => WireData::NewMessage(e),
            Event::UserTyping(e) => WireData::UserTyping(e),
            Event::MessageRead(e) => WireData::MessageRead(e),
            Event::UserOnline(e) | Event::UserOffline(e) => WireData::Presence(e),
            Event::Unknown { data, .. } => WireData::Unknown(data),
        }
    }
}

/// The envelope as written on the wire; serialized by derive so that writing a frame costs one
/// pass and no intermediate `Value` (the simulator writes millions of them in a burst).
#[derive(Serialize)]
struct Wire<'a> {
    event: &'a str,
    data: WireData<'a>,
    timestamp: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireData<'a> {
    NewChat(&'a NewChat),
    NewMessage(&'a NewMessage),
    UserTyping(&'a UserTyping),
    MessageRead(&'a MessageRead),
    Presence(&'a Presence),
    Unknown(&'a serde_json::Value),
}

/// One frame from the server: an event and when it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub event: Event,
    pub timestamp: Timestamp,
}

impl Envelope {
    pub fn new(event: Event, timestamp: Timestamp) -> Self {
        Envelope { event, timestamp }
    }

    /// The frame as the server writes it: `{"event", "data", "timestamp"}`, timestamp in UTC.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.wire()).expect("an envelope always serializes")
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self.wire()).expect("an envelope always serializes")
    }

    fn wire(&self) -> Wire<'_> {
        Wire {
            event: self.event.name(),
            data: self.event.wire_data(),
            timestamp: format_timestamp(self.timestamp.utc),
        }
    }
}
