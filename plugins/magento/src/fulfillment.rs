//! Shipments: `POST /V1/order/{orderId}/ship` with `{"items": [{"order_item_id",
//! "qty"}], "notify", "tracks": [{"track_number", "title", "carrier_code"}]}`; Magento
//! answers the new shipment's id. No items ship everything not yet shipped.
//!
//! An order that cannot take another shipment (already shipped, or complete) is
//! refused with 400 "Shipment Document Validation Error(s): The order does not allow
//! a shipment to be created." The host may ask again after a lost answer, so such a
//! refusal is read back against the order: when nothing of what was asked is still
//! to ship, the shipment is already there and the call succeeds.

use serde::Deserialize;
use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::shop::Shipment;
use tovor_sdk::types::{ConnectorError, ErrorKind};

use crate::api::Api;

/// Magento's carrier codes for the carriers it knows; anything else is `custom`
/// with the carrier's name as the title.
pub fn carrier_code(carrier: &str) -> &'static str {
    match carrier.trim().to_ascii_lowercase().as_str() {
        "ups" => "ups",
        "usps" => "usps",
        "fedex" => "fedex",
        "dhl" => "dhl",
        _ => "custom",
    }
}

/// The request body for a shipment.
pub fn ship_body(shipment: &Shipment) -> Result<Value, ConnectorError> {
    let mut items = Vec::with_capacity(shipment.lines.len());
    for (index, line) in shipment.lines.iter().enumerate() {
        let id: u64 = line.platform_line_id.trim().parse().map_err(|_| {
            ConnectorError::invalid_field(
                format!("lines[{index}].platform-line-id"),
                format!("{:?} is not a Magento order item id", line.platform_line_id),
            )
        })?;
        items.push(json!({"order_item_id": id, "qty": quantity_number(line.quantity_decimal()?)}));
    }
    let title = if shipment.carrier.trim().is_empty() {
        "Carrier".to_owned()
    } else {
        shipment.carrier.trim().to_owned()
    };
    let tracks: Vec<Value> = shipment
        .parcels
        .iter()
        .filter(|parcel| !parcel.tracking_number.trim().is_empty())
        .map(|parcel| {
            json!({
                "track_number": parcel.tracking_number.trim(),
                "title": title,
                "carrier_code": carrier_code(&shipment.carrier),
            })
        })
        .collect();
    Ok(json!({
        "items": items,
        "notify": shipment.notify_customer,
        "appendComment": false,
        "tracks": tracks,
    }))
}

fn quantity_number(quantity: Decimal) -> Value {
    let text = money::format_decimal(quantity.normalize());
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// What is left to ship of an order, per item.
#[derive(Debug, Deserialize)]
struct OrderItems {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    items: Vec<ItemShipped>,
}

#[derive(Debug, Deserialize)]
struct ItemShipped {
    item_id: u64,
    #[serde(default)]
    parent_item_id: Option<u64>,
    #[serde(default)]
    is_virtual: Option<Value>,
    #[serde(default, with = "tovor_sdk::money::lenient_option")]
    qty_ordered: Option<Decimal>,
    #[serde(default, with = "tovor_sdk::money::lenient_option")]
    qty_shipped: Option<Decimal>,
    #[serde(default, with = "tovor_sdk::money::lenient_option")]
    qty_canceled: Option<Decimal>,
    #[serde(default, with = "tovor_sdk::money::lenient_option")]
    qty_refunded: Option<Decimal>,
}

impl ItemShipped {
    fn open(&self) -> Decimal {
        let ordered = self.qty_ordered.unwrap_or_default();
        let done = self.qty_shipped.unwrap_or_default()
            + self.qty_canceled.unwrap_or_default()
            + self.qty_refunded.unwrap_or_default();
        (ordered - done).max(Decimal::ZERO)
    }

    fn is_virtual(&self) -> bool {
        matches!(&self.is_virtual, Some(Value::Bool(true)))
            || matches!(&self.is_virtual, Some(Value::Number(n)) if n.as_u64() == Some(1))
    }
}

/// Whether the order has nothing left to ship of what `shipment` asks for.
fn already_shipped(order: &OrderItems, shipment: &Shipment) -> bool {
    if matches!(order.state.as_deref(), Some("complete" | "closed")) {
        return true;
    }
    if shipment.lines.is_empty() {
        return order
            .items
            .iter()
            .filter(|item| item.parent_item_id.is_none() && !item.is_virtual())
            .all(|item| item.open().is_zero());
    }
    shipment.lines.iter().all(|line| {
        order
            .items
            .iter()
            .find(|item| item.item_id.to_string() == line.platform_line_id.trim())
            .is_some_and(|item| item.open().is_zero())
    })
}

pub fn fulfill(config: &Config, order_id: &str, shipment: &Shipment) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let id = order_id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::not_found(format!(
            "{order_id:?} is not a Magento order id"
        )));
    }
    let body = ship_body(shipment)?;
    match api.post(&format!("/order/{id}/ship"), &body) {
        Ok(response) => {
            tovor_sdk::log::info(format!(
                "order {id}: shipment {} created",
                response.text().trim().trim_matches('"')
            ));
            Ok(())
        }
        Err(error) if error.is(ErrorKind::InvalidInput) => {
            let order: OrderItems = api.get(&format!("/orders/{id}"), &[])?.json()?;
            if already_shipped(&order, shipment) {
                tovor_sdk::log::info(format!(
                    "order {id} is already shipped in Magento; nothing to do"
                ));
                Ok(())
            } else if error.message.contains("does not allow a shipment") {
                // Cancelled or on hold: the order's state forbids it.
                Err(ConnectorError {
                    kind: ErrorKind::Conflict,
                    ..error
                })
            } else {
                Err(error)
            }
        }
        Err(error) => Err(error),
    }
}
