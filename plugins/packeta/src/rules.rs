//! Pure rules that do not depend on Packeta's XML: street and house number, phone
//! numbers, cash on delivery, tracking statuses and Packeta's local times.
//!
//! All of it is plain functions, unit-tested natively at the bottom of this file.

use tovor_sdk::carrier::ShipmentStatus;
use tovor_sdk::money::Decimal;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::ConnectorError;

/// Currencies Packeta accepts in `packetAttributes/currency`.
pub const COD_CURRENCIES: &[&str] = &["CZK", "EUR", "HUF", "PLN", "RON"];

/// Splits an address line into street and house number, the way the HP and DPD plugins
/// do (`^(.+?)\s+(\d+)\s*([a-zA-Z/].*)?$`): `"Slovenska cesta 12a"` → `("Slovenska
/// cesta", "12a")`, `"Na Příkopě 1234/5"` → `("Na Příkopě", "1234/5")`. `None` when the
/// line has no house number after the street.
pub fn split_street(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    // The regex's lazy `(.+?)`: the first whitespace after which the rest is a house
    // number wins.
    for (index, c) in line.char_indices() {
        if index == 0 || !c.is_whitespace() {
            continue;
        }
        let street = line[..index].trim_end();
        let rest = line[index..].trim_start();
        if street.is_empty() {
            continue;
        }
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end == 0 {
            continue;
        }
        let (number, suffix) = rest.split_at(digits_end);
        let suffix = suffix.trim_start();
        let suffix_ok = suffix.is_empty()
            || suffix
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '/');
        if suffix_ok {
            return Some((street.to_owned(), format!("{number}{suffix}")));
        }
    }
    None
}

/// A country's calling code and national trunk prefix.
fn calling_code(country: &str) -> Option<(&'static str, &'static str)> {
    Some(match country {
        "CZ" => ("420", ""),
        "SK" => ("421", "0"),
        "SI" => ("386", "0"),
        "HU" => ("36", "06"),
        "PL" => ("48", ""),
        "RO" => ("40", "0"),
        "HR" => ("385", "0"),
        "AT" => ("43", "0"),
        "DE" => ("49", "0"),
        "IT" => ("39", ""),
        "BG" => ("359", "0"),
        "UA" => ("380", "0"),
        _ => return None,
    })
}

/// Normalizes a phone number to E.164 (`+420777123456`) for the recipient's country:
/// blanks and `-./()` removed, `00` becomes `+`, a national number loses its trunk prefix
/// (`0`, Hungary's `06`) and gains the calling code. A number from a country we do not
/// know without an international prefix is passed on as digits for Packeta to judge.
pub fn normalize_phone(phone: &str, country: Option<&str>) -> Result<String, ConnectorError> {
    let bad = |why: &str| {
        ConnectorError::invalid_field(
            "recipient.phone",
            format!("{phone:?} is not a phone number Packeta can use: {why}"),
        )
    };
    let trimmed = phone.trim();
    let mut digits = String::new();
    for (index, c) in trimmed.char_indices() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if index == 0 => {}
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(bad("it contains characters other than digits")),
        }
    }
    let international = if trimmed.starts_with('+') {
        Some(digits.clone())
    } else {
        digits.strip_prefix("00").map(str::to_owned)
    };
    let e164 = match (international, country.and_then(calling_code)) {
        (Some(number), _) => number,
        (None, Some((code, trunk))) => {
            if !trunk.is_empty() && digits.starts_with(trunk) {
                format!("{code}{}", &digits[trunk.len()..])
            } else if digits.starts_with(code) && digits.len() > code.len() + 8 {
                // Already international, only the `+` is missing (`420777123456`).
                digits.clone()
            } else {
                format!("{code}{digits}")
            }
        }
        (None, None) => {
            if digits.len() < 6 {
                return Err(bad("too short"));
            }
            return Ok(digits);
        }
    };
    if !(8..=15).contains(&e164.len()) {
        return Err(bad("an international number has 8 to 15 digits"));
    }
    Ok(format!("+{e164}"))
}

/// The currency Packeta collects cash on delivery in for a destination country: the
/// country's own (Packeta staff in Zasilkovna/WooCommerce#179).
pub fn country_currency(country: &str) -> Option<&'static str> {
    Some(match country {
        "CZ" => "CZK",
        "HU" => "HUF",
        "PL" => "PLN",
        "RO" => "RON",
        "SK" | "SI" | "HR" | "AT" | "DE" | "IT" | "FR" | "ES" | "BE" | "NL" | "LU" | "IE"
        | "PT" | "FI" | "EE" | "LV" | "LT" | "GR" => "EUR",
        _ => return None,
    })
}

