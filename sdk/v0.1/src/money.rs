//! Exact money: [`Decimal`] in, decimal strings out, never a float in between.
//!
//! Platforms send amounts as strings (`"19.99"`) or JSON numbers (`19.99`); the contract
//! wants exact decimal strings. Parse with [`parse_decimal`] / [`decimal_from_json`] or
//! deserialize with [`lenient`], compute with [`Decimal`], and write with
//! [`format_decimal`].
//!
//! ```
//! use serde::Deserialize;
//! use tovor_sdk::money::{self, Decimal};
//!
//! #[derive(Deserialize)]
//! struct Line {
//!     #[serde(with = "money::lenient")]
//!     unit_price: Decimal,
//!     #[serde(default, with = "money::lenient_option")]
//!     discount: Option<Decimal>,
//! }
//!
//! let line: Line = serde_json::from_str(r#"{"unit_price": 9.90, "discount": "0.10"}"#).unwrap();
//! let net = line.unit_price - line.discount.unwrap_or_default();
//! assert_eq!(money::format_decimal(net), "9.80");
//! assert_eq!(money::to_minor_units(net, 2).unwrap(), 980);
//! ```
//!
//! A JSON number is read through its shortest textual form, so `19.99` is exactly
//! `19.99`. JSON numbers cannot keep trailing zeros, though: `10.50` arrives as `10.5`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

use crate::types::ConnectorError;

pub use rust_decimal::Decimal;

/// Parses a decimal string: optional sign, digits, optional `.` and fraction digits,
/// surrounding blanks ignored (`"19.99"`, `"-3"`, `" 0.5 "`, `".5"`). Exponents, commas,
/// thousands separators and values beyond 28 significant digits are refused with
/// `invalid-input`.
pub fn parse_decimal(text: &str) -> Result<Decimal, ConnectorError> {
    let trimmed = text.trim();
    let unsigned = trimmed
        .strip_prefix('-')
        .or_else(|| trimmed.strip_prefix('+'))
        .unwrap_or(trimmed);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits_only(whole) || !digits_only(fraction) {
        return Err(ConnectorError::invalid_input(format!(
            "{text:?} is not a decimal number (expected digits with an optional `.` fraction)"
        )));
    }
    let sign = if trimmed.starts_with('-') { "-" } else { "" };
    let whole = if whole.is_empty() { "0" } else { whole };
    let canonical = if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    };
    let value = Decimal::from_str_exact(&canonical).map_err(|error| {
        ConnectorError::invalid_input(format!("{text:?} cannot be represented exactly: {error}"))
    })?;
    Ok(normalize_zero(value))
}

/// Reads an amount from JSON: a string (see [`parse_decimal`]) or a number, through the
/// number's shortest textual form (never float arithmetic). Anything else is
/// `invalid-input`.
pub fn decimal_from_json(value: &serde_json::Value) -> Result<Decimal, ConnectorError> {
    match value {
        serde_json::Value::String(text) => parse_decimal(text),
        serde_json::Value::Number(number) => decimal_from_number(number),
        other => Err(ConnectorError::invalid_input(format!(
            "expected an amount (string or number), got {other}"
        ))),
    }
}

fn decimal_from_number(number: &serde_json::Number) -> Result<Decimal, ConnectorError> {
    if let Some(integer) = number.as_i64() {
        return Ok(Decimal::from(integer));
    }
    if let Some(integer) = number.as_u64() {
        return Ok(Decimal::from(integer));
    }
    match number.as_f64() {
        Some(float) => decimal_from_f64(float),
        None => parse_decimal(&number.to_string()),
    }
}

/// A float through its shortest round-trip text (`Display` never uses an exponent).
fn decimal_from_f64(float: f64) -> Result<Decimal, ConnectorError> {
    if !float.is_finite() {
        return Err(ConnectorError::invalid_input(format!(
            "{float} is not an amount"
        )));
    }
    parse_decimal(&float.to_string())
}

/// Writes a decimal the way the contract wants it: no exponent, no trailing `.`, the
/// scale kept as is (`"10.50"` stays `"10.50"`), `-0` written `0`.
pub fn format_decimal(value: Decimal) -> String {
    normalize_zero(value).to_string()
}

/// `minor` units of a currency with `exponent` decimals (ISO 4217: 2 for EUR, 0 for JPY,
/// 3 for KWD) as a decimal: `from_minor_units(1999, 2)` is `19.99`.
///
/// Exponents beyond 28 (the most [`Decimal`] holds) round to 28 decimals.
pub fn from_minor_units(minor: i64, exponent: u32) -> Decimal {
    if exponent <= Decimal::MAX_SCALE {
        return Decimal::new(minor, exponent);
    }
    let mut value = Decimal::new(minor, Decimal::MAX_SCALE);
    for _ in Decimal::MAX_SCALE..exponent {
        value /= Decimal::TEN;
        if value.is_zero() {
            break;
        }
    }
    normalize_zero(value)
}

