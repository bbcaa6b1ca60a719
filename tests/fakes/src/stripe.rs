//! A fake Stripe API on 127.0.0.1, pinned to API version [`API_VERSION`] (basil shapes).
//!
//! | path | what |
//! |---|---|
//! | `GET /v1/account`, `GET /v1/balance` | the account, its balance |
//! | `GET /v1/invoices` | `status`, `customer`, `created[gte/gt/lte/lt]`, `limit` ≤ 100 (default 10), `starting_after`; newest first; `has_more` |
//! | `GET /v1/invoices/{id}`, `GET /v1/invoices/{id}/lines` | an invoice holds its first 10 lines; the rest are paged through `/lines` |
//! | `GET /v1/checkout/sessions`, `/{id}`, `/{id}/line_items` | `status`, `payment_intent`, `customer`, `created[…]` filters; line item `taxes` only with `expand[]=data.taxes` |
//! | `GET /v1/customers/{id}`, `GET /v1/customers/{id}/tax_ids` | customers with tax ids (`eu_vat`) |
//! | `GET /v1/payment_intents/{id}` (`expand[]=latest_charge`), `GET /v1/charges/{id}` | payments |
//! | `GET /v1/refunds` (`payment_intent`, `charge`), `GET /v1/invoice_payments` (`invoice`, `payment[payment_intent]`) | refunds, invoice payments |
//! | `GET`, `POST /v1/webhook_endpoints`, `GET`, `POST`, `DELETE /v1/webhook_endpoints/{id}` | endpoints; the `secret` only in the answer to the creation |
//! | `GET /v1/events`, `GET /v1/events/{id}` | events |
//!
//! Includable fields (`payments` of an invoice, line item `taxes`) and expandable ones
//! (`discounts`, `latest_charge`) appear only when `expand[]` asks for them, as with
//! Stripe. Every request needs `Authorization: Bearer {SECRET_KEY}`; a wrong key gets
//! Stripe's 401 body (`Invalid API Key provided: sk_test_****1234`). Errors are Stripe's
//! error object. [`FakeStripe::set_down`] answers 503 and [`FakeStripe::throttle_next`]
//! 429 `rate_limit`.
//!
//! Webhook deliveries are signed like Stripe's: `Stripe-Signature: t={t},v1={hex
//! HMAC-SHA256("{t}.{body}", whole whsec_ secret)}`, with the secret of the endpoint
//! registered for the URL, else [`MANUAL_WEBHOOK_SECRET`] (an endpoint made in the
//! Dashboard). [`FakeStripe::roll_secret`] rolls an endpoint's secret: deliveries then
//! carry a `v1` for the new and one for the old secret.
//!
//! Assumed where the documentation leaves it open: a 429 carries no `Retry-After` unless
//! the test gives one; a webhook endpoint URL must be https (Stripe refuses others in
//! live mode; the fake always does, so a test service on http gets a manual setup).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use rand::Rng as _;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use sha2::Sha256;

/// The account's test-mode secret key.
pub const SECRET_KEY: &str =
    "sk_test_51QxTovorFakeStripeAccount0000000000000000000000000000009Z1234";
/// The signing secret of an endpoint the merchant made in the Dashboard (manual setup).
pub const MANUAL_WEBHOOK_SECRET: &str = "whsec_5f3b8c1d2e4a6b7c8d9e0f1a2b3c4d5e";
/// The API version the fake speaks and stamps on its events.
pub const API_VERSION: &str = "2025-03-31.basil";
/// The account's id.
pub const ACCOUNT_ID: &str = "acct_1QxTovorFake01";
/// The account's name in the Dashboard.
pub const ACCOUNT_NAME: &str = "Tovor Demo d.o.o.";
/// Lines an invoice object carries; the rest are paged through `/lines`.
pub const EMBEDDED_LINES: usize = 10;

pub use crate::webhook::Delivery;

impl Delivery {
    /// The same delivery with another `Stripe-Signature`.
    pub fn with_signature(&self, signature: &str) -> Self {
        let mut copy = self.clone();
        for (name, value) in &mut copy.headers {
            if name.eq_ignore_ascii_case("Stripe-Signature") {
                *value = signature.to_owned();
            }
        }
        copy
    }
}

/// A line to sell: description, unit amount (minor units), quantity, tax rate id.
#[derive(Debug, Clone)]
struct Item {
    description: String,
    unit_amount: i64,
    quantity: i64,
    tax_rate: Option<String>,
}

/// An invoice to create for a customer.
#[derive(Debug, Clone)]
pub struct InvoiceSpec {
    customer: String,
    currency: String,
    items: Vec<Item>,
    coupon: Option<String>,
    payment_method: String,
}

impl InvoiceSpec {
    pub fn new(customer: &str, currency: &str) -> Self {
        Self {
            customer: customer.to_owned(),
            currency: currency.to_ascii_lowercase(),
            items: Vec::new(),
            coupon: None,
            payment_method: "card".into(),
        }
    }

    /// A line: `unit_amount` in minor units, with the tax rate `txr_…` when given.
    pub fn item(
        mut self,
        description: &str,
        unit_amount: i64,
        quantity: i64,
        tax_rate: Option<&str>,
    ) -> Self {
        self.items.push(Item {
            description: description.to_owned(),
            unit_amount,
            quantity,
            tax_rate: tax_rate.map(str::to_owned),
        });
        self
    }

    pub fn coupon(mut self, coupon: &str) -> Self {
        self.coupon = Some(coupon.to_owned());
        self
    }

    /// How it is paid: `card`, `sepa_debit`, …
    pub fn paid_with(mut self, method: &str) -> Self {
        self.payment_method = method.to_owned();
        self
    }
}

/// A Checkout Session to complete.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    customer: Option<String>,
    guest: Option<Value>,
    currency: String,
    items: Vec<Item>,
    coupon: Option<String>,
    shipping: Option<(String, i64, Option<String>)>,
    payment_method: String,
    client_reference_id: Option<String>,
}

impl SessionSpec {
    pub fn new(currency: &str) -> Self {
        Self {
            customer: None,
            guest: None,
            currency: currency.to_ascii_lowercase(),
            items: Vec::new(),
            coupon: None,
            shipping: None,
            payment_method: "card".into(),
            client_reference_id: None,
        }
    }

    /// A signed-in customer `cus_…`.
    pub fn customer(mut self, customer: &str) -> Self {
        self.customer = Some(customer.to_owned());
        self
    }

    /// A guest: what Checkout collected.
    pub fn guest(
        mut self,
        name: &str,
        email: &str,
        line1: &str,
        city: &str,
        postal_code: &str,
        country: &str,
    ) -> Self {
        self.guest = Some(json!({
            "address": address(line1, city, postal_code, country),
            "email": email, "name": name, "phone": null, "tax_exempt": "none", "tax_ids": [],
        }));
        self
    }

