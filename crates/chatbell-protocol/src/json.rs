//! Typed reading of JSON objects with errors that name the field.

use serde_json::{Map, Value};

use crate::error::{JsonKind, ParseError, ParseErrorKind};

/// The fields of one JSON object, read with a path prefix for errors
/// (`new_message.data` + `message_id`).
pub(crate) struct Fields<'a> {
    prefix: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// `value` must be an object; `prefix` is its path.
    pub(crate) fn of(prefix: &'a str, value: Option<&'a Value>) -> Result<Self, ParseError> {
        match value {
            Some(Value::Object(map)) => Ok(Fields { prefix, map }),
            None => Err(ParseError::new(prefix, ParseErrorKind::Missing)),
            Some(other) => Err(ParseError::new(
                prefix,
                ParseErrorKind::WrongType {
                    expected: "object",
                    got: JsonKind::of(other),
                },
            )),
        }
    }

    fn err(&self, field: &str, kind: ParseErrorKind) -> ParseError {
        ParseError::new(format!("{}.{}", self.prefix, field), kind)
    }

    pub(crate) fn int(&self, field: &str) -> Result<i64, ParseError> {
        match self.map.get(field) {
            None => Err(self.err(field, ParseErrorKind::Missing)),
            Some(value) => as_i64(value).map_err(|kind| self.err(field, kind)),
        }
    }

    /// A string that may be absent or null.
    pub(crate) fn opt_str(&self, field: &str, max: usize) -> Result<Option<String>, ParseError> {
        match self.map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() > max => {
                Err(self.err(field, ParseErrorKind::TooLong { len: s.len(), max }))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(
                field,
                ParseErrorKind::WrongType {
                    expected: "string or null",
                    got: JsonKind::of(other),
                },
            )),
        }
    }
}

pub(crate) fn as_i64(value: &Value) -> Result<i64, ParseErrorKind> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if n.is_u64() {
                Err(ParseErrorKind::OutOfRange(n.to_string()))
            } else {
                Err(ParseErrorKind::WrongType {
                    expected: "integer",
                    got: JsonKind::Number,
                })
            }
        }
        other => Err(ParseErrorKind::WrongType {
            expected: "integer",
            got: JsonKind::of(other),
        }),
    }
}

/// Whether JSON text nests arrays and objects deeper than `max`, found with one pass over the
/// bytes before any allocation, so a hostile `[[[[...` costs nothing to refuse.
pub(crate) fn deeper_than(text: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::deeper_than;

    #[test]
    fn depth_ignores_brackets_inside_strings() {
        assert!(!deeper_than(br#"{"a":"[[[[[[[[[[","b":"\"{{{{{{"}"#, 2));
        assert!(deeper_than(br#"{"a":[[1]]}"#, 2));
        assert!(!deeper_than(br#"{"a":[[1]]}"#, 3));
    }
}
