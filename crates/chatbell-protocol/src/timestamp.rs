use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// How trustworthy an envelope's timestamp is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampQuality {
    /// The frame carried a valid RFC 3339 timestamp.
    Given,
    /// The frame had no timestamp; the receive time stands in for it.
    Missing,
    /// The frame's timestamp was not RFC 3339; the receive time stands in for it.
    Invalid,
}

/// An event time in UTC, with a flag saying whether it came from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub utc: DateTime<Utc>,
    pub quality: TimestampQuality,
}

impl Timestamp {
    pub fn given(utc: DateTime<Utc>) -> Self {
        Timestamp {
            utc,
            quality: TimestampQuality::Given,
        }
    }

    /// Reads an RFC 3339 timestamp (`Z` or a numeric offset, optional fractional seconds),
    /// falling back to `received_at` with the matching flag.
    ///
    /// RFC 3339 years have four digits: a time whose UTC falls outside them
    /// (`0000-01-01T00:00:00+01:00`) could not be written back, so it counts as invalid
    /// (the `parse_frame` fuzz target checks that every frame read is written back readably).
    pub fn read(value: Option<&serde_json::Value>, received_at: DateTime<Utc>) -> Self {
        match value {
            None | Some(serde_json::Value::Null) => Timestamp {
                utc: received_at,
                quality: TimestampQuality::Missing,
            },
            Some(serde_json::Value::String(s)) => {
                match DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)) {
                    Ok(utc) if (0..=9999).contains(&utc.year()) => Timestamp::given(utc),
                    _ => Timestamp {
                        utc: received_at,
                        quality: TimestampQuality::Invalid,
                    },
                }
            }
            Some(_) => Timestamp {
                utc: received_at,
                quality: TimestampQuality::Invalid,
            },
        }
    }
}

/// Formats a time as the protocol writes it: RFC 3339 in UTC with `Z`, fractional seconds
/// only when there are any (`2026-01-10T15:30:00Z`).
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn recv() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn reads_rfc3339_variants_as_utc() {
        let cases = [
            ("2026-01-10T15:30:00Z", "2026-01-10T15:30:00Z"),
            ("2026-01-10T18:30:00+03:00", "2026-01-10T15:30:00Z"),
            ("2026-01-10T10:00:00-05:30", "2026-01-10T15:30:00Z"),
            ("2026-01-10T15:30:00.123Z", "2026-01-10T15:30:00.123Z"),
            (
                "2026-01-10T15:30:00.123456789+00:00",
                "2026-01-10T15:30:00.123456789Z",
            ),
            ("2026-01-10t15:30:00z", "2026-01-10T15:30:00Z"),
        ];
        for (input, want) in cases {
            let ts = Timestamp::read(Some(&serde_json::json!(input)), recv());
            assert_eq!(ts.quality, TimestampQuality::Given, "{input}");
            assert_eq!(format_timestamp(ts.utc), want, "{input}");
        }
    }

    #[test]
    fn flags_missing_and_invalid_timestamps_and_uses_receive_time() {
        let cases = [
            (None, TimestampQuality::Missing),
            (Some(serde_json::json!(null)), TimestampQuality::Missing),
            (
                Some(serde_json::json!("yesterday")),
                TimestampQuality::Invalid,
            ),
            (
                Some(serde_json::json!("2026-01-10 15:30")),
                TimestampQuality::Invalid,
            ),
            (
                Some(serde_json::json!("2026-13-10T15:30:00Z")),
                TimestampQuality::Invalid,
            ),
            (
                Some(serde_json::json!(1768059000)),
                TimestampQuality::Invalid,
            ),
            (Some(serde_json::json!({"t": 1})), TimestampQuality::Invalid),
        ];
        for (input, quality) in cases {
            let ts = Timestamp::read(input.as_ref(), recv());
            assert_eq!(ts.quality, quality, "{input:?}");
            assert_eq!(ts.utc, recv());
        }
    }
}
