//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake WooCommerce
//! (`tovor-fakes`) on 127.0.0.1 over plain HTTP, so every request is OAuth 1.0a-signed
//! and checked by the fake as WooCommerce checks it.
//!
//! Run with `cargo test --workspace --features tovor/demo --test harness -- woo`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tovor_fakes::woocommerce::{
    CONSUMER_KEY, CONSUMER_SECRET, Delivery, FakeWoo, OrderSpec, RefundSpec, SITE_NAME,
    WEBHOOK_SECRET, WebhookAction,
};
use tovor_harness::connector_error;
use tovor_harness::model::{Fulfillment, OrderStatus, PaymentStatus, RegisteredWebhook};
use tovor_harness::model::{StatusChange, StockLevel, StockTarget, WebhookEvent};
use tovor_harness::model::{WebhookRequest, WebhookSetup};
use tovor_harness::{Decimal, ErrorKind, datetime};
use tovor_harness::{ShopClient, TestHost};

/// Where the host would have WooCommerce deliver this shop's orders.
const HOOK_URL: &str = "https://tovor.example/hooks/woocommerce/7f3a9c";

async fn connector(fake: &FakeWoo) -> anyhow::Result<(TestHost, ShopClient)> {
    connector_with(fake, &[]).await
}

async fn connector_with(
    fake: &FakeWoo,
    extra: &[(&str, String)],
) -> anyhow::Result<(TestHost, ShopClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let mut config = vec![
        ("url", fake.url()),
        ("consumer_key", CONSUMER_KEY.to_owned()),
        ("consumer_secret", CONSUMER_SECRET.to_owned()),
        ("webhook_secret", WEBHOOK_SECRET.to_owned()),
    ];
    for (name, value) in extra {
        config.retain(|(existing, _)| existing != name);
        config.push((name, value.clone()));
    }
    let shop = host.shop(plugin.id(), config)?;
    Ok((host, shop))
}

fn webhook(delivery: &Delivery) -> WebhookRequest {
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

/// A level for an item linked through the catalog: the stock key it handed out.
fn level(stock_key: &str, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: None,
            product_id: stock_key.split(':').next().unwrap_or_default().to_owned(),
            variant_id: stock_key.split_once(':').map(|(_, v)| v.to_owned()),
            stock_key: Some(stock_key.to_owned()),
        },
        quantity: Decimal::from(quantity),
    }
}

fn id_of(order: &serde_json::Value) -> u64 {
    order["id"].as_u64().unwrap()
}

#[tokio::test]
async fn woo_lists_orders_across_pages_with_signed_requests() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let cap = fake.add_simple_product("CAP", "Cap", "12.90", None);
    let mut ids = Vec::new();
    for _ in 0..150 {
        ids.push(id_of(
            &fake.create_order(&OrderSpec::new().line(cap, None, 1)),
        ));
    }
    let (_host, shop) = connector(&fake).await?;

    let first = shop
        .list_orders(datetime!(2020-01-01 0:00 UTC), None)
        .await?;
    assert_eq!(first.orders.len(), 100);
    assert_eq!(first.next_cursor.as_deref(), Some("2"));
    let second = shop
        .list_orders(datetime!(2020-01-01 0:00 UTC), first.next_cursor.as_deref())
        .await?;
    assert_eq!(second.orders.len(), 50);
    assert_eq!(second.next_cursor, None);
    let listed: Vec<String> = first
        .orders
        .iter()
        .chain(&second.orders)
        .map(|o| o.id.clone())
        .collect();
    let expected: Vec<String> = ids.iter().map(u64::to_string).collect();
    assert_eq!(listed, expected, "oldest first, no gaps, no repeats");
    for listed in first.orders.iter().chain(&second.orders) {
        assert_eq!(listed.order.as_ref().map(|order| &order.id), Ok(&listed.id));
    }

    // Nothing changed after now.
    let later = shop
        .list_orders(datetime!(2999-01-01 0:00 UTC), None)
        .await?;
    assert!(later.orders.is_empty() && later.next_cursor.is_none());

    let requests = fake.requests();
    let first_request = &requests[0];
    assert!(
        first_request.starts_with("GET /wp-json/wc/v3/orders?"),
        "{first_request}"
    );
    for part in [
        "modified_after=2019-12-31T23%3A59%3A59",
        "dates_are_gmt=true",
        "orderby=date",
        "order=asc",
        "per_page=100",
        "page=1",
        "status=any",
        "oauth_signature_method=HMAC-SHA256",
        "oauth_signature=",
    ] {
        assert!(
            first_request.contains(part),
            "{part} missing in {first_request}"
        );
    }
    assert!(
        !requests.iter().any(|r| r.contains("/refunds")),
        "orders without refunds cost no extra request"
    );
    Ok(())
}

