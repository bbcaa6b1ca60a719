//! A fake Shoptet REST API (and the e-shop's OAuth server) on 127.0.0.1.
//!
//! It answers the paths a shop connector uses, the way `https://api.myshoptet.com` does
//! (Shoptet's OpenAPI description):
//!
//! | path | what |
//! |---|---|
//! | `GET /action/ApiOAuthServer/getAccessToken` | the e-shop's OAuth server: `Authorization: Bearer {OAUTH_TOKEN}` → `{"access_token", "expires_in"}`, a short-lived API access token |
//! | `GET /api/eshop` | `contactInformation` with the e-shop's id, name and address |
//! | `GET /api/orders` | `changeTimeFrom`/`changeTimeTo` (ISO 8601, offset without colon), `statusId`, `orderCodes`, `page`, `itemsPerPage` (default and maximum 50, larger values clamped), `paginator` |
//! | `GET /api/orders/{code}` | the detail; `notes` and `shippingDetails` only with `include` |
//! | `PATCH /api/orders/{code}/status` | `statusId`, `paid` (`suppressEmailSending` recorded) |
//! | `PATCH /api/orders/{code}/notes` | `trackingNumber` (≤ 32 characters), `customerRemark`, `eshopRemark` |
//! | `GET /api/stocks` | one stock, [`STOCK_ID`], the default |
//! | `PATCH /api/stocks/{id}/movements` | `amountChange`, `quantity` or `realStock` per `productCode`; at most 300 rows (413 beyond); refused rows in `errors` with 200, all refused → 400 |
//! | `GET`, `POST /api/webhooks`, `PATCH`, `DELETE /api/webhooks/{id}` | registrations: one URL per event (422 "Webhook already exists for this event"), `order:update` not with `order:cancel` (409) |
//! | `POST /api/webhooks/renew-signature-key` | a new key on every call |
//!
//! Every `/api/` request needs `Shoptet-Private-API-Token: {PRIVATE_TOKEN}` or a valid
//! `Shoptet-Access-Token` (an expired one gets 401 `expired-token`), and answers in
//! Shoptet's envelope `{"data", "errors": [{errorCode, message, instance}], "metadata":
//! {"requestId"}}` with `X-Request-ID` and `X-RateLimit-Bucket-Filling: n/200`; a full
//! bucket is 429 with `Retry-After` as an HTTP date.
//!
//! Switches: [`FakeShoptet::expire_tokens`], [`FakeShoptet::set_down`] (503
//! maintenance), [`FakeShoptet::throttle_next`] (429), [`FakeShoptet::lock_next`] (423).
//!
//! Notifications ([`FakeShoptet::delivery`], [`FakeShoptet::mass_delivery`]) are the
//! compact JSON Shoptet sends, signed in `Shoptet-Webhook-Signature` with the hex
//! HMAC-SHA1 of the body under the current signature key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use sha1::Sha1;
use time::macros::{format_description, offset};
use time::{Duration, OffsetDateTime, UtcOffset};

/// The private API token (Premium) the fake accepts.
pub const PRIVATE_TOKEN: &str = "222651-p-1007-7bd2e0f4c1a95b3d86e4f0a2c9b7d15e";
/// The addon's long-lived OAuth access token the fake's OAuth server accepts.
pub const OAUTH_TOKEN: &str =
    "222651-o-3a9f1c7e5b2d4f6a8c0e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a";
/// The e-shop's id, as in every notification.
pub const ESHOP_ID: u64 = 222_651;
/// The e-shop's name.
pub const ESHOP_NAME: &str = "Hrnky a káva";
/// The only stock, also the default.
pub const STOCK_ID: i64 = 1;
/// The most order rows per page.
const MAX_ORDERS_PER_PAGE: usize = 50;
/// The most movement rows per call.
const MAX_MOVEMENTS: usize = 300;
/// The leaky bucket: its size and how many requests it lets out per second.
const BUCKET_SIZE: u32 = 200;
/// The e-shop's time zone in summer and winter is CET/CEST; the fake writes +01:00.
const SHOP_OFFSET: UtcOffset = offset!(+01:00);
/// Events the fake takes registrations for.
const EVENTS: &[&str] = &[
    "order:create",
    "order:update",
    "order:cancel",
    "order:paid",
    "order:delete",
    "order:massCreate",
    "order:massUpdate",
    "order:massPaid",
    "creditNote:create",
    "stock:movement",
    "job:finished",
];

pub use crate::webhook::Delivery;

/// A product or variant, by its code.
#[derive(Debug, Clone)]
pub struct Product {
    pub code: String,
    pub guid: String,
    pub name: String,
    pub variant_name: Option<String>,
    /// Gross price in CZK and in EUR.
    pub price_czk: Decimal,
    pub price_eur: Decimal,
    pub vat_rate: Decimal,
    /// Physically in the stock.
    pub real_stock: Decimal,
    /// Held by pending orders.
    pub claim: Decimal,
    /// A product set, which cannot be stocked.
    pub is_set: bool,
}

impl Product {
    /// realStock − claim: what can still be ordered.
    pub fn quantity(&self) -> Decimal {
        self.real_stock - self.claim
    }
}

/// An order to place in the fake e-shop.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    lines: Vec<(String, Decimal)>,
    currency: String,
    customer: Option<(String, String)>,
    guest_email: String,
    shipping: Option<(String, Decimal, Decimal)>,
    pickup: Option<(String, String, String)>,
    payment: (String, Decimal),
    coupon: Option<(String, Decimal, Decimal)>,
    status: (i64, String),
    paid: bool,
    country: String,
    remark: Option<String>,
}