    pub fn item(
        mut self,
        description: &str,
        unit_amount: i64,
        quantity: i64,
        tax_rate: Option<&str>,
    ) -> Self {
        self.items.push(Item {
            description: description.to_owned(),
            unit_amount,
            quantity,
            tax_rate: tax_rate.map(str::to_owned),
        });
        self
    }

    pub fn coupon(mut self, coupon: &str) -> Self {
        self.coupon = Some(coupon.to_owned());
        self
    }

    /// A shipping rate: name, amount (minor units), tax rate.
    pub fn shipping(mut self, name: &str, amount: i64, tax_rate: Option<&str>) -> Self {
        self.shipping = Some((name.to_owned(), amount, tax_rate.map(str::to_owned)));
        self
    }

    pub fn paid_with(mut self, method: &str) -> Self {
        self.payment_method = method.to_owned();
        self
    }

    pub fn reference(mut self, reference: &str) -> Self {
        self.client_reference_id = Some(reference.to_owned());
        self
    }
}

#[derive(Debug, Default)]
struct State {
    seq: u64,
    invoice_seq: u64,
    customers: Vec<Value>,
    tax_ids: BTreeMap<String, Vec<Value>>,
    tax_rates: BTreeMap<String, Value>,
    coupons: BTreeMap<String, Value>,
    discounts: BTreeMap<String, Value>,
    shipping_rates: BTreeMap<String, Value>,
    /// Invoices with all their lines, in creation order.
    invoices: Vec<Value>,
    sessions: Vec<Value>,
    session_lines: BTreeMap<String, Vec<Value>>,
    payment_intents: BTreeMap<String, Value>,
    charges: BTreeMap<String, Value>,
    refunds: Vec<Value>,
    invoice_payments: Vec<Value>,
    /// Endpoints with their secrets (and the previous secret while rolled).
    endpoints: Vec<Value>,
    events: Vec<Value>,
    down: bool,
    throttle: Option<(usize, Option<String>)>,
    requests: Vec<String>,
    versions: Vec<String>,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        let tail: String = (0..12)
            .map(|_| {
                let chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                chars[rand::rng().random_range(0..chars.len())] as char
            })
            .collect();
        format!("{prefix}_1Qx{:05}{tail}", self.seq)
    }

    fn event(&mut self, kind: &str, object: Value) -> String {
        let id = self.id("evt");
        self.events.push(json!({
            "id": id, "object": "event", "api_version": API_VERSION, "created": now(),
            "data": {"object": object}, "livemode": false, "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null}, "type": kind,
        }));
        id
    }

    fn invoice_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.invoices.iter_mut().find(|i| i["id"] == id)
    }
}

/// The fake Stripe.
pub struct FakeStripe {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakeStripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeStripe")
            .field("addr", &self.addr)
            .finish()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn address(line1: &str, city: &str, postal_code: &str, country: &str) -> Value {
    json!({"line1": line1, "line2": null, "city": city, "postal_code": postal_code, "state": null, "country": country})
}

fn round(value: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive as _;
    value
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or_default()
}

/// A line's amount, discount, tax and taxable amount, as Stripe computes them.
fn amounts(
    unit: i64,
    quantity: i64,
    rate: Option<&Value>,
    percent_off: Decimal,
) -> (i64, i64, i64, i64, bool) {
    let amount = unit * quantity;
    let discount = round(Decimal::from(amount) * percent_off / Decimal::ONE_HUNDRED);
    let after = amount - discount;
    let Some(rate) = rate else {
        return (amount, discount, 0, after, false);
    };
    let percentage: Decimal = rate["percentage"].to_string().parse().unwrap_or_default();
    let inclusive = rate["inclusive"].as_bool().unwrap_or(false);
    if inclusive {
        let net = Decimal::from(after) / (Decimal::ONE + percentage / Decimal::ONE_HUNDRED);
        let tax = round(Decimal::from(after) - net);
        (amount, discount, tax, after - tax, true)
    } else {
        let tax = round(Decimal::from(after) * percentage / Decimal::ONE_HUNDRED);
        (amount, discount, tax, after, false)
    }
}

fn error_body(
    status: StatusCode,
    kind: &str,
    code: Option<&str>,
    message: &str,
    param: Option<&str>,
) -> Response {
    let mut error = json!({"type": kind, "message": message});
    if let Some(code) = code {
        error["code"] = json!(code);
        error["doc_url"] = json!(format!(
            "https://stripe.com/docs/error-codes/{}",
            code.replace('_', "-")
        ));
    }
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    (
        status,
        [
            ("content-type", "application/json"),
            ("request-id", "req_fake"),
        ],
        json!({ "error": error }).to_string(),
    )
        .into_response()
}

fn missing(what: &str, id: &str) -> Box<Response> {
    Box::new(error_body(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {what}: '{id}'"),
        Some("id"),
    ))
}

fn ok(value: Value) -> Response {
    (
        StatusCode::OK,
        [
            ("content-type", "application/json"),
            ("request-id", "req_fake"),
        ],
        value.to_string(),
    )
        .into_response()
}

/// `sk_test_****1234`, as Stripe masks a key it refuses.
fn masked(key: &str) -> String {
    let prefix: String = key.chars().take(8).collect();
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{prefix}****{tail}")
}

/// A query or form: every `(key, value)` in order.
type Params = Vec<(String, String)>;

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn params_all<'a>(params: &'a Params, name: &str) -> Vec<&'a str> {
    params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Whether `created` passes the `created[…]` filters.
fn created_matches(params: &Params, created: i64) -> bool {
    let bound =
        |op: &str| param(params, &format!("created[{op}]")).and_then(|v| v.parse::<i64>().ok());
    bound("gte").is_none_or(|b| created >= b)
        && bound("gt").is_none_or(|b| created > b)
        && bound("lte").is_none_or(|b| created <= b)
        && bound("lt").is_none_or(|b| created < b)
        && param(params, "created")
            .and_then(|v| v.parse::<i64>().ok())
            .is_none_or(|b| created == b)
}

/// A list page of `items` (newest first already) after `starting_after`.
fn page(params: &Params, items: Vec<Value>, url: &str) -> Result<Value, Box<Response>> {
    let limit = match param(params, "limit") {
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(Box::new(error_body(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("parameter_invalid_integer"),
                    "Invalid integer: limit must be between 1 and 100",
                    Some("limit"),
                )));
            }
        },
        None => 10,
    };
    let start = match param(params, "starting_after") {
        Some(after) => match items.iter().position(|i| i["id"] == after) {
            Some(index) => index + 1,
            None => {
                return Err(Box::new(error_body(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    Some("resource_missing"),
                    &format!("No such object: '{after}'"),
                    Some("starting_after"),
                )));
            }
        },
        None => 0,
    };
    let rest: Vec<Value> = items.into_iter().skip(start).collect();
    let has_more = rest.len() > limit;
    let data: Vec<Value> = rest.into_iter().take(limit).collect();
    Ok(json!({"object": "list", "data": data, "has_more": has_more, "url": url}))
}

