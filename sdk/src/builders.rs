//! Builders for the records a connector sends, so it does not spell out every field:
//! amounts as [`Decimal`], times as [`OffsetDateTime`], optional texts from `&str`,
//! `String` or `Option<..>` alike (blank texts become `None`).
//!
//! ```
//! use tovor_sdk::money::Decimal;
//! use tovor_sdk::time;
//! use tovor_sdk::types::{Address, ChargeLine, LineItem, Order, OrderStatus, PaymentStatus};
//!
//! # fn main() -> Result<(), tovor_sdk::types::ConnectorError> {
//! let placed = time::parse_rfc3339("2026-11-28T10:00:00Z")?;
//! let order = Order::builder("1042", "#1042", "eur")
//!     .status(OrderStatus::Processing, "paid")
//!     .payment_status(PaymentStatus::Paid)
//!     .created_at(placed)
//!     .billing(Address::builder().name("Ana Novak").street("Slovenska cesta", "12a").city("Ljubljana").country("si").build())
//!     .line(
//!         LineItem::builder("Mug", Decimal::from(2), Decimal::new(990, 2))
//!             .sku("MUG-1")
//!             .tax_rate(Decimal::from(22))
//!             .tax_amount(Decimal::new(436, 2))
//!             .build(),
//!     )
//!     .shipping_line(ChargeLine::builder("Parcel", Decimal::new(410, 2)).build())
//!     .build()?;
//! assert_eq!(order.currency, "EUR");
//! assert_eq!(order.lines[0].total, "19.80");
//! assert_eq!(order.billing.as_ref().and_then(|a| a.line1.as_deref()), Some("Slovenska cesta 12a"));
//! // Totals the builder was not given are summed from the lines.
//! assert_eq!((order.shipping_total.as_str(), order.tax_total.as_str(), order.total.as_str()), ("4.10", "4.36", "28.26"));
//! # Ok(())
//! # }
//! ```

use time::OffsetDateTime;

use crate::carrier::{CashOnDelivery, Parcel, ShipmentRequest};
use crate::money::{Decimal, format_decimal};
use crate::types::{
    Address, ChargeLine, ConnectorError, Customer, LineItem, Order, OrderStatus, PaymentMethod,
    PaymentStatus, PickupPoint, Refund, RefundLine, Timestamp,
};

/// An optional text: `&str`, `String`, `Option<&str>` or `Option<String>`; blank (or
/// all-whitespace) texts count as absent, surrounding blanks are trimmed.
pub trait IntoText {
    /// The text, trimmed, or `None` when absent or blank.
    fn into_text(self) -> Option<String>;
}

impl IntoText for &str {
    fn into_text(self) -> Option<String> {
        let trimmed = self.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }
}

impl IntoText for String {
    fn into_text(self) -> Option<String> {
        if self.trim().len() == self.len() {
            (!self.is_empty()).then_some(self)
        } else {
            self.as_str().into_text()
        }
    }
}

impl IntoText for &String {
    fn into_text(self) -> Option<String> {
        self.as_str().into_text()
    }
}

impl<T: IntoText> IntoText for Option<T> {
    fn into_text(self) -> Option<String> {
        self.and_then(IntoText::into_text)
    }
}

fn dec(value: Decimal) -> String {
    format_decimal(value)
}

/// Builds an [`Order`]; see [`Order::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct OrderBuilder {
    id: String,
    number: String,
    currency: String,
    status: OrderStatus,
    status_raw: String,
    payment_status: PaymentStatus,
    payment_method: Option<PaymentMethod>,
    prices_include_tax: bool,
    created_at: Option<OffsetDateTime>,
    modified_at: Option<OffsetDateTime>,
    paid_at: Option<OffsetDateTime>,
    customer: Option<Customer>,
    billing: Option<Address>,
    shipping: Option<Address>,
    lines: Vec<LineItem>,
    shipping_lines: Vec<ChargeLine>,
    fees: Vec<ChargeLine>,
    coupons: Vec<String>,
    discount_total: Option<Decimal>,
    shipping_total: Option<Decimal>,
    tax_total: Option<Decimal>,
    total: Option<Decimal>,
    refunds: Vec<Refund>,
    customer_note: Option<String>,
    pickup_point: Option<PickupPoint>,
}

