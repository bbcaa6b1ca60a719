//! Shopify's REST JSON and how it maps to tovor's normalized types.
//!
//! Everything here is pure (no HTTP, no host), so it is unit-tested natively with
//! `cargo test -p shopify`.
//!
//! # Amounts
//!
//! An order has a shop currency (`currency`) and the currency the customer saw
//! (`presentment_currency`). Every plain amount (`price`, `total_price`, ...) is in the
//! shop currency, and every `*_set` carries both as `shop_money` / `presentment_money`.
//! tovor gets the shop currency: `*_set.shop_money.amount` where present, else the plain
//! field.
//!
//! Shopify's amounts relate like this (`taxes_included` says whether prices are gross):
//!
//! - a line: `price × quantity − Σ discount_allocations` is the line's price after every
//!   discount (line-level and order-level codes alike are allocated to lines), gross or
//!   net as the prices are; `Σ tax_lines.price` is its tax;
//! - a shipping line: `discounted_price` (its `price` after shipping discounts), gross
//!   or net; `Σ tax_lines.price` its tax;
//! - `total_price = Σ lines after discounts + Σ shipping + (total_tax unless included)`.
//!
//! tovor's line `total` and charge `amount` are net, so with taxes included the tax is
//! taken off; the line's `unit_price` and `discount` stay on the prices' own basis, as
//! the contract says. That keeps every identity the host checks.
//!
//! # Quantities
//!
//! A line's `quantity` is what was ordered; `current_quantity` drops after refunds and
//! order edits. The amounts (`tax_lines`, `discount_allocations`, `total_price`) describe
//! the order as placed, so the lines use `quantity`, and what was given back travels in
//! `refunds`.

use serde::Deserialize;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::shop::{Product, StockKey};
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentMethod,
    PaymentStatus, Refund,
};

