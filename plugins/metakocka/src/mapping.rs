//! A Metakocka sales order (`get_document`, `doc_type: sales_order`) as a contract
//! order: pure functions, unit-tested natively.
//!
//! Metakocka sends every value as a JSON string (`"12.50"`, `"true"`), dates with an
//! offset (`"2015-05-08+02:00"`) and times as RFC 3339 with an offset. Amounts are read
//! exactly with [`Decimal`].
//!
//! **Numbers.** `id` is `mk_id` (what `get_document` takes); `number` is the buyer's
//! order number (`buyer_order`, the web shop's number the customer knows) when there is
//! one, else Metakocka's document number (`count_code`). The contract's order has no
//! other reference field, so both numbers are also kept in the customer note
//! (`Metakocka PP-18495, buyer's order 1042`), ahead of the document's own notes.
//!
//! **Lines.** `product_list` rows are priced either without tax (`price`) or with it
//! (`price_with_tax`); `discount` is a percentage, several applied one after another
//! when separated by `;` (`"22;23"`). `tax` is a Metakocka tax code, not a rate (see
//! [`TaxCodes`]). Rows whose code is one of the shipping codes become shipping lines.
//! A document discount (`discount_value`, an amount on the same basis as the prices) is
//! a negative fee at the lines' rate.
//!
//! **Rounding.** Each row is rounded to the cent once after its discount; its tax is
//! taken from that rounded amount (out of the gross for rows priced with tax). The
//! order's totals are the sums of its rows, so they match the lines to the cent.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tovor_sdk::money::{Decimal, format_decimal, parse_decimal};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
    PickupPoint,
};

/// Any JSON scalar as text (`"2"`, `2`, `true`); `null` and missing as empty.
pub fn de_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => text,
        Value::Number(number) => number.to_string(),
        Value::Bool(value) => value.to_string(),
        _ => String::new(),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MkContact {
    #[serde(deserialize_with = "de_text")]
    pub name: String,
    #[serde(deserialize_with = "de_text")]
    pub phone: String,
    #[serde(deserialize_with = "de_text")]
    pub gsm: String,
    #[serde(deserialize_with = "de_text")]
    pub email: String,
}

/// `partner` (the buyer) or `receiver` (the delivery party).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MkParty {
    #[serde(deserialize_with = "de_text")]
    pub mk_id: String,
    #[serde(deserialize_with = "de_text")]
    pub business_entity: String,
    #[serde(deserialize_with = "de_text")]
    pub taxpayer: String,
    #[serde(deserialize_with = "de_text")]
    pub tax_id_number: String,
    #[serde(deserialize_with = "de_text")]
    pub customer: String,
    #[serde(deserialize_with = "de_text")]
    pub street: String,
    #[serde(deserialize_with = "de_text")]
    pub street_number: String,
    #[serde(deserialize_with = "de_text")]
    pub post_number: String,
    #[serde(deserialize_with = "de_text")]
    pub place: String,
    #[serde(deserialize_with = "de_text")]
    pub country: String,
    #[serde(deserialize_with = "de_text")]
    pub country_iso_2: String,
    pub partner_contact: Option<MkContact>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MkProduct {
    #[serde(deserialize_with = "de_text")]
    pub mk_id: String,
    #[serde(deserialize_with = "de_text")]
    pub code: String,
    #[serde(deserialize_with = "de_text")]
    pub count_code: String,
    #[serde(deserialize_with = "de_text")]
    pub name: String,
    #[serde(deserialize_with = "de_text")]
    pub amount: String,
    #[serde(deserialize_with = "de_text")]
    pub price: String,
    #[serde(deserialize_with = "de_text")]
    pub price_with_tax: String,
    #[serde(deserialize_with = "de_text")]
    pub discount: String,
    #[serde(deserialize_with = "de_text")]
    pub tax: String,
}

