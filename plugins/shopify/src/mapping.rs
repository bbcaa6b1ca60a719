//! Shopify's REST JSON and how it maps to tovor's normalized types.
//!
//! Everything here is pure (no HTTP, no host), so it is unit-tested natively.
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
//! # Edited and refunded orders
//!
//! A line's `quantity` is what was ordered; `current_quantity` (REST 2024-01 and later)
//! is what is left after order edits removed units and refunds took them back. The
//! contract's line quantity is what is still to be delivered, so it is
//! `current_quantity`, with the ordered quantity beside it when they differ. Shopify
//! keeps a line's `tax_lines` and `discount_allocations` for the quantity as ordered, so
//! they are scaled to the current quantity and rounded to the cent.
//!
//! A line with nothing left stays in the order with quantity 0 and zero amounts: an
//! invoice issued before the edit can still be corrected line by line, and every refund
//! line still finds the order line it names. Dropping it would make the edit look like
//! the line had never been ordered.
//!
//! The order's totals follow Shopify's `current_total_price`, `current_total_tax` and
//! `current_total_discounts` (after edits) where they agree with the mapped lines within
//! a cent per part. Shopify's current figures also take off refunded shipping and money
//! refunded without lines; the contract's total is *before* refunds (those are in
//! `refunds`), so when they disagree on a refunded order the sum of the parts is used.

use serde::Deserialize;
pub use tovor_sdk::address::{non_blank, split_street};
use tovor_sdk::money::{self, Decimal};
use tovor_sdk::shop::{Product, ProductVariant};
use tovor_sdk::time::OffsetDateTime;
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
    Refund,
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
    shop_amount_if_any(plain, set).unwrap_or_default()
}

/// The shop-currency amount, or `None` when Shopify sent neither form.
fn shop_amount_if_any(plain: Option<Decimal>, set: Option<&MoneySet>) -> Option<Decimal> {
    set.and_then(|set| set.shop_money.as_ref())
        .and_then(|bag| bag.amount)
        .or(plain)
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
    pub closed_at: Option<String>,
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
    pub current_total_price: Option<Decimal>,
    pub current_total_price_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub current_total_tax: Option<Decimal>,
    pub current_total_tax_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub current_total_discounts: Option<Decimal>,
    pub current_total_discounts_set: Option<MoneySet>,
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
    /// The quantity after order edits and refunds took units away (2024-01 and later).
    pub current_quantity: Option<u64>,
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

/// A refund, as `GET orders/{id}/refunds.json` lists it and orders embed it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShopifyRefund {
    pub id: Option<u64>,
    pub created_at: Option<String>,
    pub note: Option<String>,
    /// Deprecated in favour of each line's `restock_type`; read when no line says.
    pub restock: Option<bool>,
    pub refund_line_items: Vec<RefundLineItem>,
    pub refund_shipping_lines: Vec<RefundShippingLine>,
    pub order_adjustments: Vec<OrderAdjustment>,
    pub transactions: Vec<Transaction>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundLineItem {
    pub line_item_id: Option<u64>,
    pub quantity: u64,
    /// `no_restock`, `cancel`, `return` or `legacy_restock`.
    pub restock_type: Option<String>,
    pub line_item: Option<RefundedLine>,
    #[serde(with = "money::lenient_option")]
    pub subtotal: Option<Decimal>,
    pub subtotal_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub total_tax: Option<Decimal>,
    pub total_tax_set: Option<MoneySet>,
}

/// The order line a refund line embeds; only its SKU is used.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundedLine {
    pub sku: Option<String>,
}

/// Shipping refunded, in the newer `refund_shipping_lines` form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RefundShippingLine {
    pub subtotal_amount_set: Option<MoneySet>,
    pub tax_amount_set: Option<MoneySet>,
}

