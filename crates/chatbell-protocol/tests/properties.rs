//! Frame parsing over generated input, where a table cannot cover the space: nothing panics,
//! the fast and the checked path agree, every frame read is written back as a frame that reads
//! the same, and frames built in the seed's wire shape from typed values read back as exactly
//! those values. `tests/protocol.rs` pins the particular cases.

use chatbell_protocol::*;
use chrono::{DateTime, FixedOffset, SecondsFormat, Timelike, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Each property runs in well under a second in release with this many cases.
fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

// The invariants the fuzz target checks, on generated input here: one source for both.
#[path = "../../../fuzz/checks/parse_frame.rs"]
mod frame_check;
use frame_check::{received_at, round_trip};

const EVENTS: [&str; 6] = [
    "new_chat",
    "new_message",
    "user_typing",
    "message_read",
    "user_online",
    "user_offline",
];

const FIELDS: [&str; 9] = [
    "user_id",
    "message_id",
    "last_read_message_id",
    "user_name",
    "username",
    "source",
    "first_message",
    "text",
    "file_path",
];

/// Each bounded string: its event, its field (`event`: the event's name itself), its limit.
type Bound = (&'static str, &'static str, usize);
const BOUNDED: [Bound; 10] = [
    ("new_chat", "user_name", Limits::DEFAULT.max_name_bytes),
    ("new_chat", "username", Limits::DEFAULT.max_name_bytes),
    ("new_chat", "source", Limits::DEFAULT.max_name_bytes),
    ("new_chat", "first_message", Limits::DEFAULT.max_text_bytes),
    ("new_message", "user_name", Limits::DEFAULT.max_name_bytes),
    ("new_message", "text", Limits::DEFAULT.max_text_bytes),
    ("new_message", "file_path", Limits::DEFAULT.max_path_bytes),
    ("new_message", "source", Limits::DEFAULT.max_name_bytes),
    ("user_typing", "user_name", Limits::DEFAULT.max_name_bytes),
    ("chat_closed", "event", Limits::DEFAULT.max_name_bytes),
];

// ---------------------------------------------------------------------------------------------
// Generators

/// Text of any characters, including controls, quotes, backslashes and non-BMP ones.
fn any_text(max_chars: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max_chars).prop_map(String::from_iter)
}

/// Bytes as a socket might deliver them, made text the way a lossy reader would.
fn lossy_bytes() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..256)
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// Pieces of JSON and of the protocol, glued in any order: near-JSON that reaches deep into
/// both parsers (unbalanced brackets, duplicate keys, lone surrogates, huge numbers, ...).
fn token_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            " ",
            "\n",
            "\"",
            "\\",
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1",
            "-1",
            "1.0",
            "1e400",
            "-1e400",
            "2.5e-3",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
            "\"\\ud800\"",
            "\"\\udc00\\ud800\"",
            "\"\\u0000\"",
            "\"\"",
            "\"event\"",
            "\"data\"",
            "\"timestamp\"",
            "\"2026-01-10T15:30:00Z\"",
            "\"2026-01-10T18:30:00.5+03:00\"",
            "\"0000-01-01T00:00:00+01:00\"",
            "\"9999-12-31T23:59:59-01:00\"",
            "\"2026-13-10T15:30:00Z\"",
        ])
        .prop_map(str::to_string),
        prop::sample::select(EVENTS.to_vec()).prop_map(|e| format!("\"{e}\"")),
        prop::sample::select(FIELDS.to_vec()).prop_map(|f| format!("\"{f}\"")),
        any::<i64>().prop_map(|i| i.to_string()),
        any_text(6).prop_map(|s| json!(s).to_string()),
    ];
    prop::collection::vec(token, 0..48).prop_map(|tokens| tokens.concat())
}

/// A JSON value of any kind, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any_text(12).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((any_text(4), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An object written field by field, so that keys may repeat and come in any order (a
/// `serde_json::Map` would merge them).
#[derive(Debug, Clone)]
struct Obj(Vec<(String, Piece)>);

#[derive(Debug, Clone)]
enum Piece {
    Json(Value),
    Obj(Obj),
}

impl Obj {
    fn write(&self, out: &mut String, pad: &str) {
        out.push('{');
        for (i, (key, piece)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(pad);
            out.push_str(&json!(key).to_string());
            out.push_str(pad);
            out.push(':');
            out.push_str(pad);
            match piece {
                Piece::Json(value) => out.push_str(&value.to_string()),
                Piece::Obj(obj) => obj.write(out, pad),
            }
        }
        out.push_str(pad);
        out.push('}');
    }
}

