//! A fake WooCommerce (REST API v3, `/wp-json/wc/v3`) on 127.0.0.1.
//!
//! It keeps a shop in memory and answers the way WooCommerce core does:
//!
//! - **Authentication** as `WC_REST_Authentication`: OAuth 1.0a one-legged (query
//!   parameters, HMAC-SHA1 or HMAC-SHA256, signing key `consumer_secret&`, timestamps
//!   within 15 minutes, nonces used once), because the fake speaks plain HTTP; HTTP Basic
//!   and the `consumer_key`/`consumer_secret` query parameters are accepted too, as on a
//!   site behind a TLS-terminating proxy. Errors carry core's codes and messages.
//! - **Orders**: list with `page`/`per_page` (≤ 100), `modified_after`/`modified_before`/
//!   `after`/`before` (site time, or GMT with `dates_are_gmt`), `status`, `order`,
//!   `orderby`, `include`, `customer`; `X-WP-Total`, `X-WP-TotalPages` and `Link` headers;
//!   one order; `PUT` status and `set_paid` (stock reduced on reaching processing,
//!   completed or on-hold and given back on cancelling, as core does); notes. Totals are
//!   computed as WooCommerce computes them: per-line tax rounding, prices with or
//!   without tax, coupons spread over lines.
//! - **Refunds**: [`FakeWoo::refund_order`] (an amount) and [`FakeWoo::refund_lines`]
//!   (lines, shipping, restock) store refunds as core does: the order lists
//!   `{id, reason, total}`, `GET /orders/{id}/refunds` answers the whole refund with
//!   negative line items naming their order line in `_refunded_item_id`, and a restock
//!   counts the units in the order line's `_restock_refunded_items`.
//! - **Products**: simple and variable products with variations, lists (`include`,
//!   `sku`, `type`), one product (a variation too, as core reads any product), single
//!   `PUT`s and the batch endpoints (at most 100 objects, per-item `error` objects).
//! - **Webhooks**: deliveries with WooCommerce's headers, signed
//!   `base64(HMAC-SHA256(secret, body))`, the body being the API's JSON of the order; the
//!   activation ping (`webhook_id=N`, unsigned). Subscriptions through `GET`/`POST
//!   /webhooks` and `GET`/`PUT`/`DELETE /webhooks/{id}` (deleting needs `force=true`),
//!   with core's validation and error codes; [`FakeWoo::webhooks`] shows them and
//!   [`FakeWoo::webhook_log`] every change made through the API. Creating one pings its
//!   delivery URL, as core does, when that is on this machine.
//! - **Payment gateways** (`GET /payment_gateways`) and WordPress's REST index
//!   (`GET /wp-json/`, the site's name).
//! - **Failures**: [`FakeWoo::set_down`] (503 from the web server),
//!   [`FakeWoo::rate_limit_next`] (429 from a hosting limiter) and
//!   [`FakeWoo::set_key_forbidden`] (403: a key whose user may not manage the shop).
//!
//! JSON is written the way PHP's `json_encode` writes it (`\/` and `\uXXXX` escapes), so a
//! webhook receiver that re-serializes the body before checking the signature fails here
//! as it would against a real shop.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The REST API consumer key the fake accepts.
pub const CONSUMER_KEY: &str = "ck_2f6c1b0d9e8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e";
/// The consumer secret belonging to [`CONSUMER_KEY`].
pub const CONSUMER_SECRET: &str = "cs_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b";
/// The secret every webhook of the fake signs its deliveries with.
pub const WEBHOOK_SECRET: &str = "whsec-woo-6c1b0f1e4d1e2b0a";

/// The site's name, as WordPress's REST index (`GET /wp-json/`) gives it.
pub const SITE_NAME: &str = "Trgovina Kovač";

/// The REST namespace every API path starts with.
const API_PREFIX: &str = "/wp-json/wc/v3";
/// WordPress's REST index.
const WP_INDEX: &str = "/wp-json";
/// Core's `per_page` maximum and batch limit.
const MAX_PER_PAGE: usize = 100;
const BATCH_LIMIT: usize = 100;
/// `WC_REST_Authentication::check_oauth_timestamp_and_nonce`: 15 minutes either way.
const OAUTH_WINDOW_SECS: i64 = 15 * 60;
/// The site's time zone: a fixed CET offset, so that local and GMT dates differ (as on a
/// shop in Ljubljana) and a client that reads the local fields shows it.
const SITE_OFFSET_HOURS: i8 = 1;
const WC_VERSION: &str = "9.6.0";
const WP_VERSION: &str = "6.7.1";

/// Order statuses core accepts in `status` filters and updates.
const ORDER_STATUSES: &[&str] = &[
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
    "checkout-draft",
];

type HmacSha256 = Hmac<Sha256>;
type HmacSha1 = Hmac<sha1::Sha1>;

pub use crate::webhook::Delivery;

/// One thing the shop sells, from [`FakeWoo::catalog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub product_id: u64,
    pub variation_id: Option<u64>,
    pub sku: String,
    pub name: String,
    /// The regular price, as WooCommerce shows it.
    pub price: String,
}

/// What a refund gives back; see [`FakeWoo::refund_lines`].
#[derive(Debug, Clone, Default)]
pub struct RefundSpec {
    reason: String,
    lines: Vec<(u64, u32)>,
    shipping: bool,
    restock: bool,
}

impl RefundSpec {
    /// A refund with a reason (may be empty) and nothing refunded yet.
    pub fn new(reason: &str) -> Self {
        Self {
            reason: reason.into(),
            ..Self::default()
        }
    }

    /// Refunds `quantity` units of the order line `line_id` (its `line_items[].id`), at
    /// the price paid for them, tax included.
    pub fn line(mut self, line_id: u64, quantity: u32) -> Self {
        self.lines.push((line_id, quantity));
        self
    }

    /// Refunds all shipping, tax included.
    pub fn shipping(mut self) -> Self {
        self.shipping = true;
        self
    }

    /// Puts the refunded units back to stock ("Restock refunded items"); core does so
    /// only for products that manage stock.
    pub fn restock(mut self, restock: bool) -> Self {
        self.restock = restock;
        self
    }
}

/// What a call to the webhooks API changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAction {
    Created,
    Updated,
    Deleted,
    /// The activation ping core sends to a new webhook's delivery URL (sent only to
    /// receivers on this machine).
    Pinged,
}

/// One entry of [`FakeWoo::webhook_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookChange {
    pub action: WebhookAction,
    pub id: u64,
    pub topic: String,
    pub delivery_url: String,
}

/// A postal address for [`OrderSpec`], in WooCommerce's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub email: String,
    pub phone: String,
}

impl Default for AddressSpec {
    fn default() -> Self {
        Self {
            first_name: "Ana".into(),
            last_name: "Novak".into(),
            company: String::new(),
            address_1: "Slovenska cesta 12a".into(),
            address_2: String::new(),
            city: "Ljubljana".into(),
            state: String::new(),
            postcode: "1000".into(),
            country: "SI".into(),
            email: "ana.novak@example.test".into(),
            phone: "+38640111222".into(),
        }
    }
}

impl AddressSpec {
    /// An address with the given name, street line, town and country; the rest default.
    pub fn new(
        first_name: &str,
        last_name: &str,
        address_1: &str,
        postcode: &str,
        city: &str,
        country: &str,
    ) -> Self {
        let email = format!(
            "{}.{}@example.test",
            first_name.to_lowercase(),
            last_name.to_lowercase()
        );
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            address_1: address_1.into(),
            postcode: postcode.into(),
            city: city.into(),
            country: country.into(),
            email,
            ..Self::default()
        }
    }
}

/// What to put into an order; [`FakeWoo::create_order`] computes the rest.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    lines: Vec<(u64, Option<u64>, u32)>,
    customer_id: u64,
    billing: AddressSpec,
    shipping_address: Option<AddressSpec>,
    coupons: Vec<String>,
    shipping: Vec<(String, String)>,
    fees: Vec<(String, String)>,
    currency: String,
    status: String,
    payment: (String, String),
    paid: Option<bool>,
    prices_include_tax: bool,
    customer_note: String,
}

impl Default for OrderSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderSpec {
    /// A guest order in EUR, `processing`, cash on delivery, prices without tax.
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            customer_id: 0,
            billing: AddressSpec::default(),
            shipping_address: None,
            coupons: Vec::new(),
            shipping: Vec::new(),
            fees: Vec::new(),
            currency: "EUR".into(),
            status: "processing".into(),
            payment: ("cod".into(), "Cash on delivery".into()),
            paid: None,
            prices_include_tax: false,
            customer_note: String::new(),
        }
    }

    /// A line: a simple product (`variation_id` `None`) or a variation of a variable one.
    pub fn line(mut self, product_id: u64, variation_id: Option<u64>, quantity: u32) -> Self {
        self.lines.push((product_id, variation_id, quantity));
        self
    }

    /// A registered customer (`Some(id)`) or a guest checkout (`None`, customer id 0).
    pub fn customer(mut self, customer_id: Option<u64>) -> Self {
        self.customer_id = customer_id.unwrap_or(0);
        self
    }

    /// A guest checkout with the given billing address.
    pub fn guest(mut self, billing: AddressSpec) -> Self {
        self.customer_id = 0;
        self.billing = billing;
        self
    }

    /// The billing address (also the shipping address unless [`Self::ship_to`] is set).
    pub fn billing(mut self, billing: AddressSpec) -> Self {
        self.billing = billing;
        self
    }

    /// A shipping address different from the billing one.
    pub fn ship_to(mut self, address: AddressSpec) -> Self {
        self.shipping_address = Some(address);
        self
    }

    /// A coupon code; it must exist in the shop (see [`FakeWoo::add_coupon`]).
    pub fn coupon(mut self, code: &str) -> Self {
        self.coupons.push(code.into());
        self
    }

    /// A shipping line (`flat_rate`), `amount` without tax; taxed at the standard rate.
    pub fn shipping(mut self, method_title: &str, amount: &str) -> Self {
        self.shipping.push((method_title.into(), amount.into()));
        self
    }

    /// A fee line, `amount` without tax (may be negative); taxed at the standard rate.
    pub fn fee(mut self, name: &str, amount: &str) -> Self {
        self.fees.push((name.into(), amount.into()));
        self
    }

    pub fn currency(mut self, currency: &str) -> Self {
        self.currency = currency.into();
        self
    }

    pub fn status(mut self, status: &str) -> Self {
        self.status = status.into();
        self
    }

    /// The payment gateway id and title (`"bacs"`, `"Direct bank transfer"`).
    pub fn payment(mut self, method: &str, title: &str) -> Self {
        self.payment = (method.into(), title.into());
        self
    }

    /// Whether `date_paid` is set. Without this, WooCommerce's rule applies: an order
    /// reaching `processing` or `completed` counts as paid.
    pub fn paid(mut self, paid: bool) -> Self {
        self.paid = Some(paid);
        self
    }

    /// Whether catalog prices are read as including tax (the shop's tax setting).
    pub fn prices_include_tax(mut self, include: bool) -> Self {
        self.prices_include_tax = include;
        self
    }

    pub fn customer_note(mut self, note: &str) -> Self {
        self.customer_note = note.into();
        self
    }
}

/// How a coupon discounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponKind {
    /// `percent`: a percentage of each line.
    Percent,
    /// `fixed_cart`: an amount spread over the lines in proportion to their price.
    FixedCart,
    /// `fixed_product`: an amount per unit.
    FixedProduct,
}

#[derive(Debug, Clone)]
struct Coupon {
    kind: CouponKind,
    amount: Decimal,
}

#[derive(Debug, Clone)]
struct TaxRate {
    id: u64,
    class: &'static str,
    percent: Decimal,
    label: &'static str,
    code: String,
}

#[derive(Debug, Clone)]
struct Product {
    id: u64,
    name: String,
    sku: String,
    price: Decimal,
    tax_class: String,
    manage_stock: bool,
    stock: Option<i64>,
    variable: Option<VariableInfo>,
    created: OffsetDateTime,
    modified: OffsetDateTime,
}

#[derive(Debug, Clone)]
struct VariableInfo {
    attribute: String,
    variations: Vec<u64>,
}

#[derive(Debug, Clone)]
struct Variation {
    id: u64,
    parent: u64,
    sku: String,
    option: String,
    price: Decimal,
    manage_stock: bool,
    stock: Option<i64>,
    created: OffsetDateTime,
    modified: OffsetDateTime,
}

/// A stored order: its API JSON plus the columns the list filters on, kept in step.
#[derive(Debug, Clone)]
struct StoredOrder {
    json: Value,
    status: String,
    customer_id: u64,
    created_gmt: String,
    modified_gmt: String,
    created_local: String,
    modified_local: String,
}

impl StoredOrder {
    fn new(json: Value) -> Self {
        let text = |key: &str| json[key].as_str().unwrap_or_default().to_owned();
        Self {
            status: text("status"),
            customer_id: json["customer_id"].as_u64().unwrap_or(0),
            created_gmt: text("date_created_gmt"),
            modified_gmt: text("date_modified_gmt"),
            created_local: text("date_created"),
            modified_local: text("date_modified"),
            json,
        }
    }
}

/// A webhook subscription (`wc_webhooks`).
#[derive(Debug, Clone)]
struct Webhook {
    id: u64,
    name: String,
    /// `active`, `paused` or `disabled`.
    status: String,
    topic: String,
    delivery_url: String,
    secret: String,
    created: OffsetDateTime,
    modified: OffsetDateTime,
}

#[derive(Debug, Default)]
struct RateLimit {
    remaining: usize,
    retry_after_secs: Option<u64>,
}

#[derive(Debug)]
struct Shop {
    base_url: String,
    products: BTreeMap<u64, Product>,
    variations: BTreeMap<u64, Variation>,
    orders: BTreeMap<u64, StoredOrder>,
    notes: HashMap<u64, Vec<Value>>,
    coupons: HashMap<String, Coupon>,
    tax_rates: Vec<TaxRate>,
    /// WordPress posts (products, variations, orders, refunds) share one id sequence.
    next_post_id: u64,
    next_item_id: u64,
    next_comment_id: u64,
    used_nonces: HashMap<String, i64>,
    deliveries: u64,
    down: bool,
    /// Authenticated requests answer 403: the key's user may not manage the shop.
    forbidden: bool,
    rate_limit: RateLimit,
    requests: Vec<String>,
    /// Refunds per order, newest first (`shop_order_refund` posts).
    refunds: HashMap<u64, Vec<Value>>,
    /// Orders whose stock was reduced (core's `_order_stock_reduced`).
    stock_reduced: HashSet<u64>,
    webhooks: BTreeMap<u64, Webhook>,
    next_webhook_id: u64,
    webhook_log: Vec<WebhookChange>,
    payment_gateways: Vec<Value>,
}

/// The fake shop. Clones share the same shop.
#[derive(Clone)]
pub struct FakeWoo {
    shop: Arc<Mutex<Shop>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakeWoo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeWoo").field("addr", &self.addr).finish()
    }
}

