//! EasyShip requests and answers, free of I/O so they are unit-tested natively: the
//! `parcel_import` parameters of a shipment request, the `{status, errlog}` envelope and
//! its typed errors, parcel numbers, and tracking texts.
//!
//! Parameter names and parcel types follow DataLinx's DPD EasyShip SDK (`ParcelImport`,
//! `ParcelType`, `ParcelCODType`) and its recorded answer from easyship.si; the other
//! methods follow shop integrations calling easyship.si and easyship.hr.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tovor_sdk::carrier::{CreatedShipment, ShipmentRequest, ShipmentStatus, TrackingEvent};
use tovor_sdk::money::Decimal;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{Address, ConnectorError, ErrorKind, Timestamp};

/// EasyShip takes at most this many characters of a name (`name1`, `name2`); longer ones
/// are cut, as the integrations using EasyShip do.
pub const NAME_LIMIT: usize = 35;

/// `parcel_type` values.
pub mod parcel_type {
    /// DPD Classic: business recipients, business hours.
    pub const CLASSIC: &str = "D";
    /// DPD Classic with cash on delivery.
    pub const CLASSIC_COD: &str = "D-COD";
    /// DPD Home (B2C), with Predict notifications.
    pub const HOME: &str = "D-B2C";
    /// DPD Home with cash on delivery.
    pub const HOME_COD: &str = "D-COD-B2C";
    /// To a DPD parcel shop (Pickup point), by `pudo_id`.
    pub const PARCEL_SHOP: &str = "D-B2C-PSD";
}

/// The service that sends a parcel as DPD Classic whoever the recipient is.
pub const SERVICE_CLASSIC: &str = "classic";
/// The service that sends a parcel as DPD Home whoever the recipient is.
pub const SERVICE_HOME: &str = "home";
/// The service that has the courier check the recipient's identity document.
pub const SERVICE_ID_CHECK: &str = "id-check";

/// The EasyShip countries: each has its own instance, and an account of one does not
/// work on the other.
pub const COUNTRIES: &[&str] = &["SI", "HR"];

/// The configured country, checked, upper case.
pub fn country(value: &str) -> Result<&'static str, ConnectorError> {
    let upper = value.trim().to_ascii_uppercase();
    COUNTRIES
        .iter()
        .find(|code| **code == upper)
        .copied()
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                "country",
                format!(
                    "{value:?} has no DPD EasyShip; it is SI (easyship.si) or HR (easyship.hr)"
                ),
            )
        })
}

/// The API address of a country's EasyShip; methods are `{base}/parcel/{method}`.
pub fn default_api_base(country: &str) -> &'static str {
    match country {
        "HR" => "https://easyship.hr/api",
        _ => "https://easyship.si/api",
    }
}

/// Destinations whose currency this connector knows, for cash on delivery: EasyShip
/// takes `cod_amount` in the destination country's currency.
const DESTINATION_CURRENCIES: &[(&str, &str)] = &[
    ("SI", "EUR"),
    ("HR", "EUR"),
    ("AT", "EUR"),
    ("DE", "EUR"),
    ("IT", "EUR"),
    ("SK", "EUR"),
    ("CZ", "CZK"),
    ("HU", "HUF"),
    ("PL", "PLN"),
    ("RO", "RON"),
];

/// The currency DPD collects cash on delivery in for a destination country.
pub fn country_currency(country: &str) -> Option<&'static str> {
    DESTINATION_CURRENCIES
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, currency)| *currency)
}

/// The currencies cash on delivery may be in (each for its own countries only).
pub fn cod_currencies() -> Vec<String> {
    let mut currencies: Vec<String> = DESTINATION_CURRENCIES
        .iter()
        .map(|(_, currency)| (*currency).to_owned())
        .collect();
    currencies.sort();
    currencies.dedup();
    currencies
}

/// Which parcel type a recipient with a company name gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanyParcels {
    /// DPD Classic (`D`, `D-COD`).
    Classic,
    /// DPD Home, like everyone else.
    Home,
}