#[tokio::test]
async fn woo_gets_one_order_and_reports_missing_ones() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;
    let product = fake.add_simple_product("BOOK-2", "Book", "24.90", Some(3));
    let created = fake.create_order(
        &OrderSpec::new()
            .customer(Some(42))
            .line(product, None, 2)
            .coupon("POLETJE10")
            .shipping("GLS", "4.05"),
    );
    let id = id_of(&created).to_string();

    let order = shop.get_order(&id).await?;
    assert_eq!(order.id, id);
    assert_eq!(
        order.total,
        created["total"].as_str().unwrap().parse::<Decimal>()?
    );
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert_eq!(order.coupons, ["poletje10"]);
    assert_eq!(order.customer.unwrap().platform_id.as_deref(), Some("42"));
    assert_eq!(order.lines[0].tax_rate, Some(Decimal::from(22)));
    assert_eq!(order.lines[0].ordered_quantity, None);

    let missing = connector_error(shop.get_order("999999").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
    assert_eq!(
        missing.platform_code.as_deref(),
        Some("woocommerce_rest_shop_order_invalid_id")
    );
    Ok(())
}

#[tokio::test]
async fn woo_verifies_deliveries_pings_and_forgeries() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;
    let mug = fake.add_simple_product("MUG-X", "Mug", "9.99", None);
    let id = id_of(&fake.create_order(&OrderSpec::new().line(mug, None, 1)));

    let delivery = fake.delivery("order.updated", id);
    let verified = shop.verify_webhook(&webhook(&delivery)).await?;
    assert_eq!(verified.topic.as_deref(), Some("order.updated"));
    assert_eq!(
        verified.delivery_id.as_deref(),
        delivery.header("X-WC-Webhook-Delivery-ID")
    );
    match verified.event {
        WebhookEvent::OrderChanged(hint) => {
            assert_eq!(hint.id, id.to_string());
            assert_eq!(hint.order.unwrap()?.lines[0].sku.as_deref(), Some("MUG-X"));
        }
        other => panic!("expected order-changed, got {other:?}"),
    }

    // A refunded order's payload lacks the refund lines: the host is told to fetch it.
    fake.refund_order(id, "2.00", "Chipped");
    let refunded = shop
        .verify_webhook(&webhook(&fake.delivery("order.updated", id)))
        .await?;
    assert!(
        matches!(refunded.event, WebhookEvent::OrderChanged(ref hint) if hint.order.is_none()),
        "{refunded:?}"
    );

    let deleted = shop
        .verify_webhook(&webhook(&fake.delivery("order.deleted", id)))
        .await?;
    assert!(
        matches!(deleted.event, WebhookEvent::OrderDeleted(ref deleted) if *deleted == id.to_string())
    );

    let ping = shop.verify_webhook(&webhook(&fake.ping(3))).await?;
    assert!(matches!(ping.event, WebhookEvent::Ping(None)));

    let mut forged = webhook(&delivery);
    forged.body = String::from_utf8(forged.body)
        .unwrap()
        .replace("\"total\":", "\"total\": ")
        .into_bytes();
    let error = connector_error(shop.verify_webhook(&forged).await.unwrap_err());
    assert_eq!(error.kind, ErrorKind::BadSignature, "{error:?}");
    Ok(())
}

