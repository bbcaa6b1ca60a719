//! A fake Wix (eCommerce and Stores REST APIs) on 127.0.0.1.
//!
//! | path | what |
//! |---|---|
//! | `POST /ecom/v1/orders/search` | `filter` (`$and`, `updatedDate`/`createdDate` `$gte`/`$lt`, `status` `$ne`/`$eq`), `sort`, `cursorPaging{limit ≤ 100, cursor}`; `metadata{count, cursors{next}, hasNext}`; INITIALIZED orders never listed |
//! | `GET /ecom/v1/orders/{id}` | `{"order": {...}}` |
//! | `GET /ecom/v1/payments/orders/{id}` | `{"orderTransactions": {orderId, payments, refunds}}` |
//! | `GET /ecom/v1/fulfillments/orders/{id}` | `{"orderWithFulfillments": {orderId, fulfillments}}` |
//! | `POST /ecom/v1/fulfillments/orders/{id}/create-fulfillment` | records a fulfilment with `trackingInfo` |
//! | `GET /stores/v3/provision/version` | `V1_CATALOG` or `V3_CATALOG`, as the fake was started |
//! | `POST /stores/v1/products/query` (`includeVariants`), `POST /stores/v3/products/query` | products with variants, per catalog |
//! | `POST /stores/v2/inventoryItems/query`, `PATCH /stores/v2/inventoryItems/product/{id}` | Catalog V1 inventory |
//! | `POST /stores/v3/inventory-items/query`, `POST /stores/v3/bulk/inventory-items/update` | Catalog V3 inventory items with `revision`s; a stale revision is refused with 428 |
//!
//! Every request needs `Authorization: {API_KEY}` and `wix-site-id: {SITE_ID}`; errors
//! have Wix's shape, `{"message", "details": {"applicationError": {code, description}}}`.
//!
//! Webhook deliveries ([`FakeWix::delivery`]) are what Wix posts: the body is a compact
//! JWT signed RS256 with a key pair the fake makes when it starts
//! ([`FakeWix::public_key_pem`] is the app's public key); its `data` claim is a JSON
//! string holding `eventType`, `instanceId`, `identity` (a JSON string) and `data` (a
//! JSON string with the event id, `entityId` and the order).
//!
//! Where Wix's public docs leave a detail open (the exact error for a wrong site, the
//! content type of deliveries, the conflict status of a stale revision) the fake picks
//! the plausible one and says so.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The API key the fake accepts (`Authorization`).
pub const API_KEY: &str = "IST.eyJraWQiOiJQb3pIX2FDMiIsImFsZyI6IlJTMjU2In0.fake-wix-api-key";
/// The site (`wix-site-id`).
pub const SITE_ID: &str = "5b1c2a7e-3d4f-4a8b-9c0d-1e2f3a4b5c6d";
/// The app instance of the site, in deliveries' `instanceId`.
pub const INSTANCE_ID: &str = "9f8e7d6c-5b4a-4321-8765-0fedcba98765";
/// The app whose identity deliveries carry.
pub const APP_ID: &str = "3c5e7a9b-1d2f-4a6b-8c0d-2e4f6a8b0c1d";
/// Wix Stores' app id, in line items' `catalogReference.appId`.
pub const STORES_APP_ID: &str = "215238eb-22a5-4c36-9e7b-e7c08025e04e";
/// The variant id of a product without options.
pub const DEFAULT_VARIANT: &str = "00000000-0000-0000-0000-000000000000";
/// How long a delivery's token is valid.
pub const TOKEN_LIFETIME_SECONDS: i64 = 3600;

/// Which Wix Stores catalog the site runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    V1,
    V3,
}

pub use crate::webhook::Delivery;

/// A product's variant, as the fake's catalog has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sellable {
    pub product: String,
    pub variant: String,
    pub sku: String,
}

/// An order to place.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    lines: Vec<(Sellable, u32)>,
    customer: Option<(String, String, String)>,
    company: Option<(String, String)>,
    currency: String,
    tax_included: bool,
    coupon: Option<(String, u32)>,
    shipping: Option<(String, String)>,
    paid: bool,
    method: String,
    note: Option<String>,
    country: String,
}

impl Default for OrderSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderSpec {
    /// A paid (credit card) EUR order of a member, prices including tax, to Slovenia.
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            customer: Some(("ana@example.test".into(), "Ana".into(), "Novak".into())),
            company: None,
            currency: "EUR".into(),
            tax_included: true,
            coupon: None,
            shipping: None,
            paid: true,
            method: "CreditCard".into(),
            note: None,
            country: "SI".into(),
        }
    }
    pub fn line(mut self, item: &Sellable, quantity: u32) -> Self {
        self.lines.push((item.clone(), quantity));
        self
    }
    pub fn customer(mut self, email: &str, first: &str, last: &str) -> Self {
        self.customer = Some((email.into(), first.into(), last.into()));
        self
    }
    /// A guest checkout: no contact or member id.
    pub fn guest(mut self) -> Self {
        self.customer = None;
        self
    }
    pub fn company(mut self, name: &str, vat_id: &str) -> Self {
        self.company = Some((name.into(), vat_id.into()));
        self
    }
    pub fn currency(mut self, currency: &str) -> Self {
        self.currency = currency.into();
        self
    }
    pub fn tax_included(mut self, included: bool) -> Self {
        self.tax_included = included;
        self
    }
    pub fn coupon(mut self, code: &str, percent: u32) -> Self {
        self.coupon = Some((code.into(), percent));
        self
    }
    pub fn shipping(mut self, title: &str, price: &str) -> Self {
        self.shipping = Some((title.into(), price.into()));
        self
    }
    pub fn unpaid(mut self) -> Self {
        self.paid = false;
        self
    }
    pub fn method(mut self, method: &str) -> Self {
        self.method = method.into();
        self
    }
    pub fn note(mut self, note: &str) -> Self {
        self.note = Some(note.into());
        self
    }
    pub fn country(mut self, country: &str) -> Self {
        self.country = country.into();
        self
    }
}

#[derive(Debug, Clone)]
struct Variant {
    id: String,
    sku: String,
    choice: String,
    price: Decimal,
    quantity: i64,
    track: bool,
    /// The V3 inventory item.
    item_id: String,
    revision: u64,
}