impl Default for OrderSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderSpec {
    /// A CZK order of a registered customer, shipped by PPL (99 CZK), paid by bank
    /// transfer, new (-1) and unpaid.
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            currency: "CZK".into(),
            customer: Some(("jan.novak@example.cz".into(), "Jan Novák".into())),
            guest_email: "host@example.cz".into(),
            shipping: Some(("PPL".into(), Decimal::new(99, 0), Decimal::new(21, 0))),
            pickup: None,
            payment: ("Bankovní převod".into(), Decimal::ZERO),
            coupon: None,
            status: (-1, "Nevyřízená".into()),
            paid: false,
            country: "CZ".into(),
            remark: None,
        }
    }

    /// `quantity` pieces of the product or variant `code`.
    pub fn line(mut self, code: &str, quantity: &str) -> Self {
        let quantity = quantity.parse().unwrap_or(Decimal::ONE);
        self.lines.push((code.to_owned(), quantity));
        self
    }

    pub fn currency(mut self, currency: &str) -> Self {
        self.currency = currency.to_owned();
        self
    }

    pub fn customer(mut self, email: &str, full_name: &str) -> Self {
        self.customer = Some((email.to_owned(), full_name.to_owned()));
        self
    }

    /// A guest checkout: no customer account.
    pub fn guest(mut self, email: &str) -> Self {
        self.customer = None;
        self.guest_email = email.to_owned();
        self
    }

    /// Shipping with its gross price and VAT rate.
    pub fn shipping(mut self, name: &str, gross: &str, rate: &str) -> Self {
        self.shipping = Some((
            name.to_owned(),
            gross.parse().unwrap_or_default(),
            rate.parse().unwrap_or_default(),
        ));
        self
    }

    /// Delivery to a pickup point: carrier code, branch id, branch name.
    pub fn pickup_point(mut self, carrier: &str, branch: &str, name: &str) -> Self {
        self.pickup = Some((carrier.to_owned(), branch.to_owned(), name.to_owned()));
        self
    }

    /// The payment method and its gross fee (21 % VAT).
    pub fn payment(mut self, name: &str, fee: &str) -> Self {
        self.payment = (name.to_owned(), fee.parse().unwrap_or_default());
        self
    }

    /// A discount coupon of a gross amount at a VAT rate.
    pub fn coupon(mut self, code: &str, gross: &str, rate: &str) -> Self {
        self.coupon = Some((
            code.to_owned(),
            gross.parse().unwrap_or_default(),
            rate.parse().unwrap_or_default(),
        ));
        self
    }

    pub fn status(mut self, id: i64, name: &str) -> Self {
        self.status = (id, name.to_owned());
        self
    }

    pub fn paid(mut self, paid: bool) -> Self {
        self.paid = paid;
        self
    }

    pub fn country(mut self, country: &str) -> Self {
        self.country = country.to_owned();
        self
    }

    pub fn remark(mut self, remark: &str) -> Self {
        self.remark = Some(remark.to_owned());
        self
    }
}

#[derive(Debug)]
struct State {
    products: BTreeMap<String, Product>,
    orders: BTreeMap<String, Value>,
    next_order: u64,
    next_item: i64,
    next_webhook: i64,
    last_stamp: OffsetDateTime,
    /// API access tokens the OAuth server issued, with their expiry.
    tokens: BTreeMap<String, OffsetDateTime>,
    token_lifetime: Duration,
    webhooks: BTreeMap<i64, Value>,
    signature_key: Option<String>,
    keys_issued: usize,
    movements: Vec<Value>,
    status_changes: Vec<(String, Value, bool)>,
    bucket: (f64, Option<Instant>),
    leak_per_second: f64,
    down: bool,
    throttle: usize,
    lock: usize,
    requests: Vec<String>,
}

impl State {
    fn new() -> Self {
        Self {
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            next_order: 2_025_000_101,
            next_item: 340,
            next_webhook: 992_800,
            last_stamp: OffsetDateTime::UNIX_EPOCH,
            tokens: BTreeMap::new(),
            token_lifetime: Duration::minutes(30),
            webhooks: BTreeMap::new(),
            signature_key: None,
            keys_issued: 0,
            movements: Vec::new(),
            status_changes: Vec::new(),
            bucket: (0.0, None),
            leak_per_second: 10.0,
            down: false,
            throttle: 0,
            lock: 0,
            requests: Vec::new(),
        }
    }

    /// Now, whole seconds, strictly after the previous stamp.
    fn stamp(&mut self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let next = if now > self.last_stamp {
            now
        } else {
            self.last_stamp + Duration::seconds(1)
        };
        self.last_stamp = next;
        next
    }

    /// Takes a place in the leaky bucket: `Err` when full.
    fn take(&mut self) -> Result<u32, u32> {
        let now = Instant::now();
        let (level, at) = self.bucket;
        let level = match at {
            Some(at) => (level
                - now.saturating_duration_since(at).as_secs_f64() * self.leak_per_second)
                .max(0.0),
            None => level,
        };
        if level + 1.0 > f64::from(BUCKET_SIZE) + 1e-6 {
            self.bucket = (level, Some(now));
            return Err(BUCKET_SIZE);
        }
        self.bucket = (level + 1.0, Some(now));
        Ok((level + 1.0).ceil() as u32)
    }
}

/// Shoptet's time format: `2025-03-02T10:15:00+0100`.
pub fn shoptet_time(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    at.to_offset(SHOP_OFFSET)
        .format(&format)
        .unwrap_or_default()
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(text.trim(), &format).ok()
}

fn money(value: Decimal) -> String {
    value
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        .to_string()
}

