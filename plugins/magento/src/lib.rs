//! A shop connector for Magento 2 / Adobe Commerce, through its REST API, on contract 0.2.
//!
//! | Magento | capability: operation |
//! |---|---|
//! | `GET /rest/V1/orders?searchCriteria[...]` (`updated_at` `gteq`, keyset on `updated_at`, `entity_id`; `pageSize`, `total_count`) | `orders`: `list_orders` |
//! | `GET /rest/V1/orders/{id}` | `orders`: `get_order` |
//! | Adobe Commerce webhook, `x-adobe-commerce-webhook-signature` (RSA-SHA256) | `webhooks`: `verify_webhook` (set up by hand: `register_webhooks` answers what to do) |
//! | MSI `POST /rest/V1/inventory/source-items`, or legacy `GET /rest/V1/stockItems/{sku}` + `PUT /rest/V1/products/{sku}/stockItems/{itemId}` | `inventory`: `push_stock` |
//! | `POST /rest/V1/order/{id}/ship` (items, tracks, notify) | `fulfillment`: `fulfill` |
//! | `GET /rest/V1/orders?searchCriteria[pageSize]=1`, `GET /rest/V1/inventory/sources` | `connection` |
//!
//! Requests go to `{base_url}/rest/V1` (or `/rest/{store_code}/V1`), signed with OAuth
//! 1.0a (HMAC-SHA256) by the integration's four secrets, or with a Bearer token; see
//! [`api`] and [`oauth`]. The paging is explained in [`orders`], the mapping (currency,
//! discounts, configurable and bundle products) in [`mapping`], stock in [`stock`].

pub mod api;
pub mod connection;
pub mod fulfillment;
pub mod mapping;
pub mod orders;
pub mod stock;
pub mod webhooks;

use tovor_sdk::Config;
use tovor_sdk::shop::{
    Connection, ConnectionInfo, Fulfillment, Inventory, OrderPage, Orders, RegisteredWebhook,
    Shipment, StockUpdate, VerifiedWebhook, WebhookRequest, WebhookSetup, Webhooks,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, Order};

/// The connector. It holds nothing between calls; which stock API the store has is in
/// connector state.
pub struct Magento;

impl Orders for Magento {
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

impl Webhooks for Magento {
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
        _registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        // Set up by hand, so nothing to remove.
        Ok(())
    }
}

impl Inventory for Magento {
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

impl Fulfillment for Magento {
    fn fulfill(
        config: &Config,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        fulfillment::fulfill(config, &order_id, &shipment)
    }
}

impl Connection for Magento {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        connection::check(config)
    }
}

tovor_sdk::export_shop!(Magento: orders, webhooks, inventory, fulfillment, connection);

#[cfg(test)]
mod tests;