impl Order {
    /// An order with the platform's id, the number the customer sees and the ISO 4217
    /// currency (upper-cased). Status `other` and payment `unknown` until set; the
    /// creation time is required, the modification time defaults to it; totals not set
    /// are computed from the lines ([`OrderBuilder::build`]).
    pub fn builder(
        id: impl Into<String>,
        number: impl Into<String>,
        currency: impl Into<String>,
    ) -> OrderBuilder {
        OrderBuilder {
            id: id.into(),
            number: number.into(),
            currency: currency.into().trim().to_ascii_uppercase(),
            status: OrderStatus::Other,
            status_raw: String::new(),
            payment_status: PaymentStatus::Unknown,
            payment_method: None,
            prices_include_tax: false,
            created_at: None,
            modified_at: None,
            paid_at: None,
            customer: None,
            billing: None,
            shipping: None,
            lines: Vec::new(),
            shipping_lines: Vec::new(),
            fees: Vec::new(),
            coupons: Vec::new(),
            discount_total: None,
            shipping_total: None,
            tax_total: None,
            total: None,
            refunds: Vec::new(),
            customer_note: None,
            pickup_point: None,
        }
    }
}

impl OrderBuilder {
    /// The normalized status and the platform's own code for it.
    pub fn status(mut self, status: OrderStatus, raw: impl Into<String>) -> Self {
        self.status = status;
        self.status_raw = raw.into();
        self
    }

    /// The payment status.
    pub fn payment_status(mut self, status: PaymentStatus) -> Self {
        self.payment_status = status;
        self
    }

    /// The payment method as the shop reports it (code and title).
    pub fn payment_method(mut self, code: impl Into<String>, title: impl Into<String>) -> Self {
        self.payment_method = Some(PaymentMethod {
            code: code.into(),
            title: title.into(),
        });
        self
    }

    /// Whether unit prices include tax (default: no).
    pub fn prices_include_tax(mut self, include: bool) -> Self {
        self.prices_include_tax = include;
        self
    }

