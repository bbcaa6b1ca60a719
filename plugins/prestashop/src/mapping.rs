//! PrestaShop's order, as the Webservice gives it (`orders`, `order_details`,
//! `customers`, `addresses`, `order_cart_rules`), to tovor's: pure functions.
//!
//! Money: PrestaShop keeps every amount tax included and tax excluded, with six
//! decimals, already rounded the shop's way (`round_type`: per item, per line or on the
//! total; `round_mode`: half up by default). The order is mapped with prices that
//! include tax (what the customer saw), each line's own tax rate (22 % and 9.5 % side by
//! side), and vouchers (`total_discounts_*`, one `order_cart_rules` row per voucher)
//! spread over the product lines in proportion to their amounts, the way PrestaShop
//! spreads them for its tax breakdown. A free-shipping voucher is taken off the
//! shipping line instead. The last cent of rounding goes to the largest line, so the
//! order adds up exactly to `total_paid_tax_incl` and `total_paid_tax_excl`.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use tovor_sdk::money;
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
};

use crate::api::{de_flag, de_id, de_text};
use crate::reference::{OrderState, Reference};
use crate::shoptime::Zone;

fn zero() -> Decimal {
    Decimal::ZERO
}

/// An order row of `GET /api/orders?display=full`.
#[derive(Debug, Clone, Deserialize)]
pub struct PsOrder {
    #[serde(deserialize_with = "de_id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de_text")]
    pub reference: String,
    #[serde(default, deserialize_with = "de_id")]
    pub id_customer: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub id_address_delivery: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub id_address_invoice: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub id_currency: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub id_carrier: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub current_state: u64,
    #[serde(default, deserialize_with = "de_text")]
    pub module: String,
    #[serde(default, deserialize_with = "de_text")]
    pub payment: String,
    #[serde(default, deserialize_with = "de_text")]
    pub date_add: String,
    #[serde(default, deserialize_with = "de_text")]
    pub date_upd: String,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_paid_tax_incl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_paid_tax_excl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_discounts_tax_incl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_discounts_tax_excl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_shipping_tax_incl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_shipping_tax_excl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub carrier_tax_rate: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_wrapping_tax_incl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_wrapping_tax_excl: Decimal,
    /// 1 per item, 2 per line, 3 on the total (`Order::ROUND_*`).
    #[serde(default, deserialize_with = "de_id")]
    pub round_type: u64,
    /// The order's note (8.x only).
    #[serde(default, deserialize_with = "de_text")]
    pub note: String,
}

/// A row of `GET /api/order_details`.
#[derive(Debug, Clone, Deserialize)]
pub struct PsDetail {
    #[serde(deserialize_with = "de_id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub id_order: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub product_id: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub product_attribute_id: u64,
    #[serde(default = "zero", with = "money::lenient")]
    pub product_quantity: Decimal,
    #[serde(default, deserialize_with = "de_text")]
    pub product_name: String,
    #[serde(default, deserialize_with = "de_text")]
    pub product_reference: String,
    #[serde(default = "zero", with = "money::lenient")]
    pub unit_price_tax_incl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub unit_price_tax_excl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_price_tax_incl: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub total_price_tax_excl: Decimal,
    /// Deprecated since 1.6.1 and often 0: the rate is then read from the prices.
    #[serde(default, with = "money::lenient_option")]
    pub tax_rate: Option<Decimal>,
}

/// A row of `GET /api/customers`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PsCustomer {
    #[serde(deserialize_with = "de_id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de_text")]
    pub email: String,
    #[serde(default, deserialize_with = "de_text")]
    pub firstname: String,
    #[serde(default, deserialize_with = "de_text")]
    pub lastname: String,
    #[serde(default, deserialize_with = "de_text")]
    pub company: String,
    #[serde(default, deserialize_with = "de_flag")]
    pub is_guest: bool,
}

