//! A fake Pošta Slovenije eOddaja (`POST /Services/eSpremnica.Provider/WCF/eOddaja.svc`)
//! on 127.0.0.1: the WCF SOAP service a contract customer hands its registered items
//! over with.
//!
//! It behaves as far as tovor's Pošta Slovenije connector relies on it:
//!
//! - SOAP 1.1 as WCF's `basicHttpBinding` speaks it: the operation is the `SOAPAction`
//!   header (`"http://tempuri.org/IeOddaja/GetGuid"`) and the body's element, which
//!   must agree (else the `a:ActionNotSupported` fault WCF sends, with HTTP 500); a body
//!   that is not such an envelope is the `a:DeserializationFailed` fault. Elements are
//!   matched by local name, whatever their namespace.
//! - `GetGuid(aAuthentication)` → `GetGuidResult` (a new GUID) and `aResult`;
//!   `PostData(aAuthentication, aGuid, aData)` takes the CSV of the submission;
//!   `GetStatus(aAuthentication, aGuid)` answers `aResult/ResultCode` `Normal` only when
//!   every row of the submission passed, else `Error` with a `ResultMessage` naming each
//!   bad row by its line and number (`vrstica 3 (RA000000116SI): …`).
//! - `aAuthentication` must carry [`KOMITENT_ID`], [`POGODBA_ID`], [`POSTA_ID`] and
//!   [`PODRUZNICA_ID`]; other ids answer `ResultCode` `Error` (no GUID). A GUID is good
//!   only for the ids that opened it.
//! - The CSV (`;`-separated, header row) is checked row by row: every column of the
//!   header known and the required ones present, as many values as columns, the item
//!   type digits, `CrtnaKoda` a valid UPU S10 number (check digit, `SI`) not handed over
//!   before, name, address and town present, `Drzava` three digits and, for 705
//!   (Slovenia), a four-digit postal code, `Masa` whole grams above 0, amounts with a
//!   decimal comma, and cash on delivery consistent: `ODK` / `ODKBN` among
//!   `DodatneStoritve` exactly when `Odkupnina` is more than 0.
//!
//! The real service's result codes other than `Normal`, and the name of the message
//! field next to `ResultCode`, are not published; `Error` and `ResultMessage` stand for
//! them here. Every submission is kept ([`FakePosta::submissions`]);
//! [`FakePosta::set_down`] answers HTTP 503, [`FakePosta::set_slow`] and
//! [`FakePosta::set_slow_operation`] answer late.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use quick_xml::events::Event;

/// The customer ("komitent") id the fake accepts.
pub const KOMITENT_ID: &str = "51234";
/// The contract ("pogodba") id the fake accepts.
pub const POGODBA_ID: &str = "2026001";
/// The post office ("pošta") id the fake accepts.
pub const POSTA_ID: &str = "1000";
/// The branch ("podružnica") id the fake accepts.
pub const PODRUZNICA_ID: &str = "1";

/// The service's path.
pub const PATH: &str = "/Services/eSpremnica.Provider/WCF/eOddaja.svc";
/// WCF's default namespace, which the operations and their answers use.
pub const NAMESPACE: &str = "http://tempuri.org/";

/// The columns of eSpremnica's CSV import.
pub const COLUMNS: [&str; 24] = [
    "VrstaPosiljke",
    "CrtnaKoda",
    "Naziv",
    "DodatenNaziv",
    "Naslov",
    "PostnaSt",
    "NazivPoste",
    "Drzava",
    "TelSt",
    "EMail",
    "IdNaslovnika",
    "Opomba",
    "Masa",
    "DodatneStoritve",
    "Odkupnina",
    "Vrednost",
    "VrstaVplDok",
    "RefX",
    "Model",
    "Sklic",
    "Namen",
    "OdkupninaVValuti",
    "Valuta",
    "Navodilo",
];

