//! MyGLS JSON: request building and response mapping, free of I/O so it is unit-tested
//! natively.
//!
//! Facts from the MyGLS API documentation ("MyGLS API for system integration",
//! ver. 25.12.11): methods, fields, error codes (appendix A) and services (appendix B).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha512};
use tovor_sdk::carrier::{
    LabelFormat, PaperSize, Service, ShipmentRequest, ShipmentStatus, TrackingEvent,
};
use tovor_sdk::money;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{Address, ConnectorError, Timestamp};

/// A MyGLS `TypeOfPrinter`: the layout GLS renders labels in, and the paper it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterType {
    /// The value of `TypeOfPrinter`.
    pub name: &'static str,
    /// The paper the layout is made for, as the contract names it.
    pub paper: PaperSize,
    /// Other paper the host may ask for that the layout prints on as well: GLS's thermal
    /// labels are 100 × 150 mm, which label printers loaded with A6 take too.
    pub also_prints_on: &'static [PaperSize],
    pub content_type: &'static str,
}

impl PrinterType {
    /// Whether labels in this layout come out on `paper`.
    pub fn prints_on(&self, paper: PaperSize) -> bool {
        self.paper == paper || self.also_prints_on.contains(&paper)
    }
}

const PDF: &str = "application/pdf";
const ZPL: &str = "application/zpl";
const THERMAL_ALSO: &[PaperSize] = &[PaperSize::A6];

/// The printer types MyGLS knows, the preferred one of each paper first: A4 sheets
/// with four labels (in a 2×2 grid or stacked 4×1), and 100 × 150 mm thermal labels as
/// PDF or ZPL. `Connect` (GLS's own label printer) is taken to print thermal labels
/// too; the documentation names it without saying its paper.
pub const PRINTER_TYPES: &[PrinterType] = &[
    PrinterType {
        name: "A4_2x2",
        paper: PaperSize::A4,
        also_prints_on: &[],
        content_type: PDF,
    },
    PrinterType {
        name: "A4_4x1",
        paper: PaperSize::A4,
        also_prints_on: &[],
        content_type: PDF,
    },
    PrinterType {
        name: "Thermo",
        paper: PaperSize::Label100x150,
        also_prints_on: THERMAL_ALSO,
        content_type: PDF,
    },
    PrinterType {
        name: "Connect",
        paper: PaperSize::Label100x150,
        also_prints_on: THERMAL_ALSO,
        content_type: PDF,
    },
    PrinterType {
        name: "ShipItThermoPdf",
        paper: PaperSize::Label100x150,
        also_prints_on: THERMAL_ALSO,
        content_type: PDF,
    },
    PrinterType {
        name: "ThermoZPL",
        paper: PaperSize::Label100x150,
        also_prints_on: THERMAL_ALSO,
        content_type: ZPL,
    },
    PrinterType {
        name: "ThermoZPL_300DPI",
        paper: PaperSize::Label100x150,
        also_prints_on: THERMAL_ALSO,
        content_type: ZPL,
    },
    PrinterType {
        name: "ShipItThermoZpl",
        paper: PaperSize::Label100x150,
        also_prints_on: THERMAL_ALSO,
        content_type: ZPL,
    },
];

/// The printer type called `name` (case-insensitive); `invalid-input` naming `field`.
pub fn printer_type_named(name: &str, field: &str) -> Result<PrinterType, ConnectorError> {
    PRINTER_TYPES
        .iter()
        .find(|printer| printer.name.eq_ignore_ascii_case(name.trim()))
        .copied()
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                field,
                format!(
                    "{name:?} is not a MyGLS printer type; one of {}",
                    printer_type_names().join(", ")
                ),
            )
        })
}

/// The `TypeOfPrinter` names, in [`PRINTER_TYPES`] order.
pub fn printer_type_names() -> Vec<&'static str> {
    PRINTER_TYPES.iter().map(|printer| printer.name).collect()
}

/// The printer type for labels on `paper`: the account's own choice when it prints on
/// that paper (the contract names only the paper, so the setting decides between
/// `A4_2x2` and `A4_4x1`, or PDF and ZPL), else the preferred one for the paper.
pub fn printer_for(
    paper: PaperSize,
    configured: PrinterType,
) -> Result<PrinterType, ConnectorError> {
    if configured.prints_on(paper) {
        return Ok(configured);
    }
    PRINTER_TYPES
        .iter()
        .find(|printer| printer.prints_on(paper))
        .copied()
        .ok_or_else(|| {
            ConnectorError::unsupported(&format!(
                "labels on {} paper: GLS prints on A4 sheets and on 100 × 150 mm (or A6) \
                 thermal labels",
                paper_name(paper)
            ))
            .with_field("size")
        })
}