/// `parcel_cod_type`: how a shipment of several parcels collects its amount. `all` (each
/// parcel collects the whole amount) is left out on purpose: it collects it n times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodSplit {
    /// The first parcel collects the amount; the others are plain parcels.
    FirstOnly,
    /// Each parcel collects an equal share.
    Average,
}

impl CodSplit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstOnly => "firstonly",
            Self::Average => "avg",
        }
    }
}

/// The account's choices that shape `parcel_import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub company_parcels: CompanyParcels,
    pub cod_split: CodSplit,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            company_parcels: CompanyParcels::Classic,
            cod_split: CodSplit::FirstOnly,
        }
    }
}

impl Settings {
    /// From the `company_parcels` and `cod_split` settings (absent: the defaults).
    pub fn from_values(
        company_parcels: Option<&str>,
        cod_split: Option<&str>,
    ) -> Result<Self, ConnectorError> {
        let company_parcels = match company_parcels.map(|v| v.trim().to_ascii_lowercase()) {
            None => CompanyParcels::Classic,
            Some(value) if value == "classic" => CompanyParcels::Classic,
            Some(value) if value == "home" => CompanyParcels::Home,
            Some(value) => {
                return Err(ConnectorError::invalid_field(
                    "company_parcels",
                    format!("{value:?} is neither classic nor home"),
                ));
            }
        };
        let cod_split = match cod_split.map(|v| v.trim().to_ascii_lowercase()) {
            None => CodSplit::FirstOnly,
            Some(value) if value == "firstonly" => CodSplit::FirstOnly,
            Some(value) if value == "avg" => CodSplit::Average,
            Some(value) => {
                return Err(ConnectorError::invalid_field(
                    "cod_split",
                    format!("{value:?} is neither firstonly nor avg"),
                ));
            }
        };
        Ok(Self {
            company_parcels,
            cod_split,
        })
    }
}

