//! MyGLS JSON: request building and response mapping, free of I/O so it is unit-tested
//! natively.
//!
//! Facts from `carriers.md` section 1 (MyGLS API) and 9 (cross-carrier rules).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};
use tovor_sdk::carrier::{ShipmentRequest, ShipmentStatus};
use tovor_sdk::money;
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{Address, ConnectorError};

/// Printer types (`TypeOfPrinter`) MyGLS knows; the first is our default.
pub const PRINTER_TYPES: &[&str] = &[
    "A4_2x2",
    "A4_4x1",
    "Connect",
    "Thermo",
    "ThermoZPL",
    "ThermoZPL_300DPI",
    "ShipItThermoPdf",
    "ShipItThermoZpl",
];

/// Tag sent as `WebshopEngine`.
pub const WEBSHOP_ENGINE: &str = "tovor";

/// Countries with a MyGLS instance, with their currency (COD is paid in the destination
/// country's currency) and calling code.
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("HU", "HUF", "36"),
    ("HR", "EUR", "385"),
    ("CZ", "CZK", "420"),
    ("RO", "RON", "40"),
    ("SI", "EUR", "386"),
    ("SK", "EUR", "421"),
    ("RS", "RSD", "381"),
];

/// ISO 4217 currencies accepted for COD (each GLS country's own).
pub fn cod_currencies() -> Vec<String> {
    let mut list: Vec<String> = COUNTRIES.iter().map(|(_, c, _)| (*c).to_owned()).collect();
    list.sort();
    list.dedup();
    list
}

/// The configured MyGLS country, upper case, checked.
pub fn country(value: &str) -> Result<String, ConnectorError> {
    let upper = value.trim().to_ascii_uppercase();
    if COUNTRIES.iter().any(|(code, _, _)| *code == upper) {
        Ok(upper)
    } else {
        Err(ConnectorError::invalid_field(
            "country",
            format!("{value:?} has no MyGLS instance; one of HU, HR, CZ, RO, SI, SK, RS"),
        ))
    }
}

/// `https://api.mygls.{cc}` for a configured country.
pub fn default_api_base(country: &str) -> String {
    format!("https://api.mygls.{}", country.to_ascii_lowercase())
}

/// `LanguageIsoCode` for tracking texts: ISO 639-1 of the account's country.
pub fn language(country: &str) -> &'static str {
    match country {
        "HU" => "HU",
        "HR" => "HR",
        "CZ" => "CS",
        "RO" => "RO",
        "SI" => "SL",
        "SK" => "SK",
        // Serbian is not among the documented values (UNCONFIRMED); English is.
        _ => "EN",
    }
}

/// SHA-512 of the UTF-8 password: MyGLS wants the 64 digest bytes as a JSON array.
pub fn password_digest(password: &str) -> Vec<u8> {
    Sha512::digest(password.as_bytes()).to_vec()
}

/// Fields every request carries. `DeleteLabels` must not get `ClientNumberList`.
pub fn auth_fields(
    username: &str,
    password: &str,
    client_number: Option<i64>,
) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("Username".into(), json!(username));
    map.insert("Password".into(), json!(password_digest(password)));
    if let Some(number) = client_number {
        map.insert("ClientNumberList".into(), json!([number]));
    }
    map.insert("WebshopEngine".into(), json!(WEBSHOP_ENGINE));
    map
}

/// A WCF JSON date for requests: `/Date(ms)/`.
pub fn wcf_date(at: OffsetDateTime) -> String {
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    format!("/Date({ms})/")
}

/// Parses `/Date(1700000000000)/` or `/Date(1700000000000+0100)/` (the milliseconds are
/// UTC; the offset is informational) into RFC 3339 UTC.
pub fn parse_wcf_date(text: &str) -> Result<String, ConnectorError> {
    let bad = || ConnectorError::Other(format!("GLS sent {text:?}, not a /Date(ms)/ date"));
    let inner = text
        .trim()
        .strip_prefix("/Date(")
        .and_then(|rest| rest.strip_suffix(")/"))
        .ok_or_else(bad)?;
    let split = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(index, _)| index);
    let (ms, offset) = inner.split_at(split);
    if !offset.is_empty() && (offset.len() != 5 || !offset[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let ms: i64 = ms.parse().map_err(|_| bad())?;
    let at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|_| bad())?;
    Ok(time::format_utc(at))
}

