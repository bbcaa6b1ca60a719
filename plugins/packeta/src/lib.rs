//! The Packeta (Zásilkovna) carrier connector, over Packeta's REST/XML API
//! (`POST https://www.zasilkovna.cz/api/rest`, the root element is the method) and its
//! pickup point feeds, on contract 0.2.
//!
//! | capability: operation | Packeta |
//! |---|---|
//! | `shipments`: `create_shipments` | `createPacket`, one per shipment, sent together |
//! | `labels`: `get_labels` | `packetLabelPdf` (one id), `packetsLabelsPdf` (several) |
//! | `tracking`: `track` | `packetTracking`, one per packet, sent together |
//! | `cancellation`: `cancel_shipments` | `cancelPacket`, one per packet, sent together |
//! | `pickup-points`: `search_pickup_points` | the `branch.json` and `box.json` feeds ([`feed`]) |
//! | `services`: `list_services` | home-delivery carriers (`carrier.json`, or the setting) |
//! | `connection`: `check_connection` | `packetStatus` of packet 1: `PacketIdFault` means the password is good |
//!
//! No `lookup`: Packeta's API cannot find a packet by our `number`, so a create whose
//! outcome is unknown waits for a person to look in Packeta's client section.
//!
//! Packeta answers HTTP 200 even for faults; [`xml`] reads the `<response>` envelope
//! and maps faults to typed errors (`IncorrectApiPasswordFault` → `auth`,
//! `PacketAttributesFault` → `invalid-input` naming the request field Packeta refused
//! (`email` → `recipient.email`), unknown packets → `not-found`), keeping the fault's
//! name as the platform's code.
//!
//! A shipment is one packet: the shipment id is Packeta's packet id, the tracking number
//! its barcode (`Z` + id). Delivery goes to the pickup point in the request
//! (`addressId`); without one it is home delivery through the Packeta carrier named by a
//! `carrier:<id>` service or by the `home_delivery_carriers` setting for the country.

pub mod feed;
pub mod rules;
pub mod xml;

use base64::Engine as _;
use tovor_sdk::carrier::{
    Cancellation, Connection, ConnectionInfo, CreatedShipment, Label, LabelFormat, Labels,
    PaperSize, PickupLocation, PickupPoints, PickupQuery, Service, Services, ShipmentRequest,
    ShipmentStatus, Shipments, ShippingLimits, Tracking, TrackingEvent, TrackingResult,
};
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::types::{ConnectorError, ErrorKind, Timestamp};
use tovor_sdk::{API_BASE, Config};

use xml::{Answer, CreatedPacket, Doc, StatusRecords};

/// Packeta's REST endpoint.
pub const DEFAULT_API: &str = "https://www.zasilkovna.cz/api/rest";

/// Shipments per `create_shipments` call. `createPacket` creates one packet; the calls
/// of a batch go out together, so ten of them take one request's time, well inside the
/// call budget (`timeout_ms` in plugin.toml) even when Packeta is as slow as the request
/// timeout allows. A create is never retried: Packeta has no idempotency key.
pub const CREATE_BATCH: u32 = 10;

/// Packeta requests in flight at once for tracking and cancelling; more go in waves.
const WAVE: usize = 25;

/// Per request, well inside the plugin's 30 s call budget.
const DEFAULT_TIMEOUT_MS: u32 = 20_000;

/// The service that asks Packeta to check the recipient's age at handover.
pub const ADULT_CONTENT: &str = "adult-content";

/// A label format of `packetLabelPdf` / `packetsLabelsPdf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketaFormat {
    /// Exactly as Packeta's `format` takes it.
    pub name: &'static str,
    /// The paper, when the contract has a name for it (A7 and A8 label rolls it has not).
    pub paper: Option<PaperSize>,
    /// The paper the host may ask for that this format prints on.
    pub prints_on: &'static [PaperSize],
}

