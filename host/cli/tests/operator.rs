#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The operator commands against a real `tovor serve` (SQLite in a temporary folder).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ENV: &[&str] = &[
    "TOVOR_URL",
    "TOVOR_TOKEN",
    "TOVOR_DATA_DIR",
    "TOVOR_ADMIN_TOKEN",
    "TOVOR_PLUGINS",
    "TOVOR_LISTEN",
    "TOVOR_DATABASE_URL",
    "TOVOR_PUBLIC_URL",
];

/// A `tovor serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    url: String,
    data_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        let addr: SocketAddr = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_tovor"));
        command
            .args(["serve", "--no-workers", "--listen"])
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--plugins")
            .arg(&plugins)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for var in ENV {
            command.env_remove(var);
        }
        let child = command.spawn().unwrap();
        let server = Self {
            child,
            url: format!("http://{addr}"),
            data_dir,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(addr).is_err() || !server.data_dir.join("admin-token").exists() {
            assert!(Instant::now() < deadline, "tovor serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Runs `tovor <args> --url <server> --data-dir <its data>` (so the admin token is
    /// found), with `token` when given.
    fn tovor(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tovor"));
        command
            .args(args)
            .args(["--url", &self.url])
            .arg("--data-dir")
            .arg(&self.data_dir);
        if let Some(token) = token {
            command.args(["--token", token]);
        }
        for var in ENV {
            command.env_remove(var);
        }
        command.output().unwrap()
    }

    /// The command's stdout; it must succeed.
    fn ok(&self, token: Option<&str>, args: &[&str]) -> String {
        let output = self.tovor(token, args);
        assert!(
            output.status.success(),
            "tovor {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The command's stderr; it must fail.
    fn fails(&self, token: Option<&str>, args: &[&str]) -> String {
        let output = self.tovor(token, args);
        assert!(
            !output.status.success(),
            "tovor {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stderr).unwrap()
    }

    fn json(&self, token: Option<&str>, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(token, &args)).unwrap()
    }
}

fn push_order(server: &Server, token: &str, shop: &Value) -> Value {
    let url = format!("{}/api/v1/shops/{}/orders", server.url, shop["id"]);
    let order = json!({
        "id": "77",
        "number": "C-77",
        "status": "processing",
        "payment_status": "paid",
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-11-28T09:00:00Z",
        "modified_at": "2026-11-28T09:00:00Z",
        "customer": {"email": "buyer@example.com", "first_name": "Bo", "last_name": "Buyer"},
        "lines": [{"sku": "TEA", "name": "Tea", "quantity": "3", "unit_price": "4.00",
                   "tax_rate": "9.5", "tax_amount": "1.14", "total": "12.00"}],
        "tax_total": "1.14",
        "total": "13.14"
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .json(&order)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    })
}

#[test]
fn an_operator_session() {
    let server = Server::start();

    // The admin token comes from <data-dir>/admin-token.
    let company = server.json(None, &["companies", "add", "Acme"]);
    let token = company["token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    assert_eq!(
        server.fails(None, &["warehouses", "list"]),
        "error: the admin token manages companies and plugins; use a company's token here\n"
    );
    assert_eq!(
        server.ok(None, &["plugins", "list", "--remote"]),
        "no plugins loaded\n"
    );

    let created = server.ok(
        t,
        &["warehouses", "add", "Main warehouse", "--code", "MAIN"],
    );
    assert!(
        created.contains("created: Main warehouse (MAIN)"),
        "{created}"
    );
    let listed = server.ok(t, &["warehouses", "list"]);
    assert!(listed.starts_with("ID  CODE  NAME\n"), "{listed}");
    assert!(listed.contains("MAIN  Main warehouse"), "{listed}");
    let warehouse = server.json(t, &["warehouses", "list"])[0]["id"].to_string();

    server.ok(
        t,
        &["payment-methods", "add", "cod", "Cash on delivery", "--cod"],
    );
    let methods = server.ok(t, &["payment-methods", "list"]);
    assert!(methods.contains("cod   Cash on delivery  yes"), "{methods}");

    // Errors show the API's message and field.
    assert_eq!(
        server.fails(
            t,
            &[
                "shops",
                "add",
                "--name",
                "X",
                "--warehouse",
                &warehouse,
                "--plugin",
                "nope"
            ]
        ),
        "error: no plugin \"nope\" is loaded (field plugin)\n"
    );
    assert_eq!(
        server.fails(
            t,
            &["stock", "receive", "--warehouse", &warehouse, "TEA=10"]
        ),
        "error: no item \"TEA\" (field lines[0].sku)\n"
    );

    let added = server.ok(
        t,
        &[
            "shops",
            "add",
            "--name",
            "Own shop",
            "--warehouse",
            &warehouse,
        ],
    );
    assert!(added.contains("a custom platform"), "{added}");
    assert!(
        added.contains(&format!("push its orders to: {}/api/v1/shops/", server.url)),
        "{added}"
    );
    let shop = server.json(t, &["shops", "list"])[0].clone();
    let shops = server.ok(t, &["shops", "list"]);
    assert!(shops.contains("Own shop"), "{shops}");
    let shown = server.ok(t, &["shops", "show", &shop["id"].to_string()]);
    assert!(shown.contains("(custom platform)"), "{shown}");

    assert_eq!(push_order(&server, &token, &shop)["result"], "created");
    let orders = server.json(t, &["orders", "list", "--shop", &shop["id"].to_string()]);
    let order = orders[0]["id"].to_string();
    let listed = server.ok(t, &["orders", "list", "--status", "processing"]);
    assert!(listed.contains("C-77"), "{listed}");
    assert!(listed.contains("13.14 EUR"), "{listed}");
    let shown = server.ok(t, &["orders", "show", &order]);
    assert!(shown.contains("Bo Buyer"), "{shown}");
    assert!(shown.contains("TEA"), "{shown}");

    let invoice = server.json(t, &["invoices", "create", &order, "--line", "0=1"]);
    assert_eq!(invoice["kind"], "invoice");
    assert_eq!(invoice["draft"]["lines"][0]["quantity"], "1");
    let document = invoice["id"].to_string();
    let shown = server.ok(t, &["documents", "show", &document]);
    assert!(shown.contains("Tea"), "{shown}");
    let cancelled = server.ok(t, &["documents", "cancel", &document]);
    assert!(
        cancelled.starts_with(&format!("document {document} cancelled by the reversal")),
        "{cancelled}"
    );
    let note = server.ok(t, &["delivery-notes", "create", &order]);
    assert!(note.starts_with("delivery note "), "{note}");

    let received = server.ok(
        t,
        &["stock", "receive", "--warehouse", &warehouse, "TEA=10"],
    );
    assert!(received.starts_with("receipt recorded"), "{received}");
    let stock = server.json(t, &["stock", "show", "--sku", "TEA"]);
    assert_eq!(stock[0]["sku"], "TEA");
    let items = server.ok(t, &["items", "list"]);
    assert!(items.contains("TEA"), "{items}");
    let customers = server.ok(t, &["customers", "list"]);
    assert!(customers.contains("buyer@example.com"), "{customers}");
}

#[test]
fn an_unreachable_tovor_is_reported() {
    let output = Command::new(env!("CARGO_BIN_EXE_tovor"))
        .args([
            "warehouses",
            "list",
            "--url",
            "http://127.0.0.1:9",
            "--token",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: cannot reach tovor at http://127.0.0.1:9/"),
        "{stderr}"
    );
}
