//! Native unit tests of the pure parts: mapping, signatures, keys, notes, decisions. The
//! HTTP round trips run in the real runtime against the fake WooCommerce in
//! tests/harness.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use time::macros::datetime;
use tovor_sdk::money::{Decimal, parse_decimal};
use tovor_sdk::shop::{Parcel, Shipment, ShippedLine, WebhookEvent, WebhookRequest};
use tovor_sdk::signature;
use tovor_sdk::types::{ConnectorError, ErrorKind, Order, OrderStatus, PaymentStatus, Timestamp};

use super::*;
use crate::api::{api_root, next_page, page_cursor};
use crate::stock::{StockTarget, stock_target};
use crate::woo::{map_status, payment_status, split_street};

const INCL: &str = include_str!("../fixtures/order-1042-prices-incl-tax.json");
const EXCL: &str = include_str!("../fixtures/order-2077-coupon-fee-refund.json");
const REFUNDS: &str = include_str!("../fixtures/refunds-2077.json");
const SECRET: &str = "whsec-woo-tests";

fn dec(text: &str) -> Decimal {
    parse_decimal(text).unwrap()
}

fn utc(at: Timestamp) -> String {
    tovor_sdk::time::format_utc(at.to_datetime("at").unwrap())
}

/// The identities the host checks (host/domain/src/order/validate.rs), in small. A line
/// whose quantity refunds reduced carries the amounts of what is left.
pub(crate) fn assert_adds_up(order: &Order) {
    let cent = dec("0.01");
    let tolerance = |parts: usize| cent * Decimal::from(parts.max(1));
    assert!(!order.lines.is_empty(), "{}: no lines", order.id);
    for (index, line) in order.lines.iter().enumerate() {
        let quantity = dec(&line.quantity);
        let ordered = line.ordered_quantity.as_deref().map_or(quantity, dec);
        assert!(quantity >= Decimal::ZERO && ordered > Decimal::ZERO);
        assert!(quantity <= ordered, "{line:?}");
        let basis = quantity * dec(&line.unit_price) - dec(&line.discount);
        let expected = if order.prices_include_tax {
            dec(&line.total) + dec(&line.tax_amount)
        } else {
            dec(&line.total)
        };
        assert!(
            (basis - expected).abs() <= cent,
            "order {} line {index}: q×unit−discount {basis} ≠ {expected} ({line:?})",
            order.id
        );
        if let Some(rate) = &line.tax_rate {
            let tax = dec(&line.total) * dec(rate) / Decimal::ONE_HUNDRED;
            assert!(
                (tax - dec(&line.tax_amount)).abs() <= cent,
                "order {} line {index}: tax {} is not {rate} % of {}",
                order.id,
                line.tax_amount,
                line.total
            );
        }
    }
    for charge in order.shipping_lines.iter().chain(&order.fees) {
        if let Some(rate) = &charge.tax_rate {
            let tax = dec(&charge.amount) * dec(rate) / Decimal::ONE_HUNDRED;
            assert!((tax - dec(&charge.tax_amount)).abs() <= cent, "{charge:?}");
        }
    }
    let parts = order.lines.len() + order.shipping_lines.len() + order.fees.len();
    let shipping: Decimal = order.shipping_lines.iter().map(|c| dec(&c.amount)).sum();
    assert!((dec(&order.shipping_total) - shipping).abs() <= tolerance(order.shipping_lines.len()));
    let tax: Decimal = order
        .lines
        .iter()
        .map(|l| dec(&l.tax_amount))
        .sum::<Decimal>()
        + order
            .shipping_lines
            .iter()
            .chain(&order.fees)
            .map(|c| dec(&c.tax_amount))
            .sum::<Decimal>();
    assert!(
        (dec(&order.tax_total) - tax).abs() <= tolerance(parts),
        "order {}: tax_total {} vs {tax}",
        order.id,
        order.tax_total
    );
    if !order.prices_include_tax {
        let discount: Decimal = order.lines.iter().map(|l| dec(&l.discount)).sum();
        assert!((dec(&order.discount_total) - discount).abs() <= tolerance(order.lines.len()));
    }
    let total = order.lines.iter().map(|l| dec(&l.total)).sum::<Decimal>()
        + order
            .shipping_lines
            .iter()
            .chain(&order.fees)
            .map(|c| dec(&c.amount))
            .sum::<Decimal>()
        + dec(&order.tax_total);
    assert!(
        (dec(&order.total) - total).abs() <= tolerance(parts),
        "order {}: total {} vs {total}",
        order.id,
        order.total
    );
    assert!(order.modified_at.seconds >= order.created_at.seconds);
}

