//! One shipment as eOddaja takes it: a row of the `;`-separated hand-over CSV, and what
//! its label shows. Built from the shipment request both when the shipment is created
//! (to refuse what eOddaja would refuse before a number is spent) and when it is handed
//! over.
//!
//! The columns are those of eSpremnica's CSV import, in its order. Numbers are written
//! the Slovenian way, with a decimal comma (`49,90`), as the eSpremnica exports of
//! WooCommerce shops do; the mass in grams; the country as its ISO 3166 numeric code
//! (`705`); phones in the international form with `00` (`0038640111222`).

use tovor_sdk::address::non_blank;
use tovor_sdk::carrier::ShipmentRequest;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::types::{Address, ConnectorError};

use crate::countries;
use crate::s10::S10;

/// The CSV header: every column eSpremnica's import has, in its order.
pub const COLUMNS: [&str; 24] = [
    "VrstaPosiljke",
    "CrtnaKoda",
    "Naziv",
    "DodatenNaziv",
    "Naslov",
    "PostnaSt",
    "NazivPoste",
    "Drzava",
    "TelSt",
    "EMail",
    "IdNaslovnika",
    "Opomba",
    "Masa",
    "DodatneStoritve",
    "Odkupnina",
    "Vrednost",
    "VrstaVplDok",
    "RefX",
    "Model",
    "Sklic",
    "Namen",
    "OdkupninaVValuti",
    "Valuta",
    "Navodilo",
];

/// The additional service "odkupnina": cash on delivery.
pub const COD: &str = "ODK";
/// Cash on delivery, the variant some contracts use instead of [`COD`].
pub const COD_VARIANT: &str = "ODKBN";
/// Declared value ("vrednost").
pub const VALUE: &str = "V";
/// A service that picks another item type (`VrstaPosiljke`) than the configured one for
/// one shipment: `vrsta:101`.
pub const ITEM_TYPE_PREFIX: &str = "vrsta:";

/// The only currency this connector collects: Pošta Slovenije pays cash on delivery out
/// in euros, and the eOddaja columns for other currencies are not documented enough to
/// fill.
pub const COD_CURRENCY: &str = "EUR";

/// Names of the item types printed on the label. The codes a merchant may use are those
/// of its contract with Pošta Slovenije; only this one is named here, others print as
/// their code (or as the `service_name` setting says).
pub fn item_type_name(code: &str) -> Option<&'static str> {
    match code {
        "109" => Some("Mali paket"),
        _ => None,
    }
}

/// A party's address as the label prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub name: Option<String>,
    pub company: Option<String>,
    /// Street and house number.
    pub street: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
}

impl Party {
    fn from_address(address: &Address) -> Self {
        let street = street_line(address);
        Self {
            name: non_blank(address.name.as_deref()),
            company: non_blank(address.company.as_deref()),
            street,
            line2: non_blank(address.line2.as_deref()),
            postal_code: non_blank(address.postal_code.as_deref()),
            city: non_blank(address.city.as_deref()),
            country: country_of(address),
            phone: non_blank(address.phone.as_deref()),
        }
    }
}

/// Cash on delivery as printed and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashOnDelivery {
    pub amount: Decimal,
    pub currency: String,
    /// The payment reference ("sklic").
    pub reference: Option<String>,
}

/// One shipment, checked and in eOddaja's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    /// `VrstaPosiljke`: the contract's item type code.
    pub item_type: String,
    /// The additional services, as `DodatneStoritve` lists them.
    pub services: Vec<String>,
    pub sender: Party,
    pub recipient: Party,
    /// Numeric ISO 3166 code of the recipient's country.
    pub country_numeric: u16,
    /// The recipient's phone as eOddaja takes it (`00386…`).
    pub phone: Option<String>,
    pub email: Option<String>,
    pub weight_grams: u64,
    pub cod: Option<CashOnDelivery>,
    /// Declared value (with the service `V`), in euros.
    pub value: Option<Decimal>,
    pub reference: String,
    pub note: Option<String>,
}

/// What [`Shipment::from_request`] needs from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    /// `VrstaPosiljke` when no `vrsta:` service says otherwise.
    pub item_type: String,
}

