#![allow(clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::Decimal;
use tovor_sdk::http::Response;
use tovor_sdk::shop::{StockUpdate, WebhookEvent, WebhookRequest};
use tovor_sdk::types::{ConfigValue, ErrorKind, Order, OrderStatus, PaymentStatus};
use tovor_sdk::{Config, signature, state};

use crate::api::{self, ApiError, Auth};
use crate::mapping::{self, StatusMap};
use crate::stock::{self, StockField};
use crate::webhooks::{self, Notification};

const CZK: &[u8] = include_bytes!("../fixtures/order-czk-coupon-two-rates.json");
const EUR: &[u8] = include_bytes!("../fixtures/order-eur-guest-pickup.json");

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn map(body: &[u8], statuses: &StatusMap) -> Order {
    mapping::map_order(mapping::parse_detail(body).unwrap(), statuses).unwrap()
}

/// The sums the host checks (`host/domain` order validation), within a cent per part.
fn assert_adds_up(order: &Order) {
    let cent = d("0.01");
    let mut parts = 0usize;
    let mut net = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    for (index, line) in order.lines.iter().enumerate() {
        let (q, unit, discount, line_tax, total) = (
            d(&line.quantity),
            d(&line.unit_price),
            d(&line.discount),
            d(&line.tax_amount),
            d(&line.total),
        );
        assert!(order.prices_include_tax);
        assert!(
            (q * unit - discount - (total + line_tax)).abs() <= cent,
            "lines[{index}]: {q} × {unit} − {discount} vs {total} + {line_tax}"
        );
        if let Some(rate) = &line.tax_rate {
            let expected = total * d(rate) / Decimal::ONE_HUNDRED;
            assert!((line_tax - expected).abs() <= cent, "lines[{index}] tax");
        }
        net += total;
        tax += line_tax;
        parts += 1;
    }
    for charge in order.shipping_lines.iter().chain(&order.fees) {
        let (amount, charge_tax) = (d(&charge.amount), d(&charge.tax_amount));
        if let Some(rate) = &charge.tax_rate {
            let expected = amount * d(rate) / Decimal::ONE_HUNDRED;
            assert!(
                (charge_tax - expected).abs() <= cent,
                "{} tax",
                charge.title
            );
        }
        net += amount;
        tax += charge_tax;
        parts += 1;
    }
    let tolerance = cent * Decimal::from(parts.max(1));
    assert!((d(&order.tax_total) - tax).abs() <= tolerance, "tax total");
    assert!(
        (d(&order.total) - (net + d(&order.tax_total))).abs() <= tolerance,
        "total {} vs {net} + {}",
        order.total,
        order.tax_total
    );
    let shipping: Decimal = order.shipping_lines.iter().map(|l| d(&l.amount)).sum();
    assert_eq!(d(&order.shipping_total), shipping);
}