/// Splits a house number as given ("12a", "2/b", "12 A") into `HouseNumber` (digits)
/// and `HouseNumberInfo` (the rest).
pub fn split_house_number(value: &str) -> (String, String) {
    let value = value.trim();
    let digits_end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, rest) = value.split_at(digits_end);
    (number.to_owned(), rest.trim().to_owned())
}

/// Splits "Slovenska cesta 12a" into ("Slovenska cesta", "12", "a") with the rule
/// `^(.+?)\s+(\d+)\s*([a-zA-Z/].*)?$`; `None` when the line has no trailing number.
pub fn split_street_line(line: &str) -> Option<(String, String, String)> {
    let line = line.trim();
    // The house number is the last whitespace-separated part that starts with a digit.
    let (street, tail) = line.rsplit_once(char::is_whitespace)?;
    let (street, tail) = if tail.starts_with(|c: char| c.is_ascii_digit()) {
        (street.trim_end(), tail.to_owned())
    } else {
        // "Slovenska cesta 12 a": a lone suffix after the number.
        let (before, number) = street.trim_end().rsplit_once(char::is_whitespace)?;
        let suffix_ok = tail.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/');
        if !number.starts_with(|c: char| c.is_ascii_digit()) || !suffix_ok {
            return None;
        }
        (before.trim_end(), format!("{number}{tail}"))
    };
    if street.is_empty() {
        return None;
    }
    let (number, info) = split_house_number(&tail);
    let info_ok = info.is_empty()
        || info.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '-');
    if number.is_empty() || !info_ok {
        return None;
    }
    Some((street.to_owned(), number, info))
}

/// Street, `HouseNumber` and `HouseNumberInfo` for an address: the separate fields when
/// the shop gave them, else split from `line1`.
pub fn street_parts(
    address: &Address,
    who: &str,
) -> Result<(String, String, String), ConnectorError> {
    let from_line = || {
        address
            .line1
            .as_deref()
            .or(address.street.as_deref())
            .and_then(split_street_line)
    };
    let parts = match (address.street.as_deref(), address.house_number.as_deref()) {
        (Some(street), Some(number)) if !street.trim().is_empty() && !number.trim().is_empty() => {
            let (number, info) = split_house_number(number);
            (street.trim().to_owned(), number, info)
        }
        _ => match from_line() {
            Some(parts) => parts,
            None => {
                let street = address
                    .street
                    .as_deref()
                    .or(address.line1.as_deref())
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                if street.is_empty() {
                    return Err(ConnectorError::invalid_field(
                        format!("{who}.street"),
                        format!("the {who}'s street is missing"),
                    ));
                }
                return Err(ConnectorError::invalid_field(
                    format!("{who}.house-number"),
                    format!(
                        "no house number found in {street:?}; GLS needs the number apart from the street"
                    ),
                ));
            }
        },
    };
    if parts.1.is_empty() {
        return Err(ConnectorError::invalid_field(
            format!("{who}.house-number"),
            format!(
                "the house number must start with digits, got {:?}",
                address.house_number
            ),
        ));
    }
    if parts.1.bytes().all(|b| b == b'0') {
        return Err(ConnectorError::invalid_field(
            format!("{who}.house-number"),
            "GLS refuses house number 0",
        ));
    }
    Ok(parts)
}

/// A phone number in international form (`+38640111222`) for the address's country:
/// separators dropped, `00` → `+`, a national trunk `0` (Hungary: `06`) replaced by the
/// calling code. `None` when nothing usable is left.
pub fn normalize_phone(phone: &str, country: &str) -> Option<String> {
    let trimmed = phone.trim();
    let plus = trimmed.starts_with('+');
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return None;
    }
    if plus {
        return Some(format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return Some(format!("+{rest}"));
    }
    let calling = COUNTRIES
        .iter()
        .find(|(code, _, _)| *code == country)
        .map(|(_, _, calling)| *calling);
    let Some(calling) = calling else {
        return Some(digits);
    };
    let national = if country == "HU" {
        digits
            .strip_prefix("06")
            .or_else(|| digits.strip_prefix('0'))
    } else {
        digits.strip_prefix('0')
    };
    match national {
        Some(national) => Some(format!("+{calling}{national}")),
        // Already with the calling code but without `+`.
        None if digits.starts_with(calling) && digits.len() > 9 => Some(format!("+{digits}")),
        None => Some(format!("+{calling}{digits}")),
    }
}