#[tokio::test]
async fn woo_pushes_stock_to_products_and_variations() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let cap = fake.add_simple_product("CAP", "Cap", "12.90", Some(5));
    let poster = fake.add_simple_product("POSTER", "Poster", "7.50", None);
    let (shirt, sizes) = fake.add_variable_product(
        "T-shirt",
        &[
            ("TS-S", "S", "15.00", Some(1)),
            ("TS-M", "M", "15.00", Some(2)),
        ],
    );
    let (_host, shop) = connector(&fake).await?;
    assert_eq!(shop.stock_batch().await?, 100);

    // A product linked by hand, without a stock key: the host names the product.
    let by_hand = StockLevel {
        target: StockTarget {
            sku: Some("POSTER".into()),
            product_id: poster.to_string(),
            variant_id: None,
            stock_key: None,
        },
        quantity: Decimal::from(3),
    };
    let results = shop
        .push_stock(&[
            level(&cap.to_string(), 40),
            level(&format!("{shirt}:{}", sizes[1]), 7),
            by_hand,
            level("999999", 1),
            level(&format!("{shirt}:{}", sizes[0]), 0),
            level("888888:1", 4),
            level("TS-M", 4),
        ])
        .await?;
    assert_eq!(results.len(), 7);
    for ok in [0, 1, 2, 4] {
        assert!(results[ok].is_ok(), "{ok}: {results:?}");
    }
    for missing in [3, 5] {
        assert!(
            matches!(&results[missing], Err(e) if e.kind == ErrorKind::NotFound),
            "{missing}: {results:?}"
        );
    }
    assert!(
        matches!(&results[6], Err(e) if e.kind == ErrorKind::InvalidInput && e.field.as_deref() == Some("key")),
        "{results:?}"
    );
    assert_eq!(fake.stock(cap, None), Some(40));
    assert_eq!(fake.stock(shirt, Some(sizes[1])), Some(7));
    assert_eq!(fake.stock(shirt, Some(sizes[0])), Some(0));
    assert_eq!(
        fake.stock(poster, None),
        Some(3),
        "stock management switched on"
    );
    let requests = fake.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("POST /wp-json/wc/v3/products/batch?"))
    );
    assert!(requests.iter().any(|r| r.starts_with(&format!(
        "POST /wp-json/wc/v3/products/{shirt}/variations/batch?"
    ))));

    // A fraction is refused for that item alone.
    let results = shop
        .push_stock(&[StockLevel {
            quantity: Decimal::new(15, 1),
            ..level(&cap.to_string(), 0)
        }])
        .await?;
    assert!(
        matches!(&results[0], Err(e) if e.field.as_deref() == Some("quantity")),
        "{results:?}"
    );
    // 100 levels (the batch size) go out in one batch request, after one look-up that
    // tells products from variations.
    let before = fake.requests().len();
    let many: Vec<StockLevel> = (0..100).map(|i| level(&cap.to_string(), i)).collect();
    let results = shop.push_stock(&many).await?;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(fake.stock(cap, None), Some(99));
    let sent = &fake.requests()[before..];
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].starts_with("GET /wp-json/wc/v3/products?include="));

    // A variation linked by its id alone (from an order line): found, and set through
    // its parent, never through /products/{id}.
    let results = shop
        .push_stock(&[StockLevel {
            target: StockTarget {
                sku: Some("TS-S".into()),
                product_id: shirt.to_string(),
                variant_id: Some(sizes[0].to_string()),
                stock_key: None,
            },
            quantity: Decimal::from(9),
        }])
        .await?;
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(fake.stock(shirt, Some(sizes[0])), Some(9));
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.starts_with(&format!("PUT /wp-json/wc/v3/products/{}", sizes[0])))
    );
    Ok(())
}

#[tokio::test]
async fn woo_lists_products_with_variations_and_stock_keys() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;
    let page = shop.list_products(None).await?;
    assert_eq!(page.next_cursor, None);
    let medium = page
        .entries
        .iter()
        .find(|product| product.sku.as_deref() == Some("TS-M"))
        .expect("the T-shirt in M");
    assert_eq!(medium.name, "T-shirt — M");
    assert!(medium.manages_stock);
    let product_id: u64 = medium.product_id.parse()?;
    let variation_id: u64 = medium.variant_id.as_deref().unwrap().parse()?;
    assert_eq!(
        medium.stock_key.as_deref(),
        Some(format!("{product_id}:{variation_id}").as_str())
    );
    assert_eq!(
        medium.stock,
        fake.stock(product_id, Some(variation_id))
            .map(Decimal::from)
    );
    let cap = page
        .entries
        .iter()
        .find(|product| product.sku.as_deref() == Some("CAP-01"))
        .expect("the cap");
    assert_eq!(cap.variant_id, None);
    assert_eq!(cap.stock_key.as_deref(), Some(cap.product_id.as_str()));
    assert_eq!(cap.price, Some(Decimal::new(1290, 2)));
    let green = page
        .entries
        .iter()
        .find(|p| p.sku.as_deref() == Some("MUG-GRN"))
        .unwrap();
    assert!(!green.manages_stock && green.stock.is_none());
    // 4 simple products and 6 variations; the variable parents are not sold themselves.
    assert_eq!(page.entries.len(), 10, "{:?}", page.entries);

    // The keys the catalog handed out set stock where it belongs.
    let results = shop
        .push_stock(&[
            level(medium.stock_key.as_deref().unwrap(), 12),
            level(cap.stock_key.as_deref().unwrap(), 3),
        ])
        .await?;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.stock(product_id, Some(variation_id)), Some(12));
    assert_eq!(fake.stock(cap.product_id.parse()?, None), Some(3));
    Ok(())
}

