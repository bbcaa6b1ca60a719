//! Shipping rules: what a shipment for an order asks of the carrier, checked before
//! anything is sent, and what its tracking events mean.
//!
//! [`plan_shipment`] turns an order, the carrier's facts and the user's choices into a
//! [`ShipmentPlan`]: the recipient with street and house number apart and the phone in
//! E.164, the parcels, cash on delivery when the order's payment method maps to it,
//! the pickup point the customer chose, and the reference built from the order number
//! that lets a create call whose answer was lost be found again at the carrier.

mod address;
mod cod;
mod fulfilled;
mod handover;
mod tracking;

#[cfg(test)]
mod tests;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use address::{PhoneError, carrier_address, normalize_phone, split_street};
pub use cod::{
    CodRounding, OrderNumbers, OrderReference, ReferenceError, RoundingError, reference_number,
};
pub use fulfilled::{LineToFulfil, fulfilled_lines};
pub use handover::{handover_created_before, untracked_from};
pub use tracking::{PollPolicy, ShipmentStatus, StatusAt, current_status};

use crate::order::{Address, FieldProblem, NormalizedOrder, PaymentStatus, PickupPoint};

/// Parcels per shipment accepted at once: more is almost surely a typo.
pub const MAX_PARCELS: usize = 20;

/// The lifecycle of a shipment on our side (the parcel's own whereabouts are its
/// [`ShipmentStatus`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentState {
    /// Recorded; the carrier is being (or about to be) asked to create it.
    Requested,
    /// The carrier created it: it has the carrier's id and tracking numbers.
    Created,
    /// The create call's answer was lost (timeout, crash): the parcel may exist. It is
    /// looked up by reference, never created again blindly.
    UnknownOutcome,
    /// The carrier refused it; nothing exists at the carrier.
    Failed,
    Cancelled,
}

impl ShipmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Created => "created",
            Self::UnknownOutcome => "unknown_outcome",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Requested,
            Self::Created,
            Self::UnknownOutcome,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One parcel of a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub weight_grams: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_mm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width_mm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_mm: Option<u32>,
}

/// Money collected from the recipient on delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashOnDelivery {
    pub amount: Decimal,
    pub currency: String,
    /// Payment reference (variable symbol): the order number.
    pub reference: String,
    /// The amount before the carrier connection's rounding, when it rounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounded_from: Option<Decimal>,
}

/// What the carrier connection says about itself (from the plugin's `describe`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarrierFacts {
    /// The carrier's name (`"GLS"`) and plugin id (`"gls"`): a pickup point chosen at
    /// checkout belongs to this carrier when its carrier is either.
    pub name: String,
    pub plugin_id: String,
    pub cash_on_delivery: bool,
    /// ISO 4217 codes; empty means the carrier did not say.
    pub cod_currencies: Vec<String>,
    pub pickup_points: bool,
}

/// Cash on delivery as the user asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodChoice {
    /// Collect when the order's payment method maps to cash on delivery and the order
    /// is not paid.
    #[default]
    Auto,
    /// Never collect.
    Off,
    /// Collect the order's open amount whatever its payment method.
    On,
}

/// The user's choices for one shipment; everything has a default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShipmentChoices {
    /// Explicit parcels; when empty, `parcel_count` parcels of `weight_grams` each.
    pub parcels: Vec<Parcel>,
    pub parcel_count: Option<u32>,
    pub weight_grams: Option<u32>,
    pub cash_on_delivery: CodChoice,
    /// The amount to collect, given by the user: collected as given, whatever the
    /// order's payment method and open amount, and never rounded.
    pub cod_amount: Option<Decimal>,
    /// A pickup point id replacing the one chosen at checkout.
    pub pickup_point: Option<String>,
    /// Deliver to the address even though the customer chose a pickup point.
    pub home_delivery: bool,
    /// Carrier service codes; the carrier connection's defaults when `None`.
    pub services: Option<Vec<String>>,
    pub note: Option<String>,
    /// Another shipment for an order that already has one (a second parcel sent later,
    /// a replacement). Without it, a second shipment is refused: a double click must
    /// not send two parcels.
    pub additional: bool,
}

/// Everything [`plan_shipment`] looks at.
#[derive(Debug, Clone, Copy)]
pub struct ShipmentInput<'a> {
    /// The host's order number: the shipment reference is built from it.
    pub order_number: &'a str,
    pub order: &'a NormalizedOrder,
    /// Shipments already made for this order (any state): the reference of the next
    /// one must differ from theirs.
    pub earlier_shipments: usize,
    /// Whether the order's payment method maps to a cash-on-delivery method.
    pub payment_is_cash_on_delivery: bool,
    pub sender: &'a Address,
    pub carrier: &'a CarrierFacts,
    /// Weight of a parcel when the user gives none (the carrier connection's setting).
    pub default_weight_grams: u32,
    /// The carrier connection's default services.
    pub default_services: &'a [String],
    /// How the carrier connection rounds cash on delivery taken from the order.
    pub cod_rounding: &'a CodRounding,
    pub choices: &'a ShipmentChoices,
}

