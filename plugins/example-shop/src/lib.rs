//! A shop connector for Minishop, a small (fictional) shop platform: the example of the
//! "write your own connector" guide, on contract 0.2 (`tovor-sdk`).
//!
//! What Minishop offers, and which capability of the contract uses it:
//!
//! | Minishop | capability: operation |
//! |---|---|
//! | `GET /api/v1/orders?updated_since=..&page=..&per_page=50` | `orders`: `list_orders` |
//! | `GET /api/v1/orders/{id}` | `orders`: `get_order` |
//! | signed `POST` to our webhook URL, set up by hand in Minishop's admin | `webhooks` |
//! | `PUT /api/v1/stock/{sku}` with `{"quantity": n}` | `inventory`: `push_stock` |
//! | `GET /api/v1/orders?per_page=1` (the cheapest authenticated call) | `connection` |
//!
//! Every request carries `Authorization: Bearer {api_token}`. Minishop has no product
//! API (so no `catalog`): stock is set by the item's SKU. The JSON and its mapping to tovor's
//! types live in [`minishop`], as pure functions with unit tests.

mod minishop;

use serde::Serialize;
use tovor_sdk::http::{Request, percent_encode};
use tovor_sdk::shop::{
    Connection, ConnectionInfo, Inventory, OrderHint, OrderPage, Orders, RegisteredWebhook,
    StockUpdate, VerifiedWebhook, WebhookEvent, WebhookRequest, WebhookSetup, Webhooks,
};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{ConnectorError, ErrorKind, Order};
use tovor_sdk::{Config, signature};

use minishop::{MsOrder, OrderList};

/// How many orders to ask for per page (Minishop's maximum).
const PAGE_SIZE: u32 = 50;

/// How many stock levels one `push_stock` call takes: Minishop sets one SKU per request.
const STOCK_BATCH: u32 = 50;

/// The connector. It holds no state: each call gets the shop's [`Config`].
pub struct Minishop;

impl Orders for Minishop {
    fn list_orders(
        config: &Config,
        changed_since: OffsetDateTime,
        cursor: Option<String>,
    ) -> Result<OrderPage, ConnectorError> {
        // The cursor is the page number we handed out last time; no cursor is page 1.
        let page = match cursor {
            None => 1,
            Some(cursor) => cursor.parse().map_err(|_| {
                ConnectorError::invalid_field("cursor", format!("{cursor:?} is not a page number"))
            })?,
        };
        let request = orders_request(&api_base(config)?, changed_since, page);
        let list: OrderList = authorized(request, config)?
            .send()? // network trouble, the egress policy
            .error_for_status()? // 401 -> auth, 429 -> rate-limited, 5xx -> transient, ...
            .json()?; // the body, or an error quoting what came instead
        Ok(OrderPage {
            next_cursor: minishop::next_cursor(list.page, list.total_pages),
            orders: list
                .orders
                .into_iter()
                .map(minishop::map_order)
                .collect::<Result<_, _>>()?,
        })
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        // Ids go into the path, so they are percent-encoded like any other text.
        let url = format!("{}/orders/{}", api_base(config)?, percent_encode(&id));
        let order: MsOrder = authorized(Request::get(url), config)?
            .send()?
            .error_for_status()? // 404 becomes `not-found`
            .json()?;
        minishop::map_order(order)
    }
}

impl Webhooks for Minishop {
    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        // Check the signature before looking at anything else in the delivery.
        check_signature(config.require("webhook_secret")?, &request)?;
        parse_webhook(&request)
    }

    fn register_webhooks(_config: &Config, url: String) -> Result<WebhookSetup, ConnectorError> {
        // Minishop has no API for subscriptions: the shop owner adds them by hand.
        Ok(WebhookSetup::Manual(manual_webhook_setup(&url)))
    }

    fn unregister_webhooks(
        _config: &Config,
        _url: String,
        _registered: Vec<RegisteredWebhook>,
    ) -> Result<(), ConnectorError> {
        // Nothing was registered through the API, so there is nothing to remove.
        Ok(())
    }
}

impl Inventory for Minishop {
    fn max_batch() -> u32 {
        STOCK_BATCH
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockUpdate>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let base = api_base(config)?;
        let mut results = Vec::with_capacity(levels.len());
        for level in &levels {
            let result = stock_request(&base, level)
                .and_then(|request| authorized(request, config))
                .and_then(Request::send)
                .and_then(|response| response.error_for_status())
                .map(drop);
            match result {
                // Trouble with the platform as a whole fails the batch: the host retries
                // it later, which is safe because stock levels are absolute.
                Err(error)
                    if matches!(
                        error.kind,
                        ErrorKind::Auth
                            | ErrorKind::Permission
                            | ErrorKind::RateLimited
                            | ErrorKind::Transient
                    ) =>
                {
                    return Err(error);
                }
                // Anything else concerns this one item (unknown SKU, refused quantity).
                other => results.push(other),
            }
        }
        Ok(results)
    }
}

