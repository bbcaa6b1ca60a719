//! Shipments: `POST /v2/orders/{id}/shipments` with `order_address_id`,
//! `tracking_number`, `shipping_provider`, `tracking_carrier` and `items`
//! (`order_product_id`, `quantity`). A shipment names one address, so the lines are
//! grouped by their `order_address_id`; a shipment has one tracking number, so more
//! parcels than one go into `comments`. No lines ship everything not yet shipped.
//!
//! The host may ask again after a lost answer: when the order already has a shipment
//! with the first tracking number, nothing is created.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::money::Decimal;
use tovor_sdk::shop::Shipment;
use tovor_sdk::types::ConnectorError;

use crate::api::Api;
use crate::mapping::{BcProduct, BcShippingAddress};

/// BigCommerce's `shipping_provider` for carriers it integrates; others are sent with
/// an empty provider and the carrier as `tracking_carrier` (a slug).
pub fn provider(carrier: &str) -> &'static str {
    match carrier.trim().to_ascii_lowercase().as_str() {
        "ups" => "ups",
        "usps" => "usps",
        "fedex" => "fedex",
        "australia post" | "auspost" => "auspost",
        "canada post" => "canada-post",
        _ => "",
    }
}

/// A carrier name as a tracking-carrier slug (`"Deutsche Post"` → `deutsche-post`).
pub fn carrier_slug(carrier: &str) -> String {
    carrier
        .trim()
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The bodies of the shipments: one per address of the lines shipped.
pub fn bodies(
    shipment: &Shipment,
    products: &[BcProduct],
    default_address: Option<u64>,
) -> Result<Vec<Value>, ConnectorError> {
    let mut by_address: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    let mut add = |product: &BcProduct, quantity: Decimal| -> Result<(), ConnectorError> {
        let address = product
            .order_address_id
            .filter(|id| *id != 0)
            .or(default_address)
            .ok_or_else(|| {
                ConnectorError::invalid_input("the order has no shipping address to ship to")
            })?;
        let quantity = quantity
            .trunc()
            .to_string()
            .parse::<i64>()
            .map_err(|_| ConnectorError::invalid_input(format!("{quantity} is no quantity")))?;
        by_address
            .entry(address)
            .or_default()
            .push(json!({"order_product_id": product.id, "quantity": quantity}));
        Ok(())
    };
    if shipment.lines.is_empty() {
        for product in products {
            let left = product.quantity - product.quantity_shipped;
            if left > Decimal::ZERO {
                add(product, left)?;
            }
        }
    } else {
        for (index, line) in shipment.lines.iter().enumerate() {
            let product = products
                .iter()
                .find(|p| p.id.to_string() == line.platform_line_id.trim())
                .ok_or_else(|| {
                    ConnectorError::invalid_field(
                        format!("lines[{index}].platform-line-id"),
                        format!(
                            "{:?} is no product line of the order",
                            line.platform_line_id
                        ),
                    )
                })?;
            add(product, line.quantity_decimal()?)?;
        }
    }
    let mut parcels = shipment
        .parcels
        .iter()
        .map(|p| p.tracking_number.trim())
        .filter(|n| !n.is_empty());
    let tracking = parcels.next().unwrap_or_default();
    let more: Vec<&str> = parcels.collect();
    let comments = if more.is_empty() {
        String::new()
    } else {
        format!("More parcels: {}", more.join(", "))
    };
    Ok(by_address
        .into_iter()
        .map(|(address, items)| {
            json!({
                "order_address_id": address,
                "tracking_number": tracking,
                "shipping_provider": provider(&shipment.carrier),
                "tracking_carrier": carrier_slug(&shipment.carrier),
                "comments": comments,
                "items": items,
            })
        })
        .collect())
}

pub fn fulfill(config: &Config, order_id: &str, shipment: &Shipment) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let id = order_id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::not_found(format!(
            "{id:?} is not a BigCommerce order id"
        )));
    }
    #[derive(Deserialize)]
    struct Existing {
        #[serde(default)]
        tracking_number: Option<String>,
    }
    let first_tracking = shipment
        .parcels
        .iter()
        .map(|p| p.tracking_number.trim())
        .find(|n| !n.is_empty());
    if let Some(tracking) = first_tracking {
        let existing: Vec<Existing> = api.get_list(&format!("/v2/orders/{id}/shipments"), &[])?;
        if existing
            .iter()
            .any(|s| s.tracking_number.as_deref().map(str::trim) == Some(tracking))
        {
            return Ok(());
        }
    }
    let products: Vec<BcProduct> = api.get_list(&format!("/v2/orders/{id}/products"), &[])?;
    let addresses: Vec<BcShippingAddress> =
        api.get_list(&format!("/v2/orders/{id}/shipping_addresses"), &[])?;
    for body in bodies(shipment, &products, addresses.first().map(|a| a.id))? {
        api.send_json("POST", &format!("/v2/orders/{id}/shipments"), &body)
            .map_err(|error| error.context(format!("order {id}")))?;
    }
    Ok(())
}