#[test]
fn maps_an_order_with_prices_including_tax() {
    let order = map_order_json(INCL.as_bytes()).unwrap();
    assert_eq!((order.id.as_str(), order.number.as_str()), ("1042", "1042"));
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.status_raw, "processing");
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert!(order.prices_include_tax);
    assert_eq!(
        utc(order.created_at),
        "2025-03-02T09:15:00Z",
        "the _gmt date"
    );
    assert_eq!(utc(order.modified_at), "2025-03-02T09:16:10Z");
    assert_eq!(
        order.paid_at.map(utc).as_deref(),
        Some("2025-03-02T09:16:10Z")
    );
    let line = &order.lines[0];
    assert_eq!(line.product_id.as_deref(), Some("55"));
    assert_eq!(line.variation_id.as_deref(), Some("57"));
    assert_eq!(line.sku.as_deref(), Some("MUG-BLU"));
    assert_eq!(line.quantity, "2");
    assert_eq!(line.unit_price, "28.00", "gross: (45.90 + 10.10) / 2");
    assert_eq!(line.discount, "0.00");
    assert_eq!(line.total, "45.90", "net");
    assert_eq!(line.tax_amount, "10.10");
    assert_eq!(
        line.tax_rate.as_deref(),
        Some("22"),
        "derived: no rate_percent"
    );
    let shipping = &order.shipping_lines[0];
    assert_eq!(shipping.code.as_deref(), Some("flat_rate"));
    assert_eq!(
        (shipping.amount.as_str(), shipping.tax_amount.as_str()),
        ("4.05", "0.89")
    );
    assert_eq!(shipping.tax_rate.as_deref(), Some("22"));
    assert_eq!(order.tax_total, "10.99");
    assert_eq!(order.total, "60.94");
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id, None, "customer_id 0 is a guest");
    assert_eq!(customer.email.as_deref(), Some("ana@example.test"));
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(billing.line1.as_deref(), Some("Slovenska cesta 12a"));
    assert_eq!(billing.name.as_deref(), Some("Ana Novak"));
    assert_eq!(billing.phone.as_deref(), Some("+38640111222"));
    assert_eq!(order.shipping.as_ref().unwrap().phone, None);
    let payment = order.payment_method.as_ref().unwrap();
    assert_eq!(
        (payment.code.as_str(), payment.title.as_str()),
        ("cod", "Cash on delivery")
    );
    assert_eq!(order.customer_note, None);
    assert_adds_up(&order);
}

#[test]
fn maps_coupons_fees_refunds_and_two_rates() {
    let order = map_order_json(EXCL.as_bytes()).unwrap();
    assert!(!order.prices_include_tax);
    assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
    assert_eq!(order.coupons, ["poletje10"]);
    assert_eq!(order.discount_total, "5.49");
    let shirt = &order.lines[0];
    assert_eq!(shirt.unit_price, "15.00");
    assert_eq!(shirt.discount, "3.00");
    assert_eq!(shirt.total, "27.00");
    assert_eq!(shirt.tax_rate.as_deref(), Some("22"));
    let book = &order.lines[1];
    assert_eq!(book.sku, None, "an empty SKU is none");
    assert_eq!(book.variation_id, None, "variation_id 0 is none");
    assert_eq!(book.unit_price, "24.90");
    assert_eq!(book.discount, "2.49");
    assert_eq!(book.tax_rate.as_deref(), Some("9.5"));
    assert_eq!(book.tax_amount, "2.13");
    assert_eq!(order.shipping_lines[0].code.as_deref(), Some("flat_rate:3"));
    assert_eq!(order.shipping_lines[0].title, "Pošta Slovenije");
    let fee = &order.fees[0];
    assert_eq!(
        (fee.title.as_str(), fee.amount.as_str()),
        ("Packing", "1.00")
    );
    assert_eq!(fee.tax_rate.as_deref(), Some("22"));
    assert_eq!(order.refunds.len(), 1);
    assert_eq!(
        order.refunds[0].amount, "5.00",
        "refund totals arrive negative"
    );
    assert_eq!(order.refunds[0].reason.as_deref(), Some("Print faded"));
    assert_eq!(order.refunds[0].platform_id.as_deref(), Some("2101"));
    assert_eq!(utc(order.created_at), "2025-07-14T16:02:11Z");
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(
        (billing.street.as_deref(), billing.house_number.as_deref()),
        (Some("Trg"), Some("1"))
    );
    assert_eq!(billing.country.as_deref(), Some("SI"), "upper-cased");
    assert_eq!(billing.company.as_deref(), Some("Kovač d.o.o."));
    assert_eq!(billing.line2.as_deref(), Some("2. nadstropje"));
    assert_eq!(order.shipping, None, "an all-empty shipping address");
    assert_eq!(
        order.customer_note.as_deref(),
        Some("Deliver after 16:00, please.")
    );
    assert_eq!(
        order.customer.as_ref().unwrap().company.as_deref(),
        Some("Kovač d.o.o.")
    );
    assert_adds_up(&order);
}

#[test]
fn a_registered_customer_keeps_its_id() {
    let mut json: Value = serde_json::from_str(EXCL).unwrap();
    json["customer_id"] = json!(7);
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(order.customer.unwrap().platform_id.as_deref(), Some("7"));
}

