//! A fake PrestaShop Webservice (1.7 or 8) on 127.0.0.1.
//!
//! It answers `/api/{resource}` and `/api/{resource}/{id}` the way PrestaShop's
//! `WebserviceRequest` does:
//!
//! - HTTP Basic with the webservice key as the user (PrestaShop reads only the user;
//!   the password is recorded so tests can check it is sent empty). No key: 401 code 16
//!   with `WWW-Authenticate: Basic realm="Welcome to PrestaShop Webservice, please enter
//!   the authentication key as the login. No password required."`; a key not 32
//!   characters long: 401 code 18; an unknown key: 401 codes 20 and 21.
//! - Reads: `output_format=JSON` answers JSON (`{"orders": [...]}`, `{"order": {...}}`,
//!   `[]` for an empty list; ids as numbers, every other field a string), else XML.
//!   `display=full|[a,b]` (default: ids only), `filter[field]=` with PrestaShop's forms
//!   (`[a|b]` any of, `[a,b]` `BETWEEN` both ends inclusive, `>[a]`, `<[a]`, `[a]`,
//!   `a`), `date_add`/`date_upd` filters only with `date=1` (else 400 code 32),
//!   `sort=[date_upd_ASC,id_ASC]` (several keys) or `id_DESC`, `limit=offset,count` or
//!   `limit=count`, `id_shop`.
//! - Writes: XML only. `PUT /api/{resource}/{id}` (the body's `id` is required, code 90;
//!   an unknown id is 404 code 92), `PATCH` in version 8 only (1.7: 405 code 23),
//!   `POST /api/order_histories` (moves the order to the state, `date_upd` now), each
//!   answered with the resource as XML. Every write is kept ([`FakePrestaShop::writes`]).
//! - Version 8 adds `Content-Sha1` to answers with a body; both send `PSWS-Version`.
//! - Errors as PrestaShop writes them: JSON `{"errors":[{"code":..,"message":".."}]}`
//!   with `output_format=JSON`, else `<prestashop><errors><error><code><![CDATA[..]]>
//!   </code><message><![CDATA[..]]></message></error></errors></prestashop>`.
//!
//! Dates are the shop's local time (`PS_TIMEZONE` Europe/Ljubljana: CET/CEST).
//! Switches: [`FakePrestaShop::set_down`] (503 from the server, an HTML page),
//! [`FakePrestaShop::disable_webservice`] (503 code 22), [`FakePrestaShop::fail_next`]
//! (500, a PHP error), [`FakePrestaShop::set_slow`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value, json};
use sha1::{Digest as _, Sha1};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// The webservice key the fake accepts (PrestaShop's keys are 32 characters).
pub const WEBSERVICE_KEY: &str = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ";
/// The shop's name (`PS_SHOP_NAME`).
pub const SHOP_NAME: &str = "Trgovina Lipa";
/// The shop's time zone (`PS_TIMEZONE`).
pub const TIME_ZONE: &str = "Europe/Ljubljana";

/// Which PrestaShop the fake plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V17,
    V8,
}

impl Version {
    fn header(self) -> &'static str {
        match self {
            Version::V17 => "1.7.8.11",
            Version::V8 => "8.1.7",
        }
    }
}

/// Well-known ids of the seeded shop.
pub mod ids {
    pub const MUG: u64 = 1;
    pub const TSHIRT: u64 = 2;
    pub const TSHIRT_S: u64 = 10;
    pub const TSHIRT_M: u64 = 11;
    pub const TSHIRT_L: u64 = 12;
    pub const COFFEE: u64 = 3;
    pub const ANA: u64 = 1;
    pub const IVAN: u64 = 2;
    /// A guest checkout (`is_guest` 1).
    pub const MARIA_GUEST: u64 = 3;
    pub const CARRIER_POSTA: u64 = 2;
    pub const CARRIER_GLS: u64 = 3;
    pub const VOUCHER_POPUST10: u64 = 1;
    pub const VOUCHER_FREESHIP: u64 = 2;
}

/// A write the fake received.
#[derive(Debug, Clone)]
pub struct Write {
    pub method: String,
    /// `/api/stock_availables/7?...`
    pub path: String,
    pub body: String,
}

/// An order to place: lines of (product, combination or 0, quantity).
#[derive(Debug, Clone)]
pub struct OrderSpec {
    lines: Vec<(u64, u64, u32)>,
    customer: u64,
    carrier: u64,
    voucher: Option<u64>,
    state: u64,
    module: (String, String),
}

impl Default for OrderSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderSpec {
    /// Ana's order by Pošta Slovenije, paid by bank wire, "Payment accepted".
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            customer: ids::ANA,
            carrier: ids::CARRIER_POSTA,
            voucher: None,
            state: 2,
            module: ("ps_wirepayment".into(), "Bank wire".into()),
        }
    }

    pub fn line(mut self, product: u64, combination: u64, quantity: u32) -> Self {
        self.lines.push((product, combination, quantity));
        self
    }

    pub fn customer(mut self, customer: u64) -> Self {
        self.customer = customer;
        self
    }

    pub fn carrier(mut self, carrier: u64) -> Self {
        self.carrier = carrier;
        self
    }

    pub fn voucher(mut self, cart_rule: u64) -> Self {
        self.voucher = Some(cart_rule);
        self
    }

    pub fn state(mut self, state: u64) -> Self {
        self.state = state;
        self
    }

    pub fn payment(mut self, module: &str, title: &str) -> Self {
        self.module = (module.into(), title.into());
        self
    }
}

type Table = BTreeMap<u64, Value>;

struct State {
    version: Version,
    down: bool,
    disabled: bool,
    fail_next: usize,
    slow_ms: u64,
    tables: BTreeMap<&'static str, Table>,
    requests: Vec<String>,
    passwords: Vec<String>,
    writes: Vec<Write>,
    /// The shop's clock, pinned by the test; else now.
    clock: Option<String>,
}

const RESOURCES: &[(&str, &str)] = &[
    ("addresses", "address"),
    ("carriers", "carrier"),
    ("cart_rules", "cart_rule"),
    ("combinations", "combination"),
    ("configurations", "configuration"),
    ("countries", "country"),
    ("currencies", "currency"),
    ("customers", "customer"),
    ("order_carriers", "order_carrier"),
    ("order_cart_rules", "order_cart_rule"),
    ("order_details", "order_detail"),
    ("order_histories", "order_history"),
    ("order_states", "order_state"),
    ("orders", "order"),
    ("products", "product"),
    ("stock_availables", "stock_available"),
];

fn node_of(resource: &str) -> Option<&'static str> {
    known(resource).map(|(_, node)| node)
}

/// The resource's own name and its node name.
fn known(resource: &str) -> Option<(&'static str, &'static str)> {
    RESOURCES
        .iter()
        .find(|(name, _)| *name == resource)
        .copied()
}

/// The fake shop; cheap to clone.
#[derive(Clone)]
pub struct FakePrestaShop {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakePrestaShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePrestaShop")
            .field("addr", &self.addr)
            .finish()
    }
}

/// One object of several: `json!` literals stay small enough for the macro.
fn merge(parts: Vec<Value>) -> Value {
    let mut all = Map::new();
    for part in parts {
        if let Value::Object(map) = part {
            all.extend(map);
        }
    }
    Value::Object(all)
}

fn money(value: Decimal) -> String {
    format!(
        "{:.6}",
        value.round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero)
    )
}

fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

fn field(value: &Value, name: &str) -> String {
    match value.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

/// A multilingual field's first language (`[{"id": "1", "value": ".."}]`).
fn lang_text(value: &Value, name: &str) -> String {
    match value.get(name) {
        Some(Value::Array(languages)) => languages
            .first()
            .and_then(|language| language.get("value"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => field(value, name),
    }
}

/// An order reference as PrestaShop makes them: nine capital letters.
fn order_reference(number: usize) -> String {
    let mut seed = (number as u64).wrapping_mul(2_654_435_761).wrapping_add(97);
    (0..9)
        .map(|_| {
            let letter = (b'A' + (seed % 26) as u8) as char;
            seed /= 26;
            seed = seed.wrapping_mul(31).wrapping_add(7);
            letter
        })
        .collect()
}

fn id_of(value: &Value, name: &str) -> u64 {
    field(value, name).parse().unwrap_or_default()
}

/// The EU summer-time offset of Ljubljana at `at`.
fn ljubljana(at: OffsetDateTime) -> UtcOffset {
    let last_sunday = |month: Month| {
        let mut day = Date::from_calendar_date(at.year(), month, 31).ok()?;
        while day.weekday() != Weekday::Sunday {
            day = day.previous_day()?;
        }
        Some(PrimitiveDateTime::new(day, Time::from_hms(1, 0, 0).ok()?).assume_utc())
    };
    let summer = matches!(
        (last_sunday(Month::March), last_sunday(Month::October)),
        (Some(start), Some(end)) if at >= start && at < end
    );
    UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// The shop's wall-clock time at `at`, as PrestaShop writes it.
pub fn shop_time(at: OffsetDateTime) -> String {
    let local = at.to_offset(ljubljana(at));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

impl State {
    fn new(version: Version) -> Self {
        Self {
            version,
            down: false,
            disabled: false,
            fail_next: 0,
            slow_ms: 0,
            tables: RESOURCES
                .iter()
                .map(|(name, _)| (*name, Table::new()))
                .collect(),
            requests: Vec::new(),
            passwords: Vec::new(),
            writes: Vec::new(),
            clock: None,
        }
    }

    fn now(&self) -> String {
        self.clock
            .clone()
            .unwrap_or_else(|| shop_time(OffsetDateTime::now_utc()))
    }

    fn table(&mut self, name: &'static str) -> &mut Table {
        self.tables.entry(name).or_default()
    }

    fn get(&self, name: &str, id: u64) -> Option<&Value> {
        self.tables.get(name).and_then(|table| table.get(&id))
    }

    fn insert(&mut self, name: &'static str, mut row: Value) -> u64 {
        let table = self.table(name);
        let id = table.keys().next_back().copied().unwrap_or(0) + 1;
        row["id"] = json!(id);
        table.insert(id, row);
        id
    }

    fn rows(&self, name: &str) -> Vec<Value> {
        self.tables
            .get(name)
            .map(|table| table.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The product's rate in percent.
    fn rate_of(&self, product: u64) -> Decimal {
        self.get("products", product)
            .map(|p| {
                if field(p, "id_tax_rules_group") == "2" {
                    Decimal::new(95, 1)
                } else {
                    Decimal::from(22)
                }
            })
            .unwrap_or_default()
    }

    /// Recomputes an order's totals from its details, voucher and carrier the way
    /// PrestaShop does with `PS_ROUND_TYPE` 1 (per item).
    fn recompute(&mut self, order_id: u64) {
        let details: Vec<Value> = self
            .rows("order_details")
            .into_iter()
            .filter(|d| id_of(d, "id_order") == order_id)
            .collect();
        let Some(order) = self.get("orders", order_id).cloned() else {
            return;
        };
        let (mut incl, mut excl) = (Decimal::ZERO, Decimal::ZERO);
        for detail in &details {
            incl += dec(&field(detail, "total_price_tax_incl"));
            excl += dec(&field(detail, "total_price_tax_excl"));
        }
        let carrier = id_of(&order, "id_carrier");
        let ship_incl = self
            .get("carriers", carrier)
            .map(|c| dec(&field(c, "fake_price")))
            .unwrap_or_default();
        let ship_excl = cents(ship_incl / Decimal::new(122, 2));
        let rules: Vec<Value> = self
            .rows("order_cart_rules")
            .into_iter()
            .filter(|r| id_of(r, "id_order") == order_id)
            .collect();
        let (mut disc_incl, mut disc_excl) = (Decimal::ZERO, Decimal::ZERO);
        let mut updated_rules = Vec::new();
        for mut rule in rules {
            let cart_rule = self
                .get("cart_rules", id_of(&rule, "id_cart_rule"))
                .cloned();
            let percent = cart_rule
                .as_ref()
                .map(|r| dec(&field(r, "reduction_percent")))
                .unwrap_or_default();
            let free = cart_rule
                .as_ref()
                .is_some_and(|r| field(r, "free_shipping") == "1");
            let (vi, ve) = if free {
                (ship_incl, ship_excl)
            } else {
                (
                    cents(incl * percent / Decimal::ONE_HUNDRED),
                    cents(excl * percent / Decimal::ONE_HUNDRED),
                )
            };
            rule["value"] = json!(money(vi));
            rule["value_tax_excl"] = json!(money(ve));
            rule["free_shipping"] = json!(if free { "1" } else { "0" });
            disc_incl += vi;
            disc_excl += ve;
            updated_rules.push(rule);
        }
        for rule in updated_rules {
            let id = id_of(&rule, "id");
            self.table("order_cart_rules").insert(id, rule);
        }
        let paid_incl = incl - disc_incl + ship_incl;
        let paid_excl = excl - disc_excl + ship_excl;
        let rows: Vec<Value> = details
            .iter()
            .map(|d| {
                merge(vec![json!({"id": field(d, "id"), "product_id": field(d, "product_id"), "product_attribute_id": field(d, "product_attribute_id"), "product_quantity": field(d, "product_quantity"), "product_name": field(d, "product_name"), "product_reference": field(d, "product_reference"), "product_ean13": "", "product_isbn": "", "product_upc": "", "product_price": field(d, "product_price")}), json!({"id_customization": "0", "unit_price_tax_incl": field(d, "unit_price_tax_incl"), "unit_price_tax_excl": field(d, "unit_price_tax_excl")})])
            })
            .collect();
        if let Some(order) = self.table("orders").get_mut(&order_id) {
            order["total_discounts"] = json!(money(disc_incl));
            order["total_discounts_tax_incl"] = json!(money(disc_incl));
            order["total_discounts_tax_excl"] = json!(money(disc_excl));
            order["total_paid"] = json!(money(paid_incl));
            order["total_paid_tax_incl"] = json!(money(paid_incl));
            order["total_paid_tax_excl"] = json!(money(paid_excl));
            order["total_paid_real"] = json!(money(paid_incl));
            order["total_products"] = json!(money(excl));
            order["total_products_wt"] = json!(money(incl));
            order["total_shipping"] = json!(money(ship_incl));
            order["total_shipping_tax_incl"] = json!(money(ship_incl));
            order["total_shipping_tax_excl"] = json!(money(ship_excl));
            order["carrier_tax_rate"] = json!("22.000");
            order["associations"] = json!({ "order_rows": rows });
        }
    }

    fn add_detail(&mut self, order_id: u64, product: u64, combination: u64, quantity: u32) {
        let Some(row) = self.get("products", product).cloned() else {
            return;
        };
        let rate = self.rate_of(product);
        let mut name = lang_text(&row, "name");
        let mut reference = field(&row, "reference");
        if combination != 0
            && let Some(c) = self.get("combinations", combination)
        {
            reference = field(c, "reference");
            name = format!("{name} - Size : {}", field(c, "fake_size"));
        }
        let unit_excl = dec(&field(&row, "price"));
        let unit_incl = cents(unit_excl * (Decimal::ONE + rate / Decimal::ONE_HUNDRED));
        let quantity_dec = Decimal::from(quantity);
        let total_incl = unit_incl * quantity_dec;
        let total_excl = cents(total_incl / (Decimal::ONE + rate / Decimal::ONE_HUNDRED));
        let detail = merge(vec![
            json!({"id_order": order_id.to_string(), "product_id": product.to_string(), "product_attribute_id": combination.to_string(), "product_quantity_reinjected": "0", "group_reduction": "0.00", "discount_quantity_applied": "0", "download_hash": "", "download_deadline": "0000-00-00 00:00:00", "id_order_invoice": "0", "id_warehouse": "0"}),
            json!({"id_shop": "1", "id_customization": "0", "product_name": name, "product_quantity": quantity.to_string(), "product_quantity_in_stock": quantity.to_string(), "product_quantity_return": "0", "product_quantity_refunded": "0", "product_price": money(unit_excl), "reduction_percent": "0.00", "reduction_amount": "0.000000"}),
            json!({"reduction_amount_tax_incl": "0.000000", "reduction_amount_tax_excl": "0.000000", "product_quantity_discount": "0.000000", "product_ean13": "", "product_isbn": "", "product_upc": "", "product_reference": reference, "product_supplier_reference": "", "product_weight": "0.300000", "tax_computation_method": "0"}),
            json!({"id_tax_rules_group": field(&row, "id_tax_rules_group"), "ecotax": "0.000000", "ecotax_tax_rate": "0.000", "download_nb": "0", "unit_price_tax_incl": money(unit_incl), "unit_price_tax_excl": money(unit_excl), "total_price_tax_incl": money(total_incl), "total_price_tax_excl": money(total_excl), "total_shipping_price_tax_excl": "0.000000", "total_shipping_price_tax_incl": "0.000000"}),
            json!({"purchase_supplier_price": "0.000000", "original_product_price": money(unit_excl), "original_wholesale_price": "0.000000", // Deprecated since 1.6.1: PrestaShop leaves it 0 and keeps the rate in
            // order_detail_tax, which the Webservice does not show.
            "tax_rate": "0.000", "associations": {"taxes": [{"id": field(&row, "id_tax_rules_group")}]}}),
        ]);
        self.insert("order_details", detail);
    }

    fn create_order(&mut self, spec: &OrderSpec) -> u64 {
        let now = self.now();
        let customer = self
            .get("customers", spec.customer)
            .cloned()
            .unwrap_or(Value::Null);
        let address = self
            .rows("addresses")
            .into_iter()
            .find(|a| id_of(a, "id_customer") == spec.customer)
            .map(|a| id_of(&a, "id"))
            .unwrap_or(0);
        let number = self.tables.get("orders").map_or(0, BTreeMap::len) + 1;
        let reference = order_reference(number);
        let mut order = merge(vec![
            json!({"id_address_delivery": address.to_string(), "id_address_invoice": address.to_string(), "id_cart": number.to_string(), "id_currency": "1", "id_lang": "1", "id_customer": spec.customer.to_string(), "id_carrier": spec.carrier.to_string(), "current_state": spec.state.to_string(), "module": spec.module.0, "invoice_number": "0"}),
            json!({"invoice_date": "0000-00-00 00:00:00", "delivery_number": "0", "delivery_date": "0000-00-00 00:00:00", "valid": if (2..=5).contains(&spec.state) { "1" } else { "0" }, "date_add": now, "date_upd": now, "shipping_number": "", "id_shop_group": "1", "id_shop": "1", "secure_key": field(&customer, "secure_key")}),
            json!({"payment": spec.module.1, "recyclable": "0", "gift": "0", "gift_message": "", "mobile_theme": "0", "total_wrapping": "0.000000", "total_wrapping_tax_incl": "0.000000", "total_wrapping_tax_excl": "0.000000", "round_mode": "2", "round_type": "1"}),
            json!({"conversion_rate": "1.000000", "reference": reference}),
        ]);
        if self.version == Version::V8 {
            order["note"] = json!("");
        }
        let id = self.insert("orders", order);
        for (product, combination, quantity) in &spec.lines {
            self.add_detail(id, *product, *combination, *quantity);
        }
        if let Some(rule) = spec.voucher {
            let name = self
                .get("cart_rules", rule)
                .map(|r| lang_text(r, "name"))
                .unwrap_or_default();
            self.insert(
                "order_cart_rules",
                json!({
                    "id_order": id.to_string(),
                    "id_cart_rule": rule.to_string(),
                    "id_order_invoice": "0",
                    "name": name,
                    "value": "0.000000",
                    "value_tax_excl": "0.000000",
                    "free_shipping": "0",
                }),
            );
        }
        self.insert(
            "order_carriers",
            json!({
                "id_order": id.to_string(),
                "id_carrier": spec.carrier.to_string(),
                "id_order_invoice": "0",
                "weight": "0.300000",
                "shipping_cost_tax_excl": "0.000000",
                "shipping_cost_tax_incl": "0.000000",
                "tracking_number": "",
                "date_add": now,
            }),
        );
        self.insert(
            "order_histories",
            json!({"id_employee": "0", "id_order_state": spec.state.to_string(), "id_order": id.to_string(), "date_add": now}),
        );
        self.recompute(id);
        if let Some(order) = self.get("orders", id).cloned() {
            let ship_incl = dec(&field(&order, "total_shipping_tax_incl"));
            let ship_excl = dec(&field(&order, "total_shipping_tax_excl"));
            if let Some(carrier) = self
                .table("order_carriers")
                .values_mut()
                .find(|c| id_of(c, "id_order") == id)
            {
                carrier["shipping_cost_tax_incl"] = json!(money(ship_incl));
                carrier["shipping_cost_tax_excl"] = json!(money(ship_excl));
            }
        }
        id
    }

    fn seed(&mut self) {
        let config = |name: &str, value: &str| json!({"value": value, "name": name, "id_shop_group": "", "id_shop": "", "date_add": "2024-01-10 09:00:00", "date_upd": "2024-01-10 09:00:00"});
        for (name, value) in [
            ("PS_SHOP_NAME", SHOP_NAME),
            ("PS_TIMEZONE", TIME_ZONE),
            ("PS_ROUND_TYPE", "1"),
            ("PS_PRICE_ROUND_MODE", "2"),
            ("PS_CURRENCY_DEFAULT", "1"),
        ] {
            self.insert("configurations", config(name, value));
        }
        // Ids as in PrestaShop's installed lists.
        for (id, iso, name) in [
            (2, "AT", "Austria"),
            (74, "HR", "Croatia"),
            (193, "SI", "Slovenia"),
        ] {
            self.table("countries").insert(
                id,
                json!({"id": id, "id_zone": "1", "id_currency": "0", "call_prefix": "0", "iso_code": iso, "active": "1", "contains_states": "0", "need_identification_number": "0", "need_zip_code": "1", "zip_code_format": "NNNN", "display_tax_label": "1", "name": [{"id": "1", "value": name}]}),
            );
        }
        self.table("currencies").insert(
            1,
            json!({"id": 1, "names": [{"id": "1", "value": "Euro"}], "name": "Euro", "symbol": [{"id": "1", "value": "€"}], "iso_code": "EUR", "numeric_iso_code": "978", "precision": "2", "conversion_rate": "1.000000", "deleted": "0", "active": "1"}),
        );
        for (id, name, price) in [
            (1, "Prevzem v trgovini", "0"),
            (ids::CARRIER_POSTA, "Pošta Slovenije", "4.10"),
            (ids::CARRIER_GLS, "GLS", "5.90"),
        ] {
            self.table("carriers").insert(
                id,
                merge(vec![json!({"id": id, "deleted": "0", "is_module": "0", "id_tax_rules_group": "1", "id_reference": id.to_string(), "name": name, "active": "1", "is_free": if price == "0" { "1" } else { "0" }, "url": "", "shipping_handling": "0"}), json!({"shipping_external": "0", "range_behavior": "0", "shipping_method": "1", "max_width": "0", "max_height": "0", "max_depth": "0", "max_weight": "0.000000", "grade": "0", "external_module_name": "", "need_range": "0"}), json!({"position": "0", "delay": [{"id": "1", "value": "2-3 dni"}], "fake_price": price})]),
            );
        }
        for (id, name, paid, shipped, delivered, logable) in [
            (1, "Awaiting check payment", 0, 0, 0, 0),
            (2, "Payment accepted", 1, 0, 0, 1),
            (3, "Processing in progress", 1, 0, 0, 1),
            (4, "Shipped", 1, 1, 0, 1),
            (5, "Delivered", 1, 1, 1, 1),
            (6, "Canceled", 0, 0, 0, 0),
            (7, "Refunded", 1, 0, 0, 0),
            (8, "Payment error", 0, 0, 0, 0),
            (9, "On backorder (paid)", 1, 0, 0, 1),
            (10, "Awaiting bank wire payment", 0, 0, 0, 0),
            (11, "Remote payment accepted", 1, 0, 0, 1),
            (12, "On backorder (not paid)", 0, 0, 0, 0),
            (13, "Awaiting Cash On Delivery validation", 0, 0, 0, 0),
        ] {
            self.table("order_states").insert(
                id,
                merge(vec![json!({"id": id, "unremovable": "1", "delivery": delivered.to_string(), "hidden": "0", "send_email": "1", "module_name": "", "invoice": paid.to_string(), "color": "#32CD32", "logable": logable.to_string(), "shipped": shipped.to_string()}), json!({"paid": paid.to_string(), "pdf_delivery": "0", "pdf_invoice": "0", "deleted": "0", "name": [{"id": "1", "value": name}], "template": [{"id": "1", "value": "payment"}]})]),
            );
        }
        for (id, reference, name, price, tax_group) in [
            (ids::MUG, "MUG-01", "Emajliran lonček", "12.295082", "1"),
            (ids::TSHIRT, "TEE", "Majica Lipa", "16.311475", "1"),
            (
                ids::COFFEE,
                "KAVA-250",
                "Kava Brazil 250 g",
                "7.214612",
                "2",
            ),
        ] {
            self.table("products").insert(
                id,
                merge(vec![json!({"id": id, "id_manufacturer": "0", "id_supplier": "0", "id_category_default": "2", "new": null, "cache_default_attribute": "0", "id_default_image": "", "id_default_combination": 0, "id_tax_rules_group": tax_group, "type": "simple"}), json!({"id_shop_default": "1", "reference": reference, "supplier_reference": "", "ean13": "", "state": "1", "product_type": if id == ids::TSHIRT { "combinations" } else { "standard" }, "price": price, "wholesale_price": "0.000000", "active": "1", "name": [{"id": "1", "value": name}]}), json!({"associations": {}})]),
            );
        }
        for (id, reference, size) in [
            (ids::TSHIRT_S, "TEE-S", "S"),
            (ids::TSHIRT_M, "TEE-M", "M"),
            (ids::TSHIRT_L, "TEE-L", "L"),
        ] {
            self.table("combinations").insert(
                id,
                merge(vec![json!({"id": id, "id_product": ids::TSHIRT.to_string(), "location": "", "ean13": "", "isbn": "", "upc": "", "mpn": "", "quantity": "5", "reference": reference, "supplier_reference": ""}), json!({"wholesale_price": "0.000000", "price": "0.000000", "ecotax": "0.000000", "weight": "0.000000", "unit_price_impact": "0.000000", "minimal_quantity": "1", "default_on": null, "fake_size": size})]),
            );
        }
        for (product, combination, quantity) in [
            (ids::MUG, 0, 10),
            (ids::TSHIRT, 0, 15),
            (ids::TSHIRT, ids::TSHIRT_S, 5),
            (ids::TSHIRT, ids::TSHIRT_M, 5),
            (ids::TSHIRT, ids::TSHIRT_L, 5),
            (ids::COFFEE, 0, 40),
        ] {
            self.insert(
                "stock_availables",
                json!({"id_product": product.to_string(), "id_product_attribute": combination.to_string(), "id_shop": "1", "id_shop_group": "0", "quantity": quantity.to_string(), "depends_on_stock": "0", "out_of_stock": "2", "location": ""}),
            );
        }
        for (id, first, last, email, guest) in [
            (ids::ANA, "Ana", "Novak", "ana.novak@example.si", "0"),
            (ids::IVAN, "Ivan", "Horvat", "ivan.horvat@example.hr", "0"),
            (
                ids::MARIA_GUEST,
                "Maria",
                "Huber",
                "maria.huber@example.at",
                "1",
            ),
        ] {
            self.table("customers").insert(
                id,
                merge(vec![json!({"id": id, "id_default_group": if guest == "1" { "2" } else { "3" }, "id_lang": "1", "newsletter_date_add": "0000-00-00 00:00:00", "ip_registration_newsletter": "", "last_passwd_gen": "2024-01-10 09:00:00", "secure_key": format!("{:032x}", id * 7919), "deleted": "0", "passwd": "", "lastname": last}), json!({"firstname": first, "email": email, "id_gender": "0", "birthday": "0000-00-00", "newsletter": "0", "optin": "0", "website": "", "company": "", "siret": "", "ape": ""}), json!({"outstanding_allow_amount": "0.000000", "show_public_prices": "0", "id_risk": "0", "max_payment_days": "0", "active": "1", "note": "", "is_guest": guest, "id_shop": "1", "id_shop_group": "1", "date_add": "2024-01-10 09:00:00"}), json!({"date_upd": "2024-01-10 09:00:00"})]),
            );
        }
        for (customer, country, company, vat, street, postcode, city, phone) in [
            (
                ids::ANA,
                193,
                "Lipa d.o.o.",
                "SI12345678",
                "Slovenska cesta 12a",
                "1000",
                "Ljubljana",
                "+386 41 123 456",
            ),
            (
                ids::IVAN,
                74,
                "",
                "",
                "Ilica 10",
                "10000",
                "Zagreb",
                "+385 91 234 5678",
            ),
            (
                ids::MARIA_GUEST,
                2,
                "",
                "",
                "Mariahilfer Straße 45/3",
                "1060",
                "Wien",
                "+43 664 1234567",
            ),
        ] {
            let person = self
                .get("customers", customer)
                .cloned()
                .unwrap_or(Value::Null);
            self.insert(
                "addresses",
                merge(vec![json!({"id_customer": customer.to_string(), "id_manufacturer": "0", "id_supplier": "0", "id_warehouse": "0", "id_country": country.to_string(), "id_state": "0", "alias": "Moj naslov", "company": company, "lastname": field(&person, "lastname"), "firstname": field(&person, "firstname")}), json!({"vat_number": vat, "address1": street, "address2": "", "postcode": postcode, "city": city, "other": "", "phone": phone, "phone_mobile": "", "dni": "", "deleted": "0"}), json!({"date_add": "2024-01-10 09:00:00", "date_upd": "2024-01-10 09:00:00"})]),
            );
        }
        self.table("cart_rules").insert(
            ids::VOUCHER_POPUST10,
            merge(vec![json!({"id": ids::VOUCHER_POPUST10, "id_customer": "0", "date_from": "2024-01-01 00:00:00", "date_to": "2030-01-01 00:00:00", "description": "", "quantity": "100", "quantity_per_user": "1", "priority": "1", "partial_use": "0", "code": "POPUST10"}), json!({"minimum_amount": "0.000000", "free_shipping": "0", "reduction_percent": "10.00", "reduction_amount": "0.000000", "reduction_tax": "1", "active": "1", "name": [{"id": "1", "value": "Popust 10 %"}]})]),
        );
        self.table("cart_rules").insert(
            ids::VOUCHER_FREESHIP,
            merge(vec![json!({"id": ids::VOUCHER_FREESHIP, "id_customer": "0", "date_from": "2024-01-01 00:00:00", "date_to": "2030-01-01 00:00:00", "description": "", "quantity": "100", "quantity_per_user": "1", "priority": "1", "partial_use": "0", "code": "BREZPOSTNINE"}), json!({"minimum_amount": "0.000000", "free_shipping": "1", "reduction_percent": "0.00", "reduction_amount": "0.000000", "reduction_tax": "1", "active": "1", "name": [{"id": "1", "value": "Brezplačna poštnina"}]})]),
        );
    }
}

impl FakePrestaShop {
    /// A shop with its lists, catalog (a mug, a T-shirt in three sizes, coffee at
    /// 9.5 %), customers (one a guest), addresses in SI, HR and AT and two vouchers, and
    /// no orders, playing PrestaShop `version`.
    pub async fn start(version: Version) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake PrestaShop to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let mut state = State::new(version);
        state.seed();
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move {
                    let slow = lock(&state).slow_ms;
                    if slow > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(slow)).await;
                    }
                    handle(&state, &method, &uri, &headers, &body)
                }
            },
        );
        crate::serve_in_background("PrestaShop", listener, app);
        Ok(Self { state, addr })
    }

    /// [`FakePrestaShop::start`] with orders of every kind: two VAT rates, a
    /// combination, the 10 % voucher, free shipping, a guest in Austria, a Croatian
    /// customer, a cancelled, a shipped and a refunded order.
    pub async fn start_seeded(version: Version) -> anyhow::Result<Self> {
        let shop = Self::start(version).await?;
        shop.create_order(
            &OrderSpec::new()
                .line(ids::MUG, 0, 2)
                .line(ids::COFFEE, 0, 3)
                .line(ids::TSHIRT, ids::TSHIRT_M, 1)
                .voucher(ids::VOUCHER_POPUST10),
        );
        shop.create_order(
            &OrderSpec::new()
                .customer(ids::MARIA_GUEST)
                .carrier(ids::CARRIER_GLS)
                .line(ids::TSHIRT, ids::TSHIRT_L, 2)
                .payment("ps_checkpayment", "Payment by check")
                .state(1),
        );
        shop.create_order(
            &OrderSpec::new()
                .customer(ids::IVAN)
                .line(ids::COFFEE, 0, 7)
                .voucher(ids::VOUCHER_FREESHIP)
                .payment("ps_cashondelivery", "Cash on delivery (COD)")
                .state(4),
        );
        shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1).state(6));
        shop.create_order(
            &OrderSpec::new()
                .customer(ids::IVAN)
                .line(ids::TSHIRT, ids::TSHIRT_S, 1)
                .line(ids::MUG, 0, 3)
                .state(7),
        );
        shop.create_order(&OrderSpec::new().carrier(1).line(ids::COFFEE, 0, 1).state(5));
        Ok(shop)
    }

    /// The shop's address (what `shop_url` is set to).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Places an order now; returns its id.
    pub fn create_order(&self, spec: &OrderSpec) -> u64 {
        self.lock().create_order(spec)
    }

    /// The order as the Webservice shows it.
    pub fn order(&self, id: u64) -> Option<Value> {
        self.lock().get("orders", id).cloned()
    }

    pub fn order_ids(&self) -> Vec<u64> {
        self.lock()
            .tables
            .get("orders")
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Changes a line's quantity as the back office's order edit does: totals
    /// recomputed, `date_upd` now.
    pub fn change_quantity(&self, order: u64, product: u64, combination: u64, quantity: u32) {
        let mut state = self.lock();
        let found = state
            .rows("order_details")
            .into_iter()
            .find(|d| {
                id_of(d, "id_order") == order
                    && id_of(d, "product_id") == product
                    && id_of(d, "product_attribute_id") == combination
            })
            .map(|d| id_of(&d, "id"));
        if let Some(detail) = found {
            state.table("order_details").remove(&detail);
        }
        state.add_detail(order, product, combination, quantity);
        state.recompute(order);
        let now = state.now();
        if let Some(row) = state.table("orders").get_mut(&order) {
            row["date_upd"] = json!(now);
        }
    }

    /// Moves an order to a state as the back office does (a history row, `date_upd`).
    pub fn set_state(&self, order: u64, state_id: u64) {
        let mut state = self.lock();
        set_order_state(&mut state, order, state_id);
    }

    /// Adds an order state of the merchant's own (Orders › Statuses › Add new).
    pub fn add_order_state(&self, id: u64, name: &str, paid: bool, shipped: bool) {
        let flag = |on: bool| if on { "1" } else { "0" };
        self.lock().table("order_states").insert(
            id,
            json!({"id": id, "unremovable": "0", "delivery": "0", "hidden": "0", "send_email": "0", "logable": flag(paid), "shipped": flag(shipped), "paid": flag(paid), "deleted": "0", "name": [{"id": "1", "value": name}]}),
        );
    }

    /// Sets `date_upd` of these orders (shop time, `"2026-03-01 10:00:00"`).
    pub fn set_date_upd(&self, orders: &[u64], at: &str) {
        let mut state = self.lock();
        for id in orders {
            if let Some(row) = state.table("orders").get_mut(id) {
                row["date_upd"] = json!(at);
            }
        }
    }

    /// Pins the shop's clock (`None`: the real time); new orders and changes take it.
    pub fn set_clock(&self, at: Option<&str>) {
        self.lock().clock = at.map(str::to_owned);
    }

    /// The shop's current time, as it writes dates.
    pub fn now(&self) -> String {
        self.lock().now()
    }

    /// `stock_availables.quantity` of a product (combination 0) or a combination.
    pub fn stock(&self, product: u64, combination: u64) -> Option<i64> {
        let state = self.lock();
        state
            .rows("stock_availables")
            .into_iter()
            .find(|s| {
                id_of(s, "id_product") == product && id_of(s, "id_product_attribute") == combination
            })
            .and_then(|s| field(&s, "quantity").parse().ok())
    }

    /// The tracking number on the order's carrier row.
    pub fn tracking_number(&self, order: u64) -> Option<String> {
        self.lock()
            .rows("order_carriers")
            .into_iter()
            .find(|c| id_of(c, "id_order") == order)
            .map(|c| field(&c, "tracking_number"))
    }

    /// While down, every request gets 503 from the web server (an HTML page).
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// The Webservice switched off in the back office: 503 code 22.
    pub fn disable_webservice(&self, disabled: bool) {
        self.lock().disabled = disabled;
    }

    /// The next `requests` requests fail with 500 (a PHP error).
    pub fn fail_next(&self, requests: usize) {
        self.lock().fail_next = requests;
    }

    /// Every answer waits this long first.
    pub fn set_slow(&self, millis: u64) {
        self.lock().slow_ms = millis;
    }

    /// Every request so far as `"METHOD /path?query"` (query decoded).
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// The Basic passwords sent so far (PrestaShop ignores them; they should be empty).
    pub fn passwords(&self) -> Vec<String> {
        self.lock().passwords.clone()
    }

    /// Every write (PUT, PATCH, POST) with its body.
    pub fn writes(&self) -> Vec<Write> {
        self.lock().writes.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn set_order_state(state: &mut State, order: u64, state_id: u64) {
    let now = state.now();
    state.insert(
        "order_histories",
        json!({"id_employee": "0", "id_order_state": state_id.to_string(), "id_order": order.to_string(), "date_add": now}),
    );
    if let Some(row) = state.table("orders").get_mut(&order) {
        row["current_state"] = json!(state_id.to_string());
        row["date_upd"] = json!(now);
    }
}

/// How an answer is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

struct Reply {
    status: StatusCode,
    body: String,
    format: Format,
    headers: Vec<(&'static str, String)>,
}

fn error_reply(status: StatusCode, format: Format, errors: &[(u32, &str)]) -> Reply {
    let body = match format {
        Format::Json => json!({
            "errors": errors.iter().map(|(code, message)| json!({"code": code, "message": message})).collect::<Vec<_>>()
        })
        .to_string(),
        Format::Xml => {
            let mut xml = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<errors>\n",
            );
            for (code, message) in errors {
                xml.push_str(&format!(
                    "<error>\n<code><![CDATA[{code}]]></code>\n<message><![CDATA[{message}]]></message>\n</error>\n"
                ));
            }
            xml.push_str("</errors>\n</prestashop>\n");
            xml
        }
    };
    Reply {
        status,
        body,
        format,
        headers: Vec::new(),
    }
}

fn finish(reply: Reply, version: Version, authenticated: bool) -> Response {
    let content_type = match reply.format {
        Format::Json => "application/json;charset=utf-8",
        Format::Xml => "text/xml;charset=utf-8",
    };
    let mut builder = Response::builder()
        .status(reply.status)
        .header("X-Powered-By", "PrestaShop Webservice")
        .header(
            "Access-Time",
            OffsetDateTime::now_utc().unix_timestamp().to_string(),
        )
        .header("Execution-Time", "0.012");
    if !reply.body.is_empty() {
        builder = builder.header("Content-Type", content_type);
    }
    if authenticated {
        builder = builder.header("PSWS-Version", version.header());
    }
    if version == Version::V8 && !reply.body.is_empty() && reply.status.is_success() {
        builder = builder.header(
            "Content-Sha1",
            hex::encode(Sha1::digest(reply.body.as_bytes())),
        );
    }
    for (name, value) in reply.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from(reply.body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn handle(
    state: &Mutex<State>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut state = lock(state);
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let decoded_query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    state.requests.push(format!(
        "{method} {}?{}",
        uri.path(),
        decoded_query.join("&")
    ));
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let format = match param("output_format").or_else(|| param("io_format")) {
        Some(value) if value == "JSON" => Format::Json,
        _ => Format::Xml,
    };
    let version = state.version;

    if state.down {
        let response = Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Retry-After", "1")
            .body(Body::from(
                "<!doctype html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>",
            ))
            .unwrap_or_else(|_| Response::new(Body::empty()));
        return response;
    }
    if state.disabled {
        return finish(
            error_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                format,
                &[(
                    22,
                    "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office",
                )],
            ),
            version,
            false,
        );
    }

    // Authentication: the key is the Basic user; PrestaShop never reads the password.
    let credentials = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let key = credentials
        .as_deref()
        .map(|pair| pair.split_once(':').map_or(pair, |(user, _)| user));
    if let Some((_, password)) = credentials.as_deref().and_then(|pair| pair.split_once(':')) {
        let password = password.to_owned();
        state.passwords.push(password);
    }
    let auth_errors: Vec<(u32, &str)> = match key {
        None => vec![(
            16,
            "Please enter the authentication key as the login. No password required",
        )],
        Some("") => vec![(17, "Authentication key is empty")],
        Some(key) if key.len() != 32 => vec![(18, "Invalid authentication key format")],
        Some(key) if key != WEBSERVICE_KEY => vec![
            (20, "Authentification key is not active"),
            (21, "No permission for this authentication key"),
        ],
        Some(_) => Vec::new(),
    };
    if !auth_errors.is_empty() {
        let mut reply = error_reply(StatusCode::UNAUTHORIZED, format, &auth_errors);
        reply.headers.push((
            "WWW-Authenticate",
            "Basic realm=\"Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required.\"".into(),
        ));
        return finish(reply, version, false);
    }
    if state.fail_next > 0 {
        state.fail_next -= 1;
        return finish(
            error_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                format,
                &[(
                    2,
                    "[PHP Error #1] Allowed memory size of 134217728 bytes exhausted (classes/db/DbPDO.php, line 149)",
                )],
            ),
            version,
            true,
        );
    }

    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    if segments.first() != Some(&"api") {
        return finish(
            Reply {
                status: StatusCode::NOT_FOUND,
                body: "<html><body>Page not found</body></html>".into(),
                format: Format::Xml,
                headers: Vec::new(),
            },
            version,
            false,
        );
    }
    let asked = segments.get(1).copied().unwrap_or_default();
    let id: Option<u64> = segments.get(2).and_then(|id| id.parse().ok());
    let Some((resource, node)) = known(asked) else {
        let resource = asked;
        return finish(
            error_reply(
                StatusCode::BAD_REQUEST,
                format,
                &[(
                    27,
                    &format!("Resource of type \"{resource}\" does not exists"),
                )],
            ),
            version,
            true,
        );
    };
    let reply = match method.as_str() {
        "GET" | "HEAD" => match id {
            Some(id) => read_one(&state, resource, node, id, &param("display"), format),
            None => read_list(&state, resource, &query, format),
        },
        "PATCH" if version == Version::V17 => error_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            format,
            &[(23, "Method PATCH is not valid")],
        ),
        "PUT" | "PATCH" => {
            let text = String::from_utf8_lossy(body).into_owned();
            state.writes.push(Write {
                method: method.to_string(),
                path: uri.to_string(),
                body: text.clone(),
            });
            write(
                &mut state,
                resource,
                node,
                id,
                &text,
                method == Method::PATCH,
            )
        }
        "POST" if resource == "order_histories" => {
            let text = String::from_utf8_lossy(body).into_owned();
            state.writes.push(Write {
                method: "POST".into(),
                path: uri.to_string(),
                body: text.clone(),
            });
            post_history(&mut state, &text)
        }
        other => error_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            format,
            &[(
                25,
                &format!(
                    "Method {other} is not allowed for the resource {resource} with this authentication key"
                ),
            )],
        ),
    };
    finish(reply, version, true)
}

/// Only the fields asked for; `display` absent is ids only.
fn project(row: &Value, display: &Option<String>) -> Value {
    match display.as_deref() {
        Some("full") => {
            let mut row = row.clone();
            if let Some(map) = row.as_object_mut() {
                map.retain(|key, _| !key.starts_with("fake_"));
            }
            row
        }
        Some(list) if list.starts_with('[') => {
            let names: Vec<&str> = list
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(str::trim)
                .collect();
            let mut out = Map::new();
            for name in names {
                if let Some(value) = row.get(name) {
                    out.insert(name.to_owned(), value.clone());
                }
            }
            Value::Object(out)
        }
        _ => json!({"id": row.get("id").cloned().unwrap_or(Value::Null)}),
    }
}

fn read_one(
    state: &State,
    resource: &str,
    node: &str,
    id: u64,
    display: &Option<String>,
    format: Format,
) -> Reply {
    let Some(row) = state.get(resource, id) else {
        // PrestaShop answers a missing object with 404 and no body.
        return Reply {
            status: StatusCode::NOT_FOUND,
            body: String::new(),
            format,
            headers: Vec::new(),
        };
    };
    let display = display.clone().or_else(|| Some("full".into()));
    let row = project(row, &display);
    let body = match format {
        Format::Json => json!({ node: row }).to_string(),
        Format::Xml => xml_of(node, &row),
    };
    Reply {
        status: StatusCode::OK,
        body,
        format,
        headers: Vec::new(),
    }
}

/// The text PrestaShop compares a filter with.
fn text_value(row: &Value, name: &str) -> String {
    field(row, name)
}

fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// PrestaShop's filter forms (SQLUtils::getSQLRetrieveFilter).
fn matches_filter(value: &str, filter: &str) -> bool {
    use std::cmp::Ordering;
    if let Some(inner) = filter
        .strip_prefix(">[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return compare(value, inner) == Ordering::Greater;
    }
    if let Some(inner) = filter
        .strip_prefix("<[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return compare(value, inner) == Ordering::Less;
    }
    if let Some(inner) = filter
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        if inner.contains('|') {
            return inner
                .split('|')
                .any(|option| compare(value, option) == Ordering::Equal);
        }
        if let Some((a, b)) = inner.split_once(',')
            && inner
                .chars()
                .all(|c| c.is_ascii_digit() || ".:- ,".contains(c))
        {
            // BETWEEN, both ends inclusive; PrestaShop sorts the two ends first.
            let (low, high) = if compare(a, b) == Ordering::Greater {
                (b, a)
            } else {
                (a, b)
            };
            return compare(value, low) != Ordering::Less
                && compare(value, high) != Ordering::Greater;
        }
        return compare(value, inner) == Ordering::Equal;
    }
    compare(value, filter) == Ordering::Equal
}

