#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use tovor_sdk::money::Decimal;
use tovor_sdk::shop::WebhookRequest;

use crate::mapping::{self, BcOrder};
use crate::orders::{Cursor, next};
use crate::stock::Target;
use crate::webhooks::check_signature;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn parses_rfc_2822_dates() {
    let at = mapping::parse_time("Sun, 02 Mar 2025 09:15:00 +0000").unwrap();
    assert_eq!(at.unix_timestamp(), 1_740_906_900);
    assert_eq!(mapping::format_time(at), "Sun, 02 Mar 2025 09:15:00 +0000");
}

#[test]
fn cursor_round_trips_and_keeps_orders_of_the_same_second() {
    let cursor = Cursor {
        modified: 100,
        page: 2,
        seen: BTreeSet::from([3, 4]),
    };
    assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    assert!(Cursor::decode("nonsense").is_err());
    // A full page whose last two orders share a second.
    let (fresh, cursor) = next(&[(1, 90), (2, 100), (3, 100)], None, 3);
    assert_eq!(fresh, [1, 2, 3]);
    let cursor = cursor.unwrap();
    assert_eq!((cursor.modified, cursor.page), (100, 1));
    // The next page starts at that second again and drops what was seen.
    let (fresh, after) = next(&[(2, 100), (3, 100), (4, 100)], Some(&cursor), 3);
    assert_eq!(fresh, [4]);
    let after = after.unwrap();
    assert_eq!((after.modified, after.page), (100, 2));
    // A short page is the last.
    let (_, last) = next(&[(5, 120)], Some(&after), 3);
    assert!(last.is_none());
}

#[test]
fn stock_keys() {
    assert_eq!(Target::parse("202").unwrap(), Target::Variant(202));
    assert_eq!(Target::parse("product:111").unwrap(), Target::Product(111));
    assert!(Target::parse("x").is_err());
}

#[test]
fn shares_the_net_discount() {
    let shares = mapping::share(d("3.00"), &[d("1"), d("2")], &[]);
    assert_eq!(shares, [d("1.00"), d("2.00")]);
    let fallback = mapping::share(d("1.00"), &[Decimal::ZERO; 3], &[d("1"), d("1"), d("1")]);
    assert_eq!(fallback.iter().sum::<Decimal>(), d("1.00"));
    assert_eq!(mapping::tax_rate(d("8.3562"), d("0.7938")), Some(d("9.50")));
}

#[test]
fn maps_a_fixture_order_to_the_cent() {
    let mut order: BcOrder =
        serde_json::from_str(include_str!("../fixtures/order-coupon.json")).unwrap();
    order.products =
        serde_json::from_str(include_str!("../fixtures/order-coupon-products.json")).unwrap();
    let mapped = mapping::map_order(&order).unwrap();
    assert_eq!(d(&mapped.total), d("49.90"));
    assert_eq!(mapped.currency, "EUR");
    assert_eq!(mapped.customer.as_ref().unwrap().platform_id, None);
    let lines: Decimal = mapped.lines.iter().map(|l| d(&l.total)).sum();
    let tax = d(&mapped.tax_total);
    let shipping: Decimal = mapped.shipping_lines.iter().map(|l| d(&l.amount)).sum();
    assert_eq!(lines + shipping + tax, d(&mapped.total));
}

fn signed(id: &str, ts: i64, body: &str, secret: &str) -> WebhookRequest {
    let payload = format!("{id}.{ts}.{body}");
    let sig = tovor_sdk::signature::hmac_sha256_base64(secret.as_bytes(), payload.as_bytes());
    WebhookRequest {
        method: "POST".into(),
        headers: vec![
            ("webhook-id".into(), id.into()),
            ("webhook-timestamp".into(), ts.to_string()),
            ("webhook-signature".into(), format!("v1,bm90IGl0 v1,{sig}")),
        ],
        query: String::new(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn standard_webhooks_signatures() {
    let body = r#"{"scope":"store/order/created","data":{"type":"order","id":250}}"#;
    let request = signed("msg_1", 1_000, body, "secret");
    check_signature("secret", &request, 1_000).unwrap();
    check_signature("secret", &request, 1_299).unwrap();
    assert!(
        check_signature("secret", &request, 1_301).is_err(),
        "too old"
    );
    assert!(check_signature("other", &request, 1_000).is_err());
    let mut tampered = request.clone();
    tampered.body = body.replace("250", "251").into_bytes();
    assert!(check_signature("secret", &tampered, 1_000).is_err());
}

#[test]
fn a_pasted_api_path_gives_the_store_hash() {
    use tovor_sdk::types::ConfigValue;
    let config = |hash: &str| {
        tovor_sdk::Config::new(vec![
            ("store_hash".into(), ConfigValue::from(hash)),
            ("access_token".into(), ConfigValue::from("t")),
        ])
    };
    assert!(crate::api::Api::new(&config("https://api.bigcommerce.com/stores/abc123/v3/")).is_ok());
    assert!(crate::api::Api::new(&config("abc123")).is_ok());
    assert!(crate::api::Api::new(&config("abc 123")).is_err());
}

#[test]
fn reads_bigcommerce_error_bodies() {
    let v2 = br#"[{"status":404,"message":"The requested resource was not found."}]"#;
    assert_eq!(
        crate::api::message(v2).as_deref(),
        Some("The requested resource was not found.")
    );
    let v3 =
        br#"{"status":422,"title":"[Item with variant_id 106 is tracked by product]","errors":{}}"#;
    assert!(crate::api::message(v3).unwrap().contains("variant_id 106"));
}
