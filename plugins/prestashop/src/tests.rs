//! Unit tests of the pure parts: the mapping of a real-shaped order, statuses, the
//! cursor, shop time, errors and the XML bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;
use time::macros::datetime;
use tovor_sdk::types::{ErrorKind, OrderStatus, PaymentStatus};

use crate::api::{self, PsError};
use crate::mapping::{
    self, OrderData, PsAddress, PsCustomer, PsDetail, PsOrder, PsOrderCartRule, StatusMap,
};
use crate::orders::{Cursor, next_second};
use crate::reference::{OrderState, Reference, zone_of};
use crate::shoptime::Zone;

const FIXTURE: &str = include_str!("../fixtures/order-1.json");

fn rows<T: serde::de::DeserializeOwned>(fixture: &Value, name: &str) -> Vec<T> {
    serde_json::from_value(fixture[name].clone()).unwrap()
}

fn reference() -> Reference {
    let state = |name: &str, paid: bool, shipped: bool, delivered: bool| OrderState {
        name: name.into(),
        paid,
        shipped,
        delivered,
    };
    Reference {
        fetched_at: 0,
        states: BTreeMap::from([
            (1, state("Awaiting check payment", false, false, false)),
            (2, state("Payment accepted", true, false, false)),
            (4, state("Shipped", true, true, false)),
            (5, state("Delivered", true, true, true)),
            (6, state("Canceled", false, false, false)),
            (7, state("Refunded", true, false, false)),
            (15, state("Pripravljeno", true, false, false)),
        ]),
        carriers: BTreeMap::from([(2, "Pošta Slovenije".into())]),
        currencies: BTreeMap::from([(1, "EUR".into())]),
        countries: BTreeMap::from([(193, "SI".into())]),
        time_zone: Some("Europe/Ljubljana".into()),
        round_type: Some("1".into()),
    }
}

fn fixture_data() -> OrderData {
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let order: PsOrder = rows::<PsOrder>(&fixture, "orders").remove(0);
    let details: Vec<PsDetail> = rows(&fixture, "order_details");
    let customer: PsCustomer = rows::<PsCustomer>(&fixture, "customers").remove(0);
    let address: PsAddress = rows::<PsAddress>(&fixture, "addresses").remove(0);
    let rules: Vec<PsOrderCartRule> = rows(&fixture, "order_cart_rules");
    OrderData {
        order,
        details,
        customer: Some(customer),
        invoice: Some(address.clone()),
        delivery: Some(address),
        cart_rules: rules,
        codes: BTreeMap::from([(1, "POPUST10".into())]),
    }
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[test]
fn a_real_order_maps_to_the_cent_with_two_rates_a_combination_and_a_voucher() {
    let zone = Zone::parse("Europe/Ljubljana").unwrap();
    let order =
        mapping::map_order(&fixture_data(), &reference(), &zone, &StatusMap::default()).unwrap();
    assert_eq!(order.id, "1");
    assert_eq!(order.number, "XKBKNABJK");
    assert_eq!(order.currency, "EUR");
    assert!(order.prices_include_tax);
    assert_eq!(order.total, "70.34");
    assert_eq!(order.tax_total, "10.69");
    assert_eq!(order.shipping_total, "3.36");
    assert_eq!(order.coupons, ["POPUST10"]);
    assert_eq!(
        (order.status, order.payment_status),
        (OrderStatus::Processing, PaymentStatus::Paid)
    );
    assert_eq!(order.status_raw, "2");
    let method = order.payment_method.as_ref().unwrap();
    assert_eq!(
        (method.code.as_str(), method.title.as_str()),
        ("ps_wirepayment", "Bank wire")
    );
    // 01:30 CET and 03:30 CEST, either side of the switch to summer time.
    assert_eq!(
        order.created_at.seconds,
        datetime!(2026-03-29 00:30 UTC).unix_timestamp()
    );
    assert_eq!(
        order.modified_at.seconds,
        datetime!(2026-03-29 01:30 UTC).unix_timestamp()
    );

    let mug = &order.lines[0];
    assert_eq!(mug.sku.as_deref(), Some("MUG-01"));
    assert_eq!(dec(&mug.unit_price), dec("15"));
    assert_eq!(mug.tax_rate.as_deref(), Some("22"));
    assert_eq!(
        (dec(&mug.discount), dec(&mug.total), dec(&mug.tax_amount)),
        (dec("3"), dec("22.13"), dec("4.87"))
    );
    let coffee = &order.lines[1];
    assert_eq!(coffee.tax_rate.as_deref(), Some("9.5"));
    assert_eq!(
        (coffee.total.as_str(), coffee.tax_amount.as_str()),
        ("19.48", "1.85")
    );
    let tee = &order.lines[2];
    assert_eq!(tee.product_id.as_deref(), Some("2"));
    assert_eq!(tee.variation_id.as_deref(), Some("2:11"));
    assert_eq!(tee.platform_line_id.as_deref(), Some("3"));
    let shipping = &order.shipping_lines[0];
    assert_eq!(
        (
            shipping.title.as_str(),
            shipping.amount.as_str(),
            shipping.tax_amount.as_str()
        ),
        ("Pošta Slovenije", "3.36", "0.74")
    );

    // Parts add up to PrestaShop's own totals.
    let gross: Decimal = order
        .lines
        .iter()
        .map(|l| dec(&l.total) + dec(&l.tax_amount))
        .sum::<Decimal>()
        + dec(&shipping.amount)
        + dec(&shipping.tax_amount);
    assert_eq!(gross, dec("70.34"));
    let net: Decimal =
        order.lines.iter().map(|l| dec(&l.total)).sum::<Decimal>() + dec(&shipping.amount);
    assert_eq!(net, dec("59.65"));

    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id.as_deref(), Some("1"));
    assert_eq!(customer.vat_id.as_deref(), Some("SI12345678"));
    assert_eq!(customer.company.as_deref(), Some("Lipa d.o.o."));
    let billing = order.billing.as_ref().unwrap();
    assert_eq!(billing.country.as_deref(), Some("SI"));
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(billing.email.as_deref(), Some("ana.novak@example.si"));
}

