#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use tovor_sdk::types::{ErrorKind, OrderStatus, PaymentStatus};

use crate::api::opr_error;
use crate::mapping::{self, MkSalesOrder, Settings, TaxCodes};
use crate::orders::Cursor;

fn fixture() -> MkSalesOrder {
    serde_json::from_str(include_str!("../fixtures/sales_order.json")).unwrap()
}

fn settings() -> Settings {
    Settings::new(None, None).unwrap()
}

#[test]
fn tax_codes_are_rates() {
    let codes = TaxCodes::parse(Some("EX1=0, EX2=5")).unwrap();
    assert_eq!(codes.rate("EX4").unwrap().to_string(), "22");
    assert_eq!(codes.rate("ex3").unwrap().to_string(), "9.5");
    assert_eq!(codes.rate("220").unwrap().normalize().to_string(), "22");
    assert_eq!(codes.rate("095").unwrap().normalize().to_string(), "9.5");
    assert_eq!(codes.rate("EX2").unwrap().to_string(), "5");
    let error = codes.rate("EX9").unwrap_err();
    assert_eq!(error.field.as_deref(), Some("tax_codes"));
}

#[test]
fn discounts_cascade() {
    assert_eq!(
        mapping::discount_factor("22;23")
            .unwrap()
            .normalize()
            .to_string(),
        "0.6006"
    );
    assert_eq!(mapping::discount_factor("").unwrap().to_string(), "1");
}

#[test]
fn dates_with_an_offset_are_parsed() {
    let at = mapping::parse_time("2015-05-08+02:00", "doc_date").unwrap();
    assert_eq!(at.unix_timestamp(), 1_431_036_000);
    let at = mapping::parse_time("2015-05-08T12:13:15+02:00", "x").unwrap();
    assert_eq!(at.unix_timestamp(), 1_431_080_000 - 5);
}

#[test]
fn the_fixture_maps_to_the_cent() {
    let order = mapping::map_order(&fixture(), &settings()).unwrap();
    assert_eq!(order.id, "1600203487");
    assert_eq!(order.number, "1042");
    let note = order.customer_note.clone().unwrap();
    assert!(note.contains("PP-18495") && note.contains("1042"), "{note}");
    assert_eq!(order.currency, "EUR");
    assert!(order.prices_include_tax);
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.payment_status, PaymentStatus::Unpaid);
    assert_eq!(order.lines.len(), 2);
    let mug = &order.lines[0];
    assert_eq!(mug.sku.as_deref(), Some("MUG-BLU"));
    assert_eq!(mug.tax_rate.as_deref(), Some("22"));
    // 2 × 14.00 with tax, 10 % off: 25.20 gross, 4.54 tax, 20.66 net.
    assert_eq!(mug.discount, "2.80");
    assert_eq!(mug.tax_amount, "4.54");
    assert_eq!(mug.total, "20.66");
    let coffee = &order.lines[1];
    assert_eq!(coffee.tax_rate.as_deref(), Some("9.5"));
    // 3 × 8.76: 26.28 gross, 2.28 tax.
    assert_eq!(coffee.tax_amount, "2.28");
    assert_eq!(coffee.total, "24.00");
    assert_eq!(order.shipping_lines.len(), 1);
    assert_eq!(order.shipping_lines[0].amount, "3.28");
    assert_eq!(order.shipping_lines[0].tax_amount, "0.72");
    assert_eq!(order.total, "55.48");
    assert_eq!(order.tax_total, "7.54");
    let customer = order.customer.clone().unwrap();
    assert_eq!(customer.first_name.as_deref(), Some("Ana"));
    assert_eq!(customer.last_name.as_deref(), Some("Novak"));
    assert_eq!(customer.email.as_deref(), Some("ana@example.test"));
    let shipping = order.shipping.clone().unwrap();
    assert_eq!(shipping.street.as_deref(), Some("Trg republike"));
    assert_eq!(shipping.house_number.as_deref(), Some("3"));
    assert_eq!(shipping.country.as_deref(), Some("SI"));
    assert_eq!(
        order.billing.clone().unwrap().city.as_deref(),
        Some("Ljubljana")
    );
    assert_eq!(order.payment_method.clone().unwrap().title, "Po povzetju");
}

#[test]
fn net_prices_and_a_company() {
    let mut order = fixture();
    order.buyer_order = String::new();
    for product in &mut order.product_list {
        product.price = "10.00".into();
        product.price_with_tax = String::new();
        product.discount = String::new();
    }
    let partner = order.partner.as_mut().unwrap();
    partner.business_entity = "true".into();
    partner.customer = "Kava d.o.o.".into();
    partner.tax_id_number = "SI12345678".into();
    let mapped = mapping::map_order(&order, &settings()).unwrap();
    assert_eq!(mapped.number, "PP-18495");
    assert!(!mapped.prices_include_tax);
    // 2 × 10 at 22 %, 3 × 10 at 9.5 %, 1 × 10 shipping at 22 %.
    assert_eq!(mapped.total, "69.45");
    let customer = mapped.customer.unwrap();
    assert_eq!(customer.company.as_deref(), Some("Kava d.o.o."));
    assert_eq!(customer.vat_id.as_deref(), Some("SI12345678"));
}

