//! Parsers for command-line values: dates, `POSITION=QTY`, `SKU=QTY`, `key=value`.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

/// A point in time given as `2026-01-31` (midnight UTC) or in RFC 3339
/// (`2026-01-31T08:00:00+01:00`); the API takes it as RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateArg(pub OffsetDateTime);

impl DateArg {
    /// RFC 3339 in UTC, as the API takes it.
    pub fn to_rfc3339(self) -> String {
        self.0
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.0.unix_timestamp().to_string())
    }
}

impl std::str::FromStr for DateArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(date) = Date::parse(text, format_description!("[year]-[month]-[day]")) {
            return Ok(Self(date.midnight().assume_utc()));
        }
        OffsetDateTime::parse(text, &Rfc3339)
            .map(Self)
            .map_err(|_| {
                format!(
                    "{text:?} is not a date: use 2026-01-31 (midnight UTC) or RFC 3339 \
                     (2026-01-31T08:00:00Z)"
                )
            })
    }
}

/// Whether `text` is a plain decimal number: `3`, `2.5`, `-1`, `0.125`.
pub fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.chars().all(|c| c.is_ascii_digit())
        && !(unsigned.contains('.') && fraction.is_empty())
}

/// `--line POSITION=QTY`: how much of one order line (0-based position) goes on a
/// document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineArg {
    pub position: u32,
    /// A decimal, as text.
    pub quantity: String,
}

impl std::str::FromStr for LineArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (position, quantity) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected POSITION=QTY, e.g. 0=2"))?;
        let position = position.trim().parse().map_err(|_| {
            format!("{text:?}: the position must be an order line number (0, 1, ...)")
        })?;
        let quantity = quantity.trim();
        if !is_decimal(quantity) || quantity.starts_with('-') {
            return Err(format!(
                "{text:?}: the quantity must be a positive number, e.g. 2 or 1.5"
            ));
        }
        Ok(Self {
            position,
            quantity: quantity.to_owned(),
        })
    }
}

/// `SKU=QTY`: a quantity of one item. The SKU may itself contain `=`; the quantity is
/// what follows the last one. Adjustments may be negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuQty {
    pub sku: String,
    /// A decimal, as text.
    pub quantity: String,
}

impl std::str::FromStr for SkuQty {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (sku, quantity) = text
            .rsplit_once('=')
            .ok_or_else(|| format!("{text:?}: expected SKU=QTY, e.g. MUG-1=10"))?;
        let sku = sku.trim();
        if sku.is_empty() {
            return Err(format!("{text:?}: the SKU is missing"));
        }
        let quantity = quantity.trim();
        if !is_decimal(quantity) {
            return Err(format!(
                "{text:?}: the quantity must be a number, e.g. 10 or 2.5"
            ));
        }
        Ok(Self {
            sku: sku.to_owned(),
            quantity: quantity.to_owned(),
        })
    }
}

/// `--config key=value`: one setting. The value is everything after the first `=` and
/// may be empty (which clears the setting when a shop is changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl std::str::FromStr for KeyValue {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, value) = text.split_once('=').ok_or_else(|| {
            format!("{text:?}: expected key=value, e.g. shop_url=https://shop.example")
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("{text:?}: the key is missing"));
        }
        Ok(Self {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// Config settings as a JSON object; a key given twice keeps its last value.
pub fn config_object(settings: &[KeyValue]) -> serde_json::Map<String, serde_json::Value> {
    settings
        .iter()
        .map(|setting| (setting.key.clone(), setting.value.clone().into()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_bare_date_is_midnight_utc() {
        let date: DateArg = "2026-01-31".parse().unwrap();
        assert_eq!(date.to_rfc3339(), "2026-01-31T00:00:00Z");
    }

    #[test]
    fn rfc3339_is_taken_and_sent_in_utc() {
        let date: DateArg = "2026-01-31T08:30:00+01:00".parse().unwrap();
        assert_eq!(date.to_rfc3339(), "2026-01-31T07:30:00Z");
        let date: DateArg = " 2026-02-01T00:00:00Z ".parse().unwrap();
        assert_eq!(date.to_rfc3339(), "2026-02-01T00:00:00Z");
    }

    #[test]
    fn other_dates_are_refused() {
        for text in [
            "31.1.2026",
            "2026-02-30",
            "2026-1-31",
            "yesterday",
            "",
            "2026-01-31 08:00",
        ] {
            let error = text.parse::<DateArg>().unwrap_err();
            assert!(error.contains("2026-01-31"), "{text:?}: {error}");
        }
    }

    #[test]
    fn decimals() {
        for good in ["0", "3", "2.5", "-1", "+4", "0.125", "10"] {
            assert!(is_decimal(good), "{good}");
        }
        for bad in ["", "-", "1.", ".5", "1,5", "1e3", "abc", "1.2.3", " 1"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn line_quantities() {
        assert_eq!(
            "0=2".parse::<LineArg>().unwrap(),
            LineArg {
                position: 0,
                quantity: "2".into()
            }
        );
        assert_eq!("3 = 1.5".parse::<LineArg>().unwrap().quantity, "1.5");
        for bad in ["0", "a=1", "-1=1", "0=", "0=two", "0=-1", "=1"] {
            assert!(bad.parse::<LineArg>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sku_quantities() {
        assert_eq!(
            "MUG-1=10".parse::<SkuQty>().unwrap(),
            SkuQty {
                sku: "MUG-1".into(),
                quantity: "10".into()
            }
        );
        let odd = "SIZE=XL=-2".parse::<SkuQty>().unwrap();
        assert_eq!((odd.sku.as_str(), odd.quantity.as_str()), ("SIZE=XL", "-2"));
        for bad in ["MUG-1", "=3", "MUG-1=", "MUG-1=ten"] {
            assert!(bad.parse::<SkuQty>().is_err(), "{bad}");
        }
    }

    #[test]
    fn config_settings() {
        let setting: KeyValue = "shop_url=https://shop.example/?a=b".parse().unwrap();
        assert_eq!(setting.key, "shop_url");
        assert_eq!(setting.value, "https://shop.example/?a=b");
        let cleared: KeyValue = "api_base=".parse().unwrap();
        assert_eq!(cleared.value, "");
        assert!("no_equals".parse::<KeyValue>().is_err());
        assert!("=value".parse::<KeyValue>().is_err());

        let object = config_object(&[
            "a=1".parse().unwrap(),
            "b=2".parse().unwrap(),
            "a=3".parse().unwrap(),
        ]);
        assert_eq!(
            serde_json::Value::Object(object),
            serde_json::json!({"a": "3", "b": "2"})
        );
    }
}
