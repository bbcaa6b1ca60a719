//! The GLS carrier connector over the MyGLS JSON API
//! (`https://api.mygls.{hu,hr,cz,ro,si,sk,rs}/ParcelService.svc/json/{Method}`).
//!
//! | MyGLS method | connector operation |
//! |---|---|
//! | `PrintLabels` (one call per shipment) | `create_shipments` |
//! | `GetPrintedLabels` | `get_labels` |
//! | `GetParcelStatuses` (one call per parcel number) | `track` |
//! | `DeleteLabels` | `cancel` |
//! | `GetParcelList` (by print date) filtered by `ClientReference` | `find_shipments` |
//!
//! Every request is a `POST` whose JSON body carries `Username`, `Password` (the SHA-512
//! digest bytes as a JSON array of numbers), `ClientNumberList` (not on `DeleteLabels`)
//! and `WebshopEngine`. Business errors come with HTTP 200 in a per-method error list.
//!
//! Why `PrintLabels` rather than `PrepareLabels` + `GetPrintedLabels`: it creates the
//! parcel and returns both ids and the label in one call, so a create is one request
//! whose outcome is either known or reconciled by reference (never retried: a retry
//! creates a second real parcel), and the label bytes arrive at once (GLS may refuse
//! to generate a label a second time, error 18). `PrepareLabels` would return only the
//! `ParcelId`, not the `ParcelNumber` needed for tracking. One call per shipment keeps
//! one label document per shipment and confines a timeout to one shipment.
//!
//! Shipment id: the `ParcelId`s of the shipment's pieces, comma-separated (the first
//! owns the others: deleting it deletes all). Tracking numbers: the `ParcelNumber`s.

// Natively nothing calls the `Carrier` implementation (it is exported only in the wasm
// build), so dead-code analysis is meaningful only there.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod mygls;

use serde_json::{Map, Value, json};
use tovor_sdk::carrier::{
    CarrierCapabilities, CarrierInfo, CreatedShipment, Label, ShipmentRequest, TrackingResult,
};
use tovor_sdk::http::Request;
use tovor_sdk::time;
use tovor_sdk::types::ConnectorError;
use tovor_sdk::{Carrier, Config};

use mygls::ErrorInfo;

/// `GetPrintedLabels` takes at most 99 ids, `DeleteLabels` at most 50.
const LABEL_BATCH: usize = 99;
const DELETE_BATCH: usize = 50;
const DEFAULT_TIMEOUT_MS: u32 = 30_000;

struct Gls;

/// The account settings, read once per call.
struct Account {
    base: String,
    country: String,
    username: String,
    password: String,
    client_number: i64,
    printer_type: String,
    timeout_ms: u32,
}

impl Account {
    fn from_config(config: &Config) -> Result<Self, ConnectorError> {
        let country = mygls::country(config.require("country")?)?;
        let number = config.require("client_number")?;
        let client_number = number.trim().parse::<i64>().map_err(|_| {
            ConnectorError::invalid_field("client_number", format!("{number:?} is not a number"))
        })?;
        let printer_type = mygls::printer_type(config.get("printer_type"), mygls::PRINTER_TYPES[0])
            .map_err(|e| ConnectorError::invalid_field("printer_type", e.message().to_owned()))?;
        let timeout_ms = match config.get("request_timeout_ms") {
            None => DEFAULT_TIMEOUT_MS,
            Some(value) => value.trim().parse::<u32>().map_err(|_| {
                ConnectorError::invalid_field(
                    "request_timeout_ms",
                    format!("{value:?} is not a number"),
                )
            })?,
        };
        Ok(Self {
            base: config.api_base_or(&mygls::default_api_base(&country)),
            country,
            username: config.require("username")?.trim().to_owned(),
            password: config.require("password")?.to_owned(),
            client_number,
            printer_type,
            timeout_ms,
        })
    }

    /// POSTs one method and returns the JSON body (HTTP errors typed by status).
    fn call(&self, method: &str, fields: Value) -> Result<Value, ConnectorError> {
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
            .send()?
            .error_for_status()?
            .json()
    }
}