impl Shipment {
    /// Checks `request` against what eOddaja and this connector take; the error names
    /// the request's field.
    pub fn from_request(
        request: &ShipmentRequest,
        defaults: &Defaults,
    ) -> Result<Self, ConnectorError> {
        if request.pickup_point.is_some() {
            return Err(ConnectorError::invalid_field(
                "pickup-point",
                "this connector sends Pošta Slovenije parcels to the recipient's address: \
                 eOddaja's hand-over takes no pickup point",
            ));
        }
        let weight_grams = match request.parcels.as_slice() {
            [parcel] if parcel.weight_grams > 0 => u64::from(parcel.weight_grams),
            [_] => {
                return Err(ConnectorError::invalid_field(
                    "parcels",
                    "Pošta Slovenije needs the parcel's mass",
                ));
            }
            parcels => {
                return Err(ConnectorError::invalid_field(
                    "parcels",
                    format!(
                        "a Pošta Slovenije item is one parcel with its own number; create one \
                         shipment per parcel (got {})",
                        parcels.len()
                    ),
                ));
            }
        };

        let recipient = Party::from_address(&request.recipient);
        if recipient.name.is_none() && recipient.company.is_none() {
            return Err(ConnectorError::invalid_field(
                "recipient.name",
                "Pošta Slovenije needs the recipient's name",
            ));
        }
        if recipient.street.is_none() {
            return Err(ConnectorError::invalid_field(
                "recipient.street",
                "Pošta Slovenije needs the recipient's street and house number",
            ));
        }
        let Some(postal_code) = recipient.postal_code.as_deref() else {
            return Err(ConnectorError::invalid_field(
                "recipient.postal-code",
                "Pošta Slovenije needs the recipient's postal code",
            ));
        };
        if recipient.country == "SI"
            && !(postal_code.len() == 4 && postal_code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ConnectorError::invalid_field(
                "recipient.postal-code",
                format!(
                    "{postal_code:?} is not a Slovenian postal code (four digits, such as 2000)"
                ),
            ));
        }
        if recipient.city.is_none() {
            return Err(ConnectorError::invalid_field(
                "recipient.city",
                "Pošta Slovenije needs the recipient's town (the post office's name)",
            ));
        }
        let country_numeric = countries::numeric(&recipient.country).ok_or_else(|| {
            ConnectorError::invalid_field(
                "recipient.country",
                format!("{:?} is not an ISO 3166 country code", recipient.country),
            )
        })?;
        let phone = recipient
            .phone
            .as_deref()
            .map(|phone| international_phone(phone, &recipient.country))
            .transpose()?;

        let (item_type, mut services) = services(&request.services, defaults)?;
        let cod = match &request.cash_on_delivery {
            None => {
                if let Some(code) = services
                    .iter()
                    .find(|code| *code == COD || *code == COD_VARIANT)
                {
                    return Err(ConnectorError::invalid_field(
                        "services",
                        format!(
                            "the service {code} is cash on delivery, but the shipment has none"
                        ),
                    ));
                }
                None
            }
            Some(cod) => {
                let amount = cod.amount_decimal()?;
                if amount <= Decimal::ZERO {
                    return Err(ConnectorError::invalid_field(
                        "cash-on-delivery.amount",
                        "cash on delivery must be more than 0",
                    ));
                }
                if amount.normalize().scale() > 2 {
                    return Err(ConnectorError::invalid_field(
                        "cash-on-delivery.amount",
                        format!("{amount} has more than two decimals"),
                    ));
                }
                let currency = cod.currency.trim().to_ascii_uppercase();
                if currency != COD_CURRENCY {
                    return Err(ConnectorError::invalid_field(
                        "cash-on-delivery.currency",
                        format!(
                            "Pošta Slovenije collects cash on delivery in {COD_CURRENCY} here, \
                             not {currency}"
                        ),
                    ));
                }
                if !services
                    .iter()
                    .any(|code| code == COD || code == COD_VARIANT)
                {
                    services.insert(0, COD.to_owned());
                }
                let reference = non_blank(cod.reference.as_deref())
                    .or_else(|| non_blank(Some(&request.reference)))
                    .map(|reference| clean(&reference));
                Some(CashOnDelivery {
                    amount,
                    currency,
                    reference,
                })
            }
        };
        let value = if services.iter().any(|code| code == VALUE) {
            let value = request.value_decimal()?.ok_or_else(|| {
                ConnectorError::invalid_field(
                    "value",
                    "the service V (declared value) needs the shipment's value",
                )
            })?;
            let currency = request.currency.as_deref().map(str::trim);
            if currency.is_some_and(|currency| !currency.eq_ignore_ascii_case(COD_CURRENCY)) {
                return Err(ConnectorError::invalid_field(
                    "currency",
                    format!("Pošta Slovenije takes a declared value in {COD_CURRENCY}"),
                ));
            }
            Some(value)
        } else {
            None
        };