fn round(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `{withVat, withoutVat, vat, vatRate}` of a gross amount, as Shoptet computes it
/// (the net amount rounded, the VAT the rest).
fn price(gross: Decimal, rate: Decimal) -> Value {
    let net = round(gross / (Decimal::ONE + rate / Decimal::ONE_HUNDRED));
    json!({
        "withVat": money(gross),
        "withoutVat": money(net),
        "vat": money(gross - net),
        "vatRate": money(rate),
    })
}

fn dec(value: &Value) -> Decimal {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_default()
}

fn guid() -> String {
    let mut rng = rand::rng();
    let bytes: [u8; 16] = rng.random();
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

/// The fake e-shop.
pub struct FakeShoptet {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakeShoptet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeShoptet")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeShoptet {
    /// An e-shop with the catalog (mugs in two colours `40/ZEL` and `40/MOD`, coffee,
    /// a book, a gift set) and no orders, on a free port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake Shoptet to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::new()));
        let shared = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { handle(&state, addr, &method, &uri, &headers, &body) }
            },
        );
        crate::serve_in_background("Shoptet", listener, app);
        let shop = Self { state, addr };
        shop.add_product(
            "40/ZEL",
            "Hrnek smaltovaný",
            Some("Zelený"),
            "249",
            "10.90",
            "21",
            12,
        );
        shop.add_product(
            "40/MOD",
            "Hrnek smaltovaný",
            Some("Modrý"),
            "249",
            "10.90",
            "21",
            8,
        );
        shop.add_product(
            "KAVA-250",
            "Káva Brazil 250 g",
            None,
            "189",
            "7.90",
            "12",
            40,
        );
        shop.add_product("KNIHA-01", "Kniha o kávě", None, "399", "16.50", "12", 5);
        shop.add_product("SADA-01", "Dárková sada", None, "590", "24.00", "21", 0);
        if let Some(set) = shop.lock().products.get_mut("SADA-01") {
            set.is_set = true;
        }
        Ok(shop)
    }

    /// [`FakeShoptet::start`] with orders of every interesting kind: a CZK order of a
    /// registered customer with two VAT rates, a EUR guest order to a Packeta pickup
    /// point with a coupon, cash on delivery with a fee, a cancelled order, a refunded
    /// one (own status 7 "Vráceno") and loose coffee by weight.
    pub async fn start_seeded() -> anyhow::Result<Self> {
        let shop = Self::start().await?;
        shop.create_order(
            &OrderSpec::new()
                .line("40/ZEL", "2")
                .line("KAVA-250", "1")
                .remark("Prosím zvonit dvakrát"),
        );
        shop.create_order(
            &OrderSpec::new()
                .currency("EUR")
                .guest("zuzana@example.sk")
                .country("SK")
                .line("KNIHA-01", "1")
                .line("40/MOD", "1")
                .shipping("Zásilkovna", "2.90", "21")
                .pickup_point("zasilkovna", "4321", "Bratislava, Obchodná 12")
                .coupon("SLEVA10", "2.00", "21")
                .payment("Platba kartou", "0")
                .paid(true)
                .status(-2, "Vyřizuje se"),
        );
        shop.create_order(
            &OrderSpec::new()
                .line("40/MOD", "3")
                .payment("Dobírka", "39")
                .status(-3, "Vyřízena")
                .paid(true),
        );
        shop.create_order(
            &OrderSpec::new()
                .line("KAVA-250", "2")
                .status(-4, "Stornována"),
        );
        shop.create_order(
            &OrderSpec::new()
                .customer("petra@example.cz", "Petra Svobodová")
                .line("KNIHA-01", "2")
                .status(7, "Vráceno")
                .paid(true),
        );
        shop.create_order(&OrderSpec::new().line("KAVA-250", "1.500"));
        Ok(shop)
    }

    /// `http://127.0.0.1:port`: both the API base and the e-shop's address.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds (or replaces) a product or variant.
    #[allow(clippy::too_many_arguments)]
    pub fn add_product(
        &self,
        code: &str,
        name: &str,
        variant: Option<&str>,
        price_czk: &str,
        price_eur: &str,
        vat_rate: &str,
        stock: i64,
    ) {
        let product = Product {
            code: code.to_owned(),
            guid: guid(),
            name: name.to_owned(),
            variant_name: variant.map(str::to_owned),
            price_czk: price_czk.parse().unwrap_or_default(),
            price_eur: price_eur.parse().unwrap_or_default(),
            vat_rate: vat_rate.parse().unwrap_or_default(),
            real_stock: Decimal::from(stock),
            claim: Decimal::ZERO,
            is_set: false,
        };
        self.lock().products.insert(code.to_owned(), product);
    }

    /// The product or variant `code` as it stands.
    pub fn product(&self, code: &str) -> Option<Product> {
        self.lock().products.get(code).cloned()
    }

    /// Places an order (it claims stock while not cancelled); returns the detail.
    pub fn create_order(&self, spec: &OrderSpec) -> Value {
        let mut state = self.lock();
        let order = build_order(&mut state, spec);
        let code = order["code"].as_str().unwrap_or_default().to_owned();
        state.orders.insert(code, order.clone());
        order
    }

    /// The order `code` as the detail answers it (all sections).
    pub fn order(&self, code: &str) -> Option<Value> {
        self.lock().orders.get(code).cloned()
    }

    pub fn order_codes(&self) -> Vec<String> {
        self.lock().orders.keys().cloned().collect()
    }

    /// Changes an order as the admin would (its change time moves on).
    pub fn update_order(&self, code: &str, change: impl FnOnce(&mut Value)) -> Value {
        let mut state = self.lock();
        let stamp = state.stamp();
        let order = state
            .orders
            .get_mut(code)
            .unwrap_or_else(|| panic!("the fake Shoptet has no order {code}"));
        change(order);
        order["changeTime"] = json!(shoptet_time(stamp));
        order.clone()
    }

    pub fn delete_order(&self, code: &str) -> bool {
        self.lock().orders.remove(code).is_some()
    }

    /// The registrations, as `GET /api/webhooks` lists them.
    pub fn webhooks(&self) -> Vec<Value> {
        self.lock().webhooks.values().cloned().collect()
    }

    /// How many signature keys were issued.
    pub fn keys_issued(&self) -> usize {
        self.lock().keys_issued
    }

    /// The current signature key.
    pub fn signature_key(&self) -> Option<String> {
        self.lock().signature_key.clone()
    }

    /// Every row the movements endpoint accepted, in order.
    pub fn movements(&self) -> Vec<Value> {
        self.lock().movements.clone()
    }

    /// Status changes: order code, the `data` sent, whether e-mails were suppressed.
    pub fn status_changes(&self) -> Vec<(String, Value, bool)> {
        self.lock().status_changes.clone()
    }

    /// A notification of `event` for `instance` (an order code), signed with the
    /// current key, created now.
    pub fn delivery(&self, event: &str, instance: &str) -> Delivery {
        self.delivery_created_at(event, instance, OffsetDateTime::now_utc())
    }

    /// A notification as [`FakeShoptet::delivery`] makes it, created at `at`: an old
    /// one, correctly signed, is what a replay looks like.
    pub fn delivery_created_at(&self, event: &str, instance: &str, at: OffsetDateTime) -> Delivery {
        let created = shoptet_time(at);
        self.signed(json!({
            "eshopId": ESHOP_ID,
            "event": event,
            "eventCreated": created,
            "eventInstance": instance,
        }))
    }

    /// A mass event: `eventInstance` is the JSON-serialized list of codes.
    pub fn mass_delivery(&self, event: &str, codes: &[&str]) -> Delivery {
        let created = shoptet_time(OffsetDateTime::now_utc());
        let list = serde_json::to_string(codes).unwrap_or_default();
        self.signed(json!({
            "eshopId": ESHOP_ID,
            "event": event,
            "eventCreated": created,
            "eventInstance": list,
        }))
    }

    fn signed(&self, body: Value) -> Delivery {
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let key = self.lock().signature_key.clone().unwrap_or_default();
        Delivery {
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Shoptet-Webhook-Signature".into(), sign(&key, &body)),
            ],
            body,
        }
    }

    /// POSTs the notification to `url`; returns the answer's status.
    pub async fn deliver(&self, url: &str, delivery: &Delivery) -> anyhow::Result<u16> {
        // Shoptet gives up after 4 s.
        delivery.send(url, std::time::Duration::from_secs(4)).await
    }

    /// Every API access token issued so far expires now.
    pub fn expire_tokens(&self) {
        let now = OffsetDateTime::now_utc();
        for expiry in self.lock().tokens.values_mut() {
            *expiry = now - Duration::seconds(1);
        }
    }

    /// How long API access tokens issued from now live.
    pub fn set_token_lifetime(&self, seconds: i64) {
        self.lock().token_lifetime = Duration::seconds(seconds);
    }

    /// How many API access tokens the OAuth server issued.
    pub fn tokens_issued(&self) -> usize {
        self.lock().tokens.len()
    }

    /// While down, every request gets 503 (maintenance).
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next `requests` API requests find the bucket full: 429 with `Retry-After`.
    pub fn throttle_next(&self, requests: usize) {
        self.lock().throttle = requests;
    }

    /// The next `requests` writes are locked: 423.
    pub fn lock_next(&self, requests: usize) {
        self.lock().lock = requests;
    }

    /// Every request so far as `"METHOD /path?query"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// How many `method` requests went to `path` (query ignored).
    pub fn requests_to(&self, method: &str, path: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|request| {
                request.split_once(' ').is_some_and(|(m, rest)| {
                    m.eq_ignore_ascii_case(method) && rest.split('?').next() == Some(path)
                })
            })
            .count()
    }
}

