//! Native unit tests: the signature scheme, minor units, the mappings (they must add up
//! the way the host checks), errors and events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use serde_json::{Value, json};
use tovor_sdk::http::Response;
use tovor_sdk::money::Decimal;
use tovor_sdk::signature;
use tovor_sdk::types::{ErrorKind, Order, OrderStatus, PaymentStatus};

use super::Cursor;
use crate::api::{DEFAULT_RETRY_MS, check};
use crate::mapping::{
    self, Extras, Invoice, LineFigures, List, Session, SessionLine, StripeRefund, exponent,
    from_minor, line_values,
};
use crate::webhooks::{
    Event, Meaning, SignatureHeader, TOLERANCE_SECONDS, check_signature, interpret,
    parse_signature_header,
};

const INVOICE: &str = include_str!("../fixtures/invoice-eur-coupon-two-rates.json");
const SESSION: &str = include_str!("../fixtures/session-guest-inclusive.json");
const SECRET: &str = "whsec_5f3b8c1d2e4a6b7c8d9e0f1a2b3c4d5e";

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The identities the host checks (`host/domain` order validation), within a cent per
/// part.
fn assert_adds_up(order: &Order) {
    let cent = d("0.01");
    let (mut parts, mut net, mut tax) = (0u32, Decimal::ZERO, Decimal::ZERO);
    for line in &order.lines {
        let (q, unit, discount, line_tax, total) = (
            d(&line.quantity),
            d(&line.unit_price),
            d(&line.discount),
            d(&line.tax_amount),
            d(&line.total),
        );
        let basis = if order.prices_include_tax {
            total + line_tax
        } else {
            total
        };
        assert!(
            (q * unit - discount - basis).abs() <= cent,
            "{}: {q} × {unit} − {discount} vs {basis}",
            line.name
        );
        if let Some(rate) = &line.tax_rate {
            let expected = total * d(rate) / Decimal::ONE_HUNDRED;
            assert!((line_tax - expected).abs() <= cent, "{} rate", line.name);
        }
        parts += 1;
        net += total;
        tax += line_tax;
    }
    for charge in order.shipping_lines.iter().chain(&order.fees) {
        if let Some(rate) = &charge.tax_rate {
            let expected = d(&charge.amount) * d(rate) / Decimal::ONE_HUNDRED;
            assert!((d(&charge.tax_amount) - expected).abs() <= cent);
        }
        parts += 1;
        net += d(&charge.amount);
        tax += d(&charge.tax_amount);
    }
    let tolerance = cent * Decimal::from(parts.max(1));
    assert!((d(&order.tax_total) - tax).abs() <= tolerance, "tax total");
    assert!(
        (d(&order.total) - net - d(&order.tax_total)).abs() <= tolerance,
        "total {} vs {net} + {}",
        order.total,
        order.tax_total
    );
}

fn invoice_fixture() -> Invoice {
    serde_json::from_str(INVOICE).unwrap()
}

fn session_fixture() -> (Session, Vec<SessionLine>) {
    let value: Value = serde_json::from_str(SESSION).unwrap();
    let session: Session = serde_json::from_value(value["session"].clone()).unwrap();
    let lines: List<SessionLine> = serde_json::from_value(value["line_items"].clone()).unwrap();
    (session, lines.data)
}

fn map_invoice_fixture(extras: &Extras) -> Order {
    let invoice = invoice_fixture();
    mapping::map_invoice(&invoice, &invoice.lines.data, extras).unwrap()
}

fn refund(id: &str, amount: i64) -> StripeRefund {
    StripeRefund {
        id: Some(id.into()),
        amount,
        created: Some(1_740_990_000),
        reason: Some("requested_by_customer".into()),
        description: None,
        status: Some("succeeded".into()),
    }
}

fn header_for(body: &[u8], t: i64, secrets: &[&str]) -> String {
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(&format!(
            ",v1={}",
            signature::hmac_sha256_hex(secret, &signed)
        ));
    }
    header
}

