//! A fake Minishop (the example connector's platform) on 127.0.0.1: the API the
//! connector calls, with bearer auth, pagination and error bodies, plus signed webhook
//! deliveries the way Minishop sends them.
//!
//! Minishop's API (see `plugins/example-shop/src/lib.rs`):
//! `GET /api/v1/orders?updated_since=&page=&per_page=` → `{orders, page, total_pages}`,
//! `GET /api/v1/orders/{id}`, `PUT /api/v1/stock/{sku}` with `{"quantity": n}`.
//! Webhooks: `X-Minishop-Event`, `X-Minishop-Delivery`,
//! `X-Minishop-Signature: sha256=<hex HMAC-SHA256 of the body>`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

pub const TOKEN: &str = "minishop-token";
pub const WEBHOOK_SECRET: &str = "minishop-webhook-secret";

/// One stock update the shop received.
#[derive(Debug, Clone)]
pub struct StockUpdate {
    pub sku: String,
    pub quantity: i64,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    orders: BTreeMap<u64, Value>,
    stock: HashMap<String, i64>,
    updates: Vec<StockUpdate>,
    /// Answer every API call with 503 (the shop is down).
    down: bool,
    /// How long a stock update takes to answer (a slow shop).
    stock_delay: std::time::Duration,
    requests: u64,
    /// The API token the shop accepts, when the owner changed it from [`TOKEN`].
    token: Option<String>,
}

/// The running fake shop.
#[derive(Clone)]
pub struct Minishop {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
    notify: Arc<tokio::sync::Notify>,
}

impl Minishop {
    /// Starts the shop on a free port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shop = Self {
            inner: Arc::default(),
            addr,
            notify: Arc::default(),
        };
        let app = Router::new()
            .route("/api/v1/orders", get(list_orders))
            .route("/api/v1/orders/{id}", get(get_order))
            .route("/api/v1/stock/{sku}", put(put_stock))
            .with_state(shop.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(shop)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The connector config of a shop pointing here.
    pub fn config(&self) -> Value {
        json!({
            "shop_url": self.url(),
            "api_token": TOKEN,
            "webhook_secret": WEBHOOK_SECRET,
        })
    }

    /// Adds or replaces an order.
    pub fn put_order(&self, order: Value) {
        let id = order["id"].as_u64().unwrap_or_default();
        if let Ok(mut inner) = self.inner.lock() {
            inner.orders.insert(id, order);
        }
    }

    pub fn set_stock_delay(&self, delay: std::time::Duration) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.stock_delay = delay;
        }
    }

    /// The shop owner replaces the API token: from now on only `token` is accepted.
    pub fn set_token(&self, token: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.token = Some(token.to_owned());
        }
    }

    pub fn set_down(&self, down: bool) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.down = down;
        }
    }

    /// The stock the shop holds for `sku`, as last set.
    pub fn stock(&self, sku: &str) -> Option<i64> {
        self.inner.lock().ok()?.stock.get(sku).copied()
    }

    pub fn updates(&self) -> Vec<StockUpdate> {
        self.inner
            .lock()
            .map(|inner| inner.updates.clone())
            .unwrap_or_default()
    }

    pub fn requests(&self) -> u64 {
        self.inner.lock().map(|inner| inner.requests).unwrap_or(0)
    }

    /// Waits until `sku` has stock `quantity` or `timeout` passes.
    pub async fn wait_for_stock(
        &self,
        sku: &str,
        quantity: i64,
        timeout: std::time::Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            if self.stock(sku) == Some(quantity) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.stock(sku) == Some(quantity);
            }
        }
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

/// Auth and availability, as every Minishop endpoint checks them.
fn gate(shop: &Minishop, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let mut inner = shop
        .inner
        .lock()
        .map_err(|_| Box::new(error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned")))?;
    inner.requests += 1;
    if inner.down {
        return Err(Box::new(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "maintenance",
        )));
    }
    let expected = format!("Bearer {}", inner.token.as_deref().unwrap_or(TOKEN));
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(value) if value == expected => Ok(()),
        // Like many real platforms, Minishop quotes the credential it refused.
        Some(value) => Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            &format!("invalid API token {}", value.trim_start_matches("Bearer ")),
        ))),
        None => Err(Box::new(error(StatusCode::UNAUTHORIZED, "no API token"))),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    updated_since: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
}

fn parse_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

