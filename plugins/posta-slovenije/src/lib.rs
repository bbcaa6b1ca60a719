//! The Pošta Slovenije carrier connector for contract customers, on contract 0.2.1:
//! UPU S10 numbers from the contract's range, labels drawn here, and the day's items
//! handed over through eOddaja.
//!
//! | capability: operation | how |
//! |---|---|
//! | `shipments`: `create_shipments` | checks each shipment as eOddaja would, takes the next numbers of the range ([`s10::allocate`], atomically), draws the label; nothing is sent to Pošta yet |
//! | `labels`: `label_formats` | `A6`, and `A6 on A4` (four labels per sheet); the `label_format` setting picks the one a creation returns |
//! | `labels`: `get_labels` | refused: the label comes with the created shipment (see below) |
//! | `cancellation`: `cancel_shipments` | local: a number not yet handed over is simply never sent; a handed-over one is `conflict` |
//! | `handover`: `hand_over` | eOddaja `GetGuid` → `PostData` (the CSV) → `GetStatus`; the receipt's reference is the GUID, its document the hand-over list |
//! | `connection`: `check_connection` | eOddaja `GetGuid` with the account's ids (opens a submission, sends nothing) |
//!
//! Pošta Slovenije has no label service and no tracking service for eOddaja customers:
//! the shipper numbers its items from the range in its contract, prints the labels
//! itself and submits the day's list. So creating a shipment talks to nobody: the
//! number is taken from the connector's state and the label drawn at once. The
//! connector keeps no shipment data (the state is small and the host keeps the label),
//! so `get_labels` cannot draw a label again. No `tracking` export: the host records a
//! shipment as `pending` once handed over.
//!
//! The hand-over CSV and its checks are in [`row`], the SOAP service in [`eoddaja`], the
//! label in [`label`].

pub mod countries;
pub mod document;
pub mod eoddaja;
pub mod label;
pub mod ledger;
pub mod pdf;
pub mod row;
pub mod s10;

use tovor_sdk::carrier::{
    Cancellation, Connection, ConnectionInfo, CreatedShipment, Handover, HandoverReceipt,
    HandoverShipment, Label, LabelFormat, Labels, PaperSize, ShipmentRequest, Shipments,
    ShippingLimits,
};
use tovor_sdk::types::{ConnectorError, ErrorKind, Timestamp};
use tovor_sdk::{Config, log, state};

use eoddaja::{Authentication, Service};
use label::{LabelData, Layout};
use row::{Defaults, Shipment};
use s10::{Range, S10};

/// Production eOddaja.
pub const PRODUCTION: &str = "https://eportal.posta.si";
/// Pošta Slovenije's test system.
pub const TEST: &str = "https://tsteportal.posta.si";
/// The service's path on either host.
pub const SERVICE_PATH: &str = "/Services/eSpremnica.Provider/WCF/eOddaja.svc";

/// Shipments per create call: no request goes out, but each label is drawn in the call.
pub const CREATE_BATCH: u32 = 50;
/// The item type (`VrstaPosiljke`) when the settings name none.
pub const DEFAULT_ITEM_TYPE: &str = "109";
const DEFAULT_TIMEOUT_MS: u32 = 60_000;
const PDF: &str = "application/pdf";

/// The connector. It holds no state of its own: each call gets the account's
/// [`Config`], and the numbers handed out live in the host's state for the account.
pub struct PostaSlovenije;

/// The account's settings, read once per call.
struct Settings {
    service: Service,
    range: Range,
    defaults: Defaults,
    item_type_name: Option<String>,
    layout: Layout,
}

impl Settings {
    fn from_config(config: &Config) -> Result<Self, ConnectorError> {
        let id = |name: &str| -> Result<String, ConnectorError> {
            let value = config.require(name)?.trim().to_owned();
            if value.len() > 40 || value.chars().any(char::is_control) {
                return Err(ConnectorError::invalid_field(
                    name,
                    format!("{value:?} is not an eOddaja id"),
                ));
            }
            Ok(value)
        };
        let auth = Authentication {
            komitent_id: id("komitent_id")?,
            pogodba_id: id("pogodba_id")?,
            posta_id: id("posta_id")?,
            podruznica_id: id("podruznica_id")?,
        };
        let host = match config.text("environment").map(str::trim) {
            None | Some("production") => PRODUCTION,
            Some("test") => TEST,
            Some(other) => {
                return Err(ConnectorError::invalid_field(
                    "environment",
                    format!("{other:?} is neither production nor test"),
                ));
            }
        };
        let timeout = config.integer_or("request_timeout_ms", i64::from(DEFAULT_TIMEOUT_MS))?;
        let timeout_ms = u32::try_from(timeout)
            .ok()
            .filter(|timeout| *timeout > 0)
            .ok_or_else(|| {
                ConnectorError::invalid_field(
                    "request_timeout_ms",
                    format!("{timeout} is not a timeout in milliseconds"),
                )
            })?;
        let service = Service {
            url: format!("{}{SERVICE_PATH}", config.api_base_or(host)),
            auth,
            data_namespace: config
                .text("soap_data_namespace")
                .map(|namespace| namespace.trim().to_owned()),
            timeout_ms,
        };
        let range = Range::parse(
            config.require(s10::FIRST_FIELD)?,
            config.require(s10::LAST_FIELD)?,
        )?;
        let item_type = row::item_type_code(
            config.text("item_type").unwrap_or(DEFAULT_ITEM_TYPE),
            "item_type",
        )?;
        let layout = match config.text("label_format") {
            None => Layout::A6,
            Some(name) => Layout::from_name(name).ok_or_else(|| {
                ConnectorError::invalid_field(
                    "label_format",
                    format!(
                        "{name:?} is not a label format of this connector: {} or {}",
                        Layout::A6_NAME,
                        Layout::A4_NAME
                    ),
                )
            })?,
        };
        Ok(Self {
            service,
            range,
            item_type_name: config
                .text("item_type_name")
                .map(|name| name.trim().to_owned()),
            defaults: Defaults { item_type },
            layout,
        })
    }