/// A row of `GET /api/addresses`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PsAddress {
    #[serde(deserialize_with = "de_id")]
    pub id: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub id_country: u64,
    #[serde(default, deserialize_with = "de_text")]
    pub company: String,
    #[serde(default, deserialize_with = "de_text")]
    pub firstname: String,
    #[serde(default, deserialize_with = "de_text")]
    pub lastname: String,
    #[serde(default, deserialize_with = "de_text")]
    pub vat_number: String,
    #[serde(default, deserialize_with = "de_text")]
    pub address1: String,
    #[serde(default, deserialize_with = "de_text")]
    pub address2: String,
    #[serde(default, deserialize_with = "de_text")]
    pub postcode: String,
    #[serde(default, deserialize_with = "de_text")]
    pub city: String,
    #[serde(default, deserialize_with = "de_text")]
    pub phone: String,
    #[serde(default, deserialize_with = "de_text")]
    pub phone_mobile: String,
}

/// A row of `GET /api/order_cart_rules`: one voucher used on an order.
#[derive(Debug, Clone, Deserialize)]
pub struct PsOrderCartRule {
    #[serde(default, deserialize_with = "de_id")]
    pub id_order: u64,
    #[serde(default, deserialize_with = "de_id")]
    pub id_cart_rule: u64,
    #[serde(default, deserialize_with = "de_text")]
    pub name: String,
    #[serde(default = "zero", with = "money::lenient")]
    pub value: Decimal,
    #[serde(default = "zero", with = "money::lenient")]
    pub value_tax_excl: Decimal,
    #[serde(default, deserialize_with = "de_flag")]
    pub free_shipping: bool,
}

/// Everything read about one order.
#[derive(Debug, Clone)]
pub struct OrderData {
    pub order: PsOrder,
    pub details: Vec<PsDetail>,
    pub customer: Option<PsCustomer>,
    pub invoice: Option<PsAddress>,
    pub delivery: Option<PsAddress>,
    pub cart_rules: Vec<PsOrderCartRule>,
    /// Voucher codes by cart rule id.
    pub codes: BTreeMap<u64, String>,
}

/// The user's own order states mapped to tovor's (`status_map`: `"15=completed,
/// 16=on-hold"`); they win over what the state's flags say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusMap(BTreeMap<u64, OrderStatus>);

pub fn parse_status(name: &str) -> Option<OrderStatus> {
    Some(
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "pending" => OrderStatus::Pending,
            "processing" => OrderStatus::Processing,
            "on-hold" => OrderStatus::OnHold,
            "completed" => OrderStatus::Completed,
            "cancelled" | "canceled" => OrderStatus::Cancelled,
            "refunded" => OrderStatus::Refunded,
            "failed" => OrderStatus::Failed,
            "other" => OrderStatus::Other,
            _ => return None,
        },
    )
}

impl StatusMap {
    pub fn parse(text: Option<&str>) -> Result<StatusMap, ConnectorError> {
        let mut map = BTreeMap::new();
        for entry in text
            .unwrap_or_default()
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let parsed = entry.split_once('=').and_then(|(id, status)| {
                Some((id.trim().parse::<u64>().ok()?, parse_status(status)?))
            });
            let Some((id, status)) = parsed else {
                return Err(ConnectorError::invalid_field(
                    "status_map",
                    format!(
                        "{entry:?} is not state-id=status (statuses: pending, processing, \
                         on-hold, completed, cancelled, refunded, failed)"
                    ),
                ));
            };
            map.insert(id, status);
        }
        Ok(StatusMap(map))
    }

    pub fn get(&self, id: u64) -> Option<OrderStatus> {
        self.0.get(&id).copied()
    }
}

/// PrestaShop's well-known order state ids (installed with every shop).
pub mod states {
    pub const PAYMENT_ACCEPTED: u64 = 2;
    pub const SHIPPED: u64 = 4;
    pub const DELIVERED: u64 = 5;
    pub const CANCELED: u64 = 6;
    pub const REFUNDED: u64 = 7;
    pub const PAYMENT_ERROR: u64 = 8;
}