/// The `parcel_import` parameters of one shipment request, credentials excluded, in a
/// fixed order. Refuses (`invalid-input` naming the request's field) what EasyShip
/// would refuse or what would go wrong silently.
pub fn import_params(
    request: &ShipmentRequest,
    settings: Settings,
) -> Result<Vec<(&'static str, String)>, ConnectorError> {
    let recipient = &request.recipient;
    let point = request
        .pickup_point
        .as_ref()
        .filter(|point| !point.id.trim().is_empty());
    let point_address = point.and_then(|point| point.address.as_ref());
    let services = Services::parse(&request.services)?;
    let mut params: Vec<(&'static str, String)> = Vec::new();

    // Who: the company when there is one (the person then as second name and contact).
    let person = non_blank(&recipient.name);
    let company = non_blank(&recipient.company);
    let (name1, name2) = match (company, person) {
        (Some(company), person) => (company, person),
        (None, Some(person)) => (person, None),
        (None, None) => {
            return Err(ConnectorError::invalid_field(
                "recipient.name",
                "DPD needs the recipient's name or company",
            ));
        }
    };
    params.push(("name1", truncate(name1, NAME_LIMIT)));
    if let Some(name2) = name2 {
        params.push(("name2", truncate(name2, NAME_LIMIT)));
        params.push(("contact", name2.to_owned()));
    }

    // Where: the recipient's address; for a parcel shop the point's address fills in
    // what the recipient's lacks (EasyShip requires street, city and postal code always).
    let (street, house_number) = street_and_number(recipient)
        .or_else(|| point_address.and_then(street_and_number))
        .ok_or_else(|| {
            ConnectorError::invalid_field("recipient.street", "DPD needs the recipient's street")
        })?;
    params.push(("street", street));
    if let Some(number) = house_number {
        params.push(("rPropNum", number));
    }
    let from_either = |get: fn(&Address) -> &Option<String>| {
        non_blank(get(recipient))
            .or_else(|| point_address.and_then(|address| non_blank(get(address))))
            .map(str::to_owned)
    };
    let city = from_either(|a| &a.city).ok_or_else(|| {
        ConnectorError::invalid_field("recipient.city", "DPD needs the recipient's city")
    })?;
    params.push(("city", city));
    let country = from_either(|a| &a.country)
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .ok_or_else(|| {
            ConnectorError::invalid_field(
                "recipient.country",
                "DPD needs the recipient's country as an ISO 3166 alpha-2 code",
            )
        })?;
    params.push(("country", country.clone()));
    let postal_code = from_either(|a| &a.postal_code).ok_or_else(|| {
        ConnectorError::invalid_field(
            "recipient.postal-code",
            "DPD needs the recipient's postal code",
        )
    })?;
    params.push(("pcode", postal_code));

    let email = non_blank(&recipient.email);
    let phone = non_blank(&recipient.phone);
    if let Some(email) = email {
        params.push(("email", email.to_owned()));
    }
    if let Some(phone) = phone {
        params.push(("phone", phone.to_owned()));
    }

    // What: parcels, type, weight, references.
    if request.parcels.is_empty() {
        return Err(ConnectorError::invalid_field(
            "parcels",
            "a shipment has at least one parcel",
        ));
    }
    params.push(("num_of_parcel", request.parcels.len().to_string()));
    let kind = parcel_kind(request, &services, settings, company.is_some())?;
    params.push(("parcel_type", kind.parcel_type.to_owned()));
    let grams = request.total_weight_grams();
    if grams > 0 {
        params.push(("weight", kilograms(grams)));
    }
    let reference = request.reference.trim();
    if reference.is_empty() {
        return Err(ConnectorError::invalid_field(
            "reference",
            "the shipment has no reference",
        ));
    }
    params.push(("order_number", reference.to_owned()));

    if let Some(cod) = &request.cash_on_delivery {
        let amount = cod.amount_decimal()?;
        params.push(("cod_amount", cod_amount(amount, &cod.currency, &country)?));
        let purpose = cod
            .reference
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(reference);
        params.push(("cod_purpose", purpose.to_owned()));
        if request.parcels.len() > 1 {
            params.push(("parcel_cod_type", settings.cod_split.as_str().to_owned()));
        }
    }
    if kind.b2c {
        params.push(("predict", "1".to_owned()));
    }
    if services.id_check {
        params.push(("is_id_check", "1".to_owned()));
        params.push(("id_check_receiver", person.unwrap_or(name1).to_owned()));
    }
    if let Some(point) = point {
        // A parcel shop delivery notifies the recipient and is weighed (EasyShip makes
        // e-mail, phone and weight mandatory for it).
        if email.is_none() {
            return Err(ConnectorError::invalid_field(
                "recipient.email",
                "DPD needs the recipient's e-mail for parcel shop delivery",
            ));
        }
        if phone.is_none() {
            return Err(ConnectorError::invalid_field(
                "recipient.phone",
                "DPD needs the recipient's phone number for parcel shop delivery",
            ));
        }
        if grams == 0 {
            return Err(ConnectorError::invalid_field(
                "parcels",
                "DPD needs the weight for parcel shop delivery",
            ));
        }
        params.push(("pudo_id", point.id.trim().to_owned()));
    }

    // The sender as printed on the label.
    let sender = &request.sender;
    if let Some(name) = non_blank(&sender.company).or(non_blank(&sender.name)) {
        params.push(("sender_name", truncate(name, NAME_LIMIT)));
    }
    if let Some((street, number)) = street_and_number(sender) {
        let line = match number {
            Some(number) => format!("{street} {number}"),
            None => street,
        };
        params.push(("sender_street", line));
    }
    for (name, value) in [
        ("sender_city", &sender.city),
        ("sender_pcode", &sender.postal_code),
        ("sender_phone", &sender.phone),
    ] {
        if let Some(value) = non_blank(value) {
            params.push((name, value.to_owned()));
        }
    }
    if let Some(country) = non_blank(&sender.country) {
        params.push(("sender_country", country.to_ascii_uppercase()));
    }
    if let Some(note) = non_blank(&request.note) {
        params.push(("sender_remark", note.to_owned()));
    }
    Ok(params)
}

/// The services of a request this connector knows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Services {
    classic: bool,
    home: bool,
    id_check: bool,
}

