//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake Shoptet of
//! `tovor-fakes` on 127.0.0.1.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- shoptet_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tovor_fakes::shoptet::{FakeShoptet, OAUTH_TOKEN, OrderSpec, PRIVATE_TOKEN, sign};
use tovor_harness::connector_error;
use tovor_harness::model::{
    Fulfillment, NormalizedOrder as Order, OrderStatus, PaymentStatus, StatusChange, StockLevel,
    StockTarget, WebhookEvent, WebhookRequest, WebhookSetup,
};
use tovor_harness::{Decimal, ErrorKind, ShopClient, TestHost, datetime};

const HOOK_URL: &str = "https://tovor.example/hooks/shoptet/3f9c2a";

fn private(shop: &FakeShoptet) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("private_api_token".to_owned(), PRIVATE_TOKEN.to_owned()),
        ("api_base".to_owned(), shop.api_base()),
        ("status_map".to_owned(), "7=refunded".to_owned()),
    ])
}

fn addon(shop: &FakeShoptet) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("oauth_access_token".to_owned(), OAUTH_TOKEN.to_owned()),
        ("eshop_url".to_owned(), shop.api_base()),
        ("api_base".to_owned(), shop.api_base()),
    ])
}

/// A test host with this connector loaded, with connector state.
async fn connector(settings: BTreeMap<String, String>) -> anyhow::Result<(TestHost, ShopClient)> {
    TestHost::with_shop_crate(env!("CARGO_MANIFEST_DIR"), settings).await
}