#[tokio::test]
async fn woo_fulfils_with_two_parcels_once() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;
    let cap = fake.add_simple_product("CAP-Z", "Cap", "12.90", None);
    let id = id_of(&fake.create_order(&OrderSpec::new().line(cap, None, 3)));
    let shipped = Fulfillment {
        lines: Vec::new(),
        carrier: "GLS".into(),
        parcels: vec![
            (
                "GLS-0042".into(),
                Some("https://gls-group.example/track/GLS-0042".into()),
            ),
            ("GLS-0043".into(), None),
        ],
        notify_customer: true,
    };
    shop.fulfill(&id.to_string(), &shipped).await?;
    // A retry must not repeat the customer's note.
    shop.fulfill(&id.to_string(), &shipped).await?;

    let order = fake.order(id).unwrap();
    assert_eq!(order["status"], "completed");
    assert!(order["date_completed_gmt"].is_string());
    let notes = fake.notes(id);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["customer_note"], true);
    let text = notes[0]["note"].as_str().unwrap();
    for part in [
        "GLS",
        "2 parcels",
        "GLS-0042 (https://gls-group.example/track/GLS-0042)",
        "GLS-0043",
    ] {
        assert!(text.contains(part), "{part} missing in {text}");
    }

    // A shipment naming its lines names them in a private note when the customer is
    // not to be told.
    let other = fake.create_order(&OrderSpec::new().line(cap, None, 2));
    let line = other["line_items"][0]["id"].as_u64().unwrap().to_string();
    let partial = Fulfillment {
        lines: vec![(line, Decimal::from(1))],
        parcels: vec![("GLS-0050".into(), None)],
        notify_customer: false,
        ..shipped.clone()
    };
    shop.fulfill(&id_of(&other).to_string(), &partial).await?;
    let notes = fake.notes(id_of(&other));
    assert_eq!(notes[0]["customer_note"], false);
    assert!(
        notes[0]["note"]
            .as_str()
            .unwrap()
            .ends_with("In this shipment: 1 × Cap."),
        "{notes:?}"
    );
    let unknown_line = Fulfillment {
        lines: vec![("424242".into(), Decimal::from(1))],
        ..partial.clone()
    };
    let refused = connector_error(
        shop.fulfill(&id_of(&other).to_string(), &unknown_line)
            .await
            .unwrap_err(),
    );
    assert_eq!(refused.kind, ErrorKind::InvalidInput, "{refused:?}");

    let missing = connector_error(shop.fulfill("999999", &shipped).await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
    Ok(())
}

