//! Real `tovor serve` processes: two sharing one PostgreSQL, and one killed with SIGKILL
//! while it takes webhooks and pushes stock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tovor_tests::minishop::{self, Minishop, WEBHOOK_SECRET};
use tovor_tests::service::{Db, TestDatabase, example_shop_plugins};

const ADMIN: &str = "admin-token-of-the-process-tests";
const SECRET_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

/// One `tovor serve` child process.
struct Tovor {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Tovor {
    fn start(port: u16, data_dir: &Path, database_url: &str, plugins: &Path) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_tovor"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--database-url", database_url])
            .arg("--plugins")
            .arg(plugins)
            .args(["--allow-private-egress", "--idle-poll-secs", "1"])
            .env("TOVOR_ADMIN_TOKEN", ADMIN)
            .env("TOVOR_SECRET_KEY", SECRET_KEY)
            .env(
                "RUST_LOG",
                std::env::var("TOVOR_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            // Logs go to stdout; shown when TOVOR_TEST_LOG asks for them.
            .stdout(if std::env::var_os("TOVOR_TEST_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Self { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn ready(&self, http: &reqwest::Client) {
        for _ in 0..600 {
            if let Ok(response) = http.get(self.url("/healthz")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tovor on port {} did not become ready", self.port);
    }

    /// SIGKILL: no shutdown, no flush.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Tovor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn api(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Value,
) -> Value {
    let response = http
        .request(method, &url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {body}");
    body
}

/// A company with a Minishop shop on `tovor`; returns (company token, webhook URL).
async fn set_up(http: &reqwest::Client, tovor: &Tovor, shop: &Minishop) -> (String, String) {
    let company = api(
        http,
        reqwest::Method::POST,
        tovor.url("/api/v1/companies"),
        ADMIN,
        json!({"name": "Acme"}),
    )
    .await;
    let token = company["token"].as_str().unwrap().to_owned();
    let warehouse = api(
        http,
        reqwest::Method::POST,
        tovor.url("/api/v1/warehouses"),
        &token,
        json!({"name": "Main"}),
    )
    .await;
    let created = api(
        http,
        reqwest::Method::POST,
        tovor.url("/api/v1/shops"),
        &token,
        json!({"plugin": "example-shop", "name": "Minishop", "config": shop.config(),
               "warehouse_id": warehouse["id"], "stock_mode": "on_hand"}),
    )
    .await;
    (token, created["webhook_url"].as_str().unwrap().to_owned())
}

async fn deliver(http: &reqwest::Client, url: &str, id: u64, order: &Value) -> u16 {
    let (headers, body) =
        minishop::signed_delivery("order.created", &format!("d-{id}"), order, WEBHOOK_SECRET);
    let mut request = http.post(url).body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

fn plugins() -> PathBuf {
    example_shop_plugins().unwrap()
}

fn order_for(id: u64) -> Value {
    let sku = format!("SKU-{}", id % 20);
    minishop::order(
        id,
        &format!("c{}@example.com", id % 50),
        &[(sku.as_str(), 1, "2.00")],
        "2026-11-28T12:00:00Z",
    )
}

/// Waits until every stored delivery is processed.
async fn wait_until_drained(db_url: &str, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let pending = count(
            db_url,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM webhook_inbox WHERE state <> 'done'",
        )
        .await;
        if pending == 0 {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!(
                "{pending} deliveries still pending: {}",
                stuck_deliveries(db_url).await
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The deliveries not done, with their state and last error, for a failure message.
async fn stuck_deliveries(db_url: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    let rows = sqlx::query(
        "SELECT id, state, attempts, COALESCE(last_error, '') FROM webhook_inbox \
         WHERE state <> 'done' ORDER BY id LIMIT 10",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            format!(
                "#{} {} after {} attempts: {}",
                sqlx::Row::get::<i64, _>(row, 0),
                sqlx::Row::get::<String, _>(row, 1),
                sqlx::Row::get::<i64, _>(row, 2),
                sqlx::Row::get::<String, _>(row, 3),
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One number from the database the processes share, read beside them.
async fn count(db_url: &str, sql: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let n = sqlx::Row::get::<i64, _>(&row, 0);
    conn.close().await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgresql_import_every_order_once() {
    if !tovor_tests::service::postgres_ready() {
        return;
    }
    sqlx::any::install_default_drivers();
    let database = TestDatabase::new(Db::Postgres).await.unwrap();
    let plugins = plugins();
    let shop = Minishop::start().await.unwrap();
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Tovor::start(free_port(), data_a.path(), &database.url, &plugins);
    let http = reqwest::Client::new();
    a.ready(&http).await;
    // The second process starts once the first has migrated the schema.
    let b = Tovor::start(free_port(), data_b.path(), &database.url, &plugins);
    b.ready(&http).await;
    let (token, webhook_a) = set_up(&http, &a, &shop).await;
    let webhook_b = webhook_a.replace(&a.port.to_string(), &b.port.to_string());

    const ORDERS: u64 = 1000;
    for id in 1..=ORDERS {
        shop.put_order(order_for(id));
    }
    let http = Arc::new(http);
    let mut senders = tokio::task::JoinSet::new();
    for lane in 0..16_u64 {
        let (http, webhook_a, webhook_b) = (http.clone(), webhook_a.clone(), webhook_b.clone());
        senders.spawn(async move {
            let mut id = lane + 1;
            while id <= ORDERS {
                // Alternate the processes, and send every tenth delivery to both.
                let order = order_for(id);
                let target = if id % 2 == 0 { &webhook_a } else { &webhook_b };
                assert_eq!(deliver(&http, target, id, &order).await, 200);
                if id % 10 == 0 {
                    let other = if id % 2 == 0 { &webhook_b } else { &webhook_a };
                    assert_eq!(deliver(&http, other, id, &order).await, 200);
                }
                id += 16;
            }
        });
    }
    while let Some(result) = senders.join_next().await {
        result.unwrap();
    }

    wait_until_drained(&database.url, Duration::from_secs(300)).await;
    assert_eq!(
        count(
            &database.url,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM webhook_inbox"
        )
        .await,
        ORDERS as i64
    );
    assert_eq!(
        count(&database.url, "SELECT CAST(COUNT(*) AS BIGINT) FROM orders").await,
        ORDERS as i64
    );
    assert_eq!(
        count(
            &database.url,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM order_history WHERE action = 'created'"
        )
        .await,
        ORDERS as i64,
        "every order created exactly once"
    );
    assert_eq!(
        count(&database.url, "SELECT CAST(COUNT(*) AS BIGINT) FROM items").await,
        20
    );
    // Both processes did part of the work.
    for process in [&a, &b] {
        let metrics = http
            .get(process.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let created: f64 = metrics
            .lines()
            .filter(|line| {
                line.starts_with("tovor_imports_total") && line.contains("decision=\"created\"")
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(
            created > 0.0,
            "process on {} imported nothing:\n{metrics}",
            process.port
        );
    }
    let _ = token;
    a.kill();
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_accepted_delivery_and_no_stock_push() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::new(Db::Sqlite).await.unwrap();
    let plugins = plugins();
    let shop = Minishop::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let http = Arc::new(reqwest::Client::new());
    let tovor = Tovor::start(port, data.path(), &database.url, &plugins);
    tovor.ready(&http).await;
    let (token, webhook) = set_up(&http, &tovor, &shop).await;

    // Deliveries stream in; the process dies in the middle of them.
    const ORDERS: u64 = 1000;
    for id in 1..=ORDERS {
        shop.put_order(order_for(id));
    }
    let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut senders = tokio::task::JoinSet::new();
    for lane in 0..8_u64 {
        let (http, webhook, accepted) = (http.clone(), webhook.clone(), accepted.clone());
        senders.spawn(async move {
            let mut id = lane + 1;
            while id <= ORDERS {
                if deliver(&http, &webhook, id, &order_for(id)).await == 200 {
                    accepted.lock().unwrap().push(id);
                }
                id += 8;
            }
        });
    }
    // Killed once a fair number got their 200, with more on the wire.
    while accepted.lock().unwrap().len() < 150 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tovor.kill();
    while senders.join_next().await.is_some() {}
    let accepted = accepted.lock().unwrap().clone();
    assert!(!accepted.is_empty(), "nothing was accepted before the kill");
    assert!(
        (accepted.len() as u64) < ORDERS,
        "the kill came too late to matter"
    );

    // Restarted on the same data: every accepted delivery becomes an order.
    let tovor = Tovor::start(port, data.path(), &database.url, &plugins);
    tovor.ready(&http).await;
    wait_until_drained(&database.url, Duration::from_secs(120)).await;
    let orders = count(&database.url, "SELECT CAST(COUNT(*) AS BIGINT) FROM orders").await;
    assert!(
        orders >= accepted.len() as i64,
        "{orders} orders for {} accepted deliveries",
        accepted.len()
    );
    for id in &accepted {
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE external_id = '{id}'");
        assert_eq!(
            count(&database.url, &sql).await,
            1,
            "accepted delivery of order {id} was lost"
        );
    }

    // A slow shop: stock pushes are in flight when the process dies.
    // Wait for the pushes of the imports to settle, then slow the shop down.
    let mut settled = shop.updates().len();
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = shop.updates().len();
        if now == settled {
            break;
        }
        settled = now;
    }
    shop.set_stock_delay(Duration::from_millis(300));
    let warehouse = api(
        &http,
        reqwest::Method::GET,
        tovor.url("/api/v1/warehouses"),
        &token,
        Value::Null,
    )
    .await[0]["id"]
        .clone();
    let items = api(
        &http,
        reqwest::Method::GET,
        tovor.url("/api/v1/items"),
        &token,
        Value::Null,
    )
    .await;
    let skus: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(skus.len(), 20, "{items}");
    let lines: Vec<Value> = skus
        .iter()
        .map(|sku| json!({"sku": sku, "quantity": "100"}))
        .collect();
    api(
        &http,
        reqwest::Method::POST,
        tovor.url("/api/v1/stock/receipts"),
        &token,
        json!({"warehouse_id": warehouse, "lines": lines}),
    )
    .await;
    let started = tokio::time::Instant::now();
    let receipt_pushes = |shop: &Minishop| {
        shop.updates()
            .iter()
            .skip(settled)
            .filter(|update| update.quantity == 100)
            .count()
    };
    while receipt_pushes(&shop) == 0 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(receipt_pushes(&shop) > 0, "no push started");
    tovor.kill();
    let pushed_before_kill = receipt_pushes(&shop);
    assert!(
        pushed_before_kill < 20,
        "every push finished before the kill: {:?}",
        shop.updates()
            .iter()
            .skip(settled)
            .map(|u| (u.sku.clone(), u.quantity, u.at.elapsed()))
            .collect::<Vec<_>>()
    );
    shop.set_stock_delay(Duration::ZERO);

    // More stock arrives for one item while tovor is down... (written by a restarted
    // process right away); the shop must end with the current values.
    let tovor = Tovor::start(port, data.path(), &database.url, &plugins);
    tovor.ready(&http).await;
    api(
        &http,
        reqwest::Method::POST,
        tovor.url("/api/v1/stock/receipts"),
        &token,
        json!({"warehouse_id": warehouse, "lines": [{"sku": "SKU-3", "quantity": "5"}]}),
    )
    .await;
    for n in 0..20 {
        let sku = format!("SKU-{n}");
        let on_hand = api(
            &http,
            reqwest::Method::GET,
            tovor.url(&format!("/api/v1/stock?sku={sku}")),
            &token,
            Value::Null,
        )
        .await[0]["on_hand"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap() as i64;
        if !shop
            .wait_for_stock(&sku, on_hand, Duration::from_secs(60))
            .await
        {
            let queued = count(
                &database.url,
                "SELECT CAST(COUNT(*) AS BIGINT) FROM stock_push_queue",
            )
            .await;
            let history: Vec<i64> = shop
                .updates()
                .iter()
                .filter(|u| u.sku == sku)
                .map(|u| u.quantity)
                .collect();
            let states = api(
                &http,
                reqwest::Method::GET,
                tovor.url("/api/v1/shops/1/stock"),
                &token,
                Value::Null,
            )
            .await;
            panic!(
                "{sku}: shop has {:?} (updates {history:?}), tovor has {on_hand}; {queued} queued; {} requests; states {states}",
                shop.stock(&sku),
                shop.requests()
            );
        }
    }
    drop(tovor);
}