/// Checks cash on delivery against Packeta's rules: a currency Packeta takes, the
/// destination country's currency, whole crowns for CZK, multiples of 5 for HUF, cents
/// otherwise. Amounts are never rounded here: the customer pays what the shop says.
pub fn check_cod(
    amount: Decimal,
    currency: &str,
    country: Option<&str>,
) -> Result<(), ConnectorError> {
    let currency = currency.trim();
    if !COD_CURRENCIES.contains(&currency) {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.currency",
            format!(
                "Packeta does not collect cash on delivery in {currency}; it takes {}",
                COD_CURRENCIES.join(", ")
            ),
        ));
    }
    if let Some(country) = country
        && let Some(expected) = country_currency(country)
        && expected != currency
    {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.currency",
            format!(
                "Packeta collects cash on delivery in {country} only in {expected}, not in \
                 {currency}"
            ),
        ));
    }
    if amount <= Decimal::ZERO {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.amount",
            format!("the amount to collect must be positive, not {amount}"),
        ));
    }
    let whole = amount.fract().is_zero();
    let problem = match currency {
        "CZK" if !whole => Some("CZK cash on delivery must be a whole number of crowns"),
        "HUF" if !whole || !(amount % Decimal::from(5)).is_zero() => {
            Some("HUF cash on delivery must be a multiple of 5 forints")
        }
        _ if amount.normalize().scale() > 2 => Some("at most two decimals"),
        _ => None,
    };
    match problem {
        Some(problem) => Err(ConnectorError::invalid_field(
            "cash-on-delivery.amount",
            format!("{problem} (got {amount})"),
        )),
        None => Ok(()),
    }
}

/// Packeta's status code to the normalized status.
pub fn map_status(code: i64) -> ShipmentStatus {
    match code {
        1 => ShipmentStatus::Pending,
        12 => ShipmentStatus::PickedUp,
        2 | 3 | 4 | 6 | 15 => ShipmentStatus::InTransit,
        5 => ShipmentStatus::ReadyForPickup,
        7 => ShipmentStatus::Delivered,
        16 | 17 | 18 | 23 | 24 | 25 => ShipmentStatus::DeliveryFailed,
        9 | 10 | 19 | 20 | 22 => ShipmentStatus::ReturnToSender,
        11 => ShipmentStatus::Cancelled,
        14 | 26 => ShipmentStatus::OnHold,
        _ => ShipmentStatus::Unknown,
    }
}

/// Packeta's `dateTime` (`2026-03-29T03:30:00`, Prague local time without an offset) in
/// UTC, with the EU summer-time rule (CEST from the last Sunday of March to
/// the last Sunday of October, 01:00 UTC).
pub fn prague_to_utc(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    let local = tovor_sdk::time::parse_naive(text)?.assume_utc();
    let hour = std::time::Duration::from_secs(3600);
    let winter = local - hour;
    let at = if is_summer_time(
        winter.year(),
        u8::from(winter.month()),
        winter.day(),
        winter.hour(),
    ) {
        local - 2 * hour
    } else {
        winter
    };
    Ok(at)
}

/// Whether EU summer time is in force at the given UTC date and hour.
fn is_summer_time(year: i32, month: u8, day: u8, hour: u8) -> bool {
    let last_sunday = |month: u8| 31 - day_of_week(year, month, 31);
    match month {
        4..=9 => true,
        3 => {
            let change = last_sunday(3);
            day > change || (day == change && hour >= 1)
        }
        10 => {
            let change = last_sunday(10);
            day < change || (day == change && hour < 1)
        }
        _ => false,
    }
}