    /// When the order was placed (required).
    pub fn created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = Some(at);
        self
    }

    /// When the platform last changed the order (default: the creation time).
    pub fn modified_at(mut self, at: OffsetDateTime) -> Self {
        self.modified_at = Some(at);
        self
    }

    /// When it was paid.
    pub fn paid_at(mut self, at: impl Into<Option<OffsetDateTime>>) -> Self {
        self.paid_at = at.into();
        self
    }

    /// The customer.
    pub fn customer(mut self, customer: impl Into<Option<Customer>>) -> Self {
        self.customer = customer.into();
        self
    }

    /// The billing address.
    pub fn billing(mut self, address: impl Into<Option<Address>>) -> Self {
        self.billing = address.into();
        self
    }

    /// The shipping address.
    pub fn shipping_address(mut self, address: impl Into<Option<Address>>) -> Self {
        self.shipping = address.into();
        self
    }

    /// Adds a product line.
    pub fn line(mut self, line: LineItem) -> Self {
        self.lines.push(line);
        self
    }

    /// Adds product lines.
    pub fn lines(mut self, lines: impl IntoIterator<Item = LineItem>) -> Self {
        self.lines.extend(lines);
        self
    }

    /// Adds a shipping charge.
    pub fn shipping_line(mut self, line: ChargeLine) -> Self {
        self.shipping_lines.push(line);
        self
    }

    /// Adds a fee.
    pub fn fee(mut self, fee: ChargeLine) -> Self {
        self.fees.push(fee);
        self
    }

    /// Adds a coupon code.
    pub fn coupon(mut self, code: impl Into<String>) -> Self {
        self.coupons.push(code.into());
        self
    }

    /// The order's discount (default: the sum of the lines' discounts).
    pub fn discount_total(mut self, amount: Decimal) -> Self {
        self.discount_total = Some(amount);
        self
    }

    /// The shipping total (default: the sum of the shipping lines, tax excluded).
    pub fn shipping_total(mut self, amount: Decimal) -> Self {
        self.shipping_total = Some(amount);
        self
    }

    /// The tax total (default: the tax of the lines, shipping lines and fees).
    pub fn tax_total(mut self, amount: Decimal) -> Self {
        self.tax_total = Some(amount);
        self
    }

    /// What the customer pays, tax included (default: lines, shipping and fees without
    /// tax, plus the tax total). Set it whenever the platform states it.
    pub fn total(mut self, amount: Decimal) -> Self {
        self.total = Some(amount);
        self
    }

    /// Adds a refund.
    pub fn refund(mut self, refund: Refund) -> Self {
        self.refunds.push(refund);
        self
    }

    /// The customer's note (blank is none).
    pub fn customer_note(mut self, note: impl IntoText) -> Self {
        self.customer_note = note.into_text();
        self
    }

    /// The pickup point the customer chose.
    pub fn pickup_point(mut self, point: impl Into<Option<PickupPoint>>) -> Self {
        self.pickup_point = point.into();
        self
    }

    /// The order; `invalid-input` when the creation time is missing, or a line's
    /// amount is not a decimal (only possible when a line was built by hand).
    pub fn build(self) -> Result<Order, ConnectorError> {
        let created_at = self.created_at.ok_or_else(|| {
            ConnectorError::invalid_field(
                "created-at",
                format!("order {}: the creation time is missing", self.id),
            )
        })?;
        let line_totals = sum(self.lines.iter().map(|line| &line.total), "lines", "total")?;
        let (shipping_amounts, shipping_tax) = charges(&self.shipping_lines, "shipping-lines")?;
        let (fee_amounts, fee_tax) = charges(&self.fees, "fees")?;
        let discount_total = match self.discount_total {
            Some(value) => value,
            None => sum(
                self.lines.iter().map(|line| &line.discount),
                "lines",
                "discount",
            )?,
        };
        let tax_total = match self.tax_total {
            Some(value) => value,
            None => {
                sum(
                    self.lines.iter().map(|line| &line.tax_amount),
                    "lines",
                    "tax-amount",
                )? + shipping_tax
                    + fee_tax
            }
        };
        let shipping_total = self.shipping_total.unwrap_or(shipping_amounts);
        let total = self
            .total
            .unwrap_or(line_totals + shipping_amounts + fee_amounts + tax_total);
        Ok(Order {
            id: self.id,
            number: self.number,
            status: self.status,
            status_raw: self.status_raw,
            payment_status: self.payment_status,
            payment_method: self.payment_method,
            currency: self.currency,
            prices_include_tax: self.prices_include_tax,
            created_at: Timestamp::from(created_at),
            modified_at: Timestamp::from(self.modified_at.unwrap_or(created_at)),
            paid_at: self.paid_at.map(Timestamp::from),
            customer: self.customer,
            billing: self.billing,
            shipping: self.shipping,
            lines: self.lines,
            shipping_lines: self.shipping_lines,
            fees: self.fees,
            coupons: self.coupons,
            discount_total: dec(discount_total),
            shipping_total: dec(shipping_total),
            tax_total: dec(tax_total),
            total: dec(total),
            refunds: self.refunds,
            customer_note: self.customer_note,
            pickup_point: self.pickup_point,
        })
    }
}

/// The sum of contract decimals, naming `list[i].field` when one is not a decimal.
fn sum<'a>(
    values: impl Iterator<Item = &'a String>,
    list: &str,
    field: &str,
) -> Result<Decimal, ConnectorError> {
    values
        .enumerate()
        .try_fold(Decimal::ZERO, |total, (index, text)| {
            crate::money::from_contract(text, &format!("{list}[{index}].{field}"))
                .map(|value| total + value)
        })
}

/// The amounts and the tax of charge lines.
fn charges(lines: &[ChargeLine], list: &str) -> Result<(Decimal, Decimal), ConnectorError> {
    Ok((
        sum(lines.iter().map(|line| &line.amount), list, "amount")?,
        sum(
            lines.iter().map(|line| &line.tax_amount),
            list,
            "tax-amount",
        )?,
    ))
}

