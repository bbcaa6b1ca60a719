//! Contract 0.2: one exported interface per capability, typed times and config, the
//! `state` import and batched HTTP.

use std::time::Duration;

use time::OffsetDateTime;
use tovor_domain::order as domain;
use tovor_manifest::FieldType;

use super::{bad, decimal, decimal_text, optional_decimal};
use crate::bindings::v0_1_0;
use crate::bindings::v0_2::{
    carrier_types, catalog, connection, fulfillment, handover, http, inventory, labels, log,
    orders, pickup_points, services, shipments, state, status_changes, tracking, types, webhooks,
};
use crate::model::{self, ConvertError, ErrorKind};
use crate::state::CallState;

super::same_shape!(types, tracking);

/// The account's config typed as the manifest declares each field; a value that does not
/// read as its type (which the host checks on save) goes as text.
pub(crate) fn config(
    manifest: &tovor_manifest::Manifest,
    values: &[(String, String)],
) -> Vec<(String, types::ConfigValue)> {
    values
        .iter()
        .map(|(name, value)| {
            let field_type = manifest
                .config
                .iter()
                .find(|field| &field.name == name)
                .map(|field| field.field_type);
            let typed = match field_type {
                Some(FieldType::Integer) => value
                    .trim()
                    .parse()
                    .map(types::ConfigValue::Integer)
                    .unwrap_or_else(|_| types::ConfigValue::Text(value.clone())),
                Some(FieldType::Boolean) => match value.trim() {
                    "true" => types::ConfigValue::Boolean(true),
                    "false" => types::ConfigValue::Boolean(false),
                    _ => types::ConfigValue::Text(value.clone()),
                },
                _ => types::ConfigValue::Text(value.clone()),
            };
            (name.clone(), typed)
        })
        .collect()
}

pub(crate) fn timestamp(at: OffsetDateTime) -> types::Timestamp {
    let nanos = at.unix_timestamp_nanos();
    types::Timestamp {
        seconds: at.unix_timestamp(),
        nanoseconds: u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0),
    }
}

fn time(field: &str, at: types::Timestamp) -> Result<OffsetDateTime, ConvertError> {
    let nanos = i128::from(at.seconds) * 1_000_000_000 + i128::from(at.nanoseconds);
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| bad(field, format!("{} seconds is out of range", at.seconds)))
}

pub(crate) fn error(error: types::ConnectorError) -> model::ConnectorError {
    use types::ErrorKind as K;
    let kind = match error.kind {
        K::Auth => ErrorKind::Auth,
        K::Permission => ErrorKind::Permission,
        K::NotFound => ErrorKind::NotFound,
        K::RateLimited => ErrorKind::RateLimited,
        K::InvalidInput => ErrorKind::InvalidInput,
        K::Conflict => ErrorKind::Conflict,
        K::BadSignature => ErrorKind::BadSignature,
        K::Transient => ErrorKind::Transient,
        K::Unsupported => ErrorKind::Unsupported,
        K::Other => ErrorKind::Other,
    };
    model::ConnectorError {
        kind,
        message: error.message,
        field: error.field,
        http_status: error.http_status,
        platform_code: error.platform_code,
        retry_after: error.retry_after_ms.map(Duration::from_millis),
    }
}

fn exact_order(order: &types::Order) -> Result<domain::NormalizedOrder, ConvertError> {
    Ok(domain::NormalizedOrder {
        id: order.id.clone(),
        number: order.number.clone(),
        status: order_status(order.status),
        status_raw: order.status_raw.clone(),
        payment_status: payment_status(order.payment_status),
        payment_method: order.payment_method.as_ref().map(payment_method),
        currency: order.currency.clone(),
        prices_include_tax: order.prices_include_tax,
        created_at: time("created_at", order.created_at)?,
        modified_at: time("modified_at", order.modified_at)?,
        paid_at: order.paid_at.map(|at| time("paid_at", at)).transpose()?,
        customer: order.customer.as_ref().map(customer),
        billing: order.billing.as_ref().map(address),
        shipping: order.shipping.as_ref().map(address),
        lines: order
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let field = |name: &str| format!("lines[{index}].{name}");
                Ok(domain::LineItem {
                    platform_line_id: line.platform_line_id.clone(),
                    sku: line.sku.clone(),
                    name: line.name.clone(),
                    product_id: line.product_id.clone(),
                    variation_id: line.variation_id.clone(),
                    quantity: decimal(&field("quantity"), &line.quantity)?,
                    ordered_quantity: optional_decimal(
                        &field("ordered_quantity"),
                        line.ordered_quantity.as_deref(),
                    )?,
                    unit_price: decimal(&field("unit_price"), &line.unit_price)?,
                    discount: decimal(&field("discount"), &line.discount)?,
                    tax_rate: optional_decimal(&field("tax_rate"), line.tax_rate.as_deref())?,
                    tax_amount: decimal(&field("tax_amount"), &line.tax_amount)?,
                    total: decimal(&field("total"), &line.total)?,
                })
            })
            .collect::<Result<_, ConvertError>>()?,
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
            .map(|(index, refund)| self::refund(&format!("refunds[{index}]"), refund))
            .collect::<Result<_, ConvertError>>()?,
        customer_note: order.customer_note.clone(),
        pickup_point: order.pickup_point.as_ref().map(pickup_point),
    })
}