/// A string at a limit of [`Limits::DEFAULT`]: a byte under, at, or a byte over it (names 512,
/// paths 4096, text 65536).
fn long_string() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            511usize, 512, 513, 4095, 4096, 4097, 65_535, 65_536, 65_537
        ])
        .prop_map(|n| Value::String("n".repeat(n))),
        // Two bytes a character: lengths are counted in bytes, not characters.
        prop::sample::select(vec![256usize, 257]).prop_map(|n| Value::String("я".repeat(n))),
    ]
}

/// A value for a field of `data`: mostly what the field holds, sometimes anything.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => any::<i64>().prop_map(Value::from),
        3 => any_text(16).prop_map(Value::String),
        2 => Just(Value::Null),
        1 => long_string(),
        1 => any_json(),
    ]
}

fn timestamp_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => wire_time().prop_map(|(utc, offset, format)| json!(write_time(utc, offset, format).0)),
        // The edges: years 0 and 9999 in UTC or only in local time, a leap second.
        1 => prop::sample::select(vec![
            "0000-01-01T00:00:00Z",
            "0000-01-01T00:00:00+01:00",
            "0000-01-01T00:30:00-01:00",
            "9999-12-31T23:59:59.999999999Z",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:30:00+01:00",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5+00:00",
            "2026-01-10T15:30:00+24:00",
        ])
        .prop_map(|s| json!(s)),
        1 => Just(Value::Null),
        1 => any_text(24).prop_map(Value::String),
        1 => any_json(),
    ]
}

fn event_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => prop::sample::select(EVENTS.to_vec()).prop_map(|e| json!(e)),
        1 => prop::sample::select(vec!["", "NEW_CHAT", "new_chat ", "chat_closed", "x"])
            .prop_map(|e| json!(e)),
        1 => prop::sample::select(vec![512usize, 513]).prop_map(|n| json!("e".repeat(n))),
        // Any characters: most are several bytes long.
        2 => any_text(24).prop_map(Value::String),
        1 => any_json(),
    ]
}

/// `data`: the protocol's fields (each maybe repeated), sometimes an unknown one.
fn data_obj() -> impl Strategy<Value = Obj> {
    let field = prop_oneof![
        8 => (prop::sample::select(FIELDS.to_vec()).prop_map(str::to_string), field_value()),
        1 => (any_text(6), any_json()),
    ];
    prop::collection::vec(field, 0..10).prop_map(|fields| {
        Obj(fields
            .into_iter()
            .map(|(k, v)| (k, Piece::Json(v)))
            .collect())
    })
}

/// A frame shaped like the protocol's: `{event, data, timestamp}` with any of them missing,
/// repeated, mistyped or joined by unknown keys, in any order, with or without whitespace.
fn json_shaped_frame() -> impl Strategy<Value = String> {
    let data = prop_oneof![
        6 => data_obj().prop_map(Piece::Obj),
        1 => any_json().prop_map(Piece::Json),
    ];
    let key = prop_oneof![
        4 => (Just("event".to_string()), event_value().prop_map(Piece::Json)),
        4 => (Just("data".to_string()), data),
        3 => (Just("timestamp".to_string()), timestamp_value().prop_map(Piece::Json)),
        1 => (any_text(6), any_json().prop_map(Piece::Json)),
    ];
    (
        prop::collection::vec(key, 0..6),
        prop::sample::select(vec!["", " ", "\n\t"]),
    )
        .prop_map(|(keys, pad)| {
            let mut out = String::new();
            Obj(keys).write(&mut out, pad);
            out
        })
}