/// The fields of a sales order tovor reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MkSalesOrder {
    #[serde(deserialize_with = "de_text")]
    pub mk_id: String,
    #[serde(deserialize_with = "de_text")]
    pub count_code: String,
    #[serde(deserialize_with = "de_text")]
    pub buyer_order: String,
    #[serde(deserialize_with = "de_text")]
    pub doc_date: String,
    #[serde(deserialize_with = "de_text")]
    pub order_create_ts: String,
    /// Not in the sales-order example but in other documents' answers
    /// (`get_complaint`); used when present.
    #[serde(deserialize_with = "de_text")]
    pub last_change_ts: String,
    #[serde(deserialize_with = "de_text")]
    pub status_code: String,
    #[serde(deserialize_with = "de_text")]
    pub status_desc: String,
    #[serde(deserialize_with = "de_text")]
    pub currency_code: String,
    #[serde(deserialize_with = "de_text")]
    pub method_of_payment: String,
    #[serde(deserialize_with = "de_text")]
    pub delivery_type: String,
    #[serde(deserialize_with = "de_text")]
    pub parcel_shop_id: String,
    #[serde(deserialize_with = "de_text")]
    pub discount_value: String,
    #[serde(deserialize_with = "de_text")]
    pub sum_paid: String,
    #[serde(deserialize_with = "de_text")]
    pub notes: String,
    pub partner: Option<MkParty>,
    pub receiver: Option<MkParty>,
    pub product_list: Vec<MkProduct>,
}

/// Rates of Metakocka tax codes. Metakocka's codes are names, not rates: `EX4` is
/// Slovenia's 22 % and `EX3` its 9.5 % (as Metakocka's own examples compute them);
/// three-digit codes (`"220"`, `"095"`, `"085"`) are tenths of a percent; others come
/// from the `tax_codes` setting (`EX1=0, EX2=5`).
#[derive(Debug, Clone, Default)]
pub struct TaxCodes {
    extra: BTreeMap<String, Decimal>,
}

impl TaxCodes {
    pub fn parse(setting: Option<&str>) -> Result<Self, ConnectorError> {
        let mut extra = BTreeMap::new();
        for pair in setting
            .unwrap_or_default()
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let bad = || {
                ConnectorError::invalid_field(
                    "tax_codes",
                    format!("{pair:?} is not CODE=RATE (e.g. EX2=5)"),
                )
            };
            let (code, rate) = pair.split_once('=').ok_or_else(bad)?;
            let rate = parse_decimal(rate.trim().trim_end_matches('%')).map_err(|_| bad())?;
            extra.insert(code.trim().to_ascii_uppercase(), rate);
        }
        Ok(Self { extra })
    }

    pub fn rate(&self, code: &str) -> Result<Decimal, ConnectorError> {
        let code = code.trim().to_ascii_uppercase();
        if let Some(rate) = self.extra.get(&code) {
            return Ok(*rate);
        }
        match code.as_str() {
            "EX4" => return Ok(Decimal::new(22, 0)),
            "EX3" => return Ok(Decimal::new(95, 1)),
            _ => {}
        }
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(parse_decimal(&code)? / Decimal::TEN);
        }
        Err(ConnectorError::invalid_field(
            "tax_codes",
            format!(
                "Metakocka tax code {code:?} has no known rate: add it to the tax codes setting (e.g. {code}=22)"
            ),
        ))
    }
}

/// The settings the mapping follows.
#[derive(Debug, Clone)]
pub struct Settings {
    pub tax: TaxCodes,
    /// Lower-case item codes of shipping rows.
    pub shipping_codes: Vec<String>,
}

impl Settings {
    pub fn new(
        tax_codes: Option<&str>,
        shipping_codes: Option<&str>,
    ) -> Result<Self, ConnectorError> {
        let shipping_codes = shipping_codes
            .unwrap_or("dostava,postnina,shipping")
            .split(',')
            .map(|code| code.trim().to_lowercase())
            .filter(|code| !code.is_empty())
            .collect();
        Ok(Self {
            tax: TaxCodes::parse(tax_codes)?,
            shipping_codes,
        })
    }
}

fn blank(text: &str) -> Option<String> {
    tovor_sdk::address::non_blank(Some(text))
}

fn decimal(text: &str, field: &str) -> Result<Decimal, ConnectorError> {
    parse_decimal(text).map_err(|error| {
        ConnectorError::invalid_field(
            field,
            format!("{text:?} is not an amount: {}", error.message),
        )
    })
}

fn optional_decimal(text: &str, field: &str) -> Result<Option<Decimal>, ConnectorError> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        decimal(text, field).map(Some)
    }
}

/// The factor a discount leaves: `"10"` → 0.9, `"22;23"` → 0.78 × 0.77.
pub fn discount_factor(discount: &str) -> Result<Decimal, ConnectorError> {
    let mut factor = Decimal::ONE;
    for part in discount.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let percent = decimal(part, "discount")?;
        factor *= Decimal::ONE - percent / Decimal::ONE_HUNDRED;
    }
    Ok(factor)
}