#[test]
fn gross_discounts_keep_the_line_identity() {
    // Prices incl. 22 %: 3 × 9.99 gross, 5.00 off → gross 24.97, tax 4.50, net 20.47.
    let mut json: Value = serde_json::from_str(INCL).unwrap();
    json["line_items"][0] = json!({
        "id": 1, "name": "Mug - Red", "product_id": 55, "variation_id": 58, "quantity": 3,
        "subtotal": "24.57", "subtotal_tax": "5.40", "total": "20.47", "total_tax": "4.50",
        "taxes": [{"id": 1, "total": "4.502787", "subtotal": "5.402213"}], "sku": "MUG-RED", "price": 6.823333333333333
    });
    json["discount_total"] = json!("4.10");
    json["discount_tax"] = json!("0.90");
    json["shipping_lines"] = json!([]);
    json["shipping_total"] = json!("0.00");
    json["total_tax"] = json!("4.50");
    json["total"] = json!("24.97");
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    let line = &order.lines[0];
    assert_eq!(line.unit_price, "9.99");
    assert_eq!(line.discount, "5.00", "gross, like the unit price");
    assert_eq!(line.tax_rate.as_deref(), Some("22"));
    assert_eq!(order.discount_total, "5.00");
    assert_adds_up(&order);
}

#[test]
fn rate_percent_wins_and_unknown_rates_stay_unknown() {
    let mut json: Value = serde_json::from_str(INCL).unwrap();
    json["tax_lines"][0]["rate_percent"] = json!(22);
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(order.lines[0].tax_rate.as_deref(), Some("22"));
    // Two rates on one line (e.g. compound): the host derives the effective rate.
    json["line_items"][0]["taxes"] =
        json!([{"id": 1, "total": "5.0"}, {"id": 2, "total": "5.098"}]);
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(order.lines[0].tax_rate, None);
}

#[test]
fn statuses_and_payment_states() {
    for (raw, status) in [
        ("pending", OrderStatus::Pending),
        ("processing", OrderStatus::Processing),
        ("on-hold", OrderStatus::OnHold),
        ("completed", OrderStatus::Completed),
        ("cancelled", OrderStatus::Cancelled),
        ("refunded", OrderStatus::Refunded),
        ("failed", OrderStatus::Failed),
        ("checkout-draft", OrderStatus::Other),
        ("ready-for-pickup", OrderStatus::Other),
    ] {
        assert_eq!(map_status(raw), status, "{raw}");
    }
    let zero = Decimal::ZERO;
    assert_eq!(
        payment_status("processing", true, zero),
        PaymentStatus::Paid
    );
    assert_eq!(
        payment_status("completed", true, dec("5")),
        PaymentStatus::PartiallyRefunded
    );
    assert_eq!(
        payment_status("refunded", true, dec("60")),
        PaymentStatus::Refunded
    );
    assert_eq!(
        payment_status("pending", false, zero),
        PaymentStatus::Unpaid
    );
    assert_eq!(
        payment_status("on-hold", false, zero),
        PaymentStatus::Unpaid
    );
    assert_eq!(payment_status("failed", false, zero), PaymentStatus::Unpaid);
    assert_eq!(
        payment_status("cancelled", false, zero),
        PaymentStatus::Unpaid
    );
    assert_eq!(
        payment_status("processing", false, zero),
        PaymentStatus::Unknown
    );
}

#[test]
fn unknown_statuses_are_kept_raw() {
    let mut json: Value = serde_json::from_str(INCL).unwrap();
    json["status"] = json!("ready-for-pickup");
    let order = map_order_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(order.status, OrderStatus::Other);
    assert_eq!(order.status_raw, "ready-for-pickup");
}

#[test]
fn splits_streets() {
    let split = |line: &str| split_street(line);
    let some = |a: &str, b: &str| (Some(a.to_owned()), Some(b.to_owned()));
    assert_eq!(split("Slovenska cesta 12a"), some("Slovenska cesta", "12a"));
    assert_eq!(split("Trg 1"), some("Trg", "1"));
    assert_eq!(split("Celovška cesta 150"), some("Celovška cesta", "150"));
    assert_eq!(split("221 Baker Street"), some("Baker Street", "221"));
    assert_eq!(split("Main Street"), (Some("Main Street".into()), None));
    assert_eq!(split("12"), (Some("12".into()), None));
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert_eq!(map_order_json(b"{}").unwrap_err().kind, ErrorKind::Other);
    assert!(map_order_json(b"<html>").is_err());
    let mut json: Value = serde_json::from_str(INCL).unwrap();
    json["date_created_gmt"] = Value::Null;
    assert!(map_order_json(json.to_string().as_bytes()).is_err());
}

