//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake PrestaShop
//! Webservice of `tovor-fakes` (as 1.7 and as 8) on 127.0.0.1.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- prestashop_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use tovor_fakes::prestashop::{FakePrestaShop, OrderSpec, SHOP_NAME, Version, WEBSERVICE_KEY, ids};
use tovor_harness::connector_error;
use tovor_harness::list_all_orders;
use tovor_harness::model::{
    Fulfillment, OrderStatus, PaymentStatus, StatusChange, StockLevel, StockTarget,
};
use tovor_harness::{Decimal, ErrorKind, ShopClient, TestHost, datetime};

fn settings(shop: &FakePrestaShop) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("shop_url".to_owned(), shop.url()),
        ("webservice_key".to_owned(), WEBSERVICE_KEY.to_owned()),
    ])
}

/// A test host with this connector loaded, with connector state.
async fn connector(settings: BTreeMap<String, String>) -> anyhow::Result<(TestHost, ShopClient)> {
    TestHost::with_shop_crate(env!("CARGO_MANIFEST_DIR"), settings).await
}

fn money(value: &serde_json::Value) -> Decimal {
    value
        .as_str()
        .unwrap()
        .parse::<Decimal>()
        .unwrap()
        .round_dp(2)
}

async fn lists_a_realistic_shop(version: Version) -> anyhow::Result<()> {
    let shop = FakePrestaShop::start_seeded(version).await?;
    for _ in 0..60 {
        shop.create_order(&OrderSpec::new().line(ids::COFFEE, 0, 1));
    }
    let (_host, client) = connector(settings(&shop)).await?;
    let (orders, pages) = list_all_orders(&client, datetime!(2020-01-01 0:00 UTC)).await;
    assert_eq!(pages, 2);
    assert_eq!(orders.len(), 66);
    for order in &orders {
        let placed = shop.order(order.id.parse()?).unwrap();
        assert_eq!(
            order.total,
            money(&placed["total_paid_tax_incl"]),
            "{}",
            order.id
        );
        assert_eq!(
            order.tax_total,
            money(&placed["total_paid_tax_incl"]) - money(&placed["total_paid_tax_excl"]),
            "{}",
            order.id
        );
        assert_eq!(order.currency, "EUR");
        assert_eq!(order.number, placed["reference"].as_str().unwrap());
        tovor_harness::assert_importable(order);
    }
    // The first order: two rates, a combination and the voucher.
    let first = orders.iter().find(|o| o.id == "1").unwrap();
    assert!(first.prices_include_tax);
    assert_eq!(first.coupons, ["POPUST10"]);
    let rates: BTreeSet<String> = first
        .lines
        .iter()
        .map(|line| line.tax_rate.unwrap().normalize().to_string())
        .collect();
    assert_eq!(rates, BTreeSet::from(["22".to_owned(), "9.5".to_owned()]));
    let tee = first
        .lines
        .iter()
        .find(|l| l.sku.as_deref() == Some("TEE-M"))
        .unwrap();
    assert_eq!(tee.product_id.as_deref(), Some("2"));
    assert_eq!(tee.variation_id.as_deref(), Some("2:11"));
    assert!(first.discount_total > Decimal::ZERO);
    assert_eq!(first.shipping_lines[0].title, "Pošta Slovenije");
    assert_eq!(
        first.payment_method.as_ref().map(|m| m.code.as_str()),
        Some("ps_wirepayment")
    );
    let billing = first.billing.as_ref().unwrap();
    assert_eq!(billing.country.as_deref(), Some("SI"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    assert_eq!(
        first.customer.as_ref().unwrap().vat_id.as_deref(),
        Some("SI12345678")
    );
    // The guest in Austria, awaiting payment.
    let guest = orders.iter().find(|o| o.id == "2").unwrap();
    assert_eq!(guest.customer.as_ref().unwrap().platform_id, None);
    assert_eq!(
        guest.shipping.as_ref().unwrap().country.as_deref(),
        Some("AT")
    );
    assert_eq!(guest.status, OrderStatus::Pending);
    assert_eq!(guest.payment_status, PaymentStatus::Unpaid);
    // Free shipping comes off the shipping line.
    let free = orders.iter().find(|o| o.id == "3").unwrap();
    assert_eq!(free.shipping_total, Decimal::ZERO);
    assert_eq!(free.coupons, ["BREZPOSTNINE"]);
    assert_eq!(free.status, OrderStatus::Completed);
    let statuses: Vec<OrderStatus> = orders.iter().map(|o| o.status).collect();
    for expected in [
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
        OrderStatus::Completed,
        OrderStatus::Processing,
    ] {
        assert!(statuses.contains(&expected), "{expected:?}");
    }

    let requests = shop.requests();
    let list = requests
        .iter()
        .find(|r| r.starts_with("GET /api/orders?"))
        .unwrap();
    // 2020-01-01 00:00 UTC is 01:00 in Ljubljana (PS_TIMEZONE), winter time.
    assert!(
        list.contains("filter[date_upd]=[2020-01-01 01:00:00,"),
        "{list}"
    );
    assert!(list.contains("date=1"), "{list}");
    assert!(list.contains("sort=[date_upd_ASC,id_ASC]"), "{list}");
    assert!(list.contains("output_format=JSON"), "{list}");
    assert!(shop.passwords().iter().all(String::is_empty), "no password");
    // The reference lists are read once and kept.
    let states_read = requests
        .iter()
        .filter(|r| r.starts_with("GET /api/order_states"))
        .count();
    assert_eq!(states_read, 1);

    let order = client.get_order("1").await?;
    assert_eq!(order.total, first.total);
    let missing = connector_error(client.get_order("9999").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn prestashop_17_lists_a_realistic_shop_to_the_cent() -> anyhow::Result<()> {
    lists_a_realistic_shop(Version::V17).await
}

#[tokio::test]
async fn prestashop_8_lists_a_realistic_shop_to_the_cent() -> anyhow::Result<()> {
    lists_a_realistic_shop(Version::V8).await
}

/// 55 orders changed in the same second: the page boundary falls inside that second,
/// and an order of the first page changes while we page. Every order is listed.
#[tokio::test]
async fn prestashop_orders_sharing_a_second_across_pages_are_all_listed() -> anyhow::Result<()> {
    let shop = FakePrestaShop::start(Version::V8).await?;
    let placed: Vec<u64> = (0..55)
        .map(|_| shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1)))
        .collect();
    let second = shop.now();
    shop.set_date_upd(&placed, &second);
    let (_host, client) = connector(settings(&shop)).await?;
    let since = datetime!(2020-01-01 0:00 UTC);
    let first = client.list_orders(since, None).await?;
    assert_eq!(first.orders.len(), 50);
    // Order 3 changes meanwhile: a later date_upd; the other orders shift in an
    // offset-paged listing, not in ours.
    shop.set_state(placed[2], 3);
    let mut seen: BTreeSet<String> = first
        .orders
        .iter()
        .map(|o| o.order.as_ref().unwrap().id.clone())
        .collect();
    let mut cursor = first.next_cursor.clone();
    while let Some(next) = cursor {
        let page = client.list_orders(since, Some(&next)).await?;
        seen.extend(
            page.orders
                .iter()
                .map(|o| o.order.as_ref().unwrap().id.clone()),
        );
        cursor = page.next_cursor;
    }
    let expected: BTreeSet<String> = placed.iter().map(u64::to_string).collect();
    assert_eq!(seen, expected);
    let requests = shop.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("filter[id]=>[") && r.contains(&format!("[{second},{second}]"))),
        "the rest of the second by id: {requests:#?}"
    );
    Ok(())
}

