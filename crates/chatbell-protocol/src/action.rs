use serde_json::Value;

use crate::UserId;
use crate::error::{JsonKind, ParseError, ParseErrorKind};
use crate::json::as_i64;

/// What a client may send: narrow the connection to one user's events, or widen it again.
///
/// Subscriptions form a set per connection; an empty set means every event of the
/// organization (the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientAction {
    Subscribe { user_id: UserId },
    Unsubscribe { user_id: UserId },
}

impl ClientAction {
    /// `{"action":"subscribe","filter":{"user_id":123}}`
    pub fn to_json(&self) -> String {
        let (action, user_id) = match *self {
            ClientAction::Subscribe { user_id } => ("subscribe", user_id),
            ClientAction::Unsubscribe { user_id } => ("unsubscribe", user_id),
        };
        serde_json::json!({ "action": action, "filter": { "user_id": user_id } }).to_string()
    }
}

/// Reads a client action (what the simulator, as a server, receives).
pub fn parse_action(text: &str) -> Result<ClientAction, ParseError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ParseError::new("frame", ParseErrorKind::InvalidJson(e.to_string())))?;
    let wrong = |path: &str, expected: &'static str, got: &Value| {
        ParseError::new(
            path,
            ParseErrorKind::WrongType {
                expected,
                got: JsonKind::of(got),
            },
        )
    };
    let Value::Object(obj) = &value else {
        return Err(wrong("frame", "object", &value));
    };
    let action = match obj.get("action") {
        None => return Err(ParseError::new("action", ParseErrorKind::Missing)),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(wrong("action", "string", other)),
    };
    let filter = match obj.get("filter") {
        None => return Err(ParseError::new("filter", ParseErrorKind::Missing)),
        Some(Value::Object(f)) => f,
        Some(other) => return Err(wrong("filter", "object", other)),
    };
    let user_id = match filter.get("user_id") {
        None => return Err(ParseError::new("filter.user_id", ParseErrorKind::Missing)),
        Some(v) => as_i64(v).map_err(|kind| ParseError::new("filter.user_id", kind))?,
    };
    match action {
        "subscribe" => Ok(ClientAction::Subscribe { user_id }),
        "unsubscribe" => Ok(ClientAction::Unsubscribe { user_id }),
        other => Err(ParseError::new(
            "action",
            ParseErrorKind::UnknownAction(other.to_string()),
        )),
    }
}
