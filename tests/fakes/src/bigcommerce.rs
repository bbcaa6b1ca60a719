//! A fake BigCommerce store: the v2 orders API (`X-Auth-Token`, `page`/`limit`, `204 No
//! Content` for an empty page, `min_date_modified` in RFC 2822 or ISO 8601, the
//! `products`, `shipping_addresses`, `coupons` and `shipments` sub-resources), the v3
//! hooks and inventory adjustments APIs, and Standard-Webhooks-signed deliveries.
//!
//! Seeded with products with variants, a 22 % and a 9.5 % tax rate, a coupon, a guest,
//! and both ways of entering prices (with and without tax). 429 with BigCommerce's
//! `X-Rate-Limit-*` headers and 503 are switched on from the test.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

pub use crate::webhook::Delivery;

pub const STORE_HASH: &str = "k9x2b7q4";
pub const ACCESS_TOKEN: &str = "bc-token-3f9ea420af83450d";
pub const CLIENT_SECRET: &str = "bc-client-secret-7d1e0c5a";
pub const LOCATION_ID: u64 = 1;
/// BigCommerce's limit of items in one inventory adjustment.
pub const MAX_ADJUSTMENT_ITEMS: usize = 2000;
/// The wait a 429 asks for, kept short for tests.
pub const RESET_MS: u64 = 300;

/// A decimal from a JSON amount (`"10.0000"`).
pub fn dec(value: &Value) -> Decimal {
    match value {
        Value::String(text) => text.parse().unwrap_or_default(),
        other => other.to_string().parse().unwrap_or_default(),
    }
}

fn money(value: Decimal) -> String {
    let mut value = value.round_dp(4);
    value.rescale(4);
    value.to_string()
}

fn rfc2822(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|at| at.format(&Rfc2822).ok())
        .unwrap_or_default()
}

/// A variant of the catalog.
#[derive(Debug, Clone)]
pub struct Variant {
    pub product_id: u64,
    pub variant_id: u64,
    pub sku: String,
    pub name: String,
    /// As the store enters it: gross in a tax-inclusive store, net otherwise.
    pub price: Decimal,
    /// Percent.
    pub tax_rate: Decimal,
}

/// An order to place.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    lines: Vec<(String, u32)>,
    customer_id: u64,
    billing: (String, String, String),
    coupon: Option<(String, Decimal)>,
    shipping: Option<(String, Decimal)>,
    handling: Decimal,
    wrapping: Decimal,
    currency: Option<(String, Decimal)>,
    status_id: u32,
    payment_method: String,
}

impl Default for OrderSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderSpec {
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            customer_id: 7,
            billing: ("ana.novak@example.si".into(), "Ana".into(), "Novak".into()),
            coupon: None,
            shipping: None,
            handling: Decimal::ZERO,
            wrapping: Decimal::ZERO,
            currency: None,
            status_id: 11,
            payment_method: "Credit Card".into(),
        }
    }
    pub fn line(mut self, sku: &str, quantity: u32) -> Self {
        self.lines.push((sku.to_owned(), quantity));
        self
    }
    /// A guest checkout (`customer_id` 0).
    pub fn guest(mut self, email: &str, first: &str, last: &str) -> Self {
        self.customer_id = 0;
        self.billing = (email.into(), first.into(), last.into());
        self
    }
    pub fn coupon(mut self, code: &str, percent: u32) -> Self {
        self.coupon = Some((code.to_owned(), Decimal::from(percent)));
        self
    }
    /// Shipping at `cost`, as the store enters prices.
    pub fn shipping(mut self, method: &str, cost: &str) -> Self {
        self.shipping = Some((method.to_owned(), cost.parse().unwrap_or_default()));
        self
    }
    pub fn handling(mut self, cost: &str) -> Self {
        self.handling = cost.parse().unwrap_or_default();
        self
    }
    pub fn wrapping(mut self, cost: &str) -> Self {
        self.wrapping = cost.parse().unwrap_or_default();
        self
    }
    /// Paid in another currency at `rate` units per unit of the store's default.
    pub fn currency(mut self, code: &str, rate: &str) -> Self {
        self.currency = Some((code.to_owned(), rate.parse().unwrap_or(Decimal::ONE)));
        self
    }
    pub fn status(mut self, status_id: u32) -> Self {
        self.status_id = status_id;
        self
    }
    pub fn payment_method(mut self, method: &str) -> Self {
        self.payment_method = method.to_owned();
        self
    }
}