/// Metakocka's date (`"2015-05-08+02:00"`, midnight at that offset) or time
/// (`"2015-05-08T12:13:15+02:00"`).
pub fn parse_time(text: &str, field: &str) -> Result<OffsetDateTime, ConnectorError> {
    let text = text.trim();
    if text.contains('T') {
        return tovor_sdk::time::parse_rfc3339(text)
            .map_err(|error| ConnectorError::invalid_field(field, error.message));
    }
    // A date with an offset: the offset starts at the first `+`/`-` after the date,
    // or is `Z`.
    let (date, offset) = match text.get(10..) {
        Some(rest) if text.len() >= 10 => (&text[..10], rest),
        _ => (text, ""),
    };
    let offset = if offset.is_empty() { "Z" } else { offset };
    tovor_sdk::time::parse_rfc3339(&format!("{date}T00:00:00{offset}"))
        .map_err(|_| ConnectorError::invalid_field(field, format!("{text:?} is not a date")))
}

/// ISO 3166 alpha-2 of a Metakocka country, from `country_iso_2` or the name
/// (English, as Metakocka answers, or Slovene).
pub fn country_code(party: &MkParty) -> Option<String> {
    let iso = party.country_iso_2.trim();
    if iso.len() == 2 {
        return Some(iso.to_ascii_uppercase());
    }
    let name = party.country.trim().to_lowercase();
    let code = match name.as_str() {
        "slovenia" | "slovenija" => "SI",
        "croatia" | "hrvaška" | "hrvatska" => "HR",
        "austria" | "avstrija" | "österreich" => "AT",
        "italy" | "italija" => "IT",
        "germany" | "nemčija" | "deutschland" => "DE",
        "hungary" | "madžarska" => "HU",
        "serbia" | "srbija" => "RS",
        "bosnia and herzegovina" | "bosna in hercegovina" => "BA",
        "czech republic" | "czechia" | "češka" => "CZ",
        "slovakia" | "slovaška" => "SK",
        "poland" | "poljska" => "PL",
        "france" | "francija" => "FR",
        "switzerland" | "švica" => "CH",
        "netherlands" | "nizozemska" => "NL",
        "belgium" | "belgija" => "BE",
        "spain" | "španija" => "ES",
        "united kingdom" | "velika britanija" => "GB",
        _ if name.len() == 2 => return Some(name.to_ascii_uppercase()),
        _ => return None,
    };
    Some(code.to_owned())
}

fn contact(party: &MkParty) -> MkContact {
    party.partner_contact.clone().unwrap_or_default()
}

fn is_company(party: &MkParty) -> bool {
    party.business_entity.trim().eq_ignore_ascii_case("true")
}

/// The address of a party: a company's name is the company, its contact the person.
pub fn address(party: &MkParty) -> Address {
    let contact = contact(party);
    let (name, company) = if is_company(party) {
        (blank(&contact.name), blank(&party.customer))
    } else {
        (blank(&party.customer), None)
    };
    let (street, number) = if party.street_number.trim().is_empty() {
        tovor_sdk::address::split_street(&party.street)
    } else {
        (blank(&party.street), blank(&party.street_number))
    };
    let line1 = if party.street_number.trim().is_empty() {
        blank(&party.street)
    } else {
        blank(&format!(
            "{} {}",
            party.street.trim(),
            party.street_number.trim()
        ))
    };
    Address {
        name,
        company,
        street,
        house_number: number,
        line1,
        line2: None,
        city: blank(&party.place),
        postal_code: blank(&party.post_number),
        region: None,
        country: country_code(party),
        phone: blank(&contact.gsm).or_else(|| blank(&contact.phone)),
        email: blank(&contact.email),
    }
}

/// The buyer: a person's name is split at the last space.
pub fn customer(party: &MkParty) -> Customer {
    let contact = contact(party);
    let person = if is_company(party) {
        contact.name.clone()
    } else {
        party.customer.clone()
    };
    let person = person.trim();
    let (first, last) = match person.rsplit_once(' ') {
        Some((first, last)) => (blank(first), blank(last)),
        None => (None, blank(person)),
    };
    Customer {
        platform_id: blank(&party.mk_id),
        email: blank(&contact.email),
        first_name: first,
        last_name: last,
        company: is_company(party).then(|| party.customer.trim().to_owned()),
        vat_id: blank(&party.tax_id_number),
        phone: blank(&contact.gsm).or_else(|| blank(&contact.phone)),
    }
}

