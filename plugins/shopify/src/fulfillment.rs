//! Fulfilment through fulfillment orders: `GET orders/{id}/fulfillment_orders.json` says
//! what is still open (per location, with fulfillment-order line items naming the order
//! lines), `GET orders/{id}/fulfillments.json` what was shipped already, and `POST
//! fulfillments.json` records a shipment with `line_items_by_fulfillment_order`,
//! `tracking_info` and `notify_customer`.
//!
//! **Parcels.** Shopify's REST fulfillment "supports a single tracking number; if you
//! need to use multiple tracking numbers, create separate fulfillments" (its Fulfillment
//! resource documentation; `tracking_info` takes one `number`, `url` and `company`). So
//! a shipment of several parcels becomes one fulfillment per parcel, and the units
//! shipped are shared out among them in order, as evenly as whole units allow. The
//! shipment does not say which item went into which parcel, so the split is a best
//! effort; what matters to the customer is that every tracking number reaches them.
//! When there are more parcels than units, the surplus tracking numbers cannot be
//! recorded in Shopify and are logged.
//!
//! A fulfillment may only hold fulfillment orders of one location, so a parcel whose
//! units come from two locations becomes two fulfillments with the same number.
//!
//! **Retries.** A call may fail half-way (rate limit, timeout) after some fulfillments
//! were made. Parcels whose tracking number the order's fulfillments already carry are
//! skipped, and units those fulfillments shipped are not asked for again, so repeating
//! the call ships nothing twice. Without tracking numbers only what is still open can
//! be checked: repeating such a shipment of named lines could ship more of a line that
//! still has open units.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::shop::Shipment;
use tovor_sdk::types::ConnectorError;

use crate::api::{Api, numeric_id};

/// A fulfillment order, as `GET orders/{id}/fulfillment_orders.json` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct FulfillmentOrder {
    pub id: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub assigned_location_id: Option<u64>,
    /// Absent in older versions; when present it must allow creating a fulfillment.
    #[serde(default)]
    pub supported_actions: Option<Vec<String>>,
    #[serde(default)]
    pub line_items: Vec<FulfillmentOrderLine>,
}

impl FulfillmentOrder {
    fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "open" | "in_progress")
            && self
                .supported_actions
                .as_ref()
                .is_none_or(|actions| actions.iter().any(|a| a == "create_fulfillment"))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct FulfillmentOrderLine {
    /// The fulfillment-order line item's own id (what a fulfillment names).
    pub id: u64,
    /// The order line it stands for (`line-item.platform-line-id`).
    pub line_item_id: u64,
    /// Units still to ship.
    #[serde(default)]
    pub fulfillable_quantity: u64,
}

/// A fulfillment already made, as `GET orders/{id}/fulfillments.json` lists it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExistingFulfillment {
    pub status: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_numbers: Vec<String>,
    pub line_items: Vec<FulfilledLine>,
}

impl ExistingFulfillment {
    /// Cancelled or failed fulfillments shipped nothing.
    fn counts(&self) -> bool {
        !matches!(
            self.status.as_deref(),
            Some("cancelled" | "error" | "failure")
        )
    }

    fn numbers(&self) -> impl Iterator<Item = &str> {
        self.tracking_number
            .iter()
            .chain(&self.tracking_numbers)
            .map(|number| number.trim())
            .filter(|number| !number.is_empty())
    }
}

/// An order line in a fulfillment: `id` is the order line's id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FulfilledLine {
    pub id: u64,
    pub quantity: u64,
}

/// One fulfillment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFulfillment {
    /// The index of the shipment's parcel it records, if the shipment has parcels.
    pub parcel: Option<usize>,
    /// Fulfillment order id and its line items with quantities, all of one location.
    pub items: Vec<(u64, Vec<(u64, u64)>)>,
}

/// What [`plan`] decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub fulfillments: Vec<PlannedFulfillment>,
    /// Tracking numbers that got no unit to carry (more parcels than units).
    pub unattached: Vec<String>,
    /// Order lines asked for more units than are still open: `(line id, asked, open)`.
    pub capped: Vec<(u64, u64, u64)>,
}

/// One unit run: so many units of one fulfillment-order line.
#[derive(Debug, Clone, Copy)]
struct Units {
    fulfillment_order: u64,
    location: Option<u64>,
    line: u64,
    quantity: u64,
}