impl Connection for Minishop {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        // Minishop has no "who am I" endpoint: one order is the cheapest authenticated
        // answer. A 401 is `auth`; a 404 means the address is not a Minishop API.
        let request = Request::get(format!("{}/orders", api_base(config)?))
            .query_param("page", 1)
            .query_param("per_page", 1);
        authorized(request, config)?
            .send()?
            .error_for_status()
            .map_err(|error| match error.kind {
                ErrorKind::NotFound => ConnectorError::not_found(format!(
                    "no Minishop API under the shop URL ({}); check the shop URL",
                    error.message
                ))
                .with_field("shop_url"),
                ErrorKind::Auth => ConnectorError::auth(format!(
                    "Minishop refused the API token ({}); check it in Minishop's admin",
                    error.message
                ))
                .with_field("api_token"),
                _ => error,
            })?;
        Ok(ConnectionInfo::account(shop_name(config)?))
    }
}

// The component's exports: exactly these capabilities.
tovor_sdk::export_shop!(Minishop: orders, webhooks, inventory, connection);

/// Minishop's API address: `{shop_url}/api/v1`, where `api_base` (tests, sandboxes)
/// replaces the shop URL.
fn api_base(config: &Config) -> Result<String, ConnectorError> {
    let shop_url = config.require("shop_url")?;
    Ok(format!("{}/api/v1", config.api_base_or(shop_url)))
}

/// The shop as its owner knows it: the shop URL's host (`shop.example`).
fn shop_name(config: &Config) -> Result<String, ConnectorError> {
    let shop_url = config.require("shop_url")?;
    Ok(url_host(shop_url).unwrap_or(shop_url).to_owned())
}

/// The host part of `url` (`https://shop.example:8443/x` → `shop.example:8443`).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.trim().split_once("://")?.1;
    rest.split(['/', '?', '#'])
        .next()
        .filter(|host| !host.is_empty())
}

/// Adds the API token.
fn authorized(request: Request, config: &Config) -> Result<Request, ConnectorError> {
    Ok(request.bearer_auth(config.require("api_token")?))
}

/// `GET /orders` for one page of orders changed since `changed_since`.
fn orders_request(base: &str, changed_since: OffsetDateTime, page: u32) -> Request {
    Request::get(format!("{base}/orders"))
        .query_param("updated_since", time::format_utc(changed_since))
        .query_param("page", page)
        .query_param("per_page", PAGE_SIZE)
}

/// `PUT /stock/{sku}` with the absolute quantity. Minishop keys stock by SKU, and counts
/// it in whole units.
fn stock_request(base: &str, level: &StockUpdate) -> Result<Request, ConnectorError> {
    #[derive(Serialize)]
    struct Body {
        quantity: i64,
    }
    let sku = level.sku.as_deref().map(str::trim).unwrap_or_default();
    if sku.is_empty() {
        return Err(ConnectorError::invalid_field(
            "sku",
            "Minishop identifies stock by SKU; this item has none",
        ));
    }
    let url = format!("{base}/stock/{}", percent_encode(sku));
    Ok(Request::put(url).json(&Body {
        quantity: level.whole_quantity()?,
    }))
}

/// What the shop owner does in Minishop's admin to have orders delivered to `url`.
fn manual_webhook_setup(url: &str) -> String {
    format!(
        "In Minishop's admin, open Settings → Webhooks and add {url} for the events \
         order.created and order.updated, signed with the webhook secret configured here."
    )
}

/// `X-Minishop-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
fn check_signature(secret: &str, request: &WebhookRequest) -> Result<(), ConnectorError> {
    let header = request
        .header("x-minishop-signature")
        .ok_or_else(|| ConnectorError::bad_signature("no X-Minishop-Signature header"))?;
    let signature = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| ConnectorError::bad_signature("the signature is not sha256=<hex>"))?;
    if signature::verify_hmac_sha256_hex(secret, &request.body, signature) {
        Ok(())
    } else {
        Err(ConnectorError::bad_signature(
            "the signature does not match the webhook secret",
        ))
    }
}

/// What a verified delivery means, from its `X-Minishop-Event` header and body.
fn parse_webhook(request: &WebhookRequest) -> Result<VerifiedWebhook, ConnectorError> {
    let topic = request.header("x-minishop-event").map(str::to_owned);
    let event = match topic.as_deref() {
        Some("ping") => WebhookEvent::Ping(None),
        Some("order.created" | "order.updated") => {
            // The body is the whole order, so the host need not fetch it again.
            let order = minishop::map_order(request.json::<MsOrder>()?)?;
            WebhookEvent::OrderChanged(OrderHint::with_order(order))
        }
        Some(other) => WebhookEvent::Ignored(format!("Minishop event {other:?} is not used")),
        None => return Err(ConnectorError::invalid_input("no X-Minishop-Event header")),
    };
    Ok(VerifiedWebhook {
        delivery_id: request.header("x-minishop-delivery").map(str::to_owned),
        topic,
        event,
    })
}

#[cfg(test)]
mod tests;
