//! Unit tests: JWT verification (signature, algorithm, expiry, nested JSON strings),
//! the mapping (sums to the shop's total), error bodies, stock keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_sdk::shop::WebhookEvent;
use tovor_sdk::signature::hmac_sha256;
use tovor_sdk::types::{ErrorKind, Order, OrderStatus, PaymentStatus};

use crate::mapping::map_order;
use crate::webhooks::{parse_event, public_key, verify_jwt};

const PUBLIC: &str = include_str!("../fixtures/test-public-key.pem");
const PRIVATE: &str = include_str!("../fixtures/test-signing-key.pem");
const OTHER: &str = include_str!("../fixtures/other-signing-key.pem");
const NOW: i64 = 1_790_000_000;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(private: &str, header: &Value, claims: &Value) -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(private).unwrap();
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let signature = SigningKey::<Sha256>::new(key).sign(input.as_bytes());
    format!("{input}.{}", b64(signature.to_vec()))
}

fn rs256() -> Value {
    json!({"alg": "RS256", "typ": "JWT"})
}

/// Claims as Wix sends them: `data` a JSON string holding `data` and `identity` as
/// JSON strings.
fn claims(event_type: &str, inner: &Value) -> Value {
    let envelope = json!({
        "eventType": event_type,
        "instanceId": "inst-1",
        "data": inner.to_string(),
        "identity": json!({"identityType": "APP", "appId": "app-1"}).to_string(),
    });
    json!({"data": envelope.to_string(), "iat": NOW - 10, "exp": NOW + 3590})
}

fn created(order_id: &str) -> Value {
    json!({
        "id": "evt-1", "entityFqdn": "wix.ecom.v1.order", "slug": "created",
        "entityId": order_id,
        "createdEvent": {"entityAsJson": json!({"id": order_id, "status": "APPROVED"}).to_string()},
    })
}

#[test]
fn a_genuine_token_verifies_and_names_the_order_and_event() {
    let key = public_key(PUBLIC).unwrap();
    let token = sign(
        PRIVATE,
        &rs256(),
        &claims("wix.ecom.v1.order_created", &created("o-1")),
    );
    let verified = verify_jwt(&key, token.as_bytes(), NOW).unwrap();
    let event = parse_event(Some("inst-1"), &verified).unwrap();
    assert_eq!(event.delivery_id.as_deref(), Some("evt-1"));
    assert_eq!(event.topic.as_deref(), Some("wix.ecom.v1.order_created"));
    match event.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, "o-1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn data_claims_as_objects_and_other_entity_shapes_are_accepted() {
    let inner = json!({"id": "evt-2", "slug": "updated",
        "updatedEvent": {"currentEntity": {"id": "o-2", "status": "APPROVED"}}});
    let object_claims = json!({"data": {"eventType": "wix.ecom.v1.order_updated", "data": inner},
                               "iat": NOW});
    let event = parse_event(None, &object_claims).unwrap();
    assert!(matches!(event.event, WebhookEvent::OrderChanged(ref h) if h.id == "o-2"));
    let action = json!({"id": "evt-3", "slug": "canceled",
        "actionEvent": {"bodyAsJson": json!({"order": {"id": "o-3"}}).to_string()}});
    let event = parse_event(None, &claims("wix.ecom.v1.order_canceled", &action)).unwrap();
    assert!(matches!(event.event, WebhookEvent::OrderChanged(ref h) if h.id == "o-3"));
}

#[test]
fn other_events_and_unplaced_checkouts_are_ignored() {
    let event = parse_event(
        None,
        &claims("wix.stores.v1.product_created", &created("p")),
    )
    .unwrap();
    assert!(matches!(event.event, WebhookEvent::Ignored(_)));
    let inner = json!({"id": "evt-4", "entityId": "o-4",
        "createdEvent": {"entity": {"id": "o-4", "status": "INITIALIZED"}}});
    let event = parse_event(None, &claims("wix.ecom.v1.order_created", &inner)).unwrap();
    assert!(matches!(event.event, WebhookEvent::Ignored(_)));
}

#[test]
fn another_sites_instance_is_refused() {
    let error = parse_event(
        Some("inst-2"),
        &claims("wix.ecom.v1.order_created", &created("o")),
    )
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);
}

