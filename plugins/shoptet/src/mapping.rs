//! Shoptet's order JSON and its mapping to tovor's order, as pure functions.
//!
//! **Amounts.** Every item row carries its line total with and without VAT, the VAT and
//! the rate (`itemPrice`), and the unit price the same way (`unitPrice`); amounts are
//! decimal strings (`"544.50"`), quantities strings with three decimals (`"2.000"`).
//! Czech and Slovak shops price gross (VAT included), so unit prices are mapped with
//! VAT and `prices-include-tax` is true; a line's `total` is `itemPrice.withoutVat` and
//! its tax `itemPrice.vat`, exactly Shoptet's figures, so the order adds up to
//! `price.withVat` to the cent.
//!
//! **Item rows.** Shipping (`shipping`) and the payment method's fee (`billing`) are
//! item rows too: they become shipping lines and fees. Discounts (`discount-coupon`,
//! `volume-discount`, and any row with a negative price, such as an applied gift
//! certificate) are negative rows with their own VAT rate, the way Czech invoices show
//! them: they become fees with negative amounts, and a coupon's code goes to `coupons`.
//! `product-set-item` rows are the parts of a set whose price is on the set's own row;
//! they are left out so the set is not counted twice.
//!
//! **Statuses.** System statuses are negative: -1 new (Nevyřízena), -2 being processed
//! (Vyřizuje se), -3 done (Vyřízena), -4 cancelled (Stornována). The e-shop's own
//! statuses are positive and mean what the merchant says (`status_map`); unlisted ones
//! count as processing. The `paid` flag gives the payment status.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
pub use tovor_sdk::address::non_blank;
use tovor_sdk::money::{self};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
    PickupPoint,
};

/// `{id, name}` of a status.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
}

/// `{guid, name}` of a payment or shipping method.
#[derive(Debug, Clone, Deserialize)]
pub struct Method {
    #[serde(default)]
    pub guid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default, with = "money::lenient_option")]
    pub with_vat: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub without_vat: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub vat: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub to_pay: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPrice {
    #[serde(with = "money::lenient")]
    pub with_vat: Decimal,
    #[serde(with = "money::lenient")]
    pub without_vat: Decimal,
    #[serde(default, with = "money::lenient_option")]
    pub vat: Option<Decimal>,
    #[serde(default, with = "money::lenient_option")]
    pub vat_rate: Option<Decimal>,
}

