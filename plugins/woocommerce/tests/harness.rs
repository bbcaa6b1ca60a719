//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake WooCommerce
//! (`tovor-fakes`) on 127.0.0.1 over plain HTTP, so every request is OAuth 1.0a-signed
//! and checked by the fake as WooCommerce checks it.
//!
//! Run with `cargo test -p woocommerce`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tovor_fakes::woocommerce::{
    CONSUMER_KEY, CONSUMER_SECRET, Delivery, FakeWoo, OrderSpec, WEBHOOK_SECRET,
};
use tovor_harness::model::{Fulfillment, OrderStatus, PaymentStatus};
use tovor_harness::model::{StockLevel, StockTarget, WebhookEvent, WebhookRequest};
use tovor_harness::{CallError, ShopClient, TestHost};
use tovor_harness::{ConnectorError, Decimal, ErrorKind, datetime};

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

fn connector_error(error: CallError) -> ConnectorError {
    match error {
        CallError::Connector { error, .. } => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
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

fn level(product: u64, variation: Option<u64>, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: None,
            product_id: product.to_string(),
            variant_id: variation.map(|id| id.to_string()),
            stock_key: None,
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn lists_orders_across_pages_with_signed_requests() -> anyhow::Result<()> {
    let fake = FakeWoo::start().await?;
    let cap = fake.add_simple_product("CAP", "Cap", "12.90", None);
    let mut ids = Vec::new();
    for _ in 0..150 {
        ids.push(
            fake.create_order(&OrderSpec::new().line(cap, None, 1))["id"]
                .as_u64()
                .unwrap(),
        );
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
    Ok(())
}

#[tokio::test]
async fn gets_one_order_and_reports_missing_ones() -> anyhow::Result<()> {
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
    let id = created["id"].as_u64().unwrap().to_string();

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

    let missing = connector_error(shop.get_order("999999").await.unwrap_err());
    assert!(
        matches!(&missing, m @ ConnectorError { kind: ErrorKind::NotFound, .. } if m.message.contains("woocommerce_rest_shop_order_invalid_id")),
        "{missing:?}"
    );
    Ok(())
}

#[tokio::test]
async fn verifies_deliveries_pings_and_forgeries() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;
    let mug = fake.add_simple_product("MUG-X", "Mug", "9.99", None);
    let id = fake.create_order(&OrderSpec::new().line(mug, None, 1))["id"]
        .as_u64()
        .unwrap();

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
    assert!(
        matches!(
            error,
            ConnectorError {
                kind: ErrorKind::BadSignature,
                ..
            }
        ),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn pushes_stock_to_products_and_variations() -> anyhow::Result<()> {
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

    let results = shop
        .push_stock(&[
            level(cap, None, 40),
            level(shirt, Some(sizes[1]), 7),
            level(poster, None, 3),
            level(999_999, None, 1),
            level(shirt, Some(sizes[0]), 0),
        ])
        .await?;
    assert_eq!(results.len(), 5);
    assert!(
        results[0].is_ok() && results[1].is_ok() && results[2].is_ok() && results[4].is_ok(),
        "{results:?}"
    );
    assert!(
        matches!(
            results[3],
            Err(ConnectorError {
                kind: ErrorKind::NotFound,
                ..
            })
        ),
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

    // 250 levels go out in batches of at most 100.
    let many: Vec<StockLevel> = (0..250).map(|i| level(cap, None, i)).collect();
    let results = shop.push_stock(&many).await?;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(fake.stock(cap, None), Some(249));
    Ok(())
}

#[tokio::test]
async fn lists_products_with_variations() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;
    let page = shop.list_products(None).await?;
    assert_eq!(page.next_cursor, None);
    let medium = page
        .entries
        .iter()
        .find(|product| product.sku.as_deref() == Some("TS-M"))
        .expect("the T-shirt in M");
    assert_eq!(medium.name, "T-shirt - M");
    assert!(medium.variant_id.is_some() && !medium.product_id.is_empty());
    assert!(medium.manages_stock);
    let product_id: u64 = medium.product_id.parse()?;
    let variation_id: u64 = medium.variant_id.as_deref().unwrap().parse()?;
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
    assert_eq!(cap.price, Some(Decimal::new(1290, 2)));
    let green = page
        .entries
        .iter()
        .find(|p| p.sku.as_deref() == Some("MUG-GRN"))
        .unwrap();
    assert!(!green.manages_stock && green.stock.is_none());
    assert!(page.entries.len() >= 10, "{}", page.entries.len());
    Ok(())
}

#[tokio::test]
async fn marks_orders_shipped_once() -> anyhow::Result<()> {
    let fake = FakeWoo::start_seeded().await?;
    let (_host, shop) = connector(&fake).await?;
    let cap = fake.add_simple_product("CAP-Z", "Cap", "12.90", None);
    let id = fake.create_order(&OrderSpec::new().line(cap, None, 1))["id"]
        .as_u64()
        .unwrap();
    let shipped = Fulfillment {
        lines: Vec::new(),
        carrier: "GLS".into(),
        parcels: vec![(
            "GLS-0042".into(),
            Some("https://gls-group.example/track/GLS-0042".into()),
        )],
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
    assert!(text.contains("GLS-0042") && text.contains("https://gls-group.example/track/GLS-0042"));

    let missing = connector_error(shop.fulfill("999999", &shipped).await.unwrap_err());
    assert!(
        matches!(
            missing,
            ConnectorError {
                kind: ErrorKind::NotFound,
                ..
            }
        ),
        "{missing:?}"
    );
    Ok(())
}

#[tokio::test]
async fn rate_limits_outages_and_bad_keys_are_typed() -> anyhow::Result<()> {
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
    assert!(matches!(
        connector_error(limited),
        ConnectorError {
            kind: ErrorKind::RateLimited,
            ..
        }
    ));

    fake.set_down(true);
    let down = connector_error(shop.get_order("10").await.unwrap_err());
    assert!(
        matches!(
            down,
            ConnectorError {
                kind: ErrorKind::Transient,
                ..
            }
        ),
        "{down:?}"
    );
    let pushed = shop.push_stock(&[level(10, None, 1)]).await.unwrap_err();
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
    assert!(
        matches!(&refused, m @ ConnectorError { kind: ErrorKind::Auth, .. } if m.message.contains("Invalid signature - provided signature does not match.")),
        "{refused:?}"
    );
    Ok(())
}

/// `api_base` replaces the site URL (and is allowed by the host without declaring it).
#[tokio::test]
async fn api_base_replaces_the_site_url() -> anyhow::Result<()> {
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
    assert!(
        orders
            .iter()
            .any(|order| order.payment_status == PaymentStatus::PartiallyRefunded)
    );
    assert!(
        orders
            .iter()
            .any(|order| order.status == OrderStatus::Cancelled)
    );
    Ok(())
}
