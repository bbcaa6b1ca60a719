//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake BigCommerce of
//! `tovor-fakes` on 127.0.0.1.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- bigcommerce_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use tovor_fakes::bigcommerce::{
    ACCESS_TOKEN, CLIENT_SECRET, FakeBigCommerce, LOCATION_ID, OrderSpec, STORE_HASH, dec,
};
use tovor_harness::connector_error;
use tovor_harness::list_all_orders;
use tovor_harness::model::{
    Fulfillment, OrderStatus, PaymentStatus, StockLevel, StockTarget, WebhookEvent, WebhookRequest,
    WebhookSetup,
};
use tovor_harness::{Decimal, ErrorKind, ShopClient, TestHost, datetime};

const HOOK_URL: &str = "https://tovor.example/hooks/shop-1";

fn settings(store: &FakeBigCommerce, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut settings = BTreeMap::from([
        ("store_hash".to_owned(), STORE_HASH.to_owned()),
        ("access_token".to_owned(), ACCESS_TOKEN.to_owned()),
        ("client_secret".to_owned(), CLIENT_SECRET.to_owned()),
        ("api_base".to_owned(), store.api_base()),
    ]);
    for (name, value) in extra {
        settings.insert((*name).to_owned(), (*value).to_owned());
    }
    settings
}

async fn connector(settings: BTreeMap<String, String>) -> anyhow::Result<(TestHost, ShopClient)> {
    TestHost::with_shop_crate(env!("CARGO_MANIFEST_DIR"), settings).await
}

fn request(delivery: &tovor_fakes::bigcommerce::Delivery) -> WebhookRequest {
    WebhookRequest {
        method: "POST".into(),
        headers: delivery
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        query: String::new(),
        body: delivery.body.clone(),
    }
}

#[tokio::test]
async fn bigcommerce_lists_every_order_across_pages_in_the_same_second() -> anyhow::Result<()> {
    let store = FakeBigCommerce::start_seeded().await?;
    let mut same_second = Vec::new();
    for _ in 0..5 {
        let order = store.create_order(&OrderSpec::new().line("MUG-1", 1));
        same_second.push(order["id"].as_u64().unwrap());
    }
    for id in &same_second {
        store.set_modified(*id, 1_900_000_000);
    }
    let (_host, client) = connector(settings(&store, &[("page_size", "2")])).await?;
    let orders = list_all_orders(&client, datetime!(2020-01-01 0:00 UTC))
        .await
        .0;
    let ids: Vec<u64> = orders.iter().map(|o| o.id.parse().unwrap()).collect();
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no order twice: {ids:?}");
    assert_eq!(
        unique,
        store.order_ids().into_iter().collect::<BTreeSet<_>>()
    );
    for order in &orders {
        tovor_harness::assert_importable(order);
        let placed = store.order(order.id.parse().unwrap()).unwrap();
        assert_eq!(
            order.total,
            dec(&placed["total_inc_tax"]),
            "order {}",
            order.id
        );
    }
    let requests = store.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /stores/") && r.contains("sort=date_modified%3Aasc")),
        "{requests:#?}"
    );
    // Nothing changed since then: 204, no page.
    let later = client
        .list_orders(datetime!(2031-01-01 0:00 UTC), None)
        .await?;
    assert!(later.orders.is_empty() && later.next_cursor.is_none());
    Ok(())
}

