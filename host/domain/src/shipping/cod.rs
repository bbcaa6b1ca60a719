//! How a carrier connection rounds cash on delivery, and which order number a
//! shipment's references carry.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Per currency, the step cash on delivery is rounded to before it is sent (`CZK` → 1:
/// whole crowns, `HUF` → 5: multiples of 5 forints), to the nearest step with halves
/// away from zero as cash is rounded. Currencies not listed are sent as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CodRounding(pub BTreeMap<String, Decimal>);

/// A rounding step that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{currency}: {reason}")]
pub struct RoundingError {
    pub currency: String,
    pub reason: &'static str,
}

impl CodRounding {
    /// The steps with currencies upper-cased, each checked to be a positive amount of
    /// at most two decimals.
    pub fn new(steps: BTreeMap<String, Decimal>) -> Result<Self, RoundingError> {
        let mut checked = BTreeMap::new();
        for (currency, step) in steps {
            let currency = currency.trim().to_ascii_uppercase();
            let reason = if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase())
            {
                Some("not an ISO 4217 currency code")
            } else if step <= Decimal::ZERO {
                Some("the step must be more than 0")
            } else if step.normalize().scale() > 2 {
                Some("the step has at most two decimals")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(RoundingError { currency, reason });
            }
            checked.insert(currency, step.normalize());
        }
        Ok(Self(checked))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `amount` in `currency` rounded to the currency's step (unchanged without one).
    pub fn round(&self, amount: Decimal, currency: &str) -> Decimal {
        let step = self
            .0
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(currency.trim()))
            .map(|(_, step)| *step);
        match step {
            Some(step) => ((amount / step)
                .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
                * step)
                .normalize(),
            None => amount,
        }
    }
}

/// Which order number a carrier connection's shipment and payment references carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderReference {
    /// The shop's order number when no other order of the company has it, else tovor's.
    #[default]
    Auto,
    /// The shop's order number: the one the buyer saw.
    Shop,
    /// tovor's own order number.
    Tovor,
}

impl OrderReference {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Shop => "shop",
            Self::Tovor => "tovor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Auto, Self::Shop, Self::Tovor]
            .into_iter()
            .find(|value| value.as_str() == text)
    }
}

/// The order's numbers as [`reference_number`] needs them.
#[derive(Debug, Clone, Copy)]
pub struct OrderNumbers<'a> {
    /// tovor's number (`2026-00042`), unique within the company.
    pub tovor: &'a str,
    /// The shop's number (`1001`), as the buyer saw it.
    pub shop: &'a str,
    /// Whether another order of the company has the same shop number (from another
    /// shop, or the same number reused).
    pub shop_number_shared: bool,
}

/// The reference refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error(
        "the shop's order number {0:?} is also another order's in this company, so it cannot \
         identify this order's shipments; choose tovor's order numbers for this carrier connection"
    )]
    ShopNumberShared(String),
    #[error("the order has no shop order number")]
    NoShopNumber,
}

/// The order number a shipment's reference (and its cash-on-delivery payment
/// reference) is built from. References must be unique within the company, so a shop
/// number another order shares is never used.
pub fn reference_number<'a>(
    choice: OrderReference,
    numbers: OrderNumbers<'a>,
) -> Result<&'a str, ReferenceError> {
    let shop = numbers.shop.trim();
    match choice {
        OrderReference::Tovor => Ok(numbers.tovor),
        OrderReference::Auto if shop.is_empty() || numbers.shop_number_shared => Ok(numbers.tovor),
        OrderReference::Auto => Ok(shop),
        OrderReference::Shop if shop.is_empty() => Err(ReferenceError::NoShopNumber),
        OrderReference::Shop if numbers.shop_number_shared => {
            Err(ReferenceError::ShopNumberShared(shop.to_owned()))
        }
        OrderReference::Shop => Ok(shop),
    }
}