fn read_list(state: &State, resource: &str, query: &[(String, String)], format: Format) -> Reply {
    let date_enabled = query
        .iter()
        .any(|(k, v)| k == "date" && !v.is_empty() && v != "0");
    let mut rows = state.rows(resource);
    for (key, filter) in query {
        let Some(name) = key
            .strip_prefix("filter[")
            .and_then(|rest| rest.strip_suffix(']'))
        else {
            continue;
        };
        if (name == "date_add" || name == "date_upd") && !date_enabled {
            return error_reply(
                StatusCode::BAD_REQUEST,
                format,
                &[(
                    32,
                    &format!(
                        "This filter does not exist. Did you mean: \"id\"? ({name}: add date=1)"
                    ),
                )],
            );
        }
        rows.retain(|row| matches_filter(&text_value(row, name), filter));
    }
    if let Some((_, sort)) = query.iter().find(|(k, _)| k == "sort") {
        let keys: Vec<(String, bool)> = sort
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .filter_map(|key| {
                let (name, direction) = key.rsplit_once('_')?;
                Some((name.to_owned(), direction.eq_ignore_ascii_case("DESC")))
            })
            .collect();
        rows.sort_by(|a, b| {
            for (name, descending) in &keys {
                let ordering = compare(&text_value(a, name), &text_value(b, name));
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
    }
    if let Some((_, limit)) = query.iter().find(|(k, _)| k == "limit") {
        let parts: Vec<usize> = limit
            .split(',')
            .filter_map(|p| p.trim().parse().ok())
            .collect();
        let (offset, count) = match parts.as_slice() {
            [count] => (0, *count),
            [offset, count] => (*offset, *count),
            _ => {
                return error_reply(
                    StatusCode::BAD_REQUEST,
                    format,
                    &[(
                        39,
                        "The \"limit\" value has to be formed as this example: \"5,25\" or \"10\"",
                    )],
                );
            }
        };
        rows = rows.into_iter().skip(offset).take(count).collect();
    }
    let display = query
        .iter()
        .find(|(k, _)| k == "display")
        .map(|(_, v)| v.clone());
    let rows: Vec<Value> = rows.iter().map(|row| project(row, &display)).collect();
    let body = match format {
        Format::Json if rows.is_empty() => "[]".to_owned(),
        Format::Json => json!({ resource: rows }).to_string(),
        Format::Xml => {
            let node = node_of(resource).unwrap_or("item");
            let inner: String = rows.iter().map(|row| xml_inner(node, row)).collect();
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<{resource}>\n{inner}</{resource}>\n</prestashop>\n"
            )
        }
    };
    Reply {
        status: StatusCode::OK,
        body,
        format,
        headers: Vec::new(),
    }
}

fn xml_inner(node: &str, row: &Value) -> String {
    let mut xml = format!("<{node}>\n");
    if let Some(map) = row.as_object() {
        for (name, value) in map {
            if value.is_object() || value.is_array() {
                continue;
            }
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            xml.push_str(&format!("<{name}><![CDATA[{text}]]></{name}>\n"));
        }
    }
    xml.push_str(&format!("</{node}>\n"));
    xml
}

fn xml_of(node: &str, row: &Value) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n{}</prestashop>\n",
        xml_inner(node, row)
    )
}

