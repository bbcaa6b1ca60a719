//! The WooCommerce shop connector, over the WooCommerce REST API v3
//! (`{site}/wp-json/wc/v3`), on contract 0.2.
//!
//! | WooCommerce | capability: operation |
//! |---|---|
//! | `GET /orders?modified_after=..&dates_are_gmt=true&orderby=date&order=asc&per_page=100&page=N&status=any`, and `GET /orders/{id}/refunds` for orders that list refunds | `orders`: `list_orders` |
//! | `GET /orders/{id}` (and its refunds) | `orders`: `get_order` |
//! | signed `POST` to our webhook URL (`X-WC-Webhook-Signature`), or the unsigned ping | `webhooks`: `verify_webhook` |
//! | `GET /webhooks`, `POST /webhooks`, `PUT /webhooks/{id}` | `webhooks`: `register_webhooks` |
//! | `DELETE /webhooks/{id}?force=true` | `webhooks`: `unregister_webhooks` |
//! | `POST /products/batch`, `POST /products/{id}/variations/batch`; for bare ids `GET /products?include=..` and `GET /products/{id}` to tell variations from products | `inventory`: `push_stock` |
//! | `GET /products`, `GET /products/{id}/variations` | `catalog`: `list_products` |
//! | `GET`/`POST /orders/{id}/notes`, `PUT /orders/{id}` status `completed`; no per-line shipments (core has no API for them) | `fulfillment`: `fulfill` |
//! | `PUT /orders/{id}` with `status` or `set_paid` | `status-changes` |
//! | `GET /orders/{id}`, `GET /orders/{id}/refunds` | `refunds`: `list_refunds` |
//! | `GET /payment_gateways` | `payment-methods` |
//! | `GET /orders?per_page=1`, `GET /wp-json/` (the site's name) | `connection` |
//!
//! Stock keys are what the catalog hands out: a product's id (`"55"`) for stock kept on
//! the product, `product:variation` (`"55:57"`) for a variation's own stock, which
//! WooCommerce sets only through its parent. An item linked without the catalog comes
//! with its variant id alone (the contract's rule), so a bare id is looked up first.
//!
//! The requests live in [`api`] (signed with `tovor_sdk::oauth1` over plain HTTP), the JSON and its mapping in
//! [`woo`].

mod api;
mod catalog;
mod connection;
mod fulfil;
mod stock;
mod webhooks;
pub mod woo;

use serde_json::json;
use tovor_sdk::Config;
use tovor_sdk::http::percent_encode;
use tovor_sdk::shop::{
    Catalog, Connection, ConnectionInfo, Fulfillment, Inventory, OrderPage, Orders, PaymentMethods,
    ProductPage, Refunds, RegisteredWebhook, Shipment, StatusChange, StatusChanges, StockUpdate,
    VerifiedWebhook, WebhookRequest, WebhookSetup, Webhooks,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, ErrorKind, Order, PaymentMethod, Refund};

use api::{Api, next_page, page_cursor};

pub use woo::map_order_json;

/// The connector. It keeps nothing between calls: each gets the shop's [`Config`].
pub struct WooCommerce;

impl Orders for WooCommerce {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let api = Api::new(config)?;
        let page = page_cursor(cursor)?;
        let response = api.get(
            "/orders",
            &orders_query(&modified_after(changed_since), page),
        )?;
        let orders: Vec<woo::WooOrder> = response.json()?;
        let refunds = refunds_of(&api, &orders)?;
        Ok(OrderPage {
            next_cursor: next_page(&response, page),
            orders: orders
                .into_iter()
                .zip(refunds)
                .map(|(order, refunds)| woo::map_order_with_refunds(order, refunds.as_deref()))
                .collect::<Result<_, _>>()?,
        })
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let api = Api::new(config)?;
        let order = woo::parse_order(&api.get(&order_path(&id), &[])?.body)?;
        let refunds = refunds_of(&api, std::slice::from_ref(&order))?
            .pop()
            .flatten();
        woo::map_order_with_refunds(order, refunds.as_deref())
    }
}

