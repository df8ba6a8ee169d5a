use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{JsonKind, ParseError, ParseErrorKind};
use crate::event::{
    Envelope, Event, EventKind, MessageRead, NewChat, NewMessage, Presence, UserTyping,
};
use crate::json::{Fields, deeper_than};
use crate::limits::Limits;
use crate::timestamp::Timestamp;

/// Reads one server frame with the default [`Limits`]. `received_at` stands in for a missing or
/// invalid timestamp (and the envelope says so).
pub fn parse_frame(text: &str, received_at: DateTime<Utc>) -> Result<Envelope, ParseError> {
    parse_frame_with(text, received_at, &Limits::DEFAULT)
}

/// Reads one server frame.
///
/// Unknown event names become [`Event::Unknown`]; unknown fields are ignored. Anything else that
/// does not fit the protocol is a [`ParseError`] saying what and where; this never panics.
pub fn parse_frame_with(
    text: &str,
    received_at: DateTime<Utc>,
    limits: &Limits,
) -> Result<Envelope, ParseError> {
    if text.len() <= limits.max_frame_bytes
        && !deeper_than(text.as_bytes(), limits.max_depth)
        && let Some(envelope) = fast::parse(text, received_at, limits)
    {
        return Ok(envelope);
    }
    parse_checked(text, received_at, limits)
}

/// The general path: reads the frame as a JSON tree and checks every field, so that anything
/// wrong is reported with its place. Every frame the fast path accepts, this accepts the same.
pub(crate) fn parse_checked(
    text: &str,
    received_at: DateTime<Utc>,
    limits: &Limits,
) -> Result<Envelope, ParseError> {
    let value = read_json(text, limits)?;
    let Value::Object(mut envelope) = value else {
        return Err(ParseError::new(
            "frame",
            ParseErrorKind::WrongType {
                expected: "object",
                got: JsonKind::of(&value),
            },
        ));
    };
    let name = match envelope.get("event") {
        None => return Err(ParseError::new("event", ParseErrorKind::Missing)),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(ParseError::new("event", ParseErrorKind::Empty));
        }
        Some(Value::String(s)) if s.len() > limits.max_name_bytes => {
            return Err(ParseError::new(
                "event",
                ParseErrorKind::TooLong {
                    len: s.len(),
                    max: limits.max_name_bytes,
                },
            ));
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(ParseError::new(
                "event",
                ParseErrorKind::WrongType {
                    expected: "string",
                    got: JsonKind::of(other),
                },
            ));
        }
    };
    let timestamp = Timestamp::read(envelope.get("timestamp"), received_at);
    let kind = EventKind::from_wire(&name);
    if kind == EventKind::Unknown {
        let data = envelope.remove("data").unwrap_or(Value::Null);
        return Ok(Envelope::new(
            Event::Unknown { event: name, data },
            timestamp,
        ));
    }
    let path = format!("{name}.data");
    let data = Fields::of(&path, envelope.get("data"))?;
    let event = read_event(kind, &data, limits)?;
    Ok(Envelope::new(event, timestamp))
}

/// Well-formed frames (nearly all of them) are read straight into typed structs, without
/// building a JSON tree: about twice as fast. Anything unusual — a wrong type, a duplicate key,
/// an unknown event or field, a string over its limit, an array where an object belongs —
/// returns `None` and goes the checked way.
///
/// Unknown fields are declined, not skipped, because serde skips a value without the checks a
/// full read makes (a lone surrogate `"\ud800"`, a number like `1e400` beyond `f64`): a frame
/// that is not valid JSON could otherwise pass here (the `parse_frame` fuzz target found it, and
/// checks that both paths agree).
mod fast {
    use std::borrow::Cow;

    use chrono::{DateTime, Utc};
    use serde::Deserialize;
    use serde_json::value::RawValue;

    use crate::event::{
        Envelope, Event, EventKind, MessageRead, NewChat, NewMessage, Presence, UserTyping,
    };
    use crate::limits::Limits;
    use crate::timestamp::Timestamp;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer<'a> {
        #[serde(borrow)]
        event: Cow<'a, str>,
        #[serde(borrow)]
        data: &'a RawValue,
        #[serde(borrow, default)]
        timestamp: Option<Cow<'a, str>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Data<'a> {
        user_id: i64,
        message_id: Option<i64>,
        last_read_message_id: Option<i64>,
        #[serde(borrow, default)]
        user_name: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        username: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        source: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        first_message: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        text: Option<Cow<'a, str>>,
        #[serde(borrow, default)]
        file_path: Option<Cow<'a, str>>,
    }

    fn bounded(s: Option<Cow<'_, str>>, max: usize) -> Option<Option<String>> {
        match s {
            Some(s) if s.len() > max => None,
            other => Some(other.map(Cow::into_owned)),
        }
    }