        Ok(Self {
            item_type,
            services,
            sender: Party::from_address(&request.sender),
            email: non_blank(request.recipient.email.as_deref()),
            recipient,
            country_numeric,
            phone,
            weight_grams,
            cod,
            value,
            reference: request.reference.trim().to_owned(),
            note: non_blank(request.note.as_deref()),
        })
    }

    /// The row's values, one per [`COLUMNS`] entry.
    pub fn columns(&self, number: &S10) -> [String; 24] {
        let recipient = &self.recipient;
        let (name, additional) = match (&recipient.name, &recipient.company) {
            (Some(name), company) => (name.clone(), company.clone().unwrap_or_default()),
            (None, Some(company)) => (company.clone(), String::new()),
            (None, None) => (String::new(), String::new()),
        };
        let street = match (&recipient.street, &recipient.line2) {
            (Some(street), Some(line2)) => format!("{street}, {line2}"),
            (street, _) => street.clone().unwrap_or_default(),
        };
        let cod = self.cod.as_ref();
        [
            self.item_type.clone(),
            number.to_string(),
            clean(&name),
            clean(&additional),
            clean(&street),
            clean(recipient.postal_code.as_deref().unwrap_or("")),
            clean(recipient.city.as_deref().unwrap_or("")),
            countries::column(self.country_numeric),
            self.phone.clone().unwrap_or_default(),
            clean(self.email.as_deref().unwrap_or("")),
            String::new(),
            clean(self.note.as_deref().unwrap_or("")),
            self.weight_grams.to_string(),
            self.services.join(","),
            cod.map(|cod| decimal_comma(cod.amount)).unwrap_or_default(),
            self.value.map(decimal_comma).unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            cod.and_then(|cod| cod.reference.clone())
                .unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]
    }
}

/// The hand-over CSV: the header and one row per shipment, lines ended by CRLF.
pub fn csv<'a>(rows: impl IntoIterator<Item = (&'a Shipment, &'a S10)>) -> String {
    let mut text = COLUMNS.join(";");
    text.push_str("\r\n");
    for (shipment, number) in rows {
        text.push_str(&shipment.columns(number).join(";"));
        text.push_str("\r\n");
    }
    text
}

/// Item type and additional services from the request's `services`: `vrsta:NNN` picks
/// the item type, every other entry is an eOddaja service code (`ODK`, `V`, ...) the
/// contract knows.
fn services(
    requested: &[String],
    defaults: &Defaults,
) -> Result<(String, Vec<String>), ConnectorError> {
    let mut item_type = defaults.item_type.clone();
    let mut codes: Vec<String> = Vec::new();
    for service in requested {
        let service = service.trim();
        if let Some(code) = service.strip_prefix(ITEM_TYPE_PREFIX) {
            item_type = item_type_code(code, "services")?;
            continue;
        }
        let code = service.to_ascii_uppercase();
        if code.is_empty() || code.len() > 10 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ConnectorError::invalid_field(
                "services",
                format!(
                    "{service:?} is not an eOddaja service code (such as ODK or V) nor \
                     {ITEM_TYPE_PREFIX}<item type>"
                ),
            ));
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    if codes.iter().any(|code| code == COD) && codes.iter().any(|code| code == COD_VARIANT) {
        return Err(ConnectorError::invalid_field(
            "services",
            format!("{COD} and {COD_VARIANT} are both cash on delivery: ask for one"),
        ));
    }
    Ok((item_type, codes))
}

/// An item type code (`VrstaPosiljke`): digits.
pub fn item_type_code(code: &str, field: &str) -> Result<String, ConnectorError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::invalid_field(
            field,
            format!("{code:?} is not a Pošta Slovenije item type code (digits, such as 109)"),
        ));
    }
    Ok(code.to_owned())
}

