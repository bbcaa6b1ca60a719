//! The service under pressure and misuse, on SQLite and PostgreSQL: webhook answers do
//! not queue behind hung carrier calls, made-up webhook keys cost no database query and
//! are rate limited per client, and a platform that quotes a secret back in its error
//! does not get it into the API, the database or the log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tovor_fakes::gls::{self, FakeGls};
use tovor_runtime::{EngineOptions, RuntimeOptions};
use tovor_tests::minishop::{self, Minishop, WEBHOOK_SECRET};
use tovor_tests::service::{Db, TestService, quick_workers};

tovor_tests::on_both_databases!(
    webhook_answers_do_not_wait_for_hung_carrier_calls,
    unknown_webhook_keys_cost_no_query_and_are_rate_limited,
    a_platform_quoting_the_token_back_leaks_it_nowhere,
    an_order_with_control_characters_imports_the_same_on_both_databases,
);

const WAIT: Duration = Duration::from_secs(30);

/// Everything the service logs in this test process, for the tests that read the log.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        log
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn call(
    service: &TestService,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, answer) = service
        .call(method.clone(), path, Some(token), body)
        .await
        .unwrap();
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// A custom-platform order that GLS can ship (street with a house number, a phone).
fn shippable_order(n: usize) -> Value {
    json!({
        "id": format!("H{n}"),
        "number": format!("H-{n}"),
        "status": "processing",
        "payment_status": "paid",
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-11-28T09:00:00Z",
        "modified_at": "2026-11-28T09:00:00Z",
        "shipping": {
            "name": format!("Kupec {n}"),
            "line1": "Slovenska cesta 12",
            "city": "Ljubljana",
            "postal_code": "1000",
            "country": "SI",
            "phone": "040 111 222",
        },
        "lines": [{"sku": "TEA", "name": "Tea", "quantity": "1", "unit_price": "4.00",
                   "tax_rate": "9.5", "tax_amount": "0.38", "total": "4.00"}],
        "tax_total": "0.38",
        "total": "4.38"
    })
}

/// Every background instance slot is held by a carrier call that hangs; a shop's
/// webhook is still verified and answered, while those calls are still hanging.
async fn webhook_answers_do_not_wait_for_hung_carrier_calls(db: Db) {
    // A pool of 4 instances: 3 for background calls, 1 for the intake.
    let runtime = RuntimeOptions {
        engine: EngineOptions {
            max_concurrent_instances: 4,
            ..EngineOptions::default()
        },
        ..RuntimeOptions::default()
    };
    let plugins = [
        tovor_tests::example_shop().unwrap(),
        tovor_tests::connector("gls").unwrap(),
    ];
    let service = TestService::start_with_runtime(db, quick_workers("lanes"), &plugins, runtime)
        .await
        .unwrap();
    let token = service.company("Acme").await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let (_, webhook_url) = service
        .minishop_shop(&token, &shop, json!({}))
        .await
        .unwrap();
    let own = call(
        &service,
        Method::POST,
        "/api/v1/shops",
        &token,
        Some(json!({"name": "Own shop", "warehouse_id": 1})),
    )
    .await;
    let gls = FakeGls::start().await.unwrap();
    let carrier = call(
        &service,
        Method::POST,
        "/api/v1/carriers",
        &token,
        Some(json!({
            "plugin": "gls",
            "name": "GLS",
            "config": {
                "username": gls::USERNAME,
                "password": gls::PASSWORD,
                "client_number": gls::CLIENT_NUMBER.to_string(),
                "country": "SI",
                "api_base": gls.api_base(),
                "request_timeout_ms": "90000",
            },
            "sender": {"name": "Trgovina d.o.o.", "street": "Dunajska cesta 5", "city": "Ljubljana",
                       "postal_code": "1000", "country": "SI"},
        })),
    )
    .await;
    // MyGLS makes the parcels, then answers a minute late: each create call holds its
    // instance slot far longer than a platform waits for a webhook's answer.
    gls.set_slow(Duration::from_secs(60));
    let mut hanging = Vec::new();
    for n in 0..3 {
        let order = call(
            &service,
            Method::POST,
            &format!("/api/v1/shops/{}/orders", own["id"]),
            &token,
            Some(shippable_order(n)),
        )
        .await;
        let request = service
            .http
            .post(service.url(&format!("/api/v1/orders/{}/shipments", order["order_id"])))
            .bearer_auth(&token)
            .json(&json!({"carrier_id": carrier["id"]}));
        hanging.push(tokio::spawn(request.send()));
    }
    let all_hanging = service
        .eventually(WAIT, || async { (gls.parcels().len() == 3).then_some(()) })
        .await;
    assert!(
        all_hanging.is_some(),
        "the three create calls did not reach MyGLS"
    );

    let order = minishop::order(
        7,
        "buyer@example.test",
        &[("MUG-1", 1, "9.90")],
        "2026-11-28T10:00:00Z",
    );
    shop.put_order(order.clone());
    // A platform gives up on a webhook after a few seconds (Shopify: 5 s); 10 s is
    // generous, and far shorter than the hung calls.
    let (headers, body) =
        minishop::signed_delivery("order.created", "d-lanes", &order, WEBHOOK_SECRET);
    let mut delivery = service
        .http
        .post(&webhook_url)
        .timeout(Duration::from_secs(10))
        .body(body);
    for (name, value) in headers {
        delivery = delivery.header(name, value);
    }
    let answer = delivery.send().await;
    let status = answer
        .expect("the webhook got no answer while background calls held every other slot")
        .status();
    assert_eq!(status, 200);
    assert!(
        hanging.iter().all(|request| !request.is_finished()),
        "the webhook was answered only after the carrier calls gave their slots back"
    );
    for request in hanging {
        request.abort();
    }
}