impl Webhooks for WooCommerce {
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        webhooks::verify(config.require("webhook_secret")?, &request)
    }

    fn register_webhooks(config: &Config, url: String) -> Result<WebhookSetup, ConnectorError> {
        let secret = config.require("webhook_secret")?;
        let registered = webhooks::register(&Api::new(config)?, secret, &url)?;
        Ok(WebhookSetup::Registered(registered))
    }

    fn unregister_webhooks(
        config: &Config,
        url: String,
        registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        webhooks::unregister(&Api::new(config)?, &url, &registered)
    }
}

impl Inventory for WooCommerce {
    fn max_batch() -> u32 {
        stock::BATCH_LIMIT as u32
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockUpdate>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        stock::push(&Api::new(config)?, &levels)
    }
}

impl Catalog for WooCommerce {
    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        catalog::list_products(&Api::new(config)?, page_cursor(cursor)?)
    }
}

impl Fulfillment for WooCommerce {
    fn fulfill(
        config: &Config,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        fulfil::fulfill(&Api::new(config)?, &order_id, &shipment)
    }
}

impl StatusChanges for WooCommerce {
    fn supported_changes() -> Vec<StatusChange> {
        vec![
            StatusChange::Cancelled,
            StatusChange::Completed,
            StatusChange::Paid,
        ]
    }

    fn set_order_status(
        config: &Config,
        order_id: String,
        change: StatusChange,
    ) -> Result<(), ConnectorError> {
        let api = Api::new(config)?;
        let path = order_path(&order_id);
        let body = match change {
            StatusChange::Cancelled => json!({ "status": "cancelled" }),
            StatusChange::Completed => json!({ "status": "completed" }),
            StatusChange::Paid => {
                let order: woo::WooOrder = api.get(&path, &[])?.json()?;
                match paid_update(&order)? {
                    Some(body) => body,
                    None => return Ok(()),
                }
            }
        };
        let updated: woo::WooOrder = api.send("PUT", &path, &[], Some(&body))?.json()?;
        check_status_change(&order_id, change, &updated)
    }
}

impl Refunds for WooCommerce {
    fn list_refunds(config: &Config, order_id: String) -> Result<Vec<Refund>, ConnectorError> {
        let api = Api::new(config)?;
        let path = order_path(&order_id);
        let refunds_path = format!("{path}/refunds");
        // The order too: its lines say which refunds put items back to stock.
        let mut answers = api
            .send_all(vec![
                api.request("GET", &path, &[], None),
                api.request("GET", &refunds_path, &api::paged(&[], 1), None),
            ])
            .into_iter();
        let (Some(order), Some(first_refunds)) = (answers.next(), answers.next()) else {
            return Err(ConnectorError::other(
                "the host answered fewer requests than sent",
            ));
        };
        let order = woo::parse_order(&order?.body)?;
        let details: Vec<woo::WooRefundDetail> =
            api.rest_of(&first_refunds?, &refunds_path, &[])?;
        woo::map_refunds(&order, &details)
    }
}

impl PaymentMethods for WooCommerce {
    fn list_payment_methods(config: &Config) -> Result<Vec<PaymentMethod>, ConnectorError> {
        let gateways: Vec<woo::WooGateway> =
            Api::new(config)?.get("/payment_gateways", &[])?.json()?;
        // Disabled gateways cannot be chosen at checkout; orders paid with one before it
        // was disabled still carry its code and title.
        Ok(gateways
            .into_iter()
            .filter(woo::WooGateway::is_enabled)
            .map(|gateway| PaymentMethod {
                title: if gateway.title.trim().is_empty() {
                    gateway.method_title
                } else {
                    gateway.title
                },
                code: gateway.id,
            })
            .collect())
    }
}

impl Connection for WooCommerce {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        connection::check(&Api::new(config)?)
    }
}

// The component's exports: exactly these capabilities.
tovor_sdk::export_shop!(
    WooCommerce: orders, webhooks, inventory, catalog, fulfillment, status_changes, refunds,
    payment_methods, connection
);

/// `/orders/{id}`.
fn order_path(id: &str) -> String {
    format!("/orders/{}", percent_encode(id.trim()))
}