/// Columns a row cannot do without.
const REQUIRED: [&str; 8] = [
    "VrstaPosiljke",
    "CrtnaKoda",
    "Naziv",
    "Naslov",
    "PostnaSt",
    "NazivPoste",
    "Drzava",
    "Masa",
];

/// One submission: a GUID and what was posted under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub guid: String,
    /// The CSV exactly as posted; `None` until `PostData`.
    pub data: Option<String>,
    /// The rows, by column name, in order.
    pub rows: Vec<BTreeMap<String, String>>,
    /// What is wrong with the data, one entry per bad row (or the file); empty when it
    /// passed.
    pub problems: Vec<String>,
    /// Whether `GetStatus` answered `Normal` for it.
    pub accepted: bool,
}

#[derive(Default)]
struct State {
    submissions: Vec<Submission>,
    /// Numbers of accepted submissions: a number is handed over once.
    handed_over: HashSet<String>,
    /// Operations received, in order (`"GetGuid"`).
    operations: Vec<String>,
    next_guid: u64,
    down: bool,
    /// How late to answer, and to which operation (all when `None`).
    slow: Option<(Option<String>, Duration)>,
}

/// The fake eOddaja; cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct FakePosta {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
}

impl FakePosta {
    /// Starts an empty fake on an ephemeral port of 127.0.0.1.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the fake eOddaja to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let fake = Self {
            state: Arc::new(Mutex::new(State {
                next_guid: u64::from(rand::random::<u32>()),
                ..State::default()
            })),
            addr,
        };
        let app = Router::new().fallback(handle).with_state(fake.clone());
        crate::serve_in_background("Pošta Slovenije", listener, app);
        Ok(fake)
    }

    /// What the connector's `api_base` should be (`http://127.0.0.1:port`); the
    /// connector appends [`PATH`].
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every submission, in the order their GUIDs were given.
    pub fn submissions(&self) -> Vec<Submission> {
        self.lock().submissions.clone()
    }

    /// The submission with this GUID.
    pub fn submission(&self, guid: &str) -> Option<Submission> {
        self.lock()
            .submissions
            .iter()
            .find(|submission| submission.guid == guid)
            .cloned()
    }

    /// The numbers (`CrtnaKoda`) of every accepted submission.
    pub fn handed_over(&self) -> HashSet<String> {
        self.lock().handed_over.clone()
    }

    /// The operations received, in order (`"GetGuid"`, `"PostData"`, ...).
    pub fn operations(&self) -> Vec<String> {
        self.lock().operations.clone()
    }

    /// Answers every request with HTTP 503, as during maintenance.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// Answers only after `delay` (the work is done before the wait);
    /// `Duration::ZERO` switches it off.
    pub fn set_slow(&self, delay: Duration) {
        self.lock().slow = (!delay.is_zero()).then_some((None, delay));
    }

    /// Answers `operation` (`"GetStatus"`) only after `delay`, the others at once (the
    /// work is done before the wait): an answer the client gives up on although the
    /// submission went through.
    pub fn set_slow_operation(&self, operation: &str, delay: Duration) {
        self.lock().slow = (!delay.is_zero()).then(|| (Some(operation.to_owned()), delay));
    }
}