// ---------------------------------------------------------------------------------------
// Signatures

#[test]
fn signature_header_parses_every_v1_and_ignores_other_schemes() {
    let header =
        parse_signature_header(" t=1492774577 ,v1=5257a869e7,v0=6ffbb59b2300aae6,v1=abc123 ")
            .unwrap();
    assert_eq!(
        header,
        SignatureHeader {
            timestamp: 1_492_774_577,
            v1: vec!["5257a869e7".into(), "abc123".into()],
        }
    );
    for bad in ["v1=abc", "t=123", "t=abc,v1=ff", "t=123,v0=ff", ""] {
        let error = parse_signature_header(bad).unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadSignature, "{bad:?}");
    }
}

#[test]
fn a_signature_is_the_hmac_of_timestamp_dot_body_under_the_whole_secret() {
    let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    let t = 1_740_906_960;
    let header = parse_signature_header(&header_for(body, t, &[SECRET])).unwrap();
    check_signature(&header, body, &[SECRET.to_owned()], t + 10).unwrap();
    // The `whsec_` prefix is part of the key.
    let without_prefix = SECRET.trim_start_matches("whsec_").to_owned();
    assert!(check_signature(&header, body, &[without_prefix], t).is_err());
    // The body is signed with its timestamp: another `t` does not verify.
    let moved = SignatureHeader {
        timestamp: t + 1,
        ..header.clone()
    };
    assert!(check_signature(&moved, body, &[SECRET.to_owned()], t).is_err());
    // A changed body does not verify.
    let error = check_signature(&header, b"{}", &[SECRET.to_owned()], t).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);
    // The lowercase hex is what Stripe sends; the comparison itself is case-blind.
    let upper = SignatureHeader {
        timestamp: t,
        v1: header.v1.iter().map(|s| s.to_uppercase()).collect(),
    };
    check_signature(&upper, body, &[SECRET.to_owned()], t).unwrap();
}

#[test]
fn a_rolled_secret_passes_when_any_v1_matches_any_secret() {
    let body = br#"{"id":"evt_2"}"#;
    let t = 1_740_906_960;
    let new = "whsec_newnewnewnewnewnewnewnewnewnewnew";
    let header = parse_signature_header(&header_for(body, t, &[new, SECRET])).unwrap();
    assert_eq!(header.v1.len(), 2);
    check_signature(&header, body, &[SECRET.to_owned()], t).unwrap();
    check_signature(&header, body, &[new.to_owned()], t).unwrap();
    check_signature(&header, body, &["whsec_other".into(), SECRET.to_owned()], t).unwrap();
    assert!(check_signature(&header, body, &["whsec_other".into()], t).is_err());
}

#[test]
fn signatures_older_than_the_tolerance_are_refused() {
    let body = br#"{"id":"evt_3"}"#;
    let t = 1_740_906_960;
    let header = parse_signature_header(&header_for(body, t, &[SECRET])).unwrap();
    let secrets = [SECRET.to_owned()];
    check_signature(&header, body, &secrets, t + TOLERANCE_SECONDS).unwrap();
    let error = check_signature(&header, body, &secrets, t + TOLERANCE_SECONDS + 1).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);
    assert!(error.message.contains("301 s"), "{}", error.message);
    // A forged header is refused for its signature, whatever its age.
    let forged = SignatureHeader {
        timestamp: t,
        v1: vec!["00".repeat(32)],
    };
    let error = check_signature(&forged, body, &secrets, t).unwrap_err();
    assert!(error.message.contains("matches"), "{}", error.message);
}

// ---------------------------------------------------------------------------------------
// Minor units

