//! Frame parsing on arbitrary text: never a panic, the fast path and the checked path agree,
//! tighter limits only ever reject more, and every frame accepted is written back as a frame
//! that reads to the same event. Client actions get the same treatment.

use chatbell_protocol::{
    Envelope, Limits, TimestampQuality, parse_action, parse_frame, parse_frame_checked_for_tests,
    parse_frame_with,
};
use chrono::{DateTime, Utc};

/// Small enough that the fuzzer reaches every bound with short inputs.
const TIGHT: Limits = Limits {
    max_frame_bytes: 512,
    max_depth: 3,
    max_text_bytes: 24,
    max_name_bytes: 12,
    max_path_bytes: 16,
};

/// The receive time every check reads frames at.
pub fn received_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).expect("a valid time")
}

pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let at = received_at();
    let parsed = parse_frame(text, at);

    // The fast path may only decline a frame, never read it differently.
    let checked = parse_frame_checked_for_tests(text, at);
    assert_eq!(parsed, checked, "fast and checked paths differ on {text:?}");
    if let Err(e) = &parsed {
        assert!(
            !e.path.is_empty(),
            "an error without a place: {e} on {text:?}"
        );
    }

    // Tighter limits reject more, and what they accept reads the same.
    if let Ok(tight) = parse_frame_with(text, at, &TIGHT) {
        assert_eq!(
            Ok(&tight),
            parsed.as_ref(),
            "accepted under tight limits only: {text:?}"
        );
    }

    if let Ok(envelope) = &parsed {
        round_trip(text, envelope);
    }

    if let Ok(action) = parse_action(text) {
        assert_eq!(parse_action(&action.to_json()), Ok(action), "{text:?}");
    }
}

/// What every accepted frame (read from `text`) must satisfy: written back, it reads as the
/// same event at the same time, both writers agree, and writing is a fixpoint.
pub fn round_trip(text: &str, envelope: &Envelope) {
    let written = envelope.to_json();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&written).ok(),
        Some(envelope.to_value()),
        "to_json and to_value differ for {text:?}"
    );
    let again = parse_frame(&written, received_at())
        .unwrap_or_else(|e| panic!("{text:?} was written as {written:?}, which fails: {e}"));
    assert_eq!(again.event, envelope.event, "{text:?} -> {written:?}");
    // A missing or invalid timestamp is written as the receive time, which then counts as
    // given.
    assert_eq!(
        again.timestamp.utc, envelope.timestamp.utc,
        "{text:?} -> {written:?}"
    );
    assert_eq!(
        again.timestamp.quality,
        TimestampQuality::Given,
        "{written:?}"
    );
    assert_eq!(
        again.to_json(),
        written,
        "writing is not a fixpoint: {text:?}"
    );
}
