//! The normalized order: what every connector and the custom-platform API deliver.
//!
//! It mirrors the connector contract's `order` record (`wit/connector-0.1.0/types.wit`)
//! with exact decimals and UTC times instead of strings. Its JSON form is the body of
//! `POST /api/v1/shops/{id}/orders`: snake_case field names, amounts and quantities as
//! decimal strings (`"19.99"`), times as RFC 3339 strings, optional and list fields may
//! be left out.
//!
//! Besides the types, this module holds [`content_hash`] (what makes two deliveries of
//! an order "identical"), [`validate`] (is the order self-consistent) and
//! [`StoredOrderState`] (what the host remembers about an imported order).

mod hash;
mod scrub;
mod stored;
mod timestamp;
mod validate;

pub use scrub::{is_unstorable, strip_unstorable};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::money;

pub use hash::content_hash;
pub use stored::{StoredOrderState, Touched};
pub use validate::{FieldProblem, validate};

/// An order as the shop reports it, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizedOrder {
    /// The platform's stable id of the order.
    pub id: String,
    /// The number the customer sees.
    pub number: String,
    /// The shop's status, normalized.
    pub status: OrderStatus,
    /// The platform's own status code (`"wc-processing"`), kept for status mappings.
    #[serde(default)]
    pub status_raw: String,
    /// Whether and how far the order is paid.
    #[serde(default)]
    pub payment_status: PaymentStatus,
    /// The payment method as the shop names it; mapped to a host method on import.
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// Whether line unit prices and discounts include tax. Required rather than
    /// defaulted: guessing the tax basis would silently produce wrong invoices.
    pub prices_include_tax: bool,
    /// When the order was placed.
    #[serde(with = "timestamp::required")]
    pub created_at: OffsetDateTime,
    /// When the platform last changed the order; versions of an order are ordered by it.
    #[serde(with = "timestamp::required")]
    pub modified_at: OffsetDateTime,
    /// When the order was paid, if it was.
    #[serde(default, with = "timestamp::optional")]
    pub paid_at: Option<OffsetDateTime>,
    /// The buyer; `None` when the platform tells nothing beyond the addresses.
    #[serde(default)]
    pub customer: Option<Customer>,
    /// Billing address.
    #[serde(default)]
    pub billing: Option<Address>,
    /// Shipping address.
    #[serde(default)]
    pub shipping: Option<Address>,
    /// Product lines, in the shop's order. Their positions identify them in documents.
    pub lines: Vec<LineItem>,
    /// Shipping charges.
    #[serde(default)]
    pub shipping_lines: Vec<ChargeLine>,
    /// Other charges that are not products (payment fees, packaging).
    #[serde(default)]
    pub fees: Vec<ChargeLine>,
    /// Coupon codes used.
    #[serde(default)]
    pub coupons: Vec<String>,
    /// Sum of the line discounts.
    #[serde(default, deserialize_with = "crate::decimal::number_or_string")]
    pub discount_total: Decimal,
    /// Sum of the shipping charges, excluding tax.
    #[serde(default, deserialize_with = "crate::decimal::number_or_string")]
    pub shipping_total: Decimal,
    /// All tax of the order.
    #[serde(default, deserialize_with = "crate::decimal::number_or_string")]
    pub tax_total: Decimal,
    /// What the customer pays, tax included.
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub total: Decimal,
    /// Refunds the shop has recorded.
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// The customer's note at checkout.
    #[serde(default)]
    pub customer_note: Option<String>,
    /// Pickup point (parcel locker, post office) chosen at checkout.
    #[serde(default)]
    pub pickup_point: Option<PickupPoint>,
}

/// The shop's order state, normalized. The raw state travels next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, waiting for payment or confirmation.
    Pending,
    /// Paid or confirmed, to be fulfilled.
    Processing,
    /// Held by the merchant.
    OnHold,
    /// Fulfilled.
    Completed,
    /// Cancelled before fulfilment.
    Cancelled,
    /// Money returned to the customer.
    Refunded,
    /// Payment failed.
    Failed,
    /// Anything the connector could not normalize.
    Other,
}

impl OrderStatus {
    /// The snake_case name used in JSON and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::OnHold => "on_hold",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
            Self::Other => "other",
        }
    }
}

/// Whether and how far an order is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing paid.
    Unpaid,
    /// Payment authorized, not captured.
    Authorized,
    /// Paid in full.
    Paid,
    /// Paid in part.
    PartiallyPaid,
    /// Refunded in part.
    PartiallyRefunded,
    /// Refunded in full.
    Refunded,
    /// Authorization voided.
    Voided,
    /// The platform does not say.
    #[default]
    Unknown,
}

impl PaymentStatus {
    /// The snake_case name used in JSON and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unpaid => "unpaid",
            Self::Authorized => "authorized",
            Self::Paid => "paid",
            Self::PartiallyPaid => "partially_paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
            Self::Unknown => "unknown",
        }
    }
}

/// A payment method exactly as the shop reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PaymentMethod {
    /// The platform's code (`"bacs"`, `"stripe"`).
    pub code: String,
    /// The title the customer saw (`"Direct bank transfer"`).
    #[serde(default)]
    pub title: String,
}

/// The buyer as the shop knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The platform's customer id; `None` for guest checkouts.
    #[serde(default)]
    pub platform_id: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Company name.
    #[serde(default)]
    pub company: Option<String>,
    /// VAT identification number, as typed.
    #[serde(default)]
    pub vat_id: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A postal address with street and house number kept apart, plus the line as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Recipient name.
    #[serde(default)]
    pub name: Option<String>,
    /// Company name.
    #[serde(default)]
    pub company: Option<String>,
    /// Street without the house number (`"Slovenska cesta"`).
    #[serde(default)]
    pub street: Option<String>,
    /// House number with any suffix (`"12a"`).
    #[serde(default)]
    pub house_number: Option<String>,
    /// The first address line exactly as the platform sent it.
    #[serde(default)]
    pub line1: Option<String>,
    /// Second address line.
    #[serde(default)]
    pub line2: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// Region or state.
    #[serde(default)]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default)]
    pub country: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