async fn handle(
    AxumState(fake): AxumState<FakePosta>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (answer, slow) = {
        let mut state = fake.lock();
        if state.down {
            return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
        }
        if uri.path() != PATH {
            return (StatusCode::NOT_FOUND, "Endpoint not found.").into_response();
        }
        if method != Method::POST {
            return (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.").into_response();
        }
        let action = headers
            .get("soapaction")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .trim()
            .trim_matches('"')
            .to_owned();
        let operation = action.rsplit('/').next().unwrap_or("").to_owned();
        let slow = match &state.slow {
            Some((None, delay)) => Some(*delay),
            Some((Some(slow_operation), delay)) if *slow_operation == operation => Some(*delay),
            _ => None,
        };
        (state.call(&action, &body), slow)
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    answer
}

/// A request's elements by local name: the path from the root and the text.
struct Element {
    path: Vec<String>,
    text: String,
}

fn elements(xml: &[u8]) -> Option<Vec<Element>> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut found = Vec::new();
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).ok()? {
            Event::Start(start) => {
                path.push(String::from_utf8_lossy(start.local_name().as_ref()).into_owned());
                texts.push(String::new());
            }
            Event::Empty(empty) => {
                let mut element = path.clone();
                element.push(String::from_utf8_lossy(empty.local_name().as_ref()).into_owned());
                found.push(Element {
                    path: element,
                    text: String::new(),
                });
            }
            Event::Text(text) => {
                if let Some(current) = texts.last_mut() {
                    current.push_str(&text.decode().ok()?);
                }
            }
            Event::CData(data) => {
                if let Some(current) = texts.last_mut() {
                    current.push_str(&data.decode().ok()?);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => {
                        quick_xml::escape::resolve_xml_entity(&reference.decode().ok()?)?.to_owned()
                    }
                };
                if let Some(current) = texts.last_mut() {
                    current.push_str(&resolved);
                }
            }
            Event::End(_) => {
                found.push(Element {
                    path: path.clone(),
                    text: texts.pop().unwrap_or_default(),
                });
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    Some(found)
}

/// The request's operation: the first element inside `Body`, with its parameters as
/// `parameter/field` paths (`aAuthentication/KomitentId`, `aGuid`).
struct Call {
    operation: String,
    parameters: BTreeMap<String, String>,
}

fn read_call(body: &[u8]) -> Option<Call> {
    let elements = elements(body)?;
    let in_body = |element: &&Element| {
        element.path.len() >= 3 && element.path[0] == "Envelope" && element.path[1] == "Body"
    };
    let operation = elements.iter().find(in_body)?.path[2].clone();
    let parameters = elements
        .iter()
        .filter(in_body)
        .filter(|element| element.path.len() > 3 && element.path[2] == operation)
        .map(|element| (element.path[3..].join("/"), element.text.clone()))
        .collect();
    Some(Call {
        operation,
        parameters,
    })
}

const OPERATIONS: [&str; 3] = ["GetGuid", "PostData", "GetStatus"];

impl State {
    fn call(&mut self, action: &str, body: &[u8]) -> Response {
        let Some(call) = read_call(body) else {
            return fault(
                "a:DeserializationFailed",
                "The formatter threw an exception while trying to deserialize the message.",
            );
        };
        let expected = format!("{NAMESPACE}IeOddaja/{}", call.operation);
        if action != expected || !OPERATIONS.contains(&call.operation.as_str()) {
            return fault(
                "a:ActionNotSupported",
                &format!(
                    "The message with Action '{action}' cannot be processed at the receiver, due \
                     to a ContractFilter mismatch at the EndpointDispatcher."
                ),
            );
        }
        self.operations.push(call.operation.clone());
        let id = |name: &str| {
            call.parameters
                .get(&format!("aAuthentication/{name}"))
                .map(|value| value.trim().to_owned())
                .unwrap_or_default()
        };
        let authenticated = id("KomitentId") == KOMITENT_ID
            && id("PogodbaId") == POGODBA_ID
            && id("PostaId") == POSTA_ID
            && id("PodruznicaId") == PODRUZNICA_ID;
        let operation = call.operation.as_str();
        if !authenticated {
            return answer(
                operation,
                None,
                "Error",
                Some("Komitent, pogodba, pošta ali podružnica ni pravilna."),
            );
        }
        let guid = call
            .parameters
            .get("aGuid")
            .map(|guid| guid.trim().to_owned());
        match operation {
            "GetGuid" => {
                self.next_guid += 1;
                let guid = format!(
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    self.next_guid as u32,
                    rand::random::<u16>(),
                    rand::random::<u16>() & 0xfff,
                    rand::random::<u16>() & 0xfff,
                    rand::random::<u64>() & 0xffff_ffff_ffff,
                );
                self.submissions.push(Submission {
                    guid: guid.clone(),
                    data: None,
                    rows: Vec::new(),
                    problems: Vec::new(),
                    accepted: false,
                });
                answer(operation, Some(&guid), "Normal", None)
            }
            "PostData" => {
                let data = call.parameters.get("aData").cloned().unwrap_or_default();
                let handed_over = self.handed_over.clone();
                let Some(submission) = self.submission_mut(guid.as_deref()) else {
                    return answer(operation, None, "Error", Some("Neznan GUID oddaje."));
                };
                if submission.data.is_some() {
                    return answer(
                        operation,
                        None,
                        "Error",
                        Some("Podatki te oddaje so že bili poslani."),
                    );
                }
                let (rows, problems) = check_csv(&data, &handed_over);
                submission.data = Some(data);
                submission.rows = rows;
                submission.problems = problems;
                answer(operation, None, "Normal", None)
            }
            _ => {
                let Some(submission) = self.submission_mut(guid.as_deref()) else {
                    return answer(operation, None, "Error", Some("Neznan GUID oddaje."));
                };
                if submission.data.is_none() {
                    return answer(
                        operation,
                        None,
                        "Error",
                        Some("Za to oddajo ni bilo poslanih podatkov."),
                    );
                }
                if !submission.problems.is_empty() {
                    let message = submission.problems.join("; ");
                    return answer(operation, None, "Error", Some(&message));
                }
                let numbers: Vec<String> = submission
                    .rows
                    .iter()
                    .filter_map(|row| row.get("CrtnaKoda").cloned())
                    .collect();
                submission.accepted = true;
                self.handed_over.extend(numbers);
                answer(operation, None, "Normal", None)
            }
        }
    }

    fn submission_mut(&mut self, guid: Option<&str>) -> Option<&mut Submission> {
        let guid = guid?;
        self.submissions
            .iter_mut()
            .find(|submission| submission.guid == guid)
    }
}

/// The rows of `data` by column, and what is wrong with them.
fn check_csv(
    data: &str,
    handed_over: &HashSet<String>,
) -> (Vec<BTreeMap<String, String>>, Vec<String>) {
    let mut lines = data.lines().map(|line| line.trim_end_matches('\r'));
    let Some(header) = lines.next().filter(|line| !line.trim().is_empty()) else {
        return (Vec::new(), vec!["datoteka je prazna".to_owned()]);
    };
    let columns: Vec<&str> = header.split(';').map(str::trim).collect();
    let mut problems = Vec::new();
    for column in &columns {
        if !COLUMNS.contains(column) {
            problems.push(format!("neznan stolpec {column:?}"));
        }
    }
    for required in REQUIRED {
        if !columns.contains(&required) {
            problems.push(format!("manjka stolpec {required}"));
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), problems);
    }
    let mut rows = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (index, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_number = index + 2;
        let values: Vec<&str> = line.split(';').collect();
        let row: BTreeMap<String, String> = columns
            .iter()
            .zip(values.iter().chain(std::iter::repeat(&"")))
            .map(|(column, value)| ((*column).to_owned(), (*value).to_owned()))
            .collect();
        let number = row.get("CrtnaKoda").cloned().unwrap_or_default();
        let mut wrong: Vec<String> = Vec::new();
        if values.len() != columns.len() {
            wrong.push(format!(
                "{} vrednosti za {} stolpcev",
                values.len(),
                columns.len()
            ));
        }
        wrong.extend(check_row(&row));
        if !number.is_empty() && !seen.insert(number.clone()) {
            wrong.push("številka je v oddaji dvakrat".to_owned());
        }
        if handed_over.contains(&number) {
            wrong.push("številka je bila že oddana".to_owned());
        }
        if !wrong.is_empty() {
            problems.push(format!(
                "vrstica {line_number} ({number}): {}",
                wrong.join(", ")
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        problems.push("datoteka nima pošiljk".to_owned());
    }
    (rows, problems)
}

/// What is wrong with one row.
fn check_row(row: &BTreeMap<String, String>) -> Vec<String> {
    let get = |name: &str| row.get(name).map(String::as_str).unwrap_or("").trim();
    let mut wrong = Vec::new();
    let item_type = get("VrstaPosiljke");
    if item_type.is_empty() || !item_type.bytes().all(|b| b.is_ascii_digit()) {
        wrong.push(format!("vrsta pošiljke {item_type:?} ni šifra"));
    }
    if !valid_s10(get("CrtnaKoda")) {
        wrong.push(format!(
            "črtna koda {:?} ni veljavna številka S10",
            get("CrtnaKoda")
        ));
    }
    for (column, what) in [
        ("Naziv", "naziv naslovnika"),
        ("Naslov", "naslov"),
        ("NazivPoste", "naziv pošte"),
    ] {
        if get(column).is_empty() {
            wrong.push(format!("manjka {what}"));
        }
    }
    let country = get("Drzava");
    let postal = get("PostnaSt");
    if country.len() != 3 || !country.bytes().all(|b| b.is_ascii_digit()) {
        wrong.push(format!("država {country:?} ni številčna šifra ISO 3166"));
    } else if country == "705" {
        let valid = postal.len() == 4
            && postal.bytes().all(|b| b.is_ascii_digit())
            && (1000..=9265).contains(&postal.parse::<u32>().unwrap_or(0));
        if !valid {
            wrong.push(format!("poštna številka {postal:?} ni slovenska"));
        }
    } else if postal.is_empty() {
        wrong.push("manjka poštna številka".to_owned());
    }
    let mass = get("Masa");
    if mass.is_empty()
        || !mass.bytes().all(|b| b.is_ascii_digit())
        || mass.parse::<u64>().unwrap_or(0) == 0
    {
        wrong.push(format!("masa {mass:?} ni v celih gramih"));
    }
    let phone = get("TelSt");
    let international = phone.starts_with("00") && phone.bytes().all(|b| b.is_ascii_digit());
    if !phone.is_empty() && !international {
        wrong.push(format!("telefon {phone:?} ni v obliki 00386…"));
    }
    let services: Vec<&str> = get("DodatneStoritve")
        .split(',')
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .collect();
    let cod_service = services
        .iter()
        .any(|code| *code == "ODK" || *code == "ODKBN");
    let cod = get("Odkupnina");
    match (cod_service, amount(cod)) {
        (_, Err(problem)) => wrong.push(format!("odkupnina {cod:?}: {problem}")),
        (true, Ok(None | Some(0))) => {
            wrong.push("storitev ODK brez zneska odkupnine".to_owned());
        }
        (false, Ok(Some(_))) => wrong.push("odkupnina brez storitve ODK".to_owned()),
        _ => {}
    }
    let value = get("Vrednost");
    match (services.contains(&"V"), amount(value)) {
        (_, Err(problem)) => wrong.push(format!("vrednost {value:?}: {problem}")),
        (true, Ok(None | Some(0))) => wrong.push("storitev V brez vrednosti".to_owned()),
        _ => {}
    }
    wrong
}

/// An amount with a decimal comma, in cents; `None` when empty.
fn amount(text: &str) -> Result<Option<u64>, &'static str> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.contains('.') {
        return Err("decimalni ločilo je vejica");
    }
    let (whole, fraction) = text.split_once(',').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 2 {
        return Err("ni znesek");
    }
    let whole: u64 = whole.parse().map_err(|_| "ni znesek")?;
    let cents: u64 = format!("{fraction:0<2}").parse().map_err(|_| "ni znesek")?;
    Ok(Some(whole * 100 + cents))
}

/// Two letters, eight digits, the S10 check digit, `SI`.
pub fn valid_s10(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 13
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..11].iter().all(u8::is_ascii_digit)
        || &bytes[11..] != b"SI"
    {
        return false;
    }
    let sum: u32 = bytes[2..10]
        .iter()
        .zip([8, 6, 4, 2, 3, 5, 9, 7])
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    let check = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        digit => digit,
    };
    u32::from(bytes[10] - b'0') == check
}

