//! BigCommerce's v2 order (with its `products`, `shipping_addresses` and `coupons`
//! sub-resources) to tovor's, as pure functions.
//!
//! **Currency.** An order has the currency the shopper paid in (`currency_code`) and
//! the store's default (`default_currency_code`, with `currency_exchange_rate` between
//! them). The order's amounts are in the shopper's currency, so the order is imported in
//! `currency_code` and `total` is `total_inc_tax` to the cent.
//!
//! **Amounts.** Every amount comes with and without tax (`price_ex_tax`/`price_inc_tax`,
//! `shipping_cost_ex_tax`/`_inc_tax`, ...), whichever way the store enters its prices,
//! so lines and charges are imported net (`prices_include_tax` false) and the tax is
//! BigCommerce's own `total_tax`. Line totals (`total_ex_tax`) are before discounts,
//! and the basis of a discount (with or without tax) depends on the store's settings,
//! which the order does not say. The net discount of the whole order is therefore
//! taken from the order's own totals, where BigCommerce has already resolved it:
//!
//! ```text
//! discount (net) = subtotal_ex_tax + shipping + handling + wrapping (ex tax) − total_ex_tax
//! ```
//!
//! and shared out over the lines by their `applied_discounts` (by their totals when no
//! line names one), the last line taking the rounding. So `Σ line totals + charges +
//! total_tax = total_ex_tax + total_tax = total_inc_tax` exactly. A line's tax rate is
//! `price_tax / price_ex_tax` (to two decimals of a percent: BigCommerce keeps amounts
//! to four decimals) and its tax that rate on the discounted net total.

use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc2822;
use tovor_sdk::address::{non_blank, split_street};
use tovor_sdk::money::Decimal;
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
};

/// An amount as BigCommerce writes it (`"10.0000"`, sometimes a number); absent or
/// null is zero.
pub mod amount {
    use serde::{Deserialize, Deserializer};
    use tovor_sdk::money::Decimal;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        match Option::<serde_json::Value>::deserialize(deserializer)? {
            None | Some(serde_json::Value::Null) => Ok(Decimal::ZERO),
            Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(Decimal::ZERO),
            Some(value) => {
                tovor_sdk::money::decimal_from_json(&value).map_err(serde::de::Error::custom)
            }
        }
    }
}

/// `GET /v2/orders/{id}` (and each entry of `GET /v2/orders`).
#[derive(Debug, Clone, Deserialize)]
pub struct BcOrder {
    pub id: u64,
    #[serde(default)]
    pub customer_id: u64,
    pub date_created: String,
    pub date_modified: String,
    #[serde(default)]
    pub status_id: u32,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, with = "amount")]
    pub subtotal_ex_tax: Decimal,
    #[serde(default, with = "amount")]
    pub shipping_cost_ex_tax: Decimal,
    #[serde(default, with = "amount")]
    pub shipping_cost_tax: Decimal,
    #[serde(default, with = "amount")]
    pub handling_cost_ex_tax: Decimal,
    #[serde(default, with = "amount")]
    pub handling_cost_tax: Decimal,
    #[serde(default, with = "amount")]
    pub wrapping_cost_ex_tax: Decimal,
    #[serde(default, with = "amount")]
    pub wrapping_cost_tax: Decimal,
    #[serde(default, with = "amount")]
    pub total_ex_tax: Decimal,
    #[serde(default, with = "amount")]
    pub total_inc_tax: Decimal,
    #[serde(default, with = "amount")]
    pub total_tax: Decimal,
    #[serde(default, with = "amount")]
    pub refunded_amount: Decimal,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default)]
    pub default_currency_code: Option<String>,
    #[serde(default)]
    pub customer_message: Option<String>,
    #[serde(default)]
    pub billing_address: Option<BcAddress>,
    /// Filled from `GET /v2/orders/{id}/products` (the order itself has a link).
    #[serde(skip)]
    pub products: Vec<BcProduct>,
    #[serde(skip)]
    pub shipping_addresses: Vec<BcShippingAddress>,
    #[serde(skip)]
    pub coupons: Vec<BcCoupon>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BcAddress {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub street_1: Option<String>,
    #[serde(default)]
    pub street_2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub zip: Option<String>,
    #[serde(default)]
    pub country_iso2: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// `GET /v2/orders/{id}/shipping_addresses`: an address with its shipping method.
#[derive(Debug, Clone, Deserialize)]
pub struct BcShippingAddress {
    pub id: u64,
    #[serde(flatten)]
    pub address: BcAddress,
    #[serde(default)]
    pub shipping_method: Option<String>,
}

/// `GET /v2/orders/{id}/products`.
#[derive(Debug, Clone, Deserialize)]
pub struct BcProduct {
    pub id: u64,
    #[serde(default)]
    pub product_id: u64,
    #[serde(default)]
    pub variant_id: Option<u64>,
    #[serde(default)]
    pub order_address_id: Option<u64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default, with = "amount")]
    pub price_ex_tax: Decimal,
    #[serde(default, with = "amount")]
    pub price_tax: Decimal,
    #[serde(default, with = "amount")]
    pub total_ex_tax: Decimal,
    #[serde(default, with = "amount")]
    pub quantity: Decimal,
    #[serde(default, with = "amount")]
    pub quantity_shipped: Decimal,
    #[serde(default)]
    pub applied_discounts: Vec<AppliedDiscount>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AppliedDiscount {
    #[serde(default, with = "amount")]
    pub amount: Decimal,
}

