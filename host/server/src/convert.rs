//! From the connector contract's types (strings for decimals and times) to the domain's
//! exact types, and back for stock keys.

use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tovor_domain::order as domain;
use tovor_runtime::types as wit;

/// A connector handed over a value that is not what the contract promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the connector's order has a bad {field}: {message}")]
pub struct ConvertError {
    pub field: String,
    pub message: String,
}

fn bad(field: &str, message: impl Into<String>) -> ConvertError {
    ConvertError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn decimal(field: &str, text: &str) -> Result<Decimal, ConvertError> {
    text.trim()
        .parse()
        .map_err(|_| bad(field, format!("{text:?} is not a decimal")))
}

fn optional_decimal(field: &str, text: Option<&str>) -> Result<Option<Decimal>, ConvertError> {
    text.map(|text| decimal(field, text)).transpose()
}

pub fn timestamp(field: &str, text: &str) -> Result<OffsetDateTime, ConvertError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| bad(field, format!("{text:?} is not an RFC 3339 time")))
}

/// RFC 3339 in UTC, as the contract's `timestamp`.
pub fn timestamp_text(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The connector's order in the host's types, with characters no text column can hold
/// taken out (see [`domain::NormalizedOrder::strip_unstorable_text`]).
pub fn order(order: &wit::Order) -> Result<domain::NormalizedOrder, ConvertError> {
    let mut converted = exact_order(order)?;
    converted.strip_unstorable_text();
    Ok(converted)
}

fn exact_order(order: &wit::Order) -> Result<domain::NormalizedOrder, ConvertError> {
    Ok(domain::NormalizedOrder {
        id: order.id.clone(),
        number: order.number.clone(),
        status: order_status(order.status),
        status_raw: order.status_raw.clone(),
        payment_status: payment_status(order.payment_status),
        payment_method: order
            .payment_method
            .as_ref()
            .map(|method| domain::PaymentMethod {
                code: method.code.clone(),
                title: method.title.clone(),
            }),
        currency: order.currency.clone(),
        prices_include_tax: order.prices_include_tax,
        created_at: timestamp("created_at", &order.created_at)?,
        modified_at: timestamp("modified_at", &order.modified_at)?,
        paid_at: order
            .paid_at
            .as_deref()
            .map(|at| timestamp("paid_at", at))
            .transpose()?,
        customer: order.customer.as_ref().map(customer),
        billing: order.billing.as_ref().map(address),
        shipping: order.shipping.as_ref().map(address),
        lines: order
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| line_item(index, line))
            .collect::<Result<_, _>>()?,
        shipping_lines: charges("shipping_lines", &order.shipping_lines)?,
        fees: charges("fees", &order.fees)?,
        coupons: order.coupons.clone(),
        discount_total: decimal("discount_total", &order.discount_total)?,
        shipping_total: decimal("shipping_total", &order.shipping_total)?,
        tax_total: decimal("tax_total", &order.tax_total)?,
        total: decimal("total", &order.total)?,
        refunds: order
            .refunds
            .iter()
            .enumerate()
            .map(|(index, refund)| {
                Ok(domain::Refund {
                    platform_id: refund.platform_id.clone(),
                    amount: decimal(&format!("refunds[{index}].amount"), &refund.amount)?,
                    reason: refund.reason.clone(),
                    created_at: refund
                        .created_at
                        .as_deref()
                        .map(|at| timestamp(&format!("refunds[{index}].created_at"), at))
                        .transpose()?,
                })
            })
            .collect::<Result<_, ConvertError>>()?,
        customer_note: order.customer_note.clone(),
        pickup_point: order
            .pickup_point
            .as_ref()
            .map(|point| domain::PickupPoint {
                carrier: point.carrier.clone(),
                id: point.id.clone(),
                name: point.name.clone(),
            }),
    })
}

fn order_status(status: wit::OrderStatus) -> domain::OrderStatus {
    match status {
        wit::OrderStatus::Pending => domain::OrderStatus::Pending,
        wit::OrderStatus::Processing => domain::OrderStatus::Processing,
        wit::OrderStatus::OnHold => domain::OrderStatus::OnHold,
        wit::OrderStatus::Completed => domain::OrderStatus::Completed,
        wit::OrderStatus::Cancelled => domain::OrderStatus::Cancelled,
        wit::OrderStatus::Refunded => domain::OrderStatus::Refunded,
        wit::OrderStatus::Failed => domain::OrderStatus::Failed,
        wit::OrderStatus::Other => domain::OrderStatus::Other,
    }
}