#[derive(Debug, Clone)]
struct Product {
    id: String,
    name: String,
    /// Tax rate as a fraction (`0.22`).
    rate: Decimal,
    variants: Vec<Variant>,
}

#[derive(Debug)]
struct State {
    catalog: Catalog,
    last_stamp: OffsetDateTime,
    next_number: u64,
    products: Vec<Product>,
    /// Orders in creation order.
    orders: Vec<Value>,
    transactions: HashMap<String, Value>,
    fulfillments: HashMap<String, Vec<Value>>,
    cursors: HashMap<String, (Value, Value, usize)>,
    stock_updates: Vec<Value>,
    conflicts: usize,
    /// Whether the next V3 update finds its items changed since the client read them.
    bump_next: bool,
    down: bool,
    throttle: Option<(usize, Option<String>)>,
    requests: Vec<String>,
}

impl State {
    /// Now, in whole milliseconds as Wix writes times, and strictly later than the
    /// last stamp handed out, so every change is ordered.
    fn stamp(&mut self) -> String {
        let now = OffsetDateTime::now_utc();
        let now = now
            .replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(now);
        let next = if now > self.last_stamp {
            now
        } else {
            self.last_stamp + Duration::milliseconds(1)
        };
        self.last_stamp = next;
        wix_time(next)
    }

    fn order_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.orders.iter_mut().find(|order| order["id"] == id)
    }

    fn variant_mut(&mut self, product: &str, variant: &str) -> Option<&mut Variant> {
        self.products
            .iter_mut()
            .find(|p| p.id == product)?
            .variants
            .iter_mut()
            .find(|v| v.id == variant)
    }
}

/// The fake site. Cloning shares it.
#[derive(Clone)]
pub struct FakeWix {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    key: Arc<RsaPrivateKey>,
    public_pem: String,
}

impl std::fmt::Debug for FakeWix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeWix").field("addr", &self.addr).finish()
    }
}

/// A fresh 2048-bit RSA key pair.
pub fn new_key() -> anyhow::Result<RsaPrivateKey> {
    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).context("generating an RSA key")
}

/// The SubjectPublicKeyInfo PEM of a key (what the app dashboard shows).
pub fn public_pem(key: &RsaPrivateKey) -> anyhow::Result<String> {
    key.to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .context("encoding the public key")
}

/// A compact JWT: `header` and `claims` as given, signed RS256 with `key`.
pub fn sign_jwt(key: &RsaPrivateKey, header: &Value, claims: &Value) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let input = format!("{}.{}", encode(header), encode(claims));
    let signature = SigningKey::<Sha256>::new(key.clone()).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_vec()))
}