#[test]
fn a_czk_order_with_two_rates_a_coupon_and_a_set_maps_to_the_crown() {
    let order = map(CZK, &StatusMap::default());
    assert_eq!(order.id, "2025000123");
    assert_eq!(order.number, "2025000123");
    assert_eq!(order.currency, "CZK");
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.status_raw, "-1: Nevyřízená");
    assert_eq!(order.payment_status, PaymentStatus::Unpaid);
    assert!(order.prices_include_tax);
    assert_eq!(order.total, "1892.00");
    assert_eq!(order.tax_total, "244.95");

    // The set's part is priced on the set's row: two product lines.
    assert_eq!(order.lines.len(), 2);
    let mug = &order.lines[0];
    assert_eq!(mug.name, "Hrnek smaltovaný Zelený");
    assert_eq!(mug.sku.as_deref(), Some("40/ZEL"));
    assert_eq!(mug.variation_id.as_deref(), Some("40/ZEL"));
    assert_eq!(
        mug.product_id.as_deref(),
        Some("8e9b0f2c-d7cb-11e0-9a5c-feab5ed617ed")
    );
    assert_eq!(mug.platform_line_id.as_deref(), Some("342"));
    assert_eq!(d(&mug.quantity), d("2"));
    assert_eq!(mug.unit_price, "249.00");
    assert_eq!(mug.total, "411.57");
    assert_eq!(mug.tax_amount, "86.43");
    assert_eq!(mug.tax_rate.as_deref(), Some("21"));
    let coffee = &order.lines[1];
    assert_eq!(coffee.tax_rate.as_deref(), Some("12"));
    assert_eq!(d(&coffee.quantity), d("7"));

    assert_eq!(order.shipping_lines.len(), 1);
    assert_eq!(order.shipping_lines[0].title, "PPL");
    assert_eq!(order.shipping_lines[0].amount, "81.82");
    assert_eq!(order.shipping_total, "81.82");
    // Cash on delivery's fee, the coupon, and the zero volume discount are fees.
    let fees: Vec<(&str, &str)> = order
        .fees
        .iter()
        .map(|fee| (fee.title.as_str(), fee.amount.as_str()))
        .collect();
    assert_eq!(
        fees,
        [
            ("Dobírka", "32.23"),
            ("Slevový kupón JARO50", "-59.82"),
            ("Množstevní sleva", "0.00")
        ]
    );
    assert_eq!(order.coupons, ["JARO50"]);
    assert_eq!(order.discount_total, "67.00");

    let customer = order.customer.as_ref().unwrap();
    assert_eq!(
        customer.platform_id.as_deref(),
        Some("0b2b47a8-d7cb-11e0-9a5c-feab5ed617ed")
    );
    assert_eq!(customer.first_name.as_deref(), Some("Jan"));
    assert_eq!(customer.last_name.as_deref(), Some("Novák"));
    assert_eq!(customer.vat_id.as_deref(), Some("CZ12345678"));
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.street.as_deref(), Some("Dlouhá"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(billing.line2.as_deref(), Some("2. patro"));
    let shipping = order.shipping.as_ref().unwrap();
    assert_eq!(shipping.name.as_deref(), Some("Marie Nováková"));
    assert_eq!(shipping.city.as_deref(), Some("Brno"));
    assert_eq!(
        order.customer_note.as_deref(),
        Some("Prosím zvonit dvakrát")
    );
    assert_eq!(
        order.payment_method.as_ref().map(|m| m.title.as_str()),
        Some("Dobírka")
    );
    assert!(order.pickup_point.is_none());
    assert_adds_up(&order);
}

#[test]
fn a_eur_guest_order_to_a_pickup_point_with_an_own_status() {
    let statuses = StatusMap::parse(Some("7=refunded, 8 = completed")).unwrap();
    let order = map(EUR, &statuses);
    assert_eq!(order.currency, "EUR", "upper-cased");
    assert_eq!(order.status, OrderStatus::Refunded);
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id, None, "a guest");
    assert_eq!(customer.email.as_deref(), Some("zuzana@example.sk"));
    // Addresses equal and no delivery address: the billing one ships.
    assert_eq!(order.shipping, order.billing);
    let point = order.pickup_point.as_ref().unwrap();
    assert_eq!(point.id, "4321");
    assert_eq!(point.carrier.as_deref(), Some("zasilkovna"));
    assert_eq!(point.name.as_deref(), Some("Bratislava, Obchodná 12"));
    assert_eq!(
        point.address.as_ref().and_then(|a| a.country.as_deref()),
        Some("SK")
    );
    // Loose coffee by weight: three decimals kept.
    assert_eq!(d(&order.lines[0].quantity), d("1.5"));
    assert_eq!(order.total, "20.80");
    assert_eq!(
        order.modified_at.seconds, 1_741_077_000,
        "2025-03-04T09:30:00+0100"
    );
    assert_adds_up(&order);

    // Without the map, an own status is processing.
    assert_eq!(
        map(EUR, &StatusMap::default()).status,
        OrderStatus::Processing
    );
}

