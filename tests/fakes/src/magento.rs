//! A fake Magento 2 / Adobe Commerce REST API on 127.0.0.1.
//!
//! It answers the paths a shop connector uses under `/rest/V1` (and
//! `/rest/{store_code}/V1`), the way Magento 2.4 does:
//!
//! | path | what |
//! |---|---|
//! | `GET /V1/orders` | `searchCriteria[filter_groups][g][filters][f][field\|value\|condition_type]` (groups ANDed, filters of a group ORed; `eq`, `neq`, `gt`, `gteq`, `lt`, `lteq`, `in`, `nin`, `like`), `searchCriteria[sortOrders][i][field\|direction]` (applied in turn), `searchCriteria[pageSize]`, `searchCriteria[currentPage]` (past the last page: the last page again, as `Collection::getCurPage` clamps), answering `{items, search_criteria, total_count}`; no `searchCriteria` at all is 400 `"%fieldName" is required` |
//! | `GET /V1/orders/{id}` | one order, or 404 "The entity that was requested doesn't exist." |
//! | `POST /V1/order/{id}/ship` | `{items: [{order_item_id, qty}], notify, tracks: [{track_number, title, carrier_code}]}` → the shipment id; an order with nothing left to ship is 400 "Shipment Document Validation Error(s)" |
//! | `GET /V1/inventory/sources` | MSI only (404 "Request does not match any route." when switched off) |
//! | `POST /V1/inventory/source-items` | MSI only: `{sourceItems: [{sku, source_code, quantity, status}]}`, all or nothing (400 "Validation Failed" with `errors`) |
//! | `GET /V1/stockItems/{sku}`, `PUT /V1/products/{sku}/stockItems/{itemId}` | legacy stock items (the `default` source's quantity) |
//!
//! Authentication as Magento checks it: OAuth 1.0a (`Authorization: OAuth ...`, the
//! signature recomputed as `Magento\Framework\Oauth` does: query parameters split off
//! the raw query and `urldecode`d, names and values `rawurlencode`d, sorted, HMAC-SHA256
//! or HMAC-SHA1 under `consumer_secret&token_secret`; nonces are single-use), or a
//! Bearer token: [`ADMIN_TOKEN`] always, the integration's [`ACCESS_TOKEN`] only after
//! [`FakeMagento::allow_bearer_tokens`] (Magento 2.4.4+ refuses it by default). Refusals
//! are Magento's 401s: "The signature is invalid. Verify and try again.", "The consumer
//! isn't authorized to access %resources." (also for a resource taken away with
//! [`FakeMagento::deny_resource`]).
//!
//! Errors are Magento's `{"message", "parameters"}`. Switches: [`FakeMagento::set_msi`],
//! [`FakeMagento::set_down`] (503 maintenance page), [`FakeMagento::fail_next`] (500),
//! [`FakeMagento::set_slow`]. [`FakeMagento::webhook_delivery`] signs an Adobe Commerce
//! webhook (`x-adobe-commerce-webhook-signature`, RSA-SHA256 base64) with a key pair
//! generated on first use.
//!
//! Money: the store's base currency is EUR; an order may be placed in another currency
//! at a rate, with the plain amounts in that currency and `base_*` in EUR. Prices are
//! net; tax per line at the product's rate (22 % or 9.5 %), discounts by coupon on net
//! prices, or on gross prices (with `discount_tax_compensation_amount`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::sha2::Sha256 as RsaSha256;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

pub use crate::webhook::Delivery;

/// The integration's consumer key.
pub const CONSUMER_KEY: &str = "9v1b5yq0r3w2kz7h8c4m6x0dl2e5tqaj";
/// The integration's consumer secret.
pub const CONSUMER_SECRET: &str = "p3n8c1z6w0r9q4k7y2b5h8j1m4x7t0sa";
/// The integration's access token (also a Bearer token where allowed).
pub const ACCESS_TOKEN: &str = "h2k9q4w7z1c8r5y3n6b0m2x5t8l1d4va";
/// The integration's access token secret.
pub const ACCESS_TOKEN_SECRET: &str = "r7t2y9u4i1o8p5a3s6d0f2g5h8j1k4zb";
/// An admin token (`POST /V1/integration/admin/token`), always a Bearer token.
pub const ADMIN_TOKEN: &str = "eyJraWQiOiIxIiwiYWxnIjoiSFMyNTYifQ.admin.fake";
/// The sources of the store with MSI.
pub const SOURCES: &[&str] = &["default", "ljubljana"];
/// The store's base currency.
pub const BASE_CURRENCY: &str = "EUR";

/// A product in the catalog.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: u64,
    pub sku: String,
    pub name: String,
    /// `simple`, `configurable` or `bundle`.
    pub kind: String,
    /// Net price in EUR (a fixed bundle's own price; 0 for a dynamic bundle).
    pub price: Decimal,
    /// Tax rate in percent.
    pub tax: Decimal,
    /// A configurable's children, a bundle's selections.
    pub children: Vec<String>,
    /// A bundle's price type: dynamic (children priced) or fixed.
    pub dynamic: bool,
}

/// An order to place.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    lines: Vec<(String, Option<String>, Decimal)>,
    currency: String,
    rate: Decimal,
    customer: Option<(u64, String, String, String)>,
    guest: (String, String, String),
    coupon: Option<(String, Decimal, bool)>,
    shipping: Option<(String, String, Decimal)>,
    payment: (String, String),
    status: String,
    paid: bool,
}

