//! Telling WooCommerce what was shipped.
//!
//! WooCommerce core knows no shipments: no per-line fulfilment, no tracking numbers
//! (those come from plugins, each with its own API). What core has is the order note,
//! which can be e-mailed to the customer, and the `completed` status. So a shipment is
//! a note naming the carrier, every parcel's tracking number and link, and the items
//! when the shipment names them; then the order is completed. A partial shipment
//! completes the order too: core has no state between "processing" and "completed".

use std::collections::HashMap;

use serde_json::{Value, json};
use tovor_sdk::money::Decimal;
use tovor_sdk::shop::Shipment;
use tovor_sdk::types::ConnectorError;

use crate::api::Api;
use crate::{order_path, woo};

/// Adds the shipment's note (once: a retried call finds it and adds no second one) and
/// completes the order.
pub fn fulfill(api: &Api, order_id: &str, shipment: &Shipment) -> Result<(), ConnectorError> {
    let order = order_path(order_id);
    let notes_path = format!("{order}/notes");
    let mut requests = vec![api.request("GET", &notes_path, &[], None)];
    if !shipment.lines.is_empty() {
        // The lines' names, for the note.
        requests.push(api.request("GET", &order, &[], None));
    }
    let mut answers = api.send_all(requests).into_iter();
    let notes: Vec<Value> = answers
        .next()
        .ok_or_else(|| ConnectorError::other("the host answered no request"))??
        .json()?;
    let items = match answers.next() {
        Some(answer) => shipped_items(shipment, &woo::parse_order(&answer?.body)?)?,
        None => Vec::new(),
    };
    let note = shipment_note(shipment, &items);
    let already = notes
        .iter()
        .any(|existing| existing["note"].as_str() == Some(note.as_str()));
    if !already {
        api.send(
            "POST",
            &notes_path,
            &[],
            Some(&json!({ "note": note, "customer_note": shipment.notify_customer })),
        )?;
    }
    // Completing sends core's "order completed" e-mail whatever `notify_customer` says:
    // the REST API cannot hold it back.
    api.send("PUT", &order, &[], Some(&json!({ "status": "completed" })))?;
    Ok(())
}

/// `(quantity, name)` of each shipped line, in the shipment's order; a line the order
/// does not have is `invalid-input` naming it.
pub fn shipped_items(
    shipment: &Shipment,
    order: &woo::WooOrder,
) -> Result<Vec<(Decimal, String)>, ConnectorError> {
    let names: HashMap<String, &str> = order
        .line_items
        .iter()
        .map(|line| (line.id.to_string(), line.name.as_str()))
        .collect();
    shipment
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let field = |name: &str| format!("lines[{index}].{name}");
            let quantity = line
                .quantity_decimal()
                .map_err(|error| error.with_field(field("quantity")))?;
            let name = names.get(line.platform_line_id.trim()).ok_or_else(|| {
                ConnectorError::invalid_field(
                    field("platform-line-id"),
                    format!("order {} has no line {:?}", order.id, line.platform_line_id),
                )
            })?;
            Ok((quantity.normalize(), (*name).to_owned()))
        })
        .collect()
}

/// The customer-visible note for a shipment: the same text for the same shipment, so a
/// retry can find it.
pub fn shipment_note(shipment: &Shipment, items: &[(Decimal, String)]) -> String {
    let carrier = shipment.carrier.trim();
    let parcels: Vec<_> = shipment
        .parcels
        .iter()
        .filter(|parcel| !parcel.tracking_number.trim().is_empty())
        .collect();
    let url_of = |url: &Option<String>| {
        url.as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
    };
    let mut note = match parcels.as_slice() {
        [] => format!("Your order has been shipped with {carrier}."),
        [parcel] => {
            let mut note = format!(
                "Your order has been shipped with {carrier}. Tracking number: {}.",
                parcel.tracking_number.trim()
            );
            if let Some(url) = url_of(&parcel.tracking_url) {
                note.push_str(&format!(" Track your parcel: {url}"));
            }
            note
        }
        several => {
            let numbers: Vec<String> = several
                .iter()
                .map(|parcel| match url_of(&parcel.tracking_url) {
                    Some(url) => format!("{} ({url})", parcel.tracking_number.trim()),
                    None => parcel.tracking_number.trim().to_owned(),
                })
                .collect();
            format!(
                "Your order has been shipped with {carrier} in {} parcels. Tracking numbers: {}.",
                several.len(),
                numbers.join(", ")
            )
        }
    };
    if !items.is_empty() {
        let listed: Vec<String> = items
            .iter()
            .map(|(quantity, name)| format!("{quantity} × {name}"))
            .collect();
        note.push_str(&format!(" In this shipment: {}.", listed.join(", ")));
    }
    note
}