#[test]
fn minor_units_follow_the_currency_exponent() {
    assert_eq!(exponent("eur"), 2);
    assert_eq!(exponent("USD"), 2);
    assert_eq!(exponent("jpy"), 0);
    assert_eq!(exponent("KRW"), 0);
    assert_eq!(exponent("kwd"), 3);
    // Stripe's special cases are sent with two decimals.
    assert_eq!(exponent("huf"), 2);
    assert_eq!(exponent("isk"), 2);
    assert_eq!(from_minor(1999, exponent("eur")).to_string(), "19.99");
    assert_eq!(from_minor(4500, exponent("jpy")).to_string(), "4500");
    assert_eq!(from_minor(1250, exponent("kwd")).to_string(), "1.250");
    assert_eq!(from_minor(-5, 2).to_string(), "-0.05");
}

#[test]
fn line_values_in_a_zero_decimal_currency_are_whole_yen() {
    let figures = LineFigures {
        quantity: 3,
        amount: 4500,
        discount: 0,
        tax: 450,
        inclusive: false,
    };
    let values = line_values(figures, false, Some(d("1500")), 0);
    assert_eq!(values.unit_price, d("1500"));
    assert_eq!(values.total, d("4500"));
    assert_eq!(values.tax, d("450"));
}

#[test]
fn an_inclusive_line_on_a_net_order_moves_to_the_net_basis() {
    let figures = LineFigures {
        quantity: 3,
        amount: 1000,
        discount: 100,
        tax: 162,
        inclusive: true,
    };
    let values = line_values(figures, false, Some(d("333.3333")), 2);
    // Net: 10.00 − 1.62 = 8.38 before the discount.
    assert_eq!(values.total, d("7.38"));
    let basis = values.unit_price * Decimal::from(3) - values.discount;
    assert!((basis - values.total).abs() <= d("0.01"), "{basis}");
    // And an exclusive line on a gross order.
    let figures = LineFigures {
        quantity: 2,
        amount: 1000,
        discount: 0,
        tax: 220,
        inclusive: false,
    };
    let values = line_values(figures, true, None, 2);
    assert_eq!(values.unit_price, d("6.10"));
    assert_eq!(values.total, d("10.00"));
}

// ---------------------------------------------------------------------------------------
// Orders

#[test]
fn a_paid_invoice_maps_with_customer_tax_id_and_adds_up_to_the_cent() {
    let extras = Extras {
        payment_method: Some("card".into()),
        paid_at: None,
        refunds: Vec::new(),
    };
    let order = map_invoice_fixture(&extras);
    assert_adds_up(&order);
    assert_eq!(order.id, "in_1QxA2bC3dE4fG5hI");
    assert_eq!(order.number, "A1B2C3-0007");
    assert_eq!(order.currency, "EUR");
    assert!(!order.prices_include_tax);
    assert_eq!(order.total, "58.70");
    assert_eq!(order.tax_total, "9.20");
    assert_eq!(order.discount_total, "5.50");
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.status_raw, "paid");
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert_eq!(order.coupons, ["SPRING10"]);
    assert_eq!(
        order.customer_note.as_deref(),
        Some("Thank you for your order")
    );
    let method = order.payment_method.as_ref().unwrap();
    assert_eq!(
        (method.code.as_str(), method.title.as_str()),
        ("card", "Card")
    );
    assert_eq!(order.paid_at.unwrap().seconds, 1_740_906_960);
    assert_eq!(order.modified_at.seconds, 1_740_906_960);

    let tee = &order.lines[0];
    assert_eq!(tee.name, "Organic T-shirt M");
    assert_eq!(tee.quantity, "2");
    assert_eq!(tee.unit_price, "20.00");
    assert_eq!(tee.discount, "4.00");
    assert_eq!(tee.total, "36.00");
    assert_eq!(tee.tax_amount, "7.92");
    assert_eq!(tee.tax_rate.as_deref(), Some("22"));
    assert_eq!(tee.platform_line_id.as_deref(), Some("il_1QxLine0001"));
    assert_eq!(tee.product_id.as_deref(), Some("prod_RTee"));
    assert_eq!(tee.variation_id.as_deref(), Some("price_1QxTee"));
    // 9.5 % of 13.50 is 1.2825, which Stripe rounds to 1.28.
    assert_eq!(order.lines[1].tax_rate.as_deref(), Some("9.5"));

    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id.as_deref(), Some("cus_RaNovak0001"));
    assert_eq!(customer.first_name.as_deref(), Some("Ana"));
    assert_eq!(customer.last_name.as_deref(), Some("Novak"));
    assert_eq!(customer.vat_id.as_deref(), Some("SI12345678"));
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(billing.country.as_deref(), Some("SI"));
    assert_eq!(billing.email.as_deref(), Some("ana@example.test"));
    assert_eq!(
        invoice_fixture().payment_intent().as_deref(),
        Some("pi_1QxPay0001")
    );
}