#[tokio::test]
async fn bigcommerce_maps_variants_coupons_guests_currencies_and_both_tax_modes()
-> anyhow::Result<()> {
    let store = FakeBigCommerce::start_seeded().await?;
    store.set_tax_inclusive(true);
    let inclusive = store.create_order(
        &OrderSpec::new()
            .line("TEE-S", 3)
            .line("COFFEE-1KG", 2)
            .coupon("SPRING10", 10)
            .shipping("Flat Rate", "5.99")
            .wrapping("1.99"),
    );
    let (_host, client) = connector(settings(&store, &[])).await?;
    let ids = store.order_ids();

    let first = client.get_order(&ids[0].to_string()).await?;
    tovor_harness::assert_importable(&first);
    let skus: Vec<&str> = first
        .lines
        .iter()
        .map(|l| l.sku.as_deref().unwrap())
        .collect();
    assert_eq!(skus, ["TEE-M", "COFFEE-1KG"]);
    assert_eq!(first.lines[0].variation_id.as_deref(), Some("202"));
    assert_eq!(first.lines[0].tax_rate, Some(Decimal::from(22)));
    assert_eq!(first.lines[1].tax_rate, Some(Decimal::new(95, 1)));
    assert_eq!(first.coupons, ["SPRING10"]);
    assert!(first.discount_total > Decimal::ZERO);
    assert_eq!(first.status, OrderStatus::Processing);
    assert_eq!(first.payment_status, PaymentStatus::Paid);
    assert_eq!(first.currency, "EUR");
    assert_eq!(
        first.total,
        dec(&store.order(ids[0]).unwrap()["total_inc_tax"])
    );
    assert_eq!(
        first.customer.as_ref().unwrap().platform_id.as_deref(),
        Some("7")
    );

    let guest = client.get_order(&ids[1].to_string()).await?;
    tovor_harness::assert_importable(&guest);
    let customer = guest.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id, None);
    assert_eq!(customer.email.as_deref(), Some("gost@example.si"));
    assert_eq!(
        guest.payment_method.as_ref().unwrap().code,
        "Cash on Delivery"
    );
    assert_eq!(guest.fees.len(), 2, "handling and wrapping");
    assert_eq!(guest.status, OrderStatus::Pending);

    let usd = client.get_order(&ids[2].to_string()).await?;
    tovor_harness::assert_importable(&usd);
    assert_eq!(usd.currency, "USD");
    assert_eq!(
        usd.total,
        dec(&store.order(ids[2]).unwrap()["total_inc_tax"])
    );
    assert_eq!(usd.status, OrderStatus::Completed);

    let id = inclusive["id"].as_u64().unwrap();
    let gross = client.get_order(&id.to_string()).await?;
    tovor_harness::assert_importable(&gross);
    assert_eq!(gross.total, dec(&inclusive["total_inc_tax"]));
    assert_eq!(gross.tax_total, dec(&inclusive["total_tax"]));

    let missing = connector_error(client.get_order("99999").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
    Ok(())
}

#[tokio::test]
async fn bigcommerce_verifies_standard_webhooks_and_refuses_forged_old_and_replayed()
-> anyhow::Result<()> {
    let store = FakeBigCommerce::start_seeded().await?;
    let (_host, client) = connector(settings(&store, &[])).await?;
    let id = store.order_ids()[0];
    let delivery = store.delivery("store/order/created", id);
    let verified = client.verify_webhook(&request(&delivery)).await?;
    assert_eq!(verified.topic.as_deref(), Some("store/order/created"));
    assert_eq!(
        verified.delivery_id.as_deref(),
        delivery.header("webhook-id")
    );
    match verified.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, id.to_string()),
        other => panic!("{other:?}"),
    }
    let archived = client
        .verify_webhook(&request(&store.delivery("store/order/archived", id)))
        .await?;
    assert!(
        matches!(archived.event, WebhookEvent::OrderDeleted(ref gone) if *gone == id.to_string())
    );

    // A signature of another body (replayed onto a new body).
    let other = store.delivery("store/order/updated", id + 1);
    let mut replayed = request(&other);
    replayed.body = delivery.body.clone();
    let error = connector_error(client.verify_webhook(&replayed).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature, "{error:?}");
    // Signed, but six minutes old.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old = store.delivery_at("store/order/updated", id, now - 360);
    let error = connector_error(client.verify_webhook(&request(&old)).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature, "{error:?}");
    // A wrong secret.
    let (_host2, wrong) =
        connector(settings(&store, &[("client_secret", "not-the-secret")])).await?;
    let error = connector_error(wrong.verify_webhook(&request(&delivery)).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature, "{error:?}");
    Ok(())
}

#[tokio::test]
async fn bigcommerce_registers_adopts_and_removes_hooks() -> anyhow::Result<()> {
    let store = FakeBigCommerce::start().await?;
    let (_host, client) = connector(settings(&store, &[])).await?;
    let WebhookSetup::Registered(first) = client.register_webhooks(HOOK_URL).await? else {
        panic!("BigCommerce has an API for hooks");
    };
    assert_eq!(first.len(), 4);
    assert_eq!(store.hooks().len(), 4);
    let WebhookSetup::Registered(second) = client.register_webhooks(HOOK_URL).await? else {
        panic!("registered");
    };
    assert_eq!(store.hooks().len(), 4, "adopted, not doubled");
    assert_eq!(
        first.iter().map(|h| &h.id).collect::<Vec<_>>(),
        second.iter().map(|h| &h.id).collect::<Vec<_>>()
    );
    client.unregister_webhooks(HOOK_URL, &second).await?;
    assert!(store.hooks().is_empty());
    client.unregister_webhooks(HOOK_URL, &second).await?;
    Ok(())
}

