//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake Shopify of
//! `tovor-fakes` on 127.0.0.1.
//!
//! Run with `cargo test --workspace --test harness -- <filter>`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tovor_fakes::shopify::{
    ACCESS_TOKEN, ALL_SCOPES, FakeShopify, LOCATION_ID, OrderSpec, SHOP_DOMAIN, SHOP_NAME,
    WEBHOOK_SECRET,
};
use tovor_harness::connector_error;
use tovor_harness::model::{
    ConvertError, Fulfillment, NormalizedOrder as Order, OrderStatus, PageOrder, PaymentStatus,
    RegisteredWebhook, StatusChange, StockLevel, StockTarget, WebhookEvent, WebhookRequest,
    WebhookSetup,
};
use tovor_harness::{Decimal, ErrorKind, datetime};
use tovor_harness::{ShopClient, TestHost};

/// The webhook address the host would register (Shopify takes https addresses only).
const HOOK_URL: &str = "https://tovor.example/hooks/shopify/3f9c2a";

/// The settings of a shop on the fake, with `location_id` unless `None`.
fn settings(shop: &FakeShopify, location: Option<u64>) -> BTreeMap<String, String> {
    let mut config = BTreeMap::from([
        ("shop_domain".to_owned(), SHOP_DOMAIN.to_owned()),
        ("access_token".to_owned(), ACCESS_TOKEN.to_owned()),
        ("webhook_secret".to_owned(), WEBHOOK_SECRET.to_owned()),
        ("api_base".to_owned(), shop.api_base()),
    ]);
    if let Some(location) = location {
        config.insert("location_id".to_owned(), location.to_string());
    }
    config
}

/// A test host with this connector loaded, configured for the fake shop.
async fn connector(shop: &FakeShopify) -> anyhow::Result<(TestHost, ShopClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let client = host.shop(plugin.id(), settings(shop, Some(LOCATION_ID)))?;
    Ok((host, client))
}

/// Like [`connector`], with connector state kept by the runtime (as the service keeps
/// it per company and shop; the harness's own clients have none) and `settings`.
async fn connector_with_state(
    settings: BTreeMap<String, String>,
) -> anyhow::Result<(TestHost, ShopClient)> {
    TestHost::with_shop_crate(env!("CARGO_MANIFEST_DIR"), settings).await
}

fn id_of(value: &Value) -> u64 {
    value["id"].as_u64().unwrap()
}

