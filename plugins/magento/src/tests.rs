#![allow(clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_sdk::shop::{Parcel, Shipment, ShippedLine, WebhookEvent};
use tovor_sdk::types::{ErrorKind, OrderStatus, PaymentStatus};

use crate::api::{magento_error, render};
use crate::mapping::{self, MagentoOrder};
use crate::orders::{Cursor, next_cursor, search_query};

fn fixture(name: &str) -> MagentoOrder {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read(&path).unwrap();
    mapping::parse_order(&body).unwrap()
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn dd(text: &str) -> Decimal {
    tovor_sdk::money::parse_decimal(text).unwrap()
}

/// The sums the host checks before importing (the validator's rules, in short).
fn assert_adds_up(order: &tovor_sdk::types::Order) {
    let cent = d("0.01");
    let mut line_totals = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    for line in &order.lines {
        let expected = dd(&line.quantity) * dd(&line.unit_price) - dd(&line.discount);
        assert!((expected - dd(&line.total)).abs() <= cent, "{line:?}");
        if let Some(rate) = &line.tax_rate {
            let expected = dd(&line.total) * dd(rate) / Decimal::ONE_HUNDRED;
            assert!((expected - dd(&line.tax_amount)).abs() <= cent, "{line:?}");
        }
        line_totals += dd(&line.total);
        tax += dd(&line.tax_amount);
    }
    let mut charges = Decimal::ZERO;
    for charge in &order.shipping_lines {
        charges += dd(&charge.amount);
        tax += dd(&charge.tax_amount);
    }
    assert!(
        (tax - dd(&order.tax_total)).abs() <= cent,
        "tax {tax} vs {}",
        order.tax_total
    );
    let total = line_totals + charges + dd(&order.tax_total);
    assert!(
        (total - dd(&order.total)).abs() <= cent,
        "total {total} vs {}",
        order.total
    );
}

#[test]
fn a_configurable_and_a_dynamic_bundle_become_one_line_per_priced_item() {
    let order = mapping::map_order(&fixture("order-configurable-bundle.json")).unwrap();
    assert_eq!(order.id, "101");
    assert_eq!(order.number, "000000101");
    assert_eq!(order.currency, "EUR");
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.status_raw, "processing");
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert!(!order.prices_include_tax);
    // The configurable: one line, the parent's money and item id, the child's SKU and
    // product id. The dynamic bundle: its two priced children, not the parent.
    let lines: Vec<(&str, &str, &str, &str)> = order
        .lines
        .iter()
        .map(|line| {
            (
                line.platform_line_id.as_deref().unwrap(),
                line.sku.as_deref().unwrap(),
                line.product_id.as_deref().unwrap(),
                line.total.as_str(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("501", "TEE-M", "4", "29.36"),
            ("504", "MUG-1", "1", "7.38"),
            ("505", "BEANS-1KG", "2", "16.43"),
        ]
    );
    let tee = &order.lines[0];
    assert_eq!(tee.name, "Organic T-shirt");
    assert_eq!(dd(&tee.quantity), d("2"));
    assert_eq!(dd(&tee.unit_price), d("16.31"));
    assert_eq!(dd(&tee.discount), d("3.26"));
    assert_eq!(dd(&tee.tax_amount), d("6.46"));
    assert_eq!(tee.tax_rate.as_deref().map(dd), Some(d("22")));
    assert_eq!(order.lines[1].name, "Coffee set – Enamel mug");
    assert_eq!(order.lines[2].tax_rate.as_deref().map(dd), Some(d("9.5")));
    assert_eq!(dd(&order.discount_total), d("5.91"));
    assert_eq!(dd(&order.shipping_total), d("5"));
    assert_eq!(
        order.shipping_lines[0].code.as_deref(),
        Some("flatrate_flatrate")
    );
    assert_eq!(order.shipping_lines[0].title, "Flat Rate - Fixed");
    assert_eq!(dd(&order.shipping_lines[0].tax_amount), d("1.1"));
    assert_eq!(dd(&order.tax_total), d("10.74"));
    assert_eq!(dd(&order.total), d("68.91"));
    assert_eq!(order.coupons, ["SUMMER10"]);
    assert_adds_up(&order);

    let method = order.payment_method.as_ref().unwrap();
    assert_eq!(
        (method.code.as_str(), method.title.as_str()),
        ("checkmo", "Check / Money order")
    );
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id.as_deref(), Some("7"));
    assert_eq!(customer.vat_id.as_deref(), Some("SI12345678"));
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(billing.line2.as_deref(), Some("2. nadstropje"));
    assert_eq!(billing.company.as_deref(), Some("Kavarna d.o.o."));
    assert_eq!(billing.country.as_deref(), Some("SI"));
    let shipping = order.shipping.as_ref().unwrap();
    assert_eq!(shipping.city.as_deref(), Some("Maribor"));
    assert_eq!(shipping.name.as_deref(), Some("Ana Novak"));
    assert_eq!(order.created_at.seconds, 1_795_857_302);
}

#[test]
fn a_guest_order_in_another_currency_with_a_discount_on_gross_prices() {
    let order = mapping::map_order(&fixture("order-guest-usd.json")).unwrap();
    // The order currency and its amounts, not the base (EUR) ones.
    assert_eq!(order.currency, "USD");
    assert_eq!(dd(&order.total), d("43.43"));
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.payment_status, PaymentStatus::Unpaid);
    // 6.50 off the gross price, of which 0.57 was tax: 5.93 off the net price.
    let line = &order.lines[0];
    assert_eq!(dd(&line.discount), d("5.93"));
    assert_eq!(dd(&line.total), d("33.63"));
    assert_eq!(dd(&line.tax_amount), d("3.19"));
    assert_adds_up(&order);
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id, None);
    assert_eq!(customer.email.as_deref(), Some("gost@example.si"));
    assert_eq!(customer.first_name.as_deref(), Some("Marko"));
    assert_eq!(
        order.payment_method.as_ref().unwrap().title,
        "Bank Transfer Payment"
    );
}

