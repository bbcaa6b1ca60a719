//! A fake Packeta REST/XML API (`POST /api/rest`) on 127.0.0.1.
//!
//! Like the real one (as Packeta's API documentation describes it), every call is one
//! XML document whose
//! root element is the method name and whose first child is `<apiPassword>`, and every
//! answer is **HTTP 200**: `<response><status>ok</status><result>…</result></response>`,
//! or `<response><status>fault</status><fault>Name</fault><string>…</string>…` with
//!
//! - `IncorrectApiPasswordFault` for a password other than [`API_PASSWORD`],
//! - `IncorrectDataFault` for a body that is not XML or an unknown method,
//! - `PacketAttributesFault` with `detail/attributes/fault[name, fault]` per bad field,
//! - `PacketIdFault` / `PacketIdsFault` for unknown packets,
//! - `CancelNotAllowedFault` once a packet has left the "received data" state.
//!
//! Methods: `createPacket`, `packetAttributesValid`, `packetLabelPdf`,
//! `packetsLabelsPdf` (a small valid PDF, one page per label, base64 in `<result>`),
//! `packetStatus` (what a connection check asks for packet 1: `PacketIdFault` to a good
//! password), `packetTracking` (status records advanced from the test with
//! [`FakePacketa::advance`]), `cancelPacket`. Times are Prague local time without an
//! offset, as Packeta writes them.
//!
//! Beside the REST endpoint, the same origin serves the pickup point feeds of branch
//! export version 5, keyed by [`API_KEY`] (another key answers HTTP 401):
//! `GET /v5/{api_key}/branch.json` (pickup points), `/box.json` (Z-BOX lockers) and
//! `/carrier.json` (carriers, the home-delivery ones among them), each a JSON array of
//! records whose values are strings, as Packeta writes them. The pickup points of the
//! feeds are the destinations `createPacket` accepts.
//!
//! [`FakePacketa::set_slow_tracking`] delays `packetTracking`, and
//! [`FakePacketa::max_concurrent_requests`] tells whether a client sent its requests
//! together.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};

/// The API password the fake accepts (32 characters, like Packeta's).
pub const API_PASSWORD: &str = "5f2b8a0c9d3e4f1a6b7c8d9e0f1a2b3c";
/// The API key that opens the fake's feeds (16 characters, like Packeta's).
pub const API_KEY: &str = "a1b2c3d4e5f60718";
/// A pickup point in the Czech Republic.
pub const POINT_CZ: &str = "79";
/// A pickup point in Slovakia.
pub const POINT_SK: &str = "1717";
/// A pickup point in Hungary.
pub const POINT_HU: &str = "8520";
/// A second pickup point in Prague, in another postal district.
pub const POINT_CZ_VINOHRADY: &str = "80";
/// A Z-BOX (parcel locker) in Prague.
pub const BOX_CZ: &str = "12001";
/// The Czech home-delivery carrier.
pub const HOME_CZ: &str = "106";
/// The Slovak home-delivery carrier.
pub const HOME_SK: &str = "131";

/// The path of the REST endpoint.
const API_PATH: &str = "/api/rest";
/// Label formats and how many labels fit on one sheet.
const LABEL_FORMATS: &[(&str, u32)] = &[
    ("A6 on A6", 1),
    ("A7 on A7", 1),
    ("A8 on A8", 1),
    ("A6 on A4", 4),
    ("A7 on A4", 8),
    ("105x35mm on A4", 16),
];
const CURRENCIES: &[&str] = &["CZK", "EUR", "HUF", "PLN", "RON"];
/// The first packet id handed out.
const FIRST_PACKET_ID: u64 = 1_234_567_890;

/// A status record of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    /// Prague local time, `2026-01-15T10:00:00`.
    pub date_time: String,
    pub status_code: u32,
    pub code_text: String,
}

/// A packet as the fake stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Packeta's packet id (`1234567890`).
    pub id: String,
    /// `Z` + id.
    pub barcode: String,
    /// Our reference (`packetAttributes/number`).
    pub number: String,
    /// Every `packetAttributes` child as sent.
    pub attributes: BTreeMap<String, String>,
    /// Oldest first.
    pub records: Vec<StatusRecord>,
}

impl Packet {
    /// One attribute as sent.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// The current status code.
    pub fn status_code(&self) -> u32 {
        self.records.last().map_or(0, |r| r.status_code)
    }
}

/// A pickup point or locker of the feeds (`branch.json`, `box.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPoint {
    pub id: String,
    pub name: String,
    /// The shop the point is in (`place`).
    pub place: String,
    pub street: String,
    pub city: String,
    pub zip: String,
    /// ISO 3166-1 alpha-2, upper case here (the feed writes it in lower case).
    pub country: String,
    pub latitude: String,
    pub longitude: String,
    pub opening_hours: String,
    /// A locker (`box.json`, with its `type`), else a pickup point (`branch.json`).
    pub locker: Option<String>,
}

