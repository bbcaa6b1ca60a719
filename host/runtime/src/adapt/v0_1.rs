//! Contract 0.1: one `shop-connector` or `carrier-connector` interface per component,
//! decimals and times as text, what a connector can do declared in its manifest.

use std::time::Duration;

use tovor_domain::order as domain;

use super::{decimal, decimal_text, optional_decimal, rfc3339, rfc3339_text};
use crate::bindings::v0_1_0::{carrier_api, http, shop_api, types};
use crate::model::{self, Capability, ConvertError, ErrorKind};
use crate::state::CallState;

super::same_shape!(types, carrier_api);
super::http_shapes!(http);

impl http::Host for CallState {
    async fn send(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        http_outcome(self.egress.send_checked(http_request(request)).await)
    }
}

/// Stock levels per `push-stock` call: 0.1 connectors do not say, and took this many.
pub(crate) const STOCK_BATCH: usize = 50;
/// Shipments per `create-shipments` call for 0.1 carriers.
pub(crate) const SHIPMENT_BATCH: u32 = 10;

/// What a 0.1 connector can do: the manifest's capability words, plus what every 0.1
/// connector of the kind exports.
pub(crate) fn capabilities(manifest: &tovor_manifest::Manifest) -> model::Capabilities {
    let declared = |word: &str| manifest.capabilities().iter().any(|c| c == word);
    let mut capabilities = model::Capabilities::new();
    match manifest.plugin.kind {
        tovor_manifest::Kind::Shop => {
            capabilities.insert(Capability::Orders);
            for (word, capability) in [
                ("webhooks", Capability::Webhooks),
                ("stock-push", Capability::Inventory),
                ("product-list", Capability::Catalog),
                ("mark-shipped", Capability::Fulfillment),
            ] {
                if declared(word) {
                    capabilities.insert(capability);
                }
            }
        }
        tovor_manifest::Kind::Carrier => {
            capabilities.extend([
                Capability::Shipments,
                Capability::Labels,
                Capability::Tracking,
            ]);
            for (word, capability) in [
                ("cancel", Capability::Cancellation),
                ("lookup-by-reference", Capability::Lookup),
            ] {
                if declared(word) {
                    capabilities.insert(capability);
                }
            }
        }
    }
    capabilities
}

pub(crate) fn error(error: types::ConnectorError) -> model::ConnectorError {
    use types::ConnectorError as E;
    match error {
        E::Auth(message) => model::ConnectorError::new(ErrorKind::Auth, message),
        E::NotFound(message) => model::ConnectorError::new(ErrorKind::NotFound, message),
        E::RateLimited(limit) => {
            let error = model::ConnectorError::new(ErrorKind::RateLimited, limit.message);
            match limit.retry_after_ms {
                Some(ms) => error.with_retry_after(Duration::from_millis(ms)),
                None => error,
            }
        }
        E::InvalidInput(problem) => {
            let error = model::ConnectorError::new(ErrorKind::InvalidInput, problem.message);
            match problem.field {
                Some(field) => error.with_field(field),
                None => error,
            }
        }
        E::BadSignature(message) => model::ConnectorError::new(ErrorKind::BadSignature, message),
        E::Transient(message) => model::ConnectorError::new(ErrorKind::Transient, message),
        E::Unsupported(message) => model::ConnectorError::new(ErrorKind::Unsupported, message),
        E::Other(message) => model::ConnectorError::new(ErrorKind::Other, message),
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
        created_at: rfc3339("created_at", &order.created_at)?,
        modified_at: rfc3339("modified_at", &order.modified_at)?,
        paid_at: order
            .paid_at
            .as_deref()
            .map(|at| rfc3339("paid_at", at))
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
                        .map(|at| rfc3339(&format!("refunds[{index}].created_at"), at))
                        .transpose()?,
                    // 0.1 refunds are amounts only.
                    lines: Vec::new(),
                    shipping: rust_decimal::Decimal::ZERO,
                    restock: false,
                })
            })
            .collect::<Result<_, ConvertError>>()?,
        customer_note: order.customer_note.clone(),
        pickup_point: order.pickup_point.as_ref().map(pickup_point),
    })
}

