//! A fake Shopify Admin REST API on 127.0.0.1.
//!
//! It answers the paths a shop connector uses, under `/admin/api/{version}/`, the way the
//! real Admin API does (Shopify's REST Admin API reference):
//!
//! | path | what |
//! |---|---|
//! | `GET orders.json` | `status` (default `open`!), `updated_at_min/max`, `created_at_min/max`, `since_id`, `ids`, `fields`, `limit` ≤ 250, cursor pagination through `page_info` in `Link` |
//! | `GET orders/{id}.json` | `{"order": {...}}` |
//! | `GET orders/{id}/fulfillment_orders.json` | the order's fulfillment orders |
//! | `GET orders/{id}/fulfillments.json` | the fulfillments made |
//! | `GET orders/{id}/refunds.json` | the refunds made |
//! | `GET`, `POST orders/{id}/transactions.json` | payments; `capture` of an authorization, `sale` with `source: external` |
//! | `POST orders/{id}/cancel.json`, `close.json` | cancels (422 when cancelled already, or paid and fulfilled), closes |
//! | `POST fulfillments.json` | fulfils fulfillment orders, whole or by line items and quantities, with tracking |
//! | `GET products.json`, `GET products/{id}.json` | products with variants and `inventory_item_id`s |
//! | `GET variants/{id}.json` | one variant |
//! | `GET inventory_items/{id}.json` | one inventory item |
//! | `POST inventory_levels/set.json` | sets `available` at a location (422 when not tracked) |
//! | `GET locations.json` | the shop's one location, [`LOCATION_ID`] |
//! | `GET shop.json` | the shop, with `primary_location_id` |
//! | `GET`, `POST webhooks.json`, `GET`, `DELETE webhooks/{id}.json` | subscriptions (`address` and `topic` filters; 422 for a second one of a topic to one address) |
//! | `GET /admin/oauth/access_scopes.json` | the token's scopes ([`FakeShopify::set_scopes`]) |
//!
//! Every request needs `X-Shopify-Access-Token: {ACCESS_TOKEN}` and goes through a leaky
//! bucket (40 requests, leaking 2 per second unless [`FakeShopify::set_bucket`] says
//! otherwise) whose state every response reports in `X-Shopify-Shop-Api-Call-Limit`. A
//! path that needs an access scope the token lacks is refused with 403, naming the
//! scope as Shopify does.
//!
//! The fake records what it receives: [`FakeShopify::requests`] (every request),
//! [`FakeShopify::requests_to`] (how many went to one path), [`FakeShopify::webhooks`]
//! (the subscriptions), [`FakeShopify::fulfillments`], [`FakeShopify::transactions`].
//!
//! Orders change the way the admin changes them: [`FakeShopify::cancel_order`],
//! [`FakeShopify::remove_units`] (an order edit), [`FakeShopify::refund_lines`] and
//! [`FakeShopify::refund_order`]; each keeps `current_quantity` and the `current_*`
//! totals as Shopify does.
//!
//! Webhook deliveries ([`FakeShopify::delivery`]) carry Shopify's headers and the
//! base64 HMAC-SHA256 of the raw body under [`WEBHOOK_SECRET`].
//!
//! Where the reference marks a behaviour UNCONFIRMED, the fake picks the plausible
//! variant and says so in a comment.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::{Duration, OffsetDateTime, UtcOffset};

/// The shop's permanent domain, as in `X-Shopify-Shop-Domain`.
pub const SHOP_DOMAIN: &str = "demo-shop.myshopify.com";
/// The Admin API access token the fake accepts.
pub const ACCESS_TOKEN: &str = "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";
/// The key webhook deliveries are signed with (the app's client secret).
pub const WEBHOOK_SECRET: &str = "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";
/// The shop's only location; stock lives there.
pub const LOCATION_ID: u64 = 65_544_149_101;
/// The API version in webhook headers (any version is accepted in paths).
pub const API_VERSION: &str = "2025-07";
/// The shop's currency: every top-level amount and every `shop_money` is in it.
pub const SHOP_CURRENCY: &str = "EUR";
/// The shop's name, as `GET shop.json` gives it.
pub const SHOP_NAME: &str = "Demo Shop";
/// The scopes a new fake shop's token has: everything a shop connector uses.
pub const ALL_SCOPES: &[&str] = &[
    "read_orders",
    "write_orders",
    "read_all_orders",
    "read_products",
    "write_inventory",
    "read_locations",
    "write_merchant_managed_fulfillment_orders",
];
/// The topics the fake accepts subscriptions for.
const WEBHOOK_TOPICS: &[&str] = &[
    "app/uninstalled",
    "orders/cancelled",
    "orders/create",
    "orders/delete",
    "orders/edited",
    "orders/fulfilled",
    "orders/paid",
    "orders/partially_fulfilled",
    "orders/updated",
    "products/create",
    "products/delete",
    "products/update",
    "refunds/create",
];

/// The most `limit` may ask for.
const MAX_LIMIT: usize = 250;
/// Shopify's default page size.
const DEFAULT_LIMIT: usize = 50;
/// The shop's UTC offset: timestamps are written with it, as Shopify does.
const SHOP_OFFSET: UtcOffset = offset!(+01:00);
/// The shop's id, in fulfillment orders.
const SHOP_ID: u64 = 54_839_011_383;

const INVALID_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";
const THROTTLED: &str = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.";

pub use crate::webhook::Delivery;

/// What an order should contain; [`FakeShopify::create_order`] computes the amounts.
///
/// ```ignore
/// OrderSpec::new().line(variant_id, 2).customer("ana@example.com", "Ana", "Novak")
///     .discount_code("WELCOME10", 10).shipping("Standard", "4.90")
/// ```
#[derive(Debug, Clone)]
pub struct OrderSpec {
    lines: Vec<(u64, u32, Option<Decimal>)>,
    customer: Option<(String, String, String)>,
    guest: bool,
    guest_email: String,
    discount: Option<(String, u32)>,
    shipping: Option<(String, Decimal)>,
    currency: String,
    taxes_included: bool,
    financial_status: String,
    gateway: String,
    tax_rate: Decimal,
    address1: String,
    city: String,
    zip: String,
    country_code: String,
    note: Option<String>,
}

impl Default for OrderSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderSpec {
    /// An order in EUR, taxes excluded, 22 % tax (Slovenia), paid through Shopify
    /// Payments, shipped to Slovenska cesta 12a, Ljubljana, by a registered customer.
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            customer: Some(("ana.novak@example.com".into(), "Ana".into(), "Novak".into())),
            guest: false,
            guest_email: "guest.buyer@example.net".into(),
            discount: None,
            shipping: None,
            currency: SHOP_CURRENCY.into(),
            taxes_included: false,
            financial_status: "paid".into(),
            gateway: "shopify_payments".into(),
            tax_rate: dec("0.22"),
            address1: "Slovenska cesta 12a".into(),
            city: "Ljubljana".into(),
            zip: "1000".into(),
            country_code: "SI".into(),
            note: None,
        }
    }

    /// A line of `quantity` units of the variant, taxed at the order's rate.
    pub fn line(mut self, variant_id: u64, quantity: u32) -> Self {
        self.lines.push((variant_id, quantity, None));
        self
    }

    /// A line with its own tax rate as a fraction (`"0.095"` for 9.5 %).
    pub fn line_with_tax_rate(mut self, variant_id: u64, quantity: u32, rate: &str) -> Self {
        self.lines.push((variant_id, quantity, Some(dec(rate))));
        self
    }

    /// A registered customer.
    pub fn customer(mut self, email: &str, first_name: &str, last_name: &str) -> Self {
        self.customer = Some((email.into(), first_name.into(), last_name.into()));
        self.guest = false;
        self
    }

    /// A guest checkout: no customer record, only the order's email and addresses.
    pub fn guest(mut self) -> Self {
        self.guest = true;
        self
    }

    /// A discount code taking `percent` % off every line.
    pub fn discount_code(mut self, code: &str, percent: u32) -> Self {
        self.discount = Some((code.into(), percent));
        self
    }

    /// A shipping line; `price` is gross when taxes are included, like product prices.
    pub fn shipping(mut self, title: &str, price: &str) -> Self {
        self.shipping = Some((title.into(), dec(price)));
        self
    }

    /// The customer's (presentment) currency; amounts are converted from the shop's EUR
    /// at a fixed rate (USD 1.08, GBP 0.85, CHF 0.94, CZK 25, other 1).
    pub fn currency(mut self, currency: &str) -> Self {
        self.currency = currency.to_ascii_uppercase();
        self
    }

    /// Whether prices include tax (EU shops usually say yes).
    pub fn taxes_included(mut self, included: bool) -> Self {
        self.taxes_included = included;
        self
    }

    /// `pending`, `authorized`, `paid`, ...
    pub fn financial_status(mut self, status: &str) -> Self {
        self.financial_status = status.into();
        self
    }

    /// The payment gateway name (`shopify_payments`, `manual`, `paypal`).
    pub fn gateway(mut self, gateway: &str) -> Self {
        self.gateway = gateway.into();
        self
    }

    /// The order's tax rate as a fraction (`"0.22"`), for lines without their own.
    pub fn tax_rate(mut self, rate: &str) -> Self {
        self.tax_rate = dec(rate);
        self
    }

    /// The billing and shipping address.
    pub fn address(mut self, address1: &str, city: &str, zip: &str, country_code: &str) -> Self {
        self.address1 = address1.into();
        self.city = city.into();
        self.zip = zip.into();
        self.country_code = country_code.to_ascii_uppercase();
        self
    }

    /// The customer's note.
    pub fn note(mut self, note: &str) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// The fake shop. Cloning shares the same shop.
#[derive(Clone)]
pub struct FakeShopify {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakeShopify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeShopify")
            .field("addr", &self.addr)
            .finish()
    }
}

/// An inventory item: whether Shopify tracks it, and `available` at [`LOCATION_ID`].
#[derive(Debug, Clone)]
struct InventoryItem {
    tracked: bool,
    available: Option<i64>,
}

#[derive(Debug)]
struct State {
    next_id: u64,
    next_order_number: u64,
    /// The last timestamp handed out, so every change is strictly later than the one before.
    last_stamp: OffsetDateTime,
    products: BTreeMap<u64, Value>,
    inventory: HashMap<u64, InventoryItem>,
    orders: BTreeMap<u64, Value>,
    fulfillment_orders: BTreeMap<u64, Vec<Value>>,
    /// Payment transactions per order.
    transactions: BTreeMap<u64, Vec<Value>>,
    /// Webhook subscriptions by id.
    webhooks: BTreeMap<u64, Value>,
    /// The access token's scopes.
    scopes: Vec<String>,
    /// Whether the domain names a shop at all.
    exists: bool,
    bucket: Bucket,
    down: bool,
    throttle: Option<(usize, Option<String>)>,
    requests: Vec<String>,
}

impl State {
    fn new() -> Self {
        Self {
            next_id: 5_726_128_734_520,
            next_order_number: 1001,
            last_stamp: OffsetDateTime::UNIX_EPOCH,
            products: BTreeMap::new(),
            inventory: HashMap::new(),
            orders: BTreeMap::new(),
            fulfillment_orders: BTreeMap::new(),
            transactions: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            scopes: ALL_SCOPES.iter().map(|scope| (*scope).to_owned()).collect(),
            exists: true,
            bucket: Bucket::new(40, 2.0),
            down: false,
            throttle: None,
            requests: Vec::new(),
        }
    }

    /// A new 64-bit id, like Shopify's (well above 2^32).
    fn id(&mut self) -> u64 {
        self.next_id += 1 + rand::rng().random_range(0..1000);
        self.next_id
    }

    /// Now in the shop's offset, whole seconds, strictly after the previous stamp.
    fn stamp(&mut self) -> String {
        let now = OffsetDateTime::now_utc();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let next = if now > self.last_stamp {
            now
        } else {
            self.last_stamp + Duration::seconds(1)
        };
        self.last_stamp = next;
        shop_time(next)
    }
}

/// Shopify's REST leaky bucket: each request adds one; the bucket leaks at a fixed rate;
/// a request that finds it full is refused with 429.
#[derive(Debug, Clone)]
struct Bucket {
    capacity: u32,
    leak_per_second: f64,
    level: f64,
    at: Option<Instant>,
}

impl Bucket {
    fn new(capacity: u32, leak_per_second: f64) -> Self {
        Self {
            capacity,
            leak_per_second,
            level: 0.0,
            at: None,
        }
    }

    fn leak(&mut self, now: Instant) {
        if let Some(at) = self.at {
            let elapsed = now.saturating_duration_since(at).as_secs_f64();
            self.level = (self.level - elapsed * self.leak_per_second).max(0.0);
        }
        self.at = Some(now);
    }

