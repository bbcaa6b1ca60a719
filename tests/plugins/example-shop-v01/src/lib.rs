//! A shop connector for Minishop, a small (fictional) shop platform: the example of the
//! "write your own connector" guide, as it was on contract 0.1 (`tovor-sdk-0-1`). The
//! host's tests load it next to `plugins/example-shop` (contract 0.2) to check that both
//! contract versions are served side by side. Its unit tests stay with the original.
//!
//! What Minishop offers, and what this connector does with it:
//!
//! | Minishop | connector operation |
//! |---|---|
//! | `GET /api/v1/orders?updated_since=..&page=..&per_page=50` | `list_orders` |
//! | `GET /api/v1/orders/{id}` | `get_order` |
//! | `PUT /api/v1/stock/{sku}` with `{"quantity": n}` | `push_stock` |
//! | signed `POST` to our webhook URL | `verify_webhook` |
//!
//! Every request carries `Authorization: Bearer {api_token}`. The JSON and its mapping
//! to tovor's types live in [`minishop`], as pure functions with unit tests.

mod minishop;

use serde::Serialize;
use tovor_sdk::http::{Request, percent_encode};
use tovor_sdk::shop::{
    OrderHint, OrderPage, ShopCapabilities, ShopInfo, StockLevel, VerifiedWebhook, WebhookEvent,
    WebhookRequest,
};
use tovor_sdk::types::{ConnectorError, Order};
use tovor_sdk::{Config, Shop, signature};

use minishop::{MsOrder, OrderList};

/// How many orders to ask for per page (Minishop's maximum).
const PAGE_SIZE: u32 = 50;

/// The connector. It holds no state: each call gets the shop's [`Config`].
struct Minishop;

impl Shop for Minishop {
    fn describe() -> ShopInfo {
        // Keep these in step with `capabilities` in plugin.toml.
        ShopInfo {
            platform: "Minishop".into(),
            capabilities: ShopCapabilities::WEBHOOKS | ShopCapabilities::STOCK_PUSH,
        }
    }

    fn list_orders(
        config: &Config,
        changed_since: &str,
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

    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        // Check the signature before looking at anything else in the delivery.
        check_signature(config.require("webhook_secret")?, &request)?;
        parse_webhook(&request)
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockLevel>,
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
                Err(
                    error @ (ConnectorError::Auth(_)
                    | ConnectorError::RateLimited(_)
                    | ConnectorError::Transient(_)),
                ) => return Err(error),
                // Anything else concerns this one item (unknown SKU, refused quantity).
                other => results.push(other),
            }
        }
        Ok(results)
    }
}

// Generates the component's exports for `Minishop`.
tovor_sdk::export_shop!(Minishop);

/// Minishop's API address: `{shop_url}/api/v1`, where `api_base` (tests, sandboxes)
/// replaces the shop URL.
fn api_base(config: &Config) -> Result<String, ConnectorError> {
    let shop_url = config.require("shop_url")?;
    Ok(format!("{}/api/v1", config.api_base_or(shop_url)))
}

/// Adds the API token.
fn authorized(request: Request, config: &Config) -> Result<Request, ConnectorError> {
    Ok(request.bearer_auth(config.require("api_token")?))
}

/// `GET /orders` for one page of orders changed since `changed_since`.
fn orders_request(base: &str, changed_since: &str, page: u32) -> Request {
    Request::get(format!("{base}/orders"))
        .query_param("updated_since", changed_since)
        .query_param("page", page)
        .query_param("per_page", PAGE_SIZE)
}

/// `PUT /stock/{sku}` with the absolute quantity. Minishop keys stock by SKU only.
fn stock_request(base: &str, level: &StockLevel) -> Result<Request, ConnectorError> {
    #[derive(Serialize)]
    struct Body {
        quantity: i64,
    }
    let sku = level
        .key
        .sku
        .as_deref()
        .filter(|sku| !sku.is_empty())
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                "sku",
                "Minishop identifies stock by SKU; this item has none",
            )
        })?;
    let url = format!("{base}/stock/{}", percent_encode(sku));
    Ok(Request::put(url).json(&Body {
        quantity: level.quantity,
    }))
}

/// `X-Minishop-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
fn check_signature(secret: &str, request: &WebhookRequest) -> Result<(), ConnectorError> {
    let header = request
        .header("x-minishop-signature")
        .ok_or_else(|| ConnectorError::BadSignature("no X-Minishop-Signature header".into()))?;
    let signature = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or_else(|| ConnectorError::BadSignature("the signature is not sha256=<hex>".into()))?;
    if signature::verify_hmac_sha256_hex(secret, &request.body, signature) {
        Ok(())
    } else {
        Err(ConnectorError::BadSignature(
            "the signature does not match the webhook secret".into(),
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
            WebhookEvent::OrderChanged(OrderHint {
                id: order.id.clone(),
                order: Some(order),
            })
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