fn line_item(index: usize, line: &types::LineItem) -> Result<domain::LineItem, ConvertError> {
    let field = |name: &str| format!("lines[{index}].{name}");
    Ok(domain::LineItem {
        platform_line_id: line.platform_line_id.clone(),
        sku: line.sku.clone(),
        name: line.name.clone(),
        product_id: line.product_id.clone(),
        variation_id: line.variation_id.clone(),
        quantity: decimal(&field("quantity"), &line.quantity)?,
        // 0.1 has no edited quantities: what arrives is what counts.
        ordered_quantity: None,
        unit_price: decimal(&field("unit_price"), &line.unit_price)?,
        discount: decimal(&field("discount"), &line.discount)?,
        tax_rate: optional_decimal(&field("tax_rate"), line.tax_rate.as_deref())?,
        tax_amount: decimal(&field("tax_amount"), &line.tax_amount)?,
        total: decimal(&field("total"), &line.total)?,
    })
}

pub(crate) fn page(page: shop_api::OrderPage) -> model::OrderPage {
    model::OrderPage {
        orders: page
            .orders
            .iter()
            .map(|listed| model::PageOrder {
                id: listed.id.clone(),
                modified_at: listed.modified_at.clone(),
                order: order(listed),
            })
            .collect(),
        next_cursor: page.next_cursor,
    }
}

pub(crate) fn webhook_request(request: &model::WebhookRequest) -> shop_api::WebhookRequest {
    shop_api::WebhookRequest {
        method: request.method.clone(),
        headers: request.headers.clone(),
        query: request.query.clone(),
        body: request.body.clone(),
    }
}