/// A refund in the host's types; `at` names it in errors (`refunds[0]`).
pub(crate) fn refund(at: &str, refund: &types::Refund) -> Result<domain::Refund, ConvertError> {
    Ok(domain::Refund {
        platform_id: refund.platform_id.clone(),
        amount: decimal(&format!("{at}.amount"), &refund.amount)?,
        reason: refund.reason.clone(),
        created_at: refund
            .created_at
            .map(|moment| time(&format!("{at}.created_at"), moment))
            .transpose()?,
        lines: refund
            .lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let field = |name: &str| format!("{at}.lines[{index}].{name}");
                Ok(domain::RefundLine {
                    platform_line_id: line.platform_line_id.clone(),
                    sku: line.sku.clone(),
                    quantity: decimal(&field("quantity"), &line.quantity)?,
                    amount: decimal(&field("amount"), &line.amount)?,
                })
            })
            .collect::<Result<_, ConvertError>>()?,
        shipping: decimal(&format!("{at}.shipping"), &refund.shipping)?,
        restock: refund.restock,
    })
}

pub(crate) fn payment_methods(methods: Vec<types::PaymentMethod>) -> Vec<domain::PaymentMethod> {
    methods.iter().map(payment_method).collect()
}

pub(crate) fn registered_webhooks(
    registered: &[model::RegisteredWebhook],
) -> Vec<webhooks::RegisteredWebhook> {
    registered
        .iter()
        .map(|webhook| webhooks::RegisteredWebhook {
            id: webhook.id.clone(),
            topic: webhook.topic.clone(),
        })
        .collect()
}

pub(crate) fn webhook_setup(setup: webhooks::WebhookSetup) -> model::WebhookSetup {
    match setup {
        webhooks::WebhookSetup::Registered(registered) => model::WebhookSetup::Registered(
            registered
                .into_iter()
                .map(|webhook| model::RegisteredWebhook {
                    id: webhook.id,
                    topic: webhook.topic,
                })
                .collect(),
        ),
        webhooks::WebhookSetup::Manual(instructions) => model::WebhookSetup::Manual(instructions),
    }
}

pub(crate) fn connection_info(info: connection::ConnectionInfo) -> model::ConnectionInfo {
    model::ConnectionInfo {
        account: info.account,
        warnings: info.warnings,
    }
}

pub(crate) fn status_change(change: model::StatusChange) -> status_changes::StatusChange {
    match change {
        model::StatusChange::Cancelled => status_changes::StatusChange::Cancelled,
        model::StatusChange::Completed => status_changes::StatusChange::Completed,
        model::StatusChange::Paid => status_changes::StatusChange::Paid,
    }
}

pub(crate) fn status_changes(
    changes: Vec<status_changes::StatusChange>,
) -> Vec<model::StatusChange> {
    changes
        .into_iter()
        .map(|change| match change {
            status_changes::StatusChange::Cancelled => model::StatusChange::Cancelled,
            status_changes::StatusChange::Completed => model::StatusChange::Completed,
            status_changes::StatusChange::Paid => model::StatusChange::Paid,
        })
        .collect()
}