    /// What the label prints for the item type.
    fn item_type_name(&self, code: &str) -> Option<String> {
        if code == self.defaults.item_type
            && let Some(name) = &self.item_type_name
        {
            return Some(name.clone());
        }
        row::item_type_name(code).map(str::to_owned)
    }
}

impl Shipments for PostaSlovenije {
    fn limits() -> ShippingLimits {
        ShippingLimits {
            max_batch: CREATE_BATCH,
            cod_currencies: vec![row::COD_CURRENCY.to_owned()],
        }
    }

    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let settings = Settings::from_config(config)?;
        let checked: Vec<Result<Shipment, ConnectorError>> = requests
            .iter()
            .map(|request| Shipment::from_request(request, &settings.defaults))
            .collect();
        // Numbers only for what eOddaja would take: a refused shipment spends none.
        let wanted = checked.iter().filter(|shipment| shipment.is_ok()).count();
        let mut numbers =
            s10::allocate(&settings.range, u32::try_from(wanted).unwrap_or(u32::MAX))?.into_iter();
        let date = label::slovenian_date(tovor_sdk::time::now());
        let results = checked
            .into_iter()
            .zip(&requests)
            .map(|(shipment, request)| {
                let shipment = shipment?;
                let number = numbers
                    .next()
                    .ok_or_else(|| s10::exhausted(&settings.range))?;
                let label = LabelData {
                    number,
                    item_type_name: settings.item_type_name(&shipment.item_type),
                    shipment,
                    date: date.clone(),
                };
                let pdf = label::render(std::slice::from_ref(&label), settings.layout).map_err(
                    |error| error.context(format!("the label of {number} (a number now unused)")),
                )?;
                Ok(CreatedShipment {
                    reference: request.reference.clone(),
                    shipment_id: number.to_string(),
                    tracking_numbers: vec![number.to_string()],
                    label: Some(Label {
                        content_type: PDF.to_owned(),
                        data: pdf,
                    }),
                    created_at: Some(Timestamp::now()),
                })
            })
            .collect();
        Ok(results)
    }
}

impl Labels for PostaSlovenije {
    fn label_formats() -> Vec<LabelFormat> {
        vec![
            LabelFormat {
                size: PaperSize::A6,
                carrier_name: Layout::A6_NAME.to_owned(),
                content_type: PDF.to_owned(),
            },
            LabelFormat {
                size: PaperSize::A4,
                carrier_name: Layout::A4_NAME.to_owned(),
                content_type: PDF.to_owned(),
            },
        ]
    }

    fn get_labels(
        _config: &Config,
        shipment_ids: Vec<String>,
        _size: PaperSize,
    ) -> Result<Label, ConnectorError> {
        Err(ConnectorError::new(
            ErrorKind::Unsupported,
            format!(
                "Pošta Slovenije has no label service: this connector draws each label when it \
                 creates the shipment, and that label ({}) is the one to print; it keeps no \
                 shipment data to draw it again",
                shipment_ids.join(", ")
            ),
        )
        .with_field("shipment-ids"))
    }
}

impl Cancellation for PostaSlovenije {
    fn cancel_shipments(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let range = Settings::from_config(config)?.range;
        Ok(shipment_ids.iter().map(|id| cancel(&range, id)).collect())
    }
}

/// A shipment not yet handed over is cancelled by never handing its number over: Pošta
/// has not heard of it, and the number stays unused. One handed over is Pošta's now.
fn cancel(range: &Range, id: &str) -> Result<(), ConnectorError> {
    let number = S10::parse(id).map_err(|message| {
        ConnectorError::not_found(format!("not a Pošta Slovenije number: {message}"))
    })?;
    if ledger::was_handed_over(&number)? {
        return Err(ConnectorError::conflict(format!(
            "{number} was handed over to Pošta Slovenije through eOddaja: it cannot be \
             cancelled any more; the parcel has to be delivered or sent back"
        )));
    }
    if range.contains(&number) && !s10::was_allocated(range, &number)? {
        return Err(ConnectorError::not_found(format!(
            "{number} has not been given to any shipment yet"
        )));
    }
    log::info(format!(
        "{number} cancelled: it will not be handed over, and stays unused"
    ));
    Ok(())
}

