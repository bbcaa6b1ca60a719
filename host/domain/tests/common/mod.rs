//! Order generators that compute their amounts the way shops do.

#![allow(dead_code, clippy::unwrap_used)]

use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use time::OffsetDateTime;
use tovor_domain::order::{
    Address, ChargeLine, Customer, LineItem, NormalizedOrder, OrderStatus, PaymentMethod,
    PaymentStatus,
};

pub fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

pub fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_772_366_400 + seconds).unwrap()
}

fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// How the shop rounds tax.
#[derive(Debug, Clone, Copy)]
pub enum TaxRounding {
    PerLine,
    PerOrder,
}

#[derive(Debug, Clone)]
pub struct LineSpec {
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_percent: u32,
    pub rate: Decimal,
    pub rate_known: bool,
    pub sku: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChargeSpec {
    pub amount: Decimal,
    pub rate: Decimal,
}

#[derive(Debug, Clone)]
pub struct OrderSpec {
    pub gross_prices: bool,
    pub rounding: TaxRounding,
    pub lines: Vec<LineSpec>,
    pub shipping: Vec<ChargeSpec>,
    pub fees: Vec<ChargeSpec>,
}

pub fn rate() -> impl Strategy<Value = Decimal> {
    prop::sample::select(vec![d("0"), d("5"), d("8.1"), d("9.5"), d("22")])
}

fn line_spec() -> impl Strategy<Value = LineSpec> {
    (
        prop_oneof![
            (1u32..=10).prop_map(Decimal::from),
            (1u32..=20).prop_map(|halves| Decimal::new(i64::from(halves) * 5, 1))
        ],
        prop_oneof![
            (0i64..=50_000).prop_map(|c| Decimal::new(c, 2)),
            // Unit prices with four places, as gross-to-net conversions leave them.
            (0i64..=5_000_000).prop_map(|c| Decimal::new(c, 4)),
        ],
        prop_oneof![Just(0u32), 0u32..=60],
        rate(),
        prop::bool::weighted(0.8),
        prop::option::weighted(0.8, "[A-Z]{2,4}-[0-9]{1,3}"),
    )
        .prop_map(
            |(quantity, unit_price, discount_percent, rate, rate_known, sku)| LineSpec {
                quantity,
                unit_price,
                discount_percent,
                rate,
                rate_known,
                sku,
            },
        )
}

fn charge_spec() -> impl Strategy<Value = ChargeSpec> {
    ((0i64..=3_000).prop_map(|c| Decimal::new(c, 2)), rate())
        .prop_map(|(amount, rate)| ChargeSpec { amount, rate })
}

pub fn order_spec() -> impl Strategy<Value = OrderSpec> {
    (
        any::<bool>(),
        prop_oneof![Just(TaxRounding::PerLine), Just(TaxRounding::PerOrder)],
        prop::collection::vec(line_spec(), 1..=8),
        prop::collection::vec(charge_spec(), 0..=2),
        prop::collection::vec(charge_spec(), 0..=1),
    )
        .prop_map(
            |(gross_prices, rounding, lines, shipping, fees)| OrderSpec {
                gross_prices,
                rounding,
                lines,
                shipping,
                fees,
            },
        )
}

/// Builds the order a shop would send for `spec`, doing the shop's own arithmetic.
pub fn build(spec: &OrderSpec) -> NormalizedOrder {
    let hundred = Decimal::ONE_HUNDRED;
    let mut lines = Vec::new();
    // Per rate: the base the shop taxes at order level.
    let mut bases: Vec<(Decimal, Decimal)> = Vec::new();
    let mut add_base =
        |rate: Decimal, base: Decimal| match bases.iter_mut().find(|(r, _)| *r == rate) {
            Some((_, sum)) => *sum += base,
            None => bases.push((rate, base)),
        };
    for (index, line) in spec.lines.iter().enumerate() {
        let before_discount = line.quantity * line.unit_price;
        let discount = cents(before_discount * Decimal::from(line.discount_percent) / hundred);
        let amount = cents(before_discount - discount);
        let (total, tax) = if spec.gross_prices {
            let tax = cents(amount * line.rate / (hundred + line.rate));
            add_base(line.rate, amount);
            (amount - tax, tax)
        } else {
            add_base(line.rate, amount);
            (amount, cents(amount * line.rate / hundred))
        };
        lines.push(LineItem {
            platform_line_id: Some(format!("{}", 100 + index)),
            sku: line.sku.clone(),
            name: format!("Product {index}"),
            product_id: Some(format!("{}", 500 + index)),
            variation_id: None,
            quantity: line.quantity,
            ordered_quantity: None,
            unit_price: line.unit_price,
            discount,
            tax_rate: line.rate_known.then_some(line.rate),
            tax_amount: tax,
            total,
        });
    }
    let charge = |spec: &ChargeSpec, title: String| ChargeLine {
        platform_line_id: None,
        code: Some(title.to_lowercase()),
        title,
        amount: spec.amount,
        tax_rate: Some(spec.rate),
        tax_amount: cents(spec.amount * spec.rate / hundred),
    };
    let shipping_lines: Vec<ChargeLine> = spec
        .shipping
        .iter()
        .enumerate()
        .map(|(n, c)| charge(c, format!("Shipping{n}")))
        .collect();
    let fees: Vec<ChargeLine> = spec
        .fees
        .iter()
        .enumerate()
        .map(|(n, c)| charge(c, format!("Fee{n}")))
        .collect();

    let charge_tax: Decimal = shipping_lines
        .iter()
        .chain(&fees)
        .map(|c| c.tax_amount)
        .sum();
    let line_tax: Decimal = match spec.rounding {
        TaxRounding::PerLine => lines.iter().map(|l| l.tax_amount).sum(),
        TaxRounding::PerOrder => bases
            .iter()
            .map(|(rate, base)| {
                if spec.gross_prices {
                    cents(base * rate / (hundred + rate))
                } else {
                    cents(base * rate / hundred)
                }
            })
            .sum(),
    };
    let tax_total = line_tax + charge_tax;
    let total = lines.iter().map(|l| l.total).sum::<Decimal>()
        + shipping_lines
            .iter()
            .chain(&fees)
            .map(|c| c.amount)
            .sum::<Decimal>()
        + tax_total;
    NormalizedOrder {
        id: "9001".into(),
        number: "9001".into(),
        status: OrderStatus::Processing,
        status_raw: "processing".into(),
        payment_status: PaymentStatus::Paid,
        payment_method: Some(PaymentMethod {
            code: "cod".into(),
            title: "Cash on delivery".into(),
        }),
        currency: "EUR".into(),
        prices_include_tax: spec.gross_prices,
        created_at: at(0),
        modified_at: at(10),
        paid_at: None,
        customer: Some(Customer {
            email: Some("buyer@example.com".into()),
            ..Customer::default()
        }),
        billing: Some(Address {
            city: Some("Ljubljana".into()),
            ..Address::default()
        }),
        shipping: None,
        discount_total: lines.iter().map(|l| l.discount).sum(),
        lines,
        shipping_total: shipping_lines.iter().map(|c| c.amount).sum(),
        shipping_lines,
        fees,
        coupons: vec![],
        tax_total,
        total,
        refunds: vec![],
        customer_note: None,
        pickup_point: None,
    }
}

pub fn order() -> impl Strategy<Value = NormalizedOrder> {
    order_spec().prop_map(|spec| build(&spec))
}

pub fn status() -> impl Strategy<Value = OrderStatus> {
    prop::sample::select(vec![
        OrderStatus::Pending,
        OrderStatus::Processing,
        OrderStatus::OnHold,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
        OrderStatus::Failed,
        OrderStatus::Other,
    ])
}
