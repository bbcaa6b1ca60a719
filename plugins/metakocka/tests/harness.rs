//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake Metakocka of
//! `tovor-fakes` on 127.0.0.1.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- metakocka_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tovor_fakes::metakocka::{
    COMPANY_ID, FakeMetakocka, OTHER_WAREHOUSE_ID, OrderSpec, SECRET_KEY, WAREHOUSE_ID,
    WEBHOOK_SECRET, gross_total, row,
};
use tovor_harness::connector_error;
use tovor_harness::list_all_orders;
use tovor_harness::model::{
    OrderStatus, PaymentStatus, StockLevel, StockTarget, WebhookEvent, WebhookRequest,
};
use tovor_harness::{Decimal, ErrorKind, ShopClient, TestHost};

fn settings(fake: &FakeMetakocka) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("api_base".to_owned(), fake.api_base()),
        ("company_id".to_owned(), COMPANY_ID.to_owned()),
        ("secret_key".to_owned(), SECRET_KEY.to_owned()),
        ("warehouse_id".to_owned(), WAREHOUSE_ID.to_owned()),
        ("webhook_secret".to_owned(), WEBHOOK_SECRET.to_owned()),
    ])
}

async fn connector(settings: BTreeMap<String, String>) -> anyhow::Result<(TestHost, ShopClient)> {
    TestHost::with_shop_crate(env!("CARGO_MANIFEST_DIR"), settings).await
}

fn an_hour_ago() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() - time::Duration::hours(1)
}