#[test]
fn a_fixed_price_bundle_is_its_parent_line() {
    let mut order: Value = serde_json::from_slice(
        &std::fs::read(format!(
            "{}/fixtures/order-configurable-bundle.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    // Make the bundle fixed-price: the parent carries the money, the children none.
    let items = order["items"].as_array_mut().unwrap();
    items.retain(|item| item["item_id"] != 501 && item["item_id"] != 502);
    for item in items.iter_mut() {
        if item["item_id"] == 503 {
            item["sku"] = json!("GIFT-BOX");
            item["price"] = json!(30);
            item["row_total"] = json!(30);
            item["tax_amount"] = json!(6.6);
            item["tax_percent"] = json!(22);
        } else {
            for field in ["price", "row_total", "tax_amount", "discount_amount"] {
                item[field] = json!(0);
            }
        }
    }
    let parsed: MagentoOrder = serde_json::from_value(order).unwrap();
    let lines = mapping::lines(&parsed.items).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].sku.as_deref(), Some("GIFT-BOX"));
    assert_eq!(lines[0].platform_line_id.as_deref(), Some("503"));
    assert_eq!(dd(&lines[0].total), d("30"));
}

#[test]
fn statuses() {
    use OrderStatus::*;
    for (status, state, expected) in [
        ("pending", "new", Pending),
        ("pending_payment", "pending_payment", Pending),
        ("processing", "processing", Processing),
        ("complete", "complete", Completed),
        ("closed", "closed", Refunded),
        ("canceled", "canceled", Cancelled),
        ("holded", "holded", OnHold),
        ("payment_review", "payment_review", OnHold),
        ("fraud", "payment_review", OnHold),
        ("packed_and_waiting", "processing", Processing),
        ("mystery", "mystery", Other),
    ] {
        assert_eq!(
            mapping::status(Some(status), Some(state)),
            expected,
            "{status}"
        );
    }
}

#[test]
fn money_from_json_floats_is_exact() {
    let item: mapping::Item = serde_json::from_str(
        r#"{"item_id": 1, "qty_ordered": 3, "price": 0.1, "row_total": 0.30000000000000004,
            "tax_amount": 19.99, "discount_amount": null}"#,
    )
    .unwrap();
    assert_eq!(item.price, d("0.1"));
    assert_eq!(item.tax_amount, d("19.99"));
    assert_eq!(item.discount_amount, Decimal::ZERO);
}