impl Default for OrderSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderSpec {
    /// A EUR order of a registered customer, flat rate shipping 5.00 net (22 %), check
    /// / money order, pending and unpaid.
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            currency: BASE_CURRENCY.into(),
            rate: Decimal::ONE,
            customer: Some((
                7,
                "ana.novak@example.si".into(),
                "Ana".into(),
                "Novak".into(),
            )),
            guest: ("gost@example.si".into(), "Marko".into(), "Horvat".into()),
            coupon: None,
            shipping: Some((
                "flatrate_flatrate".into(),
                "Flat Rate - Fixed".into(),
                Decimal::new(500, 2),
            )),
            payment: ("checkmo".into(), "Check / Money order".into()),
            status: "pending".into(),
            paid: false,
        }
    }

    /// `quantity` of a simple product or a bundle by SKU.
    pub fn line(mut self, sku: &str, quantity: u32) -> Self {
        self.lines
            .push((sku.to_owned(), None, Decimal::from(quantity)));
        self
    }

    /// `quantity` of the configurable `parent` in its variant `child`.
    pub fn variant(mut self, parent: &str, child: &str, quantity: u32) -> Self {
        self.lines.push((
            parent.to_owned(),
            Some(child.to_owned()),
            Decimal::from(quantity),
        ));
        self
    }

    /// Placed in `currency` at `rate` units per EUR.
    pub fn currency(mut self, currency: &str, rate: &str) -> Self {
        self.currency = currency.to_owned();
        self.rate = rate.parse().unwrap_or(Decimal::ONE);
        self
    }

    /// A guest checkout.
    pub fn guest(mut self, email: &str, first: &str, last: &str) -> Self {
        self.customer = None;
        self.guest = (email.to_owned(), first.to_owned(), last.to_owned());
        self
    }

    /// A coupon of `percent` off every line, on net prices, or on gross prices
    /// (`on_gross`, with discount tax compensation).
    pub fn coupon(mut self, code: &str, percent: &str, on_gross: bool) -> Self {
        self.coupon = Some((
            code.to_owned(),
            percent.parse().unwrap_or_default(),
            on_gross,
        ));
        self
    }

    /// Shipping by `method` (`carrier_method`) with its title and net price in EUR;
    /// `None` for a virtual order.
    pub fn shipping(mut self, method: Option<(&str, &str, &str)>) -> Self {
        self.shipping = method.map(|(code, title, net)| {
            (
                code.to_owned(),
                title.to_owned(),
                net.parse().unwrap_or_default(),
            )
        });
        self
    }

    pub fn payment(mut self, code: &str, title: &str) -> Self {
        self.payment = (code.to_owned(), title.to_owned());
        self
    }

    /// The status (`pending`, `processing`, `complete`, `closed`, `canceled`,
    /// `holded`, ...).
    pub fn status(mut self, status: &str) -> Self {
        self.status = status.to_owned();
        self
    }

    /// Invoiced and paid in full.
    pub fn paid(mut self) -> Self {
        self.paid = true;
        self
    }
}

#[derive(Debug)]
struct State {
    products: BTreeMap<String, Product>,
    orders: BTreeMap<u64, Value>,
    next_entity: u64,
    next_item: u64,
    next_shipment: u64,
    next_product: u64,
    last_stamp: OffsetDateTime,
    msi: bool,
    /// (sku, source) → quantity.
    stock: BTreeMap<(String, String), Decimal>,
    bearer_tokens_allowed: bool,
    denied: Vec<String>,
    nonces: Vec<String>,
    down: bool,
    fail_next: usize,
    slow: Option<StdDuration>,
    requests: Vec<String>,
    source_item_posts: Vec<Value>,
    stock_item_puts: Vec<(String, Value)>,
    shipments: Vec<Value>,
}

impl State {
    /// Now in whole seconds; never before the previous stamp, but the same second may
    /// repeat (Magento's `updated_at` has whole seconds).
    fn stamp(&mut self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let next = now.max(self.last_stamp);
        self.last_stamp = next;
        next
    }
}

/// Magento's `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn magento_time(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn round(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount as Magento's JSON has it: a number.
fn num(value: Decimal) -> Value {
    let value = round(value).normalize();
    serde_json::from_str(&value.to_string()).unwrap_or(Value::Null)
}