    /// Takes a slot: `Ok(used)` after the request, or `Err(used)` when full.
    fn take(&mut self, now: Instant) -> Result<u32, u32> {
        self.leak(now);
        // A hair of slack so 39.9999 after leaking counts as room for one more.
        if self.level + 1.0 > f64::from(self.capacity) + 1e-6 {
            Err(self.used())
        } else {
            self.level += 1.0;
            Ok(self.used())
        }
    }

    fn used(&self) -> u32 {
        // The header shows whole requests; the level is never above the capacity.
        (self.level.ceil().max(0.0) as u32).min(self.capacity)
    }

    fn header(&self, used: u32) -> String {
        format!("{used}/{}", self.capacity)
    }
}

/// Filters an opaque `page_info` cursor carries; Shopify encodes them into the cursor,
/// which is why none may be passed next to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Cursor {
    /// `"next"`: items after `last_id` in list order; `"prev"`: items before it.
    direction: String,
    last_id: u64,
    /// The filter query parameters of the first request, as given.
    filters: Vec<(String, String)>,
}

impl Cursor {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

impl FakeShopify {
    /// An empty shop on a free port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake Shopify to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::new()));
        let shared = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { handle(&state, addr, &method, &uri, &headers, &body) }
            },
        );
        crate::serve_in_background("Shopify", listener, app);
        Ok(Self { state, addr })
    }

    /// A shop with products and orders of every interesting kind: several-variant and
    /// single-variant products (one not tracked), two tax rates, a discount code, a guest
    /// checkout, taxes included and excluded, a refunded, a cancelled and a pending order,
    /// an order presented in USD, and shipping.
    pub async fn start_seeded() -> anyhow::Result<Self> {
        let shop = Self::start().await?;
        let (_, shirts) = shop.add_product(
            "Organic T-Shirt",
            &[
                ("TSHIRT-S", "S", "19.90", Some(25)),
                ("TSHIRT-M", "M", "19.90", Some(40)),
                ("TSHIRT-L", "L", "21.90", Some(12)),
            ],
        );
        let (_, mugs) = shop.add_product(
            "Ceramic Mug",
            &[("MUG-1", "Default Title", "9.90", Some(100))],
        );
        let (_, books) = shop.add_product(
            "Cookbook: Slovenian Classics",
            &[("BOOK-SI", "Default Title", "24.00", Some(8))],
        );
        let (_, cards) =
            shop.add_product("Gift Wrapping", &[("WRAP", "Default Title", "2.50", None)]);
        let (shirt_m, shirt_l, mug, book, wrap) =
            (shirts[1].0, shirts[2].0, mugs[0].0, books[0].0, cards[0].0);

        shop.create_order(
            &OrderSpec::new()
                .line(shirt_m, 2)
                .line(mug, 1)
                .shipping("Standard", "4.90")
                .note("Please ring twice"),
        );
        shop.create_order(
            &OrderSpec::new()
                .customer("ivan.horvat@example.com", "Ivan", "Horvat")
                .address("Ilica 1", "Zagreb", "10000", "HR")
                .tax_rate("0.25")
                .taxes_included(true)
                .line(shirt_l, 1)
                .line_with_tax_rate(book, 1, "0.05")
                .discount_code("WELCOME10", 10)
                .shipping("Express", "7.50"),
        );
        shop.create_order(
            &OrderSpec::new()
                .guest()
                .line(mug, 3)
                .line(wrap, 1)
                .gateway("manual")
                .financial_status("pending")
                .shipping("Pickup in store", "0.00"),
        );
        let refunded = shop.create_order(
            &OrderSpec::new()
                .customer("maja.kranjc@example.com", "Maja", "Kranjc")
                .taxes_included(true)
                .line(book, 1)
                .shipping("Standard", "4.90"),
        );
        if let Some(id) = refunded["id"].as_u64() {
            shop.refund_order(id);
        }
        let cancelled = shop.create_order(
            &OrderSpec::new()
                .customer("luka.zupan@example.com", "Luka", "Zupan")
                .line(shirt_m, 1)
                .financial_status("pending")
                .gateway("manual"),
        );
        if let Some(id) = cancelled["id"].as_u64() {
            shop.cancel_order(id);
        }
        shop.create_order(
            &OrderSpec::new()
                .customer("john.smith@example.com", "John", "Smith")
                .address("221B Baker Street", "London", "NW1 6XE", "GB")
                .currency("USD")
                .line(shirt_l, 2)
                .line(mug, 2)
                .discount_code("SUMMER15", 15)
                .shipping("International", "14.00"),
        );
        Ok(shop)
    }

    /// `http://127.0.0.1:PORT`: what replaces `https://{shop_domain}`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock must not hide its own failure
        // behind a poisoned-lock panic here.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds a product with its variants: `(sku, variant title, price, stock)`, where a
    /// stock of `None` means Shopify does not track the variant's inventory. A single
    /// variant is usually titled `"Default Title"`. Returns the product id and each
    /// variant's `(variant id, inventory item id)`.
    pub fn add_product(
        &self,
        title: &str,
        variants: &[(&str, &str, &str, Option<i64>)],
    ) -> (u64, Vec<(u64, u64)>) {
        let mut state = self.lock();
        let product_id = state.id();
        let now = state.stamp();
        let mut ids = Vec::new();
        let mut variant_values = Vec::new();
        for (position, (sku, variant_title, price, stock)) in variants.iter().enumerate() {
            let variant_id = state.id();
            let item_id = state.id();
            state.inventory.insert(
                item_id,
                InventoryItem {
                    tracked: stock.is_some(),
                    available: *stock,
                },
            );
            ids.push((variant_id, item_id));
            variant_values.push(json!({
                "id": variant_id,
                "product_id": product_id,
                "title": variant_title,
                "price": money(dec(price)),
                "position": position + 1,
                "inventory_policy": "deny",
                "compare_at_price": null,
                "option1": variant_title,
                "option2": null,
                "option3": null,
                "created_at": now,
                "updated_at": now,
                "taxable": true,
                "barcode": null,
                "sku": sku,
                "grams": 300,
                "weight": 0.3,
                "weight_unit": "kg",
                "inventory_item_id": item_id,
                "inventory_quantity": stock.unwrap_or(0),
                "old_inventory_quantity": stock.unwrap_or(0),
                "inventory_management": stock.map(|_| "shopify"),
                "fulfillment_service": "manual",
                "requires_shipping": true,
                "admin_graphql_api_id": format!("gid://shopify/ProductVariant/{variant_id}"),
                "image_id": null,
            }));
        }
        let option_name = if variants.len() == 1 && variants[0].1 == "Default Title" {
            "Title"
        } else {
            "Size"
        };
        let product = json!({
            "id": product_id,
            "title": title,
            "body_html": format!("<p>{title}</p>"),
            "vendor": "Demo Shop",
            "product_type": "",
            "created_at": now,
            "handle": title.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
            "updated_at": now,
            "published_at": now,
            "template_suffix": null,
            "published_scope": "global",
            "tags": "",
            "status": "active",
            "admin_graphql_api_id": format!("gid://shopify/Product/{product_id}"),
            "variants": variant_values,
            "options": [{
                "id": product_id + 1,
                "product_id": product_id,
                "name": option_name,
                "position": 1,
                "values": variants.iter().map(|v| v.1).collect::<Vec<_>>(),
            }],
            "images": [],
            "image": null,
        });
        state.products.insert(product_id, product);
        (product_id, ids)
    }

    /// `available` at [`LOCATION_ID`]; `None` when the item is unknown or not tracked.
    pub fn inventory_level(&self, inventory_item_id: u64) -> Option<i64> {
        let state = self.lock();
        state
            .inventory
            .get(&inventory_item_id)
            .filter(|item| item.tracked)
            .and_then(|item| item.available)
    }

    /// Creates an order the way checkout does: amounts computed as Shopify does, stock of
    /// tracked variants taken, one open fulfillment order at [`LOCATION_ID`], and the
    /// checkout's payment transaction (a `sale` when paid, an `authorization` when
    /// authorized, none while pending).
    ///
    /// Panics when a line names an unknown variant: that is a mistake in the test.
    pub fn create_order(&self, spec: &OrderSpec) -> Value {
        let mut state = self.lock();
        let order = build_order(&mut state, spec);
        let id = order["id"].as_u64().unwrap_or_default();
        let fulfillment_order = build_fulfillment_order(&mut state, &order);
        state.fulfillment_orders.insert(id, vec![fulfillment_order]);
        let kind = match spec.financial_status.as_str() {
            "paid" | "partially_refunded" | "refunded" => Some("sale"),
            "authorized" => Some("authorization"),
            _ => None,
        };
        let transactions = match kind {
            Some(kind) => {
                let amount = dec_of(&order["total_price"]);
                vec![new_transaction(
                    &mut state, &order, kind, amount, None, None,
                )]
            }
            None => Vec::new(),
        };
        state.transactions.insert(id, transactions);
        state.orders.insert(id, order.clone());
        order
    }

    /// Changes an order with `change` and bumps its `updated_at`. Returns the new order.
    /// Panics when the order does not exist.
    pub fn update_order(&self, id: u64, change: impl FnOnce(&mut Value)) -> Value {
        let mut state = self.lock();
        let stamp = state.stamp();
        let Some(order) = state.orders.get_mut(&id) else {
            panic!("the fake Shopify has no order {id}");
        };
        change(order);
        order["updated_at"] = json!(stamp);
        order.clone()
    }

    /// Cancels an order like the admin's "Cancel order": `cancelled_at`, `closed_at`,
    /// reason `customer`; an unpaid payment is voided; its fulfillment orders close.
    pub fn cancel_order(&self, id: u64) -> Value {
        let mut state = self.lock();
        match cancel(&mut state, id) {
            Some(order) => order,
            None => panic!("the fake Shopify has no order {id}"),
        }
    }

    /// An order edit that removes `quantity` units of the order line `line_item_id`
    /// without giving money back (an unpaid order, or one the merchant settles apart):
    /// the line's `current_quantity` and fulfillable quantities drop, its fulfillment
    /// order line shrinks, and the `current_*` totals follow, as Shopify records an edit.
    /// Returns the order. Panics when the order or line does not exist, or has fewer
    /// units left.
    pub fn remove_units(&self, order_id: u64, line_item_id: u64, quantity: u32) -> Value {
        let mut state = self.lock();
        let stamp = state.stamp();
        take_units(&mut state, order_id, line_item_id, quantity);
        let Some(order) = state.orders.get_mut(&order_id) else {
            panic!("the fake Shopify has no order {order_id}");
        };
        recompute_current(order);
        order["updated_at"] = json!(stamp);
        order.clone()
    }

    /// Refunds units of order lines (`(line item id, quantity)`), like the admin's
    /// "Refund": a refund with `refund_line_items` (`restock_type` `return` when
    /// restocked, else `no_restock`), the shipping in `refund_shipping_lines` when
    /// `refund_shipping`, and one `refund` transaction in the customer's currency. The
    /// refunded units leave `current_quantity` (Shopify's "quantity after removals") and
    /// the fulfillable quantities; the `current_*` totals follow; the financial status
    /// becomes `partially_refunded` or `refunded`. Returns the refund.
    ///
    /// Panics when the order or a line does not exist, or has fewer units left.
    pub fn refund_lines(
        &self,
        order_id: u64,
        lines: &[(u64, u32)],
        restock: bool,
        refund_shipping: bool,
        note: &str,
    ) -> Value {
        let mut state = self.lock();
        refund(&mut state, order_id, lines, restock, refund_shipping, note)
    }

    /// Refunds a whole order: every line restocked, the shipping, one `refund`
    /// transaction; the financial status becomes `refunded`. Returns the order.
    pub fn refund_order(&self, id: u64) -> Value {
        let mut state = self.lock();
        let lines: Vec<(u64, u32)> = state
            .orders
            .get(&id)
            .and_then(|order| order["line_items"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|line| {
                let left = line["current_quantity"].as_u64().unwrap_or(0);
                let left = u32::try_from(left).ok().filter(|n| *n > 0)?;
                Some((line["id"].as_u64()?, left))
            })
            .collect();
        refund(
            &mut state,
            id,
            &lines,
            true,
            true,
            "Returned by the customer",
        );
        match state.orders.get(&id) {
            Some(order) => order.clone(),
            None => panic!("the fake Shopify has no order {id}"),
        }
    }

    /// The order's payment transactions.
    pub fn transactions(&self, order_id: u64) -> Vec<Value> {
        self.lock()
            .transactions
            .get(&order_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The webhook subscriptions, oldest first, as `GET webhooks.json` lists them.
    pub fn webhooks(&self) -> Vec<Value> {
        self.lock().webhooks.values().cloned().collect()
    }

    /// Subscribes `topic` to `address` as if someone had done it in the admin or through
    /// the API earlier. Returns the subscription.
    pub fn add_webhook(&self, topic: &str, address: &str) -> Value {
        let mut state = self.lock();
        create_webhook(&mut state, topic, address)
    }

    /// Removes a subscription as if someone had deleted it (or Shopify had, after failed
    /// deliveries). Returns whether it existed.
    pub fn remove_webhook(&self, id: u64) -> bool {
        self.lock().webhooks.remove(&id).is_some()
    }

    /// Replaces the access token's scopes; paths that need another scope answer 403.
    pub fn set_scopes(&self, scopes: &[&str]) {
        self.lock().scopes = scopes.iter().map(|scope| (*scope).to_owned()).collect();
    }

    /// With `false`, the domain names no shop (mistyped, or the shop was closed): every
    /// request gets 404, before the token is looked at.
    pub fn set_exists(&self, exists: bool) {
        self.lock().exists = exists;
    }

    /// The order as the API would answer it.
    pub fn order(&self, id: u64) -> Option<Value> {
        self.lock().orders.get(&id).cloned()
    }

    /// The ids of every order in the shop, oldest first.
    pub fn order_ids(&self) -> Vec<u64> {
        self.lock().orders.keys().copied().collect()
    }

    /// The fulfillments created for the order (tracking numbers included).
    pub fn fulfillments(&self, order_id: u64) -> Vec<Value> {
        self.lock()
            .orders
            .get(&order_id)
            .and_then(|order| order["fulfillments"].as_array().cloned())
            .unwrap_or_default()
    }

    /// A webhook delivery for the order as Shopify would send it now: the body is the
    /// order itself (not wrapped), or `{"id": N}` for `orders/delete`.
    pub fn delivery(&self, topic: &str, order_id: u64) -> Delivery {
        let body = if topic == "orders/delete" {
            json!({ "id": order_id })
        } else {
            self.order(order_id)
                .unwrap_or_else(|| json!({ "id": order_id }))
        };
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let triggered_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Shopify-Topic".to_owned(), topic.to_owned()),
            ("X-Shopify-Hmac-Sha256".to_owned(), sign(&body)),
            ("X-Shopify-Shop-Domain".to_owned(), SHOP_DOMAIN.to_owned()),
            ("X-Shopify-API-Version".to_owned(), API_VERSION.to_owned()),
            ("X-Shopify-Webhook-Id".to_owned(), uuid()),
            ("X-Shopify-Event-Id".to_owned(), uuid()),
            ("X-Shopify-Triggered-At".to_owned(), triggered_at),
        ];
        Delivery { headers, body }
    }

    /// A retry of the delivery: the same event (same Event-Id, same payload from trigger
    /// time), a new Webhook-Id.
    pub fn redelivery(&self, delivery: &Delivery) -> Delivery {
        let mut again = delivery.clone();
        for (name, value) in &mut again.headers {
            if name.eq_ignore_ascii_case("X-Shopify-Webhook-Id") {
                *value = uuid();
            }
        }
        again
    }

    /// POSTs the delivery to `hook_url`; returns the HTTP status of the answer.
    pub async fn deliver(&self, hook_url: &str, delivery: &Delivery) -> anyhow::Result<u16> {
        // Shopify gives up after 5 s.
        delivery
            .send(hook_url, std::time::Duration::from_secs(5))
            .await
    }

    /// While down, every request gets 503.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next `requests` requests get 429, with `Retry-After: {retry_after}` when given.
    pub fn throttle_next(&self, requests: usize, retry_after: Option<&str>) {
        self.lock().throttle = Some((requests, retry_after.map(str::to_owned)));
    }

    /// Resizes the leaky bucket (Standard plans: 40 and 2/s; Plus: 400 and 20/s) and
    /// empties it.
    pub fn set_bucket(&self, capacity: u32, leak_per_second: f64) {
        self.lock().bucket = Bucket::new(capacity, leak_per_second);
    }

    /// Every request so far as `"METHOD /path?query"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// How many `method` requests went to `path`, query ignored; `path` is relative to
    /// the versioned API (`"variants/123.json"`), or absolute when it starts with `/`
    /// (`"/admin/oauth/access_scopes.json"`).
    pub fn requests_to(&self, method: &str, path: &str) -> usize {
        self.request_counts()
            .into_iter()
            .filter(|(request, _)| {
                let Some((sent_method, sent_path)) = request.split_once(' ') else {
                    return false;
                };
                let matches_path = if path.starts_with('/') {
                    sent_path == path
                } else {
                    sent_path
                        .strip_prefix("/admin/api/")
                        .and_then(|rest| rest.split_once('/'))
                        .is_some_and(|(_, resource)| resource == path)
                };
                sent_method.eq_ignore_ascii_case(method) && matches_path
            })
            .map(|(_, count)| count)
            .sum()
    }

    /// Requests so far per `"METHOD /path"`, query left out.
    pub fn request_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for request in &self.lock().requests {
            let without_query = request.split('?').next().unwrap_or(request).to_owned();
            *counts.entry(without_query).or_insert(0) += 1;
        }
        counts
    }
}