/// Order 2077 after a second refund: one T-shirt of two and the shipping, restocked.
fn refunded_2077() -> (woo::WooOrder, Vec<woo::WooRefundDetail>) {
    let mut json: Value = serde_json::from_str(EXCL).unwrap();
    json["refunds"] = json!([
        {"id": 2102, "reason": "Wrong size", "total": "-21.41"},
        {"id": 2101, "reason": "Print faded", "total": "-5.00"},
    ]);
    json["line_items"][0]["meta_data"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": 3002, "key": "_restock_refunded_items", "value": "1"}));
    let order: woo::WooOrder = serde_json::from_value(json).unwrap();
    let refunds: Vec<woo::WooRefundDetail> = serde_json::from_str(REFUNDS).unwrap();
    (order, refunds)
}

#[test]
fn refunds_carry_lines_shipping_dates_and_restock() {
    let (order, details) = refunded_2077();
    let refunds = woo::map_refunds(&order, &details).unwrap();
    assert_eq!(refunds.len(), 2);
    let size = &refunds[0];
    assert_eq!(size.platform_id.as_deref(), Some("2102"));
    assert_eq!(size.amount, "21.41");
    assert_eq!(size.reason.as_deref(), Some("Wrong size"));
    assert_eq!(
        size.created_at.map(utc).as_deref(),
        Some("2025-07-16T08:30:00Z")
    );
    assert_eq!(size.lines.len(), 1);
    let line = &size.lines[0];
    assert_eq!(
        line.platform_line_id.as_deref(),
        Some("301"),
        "the order line, not the refund's own item"
    );
    assert_eq!(line.sku.as_deref(), Some("TS-M"));
    assert_eq!(
        (line.quantity.as_str(), line.amount.as_str()),
        ("1", "16.47"),
        "positive, tax included"
    );
    assert_eq!(size.shipping, "4.94");
    assert!(
        size.restock,
        "the line's restocked units cover every refunded unit"
    );
    let faded = &refunds[1];
    assert_eq!((faded.amount.as_str(), faded.lines.len()), ("5.00", 0));
    assert_eq!(faded.shipping, "0");
    assert!(!faded.restock, "an amount-only refund restocks nothing");
}

#[test]
fn restock_is_only_claimed_when_the_shop_recorded_it() {
    let (mut order, details) = refunded_2077();
    // Without `_restock_refunded_items` the refund does not say: we say no.
    order.line_items[0]
        .meta_data
        .retain(|meta| meta.key != "_restock_refunded_items");
    let refunds = woo::map_refunds(&order, &details).unwrap();
    assert!(!refunds[0].restock);
    // A second refund of the other unit, not restocked: the count (1) no longer covers
    // both refunded units, so neither refund is known to have restocked.
    let (mut order, mut details) = refunded_2077();
    let mut again: Value = serde_json::from_str(REFUNDS).unwrap();
    again[0]["id"] = json!(2103);
    details.insert(0, serde_json::from_value(again[0].clone()).unwrap());
    order.refunds.insert(
        0,
        serde_json::from_value(json!({"id": 2103, "reason": "", "total": "-21.41"})).unwrap(),
    );
    let refunds = woo::map_refunds(&order, &details).unwrap();
    assert!(refunds.iter().all(|refund| !refund.restock), "{refunds:?}");
}

#[test]
fn refunded_units_are_not_delivered() {
    let (order, details) = refunded_2077();
    let mapped = woo::map_order_with_refunds(order, Some(&details)).unwrap();
    let shirt = &mapped.lines[0];
    assert_eq!(shirt.quantity, "1", "two ordered, one refunded");
    assert_eq!(shirt.ordered_quantity.as_deref(), Some("2"));
    assert_eq!(shirt.unit_price, "15.00");
    assert_eq!(
        shirt.total, "13.50",
        "the amounts of what is left to deliver"
    );
    let book = &mapped.lines[1];
    assert_eq!(
        (book.quantity.as_str(), book.ordered_quantity.as_deref()),
        ("1", None)
    );
    assert_eq!(mapped.refunds.len(), 2);
    assert_eq!(mapped.refunds[0].lines.len(), 1);
    // 63.64 ordered, less the refunded shirt's 13.50 and its 2.97 of tax: what the
    // customer pays for what is left; the refunds travel beside it.
    assert_eq!(mapped.total, "47.17");
    assert_eq!(mapped.payment_status, PaymentStatus::PartiallyRefunded);
    assert_adds_up(&mapped);
    // Without the refund details (a webhook payload), the order's own list is used.
    let (order, _) = refunded_2077();
    let summary = woo::map_order(order).unwrap();
    assert_eq!(summary.lines[0].quantity, "2");
    assert_eq!(summary.refunds[0].amount, "21.41");
    assert!(summary.refunds[0].lines.is_empty());
}

#[test]
fn a_fully_refunded_line_has_nothing_left() {
    let (order, mut details) = refunded_2077();
    details[0].line_items[0].quantity = Some(dec("-2"));
    let mapped = woo::map_order_with_refunds(order, Some(&details)).unwrap();
    assert_eq!(mapped.lines[0].quantity, "0");
    assert_eq!(mapped.lines[0].ordered_quantity.as_deref(), Some("2"));
}

#[test]
fn a_refund_made_after_the_order_was_read_is_kept() {
    let (mut order, details) = refunded_2077();
    order.refunds.remove(0);
    let refunds = woo::map_refunds(&order, &details).unwrap();
    let ids: Vec<_> = refunds
        .iter()
        .map(|r| r.platform_id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["2101", "2102"]);
}

fn delivery(topic: &str, body: &[u8], signature: Option<String>) -> WebhookRequest {
    let mut headers = vec![
        ("x-wc-webhook-topic".to_owned(), topic.to_owned()),
        (
            "x-wc-webhook-delivery-id".to_owned(),
            "6c1b0f1e4d1e2b0a9f".to_owned(),
        ),
        ("x-wc-webhook-resource".to_owned(), "order".to_owned()),
    ];
    if let Some(signature) = signature {
        headers.push(("x-wc-webhook-signature".to_owned(), signature));
    }
    WebhookRequest {
        method: "POST".into(),
        headers,
        query: String::new(),
        body: body.to_vec(),
    }
}

fn signed(topic: &str, body: &[u8]) -> WebhookRequest {
    delivery(
        topic,
        body,
        Some(signature::hmac_sha256_base64(SECRET, body)),
    )
}

fn kind<T: std::fmt::Debug>(result: Result<T, ConnectorError>) -> ErrorKind {
    result.unwrap_err().kind
}

#[test]
fn verifies_signed_order_deliveries() {
    let verified = webhooks::verify(SECRET, &signed("order.updated", INCL.as_bytes())).unwrap();
    assert_eq!(verified.topic.as_deref(), Some("order.updated"));
    assert_eq!(verified.delivery_id.as_deref(), Some("6c1b0f1e4d1e2b0a9f"));
    match verified.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, "1042");
            assert_eq!(hint.order.unwrap().total, "60.94");
        }
        other => panic!("{other:?}"),
    }
    for topic in ["order.created", "order.restored"] {
        let verified = webhooks::verify(SECRET, &signed(topic, INCL.as_bytes())).unwrap();
        assert!(
            matches!(verified.event, WebhookEvent::OrderChanged(_)),
            "{topic}"
        );
    }
    let deleted = webhooks::verify(SECRET, &signed("order.deleted", br#"{"id":1042}"#)).unwrap();
    assert_eq!(deleted.event, WebhookEvent::OrderDeleted("1042".into()));
    let product = webhooks::verify(SECRET, &signed("product.updated", br#"{"id":5}"#)).unwrap();
    assert!(matches!(product.event, WebhookEvent::Ignored(_)));
}

#[test]
fn an_order_with_refunds_is_fetched_rather_than_taken_from_the_payload() {
    let verified = webhooks::verify(SECRET, &signed("order.updated", EXCL.as_bytes())).unwrap();
    match verified.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, "2077");
            assert!(hint.order.is_none(), "the payload has no refund lines");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn refuses_bad_or_missing_signatures() {
    let forged = delivery(
        "order.updated",
        INCL.as_bytes(),
        Some(signature::hmac_sha256_base64("wrong", INCL)),
    );
    assert_eq!(
        kind(webhooks::verify(SECRET, &forged)),
        ErrorKind::BadSignature
    );
    let garbage = delivery("order.updated", INCL.as_bytes(), Some("not base64!".into()));
    assert_eq!(
        kind(webhooks::verify(SECRET, &garbage)),
        ErrorKind::BadSignature
    );
    let unsigned = delivery("order.updated", INCL.as_bytes(), None);
    assert_eq!(
        kind(webhooks::verify(SECRET, &unsigned)),
        ErrorKind::BadSignature
    );
    // A signed body that was altered (re-serialized) no longer matches.
    let mut altered = signed("order.updated", INCL.as_bytes());
    altered.body = serde_json::to_vec(&serde_json::from_str::<Value>(INCL).unwrap()).unwrap();
    assert_eq!(
        kind(webhooks::verify(SECRET, &altered)),
        ErrorKind::BadSignature
    );
}

#[test]
fn answers_the_activation_ping() {
    let ping = WebhookRequest {
        method: "POST".into(),
        headers: vec![(
            "user-agent".into(),
            "WooCommerce/9.6.0 Hookshot (WordPress/6.7.1)".into(),
        )],
        query: String::new(),
        body: b"webhook_id=12".to_vec(),
    };
    let verified = webhooks::verify(SECRET, &ping).unwrap();
    assert_eq!(verified.event, WebhookEvent::Ping(None));
    // Anything else unsigned is refused, even with a ping-like body plus a topic.
    let mut sneaky = ping.clone();
    sneaky
        .headers
        .push(("x-wc-webhook-topic".into(), "order.updated".into()));
    assert_eq!(
        kind(webhooks::verify(SECRET, &sneaky)),
        ErrorKind::BadSignature
    );
    sneaky.headers.clear();
    sneaky.body = b"webhook_id=12&x=1".to_vec();
    assert_eq!(
        kind(webhooks::verify(SECRET, &sneaky)),
        ErrorKind::BadSignature
    );
}

#[test]
fn webhook_urls_compare_as_wordpress_stores_them() {
    let url = "https://Tovor.example/hooks/woo-7f3a";
    assert!(webhooks::same_url(
        "https://tovor.example/hooks/woo-7f3a/",
        url
    ));
    assert!(webhooks::same_url(
        "HTTPS://TOVOR.EXAMPLE/hooks/woo-7f3a",
        url
    ));
    assert!(
        !webhooks::same_url("https://tovor.example/hooks/WOO-7f3a", url),
        "paths keep their case"
    );
    assert!(!webhooks::same_url(
        "https://tovor.example/hooks/woo-7f3b",
        url
    ));
    assert_eq!(webhooks::TOPICS.len(), 4);
}

#[test]
fn modified_after_is_naive_gmt_one_second_early() {
    assert_eq!(
        modified_after(datetime!(2025-03-02 09:15:00 UTC)),
        "2025-03-02T09:14:59"
    );
    assert_eq!(
        modified_after(datetime!(2025-03-02 10:15:00 +01:00)),
        "2025-03-02T09:14:59"
    );
    assert_eq!(
        modified_after(datetime!(2025-03-02 09:15:00.750 UTC)),
        "2025-03-02T09:14:59"
    );
}

#[test]
fn builds_the_api_root_and_cursors() {
    assert_eq!(
        api_root("https://shop.example/"),
        "https://shop.example/wp-json/wc/v3"
    );
    assert_eq!(
        api_root("http://127.0.0.1:8080"),
        "http://127.0.0.1:8080/wp-json/wc/v3"
    );
    assert_eq!(page_cursor(None).unwrap(), 1);
    assert_eq!(page_cursor(Some("3".into())).unwrap(), 3);
    assert!(page_cursor(Some("0".into())).is_err());
    assert!(page_cursor(Some("next".into())).is_err());
    let response = |pages: &str| tovor_sdk::http::Response {
        status: 200,
        headers: vec![("X-WP-TotalPages".into(), pages.into())],
        body: Vec::new(),
        url: String::new(),
    };
    assert_eq!(next_page(&response("3"), 2).as_deref(), Some("3"));
    assert_eq!(next_page(&response("3"), 3), None);
    assert_eq!(next_page(&response("0"), 1), None);
}

#[test]
fn woocommerce_errors_keep_code_and_message() {
    let body = br#"{"code":"woocommerce_rest_authentication_error","message":"Invalid signature - provided signature does not match.","data":{"status":401}}"#;
    let error = woo::response_error(401, &[], body).unwrap();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(
        error.message.contains("Invalid signature"),
        "{}",
        error.message
    );
    assert_eq!(
        error.platform_code.as_deref(),
        Some("woocommerce_rest_authentication_error")
    );
    assert_eq!(error.http_status, Some(401));
    let missing = br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#;
    assert_eq!(
        woo::response_error(404, &[], missing).unwrap().kind,
        ErrorKind::NotFound
    );
    // Core answers an update of an unknown order with 400: still not-found.
    let update = woo::response_error(400, &[], missing).unwrap();
    assert_eq!(
        (update.kind, update.http_status),
        (ErrorKind::NotFound, Some(400))
    );
    let limited = woo::response_error(
        429,
        &[("Retry-After".into(), "3".into())],
        b"<html>Too Many</html>",
    )
    .unwrap();
    assert_eq!(
        (limited.kind, limited.retry_after_ms),
        (ErrorKind::RateLimited, Some(3000))
    );
    assert_eq!(
        woo::response_error(503, &[], b"<html>down</html>")
            .unwrap()
            .kind,
        ErrorKind::Transient
    );
    let invalid = br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400}}"#;
    assert_eq!(
        woo::response_error(400, &[], invalid).unwrap().kind,
        ErrorKind::InvalidInput
    );
    assert!(woo::response_error(200, &[], b"[]").is_none());
}

#[test]
fn batch_items_map_to_per_item_errors() {
    assert!(woo::batch_item_result(&json!({"id": 5, "stock_quantity": 3})).is_ok());
    let missing = json!({"id": 9, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}});
    let error = woo::batch_item_result(&missing).unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    assert_eq!(
        error.platform_code.as_deref(),
        Some("woocommerce_rest_product_invalid_id")
    );
    let refused = json!({"id": 9, "error": {"code": "woocommerce_rest_invalid_sku", "message": "Invalid or duplicated SKU.", "data": {"status": 400}}});
    assert_eq!(
        kind(woo::batch_item_result(&refused)),
        ErrorKind::InvalidInput
    );
}

