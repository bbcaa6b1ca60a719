//! WooCommerce's JSON (REST API v3, also the body of order webhooks) and its mapping to
//! tovor's normalized types. Pure functions: unit-tested natively.
//!
//! WooCommerce semantics the mapping relies on:
//!
//! - Line `subtotal`/`total` (before/after coupons) are **net** even when the shop's
//!   prices include tax; `subtotal_tax`/`total_tax` are the taxes on them, rounded per
//!   line. So `subtotal + subtotal_tax` is the gross line price before discounts.
//! - `taxes[].total` holds the unrounded tax per rate; `tax_lines[]` describe the rates
//!   (newer versions add `rate_percent`).
//! - Shipping and fee `total` are net.
//! - Dates come in site time and as `_gmt`, both without a zone.
//! - Refund totals are negative.

use std::collections::HashMap;

use serde::Deserialize;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::shop::{Product, StockKey};
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentMethod,
    PaymentStatus, Refund,
};

/// One cent: the tolerance of the host's checks, used to decide whether a derived tax
/// rate is good enough to report.
const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

#[derive(Debug, Deserialize)]
pub struct WooOrder {
    pub id: u64,
    /// A string in the API; a sequential-number plugin may change it.
    #[serde(default)]
    pub number: Option<serde_json::Value>,
    pub status: String,
    pub currency: String,
    #[serde(default)]
    pub prices_include_tax: bool,
    #[serde(default)]
    pub date_created_gmt: Option<String>,
    #[serde(default)]
    pub date_modified_gmt: Option<String>,
    #[serde(default)]
    pub date_paid_gmt: Option<String>,
    #[serde(default, with = "money::lenient_option")]
    pub discount_total: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub discount_tax: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub shipping_total: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    #[serde(with = "money::lenient")]
    pub total: Decimal,
    #[serde(default)]
    pub customer_id: u64,
    #[serde(default)]
    pub customer_note: Option<String>,
    #[serde(default)]
    pub billing: Option<WooAddress>,
    #[serde(default)]
    pub shipping: Option<WooAddress>,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub payment_method_title: Option<String>,
    #[serde(default)]
    pub line_items: Vec<WooLine>,
    #[serde(default)]
    pub tax_lines: Vec<WooTaxLine>,
    #[serde(default)]
    pub shipping_lines: Vec<WooShippingLine>,
    #[serde(default)]
    pub fee_lines: Vec<WooFeeLine>,
    #[serde(default)]
    pub coupon_lines: Vec<WooCouponLine>,
    #[serde(default)]
    pub refunds: Vec<WooRefund>,
}