fn money(value: &Value) -> Decimal {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn lists_every_order_across_pages_and_gets_one() -> anyhow::Result<()> {
    let shop = FakeShopify::start_seeded().await?;
    let (variant, _) = shop
        .add_product("Socks", &[("SOCKS", "Default Title", "4.50", Some(1000))])
        .1[0];
    for _ in 0..250 {
        shop.create_order(&OrderSpec::new().line(variant, 1));
    }
    let (_host, client) = connector(&shop).await?;

    let first = client
        .list_orders(datetime!(2020-01-01 0:00 UTC), None)
        .await?;
    assert_eq!(first.orders.len(), 250);
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = client
        .list_orders(datetime!(2020-01-01 0:00 UTC), Some(&cursor))
        .await?;
    assert_eq!(second.next_cursor, None);
    let listed: Vec<PageOrder> = first.orders.into_iter().chain(second.orders).collect();
    let orders: Vec<Order> = listed
        .into_iter()
        .map(|page_order| {
            let order = page_order.order?;
            assert_eq!(order.id, page_order.id);
            Ok(order)
        })
        .collect::<Result<_, ConvertError>>()?;
    assert_eq!(orders.len(), 256, "6 seeded + 250, cancelled included");
    assert!(orders.iter().any(|o| o.status == OrderStatus::Cancelled));
    assert!(orders.iter().any(|o| o.status == OrderStatus::Refunded));
    assert!(
        orders
            .iter()
            .any(|o| o.customer.as_ref().is_some_and(|c| c.platform_id.is_none())),
        "guest"
    );
    assert!(orders.iter().any(|o| o.prices_include_tax));
    for order in &orders {
        assert_eq!(order.currency, "EUR");
        tovor_harness::assert_importable(order);
    }

    let requests = shop.requests();
    assert!(
        requests[0].starts_with("GET /admin/api/2025-07/orders.json?status=any&updated_at_min="),
        "{}",
        requests[0]
    );
    assert!(requests[1].contains("page_info="), "{}", requests[1]);
    assert!(
        !requests[1].contains("status="),
        "only limit and page_info with a cursor"
    );

    // Only orders changed since a moment are listed.
    let later = orders.iter().map(|o| o.modified_at).max().unwrap();
    let one = shop.create_order(&OrderSpec::new().line(variant, 2));
    let changed = client.list_orders(later, None).await?;
    let one_id = id_of(&one).to_string();
    assert!(changed.orders.iter().any(|o| o.id == one_id));
    assert!(changed.orders.len() < 5);

    let order = client.get_order(&one_id).await?;
    assert_eq!(order.number, one["name"].as_str().unwrap());
    assert_eq!(order.total, money(&one["total_price"]));
    assert_eq!(
        order.lines[0].variation_id.as_deref(),
        Some(variant.to_string().as_str())
    );
    let missing = connector_error(client.get_order("1").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn verifies_signed_webhooks_and_refuses_forged_ones() -> anyhow::Result<()> {
    let shop = FakeShopify::start_seeded().await?;
    let (_host, client) = connector(&shop).await?;
    let (variant, _) = shop
        .add_product("Cap", &[("CAP", "Default Title", "12.00", Some(3))])
        .1[0];
    let order = shop.create_order(&OrderSpec::new().line(variant, 1).taxes_included(true));
    let id = id_of(&order);
    let request = |delivery: &tovor_fakes::shopify::Delivery| WebhookRequest {
        method: "POST".into(),
        headers: delivery
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        query: String::new(),
        body: delivery.body.clone(),
    };

    let delivery = shop.delivery("orders/create", id);
    let verified = client.verify_webhook(&request(&delivery)).await?;
    assert_eq!(verified.topic.as_deref(), Some("orders/create"));
    assert_eq!(
        verified.delivery_id.as_deref(),
        delivery.header("X-Shopify-Event-Id")
    );
    match verified.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, id.to_string());
            let mapped = hint.order.expect("the body is the whole order")?;
            assert!(mapped.prices_include_tax);
            assert_eq!(mapped.total, money(&order["total_price"]));
        }
        other => panic!("{other:?}"),
    }
    // A retry of the same event has the same delivery id (for de-duplication).
    let again = shop.redelivery(&delivery);
    assert_ne!(
        again.header("X-Shopify-Webhook-Id"),
        delivery.header("X-Shopify-Webhook-Id")
    );
    let verified_again = client.verify_webhook(&request(&again)).await?;
    assert_eq!(verified_again.delivery_id, verified.delivery_id);

    let deleted = client
        .verify_webhook(&request(&shop.delivery("orders/delete", id)))
        .await?;
    assert!(
        matches!(&deleted.event, WebhookEvent::OrderDeleted(deleted) if *deleted == id.to_string())
    );

    let mut forged = request(&delivery);
    if let Some(byte) = forged.body.iter_mut().find(|b| b.is_ascii_digit()) {
        *byte = if *byte == b'9' { b'8' } else { *byte + 1 };
    }
    let error = connector_error(client.verify_webhook(&forged).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature, "{error:?}");
    Ok(())
}

