//! Shipping and status changes: Shoptet has no shipments of its own; an order is
//! shipped by giving it its tracking number (`PATCH /api/orders/{code}/notes`,
//! `trackingNumber`, at most 32 characters) and the status the merchant uses for
//! shipped orders (`PATCH /api/orders/{code}/status`, the `shipped_status_id` setting,
//! default -3 "Vyřízena"). The number goes first, so the e-mail the status may send
//! carries it. Both calls set values, so repeating them is harmless; Shoptet skips a
//! status the order has already.

use serde_json::json;
use tovor_sdk::Config;
use tovor_sdk::shop::{Shipment, StatusChange};
use tovor_sdk::types::ConnectorError;

use crate::api::{Api, code_segment};

/// The system status "Vyřízena" (done), used for shipped and completed orders unless
/// the config names another.
pub const DEFAULT_SHIPPED_STATUS: i64 = -3;
/// The system status "Stornována" (cancelled).
pub const CANCELLED_STATUS: i64 = -4;
/// Shoptet's limit for `trackingNumber`.
pub const TRACKING_MAX_CHARS: usize = 32;

fn shipped_status(config: &Config) -> Result<i64, ConnectorError> {
    config.integer_or("shipped_status_id", DEFAULT_SHIPPED_STATUS)
}

/// The tracking number Shoptet keeps: the first parcel's (one field per order).
pub fn tracking_number(shipment: &Shipment) -> Result<Option<String>, ConnectorError> {
    let Some(number) = shipment
        .parcels
        .iter()
        .map(|parcel| parcel.tracking_number.trim())
        .find(|number| !number.is_empty())
    else {
        return Ok(None);
    };
    if number.chars().count() > TRACKING_MAX_CHARS {
        return Err(ConnectorError::invalid_field(
            "parcels[0].tracking-number",
            format!("Shoptet keeps tracking numbers of up to {TRACKING_MAX_CHARS} characters"),
        ));
    }
    Ok(Some(number.to_owned()))
}

pub fn fulfill(config: &Config, order_id: &str, shipment: &Shipment) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let code = code_segment(order_id);
    if let Some(number) = tracking_number(shipment)? {
        api.send(api.patch(
            &format!("/api/orders/{code}/notes"),
            &json!({ "data": { "trackingNumber": number } }),
        ))
        .map_err(|error| error.context(format!("order {order_id}")))?;
    }
    set_status(
        &api,
        order_id,
        json!({ "statusId": shipped_status(config)? }),
        shipment.notify_customer,
    )
}

pub fn supported() -> Vec<StatusChange> {
    vec![
        StatusChange::Cancelled,
        StatusChange::Completed,
        StatusChange::Paid,
    ]
}

pub fn change(config: &Config, order_id: &str, change: StatusChange) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let data = match change {
        StatusChange::Cancelled => json!({ "statusId": CANCELLED_STATUS }),
        StatusChange::Completed => json!({ "statusId": shipped_status(config)? }),
        StatusChange::Paid => json!({ "paid": true }),
    };
    set_status(&api, order_id, data, true)
}

fn set_status(
    api: &Api,
    order_id: &str,
    data: serde_json::Value,
    notify: bool,
) -> Result<(), ConnectorError> {
    let mut request = api.patch(
        &format!("/api/orders/{}/status", code_segment(order_id)),
        &json!({ "data": data }),
    );
    if !notify {
        request = request.query_param("suppressEmailSending", "true");
    }
    api.send(request)
        .map(drop)
        .map_err(|error| error.context(format!("order {order_id}")))
}