/// `billing` and `shipping` (shipping has no `email`; `phone` only in newer versions).
#[derive(Debug, Default, Deserialize)]
pub struct WooAddress {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub address_1: Option<String>,
    #[serde(default)]
    pub address_2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WooLine {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    /// 0 when the product was deleted.
    #[serde(default)]
    pub product_id: u64,
    /// 0 for simple products.
    #[serde(default)]
    pub variation_id: u64,
    #[serde(with = "money::lenient")]
    pub quantity: Decimal,
    #[serde(with = "money::lenient")]
    pub subtotal: Decimal,
    #[serde(default, with = "money::lenient_option")]
    pub subtotal_tax: Option<Decimal>,
    #[serde(with = "money::lenient")]
    pub total: Decimal,
    #[serde(default, with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    #[serde(default)]
    pub taxes: Vec<WooTax>,
    #[serde(default)]
    pub sku: Option<String>,
}

/// One rate's tax on a line: `total` unrounded, `subtotal` empty on shipping and fees.
#[derive(Debug, Deserialize)]
pub struct WooTax {
    pub id: u64,
    #[serde(default, with = "money::lenient_option")]
    pub total: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
pub struct WooTaxLine {
    pub rate_id: serde_json::Value,
    #[serde(default)]
    pub compound: bool,
    /// Added to the API in newer WooCommerce versions; derived from amounts otherwise.
    #[serde(default, with = "money::lenient_option")]
    pub rate_percent: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
pub struct WooShippingLine {
    pub id: u64,
    #[serde(default)]
    pub method_title: String,
    #[serde(default)]
    pub method_id: Option<String>,
    #[serde(default)]
    pub instance_id: Option<serde_json::Value>,
    #[serde(with = "money::lenient")]
    pub total: Decimal,
    #[serde(default, with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    #[serde(default)]
    pub taxes: Vec<WooTax>,
}

#[derive(Debug, Deserialize)]
pub struct WooFeeLine {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(with = "money::lenient")]
    pub total: Decimal,
    #[serde(default, with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    #[serde(default)]
    pub taxes: Vec<WooTax>,
}

#[derive(Debug, Deserialize)]
pub struct WooCouponLine {
    pub code: String,
}

#[derive(Debug, Deserialize)]
pub struct WooRefund {
    pub id: u64,
    #[serde(default)]
    pub reason: Option<String>,
    /// Negative: `"-10.00"`.
    #[serde(with = "money::lenient")]
    pub total: Decimal,
}

/// WooCommerce's error body: `{"code":"woocommerce_rest_…","message":"…","data":{"status":N}}`.
#[derive(Debug, Deserialize)]
pub struct WooError {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub data: Option<WooErrorData>,
}

#[derive(Debug, Deserialize)]
pub struct WooErrorData {
    #[serde(default)]
    pub status: Option<u16>,
}

/// A product in `GET /products`.
#[derive(Debug, Deserialize)]
pub struct WooProduct {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default, with = "money::lenient_option")]
    pub price: Option<Decimal>,
    /// `true`, `false`, or for variations `"parent"` (stock kept on the parent).
    #[serde(default)]
    pub manage_stock: serde_json::Value,
    #[serde(default)]
    pub stock_quantity: Option<serde_json::Value>,
    #[serde(default)]
    pub attributes: Vec<WooAttribute>,
}

#[derive(Debug, Deserialize)]
pub struct WooAttribute {
    #[serde(default)]
    pub option: Option<String>,
}

/// Parses an order body (API response or webhook payload) and maps it. The entry point
/// native code (benchmarks) uses.
pub fn map_order_json(body: &[u8]) -> Result<Order, ConnectorError> {
    let order: WooOrder = serde_json::from_slice(body)
        .map_err(|error| ConnectorError::Other(format!("not a WooCommerce order: {error}")))?;
    map_order(order)
}

/// WooCommerce's status, normalized.
pub fn map_status(raw: &str) -> OrderStatus {
    match raw {
        "pending" => OrderStatus::Pending,
        "processing" => OrderStatus::Processing,
        "on-hold" => OrderStatus::OnHold,
        "completed" => OrderStatus::Completed,
        "cancelled" => OrderStatus::Cancelled,
        "refunded" => OrderStatus::Refunded,
        "failed" => OrderStatus::Failed,
        // checkout-draft, trash, plugin statuses: `status_raw` keeps them.
        _ => OrderStatus::Other,
    }
}

/// Whether and how the order is paid. WooCommerce sets `date_paid` when payment
/// completes (or an order reaches processing/completed), so that is the signal; refunds
/// come next to it in `refunds`.
pub fn payment_status(status: &str, paid: bool, refunded: Decimal) -> PaymentStatus {
    if status == "refunded" {
        PaymentStatus::Refunded
    } else if refunded > Decimal::ZERO {
        PaymentStatus::PartiallyRefunded
    } else if paid {
        PaymentStatus::Paid
    } else {
        match status {
            "pending" | "failed" | "on-hold" | "cancelled" | "checkout-draft" => {
                PaymentStatus::Unpaid
            }
            _ => PaymentStatus::Unknown,
        }
    }
}

