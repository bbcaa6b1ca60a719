//! Times: [`OffsetDateTime`] in the connector, [`Timestamp`] records in the contract.
//!
//! ```
//! use tovor_sdk::time::{self, OffsetDateTime};
//! use tovor_sdk::types::Timestamp;
//!
//! let at = time::parse_rfc3339("2026-11-28T21:21:54+01:00").unwrap();
//! assert_eq!(time::format_utc(at), "2026-11-28T20:21:54Z");
//! let stamp = Timestamp::from(at);
//! assert_eq!(stamp.seconds, 1_795_897_314);
//! assert_eq!(OffsetDateTime::try_from(stamp).unwrap(), at);
//! assert_eq!(time::format_utc(time::parse_naive_as_utc("2024-01-05 10:00:00").unwrap()), "2024-01-05T10:00:00Z");
//! ```
//!
//! [`format_utc`] writes whole seconds without a fraction, and keeps sub-second precision
//! when there is one (`"2026-11-28T20:21:54.25Z"`): what most APIs take in a query.

use ::time::format_description::FormatItem;
use ::time::format_description::well_known::Rfc3339;
use ::time::macros::format_description;
use ::time::{PrimitiveDateTime, UtcOffset};

use crate::types::{ConnectorError, Timestamp};

pub use ::time::OffsetDateTime;

/// The current time (the host's wall clock).
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        // Seconds round towards minus infinity, so the nanoseconds are never negative.
        let nanos = at.unix_timestamp_nanos();
        let seconds = nanos.div_euclid(1_000_000_000);
        Self {
            seconds: i64::try_from(seconds).unwrap_or(if seconds < 0 {
                i64::MIN
            } else {
                i64::MAX
            }),
            nanoseconds: u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0),
        }
    }
}

impl TryFrom<Timestamp> for OffsetDateTime {
    type Error = ConnectorError;

    /// A timestamp the `time` crate can represent (years -9999 to 9999) with
    /// nanoseconds below one second; else `invalid-input`.
    fn try_from(stamp: Timestamp) -> Result<Self, ConnectorError> {
        if stamp.nanoseconds >= 1_000_000_000 {
            return Err(ConnectorError::invalid_input(format!(
                "timestamp {}.{}: the nanoseconds exceed one second",
                stamp.seconds, stamp.nanoseconds
            )));
        }
        OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(stamp.seconds) * 1_000_000_000 + i128::from(stamp.nanoseconds),
        )
        .map_err(|error| {
            ConnectorError::invalid_input(format!(
                "timestamp {} is out of range: {error}",
                stamp.seconds
            ))
        })
    }
}

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        now().into()
    }

    /// As an [`OffsetDateTime`] in UTC; `invalid-input` naming `field` when out of range.
    pub fn to_datetime(self, field: &str) -> Result<OffsetDateTime, ConnectorError> {
        OffsetDateTime::try_from(self).map_err(|error| error.with_field(field))
    }
}

/// Writes a time in UTC as RFC 3339 with `Z`: `2026-11-28T20:21:54Z`, with a fraction
/// only when there is one (trailing zeros dropped).
pub fn format_utc(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    let nanos = at.nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Parses an RFC 3339 timestamp with any offset (`Z`, `+01:00`, `-0500`, `+01`), also
/// with a space instead of the `T`; `invalid-input` otherwise.
pub fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    let normalized = normalize(text);
    OffsetDateTime::parse(&normalized, &Rfc3339)
        .map(|at| at.to_offset(UtcOffset::UTC))
        .map_err(|error| {
            ConnectorError::invalid_input(format!("{text:?} is not an RFC 3339 timestamp: {error}"))
        })
}

/// [`parse_rfc3339`] straight to a contract [`Timestamp`].
pub fn timestamp(text: &str) -> Result<Timestamp, ConnectorError> {
    parse_rfc3339(text).map(Timestamp::from)
}

/// Parses a date and time without an offset that the platform documents as UTC/GMT
/// (`"2024-01-05T10:00:00"`, `"2024-01-05 10:00:00.123"`, or a bare date `"2024-01-05"`
/// for midnight).
pub fn parse_naive_as_utc(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    parse_naive(text).map(PrimitiveDateTime::assume_utc)
}

