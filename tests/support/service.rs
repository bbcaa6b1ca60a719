//! A running tovor service for end-to-end tests: a fresh database (a SQLite file, or a
//! fresh schema in the PostgreSQL at `TOVOR_TEST_POSTGRES_URL`), the example connector
//! loaded, the HTTP API on a free port of 127.0.0.1, workers polling quickly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tovor_runtime::{Runtime, RuntimeOptions};
use tovor_server::{Sealer, Server, ServerConfig, WorkerOptions};
use tovor_store::Store;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    /// The databases a benchmark runs on: those `TOVOR_BENCH_BACKENDS` names
    /// (`sqlite,postgres` by default).
    pub fn benchmarked() -> Vec<Self> {
        let chosen =
            std::env::var("TOVOR_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
        [Self::Sqlite, Self::Postgres]
            .into_iter()
            .filter(|db| {
                let name = format!("{db:?}").to_lowercase();
                chosen.split(',').any(|b| b.trim() == name)
            })
            .collect()
    }
}

/// A database for one test, removed afterwards.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

pub use tovor_testdb::{postgres_ready, postgres_url};

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{:x}_{:x}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDatabase {
    pub async fn new(db: Db) -> anyhow::Result<Self> {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir()?;
                Ok(Self {
                    url: format!("sqlite://{}", dir.path().join("tovor.db").display()),
                    _dir: Some(dir),
                    schema: None,
                })
            }
            Db::Postgres => {
                use sqlx::Connection;
                let base = postgres_url();
                let schema = format!("tovor_svc_{}", unique());
                let mut conn = sqlx::PgConnection::connect(&base)
                    .await
                    .with_context(|| format!("PostgreSQL at {base} (TOVOR_TEST_POSTGRES_URL)"))?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
                let separator = if base.contains('?') { '&' } else { '?' };
                Ok(Self {
                    url: format!("{base}{separator}options=-c%20search_path%3D{schema}"),
                    _dir: None,
                    schema: Some((base, schema)),
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((url, schema)) = self.schema.take() else {
            return;
        };
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Worker settings for tests: quick polls and retries.
pub fn quick_workers(node: &str) -> WorkerOptions {
    WorkerOptions {
        node: node.to_owned(),
        idle_poll: Duration::from_millis(100),
        backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(1),
        lease: Duration::from_secs(30),
        ..WorkerOptions::default()
    }
}

pub const ADMIN_TOKEN: &str = "admin-token-for-tests";

/// A tovor service serving on 127.0.0.1.
pub struct TestService {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub store: Store,
    server: Option<Server>,
    serving: tokio::task::JoinHandle<()>,
    _data: tempfile::TempDir,
    pub database: TestDatabase,
}

/// The example connector's plugin folder, built once per test process.
pub fn example_shop_plugins() -> anyhow::Result<PathBuf> {
    let built = crate::example_shop()?;
    Ok(built
        .dir
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or(built.dir))
}

impl TestService {
    pub async fn start(db: Db) -> anyhow::Result<Self> {
        Self::start_with(db, quick_workers(&format!("test-{}", unique()))).await
    }

    pub async fn start_with(db: Db, workers: WorkerOptions) -> anyhow::Result<Self> {
        Self::start_with_plugins(db, workers, &[crate::example_shop()?]).await
    }

    /// A service with the bundled connector `plugins/<name>` loaded.
    pub async fn start_with_connector(db: Db, name: &str) -> anyhow::Result<Self> {
        let plugin = crate::connector(name)?;
        Self::start_with_plugins(db, quick_workers(&format!("test-{}", unique())), &[plugin]).await
    }

    pub async fn start_with_plugins(
        db: Db,
        workers: WorkerOptions,
        plugins: &[tovor_harness::BuiltPlugin],
    ) -> anyhow::Result<Self> {
        Self::start_with_runtime(db, workers, plugins, RuntimeOptions::default()).await
    }

    /// Like [`TestService::start_with_plugins`], with the runtime's own settings (private
    /// egress is always allowed: the fakes listen on loopback).
    pub async fn start_with_runtime(
        db: Db,
        workers: WorkerOptions,
        plugins: &[tovor_harness::BuiltPlugin],
        runtime: RuntimeOptions,
    ) -> anyhow::Result<Self> {
        Self::launch(db, workers, plugins, runtime, None).await
    }

    /// A service that believes it is reachable at `public_url` (an `https://` address,
    /// as platforms that register webhooks demand): its webhook URLs carry it, while
    /// the test still talks to it on loopback ([`TestService::url`]).
    pub async fn start_at_public_url(
        db: Db,
        plugins: &[tovor_harness::BuiltPlugin],
        public_url: &str,
    ) -> anyhow::Result<Self> {
        let workers = quick_workers(&format!("test-{}", unique()));
        let runtime = RuntimeOptions::default();
        Self::launch(db, workers, plugins, runtime, Some(public_url.to_owned())).await
    }

    async fn launch(
        db: Db,
        workers: WorkerOptions,
        plugins: &[tovor_harness::BuiltPlugin],
        runtime: RuntimeOptions,
        public_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let database = TestDatabase::new(db).await?;
        let store = Store::open(&database.url).await?;
        let data = tempfile::tempdir()?;
        let runtime = Runtime::new(RuntimeOptions {
            allow_private_egress: true,
            ..runtime
        })?;
        for plugin in plugins {
            runtime.load_plugin_dir(&plugin.dir).await?;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = Server::start(ServerConfig {
            store: store.clone(),
            runtime,
            sealer: Sealer::from_key([42; 32]),
            admin_token: ADMIN_TOKEN.to_owned(),
            public_url: public_url.unwrap_or_else(|| format!("http://{addr}")),
            plugins_dir: data.path().join("plugins"),
            max_body_bytes: 256 * 1024,
            workers,
        });
        let service = tovor_web::app(&server).into_make_service_with_connect_info::<SocketAddr>();
        let serving = tokio::spawn(async move {
            let _ = axum::serve(listener, service).await;
        });
        Ok(Self {
            addr,
            http: reqwest::Client::new(),
            store,
            server: Some(server),
            serving,
            _data: data,
            database,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops serving and the workers (after their work in hand).
    pub async fn stop(mut self) {
        self.serving.abort();
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// Runs SQL straight on the service's database, past the store: to put a row into
    /// a state the API cannot (a time in the past, a failure injected), or to break it.
    pub async fn execute_sql(&self, sql: &str) -> anyhow::Result<()> {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.database.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.database.url).await?;
            sqlx::raw_sql(sql).execute(&mut conn).await?;
            conn.close().await?;
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.database.url).await?;
            sqlx::raw_sql(sql).execute(&mut conn).await?;
            conn.close().await?;
        }
        Ok(())
    }

    /// `method path` with `token` and a JSON body, answered with raw bytes (a label,
    /// a PDF): status, content type and body.
    pub async fn download(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, String, Vec<u8>)> {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok((status, content_type, response.bytes().await?.to_vec()))
    }

    /// `method path` with `token`, JSON body; returns status and JSON (or Null).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, json))
    }

    /// A new company; returns its token.
    pub async fn company(&self, name: &str) -> anyhow::Result<String> {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/companies",
                Some(ADMIN_TOKEN),
                Some(json!({"name": name})),
            )
            .await?;
        anyhow::ensure!(status == 201, "company: {status} {body}");
        body["token"]
            .as_str()
            .map(str::to_owned)
            .context("no token")
    }

    /// A warehouse and a Minishop shop selling from it; returns (shop id, webhook URL).
    pub async fn minishop_shop(
        &self,
        token: &str,
        shop: &crate::minishop::Minishop,
        extra: Value,
    ) -> anyhow::Result<(i64, String)> {
        self.add_shop(token, "example-shop", "Minishop", shop.config(), extra)
            .await
    }

    /// A warehouse "Main" and a shop of `plugin` with `config`, selling from it; `extra`
    /// adds shop settings. Returns (shop id, webhook URL).
    pub async fn add_shop(
        &self,
        token: &str,
        plugin: &str,
        name: &str,
        config: Value,
        extra: Value,
    ) -> anyhow::Result<(i64, String)> {
        let (status, warehouse) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/warehouses",
                Some(token),
                Some(json!({"name": "Main"})),
            )
            .await?;
        anyhow::ensure!(status == 201, "warehouse: {status} {warehouse}");
        let mut body = json!({
            "plugin": plugin,
            "name": name,
            "config": config,
            "warehouse_id": warehouse["id"],
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                body.insert(key.clone(), value.clone());
            }
        }
        let (status, created) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/shops",
                Some(token),
                Some(body),
            )
            .await?;
        anyhow::ensure!(status == 201, "shop: {status} {created}");
        Ok((
            created["id"].as_i64().context("shop id")?,
            created["webhook_url"]
                .as_str()
                .context("webhook url")?
                .to_owned(),
        ))
    }

    /// Posts a signed Minishop delivery to `webhook_url`.
    pub async fn deliver(
        &self,
        webhook_url: &str,
        event: &str,
        delivery_id: &str,
        order: &Value,
        secret: &str,
    ) -> anyhow::Result<u16> {
        let (headers, body) = crate::minishop::signed_delivery(event, delivery_id, order, secret);
        let mut request = self.http.post(webhook_url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Ok(request.send().await?.status().as_u16())
    }

    /// Polls `check` every 50 ms until it gives `Some` or `timeout` passes.
    pub async fn eventually<T, F, Fut>(&self, timeout: Duration, mut check: F) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(value) = check().await {
                return Some(value);
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// How long the end-to-end tests wait for background work.
pub const WAIT: Duration = Duration::from_secs(30);

/// A service with a company ("Acme") selling through one shop, and the API calls the
/// end-to-end tests make against it.
pub struct ShopSession {
    pub service: TestService,
    pub token: String,
    pub shop_id: i64,
    pub webhook_url: String,
}

impl ShopSession {
    /// Starts a service with the bundled connector `plugin` and adds a shop of it with
    /// `config`; `settings` adds shop settings (`update_existing`, `stock_mode`, ...).
    pub async fn start(db: Db, plugin: &str, config: Value, settings: Value) -> Self {
        let workers = quick_workers(&format!("test-{}", unique()));
        Self::start_with(db, plugin, config, settings, &[], workers).await
    }

    /// Like [`ShopSession::start`], with more bundled connectors loaded (carriers)
    /// and the given worker settings.
    pub async fn start_with(
        db: Db,
        plugin: &str,
        config: Value,
        settings: Value,
        also: &[&str],
        workers: WorkerOptions,
    ) -> Self {
        let plugins = std::iter::once(plugin)
            .chain(also.iter().copied())
            .map(|name| {
                crate::connector(name).unwrap_or_else(|error| panic!("building {name}: {error:#}"))
            })
            .collect::<Vec<_>>();
        let service = TestService::start_with_plugins(db, workers, &plugins)
            .await
            .unwrap_or_else(|error| panic!("service with {plugin}: {error:#}"));
        let token = service
            .company("Acme")
            .await
            .unwrap_or_else(|error| panic!("company: {error:#}"));
        let (shop_id, webhook_url) = service
            .add_shop(&token, plugin, plugin, config, settings)
            .await
            .unwrap_or_else(|error| panic!("shop: {error:#}"));
        Self {
            service,
            token,
            shop_id,
            webhook_url,
        }
    }

    /// `GET path`, which must answer 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self
            .service
            .call(reqwest::Method::GET, path, Some(&self.token), None)
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error:#}"));
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.service
            .call(reqwest::Method::POST, path, Some(&self.token), Some(body))
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error:#}"))
    }

    /// Polls `check` until it gives `Some` (within [`WAIT`]); panics naming `what`.
    pub async fn until<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        self.service
            .eventually(WAIT, check)
            .await
            .unwrap_or_else(|| panic!("waited {WAIT:?} for {what}"))
    }

    /// The imported order with this platform id, once it is there and `check` holds.
    pub async fn order_where(&self, external_id: &str, check: impl Fn(&Value) -> bool) -> Value {
        let found = self
            .service
            .eventually(WAIT, || async {
                let list = self.get("/api/v1/orders?limit=500").await;
                let summary = list
                    .as_array()?
                    .iter()
                    .find(|order| order["external_id"] == external_id)?
                    .clone();
                let order = self.get(&format!("/api/v1/orders/{}", summary["id"])).await;
                check(&order).then_some(order)
            })
            .await;
        match found {
            Some(order) => order,
            None => panic!(
                "waited {WAIT:?} for order {external_id}; deliveries: {:#}; shop: {:#}",
                Value::Array(self.deliveries().await),
                self.get(&format!("/api/v1/shops/{}", self.shop_id)).await["sync"]
            ),
        }
    }

    /// Waits for the shop's first sync (run when a shop is added) to finish, so what
    /// happens next is not mixed up with it.
    pub async fn wait_for_first_sync(&self) {
        self.until("the first sync", || async {
            let shop = self.get(&format!("/api/v1/shops/{}", self.shop_id)).await;
            shop["sync"]["last_finished_at"].as_str().map(drop)
        })
        .await;
    }

    pub async fn order_count(&self) -> usize {
        self.get("/api/v1/orders?limit=500")
            .await
            .as_array()
            .map_or(0, Vec::len)
    }

    /// The codes of the company's items, sorted.
    pub async fn item_codes(&self) -> Vec<String> {
        let items = self.get("/api/v1/items").await;
        let mut codes: Vec<String> = items
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        codes.sort();
        codes
    }

    /// Receives `lines` of (SKU, quantity) into the shop's warehouse.
    pub async fn receive(&self, warehouse: &Value, lines: &[(&str, &str)]) {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(sku, quantity)| json!({"sku": sku, "quantity": quantity}))
            .collect();
        let (status, body) = self
            .post(
                "/api/v1/stock/receipts",
                json!({"warehouse_id": warehouse, "lines": lines}),
            )
            .await;
        assert_eq!(status, 201, "receipt: {body}");
    }

    /// Issues a document (`invoices` or `delivery-notes`) for the whole order.
    pub async fn issue(&self, order: &Value, kind: &str) -> Value {
        let (status, document) = self
            .post(&format!("/api/v1/orders/{}/{kind}", order["id"]), json!({}))
            .await;
        assert_eq!(status, 201, "{kind}: {document}");
        document
    }

    /// The shop's webhook deliveries, newest first.
    pub async fn deliveries(&self) -> Vec<Value> {
        self.get(&format!("/api/v1/shops/{}/deliveries", self.shop_id))
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Asks for every order the shop has ever had (a history import from 2000).
    pub async fn import_all_history(&self) {
        let (status, body) = self
            .post(
                &format!("/api/v1/shops/{}/import-history", self.shop_id),
                json!({"from": "2000-01-01T00:00:00Z"}),
            )
            .await;
        assert_eq!(status, 202, "import-history: {body}");
    }

    /// "Sync now".
    pub async fn sync_now(&self) {
        let (status, body) = self
            .post(&format!("/api/v1/shops/{}/sync", self.shop_id), json!({}))
            .await;
        assert_eq!(status, 202, "sync: {body}");
    }

    /// Waits until a delivery has been tried at least twice and is still pending: the
    /// platform's trouble is being retried.
    pub async fn wait_for_retrying_delivery(&self) -> Value {
        self.until("a delivery being retried", || async {
            let first = self.deliveries().await.first()?.clone();
            (first["attempts"].as_u64()? >= 2 && first["state"] == "pending").then_some(first)
        })
        .await
    }
}
