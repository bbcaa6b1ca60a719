//! Timestamps as the contract wants them: RFC 3339 strings in UTC (`"2026-11-28T20:21:54Z"`).
//!
//! ```
//! use tovor_sdk::time;
//!
//! assert_eq!(time::parse_to_utc("2026-11-28T21:21:54+01:00").unwrap(), "2026-11-28T20:21:54Z");
//! assert_eq!(time::parse_naive_as_utc("2024-01-05 10:00:00").unwrap(), "2024-01-05T10:00:00Z");
//! assert!(time::now_utc().ends_with('Z'));
//! ```
//!
//! Whole seconds are written without a fraction; sub-second precision is kept when the
//! platform gives it (`"2026-11-28T20:21:54.25Z"`).

use ::time::format_description::FormatItem;
use ::time::format_description::well_known::Rfc3339;
use ::time::macros::format_description;
use ::time::{PrimitiveDateTime, UtcOffset};

use crate::types::ConnectorError;

pub use ::time::OffsetDateTime;

/// The current time, `RFC 3339` in UTC.
pub fn now_utc() -> String {
    format_utc(now())
}

/// The current time (the host's wall clock).
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
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

/// Parses an RFC 3339 timestamp with any offset (`Z`, `+01:00`, `-0500`), also with a
/// space instead of the `T`.
pub fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    let normalized = normalize(text);
    OffsetDateTime::parse(&normalized, &Rfc3339).map_err(|error| {
        ConnectorError::invalid_input(format!("{text:?} is not an RFC 3339 timestamp: {error}"))
    })
}

/// Parses an RFC 3339 timestamp with any offset and writes it in UTC:
/// `"2026-11-28T21:21:54+01:00"` becomes `"2026-11-28T20:21:54Z"`.
pub fn parse_to_utc(text: &str) -> Result<String, ConnectorError> {
    parse_rfc3339(text).map(format_utc)
}

/// Parses a date and time without an offset that the platform documents as UTC/GMT
/// (`"2024-01-05T10:00:00"`, `"2024-01-05 10:00:00.123"`, or a bare date `"2024-01-05"`
/// for midnight) and writes it in UTC.
pub fn parse_naive_as_utc(text: &str) -> Result<String, ConnectorError> {
    parse_naive(text).map(|at| format_utc(at.assume_utc()))
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

/// Seconds since the Unix epoch (Stripe and others) as RFC 3339 in UTC.
pub fn from_unix_seconds(seconds: i64) -> Result<String, ConnectorError> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(format_utc)
        .map_err(|error| {
            ConnectorError::invalid_input(format!("{seconds} is not a valid Unix time: {error}"))
        })
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
    use ::time::macros::datetime;

    #[test]
    fn formats_utc_with_z() {
        assert_eq!(
            format_utc(datetime!(2026-11-28 20:21:54 UTC)),
            "2026-11-28T20:21:54Z"
        );
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
    fn now_is_a_parseable_utc_timestamp() {
        let now = now_utc();
        assert!(now.ends_with('Z'), "{now}");
        assert_eq!(parse_to_utc(&now).unwrap(), now);
        assert!(now.as_str() > "2026-01-01");
    }

    #[test]
    fn parses_any_offset_to_utc() {
        for (input, expected) in [
            ("2026-11-28T20:21:54Z", "2026-11-28T20:21:54Z"),
            ("2026-11-28t20:21:54z", "2026-11-28T20:21:54Z"),
            (" 2026-11-28T21:21:54+01:00 ", "2026-11-28T20:21:54Z"),
            ("2026-11-28T15:21:54-05:00", "2026-11-28T20:21:54Z"),
            ("2026-11-28T21:21:54+0100", "2026-11-28T20:21:54Z"),
            ("2026-11-28T21:21:54+01", "2026-11-28T20:21:54Z"),
            ("2026-11-28 21:21:54+01:00", "2026-11-28T20:21:54Z"),
            ("2026-11-28T20:21:54.123+00:00", "2026-11-28T20:21:54.123Z"),
            ("2026-11-28T20:21:54.500000Z", "2026-11-28T20:21:54.5Z"),
            ("2026-03-01T00:30:00+05:30", "2026-02-28T19:00:00Z"),
            ("2024-02-29T23:00:00-02:00", "2024-03-01T01:00:00Z"),
        ] {
            assert_eq!(parse_to_utc(input).unwrap(), expected, "{input:?}");
        }
        for input in [
            "",
            "2026-11-28",
            "2026-11-28T20:21:54",
            "2026-11-28T20:21Z",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "28.11.2026 20:21:54",
            "yesterday",
            "2026-11-28T20:21:54+1:00",
        ] {
            assert!(
                matches!(parse_to_utc(input), Err(ConnectorError::InvalidInput(_))),
                "{input:?} should be refused"
            );
        }
    }

    #[test]
    fn naive_times_are_taken_as_utc() {
        assert_eq!(
            parse_naive_as_utc("2024-01-05T10:00:00").unwrap(),
            "2024-01-05T10:00:00Z"
        );
        assert_eq!(
            parse_naive_as_utc("2024-01-05 10:00:00").unwrap(),
            "2024-01-05T10:00:00Z"
        );
        assert_eq!(
            parse_naive_as_utc("2024-01-05T10:00:00.120").unwrap(),
            "2024-01-05T10:00:00.12Z"
        );
        assert_eq!(
            parse_naive_as_utc("2024-01-05").unwrap(),
            "2024-01-05T00:00:00Z"
        );
        assert!(parse_naive_as_utc("2024-01-05T10:00:00Z").is_err());
        assert!(parse_naive_as_utc("2024-01-05T10:00").is_err());
        let local = parse_naive("2024-07-05 10:00:00").unwrap();
        let offset = UtcOffset::from_hms(2, 0, 0).unwrap();
        assert_eq!(
            format_utc(local.assume_offset(offset)),
            "2024-07-05T08:00:00Z"
        );
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(from_unix_seconds(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            from_unix_seconds(1_764_361_314).unwrap(),
            "2025-11-28T20:21:54Z"
        );
        assert!(from_unix_seconds(i64::MAX).is_err());
    }

    #[test]
    fn normalize_is_careful_with_multibyte_input() {
        assert!(parse_to_utc("2026-11-2čT20:21:54Z").is_err());
        assert!(parse_to_utc("ččččččččččč").is_err());
    }
}
