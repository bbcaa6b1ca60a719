//! The Packeta (Zásilkovna) carrier connector, over Packeta's REST/XML API
//! (`POST https://www.zasilkovna.cz/api/rest`, the root element is the method).
//!
//! | Packeta method | connector operation |
//! |---|---|
//! | `createPacket` (one per request) | `create_shipments` |
//! | `packetLabelPdf` (one id), `packetsLabelsPdf` (several) | `get_labels` |
//! | `packetTracking` (one per tracking number) | `track` |
//! | `cancelPacket` | `cancel` |
//!
//! Packeta answers HTTP 200 even for faults; [`xml`] reads the `<response>` envelope
//! and maps faults to typed errors (`IncorrectApiPasswordFault` → `auth`,
//! `PacketAttributesFault` → `invalid-input` naming the request field Packeta refused
//! (`email` → `recipient.email`), unknown packets →
//! `not-found`). Packeta has no call that finds a packet by our `number`, so
//! `find_shipments` stays unsupported and `lookup-by-reference` is not claimed.
//!
//! A shipment is one packet: the shipment id is Packeta's packet id, the tracking number
//! its barcode (`Z` + id). Delivery goes to the pickup point in the request
//! (`addressId`); without one it is home delivery through the Packeta carrier named by a
//! `carrier:<id>` service or by the `home_delivery_carriers` setting for the country.

// Natively nothing calls the `Carrier` implementation (it is exported only in the wasm
// build), so dead-code analysis is meaningful only there.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

pub mod rules;
pub mod xml;

use base64::Engine as _;
use tovor_sdk::carrier::{
    CarrierCapabilities, CarrierInfo, CreatedShipment, Label, ShipmentRequest, TrackingEvent,
    TrackingResult,
};
use tovor_sdk::http::Request;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::types::ConnectorError;
use tovor_sdk::{Carrier, Config};

use xml::{CreatedPacket, Doc, StatusRecords};

/// Packeta's REST endpoint.
pub const DEFAULT_API: &str = "https://www.zasilkovna.cz/api/rest";

/// Label formats, exactly as `packetLabelPdf`'s `format` takes them.
pub const LABEL_FORMATS: &[&str] = &[
    "A6 on A4",
    "A6 on A6",
    "A7 on A4",
    "A7 on A7",
    "105x35mm on A4",
    "A8 on A8",
];

/// What most Packeta plugins print (4 labels on an A4 sheet).
pub const DEFAULT_LABEL_FORMAT: &str = "A6 on A4";

struct Packeta;

impl Carrier for Packeta {
    fn describe() -> CarrierInfo {
        // Keep in step with `capabilities` in plugin.toml.
        CarrierInfo {
            carrier: "Packeta".into(),
            label_formats: LABEL_FORMATS.iter().map(|f| (*f).to_owned()).collect(),
            cod_currencies: rules::COD_CURRENCIES
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            capabilities: CarrierCapabilities::CASH_ON_DELIVERY
                | CarrierCapabilities::PICKUP_POINTS
                | CarrierCapabilities::CANCEL,
        }
    }

