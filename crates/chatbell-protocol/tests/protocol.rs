//! The protocol against the seed's own examples and against hostile input.

use chatbell_protocol::*;
use chrono::{DateTime, TimeZone, Utc};

fn recv() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap()
}

// The six payloads of the original document, byte for byte.
const SEED: [(&str, &str); 6] = [
    ("new_chat", include_str!("fixtures/seed_new_chat.json")),
    (
        "new_message",
        include_str!("fixtures/seed_new_message.json"),
    ),
    (
        "user_typing",
        include_str!("fixtures/seed_user_typing.json"),
    ),
    (
        "message_read",
        include_str!("fixtures/seed_message_read.json"),
    ),
    (
        "user_online",
        include_str!("fixtures/seed_user_online.json"),
    ),
    (
        "user_offline",
        include_str!("fixtures/seed_user_offline.json"),
    ),
];

#[test]
fn seed_examples_parse_into_the_typed_events() {
    let at = |s| Timestamp::given(DateTime::parse_from_rfc3339(s).unwrap().to_utc());
    let want = [
        Envelope::new(
            Event::NewChat(NewChat {
                user_id: 123456789,
                user_name: Some("Иван Петров".into()),
                username: Some("ivan_petrov".into()),
                source: Some("telegram".into()),
                first_message: Some("Привет!".into()),
            }),
            at("2026-01-10T15:30:00Z"),
        ),
        Envelope::new(
            Event::NewMessage(NewMessage {
                message_id: 123,
                user_id: 123456789,
                user_name: Some("Иван Петров".into()),
                text: Some("Когда будет доставка?".into()),
                file_path: None,
                source: Some("telegram".into()),
            }),
            at("2026-01-10T15:31:00Z"),
        ),
        Envelope::new(
            Event::UserTyping(UserTyping {
                user_id: 123456789,
                user_name: Some("Иван Петров".into()),
            }),
            at("2026-01-10T15:32:00Z"),
        ),
        Envelope::new(
            Event::MessageRead(MessageRead {
                user_id: -1234567890,
                last_read_message_id: 125,
            }),
            at("2026-01-10T15:33:00Z"),
        ),
        Envelope::new(
            Event::UserOnline(Presence { user_id: 123456789 }),
            at("2026-01-10T15:34:00Z"),
        ),
        Envelope::new(
            Event::UserOffline(Presence { user_id: 123456789 }),
            at("2026-01-10T15:35:00Z"),
        ),
    ];
    for ((name, text), want) in SEED.iter().zip(want) {
        let got = parse_frame(text, recv()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}");
        assert_eq!(got.event.name(), *name);
    }
}

#[test]
fn seed_examples_serialize_back_to_the_same_json() {
    for (name, text) in SEED {
        let parsed = parse_frame(text, recv()).unwrap();
        let original: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(parsed.to_value(), original, "{name}");
        // And what we write reads back to the same envelope.
        assert_eq!(
            parse_frame(&parsed.to_json(), recv()).unwrap(),
            parsed,
            "{name}"
        );
    }
}

#[test]
fn round_trips_edge_values() {
    let envelopes = [
        Envelope::new(
            Event::NewMessage(NewMessage {
                message_id: i64::MAX,
                user_id: i64::MIN,
                user_name: None,
                text: Some("<b>x</b> & \"q\" \u{202e}\n\t\u{0}".into()),
                file_path: Some("../../etc/passwd".into()),
                source: Some("carrier-pigeon".into()),
            }),
            Timestamp::given(Utc.timestamp_opt(1_768_059_000, 123_000_000).unwrap()),
        ),
        Envelope::new(
            Event::Unknown {
                event: "agent_joined".into(),
                data: serde_json::json!({"x": [1, {"y": null}]}),
            },
            Timestamp::given(recv()),
        ),
        Envelope::new(
            Event::NewChat(NewChat {
                user_id: -1,
                user_name: Some(String::new()),
                username: None,
                source: None,
                first_message: None,
            }),
            Timestamp::given(recv()),
        ),
    ];
    for env in envelopes {
        assert_eq!(parse_frame(&env.to_json(), recv()).unwrap(), env);
    }
}

