//! The WooCommerce shop connector, over the WooCommerce REST API v3
//! (`{site}/wp-json/wc/v3`).
//!
//! | WooCommerce | connector operation |
//! |---|---|
//! | `GET /orders?modified_after=..&dates_are_gmt=true&orderby=date&order=asc&per_page=100&page=N&status=any` | `list_orders` |
//! | `GET /orders/{id}` | `get_order` |
//! | signed `POST` to our webhook URL (`X-WC-Webhook-Signature`), or the unsigned ping | `verify_webhook` |
//! | `POST /products/batch`, `POST /products/{id}/variations/batch` | `push_stock` |
//! | `GET /products`, `GET /products/{id}/variations` | `list_products` |
//! | `POST /orders/{id}/notes`, `PUT /orders/{id}` | `mark_shipped` |
//!
//! Authentication: over HTTPS, HTTP Basic with the consumer key and secret; over plain
//! HTTP WooCommerce refuses Basic and wants OAuth 1.0a one-legged signatures in the
//! query (see [`oauth`]). The JSON mapping lives in [`woo`].

// Natively nothing calls the `Shop` implementation (it is exported only in the wasm
// build), so dead-code analysis is meaningful only there.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod oauth;
pub mod woo;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tovor_sdk::http::{Request, Response, percent_encode};
use tovor_sdk::shop::{
    OrderHint, OrderPage, Product, ProductPage, ShopCapabilities, ShopInfo, StockLevel,
    VerifiedWebhook, WebhookEvent, WebhookRequest,
};
use tovor_sdk::types::{ConnectorError, Order, Tracking};
use tovor_sdk::{Config, Shop, signature};

pub use woo::map_order_json;

/// Orders and products per page: WooCommerce's maximum.
const PAGE_SIZE: usize = 100;
/// Objects per batch request: WooCommerce's default `woocommerce_rest_batch_items_limit`.
const BATCH_LIMIT: usize = 100;

struct WooCommerce;

