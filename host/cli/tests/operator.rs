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
        Self::start_with_plugins(&[])
    }

    /// A `tovor serve` whose plugin folder holds copies of the given plugin folders
    /// (plugin.toml + plugin.wasm, as `tovor_tests::connector` builds them).
    fn start_with_plugins(folders: &[PathBuf]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        for folder in folders {
            let copy = plugins.join(folder.file_name().unwrap());
            std::fs::create_dir_all(&copy).unwrap();
            for file in ["plugin.toml", "plugin.wasm"] {
                std::fs::copy(folder.join(file), copy.join(file)).unwrap();
            }
        }
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
        // Loading plugins compiles them: give it time on a slow machine.
        let deadline = Instant::now() + Duration::from_secs(180);
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
            &[
                "carriers",
                "add",
                "--plugin",
                "gls",
                "--name",
                "GLS SI",
                "--sender",
                "city=Ljubljana"
            ]
        ),
        "error: no plugin \"gls\" is loaded (field plugin)\n"
    );
    assert_eq!(
        server.ok(t, &["carriers", "list"]),
        "no carrier connections; add one with `tovor carriers add`\n"
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

    // Shipping without a carrier connection is refused, one order or many.
    assert_eq!(
        server.fails(t, &["shipments", "create", "--carrier", "99", &order]),
        "error: no carrier connection 99 (field carrier_id)\n"
    );
    assert_eq!(
        server.fails(
            t,
            &["shipments", "create", "--carrier", "99", &order, &order]
        ),
        "error: no carrier connection 99 (field carrier_id)\n"
    );
    assert_eq!(server.ok(t, &["shipments", "list"]), "no shipments\n");
    assert_eq!(
        server.json(t, &["shipments", "list", "--order", &order]),
        json!([])
    );
    assert_eq!(
        server.fails(t, &["shipments", "label", "12345", "-o", "-"]),
        "error: shipment 12345 not found\n"
    );

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

/// The built connectors `names` (`plugins/<name>`), as plugin folders.
fn built(names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|name| tovor_tests::connector(name).unwrap().dir)
        .collect()
}