/// Decides which fulfillments record `shipment`, from what is open and what was shipped
/// already; see the module documentation.
pub fn plan(
    shipment: &Shipment,
    fulfillment_orders: &[FulfillmentOrder],
    existing: &[ExistingFulfillment],
) -> Result<Plan, ConnectorError> {
    let parcels: Vec<(usize, &str)> = shipment
        .parcels
        .iter()
        .enumerate()
        .map(|(index, parcel)| (index, parcel.tracking_number.trim()))
        .filter(|(_, number)| !number.is_empty())
        .collect();
    let ours: BTreeSet<&str> = parcels.iter().map(|(_, number)| *number).collect();
    let recorded: Vec<&ExistingFulfillment> = existing
        .iter()
        .filter(|fulfillment| fulfillment.counts())
        .filter(|fulfillment| fulfillment.numbers().any(|number| ours.contains(number)))
        .collect();
    let done: BTreeSet<&str> = recorded.iter().flat_map(|f| f.numbers()).collect();
    // Parcels not recorded yet, each number once.
    let mut seen = BTreeSet::new();
    let remaining: Vec<(usize, &str)> = parcels
        .iter()
        .copied()
        .filter(|(_, number)| !done.contains(number) && seen.insert(*number))
        .collect();
    let mut plan = Plan::default();
    if !parcels.is_empty() && remaining.is_empty() {
        return Ok(plan);
    }

    let open: Vec<&FulfillmentOrder> = fulfillment_orders
        .iter()
        .filter(|fo| fo.is_open())
        .collect();
    let mut units: Vec<Units> = Vec::new();
    if shipment.lines.is_empty() {
        for fo in &open {
            for line in fo.line_items.iter().filter(|l| l.fulfillable_quantity > 0) {
                units.push(Units {
                    fulfillment_order: fo.id,
                    location: fo.assigned_location_id,
                    line: line.id,
                    quantity: line.fulfillable_quantity,
                });
            }
        }
    } else {
        // Units still open per fulfillment-order line, taken as lines ask for them.
        let mut left: Vec<(u64, u64)> = open
            .iter()
            .flat_map(|fo| fo.line_items.iter())
            .map(|line| (line.id, line.fulfillable_quantity))
            .collect();
        for (index, wanted) in shipment.lines.iter().enumerate() {
            let line_id = wanted
                .platform_line_id
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|id| {
                    fulfillment_orders
                        .iter()
                        .flat_map(|fo| &fo.line_items)
                        .any(|line| line.line_item_id == *id)
                })
                .ok_or_else(|| {
                    ConnectorError::invalid_field(
                        format!("lines[{index}].platform-line-id"),
                        format!(
                            "{:?} is not a line of this Shopify order",
                            wanted.platform_line_id
                        ),
                    )
                })?;
            let asked = whole_units(wanted, index)?;
            let shipped_before: u64 = recorded
                .iter()
                .flat_map(|f| &f.line_items)
                .filter(|line| line.id == line_id)
                .map(|line| line.quantity)
                .sum();
            let mut want = asked.saturating_sub(shipped_before);
            let mut found = 0;
            for fo in &open {
                for line in fo.line_items.iter().filter(|l| l.line_item_id == line_id) {
                    let Some(slot) = left.iter_mut().find(|(id, _)| *id == line.id) else {
                        continue;
                    };
                    let take = want.min(slot.1);
                    if take > 0 {
                        slot.1 -= take;
                        want -= take;
                        found += take;
                        units.push(Units {
                            fulfillment_order: fo.id,
                            location: fo.assigned_location_id,
                            line: line.id,
                            quantity: take,
                        });
                    }
                }
            }
            if want > 0 {
                plan.capped
                    .push((line_id, asked.saturating_sub(shipped_before), found));
            }
        }
    }
    let total: u64 = units.iter().map(|u| u.quantity).sum();
    if total == 0 {
        return Ok(plan);
    }

    // Share the units among the parcels still to record: sizes as even as whole units
    // allow, the first parcels taking the remainder.
    let parcel_count = u64::try_from(remaining.len()).unwrap_or(u64::MAX);
    let carriers = if remaining.is_empty() {
        1
    } else {
        parcel_count.min(total)
    };
    let carrier_slots = usize::try_from(carriers).unwrap_or(usize::MAX);
    plan.unattached = remaining
        .iter()
        .skip(carrier_slots)
        .map(|(_, number)| (*number).to_owned())
        .collect();
    let mut queue = units.into_iter();
    let mut current = queue.next();
    for slot in 0..carriers {
        let mut size = total / carriers + u64::from(slot < total % carriers);
        let mut chunk: Vec<Units> = Vec::new();
        while size > 0 {
            let Some(run) = current.as_mut() else { break };
            let take = size.min(run.quantity);
            chunk.push(Units {
                quantity: take,
                ..*run
            });
            run.quantity -= take;
            size -= take;
            if run.quantity == 0 {
                current = queue.next();
            }
        }
        let parcel = remaining
            .get(usize::try_from(slot).unwrap_or(usize::MAX))
            .map(|(index, _)| *index);
        plan.fulfillments.extend(by_location(parcel, &chunk));
    }
    Ok(plan)
}

/// A shipped line's quantity as whole units: Shopify fulfils whole items.
fn whole_units(line: &tovor_sdk::shop::ShippedLine, index: usize) -> Result<u64, ConnectorError> {
    let field = format!("lines[{index}].quantity");
    let quantity = line.quantity_decimal().map_err(|e| e.with_field(&field))?;
    let whole = tovor_sdk::money::to_integer(quantity, &field)?;
    u64::try_from(whole).map_err(|_| {
        ConnectorError::invalid_field(field, format!("{quantity} is not a quantity to ship"))
    })
}