// ---------------------------------------------------------------------------------------
// Orders: amounts as Shopify computes them.

fn build_order(state: &mut State, spec: &OrderSpec) -> Value {
    let id = state.id();
    let number = state.next_order_number;
    state.next_order_number += 1;
    let stamp = state.stamp();
    let shop = SHOP_CURRENCY;
    let presentment = spec.currency.as_str();
    let rate = exchange_rate(presentment);
    let percent = spec.discount.as_ref().map_or(Decimal::ZERO, |(_, p)| {
        Decimal::from(*p) / Decimal::ONE_HUNDRED
    });
    let set = |amount: Decimal| money_set(amount, rate, shop, presentment);
    let tax_title = tax_title(&spec.country_code);

    let mut line_items = Vec::new();
    let mut line_items_price = Decimal::ZERO;
    let mut discounts = Decimal::ZERO;
    let mut tax_by_rate: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    for &(variant_id, quantity, line_rate) in &spec.lines {
        let Some((product, variant)) = find_variant(state, variant_id) else {
            panic!("the fake Shopify has no variant {variant_id}");
        };
        let price = dec_of(&variant["price"]);
        let gross = price * Decimal::from(quantity);
        let discount = round(gross * percent);
        let tax_rate = line_rate.unwrap_or(spec.tax_rate);
        let tax = line_tax(gross - discount, tax_rate, spec.taxes_included);
        line_items_price += gross;
        discounts += discount;
        *tax_by_rate.entry(tax_rate).or_default() += tax;
        // Taking the stock, as checkout does for tracked variants.
        if let Some(item) = variant["inventory_item_id"]
            .as_u64()
            .and_then(|item| state.inventory.get_mut(&item))
            .filter(|item| item.tracked)
        {
            item.available = item.available.map(|n| n - i64::from(quantity));
        }
        let line_id = state.id();
        let title = product["title"].as_str().unwrap_or_default();
        let variant_title = variant["title"]
            .as_str()
            .filter(|t| *t != "Default Title")
            .map(str::to_owned);
        let allocations = if discount.is_zero() {
            json!([])
        } else {
            json!([{
                "amount": money(discount),
                "amount_set": set(discount),
                "discount_application_index": 0,
            }])
        };
        line_items.push(json!({
            "id": line_id,
            "admin_graphql_api_id": format!("gid://shopify/LineItem/{line_id}"),
            "current_quantity": quantity,
            "discount_allocations": allocations,
            "duties": [],
            "fulfillable_quantity": quantity,
            "fulfillment_service": "manual",
            "fulfillment_status": null,
            "gift_card": false,
            "grams": variant["grams"],
            "name": match &variant_title {
                Some(v) => format!("{title} - {v}"),
                None => title.to_owned(),
            },
            "price": money(price),
            "price_set": set(price),
            "product_exists": true,
            "product_id": product["id"],
            "properties": [],
            "quantity": quantity,
            "requires_shipping": true,
            "sku": variant["sku"],
            "tax_lines": [{
                "channel_liable": false,
                "price": money(tax),
                "price_set": set(tax),
                "rate": rate_json(tax_rate),
                "title": tax_title,
            }],
            "taxable": true,
            "title": title,
            "total_discount": "0.00",
            "total_discount_set": set(Decimal::ZERO),
            "variant_id": variant_id,
            "variant_inventory_management": variant["inventory_management"],
            "variant_title": variant_title,
            "vendor": product["vendor"],
        }));
    }

    let mut shipping_lines = Vec::new();
    let mut shipping_price = Decimal::ZERO;
    if let Some((title, price)) = &spec.shipping {
        let tax = line_tax(*price, spec.tax_rate, spec.taxes_included);
        *tax_by_rate.entry(spec.tax_rate).or_default() += tax;
        shipping_price += *price;
        let line_id = state.id();
        shipping_lines.push(json!({
            "id": line_id,
            "carrier_identifier": null,
            "code": title,
            "discount_allocations": [],
            "discounted_price": money(*price),
            "discounted_price_set": set(*price),
            "current_discounted_price_set": set(*price),
            "is_removed": false,
            "phone": null,
            "price": money(*price),
            "price_set": set(*price),
            "requested_fulfillment_service_id": null,
            "source": "shopify",
            "title": title,
            "tax_lines": [{
                "channel_liable": false,
                "price": money(tax),
                "price_set": set(tax),
                "rate": rate_json(spec.tax_rate),
                "title": tax_title,
            }],
        }));
    }

    let total_tax: Decimal = tax_by_rate.values().copied().sum();
    let subtotal = line_items_price - discounts;
    let total = subtotal
        + shipping_price
        + if spec.taxes_included {
            Decimal::ZERO
        } else {
            total_tax
        };
    let paid = matches!(
        spec.financial_status.as_str(),
        "paid" | "partially_refunded" | "refunded"
    );
    let outstanding = if paid { Decimal::ZERO } else { total };
    let (email, first_name, last_name) = match (&spec.customer, spec.guest) {
        (Some((email, first, last)), false) => (email.clone(), first.clone(), last.clone()),
        _ => (
            spec.guest_email.clone(),
            "Marko".to_owned(),
            "Kovač".to_owned(),
        ),
    };
    let country = country_name(&spec.country_code);
    let address = json!({
        "first_name": first_name,
        "last_name": last_name,
        "name": format!("{first_name} {last_name}"),
        "company": null,
        "address1": spec.address1,
        "address2": null,
        "city": spec.city,
        "province": null,
        "province_code": null,
        "zip": spec.zip,
        "country": country,
        "country_code": spec.country_code,
        "phone": "+386 40 123 456",
        "latitude": null,
        "longitude": null,
    });
    let customer = if spec.guest {
        Value::Null
    } else {
        let customer_id = state.id();
        json!({
            "id": customer_id,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "phone": null,
            "state": "enabled",
            "note": null,
            "verified_email": true,
            "multipass_identifier": null,
            "tax_exempt": false,
            "tax_exemptions": [],
            "tags": "",
            "currency": shop,
            "created_at": stamp,
            "updated_at": stamp,
            "admin_graphql_api_id": format!("gid://shopify/Customer/{customer_id}"),
            "default_address": default_address(&address, customer_id, country),
        })
    };
    let discount_codes = spec.discount.as_ref().map_or_else(
        || json!([]),
        |(code, _)| json!([{ "code": code, "amount": money(discounts), "type": "percentage" }]),
    );
    let discount_applications = spec.discount.as_ref().map_or_else(
        || json!([]),
        |(code, p)| {
            json!([{
                "type": "discount_code",
                "code": code,
                "title": code,
                "description": null,
                "value": format!("{p}.0"),
                "value_type": "percentage",
                "allocation_method": "across",
                "target_selection": "all",
                "target_type": "line_item",
            }])
        },
    );
    let tax_lines: Vec<Value> = tax_by_rate
        .iter()
        .map(|(rate_value, amount)| {
            json!({
                "channel_liable": false,
                "price": money(*amount),
                "price_set": set(*amount),
                "rate": rate_json(*rate_value),
                "title": tax_title,
            })
        })
        .collect();
    let token = format!("{:032x}", rand::rng().random::<u128>());
    let mut order = json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
        "app_id": 580_111,
        "browser_ip": "192.0.2.10",
        "buyer_accepts_marketing": false,
        "cancel_reason": null,
        "cancelled_at": null,
        "cart_token": null,
        "checkout_id": id + 3,
        "checkout_token": token,
        "client_details": null,
        "closed_at": null,
        "company": null,
        "confirmation_number": format!("K{number}X7Q"),
        "confirmed": true,
        "contact_email": email,
        "created_at": stamp,
        "currency": shop,
    });
    let middle = json!({
        "current_shipping_price_set": set(shipping_price),
        "current_subtotal_price": money(subtotal),
        "current_subtotal_price_set": set(subtotal),
        "current_total_additional_fees_set": null,
        "current_total_discounts": money(discounts),
        "current_total_discounts_set": set(discounts),
        "current_total_duties_set": null,
        "current_total_price": money(total),
        "current_total_price_set": set(total),
        "current_total_tax": money(total_tax),
        "current_total_tax_set": set(total_tax),
        "customer": customer,
        "customer_locale": "en",
        "device_id": null,
    });
    let later = json!({
        "discount_applications": discount_applications,
        "discount_codes": discount_codes,
        "duties_included": false,
        "email": email,
        "estimated_taxes": false,
        "financial_status": spec.financial_status,
        "fulfillment_status": null,
        "fulfillments": [],
        "landing_site": null,
        "landing_site_ref": null,
        "line_items": line_items,
        "location_id": null,
        "merchant_of_record_app_id": null,
        "name": format!("#{number}"),
        "note": spec.note,
        "note_attributes": [],
        "number": number - 1000,
        "order_number": number,
        "order_status_url": format!("https://{SHOP_DOMAIN}/{id}/orders/{token}/authenticate"),
        "original_total_additional_fees_set": null,
        "original_total_duties_set": null,
        "payment_gateway_names": [spec.gateway],
        "payment_terms": null,
    });
    // In parts: one `json!` this large exceeds the macro recursion limit.
    let rest = json!({
        "phone": null,
        "po_number": null,
        "presentment_currency": presentment,
        "processed_at": stamp,
        "reference": null,
        "referring_site": null,
        "refunds": [],
        "returns": [],
        "shipping_address": if spec.shipping.is_some() { address.clone() } else { Value::Null },
        "billing_address": address,
        "shipping_lines": shipping_lines,
        "source_identifier": null,
        "source_name": "web",
        "source_url": null,
        "subtotal_price": money(subtotal),
        "subtotal_price_set": set(subtotal),
        "tags": "",
        "tax_exempt": false,
        "tax_lines": tax_lines,
        "taxes_included": spec.taxes_included,
        "test": false,
        "token": token,
        "total_discounts": money(discounts),
        "total_discounts_set": set(discounts),
        "total_line_items_price": money(line_items_price),
        "total_line_items_price_set": set(line_items_price),
        "total_outstanding": money(outstanding),
        "total_price": money(total),
        "total_price_set": set(total),
        "total_shipping_price_set": set(shipping_price),
        "total_tax": money(total_tax),
        "total_tax_set": set(total_tax),
        "total_tip_received": "0.00",
        "total_weight": 0,
        "updated_at": stamp,
        "user_id": null,
    });
    for part in [middle, later, rest] {
        if let (Value::Object(first), Value::Object(part)) = (&mut order, part) {
            first.extend(part);
        }
    }
    order
}