/// `shipping_refund` (shipping given back) or `refund_discrepancy`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrderAdjustment {
    pub kind: Option<String>,
    #[serde(with = "money::lenient_option")]
    pub amount: Option<Decimal>,
    pub amount_set: Option<MoneySet>,
    #[serde(with = "money::lenient_option")]
    pub tax_amount: Option<Decimal>,
    pub tax_amount_set: Option<MoneySet>,
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
        ConnectorError::other(format!("a Shopify order that does not parse: {error}"))
    })?;
    map_order(order)
}

/// One mapped line with its amounts as decimals, for the order's sums.
struct Mapped<T> {
    record: T,
    amount: Decimal,
    tax: Decimal,
    discount: Decimal,
}

/// A Shopify order as a tovor order.
pub fn map_order(order: ShopifyOrder) -> Result<Order, ConnectorError> {
    if order.id == 0 {
        return Err(ConnectorError::other("a Shopify order without an id"));
    }
    let included = order.taxes_included;
    let currency = order
        .currency
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            ConnectorError::other(format!("Shopify order {} has no currency", order.id))
        })?;
    let lines: Vec<Mapped<LineItem>> = order
        .line_items
        .iter()
        // A line ordered with no units carries nothing, not even for an edit.
        .filter(|line| line.quantity > 0)
        .map(|line| map_line(line, included))
        .collect();
    let shipping_lines: Vec<Mapped<ChargeLine>> = order
        .shipping_lines
        .iter()
        .map(|line| map_shipping(line, included))
        .collect();
    let mut fees = Vec::new();
    // UNCONFIRMED: that `total_price` includes tips (total_tip_received); when one is
    // there it is kept as an untaxed fee so the totals still add up.
    let tip = order
        .total_tip_received
        .filter(|tip| !tip.is_zero())
        .unwrap_or_default();
    if !tip.is_zero() {
        fees.push(ChargeLine::builder("Tip", tip).code("tip").build());
    }

    let parts = lines.len() + shipping_lines.len() + fees.len();
    let refunded = !order.refunds.is_empty();
    let computed_tax: Decimal = lines
        .iter()
        .map(|line| line.tax)
        .chain(shipping_lines.iter().map(|line| line.tax))
        .sum();
    let tax_total = settle(
        shop_amount_if_any(
            order.current_total_tax,
            order.current_total_tax_set.as_ref(),
        )
        .or_else(|| shop_amount_if_any(order.total_tax, order.total_tax_set.as_ref())),
        computed_tax,
        parts,
        refunded,
    );
    let computed_total = lines.iter().map(|line| line.amount).sum::<Decimal>()
        + shipping_lines
            .iter()
            .map(|line| line.amount)
            .sum::<Decimal>()
        + tip
        + tax_total;
    let total = settle(
        shop_amount_if_any(
            order.current_total_price,
            order.current_total_price_set.as_ref(),
        )
        .or_else(|| shop_amount_if_any(order.total_price, order.total_price_set.as_ref())),
        computed_total,
        parts,
        refunded,
    );
    let computed_discount: Decimal = lines.iter().map(|line| line.discount).sum();
    // Discounts are checked by the host only against the lines: Shopify's figure is used
    // when it agrees, whatever was refunded.
    let discount_total = settle(
        shop_amount_if_any(
            order.current_total_discounts,
            order.current_total_discounts_set.as_ref(),
        ),
        computed_discount,
        lines.len(),
        true,
    );

    let financial = order.financial_status.as_deref().unwrap_or("").to_owned();
    let fulfillment = order.fulfillment_status.as_deref().unwrap_or("").to_owned();
    let is_set = |at: &Option<String>| at.as_deref().is_some_and(|at| !at.trim().is_empty());
    let cancelled = is_set(&order.cancelled_at);
    let closed = is_set(&order.closed_at);
    let created_raw = order
        .created_at
        .as_deref()
        .or(order.processed_at.as_deref())
        .ok_or_else(|| {
            ConnectorError::other(format!("Shopify order {} has no created_at", order.id))
        })?;
    let created_at = parse_time(created_raw)?;
    let modified_at = match order.updated_at.as_deref() {
        Some(at) => parse_time(at)?,
        None => created_at,
    };
    // Shopify has no payment time of its own; a paid order was paid when processed.
    let paid_at = match (financial.as_str(), order.processed_at.as_deref()) {
        ("paid" | "partially_refunded" | "refunded", Some(at)) => Some(parse_time(at)?),
        _ => None,
    };

    let email =
        non_blank(order.email.as_deref()).or_else(|| non_blank(order.contact_email.as_deref()));
    let refunds = order
        .refunds
        .iter()
        .map(|refund| map_refund(refund, &currency, included))
        .collect::<Result<Vec<_>, _>>()?;
    let number = non_blank(order.name.as_deref())
        .or_else(|| order.order_number.map(|n| n.to_string()))
        .unwrap_or_else(|| order.id.to_string());

    let mut builder = Order::builder(order.id.to_string(), number, currency)
        .status(
            map_status(cancelled, closed, &financial, &fulfillment),
            status_raw(cancelled, &financial, &fulfillment),
        )
        .payment_status(map_payment_status(&financial))
        .prices_include_tax(included)
        .created_at(created_at)
        .modified_at(modified_at)
        .paid_at(paid_at)
        .customer(map_customer(&order, email.clone()))
        .billing(
            order
                .billing_address
                .as_ref()
                .map(|address| map_address(address, email.clone())),
        )
        .shipping_address(
            order
                .shipping_address
                .as_ref()
                .map(|address| map_address(address, None)),
        )
        .lines(lines.into_iter().map(|line| line.record))
        .discount_total(discount_total)
        .tax_total(tax_total)
        .total(total)
        .customer_note(order.note.as_deref());
    if let Some(gateway) = order
        .payment_gateway_names
        .iter()
        .find(|name| !name.trim().is_empty())
    {
        builder = builder.payment_method(gateway.clone(), gateway.clone());
    }
    for line in shipping_lines {
        builder = builder.shipping_line(line.record);
    }
    for fee in fees {
        builder = builder.fee(fee);
    }
    for code in order
        .discount_codes
        .iter()
        .filter_map(|code| non_blank(code.code.as_deref()))
    {
        builder = builder.coupon(code);
    }
    for refund in refunds {
        builder = builder.refund(refund);
    }
    builder.build()
}