/// The tovor status of Metakocka's status, which is a user-configurable text
/// (`status_code`, e.g. "Novo naročilo") with, in newer answers, a fixed English key
/// (`status_desc`, e.g. `new_order`). Both are matched on well-known words.
pub fn status(order: &MkSalesOrder) -> OrderStatus {
    let text = format!("{} {}", order.status_desc, order.status_code).to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| text.contains(word));
    if has(&["cancel", "storn", "preklic", "deleted", "izbrisan"]) {
        OrderStatus::Cancelled
    } else if has(&["return", "vrnjen", "refund"]) {
        OrderStatus::Refunded
    } else if has(&[
        "finish",
        "shipped",
        "odpremlj",
        "zaključ",
        "dostavljen",
        "closed",
    ]) {
        OrderStatus::Completed
    } else if has(&["hold", "čaka", "waiting"]) {
        OrderStatus::OnHold
    } else {
        // A sales order in an ERP is a confirmed order to deliver.
        OrderStatus::Processing
    }
}

/// One row's amounts.
struct Row {
    unit_price: Decimal,
    discount: Decimal,
    rate: Decimal,
    net: Decimal,
    tax: Decimal,
}

fn row(
    product: &MkProduct,
    index: usize,
    include_tax: bool,
    settings: &Settings,
) -> Result<(Decimal, Row), ConnectorError> {
    let field = |name: &str| format!("product_list[{index}].{name}");
    let quantity = decimal(&product.amount, &field("amount"))?;
    let rate = settings
        .tax
        .rate(&product.tax)
        .map_err(|error| error.context(format!("product_list[{index}]")))?;
    let factor =
        discount_factor(&product.discount).map_err(|error| error.with_field(field("discount")))?;
    let hundred = Decimal::ONE_HUNDRED;
    let row = if let Some(gross_unit) =
        optional_decimal(&product.price_with_tax, &field("price_with_tax"))?
    {
        let before = quantity * gross_unit;
        let gross = (before * factor).round_dp(2);
        let tax = (gross * rate / (hundred + rate)).round_dp(2);
        let net = gross - tax;
        if include_tax {
            Row {
                unit_price: gross_unit,
                discount: before - gross,
                rate,
                net,
                tax,
            }
        } else {
            let unit = (gross_unit * hundred / (hundred + rate)).round_dp(4);
            Row {
                unit_price: unit,
                discount: quantity * unit - net,
                rate,
                net,
                tax,
            }
        }
    } else {
        let unit = optional_decimal(&product.price, &field("price"))?.unwrap_or_default();
        let before = quantity * unit;
        let net = (before * factor).round_dp(2);
        let tax = (net * rate / hundred).round_dp(2);
        if include_tax {
            let gross_unit = unit * (hundred + rate) / hundred;
            Row {
                unit_price: gross_unit,
                discount: quantity * gross_unit - net - tax,
                rate,
                net,
                tax,
            }
        } else {
            Row {
                unit_price: unit,
                discount: before - net,
                rate,
                net,
                tax,
            }
        }
    };
    Ok((quantity, row))
}