#[test]
fn wrong_key_tampered_expired_and_future_tokens_are_refused() {
    let key = public_key(PUBLIC).unwrap();
    let body = claims("wix.ecom.v1.order_created", &created("o-1"));
    let refused = |token: &str, now: i64| verify_jwt(&key, token.as_bytes(), now).unwrap_err();

    let other = sign(OTHER, &rs256(), &body);
    assert_eq!(refused(&other, NOW).kind, ErrorKind::BadSignature);

    let genuine = sign(PRIVATE, &rs256(), &body);
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut edited = body.clone();
    edited["exp"] = json!(NOW + 99_999);
    let tampered = format!("{}.{}.{}", parts[0], b64(edited.to_string()), parts[2]);
    assert_eq!(refused(&tampered, NOW).kind, ErrorKind::BadSignature);

    // Expired an hour ago (beyond the leeway): a replay.
    let error = refused(&genuine, NOW + 3590 + 3600);
    assert_eq!(error.kind, ErrorKind::BadSignature);
    assert!(error.message.contains("expired"), "{}", error.message);
    // Within the leeway it still passes.
    verify_jwt(&key, genuine.as_bytes(), NOW + 3590 + 30).unwrap();
    // Issued in the future.
    assert_eq!(refused(&genuine, NOW - 3600).kind, ErrorKind::BadSignature);

    let mut timeless = body.clone();
    timeless.as_object_mut().unwrap().remove("exp");
    timeless.as_object_mut().unwrap().remove("iat");
    assert_eq!(
        refused(&sign(PRIVATE, &rs256(), &timeless), NOW).kind,
        ErrorKind::BadSignature
    );
    assert_eq!(refused("not-a-jwt", NOW).kind, ErrorKind::BadSignature);
}

#[test]
fn algorithm_confusion_is_refused() {
    let key = public_key(PUBLIC).unwrap();
    let body = claims("wix.ecom.v1.order_created", &created("o-1"));
    // "none": no signature at all.
    let none = format!(
        "{}.{}.",
        b64(json!({"alg": "none"}).to_string()),
        b64(body.to_string())
    );
    let error = verify_jwt(&key, none.as_bytes(), NOW).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);
    // HS256 keyed with the public key's PEM, the classic confusion attack.
    let header = b64(json!({"alg": "HS256", "typ": "JWT"}).to_string());
    let payload = b64(body.to_string());
    let mac = hmac_sha256(PUBLIC, format!("{header}.{payload}"));
    let hs = format!("{header}.{payload}.{}", b64(mac));
    let error = verify_jwt(&key, hs.as_bytes(), NOW).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);
    assert!(error.message.contains("HS256"), "{}", error.message);
    // RS256 in the header but signed by someone else's key is still refused (above);
    // a header with RS512 is refused even when the signature would be RS256.
    let rs512 = sign(PRIVATE, &json!({"alg": "RS512"}), &body);
    assert_eq!(
        verify_jwt(&key, rs512.as_bytes(), NOW).unwrap_err().kind,
        ErrorKind::BadSignature
    );
}

#[test]
fn keys_pasted_with_escaped_newlines_and_bad_keys() {
    let escaped = PUBLIC.trim().replace('\n', "\\n");
    public_key(&escaped).unwrap();
    let error = public_key("not a key").unwrap_err();
    assert_eq!(error.field.as_deref(), Some("webhook_public_key"));
}

/// The sums the host checks: line arithmetic, tax rates, and the total.
fn assert_adds_up(order: &Order) {
    let cent = d("0.01");
    let mut parts = 0usize;
    let (mut tax, mut net) = (Decimal::ZERO, Decimal::ZERO);
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
        assert!((q * unit - discount - basis).abs() <= cent, "{line:?}");
        if let Some(rate) = &line.tax_rate {
            let expected = total * d(rate) / Decimal::ONE_HUNDRED;
            assert!((line_tax - expected).abs() <= cent, "{line:?}");
        }
        parts += 1;
        tax += line_tax;
        net += total;
    }
    for charge in order.shipping_lines.iter().chain(&order.fees) {
        if let Some(rate) = &charge.tax_rate {
            let expected = d(&charge.amount) * d(rate) / Decimal::ONE_HUNDRED;
            assert!(
                (d(&charge.tax_amount) - expected).abs() <= cent,
                "{charge:?}"
            );
        }
        parts += 1;
        tax += d(&charge.tax_amount);
        net += d(&charge.amount);
    }
    let tolerance = cent * Decimal::from(parts.max(1));
    assert!(
        (d(&order.tax_total) - tax).abs() <= tolerance,
        "tax {}",
        order.tax_total
    );
    assert!(
        (d(&order.total) - (net + d(&order.tax_total))).abs() <= tolerance,
        "total {} vs {net} + {}",
        order.total,
        order.tax_total
    );
}