/// Builds a [`LineItem`]; see [`LineItem::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct LineItemBuilder {
    line: LineItem,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    total: Option<Decimal>,
}

impl LineItem {
    /// A product line: name, quantity still to deliver, unit price before discount. The
    /// total defaults to quantity × unit price − discount, which is right when prices
    /// exclude tax; set [`LineItemBuilder::total`] when they include it.
    pub fn builder(
        name: impl Into<String>,
        quantity: Decimal,
        unit_price: Decimal,
    ) -> LineItemBuilder {
        LineItemBuilder {
            line: LineItem {
                platform_line_id: None,
                sku: None,
                name: name.into(),
                product_id: None,
                variation_id: None,
                quantity: String::new(),
                ordered_quantity: None,
                unit_price: String::new(),
                discount: String::new(),
                tax_rate: None,
                tax_amount: "0".into(),
                total: String::new(),
            },
            quantity,
            unit_price,
            discount: Decimal::ZERO,
            total: None,
        }
    }
}

impl LineItemBuilder {
    /// The platform's id of the line.
    pub fn platform_line_id(mut self, id: impl IntoText) -> Self {
        self.line.platform_line_id = id.into_text();
        self
    }

    /// The SKU (blank is none).
    pub fn sku(mut self, sku: impl IntoText) -> Self {
        self.line.sku = sku.into_text();
        self
    }

    /// The platform's product id.
    pub fn product_id(mut self, id: impl IntoText) -> Self {
        self.line.product_id = id.into_text();
        self
    }

    /// The platform's variation id.
    pub fn variation_id(mut self, id: impl IntoText) -> Self {
        self.line.variation_id = id.into_text();
        self
    }

    /// The quantity at checkout, when the shop changed it since.
    pub fn ordered_quantity(mut self, quantity: impl Into<Option<Decimal>>) -> Self {
        self.line.ordered_quantity = quantity.into().map(dec);
        self
    }

    /// The discount on the whole line (default 0).
    pub fn discount(mut self, discount: Decimal) -> Self {
        self.discount = discount;
        self
    }

    /// The tax rate in percent.
    pub fn tax_rate(mut self, rate: impl Into<Option<Decimal>>) -> Self {
        self.line.tax_rate = rate.into().map(dec);
        self
    }

    /// The line's tax (default 0).
    pub fn tax_amount(mut self, amount: Decimal) -> Self {
        self.line.tax_amount = dec(amount);
        self
    }

    /// The line total after discount, excluding tax.
    pub fn total(mut self, total: Decimal) -> Self {
        self.total = Some(total);
        self
    }

    /// The line.
    pub fn build(self) -> LineItem {
        let total = self
            .total
            .unwrap_or(self.quantity * self.unit_price - self.discount);
        LineItem {
            quantity: dec(self.quantity),
            unit_price: dec(self.unit_price),
            discount: dec(self.discount),
            total: dec(total),
            ..self.line
        }
    }
}

/// Builds an [`Address`]; see [`Address::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct AddressBuilder {
    address: Address,
}

impl Address {
    /// An empty address; every setter takes an optional text.
    pub fn builder() -> AddressBuilder {
        AddressBuilder {
            address: Address {
                name: None,
                company: None,
                street: None,
                house_number: None,
                line1: None,
                line2: None,
                city: None,
                postal_code: None,
                region: None,
                country: None,
                phone: None,
                email: None,
            },
        }
    }
}

impl AddressBuilder {
    /// The recipient's name.
    pub fn name(mut self, name: impl IntoText) -> Self {
        self.address.name = name.into_text();
        self
    }

    /// The company.
    pub fn company(mut self, company: impl IntoText) -> Self {
        self.address.company = company.into_text();
        self
    }

    /// Street and house number, kept apart; also the first line (`"street number"`)
    /// unless [`AddressBuilder::line1`] sets it.
    pub fn street(mut self, street: impl IntoText, house_number: impl IntoText) -> Self {
        self.address.street = street.into_text();
        self.address.house_number = house_number.into_text();
        self
    }

    /// The first address line exactly as the platform sent it.
    pub fn line1(mut self, line: impl IntoText) -> Self {
        self.address.line1 = line.into_text();
        self
    }