/// A JSON amount back as a decimal (through its text).
pub fn dec(value: &Value) -> Decimal {
    match value {
        Value::Number(number) => number.to_string().parse().unwrap_or_default(),
        Value::String(text) => text.parse().unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

fn webhook_key() -> &'static Result<RsaPrivateKey, String> {
    static KEY: OnceLock<Result<RsaPrivateKey, String>> = OnceLock::new();
    KEY.get_or_init(|| crate::wix::new_key().map_err(|error| format!("{error:#}")))
}

/// The fake store.
pub struct FakeMagento {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakeMagento {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeMagento")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeMagento {
    /// A store with MSI and its catalog (a mug, coffee beans, a configurable T-shirt in
    /// S/M/L, a dynamic-price coffee set and a fixed-price gift box) and no orders.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake Magento to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            next_entity: 101,
            next_item: 501,
            next_shipment: 11,
            next_product: 1,
            last_stamp: OffsetDateTime::UNIX_EPOCH,
            msi: true,
            stock: BTreeMap::new(),
            bearer_tokens_allowed: false,
            denied: Vec::new(),
            nonces: Vec::new(),
            down: false,
            fail_next: 0,
            slow: None,
            requests: Vec::new(),
            source_item_posts: Vec::new(),
            stock_item_puts: Vec::new(),
            shipments: Vec::new(),
        }));
        let shared = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move {
                    let slow = lock(&state).slow;
                    if let Some(delay) = slow {
                        tokio::time::sleep(delay).await;
                    }
                    handle(&state, addr, &method, &uri, &headers, &body)
                }
            },
        );
        crate::serve_in_background("Magento", listener, app);
        let store = Self { state, addr };
        store.add_product("MUG-1", "Enamel mug", "simple", "8.20", "22", &[], false);
        store.add_product(
            "BEANS-1KG",
            "Coffee beans 1 kg",
            "simple",
            "18.26",
            "9.5",
            &[],
            false,
        );
        for (sku, name) in [
            ("TEE-S", "Organic T-shirt-S"),
            ("TEE-M", "Organic T-shirt-M"),
            ("TEE-L", "Organic T-shirt-L"),
        ] {
            store.add_product(sku, name, "simple", "16.31", "22", &[], false);
        }
        store.add_product(
            "TEE",
            "Organic T-shirt",
            "configurable",
            "16.31",
            "22",
            &["TEE-S", "TEE-M", "TEE-L"],
            false,
        );
        store.add_product(
            "COFFEE-SET",
            "Coffee set",
            "bundle",
            "0",
            "22",
            &["MUG-1", "BEANS-1KG"],
            true,
        );
        store.add_product(
            "GIFT-BOX",
            "Gift box",
            "bundle",
            "30.00",
            "22",
            &["MUG-1", "BEANS-1KG"],
            false,
        );
        // The same T-shirt SKU with a slash, as some stores name variants.
        store.add_product(
            "TEE/XL",
            "Organic T-shirt XL",
            "simple",
            "17.13",
            "22",
            &[],
            false,
        );
        Ok(store)
    }

    /// [`FakeMagento::start`] with orders of every kind: a configurable and a bundle
    /// with a coupon on net prices, a guest order with a coupon on gross prices, a USD
    /// order (base amounts in EUR), a fixed-price bundle, an order without shipping,
    /// and orders complete, closed, canceled and on hold.
    pub async fn start_seeded() -> anyhow::Result<Self> {
        let store = Self::start().await?;
        store.create_order(
            &OrderSpec::new()
                .variant("TEE", "TEE-M", 2)
                .line("COFFEE-SET", 1)
                .line("MUG-1", 3)
                .coupon("SUMMER10", "10", false)
                .status("processing")
                .paid(),
        );
        store.create_order(
            &OrderSpec::new()
                .guest("gost@example.si", "Marko", "Horvat")
                .line("BEANS-1KG", 2)
                .variant("TEE", "TEE-L", 1)
                .coupon("GROSS15", "15", true)
                .payment("banktransfer", "Bank Transfer Payment"),
        );
        store.create_order(
            &OrderSpec::new()
                .currency("USD", "1.0834")
                .line("GIFT-BOX", 1)
                .line("BEANS-1KG", 1)
                .shipping(Some(("ups_GND", "United Parcel Service - Ground", "12.40")))
                .status("complete")
                .paid(),
        );
        store.create_order(
            &OrderSpec::new()
                .line("MUG-1", 1)
                .shipping(None)
                .status("closed")
                .paid(),
        );
        store.create_order(&OrderSpec::new().line("TEE/XL", 1).status("canceled"));
        store.create_order(&OrderSpec::new().line("MUG-1", 4).status("holded"));
        Ok(store)
    }

    /// The store's base URL (`{base_url}/rest/V1/...`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Adds a product with 100 pieces on every source.
    #[allow(clippy::too_many_arguments)]
    pub fn add_product(
        &self,
        sku: &str,
        name: &str,
        kind: &str,
        price: &str,
        tax: &str,
        children: &[&str],
        dynamic: bool,
    ) {
        let mut state = self.lock();
        let id = state.next_product;
        state.next_product += 1;
        state.products.insert(
            sku.to_owned(),
            Product {
                id,
                sku: sku.to_owned(),
                name: name.to_owned(),
                kind: kind.to_owned(),
                price: price.parse().unwrap_or_default(),
                tax: tax.parse().unwrap_or_default(),
                children: children.iter().map(|c| (*c).to_owned()).collect(),
                dynamic,
            },
        );
        if kind == "simple" {
            for source in SOURCES {
                state
                    .stock
                    .insert((sku.to_owned(), (*source).to_owned()), Decimal::from(100));
            }
        }
    }

    pub fn product(&self, sku: &str) -> Option<Product> {
        self.lock().products.get(sku).cloned()
    }

    /// Places an order; answers it as `GET /V1/orders/{id}` would.
    pub fn create_order(&self, spec: &OrderSpec) -> Value {
        let mut state = self.lock();
        let order = build_order(&mut state, spec);
        let id = order["entity_id"].as_u64().unwrap_or_default();
        state.orders.insert(id, order.clone());
        order
    }

    /// An order as [`FakeMagento::create_order`] would place it, without placing it
    /// (to copy its items and totals onto an order being edited).
    pub fn draft_order(&self, spec: &OrderSpec) -> Value {
        build_order(&mut self.lock(), spec)
    }

    pub fn order(&self, id: u64) -> Option<Value> {
        self.lock().orders.get(&id).cloned()
    }

    pub fn order_ids(&self) -> Vec<u64> {
        self.lock().orders.keys().copied().collect()
    }

    /// Changes an order as the admin would; `updated_at` moves to now.
    pub fn update_order(&self, id: u64, change: impl FnOnce(&mut Value)) -> Value {
        let mut state = self.lock();
        let stamp = magento_time(state.stamp());
        let Some(order) = state.orders.get_mut(&id) else {
            panic!("the fake Magento has no order {id}");
        };
        change(order);
        order["updated_at"] = json!(stamp);
        order.clone()
    }

    /// Sets an order's `updated_at` (`YYYY-MM-DD HH:MM:SS`) as is.
    pub fn set_updated_at(&self, id: u64, at: &str) {
        if let Some(order) = self.lock().orders.get_mut(&id) {
            order["updated_at"] = json!(at);
        }
    }

    /// A source item's quantity (the legacy stock item is the `default` source's).
    pub fn quantity(&self, sku: &str, source: &str) -> Option<Decimal> {
        self.lock()
            .stock
            .get(&(sku.to_owned(), source.to_owned()))
            .copied()
    }

    /// Multi-Source Inventory on or off (off: the inventory routes do not exist).
    pub fn set_msi(&self, on: bool) {
        self.lock().msi = on;
    }

    /// Accept the integration's access token as a Bearer token (the admin setting of
    /// Magento 2.4.4+).
    pub fn allow_bearer_tokens(&self, allowed: bool) {
        self.lock().bearer_tokens_allowed = allowed;
    }

    /// Takes an ACL resource (`Magento_Sales::actions_view`) from the integration.
    pub fn deny_resource(&self, resource: &str) {
        self.lock().denied.push(resource.to_owned());
    }

    /// Maintenance mode: every request is a 503 page.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next `requests` are answered 500.
    pub fn fail_next(&self, requests: usize) {
        self.lock().fail_next = requests;
    }

    /// Every answer waits this long first.
    pub fn set_slow(&self, delay: Option<StdDuration>) {
        self.lock().slow = delay;
    }

    /// Requests as `METHOD /path?query`, oldest first.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// The bodies of `POST /V1/inventory/source-items` that were saved.
    pub fn source_item_posts(&self) -> Vec<Value> {
        self.lock().source_item_posts.clone()
    }

    /// `(sku, body)` of the legacy stock item updates.
    pub fn stock_item_puts(&self) -> Vec<(String, Value)> {
        self.lock().stock_item_puts.clone()
    }

    /// The shipments created, with `order_id` and the request's `items`, `tracks`,
    /// `notify`.
    pub fn shipments(&self) -> Vec<Value> {
        self.lock().shipments.clone()
    }

    /// The webhook public key (SubjectPublicKeyInfo PEM), as the admin shows it.
    pub fn webhook_public_key(&self) -> String {
        match webhook_key() {
            Ok(key) => crate::wix::public_pem(key).unwrap_or_default(),
            Err(error) => panic!("no webhook key: {error}"),
        }
    }

    /// An `observer.sales_order_save_after` delivery about the order, signed.
    pub fn webhook_delivery(&self, id: u64) -> Delivery {
        let order = self.order(id).unwrap_or_else(|| json!({"entity_id": id}));
        let body = json!({
            "eventName": "observer.sales_order_save_after",
            "data": {"order": {
                "entity_id": order["entity_id"],
                "increment_id": order["increment_id"],
                "status": order["status"],
                "updated_at": order["updated_at"],
            }},
        })
        .to_string()
        .into_bytes();
        Delivery {
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (
                    "x-adobe-commerce-webhook-signature".into(),
                    sign_webhook(&body),
                ),
            ],
            body,
        }
    }
}