/// Frames that are mostly well formed: every known event with its fields present or not, in
/// any order, now and then one twice, so a good share is accepted and the round trip is
/// exercised, not only the refusals.
fn likely_frame() -> impl Strategy<Value = String> {
    let string = || {
        prop_oneof![
            2 => Just(Value::Null),
            6 => any_text(12).prop_map(Value::String),
            1 => long_string(),
        ]
    };
    let strings =
        prop::sample::subsequence(FIELDS[3..].to_vec(), 0..=6).prop_flat_map(move |names| {
            names
                .into_iter()
                .map(|name| (Just(name.to_string()), string()))
                .collect::<Vec<_>>()
        });
    let repeat =
        prop::option::weighted(0.1, (prop::sample::select(FIELDS.to_vec()), field_value()));
    (
        prop::sample::select(EVENTS.to_vec()),
        any::<i64>(),
        any::<i64>(),
        strings,
        repeat,
        prop::option::of(timestamp_value()),
    )
        .prop_flat_map(|(event, user_id, message_id, strings, repeat, timestamp)| {
            let mut data = vec![
                ("user_id".to_string(), Piece::Json(json!(user_id))),
                ("message_id".to_string(), Piece::Json(json!(message_id))),
                (
                    "last_read_message_id".to_string(),
                    Piece::Json(json!(message_id)),
                ),
            ];
            data.extend(strings.into_iter().map(|(k, v)| (k, Piece::Json(v))));
            data.extend(repeat.map(|(k, v)| (k.to_string(), Piece::Json(v))));
            (Just(event), Just(data).prop_shuffle(), Just(timestamp))
        })
        .prop_map(|(event, data, timestamp)| {
            let mut envelope = vec![
                ("event".to_string(), Piece::Json(json!(event))),
                ("data".to_string(), Piece::Obj(Obj(data))),
            ];
            if let Some(ts) = timestamp {
                envelope.push(("timestamp".to_string(), Piece::Json(ts)));
            }
            let mut out = String::new();
            Obj(envelope).write(&mut out, "");
            out
        })
}

/// Any text a peer might send, from noise to nearly right.
fn any_frame() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any_text(64),
        1 => lossy_bytes(),
        2 => token_soup(),
        3 => json_shaped_frame(),
        3 => likely_frame(),
    ]
}

/// A time RFC 3339 can carry (years 1..=9998 in UTC, so that any offset keeps the local year
/// in four digits), an offset to write it in, and how to write the fraction.
fn wire_time() -> impl Strategy<Value = (DateTime<Utc>, FixedOffset, SecondsFormat)> {
    const MIN: i64 = -62_135_596_800 + 86_400; // 0001-01-02
    const MAX: i64 = 253_370_764_800 - 86_400; // 9998-12-31
    let utc = (MIN..=MAX, 0u32..1_000_000_000).prop_map(|(secs, nanos)| {
        DateTime::from_timestamp(secs, nanos).expect("in chrono's range")
    });
    // RFC 3339 offsets are whole minutes.
    let offset = prop_oneof![Just(0), -1439i32..=1439]
        .prop_map(|minutes| FixedOffset::east_opt(minutes * 60).expect("under a day"));
    let format = prop::sample::select(vec![
        SecondsFormat::Secs,
        SecondsFormat::Millis,
        SecondsFormat::Nanos,
        SecondsFormat::AutoSi,
    ]);
    (utc, offset, format)
}

/// Writes a time with its offset, and says what it reads as: the fraction the format leaves
/// out is dropped.
fn write_time(
    utc: DateTime<Utc>,
    offset: FixedOffset,
    format: SecondsFormat,
) -> (String, DateTime<Utc>) {
    let unit = match format {
        SecondsFormat::Secs => 1_000_000_000,
        SecondsFormat::Millis => 1_000_000,
        _ => 1,
    };
    let utc = utc
        .with_nanosecond(utc.nanosecond() / unit * unit)
        .expect("a valid fraction");
    (
        utc.with_timezone(&offset).to_rfc3339_opts(format, false),
        utc,
    )
}

fn opt_text(max_chars: usize) -> impl Strategy<Value = Option<String>> {
    prop::option::of(any_text(max_chars))
}

/// A known event with any values its fields can hold within the default limits.
fn typed_event() -> impl Strategy<Value = Event> {
    let id = any::<i64>();
    prop_oneof![
        (id, opt_text(40), opt_text(40), opt_text(20), opt_text(200)).prop_map(
            |(user_id, user_name, username, source, first_message)| {
                Event::NewChat(NewChat {
                    user_id,
                    user_name,
                    username,
                    source,
                    first_message,
                })
            }
        ),
        (
            id,
            id,
            opt_text(40),
            opt_text(200),
            opt_text(60),
            opt_text(20)
        )
            .prop_map(
                |(message_id, user_id, user_name, text, file_path, source)| {
                    Event::NewMessage(NewMessage {
                        message_id,
                        user_id,
                        user_name,
                        text,
                        file_path,
                        source,
                    })
                }
            ),
        (id, opt_text(40))
            .prop_map(|(user_id, user_name)| Event::UserTyping(UserTyping { user_id, user_name })),
        (id, id).prop_map(|(user_id, last_read_message_id)| {
            Event::MessageRead(MessageRead {
                user_id,
                last_read_message_id,
            })
        }),
        id.prop_map(|user_id| Event::UserOnline(Presence { user_id })),
        id.prop_map(|user_id| Event::UserOffline(Presence { user_id })),
    ]
}