impl Services {
    /// Reads the codes; an unknown one is refused rather than dropped.
    fn parse(codes: &[String]) -> Result<Self, ConnectorError> {
        let mut services = Self::default();
        for code in codes {
            match code.trim().to_ascii_lowercase().as_str() {
                "" => {}
                SERVICE_CLASSIC => services.classic = true,
                SERVICE_HOME => services.home = true,
                SERVICE_ID_CHECK => services.id_check = true,
                other => {
                    return Err(ConnectorError::invalid_field(
                        "services",
                        format!(
                            "DPD has no service {other:?} here; this connector takes \
                             {SERVICE_CLASSIC}, {SERVICE_HOME} and {SERVICE_ID_CHECK}"
                        ),
                    ));
                }
            }
        }
        if services.classic && services.home {
            return Err(ConnectorError::invalid_field(
                "services",
                "a parcel is DPD Classic or DPD Home, not both",
            ));
        }
        Ok(services)
    }
}

/// The parcel type and whether it is a B2C one (Predict notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ParcelKind {
    parcel_type: &'static str,
    b2c: bool,
}

fn parcel_kind(
    request: &ShipmentRequest,
    services: &Services,
    settings: Settings,
    has_company: bool,
) -> Result<ParcelKind, ConnectorError> {
    let to_point = request
        .pickup_point
        .as_ref()
        .is_some_and(|point| !point.id.trim().is_empty());
    let cod = request.cash_on_delivery.is_some();
    let classic = services.classic
        || (!services.home && has_company && settings.company_parcels == CompanyParcels::Classic);
    let kind = |parcel_type, b2c| ParcelKind { parcel_type, b2c };
    if to_point {
        if cod {
            return Err(ConnectorError::invalid_field(
                "cash-on-delivery",
                "DPD EasyShip has no parcel type for cash on delivery to a parcel shop \
                 (D-B2C-PSD collects nothing); ship it home or without cash on delivery",
            ));
        }
        if services.classic {
            return Err(ConnectorError::invalid_field(
                "services",
                "DPD Classic goes to an address, not to a parcel shop",
            ));
        }
        return Ok(kind(parcel_type::PARCEL_SHOP, true));
    }
    Ok(match (cod, classic) {
        (true, true) => kind(parcel_type::CLASSIC_COD, false),
        (true, false) => kind(parcel_type::HOME_COD, true),
        (false, true) => kind(parcel_type::CLASSIC, false),
        (false, false) => kind(parcel_type::HOME, true),
    })
}

/// `cod_amount`: two decimals, in the destination country's currency. Amounts are never
/// rounded here: the customer pays what the shop says.
pub fn cod_amount(
    amount: Decimal,
    currency: &str,
    country: &str,
) -> Result<String, ConnectorError> {
    let currency = currency.trim().to_ascii_uppercase();
    match country_currency(country) {
        Some(expected) if expected == currency => {}
        Some(expected) => {
            return Err(ConnectorError::invalid_field(
                "cash-on-delivery.currency",
                format!(
                    "DPD collects cash on delivery in {country} in {expected} (the destination's \
                     currency), not in {currency}"
                ),
            ));
        }
        None => {
            return Err(ConnectorError::invalid_field(
                "cash-on-delivery.currency",
                format!(
                    "DPD collects cash on delivery in the destination country's currency, and \
                     this connector does not know {country}'s"
                ),
            ));
        }
    }
    if amount <= Decimal::ZERO {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.amount",
            format!("the amount to collect must be positive, not {amount}"),
        ));
    }
    if amount.normalize().scale() > 2 {
        return Err(ConnectorError::invalid_field(
            "cash-on-delivery.amount",
            format!("DPD takes at most two decimals, not {amount}"),
        ));
    }
    let mut two = amount;
    two.rescale(2);
    Ok(two.to_string())
}