impl FeedPoint {
    /// A pickup point with made-up coordinates and the usual opening hours.
    pub fn point(id: &str, name: &str, street: &str, city: &str, zip: &str, country: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            place: String::new(),
            street: street.to_owned(),
            city: city.to_owned(),
            zip: zip.to_owned(),
            country: country.to_ascii_uppercase(),
            latitude: "50.0000".to_owned(),
            longitude: "14.0000".to_owned(),
            opening_hours: "Mo-Fr 08:00–18:00".to_owned(),
            locker: None,
        }
    }

    /// The record as `branch.json` / `box.json` write it.
    fn to_json(&self) -> serde_json::Value {
        let mut record = serde_json::json!({
            "id": self.id,
            "name": self.name,
            "special": "",
            "place": self.place,
            "street": self.street,
            "city": self.city,
            "zip": self.zip,
            "country": self.country.to_ascii_lowercase(),
            "currency": country_currency(&self.country).unwrap_or("EUR"),
            "status": {"statusId": "1", "description": "In operation"},
            "displayFrontend": "1",
            "directions": "",
            "wheelchairAccessible": "no",
            "creditCardPayment": "yes",
            "latitude": self.latitude,
            "longitude": self.longitude,
            "url": format!("https://www.packeta.com/point/{}", self.id),
            "maxWeight": "15",
            "openingHours": {
                "compactShort": self.opening_hours,
                "compactLong": self.opening_hours,
                "regular": {"monday": "08:00–18:00", "sunday": ""},
                "exceptions": [],
            },
            "photos": [],
        });
        if let (Some(kind), Some(fields)) = (&self.locker, record.as_object_mut()) {
            fields.insert("type".to_owned(), serde_json::json!(kind));
        }
        record
    }
}

/// A carrier of `carrier.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FeedCarrier {
    id: &'static str,
    name: &'static str,
    country: &'static str,
    /// Delivers to its own pickup points rather than home.
    pickup_points: bool,
}

const CARRIERS: &[FeedCarrier] = &[
    FeedCarrier {
        id: HOME_CZ,
        name: "CZ Packeta Home HD",
        country: "cz",
        pickup_points: false,
    },
    FeedCarrier {
        id: HOME_SK,
        name: "SK Packeta Home HD",
        country: "sk",
        pickup_points: false,
    },
    FeedCarrier {
        id: "3060",
        name: "PL InPost Paczkomaty",
        country: "pl",
        pickup_points: true,
    },
];

impl FeedCarrier {
    fn to_json(&self) -> serde_json::Value {
        let flag = |value: bool| if value { "true" } else { "false" };
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "currency": country_currency(&self.country.to_ascii_uppercase()).unwrap_or("EUR"),
            "available": "true",
            "pickupPoints": flag(self.pickup_points),
            "apiAllowed": "true",
            "separateHouseNumber": "true",
            "customsDeclarations": "false",
            "requiresEmail": "false",
            "requiresPhone": "true",
            "requiresSize": "false",
            "disallowsCod": "false",
            "maxWeight": "30",
        })
    }
}

/// The points the fake starts with.
fn default_points() -> Vec<FeedPoint> {
    vec![
        FeedPoint {
            place: "Trafika U Můstku".to_owned(),
            latitude: "50.0855".to_owned(),
            longitude: "14.4237".to_owned(),
            ..FeedPoint::point(
                POINT_CZ,
                "Praha 1, Na Příkopě 15",
                "Na Příkopě 15",
                "Praha",
                "110 00",
                "CZ",
            )
        },
        FeedPoint {
            place: "Papírnictví".to_owned(),
            latitude: "50.0776".to_owned(),
            longitude: "14.4420".to_owned(),
            ..FeedPoint::point(
                POINT_CZ_VINOHRADY,
                "Praha 2, Vinohradská 48",
                "Vinohradská 48",
                "Praha",
                "120 00",
                "CZ",
            )
        },
        FeedPoint {
            locker: Some("zbox".to_owned()),
            latitude: "50.0750".to_owned(),
            longitude: "14.4460".to_owned(),
            opening_hours: "Mo-Su 00:00–23:59".to_owned(),
            ..FeedPoint::point(
                BOX_CZ,
                "Z-BOX Praha 2, Slezská 30",
                "Slezská 30",
                "Praha",
                "120 00",
                "CZ",
            )
        },
        FeedPoint {
            latitude: "48.1486".to_owned(),
            longitude: "17.1077".to_owned(),
            ..FeedPoint::point(
                POINT_SK,
                "Bratislava, Obchodná 12",
                "Obchodná 12",
                "Bratislava",
                "811 06",
                "SK",
            )
        },
        FeedPoint {
            latitude: "47.4925".to_owned(),
            longitude: "19.0513".to_owned(),
            ..FeedPoint::point(
                POINT_HU,
                "Budapest V., Váci utca 10",
                "Váci utca 10",
                "Budapest",
                "1052",
                "HU",
            )
        },
    ]
}

struct Fake {
    packets: BTreeMap<u64, Packet>,
    next_id: u64,
    /// Pickup point or carrier id → (country, home delivery).
    destinations: HashMap<String, (String, bool)>,
    /// The points of `branch.json` and `box.json`, in feed order.
    points: Vec<FeedPoint>,
    slow: Option<Duration>,
    slow_tracking: Option<Duration>,
    requests: Vec<String>,
    last_record: Option<OffsetDateTime>,
}