/// Label printer paper an A7 label (74 × 105 mm) fits on.
const FITS_A7: &[PaperSize] = &[PaperSize::A6, PaperSize::Label100x150];
/// Label printer paper an A8 label (52 × 74 mm) fits on.
const FITS_A8: &[PaperSize] = &[
    PaperSize::A6,
    PaperSize::Label100x150,
    PaperSize::Label100x100,
];

/// Packeta's label formats, the preferred one of each paper first: A4 sheets of 4, 8 or
/// 16 labels, and single labels for label printers.
pub const LABEL_FORMATS: &[PacketaFormat] = &[
    PacketaFormat {
        name: "A6 on A4",
        paper: Some(PaperSize::A4),
        prints_on: &[PaperSize::A4],
    },
    PacketaFormat {
        name: "A7 on A4",
        paper: Some(PaperSize::A4),
        prints_on: &[PaperSize::A4],
    },
    PacketaFormat {
        name: "105x35mm on A4",
        paper: Some(PaperSize::A4),
        prints_on: &[PaperSize::A4],
    },
    PacketaFormat {
        name: "A6 on A6",
        paper: Some(PaperSize::A6),
        // An A6 label (105 × 148 mm) is what 100 × 150 mm label printers print too.
        prints_on: &[PaperSize::A6, PaperSize::Label100x150],
    },
    PacketaFormat {
        name: "A7 on A7",
        paper: None,
        prints_on: FITS_A7,
    },
    PacketaFormat {
        name: "A8 on A8",
        paper: None,
        prints_on: FITS_A8,
    },
];

/// What most Packeta plugins print (4 labels on an A4 sheet).
pub const DEFAULT_LABEL_FORMAT: &str = "A6 on A4";

/// The connector. It holds no state: each call gets the account's [`Config`].
pub struct Packeta;

/// The endpoint and password for one account.
struct Api {
    url: String,
    password: String,
    timeout_ms: u32,
}

impl Api {
    fn new(config: &Config) -> Result<Self, ConnectorError> {
        let timeout = config.integer_or("request_timeout_ms", i64::from(DEFAULT_TIMEOUT_MS))?;
        let timeout_ms = u32::try_from(timeout).map_err(|_| {
            ConnectorError::invalid_field(
                "request_timeout_ms",
                format!("{timeout} is not a timeout in milliseconds"),
            )
        })?;
        Ok(Self {
            url: config.api_base_or(DEFAULT_API),
            password: config.require("api_password")?.trim().to_owned(),
            timeout_ms,
        })
    }

    /// The `POST` of one method call.
    fn request(&self, doc: &Doc) -> Request {
        Request::post(&self.url)
            .body(doc.finish(), "text/xml")
            .timeout_ms(self.timeout_ms)
    }

    /// Sends one method call and returns its `<result>`; faults become errors.
    fn call<T: serde::de::DeserializeOwned>(&self, doc: &Doc) -> Result<Option<T>, ConnectorError> {
        read_result(self.request(doc).send())
    }

    /// A `createPacket` call for one shipment's attributes.
    fn create_packet(&self, attributes: &[(&'static str, String)]) -> Request {
        let mut doc = Doc::new("createPacket", &self.password);
        doc.group(
            "packetAttributes",
            attributes
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        );
        self.request(&doc)
    }

    /// A call about one packet (`packetTracking`, `cancelPacket`, `packetStatus`).
    fn packet_call(&self, method: &'static str, packet_id: &str) -> Request {
        let mut doc = Doc::new(method, &self.password);
        doc.element("packetId", packet_id);
        self.request(&doc)
    }
}

/// The `<result>` of an answer; HTTP failures typed by status, faults by name.
fn read_result<T: serde::de::DeserializeOwned>(
    sent: Result<Response, ConnectorError>,
) -> Result<Option<T>, ConnectorError> {
    let response = sent?.error_for_status()?;
    xml::parse_result(&response.body)
}

/// Runs `calls` (index, request) in waves of [`WAVE`] requests sent together, handing
/// each answer to `answer` with its index. Stops at the first `Err` `answer` returns.
fn in_waves(
    calls: Vec<(usize, Request)>,
    mut answer: impl FnMut(usize, Result<Response, ConnectorError>) -> Result<(), ConnectorError>,
) -> Result<(), ConnectorError> {
    let mut calls = calls.into_iter().peekable();
    while calls.peek().is_some() {
        let (indices, requests): (Vec<usize>, Vec<Request>) = calls.by_ref().take(WAVE).unzip();
        for (index, sent) in indices.into_iter().zip(http::send_many(requests)) {
            answer(index, sent)?;
        }
    }
    Ok(())
}

/// Fills the answers nobody gave (a connector bug, not a carrier answer).
fn complete<T>(results: Vec<Option<Result<T, ConnectorError>>>) -> Vec<Result<T, ConnectorError>> {
    results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(ConnectorError::other("not handled"))))
        .collect()
}

