//! Operating tovor with real processes: node names that never collide, company tokens
//! revoked across processes, backups of a running SQLite service, the config file, the
//! log on a pipe, the admin token's file mode, completions and man pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tovor_tests::service::{Db, TestDatabase};

const ADMIN: &str = "admin-token-of-the-operations-tests";
const SECRET_KEY: &str = "0202020202020202020202020202020202020202020202020202020202020202";
const BIN: &str = env!("CARGO_BIN_EXE_tovor");

/// One `tovor serve` child with its log (stdout, a pipe) collected line by line.
struct Tovor {
    child: Child,
    host: String,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tovor serve` with the tests' admin token and key, an empty plugin folder and info
/// logs, on `host:port`; `extra` adds arguments, `configure` sets up the rest.
fn serve_command(host: &str, port: u16, data_dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", &format!("{host}:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--plugins")
        .arg(data_dir.join("plugins"))
        .args(["--idle-poll-secs", "1"])
        .args(extra)
        .env("TOVOR_ADMIN_TOKEN", ADMIN)
        .env("TOVOR_SECRET_KEY", SECRET_KEY)
        .env("RUST_LOG", "info")
        // As under systemd: no HOSTNAME, and nothing from the test's own environment.
        .env_remove("HOSTNAME")
        .env_remove("TOVOR_NODE")
        .env_remove("TOVOR_CONFIG")
        .env_remove("TOVOR_DATA_DIR")
        .env_remove("TOVOR_LISTEN")
        .env_remove("TOVOR_PUBLIC_URL")
        .env_remove("TOVOR_DATABASE_URL");
    command
}

impl Tovor {
    fn spawn(mut command: Command, host: &str, port: u16) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if std::env::var_os("TOVOR_TEST_LOG").is_some() {
                    println!("{line}");
                }
                lines.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            host: host.to_owned(),
            port,
            log,
        }
    }

    fn start(host: &str, port: u16, data_dir: &Path, extra: &[&str]) -> Self {
        Self::spawn(serve_command(host, port, data_dir, extra), host, port)
    }

    fn base(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
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
        panic!("tovor on {} did not become ready", self.base());
    }

    /// The first log line containing `needle`, waiting for it.
    async fn log_line(&self, needle: &str) -> String {
        for _ in 0..600 {
            if let Some(line) = self
                .log
                .lock()
                .unwrap()
                .iter()
                .find(|line| line.contains(needle))
            {
                return line.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no log line with {needle:?}: {:?}",
            self.log.lock().unwrap()
        );
    }

    fn whole_log(&self) -> String {
        self.log.lock().unwrap().join("\n")
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

/// The value of `key=` in a text log line.
fn field(line: &str, key: &str) -> String {
    let start = line
        .find(&format!(" {key}="))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
        + key.len()
        + 2;
    line[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_matches('"')
        .to_owned()
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, &url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn ok(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, answer) = call(http, method, url.clone(), token, body).await;
    assert!((200..300).contains(&status), "{url}: {status} {answer}");
    answer
}

/// A company with a custom-platform shop; returns (company id, token, shop id).
async fn company_with_shop(http: &reqwest::Client, tovor: &Tovor) -> (i64, String, i64) {
    let company = ok(
        http,
        reqwest::Method::POST,
        tovor.url("/api/v1/companies"),
        ADMIN,
        Some(json!({"name": "Acme"})),
    )
    .await;
    let token = company["token"].as_str().unwrap().to_owned();
    let warehouse = ok(
        http,
        reqwest::Method::POST,
        tovor.url("/api/v1/warehouses"),
        &token,
        Some(json!({"name": "Main"})),
    )
    .await;
    let shop = ok(
        http,
        reqwest::Method::POST,
        tovor.url("/api/v1/shops"),
        &token,
        Some(json!({"name": "Own shop", "warehouse_id": warehouse["id"]})),
    )
    .await;
    (
        company["id"].as_i64().unwrap(),
        token,
        shop["id"].as_i64().unwrap(),
    )
}

fn normalized_order(id: u32) -> Value {
    json!({
        "id": id.to_string(),
        "number": format!("C-{id}"),
        "status": "processing",
        "payment_status": "paid",
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-11-28T09:00:00Z",
        "modified_at": "2026-11-28T09:00:00Z",
        "customer": {"email": format!("buyer{}@example.com", id % 3), "first_name": "Bo", "last_name": "Buyer"},
        "lines": [{"sku": format!("TEA-{}", id % 4), "name": "Tea", "quantity": "3", "unit_price": "4.00",
                   "tax_rate": "9.5", "tax_amount": "1.14", "total": "12.00"}],
        "tax_total": "1.14",
        "total": "13.14"
    })
}

async fn sql(db_url: &str, statement: &str) -> Vec<sqlx::any::AnyRow> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    let rows = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

/// Who holds the lease of the inbox row delivered as `delivery`.
async fn lease_owner(db_url: &str, delivery: &str) -> Option<String> {
    let rows = sql(
        db_url,
        &format!("SELECT lease_owner FROM webhook_inbox WHERE delivery_id = '{delivery}'"),
    )
    .await;
    sqlx::Row::get::<Option<String>, _>(&rows[0], 0)
}

/// An inbox row leased to `owner` for an hour and not due for a long time: work a node
/// is in the middle of.
async fn leased_row(db_url: &str, company: i64, shop: i64, delivery: &str, owner: &str) {
    sql(
        db_url,
        &format!(
            "INSERT INTO webhook_inbox (company_id, shop_id, received_at, delivery_id, event, \
             state, next_attempt_at, lease_owner, lease_until) VALUES ({company}, {shop}, \
             '2026-11-28T09:00:00Z', '{delivery}', '{{}}', 'pending', '2999-01-01T00:00:00Z', \
             '{owner}', '2999-01-01T00:00:00Z')"
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_never_share_a_name_and_a_restart_keeps_to_its_own_leases() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::new(Db::Postgres).await.unwrap();
    let http = reqwest::Client::new();
    // Two machines cloned from one image: same port, no --node, no HOSTNAME.
    let port = free_port();
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let db_flag = ["--database-url", database.url.as_str()];
    let a = Tovor::start("127.0.0.1", port, data_a.path(), &db_flag);
    a.ready(&http).await;
    let b = Tovor::start("127.0.0.2", port, data_b.path(), &db_flag);
    b.ready(&http).await;
    let node_a = field(&a.log_line("tovor is serving").await, "node");
    let node_b = field(&b.log_line("tovor is serving").await, "node");
    assert_ne!(node_a, node_b, "two nodes share a name");
    for (node, data) in [(&node_a, &data_a), (&node_b, &data_b)] {
        let kept = std::fs::read_to_string(data.path().join("node-id")).unwrap();
        assert_eq!(kept.trim(), node, "the name is kept in the data folder");
    }

    // Each node is in the middle of a piece of work.
    let (company, _, shop) = company_with_shop(&http, &a).await;
    leased_row(&database.url, company, shop, "held-by-a", &node_a).await;
    leased_row(&database.url, company, shop, "held-by-b", &node_b).await;

    // A is killed and restarted on its data folder: same name, its own work back at
    // once, B's left alone.
    a.kill();
    let a = Tovor::start("127.0.0.1", port, data_a.path(), &db_flag);
    a.ready(&http).await;
    let starting = a.log_line("workers starting").await;
    assert_eq!(field(&starting, "node"), node_a);
    assert_eq!(lease_owner(&database.url, "held-by-a").await, None);
    assert_eq!(
        lease_owner(&database.url, "held-by-b").await.as_deref(),
        Some(node_b.as_str()),
        "restarting one node released another's lease"
    );
    drop(b);
    drop(a);
}

/// `tovor ARGS` against a running service; its standard output.
fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("TOVOR_TOKEN")
        .env_remove("TOVOR_URL")
        .env_remove("TOVOR_DATA_DIR")
        .env_remove("TOVOR_ADMIN_TOKEN")
        .output()
        .unwrap()
}

fn cli_json(args: &[&str]) -> Value {
    let output = cli(args);
    assert!(
        output.status.success(),
        "tovor {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_company_token_gets_401_at_once_in_every_process() {
    sqlx::any::install_default_drivers();
    let database = TestDatabase::new(Db::Postgres).await.unwrap();
    let http = reqwest::Client::new();
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let db_flag = ["--database-url", database.url.as_str()];
    let a = Tovor::start("127.0.0.1", free_port(), data_a.path(), &db_flag);
    a.ready(&http).await;
    let b = Tovor::start("127.0.0.1", free_port(), data_b.path(), &db_flag);
    b.ready(&http).await;
    let (company, first_token, _) = company_with_shop(&http, &a).await;
    let (_, other_token, _) = company_with_shop(&http, &a).await;
    let company = company.to_string();
    let on_a = a.base();

    // Created with the CLI through process A, used on process B.
    let created = cli_json(&[
        "tokens",
        "create",
        "--company",
        &company,
        "--name",
        "accounting export",
        "--url",
        &on_a,
        "--token",
        ADMIN,
        "--json",
    ]);
    let token = created["token"].as_str().unwrap().to_owned();
    let warehouses = || {
        call(
            &http,
            reqwest::Method::GET,
            b.url("/api/v1/warehouses"),
            &token,
            None,
        )
    };
    assert_eq!(warehouses().await.0, 200);

    let listed = cli_json(&[
        "tokens",
        "list",
        "--company",
        &company,
        "--url",
        &on_a,
        "--token",
        ADMIN,
        "--json",
    ]);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|token| token["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["initial", "accounting export"]);
    assert!(
        !listed.to_string().contains(&token),
        "a listing shows the token itself"
    );
    assert!(token.starts_with(listed[1]["prefix"].as_str().unwrap()));

    // Another company's token cannot see or revoke this company's tokens.
    let foreign = cli(&[
        "tokens",
        "revoke",
        "--company",
        &company,
        &created["id"].to_string(),
        "--url",
        &on_a,
        "--token",
        &other_token,
    ]);
    assert!(!foreign.status.success());
    assert_eq!(warehouses().await.0, 200);

    // The company revokes it with its first token, through A; B refuses it at once.
    let revoked = cli_json(&[
        "tokens",
        "revoke",
        "--company",
        &company,
        &created["id"].to_string(),
        "--url",
        &on_a,
        "--token",
        &first_token,
        "--json",
    ]);
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert_eq!(warehouses().await.0, 401);
    assert_eq!(
        call(
            &http,
            reqwest::Method::GET,
            a.url("/api/v1/warehouses"),
            &token,
            None
        )
        .await
        .0,
        401
    );
    // The other tokens still work; the human listing shows the revocation.
    assert_eq!(
        call(
            &http,
            reqwest::Method::GET,
            b.url("/api/v1/warehouses"),
            &first_token,
            None
        )
        .await
        .0,
        200
    );
    let table = cli(&[
        "tokens",
        "list",
        "--company",
        &company,
        "--url",
        &on_a,
        "--token",
        ADMIN,
    ]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("accounting export"), "{table}");
    assert!(
        table.contains(revoked["revoked_at"].as_str().unwrap()),
        "{table}"
    );
    // Unknown tokens and companies are told apart from success.
    let unknown = cli(&[
        "tokens",
        "revoke",
        "--company",
        &company,
        "999999",
        "--url",
        &on_a,
        "--token",
        ADMIN,
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not found"));
    let companies = cli_json(&[
        "companies",
        "list",
        "--url",
        &on_a,
        "--token",
        ADMIN,
        "--json",
    ]);
    assert_eq!(companies.as_array().unwrap().len(), 2);
    let doc: Value = http
        .get(a.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/companies/{id}/tokens",
        "/api/v1/companies/{id}/tokens/{token_id}/revoke",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} not documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_running_sqlite_service_restores_the_same_orders() {
    let http = reqwest::Client::new();
    let data = tempfile::tempdir().unwrap();
    let tovor = Tovor::start("127.0.0.1", free_port(), data.path(), &[]);
    tovor.ready(&http).await;
    let (_, token, shop) = company_with_shop(&http, &tovor).await;
    let push = |id: u32| {
        ok(
            &http,
            reqwest::Method::POST,
            tovor.url(&format!("/api/v1/shops/{shop}/orders")),
            &token,
            Some(normalized_order(id)),
        )
    };
    for id in 1..=25 {
        push(id).await;
    }
    let orders = ok(
        &http,
        reqwest::Method::GET,
        tovor.url("/api/v1/orders"),
        &token,
        None,
    )
    .await;
    assert_eq!(orders.as_array().unwrap().len(), 25);

    // Taken while the service runs and keeps writing.
    let backups = tempfile::tempdir().unwrap();
    let copy = backups.path().join("tovor-backup.db");
    let data_dir = data.path().to_str().unwrap();
    let writer = async {
        for id in 26..=35 {
            push(id).await;
        }
    };
    let (copy_arg, data_arg) = (copy.to_str().unwrap().to_owned(), data_dir.to_owned());
    let backup =
        tokio::task::spawn_blocking(move || cli(&["backup", &copy_arg, "--data-dir", &data_arg]));
    let (backup, ()) = tokio::join!(backup, writer);
    let backup = backup.unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(copy.is_file());
    // A second backup to the same file is refused and leaves the first alone.
    let again = cli(&["backup", copy.to_str().unwrap(), "--data-dir", data_dir]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // Restored: a new data folder with the copy as its database, beside the original.
    let after = ok(
        &http,
        reqwest::Method::GET,
        tovor.url("/api/v1/orders"),
        &token,
        None,
    )
    .await;
    let restored_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored_dir.path().join("tovor.db")).unwrap();
    let restored = Tovor::start("127.0.0.1", free_port(), restored_dir.path(), &[]);
    restored.ready(&http).await;
    let restored_orders = ok(
        &http,
        reqwest::Method::GET,
        restored.url("/api/v1/orders"),
        &token,
        None,
    )
    .await;
    let ids = |list: &Value| -> Vec<String> {
        let mut ids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|order| order["external_id"].as_str().unwrap_or_default().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let restored_ids = ids(&restored_orders);
    // A consistent copy: every order pushed before it, and of the ones pushed during it
    // a prefix of whole orders, each as the service holds it.
    assert!(restored_ids.len() >= 25, "{restored_ids:?}");
    for order in restored_orders.as_array().unwrap() {
        let id = order["id"].clone();
        let original = after
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("restored order {id} was never in the service"));
        assert_eq!(order, original);
        let one = |base: &Tovor| {
            ok(
                &http,
                reqwest::Method::GET,
                base.url(&format!("/api/v1/orders/{id}")),
                &token,
                None,
            )
        };
        let (restored_full, original_full) = (one(&restored).await, one(&tovor).await);
        assert_eq!(
            restored_full["lines"].as_array().unwrap().len(),
            1,
            "{restored_full}"
        );
        assert_eq!(restored_full, original_full);
    }
    for order in orders.as_array().unwrap() {
        assert!(
            restored_orders.as_array().unwrap().contains(order),
            "order {} missing from the backup",
            order["id"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_gives_way_to_the_environment_which_gives_way_to_flags() {
    let http = reqwest::Client::new();
    let dir = tempfile::tempdir().unwrap();
    let (file_data, env_data) = (dir.path().join("from-file"), dir.path().join("from-env"));
    let port = free_port();
    let config = dir.path().join("tovor.toml");
    std::fs::write(
        &config,
        format!(
            "# every key is a flag's name\n\
             listen = \"127.0.0.1:{port}\"\n\
             data_dir = \"{}\"\n\
             public_url = \"http://from-file.example\"\n\
             node = \"from-file\"\n\
             max-body-bytes = 4096\n\
             allow_private_egress = true\n",
            file_data.display()
        ),
    )
    .unwrap();
    // No admin token given: the service makes one in its data folder.
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--node", "from-flag", "--plugins"])
        .arg(dir.path().join("plugins"))
        .env("TOVOR_DATA_DIR", &env_data)
        .env("TOVOR_PUBLIC_URL", "http://from-env.example")
        .env("RUST_LOG", "info")
        .env_remove("TOVOR_ADMIN_TOKEN")
        .env_remove("TOVOR_LISTEN")
        .env_remove("TOVOR_NODE")
        .env_remove("TOVOR_CONFIG");
    let tovor = Tovor::spawn(command, "127.0.0.1", port);
    // The file's listen address (nothing else gave one).
    tovor.ready(&http).await;
    let serving = tovor.log_line("tovor is serving").await;
    assert_eq!(field(&serving, "listen"), format!("127.0.0.1:{port}"));
    // The environment over the file.
    assert_eq!(field(&serving, "data_dir"), env_data.display().to_string());
    assert_eq!(field(&serving, "public_url"), "http://from-env.example");
    assert!(!file_data.exists());
    // The flag over both.
    assert_eq!(field(&serving, "node"), "from-flag");
    // The file's body limit: a larger request gets 413.
    let admin = std::fs::read_to_string(env_data.join("admin-token")).unwrap();
    let big = http
        .post(tovor.url("/api/v1/companies"))
        .bearer_auth(admin.trim())
        .header("content-type", "application/json")
        .body(vec![b' '; 8192])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status().as_u16(), 413);

    // The admin token made on first start is its owner's alone, like secret.key.
    let admin_token = env_data.join("admin-token");
    assert!(admin_token.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&admin_token, &env_data.join("secret.key")] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
        }
    }
    // The log went to a pipe: no colour codes in it.
    let log = tovor.whole_log();
    assert!(log.contains("INFO"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "escape codes in a piped log: {log:?}"
    );
}

#[test]
fn a_config_file_with_an_unknown_or_bad_setting_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tovor.toml");
    for (text, expected) in [
        (
            "listen = \"127.0.0.1:1\"\nlisten_port = 80\n",
            "unknown setting `listen_port`",
        ),
        ("listen = \"not an address\"\n", "setting `listen`"),
        ("no_workers = \"yes\"\n", "setting `no_workers`"),
        ("listen = ", "not valid TOML"),
    ] {
        std::fs::write(&config, text).unwrap();
        let output = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{text:?} was accepted");
        assert!(stderr.contains(expected), "{text:?}: {stderr}");
        assert!(
            !dir.path().join("data").exists(),
            "{text:?} started the service"
        );
    }
    let missing = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(dir.path().join("nowhere.toml"))
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere.toml"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_config_file_starts_the_service() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/tovor.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    assert!(table.contains_key("listen"), "{text}");
    // Its folders and address overridden by flags, the rest as the example says.
    let data = tempfile::tempdir().unwrap();
    let config = example.to_str().unwrap();
    let tovor = Tovor::start("127.0.0.1", free_port(), data.path(), &["--config", config]);
    tovor.ready(&reqwest::Client::new()).await;
}

#[test]
fn completions_and_man_pages_come_from_the_command_line() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef tovor"),
        ("fish", "complete -c tovor"),
    ] {
        let output = cli(&["completions", shell]);
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{shell}");
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("backup") && script.contains("tokens"),
            "{shell}"
        );
    }
    let man = cli(&["man"]);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success());
    assert!(page.contains(".TH tovor 1"), "{page}");
    assert!(page.contains("serve"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let pages = cli(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(pages.status.success());
    assert!(dir.path().join("tovor-serve.1").is_file());
    assert!(dir.path().join("tovor-tokens-revoke.1").is_file());
}