#[test]
fn a_guest_has_no_customer_id_and_free_shipping_leaves_the_shipping_line_empty() {
    let mut data = fixture_data();
    data.customer.as_mut().unwrap().is_guest = true;
    // BREZPOSTNINE: the voucher is the shipping.
    data.order.total_discounts_tax_incl = dec("4.10");
    data.order.total_discounts_tax_excl = dec("3.36");
    data.order.total_paid_tax_incl = dec("73.60");
    data.order.total_paid_tax_excl = dec("62.54");
    data.cart_rules[0].free_shipping = true;
    data.cart_rules[0].value = dec("4.10");
    data.cart_rules[0].value_tax_excl = dec("3.36");
    let zone = Zone::parse("UTC").unwrap();
    let order = mapping::map_order(&data, &reference(), &zone, &StatusMap::default()).unwrap();
    assert_eq!(order.customer.unwrap().platform_id, None);
    assert_eq!(dec(&order.shipping_total), Decimal::ZERO);
    assert_eq!(dec(&order.discount_total), Decimal::ZERO);
    assert_eq!(order.total, "73.60");
    assert_eq!(order.tax_total, "11.06");
}

#[test]
fn states_map_by_the_users_map_the_well_known_ids_and_the_flags() {
    let reference = reference();
    let map = StatusMap::parse(Some("15=completed, 16 = on-hold")).unwrap();
    let status = |id: u64| mapping::status_of(id, reference.states.get(&id), &map);
    assert_eq!(status(1), (OrderStatus::Pending, PaymentStatus::Unpaid));
    assert_eq!(status(2), (OrderStatus::Processing, PaymentStatus::Paid));
    assert_eq!(status(4), (OrderStatus::Completed, PaymentStatus::Paid));
    assert_eq!(status(5), (OrderStatus::Completed, PaymentStatus::Paid));
    assert_eq!(status(6), (OrderStatus::Cancelled, PaymentStatus::Voided));
    assert_eq!(status(7), (OrderStatus::Refunded, PaymentStatus::Refunded));
    assert_eq!(status(8), (OrderStatus::Failed, PaymentStatus::Unpaid));
    assert_eq!(status(15), (OrderStatus::Completed, PaymentStatus::Paid));
    assert_eq!(status(16).0, OrderStatus::OnHold);
    assert_eq!(status(99), (OrderStatus::Other, PaymentStatus::Unknown));
    let error = StatusMap::parse(Some("15=shipped")).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("status_map"));
}

#[test]
fn the_rate_is_read_from_the_prices_when_the_detail_has_none() {
    let data = fixture_data();
    let rates: Vec<String> = data
        .details
        .iter()
        .map(|d| mapping::line_rate(d).unwrap().to_string())
        .collect();
    assert_eq!(rates, ["22", "9.5", "22"]);
    let mut detail = data.details[0].clone();
    detail.tax_rate = Some(dec("8.100"));
    assert_eq!(mapping::line_rate(&detail).unwrap().to_string(), "8.1");
}