/// The base64 RSA-SHA256 signature Adobe Commerce puts on a webhook body.
pub fn sign_webhook(body: &[u8]) -> String {
    match webhook_key() {
        Ok(key) => {
            let signature = SigningKey::<RsaSha256>::new(key.clone()).sign(body);
            STANDARD.encode(signature.to_vec())
        }
        Err(error) => panic!("no webhook key: {error}"),
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Magento's state for a status.
fn state_of(status: &str) -> &'static str {
    match status {
        "pending" => "new",
        "pending_payment" => "pending_payment",
        "processing" => "processing",
        "complete" => "complete",
        "closed" => "closed",
        "canceled" => "canceled",
        "holded" => "holded",
        "payment_review" | "fraud" => "payment_review",
        _ => "processing",
    }
}

/// Money of one priced item, in the order currency.
struct Money {
    price: Decimal,
    row_total: Decimal,
    tax: Decimal,
    discount: Decimal,
    compensation: Decimal,
}

fn item_money(
    net_price: Decimal,
    quantity: Decimal,
    rate: Decimal,
    coupon: Option<(Decimal, bool)>,
) -> Money {
    let price = net_price;
    let row_total = round(price * quantity);
    let full_tax = round(row_total * rate / Decimal::ONE_HUNDRED);
    match coupon {
        None => Money {
            price,
            row_total,
            tax: full_tax,
            discount: Decimal::ZERO,
            compensation: Decimal::ZERO,
        },
        Some((percent, false)) => {
            let discount = round(row_total * percent / Decimal::ONE_HUNDRED);
            Money {
                price,
                row_total,
                tax: round((row_total - discount) * rate / Decimal::ONE_HUNDRED),
                discount,
                compensation: Decimal::ZERO,
            }
        }
        Some((percent, true)) => {
            let gross = row_total + full_tax;
            let discount = round(gross * percent / Decimal::ONE_HUNDRED);
            let tax = round((gross - discount) * rate / (Decimal::ONE_HUNDRED + rate));
            Money {
                price,
                row_total,
                tax,
                discount,
                compensation: full_tax - tax,
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn item_json(
    item_id: u64,
    order_id: u64,
    parent: Option<u64>,
    product: &Product,
    sku: &str,
    name: &str,
    kind: &str,
    quantity: Decimal,
    money: Option<(&Money, Decimal, Decimal)>,
) -> Value {
    let zero = Money {
        price: Decimal::ZERO,
        row_total: Decimal::ZERO,
        tax: Decimal::ZERO,
        discount: Decimal::ZERO,
        compensation: Decimal::ZERO,
    };
    let (money, tax_percent, fx) = money.unwrap_or((&zero, Decimal::ZERO, Decimal::ONE));
    let base = |value: Decimal| num(value / fx);
    let price_incl = if quantity.is_zero() {
        Decimal::ZERO
    } else {
        round((money.row_total + money.tax + money.compensation) / quantity)
    };
    let mut item = json!({
        "item_id": item_id,
        "order_id": order_id,
        "product_id": product.id,
        "product_type": kind,
        "sku": sku,
        "name": name,
        "qty_ordered": num(quantity),
        "qty_shipped": 0,
        "qty_invoiced": 0,
        "qty_canceled": 0,
        "qty_refunded": 0,
        "price": num(money.price),
        "base_price": base(money.price),
        "original_price": num(money.price),
        "price_incl_tax": num(price_incl),
        "row_total": num(money.row_total),
        "base_row_total": base(money.row_total),
        "row_total_incl_tax": num(money.row_total + money.tax + money.compensation),
        "tax_amount": num(money.tax),
        "base_tax_amount": base(money.tax),
        "tax_percent": num(tax_percent),
        "discount_amount": num(money.discount),
        "base_discount_amount": base(money.discount),
        "discount_percent": 0,
        "discount_tax_compensation_amount": num(money.compensation),
        "is_virtual": 0,
        "store_id": 1,
        "weight": 0.35,
        "created_at": Value::Null,
        "updated_at": Value::Null,
    });
    if let Some(parent) = parent {
        item["parent_item_id"] = json!(parent);
    }
    item
}

fn build_order(state: &mut State, spec: &OrderSpec) -> Value {
    let entity_id = state.next_entity;
    state.next_entity += 1;
    let stamp = magento_time(state.stamp());
    let fx = spec.rate;
    let convert = |eur: Decimal| round(eur * fx);
    let coupon = spec
        .coupon
        .as_ref()
        .map(|(_, percent, gross)| (*percent, *gross));
    let mut items = Vec::new();
    let mut totals = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut add_totals = |money: &Money| {
        totals.0 += money.row_total;
        totals.1 += money.tax;
        totals.2 += money.discount;
        totals.3 += money.compensation;
    };
    let products = state.products.clone();
    let mut next_item = || {
        let id = state.next_item;
        state.next_item += 1;
        id
    };
    let product = |sku: &str| {
        products
            .get(sku)
            .unwrap_or_else(|| panic!("the fake Magento has no product {sku}"))
            .clone()
    };
    for (sku, variant, quantity) in &spec.lines {
        let main = product(sku);
        match (main.kind.as_str(), variant) {
            ("configurable", Some(child_sku)) => {
                let child = product(child_sku);
                let money = item_money(convert(child.price), *quantity, main.tax, coupon);
                add_totals(&money);
                let parent_id = next_item();
                items.push(item_json(
                    parent_id,
                    entity_id,
                    None,
                    &main,
                    &child.sku,
                    &main.name,
                    "configurable",
                    *quantity,
                    Some((&money, main.tax, fx)),
                ));
                let child_id = next_item();
                items.push(item_json(
                    child_id,
                    entity_id,
                    Some(parent_id),
                    &child,
                    &child.sku,
                    &child.name,
                    "simple",
                    *quantity,
                    None,
                ));
            }
            ("bundle", _) if main.dynamic => {
                let parent_id = next_item();
                let mut kids = Vec::new();
                let mut sum = Decimal::ZERO;
                for kid_sku in &main.children {
                    let kid = product(kid_sku);
                    let money = item_money(convert(kid.price), *quantity, kid.tax, coupon);
                    add_totals(&money);
                    sum += money.price;
                    let kid_id = next_item();
                    kids.push(item_json(
                        kid_id,
                        entity_id,
                        Some(parent_id),
                        &kid,
                        &kid.sku,
                        &kid.name,
                        "simple",
                        *quantity,
                        Some((&money, kid.tax, fx)),
                    ));
                }
                // The dynamic bundle's parent shows the sum of its children's prices
                // but carries no tax and counts for nothing in the totals.
                let mut parent = item_json(
                    parent_id,
                    entity_id,
                    None,
                    &main,
                    &format!("{}-{}", main.sku, main.children.join("-")),
                    &main.name,
                    "bundle",
                    *quantity,
                    None,
                );
                parent["price"] = num(sum);
                parent["row_total"] = num(sum * quantity);
                items.push(parent);
                items.extend(kids);
            }
            ("bundle", _) => {
                let money = item_money(convert(main.price), *quantity, main.tax, coupon);
                add_totals(&money);
                let parent_id = next_item();
                items.push(item_json(
                    parent_id,
                    entity_id,
                    None,
                    &main,
                    &main.sku,
                    &main.name,
                    "bundle",
                    *quantity,
                    Some((&money, main.tax, fx)),
                ));
                for kid_sku in &main.children {
                    let kid = product(kid_sku);
                    let kid_id = next_item();
                    items.push(item_json(
                        kid_id,
                        entity_id,
                        Some(parent_id),
                        &kid,
                        &kid.sku,
                        &kid.name,
                        "simple",
                        *quantity,
                        None,
                    ));
                }
            }
            _ => {
                let money = item_money(convert(main.price), *quantity, main.tax, coupon);
                add_totals(&money);
                let id = next_item();
                items.push(item_json(
                    id,
                    entity_id,
                    None,
                    &main,
                    &main.sku,
                    &main.name,
                    "simple",
                    *quantity,
                    Some((&money, main.tax, fx)),
                ));
            }
        }
    }
    let (subtotal, item_tax, discount, compensation) = totals;
    let (shipping_net, shipping_tax) = match &spec.shipping {
        Some((_, _, net)) => {
            let net = convert(*net);
            (net, round(net * Decimal::new(22, 0) / Decimal::ONE_HUNDRED))
        }
        None => (Decimal::ZERO, Decimal::ZERO),
    };
    let tax = item_tax + shipping_tax;
    let grand_total = subtotal + shipping_net + tax - discount + compensation;
    let base = |value: Decimal| num(value / fx);
    let (email, first, last, customer_id) = match &spec.customer {
        Some((id, email, first, last)) => (email.clone(), first.clone(), last.clone(), Some(*id)),
        None => (
            spec.guest.0.clone(),
            spec.guest.1.clone(),
            spec.guest.2.clone(),
            None,
        ),
    };
    let address = |kind: &str, id: u64| {
        json!({
            "address_type": kind,
            "entity_id": id,
            "parent_id": entity_id,
            "firstname": first,
            "lastname": last,
            "company": if kind == "billing" { json!("Kavarna d.o.o.") } else { Value::Null },
            "street": ["Slovenska cesta 12a", "2. nadstropje"],
            "city": "Ljubljana",
            "postcode": "1000",
            "region": "Osrednjeslovenska",
            "country_id": "SI",
            "telephone": "+38640111222",
            "email": email,
            "vat_id": if kind == "billing" { json!("SI12345678") } else { Value::Null },
        })
    };
    let paid = if spec.paid {
        grand_total
    } else {
        Decimal::ZERO
    };
    let refunded = if spec.status == "closed" {
        grand_total
    } else {
        Decimal::ZERO
    };
    let mut order = json!({
        "entity_id": entity_id,
        "increment_id": format!("{:09}", entity_id),
        "state": state_of(&spec.status),
        "status": spec.status,
        "store_id": 1,
        "store_name": "Main Website\nMain Website Store\nDefault Store View",
        "created_at": stamp,
        "updated_at": stamp,
        "order_currency_code": spec.currency,
        "base_currency_code": BASE_CURRENCY,
        "store_currency_code": BASE_CURRENCY,
        "global_currency_code": BASE_CURRENCY,
        "base_to_order_rate": num(fx),
        "subtotal": num(subtotal),
        "base_subtotal": base(subtotal),
        "subtotal_incl_tax": num(subtotal + item_tax + compensation),
        "tax_amount": num(tax),
        "base_tax_amount": base(tax),
        "discount_amount": num(-discount),
        "base_discount_amount": base(-discount),
        "discount_tax_compensation_amount": num(compensation),
        "shipping_amount": num(shipping_net),
        "base_shipping_amount": base(shipping_net),
        "shipping_tax_amount": num(shipping_tax),
        "shipping_incl_tax": num(shipping_net + shipping_tax),
        "shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "grand_total": num(grand_total),
        "base_grand_total": base(grand_total),
        "total_paid": num(paid),
        "base_total_paid": base(paid),
        "total_invoiced": num(paid),
        "total_refunded": num(refunded),
        "total_due": num(grand_total - paid),
        "total_qty_ordered": num(spec.lines.iter().map(|line| line.2).sum()),
    });
    let more = json!({
        "customer_email": email,
        "customer_firstname": if customer_id.is_some() { json!(first) } else { Value::Null },
        "customer_lastname": if customer_id.is_some() { json!(last) } else { Value::Null },
        "customer_is_guest": i32::from(customer_id.is_none()),
        "customer_group_id": if customer_id.is_some() { 1 } else { 0 },
        "billing_address_id": entity_id * 2,
        "billing_address": address("billing", entity_id * 2),
        "payment": {
            "account_status": null,
            "additional_information": [spec.payment.1],
            "amount_ordered": num(grand_total),
            "amount_paid": num(paid),
            "method": spec.payment.0,
            "parent_id": entity_id,
            "entity_id": entity_id,
        },
        "items": items,
        "status_histories": [],
        "extension_attributes": {
            "payment_additional_info": [{"key": "method_title", "value": spec.payment.1}],
            "applied_taxes": [],
            "item_applied_taxes": [],
        },
    });
    if let (Some(order), Value::Object(more)) = (order.as_object_mut(), more) {
        order.extend(more);
    }
    if let Some(id) = customer_id {
        order["customer_id"] = json!(id);
    }
    if let Some((code, _, _)) = &spec.coupon {
        order["coupon_code"] = json!(code);
        order["discount_description"] = json!(code);
    }
    if let Some((method, title, _)) = &spec.shipping {
        order["shipping_description"] = json!(title);
        order["extension_attributes"]["shipping_assignments"] = json!([{
            "shipping": {
                "address": address("shipping", entity_id * 2 + 1),
                "method": method,
                "total": {
                    "shipping_amount": num(shipping_net),
                    "shipping_tax_amount": num(shipping_tax),
                    "shipping_incl_tax": num(shipping_net + shipping_tax),
                },
            },
            "items": order["items"].clone(),
        }]);
    } else {
        order["is_virtual"] = json!(1);
    }
    order
}

// --- serving ---------------------------------------------------------------------------

struct Answer {
    status: StatusCode,
    body: Value,
}

fn answer(status: StatusCode, body: Value) -> Answer {
    Answer { status, body }
}

/// Magento's error body: the message with placeholders and their parameters.
fn error(status: StatusCode, message: &str, parameters: Value) -> Answer {
    let mut body = json!({"message": message});
    if !parameters.is_null() {
        body["parameters"] = parameters;
    }
    answer(status, body)
}

fn no_route() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "Request does not match any route.",
        Value::Null,
    )
}

fn respond(answer: Answer) -> Response {
    Response::builder()
        .status(answer.status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(answer.body.to_string()))
        .unwrap_or_default()
}

/// PHP's `urldecode`: `+` is a space, `%XX` a byte.
fn urldecode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |byte: u8| char::from(byte).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len()
                && hex(bytes[index + 1]).is_some()
                && hex(bytes[index + 2]).is_some() =>
            {
                let high = hex(bytes[index + 1]).unwrap_or_default();
                let low = hex(bytes[index + 2]).unwrap_or_default();
                out.push(u8::try_from(high * 16 + low).unwrap_or_default());
                index += 2;
            }
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// PHP's `rawurlencode` (RFC 3986), as Laminas' `HTTPUtility::urlEncode` uses it.
fn rawurlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// PHP's `strnatcmp`, enough for parameter names: digit runs compare as numbers.
fn strnatcmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let start_i = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let start_j = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let x: u128 = std::str::from_utf8(&a[start_i..i])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let y: u128 = std::str::from_utf8(&b[start_j..j])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            match x.cmp(&y) {
                std::cmp::Ordering::Equal => continue,
                other => return other,
            }
        }
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
            other => return other,
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

/// The flat query parameters, split and decoded as Magento's OAuth helper does.
fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let mut parts = pair.splitn(2, '=');
            let name = parts.next()?;
            let value = parts.next().unwrap_or("");
            Some((urldecode(name), urldecode(value)))
        })
        .collect()
}