/// Grams as kilograms with three decimals (`1200` → `"1.200"`).
pub fn kilograms(grams: u64) -> String {
    format!("{}.{:03}", grams / 1000, grams % 1000)
}

/// Street and house number of an address: the separate fields when given, else split
/// from the street line; a line without a number is sent whole (EasyShip takes a parcel
/// without `rPropNum`). `None` when there is no street at all.
pub fn street_and_number(address: &Address) -> Option<(String, Option<String>)> {
    let street = non_blank(&address.street);
    let number = non_blank(&address.house_number);
    if let (Some(street), Some(number)) = (street, number) {
        return Some((street.to_owned(), Some(number.to_owned())));
    }
    let line = street.or(non_blank(&address.line1))?;
    Some(match split_street(line) {
        Some((street, number)) => (street, Some(number)),
        None => (line.to_owned(), None),
    })
}

/// Splits a street line into street and house number the Slovenian and Croatian way:
/// `"Slovenska cesta 12a"` → (`"Slovenska cesta"`, `"12a"`), `"Cesta 24. junija 5 b"` →
/// (`"Cesta 24. junija"`, `"5b"`), `"Ilica 1/3"` → (`"Ilica"`, `"1/3"`). `None` when the
/// line does not end in a house number.
pub fn split_street(line: &str) -> Option<(String, String)> {
    let line = line.trim().trim_end_matches([',', '.']);
    let words: Vec<&str> = line.split_whitespace().collect();
    // The number is the last word, or the last but one when the last is a bare suffix.
    for number_at in (1..words.len()).rev().take(2) {
        let word = words[number_at].trim_end_matches(',');
        let digits = word.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let suffix: String = std::iter::once(&word[digits..])
            .chain(words[number_at + 1..].iter().copied())
            .collect();
        if !is_house_number_suffix(&suffix) {
            continue;
        }
        let street = words[..number_at].join(" ");
        let street = street.trim_end_matches(',');
        if street.is_empty() {
            return None;
        }
        return Some((street.to_owned(), format!("{}{suffix}", &word[..digits])));
    }
    None
}

/// `""`, `"a"`, `"ab"`, `"/b"`, `"/12"`, `"-14"`: what may follow a house number's digits.
fn is_house_number_suffix(suffix: &str) -> bool {
    let mut chars = suffix.chars();
    match chars.next() {
        None => true,
        Some('/' | '-') => {
            let rest = chars.as_str();
            !rest.is_empty() && rest.chars().count() <= 6 && rest.chars().all(char::is_alphanumeric)
        }
        Some(first) if first.is_alphabetic() => {
            suffix.chars().count() <= 3 && suffix.chars().all(char::is_alphabetic)
        }
        Some(_) => false,
    }
}

fn truncate(text: &str, limit: usize) -> String {
    text.chars()
        .take(limit)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The EasyShip method a request called, for messages and error kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Import,
    Print,
    Status,
    Delete,
    Cancel,
    Manifest,
}

impl Method {
    /// The path after `parcel/`.
    pub fn path(self) -> &'static str {
        match self {
            Self::Import => "parcel_import",
            Self::Print => "parcel_print",
            Self::Status => "parcel_status",
            Self::Delete => "parcel_delete",
            Self::Cancel => "parcel_cancel",
            Self::Manifest => "parcel_manifest_print",
        }
    }
}

/// An EasyShip JSON answer: `{"status": "ok" | "err", "errlog": null | "...", ...}`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
pub struct Answer {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub errlog: Option<Value>,
    /// `parcel_import`: one number per parcel label.
    #[serde(default)]
    pub pl_number: Option<Value>,
    /// `parcel_status`: the parcel's status as a text.
    #[serde(default)]
    pub parcel_status: Option<Value>,
}