#[tokio::test]
async fn woo_registers_webhooks_once() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    // Someone else's webhook on the same topic stays as it is.
    let foreign = fake.add_webhook("order.created", "https://erp.example/woo");
    let (_host, shop) = connector(&fake).await?;

    let WebhookSetup::Registered(first) = shop.register_webhooks(HOOK_URL).await? else {
        panic!("WooCommerce has a webhooks API");
    };
    let topics: Vec<&str> = first.iter().map(|w| w.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "order.created",
            "order.updated",
            "order.deleted",
            "order.restored"
        ]
    );
    let ours: Vec<serde_json::Value> = fake
        .webhooks()
        .into_iter()
        .filter(|w| w["delivery_url"] == HOOK_URL)
        .collect();
    assert_eq!(ours.len(), 4);
    for webhook in &ours {
        assert_eq!(webhook["status"], "active");
        assert_eq!(webhook["secret"], WEBHOOK_SECRET, "signed with our secret");
        let id = webhook["id"].as_u64().unwrap();
        assert!(first.iter().any(|r| r.id.parse::<u64>().ok() == Some(id)));
    }
    let log = fake.webhook_log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log.iter().all(|c| c.action == WebhookAction::Created));

    // WooCommerce disabled one after failed deliveries; registering again revives it
    // and subscribes nothing twice.
    let updated_id: u64 = first[1].id.parse()?;
    fake.set_webhook_status(updated_id, "disabled");
    let WebhookSetup::Registered(second) = shop.register_webhooks(HOOK_URL).await? else {
        panic!("registered");
    };
    assert_eq!(second, first, "the same webhooks");
    assert_eq!(fake.webhooks().len(), 5, "4 of ours and the foreign one");
    assert!(
        fake.webhook_log()[4..]
            .iter()
            .all(|c| c.action == WebhookAction::Updated),
        "{:?}",
        fake.webhook_log()
    );
    let revived = fake
        .webhooks()
        .into_iter()
        .find(|w| w["id"] == updated_id)
        .unwrap();
    assert_eq!(revived["status"], "active");
    assert!(fake.webhooks().iter().any(|w| w["id"] == foreign));
    Ok(())
}

#[tokio::test]
async fn woo_unregisters_webhooks_even_when_already_deleted() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let foreign = fake.add_webhook("order.updated", "https://erp.example/woo");
    let (_host, shop) = connector(&fake).await?;
    let WebhookSetup::Registered(registered) = shop.register_webhooks(HOOK_URL).await? else {
        panic!("registered");
    };
    // The shop owner deleted one by hand, and added another for our URL.
    let gone: u64 = registered[0].id.parse()?;
    assert!(fake.remove_webhook(gone));
    let extra = fake.add_webhook("product.updated", HOOK_URL);

    shop.unregister_webhooks(HOOK_URL, &registered).await?;
    let left: Vec<u64> = fake
        .webhooks()
        .iter()
        .map(|w| w["id"].as_u64().unwrap())
        .collect();
    assert_eq!(left, [foreign], "ours are gone, the foreign one stays");
    let deleted: Vec<u64> = fake
        .webhook_log()
        .iter()
        .filter(|c| c.action == WebhookAction::Deleted)
        .map(|c| c.id)
        .collect();
    assert_eq!(
        deleted.len(),
        4,
        "three registered and the extra: {deleted:?}"
    );
    assert!(deleted.contains(&extra));
    assert!(
        fake.requests()
            .iter()
            .filter(|r| r.starts_with("DELETE "))
            .all(|r| r.contains("force=true")),
        "webhooks cannot be trashed"
    );

    // Again, with everything gone: still fine.
    shop.unregister_webhooks(HOOK_URL, &registered).await?;
    // Ids that are not WooCommerce's are skipped, not sent.
    shop.unregister_webhooks(
        HOOK_URL,
        &[RegisteredWebhook {
            id: "not-a-number".into(),
            topic: "order.created".into(),
        }],
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn woo_checks_the_connection() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let (_host, shop) = connector(&fake).await?;
    let info = shop.check_connection().await?;
    assert_eq!(info.account.as_deref(), Some(SITE_NAME));
    assert!(
        info.warnings.is_empty(),
        "plain HTTP on 127.0.0.1 is fine: {info:?}"
    );

    let (_host, wrong_key) = connector_with(&fake, &[("consumer_key", "ck_nope".into())]).await?;
    let refused = connector_error(wrong_key.check_connection().await.unwrap_err());
    assert_eq!(refused.kind, ErrorKind::Auth, "{refused:?}");
    assert_eq!(refused.field.as_deref(), Some("consumer_key"));
    assert!(
        refused.message.contains("Consumer key is invalid."),
        "{refused:?}"
    );

    let (_host, wrong_secret) =
        connector_with(&fake, &[("consumer_secret", "cs_nope".into())]).await?;
    let refused = connector_error(wrong_secret.check_connection().await.unwrap_err());
    assert_eq!(
        (refused.kind, refused.field.as_deref()),
        (ErrorKind::Auth, Some("consumer_secret")),
        "{refused:?}"
    );

    let (_host, wrong_url) =
        connector_with(&fake, &[("url", format!("{}/shop", fake.url()))]).await?;
    let nowhere = connector_error(wrong_url.check_connection().await.unwrap_err());
    assert_eq!(nowhere.kind, ErrorKind::NotFound, "{nowhere:?}");
    assert_eq!(nowhere.field.as_deref(), Some("url"));
    assert!(nowhere.message.contains("permalinks"), "{nowhere:?}");

    fake.set_key_forbidden(true);
    let forbidden = connector_error(shop.check_connection().await.unwrap_err());
    assert_eq!(forbidden.kind, ErrorKind::Permission, "{forbidden:?}");
    assert!(forbidden.message.contains("Read/Write"), "{forbidden:?}");
    Ok(())
}

