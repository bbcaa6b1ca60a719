use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};

use super::*;
use crate::test_support::{at, d, order};

#[test]
fn json_shape_uses_strings_for_decimals_and_rfc3339_for_times() {
    let json = serde_json::to_value(order()).unwrap();
    assert_eq!(json["total"], "43.26");
    assert_eq!(json["lines"][0]["quantity"], "2");
    assert_eq!(json["lines"][1]["tax_rate"], "9.5");
    assert_eq!(json["status"], "processing");
    assert_eq!(json["payment_status"], "paid");
    assert_eq!(json["modified_at"], "2026-03-01T12:01:00Z");
    assert_eq!(json["pickup_point"], serde_json::Value::Null);
    let back: NormalizedOrder = serde_json::from_value(json).unwrap();
    assert_eq!(back, order());
}

#[test]
fn minimal_json_fills_defaults() {
    let json = r#"{
        "id": "9", "number": "A-9", "status": "on_hold", "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-03-01T13:00:00+01:00", "modified_at": "2026-03-01T12:00:00Z",
        "lines": [{"name": "Mug", "quantity": "1", "unit_price": "10", "total": "10"}],
        "total": "10"
    }"#;
    let parsed: NormalizedOrder = serde_json::from_str(json).unwrap();
    assert_eq!(parsed.status, OrderStatus::OnHold);
    assert_eq!(parsed.payment_status, PaymentStatus::Unknown);
    assert_eq!(parsed.created_at, parsed.modified_at);
    assert_eq!(parsed.created_at.offset(), UtcOffset::UTC);
    assert_eq!(parsed.lines[0].discount, Decimal::ZERO);
    assert_eq!(parsed.lines[0].tax_rate, None);
    assert!(parsed.shipping_lines.is_empty() && parsed.refunds.is_empty());
    assert_eq!(validate(&parsed), Ok(()));
}

#[test]
fn json_reads_numbers_exactly_and_refuses_bad_amounts_times_and_missing_tax_basis() {
    let good = serde_json::to_value(order()).unwrap();
    // A JSON number is read through its shortest decimal form: exactly 43.26.
    let mut number_total = good.clone();
    number_total["total"] = serde_json::json!(43.26);
    let parsed = serde_json::from_value::<NormalizedOrder>(number_total).unwrap();
    assert_eq!(parsed.total, Decimal::new(4326, 2));
    let mut word_total = good.clone();
    word_total["total"] = serde_json::json!("forty");
    assert!(serde_json::from_value::<NormalizedOrder>(word_total).is_err());
    let mut bad_time = good.clone();
    bad_time["modified_at"] = serde_json::json!("yesterday");
    let error = serde_json::from_value::<NormalizedOrder>(bad_time).unwrap_err();
    assert!(error.to_string().contains("RFC 3339"), "{error}");
    let mut no_basis = good;
    no_basis
        .as_object_mut()
        .unwrap()
        .remove("prices_include_tax");
    assert!(serde_json::from_value::<NormalizedOrder>(no_basis).is_err());
}

#[test]
fn hash_is_hex_sha256_and_stable() {
    let hash = content_hash(&order());
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(hash, content_hash(&order()));
}

#[test]
fn hash_includes_modified_at() {
    let mut later = order();
    later.modified_at = at(120);
    assert_ne!(content_hash(&later), content_hash(&order()));
}

#[test]
fn hash_compares_decimals_by_value_and_times_by_instant() {
    let mut respelled = order();
    respelled.total = d("43.260");
    respelled.lines[0].quantity = d("2.0");
    respelled.lines[1].discount = d("0.00");
    respelled.modified_at = order()
        .modified_at
        .to_offset(UtcOffset::from_hms(2, 0, 0).unwrap());
    assert_eq!(content_hash(&respelled), content_hash(&order()));
}

#[test]
fn hash_sees_every_kind_of_change() {
    let base = content_hash(&order());
    let changes: Vec<fn(&mut NormalizedOrder)> = vec![
        |o| o.lines[0].quantity = d("3"),
        |o| o.status = OrderStatus::Completed,
        |o| o.status_raw = "wc-completed".into(),
        |o| o.customer_note = None,
        |o| o.customer_note = Some(String::new()),
        |o| o.billing.as_mut().unwrap().city = Some("Maribor".into()),
        |o| o.coupons.push("X".into()),
        |o| o.lines.swap(0, 1),
        |o| o.paid_at = None,
        |o| o.shipping_lines[0].tax_rate = None,
        |o| {
            // Moving a character between adjacent strings must change the hash.
            o.lines[0].name = "Mu".into();
            o.lines[0].product_id = Some("gp11".into());
        },
    ];
    for (index, change) in changes.into_iter().enumerate() {
        let mut changed = order();
        change(&mut changed);
        assert_ne!(
            content_hash(&changed),
            base,
            "change {index} went unnoticed"
        );
    }
}

fn fields(result: Result<(), Vec<FieldProblem>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.field)
        .collect()
}

#[test]
fn the_sample_order_is_valid() {
    assert_eq!(validate(&order()), Ok(()));
}

#[test]
fn currency_must_be_three_upper_case_letters() {
    for bad in ["eur", "EURO", "", "E1R"] {
        let mut o = order();
        o.currency = bad.into();
        assert_eq!(fields(validate(&o)), ["currency"], "{bad:?}");
    }
}