/// The OAuth 1.0a signature Magento computes for a request.
pub fn oauth_signature(
    signature_method: &str,
    method: &str,
    url: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| name != "oauth_signature")
        .map(|(name, value)| (rawurlencode(name), rawurlencode(value)))
        .collect();
    encoded.sort_by(|a, b| strnatcmp(&a.0, &b.0));
    let pairs: Vec<String> = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let base = format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        rawurlencode(url),
        rawurlencode(&pairs.join("&"))
    );
    let key = format!(
        "{}&{}",
        rawurlencode(consumer_secret),
        rawurlencode(token_secret)
    );
    if signature_method.eq_ignore_ascii_case("HMAC-SHA1") {
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
            return String::new();
        };
        mac.update(base.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    } else {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
            return String::new();
        };
        mac.update(base.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// The `oauth_*` parameters of an `Authorization: OAuth ...` header.
fn oauth_header(value: &str) -> Option<Vec<(String, String)>> {
    let position = value.to_ascii_lowercase().find("oauth ")?;
    let rest = &value[position + 6..];
    Some(
        rest.split(',')
            .filter_map(|part| {
                let (name, value) = part.trim().split_once('=')?;
                name.starts_with("oauth_").then(|| {
                    (
                        percent_decode_raw(name),
                        percent_decode_raw(value.trim().trim_matches('"')),
                    )
                })
            })
            .collect(),
    )
}

/// PHP's `rawurldecode` (`+` stays `+`).
fn percent_decode_raw(text: &str) -> String {
    urldecode(&text.replace('+', "%2B"))
}

/// Checks the request's credentials; `Err` is Magento's 401.
fn authenticate(
    state: &mut State,
    method: &Method,
    url: &str,
    query: &str,
    authorization: Option<&str>,
    resource: &str,
) -> Result<(), Answer> {
    let not_authorized = || {
        error(
            StatusCode::UNAUTHORIZED,
            "The consumer isn't authorized to access %resources.",
            json!({"resources": resource}),
        )
    };
    let Some(authorization) = authorization else {
        return Err(not_authorized());
    };
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        let token = token.trim();
        let integration = token == ACCESS_TOKEN && state.bearer_tokens_allowed;
        if token != ADMIN_TOKEN && !integration {
            return Err(not_authorized());
        }
    } else {
        let oauth = oauth_header(authorization).ok_or_else(not_authorized)?;
        let get = |name: &str| {
            oauth
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        let unauthorized = |message: &str, parameters: Value| {
            Err(error(StatusCode::UNAUTHORIZED, message, parameters))
        };
        if get("oauth_consumer_key") != CONSUMER_KEY {
            return unauthorized(
                "A consumer with the specified key doesn't exist. Verify the key and try again.",
                Value::Null,
            );
        }
        if get("oauth_token") != ACCESS_TOKEN {
            return unauthorized(
                "The specified token doesn't exist. Verify the token and try again.",
                Value::Null,
            );
        }
        let signature_method = get("oauth_signature_method");
        if signature_method != "HMAC-SHA256" && signature_method != "HMAC-SHA1" {
            return unauthorized(
                "Signature method %1 is not supported",
                json!([signature_method]),
            );
        }
        let version = get("oauth_version");
        if !version.is_empty() && version != "1.0" {
            return unauthorized(
                "The \"%1\" oauth version isn't supported.",
                json!([version]),
            );
        }
        let timestamp: i64 = get("oauth_timestamp").parse().unwrap_or_default();
        if (OffsetDateTime::now_utc().unix_timestamp() - timestamp).abs() > 600 {
            return unauthorized(
                "The timestamp is invalid. Verify and try again.",
                Value::Null,
            );
        }
        let nonce = get("oauth_nonce");
        if nonce.is_empty() || state.nonces.contains(&nonce) {
            return unauthorized(
                "The nonce is already being used by the consumer with ID %1.",
                json!(["1"]),
            );
        }
        let mut params = query_params(query);
        params.extend(oauth.iter().cloned());
        let expected = oauth_signature(
            &signature_method,
            method.as_str(),
            url,
            &params,
            CONSUMER_SECRET,
            ACCESS_TOKEN_SECRET,
        );
        if expected != get("oauth_signature") {
            return unauthorized(
                "The signature is invalid. Verify and try again.",
                Value::Null,
            );
        }
        state.nonces.push(nonce);
    }
    if state.denied.iter().any(|denied| denied == resource) {
        return Err(not_authorized());
    }
    Ok(())
}

fn handle(
    state: &Mutex<State>,
    addr: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut state = lock(state);
    let query = uri.query().unwrap_or_default();
    state.requests.push(if query.is_empty() {
        format!("{method} {}", uri.path())
    } else {
        format!("{method} {}?{query}", uri.path())
    });
    if state.down {
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header("content-type", "text/html")
            .header("retry-after", "1")
            .body(Body::from(
                "<!doctype html><html><head><title>Service Temporarily Unavailable</title>\
                 </head><body><h1>Service Temporarily Unavailable</h1><p>The server is \
                 temporarily unable to service your request due to maintenance downtime.</p>\
                 </body></html>",
            ))
            .unwrap_or_default();
    }
    if state.fail_next > 0 {
        state.fail_next -= 1;
        return respond(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Error. Details are available in Magento log file. Report ID: %1",
            json!(["webapi-6560f0c1a2b3c"]),
        ));
    }
    // `/rest/V1/...` or `/rest/{store_code}/V1/...`.
    let segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(percent_decode_raw)
        .collect();
    let rest = match segments.as_slice() {
        [rest, v1, tail @ ..] if rest == "rest" && v1 == "V1" => tail.to_vec(),
        [rest, _store, v1, tail @ ..] if rest == "rest" && v1 == "V1" => tail.to_vec(),
        _ => return respond(no_route()),
    };
    let parts: Vec<&str> = rest.iter().map(String::as_str).collect();
    let resource = match (method.as_str(), parts.as_slice()) {
        ("GET", ["orders", ..]) => "Magento_Sales::actions_view",
        ("POST", ["order", _, "ship"]) => "Magento_Sales::ship",
        (_, ["inventory", ..]) => "Magento_InventoryApi::source",
        _ => "Magento_CatalogInventory::cataloginventory",
    };
    let host = headers
        .get("host")
        .and_then(|value| value.to_str().ok())
        .map_or_else(|| addr.to_string(), str::to_owned);
    let url = format!("http://{}{}", host.to_ascii_lowercase(), uri.path());
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok());
    if let Err(refused) = authenticate(&mut state, method, &url, query, authorization, resource) {
        return respond(refused);
    }
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(body) => body,
            Err(_) => {
                return respond(error(
                    StatusCode::BAD_REQUEST,
                    "Decoding error: %1",
                    json!(["Syntax error"]),
                ));
            }
        }
    };
    let params = query_params(query);
    let answer = match (method.as_str(), parts.as_slice()) {
        ("GET", ["orders"]) => search_orders(&state, &params),
        ("GET", ["orders", id]) => {
            match id.parse::<u64>().ok().and_then(|id| state.orders.get(&id)) {
                Some(order) => answer(StatusCode::OK, order.clone()),
                None => error(
                    StatusCode::NOT_FOUND,
                    "The entity that was requested doesn't exist. Verify the entity and try again.",
                    Value::Null,
                ),
            }
        }
        ("POST", ["order", id, "ship"]) => ship(&mut state, id, &body),
        ("GET", ["inventory", "sources"]) if state.msi => answer(
            StatusCode::OK,
            json!({
                "items": SOURCES.iter().map(|code| json!({
                    "source_code": code, "name": code, "enabled": true, "country_id": "SI",
                    "postcode": "1000",
                })).collect::<Vec<_>>(),
                "search_criteria": {"filter_groups": []},
                "total_count": SOURCES.len(),
            }),
        ),
        ("POST", ["inventory", "source-items"]) if state.msi => {
            save_source_items(&mut state, &body)
        }
        ("GET", ["stockItems", sku]) => match legacy_item(&state, sku) {
            Some(item) => answer(StatusCode::OK, item),
            None => error(
                StatusCode::NOT_FOUND,
                "The Product with the \"%1\" SKU doesn't exist.",
                json!([sku]),
            ),
        },
        ("PUT", ["products", sku, "stockItems", item_id]) => {
            put_stock_item(&mut state, sku, item_id, &body)
        }
        _ => no_route(),
    };
    respond(answer)
}