impl Shop for WooCommerce {
    fn describe() -> ShopInfo {
        // Keep in step with `capabilities` in plugin.toml.
        ShopInfo {
            platform: "WooCommerce".into(),
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
        let page = page_cursor(cursor)?;
        let response = api.send(
            "GET",
            "/orders",
            &orders_query(&modified_after(changed_since)?, page),
            None,
        )?;
        let orders: Vec<woo::WooOrder> = response.json()?;
        Ok(OrderPage {
            next_cursor: next_page(&response, page),
            orders: orders
                .into_iter()
                .map(woo::map_order)
                .collect::<Result<_, _>>()?,
        })
    }

    fn get_order(config: &Config, id: String) -> Result<Order, ConnectorError> {
        let api = Api::new(config)?;
        let response = api.send(
            "GET",
            &format!("/orders/{}", percent_encode(&id)),
            &[],
            None,
        )?;
        woo::map_order_json(&response.body)
    }

    fn verify_webhook(
        config: &Config,
        request: WebhookRequest,
    ) -> Result<VerifiedWebhook, ConnectorError> {
        verify_webhook(config.require("webhook_secret")?, &request)
    }

    fn push_stock(
        config: &Config,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let mut results: Vec<Option<Result<(), ConnectorError>>> = vec![None; levels.len()];
        // Simple products in one batch endpoint, variations per parent: WooCommerce
        // only updates a variation reliably through its parent's variations endpoint.
        let mut simple: Vec<(usize, u64, i64)> = Vec::new();
        let mut variations: BTreeMap<u64, Vec<(usize, u64, i64)>> = BTreeMap::new();
        for (index, level) in levels.iter().enumerate() {
            match stock_target(level) {
                Ok((product, None)) => simple.push((index, product, level.quantity)),
                Ok((product, Some(variation))) => {
                    variations
                        .entry(product)
                        .or_default()
                        .push((index, variation, level.quantity))
                }
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        for chunk in simple.chunks(BATCH_LIMIT) {
            api.batch_stock("/products/batch", chunk, &mut results)?;
        }
        for (parent, items) in &variations {
            let path = format!("/products/{parent}/variations/batch");
            for chunk in items.chunks(BATCH_LIMIT) {
                api.batch_stock(&path, chunk, &mut results)?;
            }
        }
        Ok(results
            .into_iter()
            .map(|result| {
                result
                    .unwrap_or_else(|| Err(ConnectorError::Other("no result for this item".into())))
            })
            .collect())
    }

    fn list_products(
        config: &Config,
        cursor: Option<String>,
    ) -> Result<ProductPage, ConnectorError> {
        let api = Api::new(config)?;
        let page = page_cursor(cursor)?;
        let response = api.send("GET", "/products", &products_query(page), None)?;
        let listed: Vec<woo::WooProduct> = response.json()?;
        let mut products = Vec::with_capacity(listed.len());
        for product in &listed {
            products.push(woo::map_product(product));
            if product.kind == "variable" {
                products.extend(api.variations(product)?);
            }
        }
        Ok(ProductPage {
            next_cursor: next_page(&response, page),
            products,
        })
    }

    fn mark_shipped(
        config: &Config,
        order_id: String,
        tracking: Tracking,
    ) -> Result<(), ConnectorError> {
        let api = Api::new(config)?;
        let order = format!("/orders/{}", percent_encode(&order_id));
        let note = shipped_note(&tracking);
        // A retried call must not add the note twice.
        let notes: Vec<Value> = api
            .send("GET", &format!("{order}/notes"), &[], None)?
            .json()?;
        let already = notes
            .iter()
            .any(|existing| existing["note"].as_str() == Some(note.as_str()));
        if !already {
            api.send(
                "POST",
                &format!("{order}/notes"),
                &[],
                Some(&json!({ "note": note, "customer_note": true })),
            )?;
        }
        api.send("PUT", &order, &[], Some(&json!({ "status": "completed" })))?;
        Ok(())
    }
}

// Only the wasm component exports the connector: natively (the `rlib` that benchmarks and
// tests link) the export symbols, whose names contain `:`, cannot go into a shared library.
#[cfg(target_arch = "wasm32")]
tovor_sdk::export_shop!(WooCommerce);

/// The API root and credentials for one shop.
struct Api {
    /// `{site}/wp-json/wc/v3`.
    base: String,
    key: String,
    secret: String,
    /// Plain HTTP: sign with OAuth 1.0a instead of sending the secret.
    oauth: bool,
}

impl Api {
    fn new(config: &Config) -> Result<Self, ConnectorError> {
        let site = config.api_base_or(config.require("url")?);
        let scheme = site
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(ConnectorError::invalid_field(
                "url",
                format!("{site:?} is not an http:// or https:// address"),
            ));
        }
        Ok(Self {
            base: api_root(&site),
            key: config.require("consumer_key")?.trim().to_owned(),
            secret: config.require("consumer_secret")?.trim().to_owned(),
            oauth: scheme == "http",
        })
    }

    /// Sends a request with our credentials; a non-2xx answer is an error whose variant
    /// follows the status and whose text quotes WooCommerce's code and message.
    fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Response, ConnectorError> {
        let url = format!("{}{path}", self.base);
        let mut params: Vec<(String, String)> = query
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        let mut request = if self.oauth {
            let timestamp = tovor_sdk::time::now().unix_timestamp();
            params.extend(oauth::sign_request(
                method,
                &url,
                &params,
                &self.key,
                &self.secret,
                timestamp,
                &oauth::nonce(),
            ));
            Request::new(method, url).query(&params)
        } else {
            Request::new(method, url)
                .query(&params)
                .basic_auth(&self.key, &self.secret)
        };
        request = request.header("Accept", "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send()?;
        match woo::response_error(response.status, &response.headers, &response.body) {
            Some(error) => Err(error),
            None => Ok(response),
        }
    }

    /// One batch request setting absolute stock; per-item outcomes go into `results`.
    fn batch_stock(
        &self,
        path: &str,
        items: &[(usize, u64, i64)],
        results: &mut [Option<Result<(), ConnectorError>>],
    ) -> Result<(), ConnectorError> {
        let update: Vec<Value> = items
            .iter()
            .map(|(_, id, quantity)| {
                json!({ "id": id, "manage_stock": true, "stock_quantity": quantity })
            })
            .collect();
        let response = self.send("POST", path, &[], Some(&json!({ "update": update })))?;
        let answer: Value = response.json()?;
        let answered = answer["update"].as_array().cloned().unwrap_or_default();
        for (position, (index, id, _)) in items.iter().enumerate() {
            // Core answers in request order; look the id up in case it did not.
            let item = answered
                .get(position)
                .filter(|item| item["id"].as_u64() == Some(*id))
                .or_else(|| {
                    answered
                        .iter()
                        .find(|item| item["id"].as_u64() == Some(*id))
                });
            let result = match item {
                Some(item) => woo::batch_item_result(item),
                None => Err(ConnectorError::Other(format!(
                    "WooCommerce's batch answer has no result for id {id}"
                ))),
            };
            if let Some(slot) = results.get_mut(*index) {
                *slot = Some(result);
            }
        }
        Ok(())
    }

    /// Every variation of a variable product, all pages.
    fn variations(&self, parent: &woo::WooProduct) -> Result<Vec<Product>, ConnectorError> {
        let path = format!("/products/{}/variations", parent.id);
        let mut products = Vec::new();
        let mut page = 1;
        loop {
            let response = self.send("GET", &path, &products_query(page), None)?;
            let variations: Vec<woo::WooProduct> = response.json()?;
            products.extend(
                variations
                    .iter()
                    .map(|variation| woo::map_variation(parent, variation)),
            );
            match next_page(&response, page) {
                Some(_) if !variations.is_empty() => page += 1,
                _ => return Ok(products),
            }
        }
    }
}

/// `{site}/wp-json/wc/v3`, the site given with or without a trailing `/`.
fn api_root(site: &str) -> String {
    format!("{}/wp-json/wc/v3", site.trim().trim_end_matches('/'))
}

/// The page a cursor names; no cursor is page 1.
fn page_cursor(cursor: Option<String>) -> Result<usize, ConnectorError> {
    match cursor {
        None => Ok(1),
        Some(cursor) => cursor
            .trim()
            .parse()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| {
                ConnectorError::invalid_field("cursor", format!("{cursor:?} is not a page number"))
            }),
    }
}

/// The next page while `X-WP-TotalPages` says there is one. (The `Link` header is not
/// followed: WordPress copies the request's query into it, OAuth parameters included,
/// which would have to be re-signed anyway.)
fn next_page(response: &Response, page: usize) -> Option<String> {
    let total_pages: usize = response
        .header("x-wp-totalpages")
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    (page < total_pages).then(|| (page + 1).to_string())
}

/// WooCommerce's `modified_after` for "changed at or after `changed_since`": a GMT time
/// without zone (read as GMT because of `dates_are_gmt=true`). WordPress compares
/// `after` exclusively and to the second, so we ask for one second earlier; the host
/// de-duplicates what it sees twice.
fn modified_after(changed_since: &str) -> Result<String, ConnectorError> {
    let at = tovor_sdk::time::parse_rfc3339(changed_since)
        .map_err(|error| ConnectorError::invalid_field("changed_since", error.message()))?;
    let at = at.replace_nanosecond(0).unwrap_or(at) - std::time::Duration::from_secs(1);
    // `2025-03-02T09:14:59Z` (whole seconds, UTC) without its zone.
    Ok(tovor_sdk::time::format_utc(at)
        .trim_end_matches('Z')
        .to_owned())
}

fn orders_query(modified_after: &str, page: usize) -> Vec<(&'static str, String)> {
    vec![
        ("modified_after", modified_after.to_owned()),
        ("dates_are_gmt", "true".into()),
        // Ordering by creation keeps pages stable while orders change during a sync:
        // an order that newly matches shifts later pages (a duplicate, never a gap).
        ("orderby", "date".into()),
        ("order", "asc".into()),
        ("per_page", PAGE_SIZE.to_string()),
        ("page", page.to_string()),
        ("status", "any".into()),
    ]
}

fn products_query(page: usize) -> Vec<(&'static str, String)> {
    vec![
        ("per_page", PAGE_SIZE.to_string()),
        ("page", page.to_string()),
        // Stable paging while products are added.
        ("orderby", "id".into()),
        ("order", "asc".into()),
    ]
}

/// Which product (and variation) a stock level is for.
fn stock_target(level: &StockLevel) -> Result<(u64, Option<u64>), ConnectorError> {
    let id = |field: &str, value: Option<&str>| -> Result<Option<u64>, ConnectorError> {
        match value.map(str::trim).filter(|value| !value.is_empty()) {
            None => Ok(None),
            Some(value) => value.parse().map(Some).map_err(|_| {
                ConnectorError::invalid_field(field, format!("{value:?} is not a WooCommerce id"))
            }),
        }
    };
    let product = id("product_id", level.key.product_id.as_deref())?.ok_or_else(|| {
        ConnectorError::invalid_field(
            "product_id",
            "WooCommerce stock is set by product id; link the SKU first (list-products)",
        )
    })?;
    Ok((
        product,
        id("variation_id", level.key.variation_id.as_deref())?,
    ))
}

/// The customer-visible order note for a shipment.
fn shipped_note(tracking: &Tracking) -> String {
    let mut note = format!(
        "Your order has been shipped with {}. Tracking number: {}.",
        tracking.carrier, tracking.number
    );
    if let Some(url) = tracking.url.as_deref().filter(|url| !url.is_empty()) {
        note.push_str(&format!(" Track your parcel: {url}"));
    }
    note
}

/// Checks and parses a delivery. The activation ping (`webhook_id=N`, unsigned, no
/// `X-WC-*` headers) is answered; anything else must carry a valid signature.
fn verify_webhook(
    secret: &str,
    request: &WebhookRequest,
) -> Result<VerifiedWebhook, ConnectorError> {
    let topic = request.header("x-wc-webhook-topic").map(str::to_owned);
    let Some(signature_header) = request.header("x-wc-webhook-signature") else {
        if topic.is_none() && is_ping(&request.body) {
            return Ok(VerifiedWebhook {
                delivery_id: None,
                topic: None,
                event: WebhookEvent::Ping(None),
            });
        }
        return Err(ConnectorError::BadSignature(
            "no X-WC-Webhook-Signature header".into(),
        ));
    };
    if !signature::verify_hmac_sha256_base64(secret, &request.body, signature_header) {
        return Err(ConnectorError::BadSignature(
            "X-WC-Webhook-Signature does not match the webhook secret".into(),
        ));
    }
    let event = match topic.as_deref() {
        Some("order.created" | "order.updated" | "order.restored") => {
            let order = woo::map_order_json(&request.body).map_err(|error| {
                ConnectorError::invalid_input(format!(
                    "the webhook body is not an order: {}",
                    error.message()
                ))
            })?;
            WebhookEvent::OrderChanged(OrderHint {
                id: order.id.clone(),
                order: Some(order),
            })
        }
        Some("order.deleted") => {
            let body: Value = request.json()?;
            let id = body["id"]
                .as_u64()
                .map(|id| id.to_string())
                .or_else(|| body["id"].as_str().map(str::to_owned))
                .ok_or_else(|| ConnectorError::invalid_input("order.deleted without an id"))?;
            WebhookEvent::OrderDeleted(id)
        }
        Some(other) => WebhookEvent::Ignored(format!("WooCommerce topic {other:?} is not used")),
        None => WebhookEvent::Ignored("a signed delivery without X-WC-Webhook-Topic".into()),
    };
    Ok(VerifiedWebhook {
        delivery_id: request
            .header("x-wc-webhook-delivery-id")
            .map(str::to_owned),
        topic,
        event,
    })
}

/// `webhook_id=<digits>` and nothing else.
fn is_ping(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .ok()
        .map(str::trim)
        .and_then(|body| body.strip_prefix("webhook_id="))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests;