/// Maps an address to MyGLS's `Address`.
pub fn address_json(address: &Address, who: &str) -> Result<Value, ConnectorError> {
    let field = |name: &str, value: Option<&str>| -> Result<String, ConnectorError> {
        value
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                ConnectorError::invalid_field(
                    format!("{who}.{name}"),
                    format!("the {who}'s {name} is required"),
                )
            })
    };
    let country = field("country", address.country.as_deref())?.to_ascii_uppercase();
    let person = address
        .name
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let company = address
        .company
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let name = company.or(person).ok_or_else(|| {
        ConnectorError::invalid_field(
            format!("{who}.name"),
            format!("the {who}'s name is required"),
        )
    })?;
    let (street, number, info) = street_parts(address, who)?;
    let phone = address
        .phone
        .as_deref()
        .and_then(|phone| normalize_phone(phone, &country))
        .unwrap_or_default();
    Ok(json!({
        "Name": name,
        "Street": street,
        "HouseNumber": number,
        "HouseNumberInfo": info,
        "City": field("city", address.city.as_deref())?,
        "ZipCode": field("postal-code", address.postal_code.as_deref())?,
        "CountryIsoCode": country,
        "ContactName": person.or(company).unwrap_or(name),
        "ContactPhone": phone,
        "ContactEmail": address.email.as_deref().map(str::trim).unwrap_or(""),
    }))
}

/// Services that need no parameter: sent as `{"Code": ..}`.
const PLAIN_SERVICES: &[&str] = &[
    "24H", "PRS", "PSS", "SAT", "SBS", "SRS", "T09", "T10", "T12", "TGS", "XS", "SHD",
];

/// The `ServiceList` for a request: PSD from the pickup point, COD when collecting,
/// FDS / SM2 / SM1 / CS1 filled from the recipient's e-mail and phone.
pub fn service_list(
    request: &ShipmentRequest,
    delivery: &Value,
) -> Result<Vec<Value>, ConnectorError> {
    let mut list = Vec::new();
    let email = delivery["ContactEmail"].as_str().unwrap_or("");
    let phone = delivery["ContactPhone"].as_str().unwrap_or("");
    let need = |value: &str, what: &str, code: &str| {
        if value.is_empty() {
            Err(ConnectorError::invalid_field(
                format!("recipient.{what}"),
                format!("GLS service {code} needs the recipient's {what}"),
            ))
        } else {
            Ok(())
        }
    };
    if let Some(point) = &request.pickup_point {
        let id = point.id.trim();
        if id.is_empty() {
            return Err(ConnectorError::invalid_field(
                "pickup-point.id",
                "the ParcelShop id is empty",
            ));
        }
        // With PSD, GLS requires the recipient's name, phone and e-mail.
        need(phone, "phone", "PSD")?;
        need(email, "email", "PSD")?;
        list.push(json!({"Code": "PSD", "PSDParameter": {"StringValue": id}}));
    }
    if request.cash_on_delivery.is_some() {
        list.push(json!({"Code": "COD"}));
    }
    let mut seen: Vec<String> = Vec::new();
    for raw in &request.services {
        let code = raw.trim().to_ascii_uppercase();
        if seen.contains(&code) || code == "COD" {
            continue;
        }
        let service = match code.as_str() {
            "PSD" if request.pickup_point.is_some() => continue,
            "PSD" => {
                return Err(ConnectorError::invalid_field(
                    "pickup-point",
                    "PSD (ParcelShop delivery) needs a pickup point",
                ));
            }
            "FDS" => {
                need(email, "email", "FDS")?;
                json!({"Code": "FDS", "FDSParameter": {"Value": email}})
            }
            "SM2" => {
                need(phone, "phone", "SM2")?;
                json!({"Code": "SM2", "SM2Parameter": {"StringValue": phone}})
            }
            "SM1" => {
                need(phone, "phone", "SM1")?;
                json!({"Code": "SM1", "SM1Parameter": {"Value": format!("{phone}|#ParcelNr#")}})
            }
            "CS1" => {
                need(phone, "phone", "CS1")?;
                json!({"Code": "CS1", "CS1Parameter": {"Value": phone}})
            }
            plain if PLAIN_SERVICES.contains(&plain) => json!({"Code": plain}),
            other => {
                return Err(ConnectorError::invalid_field(
                    "services",
                    format!("GLS service {other:?} is not supported by this connector"),
                ));
            }
        };
        seen.push(code);
        list.push(service);
    }
    Ok(list)
}