fn legacy_item(state: &State, sku: &str) -> Option<Value> {
    let product = state.products.get(sku)?;
    let qty = state
        .stock
        .get(&(sku.to_owned(), "default".to_owned()))
        .copied()
        .unwrap_or_default();
    Some(json!({
        "item_id": product.id + 1000,
        "product_id": product.id,
        "stock_id": 1,
        "qty": num(qty),
        "is_in_stock": qty > Decimal::ZERO,
        "manage_stock": true,
        "min_qty": 0,
        "backorders": 0,
    }))
}

fn put_stock_item(state: &mut State, sku: &str, item_id: &str, body: &Value) -> Answer {
    let Some(product) = state.products.get(sku) else {
        return error(
            StatusCode::NOT_FOUND,
            "The Product with the \"%1\" SKU doesn't exist.",
            json!([sku]),
        );
    };
    let expected = product.id + 1000;
    if item_id.parse::<u64>().ok() != Some(expected) {
        return error(
            StatusCode::BAD_REQUEST,
            "The stock item was unable to be saved. Please try again.",
            Value::Null,
        );
    }
    let Some(qty) = body.get("stockItem").and_then(|item| item.get("qty")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "\"%fieldName\" is required. Enter and try again.",
            json!({"fieldName": "stockItem"}),
        );
    };
    state
        .stock
        .insert((sku.to_owned(), "default".to_owned()), dec(qty));
    state.stock_item_puts.push((sku.to_owned(), body.clone()));
    answer(StatusCode::OK, json!(expected))
}