impl ItemPrice {
    fn vat(&self) -> Decimal {
        self.vat.unwrap_or(self.with_vat - self.without_vat)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    #[serde(default)]
    pub item_id: Option<i64>,
    #[serde(default)]
    pub item_type: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub product_guid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub variant_name: Option<String>,
    #[serde(default, with = "money::lenient_option")]
    pub amount: Option<Decimal>,
    pub item_price: ItemPrice,
    #[serde(default)]
    pub unit_price: Option<ItemPrice>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShoptetAddress {
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub house_number: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub additional: Option<String>,
    #[serde(default)]
    pub zip: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub region_name: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub vat_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingDetails {
    #[serde(default)]
    pub branch_id: Option<String>,
    #[serde(default)]
    pub shipping_company_code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub zip_code: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notes {
    #[serde(default)]
    pub customer_remark: Option<String>,
    #[serde(default)]
    pub tracking_number: Option<String>,
}

/// An order as `GET /api/orders/{code}` gives it (`data.order`), the fields we use.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShoptetOrder {
    pub code: String,
    #[serde(default)]
    pub guid: Option<String>,
    pub creation_time: String,
    #[serde(default)]
    pub change_time: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub customer_guid: Option<String>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub paid: Option<bool>,
    pub price: Price,
    #[serde(default)]
    pub billing_address: Option<ShoptetAddress>,
    #[serde(default)]
    pub delivery_address: Option<ShoptetAddress>,
    #[serde(default)]
    pub addresses_equal: Option<bool>,
    #[serde(default)]
    pub payment_method: Option<Method>,
    #[serde(default)]
    pub shipping: Option<Method>,
    #[serde(default)]
    pub shipping_details: Option<ShippingDetails>,
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub notes: Option<Notes>,
}

/// How the e-shop's own status ids map to tovor's (the `status_map` setting).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusMap(BTreeMap<i64, OrderStatus>);

impl StatusMap {
    /// Parses `"7=refunded, 8=completed"`; `invalid-input` naming `status_map` for
    /// anything else.
    pub fn parse(text: Option<&str>) -> Result<Self, ConnectorError> {
        let mut map = BTreeMap::new();
        let Some(text) = text else {
            return Ok(Self(map));
        };
        for entry in text.split([',', ';', '\n']).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let invalid = || {
                ConnectorError::invalid_field(
                    "status_map",
                    format!(
                        "{entry:?} is not <status id>=<status> (pending, processing, on-hold, \
                         completed, cancelled, refunded, failed)"
                    ),
                )
            };
            let (id, status) = entry.split_once('=').ok_or_else(invalid)?;
            let id: i64 = id.trim().parse().map_err(|_| invalid())?;
            let status = match status
                .trim()
                .to_ascii_lowercase()
                .replace('_', "-")
                .as_str()
            {
                "pending" => OrderStatus::Pending,
                "processing" => OrderStatus::Processing,
                "on-hold" => OrderStatus::OnHold,
                "completed" => OrderStatus::Completed,
                "cancelled" | "canceled" => OrderStatus::Cancelled,
                "refunded" => OrderStatus::Refunded,
                "failed" => OrderStatus::Failed,
                "other" => OrderStatus::Other,
                _ => return Err(invalid()),
            };
            map.insert(id, status);
        }
        Ok(Self(map))
    }

    /// The normalized status of a Shoptet status id.
    pub fn status(&self, id: i64) -> OrderStatus {
        if let Some(status) = self.0.get(&id) {
            return *status;
        }
        match id {
            -1 => OrderStatus::Pending,
            -2 => OrderStatus::Processing,
            -3 => OrderStatus::Completed,
            -4 => OrderStatus::Cancelled,
            id if id < 0 => OrderStatus::Other,
            _ => OrderStatus::Processing,
        }
    }
}

/// What an item row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Product,
    Shipping,
    Payment,
    Discount,
    /// A part of a product set, priced on the set's row.
    SetPart,
}

pub fn row_kind(item: &Item) -> RowKind {
    let kind = item.item_type.as_deref().unwrap_or("product").trim();
    match kind {
        "shipping" => RowKind::Shipping,
        "billing" => RowKind::Payment,
        "discount-coupon" | "volume-discount" => RowKind::Discount,
        "product-set-item" => RowKind::SetPart,
        _ if item.item_price.with_vat < Decimal::ZERO => RowKind::Discount,
        _ => RowKind::Product,
    }
}

/// Parses `data.order` of an order detail answer.
pub fn parse_detail(body: &[u8]) -> Result<ShoptetOrder, ConnectorError> {
    #[derive(Deserialize)]
    struct Data {
        order: ShoptetOrder,
    }
    let envelope: crate::api::Envelope<Data> = serde_json::from_slice(body).map_err(|error| {
        ConnectorError::other(format!(
            "Shoptet's order is not the expected JSON: {error}; body: {}",
            crate::api::snippet(body)
        ))
    })?;
    envelope
        .data
        .map(|data| data.order)
        .ok_or_else(|| ConnectorError::other("Shoptet's answer has no order in `data`"))
}

/// Maps one order.
pub fn map_order(order: ShoptetOrder, statuses: &StatusMap) -> Result<Order, ConnectorError> {
    let code = order.code.trim().to_owned();
    let context = |error: ConnectorError| error.context(format!("order {code}"));
    let currency = order
        .price
        .currency_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| context(ConnectorError::other("the order has no currency code")))?
        .to_ascii_uppercase();
    let created = time::parse_rfc3339(&order.creation_time).map_err(context)?;
    let modified = match order
        .change_time
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        Some(text) => time::parse_rfc3339(text).map_err(context)?,
        None => created,
    };
    let (status, raw) = match &order.status {
        Some(status) => (
            statuses.status(status.id),
            match status
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                Some(name) => format!("{}: {name}", status.id),
                None => status.id.to_string(),
            },
        ),
        None => (OrderStatus::Other, String::from("unknown")),
    };
    let payment = match order.paid {
        Some(true) => PaymentStatus::Paid,
        Some(false) => PaymentStatus::Unpaid,
        None => PaymentStatus::Unknown,
    };

    let mut builder = Order::builder(code.clone(), code.clone(), currency)
        .status(status, raw)
        .payment_status(payment)
        .prices_include_tax(true)
        .created_at(created)
        .modified_at(modified);
    if let Some(method) = &order.payment_method {
        let title = method.name.clone().unwrap_or_default();
        let code = method.guid.clone().unwrap_or_else(|| title.clone());
        if !code.trim().is_empty() {
            builder = builder.payment_method(code, title);
        }
    }

    let billing = order
        .billing_address
        .as_ref()
        .map(|address| address_of(address, order.phone.as_deref(), order.email.as_deref()));
    let shipping = match (&order.delivery_address, order.addresses_equal) {
        (Some(address), _) if has_content(address) => Some(address_of(
            address,
            order.phone.as_deref(),
            order.email.as_deref(),
        )),
        (_, Some(true)) => billing.clone(),
        _ => None,
    };
    builder = builder
        .customer(customer_of(&order))
        .billing(billing)
        .shipping_address(shipping);

    let mut discount_total = Decimal::ZERO;
    let mut shipping_total = Decimal::ZERO;
    for (index, item) in order.items.iter().enumerate() {
        match row_kind(item) {
            RowKind::Product => {
                builder = builder.line(product_line(item, index).map_err(context)?);
            }
            RowKind::SetPart => {}
            RowKind::Shipping => {
                let line = charge_line(item, "Shipping");
                shipping_total += item.item_price.without_vat;
                builder = builder.shipping_line(line);
            }
            RowKind::Payment => builder = builder.fee(charge_line(item, "Payment")),
            RowKind::Discount => {
                discount_total -= item.item_price.with_vat;
                if item.item_type.as_deref() == Some("discount-coupon")
                    && let Some(code) = non_blank(item.code.as_deref())
                {
                    builder = builder.coupon(code);
                }
                builder = builder.fee(charge_line(item, "Discount"));
            }
        }
    }
    builder = builder
        .discount_total(discount_total)
        .shipping_total(shipping_total);
    if let Some(vat) = order.price.vat {
        builder = builder.tax_total(vat);
    }
    if let Some(total) = order.price.with_vat {
        builder = builder.total(total);
    }
    if let Some(notes) = &order.notes {
        builder = builder.customer_note(notes.customer_remark.clone());
    }
    builder = builder.pickup_point(pickup_point_of(order.shipping_details.as_ref()));
    builder.build()
}