#[test]
fn magento_times_are_utc() {
    let at = mapping::parse_time("2026-11-28 09:16:10").unwrap();
    assert_eq!(at.unix_timestamp(), 1_795_857_370);
    assert_eq!(mapping::magento_time(at), "2026-11-28 09:16:10");
}

#[test]
fn the_first_page_filters_from_the_sync_start_sorted_by_time_then_id() {
    let query = search_query("2026-11-28 09:00:00", None, 50);
    let get = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(
        get("searchCriteria[filter_groups][0][filters][0][field]"),
        Some("updated_at")
    );
    assert_eq!(
        get("searchCriteria[filter_groups][0][filters][0][value]"),
        Some("2026-11-28 09:00:00")
    );
    assert_eq!(
        get("searchCriteria[filter_groups][0][filters][0][condition_type]"),
        Some("gteq")
    );
    assert_eq!(
        get("searchCriteria[filter_groups][1][filters][0][field]"),
        None
    );
    assert_eq!(
        get("searchCriteria[sortOrders][0][field]"),
        Some("updated_at")
    );
    assert_eq!(get("searchCriteria[sortOrders][0][direction]"), Some("ASC"));
    assert_eq!(
        get("searchCriteria[sortOrders][1][field]"),
        Some("entity_id")
    );
    assert_eq!(get("searchCriteria[pageSize]"), Some("50"));
    assert_eq!(get("searchCriteria[currentPage]"), Some("1"));
}

#[test]
fn later_pages_continue_after_the_last_order_by_keyset() {
    let cursor = Cursor {
        updated_at: "2026-11-28 09:16:10".into(),
        entity_id: 104,
    };
    let encoded = cursor.encode();
    assert_eq!(Cursor::decode(&encoded).unwrap(), cursor);
    assert!(Cursor::decode("3").is_err());
    let query = search_query("2026-11-28 09:00:00", Some(&cursor), 2);
    let get = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    assert_eq!(
        get("searchCriteria[filter_groups][0][filters][0][value]"),
        Some("2026-11-28 09:16:10")
    );
    assert_eq!(
        get("searchCriteria[filter_groups][1][filters][0][condition_type]"),
        Some("gt")
    );
    assert_eq!(
        get("searchCriteria[filter_groups][1][filters][1][field]"),
        Some("entity_id")
    );
    assert_eq!(
        get("searchCriteria[filter_groups][1][filters][1][value]"),
        Some("104")
    );
    assert_eq!(get("searchCriteria[currentPage]"), Some("1"));
}

fn search(ids: &[(u64, &str)], total: u64) -> mapping::SearchResult {
    let items: Vec<Value> = ids
        .iter()
        .map(|(id, at)| json!({"entity_id": id, "updated_at": at}))
        .collect();
    serde_json::from_value(json!({"items": items, "total_count": total})).unwrap()
}

#[test]
fn paging_stops_by_total_count_not_by_an_empty_page() {
    let full = search(&[(1, "2026-11-28 09:00:00"), (2, "2026-11-28 09:00:00")], 3);
    let next = next_cursor(&full, None).unwrap();
    assert_eq!(next.entity_id, 2);
    // The rest fits this page: no more.
    assert_eq!(
        next_cursor(&search(&[(3, "2026-11-28 09:00:00")], 1), Some(&next)),
        None
    );
    // A page that did not move on stops instead of looping.
    let same = search(&[(1, "2026-11-28 09:00:00"), (2, "2026-11-28 09:00:00")], 5);
    assert_eq!(next_cursor(&same, Some(&next)), None);
    assert_eq!(next_cursor(&search(&[], 4), None), None);
}