#[test]
fn system_statuses_and_the_status_map() {
    let map = StatusMap::default();
    assert_eq!(map.status(-1), OrderStatus::Pending);
    assert_eq!(map.status(-2), OrderStatus::Processing);
    assert_eq!(map.status(-3), OrderStatus::Completed);
    assert_eq!(map.status(-4), OrderStatus::Cancelled);
    assert_eq!(map.status(-9), OrderStatus::Other);
    assert_eq!(map.status(12), OrderStatus::Processing);
    let map = StatusMap::parse(Some("9=on_hold;-3=processing")).unwrap();
    assert_eq!(map.status(9), OrderStatus::OnHold);
    assert_eq!(map.status(-3), OrderStatus::Processing);
    let error = StatusMap::parse(Some("7=gone")).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("status_map"));
    assert!(StatusMap::parse(Some("x=refunded")).is_err());
}

#[test]
fn filter_times_have_an_offset_without_a_colon() {
    let at = tovor_sdk::time::parse_rfc3339("2025-03-02T10:15:07+01:00").unwrap();
    assert_eq!(mapping::shoptet_time(at), "2025-03-02T09:15:07+0000");
}

#[test]
fn paging_follows_the_paginator() {
    let list: mapping::OrderList = serde_json::from_value(serde_json::json!({
        "orders": [{"code": "1"}, {"code": "2"}],
        "paginator": {"totalCount": 120, "page": 2, "pageCount": 3, "itemsOnPage": 50, "itemsPerPage": 50}
    }))
    .unwrap();
    assert_eq!(mapping::next_page(&list.paginator), Some(3));
    let last = mapping::Paginator {
        total_count: Some(120),
        page: 3,
        page_count: 3,
        items_on_page: Some(20),
        items_per_page: Some(50),
    };
    assert_eq!(mapping::next_page(&last), None);
    assert_eq!(mapping::parse_cursor(None), 1);
    assert_eq!(mapping::parse_cursor(Some(&mapping::cursor_of(3))), 3);
    assert_eq!(mapping::parse_cursor(Some("page:0")), 1);
    assert_eq!(mapping::parse_cursor(Some("junk")), 1);
}

fn request(body: &[u8], signature: Option<&str>) -> WebhookRequest {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(signature) = signature {
        headers.push(("shoptet-webhook-signature".to_owned(), signature.to_owned()));
    }
    WebhookRequest {
        method: "POST".into(),
        headers,
        query: String::new(),
        body: body.to_vec(),
    }
}

fn config() -> Config {
    Config::from_iter([("private_api_token", ConfigValue::from("token"))])
}

/// When the notification was created: a minute ago, because older than a day is a replay.
fn created() -> String {
    tovor_sdk::time::format_utc(tovor_sdk::time::now() - std::time::Duration::from_secs(60))
}

fn notification_body(created: &str) -> Vec<u8> {
    format!(
        r#"{{"eshopId":222651,"event":"order:create","eventCreated":"{created}","eventInstance":"2025000123"}}"#
    )
    .into_bytes()
}

#[test]
fn a_signed_notification_names_the_order_and_its_event() {
    state::set_text(
        webhooks::SIGNATURE_KEY_STATE,
        "8a5e881b19ad6cc0bc986587b22e30be",
    )
    .unwrap();
    let created = created();
    let body = notification_body(&created);
    let signature = hex_sha1("8a5e881b19ad6cc0bc986587b22e30be", &body);
    let verified = webhooks::verify(&config(), &request(&body, Some(&signature))).unwrap();
    assert_eq!(verified.topic.as_deref(), Some("order:create"));
    assert_eq!(
        verified.delivery_id.as_deref(),
        Some(format!("222651:order:create:2025000123:{created}").as_str())
    );
    match verified.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, "2025000123");
            assert!(hint.order.is_none());
        }
        other => panic!("{other:?}"),
    }
    // Upper-case hex is the same MAC.
    assert!(webhooks::verify(&config(), &request(&body, Some(&signature.to_uppercase()))).is_ok());
}