fn build_fulfillment_order(state: &mut State, order: &Value) -> Value {
    let id = state.id();
    let stamp = order["created_at"].clone();
    let mut line_items = Vec::new();
    for line in order["line_items"].as_array().into_iter().flatten() {
        let line_id = state.id();
        let item_id = line["variant_id"]
            .as_u64()
            .and_then(|variant| find_variant(state, variant))
            .map(|(_, variant)| variant["inventory_item_id"].clone())
            .unwrap_or(Value::Null);
        line_items.push(json!({
            "id": line_id,
            "shop_id": SHOP_ID,
            "fulfillment_order_id": id,
            "quantity": line["quantity"],
            "line_item_id": line["id"],
            "inventory_item_id": item_id,
            "fulfillable_quantity": line["quantity"],
            "variant_id": line["variant_id"],
        }));
    }
    json!({
        "id": id,
        "shop_id": SHOP_ID,
        "order_id": order["id"],
        "assigned_location_id": LOCATION_ID,
        "request_status": "unsubmitted",
        "status": "open",
        "fulfill_at": stamp,
        "fulfill_by": null,
        "supported_actions": ["create_fulfillment", "hold", "move"],
        "destination": order["shipping_address"],
        "line_items": line_items,
        "international_duties": null,
        "fulfillment_holds": [],
        "delivery_method": { "id": id + 1, "method_type": "shipping" },
        "assigned_location": {
            "address1": "Tržaška cesta 2",
            "address2": null,
            "city": "Ljubljana",
            "country_code": "SI",
            "location_id": LOCATION_ID,
            "name": "Main warehouse",
            "phone": null,
            "province": null,
            "zip": "1000",
        },
        "merchant_requests": [],
        "created_at": stamp,
        "updated_at": stamp,
    })
}

// ---------------------------------------------------------------------------------------
// Orders: changes after checkout (payments, cancellation, edits, refunds).

/// A successful transaction of the order, `amount` in the customer's (presentment)
/// currency, as Shopify lists transactions of multi-currency orders by default.
fn new_transaction(
    state: &mut State,
    order: &Value,
    kind: &str,
    amount: Decimal,
    parent_id: Option<u64>,
    source: Option<&str>,
) -> Value {
    let id = state.id();
    let stamp = state.stamp();
    json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/OrderTransaction/{id}"),
        "order_id": order["id"],
        "kind": kind,
        "gateway": order["payment_gateway_names"][0],
        "status": "success",
        "message": null,
        "amount": money(amount),
        "currency": order["presentment_currency"],
        "authorization": if kind == "authorization" { json!(format!("auth-{id}")) } else { Value::Null },
        "parent_id": parent_id,
        "source_name": source.unwrap_or("web"),
        "created_at": stamp,
        "processed_at": stamp,
        "test": false,
    })
}

/// The admin's "Cancel order"; `None` when there is no such order.
fn cancel(state: &mut State, id: u64) -> Option<Value> {
    let stamp = state.stamp();
    if let Some(fulfillment_orders) = state.fulfillment_orders.get_mut(&id) {
        for fulfillment_order in fulfillment_orders {
            fulfillment_order["status"] = json!("closed");
            fulfillment_order["supported_actions"] = json!([]);
            fulfillment_order["updated_at"] = json!(stamp);
        }
    }
    let order = state.orders.get_mut(&id)?;
    order["cancelled_at"] = json!(stamp);
    order["closed_at"] = json!(stamp);
    order["cancel_reason"] = json!("customer");
    if matches!(
        order["financial_status"].as_str(),
        Some("pending" | "authorized")
    ) {
        order["financial_status"] = json!("voided");
    }
    order["updated_at"] = json!(stamp);
    Some(order.clone())
}