/// Street and house number on one line.
fn street_line(address: &Address) -> Option<String> {
    match (
        non_blank(address.street.as_deref()),
        non_blank(address.house_number.as_deref()),
    ) {
        (Some(street), Some(number)) => Some(format!("{street} {number}")),
        (street, None) => non_blank(address.line1.as_deref()).or(street),
        (None, Some(_)) => non_blank(address.line1.as_deref()),
    }
}

fn country_of(address: &Address) -> String {
    non_blank(address.country.as_deref())
        .map(|country| country.to_ascii_uppercase())
        .unwrap_or_else(|| "SI".to_owned())
}

/// A phone number as eOddaja takes it: digits only, international with `00`: `+386…`
/// becomes `00386…`, and a Slovenian national number's leading `0` becomes `00386`.
pub fn international_phone(phone: &str, country: &str) -> Result<String, ConnectorError> {
    let trimmed = phone.trim();
    let plus = trimmed.starts_with('+');
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let valid_chars = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || " +-/().".contains(c));
    if !valid_chars || digits.len() < 6 || digits.len() > 15 + 2 {
        return Err(ConnectorError::invalid_field(
            "recipient.phone",
            format!("{phone:?} is not a phone number"),
        ));
    }
    Ok(if plus {
        format!("00{digits}")
    } else if digits.starts_with("00") {
        digits
    } else if let Some(national) = digits.strip_prefix('0')
        && country == "SI"
    {
        format!("00386{national}")
    } else {
        digits
    })
}

/// An amount with a decimal comma and two decimals: `49,90`.
pub fn decimal_comma(amount: Decimal) -> String {
    let rounded = amount.round_dp(2);
    money::format_decimal(rounded)
        .split_once('.')
        .map(|(whole, fraction)| format!("{whole},{fraction:0<2}"))
        .unwrap_or_else(|| format!("{},00", money::format_decimal(rounded)))
}