fn hex_sha1(key: &str, body: &[u8]) -> String {
    signature::hmac_sha1(key, body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[test]
fn wrong_missing_or_unkeyed_signatures_are_refused() {
    state::delete(webhooks::SIGNATURE_KEY_STATE).unwrap();
    let body = notification_body(&created());
    let signature = hex_sha1("key", &body);
    let error = webhooks::verify(&config(), &request(&body, Some(&signature))).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature, "no key kept: refused");

    state::set_text(webhooks::SIGNATURE_KEY_STATE, "key").unwrap();
    for bad in [
        None,
        Some("deadbeef"),
        Some(hex_sha1("other", &body).as_str()),
    ] {
        let error = webhooks::verify(&config(), &request(&body, bad)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadSignature, "{bad:?}");
    }
    let mut tampered = body.clone();
    tampered[20] ^= 1;
    let error = webhooks::verify(&config(), &request(&tampered, Some(&signature))).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);

    // Another e-shop's notification, once this one's id is known.
    state::set_text(webhooks::ESHOP_ID_STATE, "999").unwrap();
    let error = webhooks::verify(&config(), &request(&body, Some(&signature))).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);
    assert!(error.message.contains("999"), "{}", error.message);
    state::delete(webhooks::ESHOP_ID_STATE).unwrap();

    // Rightly signed, but created two days ago: a replay.
    let old = tovor_sdk::time::format_utc(
        tovor_sdk::time::now() - std::time::Duration::from_secs(2 * 24 * 60 * 60),
    );
    let body = notification_body(&old);
    let signature = hex_sha1("key", &body);
    let error = webhooks::verify(&config(), &request(&body, Some(&signature))).unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadSignature);
    assert!(error.message.contains("replay"), "{}", error.message);
}

#[test]
fn mass_events_give_every_code_and_keep_the_rest_for_the_listing() {
    state::delete(webhooks::PENDING_CODES_STATE).unwrap();
    let notification: Notification = serde_json::from_str(
        r#"{"eshopId":222651,"event":"order:massUpdate","eventCreated":"2025-03-02T10:20:00+0100","eventInstance":"[\"2025000123\",\"2025000124\",\"2025000125\"]"}"#,
    )
    .unwrap();
    let hints = webhooks::mass_hints(&notification).unwrap();
    let ids: Vec<&str> = hints.iter().map(|hint| hint.id.as_str()).collect();
    assert_eq!(ids, ["2025000123", "2025000124", "2025000125"]);
    let verified = webhooks::interpret(&notification).unwrap();
    match verified.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, "2025000123"),
        other => panic!("{other:?}"),
    }
    assert_eq!(webhooks::pending_codes(), ["2025000124", "2025000125"]);
    // A list sent as JSON rather than as a string reads the same.
    let listed: Notification = serde_json::from_str(
        r#"{"eshopId":222651,"event":"order:massCreate","eventCreated":"2025-03-02T10:21:00+0100","eventInstance":["A-1","2025000124"]}"#,
    )
    .unwrap();
    webhooks::interpret(&listed).unwrap();
    assert_eq!(
        webhooks::pending_codes(),
        ["2025000124", "2025000125"],
        "no duplicates, A-1 answered"
    );
    webhooks::clear_pending();
    assert!(webhooks::pending_codes().is_empty());
}

#[test]
fn other_events() {
    let parse = |event: &str, instance: &str| -> Notification {
        serde_json::from_value(serde_json::json!({
            "eshopId": 222651, "event": event, "eventCreated": "2025-03-02T10:20:00+0100",
            "eventInstance": instance,
        }))
        .unwrap()
    };
    match webhooks::interpret(&parse("order:delete", "2025000123"))
        .unwrap()
        .event
    {
        WebhookEvent::OrderDeleted(code) => assert_eq!(code, "2025000123"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        webhooks::interpret(&parse("stock:movement", "1"))
            .unwrap()
            .event,
        WebhookEvent::Ignored(_)
    ));
    assert!(matches!(
        webhooks::interpret(&parse("order:paid", "2025000123"))
            .unwrap()
            .event,
        WebhookEvent::OrderChanged(_)
    ));
    // Retries of one event share the id; another moment is another event.
    let first = parse("order:update", "2025000123");
    let mut later = first.clone();
    later.event_created = Some("2025-03-02T10:25:00+0100".into());
    assert_eq!(
        first.delivery_id(),
        parse("order:update", "2025000123").delivery_id()
    );
    assert_ne!(first.delivery_id(), later.delivery_id());
    assert!(
        !webhooks::SUBSCRIBED_EVENTS.contains(&"order:cancel"),
        "order:update and order:cancel exclude each other"
    );
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
        url: "https://api.myshoptet.com/api/orders".into(),
    }
}