impl FakeStripe {
    /// An empty account on a free port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake Stripe to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { handle(&state, &method, &uri, &headers, &body) }
            },
        );
        crate::serve_in_background("Stripe", listener, app);
        Ok(Self { state, addr })
    }

    /// An account with realistic history: EUR invoices with 22 % and 9.5 % VAT and a
    /// coupon for a customer with an `eu_vat` id, a CHF invoice with more lines than an
    /// invoice embeds, a JPY invoice (zero-decimal), a voided and a refunded invoice, a
    /// guest Checkout Session with VAT-inclusive prices and shipping, and a USD session
    /// refunded in part.
    pub async fn start_seeded() -> anyhow::Result<Self> {
        let stripe = Self::start().await?;
        let vat22 = stripe.create_tax_rate("DDV", "22", false, "SI");
        let vat95 = stripe.create_tax_rate("DDV", "9.5", false, "SI");
        let vat22_incl = stripe.create_tax_rate("DDV", "22", true, "SI");
        let mwst = stripe.create_tax_rate("MWST", "8.1", false, "CH");
        let jct = stripe.create_tax_rate("JCT", "10", false, "JP");
        let spring = stripe.create_coupon("SPRING10", 10);
        let ana = stripe.create_customer(
            "Ana Novak",
            "ana@example.test",
            ("Slovenska cesta 12a", "Ljubljana", "1000", "SI"),
            Some(("eu_vat", "SI12345678")),
        );
        let hans = stripe.create_customer(
            "Hans Muster",
            "hans@example.test",
            ("Bahnhofstrasse 1", "Zürich", "8001", "CH"),
            Some(("ch_vat", "CHE-123.456.789 MWST")),
        );
        let taro = stripe.create_customer(
            "Taro Yamada",
            "taro@example.test",
            ("1-1 Chiyoda", "Tokyo", "100-0001", "JP"),
            None,
        );
        let marko = stripe.create_customer(
            "Marko Kranjc",
            "marko@example.test",
            ("Ilica 1", "Zagreb", "10000", "HR"),
            None,
        );

        stripe.paid_invoice(
            &InvoiceSpec::new(&ana, "eur")
                .item("Organic T-shirt M", 2000, 2, Some(&vat22))
                .item("Cookbook", 1500, 1, Some(&vat95))
                .coupon(&spring),
        );
        let mut chf = InvoiceSpec::new(&hans, "chf");
        for hour in 1..=12 {
            chf = chf.item(
                &format!("Consulting, session {hour}"),
                15_000,
                1,
                Some(&mwst),
            );
        }
        stripe.paid_invoice(&chf);
        stripe.paid_invoice(&InvoiceSpec::new(&taro, "jpy").item(
            "Matcha tea tin",
            1500,
            3,
            Some(&jct),
        ));
        let voided = stripe.create_invoice(&InvoiceSpec::new(&marko, "eur").item(
            "Workshop seat",
            9900,
            1,
            Some(&vat22),
        ));
        stripe.finalize_invoice(&voided);
        stripe.void_invoice(&voided);
        let (refunded, _) = stripe.paid_invoice(
            &InvoiceSpec::new(&marko, "eur")
                .item("Yoga mat", 3490, 1, Some(&vat22))
                .paid_with("sepa_debit"),
        );
        stripe.refund(&refunded, None);
        stripe.complete_session(
            &SessionSpec::new("eur")
                .guest(
                    "Eva Kos",
                    "eva@example.test",
                    "Prešernova ulica 5",
                    "Maribor",
                    "2000",
                    "SI",
                )
                .item("Ceramic mug", 1290, 1, Some(&vat22_incl))
                .item("Wool socks", 500, 2, Some(&vat22_incl))
                .shipping("Pošta Slovenije", 490, Some(&vat22_incl)),
        );
        let (poster, _) = stripe.complete_session(
            &SessionSpec::new("usd")
                .customer(&hans)
                .item("Poster", 2500, 1, None)
                .reference("WEB-1042"),
        );
        stripe.refund(&poster, Some(500));
        Ok(stripe)
    }

    /// `http://127.0.0.1:PORT`: what replaces `https://api.stripe.com`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A tax rate (`percentage` as a decimal string); returns its `txr_…` id.
    pub fn create_tax_rate(
        &self,
        display_name: &str,
        percentage: &str,
        inclusive: bool,
        country: &str,
    ) -> String {
        let mut state = self.lock();
        let id = state.id("txr");
        let percentage: f64 = percentage.parse().unwrap_or_default();
        state.tax_rates.insert(id.clone(), json!({
            "id": id, "object": "tax_rate", "active": true, "country": country, "created": now(),
            "description": null, "display_name": display_name, "effective_percentage": percentage,
            "inclusive": inclusive, "jurisdiction": country, "livemode": false,
            "percentage": percentage, "tax_type": "vat",
        }));
        id
    }

    /// A coupon taking `percent_off` off; returns its id (its name, as Stripe allows).
    pub fn create_coupon(&self, name: &str, percent_off: u32) -> String {
        let mut state = self.lock();
        state.coupons.insert(name.to_owned(), json!({
            "id": name, "object": "coupon", "amount_off": null, "currency": null, "duration": "once",
            "name": name, "percent_off": percent_off, "valid": true,
        }));
        name.to_owned()
    }

    /// A customer with an address `(line1, city, postal code, country)` and a tax id
    /// `(type, value)`; returns its `cus_…` id.
    pub fn create_customer(
        &self,
        name: &str,
        email: &str,
        addr: (&str, &str, &str, &str),
        tax_id: Option<(&str, &str)>,
    ) -> String {
        let mut state = self.lock();
        let id = state.id("cus");
        state.customers.push(json!({
            "id": id, "object": "customer", "address": address(addr.0, addr.1, addr.2, addr.3),
            "created": now(), "currency": null, "email": email, "livemode": false, "name": name,
            "phone": null, "shipping": null, "tax_exempt": "none",
        }));
        let mut ids = Vec::new();
        if let Some((kind, value)) = tax_id {
            let tax_id = state.id("txi");
            ids.push(json!({
                "id": tax_id, "object": "tax_id", "country": addr.3, "created": now(),
                "customer": id, "livemode": false, "type": kind, "value": value,
                "verification": {"status": "verified", "verified_address": null, "verified_name": null},
            }));
        }
        state.tax_ids.insert(id.clone(), ids);
        id
    }

    fn percent_off(state: &State, coupon: Option<&String>) -> Decimal {
        coupon
            .and_then(|c| state.coupons.get(c))
            .and_then(|c| c["percent_off"].as_u64())
            .map_or(Decimal::ZERO, Decimal::from)
    }

    /// A draft invoice; returns its `in_…` id.
    pub fn create_invoice(&self, spec: &InvoiceSpec) -> String {
        let mut state = self.lock();
        let id = state.id("in");
        let created = now();
        let percent = Self::percent_off(&state, spec.coupon.as_ref());
        let discount_id = spec.coupon.as_ref().map(|coupon| {
            let did = state.id("di");
            let coupon_obj = state.coupons.get(coupon).cloned().unwrap_or(Value::Null);
            state.discounts.insert(did.clone(), json!({
                "id": did, "object": "discount", "coupon": coupon_obj, "customer": spec.customer,
                "invoice": id, "promotion_code": null, "start": created,
            }));
            did
        });
        let mut lines = Vec::new();
        let (mut subtotal, mut discount_sum, mut exclusive_tax) = (0, 0, 0);
        let mut total_taxes: BTreeMap<String, (i64, i64, bool)> = BTreeMap::new();
        for item in &spec.items {
            let rate = item
                .tax_rate
                .as_ref()
                .and_then(|r| state.tax_rates.get(r))
                .cloned();
            let (amount, discount, tax, taxable, inclusive) =
                amounts(item.unit_amount, item.quantity, rate.as_ref(), percent);
            subtotal += amount;
            discount_sum += discount;
            let taxes = match &item.tax_rate {
                Some(rate_id) => {
                    if !inclusive {
                        exclusive_tax += tax;
                    }
                    let entry = total_taxes
                        .entry(rate_id.clone())
                        .or_insert((0, 0, inclusive));
                    entry.0 += tax;
                    entry.1 += taxable;
                    json!([{
                        "amount": tax, "tax_behavior": if inclusive { "inclusive" } else { "exclusive" },
                        "tax_rate_details": {"tax_rate": rate_id}, "taxability_reason": "not_available",
                        "taxable_amount": taxable, "type": "tax_rate_details",
                    }])
                }
                None => json!([]),
            };
            let line_id = state.id("il");
            let item_id = state.id("ii");
            let price = state.id("price");
            let product = state.id("prod");
            let discount_amounts = match &discount_id {
                Some(did) => json!([{"amount": discount, "discount": did}]),
                None => json!([]),
            };
            lines.push(json!({
                "id": line_id, "object": "line_item", "amount": amount, "currency": spec.currency,
                "description": item.description, "discount_amounts": discount_amounts,
                "discountable": true, "discounts": [], "invoice": id, "livemode": false, "metadata": {},
                "parent": {"type": "invoice_item_details", "invoice_item_details": {"invoice_item": item_id, "proration": false, "proration_details": {"credited_items": null}, "subscription": null}, "subscription_item_details": null},
                "period": {"start": created, "end": created},
                "pricing": {"price_details": {"price": price, "product": product}, "type": "price_details", "unit_amount_decimal": item.unit_amount.to_string()},
                "quantity": item.quantity, "taxes": taxes,
            }));
        }
        let total = subtotal - discount_sum + exclusive_tax;
        let all_tax: i64 = total_taxes.values().map(|(tax, _, _)| tax).sum();
        let customer = state
            .customers
            .iter()
            .find(|c| c["id"] == spec.customer.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        let tax_ids: Vec<Value> = state
            .tax_ids
            .get(&spec.customer)
            .into_iter()
            .flatten()
            .map(|t| json!({"type": t["type"], "value": t["value"]}))
            .collect();
        let total_discount_amounts: Vec<Value> = discount_id
            .iter()
            .map(|did| json!({"amount": discount_sum, "discount": did}))
            .collect();
        let total_taxes: Vec<Value> = total_taxes
            .iter()
            .map(|(rate, (tax, taxable, inclusive))| {
                json!({
                    "amount": tax, "tax_behavior": if *inclusive { "inclusive" } else { "exclusive" },
                    "tax_rate_details": {"tax_rate": rate}, "taxability_reason": "not_available",
                    "taxable_amount": taxable, "type": "tax_rate_details",
                })
            })
            .collect();
        let mut invoice = json!({
            "id": id, "object": "invoice", "account_country": "SI", "account_name": ACCOUNT_NAME,
            "amount_due": total, "amount_overpaid": 0, "amount_paid": 0, "amount_remaining": total,
            "amount_shipping": 0, "attempt_count": 0, "attempted": false, "auto_advance": false,
            "billing_reason": "manual", "collection_method": "charge_automatically", "created": created,
            "currency": spec.currency, "customer": spec.customer, "customer_address": customer["address"],
            "customer_email": customer["email"], "customer_name": customer["name"], "customer_phone": null,
            "customer_shipping": null, "customer_tax_exempt": "none", "customer_tax_ids": tax_ids,
        });
        let more = json!({
            "description": null, "discounts": discount_id.iter().collect::<Vec<_>>(), "due_date": null,
            "livemode": false, "metadata": {}, "number": null, "parent": null,
            "period_end": created, "period_start": created, "shipping_cost": null, "status": "draft",
            "status_transitions": {"finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null},
            "subtotal": subtotal, "subtotal_excluding_tax": subtotal - (all_tax - exclusive_tax),
            "total": total, "total_discount_amounts": total_discount_amounts,
            "total_excluding_tax": total - all_tax,
            "total_taxes": total_taxes,
            "lines": {"object": "list", "data": lines, "has_more": false, "total_count": spec.items.len(), "url": format!("/v1/invoices/{id}/lines")},
            "payment_method_for_test": spec.payment_method,
        });
        if let (Some(object), Value::Object(more)) = (invoice.as_object_mut(), more) {
            object.extend(more);
        }
        state.invoices.push(invoice);
        id
    }

    /// Finalizes a draft: `open`, with a number.
    pub fn finalize_invoice(&self, id: &str) -> String {
        let mut state = self.lock();
        state.invoice_seq += 1;
        let number = format!("TOVR2K7Q-{:04}", state.invoice_seq);
        let invoice = state
            .invoice_mut(id)
            .unwrap_or_else(|| panic!("no invoice {id}"));
        assert_eq!(invoice["status"], "draft", "only a draft can be finalized");
        invoice["status"] = json!("open");
        invoice["number"] = json!(number);
        invoice["status_transitions"]["finalized_at"] = json!(now());
        let snapshot = present_invoice(&state, &self.find_invoice(&state, id), &[]);
        state.event("invoice.finalized", snapshot)
    }

    fn find_invoice(&self, state: &State, id: &str) -> Value {
        state
            .invoices
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no invoice {id}"))
    }

    /// Pays an open invoice: a payment intent with its charge, an invoice payment; emits
    /// `invoice.payment_succeeded` and `invoice.paid`. Returns the `invoice.paid` event.
    pub fn pay_invoice(&self, id: &str) -> String {
        let mut state = self.lock();
        let invoice = self.find_invoice(&state, id);
        assert_eq!(
            invoice["status"], "open",
            "only an open invoice can be paid"
        );
        let total = invoice["total"].as_i64().unwrap_or_default();
        let method = invoice["payment_method_for_test"]
            .as_str()
            .unwrap_or("card")
            .to_owned();
        let pi = payment(
            &mut state,
            total,
            &invoice["currency"],
            &invoice["customer"],
            &method,
        );
        let paid_at = now();
        let payment_id = state.id("inpay");
        state.invoice_payments.push(json!({
            "id": payment_id, "object": "invoice_payment", "amount_paid": total, "amount_requested": total,
            "created": paid_at, "currency": invoice["currency"], "invoice": id, "is_default": true, "livemode": false,
            "payment": {"type": "payment_intent", "payment_intent": pi},
            "status": "paid", "status_transitions": {"canceled_at": null, "paid_at": paid_at},
        }));
        let invoice = state
            .invoice_mut(id)
            .unwrap_or_else(|| panic!("no invoice {id}"));
        invoice["status"] = json!("paid");
        invoice["amount_paid"] = json!(total);
        invoice["amount_remaining"] = json!(0);
        invoice["attempted"] = json!(true);
        invoice["attempt_count"] = json!(1);
        invoice["status_transitions"]["paid_at"] = json!(paid_at);
        let snapshot = present_invoice(&state, &self.find_invoice(&state, id), &[]);
        state.event("invoice.payment_succeeded", snapshot.clone());
        state.event("invoice.paid", snapshot)
    }

    /// Creates, finalizes and pays an invoice: its id and the `invoice.paid` event.
    pub fn paid_invoice(&self, spec: &InvoiceSpec) -> (String, String) {
        let id = self.create_invoice(spec);
        self.finalize_invoice(&id);
        let event = self.pay_invoice(&id);
        (id, event)
    }

    /// Voids an open invoice; returns the `invoice.voided` event.
    pub fn void_invoice(&self, id: &str) -> String {
        let mut state = self.lock();
        let invoice = state
            .invoice_mut(id)
            .unwrap_or_else(|| panic!("no invoice {id}"));
        assert_eq!(
            invoice["status"], "open",
            "only an open invoice can be voided"
        );
        invoice["status"] = json!("void");
        invoice["status_transitions"]["voided_at"] = json!(now());
        let snapshot = present_invoice(&state, &self.find_invoice(&state, id), &[]);
        state.event("invoice.voided", snapshot)
    }

    /// Completes a Checkout Session (paid); its id and the `checkout.session.completed`
    /// event.
    pub fn complete_session(&self, spec: &SessionSpec) -> (String, String) {
        let mut state = self.lock();
        let id = format!("cs_test_{}", state.id("a").trim_start_matches("a_"));
        let created = now();
        let percent = Self::percent_off(&state, spec.coupon.as_ref());
        let (mut subtotal, mut discount_sum, mut tax_sum, mut total) = (0, 0, 0, 0);
        let mut lines = Vec::new();
        for item in &spec.items {
            let rate = item
                .tax_rate
                .as_ref()
                .and_then(|r| state.tax_rates.get(r))
                .cloned();
            let (amount, discount, tax, taxable, inclusive) =
                amounts(item.unit_amount, item.quantity, rate.as_ref(), percent);
            let line_total = amount - discount + if inclusive { 0 } else { tax };
            subtotal += amount;
            discount_sum += discount;
            tax_sum += tax;
            total += line_total;
            let li = state.id("li");
            let price = state.id("price");
            let product = state.id("prod");
            let taxes = match rate {
                Some(rate) => {
                    json!([{"amount": tax, "rate": rate, "taxability_reason": "standard_rated", "taxable_amount": taxable}])
                }
                None => json!([]),
            };
            lines.push(json!({
                "id": li, "object": "item", "amount_discount": discount, "amount_subtotal": amount,
                "amount_tax": tax, "amount_total": line_total, "currency": spec.currency, "description": item.description,
                "price": {"id": price, "object": "price", "active": true, "currency": spec.currency, "product": product,
                          "tax_behavior": if inclusive { "inclusive" } else { "exclusive" }, "type": "one_time",
                          "unit_amount": item.unit_amount, "unit_amount_decimal": item.unit_amount.to_string()},
                "quantity": item.quantity, "taxes": taxes,
            }));
        }
        let shipping_cost = spec.shipping.as_ref().map(|(name, amount, rate_id)| {
            let rate = rate_id.as_ref().and_then(|r| state.tax_rates.get(r)).cloned();
            let (amount, _, tax, taxable, inclusive) = amounts(*amount, 1, rate.as_ref(), Decimal::ZERO);
            let shipping_total = amount + if inclusive { 0 } else { tax };
            let shr = state.id("shr");
            state.shipping_rates.insert(shr.clone(), json!({"id": shr, "object": "shipping_rate", "display_name": name, "type": "fixed_amount"}));
            tax_sum += tax;
            total += shipping_total;
            json!({
                "amount_subtotal": amount, "amount_tax": tax, "amount_total": shipping_total, "shipping_rate": shr,
                "taxes": match rate { Some(rate) => json!([{"amount": tax, "rate": rate, "taxability_reason": "standard_rated", "taxable_amount": taxable}]), None => json!([]) },
            })
        });
        let customer = spec.customer.as_ref().and_then(|c| {
            state
                .customers
                .iter()
                .find(|x| x["id"] == c.as_str())
                .cloned()
        });
        let details = match (&customer, &spec.guest) {
            (Some(customer), _) => json!({
                "address": customer["address"], "email": customer["email"], "name": customer["name"],
                "phone": null, "tax_exempt": "none", "tax_ids": [],
            }),
            (None, Some(guest)) => guest.clone(),
            (None, None) => Value::Null,
        };
        let pi = payment(
            &mut state,
            total,
            &json!(spec.currency),
            &json!(spec.customer),
            &spec.payment_method,
        );
        let shipping_amount = shipping_cost
            .as_ref()
            .map_or(0, |s| s["amount_total"].as_i64().unwrap_or(0));
        let session = json!({
            "id": id, "object": "checkout.session", "amount_subtotal": subtotal, "amount_total": total,
            "client_reference_id": spec.client_reference_id, "collected_information": null, "created": created,
            "currency": spec.currency, "customer": spec.customer, "customer_creation": if spec.customer.is_some() { Value::Null } else { json!("if_required") },
            "customer_details": details,
            "discounts": spec.coupon.iter().map(|c| json!({"coupon": c, "promotion_code": null})).collect::<Vec<_>>(),
            "expires_at": created + 86_400, "invoice": null, "livemode": false, "metadata": {}, "mode": "payment",
            "payment_intent": pi, "payment_method_types": [spec.payment_method], "payment_status": "paid",
            "shipping_cost": shipping_cost, "status": "complete",
            "total_details": {"amount_discount": discount_sum, "amount_shipping": shipping_amount, "amount_tax": tax_sum},
            "ui_mode": "hosted", "url": null,
        });
        state.session_lines.insert(id.clone(), lines);
        state.sessions.push(session.clone());
        let event = state.event("checkout.session.completed", session);
        (id, event)
    }

    /// Refunds the payment of an invoice or a session: all of it, or `amount`; returns
    /// the `charge.refunded` event.
    pub fn refund(&self, order_id: &str, amount: Option<i64>) -> String {
        let mut state = self.lock();
        let pi = if order_id.starts_with("cs_") {
            state
                .sessions
                .iter()
                .find(|s| s["id"] == order_id)
                .map(|s| s["payment_intent"].clone())
        } else {
            state
                .invoice_payments
                .iter()
                .find(|p| p["invoice"] == order_id)
                .map(|p| p["payment"]["payment_intent"].clone())
        };
        let pi = pi
            .and_then(|p| p.as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("{order_id} was not paid"));
        let charge_id = state.payment_intents[&pi]["latest_charge"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let charge = state.charges[&charge_id].clone();
        let left = charge["amount"].as_i64().unwrap_or(0)
            - charge["amount_refunded"].as_i64().unwrap_or(0);
        let amount = amount.unwrap_or(left);
        assert!(amount > 0 && amount <= left, "refund {amount} of {left}");
        let refund_id = state.id("re");
        state.refunds.push(json!({
            "id": refund_id, "object": "refund", "amount": amount, "balance_transaction": null, "charge": charge_id,
            "created": now(), "currency": charge["currency"], "metadata": {}, "payment_intent": pi,
            "reason": "requested_by_customer", "status": "succeeded",
        }));
        let charge = state
            .charges
            .get_mut(&charge_id)
            .unwrap_or_else(|| panic!("no charge"));
        let refunded = charge["amount_refunded"].as_i64().unwrap_or(0) + amount;
        charge["amount_refunded"] = json!(refunded);
        charge["refunded"] = json!(refunded == charge["amount"].as_i64().unwrap_or(0));
        let snapshot = charge.clone();
        state.event("charge.refunded", snapshot)
    }

    /// The invoice as it stands, all lines included.
    pub fn invoice(&self, id: &str) -> Option<Value> {
        self.lock().invoices.iter().find(|i| i["id"] == id).cloned()
    }

    pub fn session(&self, id: &str) -> Option<Value> {
        self.lock().sessions.iter().find(|s| s["id"] == id).cloned()
    }

    pub fn invoice_ids(&self) -> Vec<String> {
        self.lock()
            .invoices
            .iter()
            .filter_map(|i| i["id"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn session_ids(&self) -> Vec<String> {
        self.lock()
            .sessions
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// The refunds made so far.
    pub fn refunds(&self) -> Vec<Value> {
        self.lock().refunds.clone()
    }

    pub fn event(&self, id: &str) -> Option<Value> {
        self.lock().events.iter().find(|e| e["id"] == id).cloned()
    }

    /// The webhook endpoints, secrets left out as Stripe lists them.
    pub fn endpoints(&self) -> Vec<Value> {
        self.lock().endpoints.iter().map(public_endpoint).collect()
    }

    /// The signing secret deliveries to `url` carry: the registered endpoint's, else the
    /// Dashboard-made one's.
    pub fn secret_for(&self, url: &str) -> String {
        self.lock()
            .endpoints
            .iter()
            .find(|e| e["url"] == url)
            .and_then(|e| e["secret"].as_str().map(str::to_owned))
            .unwrap_or_else(|| MANUAL_WEBHOOK_SECRET.to_owned())
    }

    /// Rolls the secret of the endpoint at `url`: deliveries then carry two `v1`
    /// entries, for the new secret and the old one (still valid while rolling).
    pub fn roll_secret(&self, url: &str) -> String {
        let mut state = self.lock();
        let secret = format!("whsec_{}", state.id("r").trim_start_matches("r_"));
        let endpoint = state
            .endpoints
            .iter_mut()
            .find(|e| e["url"] == url)
            .unwrap_or_else(|| panic!("no endpoint at {url}"));
        endpoint["previous_secret"] = endpoint["secret"].clone();
        endpoint["secret"] = json!(secret);
        secret
    }

    /// The `Stripe-Signature` Stripe would send for `body` at `t` to `url`.
    pub fn signature_header(&self, url: &str, body: &[u8], t: i64) -> String {
        let state = self.lock();
        let endpoint = state.endpoints.iter().find(|e| e["url"] == url);
        let mut header = format!("t={t}");
        let secrets: Vec<String> = match endpoint {
            Some(endpoint) => [&endpoint["secret"], &endpoint["previous_secret"]]
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            None => vec![MANUAL_WEBHOOK_SECRET.to_owned()],
        };
        for secret in secrets {
            header.push_str(&format!(",v1={}", sign(&secret, t, body)));
        }
        // Stripe adds a test-scheme signature in test mode; verifiers ignore it.
        header.push_str(&format!(",v0={}", sign("whsec_test_scheme", t, body)));
        header
    }

    /// The delivery of event `event_id` to `url`, signed now.
    pub fn delivery(&self, url: &str, event_id: &str) -> Delivery {
        self.delivery_at(url, event_id, now())
    }

    /// The delivery of `event_id` to `url`, signed at `t` (an old `t` is a replay).
    pub fn delivery_at(&self, url: &str, event_id: &str, t: i64) -> Delivery {
        let event = self
            .event(event_id)
            .unwrap_or_else(|| panic!("no event {event_id}"));
        let body = serde_json::to_vec_pretty(&event).unwrap_or_default();
        let signature = self.signature_header(url, &body, t);
        Delivery {
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/json; charset=utf-8".into(),
                ),
                (
                    "User-Agent".into(),
                    "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
                ),
                ("Stripe-Signature".into(), signature),
            ],
            body,
        }
    }

    /// POSTs the delivery; the answer's status.
    pub async fn deliver(&self, url: &str, delivery: &Delivery) -> anyhow::Result<u16> {
        delivery.send(url, std::time::Duration::from_secs(10)).await
    }

    /// While down, every request gets 503.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The next `requests` requests get 429 (`rate_limit`), with `Retry-After` when given.
    pub fn throttle_next(&self, requests: usize, retry_after: Option<&str>) {
        self.lock().throttle = Some((requests, retry_after.map(str::to_owned)));
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
            .filter(|r| {
                let (m, rest) = r.split_once(' ').unwrap_or(("", ""));
                m == method && rest.split('?').next() == Some(path)
            })
            .count()
    }

    /// The `Stripe-Version` headers received.
    pub fn versions(&self) -> Vec<String> {
        self.lock().versions.clone()
    }
}

fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A payment intent with its succeeded charge; returns the intent's id.
fn payment(
    state: &mut State,
    amount: i64,
    currency: &Value,
    customer: &Value,
    method: &str,
) -> String {
    let pi = state.id("pi");
    let ch = state.id("ch");
    let pm = state.id("pm");
    let created = now();
    let details = match method {
        "card" => {
            json!({"type": "card", "card": {"brand": "visa", "country": "SI", "exp_month": 12, "exp_year": 2030, "funding": "credit", "last4": "4242"}})
        }
        "sepa_debit" => {
            json!({"type": "sepa_debit", "sepa_debit": {"bank_code": "37040044", "country": "DE", "last4": "3000", "mandate": "mandate_1"}})
        }
        other => json!({"type": other}),
    };
    state.charges.insert(ch.clone(), json!({
        "id": ch, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
        "captured": true, "created": created, "currency": currency, "customer": customer, "livemode": false,
        "paid": true, "payment_intent": pi, "payment_method": pm, "payment_method_details": details,
        "refunded": false, "status": "succeeded",
    }));
    state.payment_intents.insert(pi.clone(), json!({
        "id": pi, "object": "payment_intent", "amount": amount, "amount_received": amount, "created": created,
        "currency": currency, "customer": customer, "latest_charge": ch, "livemode": false,
        "payment_method": pm, "payment_method_types": [method], "status": "succeeded",
    }));
    pi
}

fn public_endpoint(endpoint: &Value) -> Value {
    let mut copy = endpoint.clone();
    if let Some(object) = copy.as_object_mut() {
        object.remove("secret");
        object.remove("previous_secret");
    }
    copy
}

/// An invoice as the API shows it: the first lines embedded, payments and discounts
/// only when expanded (`expand` holds the field names, `data.` stripped).
fn present_invoice(state: &State, invoice: &Value, expand: &[&str]) -> Value {
    let mut out = invoice.clone();
    let all: Vec<Value> = invoice["lines"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    out["lines"]["has_more"] = json!(all.len() > EMBEDDED_LINES);
    out["lines"]["total_count"] = json!(all.len());
    out["lines"]["data"] = json!(all.into_iter().take(EMBEDDED_LINES).collect::<Vec<_>>());
    if let Some(object) = out.as_object_mut() {
        object.remove("payment_method_for_test");
    }
    let id = invoice["id"].as_str().unwrap_or_default();
    if expand.contains(&"payments") {
        let payments: Vec<Value> = state
            .invoice_payments
            .iter()
            .filter(|p| p["invoice"] == id)
            .cloned()
            .collect();
        out["payments"] = json!({"object": "list", "data": payments, "has_more": false, "url": format!("/v1/invoice_payments?invoice={id}")});
    }
    if expand.contains(&"discounts") {
        let discounts: Vec<Value> = invoice["discounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().and_then(|d| state.discounts.get(d)).cloned())
            .collect();
        out["discounts"] = json!(discounts);
    }
    out
}

fn present_session(state: &State, session: &Value, expand: &[&str]) -> Value {
    let mut out = session.clone();
    if expand.contains(&"shipping_cost.shipping_rate")
        && let Some(rate) = session["shipping_cost"]["shipping_rate"]
            .as_str()
            .and_then(|r| state.shipping_rates.get(r))
    {
        out["shipping_cost"]["shipping_rate"] = rate.clone();
    }
    out
}

fn handle(
    state: &Arc<Mutex<State>>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut state = state.lock().unwrap_or_else(|poison| poison.into_inner());
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("");
    state.requests.push(if query.is_empty() {
        format!("{method} {path}")
    } else {
        format!("{method} {path}?{query}")
    });
    if let Some(version) = headers.get("stripe-version").and_then(|v| v.to_str().ok()) {
        state.versions.push(version.to_owned());
    }
    if state.down {
        return error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            None,
            "Stripe is temporarily unavailable; try again later.",
            None,
        );
    }
    if let Some((left, retry_after)) = state.throttle.take() {
        if left > 1 {
            state.throttle = Some((left - 1, retry_after.clone()));
        }
        let mut response = error_body(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request_error",
            Some("rate_limit"),
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            None,
        );
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s).ok()) {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(key) = auth.strip_prefix("Bearer ").map(str::trim) else {
        return error_body(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            None,
        );
    };
    if key != SECRET_KEY {
        return error_body(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            None,
            &format!("Invalid API Key provided: {}", masked(key)),
            None,
        );
    }
    let params: Params = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let form: Params = url::form_urlencoded::parse(body).into_owned().collect();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let expand_all = params_all(&params, "expand[]");
    let expand_data: Vec<&str> = expand_all
        .iter()
        .map(|e| e.strip_prefix("data.").unwrap_or(e))
        .collect();
    let result = match (method.as_str(), segments.as_slice()) {
        ("GET", ["v1", "account"]) => Ok(json!({
            "id": ACCOUNT_ID, "object": "account", "business_profile": {"name": ACCOUNT_NAME, "url": "https://shop.example"},
            "country": "SI", "default_currency": "eur", "email": "billing@tovor-demo.example",
            "settings": {"dashboard": {"display_name": "Tovor Demo", "timezone": "Europe/Ljubljana"}},
        })),
        ("GET", ["v1", "balance"]) => Ok(
            json!({"object": "balance", "available": [{"amount": 0, "currency": "eur"}], "livemode": false, "pending": []}),
        ),
        ("GET", ["v1", "invoices"]) => {
            let items: Vec<Value> = state
                .invoices
                .iter()
                .rev()
                .filter(|i| param(&params, "status").is_none_or(|s| i["status"] == s))
                .filter(|i| param(&params, "customer").is_none_or(|c| i["customer"] == c))
                .filter(|i| created_matches(&params, i["created"].as_i64().unwrap_or(0)))
                .map(|i| present_invoice(&state, i, &expand_data))
                .collect();
            page(&params, items, "/v1/invoices")
        }
        ("GET", ["v1", "invoices", id]) => match state.invoices.iter().find(|i| i["id"] == *id) {
            Some(invoice) => Ok(present_invoice(&state, invoice, &expand_all)),
            None => Err(missing("invoice", id)),
        },
        ("GET", ["v1", "invoices", id, "lines"]) => {
            match state.invoices.iter().find(|i| i["id"] == *id) {
                Some(invoice) => page(
                    &params,
                    invoice["lines"]["data"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                    &format!("/v1/invoices/{id}/lines"),
                ),
                None => Err(missing("invoice", id)),
            }
        }
        ("GET", ["v1", "checkout", "sessions"]) => {
            let items: Vec<Value> = state
                .sessions
                .iter()
                .rev()
                .filter(|s| param(&params, "status").is_none_or(|v| s["status"] == v))
                .filter(|s| {
                    param(&params, "payment_intent").is_none_or(|v| s["payment_intent"] == v)
                })
                .filter(|s| param(&params, "customer").is_none_or(|v| s["customer"] == v))
                .filter(|s| created_matches(&params, s["created"].as_i64().unwrap_or(0)))
                .map(|s| present_session(&state, s, &expand_data))
                .collect();
            page(&params, items, "/v1/checkout/sessions")
        }
        ("GET", ["v1", "checkout", "sessions", id]) => {
            match state.sessions.iter().find(|s| s["id"] == *id) {
                Some(session) => Ok(present_session(&state, session, &expand_all)),
                None => Err(missing("checkout.session", id)),
            }
        }
        ("GET", ["v1", "checkout", "sessions", id, "line_items"]) => {
            match state.session_lines.get(*id) {
                Some(lines) => {
                    let with_taxes = expand_data.contains(&"taxes");
                    let lines: Vec<Value> = lines
                        .iter()
                        .map(|line| {
                            let mut line = line.clone();
                            if !with_taxes && let Some(object) = line.as_object_mut() {
                                object.remove("taxes");
                            }
                            line
                        })
                        .collect();
                    page(
                        &params,
                        lines,
                        &format!("/v1/checkout/sessions/{id}/line_items"),
                    )
                }
                None => Err(missing("checkout.session", id)),
            }
        }
        ("GET", ["v1", "customers", id]) => match state.customers.iter().find(|c| c["id"] == *id) {
            Some(customer) => {
                let mut customer = customer.clone();
                if expand_all.contains(&"tax_ids") {
                    let ids = state.tax_ids.get(*id).cloned().unwrap_or_default();
                    customer["tax_ids"] = json!({"object": "list", "data": ids, "has_more": false});
                }
                Ok(customer)
            }
            None => Err(missing("customer", id)),
        },
        ("GET", ["v1", "customers", id, "tax_ids"]) => match state.tax_ids.get(*id) {
            Some(ids) => page(&params, ids.clone(), &format!("/v1/customers/{id}/tax_ids")),
            None => Err(missing("customer", id)),
        },
        ("GET", ["v1", "payment_intents", id]) => match state.payment_intents.get(*id) {
            Some(pi) => {
                let mut pi = pi.clone();
                if expand_all.contains(&"latest_charge")
                    && let Some(charge) = pi["latest_charge"]
                        .as_str()
                        .and_then(|c| state.charges.get(c))
                {
                    pi["latest_charge"] = charge.clone();
                }
                Ok(pi)
            }
            None => Err(missing("payment_intent", id)),
        },
        ("GET", ["v1", "charges", id]) => state
            .charges
            .get(*id)
            .cloned()
            .ok_or_else(|| missing("charge", id)),
        ("GET", ["v1", "refunds"]) => {
            let items: Vec<Value> = state
                .refunds
                .iter()
                .rev()
                .filter(|r| {
                    param(&params, "payment_intent").is_none_or(|v| r["payment_intent"] == v)
                })
                .filter(|r| param(&params, "charge").is_none_or(|v| r["charge"] == v))
                .cloned()
                .collect();
            page(&params, items, "/v1/refunds")
        }
        ("GET", ["v1", "invoice_payments"]) => {
            let items: Vec<Value> = state
                .invoice_payments
                .iter()
                .rev()
                .filter(|p| param(&params, "invoice").is_none_or(|v| p["invoice"] == v))
                .filter(|p| {
                    param(&params, "payment[payment_intent]")
                        .is_none_or(|v| p["payment"]["payment_intent"] == v)
                })
                .cloned()
                .collect();
            page(&params, items, "/v1/invoice_payments")
        }
        ("GET", ["v1", "events"]) => {
            let items: Vec<Value> = state
                .events
                .iter()
                .rev()
                .filter(|e| param(&params, "type").is_none_or(|v| e["type"] == v))
                .cloned()
                .collect();
            page(&params, items, "/v1/events")
        }
        ("GET", ["v1", "events", id]) => state
            .events
            .iter()
            .find(|e| e["id"] == *id)
            .cloned()
            .ok_or_else(|| missing("event", id)),
        ("GET", ["v1", "webhook_endpoints"]) => {
            let items: Vec<Value> = state.endpoints.iter().rev().map(public_endpoint).collect();
            page(&params, items, "/v1/webhook_endpoints")
        }
        ("POST", ["v1", "webhook_endpoints"]) => create_endpoint(&mut state, &form),
        ("GET", ["v1", "webhook_endpoints", id]) => state
            .endpoints
            .iter()
            .find(|e| e["id"] == *id)
            .map(public_endpoint)
            .ok_or_else(|| missing("webhook_endpoint", id)),
        ("POST", ["v1", "webhook_endpoints", id]) => {
            let events: Vec<&str> = params_all(&form, "enabled_events[]");
            match state.endpoints.iter_mut().find(|e| e["id"] == *id) {
                Some(endpoint) => {
                    if !events.is_empty() {
                        endpoint["enabled_events"] = json!(events);
                    }
                    if let Some(url) = param(&form, "url") {
                        endpoint["url"] = json!(url);
                    }
                    Ok(public_endpoint(endpoint))
                }
                None => Err(missing("webhook_endpoint", id)),
            }
        }
        ("DELETE", ["v1", "webhook_endpoints", id]) => {
            match state.endpoints.iter().position(|e| e["id"] == *id) {
                Some(index) => {
                    state.endpoints.remove(index);
                    Ok(json!({"id": id, "object": "webhook_endpoint", "deleted": true}))
                }
                None => Err(missing("webhook_endpoint", id)),
            }
        }
        _ => Err(Box::new(error_body(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            &format!(
                "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
            None,
        ))),
    };
    match result {
        Ok(value) => ok(value),
        Err(response) => *response,
    }
}

fn create_endpoint(state: &mut State, form: &Params) -> Result<Value, Box<Response>> {
    let Some(url) = param(form, "url") else {
        return Err(Box::new(error_body(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            "Missing required param: url.",
            Some("url"),
        )));
    };
    if !url.starts_with("https://") {
        return Err(Box::new(error_body(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("url_invalid"),
            "Invalid URL: URL must be publicly accessible and use HTTPS.",
            Some("url"),
        )));
    }
    let events = params_all(form, "enabled_events[]");
    if events.is_empty() {
        return Err(Box::new(error_body(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("parameter_missing"),
            "Missing required param: enabled_events.",
            Some("enabled_events"),
        )));
    }
    let id = state.id("we");
    let secret = format!("whsec_{}", state.id("s").trim_start_matches("s_"));
    let endpoint = json!({
        "id": id, "object": "webhook_endpoint", "api_version": param(form, "api_version"),
        "application": null, "created": now(), "description": param(form, "description"),
        "enabled_events": events, "livemode": false, "metadata": {}, "status": "enabled", "url": url,
        "secret": secret,
    });
    state.endpoints.push(endpoint.clone());
    Ok(endpoint)
}