/// Lowercase hex HMAC-SHA1 of `body` under `key`.
pub fn sign(key: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn build_order(state: &mut State, spec: &OrderSpec) -> Value {
    let code = state.next_order.to_string();
    state.next_order += 1;
    let stamp = state.stamp();
    let eur = spec.currency == "EUR";
    let mut items = Vec::new();
    let mut gross_total = Decimal::ZERO;
    let mut net_total = Decimal::ZERO;
    let cancelled = spec.status.0 == -4;
    let mut add = |items: &mut Vec<Value>,
                   next_item: &mut i64,
                   mut item: Value,
                   gross: Decimal,
                   rate: Decimal| {
        let row = price(gross, rate);
        gross_total += gross;
        net_total += dec(&row["withoutVat"]);
        *next_item += 1;
        item["itemId"] = json!(*next_item);
        item["itemPrice"] = row;
        items.push(item);
    };
    for (code, quantity) in &spec.lines {
        let Some(product) = state.products.get_mut(code) else {
            panic!("the fake Shoptet has no product {code}");
        };
        let unit = if eur {
            product.price_eur
        } else {
            product.price_czk
        };
        let gross = round(unit * quantity);
        if !cancelled {
            product.claim += *quantity;
        }
        let item = json!({
            "itemType": if product.is_set { "product-set" } else { "product" },
            "productGuid": product.guid,
            "code": product.code,
            "ean": null,
            "name": product.name,
            "variantName": product.variant_name,
            "brand": null,
            "amount": format!("{:.3}", quantity),
            "amountUnit": if quantity.fract().is_zero() { "ks" } else { "kg" },
            "weight": "0.350",
            "priceRatio": "1.0000",
            "status": {"id": spec.status.0, "name": spec.status.1},
            "unitPrice": price(unit, product.vat_rate),
            "amountCompleted": "0.000",
        });
        let rate = product.vat_rate;
        add(&mut items, &mut state.next_item, item, gross, rate);
    }
    if let Some((name, gross, rate)) = &spec.shipping {
        let item = json!({
            "itemType": "shipping", "productGuid": null, "code": null, "name": name,
            "variantName": null, "amount": "1.000", "amountUnit": null,
            "status": {"id": spec.status.0, "name": spec.status.1},
            "unitPrice": price(*gross, *rate),
        });
        add(&mut items, &mut state.next_item, item, *gross, *rate);
    }
    let (payment, fee) = &spec.payment;
    let item = json!({
        "itemType": "billing", "productGuid": null, "code": null, "name": payment,
        "variantName": null, "amount": "1.000", "amountUnit": null,
        "status": {"id": spec.status.0, "name": spec.status.1},
        "unitPrice": price(*fee, Decimal::new(21, 0)),
    });
    add(
        &mut items,
        &mut state.next_item,
        item,
        *fee,
        Decimal::new(21, 0),
    );
    if let Some((coupon, gross, rate)) = &spec.coupon {
        let item = json!({
            "itemType": "discount-coupon", "productGuid": null, "code": coupon,
            "name": format!("Slevový kupón {coupon}"), "variantName": null,
            "amount": "1.000", "amountUnit": null,
            "status": {"id": spec.status.0, "name": spec.status.1},
            "unitPrice": price(-*gross, *rate),
        });
        add(&mut items, &mut state.next_item, item, -*gross, *rate);
    }
    let (email, full_name, customer_guid) = match &spec.customer {
        Some((email, name)) => (email.clone(), name.clone(), Some(guid())),
        None => (
            spec.guest_email.clone(),
            "Zuzana Horváthová".to_owned(),
            None,
        ),
    };
    let (street, house, city, zip) = if spec.country == "SK" {
        ("Hlavná", "12", "Košice", "040 01")
    } else {
        ("Dlouhá", "1", "Praha", "110 00")
    };
    let shipping_details = spec.pickup.as_ref().map(|(carrier, branch, name)| {
        json!({
            "branchId": branch, "shippingCompanyCode": carrier,
            "shippingServiceCode": format!("{carrier}-pickup"), "name": name,
            "note": null, "place": null, "street": "Obchodná 12", "city": "Bratislava",
            "zipCode": "811 06", "countryCode": "SK", "link": null,
            "latitude": "48.1486", "longitude": "17.1077", "carrierId": 106,
        })
    });
    let shipping = spec
        .shipping
        .as_ref()
        .map(|(name, _, _)| json!({"guid": guid(), "name": name}));
    json!({
        "code": code,
        "guid": guid(),
        "externalCode": null,
        "creationTime": shoptet_time(stamp),
        "changeTime": shoptet_time(stamp),
        "email": email,
        "phone": "+420777123456",
        "birthDate": null,
        "clientIPAddress": "192.0.2.10",
        "customerGuid": customer_guid,
        "cashDeskOrder": false,
        "stockId": STOCK_ID,
        "addressesEqual": true,
        "vatPayer": true,
        "vatMode": "Normal",
        "billingMethod": {"id": 1, "name": "Bez faktury"},
        "paymentMethod": {"guid": guid(), "name": payment},
        "shipping": shipping,
        "shippingDetails": shipping_details,
        "status": {"id": spec.status.0, "name": spec.status.1},
        "source": {"id": 1, "name": "E-shop"},
        "price": {
            "vat": money(gross_total - net_total),
            "toPay": money(gross_total),
            "currencyCode": spec.currency,
            "withoutVat": money(net_total),
            "withVat": money(gross_total),
            "exchangeRate": if eur { "25.12000000" } else { "1.00000000" },
            "invoicingExchangeRate": null,
            "partialPaymentAmount": null,
            "partialPaymentType": null,
        },
        "paid": spec.paid,
        "billingAddress": {
            "company": null, "fullName": full_name, "street": street, "houseNumber": house,
            "city": city, "district": null, "additional": null, "zip": zip,
            "countryCode": spec.country, "regionName": null, "regionShortcut": null,
            "companyId": null, "vatId": null, "vatIdValidationStatus": null, "taxId": null,
        },
        "deliveryAddress": null,
        "language": if spec.country == "SK" { "sk" } else { "cs" },
        "items": items,
        "notes": {
            "customerRemark": spec.remark,
            "eshopRemark": null,
            "trackingNumber": null,
            "trackingUrl": null,
            "additionalFields": [],
        },
    })
}

/// An answer before the envelope is put around it.
struct Answer {
    status: StatusCode,
    data: Value,
    errors: Vec<Value>,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn ok(data: Value) -> Self {
        Self {
            status: StatusCode::OK,
            data,
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn error(status: StatusCode, code: &str, message: &str, instance: &str) -> Self {
        Self {
            status,
            data: Value::Null,
            errors: vec![error_row(code, message, instance)],
            headers: Vec::new(),
        }
    }
}

fn error_row(code: &str, message: &str, instance: &str) -> Value {
    json!({"errorCode": code, "message": message, "instance": instance})
}

fn respond(answer: Answer, filling: u32) -> Response {
    let request_id = guid();
    let body = json!({
        "data": answer.data,
        "errors": if answer.errors.is_empty() { Value::Null } else { Value::Array(answer.errors) },
        "metadata": {"requestId": request_id},
    });
    let mut builder = Response::builder()
        .status(answer.status)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("X-Request-ID", request_id)
        .header(
            "X-RateLimit-Bucket-Filling",
            format!("{filling}/{BUCKET_SIZE}"),
        );
    for (name, value) in answer.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from(serde_json::to_vec(&body).unwrap_or_default()))
        .unwrap_or_default()
}

fn http_date(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.to_offset(UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
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
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());

    if state.down {
        return respond(
            Answer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "maintenance",
                "The API is under maintenance. Please try again later.",
                "unknown",
            ),
            0,
        );
    }

    if uri.path() == "/action/ApiOAuthServer/getAccessToken" {
        return oauth(&mut state, method, header("authorization"));
    }

    let private = header("shoptet-private-api-token");
    let access = header("shoptet-access-token");
    let now = OffsetDateTime::now_utc();
    let refused = match (private, access) {
        (Some(token), _) if token == PRIVATE_TOKEN => None,
        (Some(_), _) => Some(("invalid-token", "Invalid access token.")),
        (None, Some(token)) => match state.tokens.get(token) {
            Some(expiry) if *expiry > now => None,
            Some(_) => Some(("expired-token", "Token is expired. Please ask for new one.")),
            None => Some(("invalid-token", "Invalid access token.")),
        },
        (None, None) => Some((
            "missing-access-token",
            "Missing access token. Please add `Shoptet-Access-Token` header to your request.",
        )),
    };
    if let Some((code, message)) = refused {
        return respond(
            Answer::error(StatusCode::UNAUTHORIZED, code, message, "unknown"),
            0,
        );
    }

    if state.throttle > 0 {
        state.throttle -= 1;
        let mut answer = Answer::error(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests. The leaky bucket is full.",
            "unknown",
        );
        answer
            .headers
            .push(("Retry-After".into(), http_date(now + Duration::seconds(1))));
        return respond(answer, BUCKET_SIZE);
    }
    let filling = match state.take() {
        Ok(filling) => filling,
        Err(filling) => {
            let mut answer = Answer::error(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests. The leaky bucket is full.",
                "unknown",
            );
            answer
                .headers
                .push(("Retry-After".into(), http_date(now + Duration::seconds(1))));
            return respond(answer, filling);
        }
    };
    if *method != Method::GET && state.lock > 0 {
        state.lock -= 1;
        return respond(
            Answer::error(
                StatusCode::LOCKED,
                "locked",
                "The same request is being processed. Please try again later.",
                "unknown",
            ),
            filling,
        );
    }

    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(error) => {
                return respond(
                    Answer::error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid-json",
                        &format!("Invalid JSON: {error}"),
                        "payload",
                    ),
                    filling,
                );
            }
        }
    };
    let query = query_pairs(uri);
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let answer = match (method.as_str(), segments.as_slice()) {
        ("GET", ["api", "eshop"]) => Answer::ok(json!({
            "contactInformation": {
                "eshopId": ESHOP_ID,
                "eshopName": ESHOP_NAME,
                "eshopCategory": null,
                "url": format!("http://{addr}/"),
                "eshopTitle": ESHOP_NAME,
                "email": "info@hrnky.example.cz",
            },
            "settings": {"defaultCurrency": "CZK"},
        })),
        ("GET", ["api", "orders"]) => list_orders(&state, &query),
        ("GET", ["api", "orders", code]) => order_detail(&state, code, &query),
        ("PATCH", ["api", "orders", code, "status"]) => {
            change_status(&mut state, code, &body, &query)
        }
        ("PATCH", ["api", "orders", code, "notes"]) => change_notes(&mut state, code, &body),
        ("GET", ["api", "stocks"]) => Answer::ok(json!({
            "stocks": [{"id": STOCK_ID, "title": "Hlavní sklad", "isDeliveryPoint": false,
                        "visibleOnEshop": true, "deliveryPointAddress": null}],
            "defaultStockId": STOCK_ID,
        })),
        ("PATCH", ["api", "stocks", id, "movements"]) => movements(&mut state, id, &body),
        ("GET", ["api", "webhooks"]) => list_webhooks(&state, &query),
        ("POST", ["api", "webhooks"]) => register(&mut state, &body),
        ("POST", ["api", "webhooks", "renew-signature-key"]) => {
            let key: [u8; 16] = rand::rng().random();
            let key = hex::encode(key);
            state.signature_key = Some(key.clone());
            state.keys_issued += 1;
            Answer::ok(json!({"signatureKey": key}))
        }
        ("PATCH", ["api", "webhooks", id]) => update_webhook(&mut state, id, &body),
        ("DELETE", ["api", "webhooks", id]) => {
            let removed = id
                .parse::<i64>()
                .ok()
                .and_then(|id| state.webhooks.remove(&id));
            match removed {
                Some(_) => Answer::ok(Value::Null),
                None => webhook_not_found(id),
            }
        }
        _ => Answer::error(
            StatusCode::NOT_FOUND,
            "not-found",
            "Endpoint not found.",
            uri.path(),
        ),
    };
    respond(answer, filling)
}