/// Takes `quantity` units off the order line (`current_quantity`), unshipped units first
/// off the fulfillable quantities and the fulfillment order. Returns how many of them
/// were unshipped. Panics when the order or line does not exist or has fewer units.
fn take_units(state: &mut State, order_id: u64, line_item_id: u64, quantity: u32) -> u64 {
    let quantity = u64::from(quantity);
    let Some(order) = state.orders.get_mut(&order_id) else {
        panic!("the fake Shopify has no order {order_id}");
    };
    let Some(line) = order["line_items"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .find(|line| line["id"].as_u64() == Some(line_item_id))
    else {
        panic!("order {order_id} has no line {line_item_id}");
    };
    let left = line["current_quantity"].as_u64().unwrap_or(0);
    assert!(
        quantity <= left,
        "line {line_item_id} has {left} units left, not {quantity}"
    );
    line["current_quantity"] = json!(left - quantity);
    let unshipped = line["fulfillable_quantity"].as_u64().unwrap_or(0);
    let from_unshipped = quantity.min(unshipped);
    line["fulfillable_quantity"] = json!(unshipped - from_unshipped);
    let stamp = order["updated_at"].clone();
    let mut to_take = from_unshipped;
    for fulfillment_order in state
        .fulfillment_orders
        .get_mut(&order_id)
        .into_iter()
        .flatten()
    {
        for fo_line in fulfillment_order["line_items"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .filter(|fo_line| fo_line["line_item_id"].as_u64() == Some(line_item_id))
        {
            let open = fo_line["fulfillable_quantity"].as_u64().unwrap_or(0);
            let take = to_take.min(open);
            fo_line["fulfillable_quantity"] = json!(open - take);
            let total = fo_line["quantity"].as_u64().unwrap_or(0);
            fo_line["quantity"] = json!(total.saturating_sub(take));
            to_take -= take;
        }
        let nothing_open = fulfillment_order["line_items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|fo_line| fo_line["fulfillable_quantity"].as_u64() == Some(0));
        if nothing_open && fulfillment_order["status"] != "closed" {
            fulfillment_order["status"] = json!("closed");
            fulfillment_order["supported_actions"] = json!([]);
            fulfillment_order["updated_at"] = stamp.clone();
        }
    }
    from_unshipped
}

/// Shipping given back by the order's refunds so far: (net, tax).
fn refunded_shipping(order: &Value) -> (Decimal, Decimal) {
    let mut net = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    for refund in order["refunds"].as_array().into_iter().flatten() {
        for line in refund["refund_shipping_lines"]
            .as_array()
            .into_iter()
            .flatten()
        {
            net += dec_of(&line["subtotal_amount_set"]["shop_money"]["amount"]);
            tax += dec_of(&line["tax_amount_set"]["shop_money"]["amount"]);
        }
    }
    (net, tax)
}

/// The shipping lines' charge (on the prices' basis) and tax.
fn shipping_charged(order: &Value) -> (Decimal, Decimal) {
    let lines = order["shipping_lines"].as_array().into_iter().flatten();
    let mut price = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    for line in lines {
        price += dec_of(&line["discounted_price"]);
        tax += tax_sum(&line["tax_lines"]);
    }
    (price, tax)
}

/// A line's discount and tax for `units` of its ordered quantity, rounded to the cent.
fn line_share(line: &Value, units: u64) -> (Decimal, Decimal) {
    let ordered = line["quantity"].as_u64().unwrap_or(0);
    let (discount, tax) = (allocations(line), tax_sum(&line["tax_lines"]));
    if units == ordered || ordered == 0 {
        return (discount, tax);
    }
    let share = |amount: Decimal| round(amount * Decimal::from(units) / Decimal::from(ordered));
    (share(discount), share(tax))
}

/// Sets the `current_*` totals from the lines' current quantities and the shipping not
/// refunded, as Shopify keeps them after edits and refunds.
fn recompute_current(order: &mut Value) {
    let included = order["taxes_included"].as_bool().unwrap_or(false);
    let presentment = order["presentment_currency"]
        .as_str()
        .unwrap_or(SHOP_CURRENCY)
        .to_owned();
    let rate = exchange_rate(&presentment);
    let mut subtotal = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    let mut discounts = Decimal::ZERO;
    for line in order["line_items"].as_array().into_iter().flatten() {
        let current = line["current_quantity"].as_u64().unwrap_or(0);
        let (discount, line_tax) = line_share(line, current);
        subtotal += dec_of(&line["price"]) * Decimal::from(current) - discount;
        tax += line_tax;
        discounts += discount;
    }
    let (shipping_price, shipping_tax) = shipping_charged(order);
    let (refunded_net, refunded_tax) = refunded_shipping(order);
    let shipping_tax_left = shipping_tax - refunded_tax;
    let shipping_left = shipping_price
        - refunded_net
        - if included {
            refunded_tax
        } else {
            Decimal::ZERO
        };
    tax += shipping_tax_left;
    let total = subtotal + shipping_left + if included { Decimal::ZERO } else { tax };
    let set = |amount: Decimal| money_set(amount, rate, SHOP_CURRENCY, &presentment);
    order["current_subtotal_price"] = json!(money(subtotal));
    order["current_subtotal_price_set"] = set(subtotal);
    order["current_total_tax"] = json!(money(tax));
    order["current_total_tax_set"] = set(tax);
    order["current_total_discounts"] = json!(money(discounts));
    order["current_total_discounts_set"] = set(discounts);
    order["current_total_price"] = json!(money(total));
    order["current_total_price_set"] = set(total);
    order["current_shipping_price_set"] = set(shipping_left);
}

/// See [`FakeShopify::refund_lines`].
fn refund(
    state: &mut State,
    order_id: u64,
    lines: &[(u64, u32)],
    restock: bool,
    refund_shipping: bool,
    note: &str,
) -> Value {
    let stamp = state.stamp();
    let refund_id = state.id();
    let ids: Vec<u64> = lines.iter().map(|_| state.id()).collect();
    let shipping_line_id = state.id();
    let Some(order) = state.orders.get(&order_id).cloned() else {
        panic!("the fake Shopify has no order {order_id}");
    };
    let included = order["taxes_included"].as_bool().unwrap_or(false);
    let presentment = order["presentment_currency"]
        .as_str()
        .unwrap_or(SHOP_CURRENCY)
        .to_owned();
    let rate = exchange_rate(&presentment);
    let set = |amount: Decimal| money_set(amount, rate, SHOP_CURRENCY, &presentment);
    let mut amount = Decimal::ZERO;
    let mut refund_lines = Vec::new();
    for (&(line_id, quantity), refund_line_id) in lines.iter().zip(ids) {
        let Some(line) = order["line_items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|line| line["id"].as_u64() == Some(line_id))
            .cloned()
        else {
            panic!("order {order_id} has no line {line_id}");
        };
        let units = u64::from(quantity);
        let (discount, tax) = line_share(&line, units);
        // The refunded subtotal is on the prices' own basis (gross when taxes are
        // included), like the line's price.
        let subtotal = dec_of(&line["price"]) * Decimal::from(units) - discount;
        amount += if included { subtotal } else { subtotal + tax };
        let unshipped = take_units(state, order_id, line_id, quantity);
        let restock_type = match (restock, unshipped == units) {
            (false, _) => "no_restock",
            (true, true) => "cancel",
            (true, false) => "return",
        };
        if restock {
            // The units go back on the shelf, as Shopify restocks them.
            let item = line["variant_id"]
                .as_u64()
                .and_then(|variant| find_variant(state, variant))
                .and_then(|(_, variant)| variant["inventory_item_id"].as_u64());
            if let Some(item) = item.and_then(|item| state.inventory.get_mut(&item))
                && item.tracked
            {
                item.available = item.available.map(|n| n + i64::from(quantity));
            }
        }
        refund_lines.push(json!({
            "id": refund_line_id,
            "line_item_id": line_id,
            "location_id": if restock { json!(LOCATION_ID) } else { Value::Null },
            "quantity": units,
            "restock_type": restock_type,
            // Shopify writes these two as JSON numbers.
            "subtotal": number_json(subtotal),
            "subtotal_set": set(subtotal),
            "total_tax": number_json(tax),
            "total_tax_set": set(tax),
            "line_item": line,
        }));
    }
    let mut shipping_lines = Vec::new();
    if refund_shipping {
        let (price, tax) = shipping_charged(&order);
        let (refunded_net, refunded_tax) = refunded_shipping(&order);
        let net = if included { price - tax } else { price } - refunded_net;
        let tax = tax - refunded_tax;
        if !(net + tax).is_zero() {
            amount += net + tax;
            shipping_lines.push(json!({
                "id": shipping_line_id,
                "shipping_line_id": order["shipping_lines"][0]["id"],
                "subtotal_amount_set": set(net),
                "tax_amount_set": set(tax),
            }));
        }
    }
    let parent = state
        .transactions
        .get(&order_id)
        .into_iter()
        .flatten()
        .find(|t| matches!(t["kind"].as_str(), Some("sale" | "capture")))
        .and_then(|t| t["id"].as_u64());
    let transaction = new_transaction(state, &order, "refund", convert(amount, rate), parent, None);
    state
        .transactions
        .entry(order_id)
        .or_default()
        .push(transaction.clone());
    let refund = json!({
        "id": refund_id,
        "order_id": order_id,
        "admin_graphql_api_id": format!("gid://shopify/Refund/{refund_id}"),
        "created_at": stamp,
        "processed_at": stamp,
        "note": note,
        "restock": restock,
        "user_id": null,
        "refund_line_items": refund_lines,
        "refund_shipping_lines": shipping_lines,
        "order_adjustments": [],
        "duties": [],
        // Transactions are in the currency the customer paid in.
        "transactions": [transaction],
    });
    let Some(order) = state.orders.get_mut(&order_id) else {
        panic!("the fake Shopify has no order {order_id}");
    };
    if let Some(refunds) = order["refunds"].as_array_mut() {
        refunds.push(refund.clone());
    }
    recompute_current(order);
    let nothing_left = dec_of(&order["current_total_price"]).is_zero();
    order["financial_status"] = json!(if nothing_left {
        "refunded"
    } else {
        "partially_refunded"
    });
    order["updated_at"] = json!(stamp);
    refund
}

/// A subscription as Shopify stores it.
fn create_webhook(state: &mut State, topic: &str, address: &str) -> Value {
    let id = state.id();
    let stamp = state.stamp();
    let webhook = json!({
        "id": id,
        "address": address,
        "topic": topic,
        "created_at": stamp,
        "updated_at": stamp,
        "format": "json",
        "fields": [],
        "metafield_namespaces": [],
        "api_version": API_VERSION,
        "private_metafield_namespaces": [],
    });
    state.webhooks.insert(id, webhook.clone());
    webhook
}

/// An amount as a JSON number, as some of Shopify's refund fields are.
fn number_json(value: Decimal) -> Value {
    serde_json::from_str(&money(value)).unwrap_or(Value::Null)
}

fn find_variant(state: &State, variant_id: u64) -> Option<(Value, Value)> {
    state.products.values().find_map(|product| {
        product["variants"]
            .as_array()?
            .iter()
            .find(|variant| variant["id"].as_u64() == Some(variant_id))
            .map(|variant| (product.clone(), variant.clone()))
    })
}

/// The tax on `base` at `rate`: added on top, or the part of a gross amount.
fn line_tax(base: Decimal, rate: Decimal, included: bool) -> Decimal {
    if included {
        round(base * rate / (Decimal::ONE + rate))
    } else {
        round(base * rate)
    }
}

fn allocations(line: &Value) -> Decimal {
    line["discount_allocations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|allocation| dec_of(&allocation["amount"]))
        .sum()
}

fn tax_sum(tax_lines: &Value) -> Decimal {
    tax_lines
        .as_array()
        .into_iter()
        .flatten()
        .map(|tax| dec_of(&tax["price"]))
        .sum()
}

/// Fixed rates from EUR, for presentment amounts.
fn exchange_rate(currency: &str) -> Decimal {
    match currency {
        "USD" => dec("1.08"),
        "GBP" => dec("0.85"),
        "CHF" => dec("0.94"),
        "CZK" => dec("25"),
        _ => Decimal::ONE,
    }
}

fn convert(amount: Decimal, rate: Decimal) -> Decimal {
    round(amount * rate)
}

/// `{shop_money, presentment_money}`.
fn money_set(amount: Decimal, rate: Decimal, shop: &str, presentment: &str) -> Value {
    json!({
        "shop_money": { "amount": money(amount), "currency_code": shop },
        "presentment_money": { "amount": money(convert(amount, rate)), "currency_code": presentment },
    })
}

fn tax_title(country_code: &str) -> &'static str {
    match country_code {
        "SI" => "DDV",
        "HR" => "PDV",
        "DE" | "AT" => "MwSt",
        "GB" => "VAT",
        _ => "VAT",
    }
}

/// A customer's `default_address`: the order's address with the customer's ids and the
/// country name once more under `country_name`, as Shopify gives it.
fn default_address(address: &Value, customer_id: u64, country: &str) -> Value {
    let mut default = address.clone();
    if let Some(fields) = default.as_object_mut() {
        fields.remove("latitude");
        fields.remove("longitude");
        fields.insert("id".into(), json!(customer_id + 7));
        fields.insert("customer_id".into(), json!(customer_id));
        fields.insert("default".into(), json!(true));
        fields.insert("country_name".into(), json!(country));
    }
    default
}

fn country_name(country_code: &str) -> &'static str {
    match country_code {
        "SI" => "Slovenia",
        "HR" => "Croatia",
        "AT" => "Austria",
        "DE" => "Germany",
        "GB" => "United Kingdom",
        "US" => "United States",
        _ => "Other",
    }
}

/// A tax rate as Shopify writes it: a JSON number (`0.22`).
fn rate_json(rate: Decimal) -> Value {
    serde_json::from_str(&rate.normalize().to_string()).unwrap_or(Value::Null)
}

fn dec(text: &str) -> Decimal {
    // Only literals written in this file and in tests come here.
    Decimal::from_str(text).unwrap_or_else(|_| panic!("{text:?} is not a decimal"))
}

fn dec_of(value: &Value) -> Decimal {
    match value {
        Value::String(text) => Decimal::from_str(text).unwrap_or_default(),
        Value::Number(number) => Decimal::from_str(&number.to_string()).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

fn round(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Shopify writes money as strings with two decimals.
fn money(value: Decimal) -> String {
    let mut value = round(value);
    value.rescale(2);
    value.to_string()
}

fn shop_time(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    );
    at.to_offset(SHOP_OFFSET).format(format).unwrap_or_default()
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

fn sign(body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A random version-4 UUID, as Shopify's webhook and event ids are.
fn uuid() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

// ---------------------------------------------------------------------------------------
// HTTP

struct Answer {
    status: StatusCode,
    body: Value,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            headers: Vec::new(),
        }
    }

    fn status(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    fn error(status: StatusCode, errors: Value) -> Self {
        Self::status(status, json!({ "errors": errors }))
    }

    fn not_found() -> Self {
        Self::error(StatusCode::NOT_FOUND, json!("Not Found"))
    }
}

fn handle(
    state: &Mutex<State>,
    addr: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut state = state.lock().unwrap_or_else(|poison| poison.into_inner());
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    state.requests.push(format!("{method} {path_and_query}"));

    if !state.exists {
        // UNCONFIRMED: the exact answer for a myshopify.com domain that names no shop;
        // a 404 before any authentication is what the admin's API address gives.
        return respond(Answer::not_found(), None);
    }
    if state.down {
        return respond(
            Answer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                json!("Service Unavailable"),
            ),
            None,
        );
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|value| value.to_str().ok());
    if token != Some(ACCESS_TOKEN) {
        return respond(
            Answer::error(StatusCode::UNAUTHORIZED, json!(INVALID_TOKEN)),
            None,
        );
    }
    if let Some((left, retry_after)) = state.throttle.take() {
        if left > 1 {
            state.throttle = Some((left - 1, retry_after.clone()));
        }
        let capacity = state.bucket.capacity;
        let mut answer = Answer::error(StatusCode::TOO_MANY_REQUESTS, json!(THROTTLED));
        if let Some(retry_after) = retry_after {
            answer.headers.push(("Retry-After".into(), retry_after));
        }
        return respond(answer, Some(format!("{capacity}/{capacity}")));
    }
    let call_limit = match state.bucket.take(Instant::now()) {
        Ok(used) => state.bucket.header(used),
        Err(used) => {
            let mut answer = Answer::error(StatusCode::TOO_MANY_REQUESTS, json!(THROTTLED));
            answer.headers.push(("Retry-After".into(), "2.0".into()));
            return respond(answer, Some(state.bucket.header(used)));
        }
    };

    if uri.path() == "/admin/oauth/access_scopes.json" {
        let answer = if method == Method::GET {
            Answer::ok(json!({ "access_scopes": state
                .scopes
                .iter()
                .map(|scope| json!({ "handle": scope }))
                .collect::<Vec<_>>() }))
        } else {
            Answer::not_found()
        };
        return respond(answer, Some(call_limit));
    }
    let Some(rest) = uri.path().strip_prefix("/admin/api/") else {
        return respond(Answer::not_found(), Some(call_limit));
    };
    let Some((_version, resource)) = rest.split_once('/') else {
        return respond(Answer::not_found(), Some(call_limit));
    };
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let base = format!("http://{addr}{}", uri.path());
    let segments: Vec<&str> = resource.split('/').collect();
    if let Some(scope) = required_scope(method.as_str(), &segments)
        && !has_scope(&state.scopes, scope)
    {
        return respond(
            Answer::error(
                StatusCode::FORBIDDEN,
                json!(format!(
                    "[API] This action requires merchant approval for {scope} scope."
                )),
            ),
            Some(call_limit),
        );
    }
    let answer = match (method.as_str(), segments.as_slice()) {
        ("GET", ["orders.json"]) => list(&state, &base, &query, Listing::Orders),
        ("GET", ["products.json"]) => list(&state, &base, &query, Listing::Products),
        ("GET", ["orders", file]) => match json_id(file) {
            Some(id) => state
                .orders
                .get(&id)
                .map_or_else(Answer::not_found, |order| {
                    Answer::ok(json!({ "order": only_fields(order, &query) }))
                }),
            None => Answer::not_found(),
        },
        ("GET", ["orders", id, "fulfillment_orders.json"]) => match id.parse::<u64>() {
            Ok(id) if state.orders.contains_key(&id) => Answer::ok(json!({
                "fulfillment_orders": state.fulfillment_orders.get(&id).cloned().unwrap_or_default(),
            })),
            _ => Answer::not_found(),
        },
        ("GET", ["orders", id, "fulfillments.json"]) => order_part(
            &state,
            id,
            |order| json!({ "fulfillments": order["fulfillments"] }),
        ),
        ("GET", ["orders", id, "refunds.json"]) => {
            order_part(&state, id, |order| json!({ "refunds": order["refunds"] }))
        }
        ("GET", ["orders", id, "transactions.json"]) => match id.parse::<u64>() {
            Ok(id) if state.orders.contains_key(&id) => Answer::ok(json!({
                "transactions": state.transactions.get(&id).cloned().unwrap_or_default(),
            })),
            _ => Answer::not_found(),
        },
        ("POST", ["orders", id, "transactions.json"]) => match id.parse::<u64>() {
            Ok(id) if state.orders.contains_key(&id) => create_transaction(&mut state, id, body),
            _ => Answer::not_found(),
        },
        ("POST", ["orders", id, "cancel.json"]) => match id.parse::<u64>() {
            Ok(id) if state.orders.contains_key(&id) => cancel_action(&mut state, id),
            _ => Answer::not_found(),
        },
        ("POST", ["orders", id, "close.json"]) => match id.parse::<u64>() {
            Ok(id) if state.orders.contains_key(&id) => close_action(&mut state, id),
            _ => Answer::not_found(),
        },
        ("GET", ["products", file]) => match json_id(file).and_then(|id| state.products.get(&id)) {
            Some(product) => Answer::ok(json!({ "product": only_fields(product, &query) })),
            None => Answer::not_found(),
        },
        ("GET", ["inventory_items", file]) => match json_id(file) {
            Some(id) => state
                .inventory
                .get(&id)
                .map_or_else(Answer::not_found, |item| {
                    Answer::ok(json!({ "inventory_item": {
                        "id": id,
                        "sku": sku_of_item(&state, id),
                        "tracked": item.tracked,
                        "requires_shipping": true,
                        "cost": null,
                        "country_code_of_origin": null,
                        "harmonized_system_code": null,
                        "admin_graphql_api_id": format!("gid://shopify/InventoryItem/{id}"),
                    }}))
                }),
            None => Answer::not_found(),
        },
        ("GET", ["shop.json"]) => {
            Answer::ok(json!({ "shop": only_fields(&shop_resource(), &query) }))
        }
        ("GET", ["webhooks.json"]) => list_webhooks(&state, &query),
        ("POST", ["webhooks.json"]) => post_webhook(&mut state, body),
        ("GET", ["webhooks", file]) => match json_id(file).and_then(|id| state.webhooks.get(&id)) {
            Some(webhook) => Answer::ok(json!({ "webhook": webhook })),
            None => Answer::not_found(),
        },
        ("DELETE", ["webhooks", file]) => {
            match json_id(file).and_then(|id| state.webhooks.remove(&id)) {
                Some(_) => Answer::ok(json!({})),
                None => Answer::not_found(),
            }
        }
        ("GET", ["variants", file]) => {
            match json_id(file).and_then(|id| find_variant(&state, id)) {
                Some((_, variant)) => {
                    Answer::ok(json!({ "variant": only_fields(&variant, &query) }))
                }
                None => Answer::not_found(),
            }
        }
        ("GET", ["locations.json"]) => Answer::ok(json!({ "locations": [{
            "id": LOCATION_ID,
            "name": "Main warehouse",
            "address1": "Tržaška cesta 2",
            "city": "Ljubljana",
            "zip": "1000",
            "country_code": "SI",
            "active": true,
            "legacy": false,
        }]})),
        ("POST", ["inventory_levels", "set.json"]) => set_inventory_level(&mut state, body),
        ("POST", ["fulfillments.json"]) => create_fulfillment(&mut state, body),
        _ => Answer::not_found(),
    };
    respond(answer, Some(call_limit))
}

fn respond(answer: Answer, call_limit: Option<String>) -> Response {
    let body = serde_json::to_vec(&answer.body).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        "x-shopify-api-version",
        HeaderValue::from_static(API_VERSION),
    );
    if let Some(limit) = call_limit.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert("x-shopify-shop-api-call-limit", limit);
    }
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    response
}

/// `"123.json"` → 123.
fn json_id(file: &str) -> Option<u64> {
    file.strip_suffix(".json")?.parse().ok()
}

/// Applies `fields=a,b` to one object.
fn only_fields(object: &Value, query: &[(String, String)]) -> Value {
    let Some(fields) = query.iter().find(|(k, _)| k == "fields").map(|(_, v)| v) else {
        return object.clone();
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    match object {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| wanted.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    Orders,
    Products,
}

impl Listing {
    fn key(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Products => "products",
        }
    }

    fn filters(self) -> &'static [&'static str] {
        match self {
            Self::Orders => &[
                "ids",
                "since_id",
                "created_at_min",
                "created_at_max",
                "updated_at_min",
                "updated_at_max",
                "processed_at_min",
                "processed_at_max",
                "attribution_app_id",
                "status",
                "financial_status",
                "fulfillment_status",
            ],
            Self::Products => &[
                "ids",
                "since_id",
                "title",
                "vendor",
                "handle",
                "product_type",
                "status",
                "collection_id",
                "created_at_min",
                "created_at_max",
                "updated_at_min",
                "updated_at_max",
                "published_at_min",
                "published_at_max",
                "published_status",
                "presentment_currencies",
            ],
        }
    }
}

/// The error Shopify gives for a filter passed next to `page_info`.
fn page_info_conflict(param: &str) -> Answer {
    let mut errors = Map::new();
    errors.insert(
        param.to_owned(),
        json!(format!(
            "{param} cannot be passed when page_info is present. See \
             https://shopify.dev/api/usage/pagination-rest for more information."
        )),
    );
    Answer::error(StatusCode::BAD_REQUEST, Value::Object(errors))
}

/// A list endpoint with Shopify's cursor pagination.
fn list(state: &State, base: &str, query: &[(String, String)], listing: Listing) -> Answer {
    let limit = match query.iter().find(|(k, _)| k == "limit") {
        None => DEFAULT_LIMIT,
        Some((_, value)) => match value.parse::<usize>() {
            // UNCONFIRMED: Shopify's exact answer to limit > 250; the fake caps it.
            Ok(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => {
                return Answer::error(StatusCode::BAD_REQUEST, json!({ "limit": "Invalid limit" }));
            }
        },
    };
    let page_info = query.iter().find(|(k, _)| k == "page_info").map(|(_, v)| v);
    let (filters, position) = match page_info {
        Some(page_info) => {
            if let Some((param, _)) = query
                .iter()
                .find(|(k, _)| !matches!(k.as_str(), "limit" | "page_info" | "fields"))
            {
                return page_info_conflict(param);
            }
            match Cursor::decode(page_info) {
                Some(cursor) => (cursor.filters.clone(), Some(cursor)),
                // UNCONFIRMED: the exact body for a malformed cursor.
                None => {
                    return Answer::error(
                        StatusCode::BAD_REQUEST,
                        json!({ "page_info": "Invalid value." }),
                    );
                }
            }
        }
        None => (
            query
                .iter()
                .filter(|(k, _)| listing.filters().contains(&k.as_str()))
                .cloned()
                .collect::<Vec<_>>(),
            None,
        ),
    };
    let filter = |name: &str| {
        filters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    // Newest first: UNCONFIRMED as Shopify's default order, but any fixed order pages
    // correctly because the cursor carries the position.
    let source = match listing {
        Listing::Orders => &state.orders,
        Listing::Products => &state.products,
    };
    let mut matching: Vec<&Value> = source.values().rev().collect();
    if listing == Listing::Orders {
        let status = filter("status").unwrap_or("open");
        matching.retain(|order| {
            let cancelled = !order["cancelled_at"].is_null();
            let closed = !order["closed_at"].is_null();
            match status {
                "open" => !cancelled && !closed,
                "closed" => closed,
                "cancelled" => cancelled,
                _ => true,
            }
        });
        if let Some(wanted) = filter("financial_status").filter(|s| *s != "any") {
            matching.retain(|order| order["financial_status"].as_str() == Some(wanted));
        }
    }
    if let Some(ids) = filter("ids") {
        let ids: Vec<u64> = ids
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect();
        matching.retain(|item| item["id"].as_u64().is_some_and(|id| ids.contains(&id)));
    }
    if let Some(since) = filter("since_id").and_then(|s| s.parse::<u64>().ok()) {
        matching.retain(|item| item["id"].as_u64().is_some_and(|id| id > since));
        // With since_id Shopify sorts by id ascending.
        matching.reverse();
    }
    for (param, field, at_least) in [
        ("updated_at_min", "updated_at", true),
        ("updated_at_max", "updated_at", false),
        ("created_at_min", "created_at", true),
        ("created_at_max", "created_at", false),
        ("processed_at_min", "processed_at", true),
        ("processed_at_max", "processed_at", false),
    ] {
        let Some(text) = filter(param) else { continue };
        let Some(bound) = parse_time(text) else {
            // UNCONFIRMED: Shopify's exact message for an unparseable date.
            let mut errors = Map::new();
            errors.insert(param.to_owned(), json!(format!("{param} is invalid")));
            return Answer::error(StatusCode::BAD_REQUEST, Value::Object(errors));
        };
        matching.retain(|item| {
            item[field]
                .as_str()
                .and_then(parse_time)
                .is_some_and(|at| if at_least { at >= bound } else { at <= bound })
        });
    }

    let index_of = |id: u64| {
        matching
            .iter()
            .position(|item| item["id"].as_u64() == Some(id))
    };
    let (start, end) = match &position {
        None => (0, limit.min(matching.len())),
        Some(cursor) => {
            // An item that left the list since (deleted) still marks its place by id
            // order; the fake keeps it simple and restarts after the nearest id.
            let at = index_of(cursor.last_id).unwrap_or_else(|| {
                matching
                    .iter()
                    .position(|item| item["id"].as_u64().unwrap_or(0) < cursor.last_id)
                    .unwrap_or(matching.len())
                    .saturating_sub(1)
            });
            if cursor.direction == "prev" {
                (at.saturating_sub(limit), at)
            } else {
                let start = (at + 1).min(matching.len());
                (start, (start + limit).min(matching.len()))
            }
        }
    };
    let page: Vec<Value> = matching[start..end]
        .iter()
        .map(|item| only_fields(item, query))
        .collect();

    let mut links = Vec::new();
    let link = |direction: &str, last_id: u64, rel: &str| {
        let cursor = Cursor {
            direction: direction.to_owned(),
            last_id,
            filters: filters.clone(),
        };
        let mut url = format!("{base}?limit={limit}&page_info={}", cursor.encode());
        if let Some((_, fields)) = query.iter().find(|(k, _)| k == "fields") {
            url.push_str("&fields=");
            url.push_str(
                &url::form_urlencoded::byte_serialize(fields.as_bytes()).collect::<String>(),
            );
        }
        format!("<{url}>; rel=\"{rel}\"")
    };
    if start > 0
        && let Some(first) = matching[start]["id"].as_u64()
    {
        links.push(link("prev", first, "previous"));
    }
    if end < matching.len()
        && let Some(last) = matching[end - 1]["id"].as_u64()
    {
        links.push(link("next", last, "next"));
    }
    let mut answer = Answer::ok(json!({ listing.key(): page }));
    if !links.is_empty() {
        // Shopify sends the header as lower-case `link`.
        answer.headers.push(("link".into(), links.join(", ")));
    }
    answer
}

/// The access scope a path needs, as Shopify documents them per resource; `None` for
/// what any valid token may do (the shop, webhooks).
fn required_scope(method: &str, segments: &[&str]) -> Option<&'static str> {
    let write = method != "GET";
    match segments.first().copied()? {
        "orders" if segments.get(2) == Some(&"fulfillment_orders.json") => {
            Some("read_merchant_managed_fulfillment_orders")
        }
        "orders" | "orders.json" if write => Some("write_orders"),
        "orders" | "orders.json" => Some("read_orders"),
        "products" | "products.json" | "variants" => Some("read_products"),
        "inventory_items" => Some("read_inventory"),
        "inventory_levels" => Some("write_inventory"),
        "fulfillments.json" => Some("write_merchant_managed_fulfillment_orders"),
        "locations.json" | "locations" => Some("read_locations"),
        _ => None,
    }
}

/// Whether `scopes` grant `wanted`; a `write_` scope includes its `read_` one.
fn has_scope(scopes: &[String], wanted: &str) -> bool {
    let write = wanted
        .strip_prefix("read_")
        .map(|rest| format!("write_{rest}"));
    scopes
        .iter()
        .any(|scope| scope == wanted || write.as_deref() == Some(scope.as_str()))
}

/// Something read off one order, or 404.
fn order_part(state: &State, id: &str, part: impl Fn(&Value) -> Value) -> Answer {
    match id.parse::<u64>().ok().and_then(|id| state.orders.get(&id)) {
        Some(order) => Answer::ok(part(order)),
        None => Answer::not_found(),
    }
}

/// The SKU of the variant holding inventory item `item`.
fn sku_of_item(state: &State, item: u64) -> Value {
    state
        .products
        .values()
        .flat_map(|product| product["variants"].as_array().cloned().unwrap_or_default())
        .find(|variant| variant["inventory_item_id"].as_u64() == Some(item))
        .map_or(Value::Null, |variant| variant["sku"].clone())
}

/// `GET shop.json`.
fn shop_resource() -> Value {
    json!({
        "id": SHOP_ID,
        "name": SHOP_NAME,
        "email": "owner@demo-shop.example",
        "domain": "shop.demo.example",
        "myshopify_domain": SHOP_DOMAIN,
        "province": null,
        "country": "SI",
        "country_code": "SI",
        "country_name": "Slovenia",
        "address1": "Tržaška cesta 2",
        "city": "Ljubljana",
        "zip": "1000",
        "currency": SHOP_CURRENCY,
        "enabled_presentment_currencies": [SHOP_CURRENCY, "USD", "GBP", "CHF", "CZK"],
        "iana_timezone": "Europe/Ljubljana",
        "timezone": "(GMT+01:00) Europe/Ljubljana",
        "taxes_included": null,
        "plan_name": "basic",
        "plan_display_name": "Basic",
        "primary_locale": "en",
        // Deprecated since 2024-04, still sent.
        "primary_location_id": LOCATION_ID,
        "created_at": "2023-05-02T10:00:00+01:00",
        "updated_at": "2025-01-10T08:30:00+01:00",
    })
}

/// `POST orders/{id}/cancel.json`: 422 when the order is cancelled already, or paid and
/// fulfilled (UNCONFIRMED: Shopify's exact wording for both).
fn cancel_action(state: &mut State, id: u64) -> Answer {
    let Some(order) = state.orders.get(&id) else {
        return Answer::not_found();
    };
    if !order["cancelled_at"].is_null() {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("Order has already been cancelled"),
        );
    }
    let fulfilled = order["fulfillments"]
        .as_array()
        .is_some_and(|list| !list.is_empty());
    if fulfilled && order["financial_status"] == "paid" {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("Cannot cancel an order that has fulfillments"),
        );
    }
    match cancel(state, id) {
        Some(order) => Answer::ok(json!({ "order": order })),
        None => Answer::not_found(),
    }
}

/// `POST orders/{id}/close.json`: archives the order.
fn close_action(state: &mut State, id: u64) -> Answer {
    let stamp = state.stamp();
    let Some(order) = state.orders.get_mut(&id) else {
        return Answer::not_found();
    };
    if order["closed_at"].is_null() {
        order["closed_at"] = json!(stamp);
        order["updated_at"] = json!(stamp);
    }
    Answer::ok(json!({ "order": order }))
}

/// `POST orders/{id}/transactions.json`: a `capture` of an authorization, or a `sale`
/// with `source: external` recording a payment taken outside Shopify.
fn create_transaction(state: &mut State, id: u64, body: &[u8]) -> Answer {
    let body = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let transaction = &body["transaction"];
    let Some(order) = state.orders.get(&id).cloned() else {
        return Answer::not_found();
    };
    let invalid = |field: &str, message: &str| {
        let mut errors = Map::new();
        errors.insert(field.to_owned(), json!([message]));
        Answer::error(StatusCode::UNPROCESSABLE_ENTITY, Value::Object(errors))
    };
    let presentment = order["presentment_currency"]
        .as_str()
        .unwrap_or(SHOP_CURRENCY)
        .to_owned();
    let currency = transaction["currency"].as_str();
    if presentment != SHOP_CURRENCY && currency.is_none() {
        // Shopify: "For multi-currency orders, the currency property is required".
        return invalid("currency", "is required for multi-currency orders");
    }
    if currency.is_some_and(|currency| !currency.eq_ignore_ascii_case(&presentment)) {
        return invalid("currency", "must be the order's presentment currency");
    }
    let amount = match &transaction["amount"] {
        Value::Null => None,
        other => Some(dec_of(other)),
    };
    let rate = exchange_rate(&presentment);
    let outstanding = dec_of(&order["total_outstanding"]);
    let financial = order["financial_status"].as_str().unwrap_or("").to_owned();
    let created = match transaction["kind"].as_str() {
        Some("capture") => {
            let parent = transaction["parent_id"].as_u64();
            let transactions = state.transactions.get(&id).cloned().unwrap_or_default();
            let Some(authorization) = transactions.iter().find(|t| {
                t["kind"] == "authorization"
                    && t["status"] == "success"
                    && t["id"].as_u64() == parent
            }) else {
                return invalid(
                    "parent_id",
                    "must be a successful authorization of the order",
                );
            };
            let captured: Decimal = transactions
                .iter()
                .filter(|t| t["kind"] == "capture" && t["parent_id"].as_u64() == parent)
                .map(|t| dec_of(&t["amount"]))
                .sum();
            let left = dec_of(&authorization["amount"]) - captured;
            let amount = amount.unwrap_or(left);
            if amount <= Decimal::ZERO || amount > left {
                return invalid(
                    "amount",
                    "must be positive and at most the authorized amount left",
                );
            }
            new_transaction(state, &order, "capture", amount, parent, None)
        }
        Some("sale") if transaction["source"] == "external" => {
            if !matches!(financial.as_str(), "pending" | "partially_paid") {
                return invalid(
                    "kind",
                    "sale is not allowed for an order that is not pending",
                );
            }
            let Some(amount) = amount else {
                return invalid("amount", "can't be blank");
            };
            if amount <= Decimal::ZERO || amount > convert(outstanding, rate) {
                return invalid(
                    "amount",
                    "must be positive and at most the amount outstanding",
                );
            }
            new_transaction(state, &order, "sale", amount, None, Some("external"))
        }
        _ => return invalid("kind", "is not supported"),
    };
    let paid_now = if rate.is_zero() {
        Decimal::ZERO
    } else {
        round(dec_of(&created["amount"]) / rate)
    };
    state
        .transactions
        .entry(id)
        .or_default()
        .push(created.clone());
    let stamp = state.stamp();
    if let Some(order) = state.orders.get_mut(&id) {
        let left = (outstanding - paid_now).max(Decimal::ZERO);
        order["total_outstanding"] = json!(money(left));
        order["financial_status"] = json!(if left.is_zero() {
            "paid"
        } else {
            "partially_paid"
        });
        order["updated_at"] = json!(stamp);
    }
    Answer::status(StatusCode::CREATED, json!({ "transaction": created }))
}

/// `GET webhooks.json`: `address` and `topic` filter, `limit` ≤ 250.
fn list_webhooks(state: &State, query: &[(String, String)]) -> Answer {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit = param("limit")
        .and_then(|limit| limit.parse::<usize>().ok())
        .unwrap_or(DEFAULT_LIMIT)
        .min(MAX_LIMIT);
    let webhooks: Vec<Value> = state
        .webhooks
        .values()
        .filter(|webhook| param("address").is_none_or(|address| webhook["address"] == address))
        .filter(|webhook| param("topic").is_none_or(|topic| webhook["topic"] == topic))
        .take(limit)
        .map(|webhook| only_fields(webhook, query))
        .collect();
    Answer::ok(json!({ "webhooks": webhooks }))
}

/// `POST webhooks.json`: a known topic, an `https` address, one subscription per topic
/// and address (UNCONFIRMED: the exact wording of the topic and protocol errors).
fn post_webhook(state: &mut State, body: &[u8]) -> Answer {
    let body = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let webhook = &body["webhook"];
    let invalid = |field: &str, message: String| {
        let mut errors = Map::new();
        errors.insert(field.to_owned(), json!([message]));
        Answer::error(StatusCode::UNPROCESSABLE_ENTITY, Value::Object(errors))
    };
    let topic = webhook["topic"].as_str().unwrap_or("").trim().to_owned();
    if !WEBHOOK_TOPICS.contains(&topic.as_str()) {
        return invalid("topic", format!("Invalid topic specified: {topic}"));
    }
    let address = webhook["address"].as_str().unwrap_or("").trim().to_owned();
    if address.is_empty() {
        return invalid("address", "can't be blank".into());
    }
    if !address.starts_with("https://") {
        return invalid("address", "protocol must be https".into());
    }
    if webhook["format"]
        .as_str()
        .is_some_and(|format| format != "json" && format != "xml")
    {
        return invalid("format", "is not included in the list".into());
    }
    let taken = state.webhooks.values().any(|existing| {
        existing["topic"] == topic.as_str() && existing["address"] == address.as_str()
    });
    if taken {
        return invalid("address", "for this topic has already been taken".into());
    }
    let created = create_webhook(state, &topic, &address);
    Answer::status(StatusCode::CREATED, json!({ "webhook": created }))
}

fn set_inventory_level(state: &mut State, body: &[u8]) -> Answer {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            json!("Required parameter missing or invalid"),
        );
    };
    let id = |name: &str| match &body[name] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let (Some(location_id), Some(item_id)) = (id("location_id"), id("inventory_item_id")) else {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            json!({ "location_id, inventory_item_id": "Required parameter missing or invalid" }),
        );
    };
    let Some(available) = body["available"].as_i64() else {
        return Answer::error(
            StatusCode::BAD_REQUEST,
            json!({ "available": "Required parameter missing or invalid" }),
        );
    };
    let Some(item) = state.inventory.get_mut(&item_id) else {
        // UNCONFIRMED: Shopify's exact answer for an unknown inventory item.
        return Answer::error(StatusCode::NOT_FOUND, json!("Not Found"));
    };
    if !item.tracked {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!(["Inventory item does not have inventory tracking enabled"]),
        );
    }
    if location_id != LOCATION_ID {
        // UNCONFIRMED for REST; this is the GraphQL ITEM_NOT_STOCKED_AT_LOCATION text.
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!(["The specified inventory item is not stocked at the location."]),
        );
    }
    item.available = Some(available);
    let stamp = state.stamp();
    // The variant's inventory_quantity mirrors the level, as in Shopify.
    for product in state.products.values_mut() {
        for variant in product["variants"].as_array_mut().into_iter().flatten() {
            if variant["inventory_item_id"].as_u64() == Some(item_id) {
                variant["old_inventory_quantity"] = variant["inventory_quantity"].clone();
                variant["inventory_quantity"] = json!(available);
                variant["updated_at"] = json!(stamp);
            }
        }
    }
    Answer::ok(json!({ "inventory_level": {
        "inventory_item_id": item_id,
        "location_id": location_id,
        "available": available,
        "updated_at": stamp,
        "admin_graphql_api_id": format!(
            "gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"
        ),
    }}))
}

