//! The GLS carrier connector over the MyGLS JSON API
//! (`https://api.mygls.{hu,hr,cz,ro,si,sk,rs}/ParcelService.svc/json/{Method}`), on
//! contract 0.2.
//!
//! | capability: operation | MyGLS method |
//! |---|---|
//! | `shipments`: `create_shipments` | `PrintLabels`, one per shipment, sent together |
//! | `labels`: `get_labels` | `GetPrintedLabels` (at most 99 parcels) |
//! | `tracking`: `track` | `GetParcelStatuses`, one per parcel number, sent together |
//! | `cancellation`: `cancel_shipments` | `DeleteLabels` (at most 50 parcels per call) |
//! | `lookup`: `find_shipments` | `GetParcelList` (by print date) filtered by `ClientReference` |
//! | `services`: `list_services` | the service list of the MyGLS documentation |
//! | `connection`: `check_connection` | `GetParcelList` over the last minute |
//!
//! No `pickup-points`: the MyGLS API has no ParcelShop search (a ParcelShop id for `PSD`
//! comes from GLS's map widget or its public ParcelShop files, outside this API).
//!
//! Every request is a `POST` whose JSON body carries `Username`, `Password` (the SHA-512
//! digest bytes as a JSON array of numbers), `ClientNumberList` (not on `DeleteLabels`)
//! and `WebshopEngine`. Business errors come with HTTP 200 in a per-method error list.
//!
//! Why one `PrintLabels` per shipment although its `ParcelList` takes many parcels: it
//! creates the parcel and returns its ids and label in one call, and one document per
//! call is the only way to know which label belongs to which shipment (an A4 sheet
//! holds the labels of four parcels). Creating without labels (`PrepareLabels`) and
//! fetching them afterwards is no way out: `PrepareLabels` returns no `ParcelNumber`
//! (needed for tracking), and GLS may refuse to render a label a second time (error 18).
//! A create is never retried (a retry creates a second real parcel); one that timed out
//! is reconciled by reference through `lookup`. The calls of one batch go out together
//! ([`http::send_many`]), so a batch takes as long as its slowest parcel.
//!
//! Shipment id: the `ParcelId`s of the shipment's pieces, comma-separated (the first
//! owns the others: deleting it deletes all). Tracking numbers: the `ParcelNumber`s.

pub mod mygls;

use serde_json::{Map, Value, json};
use tovor_sdk::carrier::{
    Cancellation, Connection, ConnectionInfo, CreatedShipment, Label, LabelFormat, Labels, Lookup,
    PaperSize, Service, Services, ShipmentRequest, Shipments, ShippingLimits, Tracking,
    TrackingResult,
};
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{ConnectorError, ErrorKind, Timestamp};
use tovor_sdk::{API_BASE, Config};

use mygls::{ErrorInfo, PrinterType};

/// Shipments per `create_shipments` call. MyGLS documents no maximum for
/// `PrintLabels`; each shipment is its own request here, all sent at once, so the bound
/// is what one call's budget (`timeout_ms` in plugin.toml, four times the default
/// request timeout) and GLS's patience take: twenty requests in flight.
pub const CREATE_BATCH: u32 = 20;
/// `GetPrintedLabels` takes at most 99 parcel ids.
const LABEL_BATCH: usize = 99;
/// `DeleteLabels` takes at most 50 parcel ids.
const DELETE_BATCH: usize = 50;
/// `GetParcelStatuses` requests in flight at once; more tracking numbers go in waves.
const TRACK_WAVE: usize = 25;
const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// The connector. It holds no state: each call gets the account's [`Config`].
pub struct Gls;

/// The account settings, read once per call.
struct Account {
    base: String,
    country: String,
    username: String,
    password: String,
    client_number: i64,
    printer_type: PrinterType,
    timeout_ms: u32,
    /// Whether `api_base` replaced the country's MyGLS address (names the field to fix).
    custom_base: bool,
}