#[test]
fn refunds_travel_with_the_order() {
    // Whole: every line and the amount, payment refunded.
    let order = map_invoice_fixture(&Extras {
        payment_method: Some("sepa_debit".into()),
        paid_at: None,
        refunds: vec![refund("re_1", 5870)],
    });
    assert_adds_up(&order);
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(order.payment_status, PaymentStatus::Refunded);
    assert_eq!(
        order.payment_method.as_ref().unwrap().title,
        "SEPA Direct Debit"
    );
    let whole = &order.refunds[0];
    assert_eq!(whole.amount, "58.70");
    assert_eq!(whole.platform_id.as_deref(), Some("re_1"));
    let lines: Decimal = whole.lines.iter().map(|l| d(&l.amount)).sum();
    assert_eq!(lines, d("58.70"));
    assert_eq!(
        whole.lines[0].platform_line_id.as_deref(),
        Some("il_1QxLine0001")
    );
    assert_eq!(whole.lines[0].quantity, "2");
    assert_eq!(
        order.modified_at.seconds, 1_740_990_000,
        "a refund is a change"
    );

    // Partial, and a failed one that does not count.
    let mut failed = refund("re_3", 100);
    failed.status = Some("failed".into());
    let order = map_invoice_fixture(&Extras {
        payment_method: None,
        paid_at: None,
        refunds: vec![refund("re_2", 1000), failed],
    });
    assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.refunds.len(), 1);
    assert_eq!(order.refunds[0].amount, "10.00");
    assert!(
        order.refunds[0].lines.is_empty(),
        "Stripe refunds money, not items"
    );
}

#[test]
fn a_voided_invoice_is_a_cancelled_order() {
    let mut invoice = invoice_fixture();
    invoice.status = Some("void".into());
    invoice.status_transitions.paid_at = None;
    invoice.status_transitions.voided_at = Some(1_740_907_500);
    invoice.payments = None;
    let order = mapping::map_invoice(&invoice, &invoice.lines.data, &Extras::default()).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(order.payment_status, PaymentStatus::Voided);
    assert_eq!(order.paid_at, None);
    assert_eq!(order.modified_at.seconds, 1_740_907_500);
}

#[test]
fn a_guest_checkout_session_with_inclusive_vat_and_shipping_adds_up() {
    let (session, lines) = session_fixture();
    let order = mapping::map_session(&session, &lines, &[], &Extras::default()).unwrap();
    assert_adds_up(&order);
    assert!(order.prices_include_tax);
    assert_eq!(order.id, "cs_test_a1B2c3D4e5F6");
    assert_eq!(order.total, "27.80");
    assert_eq!(order.tax_total, "5.01");
    assert_eq!(order.status_raw, "complete/paid");
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id, None, "a guest");
    assert_eq!(customer.email.as_deref(), Some("eva@example.test"));
    assert_eq!(order.lines[0].unit_price, "12.90");
    assert_eq!(order.lines[0].total, "10.57");
    assert_eq!(order.lines[0].tax_rate.as_deref(), Some("22"));
    assert_eq!(order.lines[1].quantity, "2");
    assert_eq!(order.lines[1].unit_price, "5.00");
    let shipping = &order.shipping_lines[0];
    assert_eq!(shipping.title, "Pošta Slovenije");
    assert_eq!(shipping.amount, "4.02");
    assert_eq!(shipping.tax_amount, "0.88");
    assert_eq!(order.shipping_total, "4.02");
    let address = order.shipping.as_ref().unwrap();
    assert_eq!(address.city.as_deref(), Some("Maribor"));
}