#[test]
fn widget_users_have_negative_ids() {
    assert!(source_is_widget(-1234567890));
    assert!(!source_is_widget(123456789));
}

#[test]
fn unknown_events_and_fields_are_kept_not_rejected() {
    let env = parse_frame(
        r#"{"event":"chat_closed","data":{"user_id":5,"by":"agent"},"timestamp":"2026-01-10T15:30:00Z","v":2}"#,
        recv(),
    )
    .unwrap();
    assert_eq!(env.event.kind(), EventKind::Unknown);
    assert_eq!(env.event.name(), "chat_closed");
    assert_eq!(env.event.user_id(), Some(5));

    let env = parse_frame(
        r#"{"event":"user_online","data":{"user_id":5,"device":"ios","extra":{"a":[1]}},"extra":1}"#,
        recv(),
    )
    .unwrap();
    assert_eq!(env.event, Event::UserOnline(Presence { user_id: 5 }));
    assert_eq!(env.timestamp.quality, TimestampQuality::Missing);
    assert_eq!(env.timestamp.utc, recv());

    // An unknown event may have no data at all.
    let env = parse_frame(r#"{"event":"ping"}"#, recv()).unwrap();
    assert_eq!(
        env.event,
        Event::Unknown {
            event: "ping".into(),
            data: serde_json::Value::Null
        }
    );
}

#[test]
fn timestamps_with_offsets_are_stored_as_utc_and_bad_ones_flagged() {
    let frame =
        |ts: &str| format!(r#"{{"event":"user_online","data":{{"user_id":1}},"timestamp":{ts}}}"#);
    let env = parse_frame(&frame(r#""2026-01-10T18:30:00.5+03:00""#), recv()).unwrap();
    assert_eq!(
        format_timestamp(env.timestamp.utc),
        "2026-01-10T15:30:00.500Z"
    );
    assert_eq!(env.timestamp.quality, TimestampQuality::Given);
    let env = parse_frame(&frame(r#""soon""#), recv()).unwrap();
    assert_eq!(env.timestamp.quality, TimestampQuality::Invalid);
    assert_eq!(env.timestamp.utc, recv());
}

#[test]
fn nullable_and_optional_fields() {
    let env = parse_frame(
        r#"{"event":"new_message","data":{"message_id":1,"user_id":2,"text":null,"file_path":"uploads/a.pdf"}}"#,
        recv(),
    )
    .unwrap();
    let Event::NewMessage(m) = env.event else {
        panic!()
    };
    assert_eq!(m.text, None);
    assert_eq!(m.file_path.as_deref(), Some("uploads/a.pdf"));
    assert_eq!(m.user_name, None);
    assert_eq!(m.source, None);
}

/// At least 30 malformed or hostile frames, each with the error it must produce.
#[test]
fn malformed_frames_give_precise_errors_and_never_panic() {
    let long_name = "я".repeat(300); // 600 bytes
    let long_text = "a".repeat(64 * 1024 + 1);
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let deep_data = format!(
        r#"{{"event":"x","data":{}1{}}}"#,
        r#"{"a":"#.repeat(20),
        "}".repeat(20)
    );
    let huge = format!(r#"{{"event":"x","data":"{}"}}"#, "z".repeat(300 * 1024));
    let big_path = "p".repeat(5000);
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "frame: empty"),
        ("   \n ".into(), "frame: empty"),
        ("not json".into(), "frame: not valid JSON"),
        ("{".into(), "frame: not valid JSON"),
        (r#"{"event":"new_chat","data":{"user_id":1}"#.into(), "frame: not valid JSON"),
        (r#"{"event":"new_chat"} trailing"#.into(), "frame: not valid JSON"),
        ("\u{feff}{}".into(), "frame: not valid JSON"),
        ("[]".into(), "frame: expected object, got array"),
        ("42".into(), "frame: expected object, got integer"),
        (r#""new_chat""#.into(), "frame: expected object, got string"),
        ("null".into(), "frame: expected object, got null"),
        ("{}".into(), "event: missing"),
        (r#"{"data":{"user_id":1}}"#.into(), "event: missing"),
        (r#"{"event":42}"#.into(), "event: expected string, got integer"),
        (r#"{"event":null}"#.into(), "event: expected string, got null"),
        (r#"{"event":""}"#.into(), "event: empty"),
        (format!(r#"{{"event":"{long_name}"}}"#), "event: 600 bytes is over the limit of 512"),
        (r#"{"event":"new_chat"}"#.into(), "new_chat.data: missing"),
        (r#"{"event":"new_chat","data":null}"#.into(), "new_chat.data: expected object, got null"),
        (r#"{"event":"new_chat","data":[1]}"#.into(), "new_chat.data: expected object, got array"),
        (r#"{"event":"new_chat","data":{}}"#.into(), "new_chat.data.user_id: missing"),
        (
            r#"{"event":"new_chat","data":{"user_id":"123"}}"#.into(),
            "new_chat.data.user_id: expected integer, got string",
        ),
        (
            r#"{"event":"new_chat","data":{"user_id":1.5}}"#.into(),
            "new_chat.data.user_id: expected integer, got number",
        ),
        (
            r#"{"event":"new_chat","data":{"user_id":1,"user_name":7}}"#.into(),
            "new_chat.data.user_name: expected string or null, got integer",
        ),
        (
            format!(r#"{{"event":"new_chat","data":{{"user_id":1,"user_name":"{long_name}"}}}}"#),
            "new_chat.data.user_name: 600 bytes is over the limit of 512",
        ),
        (
            r#"{"event":"new_message","data":{"message_id":"123","user_id":1}}"#.into(),
            "new_message.data.message_id: expected integer, got string",
        ),
        (
            r#"{"event":"new_message","data":{"user_id":1}}"#.into(),
            "new_message.data.message_id: missing",
        ),
        (
            r#"{"event":"new_message","data":{"message_id":18446744073709551615,"user_id":1}}"#.into(),
            "new_message.data.message_id: integer 18446744073709551615 is out of the signed 64-bit range",
        ),
        (
            r#"{"event":"new_message","data":{"message_id":1,"user_id":true}}"#.into(),
            "new_message.data.user_id: expected integer, got boolean",
        ),
        (
            r#"{"event":"new_message","data":{"message_id":1,"user_id":2,"text":["a"]}}"#.into(),
            "new_message.data.text: expected string or null, got array",
        ),
        (
            format!(r#"{{"event":"new_message","data":{{"message_id":1,"user_id":2,"text":"{long_text}"}}}}"#),
            "new_message.data.text: 65537 bytes is over the limit of 65536",
        ),
        (
            format!(r#"{{"event":"new_message","data":{{"message_id":1,"user_id":2,"file_path":"{big_path}"}}}}"#),
            "new_message.data.file_path: 5000 bytes is over the limit of 4096",
        ),
        (
            r#"{"event":"new_message","data":{"message_id":1,"user_id":2,"file_path":{"url":"file:///etc"}}}"#.into(),
            "new_message.data.file_path: expected string or null, got object",
        ),
        (
            r#"{"event":"user_typing","data":{"user_id":null}}"#.into(),
            "user_typing.data.user_id: expected integer, got null",
        ),
        (
            r#"{"event":"message_read","data":{"user_id":-5}}"#.into(),
            "message_read.data.last_read_message_id: missing",
        ),
        (
            r#"{"event":"message_read","data":{"user_id":-5,"last_read_message_id":-1e3}}"#.into(),
            "message_read.data.last_read_message_id: expected integer, got number",
        ),
        (r#"{"event":"user_online","data":"5"}"#.into(), "user_online.data: expected object, got string"),
        (r#"{"event":"user_offline","data":{"user_id":{}}}"#.into(), "user_offline.data.user_id: expected integer, got object"),
        (deep, "frame: nesting deeper than 16 levels"),
        (deep_data, "frame: nesting deeper than 16 levels"),
        (huge, "frame: frame of 307223 bytes is over the limit of 262144"),
        (r#"{"event":"new_chat","data":{"user_id":1},"event":"x"}"#.into(), "OK"),
    ];
    assert!(cases.len() >= 30);
    for (frame, want) in &cases {
        let shown: String = frame.chars().take(60).collect();
        match parse_frame(frame, recv()) {
            Ok(_) if *want == "OK" => {}
            Ok(env) => panic!("{shown:?} parsed as {env:?}, wanted error {want:?}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(want),
                    "{shown:?}: got {msg:?}, wanted {want:?}"
                );
            }
        }
    }
}

#[test]
fn limits_are_configurable() {
    let tight = Limits {
        max_text_bytes: 3,
        ..Limits::DEFAULT
    };
    let frame = r#"{"event":"new_chat","data":{"user_id":1,"first_message":"four"}}"#;
    let err = parse_frame_with(frame, recv(), &tight).unwrap_err();
    assert_eq!(err.path, "new_chat.data.first_message");
    assert_eq!(err.kind, ParseErrorKind::TooLong { len: 4, max: 3 });
    assert!(parse_frame(frame, recv()).is_ok());
}

#[test]
fn actions_serialize_as_the_seed_shows_and_parse_back() {
    let sub = ClientAction::Subscribe { user_id: 123456789 };
    assert_eq!(
        sub.to_json(),
        r#"{"action":"subscribe","filter":{"user_id":123456789}}"#
    );
    let unsub = ClientAction::Unsubscribe { user_id: -7 };
    assert_eq!(
        unsub.to_json(),
        r#"{"action":"unsubscribe","filter":{"user_id":-7}}"#
    );
    for a in [sub, unsub] {
        assert_eq!(parse_action(&a.to_json()).unwrap(), a);
    }
}

#[test]
fn malformed_actions_give_precise_errors() {
    let cases = [
        ("nope", "frame: not valid JSON"),
        ("[]", "frame: expected object, got array"),
        (r#"{"filter":{"user_id":1}}"#, "action: missing"),
        (
            r#"{"action":1,"filter":{"user_id":1}}"#,
            "action: expected string, got integer",
        ),
        (r#"{"action":"subscribe"}"#, "filter: missing"),
        (
            r#"{"action":"subscribe","filter":7}"#,
            "filter: expected object, got integer",
        ),
        (
            r#"{"action":"subscribe","filter":{}}"#,
            "filter.user_id: missing",
        ),
        (
            r#"{"action":"subscribe","filter":{"user_id":"1"}}"#,
            "filter.user_id: expected integer, got string",
        ),
        (
            r#"{"action":"mute","filter":{"user_id":1}}"#,
            "action: unknown action \"mute\"",
        ),
    ];
    for (text, want) in cases {
        let msg = parse_action(text).unwrap_err().to_string();
        assert!(
            msg.starts_with(want),
            "{text}: got {msg:?}, wanted {want:?}"
        );
    }
}

/// The fast path and the checked path read every frame alike (the fast one may only decline).
#[test]
fn fast_and_checked_paths_agree() {
    let mut frames: Vec<String> = SEED.iter().map(|(_, f)| f.to_string()).collect();
    frames.extend([
        r#"{"timestamp":"2026-01-10T15:30:00+03:00","data":{"text":"x","user_id":1,"message_id":2},"event":"new_message"}"#.into(),
        r#"{"event":"new_message","data":{"message_id":1,"user_id":2,"text":"экранированный \"текст\" \u0416 \n","file_path":null}}"#.into(),
        r#"{"event":"new_chat","data":{"user_id":-1,"user_name":null,"first_message":null,"extra":{"deep":[1,2]}}}"#.into(),
        r#"{"event":"message_read","data":{"user_id":-1,"last_read_message_id":9},"timestamp":"bad"}"#.into(),
        r#"{"event":"user_typing","data":{"user_id":3},"timestamp":null}"#.into(),
        r#"{"event":"new_chat","data":{"user_id":1},"event":"user_online"}"#.into(),
        r#"{"event":"new_message","data":{"message_id":1,"user_id":1.0}}"#.into(),
        r#"{"event":"new_message","data":{"message_id":1,"user_id":1,"user_id":2}}"#.into(),
        format!(r#"{{"event":"new_chat","data":{{"user_id":1,"user_name":"{}"}}}}"#, "n".repeat(513)),
        r#"{"event":"custom","data":{"user_id":1}}"#.into(),
    ]);
    for frame in &frames {
        let checked = chatbell_protocol::parse_frame_checked_for_tests(frame, recv());
        assert_eq!(parse_frame(frame, recv()), checked, "{frame}");
    }
}

/// Found by the `parse_frame` fuzz target (`cargo xtask fuzz`) and while writing it: frames
/// that are not valid protocol JSON, which the fast path read anyway.
#[test]
fn fast_path_declines_frames_the_checked_path_rejects() {
    let frames = [
        // A lone surrogate, or a number beyond f64, in a field nobody reads: serde skips a
        // value without the checks a full read makes.
        r#"{"event":"new_chat","data":{"user_id":2},"":"\ud800"}"#,
        r#"{"event":"user_online","data":{"user_id":5,"x":1e400}}"#,
        // Serde reads a struct from an array too, field by field.
        r#"["user_online",{"user_id":5}]"#,
        r#"{"event":"user_online","data":[5,null,null]}"#,
    ];
    for frame in frames {
        let checked = chatbell_protocol::parse_frame_checked_for_tests(frame, recv());
        assert!(checked.is_err(), "{frame}: {checked:?}");
        assert_eq!(parse_frame(frame, recv()), checked, "{frame}");
    }
}

/// Found by the `parse_frame` fuzz target and while writing it: every frame that is read is
/// written back as a frame that reads the same.
#[test]
fn accepted_frames_are_written_back_readably() {
    // A float the default JSON number parser reads one unit in the last place off.
    let frame =
        r#"{"event":"custom","data":{"x":123333333333333333331333333333333333333333333456789}}"#;
    let env = parse_frame(frame, recv()).unwrap();
    assert_eq!(
        parse_frame(&env.to_json(), recv()).unwrap().event,
        env.event
    );

    // Offsets that move the time out of RFC 3339's four-digit years: not a time that can be
    // written back, so flagged invalid like any other bad timestamp.
    for ts in ["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"] {
        let frame =
            format!(r#"{{"event":"user_online","data":{{"user_id":5}},"timestamp":"{ts}"}}"#);
        let env = parse_frame(&frame, recv()).unwrap();
        assert_eq!(env.timestamp.quality, TimestampQuality::Invalid, "{ts}");
        assert_eq!(env.timestamp.utc, recv(), "{ts}");
        assert_eq!(
            parse_frame(&env.to_json(), recv()).unwrap().timestamp.utc,
            recv()
        );
    }
    // The edges themselves are fine.
    for ts in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"] {
        let frame =
            format!(r#"{{"event":"user_online","data":{{"user_id":5}},"timestamp":"{ts}"}}"#);
        let env = parse_frame(&frame, recv()).unwrap();
        assert_eq!(env.timestamp.quality, TimestampQuality::Given, "{ts}");
        assert_eq!(parse_frame(&env.to_json(), recv()).unwrap(), env, "{ts}");
    }
}