impl Carrier for Gls {
    fn describe() -> CarrierInfo {
        // Keep in step with `capabilities` in plugin.toml.
        CarrierInfo {
            carrier: "GLS".into(),
            label_formats: mygls::PRINTER_TYPES
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
            cod_currencies: mygls::cod_currencies(),
            capabilities: CarrierCapabilities::CASH_ON_DELIVERY
                | CarrierCapabilities::PICKUP_POINTS
                | CarrierCapabilities::CANCEL
                | CarrierCapabilities::LOOKUP_BY_REFERENCE,
        }
    }

    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        let pickup_date = mygls::wcf_date(time::now());
        let mut results = Vec::with_capacity(requests.len());
        let mut stop: Option<ConnectorError> = None;
        for request in &requests {
            if let Some(reason) = &stop {
                results.push(Err(ConnectorError::Transient(format!(
                    "not sent to GLS because an earlier shipment failed: {}",
                    reason.message()
                ))));
                continue;
            }
            let parcel = match mygls::parcel_json(request, account.client_number, &pickup_date) {
                Ok(parcel) => parcel,
                Err(error) => {
                    results.push(Err(error));
                    continue;
                }
            };
            match create_one(&account, &request.reference, parcel) {
                Ok(created) => results.push(Ok(created)),
                Err(error @ ConnectorError::Auth(_)) => return Err(error),
                Err(error) => {
                    // GLS is down or slow: the outcome of this call is unknown (the host
                    // reconciles it by reference); don't pile more calls on.
                    if matches!(
                        error,
                        ConnectorError::Transient(_) | ConnectorError::RateLimited(_)
                    ) {
                        stop = Some(error.clone());
                    }
                    results.push(Err(error));
                }
            }
        }
        Ok(results)
    }

    fn get_labels(
        config: &Config,
        shipment_ids: Vec<String>,
        format: Option<String>,
    ) -> Result<Label, ConnectorError> {
        let account = Account::from_config(config)?;
        let printer = mygls::printer_type(format.as_deref(), &account.printer_type)?;
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
                "TypeOfPrinter": printer,
                "PrintPosition": 1,
                "ShowPrintDialog": false,
            }),
        )?;
        let errors = mygls::error_list(&body, "GetPrintedLabelsErrorList")?;
        if let Some(error) = errors.first() {
            return Err(match error.error_code {
                18 => ConnectorError::Other(format!(
                    "{}: GLS issues a parcel's label only once; use the label returned when the shipment was created",
                    error
                        .error_description
                        .as_deref()
                        .unwrap_or("label already generated")
                )),
                6 => ConnectorError::invalid_input(format!(
                    "GLS error 6: parcel {:?} is deleted or already scanned",
                    error.parcel_ids()
                )),
                _ => error.to_error(),
            });
        }
        let data = mygls::bytes_field(&body, "Labels")?;
        if data.is_empty() {
            return Err(ConnectorError::Other("GLS returned no label".into()));
        }
        Ok(Label {
            content_type: mygls::label_content_type(&printer).into(),
            data,
        })
    }

    fn track(
        config: &Config,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        let language = mygls::language(&account.country);
        let mut results = Vec::with_capacity(tracking_numbers.len());
        for number in tracking_numbers {
            let Ok(parcel_number) = number.trim().parse::<i64>() else {
                results.push(Err(ConnectorError::invalid_field(
                    "tracking-number",
                    format!("{number:?} is not a GLS parcel number"),
                )));
                continue;
            };
            let body = match account.call(
                "GetParcelStatuses",
                json!({
                    "ParcelNumber": parcel_number,
                    "ReturnPOD": false,
                    "LanguageIsoCode": language,
                }),
            ) {
                Ok(body) => body,
                Err(error @ ConnectorError::Auth(_)) => return Err(error),
                Err(error) => {
                    results.push(Err(error));
                    continue;
                }
            };
            let errors = mygls::error_list(&body, "GetParcelStatusErrors")?;
            if let Some(error) = errors.first() {
                if error.is_auth() {
                    return Err(error.to_error());
                }
                results.push(Err(error.to_error()));
                continue;
            }
            results.push(mygls::tracking_events(&body).map(|events| TrackingResult {
                tracking_number: number,
                events,
            }));
        }
        Ok(results)
    }

    fn cancel(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let account = Account::from_config(config)?;
        // Deleting the first ParcelId of a shipment deletes all its pieces.
        let mains: Vec<Result<i64, ConnectorError>> = shipment_ids
            .iter()
            .map(|id| mygls::parse_shipment_id(id).map(|ids| ids[0]))
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
                    Some(error) if error.error_code == 6 => Err(ConnectorError::invalid_input(format!(
                        "GLS error 6: parcel {id} was already handed to GLS (scanned) or already deleted: {}",
                        error.error_description.as_deref().unwrap_or("")
                    ))),
                    Some(error) => Err(error.to_error()),
                    None => Err(match errors.first() {
                        Some(error) => error.to_error(),
                        None => ConnectorError::Other(format!("GLS did not report on parcel {id}")),
                    }),
                }
            })
            .collect())
    }

    fn find_shipments(
        config: &Config,
        reference: String,
        created_since: String,
    ) -> Result<Vec<CreatedShipment>, ConnectorError> {
        let account = Account::from_config(config)?;
        let since = time::parse_rfc3339(&created_since)
            .map_err(|e| ConnectorError::invalid_field("created-since", e.message().to_owned()))?;
        // A day of slack both ways: GLS's print date may be kept in local time.
        let slack = std::time::Duration::from_secs(86_400);
        let body = account.call(
            "GetParcelList",
            json!({
                "PrintDateFrom": mygls::wcf_date(since - slack),
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
        });
    }
    shipments
}

/// One `PrintLabels` call for one shipment.
fn create_one(
    account: &Account,
    reference: &str,
    parcel: Value,
) -> Result<CreatedShipment, ConnectorError> {
    let body = account.call(
        "PrintLabels",
        json!({
            "ParcelList": [parcel],
            "TypeOfPrinter": account.printer_type,
            "PrintPosition": 1,
            "ShowPrintDialog": false,
        }),
    )?;
    created_from_print_labels(reference, &body, &account.printer_type)
}

/// Maps a `PrintLabels` answer for one parcel: the infos carrying our reference, or the
/// error naming it (or naming nothing).
pub fn created_from_print_labels(
    reference: &str,
    body: &Value,
    printer: &str,
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
            None => ConnectorError::Other(
                "GLS answered PrintLabels with neither a parcel nor an error".into(),
            ),
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
            content_type: mygls::label_content_type(printer).into(),
            data,
        }),
    })
}

#[cfg(target_arch = "wasm32")]
tovor_sdk::export_carrier!(Gls);