impl Account {
    fn from_config(config: &Config) -> Result<Self, ConnectorError> {
        let country = mygls::country(config.require("country")?)?;
        let printer_type = mygls::printer_type_named(
            config
                .text("printer_type")
                .unwrap_or(mygls::PRINTER_TYPES[0].name),
            "printer_type",
        )?;
        let timeout = config.integer_or("request_timeout_ms", i64::from(DEFAULT_TIMEOUT_MS))?;
        let timeout_ms = u32::try_from(timeout).map_err(|_| {
            ConnectorError::invalid_field(
                "request_timeout_ms",
                format!("{timeout} is not a timeout in milliseconds"),
            )
        })?;
        Ok(Self {
            base: config.api_base_or(&mygls::default_api_base(&country)),
            custom_base: config.text(API_BASE).is_some(),
            country,
            username: config.require("username")?.trim().to_owned(),
            password: config.require("password")?.to_owned(),
            client_number: config.require_integer("client_number")?,
            printer_type,
            timeout_ms,
        })
    }

    /// The `POST` of one method, authenticated.
    fn request(&self, method: &str, fields: Value) -> Request {
        // DeleteLabels must not carry ClientNumberList (MyGLS changelog 21.10.2019).
        let client = (method != "DeleteLabels").then_some(self.client_number);
        let mut body: Map<String, Value> =
            mygls::auth_fields(&self.username, &self.password, client);
        if let Value::Object(fields) = fields {
            body.extend(fields);
        }
        Request::post(format!("{}/ParcelService.svc/json/{method}", self.base))
            .header("Accept", "application/json")
            .json(&Value::Object(body))
            .timeout_ms(self.timeout_ms)
    }

    /// Sends one method and returns the JSON body.
    fn call(&self, method: &str, fields: Value) -> Result<Value, ConnectorError> {
        read_body(self.request(method, fields).send())
    }

    /// The setting to correct when the MyGLS address is wrong.
    fn address_field(&self) -> &'static str {
        if self.custom_base {
            API_BASE
        } else {
            "country"
        }
    }
}

/// The JSON body of an answer; HTTP failures typed by status (401 `auth`, 404
/// `not-found`, 5xx `transient`, ...).
fn read_body(sent: Result<Response, ConnectorError>) -> Result<Value, ConnectorError> {
    sent?.error_for_status()?.json()
}

impl Shipments for Gls {
    fn limits() -> ShippingLimits {
        ShippingLimits {
            max_batch: CREATE_BATCH,
            cod_currencies: mygls::cod_currencies(),
        }
    }

    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        let pickup_date = mygls::wcf_date(time::now());
        let mut results: Vec<Option<Result<CreatedShipment, ConnectorError>>> =
            requests.iter().map(|_| None).collect();
        // Shipments GLS would refuse are answered without a request.
        let mut outgoing = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            match mygls::parcel_json(request, account.client_number, &pickup_date) {
                Ok(parcel) => outgoing.push((index, print_labels(&account, parcel))),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        let (indices, calls): (Vec<usize>, Vec<Request>) = outgoing.into_iter().unzip();
        for (index, sent) in indices.into_iter().zip(http::send_many(calls)) {
            let reference = &requests[index].reference;
            let created = read_body(sent)
                .and_then(|body| created_from_print_labels(reference, &body, account.printer_type));
            results[index] = Some(created);
        }
        let results: Vec<_> = results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| Err(ConnectorError::other("the shipment was not handled")))
            })
            .collect();
        // Refused credentials refuse every shipment: say it once, for the whole batch.
        if results.iter().all(Result::is_err)
            && let Some(Err(auth)) = results.iter().find(|r| is_kind(r, ErrorKind::Auth))
        {
            return Err(auth.clone());
        }
        Ok(results)
    }
}

fn is_kind<T>(result: &Result<T, ConnectorError>, kind: ErrorKind) -> bool {
    matches!(result, Err(error) if error.kind == kind)
}

/// One `PrintLabels` call for one shipment's parcel.
fn print_labels(account: &Account, parcel: Value) -> Request {
    account.request(
        "PrintLabels",
        json!({
            "ParcelList": [parcel],
            "TypeOfPrinter": account.printer_type.name,
            "PrintPosition": 1,
            "ShowPrintDialog": false,
        }),
    )
}