pub(crate) fn pickup_query(query: &model::PickupQuery) -> pickup_points::PickupQuery {
    pickup_points::PickupQuery {
        country: query.country.clone(),
        postal_code: query.postal_code.clone(),
        text: query.text.clone(),
        limit: query.limit,
    }
}

pub(crate) fn pickup_locations(
    locations: Vec<pickup_points::PickupLocation>,
) -> Vec<model::PickupLocation> {
    locations
        .into_iter()
        .map(|location| model::PickupLocation {
            address: address(&location.address),
            id: location.id,
            name: location.name,
            kind: location.kind,
            latitude: location.latitude,
            longitude: location.longitude,
            opening_hours: location.opening_hours,
        })
        .collect()
}

pub(crate) fn carrier_services(list: Vec<services::Service>) -> Vec<model::CarrierService> {
    list.into_iter()
        .map(|service| model::CarrierService {
            code: service.code,
            name: service.name,
            description: service.description,
        })
        .collect()
}

pub(crate) fn page(page: orders::OrderPage) -> model::OrderPage {
    model::OrderPage {
        orders: page
            .orders
            .iter()
            .map(|listed| model::PageOrder {
                id: listed.id.clone(),
                modified_at: time("modified_at", listed.modified_at)
                    .map(super::rfc3339_text)
                    .unwrap_or_else(|_| listed.modified_at.seconds.to_string()),
                order: order(listed),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }
}

pub(crate) fn webhook_request(request: &model::WebhookRequest) -> webhooks::WebhookRequest {
    webhooks::WebhookRequest {
        method: request.method.clone(),
        headers: request.headers.clone(),
        query: request.query.clone(),
        body: request.body.clone(),
    }
}

pub(crate) fn verified(verified: webhooks::VerifiedWebhook) -> model::VerifiedWebhook {
    use webhooks::WebhookEvent as W;
    model::VerifiedWebhook {
        delivery_id: verified.delivery_id,
        topic: verified.topic,
        event: match verified.event {
            W::Ping(reply) => model::WebhookEvent::Ping(reply),
            W::OrderChanged(hint) => model::WebhookEvent::OrderChanged(model::OrderHint {
                order: hint
                    .order
                    .as_ref()
                    .map(|hinted| order(hinted).map(Box::new)),
                id: hint.id,
            }),
            W::OrderDeleted(id) => model::WebhookEvent::OrderDeleted(id),
            W::Ignored(reason) => model::WebhookEvent::Ignored(reason),
        },
    }
}

/// Stock levels by the platform's opaque key. A link made by hand without a key names
/// the variant (else the product), which is what connectors whose keys are ids take.
pub(crate) fn stock_levels(levels: &[model::StockLevel]) -> Vec<inventory::StockLevel> {
    levels
        .iter()
        .map(|level| inventory::StockLevel {
            key: level
                .target
                .stock_key
                .clone()
                .or_else(|| level.target.variant_id.clone())
                .unwrap_or_else(|| level.target.product_id.clone()),
            sku: level.target.sku.clone(),
            quantity: decimal_text(level.quantity),
        })
        .collect()
}

pub(crate) fn catalog(page: catalog::ProductPage) -> model::CatalogPage {
    let mut entries = Vec::new();
    for product in page.products {
        let several = product.variants.len() > 1;
        for variant in product.variants {
            let name = match (&variant.name, several) {
                (Some(variant_name), true) => format!("{} — {variant_name}", product.name),
                _ => product.name.clone(),
            };
            entries.push(model::CatalogEntry {
                product_id: product.id.clone(),
                variant_id: variant.variant_id,
                stock_key: Some(variant.stock_key),
                sku: variant.sku,
                name,
                price: variant.price.and_then(|price| price.trim().parse().ok()),
                stock: variant.stock.and_then(|stock| stock.trim().parse().ok()),
                manages_stock: variant.manages_stock,
            });
        }
    }
    model::CatalogPage {
        entries,
        next_cursor: page.next_cursor,
    }
}

pub(crate) fn fulfillment(shipped: &model::Fulfillment) -> fulfillment::Shipment {
    fulfillment::Shipment {
        lines: shipped
            .lines
            .iter()
            .map(|(line, quantity)| fulfillment::ShippedLine {
                platform_line_id: line.clone(),
                quantity: decimal_text(*quantity),
            })
            .collect(),
        carrier: shipped.carrier.clone(),
        parcels: shipped
            .parcels
            .iter()
            .map(|(number, url)| fulfillment::Parcel {
                tracking_number: number.clone(),
                tracking_url: url.clone(),
            })
            .collect(),
        notify_customer: shipped.notify_customer,
    }
}

pub(crate) fn carrier_info(
    name: &str,
    limits: Option<shipments::ShippingLimits>,
    formats: Vec<labels::LabelFormat>,
    pickup_points: bool,
) -> model::CarrierInfo {
    let (max_batch, cod_currencies) = limits
        .map(|limits| (limits.max_batch.max(1), limits.cod_currencies))
        .unwrap_or((1, Vec::new()));
    model::CarrierInfo {
        carrier: name.to_owned(),
        label_formats: formats.into_iter().map(|f| f.carrier_name).collect(),
        cod_currencies,
        pickup_points,
        max_batch,
    }
}

/// The paper a 0.2 connector prints on, from what the user asked for: a paper size
/// (`A4`, `A6`, `100x150`) or one of the carrier's own format names.
pub(crate) fn paper_size(
    asked: Option<&str>,
    formats: &[labels::LabelFormat],
) -> carrier_types::PaperSize {
    use carrier_types::PaperSize as P;
    let Some(asked) = asked.map(str::trim) else {
        return formats.first().map(|f| f.size).unwrap_or(P::A4);
    };
    if let Some(format) = formats
        .iter()
        .find(|f| f.carrier_name.eq_ignore_ascii_case(asked))
    {
        return format.size;
    }
    match asked.to_ascii_lowercase().as_str() {
        "a5" => P::A5,
        "a6" => P::A6,
        "100x150" | "10x15" | "4x6" => P::Label100x150,
        "100x100" | "10x10" => P::Label100x100,
        _ => P::A4,
    }
}

pub(crate) fn shipment_request(request: &model::ShipmentRequest) -> carrier_types::ShipmentRequest {
    carrier_types::ShipmentRequest {
        reference: request.reference.clone(),
        sender: address_out(&request.sender),
        recipient: address_out(&request.recipient),
        parcels: request
            .parcels
            .iter()
            .map(|parcel| carrier_types::Parcel {
                weight_grams: parcel.weight_grams,
                length_mm: parcel.length_mm,
                width_mm: parcel.width_mm,
                height_mm: parcel.height_mm,
            })
            .collect(),
        cash_on_delivery: request.cash_on_delivery.as_ref().map(|cod| {
            carrier_types::CashOnDelivery {
                amount: decimal_text(cod.amount),
                currency: cod.currency.clone(),
                reference: cod.reference.clone(),
            }
        }),
        pickup_point: request
            .pickup_point
            .as_ref()
            .map(|point| types::PickupPoint {
                carrier: point.carrier.clone(),
                id: point.id.clone(),
                name: point.name.clone(),
                address: None,
            }),
        services: request.services.clone(),
        value: request.value.map(decimal_text),
        currency: request.currency.clone(),
        note: request.note.clone(),
    }
}

pub(crate) fn created(created: carrier_types::CreatedShipment) -> model::CreatedShipment {
    model::CreatedShipment {
        reference: created.reference,
        shipment_id: created.shipment_id,
        tracking_numbers: created.tracking_numbers,
        label: created.label.map(label),
    }
}

pub(crate) fn label(label: carrier_types::Label) -> model::Label {
    model::Label {
        content_type: label.content_type,
        data: label.data,
    }
}

pub(crate) fn handover_shipment(shipment: &model::HandoverShipment) -> handover::HandoverShipment {
    handover::HandoverShipment {
        shipment_id: shipment.shipment_id.clone(),
        tracking_numbers: shipment.tracking_numbers.clone(),
        request: shipment_request(&shipment.request),
        created_at: timestamp(shipment.created_at),
    }
}

pub(crate) fn handover_receipt(receipt: handover::HandoverReceipt) -> model::HandoverReceipt {
    model::HandoverReceipt {
        reference: receipt.reference,
        document: receipt.document.map(label),
    }
}

pub(crate) fn tracking_result(
    result: tracking::TrackingResult,
) -> Result<model::TrackingResult, model::ConnectorError> {
    let events = result
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            Ok(model::TrackingEvent {
                at: time(&format!("events[{index}].at"), event.at)?,
                status: shipment_status(event.status),
                raw_code: event.raw_code,
                raw_text: event.raw_text,
                location: event.location,
            })
        })
        .collect::<Result<_, ConvertError>>()
        .map_err(|error| model::ConnectorError::new(ErrorKind::Other, error.to_string()))?;
    Ok(model::TrackingResult {
        tracking_number: result.tracking_number,
        events,
    })
}