/// A level as the host sends it: the item link's stock key, else its variant id, else
/// its product id.
fn level(
    stock_key: Option<String>,
    variant_id: Option<u64>,
    product_id: Option<u64>,
    quantity: i64,
) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: None,
            product_id: product_id.map(|id| id.to_string()).unwrap_or_default(),
            variant_id: variant_id.map(|id| id.to_string()),
            stock_key,
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn pushes_stock_by_every_kind_of_stock_key() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (_, variants) = shop.add_product(
        "Organic T-Shirt",
        &[
            ("TS-S", "S", "19.90", Some(5)),
            ("TS-M", "M", "19.90", Some(5)),
            ("TS-L", "L", "19.90", Some(5)),
        ],
    );
    let (mug_product, mugs) =
        shop.add_product("Mug", &[("MUG-1", "Default Title", "9.90", Some(5))]);
    let (_, untracked) = shop.add_product("Gift wrap", &[("WRAP", "Default Title", "2.50", None)]);
    let (_host, client) = connector(&shop).await?;
    assert_eq!(client.stock_batch().await?, 20);

    let results = client
        .push_stock(&[
            // What the catalog gives.
            level(
                Some(format!("gid://shopify/InventoryItem/{}", variants[0].1)),
                Some(variants[0].0),
                None,
                17,
            ),
            // Linked by hand: the variant id.
            level(None, Some(variants[1].0), None, 3),
            // Linked through the contract 0.1 connector: the plain inventory item id.
            level(Some(variants[2].1.to_string()), None, None, 4),
            // A product with one variant, linked by its product id.
            level(None, None, Some(mug_product), 8),
            level(None, Some(untracked[0].0), None, 9),
            level(None, Some(1), None, 1),
            level(None, None, None, 1),
        ])
        .await?;
    for (index, result) in results.iter().take(4).enumerate() {
        assert!(result.is_ok(), "{index}: {result:?}");
    }
    assert_eq!(shop.inventory_level(variants[0].1), Some(17));
    assert_eq!(shop.inventory_level(variants[1].1), Some(3));
    assert_eq!(shop.inventory_level(variants[2].1), Some(4));
    assert_eq!(shop.inventory_level(mugs[0].1), Some(8));
    let not_tracked = results[4].clone().unwrap_err();
    assert_eq!(not_tracked.kind, ErrorKind::InvalidInput);
    assert!(
        not_tracked.message.contains("inventory tracking"),
        "{}",
        not_tracked.message
    );
    assert_eq!(results[5].clone().unwrap_err().kind, ErrorKind::NotFound);
    let no_key = results[6].clone().unwrap_err();
    assert_eq!(
        (no_key.kind, no_key.field.as_deref()),
        (ErrorKind::InvalidInput, Some("key"))
    );
    assert_eq!(
        shop.requests_to("POST", "inventory_levels/set.json"),
        5,
        "one per level whose inventory item was found"
    );
    assert_eq!(
        shop.requests_to("GET", &format!("variants/{}.json", variants[0].0)),
        0,
        "a catalog key needs no lookup"
    );
    assert_eq!(
        shop.requests_to("GET", "shop.json"),
        0,
        "configured location"
    );
    Ok(())
}

#[tokio::test]
async fn stock_lookups_are_kept_in_connector_state() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (_, variants) = shop.add_product(
        "Organic T-Shirt",
        &[
            ("TS-S", "S", "19.90", Some(5)),
            ("TS-M", "M", "19.90", Some(5)),
        ],
    );
    // No location configured: the shop's primary one.
    let (_host, client) = connector_with_state(settings(&shop, None)).await?;
    let by_variant = |quantity| {
        vec![
            level(None, Some(variants[0].0), None, quantity),
            level(Some(variants[1].1.to_string()), None, None, quantity),
        ]
    };
    let results = client.push_stock(&by_variant(11)).await?;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(shop.inventory_level(variants[0].1), Some(11));
    assert_eq!(shop.inventory_level(variants[1].1), Some(11));
    let variant_path = format!("variants/{}.json", variants[0].0);
    assert_eq!(shop.requests_to("GET", &variant_path), 1);
    assert_eq!(
        shop.requests_to("GET", "shop.json"),
        1,
        "the primary location"
    );
    let lookups_before = shop.request_counts().values().sum::<usize>();

    let results = client.push_stock(&by_variant(12)).await?;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(shop.inventory_level(variants[0].1), Some(12));
    assert_eq!(
        shop.requests_to("GET", &variant_path),
        1,
        "the second push makes no variant request"
    );
    assert_eq!(shop.requests_to("GET", "shop.json"), 1);
    assert_eq!(
        shop.request_counts().values().sum::<usize>() - lookups_before,
        2,
        "only the two level updates"
    );
    Ok(())
}