    /// Serde reads a struct from a JSON array too, field by field; the protocol has objects.
    fn is_object(json: &str) -> bool {
        json.trim_start_matches([' ', '\t', '\n', '\r'])
            .starts_with('{')
    }

    pub(super) fn parse(
        text: &str,
        received_at: DateTime<Utc>,
        limits: &Limits,
    ) -> Option<Envelope> {
        if !is_object(text) {
            return None;
        }
        let outer: Outer<'_> = serde_json::from_str(text).ok()?;
        let kind = EventKind::from_wire(&outer.event);
        if kind == EventKind::Unknown
            || outer.event.len() > limits.max_name_bytes
            || !is_object(outer.data.get())
        {
            return None;
        }
        let d: Data<'_> = serde_json::from_str(outer.data.get()).ok()?;
        let (name, text_max) = (limits.max_name_bytes, limits.max_text_bytes);
        let event = match kind {
            EventKind::NewChat => Event::NewChat(NewChat {
                user_id: d.user_id,
                user_name: bounded(d.user_name, name)?,
                username: bounded(d.username, name)?,
                source: bounded(d.source, name)?,
                first_message: bounded(d.first_message, text_max)?,
            }),
            EventKind::NewMessage => Event::NewMessage(NewMessage {
                message_id: d.message_id?,
                user_id: d.user_id,
                user_name: bounded(d.user_name, name)?,
                text: bounded(d.text, text_max)?,
                file_path: bounded(d.file_path, limits.max_path_bytes)?,
                source: bounded(d.source, name)?,
            }),
            EventKind::UserTyping => Event::UserTyping(UserTyping {
                user_id: d.user_id,
                user_name: bounded(d.user_name, name)?,
            }),
            EventKind::MessageRead => Event::MessageRead(MessageRead {
                user_id: d.user_id,
                last_read_message_id: d.last_read_message_id?,
            }),
            EventKind::UserOnline => Event::UserOnline(Presence { user_id: d.user_id }),
            EventKind::UserOffline => Event::UserOffline(Presence { user_id: d.user_id }),
            EventKind::Unknown => return None,
        };
        let timestamp = match outer.timestamp {
            None => Timestamp::read(None, received_at),
            Some(ts) => Timestamp::read(
                Some(&serde_json::Value::String(ts.into_owned())),
                received_at,
            ),
        };
        Some(Envelope::new(event, timestamp))
    }
}

fn read_json(text: &str, limits: &Limits) -> Result<Value, ParseError> {
    if text.len() > limits.max_frame_bytes {
        return Err(ParseError::new(
            "frame",
            ParseErrorKind::FrameTooLarge {
                len: text.len(),
                max: limits.max_frame_bytes,
            },
        ));
    }
    if text.trim().is_empty() {
        return Err(ParseError::new("frame", ParseErrorKind::Empty));
    }
    if deeper_than(text.as_bytes(), limits.max_depth) {
        return Err(ParseError::new(
            "frame",
            ParseErrorKind::TooDeep {
                max: limits.max_depth,
            },
        ));
    }
    serde_json::from_str(text)
        .map_err(|e| ParseError::new("frame", ParseErrorKind::InvalidJson(e.to_string())))
}

fn read_event(kind: EventKind, data: &Fields<'_>, limits: &Limits) -> Result<Event, ParseError> {
    let name = limits.max_name_bytes;
    let text = limits.max_text_bytes;
    Ok(match kind {
        EventKind::NewChat => Event::NewChat(NewChat {
            user_id: data.int("user_id")?,
            user_name: data.opt_str("user_name", name)?,
            username: data.opt_str("username", name)?,
            source: data.opt_str("source", name)?,
            first_message: data.opt_str("first_message", text)?,
        }),
        EventKind::NewMessage => Event::NewMessage(NewMessage {
            message_id: data.int("message_id")?,
            user_id: data.int("user_id")?,
            user_name: data.opt_str("user_name", name)?,
            text: data.opt_str("text", text)?,
            file_path: data.opt_str("file_path", limits.max_path_bytes)?,
            source: data.opt_str("source", name)?,
        }),
        EventKind::UserTyping => Event::UserTyping(UserTyping {
            user_id: data.int("user_id")?,
            user_name: data.opt_str("user_name", name)?,
        }),
        EventKind::MessageRead => Event::MessageRead(MessageRead {
            user_id: data.int("user_id")?,
            last_read_message_id: data.int("last_read_message_id")?,
        }),
        EventKind::UserOnline => Event::UserOnline(Presence {
            user_id: data.int("user_id")?,
        }),
        EventKind::UserOffline => Event::UserOffline(Presence {
            user_id: data.int("user_id")?,
        }),
        EventKind::Unknown => unreachable!("unknown events are kept before typed reading"),
    })
}
