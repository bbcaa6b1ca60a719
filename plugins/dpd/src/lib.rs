//! The DPD carrier connector for Slovenia and Croatia, over the DPD EasyShip API
//! (`https://easyship.si/api/`, `https://easyship.hr/api/`), on contract 0.2.1.
//!
//! | capability: operation | EasyShip method |
//! |---|---|
//! | `shipments`: `create_shipments` | `parcel/parcel_import`, one per shipment, sent together |
//! | `labels`: `get_labels` | `parcel/parcel_print` (all the shipments' parcel numbers) |
//! | `tracking`: `track` | `parcel/parcel_status`, one per parcel number, with the tracking key |
//! | `cancellation`: `cancel_shipments` | `parcel/parcel_delete`, and `parcel/parcel_cancel` when DPD refuses to delete a printed parcel |
//! | `handover`: `hand_over` | `parcel/parcel_manifest_print` for the day (`manifest` or `manifest_cod`) |
//! | `services`: `list_services` | DPD Classic / DPD Home per shipment, ID check |
//! | `connection`: `check_connection` | the manifest of 2000-01-01, which creates nothing |
//!
//! Every call is a `POST` with an empty body and every parameter in the query string,
//! `username` and `password` included (EasyShip knows no other way). Requests are never
//! logged here, and the SDK's error messages carry the address without its query; the
//! host redacts the secret settings from whatever else it logs. Business errors come
//! with HTTP 200 as `{"status":"err","errlog":"..."}` ([`easyship::business_error`]).
//!
//! No `lookup`: EasyShip cannot find a parcel by order number, so a `parcel_import`
//! whose answer never came is not repeated (that could create a second parcel) and
//! waits for a person to look in the EasyShip web app.
//!
//! Labels: EasyShip prints a parcel's label once; asked again it refuses, in its web
//! app too. The host keeps the first label it receives, so nothing here prints twice;
//! the layout is the one set in the EasyShip account (there is no format parameter).
//!
//! Tracking: `parcel_status` answers one status text per parcel, without a time. The
//! event's time is when the connector first saw that text (kept in the account's
//! connector state until the parcel is delivered or cancelled), so polling an unchanged
//! status records nothing new.

pub mod easyship;

use tovor_sdk::carrier::{
    Cancellation, Connection, ConnectionInfo, CreatedShipment, Handover, HandoverReceipt,
    HandoverShipment, Label, LabelFormat, Labels, PaperSize, Service, Services, ShipmentRequest,
    Shipments, ShippingLimits, Tracking, TrackingEvent, TrackingResult,
};
use tovor_sdk::http::{self, Request, Response};
use tovor_sdk::types::{ConnectorError, ErrorKind, Timestamp};
use tovor_sdk::{API_BASE, Config, log, state, time};

use easyship::{Answer, Method, Seen};

/// Shipments per `create_shipments` call: one `parcel_import` each, sent together, so
/// ten take one request's time, well inside the call budget (`timeout_ms` in
/// plugin.toml) even when EasyShip is as slow as the request timeout allows.
pub const CREATE_BATCH: u32 = 10;
/// Requests in flight at once for tracking and cancelling; more go in waves.
const WAVE: usize = 25;
const DEFAULT_TIMEOUT_MS: u32 = 30_000;
/// What a label and a manifest are.
const PDF: &str = "application/pdf";
/// The date whose manifest a connection check asks for: no account has parcels then.
const CHECK_DATE: &str = "2000-01-01";
/// A parcel number no parcel has, for checking the tracking key.
const CHECK_PARCEL: &str = "00000000000000";

/// The connector. What it remembers between calls lives in the host's connector state.
pub struct Dpd;

/// The account settings, read once per call.
struct Account {
    base: String,
    country: &'static str,
    username: String,
    password: String,
    tracking_secret: Option<String>,
    settings: easyship::Settings,
    manifest_type: &'static str,
    timeout_ms: u32,
    /// Whether `api_base` replaced the country's EasyShip address (names the field to fix).
    custom_base: bool,
}