/// The formats for the `labels` capability, the default (`A4_2x2`) first.
pub fn label_formats() -> Vec<LabelFormat> {
    PRINTER_TYPES
        .iter()
        .map(|printer| LabelFormat {
            size: printer.paper,
            carrier_name: printer.name.to_owned(),
            content_type: printer.content_type.to_owned(),
        })
        .collect()
}

fn paper_name(paper: PaperSize) -> &'static str {
    match paper {
        PaperSize::A4 => "A4",
        PaperSize::A5 => "A5",
        PaperSize::A6 => "A6",
        PaperSize::Label100x150 => "100 × 150 mm",
        PaperSize::Label100x100 => "100 × 100 mm",
    }
}

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
/// UTC; the offset is informational).
pub fn parse_wcf_date(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    let bad = || ConnectorError::other(format!("GLS sent {text:?}, not a /Date(ms)/ date"));
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
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|_| bad())
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

/// How a service gets into a parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSource {
    /// From the request itself, not from `services`: `COD` from the cash on delivery,
    /// `PSD` from the pickup point.
    Implied,
    /// Named in `services`, sent as `{"Code": ..}`.
    Plain,
    /// Named in `services`, with a parameter the connector fills in from the recipient.
    Parameter,
}

/// A service of MyGLS's list (appendix B) that this connector sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlsService {
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub source: ServiceSource,
    /// The MyGLS countries that offer it; empty for all.
    pub countries: &'static [&'static str],
}

const fn service(
    code: &'static str,
    name: &'static str,
    description: &'static str,
    source: ServiceSource,
) -> GlsService {
    GlsService {
        code,
        name,
        description,
        source,
        countries: &[],
    }
}

/// The services this connector offers. Those with a parameter MyGLS cannot get from the
/// shipment (ADR dangerous goods, DDS/SDS delivery dates, DPV/INS declared values,
/// SZL document numbers, LRS locker returns) are left out. [`service_list`] builds them.
pub const SERVICES: &[GlsService] = &[
    service(
        "COD",
        "Cash on delivery",
        "Added when the shipment has an amount to collect (in the destination country's currency).",
        ServiceSource::Implied,
    ),
    service(
        "PSD",
        "ParcelShop delivery",
        "Added when the shipment goes to a pickup point (ParcelShop or parcel locker); GLS then needs the recipient's phone and e-mail.",
        ServiceSource::Implied,
    ),
    service(
        "FDS",
        "FlexDelivery Service",
        "GLS e-mails the recipient (the recipient's e-mail is required) and lets them change the delivery.",
        ServiceSource::Parameter,
    ),
    service(
        "FSS",
        "FlexDelivery SMS Service",
        "FlexDelivery by SMS to the recipient's phone; only together with FDS.",
        ServiceSource::Parameter,
    ),
    service(
        "SM1",
        "SMS service",
        "An SMS with the parcel number to the recipient's phone.",
        ServiceSource::Parameter,
    ),
    service(
        "SM2",
        "SMS pre-advice",
        "An SMS before delivery to the recipient's phone.",
        ServiceSource::Parameter,
    ),
    service(
        "CS1",
        "Contact Service",
        "The driver calls the recipient's phone before delivering.",
        ServiceSource::Parameter,
    ),
    service(
        "AOS",
        "Addressee Only Service",
        "Handed only to the recipient named on the shipment.",
        ServiceSource::Parameter,
    ),
    service(
        "24H",
        "Guaranteed 24-hour delivery",
        "Delivery guaranteed within 24 hours.",
        ServiceSource::Plain,
    ),
    service(
        "T09",
        "Express service (T09)",
        "Express delivery by 9:00.",
        ServiceSource::Plain,
    ),
    service(
        "T10",
        "Express service (T10)",
        "Express delivery by 10:00.",
        ServiceSource::Plain,
    ),
    service(
        "T12",
        "Express service (T12)",
        "Express delivery by 12:00.",
        ServiceSource::Plain,
    ),
    service(
        "SAT",
        "Saturday service",
        "Delivery on Saturday.",
        ServiceSource::Plain,
    ),
    service(
        "PRS",
        "Pick & Return Service",
        "GLS picks a parcel up from the recipient and returns it to the sender.",
        ServiceSource::Plain,
    ),
    service(
        "PSS",
        "Pick & Ship Service",
        "GLS picks a parcel up at one address and delivers it to another.",
        ServiceSource::Plain,
    ),
    service(
        "XS",
        "Exchange Service",
        "The parcel is exchanged for one the recipient hands back.",
        ServiceSource::Plain,
    ),
    service(
        "TGS",
        "Think Green Service",
        "Carbon-neutral delivery.",
        ServiceSource::Plain,
    ),
    GlsService {
        countries: &["HU", "SI"],
        ..service(
            "SRS",
            "Shop Return Service",
            "The recipient can return the parcel at a ParcelShop.",
            ServiceSource::Plain,
        )
    },
];