/// The order state as tovor's status and payment status: the user's map first, then
/// the well-known ids (cancelled, refunded, payment error), then the state's flags
/// (delivered or shipped: completed; paid: processing), else pending and unpaid.
pub fn status_of(
    id: u64,
    state: Option<&OrderState>,
    map: &StatusMap,
) -> (OrderStatus, PaymentStatus) {
    let paid = state.is_some_and(|state| state.paid);
    let payment = if paid {
        PaymentStatus::Paid
    } else {
        PaymentStatus::Unpaid
    };
    if let Some(status) = map.get(id) {
        let payment = match status {
            OrderStatus::Refunded => PaymentStatus::Refunded,
            OrderStatus::Completed | OrderStatus::Processing if state.is_none() => {
                PaymentStatus::Paid
            }
            _ => payment,
        };
        return (status, payment);
    }
    match id {
        states::CANCELED => return (OrderStatus::Cancelled, PaymentStatus::Voided),
        states::REFUNDED => return (OrderStatus::Refunded, PaymentStatus::Refunded),
        states::PAYMENT_ERROR => return (OrderStatus::Failed, PaymentStatus::Unpaid),
        _ => {}
    }
    match state {
        Some(state) if state.delivered || state.shipped => (OrderStatus::Completed, payment),
        Some(state) if state.paid => (OrderStatus::Processing, PaymentStatus::Paid),
        Some(_) => (OrderStatus::Pending, PaymentStatus::Unpaid),
        // A state the lists do not have: the well-known ids, else unknown.
        None => match id {
            states::PAYMENT_ACCEPTED => (OrderStatus::Processing, PaymentStatus::Paid),
            states::SHIPPED | states::DELIVERED => (OrderStatus::Completed, PaymentStatus::Paid),
            _ => (OrderStatus::Other, PaymentStatus::Unknown),
        },
    }
}

fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The tax rate in percent: the detail's own when set, else read from its prices
/// (two decimals: 22, 9.5, 8.1).
pub fn line_rate(detail: &PsDetail) -> Option<Decimal> {
    if let Some(rate) = detail.tax_rate.filter(|rate| !rate.is_zero()) {
        return Some(rate.normalize());
    }
    let (incl, excl) = if detail.unit_price_tax_excl.is_zero() {
        (detail.total_price_tax_incl, detail.total_price_tax_excl)
    } else {
        (detail.unit_price_tax_incl, detail.unit_price_tax_excl)
    };
    if excl.is_zero() {
        return None;
    }
    let rate = (incl / excl - Decimal::ONE) * Decimal::ONE_HUNDRED;
    Some(cents(rate).normalize())
}

/// Splits `amount` over `weights` in proportion, to the cent, the remainder on the
/// last part so the parts add up exactly.
pub fn spread(amount: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    let total: Decimal = weights.iter().copied().sum();
    let mut parts = Vec::with_capacity(weights.len());
    let mut given = Decimal::ZERO;
    for (index, weight) in weights.iter().enumerate() {
        let part = if index + 1 == weights.len() {
            amount - given
        } else if total.is_zero() {
            Decimal::ZERO
        } else {
            cents(amount * weight / total)
        };
        given += part;
        parts.push(part);
    }
    parts
}

fn address(address: &PsAddress, reference: &Reference, email: Option<&str>) -> Address {
    let phone = if address.phone_mobile.trim().is_empty() {
        address.phone.as_str()
    } else {
        address.phone_mobile.as_str()
    };
    let name = format!("{} {}", address.firstname.trim(), address.lastname.trim());
    let (street, number) = tovor_sdk::address::split_street(&address.address1);
    let mut builder = Address::builder()
        .name(name.trim())
        .company(address.company.as_str())
        .street(street, number)
        .line1(address.address1.as_str())
        .line2(address.address2.as_str())
        .city(address.city.as_str())
        .postal_code(address.postcode.as_str())
        .phone(phone);
    if let Some(country) = reference.countries.get(&address.id_country) {
        builder = builder.country(country.as_str());
    }
    if let Some(email) = email {
        builder = builder.email(email);
    }
    builder.build()
}