fn oauth(state: &mut State, method: &Method, authorization: Option<&str>) -> Response {
    let expected = format!("Bearer {OAUTH_TOKEN}");
    let (status, body) = if *method != Method::GET && *method != Method::POST {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "invalid_request"}),
        )
    } else if authorization.map(str::trim) != Some(expected.as_str()) {
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_token", "error_description": "The OAuth access token is invalid."}),
        )
    } else {
        // At most five valid tokens: the oldest valid ones lapse.
        let now = OffsetDateTime::now_utc();
        let mut valid: Vec<(String, OffsetDateTime)> = state
            .tokens
            .iter()
            .filter(|(_, expiry)| **expiry > now)
            .map(|(token, expiry)| (token.clone(), *expiry))
            .collect();
        valid.sort_by_key(|(_, expiry)| *expiry);
        while valid.len() >= 5 {
            let (oldest, _) = valid.remove(0);
            state.tokens.insert(oldest, now - Duration::seconds(1));
        }
        let secret: [u8; 20] = rand::rng().random();
        let token = format!("{ESHOP_ID}-a-{}", hex::encode(secret));
        let lifetime = state.token_lifetime;
        state.tokens.insert(token.clone(), now + lifetime);
        (
            StatusCode::OK,
            json!({"access_token": token, "expires_in": lifetime.whole_seconds()}),
        )
    };
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap_or_default()))
        .unwrap_or_default()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn paginator(total: usize, page: usize, per_page: usize, on_page: usize) -> Value {
    json!({
        "totalCount": total,
        "page": page,
        "pageCount": total.div_ceil(per_page).max(1),
        "itemsOnPage": on_page,
        "itemsPerPage": per_page,
    })
}