/// Codes sent as `{"Code": ..}` that appendix B no longer lists (`SBS`, `SHD`): still
/// accepted, so shipping rules written for them keep working, but not offered.
const UNLISTED_PLAIN_SERVICES: &[&str] = &["SBS", "SHD"];

/// The services offered to an account of `country` (all when unknown).
pub fn services_for(country: Option<&str>) -> Vec<Service> {
    SERVICES
        .iter()
        .filter(|service| {
            service.countries.is_empty()
                || country.is_none_or(|country| service.countries.contains(&country))
        })
        .map(|service| Service {
            code: service.code.to_owned(),
            name: service.name.to_owned(),
            description: Some(service.description.to_owned()),
        })
        .collect()
}

/// The `ServiceList` for a request: PSD from the pickup point, COD when collecting,
/// FDS / FSS / SM2 / SM1 / CS1 / AOS filled from the recipient's e-mail, phone and
/// name, and the plain services as named.
pub fn service_list(
    request: &ShipmentRequest,
    delivery: &Value,
) -> Result<Vec<Value>, ConnectorError> {
    let mut list = Vec::new();
    let email = delivery["ContactEmail"].as_str().unwrap_or("");
    let phone = delivery["ContactPhone"].as_str().unwrap_or("");
    let contact = delivery["ContactName"].as_str().unwrap_or("");
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
    let codes: Vec<String> = request
        .services
        .iter()
        .map(|raw| raw.trim().to_ascii_uppercase())
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for code in &codes {
        let code = code.as_str();
        if seen.contains(&code) || code == "COD" {
            continue;
        }
        let service = match code {
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
            "FSS" => {
                // GLS refuses FSS without FDS (error 30): say so before sending.
                if !codes.iter().any(|other| other == "FDS") {
                    return Err(ConnectorError::invalid_field(
                        "services",
                        "GLS service FSS (FlexDelivery SMS) needs FDS as well",
                    ));
                }
                need(phone, "phone", "FSS")?;
                json!({"Code": "FSS", "FSSParameter": {"Value": phone}})
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
            "AOS" => {
                need(contact, "name", "AOS")?;
                json!({"Code": "AOS", "AOSParameter": {"Value": contact}})
            }
            plain
                if UNLISTED_PLAIN_SERVICES.contains(&plain)
                    || SERVICES.iter().any(|known| {
                        known.code == plain && known.source == ServiceSource::Plain
                    }) =>
            {
                json!({"Code": plain})
            }
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
    let amount = money::parse_decimal(&cod.amount)
        .map_err(|error| error.with_field("cash-on-delivery.amount"))?;
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

    /// The typed error for this code (appendix A of the MyGLS documentation), with the
    /// code as the platform's and the HTTP status GLS answered it with (200: MyGLS
    /// reports errors in the body).
    pub fn to_error(&self) -> ConnectorError {
        let text = self.text();
        let field = |name: &str| ConnectorError::invalid_field(name, text.clone());
        let error = match self.error_code {
            -1 => ConnectorError::auth(format!(
                "{text} (check the MyGLS username and password, and that they belong to the \
                 chosen country's MyGLS)"
            ))
            .with_field("password"),
            14 => ConnectorError::auth(format!("{text} (check the MyGLS username)"))
                .with_field("username"),
            27 => ConnectorError::auth(format!("{text} (check the client number)"))
                .with_field("client_number"),
            5 | 15 => ConnectorError::permission(text),
            31 => ConnectorError::rate_limited(Some(300_000), text),
            1000 | 1001 | 19 | 20 => ConnectorError::transient(text),
            4 | 9 | 26 => ConnectorError::not_found(text),
            8 => field("cash-on-delivery.amount"),
            48 => field("cash-on-delivery.currency"),
            23 => field("recipient.house-number"),
            28 | 29 => field("parcels"),
            30 => field("services"),
            32 => field("reference"),
            33 => field("note"),
            34 => field("printer_type"),
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
        };
        error
            .with_platform_code(self.error_code.to_string())
            .with_http_status(200)
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
/// of GLS status names (status list of the MyGLS documentation).
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
/// first), each with GLS's code and text.
pub fn tracking_events(body: &Value) -> Result<Vec<TrackingEvent>, ConnectorError> {
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
        events.push(TrackingEvent {
            at: Timestamp::from(at),
            status: map_status(&code),
            raw_code: code,
            raw_text: text,
            location: status
                .depot_city
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
        });
    }
    // Stable: events of the same second keep GLS's order.
    events.sort_by_key(|event| (event.at.seconds, event.at.nanoseconds));
    Ok(events)
}

#[cfg(test)]
mod tests;