#[tokio::test]
async fn lists_products_with_their_variants() -> anyhow::Result<()> {
    let shop = FakeShopify::start_seeded().await?;
    let (_host, client) = connector(&shop).await?;
    let page = client.list_products(None).await?;
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.entries.len(), 6, "3 shirt sizes, mug, book, wrapping");
    let medium = page
        .entries
        .iter()
        .find(|p| p.sku.as_deref() == Some("TSHIRT-M"))
        .unwrap();
    assert_eq!(medium.name, "Organic T-Shirt — M");
    assert_eq!(medium.price, Some(Decimal::new(1990, 2)));
    assert!(medium.manages_stock);
    assert!(medium.stock.is_some(), "tracked");
    let key = medium.stock_key.as_deref().unwrap();
    assert!(key.starts_with("gid://shopify/InventoryItem/"), "{key}");
    assert!(medium.variant_id.is_some());
    let mug = page
        .entries
        .iter()
        .find(|p| p.sku.as_deref() == Some("MUG-1"))
        .unwrap();
    assert_eq!(mug.name, "Ceramic Mug");
    let wrap = page
        .entries
        .iter()
        .find(|p| p.sku.as_deref() == Some("WRAP"))
        .unwrap();
    assert_eq!((wrap.manages_stock, wrap.stock), (false, None));

    // The catalog's key sets the level with no lookup at all.
    let item: u64 = key.rsplit('/').next().unwrap().parse()?;
    let results = client
        .push_stock(&[level(Some(key.to_owned()), None, None, 33)])
        .await?;
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(shop.inventory_level(item), Some(33));
    Ok(())
}

fn shipped(lines: &[(u64, i64)], parcels: &[&str]) -> Fulfillment {
    Fulfillment {
        lines: lines
            .iter()
            .map(|(line, quantity)| (line.to_string(), Decimal::from(*quantity)))
            .collect(),
        carrier: "GLS".into(),
        parcels: parcels
            .iter()
            .map(|number| {
                (
                    (*number).to_owned(),
                    Some(format!("https://gls-group.eu/track/{number}")),
                )
            })
            .collect(),
        notify_customer: true,
    }
}

#[tokio::test]
async fn marks_orders_shipped_with_tracking() -> anyhow::Result<()> {
    let shop = FakeShopify::start_seeded().await?;
    let (variant, _) = shop
        .add_product("Cap", &[("CAP", "Default Title", "12.00", Some(3))])
        .1[0];
    let order = shop.create_order(&OrderSpec::new().line(variant, 1));
    let id = id_of(&order);
    let (_host, client) = connector(&shop).await?;
    let everything = shipped(&[], &["GLS00012345"]);
    client.fulfill(&id.to_string(), &everything).await?;
    let fulfillments = shop.fulfillments(id);
    assert_eq!(fulfillments.len(), 1);
    assert_eq!(fulfillments[0]["tracking_number"], "GLS00012345");
    assert_eq!(fulfillments[0]["tracking_company"], "GLS");
    assert_eq!(
        fulfillments[0]["tracking_url"],
        "https://gls-group.eu/track/GLS00012345"
    );
    assert_eq!(fulfillments[0]["notify_customer"], true);
    assert_eq!(shop.order(id).unwrap()["fulfillment_status"], "fulfilled");
    // Again (a retry after a lost answer): nothing open, nothing doubled.
    client.fulfill(&id.to_string(), &everything).await?;
    assert_eq!(shop.fulfillments(id).len(), 1);
    let mapped = client.get_order(&id.to_string()).await?;
    assert_eq!(mapped.status, OrderStatus::Completed);
    assert_eq!(mapped.payment_status, PaymentStatus::Paid);
    Ok(())
}