/// The refunds of each order that lists any (`None` for the others), fetched at once.
/// An order gone meanwhile keeps its refunds as it lists them.
fn refunds_of(
    api: &Api,
    orders: &[woo::WooOrder],
) -> Result<Vec<Option<Vec<woo::WooRefundDetail>>>, ConnectorError> {
    let wanted: Vec<usize> = orders
        .iter()
        .enumerate()
        .filter(|(_, order)| !order.refunds.is_empty())
        .map(|(index, _)| index)
        .collect();
    let path = |index: usize| format!("/orders/{}/refunds", orders[index].id);
    let requests = wanted
        .iter()
        .map(|index| api.request("GET", &path(*index), &api::paged(&[], 1), None))
        .collect();
    let mut refunds: Vec<Option<Vec<woo::WooRefundDetail>>> = orders.iter().map(|_| None).collect();
    for (index, answer) in wanted.iter().zip(api.send_all(requests)) {
        match answer {
            Ok(first) => refunds[*index] = Some(api.rest_of(&first, &path(*index), &[])?),
            Err(error) if error.is(ErrorKind::NotFound) => {}
            Err(error) => {
                return Err(error.context(format!("refunds of order {}", orders[*index].id)));
            }
        }
    }
    Ok(refunds)
}

/// WooCommerce's `modified_after` for "changed at or after `changed_since`": a GMT time
/// without zone (read as GMT because of `dates_are_gmt=true`). WordPress compares
/// `after` exclusively and to the second, so we ask for one second earlier; the host
/// de-duplicates what it sees twice.
fn modified_after(changed_since: OffsetDateTime) -> String {
    let at = changed_since.replace_nanosecond(0).unwrap_or(changed_since)
        - std::time::Duration::from_secs(1);
    // `2025-03-02T09:14:59Z` (whole seconds, UTC) without its zone.
    tovor_sdk::time::format_utc(at)
        .trim_end_matches('Z')
        .to_owned()
}

fn orders_query(modified_after: &str, page: usize) -> Vec<(&'static str, String)> {
    vec![
        ("modified_after", modified_after.to_owned()),
        ("dates_are_gmt", "true".into()),
        // Ordering by creation keeps pages stable while orders change during a sync:
        // an order that newly matches shifts later pages (a duplicate, never a gap).
        ("orderby", "date".into()),
        ("order", "asc".into()),
        ("per_page", api::PAGE_SIZE.to_string()),
        ("page", page.to_string()),
        ("status", "any".into()),
    ]
}

/// The update that marks `order` paid, or `None` when it already is. `set_paid` runs
/// core's `payment_complete()`, which acts only on an order awaiting payment
/// (`pending`, `failed`); an `on-hold` order (a bank transfer being waited for) is paid
/// by moving it to `processing`, which sets `date_paid` as core does for any paid
/// status.
fn paid_update(order: &woo::WooOrder) -> Result<Option<serde_json::Value>, ConnectorError> {
    let paid = order
        .date_paid_gmt
        .as_deref()
        .is_some_and(|paid| !paid.trim().is_empty());
    match order.status.as_str() {
        _ if paid => Ok(None),
        // Core sets `date_paid` on reaching either; one without it was paid outside
        // WooCommerce and no API call can add the date.
        "processing" | "completed" => Ok(None),
        "on-hold" => Ok(Some(json!({ "status": "processing", "set_paid": true }))),
        "cancelled" | "refunded" | "trash" => Err(ConnectorError::conflict(format!(
            "order {} is {}: WooCommerce does not take payment for it",
            order.id, order.status
        ))),
        _ => Ok(Some(json!({ "set_paid": true }))),
    }
}

/// Checks that WooCommerce applied the change: a plugin or a status rule can refuse it
/// silently (an order of 0.00 is never "paid").
fn check_status_change(
    order_id: &str,
    change: StatusChange,
    updated: &woo::WooOrder,
) -> Result<(), ConnectorError> {
    let applied = match change {
        StatusChange::Cancelled => updated.status == "cancelled",
        StatusChange::Completed => updated.status == "completed",
        StatusChange::Paid => updated
            .date_paid_gmt
            .as_deref()
            .is_some_and(|paid| !paid.trim().is_empty()),
    };
    if applied {
        Ok(())
    } else {
        Err(ConnectorError::conflict(format!(
            "WooCommerce kept order {order_id} {} instead of applying {change:?}",
            updated.status
        )))
    }
}

#[cfg(test)]
mod tests;