fn paging(
    query: &[(String, String)],
    max: usize,
    default: usize,
) -> Result<(usize, usize), Answer> {
    let page = match param(query, "page") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| {
                Answer::error(
                    StatusCode::BAD_REQUEST,
                    "invalid-page",
                    "Invalid page.",
                    "page",
                )
            })?,
        None => 1,
    };
    let per_page = match param(query, "itemsPerPage") {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                Answer::error(
                    StatusCode::BAD_REQUEST,
                    "invalid-items-per-page",
                    "Invalid itemsPerPage.",
                    "itemsPerPage",
                )
            })?
            .min(max),
        None => default,
    };
    Ok((page, per_page))
}

fn list_orders(state: &State, query: &[(String, String)]) -> Answer {
    let (page, per_page) = match paging(query, MAX_ORDERS_PER_PAGE, MAX_ORDERS_PER_PAGE) {
        Ok(paging) => paging,
        Err(answer) => return answer,
    };
    let mut bounds = Vec::new();
    for name in [
        "changeTimeFrom",
        "changeTimeTo",
        "creationTimeFrom",
        "creationTimeTo",
    ] {
        if let Some(text) = param(query, name) {
            match parse_time(text) {
                Some(at) => bounds.push((name, at)),
                None => {
                    return Answer::error(
                        StatusCode::BAD_REQUEST,
                        "invalid-date-time",
                        &format!("Parameter \"{name}\" is not a valid date-time (Y-m-d\\TH:i:sO)."),
                        name,
                    );
                }
            }
        }
    }
    let codes: Option<Vec<&str>> =
        param(query, "orderCodes").map(|codes| codes.split(',').collect());
    let status: Option<i64> = param(query, "statusId").and_then(|id| id.parse().ok());
    let rows: Vec<&Value> = state
        .orders
        .values()
        .filter(|order| {
            if let Some(codes) = &codes {
                // With orderCodes every other filter is ignored.
                return codes.contains(&order["code"].as_str().unwrap_or_default());
            }
            let time = |field: &str| order[field].as_str().and_then(parse_time);
            bounds.iter().all(|(name, at)| match *name {
                "changeTimeFrom" => time("changeTime").is_some_and(|t| t >= *at),
                "changeTimeTo" => time("changeTime").is_some_and(|t| t <= *at),
                "creationTimeFrom" => time("creationTime").is_some_and(|t| t >= *at),
                _ => time("creationTime").is_some_and(|t| t <= *at),
            }) && status.is_none_or(|id| order["status"]["id"].as_i64() == Some(id))
        })
        .collect();
    let total = rows.len();
    let page_rows: Vec<Value> = rows
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|order| {
            json!({
                "code": order["code"], "guid": order["guid"],
                "creationTime": order["creationTime"], "changeTime": order["changeTime"],
                "fullName": order["billingAddress"]["fullName"], "company": null,
                "email": order["email"], "phone": order["phone"], "remark": null,
                "customerGuid": order["customerGuid"], "cashDeskOrder": false,
                "adminUrl": format!("https://{ESHOP_ID}.myshoptet.com/admin/objednavky-detail/?code={}",
                                    order["code"].as_str().unwrap_or_default()),
                "status": order["status"], "source": order["source"],
                "shipping": order["shipping"], "paymentMethod": order["paymentMethod"],
                "price": {
                    "vat": order["price"]["vat"], "toPay": order["price"]["toPay"],
                    "currencyCode": order["price"]["currencyCode"],
                    "withoutVat": order["price"]["withoutVat"], "withVat": order["price"]["withVat"],
                    "exchangeRate": order["price"]["exchangeRate"],
                },
                "paid": order["paid"], "salesChannelGuid": null,
            })
        })
        .collect();
    let on_page = page_rows.len();
    Answer::ok(json!({
        "orders": page_rows,
        "paginator": paginator(total, page, per_page, on_page),
    }))
}

