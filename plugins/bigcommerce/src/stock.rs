//! Stock: `PUT /v3/inventory/adjustments/absolute`, up to [`MAX_BATCH`] items a call, each
//! `{location_id, variant_id | product_id, quantity}`.
//!
//! # Stock keys
//!
//! The host hands back what it linked an item with: for items from an order's lines,
//! the variant id (every BigCommerce product has at least its base variant, and order
//! lines name it as `variant_id`), else the product id. So a plain number is a variant;
//! `product:{id}` names a product whose stock is tracked on the product itself
//! (`inventory_tracking: product`), `variant:{id}` a variant explicitly.
//!
//! # Errors
//!
//! BigCommerce validates a batch as a whole and answers 422 naming the first item it
//! refused (`Item with variant_id 106 is tracked by product, ...`). That item's result
//! becomes the error and the rest of the batch is sent again; an answer that names no
//! item of the batch fails every item still left.

use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::shop::StockUpdate;
use tovor_sdk::types::ConnectorError;

use crate::api::Api;

/// BigCommerce's limit of items in one adjustment.
pub const MAX_BATCH: u32 = 2000;
pub const LOCATION_FIELD: &str = "location_id";
/// The default location every store has.
pub const DEFAULT_LOCATION: i64 = 1;

/// What a stock key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Variant(u64),
    Product(u64),
}

impl Target {
    pub fn parse(key: &str) -> Result<Self, ConnectorError> {
        let key = key.trim();
        let number = |text: &str| text.trim().parse::<u64>().ok().filter(|id| *id > 0);
        let target = if let Some(rest) = key.strip_prefix("product:") {
            number(rest).map(Self::Product)
        } else if let Some(rest) = key.strip_prefix("variant:") {
            number(rest).map(Self::Variant)
        } else {
            number(key).map(Self::Variant)
        };
        target.ok_or_else(|| {
            ConnectorError::invalid_field(
                "key",
                format!("{key:?} is not a BigCommerce stock key (a variant id, or product:{{id}})"),
            )
        })
    }

    /// `variant_id 106` as BigCommerce's messages name the item.
    fn named(&self) -> String {
        match self {
            Self::Variant(id) => format!("variant_id {id}"),
            Self::Product(id) => format!("product_id {id}"),
        }
    }
}

/// One item of the adjustment.
pub fn item(target: Target, location: i64, quantity: i64) -> Value {
    match target {
        Target::Variant(id) => {
            json!({"location_id": location, "variant_id": id, "quantity": quantity})
        }
        Target::Product(id) => {
            json!({"location_id": location, "product_id": id, "quantity": quantity})
        }
    }
}

pub fn location(config: &Config) -> Result<i64, ConnectorError> {
    let location = config.integer_or(LOCATION_FIELD, DEFAULT_LOCATION)?;
    if location < 1 {
        return Err(ConnectorError::invalid_field(
            LOCATION_FIELD,
            format!("{location} is not a location id"),
        ));
    }
    Ok(location)
}

pub fn push(
    config: &Config,
    levels: &[StockUpdate],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    if levels.len() > MAX_BATCH as usize {
        return Err(ConnectorError::invalid_input(format!(
            "{} levels in one call; BigCommerce takes at most {MAX_BATCH}",
            levels.len()
        )));
    }
    let api = Api::new(config)?;
    let location = location(config)?;
    let mut results: Vec<Result<(), ConnectorError>> = Vec::with_capacity(levels.len());
    // (index, target, quantity) still to send.
    let mut pending = Vec::new();
    for (index, level) in levels.iter().enumerate() {
        let parsed = Target::parse(&level.key).and_then(|target| {
            level
                .whole_quantity()
                .map(|quantity| (target, quantity.max(0)))
        });
        match parsed {
            Ok((target, quantity)) => {
                results.push(Ok(()));
                pending.push((index, target, quantity));
            }
            Err(error) => results.push(Err(error)),
        }
    }
    while !pending.is_empty() {
        let items: Vec<Value> = pending
            .iter()
            .map(|(_, target, quantity)| item(*target, location, *quantity))
            .collect();
        let body = json!({"reason": "tovor stock sync", "items": items});
        let error = match api.send_json("PUT", "/v3/inventory/adjustments/absolute", &body) {
            Ok(_) => break,
            Err(error) => error,
        };
        // Anything but a refusal of the content fails the whole call, to be retried.
        if error.http_status != Some(422) {
            return Err(error);
        }
        let named = pending
            .iter()
            .position(|(_, target, _)| names(&error.message, &target.named()));
        match named {
            Some(position) => {
                let (index, _, _) = pending.remove(position);
                if let Some(slot) = results.get_mut(index) {
                    *slot = Err(error);
                }
            }
            None => {
                for (index, _, _) in pending.drain(..) {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Err(error.clone());
                    }
                }
            }
        }
    }
    Ok(results)
}

/// Whether `message` names exactly `item` (`variant_id 10` is not `variant_id 106`).
fn names(message: &str, item: &str) -> bool {
    message.match_indices(item).any(|(at, _)| {
        !message[at + item.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}