/// The fake Packeta; clones share the same state.
#[derive(Clone)]
pub struct FakePacketa {
    state: Arc<Mutex<Fake>>,
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

impl std::fmt::Debug for FakePacketa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePacketa")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakePacketa {
    /// A fake with the pickup points [`POINT_CZ`], [`POINT_CZ_VINOHRADY`], [`POINT_SK`],
    /// [`POINT_HU`], the locker [`BOX_CZ`] and the home-delivery carriers [`HOME_CZ`],
    /// [`HOME_SK`], and no packets.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the fake Packeta to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let points = default_points();
        let mut destinations = HashMap::new();
        for point in &points {
            destinations.insert(point.id.clone(), (point.country.clone(), false));
        }
        for carrier in CARRIERS.iter().filter(|carrier| !carrier.pickup_points) {
            destinations.insert(
                carrier.id.to_owned(),
                (carrier.country.to_ascii_uppercase(), true),
            );
        }
        let fake = Self {
            state: Arc::new(Mutex::new(Fake {
                packets: BTreeMap::new(),
                next_id: FIRST_PACKET_ID,
                destinations,
                points,
                slow: None,
                slow_tracking: None,
                requests: Vec::new(),
                last_record: None,
            })),
            addr,
            concurrency: Arc::default(),
        };
        let app = Router::new().fallback(handle).with_state(fake.clone());
        crate::serve_in_background("Packeta", listener, app);
        Ok(fake)
    }

    /// The endpoint to configure as `api_base`: `http://127.0.0.1:PORT/api/rest`. The
    /// feeds are served from its origin, `http://127.0.0.1:PORT/v5/...`.
    pub fn api_base(&self) -> String {
        format!("http://{}{API_PATH}", self.addr)
    }

    /// Adds a pickup point in `country` (to the feed too, with a made-up address).
    pub fn add_pickup_point(&self, id: &str, country: &str) {
        self.add_feed_point(FeedPoint::point(
            id,
            &format!("Pickup point {id}"),
            "Hlavní 1",
            "Brno",
            "602 00",
            country,
        ));
    }

    /// Adds a pickup point or locker to the feeds and to the destinations `createPacket`
    /// takes.
    pub fn add_feed_point(&self, point: FeedPoint) {
        let mut fake = self.lock();
        fake.destinations
            .insert(point.id.clone(), (point.country.clone(), false));
        fake.points.retain(|known| known.id != point.id);
        fake.points.push(point);
    }

    /// Makes `packetTracking` wait this long before answering (`Duration::ZERO` to stop).
    pub fn set_slow_tracking(&self, delay: Duration) {
        self.lock().slow_tracking = (!delay.is_zero()).then_some(delay);
    }

    /// The most requests the fake was answering at the same time (1 for a client that
    /// sends one request after another).
    pub fn max_concurrent_requests(&self) -> usize {
        self.concurrency.most.load(Ordering::SeqCst)
    }

    /// Makes `createPacket` wait this long before answering (`Duration::ZERO` to stop).
    pub fn set_slow(&self, delay: Duration) {
        self.lock().slow = (!delay.is_zero()).then_some(delay);
    }

    /// Adds a status record to a packet, as if Packeta had moved it on. `false` when the
    /// packet does not exist.
    pub fn advance(&self, packet_id: &str, status_code: u32) -> bool {
        let mut fake = self.lock();
        let Ok(id) = packet_id.trim_start_matches('Z').parse::<u64>() else {
            return false;
        };
        if !fake.packets.contains_key(&id) {
            return false;
        }
        let record = fake.record(status_code);
        if let Some(packet) = fake.packets.get_mut(&id) {
            packet.records.push(record);
        }
        true
    }

    /// Every packet created so far, by id.
    pub fn packets(&self) -> Vec<Packet> {
        self.lock().packets.values().cloned().collect()
    }

    /// One packet by id (or barcode).
    pub fn packet(&self, packet_id: &str) -> Option<Packet> {
        let id = packet_id.trim_start_matches('Z').parse::<u64>().ok()?;
        self.lock().packets.get(&id).cloned()
    }

    /// Every request so far, as `"POST /api/rest createPacket"` (the method is the root
    /// element; `?` when the body was not XML), feed requests as
    /// `"GET /v5/{api_key}/branch.json?lang=en"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Fake> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Fake {
    /// A record stamped now, strictly after the previous one so histories keep order.
    fn record(&mut self, status_code: u32) -> StatusRecord {
        let mut at = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        if let Some(last) = self.last_record
            && at <= last
        {
            at = last + Duration::from_secs(1);
        }
        self.last_record = Some(at);
        StatusRecord {
            date_time: prague_local(at),
            status_code,
            code_text: code_text(status_code).to_owned(),
        }
    }
}

/// Packeta's `codeText` for a status code.
pub fn code_text(code: u32) -> &'static str {
    match code {
        1 => "received data",
        2 => "arrived",
        3 => "prepared for departure",
        4 => "departed",
        5 => "ready for pickup",
        6 => "handed to carrier",
        7 => "delivered",
        9 => "posted back",
        10 => "returned",
        11 => "cancelled",
        12 => "collected",
        14 => "customs",
        15 => "reverse packet arrived",
        16 => "delivery attempt",
        17 => "rejected by recipient",
        _ => "unknown",
    }
}