#[tokio::test]
async fn metakocka_lists_sales_orders_to_the_cent() -> anyhow::Result<()> {
    let fake = FakeMetakocka::start_seeded().await?;
    let (_host, client) = connector(settings(&fake)).await?;
    let info = client.check_connection().await?;
    assert!(format!("{info:?}").contains(COMPANY_ID), "{info:?}");

    let (orders, pages) = list_all_orders(&client, an_hour_ago()).await;
    assert_eq!(pages, 1);
    assert_eq!(orders.len(), 4);
    for order in &orders {
        tovor_harness::assert_importable(order);
        let doc = fake.document(order.id.parse().unwrap()).unwrap();
        let expected: Decimal = doc["sum_all"].as_str().unwrap().parse().unwrap();
        assert_eq!(order.total, expected, "{}", order.id);
        assert!(
            order
                .customer_note
                .as_deref()
                .unwrap()
                .contains(doc["count_code"].as_str().unwrap())
        );
    }
    let first = &orders[0];
    assert_eq!(first.number, "1042");
    assert!(first.prices_include_tax);
    assert_eq!(first.lines.len(), 2);
    assert_eq!(first.shipping_lines.len(), 1);
    assert_eq!(first.total.to_string(), "55.48");
    assert_eq!(first.status, OrderStatus::Processing);
    assert_eq!(
        first.shipping.as_ref().unwrap().street.as_deref(),
        Some("Trg republike")
    );
    let company = &orders[1];
    assert!(!company.prices_include_tax);
    assert_eq!(company.payment_status, PaymentStatus::Paid);
    assert_eq!(
        company.customer.as_ref().unwrap().vat_id.as_deref(),
        Some("SI12345678")
    );
    let croatia = &orders[2];
    assert!(
        croatia.number.starts_with("PP-"),
        "no buyer's order: {}",
        croatia.number
    );
    assert_eq!(
        croatia.billing.as_ref().unwrap().country.as_deref(),
        Some("HR")
    );
    assert_eq!(croatia.status, OrderStatus::Completed);
    assert_eq!(orders[3].status, OrderStatus::Cancelled);

    let one = client.get_order(&first.id).await?;
    assert_eq!(one.total, first.total);
    let missing = connector_error(client.get_order("42").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    // The secret never travels anywhere but the body.
    assert!(
        fake.calls()
            .iter()
            .all(|call| !call.body.to_string().contains(SECRET_KEY))
    );
    Ok(())
}

#[tokio::test]
async fn metakocka_pages_by_50_without_skipping_orders_that_change_meanwhile() -> anyhow::Result<()>
{
    let fake = FakeMetakocka::start().await?;
    let at = time::OffsetDateTime::now_utc() - time::Duration::minutes(30);
    let mut ids = Vec::new();
    for _ in 0..120 {
        ids.push(fake.place_at(
            &OrderSpec::new("", vec![row("MUG-BLU", "Mug", "1", "14.00", true)]),
            at,
        ));
    }
    let (_host, client) = connector(settings(&fake)).await?;
    let page = client.list_orders(an_hour_ago(), None).await?;
    assert_eq!(page.orders.len(), 50);
    // Two orders of the first page change now: they leave the fixed window.
    fake.touch(ids[3], "Odpremljen");
    fake.touch(ids[10], "Odpremljen");
    let mut seen: Vec<String> = page.orders.iter().map(|o| o.id.clone()).collect();
    let mut cursor = page.next_cursor;
    while let Some(next) = cursor {
        let page = client.list_orders(an_hour_ago(), Some(&next)).await?;
        seen.extend(page.orders.iter().map(|o| o.id.clone()));
        cursor = page.next_cursor;
    }
    for id in &ids {
        assert!(seen.contains(&id.to_string()), "order {id} was skipped");
    }
    assert!(
        fake.calls()
            .iter()
            .filter(|call| call.method == "v1/search")
            .all(|call| call.body["limit"] == "50")
    );
    Ok(())
}

#[tokio::test]
async fn metakocka_errors_inside_200_are_typed() -> anyhow::Result<()> {
    let fake = FakeMetakocka::start_seeded().await?;
    let mut wrong = settings(&fake);
    wrong.insert("secret_key".into(), "nope".into());
    let (_host, client) = connector(wrong).await?;
    let error = connector_error(client.list_orders(an_hour_ago(), None).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    assert!(!error.message.contains("nope"));
    let error = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    assert_eq!(error.field.as_deref(), Some("secret_key"));
    assert_eq!(error.platform_code.as_deref(), Some("1"));

    let (_host, client) = connector(settings(&fake)).await?;
    fake.fail_next(1, "2", "Paramether 'doc_type' has invalid value");
    let error = connector_error(client.list_orders(an_hour_ago(), None).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(error.message.contains("doc_type"), "{}", error.message);
    fake.set_down(true);
    let error = connector_error(client.list_orders(an_hour_ago(), None).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    fake.set_down(false);
    assert_eq!(
        client.list_orders(an_hour_ago(), None).await?.orders.len(),
        4
    );
    Ok(())
}

fn level(sku: &str, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: Some(sku.to_owned()),
            product_id: "1600162700".to_owned(),
            variant_id: None,
            stock_key: None,
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn metakocka_sets_stock_by_code() -> anyhow::Result<()> {
    let fake = FakeMetakocka::start_seeded().await?;
    let (_host, client) = connector(settings(&fake)).await?;
    let results = client
        .push_stock(&[level("MUG-BLU", 7), level("KAVA-250", 0), level("NOPE", 1)])
        .await?;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert_eq!(results[2].as_ref().unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(fake.stock("MUG-BLU").as_deref(), Some("7"));
    assert_eq!(fake.stock("KAVA-250").as_deref(), Some("0"));
    let rows = fake.synced();
    assert!(rows.iter().all(|row| row["amount"].is_string()));
    // The whole stock went in one request; nothing else changed or was removed.
    assert_eq!(
        fake.calls()
            .iter()
            .filter(|c| c.method == "sync_stock")
            .count(),
        1
    );
    assert_eq!(fake.stock("TEE-M").as_deref(), Some("5"));
    assert_eq!(fake.stock("NOPE"), None);
    assert!(fake.removed().is_empty(), "{:?}", fake.removed());
    Ok(())
}

#[tokio::test]
async fn metakocka_pushing_one_level_keeps_the_rest_of_the_stock() -> anyhow::Result<()> {
    let fake = FakeMetakocka::start_seeded().await?;
    // Small pages, so reading the stock takes several `warehouse_stock` calls.
    fake.set_stock_page(2);
    let before = fake.stock_totals();
    assert!(before.len() >= 6, "{before:?}");
    let (_host, client) = connector(settings(&fake)).await?;
    let results = client.push_stock(&[level("MUG-BLU", 7)]).await?;
    assert!(results[0].is_ok(), "{results:?}");
    assert!(fake.stock_reads().len() >= 4, "{:?}", fake.stock_reads());
    assert_eq!(fake.stock("MUG-BLU").as_deref(), Some("7"));
    let expected: Vec<_> = before
        .into_iter()
        .map(|(warehouse, code, amount)| {
            if warehouse == WAREHOUSE_ID && code == "MUG-BLU" {
                (warehouse, code, "7".to_owned())
            } else {
                (warehouse, code, amount)
            }
        })
        .collect();
    assert_eq!(fake.stock_totals(), expected);
    assert_eq!(
        fake.stock_in(OTHER_WAREHOUSE_ID, "KAVA-250").as_deref(),
        Some("12.5")
    );
    assert!(fake.removed().is_empty(), "{:?}", fake.removed());
    Ok(())
}

#[tokio::test]
async fn metakocka_verifies_the_stock_webhook() -> anyhow::Result<()> {
    let fake = FakeMetakocka::start_seeded().await?;
    let (_host, client) = connector(settings(&fake)).await?;
    let delivery = fake.stock_webhook("MUG-BLU", WEBHOOK_SECRET);
    let request = |delivery: &tovor_fakes::webhook::Delivery| WebhookRequest {
        method: "POST".into(),
        headers: delivery
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect(),
        query: String::new(),
        body: delivery.body.clone(),
    };
    let verified = client.verify_webhook(&request(&delivery)).await?;
    assert_eq!(
        verified.topic.as_deref(),
        Some("warehouse_product_stock_update")
    );
    assert!(verified.delivery_id.is_some());
    match verified.event {
        WebhookEvent::Ping(Some(body)) => {
            assert!(body.contains("\"check_respond_status_json_ok\":\"true\""))
        }
        other => panic!("{other:?}"),
    }
    let forged = fake.stock_webhook("MUG-BLU", "not the secret");
    let error = connector_error(client.verify_webhook(&request(&forged)).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature);
    Ok(())
}

#[test]
fn metakocka_fake_totals_round_per_row() {
    let rows = vec![row("TEE-M", "Majica", "2", "15.00", false)];
    assert_eq!(gross_total(&rows).to_string(), "36.60");
}