fn product_line(item: &Item, index: usize) -> Result<LineItem, ConnectorError> {
    let quantity = item.amount.unwrap_or(Decimal::ONE).normalize();
    let gross = item.item_price.with_vat;
    let unit = match &item.unit_price {
        Some(unit) => unit.with_vat,
        None if !quantity.is_zero() => (gross / quantity).round_dp(4),
        None => gross,
    };
    // A line discount (Shoptet's `priceRatio`) lowers the row below quantity × unit.
    let discount = (quantity * unit - gross).max(Decimal::ZERO);
    let name = match (
        non_blank(item.name.as_deref()),
        non_blank(item.variant_name.as_deref()),
    ) {
        (Some(name), Some(variant)) => format!("{name} {variant}"),
        (Some(name), None) => name,
        (None, Some(variant)) => variant,
        (None, None) => {
            non_blank(item.code.as_deref()).unwrap_or_else(|| format!("Item {}", index + 1))
        }
    };
    let code = non_blank(item.code.as_deref());
    // The product or variant code is what stock is set by; the host keeps the variation
    // id as the stock key of items it learns from order lines.
    let product_id = non_blank(item.product_guid.as_deref()).or_else(|| code.clone());
    Ok(LineItem::builder(name, quantity, unit)
        .platform_line_id(item.item_id.map(|id| id.to_string()))
        .sku(code.clone())
        .product_id(product_id)
        .variation_id(code)
        .discount(discount)
        .tax_rate(item.item_price.vat_rate.map(|rate| rate.normalize()))
        .tax_amount(item.item_price.vat())
        .total(item.item_price.without_vat)
        .build())
}

fn charge_line(item: &Item, fallback: &str) -> ChargeLine {
    let title = non_blank(item.name.as_deref()).unwrap_or_else(|| fallback.to_owned());
    ChargeLine::builder(title, item.item_price.without_vat)
        .platform_line_id(item.item_id.map(|id| id.to_string()))
        .code(item.code.clone())
        .tax_rate(item.item_price.vat_rate.map(|rate| rate.normalize()))
        .tax_amount(item.item_price.vat())
        .build()
}