impl FakeWoo {
    /// An empty shop (no products, no orders) with Slovenian VAT rates (22 % standard,
    /// 9.5 % `reduced-rate`) and the coupons `POLETJE10` (10 %), `MINUS5` (5 off the cart)
    /// and `EUR2` (2 off each unit).
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the fake WooCommerce to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let mut shop = Shop {
            base_url,
            products: BTreeMap::new(),
            variations: BTreeMap::new(),
            orders: BTreeMap::new(),
            notes: HashMap::new(),
            coupons: HashMap::new(),
            tax_rates: vec![
                TaxRate {
                    id: 1,
                    class: "",
                    percent: Decimal::new(22, 0),
                    label: "DDV",
                    code: "SI-DDV-1".into(),
                },
                TaxRate {
                    id: 2,
                    class: "reduced-rate",
                    percent: Decimal::new(95, 1),
                    label: "DDV",
                    code: "SI-DDV 9,5%-2".into(),
                },
            ],
            next_post_id: 10,
            next_item_id: 1,
            next_comment_id: 1,
            used_nonces: HashMap::new(),
            deliveries: 0,
            down: false,
            forbidden: false,
            rate_limit: RateLimit::default(),
            requests: Vec::new(),
            refunds: HashMap::new(),
            stock_reduced: HashSet::new(),
            webhooks: BTreeMap::new(),
            next_webhook_id: 1,
            webhook_log: Vec::new(),
            payment_gateways: default_payment_gateways(),
        };
        shop.coupons.insert(
            "poletje10".into(),
            Coupon {
                kind: CouponKind::Percent,
                amount: Decimal::new(10, 0),
            },
        );
        shop.coupons.insert(
            "minus5".into(),
            Coupon {
                kind: CouponKind::FixedCart,
                amount: Decimal::new(5, 0),
            },
        );
        shop.coupons.insert(
            "eur2".into(),
            Coupon {
                kind: CouponKind::FixedProduct,
                amount: Decimal::new(2, 0),
            },
        );
        let fake = Self {
            shop: Arc::new(Mutex::new(shop)),
            addr,
        };
        let app = Router::new().fallback(handle).with_state(fake.clone());
        crate::serve_in_background("WooCommerce", listener, app);
        Ok(fake)
    }

    /// A realistic shop: a T-shirt in S/M/L and a mug in three colours (variable), simple
    /// products at the standard and the reduced rate (a book, coffee), and orders: a
    /// registered customer with a coupon, guest checkouts, prices with tax, a fee, a
    /// refunded, a partially refunded, a cancelled, an on-hold bank transfer, a pending
    /// order and one in USD.
    pub async fn start_seeded() -> anyhow::Result<Self> {
        let fake = Self::start().await?;
        let (shirt, shirts) = fake.add_variable_product_with_attribute(
            "T-shirt",
            "Size",
            &[
                ("TS-S", "S", "15.00", Some(20)),
                ("TS-M", "M", "15.00", Some(35)),
                ("TS-L", "L", "16.50", Some(12)),
            ],
        );
        let (mug, mugs) = fake.add_variable_product_with_attribute(
            "Mug",
            "Color",
            &[
                ("MUG-BLU", "Blue", "9.99", Some(40)),
                ("MUG-RED", "Red", "9.99", Some(8)),
                ("MUG-GRN", "Green", "10.49", None),
            ],
        );
        let cap = fake.add_simple_product("CAP-01", "Baseball cap", "12.90", Some(25));
        let poster = fake.add_simple_product("POSTER-A2", "Poster A2", "7.50", None);
        let book = fake.add_simple_product("BOOK-KUH", "Cookbook", "24.90", Some(10));
        fake.set_tax_class(book, "reduced-rate");
        let coffee = fake.add_simple_product("COF-250", "Coffee beans 250 g", "8.40", Some(60));
        fake.set_tax_class(coffee, "reduced-rate");

        let at = |index: usize| shirts.get(index).copied();
        let mug_at = |index: usize| mugs.get(index).copied();
        let customer = AddressSpec::new(
            "Ana",
            "Novak",
            "Slovenska cesta 12a",
            "1000",
            "Ljubljana",
            "SI",
        );
        fake.create_order(
            &OrderSpec::new()
                .customer(Some(7))
                .billing(customer.clone())
                .line(shirt, at(1), 2)
                .line(mug, mug_at(0), 1)
                .coupon("POLETJE10")
                .shipping("GLS", "4.05")
                .payment("bacs", "Direct bank transfer")
                .customer_note("Please ring twice."),
        );
        fake.create_order(
            &OrderSpec::new()
                .guest(AddressSpec::new(
                    "Marko", "Kovač", "Trg 1", "4000", "Kranj", "SI",
                ))
                .line(book, None, 1)
                .line(coffee, None, 3)
                .shipping("Pošta Slovenije", "3.50")
                .fee("Cash on delivery fee", "1.50"),
        );
        fake.create_order(
            &OrderSpec::new()
                .guest(AddressSpec::new(
                    "Ivana",
                    "Horvat",
                    "Ilica 242",
                    "10000",
                    "Zagreb",
                    "HR",
                ))
                .prices_include_tax(true)
                .line(mug, mug_at(1), 2)
                .line(cap, None, 1)
                .coupon("MINUS5")
                .shipping("GLS", "5.00")
                .payment("stripe", "Credit card (Stripe)"),
        );
        let refunded = fake.create_order(
            &OrderSpec::new()
                .customer(Some(12))
                .billing(AddressSpec::new(
                    "Luka",
                    "Zupan",
                    "Celovška cesta 150",
                    "1000",
                    "Ljubljana",
                    "SI",
                ))
                .line(poster, None, 2)
                .shipping("GLS", "4.05")
                .payment("stripe", "Credit card (Stripe)"),
        );
        let partial = fake.create_order(
            &OrderSpec::new()
                .guest(AddressSpec::new(
                    "Petra",
                    "Kos",
                    "Prešernova ulica 5",
                    "2000",
                    "Maribor",
                    "SI",
                ))
                .line(shirt, at(2), 1)
                .line(shirt, at(0), 1)
                .shipping("GLS", "4.05")
                .payment("paypal", "PayPal"),
        );
        fake.create_order(
            &OrderSpec::new()
                .guest(AddressSpec::new(
                    "Jana",
                    "Mlakar",
                    "Glavni trg 3",
                    "3000",
                    "Celje",
                    "SI",
                ))
                .line(cap, None, 1)
                .status("cancelled")
                .paid(false),
        );
        fake.create_order(
            &OrderSpec::new()
                .customer(Some(7))
                .billing(customer)
                .line(coffee, None, 2)
                .coupon("EUR2")
                .status("on-hold")
                .payment("bacs", "Direct bank transfer"),
        );
        fake.create_order(
            &OrderSpec::new()
                .guest(AddressSpec::new(
                    "John",
                    "Smith",
                    "221 Baker Street",
                    "NW1 6XE",
                    "London",
                    "GB",
                ))
                .line(shirt, at(1), 3)
                .shipping("International", "12.00")
                .currency("USD")
                .payment("stripe", "Credit card (Stripe)"),
        );
        fake.create_order(
            &OrderSpec::new()
                .guest(AddressSpec::new(
                    "Nina",
                    "Golob",
                    "Cankarjeva 7",
                    "6000",
                    "Koper",
                    "SI",
                ))
                .line(book, None, 1)
                .status("pending")
                .payment("bacs", "Direct bank transfer"),
        );
        if let Some(id) = refunded["id"].as_u64() {
            let total = refunded["total"].as_str().unwrap_or("0").to_owned();
            fake.refund_order(id, &total, "Customer changed their mind");
        }
        if let Some(id) = partial["id"].as_u64() {
            fake.refund_order(id, "5.00", "Print faded");
        }
        Ok(fake)
    }

    /// The site URL, `http://127.0.0.1:PORT` (the API is under `/wp-json/wc/v3`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, Shop> {
        self.shop
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a coupon (codes are case-insensitive, as in WooCommerce).
    pub fn add_coupon(&self, code: &str, kind: CouponKind, amount: &str) {
        let amount = dec(amount);
        self.lock()
            .coupons
            .insert(code.to_lowercase(), Coupon { kind, amount });
    }

    /// Adds a simple product; `stock` `None` means WooCommerce does not manage its stock.
    pub fn add_simple_product(
        &self,
        sku: &str,
        name: &str,
        price: &str,
        stock: Option<i64>,
    ) -> u64 {
        let mut shop = self.lock();
        let id = shop.post_id();
        let now = OffsetDateTime::now_utc();
        shop.products.insert(
            id,
            Product {
                id,
                name: name.into(),
                sku: sku.into(),
                price: dec(price),
                tax_class: String::new(),
                manage_stock: stock.is_some(),
                stock,
                variable: None,
                created: now,
                modified: now,
            },
        );
        id
    }

    /// Adds a variable product with one attribute (`"Option"`) and its variations
    /// `(sku, attribute value, price, stock)`; returns the parent's and the variations' ids.
    pub fn add_variable_product(
        &self,
        name: &str,
        variations: &[(&str, &str, &str, Option<i64>)],
    ) -> (u64, Vec<u64>) {
        self.add_variable_product_with_attribute(name, "Option", variations)
    }

    /// [`Self::add_variable_product`] with the attribute's name (`"Size"`, `"Color"`).
    pub fn add_variable_product_with_attribute(
        &self,
        name: &str,
        attribute: &str,
        variations: &[(&str, &str, &str, Option<i64>)],
    ) -> (u64, Vec<u64>) {
        let mut shop = self.lock();
        let parent = shop.post_id();
        let now = OffsetDateTime::now_utc();
        let mut ids = Vec::with_capacity(variations.len());
        for (sku, option, price, stock) in variations {
            let id = shop.post_id();
            shop.variations.insert(
                id,
                Variation {
                    id,
                    parent,
                    sku: (*sku).into(),
                    option: (*option).into(),
                    price: dec(price),
                    manage_stock: stock.is_some(),
                    stock: *stock,
                    created: now,
                    modified: now,
                },
            );
            ids.push(id);
        }
        shop.products.insert(
            parent,
            Product {
                id: parent,
                name: name.into(),
                sku: String::new(),
                price: Decimal::ZERO,
                tax_class: String::new(),
                manage_stock: false,
                stock: None,
                variable: Some(VariableInfo {
                    attribute: attribute.into(),
                    variations: ids.clone(),
                }),
                created: now,
                modified: now,
            },
        );
        (parent, ids)
    }

    /// Sets a product's tax class (`""` standard, `"reduced-rate"`); its variations follow.
    pub fn set_tax_class(&self, product_id: u64, tax_class: &str) {
        if let Some(product) = self.lock().products.get_mut(&product_id) {
            product.tax_class = tax_class.into();
        }
    }

    /// What the shop sells: every simple product and every variation (not the variable
    /// parents, which are not sold themselves), in id order.
    pub fn catalog(&self) -> Vec<CatalogEntry> {
        let shop = self.lock();
        let mut entries = Vec::new();
        for product in shop.products.values() {
            match &product.variable {
                None => entries.push(CatalogEntry {
                    product_id: product.id,
                    variation_id: None,
                    sku: product.sku.clone(),
                    name: product.name.clone(),
                    price: product.price.to_string(),
                }),
                Some(variable) => {
                    for variation in variable
                        .variations
                        .iter()
                        .filter_map(|id| shop.variations.get(id))
                    {
                        entries.push(CatalogEntry {
                            product_id: product.id,
                            variation_id: Some(variation.id),
                            sku: variation.sku.clone(),
                            name: format!("{} - {}", product.name, variation.option),
                            price: variation.price.to_string(),
                        });
                    }
                }
            }
        }
        entries
    }

    /// The stock WooCommerce holds for a product or a variation; `None` when unknown or
    /// not managed.
    pub fn stock(&self, product_id: u64, variation_id: Option<u64>) -> Option<i64> {
        let shop = self.lock();
        match variation_id {
            Some(id) => shop
                .variations
                .get(&id)
                .filter(|variation| variation.parent == product_id && variation.manage_stock)
                .and_then(|variation| variation.stock),
            None => shop
                .products
                .get(&product_id)
                .filter(|product| product.manage_stock)
                .and_then(|product| product.stock),
        }
    }

    /// Creates an order as a checkout would, stores it and returns its API JSON.
    /// Unknown products are left out and unknown coupons ignored (with a warning).
    pub fn create_order(&self, spec: &OrderSpec) -> Value {
        let mut shop = self.lock();
        let order = shop.build_order(spec);
        let id = order["id"].as_u64().unwrap_or(0);
        shop.orders.insert(id, StoredOrder::new(order.clone()));
        order
    }

    /// Changes a stored order (any field of its JSON) and bumps `date_modified(_gmt)`.
    /// Returns the new JSON; `Value::Null` when there is no such order.
    pub fn update_order(&self, id: u64, change: impl FnOnce(&mut Value)) -> Value {
        let mut shop = self.lock();
        let Some(stored) = shop.orders.get_mut(&id) else {
            return Value::Null;
        };
        let mut json = stored.json.clone();
        change(&mut json);
        set_dates(&mut json, "date_modified", OffsetDateTime::now_utc());
        *stored = StoredOrder::new(json.clone());
        json
    }

    /// Records a refund of `amount` (positive, e.g. `"5.00"`) without lines, as a refund
    /// of an amount in the admin; a refund of the whole remaining total makes the order
    /// `refunded`, as in WooCommerce. Returns the order's new JSON (`Value::Null` when
    /// there is no such order).
    pub fn refund_order(&self, id: u64, amount: &str, reason: &str) -> Value {
        let mut shop = self.lock();
        let refund = shop.create_refund(id, &RefundSpec::new(reason), Some(dec(amount)));
        if refund.is_null() {
            return Value::Null;
        }
        shop.orders
            .get(&id)
            .map(|stored| stored.json.clone())
            .unwrap_or(Value::Null)
    }

    /// Records a refund of order lines (and shipping), as the admin's refund form makes
    /// one: each line at the price paid for it, tax included; with `restock`, units of
    /// products that manage stock go back to stock. Returns the refund as `GET
    /// /orders/{id}/refunds/{refund}` shows it (`Value::Null` when there is no such
    /// order).
    pub fn refund_lines(&self, order_id: u64, refund: &RefundSpec) -> Value {
        self.lock().create_refund(order_id, refund, None)
    }

    /// The order's refunds as `GET /orders/{id}/refunds` lists them, newest first.
    pub fn refunds(&self, order_id: u64) -> Vec<Value> {
        self.lock()
            .refunds
            .get(&order_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The webhooks, by id, as `GET /webhooks/{id}` shows them with `context=edit`
    /// (their secret included).
    pub fn webhooks(&self) -> Vec<Value> {
        let shop = self.lock();
        shop.webhooks
            .values()
            .map(|webhook| shop.webhook_json(webhook, true))
            .collect()
    }

    /// Every change made through the webhooks API, oldest first.
    pub fn webhook_log(&self) -> Vec<WebhookChange> {
        self.lock().webhook_log.clone()
    }

    /// Adds an active webhook as the shop owner would in the admin (not in the log,
    /// no ping), signed with [`WEBHOOK_SECRET`]; its id.
    pub fn add_webhook(&self, topic: &str, delivery_url: &str) -> u64 {
        let mut shop = self.lock();
        let id = shop.next_webhook_id;
        shop.next_webhook_id += 1;
        let now = OffsetDateTime::now_utc();
        shop.webhooks.insert(
            id,
            Webhook {
                id,
                name: format!("Added in the admin: {topic}"),
                status: "active".into(),
                topic: topic.into(),
                delivery_url: delivery_url.into(),
                secret: WEBHOOK_SECRET.into(),
                created: now,
                modified: now,
            },
        );
        id
    }

    /// Deletes a webhook as the shop owner would in the admin (not in the log); whether
    /// there was one.
    pub fn remove_webhook(&self, id: u64) -> bool {
        self.lock().webhooks.remove(&id).is_some()
    }

    /// Sets a webhook's status: `"disabled"` is what core does after repeated failed
    /// deliveries, `"paused"` what the shop owner can.
    pub fn set_webhook_status(&self, id: u64, status: &str) {
        if let Some(webhook) = self.lock().webhooks.get_mut(&id) {
            webhook.status = status.into();
        }
    }

    /// Adds a payment gateway, or changes the title and state of one.
    pub fn set_payment_gateway(&self, id: &str, title: &str, enabled: bool) {
        let mut shop = self.lock();
        let gateways = &mut shop.payment_gateways;
        match gateways
            .iter_mut()
            .find(|gateway| gateway["id"].as_str() == Some(id))
        {
            Some(gateway) => {
                gateway["title"] = json!(title);
                gateway["enabled"] = json!(enabled);
            }
            None => {
                let order = gateways.len();
                gateways.push(gateway_json(id, title, title, enabled, order));
            }
        }
    }

    /// While `forbidden`, authenticated requests answer 403, as for a key whose user may
    /// not manage the shop (a customer's key).
    pub fn set_key_forbidden(&self, forbidden: bool) {
        self.lock().forbidden = forbidden;
    }

    /// The stored order's API JSON.
    pub fn order(&self, id: u64) -> Option<Value> {
        self.lock()
            .orders
            .get(&id)
            .map(|stored| stored.json.clone())
    }

    /// The ids of every order not in the trash, oldest first.
    pub fn order_ids(&self) -> Vec<u64> {
        self.lock()
            .orders
            .iter()
            .filter(|(_, stored)| stored.status != "trash")
            .map(|(id, _)| *id)
            .collect()
    }

    /// Moves an order to the trash (status `trash`, not listed by `status=any`).
    pub fn trash_order(&self, id: u64) {
        self.update_order(id, |order| order["status"] = json!("trash"));
    }

    /// The order's notes, newest first (as `GET /orders/{id}/notes` lists them).
    pub fn notes(&self, id: u64) -> Vec<Value> {
        let mut notes = self.lock().notes.get(&id).cloned().unwrap_or_default();
        notes.reverse();
        notes
    }

    /// A webhook delivery for an order topic (`order.created`, `order.updated`,
    /// `order.deleted`, `order.restored`): WooCommerce's headers, the body being the order
    /// as `GET /orders/{id}` answers (only `{"id": N}` for `order.deleted`), signed with
    /// [`WEBHOOK_SECRET`].
    pub fn delivery(&self, topic: &str, order_id: u64) -> Delivery {
        let mut shop = self.lock();
        shop.deliveries += 1;
        let counter = shop.deliveries;
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        let body = if event == "deleted" {
            json!({ "id": order_id })
        } else {
            shop.orders
                .get(&order_id)
                .map(|stored| stored.json.clone())
                .unwrap_or_else(|| json!({ "id": order_id }))
        };
        let body = php_json(&body).into_bytes();
        let webhook_id = match topic {
            "order.created" => 1,
            "order.updated" => 2,
            "order.deleted" => 3,
            "order.restored" => 4,
            _ => 9,
        };
        // Core: wp_hash( webhook id . strtotime('now') ). A counter keeps two deliveries
        // within one second apart, which core does not guarantee.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let delivery_id = hex::encode(Sha256::digest(format!("{webhook_id}{now}/{counter}")));
        let headers = vec![
            ("Content-Type".into(), "application/json".into()),
            ("User-Agent".into(), user_agent()),
            ("X-WC-Webhook-Source".into(), format!("{}/", shop.base_url)),
            ("X-WC-Webhook-Topic".into(), topic.into()),
            ("X-WC-Webhook-Resource".into(), resource.into()),
            ("X-WC-Webhook-Event".into(), event.into()),
            ("X-WC-Webhook-Signature".into(), sign_webhook(&body)),
            ("X-WC-Webhook-ID".into(), webhook_id.to_string()),
            (
                "X-WC-Webhook-Delivery-ID".into(),
                delivery_id[..32].to_owned(),
            ),
        ];
        Delivery { headers, body }
    }

    /// The ping WooCommerce sends when a webhook is activated: `webhook_id=N`, form
    /// encoded, no signature and no `X-WC-*` headers.
    pub fn ping(&self, webhook_id: u64) -> Delivery {
        Delivery {
            headers: vec![
                ("User-Agent".into(), user_agent()),
                // Added by the HTTP library for an array body, not by WooCommerce.
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded; charset=UTF-8".into(),
                ),
            ],
            body: format!("webhook_id={webhook_id}").into_bytes(),
        }
    }

    /// POSTs a delivery to `hook_url`; the receiver's status code.
    pub async fn deliver(&self, hook_url: &str, delivery: &Delivery) -> anyhow::Result<u16> {
        delivery
            .send(hook_url, std::time::Duration::from_secs(60))
            .await
    }

    /// While `down`, every API request answers 503 with the web server's HTML page.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next `requests` API requests answer 429 (a hosting or WAF limiter), with
    /// `Retry-After` when given.
    pub fn rate_limit_next(&self, requests: usize, retry_after_secs: Option<u64>) {
        self.lock().rate_limit = RateLimit {
            remaining: requests,
            retry_after_secs,
        };
    }

    /// Every API request so far, as `"METHOD /path?query"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }
}

