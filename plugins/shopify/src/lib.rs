//! A shop connector for Shopify, through the Admin REST API with a custom app's access
//! token, on contract 0.2.
//!
//! | Shopify | capability: operation |
//! |---|---|
//! | `GET orders.json?status=any&updated_at_min=..&limit=250`, then `page_info` from `Link` | `orders`: `list_orders` |
//! | `GET orders/{id}.json` | `orders`: `get_order` |
//! | `X-Shopify-Hmac-Sha256` signed `POST` to our webhook URL | `webhooks`: `verify_webhook` |
//! | `GET`/`POST webhooks.json`, `DELETE webhooks/{id}.json` | `webhooks`: `register_webhooks`, `unregister_webhooks` |
//! | `POST inventory_levels/set.json` (inventory item from the key, location from config or `shop.json`) | `inventory`: `push_stock` |
//! | `GET products.json?limit=250`, then `page_info` | `catalog`: `list_products` |
//! | `GET orders/{id}/fulfillment_orders.json`, `GET orders/{id}/fulfillments.json`, `POST fulfillments.json` | `fulfillment`: `fulfill` |
//! | `POST orders/{id}/cancel.json`, `close.json`, `transactions.json` | `status-changes` |
//! | `GET orders/{id}/refunds.json` | `refunds`: `list_refunds` |
//! | `GET shop.json`, `GET /admin/oauth/access_scopes.json` | `connection` |
//!
//! Every request goes to `https://{shop_domain}/admin/api/{api_version}` (or `api_base`
//! instead of `https://{shop_domain}`) with `X-Shopify-Access-Token`; [`api`] handles
//! Shopify's errors and its leaky-bucket rate limit.
//!
//! Shopify's REST API has no list of a shop's payment methods (orders name their
//! gateways in `payment_gateway_names`), so there is no `payment-methods` capability.
//!
//! The JSON and its mapping to tovor's types live in [`mapping`], as pure functions with
//! unit tests; [`map_order_json`] is the entry point for one order.

pub mod api;
pub mod connection;
pub mod fulfillment;
pub mod mapping;
pub mod status;
pub mod stock;
pub mod webhooks;

use serde::Deserialize;
use tovor_sdk::Config;
use tovor_sdk::shop::{
    Catalog, Connection, ConnectionInfo, Fulfillment, Inventory, OrderPage, Orders, ProductPage,
    Refunds, RegisteredWebhook, Shipment, StatusChange, StatusChanges, StockUpdate,
    VerifiedWebhook, WebhookRequest, WebhookSetup, Webhooks,
};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{ConnectorError, Order, Refund};

use api::{Api, numeric_id};
pub use mapping::map_order_json;
use mapping::{ProductList, ShopifyOrder, ShopifyRefund};

/// Shopify's largest page.
const PAGE_SIZE: u32 = 250;

/// The connector. It holds nothing between calls: each gets the shop's [`Config`], and
/// what is worth keeping (stock keys' inventory items, the primary location) is in
/// connector state.
pub struct Shopify;

impl Orders for Shopify {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let api = Api::new(config)?;
        let request = match cursor.as_deref().and_then(mapping::page_info_of) {
            // With page_info Shopify refuses every filter: they are inside the cursor.
            Some(page_info) => api
                .get("orders.json")
                .query_param("limit", PAGE_SIZE)
                .query_param("page_info", page_info),
            // `status` defaults to `open`: without `any`, cancelled and closed orders
            // would never be seen changing.
            None => api
                .get("orders.json")
                .query_param("status", "any")
                .query_param("updated_at_min", time::format_utc(changed_since))
                .query_param("limit", PAGE_SIZE),
        };
        let response = api.send(request)?;
        #[derive(Deserialize)]
        struct List {
            orders: Vec<ShopifyOrder>,
        }
        let list: List = response.json()?;
        Ok(OrderPage {
            orders: list
                .orders
                .into_iter()
                .map(mapping::map_order)
                .collect::<Result<_, _>>()?,
            next_cursor: response
                .next_link()
                .as_deref()
                .and_then(mapping::page_info_of),
        })
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let api = Api::new(config)?;
        let id = numeric_id(&id, "order")?;
        #[derive(Deserialize)]
        struct One {
            order: ShopifyOrder,
        }
        let one: One = api.send(api.get(&format!("orders/{id}.json")))?.json()?;
        mapping::map_order(one.order)
    }
}

impl Webhooks for Shopify {
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

impl Inventory for Shopify {
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

impl Catalog for Shopify {
    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        let api = Api::new(config)?;
        // `fields` is allowed next to page_info and keeps 250 products small.
        let mut request = api
            .get("products.json")
            .query_param("limit", PAGE_SIZE)
            .query_param("fields", "id,title,variants");
        if let Some(page_info) = cursor.as_deref().and_then(mapping::page_info_of) {
            request = request.query_param("page_info", page_info);
        }
        let response = api.send(request)?;
        let list: ProductList = response.json()?;
        Ok(ProductPage {
            products: mapping::map_products(list),
            next_cursor: response
                .next_link()
                .as_deref()
                .and_then(mapping::page_info_of),
        })
    }
}

impl Fulfillment for Shopify {
    fn fulfill(
        config: &Config,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        fulfillment::fulfill(config, &order_id, &shipment)
    }
}

impl StatusChanges for Shopify {
    fn supported_changes() -> Vec<StatusChange> {
        status::supported()
    }

    fn set_order_status(
        config: &Config,
        order_id: String,
        change: StatusChange,
    ) -> Result<(), ConnectorError> {
        status::set(config, &order_id, change)
    }
}

impl Refunds for Shopify {
    fn list_refunds(config: &Config, order_id: String) -> Result<Vec<Refund>, ConnectorError> {
        let api = Api::new(config)?;
        let id = numeric_id(&order_id, "order")?;
        // A refund's amounts need the order's currency and tax basis.
        #[derive(Deserialize)]
        struct One {
            order: OrderBasis,
        }
        #[derive(Deserialize)]
        struct OrderBasis {
            #[serde(default)]
            currency: String,
            #[serde(default)]
            taxes_included: bool,
        }
        #[derive(Deserialize)]
        struct List {
            refunds: Vec<ShopifyRefund>,
        }
        let basis: One = api
            .send(
                api.get(&format!("orders/{id}.json"))
                    .query_param("fields", "id,currency,taxes_included"),
            )?
            .json()?;
        let list: List = api
            .send(
                api.get(&format!("orders/{id}/refunds.json"))
                    .query_param("limit", PAGE_SIZE),
            )?
            .json()?;
        let currency = basis.order.currency.trim().to_ascii_uppercase();
        list.refunds
            .iter()
            .map(|refund| mapping::map_refund(refund, &currency, basis.order.taxes_included))
            .collect()
    }
}

impl Connection for Shopify {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        connection::check(config)
    }
}

// The component's exports: exactly these capabilities (no `payment_methods`: see above).
tovor_sdk::export_shop!(
    Shopify: orders,
    webhooks,
    inventory,
    catalog,
    fulfillment,
    status_changes,
    refunds,
    connection
);

#[cfg(test)]
mod tests;