/// Maps a `PrintLabels` answer for one parcel: the infos carrying our reference, or the
/// error naming it (or naming nothing).
pub fn created_from_print_labels(
    reference: &str,
    body: &Value,
    printer: PrinterType,
) -> Result<CreatedShipment, ConnectorError> {
    let errors = mygls::error_list(body, "PrintLabelsErrorList")?;
    if let Some(error) = mygls::request_error(&errors) {
        return Err(error);
    }
    let infos: Vec<mygls::ParcelInfo> = mygls::parcel_infos(body, "PrintLabelsInfoList")?
        .into_iter()
        .filter(|info| {
            info.client_reference
                .as_deref()
                .is_none_or(|r| r.trim() == reference.trim())
        })
        .collect();
    if infos.is_empty() {
        let error = errors
            .iter()
            .find(|e| e.references().iter().any(|r| r == reference))
            .or_else(|| errors.first());
        return Err(match error {
            Some(error) => error.to_error(),
            None => {
                ConnectorError::other("GLS answered PrintLabels with neither a parcel nor an error")
            }
        });
    }
    let data = mygls::bytes_field(body, "Labels")?;
    Ok(CreatedShipment {
        reference: reference.to_owned(),
        shipment_id: mygls::shipment_id(&infos.iter().map(|i| i.parcel_id).collect::<Vec<_>>()),
        tracking_numbers: infos
            .iter()
            .filter_map(|i| i.parcel_number)
            .map(|n| n.to_string())
            .collect(),
        label: (!data.is_empty()).then(|| Label {
            content_type: printer.content_type.to_owned(),
            data,
        }),
        created_at: Some(Timestamp::now()),
    })
}

impl Labels for Gls {
    fn label_formats() -> Vec<LabelFormat> {
        mygls::label_formats()
    }

    fn get_labels(
        config: &Config,
        shipment_ids: Vec<String>,
        size: PaperSize,
    ) -> Result<Label, ConnectorError> {
        let account = Account::from_config(config)?;
        let printer = mygls::printer_for(size, account.printer_type)?;
        let mut ids = Vec::new();
        for id in &shipment_ids {
            ids.extend(mygls::parse_shipment_id(id)?);
        }
        if ids.is_empty() {
            return Err(ConnectorError::invalid_field(
                "shipment-ids",
                "no shipments given",
            ));
        }
        if ids.len() > LABEL_BATCH {
            return Err(ConnectorError::invalid_field(
                "shipment-ids",
                format!(
                    "GLS prints at most {LABEL_BATCH} parcels per document, got {}",
                    ids.len()
                ),
            ));
        }
        let body = account.call(
            "GetPrintedLabels",
            json!({
                "ParcelIdList": ids,
                "TypeOfPrinter": printer.name,
                "PrintPosition": 1,
                "ShowPrintDialog": false,
            }),
        )?;
        let errors = mygls::error_list(&body, "GetPrintedLabelsErrorList")?;
        if let Some(error) = errors.first() {
            let described = error.to_error();
            return Err(match error.error_code {
                18 => ConnectorError {
                    kind: ErrorKind::Other,
                    message: format!(
                        "{}: GLS issues a parcel's label only once; use the label returned \
                         when the shipment was created",
                        error
                            .error_description
                            .as_deref()
                            .unwrap_or("label already generated")
                    ),
                    ..described
                },
                6 => ConnectorError {
                    message: format!(
                        "GLS error 6: parcel {:?} is deleted or already scanned",
                        error.parcel_ids()
                    ),
                    ..described
                },
                _ => described,
            });
        }
        let data = mygls::bytes_field(&body, "Labels")?;
        if data.is_empty() {
            return Err(ConnectorError::other("GLS returned no label"));
        }
        Ok(Label {
            content_type: printer.content_type.to_owned(),
            data,
        })
    }
}