/// Checks a COD and returns (amount, currency): positive, at most 2 decimals, in the
/// destination country's currency, and only to a GLS country.
pub fn cod(
    request: &ShipmentRequest,
    destination: &str,
) -> Result<Option<(f64, String)>, ConnectorError> {
    let Some(cod) = &request.cash_on_delivery else {
        return Ok(None);
    };
    let amount = money::parse_decimal(&cod.amount).map_err(|e| {
        ConnectorError::invalid_field("cash-on-delivery.amount", e.message().to_owned())
    })?;
    if amount <= money::Decimal::ZERO {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.amount",
            format!("the COD amount must be positive, got {}", cod.amount),
        ));
    }
    if amount.normalize().scale() > 2 {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.amount",
            format!("the COD amount {} has more than 2 decimals", cod.amount),
        ));
    }
    let Some((_, local, _)) = COUNTRIES.iter().find(|(code, _, _)| *code == destination) else {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery",
            format!(
                "GLS collects cash on delivery only in HU, HR, CZ, RO, SI, SK and RS, not {destination}"
            ),
        ));
    };
    let currency = cod.currency.trim().to_ascii_uppercase();
    if currency != *local {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.currency",
            format!(
                "COD to {destination} must be in {local} (the destination's currency), not {currency}"
            ),
        ));
    }
    let amount: f64 = money::format_decimal(amount)
        .parse()
        .map_err(|_| ConnectorError::invalid_field("cash-on-delivery.amount", "not a number"))?;
    Ok(Some((amount, currency)))
}

/// The MyGLS `Parcel` for one shipment request.
pub fn parcel_json(
    request: &ShipmentRequest,
    client_number: i64,
    pickup_date: &str,
) -> Result<Value, ConnectorError> {
    let reference = request.reference.trim();
    if reference.is_empty() {
        return Err(ConnectorError::invalid_field(
            "reference",
            "the shipment reference is empty",
        ));
    }
    let count = request.parcels.len().max(1);
    if count > 99 {
        return Err(ConnectorError::invalid_field(
            "parcels",
            format!("GLS takes 1 to 99 parcels per shipment, got {count}"),
        ));
    }
    let pickup = address_json(&request.sender, "sender")?;
    let delivery = address_json(&request.recipient, "recipient")?;
    let destination = delivery["CountryIsoCode"].as_str().unwrap_or("").to_owned();
    let services = service_list(request, &delivery)?;
    let mut parcel = json!({
        "ClientNumber": client_number,
        "ClientReference": reference,
        "Count": count,
        "Content": request.note.as_deref().unwrap_or(reference),
        "PickupDate": pickup_date,
        "PickupAddress": pickup,
        "DeliveryAddress": delivery,
        "ServiceList": services,
    });
    if let Some((amount, currency)) = cod(request, &destination)? {
        let cod_reference = request
            .cash_on_delivery
            .as_ref()
            .and_then(|cod| cod.reference.as_deref())
            .filter(|r| !r.trim().is_empty())
            .unwrap_or(reference);
        parcel["CODAmount"] = json!(amount);
        parcel["CODCurrency"] = json!(currency);
        parcel["CODReference"] = json!(cod_reference);
    }
    Ok(parcel)
}

