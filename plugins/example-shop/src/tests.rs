//! Native unit tests: `cargo test -p example-shop --lib`. They cover everything but the
//! HTTP round trips, which the harness tests against a mock Minishop.

use tovor_sdk::time::format_utc;
use tovor_sdk::types::{ConfigValue, OrderStatus, PaymentStatus, Timestamp};

use super::*;
use crate::minishop::{map_order, map_status, next_cursor, split_street};

const ORDER_JSON: &str = include_str!("../fixtures/order-1042.json");
const SECRET: &str = "whsec-minishop";

fn webhook(event: &str, body: &str, signature: Option<String>) -> WebhookRequest {
    let mut headers = vec![
        ("x-minishop-event".to_owned(), event.to_owned()),
        (
            "x-minishop-delivery".to_owned(),
            "7f9c2ba4-e88f-4b2a-9c1d-3a5e8f0b6d21".to_owned(),
        ),
    ];
    if let Some(signature) = signature {
        headers.push(("x-minishop-signature".to_owned(), signature));
    }
    WebhookRequest {
        method: "POST".into(),
        headers,
        query: String::new(),
        body: body.as_bytes().to_vec(),
    }
}

fn signed(event: &str, body: &str) -> WebhookRequest {
    let signature = format!("sha256={}", signature::hmac_sha256_hex(SECRET, body));
    webhook(event, body, Some(signature))
}

fn at(text: &str) -> Timestamp {
    tovor_sdk::time::timestamp(text).unwrap()
}

fn config(pairs: &[(&str, &str)]) -> Config {
    pairs
        .iter()
        .map(|(name, value)| (*name, ConfigValue::from(*value)))
        .collect()
}

fn kind<T: std::fmt::Debug>(result: Result<T, ConnectorError>) -> ErrorKind {
    result.unwrap_err().kind
}

#[test]
fn maps_the_sample_order() {
    let order = map_order(serde_json::from_str(ORDER_JSON).unwrap()).unwrap();
    assert_eq!(order.id, "1042");
    assert_eq!(order.number, "1042");
    assert_eq!(
        (order.status, order.payment_status),
        (OrderStatus::Processing, PaymentStatus::Paid)
    );
    assert_eq!(order.status_raw, "paid");
    assert_eq!(order.currency, "EUR");
    assert_eq!(order.created_at, at("2026-11-28T10:00:00Z"));
    assert_eq!(
        order.modified_at,
        at("2026-11-28T10:30:00Z"),
        "converted to UTC"
    );
    let payment = order.payment_method.as_ref().unwrap();
    assert_eq!(
        (payment.code.as_str(), payment.title.as_str()),
        ("cod", "Cash on delivery")
    );

    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id.as_deref(), Some("7"));
    assert_eq!(customer.first_name.as_deref(), Some("Ana"));
    assert_eq!(customer.last_name.as_deref(), Some("Novak"));
    assert_eq!(customer.email.as_deref(), Some("ana.novak@example.com"));

    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(billing.line1.as_deref(), Some("Slovenska cesta 12a"));
    assert_eq!(billing.postal_code.as_deref(), Some("1000"));
    assert_eq!(billing.country.as_deref(), Some("SI"), "upper-cased");
    assert_eq!(
        order.shipping.as_ref().unwrap().street.as_deref(),
        Some("Trg republike")
    );

    let line = &order.lines[0];
    assert_eq!(line.platform_line_id.as_deref(), Some("1"));
    assert_eq!(line.sku.as_deref(), Some("MUG-1"));
    assert_eq!(line.quantity, "2");
    assert_eq!(line.unit_price, "9.90");
    assert_eq!(line.discount, "0");
    assert_eq!(line.tax_rate.as_deref(), Some("22"));
    assert_eq!(line.tax_amount, "4.36");
    assert_eq!(line.total, "19.80");
    assert_eq!(order.shipping_lines[0].title, "Parcel");
    assert_eq!(order.shipping_lines[0].amount, "4.10");
    assert_eq!(order.shipping_total, "4.10");
    assert_eq!(order.tax_total, "5.26");
    assert_eq!(order.discount_total, "0");
    assert_eq!(order.total, "29.16");
    assert!(!order.prices_include_tax);
    assert_eq!(order.customer_note, None);
}

