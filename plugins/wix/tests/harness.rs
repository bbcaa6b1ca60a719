//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake Wix of
//! `tovor-fakes` on 127.0.0.1.
//!
//! Run with `cargo test --workspace --test harness -- wix_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tovor_fakes::wix::{API_KEY, Catalog, FakeWix, OrderSpec, SITE_ID, Sellable};
use tovor_harness::connector_error;
use tovor_harness::model::{
    Fulfillment, NormalizedOrder as Order, OrderStatus, StockLevel, StockTarget, WebhookEvent,
    WebhookRequest, WebhookSetup,
};
use tovor_harness::{Decimal, ErrorKind, datetime};
use tovor_harness::{ShopClient, TestHost};

fn settings(wix: &FakeWix, api_key: &str, site: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("api_key".to_owned(), api_key.to_owned()),
        ("site_id".to_owned(), site.to_owned()),
        ("webhook_public_key".to_owned(), wix.public_key_pem()),
        ("api_base".to_owned(), wix.api_base()),
    ])
}

/// A host with the connector, with connector state (as the service keeps it).
async fn connector_with(
    settings: BTreeMap<String, String>,
) -> anyhow::Result<(TestHost, ShopClient)> {
    TestHost::with_shop_crate(env!("CARGO_MANIFEST_DIR"), settings).await
}

async fn connector(wix: &FakeWix) -> anyhow::Result<(TestHost, ShopClient)> {
    connector_with(settings(wix, API_KEY, SITE_ID)).await
}

