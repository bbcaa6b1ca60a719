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
//! - A refund leaves the order's lines and totals as they were: it is a record of its
//!   own (`GET /orders/{id}/refunds`) whose line items carry negative quantities and
//!   amounts and name the order line they refund in the meta `_refunded_item_id`. The
//!   order itself lists only `refunds: [{id, reason, total}]`, `total` negative.
//! - When a refund puts items back to stock, core adds the quantity to the order line's
//!   meta `_restock_refunded_items` (`wc_restock_refunded_items`); the refund itself
//!   does not say whether it restocked.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;
pub use tovor_sdk::address::{non_blank, split_street};
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::shop::{Product, ProductVariant};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, ErrorKind, LineItem, Order, OrderStatus,
    PaymentMethod, PaymentStatus, Refund, Timestamp,
};

/// One cent: the tolerance of the host's checks, used to decide whether a derived tax
/// rate is good enough to report.
const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The line-item meta naming the order line a refund line refunds.
const REFUNDED_ITEM_META: &str = "_refunded_item_id";
/// The order-line meta counting the units refunds put back to stock.
const RESTOCKED_META: &str = "_restock_refunded_items";

#[derive(Debug, Deserialize)]
pub struct WooOrder {
    pub id: u64,
    /// A string in the API; a sequential-number plugin may change it.
    #[serde(default)]
    pub number: Option<Value>,
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
    #[serde(default)]
    pub meta_data: Vec<WooMeta>,
}

impl WooLine {
    /// The units refunds of this line put back to stock, all refunds together.
    pub fn restocked_quantity(&self) -> Decimal {
        meta_decimal(&self.meta_data, RESTOCKED_META).unwrap_or_default()
    }
}

/// One `meta_data` entry. Values are whatever the writer stored: text, numbers, objects.
#[derive(Debug, Deserialize)]
pub struct WooMeta {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: Value,
}

