//! A shop connector for BigCommerce, through its REST API, on contract 0.2.
//!
//! | BigCommerce | capability: operation |
//! |---|---|
//! | `GET /v2/orders?min_date_modified=…&sort=date_modified:asc&page&limit` (204 when empty), `GET /v2/orders/{id}/products`, `/shipping_addresses`, `/coupons` | `orders`: `list_orders` |
//! | `GET /v2/orders/{id}` and its sub-resources | `orders`: `get_order` |
//! | Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`, HMAC-SHA256 with the app's client secret) | `webhooks`: `verify_webhook` |
//! | `GET`/`POST`/`PUT /v3/hooks`, `DELETE /v3/hooks/{id}` (`store/order/*` scopes) | `webhooks`: `register_webhooks`, `unregister_webhooks` |
//! | `PUT /v3/inventory/adjustments/absolute` (≤ 2,000 items, by variant or product and location) | `inventory`: `push_stock` |
//! | `GET /v3/catalog/products?include=variants` (`page`, `limit`) | `catalog`: `list_products` |
//! | `POST /v2/orders/{id}/shipments` (`order_address_id`, `tracking_number`, `items`) | `fulfillment`: `fulfill` |
//! | `GET /v2/store`, `GET /v2/orders?limit=1` | `connection` |
//!
//! Requests go to `https://api.bigcommerce.com/stores/{store_hash}` with the API
//! account's `X-Auth-Token` (see [`api`]). The paging is explained in [`orders`], the
//! mapping (taxes, discounts, currency) in [`mapping`], signatures in [`webhooks`],
//! stock keys in [`stock`].

pub mod api;
pub mod catalog;
pub mod connection;
pub mod fulfillment;
pub mod mapping;
pub mod orders;
pub mod stock;
pub mod webhooks;

use tovor_sdk::Config;
use tovor_sdk::shop::{
    Catalog, Connection, ConnectionInfo, Fulfillment, Inventory, OrderPage, Orders, ProductPage,
    RegisteredWebhook, Shipment, StockUpdate, VerifiedWebhook, WebhookRequest, WebhookSetup,
    Webhooks,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, Order};

/// The connector; it holds nothing between calls.
pub struct BigCommerce;

impl Orders for BigCommerce {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        orders::list(config, changed_since, cursor)
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        orders::get(config, &id)
    }
}

impl Webhooks for BigCommerce {
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        webhooks::verify(config, &request)
    }

    fn register_webhooks(config: &Config, url: String) -> Result<WebhookSetup, ConnectorError> {
        webhooks::register(config, &url)
    }

    fn unregister_webhooks(
        config: &Config,
        url: String,
        registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        webhooks::unregister(config, &url, &registered)
    }
}

impl Inventory for BigCommerce {
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

impl Catalog for BigCommerce {
    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        catalog::list(config, cursor)
    }
}

impl Fulfillment for BigCommerce {
    fn fulfill(
        config: &Config,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        fulfillment::fulfill(config, &order_id, &shipment)
    }
}

impl Connection for BigCommerce {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        connection::check(config)
    }
}

tovor_sdk::export_shop!(BigCommerce: orders, webhooks, inventory, catalog, fulfillment, connection);

#[cfg(test)]
mod tests;