#[tokio::test]
async fn woo_lists_refunds_with_lines_shipping_and_restock() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let cap = fake.add_simple_product("CAP-R", "Cap", "10.00", Some(10));
    let poster = fake.add_simple_product("POSTER-R", "Poster", "5.00", None);
    let order = fake.create_order(
        &OrderSpec::new()
            .line(cap, None, 3)
            .line(poster, None, 2)
            .shipping("GLS", "4.00"),
    );
    let id = id_of(&order);
    let cap_line = order["line_items"][0]["id"].as_u64().unwrap();
    let poster_line = order["line_items"][1]["id"].as_u64().unwrap();
    assert_eq!(fake.stock(cap, None), Some(7));
    fake.refund_lines(
        id,
        &RefundSpec::new("Wrong colour")
            .line(cap_line, 1)
            .shipping()
            .restock(true),
    );
    fake.refund_lines(id, &RefundSpec::new("").line(poster_line, 1));
    fake.refund_order(id, "1.50", "Goodwill");
    assert_eq!(fake.stock(cap, None), Some(8), "restocked");
    let (_host, shop) = connector(&fake).await?;

    let refunds = shop.list_refunds(&id.to_string()).await?;
    assert_eq!(refunds.len(), 3, "{refunds:?}");
    let (goodwill, poster_refund, colour) = (&refunds[0], &refunds[1], &refunds[2]);
    // 1 cap: 10.00 + 22 % = 12.20; shipping 4.00 + 0.88.
    assert_eq!(colour.amount, Decimal::new(1708, 2));
    assert_eq!(colour.reason.as_deref(), Some("Wrong colour"));
    assert!(colour.created_at.is_some());
    assert_eq!(colour.lines.len(), 1);
    let line = &colour.lines[0];
    assert_eq!(line.platform_line_id, Some(cap_line.to_string()));
    assert_eq!(line.sku.as_deref(), Some("CAP-R"));
    assert_eq!(
        (line.quantity, line.amount),
        (Decimal::from(1), Decimal::new(1220, 2))
    );
    assert_eq!(colour.shipping, Decimal::new(488, 2));
    assert!(colour.restock);
    assert_eq!(poster_refund.reason, None);
    assert!(
        !poster_refund.restock,
        "a product without stock management is not restocked"
    );
    assert_eq!(poster_refund.lines[0].quantity, Decimal::from(1));
    assert!(goodwill.lines.is_empty() && !goodwill.restock);
    assert_eq!(goodwill.amount, Decimal::new(150, 2));

    // An order without refunds has none; one that does not exist neither (core lists
    // refunds by parent) but the order itself is not found.
    let plain = fake.create_order(&OrderSpec::new().line(cap, None, 1));
    assert!(
        shop.list_refunds(&id_of(&plain).to_string())
            .await?
            .is_empty()
    );
    let missing = connector_error(shop.list_refunds("999999").await.unwrap_err());
    assert_eq!(missing.kind, ErrorKind::NotFound);
    Ok(())
}