#[test]
fn a_session_takes_the_customers_tax_id_when_checkout_did_not_collect_one() {
    let (mut session, lines) = session_fixture();
    session.customer = Some(json!("cus_RHans"));
    let tax_ids = vec![mapping::TaxId {
        kind: Some("eu_vat".into()),
        value: Some("ATU12345678".into()),
    }];
    let order = mapping::map_session(&session, &lines, &tax_ids, &Extras::default()).unwrap();
    let customer = order.customer.unwrap();
    assert_eq!(customer.platform_id.as_deref(), Some("cus_RHans"));
    assert_eq!(customer.vat_id.as_deref(), Some("ATU12345678"));
}

#[test]
fn a_zero_decimal_invoice_keeps_whole_yen() {
    let invoice: Invoice = serde_json::from_value(json!({
        "id": "in_1QxJpy", "currency": "jpy", "status": "paid", "created": 1740906900,
        "customer": "cus_RTaro", "customer_name": "Taro Yamada", "number": "JP-0001",
        "subtotal": 4500, "total": 4950, "total_taxes": [{"amount": 450, "tax_behavior": "exclusive", "taxable_amount": 4500}],
        "status_transitions": {"paid_at": 1740906960},
        "lines": {"data": [{"id": "il_1", "amount": 4500, "quantity": 3, "description": "Matcha tea tin",
                            "pricing": {"unit_amount_decimal": "1500"},
                            "taxes": [{"amount": 450, "tax_behavior": "exclusive", "taxable_amount": 4500}]}],
                  "has_more": false}
    }))
    .unwrap();
    let order = mapping::map_invoice(&invoice, &invoice.lines.data, &Extras::default()).unwrap();
    assert_adds_up(&order);
    assert_eq!(order.currency, "JPY");
    assert_eq!(order.total, "4950");
    assert_eq!(order.lines[0].unit_price, "1500");
    assert_eq!(order.lines[0].tax_rate.as_deref(), Some("10"));
}

// ---------------------------------------------------------------------------------------
// Cursors, errors, events

#[test]
fn cursors_walk_invoices_then_sessions() {
    assert_eq!(Cursor::parse(None), Cursor::Invoices(None));
    assert_eq!(
        Cursor::parse(Some("in:in_1")),
        Cursor::Invoices(Some("in_1".into()))
    );
    assert_eq!(Cursor::parse(Some("cs:")), Cursor::Sessions(None));
    assert_eq!(Cursor::parse(Some("garbage")), Cursor::Invoices(None));
    for cursor in [
        Cursor::Invoices(Some("in_9".into())),
        Cursor::Sessions(None),
        Cursor::Sessions(Some("cs_test_1".into())),
    ] {
        assert_eq!(Cursor::parse(Some(&cursor.encode())), cursor);
    }
}

fn response(status: u16, body: Value, headers: &[(&str, &str)]) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.to_string().into_bytes(),
        url: "https://api.stripe.com/v1/account".into(),
    }
}