fn envelope(code: &str, message: &str) -> String {
    serde_json::json!({"data": null, "errors": [{"errorCode": code, "message": message, "instance": "unknown"}],
                       "metadata": {"requestId": "1"}})
    .to_string()
}

#[test]
fn errors_map_to_what_the_host_can_do() {
    let error = api::check(
        response(
            401,
            &[],
            &envelope("invalid-token", "Invalid access token."),
        ),
        api::PRIVATE_TOKEN_FIELD,
    )
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("private_api_token"));
    assert_eq!(error.platform_code.as_deref(), Some("invalid-token"));
    assert!(
        error.message.contains("private_api_token"),
        "{}",
        error.message
    );

    let error = api::check(
        response(403, &[], &envelope("invalid-token-no-rights", "No rights.")),
        api::OAUTH_TOKEN_FIELD,
    )
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Permission);
    assert_eq!(error.field.as_deref(), Some("oauth_access_token"));

    // Retry-After as an HTTP date, a few seconds ahead.
    let at = tovor_sdk::time::now() + std::time::Duration::from_secs(5);
    let date = tovor_sdk::http::format_http_date(at);
    let error = api::check(
        response(
            429,
            &[("Retry-After", &date)],
            &envelope("too-many-requests", "Full."),
        ),
        api::PRIVATE_TOKEN_FIELD,
    )
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::RateLimited);
    let wait = error.retry_after_ms.unwrap();
    assert!((3000..=6000).contains(&wait), "{wait}");

    let error = api::check(response(423, &[], &envelope("locked", "Locked.")), "x").unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient);
    assert_eq!(error.retry_after_ms, Some(api::LOCK_RETRY_MS));
    let error = api::check(response(503, &[], "<html>Údržba</html>"), "x").unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient);
    assert_eq!(error.http_status, Some(503));
    let error = api::check(
        response(
            404,
            &[],
            &envelope("order-not-found", "Order \"9\" not found."),
        ),
        "x",
    )
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    let error = api::check(
        response(413, &[], &envelope("too-many-entities", "Too many.")),
        "x",
    )
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
}

#[test]
fn the_config_chooses_the_token() {
    assert_eq!(
        Auth::from_config(&config()).unwrap(),
        Auth::Private("token".into())
    );
    let addon = Config::from_iter([
        ("oauth_access_token", ConfigValue::from("oauth")),
        ("eshop_url", ConfigValue::from("https://www.hrnky.cz/")),
    ]);
    assert_eq!(
        Auth::from_config(&addon).unwrap(),
        Auth::Addon {
            oauth_token: "oauth".into(),
            eshop_url: "https://www.hrnky.cz".into()
        }
    );
    let no_address = Config::from_iter([("oauth_access_token", ConfigValue::from("oauth"))]);
    assert_eq!(
        Auth::from_config(&no_address).unwrap_err().field.as_deref(),
        Some("eshop_url")
    );
    let nothing = Config::from_iter([("stock_id", ConfigValue::from(1))]);
    assert_eq!(
        Auth::from_config(&nothing).unwrap_err().field.as_deref(),
        Some("private_api_token")
    );
}

fn level(key: &str, sku: Option<&str>, quantity: i64) -> StockUpdate {
    StockUpdate {
        key: key.into(),
        sku: sku.map(str::to_owned),
        quantity: Decimal::from(quantity),
    }
}