/// Parses a date and time without an offset, to combine with an offset of your own
/// (`parse_naive(text)?.assume_offset(offset)`) for platforms that use a fixed local time.
pub fn parse_naive(text: &str) -> Result<PrimitiveDateTime, ConnectorError> {
    const DATE_TIME: &[FormatItem<'_>] = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    const DATE: &[FormatItem<'_>] = format_description!("[year]-[month]-[day]");
    let normalized = normalize(text);
    PrimitiveDateTime::parse(&normalized, DATE_TIME)
        .or_else(|_| {
            ::time::Date::parse(&normalized, DATE)
                .map(|date| date.with_time(::time::Time::MIDNIGHT))
        })
        .map_err(|error| {
            ConnectorError::invalid_input(format!(
                "{text:?} is not a date and time like 2024-01-05T10:00:00: {error}"
            ))
        })
}

/// Seconds since the Unix epoch (Stripe and others).
pub fn from_unix_seconds(seconds: i64) -> Result<OffsetDateTime, ConnectorError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|error| {
        ConnectorError::invalid_input(format!("{seconds} is not a valid Unix time: {error}"))
    })
}

/// `#[serde(with = "tovor_sdk::time::lenient")]` for an [`OffsetDateTime`] field sent as
/// RFC 3339 with any offset (see [`parse_rfc3339`]); serializes with [`format_utc`].
pub mod lenient {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use super::{OffsetDateTime, format_utc, parse_rfc3339};

    /// Deserializes RFC 3339 with any offset.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<OffsetDateTime, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        parse_rfc3339(&text).map_err(|error| serde::de::Error::custom(error.message))
    }

    /// Serializes as RFC 3339 in UTC.
    pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_utc(*at))
    }
}