    /// The second address line.
    pub fn line2(mut self, line: impl IntoText) -> Self {
        self.address.line2 = line.into_text();
        self
    }

    /// The city.
    pub fn city(mut self, city: impl IntoText) -> Self {
        self.address.city = city.into_text();
        self
    }

    /// The postal code.
    pub fn postal_code(mut self, code: impl IntoText) -> Self {
        self.address.postal_code = code.into_text();
        self
    }

    /// The region or state.
    pub fn region(mut self, region: impl IntoText) -> Self {
        self.address.region = region.into_text();
        self
    }

    /// The ISO 3166-1 alpha-2 country code (upper-cased).
    pub fn country(mut self, country: impl IntoText) -> Self {
        self.address.country = country
            .into_text()
            .map(|country| country.to_ascii_uppercase());
        self
    }

    /// The phone number.
    pub fn phone(mut self, phone: impl IntoText) -> Self {
        self.address.phone = phone.into_text();
        self
    }

    /// The e-mail address.
    pub fn email(mut self, email: impl IntoText) -> Self {
        self.address.email = email.into_text();
        self
    }

    /// The address.
    pub fn build(mut self) -> Address {
        if self.address.line1.is_none() {
            self.address.line1 = match (&self.address.street, &self.address.house_number) {
                (Some(street), Some(number)) => Some(format!("{street} {number}")),
                (Some(street), None) => Some(street.clone()),
                _ => None,
            };
        }
        self.address
    }
}

/// Builds a [`ChargeLine`]; see [`ChargeLine::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ChargeLineBuilder {
    line: ChargeLine,
}

impl ChargeLine {
    /// A shipping charge or fee: its title and amount excluding tax.
    pub fn builder(title: impl Into<String>, amount: Decimal) -> ChargeLineBuilder {
        ChargeLineBuilder {
            line: ChargeLine {
                platform_line_id: None,
                code: None,
                title: title.into(),
                amount: dec(amount),
                tax_rate: None,
                tax_amount: "0".into(),
            },
        }
    }
}

impl ChargeLineBuilder {
    /// The platform's id of the line.
    pub fn platform_line_id(mut self, id: impl IntoText) -> Self {
        self.line.platform_line_id = id.into_text();
        self
    }

    /// The platform's method or fee code (`"flat_rate:3"`).
    pub fn code(mut self, code: impl IntoText) -> Self {
        self.line.code = code.into_text();
        self
    }

    /// The tax rate in percent.
    pub fn tax_rate(mut self, rate: impl Into<Option<Decimal>>) -> Self {
        self.line.tax_rate = rate.into().map(dec);
        self
    }

    /// The tax on it (default 0).
    pub fn tax_amount(mut self, amount: Decimal) -> Self {
        self.line.tax_amount = dec(amount);
        self
    }

    /// The line.
    pub fn build(self) -> ChargeLine {
        self.line
    }
}

/// Builds a [`Refund`]; see [`Refund::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct RefundBuilder {
    refund: Refund,
}

impl Refund {
    /// A refund of `amount`, tax included.
    pub fn builder(amount: Decimal) -> RefundBuilder {
        RefundBuilder {
            refund: Refund {
                platform_id: None,
                created_at: None,
                reason: None,
                amount: dec(amount),
                lines: Vec::new(),
                shipping: "0".into(),
                restock: false,
            },
        }
    }
}

impl RefundBuilder {
    /// The platform's id of the refund.
    pub fn platform_id(mut self, id: impl IntoText) -> Self {
        self.refund.platform_id = id.into_text();
        self
    }

    /// When it was made.
    pub fn created_at(mut self, at: impl Into<Option<OffsetDateTime>>) -> Self {
        self.refund.created_at = at.into().map(Timestamp::from);
        self
    }

    /// Why.
    pub fn reason(mut self, reason: impl IntoText) -> Self {
        self.refund.reason = reason.into_text();
        self
    }