impl Account {
    fn from_config(config: &Config) -> Result<Self, ConnectorError> {
        let country = easyship::country(config.require("country")?)?;
        let timeout = config.integer_or("request_timeout_ms", i64::from(DEFAULT_TIMEOUT_MS))?;
        let timeout_ms = u32::try_from(timeout).map_err(|_| {
            ConnectorError::invalid_field(
                "request_timeout_ms",
                format!("{timeout} is not a timeout in milliseconds"),
            )
        })?;
        let manifest_type = match config.text("manifest_type").map(str::trim) {
            None | Some("manifest") => "manifest",
            Some("manifest_cod") => "manifest_cod",
            Some(other) => {
                return Err(ConnectorError::invalid_field(
                    "manifest_type",
                    format!("{other:?} is neither manifest nor manifest_cod"),
                ));
            }
        };
        Ok(Self {
            base: config.api_base_or(easyship::default_api_base(country)),
            custom_base: config.text(API_BASE).is_some(),
            country,
            username: config.require("username")?.trim().to_owned(),
            password: config.require("password")?.to_owned(),
            tracking_secret: config.text("tracking_secret").map(|s| s.trim().to_owned()),
            settings: easyship::Settings::from_values(
                config.text("company_parcels"),
                config.text("cod_split"),
            )?,
            manifest_type,
            timeout_ms,
        })
    }

    /// The `POST` of one method with the login and `params` in the query and an empty
    /// body (sent as an empty form, as the integrations do).
    fn request(&self, method: Method, params: &[(&str, String)]) -> Request {
        Request::post(format!("{}/parcel/{}", self.base, method.path()))
            .query(&[
                ("username", self.username.as_str()),
                ("password", self.password.as_str()),
            ])
            .query(params)
            .body(Vec::new(), "application/x-www-form-urlencoded")
            .header("Accept", "application/json, application/pdf")
            .timeout_ms(self.timeout_ms)
    }

    /// `parcel_status` of one parcel: the tracking key instead of the login.
    fn status_request(&self, secret: &str, parcel_number: &str) -> Request {
        Request::post(format!("{}/parcel/{}", self.base, Method::Status.path()))
            .query(&[("secret", secret), ("parcel_number", parcel_number)])
            .body(Vec::new(), "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .timeout_ms(self.timeout_ms)
    }

    /// The setting to correct when the EasyShip address is wrong.
    fn address_field(&self) -> &'static str {
        if self.custom_base {
            API_BASE
        } else {
            "country"
        }
    }
}

/// The JSON answer of a method; HTTP failures typed by status (401 `auth`, 5xx
/// `transient`, ...), `status: err` typed by [`easyship::business_error`].
fn answer(
    sent: Result<Response, ConnectorError>,
    method: Method,
) -> Result<Answer, ConnectorError> {
    let response = sent?.error_for_status()?;
    easyship::parse_answer(&response.body, method)
}

/// The PDF of a printing method: EasyShip answers `application/pdf` on success and its
/// JSON envelope on failure, so the content type decides.
fn pdf(sent: Result<Response, ConnectorError>, method: Method) -> Result<Vec<u8>, ConnectorError> {
    let response = sent?.error_for_status()?;
    let content_type = response
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let says_pdf = content_type.starts_with(PDF);
    if says_pdf || (!content_type.contains("json") && response.body.starts_with(b"%PDF")) {
        if !response.body.starts_with(b"%PDF") {
            return Err(ConnectorError::other(format!(
                "DPD EasyShip answered {} with a PDF that is not one: {}",
                method.path(),
                easyship::snippet(&response.body)
            )));
        }
        return Ok(response.body);
    }
    easyship::parse_answer(&response.body, method)?;
    Err(ConnectorError::other(format!(
        "DPD EasyShip answered {} with ok but without a PDF",
        method.path()
    )))
}

/// Runs `calls` (index, request) in waves of [`WAVE`] sent together, handing each
/// answer to `answer` with its index; stops at the first `Err` it returns.
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

