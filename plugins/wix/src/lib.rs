//! A shop connector for Wix eCommerce, through the Wix REST APIs with an API key, on
//! contract 0.2.
//!
//! | Wix | capability: operation |
//! |---|---|
//! | `POST /ecom/v1/orders/search` (`updatedDate` ≥, ascending, cursor paging) + `GET /ecom/v1/payments/orders/{id}` per order | `orders`: `list_orders` |
//! | `GET /ecom/v1/orders/{id}` + `GET /ecom/v1/payments/orders/{id}` | `orders`: `get_order` |
//! | the body is an RS256 JWT, verified with the app's public key | `webhooks`: `verify_webhook` |
//! | none: webhooks are added in the app dashboard | `webhooks`: `register_webhooks` answers `manual` |
//! | `GET /stores/v3/provision/version`, then V1 `PATCH /stores/v2/inventoryItems/product/{id}` or V3 `POST /stores/v3/bulk/inventory-items/update` | `inventory`: `push_stock` |
//! | V1 `POST /stores/v1/products/query`, V3 `POST /stores/v3/products/query` | `catalog`: `list_products` |
//! | `POST /ecom/v1/fulfillments/orders/{id}/create-fulfillment` | `fulfillment`: `fulfill` |
//! | `GET /ecom/v1/payments/orders/{id}` | `refunds`: `list_refunds` |
//! | `POST /ecom/v1/orders/search` (limit 1), the catalog version | `connection` |
//!
//! Every request carries the API key in `Authorization` and the site in `wix-site-id`
//! ([`api`]). The mapping of orders is in [`mapping`], webhook verification in
//! [`webhooks`], stock in [`stock`].

pub mod api;
pub mod catalog;
pub mod connection;
pub mod fulfillment;
pub mod mapping;
pub mod stock;
pub mod webhooks;

use serde_json::{Value, json};
use tovor_sdk::Config;
use tovor_sdk::shop::{
    Catalog, Connection, ConnectionInfo, Fulfillment, Inventory, OrderPage, Orders, ProductPage,
    Refunds, RegisteredWebhook, Shipment, StockUpdate, VerifiedWebhook, WebhookRequest,
    WebhookSetup, Webhooks,
};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{ConnectorError, ErrorKind, Order, Refund};

use api::{Api, segment};

/// Wix's largest page of orders.
pub const PAGE_SIZE: u32 = 100;

/// The connector; everything it keeps between calls is in connector state.
pub struct Wix;

/// The request for an order's transactions.
fn transactions_request(api: &Api, order_id: &str) -> tovor_sdk::http::Request {
    api.get(&format!("ecom/v1/payments/orders/{}", segment(order_id)))
}

/// `orderTransactions` of an answer; a 404 (no transactions recorded) is none.
fn transactions_of(
    result: Result<tovor_sdk::http::Response, ConnectorError>,
) -> Result<Option<Value>, ConnectorError> {
    match result {
        Ok(response) => {
            let value: Value = response.json()?;
            Ok(Some(value["orderTransactions"].clone()))
        }
        Err(error) if error.is(ErrorKind::NotFound) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The search for orders changed at or after `since`, oldest change first. With a
/// cursor Wix takes nothing else: the filter and sort travel inside it.
pub fn search_body(since: OffsetDateTime, cursor: Option<&str>) -> Value {
    match cursor {
        Some(cursor) => json!({"search": {"cursorPaging": {"limit": PAGE_SIZE, "cursor": cursor}}}),
        None => json!({"search": {
            // `$gte` in a condition of its own under `$and`: Wix refuses two operators
            // in one field object.
            "filter": {"$and": [
                {"updatedDate": {"$gte": time::format_utc(since)}},
                {"status": {"$ne": "INITIALIZED"}},
            ]},
            "sort": [{"fieldName": "updatedDate", "order": "ASC"}],
            "cursorPaging": {"limit": PAGE_SIZE},
        }}),
    }
}

impl Orders for Wix {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let api = Api::new(config)?;
        let body = search_body(changed_since, cursor.as_deref());
        let page: Value = api.send(api.post("ecom/v1/orders/search", &body))?.json()?;
        let orders: Vec<Value> = page["orders"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|order| order["status"].as_str() != Some("INITIALIZED"))
            .cloned()
            .collect();
        let requests = orders
            .iter()
            .map(|order| transactions_request(&api, order["id"].as_str().unwrap_or_default()))
            .collect();
        let transactions = api.send_many(requests);
        let mut mapped = Vec::with_capacity(orders.len());
        for (order, transactions) in orders.iter().zip(transactions) {
            let transactions = transactions_of(transactions)?;
            mapped.push(mapping::map_order(order, transactions.as_ref())?);
        }
        let metadata = &page["metadata"];
        let next = mapping::text(&metadata["cursors"]["next"]);
        let has_next = metadata["hasNext"].as_bool().unwrap_or(next.is_some());
        Ok(OrderPage {
            orders: mapped,
            next_cursor: if has_next { next } else { None },
        })
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let api = Api::new(config)?;
        let mut answers = api
            .send_many(vec![
                api.get(&format!("ecom/v1/orders/{}", segment(&id))),
                transactions_request(&api, &id),
            ])
            .into_iter();
        let order: Value = answers
            .next()
            .ok_or_else(|| ConnectorError::other("no answer"))??
            .json()?;
        let transactions = transactions_of(
            answers
                .next()
                .ok_or_else(|| ConnectorError::other("no answer"))?,
        )?;
        mapping::map_order(&order["order"], transactions.as_ref())
    }
}

impl Webhooks for Wix {
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        webhooks::verify(config, &request)
    }

    fn register_webhooks(_config: &Config, url: String) -> Result<WebhookSetup, ConnectorError> {
        Ok(webhooks::register(&url))
    }

    fn unregister_webhooks(
        _config: &Config,
        _url: String,
        registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        webhooks::unregister(&registered);
        Ok(())
    }
}

impl Inventory for Wix {
    fn max_batch() -> u32 {
        stock::MAX_BATCH
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockUpdate>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        stock::push(config, &levels)
    }
}

impl Catalog for Wix {
    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        catalog::list(config, cursor)
    }
}

impl Fulfillment for Wix {
    fn fulfill(
        config: &Config,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        fulfillment::fulfill(config, &order_id, &shipment)
    }
}

impl Refunds for Wix {
    fn list_refunds(config: &Config, order_id: String) -> Result<Vec<Refund>, ConnectorError> {
        Ok(Self::get_order(config, order_id)?.refunds)
    }
}

impl Connection for Wix {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        connection::check(config)
    }
}

tovor_sdk::export_shop!(
    Wix: orders,
    webhooks,
    inventory,
    catalog,
    fulfillment,
    refunds,
    connection
);

#[cfg(test)]
mod tests;
