//! Magento's order (`Magento\Sales\Api\Data\OrderInterface` as REST serializes it) to
//! tovor's, as pure functions.
//!
//! **Currency.** Magento keeps every amount twice: `base_*` in the store's base
//! currency and the plain fields in the currency the customer paid in
//! (`order_currency_code`). The order is imported in `order_currency_code` with the
//! plain fields, so `total` is `grand_total` to the cent.
//!
//! **Amounts.** Prices are net: `price` and `row_total` exclude tax. An item's
//! `discount_amount` is on the tax basis the store applies discounts to; when discounts
//! apply to prices including tax, Magento books the tax part of the discount as
//! `discount_tax_compensation_amount`. So a line's net discount is
//! `discount_amount − discount_tax_compensation_amount`, its total `row_total` less
//! that, its tax `tax_amount` at `tax_percent`; the same for shipping
//! (`shipping_amount`, `shipping_discount_amount`,
//! `shipping_discount_tax_compensation_amnt`, `shipping_tax_amount`). The order's
//! `discount_amount` is negative and includes the shipping discount; `discount_total`
//! is the sum of the line discounts.
//!
//! **Composite products.** Magento stores a parent item and child items
//! (`parent_item_id`). Exactly one side carries the money (the other is a "dummy"
//! with zero prices), and only that side becomes a line:
//! - configurable: the parent carries price, tax and discount, the child the variant
//!   (its `sku` and `product_id`). One line: the parent's amounts and item id (which
//!   is what a shipment names), the child's SKU and product id (what stock follows).
//! - bundle with dynamic price: the children carry the prices (each a line of its
//!   own, with the bundle's name before its own); the parent is a dummy and dropped.
//! - bundle with fixed price: the parent carries the price (one line with the
//!   bundle's SKU); the children are dummies and dropped.
//!
//! REST does not expose the bundle's price type on the order item, so it is read
//! from the data: a bundle whose children carry a price or tax is dynamic.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;
use tovor_sdk::address::{non_blank, split_street};
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
};

/// Decimal or zero for absent/null amounts.
mod amount {
    use serde::{Deserialize, Deserializer};
    use tovor_sdk::money::Decimal;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let value = Option::<serde_json::Value>::deserialize(deserializer)?;
        match value {
            None | Some(serde_json::Value::Null) => Ok(Decimal::ZERO),
            Some(value) => {
                tovor_sdk::money::decimal_from_json(&value).map_err(serde::de::Error::custom)
            }
        }
    }
}