/// A UTC time as Prague local time without an offset (EU summer time rule).
pub fn prague_local(at: OffsetDateTime) -> String {
    let year = at.year();
    let last_sunday = |month: time::Month| {
        let mut date = time::Date::from_calendar_date(year, month, 31).unwrap_or(time::Date::MIN);
        while date.weekday() != time::Weekday::Sunday {
            date = date.previous_day().unwrap_or(time::Date::MIN);
        }
        date.with_hms(1, 0, 0)
            .map(|d| d.assume_utc())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    let summer = at >= last_sunday(time::Month::March) && at < last_sunday(time::Month::October);
    let offset = UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).unwrap_or(UtcOffset::UTC);
    let local = at.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

async fn handle(
    State(fake): State<FakePacketa>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let _in_flight = InFlight::enter(&fake.concurrency);
    if uri.path().starts_with("/v5/") {
        return fake.feed(&method, &uri);
    }
    let parsed = std::str::from_utf8(&body)
        .map_err(|_| "the body is not UTF-8".to_owned())
        .and_then(parse_xml);
    let root_name = parsed.as_ref().map_or("?", |root| root.name.as_str());
    fake.lock()
        .requests
        .push(format!("{method} {} {root_name}", uri.path()));
    if uri.path().trim_end_matches('/') != API_PATH {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_response();
    }
    let root = match parsed {
        Ok(root) => root,
        Err(error) => return xml_response(fault("IncorrectDataFault", &error, "")),
    };
    if root.child_text("apiPassword").as_deref() != Some(API_PASSWORD) {
        return xml_response(fault(
            "IncorrectApiPasswordFault",
            "Incorrect API password.",
            "",
        ));
    }
    // A slow createPacket still creates the packet: only the answer is late, so a
    // client that gives up has a packet it does not know about.
    let answer = fake.answer(&root);
    let slow = match root.name.as_str() {
        "createPacket" => fake.lock().slow,
        "packetTracking" => fake.lock().slow_tracking,
        _ => None,
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    xml_response(answer)
}

impl FakePacketa {
    /// `GET /v5/{api_key}/{branch,box,carrier}.json`: the feeds, for [`API_KEY`] only.
    fn feed(&self, method: &Method, uri: &Uri) -> Response {
        let mut fake = self.lock();
        let shown = match uri.query() {
            Some(query) => format!("{method} {}?{query}", uri.path()),
            None => format!("{method} {}", uri.path()),
        };
        fake.requests.push(shown);
        if *method != Method::GET {
            return (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").into_response();
        }
        let mut parts = uri.path().trim_start_matches("/v5/").splitn(2, '/');
        let (key, file) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let records: Vec<serde_json::Value> = match file {
            "branch.json" | "box.json" => {
                let lockers = file == "box.json";
                fake.points
                    .iter()
                    .filter(|point| point.locker.is_some() == lockers)
                    .map(FeedPoint::to_json)
                    .collect()
            }
            "carrier.json" => CARRIERS.iter().map(FeedCarrier::to_json).collect(),
            _ => return (StatusCode::NOT_FOUND, "Not Found").into_response(),
        };
        if key != API_KEY {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":"Invalid API key."}"#,
            )
                .into_response();
        }
        drop(fake);
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            serde_json::Value::Array(records).to_string(),
        )
            .into_response()
    }
}

impl FakePacketa {
    /// The `<response>` document for one authenticated call.
    fn answer(&self, root: &Element) -> String {
        let mut fake = self.lock();
        match root.name.as_str() {
            "createPacket" | "packetAttributesValid" => {
                let Some(attributes) = root.child("packetAttributes") else {
                    return fault("IncorrectDataFault", "packetAttributes missing", "");
                };
                let attributes: BTreeMap<String, String> = attributes
                    .children
                    .iter()
                    .map(|c| (c.name.clone(), c.text.trim().to_owned()))
                    .collect();
                let problems = validate(&attributes, &fake.destinations);
                if !problems.is_empty() {
                    let detail: String = problems
                        .iter()
                        .map(|(name, message)| {
                            format!(
                                "<fault><name>{}</name><fault>{}</fault></fault>",
                                escape(name),
                                escape(message)
                            )
                        })
                        .collect();
                    return fault(
                        "PacketAttributesFault",
                        "Invalid packet attributes",
                        &format!("<detail><attributes>{detail}</attributes></detail>"),
                    );
                }
                if root.name == "packetAttributesValid" {
                    return ok("");
                }
                let id = fake.next_id;
                fake.next_id += 1;
                let record = fake.record(1);
                let packet = Packet {
                    id: id.to_string(),
                    barcode: format!("Z{id}"),
                    number: attributes.get("number").cloned().unwrap_or_default(),
                    attributes,
                    records: vec![record],
                };
                let result = format!(
                    "<id>{id}</id><barcode>{}</barcode><barcodeText>{}</barcodeText>",
                    packet.barcode,
                    barcode_text(id)
                );
                fake.packets.insert(id, packet);
                ok(&result)
            }
            "packetLabelPdf" => {
                let Some(format) = label_format(root) else {
                    return fault("IncorrectDataFault", "Unknown label format.", "");
                };
                let _ = format;
                match packet_of(&fake, root.child_text("packetId")) {
                    Some(packet) => ok(&base64_pdf(std::slice::from_ref(&packet.barcode))),
                    None => fault("PacketIdFault", "Packet id does not exist.", ""),
                }
            }
            "packetsLabelsPdf" => {
                if label_format(root).is_none() {
                    return fault("IncorrectDataFault", "Unknown label format.", "");
                }
                let ids: Vec<String> = root
                    .child("packetIds")
                    .map(|ids| {
                        ids.children_named("id")
                            .map(|id| id.text.trim().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                let mut barcodes = Vec::new();
                let mut unknown = Vec::new();
                for id in &ids {
                    match packet_of(&fake, Some(id.clone())) {
                        Some(packet) => barcodes.push(packet.barcode.clone()),
                        None => unknown.push(id.clone()),
                    }
                }
                if ids.is_empty() || !unknown.is_empty() {
                    let detail: String = unknown
                        .iter()
                        .map(|id| format!("<packetId>{}</packetId>", escape(id)))
                        .collect();
                    return fault(
                        "PacketIdsFault",
                        "Some packet ids do not exist.",
                        &format!("<detail><ids>{detail}</ids></detail>"),
                    );
                }
                ok(&base64_pdf(&barcodes))
            }
            "packetTracking" => match packet_of(&fake, root.child_text("packetId")) {
                Some(packet) => ok(&packet.records.iter().map(record_xml).collect::<String>()),
                None => fault("PacketIdFault", "Packet id does not exist.", ""),
            },
            "packetStatus" => match packet_of(&fake, root.child_text("packetId")) {
                Some(packet) => ok(&packet.records.last().map(record_fields).unwrap_or_default()),
                None => fault("PacketIdFault", "Packet id does not exist.", ""),
            },
            "cancelPacket" => {
                let Some(id) = packet_of(&fake, root.child_text("packetId"))
                    .and_then(|p| p.id.parse::<u64>().ok())
                else {
                    return fault("PacketIdFault", "Packet id does not exist.", "");
                };
                let cancellable = fake
                    .packets
                    .get(&id)
                    .is_some_and(|packet| packet.status_code() == 1);
                if !cancellable {
                    return fault("CancelNotAllowedFault", "Packet can not be cancelled.", "");
                }
                let record = fake.record(11);
                if let Some(packet) = fake.packets.get_mut(&id) {
                    packet.records.push(record);
                }
                ok("")
            }
            other => fault(
                "IncorrectDataFault",
                &format!("Unknown method {other}."),
                "",
            ),
        }
    }
}

fn packet_of(fake: &Fake, id: Option<String>) -> Option<&Packet> {
    let id = id?.trim().parse::<u64>().ok()?;
    fake.packets.get(&id)
}

fn label_format(root: &Element) -> Option<&'static str> {
    let asked = root.child_text("format")?;
    let (format, per_sheet) = LABEL_FORMATS.iter().find(|(f, _)| *f == asked)?;
    let offset = root
        .child_text("offset")
        .map_or(Some(0), |o| o.trim().parse::<u32>().ok())?;
    (offset < *per_sheet).then_some(*format)
}

/// `Z 123 4567 890`.
fn barcode_text(id: u64) -> String {
    let digits = id.to_string();
    if digits.len() == 10 {
        format!("Z {} {} {}", &digits[..3], &digits[3..7], &digits[7..])
    } else {
        format!("Z {digits}")
    }
}

fn record_fields(record: &StatusRecord) -> String {
    format!(
        "<dateTime>{}</dateTime><statusCode>{}</statusCode><codeText>{}</codeText>\
         <statusText>{}</statusText><branchId>0</branchId>\
         <destinationBranchId>0</destinationBranchId><externalTrackingCode/>",
        record.date_time,
        record.status_code,
        escape(&record.code_text),
        escape(&record.code_text)
    )
}

fn record_xml(record: &StatusRecord) -> String {
    format!("<record>{}</record>", record_fields(record))
}

/// Packeta's checks on `packetAttributes`, as `(field, message)` pairs.
fn validate(
    attributes: &BTreeMap<String, String>,
    destinations: &HashMap<String, (String, bool)>,
) -> Vec<(String, String)> {
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut problem = |field: &str, message: &str| {
        problems.push((field.to_owned(), message.to_owned()));
    };
    let get = |name: &str| {
        attributes
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let decimal = |name: &str| get(name).map(|v| v.parse::<Decimal>());

    match get("number") {
        None => problem("number", "Required."),
        Some(n) if n.chars().count() > 36 => problem("number", "Too long (max 36)."),
        Some(_) => {}
    }
    for name in ["name", "surname"] {
        match get(name) {
            None => problem(name, "Required."),
            Some(v) if v.chars().count() > 32 => problem(name, "Too long (max 32)."),
            Some(_) => {}
        }
    }
    if get("email").is_none() && get("phone").is_none() {
        problem("email", "Email or phone is required.");
    }
    if let Some(email) = get("email") {
        let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
        });
        if !well_formed || email.contains(char::is_whitespace) {
            problem("email", "Invalid email.");
        }
    }
    if let Some(phone) = get("phone") {
        let digits = phone.strip_prefix('+').unwrap_or(phone);
        if !(9..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            problem("phone", "Invalid phone number.");
        }
    }
    let destination = get("addressId").and_then(|id| destinations.get(id));
    match (get("addressId"), destination) {
        (None, _) => problem("addressId", "Required."),
        (Some(_), None) => problem("addressId", "Unknown pickup point or carrier."),
        _ => {}
    }
    match decimal("value") {
        None => problem("value", "Required."),
        Some(Err(_)) => problem("value", "Not a number."),
        Some(Ok(v)) if v < Decimal::ZERO => problem("value", "Must not be negative."),
        Some(Ok(_)) => {}
    }
    match decimal("weight") {
        None => problem("weight", "Required."),
        Some(Ok(w)) if w > Decimal::ZERO => {}
        Some(_) => problem("weight", "Must be a positive number."),
    }
    if get("eshop").is_none() {
        problem("eshop", "Required.");
    }
    let currency = get("currency");
    if let Some(currency) = currency {
        if !CURRENCIES.contains(&currency) {
            problem("currency", "Unknown currency.");
        } else if let Some((country, _)) = destination
            && country_currency(country) != Some(currency)
        {
            problem(
                "currency",
                "Currency not allowed for the destination country.",
            );
        }
    }
    match decimal("cod") {
        None => {}
        Some(Err(_)) => problem("cod", "Not a number."),
        Some(Ok(cod)) => match currency {
            Some("CZK") if !cod.fract().is_zero() => {
                problem("cod", "COD in CZK must be a whole number.");
            }
            Some("HUF") if !(cod % Decimal::from(5)).is_zero() => {
                problem("cod", "COD in HUF must be a multiple of 5.");
            }
            _ => {}
        },
    }
    if let Some((_, true)) = destination {
        for name in ["street", "houseNumber", "city", "zip"] {
            if get(name).is_none() {
                problem(name, "Required for home delivery.");
            }
        }
    }
    problems
}

fn country_currency(country: &str) -> Option<&'static str> {
    match country {
        "CZ" => Some("CZK"),
        "HU" => Some("HUF"),
        "PL" => Some("PLN"),
        "RO" => Some("RON"),
        "SK" | "SI" | "HR" | "AT" | "DE" => Some("EUR"),
        _ => None,
    }
}

fn ok(result: &str) -> String {
    if result.is_empty() {
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response><status>ok</status></response>"
            .to_owned()
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response><status>ok</status>\
             <result>{result}</result></response>"
        )
    }
}