fn payment_status(status: wit::PaymentStatus) -> domain::PaymentStatus {
    match status {
        wit::PaymentStatus::Unpaid => domain::PaymentStatus::Unpaid,
        wit::PaymentStatus::Authorized => domain::PaymentStatus::Authorized,
        wit::PaymentStatus::Paid => domain::PaymentStatus::Paid,
        wit::PaymentStatus::PartiallyPaid => domain::PaymentStatus::PartiallyPaid,
        wit::PaymentStatus::PartiallyRefunded => domain::PaymentStatus::PartiallyRefunded,
        wit::PaymentStatus::Refunded => domain::PaymentStatus::Refunded,
        wit::PaymentStatus::Voided => domain::PaymentStatus::Voided,
        wit::PaymentStatus::Unknown => domain::PaymentStatus::Unknown,
    }
}

fn customer(customer: &wit::Customer) -> domain::Customer {
    domain::Customer {
        platform_id: customer.platform_id.clone(),
        email: customer.email.clone(),
        first_name: customer.first_name.clone(),
        last_name: customer.last_name.clone(),
        company: customer.company.clone(),
        vat_id: customer.vat_id.clone(),
        phone: customer.phone.clone(),
    }
}

fn address(address: &wit::Address) -> domain::Address {
    domain::Address {
        name: address.name.clone(),
        company: address.company.clone(),
        street: address.street.clone(),
        house_number: address.house_number.clone(),
        line1: address.line1.clone(),
        line2: address.line2.clone(),
        city: address.city.clone(),
        postal_code: address.postal_code.clone(),
        region: address.region.clone(),
        country: address.country.clone(),
        phone: address.phone.clone(),
        email: address.email.clone(),
    }
}

fn line_item(index: usize, line: &wit::LineItem) -> Result<domain::LineItem, ConvertError> {
    let field = |name: &str| format!("lines[{index}].{name}");
    Ok(domain::LineItem {
        platform_line_id: line.platform_line_id.clone(),
        sku: line.sku.clone(),
        name: line.name.clone(),
        product_id: line.product_id.clone(),
        variation_id: line.variation_id.clone(),
        quantity: decimal(&field("quantity"), &line.quantity)?,
        unit_price: decimal(&field("unit_price"), &line.unit_price)?,
        discount: decimal(&field("discount"), &line.discount)?,
        tax_rate: optional_decimal(&field("tax_rate"), line.tax_rate.as_deref())?,
        tax_amount: decimal(&field("tax_amount"), &line.tax_amount)?,
        total: decimal(&field("total"), &line.total)?,
    })
}

fn charges(list: &str, lines: &[wit::ChargeLine]) -> Result<Vec<domain::ChargeLine>, ConvertError> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let field = |name: &str| format!("{list}[{index}].{name}");
            Ok(domain::ChargeLine {
                platform_line_id: line.platform_line_id.clone(),
                code: line.code.clone(),
                title: line.title.clone(),
                amount: decimal(&field("amount"), &line.amount)?,
                tax_rate: optional_decimal(&field("tax_rate"), line.tax_rate.as_deref())?,
                tax_amount: decimal(&field("tax_amount"), &line.tax_amount)?,
            })
        })
        .collect()
}

/// A domain address in the contract's shape.
pub fn address_to_wit(address: &domain::Address) -> wit::Address {
    wit::Address {
        name: address.name.clone(),
        company: address.company.clone(),
        street: address.street.clone(),
        house_number: address.house_number.clone(),
        line1: address.line1.clone(),
        line2: address.line2.clone(),
        city: address.city.clone(),
        postal_code: address.postal_code.clone(),
        region: address.region.clone(),
        country: address.country.clone(),
        phone: address.phone.clone(),
        email: address.email.clone(),
    }
}