pub(crate) fn verified(verified: shop_api::VerifiedWebhook) -> model::VerifiedWebhook {
    use shop_api::WebhookEvent as W;
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

/// Stock levels in 0.1's shape, one per level: a level 0.1 cannot carry (a fraction)
/// is its own error, the others go. A 0.1 stock key named the platform location, which
/// the host took from the account's `location_id` config field; 0.2 leaves keys to the
/// connector.
pub(crate) fn stock_levels(
    levels: &[model::StockLevel],
    config: &[(String, String)],
) -> Vec<Result<shop_api::StockLevel, model::ConnectorError>> {
    let location = config
        .iter()
        .find(|(name, _)| name == "location_id")
        .map(|(_, value)| value.clone());
    levels
        .iter()
        .map(|level| {
            let quantity = whole_quantity(level.quantity)?;
            let product_id = Some(level.target.product_id.clone()).filter(|id| !id.is_empty());
            Ok(shop_api::StockLevel {
                key: shop_api::StockKey {
                    sku: level.target.sku.clone(),
                    product_id,
                    variation_id: level.target.variant_id.clone(),
                    inventory_item_id: level.target.stock_key.clone(),
                    location_id: location.clone(),
                },
                quantity,
            })
        })
        .collect()
}

/// 0.1 stock levels are whole numbers: a fraction is refused, not rounded.
fn whole_quantity(quantity: rust_decimal::Decimal) -> Result<i64, model::ConnectorError> {
    use rust_decimal::prelude::ToPrimitive;
    quantity
        .normalize()
        .is_integer()
        .then(|| quantity.to_i64())
        .flatten()
        .ok_or_else(|| {
            model::ConnectorError::new(
                ErrorKind::InvalidInput,
                format!("a contract 0.1 connector takes whole stock levels, not {quantity}"),
            )
            .with_field("quantity")
        })
}

pub(crate) fn catalog(page: shop_api::ProductPage) -> model::CatalogPage {
    model::CatalogPage {
        entries: page
            .products
            .into_iter()
            .map(|product| model::CatalogEntry {
                product_id: product.key.product_id.unwrap_or_default(),
                // An unreadable price is as good as none: linking needs the ids, not it.
                variant_id: product.key.variation_id,
                stock_key: product.key.inventory_item_id,
                sku: product.key.sku,
                name: product.name,
                price: product.price.and_then(|price| price.trim().parse().ok()),
                stock: product.stock.map(rust_decimal::Decimal::from),
                manages_stock: product.manages_stock,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }
}

/// 0.1's `mark-shipped` takes one tracking number: the first parcel's.
pub(crate) fn tracking(fulfillment: &model::Fulfillment) -> types::Tracking {
    let (number, url) = fulfillment.parcels.first().cloned().unwrap_or_default();
    types::Tracking {
        carrier: fulfillment.carrier.clone(),
        number,
        url,
    }
}

pub(crate) fn carrier_info(info: carrier_api::CarrierInfo) -> model::CarrierInfo {
    use carrier_api::CarrierCapabilities as C;
    model::CarrierInfo {
        carrier: info.carrier,
        label_formats: info.label_formats,
        cod_currencies: if info.capabilities.contains(C::CASH_ON_DELIVERY) {
            info.cod_currencies
        } else {
            Vec::new()
        },
        pickup_points: info.capabilities.contains(C::PICKUP_POINTS),
        max_batch: SHIPMENT_BATCH,
    }
}

pub(crate) fn shipment_request(request: &model::ShipmentRequest) -> carrier_api::ShipmentRequest {
    carrier_api::ShipmentRequest {
        reference: request.reference.clone(),
        sender: address_out(&request.sender),
        recipient: address_out(&request.recipient),
        parcels: request
            .parcels
            .iter()
            .map(|parcel| carrier_api::Parcel {
                weight_grams: parcel.weight_grams,
                length_mm: parcel.length_mm,
                width_mm: parcel.width_mm,
                height_mm: parcel.height_mm,
            })
            .collect(),
        cash_on_delivery: request.cash_on_delivery.as_ref().map(|cod| {
            carrier_api::CashOnDelivery {
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
            }),
        services: request.services.clone(),
        value: request.value.map(decimal_text),
        currency: request.currency.clone(),
        note: request.note.clone(),
    }
}

pub(crate) fn created(created: carrier_api::CreatedShipment) -> model::CreatedShipment {
    model::CreatedShipment {
        reference: created.reference,
        shipment_id: created.shipment_id,
        tracking_numbers: created.tracking_numbers,
        label: created.label.map(label),
    }
}

pub(crate) fn label(label: carrier_api::Label) -> model::Label {
    model::Label {
        content_type: label.content_type,
        data: label.data,
    }
}

pub(crate) fn tracking_result(
    result: carrier_api::TrackingResult,
) -> Result<model::TrackingResult, model::ConnectorError> {
    let events = result
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            Ok(model::TrackingEvent {
                at: rfc3339(&format!("events[{index}].at"), &event.at)?,
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

/// A time as 0.1 connectors take it.
pub(crate) fn timestamp(at: time::OffsetDateTime) -> String {
    rfc3339_text(at)
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn wit_order() -> types::Order {
        types::Order {
            id: "1042".into(),
            number: "1042".into(),
            status: types::OrderStatus::Processing,
            status_raw: "paid".into(),
            payment_status: types::PaymentStatus::Paid,
            payment_method: Some(types::PaymentMethod {
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
            lines: vec![types::LineItem {
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
        assert_eq!(rfc3339_text(converted.modified_at), "2026-11-28T09:05:00Z");
    }

    #[test]
    fn a_bad_amount_names_its_field() {
        let mut bad_order = wit_order();
        bad_order.lines[0].quantity = "two".into();
        let error = order(&bad_order).unwrap_err();
        assert_eq!(error.field, "lines[0].quantity");
    }

    #[test]
    fn fractional_stock_is_refused_for_whole_number_connectors() {
        assert_eq!(whole_quantity(Decimal::new(30, 1)).unwrap(), 3);
        let error = whole_quantity(Decimal::new(25, 1)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput);
    }
}
