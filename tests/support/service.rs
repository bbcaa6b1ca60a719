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

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database for one test, removed afterwards.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

pub fn postgres_url() -> String {
    std::env::var("TOVOR_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

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
        let database = TestDatabase::new(db).await?;
        let store = Store::open(&database.url).await?;
        let data = tempfile::tempdir()?;
        let runtime = Runtime::new(RuntimeOptions {
            allow_private_egress: true,
            ..RuntimeOptions::default()
        })?;
        let plugin = crate::example_shop()?;
        runtime.load_plugin_dir(&plugin.dir).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = Server::start(ServerConfig {
            store: store.clone(),
            runtime,
            sealer: Sealer::from_key([42; 32]),
            admin_token: ADMIN_TOKEN.to_owned(),
            public_url: format!("http://{addr}"),
            plugins_dir: data.path().join("plugins"),
            max_body_bytes: 256 * 1024,
            workers,
        });
        let router = server.router();
        let serving = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
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
            "plugin": "example-shop",
            "name": "Minishop",
            "config": shop.config(),
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
