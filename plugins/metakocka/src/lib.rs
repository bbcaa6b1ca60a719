//! A shop connector for Metakocka, the Slovenian ERP and order management many web
//! shops run, on contract 0.2: its sales orders come in as orders, stock goes to it.
//!
//! | Metakocka API (`POST https://main.metakocka.si/rest/eshop/...`, JSON) | capability: operation |
//! |---|---|
//! | `v1/search` (`doc_type: sales_order`, `query_advance` `last_change_from`/`_to`, `offset`/`limit` ≤ 50; see [`orders`]), then `v1/get_document` per order | `orders`: `list_orders` |
//! | `v1/get_document` (`doc_id` = `mk_id`) | `orders`: `get_order` |
//! | `v1/json/warehouse_stock` (the whole current stock), then one `sync_stock` with the whole stock and the pushed levels changed (Metakocka removes what a `sync_stock` leaves out; see [`stock`]) | `inventory`: `push_stock` |
//! | the stock webhook (`X-MetaKocka-Signature`; see [`webhooks`]) | `webhooks`: `verify_webhook` |
//! | `v1/search` with `limit` 1 | `connection` |
//!
//! Every body carries `secret_key` (a sealed setting) and `company_id`; Metakocka
//! reports errors inside HTTP 200 answers (`opr_code` ≠ `"0"`), which [`api`] turns into
//! typed errors. The mapping of a sales order is in [`mapping`], pure functions with
//! unit tests.

pub mod api;
pub mod mapping;
pub mod orders;
pub mod stock;
pub mod webhooks;

use tovor_sdk::Config;
use tovor_sdk::shop::{
    Connection, ConnectionInfo, Inventory, OrderPage, Orders, RegisteredWebhook, StockUpdate,
    VerifiedWebhook, WebhookRequest, WebhookSetup, Webhooks,
};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{ConnectorError, ErrorKind, Order};

use api::Api;

/// The connector; it keeps nothing between calls.
pub struct Metakocka;

impl Orders for Metakocka {
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

impl Inventory for Metakocka {
    fn max_batch() -> u32 {
        stock::MAX_BATCH
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockUpdate>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        stock::push(&api, config, &levels)
    }
}

impl Webhooks for Metakocka {
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        webhooks::verify(config, &request)
    }

    fn register_webhooks(_config: &Config, url: String) -> Result<WebhookSetup, ConnectorError> {
        Ok(WebhookSetup::Manual(webhooks::instructions(&url)))
    }

    fn unregister_webhooks(
        _config: &Config,
        _url: String,
        _registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        Ok(())
    }
}

impl Connection for Metakocka {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        let api = Api::new(config)?;
        let mut body = orders::search_body(
            &orders::Cursor::first(tovor_sdk::time::now(), tovor_sdk::time::now()),
            0,
        );
        body.insert("limit".into(), "1".into());
        api.call("v1/search", body).map_err(|error| {
            if error.is(ErrorKind::Auth) {
                error.with_field(api::SECRET_FIELD)
            } else {
                error
            }
        })?;
        let mut info = ConnectionInfo::account(format!("Metakocka company {}", api.company_id()));
        if config.text(stock::WAREHOUSE_FIELD).is_none() {
            info = info.warning("no warehouse id is set, so stock is not sent to Metakocka");
        }
        Ok(info)
    }
}

tovor_sdk::export_shop!(Metakocka: orders, inventory, webhooks, connection);

#[cfg(test)]
mod tests;