impl Shipments for Packeta {
    fn limits() -> ShippingLimits {
        ShippingLimits {
            max_batch: CREATE_BATCH,
            cod_currencies: rules::COD_CURRENCIES
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
        }
    }

    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let eshop = config.require("eshop")?.trim().to_owned();
        let home_carriers = config.text("home_delivery_carriers").unwrap_or("");
        let mut results: Vec<Option<Result<CreatedShipment, ConnectorError>>> =
            requests.iter().map(|_| None).collect();
        // Packets Packeta would refuse are answered without a request.
        let mut calls = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            match packet_attributes(request, &eshop, home_carriers) {
                Ok(attributes) => calls.push((index, api.create_packet(&attributes))),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        let (indices, calls): (Vec<usize>, Vec<Request>) = calls.into_iter().unzip();
        for (index, sent) in indices.into_iter().zip(http::send_many(calls)) {
            let created = read_result::<CreatedPacket>(sent).and_then(|packet| {
                packet.ok_or_else(|| {
                    ConnectorError::other("Packeta created the packet but returned no id")
                })
            });
            results[index] = Some(created.map(|packet| CreatedShipment {
                reference: requests[index].reference.clone(),
                shipment_id: packet.id,
                tracking_numbers: vec![packet.barcode],
                label: None,
                created_at: Some(Timestamp::now()),
            }));
        }
        let results = complete(results);
        // Wrong credentials before anything was created fail the whole batch; after a
        // success, the created packets must still be reported.
        if results.iter().all(Result::is_err)
            && let Some(Err(auth)) = results
                .iter()
                .find(|result| matches!(result, Err(error) if error.kind == ErrorKind::Auth))
        {
            return Err(auth.clone());
        }
        Ok(results)
    }
}

impl Labels for Packeta {
    fn label_formats() -> Vec<LabelFormat> {
        LABEL_FORMATS
            .iter()
            .filter_map(|format| {
                format.paper.map(|size| LabelFormat {
                    size,
                    carrier_name: format.name.to_owned(),
                    content_type: "application/pdf".to_owned(),
                })
            })
            .collect()
    }