impl Tracking for Gls {
    fn track(
        config: &Config,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        let language = mygls::language(&account.country);
        let mut results: Vec<Option<Result<TrackingResult, ConnectorError>>> =
            tracking_numbers.iter().map(|_| None).collect();
        let mut outgoing = Vec::new();
        for (index, number) in tracking_numbers.iter().enumerate() {
            match number.trim().parse::<i64>() {
                Ok(parcel_number) => outgoing.push((
                    index,
                    account.request(
                        "GetParcelStatuses",
                        json!({
                            "ParcelNumber": parcel_number,
                            "ReturnPOD": false,
                            "LanguageIsoCode": language,
                        }),
                    ),
                )),
                Err(_) => {
                    results[index] = Some(Err(ConnectorError::invalid_field(
                        "tracking-numbers",
                        format!("{number:?} is not a GLS parcel number"),
                    )));
                }
            }
        }
        // GetParcelStatuses takes one parcel; the requests of a wave go out together.
        let mut outgoing = outgoing.into_iter().peekable();
        while outgoing.peek().is_some() {
            let (indices, calls): (Vec<usize>, Vec<Request>) =
                outgoing.by_ref().take(TRACK_WAVE).unzip();
            for (index, sent) in indices.into_iter().zip(http::send_many(calls)) {
                let tracked = read_body(sent).and_then(|body| parcel_statuses(&body));
                if let Err(error) = &tracked
                    && error.kind == ErrorKind::Auth
                {
                    return Err(error.clone());
                }
                let number = tracking_numbers[index].clone();
                results[index] = Some(tracked.map(|events| TrackingResult {
                    tracking_number: number,
                    events,
                }));
            }
        }
        Ok(results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| Err(ConnectorError::other("the number was not tracked")))
            })
            .collect())
    }
}

/// The events of a `GetParcelStatuses` answer, or its first error.
fn parcel_statuses(body: &Value) -> Result<Vec<tovor_sdk::carrier::TrackingEvent>, ConnectorError> {
    let errors = mygls::error_list(body, "GetParcelStatusErrors")?;
    if let Some(error) = errors.first() {
        return Err(error.to_error());
    }
    mygls::tracking_events(body)
}

impl Cancellation for Gls {
    fn cancel_shipments(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        // Deleting the first ParcelId of a shipment deletes all its pieces.
        let mains: Vec<Result<i64, ConnectorError>> = shipment_ids
            .iter()
            .map(|id| {
                mygls::parse_shipment_id(id)?
                    .first()
                    .copied()
                    .ok_or_else(|| {
                        ConnectorError::invalid_field(
                            "shipment-ids",
                            format!("{id:?} has no ParcelId"),
                        )
                    })
            })
            .collect();
        let valid: Vec<i64> = mains
            .iter()
            .filter_map(|m| m.as_ref().ok().copied())
            .collect();
        let mut deleted: Vec<i64> = Vec::new();
        let mut errors: Vec<ErrorInfo> = Vec::new();
        for chunk in valid.chunks(DELETE_BATCH) {
            let body = account.call("DeleteLabels", json!({ "ParcelIdList": chunk }))?;
            let chunk_errors = mygls::error_list(&body, "DeleteLabelsErrorList")?;
            if let Some(error) = mygls::request_error(&chunk_errors) {
                return Err(error);
            }
            errors.extend(chunk_errors);
            for done in mygls::parcel_infos(&body, "SuccessfullyDeletedList")? {
                deleted.push(done.parcel_id);
            }
        }
        Ok(mains
            .into_iter()
            .map(|main| {
                let id = main?;
                if deleted.contains(&id) {
                    return Ok(());
                }
                match errors.iter().find(|e| e.parcel_ids().contains(&id)) {
                    // Error 6 means "not PRINTED": handed to GLS already, or deleted.
                    Some(error) if error.error_code == 6 => Err(ConnectorError {
                        kind: ErrorKind::Conflict,
                        message: format!(
                            "GLS error 6: parcel {id} was already handed to GLS (scanned) or \
                             already deleted: {}",
                            error.error_description.as_deref().unwrap_or("")
                        ),
                        ..error.to_error()
                    }),
                    Some(error) => Err(error.to_error()),
                    None => Err(match errors.first() {
                        Some(error) => error.to_error(),
                        None => ConnectorError::other(format!("GLS did not report on parcel {id}")),
                    }),
                }
            })
            .collect())
    }
}