/// `GET /V1/orders` answers a search result.
#[derive(Debug, Deserialize)]
pub struct SearchResult {
    #[serde(default)]
    pub items: Vec<MagentoOrder>,
    #[serde(default)]
    pub total_count: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MagentoOrder {
    pub entity_id: u64,
    #[serde(default)]
    pub increment_id: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    pub updated_at: String,
    #[serde(default)]
    pub order_currency_code: Option<String>,
    #[serde(default)]
    pub base_currency_code: Option<String>,
    #[serde(default, with = "amount")]
    pub grand_total: Decimal,
    #[serde(default, with = "amount")]
    pub tax_amount: Decimal,
    #[serde(default, with = "amount")]
    pub shipping_amount: Decimal,
    #[serde(default, with = "amount")]
    pub shipping_tax_amount: Decimal,
    #[serde(default, with = "amount")]
    pub shipping_incl_tax: Decimal,
    #[serde(default, with = "amount")]
    pub shipping_discount_amount: Decimal,
    #[serde(default, with = "amount")]
    pub shipping_discount_tax_compensation_amount: Decimal,
    #[serde(default, with = "amount")]
    pub total_paid: Decimal,
    #[serde(default, with = "amount")]
    pub total_refunded: Decimal,
    #[serde(default)]
    pub shipping_description: Option<String>,
    #[serde(default)]
    pub coupon_code: Option<String>,
    #[serde(default)]
    pub customer_id: Option<u64>,
    #[serde(default)]
    pub customer_is_guest: Option<Value>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_firstname: Option<String>,
    #[serde(default)]
    pub customer_lastname: Option<String>,
    #[serde(default)]
    pub customer_taxvat: Option<String>,
    #[serde(default)]
    pub customer_note: Option<String>,
    #[serde(default)]
    pub billing_address: Option<MagentoAddress>,
    #[serde(default)]
    pub payment: Option<Payment>,
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub extension_attributes: Option<OrderExtension>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    pub item_id: u64,
    #[serde(default)]
    pub parent_item_id: Option<u64>,
    #[serde(default)]
    pub product_id: Option<u64>,
    #[serde(default)]
    pub product_type: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "amount")]
    pub qty_ordered: Decimal,
    #[serde(default, with = "amount")]
    pub price: Decimal,
    #[serde(default, with = "amount")]
    pub row_total: Decimal,
    #[serde(default, with = "amount")]
    pub tax_amount: Decimal,
    #[serde(default)]
    pub tax_percent: Option<Value>,
    #[serde(default, with = "amount")]
    pub discount_amount: Decimal,
    #[serde(default, with = "amount")]
    pub discount_tax_compensation_amount: Decimal,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MagentoAddress {
    #[serde(default)]
    pub firstname: Option<String>,
    #[serde(default)]
    pub lastname: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub street: Vec<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub country_id: Option<String>,
    #[serde(default)]
    pub telephone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub vat_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Payment {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub additional_information: Vec<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderExtension {
    #[serde(default)]
    pub shipping_assignments: Vec<ShippingAssignment>,
    #[serde(default)]
    pub payment_additional_info: Vec<KeyValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShippingAssignment {
    #[serde(default)]
    pub shipping: Option<Shipping>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Shipping {
    #[serde(default)]
    pub address: Option<MagentoAddress>,
    #[serde(default)]
    pub method: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyValue {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
}

/// Parses one order (`GET /V1/orders/{id}`).
pub fn parse_order(body: &[u8]) -> Result<MagentoOrder, ConnectorError> {
    serde_json::from_slice(body).map_err(|error| {
        ConnectorError::other(format!("Magento's order is not the expected JSON: {error}"))
    })
}

/// Parses a search result (`GET /V1/orders?searchCriteria...`).
pub fn parse_search(body: &[u8]) -> Result<SearchResult, ConnectorError> {
    serde_json::from_slice(body).map_err(|error| {
        ConnectorError::other(format!(
            "Magento's order search result is not the expected JSON: {error}"
        ))
    })
}

/// Magento's `YYYY-MM-DD HH:MM:SS`, in UTC.
pub fn parse_time(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    tovor_sdk::time::parse_naive_as_utc(text)
}

/// A time as Magento's filters take it: `YYYY-MM-DD HH:MM:SS`, UTC.
pub fn magento_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The order status: Magento's `status` (the admin may add own statuses, which keep
/// their `state`), then its `state`.
pub fn status(status: Option<&str>, state: Option<&str>) -> OrderStatus {
    let known = |code: &str| match code {
        "pending" | "new" | "pending_payment" => Some(OrderStatus::Pending),
        "processing" => Some(OrderStatus::Processing),
        "complete" => Some(OrderStatus::Completed),
        // Closed: everything invoiced was refunded (a credit memo for the whole order).
        "closed" => Some(OrderStatus::Refunded),
        "canceled" => Some(OrderStatus::Cancelled),
        "holded" | "payment_review" | "fraud" | "suspected_fraud" => Some(OrderStatus::OnHold),
        _ => None,
    };
    status
        .and_then(known)
        .or_else(|| state.and_then(known))
        .unwrap_or(OrderStatus::Other)
}

fn payment_status(order: &MagentoOrder) -> PaymentStatus {
    let total = order.grand_total;
    if order.total_refunded > Decimal::ZERO {
        if order.total_refunded >= total {
            return PaymentStatus::Refunded;
        }
        return PaymentStatus::PartiallyRefunded;
    }
    if order.total_paid > Decimal::ZERO {
        if order.total_paid >= total {
            return PaymentStatus::Paid;
        }
        return PaymentStatus::PartiallyPaid;
    }
    if order.state.as_deref() == Some("canceled") {
        return PaymentStatus::Voided;
    }
    if total.is_zero() {
        return PaymentStatus::Paid;
    }
    PaymentStatus::Unpaid
}

fn address(source: &MagentoAddress) -> Address {
    let line1 = source.street.first().map(String::as_str);
    let line2 = source
        .street
        .iter()
        .skip(1)
        .map(String::as_str)
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let name = [source.firstname.as_deref(), source.lastname.as_deref()]
        .into_iter()
        .filter_map(|part| non_blank(part))
        .collect::<Vec<_>>()
        .join(" ");
    let (street, house_number) = line1.map(split_street).unwrap_or((None, None));
    let builder = Address::builder()
        .name(non_blank(Some(&name)))
        .company(non_blank(source.company.as_deref()))
        .street(street, house_number)
        .line1(non_blank(line1))
        .line2(non_blank(Some(&line2)))
        .city(non_blank(source.city.as_deref()))
        .postal_code(non_blank(source.postcode.as_deref()))
        .region(non_blank(source.region.as_deref()))
        .phone(non_blank(source.telephone.as_deref()))
        .email(non_blank(source.email.as_deref()))
        .country(non_blank(source.country_id.as_deref()));
    builder.build()
}

fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_u64().is_some_and(|n| n != 0),
        Some(Value::String(text)) => text == "1" || text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn customer(order: &MagentoOrder) -> Customer {
    let billing = order.billing_address.clone().unwrap_or_default();
    let guest = is_true(order.customer_is_guest.as_ref()) || order.customer_id.is_none();
    Customer {
        platform_id: if guest {
            None
        } else {
            order.customer_id.map(|id| id.to_string())
        },
        email: non_blank(order.customer_email.as_deref())
            .or_else(|| non_blank(billing.email.as_deref())),
        // Guests have no customer name on the order: the billing name is theirs.
        first_name: non_blank(order.customer_firstname.as_deref())
            .or_else(|| non_blank(billing.firstname.as_deref())),
        last_name: non_blank(order.customer_lastname.as_deref())
            .or_else(|| non_blank(billing.lastname.as_deref())),
        company: non_blank(billing.company.as_deref()),
        vat_id: non_blank(order.customer_taxvat.as_deref())
            .or_else(|| non_blank(billing.vat_id.as_deref())),
        phone: non_blank(billing.telephone.as_deref()),
    }
}

/// The payment method's title: `method_title` of `payment_additional_info`, else the
/// first text of `payment.additional_information` (offline methods put the title
/// there), else the code.
fn payment_title(order: &MagentoOrder, code: &str) -> String {
    let from_extension = order
        .extension_attributes
        .as_ref()
        .and_then(|extension| {
            extension
                .payment_additional_info
                .iter()
                .find(|entry| entry.key.as_deref() == Some("method_title"))
        })
        .and_then(|entry| entry.value.as_ref())
        .and_then(Value::as_str)
        .and_then(|title| non_blank(Some(title)));
    let from_payment = order
        .payment
        .as_ref()
        .and_then(|payment| payment.additional_information.first())
        .and_then(Value::as_str)
        .filter(|text| !text.trim_start().starts_with(['{', '[']))
        .and_then(|title| non_blank(Some(title)));
    from_extension
        .or(from_payment)
        .unwrap_or_else(|| code.to_owned())
}

fn tax_rate(value: Option<&Value>) -> Result<Option<Decimal>, ConnectorError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(value) => money::decimal_from_json(value).map(Some),
    }
}

/// The line for an item with its own amounts, named and keyed by `variant` (the
/// configurable's child) when given.
fn line(item: &Item, variant: Option<&Item>, name: String) -> Result<LineItem, ConnectorError> {
    let keyed = variant.unwrap_or(item);
    let discount = item.discount_amount - item.discount_tax_compensation_amount;
    let total = item.row_total - discount;
    let mut builder = LineItem::builder(name, item.qty_ordered, item.price)
        .platform_line_id(item.item_id.to_string())
        .discount(discount)
        .tax_amount(item.tax_amount)
        .tax_rate(tax_rate(item.tax_percent.as_ref())?)
        .total(total);
    if let Some(sku) = keyed.sku.as_deref().or(item.sku.as_deref()) {
        builder = builder.sku(sku);
    }
    if let Some(product) = keyed.product_id {
        builder = builder.product_id(product.to_string());
    }
    Ok(builder.build())
}

fn carries_money(item: &Item) -> bool {
    !item.price.is_zero() || !item.row_total.is_zero() || !item.tax_amount.is_zero()
}

fn item_name(item: &Item) -> String {
    non_blank(item.name.as_deref())
        .or_else(|| non_blank(item.sku.as_deref()))
        .unwrap_or_else(|| format!("item {}", item.item_id))
}

/// The order's lines: one per top-level item, composites resolved (see the module).
pub fn lines(items: &[Item]) -> Result<Vec<LineItem>, ConnectorError> {
    let mut children: HashMap<u64, Vec<&Item>> = HashMap::new();
    for item in items {
        if let Some(parent) = item.parent_item_id {
            children.entry(parent).or_default().push(item);
        }
    }
    let mut lines = Vec::new();
    for item in items.iter().filter(|item| item.parent_item_id.is_none()) {
        let kids = children
            .get(&item.item_id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match item.product_type.as_deref() {
            Some("configurable") => {
                let variant = kids.first().copied();
                lines.push(line(item, variant, item_name(item))?);
            }
            Some("bundle") if kids.iter().any(|kid| carries_money(kid)) => {
                for kid in kids {
                    let name = format!("{} – {}", item_name(item), item_name(kid));
                    lines.push(line(kid, None, name)?);
                }
            }
            _ => lines.push(line(item, None, item_name(item))?),
        }
    }
    Ok(lines)
}

/// Magento's order as tovor's.
pub fn map_order(order: &MagentoOrder) -> Result<Order, ConnectorError> {
    let id = order.entity_id.to_string();
    let number = non_blank(order.increment_id.as_deref()).unwrap_or_else(|| id.clone());
    let currency = non_blank(order.order_currency_code.as_deref())
        .or_else(|| non_blank(order.base_currency_code.as_deref()))
        .ok_or_else(|| {
            ConnectorError::other(format!("Magento's order {number} has no currency"))
        })?;
    let raw_status = order
        .status
        .clone()
        .or_else(|| order.state.clone())
        .unwrap_or_default();
    let modified = parse_time(&order.updated_at)?;
    let created = match order.created_at.as_deref() {
        Some(text) => parse_time(text)?,
        None => modified,
    };
    let lines = lines(&order.items)?;

    let shipping = order
        .extension_attributes
        .as_ref()
        .and_then(|extension| extension.shipping_assignments.first())
        .and_then(|assignment| assignment.shipping.as_ref());
    let shipping_address = shipping.and_then(|shipping| shipping.address.as_ref());
    let shipping_method = shipping.and_then(|shipping| non_blank(shipping.method.as_deref()));
    let shipping_net = order.shipping_amount
        - (order.shipping_discount_amount - order.shipping_discount_tax_compensation_amount);
    let has_shipping = shipping_method.is_some()
        || !order.shipping_amount.is_zero()
        || !order.shipping_tax_amount.is_zero();

    let mut builder = Order::builder(id, number, currency)
        .status(
            status(order.status.as_deref(), order.state.as_deref()),
            raw_status,
        )
        .payment_status(payment_status(order))
        .prices_include_tax(false)
        .created_at(created)
        .modified_at(modified)
        .customer(customer(order))
        .billing(order.billing_address.as_ref().map(address))
        .shipping_address(shipping_address.map(address))
        .lines(lines)
        .tax_total(order.tax_amount)
        .total(order.grand_total);
    if let Some(code) = order
        .payment
        .as_ref()
        .and_then(|payment| non_blank(payment.method.as_deref()))
    {
        let title = payment_title(order, &code);
        builder = builder.payment_method(code, title);
    }
    if has_shipping {
        let title = non_blank(order.shipping_description.as_deref())
            .or_else(|| shipping_method.clone())
            .unwrap_or_else(|| "Shipping".to_owned());
        let mut charge =
            ChargeLine::builder(title, shipping_net).tax_amount(order.shipping_tax_amount);
        if let Some(method) = shipping_method {
            charge = charge.code(method);
        }
        builder = builder.shipping_line(charge.build());
    }
    if let Some(coupon) = non_blank(order.coupon_code.as_deref()) {
        builder = builder.coupon(coupon);
    }
    if let Some(note) = non_blank(order.customer_note.as_deref()) {
        builder = builder.customer_note(note);
    }
    builder.build()
}