    /// A refunded line: the order line (`platform_line_id`), its SKU, the quantity and
    /// the amount refunded for it, tax included.
    pub fn line(
        mut self,
        platform_line_id: impl IntoText,
        sku: impl IntoText,
        quantity: Decimal,
        amount: Decimal,
    ) -> Self {
        self.refund.lines.push(RefundLine {
            platform_line_id: platform_line_id.into_text(),
            sku: sku.into_text(),
            quantity: dec(quantity),
            amount: dec(amount),
        });
        self
    }

    /// Shipping refunded, tax included (default 0).
    pub fn shipping(mut self, amount: Decimal) -> Self {
        self.refund.shipping = dec(amount);
        self
    }

    /// Whether the items went back to stock on the platform (default: no).
    pub fn restock(mut self, restock: bool) -> Self {
        self.refund.restock = restock;
        self
    }

    /// The refund.
    pub fn build(self) -> Refund {
        self.refund
    }
}

/// Builds a [`ShipmentRequest`]; see [`ShipmentRequest::builder`]. Mostly for tests of
/// carrier connectors: the host sends the requests.
#[derive(Debug, Clone)]
#[must_use]
pub struct ShipmentRequestBuilder {
    request: ShipmentRequest,
}

impl ShipmentRequest {
    /// A request with our unique reference, the sender and the recipient.
    pub fn builder(
        reference: impl Into<String>,
        sender: Address,
        recipient: Address,
    ) -> ShipmentRequestBuilder {
        ShipmentRequestBuilder {
            request: ShipmentRequest {
                reference: reference.into(),
                sender,
                recipient,
                parcels: Vec::new(),
                cash_on_delivery: None,
                pickup_point: None,
                services: Vec::new(),
                value: None,
                currency: None,
                note: None,
            },
        }
    }
}

impl ShipmentRequestBuilder {
    /// Adds a parcel of `weight_grams` without dimensions.
    pub fn parcel(self, weight_grams: u32) -> Self {
        self.parcel_with(Parcel {
            weight_grams,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        })
    }

    /// Adds a parcel.
    pub fn parcel_with(mut self, parcel: Parcel) -> Self {
        self.request.parcels.push(parcel);
        self
    }

    /// Cash on delivery of `amount` in `currency`, with a payment reference.
    pub fn cash_on_delivery(
        mut self,
        amount: Decimal,
        currency: impl Into<String>,
        reference: impl IntoText,
    ) -> Self {
        self.request.cash_on_delivery = Some(CashOnDelivery {
            amount: dec(amount),
            currency: currency.into(),
            reference: reference.into_text(),
        });
        self
    }

    /// Delivery to a pickup point.
    pub fn pickup_point(mut self, point: PickupPoint) -> Self {
        self.request.pickup_point = Some(point);
        self
    }

    /// Adds a carrier service code.
    pub fn service(mut self, code: impl Into<String>) -> Self {
        self.request.services.push(code.into());
        self
    }

    /// The declared value of the contents.
    pub fn value(mut self, value: Decimal, currency: impl Into<String>) -> Self {
        self.request.value = Some(dec(value));
        self.request.currency = Some(currency.into());
        self
    }

    /// A note for the carrier.
    pub fn note(mut self, note: impl IntoText) -> Self {
        self.request.note = note.into_text();
        self
    }