fn fault(name: &str, text: &str, detail: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<response><status>fault</status>\
         <fault>{name}</fault><string>{}</string>{detail}</response>",
        escape(text)
    )
}

/// Every answer is HTTP 200, faults included.
fn xml_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn base64_pdf(labels: &[String]) -> String {
    base64::engine::general_purpose::STANDARD.encode(label_pdf(labels))
}

/// A minimal valid PDF 1.4: one A6 page per label showing its text, with a correct
/// cross-reference table.
pub fn label_pdf(labels: &[String]) -> Vec<u8> {
    let pages = labels.len().max(1);
    // Objects: 1 catalog, 2 page tree, 3 font, then a page and its content per label.
    let page_obj = |i: usize| 4 + 2 * i;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", page_obj(i))).collect();
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
    );
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
    for i in 0..pages {
        let text: String = labels
            .get(i)
            .map(String::as_str)
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect();
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 298 420] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                page_obj(i) + 1
            )
            .into_bytes(),
        );
        let stream = format!("BT /F1 18 Tf 24 360 Td (Packeta {text}) Tj ET");
        objects.push(
            format!(
                "<< /Length {} >>\nstream\n{stream}\nendstream",
                stream.len()
            )
            .into_bytes(),
        );
    }
    let mut pdf: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        pdf.extend_from_slice(object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// An XML element: name, text (entities resolved, CDATA included) and child elements.
/// Attributes are read past and dropped; Packeta's API uses none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child called `name`.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_owned())
    }

    /// Every child called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Parses an XML document into its root element (declaration, comments, processing