#[tokio::test]
async fn fulfills_named_lines_in_two_parcels_once() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (_, shirts) = shop.add_product(
        "Organic T-Shirt",
        &[
            ("TS-M", "M", "19.90", Some(9)),
            ("TS-L", "L", "19.90", Some(9)),
        ],
    );
    let (_, mugs) = shop.add_product("Mug", &[("MUG-1", "Default Title", "9.90", Some(9))]);
    let order = shop.create_order(
        &OrderSpec::new()
            .line(shirts[0].0, 3)
            .line(mugs[0].0, 1)
            .line(shirts[1].0, 1),
    );
    let id = id_of(&order);
    let line = |index: usize| id_of(&order["line_items"][index]);
    let (_host, client) = connector(&shop).await?;

    // Two shirts and the mug in two parcels; the third shirt and the L stay open.
    let two_parcels = shipped(&[(line(0), 2), (line(1), 1)], &["GLS-1", "GLS-2"]);
    client.fulfill(&id.to_string(), &two_parcels).await?;
    let fulfillments = shop.fulfillments(id);
    assert_eq!(fulfillments.len(), 2, "one fulfillment per tracking number");
    assert_eq!(fulfillments[0]["tracking_number"], "GLS-1");
    assert_eq!(fulfillments[1]["tracking_number"], "GLS-2");
    let units = |fulfillment: &Value| -> Vec<(u64, u64)> {
        fulfillment["line_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (id_of(l), l["quantity"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(units(&fulfillments[0]), [(line(0), 2)]);
    assert_eq!(units(&fulfillments[1]), [(line(1), 1)]);
    let after = shop.order(id).unwrap();
    assert_eq!(after["fulfillment_status"], "partial");
    assert_eq!(after["line_items"][0]["fulfillable_quantity"], 1);
    assert_eq!(after["line_items"][2]["fulfillable_quantity"], 1);

    // The same shipment again (a retry): both parcels are recorded, nothing is added.
    client.fulfill(&id.to_string(), &two_parcels).await?;
    assert_eq!(shop.fulfillments(id).len(), 2);

    // The rest, with no lines named: everything still open, in one parcel.
    client
        .fulfill(&id.to_string(), &shipped(&[], &["GLS-3"]))
        .await?;
    let fulfillments = shop.fulfillments(id);
    assert_eq!(fulfillments.len(), 3);
    assert_eq!(units(&fulfillments[2]), [(line(0), 1), (line(2), 1)]);
    assert_eq!(shop.order(id).unwrap()["fulfillment_status"], "fulfilled");

    // A line that is not the order's is the caller's mistake.
    let other = connector_error(
        client
            .fulfill(&id.to_string(), &shipped(&[(1, 1)], &["GLS-4"]))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (other.kind, other.field.as_deref()),
        (ErrorKind::InvalidInput, Some("lines[0].platform-line-id"))
    );
    Ok(())
}

#[tokio::test]
async fn registers_webhooks_once_and_unregisters_them() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    // Someone subscribed `orders/create` to this address already.
    let earlier = shop.add_webhook("orders/create", HOOK_URL);
    // And another app's subscription elsewhere, which stays.
    let elsewhere = shop.add_webhook("orders/create", "https://erp.example/shopify");
    let (_host, client) = connector(&shop).await?;

    let WebhookSetup::Registered(first) = client.register_webhooks(HOOK_URL).await? else {
        panic!("Shopify has an API for webhooks");
    };
    let topics: Vec<&str> = first.iter().map(|w| w.topic.as_str()).collect();
    assert_eq!(topics, ["orders/create", "orders/updated", "orders/delete"]);
    assert_eq!(
        first[0].id,
        id_of(&earlier).to_string(),
        "the existing one is kept"
    );
    let ours = |shop: &FakeShopify| -> Vec<Value> {
        shop.webhooks()
            .into_iter()
            .filter(|w| w["address"] == HOOK_URL)
            .collect()
    };
    assert_eq!(ours(&shop).len(), 3);
    assert!(ours(&shop).iter().all(|w| w["format"] == "json"));

    // Twice: the same subscriptions, no duplicates, no new POST.
    let posts = shop.requests_to("POST", "webhooks.json");
    let WebhookSetup::Registered(second) = client.register_webhooks(HOOK_URL).await? else {
        panic!("registered");
    };
    assert_eq!(second, first);
    assert_eq!(ours(&shop).len(), 3);
    assert_eq!(shop.requests_to("POST", "webhooks.json"), posts);

    // One vanished in the meantime (Shopify drops failing subscriptions): unregistering
    // still succeeds and removes the others.
    assert!(shop.remove_webhook(first[1].id.parse()?));
    client.unregister_webhooks(HOOK_URL, &first).await?;
    assert!(ours(&shop).is_empty());
    assert_eq!(
        shop.webhooks().len(),
        1,
        "another address's subscription stays"
    );
    assert_eq!(shop.webhooks()[0]["id"], elsewhere["id"]);
    // Already gone: still fine.
    client.unregister_webhooks(HOOK_URL, &first).await?;
    let unknown = [RegisteredWebhook {
        id: "12345".into(),
        topic: "orders/create".into(),
    }];
    client.unregister_webhooks(HOOK_URL, &unknown).await?;
    Ok(())
}