/// How a field the event does not carry is written: left out, or `null` as the seed's
/// `"file_path": null`.
#[derive(Debug, Clone, Copy)]
enum Absent {
    Omitted,
    Null,
}

/// The event's `data` as the seed writes it, built here from the typed value (not by the
/// crate's own serializer), with fields in the given order and optional ones per `absent`.
fn seed_shaped_data(event: &Event, absent: Absent, extra: Option<(&str, &Value)>) -> Value {
    let mut fields: Vec<(&str, Value)> = Vec::new();
    let opt = |v: &Option<String>| v.as_ref().map(|s| json!(s));
    match event {
        Event::NewChat(e) => {
            fields.push(("user_id", json!(e.user_id)));
            fields.push(("user_name", opt(&e.user_name).unwrap_or(Value::Null)));
            fields.push(("username", opt(&e.username).unwrap_or(Value::Null)));
            fields.push(("source", opt(&e.source).unwrap_or(Value::Null)));
            fields.push((
                "first_message",
                opt(&e.first_message).unwrap_or(Value::Null),
            ));
        }
        Event::NewMessage(e) => {
            fields.push(("message_id", json!(e.message_id)));
            fields.push(("user_id", json!(e.user_id)));
            fields.push(("user_name", opt(&e.user_name).unwrap_or(Value::Null)));
            fields.push(("text", opt(&e.text).unwrap_or(Value::Null)));
            fields.push(("file_path", opt(&e.file_path).unwrap_or(Value::Null)));
            fields.push(("source", opt(&e.source).unwrap_or(Value::Null)));
        }
        Event::UserTyping(e) => {
            fields.push(("user_id", json!(e.user_id)));
            fields.push(("user_name", opt(&e.user_name).unwrap_or(Value::Null)));
        }
        Event::MessageRead(e) => {
            fields.push(("user_id", json!(e.user_id)));
            fields.push(("last_read_message_id", json!(e.last_read_message_id)));
        }
        Event::UserOnline(e) | Event::UserOffline(e) => {
            fields.push(("user_id", json!(e.user_id)));
        }
        Event::Unknown { .. } => unreachable!("only known events are generated"),
    }
    let mut map = Map::new();
    for (key, value) in fields {
        if value.is_null() && matches!(absent, Absent::Omitted) {
            continue;
        }
        map.insert(key.to_string(), value);
    }
    if let Some((key, value)) = extra {
        map.insert(key.to_string(), value.clone());
    }
    Value::Object(map)
}

