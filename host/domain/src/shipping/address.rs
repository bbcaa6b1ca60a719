//! Addresses as carriers want them: street and house number apart, phone numbers in
//! E.164.

use crate::order::Address;

/// Splits a street line into street and house number, the way Slovenian, Croatian and
/// most Central European addresses are written: `"Slovenska cesta 12a"` →
/// (`"Slovenska cesta"`, `"12a"`), `"Trg 1"` → (`"Trg"`, `"1"`),
/// `"Cesta 24. junija 5 b"` → (`"Cesta 24. junija"`, `"5b"`).
///
/// The house number is the last run of digits that ends the line, with an optional
/// suffix of letters or a `/` part. `None` when the line has no such number (the user
/// must then give it by hand; it is never guessed).
pub fn split_street(line: &str) -> Option<(String, String)> {
    let line = line.trim().trim_end_matches([',', '.']);
    let words: Vec<&str> = line.split_whitespace().collect();
    // The number is the last word, or the last but one when the last is a bare suffix
    // ("12 a", "12 /b").
    for number_at in (1..words.len()).rev().take(2) {
        let number_word = words[number_at].trim_end_matches(',');
        let digits = number_word.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let suffix: String = std::iter::once(&number_word[digits..])
            .chain(words[number_at + 1..].iter().copied())
            .collect();
        if !is_house_number_suffix(&suffix) {
            continue;
        }
        let street = words[..number_at].join(" ");
        let street = street.trim_end_matches(',').to_owned();
        if street.is_empty() {
            return None;
        }
        return Some((street, format!("{}{suffix}", &number_word[..digits])));
    }
    None
}

/// `""`, `"a"`, `"ab"`, `"/b"`, `"/12"`, `"-14"`: what may follow the digits of a house
/// number.
fn is_house_number_suffix(suffix: &str) -> bool {
    let mut chars = suffix.chars();
    match chars.next() {
        None => true,
        Some('/' | '-') => {
            let rest = chars.as_str();
            !rest.is_empty() && rest.len() <= 6 && rest.chars().all(char::is_alphanumeric)
        }
        Some(first) if first.is_alphabetic() => {
            suffix.chars().count() <= 3 && chars.all(char::is_alphabetic)
        }
        Some(_) => false,
    }
}

/// The address with street and house number filled from `line1` when the shop sent
/// only the whole line, and the phone in E.164 when it can be read. What cannot be
/// split or read stays as it came: the connector or the user decides.
pub fn carrier_address(address: &Address) -> Address {
    let mut address = address.clone();
    let has_number = address
        .house_number
        .as_deref()
        .is_some_and(|n| !n.trim().is_empty());
    if !has_number {
        let line = address.street.as_deref().or(address.line1.as_deref());
        if let Some((street, number)) = line.and_then(split_street) {
            address.street = Some(street);
            address.house_number = Some(number);
        }
    }
    if let Some(phone) = &address.phone
        && let Ok(e164) = normalize_phone(phone, address.country.as_deref())
    {
        address.phone = Some(e164);
    }
    address
}

/// Why a phone number cannot be put in E.164.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number {0:?} has characters that are not digits")]
    NotANumber(String),
    #[error(
        "phone number {0:?} is national and the country is unknown; give it with its country code"
    )]
    NoCountry(String),
    #[error("phone number {0:?} is too short or too long")]
    Length(String),
}

/// A phone number in E.164 (`+38640111222`). Accepts `+386 40 111 222`,
/// `00386 40 111 222` and national numbers (`040 111 222`) when the country is known.
pub fn normalize_phone(phone: &str, country: Option<&str>) -> Result<String, PhoneError> {
    let trimmed = phone.trim();
    let mut digits = String::with_capacity(trimmed.len());
    for (index, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if index == 0 => {}
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(PhoneError::NotANumber(phone.to_owned())),
        }
    }
    let international = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let code = country
            .and_then(calling_code)
            .ok_or_else(|| PhoneError::NoCountry(phone.to_owned()))?;
        // The trunk prefix is dropped after the country code: "06" in Hungary, "0"
        // elsewhere; Italy keeps its leading zero.
        let national = match code {
            "39" => digits.as_str(),
            "36" => digits.strip_prefix("06").unwrap_or(&digits),
            _ => digits.trim_start_matches('0'),
        };
        format!("{code}{national}")
    };
    if !(8..=15).contains(&international.len()) {
        return Err(PhoneError::Length(phone.to_owned()));
    }
    Ok(format!("+{international}"))
}

/// Country calling codes of the countries tovor's carriers deliver to.
fn calling_code(country: &str) -> Option<&'static str> {
    Some(match country.trim().to_ascii_uppercase().as_str() {
        "SI" => "386",
        "HR" => "385",
        "HU" => "36",
        "CZ" => "420",
        "SK" => "421",
        "AT" => "43",
        "DE" => "49",
        "IT" => "39",
        "RO" => "40",
        "RS" => "381",
        "BA" => "387",
        "ME" => "382",
        "MK" => "389",
        "PL" => "48",
        "BG" => "359",
        "UA" => "380",
        "FR" => "33",
        "NL" => "31",
        "BE" => "32",
        "ES" => "34",
        "GB" => "44",
        _ => return None,
    })
}