/// `TypeOfPrinter` for a requested label format: a MyGLS printer type as is, or the
/// generic `A4` / `A6` / `10x15` / `ZPL`.
pub fn printer_type(format: Option<&str>, default: &str) -> Result<String, ConnectorError> {
    let Some(format) = format.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(default.to_owned());
    };
    if let Some(known) = PRINTER_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(format))
    {
        return Ok((*known).to_owned());
    }
    match format.to_ascii_uppercase().as_str() {
        "A4" | "PDF" => Ok("A4_2x2".into()),
        "A6" | "10X15" => Ok("Thermo".into()),
        "ZPL" => Ok("ThermoZPL".into()),
        _ => Err(ConnectorError::invalid_field(
            "format",
            format!(
                "unknown label format {format:?}; one of {}",
                PRINTER_TYPES.join(", ")
            ),
        )),
    }
}

/// The content type of the `Labels` bytes for a printer type.
pub fn label_content_type(printer: &str) -> &'static str {
    if printer.to_ascii_uppercase().contains("ZPL") {
        "application/zpl"
    } else {
        "application/pdf"
    }
}

/// `ErrorInfo` from any of the per-method error lists.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ErrorInfo {
    pub error_code: i64,
    pub error_description: Option<String>,
    pub client_reference_list: Option<Vec<String>>,
    pub parcel_id_list: Option<Vec<i64>>,
}

impl ErrorInfo {
    pub fn references(&self) -> &[String] {
        self.client_reference_list.as_deref().unwrap_or(&[])
    }

    pub fn parcel_ids(&self) -> &[i64] {
        self.parcel_id_list.as_deref().unwrap_or(&[])
    }

    /// Whether the error concerns the login or account rather than one parcel.
    pub fn is_auth(&self) -> bool {
        matches!(self.error_code, -1 | 14 | 27)
    }

    fn text(&self) -> String {
        format!(
            "GLS error {}: {}",
            self.error_code,
            self.error_description
                .as_deref()
                .unwrap_or("(no description)")
        )
    }

    /// The typed error for this code.
    pub fn to_error(&self) -> ConnectorError {
        let text = self.text();
        let field = |name: &str| ConnectorError::invalid_field(name, text.clone());
        match self.error_code {
            -1 | 14 => ConnectorError::Auth(format!(
                "{text} (check the MyGLS username, password and country)"
            )),
            27 => ConnectorError::Auth(format!("{text} (check the client number)")),
            31 => ConnectorError::rate_limited(Some(300_000), text),
            1000 | 1001 | 19 | 20 => ConnectorError::Transient(text),
            4 | 9 | 26 => ConnectorError::NotFound(text),
            8 => field("cash-on-delivery.amount"),
            23 => field("recipient.house-number"),
            28 | 29 => field("parcels"),
            30 => field("services"),
            24 | 25 => field("created-since"),
            13 => match self
                .error_description
                .as_deref()
                .and_then(field_from_description)
            {
                Some(name) => field(&name),
                None => ConnectorError::invalid_input(text),
            },
            _ => ConnectorError::invalid_input(text),
        }
    }
}

/// Guesses the offending field from a validation text naming a MyGLS property.
pub fn field_from_description(description: &str) -> Option<String> {
    let who = if description.contains("PickupAddress") {
        "sender"
    } else {
        "recipient"
    };
    let names = [
        ("HouseNumber", "house-number"),
        ("ZipCode", "postal-code"),
        ("CountryIsoCode", "country"),
        ("ContactPhone", "phone"),
        ("ContactEmail", "email"),
        ("ContactName", "name"),
        ("Street", "street"),
        ("City", "city"),
        ("Name", "name"),
    ];
    names
        .iter()
        .find(|(gls, _)| description.contains(gls))
        .map(|(_, ours)| format!("{who}.{ours}"))
}

/// Reads a method's error list (absent or null = no errors).
pub fn error_list(body: &Value, list: &str) -> Result<Vec<ErrorInfo>, ConnectorError> {
    match body.get(list) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => Ok(serde_json::from_value(value.clone())?),
    }
}

/// The first error that concerns the whole request (auth, rate limit, or one naming no
/// parcel when nothing succeeded) as the typed error.
pub fn request_error(errors: &[ErrorInfo]) -> Option<ConnectorError> {
    errors
        .iter()
        .find(|e| e.is_auth() || e.error_code == 31)
        .map(ErrorInfo::to_error)
}