/// The keys of each event's `data` in the seed's own examples.
fn seed_keys(event: &str) -> Vec<String> {
    let text = match event {
        "new_chat" => include_str!("fixtures/seed_new_chat.json"),
        "new_message" => include_str!("fixtures/seed_new_message.json"),
        "user_typing" => include_str!("fixtures/seed_user_typing.json"),
        "message_read" => include_str!("fixtures/seed_message_read.json"),
        "user_online" => include_str!("fixtures/seed_user_online.json"),
        "user_offline" => include_str!("fixtures/seed_user_offline.json"),
        other => panic!("no seed example for {other}"),
    };
    let seed: Value = serde_json::from_str(text).expect("the seed example is JSON");
    let mut keys: Vec<String> = seed["data"]
        .as_object()
        .expect("the seed's data is an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config())]

    /// Any text: a result, never a panic; the fast path never reads a frame differently from
    /// the checked one; an error names a place; tighter limits only refuse more; every frame
    /// accepted round-trips through the crate's writer; actions too (`fuzz/checks/`).
    #[test]
    fn any_text_satisfies_the_frame_check(text in any_frame()) {
        frame_check::check(text.as_bytes());
    }

    /// Mostly well-formed frames (so most are accepted): the same round trip, plus what
    /// acceptance means for known events: the event is the one named and nothing over a limit
    /// got through.
    #[test]
    fn accepted_known_frames_keep_their_name_and_limits(text in likely_frame()) {
        let envelope = match parse_frame(&text, received_at()) {
            Ok(envelope) => envelope,
            Err(_) => return Ok(()),
        };
        round_trip(&text, &envelope);
        let sent: Value = serde_json::from_str(&text).expect("accepted text is JSON");
        prop_assert_eq!(Some(envelope.event.name()), sent["event"].as_str());
        let limits = Limits::DEFAULT;
        let strings: Vec<(&Option<String>, usize)> = match &envelope.event {
            Event::NewChat(e) => vec![
                (&e.user_name, limits.max_name_bytes),
                (&e.username, limits.max_name_bytes),
                (&e.source, limits.max_name_bytes),
                (&e.first_message, limits.max_text_bytes),
            ],
            Event::NewMessage(e) => vec![
                (&e.user_name, limits.max_name_bytes),
                (&e.text, limits.max_text_bytes),
                (&e.file_path, limits.max_path_bytes),
                (&e.source, limits.max_name_bytes),
            ],
            Event::UserTyping(e) => vec![(&e.user_name, limits.max_name_bytes)],
            _ => vec![],
        };
        for (value, max) in strings {
            prop_assert!(value.as_ref().is_none_or(|s| s.len() <= max), "{value:?} over {max}");
        }
    }

    /// Typed values written in the seed's wire shape by `serde_json` (optional fields left out
    /// or `null`, an unknown field or not, any offset and fraction) read back as exactly those
    /// values; and the crate's own writer writes exactly the seed's fields, which read back
    /// the same.
    #[test]
    fn typed_events_in_the_seed_shape_read_back_exactly(
        event in typed_event(),
        (utc, offset, format) in wire_time(),
        absent in prop_oneof![Just(Absent::Omitted), Just(Absent::Null)],
        extra in prop::option::of(("[a-z_]{1,12}", any_json())),
    ) {
        // An unknown field is ignored, unless it is one of the event's own (then it is not
        // unknown): skip those names.
        let extra = extra.filter(|(k, _)| !FIELDS.contains(&k.as_str()));
        let (timestamp, utc) = write_time(utc, offset, format);
        let frame = json!({
            "event": event.name(),
            "data": seed_shaped_data(&event, absent, extra.as_ref().map(|(k, v)| (k.as_str(), v))),
            "timestamp": timestamp,
        });
        let text = serde_json::to_string(&frame).expect("a value serializes");
        let want = Envelope::new(event.clone(), Timestamp::given(utc));
        let parsed = parse_frame(&text, received_at());
        prop_assert_eq!(parsed.as_ref(), Ok(&want), "{}", text);

        let written = want.to_value();
        let mut keys: Vec<String> = written["data"]
            .as_object()
            .expect("data is an object")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        prop_assert_eq!(keys, seed_keys(event.name()), "not the seed's fields");
        prop_assert_eq!(written["event"].as_str(), Some(event.name()));
        round_trip(&text, &want);
    }

    /// Every bounded string is bounded in bytes, exactly: a byte under or at its limit is read,
    /// a byte over is refused with the field's path, whatever characters it is made of.
    #[test]
    fn strings_are_bounded_in_bytes_exactly(
        (event, field, max) in prop::sample::select(BOUNDED.to_vec()),
        delta in -2i64..=2,
        // Controls are written as `\u000e`, six bytes each: 64 KiB of them is no longer a
        // frame under 256 KiB, refused for that before the field is read.
        fill in any::<char>().prop_filter("written as itself", |c| !c.is_control()),
    ) {
        let len = (max as i64 + delta) as usize;
        let mut value: String = std::iter::repeat_n(fill, len / fill.len_utf8()).collect();
        while value.len() < len {
            value.push('a');
        }
        let mut frame = json!({"event": event, "data": {"user_id": 7, "message_id": 1}});
        let path = if field == "event" {
            frame["event"] = json!(value);
            "event".to_string()
        } else {
            frame["data"][field] = json!(value);
            format!("{event}.data.{field}")
        };
        let text = frame.to_string();
        let parsed = parse_frame(&text, received_at());
        if len <= max {
            prop_assert!(parsed.is_ok(), "{} of {} bytes refused: {:?}", path, len, parsed);
        } else {
            let want = ParseError { path, kind: ParseErrorKind::TooLong { len, max } };
            prop_assert_eq!(parsed.map(|_| ()), Err(want));
        }
    }

    /// Subscribe/unsubscribe for any user id round-trips; a wrong action never panics.
    #[test]
    fn client_actions_round_trip(user_id in any::<i64>(), subscribe in any::<bool>()) {
        let action = match subscribe {
            true => ClientAction::Subscribe { user_id },
            false => ClientAction::Unsubscribe { user_id },
        };
        prop_assert_eq!(parse_action(&action.to_json()), Ok(action));
    }
}