/// A delivery to a key no shop has is answered from the key table (here with the
/// database closed), and a client guessing keys is slowed down with 429s.
async fn unknown_webhook_keys_cost_no_query_and_are_rate_limited(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let shop = Minishop::start().await.unwrap();
    service
        .minishop_shop(&token, &shop, json!({}))
        .await
        .unwrap();
    let unknown = |n: usize| service.url(&format!("/hooks/{:064x}", n));
    let first = service
        .http
        .post(unknown(0))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 404);

    // Nothing may reach the database from here on.
    service.store.close().await;
    let mut statuses = Vec::new();
    for n in 1..40 {
        let response = service
            .http
            .post(unknown(n))
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        let body: Value = response.json().await.unwrap();
        statuses.push((
            status,
            body["error"]["code"].as_str().unwrap_or("").to_owned(),
        ));
    }
    let not_found = statuses
        .iter()
        .filter(|(status, code)| *status == 404 && code == "not_found")
        .count();
    let limited = statuses
        .iter()
        .filter(|(status, code)| *status == 429 && code == "rate_limited")
        .count();
    assert_eq!(not_found + limited, statuses.len(), "{statuses:?}");
    assert!(not_found >= 20, "{statuses:?}");
    assert!(
        limited >= 5,
        "a client guessing keys is not slowed down: {statuses:?}"
    );
}