    fn create_shipments(
        config: &Config,
        requests: Vec<ShipmentRequest>,
    ) -> Result<Vec<Result<CreatedShipment, ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let eshop = config.require("eshop")?.trim().to_owned();
        let home_carriers = config.get("home_delivery_carriers").unwrap_or("");
        let mut results = Vec::with_capacity(requests.len());
        for request in &requests {
            let result = packet_attributes(request, &eshop, home_carriers)
                .and_then(|attributes| api.create_packet(&attributes))
                .map(|packet| CreatedShipment {
                    reference: request.reference.clone(),
                    shipment_id: packet.id,
                    tracking_numbers: vec![packet.barcode],
                    label: None,
                });
            match result {
                // Wrong credentials before anything was created fail the whole batch;
                // after a success, the created packets must still be reported.
                Err(error @ ConnectorError::Auth(_))
                    if results.iter().all(|r: &Result<_, _>| r.is_err()) =>
                {
                    return Err(error);
                }
                other => results.push(other),
            }
        }
        Ok(results)
    }

    fn get_labels(
        config: &Config,
        shipment_ids: Vec<String>,
        format: Option<String>,
    ) -> Result<Label, ConnectorError> {
        let api = Api::new(config)?;
        let format = label_format(format.as_deref())?;
        let ids = shipment_ids
            .iter()
            .map(|id| packet_id(id, "shipment_ids"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut doc = match ids.as_slice() {
            [] => {
                return Err(ConnectorError::invalid_field(
                    "shipment_ids",
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
        doc.element("format", format).element("offset", "0");
        let encoded: Option<String> = api.call(&doc)?;
        Ok(Label {
            content_type: "application/pdf".into(),
            data: decode_pdf(encoded.as_deref().unwrap_or(""))?,
        })
    }

    fn track(
        config: &Config,
        tracking_numbers: Vec<String>,
    ) -> Result<Vec<Result<TrackingResult, ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let mut results = Vec::with_capacity(tracking_numbers.len());
        for number in tracking_numbers {
            let result = packet_id(&number, "tracking_numbers").and_then(|id| {
                let mut doc = Doc::new("packetTracking", &api.password);
                doc.element("packetId", &id);
                let records: Option<StatusRecords> = api.call(&doc)?;
                Ok(TrackingResult {
                    tracking_number: number.clone(),
                    events: tracking_events(records.unwrap_or_default())?,
                })
            });
            match result {
                Err(error @ ConnectorError::Auth(_)) => return Err(error),
                other => results.push(other),
            }
        }
        Ok(results)
    }

    fn cancel(
        config: &Config,
        shipment_ids: Vec<String>,
    ) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
        let api = Api::new(config)?;
        let mut results = Vec::with_capacity(shipment_ids.len());
        for id in shipment_ids {
            let result = packet_id(&id, "shipment_ids").and_then(|id| {
                let mut doc = Doc::new("cancelPacket", &api.password);
                doc.element("packetId", &id);
                api.call::<serde::de::IgnoredAny>(&doc).map(|_| ())
            });
            match result {
                Err(error @ ConnectorError::Auth(_)) => return Err(error),
                other => results.push(other),
            }
        }
        Ok(results)
    }

    // `find_shipments`: Packeta's API cannot look a packet up by our `number`; the
    // trait's default answers `unsupported`.
}

// Only the wasm component exports the connector: natively (the `rlib` that tests link)
// the export symbols, whose names contain `:`, cannot go into a shared library.
#[cfg(target_arch = "wasm32")]
tovor_sdk::export_carrier!(Packeta);

/// The endpoint and password for one account.
struct Api {
    url: String,
    password: String,
    timeout_ms: u32,
}

/// Per request, well inside the plugin's 30 s call budget.
const DEFAULT_TIMEOUT_MS: u32 = 20_000;

impl Api {
    fn new(config: &Config) -> Result<Self, ConnectorError> {
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
            url: config.api_base_or(DEFAULT_API),
            password: config.require("api_password")?.trim().to_owned(),
            timeout_ms,
        })
    }

    /// Sends one method call and returns its `<result>`; faults become errors.
    fn call<T: serde::de::DeserializeOwned>(&self, doc: &Doc) -> Result<Option<T>, ConnectorError> {
        let response = Request::post(&self.url)
            .body(doc.finish(), "text/xml")
            .timeout_ms(self.timeout_ms)
            .send()?
            .error_for_status()?;
        xml::parse_result(&response.body)
    }

    fn create_packet(
        &self,
        attributes: &[(&'static str, String)],
    ) -> Result<CreatedPacket, ConnectorError> {
        let mut doc = Doc::new("createPacket", &self.password);
        doc.group(
            "packetAttributes",
            attributes
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        );
        self.call::<CreatedPacket>(&doc)?.ok_or_else(|| {
            ConnectorError::Other("Packeta created the packet but returned no id".into())
        })
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
            let amount = money::parse_decimal(&cod.amount).map_err(|e| {
                ConnectorError::invalid_field("cash_on_delivery.amount", e.message())
            })?;
            let currency = cod.currency.trim().to_ascii_uppercase();
            rules::check_cod(amount, &currency, country.as_deref())?;
            Some((amount, currency))
        }
        None => None,
    };
    let value = match non_blank(&request.value) {
        Some(value) => money::parse_decimal(value)
            .map_err(|e| ConnectorError::invalid_field("value", e.message()))?,
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
        attributes.push(("zip", required(&recipient.postal_code, "postal_code")?));
    }
    if let Some(note) = non_blank(&request.note) {
        attributes.push(("note", note.to_owned()));
    }
    Ok(attributes)
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
    if let Some(country) = country {
        for entry in configured.split([',', ';']) {
            if let Some((code, id)) = entry.split_once([':', '='])
                && code.trim().eq_ignore_ascii_case(country)
                && !id.trim().is_empty()
            {
                return Ok(id.trim().to_owned());
            }
        }
    }
    Err(ConnectorError::invalid_field(
        "pickup_point",
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
            "recipient.house_number",
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
            "parcels.weight_grams",
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

/// The label format to ask for: one of [`LABEL_FORMATS`], default `A6 on A4`.
pub fn label_format(format: Option<&str>) -> Result<&'static str, ConnectorError> {
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        None => Ok(DEFAULT_LABEL_FORMAT),
        Some(asked) => LABEL_FORMATS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(asked))
            .copied()
            .ok_or_else(|| {
                ConnectorError::invalid_field(
                    "format",
                    format!(
                        "Packeta has no label format {asked:?}; it offers {}",
                        LABEL_FORMATS.join(", ")
                    ),
                )
            }),
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
            ConnectorError::Other(format!("Packeta's label is not valid base64: {error}"))
        })?;
    if !pdf.starts_with(b"%PDF") {
        return Err(ConnectorError::Other(
            "Packeta's label answer is not a PDF".into(),
        ));
    }
    Ok(pdf)
}

/// Status records as tracking events, oldest first.
pub fn tracking_events(records: StatusRecords) -> Result<Vec<TrackingEvent>, ConnectorError> {
    let mut events = records
        .record
        .into_iter()
        .map(|record| {
            let code = record.status_code.trim().to_owned();
            let status = code
                .parse::<i64>()
                .map(rules::map_status)
                .unwrap_or(tovor_sdk::carrier::ShipmentStatus::Unknown);
            let raw_text = record
                .status_text
                .filter(|t| !t.trim().is_empty())
                .or(record.code_text)
                .unwrap_or_default();
            Ok(TrackingEvent {
                at: rules::prague_to_utc(&record.date_time)?,
                status,
                raw_code: code,
                raw_text: raw_text.trim().to_owned(),
                location: None,
            })
        })
        .collect::<Result<Vec<_>, ConnectorError>>()?;
    // RFC 3339 in UTC with the same layout sorts as text; the sort is stable.
    events.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(events)
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use tovor_sdk::carrier::{CashOnDelivery, Parcel, PickupPoint, ShipmentStatus};
    use tovor_sdk::types::Address;
    use xml::StatusRecord;

    fn address() -> Address {
        Address {
            name: Some("Jana Nováková".into()),
            company: None,
            street: None,
            house_number: None,
            line1: Some("Na Příkopě 1234/5".into()),
            line2: None,
            city: Some("Praha".into()),
            postal_code: Some("110 00".into()),
            region: None,
            country: Some("CZ".into()),
            phone: Some("777 123 456".into()),
            email: Some("jana@example.test".into()),
        }
    }

    fn request() -> ShipmentRequest {
        ShipmentRequest {
            reference: "2026-00042".into(),
            sender: Address {
                name: Some("Shop".into()),
                ..address()
            },
            recipient: address(),
            parcels: vec![Parcel {
                weight_grams: 1200,
                length_mm: None,
                width_mm: None,
                height_mm: None,
            }],
            cash_on_delivery: Some(CashOnDelivery {
                amount: "729".into(),
                currency: "CZK".into(),
                reference: Some("2026-00042".into()),
            }),
            pickup_point: Some(PickupPoint {
                carrier: Some("packeta".into()),
                id: "79".into(),
                name: None,
            }),
            services: Vec::new(),
            value: None,
            currency: None,
            note: None,
        }
    }

    fn get<'a>(attributes: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn field(error: ConnectorError) -> String {
        match error {
            ConnectorError::InvalidInput(e) => e.field.unwrap_or_default(),
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }

    #[test]
    fn pickup_point_packet_with_cod() {
        let attributes = packet_attributes(&request(), "myshop.cz", "").unwrap();
        let names: Vec<&str> = attributes.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "number",
                "name",
                "surname",
                "email",
                "phone",
                "addressId",
                "currency",
                "cod",
                "value",
                "weight",
                "eshop"
            ]
        );
        assert_eq!(get(&attributes, "name"), Some("Jana"));
        assert_eq!(get(&attributes, "surname"), Some("Nováková"));
        assert_eq!(get(&attributes, "phone"), Some("+420777123456"));
        assert_eq!(get(&attributes, "addressId"), Some("79"));
        assert_eq!(get(&attributes, "cod"), Some("729"));
        assert_eq!(get(&attributes, "value"), Some("729"));
        assert_eq!(get(&attributes, "currency"), Some("CZK"));
        assert_eq!(get(&attributes, "weight"), Some("1.2"));
    }

    #[test]
    fn home_delivery_splits_the_street() {
        let mut request = request();
        request.pickup_point = None;
        request.cash_on_delivery = None;
        request.value = Some("500".into());
        assert_eq!(
            field(packet_attributes(&request, "myshop.cz", "").unwrap_err()),
            "pickup_point"
        );
        let attributes = packet_attributes(&request, "myshop.cz", "SK:131, CZ:106").unwrap();
        assert_eq!(get(&attributes, "addressId"), Some("106"));
        assert_eq!(get(&attributes, "street"), Some("Na Příkopě"));
        assert_eq!(get(&attributes, "houseNumber"), Some("1234/5"));
        assert_eq!(get(&attributes, "city"), Some("Praha"));
        assert_eq!(get(&attributes, "zip"), Some("110 00"));
        assert_eq!(get(&attributes, "currency"), Some("CZK"));
        assert_eq!(get(&attributes, "cod"), None);
        request.services = vec!["carrier:13".into()];
        let attributes = packet_attributes(&request, "myshop.cz", "CZ:106").unwrap();
        assert_eq!(get(&attributes, "addressId"), Some("13"));
        request.recipient.line1 = Some("Na Příkopě".into());
        assert_eq!(
            field(packet_attributes(&request, "myshop.cz", "CZ:106").unwrap_err()),
            "recipient.house_number"
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let mut bad = request();
        bad.cash_on_delivery = Some(CashOnDelivery {
            amount: "49.90".into(),
            currency: "EUR".into(),
            reference: None,
        });
        let error = packet_attributes(&bad, "e", "").unwrap_err();
        assert!(error.message().contains("CZK"), "{error:?}");
        assert_eq!(field(error), "cash_on_delivery.currency");

        let mut bad = request();
        bad.recipient.name = Some("Cher".into());
        assert_eq!(
            field(packet_attributes(&bad, "e", "").unwrap_err()),
            "recipient.name"
        );
        let mut bad = request();
        bad.recipient.email = None;
        bad.recipient.phone = None;
        assert_eq!(
            field(packet_attributes(&bad, "e", "").unwrap_err()),
            "recipient.email"
        );
        let mut bad = request();
        bad.parcels.push(bad.parcels[0]);
        assert_eq!(
            field(packet_attributes(&bad, "e", "").unwrap_err()),
            "parcels"
        );
        let mut bad = request();
        bad.cash_on_delivery = None;
        assert_eq!(
            field(packet_attributes(&bad, "e", "").unwrap_err()),
            "value"
        );
        let mut bad = request();
        bad.currency = Some("EUR".into());
        assert_eq!(
            field(packet_attributes(&bad, "e", "").unwrap_err()),
            "currency"
        );
        let mut bad = request();
        bad.reference = "x".repeat(37);
        assert_eq!(
            field(packet_attributes(&bad, "e", "").unwrap_err()),
            "reference"
        );
    }

    #[test]
    fn formats_ids_and_pdfs() {
        assert_eq!(label_format(None).unwrap(), "A6 on A4");
        assert_eq!(label_format(Some("a7 on a7")).unwrap(), "A7 on A7");
        assert_eq!(field(label_format(Some("10x15")).unwrap_err()), "format");
        assert_eq!(packet_id("Z 123 4567 890", "f").unwrap(), "1234567890");
        assert_eq!(packet_id("1234567890", "f").unwrap(), "1234567890");
        assert_eq!(
            field(packet_id("ZX1", "tracking_numbers").unwrap_err()),
            "tracking_numbers"
        );
        assert_eq!(decode_pdf("JVBERi0x\nLjQ=").unwrap(), b"%PDF-1.4");
        assert!(decode_pdf("aGVsbG8=").is_err());
        assert!(decode_pdf("!!").is_err());
    }

    #[test]
    fn events_are_sorted_and_mapped() {
        let record = |at: &str, code: &str, text: &str| StatusRecord {
            date_time: at.into(),
            status_code: code.into(),
            code_text: Some(text.into()),
            status_text: None,
            branch_id: None,
        };
        let events = tracking_events(StatusRecords {
            record: vec![
                record("2026-07-02T09:00:00", "5", "ready for pickup"),
                record("2026-07-01T10:00:00", "1", "received data"),
            ],
        })
        .unwrap();
        assert_eq!(events[0].at, "2026-07-01T08:00:00Z");
        assert_eq!(events[0].status, ShipmentStatus::Pending);
        assert_eq!(events[0].raw_code, "1");
        assert_eq!(events[0].raw_text, "received data");
        assert_eq!(events[1].status, ShipmentStatus::ReadyForPickup);
    }

    #[test]
    fn describe_matches_the_manifest() {
        let info = Packeta::describe();
        assert_eq!(info.label_formats.len(), LABEL_FORMATS.len());
        assert!(info.cod_currencies.contains(&"HUF".to_owned()));
        assert!(
            (info.capabilities & CarrierCapabilities::LOOKUP_BY_REFERENCE)
                == CarrierCapabilities::empty()
        );
        let manifest = include_str!("../plugin.toml");
        for capability in ["cash-on-delivery", "pickup-points", "cancel"] {
            assert!(manifest.contains(&format!("\"{capability}\"")));
        }
        assert!(!manifest.contains("\"lookup-by-reference\""));
    }
}