#[test]
fn stock_keys_name_a_product_or_a_variation() {
    assert_eq!(stock_target("12").unwrap(), StockTarget::Product(12));
    assert_eq!(
        stock_target(" 12:14 ").unwrap(),
        StockTarget::Variation {
            product: 12,
            variation: 14
        }
    );
    for bad in ["", "abc", "12:", ":14", "12:14:16", "TS-M"] {
        let error = stock_target(bad).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("key"), "{bad:?}");
    }
    assert_eq!(woo::variation_stock_key(12, 14), "12:14");
    assert_eq!(woo::product_stock_key(12), "12");
}

#[test]
fn maps_products_and_variations() {
    let parent: woo::WooProduct = serde_json::from_value(json!({
        "id": 10, "name": "T-shirt", "type": "variable", "sku": "", "price": "15.00",
        "manage_stock": false, "stock_quantity": null, "attributes": [{"name": "Size", "options": ["S", "M"]}]
    }))
    .unwrap();
    let medium: woo::WooProduct = serde_json::from_value(json!({
        "id": 12, "sku": "TS-M", "price": "15.00", "manage_stock": true, "stock_quantity": 35,
        "global_unique_id": "3830000000127",
        "attributes": [{"id": 0, "name": "Size", "option": "M"}]
    }))
    .unwrap();
    let shared: woo::WooProduct = serde_json::from_value(json!({
        "id": 13, "sku": "TS-L", "price": "", "manage_stock": "parent", "stock_quantity": 7,
        "attributes": [{"id": 0, "name": "Size", "option": "L"}, {"id": 0, "name": "Colour", "option": "Red"}]
    }))
    .unwrap();
    let product = woo::map_product(&parent, &[medium, shared]);
    assert_eq!(
        (product.id.as_str(), product.name.as_str()),
        ("10", "T-shirt")
    );
    let [m, l] = product.variants.as_slice() else {
        panic!("{product:?}")
    };
    assert_eq!(m.stock_key, "10:12");
    assert_eq!(m.variant_id.as_deref(), Some("12"));
    assert_eq!(m.name.as_deref(), Some("M"));
    assert_eq!(m.sku.as_deref(), Some("TS-M"));
    assert_eq!(m.barcode.as_deref(), Some("3830000000127"));
    assert_eq!((m.stock.as_deref(), m.manages_stock), (Some("35"), true));
    assert_eq!(m.price.as_deref(), Some("15.00"));
    assert_eq!(
        l.stock_key, "10",
        "stock kept on the parent is the parent's"
    );
    assert_eq!(l.name.as_deref(), Some("L, Red"));
    assert_eq!(
        (l.stock.as_deref(), l.manages_stock, l.price.as_deref()),
        (Some("7"), true, None)
    );

    let cap: woo::WooProduct = serde_json::from_value(json!({
        "id": 30, "name": "Cap", "type": "simple", "sku": "CAP-01", "price": "12.90",
        "manage_stock": true, "stock_quantity": 25
    }))
    .unwrap();
    let product = woo::map_product(&cap, &[]);
    let [only] = product.variants.as_slice() else {
        panic!("{product:?}")
    };
    assert_eq!(
        (only.stock_key.as_str(), only.variant_id.as_deref()),
        ("30", None)
    );
    assert_eq!(
        (only.sku.as_deref(), only.stock.as_deref()),
        (Some("CAP-01"), Some("25"))
    );
    // A variable product without variations is still one sellable thing.
    let empty = woo::map_product(&parent, &[]);
    assert_eq!(empty.variants.len(), 1);
    assert_eq!(
        (
            empty.variants[0].stock.as_deref(),
            empty.variants[0].manages_stock
        ),
        (None, false)
    );
}