impl Shipments for Dpd {
    fn limits() -> ShippingLimits {
        ShippingLimits {
            max_batch: CREATE_BATCH,
            cod_currencies: easyship::cod_currencies(),
        }
    }

    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        let mut results: Vec<Option<Result<CreatedShipment, ConnectorError>>> =
            requests.iter().map(|_| None).collect();
        // Parcels EasyShip would refuse are answered without a request.
        let mut calls = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            match easyship::import_params(request, account.settings) {
                Ok(params) => calls.push((index, account.request(Method::Import, &params))),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        // Each import is sent once: a retry after a lost answer could create a second
        // parcel, and EasyShip cannot be asked whether the first one exists.
        let (indices, calls): (Vec<usize>, Vec<Request>) = calls.into_iter().unzip();
        for (index, sent) in indices.into_iter().zip(http::send_many(calls)) {
            let reference = &requests[index].reference;
            results[index] = Some(
                answer(sent, Method::Import)
                    .and_then(|answer| easyship::created(reference, &answer)),
            );
        }
        let results = complete(results);
        // A refused login refuses every parcel: say it once, for the whole batch.
        if results.iter().all(Result::is_err)
            && let Some(Err(auth)) = results
                .iter()
                .find(|result| matches!(result, Err(error) if easyship::is_auth(error)))
        {
            return Err(auth.clone());
        }
        Ok(results)
    }
}

impl Labels for Dpd {
    fn label_formats() -> Vec<LabelFormat> {
        vec![LabelFormat {
            size: PaperSize::A6,
            carrier_name: "EasyShip PDF".to_owned(),
            content_type: PDF.to_owned(),
        }]
    }

    fn get_labels(
        config: &Config,
        shipment_ids: Vec<String>,
        _size: PaperSize,
    ) -> Result<Label, ConnectorError> {
        // EasyShip has no layout parameter, and refusing a paper size would not make a
        // second print possible: the label comes as the account prints it.
        let account = Account::from_config(config)?;
        let mut numbers = Vec::new();
        for id in &shipment_ids {
            numbers.extend(easyship::parse_shipment_id(id)?);
        }
        if numbers.is_empty() {
            return Err(ConnectorError::invalid_field(
                "shipment-ids",
                "no shipment to print a label for",
            ));
        }
        let sent = account
            .request(Method::Print, &[("parcels", numbers.join(","))])
            .send();
        let data = pdf(sent, Method::Print).map_err(|error| match error.kind {
            ErrorKind::Conflict => error.context(
                "DPD prints a parcel's label only once (the label may have been printed \
                 before, here or in the EasyShip web app)",
            ),
            _ => error,
        })?;
        Ok(Label {
            content_type: PDF.to_owned(),
            data,
        })
    }
}

impl Tracking for Dpd {
    fn track(
        config: &Config,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        let secret = account.tracking_secret.clone().ok_or_else(|| {
            ConnectorError::invalid_field(
                "tracking_secret",
                "DPD's parcel_status needs the tracking key (a secret DPD issues apart from \
                 the login): ask DPD for it and enter it in the connection's settings",
            )
        })?;
        let mut results: Vec<Option<Result<TrackingResult, ConnectorError>>> =
            tracking_numbers.iter().map(|_| None).collect();
        let mut calls = Vec::new();
        for (index, number) in tracking_numbers.iter().enumerate() {
            match easyship::parse_parcel_number(number) {
                Ok(number) => calls.push((index, account.status_request(&secret, &number))),
                Err(error) => results[index] = Some(Err(error)),
            }
        }
        in_waves(calls, |index, sent| {
            let number = tracking_numbers[index].trim().to_owned();
            let tracked = answer(sent, Method::Status).and_then(|answer| {
                let text = status_text(&answer).ok_or_else(|| {
                    ConnectorError::not_found(format!("DPD has no status for parcel {number} yet"))
                })?;
                Ok(TrackingResult {
                    tracking_number: number.clone(),
                    events: vec![remembered_event(&number, &text)],
                })
            });
            // A refused tracking key refuses every parcel.
            if let Err(error) = &tracked
                && easyship::is_auth(error)
            {
                return Err(error.clone());
            }
            results[index] = Some(tracked);
            Ok(())
        })?;
        Ok(complete(results))
    }
}

