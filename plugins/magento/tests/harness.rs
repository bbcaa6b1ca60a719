//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake Magento of
//! `tovor-fakes` on 127.0.0.1 with OAuth 1.0a signatures the fake recomputes.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- magento_`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use tovor_fakes::magento::{
    ACCESS_TOKEN, ACCESS_TOKEN_SECRET, ADMIN_TOKEN, CONSUMER_KEY, CONSUMER_SECRET, FakeMagento,
    OrderSpec, dec,
};
use tovor_harness::connector_error;
use tovor_harness::list_all_orders;
use tovor_harness::model::{
    Fulfillment, OrderStatus, PaymentStatus, StockLevel, StockTarget, WebhookEvent, WebhookRequest,
    WebhookSetup,
};
use tovor_harness::{Decimal, ErrorKind, ShopClient, TestHost, datetime};
use tovor_runtime::CallContext;

fn oauth(store: &FakeMagento) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("base_url".to_owned(), store.url()),
        ("access_token".to_owned(), ACCESS_TOKEN.to_owned()),
        ("consumer_key".to_owned(), CONSUMER_KEY.to_owned()),
        ("consumer_secret".to_owned(), CONSUMER_SECRET.to_owned()),
        (
            "access_token_secret".to_owned(),
            ACCESS_TOKEN_SECRET.to_owned(),
        ),
    ])
}

fn with(
    mut settings: BTreeMap<String, String>,
    extra: &[(&str, &str)],
) -> BTreeMap<String, String> {
    for (name, value) in extra {
        settings.insert((*name).to_owned(), (*value).to_owned());
    }
    settings
}

/// A test host with this connector loaded, with connector state (as the service keeps
/// it per company and shop).
async fn connector(settings: BTreeMap<String, String>) -> anyhow::Result<(TestHost, ShopClient)> {
    connector_in(settings, "shop-1").await
}

async fn connector_in(
    settings: BTreeMap<String, String>,
    shop: &str,
) -> anyhow::Result<(TestHost, ShopClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let context = CallContext::new("test", settings).with_state("company-1", shop);
    let client = host.runtime().shop(plugin.id(), context)?;
    Ok((host, client))
}

fn grand_total(order: &serde_json::Value) -> Decimal {
    dec(&order["grand_total"])
}

#[tokio::test]
async fn magento_lists_every_order_across_pages_with_oauth() -> anyhow::Result<()> {
    let store = FakeMagento::start_seeded().await?;
    // Five more orders changed in the very same second: with two orders a page they
    // straddle page boundaries.
    let mut same_second = Vec::new();
    for _ in 0..5 {
        let order = store.create_order(&OrderSpec::new().line("MUG-1", 1));
        same_second.push(order["entity_id"].as_u64().unwrap());
    }
    for id in &same_second {
        store.set_updated_at(*id, "2030-01-01 10:00:00");
    }
    let (_host, client) = connector(with(oauth(&store), &[("page_size", "2")])).await?;
    let orders = list_all_orders(&client, datetime!(2020-01-01 0:00 UTC))
        .await
        .0;
    let ids: Vec<u64> = orders.iter().map(|o| o.id.parse().unwrap()).collect();
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no order twice: {ids:?}");
    assert_eq!(
        unique,
        store.order_ids().into_iter().collect(),
        "every order"
    );
    // Oldest change first, then by id.
    assert_eq!(&ids[ids.len() - 5..], same_second.as_slice());
    for order in &orders {
        tovor_harness::assert_importable(order);
        let placed = store.order(order.id.parse().unwrap()).unwrap();
        assert_eq!(order.total, grand_total(&placed), "order {}", order.id);
        assert_eq!(order.currency, placed["order_currency_code"]);
    }
    // Every request asked for the first page of what is after the cursor, with the
    // real parameter names, and was signed (the fake checks the signatures).
    let requests = store.requests();
    let listing: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /rest/V1/orders?"))
        .collect();
    assert_eq!(listing.len(), ids.len().div_ceil(2));
    for request in &listing {
        assert!(
            request.contains("searchCriteria%5BcurrentPage%5D=1"),
            "{request}"
        );
        assert!(request.contains("searchCriteria%5BsortOrders%5D%5B1%5D%5Bfield%5D=entity_id"));
    }
    assert!(listing[1].contains(
        "searchCriteria%5Bfilter_groups%5D%5B1%5D%5Bfilters%5D%5B1%5D%5Bfield%5D=entity_id"
    ));

    // Nothing changed since then.
    let later = client
        .list_orders(datetime!(2031-01-01 0:00 UTC), None)
        .await?;
    assert!(later.orders.is_empty() && later.next_cursor.is_none());
    Ok(())
}

