//! A fake GLS MyGLS JSON API (`/ParcelService.svc/json/{Method}`) on 127.0.0.1.
//!
//! It behaves like the real service (as the MyGLS API documentation describes it) as far
//! as tovor's GLS connector relies on it:
//!
//! - every method is `POST` with a JSON body in UpperCamelCase and always answers
//!   HTTP 200; failures travel in the method's own error list (`PrintLabelsErrorList`,
//!   `PrepareLabelsError`, `GetPrintedLabelsErrorList`, `DeleteLabelsErrorList`,
//!   `GetParcelStatusErrors`, `GetParcelListErrors`) as `ErrorInfo` records;
//! - `Password` must be the SHA-512 digest of [`PASSWORD`] as a JSON array of 64
//!   integers; a wrong login answers `ErrorCode -1`;
//! - two ids per parcel: a small-int `ParcelId` and a 10-digit `ParcelNumber`; a parcel
//!   with `Count = n` yields n pieces, the first `ParcelId` owns the others
//!   (`SubParcelIdList` when deleted);
//! - `Labels` is a JSON array of byte values: a small valid PDF with one page per
//!   piece (ZPL text for the ZPL printer types);
//! - WCF dates (`/Date(ms)/` in requests, `/Date(ms+0100)/` in answers);
//! - error 6 when deleting a parcel that was scanned or already deleted, error 18 on a
//!   second label fetch when [`FakeGls::set_refuse_reprint`] is on, error 31 on the 5th
//!   identical request within 5 minutes, partial batches.
//!
//! The test drives tracking with [`FakeGls::advance`], and [`FakeGls::set_slow`] makes
//! `PrintLabels` / `PrepareLabels` answer late while still creating the parcels (a
//! client that timed out must reconcile through `GetParcelList`, not repeat).
//! [`FakeGls::set_slow_tracking`] delays `GetParcelStatuses` (one parcel per call), and
//! [`FakeGls::max_concurrent_requests`] tells whether a client sent its requests
//! together. A connection check is any authenticated call (`GetParcelList` over a short
//! interval answers an empty list, or error -1 / 27 for a wrong login or client number);
//! an unknown method's path answers HTTP 404 as the real service does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

/// The MyGLS login the fake accepts.
pub const USERNAME: &str = "api@trgovina.si";
/// The MyGLS password the fake accepts (sent as its SHA-512 digest bytes).
pub const PASSWORD: &str = "Gls-Geslo-2026!";
/// The GLS client (customer) number of the fake account.
pub const CLIENT_NUMBER: i64 = 100_000_001;

/// Printer types the fake knows (`TypeOfPrinter`).
pub const PRINTER_TYPES: &[&str] = &[
    "A4_2x2",
    "A4_4x1",
    "Connect",
    "Thermo",
    "ThermoZPL",
    "ShipItThermoPdf",
    "ThermoZPL_300DPI",
    "ShipItThermoZpl",
];

const FIRST_PARCEL_ID: i64 = 79_463_181;
const FIRST_PARCEL_NUMBER: i64 = 5_000_000_001;
const RATE_WINDOW: Duration = Duration::from_secs(300);

/// One parcel piece as the fake stores it.
#[derive(Debug, Clone)]
pub struct StoredParcel {
    pub parcel_id: i64,
    /// `ParcelNumber`; `None` while only prepared (no label printed yet).
    pub parcel_number: Option<i64>,
    /// The `ParcelId` of the first piece of the same Parcel (itself for the first).
    pub main_parcel_id: i64,
    pub client_reference: String,
    /// The Parcel object exactly as the client sent it.
    pub parcel: Value,
    /// Print time, ms since the epoch (`PrintDate` for `GetParcelList`).
    pub printed_at_ms: Option<i64>,
    /// Statuses, oldest first: (StatusCode, ms since the epoch).
    pub statuses: Vec<(String, i64)>,
    pub deleted: bool,
    /// How many times a label was produced for it.
    pub label_count: u32,
}

impl StoredParcel {
    /// Whether GLS has physically handled the parcel (it can no longer be deleted).
    pub fn scanned(&self) -> bool {
        self.statuses
            .iter()
            .any(|(code, _)| !matches!(code.as_str(), "51" | "52" | "83" | "84" | "88"))
    }
}

#[derive(Default)]
struct State {
    parcels: Vec<StoredParcel>,
    next_parcel_id: i64,
    next_parcel_number: i64,
    requests: Vec<String>,
    bodies: Vec<(String, Value)>,
    recent: Vec<(Instant, String)>,
    slow: Option<Duration>,
    slow_tracking: Option<Duration>,
    refuse_reprint: bool,
    down: bool,
}

/// The fake MyGLS service; cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct FakeGls {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    concurrency: Arc<Concurrency>,
}

/// Requests being answered now, and the most there ever were at once.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// Counts one request in flight until dropped.
struct InFlight<'a>(&'a Concurrency);

