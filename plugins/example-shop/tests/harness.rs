//! The connector as the host runs it: built for wasm32-wasip2, loaded with its
//! plugin.toml into the real sandboxed runtime, talking to a mock Minishop on 127.0.0.1.
//!
//! Run with `cargo test -p example-shop`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tovor_harness::model::{Capability, OrderStatus, PaymentStatus};
use tovor_harness::model::{StockLevel, StockTarget, WebhookEvent, WebhookRequest};
use tovor_harness::wiremock::matchers::{body_json, header, method, path, query_param};
use tovor_harness::wiremock::{Mock, MockServer, ResponseTemplate};
use tovor_harness::{CallError, ShopClient, TestHost};
use tovor_harness::{ConnectorError, Decimal, ErrorKind, datetime};

const ORDER: &str = include_str!("../fixtures/order-1042.json");
const TOKEN: &str = "t0ken-for-tests";
const WEBHOOK_SECRET: &str = "whsec-for-tests";

/// A test host with this connector loaded, configured for a shop at `platform`.
async fn connector(platform: &MockServer) -> anyhow::Result<(TestHost, ShopClient)> {
    let host = TestHost::new()?;
    let plugin = host.load_crate(env!("CARGO_MANIFEST_DIR")).await?;
    let shop = host.shop(
        plugin.id(),
        [
            ("shop_url", platform.uri()),
            ("api_token", TOKEN.to_owned()),
            ("webhook_secret", WEBHOOK_SECRET.to_owned()),
        ],
    )?;
    Ok((host, shop))
}

fn order_json() -> serde_json::Value {
    serde_json::from_str(ORDER).unwrap_or_default()
}

#[tokio::test]
async fn exports_exactly_its_capabilities() -> anyhow::Result<()> {
    let platform = MockServer::start().await;
    let (_host, shop) = connector(&platform).await?;
    for capability in [
        Capability::Orders,
        Capability::Webhooks,
        Capability::Inventory,
        Capability::Connection,
    ] {
        assert!(shop.can(capability), "{capability}");
    }
    for capability in [Capability::Catalog, Capability::Fulfillment] {
        assert!(!shop.can(capability), "{capability}");
    }
    assert_eq!(shop.stock_batch().await?, 50, "its `max_batch`");
    Ok(())
}

#[tokio::test]
async fn fetches_and_maps_one_order() -> anyhow::Result<()> {
    let platform = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/1042"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_json()))
        .expect(1)
        .mount(&platform)
        .await;
    let (_host, shop) = connector(&platform).await?;

    let order = shop.get_order("1042").await?;
    assert_eq!(order.number, "1042");
    assert_eq!(order.status, OrderStatus::Processing);
    assert_eq!(order.payment_status, PaymentStatus::Paid);
    assert_eq!(order.total, Decimal::new(2916, 2));
    tovor_harness::assert_importable(&order);
    assert_eq!(
        order.modified_at,
        datetime!(2026-11-28 10:30 UTC),
        "the same instant"
    );
    assert!(order.modified_at.offset().is_utc(), "converted to UTC");
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.lines[0].sku.as_deref(), Some("MUG-1"));
    let billing = order.billing.expect("billing address");
    assert_eq!(billing.street.as_deref(), Some("Slovenska cesta"));
    assert_eq!(billing.house_number.as_deref(), Some("12a"));
    Ok(())
}

#[tokio::test]
async fn lists_orders_page_by_page() -> anyhow::Result<()> {
    let platform = MockServer::start().await;
    for page in [1, 2] {
        Mock::given(method("GET"))
            .and(path("/api/v1/orders"))
            .and(query_param("updated_since", "2026-11-01T00:00:00Z"))
            .and(query_param("page", page.to_string().as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "orders": [order_json()],
                "page": page,
                "total_pages": 2,
            })))
            .expect(1)
            .mount(&platform)
            .await;
    }
    let (_host, shop) = connector(&platform).await?;

    let first = shop
        .list_orders(datetime!(2026-11-01 0:00 UTC), None)
        .await?;
    assert_eq!(first.orders.len(), 1);
    assert_eq!(first.next_cursor.as_deref(), Some("2"));
    let second = shop
        .list_orders(datetime!(2026-11-01 0:00 UTC), first.next_cursor.as_deref())
        .await?;
    assert_eq!(second.next_cursor, None);
    Ok(())
}

#[tokio::test]
async fn rate_limits_and_missing_orders_are_typed() -> anyhow::Result<()> {
    let platform = MockServer::start().await;
    Mock::given(path("/api/v1/orders/busy"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3"))
        .mount(&platform)
        .await;
    Mock::given(path("/api/v1/orders/404"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"error": "not found"})),
        )
        .mount(&platform)
        .await;
    let (_host, shop) = connector(&platform).await?;

    let busy = shop.get_order("busy").await.unwrap_err();
    assert!(busy.is_retryable(), "{busy}");
    assert_eq!(busy.retry_after(), Some(std::time::Duration::from_secs(3)));

    match shop.get_order("404").await.unwrap_err() {
        CallError::Connector {
            error:
                ConnectorError {
                    kind: ErrorKind::NotFound,
                    ..
                },
            ..
        } => {}
        other => panic!("expected not-found, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn pushes_stock_by_sku() -> anyhow::Result<()> {
    let platform = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/stock/MUG-1"))
        .and(body_json(serde_json::json!({"quantity": 7})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&platform)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/stock/GONE"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&platform)
        .await;
    let (_host, shop) = connector(&platform).await?;

    // An item linked by SKU only: Minishop keys stock by SKU.
    let level = |sku: &str, quantity: i64| StockLevel {
        target: StockTarget {
            sku: Some(sku.into()),
            ..StockTarget::default()
        },
        quantity: Decimal::from(quantity),
    };
    let results = shop
        .push_stock(&[level("MUG-1", 7), level("GONE", 1)])
        .await?;
    assert!(results[0].is_ok());
    assert!(matches!(
        results[1],
        Err(ConnectorError {
            kind: ErrorKind::NotFound,
            ..
        })
    ));
    Ok(())
}

#[tokio::test]
async fn verifies_webhook_signatures() -> anyhow::Result<()> {
    let platform = MockServer::start().await;
    let (_host, shop) = connector(&platform).await?;
    let body = ORDER.as_bytes().to_vec();
    let delivery = |signature: String| WebhookRequest {
        method: "POST".into(),
        headers: vec![
            ("x-minishop-signature".into(), signature),
            ("x-minishop-event".into(), "order.created".into()),
            ("x-minishop-delivery".into(), "d-1".into()),
        ],
        query: String::new(),
        body: body.clone(),
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes())?;
    mac.update(&body);
    let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));

    let verified = shop.verify_webhook(&delivery(good)).await?;
    assert_eq!(verified.delivery_id.as_deref(), Some("d-1"));
    match verified.event {
        WebhookEvent::OrderChanged(hint) => assert_eq!(hint.id, "1042"),
        other => panic!("expected order-changed, got {other:?}"),
    }

    let forged = shop
        .verify_webhook(&delivery(format!("sha256={}", "0".repeat(64))))
        .await
        .unwrap_err();
    assert!(
        matches!(
            forged,
            CallError::Connector {
                error: ConnectorError {
                    kind: ErrorKind::BadSignature,
                    ..
                },
                ..
            }
        ),
        "{forged:?}"
    );
    // Verification needs no network at all.
    assert!(
        platform
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
    Ok(())
}