/// Reads an answer: `Ok` for `status: ok`, the typed error for `status: err` (EasyShip
/// answers business errors with HTTP 200), `other` for anything that is not its JSON.
pub fn parse_answer(body: &[u8], method: Method) -> Result<Answer, ConnectorError> {
    let answer: Answer = serde_json::from_slice(body).map_err(|error| {
        ConnectorError::other(format!(
            "DPD EasyShip answered {} with something that is not its JSON ({error}): {}",
            method.path(),
            snippet(body)
        ))
    })?;
    match answer.status.as_deref().map(str::trim) {
        Some(status) if status.eq_ignore_ascii_case("ok") => Ok(answer),
        Some(status) if status.eq_ignore_ascii_case("err") => {
            let text = answer.errlog.as_ref().map(errlog_text).unwrap_or_default();
            Err(business_error(method, &text))
        }
        other => Err(ConnectorError::other(format!(
            "DPD EasyShip answered {} with status {other:?}: {}",
            method.path(),
            snippet(body)
        ))),
    }
}

/// `errlog` as text (a string, or a list of them).
fn errlog_text(errlog: &Value) -> String {
    match errlog {
        Value::Null => String::new(),
        Value::String(text) => text.trim().to_owned(),
        Value::Array(items) => items
            .iter()
            .map(errlog_text)
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// The error an `errlog` means for `method`. EasyShip has no error codes; the kind comes
/// from the words: the login (or the tracking key) refused → `auth`; `parcel_import` →
/// `invalid-input` naming the parameter the text names; an unknown parcel → `not-found`;
/// refusing to print, delete or cancel → `conflict`. Always with HTTP status 200, which
/// tells a business answer from a failed request.
pub fn business_error(method: Method, errlog: &str) -> ConnectorError {
    let text = if errlog.is_empty() {
        "no reason given".to_owned()
    } else {
        errlog.to_owned()
    };
    let lower = errlog.to_lowercase();
    let message = format!("DPD EasyShip {}: {text}", method.path());
    let error = if looks_like_auth(&lower) {
        // The setting to fix: the tracking key for parcel_status, else the login.
        let field = match method {
            Method::Status => "tracking_secret",
            _ => "password",
        };
        ConnectorError::auth(message).with_field(field)
    } else {
        match method {
            Method::Import => {
                let error = ConnectorError::invalid_input(message);
                match field_in(&lower) {
                    Some(field) => error.with_field(field),
                    None => error,
                }
            }
            Method::Status if looks_like_not_found(&lower) => ConnectorError::not_found(message),
            Method::Status => ConnectorError::other(message),
            Method::Print | Method::Delete | Method::Cancel | Method::Manifest
                if looks_like_not_found(&lower) =>
            {
                ConnectorError::not_found(message)
            }
            Method::Print | Method::Delete | Method::Cancel | Method::Manifest => {
                ConnectorError::conflict(message)
            }
        }
    };
    error.with_http_status(200)
}

/// Whether an error came from an EasyShip business answer (HTTP 200, `status: err`)
/// rather than from the transport.
pub fn is_business(error: &ConnectorError) -> bool {
    error.http_status == Some(200)
}

/// Words of a refused login or key, in English, Slovenian and Croatian.
fn looks_like_auth(lower: &str) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "username",
        "user name",
        "login",
        "log in",
        "authenticat",
        "unauthori",
        "credential",
        "secret",
        "geslo",
        "uporabni",
        "prijav",
        "lozink",
        "lozinka",
        "korisni",
    ];
    WORDS.iter().any(|word| lower.contains(word))
}

fn looks_like_not_found(lower: &str) -> bool {
    const WORDS: &[&str] = &[
        "not found",
        "not exist",
        "doesn't exist",
        "unknown parcel",
        "no parcel",
        "ne obstaja",
        "ni najden",
        "ne postoji",
        "nije pronađen",
    ];
    WORDS.iter().any(|word| lower.contains(word))
}