impl<'a> InFlight<'a> {
    fn enter(concurrency: &'a Concurrency) -> Self {
        let now = concurrency.now.fetch_add(1, Ordering::SeqCst) + 1;
        concurrency.most.fetch_max(now, Ordering::SeqCst);
        Self(concurrency)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FakeGls {
    /// Starts an empty fake on an ephemeral port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the fake GLS to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let fake = Self {
            state: Arc::new(Mutex::new(State {
                next_parcel_id: FIRST_PARCEL_ID,
                next_parcel_number: FIRST_PARCEL_NUMBER,
                ..State::default()
            })),
            addr,
            concurrency: Arc::default(),
        };
        let app = Router::new().fallback(handle).with_state(fake.clone());
        crate::serve_in_background("GLS", listener, app);
        Ok(fake)
    }

    /// What the connector's `api_base` should be (`http://127.0.0.1:port`); the
    /// connector appends `/ParcelService.svc/json/{Method}`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every parcel piece, deleted ones included, in creation order.
    pub fn parcels(&self) -> Vec<StoredParcel> {
        self.lock().parcels.clone()
    }

    /// Requests received, as `"POST /ParcelService.svc/json/PrintLabels"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// Request bodies received, with the method name (`"PrintLabels"`).
    pub fn request_bodies(&self) -> Vec<(String, Value)> {
        self.lock().bodies.clone()
    }

    /// Adds a tracking status to the parcel with this `ParcelNumber` (now). Returns
    /// false when no such parcel exists.
    pub fn advance(&self, parcel_number: i64, status_code: &str) -> bool {
        let at = now_ms();
        let mut state = self.lock();
        match state
            .parcels
            .iter_mut()
            .find(|parcel| parcel.parcel_number == Some(parcel_number))
        {
            Some(parcel) => {
                // Keep strictly increasing times so the order is unambiguous.
                let at = parcel
                    .statuses
                    .last()
                    .map_or(at, |(_, last)| at.max(last + 1000));
                parcel.statuses.push((status_code.to_owned(), at));
                true
            }
            None => false,
        }
    }

    /// Makes `PrintLabels` and `PrepareLabels` answer only after `delay` (the parcels
    /// are created before the wait). `Duration::ZERO` switches it off.
    pub fn set_slow(&self, delay: Duration) {
        self.lock().slow = (!delay.is_zero()).then_some(delay);
    }

    /// Makes `GetParcelStatuses` answer only after `delay`; `Duration::ZERO` switches it
    /// off.
    pub fn set_slow_tracking(&self, delay: Duration) {
        self.lock().slow_tracking = (!delay.is_zero()).then_some(delay);
    }

    /// The most requests the fake was answering at the same time (1 for a client that
    /// sends one request after another).
    pub fn max_concurrent_requests(&self) -> usize {
        self.concurrency.most.load(Ordering::SeqCst)
    }

    /// Error 18 ("label already generated") on a second label for the same parcel.
    pub fn set_refuse_reprint(&self, refuse: bool) {
        self.lock().refuse_reprint = refuse;
    }

    /// Answers every request with HTTP 503 (maintenance).
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }
}

