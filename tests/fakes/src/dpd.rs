//! A fake DPD EasyShip API (`/api/parcel/{method}`) on 127.0.0.1.
//!
//! It behaves like easyship.si and easyship.hr as far as the integrations calling them
//! (and DataLinx's SDK with its answer recorded from easyship.si) show:
//!
//! - every method is `POST /api/parcel/<method>?<parameters>` with an **empty body**;
//!   `username` and `password` are query parameters ([`USERNAME`], [`PASSWORD`]),
//!   `parcel_status` takes the separate tracking key `secret` ([`TRACKING_SECRET`])
//!   instead;
//! - JSON answers are `{"status":"ok"|"err","errlog":null|"...",...}` with **HTTP 200**
//!   for business errors, and carry the header `easyship-backend-version: 1.1.21`;
//! - `parcel_import` validates the parameters (required `name1`, `street`, `city`,
//!   `country`, `pcode`, `num_of_parcel`, `parcel_type`; `cod_amount` with two decimals
//!   and `cod_purpose` for COD types; `pudo_id`, `email`, `phone` and `weight` for
//!   parcel shop delivery; `predict` for B2C types; `name1` at most 35 characters) and
//!   answers one 14-digit `pl_number` per parcel;
//! - `parcel_print` (`parcels=pl1,pl2`) answers `application/pdf` (one page per parcel)
//!   **once** per parcel, then `{"status":"err",...}`;
//! - `parcel_delete` works only before printing, `parcel_cancel` only after; cancelled
//!   and deleted parcels are left off the manifest;
//! - `parcel_manifest_print` (`type` = `manifest`, `manifest_cod`, `summary_list`;
//!   `date` = `Y-m-d`) answers a PDF listing that day's parcels (one page each), or an
//!   error when there are none.
//!
//! EasyShip documents no error texts; the fake's `errlog` texts are its own, worded
//! with the parameter names. A new parcel's status text is `imported` (also the fake's
//! own: the real first text is not known); printing makes it `printed`, and the test
//! moves it on with [`FakeDpd::set_status`] (`sent`, `Delivered`, ...). Parcel dates
//! (for the manifest) are UTC dates.
//!
//! [`FakeDpd::set_slow`] makes `parcel_import` answer late (the parcels are created
//! before the wait), [`FakeDpd::set_down`] answers everything with HTTP 503, and
//! [`FakeDpd::requests`] lists every request received with its query parameters.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The EasyShip login the fake accepts.
pub const USERNAME: &str = "trgovina-easyship";
/// The EasyShip password the fake accepts.
pub const PASSWORD: &str = "Dpd-Geslo-2026!";
/// The tracking key `parcel_status` takes.
pub const TRACKING_SECRET: &str = "7f3a9c1e5b2d4f60";
/// The backend version easyship.si announced in its recorded answer.
pub const BACKEND_VERSION: &str = "1.1.21";
/// The first parcel number handed out (the one in the recorded answer).
pub const FIRST_PL_NUMBER: u64 = 16_962_028_228_119;

const PARCEL_TYPES: &[&str] = &[
    "D",
    "D-COD",
    "D-DOCRET",
    "D-B2C",
    "D-COD-B2C",
    "D-SWAP",
    "D-TYRE",
    "D-TYRE-B2C",
    "D-B2C-PSD",
    "PAL",
    "D-COD-B2C-RP",
];
const COD_TYPES: &[&str] = &["D-COD", "D-COD-B2C", "D-COD-B2C-RP"];
const B2C_TYPES: &[&str] = &[
    "D-B2C",
    "D-COD-B2C",
    "D-TYRE-B2C",
    "D-B2C-PSD",
    "D-COD-B2C-RP",
];
const REQUIRED: &[&str] = &[
    "name1",
    "street",
    "city",
    "country",
    "pcode",
    "num_of_parcel",
    "parcel_type",
];

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// `POST`, ...
    pub method: String,
    /// `/api/parcel/parcel_import`.
    pub path: String,
    /// The query parameters, decoded, in order (credentials included).
    pub query: Vec<(String, String)>,
    /// Bytes of body received (EasyShip wants none).
    pub body_len: usize,
}

