//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to the fake Shopify of
//! `tovor-fakes` on 127.0.0.1.
//!
//! Run with `cargo test -p shopify`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tovor_fakes::shopify::{
    ACCESS_TOKEN, FakeShopify, LOCATION_ID, OrderSpec, SHOP_DOMAIN, WEBHOOK_SECRET,
};
use tovor_harness::model::{ConvertError, Fulfillment, NormalizedOrder as Order, PageOrder};
use tovor_harness::model::{OrderStatus, PaymentStatus};
use tovor_harness::model::{StockLevel, StockTarget, WebhookEvent, WebhookRequest};
use tovor_harness::{CallError, ShopClient, TestHost};
use tovor_harness::{ConnectorError, Decimal, ErrorKind, datetime};

/// A test host with this connector loaded, configured for the fake shop.
async fn connector(shop: &FakeShopify) -> anyhow::Result<(TestHost, ShopClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let client = host.shop(
        plugin.id(),
        [
            ("shop_domain", SHOP_DOMAIN.to_owned()),
            ("access_token", ACCESS_TOKEN.to_owned()),
            ("webhook_secret", WEBHOOK_SECRET.to_owned()),
            ("location_id", LOCATION_ID.to_string()),
            ("api_base", shop.api_base()),
        ],
    )?;
    Ok((host, client))
}