/// Text safe in a `;`-separated line: no separators, quotes or line breaks, single
/// spaces. eSpremnica's CSV has no quoting, so these cannot be escaped.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == ';' || c == '"' || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tovor_sdk::carrier::{CashOnDelivery as Cod, Parcel};
    use tovor_sdk::types::ErrorKind;

    fn address(name: &str, street: &str, number: &str, zip: &str, city: &str) -> Address {
        Address {
            name: Some(name.into()),
            company: None,
            street: Some(street.into()),
            house_number: Some(number.into()),
            line1: Some(format!("{street} {number}")),
            line2: None,
            city: Some(city.into()),
            postal_code: Some(zip.into()),
            region: None,
            country: Some("SI".into()),
            phone: Some("040 111 222".into()),
            email: Some("ana@example.si".into()),
        }
    }

    fn request() -> ShipmentRequest {
        ShipmentRequest {
            reference: "2026-00042".into(),
            sender: address(
                "Trgovina d.o.o.",
                "Dunajska cesta",
                "5",
                "1000",
                "Ljubljana",
            ),
            recipient: address("Ana Novak", "Čučkova ulica", "5", "2000", "Maribor"),
            parcels: vec![Parcel {
                weight_grams: 1200,
                length_mm: None,
                width_mm: None,
                height_mm: None,
            }],
            cash_on_delivery: Some(Cod {
                amount: "49.9".into(),
                currency: "EUR".into(),
                reference: Some("SI00 2026-42".into()),
            }),
            pickup_point: None,
            services: vec![],
            value: None,
            currency: None,
            note: Some("Pokliči; prej".into()),
        }
    }

    fn defaults() -> Defaults {
        Defaults {
            item_type: "109".into(),
        }
    }

    #[test]
    fn a_cash_on_delivery_row() {
        let shipment = Shipment::from_request(&request(), &defaults()).unwrap();
        let number = S10::parse("RA123456785SI").unwrap();
        let columns = shipment.columns(&number);
        let row: Vec<(&str, &str)> = COLUMNS
            .iter()
            .copied()
            .zip(columns.iter().map(String::as_str))
            .filter(|(_, value)| !value.is_empty())
            .collect();
        assert_eq!(
            row,
            [
                ("VrstaPosiljke", "109"),
                ("CrtnaKoda", "RA123456785SI"),
                ("Naziv", "Ana Novak"),
                ("Naslov", "Čučkova ulica 5"),
                ("PostnaSt", "2000"),
                ("NazivPoste", "Maribor"),
                ("Drzava", "705"),
                ("TelSt", "0038640111222"),
                ("EMail", "ana@example.si"),
                ("Opomba", "Pokliči prej"),
                ("Masa", "1200"),
                ("DodatneStoritve", "ODK"),
                ("Odkupnina", "49,90"),
                ("Sklic", "SI00 2026-42"),
            ]
        );
        let text = csv([(&shipment, &number)]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].split(';').count(), 24);
        assert_eq!(lines[1].split(';').count(), 24);
        assert!(lines[0].starts_with("VrstaPosiljke;CrtnaKoda;Naziv;DodatenNaziv;Naslov;"));
    }

    #[test]
    fn services_item_types_and_value() {
        let mut request = request();
        request.cash_on_delivery = None;
        request.services = vec!["vrsta:101".into(), "v".into()];
        request.value = Some("120".into());
        let shipment = Shipment::from_request(&request, &defaults()).unwrap();
        assert_eq!(shipment.item_type, "101");
        assert_eq!(shipment.services, ["V"]);
        let columns = shipment.columns(&S10::parse("RA123456785SI").unwrap());
        assert_eq!(columns[15], "120,00");
        assert_eq!(columns[14], "");

        request.value = None;
        let error = Shipment::from_request(&request, &defaults()).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("value"));
        request.services = vec!["ODK".into()];
        let error = Shipment::from_request(&request, &defaults()).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("services"));
        request.services = vec!["x y".into()];
        assert!(Shipment::from_request(&request, &defaults()).is_err());
    }

    #[test]
    fn refusals_name_the_field() {
        let refused = |change: &dyn Fn(&mut ShipmentRequest)| {
            let mut request = request();
            change(&mut request);
            let error = Shipment::from_request(&request, &defaults()).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidInput);
            error.field.unwrap_or_default()
        };
        assert_eq!(
            refused(&|r| r.recipient.postal_code = Some("20000".into())),
            "recipient.postal-code"
        );
        assert_eq!(refused(&|r| r.recipient.city = None), "recipient.city");
        assert_eq!(
            refused(&|r| {
                r.recipient.street = None;
                r.recipient.line1 = None;
            }),
            "recipient.street"
        );
        assert_eq!(
            refused(&|r| r.recipient.country = Some("XX".into())),
            "recipient.country"
        );
        assert_eq!(refused(&|r| r.parcels[0].weight_grams = 0), "parcels");
        assert_eq!(refused(&|r| r.parcels.push(r.parcels[0])), "parcels");
        assert_eq!(
            refused(&|r| r.cash_on_delivery.as_mut().unwrap().currency = "HRK".into()),
            "cash-on-delivery.currency"
        );
        assert_eq!(
            refused(&|r| r.cash_on_delivery.as_mut().unwrap().amount = "1.005".into()),
            "cash-on-delivery.amount"
        );
        assert_eq!(
            refused(&|r| r.recipient.phone = Some("call me".into())),
            "recipient.phone"
        );
        // Abroad, any postal code; the country as its numeric code.
        let mut abroad = request();
        abroad.recipient.country = Some("AT".into());
        abroad.recipient.postal_code = Some("8010".into());
        abroad.recipient.phone = Some("+43 316 123456".into());
        let shipment = Shipment::from_request(&abroad, &defaults()).unwrap();
        let columns = shipment.columns(&S10::parse("RA123456785SI").unwrap());
        assert_eq!(columns[7], "040");
        assert_eq!(columns[8], "0043316123456");
    }

    #[test]
    fn phones_and_amounts() {
        assert_eq!(
            international_phone("+386 40 111 222", "SI").unwrap(),
            "0038640111222"
        );
        assert_eq!(
            international_phone("040/111-222", "SI").unwrap(),
            "0038640111222"
        );
        assert_eq!(
            international_phone("00386 40 111 222", "SI").unwrap(),
            "0038640111222"
        );
        assert_eq!(
            international_phone("0316 123456", "AT").unwrap(),
            "0316123456"
        );
        assert_eq!(decimal_comma(Decimal::new(499, 1)), "49,90");
        assert_eq!(decimal_comma(Decimal::new(5, 0)), "5,00");
        assert_eq!(decimal_comma(Decimal::new(12345, 2)), "123,45");
        assert_eq!(clean(" a;b\"c\r\nd  e "), "a b c d e");
    }
}