async fn list_orders(
    State(shop): State<Minishop>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Err(response) = gate(&shop, &headers) {
        return *response;
    }
    let since = query.updated_since.as_deref().and_then(parse_time);
    let per_page = query.per_page.unwrap_or(50).clamp(1, 50);
    let page = query.page.unwrap_or(1).max(1);
    let Ok(inner) = shop.inner.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
    };
    let mut matching: Vec<&Value> = inner
        .orders
        .values()
        .filter(|order| {
            let updated = order["updated_at"].as_str().and_then(parse_time);
            match (since, updated) {
                (Some(since), Some(updated)) => updated >= since,
                _ => true,
            }
        })
        .collect();
    matching.sort_by_key(|order| order["updated_at"].as_str().and_then(parse_time));
    let total_pages = matching.len().div_ceil(per_page).max(1);
    let orders: Vec<Value> = matching
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    Json(json!({"orders": orders, "page": page, "total_pages": total_pages})).into_response()
}

async fn get_order(
    State(shop): State<Minishop>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> Response {
    if let Err(response) = gate(&shop, &headers) {
        return *response;
    }
    let order = shop
        .inner
        .lock()
        .ok()
        .and_then(|inner| inner.orders.get(&id).cloned());
    match order {
        Some(order) => Json(order).into_response(),
        None => error(StatusCode::NOT_FOUND, "order not found"),
    }
}

#[derive(Deserialize)]
struct StockBody {
    quantity: i64,
}

async fn put_stock(
    State(shop): State<Minishop>,
    headers: HeaderMap,
    Path(sku): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(response) = gate(&shop, &headers) {
        return *response;
    }
    let Ok(body) = serde_json::from_slice::<StockBody>(&body) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity must be an integer",
        );
    };
    // A slow shop takes its time before the update lands and is answered.
    let delay = shop
        .inner
        .lock()
        .map(|inner| inner.stock_delay)
        .unwrap_or_default();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Ok(mut inner) = shop.inner.lock() {
        inner.stock.insert(sku.clone(), body.quantity);
        inner.updates.push(StockUpdate {
            sku: sku.clone(),
            quantity: body.quantity,
            at: Instant::now(),
        });
    }
    shop.notify.notify_waiters();
    Json(json!({"sku": sku, "quantity": body.quantity})).into_response()
}

/// A Minishop order of `lines` (sku, quantity, unit price without tax at 22 % VAT),
/// placed by `email` at `updated_at` (and last changed then).
pub fn order(id: u64, email: &str, lines: &[(&str, u32, &str)], updated_at: &str) -> Value {
    use rust_decimal::Decimal;
    let rate = Decimal::new(22, 2);
    let mut items = Vec::new();
    let mut total = Decimal::ZERO;
    for (index, (sku, quantity, price)) in lines.iter().enumerate() {
        let price: Decimal = price.parse().unwrap_or_default();
        let net = price * Decimal::from(*quantity);
        let tax = (net * rate).round_dp(2);
        total += net + tax;
        items.push(json!({
            "id": index + 1,
            "product_id": product_id(sku),
            "sku": sku,
            "name": format!("Product {sku}"),
            "quantity": quantity,
            "unit_price": price.to_string(),
            "tax_rate": "22",
            "tax": tax.to_string(),
            "total": net.to_string(),
        }));
    }
    json!({
        "id": id,
        "number": id.to_string(),
        "status": "paid",
        "currency": "EUR",
        "created_at": updated_at,
        "updated_at": updated_at,
        "customer": {"id": 7000 + id, "email": email, "name": "Ana Novak"},
        "billing_address": {"name": "Ana Novak", "street": "Slovenska cesta 12a", "city": "Ljubljana", "zip": "1000", "country": "SI"},
        "shipping_address": {"name": "Ana Novak", "street": "Trg republike 3", "city": "Ljubljana", "zip": "1000", "country": "SI"},
        "payment": {"method": "card", "title": "Card"},
        "items": items,
        "shipping": null,
        "total": total.to_string(),
        "note": null,
    })
}

/// Minishop's product id of a SKU in these fixtures: stable, distinct per SKU.
pub fn product_id(sku: &str) -> u64 {
    sku.bytes()
        .fold(1_469_598_103_934_665_603_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(1_099_511_628_211)
        })
        % 1_000_000_000
}

/// The headers and body of a signed Minishop webhook delivery.
pub fn signed_delivery(
    event: &str,
    delivery_id: &str,
    body: &Value,
    secret: &str,
) -> (Vec<(String, String)>, Vec<u8>) {
    let body = serde_json::to_vec(body).unwrap_or_default();
    let signature = sign(secret, &body);
    (
        vec![
            ("content-type".into(), "application/json".into()),
            ("x-minishop-event".into(), event.into()),
            ("x-minishop-delivery".into(), delivery_id.into()),
            ("x-minishop-signature".into(), format!("sha256={signature}")),
        ],
        body,
    )
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