impl Address {
    /// The field names, as they are written in JSON.
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "company",
        "street",
        "house_number",
        "line1",
        "line2",
        "city",
        "postal_code",
        "region",
        "country",
        "phone",
        "email",
    ];
}

/// A product line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    /// The platform's id of this line.
    #[serde(default)]
    pub platform_line_id: Option<String>,
    /// Stock keeping unit, as the shop has it.
    #[serde(default)]
    pub sku: Option<String>,
    /// Product name as ordered.
    pub name: String,
    /// The platform's product id.
    #[serde(default)]
    pub product_id: Option<String>,
    /// The platform's variation id, for variable products.
    #[serde(default)]
    pub variation_id: Option<String>,
    /// The quantity to deliver: what was ordered, less what the shop removed or
    /// refunded with restock after checkout. Zero when nothing is left.
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub quantity: Decimal,
    /// The quantity at checkout, when the shop changed it since (an edited order).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::decimal::optional_number_or_string"
    )]
    pub ordered_quantity: Option<Decimal>,
    /// Price of one unit before the line discount; excluding tax unless the order's
    /// `prices_include_tax` is set.
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub unit_price: Decimal,
    /// Discount on the whole line, same tax basis as `unit_price`.
    #[serde(default, deserialize_with = "crate::decimal::number_or_string")]
    pub discount: Decimal,
    /// Tax rate in percent (`"22"`), when the shop says it.
    #[serde(
        default,
        deserialize_with = "crate::decimal::optional_number_or_string"
    )]
    pub tax_rate: Option<Decimal>,
    /// Tax of the whole line.
    #[serde(default, deserialize_with = "crate::decimal::number_or_string")]
    pub tax_amount: Decimal,
    /// Line total after discount, excluding tax.
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub total: Decimal,
}

impl LineItem {
    /// The VAT rate in percent: the shop's when given, otherwise derived from the tax
    /// and the net total (see [`derive_tax_rate`]).
    pub fn effective_tax_rate(&self) -> Decimal {
        self.tax_rate
            .unwrap_or_else(|| derive_tax_rate(self.tax_amount, self.total))
    }
}

/// Shipping or a fee: a charge that is not a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargeLine {
    /// The platform's id of this line.
    #[serde(default)]
    pub platform_line_id: Option<String>,
    /// The platform's method or fee code (`"flat_rate:3"`).
    #[serde(default)]
    pub code: Option<String>,
    /// What the customer saw.
    #[serde(default)]
    pub title: String,
    /// Amount excluding tax.
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub amount: Decimal,
    /// Tax rate in percent, when the shop says it.
    #[serde(
        default,
        deserialize_with = "crate::decimal::optional_number_or_string"
    )]
    pub tax_rate: Option<Decimal>,
    /// Tax on the amount.
    #[serde(default, deserialize_with = "crate::decimal::number_or_string")]
    pub tax_amount: Decimal,
}

impl ChargeLine {
    /// The VAT rate in percent: the shop's when given, otherwise derived from the tax
    /// and the amount (see [`derive_tax_rate`]).
    pub fn effective_tax_rate(&self) -> Decimal {
        self.tax_rate
            .unwrap_or_else(|| derive_tax_rate(self.tax_amount, self.amount))
    }
}

/// A refund the shop recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// The platform's id of the refund.
    #[serde(default)]
    pub platform_id: Option<String>,
    /// Amount refunded.
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub amount: Decimal,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// When.
    #[serde(default, with = "timestamp::optional")]
    pub created_at: Option<OffsetDateTime>,
    /// What was refunded, line by line (empty when the shop does not say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<RefundLine>,
    /// Shipping refunded, tax included.
    #[serde(default, deserialize_with = "crate::decimal::number_or_string")]
    pub shipping: Decimal,
    /// Whether the refunded goods went back to stock in the shop: only then does a
    /// credit note move stock back.
    #[serde(default)]
    pub restock: bool,
}

/// One line of a refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundLine {
    /// The order line refunded ([`LineItem::platform_line_id`]).
    #[serde(default)]
    pub platform_line_id: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub quantity: Decimal,
    /// Refunded for this line, tax included.
    #[serde(deserialize_with = "crate::decimal::number_or_string")]
    pub amount: Decimal,
}

/// A carrier's pickup point chosen at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupPoint {
    /// Which carrier runs it.
    #[serde(default)]
    pub carrier: Option<String>,
    /// The carrier's id of the point.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A tax rate in percent recovered from a tax amount and its base, for platforms that
/// do not send the rate.
///
/// Rounded to one decimal place: real rates have at most one (22, 9.5, 8.1), and the
/// shop's rounding of the tax to cents makes further places noise. A zero base gives 0.
/// Best effort on tiny bases, where one cent of tax is a large share; the document's
/// rounding line absorbs what remains.
pub fn derive_tax_rate(tax_amount: Decimal, base: Decimal) -> Decimal {
    if base.is_zero() {
        return Decimal::ZERO;
    }
    tax_amount
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|scaled| scaled.checked_div(base))
        .map(|rate| money::round_to(rate, 1))
        .unwrap_or(Decimal::ZERO)
}

#[cfg(test)]
mod tests;