/// One fulfillment per location of `chunk`, fulfillment orders and their lines merged.
fn by_location(parcel: Option<usize>, chunk: &[Units]) -> Vec<PlannedFulfillment> {
    let mut planned: Vec<(Option<u64>, PlannedFulfillment)> = Vec::new();
    for run in chunk {
        let index = match planned
            .iter()
            .position(|(location, _)| *location == run.location)
        {
            Some(index) => index,
            None => {
                planned.push((
                    run.location,
                    PlannedFulfillment {
                        parcel,
                        items: Vec::new(),
                    },
                ));
                planned.len() - 1
            }
        };
        let Some((_, fulfillment)) = planned.get_mut(index) else {
            continue;
        };
        let lines = match fulfillment
            .items
            .iter_mut()
            .find(|(fo, _)| *fo == run.fulfillment_order)
        {
            Some((_, lines)) => lines,
            None => {
                fulfillment.items.push((run.fulfillment_order, Vec::new()));
                match fulfillment.items.last_mut() {
                    Some((_, lines)) => lines,
                    None => continue,
                }
            }
        };
        match lines.iter_mut().find(|(line, _)| *line == run.line) {
            Some((_, quantity)) => *quantity += run.quantity,
            None => lines.push((run.line, run.quantity)),
        }
    }
    planned
        .into_iter()
        .map(|(_, fulfillment)| fulfillment)
        .collect()
}

/// `POST fulfillments.json` for one planned fulfillment.
pub fn fulfillment_body(planned: &PlannedFulfillment, shipment: &Shipment) -> Value {
    let mut tracking = serde_json::Map::new();
    if let Some(parcel) = planned.parcel.and_then(|index| shipment.parcels.get(index)) {
        tracking.insert("number".into(), json!(parcel.tracking_number.trim()));
        if let Some(url) = parcel
            .tracking_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            tracking.insert("url".into(), json!(url));
        }
    }
    let carrier = shipment.carrier.trim();
    if !carrier.is_empty() {
        tracking.insert("company".into(), json!(carrier));
    }
    let mut fulfillment = json!({
        "line_items_by_fulfillment_order": planned
            .items
            .iter()
            .map(|(fulfillment_order, lines)| json!({
                "fulfillment_order_id": fulfillment_order,
                "fulfillment_order_line_items": lines
                    .iter()
                    .map(|(id, quantity)| json!({ "id": id, "quantity": quantity }))
                    .collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>(),
        "notify_customer": shipment.notify_customer,
    });
    if !tracking.is_empty() {
        fulfillment["tracking_info"] = Value::Object(tracking);
    }
    json!({ "fulfillment": fulfillment })
}

/// Records `shipment` of the order `order_id`.
pub fn fulfill(config: &Config, order_id: &str, shipment: &Shipment) -> Result<(), ConnectorError> {
    let api = Api::new(config)?;
    let order_id = numeric_id(order_id, "order")?;
    #[derive(Deserialize)]
    struct FulfillmentOrders {
        fulfillment_orders: Vec<FulfillmentOrder>,
    }
    #[derive(Deserialize)]
    struct Fulfillments {
        fulfillments: Vec<ExistingFulfillment>,
    }
    let fulfillment_orders: FulfillmentOrders = api
        .send(api.get(&format!("orders/{order_id}/fulfillment_orders.json")))?
        .json()?;
    let existing: Fulfillments = api
        .send(
            api.get(&format!("orders/{order_id}/fulfillments.json"))
                .query_param("limit", 250),
        )?
        .json()?;
    let plan = plan(
        shipment,
        &fulfillment_orders.fulfillment_orders,
        &existing.fulfillments,
    )?;
    for (line, asked, open) in &plan.capped {
        tovor_sdk::log::warn(format!(
            "Shopify order {order_id}: line {line} was asked to ship {asked} units but has \
             {open} open; shipping what is open"
        ));
    }
    if !plan.unattached.is_empty() {
        tovor_sdk::log::warn(format!(
            "Shopify order {order_id}: more parcels than units shipped; tracking numbers {} \
             have no unit to carry them and are not recorded",
            plan.unattached.join(", ")
        ));
    }
    if plan.fulfillments.is_empty() {
        // Shipped already (possibly by an earlier attempt of this very call whose answer
        // was lost), or nothing is open (cancelled): fulfilling twice is impossible.
        tovor_sdk::log::info(format!(
            "Shopify order {order_id}: nothing left to fulfil for this shipment"
        ));
        return Ok(());
    }
    for planned in &plan.fulfillments {
        api.send(api.post("fulfillments.json", &fulfillment_body(planned, shipment)))?;
    }
    Ok(())
}