fn money(value: &serde_json::Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

fn request(delivery: &tovor_fakes::shoptet::Delivery) -> WebhookRequest {
    WebhookRequest {
        method: "POST".into(),
        headers: delivery
            .headers
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect(),
        query: String::new(),
        body: delivery.body.clone(),
    }
}

#[tokio::test]
async fn shoptet_lists_every_order_across_pages_and_gets_one() -> anyhow::Result<()> {
    let shop = FakeShoptet::start_seeded().await?;
    for _ in 0..60 {
        shop.create_order(&OrderSpec::new().line("KAVA-250", "1"));
    }
    let (_host, client) = connector(private(&shop)).await?;
    let since = datetime!(2020-01-01 0:00 UTC);
    let first = client.list_orders(since, None).await?;
    assert_eq!(first.orders.len(), 50, "itemsPerPage is at most 50");
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = client.list_orders(since, Some(&cursor)).await?;
    assert_eq!(second.next_cursor, None);
    let orders: Vec<Order> = first
        .orders
        .into_iter()
        .chain(second.orders)
        .map(|page_order| page_order.order.unwrap())
        .collect();
    assert_eq!(orders.len(), 66);
    assert!(orders.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(orders.iter().any(|o| o.status == OrderStatus::Refunded));
    assert!(orders.iter().any(|o| o.currency == "EUR"));
    assert!(orders.iter().any(|o| o.pickup_point.is_some()));
    assert!(
        orders
            .iter()
            .any(|o| o.customer.as_ref().is_some_and(|c| c.platform_id.is_none())),
        "a guest"
    );
    for order in &orders {
        let placed = shop.order(&order.id).unwrap();
        assert_eq!(
            order.total,
            money(&placed["price"]["withVat"]),
            "{}",
            order.id
        );
        tovor_harness::assert_importable(order);
    }
    let requests = shop.requests();
    let list = requests
        .iter()
        .find(|r| r.starts_with("GET /api/orders?"))
        .unwrap();
    assert!(
        list.contains("changeTimeFrom=2020-01-01T00%3A00%3A00%2B0000"),
        "{list}"
    );
    assert!(requests.iter().any(
        |r| r.starts_with("GET /api/orders/") && r.contains("include=notes%2CshippingDetails")
    ));

    // Only orders changed since a moment are listed.
    let later = orders.iter().map(|o| o.modified_at).max().unwrap();
    let code = shop.create_order(&OrderSpec::new().line("40/ZEL", "1"))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = client.list_orders(later, None).await?;
    assert!(changed.orders.iter().any(|o| o.id == code));
    assert!(changed.orders.len() < 5);

    let order = client.get_order(&code).await?;
    assert_eq!(order.lines[0].sku.as_deref(), Some("40/ZEL"));
    assert_eq!(order.payment_status, PaymentStatus::Unpaid);
    let missing = connector_error(client.get_order("1999000001").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn shoptet_registers_webhooks_and_verifies_signed_notifications() -> anyhow::Result<()> {
    let shop = FakeShoptet::start().await?;
    let (_host, client) = connector(private(&shop)).await?;
    let code = shop.create_order(&OrderSpec::new().line("40/ZEL", "1"))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    // No key kept yet: nothing verifies.
    let error = connector_error(
        client
            .verify_webhook(&request(&shop.delivery("order:create", &code)))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::BadSignature);

    let WebhookSetup::Registered(registered) = client.register_webhooks(HOOK_URL).await? else {
        panic!("not registered");
    };
    assert_eq!(registered.len(), 6);
    assert_eq!(shop.keys_issued(), 1);
    // Again: nothing registered twice (Shoptet would answer 422).
    let WebhookSetup::Registered(again) = client.register_webhooks(HOOK_URL).await? else {
        panic!("not registered");
    };
    assert_eq!(again.len(), 6);
    assert_eq!(shop.webhooks().len(), 6);
    assert_eq!(shop.requests_to("POST", "/api/webhooks"), 1);
    // A new address of the same shop moves the registrations.
    let moved = "https://tovor.example/hooks/shoptet/new";
    client.register_webhooks(moved).await?;
    assert!(shop.webhooks().iter().all(|hook| hook["url"] == moved));

    let delivery = shop.delivery("order:create", &code);
    let verified = client.verify_webhook(&request(&delivery)).await?;
    assert_eq!(verified.topic.as_deref(), Some("order:create"));
    assert!(
        verified
            .delivery_id
            .as_deref()
            .unwrap()
            .starts_with("222651:order:create:")
    );
    match verified.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, code),
        other => panic!("{other:?}"),
    }
    let mut forged = request(&delivery);
    for (_, value) in forged
        .headers
        .iter_mut()
        .filter(|(name, _)| name == "shoptet-webhook-signature")
    {
        *value = sign("not the key", &delivery.body);
    }
    let error = connector_error(client.verify_webhook(&forged).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature);

    let mass = shop.mass_delivery("order:massUpdate", &[&code, "2025000999"]);
    match client.verify_webhook(&request(&mass)).await?.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, code),
        other => panic!("{other:?}"),
    }

    client.unregister_webhooks(moved, &registered).await?;
    assert!(shop.webhooks().is_empty());
    // Already gone: fine.
    client.unregister_webhooks(moved, &registered).await?;
    Ok(())
}