/// What the carrier will be asked to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentPlan {
    /// Unique per shipment, built from the order number; the carrier keeps it.
    pub reference: String,
    pub sender: Address,
    pub recipient: Address,
    pub parcels: Vec<Parcel>,
    pub cash_on_delivery: Option<CashOnDelivery>,
    pub pickup_point: Option<PickupPoint>,
    pub services: Vec<String>,
    /// Declared value of the contents (the order total) and its currency.
    pub value: Decimal,
    pub currency: String,
    pub note: Option<String>,
}

/// The reference of an order's next shipment: the order number for the first,
/// `"<number>-2"`, `"<number>-3"`, ... after it.
pub fn shipment_reference(order_number: &str, earlier_shipments: usize) -> String {
    match earlier_shipments {
        0 => order_number.to_owned(),
        n => format!("{order_number}-{}", n + 1),
    }
}

/// The shipment the carrier will be asked for, or every reason it cannot be made.
pub fn plan_shipment(input: &ShipmentInput<'_>) -> Result<ShipmentPlan, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let order = input.order;
    let choices = input.choices;

    let pickup_point = pickup_point(input, &mut problems);
    let recipient = recipient(order, pickup_point.is_some(), &mut problems);
    let parcels = parcels(choices, input.default_weight_grams, &mut problems);
    let cash_on_delivery = cash_on_delivery(input, &mut problems);
    check_sender(input.sender, &mut problems);
    if let Some(note) = &choices.note
        && note.chars().count() > 128
    {
        problems.push(problem("note", "at most 128 characters"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ShipmentPlan {
        reference: shipment_reference(input.order_number, input.earlier_shipments),
        sender: carrier_address(input.sender),
        recipient,
        parcels,
        cash_on_delivery,
        pickup_point,
        services: choices
            .services
            .clone()
            .unwrap_or_else(|| input.default_services.to_vec()),
        value: order.total,
        currency: order.currency.clone(),
        note: choices.note.clone(),
    })
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn pickup_point(
    input: &ShipmentInput<'_>,
    problems: &mut Vec<FieldProblem>,
) -> Option<PickupPoint> {
    let choices = input.choices;
    let carrier = input.carrier;
    if let Some(id) = choices.pickup_point.as_deref().map(str::trim) {
        if !carrier.pickup_points {
            problems.push(problem(
                "pickup_point",
                format!("{} does not deliver to pickup points", carrier.name),
            ));
            return None;
        }
        if id.is_empty() {
            problems.push(problem("pickup_point", "empty pickup point id"));
            return None;
        }
        return Some(PickupPoint {
            carrier: Some(carrier.plugin_id.clone()),
            id: id.to_owned(),
            name: None,
        });
    }
    if choices.home_delivery || !carrier.pickup_points {
        return None;
    }
    let chosen = input.order.pickup_point.as_ref()?;
    let belongs = chosen.carrier.as_deref().is_none_or(|name| {
        let name = name.trim();
        name.eq_ignore_ascii_case(&carrier.plugin_id)
            || name.eq_ignore_ascii_case(&carrier.name)
            || name
                .to_ascii_lowercase()
                .contains(&carrier.plugin_id.to_ascii_lowercase())
    });
    belongs.then(|| chosen.clone())
}

fn recipient(
    order: &NormalizedOrder,
    to_pickup_point: bool,
    problems: &mut Vec<FieldProblem>,
) -> Address {
    let Some(given) = order.shipping.as_ref().or(order.billing.as_ref()) else {
        problems.push(problem(
            "shipping",
            "the order has no shipping or billing address",
        ));
        return Address::default();
    };
    let mut address = given.clone();
    // Carriers notify the recipient by e-mail or SMS; shops often keep those only on
    // the customer or the billing address.
    if let Some(billing) = &order.billing {
        address.email = address.email.or_else(|| billing.email.clone());
        address.phone = address.phone.or_else(|| billing.phone.clone());
    }
    if let Some(customer) = &order.customer {
        address.email = address.email.or_else(|| customer.email.clone());
        address.phone = address.phone.or_else(|| customer.phone.clone());
        if address.name.is_none() {
            let name = [
                customer.first_name.as_deref(),
                customer.last_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            address.name = (!name.is_empty()).then_some(name);
        }
    }
    let address = carrier_address(&address);
    let blank = |value: &Option<String>| value.as_deref().is_none_or(|v| v.trim().is_empty());
    if blank(&address.name) && blank(&address.company) {
        problems.push(problem("shipping.name", "the recipient has no name"));
    }
    if blank(&address.country) {
        problems.push(problem("shipping.country", "the recipient has no country"));
    }
    if blank(&address.email) && blank(&address.phone) {
        problems.push(problem(
            "shipping.phone",
            "the recipient has neither a phone number nor an e-mail address",
        ));
    }
    if let Some(phone) = &address.phone
        && let Err(error) = normalize_phone(phone, address.country.as_deref())
    {
        problems.push(problem("shipping.phone", error.to_string()));
    }
    if !to_pickup_point {
        if blank(&address.city) {
            problems.push(problem("shipping.city", "the recipient has no city"));
        }
        if blank(&address.postal_code) {
            problems.push(problem(
                "shipping.postal_code",
                "the recipient has no postal code",
            ));
        }
        if blank(&address.street) && blank(&address.line1) {
            problems.push(problem("shipping.street", "the recipient has no street"));
        } else if blank(&address.house_number) {
            problems.push(problem(
                "shipping.house_number",
                format!(
                    "no house number found in {:?}; give street and house number apart",
                    address
                        .street
                        .as_deref()
                        .or(address.line1.as_deref())
                        .unwrap_or_default()
                ),
            ));
        }
    }
    address
}

fn check_sender(sender: &Address, problems: &mut Vec<FieldProblem>) {
    let blank = |value: &Option<String>| value.as_deref().is_none_or(|v| v.trim().is_empty());
    for (field, value) in [
        ("sender.name", &sender.name),
        ("sender.street", &sender.street),
        ("sender.city", &sender.city),
        ("sender.postal_code", &sender.postal_code),
        ("sender.country", &sender.country),
    ] {
        if blank(value) {
            problems.push(problem(field, "the carrier connection's sender lacks it"));
        }
    }
}

fn parcels(
    choices: &ShipmentChoices,
    default_weight_grams: u32,
    problems: &mut Vec<FieldProblem>,
) -> Vec<Parcel> {
    let parcels = if choices.parcels.is_empty() {
        let count = choices.parcel_count.unwrap_or(1) as usize;
        let weight = choices.weight_grams.unwrap_or(default_weight_grams);
        vec![
            Parcel {
                weight_grams: weight,
                length_mm: None,
                width_mm: None,
                height_mm: None,
            };
            count.min(MAX_PARCELS + 1)
        ]
    } else {
        choices.parcels.clone()
    };
    if parcels.is_empty() {
        problems.push(problem("parcels", "a shipment has at least one parcel"));
    }
    if parcels.len() > MAX_PARCELS {
        problems.push(problem(
            "parcels",
            format!("at most {MAX_PARCELS} parcels per shipment"),
        ));
    }
    for (index, parcel) in parcels.iter().enumerate() {
        if parcel.weight_grams == 0 {
            problems.push(problem(
                &format!("parcels[{index}].weight_grams"),
                "a parcel weighs more than 0 g",
            ));
        }
    }
    parcels
}

fn cash_on_delivery(
    input: &ShipmentInput<'_>,
    problems: &mut Vec<FieldProblem>,
) -> Option<CashOnDelivery> {
    let order = input.order;
    let given = input.choices.cod_amount;
    let wanted = match input.choices.cash_on_delivery {
        CodChoice::Off => {
            if given.is_some() {
                problems.push(problem(
                    "cod_amount",
                    "an amount to collect was given with cash on delivery off",
                ));
            }
            false
        }
        CodChoice::On => true,
        CodChoice::Auto => {
            given.is_some()
                || input.payment_is_cash_on_delivery
                    && !matches!(
                        order.payment_status,
                        PaymentStatus::Paid | PaymentStatus::Refunded
                    )
        }
    };
    if !wanted {
        return None;
    }
    let carrier = input.carrier;
    if !carrier.cash_on_delivery {
        problems.push(problem(
            "cash_on_delivery",
            format!("{} does not collect cash on delivery", carrier.name),
        ));
        return None;
    }
    let currency = order.currency.trim().to_ascii_uppercase();
    if !carrier.cod_currencies.is_empty()
        && !carrier
            .cod_currencies
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&currency))
    {
        problems.push(problem(
            "cash_on_delivery",
            format!(
                "{} collects cash on delivery only in {}, not in {currency}",
                carrier.name,
                carrier.cod_currencies.join(", ")
            ),
        ));
        return None;
    }
    if let Some(amount) = given {
        if amount <= Decimal::ZERO || amount.normalize().scale() > 2 {
            problems.push(problem(
                "cod_amount",
                format!("the amount to collect is a positive amount with at most two decimals, not {amount}"),
            ));
            return None;
        }
        return Some(CashOnDelivery {
            amount,
            currency,
            reference: input.order_number.to_owned(),
            rounded_from: None,
        });
    }
    let refunded: Decimal = order.refunds.iter().map(|refund| refund.amount).sum();
    let open = order.total - refunded;
    if open <= Decimal::ZERO {
        problems.push(problem(
            "cash_on_delivery",
            "nothing is left to collect: the order is refunded",
        ));
        return None;
    }
    let amount = input.cod_rounding.round(open, &currency);
    if amount <= Decimal::ZERO {
        problems.push(problem(
            "cash_on_delivery",
            format!("{open} {currency} rounds to nothing; give the amount to collect (cod_amount)"),
        ));
        return None;
    }
    Some(CashOnDelivery {
        amount,
        currency,
        reference: input.order_number.to_owned(),
        rounded_from: (amount != open).then_some(open),
    })
}