#[tokio::test]
async fn magento_maps_configurables_bundles_discounts_and_currencies() -> anyhow::Result<()> {
    let store = FakeMagento::start_seeded().await?;
    let (_host, client) = connector(oauth(&store)).await?;
    let ids = store.order_ids();

    // A configurable (one line, the variant's SKU), a dynamic bundle (its children),
    // a mug, with a 10 % coupon.
    let first = client.get_order(&ids[0].to_string()).await?;
    tovor_harness::assert_importable(&first);
    let skus: Vec<&str> = first
        .lines
        .iter()
        .map(|l| l.sku.as_deref().unwrap())
        .collect();
    assert_eq!(skus, ["TEE-M", "MUG-1", "BEANS-1KG", "MUG-1"]);
    assert_eq!(first.coupons, ["SUMMER10"]);
    assert!(first.discount_total > Decimal::ZERO);
    assert_eq!(first.status, OrderStatus::Processing);
    assert_eq!(first.payment_status, PaymentStatus::Paid);
    assert_eq!(first.total, grand_total(&store.order(ids[0]).unwrap()));

    // A guest with a discount on gross prices.
    let guest = client.get_order(&ids[1].to_string()).await?;
    tovor_harness::assert_importable(&guest);
    let customer = guest.customer.as_ref().unwrap();
    assert_eq!(customer.platform_id, None);
    assert_eq!(customer.first_name.as_deref(), Some("Marko"));
    assert_eq!(guest.payment_method.as_ref().unwrap().code, "banktransfer");
    assert_eq!(guest.total, grand_total(&store.order(ids[1]).unwrap()));

    // USD, a fixed-price bundle as one line.
    let usd = client.get_order(&ids[2].to_string()).await?;
    tovor_harness::assert_importable(&usd);
    assert_eq!(usd.currency, "USD");
    let placed = store.order(ids[2]).unwrap();
    assert_eq!(usd.total, grand_total(&placed));
    assert_ne!(usd.total, dec(&placed["base_grand_total"]));
    assert_eq!(usd.lines[0].sku.as_deref(), Some("GIFT-BOX"));
    assert_eq!(usd.status, OrderStatus::Completed);
    assert_eq!(usd.shipping_lines[0].code.as_deref(), Some("ups_GND"));

    let statuses: Vec<OrderStatus> = {
        let mut out = Vec::new();
        for id in &ids[3..6] {
            out.push(client.get_order(&id.to_string()).await?.status);
        }
        out
    };
    assert_eq!(
        statuses,
        [
            OrderStatus::Refunded,
            OrderStatus::Cancelled,
            OrderStatus::OnHold
        ]
    );

    let missing = connector_error(client.get_order("99999").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(
        missing.message.contains("doesn't exist"),
        "{}",
        missing.message
    );
    Ok(())
}

#[tokio::test]
async fn magento_checks_credentials_bearer_and_oauth() -> anyhow::Result<()> {
    let store = FakeMagento::start_seeded().await?;
    let (_host, client) = connector(oauth(&store)).await?;
    let info = client.check_connection().await?;
    assert!(
        info.account.as_deref().unwrap().contains("6 orders"),
        "{info:?}"
    );

    // The integration's token as a Bearer token: refused since 2.4.4 ...
    let bearer = BTreeMap::from([
        ("base_url".to_owned(), store.url()),
        ("access_token".to_owned(), ACCESS_TOKEN.to_owned()),
    ]);
    let (_host2, client) = connector(bearer.clone()).await?;
    let refused = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(refused.kind, ErrorKind::Auth);
    assert_eq!(refused.field.as_deref(), Some("access_token"));
    assert!(
        refused.message.contains("OAuth 1.0a"),
        "{}",
        refused.message
    );
    // ... unless the store allows it; an admin token always works.
    store.allow_bearer_tokens(true);
    client.check_connection().await?;
    let admin = with(bearer, &[("access_token", ADMIN_TOKEN)]);
    let (_host3, client) = connector(admin).await?;
    client.check_connection().await?;

    // A wrong secret: the signature does not match.
    let (_host4, client) = connector(with(oauth(&store), &[("consumer_secret", "wrong")])).await?;
    let refused = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(refused.kind, ErrorKind::Auth);
    assert_eq!(refused.field.as_deref(), Some("consumer_key"));
    assert!(
        refused.message.contains("signature is invalid"),
        "{}",
        refused.message
    );

    // A missing API resource.
    store.deny_resource("Magento_Sales::actions_view");
    let (_host5, client) = connector(oauth(&store)).await?;
    let denied = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(denied.kind, ErrorKind::Permission, "{denied:?}");
    assert!(denied.message.contains("Magento_Sales::actions_view"));

    // A source that does not exist.
    let store = FakeMagento::start().await?;
    let (_host6, client) =
        connector(with(oauth(&store), &[("source_code", "warehouse-9")])).await?;
    let wrong = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(wrong.field.as_deref(), Some("source_code"));
    Ok(())
}

fn level(sku: &str, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: Some(sku.to_owned()),
            product_id: "0".to_owned(),
            variant_id: None,
            stock_key: None,
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn magento_pushes_stock_to_a_source_or_to_legacy_stock_items() -> anyhow::Result<()> {
    let store = FakeMagento::start().await?;
    let (_host, client) = connector(with(oauth(&store), &[("source_code", "ljubljana")])).await?;
    let results = client
        .push_stock(&[level("TEE-M", 7), level("TEE/XL", 0), level("NOPE", 3)])
        .await?;
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    let refused = results[2].clone().unwrap_err();
    assert!(refused.message.contains("NOPE"), "{refused:?}");
    assert_eq!(store.quantity("TEE-M", "ljubljana"), Some(Decimal::from(7)));
    assert_eq!(store.quantity("TEE/XL", "ljubljana"), Some(Decimal::ZERO));
    assert_eq!(store.quantity("TEE-M", "default"), Some(Decimal::from(100)));
    let saved = store.source_item_posts();
    assert_eq!(
        saved.len(),
        2,
        "the refused batch, then one at a time: {saved:?}"
    );
    assert_eq!(saved[1]["sourceItems"][0]["status"], 0);
    // MSI was probed once and kept in state.
    client.push_stock(&[level("MUG-1", 5)]).await?;
    let probes = store
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /rest/V1/inventory/sources"))
        .count();
    assert_eq!(probes, 1);

    // Without MSI: the legacy stock item, found by SKU (a slash in it encoded).
    let legacy = FakeMagento::start().await?;
    legacy.set_msi(false);
    let (_host2, client) = connector_in(oauth(&legacy), "shop-2").await?;
    let results = client
        .push_stock(&[level("TEE/XL", 4), level("NOPE", 1)])
        .await?;
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(results[1].clone().unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(legacy.quantity("TEE/XL", "default"), Some(Decimal::from(4)));
    let puts = legacy.stock_item_puts();
    assert_eq!(puts[0].1["stockItem"]["qty"], 4);
    assert!(
        legacy
            .requests()
            .iter()
            .any(|r| r.starts_with("PUT /rest/V1/products/TEE%2FXL/stockItems/")),
        "{:?}",
        legacy.requests()
    );
    Ok(())
}

#[tokio::test]
async fn magento_ships_an_order_once() -> anyhow::Result<()> {
    let store = FakeMagento::start().await?;
    let placed = store.create_order(
        &OrderSpec::new()
            .variant("TEE", "TEE-S", 1)
            .line("MUG-1", 2)
            .status("processing")
            .paid(),
    );
    let id = placed["entity_id"].as_u64().unwrap().to_string();
    let (_host, client) = connector(oauth(&store)).await?;
    let order = client.get_order(&id).await?;
    let shipped = Fulfillment {
        lines: order
            .lines
            .iter()
            .map(|line| (line.platform_line_id.clone().unwrap(), line.quantity))
            .collect(),
        carrier: "GLS".into(),
        parcels: vec![("GLS-0042".into(), None), ("GLS-0043".into(), None)],
        notify_customer: true,
    };
    client.fulfill(&id, &shipped).await?;
    // Asked again (the answer was lost): already shipped, nothing more.
    client.fulfill(&id, &shipped).await?;
    let shipments = store.shipments();
    assert_eq!(shipments.len(), 1, "{shipments:?}");
    assert_eq!(shipments[0]["tracks"][1]["track_number"], "GLS-0043");
    assert_eq!(shipments[0]["tracks"][0]["carrier_code"], "custom");
    assert_eq!(shipments[0]["notify"], true);
    let after = client.get_order(&id).await?;
    assert_eq!(after.status, OrderStatus::Completed);

    // A cancelled order cannot be shipped.
    let cancelled = store.create_order(&OrderSpec::new().line("MUG-1", 1).status("canceled"));
    let cancelled = cancelled["entity_id"].as_u64().unwrap().to_string();
    let error = connector_error(
        client
            .fulfill(
                &cancelled,
                &Fulfillment {
                    lines: Vec::new(),
                    ..shipped
                },
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Conflict, "{error:?}");
    Ok(())
}

#[tokio::test]
async fn magento_outages_are_transient() -> anyhow::Result<()> {
    let store = FakeMagento::start_seeded().await?;
    let (_host, client) = connector(oauth(&store)).await?;
    store.set_down(true);
    let down = connector_error(
        client
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(down.kind, ErrorKind::Transient);
    assert!(down.message.contains("maintenance"), "{}", down.message);
    store.set_down(false);
    store.fail_next(1);
    let crashed = connector_error(client.get_order("101").await.unwrap_err());
    assert_eq!(crashed.kind, ErrorKind::Transient);
    assert!(crashed.message.contains("webapi-"), "{}", crashed.message);
    client.get_order("101").await?;
    // A slow store is waited for (within the call's timeout).
    store.set_slow(Some(std::time::Duration::from_millis(300)));
    client.get_order("101").await?;
    Ok(())
}

fn request(delivery: &tovor_fakes::magento::Delivery) -> WebhookRequest {
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
async fn magento_verifies_adobe_commerce_webhooks() -> anyhow::Result<()> {
    let store = FakeMagento::start_seeded().await?;
    let key = store.webhook_public_key();
    let (_host, client) = connector(with(oauth(&store), &[("webhook_public_key", &key)])).await?;
    let delivery = store.webhook_delivery(101);
    let verified = client.verify_webhook(&request(&delivery)).await?;
    assert_eq!(
        verified.topic.as_deref(),
        Some("observer.sales_order_save_after")
    );
    match verified.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, "101"),
        other => panic!("{other:?}"),
    }
    let mut forged = request(&delivery);
    forged.body = String::from_utf8(forged.body)
        .unwrap()
        .replace("101", "102")
        .into_bytes();
    let error = connector_error(client.verify_webhook(&forged).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature);

    // Without a key nothing is accepted; the setup is manual either way.
    let (_host2, client) = connector(oauth(&store)).await?;
    let error = connector_error(
        client
            .verify_webhook(&request(&delivery))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::BadSignature);
    let setup = client
        .register_webhooks("https://tovor.example/hooks/magento/1")
        .await?;
    assert!(
        matches!(&setup, WebhookSetup::Manual(text) if text.contains("https://tovor.example/hooks/magento/1")),
        "{setup:?}"
    );
    Ok(())
}

/// An order on the first page changes while the host pages: with offsets the next page
/// would start one order too late and skip one; the keyset cursor skips nothing, and
/// the changed order comes again at the end.
#[tokio::test]
async fn magento_paging_survives_orders_changing_between_pages() -> anyhow::Result<()> {
    let store = FakeMagento::start().await?;
    let mut ids = Vec::new();
    for (index, quantity) in (1..=6).enumerate() {
        let order = store.create_order(&OrderSpec::new().line("MUG-1", quantity));
        let id = order["entity_id"].as_u64().unwrap();
        store.set_updated_at(id, &format!("2024-01-01 10:00:0{index}"));
        ids.push(id);
    }
    let (_host, client) = connector(with(oauth(&store), &[("page_size", "2")])).await?;
    let since = datetime!(2020-01-01 0:00 UTC);
    let first = client.list_orders(since, None).await?;
    let mut seen: Vec<String> = first.orders.iter().map(|o| o.id.clone()).collect();
    assert_eq!(seen, [ids[0].to_string(), ids[1].to_string()]);
    // The first order is edited now: it moves to the end of the sort.
    store.update_order(ids[0], |order| {
        order["status"] = serde_json::json!("processing")
    });
    let mut cursor = first.next_cursor;
    while let Some(next) = cursor {
        let page = client.list_orders(since, Some(&next)).await?;
        seen.extend(page.orders.iter().map(|o| o.id.clone()));
        cursor = page.next_cursor;
    }
    let expected: Vec<String> = ids[..]
        .iter()
        .chain(std::iter::once(&ids[0]))
        .map(u64::to_string)
        .collect();
    assert_eq!(
        seen, expected,
        "every order, the changed one again at the end"
    );
    Ok(())
}