fn level(code: &str, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: Some(code.to_owned()),
            product_id: "8e9b0f2c-d7cb-11e0-9a5c-feab5ed617ed".to_owned(),
            variant_id: Some(code.to_owned()),
            stock_key: None,
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn shoptet_sets_stock_per_variant_with_per_item_outcomes() -> anyhow::Result<()> {
    let shop = FakeShoptet::start().await?;
    // Two pieces of the green mug are claimed by a pending order.
    shop.create_order(&OrderSpec::new().line("40/ZEL", "2"));
    let (_host, client) = connector(private(&shop)).await?;
    assert_eq!(client.stock_batch().await?, 300);
    let results = client
        .push_stock(&[
            level("40/ZEL", 15),
            level("40/MOD", 4),
            level("NENI-01", 1),
            level("SADA-01", 2),
        ])
        .await?;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert_eq!(results[2].as_ref().unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(
        results[3].as_ref().unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    // `quantity` by default: available for ordering; Shoptet adds its claim.
    let green = shop.product("40/ZEL").unwrap();
    assert_eq!(green.quantity(), Decimal::from(15));
    assert_eq!(green.real_stock, Decimal::from(17));
    assert_eq!(shop.product("40/MOD").unwrap().real_stock, Decimal::from(4));
    assert_eq!(
        shop.requests_to("GET", "/api/stocks"),
        1,
        "the default stock, once"
    );

    // realStock when configured; every row refused is a 400, still per item.
    let mut settings = private(&shop);
    settings.insert("stock_field".into(), "realStock".into());
    settings.insert("stock_id".into(), "1".into());
    let (_host2, client) = connector(settings).await?;
    client.push_stock(&[level("40/ZEL", 15)]).await?;
    assert_eq!(
        shop.product("40/ZEL").unwrap().real_stock,
        Decimal::from(15)
    );
    let results = client
        .push_stock(&[level("NENI-01", 1), level("NENI-02", 1)])
        .await?;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap_err().kind == ErrorKind::NotFound)
    );

    // An outage fails the batch (the host retries it).
    shop.set_down(true);
    let error = connector_error(client.push_stock(&[level("40/ZEL", 1)]).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    shop.set_down(false);
    shop.throttle_next(1);
    let error = connector_error(client.push_stock(&[level("40/ZEL", 1)]).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert!(
        error
            .retry_after
            .is_some_and(|wait| wait.as_millis() <= 2000)
    );
    shop.lock_next(1);
    let error = connector_error(client.push_stock(&[level("40/ZEL", 1)]).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    Ok(())
}

#[tokio::test]
async fn shoptet_fulfils_with_tracking_number_and_status() -> anyhow::Result<()> {
    let shop = FakeShoptet::start().await?;
    let code = shop.create_order(&OrderSpec::new().line("40/ZEL", "1"))["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_host, client) = connector(private(&shop)).await?;
    client
        .fulfill(
            &code,
            &Fulfillment {
                lines: Vec::new(),
                carrier: "PPL".into(),
                parcels: vec![("DR1234567890E".into(), None)],
                notify_customer: false,
            },
        )
        .await?;
    let order = shop.order(&code).unwrap();
    assert_eq!(order["notes"]["trackingNumber"], "DR1234567890E");
    assert_eq!(order["status"]["id"], -3);
    let changes = shop.status_changes();
    assert!(changes.last().unwrap().2, "e-mail suppressed");

    client.set_order_status(&code, StatusChange::Paid).await?;
    assert_eq!(shop.order(&code).unwrap()["paid"], true);
    client
        .set_order_status(&code, StatusChange::Cancelled)
        .await?;
    assert_eq!(shop.order(&code).unwrap()["status"]["id"], -4);
    let error = connector_error(
        client
            .set_order_status("1999000001", StatusChange::Completed)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn shoptet_addon_tokens_are_kept_and_renewed_once_expired() -> anyhow::Result<()> {
    let shop = FakeShoptet::start_seeded().await?;
    let (_host, client) = connector(addon(&shop)).await?;
    let info = client.check_connection().await?;
    assert!(info.account.unwrap().starts_with("Hrnky a káva"));
    let code = shop.order_codes()[0].clone();
    client.get_order(&code).await?;
    client.get_order(&code).await?;
    assert_eq!(shop.tokens_issued(), 1, "kept in state between calls");
    shop.expire_tokens();
    client.get_order(&code).await?;
    assert_eq!(shop.tokens_issued(), 2, "renewed once after expired-token");

    // A wrong OAuth token names its field; a wrong private token names its own.
    let mut wrong = addon(&shop);
    wrong.insert("oauth_access_token".into(), "nope".into());
    let (_host2, client) = connector(wrong).await?;
    let error = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("oauth_access_token"));
    let mut wrong = private(&shop);
    wrong.insert("private_api_token".into(), "nope".into());
    let (_host3, client) = connector(wrong).await?;
    let error = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(error.field.as_deref(), Some("private_api_token"));
    Ok(())
}