#[test]
fn amounts_may_arrive_as_numbers() {
    let mut json: serde_json::Value = serde_json::from_str(ORDER_JSON).unwrap();
    json["items"][0]["unit_price"] = serde_json::json!(9.9);
    json["items"][0]["tax"] = serde_json::json!(4.36);
    json["shipping"]["price"] = serde_json::json!(4.1);
    json["total"] = serde_json::json!(29.16);
    json["customer"]["id"] = serde_json::Value::Null;
    json["shipping_address"] = serde_json::Value::Null;
    let order = map_order(serde_json::from_value(json).unwrap()).unwrap();
    assert_eq!(order.lines[0].unit_price, "9.9");
    assert_eq!(order.lines[0].tax_amount, "4.36");
    assert_eq!(order.shipping_total, "4.1");
    assert_eq!(order.total, "29.16");
    assert_eq!(order.customer.unwrap().platform_id, None, "guest checkout");
    assert_eq!(order.shipping, None);
}

#[test]
fn a_bad_timestamp_is_refused() {
    let json = ORDER_JSON.replace("2026-11-28T10:00:00Z", "yesterday");
    let error = serde_json::from_str::<MsOrder>(&json).unwrap_err();
    assert!(error.to_string().contains("yesterday"), "{error}");
    // In a webhook, the same body is invalid input.
    let error = Minishop::verify_webhook(
        &config(&[("webhook_secret", SECRET)]),
        signed("order.updated", &json),
    )
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput, "{error:?}");
}

#[test]
fn statuses() {
    use OrderStatus as O;
    use PaymentStatus as P;
    assert_eq!(map_status("pending"), (O::Pending, P::Unpaid));
    assert_eq!(map_status("paid"), (O::Processing, P::Paid));
    assert_eq!(map_status("shipped"), (O::Completed, P::Paid));
    assert_eq!(map_status("cancelled"), (O::Cancelled, P::Unknown));
    assert_eq!(map_status("refunded"), (O::Refunded, P::Refunded));
    assert_eq!(map_status("on-the-moon"), (O::Other, P::Unknown));
}

#[test]
fn streets_and_house_numbers() {
    let split = |line: &str| {
        let (street, number) = split_street(line);
        (street.unwrap_or_default(), number.unwrap_or_default())
    };
    assert_eq!(
        split("Slovenska cesta 12a"),
        ("Slovenska cesta".into(), "12a".into())
    );
    assert_eq!(split("Trg OF 3"), ("Trg OF".into(), "3".into()));
    assert_eq!(split("Main Street"), ("Main Street".into(), String::new()));
    assert_eq!(
        split("Ulica 5. maja"),
        ("Ulica 5. maja".into(), String::new())
    );
    assert_eq!(
        split("  Cankarjeva 1/b  "),
        ("Cankarjeva".into(), "1/b".into())
    );
    assert_eq!(split_street(""), (None, None));
}

#[test]
fn pages_and_cursors() {
    assert_eq!(next_cursor(1, 3).as_deref(), Some("2"));
    assert_eq!(next_cursor(3, 3), None);
    assert_eq!(next_cursor(1, 0), None, "no orders at all");
    let since = tovor_sdk::time::parse_rfc3339("2026-11-28T11:00:00+01:00").unwrap();
    assert_eq!(format_utc(since), "2026-11-28T10:00:00Z");
    let request = orders_request("https://shop.example/api/v1", since, 2);
    assert_eq!(
        request.url(),
        "https://shop.example/api/v1/orders?updated_since=2026-11-28T10%3A00%3A00Z&page=2&per_page=50"
    );
}

#[test]
fn api_base_replaces_the_shop_url() {
    let shop = config(&[("shop_url", "https://shop.example/"), ("api_token", "t")]);
    assert_eq!(api_base(&shop).unwrap(), "https://shop.example/api/v1");
    let overridden = config(&[
        ("shop_url", "https://shop.example"),
        ("api_base", "http://127.0.0.1:8081"),
    ]);
    assert_eq!(
        api_base(&overridden).unwrap(),
        "http://127.0.0.1:8081/api/v1"
    );
    assert!(api_base(&Config::default()).is_err());
    let error = authorized(Request::get("https://shop.example"), &overridden).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("api_token"));
}

#[test]
fn the_account_is_the_shop_host() {
    let shop = config(&[("shop_url", "https://shop.example:8443/store/")]);
    assert_eq!(shop_name(&shop).unwrap(), "shop.example:8443");
    assert_eq!(url_host("shop.example"), None);
    assert_eq!(
        shop_name(&config(&[("shop_url", "shop.example")])).unwrap(),
        "shop.example"
    );
    // Natively there is no host to send the check to: it fails cleanly.
    assert_eq!(
        kind(Minishop::check_connection(&config(&[
            ("shop_url", "https://shop.example"),
            ("api_token", "t"),
        ]))),
        ErrorKind::Other
    );
    assert_eq!(
        kind(Minishop::check_connection(&Config::default())),
        ErrorKind::InvalidInput
    );
}