    fn get_labels(
        config: &Config,
        shipment_ids: Vec<String>,
        size: PaperSize,
    ) -> Result<Label, ConnectorError> {
        let api = Api::new(config)?;
        let configured = label_format(config.text("label_format"))?;
        let format = format_for(size, configured)?;
        let ids = shipment_ids
            .iter()
            .map(|id| packet_id(id, "shipment-ids"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut doc = match ids.as_slice() {
            [] => {
                return Err(ConnectorError::invalid_field(
                    "shipment-ids",
                    "no shipment to print a label for",
                ));
            }
            [id] => {
                let mut doc = Doc::new("packetLabelPdf", &api.password);
                doc.element("packetId", id);
                doc
            }
            many => {
                let mut doc = Doc::new("packetsLabelsPdf", &api.password);
                doc.group("packetIds", many.iter().map(|id| ("id", id.as_str())));
                doc
            }
        };
        doc.element("format", format.name).element("offset", "0");
        let encoded: Option<String> = api.call(&doc)?;
        Ok(Label {
            content_type: "application/pdf".into(),
            data: decode_pdf(encoded.as_deref().unwrap_or(""))?,
        })
    }
}

/// The label format called `name` (case-insensitive), default `A6 on A4`.
pub fn label_format(name: Option<&str>) -> Result<PacketaFormat, ConnectorError> {
    let name = name.map(str::trim).unwrap_or(DEFAULT_LABEL_FORMAT);
    LABEL_FORMATS
        .iter()
        .find(|known| known.name.eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                "label_format",
                format!(
                    "Packeta has no label format {name:?}; it offers {}",
                    LABEL_FORMATS
                        .iter()
                        .map(|format| format.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// The format for labels on `paper`: the account's `label_format` when it prints on that
/// paper (the contract names only the paper, so the setting decides between the A4
/// sheets, or picks A7 or A8 labels for a label printer), else the preferred one.
pub fn format_for(
    paper: PaperSize,
    configured: PacketaFormat,
) -> Result<PacketaFormat, ConnectorError> {
    if configured.prints_on.contains(&paper) {
        return Ok(configured);
    }
    LABEL_FORMATS
        .iter()
        .find(|format| format.prints_on.contains(&paper))
        .copied()
        .ok_or_else(|| {
            ConnectorError::unsupported(
                "labels on A5 paper: Packeta prints on A4 sheets or single A6, A7 and A8 labels",
            )
            .with_field("size")
        })
}

impl Tracking for Packeta {
    fn track(
        config: &Config,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let mut results: Vec<Option<Result<TrackingResult, ConnectorError>>> =
            tracking_numbers.iter().map(|_| None).collect();
        let mut calls = Vec::new();
        for (index, number) in tracking_numbers.iter().enumerate() {
            match packet_id(number, "tracking-numbers") {
                Ok(id) => calls.push((index, api.packet_call("packetTracking", &id))),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        in_waves(calls, |index, sent| {
            let tracked = read_result::<StatusRecords>(sent)
                .and_then(|records| tracking_events(records.unwrap_or_default()));
            if let Err(error) = &tracked
                && error.kind == ErrorKind::Auth
            {
                return Err(error.clone());
            }
            results[index] = Some(tracked.map(|events| TrackingResult {
                tracking_number: tracking_numbers[index].clone(),
                events,
            }));
            Ok(())
        })?;
        Ok(complete(results))
    }
}

impl Cancellation for Packeta {
    fn cancel_shipments(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let mut results: Vec<Option<Result<(), ConnectorError>>> =
            shipment_ids.iter().map(|_| None).collect();
        let mut calls = Vec::new();
        for (index, id) in shipment_ids.iter().enumerate() {
            match packet_id(id, "shipment-ids") {
                Ok(id) => calls.push((index, api.packet_call("cancelPacket", &id))),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        in_waves(calls, |index, sent| {
            let cancelled = read_result::<serde::de::IgnoredAny>(sent).map(|_| ());
            if let Err(error) = &cancelled
                && error.kind == ErrorKind::Auth
            {
                return Err(error.clone());
            }
            results[index] = Some(cancelled);
            Ok(())
        })?;
        Ok(complete(results))
    }
}

impl PickupPoints for Packeta {
    fn search_pickup_points(
        config: &Config,
        query: PickupQuery,
    ) -> Result<Vec<PickupLocation>, ConnectorError> {
        let matcher = feed::Matcher::new(&query)?;
        if matcher.limit() == 0 {
            return Ok(Vec::new());
        }
        let api_key = require_api_key(config, "pickup point search")?;
        let host = feed::feed_host(config.text(API_BASE));
        let mut found = Vec::new();
        // One feed at a time: each lists every point of every country, so only one is
        // held in memory at once.
        for (file, kind) in feed::POINT_FEEDS {
            let wanted = matcher.limit() - found.len();
            if wanted == 0 {
                break;
            }
            let body = read_feed(&feed::feed_url(&host, api_key, file))?;
            found.extend(feed::search(&body, &matcher, kind, wanted)?);
        }
        Ok(found)
    }
}

/// The API key (the feeds' credential, apart from the API password), or `invalid-input`
/// naming it.
fn require_api_key<'a>(config: &'a Config, what: &str) -> Result<&'a str, ConnectorError> {
    config.text("api_key").ok_or_else(|| {
        ConnectorError::invalid_field(
            "api_key",
            format!(
                "{what} needs the Packeta API key (16 characters, client section → API), \
                 apart from the API password"
            ),
        )
    })
}

/// A feed's body; a refused key is `auth` naming `api_key`.
fn read_feed(url: &str) -> Result<Vec<u8>, ConnectorError> {
    let response = Request::get(url)
        .header("Accept", "application/json")
        .send()?;
    match response.error() {
        Some(error) if matches!(response.status, 401 | 403 | 404) => Err(ConnectorError {
            kind: ErrorKind::Auth,
            field: Some("api_key".to_owned()),
            message: format!(
                "Packeta's feed refused the API key; check the `api_key` setting ({})",
                error.message
            ),
            ..error
        }),
        Some(error) => Err(error),
        None => Ok(response.body),
    }
}

impl Services for Packeta {
    fn list_services(config: &Config) -> Result<Vec<Service>, ConnectorError> {
        let mut services = vec![Service {
            code: ADULT_CONTENT.to_owned(),
            name: "Age verification (18+)".to_owned(),
            description: Some(
                "Packeta hands the packet over only after checking that the recipient is an \
                 adult (adultContent)."
                    .to_owned(),
            ),
        }];
        // Home delivery goes through one of Packeta's carriers, chosen by `carrier:<id>`:
        // all of them when the feed can be read, else those the settings name.
        match config.text("api_key") {
            Some(api_key) => {
                let host = feed::feed_host(config.text(API_BASE));
                let body = read_feed(&feed::feed_url(&host, api_key, "carrier.json"))?;
                services.extend(feed::home_delivery_services(&body)?);
            }
            None => {
                let configured = config.text("home_delivery_carriers").unwrap_or("");
                services.extend(configured_home_carriers(configured).into_iter().map(
                    |(country, id)| {
                        feed::home_delivery_service(
                            &id,
                            &format!("Home delivery {country}"),
                            format!("Home delivery in {country} (Packeta carrier {id}, from the settings)"),
                        )
                    },
                ));
            }
        }
        Ok(services)
    }
}

impl Connection for Packeta {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        let api = Api::new(config)?;
        // Packeta has no "who am I": the status of a packet that is not ours answers
        // PacketIdFault to a valid password and IncorrectApiPasswordFault to a wrong one.
        let response = api
            .packet_call("packetStatus", "1")
            .send()
            // Nothing answered: say where we tried; the kind says whether to retry.
            .map_err(|error| error.context(format!("Packeta at {}", api.url)))?;
        if let Some(error) = response.error() {
            return Err(match error.kind {
                ErrorKind::NotFound | ErrorKind::InvalidInput | ErrorKind::Other => {
                    wrong_address(error, &api)
                }
                _ => error,
            });
        }
        match xml::parse_answer::<serde::de::IgnoredAny>(&response.body) {
            Err(error) => return Err(wrong_address(error, &api)),
            Ok(Answer::Fault(fault)) if fault.name != "PacketIdFault" => {
                return Err(fault.into_error());
            }
            Ok(_) => {}
        }
        let mut info = ConnectionInfo::anonymous();
        match config.text("api_key") {
            Some(api_key) => {
                let host = feed::feed_host(config.text(API_BASE));
                if let Err(error) = read_feed(&feed::feed_url(&host, api_key, "carrier.json")) {
                    info = info.warning(format!(
                        "the API key does not open Packeta's feeds, so pickup point search and \
                         the carrier list do not work: {}",
                        error.message
                    ));
                }
            }
            None => {
                info = info.warning(
                    "no API key: pickup point search and the list of home-delivery carriers \
                     need it",
                );
            }
        }
        Ok(info)
    }
}

/// The answer did not come from Packeta's API: the endpoint (`api_base`) is wrong.
fn wrong_address(error: ConnectorError, api: &Api) -> ConnectorError {
    ConnectorError {
        kind: ErrorKind::InvalidInput,
        field: Some(API_BASE.to_owned()),
        message: format!(
            "{} does not answer like Packeta's REST API; check the {API_BASE} setting: {}",
            api.url, error.message
        ),
        ..error
    }
}

/// The `packetAttributes` of one shipment request, in Packeta's element order.
pub fn packet_attributes(
    request: &ShipmentRequest,
    eshop: &str,
    home_delivery_carriers: &str,
) -> Result<Vec<(&'static str, String)>, ConnectorError> {
    let recipient = &request.recipient;
    let country = recipient
        .country
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let mut attributes: Vec<(&'static str, String)> = Vec::new();

    let number = request.reference.trim();
    if number.is_empty() || number.chars().count() > 36 {
        return Err(ConnectorError::invalid_field(
            "reference",
            format!("Packeta's packet number must have 1 to 36 characters, not {number:?}"),
        ));
    }
    attributes.push(("number", number.to_owned()));

    let full_name = recipient.name.as_deref().unwrap_or("").trim();
    let (name, surname) = full_name
        .split_once(char::is_whitespace)
        .map(|(first, rest)| (first.trim(), rest.trim()))
        .unwrap_or((full_name, ""));
    if name.is_empty() || surname.is_empty() {
        return Err(ConnectorError::invalid_field(
            "recipient.name",
            format!("Packeta needs the recipient's first name and surname, got {full_name:?}"),
        ));
    }
    attributes.push(("name", name.to_owned()));
    attributes.push(("surname", surname.to_owned()));
    if let Some(company) = non_blank(&recipient.company) {
        attributes.push(("company", company.to_owned()));
    }
    let email = non_blank(&recipient.email);
    let phone = non_blank(&recipient.phone)
        .map(|phone| rules::normalize_phone(phone, country.as_deref()))
        .transpose()?;
    if email.is_none() && phone.is_none() {
        return Err(ConnectorError::invalid_field(
            "recipient.email",
            "Packeta needs the recipient's e-mail or phone number",
        ));
    }
    if let Some(email) = email {
        attributes.push(("email", email.to_owned()));
    }
    if let Some(phone) = phone {
        attributes.push(("phone", phone));
    }

    let adult_content = requested_services(&request.services)?;

    // Where it goes: a pickup point, or a home-delivery carrier.
    let pickup_point = request
        .pickup_point
        .as_ref()
        .map(|point| point.id.trim())
        .filter(|id| !id.is_empty());
    let address_id = match pickup_point {
        Some(id) => id.to_owned(),
        None => home_carrier(
            &request.services,
            home_delivery_carriers,
            country.as_deref(),
        )?,
    };
    attributes.push(("addressId", address_id));

    // Money: COD and declared value share one currency.
    let cod = match &request.cash_on_delivery {
        Some(cod) => {
            let amount = money::parse_decimal(&cod.amount)
                .map_err(|error| error.with_field("cash-on-delivery.amount"))?;
            let currency = cod.currency.trim().to_ascii_uppercase();
            rules::check_cod(amount, &currency, country.as_deref())?;
            Some((amount, currency))
        }
        None => None,
    };
    let value = match non_blank(&request.value) {
        Some(value) => money::parse_decimal(value).map_err(|error| error.with_field("value"))?,
        None => match &cod {
            Some((amount, _)) => *amount,
            None => {
                return Err(ConnectorError::invalid_field(
                    "value",
                    "Packeta needs the declared value of the contents",
                ));
            }
        },
    };
    let value_currency = non_blank(&request.currency).map(|c| c.trim().to_ascii_uppercase());
    let currency = match (&cod, value_currency) {
        (Some((_, cod_currency)), Some(value_currency)) if *cod_currency != value_currency => {
            return Err(ConnectorError::invalid_field(
                "currency",
                format!(
                    "Packeta takes one currency per packet: the value is in {value_currency}, \
                     cash on delivery in {cod_currency}"
                ),
            ));
        }
        (Some((_, cod_currency)), _) => Some(cod_currency.clone()),
        (None, Some(value_currency)) => Some(value_currency),
        (None, None) => country
            .as_deref()
            .and_then(rules::country_currency)
            .map(str::to_owned),
    };
    if let Some(currency) = currency {
        attributes.push(("currency", currency));
    }
    if let Some((amount, _)) = &cod {
        attributes.push(("cod", money::format_decimal(*amount)));
    }
    attributes.push(("value", money::format_decimal(value)));
    attributes.push(("weight", weight_kg(request)?));
    attributes.push(("eshop", eshop.to_owned()));
    if adult_content {
        attributes.push(("adultContent", "1".to_owned()));
    }

    if pickup_point.is_none() {
        let (street, house_number) = street_and_number(recipient)?;
        attributes.push(("street", street));
        attributes.push(("houseNumber", house_number));
        let required = |value: &Option<String>, field: &str| {
            non_blank(value).map(str::to_owned).ok_or_else(|| {
                ConnectorError::invalid_field(
                    format!("recipient.{field}"),
                    "Packeta home delivery needs the full address",
                )
            })
        };
        attributes.push(("city", required(&recipient.city, "city")?));
        attributes.push(("zip", required(&recipient.postal_code, "postal-code")?));
    }
    if let Some(note) = non_blank(&request.note) {
        attributes.push(("note", note.to_owned()));
    }
    Ok(attributes)
}

/// Checks the requested services: `carrier:<id>` (home delivery, read by
/// [`home_carrier`]) and [`ADULT_CONTENT`]; anything else is refused rather than
/// silently dropped. Returns whether the age check was asked for.
fn requested_services(services: &[String]) -> Result<bool, ConnectorError> {
    let mut adult_content = false;
    for service in services {
        let code = service.trim();
        if code.eq_ignore_ascii_case(ADULT_CONTENT) {
            adult_content = true;
        } else if !code.starts_with("carrier:") {
            return Err(ConnectorError::invalid_field(
                "services",
                format!(
                    "Packeta has no service {code:?}; this connector takes `{ADULT_CONTENT}` \
                     and `carrier:<id>` (home delivery)"
                ),
            ));
        }
    }
    Ok(adult_content)
}

/// The `(country, carrier id)` pairs of the `home_delivery_carriers` setting
/// (`CZ:106, SK:131`).
fn configured_home_carriers(configured: &str) -> Vec<(String, String)> {
    configured
        .split([',', ';'])
        .filter_map(|entry| entry.split_once([':', '=']))
        .map(|(country, id)| (country.trim().to_ascii_uppercase(), id.trim().to_owned()))
        .filter(|(country, id)| !country.is_empty() && !id.is_empty())
        .collect()
}

/// The home-delivery carrier: a `carrier:<id>` service, else the setting
/// `home_delivery_carriers` (`CZ:106, SK:131`) for the recipient's country.
fn home_carrier(
    services: &[String],
    configured: &str,
    country: Option<&str>,
) -> Result<String, ConnectorError> {
    if let Some(id) = services
        .iter()
        .find_map(|service| service.trim().strip_prefix("carrier:"))
    {
        return Ok(id.trim().to_owned());
    }
    if let Some(country) = country
        && let Some((_, id)) = configured_home_carriers(configured)
            .into_iter()
            .find(|(code, _)| code == country)
    {
        return Ok(id);
    }
    Err(ConnectorError::invalid_field(
        "pickup-point",
        format!(
            "Packeta needs a pickup point, or for home delivery a carrier: add the service \
             `carrier:<id>` or set `home_delivery_carriers` for {}",
            country.unwrap_or("the recipient's country")
        ),
    ))
}

/// Street and house number, split from the first address line when not given apart.
fn street_and_number(
    recipient: &tovor_sdk::types::Address,
) -> Result<(String, String), ConnectorError> {
    if let (Some(street), Some(number)) = (
        non_blank(&recipient.street),
        non_blank(&recipient.house_number),
    ) {
        return Ok((street.to_owned(), number.to_owned()));
    }
    let line = non_blank(&recipient.line1).or(non_blank(&recipient.street));
    line.and_then(rules::split_street).ok_or_else(|| {
        ConnectorError::invalid_field(
            "recipient.house-number",
            format!(
                "Packeta home delivery needs the house number apart from the street; cannot \
                 find one in {:?}",
                line.unwrap_or("")
            ),
        )
    })
}

/// The parcel's weight in kilograms. A Packeta packet is one parcel.
fn weight_kg(request: &ShipmentRequest) -> Result<String, ConnectorError> {
    match request.parcels.as_slice() {
        [parcel] if parcel.weight_grams > 0 => Ok(money::format_decimal(
            Decimal::new(i64::from(parcel.weight_grams), 3).normalize(),
        )),
        [_] => Err(ConnectorError::invalid_field(
            "parcels",
            "Packeta needs the parcel's weight",
        )),
        parcels => Err(ConnectorError::invalid_field(
            "parcels",
            format!(
                "a Packeta packet is exactly one parcel; create one shipment per parcel (got {})",
                parcels.len()
            ),
        )),
    }
}

/// Packeta's numeric packet id from a packet id or barcode (`1234567890`, `Z1234567890`,
/// `Z 123 4567 890`).
pub fn packet_id(text: &str, field: &str) -> Result<String, ConnectorError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact.strip_prefix(['Z', 'z']).unwrap_or(compact.as_str());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::invalid_field(
            field,
            format!("{text:?} is not a Packeta packet id or barcode"),
        ));
    }
    Ok(digits.to_owned())
}

/// Decodes the base64 PDF of a label answer.
pub fn decode_pdf(encoded: &str) -> Result<Vec<u8>, ConnectorError> {
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|error| {
            ConnectorError::other(format!("Packeta's label is not valid base64: {error}"))
        })?;
    if !pdf.starts_with(b"%PDF") {
        return Err(ConnectorError::other("Packeta's label answer is not a PDF"));
    }
    Ok(pdf)
}

/// Status records as tracking events, oldest first, with Packeta's code and text.
pub fn tracking_events(records: StatusRecords) -> Result<Vec<TrackingEvent>, ConnectorError> {
    let mut events = records
        .record
        .into_iter()
        .map(|record| {
            let code = record.status_code.trim().to_owned();
            let status = code
                .parse::<i64>()
                .map(rules::map_status)
                .unwrap_or(ShipmentStatus::Unknown);
            let raw_text = record
                .status_text
                .filter(|t| !t.trim().is_empty())
                .or(record.code_text)
                .unwrap_or_default();
            Ok(TrackingEvent {
                at: Timestamp::from(rules::prague_to_utc(&record.date_time)?),
                status,
                raw_code: code,
                raw_text: raw_text.trim().to_owned(),
                location: None,
            })
        })
        .collect::<Result<Vec<_>, ConnectorError>>()?;
    // Stable: records of the same second keep Packeta's order.
    events.sort_by_key(|event| (event.at.seconds, event.at.nanoseconds));
    Ok(events)
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

tovor_sdk::export_carrier!(
    Packeta: shipments,
    labels,
    tracking,
    cancellation,
    pickup_points,
    services,
    connection
);

#[cfg(test)]
mod tests;
