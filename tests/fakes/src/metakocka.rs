//! A fake Metakocka (the Slovenian ERP) JSON API: every call is a `POST` of a JSON body
//! carrying `secret_key` and `company_id`; answers are JSON with every value a string
//! and `opr_code` (`"0"` = OK). Errors come inside HTTP 200 answers (`opr_code` ≠ `"0"`
//! and `opr_desc`), as Metakocka sends them.
//!
//! Served: `POST /rest/eshop/v1/search` (`doc_type: sales_order`, `offset`, `limit` ≤ 50,
//! `query_advance` `last_change_from` / `last_change_to`, `result_type: doc`),
//! `POST /rest/eshop/v1/get_document` (`doc_id`), `POST /rest/eshop/v1/json/warehouse_stock`
//! (`offset`, `limit` ≤ 1000, one row per item and microlocation, amounts as strings
//! with a decimal comma), `POST /rest/eshop/sync_stock`
//! (`stock_list[{warehouse_id, product_code | product_id, amount}]`, refused rows in
//! `error_list`; as documented it replaces the whole stock: an item held but absent
//! from the request is removed and listed in `stock_remove_list`). A seeded company: sales orders with partners and receivers, rows
//! priced with and without tax at 22 % (`EX4`) and 9.5 % (`EX3`), a discount, shipping
//! (`DOSTAVA`), a company buyer, a cancelled order; warehouse stock by item code.
//! Failure modes: wrong credentials, an `opr_code` error for the next calls or until
//! cleared, down (503). The stock webhook is signed as documented: base64 HMAC-SHA1 of
//! the body under the client secret in `X-MetaKocka-Signature`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha1::Sha1;
use time::OffsetDateTime;

use crate::webhook::Delivery;

pub const SECRET_KEY: &str = "mk-secret-8899";
pub const COMPANY_ID: &str = "16";
/// The warehouse (`mk_id`) whose stock the seed holds.
pub const WAREHOUSE_ID: &str = "1600000042";
/// A second warehouse of the seed, which tovor does not manage.
pub const OTHER_WAREHOUSE_ID: &str = "1600000067";
/// `warehouse_stock`'s default and largest page.
pub const STOCK_MAX_LIMIT: usize = 1000;
/// The stock webhook's `client_secret`.
pub const WEBHOOK_SECRET: &str = "mk-client-secret";
/// Metakocka's largest `search` page.
pub const MAX_LIMIT: u64 = 50;

/// One call as the fake received it, without `secret_key`.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub body: Value,
}

struct Doc {
    last_change: OffsetDateTime,
    doc: Value,
}

#[derive(Default)]
struct State {
    docs: BTreeMap<u64, Doc>,
    next_id: u64,
    next_count: u64,
    /// Rows as `warehouse_stock` lists them: one per item and microlocation.
    stock: Vec<StockRow>,
    /// The largest `warehouse_stock` page (a test may make it small); 0 is the default.
    stock_page: usize,
    /// `stock_remove_list` of the last `sync_stock` answer.
    removed: Vec<Value>,
    calls: Vec<Call>,
    fail_next: Vec<(String, String)>,
    failing: Option<(String, String)>,
    down: bool,
}