/// 0 = Sunday (Sakamoto's method).
fn day_of_week(year: i32, month: u8, day: u8) -> u8 {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if month < 3 { year - 1 } else { year };
    let index = usize::from(month.clamp(1, 12) - 1);
    let dow = (y + y / 4 - y / 100 + y / 400 + T[index] + i32::from(day)).rem_euclid(7);
    u8::try_from(dow).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use tovor_sdk::types::ErrorKind;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn field(error: ConnectorError) -> String {
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{error:?}");
        error.field.unwrap_or_default()
    }

    #[test]
    fn street_and_house_number() {
        let split = |line: &str| split_street(line);
        assert_eq!(
            split("Slovenska cesta 12a"),
            Some(("Slovenska cesta".into(), "12a".into()))
        );
        assert_eq!(
            split("Na Příkopě 1234/5"),
            Some(("Na Příkopě".into(), "1234/5".into()))
        );
        assert_eq!(split("Hlavní 12 b"), Some(("Hlavní".into(), "12b".into())));
        assert_eq!(
            split("Ulica 1. maja 5"),
            Some(("Ulica 1. maja".into(), "5".into()))
        );
        assert_eq!(
            split("  Dunajská 3  "),
            Some(("Dunajská".into(), "3".into()))
        );
        assert_eq!(split("Dunajská"), None);
        assert_eq!(split("12 Main"), None);
        assert_eq!(split(""), None);
    }

    #[test]
    fn phones_become_e164() {
        let cz = |p: &str| normalize_phone(p, Some("CZ")).unwrap();
        assert_eq!(cz("777 123 456"), "+420777123456");
        assert_eq!(cz("+420 777-123-456"), "+420777123456");
        assert_eq!(cz("00420777123456"), "+420777123456");
        assert_eq!(cz("420777123456"), "+420777123456");
        assert_eq!(
            normalize_phone("0905 123 456", Some("SK")).unwrap(),
            "+421905123456"
        );
        assert_eq!(
            normalize_phone("040 111 222", Some("SI")).unwrap(),
            "+38640111222"
        );
        assert_eq!(
            normalize_phone("06 30 123 4567", Some("HU")).unwrap(),
            "+36301234567"
        );
        assert_eq!(
            normalize_phone("(0)721 234 567", Some("RO")).unwrap(),
            "+40721234567"
        );
        assert_eq!(
            normalize_phone("512 345 678", Some("PL")).unwrap(),
            "+48512345678"
        );
        // A foreign number keeps its own country code.
        assert_eq!(
            normalize_phone("+386 40 111 222", Some("CZ")).unwrap(),
            "+38640111222"
        );
        assert_eq!(normalize_phone("5551234", Some("US")).unwrap(), "5551234");
        assert_eq!(
            field(normalize_phone("call me", Some("CZ")).unwrap_err()),
            "recipient.phone"
        );
        assert!(normalize_phone("+12", Some("CZ")).is_err());
        assert!(normalize_phone("123", None).is_err());
    }

    #[test]
    fn cod_rules() {
        assert!(check_cod(dec("729"), "CZK", Some("CZ")).is_ok());
        assert!(check_cod(dec("49.90"), "EUR", Some("SK")).is_ok());
        assert!(check_cod(dec("49.90"), "EUR", Some("SI")).is_ok());
        assert!(check_cod(dec("1995"), "HUF", Some("HU")).is_ok());
        assert!(check_cod(dec("99.99"), "PLN", Some("PL")).is_ok());
        // Unknown destination: only the currency list applies.
        assert!(check_cod(dec("10"), "EUR", None).is_ok());

        let error = check_cod(dec("49.90"), "USD", Some("CZ")).unwrap_err();
        assert!(error.message.contains("USD"), "{error:?}");
        assert_eq!(field(error), "cash-on-delivery.currency");
        let error = check_cod(dec("49.90"), "EUR", Some("CZ")).unwrap_err();
        assert!(error.message.contains("CZK"), "{error:?}");
        assert_eq!(field(error), "cash-on-delivery.currency");
        assert_eq!(
            field(check_cod(dec("100"), "CZK", Some("SK")).unwrap_err()),
            "cash-on-delivery.currency"
        );
        assert_eq!(
            field(check_cod(dec("729.50"), "CZK", Some("CZ")).unwrap_err()),
            "cash-on-delivery.amount"
        );
        assert_eq!(
            field(check_cod(dec("1993"), "HUF", Some("HU")).unwrap_err()),
            "cash-on-delivery.amount"
        );
        assert!(check_cod(dec("0"), "EUR", Some("SK")).is_err());
        assert!(check_cod(dec("1.005"), "EUR", Some("SK")).is_err());
        assert!(check_cod(dec("729.00"), "CZK", Some("CZ")).is_ok());
    }

    #[test]
    fn statuses() {
        assert_eq!(map_status(1), ShipmentStatus::Pending);
        assert_eq!(map_status(12), ShipmentStatus::PickedUp);
        for code in [2, 3, 4, 6, 15] {
            assert_eq!(map_status(code), ShipmentStatus::InTransit);
        }
        assert_eq!(map_status(5), ShipmentStatus::ReadyForPickup);
        assert_eq!(map_status(7), ShipmentStatus::Delivered);
        assert_eq!(map_status(17), ShipmentStatus::DeliveryFailed);
        assert_eq!(map_status(10), ShipmentStatus::ReturnToSender);
        assert_eq!(map_status(11), ShipmentStatus::Cancelled);
        assert_eq!(map_status(14), ShipmentStatus::OnHold);
        assert_eq!(map_status(999), ShipmentStatus::Unknown);
        assert_eq!(map_status(8), ShipmentStatus::Unknown);
    }

    fn prague_to_utc(text: &str) -> Result<String, ConnectorError> {
        super::prague_to_utc(text).map(tovor_sdk::time::format_utc)
    }

    #[test]
    fn prague_times() {
        // Winter: CET, +01:00.
        assert_eq!(
            prague_to_utc("2026-01-15T10:00:00").unwrap(),
            "2026-01-15T09:00:00Z"
        );
        // Summer: CEST, +02:00.
        assert_eq!(
            prague_to_utc("2026-07-01T10:00:00").unwrap(),
            "2026-07-01T08:00:00Z"
        );
        // 2026: summer time from Sunday 29 March, winter time from Sunday 25 October.
        assert_eq!(
            prague_to_utc("2026-03-29T01:30:00").unwrap(),
            "2026-03-29T00:30:00Z"
        );
        assert_eq!(
            prague_to_utc("2026-03-29T03:30:00").unwrap(),
            "2026-03-29T01:30:00Z"
        );
        assert_eq!(
            prague_to_utc("2026-10-25T04:00:00").unwrap(),
            "2026-10-25T03:00:00Z"
        );
        assert_eq!(
            prague_to_utc("2026-10-24T12:00:00").unwrap(),
            "2026-10-24T10:00:00Z"
        );
        assert!(prague_to_utc("yesterday").is_err());
        assert_eq!(day_of_week(2026, 3, 29), 0);
        assert_eq!(day_of_week(2024, 2, 29), 4);
    }
}