fn user_agent() -> String {
    format!("WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})")
}

/// `base64(HMAC-SHA256(WEBHOOK_SECRET, body))`, as `WC_Webhook::generate_signature`.
fn sign_webhook(body: &[u8]) -> String {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(WEBHOOK_SECRET.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn dec(text: &str) -> Decimal {
    text.trim().parse().unwrap_or_else(|_| {
        tracing::warn!(
            text,
            "the fake WooCommerce got an amount that is not a number"
        );
        Decimal::ZERO
    })
}

/// PHP's `round()`: half away from zero, to cents.
fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount as the API writes it with `dp=2`: `"45.90"`.
fn money(value: Decimal) -> Decimal {
    round2(value)
}

fn amount(value: Decimal) -> String {
    format!("{:.2}", round2(value))
}

/// A tax amount as stored (unrounded, like the line's `taxes[].total`): `"10.098"`.
fn raw_amount(value: Decimal) -> String {
    value
        .round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

/// A percentage as a JSON number: `22`, `9.5`.
fn percent_json(value: Decimal) -> Value {
    let text = value.normalize().to_string();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn site_offset() -> UtcOffset {
    UtcOffset::from_hms(SITE_OFFSET_HOURS, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// `2025-03-02T09:15:00`: WordPress's date format, no zone.
fn naive(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

fn local(at: OffsetDateTime) -> String {
    naive(at.to_offset(site_offset()))
}

fn gmt(at: OffsetDateTime) -> String {
    naive(at.to_offset(UtcOffset::UTC))
}

/// Sets `{field}` (site time) and `{field}_gmt`.
fn set_dates(json: &mut Value, field: &str, at: OffsetDateTime) {
    json[field] = json!(local(at));
    json[format!("{field}_gmt")] = json!(gmt(at));
}

impl Shop {
    fn post_id(&mut self) -> u64 {
        let id = self.next_post_id;
        self.next_post_id += 1;
        id
    }

    fn item_id(&mut self) -> u64 {
        let id = self.next_item_id;
        self.next_item_id += 1;
        id
    }

    fn rate_for(&self, tax_class: &str) -> Option<TaxRate> {
        self.tax_rates
            .iter()
            .find(|rate| rate.class == tax_class)
            .cloned()
    }

    fn standard_rate(&self) -> Option<TaxRate> {
        self.rate_for("")
    }

    /// Builds an order's JSON the way WooCommerce totals a cart.
    fn build_order(&mut self, spec: &OrderSpec) -> Value {
        struct Line {
            id: u64,
            name: String,
            product_id: u64,
            variation_id: u64,
            quantity: u32,
            sku: String,
            tax_class: String,
            rate: Option<TaxRate>,
            base: Decimal,
            discount: Decimal,
            /// Discount per coupon, in the same tax basis as `base`.
            coupon_discounts: Vec<Decimal>,
            meta: Value,
            parent_name: Value,
        }

        let id = self.post_id();
        let now = OffsetDateTime::now_utc();
        let incl = spec.prices_include_tax;
        let mut lines = Vec::new();
        for &(product_id, variation_id, quantity) in &spec.lines {
            let Some(product) = self.products.get(&product_id).cloned() else {
                tracing::warn!(product_id, "the fake WooCommerce has no such product");
                continue;
            };
            let (name, sku, price, meta, parent_name, variation) = match variation_id {
                Some(variation_id) => {
                    let Some(variation) = self
                        .variations
                        .get(&variation_id)
                        .filter(|variation| variation.parent == product_id)
                        .cloned()
                    else {
                        tracing::warn!(variation_id, "the fake WooCommerce has no such variation");
                        continue;
                    };
                    let attribute = product
                        .variable
                        .as_ref()
                        .map(|info| info.attribute.clone())
                        .unwrap_or_default();
                    let key = format!("pa_{}", attribute.to_lowercase());
                    (
                        format!("{} - {}", product.name, variation.option),
                        variation.sku.clone(),
                        variation.price,
                        json!([{
                            "id": self.next_item_id * 10,
                            "key": key,
                            "value": variation.option.to_lowercase(),
                            "display_key": attribute,
                            "display_value": variation.option,
                        }]),
                        json!(product.name),
                        variation.id,
                    )
                }
                None => (
                    product.name.clone(),
                    product.sku.clone(),
                    product.price,
                    json!([]),
                    Value::Null,
                    0,
                ),
            };
            let item_id = self.item_id();
            lines.push(Line {
                id: item_id,
                name,
                product_id,
                variation_id: variation,
                quantity,
                sku,
                tax_class: product.tax_class.clone(),
                rate: self.rate_for(&product.tax_class),
                base: price * Decimal::from(quantity),
                discount: Decimal::ZERO,
                coupon_discounts: Vec::new(),
                meta,
                parent_name,
            });
        }

        // Coupons, one after the other on what is left of each line (WooCommerce applies
        // them sequentially, in the prices' own tax basis, before tax).
        let mut coupons = Vec::new();
        for code in &spec.coupons {
            let Some(coupon) = self.coupons.get(&code.to_lowercase()).cloned() else {
                tracing::warn!(code, "the fake WooCommerce has no such coupon");
                continue;
            };
            let remaining: Vec<Decimal> =
                lines.iter().map(|line| line.base - line.discount).collect();
            let shares: Vec<Decimal> = match coupon.kind {
                CouponKind::Percent => remaining
                    .iter()
                    .map(|left| round2(*left * coupon.amount / Decimal::ONE_HUNDRED))
                    .collect(),
                CouponKind::FixedProduct => lines
                    .iter()
                    .zip(&remaining)
                    .map(|(line, left)| (coupon.amount * Decimal::from(line.quantity)).min(*left))
                    .collect(),
                CouponKind::FixedCart => {
                    let sum: Decimal = remaining.iter().sum();
                    let total = coupon.amount.min(sum);
                    let mut shares = Vec::with_capacity(remaining.len());
                    let mut given = Decimal::ZERO;
                    for (index, left) in remaining.iter().enumerate() {
                        let share = if index + 1 == remaining.len() {
                            total - given
                        } else if sum.is_zero() {
                            Decimal::ZERO
                        } else {
                            round2(total * *left / sum)
                        };
                        given += share;
                        shares.push(share.min(*left));
                    }
                    shares
                }
            };
            for (line, share) in lines.iter_mut().zip(&shares) {
                line.discount += *share;
                line.coupon_discounts.push(*share);
            }
            coupons.push(code.clone());
        }

        let mut tax_totals: BTreeMap<u64, (Decimal, Decimal)> = BTreeMap::new();
        let mut line_items = Vec::new();
        let (mut items_total, mut discount_total, mut discount_tax) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let mut coupon_net = vec![Decimal::ZERO; coupons.len()];
        let mut coupon_tax = vec![Decimal::ZERO; coupons.len()];
        for line in &lines {
            let percent = line
                .rate
                .as_ref()
                .map_or(Decimal::ZERO, |rate| rate.percent);
            let after = line.base - line.discount;
            // Tax of an amount in the prices' basis: on top of a net price, or the tax
            // part of a gross one. Rounded per line (the default: not at subtotal).
            let tax_of = |value: Decimal| {
                if incl {
                    value * percent / (Decimal::ONE_HUNDRED + percent)
                } else {
                    value * percent / Decimal::ONE_HUNDRED
                }
            };
            let (subtotal_tax_raw, total_tax_raw) = (tax_of(line.base), tax_of(after));
            let (subtotal_tax, total_tax) = (round2(subtotal_tax_raw), round2(total_tax_raw));
            let (subtotal, total) = if incl {
                (line.base - subtotal_tax, after - total_tax)
            } else {
                (line.base, after)
            };
            for (index, share) in line.coupon_discounts.iter().enumerate() {
                let tax = tax_of(*share);
                let net = if incl { *share - tax } else { *share };
                coupon_net[index] += net;
                coupon_tax[index] += tax;
            }
            items_total += round2(total);
            discount_total += round2(subtotal) - round2(total);
            discount_tax += subtotal_tax - total_tax;
            let taxes = match &line.rate {
                Some(rate) => {
                    let entry = tax_totals.entry(rate.id).or_default();
                    entry.0 += total_tax;
                    json!([{"id": rate.id, "total": raw_amount(total_tax_raw), "subtotal": raw_amount(subtotal_tax_raw)}])
                }
                None => json!([]),
            };
            // `price` is a PHP float: the total after discounts over the quantity.
            let price = round2(total).to_string().parse::<f64>().unwrap_or(0.0)
                / f64::from(line.quantity.max(1));
            line_items.push(json!({
                "id": line.id,
                "name": line.name,
                "product_id": line.product_id,
                "variation_id": line.variation_id,
                "quantity": line.quantity,
                "tax_class": line.tax_class,
                "subtotal": amount(subtotal),
                "subtotal_tax": amount(subtotal_tax),
                "total": amount(total),
                "total_tax": amount(total_tax),
                "taxes": taxes,
                "meta_data": line.meta,
                "sku": line.sku,
                "price": price,
                "image": {"id": "", "src": ""},
                "parent_name": line.parent_name,
            }));
        }

        let standard = self.standard_rate();
        let mut shipping_lines = Vec::new();
        let (mut shipping_total, mut shipping_tax) = (Decimal::ZERO, Decimal::ZERO);
        for (title, cost) in &spec.shipping {
            let (cost, tax, taxes) =
                standard_taxed(cost, standard.as_ref(), &mut tax_totals, Charge::Shipping);
            shipping_total += cost;
            shipping_tax += tax;
            let item_id = self.item_id();
            shipping_lines.push(json!({
                "id": item_id,
                "method_title": title,
                "method_id": "flat_rate",
                "instance_id": "1",
                "total": amount(cost),
                "total_tax": amount(tax),
                "taxes": taxes,
                "meta_data": [],
            }));
        }

        let mut fee_lines = Vec::new();
        let mut fees_total = Decimal::ZERO;
        for (name, fee) in &spec.fees {
            let (fee, tax, taxes) =
                standard_taxed(fee, standard.as_ref(), &mut tax_totals, Charge::Fee);
            fees_total += fee;
            let item_id = self.item_id();
            fee_lines.push(json!({
                "id": item_id,
                "name": name,
                "tax_class": "",
                "tax_status": "taxable",
                "total": amount(fee),
                "total_tax": amount(tax),
                "taxes": taxes,
                "meta_data": [],
            }));
        }

        let mut tax_lines = Vec::new();
        let mut cart_tax = Decimal::ZERO;
        for (rate_id, (tax_total, shipping_tax_total)) in &tax_totals {
            let Some(rate) = self
                .tax_rates
                .iter()
                .find(|rate| rate.id == *rate_id)
                .cloned()
            else {
                continue;
            };
            cart_tax += *tax_total;
            let item_id = self.item_id();
            tax_lines.push(json!({
                "id": item_id,
                "rate_code": rate.code,
                "rate_id": rate.id,
                "label": rate.label,
                "compound": false,
                "tax_total": amount(*tax_total),
                "shipping_tax_total": amount(*shipping_tax_total),
                "rate_percent": percent_json(rate.percent),
                "meta_data": [],
            }));
        }
        let mut coupon_lines = Vec::new();
        for (index, code) in coupons.iter().enumerate() {
            let item_id = self.item_id();
            coupon_lines.push(json!({
                "id": item_id,
                "code": code.to_lowercase(),
                "discount": amount(coupon_net[index]),
                "discount_tax": amount(coupon_tax[index]),
                "meta_data": [],
            }));
        }

        let total_tax = cart_tax + shipping_tax;
        let total = items_total + fees_total + shipping_total + total_tax;
        let paid = spec
            .paid
            .unwrap_or(matches!(spec.status.as_str(), "processing" | "completed"));
        let billing = address_json(&spec.billing, true);
        let shipping = address_json(
            spec.shipping_address.as_ref().unwrap_or(&spec.billing),
            false,
        );
        let order_key: String = format!(
            "wc_order_{}",
            &hex::encode(Sha256::digest(format!("{id}{now}")))[..13]
        );
        let base = &self.base_url;
        let mut order = json!({
            "id": id,
            "parent_id": 0,
            "status": spec.status,
            "currency": spec.currency,
            "version": WC_VERSION,
            "prices_include_tax": incl,
            "discount_total": amount(discount_total),
            "discount_tax": amount(discount_tax),
            "shipping_total": amount(shipping_total),
            "shipping_tax": amount(shipping_tax),
            "cart_tax": amount(cart_tax),
            "total": amount(total),
            "total_tax": amount(total_tax),
        });
        // Built in parts: one `json!` this size would exceed the macro recursion limit.
        let rest = json!({
            "customer_id": spec.customer_id,
            "order_key": order_key,
            "billing": billing,
            "shipping": shipping,
            "payment_method": spec.payment.0,
            "payment_method_title": spec.payment.1,
            "transaction_id": "",
            "customer_ip_address": "193.2.1.66",
            "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "created_via": "checkout",
            "customer_note": spec.customer_note,
        });
        let lists = json!({
            "date_completed": null,
            "date_completed_gmt": null,
            "date_paid": null,
            "date_paid_gmt": null,
            "cart_hash": hex::encode(&Sha256::digest(format!("cart{id}"))[..16]),
            "number": id.to_string(),
            "meta_data": [],
            "line_items": line_items,
            "tax_lines": tax_lines,
            "shipping_lines": shipping_lines,
            "fee_lines": fee_lines,
            "coupon_lines": coupon_lines,
            "refunds": [],
            "payment_url": format!("{base}/checkout/order-pay/{id}/?pay_for_order=true&key={order_key}"),
            "is_editable": matches!(spec.status.as_str(), "pending" | "on-hold" | "auto-draft"),
            "needs_payment": !paid && matches!(spec.status.as_str(), "pending" | "failed"),
            "needs_processing": true,
            "currency_symbol": currency_symbol(&spec.currency),
            "_links": {
                "self": [{"href": format!("{base}{API_PREFIX}/orders/{id}")}],
                "collection": [{"href": format!("{base}{API_PREFIX}/orders")}],
            },
        });
        merge(&mut order, rest);
        merge(&mut order, lists);
        set_dates(&mut order, "date_created", now);
        set_dates(&mut order, "date_modified", now);
        if paid {
            set_dates(&mut order, "date_paid", now);
        }
        if spec.status == "completed" {
            set_dates(&mut order, "date_completed", now);
        }
        if spec.customer_id != 0 {
            order["_links"]["customer"] =
                json!([{"href": format!("{base}{API_PREFIX}/customers/{}", spec.customer_id)}]);
        }
        // Stock is reduced when an order reaches processing, completed or on-hold
        // (`wc_maybe_reduce_stock_levels`).
        if matches!(spec.status.as_str(), "processing" | "completed" | "on-hold") {
            self.stock_reduced.insert(id);
            for line in &lines {
                let quantity = i64::from(line.quantity);
                if line.variation_id != 0 {
                    if let Some(variation) = self.variations.get_mut(&line.variation_id)
                        && variation.manage_stock
                    {
                        variation.stock = variation.stock.map(|stock| stock - quantity);
                    }
                } else if let Some(product) = self.products.get_mut(&line.product_id)
                    && product.manage_stock
                {
                    product.stock = product.stock.map(|stock| stock - quantity);
                }
            }
        }
        order
    }
}

/// Core's gateways and two common plugin ones, as `GET /payment_gateways` lists them.
fn default_payment_gateways() -> Vec<Value> {
    [
        ("bacs", "Direct bank transfer", "Direct bank transfer", true),
        ("cheque", "Check payments", "Check payments", false),
        ("cod", "Cash on delivery", "Cash on delivery", true),
        ("stripe", "Credit card (Stripe)", "Stripe", true),
        ("paypal", "PayPal", "PayPal Standard", false),
    ]
    .into_iter()
    .enumerate()
    .map(|(order, (id, title, method_title, enabled))| {
        gateway_json(id, title, method_title, enabled, order)
    })
    .collect()
}

fn gateway_json(id: &str, title: &str, method_title: &str, enabled: bool, order: usize) -> Value {
    json!({
        "id": id,
        "title": title,
        "description": "",
        "order": order,
        "enabled": enabled,
        "method_title": method_title,
        "method_description": "",
        "method_supports": ["products"],
        "settings": {},
        "needs_setup": false,
        "post_install_scripts": [],
        "settings_url": format!("/wp-admin/admin.php?page=wc-settings&tab=checkout&section={id}"),
        "connection_url": null,
        "setup_help_text": null,
        "required_settings_keys": [],
    })
}

/// The hooks core attaches to an order topic (`WC_Webhook::get_hooks`).
fn topic_hooks(topic: &str) -> Vec<&'static str> {
    match topic {
        "order.created" => vec!["woocommerce_new_order"],
        "order.updated" => vec![
            "woocommerce_update_order",
            "woocommerce_order_refunded",
            "woocommerce_delete_order_refund",
        ],
        "order.deleted" => vec!["wp_trash_post", "woocommerce_trash_order"],
        "order.restored" => vec!["untrashed_post", "woocommerce_untrash_order"],
        _ => Vec::new(),
    }
}

/// `wc_is_webhook_valid_topic`: `{coupon|customer|order|product}.{created|updated|deleted|restored}`
/// or a custom `action.…`.
fn is_valid_topic(topic: &str) -> bool {
    if topic.starts_with("action.") && topic.len() > "action.".len() {
        return true;
    }
    matches!(
        topic.split_once('.'),
        Some((
            "coupon" | "customer" | "order" | "product",
            "created" | "updated" | "deleted" | "restored"
        ))
    )
}

/// `wc_is_valid_url` as the webhook controller applies it.
fn is_valid_delivery_url(url: &str) -> bool {
    let url = url.trim();
    (url.starts_with("http://") || url.starts_with("https://"))
        && url::Url::parse(url).is_ok_and(|parsed| parsed.host_str().is_some())
}

/// WordPress's `rest_sanitize_boolean`.
fn rest_boolean(value: Option<&String>) -> bool {
    value.is_some_and(|value| !matches!(value.to_lowercase().as_str(), "" | "false" | "0"))
}

/// Sends the activation ping core sends to a new webhook (`WC_Webhook::deliver_ping`),
/// only to receivers on this machine: a test's URLs elsewhere are made up.
fn send_ping(delivery_url: &str, webhook_id: u64) -> bool {
    let local = url::Url::parse(delivery_url)
        .is_ok_and(|url| matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")));
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return false;
    };
    if !local {
        return false;
    }
    let ping = Delivery {
        headers: vec![
            ("User-Agent".into(), user_agent()),
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded; charset=UTF-8".into(),
            ),
        ],
        body: format!("webhook_id={webhook_id}").into_bytes(),
    };
    let url = delivery_url.to_owned();
    runtime.spawn(async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build();
        let Ok(client) = client else { return };
        let mut request = client.post(&url).body(ping.body.clone());
        for (name, value) in &ping.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Err(error) = request.send().await {
            tracing::debug!(%error, url, "the fake WooCommerce's webhook ping failed");
        }
    });
    true
}

impl Shop {
    /// Adds `sign × quantity` of each line of `order` to the stock of products that
    /// manage it (`wc_maybe_reduce_stock_levels`, `wc_maybe_increase_stock_levels`).
    fn change_order_stock(&mut self, order: &Value, sign: i64) {
        let lines: Vec<(u64, u64, i64)> = order["line_items"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|line| {
                        (
                            line["product_id"].as_u64().unwrap_or(0),
                            line["variation_id"].as_u64().unwrap_or(0),
                            line["quantity"].as_i64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (product, variation, quantity) in lines {
            self.change_stock(product, variation, sign * quantity);
        }
    }

    /// Adds `delta` to a product's or variation's stock when it manages stock; whether
    /// it did.
    fn change_stock(&mut self, product: u64, variation: u64, delta: i64) -> bool {
        if variation != 0 {
            if let Some(variation) = self.variations.get_mut(&variation)
                && variation.manage_stock
            {
                variation.stock = variation.stock.map(|stock| stock + delta);
                return true;
            }
        } else if let Some(product) = self.products.get_mut(&product)
            && product.manage_stock
        {
            product.stock = product.stock.map(|stock| stock + delta);
            return true;
        }
        false
    }

    /// Moves stock with an order's status, as core's status hooks do: reduced once on
    /// reaching processing, completed or on-hold; given back on cancelling.
    fn follow_stock(&mut self, id: u64, order: &Value) {
        let status = order["status"].as_str().unwrap_or_default();
        let reduced = self.stock_reduced.contains(&id);
        if matches!(status, "processing" | "completed" | "on-hold") && !reduced {
            self.change_order_stock(order, -1);
            self.stock_reduced.insert(id);
        } else if status == "cancelled" && reduced {
            self.change_order_stock(order, 1);
            self.stock_reduced.remove(&id);
        }
    }

    /// Stores a refund as `wc_create_refund` does: the refund (returned as the refunds
    /// endpoint shows it), the order's `refunds` entry, its status when fully refunded,
    /// and with restock the stock and the lines' `_restock_refunded_items`. `amount_only`
    /// overrides the sum of the refunded lines (a refund of an amount only). `Null`
    /// without such an order.
    fn create_refund(
        &mut self,
        order_id: u64,
        spec: &RefundSpec,
        amount_only: Option<Decimal>,
    ) -> Value {
        let Some(stored) = self.orders.get(&order_id) else {
            return Value::Null;
        };
        let mut order = stored.json.clone();
        let refund_id = self.post_id();
        let now = OffsetDateTime::now_utc();
        let restockable = self.stock_reduced.contains(&order_id);
        let mut refunded = Decimal::ZERO;
        let mut line_items = Vec::new();
        for &(line_id, quantity) in &spec.lines {
            let Some(line) = order["line_items"]
                .as_array()
                .and_then(|lines| {
                    lines
                        .iter()
                        .find(|line| line["id"].as_u64() == Some(line_id))
                })
                .cloned()
            else {
                tracing::warn!(
                    order_id,
                    line_id,
                    "the fake WooCommerce's order has no such line"
                );
                continue;
            };
            let ordered = Decimal::from(line["quantity"].as_u64().unwrap_or(0));
            if ordered.is_zero() || quantity == 0 {
                continue;
            }
            let share = Decimal::from(quantity) / ordered;
            let text = |value: &Value| dec(value.as_str().unwrap_or("0"));
            let total = round2(text(&line["total"]) * share);
            let tax = round2(text(&line["total_tax"]) * share);
            refunded += total + tax;
            let taxes: Vec<Value> = line["taxes"]
                .as_array()
                .map(|taxes| {
                    taxes
                        .iter()
                        .map(|entry| {
                            let raw = raw_amount(-(text(&entry["total"]) * share));
                            json!({"id": entry["id"], "total": raw, "subtotal": raw})
                        })
                        .collect()
                })
                .unwrap_or_default();
            let item_id = self.item_id();
            let price = (-total).to_string().parse::<f64>().unwrap_or(0.0) / f64::from(quantity);
            line_items.push(json!({
                "id": item_id,
                "name": line["name"],
                "product_id": line["product_id"],
                "variation_id": line["variation_id"],
                "quantity": -i64::from(quantity),
                "tax_class": line["tax_class"],
                "subtotal": amount(-total),
                "subtotal_tax": amount(-tax),
                "total": amount(-total),
                "total_tax": amount(-tax),
                "taxes": taxes,
                "meta_data": [refunded_item_meta(item_id, line_id)],
                "sku": line["sku"],
                "price": price,
                "image": line["image"],
                "parent_name": line["parent_name"],
            }));
            let product = line["product_id"].as_u64().unwrap_or(0);
            let variation = line["variation_id"].as_u64().unwrap_or(0);
            if spec.restock
                && restockable
                && self.change_stock(product, variation, i64::from(quantity))
            {
                add_restocked(&mut order, line_id, quantity, item_id);
            }
        }
        let mut shipping_lines = Vec::new();
        if spec.shipping {
            let lines = order["shipping_lines"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for line in lines {
                let text = |value: &Value| dec(value.as_str().unwrap_or("0"));
                let (total, tax) = (text(&line["total"]), text(&line["total_tax"]));
                refunded += total + tax;
                let item_id = self.item_id();
                let line_id = line["id"].as_u64().unwrap_or(0);
                shipping_lines.push(json!({
                    "id": item_id,
                    "method_title": line["method_title"],
                    "method_id": line["method_id"],
                    "instance_id": line["instance_id"],
                    "total": amount(-total),
                    "total_tax": amount(-tax),
                    "taxes": [],
                    "meta_data": [refunded_item_meta(item_id, line_id)],
                }));
            }
        }
        let refunded = money(amount_only.unwrap_or(refunded));
        let base = &self.base_url;
        let mut refund = json!({
            "id": refund_id,
            "amount": format!("{refunded:.2}"),
            "reason": spec.reason,
            "refunded_by": 1,
            "refunded_payment": false,
            "meta_data": [],
            "line_items": line_items,
            "shipping_lines": shipping_lines,
            "tax_lines": [],
            "fee_lines": [],
            "_links": {
                "self": [{"href": format!("{base}{API_PREFIX}/orders/{order_id}/refunds/{refund_id}")}],
                "collection": [{"href": format!("{base}{API_PREFIX}/orders/{order_id}/refunds")}],
                "up": [{"href": format!("{base}{API_PREFIX}/orders/{order_id}")}],
            },
        });
        set_dates(&mut refund, "date_created", now);
        let total = dec(order["total"].as_str().unwrap_or("0"));
        let mut refunded_before: Decimal = order["refunds"]
            .as_array()
            .map(|refunds| {
                refunds
                    .iter()
                    .map(|refund| -dec(refund["total"].as_str().unwrap_or("0")))
                    .sum()
            })
            .unwrap_or_default();
        refunded_before += refunded;
        if let Some(refunds) = order["refunds"].as_array_mut() {
            // Newest first, as `WC_Order::get_refunds()` lists them.
            refunds.insert(
                0,
                json!({"id": refund_id, "reason": spec.reason, "total": format!("{:.2}", -refunded)}),
            );
        }
        if refunded_before >= total {
            order["status"] = json!("refunded");
        }
        set_dates(&mut order, "date_modified", now);
        self.orders.insert(order_id, StoredOrder::new(order));
        self.refunds
            .entry(order_id)
            .or_default()
            .insert(0, refund.clone());
        refund
    }

    fn webhook_json(&self, webhook: &Webhook, edit: bool) -> Value {
        let base = &self.base_url;
        let (resource, event) = webhook
            .topic
            .split_once('.')
            .unwrap_or((webhook.topic.as_str(), ""));
        let mut json = json!({
            "id": webhook.id,
            "name": webhook.name,
            "status": webhook.status,
            "topic": webhook.topic,
            "resource": resource,
            "event": event,
            "hooks": topic_hooks(&webhook.topic),
            "delivery_url": webhook.delivery_url,
            "_links": {
                "self": [{"href": format!("{base}{API_PREFIX}/webhooks/{}", webhook.id)}],
                "collection": [{"href": format!("{base}{API_PREFIX}/webhooks")}],
            },
        });
        if edit {
            json["secret"] = json!(webhook.secret);
        }
        set_dates(&mut json, "date_created", webhook.created);
        set_dates(&mut json, "date_modified", webhook.modified);
        json
    }

    fn log_webhook(&mut self, action: WebhookAction, id: u64) {
        let (topic, delivery_url) = self
            .webhooks
            .get(&id)
            .map(|webhook| (webhook.topic.clone(), webhook.delivery_url.clone()))
            .unwrap_or_default();
        self.webhook_log.push(WebhookChange {
            action,
            id,
            topic,
            delivery_url,
        });
    }

    /// `GET /webhooks`: newest first unless `order=asc`, filtered by `status`.
    fn list_webhooks(&self, params: &BTreeMap<String, String>) -> Answer {
        let paging = match Paging::from_params(params) {
            Ok(paging) => paging,
            Err(answer) => return answer,
        };
        let status = params.get("status").map_or("all", String::as_str);
        if !matches!(status, "all" | "active" | "paused" | "disabled") {
            return Answer::invalid_param(
                "status",
                "status is not one of all, active, paused, and disabled.",
            );
        }
        let mut matching: Vec<&Webhook> = self
            .webhooks
            .values()
            .filter(|webhook| status == "all" || webhook.status == status)
            .collect();
        matching.sort_by_key(|webhook| (webhook.created, webhook.id));
        if paging.descending {
            matching.reverse();
        }
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(paging.skip())
            .take(paging.per_page)
            .map(|webhook| self.webhook_json(webhook, false))
            .collect();
        let mut answer = Answer::ok(Value::Array(page));
        answer.headers = paging.headers(&self.base_url, "/webhooks", params, total);
        answer
    }

    /// `POST /webhooks` (`WC_REST_Webhooks_V1_Controller::create_item`): always active,
    /// a generated secret when none is given, then a ping to the delivery URL.
    fn create_webhook(&mut self, body: &Value) -> Answer {
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::trim);
        if body.get("id").is_some_and(|id| !id.is_null()) {
            return Answer::error(
                400,
                "woocommerce_rest_shop_webhook_exists",
                "Cannot create existing shop_webhook.",
            );
        }
        let Some(topic) = text("topic").filter(|topic| is_valid_topic(&topic.to_lowercase()))
        else {
            return Answer::error(
                400,
                "woocommerce_rest_shop_webhook_invalid_topic",
                "Webhook topic is required and must be valid.",
            );
        };
        let Some(delivery_url) = text("delivery_url").filter(|url| is_valid_delivery_url(url))
        else {
            return Answer::error(
                400,
                "woocommerce_rest_shop_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            );
        };
        let now = OffsetDateTime::now_utc();
        let id = self.next_webhook_id;
        self.next_webhook_id += 1;
        let webhook = Webhook {
            id,
            name: text("name").filter(|name| !name.is_empty()).map_or_else(
                || format!("Webhook created on {}", local(now)),
                str::to_owned,
            ),
            status: "active".into(),
            topic: topic.to_owned(),
            delivery_url: delivery_url.to_owned(),
            secret: text("secret")
                .filter(|secret| !secret.is_empty())
                .map_or_else(
                    || hex::encode(Sha256::digest(format!("secret{id}{now}"))),
                    str::to_owned,
                ),
            created: now,
            modified: now,
        };
        let json = self.webhook_json(&webhook, true);
        self.webhooks.insert(id, webhook);
        self.log_webhook(WebhookAction::Created, id);
        if send_ping(delivery_url, id) {
            self.log_webhook(WebhookAction::Pinged, id);
        }
        let mut answer = Answer::created(json);
        answer.headers.push((
            "Location".into(),
            format!("{}{API_PREFIX}/webhooks/{id}", self.base_url),
        ));
        answer
    }

    /// `GET /webhooks/{id}`: an unknown id is core's "ID is invalid." with 400.
    fn get_webhook(&self, id: u64) -> Answer {
        match self.webhooks.get(&id) {
            Some(webhook) => Answer::ok(self.webhook_json(webhook, false)),
            None => Answer::error(
                400,
                "woocommerce_rest_shop_webhook_invalid_id",
                "ID is invalid.",
            ),
        }
    }

    /// `PUT /webhooks/{id}`: topic, delivery URL, secret, status and name.
    fn update_webhook(&mut self, id: u64, body: &Value) -> Answer {
        let text = |name: &str| {
            body.get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let Some(mut webhook) = self.webhooks.get(&id).cloned() else {
            return Answer::error(
                400,
                "woocommerce_rest_shop_webhook_invalid_id",
                "ID is invalid.",
            );
        };
        if let Some(topic) = text("topic") {
            if !is_valid_topic(&topic.to_lowercase()) {
                return Answer::error(
                    400,
                    "woocommerce_rest_shop_webhook_invalid_topic",
                    "Webhook topic must be valid.",
                );
            }
            webhook.topic = topic.to_owned();
        }
        if let Some(url) = text("delivery_url") {
            if !is_valid_delivery_url(url) {
                return Answer::error(
                    400,
                    "woocommerce_rest_shop_webhook_invalid_delivery_url",
                    "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                );
            }
            webhook.delivery_url = url.to_owned();
        }
        if let Some(secret) = text("secret") {
            webhook.secret = secret.to_owned();
        }
        if let Some(status) = text("status") {
            if !matches!(
                status.to_lowercase().as_str(),
                "active" | "paused" | "disabled"
            ) {
                return Answer::error(
                    400,
                    "woocommerce_rest_shop_webhook_invalid_status",
                    "Webhook status must be valid.",
                );
            }
            webhook.status = status.to_lowercase();
        }
        if let Some(name) = text("name") {
            webhook.name = name.to_owned();
        }
        webhook.modified = OffsetDateTime::now_utc();
        let json = self.webhook_json(&webhook, true);
        self.webhooks.insert(id, webhook);
        self.log_webhook(WebhookAction::Updated, id);
        Answer::ok(json)
    }

    /// `DELETE /webhooks/{id}`: webhooks cannot be trashed, so `force=true` is required.
    fn delete_webhook(&mut self, id: u64, params: &BTreeMap<String, String>) -> Answer {
        if !rest_boolean(params.get("force")) {
            return Answer::error(
                501,
                "woocommerce_rest_trash_not_supported",
                "Webhooks do not support trashing.",
            );
        }
        let Some(webhook) = self.webhooks.get(&id).cloned() else {
            return Answer::error(
                404,
                "woocommerce_rest_shop_webhook_invalid_id",
                "Invalid ID.",
            );
        };
        self.log_webhook(WebhookAction::Deleted, id);
        self.webhooks.remove(&id);
        Answer::ok(self.webhook_json(&webhook, true))
    }

    /// `GET /orders/{id}/refunds`, newest first. (Core answers an empty list for an
    /// order that does not exist: the query is by parent.)
    fn list_refunds(&self, order: u64, params: &BTreeMap<String, String>) -> Answer {
        let paging = match Paging::from_params(params) {
            Ok(paging) => paging,
            Err(answer) => return answer,
        };
        let mut refunds = self.refunds.get(&order).cloned().unwrap_or_default();
        if !paging.descending {
            refunds.reverse();
        }
        let total = refunds.len();
        let page: Vec<Value> = refunds
            .into_iter()
            .skip(paging.skip())
            .take(paging.per_page)
            .collect();
        let mut answer = Answer::ok(Value::Array(page));
        answer.headers = paging.headers(
            &self.base_url,
            &format!("/orders/{order}/refunds"),
            params,
            total,
        );
        answer
    }
}

/// The meta naming the order line a refund line refunds, as core stores it (text).
fn refunded_item_meta(item_id: u64, line_id: u64) -> Value {
    json!({
        "id": item_id * 10,
        "key": "_refunded_item_id",
        "value": line_id.to_string(),
        "display_key": "_refunded_item_id",
        "display_value": line_id.to_string(),
    })
}

/// Adds `quantity` to the order line's `_restock_refunded_items` (`wc_restock_refunded_items`).
fn add_restocked(order: &mut Value, line_id: u64, quantity: u32, meta_id: u64) {
    let Some(line) = order["line_items"].as_array_mut().and_then(|lines| {
        lines
            .iter_mut()
            .find(|line| line["id"].as_u64() == Some(line_id))
    }) else {
        return;
    };
    if !line["meta_data"].is_array() {
        line["meta_data"] = json!([]);
    }
    let Some(meta) = line["meta_data"].as_array_mut() else {
        return;
    };
    match meta
        .iter_mut()
        .find(|entry| entry["key"] == "_restock_refunded_items")
    {
        Some(entry) => {
            let before: u64 = entry["value"]
                .as_str()
                .and_then(|value| value.parse().ok())
                .unwrap_or(0);
            let after = (before + u64::from(quantity)).to_string();
            entry["value"] = json!(after);
            entry["display_value"] = json!(after);
        }
        None => meta.push(json!({
            "id": meta_id * 10 + 1,
            "key": "_restock_refunded_items",
            "value": quantity.to_string(),
            "display_key": "_restock_refunded_items",
            "display_value": quantity.to_string(),
        })),
    }
}

fn currency_symbol(currency: &str) -> &'static str {
    match currency {
        "EUR" => "&euro;",
        "USD" => "&#36;",
        "GBP" => "&pound;",
        _ => "",
    }
}

fn address_json(address: &AddressSpec, billing: bool) -> Value {
    let mut json = json!({
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company": address.company,
        "address_1": address.address_1,
        "address_2": address.address_2,
        "city": address.city,
        "state": address.state,
        "postcode": address.postcode,
        "country": address.country,
        "phone": address.phone,
    });
    if billing {
        json["email"] = json!(address.email);
    }
    json
}

// ---------------------------------------------------------------------------------------
// HTTP

/// An API answer: status, extra headers and a JSON body.
struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Vec::new(),
            body,
        }
    }

    fn created(body: Value) -> Self {
        Self {
            status: StatusCode::CREATED,
            headers: Vec::new(),
            body,
        }
    }

    /// WordPress's `WP_Error` as JSON: `{"code","message","data":{"status"}}`.
    fn error(status: u16, code: &str, message: &str) -> Self {
        Self::error_with(status, code, message, json!({}))
    }

    fn error_with(status: u16, code: &str, message: &str, mut data: Value) -> Self {
        data["status"] = json!(status);
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: json!({ "code": code, "message": message, "data": data }),
        }
    }

    fn invalid_param(param: &str, reason: &str) -> Self {
        Self::error_with(
            400,
            "rest_invalid_param",
            &format!("Invalid parameter(s): {param}"),
            json!({ "params": { param: reason }, "details": {} }),
        )
    }

    fn no_route() -> Self {
        Self::error(
            404,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )
    }
}

fn plain(
    status: StatusCode,
    headers: Vec<(String, String)>,
    content_type: &str,
    body: String,
) -> Response {
    let mut map = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        map.insert(axum::http::header::CONTENT_TYPE, value);
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            map.append(name, value);
        }
    }
    (status, map, body).into_response()
}

async fn handle(
    State(fake): State<FakeWoo>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    if method == Method::GET && path.trim_end_matches('/') == WP_INDEX {
        let answer = fake.lock().site_index(&query);
        return plain(
            answer.status,
            answer.headers,
            "application/json; charset=UTF-8",
            php_json(&answer.body),
        );
    }
    let Some(route) = path.strip_prefix(API_PREFIX) else {
        return plain(
            StatusCode::NOT_FOUND,
            Vec::new(),
            "text/html; charset=UTF-8",
            "<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Not found</h1></body></html>".into(),
        );
    };
    let mut shop = fake.lock();
    shop.requests.push(if query.is_empty() {
        format!("{method} {path}")
    } else {
        format!("{method} {path}?{query}")
    });
    if shop.down {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            Vec::new(),
            "text/html; charset=iso-8859-1",
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>503 Service Unavailable</title>\n</head><body>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n</body></html>\n".into(),
        );
    }
    if shop.rate_limit.remaining > 0 {
        shop.rate_limit.remaining -= 1;
        let headers = shop
            .rate_limit
            .retry_after_secs
            .map(|secs| vec![("Retry-After".to_owned(), secs.to_string())])
            .unwrap_or_default();
        return plain(
            StatusCode::TOO_MANY_REQUESTS,
            headers,
            "text/html; charset=iso-8859-1",
            "<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1><p>You have sent too many requests in a given amount of time.</p></body></html>\n".into(),
        );
    }
    let params = request_params(&query, &headers, &body);
    let answer = match shop.authenticate(&method, &path, &headers, &params) {
        Err(answer) => answer,
        Ok(authenticated) => {
            let segments: Vec<&str> = route.split('/').filter(|part| !part.is_empty()).collect();
            shop.route(&method, &segments, &params, &body, authenticated)
        }
    };
    let mut response_headers = answer.headers;
    if answer.status == StatusCode::UNAUTHORIZED && headers.contains_key("authorization") {
        response_headers.push((
            "WWW-Authenticate".into(),
            "Basic realm=\"WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field.\"".into(),
        ));
    }
    plain(
        answer.status,
        response_headers,
        "application/json; charset=UTF-8",
        php_json(&answer.body),
    )
}

/// `$_GET` merged with `$_POST` (form bodies), decoded the way PHP decodes them; a
/// repeated name keeps its last value.
fn request_params(query: &str, headers: &HeaderMap, body: &[u8]) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let is_form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        params.extend(
            url::form_urlencoded::parse(body)
                .map(|(key, value)| (key.into_owned(), value.into_owned())),
        );
    }
    params
}