/// A shipment plan as the carrier connector's request.
pub fn shipment_request(
    plan: &tovor_domain::shipping::ShipmentPlan,
) -> tovor_runtime::carrier_api::ShipmentRequest {
    use tovor_runtime::carrier_api as carrier;
    carrier::ShipmentRequest {
        reference: plan.reference.clone(),
        sender: address_to_wit(&plan.sender),
        recipient: address_to_wit(&plan.recipient),
        parcels: plan
            .parcels
            .iter()
            .map(|parcel| carrier::Parcel {
                weight_grams: parcel.weight_grams,
                length_mm: parcel.length_mm,
                width_mm: parcel.width_mm,
                height_mm: parcel.height_mm,
            })
            .collect(),
        cash_on_delivery: plan
            .cash_on_delivery
            .as_ref()
            .map(|cod| carrier::CashOnDelivery {
                amount: cod.amount.normalize().to_string(),
                currency: cod.currency.clone(),
                reference: Some(cod.reference.clone()),
            }),
        pickup_point: plan.pickup_point.as_ref().map(|point| wit::PickupPoint {
            carrier: point.carrier.clone(),
            id: point.id.clone(),
            name: point.name.clone(),
        }),
        services: plan.services.clone(),
        value: Some(plan.value.normalize().to_string()),
        currency: Some(plan.currency.clone()),
        note: plan.note.clone(),
    }
}

/// A carrier's tracking status in the domain's terms.
pub fn shipment_status(
    status: tovor_runtime::carrier_api::ShipmentStatus,
) -> tovor_domain::shipping::ShipmentStatus {
    use tovor_domain::shipping::ShipmentStatus as S;
    use tovor_runtime::carrier_api::ShipmentStatus as W;
    match status {
        W::Pending => S::Pending,
        W::PickedUp => S::PickedUp,
        W::InTransit => S::InTransit,
        W::OutForDelivery => S::OutForDelivery,
        W::ReadyForPickup => S::ReadyForPickup,
        W::Delivered => S::Delivered,
        W::DeliveryFailed => S::DeliveryFailed,
        W::DeliveryDelayed => S::DeliveryDelayed,
        W::OnHold => S::OnHold,
        W::ReturnToSender => S::ReturnToSender,
        W::Cancelled => S::Cancelled,
        W::Unknown => S::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wit_order() -> wit::Order {
        wit::Order {
            id: "1042".into(),
            number: "1042".into(),
            status: wit::OrderStatus::Processing,
            status_raw: "paid".into(),
            payment_status: wit::PaymentStatus::Paid,
            payment_method: Some(wit::PaymentMethod {
                code: "card".into(),
                title: "Card".into(),
            }),
            currency: "EUR".into(),
            prices_include_tax: false,
            created_at: "2026-11-28T10:00:00Z".into(),
            modified_at: "2026-11-28T10:05:00+01:00".into(),
            paid_at: None,
            customer: None,
            billing: None,
            shipping: None,
            lines: vec![wit::LineItem {
                platform_line_id: Some("1".into()),
                sku: Some("MUG".into()),
                name: "Mug".into(),
                product_id: Some("7".into()),
                variation_id: None,
                quantity: "2".into(),
                unit_price: "10.00".into(),
                discount: "0".into(),
                tax_rate: Some("22".into()),
                tax_amount: "4.40".into(),
                total: "20.00".into(),
            }],
            shipping_lines: vec![],
            fees: vec![],
            coupons: vec![],
            discount_total: "0".into(),
            shipping_total: "0".into(),
            tax_total: "4.40".into(),
            total: "24.40".into(),
            refunds: vec![],
            customer_note: None,
            pickup_point: None,
        }
    }

    #[test]
    fn strings_become_exact_decimals_and_utc_times() {
        let converted = order(&wit_order()).unwrap();
        assert_eq!(converted.total, Decimal::new(2440, 2));
        assert_eq!(converted.lines[0].tax_rate, Some(Decimal::from(22)));
        assert_eq!(
            timestamp_text(converted.modified_at),
            "2026-11-28T09:05:00Z"
        );
    }

    #[test]
    fn a_bad_amount_names_its_field() {
        let mut bad_order = wit_order();
        bad_order.lines[0].quantity = "two".into();
        let error = order(&bad_order).unwrap_err();
        assert_eq!(error.field, "lines[0].quantity");
    }
}