#[test]
fn a_tax_included_order_maps_to_the_cent() {
    let json: Value =
        serde_json::from_str(include_str!("../fixtures/order-tax-included-eur.json")).unwrap();
    let order = map_order(&json, None).unwrap();
    assert_adds_up(&order);
    assert_eq!(order.total, "49.81");
    assert_eq!(order.tax_total, "8.14");
    assert!(order.prices_include_tax);
    assert_eq!(order.currency, "EUR");
    assert_eq!(order.number, "10042");
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert_eq!(order.coupons, ["WELCOME10"]);
    assert_eq!(order.customer_note.as_deref(), Some("Please ring twice"));
    let shirt = &order.lines[0];
    assert_eq!(shirt.sku.as_deref(), Some("TEE-M"));
    assert_eq!(shirt.tax_rate.as_deref(), Some("22"));
    assert_eq!(shirt.total, "29.51");
    assert_eq!(
        shirt.variation_id.as_deref(),
        Some("7d2e0000-0000-4000-8000-00000000000b")
    );
    let book = &order.lines[1];
    assert_eq!(book.tax_rate.as_deref(), Some("9.5"));
    assert_eq!(
        book.variation_id, None,
        "the default variant is the product"
    );
    assert_eq!(
        book.product_id.as_deref(),
        Some("9c1f0000-0000-4000-8000-00000000000c")
    );
    assert_eq!(order.shipping_lines[0].amount, "4.02");
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.company.as_deref(), Some("Novak d.o.o."));
    assert_eq!(customer.vat_id.as_deref(), Some("SI12345678"));
    assert_eq!(customer.email.as_deref(), Some("ana@example.test"));
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(
        order.shipping.as_ref().unwrap().city.as_deref(),
        Some("Maribor")
    );
}

#[test]
fn a_refunded_guest_order_in_usd_carries_method_and_refund() {
    let json: Value = serde_json::from_str(include_str!(
        "../fixtures/order-tax-excluded-usd-refunded.json"
    ))
    .unwrap();
    let order = map_order(&json["order"], Some(&json["orderTransactions"])).unwrap();
    assert_adds_up(&order);
    assert_eq!(order.total, "43.36");
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(order.payment_status, PaymentStatus::Refunded);
    assert_eq!(
        order.customer.as_ref().unwrap().platform_id,
        None,
        "a guest"
    );
    let method = order.payment_method.as_ref().unwrap();
    assert_eq!(
        (method.code.as_str(), method.title.as_str()),
        ("PayPal", "PayPal")
    );
    assert!(order.paid_at.is_some());
    assert_eq!(order.refunds.len(), 1);
    let refund = &order.refunds[0];
    assert_eq!(refund.amount, "43.36");
    assert_eq!(refund.lines[0].amount, "43.36");
    assert_eq!(refund.lines[0].sku.as_deref(), Some("MUG-1"));
    assert_eq!(refund.reason.as_deref(), Some("Broken"));
}

#[test]
fn statuses() {
    use crate::mapping::order_status;
    assert_eq!(
        order_status("CANCELED", "PAID", "NOT_FULFILLED"),
        OrderStatus::Cancelled
    );
    assert_eq!(
        order_status("APPROVED", "PAID", "FULFILLED"),
        OrderStatus::Completed
    );
    assert_eq!(
        order_status("APPROVED", "NOT_PAID", "NOT_FULFILLED"),
        OrderStatus::Pending
    );
    assert_eq!(
        order_status("APPROVED", "PARTIALLY_REFUNDED", "NOT_FULFILLED"),
        OrderStatus::Processing
    );
}

#[test]
fn wix_error_bodies() {
    let body = br#"{"message":"Revision mismatch","details":{"applicationError":{"code":"REVISION_MISMATCH","description":"stale"}}}"#;
    let parsed = crate::api::parse_error(body).unwrap();
    assert_eq!(parsed.message, "Revision mismatch");
    assert_eq!(parsed.code.as_deref(), Some("REVISION_MISMATCH"));
    let body = br#"{"message":"","details":{"validationError":{"fieldViolations":[{"field":"search.cursorPaging.limit","description":"must be at most 100"}]}}}"#;
    let parsed = crate::api::parse_error(body).unwrap();
    assert_eq!(parsed.field.as_deref(), Some("search.cursorPaging.limit"));
    assert_eq!(parsed.message, "must be at most 100");
    assert!(crate::api::parse_error(b"<html>").is_none());
}

#[test]
fn stock_keys_and_the_search() {
    use crate::stock::split_key;
    assert_eq!(split_key("p-1:v-1"), (Some("p-1"), "v-1"));
    assert_eq!(split_key("v-1"), (None, "v-1"));
    let since = tovor_sdk::time::parse_rfc3339("2026-03-01T00:00:00Z").unwrap();
    let first = crate::search_body(since, None);
    assert_eq!(
        first["search"]["filter"]["$and"][0]["updatedDate"]["$gte"],
        "2026-03-01T00:00:00Z"
    );
    assert_eq!(first["search"]["sort"][0]["order"], "ASC");
    let next = crate::search_body(since, Some("c-1"));
    assert!(
        next["search"]["filter"].is_null(),
        "a cursor carries the filter"
    );
    assert_eq!(next["search"]["cursorPaging"]["cursor"], "c-1");
}