/// `GET /v2/orders/{id}/coupons`.
#[derive(Debug, Clone, Deserialize)]
pub struct BcCoupon {
    #[serde(default)]
    pub code: Option<String>,
}

/// Parses BigCommerce JSON, naming what it was.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ConnectorError> {
    serde_json::from_slice(body).map_err(|error| {
        ConnectorError::other(format!(
            "BigCommerce's {what} is not the expected JSON: {error}"
        ))
    })
}

/// BigCommerce's RFC 2822 dates (`Sun, 02 Mar 2025 09:15:00 +0000`).
pub fn parse_time(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    OffsetDateTime::parse(text.trim(), &Rfc2822).map_err(|error| {
        ConnectorError::other(format!("{text:?} is not an RFC 2822 date: {error}"))
    })
}

/// A time as the v2 filters take it, RFC 2822 in UTC.
pub fn format_time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|at| at.format(&Rfc2822).ok())
        .unwrap_or_default()
}

/// BigCommerce's fixed status ids (`GET /v2/order_statuses`); stores may rename them
/// (`status` is the custom label) but not change what an id means.
pub fn status(status_id: u32) -> OrderStatus {
    match status_id {
        // Pending, Awaiting Payment.
        1 | 7 => OrderStatus::Pending,
        // Awaiting Pickup, Awaiting Shipment, Awaiting Fulfillment, Partially Shipped.
        3 | 8 | 9 | 11 => OrderStatus::Processing,
        // Shipped, Completed.
        2 | 10 => OrderStatus::Completed,
        4 => OrderStatus::Refunded,
        5 => OrderStatus::Cancelled,
        6 => OrderStatus::Failed,
        // Manual Verification Required, Disputed.
        12 | 13 => OrderStatus::OnHold,
        // 0 Incomplete, 14 Partially Refunded and custom ones.
        _ => OrderStatus::Other,
    }
}