/// Trims, accepts a space or `t` between date and time, `z` for `Z`, and offsets written
/// `+0100` or `+01`.
fn normalize(text: &str) -> String {
    let mut text = text.trim().to_owned();
    if text.len() > 10 && text.is_char_boundary(10) && text.is_char_boundary(11) {
        let separator = &text[10..11];
        if separator == " " || separator == "t" {
            text.replace_range(10..11, "T");
        }
    }
    if text.ends_with('z') {
        text.pop();
        text.push('Z');
    }
    // An offset after the time part: `+0100` -> `+01:00`, `+01` -> `+01:00`.
    if let Some(sign) = text
        .get(11..)
        .and_then(|time| time.rfind(['+', '-']))
        .map(|i| i + 11)
    {
        let offset = &text[sign + 1..];
        if offset.len() == 4 && offset.bytes().all(|b| b.is_ascii_digit()) {
            text.insert(sign + 3, ':');
        } else if offset.len() == 2 && offset.bytes().all(|b| b.is_ascii_digit()) {
            text.push_str(":00");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;
    use ::time::macros::datetime;

    fn utc(text: &str) -> String {
        format_utc(parse_rfc3339(text).unwrap())
    }

    #[test]
    fn formats_utc_with_z() {
        assert_eq!(
            format_utc(datetime!(2026-11-28 21:21:54 +01:00)),
            "2026-11-28T20:21:54Z"
        );
        assert_eq!(
            format_utc(datetime!(2026-01-01 00:30:00 +01:00)),
            "2025-12-31T23:30:00Z"
        );
        assert_eq!(
            format_utc(datetime!(2026-11-28 20:21:54.250 UTC)),
            "2026-11-28T20:21:54.25Z"
        );
        assert_eq!(
            format_utc(datetime!(2026-11-28 20:21:54.000000001 UTC)),
            "2026-11-28T20:21:54.000000001Z"
        );
    }

    #[test]
    fn timestamps_round_trip() {
        for at in [
            datetime!(1970-01-01 00:00:00 UTC),
            datetime!(2026-11-28 20:21:54.25 UTC),
            datetime!(1969-12-31 23:59:59.5 UTC),
            datetime!(1900-02-28 12:00:00.000000001 UTC),
            datetime!(9999-12-31 23:59:59.999999999 UTC),
        ] {
            let stamp = Timestamp::from(at);
            assert!(stamp.nanoseconds < 1_000_000_000, "{at}");
            assert_eq!(OffsetDateTime::try_from(stamp).unwrap(), at);
        }
        let before_epoch = Timestamp::from(datetime!(1969-12-31 23:59:59.5 UTC));
        assert_eq!(
            (before_epoch.seconds, before_epoch.nanoseconds),
            (-1, 500_000_000)
        );
        let offset = Timestamp::from(datetime!(2026-11-28 21:21:54 +01:00));
        assert_eq!(offset, Timestamp::from(datetime!(2026-11-28 20:21:54 UTC)));
        let bad = Timestamp {
            seconds: 0,
            nanoseconds: 1_000_000_000,
        };
        assert!(OffsetDateTime::try_from(bad).is_err());
        let far = Timestamp {
            seconds: i64::MAX,
            nanoseconds: 0,
        };
        let error = far.to_datetime("changed-since").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("changed-since"));
        assert!(Timestamp::now().seconds > 1_767_225_600);
    }

    #[test]
    fn parses_any_offset() {
        for (input, expected) in [
            ("2026-11-28T20:21:54Z", "2026-11-28T20:21:54Z"),
            ("2026-11-28t20:21:54z", "2026-11-28T20:21:54Z"),
            (" 2026-11-28T21:21:54+01:00 ", "2026-11-28T20:21:54Z"),
            ("2026-11-28T15:21:54-05:00", "2026-11-28T20:21:54Z"),
            ("2026-11-28T21:21:54+0100", "2026-11-28T20:21:54Z"),
            ("2026-11-28T21:21:54+01", "2026-11-28T20:21:54Z"),
            ("2026-11-28 21:21:54+01:00", "2026-11-28T20:21:54Z"),
            ("2026-11-28T20:21:54.123+00:00", "2026-11-28T20:21:54.123Z"),
            ("2026-03-01T00:30:00+05:30", "2026-02-28T19:00:00Z"),
            ("2024-02-29T23:00:00-02:00", "2024-03-01T01:00:00Z"),
        ] {
            assert_eq!(utc(input), expected, "{input:?}");
        }
        for input in [
            "",
            "2026-11-28",
            "2026-11-28T20:21:54",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "yesterday",
            "2026-11-2čT20:21:54Z",
            "ččččččččččč",
        ] {
            assert!(
                matches!(parse_rfc3339(input), Err(e) if e.kind == ErrorKind::InvalidInput),
                "{input:?} should be refused"
            );
        }
        assert_eq!(
            timestamp("1970-01-01T00:00:01.5Z").unwrap(),
            Timestamp {
                seconds: 1,
                nanoseconds: 500_000_000
            }
        );
    }

    #[test]
    fn naive_times_and_unix_seconds() {
        let naive = |text: &str| format_utc(parse_naive_as_utc(text).unwrap());
        assert_eq!(naive("2024-01-05T10:00:00"), "2024-01-05T10:00:00Z");
        assert_eq!(naive("2024-01-05 10:00:00.120"), "2024-01-05T10:00:00.12Z");
        assert_eq!(naive("2024-01-05"), "2024-01-05T00:00:00Z");
        assert!(parse_naive_as_utc("2024-01-05T10:00:00Z").is_err());
        let local = parse_naive("2024-07-05 10:00:00").unwrap();
        let offset = UtcOffset::from_hms(2, 0, 0).unwrap();
        assert_eq!(
            format_utc(local.assume_offset(offset)),
            "2024-07-05T08:00:00Z"
        );
        assert_eq!(
            format_utc(from_unix_seconds(1_764_361_314).unwrap()),
            "2025-11-28T20:21:54Z"
        );
        assert!(from_unix_seconds(i64::MAX).is_err());
    }

    #[test]
    fn serde_lenient() {
        #[derive(serde::Deserialize, serde::Serialize)]
        struct Row {
            #[serde(with = "lenient")]
            at: OffsetDateTime,
        }
        let row: Row = serde_json::from_str(r#"{"at": "2026-11-28 21:21:54+0100"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"at":"2026-11-28T20:21:54Z"}"#
        );
        assert!(serde_json::from_str::<Row>(r#"{"at": "soon"}"#).is_err());
    }
}