#[test]
fn spreading_keeps_every_cent() {
    let parts = mapping::spread(dec("10.00"), &[dec("1"), dec("1"), dec("1")]);
    assert_eq!(parts, [dec("3.33"), dec("3.33"), dec("3.34")]);
    assert_eq!(mapping::spread(dec("0"), &[dec("5")]), [dec("0")]);
}

#[test]
fn stock_keys_round_trip() {
    assert_eq!(mapping::stock_key(12, 0), "12");
    assert_eq!(mapping::stock_key(12, 45), "12:45");
    assert_eq!(mapping::parse_stock_key("12"), Some((12, 0)));
    assert_eq!(mapping::parse_stock_key(" 12:45 "), Some((12, 45)));
    assert_eq!(mapping::parse_stock_key("TEE-M"), None);
}

#[test]
fn shop_time_follows_eu_summer_time() {
    let zone = Zone::parse("Europe/Ljubljana").unwrap();
    assert_eq!(
        zone.format(datetime!(2026-01-15 12:00 UTC)),
        "2026-01-15 13:00:00"
    );
    assert_eq!(
        zone.format(datetime!(2026-07-15 12:00 UTC)),
        "2026-07-15 14:00:00"
    );
    // The last Sunday of October 2026 is the 25th: 01:00 UTC back to CET.
    assert_eq!(
        zone.format(datetime!(2026-10-25 00:59:59 UTC)),
        "2026-10-25 02:59:59"
    );
    assert_eq!(
        zone.format(datetime!(2026-10-25 01:00 UTC)),
        "2026-10-25 02:00:00"
    );
    // The repeated hour reads as summer time.
    assert_eq!(
        zone.parse_local("2026-10-25 02:30:00").unwrap(),
        datetime!(2026-10-25 00:30 UTC)
    );
    assert_eq!(
        Zone::parse("Europe/London")
            .unwrap()
            .format(datetime!(2026-07-01 12:00 UTC)),
        "2026-07-01 13:00:00"
    );
    assert_eq!(
        Zone::parse("+05:30")
            .unwrap()
            .format(datetime!(2026-07-01 12:00 UTC)),
        "2026-07-01 17:30:00"
    );
    assert_eq!(Zone::parse("UTC-0300"), Zone::parse("-03:00"));
    // Any zone of the database, with its own rules: New York's summer time starts on the
    // second Sunday of March, two weeks before Europe's.
    assert_eq!(
        Zone::parse("America/New_York")
            .unwrap()
            .format(datetime!(2026-03-20 12:00 UTC)),
        "2026-03-20 08:00:00"
    );
    assert!(Zone::parse("Mars/Olympus_Mons").is_none());
    assert!(zone.parse_local("0000-00-00 00:00:00").is_err());
}

#[test]
fn the_time_zone_setting_wins_and_an_unknown_zone_says_what_to_set() {
    assert_eq!(
        zone_of(Some("+02:00"), Some("Europe/Ljubljana")).unwrap(),
        Zone::parse("+02:00").unwrap()
    );
    assert_eq!(
        zone_of(None, Some("Europe/Zagreb")).unwrap(),
        Zone::parse("Europe/Zagreb").unwrap()
    );
    let error = zone_of(None, Some("Mars/Olympus_Mons")).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("time_zone"));
    assert!(error.message.contains("offset"), "{}", error.message);
    assert_eq!(
        zone_of(Some(" "), None).unwrap_err().field.as_deref(),
        Some("time_zone")
    );
}

#[test]
fn the_cursor_keeps_the_key_of_the_last_order_and_the_window() {
    let zone = Zone::parse("Europe/Ljubljana").unwrap();
    let first = Cursor::first(
        &zone,
        datetime!(2026-03-01 09:00 UTC),
        datetime!(2026-03-02 09:00 UTC),
    );
    assert_eq!(first.since, "2026-03-01 10:00:00");
    assert_eq!(first.until, "2026-03-02 10:01:00");
    let next = Cursor {
        since: "2026-03-01 10:15:00".into(),
        after_id: Some(50),
        until: first.until.clone(),
    };
    let text = next.encode();
    assert_eq!(text, "v1|2026-03-01 10:15:00|50|2026-03-02 10:01:00");
    assert_eq!(Cursor::decode(&text).unwrap(), next);
    assert!(Cursor::decode("3").is_err());
    assert!(Cursor::decode("v1|x|1|y").is_err());
    assert_eq!(
        next_second("2026-12-31 23:59:59").unwrap(),
        "2027-01-01 00:00:00"
    );
}