/// The request field an `errlog` names, in the contract's words: by EasyShip's
/// parameter name when the text carries one, else by a few common phrases.
pub fn field_in(lower: &str) -> Option<&'static str> {
    const PARAMETERS: &[(&str, &str)] = &[
        ("cod_amount", "cash-on-delivery.amount"),
        ("cod_purpose", "cash-on-delivery.reference"),
        ("parcel_cod_type", "cash-on-delivery"),
        ("pudo_id", "pickup-point"),
        ("num_of_parcel", "parcels"),
        ("weight", "parcels"),
        ("parcel_type", "services"),
        ("predict", "services"),
        ("id_check_receiver", "services"),
        ("rpropnum", "recipient.house-number"),
        ("pcode", "recipient.postal-code"),
        ("name1", "recipient.name"),
        ("name2", "recipient.name"),
        ("contact", "recipient.name"),
        ("street", "recipient.street"),
        ("city", "recipient.city"),
        ("country", "recipient.country"),
        ("email", "recipient.email"),
        ("phone", "recipient.phone"),
        ("order_number", "reference"),
        ("sender_name", "sender.name"),
        ("sender_street", "sender.street"),
        ("sender_city", "sender.city"),
        ("sender_pcode", "sender.postal-code"),
        ("sender_country", "sender.country"),
        ("sender_phone", "sender.phone"),
        ("sender_remark", "note"),
    ];
    const PHRASES: &[(&str, &str)] = &[
        ("postal code", "recipient.postal-code"),
        ("post code", "recipient.postal-code"),
        ("zip", "recipient.postal-code"),
        ("house number", "recipient.house-number"),
        ("e-mail", "recipient.email"),
    ];
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| !word.is_empty())
        .collect();
    PARAMETERS
        .iter()
        .find(|(name, _)| words.contains(name))
        .or_else(|| PHRASES.iter().find(|(phrase, _)| lower.contains(phrase)))
        .map(|(_, field)| *field)
}