impl Handover for PostaSlovenije {
    fn hand_over(
        config: &Config,
        date: &str,
        shipments: Vec<HandoverShipment>,
    ) -> Result<HandoverReceipt, ConnectorError> {
        let settings = Settings::from_config(config)?;
        let date = date.trim();
        if !is_date(date) {
            return Err(ConnectorError::invalid_field(
                "date",
                format!("{date:?} is not a date (YYYY-MM-DD)"),
            ));
        }
        if shipments.is_empty() {
            return Err(ConnectorError::invalid_field(
                "shipments",
                "there is nothing to hand over",
            ));
        }
        let mut items: Vec<(S10, Shipment)> = Vec::with_capacity(shipments.len());
        for handed in &shipments {
            let text = handed
                .tracking_numbers
                .first()
                .unwrap_or(&handed.shipment_id);
            let number = S10::parse(text).map_err(|message| {
                ConnectorError::invalid_field(
                    "tracking-numbers",
                    format!("shipment {}: {message}", handed.shipment_id),
                )
            })?;
            if items.iter().any(|(known, _)| *known == number) {
                return Err(ConnectorError::invalid_field(
                    "shipments",
                    format!("{number} is in the hand-over twice"),
                ));
            }
            let shipment = Shipment::from_request(&handed.request, &settings.defaults)
                .map_err(|error| error.context(format!("shipment {number}")))?;
            items.push((number, shipment));
        }
        let numbers: Vec<S10> = items.iter().map(|(number, _)| *number).collect();
        let csv = row::csv(items.iter().map(|(number, shipment)| (shipment, number)));
        let key = ledger::submission_key(date, &numbers);
        let guid = submit(&settings.service, &key, &csv)?;
        ledger::record_handed_over(&numbers)?;
        // A key left behind is harmless: the host never hands the same numbers over
        // again.
        if let Err(error) = state::delete(&key) {
            log::warn(format!("{key} stays in the state: {}", error.message));
        }
        let document = match document::handover_list(date, &guid, &items) {
            Ok(pdf) => Some(Label {
                content_type: PDF.to_owned(),
                data: pdf,
            }),
            Err(error) => {
                log::warn(format!(
                    "the hand-over list of {guid} was not drawn: {}",
                    error.message
                ));
                None
            }
        };
        log::info(format!(
            "handed {} items over to eOddaja for {date} as {guid}",
            numbers.len()
        ));
        Ok(HandoverReceipt {
            reference: Some(guid),
            document,
        })
    }
}

/// Sends `csv` as a new submission, or, when an earlier call for the same hand-over
/// got as far as a GUID but lost the answer, asks for that submission's status first:
/// taken means done, refused means it never arrived whole and is sent again.
fn submit(service: &Service, key: &str, csv: &str) -> Result<String, ConnectorError> {
    if let Some(guid) = state::get_text(key)? {
        match service.get_status(&guid) {
            Ok(_) => return Ok(guid),
            Err(error) if error.kind == ErrorKind::InvalidInput => {
                log::info(format!(
                    "the earlier submission {guid} was not taken ({}); sending again",
                    error.message
                ));
                state::delete(key)?;
            }
            Err(error) => return Err(error),
        }
    }
    let guid = service.get_guid()?;
    state::set(key, &guid)?;
    let outcome = service
        .post_data(&guid, csv)
        .and_then(|_| service.get_status(&guid));
    match outcome {
        Ok(_) => Ok(guid),
        Err(error) => {
            // Refused for good: the next attempt starts a new submission. Any other
            // failure may have reached Pošta: keep the GUID to ask about it first.
            if error.kind == ErrorKind::InvalidInput {
                state::delete(key)?;
            }
            Err(error)
        }
    }
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

impl Connection for PostaSlovenije {
    fn check_connection(config: &Config) -> Result<ConnectionInfo, ConnectorError> {
        let settings = Settings::from_config(config)?;
        settings
            .service
            .get_guid()
            .map_err(|error| error.context(format!("eOddaja at {}", settings.service.url)))?;
        let mut info =
            ConnectionInfo::account(format!("komitent {}", settings.service.auth.komitent_id));
        let next = state::get_text(&settings.range.state_key())?
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(u64::from(settings.range.first().serial()));
        let left = (u64::from(settings.range.last().serial()) + 1).saturating_sub(next);
        if left < 100 {
            info = info.warning(format!(
                "only {left} numbers are left in the range {} to {}: ask Pošta Slovenije for a \
                 new range",
                settings.range.first(),
                settings.range.last()
            ));
        }
        Ok(info)
    }
}

tovor_sdk::export_carrier!(
    PostaSlovenije: shipments,
    labels,
    cancellation,
    handover,
    connection
);

#[cfg(test)]
mod tests;