#[tokio::test]
async fn woo_an_order_with_a_refunded_line_has_less_to_deliver() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let cap = fake.add_simple_product("CAP-Q", "Cap", "10.00", Some(10));
    let mug = fake.add_simple_product("MUG-Q", "Mug", "8.00", Some(10));
    let order = fake.create_order(&OrderSpec::new().line(cap, None, 3).line(mug, None, 1));
    let id = id_of(&order);
    let cap_line = order["line_items"][0]["id"].as_u64().unwrap();
    let mug_line = order["line_items"][1]["id"].as_u64().unwrap();
    fake.refund_lines(
        id,
        &RefundSpec::new("Out of stock")
            .line(cap_line, 2)
            .restock(true),
    );
    fake.refund_lines(id, &RefundSpec::new("Broken").line(mug_line, 1));
    let (_host, shop) = connector(&fake).await?;

    let check = |order: &tovor_harness::model::NormalizedOrder| {
        let cap = &order.lines[0];
        assert_eq!(
            cap.quantity,
            Decimal::from(1),
            "three ordered, two refunded"
        );
        assert_eq!(cap.ordered_quantity, Some(Decimal::from(3)));
        assert_eq!(
            cap.total,
            Decimal::new(1000, 2),
            "the line as it stands now"
        );
        assert_eq!(cap.unit_price, Decimal::new(1000, 2));
        let mug = &order.lines[1];
        assert_eq!(mug.quantity, Decimal::ZERO, "nothing left to deliver");
        assert_eq!(mug.ordered_quantity, Some(Decimal::from(1)));
        assert_eq!(mug.total, Decimal::ZERO);
        // The order's total follows its lines; what was refunded travels beside it.
        let lines: Decimal = order.lines.iter().map(|l| l.total + l.tax_amount).sum();
        let charges: Decimal = order
            .shipping_lines
            .iter()
            .chain(&order.fees)
            .map(|c| c.amount + c.tax_amount)
            .sum();
        assert_eq!(order.total, lines + charges);
        assert_eq!(order.refunds.len(), 2);
        assert_eq!(order.payment_status, PaymentStatus::PartiallyRefunded);
        let out_of_stock = order
            .refunds
            .iter()
            .find(|r| r.reason.as_deref() == Some("Out of stock"))
            .unwrap();
        assert!(out_of_stock.restock);
        assert_eq!(out_of_stock.lines[0].quantity, Decimal::from(2));
    };
    check(&shop.get_order(&id.to_string()).await?);
    let page = shop
        .list_orders(datetime!(2020-01-01 0:00 UTC), None)
        .await?;
    let listed = page
        .orders
        .into_iter()
        .find(|o| o.id == id.to_string())
        .unwrap();
    check(&listed.order?);
    Ok(())
}

#[tokio::test]
async fn woo_lists_enabled_payment_methods() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    fake.set_payment_gateway("cheque", "Pay by cheque", true);
    fake.set_payment_gateway("cod", "Cash on delivery", false);
    let (_host, shop) = connector(&fake).await?;
    let methods = shop.list_payment_methods().await?;
    let listed: Vec<(&str, &str)> = methods
        .iter()
        .map(|m| (m.code.as_str(), m.title.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("bacs", "Direct bank transfer"),
            ("cheque", "Pay by cheque"),
            ("stripe", "Credit card (Stripe)"),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn woo_cancels_completes_and_marks_paid() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let cap = fake.add_simple_product("CAP-S", "Cap", "10.00", Some(10));
    let (_host, shop) = connector(&fake).await?;
    let mut supported = shop.supported_status_changes().await?;
    supported.sort_by_key(|change| format!("{change:?}"));
    assert_eq!(
        supported,
        [
            StatusChange::Cancelled,
            StatusChange::Completed,
            StatusChange::Paid
        ]
    );

    // Cancelling a processing order gives its stock back, as WooCommerce does.
    let cancelled = id_of(&fake.create_order(&OrderSpec::new().line(cap, None, 2)));
    assert_eq!(fake.stock(cap, None), Some(8));
    shop.set_order_status(&cancelled.to_string(), StatusChange::Cancelled)
        .await?;
    assert_eq!(fake.order(cancelled).unwrap()["status"], "cancelled");
    assert_eq!(fake.stock(cap, None), Some(10));
    // It was paid before it was cancelled: marking it paid has nothing to do.
    shop.set_order_status(&cancelled.to_string(), StatusChange::Paid)
        .await?;
    // One cancelled before payment takes none.
    let unpaid = id_of(
        &fake.create_order(
            &OrderSpec::new()
                .line(cap, None, 1)
                .status("cancelled")
                .paid(false),
        ),
    );
    let paid_refused = connector_error(
        shop.set_order_status(&unpaid.to_string(), StatusChange::Paid)
            .await
            .unwrap_err(),
    );
    assert_eq!(paid_refused.kind, ErrorKind::Conflict, "{paid_refused:?}");

    let completed = id_of(&fake.create_order(&OrderSpec::new().line(cap, None, 1)));
    shop.set_order_status(&completed.to_string(), StatusChange::Completed)
        .await?;
    assert_eq!(fake.order(completed).unwrap()["status"], "completed");

    // A pending order: `set_paid` completes the payment.
    let pending = id_of(
        &fake.create_order(
            &OrderSpec::new()
                .line(cap, None, 1)
                .status("pending")
                .payment("bacs", "Direct bank transfer"),
        ),
    );
    shop.set_order_status(&pending.to_string(), StatusChange::Paid)
        .await?;
    let paid = fake.order(pending).unwrap();
    assert_eq!(paid["status"], "processing");
    assert!(paid["date_paid_gmt"].is_string());
    let puts: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with(&format!("PUT /wp-json/wc/v3/orders/{pending}")))
        .collect();
    assert_eq!(puts.len(), 1);

    // An on-hold bank transfer: paid by moving it on. Paid twice: nothing more to do.
    let on_hold = id_of(
        &fake.create_order(
            &OrderSpec::new()
                .line(cap, None, 1)
                .status("on-hold")
                .paid(false),
        ),
    );
    shop.set_order_status(&on_hold.to_string(), StatusChange::Paid)
        .await?;
    assert!(fake.order(on_hold).unwrap()["date_paid_gmt"].is_string());
    shop.set_order_status(&on_hold.to_string(), StatusChange::Paid)
        .await?;
    let order = shop.get_order(&on_hold.to_string()).await?;
    assert_eq!(order.payment_status, PaymentStatus::Paid);

    let missing = connector_error(
        shop.set_order_status("999999", StatusChange::Completed)
            .await
            .unwrap_err(),
    );
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
    Ok(())
}