fn shipment(parcels: &[(&str, Option<&str>)], lines: &[(&str, &str)]) -> Shipment {
    Shipment {
        lines: lines
            .iter()
            .map(|(line, quantity)| ShippedLine {
                platform_line_id: (*line).into(),
                quantity: (*quantity).into(),
            })
            .collect(),
        carrier: "GLS".into(),
        parcels: parcels
            .iter()
            .map(|(number, url)| Parcel {
                tracking_number: (*number).into(),
                tracking_url: url.map(str::to_owned),
            })
            .collect(),
        notify_customer: true,
    }
}

#[test]
fn shipment_notes_name_carrier_parcels_and_items() {
    let one = fulfil::shipment_note(
        &shipment(&[("GLS123", Some("https://gls.example/t/GLS123"))], &[]),
        &[],
    );
    assert_eq!(
        one,
        "Your order has been shipped with GLS. Tracking number: GLS123. Track your parcel: https://gls.example/t/GLS123"
    );
    let two = shipment(
        &[("GLS1", Some("https://gls.example/t/GLS1")), ("GLS2", None)],
        &[],
    );
    assert_eq!(
        fulfil::shipment_note(&two, &[]),
        "Your order has been shipped with GLS in 2 parcels. Tracking numbers: GLS1 (https://gls.example/t/GLS1), GLS2."
    );
    assert_eq!(
        fulfil::shipment_note(&shipment(&[], &[]), &[]),
        "Your order has been shipped with GLS."
    );
    let order: woo::WooOrder = serde_json::from_str(EXCL).unwrap();
    let partial = shipment(&[("GLS1", None)], &[("301", "1"), ("302", "1.000")]);
    let items = fulfil::shipped_items(&partial, &order).unwrap();
    assert!(
        fulfil::shipment_note(&partial, &items)
            .ends_with(" In this shipment: 1 × T-shirt - M, 1 × Cookbook."),
        "{items:?}"
    );
    let unknown = shipment(&[("GLS1", None)], &[("301", "1"), ("999", "1")]);
    let error = fulfil::shipped_items(&unknown, &order).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("lines[1].platform-line-id"));
}