fn has_content(address: &ShoptetAddress) -> bool {
    [
        &address.full_name,
        &address.company,
        &address.street,
        &address.city,
        &address.zip,
    ]
    .iter()
    .any(|field| non_blank(field.as_deref()).is_some())
}

fn address_of(address: &ShoptetAddress, phone: Option<&str>, email: Option<&str>) -> Address {
    Address::builder()
        .name(address.full_name.clone())
        .company(address.company.clone())
        .street(address.street.clone(), address.house_number.clone())
        .line2(address.additional.clone())
        .city(address.city.clone())
        .postal_code(address.zip.clone())
        .region(address.region_name.clone())
        .country(address.country_code.clone())
        .phone(phone)
        .email(email)
        .build()
}

fn customer_of(order: &ShoptetOrder) -> Option<Customer> {
    let billing = order.billing_address.clone().unwrap_or_default();
    let (first, last) = split_name(billing.full_name.as_deref());
    let customer = Customer {
        platform_id: non_blank(order.customer_guid.as_deref()),
        email: non_blank(order.email.as_deref()),
        first_name: first,
        last_name: last,
        company: non_blank(billing.company.as_deref()),
        vat_id: non_blank(billing.vat_id.as_deref()),
        phone: non_blank(order.phone.as_deref()),
    };
    let empty = customer.email.is_none()
        && customer.first_name.is_none()
        && customer.last_name.is_none()
        && customer.company.is_none();
    (!empty).then_some(customer)
}

/// `"Jan Novák"` → (`Jan`, `Novák`); one word is the last name.
pub fn split_name(full: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(full) = non_blank(full) else {
        return (None, None);
    };
    match full.rsplit_once(' ') {
        Some((first, last)) => (non_blank(Some(first)), non_blank(Some(last))),
        None => (None, Some(full)),
    }
}

fn pickup_point_of(details: Option<&ShippingDetails>) -> Option<PickupPoint> {
    let details = details?;
    let id = non_blank(details.branch_id.as_deref())?;
    let address = Address::builder()
        .name(details.name.clone())
        .street(details.street.clone(), None::<String>)
        .city(details.city.clone())
        .postal_code(details.zip_code.clone())
        .country(details.country_code.clone())
        .build();
    Some(PickupPoint {
        carrier: non_blank(details.shipping_company_code.as_deref()),
        id,
        name: non_blank(details.name.as_deref()),
        address: Some(address),
    })
}

/// A time as Shoptet's filters take it: ISO 8601 with an offset without a colon
/// (`2017-12-12T22:08:01+0000`), in UTC.
pub fn shoptet_time(at: OffsetDateTime) -> String {
    // `to_offset` needs the `time` crate's UtcOffset; the Unix timestamp avoids it.
    let at = OffsetDateTime::from_unix_timestamp(at.unix_timestamp()).unwrap_or(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+0000",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The orders a paged list answer names, and its page count.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paginator {
    #[serde(default)]
    pub total_count: Option<u64>,
    pub page: u32,
    pub page_count: u32,
    #[serde(default)]
    pub items_on_page: Option<u32>,
    #[serde(default)]
    pub items_per_page: Option<u32>,
}

/// One row of `GET /api/orders`.
#[derive(Debug, Clone, Deserialize)]
pub struct ListRow {
    pub code: String,
}

/// `data` of `GET /api/orders`.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderList {
    #[serde(default)]
    pub orders: Vec<ListRow>,
    pub paginator: Paginator,
}

/// The next page after `paginator`, if any.
pub fn next_page(paginator: &Paginator) -> Option<u32> {
    (paginator.page < paginator.page_count).then(|| paginator.page + 1)
}

/// The list cursor: the page to ask for next.
pub fn parse_cursor(cursor: Option<&str>) -> u32 {
    cursor
        .and_then(|text| text.trim().strip_prefix("page:"))
        .and_then(|page| page.parse().ok())
        .filter(|page| *page >= 1)
        .unwrap_or(1)
}

pub fn cursor_of(page: u32) -> String {
    format!("page:{page}")
}

/// Whether `text` looks like a Shoptet GUID (`c5012051-d7ca-11e0-9a5c-feab5ed617ed`),
/// which names a product, never a stock row.
pub fn is_guid(text: &str) -> bool {
    let text = text.trim();
    text.len() == 36
        && text.chars().enumerate().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}