/// A line the shop removed after checkout stays with quantity zero; below zero is wrong.
#[test]
fn quantities_must_not_be_negative() {
    let mut o = order();
    o.lines[1].ordered_quantity = Some(o.lines[1].quantity);
    o.lines[1].quantity = Decimal::ZERO;
    o.lines[1].total = Decimal::ZERO;
    o.lines[1].tax_amount = Decimal::ZERO;
    o.tax_total = d("5.08");
    o.total = d("28.18");
    assert_eq!(validate(&o), Ok(()));
    o.lines[1].quantity = d("-1");
    assert!(fields(validate(&o)).contains(&"lines[1].quantity".to_owned()));
}

#[test]
fn line_arithmetic_allows_a_cent_of_platform_rounding() {
    let mut o = order();
    o.lines[1].total = d("13.78");
    o.total = d("43.27");
    assert_eq!(validate(&o), Ok(()));
    o.lines[1].total = d("13.80");
    o.total = d("43.29");
    assert_eq!(fields(validate(&o)), ["lines[1].total"]);
}

#[test]
fn tax_must_match_the_rate() {
    let mut o = order();
    o.lines[0].tax_amount = d("4.20");
    o.tax_total = d("6.41");
    o.total = d("43.28");
    assert_eq!(fields(validate(&o)), ["lines[0].tax_amount"]);
    let mut o = order();
    o.lines[0].tax_rate = Some(d("122"));
    assert_eq!(fields(validate(&o)), ["lines[0].tax_rate"]);
    let mut o = order();
    o.shipping_lines[0].tax_rate = None;
    o.shipping_lines[0].tax_amount = d("5.00");
    o.tax_total = d("10.49");
    o.total = d("47.36");
    assert_eq!(fields(validate(&o)), ["shipping_lines[0].tax_amount"]);
}

#[test]
fn order_totals_must_add_up() {
    let mut o = order();
    o.total = d("43.30");
    assert_eq!(fields(validate(&o)), ["total"]);
    // Three parts: three cents of rounding are fine.
    o.total = d("43.29");
    assert_eq!(validate(&o), Ok(()));
    let mut o = order();
    o.shipping_total = d("5.00");
    assert_eq!(fields(validate(&o)), ["shipping_total"]);
    let mut o = order();
    o.tax_total = d("7.00");
    o.total = d("43.87");
    assert_eq!(fields(validate(&o)), ["tax_total"]);
    let mut o = order();
    o.discount_total = d("2.00");
    assert_eq!(fields(validate(&o)), ["discount_total"]);
    o.prices_include_tax = true;
    // Gross prices: the discount total's tax basis varies by platform and is not checked,
    // but the lines now read as gross and no longer add up.
    assert_eq!(fields(validate(&o)), ["lines[0].total", "lines[1].total"]);
}

#[test]
fn gross_priced_lines_add_up_with_their_tax() {
    let mut o = order();
    o.prices_include_tax = true;
    o.lines[0].unit_price = d("12.20");
    o.lines[0].discount = d("1.22");
    o.lines[1].unit_price = d("5.026");
    assert_eq!(validate(&o), Ok(()));
}

#[test]
fn all_problems_are_reported_and_nothing_panics() {
    let mut o = order();
    o.id = " ".into();
    o.number = String::new();
    o.currency = "xx".into();
    o.lines[0].name = String::new();
    o.lines[0].quantity = Decimal::MAX;
    o.lines[1].unit_price = Decimal::MIN;
    o.total = -Decimal::ONE;
    let found = fields(validate(&o));
    assert_eq!(
        found,
        [
            "id",
            "number",
            "currency",
            "lines[0].name",
            "lines[0].quantity",
            "lines[1].unit_price",
            "total"
        ]
    );
    let mut empty = order();
    empty.lines.clear();
    assert!(fields(validate(&empty)).contains(&"lines".to_owned()));
}

#[test]
fn problems_read_well() {
    let mut o = order();
    o.currency = "eur".into();
    let problems = validate(&o).unwrap_err();
    assert_eq!(
        problems[0].to_string(),
        "currency: \"eur\" is not an ISO 4217 code (three upper-case letters)"
    );
}

#[test]
fn derived_tax_rates() {
    assert_eq!(derive_tax_rate(d("4.18"), d("19.00")), d("22.0"));
    assert_eq!(derive_tax_rate(d("1.31"), d("13.77")), d("9.5"));
    assert_eq!(derive_tax_rate(d("0"), d("0")), d("0"));
    assert_eq!(
        derive_tax_rate(d("1"), d("0.0000000000000000000000000001")),
        d("0")
    );
    let mut line = order().lines[0].clone();
    line.tax_rate = None;
    assert_eq!(line.effective_tax_rate(), d("22"));
}

#[test]
fn timestamps_are_written_in_utc() {
    let mut o = order();
    o.modified_at = OffsetDateTime::from_unix_timestamp(0)
        .unwrap()
        .to_offset(UtcOffset::from_hms(2, 0, 0).unwrap());
    let json = serde_json::to_value(&o).unwrap();
    assert_eq!(json["modified_at"], "1970-01-01T00:00:00Z");
}

#[test]
fn address_fields_are_the_json_keys() {
    let json = serde_json::to_value(Address::default()).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected = Address::FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
}
