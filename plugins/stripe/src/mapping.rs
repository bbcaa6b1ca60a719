//! Stripe's JSON (API version [`crate::api::API_VERSION`]) and how it maps to tovor's
//! orders. Everything here is pure, so it is unit-tested natively.
//!
//! # What becomes an order
//!
//! A paid invoice (`in_…`) or a completed Checkout Session (`cs_…`): the ids are
//! distinct by their prefixes, so they never collide. A session that created an
//! invoice (subscriptions, `invoice_creation`) is left to its invoice, so one payment
//! is never imported twice.
//!
//! # Amounts
//!
//! Stripe's amounts are integers in the currency's minor units ([`exponent`]): 2 for
//! most currencies, 0 for the zero-decimal ones (JPY, KRW, …), 3 for BHD, JOD, KWD, OMR
//! and TND. ISK, HUF and TWD are sent with two decimals although they are paid in whole
//! units (Stripe's special cases), so they are read with 2.
//!
//! A line's amount `A` is quantity × unit price before discounts, gross when its tax is
//! inclusive; `D` is the discounts allocated to it (Stripe spreads invoice-level
//! coupons over the lines), `T` its tax. Then
//!
//! - the line's net total is `A − D − T` for inclusive tax, else `A − D`;
//! - the invoice's `total` is `Σ (A − D) + Σ exclusive T + shipping`, which is the sum of
//!   the net totals, the shipping and the tax total: the identity the host checks.
//!
//! The order's `prices-include-tax` is true when every taxed line is taxed inclusively;
//! a line of the other kind has its unit price moved onto the order's basis.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use serde_json::Value;
pub use tovor_sdk::address::{non_blank, split_street};
use tovor_sdk::time::{self, OffsetDateTime};
use tovor_sdk::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentStatus,
    Refund,
};

// ---------------------------------------------------------------------------------------
// Currencies

/// Stripe's zero-decimal currencies.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Stripe's three-decimal currencies.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// How many decimals Stripe's minor units of `currency` have (ISO code, any case).
pub fn exponent(currency: &str) -> u32 {
    let code = currency.trim().to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// `minor` units as an exact decimal with the currency's decimals (`1999`, EUR → `19.99`;
/// `1500`, JPY → `1500`).
pub fn from_minor(minor: i64, exponent: u32) -> Decimal {
    tovor_sdk::money::from_minor_units(minor, exponent)
}

// ---------------------------------------------------------------------------------------
// Stripe's objects (only the fields used)

/// A list object: `{"object": "list", "data": [...], "has_more": …}`.
#[derive(Debug, Deserialize, Clone)]
pub struct List<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            has_more: false,
        }
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct StripeAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct TaxId {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
}

/// `customer_shipping` of an invoice, `shipping_details` of a session.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ShippingDetails {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<StripeAddress>,
}

/// An invoice line tax or an invoice's `total_taxes` entry (basil shape).
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct InvoiceTax {
    pub amount: i64,
    /// `exclusive` or `inclusive`.
    pub tax_behavior: Option<String>,
    pub taxable_amount: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct DiscountAmount {
    pub amount: i64,
}

/// A Checkout line item tax, or a shipping cost tax: the rate object when expanded.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct RateTax {
    pub amount: i64,
    pub taxable_amount: Option<i64>,
    /// A TaxRate object (or its id when not expanded).
    pub rate: Option<Value>,
}

/// `shipping_cost` of an invoice or a session.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ShippingCost {
    pub amount_subtotal: i64,
    pub amount_tax: i64,
    pub amount_total: i64,
    pub shipping_rate: Option<Value>,
    pub taxes: Vec<RateTax>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct StatusTransitions {
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub voided_at: Option<i64>,
    pub marked_uncollectible_at: Option<i64>,
}

