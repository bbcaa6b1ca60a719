//! The company's profile: who issues the documents, how they are paid, and the calendar
//! and language they are written in.
//!
//! A document's day (and so its number's year) is the day in the company's time zone,
//! not in UTC: an invoice issued at 00:30 on 1 January in Ljubljana is 23:30 on
//! 31 December in UTC, and belongs to the new year's series all the same.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

/// The zone a company's documents are dated in unless it says otherwise.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Ljubljana";

/// Why a profile value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("{0:?} is not a time zone of the IANA database (such as Europe/Ljubljana)")]
    UnknownTimeZone(String),
    #[error("{0:?} is not a document language: use sl or en")]
    UnknownLanguage(String),
    #[error("{0:?} is not a valid IBAN: {1}")]
    Iban(String, &'static str),
    #[error("{0:?} is not a BIC: 8 or 11 letters and digits, the 5th and 6th a country")]
    Bic(String),
    #[error("{0:?} is not a country: use the ISO 3166 two-letter code, such as SI")]
    Country(String),
    #[error("{0:?} is not a VAT number: the country prefix and the number, such as SI12345678")]
    VatId(String),
}

/// A company's time zone, by its IANA name.
#[derive(Debug, Clone)]
pub struct CompanyTimeZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl CompanyTimeZone {
    /// The zone named `name` (`Europe/Ljubljana`), from the database bundled with the
    /// host, so that every machine dates documents alike.
    ///
    /// # Errors
    ///
    /// [`ProfileError::UnknownTimeZone`] for a name the database does not have.
    pub fn parse(name: &str) -> Result<Self, ProfileError> {
        let zone = jiff::tz::TimeZone::get(name.trim())
            .map_err(|_| ProfileError::UnknownTimeZone(name.to_owned()))?;
        Ok(Self {
            name: name.trim().to_owned(),
            zone,
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The calendar day `at` falls on in this zone.
    pub fn local_date(&self, at: OffsetDateTime) -> Date {
        let local = jiff::Timestamp::from_second(at.unix_timestamp())
            .map(|timestamp| timestamp.to_zoned(self.zone.clone()).date());
        let converted = local.ok().and_then(|day| {
            let month = Month::try_from(u8::try_from(day.month()).ok()?).ok()?;
            Date::from_calendar_date(i32::from(day.year()), month, u8::try_from(day.day()).ok()?)
                .ok()
        });
        // Only instants outside jiff's range (beyond ±9999 years) fail: keep UTC's day.
        converted.unwrap_or_else(|| at.date())
    }

    /// `at` as the clock on the company's wall shows it (the same instant, with this
    /// zone's offset at that instant).
    pub fn local(&self, at: OffsetDateTime) -> OffsetDateTime {
        jiff::Timestamp::from_second(at.unix_timestamp())
            .ok()
            .map(|timestamp| self.zone.to_offset(timestamp).seconds())
            .and_then(|seconds| time::UtcOffset::from_whole_seconds(seconds).ok())
            .map_or(at, |offset| at.to_offset(offset))
    }
}

impl Default for CompanyTimeZone {
    fn default() -> Self {
        Self {
            name: DEFAULT_TIME_ZONE.to_owned(),
            zone: jiff::tz::TimeZone::get(DEFAULT_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }
}

impl PartialEq for CompanyTimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for CompanyTimeZone {}

impl fmt::Display for CompanyTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The language of a company's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentLanguage {
    /// Slovenian.
    #[default]
    Sl,
    /// English.
    En,
}

impl DocumentLanguage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sl => "sl",
            Self::En => "en",
        }
    }
}

impl FromStr for DocumentLanguage {
    type Err = ProfileError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sl" => Ok(Self::Sl),
            "en" => Ok(Self::En),
            _ => Err(ProfileError::UnknownLanguage(text.to_owned())),
        }
    }
}

/// An IBAN in its electronic form (no spaces, upper case), once its check digits
/// hold (ISO 13616: the country and check digits moved to the end, letters as
/// numbers, the whole mod 97 is 1).
///
/// # Errors
///
/// [`ProfileError::Iban`] saying what is wrong.
pub fn normalize_iban(text: &str) -> Result<String, ProfileError> {
    let iban: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let refuse = |why| Err(ProfileError::Iban(text.to_owned(), why));
    if !(15..=34).contains(&iban.len()) {
        return refuse("an IBAN has 15 to 34 characters");
    }
    if !iban.chars().all(|c| c.is_ascii_alphanumeric()) {
        return refuse("only letters and digits");
    }
    let (head, rest) = iban.split_at(4);
    if !head[..2].chars().all(|c| c.is_ascii_alphabetic())
        || !head[2..].chars().all(|c| c.is_ascii_digit())
    {
        return refuse("it starts with the country and two check digits");
    }
    if iban.starts_with("SI") && iban.len() != 19 {
        return refuse("a Slovenian IBAN has 19 characters");
    }
    if mod97(rest.chars().chain(head.chars())) != 1 {
        return refuse("the check digits do not match");
    }
    Ok(iban)
}

/// The remainder mod 97 of the number the characters spell, letters as 10–35.
pub fn mod97(characters: impl Iterator<Item = char>) -> u32 {
    characters.fold(0u32, |remainder, c| {
        let value = c.to_digit(36).unwrap_or(0);
        if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        }
    })
}