#[tokio::test]
async fn checks_the_connection() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (_host, client) = connector_with_state(settings(&shop, None)).await?;
    let info = client.check_connection().await?;
    assert_eq!(
        info.account.as_deref(),
        Some(format!("{SHOP_NAME} ({SHOP_DOMAIN})").as_str())
    );
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!(
        shop.requests_to("GET", "/admin/oauth/access_scopes.json"),
        1
    );

    // The primary location came with the shop: the first push needs no lookup.
    let (_, variants) = shop.add_product("Mug", &[("MUG-1", "Default Title", "9.90", Some(5))]);
    let results = client
        .push_stock(&[level(None, Some(variants[0].0), None, 2)])
        .await?;
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(shop.requests_to("GET", "shop.json"), 1, "the check's only");

    // Scopes missing for some capabilities: warnings naming them.
    let scopes: Vec<&str> = ALL_SCOPES
        .iter()
        .copied()
        .filter(|s| !matches!(*s, "write_inventory" | "read_all_orders"))
        .collect();
    shop.set_scopes(&scopes);
    let info = client.check_connection().await?;
    assert_eq!(info.warnings.len(), 2, "{:?}", info.warnings);
    assert!(info.warnings.iter().any(|w| w.contains("write_inventory")));
    assert!(info.warnings.iter().any(|w| w.contains("read_all_orders")));
    // And a call that needs one is a permission error naming it.
    let refused = connector_error(
        client
            .push_stock(&[level(None, Some(variants[0].0), None, 3)])
            .await
            .unwrap_err(),
    );
    assert_eq!(refused.kind, ErrorKind::Permission);
    assert_eq!(refused.platform_code.as_deref(), Some("write_inventory"));
    // Without read_orders the connector is of no use.
    shop.set_scopes(&["read_products"]);
    let error = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(
        (error.kind, error.field.as_deref()),
        (ErrorKind::Permission, Some("access_token"))
    );
    assert!(error.message.contains("read_orders"), "{}", error.message);

    // A wrong token.
    let mut wrong_token = settings(&shop, None);
    wrong_token.insert("access_token".into(), "shpat_wrong".into());
    let (_host2, client) = connector_with_state(wrong_token).await?;
    let error = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(
        (error.kind, error.field.as_deref()),
        (ErrorKind::Auth, Some("access_token"))
    );

    // A domain that names no shop.
    shop.set_exists(false);
    let (_host3, client) = connector_with_state(settings(&shop, None)).await?;
    let error = connector_error(client.check_connection().await.unwrap_err());
    assert_eq!(
        (error.kind, error.field.as_deref()),
        (ErrorKind::NotFound, Some("shop_domain"))
    );
    assert!(error.message.contains(SHOP_DOMAIN), "{}", error.message);
    Ok(())
}

#[tokio::test]
async fn cancels_closes_and_marks_orders_paid() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (variant, _) = shop
        .add_product("Cap", &[("CAP", "Default Title", "12.00", Some(9))])
        .1[0];
    let (_host, client) = connector(&shop).await?;
    assert_eq!(
        client.supported_status_changes().await?,
        [
            StatusChange::Cancelled,
            StatusChange::Completed,
            StatusChange::Paid
        ]
    );

    let open = id_of(&shop.create_order(&OrderSpec::new().line(variant, 1)));
    client
        .set_order_status(&open.to_string(), StatusChange::Cancelled)
        .await?;
    assert_eq!(
        client.get_order(&open.to_string()).await?.status,
        OrderStatus::Cancelled
    );
    // Again: already so, and no second cancel is sent.
    client
        .set_order_status(&open.to_string(), StatusChange::Cancelled)
        .await?;
    assert_eq!(
        shop.requests_to("POST", &format!("orders/{open}/cancel.json")),
        1
    );

    // A paid, fulfilled order cannot be cancelled: a conflict.
    let shipped_order = id_of(&shop.create_order(&OrderSpec::new().line(variant, 1)));
    client
        .fulfill(&shipped_order.to_string(), &shipped(&[], &["GLS-9"]))
        .await?;
    let error = connector_error(
        client
            .set_order_status(&shipped_order.to_string(), StatusChange::Cancelled)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Conflict, "{error:?}");
    // But it can be completed (closed), once.
    client
        .set_order_status(&shipped_order.to_string(), StatusChange::Completed)
        .await?;
    client
        .set_order_status(&shipped_order.to_string(), StatusChange::Completed)
        .await?;
    assert!(!shop.order(shipped_order).unwrap()["closed_at"].is_null());
    assert_eq!(
        shop.requests_to("POST", &format!("orders/{shipped_order}/close.json")),
        1
    );

    // Cash on delivery collected: a sale from outside Shopify for what is outstanding.
    let cod = shop.create_order(
        &OrderSpec::new()
            .line(variant, 2)
            .gateway("Cash on Delivery (COD)")
            .financial_status("pending"),
    );
    let cod_id = id_of(&cod);
    client
        .set_order_status(&cod_id.to_string(), StatusChange::Paid)
        .await?;
    let sale = shop.transactions(cod_id);
    assert_eq!(sale.len(), 1);
    assert_eq!(
        (&sale[0]["kind"], &sale[0]["source_name"]),
        (&Value::from("sale"), &Value::from("external"))
    );
    assert_eq!(money(&sale[0]["amount"]), money(&cod["total_price"]));
    let paid = client.get_order(&cod_id.to_string()).await?;
    assert_eq!(paid.payment_status, PaymentStatus::Paid);
    client
        .set_order_status(&cod_id.to_string(), StatusChange::Paid)
        .await?;
    assert_eq!(
        shop.transactions(cod_id).len(),
        1,
        "paid already: nothing more"
    );

    // An authorized card payment: captured.
    let authorized = id_of(
        &shop.create_order(
            &OrderSpec::new()
                .line(variant, 1)
                .financial_status("authorized"),
        ),
    );
    client
        .set_order_status(&authorized.to_string(), StatusChange::Paid)
        .await?;
    let transactions = shop.transactions(authorized);
    assert_eq!(transactions.len(), 2);
    assert_eq!(transactions[1]["kind"], "capture");
    assert_eq!(transactions[1]["parent_id"], transactions[0]["id"]);
    assert_eq!(shop.order(authorized).unwrap()["financial_status"], "paid");
    Ok(())
}

