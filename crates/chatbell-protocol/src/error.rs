use std::fmt;

/// The JSON type of a value, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Bool,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    pub fn of(value: &serde_json::Value) -> JsonKind {
        use serde_json::Value;
        match value {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonKind::Integer,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "boolean",
            JsonKind::Integer => "integer",
            JsonKind::Number => "number",
            JsonKind::String => "string",
            JsonKind::Array => "array",
            JsonKind::Object => "object",
        })
    }
}

/// What is wrong with a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("not valid JSON ({0})")]
    InvalidJson(String),
    #[error("frame of {len} bytes is over the limit of {max}")]
    FrameTooLarge { len: usize, max: usize },
    #[error("nesting deeper than {max} levels")]
    TooDeep { max: usize },
    #[error("missing")]
    Missing,
    #[error("expected {expected}, got {got}")]
    WrongType {
        expected: &'static str,
        got: JsonKind,
    },
    #[error("integer {0} is out of the signed 64-bit range")]
    OutOfRange(String),
    #[error("{len} bytes is over the limit of {max}")]
    TooLong { len: usize, max: usize },
    #[error("empty")]
    Empty,
    #[error("unknown action {0:?} (expected \"subscribe\" or \"unsubscribe\")")]
    UnknownAction(String),
}

/// A frame that could not be read, with where in it the problem is.
///
/// `path` names the place the way a reader would look for it: `frame` for the whole text,
/// `event` for the envelope's name, `new_message.data.message_id` for a field of a known event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct ParseError {
    pub path: String,
    pub kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(path: impl Into<String>, kind: ParseErrorKind) -> Self {
        ParseError {
            path: path.into(),
            kind,
        }
    }
}
