//! Orders for unit tests.

use rust_decimal::Decimal;
use time::OffsetDateTime;

use crate::order::{
    Address, ChargeLine, Customer, LineItem, NormalizedOrder, OrderStatus, PaymentMethod,
    PaymentStatus,
};

pub fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// `2026-03-01T12:00:00Z` plus `seconds`.
pub fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_772_366_400 + seconds).unwrap()
}

/// An order line; arguments in the order of the line's JSON fields.
#[allow(clippy::too_many_arguments)]
pub fn line(
    id: &str,
    sku: &str,
    name: &str,
    quantity: &str,
    unit_price: &str,
    discount: &str,
    rate: &str,
    tax: &str,
    total: &str,
) -> LineItem {
    LineItem {
        platform_line_id: Some(id.into()),
        sku: Some(sku.into()),
        name: name.into(),
        product_id: Some(format!("p{id}")),
        variation_id: None,
        quantity: d(quantity),
        ordered_quantity: None,
        unit_price: d(unit_price),
        discount: d(discount),
        tax_rate: Some(d(rate)),
        tax_amount: d(tax),
        total: d(total),
    }
}

pub fn charge(title: &str, amount: &str, rate: &str, tax: &str) -> ChargeLine {
    ChargeLine {
        platform_line_id: None,
        code: Some(title.to_lowercase().replace(' ', "_")),
        title: title.into(),
        amount: d(amount),
        tax_rate: Some(d(rate)),
        tax_amount: d(tax),
    }
}

/// A consistent net-priced order: two lines at 22 % and 9.5 %, one shipping line.
pub fn order() -> NormalizedOrder {
    let address = Address {
        name: Some("Ana Novak".into()),
        street: Some("Slovenska cesta".into()),
        house_number: Some("12a".into()),
        line1: Some("Slovenska cesta 12a".into()),
        city: Some("Ljubljana".into()),
        postal_code: Some("1000".into()),
        country: Some("SI".into()),
        email: Some("ana@example.com".into()),
        ..Address::default()
    };
    NormalizedOrder {
        id: "501".into(),
        number: "1001".into(),
        status: OrderStatus::Processing,
        status_raw: "wc-processing".into(),
        payment_status: PaymentStatus::Paid,
        payment_method: Some(PaymentMethod {
            code: "bacs".into(),
            title: "Bank transfer".into(),
        }),
        currency: "EUR".into(),
        prices_include_tax: false,
        created_at: at(0),
        modified_at: at(60),
        paid_at: Some(at(30)),
        customer: Some(Customer {
            platform_id: Some("77".into()),
            email: Some("Ana@Example.com".into()),
            first_name: Some("Ana".into()),
            last_name: Some("Novak".into()),
            ..Customer::default()
        }),
        billing: Some(address.clone()),
        shipping: Some(address),
        lines: vec![
            line(
                "11", "MUG", "Mug", "2", "10.00", "1.00", "22", "4.18", "19.00",
            ),
            line("12", "TEA", "Tea", "3", "4.59", "0", "9.5", "1.31", "13.77"),
        ],
        shipping_lines: vec![charge("Flat rate", "4.10", "22", "0.90")],
        fees: vec![],
        coupons: vec!["SPRING".into()],
        discount_total: d("1.00"),
        shipping_total: d("4.10"),
        tax_total: d("6.39"),
        total: d("43.26"),
        refunds: vec![],
        customer_note: Some("Leave at the door".into()),
        pickup_point: None,
    }
}