#[derive(Debug, Clone)]
struct StockRow {
    warehouse: String,
    code: String,
    microlocation: Option<&'static str>,
    amount: String,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A row of a sales order as the seed writes it: code, name, amount, price, with tax
/// or not, discount %, tax code.
#[derive(Debug, Clone)]
pub struct Row {
    pub code: &'static str,
    pub name: &'static str,
    pub amount: &'static str,
    pub price: &'static str,
    pub with_tax: bool,
    pub discount: &'static str,
    pub tax: &'static str,
}

pub fn row(
    code: &'static str,
    name: &'static str,
    amount: &'static str,
    price: &'static str,
    with_tax: bool,
) -> Row {
    Row {
        code,
        name,
        amount,
        price,
        with_tax,
        discount: "",
        tax: if code == "KAVA-250" { "EX3" } else { "EX4" },
    }
}

/// Metakocka's own id of an item (one per item code).
pub fn product_mk_id(code: &str) -> String {
    let id = match code {
        "MUG-BLU" => 1_600_162_716,
        "KAVA-250" => 1_600_162_717,
        "TEE-M" => 1_600_162_718,
        "DOSTAVA" => 1_600_162_719,
        other => 1_600_170_000 + other.bytes().map(u64::from).sum::<u64>(),
    };
    id.to_string()
}

fn rate(tax: &str) -> Decimal {
    match tax {
        "EX3" => Decimal::new(95, 1),
        _ => Decimal::new(22, 0),
    }
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

/// An amount as Metakocka writes it (`"863,75"`).
fn amount(text: &str) -> Decimal {
    dec(&text.trim().replace(',', "."))
}

/// `"YYYY-MM-DDTHH:MM:SS+02:00"` of a UTC time, shown in Slovene summer time.
fn mk_time(at: OffsetDateTime) -> String {
    let local = at.to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+02:00",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

fn mk_date(at: OffsetDateTime) -> String {
    mk_time(at)[..10].to_owned() + "+02:00"
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// The whole order, tax included, rounded per row as Metakocka prints it.
pub fn gross_total(rows: &[Row]) -> Decimal {
    rows.iter()
        .map(|row| {
            let mut factor = Decimal::ONE;
            if !row.discount.is_empty() {
                factor -= dec(row.discount) / Decimal::ONE_HUNDRED;
            }
            let before = dec(row.amount) * dec(row.price) * factor;
            if row.with_tax {
                before.round_dp(2)
            } else {
                let net = before.round_dp(2);
                net + (net * rate(row.tax) / Decimal::ONE_HUNDRED).round_dp(2)
            }
        })
        .sum()
}

/// A sales order to place.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    pub buyer_order: &'static str,
    pub partner: Value,
    pub receiver: Option<Value>,
    pub rows: Vec<Row>,
    pub status_code: &'static str,
    pub status_desc: &'static str,
    pub method_of_payment: &'static str,
    pub paid: bool,
}

pub fn ana() -> Value {
    json!({"mk_id": "180600025047", "business_entity": "false", "taxpayer": "false", "foreign_county": "false",
           "customer": "Ana Novak", "street": "Slovenska cesta 12a", "post_number": "1000", "place": "Ljubljana",
           "country": "Slovenia", "country_iso_2": "SI",
           "partner_contact": {"name": "Ana Novak", "gsm": "040111222", "email": "ana.novak@example.si"}})
}

impl OrderSpec {
    /// Ana Novak's order of `rows`, new, cash on delivery.
    pub fn new(buyer_order: &'static str, rows: Vec<Row>) -> Self {
        Self {
            buyer_order,
            partner: ana(),
            receiver: None,
            rows,
            status_code: "Novo naročilo",
            status_desc: "new_order",
            method_of_payment: "Po povzetju",
            paid: false,
        }
    }
}

impl State {
    fn place(&mut self, spec: &OrderSpec, at: OffsetDateTime) -> u64 {
        self.next_id += 1;
        self.next_count += 1;
        let id = 1_600_203_000 + self.next_id;
        let total = gross_total(&spec.rows);
        let products: Vec<Value> = spec
            .rows
            .iter()
            .map(|row| {
                let mut product = json!({
                    "mk_id": product_mk_id(row.code),
                    "code": row.code, "name": row.name, "unit": if row.code == "DOSTAVA" { "stor" } else { "kos" },
                    "amount": row.amount, "tax": row.tax,
                });
                let price_field = if row.with_tax { "price_with_tax" } else { "price" };
                product[price_field] = json!(row.price);
                if !row.discount.is_empty() {
                    product["discount"] = json!(row.discount);
                }
                product
            })
            .collect();
        let mut doc = json!({
            "opr_code": "0",
            "mk_id": id.to_string(),
            "doc_type": "sales_order",
            "count_code": format!("PP-{}", 18_494 + self.next_count),
            "doc_date": mk_date(at),
            "order_create_ts": mk_time(at),
            "last_change_ts": mk_time(at),
            "buyer_order": spec.buyer_order,
            "status_code": spec.status_code,
            "status_desc": spec.status_desc,
            "currency_code": "EUR",
            "warehouse": "glavno",
            "delivery_type": "GLS",
            "method_of_payment": spec.method_of_payment,
            "partner": spec.partner,
            "product_list": products,
            "sum_all": total.round_dp(2).to_string(),
            "sum_paid": if spec.paid { total.round_dp(2).to_string() } else { "0".to_owned() },
            "extra_column": [{"name": "store_url", "value": "https://trgovina.example.si"}],
        });
        if let Some(receiver) = &spec.receiver {
            doc["receiver"] = receiver.clone();
        }
        self.docs.insert(
            id,
            Doc {
                last_change: at,
                doc,
            },
        );
        id
    }

    fn seed(&mut self) {
        let now = OffsetDateTime::now_utc();
        let minutes = |m: i64| now - time::Duration::minutes(m);
        let mut first = OrderSpec::new(
            "1042",
            vec![
                Row {
                    discount: "10",
                    ..row("MUG-BLU", "Skodelica, modra", "2", "14.00", true)
                },
                row("KAVA-250", "Kava 250 g", "3", "8.76", true),
                row("DOSTAVA", "Dostava GLS", "1", "4.00", true),
            ],
        );
        first.receiver = Some(
            json!({"business_entity": "false", "customer": "Ana Novak", "street": "Trg republike 3",
            "post_number": "1000", "place": "Ljubljana", "country": "Slovenia", "country_iso_2": "SI"}),
        );
        self.place(&first, minutes(4));
        let mut company = OrderSpec::new(
            "1043",
            vec![
                row("TEE-M", "Majica M", "2", "15.00", false),
                row("KAVA-250", "Kava 250 g", "5", "7.30", false),
                row("DOSTAVA", "Dostava GLS", "1", "3.50", false),
            ],
        );
        company.partner = json!({"mk_id": "180600025050", "business_entity": "true", "taxpayer": "true", "foreign_county": "false",
            "tax_id_number": "SI12345678", "customer": "Kavarna Zrno d.o.o.", "street": "Dunajska cesta 5", "post_number": "1000",
            "place": "Ljubljana", "country": "Slovenia",
            "partner_contact": {"name": "Marko Kos", "phone": "01 320 24 88", "email": "marko@zrno.example.si"}});
        company.method_of_payment = "paypal";
        company.paid = true;
        self.place(&company, minutes(3));
        let mut croatia = OrderSpec::new(
            "",
            vec![row("MUG-BLU", "Skodelica, modra", "1", "14.00", true)],
        );
        croatia.partner = json!({"business_entity": "false", "customer": "Ivana Horvat", "street": "Ilica 10", "post_number": "10000",
            "place": "Zagreb", "country": "Croatia", "partner_contact": {"email": "ivana@example.hr"}});
        croatia.status_code = "Odpremljen";
        croatia.status_desc = "shipped";
        self.place(&croatia, minutes(2));
        let mut cancelled =
            OrderSpec::new("1045", vec![row("TEE-M", "Majica M", "1", "15.00", true)]);
        cancelled.status_code = "Preklicano";
        cancelled.status_desc = "canceled";
        self.place(&cancelled, minutes(1));
        // MUG-BLU is 10 in two microlocations, the other warehouse has its own stock
        // (negative and with a decimal comma too).
        for (warehouse, code, microlocation, amount) in [
            (WAREHOUSE_ID, "MUG-BLU", Some("A1"), "6"),
            (WAREHOUSE_ID, "MUG-BLU", Some("B1"), "4"),
            (WAREHOUSE_ID, "KAVA-250", Some("A1"), "20"),
            (WAREHOUSE_ID, "TEE-M", None, "5"),
            (OTHER_WAREHOUSE_ID, "MUG-BLU", Some("A1"), "3"),
            (OTHER_WAREHOUSE_ID, "KAVA-250", None, "12,5"),
            (OTHER_WAREHOUSE_ID, "TEE-M", Some("B1"), "-2"),
        ] {
            self.stock.push(StockRow {
                warehouse: warehouse.to_owned(),
                code: code.to_owned(),
                microlocation,
                amount: amount.to_owned(),
            });
        }
    }
}

/// The fake Metakocka.
pub struct FakeMetakocka {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

fn answer(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json;charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn opr_error(code: &str, desc: &str) -> Response {
    answer(
        StatusCode::OK,
        json!({"opr_code": code, "opr_desc": desc, "opr_time_ms": "12"}),
    )
}

fn text(body: &Value, name: &str) -> String {
    match body.get(name) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        _ => String::new(),
    }
}

fn handle(state: &Mutex<State>, uri: &Uri, body: &Bytes) -> Response {
    let mut state = lock(state);
    if state.down {
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header("Content-Type", "text/html")
            .body(Body::from(
                "<html><body><h1>503 Service Unavailable</h1></body></html>",
            ))
            .unwrap_or_else(|_| Response::new(Body::empty()));
    }
    let Ok(Value::Object(mut request)) = serde_json::from_slice::<Value>(body) else {
        return opr_error("2", "Invalid JSON request");
    };
    let secret = request.remove("secret_key");
    let method = uri.path().trim_start_matches("/rest/eshop/").to_owned();
    state.calls.push(Call {
        method: method.clone(),
        body: Value::Object(request.clone()),
    });
    let request = Value::Object(request);
    if secret.as_ref().and_then(Value::as_str) != Some(SECRET_KEY)
        || text(&request, "company_id") != COMPANY_ID
    {
        return opr_error("1", "Wrong secret_key or company_id");
    }
    if !state.fail_next.is_empty() {
        let (code, desc) = state.fail_next.remove(0);
        return opr_error(&code, &desc);
    }
    if let Some((code, desc)) = state.failing.clone() {
        return opr_error(&code, &desc);
    }
    match method.as_str() {
        "v1/search" => search(&state, &request),
        "v1/get_document" => {
            let id: u64 = text(&request, "doc_id").parse().unwrap_or(0);
            match state.docs.get(&id) {
                Some(doc) if text(&request, "doc_type") == "sales_order" => {
                    answer(StatusCode::OK, doc.doc.clone())
                }
                _ => opr_error("2", &format!("Document not found : {id}")),
            }
        }
        "v1/json/warehouse_stock" => warehouse_stock(&state, &request),
        "sync_stock" => sync_stock(&mut state, &request),
        _ => answer(StatusCode::NOT_FOUND, json!({"error": "Not Found"})),
    }
}

fn search(state: &State, request: &Value) -> Response {
    if text(request, "doc_type") != "sales_order" {
        return opr_error("2", "Unknown document type");
    }
    let offset: u64 = text(request, "offset").parse().unwrap_or(0);
    let limit: u64 = match text(request, "limit").as_str() {
        "" => MAX_LIMIT,
        limit => limit.parse().unwrap_or(u64::MAX),
    };
    if limit > MAX_LIMIT {
        return opr_error(
            "2",
            &format!("Paramether 'limit' has invalid value : {limit}. Maximum is {MAX_LIMIT}"),
        );
    }
    let mut from = None;
    let mut to = None;
    for item in request
        .get("query_advance")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let value = text(&item, "value");
        let Some(at) = parse_time(&value) else {
            return opr_error("2", &format!("Invalid date value : {value}"));
        };
        match text(&item, "type").as_str() {
            "last_change_from" => from = Some(at),
            "last_change_to" => to = Some(at),
            other => return opr_error("2", &format!("Unknown query_advance type : {other}")),
        }
    }
    let matching: Vec<&Doc> = state
        .docs
        .values()
        .filter(|doc| from.is_none_or(|from| doc.last_change >= from))
        .filter(|doc| to.is_none_or(|to| doc.last_change <= to))
        .collect();
    let whole = text(request, "result_type") == "doc";
    let result: Vec<Value> = matching
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|doc| {
            if whole {
                doc.doc.clone()
            } else {
                json!({"mk_id": doc.doc["mk_id"], "opr_code": "0", "count_code": doc.doc["count_code"]})
            }
        })
        .collect();
    answer(
        StatusCode::OK,
        json!({
            "opr_code": "0", "opr_time_ms": "85",
            "result_all_records": matching.len().to_string(),
            "result_count": result.len().to_string(),
            "offset": offset.to_string(), "limit": limit.to_string(),
            "result": result,
        }),
    )
}

fn warehouse_stock(state: &State, request: &Value) -> Response {
    let offset: usize = text(request, "offset").parse().unwrap_or(0);
    let limit = text(request, "limit")
        .parse::<usize>()
        .unwrap_or(STOCK_MAX_LIMIT)
        .clamp(1, STOCK_MAX_LIMIT)
        .min(if state.stock_page == 0 {
            STOCK_MAX_LIMIT
        } else {
            state.stock_page
        });
    let list: Vec<Value> = state
        .stock
        .iter()
        .skip(offset)
        .take(limit)
        .map(|row| {
            let mut item = json!({"warehouse_id": row.warehouse, "mk_id": product_mk_id(&row.code),
                "count_code": row.code, "code": row.code, "title": row.code, "amount": row.amount, "unit": "kos"});
            if let Some(microlocation) = row.microlocation {
                item["microlocation"] = json!(microlocation);
            }
            item
        })
        .collect();
    answer(
        StatusCode::OK,
        json!({"opr_code": "0", "opr_time_ms": "135", "offset": offset.to_string(),
            "limit": limit.to_string(), "stock_list": list}),
    )
}

/// Replaces the whole stock, as Metakocka documents: every item sent gets its amount
/// (one row, microlocations dropped), every item held and not sent is removed.
fn sync_stock(state: &mut State, request: &Value) -> Response {
    let warehouses = [WAREHOUSE_ID, OTHER_WAREHOUSE_ID];
    let known_codes: Vec<String> = state.stock.iter().map(|row| row.code.clone()).collect();
    let mut done = Vec::new();
    let mut errors = Vec::new();
    let mut next: Vec<StockRow> = Vec::new();
    for item in request
        .get("stock_list")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let warehouse = text(&item, "warehouse_id");
        let id = text(&item, "product_id");
        let mut code = text(&item, "product_code");
        if code.is_empty() {
            code = known_codes
                .iter()
                .find(|known| product_mk_id(known) == id)
                .cloned()
                .unwrap_or_default();
        }
        let amount = text(&item, "amount");
        if !warehouses.contains(&warehouse.as_str()) {
            errors.push(json!({"product_code": code, "warehouse_id": warehouse, "error": "Warehouse not found"}));
            continue;
        }
        let known = known_codes.contains(&code) && (id.is_empty() || id == product_mk_id(&code));
        if code.is_empty() || !known || amount.parse::<Decimal>().is_err() {
            errors.push(json!({"product_code": text(&item, "product_code"), "warehouse_id": warehouse, "error": "Product not found"}));
            continue;
        }
        next.retain(|row| !(row.warehouse == warehouse && row.code == code));
        next.push(StockRow {
            warehouse: warehouse.clone(),
            code: code.clone(),
            microlocation: None,
            amount: amount.clone(),
        });
        done.push(json!({"product_code": code, "product_id": product_mk_id(&code), "warehouse_id": warehouse, "amount": amount}));
    }
    let mut removed: Vec<Value> = Vec::new();
    for row in &state.stock {
        let kept = next
            .iter()
            .any(|new| new.warehouse == row.warehouse && new.code == row.code);
        let listed = removed.iter().any(|r| {
            r["warehouse_id"] == row.warehouse.as_str() && r["product_code"] == row.code.as_str()
        });
        if !kept && !listed {
            removed.push(
                json!({"product_code": row.code, "product_id": product_mk_id(&row.code),
                "warehouse_id": row.warehouse, "amount": "0"}),
            );
        }
    }
    state.stock = next;
    state.removed = removed.clone();
    let mut body = json!({"opr_code": "0", "opr_desc": "Sync successful", "opr_time_ms": "121", "stock_list": done});
    if !errors.is_empty() {
        body["error_list"] = Value::Array(errors);
    }
    if !removed.is_empty() {
        body["stock_remove_list"] = Value::Array(removed);
    }
    answer(StatusCode::OK, body)
}

impl FakeMetakocka {
    /// A company with no sales orders and no stock.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the fake Metakocka to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let app = Router::new().fallback(move |uri: Uri, body: Bytes| {
            let state = shared.clone();
            async move { handle(&state, &uri, &body) }
        });
        crate::serve_in_background("Metakocka", listener, app);
        Ok(Self { state, addr })
    }

    /// [`FakeMetakocka::start`] with four sales orders changed in the last five minutes (a
    /// person's with a discount and two rates priced with tax, a company's priced
    /// without tax and paid, a Croatian shipped one without a buyer's order, a
    /// cancelled one) and stock of `MUG-BLU`, `KAVA-250`, `TEE-M`.
    pub async fn start_seeded() -> anyhow::Result<Self> {
        let fake = Self::start().await?;
        lock(&fake.state).seed();
        Ok(fake)
    }

    /// The API root (`api_base`): `http://127.0.0.1:port/rest/eshop`.
    pub fn api_base(&self) -> String {
        format!("http://{}/rest/eshop", self.addr)
    }

    /// Places a sales order changed now; answers its `mk_id`.
    pub fn place(&self, spec: &OrderSpec) -> u64 {
        lock(&self.state).place(spec, OffsetDateTime::now_utc())
    }

    /// Places a sales order last changed at `at`.
    pub fn place_at(&self, spec: &OrderSpec, at: OffsetDateTime) -> u64 {
        lock(&self.state).place(spec, at)
    }

    /// The document as `get_document` answers it.
    pub fn document(&self, id: u64) -> Option<Value> {
        lock(&self.state).docs.get(&id).map(|doc| doc.doc.clone())
    }

    pub fn document_ids(&self) -> Vec<u64> {
        lock(&self.state).docs.keys().copied().collect()
    }

    /// Changes an order's status text now (a new `last_change`).
    pub fn touch(&self, id: u64, status_code: &str) {
        let mut state = lock(&self.state);
        let now = OffsetDateTime::now_utc();
        if let Some(doc) = state.docs.get_mut(&id) {
            doc.last_change = now;
            doc.doc["status_code"] = json!(status_code);
            doc.doc["last_change_ts"] = json!(mk_time(now));
        }
    }

    /// The amount of an item in [`WAREHOUSE_ID`] (all microlocations), as a string;
    /// `None` when the warehouse does not hold it.
    pub fn stock(&self, code: &str) -> Option<String> {
        self.stock_in(WAREHOUSE_ID, code)
    }

    /// The amount of an item in a warehouse (all microlocations), as a string.
    pub fn stock_in(&self, warehouse: &str, code: &str) -> Option<String> {
        let state = lock(&self.state);
        let rows: Vec<&StockRow> = state
            .stock
            .iter()
            .filter(|row| row.warehouse == warehouse && row.code == code)
            .collect();
        if rows.is_empty() {
            return None;
        }
        let total: Decimal = rows.iter().map(|row| amount(&row.amount)).sum();
        Some(total.normalize().to_string())
    }

    /// Every item held, `(warehouse, code, amount)`, microlocations summed.
    pub fn stock_totals(&self) -> Vec<(String, String, String)> {
        let mut keys: Vec<(String, String)> = lock(&self.state)
            .stock
            .iter()
            .map(|row| (row.warehouse.clone(), row.code.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter_map(|(warehouse, code)| {
                let total = self.stock_in(&warehouse, &code)?;
                Some((warehouse, code, total))
            })
            .collect()
    }

    /// `warehouse_stock` answers pages of at most `rows` rows.
    pub fn set_stock_page(&self, rows: usize) {
        lock(&self.state).stock_page = rows;
    }

    /// `stock_remove_list` of the last `sync_stock` answer (the items it removed).
    pub fn removed(&self) -> Vec<Value> {
        lock(&self.state).removed.clone()
    }

    /// The `warehouse_stock` calls received.
    pub fn stock_reads(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|call| call.method == "v1/json/warehouse_stock")
            .collect()
    }

    /// Every call received, without the secret key.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state).calls.clone()
    }

    /// The `stock_list` rows of every `sync_stock` call.
    pub fn synced(&self) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|call| call.method == "sync_stock")
            .flat_map(|call| {
                call.body["stock_list"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The next `calls` calls answer `opr_code` `code` with `desc`, inside HTTP 200.
    pub fn fail_next(&self, calls: usize, code: &str, desc: &str) {
        let mut state = lock(&self.state);
        for _ in 0..calls {
            state.fail_next.push((code.to_owned(), desc.to_owned()));
        }
    }

    /// Every call answers this `opr_code` error until cleared with `None`.
    pub fn set_failing(&self, error: Option<(&str, &str)>) {
        lock(&self.state).failing = error.map(|(c, d)| (c.to_owned(), d.to_owned()));
    }

    /// While down, every call gets 503 from the web server.
    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    /// The stock webhook for `code` as Metakocka sends it: the item's amount in the
    /// warehouse, signed with `secret` (base64 HMAC-SHA1 of the body).
    pub fn stock_webhook(&self, code: &str, secret: &str) -> Delivery {
        let amount = self.stock(code).unwrap_or_else(|| "0".to_owned());
        let body = json!({
            "opr_code": "0", "opr_time_ms": "0", "stock_list_count": "1",
            "stock_list": [{"warehouse_id": WAREHOUSE_ID, "mk_id": "1600094857", "count_code": code, "code": code,
                            "title": code, "amount": amount, "reserved_amount": "0", "free_amount": amount, "unit": "kos"}],
        })
        .to_string()
        .into_bytes();
        Delivery {
            headers: vec![
                (
                    "Content-Type".to_owned(),
                    "application/json; charset=UTF-8".to_owned(),
                ),
                (
                    "X-MetaKocka-Event".to_owned(),
                    "warehouse_product_stock_update".to_owned(),
                ),
                (
                    "X-MetaKocka-Id".to_owned(),
                    format!("evt-{}", self.calls().len()),
                ),
                ("X-MetaKocka-Signature".to_owned(), sign(secret, &body)),
            ],
            body,
        }
    }
}

/// Base64 of the HMAC-SHA1 of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
