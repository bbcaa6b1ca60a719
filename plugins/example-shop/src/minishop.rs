//! Minishop's JSON and how it maps to tovor's normalized types.
//!
//! Everything here is pure (no HTTP, no host), so it is unit-tested natively with
//! `cargo test -p example-shop`.

use serde::Deserialize;
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
};

/// `GET /orders` answers one page of orders.
#[derive(Debug, Deserialize)]
pub struct OrderList {
    pub orders: Vec<MsOrder>,
    pub page: u32,
    pub total_pages: u32,
}

/// An order as Minishop sends it (in the API and in webhooks). Amounts arrive as
/// strings or as numbers, so they go through `money::lenient`, never through `f64`.
#[derive(Debug, Deserialize)]
pub struct MsOrder {
    pub id: u64,
    pub number: String,
    pub status: String,
    pub currency: String,
    /// RFC 3339 with any offset; the contract wants UTC, which the SDK's timestamps are.
    #[serde(with = "time::lenient")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::lenient")]
    pub updated_at: OffsetDateTime,
    pub customer: Option<MsCustomer>,
    pub billing_address: Option<MsAddress>,
    pub shipping_address: Option<MsAddress>,
    pub payment: Option<MsPayment>,
    pub items: Vec<MsItem>,
    pub shipping: Option<MsShipping>,
    #[serde(with = "money::lenient")]
    pub total: Decimal,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MsCustomer {
    pub id: Option<u64>,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MsAddress {
    pub name: Option<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MsPayment {
    pub method: String,
    pub title: String,
}

/// One order line. Prices exclude tax.
#[derive(Debug, Deserialize)]
pub struct MsItem {
    pub id: u64,
    /// Minishop's product id; absent on lines of deleted products.
    #[serde(default)]
    pub product_id: Option<u64>,
    pub sku: Option<String>,
    pub name: String,
    #[serde(with = "money::lenient")]
    pub quantity: Decimal,
    #[serde(with = "money::lenient")]
    pub unit_price: Decimal,
    #[serde(default, with = "money::lenient_option")]
    pub tax_rate: Option<Decimal>,
    #[serde(with = "money::lenient")]
    pub tax: Decimal,
    #[serde(with = "money::lenient")]
    pub total: Decimal,
}

#[derive(Debug, Deserialize)]
pub struct MsShipping {
    pub title: String,
    #[serde(with = "money::lenient")]
    pub price: Decimal,
    #[serde(with = "money::lenient")]
    pub tax: Decimal,
}

/// The cursor for the page after `page`, while there is one. Minishop pages are numbers,
/// so the cursor is simply the next page number as text.
pub fn next_cursor(page: u32, total_pages: u32) -> Option<String> {
    (page < total_pages).then(|| (page + 1).to_string())
}

/// Minishop's status, normalized: the order's state and whether it is paid.
pub fn map_status(raw: &str) -> (OrderStatus, PaymentStatus) {
    match raw {
        "pending" => (OrderStatus::Pending, PaymentStatus::Unpaid),
        "paid" => (OrderStatus::Processing, PaymentStatus::Paid),
        "shipped" => (OrderStatus::Completed, PaymentStatus::Paid),
        "cancelled" => (OrderStatus::Cancelled, PaymentStatus::Unknown),
        "refunded" => (OrderStatus::Refunded, PaymentStatus::Refunded),
        // A status we do not know yet: the raw value still travels in `status_raw`.
        _ => (OrderStatus::Other, PaymentStatus::Unknown),
    }
}

/// Splits `"Slovenska cesta 12a"` into `("Slovenska cesta", "12a")`: the house number is
/// the last word that starts with a digit. Anything else stays whole in the street.
pub fn split_street(line: &str) -> (Option<String>, Option<String>) {
    let line = line.trim();
    match line.rsplit_once(' ') {
        Some((street, number)) if number.starts_with(|c: char| c.is_ascii_digit()) => {
            (Some(street.trim_end().to_owned()), Some(number.to_owned()))
        }
        _ => (non_empty(line), None),
    }
}

/// Splits a full name at its last space: `"Ana Novak"` is first `Ana`, last `Novak`.
fn split_name(name: &str) -> (Option<String>, Option<String>) {
    match name.trim().rsplit_once(' ') {
        Some((first, last)) => (non_empty(first.trim()), non_empty(last)),
        None => (non_empty(name.trim()), None),
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

fn map_address(address: MsAddress) -> Address {
    let (street, house_number) = address.street.as_deref().map_or((None, None), split_street);
    Address::builder()
        .name(address.name)
        .street(street, house_number)
        // The line exactly as Minishop sent it, next to our split.
        .line1(address.street)
        .city(address.city)
        .postal_code(address.zip)
        // Upper-cased: the contract wants ISO 3166-1 alpha-2.
        .country(address.country)
        .build()
}

fn map_customer(customer: MsCustomer) -> Customer {
    let (first_name, last_name) = customer.name.as_deref().map_or((None, None), split_name);
    Customer {
        platform_id: customer.id.map(|id| id.to_string()),
        email: customer.email,
        first_name,
        last_name,
        company: None,
        vat_id: None,
        phone: None,
    }
}

fn map_item(item: MsItem) -> LineItem {
    LineItem::builder(item.name, item.quantity, item.unit_price)
        .platform_line_id(item.id.to_string())
        .sku(item.sku)
        .product_id(item.product_id.map(|id| id.to_string()))
        .tax_rate(item.tax_rate)
        .tax_amount(item.tax)
        .total(item.total)
        .build()
}

fn map_shipping(shipping: MsShipping) -> ChargeLine {
    ChargeLine::builder(shipping.title, shipping.price)
        .tax_amount(shipping.tax)
        .build()
}

/// A Minishop order as a tovor order.
pub fn map_order(order: MsOrder) -> Result<Order, ConnectorError> {
    let (status, payment_status) = map_status(&order.status);
    let mut builder = Order::builder(order.id.to_string(), order.number, order.currency)
        .status(status, order.status)
        .payment_status(payment_status)
        .created_at(order.created_at)
        .modified_at(order.updated_at)
        .customer(order.customer.map(map_customer))
        .billing(order.billing_address.map(map_address))
        .shipping_address(order.shipping_address.map(map_address))
        .lines(order.items.into_iter().map(map_item))
        // Minishop states tax per line and on shipping only: the builder sums the
        // order's tax and shipping totals from them. The total is Minishop's own.
        .total(order.total)
        .customer_note(order.note);
    if let Some(payment) = order.payment {
        builder = builder.payment_method(payment.method, payment.title);
    }
    if let Some(shipping) = order.shipping {
        builder = builder.shipping_line(map_shipping(shipping));
    }
    builder.build()
}