/// The contract order of a Metakocka sales order.
pub fn map_order(order: &MkSalesOrder, settings: &Settings) -> Result<Order, ConnectorError> {
    let id = order.mk_id.trim();
    if id.is_empty() {
        return Err(ConnectorError::other(
            "a Metakocka sales order without mk_id",
        ));
    }
    let count_code = order.count_code.trim();
    let buyer_order = order.buyer_order.trim();
    let number = if buyer_order.is_empty() {
        count_code
    } else {
        buyer_order
    };
    let number = if number.is_empty() { id } else { number };
    let currency = match order.currency_code.trim() {
        "" => "EUR",
        code => code,
    };
    let created_at = if order.order_create_ts.trim().is_empty() {
        parse_time(&order.doc_date, "doc_date")?
    } else {
        parse_time(&order.order_create_ts, "order_create_ts")?
    };
    let modified_at = if order.last_change_ts.trim().is_empty() {
        created_at
    } else {
        parse_time(&order.last_change_ts, "last_change_ts")?
    };
    let is_shipping = |product: &MkProduct| {
        let code = product.code.trim().to_lowercase();
        !code.is_empty() && settings.shipping_codes.contains(&code)
    };
    let include_tax = !order.product_list.is_empty()
        && order
            .product_list
            .iter()
            .all(|product| !product.price_with_tax.trim().is_empty());

    let mut builder = Order::builder(id, number, currency)
        .status(
            status(order),
            blank(&order.status_code).unwrap_or_else(|| order.status_desc.trim().to_owned()),
        )
        .prices_include_tax(include_tax)
        .created_at(created_at)
        .modified_at(modified_at);
    let mut rates = Vec::new();
    let mut gross_total = Decimal::ZERO;
    let mut discounts = Decimal::ZERO;
    for (index, product) in order.product_list.iter().enumerate() {
        let (quantity, amounts) = row(product, index, include_tax, settings)?;
        gross_total += amounts.net + amounts.tax;
        let name = blank(&product.name).unwrap_or_else(|| product.code.trim().to_owned());
        if is_shipping(product) {
            builder = builder.shipping_line(ChargeLine {
                platform_line_id: Some(index.to_string()),
                code: blank(&product.code),
                title: blank(&order.delivery_type).unwrap_or(name),
                amount: format_decimal(amounts.net),
                tax_rate: Some(format_decimal(amounts.rate)),
                tax_amount: format_decimal(amounts.tax),
            });
            continue;
        }
        if !rates.contains(&amounts.rate) {
            rates.push(amounts.rate);
        }
        discounts += amounts.discount;
        let sku = blank(&product.code).or_else(|| blank(&product.count_code));
        builder = builder.line(
            LineItem::builder(name, quantity, amounts.unit_price)
                .platform_line_id(index.to_string())
                .sku(sku)
                .product_id(blank(&product.mk_id))
                .discount(amounts.discount)
                .tax_rate(amounts.rate)
                .tax_amount(amounts.tax)
                .total(amounts.net)
                .build(),
        );
    }
    // A document discount: an amount on the prices' basis, taxed at the lines' rate.
    if let Some(value) = optional_decimal(&order.discount_value, "discount_value")?
        && !value.is_zero()
    {
        let [rate] = rates.as_slice() else {
            return Err(ConnectorError::invalid_field(
                "discount_value",
                format!(
                    "sales order {number}: a document discount over several tax rates cannot be split"
                ),
            ));
        };
        let hundred = Decimal::ONE_HUNDRED;
        let (net, tax) = if include_tax {
            let tax = (value * rate / (hundred + rate)).round_dp(2);
            (value - tax, tax)
        } else {
            (value, (value * rate / hundred).round_dp(2))
        };
        gross_total -= net + tax;
        builder = builder.fee(ChargeLine {
            platform_line_id: None,
            code: Some("discount_value".into()),
            title: "Discount".into(),
            amount: format_decimal(-net),
            tax_rate: Some(format_decimal(*rate)),
            tax_amount: format_decimal(-tax),
        });
        discounts += if include_tax { value } else { net };
    }
    builder = builder.discount_total(discounts);
    if let Some(method) = blank(&order.method_of_payment) {
        // Metakocka has only the method's title; it is the code too.
        builder = builder.payment_method(method.clone(), method);
    }
    let paid = optional_decimal(&order.sum_paid, "sum_paid")?.unwrap_or_default();
    builder = builder.payment_status(if paid <= Decimal::ZERO {
        PaymentStatus::Unpaid
    } else if paid >= gross_total {
        PaymentStatus::Paid
    } else {
        PaymentStatus::PartiallyPaid
    });
    if let Some(partner) = &order.partner {
        builder = builder
            .customer(customer(partner))
            .billing(address(partner));
    }
    let delivery = order.receiver.as_ref().or(order.partner.as_ref());
    if let Some(receiver) = delivery {
        builder = builder.shipping_address(address(receiver));
    }
    if let Some(point) = blank(&order.parcel_shop_id) {
        builder = builder.pickup_point(PickupPoint {
            carrier: blank(&order.delivery_type),
            id: point,
            name: None,
            address: None,
        });
    }
    let mut note = format!(
        "Metakocka {}",
        if count_code.is_empty() {
            id
        } else {
            count_code
        }
    );
    if !buyer_order.is_empty() {
        note.push_str(&format!(", buyer's order {buyer_order}"));
    }
    if let Some(notes) = blank(&order.notes) {
        note.push('\n');
        note.push_str(&notes);
    }
    builder.customer_note(note).build()
}
