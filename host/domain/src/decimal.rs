//! Exact decimals in JSON input: `"19.99"` and `19.99` both mean the same amount.
//!
//! Decimals are written as strings (a JSON number loses precision in many clients),
//! but clients naturally send `"quantity": 10`. Numbers are read through their shortest
//! decimal form, so `19.99` becomes exactly 19.99.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

const EXPECTED: &str = "a decimal number such as 10 or \"19.99\"";
const EXPECTED_NUMBER: &str = "a number between -1e15 and 1e15";
/// JSON numbers beyond this are refused: an amount or quantity that large is a mistake
/// (strings carry what exact decimals can hold).
const NUMBER_LIMIT: u64 = 1_000_000_000_000_000;

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
        Decimal::from_str(text.trim())
            .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &EXPECTED))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Decimal, E> {
        if number.unsigned_abs() > NUMBER_LIMIT {
            return Err(E::invalid_value(
                de::Unexpected::Signed(number),
                &EXPECTED_NUMBER,
            ));
        }
        Ok(Decimal::from(number))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Decimal, E> {
        if number > NUMBER_LIMIT {
            return Err(E::invalid_value(
                de::Unexpected::Unsigned(number),
                &EXPECTED_NUMBER,
            ));
        }
        Ok(Decimal::from(number))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Decimal, E> {
        #[allow(clippy::cast_precision_loss)]
        if !number.is_finite() || number.abs() > NUMBER_LIMIT as f64 {
            return Err(E::invalid_value(
                de::Unexpected::Float(number),
                &EXPECTED_NUMBER,
            ));
        }
        // Far below a cent, a number reads as the nearest decimal of 12 places.
        if number != 0.0 && number.abs() < 1e-12 {
            return Ok(Decimal::ZERO);
        }
        // Display gives the shortest form that reads back as the same f64: 19.99, not
        // 19.989999999999998.
        Decimal::from_str(&number.to_string())
            .map_err(|_| E::invalid_value(de::Unexpected::Float(number), &EXPECTED))
    }
}

/// `#[serde(deserialize_with = "tovor_domain::decimal::number_or_string")]`
pub fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(DecimalVisitor)
}

struct OptionalVisitor;

impl<'de> Visitor<'de> for OptionalVisitor {
    type Value = Option<Decimal>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "null or {EXPECTED}")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        number_or_string(deserializer).map(Some)
    }
}

/// `#[serde(default, deserialize_with = "tovor_domain::decimal::optional_number_or_string")]`
pub fn optional_number_or_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    deserializer.deserialize_option(OptionalVisitor)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Line {
        #[serde(deserialize_with = "number_or_string")]
        quantity: Decimal,
        #[serde(default, deserialize_with = "optional_number_or_string")]
        rate: Option<Decimal>,
    }

    fn line(json: &str) -> Result<Line, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn numbers_and_strings_mean_the_same_decimal() {
        assert_eq!(
            line(r#"{"quantity": 10}"#).unwrap().quantity,
            Decimal::from(10)
        );
        assert_eq!(
            line(r#"{"quantity": "10"}"#).unwrap().quantity,
            Decimal::from(10)
        );
        assert_eq!(
            line(r#"{"quantity": 19.99}"#).unwrap().quantity.to_string(),
            "19.99"
        );
        assert_eq!(
            line(r#"{"quantity": -2}"#).unwrap().quantity,
            Decimal::from(-2)
        );
        assert_eq!(
            line(r#"{"quantity": 1, "rate": 9.5}"#)
                .unwrap()
                .rate
                .unwrap()
                .to_string(),
            "9.5"
        );
        assert_eq!(line(r#"{"quantity": 1, "rate": null}"#).unwrap().rate, None);
        assert_eq!(line(r#"{"quantity": 1}"#).unwrap().rate, None);
    }

    #[test]
    fn other_values_are_refused_naming_what_is_expected() {
        for bad in [
            r#"{"quantity": "ten"}"#,
            r#"{"quantity": true}"#,
            r#"{"quantity": [1]}"#,
        ] {
            let error = line(bad).unwrap_err().to_string();
            assert!(error.contains("a decimal number"), "{bad}: {error}");
        }
    }
}