fn connector_error(error: CallError) -> ConnectorError {
    match error {
        CallError::Connector { error, .. } => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

/// Whether `a` and `b` differ by at most `cents` cents.
fn within_cents(a: Decimal, b: Decimal, cents: usize) -> bool {
    (a - b).abs() <= Decimal::new(cents as i64, 2)
}

/// The sums the host checks, within a cent per part (lines with integer quantities).
fn assert_adds_up(order: &Order) {
    let mut parts = 0;
    let mut net = Decimal::ZERO;
    let mut tax = Decimal::ZERO;
    for line in &order.lines {
        assert!(
            line.quantity.fract().is_zero(),
            "{} line {}: quantity {}",
            order.number,
            line.name,
            line.quantity
        );
        let gross = line.quantity * line.unit_price - line.discount;
        let basis = line.total
            + if order.prices_include_tax {
                line.tax_amount
            } else {
                Decimal::ZERO
            };
        assert!(
            within_cents(gross, basis, 1),
            "{} line {}: {gross} vs {basis}",
            order.number,
            line.name
        );
        net += line.total;
        tax += line.tax_amount;
        parts += 1;
    }
    for charge in order.shipping_lines.iter().chain(&order.fees) {
        net += charge.amount;
        tax += charge.tax_amount;
        parts += 1;
    }
    assert!(
        within_cents(order.tax_total, tax, parts),
        "{}: tax",
        order.number
    );
    assert!(
        within_cents(order.total, net + order.tax_total, parts),
        "{}: total {} vs {net} + {}",
        order.number,
        order.total,
        order.tax_total
    );
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
    for page_order in &listed {
        // The connector's own text, before the host parsed it.
        assert!(
            page_order.modified_at.ends_with('Z'),
            "{}",
            page_order.modified_at
        );
    }
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
        assert_adds_up(order);
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
    let one_id = one["id"].as_u64().unwrap().to_string();
    assert!(changed.orders.iter().any(|o| o.id == one_id));
    assert!(changed.orders.len() < 5);

    let id = one["id"].as_u64().unwrap();
    let order = client.get_order(&id.to_string()).await?;
    assert_eq!(order.number, one["name"].as_str().unwrap());
    assert_eq!(
        order.total,
        one["total_price"].as_str().unwrap().parse::<Decimal>()?
    );
    assert_eq!(
        order.lines[0].variation_id.as_deref(),
        Some(variant.to_string().as_str())
    );
    assert!(matches!(
        connector_error(client.get_order("1").await.unwrap_err()),
        ConnectorError {
            kind: ErrorKind::NotFound,
            ..
        }
    ));
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
    let id = order["id"].as_u64().unwrap();
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
            assert_eq!(
                mapped.total,
                order["total_price"].as_str().unwrap().parse::<Decimal>()?
            );
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
    forged.body = forged.body.replace_first();
    let error = connector_error(client.verify_webhook(&forged).await.unwrap_err());
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

/// Changes one byte of a body, keeping it JSON.
trait Tamper {
    fn replace_first(self) -> Self;
}

impl Tamper for Vec<u8> {
    fn replace_first(mut self) -> Self {
        if let Some(byte) = self.iter_mut().find(|b| b.is_ascii_digit()) {
            *byte = if *byte == b'9' { b'8' } else { *byte + 1 };
        }
        self
    }
}

/// A level by variant and/or inventory item (Shopify's stock key); the location is the
/// account's `location_id`.
fn level(variant_id: Option<u64>, inventory_item_id: Option<u64>, quantity: i64) -> StockLevel {
    StockLevel {
        target: StockTarget {
            sku: None,
            product_id: String::new(),
            variant_id: variant_id.map(|id| id.to_string()),
            stock_key: inventory_item_id.map(|id| id.to_string()),
        },
        quantity: Decimal::from(quantity),
    }
}

#[tokio::test]
async fn pushes_stock_by_variant_and_by_inventory_item() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let (_, variants) = shop.add_product(
        "Organic T-Shirt",
        &[
            ("TS-S", "S", "19.90", Some(5)),
            ("TS-M", "M", "19.90", Some(5)),
        ],
    );
    let (_, untracked) = shop.add_product("Gift wrap", &[("WRAP", "Default Title", "2.50", None)]);
    let (_host, client) = connector(&shop).await?;

    let results = client
        .push_stock(&[
            level(Some(variants[0].0), None, 17),
            level(None, Some(variants[1].1), 3),
            level(Some(untracked[0].0), None, 9),
            level(Some(1), None, 1),
            level(None, None, 1),
        ])
        .await?;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(results[1].is_ok(), "{:?}", results[1]);
    assert_eq!(shop.inventory_level(variants[0].1), Some(17));
    assert_eq!(shop.inventory_level(variants[1].1), Some(3));
    match &results[2] {
        Err(
            error @ ConnectorError {
                kind: ErrorKind::InvalidInput,
                ..
            },
        ) => {
            assert!(
                error.message.contains("inventory tracking"),
                "{}",
                error.message
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(
            results[3],
            Err(ConnectorError {
                kind: ErrorKind::NotFound,
                ..
            })
        ),
        "{:?}",
        results[3]
    );
    assert!(
        matches!(&results[4], Err(e @ ConnectorError { kind: ErrorKind::InvalidInput, .. }) if e.field.as_deref() == Some("inventory_item_id"))
    );
    let posts: Vec<String> = shop
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST /admin/api/2025-07/inventory_levels/set.json"))
        .collect();
    assert_eq!(posts.len(), 3);
    Ok(())
}

#[tokio::test]
async fn lists_products_one_per_variant() -> anyhow::Result<()> {
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
    assert_eq!(medium.name, "Organic T-Shirt - M");
    assert_eq!(medium.price, Some(Decimal::new(1990, 2)));
    assert!(medium.manages_stock);
    assert!(medium.stock_key.is_some() && medium.variant_id.is_some());
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
    Ok(())
}

#[tokio::test]
async fn marks_orders_shipped_with_tracking() -> anyhow::Result<()> {
    let shop = FakeShopify::start_seeded().await?;
    let (variant, _) = shop
        .add_product("Cap", &[("CAP", "Default Title", "12.00", Some(3))])
        .1[0];
    let order = shop.create_order(&OrderSpec::new().line(variant, 1));
    let id = order["id"].as_u64().unwrap();
    let (_host, client) = connector(&shop).await?;
    let shipped = Fulfillment {
        lines: Vec::new(),
        carrier: "GLS".into(),
        parcels: vec![(
            "GLS00012345".into(),
            Some("https://gls-group.com/track/GLS00012345".into()),
        )],
        notify_customer: true,
    };
    client.fulfill(&id.to_string(), &shipped).await?;
    let fulfillments = shop.fulfillments(id);
    assert_eq!(fulfillments.len(), 1);
    assert_eq!(fulfillments[0]["tracking_number"], "GLS00012345");
    assert_eq!(fulfillments[0]["tracking_company"], "GLS");
    assert_eq!(shop.order(id).unwrap()["fulfillment_status"], "fulfilled");
    // Again (a retry after a lost answer): nothing open, nothing doubled.
    client.fulfill(&id.to_string(), &shipped).await?;
    assert_eq!(shop.fulfillments(id).len(), 1);
    let mapped = client.get_order(&id.to_string()).await?;
    assert_eq!(mapped.status, OrderStatus::Completed);
    assert_eq!(mapped.payment_status, PaymentStatus::Paid);
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
    let error = client
        .list_orders(datetime!(2020-01-01 0:00 UTC), None)
        .await
        .unwrap_err();
    assert!(
        matches!(connector_error(error), limit @ ConnectorError { kind: ErrorKind::RateLimited, .. } if limit.retry_after == Some(Duration::from_millis(2000)))
    );

    shop.set_down(true);
    let error = client.list_products(None).await.unwrap_err();
    assert!(matches!(
        connector_error(error),
        ConnectorError {
            kind: ErrorKind::Transient,
            ..
        }
    ));
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
        .map(|n| level(None, Some(variants[n % 2].1), n as i64))
        .collect();
    let error = connector_error(client.push_stock(&levels).await.unwrap_err());
    match error {
        limit @ ConnectorError {
            kind: ErrorKind::RateLimited,
            ..
        } => {
            assert!(limit.retry_after.unwrap_or_default() >= Duration::from_millis(1000))
        }
        other => panic!("{other:?}"),
    }
    let sets = shop
        .requests()
        .iter()
        .filter(|r| r.contains("inventory_levels/set.json"))
        .count();
    assert_eq!(sets, 2, "stopped at 2/4, before Shopify would refuse");
    Ok(())
}

#[tokio::test]
async fn a_wrong_token_is_an_auth_error() -> anyhow::Result<()> {
    let shop = FakeShopify::start().await?;
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let client = host.shop(
        plugin.id(),
        [
            ("shop_domain", SHOP_DOMAIN.to_owned()),
            ("access_token", "shpat_wrong".to_owned()),
            ("webhook_secret", WEBHOOK_SECRET.to_owned()),
            ("location_id", LOCATION_ID.to_string()),
            ("api_base", shop.api_base()),
        ],
    )?;
    match connector_error(
        client
            .list_orders(datetime!(2020-01-01 0:00 UTC), None)
            .await
            .unwrap_err(),
    ) {
        error @ ConnectorError {
            kind: ErrorKind::Auth,
            ..
        } => {
            assert!(error.message.contains("Invalid API key"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    Ok(())
}