/// A discount object (`di_…`) with its coupon, when `discounts` is expanded.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct Discount {
    pub coupon: Option<Value>,
    pub promotion_code: Option<Value>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct Invoice {
    pub id: String,
    pub number: Option<String>,
    pub currency: String,
    pub status: Option<String>,
    pub created: i64,
    pub customer: Option<Value>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_address: Option<StripeAddress>,
    pub customer_shipping: Option<ShippingDetails>,
    pub customer_tax_ids: Option<Vec<TaxId>>,
    pub description: Option<String>,
    pub subtotal: i64,
    pub total: i64,
    pub amount_paid: i64,
    pub total_taxes: Option<Vec<InvoiceTax>>,
    pub total_discount_amounts: Option<Vec<DiscountAmount>>,
    /// Ids, or objects when expanded.
    pub discounts: Vec<Value>,
    pub lines: List<InvoiceLine>,
    pub status_transitions: StatusTransitions,
    /// Includable (`expand[]=payments`).
    pub payments: Option<List<InvoicePayment>>,
    pub shipping_cost: Option<ShippingCost>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct InvoiceLine {
    pub id: Option<String>,
    pub description: Option<String>,
    pub quantity: Option<i64>,
    pub amount: i64,
    pub discount_amounts: Vec<DiscountAmount>,
    pub taxes: Vec<InvoiceTax>,
    pub pricing: Option<Pricing>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct Pricing {
    pub price_details: Option<PriceDetails>,
    /// The unit amount in minor units, possibly fractional (`"1999.5"`).
    pub unit_amount_decimal: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct PriceDetails {
    pub price: Option<Value>,
    pub product: Option<Value>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct InvoicePayment {
    pub status: Option<String>,
    pub payment: Option<PaymentRef>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct PaymentRef {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub payment_intent: Option<Value>,
}

impl Invoice {
    /// The payment intent that paid the invoice, from its (expanded) payments.
    pub fn payment_intent(&self) -> Option<String> {
        let payments = self.payments.as_ref()?;
        payments
            .data
            .iter()
            .filter(|payment| payment.status.as_deref().is_none_or(|s| s == "paid"))
            .filter_map(|payment| payment.payment.as_ref())
            .find_map(|payment| id_of(payment.payment_intent.as_ref()))
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct CustomerDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<StripeAddress>,
    pub tax_ids: Option<Vec<TaxId>>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct TotalDetails {
    pub amount_discount: i64,
    pub amount_shipping: i64,
    pub amount_tax: i64,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct CollectedInformation {
    pub shipping_details: Option<ShippingDetails>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct Session {
    pub id: String,
    pub created: i64,
    pub currency: Option<String>,
    pub status: Option<String>,
    pub payment_status: Option<String>,
    pub client_reference_id: Option<String>,
    pub customer: Option<Value>,
    pub customer_details: Option<CustomerDetails>,
    pub amount_subtotal: Option<i64>,
    pub amount_total: Option<i64>,
    pub total_details: Option<TotalDetails>,
    pub shipping_cost: Option<ShippingCost>,
    pub collected_information: Option<CollectedInformation>,
    pub payment_intent: Option<Value>,
    pub invoice: Option<Value>,
    pub discounts: Vec<Discount>,
}

impl Session {
    /// Whether the session's payment is its own order (no invoice was made for it).
    pub fn has_invoice(&self) -> bool {
        id_of(self.invoice.as_ref()).is_some()
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct SessionLine {
    pub id: Option<String>,
    pub description: Option<String>,
    pub quantity: Option<i64>,
    pub amount_subtotal: i64,
    pub amount_discount: i64,
    pub amount_tax: i64,
    pub amount_total: i64,
    pub price: Option<Value>,
    /// Includable (`expand[]=data.taxes`).
    pub taxes: Vec<RateTax>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct StripeRefund {
    pub id: Option<String>,
    pub amount: i64,
    pub created: Option<i64>,
    pub reason: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
}

/// What an order needs besides its invoice or session: the payment method (from the
/// payment intent and its charge) and the refunds of the payment.
#[derive(Debug, Default, Clone)]
pub struct Extras {
    pub payment_method: Option<String>,
    pub paid_at: Option<i64>,
    pub refunds: Vec<StripeRefund>,
}

/// A payment intent with `expand[]=latest_charge`.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct PaymentIntent {
    pub id: String,
    pub payment_method_types: Vec<String>,
    pub latest_charge: Option<Value>,
}

impl PaymentIntent {
    /// The charge's `payment_method_details.type`, else the intent's first type.
    pub fn method(&self) -> Option<String> {
        self.latest_charge
            .as_ref()
            .and_then(|charge| charge.pointer("/payment_method_details/type"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| self.payment_method_types.first().cloned())
    }

    /// When the charge was made.
    pub fn charged_at(&self) -> Option<i64> {
        self.latest_charge
            .as_ref()
            .and_then(|charge| charge.get("created"))
            .and_then(Value::as_i64)
    }
}

/// The id of an expandable field: the string itself, or the object's `id`.
pub fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(id) if !id.trim().is_empty() => Some(id.trim().to_owned()),
        Value::Object(object) => object.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Lines

/// A line's figures in minor units.
#[derive(Debug, Clone, Copy)]
pub struct LineFigures {
    pub quantity: i64,
    /// Quantity × unit price, before discounts; gross when `inclusive`.
    pub amount: i64,
    pub discount: i64,
    pub tax: i64,
    pub inclusive: bool,
}

/// A line's contract values: unit price, discount, tax and net total, on the order's
/// basis (`included`).
#[derive(Debug, Clone, PartialEq)]
pub struct LineValues {
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

/// See the module documentation. `unit_minor` is Stripe's own unit amount (minor units,
/// possibly fractional) when known and consistent with the amount.
pub fn line_values(
    figures: LineFigures,
    included: bool,
    unit_minor: Option<Decimal>,
    exponent: u32,
) -> LineValues {
    let LineFigures {
        quantity,
        amount,
        discount,
        tax,
        inclusive,
    } = figures;
    // Moves the amount onto the order's basis.
    let shift = match (included, inclusive) {
        (true, false) => tax,
        (false, true) => -tax,
        _ => 0,
    };
    let basis = amount + shift;
    let quantity_dec = Decimal::from(quantity.max(1));
    let consistent = unit_minor.filter(|unit| {
        shift == 0 && (unit * Decimal::from(quantity) - Decimal::from(amount)).abs() < Decimal::ONE
    });
    let unit_minor = consistent.unwrap_or_else(|| Decimal::from(basis) / quantity_dec);
    let scale = Decimal::from(10_i64.pow(exponent));
    let unit_price = (unit_minor / scale)
        .round_dp_with_strategy(exponent + 6, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    let net = amount - discount - if inclusive { tax } else { 0 };
    LineValues {
        unit_price: at_least_exponent(unit_price, exponent),
        discount: from_minor(discount, exponent),
        tax: from_minor(tax, exponent),
        total: from_minor(net, exponent),
    }
}

/// `20` written `20.00` for a two-decimal currency (invoices read better).
fn at_least_exponent(value: Decimal, exponent: u32) -> Decimal {
    if value.scale() < exponent {
        let mut value = value;
        value.rescale(exponent);
        value
    } else {
        value
    }
}

/// The tax rate in percent, from the rate objects' `percentage` (summed) when every tax
/// has one, else from the amounts (`Σ amount / taxable_amount`, two decimals); given only
/// when it reproduces `tax` on `net` within a cent, as the host checks (whole-unit
/// currencies round their tax too coarsely for a derived rate).
pub fn rate_percent(
    percentages: Option<Decimal>,
    taxed: &[(i64, Option<i64>)],
    tax: Decimal,
    net: Decimal,
) -> Option<Decimal> {
    if taxed.is_empty() {
        return None;
    }
    let rate = match percentages {
        Some(rate) => rate,
        None => {
            let amount: i64 = taxed.iter().map(|(amount, _)| amount).sum();
            let taxable = taxed.first().and_then(|(_, taxable)| *taxable)?;
            if taxable == 0 || taxed.iter().any(|(_, t)| *t != Some(taxable)) {
                return None;
            }
            let exact = Decimal::from(amount) * Decimal::ONE_HUNDRED / Decimal::from(taxable);
            // The coarsest rate that reproduces the tax: Stripe rounded the tax, so the
            // exact quotient of `9.5 %` on 13.50 is 9.48….
            return (0..=2)
                .map(|dp| exact.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero))
                .find(|rate| reproduces(*rate, tax, net))
                .map(|rate| rate.normalize());
        }
    };
    reproduces(rate, tax, net).then(|| rate.normalize())
}

/// Whether `rate` percent of `net` is `tax` within a cent.
fn reproduces(rate: Decimal, tax: Decimal, net: Decimal) -> bool {
    (tax - net * rate / Decimal::ONE_HUNDRED).abs() <= Decimal::new(1, 2)
}

fn rate_object_percentages(taxes: &[RateTax]) -> Option<Decimal> {
    let mut sum = Decimal::ZERO;
    for tax in taxes {
        let percentage = tax.rate.as_ref()?.get("percentage")?;
        sum += tovor_sdk::money::decimal_from_json(percentage).ok()?;
    }
    Some(sum)
}

fn rate_object_inclusive(taxes: &[RateTax]) -> Option<bool> {
    let flags: Vec<bool> = taxes
        .iter()
        .filter_map(|tax| tax.rate.as_ref()?.get("inclusive")?.as_bool())
        .collect();
    (!flags.is_empty() && flags.len() == taxes.len()).then(|| flags.iter().all(|f| *f))
}

/// One mapped line with the figures the order's refund lines need.
struct Mapped {
    line: LineItem,
    /// What the customer paid for the line, tax included, in major units.
    gross: Decimal,
    quantity: Decimal,
    id: Option<String>,
}

fn build_line(
    name: String,
    figures: LineFigures,
    included: bool,
    unit_minor: Option<Decimal>,
    exponent: u32,
    rate: Option<Decimal>,
    ids: (Option<String>, Option<String>, Option<String>),
) -> Mapped {
    let values = line_values(figures, included, unit_minor, exponent);
    let quantity = Decimal::from(figures.quantity);
    let (line_id, product, price) = ids;
    let gross = values.total + values.tax;
    let line = LineItem::builder(name, quantity, values.unit_price)
        .platform_line_id(line_id.as_deref())
        .product_id(product.as_deref())
        .variation_id(price.as_deref())
        .discount(values.discount)
        .tax_rate(rate)
        .tax_amount(values.tax)
        .total(values.total)
        .build();
    Mapped {
        line,
        gross,
        quantity,
        id: line_id,
    }
}

fn name_or(description: Option<&str>, fallback: &str) -> String {
    non_blank(description).unwrap_or_else(|| fallback.to_owned())
}

/// Whether an invoice line's taxes are inclusive (all of them say so).
fn invoice_line_inclusive(line: &InvoiceLine) -> bool {
    !line.taxes.is_empty()
        && line
            .taxes
            .iter()
            .all(|tax| tax.tax_behavior.as_deref() == Some("inclusive"))
}

/// Whether a Checkout line's tax is inclusive: its rates say so, else its total is its
/// subtotal less the discount (the tax is inside).
fn session_line_inclusive(line: &SessionLine) -> bool {
    if line.amount_tax == 0 {
        return false;
    }
    rate_object_inclusive(&line.taxes)
        .unwrap_or(line.amount_total == line.amount_subtotal - line.amount_discount)
}

// ---------------------------------------------------------------------------------------
// Orders

/// A paid (or voided) invoice with all its lines (`lines`, already paged through) as an
/// order.
pub fn map_invoice(
    invoice: &Invoice,
    lines: &[InvoiceLine],
    extras: &Extras,
) -> Result<Order, ConnectorError> {
    if invoice.id.trim().is_empty() {
        return Err(ConnectorError::other("a Stripe invoice without an id"));
    }
    let currency = currency_of(Some(&invoice.currency), &invoice.id)?;
    let exp = exponent(&currency);
    let taxed: Vec<&InvoiceLine> = lines.iter().filter(|l| !l.taxes.is_empty()).collect();
    let included = !taxed.is_empty() && taxed.iter().all(|l| invoice_line_inclusive(l));
    let mapped: Vec<Mapped> = lines
        .iter()
        .map(|line| {
            let figures = LineFigures {
                quantity: line.quantity.unwrap_or(1),
                amount: line.amount,
                discount: line.discount_amounts.iter().map(|d| d.amount).sum(),
                tax: line.taxes.iter().map(|t| t.amount).sum(),
                inclusive: invoice_line_inclusive(line),
            };
            let unit_minor = line
                .pricing
                .as_ref()
                .and_then(|p| p.unit_amount_decimal.as_deref())
                .and_then(|u| u.trim().parse::<Decimal>().ok());
            let values = line_values(figures, included, unit_minor, exp);
            let taxed: Vec<(i64, Option<i64>)> = line
                .taxes
                .iter()
                .map(|t| (t.amount, t.taxable_amount))
                .collect();
            let rate = rate_percent(None, &taxed, values.tax, values.total);
            let details = line.pricing.as_ref().and_then(|p| p.price_details.as_ref());
            build_line(
                name_or(line.description.as_deref(), "Item"),
                figures,
                included,
                unit_minor,
                exp,
                rate,
                (
                    line.id.clone(),
                    details.and_then(|d| id_of(d.product.as_ref())),
                    details.and_then(|d| id_of(d.price.as_ref())),
                ),
            )
        })
        .collect();
    let shipping = invoice
        .shipping_cost
        .as_ref()
        .filter(|cost| cost.amount_total != 0 || cost.amount_subtotal != 0)
        .map(|cost| map_shipping(cost, exp));
    let line_tax: i64 = lines
        .iter()
        .flat_map(|line| line.taxes.iter().map(|t| t.amount))
        .sum::<i64>()
        + invoice.shipping_cost.as_ref().map_or(0, |c| c.amount_tax);
    let tax_total = invoice
        .total_taxes
        .as_ref()
        .map_or(line_tax, |taxes| taxes.iter().map(|t| t.amount).sum());
    let discount_total = invoice.total_discount_amounts.as_ref().map_or_else(
        || {
            lines
                .iter()
                .flat_map(|l| l.discount_amounts.iter().map(|d| d.amount))
                .sum()
        },
        |amounts| amounts.iter().map(|d| d.amount).sum(),
    );

    let status = invoice.status.as_deref().unwrap_or("");
    let total = from_minor(invoice.total, exp);
    let refunded = refunded_sum(&extras.refunds, exp);
    let (order_status, payment_status) = invoice_status(status, refunded, total);
    let transitions = &invoice.status_transitions;
    let paid_at = transitions.paid_at.or(extras.paid_at);
    let modified = [
        Some(invoice.created),
        transitions.finalized_at,
        transitions.paid_at,
        transitions.voided_at,
        transitions.marked_uncollectible_at,
    ]
    .into_iter()
    .flatten()
    .chain(extras.refunds.iter().filter_map(|r| r.created))
    .max()
    .unwrap_or(invoice.created);

    let email = non_blank(invoice.customer_email.as_deref());
    let phone = non_blank(invoice.customer_phone.as_deref());
    let name = non_blank(invoice.customer_name.as_deref());
    let tax_ids = invoice.customer_tax_ids.clone().unwrap_or_default();
    let customer = map_customer(
        id_of(invoice.customer.as_ref()),
        name.as_deref(),
        email.clone(),
        phone.clone(),
        &tax_ids,
    );
    let billing = invoice
        .customer_address
        .as_ref()
        .map(|address| map_address(address, name.as_deref(), email.clone(), phone.clone()));
    let shipping_address = invoice.customer_shipping.as_ref().and_then(|shipping| {
        shipping.address.as_ref().map(|address| {
            map_address(
                address,
                shipping.name.as_deref(),
                None,
                non_blank(shipping.phone.as_deref()),
            )
        })
    });
    let number = non_blank(invoice.number.as_deref()).unwrap_or_else(|| invoice.id.clone());
    let coupons = coupon_names(
        invoice
            .discounts
            .iter()
            .filter_map(|d| serde_json::from_value::<Discount>(d.clone()).ok()),
    );
    let parts = OrderParts {
        id: invoice.id.clone(),
        number,
        currency,
        exp,
        included,
        status: (order_status, status.to_owned()),
        payment_status,
        created: invoice.created,
        modified,
        paid_at,
        customer,
        billing,
        shipping_address,
        lines: mapped,
        shipping,
        coupons,
        discount_total,
        tax_total,
        total: invoice.total,
        note: non_blank(invoice.description.as_deref()),
    };
    parts.build(extras)
}

/// A completed Checkout Session with all its line items as an order; `tax_ids` are the
/// customer's when the session does not carry them.
pub fn map_session(
    session: &Session,
    lines: &[SessionLine],
    customer_tax_ids: &[TaxId],
    extras: &Extras,
) -> Result<Order, ConnectorError> {
    if session.id.trim().is_empty() {
        return Err(ConnectorError::other(
            "a Stripe Checkout Session without an id",
        ));
    }
    let currency = currency_of(session.currency.as_ref(), &session.id)?;
    let exp = exponent(&currency);
    let taxed: Vec<&SessionLine> = lines.iter().filter(|l| l.amount_tax != 0).collect();
    let included = !taxed.is_empty() && taxed.iter().all(|l| session_line_inclusive(l));
    let mapped: Vec<Mapped> = lines
        .iter()
        .map(|line| {
            let figures = LineFigures {
                quantity: line.quantity.unwrap_or(1),
                amount: line.amount_subtotal,
                discount: line.amount_discount,
                tax: line.amount_tax,
                inclusive: session_line_inclusive(line),
            };
            let price = line.price.as_ref();
            let unit_minor = price
                .and_then(|p| p.get("unit_amount_decimal"))
                .and_then(Value::as_str)
                .and_then(|u| u.trim().parse::<Decimal>().ok())
                .or_else(|| {
                    price
                        .and_then(|p| p.get("unit_amount"))
                        .and_then(Value::as_i64)
                        .map(Decimal::from)
                });
            let values = line_values(figures, included, unit_minor, exp);
            let taxed: Vec<(i64, Option<i64>)> = line
                .taxes
                .iter()
                .map(|t| (t.amount, t.taxable_amount))
                .collect();
            let rate = rate_percent(
                rate_object_percentages(&line.taxes),
                &taxed,
                values.tax,
                values.total,
            );
            build_line(
                name_or(line.description.as_deref(), "Item"),
                figures,
                included,
                unit_minor,
                exp,
                rate,
                (
                    line.id.clone(),
                    price.and_then(|p| id_of(p.get("product"))),
                    price.and_then(|p| id_of(p.get("id"))),
                ),
            )
        })
        .collect();
    let shipping = session
        .shipping_cost
        .as_ref()
        .filter(|cost| cost.amount_total != 0 || cost.amount_subtotal != 0)
        .map(|cost| map_shipping(cost, exp));
    let details = session.total_details.clone().unwrap_or_default();
    let total = session.amount_total.unwrap_or_default();
    let refunded = refunded_sum(&extras.refunds, exp);
    let status = session.status.as_deref().unwrap_or("");
    let payment = session.payment_status.as_deref().unwrap_or("");
    let (order_status, payment_status) =
        session_status(status, payment, refunded, from_minor(total, exp));
    let modified = std::iter::once(session.created)
        .chain(extras.paid_at)
        .chain(extras.refunds.iter().filter_map(|r| r.created))
        .max()
        .unwrap_or(session.created);

    let customer_details = session.customer_details.clone().unwrap_or_default();
    let email = non_blank(customer_details.email.as_deref());
    let phone = non_blank(customer_details.phone.as_deref());
    let name = non_blank(customer_details.name.as_deref());
    let mut tax_ids = customer_details.tax_ids.clone().unwrap_or_default();
    if tax_ids.is_empty() {
        tax_ids = customer_tax_ids.to_vec();
    }
    let customer = map_customer(
        id_of(session.customer.as_ref()),
        name.as_deref(),
        email.clone(),
        phone.clone(),
        &tax_ids,
    );
    let billing = customer_details
        .address
        .as_ref()
        .map(|address| map_address(address, name.as_deref(), email.clone(), phone.clone()));
    let shipping_address = session
        .collected_information
        .as_ref()
        .and_then(|info| info.shipping_details.as_ref())
        .and_then(|shipping| {
            shipping
                .address
                .as_ref()
                .map(|address| map_address(address, shipping.name.as_deref(), None, None))
        });
    let parts = OrderParts {
        id: session.id.clone(),
        number: non_blank(session.client_reference_id.as_deref())
            .unwrap_or_else(|| session.id.clone()),
        currency,
        exp,
        included,
        status: (order_status, format!("{status}/{payment}")),
        payment_status,
        created: session.created,
        modified,
        paid_at: matches!(payment, "paid" | "no_payment_required")
            .then(|| extras.paid_at.unwrap_or(session.created)),
        customer,
        billing,
        shipping_address,
        lines: mapped,
        shipping,
        coupons: coupon_names(session.discounts.iter().cloned()),
        discount_total: details.amount_discount,
        tax_total: details.amount_tax,
        total,
        note: None,
    };
    parts.build(extras)
}

/// What [`map_invoice`] and [`map_session`] have gathered, for [`OrderParts::build`].
struct OrderParts {
    id: String,
    number: String,
    currency: String,
    exp: u32,
    included: bool,
    status: (OrderStatus, String),
    payment_status: PaymentStatus,
    created: i64,
    modified: i64,
    paid_at: Option<i64>,
    customer: Option<Customer>,
    billing: Option<Address>,
    shipping_address: Option<Address>,
    lines: Vec<Mapped>,
    shipping: Option<(ChargeLine, Decimal)>,
    coupons: Vec<String>,
    discount_total: i64,
    tax_total: i64,
    total: i64,
    note: Option<String>,
}

impl OrderParts {
    fn build(self, extras: &Extras) -> Result<Order, ConnectorError> {
        let exp = self.exp;
        let total = from_minor(self.total, exp);
        let shipping_gross = self.shipping.as_ref().map_or(Decimal::ZERO, |(_, g)| *g);
        let refund_lines: Vec<(Option<String>, Decimal, Decimal)> = self
            .lines
            .iter()
            .map(|m| (m.id.clone(), m.quantity, m.gross))
            .collect();
        let refunds = map_refunds(&extras.refunds, exp, &refund_lines, shipping_gross, total)?;
        let mut builder = Order::builder(self.id, self.number, self.currency)
            .status(self.status.0, self.status.1)
            .payment_status(self.payment_status)
            .prices_include_tax(self.included)
            .created_at(at(self.created)?)
            .modified_at(at(self.modified)?)
            .paid_at(self.paid_at.map(at).transpose()?)
            .customer(self.customer)
            .billing(self.billing)
            .shipping_address(self.shipping_address)
            .lines(self.lines.into_iter().map(|m| m.line))
            .discount_total(from_minor(self.discount_total, exp))
            .tax_total(from_minor(self.tax_total, exp))
            .total(total)
            .customer_note(self.note.as_deref());
        if let Some((line, _)) = self.shipping {
            builder = builder.shipping_line(line);
        }
        if let Some(code) = extras.payment_method.as_deref() {
            builder = builder.payment_method(code, payment_method_title(code));
        }
        for coupon in self.coupons {
            builder = builder.coupon(coupon);
        }
        for refund in refunds {
            builder = builder.refund(refund);
        }
        builder.build()
    }
}

fn at(seconds: i64) -> Result<OffsetDateTime, ConnectorError> {
    time::from_unix_seconds(seconds)
}

fn currency_of(currency: Option<&String>, id: &str) -> Result<String, ConnectorError> {
    currency
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| c.len() == 3)
        .ok_or_else(|| ConnectorError::other(format!("Stripe object {id} has no currency")))
}

/// The shipping cost as a charge (net amount) and what the customer paid for it.
fn map_shipping(cost: &ShippingCost, exp: u32) -> (ChargeLine, Decimal) {
    let net = from_minor(cost.amount_total - cost.amount_tax, exp);
    let tax = from_minor(cost.amount_tax, exp);
    let taxed: Vec<(i64, Option<i64>)> = cost
        .taxes
        .iter()
        .map(|t| (t.amount, t.taxable_amount))
        .collect();
    let rate = rate_percent(rate_object_percentages(&cost.taxes), &taxed, tax, net);
    let rate_id = id_of(cost.shipping_rate.as_ref());
    let title = cost
        .shipping_rate
        .as_ref()
        .and_then(|rate| rate.get("display_name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| "Shipping".to_owned());
    let line = ChargeLine::builder(title, net)
        .code(rate_id.as_deref())
        .tax_rate(rate)
        .tax_amount(tax)
        .build();
    (line, from_minor(cost.amount_total, exp))
}

fn coupon_names(discounts: impl Iterator<Item = Discount>) -> Vec<String> {
    discounts
        .filter_map(|discount| {
            discount
                .promotion_code
                .as_ref()
                .and_then(|code| code.get("code"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    let coupon = discount.coupon.as_ref()?;
                    coupon
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .or_else(|| id_of(Some(coupon)))
                })
        })
        .collect()
}

/// Refunds that give money back (pending ones are on their way; failed and cancelled
/// ones do not count).
fn counts(refund: &StripeRefund) -> bool {
    !matches!(
        refund.status.as_deref(),
        Some("failed" | "canceled" | "requires_action")
    )
}

fn refunded_sum(refunds: &[StripeRefund], exp: u32) -> Decimal {
    refunds
        .iter()
        .filter(|r| counts(r))
        .map(|r| from_minor(r.amount, exp))
        .sum()
}

/// Stripe's refunds as the contract's. A refund of the whole order names every line and
/// the shipping (what a credit note reverses); a partial refund is an amount only,
/// because Stripe refunds money, not items.
pub fn map_refunds(
    refunds: &[StripeRefund],
    exp: u32,
    lines: &[(Option<String>, Decimal, Decimal)],
    shipping_gross: Decimal,
    order_total: Decimal,
) -> Result<Vec<Refund>, ConnectorError> {
    let mut out = Vec::new();
    for refund in refunds.iter().filter(|r| counts(r)) {
        let amount = from_minor(refund.amount, exp);
        let mut builder = Refund::builder(amount)
            .platform_id(refund.id.as_deref())
            .created_at(refund.created.map(at).transpose()?)
            .reason(
                non_blank(refund.reason.as_deref())
                    .or_else(|| non_blank(refund.description.as_deref()))
                    .as_deref(),
            );
        if amount == order_total && !order_total.is_zero() {
            for (id, quantity, gross) in lines {
                builder = builder.line(id.as_deref(), None::<&str>, *quantity, *gross);
            }
            builder = builder.shipping(shipping_gross);
        }
        out.push(builder.build());
    }
    Ok(out)
}

pub fn invoice_status(
    status: &str,
    refunded: Decimal,
    total: Decimal,
) -> (OrderStatus, PaymentStatus) {
    match status {
        "paid" => refund_state(refunded, total),
        "void" => (OrderStatus::Cancelled, PaymentStatus::Voided),
        "uncollectible" => (OrderStatus::Failed, PaymentStatus::Unpaid),
        "open" => (OrderStatus::Pending, PaymentStatus::Unpaid),
        "draft" => (OrderStatus::Pending, PaymentStatus::Unpaid),
        _ => (OrderStatus::Other, PaymentStatus::Unknown),
    }
}

pub fn session_status(
    status: &str,
    payment: &str,
    refunded: Decimal,
    total: Decimal,
) -> (OrderStatus, PaymentStatus) {
    match (status, payment) {
        ("complete", "paid" | "no_payment_required") => refund_state(refunded, total),
        ("complete", _) => (OrderStatus::OnHold, PaymentStatus::Unpaid),
        ("expired", _) => (OrderStatus::Cancelled, PaymentStatus::Unpaid),
        ("open", _) => (OrderStatus::Pending, PaymentStatus::Unpaid),
        _ => (OrderStatus::Other, PaymentStatus::Unknown),
    }
}

fn refund_state(refunded: Decimal, total: Decimal) -> (OrderStatus, PaymentStatus) {
    if refunded.is_zero() {
        (OrderStatus::Processing, PaymentStatus::Paid)
    } else if refunded >= total {
        (OrderStatus::Refunded, PaymentStatus::Refunded)
    } else {
        (OrderStatus::Processing, PaymentStatus::PartiallyRefunded)
    }
}

/// The words people know a payment method type by.
pub fn payment_method_title(code: &str) -> String {
    match code {
        "card" => "Card".into(),
        "sepa_debit" => "SEPA Direct Debit".into(),
        "customer_balance" => "Bank transfer".into(),
        "ideal" => "iDEAL".into(),
        "bancontact" => "Bancontact".into(),
        "eps" => "EPS".into(),
        "sofort" => "Sofort".into(),
        "klarna" => "Klarna".into(),
        "paypal" => "PayPal".into(),
        "link" => "Link".into(),
        "us_bank_account" => "ACH Direct Debit".into(),
        "bacs_debit" => "Bacs Direct Debit".into(),
        "p24" => "Przelewy24".into(),
        "twint" => "TWINT".into(),
        other => other.replace('_', " "),
    }
}

fn map_customer(
    platform_id: Option<String>,
    name: Option<&str>,
    email: Option<String>,
    phone: Option<String>,
    tax_ids: &[TaxId],
) -> Option<Customer> {
    let (first_name, last_name) = split_name(name);
    if platform_id.is_none() && email.is_none() && name.is_none() {
        return None;
    }
    Some(Customer {
        platform_id,
        email,
        first_name,
        last_name,
        company: None,
        vat_id: vat_id(tax_ids),
        phone,
    })
}

/// The VAT number among the tax ids: an `eu_vat` one first, else any VAT-like id, else
/// the only one.
pub fn vat_id(tax_ids: &[TaxId]) -> Option<String> {
    let value = |id: &TaxId| non_blank(id.value.as_deref());
    fn kind(id: &TaxId) -> &str {
        id.kind.as_deref().unwrap_or("")
    }
    tax_ids
        .iter()
        .find(|id| kind(id) == "eu_vat")
        .and_then(value)
        .or_else(|| {
            tax_ids
                .iter()
                .find(|id| kind(id).ends_with("_vat"))
                .and_then(value)
        })
        .or_else(|| match tax_ids {
            [only] => value(only),
            _ => None,
        })
}

/// `"Ana Novak"` → (`Ana`, `Novak`); one word is a last name.
pub fn split_name(name: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return (None, None);
    };
    match name.rsplit_once(' ') {
        Some((first, last)) => (non_blank(Some(first)), non_blank(Some(last))),
        None => (None, Some(name.to_owned())),
    }
}

fn map_address(
    address: &StripeAddress,
    name: Option<&str>,
    email: Option<String>,
    phone: Option<String>,
) -> Address {
    let line1 = non_blank(address.line1.as_deref());
    let (street, house_number) = line1.as_deref().map_or((None, None), split_street);
    Address {
        name: non_blank(name),
        company: None,
        street,
        house_number,
        line1,
        line2: non_blank(address.line2.as_deref()),
        city: non_blank(address.city.as_deref()),
        postal_code: non_blank(address.postal_code.as_deref()),
        region: non_blank(address.state.as_deref()),
        country: non_blank(address.country.as_deref()).map(|c| c.to_ascii_uppercase()),
        phone,
        email,
    }
}