#[test]
fn carrier_connections() {
    let server = Server::start_with_plugins(&built(&["packeta", "example-shop"]));
    let company = server.json(None, &["companies", "add", "Acme"]);
    let token = company["token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());

    let plugins = server.ok(None, &["plugins", "list", "--remote"]);
    assert!(plugins.contains("packeta"), "{plugins}");
    assert_eq!(
        server.fails(
            t,
            &[
                "carriers",
                "add",
                "--plugin",
                "example-shop",
                "--name",
                "Shop"
            ]
        ),
        "error: example-shop is not a carrier connector (field plugin)\n"
    );
    let missing = server.fails(
        t,
        &[
            "carriers", "add", "--plugin", "packeta", "--name", "Packeta",
        ],
    );
    assert!(missing.contains("api_password"), "{missing}");
    // Sender keys are checked before the server is asked.
    let typo = server.fails(
        t,
        &[
            "carriers",
            "add",
            "--plugin",
            "packeta",
            "--name",
            "P",
            "--sender",
            "town=Brno",
        ],
    );
    assert!(typo.contains("\"town\" is not a sender key"), "{typo}");

    let added = server.ok(
        t,
        &[
            "carriers",
            "add",
            "--plugin",
            "packeta",
            "--name",
            "Packeta CZ",
            "--config",
            "api_password=0123456789abcdef0123456789abcdef",
            "--config",
            "eshop=acme",
            "--sender",
            "name=Acme s.r.o.",
            "--sender",
            "street=Vodičkova",
            "--sender",
            "house_number=12",
            "--sender",
            "city=Praha",
            "--sender",
            "postal_code=11000",
            "--sender",
            "country=cz",
            "--sender",
            "email=ship@acme.example",
            "--service",
            "express",
            "--default-weight-grams",
            "800",
            "--tell-shop",
            "delivered",
        ],
    );
    assert!(
        added.starts_with("carrier connection 1 (Packeta CZ) created: plugin packeta\n"),
        "{added}"
    );
    assert!(
        added.contains("Acme s.r.o., Vodičkova 12, 11000 Praha, CZ"),
        "{added}"
    );
    assert!(!added.contains("0123456789abcdef"), "{added}");
    assert!(
        added.contains("tovor shipments create --carrier 1 ORDER_ID..."),
        "{added}"
    );

    let listed = server.ok(t, &["carriers", "list"]);
    assert!(
        listed.starts_with("ID  NAME        PLUGIN   SENDER"),
        "{listed}"
    );
    assert!(listed.contains("Packeta CZ  packeta"), "{listed}");
    assert!(listed.contains("800"), "{listed}");
    let carriers = server.json(t, &["carriers", "list"]);
    assert_eq!(carriers[0]["plugin"], "packeta");
    assert_eq!(carriers[0]["sender"]["country"], "CZ");
    assert_eq!(carriers[0]["secrets_set"], json!(["api_password"]));
    assert_eq!(carriers[0]["tell_shop"], "delivered");
    let shown = server.ok(t, &["carriers", "show", "1"]);
    assert!(shown.contains("secrets set:"), "{shown}");
    assert!(shown.contains("eshop=acme"), "{shown}");
    assert!(shown.contains("800 g"), "{shown}");
    assert_eq!(
        server.fails(t, &["carriers", "show", "7"]).lines().count(),
        1
    );
}

#[test]
fn the_shipping_commands_explain_themselves() {
    let help = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_tovor"))
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let shipments = help(&["shipments", "--help"]);
    for command in [
        "create", "list", "show", "label", "print", "track", "cancel", "resolve",
    ] {
        assert!(
            shipments.contains(&format!("\n  {command} ")),
            "{command}:\n{shipments}"
        );
    }
    assert!(shipments.contains("[alias: labels]"), "{shipments}");
    let carriers = help(&["carriers", "--help"]);
    for command in ["add", "list", "show"] {
        assert!(
            carriers.contains(&format!("\n  {command} ")),
            "{command}:\n{carriers}"
        );
    }
    let top = help(&["--help"]);
    assert!(
        top.contains("carriers") && top.contains("shipments"),
        "{top}"
    );
    let add = help(&["carriers", "add", "--help"]);
    for option in [
        "--plugin",
        "--sender",
        "--config",
        "--tell-shop",
        "house_number",
    ] {
        assert!(add.contains(option), "{option}:\n{add}");
    }
}

/// `tovor plugins install DIR` uploads each bundled connector, as built, to a running
/// tovor that started with none: over the API's multipart upload, far above the JSON
/// body limit. A folder that is not a plugin is refused with the host's reason.
#[test]
fn every_bundled_connector_installs_over_the_api() {
    let names = [
        "bigcommerce",
        "dpd",
        "example-shop",
        "gls",
        "magento",
        "metakocka",
        "packeta",
        "posta-slovenije",
        "prestashop",
        "shopify",
        "shoptet",
        "stripe",
        "wix",
        "woocommerce",
    ];
    let folders = built(&names);
    let server = Server::start();
    for folder in &folders {
        let size = std::fs::metadata(folder.join("plugin.wasm")).unwrap().len();
        assert!(size > 256 * 1024, "{}: {size} bytes", folder.display());
        let out = server.ok(None, &["plugins", "install", folder.to_str().unwrap()]);
        assert!(out.contains("installed"), "{out}");
    }
    let list = server.json(None, &["plugins", "list", "--remote"]);
    let installed: Vec<(&str, &str)> = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plugin| {
            (
                plugin["id"].as_str().unwrap(),
                plugin["contract"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        installed,
        names
            .iter()
            .map(|name| (*name, "0.2.1"))
            .collect::<Vec<_>>()
    );

    // A component that is not one, and a folder without a component.
    let broken = tempfile::tempdir().unwrap();
    std::fs::copy(
        folders[0].join("plugin.toml"),
        broken.path().join("plugin.toml"),
    )
    .unwrap();
    let stderr = server.fails(
        None,
        &["plugins", "install", broken.path().to_str().unwrap()],
    );
    assert!(stderr.contains("plugin.wasm"), "{stderr}");
    std::fs::write(broken.path().join("plugin.wasm"), b"\0asm not really").unwrap();
    let stderr = server.fails(
        None,
        &["plugins", "install", broken.path().to_str().unwrap()],
    );
    assert!(
        stderr.contains("is not a valid WebAssembly component"),
        "{stderr}"
    );

    // The raw API: an unknown part is named, a missing one too.
    let token = std::fs::read_to_string(server.data_dir.join("admin-token")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let url = format!("{}/api/v1/plugins", server.url);
        let form = reqwest::multipart::Form::new()
            .text("manifest", "[plugin]\n")
            .text("extra", "x");
        let answer = http
            .post(&url)
            .bearer_auth(token.trim())
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["field"], "extra", "{body}");
        let form = reqwest::multipart::Form::new().text("manifest", "[plugin]\n");
        let answer = http
            .post(&url)
            .bearer_auth(token.trim())
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["field"], "wasm", "{body}");
    });
}