/// `Labels` / `POD`: a JSON array of byte values (null = none).
pub fn bytes_field(body: &Value, name: &str) -> Result<Vec<u8>, ConnectorError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => Ok(serde_json::from_value(value.clone())?),
    }
}

/// One parcel piece in `PrintLabelsInfoList` / `PrintDataInfoList`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ParcelInfo {
    pub client_reference: Option<String>,
    pub parcel_id: i64,
    pub parcel_number: Option<i64>,
    pub parcel: Option<Value>,
}

pub fn parcel_infos(body: &Value, list: &str) -> Result<Vec<ParcelInfo>, ConnectorError> {
    match body.get(list) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => Ok(serde_json::from_value(value.clone())?),
    }
}

/// Our shipment id: the `ParcelId`s of its pieces, comma-separated, first = main.
pub fn shipment_id(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The `ParcelId`s in a shipment id.
pub fn parse_shipment_id(id: &str) -> Result<Vec<i64>, ConnectorError> {
    let ids: Result<Vec<i64>, _> = id
        .split(',')
        .map(|part| part.trim().parse::<i64>())
        .collect();
    match ids {
        Ok(ids) if !ids.is_empty() => Ok(ids),
        _ => Err(ConnectorError::invalid_field(
            "shipment-id",
            format!("{id:?} is not a GLS ParcelId list"),
        )),
    }
}

/// Normalized status for a GLS `StatusCode` (string, maybe zero-padded), per the table
/// in carriers.md 1.8.
pub fn map_status(code: &str) -> ShipmentStatus {
    let Ok(code) = code.trim().parse::<u32>() else {
        return ShipmentStatus::Unknown;
    };
    match code {
        51 | 52 | 83 | 84 | 85 | 88 => ShipmentStatus::Pending,
        1 | 86 => ShipmentStatus::PickedUp,
        2 | 3 | 6 | 7 | 26 | 47 | 53 | 81 => ShipmentStatus::InTransit,
        4 | 32 => ShipmentStatus::OutForDelivery,
        55 | 56 => ShipmentStatus::ReadyForPickup,
        5 | 8 | 54 | 58 => ShipmentStatus::Delivered,
        11 | 12 | 14..=20 | 33..=39 | 43 => ShipmentStatus::DeliveryFailed,
        13 | 21 | 22 | 24 | 25 | 82 => ShipmentStatus::DeliveryDelayed,
        9 | 28 | 30 | 31 | 46 | 80 | 89 => ShipmentStatus::OnHold,
        23 | 57 => ShipmentStatus::ReturnToSender,
        91 => ShipmentStatus::Cancelled,
        _ => ShipmentStatus::Unknown,
    }
}

/// One `ParcelStatus`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ParcelStatus {
    pub status_code: Option<String>,
    pub status_date: Option<String>,
    pub status_description: Option<String>,
    pub status_info: Option<String>,
    pub depot_city: Option<String>,
    pub depot_number: Option<String>,
}

/// Tracking events from a `GetParcelStatuses` answer, oldest first (GLS lists newest
/// first).
pub fn tracking_events(
    body: &Value,
) -> Result<Vec<tovor_sdk::carrier::TrackingEvent>, ConnectorError> {
    let statuses: Vec<ParcelStatus> = match body.get("ParcelStatusList") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value.clone())?,
    };
    let mut events = Vec::new();
    for status in statuses.into_iter().rev() {
        let code = status.status_code.unwrap_or_default().trim().to_owned();
        let at = parse_wcf_date(status.status_date.as_deref().unwrap_or(""))?;
        let mut text = status
            .status_description
            .unwrap_or_default()
            .trim()
            .to_owned();
        if let Some(info) = status
            .status_info
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            text = if text.is_empty() {
                info.to_owned()
            } else {
                format!("{text} ({info})")
            };
        }
        events.push(tovor_sdk::carrier::TrackingEvent {
            at,
            status: map_status(&code),
            raw_code: code,
            raw_text: text,
            location: status
                .depot_city
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
        });
    }
    // RFC 3339 UTC strings of one shape sort chronologically; stable for equal times.
    events.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(events)
}

#[cfg(test)]
mod tests;