async fn handle(
    AxumState(fake): AxumState<FakeGls>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::enter(&fake.concurrency);
    let path = uri.path().to_owned();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let (answer, slow) = {
        let mut state = fake.lock();
        state.requests.push(format!("{method} {path}"));
        let name = path
            .strip_prefix("/ParcelService.svc/json/")
            .unwrap_or("")
            .to_owned();
        if let Some(value) = &parsed {
            state.bodies.push((name.clone(), value.clone()));
        }
        if state.down {
            return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
        }
        if method != Method::POST {
            return (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed").into_response();
        }
        let Some(request) = parsed else {
            return (
                StatusCode::BAD_REQUEST,
                "The request body is not valid JSON",
            )
                .into_response();
        };
        let slow = match name.as_str() {
            "PrintLabels" | "PrepareLabels" => state.slow,
            "GetParcelStatuses" => state.slow_tracking,
            _ => None,
        };
        (state.call(&name, &request, &body), slow)
    };
    let Some(answer) = answer else {
        return (StatusCode::NOT_FOUND, "Endpoint not found.").into_response();
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        answer.to_string(),
    )
        .into_response()
}

/// An `ErrorInfo` record.
fn error_info(code: i64, description: &str, references: &[String], ids: &[i64]) -> Value {
    json!({
        "ErrorCode": code,
        "ErrorDescription": description,
        "ClientReferenceList": references,
        "ParcelIdList": ids,
    })
}

/// The name of each method's error list, and an empty answer to fill in.
fn empty_answer(method: &str) -> Option<(&'static str, Value)> {
    Some(match method {
        "PrintLabels" => (
            "PrintLabelsErrorList",
            json!({"Labels": [], "PrintLabelsInfoList": [], "PrintLabelsErrorList": []}),
        ),
        "PrepareLabels" => (
            "PrepareLabelsError",
            json!({"ParcelInfoList": [], "PrepareLabelsError": []}),
        ),
        "GetPrintedLabels" => (
            "GetPrintedLabelsErrorList",
            json!({"Labels": [], "PrintDataInfoList": [], "GetPrintedLabelsErrorList": []}),
        ),
        "DeleteLabels" => (
            "DeleteLabelsErrorList",
            json!({"SuccessfullyDeletedList": [], "DeleteLabelsErrorList": []}),
        ),
        "GetParcelStatuses" => (
            "GetParcelStatusErrors",
            json!({
                "ParcelNumber": 0, "ClientReference": null, "DeliveryCountryCode": null,
                "DeliveryZipCode": null, "Weight": null, "POD": null,
                "ParcelStatusList": [], "GetParcelStatusErrors": []
            }),
        ),
        "GetParcelList" => (
            "GetParcelListErrors",
            json!({"PrintDataInfoList": [], "GetParcelListErrors": []}),
        ),
        _ => return None,
    })
}

fn push_error(answer: &mut Value, list: &str, error: Value) {
    if let Some(errors) = answer.get_mut(list).and_then(Value::as_array_mut) {
        errors.push(error);
    }
}

impl State {
    /// Runs one method; `None` for an unknown method (HTTP 404).
    fn call(&mut self, method: &str, request: &Value, raw: &[u8]) -> Option<Value> {
        let (list, mut answer) = empty_answer(method)?;
        if let Err((code, description)) = check_login(request) {
            push_error(&mut answer, list, error_info(code, &description, &[], &[]));
            return Some(answer);
        }
        // Error 31: the 5th identical request within 5 minutes.
        let now = Instant::now();
        let key = format!("{method}\n{}", String::from_utf8_lossy(raw));
        self.recent
            .retain(|(at, _)| now.duration_since(*at) < RATE_WINDOW);
        let same = self.recent.iter().filter(|(_, seen)| *seen == key).count();
        self.recent.push((now, key));
        if same >= 4 {
            push_error(
                &mut answer,
                list,
                error_info(
                    31,
                    "The same request was sent 5 times within 5 minutes.",
                    &[],
                    &[],
                ),
            );
            return Some(answer);
        }
        match method {
            "PrintLabels" => self.print_labels(request, &mut answer, list, true),
            "PrepareLabels" => self.print_labels(request, &mut answer, list, false),
            "GetPrintedLabels" => self.get_printed_labels(request, &mut answer, list),
            "DeleteLabels" => self.delete_labels(request, &mut answer, list),
            "GetParcelStatuses" => self.get_parcel_statuses(request, &mut answer, list),
            "GetParcelList" => self.get_parcel_list(request, &mut answer, list),
            _ => {}
        }
        Some(answer)
    }

    fn print_labels(&mut self, request: &Value, answer: &mut Value, list: &str, print: bool) {
        let printer = match printer_type(request) {
            Ok(printer) => printer,
            Err(message) => {
                push_error(answer, list, error_info(13, &message, &[], &[]));
                return;
            }
        };
        let parcels = match request.get("ParcelList") {
            None | Some(Value::Null) => {
                push_error(
                    answer,
                    list,
                    error_info(11, "ParcelList is null.", &[], &[]),
                );
                return;
            }
            Some(Value::Array(parcels)) if parcels.is_empty() => {
                push_error(
                    answer,
                    list,
                    error_info(12, "ParcelList is empty.", &[], &[]),
                );
                return;
            }
            Some(Value::Array(parcels)) => parcels.clone(),
            Some(_) => {
                push_error(
                    answer,
                    list,
                    error_info(13, "ParcelList is invalid.", &[], &[]),
                );
                return;
            }
        };
        let mut printed = Vec::new();
        for parcel in parcels {
            let reference = parcel
                .get("ClientReference")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let Err((code, description)) = validate_parcel(&parcel) {
                push_error(
                    answer,
                    list,
                    error_info(code, &description, std::slice::from_ref(&reference), &[]),
                );
                continue;
            }
            let count = parcel.get("Count").and_then(Value::as_i64).unwrap_or(1);
            let main = self.next_parcel_id;
            let at = now_ms();
            for _ in 0..count {
                let parcel_id = self.next_parcel_id;
                self.next_parcel_id += 1;
                let parcel_number = print.then(|| {
                    let number = self.next_parcel_number;
                    self.next_parcel_number += 1;
                    number
                });
                self.parcels.push(StoredParcel {
                    parcel_id,
                    parcel_number,
                    main_parcel_id: main,
                    client_reference: reference.clone(),
                    parcel: parcel.clone(),
                    printed_at_ms: print.then_some(at),
                    statuses: Vec::new(),
                    deleted: false,
                    label_count: u32::from(print),
                });
                if print {
                    printed.push((parcel_id, parcel_number.unwrap_or_default()));
                } else if let Some(infos) = answer
                    .get_mut("ParcelInfoList")
                    .and_then(Value::as_array_mut)
                {
                    // PrepareLabels lists the Parcel once, with its first ParcelId.
                    if parcel_id == main {
                        infos.push(json!({"ClientReference": reference, "ParcelId": parcel_id}));
                    }
                }
                if print
                    && let Some(infos) = answer
                        .get_mut("PrintLabelsInfoList")
                        .and_then(Value::as_array_mut)
                {
                    infos.push(json!({
                        "ClientReference": reference,
                        "ParcelId": parcel_id,
                        "ParcelNumber": parcel_number,
                    }));
                }
            }
        }
        if print && !printed.is_empty() {
            let numbers: Vec<i64> = printed.iter().map(|(_, number)| *number).collect();
            answer["Labels"] = bytes_json(&label_document(&printer, &numbers));
        }
    }

    fn get_printed_labels(&mut self, request: &Value, answer: &mut Value, list: &str) {
        let printer = match printer_type(request) {
            Ok(printer) => printer,
            Err(message) => {
                push_error(answer, list, error_info(13, &message, &[], &[]));
                return;
            }
        };
        let Some(ids) = id_list(request, answer, list) else {
            return;
        };
        let mut numbers = Vec::new();
        let mut infos = Vec::new();
        for id in ids {
            let refuse_reprint = self.refuse_reprint;
            let Some(main) = self.parcels.iter().find(|p| p.parcel_id == id).cloned() else {
                push_error(
                    answer,
                    list,
                    error_info(4, "ParcelId does not exist.", &[], &[id]),
                );
                continue;
            };
            let references = std::slice::from_ref(&main.client_reference);
            if main.deleted {
                push_error(
                    answer,
                    list,
                    error_info(6, "Parcel status is not PRINTED.", references, &[id]),
                );
                continue;
            }
            if refuse_reprint && main.label_count > 0 {
                push_error(
                    answer,
                    list,
                    error_info(18, "Label already generated.", references, &[id]),
                );
                continue;
            }
            // Each ParcelId prints its own piece.
            let at = now_ms();
            for parcel in self.parcels.iter_mut().filter(|p| p.parcel_id == id) {
                if parcel.parcel_number.is_none() {
                    parcel.parcel_number = Some(self.next_parcel_number);
                    self.next_parcel_number += 1;
                    parcel.printed_at_ms = Some(at);
                }
                parcel.label_count += 1;
                let number = parcel.parcel_number.unwrap_or_default();
                numbers.push(number);
                infos.push(print_data_info(parcel));
            }
        }
        if !numbers.is_empty() {
            answer["Labels"] = bytes_json(&label_document(&printer, &numbers));
        }
        answer["PrintDataInfoList"] = Value::Array(infos);
    }

    fn delete_labels(&mut self, request: &Value, answer: &mut Value, list: &str) {
        let Some(ids) = id_list(request, answer, list) else {
            return;
        };
        if ids.len() > 50 {
            push_error(
                answer,
                list,
                error_info(22, "Too many parcels to delete.", &[], &[]),
            );
            return;
        }
        let mut deleted = Vec::new();
        for id in ids {
            let Some(target) = self.parcels.iter().find(|p| p.parcel_id == id).cloned() else {
                push_error(
                    answer,
                    list,
                    error_info(4, "ParcelId does not exist.", &[], &[id]),
                );
                continue;
            };
            let group = target.main_parcel_id;
            let pieces: Vec<&StoredParcel> = self
                .parcels
                .iter()
                .filter(|p| p.main_parcel_id == group)
                .collect();
            if target.deleted || pieces.iter().any(|p| p.scanned()) {
                push_error(
                    answer,
                    list,
                    error_info(
                        6,
                        "Parcel status is not PRINTED.",
                        std::slice::from_ref(&target.client_reference),
                        &[id],
                    ),
                );
                continue;
            }
            let sub: Vec<i64> = pieces
                .iter()
                .map(|p| p.parcel_id)
                .filter(|piece| *piece != id)
                .collect();
            for parcel in self
                .parcels
                .iter_mut()
                .filter(|p| p.main_parcel_id == group)
            {
                parcel.deleted = true;
            }
            deleted.push(json!({"ParcelId": id, "SubParcelIdList": sub}));
        }
        answer["SuccessfullyDeletedList"] = Value::Array(deleted);
    }

    fn get_parcel_statuses(&mut self, request: &Value, answer: &mut Value, list: &str) {
        let number = request.get("ParcelNumber").and_then(|value| {
            value
                .as_i64()
                .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
        });
        let Some(parcel) = number.and_then(|number| {
            self.parcels
                .iter()
                .find(|p| p.parcel_number == Some(number))
        }) else {
            push_error(
                answer,
                list,
                error_info(9, "Parcel number does not exist.", &[], &[]),
            );
            return;
        };
        let delivery = &parcel.parcel["DeliveryAddress"];
        answer["ParcelNumber"] = json!(parcel.parcel_number);
        answer["ClientReference"] = json!(parcel.client_reference);
        answer["DeliveryCountryCode"] = delivery["CountryIsoCode"].clone();
        answer["DeliveryZipCode"] = delivery["ZipCode"].clone();
        answer["Weight"] = json!(1.2);
        // Newest first, as GLS lists them.
        answer["ParcelStatusList"] = parcel
            .statuses
            .iter()
            .rev()
            .map(|(code, at)| {
                json!({
                    "StatusCode": code,
                    "StatusDate": wcf_date(*at),
                    "StatusDescription": status_description(code),
                    "StatusInfo": "",
                    "DepotCity": "Ljubljana",
                    "DepotNumber": "SI01",
                })
            })
            .collect();
    }

    fn get_parcel_list(&mut self, request: &Value, answer: &mut Value, list: &str) {
        let date = |name: &str| {
            request
                .get(name)
                .and_then(Value::as_str)
                .and_then(parse_wcf_date)
        };
        let print = (date("PrintDateFrom"), date("PrintDateTo"));
        let pickup = (date("PickupDateFrom"), date("PickupDateTo"));
        if let (Some(from), Some(to)) = print
            && from > to
        {
            push_error(
                answer,
                list,
                error_info(24, "Wrong print date interval.", &[], &[]),
            );
            return;
        }
        if let (Some(from), Some(to)) = pickup
            && from > to
        {
            push_error(
                answer,
                list,
                error_info(25, "Wrong pickup date interval.", &[], &[]),
            );
            return;
        }
        if print == (None, None) && pickup == (None, None) {
            push_error(
                answer,
                list,
                error_info(24, "Wrong print date interval.", &[], &[]),
            );
            return;
        }
        let in_range = |at: Option<i64>, (from, to): (Option<i64>, Option<i64>)| match at {
            None => from.is_none() && to.is_none(),
            Some(at) => from.is_none_or(|from| at >= from) && to.is_none_or(|to| at <= to),
        };
        let infos: Vec<Value> = self
            .parcels
            .iter()
            .filter(|p| !p.deleted)
            .filter(|p| {
                let pickup_at = p
                    .parcel
                    .get("PickupDate")
                    .and_then(Value::as_str)
                    .and_then(parse_wcf_date);
                in_range(p.printed_at_ms, print) && in_range(pickup_at, pickup)
            })
            .map(print_data_info)
            .collect();
        answer["PrintDataInfoList"] = Value::Array(infos);
    }
}

fn print_data_info(parcel: &StoredParcel) -> Value {
    json!({
        "B2CChar": null,
        "ClientReference": parcel.client_reference,
        "Depot": "01",
        "DepotNumber": "SI01",
        "Driver": "",
        "Parcel": parcel.parcel,
        "ParcelId": parcel.parcel_id,
        "ParcelNumber": parcel.parcel_number,
        "ParcelNumberWithCheckdigit": parcel.parcel_number.map(|n| n * 10 + check_digit(n)),
        "Sort": "",
    })
}

/// A made-up check digit (the real algorithm is not needed by any client).
fn check_digit(number: i64) -> i64 {
    number.rem_euclid(7)
}

/// Reads `ParcelIdList`, pushing errors 2/3 when null or empty.
fn id_list(request: &Value, answer: &mut Value, list: &str) -> Option<Vec<i64>> {
    match request.get("ParcelIdList") {
        None | Some(Value::Null) => {
            push_error(
                answer,
                list,
                error_info(2, "ParcelIdList is null.", &[], &[]),
            );
            None
        }
        Some(Value::Array(ids)) if ids.is_empty() => {
            push_error(
                answer,
                list,
                error_info(3, "ParcelIdList is empty.", &[], &[]),
            );
            None
        }
        Some(Value::Array(ids)) => Some(ids.iter().filter_map(Value::as_i64).collect()),
        Some(_) => {
            push_error(
                answer,
                list,
                error_info(2, "ParcelIdList is null.", &[], &[]),
            );
            None
        }
    }
}

fn printer_type(request: &Value) -> Result<String, String> {
    match request.get("TypeOfPrinter") {
        None | Some(Value::Null) => Ok("A4_2x2".into()),
        Some(Value::String(value)) if PRINTER_TYPES.contains(&value.as_str()) => Ok(value.clone()),
        Some(other) => Err(format!("Invalid TypeOfPrinter: {other}")),
    }
}

/// The SHA-512 digest of a password as MyGLS wants it: 64 byte values.
pub fn password_bytes(password: &str) -> Vec<u8> {
    Sha512::digest(password.as_bytes()).to_vec()
}

/// Checks `Username`, `Password` and `ClientNumberList`.
fn check_login(request: &Value) -> Result<(), (i64, String)> {
    let unauthorized = || (-1, "Unauthorized.".to_owned());
    if request.get("Username").and_then(Value::as_str) != Some(USERNAME) {
        return Err(unauthorized());
    }
    let sent: Option<Vec<u8>> =
        request
            .get("Password")
            .and_then(Value::as_array)
            .and_then(|items| {
                items
                    .iter()
                    .map(|item| item.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect()
            });
    if sent.as_deref() != Some(password_bytes(PASSWORD).as_slice()) {
        return Err(unauthorized());
    }
    if let Some(list) = request.get("ClientNumberList").and_then(Value::as_array)
        && list.iter().any(|n| n.as_i64() != Some(CLIENT_NUMBER))
    {
        return Err((27, "User is not authorized for the client.".to_owned()));
    }
    Ok(())
}

/// Validates one Parcel as GLS does (the subset tovor's connector can trip over).
fn validate_parcel(parcel: &Value) -> Result<(), (i64, String)> {
    if parcel.get("ClientNumber").and_then(Value::as_i64) != Some(CLIENT_NUMBER) {
        return Err((27, "User is not authorized for the client.".into()));
    }
    let count = parcel.get("Count").and_then(Value::as_i64).unwrap_or(1);
    if !(1..=99).contains(&count) {
        return Err((29, "Count must be between 1 and 99.".into()));
    }
    if parcel
        .get("CODAmount")
        .and_then(Value::as_f64)
        .is_some_and(|amount| amount < 0.0)
    {
        return Err((8, "COD amount must be greater than or equal to 0.".into()));
    }
    let services: Vec<&str> = parcel
        .get("ServiceList")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| s.get("Code").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if services.contains(&"FSS") && !services.contains(&"FDS") {
        return Err((30, "FSS service cannot be used without FDS.".into()));
    }
    if services.contains(&"INS") && count != 1 {
        return Err((28, "Count must be 1 with the INS service.".into()));
    }
    for side in ["PickupAddress", "DeliveryAddress"] {
        let address = parcel.get(side).unwrap_or(&Value::Null);
        for field in ["Name", "Street", "City", "ZipCode", "CountryIsoCode"] {
            let value = address.get(field).and_then(Value::as_str).unwrap_or("");
            if value.trim().is_empty() {
                return Err((13, format!("{side}.{field} is required.")));
            }
        }
        let house = address
            .get("HouseNumber")
            .and_then(Value::as_str)
            .unwrap_or("");
        if house.trim() == "0" {
            return Err((23, "House number cannot be 0.".into()));
        }
        if !house.is_empty() && !house.bytes().all(|b| b.is_ascii_digit()) {
            return Err((13, format!("{side}.HouseNumber must be a number.")));
        }
        let country = address
            .get("CountryIsoCode")
            .and_then(Value::as_str)
            .unwrap_or("");
        let zip = address.get("ZipCode").and_then(Value::as_str).unwrap_or("");
        if !zip_ok(country, zip) {
            return Err((13, format!("{side}.ZipCode is invalid.")));
        }
    }
    if services.contains(&"PSD") {
        let delivery = &parcel["DeliveryAddress"];
        for field in ["ContactName", "ContactPhone", "ContactEmail"] {
            if delivery
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
            {
                return Err((13, format!("DeliveryAddress.{field} is required with PSD.")));
            }
        }
    }
    Ok(())
}

/// Postal code shapes of the GLS countries (others pass).
fn zip_ok(country: &str, zip: &str) -> bool {
    let digits = |n: usize| zip.len() == n && zip.bytes().all(|b| b.is_ascii_digit());
    match country {
        "SI" | "HU" => digits(4),
        "HR" | "RS" => digits(5),
        "RO" => digits(6),
        "CZ" | "SK" => {
            let compact: String = zip.chars().filter(|c| *c != ' ').collect();
            compact.len() == 5 && compact.bytes().all(|b| b.is_ascii_digit())
        }
        _ => !zip.trim().is_empty(),
    }
}

fn bytes_json(bytes: &[u8]) -> Value {
    Value::Array(bytes.iter().map(|b| json!(b)).collect())
}

/// The label document for these parcel numbers in the printer type's encoding.
fn label_document(printer: &str, numbers: &[i64]) -> Vec<u8> {
    if printer.contains("ZPL") || printer.contains("Zpl") {
        numbers
            .iter()
            .map(|n| {
                format!(
                    "^XA^FO50,50^A0N,40,40^FDGLS {n}^FS^BY3^FO50,120^BCN,100,Y,N,N^FD{n}^FS^XZ\n"
                )
            })
            .collect::<String>()
            .into_bytes()
    } else {
        let lines: Vec<String> = numbers.iter().map(|n| format!("GLS {n}")).collect();
        minimal_pdf(&lines)
    }
}

/// A small valid PDF 1.4 with one A6 page per line of text, with a correct xref table.
pub fn minimal_pdf(pages: &[String]) -> Vec<u8> {
    let count = pages.len().max(1);
    // Objects: 1 catalog, 2 page tree, 3 font, then per page: page, contents.
    let page_id = |index: usize| 4 + 2 * index;
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    let kids: Vec<String> = (0..count).map(|i| format!("{} 0 R", page_id(i))).collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {count} >>",
        kids.join(" ")
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for index in 0..count {
        let text = pages.get(index).map_or("", String::as_str);
        let escaped = text
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        let stream = format!("BT /F1 18 Tf 24 360 Td ({escaped}) Tj ET");
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            page_id(index) + 1
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ));
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        table.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.extend_from_slice(table.as_bytes());
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A WCF JSON date as GLS answers it: `/Date(1700000000000+0100)/`.
pub fn wcf_date(ms: i64) -> String {
    format!("/Date({ms}+0100)/")
}

/// Parses `/Date(ms)/` or `/Date(ms+hhmm)/` to ms since the epoch (UTC).
pub fn parse_wcf_date(text: &str) -> Option<i64> {
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let (ms, offset) = inner.split_at(digits_end);
    if !offset.is_empty() && (offset.len() != 5 || !offset[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    ms.parse().ok()
}

/// GLS status names for the codes the fake uses (from the MyGLS documentation's status list).
fn status_description(code: &str) -> &'static str {
    let names: HashMap<&str, &str> = HashMap::from([
        ("1", "The parcel was handed over to GLS."),
        ("2", "The parcel has left the parcel center."),
        ("3", "The parcel has reached the parcel center."),
        (
            "4",
            "The parcel is expected to be delivered during the day.",
        ),
        ("5", "The parcel has been delivered."),
        (
            "11",
            "The parcel could not be delivered as the consignee is on holidays.",
        ),
        (
            "12",
            "The parcel could not be delivered as the consignee was absent.",
        ),
        ("23", "The parcel is returned to the shipper."),
        (
            "51",
            "The parcel data was entered into the GLS IT system; the parcel was not yet handed over to GLS.",
        ),
        ("54", "The parcel has been delivered to the parcel locker."),
        ("55", "The parcel has been delivered at the ParcelShop."),
        ("56", "The parcel is stored in the GLS ParcelShop."),
    ]);
    names.get(code).copied().unwrap_or("Status update.")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn login() -> Value {
        json!({
            "Username": USERNAME,
            "Password": password_bytes(PASSWORD),
            "ClientNumberList": [CLIENT_NUMBER],
            "WebshopEngine": "test",
        })
    }

    fn parcel(reference: &str, zip: &str) -> Value {
        json!({
            "ClientNumber": CLIENT_NUMBER, "ClientReference": reference, "Count": 1,
            "PickupAddress": {"Name": "Trgovina", "Street": "Dunajska cesta", "HouseNumber": "5",
                "City": "Ljubljana", "ZipCode": "1000", "CountryIsoCode": "SI"},
            "DeliveryAddress": {"Name": "Ana", "Street": "Slovenska cesta", "HouseNumber": "12",
                "HouseNumberInfo": "a", "City": "Maribor", "ZipCode": zip, "CountryIsoCode": "SI"},
        })
    }

    fn state() -> State {
        State {
            next_parcel_id: FIRST_PARCEL_ID,
            next_parcel_number: FIRST_PARCEL_NUMBER,
            ..State::default()
        }
    }

    fn call(state: &mut State, method: &str, extra: Value) -> Value {
        let mut request = login();
        for (key, value) in extra.as_object().unwrap() {
            request[key] = value.clone();
        }
        let raw = serde_json::to_vec(&request).unwrap();
        state.call(method, &request, &raw).unwrap()
    }

    /// Checks every xref entry points at its `n 0 obj`, and startxref at `xref`.
    fn check_pdf(pdf: &[u8]) -> usize {
        // One char per byte, so string offsets are byte offsets.
        let text: String = pdf
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect();
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.ends_with("%%EOF\n"));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(text[start..].starts_with("xref\n"));
        let mut lines = text[start..].lines().skip(1);
        let header = lines.next().unwrap();
        let size: usize = header.split(' ').nth(1).unwrap().parse().unwrap();
        lines.next();
        for object in 1..size {
            let entry = lines.next().unwrap();
            // 20 bytes per entry: the line end is " \n".
            assert_eq!(entry.len(), 19, "{entry:?}");
            let offset: usize = entry[..10].parse().unwrap();
            assert!(
                text[offset..].starts_with(&format!("{object} 0 obj\n")),
                "object {object}"
            );
        }
        text.matches("/Type /Page ").count()
    }

    #[test]
    fn pdf_has_correct_xref_and_one_page_per_parcel() {
        assert_eq!(check_pdf(&minimal_pdf(&["GLS 1".into()])), 1);
        assert_eq!(
            check_pdf(&minimal_pdf(&["a (b)".into(), "c".into(), "d".into()])),
            3
        );
        // The stream length is exact.
        let pdf = String::from_utf8_lossy(&minimal_pdf(&["GLS 5000000001".into()])).into_owned();
        let length: usize = pdf
            .split("/Length ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let stream = pdf.split("stream\n").nth(1).unwrap();
        assert_eq!(&stream[length..length + 1], "\n");
    }

    #[test]
    fn wcf_dates() {
        assert_eq!(
            parse_wcf_date("/Date(1700000000000)/"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_wcf_date("/Date(1700000000000+0100)/"),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_wcf_date("/Date(-1000-0500)/"), Some(-1000));
        assert_eq!(parse_wcf_date(&wcf_date(42)), Some(42));
        assert_eq!(parse_wcf_date("2024-01-01"), None);
        assert_eq!(parse_wcf_date("/Date(1+01)/"), None);
    }

    #[test]
    fn wrong_password_is_error_minus_one_in_the_method_list() {
        let mut state = state();
        let mut request = login();
        request["Password"] = json!(password_bytes("wrong"));
        let answer = state.call("DeleteLabels", &request, b"x").unwrap();
        assert_eq!(answer["DeleteLabelsErrorList"][0]["ErrorCode"], -1);
        // A hex string is not the byte array.
        request["Password"] = json!("ab12");
        let answer = state.call("GetParcelList", &request, b"y").unwrap();
        assert_eq!(answer["GetParcelListErrors"][0]["ErrorCode"], -1);
        assert!(state.call("NoSuchMethod", &login(), b"z").is_none());
    }

    #[test]
    fn partial_batch_and_labels() {
        let mut state = state();
        let answer = call(
            &mut state,
            "PrintLabels",
            json!({"TypeOfPrinter": "A4_2x2",
                   "ParcelList": [parcel("R-1", "2000"), parcel("R-2", "99")]}),
        );
        let infos = answer["PrintLabelsInfoList"].as_array().unwrap();
        assert_eq!(infos.len(), 1);
        assert_eq!(infos[0]["ClientReference"], "R-1");
        assert_eq!(infos[0]["ParcelNumber"], FIRST_PARCEL_NUMBER);
        let errors = &answer["PrintLabelsErrorList"];
        assert_eq!(errors[0]["ErrorCode"], 13);
        assert_eq!(errors[0]["ClientReferenceList"][0], "R-2");
        let pdf: Vec<u8> = answer["Labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| u8::try_from(b.as_u64().unwrap()).unwrap())
            .collect();
        assert_eq!(check_pdf(&pdf), 1);
    }

    #[test]
    fn multi_piece_parcels_delete_together_and_scanned_cannot_be_deleted() {
        let mut state = state();
        let mut three = parcel("R-3", "2000");
        three["Count"] = json!(3);
        let answer = call(&mut state, "PrintLabels", json!({"ParcelList": [three]}));
        assert_eq!(answer["PrintLabelsInfoList"].as_array().unwrap().len(), 3);
        let first = FIRST_PARCEL_ID;
        let answer = call(&mut state, "DeleteLabels", json!({"ParcelIdList": [first]}));
        assert_eq!(
            answer["SuccessfullyDeletedList"][0]["SubParcelIdList"],
            json!([first + 1, first + 2])
        );
        let again = call(&mut state, "DeleteLabels", json!({"ParcelIdList": [first]}));
        assert_eq!(again["DeleteLabelsErrorList"][0]["ErrorCode"], 6);

        call(
            &mut state,
            "PrintLabels",
            json!({"ParcelList": [parcel("R-4", "2000")]}),
        );
        let number = state.parcels.last().unwrap().parcel_number.unwrap();
        state
            .parcels
            .last_mut()
            .unwrap()
            .statuses
            .push(("1".into(), 0));
        let id = state.parcels.last().unwrap().parcel_id;
        let answer = call(&mut state, "DeleteLabels", json!({"ParcelIdList": [id]}));
        assert_eq!(answer["DeleteLabelsErrorList"][0]["ErrorCode"], 6);
        let answer = call(
            &mut state,
            "GetParcelStatuses",
            json!({"ParcelNumber": number}),
        );
        assert_eq!(answer["ParcelStatusList"][0]["StatusCode"], "1");
        let answer = call(&mut state, "GetParcelStatuses", json!({"ParcelNumber": 1}));
        assert_eq!(answer["GetParcelStatusErrors"][0]["ErrorCode"], 9);
    }

    #[test]
    fn the_fifth_identical_request_is_refused() {
        let mut state = state();
        let request = json!({"ParcelIdList": [1]});
        for _ in 0..4 {
            let answer = call(&mut state, "DeleteLabels", request.clone());
            assert_eq!(answer["DeleteLabelsErrorList"][0]["ErrorCode"], 4);
        }
        let answer = call(&mut state, "DeleteLabels", request);
        assert_eq!(answer["DeleteLabelsErrorList"][0]["ErrorCode"], 31);
    }

    #[test]
    fn reprint_can_be_refused_and_parcel_list_filters_by_print_date() {
        let mut state = state();
        call(
            &mut state,
            "PrintLabels",
            json!({"ParcelList": [parcel("R-5", "2000")]}),
        );
        let id = FIRST_PARCEL_ID;
        let answer = call(
            &mut state,
            "GetPrintedLabels",
            json!({"ParcelIdList": [id], "TypeOfPrinter": "Thermo"}),
        );
        assert!(
            answer["GetPrintedLabelsErrorList"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(answer["Labels"][0], 37);
        state.refuse_reprint = true;
        let answer = call(
            &mut state,
            "GetPrintedLabels",
            json!({"ParcelIdList": [id], "TypeOfPrinter": "A4_4x1"}),
        );
        assert_eq!(answer["GetPrintedLabelsErrorList"][0]["ErrorCode"], 18);

        let now = now_ms();
        let answer = call(
            &mut state,
            "GetParcelList",
            json!({"PrintDateFrom": format!("/Date({})/", now - 60_000),
                   "PrintDateTo": format!("/Date({})/", now + 60_000)}),
        );
        assert_eq!(answer["PrintDataInfoList"][0]["ClientReference"], "R-5");
        let answer = call(
            &mut state,
            "GetParcelList",
            json!({"PrintDateFrom": format!("/Date({})/", now + 60_000),
                   "PrintDateTo": format!("/Date({})/", now + 120_000)}),
        );
        assert!(answer["PrintDataInfoList"].as_array().unwrap().is_empty());
        let answer = call(
            &mut state,
            "GetParcelList",
            json!({"PrintDateFrom": "/Date(2000)/", "PrintDateTo": "/Date(1000)/"}),
        );
        assert_eq!(answer["GetParcelListErrors"][0]["ErrorCode"], 24);
    }

    #[tokio::test]
    async fn serves_http_and_slow_print_still_creates() {
        let fake = FakeGls::start().await.unwrap();
        fake.set_slow(Duration::from_millis(300));
        let client = reqwest::Client::new();
        let mut body = login();
        body["ParcelList"] = json!([parcel("R-9", "2000")]);
        let result = client
            .post(format!(
                "{}/ParcelService.svc/json/PrintLabels",
                fake.api_base()
            ))
            .json(&body)
            .timeout(Duration::from_millis(50))
            .send()
            .await;
        assert!(result.is_err(), "answered before the timeout");
        assert_eq!(fake.parcels().len(), 1);
        assert_eq!(fake.parcels()[0].client_reference, "R-9");
        assert!(fake.advance(FIRST_PARCEL_NUMBER, "1"));
        assert!(!fake.advance(1, "1"));
        assert_eq!(
            fake.requests(),
            ["POST /ParcelService.svc/json/PrintLabels"]
        );
    }
}