// The host imports of 0.2. HTTP goes through the same egress as 0.1's: the records are
// the same field for field.

super::http_shapes!(http);

impl http::Host for CallState {
    async fn send(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        http_outcome(self.egress.send_checked(http_request(request)).await)
    }

    async fn send_many(
        &mut self,
        requests: Vec<http::Request>,
    ) -> Vec<Result<http::Response, http::HttpError>> {
        self.egress
            .send_concurrently(requests.into_iter().map(http_request).collect())
            .await
            .into_iter()
            .map(http_outcome)
            .collect()
    }
}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) {
        use v0_1_0::log::Level as L;
        let level = match level {
            log::Level::Trace => L::Trace,
            log::Level::Debug => L::Debug,
            log::Level::Info => L::Info,
            log::Level::Warn => L::Warn,
            log::Level::Error => L::Error,
        };
        v0_1_0::log::Host::log(self, level, message).await;
    }
}

impl state::Host for CallState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, state::StateError> {
        self.state.get(&key).await.map_err(state_error)
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        sealed: bool,
    ) -> Result<(), state::StateError> {
        self.state
            .set(&key, value, sealed)
            .await
            .map_err(state_error)
    }

    async fn delete(&mut self, key: String) -> Result<(), state::StateError> {
        self.state.delete(&key).await.map_err(state_error)
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        sealed: bool,
    ) -> Result<bool, state::StateError> {
        self.state
            .compare_and_swap(&key, expected, value, sealed)
            .await
            .map_err(state_error)
    }
}