fn customer(data: &OrderData) -> Option<Customer> {
    let customer = data.customer.as_ref()?;
    let invoice = data.invoice.as_ref();
    let text = |value: &str| {
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_owned())
    };
    Some(Customer {
        // A guest checkout has a customer row too, but no account to come back to.
        platform_id: (!customer.is_guest).then(|| customer.id.to_string()),
        email: text(&customer.email),
        first_name: text(&customer.firstname),
        last_name: text(&customer.lastname),
        company: text(&customer.company).or_else(|| invoice.and_then(|a| text(&a.company))),
        vat_id: invoice.and_then(|a| text(&a.vat_number)),
        phone: invoice.and_then(|a| text(&a.phone_mobile).or_else(|| text(&a.phone))),
    })
}

/// The contract's order.
pub fn map_order(
    data: &OrderData,
    reference: &Reference,
    zone: &Zone,
    statuses: &StatusMap,
) -> Result<Order, ConnectorError> {
    let order = &data.order;
    let currency = reference
        .currencies
        .get(&order.id_currency)
        .cloned()
        .ok_or_else(|| {
            ConnectorError::other(format!(
                "order {}: currency {} is not in the shop's currencies",
                order.id, order.id_currency
            ))
        })?;
    let created = zone
        .parse_local(&order.date_add)
        .map_err(|error| error.context(format!("order {} date_add", order.id)))?;
    let modified = zone.parse_local(&order.date_upd).unwrap_or(created);
    let state = reference.states.get(&order.current_state);
    let (status, payment) = status_of(order.current_state, state, statuses);

    // Shipping, less a free-shipping voucher.
    let free_shipping = data.cart_rules.iter().any(|rule| rule.free_shipping);
    let (mut ship_incl, mut ship_excl) = (
        cents(order.total_shipping_tax_incl),
        cents(order.total_shipping_tax_excl),
    );
    let (mut voucher_incl, mut voucher_excl) = (
        cents(order.total_discounts_tax_incl),
        cents(order.total_discounts_tax_excl),
    );
    if free_shipping && voucher_incl >= ship_incl && !ship_incl.is_zero() {
        voucher_incl -= ship_incl;
        voucher_excl = (voucher_excl - ship_excl).max(Decimal::ZERO);
        ship_incl = Decimal::ZERO;
        ship_excl = Decimal::ZERO;
    }
    let wrap_incl = cents(order.total_wrapping_tax_incl);
    let wrap_excl = cents(order.total_wrapping_tax_excl);

    let details = &data.details;
    if details.is_empty() {
        return Err(ConnectorError::other(format!(
            "order {} has no order_details",
            order.id
        )));
    }
    let incl: Vec<Decimal> = details
        .iter()
        .map(|d| cents(d.total_price_tax_incl))
        .collect();
    let excl: Vec<Decimal> = details
        .iter()
        .map(|d| cents(d.total_price_tax_excl))
        .collect();
    let share_incl = spread(voucher_incl, &incl);
    let share_excl = spread(voucher_excl, &excl);
    let mut line_incl: Vec<Decimal> = incl.iter().zip(&share_incl).map(|(a, b)| a - b).collect();
    let mut line_excl: Vec<Decimal> = excl.iter().zip(&share_excl).map(|(a, b)| a - b).collect();
    // Rounding left over against PrestaShop's own totals goes to the largest line.
    let largest = (0..details.len())
        .max_by_key(|&index| incl[index])
        .unwrap_or(0);
    let paid_incl = cents(order.total_paid_tax_incl);
    let paid_excl = cents(order.total_paid_tax_excl);
    let rest_incl = paid_incl - line_incl.iter().copied().sum::<Decimal>() - ship_incl - wrap_incl;
    let rest_excl = paid_excl - line_excl.iter().copied().sum::<Decimal>() - ship_excl - wrap_excl;
    if let Some(value) = line_incl.get_mut(largest) {
        *value += rest_incl;
    }
    if let Some(value) = line_excl.get_mut(largest) {
        *value += rest_excl;
    }

    let mut builder = Order::builder(order.id.to_string(), display_number(order), currency)
        .status(status, order.current_state.to_string())
        .payment_status(payment)
        .prices_include_tax(true)
        .created_at(created)
        .modified_at(modified)
        .customer(customer(data))
        .customer_note(order.note.as_str());
    if !order.module.trim().is_empty() || !order.payment.trim().is_empty() {
        let code = if order.module.trim().is_empty() {
            order.payment.trim()
        } else {
            order.module.trim()
        };
        builder = builder.payment_method(code, order.payment.trim());
    }
    let email = data.customer.as_ref().map(|c| c.email.as_str());
    if let Some(invoice) = &data.invoice {
        builder = builder.billing(address(invoice, reference, email));
    }
    if let Some(delivery) = &data.delivery {
        builder = builder.shipping_address(address(delivery, reference, email));
    }
    let mut discount_total = Decimal::ZERO;
    let mut tax_total = Decimal::ZERO;
    for (index, detail) in details.iter().enumerate() {
        let unit = if order.round_type == 1 {
            cents(detail.unit_price_tax_incl)
        } else {
            detail.unit_price_tax_incl.normalize()
        };
        let gross = line_incl[index];
        let net = line_excl[index];
        let discount = cents(detail.product_quantity * unit - gross).max(Decimal::ZERO);
        discount_total += discount;
        tax_total += gross - net;
        let variation = (detail.product_attribute_id != 0)
            .then(|| stock_key(detail.product_id, detail.product_attribute_id));
        builder = builder.line(
            LineItem::builder(
                detail.product_name.as_str(),
                detail.product_quantity.normalize(),
                unit,
            )
            .platform_line_id(detail.id.to_string())
            .sku(detail.product_reference.as_str())
            .product_id(detail.product_id.to_string())
            .variation_id(variation)
            .tax_rate(line_rate(detail))
            .discount(discount)
            .tax_amount(gross - net)
            .total(net)
            .build(),
        );
    }
    if !order.total_shipping_tax_incl.is_zero() || order.id_carrier != 0 {
        let title = reference
            .carriers
            .get(&order.id_carrier)
            .cloned()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| String::from("Shipping"));
        let rate = (!ship_excl.is_zero()).then(|| order.carrier_tax_rate.normalize());
        builder = builder.shipping_line(
            ChargeLine::builder(title, ship_excl)
                .code(order.id_carrier.to_string())
                .tax_rate(rate)
                .tax_amount(ship_incl - ship_excl)
                .build(),
        );
        tax_total += ship_incl - ship_excl;
    }
    if !wrap_incl.is_zero() {
        builder = builder.fee(
            ChargeLine::builder("Gift wrapping", wrap_excl)
                .code("wrapping")
                .tax_amount(wrap_incl - wrap_excl)
                .build(),
        );
        tax_total += wrap_incl - wrap_excl;
    }
    for rule in &data.cart_rules {
        let code = data
            .codes
            .get(&rule.id_cart_rule)
            .filter(|code| !code.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| rule.name.clone());
        if !code.trim().is_empty() {
            builder = builder.coupon(code);
        }
    }
    builder
        .discount_total(discount_total)
        .tax_total(tax_total)
        .total(paid_incl)
        .build()
}

/// The number customers see: the order reference (`"XKBKNABJK"`), else the id.
pub fn display_number(order: &PsOrder) -> String {
    let reference = order.reference.trim();
    if reference.is_empty() {
        order.id.to_string()
    } else {
        reference.to_owned()
    }
}

/// The stock key of a product (`"12"`, no combination) or a combination (`"12:45"`):
/// what `stock_availables` is found by.
pub fn stock_key(product: u64, attribute: u64) -> String {
    if attribute == 0 {
        product.to_string()
    } else {
        format!("{product}:{attribute}")
    }
}

/// Reads a stock key back as (product, combination); a bare id is a product without
/// combinations.
pub fn parse_stock_key(key: &str) -> Option<(u64, u64)> {
    match key.trim().split_once(':') {
        Some((product, attribute)) => {
            Some((product.trim().parse().ok()?, attribute.trim().parse().ok()?))
        }
        None => Some((key.trim().parse().ok()?, 0)),
    }
}