fn money(value: &serde_json::Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn wix_lists_orders_across_pages_and_gets_one() -> anyhow::Result<()> {
    let wix = FakeWix::start_seeded(Catalog::V1).await?;
    let socks = wix.add_product("Socks", "22", &[("SOCKS", "", "4.50", 1000)]);
    for _ in 0..100 {
        wix.create_order(&OrderSpec::new().line(&socks[0], 1));
    }
    let (_host, client) = connector(&wix).await?;
    let since = datetime!(2020-01-01 0:00 UTC);
    let first = client.list_orders(since, None).await?;
    assert_eq!(first.orders.len(), 100);
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = client.list_orders(since, Some(&cursor)).await?;
    assert_eq!(second.next_cursor, None);
    let orders: Vec<Order> = first
        .orders
        .into_iter()
        .chain(second.orders)
        .map(|page| page.order.unwrap())
        .collect();
    assert_eq!(
        orders.len(),
        105,
        "5 seeded + 100; the INITIALIZED checkout left out"
    );
    for order in &orders {
        tovor_harness::assert_importable(order);
        let placed = wix.order(&order.id).unwrap();
        assert_eq!(
            order.total,
            money(&placed["priceSummary"]["total"]["amount"])
        );
        assert_eq!(order.currency, placed["currency"].as_str().unwrap());
    }
    assert!(orders.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(
        orders
            .iter()
            .any(|o| o.status == OrderStatus::Refunded && !o.refunds.is_empty())
    );
    assert!(orders.iter().any(|o| o.currency == "USD"));
    assert!(
        orders
            .iter()
            .any(|o| o.customer.as_ref().is_some_and(|c| c.platform_id.is_none()))
    );
    assert!(orders.iter().any(|o| {
        o.customer
            .as_ref()
            .is_some_and(|c| c.vat_id.as_deref() == Some("SI12345678"))
    }));
    // Oldest change first.
    assert!(
        orders
            .windows(2)
            .all(|w| w[0].modified_at <= w[1].modified_at)
    );

    // Only what changed since a moment.
    let later = orders.iter().map(|o| o.modified_at).max().unwrap();
    let one = wix.create_order(&OrderSpec::new().line(&socks[0], 2).method("PayPal"));
    let id = one["id"].as_str().unwrap();
    let changed = client.list_orders(later, None).await?;
    assert!(changed.orders.iter().any(|o| o.id == id));
    assert!(changed.orders.len() <= 2);

    let order = client.get_order(id).await?;
    assert_eq!(order.total, money(&one["priceSummary"]["total"]["amount"]));
    assert_eq!(order.payment_method.as_ref().unwrap().code, "PayPal");
    let missing = connector_error(client.get_order("no-such-order").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn wix_verifies_signed_deliveries_and_refuses_forged_ones() -> anyhow::Result<()> {
    let wix = FakeWix::start(Catalog::V1).await?;
    let mug = wix.add_product("Mug", "9.5", &[("MUG-1", "", "9.90", 5)]);
    let placed = wix.create_order(&OrderSpec::new().line(&mug[0], 1));
    let id = placed["id"].as_str().unwrap();
    let (_host, client) = connector(&wix).await?;
    let request = |body: Vec<u8>| WebhookRequest {
        method: "POST".into(),
        headers: vec![("content-type".into(), "text/plain".into())],
        query: String::new(),
        body,
    };
    let delivery = wix.delivery("wix.ecom.v1.order_created", id);
    let verified = client
        .verify_webhook(&request(delivery.body.clone()))
        .await?;
    assert_eq!(verified.topic.as_deref(), Some("wix.ecom.v1.order_created"));
    assert!(verified.delivery_id.is_some());
    match verified.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, id),
        other => panic!("{other:?}"),
    }
    let forged = wix.forged_delivery("wix.ecom.v1.order_created", id)?;
    let error = connector_error(
        client
            .verify_webhook(&request(forged.body))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::BadSignature);
    let expired = wix.delivery_issued_at(
        "wix.ecom.v1.order_updated",
        id,
        time::OffsetDateTime::now_utc() - time::Duration::hours(2),
    );
    let error = connector_error(
        client
            .verify_webhook(&request(expired.body))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::BadSignature);

    match client
        .register_webhooks("https://tovor.example/hooks/wix/1")
        .await?
    {
        WebhookSetup::Manual(text) => {
            assert!(text.contains("https://tovor.example/hooks/wix/1"), "{text}");
            assert!(text.contains("wix.ecom.v1.order_canceled"), "{text}");
        }
        other => panic!("Wix has no registration API: {other:?}"),
    }
    Ok(())
}

fn level(item: &Sellable, key: Option<&str>, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: Some(item.sku.clone()),
            product_id: item.product.clone(),
            variant_id: key.map(str::to_owned),
            stock_key: None,
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn wix_pushes_stock_on_catalog_v1() -> anyhow::Result<()> {
    let wix = FakeWix::start(Catalog::V1).await?;
    let shirts = wix.add_product("Shirt", "22", &[("S", "S", "10", 1), ("M", "M", "10", 1)]);
    let mug = wix.add_product("Mug", "22", &[("MUG", "", "5", 1)]);
    let (_host, client) = connector(&wix).await?;
    let results = client
        .push_stock(&[
            level(&shirts[1], Some(&shirts[1].variant), 7),
            level(&mug[0], None, 3),
        ])
        .await?;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(wix.stock(&shirts[1]), Some(7));
    assert_eq!(wix.stock(&shirts[0]), Some(1));
    assert_eq!(wix.stock(&mug[0]), Some(3));
    // Version and targets are kept in state: the second push asks neither again.
    let scans = wix.requests_to("POST", "/stores/v2/inventoryItems/query");
    client
        .push_stock(&[level(&shirts[1], Some(&shirts[1].variant), 6)])
        .await?;
    assert_eq!(wix.stock(&shirts[1]), Some(6));
    assert_eq!(
        wix.requests_to("POST", "/stores/v2/inventoryItems/query"),
        scans
    );
    assert_eq!(wix.requests_to("GET", "/stores/v3/provision/version"), 1);
    let unknown = client
        .push_stock(&[level(&mug[0], Some("no-such-variant"), 1)])
        .await?;
    assert_eq!(unknown[0].as_ref().unwrap_err().kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn wix_pushes_stock_on_catalog_v3_through_a_revision_conflict() -> anyhow::Result<()> {
    let wix = FakeWix::start(Catalog::V3).await?;
    let shirts = wix.add_product("Shirt", "22", &[("S", "S", "10", 1), ("M", "M", "10", 1)]);
    let mug = wix.add_product("Mug", "22", &[("MUG", "", "5", 1)]);
    let (_host, client) = connector(&wix).await?;
    wix.bump_revision_on_next_update(true);
    let results = client
        .push_stock(&[
            level(&shirts[0], Some(&shirts[0].variant), 4),
            level(&mug[0], None, 9),
        ])
        .await?;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        wix.conflicts(),
        1,
        "refused once, then sent with fresh revisions"
    );
    assert_eq!(wix.stock(&shirts[0]), Some(4));
    assert_eq!(wix.stock(&shirts[1]), Some(1));
    assert_eq!(wix.stock(&mug[0]), Some(9));
    Ok(())
}

#[tokio::test]
async fn wix_fulfills_with_tracking_once() -> anyhow::Result<()> {
    let wix = FakeWix::start(Catalog::V1).await?;
    let mug = wix.add_product("Mug", "22", &[("MUG", "", "5", 1)]);
    let placed = wix.create_order(&OrderSpec::new().line(&mug[0], 2));
    let id = placed["id"].as_str().unwrap();
    let (_host, client) = connector(&wix).await?;
    let shipment = Fulfillment {
        lines: Vec::new(),
        carrier: "GLS".into(),
        parcels: vec![("GLS123".into(), Some("https://gls.example/t/GLS123".into()))],
        notify_customer: true,
    };
    client.fulfill(id, &shipment).await?;
    client.fulfill(id, &shipment).await?;
    let made = wix.fulfillments(id);
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0]["trackingInfo"]["trackingNumber"], "GLS123");
    assert_eq!(made[0]["trackingInfo"]["shippingProvider"], "GLS");
    assert_eq!(
        made[0]["trackingInfo"]["trackingLink"],
        "https://gls.example/t/GLS123"
    );
    assert_eq!(made[0]["lineItems"][0]["quantity"], 2);
    assert_eq!(wix.order(id).unwrap()["fulfillmentStatus"], "FULFILLED");
    Ok(())
}

#[tokio::test]
async fn wix_connection_check_names_the_field_and_errors_map() -> anyhow::Result<()> {
    let wix = FakeWix::start(Catalog::V3).await?;
    let (_host, client) = connector(&wix).await?;
    let info = client.check_connection().await?;
    assert!(info.account.unwrap().contains(SITE_ID));

    let (_h, wrong_key) = connector_with(settings(&wix, "IST.wrong", SITE_ID)).await?;
    let error = connector_error(wrong_key.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("api_key"));
    let (_h, wrong_site) = connector_with(settings(&wix, API_KEY, "other-site")).await?;
    let error = connector_error(wrong_site.check_connection().await.unwrap_err());
    assert_eq!(error.field.as_deref(), Some("site_id"), "{error:?}");

    wix.throttle_next(1, Some("3"));
    let error = connector_error(
        client
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(3)));
    wix.set_down(true);
    let error = connector_error(
        client
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Transient);
    Ok(())
}

#[tokio::test]
async fn wix_lists_the_catalog_with_stock_keys_on_v1_and_v3() -> anyhow::Result<()> {
    for catalog in [Catalog::V1, Catalog::V3] {
        let wix = FakeWix::start(catalog).await?;
        let shirts = wix.add_product(
            "Shirt",
            "22",
            &[("S", "S", "10.00", 1), ("M", "M", "12.00", 2)],
        );
        let mug = wix.add_product("Mug", "22", &[("MUG", "", "5.00", 3)]);
        let (_host, client) = connector(&wix).await?;
        let page = client.list_products(None).await?;
        assert_eq!(page.next_cursor, None);
        assert_eq!(page.entries.len(), 3, "{catalog:?}: {:?}", page.entries);
        let medium = page
            .entries
            .iter()
            .find(|e| e.sku.as_deref() == Some("M"))
            .unwrap();
        assert_eq!(medium.product_id, shirts[1].product);
        assert_eq!(medium.price, Some(Decimal::new(1200, 2)));
        let key = medium.stock_key.clone().unwrap();
        assert_eq!(key, format!("{}:{}", shirts[1].product, shirts[1].variant));
        let mug_entry = page
            .entries
            .iter()
            .find(|e| e.sku.as_deref() == Some("MUG"))
            .unwrap();
        // The catalog's keys need no lookup.
        let results = client
            .push_stock(&[
                StockLevel {
                    target: StockTarget {
                        sku: Some("M".into()),
                        product_id: medium.product_id.clone(),
                        variant_id: medium.variant_id.clone(),
                        stock_key: Some(key),
                    },
                    quantity: Decimal::from(11),
                },
                StockLevel {
                    target: StockTarget {
                        sku: Some("MUG".into()),
                        product_id: mug_entry.product_id.clone(),
                        variant_id: mug_entry.variant_id.clone(),
                        stock_key: mug_entry.stock_key.clone(),
                    },
                    quantity: Decimal::from(4),
                },
            ])
            .await?;
        assert!(
            results.iter().all(Result::is_ok),
            "{catalog:?}: {results:?}"
        );
        assert_eq!(wix.stock(&shirts[1]), Some(11));
        assert_eq!(wix.stock(&mug[0]), Some(4));
        assert_eq!(wix.stock(&shirts[0]), Some(1));
        assert_eq!(
            wix.requests_to("POST", "/stores/v2/inventoryItems/query"),
            0
        );
    }
    Ok(())
}