/// The value of the meta `key` as a number (core stores numbers as text).
fn meta_decimal(meta: &[WooMeta], key: &str) -> Option<Decimal> {
    meta.iter()
        .find(|entry| entry.key == key)
        .and_then(|entry| money::decimal_from_json(&entry.value).ok())
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
    pub rate_id: Value,
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
    pub instance_id: Option<Value>,
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

/// A refund as the order lists it.
#[derive(Debug, Deserialize)]
pub struct WooRefund {
    pub id: u64,
    #[serde(default)]
    pub reason: Option<String>,
    /// Negative: `"-10.00"`.
    #[serde(with = "money::lenient")]
    pub total: Decimal,
}

/// A refund from `GET /orders/{id}/refunds`.
#[derive(Debug, Deserialize)]
pub struct WooRefundDetail {
    pub id: u64,
    #[serde(default)]
    pub date_created_gmt: Option<String>,
    /// Positive, tax included: `"10.00"`.
    #[serde(with = "money::lenient")]
    pub amount: Decimal,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub line_items: Vec<WooRefundItem>,
    #[serde(default)]
    pub shipping_lines: Vec<WooRefundItem>,
}

/// A line of a refund: quantities and amounts negative.
#[derive(Debug, Deserialize)]
pub struct WooRefundItem {
    pub id: u64,
    /// Absent on shipping lines.
    #[serde(default, with = "money::lenient_option")]
    pub quantity: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub total: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub meta_data: Vec<WooMeta>,
}

impl WooRefundItem {
    /// The order line this refunds.
    pub fn refunded_line(&self) -> Option<u64> {
        self.meta_data
            .iter()
            .find(|entry| entry.key == REFUNDED_ITEM_META)
            .and_then(|entry| json_id(&entry.value))
    }

    /// The units refunded (positive).
    pub fn refunded_quantity(&self) -> Decimal {
        self.quantity.unwrap_or_default().abs()
    }

    /// The money refunded for it, tax included (positive).
    pub fn refunded_amount(&self) -> Decimal {
        (self.total.unwrap_or_default() + self.total_tax.unwrap_or_default()).abs()
    }
}

/// An id written as a JSON number or as text (meta values are text).
pub fn json_id(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
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

/// A product in `GET /products`, or a variation in `GET /products/{id}/variations`.
#[derive(Debug, Deserialize)]
pub struct WooProduct {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub sku: Option<String>,
    /// GTIN, UPC, EAN or ISBN (WooCommerce 9.2 and later).
    #[serde(default)]
    pub global_unique_id: Option<String>,
    #[serde(default, with = "money::lenient_option")]
    pub price: Option<Decimal>,
    /// `true`, `false`, or for variations `"parent"` (stock kept on the parent).
    #[serde(default)]
    pub manage_stock: Value,
    #[serde(default)]
    pub stock_quantity: Option<Value>,
    #[serde(default)]
    pub attributes: Vec<WooAttribute>,
}

#[derive(Debug, Deserialize)]
pub struct WooAttribute {
    #[serde(default)]
    pub option: Option<String>,
}

/// A webhook in `GET /webhooks`.
#[derive(Debug, Deserialize)]
pub struct WooWebhook {
    pub id: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub delivery_url: String,
}

/// A payment gateway in `GET /payment_gateways`.
#[derive(Debug, Deserialize)]
pub struct WooGateway {
    pub id: String,
    /// What the customer sees at checkout, and what orders carry as the method's title.
    #[serde(default)]
    pub title: String,
    /// The gateway's own name (`"Direct bank transfer"`).
    #[serde(default)]
    pub method_title: String,
    /// A boolean in v3; older versions and some gateways write `"yes"`.
    #[serde(default)]
    pub enabled: Value,
}

impl WooGateway {
    pub fn is_enabled(&self) -> bool {
        match &self.enabled {
            Value::Bool(enabled) => *enabled,
            Value::String(text) => matches!(text.as_str(), "yes" | "true" | "1"),
            _ => false,
        }
    }
}

/// Parses an order body (API response or webhook payload) and maps it without refund
/// details. The entry point native code (benchmarks) uses.
pub fn map_order_json(body: &[u8]) -> Result<Order, ConnectorError> {
    map_order(parse_order(body)?)
}

/// An order body parsed.
pub fn parse_order(body: &[u8]) -> Result<WooOrder, ConnectorError> {
    serde_json::from_slice(body)
        .map_err(|error| ConnectorError::other(format!("not a WooCommerce order: {error}")))
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

fn full_name(address: &WooAddress) -> Option<String> {
    let name = format!(
        "{} {}",
        address.first_name.as_deref().unwrap_or("").trim(),
        address.last_name.as_deref().unwrap_or("").trim()
    );
    non_blank(Some(&name))
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
        .all(|part| non_blank(part.as_deref()).is_none())
    {
        return None;
    }
    let line1 = non_blank(address.address_1.as_deref());
    let (street, house_number) = line1.as_deref().map_or((None, None), split_street);
    Some(Address {
        name: full_name(address),
        company: non_blank(address.company.as_deref()),
        street,
        house_number,
        line1,
        line2: non_blank(address.address_2.as_deref()),
        city: non_blank(address.city.as_deref()),
        postal_code: non_blank(address.postcode.as_deref()),
        region: non_blank(address.state.as_deref()),
        country: non_blank(address.country.as_deref()).map(|c| c.to_ascii_uppercase()),
        phone: non_blank(address.phone.as_deref()),
        email: non_blank(address.email.as_deref()),
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

/// What an order's refunds say about its lines.
#[derive(Debug, Default)]
pub struct RefundedLines {
    /// Units refunded per order line, all refunds together.
    quantity: HashMap<u64, Decimal>,
    /// Order lines every refunded unit of which went back to stock.
    restocked: HashSet<u64>,
}

impl RefundedLines {
    pub fn new(order: &WooOrder, refunds: &[WooRefundDetail]) -> Self {
        let mut quantity: HashMap<u64, Decimal> = HashMap::new();
        for item in refunds.iter().flat_map(|refund| &refund.line_items) {
            if let Some(line) = item.refunded_line() {
                *quantity.entry(line).or_default() += item.refunded_quantity();
            }
        }
        // Core counts restocked units per order line, not per refund. Only when every
        // refunded unit of a line was restocked do we know that each refund of it was.
        let restocked = order
            .line_items
            .iter()
            .filter(|line| {
                let refunded = quantity.get(&line.id).copied().unwrap_or_default();
                refunded > Decimal::ZERO && line.restocked_quantity() >= refunded
            })
            .map(|line| line.id)
            .collect();
        Self {
            quantity,
            restocked,
        }
    }

    /// Units of the order line `line` refunded so far.
    pub fn quantity(&self, line: u64) -> Decimal {
        self.quantity.get(&line).copied().unwrap_or_default()
    }
}

/// What refunds took off a line: the amounts of the units no longer to deliver.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Removed {
    /// Net.
    total: Decimal,
    tax: Decimal,
    /// On the order's tax basis, like the line's discount.
    discount: Decimal,
}

fn map_line(
    line: &WooLine,
    prices_include_tax: bool,
    rates: &Rates,
    refunded: &RefundedLines,
) -> (LineItem, Removed) {
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
    // A unit refunded is a unit not to deliver, whether or not it went back to stock:
    // the customer has the money for it. (Core cannot refund more than was ordered; the
    // floor guards against plugins that can.)
    let refunded_units = refunded.quantity(line.id);
    let to_deliver = (line.quantity - refunded_units).max(Decimal::ZERO);
    // The line as it stands now: its amounts for the units still to deliver (the
    // contract's lines carry their current totals), the units at checkout beside them.
    let share = if line.quantity.is_zero() || refunded_units.is_zero() {
        Decimal::ONE
    } else {
        to_deliver / line.quantity
    };
    let now = |amount: Decimal| {
        if share == Decimal::ONE {
            amount
        } else {
            (amount * share).round_dp(2)
        }
    };
    let discount = before_discount - after_discount;
    let removed = Removed {
        total: line.total - now(line.total),
        tax: tax - now(tax),
        discount: discount - now(discount),
    };
    let item = LineItem {
        platform_line_id: Some(line.id.to_string()),
        sku: non_blank(line.sku.as_deref()),
        name: line.name.clone(),
        product_id: (line.product_id != 0).then(|| line.product_id.to_string()),
        variation_id: (line.variation_id != 0).then(|| line.variation_id.to_string()),
        quantity: money::format_decimal(to_deliver.normalize()),
        ordered_quantity: (refunded_units > Decimal::ZERO)
            .then(|| money::format_decimal(line.quantity.normalize())),
        unit_price: fmt_amount(unit_price),
        discount: money::format_decimal(now(discount)),
        tax_rate: rate.map(fmt_rate),
        tax_amount: money::format_decimal(now(tax)),
        total: money::format_decimal(now(line.total)),
    };
    (item, removed)
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

/// A `_gmt` date (naive, GMT) as a contract timestamp.
fn parse_gmt(field: &str, value: Option<&str>) -> Result<Timestamp, ConnectorError> {
    let value = non_blank(value)
        .ok_or_else(|| ConnectorError::other(format!("the order has no {field}")))?;
    optional_gmt(field, Some(&value))?
        .ok_or_else(|| ConnectorError::other(format!("the order has no {field}")))
}

fn optional_gmt(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, ConnectorError> {
    Ok(optional_gmt_time(field, value)?.map(Timestamp::from))
}

fn optional_gmt_time(
    field: &str,
    value: Option<&str>,
) -> Result<Option<OffsetDateTime>, ConnectorError> {
    non_blank(value)
        .map(|text| {
            tovor_sdk::time::parse_naive_as_utc(&text).map_err(|error| error.context(field))
        })
        .transpose()
}

/// A refund as the order lists it: amount and reason only.
fn map_refund_summary(refund: &WooRefund) -> Refund {
    Refund::builder(refund.total.abs())
        .platform_id(refund.id.to_string())
        .reason(refund.reason.as_deref())
        .build()
}

/// A refund from the refunds endpoint: lines, shipping, date, and whether it restocked.
pub fn map_refund(
    refund: &WooRefundDetail,
    lines: &RefundedLines,
) -> Result<Refund, ConnectorError> {
    let created_at = optional_gmt_time("date_created_gmt", refund.date_created_gmt.as_deref())
        .map_err(|error| error.context(format!("refund {}", refund.id)))?;
    let mut builder = Refund::builder(refund.amount.abs())
        .platform_id(refund.id.to_string())
        .reason(refund.reason.as_deref())
        .created_at(created_at);
    let mut refunds_units = false;
    let mut all_restocked = true;
    for item in &refund.line_items {
        let quantity = item.refunded_quantity();
        let amount = item.refunded_amount();
        if quantity.is_zero() && amount.is_zero() {
            continue;
        }
        let line = item.refunded_line();
        if !quantity.is_zero() {
            refunds_units = true;
            all_restocked &= line.is_some_and(|line| lines.restocked.contains(&line));
        }
        builder = builder.line(
            line.map(|line| line.to_string()),
            item.sku.as_deref(),
            quantity.normalize(),
            amount,
        );
    }
    let shipping: Decimal = refund
        .shipping_lines
        .iter()
        .map(WooRefundItem::refunded_amount)
        .sum();
    // The refund does not say whether it restocked (`api_restock` is write-only); see
    // `RefundedLines`. When unsure we say no: the host then moves no stock back, and
    // stock counted too low is safer than stock sold twice.
    Ok(builder
        .shipping(shipping)
        .restock(refunds_units && all_restocked)
        .build())
}

/// The order's refunds: the details where we have them, else what the order lists.
pub fn map_refunds(
    order: &WooOrder,
    details: &[WooRefundDetail],
) -> Result<Vec<Refund>, ConnectorError> {
    let lines = RefundedLines::new(order, details);
    let mut refunds = Vec::with_capacity(order.refunds.len().max(details.len()));
    for summary in &order.refunds {
        match details.iter().find(|detail| detail.id == summary.id) {
            Some(detail) => refunds.push(map_refund(detail, &lines)?),
            None => refunds.push(map_refund_summary(summary)),
        }
    }
    // A refund made between reading the order and reading its refunds.
    for detail in details {
        if !order.refunds.iter().any(|summary| summary.id == detail.id) {
            refunds.push(map_refund(detail, &lines)?);
        }
    }
    Ok(refunds)
}

/// A WooCommerce order as a tovor order, from the order alone: refunds as the order
/// lists them (amount and reason), line quantities as ordered.
pub fn map_order(order: WooOrder) -> Result<Order, ConnectorError> {
    map_order_with_refunds(order, None)
}

/// A WooCommerce order as a tovor order. With the order's refunds (`GET
/// /orders/{id}/refunds`), refunds carry their lines and lines their quantity still to
/// deliver.
pub fn map_order_with_refunds(
    order: WooOrder,
    refund_details: Option<&[WooRefundDetail]>,
) -> Result<Order, ConnectorError> {
    let rates = Rates::new(&order);
    let incl = order.prices_include_tax;
    let (refunds, refunded_lines) = match refund_details {
        Some(details) => (
            map_refunds(&order, details)?,
            RefundedLines::new(&order, details),
        ),
        None => (
            order.refunds.iter().map(map_refund_summary).collect(),
            RefundedLines::default(),
        ),
    };
    let refunded: Decimal = order.refunds.iter().map(|refund| refund.total.abs()).sum();
    let paid_at = optional_gmt("date_paid_gmt", order.date_paid_gmt.as_deref())?;
    let payment_method = non_blank(order.payment_method.as_deref()).map(|code| PaymentMethod {
        title: non_blank(order.payment_method_title.as_deref()).unwrap_or_else(|| code.clone()),
        code,
    });
    let billing = order.billing.as_ref().and_then(map_address);
    let customer = order.billing.as_ref().map(|billing| Customer {
        platform_id: (order.customer_id != 0).then(|| order.customer_id.to_string()),
        email: non_blank(billing.email.as_deref()),
        first_name: non_blank(billing.first_name.as_deref()),
        last_name: non_blank(billing.last_name.as_deref()),
        company: non_blank(billing.company.as_deref()),
        vat_id: None,
        phone: non_blank(billing.phone.as_deref()),
    });
    let number = match &order.number {
        Some(Value::String(number)) if !number.trim().is_empty() => number.clone(),
        Some(Value::Number(number)) => number.to_string(),
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
    // Lines as they stand now; the order's totals follow them (what the customer pays
    // for what is still to deliver, before the refunds that travel beside it).
    let mut removed = Removed::default();
    let mut lines = Vec::with_capacity(order.line_items.len());
    for line in &order.line_items {
        let (item, off) = map_line(line, incl, &rates, &refunded_lines);
        removed.total += off.total;
        removed.tax += off.tax;
        removed.discount += off.discount;
        lines.push(item);
    }
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
        lines,
        shipping_lines: order
            .shipping_lines
            .iter()
            .map(|line| {
                let instance = match &line.instance_id {
                    Some(Value::String(text)) => non_blank(Some(text)),
                    Some(Value::Number(number)) => Some(number.to_string()),
                    _ => None,
                }
                .filter(|instance| instance != "0");
                let code = non_blank(line.method_id.as_deref()).map(|method| match instance {
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
        discount_total: money::format_decimal(discount_total - removed.discount),
        shipping_total: money::format_decimal(order.shipping_total.unwrap_or_default()),
        tax_total: money::format_decimal(order.total_tax.unwrap_or_default() - removed.tax),
        total: money::format_decimal(order.total - removed.total - removed.tax),
        refunds,
        customer_note: non_blank(order.customer_note.as_deref()),
        pickup_point: None,
    })
}

/// `manage_stock`: `true`, or `"parent"` for a variation whose parent keeps the stock.
fn manages_stock(value: &Value) -> bool {
    matches!(value, Value::Bool(true)) || is_parent_stock(value)
}

fn is_parent_stock(value: &Value) -> bool {
    value.as_str() == Some("parent")
}

/// `stock_quantity` as a decimal: an integer in the API, sometimes text or a float
/// from plugins (kept exact; the host rounds nothing).
fn stock_quantity(value: Option<&Value>) -> Option<String> {
    let value = value?;
    if value.is_null() {
        return None;
    }
    money::decimal_from_json(value)
        .ok()
        .map(|stock| money::format_decimal(stock.normalize()))
}

/// The stock key of a product's own stock: its id.
pub fn product_stock_key(product: u64) -> String {
    product.to_string()
}

/// The stock key of a variation with its own stock: `product:variation`, because
/// WooCommerce sets a variation's stock only through its parent.
pub fn variation_stock_key(product: u64, variation: u64) -> String {
    format!("{product}:{variation}")
}

/// A product and its sellable variants: the variations of a variable product, else the
/// product itself.
pub fn map_product(product: &WooProduct, variations: &[WooProduct]) -> Product {
    let variants = if product.kind == "variable" && !variations.is_empty() {
        variations
            .iter()
            .map(|variation| map_variation(product, variation))
            .collect()
    } else {
        vec![own_variant(product)]
    };
    Product {
        id: product.id.to_string(),
        name: product.name.clone(),
        variants,
    }
}

/// A product sold as itself (simple, or a variable product without variations).
fn own_variant(product: &WooProduct) -> ProductVariant {
    let managed = manages_stock(&product.manage_stock);
    ProductVariant {
        stock_key: product_stock_key(product.id),
        variant_id: None,
        sku: non_blank(product.sku.as_deref()),
        barcode: non_blank(product.global_unique_id.as_deref()),
        name: None,
        price: product.price.map(money::format_decimal),
        stock: managed
            .then(|| stock_quantity(product.stock_quantity.as_ref()))
            .flatten(),
        manages_stock: managed,
    }
}

/// A variation of `parent`, named by its attribute values (`"M"`, `"Red, XL"`).
pub fn map_variation(parent: &WooProduct, variation: &WooProduct) -> ProductVariant {
    let options: Vec<&str> = variation
        .attributes
        .iter()
        .filter_map(|attribute| attribute.option.as_deref())
        .filter(|option| !option.is_empty())
        .collect();
    let managed = manages_stock(&variation.manage_stock);
    // A variation on its parent's stock shares it: setting the variation's own stock
    // would split it from the parent, so its key is the parent's.
    let stock_key = if is_parent_stock(&variation.manage_stock) {
        product_stock_key(parent.id)
    } else {
        variation_stock_key(parent.id, variation.id)
    };
    ProductVariant {
        stock_key,
        variant_id: Some(variation.id.to_string()),
        sku: non_blank(variation.sku.as_deref()),
        barcode: non_blank(variation.global_unique_id.as_deref()),
        name: (!options.is_empty()).then(|| options.join(", ")),
        price: variation.price.map(money::format_decimal),
        stock: managed
            .then(|| stock_quantity(variation.stock_quantity.as_ref()))
            .flatten(),
        manages_stock: managed,
    }
}

/// The error for a failed response: the kind from the status (as the SDK decides it),
/// the message and platform code from WooCommerce's `code` and `message` when the body
/// has them. An unknown id is `not-found` whatever the status: core answers updates of
/// one with 400.
pub fn response_error(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<ConnectorError> {
    let mut error = tovor_sdk::http::status_error(status, headers, body, tovor_sdk::time::now())?;
    let Ok(woo) = serde_json::from_slice::<WooError>(body) else {
        return Some(error);
    };
    error.message = format!("HTTP {status} {}: {}", woo.code, woo.message);
    if woo.code.ends_with("_invalid_id") {
        error.kind = ErrorKind::NotFound;
    }
    Some(error.with_platform_code(woo.code))
}

/// The result for one item of a batch response: the object, or `{"id", "error": {...}}`.
pub fn batch_item_result(item: &Value) -> Result<(), ConnectorError> {
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
    let error = if woo.code.ends_with("_invalid_id") || status == 404 {
        ConnectorError::not_found(message)
    } else {
        match status {
            401 => ConnectorError::auth(message),
            403 => ConnectorError::permission(message),
            500..=599 => ConnectorError::transient(message),
            _ => ConnectorError::invalid_input(message),
        }
    };
    Err(error.with_http_status(status).with_platform_code(woo.code))
}