fn create_fulfillment(state: &mut State, body: &[u8]) -> Answer {
    let body = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let fulfillment = &body["fulfillment"];
    let missing = || {
        Answer::error(
            StatusCode::BAD_REQUEST,
            json!({ "fulfillment": "Required parameter missing or invalid" }),
        )
    };
    let Some(requested) = fulfillment["line_items_by_fulfillment_order"].as_array() else {
        return missing();
    };
    // What to ship: (order, fulfillment order index, fo line index, quantity).
    let mut shipping: Vec<(u64, usize, usize, u64)> = Vec::new();
    for entry in requested {
        let Some(fo_id) = entry["fulfillment_order_id"].as_u64() else {
            return missing();
        };
        let found = state.fulfillment_orders.iter().find_map(|(order_id, fos)| {
            fos.iter()
                .position(|fo| fo["id"].as_u64() == Some(fo_id))
                .map(|index| (*order_id, index))
        });
        let Some((order_id, index)) = found else {
            return Answer::not_found();
        };
        let fo = &state.fulfillment_orders[&order_id][index];
        let status = fo["status"].as_str().unwrap_or("").to_owned();
        if !matches!(status.as_str(), "open" | "in_progress") {
            // UNCONFIRMED: the exact wording for a fulfillment order that is done.
            return Answer::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!([format!(
                    "Fulfillment order {fo_id} has an unfulfillable status= {status}."
                )]),
            );
        }
        let fo_lines = fo["line_items"].as_array().cloned().unwrap_or_default();
        match entry["fulfillment_order_line_items"].as_array() {
            // Without line items: everything still open in the fulfillment order.
            None => {
                for (line_index, line) in fo_lines.iter().enumerate() {
                    let open = line["fulfillable_quantity"].as_u64().unwrap_or(0);
                    if open > 0 {
                        shipping.push((order_id, index, line_index, open));
                    }
                }
            }
            Some(items) => {
                for item in items {
                    let (Some(line_id), Some(quantity)) =
                        (item["id"].as_u64(), item["quantity"].as_u64())
                    else {
                        return missing();
                    };
                    let Some(line_index) = fo_lines
                        .iter()
                        .position(|line| line["id"].as_u64() == Some(line_id))
                    else {
                        return Answer::error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            json!([format!(
                                "Fulfillment order line item {line_id} does not belong to \
                                 fulfillment order {fo_id}."
                            )]),
                        );
                    };
                    let open = fo_lines[line_index]["fulfillable_quantity"]
                        .as_u64()
                        .unwrap_or(0);
                    let already: u64 = shipping
                        .iter()
                        .filter(|s| s.0 == order_id && s.1 == index && s.2 == line_index)
                        .map(|s| s.3)
                        .sum();
                    if quantity == 0 || quantity + already > open {
                        // UNCONFIRMED: the exact wording.
                        return Answer::error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            json!([format!(
                                "Invalid fulfillment order line item quantity requested: \
                                 {quantity} of line item {line_id}, {open} fulfillable."
                            )]),
                        );
                    }
                    shipping.push((order_id, index, line_index, quantity));
                }
            }
        }
    }
    let Some(&(order_id, _, _, _)) = shipping.first() else {
        return missing();
    };
    if shipping.iter().any(|(other, ..)| *other != order_id) {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!(["All fulfillment orders must belong to the same order."]),
        );
    }
    let stamp = state.stamp();
    let fulfillment_id = state.id();
    // Order line id → units shipped now.
    let mut shipped_lines: Vec<(u64, u64)> = Vec::new();
    if let Some(fos) = state.fulfillment_orders.get_mut(&order_id) {
        for &(_, index, line_index, quantity) in &shipping {
            let Some(fo) = fos.get_mut(index) else {
                continue;
            };
            if let Some(line) = fo["line_items"]
                .as_array_mut()
                .and_then(|lines| lines.get_mut(line_index))
            {
                let open = line["fulfillable_quantity"].as_u64().unwrap_or(0);
                line["fulfillable_quantity"] = json!(open.saturating_sub(quantity));
                let order_line = line["line_item_id"].as_u64().unwrap_or(0);
                match shipped_lines.iter_mut().find(|(id, _)| *id == order_line) {
                    Some((_, units)) => *units += quantity,
                    None => shipped_lines.push((order_line, quantity)),
                }
            }
            let done = fo["line_items"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|line| line["fulfillable_quantity"].as_u64() == Some(0));
            fo["status"] = json!(if done { "closed" } else { "in_progress" });
            if done {
                fo["supported_actions"] = json!([]);
            }
            fo["updated_at"] = json!(stamp);
        }
    }
    let all_closed = state
        .fulfillment_orders
        .get(&order_id)
        .is_some_and(|fos| fos.iter().all(|fo| fo["status"] == "closed"));
    let tracking = &fulfillment["tracking_info"];
    let number = tracking["number"].as_str().map(str::to_owned);
    let company = tracking["company"].as_str().map(str::to_owned);
    let url = tracking["url"].as_str().map(str::to_owned);
    let Some(order) = state.orders.get_mut(&order_id) else {
        return Answer::not_found();
    };
    let mut line_items = Vec::new();
    for line in order["line_items"].as_array_mut().into_iter().flatten() {
        let Some(&(_, units)) = shipped_lines
            .iter()
            .find(|(id, _)| line["id"].as_u64() == Some(*id))
        else {
            continue;
        };
        let open = line["fulfillable_quantity"].as_u64().unwrap_or(0);
        let left = open.saturating_sub(units);
        line["fulfillable_quantity"] = json!(left);
        line["fulfillment_status"] = json!(if left == 0 { "fulfilled" } else { "partial" });
        let mut shipped = line.clone();
        shipped["quantity"] = json!(units);
        line_items.push(shipped);
    }
    let count = order["fulfillments"].as_array().map_or(0, Vec::len);
    let created = json!({
        "id": fulfillment_id,
        "admin_graphql_api_id": format!("gid://shopify/Fulfillment/{fulfillment_id}"),
        "order_id": order_id,
        "status": "success",
        "created_at": stamp,
        "updated_at": stamp,
        "service": "manual",
        "location_id": LOCATION_ID,
        "name": format!("{}.{}", order["name"].as_str().unwrap_or("#"), count + 1),
        "shipment_status": null,
        "origin_address": {},
        "receipt": {},
        "tracking_company": company,
        "tracking_number": number,
        "tracking_numbers": number.iter().collect::<Vec<_>>(),
        "tracking_url": url,
        "tracking_urls": url.iter().collect::<Vec<_>>(),
        "notify_customer": fulfillment["notify_customer"].as_bool().unwrap_or(false),
        "line_items": line_items,
    });
    if let Some(list) = order["fulfillments"].as_array_mut() {
        list.push(created.clone());
    }
    order["fulfillment_status"] = json!(if all_closed { "fulfilled" } else { "partial" });
    order["updated_at"] = json!(stamp);
    Answer::status(StatusCode::CREATED, json!({ "fulfillment": created }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn bucket_fills_leaks_and_refuses() {
        let mut bucket = Bucket::new(40, 2.0);
        let start = Instant::now();
        for n in 1..=40 {
            assert_eq!(bucket.take(start), Ok(n));
        }
        assert_eq!(bucket.take(start), Err(40), "full: refused");
        assert_eq!(bucket.header(40), "40/40");
        // Half a second leaks one request at 2/s.
        let later = start + std::time::Duration::from_millis(500);
        assert_eq!(bucket.take(later), Ok(40));
        assert_eq!(bucket.take(later), Err(40));
        // Ten seconds later 20 have leaked.
        let much_later = later + std::time::Duration::from_secs(10);
        assert_eq!(bucket.take(much_later), Ok(21));
        // It never leaks below empty.
        let idle = much_later + std::time::Duration::from_secs(3600);
        assert_eq!(bucket.take(idle), Ok(1));
    }

    #[test]
    fn cursor_round_trips_and_refuses_garbage() {
        let cursor = Cursor {
            direction: "next".into(),
            last_id: 5_726_128_734_520,
            filters: vec![("status".into(), "any".into())],
        };
        let text = cursor.encode();
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(Cursor::decode(&text), Some(cursor));
        assert_eq!(Cursor::decode("not a cursor!"), None);
        assert_eq!(Cursor::decode("eyJ4IjoxfQ"), None, "JSON, but not a cursor");
    }

    fn state_with_orders(n: usize) -> State {
        let mut state = State::new();
        for _ in 0..n {
            let id = state.id();
            let stamp = state.stamp();
            state.orders.insert(
                id,
                json!({"id": id, "updated_at": stamp, "created_at": stamp, "processed_at": stamp,
                       "cancelled_at": null, "closed_at": null, "financial_status": "paid"}),
            );
        }
        state
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn next_page_info(answer: &Answer) -> Option<String> {
        let link = answer.headers.iter().find(|(k, _)| k == "link")?.1.clone();
        let next = link
            .split(", ")
            .find(|part| part.ends_with("rel=\"next\""))?;
        let url = next.trim_start_matches('<').split('>').next()?;
        let query = url.split_once('?')?.1;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "page_info")
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn page_info_walks_every_order_once() {
        let state = state_with_orders(7);
        let base = "http://127.0.0.1:1/admin/api/2025-07/orders.json";
        let first = list(
            &state,
            base,
            &q(&[("status", "any"), ("limit", "3")]),
            Listing::Orders,
        );
        let mut seen: Vec<u64> = first.body["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_u64().unwrap())
            .collect();
        let mut page_info = next_page_info(&first);
        let mut pages = 1;
        while let Some(info) = page_info {
            let answer = list(
                &state,
                base,
                &q(&[("limit", "3"), ("page_info", &info)]),
                Listing::Orders,
            );
            assert_eq!(answer.status, StatusCode::OK);
            let link = &answer.headers.iter().find(|(k, _)| k == "link").unwrap().1;
            assert!(link.contains("rel=\"previous\""), "{link}");
            seen.extend(
                answer.body["orders"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["id"].as_u64().unwrap()),
            );
            page_info = next_page_info(&answer);
            pages += 1;
        }
        assert_eq!(pages, 3);
        let mut all: Vec<u64> = state.orders.keys().copied().collect();
        all.reverse();
        assert_eq!(seen, all, "newest first, each once");
    }

    #[test]
    fn filters_next_to_page_info_are_refused() {
        let state = state_with_orders(3);
        let base = "http://127.0.0.1:1/admin/api/2025-07/orders.json";
        let first = list(
            &state,
            base,
            &q(&[("status", "any"), ("limit", "1")]),
            Listing::Orders,
        );
        let info = next_page_info(&first).unwrap();
        let answer = list(
            &state,
            base,
            &q(&[
                ("page_info", &info),
                ("updated_at_min", "2020-01-01T00:00:00Z"),
            ]),
            Listing::Orders,
        );
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(
            answer.body["errors"]["updated_at_min"]
                .as_str()
                .unwrap()
                .starts_with("updated_at_min cannot be passed when page_info is present")
        );
        let garbage = list(&state, base, &q(&[("page_info", "zzz")]), Listing::Orders);
        assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn status_defaults_to_open_and_updated_at_min_filters() {
        let mut state = state_with_orders(3);
        let ids: Vec<u64> = state.orders.keys().copied().collect();
        let stamp = state.stamp();
        state.orders.get_mut(&ids[0]).unwrap()["cancelled_at"] = json!(stamp);
        state.orders.get_mut(&ids[0]).unwrap()["closed_at"] = json!(stamp);
        state.orders.get_mut(&ids[0]).unwrap()["updated_at"] = json!(stamp);
        let base = "http://x/admin/api/2025-07/orders.json";
        let open = list(&state, base, &q(&[]), Listing::Orders);
        assert_eq!(open.body["orders"].as_array().unwrap().len(), 2);
        let any = list(&state, base, &q(&[("status", "any")]), Listing::Orders);
        assert_eq!(any.body["orders"].as_array().unwrap().len(), 3);
        let changed = list(
            &state,
            base,
            &q(&[("status", "any"), ("updated_at_min", &stamp)]),
            Listing::Orders,
        );
        let changed = changed.body["orders"].as_array().unwrap().clone();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0]["id"].as_u64(), Some(ids[0]));
        assert!(
            list(&state, base, &q(&[("limit", "1")]), Listing::Orders)
                .headers
                .iter()
                .any(|(k, _)| k == "link")
        );
    }

    #[test]
    fn order_amounts_add_up_both_ways() {
        for included in [false, true] {
            let mut state = State::new();
            let shop = FakeShopifyState(&mut state);
            let (variant_a, variant_b) = shop.two_variants();
            let spec = OrderSpec::new()
                .taxes_included(included)
                .line(variant_a, 3)
                .line_with_tax_rate(variant_b, 1, "0.095")
                .discount_code("TEN", 10)
                .shipping("Standard", "4.90");
            let order = build_order(&mut state, &spec);
            let lines = order["line_items"].as_array().unwrap();
            let gross: Decimal = lines
                .iter()
                .map(|l| dec_of(&l["price"]) * Decimal::from(l["quantity"].as_u64().unwrap()))
                .sum();
            let discounts: Decimal = lines.iter().map(allocations).sum();
            let taxes: Decimal = lines
                .iter()
                .map(|l| tax_sum(&l["tax_lines"]))
                .sum::<Decimal>()
                + tax_sum(&order["shipping_lines"][0]["tax_lines"]);
            assert_eq!(dec_of(&order["total_line_items_price"]), gross);
            assert_eq!(dec_of(&order["total_discounts"]), discounts);
            assert_eq!(dec_of(&order["total_tax"]), taxes);
            let expected =
                gross - discounts + dec("4.90") + if included { Decimal::ZERO } else { taxes };
            assert_eq!(
                dec_of(&order["total_price"]),
                expected,
                "included={included}"
            );
            assert_eq!(order["tax_lines"].as_array().unwrap().len(), 2, "two rates");
        }
    }

    /// Adds products straight into a state, for tests without a server.
    struct FakeShopifyState<'a>(&'a mut State);

    impl FakeShopifyState<'_> {
        fn two_variants(self) -> (u64, u64) {
            let mut ids = Vec::new();
            for (price, sku) in [("19.90", "A"), ("24.00", "B")] {
                let product_id = self.0.id();
                let variant_id = self.0.id();
                let item_id = self.0.id();
                self.0.inventory.insert(
                    item_id,
                    InventoryItem {
                        tracked: true,
                        available: Some(5),
                    },
                );
                self.0.products.insert(
                    product_id,
                    json!({"id": product_id, "title": sku, "vendor": "V", "variants": [{
                        "id": variant_id, "product_id": product_id, "title": "Default Title",
                        "price": price, "sku": sku, "inventory_item_id": item_id, "grams": 1,
                        "inventory_management": "shopify"}]}),
                );
                ids.push(variant_id);
            }
            (ids[0], ids[1])
        }
    }

    #[test]
    fn signatures_and_uuids() {
        let signature = sign(b"{}");
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&signature)
                .unwrap()
                .len(),
            32
        );
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(uuid(), id);
    }

    #[test]
    fn timestamps_carry_the_shop_offset_and_increase() {
        let mut state = State::new();
        let a = state.stamp();
        let b = state.stamp();
        assert!(a.ends_with("+01:00"), "{a}");
        assert!(parse_time(&b).unwrap() > parse_time(&a).unwrap());
    }
}
