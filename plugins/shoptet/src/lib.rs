//! A shop connector for Shoptet (CZ/SK), through its REST API, on contract 0.2.
//!
//! | Shoptet | capability: operation |
//! |---|---|
//! | `GET /api/orders?changeTimeFrom=..&itemsPerPage=50&page=N`, then `GET /api/orders/{code}?include=notes,shippingDetails` per order | `orders`: `list_orders` |
//! | `GET /api/orders/{code}?include=notes,shippingDetails` | `orders`: `get_order` |
//! | `Shoptet-Webhook-Signature` signed `POST` to our webhook URL | `webhooks`: `verify_webhook` |
//! | `GET`/`POST /api/webhooks`, `POST /api/webhooks/renew-signature-key`, `DELETE /api/webhooks/{id}` | `webhooks`: `register_webhooks`, `unregister_webhooks` |
//! | `PATCH /api/stocks/{stockId}/movements` (≤ 300 rows), `GET /api/stocks` | `inventory`: `push_stock` |
//! | `PATCH /api/orders/{code}/notes` (tracking number), `PATCH /api/orders/{code}/status` | `fulfillment`: `fulfill` |
//! | `PATCH /api/orders/{code}/status` | `status-changes` |
//! | `GET /api/eshop` | `connection` |
//!
//! Requests go to `https://api.myshoptet.com` (or `api_base`) with a private API token
//! or an addon's short-lived API access token; see [`api`]. The mapping of Shoptet's
//! order to tovor's is in [`mapping`], as pure functions with unit tests.

pub mod api;
pub mod connection;
pub mod fulfillment;
pub mod mapping;
pub mod stock;
pub mod webhooks;

use tovor_sdk::Config;
use tovor_sdk::http::Request;
use tovor_sdk::shop::{
    Connection, ConnectionInfo, Fulfillment, Inventory, OrderPage, Orders, RegisteredWebhook,
    Shipment, StatusChange, StatusChanges, StockUpdate, VerifiedWebhook, WebhookRequest,
    WebhookSetup, Webhooks,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, ErrorKind, Order};

use api::{Api, Envelope, code_segment};
use mapping::{OrderList, StatusMap};

/// Orders per listed page: Shoptet's maximum for orders.
pub const PAGE_SIZE: u32 = 50;
/// The sections an order is fetched with: the customer's remark and the pickup point.
const INCLUDE: &str = "notes,shippingDetails";

/// The connector. It holds nothing between calls; the addon's access token, the
/// signature key and the default stock are in connector state.
pub struct Shoptet;

fn detail_request(api: &Api, code: &str) -> Request {
    api.get(&format!("/api/orders/{}", code_segment(code)))
        .query_param("include", INCLUDE)
}

fn map_detail(body: &[u8], statuses: &StatusMap) -> Result<Order, ConnectorError> {
    mapping::map_order(mapping::parse_detail(body)?, statuses)
}

/// Fetches orders by code, three at a time; codes Shoptet no longer has are skipped
/// when `skip_missing`.
fn fetch_orders(
    api: &Api,
    codes: &[String],
    statuses: &StatusMap,
    skip_missing: bool,
) -> Result<Vec<Order>, ConnectorError> {
    let requests = codes.iter().map(|code| detail_request(api, code)).collect();
    let mut orders = Vec::with_capacity(codes.len());
    for (code, answer) in codes.iter().zip(api.send_all(requests)) {
        match answer {
            Ok(response) => orders.push(map_detail(&response.body, statuses)?),
            Err(error) if skip_missing && error.is(ErrorKind::NotFound) => {
                tovor_sdk::log::info(format!("order {code} is gone from Shoptet; skipped"));
            }
            Err(error) => return Err(error.context(format!("order {code}"))),
        }
    }
    Ok(orders)
}

impl Orders for Shoptet {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        let api = Api::new(config)?;
        let statuses = StatusMap::parse(config.text("status_map"))?;
        let page = mapping::parse_cursor(cursor.as_deref());
        let response = api.send(
            api.get("/api/orders")
                .query_param("changeTimeFrom", mapping::shoptet_time(changed_since))
                .query_param("itemsPerPage", PAGE_SIZE)
                .query_param("page", page),
        )?;
        let envelope: Envelope<OrderList> = response.json()?;
        let list = envelope
            .data
            .ok_or_else(|| ConnectorError::other("Shoptet's order list has no `data`"))?;
        let mut codes: Vec<String> = list.orders.iter().map(|row| row.code.clone()).collect();
        // Codes of mass events beyond the one each delivery could name go first.
        let pending = if page == 1 {
            webhooks::pending_codes()
        } else {
            Vec::new()
        };
        for code in pending.iter().rev() {
            if !codes.contains(code) {
                codes.insert(0, code.clone());
            }
        }
        let orders = fetch_orders(&api, &codes, &statuses, true)?;
        if !pending.is_empty() {
            webhooks::clear_pending();
        }
        Ok(OrderPage {
            orders,
            next_cursor: mapping::next_page(&list.paginator).map(mapping::cursor_of),
        })
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let api = Api::new(config)?;
        let statuses = StatusMap::parse(config.text("status_map"))?;
        let response = api
            .send(detail_request(&api, &id))
            .map_err(|error| error.context(format!("order {id}")))?;
        map_detail(&response.body, &statuses)
    }
}

impl Webhooks for Shoptet {
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

impl Inventory for Shoptet {
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

impl Fulfillment for Shoptet {
    fn fulfill(
        config: &Config,
        order_id: String,
        shipment: Shipment,
    ) -> Result<(), ConnectorError> {
        fulfillment::fulfill(config, &order_id, &shipment)
    }
}

impl StatusChanges for Shoptet {
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

impl Connection for Shoptet {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        connection::check(config)
    }
}

tovor_sdk::export_shop!(
    Shoptet: orders,
    webhooks,
    inventory,
    fulfillment,
    status_changes,
    connection
);

#[cfg(test)]
mod tests;