#[test]
fn errors_inside_200_are_typed() {
    let auth =
        opr_error(&json!({"opr_code": "1", "opr_desc": "Wrong secret_key or company_id"})).unwrap();
    assert_eq!(auth.kind, ErrorKind::Auth);
    assert_eq!(auth.platform_code.as_deref(), Some("1"));
    let input =
        opr_error(&json!({"opr_code": "2", "opr_desc": "Paramether 'limit' has invalid value"}))
            .unwrap();
    assert_eq!(input.kind, ErrorKind::InvalidInput);
    assert!(input.message.contains("limit"), "{}", input.message);
    let missing = opr_error(&json!({"opr_code": "2", "opr_desc": "Document not found"})).unwrap();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(opr_error(&json!({"opr_code": "0"})).is_none());
    assert!(opr_error(&Value::Null).is_none());
}

#[test]
fn the_cursor_steps_back_when_orders_leave_the_window() {
    let now = tovor_sdk::time::now();
    let first = Cursor::first(now - time::Duration::hours(1), now);
    let next = Cursor {
        offset: 50,
        count: 120,
        ..first.clone()
    };
    assert_eq!(Cursor::decode(&next.encode()).unwrap().offset, 50);
    assert_eq!(next.start(120), 50);
    assert_eq!(next.start(118), 48);
    assert!(Cursor::decode("v2|x").is_err());
}

#[test]
fn stock_rows_use_the_sku() {
    let level = tovor_sdk::shop::StockUpdate {
        key: "1600162716".into(),
        sku: Some("MUG-BLU".into()),
        quantity: "5".parse().unwrap(),
    };
    assert_eq!(
        crate::stock::product_ref(&level).unwrap(),
        ("product_code", "MUG-BLU".to_owned())
    );
    let level = tovor_sdk::shop::StockUpdate { sku: None, ..level };
    assert_eq!(crate::stock::product_ref(&level).unwrap().0, "product_id");
}

fn stock_row(warehouse: &str, mk_id: &str, code: &str, amount: &str) -> crate::stock::StockRow {
    crate::stock::StockRow {
        warehouse_id: warehouse.into(),
        mk_id: mk_id.into(),
        count_code: code.into(),
        code: code.to_lowercase(),
        amount: amount.into(),
    }
}

#[test]
fn stock_merge_keeps_every_other_item_and_warehouse() {
    use crate::stock::{merge, sync_body};
    let rows = vec![
        stock_row("42", "100", "MUG", "6"),
        stock_row("42", "100", "MUG", "4"),
        stock_row("42", "101", "KAVA", "863,75"),
        stock_row("42", "102", "TEE", "-3"),
        stock_row("67", "100", "MUG", "3"),
        stock_row("67", "101", "KAVA", "1,5"),
    ];
    let levels = vec![
        ("product_code", "MUG".to_owned(), "7".parse().unwrap()),
        ("product_id", "102".to_owned(), "0".parse().unwrap()),
        // Matched by the shop's code (`code`), not the count code.
        ("product_code", "kava".to_owned(), "2.50".parse().unwrap()),
        ("product_code", "NEW".to_owned(), "1".parse().unwrap()),
    ];
    let (items, placed) = merge(&rows, "42", &levels).unwrap();
    assert_eq!(placed, vec![0, 2, 1, 5]);
    let body = Value::Object(sync_body(&items));
    assert_eq!(
        body["stock_list"],
        json!([
            {"warehouse_id": "42", "product_code": "MUG", "product_id": "100", "amount": "7"},
            {"warehouse_id": "42", "product_code": "KAVA", "product_id": "101", "amount": "2.5"},
            {"warehouse_id": "42", "product_code": "TEE", "product_id": "102", "amount": "0"},
            {"warehouse_id": "67", "product_code": "MUG", "product_id": "100", "amount": "3"},
            {"warehouse_id": "67", "product_code": "KAVA", "product_id": "101", "amount": "1.5"},
            {"warehouse_id": "42", "product_code": "NEW", "amount": "1"},
        ])
    );
    // Nothing to change: the stock read is sent back as it is, microlocations summed.
    let (items, _) = merge(&rows, "42", &[]).unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0].amount, "10".parse().unwrap());
    assert_eq!(items[1].amount, "863.75".parse().unwrap());
    assert!(merge(&[stock_row("42", "1", "X", "many")], "42", &[]).is_err());
}

#[test]
fn stock_remove_list_is_an_object_or_a_list() {
    use crate::stock::removed;
    let one = json!({"product_code": "WOOART2", "product_id": "1600321892", "warehouse_id": "1600456606", "amount": "0"});
    assert_eq!(removed(&one), vec!["1600456606/WOOART2".to_owned()]);
    assert_eq!(removed(&json!([one, one])).len(), 2);
    assert!(removed(&Value::Null).is_empty());
}
