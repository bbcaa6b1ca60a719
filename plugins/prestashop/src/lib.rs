//! A shop connector for PrestaShop 1.7 and 8, through its Webservice, on contract 0.2.
//!
//! | PrestaShop Webservice | capability: operation |
//! |---|---|
//! | `GET /api/orders?display=full&date=1&filter[date_upd]=[from,to]&sort=[date_upd_ASC,id_ASC]&limit=0,50` (keyset paging, see [`orders`]), then `order_details`, `order_cart_rules`, `cart_rules`, `customers`, `addresses` filtered by id | `orders`: `list_orders` |
//! | `GET /api/orders/{id}` and the same | `orders`: `get_order` |
//! | `GET /api/stock_availables?filter[id_product]=..&filter[id_product_attribute]=..`, XML `PUT /api/stock_availables/{id}` | `inventory`: `push_stock` |
//! | `GET /api/products`, `combinations`, `stock_availables` | `catalog`: `list_products` |
//! | XML `PUT /api/order_carriers/{id}` (`tracking_number`), XML `POST /api/order_histories` (shipped state) | `fulfillment`: `fulfill` |
//! | XML `POST /api/order_histories` | `status-changes` |
//! | `order_states`, `carriers`, `currencies`, `countries`, `configurations` (kept for an hour, see [`reference`]) | `connection` |
//!
//! Requests go to `{shop_url}/api/...` with HTTP Basic (the webservice key as the user,
//! no password); reads ask for JSON (`output_format=JSON`), writes send XML, which is
//! all PrestaShop reads; see [`api`]. PrestaShop has no webhooks in its core: the host
//! polls. Dates are the shop's local time ([`shoptime`]). The mapping of an order is in
//! [`mapping`], as pure functions with unit tests.

pub mod api;
pub mod connection;
pub mod fulfillment;
pub mod mapping;
pub mod orders;
pub mod reference;
pub mod shoptime;
pub mod stock;

use tovor_sdk::Config;
use tovor_sdk::shop::{
    Catalog, Connection, ConnectionInfo, Fulfillment, Inventory, OrderPage, Orders, ProductPage,
    Shipment, StatusChange, StatusChanges, StockUpdate,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, Order};

use api::Api;

/// The connector. It holds nothing between calls; the reference lists are in
/// connector state.
pub struct PrestaShop;

impl Orders for PrestaShop {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let api = Api::new(config)?;
        let (orders, next_cursor) = orders::list(&api, config, changed_since, cursor.as_deref())?;
        Ok(OrderPage {
            orders,
            next_cursor,
        })
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let api = Api::new(config)?;
        orders::get(&api, config, &id)
    }
}

impl Inventory for PrestaShop {
    fn max_batch() -> u32 {
        stock::MAX_BATCH
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockUpdate>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        stock::push(&api, &levels)
    }
}

impl Catalog for PrestaShop {
    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        let api = Api::new(config)?;
        stock::list_products(&api, cursor.as_deref())
    }
}

impl Fulfillment for PrestaShop {
    fn fulfill(
        config: &Config,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        fulfillment::fulfill(config, &order_id, &shipment)
    }
}

impl StatusChanges for PrestaShop {
    fn supported_changes() -> Vec<StatusChange> {
        fulfillment::supported()
    }

    fn set_order_status(
        config: &Config,
        order_id: String,
        change: StatusChange,
    ) -> Result<(), ConnectorError> {
        fulfillment::change(config, &order_id, change)
    }
}

impl Connection for PrestaShop {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        connection::check(config)
    }
}

tovor_sdk::export_shop!(
    PrestaShop: orders,
    inventory,
    catalog,
    fulfillment,
    status_changes,
    connection
);

#[cfg(test)]
mod tests;