#[derive(Debug, Default)]
struct State {
    /// Prices entered with tax (Settings › Tax: "prices entered with tax").
    tax_inclusive: bool,
    variants: Vec<Variant>,
    orders: BTreeMap<u64, Value>,
    products: BTreeMap<u64, Vec<Value>>,
    addresses: BTreeMap<u64, Vec<Value>>,
    coupons: BTreeMap<u64, Vec<Value>>,
    shipments: BTreeMap<u64, Vec<Value>>,
    hooks: Vec<Value>,
    /// (variant or product key, location) → quantity, as adjustments set it.
    inventory: BTreeMap<(String, u64), i64>,
    adjustments: Vec<Value>,
    requests: Vec<String>,
    throttle: usize,
    throttled: usize,
    down: bool,
    next_id: u64,
    deliveries: u64,
}

/// The fake store; clones share it.
#[derive(Clone)]
pub struct FakeBigCommerce {
    state: Arc<Mutex<State>>,
    addr: std::net::SocketAddr,
}

type Reply = (StatusCode, HeaderMap, String);

fn reply(status: StatusCode, body: Value) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (status, headers, body.to_string())
}

fn v2_error(status: StatusCode, message: &str) -> Reply {
    reply(
        status,
        json!([{"status": status.as_u16(), "message": message}]),
    )
}

fn v3_error(status: StatusCode, title: &str) -> Reply {
    reply(
        status,
        json!({"status": status.as_u16(), "title": title,
               "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
               "errors": {}}),
    )
}

fn list_or_204(items: Vec<Value>) -> Reply {
    if items.is_empty() {
        (StatusCode::NO_CONTENT, HeaderMap::new(), String::new())
    } else {
        reply(StatusCode::OK, Value::Array(items))
    }
}

fn parse_date(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc2822)
        .or_else(|_| OffsetDateTime::parse(text, &Rfc3339))
        .ok()
        .map(|at| at.unix_timestamp())
}

