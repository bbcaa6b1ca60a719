//! A shop connector for Shopify, through the Admin REST API with a custom app's access
//! token.
//!
//! | Shopify | connector operation |
//! |---|---|
//! | `GET orders.json?status=any&updated_at_min=..&limit=250`, then `page_info` from `Link` | `list_orders` |
//! | `GET orders/{id}.json` | `get_order` |
//! | `X-Shopify-Hmac-Sha256` signed `POST` to our webhook URL | `verify_webhook` |
//! | `GET variants/{id}.json` (for the inventory item), `POST inventory_levels/set.json` | `push_stock` |
//! | `GET products.json?limit=250`, then `page_info` | `list_products` |
//! | `GET orders/{id}/fulfillment_orders.json`, `POST fulfillments.json` | `mark_shipped` |
//!
//! Every request goes to `https://{shop_domain}/admin/api/{api_version}` (or `api_base`
//! instead of `https://{shop_domain}`) with `X-Shopify-Access-Token`.
//!
//! **Rate limits.** Shopify's REST bucket holds 40 requests and leaks 2 per second
//! (Standard plans); every response says how full it is in
//! `X-Shopify-Shop-Api-Call-Limit: used/capacity`. A call that needs several requests
//! stops before the bucket is full and returns `rate-limited` with the time it takes to
//! drain to half (waiting inside the sandbox would only burn the call's time budget); the
//! host retries later, which is safe because every operation here is idempotent (stock
//! levels are absolute, a fulfilled order is not fulfilled twice). A 429 is
//! `rate-limited` with its `Retry-After` (seconds, possibly fractional) or 2 s.
//!
//! The JSON and its mapping to tovor's types live in [`mapping`], as pure functions with
//! unit tests; [`map_order_json`] is the entry point for one order.

pub mod mapping;

use std::cell::Cell;

use serde::Deserialize;
use serde_json::json;
use tovor_sdk::http::{self, Request, Response, percent_encode};
use tovor_sdk::shop::{
    OrderHint, OrderPage, ProductPage, ShopCapabilities, ShopInfo, StockLevel, VerifiedWebhook,
    WebhookEvent, WebhookRequest,
};
use tovor_sdk::types::{ConnectorError, Order, Tracking};
use tovor_sdk::{Config, Shop, signature};

pub use mapping::map_order_json;
use mapping::{ProductList, ShopifyOrder};

/// Shopify's largest page.
const PAGE_SIZE: u32 = 250;
/// The Admin API version used unless the shop's config names another.
pub const DEFAULT_API_VERSION: &str = "2025-07";
/// Requests left in the bucket below which a multi-request call stops.
const BUCKET_RESERVE: u32 = 2;
/// The wait after a 429 without `Retry-After` (it happens, per Shopify's forum): one
/// second's leak at the Standard rate frees two requests.
const DEFAULT_RETRY_MS: u64 = 2000;
/// Order webhooks whose body is the whole order.
const ORDER_TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/paid",
    "orders/fulfilled",
    "orders/partially_fulfilled",
];

/// The connector. It holds no state: each call gets the shop's [`Config`].
pub struct Shopify;

impl Shop for Shopify {
    fn describe() -> ShopInfo {
        // Keep in step with `capabilities` in plugin.toml.
        ShopInfo {
            platform: "Shopify".into(),
            capabilities: ShopCapabilities::WEBHOOKS
                | ShopCapabilities::STOCK_PUSH
                | ShopCapabilities::PRODUCT_LIST
                | ShopCapabilities::MARK_SHIPPED,
        }
    }