impl ReceivedRequest {
    /// The EasyShip method: the last segment of the path (`parcel_import`).
    pub fn endpoint(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
    }

    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A parcel as the fake stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredParcel {
    /// The 14-digit parcel number.
    pub pl_number: String,
    /// Every parcel number of the same `parcel_import`, this one included.
    pub shipment: Vec<String>,
    /// The import's parameters as sent, without the credentials.
    pub params: BTreeMap<String, String>,
    /// The UTC day of the import (`2026-03-02`): the manifest it is on.
    pub date: String,
    /// The text `parcel_status` answers.
    pub status: String,
    /// How many labels were printed (0 or 1: EasyShip prints once).
    pub prints: u32,
    pub deleted: bool,
    pub cancelled: bool,
}

impl StoredParcel {
    /// One import parameter as sent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    fn gone(&self) -> bool {
        self.deleted || self.cancelled
    }
}

#[derive(Default)]
struct State {
    parcels: Vec<StoredParcel>,
    next_number: u64,
    requests: Vec<ReceivedRequest>,
    slow: Option<Duration>,
    down: bool,
}

/// The fake EasyShip; clones share one state.
#[derive(Clone)]
pub struct FakeDpd {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for FakeDpd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDpd").field("addr", &self.addr).finish()
    }
}

impl FakeDpd {
    /// Starts an empty fake on an ephemeral port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the fake DPD EasyShip to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let fake = Self {
            state: Arc::new(Mutex::new(State {
                next_number: FIRST_PL_NUMBER,
                ..State::default()
            })),
            addr,
        };
        let app = Router::new().fallback(handle).with_state(fake.clone());
        crate::serve_in_background("DPD EasyShip", listener, app);
        Ok(fake)
    }

    /// What the connector's `api_base` should be (`http://127.0.0.1:port/api`, as
    /// `https://easyship.si/api`); methods are under `/parcel/`.
    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every parcel, deleted and cancelled ones included, in creation order.
    pub fn parcels(&self) -> Vec<StoredParcel> {
        self.lock().parcels.clone()
    }

    /// The parcel with this number.
    pub fn parcel(&self, pl_number: &str) -> Option<StoredParcel> {
        self.lock()
            .parcels
            .iter()
            .find(|parcel| parcel.pl_number == pl_number)
            .cloned()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    /// The requests to one method (`"parcel_print"`).
    pub fn requests_to(&self, endpoint: &str) -> Vec<ReceivedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.endpoint() == endpoint)
            .collect()
    }

    /// Sets the status text of a parcel (`"sent"`, `"Delivered"`); false when there is
    /// no such parcel.
    pub fn set_status(&self, pl_number: &str, text: &str) -> bool {
        let mut state = self.lock();
        match state
            .parcels
            .iter_mut()
            .find(|parcel| parcel.pl_number == pl_number)
        {
            Some(parcel) => {
                parcel.status = text.to_owned();
                true
            }
            None => false,
        }
    }

    /// Makes `parcel_import` answer only after `delay` (the parcels are created before
    /// the wait). `Duration::ZERO` switches it off.
    pub fn set_slow(&self, delay: Duration) {
        self.lock().slow = (!delay.is_zero()).then_some(delay);
    }

    /// Answers every request with HTTP 503 (maintenance).
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }
}

/// What one request gets.
enum Answer {
    Json(Value),
    Pdf { file: String, pdf: Vec<u8> },
}

fn ok(extra: Value) -> Answer {
    let mut answer = json!({"status": "ok", "errlog": null});
    if let (Some(fields), Value::Object(extra)) = (answer.as_object_mut(), extra) {
        fields.extend(extra);
    }
    Answer::Json(answer)
}

fn err(errlog: impl Into<String>) -> Answer {
    Answer::Json(json!({"status": "err", "errlog": errlog.into()}))
}

async fn handle(
    AxumState(fake): AxumState<FakeDpd>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
    let request = ReceivedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        body_len: body.len(),
    };
    let (answer, slow) = {
        let mut state = fake.lock();
        state.requests.push(request.clone());
        if state.down {
            return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
        }
        let Some(endpoint) = request.path.strip_prefix("/api/parcel/") else {
            return (StatusCode::NOT_FOUND, "Not Found").into_response();
        };
        if method != Method::POST {
            return (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_response();
        }
        if !body.is_empty() {
            return (
                StatusCode::BAD_REQUEST,
                "EasyShip takes its parameters in the query string, not in the body",
            )
                .into_response();
        }
        let Some(answer) = state.call(endpoint, &request) else {
            return (StatusCode::NOT_FOUND, "Not Found").into_response();
        };
        let slow = (endpoint == "parcel_import")
            .then_some(state.slow)
            .flatten();
        (answer, slow)
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    match answer {
        Answer::Json(value) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE.as_str(), "application/json"),
                ("easyship-backend-version", BACKEND_VERSION),
            ],
            value.to_string(),
        )
            .into_response(),
        Answer::Pdf { file, pdf } => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE.as_str(), "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION.as_str(),
                    format!("attachment; filename={file}"),
                ),
                ("easyship-backend-version", BACKEND_VERSION.to_owned()),
            ],
            pdf,
        )
            .into_response(),
    }
}