fn level(key: &str, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: None,
            product_id: key.split(':').next().unwrap().to_owned(),
            variant_id: key.contains(':').then(|| key.to_owned()),
            stock_key: Some(key.to_owned()),
        },
        quantity: Decimal::from(quantity),
    }
}

async fn sets_stock(version: Version) -> anyhow::Result<()> {
    let shop = FakePrestaShop::start(version).await?;
    let (_host, client) = connector(settings(&shop)).await?;
    assert_eq!(client.stock_batch().await?, 50);
    let results = client
        .push_stock(&[
            level("1", 7),
            level("2:11", 3),
            level("99", 1),
            level("mug", 1),
        ])
        .await?;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert_eq!(results[2].as_ref().unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(
        results[3].as_ref().unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(shop.stock(ids::MUG, 0), Some(7));
    assert_eq!(shop.stock(ids::TSHIRT, ids::TSHIRT_M), Some(3));
    assert_eq!(shop.stock(ids::TSHIRT, ids::TSHIRT_S), Some(5), "untouched");
    let writes = shop.writes();
    assert_eq!(writes.len(), 2);
    assert!(writes.iter().all(|w| w.method == "PUT"));
    assert!(
        writes
            .iter()
            .all(|w| w.path.starts_with("/api/stock_availables/"))
    );
    let mug = writes
        .iter()
        .find(|w| w.body.contains("<id_product><![CDATA[1]]></id_product>"))
        .unwrap();
    assert!(mug.body.contains("<stock_available>"), "{}", mug.body);
    assert!(
        mug.body.contains("<quantity><![CDATA[7]]></quantity>"),
        "{}",
        mug.body
    );
    assert!(
        mug.body.contains("<out_of_stock>"),
        "the whole row is sent back"
    );

    // The shop is down: the batch fails and is retried as a whole.
    shop.set_down(true);
    let error = connector_error(client.push_stock(&[level("1", 1)]).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    shop.set_down(false);
    Ok(())
}

#[tokio::test]
async fn prestashop_17_sets_stock_per_product_and_combination() -> anyhow::Result<()> {
    sets_stock(Version::V17).await
}

#[tokio::test]
async fn prestashop_8_sets_stock_per_product_and_combination() -> anyhow::Result<()> {
    sets_stock(Version::V8).await
}

#[tokio::test]
async fn prestashop_lists_products_with_their_combinations() -> anyhow::Result<()> {
    let shop = FakePrestaShop::start(Version::V8).await?;
    let (_host, client) = connector(settings(&shop)).await?;
    let page = client.list_products(None).await?;
    assert_eq!(page.next_cursor, None);
    let by_sku: BTreeMap<String, _> = page
        .entries
        .iter()
        .map(|e| (e.sku.clone().unwrap(), e.clone()))
        .collect();
    assert_eq!(
        by_sku.keys().cloned().collect::<Vec<_>>(),
        ["KAVA-250", "MUG-01", "TEE-L", "TEE-M", "TEE-S"]
    );
    assert_eq!(by_sku["TEE-M"].stock_key.as_deref(), Some("2:11"));
    assert_eq!(by_sku["TEE-M"].variant_id.as_deref(), Some("2:11"));
    assert_eq!(by_sku["MUG-01"].stock_key.as_deref(), Some("1"));
    assert_eq!(by_sku["KAVA-250"].stock, Some(Decimal::from(40)));
    Ok(())
}

async fn fulfils(version: Version) -> anyhow::Result<()> {
    let shop = FakePrestaShop::start(version).await?;
    let id = shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1));
    let (_host, client) = connector(settings(&shop)).await?;
    client
        .fulfill(
            &id.to_string(),
            &Fulfillment {
                lines: Vec::new(),
                carrier: "GLS".into(),
                parcels: vec![("GLS1234567890".into(), None)],
                notify_customer: true,
            },
        )
        .await?;
    assert_eq!(shop.tracking_number(id).as_deref(), Some("GLS1234567890"));
    assert_eq!(shop.order(id).unwrap()["current_state"], "4");
    let writes = shop.writes();
    assert_eq!(writes[0].method, "PUT");
    assert!(writes[0].path.starts_with("/api/order_carriers/"));
    assert_eq!(writes[1].method, "POST");
    assert!(writes[1].path.contains("sendemail=1"), "{}", writes[1].path);
    assert!(
        writes[1]
            .body
            .contains("<id_order_state><![CDATA[4]]></id_order_state>")
    );
    // Shipping again adds no second history row.
    client
        .fulfill(
            &id.to_string(),
            &Fulfillment {
                lines: Vec::new(),
                carrier: "GLS".into(),
                parcels: vec![("GLS1234567890".into(), None)],
                notify_customer: true,
            },
        )
        .await?;
    assert_eq!(
        shop.writes().iter().filter(|w| w.method == "POST").count(),
        1
    );

    client
        .set_order_status(&id.to_string(), StatusChange::Cancelled)
        .await?;
    assert_eq!(shop.order(id).unwrap()["current_state"], "6");
    let error = connector_error(
        client
            .set_order_status("9999", StatusChange::Completed)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn prestashop_17_fulfils_with_tracking_number_and_shipped_state() -> anyhow::Result<()> {
    fulfils(Version::V17).await
}

#[tokio::test]
async fn prestashop_8_fulfils_with_tracking_number_and_shipped_state() -> anyhow::Result<()> {
    fulfils(Version::V8).await
}

#[tokio::test]
async fn prestashop_connection_check_and_typed_errors() -> anyhow::Result<()> {
    let shop = FakePrestaShop::start(Version::V8).await?;
    let (_host, client) = connector(settings(&shop)).await?;
    let info = client.check_connection().await?;
    assert!(
        info.account.as_deref().unwrap().contains(SHOP_NAME),
        "{info:?}"
    );
    assert!(info.warnings.is_empty(), "{info:?}");

    // A wrong key: 401 with PrestaShop's codes, an auth error naming the key.
    let mut wrong = settings(&shop);
    wrong.insert(
        "webservice_key".into(),
        "AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHH".into(),
    );
    let (_host2, bad) = connector(wrong).await?;
    let error = connector_error(bad.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("webservice_key"));
    let error = connector_error(
        bad.list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.platform_code.as_deref(), Some("20"));

    // Outages are retried: 503 from the server, 500 from PHP.
    shop.set_down(true);
    let error = connector_error(client.get_order("1").await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    shop.set_down(false);
    shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1));
    shop.fail_next(1);
    let error = connector_error(client.get_order("1").await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    assert_eq!(error.http_status, Some(500));
    // The Webservice switched off: a setting to fix, not an outage.
    shop.disable_webservice(true);
    let error = connector_error(client.get_order("1").await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Permission);
    assert_eq!(error.platform_code.as_deref(), Some("22"));
    shop.disable_webservice(false);
    client.get_order("1").await?;

    // A fixed offset instead of PS_TIMEZONE.
    let mut fixed = settings(&shop);
    fixed.insert("time_zone".into(), "-05:00".into());
    let (_host3, client) = connector(fixed).await?;
    client
        .list_orders(datetime!(2026-06-01 12:00 UTC), None)
        .await?;
    assert!(
        shop.requests()
            .iter()
            .any(|r| r.contains("filter[date_upd]=[2026-06-01 07:00:00,")),
        "{:#?}",
        shop.requests()
    );
    Ok(())
}

/// The reference lists are kept between calls; an order in a state added since reads
/// them again, once.
#[tokio::test]
async fn prestashop_reads_the_reference_lists_again_for_a_new_state() -> anyhow::Result<()> {
    let shop = FakePrestaShop::start(Version::V8).await?;
    let first = shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1));
    let mut with_map = settings(&shop);
    with_map.insert("status_map".into(), "16=on-hold".into());
    let (_host, client) = connector(with_map).await?;
    client.get_order(&first.to_string()).await?;
    client.get_order(&first.to_string()).await?;
    let reads = |shop: &FakePrestaShop| {
        shop.requests()
            .iter()
            .filter(|r| r.starts_with("GET /api/order_states"))
            .count()
    };
    assert_eq!(reads(&shop), 1, "kept in connector state");

    shop.add_order_state(15, "Pripravljeno za prevzem", true, false);
    shop.add_order_state(16, "Čaka na dobavitelja", false, false);
    let ready = shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1).state(15));
    let waiting = shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1).state(16));
    let order = client.get_order(&ready.to_string()).await?;
    assert_eq!(reads(&shop), 2, "read again for the unknown state");
    assert_eq!(order.status, OrderStatus::Processing, "paid flag");
    assert_eq!(order.status_raw, "15");
    let order = client.get_order(&waiting.to_string()).await?;
    assert_eq!(order.status, OrderStatus::OnHold, "the user's map");
    assert_eq!(reads(&shop), 2);
    Ok(())
}