    fn list_orders(
        config: &Config,
        changed_since: &str,
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
                .query_param("updated_at_min", changed_since)
                .query_param("limit", PAGE_SIZE),
        };
        let response = api.send(request)?;
        #[derive(Deserialize)]
        struct Orders {
            orders: Vec<ShopifyOrder>,
        }
        let list: Orders = response.json()?;
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

    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        // The signature first: nothing in an unsigned delivery is trusted.
        check_signature(config.require("webhook_secret")?, &request)?;
        check_shop_domain(config, &request)?;
        parse_webhook(&request)
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let mut results = Vec::with_capacity(levels.len());
        for level in &levels {
            match push_level(&api, config, level) {
                // Trouble with the shop as a whole fails the call: the host retries it,
                // which is safe because levels are absolute.
                Err(
                    error @ (ConnectorError::Auth(_)
                    | ConnectorError::RateLimited(_)
                    | ConnectorError::Transient(_)),
                ) => return Err(error),
                // Anything else concerns this one item (unknown variant, not tracked).
                other => results.push(other),
            }
        }
        Ok(results)
    }

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

    fn mark_shipped(
        config: &Config,
        order_id: String,
        tracking: Tracking,
    ) -> Result<(), ConnectorError> {
        let api = Api::new(config)?;
        let order_id = numeric_id(&order_id, "order")?;
        let open = open_fulfillment_orders(&api, order_id)?;
        if open.is_empty() {
            // Nothing left to fulfil: shipped already (possibly by an earlier attempt of
            // this very call whose answer was lost), or cancelled. Fulfilling twice is
            // impossible, so this is success.
            tovor_sdk::log::info(format!(
                "Shopify order {order_id} has no open fulfillment orders; nothing to mark"
            ));
            return Ok(());
        }
        // One fulfillment may only cover fulfillment orders of one location.
        let mut by_location: Vec<(Option<u64>, Vec<u64>)> = Vec::new();
        for fulfillment_order in open {
            match by_location
                .iter_mut()
                .find(|(location, _)| *location == fulfillment_order.assigned_location_id)
            {
                Some((_, ids)) => ids.push(fulfillment_order.id),
                None => by_location.push((
                    fulfillment_order.assigned_location_id,
                    vec![fulfillment_order.id],
                )),
            }
        }
        for (_, ids) in by_location {
            api.send(
                Request::post(api.url("fulfillments.json"))
                    .json(&fulfillment_body(&ids, &tracking)),
            )?;
        }
        Ok(())
    }
}

// Generates the component's exports for `Shopify`. Only for wasm: natively the crate is
// also linked as a cdylib (for the integration tests), and the linker refuses the
// component-model export names (`cabi_post_tovor:connector/...`) in a native
// version script.
#[cfg(target_arch = "wasm32")]
tovor_sdk::export_shop!(Shopify);

/// The Admin API of one shop, and the bucket state its last answer reported.
struct Api {
    base: String,
    token: String,
    /// `(used, capacity)` from the last `X-Shopify-Shop-Api-Call-Limit` of this call.
    bucket: Cell<Option<(u32, u32)>>,
}