/// instructions and a doctype around it are skipped).
pub fn parse_xml(input: &str) -> Result<Element, String> {
    let mut parser = Parser { rest: input };
    parser.skip_misc()?;
    let root = parser.element()?;
    parser.skip_misc()?;
    if parser.rest.is_empty() {
        Ok(root)
    } else {
        Err(format!(
            "unexpected content after the root element: {:.20}",
            parser.rest
        ))
    }
}

struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
    fn skip_until(&mut self, end: &str) -> Result<(), String> {
        match self.rest.find(end) {
            Some(index) => {
                self.rest = &self.rest[index + end.len()..];
                Ok(())
            }
            None => Err(format!("unterminated markup, expected {end:?}")),
        }
    }

    /// Whitespace, `<?…?>`, `<!--…-->` and `<!DOCTYPE …>` outside the root.
    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            self.rest = self.rest.trim_start();
            if self.rest.starts_with("<?") {
                self.skip_until("?>")?;
            } else if self.rest.starts_with("<!--") {
                self.skip_until("-->")?;
            } else if self.rest.starts_with("<!DOCTYPE") {
                self.skip_until(">")?;
            } else {
                return Ok(());
            }
        }
    }

    fn element(&mut self) -> Result<Element, String> {
        let Some(after) = self.rest.strip_prefix('<') else {
            return Err("expected an element".into());
        };
        let name_end = after
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .ok_or("unterminated start tag")?;
        let name = &after[..name_end];
        if name.is_empty() {
            return Err("an element without a name".into());
        }
        let mut rest = &after[name_end..];
        // Attributes: skip to the end of the tag, minding quotes.
        let mut quote: Option<char> = None;
        let mut tag_end = None;
        for (index, c) in rest.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    tag_end = Some(index);
                    break;
                }
                _ => {}
            }
        }
        let tag_end = tag_end.ok_or("unterminated start tag")?;
        let empty = rest[..tag_end].trim_end().ends_with('/');
        rest = &rest[tag_end + 1..];
        self.rest = rest;
        let mut element = Element {
            name: name.to_owned(),
            ..Element::default()
        };
        if empty {
            return Ok(element);
        }
        loop {
            let lt = self
                .rest
                .find('<')
                .ok_or_else(|| format!("<{name}> is not closed"))?;
            element.text.push_str(&unescape(&self.rest[..lt])?);
            self.rest = &self.rest[lt..];
            if let Some(after) = self.rest.strip_prefix("</") {
                let end = after.find('>').ok_or("unterminated end tag")?;
                let closing = after[..end].trim();
                if closing != name {
                    return Err(format!("<{name}> closed by </{closing}>"));
                }
                self.rest = &after[end + 1..];
                return Ok(element);
            } else if self.rest.starts_with("<!--") {
                self.skip_until("-->")?;
            } else if let Some(after) = self.rest.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").ok_or("unterminated CDATA")?;
                element.text.push_str(&after[..end]);
                self.rest = &after[end + 3..];
            } else if self.rest.starts_with("<?") {
                self.skip_until("?>")?;
            } else {
                element.children.push(self.element()?);
            }
        }
    }
}