/// Minishop answers a wrong token with "invalid API token <the token>": the secret is
/// redacted before the error reaches the sync status, the deliveries or the log.
async fn a_platform_quoting_the_token_back_leaks_it_nowhere(db: Db) {
    let log = captured_log();
    let secret = match db {
        Db::Sqlite => "wrong-token-sqlite-7f3a9c",
        Db::Postgres => "wrong-token-postgres-7f3a9c",
    };
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let mut config = shop.config();
    config["api_token"] = json!(secret);
    // Adding the shop with a token the platform refuses (and quotes back): a 422 that
    // says so without the token.
    let (status, warehouse) = service
        .call(
            Method::POST,
            "/api/v1/warehouses",
            Some(&token),
            Some(json!({"name": "Side"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 201);
    let (status, refused) = service
        .call(
            Method::POST,
            "/api/v1/shops",
            Some(&token),
            Some(
                json!({"plugin": "example-shop", "name": "Minishop", "config": config,
                        "warehouse_id": warehouse["id"]}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused.to_string().contains("invalid API token ***"),
        "{refused}"
    );
    // The token worked when the shop was added, and the owner revoked it since.
    shop.set_token(secret);
    let (shop_id, webhook_url) = service
        .add_shop(&token, "example-shop", "Minishop", config, json!({}))
        .await
        .unwrap();
    shop.set_token("the-new-token");

    call(
        &service,
        Method::POST,
        &format!("/api/v1/shops/{shop_id}/sync"),
        &token,
        Some(json!({})),
    )
    .await;
    let order = minishop::order(
        1,
        "buyer@example.test",
        &[("MUG-1", 1, "9.90")],
        "2026-11-28T10:00:00Z",
    );
    shop.put_order(order.clone());
    let status = service
        .deliver(
            &webhook_url,
            "order.created",
            "d-secret",
            &order,
            WEBHOOK_SECRET,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);

    let sync_error = service
        .eventually(WAIT, || async {
            let shop = call(
                &service,
                Method::GET,
                &format!("/api/v1/shops/{shop_id}"),
                &token,
                None,
            )
            .await;
            shop["sync"]["last_error"].as_str().map(str::to_owned)
        })
        .await
        .expect("the failed sync was not recorded");
    assert!(sync_error.contains("invalid API token ***"), "{sync_error}");
    let delivery_error = service
        .eventually(WAIT, || async {
            let list = call(
                &service,
                Method::GET,
                &format!("/api/v1/shops/{shop_id}/deliveries"),
                &token,
                None,
            )
            .await;
            list[0]["last_error"].as_str().map(str::to_owned)
        })
        .await
        .expect("the failed delivery was not recorded");
    assert!(delivery_error.contains("***"), "{delivery_error}");

    let everything = format!(
        "{refused}\n{}\n{}\n{}",
        call(
            &service,
            Method::GET,
            &format!("/api/v1/shops/{shop_id}"),
            &token,
            None
        )
        .await,
        call(
            &service,
            Method::GET,
            &format!("/api/v1/shops/{shop_id}/deliveries"),
            &token,
            None
        )
        .await,
        String::from_utf8_lossy(&log.lock().unwrap()),
    );
    assert!(
        !everything.contains(secret),
        "the secret leaked:\n{everything}"
    );
    assert!(
        String::from_utf8_lossy(&log.lock().unwrap()).contains("invalid API token ***"),
        "the refusal is not in the log"
    );
}

/// A platform's order with U+0000 and an escape code in its texts (PostgreSQL cannot
/// store U+0000 at all) is imported, with those characters removed and line breaks kept.
async fn an_order_with_control_characters_imports_the_same_on_both_databases(db: Db) {
    let service = TestService::start(db).await.unwrap();
    let token = service.company("Acme").await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let (_, webhook_url) = service
        .minishop_shop(&token, &shop, json!({}))
        .await
        .unwrap();
    let mut order = minishop::order(
        3,
        "buyer@example.test",
        &[("MUG-1", 1, "9.90")],
        "2026-11-28T10:00:00Z",
    );
    order["items"][0]["name"] = json!("Mug\u{0} blue");
    order["shipping_address"]["name"] = json!("Ana\u{1b}[31m Novak");
    order["note"] = json!("ring twice\nthen wait\u{0}");
    shop.put_order(order.clone());
    let status = service
        .deliver(
            &webhook_url,
            "order.created",
            "d-nul",
            &order,
            WEBHOOK_SECRET,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let imported = service
        .eventually(WAIT, || async {
            let list = call(&service, Method::GET, "/api/v1/orders", &token, None).await;
            list.as_array().and_then(|orders| orders.first()).cloned()
        })
        .await
        .expect("the order was not imported");
    let order = call(
        &service,
        Method::GET,
        &format!("/api/v1/orders/{}", imported["id"]),
        &token,
        None,
    )
    .await;
    assert_eq!(order["lines"][0]["name"], "Mug blue", "{order}");
    assert_eq!(
        order["content"]["shipping"]["name"], "Ana[31m Novak",
        "{order}"
    );
    assert_eq!(
        order["content"]["customer_note"], "ring twice\nthen wait",
        "{order}"
    );
}

/// The OpenAPI document covers what clients call outside `/api/v1` too: the webhook
/// intake with every answer it gives, health and metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_the_webhook_health_and_metrics_routes() {
    let service = TestService::start(Db::Sqlite).await.unwrap();
    let (status, document) = service
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let paths = &document["paths"];
    for path in ["/hooks/{key}", "/healthz", "/metrics"] {
        assert!(paths.get(path).is_some(), "{path} is not documented");
    }
    let hook_answers = &paths["/hooks/{key}"]["post"]["responses"];
    for status in ["200", "401", "404", "413", "429", "503"] {
        assert!(
            hook_answers.get(status).is_some(),
            "POST /hooks/{{key}} does not document {status}: {hook_answers}"
        );
    }
}