/// The parcel numbers of a `parcel_import` answer (`["16962028228119", ...]`; numbers
/// are taken too).
pub fn pl_numbers(answer: &Answer) -> Result<Vec<String>, ConnectorError> {
    let missing = || {
        ConnectorError::other(
            "DPD EasyShip answered parcel_import with ok but without parcel numbers (pl_number)",
        )
    };
    let Some(Value::Array(items)) = &answer.pl_number else {
        return Err(missing());
    };
    let numbers = items
        .iter()
        .map(|item| {
            let text = match item {
                Value::String(text) => text.trim().to_owned(),
                Value::Number(number) => number.to_string(),
                other => other.to_string(),
            };
            if is_parcel_number(&text) {
                Ok(text)
            } else {
                Err(ConnectorError::other(format!(
                    "DPD EasyShip answered parcel_import with {text:?}, not a parcel number"
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if numbers.is_empty() {
        return Err(missing());
    }
    Ok(numbers)
}

/// The created shipment of a `parcel_import` answer: the shipment id is its parcel
/// numbers joined with commas (labels, cancelling and hand-over need all of them), the
/// tracking numbers are the parcel numbers.
pub fn created(reference: &str, answer: &Answer) -> Result<CreatedShipment, ConnectorError> {
    let numbers = pl_numbers(answer)?;
    Ok(CreatedShipment {
        reference: reference.to_owned(),
        shipment_id: numbers.join(","),
        tracking_numbers: numbers,
        label: None,
        created_at: Some(Timestamp::now()),
    })
}

fn is_parcel_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 32 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The parcel numbers of a shipment id (`"16962028228119,16962028228120"`).
pub fn parse_shipment_id(id: &str) -> Result<Vec<String>, ConnectorError> {
    let numbers: Vec<String> = id
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect();
    if numbers.is_empty() || !numbers.iter().all(|n| is_parcel_number(n)) {
        return Err(ConnectorError::invalid_field(
            "shipment-ids",
            format!("{id:?} is not a DPD shipment id (its parcel numbers, comma-separated)"),
        ));
    }
    Ok(numbers)
}

/// A tracking number, checked to be a DPD parcel number.
pub fn parse_parcel_number(text: &str) -> Result<String, ConnectorError> {
    let trimmed = text.trim();
    if is_parcel_number(trimmed) {
        Ok(trimmed.to_owned())
    } else {
        Err(ConnectorError::invalid_field(
            "tracking-numbers",
            format!("{text:?} is not a DPD parcel number"),
        ))
    }
}

/// A hand-over date, `YYYY-MM-DD`, checked (EasyShip's `date`).
pub fn parse_date(text: &str) -> Result<String, ConnectorError> {
    let bad =
        || ConnectorError::invalid_field("date", format!("{text:?} is not a date like 2026-03-02"));
    let trimmed = text.trim();
    let bytes = trimmed.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> Result<u32, ConnectorError> {
        let part = &trimmed[range];
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (month, day) = (number(5..7)?, number(8..10)?);
    number(0..4)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    Ok(trimmed.to_owned())
}

/// What the connector remembers of a parcel's status between polls: the normalized
/// text and when it was first seen, so an unchanged status keeps its time and the host
/// (which keeps an event once per tracking number, time and code) records it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    #[serde(rename = "c")]
    pub code: String,
    #[serde(rename = "a")]
    pub at: i64,
}

/// The status text as an event code: lower case, blanks collapsed.
pub fn status_code(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The one event a `parcel_status` answer makes, and what to remember when it is new.
/// An unchanged status keeps the time it was first seen; a new one is dated `now`.
pub fn status_event(
    raw_text: &str,
    seen: Option<&Seen>,
    now: OffsetDateTime,
) -> (TrackingEvent, Option<Seen>) {
    let code = status_code(raw_text);
    let (at, remember) = match seen {
        Some(seen) if seen.code == code => (seen.at, None),
        _ => {
            let at = now.unix_timestamp();
            (
                at,
                Some(Seen {
                    code: code.clone(),
                    at,
                }),
            )
        }
    };
    let event = TrackingEvent {
        at: Timestamp {
            seconds: at,
            nanoseconds: 0,
        },
        status: map_status(raw_text),
        raw_code: code,
        raw_text: raw_text.trim().to_owned(),
        location: None,
    };
    (event, remember)
}

/// The normalized status of an EasyShip status text, by keyword: printed or sent
/// (data with DPD, parcel not yet handed over) → pending; delivered → delivered;
/// cancelled or deleted → cancelled; anything else → unknown. The English words are
/// the ones integrations compare against; the Slovenian and Croatian ones are for an
/// account answering in its own language. A negated delivery ("not delivered") is
/// unknown rather than a guess.
pub fn map_status(text: &str) -> ShipmentStatus {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let any = |exact: &[&str], prefixes: &[&str]| {
        words.iter().any(|word| {
            exact.contains(word) || prefixes.iter().any(|prefix| word.starts_with(prefix))
        })
    };
    let negated = any(
        &["not", "ni", "nije", "undelivered"],
        &[
            "nedostavljen",
            "neisporučen",
            "neisporucen",
            "nevročen",
            "nevrocen",
        ],
    );
    if negated {
        return ShipmentStatus::Unknown;
    }
    if any(
        &["delivered"],
        &[
            "dostavljen",
            "vročen",
            "vrocen",
            "isporučen",
            "isporucen",
            "uručen",
            "urucen",
        ],
    ) {
        return ShipmentStatus::Delivered;
    }
    if any(
        &["cancelled", "canceled", "deleted", "storno"],
        &["storniran", "preklican", "izbrisan", "obrisan", "otkazan"],
    ) {
        return ShipmentStatus::Cancelled;
    }
    if any(&["printed", "sent"], &["natisnjen", "ispisan", "poslan"]) {
        return ShipmentStatus::Pending;
    }
    ShipmentStatus::Unknown
}

/// Whether the status ends tracking (nothing more is remembered for the parcel).
pub fn is_final(status: ShipmentStatus) -> bool {
    matches!(
        status,
        ShipmentStatus::Delivered | ShipmentStatus::Cancelled
    )
}

/// The start of a body for messages, at most 200 characters.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = collapsed.chars().take(200).collect();
    if collapsed.chars().count() > 200 {
        out.push('…');
    }
    out
}

/// Whether an error kind is the login's.
pub fn is_auth(error: &ConnectorError) -> bool {
    error.kind == ErrorKind::Auth
}