/// Resolves the five named entities and numeric character references.
fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').ok_or("an unterminated entity")?;
        let entity = &after[..semi];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn parses_requests() {
        let root = parse_xml(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- hi -->\
             <createPacket><apiPassword>p&amp;w</apiPassword>\
             <packetAttributes><name a=\"1>\">Ana &#268;&#xE1;</name><note><![CDATA[a < b]]></note>\
             <empty/><company /></packetAttributes></createPacket>\n",
        )
        .unwrap();
        assert_eq!(root.name, "createPacket");
        assert_eq!(root.child_text("apiPassword").as_deref(), Some("p&w"));
        let attributes = root.child("packetAttributes").unwrap();
        assert_eq!(attributes.child_text("name").as_deref(), Some("Ana Čá"));
        assert_eq!(attributes.child_text("note").as_deref(), Some("a < b"));
        assert_eq!(attributes.children.len(), 4);
        assert_eq!(attributes.child_text("company").as_deref(), Some(""));

        assert!(parse_xml("").is_err());
        assert!(parse_xml("not xml").is_err());
        assert!(parse_xml("<a><b></a>").is_err());
        assert!(parse_xml("<a>&bogus;</a>").is_err());
        assert!(parse_xml("<a></a><b/>").is_err());
        assert!(parse_xml("<a>").is_err());
    }

    #[test]
    fn pdf_has_one_page_per_label_and_correct_offsets() {
        let pdf = label_pdf(&["Z1234567890".into(), "Z1234567891".into()]);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf).into_owned();
        assert_eq!(text.matches("/Type /Page ").count(), 2);
        assert!(text.contains("/Count 2"));
        assert!(text.contains("(Packeta Z1234567891)"));
        // startxref points at the table, and every entry at its object.
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[startxref..].starts_with(b"xref\n0 8\n"));
        let table = String::from_utf8_lossy(&pdf[startxref..]).into_owned();
        let entries: Vec<&str> = table.lines().skip(3).take(7).collect();
        assert_eq!(entries.len(), 7);
        for (index, entry) in entries.iter().enumerate() {
            assert_eq!(entry.len(), 19, "{entry:?}"); // + the \n = 20 bytes
            let offset: usize = entry[..10].parse().unwrap();
            let expected = format!("{} 0 obj", index + 1);
            assert!(
                pdf[offset..].starts_with(expected.as_bytes()),
                "object {} not at {offset}",
                index + 1
            );
        }
        // Stream lengths are exact (the text after the binary comment line is ASCII).
        for chunk in text.split("<< /Length ").skip(1) {
            let (length, rest) = chunk.split_once(" >>\nstream\n").unwrap();
            let length: usize = length.parse().unwrap();
            assert_eq!(&rest[length..length + 10], "\nendstream");
        }
    }

    #[test]
    fn validation_names_fields() {
        let mut destinations = HashMap::new();
        destinations.insert(POINT_CZ.to_owned(), ("CZ".to_owned(), false));
        destinations.insert(HOME_CZ.to_owned(), ("CZ".to_owned(), true));
        let good: BTreeMap<String, String> = [
            ("number", "1"),
            ("name", "Ana"),
            ("surname", "Novak"),
            ("phone", "+420777123456"),
            ("addressId", POINT_CZ),
            ("currency", "CZK"),
            ("cod", "729"),
            ("value", "729"),
            ("weight", "1.2"),
            ("eshop", "shop"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert!(validate(&good, &destinations).is_empty());
        let with = |key: &str, value: &str| {
            let mut attributes = good.clone();
            attributes.insert(key.to_owned(), value.to_owned());
            validate(&attributes, &destinations)
                .into_iter()
                .map(|(field, _)| field)
                .collect::<Vec<_>>()
        };
        assert_eq!(with("addressId", "5"), ["addressId"]);
        assert_eq!(with("currency", "EUR"), ["currency"]);
        assert_eq!(with("cod", "729.5"), ["cod"]);
        assert_eq!(with("weight", "0"), ["weight"]);
        assert_eq!(with("surname", ""), ["surname"]);
        assert_eq!(
            with("addressId", HOME_CZ),
            ["street", "houseNumber", "city", "zip"]
        );
    }

    #[test]
    fn prague_time_and_barcodes() {
        let at = time::macros::datetime!(2026-01-15 09:00:00 UTC);
        assert_eq!(prague_local(at), "2026-01-15T10:00:00");
        let at = time::macros::datetime!(2026-07-01 08:00:00 UTC);
        assert_eq!(prague_local(at), "2026-07-01T10:00:00");
        let at = time::macros::datetime!(2026-03-29 00:59:59 UTC);
        assert_eq!(prague_local(at), "2026-03-29T01:59:59");
        let at = time::macros::datetime!(2026-03-29 01:00:00 UTC);
        assert_eq!(prague_local(at), "2026-03-29T03:00:00");
        assert_eq!(barcode_text(1_234_567_890), "Z 123 4567 890");
    }

    #[tokio::test]
    async fn serves_the_feeds_for_the_api_key() {
        let fake = FakePacketa::start().await.unwrap();
        fake.add_pickup_point("4321", "CZ");
        let origin = fake.api_base().trim_end_matches(API_PATH).to_owned();
        let get = |path: String| async move {
            let response = reqwest::get(path).await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        };
        let (status, branches) = get(format!("{origin}/v5/{API_KEY}/branch.json?lang=en")).await;
        assert_eq!(status, 200);
        let branches: serde_json::Value = serde_json::from_str(&branches).unwrap();
        let ids: Vec<&str> = branches
            .as_array()
            .unwrap()
            .iter()
            .map(|point| point["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [POINT_CZ, POINT_CZ_VINOHRADY, POINT_SK, POINT_HU, "4321"]
        );
        assert_eq!(branches[0]["country"], "cz");
        assert_eq!(
            branches[0]["openingHours"]["compactShort"],
            "Mo-Fr 08:00–18:00"
        );
        let (_, boxes) = get(format!("{origin}/v5/{API_KEY}/box.json?lang=en")).await;
        let boxes: serde_json::Value = serde_json::from_str(&boxes).unwrap();
        assert_eq!(boxes[0]["id"], BOX_CZ);
        assert_eq!(boxes[0]["type"], "zbox");
        let (_, carriers) = get(format!("{origin}/v5/{API_KEY}/carrier.json?lang=en")).await;
        let carriers: serde_json::Value = serde_json::from_str(&carriers).unwrap();
        assert_eq!(carriers[0]["id"], HOME_CZ);
        assert_eq!(carriers[0]["pickupPoints"], "false");
        let (status, _) = get(format!("{origin}/v5/0000000000000000/branch.json")).await;
        assert_eq!(status, 401);
        let (status, _) = get(format!("{origin}/v5/{API_KEY}/nothing.json")).await;
        assert_eq!(status, 404);
        assert_eq!(
            fake.requests()[0],
            format!("GET /v5/{API_KEY}/branch.json?lang=en")
        );
        assert_eq!(fake.max_concurrent_requests(), 1);
    }

    #[tokio::test]
    async fn answers_with_http_200_faults() {
        let fake = FakePacketa::start().await.unwrap();
        let client = reqwest::Client::new();
        let post = |body: String| {
            let client = client.clone();
            let url = fake.api_base();
            async move {
                let response = client.post(url).body(body).send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.text().await.unwrap()
            }
        };
        let answer =
            post("<packetStatus><apiPassword>nope</apiPassword></packetStatus>".into()).await;
        assert!(
            answer.contains("<fault>IncorrectApiPasswordFault</fault>"),
            "{answer}"
        );
        let answer = post("<<<".into()).await;
        assert!(
            answer.contains("<fault>IncorrectDataFault</fault>"),
            "{answer}"
        );
        let answer = post(format!(
            "<packetStatus><apiPassword>{API_PASSWORD}</apiPassword><packetId>1</packetId></packetStatus>"
        ))
        .await;
        assert!(answer.contains("<fault>PacketIdFault</fault>"), "{answer}");
        let answer = post(format!(
            "<createPacket><apiPassword>{API_PASSWORD}</apiPassword><packetAttributes>\
             <number>A-1</number><name>Ana</name><surname>Novak</surname>\
             <email>a@example.test</email><addressId>{POINT_SK}</addressId>\
             <currency>EUR</currency><cod>10</cod><value>10</value><weight>0.5</weight>\
             <eshop>shop</eshop></packetAttributes></createPacket>"
        ))
        .await;
        assert!(
            answer.contains("<barcode>Z1234567890</barcode>"),
            "{answer}"
        );
        assert!(fake.advance("1234567890", 2));
        let answer = post(format!(
            "<cancelPacket><apiPassword>{API_PASSWORD}</apiPassword><packetId>1234567890</packetId></cancelPacket>"
        ))
        .await;
        assert!(answer.contains("CancelNotAllowedFault"), "{answer}");
        let answer = post(format!(
            "<packetTracking><apiPassword>{API_PASSWORD}</apiPassword><packetId>1234567890</packetId></packetTracking>"
        ))
        .await;
        assert_eq!(answer.matches("<record>").count(), 2, "{answer}");
        assert_eq!(fake.packets()[0].number, "A-1");
        assert_eq!(fake.requests().len(), 6);
        assert!(fake.requests()[3].ends_with("createPacket"));
    }
}