#[test]
fn stripe_errors_map_to_error_kinds() {
    let unauthorized = check(response(
        401,
        json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****1234"}}),
        &[],
    ))
    .unwrap_err();
    assert_eq!(unauthorized.kind, ErrorKind::Auth);
    assert_eq!(unauthorized.field.as_deref(), Some("secret_key"));
    assert!(
        unauthorized.message.contains("sk_test_****1234"),
        "{}",
        unauthorized.message
    );

    let limited = check(response(
        429,
        json!({"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Request rate limit exceeded."}}),
        &[],
    ))
    .unwrap_err();
    assert_eq!(limited.kind, ErrorKind::RateLimited);
    assert_eq!(limited.retry_after_ms, Some(DEFAULT_RETRY_MS));
    assert_eq!(limited.platform_code.as_deref(), Some("rate_limit"));

    let outage = check(response(
        503,
        json!({"error": {"type": "api_error", "message": "down"}}),
        &[],
    ))
    .unwrap_err();
    assert_eq!(outage.kind, ErrorKind::Transient);

    let locked = check(response(
        409,
        json!({"error": {"type": "invalid_request_error", "code": "lock_timeout", "message": "locked"}}),
        &[("Stripe-Should-Retry", "true")],
    ))
    .unwrap_err();
    assert_eq!(locked.kind, ErrorKind::Transient);

    let invalid = check(response(
        400,
        json!({"error": {"type": "invalid_request_error", "code": "url_invalid", "param": "url", "message": "Invalid URL"}}),
        &[],
    ))
    .unwrap_err();
    assert_eq!(invalid.kind, ErrorKind::InvalidInput);
    assert_eq!(invalid.field.as_deref(), Some("url"));

    let missing = check(response(404, json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such invoice: 'in_x'"}}), &[])).unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
}

fn event(kind: &str, object: Value) -> Event {
    serde_json::from_value(json!({"id": "evt_1", "type": kind, "data": {"object": object}}))
        .unwrap()
}

#[test]
fn events_name_their_orders() {
    assert_eq!(
        interpret(&event("invoice.paid", json!({"id": "in_1"}))).unwrap(),
        Meaning::Order("in_1".into())
    );
    assert_eq!(
        interpret(&event("invoice.voided", json!({"id": "in_2"}))).unwrap(),
        Meaning::Order("in_2".into())
    );
    assert_eq!(
        interpret(&event(
            "checkout.session.completed",
            json!({"id": "cs_1", "payment_status": "paid", "invoice": null})
        ))
        .unwrap(),
        Meaning::Order("cs_1".into())
    );
    for (kind, object) in [
        (
            "checkout.session.completed",
            json!({"id": "cs_2", "payment_status": "paid", "invoice": "in_3"}),
        ),
        (
            "checkout.session.completed",
            json!({"id": "cs_3", "payment_status": "unpaid", "invoice": null}),
        ),
        ("customer.created", json!({"id": "cus_1"})),
        (
            "charge.refunded",
            json!({"id": "ch_1", "payment_intent": null}),
        ),
    ] {
        assert!(
            matches!(
                interpret(&event(kind, object)).unwrap(),
                Meaning::Ignored(_)
            ),
            "{kind}"
        );
    }
    assert_eq!(
        interpret(&event(
            "charge.refunded",
            json!({"id": "ch_1", "payment_intent": "pi_1"})
        ))
        .unwrap(),
        Meaning::Payment("pi_1".into())
    );
    assert_eq!(
        interpret(&event("invoice.paid", json!({})))
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput
    );
}

#[test]
fn vat_ids_prefer_eu_vat() {
    let ids = |pairs: &[(&str, &str)]| -> Vec<mapping::TaxId> {
        pairs
            .iter()
            .map(|(k, v)| mapping::TaxId {
                kind: Some((*k).into()),
                value: Some((*v).into()),
            })
            .collect()
    };
    assert_eq!(
        mapping::vat_id(&ids(&[("us_ein", "12-3456789"), ("eu_vat", "SI12345678")])).as_deref(),
        Some("SI12345678")
    );
    assert_eq!(
        mapping::vat_id(&ids(&[("ch_vat", "CHE-123.456.789 MWST")])).as_deref(),
        Some("CHE-123.456.789 MWST")
    );
    assert_eq!(
        mapping::vat_id(&ids(&[("us_ein", "1"), ("br_cnpj", "2")])),
        None
    );
}