    /// The request; `invalid-input` naming `parcels` when there is none.
    pub fn build(self) -> Result<ShipmentRequest, ConnectorError> {
        if self.request.parcels.is_empty() {
            return Err(ConnectorError::invalid_field(
                "parcels",
                format!("shipment {}: no parcels", self.request.reference),
            ));
        }
        Ok(self.request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn d(text: &str) -> Decimal {
        crate::money::parse_decimal(text).unwrap()
    }

    #[test]
    fn texts_are_optional_and_trimmed() {
        assert_eq!("  a ".into_text().as_deref(), Some("a"));
        assert_eq!("   ".into_text(), None);
        assert_eq!(String::from("b").into_text().as_deref(), Some("b"));
        assert_eq!(String::new().into_text(), None);
        assert_eq!(Some(" c").into_text().as_deref(), Some("c"));
        assert_eq!(None::<String>.into_text(), None);
    }

    #[test]
    fn orders_compute_missing_totals() {
        let order = Order::builder("7", "A-7", " eur ")
            .created_at(datetime!(2026-11-28 10:00 +01:00))
            .line(
                LineItem::builder("Mug", d("2"), d("9.90"))
                    .discount(d("1.80"))
                    .tax_amount(d("3.96"))
                    .build(),
            )
            .shipping_line(
                ChargeLine::builder("Parcel", d("4.10"))
                    .tax_amount(d("0.90"))
                    .build(),
            )
            .fee(ChargeLine::builder("COD", d("1")).build())
            .customer_note("  ")
            .build()
            .unwrap();
        assert_eq!(order.currency, "EUR");
        assert_eq!(order.status, OrderStatus::Other);
        assert_eq!(order.payment_status, PaymentStatus::Unknown);
        assert_eq!(
            order.created_at,
            Timestamp::from(datetime!(2026-11-28 09:00 UTC))
        );
        assert_eq!(order.modified_at, order.created_at);
        assert_eq!(order.lines[0].total, "18.00");
        assert_eq!(order.discount_total, "1.80");
        assert_eq!(order.shipping_total, "4.10");
        assert_eq!(order.tax_total, "4.86");
        assert_eq!(order.total, "27.96");
        assert_eq!(order.customer_note, None);
    }

    #[test]
    fn explicit_totals_win_and_creation_time_is_required() {
        let order = Order::builder("7", "7", "EUR")
            .status(OrderStatus::Completed, "shipped")
            .payment_method("cod", "Cash on delivery")
            .created_at(datetime!(2026-01-01 00:00 UTC))
            .modified_at(datetime!(2026-01-02 00:00 UTC))
            .paid_at(datetime!(2026-01-01 12:00 UTC))
            .total(d("10.50"))
            .tax_total(d("1.89"))
            .coupon("WELCOME")
            .refund(
                Refund::builder(d("5"))
                    .line("1", "MUG-1", d("1"), d("5"))
                    .restock(true)
                    .build(),
            )
            .build()
            .unwrap();
        assert_eq!(
            (order.total.as_str(), order.tax_total.as_str()),
            ("10.50", "1.89")
        );
        assert_eq!(order.status_raw, "shipped");
        assert_eq!(order.refunds[0].lines[0].sku.as_deref(), Some("MUG-1"));
        assert!(order.paid_at.is_some());
        let error = Order::builder("8", "8", "EUR").build().unwrap_err();
        assert_eq!(error.field.as_deref(), Some("created-at"));
        assert!(error.message.contains("order 8"));
    }

    #[test]
    fn addresses_fill_the_first_line() {
        let address = Address::builder()
            .name(Some("Ana Novak"))
            .street("Slovenska cesta", "12a")
            .postal_code("1000")
            .country(" si")
            .email(None::<&str>)
            .build();
        assert_eq!(address.line1.as_deref(), Some("Slovenska cesta 12a"));
        assert_eq!(address.country.as_deref(), Some("SI"));
        assert_eq!(address.email, None);
        let raw = Address::builder().line1("Trg 3").street("Trg", "3").build();
        assert_eq!(raw.line1.as_deref(), Some("Trg 3"));
    }

    #[test]
    fn shipment_requests_need_parcels() {
        let sender = Address::builder().name("Shop").build();
        let recipient = Address::builder().name("Ana").build();
        let request = ShipmentRequest::builder("S-1", sender.clone(), recipient.clone())
            .parcel(1200)
            .parcel(800)
            .cash_on_delivery(d("29.16"), "EUR", "1042")
            .value(d("29.16"), "EUR")
            .service("SMS")
            .build()
            .unwrap();
        assert_eq!(request.total_weight_grams(), 2000);
        assert_eq!(
            request
                .cash_on_delivery
                .as_ref()
                .map(|c| c.amount_decimal().unwrap()),
            Some(d("29.16"))
        );
        assert_eq!(request.value_decimal().unwrap(), Some(d("29.16")));
        let error = ShipmentRequest::builder("S-2", sender, recipient)
            .build()
            .unwrap_err();
        assert_eq!(error.field.as_deref(), Some("parcels"));
    }
}