impl State {
    /// Runs one method; `None` for an unknown one (HTTP 404).
    fn call(&mut self, endpoint: &str, request: &ReceivedRequest) -> Option<Answer> {
        let param = |name: &str| {
            request
                .param(name)
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        if endpoint == "parcel_status" {
            if param("secret") != Some(TRACKING_SECRET) {
                return Some(err("Invalid secret"));
            }
            let number = param("parcel_number").unwrap_or_default();
            return Some(match self.parcels.iter().find(|p| p.pl_number == number) {
                Some(parcel) => ok(json!({"parcel_status": parcel.status})),
                None => err(format!("Parcel {number} not found")),
            });
        }
        let known = matches!(
            endpoint,
            "parcel_import"
                | "parcel_print"
                | "parcel_delete"
                | "parcel_cancel"
                | "parcel_manifest_print"
        );
        if !known {
            return None;
        }
        if param("username") != Some(USERNAME) || request.param("password") != Some(PASSWORD) {
            // Named back, as login refusals often do: whoever shows this text must hide
            // the login.
            return Some(err(format!(
                "Authentication failed for user '{}': wrong username or password",
                param("username").unwrap_or_default()
            )));
        }
        Some(match endpoint {
            "parcel_import" => self.import(request),
            "parcel_print" => self.print(param("parcels").unwrap_or_default()),
            "parcel_delete" => self.delete_or_cancel(param("parcels").unwrap_or_default(), false),
            "parcel_cancel" => self.delete_or_cancel(param("parcels").unwrap_or_default(), true),
            _ => self.manifest(
                param("type").unwrap_or_default(),
                param("date").unwrap_or_default(),
            ),
        })
    }

    fn import(&mut self, request: &ReceivedRequest) -> Answer {
        let params: BTreeMap<String, String> = request
            .query
            .iter()
            .filter(|(key, _)| key != "username" && key != "password")
            .map(|(key, value)| (key.clone(), value.trim().to_owned()))
            .collect();
        if let Err(message) = validate_import(&params) {
            return err(message);
        }
        let count: u64 = params
            .get("num_of_parcel")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let numbers: Vec<String> = (0..count)
            .map(|offset| (self.next_number + offset).to_string())
            .collect();
        self.next_number += count;
        let date = today();
        for number in &numbers {
            self.parcels.push(StoredParcel {
                pl_number: number.clone(),
                shipment: numbers.clone(),
                params: params.clone(),
                date: date.clone(),
                status: "imported".to_owned(),
                prints: 0,
                deleted: false,
                cancelled: false,
            });
        }
        ok(json!({"pl_number": numbers}))
    }

    /// The parcels of a `parcels` list, or the error naming the first unknown one.
    fn listed(&self, parcels: &str) -> Result<Vec<usize>, String> {
        let numbers: Vec<&str> = parcels
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if numbers.is_empty() {
            return Err("Missing parameter: parcels".to_owned());
        }
        numbers
            .iter()
            .map(|number| {
                self.parcels
                    .iter()
                    .position(|parcel| parcel.pl_number == *number)
                    .ok_or_else(|| format!("Parcel {number} does not exist"))
            })
            .collect()
    }

    fn print(&mut self, parcels: &str) -> Answer {
        let indices = match self.listed(parcels) {
            Ok(indices) => indices,
            Err(message) => return err(message),
        };
        for &index in &indices {
            let parcel = &self.parcels[index];
            if parcel.gone() {
                return err(format!(
                    "Parcel {} is deleted or cancelled",
                    parcel.pl_number
                ));
            }
            if parcel.prints > 0 {
                return err(format!(
                    "Parcel {} was already printed; a label is printed only once",
                    parcel.pl_number
                ));
            }
        }
        let mut pages = Vec::new();
        for &index in &indices {
            let parcel = &mut self.parcels[index];
            parcel.prints += 1;
            parcel.status = "printed".to_owned();
            pages.push(format!(
                "DPD {} {} {} {}",
                parcel.pl_number,
                parcel.param("parcel_type").unwrap_or_default(),
                parcel.param("name1").unwrap_or_default(),
                parcel.param("city").unwrap_or_default()
            ));
        }
        let first = indices
            .first()
            .map(|&index| self.parcels[index].pl_number.clone())
            .unwrap_or_default();
        Answer::Pdf {
            file: format!("{first}.pdf"),
            pdf: crate::gls::minimal_pdf(&pages),
        }
    }

    fn delete_or_cancel(&mut self, parcels: &str, cancel: bool) -> Answer {
        let indices = match self.listed(parcels) {
            Ok(indices) => indices,
            Err(message) => return err(message),
        };
        for &index in &indices {
            let parcel = &self.parcels[index];
            if parcel.deleted {
                return err(format!("Parcel {} is already deleted", parcel.pl_number));
            }
            if parcel.cancelled {
                return err(format!("Parcel {} is already cancelled", parcel.pl_number));
            }
            if !cancel && parcel.prints > 0 {
                return err(format!(
                    "Parcel {} is already printed and cannot be deleted; use parcel_cancel",
                    parcel.pl_number
                ));
            }
            if cancel && parcel.prints == 0 {
                return err(format!(
                    "Parcel {} is not printed yet; use parcel_delete",
                    parcel.pl_number
                ));
            }
        }
        for &index in &indices {
            let parcel = &mut self.parcels[index];
            if cancel {
                parcel.cancelled = true;
                parcel.status = "cancelled".to_owned();
            } else {
                parcel.deleted = true;
                parcel.status = "deleted".to_owned();
            }
        }
        ok(json!({}))
    }

    fn manifest(&self, kind: &str, date: &str) -> Answer {
        if !matches!(kind, "manifest" | "manifest_cod" | "summary_list") {
            return err("Invalid parameter: type");
        }
        if !is_date(date) {
            return err("Invalid parameter: date (Y-m-d)");
        }
        let listed: Vec<&StoredParcel> = self
            .parcels
            .iter()
            .filter(|parcel| parcel.date == date && !parcel.gone())
            .filter(|parcel| {
                kind != "manifest_cod"
                    || parcel
                        .param("parcel_type")
                        .is_some_and(|t| COD_TYPES.contains(&t))
            })
            .collect();
        if listed.is_empty() {
            return err(format!("No parcels for the {kind} of {date}"));
        }
        let pages: Vec<String> = listed
            .iter()
            .map(|parcel| {
                format!(
                    "{kind} {date} {} {} {} {}",
                    parcel.pl_number,
                    parcel.param("parcel_type").unwrap_or_default(),
                    parcel.param("name1").unwrap_or_default(),
                    parcel.param("cod_amount").unwrap_or("-")
                )
            })
            .collect();
        Answer::Pdf {
            file: format!("{kind}_{date}.pdf"),
            pdf: crate::gls::minimal_pdf(&pages),
        }
    }
}

/// Checks `parcel_import` parameters as EasyShip documents them.
fn validate_import(params: &BTreeMap<String, String>) -> Result<(), String> {
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    for name in REQUIRED {
        if get(name).is_none() {
            return Err(format!("Missing parameter: {name}"));
        }
    }
    let parcel_type = get("parcel_type").unwrap_or_default();
    if !PARCEL_TYPES.contains(&parcel_type) {
        return Err(format!("Invalid parameter: parcel_type {parcel_type}"));
    }
    if get("name1").is_some_and(|name| name.chars().count() > 35) {
        return Err("Parameter name1 is too long (35 characters at most)".to_owned());
    }
    if get("name2").is_some_and(|name| name.chars().count() > 35) {
        return Err("Parameter name2 is too long (35 characters at most)".to_owned());
    }
    let count = get("num_of_parcel").and_then(|n| n.parse::<u32>().ok());
    if !count.is_some_and(|n| (1..=99).contains(&n)) {
        return Err("Invalid parameter: num_of_parcel".to_owned());
    }
    let country = get("country").unwrap_or_default();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("Invalid parameter: country (ISO 3166 alpha-2)".to_owned());
    }
    let pcode = get("pcode").unwrap_or_default();
    let digits = match country {
        "SI" => Some(4),
        "HR" => Some(5),
        _ => None,
    };
    if let Some(digits) = digits
        && (pcode.len() != digits || !pcode.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("Invalid parameter: pcode {pcode} for {country}"));
    }
    if let Some(weight) = get("weight")
        && !is_decimal(weight, 3)
    {
        return Err("Invalid parameter: weight (kg, 3 decimals)".to_owned());
    }
    if COD_TYPES.contains(&parcel_type) {
        match get("cod_amount") {
            None => return Err("Missing parameter: cod_amount".to_owned()),
            Some(amount) if !is_decimal(amount, 2) => {
                return Err("Invalid parameter: cod_amount (2 decimals)".to_owned());
            }
            Some(_) => {}
        }
        if get("cod_purpose").is_none() {
            return Err("Missing parameter: cod_purpose".to_owned());
        }
        if let Some(kind) = get("parcel_cod_type")
            && !matches!(kind, "avg" | "all" | "firstonly")
        {
            return Err("Invalid parameter: parcel_cod_type".to_owned());
        }
    } else if get("cod_amount").is_some() {
        return Err(format!(
            "Parameter cod_amount is not allowed for parcel_type {parcel_type}"
        ));
    }
    if parcel_type == "D-B2C-PSD" {
        for name in ["pudo_id", "email", "phone", "weight"] {
            if get(name).is_none() {
                return Err(format!("Missing parameter: {name} (mandatory for PUDO)"));
            }
        }
    }
    if B2C_TYPES.contains(&parcel_type) && !matches!(get("predict"), Some("0" | "1")) {
        return Err("Missing parameter: predict (mandatory for B2C)".to_owned());
    }
    Ok(())
}