#[test]
fn stock_rows_use_the_code_and_the_chosen_figure() {
    assert_eq!(
        stock::product_code(&level("40/ZEL", None, 3)).unwrap(),
        "40/ZEL"
    );
    assert_eq!(
        stock::product_code(&level(
            "8e9b0f2c-d7cb-11e0-9a5c-feab5ed617ed",
            Some("KAVA-250"),
            3
        ))
        .unwrap(),
        "KAVA-250",
        "a product GUID falls back to the SKU"
    );
    assert!(stock::product_code(&level("8e9b0f2c-d7cb-11e0-9a5c-feab5ed617ed", None, 3)).is_err());
    let body = stock::movement_rows(
        &[("40/ZEL".into(), 8), ("KAVA-250".into(), 0)],
        StockField::RealStock,
    );
    assert_eq!(
        body,
        serde_json::json!({"data": [{"productCode": "40/ZEL", "realStock": 8},
                                    {"productCode": "KAVA-250", "realStock": 0}]})
    );
    let quantity = stock::movement_rows(&[("40/ZEL".into(), 8)], StockField::Quantity);
    assert_eq!(quantity["data"][0]["quantity"], 8);
    assert_eq!(stock::MAX_BATCH, 300);
    let field = StockField::from_config(&Config::from_iter([(
        "stock_field",
        ConfigValue::from("realStock"),
    )]));
    assert_eq!(field.unwrap(), StockField::RealStock);
    assert_eq!(
        StockField::from_config(&config()).unwrap(),
        StockField::Quantity
    );

    let unknown = ApiError {
        error_code: Some("unknown-product".into()),
        message: Some("Product \"X\" does not exist. Skipped.".into()),
        instance: Some("X".into()),
    };
    assert_eq!(stock::row_error(&unknown, "X").kind, ErrorKind::NotFound);
    let set = ApiError {
        error_code: Some("stock-change-not-allowed".into()),
        message: Some("Stock change not allowed for product set".into()),
        instance: Some("SADA-01".into()),
    };
    let error = stock::row_error(&set, "SADA-01");
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(
        error.platform_code.as_deref(),
        Some("stock-change-not-allowed")
    );
}

#[test]
fn tracking_numbers_fit_shoptet() {
    use tovor_sdk::shop::{Parcel, Shipment};
    let shipment = |numbers: &[&str]| Shipment {
        lines: Vec::new(),
        carrier: "PPL".into(),
        parcels: numbers
            .iter()
            .map(|number| Parcel {
                tracking_number: (*number).into(),
                tracking_url: None,
            })
            .collect(),
        notify_customer: true,
    };
    assert_eq!(
        crate::fulfillment::tracking_number(&shipment(&[" ", "DR1234567890E"])).unwrap(),
        Some("DR1234567890E".into())
    );
    assert_eq!(
        crate::fulfillment::tracking_number(&shipment(&[])).unwrap(),
        None
    );
    let long = "X".repeat(33);
    assert!(crate::fulfillment::tracking_number(&shipment(&[&long])).is_err());
}

#[test]
fn guids_are_recognized() {
    assert!(mapping::is_guid("c5012051-d7ca-11e0-9a5c-feab5ed617ed"));
    assert!(!mapping::is_guid("40/ZEL"));
    assert!(!mapping::is_guid("c5012051d7ca11e09a5cfeab5ed617ed0000"));
}

#[test]
fn a_notification_older_than_a_day_is_a_replay() {
    let notification = |created: &str| -> Notification {
        serde_json::from_str(&format!(
            r#"{{"eshopId":222651,"event":"order:create","eventCreated":"{created}","eventInstance":"2025000123"}}"#
        ))
        .unwrap()
    };
    let now = tovor_sdk::time::parse_rfc3339("2025-03-03T10:00:00+01:00").unwrap();
    // Shoptet's own form: an offset without a colon.
    assert!(webhooks::check_age(&notification("2025-03-03T09:59:00+0100"), now).is_ok());
    assert!(webhooks::check_age(&notification("2025-03-02T10:00:01+0100"), now).is_ok());
    let replay = webhooks::check_age(&notification("2025-03-02T09:59:59+0100"), now).unwrap_err();
    assert_eq!(replay.kind, ErrorKind::BadSignature);
    assert!(replay.message.contains("replay"), "{}", replay.message);
    let garbled = webhooks::check_age(&notification("yesterday"), now).unwrap_err();
    assert_eq!(garbled.kind, ErrorKind::BadSignature);
    let without: Notification =
        serde_json::from_str(r#"{"eshopId":222651,"event":"order:create","eventInstance":"1"}"#)
            .unwrap();
    assert!(webhooks::check_age(&without, now).is_ok());
}