impl Api {
    fn new(config: &Config) -> Result<Self, ConnectorError> {
        let domain = mapping::normalize_domain(config.require("shop_domain")?);
        let version = config
            .get("api_version")
            .map(str::trim)
            .unwrap_or(DEFAULT_API_VERSION);
        let base = config.api_base_or(&format!("https://{domain}"));
        Ok(Self {
            base: format!("{base}/admin/api/{version}"),
            token: config.require("access_token")?.to_owned(),
            bucket: Cell::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    fn get(&self, path: &str) -> Request {
        Request::get(self.url(path))
    }

    /// Sends with the token and turns Shopify's errors into connector errors. Refuses
    /// to send when the previous answer of this call showed the bucket almost full.
    fn send(&self, request: Request) -> Result<Response, ConnectorError> {
        if let Some((used, capacity)) = self.bucket.get()
            && used + BUCKET_RESERVE >= capacity
        {
            return Err(ConnectorError::rate_limited(
                Some(mapping::drain_ms(used, capacity)),
                format!(
                    "Shopify's API bucket is at {used}/{capacity}; stopping before it \
                     overflows"
                ),
            ));
        }
        let response = request
            .header("X-Shopify-Access-Token", self.token.as_str())
            .header("Accept", "application/json")
            .send()?;
        if let Some(limit) = response
            .header("x-shopify-shop-api-call-limit")
            .and_then(mapping::parse_call_limit)
        {
            self.bucket.set(Some(limit));
        }
        check(response)
    }
}

/// `Ok` for 2xx; otherwise the error Shopify's status means, with the messages of its
/// `{"errors": ...}` body.
fn check(response: Response) -> Result<Response, ConnectorError> {
    if response.is_success() {
        return Ok(response);
    }
    let status = response.status;
    let parsed = mapping::error_messages(&response.body);
    let message = match &parsed {
        Some((_, text)) => format!("Shopify answered HTTP {status}: {text}"),
        None => {
            let text = snippet(&response.body);
            if text.is_empty() {
                format!("Shopify answered HTTP {status}")
            } else {
                format!("Shopify answered HTTP {status}: {text}")
            }
        }
    };
    Err(match status {
        401 | 403 => ConnectorError::Auth(message),
        404 => ConnectorError::NotFound(message),
        429 => {
            let retry_after = response
                .header("retry-after")
                .and_then(|value| http::parse_retry_after(value, tovor_sdk::time::now()))
                .unwrap_or(DEFAULT_RETRY_MS);
            ConnectorError::rate_limited(Some(retry_after), message)
        }
        400 | 422 => match parsed.and_then(|(field, _)| field) {
            Some(field) => ConnectorError::invalid_field(field, message),
            None => ConnectorError::invalid_input(message),
        },
        408 | 500..=599 => ConnectorError::Transient(message),
        _ => http::status_error(
            status,
            &response.headers,
            &response.body,
            tovor_sdk::time::now(),
        )
        .unwrap_or(ConnectorError::Other(message)),
    })
}

/// The start of a body, for messages: one line, at most 300 characters.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

/// Shopify ids are 64-bit numbers; anything else cannot name one.
fn numeric_id(id: &str, what: &str) -> Result<u64, ConnectorError> {
    id.trim().parse::<u64>().map_err(|_| {
        ConnectorError::NotFound(format!(
            "{:?} is not a Shopify {what} id (a number)",
            percent_encode(id)
        ))
    })
}

/// Sets one level: the inventory item from the key, or looked up from the variant.
fn push_level(api: &Api, config: &Config, level: &StockLevel) -> Result<(), ConnectorError> {
    let key = &level.key;
    let location_text = key
        .location_id
        .as_deref()
        .filter(|id| !id.trim().is_empty())
        .map_or_else(|| config.require("location_id"), Ok)?;
    let location_id: u64 = location_text.trim().parse().map_err(|_| {
        ConnectorError::invalid_field(
            "location_id",
            format!("{location_text:?} is not a Shopify location id"),
        )
    })?;
    let inventory_item_id = match (
        key.inventory_item_id
            .as_deref()
            .filter(|id| !id.trim().is_empty()),
        key.variation_id
            .as_deref()
            .filter(|id| !id.trim().is_empty()),
    ) {
        (Some(item), _) => item.trim().parse::<u64>().map_err(|_| {
            ConnectorError::invalid_field(
                "inventory_item_id",
                format!("{item:?} is not a Shopify inventory item id"),
            )
        })?,
        (None, Some(variant)) => inventory_item_of(api, variant)?,
        (None, None) => {
            return Err(ConnectorError::invalid_field(
                "inventory_item_id",
                "Shopify sets stock per inventory item: the key needs inventory_item_id or \
                 variation_id (the variant id)",
            ));
        }
    };
    let body = json!({
        "location_id": location_id,
        "inventory_item_id": inventory_item_id,
        "available": level.quantity,
    });
    api.send(Request::post(api.url("inventory_levels/set.json")).json(&body))
        .map(drop)
}

/// The variant's `inventory_item_id` (`GET variants/{id}.json`).
fn inventory_item_of(api: &Api, variant: &str) -> Result<u64, ConnectorError> {
    let id = numeric_id(variant, "variant")?;
    #[derive(Deserialize)]
    struct One {
        variant: Variant,
    }
    #[derive(Deserialize)]
    struct Variant {
        inventory_item_id: Option<u64>,
    }
    let one: One = api.send(api.get(&format!("variants/{id}.json")))?.json()?;
    one.variant.inventory_item_id.ok_or_else(|| {
        ConnectorError::NotFound(format!("Shopify variant {id} has no inventory item"))
    })
}

#[derive(Debug, Deserialize)]
struct FulfillmentOrder {
    id: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    assigned_location_id: Option<u64>,
    /// Absent in older versions; when present it must allow creating a fulfillment.
    #[serde(default)]
    supported_actions: Option<Vec<String>>,
}

/// The order's fulfillment orders that can still be fulfilled.
fn open_fulfillment_orders(
    api: &Api,
    order_id: u64,
) -> Result<Vec<FulfillmentOrder>, ConnectorError> {
    #[derive(Deserialize)]
    struct List {
        fulfillment_orders: Vec<FulfillmentOrder>,
    }
    let list: List = api
        .send(api.get(&format!("orders/{order_id}/fulfillment_orders.json")))?
        .json()?;
    Ok(list
        .fulfillment_orders
        .into_iter()
        .filter(|fo| matches!(fo.status.as_str(), "open" | "in_progress"))
        .filter(|fo| {
            fo.supported_actions
                .as_ref()
                .is_none_or(|actions| actions.iter().any(|a| a == "create_fulfillment"))
        })
        .collect())
}

/// `POST fulfillments.json`: whole fulfillment orders (no line list means all of their
/// lines), with the tracking, and the customer told.
pub fn fulfillment_body(fulfillment_order_ids: &[u64], tracking: &Tracking) -> serde_json::Value {
    let mut tracking_info = json!({
        "number": tracking.number,
        "company": tracking.carrier,
    });
    if let Some(url) = tracking.url.as_deref().filter(|url| !url.trim().is_empty()) {
        tracking_info["url"] = json!(url);
    }
    json!({
        "fulfillment": {
            "line_items_by_fulfillment_order": fulfillment_order_ids
                .iter()
                .map(|id| json!({ "fulfillment_order_id": id }))
                .collect::<Vec<_>>(),
            "tracking_info": tracking_info,
            "notify_customer": true,
        }
    })
}

/// `X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(secret, raw body))`, compared in
/// constant time.
fn check_signature(secret: &str, request: &WebhookRequest) -> Result<(), ConnectorError> {
    let header = request
        .header("x-shopify-hmac-sha256")
        .ok_or_else(|| ConnectorError::BadSignature("no X-Shopify-Hmac-Sha256 header".into()))?;
    if signature::verify_hmac_sha256_base64(secret, &request.body, header) {
        Ok(())
    } else {
        Err(ConnectorError::BadSignature(
            "X-Shopify-Hmac-Sha256 does not match the webhook secret".into(),
        ))
    }
}

/// A public app signs every shop's deliveries with the same secret, so a delivery for
/// another shop would verify: refuse it when both domains are myshopify.com domains and
/// differ. (A custom domain in the config cannot be compared; the header always names
/// the myshopify.com one.)
fn check_shop_domain(config: &Config, request: &WebhookRequest) -> Result<(), ConnectorError> {
    let (Some(sent), Some(configured)) = (
        request
            .header("x-shopify-shop-domain")
            .map(mapping::normalize_domain),
        config.get("shop_domain").map(mapping::normalize_domain),
    ) else {
        return Ok(());
    };
    let both_myshopify = sent.ends_with(".myshopify.com") && configured.ends_with(".myshopify.com");
    if both_myshopify && sent != configured {
        return Err(ConnectorError::BadSignature(format!(
            "the delivery is for {sent}, not for this shop ({configured})"
        )));
    }
    Ok(())
}

/// What a verified delivery means, from `X-Shopify-Topic` and the body.
pub fn parse_webhook(request: &WebhookRequest) -> Result<VerifiedWebhook, ConnectorError> {
    let topic = request
        .header("x-shopify-topic")
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| ConnectorError::invalid_input("no X-Shopify-Topic header"))?;
    #[derive(Deserialize)]
    struct IdOnly {
        id: u64,
    }
    #[derive(Deserialize)]
    struct OrderIdOnly {
        order_id: u64,
    }
    #[derive(Deserialize)]
    struct Edited {
        order_edit: OrderIdOnly,
    }
    let event = match topic.as_str() {
        t if ORDER_TOPICS.contains(&t) => {
            let IdOnly { id } = request.json()?;
            // The body is the whole order; one that does not map (fields limited by the
            // subscription, say) still names the order for the host to fetch.
            let order = match map_order_json(&request.body) {
                Ok(order) => Some(order),
                Err(error) => {
                    tovor_sdk::log::warn(format!(
                        "the {topic} delivery for order {id} does not map ({}); the host \
                         will fetch the order",
                        error.message()
                    ));
                    None
                }
            };
            WebhookEvent::OrderChanged(OrderHint {
                id: id.to_string(),
                order,
            })
        }
        // The body is only a diff of the edit: the host fetches the order.
        "orders/edited" => {
            let Edited { order_edit } = request.json()?;
            WebhookEvent::OrderChanged(OrderHint {
                id: order_edit.order_id.to_string(),
                order: None,
            })
        }
        "refunds/create" => {
            let OrderIdOnly { order_id } = request.json()?;
            WebhookEvent::OrderChanged(OrderHint {
                id: order_id.to_string(),
                order: None,
            })
        }
        "orders/delete" => {
            let IdOnly { id } = request.json()?;
            WebhookEvent::OrderDeleted(id.to_string())
        }
        other => WebhookEvent::Ignored(format!("Shopify topic {other:?} is not used")),
    };
    Ok(VerifiedWebhook {
        // Duplicates of one event share the Event-Id; each delivery attempt has its own
        // Webhook-Id, which is the fallback.
        delivery_id: request
            .header("x-shopify-event-id")
            .or_else(|| request.header("x-shopify-webhook-id"))
            .map(str::to_owned),
        topic: Some(topic),
        event,
    })
}

#[cfg(test)]
mod tests;