/// `parcel_status` as text; `None` when blank.
fn status_text(answer: &Answer) -> Option<String> {
    let text = match answer.parcel_status.as_ref()? {
        serde_json::Value::String(text) => text.trim().to_owned(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

fn state_key(parcel_number: &str) -> String {
    format!("status:{parcel_number}")
}

/// The event of a status text, dated when the connector first saw the text. Without a
/// working state store it is dated at the start of the day (UTC), so repeated polls add
/// at most one event a day instead of one each.
fn remembered_event(parcel_number: &str, text: &str) -> TrackingEvent {
    let key = state_key(parcel_number);
    let now = time::now();
    let seen = state::get_json::<Seen>(&key).unwrap_or_else(|error| {
        log::warn!(
            "cannot read what was seen of parcel {parcel_number}: {}",
            error.message
        );
        None
    });
    let (mut event, remember) = easyship::status_event(text, seen.as_ref(), now);
    let stored = if easyship::is_final(event.status) {
        // Nothing follows a final status: forget the parcel, keep the state small.
        state::delete(&key)
    } else if let Some(remember) = remember {
        state::set_json(&key, &remember)
    } else {
        Ok(())
    };
    if let Err(error) = stored {
        log::warn!(
            "cannot remember the status of parcel {parcel_number}: {}",
            error.message
        );
        if seen.is_none() || event.at.seconds == now.unix_timestamp() {
            event.at = start_of_day(now);
        }
    }
    event
}

fn start_of_day(now: time::OffsetDateTime) -> Timestamp {
    let seconds = now.unix_timestamp();
    Timestamp {
        seconds: seconds - seconds.rem_euclid(86_400),
        nanoseconds: 0,
    }
}

/// Forgets what was seen of parcels that are gone.
fn forget(numbers: &[String]) {
    for number in numbers {
        if let Err(error) = state::delete(&state_key(number)) {
            log::warn!("cannot forget parcel {number}: {}", error.message);
        }
    }
}

impl Cancellation for Dpd {
    fn cancel_shipments(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        let parsed: Vec<Result<Vec<String>, ConnectorError>> = shipment_ids
            .iter()
            .map(|id| easyship::parse_shipment_id(id))
            .collect();
        let mut results: Vec<Option<Result<(), ConnectorError>>> =
            shipment_ids.iter().map(|_| None).collect();
        let parcels = |numbers: &Vec<String>| vec![("parcels", numbers.join(","))];

        // Deleting works until the label is printed; after that DPD cancels instead.
        let mut deletes = Vec::new();
        for (index, numbers) in parsed.iter().enumerate() {
            match numbers {
                Ok(numbers) => {
                    deletes.push((index, account.request(Method::Delete, &parcels(numbers))));
                }
                Err(error) => results[index] = Some(Err(error.clone())),
            }
        }
        let mut refused_delete: Vec<(usize, ConnectorError)> = Vec::new();
        in_waves(deletes, |index, sent| {
            match answer(sent, Method::Delete) {
                Ok(_) => results[index] = Some(Ok(())),
                Err(error) if easyship::is_auth(&error) => return Err(error),
                Err(error) if easyship::is_business(&error) => refused_delete.push((index, error)),
                Err(error) => results[index] = Some(Err(error)),
            }
            Ok(())
        })?;

        let mut cancels = Vec::new();
        let mut delete_errors = Vec::new();
        for (index, error) in refused_delete {
            if let Some(Ok(numbers)) = parsed.get(index) {
                cancels.push((index, account.request(Method::Cancel, &parcels(numbers))));
                delete_errors.push((index, error));
            }
        }
        in_waves(cancels, |index, sent| {
            results[index] = Some(match answer(sent, Method::Cancel) {
                Ok(_) => Ok(()),
                Err(error) if easyship::is_auth(&error) => return Err(error),
                Err(error) if easyship::is_business(&error) => {
                    let deleted = delete_errors
                        .iter()
                        .find(|(at, _)| *at == index)
                        .map(|(_, error)| error.message.clone())
                        .unwrap_or_default();
                    Err(ConnectorError {
                        message: format!("{deleted}; {}", error.message),
                        ..error
                    })
                }
                Err(error) => Err(error),
            });
            Ok(())
        })?;

        for (index, result) in results.iter().enumerate() {
            if let (Some(Ok(())), Some(Ok(numbers))) = (result, parsed.get(index)) {
                forget(numbers);
            }
        }
        Ok(complete(results))
    }
}

impl Handover for Dpd {
    fn hand_over(
        config: &Config,
        date: &str,
        shipments: Vec<HandoverShipment>,
    ) -> Result<HandoverReceipt, ConnectorError> {
        let account = Account::from_config(config)?;
        let date = easyship::parse_date(date)?;
        // The manifest lists every parcel the account has for the day at DPD; the
        // shipments only tell how many the host expects on it.
        log::info!(
            "printing the DPD {} of {date} for {} shipments",
            account.manifest_type,
            shipments.len()
        );
        let sent = account
            .request(
                Method::Manifest,
                &[
                    ("type", account.manifest_type.to_owned()),
                    ("date", date.clone()),
                ],
            )
            .send();
        let data = pdf(sent, Method::Manifest)
            .map_err(|error| error.context(format!("the DPD manifest of {date}")))?;
        Ok(HandoverReceipt {
            reference: None,
            document: Some(Label {
                content_type: PDF.to_owned(),
                data,
            }),
        })
    }
}

impl Services for Dpd {
    fn list_services(_config: &Config) -> Result<Vec<Service>, ConnectorError> {
        Ok(vec![
            Service {
                code: easyship::SERVICE_HOME.to_owned(),
                name: "DPD Home".to_owned(),
                description: Some(
                    "Send as DPD Home (D-B2C, D-COD-B2C) with Predict notifications, also to \
                     a recipient with a company name"
                        .to_owned(),
                ),
            },
            Service {
                code: easyship::SERVICE_CLASSIC.to_owned(),
                name: "DPD Classic".to_owned(),
                description: Some(
                    "Send as DPD Classic (D, D-COD), for businesses during business hours"
                        .to_owned(),
                ),
            },
            Service {
                code: easyship::SERVICE_ID_CHECK.to_owned(),
                name: "ID check".to_owned(),
                description: Some(
                    "The courier checks the recipient's identity document at delivery".to_owned(),
                ),
            },
        ])
    }
}

impl Connection for Dpd {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        let account = Account::from_config(config)?;
        // EasyShip has no "who am I": the manifest of a day long gone creates nothing,
        // and answers a refused login with its error.
        let response = account
            .request(
                Method::Manifest,
                &[
                    ("type", "manifest".to_owned()),
                    ("date", CHECK_DATE.to_owned()),
                ],
            )
            .send()
            // Nothing answered: say where we tried; the kind says whether to retry.
            .map_err(|error| error.context(format!("DPD EasyShip at {}", account.base)))?;
        if let Some(error) = response.error() {
            return Err(match error.kind {
                ErrorKind::NotFound | ErrorKind::InvalidInput | ErrorKind::Other => {
                    wrong_address(error, &account)
                }
                _ => error,
            });
        }
        if !response.body.starts_with(b"%PDF") {
            match easyship::parse_answer(&response.body, Method::Manifest) {
                Ok(_) => {}
                Err(error) if easyship::is_auth(&error) => return Err(error),
                // A business answer about the day (no parcels): the login was accepted.
                Err(error) if easyship::is_business(&error) => {}
                Err(error) => return Err(wrong_address(error, &account)),
            }
        }
        let mut info = ConnectionInfo::account(format!("DPD EasyShip {}", account.country));
        match &account.tracking_secret {
            None => {
                info = info.warning(
                    "no tracking key: parcel tracking needs the secret DPD issues for \
                     parcel_status",
                );
            }
            Some(secret) => {
                let sent = account.status_request(secret, CHECK_PARCEL).send();
                match answer(sent, Method::Status) {
                    Ok(_) => {}
                    Err(error) if easyship::is_auth(&error) => {
                        info = info.warning(format!(
                            "DPD refused the tracking key, so tracking does not work: {}",
                            error.message
                        ));
                    }
                    Err(error) if easyship::is_business(&error) => {}
                    Err(error) => {
                        info = info.warning(format!(
                            "the tracking key could not be checked: {}",
                            error.message
                        ));
                    }
                }
            }
        }
        Ok(info)
    }
}

/// The answer did not come from EasyShip: the address (country or `api_base`) is wrong.
fn wrong_address(error: ConnectorError, account: &Account) -> ConnectorError {
    ConnectorError {
        kind: ErrorKind::InvalidInput,
        field: Some(account.address_field().to_owned()),
        message: format!(
            "{} does not answer like DPD EasyShip; check the {}: {}",
            account.base,
            account.address_field(),
            error.message
        ),
        ..error
    }
}

tovor_sdk::export_carrier!(
    Dpd: shipments,
    labels,
    tracking,
    cancellation,
    handover,
    services,
    connection
);

#[cfg(test)]
mod tests;