#[test]
fn stock_requests() {
    let level = |key: &str, quantity: &str| StockUpdate {
        key: key.into(),
        sku: Some(key.into()),
        quantity: tovor_sdk::money::parse_decimal(quantity).unwrap(),
    };
    let request =
        stock_request("https://shop.example/api/v1", &level("MUG 1/blue", "7.00")).unwrap();
    assert_eq!(request.method(), "PUT");
    assert_eq!(
        request.url(),
        "https://shop.example/api/v1/stock/MUG%201%2Fblue"
    );
    assert_eq!(request.body_bytes(), Some(&br#"{"quantity":7}"#[..]));
    assert_eq!(
        request.header_value("content-type"),
        Some("application/json")
    );
    let error = stock_request("https://shop.example/api/v1", &level(" ", "7")).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("sku"));
    let error = stock_request("https://shop.example/api/v1", &level("MUG-1", "1.5")).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("quantity"));
    assert_eq!(Minishop::max_batch(), STOCK_BATCH);
}

#[test]
fn webhook_signatures() {
    // A known vector: HMAC-SHA256("whsec-minishop", `{"ping":true}`).
    let ping = webhook(
        "ping",
        r#"{"ping":true}"#,
        Some("sha256=ba930879274c0336387add3e6e482edf6abf5af856044fddf7d1ad93b0d00398".into()),
    );
    assert_eq!(check_signature(SECRET, &ping), Ok(()));
    assert_eq!(
        kind(check_signature("another secret", &ping)),
        ErrorKind::BadSignature
    );

    let mut tampered = ping.clone();
    tampered.body = br#"{"ping":false}"#.to_vec();
    assert_eq!(
        kind(check_signature(SECRET, &tampered)),
        ErrorKind::BadSignature
    );

    let unsigned = webhook("ping", r#"{"ping":true}"#, None);
    assert_eq!(
        kind(check_signature(SECRET, &unsigned)),
        ErrorKind::BadSignature
    );
    let no_prefix = webhook("ping", r#"{"ping":true}"#, Some("ba930879".into()));
    assert_eq!(
        kind(check_signature(SECRET, &no_prefix)),
        ErrorKind::BadSignature
    );
}

#[test]
fn verify_webhook_end_to_end() {
    let config = config(&[
        ("shop_url", "https://shop.example"),
        ("webhook_secret", SECRET),
    ]);

    let verified = Minishop::verify_webhook(&config, signed("ping", r#"{"ping":true}"#)).unwrap();
    assert_eq!(verified.event, WebhookEvent::Ping(None));
    assert_eq!(verified.topic.as_deref(), Some("ping"));
    assert_eq!(
        verified.delivery_id.as_deref(),
        Some("7f9c2ba4-e88f-4b2a-9c1d-3a5e8f0b6d21")
    );

    let verified = Minishop::verify_webhook(&config, signed("order.updated", ORDER_JSON)).unwrap();
    match verified.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, "1042");
            assert_eq!(hint.order.unwrap().total, "29.16");
        }
        other => panic!("unexpected {other:?}"),
    }

    let verified = Minishop::verify_webhook(&config, signed("customer.created", "{}")).unwrap();
    assert!(matches!(verified.event, WebhookEvent::Ignored(_)));

    // A wrong signature is refused before the body is even looked at.
    let forged = webhook("order.created", "not even JSON", Some("sha256=00".into()));
    assert_eq!(
        kind(Minishop::verify_webhook(&config, forged)),
        ErrorKind::BadSignature
    );
    // A signed body that is not an order is invalid input.
    assert_eq!(
        kind(Minishop::verify_webhook(
            &config,
            signed("order.created", r#"{"id": "x"}"#)
        )),
        ErrorKind::InvalidInput
    );
    // No secret configured.
    let error = Minishop::verify_webhook(&Config::default(), signed("ping", "{}")).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("webhook_secret"));
}

#[test]
fn webhooks_are_set_up_by_hand() {
    let url = "https://tovor.example/hooks/k3y";
    match Minishop::register_webhooks(&Config::default(), url.into()).unwrap() {
        WebhookSetup::Manual(text) => {
            assert!(text.contains(url), "{text}");
            assert!(text.contains("order.updated"), "{text}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        Minishop::unregister_webhooks(&Config::default(), url.into(), Vec::new()),
        Ok(())
    );
}

#[test]
fn the_manifest_speaks_contract_0_2() {
    let manifest = include_str!("../plugin.toml");
    assert!(manifest.contains(&format!("contract = \"{}\"", tovor_sdk::CONTRACT_VERSION)));
    // The host reads the capabilities from the component's exports.
    assert!(!manifest.contains("capabilities"));
}