#[tokio::test]
async fn lists_refunds_and_maps_them_into_orders() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (_, shirts) = shop.add_product("Organic T-Shirt", &[("TS-M", "M", "20.00", Some(9))]);
    let (_, mugs) = shop.add_product("Mug", &[("MUG-1", "Default Title", "10.00", Some(9))]);
    let order = shop.create_order(
        &OrderSpec::new()
            .line(shirts[0].0, 2)
            .line(mugs[0].0, 1)
            .shipping("Standard", "5.00"),
    );
    let id = id_of(&order);
    let shirt_line = id_of(&order["line_items"][0]);
    let mug_line = id_of(&order["line_items"][1]);
    // One shirt back on the shelf with the shipping; later the mug, kept by the customer.
    shop.refund_lines(id, &[(shirt_line, 1)], true, true, "Wrong size");
    shop.refund_lines(id, &[(mug_line, 1)], false, false, "Chipped");
    let (_host, client) = connector(&shop).await?;

    let refunds = client.list_refunds(&id.to_string()).await?;
    assert_eq!(refunds.len(), 2);
    let returned = &refunds[0];
    assert_eq!(returned.reason.as_deref(), Some("Wrong size"));
    assert!(returned.restock);
    assert_eq!(returned.lines.len(), 1);
    let line = &returned.lines[0];
    assert_eq!(
        line.platform_line_id.as_deref(),
        Some(shirt_line.to_string().as_str())
    );
    assert_eq!(line.sku.as_deref(), Some("TS-M"));
    assert_eq!(line.quantity, Decimal::from(1));
    // 20.00 + 22 % tax; shipping 5.00 + 1.10.
    assert_eq!(line.amount, Decimal::new(2440, 2));
    assert_eq!(returned.shipping, Decimal::new(610, 2));
    assert_eq!(returned.amount, Decimal::new(3050, 2));
    assert!(returned.created_at.is_some());
    let kept = &refunds[1];
    assert!(!kept.restock);
    assert_eq!(kept.shipping, Decimal::ZERO);
    assert_eq!(kept.amount, Decimal::new(1220, 2));

    // The order carries the same refunds, and what is left to deliver.
    let mapped = client.get_order(&id.to_string()).await?;
    assert_eq!(mapped.refunds.len(), 2);
    assert_eq!(mapped.refunds[0].amount, returned.amount);
    assert_eq!(mapped.refunds[1].lines[0].amount, kept.lines[0].amount);
    assert_eq!(mapped.lines[0].quantity, Decimal::from(1));
    assert_eq!(mapped.lines[0].ordered_quantity, Some(Decimal::from(2)));
    tovor_harness::assert_importable(&mapped);
    Ok(())
}