/// The fields of `<node>` in a PrestaShop write body, as PrestaShop reads them: each
/// child element's text (CDATA and entities read); elements with children of their
/// own (`associations`) are left out. `None` when the body is not XML or has no `node`.
pub fn parse_xml_fields(xml: &str, node: &str) -> Option<BTreeMap<String, String>> {
    use quick_xml::events::Event;

    /// An open element: its name, its text so far, and whether it holds elements.
    struct Open {
        name: String,
        text: String,
        has_children: bool,
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut open: Vec<Open> = Vec::new();
    let mut fields = BTreeMap::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                if let Some(parent) = open.last_mut() {
                    parent.has_children = true;
                }
                open.push(Open {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    text: String::new(),
                    has_children: false,
                });
            }
            Event::Empty(empty) if open.last().is_some_and(|parent| parent.name == node) => {
                let name = String::from_utf8_lossy(empty.local_name().as_ref()).into_owned();
                fields.insert(name, String::new());
            }
            // Text outside the root (line breaks around it) belongs to nothing.
            Event::Text(text) => {
                if let Some(element) = open.last_mut() {
                    element.text.push_str(&text.decode().ok()?);
                }
            }
            Event::CData(data) => {
                if let Some(element) = open.last_mut() {
                    element.text.push_str(&data.decode().ok()?);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().ok()? {
                    Some(character) => character.to_string(),
                    None => {
                        quick_xml::escape::resolve_xml_entity(&reference.decode().ok()?)?.to_owned()
                    }
                };
                if let Some(element) = open.last_mut() {
                    element.text.push_str(&resolved);
                }
            }
            Event::End(_) => {
                let element = open.pop()?;
                if element.name == node {
                    return Some(fields);
                }
                if open.last().is_some_and(|parent| parent.name == node) && !element.has_children {
                    fields.insert(element.name, element.text.trim().to_owned());
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn write(
    state: &mut State,
    resource: &'static str,
    node: &str,
    id: Option<u64>,
    body: &str,
    patch: bool,
) -> Reply {
    let Some(fields) = parse_xml_fields(body, node) else {
        return error_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            Format::Xml,
            &[(127, "XML error : String could not be parsed as XML")],
        );
    };
    let Some(body_id) = fields
        .get("id")
        .and_then(|id| id.trim().parse::<u64>().ok())
    else {
        return error_reply(
            StatusCode::BAD_REQUEST,
            Format::Xml,
            &[(90, "id is required when modifying a resource")],
        );
    };
    if id.is_some_and(|id| id != body_id) || state.get(resource, body_id).is_none() {
        return error_reply(StatusCode::NOT_FOUND, Format::Xml, &[(92, "Invalid ID")]);
    }
    if resource == "stock_availables"
        && let Some(quantity) = fields.get("quantity")
        && quantity.trim().parse::<i64>().is_err()
    {
        return error_reply(
            StatusCode::BAD_REQUEST,
            Format::Xml,
            &[(
                85,
                "Validation error: \"Property StockAvailable->quantity is not valid\"",
            )],
        );
    }
    // PUT wants the whole object: a required field left out is refused.
    if !patch && resource == "stock_availables" {
        for required in [
            "id_product",
            "id_product_attribute",
            "depends_on_stock",
            "out_of_stock",
        ] {
            if !fields.contains_key(required) {
                return error_reply(
                    StatusCode::BAD_REQUEST,
                    Format::Xml,
                    &[(41, &format!("parameter \"{required}\" required"))],
                );
            }
        }
    }
    let table = state.table(resource);
    let Some(row) = table.get_mut(&body_id) else {
        return error_reply(StatusCode::NOT_FOUND, Format::Xml, &[(92, "Invalid ID")]);
    };
    for (name, value) in fields {
        if name == "id" {
            continue;
        }
        row[name.as_str()] = json!(value);
    }
    let row = row.clone();
    Reply {
        status: StatusCode::OK,
        body: xml_of(node, &row),
        format: Format::Xml,
        headers: Vec::new(),
    }
}

fn post_history(state: &mut State, body: &str) -> Reply {
    let Some(fields) = parse_xml_fields(body, "order_history") else {
        return error_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            Format::Xml,
            &[(127, "XML error : String could not be parsed as XML")],
        );
    };
    if fields.contains_key("id") && !fields["id"].trim().is_empty() {
        return error_reply(
            StatusCode::BAD_REQUEST,
            Format::Xml,
            &[(91, "id is forbidden when adding a new resource")],
        );
    }
    let order: u64 = fields
        .get("id_order")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let order_state: u64 = fields
        .get("id_order_state")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if state.get("orders", order).is_none() || state.get("order_states", order_state).is_none() {
        return error_reply(
            StatusCode::BAD_REQUEST,
            Format::Xml,
            &[(
                85,
                "Validation error: \"Property OrderHistory->id_order is not valid\"",
            )],
        );
    }
    set_order_state(state, order, order_state);
    let id = state
        .tables
        .get("order_histories")
        .and_then(|t| t.keys().next_back().copied())
        .unwrap_or(0);
    let row = state
        .get("order_histories", id)
        .cloned()
        .unwrap_or(Value::Null);
    Reply {
        status: StatusCode::CREATED,
        body: xml_of("order_history", &row),
        format: Format::Xml,
        headers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn filters_follow_prestashop() {
        // BETWEEN: both ends inclusive, the ends sorted first.
        assert!(matches_filter(
            "2026-03-01 10:00:00",
            "[2026-03-01 10:00:00,2026-03-01 11:00:00]"
        ));
        assert!(matches_filter(
            "2026-03-01 11:00:00",
            "[2026-03-01 10:00:00,2026-03-01 11:00:00]"
        ));
        assert!(matches_filter(
            "2026-03-01 10:30:00",
            "[2026-03-01 11:00:00,2026-03-01 10:00:00]"
        ));
        assert!(!matches_filter(
            "2026-03-01 11:00:01",
            "[2026-03-01 10:00:00,2026-03-01 11:00:00]"
        ));
        assert!(matches_filter("3", "[1|3]"));
        assert!(!matches_filter("2", "[1|3]"));
        assert!(matches_filter("11", ">[9]"));
        assert!(!matches_filter("9", ">[9]"));
        assert!(matches_filter("0", "[0]"));
    }

    #[test]
    fn xml_bodies_are_read_with_cdata_and_without_associations() {
        let xml = "<?xml version=\"1.0\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\"><stock_available>\n<id><![CDATA[7]]></id>\n<quantity>12</quantity><location/><name>Mug &amp; cup &#269;</name><associations><x><id>1</id></x></associations>\n</stock_available></prestashop>";
        let fields = parse_xml_fields(xml, "stock_available").unwrap();
        assert_eq!(fields["id"], "7");
        assert_eq!(fields["quantity"], "12");
        assert_eq!(fields["location"], "");
        assert_eq!(fields["name"], "Mug & cup č");
        assert!(!fields.contains_key("associations"));
        assert!(parse_xml_fields("not xml", "stock_available").is_none());
    }

    fn basic(key: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
        )
    }

    #[tokio::test]
    async fn versions_differ_in_patch_and_content_sha1_and_both_refuse_a_missing_key() {
        let http = reqwest::Client::new();
        for version in [Version::V17, Version::V8] {
            let shop = FakePrestaShop::start(version).await.unwrap();
            let url = format!("{}/api/orders?output_format=JSON", shop.url());
            let refused = http.get(&url).send().await.unwrap();
            assert_eq!(refused.status(), 401);
            assert!(
                refused.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .contains("No password required")
            );
            let body: Value = refused.json().await.unwrap();
            assert_eq!(body["errors"][0]["code"], 16);

            let empty = http
                .get(&url)
                .header("authorization", basic(WEBSERVICE_KEY))
                .send()
                .await
                .unwrap();
            assert_eq!(empty.status(), 200);
            assert_eq!(
                empty.headers().contains_key("content-sha1"),
                version == Version::V8
            );
            assert_eq!(empty.text().await.unwrap(), "[]");

            let patch = http
                .patch(format!("{}/api/stock_availables/1", shop.url()))
                .header("authorization", basic(WEBSERVICE_KEY))
                .body("<prestashop><stock_available><id>1</id><quantity>3</quantity></stock_available></prestashop>")
                .send()
                .await
                .unwrap();
            match version {
                Version::V17 => assert_eq!(patch.status(), 405),
                Version::V8 => {
                    assert_eq!(patch.status(), 200);
                    assert_eq!(shop.stock(ids::MUG, 0), Some(3));
                }
            }
        }
    }
}
