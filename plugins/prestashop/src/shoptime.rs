//! The shop's local time. PrestaShop stores and filters `date_add`/`date_upd` as the
//! shop's wall-clock time (`"2026-03-01 10:15:00"`, no offset), in the time zone of
//! `PS_TIMEZONE` (Localization › Configuration).
//!
//! Without a time-zone database in the component, zones are read from a small table:
//! UTC, fixed offsets (`"+01:00"`), and the European zones, which all follow the EU
//! summer-time rule (from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
//! last Sunday of October). Other zones need a fixed offset in the `time_zone` setting.

use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::ConnectorError;

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// A zone the connector can convert for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Always this offset.
    Fixed(UtcOffset),
    /// This standard offset, one hour more in EU summer time.
    EuSummer(UtcOffset),
}

const WET: &[&str] = &[
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Guernsey",
    "Europe/Jersey",
    "Europe/Isle_of_Man",
    "Atlantic/Canary",
    "Atlantic/Madeira",
    "Atlantic/Faroe",
];
const CET: &[&str] = &[
    "Europe/Ljubljana",
    "Europe/Zagreb",
    "Europe/Vienna",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Prague",
    "Europe/Bratislava",
    "Europe/Budapest",
    "Europe/Warsaw",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Zurich",
    "Europe/Busingen",
    "Europe/Belgrade",
    "Europe/Sarajevo",
    "Europe/Skopje",
    "Europe/Podgorica",
    "Europe/Tirane",
    "Europe/Monaco",
    "Europe/Malta",
    "Europe/Andorra",
    "Europe/Vaduz",
    "Europe/San_Marino",
    "Europe/Vatican",
    "Europe/Gibraltar",
    "Africa/Ceuta",
    "Arctic/Longyearbyen",
];
const EET: &[&str] = &[
    "Europe/Athens",
    "Europe/Bucharest",
    "Europe/Sofia",
    "Europe/Helsinki",
    "Europe/Mariehamn",
    "Europe/Tallinn",
    "Europe/Riga",
    "Europe/Vilnius",
    "Europe/Kiev",
    "Europe/Kyiv",
    "Europe/Uzhgorod",
    "Europe/Zaporozhye",
    "Europe/Chisinau",
    "Asia/Nicosia",
    "Asia/Famagusta",
    "Europe/Nicosia",
];
const MSK: &[&str] = &[
    "Europe/Istanbul",
    "Europe/Moscow",
    "Europe/Minsk",
    "Asia/Istanbul",
];

fn hours(hours: i8) -> UtcOffset {
    UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC)
}

impl Zone {
    /// Reads `"Europe/Ljubljana"`, `"UTC"`, `"+01:00"`, `"-0500"`; `None` for zones the
    /// table does not know.
    pub fn parse(name: &str) -> Option<Zone> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("utc")
            || name.eq_ignore_ascii_case("gmt")
            || name == "Etc/UTC"
            || name == "Etc/GMT"
            || name == "Z"
        {
            return Some(Zone::Fixed(UtcOffset::UTC));
        }
        if let Some(offset) = parse_offset(name) {
            return Some(Zone::Fixed(offset));
        }
        if WET.contains(&name) {
            Some(Zone::EuSummer(UtcOffset::UTC))
        } else if CET.contains(&name) {
            Some(Zone::EuSummer(hours(1)))
        } else if EET.contains(&name) {
            Some(Zone::EuSummer(hours(2)))
        } else if MSK.contains(&name) {
            Some(Zone::Fixed(hours(3)))
        } else {
            None
        }
    }

    /// The offset in force at the instant `at`.
    pub fn offset_at(self, at: OffsetDateTime) -> UtcOffset {
        match self {
            Zone::Fixed(offset) => offset,
            Zone::EuSummer(standard) => {
                if in_eu_summer_time(at) {
                    UtcOffset::from_whole_seconds(standard.whole_seconds() + 3600)
                        .unwrap_or(standard)
                } else {
                    standard
                }
            }
        }
    }

    /// The shop's wall-clock time at `at`, as PrestaShop writes it
    /// (`"2026-03-01 10:15:00"`), to the second.
    pub fn format(self, at: OffsetDateTime) -> String {
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
    /// twice, the earlier instant (summer time) is taken.
    pub fn instant(self, local: PrimitiveDateTime) -> OffsetDateTime {
        match self {
            Zone::Fixed(offset) => local.assume_offset(offset),
            Zone::EuSummer(standard) => {
                let summer = UtcOffset::from_whole_seconds(standard.whole_seconds() + 3600)
                    .unwrap_or(standard);
                let as_summer = local.assume_offset(summer);
                if in_eu_summer_time(as_summer) {
                    as_summer
                } else {
                    local.assume_offset(standard)
                }
            }
        }
    }

    /// Parses PrestaShop's `"2026-03-01 10:15:00"` as the shop's time.
    pub fn parse_local(self, text: &str) -> Result<OffsetDateTime, ConnectorError> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with("0000-00-00") {
            return Err(ConnectorError::invalid_input(format!(
                "{text:?} is not a date"
            )));
        }
        Ok(self.instant(tovor_sdk::time::parse_naive(trimmed)?))
    }
}

fn parse_offset(text: &str) -> Option<UtcOffset> {
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
    UtcOffset::from_whole_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// The last Sunday of `month` in `year`, at 01:00 UTC: when EU summer time starts
/// (March) or ends (October).
fn last_sunday_0100_utc(year: i32, month: Month) -> Option<OffsetDateTime> {
    let mut day = Date::from_calendar_date(year, month, 31).ok()?;
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day()?;
    }
    Some(PrimitiveDateTime::new(day, Time::from_hms(1, 0, 0).ok()?).assume_utc())
}

fn in_eu_summer_time(at: OffsetDateTime) -> bool {
    let utc = at.to_offset(UtcOffset::UTC);
    match (
        last_sunday_0100_utc(utc.year(), Month::March),
        last_sunday_0100_utc(utc.year(), Month::October),
    ) {
        (Some(start), Some(end)) => utc >= start && utc < end,
        _ => false,
    }
}
