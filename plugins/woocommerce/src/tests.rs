//! Native unit tests: `cargo test -p woocommerce`. The HTTP round trips run in the real
//! runtime against the fake WooCommerce in tests/harness.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tovor_sdk::money::{Decimal, parse_decimal};
use tovor_sdk::shop::StockKey;
use tovor_sdk::types::{OrderStatus, PaymentStatus};

use super::*;
use crate::woo::{map_status, payment_status, split_street};

const INCL: &str = include_str!("../fixtures/order-1042-prices-incl-tax.json");
const EXCL: &str = include_str!("../fixtures/order-2077-coupon-fee-refund.json");
const SECRET: &str = "whsec-woo-tests";

fn dec(text: &str) -> Decimal {
    parse_decimal(text).unwrap()
}

/// The identities the host checks (host/domain/src/order/validate.rs), in small.
pub(crate) fn assert_adds_up(order: &Order) {
    let cent = dec("0.01");
    let tolerance = |parts: usize| cent * Decimal::from(parts.max(1));
    assert!(!order.lines.is_empty(), "{}: no lines", order.id);
    for (index, line) in order.lines.iter().enumerate() {
        let quantity = dec(&line.quantity);
        assert!(quantity > Decimal::ZERO);
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
    assert!(order.created_at.ends_with('Z') && order.modified_at.ends_with('Z'));
}

#[test]
fn maps_an_order_with_prices_including_tax() {
    let order = map_order_json(INCL.as_bytes()).unwrap();
    assert_eq!((order.id.as_str(), order.number.as_str()), ("1042", "1042"));
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.status_raw, "processing");
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert!(order.prices_include_tax);
    assert_eq!(order.created_at, "2025-03-02T09:15:00Z", "the _gmt date");
    assert_eq!(order.modified_at, "2025-03-02T09:16:10Z");
    assert_eq!(order.paid_at.as_deref(), Some("2025-03-02T09:16:10Z"));
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
    assert_eq!(order.created_at, "2025-07-14T16:02:11Z");
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
    assert!(matches!(
        map_order_json(b"{}"),
        Err(ConnectorError::Other(_))
    ));
    assert!(map_order_json(b"<html>").is_err());
    let mut json: Value = serde_json::from_str(INCL).unwrap();
    json["date_created_gmt"] = Value::Null;
    assert!(map_order_json(json.to_string().as_bytes()).is_err());
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

#[test]
fn verifies_signed_order_deliveries() {
    let verified = verify_webhook(SECRET, &signed("order.updated", INCL.as_bytes())).unwrap();
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
        let verified = verify_webhook(SECRET, &signed(topic, INCL.as_bytes())).unwrap();
        assert!(
            matches!(verified.event, WebhookEvent::OrderChanged(_)),
            "{topic}"
        );
    }
    let deleted = verify_webhook(SECRET, &signed("order.deleted", br#"{"id":1042}"#)).unwrap();
    assert_eq!(deleted.event, WebhookEvent::OrderDeleted("1042".into()));
    let product = verify_webhook(SECRET, &signed("product.updated", br#"{"id":5}"#)).unwrap();
    assert!(matches!(product.event, WebhookEvent::Ignored(_)));
}

#[test]
fn refuses_bad_or_missing_signatures() {
    let forged = delivery(
        "order.updated",
        INCL.as_bytes(),
        Some(signature::hmac_sha256_base64("wrong", INCL)),
    );
    assert!(matches!(
        verify_webhook(SECRET, &forged),
        Err(ConnectorError::BadSignature(_))
    ));
    let garbage = delivery("order.updated", INCL.as_bytes(), Some("not base64!".into()));
    assert!(matches!(
        verify_webhook(SECRET, &garbage),
        Err(ConnectorError::BadSignature(_))
    ));
    let unsigned = delivery("order.updated", INCL.as_bytes(), None);
    assert!(matches!(
        verify_webhook(SECRET, &unsigned),
        Err(ConnectorError::BadSignature(_))
    ));
    // A signed body that was altered (re-serialized) no longer matches.
    let mut altered = signed("order.updated", INCL.as_bytes());
    altered.body = serde_json::to_vec(&serde_json::from_str::<Value>(INCL).unwrap()).unwrap();
    assert!(matches!(
        verify_webhook(SECRET, &altered),
        Err(ConnectorError::BadSignature(_))
    ));
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
    let verified = verify_webhook(SECRET, &ping).unwrap();
    assert_eq!(verified.event, WebhookEvent::Ping(None));
    // Anything else unsigned is refused, even with a ping-like body plus a topic.
    let mut sneaky = ping.clone();
    sneaky
        .headers
        .push(("x-wc-webhook-topic".into(), "order.updated".into()));
    assert!(matches!(
        verify_webhook(SECRET, &sneaky),
        Err(ConnectorError::BadSignature(_))
    ));
    sneaky.headers.clear();
    sneaky.body = b"webhook_id=12&x=1".to_vec();
    assert!(matches!(
        verify_webhook(SECRET, &sneaky),
        Err(ConnectorError::BadSignature(_))
    ));
}

/// The same vector the fake checks, computed independently with Python's `hmac` and
/// `urllib.parse.quote(safe='~')`.
#[test]
fn oauth_signature_matches_an_independent_computation() {
    let mut params: Vec<(String, String)> = [
        ("modified_after", "2025-03-02T09:15:00"),
        ("per_page", "100"),
        ("status", "any"),
        ("oauth_consumer_key", "ck_test"),
        ("oauth_timestamp", "1700000000"),
        ("oauth_nonce", "abc123"),
        ("oauth_signature_method", "HMAC-SHA256"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signature = oauth::signature(
        "GET",
        "http://127.0.0.1:8080/wp-json/wc/v3/orders",
        &mut params,
        "cs_test",
    );
    assert_eq!(signature, "XTqmZe/3MerNz9SPu5AcO7FkU2ruG07n4OD3jncfUQs=");
    let query: Vec<(String, String)> = [
        ("modified_after", "2025-03-02T09:15:00"),
        ("per_page", "100"),
        ("status", "any"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signed = oauth::sign_request(
        "GET",
        "http://127.0.0.1:8080/wp-json/wc/v3/orders",
        &query,
        "ck_test",
        "cs_test",
        1_700_000_000,
        "abc123",
    );
    assert_eq!(signed.last().unwrap().1, signature);
}

#[test]
fn nonces_do_not_repeat() {
    let a = oauth::nonce();
    let b = oauth::nonce();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
}

#[test]
fn modified_after_is_naive_gmt_one_second_early() {
    assert_eq!(
        modified_after("2025-03-02T09:15:00Z").unwrap(),
        "2025-03-02T09:14:59"
    );
    assert_eq!(
        modified_after("2025-03-02T10:15:00+01:00").unwrap(),
        "2025-03-02T09:14:59"
    );
    assert_eq!(
        modified_after("2025-03-02T09:15:00.750Z").unwrap(),
        "2025-03-02T09:14:59"
    );
    assert!(matches!(
        modified_after("yesterday"),
        Err(ConnectorError::InvalidInput(_))
    ));
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
    let response = |pages: &str| Response {
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
    match woo::response_error(401, &[], body) {
        Some(ConnectorError::Auth(message)) => {
            assert!(
                message.contains("woocommerce_rest_authentication_error"),
                "{message}"
            );
            assert!(message.contains("Invalid signature"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let missing = br#"{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}"#;
    assert!(
        matches!(woo::response_error(404, &[], missing), Some(ConnectorError::NotFound(m)) if m.contains("invalid_id"))
    );
    let limited = woo::response_error(
        429,
        &[("Retry-After".into(), "3".into())],
        b"<html>Too Many</html>",
    );
    match limited {
        Some(ConnectorError::RateLimited(limit)) => assert_eq!(limit.retry_after_ms, Some(3000)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        woo::response_error(503, &[], b"<html>down</html>"),
        Some(ConnectorError::Transient(_))
    ));
    let invalid = br#"{"code":"rest_invalid_param","message":"Invalid parameter(s): per_page","data":{"status":400}}"#;
    assert!(matches!(
        woo::response_error(400, &[], invalid),
        Some(ConnectorError::InvalidInput(_))
    ));
    assert!(woo::response_error(200, &[], b"[]").is_none());
}

#[test]
fn batch_items_map_to_per_item_errors() {
    assert!(woo::batch_item_result(&json!({"id": 5, "stock_quantity": 3})).is_ok());
    let missing = json!({"id": 9, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}});
    assert!(matches!(
        woo::batch_item_result(&missing),
        Err(ConnectorError::NotFound(_))
    ));
    let refused = json!({"id": 9, "error": {"code": "woocommerce_rest_invalid_sku", "message": "Invalid or duplicated SKU.", "data": {"status": 400}}});
    assert!(matches!(
        woo::batch_item_result(&refused),
        Err(ConnectorError::InvalidInput(_))
    ));
}

#[test]
fn stock_levels_need_a_product_id() {
    let level = |product: Option<&str>, variation: Option<&str>| StockLevel {
        key: StockKey {
            sku: Some("X".into()),
            product_id: product.map(str::to_owned),
            variation_id: variation.map(str::to_owned),
            inventory_item_id: None,
            location_id: None,
        },
        quantity: 4,
    };
    assert_eq!(stock_target(&level(Some("12"), None)).unwrap(), (12, None));
    assert_eq!(
        stock_target(&level(Some("12"), Some("14"))).unwrap(),
        (12, Some(14))
    );
    assert!(
        matches!(stock_target(&level(None, None)), Err(ConnectorError::InvalidInput(f)) if f.field.as_deref() == Some("product_id"))
    );
    assert!(stock_target(&level(Some("abc"), None)).is_err());
}

#[test]
fn maps_products_and_variations() {
    let parent: woo::WooProduct = serde_json::from_value(json!({
        "id": 10, "name": "T-shirt", "type": "variable", "sku": "", "price": "15.00",
        "manage_stock": false, "stock_quantity": null, "attributes": [{"name": "Size", "options": ["S", "M"]}]
    }))
    .unwrap();
    let variation: woo::WooProduct = serde_json::from_value(json!({
        "id": 12, "sku": "TS-M", "price": "15.00", "manage_stock": true, "stock_quantity": 35,
        "attributes": [{"id": 0, "name": "Size", "option": "M"}]
    }))
    .unwrap();
    let product = woo::map_variation(&parent, &variation);
    assert_eq!(product.name, "T-shirt - M");
    assert_eq!(product.key.product_id.as_deref(), Some("10"));
    assert_eq!(product.key.variation_id.as_deref(), Some("12"));
    assert_eq!(product.key.sku.as_deref(), Some("TS-M"));
    assert_eq!((product.stock, product.manages_stock), (Some(35), true));
    assert_eq!(product.price.as_deref(), Some("15.00"));
    let parent_item = woo::map_product(&parent);
    assert_eq!(
        (
            parent_item.key.sku,
            parent_item.stock,
            parent_item.manages_stock
        ),
        (None, None, false)
    );
    let inherits: woo::WooProduct = serde_json::from_value(json!({
        "id": 13, "sku": "TS-L", "price": "", "manage_stock": "parent", "stock_quantity": 7, "attributes": []
    }))
    .unwrap();
    let product = woo::map_variation(&parent, &inherits);
    assert_eq!(
        (product.stock, product.manages_stock, product.price),
        (Some(7), true, None)
    );
}

#[test]
fn shipped_note_names_carrier_number_and_url() {
    let note = shipped_note(&Tracking {
        carrier: "GLS".into(),
        number: "GLS123".into(),
        url: Some("https://gls.example/t/GLS123".into()),
    });
    assert!(
        note.contains("GLS")
            && note.contains("GLS123")
            && note.contains("https://gls.example/t/GLS123")
    );
}

/// Every order of the seeded fake shop (guest and registered customers, coupons, fees,
/// prices with tax, refunds, USD) maps and adds up as the host requires.
#[tokio::test]
async fn the_fake_shops_orders_map_and_add_up() {
    use tovor_fakes::woocommerce::{FakeWoo, OrderSpec};
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
        let order = map_order_json(json.to_string().as_bytes()).unwrap();
        assert_adds_up(&order);
        assert_eq!(order.coupons.len(), 3);
    }
}