fn order_state(status: &str, paid: Option<&str>) -> woo::WooOrder {
    serde_json::from_value(json!({
        "id": 7, "status": status, "currency": "EUR", "total": "10.00", "date_paid_gmt": paid
    }))
    .unwrap()
}

#[test]
fn marking_paid_follows_core_rules() {
    assert_eq!(
        paid_update(&order_state("pending", None)).unwrap(),
        Some(json!({"set_paid": true}))
    );
    assert_eq!(
        paid_update(&order_state("failed", None)).unwrap(),
        Some(json!({"set_paid": true}))
    );
    assert_eq!(
        paid_update(&order_state("on-hold", None)).unwrap(),
        Some(json!({"status": "processing", "set_paid": true})),
        "set_paid alone does nothing to an on-hold order"
    );
    assert_eq!(
        paid_update(&order_state("on-hold", Some("2025-01-01T10:00:00"))).unwrap(),
        None
    );
    assert_eq!(paid_update(&order_state("processing", None)).unwrap(), None);
    assert_eq!(
        paid_update(&order_state("cancelled", None))
            .unwrap_err()
            .kind,
        ErrorKind::Conflict
    );
    let kept =
        check_status_change("7", StatusChange::Paid, &order_state("pending", None)).unwrap_err();
    assert_eq!(kept.kind, ErrorKind::Conflict);
    assert!(
        check_status_change(
            "7",
            StatusChange::Cancelled,
            &order_state("cancelled", None)
        )
        .is_ok()
    );
}