fn payment_status(order: &BcOrder) -> PaymentStatus {
    if order.refunded_amount > Decimal::ZERO {
        return if order.refunded_amount >= order.total_inc_tax {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
    }
    match order.payment_status.as_deref().map(str::trim) {
        Some("captured" | "paid") => PaymentStatus::Paid,
        Some("authorized") => PaymentStatus::Authorized,
        Some("partially refunded") => PaymentStatus::PartiallyRefunded,
        Some("refunded") => PaymentStatus::Refunded,
        Some("void" | "voided") => PaymentStatus::Voided,
        Some("pending" | "") | None => match order.status_id {
            2 | 3 | 8 | 9 | 10 | 11 => PaymentStatus::Paid,
            _ => PaymentStatus::Unpaid,
        },
        Some(_) => PaymentStatus::Unknown,
    }
}

fn address(source: &BcAddress) -> Address {
    let name = [source.first_name.as_deref(), source.last_name.as_deref()]
        .into_iter()
        .filter_map(non_blank)
        .collect::<Vec<_>>()
        .join(" ");
    let line1 = source.street_1.as_deref();
    let (street, house_number) = line1.map(split_street).unwrap_or((None, None));
    Address::builder()
        .name(non_blank(Some(&name)))
        .company(non_blank(source.company.as_deref()))
        .street(street, house_number)
        .line1(non_blank(line1))
        .line2(non_blank(source.street_2.as_deref()))
        .city(non_blank(source.city.as_deref()))
        .postal_code(non_blank(source.zip.as_deref()))
        .region(non_blank(source.state.as_deref()))
        .country(non_blank(source.country_iso2.as_deref()))
        .phone(non_blank(source.phone.as_deref()))
        .email(non_blank(source.email.as_deref()))
        .build()
}

/// The buyer; `customer_id` 0 is a guest, known by the billing address only.
fn customer(order: &BcOrder) -> Customer {
    let billing = order.billing_address.clone().unwrap_or_default();
    Customer {
        platform_id: (order.customer_id != 0).then(|| order.customer_id.to_string()),
        email: non_blank(billing.email.as_deref()),
        first_name: non_blank(billing.first_name.as_deref()),
        last_name: non_blank(billing.last_name.as_deref()),
        company: non_blank(billing.company.as_deref()),
        vat_id: None,
        phone: non_blank(billing.phone.as_deref()),
    }
}

/// A line's tax rate in percent from its unit amounts, to two decimals.
pub fn tax_rate(price_ex_tax: Decimal, price_tax: Decimal) -> Option<Decimal> {
    if price_ex_tax <= Decimal::ZERO {
        return None;
    }
    Some((price_tax / price_ex_tax * Decimal::ONE_HUNDRED).round_dp(2))
}

/// The net discount of the whole order (see the module).
pub fn net_discount(order: &BcOrder) -> Decimal {
    let before = order.subtotal_ex_tax
        + order.shipping_cost_ex_tax
        + order.handling_cost_ex_tax
        + order.wrapping_cost_ex_tax;
    (before - order.total_ex_tax).max(Decimal::ZERO)
}

/// Shares `total` out by `weights` (all zero: by `fallback`), rounded to cents, the
/// last share taking the rounding.
pub fn share(total: Decimal, weights: &[Decimal], fallback: &[Decimal]) -> Vec<Decimal> {
    let sum: Decimal = weights.iter().sum();
    let (weights, sum) = if sum > Decimal::ZERO {
        (weights, sum)
    } else {
        (fallback, fallback.iter().sum())
    };
    let mut shares = Vec::with_capacity(weights.len());
    let mut left = total;
    for (index, weight) in weights.iter().enumerate() {
        let part = if index + 1 == weights.len() {
            left
        } else if sum > Decimal::ZERO {
            (total * weight / sum).round_dp(2)
        } else {
            Decimal::ZERO
        };
        left -= part;
        shares.push(part);
    }
    shares
}

/// The order's lines, each net of its share of the discount.
pub fn lines(order: &BcOrder) -> Vec<LineItem> {
    let weights: Vec<Decimal> = order
        .products
        .iter()
        .map(|product| product.applied_discounts.iter().map(|d| d.amount).sum())
        .collect();
    let totals: Vec<Decimal> = order.products.iter().map(|p| p.total_ex_tax).collect();
    let discounts = share(net_discount(order), &weights, &totals);
    order
        .products
        .iter()
        .zip(discounts)
        .map(|(product, discount)| {
            let name = non_blank(product.name.as_deref())
                .or_else(|| non_blank(product.sku.as_deref()))
                .unwrap_or_else(|| format!("product {}", product.product_id));
            let rate = tax_rate(product.price_ex_tax, product.price_tax);
            let total = product.total_ex_tax - discount;
            let tax = rate
                .map(|rate| (total * rate / Decimal::ONE_HUNDRED).round_dp(2))
                .unwrap_or_default();
            let mut builder = LineItem::builder(name, product.quantity, product.price_ex_tax)
                .platform_line_id(product.id.to_string())
                .product_id(product.product_id.to_string())
                .discount(discount)
                .tax_rate(rate)
                .tax_amount(tax)
                .total(total);
            if let Some(variant) = product.variant_id.filter(|id| *id != 0) {
                builder = builder.variation_id(variant.to_string());
            }
            if let Some(sku) = non_blank(product.sku.as_deref()) {
                builder = builder.sku(sku);
            }
            builder.build()
        })
        .collect()
}

/// The order as tovor's.
pub fn map_order(order: &BcOrder) -> Result<Order, ConnectorError> {
    let id = order.id.to_string();
    let currency = non_blank(order.currency_code.as_deref())
        .or_else(|| non_blank(order.default_currency_code.as_deref()))
        .ok_or_else(|| {
            ConnectorError::other(format!("BigCommerce's order {id} has no currency"))
        })?;
    let created = parse_time(&order.date_created)?;
    let modified = parse_time(&order.date_modified)?;
    let shipping = order.shipping_addresses.first();
    let mut builder = Order::builder(id.clone(), id, currency)
        .status(
            status(order.status_id),
            non_blank(order.status.as_deref()).unwrap_or_else(|| order.status_id.to_string()),
        )
        .payment_status(payment_status(order))
        .prices_include_tax(false)
        .created_at(created)
        .modified_at(modified)
        .customer(customer(order))
        .billing(order.billing_address.as_ref().map(address))
        .shipping_address(shipping.map(|s| address(&s.address)))
        .lines(lines(order))
        .discount_total(net_discount(order))
        .tax_total(order.total_tax)
        .total(order.total_inc_tax);
    if let Some(method) = non_blank(order.payment_method.as_deref()) {
        builder = builder.payment_method(method.clone(), method);
    }
    let has_shipping = shipping.is_some()
        || !order.shipping_cost_ex_tax.is_zero()
        || !order.shipping_cost_tax.is_zero();
    if has_shipping {
        let title = shipping
            .and_then(|s| non_blank(s.shipping_method.as_deref()))
            .unwrap_or_else(|| "Shipping".to_owned());
        let mut charge = ChargeLine::builder(title.clone(), order.shipping_cost_ex_tax)
            .tax_amount(order.shipping_cost_tax);
        if let Some(address) = shipping {
            charge = charge.platform_line_id(address.id.to_string()).code(title);
        }
        builder = builder.shipping_line(charge.build());
    }
    for (title, amount, tax) in [
        (
            "Handling",
            order.handling_cost_ex_tax,
            order.handling_cost_tax,
        ),
        (
            "Gift wrapping",
            order.wrapping_cost_ex_tax,
            order.wrapping_cost_tax,
        ),
    ] {
        if !amount.is_zero() || !tax.is_zero() {
            builder = builder.fee(ChargeLine::builder(title, amount).tax_amount(tax).build());
        }
    }
    for coupon in &order.coupons {
        if let Some(code) = non_blank(coupon.code.as_deref()) {
            builder = builder.coupon(code);
        }
    }
    if let Some(note) = non_blank(order.customer_message.as_deref()) {
        builder = builder.customer_note(note);
    }
    builder.build()
}

/// The order id a webhook's `data` names.
pub fn data_id(data: &Value) -> Option<u64> {
    match data.get("id")? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}