impl FakeBigCommerce {
    /// An empty store (tax-exclusive prices) on a free port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake BigCommerce to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            next_id: 100,
            ..State::default()
        }));
        let fake = Self { state, addr };
        let shared = fake.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let fake = shared.clone();
                async move { fake.handle(&method, &uri, &headers, &body).into_response() }
            },
        );
        crate::serve_in_background("BigCommerce", listener, app);
        fake.seed_catalog();
        Ok(fake)
    }

    /// A store with orders of every interesting kind: variants with a coupon, a guest,
    /// shipping, handling and gift wrapping, an order paid in USD, two tax rates.
    pub async fn start_seeded() -> anyhow::Result<Self> {
        let store = Self::start().await?;
        store.create_order(
            &OrderSpec::new()
                .line("TEE-M", 2)
                .line("COFFEE-1KG", 1)
                .coupon("SPRING10", 10)
                .shipping("Flat Rate", "4.90"),
        );
        store.create_order(
            &OrderSpec::new()
                .line("MUG-1", 3)
                .guest("gost@example.si", "Marko", "Horvat")
                .shipping("Free Shipping", "0")
                .handling("1.50")
                .wrapping("2.00")
                .payment_method("Cash on Delivery")
                .status(1),
        );
        store.create_order(
            &OrderSpec::new()
                .line("TEE-L", 1)
                .line("COFFEE-1KG", 2)
                .currency("USD", "1.0850")
                .shipping("UPS Ground", "7.00")
                .status(10),
        );
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the connector's `api_base` is set to.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seed_catalog(&self) {
        let mut state = self.lock();
        let rows = [
            (111, 201, "TEE-S", "T-shirt S", "20.00", "22"),
            (111, 202, "TEE-M", "T-shirt M", "20.00", "22"),
            (111, 203, "TEE-L", "T-shirt L", "22.00", "22"),
            (112, 204, "MUG-1", "Mug", "9.90", "22"),
            (113, 205, "COFFEE-1KG", "Coffee beans 1 kg", "18.40", "9.5"),
        ];
        for (product_id, variant_id, sku, name, price, rate) in rows {
            state.variants.push(Variant {
                product_id,
                variant_id,
                sku: sku.into(),
                name: name.into(),
                price: price.parse().unwrap_or_default(),
                tax_rate: rate.parse().unwrap_or_default(),
            });
            state
                .inventory
                .insert((format!("variant:{variant_id}"), LOCATION_ID), 5);
        }
    }

    /// Prices entered with tax from now on (orders placed later).
    pub fn set_tax_inclusive(&self, inclusive: bool) {
        self.lock().tax_inclusive = inclusive;
    }

    pub fn variant(&self, sku: &str) -> Option<Variant> {
        self.lock().variants.iter().find(|v| v.sku == sku).cloned()
    }

    /// Places an order; answers it as `GET /v2/orders/{id}` would.
    pub fn create_order(&self, spec: &OrderSpec) -> Value {
        let mut state = self.lock();
        state.next_id += 1;
        let id = state.next_id;
        let inclusive = state.tax_inclusive;
        let rate_fx = spec.currency.as_ref().map(|c| c.1).unwrap_or(Decimal::ONE);
        let hundred = Decimal::ONE_HUNDRED;
        let (mut subtotal_ex, mut subtotal_inc, mut tax_total, mut discount_net) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let mut products = Vec::new();
        let address_id = id * 10;
        for (index, (sku, quantity)) in spec.lines.iter().enumerate() {
            let Some(variant) = state.variants.iter().find(|v| &v.sku == sku).cloned() else {
                continue;
            };
            let q = Decimal::from(*quantity);
            let factor = Decimal::ONE + variant.tax_rate / hundred;
            let entered = (variant.price * rate_fx).round_dp(2);
            let (price_ex, price_inc) = if inclusive {
                ((entered / factor).round_dp(4), entered)
            } else {
                (entered, (entered * factor).round_dp(4))
            };
            let total_ex = if inclusive {
                (entered * q / factor).round_dp(4)
            } else {
                entered * q
            };
            let total_inc = if inclusive {
                entered * q
            } else {
                (total_ex * factor).round_dp(2)
            };
            let entered_total = if inclusive { total_inc } else { total_ex };
            let discount = spec
                .coupon
                .as_ref()
                .map(|(_, percent)| (entered_total * percent / hundred).round_dp(2))
                .unwrap_or_default();
            let line_discount_net = if inclusive {
                (discount / factor).round_dp(4)
            } else {
                discount
            };
            let line_tax =
                ((total_ex - line_discount_net) * variant.tax_rate / hundred).round_dp(2);
            subtotal_ex += total_ex;
            subtotal_inc += total_inc;
            tax_total += line_tax;
            discount_net += line_discount_net;
            let applied: Vec<Value> = spec
                .coupon
                .iter()
                .map(|(code, _)| json!({"id": "coupon", "amount": money(discount), "name": "Coupon", "code": code, "target": "order"}))
                .collect();
            products.push(json!({
                "id": id * 100 + index as u64 + 1,
                "order_id": id,
                "product_id": variant.product_id,
                "variant_id": variant.variant_id,
                "order_address_id": address_id,
                "name": variant.name,
                "sku": variant.sku,
                "type": "physical",
                "base_price": money(entered),
                "price_ex_tax": money(price_ex),
                "price_inc_tax": money(price_inc),
                "price_tax": money(price_inc - price_ex),
                "base_total": money(entered_total),
                "total_ex_tax": money(total_ex),
                "total_inc_tax": money(total_inc),
                "total_tax": money(total_inc - total_ex),
                "quantity": quantity,
                "quantity_shipped": 0,
                "applied_discounts": applied,
                "product_options": [],
            }));
        }
        // Shipping, handling and wrapping are taxed at 22 %.
        let charge = |entered: Decimal| -> (Decimal, Decimal) {
            let entered = (entered * rate_fx).round_dp(2);
            let factor = Decimal::new(122, 2);
            if inclusive {
                let ex = (entered / factor).round_dp(4);
                (ex, entered - ex)
            } else {
                (entered, (entered * Decimal::new(22, 2)).round_dp(2))
            }
        };
        let (ship_ex, ship_tax) = charge(spec.shipping.as_ref().map(|s| s.1).unwrap_or_default());
        let (handling_ex, handling_tax) = charge(spec.handling);
        let (wrapping_ex, wrapping_tax) = charge(spec.wrapping);
        tax_total += ship_tax + handling_tax + wrapping_tax;
        let total_ex = subtotal_ex - discount_net + ship_ex + handling_ex + wrapping_ex;
        let total_inc = (total_ex + tax_total).round_dp(2);
        let total_ex = total_inc - tax_total;
        let (email, first, last) = spec.billing.clone();
        let billing = json!({
            "first_name": first, "last_name": last, "company": "",
            "street_1": "Slovenska cesta 12", "street_2": "", "city": "Ljubljana",
            "state": "", "zip": "1000", "country": "Slovenia", "country_iso2": "SI",
            "phone": "+38640111222", "email": email,
        });
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let currency = spec
            .currency
            .as_ref()
            .map(|c| c.0.clone())
            .unwrap_or_else(|| "EUR".into());
        let status = match spec.status_id {
            1 => "Pending",
            2 => "Shipped",
            5 => "Cancelled",
            10 => "Completed",
            11 => "Awaiting Fulfillment",
            _ => "Awaiting Payment",
        };
        let order = json!({
            "id": id,
            "customer_id": spec.customer_id,
            "date_created": rfc2822(now),
            "date_modified": rfc2822(now),
            "date_shipped": "",
            "status_id": spec.status_id,
            "status": status,
            "subtotal_ex_tax": money(subtotal_ex),
            "subtotal_inc_tax": money(subtotal_inc),
            "subtotal_tax": money(subtotal_inc - subtotal_ex),
            "base_shipping_cost": money(ship_ex),
            "shipping_cost_ex_tax": money(ship_ex),
            "shipping_cost_inc_tax": money(ship_ex + ship_tax),
            "shipping_cost_tax": money(ship_tax),
            "handling_cost_ex_tax": money(handling_ex),
            "handling_cost_inc_tax": money(handling_ex + handling_tax),
            "handling_cost_tax": money(handling_tax),
            "wrapping_cost_ex_tax": money(wrapping_ex),
            "wrapping_cost_inc_tax": money(wrapping_ex + wrapping_tax),
            "wrapping_cost_tax": money(wrapping_tax),
            "total_ex_tax": money(total_ex),
            "total_inc_tax": money(total_inc),
            "total_tax": money(tax_total),
            "items_total": spec.lines.iter().map(|l| l.1).sum::<u32>(),
            "items_shipped": 0,
            "payment_method": spec.payment_method,
            "payment_status": if spec.status_id == 1 { "pending" } else { "captured" },
            "refunded_amount": "0.0000",
            "currency_code": currency,
            "currency_exchange_rate": money(rate_fx),
            "default_currency_code": "EUR",
            "store_default_currency_code": "EUR",
            "discount_amount": "0.0000",
            "coupon_discount": money(discount_net),
            "customer_message": "",
            "billing_address": billing,
        });
        let mut order = order;
        for part in ["products", "shipping_addresses", "coupons"] {
            order[part] = json!({
                "url": format!("https://api.bigcommerce.com/stores/{STORE_HASH}/v2/orders/{id}/{part}"),
                "resource": format!("/orders/{id}/{part}"),
            });
        }
        let mut address = billing.clone();
        if let Some(map) = address.as_object_mut() {
            map.insert("id".into(), json!(address_id));
            map.insert("order_id".into(), json!(id));
            map.insert(
                "shipping_method".into(),
                json!(
                    spec.shipping
                        .as_ref()
                        .map(|s| s.0.clone())
                        .unwrap_or_default()
                ),
            );
        }
        state.addresses.insert(id, vec![address]);
        state.coupons.insert(
            id,
            spec.coupon
                .iter()
                .map(|(code, percent)| json!({"id": 1, "coupon_id": 5, "order_id": id, "code": code, "amount": money(*percent), "type": 1, "discount": money(discount_net)}))
                .collect(),
        );
        state.products.insert(id, products);
        state.orders.insert(id, order.clone());
        order
    }

    pub fn order(&self, id: u64) -> Option<Value> {
        self.lock().orders.get(&id).cloned()
    }

    pub fn order_ids(&self) -> Vec<u64> {
        self.lock().orders.keys().copied().collect()
    }

    pub fn order_products(&self, id: u64) -> Vec<Value> {
        self.lock().products.get(&id).cloned().unwrap_or_default()
    }

    /// Sets an order's `date_modified` (unix seconds).
    pub fn set_modified(&self, id: u64, at: i64) {
        if let Some(order) = self.lock().orders.get_mut(&id) {
            order["date_modified"] = json!(rfc2822(at));
        }
    }

    /// The stock of a variant at a location, as adjustments left it.
    pub fn stock(&self, variant_id: u64, location: u64) -> Option<i64> {
        self.lock()
            .inventory
            .get(&(format!("variant:{variant_id}"), location))
            .copied()
    }

    /// Every adjustment body received.
    pub fn adjustments(&self) -> Vec<Value> {
        self.lock().adjustments.clone()
    }

    pub fn hooks(&self) -> Vec<Value> {
        self.lock().hooks.clone()
    }

    pub fn shipments(&self, order_id: u64) -> Vec<Value> {
        self.lock()
            .shipments
            .get(&order_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Every request so far as `"METHOD /path?query"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// The next `requests` requests get 429.
    pub fn throttle_next(&self, requests: usize) {
        self.lock().throttle = requests;
    }

    /// How many 429s were answered.
    pub fn throttled(&self) -> usize {
        self.lock().throttled
    }

    /// While down, every request gets 503.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// A delivery of `scope` about order `id`, signed now.
    pub fn delivery(&self, scope: &str, id: u64) -> Delivery {
        let at = OffsetDateTime::now_utc().unix_timestamp();
        self.delivery_at(scope, id, at)
    }

    /// A delivery signed with the timestamp `at` (unix seconds).
    pub fn delivery_at(&self, scope: &str, id: u64, at: i64) -> Delivery {
        let n = {
            let mut state = self.lock();
            state.deliveries += 1;
            state.deliveries
        };
        let body = json!({
            "created_at": at,
            "store_id": "1025646",
            "producer": format!("stores/{STORE_HASH}"),
            "scope": scope,
            "hash": format!("{:040x}", (id << 20) + n),
            "data": {"type": "order", "id": id},
        })
        .to_string()
        .into_bytes();
        let webhook_id = format!("msg_{STORE_HASH}_{n}");
        let signature = sign(CLIENT_SECRET, &webhook_id, at, &body);
        Delivery {
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("webhook-id".into(), webhook_id),
                ("webhook-timestamp".into(), at.to_string()),
                ("webhook-signature".into(), format!("v1,{signature}")),
            ],
            body,
        }
    }

    pub async fn deliver(&self, url: &str, delivery: &Delivery) -> anyhow::Result<u16> {
        delivery.send(url, std::time::Duration::from_secs(10)).await
    }

    fn handle(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Reply {
        let path = uri.path().to_owned();
        let query: BTreeMap<String, String> =
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let mut state = self.lock();
        state.requests.push(format!(
            "{method} {}",
            uri.path_and_query().map(|p| p.as_str()).unwrap_or_default()
        ));
        let Some(rest) = path.strip_prefix(&format!("/stores/{STORE_HASH}")) else {
            return v2_error(
                StatusCode::NOT_FOUND,
                "The requested resource was not found.",
            );
        };
        let v3 = rest.starts_with("/v3/");
        if headers.get("x-auth-token").and_then(|v| v.to_str().ok()) != Some(ACCESS_TOKEN) {
            return if v3 {
                v3_error(StatusCode::UNAUTHORIZED, "Unauthorized")
            } else {
                v2_error(
                    StatusCode::UNAUTHORIZED,
                    "You must provide a valid X-Auth-Token in the request headers.",
                )
            };
        }
        if state.down {
            return v2_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
        }
        if state.throttle > 0 {
            state.throttle -= 1;
            state.throttled += 1;
            let (status, mut headers, body) =
                v3_error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            for (name, value) in [
                ("x-rate-limit-time-reset-ms", RESET_MS.to_string()),
                ("x-rate-limit-time-window-ms", "30000".to_owned()),
                ("x-rate-limit-requests-left", "0".to_owned()),
                ("x-rate-limit-requests-quota", "150".to_owned()),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
            return (status, headers, body);
        }
        let json_body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
        match (method.as_str(), parts.as_slice()) {
            ("GET", ["v2", "store"]) => reply(
                StatusCode::OK,
                json!({"id": STORE_HASH, "domain": "shop.example.si", "name": "Kavarna Demo",
                       "currency": "EUR", "weight_units": "kg"}),
            ),
            ("GET", ["v2", "orders"]) => orders_page(&state, &query),
            ("GET", ["v2", "orders", id]) => {
                match id.parse::<u64>().ok().and_then(|id| state.orders.get(&id)) {
                    Some(order) => reply(StatusCode::OK, order.clone()),
                    None => v2_error(
                        StatusCode::NOT_FOUND,
                        "The requested resource was not found.",
                    ),
                }
            }
            ("GET", ["v2", "orders", id, part]) => {
                let Some(id) = id
                    .parse::<u64>()
                    .ok()
                    .filter(|id| state.orders.contains_key(id))
                else {
                    return v2_error(
                        StatusCode::NOT_FOUND,
                        "The requested resource was not found.",
                    );
                };
                let items = match *part {
                    "products" => state.products.get(&id).cloned(),
                    "shipping_addresses" => state.addresses.get(&id).cloned(),
                    "coupons" => state.coupons.get(&id).cloned(),
                    "shipments" => state.shipments.get(&id).cloned(),
                    _ => {
                        return v2_error(
                            StatusCode::NOT_FOUND,
                            "The requested resource was not found.",
                        );
                    }
                };
                list_or_204(items.unwrap_or_default())
            }
            ("POST", ["v2", "orders", id, "shipments"]) => {
                let Some(id) = id
                    .parse::<u64>()
                    .ok()
                    .filter(|id| state.orders.contains_key(id))
                else {
                    return v2_error(
                        StatusCode::NOT_FOUND,
                        "The requested resource was not found.",
                    );
                };
                if json_body["order_address_id"].as_u64().is_none() {
                    return v2_error(
                        StatusCode::BAD_REQUEST,
                        "The field 'order_address_id' is invalid.",
                    );
                }
                let mut shipment = json_body.clone();
                let count = state.shipments.get(&id).map(Vec::len).unwrap_or_default() as u64;
                shipment["id"] = json!(id * 10 + count + 1);
                shipment["order_id"] = json!(id);
                if let Some(items) = json_body["items"].as_array() {
                    let products = state.products.entry(id).or_default();
                    for item in items {
                        if let Some(product) = products
                            .iter_mut()
                            .find(|p| p["id"] == item["order_product_id"])
                        {
                            let shipped = product["quantity_shipped"].as_u64().unwrap_or(0)
                                + item["quantity"].as_u64().unwrap_or(0);
                            product["quantity_shipped"] = json!(shipped);
                        }
                    }
                }
                state
                    .shipments
                    .entry(id)
                    .or_default()
                    .push(shipment.clone());
                reply(StatusCode::CREATED, shipment)
            }
            ("GET", ["v3", "catalog", "products"]) => catalog_page(&state, &query),
            ("GET", ["v3", "hooks"]) => {
                let hooks: Vec<Value> = state
                    .hooks
                    .iter()
                    .filter(|h| {
                        query
                            .get("destination")
                            .is_none_or(|d| h["destination"].as_str() == Some(d.as_str()))
                    })
                    .cloned()
                    .collect();
                let count = hooks.len();
                reply(
                    StatusCode::OK,
                    json!({"data": hooks, "meta": {"pagination": {"total": count, "count": count,
                        "per_page": 50, "current_page": 1, "total_pages": 1}}}),
                )
            }
            ("POST", ["v3", "hooks"]) => {
                let (Some(scope), Some(destination)) = (
                    json_body["scope"].as_str(),
                    json_body["destination"].as_str(),
                ) else {
                    return v3_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "scope and destination are required",
                    );
                };
                if !destination.starts_with("https://") && !destination.starts_with("http://") {
                    return v3_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "destination must be a URL",
                    );
                }
                state.next_id += 1;
                let now = OffsetDateTime::now_utc().unix_timestamp();
                let hook = json!({
                    "id": 25_000 + state.next_id,
                    "client_id": "m9r6keqmo7h7f23btnpwernbez1kglkl",
                    "store_hash": STORE_HASH,
                    "scope": scope,
                    "destination": destination,
                    "headers": json_body["headers"].clone(),
                    "is_active": json_body["is_active"].as_bool().unwrap_or(true),
                    "created_at": now,
                    "updated_at": now,
                });
                state.hooks.push(hook.clone());
                reply(StatusCode::OK, json!({"data": hook, "meta": {}}))
            }
            ("PUT" | "DELETE", ["v3", "hooks", id]) => {
                let Some(position) = state
                    .hooks
                    .iter()
                    .position(|h| h["id"].as_u64().map(|i| i.to_string()).as_deref() == Some(*id))
                else {
                    return v3_error(StatusCode::NOT_FOUND, "Webhook not found");
                };
                if method == Method::DELETE {
                    let hook = state.hooks.remove(position);
                    return reply(StatusCode::OK, json!({"data": hook, "meta": {}}));
                }
                if let (Some(hook), Some(changes)) =
                    (state.hooks.get_mut(position), json_body.as_object())
                {
                    for (key, value) in changes {
                        hook[key] = value.clone();
                    }
                }
                reply(
                    StatusCode::OK,
                    json!({"data": state.hooks[position], "meta": {}}),
                )
            }
            ("PUT", ["v3", "inventory", "adjustments", "absolute"]) => {
                let items = json_body["items"].as_array().cloned().unwrap_or_default();
                if items.len() > MAX_ADJUSTMENT_ITEMS {
                    return v3_error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "The items field must not have more than 2000 items.",
                    );
                }
                // Validated as a whole: the first unknown item refuses the batch.
                for item in &items {
                    let known = if let Some(variant) = item["variant_id"].as_u64() {
                        state.variants.iter().any(|v| v.variant_id == variant)
                    } else if let Some(product) = item["product_id"].as_u64() {
                        state.variants.iter().any(|v| v.product_id == product)
                    } else {
                        false
                    };
                    if !known {
                        let named = item["variant_id"]
                            .as_u64()
                            .map(|id| format!("variant_id {id}"))
                            .or_else(|| {
                                item["product_id"]
                                    .as_u64()
                                    .map(|id| format!("product_id {id}"))
                            })
                            .unwrap_or_else(|| "without id".into());
                        return v3_error(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            &format!("[Item with {named} does not exist]"),
                        );
                    }
                }
                for item in &items {
                    let key = item["variant_id"]
                        .as_u64()
                        .map(|id| format!("variant:{id}"))
                        .or_else(|| {
                            item["product_id"]
                                .as_u64()
                                .map(|id| format!("product:{id}"))
                        })
                        .unwrap_or_default();
                    let location = item["location_id"].as_u64().unwrap_or(LOCATION_ID);
                    let quantity = item["quantity"].as_i64().unwrap_or(0);
                    state.inventory.insert((key, location), quantity);
                }
                state.adjustments.push(json_body.clone());
                reply(
                    StatusCode::OK,
                    json!({"transaction_id": format!("3f9ea420-af83-450d-7ef9-{:012}", state.adjustments.len())}),
                )
            }
            _ => v2_error(
                StatusCode::NOT_FOUND,
                "The requested resource was not found.",
            ),
        }
    }
}

/// `GET /v3/catalog/products?include=variants`: products with their variants, paged
/// with `page`/`limit` and `meta.pagination`. The coffee tracks stock on the product.
fn catalog_page(state: &State, query: &BTreeMap<String, String>) -> Reply {
    let mut products: BTreeMap<u64, Vec<&Variant>> = BTreeMap::new();
    for variant in &state.variants {
        products
            .entry(variant.product_id)
            .or_default()
            .push(variant);
    }
    let with_variants = query
        .get("include")
        .is_some_and(|include| include.split(',').any(|part| part == "variants"));
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 250);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total = products.len();
    let data: Vec<Value> = products
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .map(|(id, variants)| {
            let tracking = if id == 113 { "product" } else { "variant" };
            let level = |v: &Variant| {
                state
                    .inventory
                    .get(&(format!("variant:{}", v.variant_id), LOCATION_ID))
                    .copied()
                    .unwrap_or(0)
            };
            let mut product = json!({
                "id": id,
                "name": variants[0].name.split(' ').next().unwrap_or_default(),
                "type": "physical",
                "sku": variants[0].sku.split('-').next().unwrap_or_default(),
                "price": money(variants[0].price),
                "inventory_tracking": tracking,
                "inventory_level": variants.iter().map(|v| level(v)).sum::<i64>(),
            });
            if with_variants {
                product["variants"] = Value::Array(
                    variants
                        .iter()
                        .map(|v| {
                            let label = v.name.rsplit(' ').next().unwrap_or_default();
                            json!({
                                "id": v.variant_id,
                                "product_id": id,
                                "sku": v.sku,
                                "price": null,
                                "calculated_price": money(v.price),
                                "inventory_level": level(v),
                                "upc": "",
                                "gtin": "",
                                "option_values": if variants.len() > 1 {
                                    json!([{"id": v.variant_id, "label": label, "option_id": 1, "option_display_name": "Size"}])
                                } else {
                                    json!([])
                                },
                            })
                        })
                        .collect(),
                );
            }
            product
        })
        .collect();
    let count = data.len();
    reply(
        StatusCode::OK,
        json!({"data": data, "meta": {"pagination": {
            "total": total, "count": count, "per_page": limit, "current_page": page,
            "total_pages": total.div_ceil(limit),
        }}}),
    )
}

/// `GET /v2/orders`: `min_date_modified`, `sort` (`date_modified:asc` or by id), `page`,
/// `limit` (at most 250), 204 for an empty page.
fn orders_page(state: &State, query: &BTreeMap<String, String>) -> Reply {
    let since = match query.get("min_date_modified") {
        Some(text) => match parse_date(text) {
            Some(at) => Some(at),
            None => {
                return v2_error(
                    StatusCode::BAD_REQUEST,
                    "The field 'min_date_modified' is invalid.",
                );
            }
        },
        None => None,
    };
    let modified = |order: &Value| {
        order["date_modified"]
            .as_str()
            .and_then(parse_date)
            .unwrap_or_default()
    };
    let mut orders: Vec<&Value> = state
        .orders
        .values()
        .filter(|order| since.is_none_or(|since| modified(order) >= since))
        .collect();
    match query.get("sort").map(String::as_str) {
        Some("date_modified:asc") => orders.sort_by_key(|order| modified(order)),
        Some("date_modified:desc") => orders.sort_by_key(|order| -modified(order)),
        _ => {}
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 250);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    list_or_204(
        orders
            .into_iter()
            .skip((page - 1) * limit)
            .take(limit)
            .cloned()
            .collect(),
    )
}

/// The Standard Webhooks signature: base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`
/// keyed with the client secret's bytes.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}