fn save_source_items(state: &mut State, body: &Value) -> Answer {
    let Some(items) = body.get("sourceItems").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "\"%fieldName\" is required. Enter and try again.",
            json!({"fieldName": "sourceItems"}),
        );
    };
    let mut errors = Vec::new();
    for item in items {
        let sku = item["sku"].as_str().unwrap_or_default();
        let source = item["source_code"].as_str().unwrap_or_default();
        if !state.products.contains_key(sku) {
            errors.push(json!({
                "message": "Product with SKU \"%sku\" does not exist.",
                "parameters": {"sku": sku},
            }));
        }
        if !SOURCES.contains(&source) {
            errors.push(json!({
                "message": "Source with code \"%code\" does not exist.",
                "parameters": {"code": source},
            }));
        }
        if !item["quantity"].is_number() {
            errors.push(json!({
                "message": "\"%field\" should be numeric.",
                "parameters": {"field": "quantity"},
            }));
        }
    }
    if !errors.is_empty() {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"message": "Validation Failed", "errors": errors}),
        );
    }
    for item in items {
        let sku = item["sku"].as_str().unwrap_or_default().to_owned();
        let source = item["source_code"].as_str().unwrap_or_default().to_owned();
        state.stock.insert((sku, source), dec(&item["quantity"]));
    }
    state.source_item_posts.push(body.clone());
    answer(StatusCode::OK, json!([]))
}