/// `{"shop_money": {"amount": "1.00", "currency_code": "EUR"}, "presentment_money": ...}`.
#[derive(Debug, Default, Deserialize)]
pub struct MoneySet {
    #[serde(default)]
    pub shop_money: Option<MoneyBag>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MoneyBag {
    #[serde(default, with = "money::lenient_option")]
    pub amount: Option<Decimal>,
}

/// The shop-currency amount: `set.shop_money.amount`, else the plain field, else 0.
fn shop_amount(plain: Option<Decimal>, set: Option<&MoneySet>) -> Decimal {
    set.and_then(|set| set.shop_money.as_ref())
        .and_then(|bag| bag.amount)
        .or(plain)
        .unwrap_or_default()
}

/// An order as the REST API and the `orders/*` webhooks send it; only the fields used.
/// Everything but `id` may be missing (webhook subscriptions can limit the fields).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyOrder {
    pub id: u64,
    pub name: Option<String>,
    pub order_number: Option<u64>,
    pub email: Option<String>,
    pub contact_email: Option<String>,
    pub phone: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub processed_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub currency: Option<String>,
    pub financial_status: Option<String>,
    pub fulfillment_status: Option<String>,
    pub taxes_included: bool,
    #[serde(with = "money::lenient_option")]
    pub total_price: Option<Decimal>,
    pub total_price_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    pub total_tax_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub total_tip_received: Option<Decimal>,
    pub payment_gateway_names: Vec<String>,
    pub customer: Option<ShopifyCustomer>,
    pub billing_address: Option<ShopifyAddress>,
    pub shipping_address: Option<ShopifyAddress>,
    pub line_items: Vec<ShopifyLine>,
    pub shipping_lines: Vec<ShopifyShippingLine>,
    pub discount_codes: Vec<DiscountCode>,
    pub refunds: Vec<ShopifyRefund>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyCustomer {
    pub id: Option<u64>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyLine {
    pub id: Option<u64>,
    pub variant_id: Option<u64>,
    pub product_id: Option<u64>,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub variant_title: Option<String>,
    pub name: Option<String>,
    pub quantity: u64,
    #[serde(with = "money::lenient_option")]
    pub price: Option<Decimal>,
    pub price_set: Option<MoneySet>,
    pub discount_allocations: Vec<Allocation>,
    pub tax_lines: Vec<TaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyShippingLine {
    pub id: Option<u64>,
    pub code: Option<String>,
    pub title: Option<String>,
    #[serde(with = "money::lenient_option")]
    pub price: Option<Decimal>,
    pub price_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub discounted_price: Option<Decimal>,
    pub discounted_price_set: Option<MoneySet>,
    pub discount_allocations: Vec<Allocation>,
    pub tax_lines: Vec<TaxLine>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Allocation {
    #[serde(with = "money::lenient_option")]
    pub amount: Option<Decimal>,
    pub amount_set: Option<MoneySet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TaxLine {
    /// A fraction (`0.22`), sent as a JSON number.
    #[serde(with = "money::lenient_option")]
    pub rate: Option<Decimal>,
    #[serde(with = "money::lenient_option")]
    pub price: Option<Decimal>,
    pub price_set: Option<MoneySet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DiscountCode {
    pub code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyRefund {
    pub id: Option<u64>,
    pub created_at: Option<String>,
    pub note: Option<String>,
    pub refund_line_items: Vec<RefundLine>,
    pub transactions: Vec<Transaction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundLine {
    #[serde(with = "money::lenient_option")]
    pub subtotal: Option<Decimal>,
    pub subtotal_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    pub total_tax_set: Option<MoneySet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Transaction {
    pub kind: Option<String>,
    pub status: Option<String>,
    #[serde(with = "money::lenient_option")]
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
}

/// Parses one order object (the body of an `orders/*` webhook, or the `order` of
/// `GET orders/{id}.json`) and maps it.
pub fn map_order_json(body: &[u8]) -> Result<Order, ConnectorError> {
    let order: ShopifyOrder = serde_json::from_slice(body).map_err(|error| {
        ConnectorError::Other(format!("a Shopify order that does not parse: {error}"))
    })?;
    map_order(order)
}

/// A Shopify order as a tovor order.
pub fn map_order(order: ShopifyOrder) -> Result<Order, ConnectorError> {
    if order.id == 0 {
        return Err(ConnectorError::Other(
            "a Shopify order without an id".into(),
        ));
    }
    let included = order.taxes_included;
    let lines: Vec<LineItem> = order
        .line_items
        .iter()
        // A line cannot have no units; nothing of it reaches the totals either.
        .filter(|line| line.quantity > 0)
        .map(|line| map_line(line, included))
        .collect();
    let shipping_lines: Vec<ChargeLine> = order
        .shipping_lines
        .iter()
        .map(|line| map_shipping(line, included))
        .collect();
    let mut fees = Vec::new();
    // UNCONFIRMED: that `total_price` includes tips (total_tip_received); when one is
    // there it is kept as an untaxed fee so the totals still add up.
    if let Some(tip) = order.total_tip_received.filter(|tip| !tip.is_zero()) {
        fees.push(ChargeLine {
            platform_line_id: None,
            code: Some("tip".into()),
            title: "Tip".into(),
            amount: money::format_decimal(tip),
            tax_rate: None,
            tax_amount: "0".into(),
        });
    }
    let line_tax: Decimal = order
        .line_items
        .iter()
        .filter(|line| line.quantity > 0)
        .map(|line| tax_of(&line.tax_lines))
        .sum();
    let shipping_tax: Decimal = order
        .shipping_lines
        .iter()
        .map(|line| tax_of(&line.tax_lines))
        .sum();
    let tax_total = if order.total_tax.is_some() || order.total_tax_set.is_some() {
        shop_amount(order.total_tax, order.total_tax_set.as_ref())
    } else {
        line_tax + shipping_tax
    };
    let shipping_total: Decimal = shipping_lines
        .iter()
        .map(|line| money::parse_decimal(&line.amount).unwrap_or_default())
        .sum();
    let discount_total: Decimal = order
        .line_items
        .iter()
        .filter(|line| line.quantity > 0)
        .map(discount_of)
        .sum();
    let total = shop_amount(order.total_price, order.total_price_set.as_ref());
    let currency = order
        .currency
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ConnectorError::Other(format!("Shopify order {} has no currency", order.id))
        })?;

    let financial = order.financial_status.as_deref().unwrap_or("").to_owned();
    let fulfillment = order.fulfillment_status.as_deref().unwrap_or("").to_owned();
    let cancelled = order
        .cancelled_at
        .as_deref()
        .is_some_and(|at| !at.trim().is_empty());
    let status = map_status(cancelled, &financial, &fulfillment);
    let status_raw = status_raw(cancelled, &financial, &fulfillment);
    let payment_status = map_payment_status(&financial);

    let created_raw = order
        .created_at
        .as_deref()
        .or(order.processed_at.as_deref())
        .ok_or_else(|| {
            ConnectorError::Other(format!("Shopify order {} has no created_at", order.id))
        })?;
    let created_at = tovor_sdk::time::parse_to_utc(created_raw)?;
    let modified_at = match order.updated_at.as_deref() {
        Some(at) => tovor_sdk::time::parse_to_utc(at)?,
        None => created_at.clone(),
    };
    // Shopify has no payment time of its own; a paid order was paid when processed.
    let paid_at = match (financial.as_str(), order.processed_at.as_deref()) {
        ("paid" | "partially_refunded" | "refunded", Some(at)) => {
            Some(tovor_sdk::time::parse_to_utc(at)?)
        }
        _ => None,
    };

    let email =
        non_blank(order.email.as_deref()).or_else(|| non_blank(order.contact_email.as_deref()));
    let customer = map_customer(&order, email.clone());
    let refunds = order
        .refunds
        .iter()
        .map(|refund| map_refund(refund, &currency, included))
        .collect::<Result<Vec<_>, _>>()?;
    let number = non_blank(order.name.as_deref())
        .or_else(|| order.order_number.map(|n| n.to_string()))
        .unwrap_or_else(|| order.id.to_string());

    Ok(Order {
        id: order.id.to_string(),
        number,
        status,
        status_raw,
        payment_status,
        payment_method: order
            .payment_gateway_names
            .iter()
            .find(|name| !name.trim().is_empty())
            .map(|name| PaymentMethod {
                code: name.clone(),
                title: name.clone(),
            }),
        currency,
        prices_include_tax: included,
        created_at,
        modified_at,
        paid_at,
        customer,
        billing: order
            .billing_address
            .as_ref()
            .map(|address| map_address(address, email.clone())),
        shipping: order
            .shipping_address
            .as_ref()
            .map(|address| map_address(address, None)),
        lines,
        shipping_lines,
        fees,
        coupons: order
            .discount_codes
            .iter()
            .filter_map(|code| non_blank(code.code.as_deref()))
            .collect(),
        discount_total: money::format_decimal(discount_total),
        shipping_total: money::format_decimal(shipping_total),
        tax_total: money::format_decimal(tax_total),
        total: money::format_decimal(total),
        refunds,
        customer_note: non_blank(order.note.as_deref()),
        pickup_point: None,
    })
}

fn tax_of(tax_lines: &[TaxLine]) -> Decimal {
    tax_lines
        .iter()
        .map(|tax| shop_amount(tax.price, tax.price_set.as_ref()))
        .sum()
}

fn discount_of(line: &ShopifyLine) -> Decimal {
    line.discount_allocations
        .iter()
        .map(|allocation| shop_amount(allocation.amount, allocation.amount_set.as_ref()))
        .sum()
}

/// The tax rate in percent (Shopify's fractions summed, × 100) when it matches the tax
/// on `base` within a cent, as the host checks. Shopify rounds several tax lines (state
/// and county) on their own, so a sum can stray; then no rate is given and the host
/// derives one from the amounts.
fn rate_percent(tax_lines: &[TaxLine], tax: Decimal, base: Decimal) -> Option<String> {
    if tax_lines.is_empty() || tax_lines.iter().any(|tax| tax.rate.is_none()) {
        return None;
    }
    let rate: Decimal =
        tax_lines.iter().filter_map(|tax| tax.rate).sum::<Decimal>() * Decimal::ONE_HUNDRED;
    let expected = base * rate / Decimal::ONE_HUNDRED;
    ((tax - expected).abs() <= Decimal::new(1, 2)).then(|| money::format_decimal(rate.normalize()))
}

fn map_line(line: &ShopifyLine, included: bool) -> LineItem {
    let quantity = Decimal::from(line.quantity);
    let unit_price = shop_amount(line.price, line.price_set.as_ref());
    let discount = discount_of(line);
    let tax = tax_of(&line.tax_lines);
    let after_discount = quantity * unit_price - discount;
    let total = if included {
        after_discount - tax
    } else {
        after_discount
    };
    LineItem {
        platform_line_id: line.id.map(|id| id.to_string()),
        sku: non_blank(line.sku.as_deref()),
        name: line_name(line),
        product_id: line.product_id.map(|id| id.to_string()),
        variation_id: line.variant_id.map(|id| id.to_string()),
        quantity: money::format_decimal(quantity),
        unit_price: money::format_decimal(unit_price),
        discount: money::format_decimal(discount),
        tax_rate: rate_percent(&line.tax_lines, tax, total),
        tax_amount: money::format_decimal(tax),
        total: money::format_decimal(total),
    }
}

/// `"T-Shirt - M"`, or just the title for a product's only variant (`"Default Title"`).
fn line_name(line: &ShopifyLine) -> String {
    let title = non_blank(line.title.as_deref());
    let variant = non_blank(line.variant_title.as_deref()).filter(|v| v != "Default Title");
    match (title, variant) {
        (Some(title), Some(variant)) => format!("{title} - {variant}"),
        (Some(title), None) => title,
        (None, _) => non_blank(line.name.as_deref()).unwrap_or_else(|| "Item".into()),
    }
}

/// Product and variant title as one name, the way Shopify shows them.
pub fn product_name(title: &str, variant_title: Option<&str>) -> String {
    match variant_title
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "Default Title")
    {
        Some(variant) => format!("{} - {variant}", title.trim()),
        None => title.trim().to_owned(),
    }
}

fn map_shipping(line: &ShopifyShippingLine, included: bool) -> ChargeLine {
    let price = shop_amount(line.price, line.price_set.as_ref());
    let discounted = if line.discounted_price.is_some() || line.discounted_price_set.is_some() {
        shop_amount(line.discounted_price, line.discounted_price_set.as_ref())
    } else {
        price
            - line
                .discount_allocations
                .iter()
                .map(|a| shop_amount(a.amount, a.amount_set.as_ref()))
                .sum::<Decimal>()
    };
    let tax = tax_of(&line.tax_lines);
    let amount = if included {
        discounted - tax
    } else {
        discounted
    };
    let title = non_blank(line.title.as_deref())
        .or_else(|| non_blank(line.code.as_deref()))
        .unwrap_or_else(|| "Shipping".into());
    ChargeLine {
        platform_line_id: line.id.map(|id| id.to_string()),
        code: non_blank(line.code.as_deref()),
        title,
        amount: money::format_decimal(amount),
        tax_rate: rate_percent(&line.tax_lines, tax, amount),
        tax_amount: money::format_decimal(tax),
    }
}

fn map_customer(order: &ShopifyOrder, email: Option<String>) -> Option<Customer> {
    let billing = order.billing_address.as_ref();
    let from_billing =
        |pick: fn(&ShopifyAddress) -> Option<&str>| billing.and_then(|a| non_blank(pick(a)));
    let customer = order.customer.as_ref();
    let first_name = customer
        .and_then(|c| non_blank(c.first_name.as_deref()))
        .or_else(|| from_billing(|a| a.first_name.as_deref()));
    let last_name = customer
        .and_then(|c| non_blank(c.last_name.as_deref()))
        .or_else(|| from_billing(|a| a.last_name.as_deref()));
    let email = customer
        .and_then(|c| non_blank(c.email.as_deref()))
        .or(email);
    let phone = customer
        .and_then(|c| non_blank(c.phone.as_deref()))
        .or_else(|| non_blank(order.phone.as_deref()))
        .or_else(|| from_billing(|a| a.phone.as_deref()));
    let platform_id = customer.and_then(|c| c.id).map(|id| id.to_string());
    if platform_id.is_none() && email.is_none() && first_name.is_none() && last_name.is_none() {
        return None;
    }
    Some(Customer {
        // None for a guest checkout: Shopify sends `customer: null` then.
        platform_id,
        email,
        first_name,
        last_name,
        company: from_billing(|a| a.company.as_deref()),
        vat_id: None,
        phone,
    })
}

fn map_address(address: &ShopifyAddress, email: Option<String>) -> Address {
    let line1 = non_blank(address.address1.as_deref());
    let (street, house_number) = line1.as_deref().map_or((None, None), split_street);
    let name = non_blank(address.name.as_deref()).or_else(|| {
        let joined = [address.first_name.as_deref(), address.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        non_blank(Some(&joined))
    });
    Address {
        name,
        company: non_blank(address.company.as_deref()),
        street,
        house_number,
        line1,
        line2: non_blank(address.address2.as_deref()),
        city: non_blank(address.city.as_deref()),
        postal_code: non_blank(address.zip.as_deref()),
        region: non_blank(address.province.as_deref()),
        country: non_blank(address.country_code.as_deref()).map(|c| c.to_ascii_uppercase()),
        phone: non_blank(address.phone.as_deref()),
        email,
    }
}

/// Splits an address line into street and house number: `"Slovenska cesta 12a"` →
/// `("Slovenska cesta", "12a")`, `"Ilica 1"` → `("Ilica", "1")`, and the number-first
/// style `"221B Baker Street"` → `("Baker Street", "221B")`. A line with no word that
/// starts with a digit at either end stays whole in the street.
pub fn split_street(line: &str) -> (Option<String>, Option<String>) {
    let line = line.trim();
    let starts_with_digit = |word: &str| word.starts_with(|c: char| c.is_ascii_digit());
    if let Some((street, number)) = line.rsplit_once(' ')
        && starts_with_digit(number)
        && !street.trim().is_empty()
    {
        return (Some(street.trim_end().to_owned()), Some(number.to_owned()));
    }
    if let Some((number, street)) = line.split_once(' ')
        && starts_with_digit(number)
        && !street.trim().is_empty()
    {
        return (
            Some(street.trim_start().to_owned()),
            Some(number.to_owned()),
        );
    }
    (non_blank(Some(line)), None)
}

fn map_refund(
    refund: &ShopifyRefund,
    currency: &str,
    included: bool,
) -> Result<Refund, ConnectorError> {
    // Transactions are in the currency the customer paid in; only when that is the shop
    // currency are they the refunded amount as tovor wants it. Otherwise (or without
    // transactions) the refunded lines' shop-money subtotals are, plus their tax unless
    // the subtotals already include it (UNCONFIRMED: that a refund line's `subtotal` is
    // on the prices' basis, gross when taxes are included, like the line's `price`).
    let successful_refunds: Vec<&Transaction> = refund
        .transactions
        .iter()
        .filter(|t| t.kind.as_deref() == Some("refund"))
        .filter(|t| matches!(t.status.as_deref(), None | Some("success")))
        .collect();
    let in_shop_currency = !successful_refunds.is_empty()
        && successful_refunds.iter().all(|t| {
            t.currency
                .as_deref()
                .is_none_or(|c| c.eq_ignore_ascii_case(currency))
        });
    let amount: Decimal = if in_shop_currency {
        successful_refunds.iter().filter_map(|t| t.amount).sum()
    } else {
        refund
            .refund_line_items
            .iter()
            .map(|line| {
                let subtotal = shop_amount(line.subtotal, line.subtotal_set.as_ref());
                let tax = shop_amount(line.total_tax, line.total_tax_set.as_ref());
                if included { subtotal } else { subtotal + tax }
            })
            .sum()
    };
    Ok(Refund {
        platform_id: refund.id.map(|id| id.to_string()),
        amount: money::format_decimal(amount),
        reason: non_blank(refund.note.as_deref()),
        created_at: refund
            .created_at
            .as_deref()
            .map(tovor_sdk::time::parse_to_utc)
            .transpose()?,
    })
}

/// The order's state from Shopify's three: cancelled, financial and fulfillment status.
pub fn map_status(cancelled: bool, financial: &str, fulfillment: &str) -> OrderStatus {
    if cancelled {
        OrderStatus::Cancelled
    } else if financial == "refunded" {
        OrderStatus::Refunded
    } else if fulfillment == "fulfilled" {
        OrderStatus::Completed
    } else {
        match financial {
            "pending" => OrderStatus::Pending,
            // The authorization lapsed or was voided without cancelling the order: no
            // money will come unless the merchant acts.
            "voided" | "expired" => OrderStatus::OnHold,
            _ => OrderStatus::Processing,
        }
    }
}

/// `"cancelled"`, or `"{financial_status}/{fulfillment_status}"` with a missing
/// fulfillment status written `unfulfilled` (`"paid/unfulfilled"`, `"paid/fulfilled"`).
pub fn status_raw(cancelled: bool, financial: &str, fulfillment: &str) -> String {
    if cancelled {
        return "cancelled".into();
    }
    let financial = if financial.is_empty() {
        "unknown"
    } else {
        financial
    };
    let fulfillment = if fulfillment.is_empty() {
        "unfulfilled"
    } else {
        fulfillment
    };
    format!("{financial}/{fulfillment}")
}

pub fn map_payment_status(financial: &str) -> PaymentStatus {
    match financial {
        "pending" => PaymentStatus::Unpaid,
        "authorized" => PaymentStatus::Authorized,
        "partially_paid" => PaymentStatus::PartiallyPaid,
        "paid" => PaymentStatus::Paid,
        "partially_refunded" => PaymentStatus::PartiallyRefunded,
        "refunded" => PaymentStatus::Refunded,
        "voided" => PaymentStatus::Voided,
        _ => PaymentStatus::Unknown,
    }
}

fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

// ---------------------------------------------------------------------------------------
// Products

/// `GET products.json` answers `{"products": [...]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProductList {
    pub products: Vec<ShopifyProduct>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyProduct {
    pub id: u64,
    pub title: String,
    pub variants: Vec<ShopifyVariant>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyVariant {
    pub id: u64,
    pub product_id: Option<u64>,
    pub title: Option<String>,
    pub sku: Option<String>,
    #[serde(with = "money::lenient_option")]
    pub price: Option<Decimal>,
    pub inventory_item_id: Option<u64>,
    pub inventory_quantity: Option<i64>,
    /// `"shopify"` when Shopify tracks the stock, `null` when it does not.
    pub inventory_management: Option<String>,
}

/// One tovor product per variant: that is Shopify's unit of stock.
pub fn map_products(list: ProductList) -> Vec<Product> {
    list.products
        .into_iter()
        .flat_map(|product| {
            let product_id = product.id;
            let title = product.title;
            product.variants.into_iter().map(move |variant| {
                let manages_stock = variant.inventory_management.as_deref() == Some("shopify");
                Product {
                    key: StockKey {
                        sku: non_blank(variant.sku.as_deref()),
                        product_id: Some(variant.product_id.unwrap_or(product_id).to_string()),
                        variation_id: Some(variant.id.to_string()),
                        inventory_item_id: variant.inventory_item_id.map(|id| id.to_string()),
                        location_id: None,
                    },
                    name: product_name(&title, variant.title.as_deref()),
                    price: variant.price.map(money::format_decimal),
                    stock: if manages_stock {
                        variant.inventory_quantity
                    } else {
                        None
                    },
                    manages_stock,
                }
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Errors and headers

/// The messages of a Shopify error body: `{"errors": "text"}`, `{"errors": ["text"]}`,
/// `{"errors": {"field": ["text"]}}` or `{"errors": {"field": "text"}}`, also `{"error":
/// "text"}`. Returns the first field named, if any, and all messages joined.
pub fn error_messages(body: &[u8]) -> Option<(Option<String>, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let errors = value.get("errors").or_else(|| value.get("error"))?;
    let texts = |value: &serde_json::Value| -> Vec<String> {
        match value {
            serde_json::Value::String(text) => vec![text.clone()],
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect(),
            serde_json::Value::Null => Vec::new(),
            other => vec![other.to_string()],
        }
    };
    match errors {
        serde_json::Value::Object(fields) => {
            let field = fields.keys().next().cloned();
            let messages: Vec<String> = fields
                .iter()
                .flat_map(|(name, value)| {
                    texts(value).into_iter().map(move |text| {
                        // Shopify often repeats the field at the start of the text.
                        if text.starts_with(name.as_str()) {
                            text
                        } else {
                            format!("{name}: {text}")
                        }
                    })
                })
                .collect();
            Some((field, messages.join("; ")))
        }
        other => {
            let messages = texts(other);
            (!messages.is_empty()).then(|| (None, messages.join("; ")))
        }
    }
}

/// `X-Shopify-Shop-Api-Call-Limit: 32/40` → `(32, 40)`.
pub fn parse_call_limit(value: &str) -> Option<(u32, u32)> {
    let (used, capacity) = value.trim().split_once('/')?;
    let used = used.trim().parse().ok()?;
    let capacity: u32 = capacity.trim().parse().ok()?;
    (capacity > 0).then_some((used, capacity))
}

/// How long until a bucket at `used` of `capacity` has drained to half, at Shopify's
/// Standard leak of 2 requests per second (faster plans drain sooner, so this is safe).
pub fn drain_ms(used: u32, capacity: u32) -> u64 {
    const LEAK_PER_SECOND: u64 = 2;
    let excess = u64::from(used.saturating_sub(capacity / 2));
    (excess * 1000 / LEAK_PER_SECOND).max(1000)
}

/// The `page_info` of a pagination cursor: a bare `page_info`, or a whole `Link` target.
pub fn page_info_of(cursor: &str) -> Option<String> {
    let cursor = cursor.trim();
    if cursor.is_empty() {
        return None;
    }
    if !cursor.contains("://") && !cursor.contains('?') {
        return Some(cursor.to_owned());
    }
    let query = cursor.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "page_info")
        .map(|(_, value)| value.into_owned())
}

/// The shop's domain as the user may have typed it: `https://demo.myshopify.com/` →
/// `demo.myshopify.com`.
pub fn normalize_domain(domain: &str) -> String {
    let domain = domain.trim();
    let domain = domain
        .strip_prefix("https://")
        .or_else(|| domain.strip_prefix("http://"))
        .unwrap_or(domain);
    domain.trim_end_matches('/').to_ascii_lowercase()
}