fn level(variant: u64, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: None,
            product_id: "0".into(),
            variant_id: Some(variant.to_string()),
            stock_key: None,
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn bigcommerce_sets_stock_by_variant_and_location_with_per_item_errors() -> anyhow::Result<()>
{
    let store = FakeBigCommerce::start().await?;
    let (_host, client) = connector(settings(&store, &[("location_id", "3")])).await?;
    let results = client
        .push_stock(&[level(202, 12), level(999, 4), level(204, 0)])
        .await?;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(results[1].is_err(), "{results:?}");
    assert_eq!(store.stock(202, 3), Some(12));
    assert_eq!(store.stock(204, 3), Some(0));
    assert_eq!(
        store.stock(202, LOCATION_ID),
        Some(5),
        "location 1 untouched"
    );
    let adjustments = store.adjustments();
    assert_eq!(adjustments.len(), 1);
    assert_eq!(adjustments[0]["items"][0]["location_id"], 3);
    assert_eq!(adjustments[0]["items"][0]["variant_id"], 202);
    Ok(())
}

#[tokio::test]
async fn bigcommerce_ships_with_tracking_once_and_retries_a_429() -> anyhow::Result<()> {
    let store = FakeBigCommerce::start_seeded().await?;
    let (_host, client) = connector(settings(&store, &[])).await?;
    let id = store.order_ids()[0];
    let shipment = Fulfillment {
        lines: Vec::new(),
        carrier: "GLS".into(),
        parcels: vec![("GLS00012345".into(), None)],
        notify_customer: true,
    };
    client.fulfill(&id.to_string(), &shipment).await?;
    let shipments = store.shipments(id);
    assert_eq!(shipments.len(), 1);
    assert_eq!(shipments[0]["tracking_number"], "GLS00012345");
    assert_eq!(shipments[0]["tracking_carrier"], "gls");
    assert_eq!(shipments[0]["items"].as_array().unwrap().len(), 2);
    client.fulfill(&id.to_string(), &shipment).await?;
    assert_eq!(store.shipments(id).len(), 1, "a retry adds nothing");

    store.throttle_next(1);
    let error = connector_error(client.get_order(&id.to_string()).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::RateLimited, "{error:?}");
    assert_eq!(
        error.retry_after,
        Some(std::time::Duration::from_millis(300))
    );
    Ok(())
}

#[tokio::test]
async fn bigcommerce_lists_products_with_variants_and_stock_keys() -> anyhow::Result<()> {
    let store = FakeBigCommerce::start().await?;
    let (_host, client) = connector(settings(&store, &[])).await?;
    let page = client.list_products(None).await?;
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.entries.len(), 5, "three shirt sizes, mug, coffee");
    let medium = page
        .entries
        .iter()
        .find(|p| p.sku.as_deref() == Some("TEE-M"))
        .unwrap();
    assert_eq!(medium.stock_key.as_deref(), Some("202"));
    assert_eq!(medium.variant_id.as_deref(), Some("202"));
    assert_eq!(medium.price, Some(Decimal::new(2000, 2)));
    assert!(medium.manages_stock);
    let coffee = page
        .entries
        .iter()
        .find(|p| p.sku.as_deref() == Some("COFFEE-1KG"))
        .unwrap();
    assert_eq!(coffee.stock_key.as_deref(), Some("product:113"));
    Ok(())
}

#[tokio::test]
async fn bigcommerce_checks_the_connection_and_names_a_refused_token() -> anyhow::Result<()> {
    let store = FakeBigCommerce::start().await?;
    let (_host, client) = connector(settings(&store, &[])).await?;
    let info = client.check_connection().await?;
    assert_eq!(info.account.as_deref(), Some("Kavarna Demo"));
    let (_host2, wrong) = connector(settings(&store, &[("access_token", "nope")])).await?;
    let error = connector_error(wrong.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth, "{error:?}");
    assert_eq!(error.field.as_deref(), Some("access_token"), "{error:?}");
    assert!(error.message.contains("X-Auth-Token"), "{error:?}");
    Ok(())
}