fn ship(state: &mut State, id: &str, body: &Value) -> Answer {
    let Some(id) = id
        .parse::<u64>()
        .ok()
        .filter(|id| state.orders.contains_key(id))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "The entity that was requested doesn't exist. Verify the entity and try again.",
            Value::Null,
        );
    };
    let stamp = magento_time(state.stamp());
    let shipment_id = state.next_shipment;
    let Some(order) = state.orders.get_mut(&id) else {
        return no_route();
    };
    let open = |item: &Value| dec(&item["qty_ordered"]) - dec(&item["qty_shipped"]);
    let allowed = !matches!(
        order["state"].as_str(),
        Some("complete" | "closed" | "canceled" | "holded")
    ) && order["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|item| open(item) > Decimal::ZERO));
    let refused = || {
        error(
            StatusCode::BAD_REQUEST,
            "Shipment Document Validation Error(s):\nThe order does not allow a shipment to be created.\nYou can't create a shipment without products.",
            Value::Null,
        )
    };
    if !allowed {
        return refused();
    }
    let asked: Vec<(u64, Decimal)> = body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    (
                        item["order_item_id"].as_u64().unwrap_or_default(),
                        dec(&item["qty"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(items) = order["items"].as_array_mut() else {
        return refused();
    };
    for (item_id, _) in &asked {
        if !items
            .iter()
            .any(|item| item["item_id"].as_u64() == Some(*item_id))
        {
            return error(
                StatusCode::BAD_REQUEST,
                "Shipment Document Validation Error(s):\nThe order item %1 doesn't exist.",
                json!([item_id.to_string()]),
            );
        }
    }
    let parents: BTreeMap<u64, u64> = items
        .iter()
        .filter_map(|item| Some((item["item_id"].as_u64()?, item["parent_item_id"].as_u64()?)))
        .collect();
    for item in items.iter_mut() {
        let item_id = item["item_id"].as_u64().unwrap_or_default();
        let own = asked
            .iter()
            .find(|(id, _)| *id == item_id)
            .map(|(_, qty)| *qty);
        let via_parent = parents
            .get(&item_id)
            .and_then(|parent| asked.iter().find(|(id, _)| id == parent))
            .map(|(_, qty)| *qty);
        let quantity = if asked.is_empty() {
            Some(open(item))
        } else {
            own.or(via_parent)
        };
        if let Some(quantity) = quantity {
            let shipped = (dec(&item["qty_shipped"]) + quantity).min(dec(&item["qty_ordered"]));
            item["qty_shipped"] = num(shipped);
        }
    }
    let all_shipped = items.iter().all(|item| open(item) <= Decimal::ZERO);
    let paid = dec(&order["total_paid"]) >= dec(&order["grand_total"]);
    if all_shipped && paid {
        order["state"] = json!("complete");
        order["status"] = json!("complete");
    } else {
        order["state"] = json!("processing");
        order["status"] = json!("processing");
    }
    order["updated_at"] = json!(stamp);
    state.next_shipment += 1;
    state.shipments.push(json!({
        "entity_id": shipment_id,
        "order_id": id,
        "items": body["items"],
        "tracks": body["tracks"],
        "notify": body["notify"],
    }));
    answer(StatusCode::OK, json!(shipment_id.to_string()))
}

/// One filter of a search.
struct Filter {
    field: String,
    value: String,
    condition: String,
}

fn compare(order: &Value, field: &str, value: &str) -> Option<std::cmp::Ordering> {
    let actual = order.get(field)?;
    match actual {
        Value::Number(_) => {
            let actual = dec(actual);
            let wanted: Decimal = value.trim().parse().ok()?;
            Some(actual.cmp(&wanted))
        }
        Value::String(text) => Some(text.as_str().cmp(value)),
        _ => None,
    }
}

fn matches(order: &Value, filter: &Filter) -> Result<bool, Answer> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let cmp = compare(order, &filter.field, &filter.value);
    let text = || match order.get(&filter.field) {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Ok(match filter.condition.as_str() {
        "eq" | "" => cmp == Some(Equal),
        "neq" => cmp.is_some_and(|c| c != Equal),
        "gt" => cmp == Some(Greater),
        "gteq" | "from" => matches!(cmp, Some(Greater | Equal)),
        "lt" => cmp == Some(Less),
        "lteq" | "to" => matches!(cmp, Some(Less | Equal)),
        "in" => filter.value.split(',').any(|v| text() == v.trim()),
        "nin" => !filter.value.split(',').any(|v| text() == v.trim()),
        "like" => {
            let pattern = filter.value.replace('%', "");
            text().contains(&pattern)
        }
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "Invalid condition type: %1",
                json!([other]),
            ));
        }
    })
}

/// `GET /V1/orders?searchCriteria...`.
fn search_orders(state: &State, params: &[(String, String)]) -> Answer {
    let criteria: BTreeMap<String, String> = params
        .iter()
        .filter_map(|(name, value)| {
            name.strip_prefix("searchCriteria")
                .map(|rest| (rest.to_owned(), value.clone()))
        })
        .collect();
    if !params
        .iter()
        .any(|(name, _)| name.starts_with("searchCriteria"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "\"%fieldName\" is required. Enter and try again.",
            json!({"fieldName": "searchCriteria"}),
        );
    }
    let get = |key: &str| criteria.get(key).cloned();
    // Filter groups: [filter_groups][g][filters][f][part].
    let mut groups: Vec<Vec<Filter>> = Vec::new();
    for group in 0.. {
        let mut filters = Vec::new();
        for index in 0.. {
            let key = |part: &str| format!("[filter_groups][{group}][filters][{index}][{part}]");
            let Some(field) = get(&key("field")) else {
                break;
            };
            filters.push(Filter {
                field,
                value: get(&key("value")).unwrap_or_default(),
                condition: get(&key("condition_type")).unwrap_or_else(|| "eq".into()),
            });
        }
        if filters.is_empty() {
            break;
        }
        groups.push(filters);
    }
    let mut sorts: Vec<(String, bool)> = Vec::new();
    for index in 0.. {
        let Some(field) = get(&format!("[sortOrders][{index}][field]")) else {
            break;
        };
        let direction =
            get(&format!("[sortOrders][{index}][direction]")).unwrap_or_else(|| "ASC".into());
        sorts.push((field, direction.eq_ignore_ascii_case("DESC")));
    }
    let page_size: Option<usize> = match get("[pageSize]") {
        Some(text) => match text.parse() {
            Ok(size) => Some(size),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The \"%1\" value's type is invalid. The \"%2\" type was expected. Verify and try again.",
                    json!([text, "int"]),
                );
            }
        },
        None => None,
    };
    let current: usize = get("[currentPage]")
        .and_then(|text| text.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut found = Vec::new();
    for order in state.orders.values() {
        let mut keep = true;
        for group in &groups {
            let mut any = false;
            for filter in group {
                match matches(order, filter) {
                    Ok(true) => any = true,
                    Ok(false) => {}
                    Err(answer) => return answer,
                }
            }
            keep &= any;
        }
        if keep {
            found.push(order.clone());
        }
    }
    found.sort_by(|a, b| {
        for (field, descending) in &sorts {
            let ordering = match (a.get(field), b.get(field)) {
                (Some(Value::Number(_)), Some(Value::Number(_))) => {
                    dec(&a[field]).cmp(&dec(&b[field]))
                }
                (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
                _ => std::cmp::Ordering::Equal,
            };
            let ordering = if *descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != std::cmp::Ordering::Equal {
                return ordering;
            }
        }
        std::cmp::Ordering::Equal
    });
    let total = found.len();
    let items: Vec<Value> = match page_size.filter(|size| *size > 0) {
        Some(size) => {
            // Past the last page, Magento's collection clamps to the last page.
            let last = total.div_ceil(size).max(1);
            let page = current.min(last);
            found
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect()
        }
        None => found,
    };
    let echo: serde_json::Map<String, Value> = params
        .iter()
        .map(|(name, value)| (name.clone(), json!(value)))
        .collect();
    answer(
        StatusCode::OK,
        json!({"items": items, "search_criteria": echo, "total_count": total}),
    )
}

/// A time `seconds` from now in Magento's format (for tests that place orders in the
/// past or the future).
pub fn magento_time_in(seconds: i64) -> String {
    magento_time(OffsetDateTime::now_utc() + Duration::seconds(seconds))
}