/// An operation's answer: `{Operation}Result` when given, and `aResult`.
fn answer(operation: &str, result: Option<&str>, code: &str, message: Option<&str>) -> Response {
    let result = result
        .map(|value| format!("<{operation}Result>{}</{operation}Result>", escape(value)))
        .unwrap_or_default();
    let message = match message {
        Some(text) => format!("<a:ResultMessage>{}</a:ResultMessage>", escape(text)),
        None => "<a:ResultMessage i:nil=\"true\"/>".to_owned(),
    };
    let body = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
         <{operation}Response xmlns=\"{NAMESPACE}\">{result}\
         <aResult xmlns:a=\"http://schemas.datacontract.org/2004/07/eSpremnica.Provider\" \
         xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <a:ResultCode>{code}</a:ResultCode>{message}</aResult>\
         </{operation}Response></s:Body></s:Envelope>"
    );
    (
        StatusCode::OK,
        [("content-type", "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A SOAP 1.1 fault as WCF sends it: HTTP 500.
fn fault(code: &str, reason: &str) -> Response {
    let body = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>\
         <faultcode xmlns:a=\"http://schemas.microsoft.com/ws/2005/05/addressing/none\">{code}</faultcode>\
         <faultstring xml:lang=\"en-US\">{}</faultstring></s:Fault></s:Body></s:Envelope>",
        escape(reason)
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("content-type", "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(rows: &[&str]) -> String {
        let mut text = COLUMNS.join(";");
        for row in rows {
            text.push_str("\r\n");
            text.push_str(row);
        }
        text
    }

    fn row(number: &str, postal: &str, services: &str, cod: &str) -> String {
        let mut values = vec![""; 24];
        values[0] = "109";
        values[1] = number;
        values[2] = "Ana Novak";
        values[4] = "Slovenska cesta 12a";
        values[5] = postal;
        values[6] = "Maribor";
        values[7] = "705";
        values[12] = "1200";
        values[13] = services;
        values[14] = cod;
        values.join(";")
    }

    #[test]
    fn numbers_are_checked() {
        assert!(valid_s10("RA123456785SI"));
        assert!(!valid_s10("RA123456784SI"));
        assert!(!valid_s10("RA123456785AT"));
    }

    #[test]
    fn rows_are_checked_one_by_one() {
        let data = csv(&[
            &row("RA123456785SI", "2000", "ODK", "49,90"),
            &row("RA000000005SI", "20000", "", ""),
            &row("RA000000014SI", "1000", "ODK", ""),
            &row("RA000000028SI", "1000", "", "10.5"),
        ]);
        let (rows, problems) = check_csv(&data, &HashSet::new());
        assert_eq!(rows.len(), 4);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].starts_with("vrstica 3 (RA000000005SI)"),
            "{problems:?}"
        );
        assert!(problems[1].contains("ODK brez"), "{problems:?}");
        assert!(problems[2].contains("vejica"), "{problems:?}");
        let (_, problems) = check_csv(
            &csv(&[&row("RA123456785SI", "2000", "", "")]),
            &HashSet::from(["RA123456785SI".to_owned()]),
        );
        assert!(problems[0].contains("že oddana"), "{problems:?}");
        let (_, problems) = check_csv("Foo;CrtnaKoda\r\n1;2", &HashSet::new());
        assert!(problems.iter().any(|p| p.contains("neznan stolpec")));
    }
}