#[test]
fn connection_failures_say_what_to_fix() {
    let error =
        |status: u16, body: &str| woo::response_error(status, &[], body.as_bytes()).unwrap();
    let key = connection::explain(error(
        401,
        r#"{"code":"woocommerce_rest_authentication_error","message":"Consumer key is invalid.","data":{"status":401}}"#,
    ));
    assert_eq!(
        (key.kind, key.field.as_deref()),
        (ErrorKind::Auth, Some("consumer_key"))
    );
    assert!(key.message.contains("consumer_secret"), "{}", key.message);
    let secret = connection::explain(error(
        401,
        r#"{"code":"woocommerce_rest_authentication_error","message":"Invalid signature - provided signature does not match.","data":{"status":401}}"#,
    ));
    assert_eq!(secret.field.as_deref(), Some("consumer_secret"));
    let read_only = connection::explain(error(
        401,
        r#"{"code":"woocommerce_rest_authentication_error","message":"The API key provided does not have read permissions.","data":{"status":401}}"#,
    ));
    assert_eq!(read_only.kind, ErrorKind::Permission);
    let forbidden = connection::explain(error(
        403,
        r#"{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":403}}"#,
    ));
    assert_eq!(forbidden.kind, ErrorKind::Permission);
    assert!(
        forbidden.message.contains("Read/Write"),
        "{}",
        forbidden.message
    );
    let nowhere = connection::explain(error(404, "<html>Not found</html>"));
    assert_eq!(
        (nowhere.kind, nowhere.field.as_deref()),
        (ErrorKind::NotFound, Some("url"))
    );
    assert!(
        nowhere.message.contains("permalinks"),
        "{}",
        nowhere.message
    );
    let no_woo = connection::explain(error(
        404,
        r#"{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}"#,
    ));
    assert!(
        no_woo.message.contains("WooCommerce installed and active"),
        "{}",
        no_woo.message
    );
    let moved = woo::response_error(
        301,
        &[(
            "Location".into(),
            "https://www.shop.example/wp-json/wc/v3/orders".into(),
        )],
        b"",
    )
    .unwrap();
    assert_eq!(connection::explain(moved).field.as_deref(), Some("url"));
}

#[test]
fn payment_gateways_are_enabled_by_flag_or_word() {
    let gateway = |enabled: Value| -> woo::WooGateway {
        serde_json::from_value(json!({"id": "bacs", "title": "Bank", "enabled": enabled})).unwrap()
    };
    assert!(gateway(json!(true)).is_enabled());
    assert!(gateway(json!("yes")).is_enabled());
    assert!(!gateway(json!(false)).is_enabled());
    assert!(!gateway(json!("no")).is_enabled());
}

/// Every order of the seeded fake shop (guest and registered customers, coupons, fees,
/// prices with tax, refunds, USD) maps and adds up as the host requires.
#[tokio::test]
async fn the_fake_shops_orders_map_and_add_up() {
    use tovor_fakes::woocommerce::{FakeWoo, OrderSpec, RefundSpec};
    let fake = FakeWoo::start_seeded().await.unwrap();
    let mut seen = 0;
    for id in 1..400 {
        let Some(json) = fake.order(id) else { continue };
        let order = map_order_json(json.to_string().as_bytes()).unwrap();
        assert_adds_up(&order);
        assert!(
            order.lines.iter().all(|line| line.tax_rate.is_some()),
            "{order:?}"
        );
        seen += 1;
    }
    assert!(seen >= 9, "{seen}");
    // A larger mixed order: gross prices, coupons of every kind, a fee and shipping.
    let (shirt, sizes) = fake.add_variable_product(
        "Hoodie",
        &[
            ("H-S", "S", "39.99", Some(5)),
            ("H-M", "M", "41.49", Some(5)),
        ],
    );
    let cap = fake.add_simple_product("CAP-9", "Cap", "12.90", Some(10));
    for incl in [false, true] {
        let json = fake.create_order(
            &OrderSpec::new()
                .prices_include_tax(incl)
                .line(shirt, Some(sizes[0]), 3)
                .line(shirt, Some(sizes[1]), 1)
                .line(cap, None, 7)
                .coupon("POLETJE10")
                .coupon("MINUS5")
                .coupon("EUR2")
                .shipping("GLS", "4.05")
                .fee("Gift wrap", "2.50"),
        );
        let id = json["id"].as_u64().unwrap();
        let order = map_order_json(json.to_string().as_bytes()).unwrap();
        assert_adds_up(&order);
        assert_eq!(order.coupons.len(), 3);
        // The fake's refunds map as the connector reads them.
        let cap_line = json["line_items"][2]["id"].as_u64().unwrap();
        fake.refund_lines(
            id,
            &RefundSpec::new("Damaged").line(cap_line, 2).restock(true),
        );
        let refunds: Vec<woo::WooRefundDetail> =
            serde_json::from_value(Value::Array(fake.refunds(id))).unwrap();
        let order: woo::WooOrder = serde_json::from_value(fake.order(id).unwrap()).unwrap();
        let mapped = woo::map_order_with_refunds(order, Some(&refunds)).unwrap();
        assert_eq!(mapped.lines[2].quantity, "5");
        assert!(mapped.refunds[0].restock);
        assert_adds_up(&mapped);
    }
}