#[test]
fn magento_errors_fill_in_their_parameters() {
    assert_eq!(
        render(
            "The \"%1\" parameter is invalid for %2.",
            Some(&json!(["sku", "x"]))
        ),
        "The \"sku\" parameter is invalid for x."
    );
    assert_eq!(
        render(
            "\"%fieldName\" is required.",
            Some(&json!({"fieldName": "searchCriteria"}))
        ),
        "\"searchCriteria\" is required."
    );
    assert_eq!(
        render("%1 and %10", Some(&json!({"1": "a", "10": "b"}))),
        "a and b"
    );

    let base = |status: u16| {
        tovor_sdk::http::status_error(status, &[], b"", tovor_sdk::time::now()).unwrap()
    };
    let body = br#"{"message":"The consumer isn't authorized to access %resources.","parameters":{"resources":"Magento_Sales::actions_view"}}"#;
    let signed = magento_error(base(401), body, true);
    assert_eq!(signed.kind, ErrorKind::Permission);
    assert!(
        signed.message.contains("Magento_Sales::actions_view"),
        "{}",
        signed.message
    );
    let bearer = magento_error(base(401), body, false);
    assert_eq!(bearer.kind, ErrorKind::Auth);
    assert!(bearer.message.contains("2.4.4"), "{}", bearer.message);

    let missing = magento_error(
        base(404),
        br#"{"message":"The Product with the \"%1\" SKU doesn't exist.","parameters":["TEE/XL"]}"#,
        true,
    );
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(
        missing.message.contains("\"TEE/XL\" SKU"),
        "{}",
        missing.message
    );
    assert_eq!(missing.http_status, Some(404));

    let validation = magento_error(
        base(400),
        br#"{"message":"Validation Failed","errors":[{"message":"Product with SKU \"%sku\" does not exist.","parameters":{"sku":"NOPE"}}]}"#,
        true,
    );
    assert_eq!(validation.kind, ErrorKind::InvalidInput);
    assert!(
        validation
            .message
            .contains("Validation Failed; Product with SKU \"NOPE\"")
    );

    let down = magento_error(
        base(503),
        b"<html><body>Service Temporarily Unavailable: maintenance downtime</body></html>",
        true,
    );
    assert_eq!(down.kind, ErrorKind::Transient);
    assert!(down.message.contains("maintenance"));
    let crashed = magento_error(
        base(500),
        br#"{"message":"Internal Error. Report ID: %1","parameters":["webapi-1"]}"#,
        true,
    );
    assert!(crashed.is_retryable());
}

#[test]
fn shipments_name_items_and_tracks() {
    let shipment = Shipment {
        lines: vec![ShippedLine {
            platform_line_id: "501".into(),
            quantity: "2".into(),
        }],
        carrier: "GLS".into(),
        parcels: vec![
            Parcel {
                tracking_number: "GLS123".into(),
                tracking_url: None,
            },
            Parcel {
                tracking_number: "GLS124".into(),
                tracking_url: None,
            },
        ],
        notify_customer: true,
    };
    let body = crate::fulfillment::ship_body(&shipment).unwrap();
    assert_eq!(
        body,
        json!({
            "items": [{"order_item_id": 501, "qty": 2}],
            "notify": true,
            "appendComment": false,
            "tracks": [
                {"track_number": "GLS123", "title": "GLS", "carrier_code": "custom"},
                {"track_number": "GLS124", "title": "GLS", "carrier_code": "custom"},
            ],
        })
    );
    assert_eq!(crate::fulfillment::carrier_code("UPS"), "ups");
}

#[test]
fn source_items_are_whole_numbers_with_a_status() {
    let body = crate::stock::source_items_body(
        "ljubljana",
        &[
            ("TEE/XL".into(), d("8")),
            ("MUG-1".into(), d("0")),
            ("BEANS-1KG".into(), d("2.5")),
        ],
    );
    assert_eq!(
        body,
        json!({"sourceItems": [
            {"sku": "TEE/XL", "source_code": "ljubljana", "quantity": 8, "status": 1},
            {"sku": "MUG-1", "source_code": "ljubljana", "quantity": 0, "status": 0},
            {"sku": "BEANS-1KG", "source_code": "ljubljana", "quantity": 2.5, "status": 1},
        ]})
    );
}

#[test]
fn webhook_payloads_name_the_order() {
    let event = crate::webhooks::parse_event(&json!({
        "eventName": "observer.sales_order_save_after",
        "data": {"order": {"entity_id": 104, "status": "processing"}},
    }));
    assert_eq!(
        event.topic.as_deref(),
        Some("observer.sales_order_save_after")
    );
    match event.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, "104");
            assert!(hint.order.is_none());
        }
        other => panic!("{other:?}"),
    }
    let product = crate::webhooks::parse_event(&json!({
        "eventName": "observer.catalog_product_save_after",
        "data": {"data_object": {"entity_id": 5}},
    }));
    assert!(matches!(product.event, WebhookEvent::Ignored(_)));
    assert!(crate::webhooks::public_key("not a key").is_err());
}
