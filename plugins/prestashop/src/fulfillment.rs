//! Shipping and state changes. PrestaShop changes an order's state through the
//! Webservice by adding an `order_histories` row (`POST /api/order_histories`, with
//! `?sendemail=1` to mail the customer): that runs the same hooks as the back office.
//! The tracking number lives on the order's carrier row (`order_carriers`,
//! `tracking_number`), written back whole with an XML `PUT`. The number goes first, so
//! the "shipped" mail carries it. A state the order is in already is not added again.

use serde::Deserialize;
use serde_json::{Map, Value};
use tovor_sdk::Config;
use tovor_sdk::shop::{Shipment, StatusChange};
use tovor_sdk::types::ConnectorError;

use crate::api::{self, Api, cdata, de_id, text_of};
use crate::mapping::states;
use crate::stock::resource_xml;

/// PrestaShop's `tracking_number` is at most 64 characters.
pub const TRACKING_MAX_CHARS: usize = 64;

fn state_for(config: &Config, change: StatusChange) -> Result<u64, ConnectorError> {
    let (field, default) = match change {
        StatusChange::Cancelled => ("cancelled_state_id", states::CANCELED),
        StatusChange::Completed => ("completed_state_id", states::DELIVERED),
        StatusChange::Paid => ("paid_state_id", states::PAYMENT_ACCEPTED),
    };
    positive(config, field, default)
}

fn positive(config: &Config, field: &str, default: u64) -> Result<u64, ConnectorError> {
    let value = config.integer_or(field, default as i64)?;
    u64::try_from(value)
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ConnectorError::invalid_field(field, "must be an order state id"))
}

/// The tracking numbers as PrestaShop keeps them: one field per carrier row, parcels
/// joined with ", ".
pub fn tracking_number(shipment: &Shipment) -> Result<Option<String>, ConnectorError> {
    let numbers: Vec<&str> = shipment
        .parcels
        .iter()
        .map(|parcel| parcel.tracking_number.trim())
        .filter(|number| !number.is_empty())
        .collect();
    if numbers.is_empty() {
        return Ok(None);
    }
    let joined = numbers.join(", ");
    if joined.chars().count() > TRACKING_MAX_CHARS {
        return Err(ConnectorError::invalid_field(
            "parcels[0].tracking-number",
            format!("PrestaShop keeps tracking numbers of up to {TRACKING_MAX_CHARS} characters"),
        ));
    }
    Ok(Some(joined))
}

/// The XML of a new `order_histories` row.
pub fn history_xml(order_id: u64, state: u64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<order_history>\n<id_order>{}</id_order>\n<id_order_state>{}</id_order_state>\n</order_history>\n</prestashop>\n",
        cdata(&order_id.to_string()),
        cdata(&state.to_string())
    )
}

fn order_id(id: &str) -> Result<u64, ConnectorError> {
    id.trim()
        .parse()
        .map_err(|_| ConnectorError::not_found(format!("{id:?} is not a PrestaShop order id")))
}

#[derive(Deserialize)]
struct StateRow {
    #[serde(default, deserialize_with = "de_id")]
    current_state: u64,
}

/// Moves the order to `state` unless it is there already.
fn set_state(api: &Api, id: u64, state: u64, notify: bool) -> Result<(), ConnectorError> {
    let response = api
        .send(
            api.get(&format!("orders/{id}"))
                .query_param("display", "[id,current_state]"),
        )
        .map_err(|error| error.context(format!("order {id}")))?;
    // A detail asked with `display` answers as a list of one.
    let current = api::list_rows::<StateRow>(&response, "orders")
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .or_else(|| api::one::<StateRow>(&response, "order").ok())
        .map(|row| row.current_state);
    if current == Some(state) {
        return Ok(());
    }
    let mut request = api.post_xml("order_histories", history_xml(id, state));
    if notify {
        request = request.query_param("sendemail", 1);
    }
    api.send(request)
        .map_err(|error| error.context(format!("order {id}: state {state}")))?;
    Ok(())
}

pub fn fulfill(config: &Config, id: &str, shipment: &Shipment) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let id = order_id(id)?;
    if let Some(number) = tracking_number(shipment)? {
        let rows: Vec<Map<String, Value>> = api
            .list(
                api.get("order_carriers")
                    .query_param("display", "full")
                    .query_param("filter[id_order]", format!("[{id}]"))
                    .query_param("sort", "[id_DESC]"),
                "order_carriers",
            )
            .map_err(|error| error.context(format!("order {id}")))?;
        match rows.first() {
            Some(row) => {
                let row_id = row.get("id").map(text_of).unwrap_or_default();
                let xml = resource_xml("order_carrier", row, &[("tracking_number", number)]);
                api.send(api.put_xml(&format!("order_carriers/{row_id}"), xml))
                    .map_err(|error| error.context(format!("order {id}: tracking number")))?;
            }
            None => tovor_sdk::log::warn(format!(
                "order {id} has no order_carriers row; the tracking number is not kept"
            )),
        }
    }
    let shipped = positive(config, "shipped_state_id", states::SHIPPED)?;
    set_state(&api, id, shipped, shipment.notify_customer)
}

pub fn supported() -> Vec<StatusChange> {
    vec![
        StatusChange::Cancelled,
        StatusChange::Completed,
        StatusChange::Paid,
    ]
}

pub fn change(config: &Config, id: &str, change: StatusChange) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let id = order_id(id)?;
    set_state(&api, id, state_for(config, change)?, false)
}