fn state_error(error: tovor_runtime_state::StateError) -> state::StateError {
    use tovor_runtime_state::StateError as E;
    match error {
        E::ValueTooLarge(limit) => state::StateError::ValueTooLarge(limit),
        E::QuotaExceeded(limit) => state::StateError::QuotaExceeded(limit),
        E::InvalidKey(reason) => state::StateError::InvalidKey(reason),
        E::Unavailable(reason) => state::StateError::Unavailable(reason),
    }
}

/// The shared type interfaces have no functions; the linker still wants them.
impl types::Host for CallState {}
impl carrier_types::Host for CallState {}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    #[test]
    fn timestamps_round_trip_exactly() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_764_325_554_123_456_789).unwrap();
        assert_eq!(time("at", timestamp(at)).unwrap(), at);
        let before_1970 = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000_000).unwrap();
        let wit = timestamp(before_1970);
        assert_eq!((wit.seconds, wit.nanoseconds), (-2, 500_000_000));
        assert_eq!(time("at", wit).unwrap(), before_1970);
    }

    #[test]
    fn stock_goes_by_the_opaque_key_else_the_variant_else_the_product() {
        let level = |stock_key: Option<&str>, variant: Option<&str>| model::StockLevel {
            target: model::StockTarget {
                sku: None,
                product_id: "p".into(),
                variant_id: variant.map(str::to_owned),
                stock_key: stock_key.map(str::to_owned),
            },
            quantity: Decimal::new(25, 1),
        };
        let levels = stock_levels(&[
            level(Some("inv-1"), Some("v")),
            level(None, Some("v")),
            level(None, None),
        ]);
        let keys: Vec<&str> = levels.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["inv-1", "v", "p"]);
        assert_eq!(levels[0].quantity, "2.5");
    }

    #[test]
    fn paper_sizes_come_from_the_carrier_names_or_the_size() {
        let formats = vec![labels::LabelFormat {
            size: carrier_types::PaperSize::A6,
            carrier_name: "A6_ONE".into(),
            content_type: "application/pdf".into(),
        }];
        assert_eq!(paper_size(None, &formats), carrier_types::PaperSize::A6);
        assert_eq!(
            paper_size(Some("a6_one"), &formats),
            carrier_types::PaperSize::A6
        );
        assert_eq!(
            paper_size(Some("100x150"), &formats),
            carrier_types::PaperSize::Label100x150
        );
    }
}