/// Splits a street line into street and house number: the number is the last word when
/// it starts with a digit (`"Slovenska cesta 12a"`, `"Trg 1"`), else the first word when
/// that does (`"221 Baker Street"`). Otherwise there is no number.
pub fn split_street(line: &str) -> (Option<String>, Option<String>) {
    let line = line.trim();
    let starts_with_digit = |word: &str| word.starts_with(|c: char| c.is_ascii_digit());
    if let Some((street, number)) = line.rsplit_once(' ')
        && starts_with_digit(number)
        && !street.trim().is_empty()
    {
        return (
            Some(street.trim_end().trim_end_matches(',').to_owned()),
            Some(number.to_owned()),
        );
    }
    if let Some((number, street)) = line.split_once(' ')
        && starts_with_digit(number)
        && !street.trim().is_empty()
    {
        return (
            Some(street.trim().to_owned()),
            Some(number.trim_end_matches(',').to_owned()),
        );
    }
    (non_empty(Some(line)), None)
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn full_name(address: &WooAddress) -> Option<String> {
    let name = format!(
        "{} {}",
        address.first_name.as_deref().unwrap_or("").trim(),
        address.last_name.as_deref().unwrap_or("").trim()
    );
    non_empty(Some(&name))
}

/// `None` for an address WooCommerce sends with every field empty (a guest order of a
/// virtual product has no shipping address).
pub fn map_address(address: &WooAddress) -> Option<Address> {
    let parts = [
        &address.first_name,
        &address.last_name,
        &address.company,
        &address.address_1,
        &address.city,
        &address.postcode,
        &address.country,
    ];
    if parts
        .iter()
        .all(|part| non_empty(part.as_deref()).is_none())
    {
        return None;
    }
    let line1 = non_empty(address.address_1.as_deref());
    let (street, house_number) = line1.as_deref().map_or((None, None), split_street);
    Some(Address {
        name: full_name(address),
        company: non_empty(address.company.as_deref()),
        street,
        house_number,
        line1,
        line2: non_empty(address.address_2.as_deref()),
        city: non_empty(address.city.as_deref()),
        postal_code: non_empty(address.postcode.as_deref()),
        region: non_empty(address.state.as_deref()),
        country: non_empty(address.country.as_deref()).map(|c| c.to_ascii_uppercase()),
        phone: non_empty(address.phone.as_deref()),
        email: non_empty(address.email.as_deref()),
    })
}

/// A decimal computed here (unit prices, derived rates): at most 6 decimals, trailing
/// zeros dropped but at least two for money.
fn fmt_amount(value: Decimal) -> String {
    let mut value = value.round_dp(6).normalize();
    if value.scale() < 2 {
        value.rescale(2);
    }
    money::format_decimal(value)
}

fn fmt_rate(value: Decimal) -> String {
    money::format_decimal(value.round_dp(4).normalize())
}

/// The tax rates the order names, by rate id: `rate_percent` when WooCommerce sends it
/// (newer versions), else derived once per rate from the item with the largest base,
/// where the unrounded tax in `taxes[].total` gives the most precise ratio.
struct Rates {
    percent: HashMap<u64, Decimal>,
    compound: HashMap<u64, bool>,
}

fn rate_id(value: &serde_json::Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
}

/// The one rate an item is taxed at, with its unrounded tax; `None` for untaxed items
/// and items taxed at several rates.
fn single_tax(taxes: &[WooTax]) -> Option<(u64, Decimal)> {
    let mut charged = taxes.iter().filter_map(|entry| {
        entry
            .total
            .filter(|amount| !amount.is_zero())
            .map(|amount| (entry.id, amount))
    });
    let first = charged.next()?;
    charged.next().is_none().then_some(first)
}

impl Rates {
    fn new(order: &WooOrder) -> Self {
        let mut percent = HashMap::new();
        let mut compound = HashMap::new();
        for line in &order.tax_lines {
            if let Some(id) = rate_id(&line.rate_id) {
                compound.insert(id, line.compound);
                if let Some(rate) = line.rate_percent {
                    percent.insert(id, rate);
                }
            }
        }
        // (raw tax, net base) of each item taxed at one rate.
        let mut samples: Vec<(u64, Decimal, Decimal)> = Vec::new();
        for line in &order.line_items {
            if let Some((id, raw)) = single_tax(&line.taxes) {
                let base = if order.prices_include_tax {
                    // The gross is exact; the net WooCommerce shows is rounded.
                    line.total + line.total_tax.unwrap_or_default() - raw
                } else {
                    line.total
                };
                samples.push((id, raw, base));
            }
        }
        for (taxes, amount) in order
            .shipping_lines
            .iter()
            .map(|line| (&line.taxes, line.total))
            .chain(order.fee_lines.iter().map(|fee| (&fee.taxes, fee.total)))
        {
            if let Some((id, raw)) = single_tax(taxes) {
                samples.push((id, raw, amount));
            }
        }
        let mut best: HashMap<u64, (Decimal, Decimal)> = HashMap::new();
        for (id, raw, base) in samples {
            if percent.contains_key(&id) || base.is_zero() {
                continue;
            }
            let entry = best.entry(id).or_insert((raw, base));
            if base.abs() > entry.1.abs() {
                *entry = (raw, base);
            }
        }
        for (id, (raw, base)) in best {
            // Two decimals: 22, 9.5, 8.25 (a 3-decimal US rate is then only reported
            // where it still matches within a cent).
            percent.insert(id, (raw * Decimal::ONE_HUNDRED / base).round_dp(2));
        }
        Self { percent, compound }
    }

    /// The rate of one item (a line's net total, a charge's amount), reported only when
    /// its `tax` is within a cent of `total × rate` as the host checks.
    fn item_rate(&self, taxes: &[WooTax], total: Decimal, tax: Decimal) -> Option<Decimal> {
        let rate = match single_tax(taxes) {
            Some((id, _)) if !self.compound.get(&id).copied().unwrap_or(false) => {
                self.percent.get(&id).copied()
            }
            Some(_) => None,
            // Tax entries that are all zero: a 0 % rate.
            None if tax.is_zero() && !taxes.is_empty() => Some(Decimal::ZERO),
            None => None,
        }?;
        let expected = total * rate / Decimal::ONE_HUNDRED;
        ((tax - expected).abs() <= CENT).then_some(rate)
    }
}

fn map_line(line: &WooLine, prices_include_tax: bool, rates: &Rates) -> LineItem {
    let subtotal_tax = line.subtotal_tax.unwrap_or_default();
    let tax = line.total_tax.unwrap_or_default();
    // `unit_price` and `discount` share the order's tax basis; `total` stays net.
    let (before_discount, after_discount) = if prices_include_tax {
        (line.subtotal + subtotal_tax, line.total + tax)
    } else {
        (line.subtotal, line.total)
    };
    let unit_price = if line.quantity.is_zero() {
        before_discount
    } else {
        before_discount / line.quantity
    };
    let rate = rates.item_rate(&line.taxes, line.total, tax);
    LineItem {
        platform_line_id: Some(line.id.to_string()),
        sku: non_empty(line.sku.as_deref()),
        name: line.name.clone(),
        product_id: (line.product_id != 0).then(|| line.product_id.to_string()),
        variation_id: (line.variation_id != 0).then(|| line.variation_id.to_string()),
        quantity: money::format_decimal(line.quantity.normalize()),
        unit_price: fmt_amount(unit_price),
        discount: money::format_decimal(before_discount - after_discount),
        tax_rate: rate.map(fmt_rate),
        tax_amount: money::format_decimal(tax),
        total: money::format_decimal(line.total),
    }
}

fn map_charge(
    id: u64,
    code: Option<String>,
    title: &str,
    amount: Decimal,
    tax: Option<Decimal>,
    taxes: &[WooTax],
    rates: &Rates,
) -> ChargeLine {
    let tax = tax.unwrap_or_default();
    ChargeLine {
        platform_line_id: Some(id.to_string()),
        code,
        title: title.to_owned(),
        amount: money::format_decimal(amount),
        // Shipping and fee amounts are always net in WooCommerce.
        tax_rate: rates.item_rate(taxes, amount, tax).map(fmt_rate),
        tax_amount: money::format_decimal(tax),
    }
}

fn parse_gmt(field: &str, value: Option<&str>) -> Result<String, ConnectorError> {
    let value = non_empty(value)
        .ok_or_else(|| ConnectorError::Other(format!("the order has no {field}")))?;
    tovor_sdk::time::parse_naive_as_utc(&value)
}

/// A WooCommerce order as a tovor order.
pub fn map_order(order: WooOrder) -> Result<Order, ConnectorError> {
    let rates = Rates::new(&order);
    let incl = order.prices_include_tax;
    let refunds: Vec<Refund> = order
        .refunds
        .iter()
        .map(|refund| Refund {
            platform_id: Some(refund.id.to_string()),
            amount: money::format_decimal(refund.total.abs()),
            reason: non_empty(refund.reason.as_deref()),
            created_at: None,
        })
        .collect();
    let refunded: Decimal = order.refunds.iter().map(|refund| refund.total.abs()).sum();
    let paid_at = non_empty(order.date_paid_gmt.as_deref())
        .map(|paid| tovor_sdk::time::parse_naive_as_utc(&paid))
        .transpose()?;
    let payment_method = non_empty(order.payment_method.as_deref()).map(|code| PaymentMethod {
        title: non_empty(order.payment_method_title.as_deref()).unwrap_or_else(|| code.clone()),
        code,
    });
    let billing = order.billing.as_ref().and_then(map_address);
    let customer = order.billing.as_ref().map(|billing| Customer {
        platform_id: (order.customer_id != 0).then(|| order.customer_id.to_string()),
        email: non_empty(billing.email.as_deref()),
        first_name: non_empty(billing.first_name.as_deref()),
        last_name: non_empty(billing.last_name.as_deref()),
        company: non_empty(billing.company.as_deref()),
        vat_id: None,
        phone: non_empty(billing.phone.as_deref()),
    });
    let number = match &order.number {
        Some(serde_json::Value::String(number)) if !number.trim().is_empty() => number.clone(),
        Some(serde_json::Value::Number(number)) => number.to_string(),
        _ => order.id.to_string(),
    };
    // WooCommerce's discount_total is net; with gross prices the lines' discounts are
    // gross, so the order's is too.
    let discount_total = order.discount_total.unwrap_or_default()
        + if incl {
            order.discount_tax.unwrap_or_default()
        } else {
            Decimal::ZERO
        };
    Ok(Order {
        id: order.id.to_string(),
        number,
        status: map_status(&order.status),
        status_raw: order.status.clone(),
        payment_status: payment_status(&order.status, paid_at.is_some(), refunded),
        payment_method,
        currency: order.currency.trim().to_ascii_uppercase(),
        prices_include_tax: incl,
        created_at: parse_gmt("date_created_gmt", order.date_created_gmt.as_deref())?,
        modified_at: parse_gmt("date_modified_gmt", order.date_modified_gmt.as_deref())?,
        paid_at,
        customer,
        billing,
        shipping: order.shipping.as_ref().and_then(map_address),
        lines: order
            .line_items
            .iter()
            .map(|line| map_line(line, incl, &rates))
            .collect(),
        shipping_lines: order
            .shipping_lines
            .iter()
            .map(|line| {
                let instance = match &line.instance_id {
                    Some(serde_json::Value::String(text)) => non_empty(Some(text)),
                    Some(serde_json::Value::Number(number)) => Some(number.to_string()),
                    _ => None,
                }
                .filter(|instance| instance != "0");
                let code = non_empty(line.method_id.as_deref()).map(|method| match instance {
                    Some(instance) => format!("{method}:{instance}"),
                    None => method,
                });
                map_charge(
                    line.id,
                    code,
                    &line.method_title,
                    line.total,
                    line.total_tax,
                    &line.taxes,
                    &rates,
                )
            })
            .collect(),
        fees: order
            .fee_lines
            .iter()
            .map(|fee| {
                map_charge(
                    fee.id,
                    None,
                    &fee.name,
                    fee.total,
                    fee.total_tax,
                    &fee.taxes,
                    &rates,
                )
            })
            .collect(),
        coupons: order
            .coupon_lines
            .iter()
            .map(|coupon| coupon.code.clone())
            .collect(),
        discount_total: money::format_decimal(discount_total),
        shipping_total: money::format_decimal(order.shipping_total.unwrap_or_default()),
        tax_total: money::format_decimal(order.total_tax.unwrap_or_default()),
        total: money::format_decimal(order.total),
        refunds,
        customer_note: non_empty(order.customer_note.as_deref()),
        pickup_point: None,
    })
}

fn manages_stock(value: &serde_json::Value) -> bool {
    matches!(value, serde_json::Value::Bool(true)) || value.as_str() == Some("parent")
}

fn stock_quantity(value: Option<&serde_json::Value>) -> Option<i64> {
    let value = value?;
    value
        .as_i64()
        .or_else(|| value.as_f64().map(|float| float.floor() as i64))
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
}

/// A simple or variable product as a stock item (a variable parent has no stock of its
/// own unless it manages stock at product level).
pub fn map_product(product: &WooProduct) -> Product {
    let managed = manages_stock(&product.manage_stock);
    Product {
        key: StockKey {
            sku: non_empty(product.sku.as_deref()),
            product_id: Some(product.id.to_string()),
            variation_id: None,
            inventory_item_id: None,
            location_id: None,
        },
        name: product.name.clone(),
        price: product.price.map(money::format_decimal),
        stock: if managed {
            stock_quantity(product.stock_quantity.as_ref())
        } else {
            None
        },
        manages_stock: managed,
    }
}

/// A variation of `parent`, named `"T-shirt - M"` as WooCommerce names order lines.
pub fn map_variation(parent: &WooProduct, variation: &WooProduct) -> Product {
    let options: Vec<&str> = variation
        .attributes
        .iter()
        .filter_map(|attribute| attribute.option.as_deref())
        .filter(|option| !option.is_empty())
        .collect();
    let name = if options.is_empty() {
        parent.name.clone()
    } else {
        format!("{} - {}", parent.name, options.join(", "))
    };
    let managed = manages_stock(&variation.manage_stock);
    Product {
        key: StockKey {
            sku: non_empty(variation.sku.as_deref()),
            product_id: Some(parent.id.to_string()),
            variation_id: Some(variation.id.to_string()),
            inventory_item_id: None,
            location_id: None,
        },
        name,
        price: variation.price.map(money::format_decimal),
        stock: if managed {
            stock_quantity(variation.stock_quantity.as_ref())
        } else {
            None
        },
        manages_stock: managed,
    }
}

/// The error for a failed response: the variant from the status (as the SDK decides
/// it), the message from WooCommerce's `code` and `message` when the body has them.
pub fn response_error(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<ConnectorError> {
    let error = tovor_sdk::http::status_error(status, headers, body, tovor_sdk::time::now())?;
    let Ok(woo) = serde_json::from_slice::<WooError>(body) else {
        return Some(error);
    };
    let message = format!("HTTP {status} {}: {}", woo.code, woo.message);
    Some(with_message(error, message))
}

/// The same error variant with another message.
pub fn with_message(error: ConnectorError, message: String) -> ConnectorError {
    match error {
        ConnectorError::Auth(_) => ConnectorError::Auth(message),
        ConnectorError::NotFound(_) => ConnectorError::NotFound(message),
        ConnectorError::RateLimited(limit) => {
            ConnectorError::rate_limited(limit.retry_after_ms, message)
        }
        ConnectorError::InvalidInput(field) => match field.field {
            Some(name) => ConnectorError::invalid_field(name, message),
            None => ConnectorError::invalid_input(message),
        },
        ConnectorError::BadSignature(_) => ConnectorError::BadSignature(message),
        ConnectorError::Transient(_) => ConnectorError::Transient(message),
        ConnectorError::Unsupported(_) => ConnectorError::Unsupported(message),
        ConnectorError::Other(_) => ConnectorError::Other(message),
    }
}

/// The result for one item of a batch response: the object, or `{"id", "error": {...}}`.
pub fn batch_item_result(item: &serde_json::Value) -> Result<(), ConnectorError> {
    let Some(error) = item.get("error") else {
        return Ok(());
    };
    let woo: WooError = serde_json::from_value(error.clone()).unwrap_or(WooError {
        code: "unknown".into(),
        message: error.to_string(),
        data: None,
    });
    let status = woo
        .data
        .as_ref()
        .and_then(|data| data.status)
        .unwrap_or(400);
    let message = format!("{}: {}", woo.code, woo.message);
    Err(if woo.code.ends_with("_invalid_id") || status == 404 {
        ConnectorError::NotFound(message)
    } else {
        match status {
            401 | 403 => ConnectorError::Auth(message),
            500..=599 => ConnectorError::Transient(message),
            _ => ConnectorError::invalid_input(message),
        }
    })
}