/// Digits, optionally a dot and 1 to `decimals` digits.
fn is_decimal(text: &str, decimals: usize) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= decimals
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(text.contains('.') && fraction.is_empty())
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(index, b)| index == 4 || index == 7 || b.is_ascii_digit())
}

/// Today's UTC date, `YYYY-MM-DD`.
pub fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn request(endpoint: &str, params: &[(&str, &str)]) -> ReceivedRequest {
        let mut query: Vec<(String, String)> = vec![
            ("username".into(), USERNAME.into()),
            ("password".into(), PASSWORD.into()),
        ];
        query.extend(params.iter().map(|(k, v)| ((*k).into(), (*v).into())));
        ReceivedRequest {
            method: "POST".into(),
            path: format!("/api/parcel/{endpoint}"),
            query,
            body_len: 0,
        }
    }

    fn state() -> State {
        State {
            next_number: FIRST_PL_NUMBER,
            ..State::default()
        }
    }

    fn json(answer: Answer) -> Value {
        match answer {
            Answer::Json(value) => value,
            Answer::Pdf { .. } => panic!("expected JSON"),
        }
    }

    fn pages(answer: Answer) -> usize {
        match answer {
            Answer::Pdf { pdf, .. } => {
                assert!(pdf.starts_with(b"%PDF-1.4"));
                String::from_utf8_lossy(&pdf)
                    .matches("/Type /Page ")
                    .count()
            }
            Answer::Json(value) => panic!("expected a PDF, got {value}"),
        }
    }

    const COD: &[(&str, &str)] = &[
        ("name1", "Ana Novak"),
        ("street", "Slovenska cesta"),
        ("rPropNum", "12a"),
        ("city", "Maribor"),
        ("country", "SI"),
        ("pcode", "2000"),
        ("num_of_parcel", "2"),
        ("parcel_type", "D-COD-B2C"),
        ("cod_amount", "49.90"),
        ("cod_purpose", "2026-00042"),
        ("predict", "1"),
    ];

    #[test]
    fn import_print_once_delete_cancel_and_manifest() {
        let mut state = state();
        let answer = json(
            state
                .call("parcel_import", &request("parcel_import", COD))
                .unwrap(),
        );
        assert_eq!(answer["status"], "ok");
        assert_eq!(
            answer["pl_number"],
            json!(["16962028228119", "16962028228120"])
        );
        let both = "16962028228119,16962028228120";
        let deleted_before_print = json(state.delete_or_cancel("16962028228120", false));
        assert_eq!(deleted_before_print["status"], "ok");
        assert_eq!(pages(state.print("16962028228119")), 1);
        let again = json(state.print("16962028228119"));
        assert_eq!(again["status"], "err");
        assert!(
            again["errlog"]
                .as_str()
                .unwrap()
                .contains("already printed")
        );
        let refused = json(state.delete_or_cancel("16962028228119", false));
        assert!(
            refused["errlog"]
                .as_str()
                .unwrap()
                .contains("parcel_cancel")
        );
        assert_eq!(pages(state.manifest("manifest", &today())), 1);
        assert_eq!(pages(state.manifest("manifest_cod", &today())), 1);
        assert_eq!(
            json(state.delete_or_cancel("16962028228119", true))["status"],
            "ok"
        );
        assert_eq!(json(state.manifest("manifest", &today()))["status"], "err");
        assert_eq!(
            json(state.manifest("manifest", "2000-01-01"))["status"],
            "err"
        );
        assert_eq!(json(state.print(both))["status"], "err");
        assert_eq!(json(state.print("1"))["errlog"], "Parcel 1 does not exist");
    }

    #[test]
    fn import_is_validated_like_easyship() {
        let mut state = state();
        let errlog = |state: &mut State, changes: &[(&str, &str)], drop: &str| {
            let mut params: Vec<(&str, &str)> =
                COD.iter().copied().filter(|(k, _)| *k != drop).collect();
            for (key, value) in changes {
                params.retain(|(k, _)| k != key);
                params.push((key, value));
            }
            let answer = json(
                state
                    .call("parcel_import", &request("parcel_import", &params))
                    .unwrap(),
            );
            answer["errlog"].as_str().unwrap_or_default().to_owned()
        };
        assert_eq!(
            errlog(&mut state, &[], "cod_purpose"),
            "Missing parameter: cod_purpose"
        );
        assert!(errlog(&mut state, &[("cod_amount", "49.905")], "").contains("cod_amount"));
        assert!(errlog(&mut state, &[("pcode", "20000")], "").contains("pcode"));
        assert!(errlog(&mut state, &[], "predict").contains("predict"));
        assert!(errlog(&mut state, &[("parcel_type", "D-B2C-PSD")], "").contains("cod_amount"));
        assert!(errlog(&mut state, &[("name1", &"x".repeat(36))], "").contains("name1"));
        assert!(state.parcels.is_empty());

        let mut wrong = request("parcel_import", COD);
        wrong.query[1].1 = "nope".into();
        let answer = json(state.call("parcel_import", &wrong).unwrap());
        assert!(answer["errlog"].as_str().unwrap().contains("password"));
        assert!(
            state
                .call("parcel_nothing", &request("parcel_nothing", &[]))
                .is_none()
        );
    }

    #[test]
    fn status_needs_the_secret() {
        let mut state = state();
        state.call("parcel_import", &request("parcel_import", COD));
        let status = |state: &mut State, secret: &str, number: &str| {
            let request = ReceivedRequest {
                method: "POST".into(),
                path: "/api/parcel/parcel_status".into(),
                query: vec![
                    ("secret".into(), secret.into()),
                    ("parcel_number".into(), number.into()),
                ],
                body_len: 0,
            };
            json(state.call("parcel_status", &request).unwrap())
        };
        let answer = status(&mut state, TRACKING_SECRET, "16962028228119");
        assert_eq!(answer["parcel_status"], "imported");
        assert_eq!(
            status(&mut state, "x", "16962028228119")["errlog"],
            "Invalid secret"
        );
        assert_eq!(
            status(&mut state, TRACKING_SECRET, "1")["errlog"],
            "Parcel 1 not found"
        );
    }

    #[tokio::test]
    async fn serves_http_slow_import_still_creates_and_records_requests() {
        let fake = FakeDpd::start().await.unwrap();
        fake.set_slow(Duration::from_millis(300));
        let client = reqwest::Client::new();
        let query: Vec<(&str, &str)> = [("username", USERNAME), ("password", PASSWORD)]
            .into_iter()
            .chain(COD.iter().copied())
            .collect();
        let url = reqwest::Url::parse_with_params(
            &format!("{}/parcel/parcel_import", fake.api_base()),
            &query,
        )
        .unwrap();
        let result = client
            .post(url.clone())
            .timeout(Duration::from_millis(50))
            .send()
            .await;
        assert!(result.is_err(), "answered before the timeout");
        assert_eq!(fake.parcels().len(), 2);
        fake.set_slow(Duration::ZERO);
        let response = client.post(url).send().await.unwrap();
        assert_eq!(
            response.headers()["easyship-backend-version"],
            BACKEND_VERSION
        );
        let recorded = fake.requests_to("parcel_import");
        assert_eq!(recorded.len(), 2);
        assert_eq!(recorded[0].param("rPropNum"), Some("12a"));
        assert!(fake.set_status("16962028228119", "sent"));
        assert!(!fake.set_status("1", "sent"));
        fake.set_down(true);
        let down = client
            .post(format!("{}/parcel/parcel_print", fake.api_base()))
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), 503);
    }
}
