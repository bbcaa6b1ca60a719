//! The shop's local time. PrestaShop stores and filters `date_add`/`date_upd` as the
//! shop's wall-clock time (`"2026-03-01 10:15:00"`, no offset), in the time zone of
//! `PS_TIMEZONE` (Localization › Configuration).
//!
//! Zones come from the IANA time-zone database bundled into the component (jiff's
//! `tzdb-bundle-always`: a sandboxed connector cannot read the system's), so every
//! zone PrestaShop offers converts with its own summer-time rules; a fixed offset
//! (`"+01:00"`) is taken too.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use time::{PrimitiveDateTime, UtcOffset};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::ConnectorError;

/// A shop's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone(TimeZone);

impl Zone {
    /// Reads `"Europe/Ljubljana"`, `"UTC"`, `"+01:00"`, `"-0500"`; `None` for names the
    /// time-zone database does not know.
    pub fn parse(name: &str) -> Option<Zone> {
        let name = name.trim();
        if let Some(offset) = parse_offset(name) {
            return Some(Zone(TimeZone::fixed(offset)));
        }
        TimeZone::get(name).ok().map(Zone)
    }

    /// The offset in force at the instant `at`.
    pub fn offset_at(&self, at: OffsetDateTime) -> UtcOffset {
        jiff::Timestamp::from_second(at.unix_timestamp())
            .ok()
            .and_then(|instant| {
                UtcOffset::from_whole_seconds(self.0.to_offset(instant).seconds()).ok()
            })
            .unwrap_or(UtcOffset::UTC)
    }

    /// The shop's wall-clock time at `at`, as PrestaShop writes it
    /// (`"2026-03-01 10:15:00"`), to the second.
    pub fn format(&self, at: OffsetDateTime) -> String {
        let local = at.to_offset(self.offset_at(at));
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            local.year(),
            u8::from(local.month()),
            local.day(),
            local.hour(),
            local.minute(),
            local.second()
        )
    }

    /// The instant a wall-clock time of the shop means. In the hour the clocks go back
    /// twice, the earlier instant (summer time) is taken; a time skipped when they go
    /// forward is read with the offset before the gap (jiff's "compatible" choice).
    pub fn instant(&self, local: PrimitiveDateTime) -> Result<OffsetDateTime, ConnectorError> {
        let out_of_range =
            |error: jiff::Error| ConnectorError::invalid_input(format!("{local}: {error}"));
        let civil = DateTime::new(
            i16::try_from(local.year()).map_err(|_| {
                ConnectorError::invalid_input(format!("{local}: the year is out of range"))
            })?,
            i8::try_from(u8::from(local.month())).unwrap_or(1),
            i8::try_from(local.day()).unwrap_or(1),
            i8::try_from(local.hour()).unwrap_or(0),
            i8::try_from(local.minute()).unwrap_or(0),
            i8::try_from(local.second()).unwrap_or(0),
            0,
        )
        .map_err(out_of_range)?;
        let zoned = self
            .0
            .to_ambiguous_zoned(civil)
            .compatible()
            .map_err(out_of_range)?;
        OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second())
            .map_err(|error| ConnectorError::invalid_input(format!("{local}: {error}")))
    }

    /// Parses PrestaShop's `"2026-03-01 10:15:00"` as the shop's time.
    pub fn parse_local(&self, text: &str) -> Result<OffsetDateTime, ConnectorError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with("0000-00-00") {
            return Err(ConnectorError::invalid_input(format!(
                "{text:?} is not a date"
            )));
        }
        self.instant(tovor_sdk::time::parse_naive(trimmed)?)
    }
}

fn parse_offset(text: &str) -> Option<Offset> {
    let text = text
        .strip_prefix("UTC")
        .or_else(|| text.strip_prefix("GMT"))
        .unwrap_or(text);
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 14 || m > 59 || rest.chars().any(|c| !c.is_ascii_digit() && c != ':') {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}