impl Lookup for Gls {
    fn find_shipments(
        config: &Config,
        reference: String,
        created_since: OffsetDateTime,
    ) -> Result<Vec<CreatedShipment>, ConnectorError> {
        let account = Account::from_config(config)?;
        // A day of slack both ways: GLS's print date may be kept in local time.
        let slack = std::time::Duration::from_secs(86_400);
        let body = account.call(
            "GetParcelList",
            json!({
                "PrintDateFrom": mygls::wcf_date(created_since - slack),
                "PrintDateTo": mygls::wcf_date(time::now() + slack),
                "PickupDateFrom": null,
                "PickupDateTo": null,
            }),
        )?;
        let errors = mygls::error_list(&body, "GetParcelListErrors")?;
        if let Some(error) = errors.first() {
            return Err(error.to_error());
        }
        let infos = mygls::parcel_infos(&body, "PrintDataInfoList")?;
        Ok(group_found(&reference, infos))
    }
}

/// Groups the pieces carrying `reference` into shipments: in `ParcelId` order, a
/// Parcel with `Count = n` owns n consecutive pieces.
fn group_found(reference: &str, infos: Vec<mygls::ParcelInfo>) -> Vec<CreatedShipment> {
    let mut pieces: Vec<mygls::ParcelInfo> = infos
        .into_iter()
        .filter(|info| info.client_reference.as_deref().map(str::trim) == Some(reference.trim()))
        .collect();
    pieces.sort_by_key(|info| info.parcel_id);
    let mut shipments = Vec::new();
    let mut rest = pieces.as_slice();
    while let Some(first) = rest.first() {
        let count = first
            .parcel
            .as_ref()
            .and_then(|p| p.get("Count"))
            .and_then(Value::as_u64)
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(1)
            .clamp(1, rest.len());
        let (group, tail) = rest.split_at(count);
        rest = tail;
        shipments.push(CreatedShipment {
            reference: reference.to_owned(),
            shipment_id: mygls::shipment_id(&group.iter().map(|p| p.parcel_id).collect::<Vec<_>>()),
            tracking_numbers: group
                .iter()
                .filter_map(|p| p.parcel_number)
                .map(|n| n.to_string())
                .collect(),
            label: None,
            created_at: None,
        });
    }
    shipments
}

impl Services for Gls {
    fn list_services(config: &Config) -> Result<Vec<Service>, ConnectorError> {
        // Services differ by country (SRS is Hungarian and Slovenian only); without a
        // valid country every service is offered.
        let country = config
            .text("country")
            .and_then(|country| mygls::country(country).ok());
        Ok(mygls::services_for(country.as_deref()))
    }
}

impl Connection for Gls {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        let account = Account::from_config(config)?;
        // MyGLS has no "who am I": a parcel list over the last minute is the cheapest
        // call that checks the login, the password and the client number together.
        let now = time::now();
        let sent = account
            .request(
                "GetParcelList",
                json!({
                    "PrintDateFrom": mygls::wcf_date(now - std::time::Duration::from_secs(60)),
                    "PrintDateTo": mygls::wcf_date(now),
                    "PickupDateFrom": null,
                    "PickupDateTo": null,
                }),
            )
            .send()
            // Nothing answered: say where we tried; the kind says whether to retry.
            .map_err(|error| error.context(format!("MyGLS at {}", account.base)))?;
        let body: Value = match sent.error() {
            Some(error) if matches!(error.kind, ErrorKind::NotFound | ErrorKind::InvalidInput) => {
                return Err(wrong_address(error, &account));
            }
            Some(error) => return Err(error),
            None => sent
                .json()
                .map_err(|error| wrong_address(error, &account))?,
        };
        let errors = mygls::error_list(&body, "GetParcelListErrors")
            .map_err(|error| wrong_address(error, &account))?;
        if let Some(error) = errors.first() {
            return Err(error.to_error());
        }
        Ok(ConnectionInfo::account(format!(
            "{} (client number {}, MyGLS {})",
            account.username, account.client_number, account.country
        )))
    }
}

/// The answer did not come from a MyGLS API: the address (country or `api_base`) is wrong.
fn wrong_address(error: ConnectorError, account: &Account) -> ConnectorError {
    ConnectorError {
        kind: ErrorKind::InvalidInput,
        field: Some(account.address_field().to_owned()),
        message: format!(
            "{} does not answer like the MyGLS API; check the {}: {}",
            account.base,
            account.address_field(),
            error.message
        ),
        ..error
    }
}

tovor_sdk::export_carrier!(Gls: shipments, labels, tracking, cancellation, lookup, services, connection);