/// Whether a request came with valid credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authenticated {
    Yes,
    No,
}

/// `rawurlencode` (RFC 3986) as `wc_rest_urlencode_rfc3986` applies it.
fn rfc3986(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The signature `WC_REST_Authentication::check_oauth_signature` expects: `params`
/// decoded and without `oauth_signature`, sorted by name (`strcmp`, which is the
/// `BTreeMap` order), each name and value encoded, each `name=value` encoded again and
/// joined with `%26`; the base string is `METHOD&rawurlencode(url)&that`.
fn oauth_signature(
    method: &str,
    url: &str,
    params: &BTreeMap<String, String>,
    consumer_secret: &str,
    sha256: bool,
) -> String {
    let joined: Vec<String> = params
        .iter()
        .filter(|(key, _)| key.as_str() != "oauth_signature")
        .map(|(key, value)| rfc3986(&format!("{}={}", rfc3986(key), rfc3986(value))))
        .collect();
    let base = format!(
        "{}&{}&{}",
        method.to_uppercase(),
        rfc3986(url),
        joined.join("%26")
    );
    let key = format!("{consumer_secret}&");
    let digest = if sha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(base.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = <HmacSha1 as Mac>::new_from_slice(key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(base.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn auth_error(message: &str) -> Answer {
    Answer::error(401, "woocommerce_rest_authentication_error", message)
}

/// What an API request asks for.
enum Route {
    Orders,
    Order(u64),
    UpdateOrder(u64),
    Notes(u64),
    AddNote(u64),
    Refunds(u64),
    Products,
    Product(u64),
    UpdateProduct(u64),
    ProductBatch,
    Variations(u64),
    Variation(u64, u64),
    UpdateVariation(u64, u64),
    VariationBatch(u64),
    Webhooks,
    CreateWebhook,
    Webhook(u64),
    UpdateWebhook(u64),
    DeleteWebhook(u64),
    PaymentGateways,
}

impl Route {
    /// The permission callback's refusal: 401 for a visitor who is not logged in, 403
    /// for a user without the capability (`rest_authorization_required_code`).
    fn refused(&self, status: u16) -> Answer {
        let (code, message) = match self {
            Route::Orders
            | Route::Products
            | Route::Variations(_)
            | Route::Notes(_)
            | Route::Refunds(_)
            | Route::Webhooks
            | Route::PaymentGateways => (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            ),
            Route::Order(_) | Route::Product(_) | Route::Variation(..) | Route::Webhook(_) => (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot view this resource.",
            ),
            Route::AddNote(_) | Route::CreateWebhook => (
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            ),
            Route::ProductBatch | Route::VariationBatch(_) => (
                "woocommerce_rest_cannot_batch",
                "Sorry, you are not allowed to batch manipulate this resource.",
            ),
            Route::UpdateOrder(_)
            | Route::UpdateProduct(_)
            | Route::UpdateVariation(..)
            | Route::UpdateWebhook(_) => (
                "woocommerce_rest_cannot_edit",
                "Sorry, you are not allowed to edit this resource.",
            ),
            Route::DeleteWebhook(_) => (
                "woocommerce_rest_cannot_delete",
                "Sorry, you are not allowed to delete this resource.",
            ),
        };
        Answer::error(status, code, message)
    }
}

impl Shop {
    /// `WC_REST_Authentication::authenticate`: Basic (or the key in the query) first, as
    /// on a site behind TLS, then OAuth 1.0a.
    fn authenticate(
        &mut self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        params: &BTreeMap<String, String>,
    ) -> Result<Authenticated, Answer> {
        let basic = match (params.get("consumer_key"), params.get("consumer_secret")) {
            (Some(key), Some(secret)) if !key.is_empty() && !secret.is_empty() => {
                Some((key.clone(), secret.clone()))
            }
            _ => headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Basic "))
                .and_then(|encoded| {
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded.trim())
                        .ok()
                })
                .and_then(|decoded| String::from_utf8(decoded).ok())
                .and_then(|pair| {
                    pair.split_once(':')
                        .map(|(k, s)| (k.to_owned(), s.to_owned()))
                }),
        };
        if let Some((key, secret)) = basic
            && key == CONSUMER_KEY
        {
            return if constant_eq(secret.as_bytes(), CONSUMER_SECRET.as_bytes()) {
                Ok(Authenticated::Yes)
            } else {
                Err(auth_error("Consumer secret is invalid."))
            };
        }
        // An unknown key: core falls through to OAuth without an error of its own.

        const OAUTH: [&str; 5] = [
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        ];
        let missing: Vec<&str> = OAUTH
            .iter()
            .copied()
            .filter(|name| params.get(*name).is_none_or(|value| value.is_empty()))
            .collect();
        if missing.len() == OAUTH.len() {
            return Ok(Authenticated::No);
        }
        if !missing.is_empty() {
            let noun = if missing.len() == 1 {
                "parameter"
            } else {
                "parameters"
            };
            return Err(Answer::error(
                401,
                "woocommerce_rest_authentication_missing_parameter",
                &format!("Missing OAuth {noun} {}", missing.join(", ")),
            ));
        }
        let text = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
        if text("oauth_consumer_key") != CONSUMER_KEY {
            return Err(auth_error("Consumer key is invalid."));
        }
        let sha256 = match text("oauth_signature_method") {
            "HMAC-SHA256" => true,
            "HMAC-SHA1" => false,
            _ => {
                return Err(auth_error(
                    "Invalid signature - signature method is invalid.",
                ));
            }
        };
        let url = format!("{}{path}", self.base_url);
        let expected = oauth_signature(method.as_str(), &url, params, CONSUMER_SECRET, sha256);
        // Core: rawurldecode( str_replace( ' ', '+', $params['oauth_signature'] ) ).
        let given = text("oauth_signature").replace(' ', "+");
        let given = percent_decode(&given);
        if !constant_eq(expected.as_bytes(), given.as_bytes()) {
            return Err(auth_error(
                "Invalid signature - provided signature does not match.",
            ));
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let timestamp: i64 = text("oauth_timestamp").trim().parse().unwrap_or(0);
        if timestamp < now - OAUTH_WINDOW_SECS || timestamp > now + OAUTH_WINDOW_SECS {
            return Err(auth_error("Invalid timestamp."));
        }
        let nonce = text("oauth_nonce").to_owned();
        if self.used_nonces.contains_key(&nonce) {
            return Err(auth_error("Invalid nonce - nonce has already been used."));
        }
        self.used_nonces.insert(nonce, timestamp);
        if self.used_nonces.len() > 10_000 {
            self.used_nonces
                .retain(|_, used| *used >= now - OAUTH_WINDOW_SECS);
        }
        Ok(Authenticated::Yes)
    }

    fn route(
        &mut self,
        method: &Method,
        segments: &[&str],
        params: &BTreeMap<String, String>,
        body: &[u8],
        authenticated: Authenticated,
    ) -> Answer {
        let write = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
        let get = *method == Method::GET;
        let delete = *method == Method::DELETE;
        let id = |text: &str| text.parse::<u64>().ok();
        let route = match segments {
            ["orders"] if get => Route::Orders,
            ["orders", order] if get => match id(order) {
                Some(order) => Route::Order(order),
                None => return Answer::no_route(),
            },
            ["orders", order] if write => match id(order) {
                Some(order) => Route::UpdateOrder(order),
                None => return Answer::no_route(),
            },
            ["orders", order, "notes"] if get || *method == Method::POST => match id(order) {
                Some(order) if get => Route::Notes(order),
                Some(order) => Route::AddNote(order),
                None => return Answer::no_route(),
            },
            ["products"] if get => Route::Products,
            ["products", "batch"] if write => Route::ProductBatch,
            ["products", product] if get || write => match id(product) {
                Some(product) if get => Route::Product(product),
                Some(product) => Route::UpdateProduct(product),
                None => return Answer::no_route(),
            },
            ["products", product, "variations"] if get => match id(product) {
                Some(product) => Route::Variations(product),
                None => return Answer::no_route(),
            },
            ["products", product, "variations", "batch"] if write => match id(product) {
                Some(product) => Route::VariationBatch(product),
                None => return Answer::no_route(),
            },
            ["products", product, "variations", variation] if get || write => {
                match (id(product), id(variation)) {
                    (Some(product), Some(variation)) if get => Route::Variation(product, variation),
                    (Some(product), Some(variation)) => Route::UpdateVariation(product, variation),
                    _ => return Answer::no_route(),
                }
            }
            ["orders", order, "refunds"] if get => match id(order) {
                Some(order) => Route::Refunds(order),
                None => return Answer::no_route(),
            },
            ["webhooks"] if get => Route::Webhooks,
            ["webhooks"] if *method == Method::POST => Route::CreateWebhook,
            ["webhooks", webhook] if get || write || delete => match id(webhook) {
                Some(webhook) if get => Route::Webhook(webhook),
                Some(webhook) if delete => Route::DeleteWebhook(webhook),
                Some(webhook) => Route::UpdateWebhook(webhook),
                None => return Answer::no_route(),
            },
            ["payment_gateways"] if get => Route::PaymentGateways,
            _ => return Answer::no_route(),
        };
        if authenticated == Authenticated::No {
            // The permission callbacks refuse a visitor who is not logged in.
            return route.refused(401);
        }
        if self.forbidden {
            // ... and a logged-in user without the capability, with 403.
            return route.refused(403);
        }
        let json_body = || -> Result<Value, Answer> {
            if body.is_empty() {
                return Ok(json!({}));
            }
            serde_json::from_slice(body).or_else(|_| {
                // A form body carries the same fields as parameters.
                if params.is_empty() {
                    Err(Answer::error(
                        400,
                        "rest_invalid_json",
                        "Invalid JSON body passed.",
                    ))
                } else {
                    Ok(json!(params))
                }
            })
        };
        match route {
            Route::Orders => self.list_orders(params),
            Route::Order(order) => match self.orders.get(&order) {
                Some(stored) => Answer::ok(stored.json.clone()),
                None => invalid_order(),
            },
            Route::UpdateOrder(order) => match json_body() {
                Ok(body) => self.update_order_api(order, &body),
                Err(answer) => answer,
            },
            Route::Notes(order) => match self.orders.contains_key(&order) {
                true => {
                    let mut notes = self.notes.get(&order).cloned().unwrap_or_default();
                    notes.reverse();
                    Answer::ok(Value::Array(notes))
                }
                false => invalid_order(),
            },
            Route::AddNote(order) => match json_body() {
                Ok(body) => self.add_note(order, &body),
                Err(answer) => answer,
            },
            Route::Products => self.list_products(params),
            Route::Product(product) => match self.products.get(&product) {
                Some(product) => Answer::ok(self.product_json(product)),
                // The products controller reads any product object, variations too.
                None => match self.variations.get(&product) {
                    Some(variation) => {
                        let mut json = self.variation_json(variation);
                        json["type"] = json!("variation");
                        json["parent_id"] = json!(variation.parent);
                        Answer::ok(json)
                    }
                    None => {
                        Answer::error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                    }
                },
            },
            Route::UpdateProduct(product) => match json_body() {
                Ok(body) => self.update_product(product, &body, 404),
                Err(answer) => answer,
            },
            Route::ProductBatch => match json_body() {
                Ok(body) => self.batch(&body, None),
                Err(answer) => answer,
            },
            Route::Variations(product) => self.list_variations(product, params),
            Route::Variation(product, variation) => match self.variations.get(&variation) {
                Some(found) if found.parent == product => Answer::ok(self.variation_json(found)),
                _ => Answer::error(
                    404,
                    "woocommerce_rest_product_variation_invalid_id",
                    "Invalid ID.",
                ),
            },
            Route::UpdateVariation(product, variation) => match json_body() {
                Ok(body) => self.update_variation(product, variation, &body, 404),
                Err(answer) => answer,
            },
            Route::VariationBatch(product) => match json_body() {
                Ok(body) => {
                    if self
                        .products
                        .get(&product)
                        .is_none_or(|found| found.variable.is_none())
                    {
                        Answer::error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                    } else {
                        self.batch(&body, Some(product))
                    }
                }
                Err(answer) => answer,
            },
            Route::Refunds(order) => self.list_refunds(order, params),
            Route::Webhooks => self.list_webhooks(params),
            Route::CreateWebhook => match json_body() {
                Ok(body) => self.create_webhook(&body),
                Err(answer) => answer,
            },
            Route::Webhook(webhook) => self.get_webhook(webhook),
            Route::UpdateWebhook(webhook) => match json_body() {
                Ok(body) => self.update_webhook(webhook, &body),
                Err(answer) => answer,
            },
            Route::DeleteWebhook(webhook) => self.delete_webhook(webhook, params),
            Route::PaymentGateways => Answer::ok(Value::Array(self.payment_gateways.clone())),
        }
    }

    fn list_orders(&self, params: &BTreeMap<String, String>) -> Answer {
        let paging = match Paging::from_params(params) {
            Ok(paging) => paging,
            Err(answer) => return answer,
        };
        let gmt = params
            .get("dates_are_gmt")
            .is_some_and(|value| matches!(value.to_lowercase().as_str(), "true" | "1" | "yes"));
        let mut bounds = Vec::new();
        for (param, modified, after) in [
            ("after", false, true),
            ("before", false, false),
            ("modified_after", true, true),
            ("modified_before", true, false),
        ] {
            if let Some(value) = params.get(param) {
                match filter_date(value, gmt) {
                    Some(at) => bounds.push((modified, after, at)),
                    None => return Answer::invalid_param(param, "Invalid date."),
                }
            }
        }
        let statuses: Vec<String> = match params.get("status") {
            None => vec!["any".into()],
            Some(value) => value
                .split(',')
                .map(|part| part.trim().to_owned())
                .collect(),
        };
        for status in &statuses {
            if status != "any" && !ORDER_STATUSES.contains(&status.as_str()) {
                return Answer::invalid_param(
                    "status",
                    &format!(
                        "status[0] is not one of any, {}.",
                        ORDER_STATUSES.join(", ")
                    ),
                );
            }
        }
        let include: Option<HashSet<u64>> = params.get("include").map(|value| {
            value
                .split(',')
                .filter_map(|part| part.trim().parse().ok())
                .collect()
        });
        let customer: Option<u64> = params.get("customer").and_then(|value| value.parse().ok());
        let orderby = params.get("orderby").map_or("date", String::as_str);
        if !matches!(
            orderby,
            "date" | "id" | "include" | "title" | "slug" | "modified"
        ) {
            return Answer::invalid_param(
                "orderby",
                "orderby is not one of date, id, include, title, slug, modified.",
            );
        }
        let mut matching: Vec<&StoredOrder> = self
            .orders
            .values()
            .filter(|order| {
                let status_ok = statuses.iter().any(|status| {
                    if status == "any" {
                        order.status != "trash"
                    } else {
                        &order.status == status
                    }
                });
                status_ok
                    && include
                        .as_ref()
                        .is_none_or(|ids| ids.contains(&order.json["id"].as_u64().unwrap_or(0)))
                    && customer.is_none_or(|customer| order.customer_id == customer)
                    && bounds.iter().all(|(modified, after, at)| {
                        let column = match (modified, gmt) {
                            (true, true) => &order.modified_gmt,
                            (true, false) => &order.modified_local,
                            (false, true) => &order.created_gmt,
                            (false, false) => &order.created_local,
                        };
                        // WP_Date_Query: `after` and `before` are exclusive.
                        if *after {
                            column.as_str() > at.as_str()
                        } else {
                            column.as_str() < at.as_str()
                        }
                    })
            })
            .collect();
        let key = |order: &StoredOrder| -> (String, u64) {
            let id = order.json["id"].as_u64().unwrap_or(0);
            match orderby {
                "id" | "include" | "title" | "slug" => (String::new(), id),
                "modified" => (order.modified_gmt.clone(), id),
                _ => (order.created_gmt.clone(), id),
            }
        };
        matching.sort_by_cached_key(|order| key(order));
        if paging.descending {
            matching.reverse();
        }
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(paging.skip())
            .take(paging.per_page)
            .map(|order| order.json.clone())
            .collect();
        let mut answer = Answer::ok(Value::Array(page));
        answer.headers = paging.headers(&self.base_url, "/orders", params, total);
        answer
    }

    /// `PUT /orders/{id}`: `status` first, then `set_paid`, which completes the payment
    /// only of an order awaiting one (`needs_payment()`: pending or failed, total above
    /// zero), as `WC_REST_Orders_Controller::save_object` does.
    fn update_order_api(&mut self, id: u64, body: &Value) -> Answer {
        let Some(stored) = self.orders.get(&id) else {
            return Answer::error(400, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
        };
        let mut json = stored.json.clone();
        let now = OffsetDateTime::now_utc();
        if let Some(status) = body.get("status") {
            let Some(status) = status
                .as_str()
                .filter(|status| ORDER_STATUSES.contains(status))
            else {
                return Answer::invalid_param(
                    "status",
                    &format!("status is not one of {}.", ORDER_STATUSES.join(", ")),
                );
            };
            json["status"] = json!(status);
        }
        let set_paid = match body.get("set_paid") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => {
                return Answer::invalid_param("set_paid", "set_paid is not of type boolean.");
            }
        };
        let needs_payment = matches!(json["status"].as_str(), Some("pending" | "failed"))
            && dec(json["total"].as_str().unwrap_or("0")) > Decimal::ZERO;
        if set_paid && needs_payment {
            // `payment_complete()`: processing for goods that need it, the paid date.
            json["status"] = json!("processing");
            set_dates(&mut json, "date_paid", now);
        }
        // WC_Order::maybe_set_date_paid / maybe_set_date_completed.
        let status = json["status"].as_str().unwrap_or_default().to_owned();
        if matches!(status.as_str(), "processing" | "completed") && json["date_paid"].is_null() {
            set_dates(&mut json, "date_paid", now);
        }
        if status == "completed" && json["date_completed"].is_null() {
            set_dates(&mut json, "date_completed", now);
        }
        json["needs_payment"] =
            json!(json["date_paid"].is_null() && matches!(status.as_str(), "pending" | "failed"));
        for field in [
            "customer_note",
            "transaction_id",
            "payment_method",
            "payment_method_title",
        ] {
            if let Some(value) = body.get(field).and_then(Value::as_str) {
                json[field] = json!(value);
            }
        }
        set_dates(&mut json, "date_modified", now);
        self.follow_stock(id, &json);
        self.orders.insert(id, StoredOrder::new(json.clone()));
        Answer::ok(json)
    }

    /// WordPress's REST index (`GET /wp-json/`), honouring `_fields`.
    fn site_index(&self, query: &str) -> Answer {
        let base = &self.base_url;
        let index = json!({
            "name": SITE_NAME,
            "description": "Majice, skodelice in kava",
            "url": base,
            "home": base,
            "gmt_offset": SITE_OFFSET_HOURS,
            "timezone_string": "Europe/Ljubljana",
            "namespaces": ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wp/v2"],
            "authentication": [],
            "routes": {},
        });
        let fields: Option<Vec<String>> = url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "_fields")
            .map(|(_, value)| {
                value
                    .split(',')
                    .map(|field| field.trim().to_owned())
                    .collect()
            });
        match (fields, index) {
            (Some(fields), Value::Object(all)) => Answer::ok(Value::Object(
                all.into_iter()
                    .filter(|(key, _)| fields.contains(key))
                    .collect(),
            )),
            (_, index) => Answer::ok(index),
        }
    }

    fn add_note(&mut self, order: u64, body: &Value) -> Answer {
        if !self.orders.contains_key(&order) {
            return invalid_order();
        }
        let Some(text) = body
            .get("note")
            .and_then(Value::as_str)
            .filter(|note| !note.is_empty())
        else {
            return Answer::error(
                400,
                "rest_missing_callback_param",
                "Missing parameter(s): note",
            );
        };
        let customer_note = body.get("customer_note").is_some_and(|value| match value {
            Value::Bool(flag) => *flag,
            Value::String(text) => matches!(text.as_str(), "true" | "1" | "yes"),
            Value::Number(number) => number.as_i64() == Some(1),
            _ => false,
        });
        let id = self.next_comment_id;
        self.next_comment_id += 1;
        let mut note = json!({
            "id": id,
            "author": "system",
            "note": text,
            "customer_note": customer_note,
            "_links": {
                "self": [{"href": format!("{}{API_PREFIX}/orders/{order}/notes/{id}", self.base_url)}],
                "up": [{"href": format!("{}{API_PREFIX}/orders/{order}", self.base_url)}],
            },
        });
        set_dates(&mut note, "date_created", OffsetDateTime::now_utc());
        self.notes.entry(order).or_default().push(note.clone());
        Answer::created(note)
    }

    fn list_products(&self, params: &BTreeMap<String, String>) -> Answer {
        let paging = match Paging::from_params(params) {
            Ok(paging) => paging,
            Err(answer) => return answer,
        };
        let sku = params.get("sku");
        let kind = params.get("type");
        // `include` lists products only: variations are another post type.
        let include: Option<HashSet<u64>> = params.get("include").map(|ids| {
            ids.split(',')
                .filter_map(|id| id.trim().parse().ok())
                .collect()
        });
        let mut matching: Vec<&Product> = self
            .products
            .values()
            .filter(|product| sku.is_none_or(|sku| sku.split(',').any(|one| one == product.sku)))
            .filter(|product| include.as_ref().is_none_or(|ids| ids.contains(&product.id)))
            .filter(|product| {
                kind.is_none_or(|kind| {
                    (kind == "variable") == product.variable.is_some()
                        && matches!(kind.as_str(), "simple" | "variable")
                })
            })
            .collect();
        matching.sort_by_key(|product| (product.created, product.id));
        if paging.descending {
            matching.reverse();
        }
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(paging.skip())
            .take(paging.per_page)
            .map(|product| self.product_json(product))
            .collect();
        let mut answer = Answer::ok(Value::Array(page));
        answer.headers = paging.headers(&self.base_url, "/products", params, total);
        answer
    }

    fn list_variations(&self, product: u64, params: &BTreeMap<String, String>) -> Answer {
        let Some(parent) = self.products.get(&product) else {
            return Answer::error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.");
        };
        let paging = match Paging::from_params(params) {
            Ok(paging) => paging,
            Err(answer) => return answer,
        };
        let sku = params.get("sku");
        let mut matching: Vec<&Variation> = parent
            .variable
            .as_ref()
            .map(|info| {
                info.variations
                    .iter()
                    .filter_map(|id| self.variations.get(id))
                    .collect()
            })
            .unwrap_or_default();
        matching.retain(|variation| sku.is_none_or(|sku| *sku == variation.sku));
        // Variations list by menu order, then id.
        if paging.descending {
            matching.reverse();
        }
        let total = matching.len();
        let page: Vec<Value> = matching
            .into_iter()
            .skip(paging.skip())
            .take(paging.per_page)
            .map(|variation| self.variation_json(variation))
            .collect();
        let mut answer = Answer::ok(Value::Array(page));
        answer.headers = paging.headers(
            &self.base_url,
            &format!("/products/{product}/variations"),
            params,
            total,
        );
        answer
    }

    /// `POST /products/batch` or `/products/{id}/variations/batch`: per-item results, an
    /// item that fails carries `{"id", "error": {...}}` instead of the object.
    fn batch(&mut self, body: &Value, parent: Option<u64>) -> Answer {
        let list = |name: &str| {
            body.get(name)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let (create, update, delete) = (list("create"), list("update"), list("delete"));
        if create.len() + update.len() + delete.len() > BATCH_LIMIT {
            return Answer::error(
                413,
                "woocommerce_rest_request_entity_too_large",
                &format!("Unable to accept more than {BATCH_LIMIT} items for this request."),
            );
        }
        let mut answer = json!({});
        if !create.is_empty() {
            let results: Vec<Value> = create
                .iter()
                .map(|_| {
                    json!({"id": 0, "error": {"code": "woocommerce_rest_cannot_create", "message": "The fake WooCommerce does not create products.", "data": {"status": 400}}})
                })
                .collect();
            answer["create"] = Value::Array(results);
        }
        if !update.is_empty() {
            let mut results = Vec::with_capacity(update.len());
            for item in &update {
                let id = item.get("id").and_then(|id| {
                    id.as_u64()
                        .or_else(|| id.as_str().and_then(|id| id.parse().ok()))
                });
                let result = match (id, parent) {
                    (Some(id), None) => self.update_product(id, item, 400),
                    (Some(id), Some(parent)) => self.update_variation(parent, id, item, 400),
                    (None, _) => {
                        Answer::error(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
                    }
                };
                results.push(if result.status.is_success() {
                    result.body
                } else {
                    json!({"id": id.unwrap_or(0), "error": result.body})
                });
            }
            answer["update"] = Value::Array(results);
        }
        if !delete.is_empty() {
            let results: Vec<Value> = delete
                .iter()
                .map(|id| {
                    json!({"id": id, "error": {"code": "woocommerce_rest_cannot_delete", "message": "The fake WooCommerce does not delete products.", "data": {"status": 500}}})
                })
                .collect();
            answer["delete"] = Value::Array(results);
        }
        Answer::ok(answer)
    }

    /// `PUT /products/{id}`; `missing` is the status for an unknown id (404 on the single
    /// endpoint, 400 inside a batch, as core answers).
    fn update_product(&mut self, id: u64, body: &Value, missing: u16) -> Answer {
        let Some(product) = self.products.get_mut(&id) else {
            return Answer::error(
                missing,
                "woocommerce_rest_product_invalid_id",
                "Invalid ID.",
            );
        };
        let stock = apply_stock(&mut product.manage_stock, &mut product.stock, body);
        if let Err(answer) = stock {
            return answer;
        }
        if let Some(price) = body.get("regular_price").and_then(Value::as_str) {
            product.price = dec(price);
        }
        if let Some(sku) = body.get("sku").and_then(Value::as_str) {
            product.sku = sku.into();
        }
        if let Some(name) = body.get("name").and_then(Value::as_str) {
            product.name = name.into();
        }
        product.modified = OffsetDateTime::now_utc();
        let product = product.clone();
        Answer::ok(self.product_json(&product))
    }

    fn update_variation(&mut self, parent: u64, id: u64, body: &Value, missing: u16) -> Answer {
        let Some(variation) = self
            .variations
            .get_mut(&id)
            .filter(|variation| variation.parent == parent)
        else {
            return Answer::error(
                missing,
                "woocommerce_rest_product_variation_invalid_id",
                "Invalid ID.",
            );
        };
        if let Err(answer) = apply_stock(&mut variation.manage_stock, &mut variation.stock, body) {
            return answer;
        }
        if let Some(price) = body.get("regular_price").and_then(Value::as_str) {
            variation.price = dec(price);
        }
        if let Some(sku) = body.get("sku").and_then(Value::as_str) {
            variation.sku = sku.into();
        }
        variation.modified = OffsetDateTime::now_utc();
        let variation = variation.clone();
        Answer::ok(self.variation_json(&variation))
    }

    fn product_json(&self, product: &Product) -> Value {
        let base = &self.base_url;
        let slug = slug(&product.name);
        let (kind, price, attributes, variations, stock_status) = match &product.variable {
            Some(info) => {
                let children: Vec<&Variation> = info
                    .variations
                    .iter()
                    .filter_map(|id| self.variations.get(id))
                    .collect();
                let price = children
                    .iter()
                    .map(|child| child.price)
                    .min()
                    .unwrap_or_default();
                let options: Vec<&str> =
                    children.iter().map(|child| child.option.as_str()).collect();
                let in_stock = children
                    .iter()
                    .any(|child| !child.manage_stock || child.stock.unwrap_or(0) > 0);
                (
                    "variable",
                    price,
                    json!([{"id": 0, "name": info.attribute, "slug": info.attribute.to_lowercase(), "position": 0, "visible": true, "variation": true, "options": options}]),
                    json!(info.variations),
                    if in_stock { "instock" } else { "outofstock" },
                )
            }
            None => (
                "simple",
                product.price,
                json!([]),
                json!([]),
                stock_status(product.manage_stock, product.stock),
            ),
        };
        let regular = if product.variable.is_some() {
            String::new()
        } else {
            amount(price)
        };
        let mut json = json!({
            "id": product.id,
            "name": product.name,
            "slug": slug,
            "permalink": format!("{base}/product/{slug}/"),
            "type": kind,
            "status": "publish",
            "featured": false,
            "catalog_visibility": "visible",
            "description": "",
            "short_description": "",
            "sku": product.sku,
            "price": amount(price),
            "regular_price": regular,
            "sale_price": "",
            "on_sale": false,
            "purchasable": true,
            "total_sales": 0,
            "virtual": false,
            "downloadable": false,
        });
        let stock = json!({
            "tax_status": "taxable",
            "tax_class": product.tax_class,
            "manage_stock": product.manage_stock,
            "stock_quantity": if product.manage_stock { json!(product.stock) } else { Value::Null },
            "stock_status": stock_status,
            "backorders": "no",
            "backorders_allowed": false,
            "backordered": false,
            "weight": "",
            "parent_id": 0,
            "categories": [],
            "attributes": attributes,
            "default_attributes": [],
            "variations": variations,
            "meta_data": [],
            "_links": {
                "self": [{"href": format!("{base}{API_PREFIX}/products/{}", product.id)}],
                "collection": [{"href": format!("{base}{API_PREFIX}/products")}],
            },
        });
        merge(&mut json, stock);
        set_dates(&mut json, "date_created", product.created);
        set_dates(&mut json, "date_modified", product.modified);
        json
    }

    fn variation_json(&self, variation: &Variation) -> Value {
        let base = &self.base_url;
        let parent = self.products.get(&variation.parent);
        let attribute = parent
            .and_then(|parent| parent.variable.as_ref())
            .map(|info| info.attribute.clone())
            .unwrap_or_default();
        let parent_slug = parent.map(|parent| slug(&parent.name)).unwrap_or_default();
        let mut json = json!({
            "id": variation.id,
            "description": "",
            "permalink": format!("{base}/product/{parent_slug}/?attribute_pa_{}={}", attribute.to_lowercase(), variation.option.to_lowercase()),
            "sku": variation.sku,
            "price": amount(variation.price),
            "regular_price": amount(variation.price),
            "sale_price": "",
            "on_sale": false,
            "status": "publish",
            "purchasable": true,
            "virtual": false,
            "downloadable": false,
            "tax_status": "taxable",
            "tax_class": "",
            "manage_stock": variation.manage_stock,
            "stock_quantity": if variation.manage_stock { json!(variation.stock) } else { Value::Null },
            "stock_status": stock_status(variation.manage_stock, variation.stock),
            "backorders": "no",
            "backorders_allowed": false,
            "backordered": false,
            "weight": "",
            "attributes": [{"id": 0, "name": attribute, "option": variation.option}],
            "menu_order": 0,
            "meta_data": [],
            "_links": {
                "self": [{"href": format!("{base}{API_PREFIX}/products/{}/variations/{}", variation.parent, variation.id)}],
                "collection": [{"href": format!("{base}{API_PREFIX}/products/{}/variations", variation.parent)}],
                "up": [{"href": format!("{base}{API_PREFIX}/products/{}", variation.parent)}],
            },
        });
        set_dates(&mut json, "date_created", variation.created);
        set_dates(&mut json, "date_modified", variation.modified);
        json
    }
}

/// Adds `extra`'s fields to the object `into`.
fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

fn invalid_order() -> Answer {
    Answer::error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_owned()
}

fn stock_status(manage_stock: bool, stock: Option<i64>) -> &'static str {
    if manage_stock && stock.unwrap_or(0) <= 0 {
        "outofstock"
    } else {
        "instock"
    }
}

/// `manage_stock` and `stock_quantity` as `WC_REST_Products_Controller` applies them: the
/// quantity sticks only while stock is managed.
fn apply_stock(
    manage_stock: &mut bool,
    stock: &mut Option<i64>,
    body: &Value,
) -> Result<(), Answer> {
    if let Some(manage) = body.get("manage_stock") {
        match manage {
            Value::Bool(flag) => *manage_stock = *flag,
            Value::String(text) if text == "parent" => {}
            _ => {
                return Err(Answer::invalid_param(
                    "manage_stock",
                    "manage_stock is not of type boolean.",
                ));
            }
        }
    }
    if let Some(quantity) = body.get("stock_quantity") {
        let Some(quantity) = quantity
            .as_i64()
            .or_else(|| quantity.as_str().and_then(|q| q.trim().parse().ok()))
        else {
            return Err(Answer::invalid_param(
                "stock_quantity",
                "stock_quantity is not of type integer.",
            ));
        };
        if *manage_stock {
            *stock = Some(quantity);
        }
    }
    if !*manage_stock {
        *stock = None;
    }
    Ok(())
}

/// `page`/`per_page`/`offset`/`order` as core's collection parameters validate them.
struct Paging {
    page: usize,
    per_page: usize,
    offset: Option<usize>,
    descending: bool,
}

impl Paging {
    fn from_params(params: &BTreeMap<String, String>) -> Result<Self, Answer> {
        let number = |name: &str, default: usize| -> Result<usize, Answer> {
            match params.get(name) {
                None => Ok(default),
                Some(value) => value
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .and_then(|value| usize::try_from(value).ok())
                    .ok_or_else(|| {
                        Answer::invalid_param(name, &format!("{name} is not of type integer."))
                    }),
            }
        };
        let per_page = number("per_page", 10)?;
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(Answer::invalid_param(
                "per_page",
                &format!("per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)"),
            ));
        }
        let page = number("page", 1)?;
        if page < 1 {
            return Err(Answer::invalid_param(
                "page",
                "page must be greater than or equal to 1",
            ));
        }
        let offset = params
            .get("offset")
            .map(|_| number("offset", 0))
            .transpose()?;
        let descending = match params.get("order").map(String::as_str) {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                return Err(Answer::invalid_param(
                    "order",
                    "order is not one of asc, desc.",
                ));
            }
        };
        Ok(Self {
            page,
            per_page,
            offset,
            descending,
        })
    }

    fn skip(&self) -> usize {
        self.offset
            .unwrap_or((self.page - 1).saturating_mul(self.per_page))
    }

    /// `X-WP-Total`, `X-WP-TotalPages` and `Link`, built (as WordPress does) from the
    /// request's own query parameters with `page` replaced.
    fn headers(
        &self,
        base_url: &str,
        route: &str,
        params: &BTreeMap<String, String>,
        total: usize,
    ) -> Vec<(String, String)> {
        let pages = total.div_ceil(self.per_page);
        let mut headers = vec![
            ("X-WP-Total".to_owned(), total.to_string()),
            ("X-WP-TotalPages".to_owned(), pages.to_string()),
        ];
        let link = |page: usize| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (key, value) in params {
                if key != "page" {
                    query.append_pair(key, value);
                }
            }
            query.append_pair("page", &page.to_string());
            format!("{base_url}{API_PREFIX}{route}?{}", query.finish())
        };
        let mut links = Vec::new();
        if self.page > 1 {
            let prev = (self.page - 1).min(pages.max(1));
            links.push(format!("<{}>; rel=\"prev\"", link(prev)));
        }
        if self.page < pages {
            links.push(format!("<{}>; rel=\"next\"", link(self.page + 1)));
        }
        if !links.is_empty() {
            headers.push(("Link".to_owned(), links.join(", ")));
        }
        headers
    }
}

/// A date filter's value as a naive string comparable with the stored columns: a value
/// with a zone is moved to GMT (or site time); a naive one is taken as it is.
fn filter_date(value: &str, gmt: bool) -> Option<String> {
    let value = value.trim();
    let valid = value.len() >= 19
        && value.as_bytes().get(10) == Some(&b'T')
        && PrimitiveDateTime::parse(
            &value[..19],
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        )
        .is_ok();
    if !valid {
        return None;
    }
    let rest = value[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if rest.is_empty() {
        return Some(value[..19].to_owned());
    }
    let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).ok()?;
    Some(if gmt { gmt_of(at) } else { local(at) })
}

fn gmt_of(at: OffsetDateTime) -> String {
    gmt(at)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// JSON as PHP's `json_encode` writes it (what `wp_json_encode` sends): `/` escaped as
/// `\/`, every non-ASCII character as `\uXXXX` (UTF-16).
fn php_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            // Both only ever occur inside strings in serialized JSON.
            '/' => out.push_str("\\/"),
            c if !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Which tax total a charge's tax counts towards on the order's tax line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Charge {
    Shipping,
    Fee,
}

/// A shipping or fee amount taxed at the standard rate, as WooCommerce computes it:
/// (net amount, tax rounded to the cent, the `taxes` array with the unrounded tax). The
/// tax is added to the rate's (cart and fee tax, shipping tax) in `tax_totals`.
fn standard_taxed(
    net: &str,
    standard: Option<&TaxRate>,
    tax_totals: &mut BTreeMap<u64, (Decimal, Decimal)>,
    charge: Charge,
) -> (Decimal, Decimal, Value) {
    let net = round2(dec(net));
    let Some(rate) = standard else {
        return (net, Decimal::ZERO, json!([]));
    };
    let tax_raw = net * rate.percent / Decimal::ONE_HUNDRED;
    let tax = round2(tax_raw);
    let totals = tax_totals.entry(rate.id).or_default();
    match charge {
        Charge::Shipping => totals.1 += tax,
        Charge::Fee => totals.0 += tax,
    }
    (
        net,
        tax,
        json!([{"id": rate.id, "total": raw_amount(tax_raw), "subtotal": ""}]),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A vector computed independently (Python's `hmac`/`urllib.parse.quote(safe='~')`)
    /// for `GET http://127.0.0.1:8080/wp-json/wc/v3/orders` with a date filter, whose `:`
    /// ends up double-encoded (`%253A`) in the base string.
    #[test]
    fn oauth_signature_matches_an_independent_computation() {
        let params: BTreeMap<String, String> = [
            ("oauth_consumer_key", "ck_test"),
            ("oauth_nonce", "abc123"),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", "1700000000"),
            ("modified_after", "2025-03-02T09:15:00"),
            ("per_page", "100"),
            ("status", "any"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let signature = oauth_signature(
            "GET",
            "http://127.0.0.1:8080/wp-json/wc/v3/orders",
            &params,
            "cs_test",
            true,
        );
        assert_eq!(signature, OAUTH_VECTOR_SHA256);
        let sha1 = oauth_signature(
            "GET",
            "http://127.0.0.1:8080/wp-json/wc/v3/orders",
            &params,
            "cs_test",
            false,
        );
        assert_eq!(sha1, OAUTH_VECTOR_SHA1);
    }

    const OAUTH_VECTOR_SHA256: &str = "XTqmZe/3MerNz9SPu5AcO7FkU2ruG07n4OD3jncfUQs=";
    const OAUTH_VECTOR_SHA1: &str = "Fqx4rGuHkypFaADB5QG9xFzMujQ=";

    #[test]
    fn rfc3986_encodes_like_rawurlencode() {
        assert_eq!(rfc3986("a b+c~d/e:f"), "a%20b%2Bc~d%2Fe%3Af");
        assert_eq!(rfc3986("ž"), "%C5%BE");
    }

    #[test]
    fn php_json_escapes_slashes_and_unicode() {
        let value = json!({"url": "http://x/y", "name": "Kovač 😀"});
        assert_eq!(
            php_json(&value),
            r#"{"name":"Kova\u010d \ud83d\ude00","url":"http:\/\/x\/y"}"#
        );
        let back: Value = serde_json::from_str(&php_json(&value)).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn filter_dates() {
        assert_eq!(
            filter_date("2025-03-02T09:15:00", true).as_deref(),
            Some("2025-03-02T09:15:00")
        );
        assert_eq!(
            filter_date("2025-03-02T09:15:00Z", true).as_deref(),
            Some("2025-03-02T09:15:00")
        );
        assert_eq!(
            filter_date("2025-03-02T09:15:00+01:00", true).as_deref(),
            Some("2025-03-02T08:15:00")
        );
        assert_eq!(
            filter_date("2025-03-02T09:15:00Z", false).as_deref(),
            Some("2025-03-02T10:15:00")
        );
        assert_eq!(filter_date("yesterday", true), None);
    }

    /// Checks the order identities the host validates, on the fake's own JSON.
    fn assert_adds_up(order: &Value) {
        let d = |value: &Value| dec(value.as_str().unwrap());
        let sum = |list: &str, field: &str| -> Decimal {
            order[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|line| d(&line[field]))
                .sum()
        };
        let lines = order["line_items"].as_array().unwrap();
        let items = sum("line_items", "total");
        let line_tax = sum("line_items", "total_tax");
        let shipping = sum("shipping_lines", "total");
        let shipping_tax = sum("shipping_lines", "total_tax");
        let fees = sum("fee_lines", "total");
        let fee_tax = sum("fee_lines", "total_tax");
        assert_eq!(d(&order["shipping_total"]), shipping);
        assert_eq!(d(&order["shipping_tax"]), shipping_tax);
        assert_eq!(d(&order["total_tax"]), line_tax + shipping_tax + fee_tax);
        assert_eq!(
            d(&order["total"]),
            items + shipping + fees + d(&order["total_tax"])
        );
        let discount: Decimal = lines
            .iter()
            .map(|l| d(&l["subtotal"]) - d(&l["total"]))
            .sum();
        assert_eq!(d(&order["discount_total"]), discount);
    }

    #[tokio::test]
    async fn totals_with_prices_without_tax_and_a_coupon() {
        let fake = FakeWoo::start().await.unwrap();
        let shirt = fake.add_simple_product("TS", "T-shirt", "15.00", Some(10));
        let book = fake.add_simple_product("BK", "Book", "24.90", None);
        fake.set_tax_class(book, "reduced-rate");
        let order = fake.create_order(
            &OrderSpec::new()
                .line(shirt, None, 2)
                .line(book, None, 1)
                .coupon("POLETJE10")
                .shipping("GLS", "4.05")
                .fee("Packing", "1.00"),
        );
        let lines = order["line_items"].as_array().unwrap();
        // 2 × 15.00 − 10 % = 27.00, tax 22 % = 5.94.
        assert_eq!(lines[0]["subtotal"], "30.00");
        assert_eq!(lines[0]["total"], "27.00");
        assert_eq!(lines[0]["total_tax"], "5.94");
        assert_eq!(lines[0]["price"], json!(13.5));
        // 24.90 − 2.49 = 22.41, tax 9.5 % = 2.12895 → 2.13.
        assert_eq!(lines[1]["total"], "22.41");
        assert_eq!(lines[1]["total_tax"], "2.13");
        assert_eq!(lines[1]["taxes"][0]["total"], "2.12895");
        assert_eq!(order["shipping_tax"], "0.89");
        assert_eq!(order["discount_total"], "5.49");
        assert_eq!(order["coupon_lines"][0]["code"], "poletje10");
        assert_eq!(order["coupon_lines"][0]["discount"], "5.49");
        // 27.00 + 22.41 + 4.05 + 1.00 + (5.94 + 2.13 + 0.89 + 0.22)
        assert_eq!(order["total"], "63.64");
        assert_eq!(order["tax_lines"].as_array().unwrap().len(), 2);
        assert_eq!(order["tax_lines"][0]["rate_percent"], json!(22));
        assert_eq!(order["tax_lines"][1]["rate_percent"], json!(9.5));
        assert_adds_up(&order);
        assert_eq!(fake.stock(shirt, None), Some(8), "processing reduces stock");
        assert!(order["date_paid_gmt"].is_string());
    }

    #[tokio::test]
    async fn totals_with_prices_including_tax() {
        let fake = FakeWoo::start().await.unwrap();
        let (mug, mugs) = fake.add_variable_product("Mug", &[("MUG-B", "Blue", "9.99", Some(5))]);
        let order = fake.create_order(
            &OrderSpec::new()
                .prices_include_tax(true)
                .line(mug, Some(mugs[0]), 3)
                .coupon("MINUS5"),
        );
        let line = &order["line_items"][0];
        // Gross 29.97 − 5 = 24.97; tax part 24.97 × 22/122 = 4.5028 → 4.50; net 20.47.
        assert_eq!(line["total"], "20.47");
        assert_eq!(line["total_tax"], "4.50");
        // Subtotal: 29.97 gross, tax 5.404 → 5.40, net 24.57.
        assert_eq!(line["subtotal"], "24.57");
        assert_eq!(line["subtotal_tax"], "5.40");
        assert_eq!(line["variation_id"], json!(mugs[0]));
        assert_eq!(line["name"], "Mug - Blue");
        assert_eq!(order["total"], "24.97");
        assert_adds_up(&order);
        assert_eq!(fake.stock(mug, Some(mugs[0])), Some(2));
    }

    #[tokio::test]
    async fn seeded_orders_add_up() {
        let fake = FakeWoo::start_seeded().await.unwrap();
        let shop = fake.lock();
        assert!(shop.orders.len() >= 9);
        let statuses: HashSet<&str> = shop.orders.values().map(|o| o.status.as_str()).collect();
        for status in ["processing", "refunded", "cancelled", "on-hold", "pending"] {
            assert!(statuses.contains(status), "{status}");
        }
        for order in shop.orders.values() {
            assert_adds_up(&order.json);
        }
    }

    /// Ten thousand orders, listed 100 per page through the API handler: no quadratic
    /// work per order (the benchmark's shape).
    #[tokio::test]
    async fn ten_thousand_orders_page_quickly() {
        let fake = FakeWoo::start().await.unwrap();
        let cap = fake.add_simple_product("CAP", "Cap", "12.90", None);
        let started = std::time::Instant::now();
        for _ in 0..10_000 {
            fake.create_order(&OrderSpec::new().line(cap, None, 1));
        }
        let mut seen = 0;
        for page in 1..=100 {
            let params: BTreeMap<String, String> = [
                ("per_page", "100".to_owned()),
                ("page", page.to_string()),
                ("order", "asc".to_owned()),
                ("modified_after", "2020-01-01T00:00:00".to_owned()),
                ("dates_are_gmt", "true".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let answer = fake.lock().list_orders(&params);
            seen += answer.body.as_array().unwrap().len();
            let _ = php_json(&answer.body);
        }
        assert_eq!(seen, 10_000);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }
}