fn order_not_found(code: &str) -> Answer {
    Answer::error(
        StatusCode::NOT_FOUND,
        "order-not-found",
        &format!("Order \"{code}\" not found."),
        code,
    )
}

fn order_detail(state: &State, code: &str, query: &[(String, String)]) -> Answer {
    let Some(order) = state.orders.get(code) else {
        return order_not_found(code);
    };
    let include: Vec<&str> = param(query, "include")
        .map(|list| list.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut order = order.clone();
    // Sections on demand are absent without `include`.
    for section in ["notes", "shippingDetails"] {
        if !include.contains(&section)
            && let Some(object) = order.as_object_mut()
        {
            object.remove(section);
        }
    }
    Answer::ok(json!({ "order": order }))
}

fn change_status(
    state: &mut State,
    code: &str,
    body: &Value,
    query: &[(String, String)],
) -> Answer {
    let data = &body["data"];
    let Some(fields) = data.as_object().filter(|fields| !fields.is_empty()) else {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request-data",
            "Request data must contain at least one of statusId, paid, billingMethodId.",
            "payload",
        );
    };
    if let Some(key) = fields
        .keys()
        .find(|key| !["statusId", "paid", "billingMethodId"].contains(&key.as_str()))
    {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request-data",
            &format!("Unknown key \"{key}\"."),
            key,
        );
    }
    let stamp = state.stamp();
    let suppressed = param(query, "suppressEmailSending") == Some("true");
    let statuses = [
        (-1, "Nevyřízená"),
        (-2, "Vyřizuje se"),
        (-3, "Vyřízena"),
        (-4, "Stornována"),
        (7, "Vráceno"),
    ];
    let new_status = match data.get("statusId") {
        Some(id) => match id
            .as_i64()
            .and_then(|id| statuses.iter().find(|(known, _)| *known == id))
        {
            Some(status) => Some(*status),
            None => {
                return Answer::error(
                    StatusCode::BAD_REQUEST,
                    "invalid-status-id",
                    &format!("Order status \"{id}\" does not exist."),
                    "statusId",
                );
            }
        },
        None => None,
    };
    let Some(order) = state.orders.get_mut(code) else {
        return order_not_found(code);
    };
    if let Some((id, name)) = new_status {
        order["status"] = json!({"id": id, "name": name});
    }
    if let Some(paid) = data.get("paid") {
        order["paid"] = paid.clone();
    }
    order["changeTime"] = json!(shoptet_time(stamp));
    let detail = order.clone();
    state
        .status_changes
        .push((code.to_owned(), data.clone(), suppressed));
    Answer::ok(json!({ "order": detail }))
}

fn change_notes(state: &mut State, code: &str, body: &Value) -> Answer {
    let data = &body["data"];
    let Some(fields) = data.as_object().filter(|fields| !fields.is_empty()) else {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request-data",
            "Request data must not be empty.",
            "payload",
        );
    };
    if let Some(number) = fields.get("trackingNumber").and_then(Value::as_str)
        && number.chars().count() > 32
    {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request-data",
            "trackingNumber cannot be longer than 32 characters.",
            "trackingNumber",
        );
    }
    let stamp = state.stamp();
    let Some(order) = state.orders.get_mut(code) else {
        return order_not_found(code);
    };
    for (key, value) in fields {
        if ["customerRemark", "trackingNumber", "eshopRemark"].contains(&key.as_str()) {
            order["notes"][key] = value.clone();
        }
    }
    order["changeTime"] = json!(shoptet_time(stamp));
    Answer::ok(Value::Null)
}

