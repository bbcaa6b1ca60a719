//! The service end to end: the HTTP API, signed webhooks from a fake Minishop on
//! 127.0.0.1 through the real example connector (Wasm), the inbox, sync and stock push
//! workers, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tovor_tests::minishop::{self, Minishop, WEBHOOK_SECRET};
use tovor_tests::service::{Db, TestService};

const WAIT: Duration = Duration::from_secs(20);

tovor_tests::on_both_databases!(
    webhook_to_order_to_stock_push,
    bad_signature_is_refused_and_nothing_imported,
    companies_see_only_their_own_records,
    custom_platform_orders_are_idempotent,
    shop_down_is_retried_until_it_answers,
    sync_now_and_history_import_find_orders_without_webhooks,
    paid_orders_are_invoiced_automatically,
    duplicate_and_malformed_deliveries,
    unlinked_items_are_listed_not_pushed,
);

/// A service with a company ("Acme") and a shop on a fake Minishop.
struct Setup {
    service: TestService,
    shop: Minishop,
    token: String,
    shop_id: i64,
    webhook_url: String,
}

async fn setup(db: Db, shop_settings: Value) -> Setup {
    let service = TestService::start(db).await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let (shop_id, webhook_url) = service
        .minishop_shop(&token, &shop, shop_settings)
        .await
        .unwrap();
    Setup {
        service,
        shop,
        token,
        shop_id,
        webhook_url,
    }
}

