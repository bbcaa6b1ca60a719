//! Fulfilment: `POST /ecom/v1/fulfillments/orders/{orderId}/create-fulfillment` with
//! the line items and quantities shipped and `trackingInfo{trackingNumber,
//! shippingProvider, trackingLink}`.
//!
//! A shipment without lines ships what is not yet fulfilled: the order's lines less
//! what its fulfilments (`GET /ecom/v1/fulfillments/orders/{orderId}`) carry already.
//! A fulfilment with the same tracking number is not made twice, so the host may retry.
//! Wix keeps one tracking number per fulfilment: further parcels of a shipment are
//! added as fulfilments of their own without lines, which Wix does not take, so they
//! are named in the first one's tracking link only when the carrier gives none.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::money;
use tovor_sdk::shop::Shipment;
use tovor_sdk::types::ConnectorError;

use crate::api::{Api, segment};
use crate::mapping::text;

/// Wix's predefined shipping providers (their tracking links are made by Wix); any
/// other carrier is sent by name with our tracking link.
fn provider(carrier: &str) -> String {
    match carrier.trim().to_ascii_lowercase().as_str() {
        "fedex" => "fedex".into(),
        "ups" => "ups".into(),
        "usps" => "usps".into(),
        "dhl" | "dhl express" => "dhl".into(),
        "canada post" | "canadapost" => "canadaPost".into(),
        _ => carrier.trim().to_owned(),
    }
}

pub fn fulfill(config: &Config, order_id: &str, shipment: &Shipment) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let order_path = segment(order_id);
    let existing: Value = api
        .send(api.get(&format!("ecom/v1/fulfillments/orders/{order_path}")))?
        .json()?;
    let fulfillments = existing["orderWithFulfillments"]["fulfillments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let parcel = shipment.parcels.first();
    if let Some(parcel) = parcel {
        let already = fulfillments.iter().any(|f| {
            text(&f["trackingInfo"]["trackingNumber"]).as_deref()
                == Some(parcel.tracking_number.trim())
        });
        if already {
            return Ok(());
        }
    }
    let mut lines: Vec<Value> = Vec::new();
    if shipment.lines.is_empty() {
        let order: Value = api
            .send(api.get(&format!("ecom/v1/orders/{order_path}")))?
            .json()?;
        let mut shipped: BTreeMap<String, Decimal> = BTreeMap::new();
        for fulfillment in &fulfillments {
            for line in fulfillment["lineItems"].as_array().into_iter().flatten() {
                if let Some(id) = text(&line["id"]) {
                    let quantity =
                        money::decimal_from_json(&line["quantity"]).unwrap_or(Decimal::ZERO);
                    *shipped.entry(id).or_default() += quantity;
                }
            }
        }
        for line in order["order"]["lineItems"].as_array().into_iter().flatten() {
            let Some(id) = text(&line["id"]) else {
                continue;
            };
            let ordered = money::decimal_from_json(&line["quantity"]).unwrap_or(Decimal::ZERO);
            let left = ordered - shipped.get(&id).copied().unwrap_or_default();
            if left > Decimal::ZERO {
                lines.push(json!({"id": id, "quantity": money::to_integer(left, "quantity")?}));
            }
        }
        if lines.is_empty() {
            return Err(ConnectorError::conflict(format!(
                "Wix order {order_id} has nothing left to fulfil"
            )));
        }
    } else {
        for line in &shipment.lines {
            let quantity = money::to_integer(line.quantity_decimal()?, "quantity")?;
            lines.push(json!({"id": line.platform_line_id, "quantity": quantity}));
        }
    }
    let mut fulfillment = json!({"lineItems": lines});
    if let Some(parcel) = parcel {
        let mut tracking = json!({
            "trackingNumber": parcel.tracking_number.trim(),
            "shippingProvider": provider(&shipment.carrier),
        });
        if let Some(link) = parcel
            .tracking_url
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            tracking["trackingLink"] = json!(link);
        }
        fulfillment["trackingInfo"] = tracking;
    }
    api.send(api.post(
        &format!("ecom/v1/fulfillments/orders/{order_path}/create-fulfillment"),
        &json!({"fulfillment": fulfillment}),
    ))?;
    Ok(())
}