fn movements(state: &mut State, id: &str, body: &Value) -> Answer {
    if id.parse::<i64>().ok() != Some(STOCK_ID) {
        return Answer::error(
            StatusCode::NOT_FOUND,
            "stock-not-found",
            &format!("Stock \"{id}\" not found."),
            id,
        );
    }
    let Some(rows) = body["data"].as_array() else {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request-data",
            "The data field must be an array.",
            "payload",
        );
    };
    if rows.len() > MAX_MOVEMENTS {
        return Answer::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-entities",
            &format!("At most {MAX_MOVEMENTS} products can be changed in one request."),
            "data",
        );
    }
    let mut errors = Vec::new();
    for row in rows {
        let code = row["productCode"].as_str().unwrap_or_default().to_owned();
        let given: Vec<&str> = ["amountChange", "quantity", "realStock"]
            .into_iter()
            .filter(|key| row.get(*key).is_some_and(|value| !value.is_null()))
            .collect();
        let value = given
            .first()
            .and_then(|key| {
                row[*key]
                    .as_f64()
                    .or_else(|| row[*key].as_str().and_then(|s| s.parse().ok()))
            })
            .and_then(|value| Decimal::try_from(value).ok());
        let Some(product) = state.products.get_mut(&code) else {
            errors.push(error_row(
                "unknown-product",
                &format!("Product \"{code}\" does not exist. Skipped."),
                &code,
            ));
            continue;
        };
        if product.is_set {
            errors.push(error_row(
                "stock-change-not-allowed",
                &format!("Stock change not allowed for product set \"{code}\".\nSkipped."),
                &code,
            ));
            continue;
        }
        let (Some(key), Some(value), 1) = (given.first(), value, given.len()) else {
            errors.push(error_row(
                "invalid-movement",
                "Exactly one of amountChange, quantity, realStock is required. Skipped.",
                &code,
            ));
            continue;
        };
        match *key {
            "amountChange" => product.real_stock += value,
            "quantity" => product.real_stock = value + product.claim,
            _ => product.real_stock = value,
        }
        state.movements.push(row.clone());
    }
    if !errors.is_empty() && errors.len() == rows.len() {
        return Answer {
            status: StatusCode::BAD_REQUEST,
            data: Value::Null,
            errors,
            headers: Vec::new(),
        };
    }
    Answer {
        status: StatusCode::OK,
        data: Value::Null,
        errors,
        headers: Vec::new(),
    }
}

fn list_webhooks(state: &State, query: &[(String, String)]) -> Answer {
    let (page, per_page) = match paging(query, 500, 20) {
        Ok(paging) => paging,
        Err(answer) => return answer,
    };
    let all: Vec<&Value> = state.webhooks.values().collect();
    let rows: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|hook| (*hook).clone())
        .collect();
    let on_page = rows.len();
    Answer::ok(json!({
        "webhooks": rows,
        "paginator": paginator(all.len(), page, per_page, on_page),
    }))
}

fn valid_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost"));
    url.len() <= 2000
        && matches!(parsed.scheme(), "http" | "https")
        // Shoptet delivers to ports 80, 8080, 443 and 8443 only; the tests' loopback
        // service listens elsewhere.
        && (loopback || matches!(parsed.port_or_known_default(), Some(80 | 8080 | 443 | 8443)))
}

fn register(state: &mut State, body: &Value) -> Answer {
    let Some(rows) = body["data"].as_array() else {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request-data",
            "The data field must be an array.",
            "payload",
        );
    };
    if rows.len() > 50 {
        return Answer::error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-entities",
            "At most 50 webhooks can be registered in one request.",
            "data",
        );
    }
    let mut events: Vec<&str> = state
        .webhooks
        .values()
        .filter_map(|hook| hook["event"].as_str())
        .collect();
    for row in rows {
        let event = row["event"].as_str().unwrap_or_default();
        let url = row["url"].as_str().unwrap_or_default();
        if !EVENTS.contains(&event) {
            return Answer::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request-data",
                &format!("Unknown event \"{event}\"."),
                "event",
            );
        }
        if !valid_url(url) {
            return Answer::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request-data",
                &format!("Invalid webhook URL \"{url}\"."),
                "url",
            );
        }
        if events.contains(&event) {
            return Answer::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "webhook-exists",
                "Webhook already exists for this event",
                event,
            );
        }
        events.push(event);
    }
    if events.contains(&"order:update") && events.contains(&"order:cancel") {
        return Answer::error(
            StatusCode::CONFLICT,
            "webhook-conflict",
            "Events order:update and order:cancel cannot be registered together.",
            "event",
        );
    }
    let now = shoptet_time(OffsetDateTime::now_utc());
    let mut created = Vec::new();
    for row in rows {
        state.next_webhook += 1;
        let hook = json!({
            "id": state.next_webhook,
            "event": row["event"],
            "url": row["url"],
            "created": now,
            "updated": null,
            "sendPayload": row.get("sendPayload").cloned().unwrap_or(Value::Null),
        });
        state.webhooks.insert(state.next_webhook, hook.clone());
        created.push(hook);
    }
    Answer {
        status: StatusCode::CREATED,
        data: json!({ "webhooks": created }),
        errors: Vec::new(),
        headers: Vec::new(),
    }
}

fn webhook_not_found(id: &str) -> Answer {
    Answer::error(
        StatusCode::NOT_FOUND,
        "webhook-not-found",
        &format!("Webhook with id \"{id}\" not found."),
        id,
    )
}

fn update_webhook(state: &mut State, id: &str, body: &Value) -> Answer {
    let url = body["data"]["url"].as_str().unwrap_or_default().to_owned();
    if !valid_url(&url) {
        return Answer::error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request-data",
            &format!("Invalid webhook URL \"{url}\"."),
            "url",
        );
    }
    let now = shoptet_time(OffsetDateTime::now_utc());
    match id
        .parse::<i64>()
        .ok()
        .and_then(|id| state.webhooks.get_mut(&id))
    {
        Some(hook) => {
            hook["url"] = json!(url);
            hook["updated"] = json!(now);
            Answer::ok(Value::Null)
        }
        None => webhook_not_found(id),
    }
}