/// A decimal as minor units of a currency with `exponent` decimals: `19.99` at 2 is
/// `1999`. Refuses (`invalid-input`) amounts with a remainder below the minor unit
/// (`19.995` at 2) and amounts that do not fit an `i64`.
pub fn to_minor_units(value: Decimal, exponent: u32) -> Result<i64, ConnectorError> {
    use rust_decimal::prelude::ToPrimitive as _;
    let mut scaled = value;
    for _ in 0..exponent {
        scaled = scaled.checked_mul(Decimal::TEN).ok_or_else(|| {
            ConnectorError::invalid_input(format!("{value} is too large for minor units"))
        })?;
    }
    if !scaled.fract().is_zero() {
        return Err(ConnectorError::invalid_input(format!(
            "{value} has more than {exponent} decimals and cannot be written in minor units"
        )));
    }
    scaled.trunc().to_i64().ok_or_else(|| {
        ConnectorError::invalid_input(format!("{value} is too large for minor units"))
    })
}

fn normalize_zero(mut value: Decimal) -> Decimal {
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    value
}

struct LenientVisitor;

impl<'de> Visitor<'de> for LenientVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount as a decimal string or a number")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
        parse_decimal(text).map_err(|error| E::custom(error.message()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Decimal, E> {
        Decimal::try_from_i128_with_scale(value, 0)
            .map_err(|_| E::custom(format!("{value} is out of range for an amount")))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Decimal, E> {
        i128::try_from(value)
            .map_err(|_| E::custom(format!("{value} is out of range for an amount")))
            .and_then(|value| self.visit_i128(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Decimal, E> {
        decimal_from_f64(value).map_err(|error| E::custom(error.message()))
    }
}

/// `#[serde(with = "tovor_sdk::money::lenient")]` for a [`Decimal`] field that arrives as
/// a string or a number. Serializes as a string ([`format_decimal`]).
pub mod lenient {
    use super::*;

    /// Deserializes a decimal from a string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(LenientVisitor)
    }

    /// Serializes a decimal as a string.
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_decimal(*value))
    }
}

/// `#[serde(default, with = "tovor_sdk::money::lenient_option")]` for an
/// `Option<Decimal>` field that arrives as a string, a number, `null`, an empty string,
/// or not at all (`default` covers that one). Serializes `None` as `null`.
pub mod lenient_option {
    use super::*;

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<Decimal>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an amount as a decimal string or a number, or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            if text.trim().is_empty() {
                Ok(None)
            } else {
                LenientVisitor.visit_str(text).map(Some)
            }
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            LenientVisitor.visit_i64(value).map(Some)
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            LenientVisitor.visit_u64(value).map(Some)
        }

        fn visit_i128<E: de::Error>(self, value: i128) -> Result<Self::Value, E> {
            LenientVisitor.visit_i128(value).map(Some)
        }

        fn visit_u128<E: de::Error>(self, value: u128) -> Result<Self::Value, E> {
            LenientVisitor.visit_u128(value).map(Some)
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
            LenientVisitor.visit_f64(value).map(Some)
        }
    }

    /// Deserializes an optional decimal from a string, a number, `null` or `""`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        deserializer.deserialize_option(OptionVisitor)
    }

    /// Serializes `Some` as a string and `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_str(&format_decimal(*value)),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    fn dec(text: &str) -> Decimal {
        parse_decimal(text).unwrap()
    }

    #[test]
    fn parses_plain_decimals() {
        for (input, expected) in [
            ("19.99", "19.99"),
            ("-3", "-3"),
            ("+3", "3"),
            (" 0.50 ", "0.50"),
            ("\t10\n", "10"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-0", "0"),
            ("-0.00", "0.00"),
            ("007.10", "7.10"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
        ] {
            assert_eq!(format_decimal(dec(input)), expected, "{input:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_plain_decimal() {
        for input in [
            "",
            " ",
            "-",
            ".",
            "1e2",
            "1E2",
            "1,5",
            "1 000",
            "1_000",
            "--1",
            "+-1",
            "0x10",
            "1.2.3",
            "NaN",
            "inf",
            "€5",
            "5€",
            "79228162514264337593543950336",
            "0.00000000000000000000000000001",
        ] {
            assert!(
                matches!(parse_decimal(input), Err(ConnectorError::InvalidInput(_))),
                "{input:?} should be refused"
            );
        }
    }

    #[test]
    fn json_numbers_keep_their_text() {
        for (value, expected) in [
            (json!("19.99"), "19.99"),
            (json!(19.99), "19.99"),
            (json!(0.1), "0.1"),
            (json!(4.35), "4.35"),
            (json!(1e-7), "0.0000001"),
            (json!(1e21), "1000000000000000000000"),
            (json!(-2), "-2"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(10.50), "10.5"),
        ] {
            assert_eq!(
                format_decimal(decimal_from_json(&value).unwrap()),
                expected,
                "{value}"
            );
        }
        for value in [
            json!(null),
            json!(true),
            json!([1]),
            json!({}),
            json!("1e3"),
            json!(1e300),
        ] {
            assert!(decimal_from_json(&value).is_err(), "{value}");
        }
    }

    #[test]
    fn property_like_round_trips() {
        // Every cent amount in a wide range survives string, JSON number and minor units.
        for cents in (-100_000i64..=100_000).step_by(37) {
            let amount = from_minor_units(cents, 2);
            let text = format_decimal(amount);
            assert_eq!(parse_decimal(&text).unwrap(), amount, "{text}");
            assert_eq!(to_minor_units(amount, 2).unwrap(), cents, "{text}");
            assert_eq!(to_minor_units(amount, 3).unwrap(), cents * 10, "{text}");
            let number: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(decimal_from_json(&number).unwrap(), amount, "{text}");
            assert!(!text.contains('e') && !text.ends_with('.'), "{text}");
        }
        // The extremes of i64 survive string and minor units (JSON numbers would pass
        // through f64, which cannot hold 17 significant digits).
        for minor in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX] {
            for exponent in [0, 2, 4, 18] {
                let amount = from_minor_units(minor, exponent);
                let text = format_decimal(amount);
                assert_eq!(parse_decimal(&text).unwrap(), amount, "{text}");
                assert_eq!(to_minor_units(amount, exponent).unwrap(), minor, "{text}");
            }
        }
        // Float-sum trap: 0.1 + 0.2 is exact here.
        assert_eq!(format_decimal(dec("0.1") + dec("0.2")), "0.3");
    }

    #[test]
    fn minor_units() {
        assert_eq!(format_decimal(from_minor_units(1999, 2)), "19.99");
        assert_eq!(format_decimal(from_minor_units(-5, 2)), "-0.05");
        assert_eq!(format_decimal(from_minor_units(1000, 0)), "1000");
        assert_eq!(format_decimal(from_minor_units(1234, 3)), "1.234");
        assert_eq!(format_decimal(from_minor_units(0, 2)), "0.00");
        assert_eq!(from_minor_units(5, 30), Decimal::ZERO);
        assert_eq!(to_minor_units(dec("19.99"), 2).unwrap(), 1999);
        assert_eq!(to_minor_units(dec("19.9"), 2).unwrap(), 1990);
        assert_eq!(to_minor_units(dec("19.990000"), 2).unwrap(), 1999);
        assert_eq!(to_minor_units(dec("-0.01"), 2).unwrap(), -1);
        assert_eq!(to_minor_units(dec("1000"), 0).unwrap(), 1000);
        assert!(to_minor_units(dec("19.995"), 2).is_err());
        assert!(to_minor_units(dec("0.5"), 0).is_err());
        assert!(to_minor_units(dec("92233720368547758.08"), 2).is_err());
        assert!(to_minor_units(Decimal::MAX, 2).is_err());
    }

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Line {
        #[serde(with = "lenient")]
        price: Decimal,
        #[serde(default, with = "lenient_option")]
        tax: Option<Decimal>,
    }

    #[test]
    fn serde_helpers_accept_strings_and_numbers() {
        let parse = |text: &str| serde_json::from_str::<Line>(text);
        let line = parse(r#"{"price": "9.90", "tax": 2.18}"#).unwrap();
        assert_eq!(format_decimal(line.price), "9.90");
        assert_eq!(line.tax.map(format_decimal).as_deref(), Some("2.18"));
        assert_eq!(parse(r#"{"price": 12}"#).unwrap().tax, None);
        assert_eq!(parse(r#"{"price": 12, "tax": null}"#).unwrap().tax, None);
        assert_eq!(parse(r#"{"price": 12, "tax": ""}"#).unwrap().tax, None);
        assert_eq!(
            format_decimal(parse(r#"{"price": -0.5}"#).unwrap().price),
            "-0.5"
        );
        assert!(parse(r#"{"price": "1e3"}"#).is_err());
        assert!(parse(r#"{"price": null}"#).is_err());
        assert!(parse(r#"{"price": true}"#).is_err());
        let error = parse(r#"{"price": "12,50"}"#).unwrap_err().to_string();
        assert!(error.contains("12,50"), "{error}");
        let line = Line {
            price: dec("10.50"),
            tax: None,
        };
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            r#"{"price":"10.50","tax":null}"#
        );
    }
}