impl FakeWix {
    /// An empty site running `catalog`, on a free port of 127.0.0.1.
    pub async fn start(catalog: Catalog) -> anyhow::Result<Self> {
        let key = tokio::task::spawn_blocking(new_key).await??;
        let public_pem = public_pem(&key)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake Wix to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            catalog,
            last_stamp: OffsetDateTime::UNIX_EPOCH,
            next_number: 10001,
            products: Vec::new(),
            orders: Vec::new(),
            transactions: HashMap::new(),
            fulfillments: HashMap::new(),
            cursors: HashMap::new(),
            stock_updates: Vec::new(),
            conflicts: 0,
            bump_next: false,
            down: false,
            throttle: None,
            requests: Vec::new(),
        }));
        let shared = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { handle(&state, &method, &uri, &headers, &body) }
            },
        );
        crate::serve_in_background("Wix", listener, app);
        Ok(Self {
            state,
            addr,
            key: Arc::new(key),
            public_pem,
        })
    }

    /// A site with a catalog and orders of every interesting kind: variants, two SI VAT
    /// rates (22 % and 9.5 %), prices with and without tax, a coupon, a company buyer
    /// with a VAT id, a guest, a USD order, a cancelled and a refunded order, and an
    /// INITIALIZED checkout that is never listed.
    pub async fn start_seeded(catalog: Catalog) -> anyhow::Result<Self> {
        let wix = Self::start(catalog).await?;
        let shirts = wix.add_product(
            "Organic T-Shirt",
            "22",
            &[
                ("TEE-S", "S", "20.00", 5),
                ("TEE-M", "M", "20.00", 5),
                ("TEE-L", "L", "22.00", 5),
            ],
        );
        let mug = wix.add_product("Mug", "22", &[("MUG-1", "", "9.90", 12)]);
        let book = wix.add_product("Cookbook", "9.5", &[("BOOK-1", "", "14.50", 8)]);
        wix.create_order(
            &OrderSpec::new()
                .line(&shirts[1], 2)
                .line(&mug[0], 1)
                .coupon("WELCOME10", 10)
                .shipping("Pošta Slovenije", "4.90")
                .company("Novak d.o.o.", "SI12345678"),
        );
        wix.create_order(
            &OrderSpec::new()
                .guest()
                .tax_included(false)
                .line(&book[0], 3)
                .line(&shirts[2], 1)
                .shipping("GLS", "3.50")
                .method("PayPal"),
        );
        wix.create_order(
            &OrderSpec::new()
                .currency("USD")
                .tax_included(false)
                .customer("john@example.test", "John", "Smith")
                .country("US")
                .line(&mug[0], 4),
        );
        let cancelled = wix.create_order(&OrderSpec::new().unpaid().line(&shirts[0], 1));
        wix.cancel_order(cancelled["id"].as_str().unwrap_or_default());
        let refunded = wix.create_order(
            &OrderSpec::new()
                .line(&book[0], 1)
                .line(&mug[0], 2)
                .shipping("Pošta Slovenije", "4.90"),
        );
        wix.refund_order(refunded["id"].as_str().unwrap_or_default());
        wix.create_initialized_order(&OrderSpec::new().line(&mug[0], 1));
        Ok(wix)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// `http://127.0.0.1:{port}`: the config's `api_base`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The app's public key, PEM.
    pub fn public_key_pem(&self) -> String {
        self.public_pem.clone()
    }

    pub fn catalog(&self) -> Catalog {
        self.lock().catalog
    }

    /// Adds a product with `(sku, choice, price, stock)` variants at `rate` percent
    /// tax; a single variant with an empty choice is the product without options.
    pub fn add_product(
        &self,
        name: &str,
        rate: &str,
        variants: &[(&str, &str, &str, i64)],
    ) -> Vec<Sellable> {
        let product_id = uuid();
        let single = variants.len() == 1 && variants[0].1.is_empty();
        let variants: Vec<Variant> = variants
            .iter()
            .map(|(sku, choice, price, quantity)| Variant {
                id: if single {
                    DEFAULT_VARIANT.to_owned()
                } else {
                    uuid()
                },
                sku: (*sku).to_owned(),
                choice: (*choice).to_owned(),
                price: dec(price),
                quantity: *quantity,
                track: true,
                item_id: uuid(),
                revision: 1,
            })
            .collect();
        let sellables = variants
            .iter()
            .map(|v| Sellable {
                product: product_id.clone(),
                variant: v.id.clone(),
                sku: v.sku.clone(),
            })
            .collect();
        self.lock().products.push(Product {
            id: product_id,
            name: name.to_owned(),
            rate: dec(rate) / Decimal::ONE_HUNDRED,
            variants,
        });
        sellables
    }

    /// The stock of a variant.
    pub fn stock(&self, item: &Sellable) -> Option<i64> {
        self.lock()
            .variant_mut(&item.product, &item.variant)
            .map(|v| v.quantity)
    }

    /// The V3 revision of a variant's inventory item.
    pub fn revision(&self, item: &Sellable) -> Option<u64> {
        self.lock()
            .variant_mut(&item.product, &item.variant)
            .map(|v| v.revision)
    }

    /// Someone else changes the item in the dashboard: its revision moves on, so the
    /// next update with the old revision is refused.
    pub fn bump_revision(&self, item: &Sellable) {
        if let Some(v) = self.lock().variant_mut(&item.product, &item.variant) {
            v.revision += 1;
        }
    }

    /// When `on`, the next V3 bulk update finds each of its items edited (revision
    /// moved on) between the client's query and its update: it is refused with 428, and
    /// an update made with revisions read again succeeds.
    pub fn bump_revision_on_next_update(&self, on: bool) {
        self.lock().bump_next = on;
    }

    /// Stock updates received: `{catalog, product, variant, quantity}`.
    pub fn stock_updates(&self) -> Vec<Value> {
        self.lock().stock_updates.clone()
    }

    /// How many V3 updates were refused for a stale revision.
    pub fn conflicts(&self) -> usize {
        self.lock().conflicts
    }

    /// Places an order (APPROVED) and returns it as Wix has it.
    pub fn create_order(&self, spec: &OrderSpec) -> Value {
        let mut state = self.lock();
        let order = build_order(&mut state, spec, "APPROVED");
        state.orders.push(order.clone());
        order
    }

    /// A checkout not yet placed: Wix never lists it.
    pub fn create_initialized_order(&self, spec: &OrderSpec) -> Value {
        let mut state = self.lock();
        let order = build_order(&mut state, spec, "INITIALIZED");
        state.orders.push(order.clone());
        order
    }

    pub fn order(&self, id: &str) -> Option<Value> {
        self.lock().orders.iter().find(|o| o["id"] == id).cloned()
    }

    /// Ids of the orders Wix lists (not INITIALIZED), oldest first.
    pub fn order_ids(&self) -> Vec<String> {
        self.lock()
            .orders
            .iter()
            .filter(|o| o["status"] != "INITIALIZED")
            .filter_map(|o| o["id"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn update_order(&self, id: &str, change: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut state = self.lock();
        let stamp = state.stamp();
        let order = state.order_mut(id)?;
        change(order);
        order["updatedDate"] = json!(stamp);
        Some(order.clone())
    }

    pub fn cancel_order(&self, id: &str) -> Option<Value> {
        self.update_order(id, |order| order["status"] = json!("CANCELED"))
    }

    /// Refunds the whole order (lines and shipping) to the card.
    pub fn refund_order(&self, id: &str) -> Option<Value> {
        let order = self.update_order(id, |order| {
            order["paymentStatus"] = json!("FULLY_REFUNDED");
        })?;
        let mut state = self.lock();
        let stamp = state.stamp();
        let transactions = state
            .transactions
            .entry(id.to_owned())
            .or_insert_with(|| json!({"orderId": id, "payments": [], "refunds": []}));
        let payment_id = transactions["payments"][0]["id"].clone();
        let items: Vec<Value> = order["lineItems"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|line| json!({"lineItemId": line["id"], "quantity": line["quantity"]}))
            .collect();
        if let Some(refunds) = transactions["refunds"].as_array_mut() {
            refunds.push(json!({
                "id": uuid(),
                "createdDate": stamp,
                "transactions": [{
                    "paymentId": payment_id,
                    "amount": money(dec_of(&order["priceSummary"]["total"]["amount"]), &order["currency"]),
                    "refundStatus": "SUCCEEDED",
                    "externalRefund": false,
                }],
                "details": {"items": items, "shippingIncluded": true, "reason": "Customer changed their mind"},
            }));
        }
        Some(order)
    }

    pub fn transactions(&self, order_id: &str) -> Option<Value> {
        self.lock().transactions.get(order_id).cloned()
    }

    pub fn fulfillments(&self, order_id: &str) -> Vec<Value> {
        self.lock()
            .fulfillments
            .get(order_id)
            .cloned()
            .unwrap_or_default()
    }

    /// What Wix would post now for `event_type` (`wix.ecom.v1.order_created`, ...)
    /// about the order, signed with the app's key and valid for an hour.
    pub fn delivery(&self, event_type: &str, order_id: &str) -> Delivery {
        self.delivery_issued_at(event_type, order_id, OffsetDateTime::now_utc())
    }

    /// Like [`FakeWix::delivery`], issued at `iat` (expiring an hour later).
    pub fn delivery_issued_at(
        &self,
        event_type: &str,
        order_id: &str,
        iat: OffsetDateTime,
    ) -> Delivery {
        let claims = self.claims(event_type, order_id, iat);
        self.delivery_of(&self.key, &claims)
    }

    /// The same event signed with another key (a forger's).
    pub fn forged_delivery(&self, event_type: &str, order_id: &str) -> anyhow::Result<Delivery> {
        let other = new_key()?;
        let claims = self.claims(event_type, order_id, OffsetDateTime::now_utc());
        Ok(self.delivery_of(&other, &claims))
    }

    /// A delivery whose token has these header and claims, signed with the app's key.
    pub fn delivery_with(&self, header: &Value, claims: &Value) -> Delivery {
        Delivery {
            headers: delivery_headers(),
            body: sign_jwt(&self.key, header, claims).into_bytes(),
        }
    }

    /// The claims of a delivery, for tests that tamper with them.
    pub fn claims(&self, event_type: &str, order_id: &str, iat: OffsetDateTime) -> Value {
        let order = self
            .order(order_id)
            .unwrap_or_else(|| json!({"id": order_id}));
        let event_time = wix_time(iat);
        let mut event = json!({
            "id": uuid(),
            "entityFqdn": "wix.ecom.v1.order",
            "entityId": order_id,
            "eventTime": event_time,
            "triggeredByAnonymizeRequest": false,
        });
        match event_type.rsplit('_').next().unwrap_or_default() {
            "created" => {
                event["slug"] = json!("created");
                event["createdEvent"] = json!({"entityAsJson": order.to_string()});
            }
            "updated" => {
                event["slug"] = json!("updated");
                event["updatedEvent"] = json!({"currentEntity": order});
            }
            action => {
                event["slug"] = json!(action);
                event["actionEvent"] = json!({"bodyAsJson": json!({"order": order}).to_string()});
            }
        }
        let envelope = json!({
            "eventType": event_type,
            "instanceId": INSTANCE_ID,
            "data": event.to_string(),
            "identity": json!({"identityType": "APP", "appId": APP_ID}).to_string(),
        });
        let iat = iat.unix_timestamp();
        json!({"data": envelope.to_string(), "iat": iat, "exp": iat + TOKEN_LIFETIME_SECONDS})
    }

    fn delivery_of(&self, key: &RsaPrivateKey, claims: &Value) -> Delivery {
        let header = json!({"alg": "RS256", "typ": "JWT"});
        Delivery {
            headers: delivery_headers(),
            body: sign_jwt(key, &header, claims).into_bytes(),
        }
    }

    /// POSTs the delivery to `hook_url`; the answer's status.
    pub async fn deliver(&self, hook_url: &str, delivery: &Delivery) -> anyhow::Result<u16> {
        delivery
            .send(hook_url, std::time::Duration::from_secs(10))
            .await
    }

    /// While down, every request gets 503.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next `requests` requests get 429 (with `Retry-After` when given).
    pub fn throttle_next(&self, requests: usize, retry_after: Option<&str>) {
        self.lock().throttle = Some((requests, retry_after.map(str::to_owned)));
    }

    /// Every request so far as `"METHOD /path"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    pub fn requests_to(&self, method: &str, path: &str) -> usize {
        let wanted = format!("{method} {path}");
        self.lock()
            .requests
            .iter()
            .filter(|r| **r == wanted)
            .count()
    }
}

/// Headers of a delivery. Wix's content type for the JWT body is not documented; a
/// JWT is text.
fn delivery_headers() -> Vec<(String, String)> {
    vec![
        (
            "Content-Type".to_owned(),
            "text/plain; charset=utf-8".to_owned(),
        ),
        ("User-Agent".to_owned(), "Wix-Webhooks".to_owned()),
    ]
}

// ---------------------------------------------------------------------------------------
// Orders

fn round(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn money(value: Decimal, currency: &Value) -> Value {
    let value = round(value);
    let symbol = match currency.as_str() {
        Some("USD") => "$",
        _ => "€",
    };
    json!({"amount": value.to_string(), "formattedAmount": format!("{symbol}{value}")})
}

/// Tax of a `gross` amount at `rate` (a fraction) and the net: from a price that
/// includes it, or on top of one that does not.
fn tax_of(gross: Decimal, rate: Decimal, included: bool) -> (Decimal, Decimal) {
    if included {
        let tax = round(gross * rate / (Decimal::ONE + rate));
        (tax, gross - tax)
    } else {
        (round(gross * rate), gross)
    }
}

fn build_order(state: &mut State, spec: &OrderSpec, status: &str) -> Value {
    let id = uuid();
    let number = state.next_number;
    state.next_number += 1;
    let stamp = state.stamp();
    let currency = json!(spec.currency);
    let included = spec.tax_included;
    let mut subtotal = Decimal::ZERO;
    let mut discount_total = Decimal::ZERO;
    let mut tax_total = Decimal::ZERO;
    let mut lines = Vec::new();
    let mut line_ids = Vec::new();
    for (index, (item, quantity)) in spec.lines.iter().enumerate() {
        let Some(product) = state.products.iter().find(|p| p.id == item.product) else {
            continue;
        };
        let Some(variant) = product.variants.iter().find(|v| v.id == item.variant) else {
            continue;
        };
        let quantity_d = Decimal::from(*quantity);
        let line_price = variant.price * quantity_d;
        let discount = match &spec.coupon {
            Some((_, percent)) => {
                round(line_price * Decimal::from(*percent) / Decimal::ONE_HUNDRED)
            }
            None => Decimal::ZERO,
        };
        let gross = line_price - discount;
        let (tax, net) = tax_of(gross, product.rate, included);
        subtotal += line_price;
        discount_total += discount;
        tax_total += tax;
        let line_id = format!("00000000-0000-0000-0000-{:012}", index + 1);
        line_ids.push(json!(line_id));
        let mut options = json!({"variantId": variant.id});
        if !variant.choice.is_empty() {
            options["options"] = json!({"Size": variant.choice});
        }
        lines.push(json!({
            "id": line_id,
            "productName": {"original": product.name, "translated": product.name},
            "catalogReference": {
                "catalogItemId": product.id,
                "appId": STORES_APP_ID,
                "options": options,
            },
            "quantity": quantity,
            "totalDiscount": money(discount, &currency),
            "descriptionLines": if variant.choice.is_empty() { json!([]) } else {
                json!([{"name": {"original": "Size"}, "plainText": {"original": variant.choice}, "lineType": "PLAIN_TEXT"}])
            },
            "physicalProperties": {"sku": variant.sku, "shippable": true, "weight": 0.3},
            "itemType": {"preset": "PHYSICAL"},
            "price": money(variant.price, &currency),
            "priceBeforeDiscounts": money(variant.price, &currency),
            "totalPriceBeforeTax": money(net, &currency),
            "totalPriceAfterTax": money(net + tax, &currency),
            "lineItemPrice": money(line_price, &currency),
            "taxDetails": {
                "taxableAmount": money(net, &currency),
                "taxRate": product.rate.normalize().to_string(),
                "totalTax": money(tax, &currency),
            },
            "paymentOption": "FULL_PAYMENT_ONLINE",
        }));
    }
    let rate = dec("0.22");
    let (shipping_price, shipping_tax, shipping_net, shipping_title) = match &spec.shipping {
        Some((title, price)) => {
            let price = dec(price);
            let (tax, net) = tax_of(price, rate, included);
            (price, tax, net, title.clone())
        }
        None => (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, String::new()),
    };
    tax_total += shipping_tax;
    let total = if included {
        subtotal - discount_total + shipping_price
    } else {
        subtotal - discount_total + shipping_price + tax_total
    };
    let (contact_id, member_id, email, first, last) = match &spec.customer {
        Some((email, first, last)) => (
            json!(uuid()),
            json!(uuid()),
            email.clone(),
            first.clone(),
            last.clone(),
        ),
        None => (
            Value::Null,
            Value::Null,
            "guest.buyer@example.test".to_owned(),
            "Gregor".to_owned(),
            "Gost".to_owned(),
        ),
    };
    let mut contact = json!({"firstName": first, "lastName": last, "phone": "+38640111222"});
    if let Some((company, vat)) = &spec.company {
        contact["company"] = json!(company);
        contact["vatId"] = json!({"id": vat, "type": "UNSPECIFIED"});
    }
    let address = if spec.country == "US" {
        json!({"addressLine1": "350 5th Ave", "city": "New York", "postalCode": "10118",
               "country": "US", "subdivision": "US-NY",
               "streetAddress": {"number": "350", "name": "5th Ave"}})
    } else {
        json!({"addressLine1": "Slovenska cesta 12a", "city": "Ljubljana", "postalCode": "1000",
               "country": spec.country, "subdivision": "SI-061",
               "streetAddress": {"number": "12a", "name": "Slovenska cesta"}})
    };
    let mut buyer = json!({"email": email});
    if !contact_id.is_null() {
        buyer["contactId"] = contact_id;
        buyer["memberId"] = member_id;
    }
    let payment_status = if status == "INITIALIZED" || !spec.paid {
        "NOT_PAID"
    } else {
        "PAID"
    };
    let mut order = json!({
        "id": id,
        "number": number.to_string(),
        "createdDate": stamp,
        "updatedDate": stamp,
        "purchasedDate": stamp,
        "status": status,
        "paymentStatus": payment_status,
        "fulfillmentStatus": "NOT_FULFILLED",
        "currency": spec.currency,
        "weightUnit": "KG",
        "taxIncludedInPrices": included,
        "buyerLanguage": "en",
        "siteLanguage": "en",
        "channelInfo": {"type": "WEB"},
        "buyerInfo": buyer,
        "billingInfo": {"address": address, "contactDetails": contact},
        "lineItems": lines,
        "priceSummary": {
            "subtotal": money(subtotal, &currency),
            "shipping": money(shipping_price, &currency),
            "tax": money(tax_total, &currency),
            "discount": money(discount_total, &currency),
            "totalAdditionalFees": money(Decimal::ZERO, &currency),
            "total": money(total, &currency),
        },
        "balanceSummary": {"balance": money(if spec.paid { Decimal::ZERO } else { total }, &currency)},
        "appliedDiscounts": [],
        "additionalFees": [],
    });
    if let Some((code, percent)) = &spec.coupon {
        order["appliedDiscounts"] = json!([{
            "discountType": "GLOBAL",
            "lineItemIds": line_ids,
            "coupon": {"id": uuid(), "code": code, "name": format!("{percent}% off"),
                       "amount": money(discount_total, &currency)},
        }]);
    }
    if spec.shipping.is_some() {
        order["shippingInfo"] = json!({
            "title": shipping_title,
            "logistics": {
                "deliveryTime": "2-3 business days",
                "shippingDestination": {"address": address, "contactDetails": contact},
            },
            "cost": {
                "price": money(shipping_price, &currency),
                "totalPriceBeforeTax": money(shipping_net, &currency),
                "totalPriceAfterTax": money(shipping_net + shipping_tax, &currency),
                "taxDetails": {"taxRate": "0.22", "totalTax": money(shipping_tax, &currency)},
                "discount": money(Decimal::ZERO, &currency),
            },
        });
    }
    if let Some(note) = &spec.note {
        order["buyerNote"] = json!(note);
    }
    let payments = if payment_status == "PAID" {
        json!([{
            "id": uuid(),
            "amount": money(total, &currency),
            "createdDate": stamp,
            "refundDisabled": false,
            "regularPaymentDetails": {
                "paymentMethod": spec.method,
                "offlinePayment": false,
                "status": "APPROVED",
                "providerTransactionId": format!("pi_{}", &uuid()[..8]),
                "paymentOrderId": uuid(),
            },
        }])
    } else {
        json!([])
    };
    state.transactions.insert(
        id.clone(),
        json!({"orderId": id, "payments": payments, "refunds": []}),
    );
    order
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

    /// Wix's error shape.
    fn error(status: StatusCode, code: &str, message: &str) -> Self {
        Self {
            status,
            body: json!({
                "message": message,
                "details": {"applicationError": {"code": code, "description": message, "data": {}}},
            }),
            headers: Vec::new(),
        }
    }

    fn bad_request(message: &str) -> Self {
        Self::error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message)
    }

    fn not_found(what: &str) -> Self {
        Self::error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("{what} not found"),
        )
    }
}

fn handle(
    state: &Mutex<State>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut state = state.lock().unwrap_or_else(|poison| poison.into_inner());
    let path = uri.path().to_owned();
    state.requests.push(format!("{method} {path}"));
    if state.down {
        return respond(Answer::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "Service Unavailable",
        ));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("authorization") != Some(API_KEY) {
        return respond(Answer::error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request is not authenticated: the API key is invalid or revoked",
        ));
    }
    // UNCONFIRMED: Wix's exact answer for a site the key cannot reach; "not found"
    // names the site.
    if header("wix-site-id") != Some(SITE_ID) {
        return respond(Answer::error(
            StatusCode::NOT_FOUND,
            "SITE_NOT_FOUND",
            "No site with this wix-site-id is accessible with this API key",
        ));
    }
    if let Some((left, retry_after)) = state.throttle.take() {
        if left > 1 {
            state.throttle = Some((left - 1, retry_after.clone()));
        }
        let mut answer = Answer::error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests",
        );
        if let Some(retry_after) = retry_after {
            answer.headers.push(("Retry-After".into(), retry_after));
        }
        return respond(answer);
    }
    let json_body: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(error) => return respond(Answer::bad_request(&format!("invalid JSON: {error}"))),
        }
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let answer = match (method.as_str(), segments.as_slice()) {
        ("POST", ["ecom", "v1", "orders", "search"]) => search_orders(&mut state, &json_body),
        ("GET", ["ecom", "v1", "orders", id]) => match state.orders.iter().find(|o| o["id"] == *id)
        {
            Some(order) => Answer::ok(json!({"order": order})),
            None => Answer::error(StatusCode::NOT_FOUND, "ORDER_NOT_FOUND", "Order not found"),
        },
        ("GET", ["ecom", "v1", "payments", "orders", id]) => match state.transactions.get(*id) {
            Some(transactions) => Answer::ok(json!({"orderTransactions": transactions})),
            None => Answer::error(StatusCode::NOT_FOUND, "ORDER_NOT_FOUND", "Order not found"),
        },
        ("GET", ["ecom", "v1", "fulfillments", "orders", id]) => {
            if state.orders.iter().any(|o| o["id"] == *id) {
                let list = state.fulfillments.get(*id).cloned().unwrap_or_default();
                Answer::ok(json!({"orderWithFulfillments": {"orderId": id, "fulfillments": list}}))
            } else {
                Answer::not_found("Order")
            }
        }
        (
            "POST",
            [
                "ecom",
                "v1",
                "fulfillments",
                "orders",
                id,
                "create-fulfillment",
            ],
        ) => create_fulfillment(&mut state, id, &json_body),
        ("GET", ["stores", "v3", "provision", "version"]) => Answer::ok(json!({
            "catalogVersion": match state.catalog { Catalog::V1 => "V1_CATALOG", Catalog::V3 => "V3_CATALOG" }
        })),
        ("POST", ["stores", "v1", "products", "query"]) => {
            only(state.catalog, Catalog::V1).unwrap_or_else(|| products_v1(&state, &json_body))
        }
        ("POST", ["stores", "v3", "products", "query"]) => {
            only(state.catalog, Catalog::V3).unwrap_or_else(|| products_v3(&state))
        }
        ("POST", ["stores", "v2", "inventoryItems", "query"]) => {
            only(state.catalog, Catalog::V1).unwrap_or_else(|| query_v1(&state, &json_body))
        }
        ("PATCH", ["stores", "v2", "inventoryItems", "product", id]) => {
            only(state.catalog, Catalog::V1)
                .unwrap_or_else(|| update_v1(&mut state, id, &json_body))
        }
        ("POST", ["stores", "v3", "inventory-items", "query"]) => {
            only(state.catalog, Catalog::V3).unwrap_or_else(|| query_v3(&state, &json_body))
        }
        ("POST", ["stores", "v3", "bulk", "inventory-items", "update"]) => {
            only(state.catalog, Catalog::V3).unwrap_or_else(|| update_v3(&mut state, &json_body))
        }
        _ => Answer::error(StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found"),
    };
    respond(answer)
}