/// A BIC (ISO 9362) in upper case.
///
/// # Errors
///
/// [`ProfileError::Bic`] unless 8 or 11 letters and digits with a country in places 5–6.
pub fn normalize_bic(text: &str) -> Result<String, ProfileError> {
    let bic = text.trim().to_ascii_uppercase();
    let shaped = matches!(bic.len(), 8 | 11)
        && bic.chars().all(|c| c.is_ascii_alphanumeric())
        && bic[..6].chars().skip(4).all(|c| c.is_ascii_alphabetic());
    if shaped {
        Ok(bic)
    } else {
        Err(ProfileError::Bic(text.to_owned()))
    }
}

/// An ISO 3166-1 alpha-2 country code in upper case.
///
/// # Errors
///
/// [`ProfileError::Country`] unless two letters.
pub fn normalize_country(text: &str) -> Result<String, ProfileError> {
    let country = text.trim().to_ascii_uppercase();
    if country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(country)
    } else {
        Err(ProfileError::Country(text.to_owned()))
    }
}

/// A VAT identification number with its country prefix, spaces and dots removed. A
/// Slovenian one (`SI` and eight digits) must pass its mod 11 check digit.
///
/// # Errors
///
/// [`ProfileError::VatId`] when it has no two-letter prefix, is too short or long, or a
/// Slovenian number's check digit is wrong.
pub fn normalize_vat_id(text: &str) -> Result<String, ProfileError> {
    let vat: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let refuse = || ProfileError::VatId(text.to_owned());
    let prefix_ok = vat.len() >= 4
        && vat.len() <= 16
        && vat[..2].chars().all(|c| c.is_ascii_alphabetic())
        && vat[2..].chars().all(|c| c.is_ascii_alphanumeric());
    if !prefix_ok {
        return Err(refuse());
    }
    if let Some(number) = vat.strip_prefix("SI") {
        let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
        if digits.len() != 8 || number.len() != 8 {
            return Err(refuse());
        }
        // FURS: weights 8..2 over the first seven digits; 11 − (sum mod 11) is the
        // check digit, 10 becomes 0, and 11 never occurs in an issued number.
        let sum: u32 = digits[..7]
            .iter()
            .zip((2..=8).rev())
            .map(|(digit, weight)| digit * weight)
            .sum();
        let check = match 11 - sum % 11 {
            10 => 0,
            11 => return Err(refuse()),
            check => check,
        };
        if check != digits[7] {
            return Err(refuse());
        }
    }
    Ok(vat)
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn local_time_follows_summer_time() {
        let zone = CompanyTimeZone::parse("Europe/Ljubljana").unwrap();
        let winter = zone.local(datetime!(2026-12-04 08:30 UTC));
        assert_eq!((winter.hour(), winter.offset().whole_hours()), (9, 1));
        let summer = zone.local(datetime!(2026-07-04 08:30 UTC));
        assert_eq!((summer.hour(), summer.offset().whole_hours()), (10, 2));
        assert_eq!(summer, datetime!(2026-07-04 08:30 UTC), "the same instant");
    }

    #[test]
    fn new_years_half_past_midnight_in_ljubljana_is_the_new_year() {
        let zone = CompanyTimeZone::parse("Europe/Ljubljana").unwrap();
        // 2026-12-31 23:30 UTC is 2027-01-01 00:30 in Ljubljana (CET, UTC+1).
        assert_eq!(
            zone.local_date(datetime!(2026-12-31 23:30 UTC)),
            date!(2027 - 01 - 01)
        );
        assert_eq!(
            zone.local_date(datetime!(2026-12-31 22:59 UTC)),
            date!(2026 - 12 - 31)
        );
        // Summer time: UTC+2.
        assert_eq!(
            zone.local_date(datetime!(2026-06-30 22:30 UTC)),
            date!(2026 - 07 - 01)
        );
        let utc = CompanyTimeZone::parse("UTC").unwrap();
        assert_eq!(
            utc.local_date(datetime!(2026-12-31 23:30 UTC)),
            date!(2026 - 12 - 31)
        );
    }

    #[test]
    fn unknown_zones_and_languages_are_refused() {
        assert!(CompanyTimeZone::parse("Europe/Atlantis").is_err());
        assert_eq!(CompanyTimeZone::default().name(), DEFAULT_TIME_ZONE);
        assert_eq!(
            "EN".parse::<DocumentLanguage>().unwrap(),
            DocumentLanguage::En
        );
        assert!("de".parse::<DocumentLanguage>().is_err());
    }

    #[test]
    fn ibans_are_checked_and_written_without_spaces() {
        assert_eq!(
            normalize_iban("si56 1910 0000 0123 438").unwrap(),
            "SI56191000000123438"
        );
        assert_eq!(
            normalize_iban("DE89 3704 0044 0532 0130 00").unwrap(),
            "DE89370400440532013000"
        );
        assert!(
            normalize_iban("SI56191000000123439").is_err(),
            "check digits"
        );
        assert!(normalize_iban("SI5619100000012343").is_err(), "length");
        assert!(normalize_iban("not an iban").is_err());
    }

    #[test]
    fn bics_countries_and_vat_numbers() {
        assert_eq!(normalize_bic("ljbasi2x").unwrap(), "LJBASI2X");
        assert!(normalize_bic("LJBA12XX").is_err());
        assert_eq!(normalize_country(" si").unwrap(), "SI");
        assert!(normalize_country("SVN").is_err());
        // A real-shaped Slovenian number: 1234567 weighted 8..2 sums to 112, 112 mod 11
        // is 2, 11 − 2 = 9.
        assert_eq!(normalize_vat_id("SI 1234 5679").unwrap(), "SI12345679");
        assert!(normalize_vat_id("SI12345678").is_err(), "check digit");
        assert_eq!(normalize_vat_id("ATU13585627").unwrap(), "ATU13585627");
        assert!(normalize_vat_id("12345678").is_err(), "prefix");
    }
}