#[tokio::test]
async fn an_edited_order_delivers_its_current_quantities() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (_, shirts) = shop.add_product(
        "Organic T-Shirt",
        &[
            ("TS-M", "M", "19.90", Some(9)),
            ("TS-L", "L", "21.90", Some(9)),
        ],
    );
    let order = shop.create_order(
        &OrderSpec::new()
            .line(shirts[0].0, 3)
            .line(shirts[1].0, 1)
            .discount_code("TEN", 10)
            .shipping("Standard", "4.90")
            .taxes_included(true)
            .financial_status("pending")
            .gateway("manual"),
    );
    let id = id_of(&order);
    let medium = id_of(&order["line_items"][0]);
    let large = id_of(&order["line_items"][1]);
    shop.remove_units(id, medium, 1);
    let edited = shop.remove_units(id, large, 1);
    let (_host, client) = connector(&shop).await?;

    let mapped = client.get_order(&id.to_string()).await?;
    let lines = &mapped.lines;
    assert_eq!(lines.len(), 2, "a line with nothing left stays");
    assert_eq!(
        (lines[0].quantity, lines[0].ordered_quantity),
        (Decimal::from(2), Some(Decimal::from(3)))
    );
    assert_eq!(
        (lines[1].quantity, lines[1].ordered_quantity),
        (Decimal::ZERO, Some(Decimal::from(1)))
    );
    assert_eq!(lines[1].total, Decimal::ZERO);
    assert_eq!(mapped.total, money(&edited["current_total_price"]));
    assert_eq!(mapped.tax_total, money(&edited["current_total_tax"]));
    assert!(mapped.total < money(&order["total_price"]));
    tovor_harness::assert_importable(&mapped);

    // Fulfilling "everything" ships what is left: two shirts.
    client
        .fulfill(&id.to_string(), &shipped(&[], &["GLS-E"]))
        .await?;
    let fulfillment = &shop.fulfillments(id)[0];
    assert_eq!(fulfillment["line_items"].as_array().unwrap().len(), 1);
    assert_eq!(fulfillment["line_items"][0]["quantity"], 2);
    Ok(())
}

#[tokio::test]
async fn throttling_and_outages_are_retryable() -> anyhow::Result<()> {
    let shop = FakeShopify::start_seeded().await?;
    let (_host, client) = connector(&shop).await?;

    shop.throttle_next(1, Some("2.0"));
    let error = client
        .list_orders(datetime!(2020-01-01 0:00 UTC), None)
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));

    shop.throttle_next(1, None);
    let limit = connector_error(
        client
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (limit.kind, limit.retry_after),
        (ErrorKind::RateLimited, Some(Duration::from_millis(2000)))
    );

    shop.set_down(true);
    let error = connector_error(client.list_products(None).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::Transient);
    shop.set_down(false);
    assert!(client.list_products(None).await.is_ok());

    // A nearly full bucket stops a long push before Shopify refuses anything.
    let (_, variants) = shop.add_product(
        "Stickers",
        &[
            ("ST-1", "Red", "1.00", Some(1)),
            ("ST-2", "Blue", "1.00", Some(1)),
        ],
    );
    shop.set_bucket(4, 0.01);
    let levels: Vec<StockLevel> = (0..6)
        .map(|n| {
            let key = format!("gid://shopify/InventoryItem/{}", variants[n % 2].1);
            level(Some(key), None, None, n as i64)
        })
        .collect();
    let limit = connector_error(client.push_stock(&levels).await.unwrap_err());
    assert_eq!(limit.kind, ErrorKind::RateLimited);
    assert!(limit.retry_after.unwrap_or_default() >= Duration::from_millis(1000));
    assert_eq!(
        shop.requests_to("POST", "inventory_levels/set.json"),
        2,
        "stopped at 2/4, before Shopify would refuse"
    );
    Ok(())
}

#[tokio::test]
async fn a_wrong_token_is_an_auth_error() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let mut config = settings(&shop, Some(LOCATION_ID));
    config.insert("access_token".into(), "shpat_wrong".into());
    let client = host.shop(plugin.id(), config)?;
    let error = connector_error(
        client
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind, ErrorKind::Auth);
    assert!(error.message.contains("Invalid API key"), "{error}");
    Ok(())
}