/// A catalog API the site does not run is refused.
fn only(running: Catalog, wanted: Catalog) -> Option<Answer> {
    (running != wanted).then(|| {
        Answer::error(
            StatusCode::PRECONDITION_REQUIRED,
            "CATALOG_VERSION_MISMATCH",
            &format!("This site runs catalog {running:?}; this API is for {wanted:?}"),
        )
    })
}

fn respond(answer: Answer) -> Response {
    let body = serde_json::to_vec(&answer.body).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
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

/// Whether the order passes one filter condition.
fn matches(order: &Value, filter: &Value) -> Result<bool, String> {
    let Some(object) = filter.as_object() else {
        return Ok(true);
    };
    for (field, condition) in object {
        if field == "$and" {
            for part in condition.as_array().into_iter().flatten() {
                if !matches(order, part)? {
                    return Ok(false);
                }
            }
            continue;
        }
        let value = &order[field.as_str()];
        let Some(ops) = condition.as_object() else {
            if value != condition {
                return Ok(false);
            }
            continue;
        };
        if ops.len() > 1 {
            return Err(format!(
                "{field}: one operator per condition; put each in its own condition under $and"
            ));
        }
        for (op, operand) in ops {
            let ok = match (op.as_str(), field.as_str()) {
                (
                    "$gte" | "$gt" | "$lt" | "$lte",
                    "updatedDate" | "createdDate" | "purchasedDate",
                ) => {
                    let (Some(a), Some(b)) = (
                        value.as_str().and_then(parse_time),
                        operand.as_str().and_then(parse_time),
                    ) else {
                        return Err(format!("{field}: not a date: {operand}"));
                    };
                    match op.as_str() {
                        "$gte" => a >= b,
                        "$gt" => a > b,
                        "$lt" => a < b,
                        _ => a <= b,
                    }
                }
                ("$eq", _) => value == operand,
                ("$ne", _) => value != operand,
                ("$in", _) => operand.as_array().is_some_and(|list| list.contains(value)),
                _ => return Err(format!("{field}: unsupported filter {op}")),
            };
            if !ok {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn search_orders(state: &mut State, body: &Value) -> Answer {
    let search = &body["search"];
    let paging = &search["cursorPaging"];
    let limit = paging["limit"].as_u64().unwrap_or(100) as usize;
    if limit == 0 || limit > 100 {
        return Answer::bad_request("cursorPaging.limit must be between 1 and 100");
    }
    let (filter, sort, offset) = match paging["cursor"].as_str() {
        Some(cursor) => {
            if !search["filter"].is_null() || !search["sort"].is_null() {
                return Answer::bad_request("filter and sort cannot be passed with a cursor");
            }
            match state.cursors.get(cursor) {
                Some(saved) => saved.clone(),
                None => return Answer::bad_request("invalid cursor"),
            }
        }
        None => (search["filter"].clone(), search["sort"].clone(), 0),
    };
    let mut found = Vec::new();
    for order in &state.orders {
        if order["status"] == "INITIALIZED" {
            continue;
        }
        match matches(order, &filter) {
            Ok(true) => found.push(order.clone()),
            Ok(false) => {}
            Err(message) => return Answer::bad_request(&message),
        }
    }
    let (field, ascending) = match sort.as_array().and_then(|s| s.first()) {
        Some(first) => (
            first["fieldName"]
                .as_str()
                .unwrap_or("createdDate")
                .to_owned(),
            first["order"].as_str() != Some("DESC"),
        ),
        None => ("createdDate".to_owned(), false),
    };
    found.sort_by(|a, b| {
        let key = |o: &Value| o[field.as_str()].as_str().and_then(parse_time);
        let ordering = key(a).cmp(&key(b));
        if ascending {
            ordering
        } else {
            ordering.reverse()
        }
    });
    let page: Vec<Value> = found.iter().skip(offset).take(limit).cloned().collect();
    let has_next = offset + page.len() < found.len();
    let mut cursors = json!({});
    if has_next {
        let cursor = uuid();
        state
            .cursors
            .insert(cursor.clone(), (filter, sort, offset + page.len()));
        cursors["next"] = json!(cursor);
    }
    Answer::ok(json!({
        "orders": page,
        "metadata": {"count": page.len(), "cursors": cursors, "hasNext": has_next},
    }))
}

fn create_fulfillment(state: &mut State, order_id: &str, body: &Value) -> Answer {
    let Some(order) = state.orders.iter().find(|o| o["id"] == order_id).cloned() else {
        return Answer::not_found("Order");
    };
    let fulfillment = &body["fulfillment"];
    let Some(lines) = fulfillment["lineItems"]
        .as_array()
        .filter(|l| !l.is_empty())
    else {
        return Answer::bad_request("fulfillment.lineItems is required");
    };
    let existing = state
        .fulfillments
        .get(order_id)
        .cloned()
        .unwrap_or_default();
    let shipped = |line_id: &Value| -> u64 {
        existing
            .iter()
            .flat_map(|f| f["lineItems"].as_array().cloned().unwrap_or_default())
            .filter(|l| l["id"] == *line_id)
            .map(|l| l["quantity"].as_u64().unwrap_or(0))
            .sum()
    };
    for line in lines {
        let Some(ordered) = order["lineItems"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["id"] == line["id"])
        else {
            return Answer::bad_request(&format!("no line item {}", line["id"]));
        };
        let quantity = line["quantity"].as_u64().unwrap_or(0);
        let left = ordered["quantity"].as_u64().unwrap_or(0)
            - shipped(&line["id"]).min(ordered["quantity"].as_u64().unwrap_or(0));
        if quantity == 0 || quantity > left {
            return Answer::bad_request(&format!(
                "line item {} has {left} left to fulfil, not {quantity}",
                line["id"]
            ));
        }
    }
    let stamp = state.stamp();
    let id = uuid();
    let record = json!({
        "id": id,
        "createdDate": stamp,
        "lineItems": lines,
        "trackingInfo": fulfillment["trackingInfo"],
        "status": "Fulfilled",
    });
    let list = state.fulfillments.entry(order_id.to_owned()).or_default();
    list.push(record);
    let list = list.clone();
    let all_shipped = order["lineItems"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|line| {
            let sent: u64 = list
                .iter()
                .flat_map(|f| f["lineItems"].as_array().cloned().unwrap_or_default())
                .filter(|l| l["id"] == line["id"])
                .map(|l| l["quantity"].as_u64().unwrap_or(0))
                .sum();
            sent >= line["quantity"].as_u64().unwrap_or(0)
        });
    if let Some(order) = state.order_mut(order_id) {
        order["fulfillmentStatus"] = json!(if all_shipped {
            "FULFILLED"
        } else {
            "PARTIALLY_FULFILLED"
        });
        order["updatedDate"] = json!(stamp);
    }
    Answer::ok(json!({
        "fulfillmentId": id,
        "orderWithFulfillments": {"orderId": order_id, "fulfillments": list},
    }))
}

fn query_v1(state: &State, body: &Value) -> Answer {
    let paging = &body["query"]["paging"];
    let limit = paging["limit"].as_u64().unwrap_or(100).min(100) as usize;
    let offset = paging["offset"].as_u64().unwrap_or(0) as usize;
    let items: Vec<Value> = state
        .products
        .iter()
        .skip(offset)
        .take(limit)
        .map(|p| {
            json!({
                "id": format!("inv-{}", p.id),
                "externalId": p.id,
                "productId": p.id,
                "trackQuantity": p.variants.iter().any(|v| v.track),
                "variants": p.variants.iter().map(|v| json!({
                    "variantId": v.id, "inStock": v.quantity > 0, "quantity": v.quantity,
                })).collect::<Vec<_>>(),
                "lastUpdated": "2026-01-01T00:00:00.000Z",
            })
        })
        .collect();
    Answer::ok(json!({
        "inventoryItems": items,
        "metadata": {"items": items.len(), "offset": offset},
        "totalResults": state.products.len(),
    }))
}

fn products_v1(state: &State, body: &Value) -> Answer {
    let paging = &body["query"]["paging"];
    let limit = paging["limit"].as_u64().unwrap_or(100).min(100) as usize;
    let offset = paging["offset"].as_u64().unwrap_or(0) as usize;
    let with_variants = body["includeVariants"].as_bool().unwrap_or(false);
    let products: Vec<Value> = state
        .products
        .iter()
        .skip(offset)
        .take(limit)
        .map(|p| {
            let mut product = json!({
                "id": p.id,
                "name": p.name,
                "productType": "physical",
                "sku": p.variants.first().map(|v| v.sku.clone()).unwrap_or_default(),
                "price": {"currency": "EUR", "price": p.variants.first().map(|v| v.price.to_string())},
                "manageVariants": p.variants.len() > 1,
            });
            if with_variants {
                product["variants"] = json!(p.variants.iter().map(|v| json!({
                    "id": v.id,
                    "choices": if v.choice.is_empty() { json!({}) } else { json!({"Size": v.choice}) },
                    "variant": {"priceData": {"currency": "EUR", "price": v.price.to_string()},
                                "sku": v.sku, "visible": true},
                    "stock": {"trackQuantity": v.track, "quantity": v.quantity, "inStock": v.quantity > 0},
                })).collect::<Vec<_>>());
            }
            product
        })
        .collect();
    Answer::ok(json!({
        "products": products,
        "metadata": {"items": products.len(), "offset": offset},
        "totalResults": state.products.len(),
    }))
}

fn products_v3(state: &State) -> Answer {
    let products: Vec<Value> = state
        .products
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "revision": "1",
                "variantsInfo": {"variants": p.variants.iter().map(|v| json!({
                    "id": v.id,
                    "sku": v.sku,
                    "visible": true,
                    "choices": if v.choice.is_empty() { json!([]) } else {
                        json!([{"optionChoiceNames": {"optionName": "Size", "choiceName": v.choice}}])
                    },
                    "price": {"actualPrice": {"amount": v.price.to_string()}},
                })).collect::<Vec<_>>()},
            })
        })
        .collect();
    Answer::ok(json!({
        "products": products,
        "pagingMetadata": {"count": products.len(), "cursors": {}, "hasNext": false},
    }))
}

fn update_v1(state: &mut State, product_id: &str, body: &Value) -> Answer {
    let item = &body["inventoryItem"];
    let Some(index) = state.products.iter().position(|p| p.id == product_id) else {
        return Answer::error(
            StatusCode::NOT_FOUND,
            "PRODUCT_NOT_FOUND",
            "Product not found",
        );
    };
    let track = item["trackQuantity"].as_bool();
    let mut updates = Vec::new();
    for variant in item["variants"].as_array().into_iter().flatten() {
        let Some(id) = variant["variantId"].as_str() else {
            return Answer::bad_request("variants.variantId is required");
        };
        if !state.products[index].variants.iter().any(|v| v.id == id) {
            return Answer::bad_request(&format!("variant {id} is not a variant of {product_id}"));
        }
        updates.push((id.to_owned(), variant["quantity"].as_i64()));
    }
    for (id, quantity) in updates {
        if let Some(v) = state.products[index]
            .variants
            .iter_mut()
            .find(|v| v.id == id)
        {
            if let Some(track) = track {
                v.track = track;
            }
            if let Some(quantity) = quantity {
                v.quantity = quantity;
            }
            v.revision += 1;
        }
        state.stock_updates.push(json!({
            "catalog": "V1", "product": product_id, "variant": id, "quantity": quantity,
        }));
    }
    Answer::ok(json!({}))
}

fn v3_item(product: &Product, variant: &Variant) -> Value {
    json!({
        "id": variant.item_id,
        "revision": variant.revision.to_string(),
        "variantId": variant.id,
        "productId": product.id,
        "locationId": "e4b6c3a1-0000-4000-8000-000000000001",
        "trackQuantity": variant.track,
        "quantity": variant.quantity,
        "inStock": variant.quantity > 0,
        "availabilityStatus": if variant.quantity > 0 { "IN_STOCK" } else { "OUT_OF_STOCK" },
        "product": {"name": product.name, "variantSku": variant.sku},
    })
}

fn query_v3(state: &State, body: &Value) -> Answer {
    let filter = &body["query"]["filter"];
    let mut items = Vec::new();
    for product in &state.products {
        for variant in &product.variants {
            let item = v3_item(product, variant);
            match matches(&item, filter) {
                Ok(true) => items.push(item),
                Ok(false) => {}
                Err(message) => return Answer::bad_request(&message),
            }
        }
    }
    Answer::ok(json!({
        "inventoryItems": items,
        "pagingMetadata": {"count": items.len(), "cursors": {}, "hasNext": false},
    }))
}

fn update_v3(state: &mut State, body: &Value) -> Answer {
    let Some(list) = body["inventoryItems"].as_array() else {
        return Answer::bad_request("inventoryItems is required");
    };
    if std::mem::take(&mut state.bump_next) {
        for entry in list {
            let id = entry["inventoryItem"]["id"].as_str().unwrap_or_default();
            for product in &mut state.products {
                for variant in &mut product.variants {
                    if variant.item_id == id {
                        variant.revision += 1;
                    }
                }
            }
        }
    }
    let mut changes = Vec::new();
    for entry in list {
        let item = &entry["inventoryItem"];
        let id = item["id"].as_str().unwrap_or_default();
        let found = state.products.iter().enumerate().find_map(|(p, product)| {
            product
                .variants
                .iter()
                .position(|v| v.item_id == id)
                .map(|v| (p, v))
        });
        let Some((p, v)) = found else {
            return Answer::error(
                StatusCode::NOT_FOUND,
                "INVENTORY_ITEM_NOT_FOUND",
                "Inventory item not found",
            );
        };
        let sent = item["revision"]
            .as_str()
            .and_then(|r| r.parse::<u64>().ok())
            .or_else(|| item["revision"].as_u64());
        let current = state.products[p].variants[v].revision;
        if sent != Some(current) {
            // UNCONFIRMED: Wix documents 428 (Failed Precondition) for this method; the
            // code name is a guess.
            state.conflicts += 1;
            return Answer::error(
                StatusCode::PRECONDITION_REQUIRED,
                "REVISION_MISMATCH",
                &format!(
                    "inventory item {id} has revision {current}, not {}",
                    item["revision"]
                ),
            );
        }
        changes.push((
            p,
            v,
            item["quantity"].as_i64(),
            item["trackQuantity"].as_bool(),
        ));
    }
    let mut results = Vec::new();
    for (index, (p, v, quantity, track)) in changes.into_iter().enumerate() {
        let product_id = state.products[p].id.clone();
        let variant = &mut state.products[p].variants[v];
        if let Some(quantity) = quantity {
            variant.quantity = quantity;
        }
        if let Some(track) = track {
            variant.track = track;
        }
        variant.revision += 1;
        let (variant_id, item_id) = (variant.id.clone(), variant.item_id.clone());
        state.stock_updates.push(json!({
            "catalog": "V3", "product": product_id, "variant": variant_id, "quantity": quantity,
        }));
        results.push(
            json!({"itemMetadata": {"id": item_id, "originalIndex": index, "success": true}}),
        );
    }
    let successes = results.len();
    Answer::ok(json!({
        "results": results,
        "bulkActionMetadata": {"totalSuccesses": successes, "totalFailures": 0, "undetailedFailures": 0},
    }))
}

// ---------------------------------------------------------------------------------------
// Helpers

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or(Decimal::ZERO)
}

fn dec_of(value: &Value) -> Decimal {
    value.as_str().map(dec).unwrap_or(Decimal::ZERO)
}

fn wix_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

fn uuid() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