/// Shopify's figure when it agrees with the sum of the mapped parts (within a cent per
/// part, as the host checks), or when nothing was refunded: then a difference is
/// something this mapping does not model, and the host's check reports it. On a
/// refunded order the parts' sum wins, because Shopify's `current_*` figures also take
/// off what the contract carries in `refunds`.
fn settle(platform: Option<Decimal>, computed: Decimal, parts: usize, refunded: bool) -> Decimal {
    let tolerance = Decimal::new(1, 2) * Decimal::from(parts.max(1) as u64);
    match platform {
        Some(figure) if (figure - computed).abs() <= tolerance || !refunded => figure,
        _ => computed,
    }
}

fn parse_time(text: &str) -> Result<OffsetDateTime, ConnectorError> {
    tovor_sdk::time::parse_rfc3339(text)
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

/// Rounds to the cent, halves away from zero as Shopify does.
fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// The tax rate in percent (Shopify's fractions summed, × 100) when it matches the tax
/// on `base` within a cent, as the host checks. Shopify rounds several tax lines (state
/// and county) on their own, so a sum can stray; then no rate is given and the host
/// derives one from the amounts.
fn rate_percent(tax_lines: &[TaxLine], tax: Decimal, base: Decimal) -> Option<Decimal> {
    if tax_lines.is_empty() || tax_lines.iter().any(|tax| tax.rate.is_none()) {
        return None;
    }
    let rate: Decimal =
        tax_lines.iter().filter_map(|tax| tax.rate).sum::<Decimal>() * Decimal::ONE_HUNDRED;
    let expected = base * rate / Decimal::ONE_HUNDRED;
    ((tax - expected).abs() <= Decimal::new(1, 2)).then(|| rate.normalize())
}

/// A line at its current quantity; see the module documentation.
fn map_line(line: &ShopifyLine, included: bool) -> Mapped<LineItem> {
    let ordered = Decimal::from(line.quantity);
    let current = Decimal::from(line.current_quantity.unwrap_or(line.quantity));
    let unit_price = shop_amount(line.price, line.price_set.as_ref());
    let (discount, tax) = if current == ordered {
        (discount_of(line), tax_of(&line.tax_lines))
    } else {
        let share = |amount: Decimal| cents(amount * current / ordered);
        (share(discount_of(line)), share(tax_of(&line.tax_lines)))
    };
    let after_discount = current * unit_price - discount;
    let total = if included {
        after_discount - tax
    } else {
        after_discount
    };
    let record = LineItem::builder(line_name(line), current, unit_price)
        .platform_line_id(line.id.map(|id| id.to_string()))
        .sku(line.sku.as_deref())
        .product_id(line.product_id.map(|id| id.to_string()))
        .variation_id(line.variant_id.map(|id| id.to_string()))
        .ordered_quantity((current != ordered).then_some(ordered))
        .discount(discount)
        .tax_rate(rate_percent(&line.tax_lines, tax, total))
        .tax_amount(tax)
        .total(total)
        .build();
    Mapped {
        record,
        amount: total,
        tax,
        discount,
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

fn map_shipping(line: &ShopifyShippingLine, included: bool) -> Mapped<ChargeLine> {
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
    let record = ChargeLine::builder(title, amount)
        .platform_line_id(line.id.map(|id| id.to_string()))
        .code(line.code.as_deref())
        .tax_rate(rate_percent(&line.tax_lines, tax, amount))
        .tax_amount(tax)
        .build();
    Mapped {
        record,
        amount,
        tax,
        discount: Decimal::ZERO,
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

/// A Shopify refund as a tovor refund, in the shop currency `currency`; `included` is
/// the order's `taxes_included`.
///
/// - lines: `refund_line_items` with the refunded quantity and `subtotal` plus
///   `total_tax` unless the subtotal already includes it (UNCONFIRMED: that a refund
///   line's `subtotal` is on the prices' basis, gross when taxes are included, like the
///   line's `price`);
/// - shipping: `refund_shipping_lines` (subtotal and tax), and `order_adjustments` of
///   kind `shipping_refund` (amount and tax, their signs ignored: UNCONFIRMED whether
///   Shopify writes them negative);
/// - the amount: the successful `refund` transactions when they are in the shop
///   currency (they are in the currency the customer paid in), else lines plus shipping;
/// - restock: a line whose `restock_type` is not `no_restock`, else the deprecated
///   `restock` flag when no line says.
pub fn map_refund(
    refund: &ShopifyRefund,
    currency: &str,
    included: bool,
) -> Result<Refund, ConnectorError> {
    let line_amount = |line: &RefundLineItem| {
        let subtotal = shop_amount(line.subtotal, line.subtotal_set.as_ref());
        let tax = shop_amount(line.total_tax, line.total_tax_set.as_ref());
        if included { subtotal } else { subtotal + tax }
    };
    let shipping_lines: Decimal = refund
        .refund_shipping_lines
        .iter()
        .map(|line| {
            shop_amount(None, line.subtotal_amount_set.as_ref())
                + shop_amount(None, line.tax_amount_set.as_ref())
        })
        .sum();
    let shipping_adjustments: Decimal = refund
        .order_adjustments
        .iter()
        .filter(|adjustment| adjustment.kind.as_deref() == Some("shipping_refund"))
        .map(|adjustment| {
            shop_amount(adjustment.amount, adjustment.amount_set.as_ref()).abs()
                + shop_amount(adjustment.tax_amount, adjustment.tax_amount_set.as_ref()).abs()
        })
        .sum();
    let shipping = shipping_lines + shipping_adjustments;

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
            .map(line_amount)
            .sum::<Decimal>()
            + shipping
    };
    let restock_types: Vec<&str> = refund
        .refund_line_items
        .iter()
        .filter_map(|line| line.restock_type.as_deref())
        .collect();
    let restock = if restock_types.is_empty() {
        refund.restock.unwrap_or(false) && !refund.refund_line_items.is_empty()
    } else {
        restock_types.iter().any(|kind| *kind != "no_restock")
    };
    let mut builder = Refund::builder(amount)
        .platform_id(refund.id.map(|id| id.to_string()))
        .reason(refund.note.as_deref())
        .created_at(refund.created_at.as_deref().map(parse_time).transpose()?)
        .shipping(shipping)
        .restock(restock);
    for line in &refund.refund_line_items {
        builder = builder.line(
            line.line_item_id.map(|id| id.to_string()),
            line.line_item.as_ref().and_then(|item| item.sku.as_deref()),
            Decimal::from(line.quantity),
            line_amount(line),
        );
    }
    Ok(builder.build())
}

/// The order's state from Shopify's: cancelled, closed (archived), financial and
/// fulfillment status.
pub fn map_status(
    cancelled: bool,
    closed: bool,
    financial: &str,
    fulfillment: &str,
) -> OrderStatus {
    if cancelled {
        OrderStatus::Cancelled
    } else if financial == "refunded" {
        OrderStatus::Refunded
    } else if fulfillment == "fulfilled" || closed {
        // A closed order is one the merchant (or tovor's `completed`) archived as done.
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
    pub title: Option<String>,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    #[serde(with = "money::lenient_option")]
    pub price: Option<Decimal>,
    pub inventory_item_id: Option<u64>,
    pub inventory_quantity: Option<i64>,
    /// `"shopify"` when Shopify tracks the stock, `null` when it does not.
    pub inventory_management: Option<String>,
}

/// Shopify's products with their variants; each variant's stock key is its inventory
/// item (see [`crate::stock::StockKey`]), so pushing stock needs no lookup.
pub fn map_products(list: ProductList) -> Vec<Product> {
    list.products
        .into_iter()
        .map(|product| Product {
            id: product.id.to_string(),
            name: product.title.trim().to_owned(),
            variants: product.variants.into_iter().map(map_variant).collect(),
        })
        .collect()
}

fn map_variant(variant: ShopifyVariant) -> ProductVariant {
    let manages_stock = variant.inventory_management.as_deref() == Some("shopify");
    let stock_key = match variant.inventory_item_id {
        Some(item) => crate::stock::StockKey::InventoryItem(item),
        None => crate::stock::StockKey::Variant(variant.id),
    };
    ProductVariant {
        stock_key: stock_key.to_string(),
        variant_id: Some(variant.id.to_string()),
        sku: non_blank(variant.sku.as_deref()),
        barcode: non_blank(variant.barcode.as_deref()),
        name: non_blank(variant.title.as_deref()).filter(|title| title != "Default Title"),
        price: variant.price.map(money::format_decimal),
        stock: if manages_stock {
            variant
                .inventory_quantity
                .map(|quantity| quantity.to_string())
        } else {
            None
        },
        manages_stock,
    }
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

/// The access scope a 403 names: Shopify answers `"[API] This action requires merchant
/// approval for write_orders scope."`.
pub fn scope_in_message(message: &str) -> Option<String> {
    message
        .split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
        .find(|word| {
            ["read_", "write_", "unauthenticated_"]
                .iter()
                .any(|prefix| word.starts_with(prefix) && word.len() > prefix.len())
        })
        .map(str::to_owned)
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