#[test]
fn prestashop_errors_are_read_from_json_and_xml() {
    let json = br#"{"errors":[{"code":18,"message":"Invalid authentication key format"}]}"#;
    assert_eq!(
        api::parse_error(json),
        Some(PsError {
            code: Some("18".into()),
            message: "Invalid authentication key format".into()
        })
    );
    let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<errors>\n<error>\n<code><![CDATA[26]]></code>\n<message><![CDATA[Resource of type \"orders\" is not allowed with this authentication key]]></message>\n</error>\n</errors>\n</prestashop>\n";
    let error = api::parse_error(xml).unwrap();
    assert_eq!(error.code.as_deref(), Some("26"));
    assert!(error.message.starts_with("Resource of type \"orders\""));
    assert_eq!(api::parse_error(b"<html>503</html>"), None);

    let refined = |status: u16, body: &[u8]| {
        let base =
            tovor_sdk::http::status_error(status, &[], body, time::OffsetDateTime::now_utc())
                .unwrap();
        api::refine(base, status, body)
    };
    let auth = refined(401, json);
    assert_eq!(auth.kind, ErrorKind::Auth);
    assert_eq!(auth.field.as_deref(), Some("webservice_key"));
    assert_eq!(auth.platform_code.as_deref(), Some("18"));
    assert_eq!(refined(401, xml).kind, ErrorKind::Permission);
    let disabled =
        br#"{"errors":[{"code":22,"message":"The PrestaShop webservice is disabled."}]}"#;
    assert_eq!(refined(503, disabled).kind, ErrorKind::Permission);
    assert_eq!(
        refined(503, b"<html>Service Unavailable</html>").kind,
        ErrorKind::Transient
    );
    assert_eq!(
        refined(500, br#"{"errors":[{"code":2,"message":"[PHP Error]"}]}"#).kind,
        ErrorKind::Transient
    );
    assert_eq!(refined(404, b"").kind, ErrorKind::NotFound);
}

#[test]
fn writes_send_the_whole_row_as_xml_with_the_change() {
    let row: serde_json::Map<String, Value> = serde_json::from_str(
        r#"{"id": 7, "id_product": "2", "id_product_attribute": "11", "id_shop": "1", "id_shop_group": "0", "quantity": "5", "depends_on_stock": "0", "out_of_stock": "2", "location": "A<1>"}"#,
    )
    .unwrap();
    let xml = crate::stock::resource_xml("stock_available", &row, &[("quantity", "12".into())]);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop"));
    assert!(xml.contains("<id><![CDATA[7]]></id>"));
    assert!(xml.contains("<quantity><![CDATA[12]]></quantity>"));
    assert!(!xml.contains("<![CDATA[5]]>"));
    assert!(xml.contains("<location><![CDATA[A<1>]]></location>"));
    #[derive(serde::Deserialize)]
    struct Body {
        stock_available: Row,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        quantity: String,
        location: String,
    }
    let body: Body = quick_xml::de::from_str(&xml).unwrap();
    assert_eq!(body.stock_available.quantity, "12");
    assert_eq!(body.stock_available.location, "A<1>");
    let history = crate::fulfillment::history_xml(5, 4);
    assert!(history.contains("<order_history>\n<id_order><![CDATA[5]]></id_order>\n<id_order_state><![CDATA[4]]></id_order_state>"));
    assert_eq!(api::cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
}

#[test]
fn lists_read_empty_answers_and_multilingual_names() {
    let response = |body: &str| tovor_sdk::http::Response {
        status: 200,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
        url: "https://shop.example/api/orders".into(),
    };
    let empty: Vec<Value> = api::list_rows(&response("[]"), "orders").unwrap();
    assert!(empty.is_empty());
    let empty: Vec<Value> = api::list_rows(&response("{}"), "orders").unwrap();
    assert!(empty.is_empty());
    assert!(api::list_rows::<Value>(&response(r#"{"products": []}"#), "orders").is_err());
    let name = serde_json::json!([{"id": "1", "value": "Plačilo sprejeto"}, {"id": "2", "value": "Payment accepted"}]);
    assert_eq!(api::text_of(&name), "Plačilo sprejeto");
    assert_eq!(api::id_set([3, 1, 3]), "[1|3]");
}