#[tokio::test]
async fn woo_rate_limits_outages_and_bad_keys_are_typed() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;

    fake.rate_limit_next(1, Some(7));
    let limited = shop
        .list_orders(datetime!(2020-01-01 0:00 UTC), None)
        .await
        .unwrap_err();
    assert!(limited.is_retryable(), "{limited:?}");
    assert_eq!(
        limited.retry_after(),
        Some(std::time::Duration::from_secs(7))
    );
    assert_eq!(connector_error(limited).kind, ErrorKind::RateLimited);

    fake.set_down(true);
    let down = connector_error(shop.get_order("10").await.unwrap_err());
    assert_eq!(down.kind, ErrorKind::Transient, "{down:?}");
    let pushed = shop.push_stock(&[level("10", 1)]).await.unwrap_err();
    assert!(
        pushed.is_retryable(),
        "a whole-batch failure fails the call: {pushed:?}"
    );
    fake.set_down(false);
    assert!(
        !shop
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await?
            .orders
            .is_empty()
    );

    let (_host2, wrong) = connector_with(&fake, &[("consumer_secret", "cs_wrong".into())]).await?;
    let refused = connector_error(
        wrong
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(refused.kind, ErrorKind::Auth);
    assert!(
        refused
            .message
            .contains("Invalid signature - provided signature does not match."),
        "{refused:?}"
    );
    Ok(())
}

/// `api_base` replaces the site URL (and is allowed by the host without declaring it).
#[tokio::test]
async fn woo_api_base_replaces_the_site_url() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector_with(
        &fake,
        &[
            ("url", "https://shop.example".into()),
            ("api_base", fake.url()),
        ],
    )
    .await?;
    let page = shop
        .list_orders(datetime!(2020-01-01 0:00 UTC), None)
        .await?;
    assert!(page.orders.len() >= 9);
    let orders = page
        .orders
        .into_iter()
        .map(|listed| listed.order)
        .collect::<Result<Vec<_>, _>>()?;
    assert!(orders.iter().any(|order| order.currency == "USD"));
    assert!(
        orders
            .iter()
            .any(|order| order.payment_status == PaymentStatus::Refunded)
    );
    let partial = orders
        .iter()
        .find(|order| order.payment_status == PaymentStatus::PartiallyRefunded)
        .expect("the partially refunded order");
    assert_eq!(partial.refunds[0].reason.as_deref(), Some("Print faded"));
    assert!(
        partial.refunds[0].created_at.is_some(),
        "read from the refund"
    );
    assert!(
        orders
            .iter()
            .any(|order| order.status == OrderStatus::Cancelled)
    );
    assert_eq!(
        shop.check_connection().await?.account.as_deref(),
        Some(SITE_NAME)
    );
    Ok(())
}
