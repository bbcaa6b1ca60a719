//! How values are written to and read from columns, identically on SQLite and PostgreSQL.
//!
//! The `any` driver carries integers, text and blobs, so: money and rates are decimal
//! strings, quantities that SQL must add up are integers in ten-thousandths, times are
//! UTC RFC 3339 strings with microseconds (fixed width, so text order is time order),
//! flags are 0/1, structured values are JSON text.

use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::error::{StoreError, StoreResult};

const TIME_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Quantities are stored in units of 1/10,000.
const QUANTITY_SCALE: u32 = 4;

pub(crate) fn time_text(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    // Formatting cannot fail: every component the description names exists on an
    // OffsetDateTime, and years stay within ±9999 without time's `large-dates`.
    utc.format(TIME_FORMAT).unwrap_or_default()
}

pub(crate) fn parse_time(column: &str, text: &str) -> StoreResult<OffsetDateTime> {
    let body = text
        .strip_suffix('Z')
        .ok_or_else(|| StoreError::corrupt(column, format!("{text:?} is not a UTC time")))?;
    PrimitiveDateTime::parse(
        body,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]"),
    )
    .map(PrimitiveDateTime::assume_utc)
    .map_err(|error| StoreError::corrupt(column, format!("{text:?}: {error}")))
}

pub(crate) fn decimal_text(value: Decimal) -> String {
    value.to_string()
}

pub(crate) fn parse_decimal(column: &str, text: &str) -> StoreResult<Decimal> {
    text.parse()
        .map_err(|error| StoreError::corrupt(column, format!("{text:?}: {error}")))
}

/// A quantity in ten-thousandths; more precision than that, or more than the column
/// holds, is refused rather than rounded.
pub(crate) fn quantity_e4(what: &str, quantity: Decimal) -> StoreResult<i64> {
    let scaled = quantity
        .checked_mul(Decimal::from(10_i64.pow(QUANTITY_SCALE)))
        .ok_or_else(|| StoreError::Invalid(format!("{what}: {quantity} is out of range")))?;
    if !scaled.fract().is_zero() {
        return Err(StoreError::Invalid(format!(
            "{what}: {quantity} has more than {QUANTITY_SCALE} decimal places"
        )));
    }
    i64::try_from(scaled)
        .map_err(|_| StoreError::Invalid(format!("{what}: {quantity} is out of range")))
}

pub(crate) fn quantity_from_e4(value: i64) -> Decimal {
    Decimal::new(value, QUANTITY_SCALE).normalize()
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

pub(crate) fn to_json(value: &impl Serialize) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|error| StoreError::Invalid(error.to_string()))
}

pub(crate) fn from_json<T: DeserializeOwned>(column: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|error| StoreError::corrupt(column, error))
}

/// Typed reads of a row's columns, with errors that name the column.
pub(crate) trait RowExt {
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;

    fn flag(&self, column: &str) -> StoreResult<bool> {
        Ok(self.int(column)? != 0)
    }

    fn decimal(&self, column: &str) -> StoreResult<Decimal> {
        parse_decimal(column, &self.text(column)?)
    }

    fn time(&self, column: &str) -> StoreResult<OffsetDateTime> {
        parse_time(column, &self.text(column)?)
    }

    fn opt_time(&self, column: &str) -> StoreResult<Option<OffsetDateTime>> {
        self.opt_text(column)?
            .map(|text| parse_time(column, &text))
            .transpose()
    }

    fn json<T: DeserializeOwned>(&self, column: &str) -> StoreResult<T> {
        from_json(column, &self.text(column)?)
    }

    fn opt_json<T: DeserializeOwned>(&self, column: &str) -> StoreResult<Option<T>> {
        self.opt_text(column)?
            .map(|text| from_json(column, &text))
            .transpose()
    }

    fn quantity(&self, column: &str) -> StoreResult<Decimal> {
        Ok(quantity_from_e4(self.int(column)?))
    }
}

impl RowExt for AnyRow {
    fn text(&self, column: &str) -> StoreResult<String> {
        self.try_get(column)
            .map_err(|error| StoreError::corrupt(column, error))
    }

    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        self.try_get(column)
            .map_err(|error| StoreError::corrupt(column, error))
    }

    fn int(&self, column: &str) -> StoreResult<i64> {
        self.try_get(column)
            .map_err(|error| StoreError::corrupt(column, error))
    }

    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.try_get(column)
            .map_err(|error| StoreError::corrupt(column, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_round_trip_in_utc_with_fixed_width() {
        let at = datetime!(2026-11-28 23:08:02.5 +01:00);
        let text = time_text(at);
        assert_eq!(text, "2026-11-28T22:08:02.500000Z");
        assert_eq!(parse_time("t", &text).unwrap(), at);
        assert!(time_text(datetime!(2026-01-02 00:00 UTC)) < text);
    }

    #[test]
    fn quantities_are_exact_to_four_places() {
        assert_eq!(quantity_e4("q", "1.2345".parse().unwrap()).unwrap(), 12345);
        assert_eq!(quantity_e4("q", "-3".parse().unwrap()).unwrap(), -30000);
        assert!(quantity_e4("q", "0.00001".parse().unwrap()).is_err());
        assert_eq!(quantity_from_e4(12345).to_string(), "1.2345");
        assert_eq!(quantity_from_e4(30000).to_string(), "3");
    }
}