async fn get(service: &TestService, path: &str, token: &str) -> Value {
    let (status, body) = service
        .call(Method::GET, path, Some(token), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn post(service: &TestService, path: &str, token: &str, body: Value) -> (u16, Value) {
    service
        .call(Method::POST, path, Some(token), Some(body))
        .await
        .unwrap()
}

async fn wait_for_orders(service: &TestService, token: &str, count: usize) -> Vec<Value> {
    service
        .eventually(WAIT, || async {
            let orders = get(service, "/api/v1/orders?limit=500", token).await;
            let list = orders.as_array().cloned().unwrap_or_default();
            (list.len() >= count).then_some(list)
        })
        .await
        .unwrap_or_else(|| panic!("{count} orders did not arrive"))
}

async fn webhook_to_order_to_stock_push(db: Db) {
    let Setup {
        service,
        shop,
        token,
        shop_id,
        webhook_url,
    } = setup(db, json!({"stock_mode": "on_hand"})).await;
    assert!(webhook_url.starts_with(&service.url("/hooks/")));
    let view = get(&service, &format!("/api/v1/shops/{shop_id}"), &token).await;
    assert_eq!(view["config"]["shop_url"], shop.url());
    assert!(
        view["config"].get("api_token").is_none(),
        "secrets never shown: {view}"
    );
    assert_eq!(view["secrets_set"], json!(["api_token", "webhook_secret"]));

    let order = minishop::order(
        1042,
        "ana@example.com",
        &[("MUG-1", 2, "9.90")],
        "2026-11-28T11:00:00Z",
    );
    shop.put_order(order.clone());
    let status = service
        .deliver(&webhook_url, "order.created", "d-1", &order, WEBHOOK_SECRET)
        .await
        .unwrap();
    assert_eq!(status, 200);

    let orders = wait_for_orders(&service, &token, 1).await;
    let order_id = orders[0]["id"].as_i64().unwrap();
    let stored = get(&service, &format!("/api/v1/orders/{order_id}"), &token).await;
    assert_eq!(stored["external_id"], "1042");
    assert_eq!(stored["total"], "24.16");
    let items = get(&service, "/api/v1/items", &token).await;
    assert_eq!(items[0]["code"], "MUG-1");
    let customers = get(&service, "/api/v1/customers", &token).await;
    assert_eq!(customers[0]["email"], "ana@example.com");

    // Goods arrive: the shop hears the new on-hand figure.
    let warehouse = stored["warehouse_id"].clone();
    let (status, _) = post(
        &service,
        "/api/v1/stock/receipts",
        &token,
        json!({"warehouse_id": warehouse, "lines": [{"sku": "MUG-1", "quantity": "10"}]}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        shop.wait_for_stock("MUG-1", 10, WAIT).await,
        "updates {:?}",
        shop.updates()
    );

    // The delivery note takes two out of the warehouse: the shop gets 8.
    let (status, note) = post(
        &service,
        &format!("/api/v1/orders/{order_id}/delivery-notes"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    assert!(note["moves_stock"].as_bool().unwrap());
    assert!(
        shop.wait_for_stock("MUG-1", 8, WAIT).await,
        "updates {:?}",
        shop.updates()
    );
    // What was pushed is recorded (right after the shop answered).
    service
        .eventually(WAIT, || async {
            let pushed = get(&service, &format!("/api/v1/shops/{shop_id}/stock"), &token).await;
            (pushed[0]["outcome"] == "pushed" && pushed[0]["quantity"] == "8").then_some(())
        })
        .await
        .expect("the pushed value is recorded");
    service.stop().await;
}

async fn bad_signature_is_refused_and_nothing_imported(db: Db) {
    let Setup {
        service,
        shop,
        token,
        shop_id: _,
        webhook_url,
    } = setup(db, json!({})).await;
    let order = minishop::order(
        7,
        "x@example.com",
        &[("A", 1, "1.00")],
        "2026-11-28T11:00:00Z",
    );
    shop.put_order(order.clone());

    let status = service
        .deliver(
            &webhook_url,
            "order.created",
            "d-1",
            &order,
            "not-the-secret",
        )
        .await
        .unwrap();
    assert_eq!(status, 401);
    // An unknown key is not found; an oversized body is refused before anything else.
    let unknown = service.url("/hooks/0000");
    assert_eq!(
        service
            .deliver(&unknown, "order.created", "d-2", &order, WEBHOOK_SECRET)
            .await
            .unwrap(),
        404
    );
    let huge = service
        .http
        .post(&webhook_url)
        .body(vec![b'x'; 512 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status().as_u16(), 413);

    tokio::time::sleep(Duration::from_millis(500)).await;
    let orders = get(&service, "/api/v1/orders", &token).await;
    assert_eq!(orders, json!([]));
    let metrics = service
        .http
        .get(service.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("tovor_webhooks_total{outcome=\"rejected\"}")),
        "{metrics}"
    );
    service.stop().await;
}

async fn companies_see_only_their_own_records(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let a = service.company("A").await.unwrap();
    let b = service.company("B").await.unwrap();
    let (shop_a, webhook_a) = service.minishop_shop(&a, &shop, json!({})).await.unwrap();
    let order = minishop::order(
        1,
        "a@example.com",
        &[("A-1", 1, "5.00")],
        "2026-11-28T11:00:00Z",
    );
    shop.put_order(order.clone());
    service
        .deliver(&webhook_a, "order.created", "d-1", &order, WEBHOOK_SECRET)
        .await
        .unwrap();
    let orders = wait_for_orders(&service, &a, 1).await;
    let order_id = orders[0]["id"].as_i64().unwrap();
    let (_, note) = post(
        &service,
        &format!("/api/v1/orders/{order_id}/invoices"),
        &a,
        json!({}),
    )
    .await;
    let document = note["id"].as_i64().unwrap();

    for (method, path, body) in [
        (Method::GET, format!("/api/v1/shops/{shop_a}"), None),
        (
            Method::PATCH,
            format!("/api/v1/shops/{shop_a}"),
            Some(json!({"name": "mine"})),
        ),
        (
            Method::POST,
            format!("/api/v1/shops/{shop_a}/sync"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/api/v1/shops/{shop_a}/payment-methods"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/shops/{shop_a}/deliveries"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/shops/{shop_a}/stock/resync"),
            None,
        ),
        (Method::GET, format!("/api/v1/orders/{order_id}"), None),
        (
            Method::POST,
            format!("/api/v1/orders/{order_id}/invoices"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/orders/{order_id}/delivery-notes"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/v1/documents/{document}"), None),
        (
            Method::POST,
            format!("/api/v1/documents/{document}/cancel"),
            None,
        ),
    ] {
        let (status, answer) = service
            .call(method.clone(), &path, Some(&b), body.clone())
            .await
            .unwrap();
        assert_eq!(status, 404, "{method} {path} as B: {answer}");
        let (status, _) = service
            .call(method.clone(), &path, None, body)
            .await
            .unwrap();
        assert_eq!(status, 401, "{method} {path} without a token");
    }
    assert_eq!(get(&service, "/api/v1/orders", &b).await, json!([]));
    assert_eq!(get(&service, "/api/v1/items", &b).await, json!([]));
    assert_eq!(get(&service, "/api/v1/customers", &b).await, json!([]));
    assert_eq!(get(&service, "/api/v1/shops", &b).await, json!([]));
    let (status, _) = service
        .call(Method::GET, "/api/v1/orders", Some("tovor_forged"), None)
        .await
        .unwrap();
    assert_eq!(status, 401);
    // Companies are the operator's: a company token cannot create one.
    let (status, _) = post(&service, "/api/v1/companies", &a, json!({"name": "C"})).await;
    assert_eq!(status, 403);
    // The OpenAPI document is public and describes the routes.
    let (status, doc) = service
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/shops/{id}/orders"]["post"].is_object());
    for (path, method) in [
        ("/api/v1/carriers", "post"),
        ("/api/v1/orders/{id}/shipments", "post"),
        ("/api/v1/shipments", "post"),
        ("/api/v1/shipments/{id}/label", "get"),
        ("/api/v1/labels", "post"),
        ("/api/v1/shipments/{id}/track", "post"),
        ("/api/v1/shipments/{id}/cancel", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    // Another company's shipments and carriers are not found.
    let (status, _) = service
        .call(Method::GET, "/api/v1/shipments/1", Some(&b), None)
        .await
        .unwrap();
    assert_eq!(status, 404);
    service.stop().await;
}

fn normalized_order(id: &str, modified_at: &str) -> Value {
    json!({
        "id": id,
        "number": format!("C-{id}"),
        "status": "processing",
        "payment_status": "paid",
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-11-28T09:00:00Z",
        "modified_at": modified_at,
        "customer": {"email": "buyer@example.com", "first_name": "Bo", "last_name": "Buyer"},
        "lines": [{"sku": "TEA", "name": "Tea", "quantity": "3", "unit_price": "4.00",
                   "tax_rate": "9.5", "tax_amount": "1.14", "total": "12.00"}],
        "tax_total": "1.14",
        "total": "13.14"
    })
}

async fn custom_platform_orders_are_idempotent(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let (_, warehouse) = post(
        &service,
        "/api/v1/warehouses",
        &token,
        json!({"name": "Main"}),
    )
    .await;
    let (status, shop) = post(
        &service,
        "/api/v1/shops",
        &token,
        json!({"name": "Own shop", "warehouse_id": warehouse["id"]}),
    )
    .await;
    assert_eq!(status, 201, "{shop}");
    assert_eq!(shop["plugin"], Value::Null);
    assert_eq!(shop["webhook_url"], Value::Null);
    let path = format!("/api/v1/shops/{}/orders", shop["id"]);

    let (status, first) = post(
        &service,
        &path,
        &token,
        normalized_order("77", "2026-11-28T09:00:00Z"),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["result"], "created");
    assert_eq!(first["items_created"], 1);
    let (status, again) = post(
        &service,
        &path,
        &token,
        normalized_order("77", "2026-11-28T09:00:00Z"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["result"], "unchanged");
    assert_eq!(again["order_id"], first["order_id"]);

    let mut broken = normalized_order("78", "2026-11-28T09:00:00Z");
    broken["total"] = json!("99.99");
    let (status, refused) = post(&service, &path, &token, broken).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_order");
    let (status, _) = post(&service, &path, &token, json!({"id": 1})).await;
    assert_eq!(status, 422);
    assert_eq!(
        get(&service, "/api/v1/orders", &token)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    service.stop().await;
}

async fn shop_down_is_retried_until_it_answers(db: Db) {
    let Setup {
        service,
        shop,
        token,
        shop_id,
        webhook_url,
    } = setup(db, json!({})).await;
    let order = minishop::order(
        5,
        "d@example.com",
        &[("D-1", 1, "3.00")],
        "2026-11-28T11:00:00Z",
    );
    shop.put_order(order.clone());
    shop.set_down(true);
    // The delivery is accepted (stored), but fetching the order fails while the shop is down.
    assert_eq!(
        service
            .deliver(&webhook_url, "order.updated", "d-1", &order, WEBHOOK_SECRET)
            .await
            .unwrap(),
        200
    );
    let retried = service
        .eventually(WAIT, || async {
            let list = get(
                &service,
                &format!("/api/v1/shops/{shop_id}/deliveries"),
                &token,
            )
            .await;
            let delivery = list.as_array()?.first()?.clone();
            (delivery["attempts"].as_u64()? >= 2 && delivery["state"] == "pending")
                .then_some(delivery)
        })
        .await
        .expect("the delivery is retried");
    assert!(
        retried["last_error"].as_str().unwrap().contains("503")
            || retried["last_error"]
                .as_str()
                .unwrap()
                .contains("maintenance")
            || !retried["last_error"].as_str().unwrap().is_empty()
    );
    assert_eq!(get(&service, "/api/v1/orders", &token).await, json!([]));
    shop.set_down(false);
    wait_for_orders(&service, &token, 1).await;
    service.stop().await;
}

async fn sync_now_and_history_import_find_orders_without_webhooks(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let token = service.company("Acme").await.unwrap();
    // 120 old orders (3 pages of 50) and one recent one the webhook never announced.
    for id in 1..=120 {
        shop.put_order(minishop::order(
            id,
            &format!("c{id}@example.com"),
            &[("OLD", 1, "1.00")],
            "2025-06-01T10:00:00Z",
        ));
    }
    let (shop_id, _) = service
        .minishop_shop(
            &token,
            &shop,
            json!({"import_from": "2026-01-01T00:00:00Z"}),
        )
        .await
        .unwrap();
    let recent = minishop::order(
        500,
        "new@example.com",
        &[("NEW", 1, "2.00")],
        "2026-11-28T12:00:00Z",
    );
    shop.put_order(recent);
    let (status, _) = post(
        &service,
        &format!("/api/v1/shops/{shop_id}/sync"),
        &token,
        json!({"since": "2026-11-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 202);
    wait_for_orders(&service, &token, 1).await;
    let view = get(&service, &format!("/api/v1/shops/{shop_id}"), &token).await;
    assert!(view["sync"]["last_error"].is_null(), "{view}");

    // Orders placed before import_from came only when history was asked for; progress
    // is reported page by page.
    let (status, _) = post(
        &service,
        &format!("/api/v1/shops/{shop_id}/import-history"),
        &token,
        json!({"from": "2025-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 202);
    let history = service
        .eventually(WAIT, || async {
            let view = get(&service, &format!("/api/v1/shops/{shop_id}"), &token).await;
            (view["sync"]["history"]["state"] == "done").then(|| view["sync"]["history"].clone())
        })
        .await
        .expect("history import finishes");
    assert_eq!(history["pages"], 3, "{history}");
    assert_eq!(history["orders"], 121, "{history}");
    assert_eq!(
        get(&service, "/api/v1/orders?limit=500", &token)
            .await
            .as_array()
            .unwrap()
            .len(),
        121
    );
    service.stop().await;
}

async fn paid_orders_are_invoiced_automatically(db: Db) {
    let Setup {
        service,
        shop,
        token,
        shop_id: _,
        webhook_url,
    } = setup(db, json!({"auto_invoice": "paid"})).await;
    let order = minishop::order(
        9,
        "p@example.com",
        &[("P-1", 3, "2.50")],
        "2026-11-28T11:00:00Z",
    );
    shop.put_order(order.clone());
    service
        .deliver(&webhook_url, "order.created", "d-1", &order, WEBHOOK_SECRET)
        .await
        .unwrap();
    let orders = wait_for_orders(&service, &token, 1).await;
    let id = orders[0]["id"].as_i64().unwrap();
    let invoice = service
        .eventually(WAIT, || async {
            let order = get(&service, &format!("/api/v1/orders/{id}"), &token).await;
            order["documents"]
                .as_array()?
                .iter()
                .find(|d| d["kind"] == "invoice")
                .cloned()
        })
        .await
        .expect("an invoice");
    assert_eq!(invoice["draft"]["totals"]["gross"], "9.15");
    // The same order again does not invoice twice.
    service
        .deliver(&webhook_url, "order.updated", "d-2", &order, WEBHOOK_SECRET)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let order = get(&service, &format!("/api/v1/orders/{id}"), &token).await;
    assert_eq!(order["documents"].as_array().unwrap().len(), 1);
    service.stop().await;
}

async fn duplicate_and_malformed_deliveries(db: Db) {
    let Setup {
        service,
        shop,
        token,
        shop_id,
        webhook_url,
    } = setup(db, json!({})).await;
    let order = minishop::order(
        3,
        "q@example.com",
        &[("Q-1", 1, "1.00")],
        "2026-11-28T11:00:00Z",
    );
    shop.put_order(order.clone());
    for _ in 0..3 {
        assert_eq!(
            service
                .deliver(
                    &webhook_url,
                    "order.created",
                    "same",
                    &order,
                    WEBHOOK_SECRET
                )
                .await
                .unwrap(),
            200
        );
    }
    wait_for_orders(&service, &token, 1).await;
    // A ping is answered and not stored.
    assert_eq!(
        service
            .deliver(&webhook_url, "ping", "p-1", &json!({}), WEBHOOK_SECRET)
            .await
            .unwrap(),
        200
    );
    // Signed, but not an order: kept for inspection with its body.
    assert_eq!(
        service
            .deliver(
                &webhook_url,
                "order.created",
                "bad-1",
                &json!({"id": "x"}),
                WEBHOOK_SECRET
            )
            .await
            .unwrap(),
        200
    );
    let deliveries = get(
        &service,
        &format!("/api/v1/shops/{shop_id}/deliveries"),
        &token,
    )
    .await;
    let list = deliveries.as_array().unwrap();
    assert_eq!(list.len(), 2, "{deliveries}");
    assert_eq!(list[0]["state"], "malformed");
    assert!(list[0]["body"].as_str().unwrap().contains("\"x\""));
    assert_eq!(list[1]["delivery_id"], "same");
    assert_eq!(
        get(&service, "/api/v1/orders", &token)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    service.stop().await;
}

async fn unlinked_items_are_listed_not_pushed(db: Db) {
    let Setup {
        service,
        shop,
        token,
        shop_id,
        webhook_url: _,
    } = setup(db, json!({"stock_mode": "on_hand"})).await;
    let warehouse = get(&service, "/api/v1/warehouses", &token).await[0]["id"].clone();
    let (status, _) = post(
        &service,
        "/api/v1/items",
        &token,
        json!({"code": "LONE", "name": "Lonely", "vat_rate": "22", "price": "1.00"}),
    )
    .await;
    assert_eq!(status, 201);
    post(
        &service,
        "/api/v1/stock/receipts",
        &token,
        json!({"warehouse_id": warehouse, "lines": [{"sku": "LONE", "quantity": "4"}]}),
    )
    .await;
    let unlinked = service
        .eventually(WAIT, || async {
            let list = get(
                &service,
                &format!("/api/v1/shops/{shop_id}/stock?outcome=unlinked"),
                &token,
            )
            .await;
            (!list.as_array()?.is_empty()).then_some(list)
        })
        .await
        .expect("listed as unlinked");
    assert_eq!(unlinked[0]["item_code"], "LONE");
    assert_eq!(shop.stock("LONE"), None);
    // Linked, and a full resync pushes it.
    let item = get(&service, "/api/v1/items", &token).await[0]["id"].clone();
    let (status, _) = service
        .call(
            Method::POST,
            &format!("/api/v1/items/{item}/links"),
            Some(&token),
            Some(json!({"shop_id": shop_id, "product_id": "900"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 204);
    let (status, resync) = post(
        &service,
        &format!("/api/v1/shops/{shop_id}/stock/resync"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(resync["queued"], 1);
    assert!(shop.wait_for_stock("LONE", 4, WAIT).await);
    service.stop().await;
}
