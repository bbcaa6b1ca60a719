//! `tovor serve --demo`: tovor with a demo WooCommerce shop beside it.
//!
//! The shop is the fake WooCommerce of the end-to-end tests (`tovor-fakes`): it speaks
//! the real REST API and signs its webhooks like the real one, so everything between it
//! and tovor is what a real shop would exercise. The demo sets up a company through the
//! public API, imports the shop's order history, receives opening stock, then places an
//! order in the shop every little while and prints the shop's stock whenever tovor
//! changes it. A fake GLS (the tests' MyGLS) stands beside it as the demo's carrier:
//! shipments made for the demo's orders get real-looking PDF labels, and their parcels
//! move a step towards delivery now and then, so tracking has something to show.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, bail};
use rand::Rng;
use serde_json::{Value, json};
use tovor_fakes::gls::{self, FakeGls};
use tovor_fakes::woocommerce::{CONSUMER_KEY, CONSUMER_SECRET, FakeWoo, OrderSpec, WEBHOOK_SECRET};

/// Opening stock received for every item of the demo shop.
const OPENING_STOCK: &str = "25";
/// The web admin's demo account (the demo is local and starts afresh every time).
const DEMO_EMAIL: &str = "demo@tovor.test";
const DEMO_PASSWORD: &str = "demo-password";

/// The running demo shop; dropped with the process.
pub struct Demo {
    woo: FakeWoo,
    gls: FakeGls,
}

/// The GLS status codes a demo parcel goes through: handed over, in transit, out for
/// delivery, delivered.
const PARCEL_JOURNEY: [&str; 4] = ["1", "2", "4", "5"];

impl Demo {
    /// Starts the demo shop on a free loopback port.
    pub async fn start_shop() -> anyhow::Result<Self> {
        let woo = FakeWoo::start_seeded()
            .await
            .context("cannot start the demo WooCommerce shop")?;
        let gls = FakeGls::start()
            .await
            .context("cannot start the demo GLS")?;
        Ok(Self { woo, gls })
    }

    /// Sets up the demo company against tovor's API at `api`, then keeps placing
    /// orders every `every` and reporting the shop's stock. Runs until the process ends.
    pub async fn run(self, api: String, admin_token: String, every: Duration) {
        let client = Api {
            http: reqwest::Client::new(),
            base: api,
            token: admin_token,
        };
        match self.set_up(&client).await {
            Ok(session) => self.simulate(session, every).await,
            Err(error) => {
                tracing::error!("the demo could not be set up: {error:#}");
                if format!("{error:#}").contains("no plugin") {
                    tracing::error!(
                        "the demo needs the bundled connectors: run `cargo xtask run --demo` \
                         in the checkout, or pass `--plugins` the folder `cargo xtask setup` \
                         built them into (target/plugins)"
                    );
                }
            }
        }
    }

    async fn set_up(&self, admin: &Api) -> anyhow::Result<Session> {
        admin.wait_until_ready().await?;
        let company = admin
            .post("/api/v1/companies", json!({"name": "Demo d.o.o."}))
            .await?;
        let api = Api {
            token: text(&company, "token")?,
            ..admin.clone()
        };
        // Someone to sign in to the web admin as: the demo company's owner, who is also
        // the operator.
        admin
            .post(
                "/api/v1/users",
                json!({
                    "email": DEMO_EMAIL, "name": "Demo", "password": DEMO_PASSWORD,
                    "company": {"id": company["id"], "role": "owner"}, "operator": true,
                    "language": "en",
                }),
            )
            .await?;
        let warehouse = api
            .post("/api/v1/warehouses", json!({"name": "Main warehouse"}))
            .await?;
        let shop = api
            .post(
                "/api/v1/shops",
                json!({
                    "plugin": "woocommerce",
                    "name": "Demo WooCommerce shop",
                    "config": {
                        "url": self.woo.url(),
                        "consumer_key": CONSUMER_KEY,
                        "consumer_secret": CONSUMER_SECRET,
                        "webhook_secret": WEBHOOK_SECRET,
                    },
                    "warehouse_id": warehouse["id"],
                    "update_existing": true,
                    "stock_mode": "available",
                    "auto_invoice": "paid",
                }),
            )
            .await?;
        let shop_id = shop["id"].as_i64().context("no shop id")?;
        let webhook_url = text(&shop, "webhook_url")?;
        // Cash on delivery in the shop is collected by the carrier.
        let cod = api
            .post(
                "/api/v1/payment-methods",
                json!({"code": "COD", "name": "Cash on delivery", "cash_on_delivery": true}),
            )
            .await?;
        api.put(
            &format!("/api/v1/shops/{shop_id}/payment-methods/cod"),
            json!({"payment_method_id": cod["id"]}),
        )
        .await?;
        let carrier = api
            .post(
                "/api/v1/carriers",
                json!({
                    "plugin": "gls",
                    "name": "Demo GLS",
                    "config": {
                        "username": gls::USERNAME,
                        "password": gls::PASSWORD,
                        "client_number": gls::CLIENT_NUMBER.to_string(),
                        "country": "SI",
                        "api_base": self.gls.api_base(),
                    },
                    "sender": {
                        "name": "Demo d.o.o.",
                        "street": "Dunajska cesta 5",
                        "city": "Ljubljana",
                        "postal_code": "1000",
                        "country": "SI",
                        "phone": "+38612345678",
                        "email": "shop@demo.test",
                    },
                }),
            )
            .await?;
        // WooCommerce pings a webhook when it is saved.
        self.woo
            .deliver(&webhook_url, &self.woo.ping(1))
            .await
            .context("the demo shop cannot reach tovor")?;

        // Items for everything the shop sells, linked to its products and stocked;
        // then the shop's past orders.
        let catalog: Vec<_> = self
            .woo
            .catalog()
            .into_iter()
            .filter(|entry| !entry.sku.is_empty())
            .collect();
        for entry in &catalog {
            // The shop's first sync may have created some already, from past orders.
            api.create(
                "/api/v1/items",
                json!({
                    "code": entry.sku,
                    "name": entry.name,
                    "vat_rate": "22",
                    "price": entry.price,
                }),
            )
            .await?;
        }
        api.post(&format!("/api/v1/shops/{shop_id}/products/link"), json!({}))
            .await?;
        let lines: Vec<Value> = catalog
            .iter()
            .map(|entry| json!({"sku": entry.sku, "quantity": OPENING_STOCK}))
            .collect();
        api.post(
            "/api/v1/stock/receipts",
            json!({"warehouse_id": warehouse["id"], "lines": lines}),
        )
        .await?;
        api.post(
            &format!("/api/v1/shops/{shop_id}/import-history"),
            json!({"from": "2000-01-01T00:00:00Z"}),
        )
        .await?;

        let first_sku = catalog.first().map_or("SKU", |entry| entry.sku.as_str());
        let cli = format!("--url {} --token {}", api.base, api.token);
        // `cargo xtask run` puts nothing on the PATH: say where this very binary is.
        let binary = std::env::current_exe()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|_| "target/debug/tovor".to_owned());
        println!(
            "\n\
             ── tovor demo ──────────────────────────────────────────────────────────\n\
             A demo WooCommerce shop runs at {shop_url} and sends its orders to tovor.\n\
             Company \"Demo d.o.o.\" sells through it; its stock is tovor's (available\n\
             quantities: on hand minus what open orders reserve).\n\
             \n\
             `tovor` below is {binary}\n\
             (`alias tovor={binary}`, or `cargo install --path host/cli` puts it on your PATH).\n\
             \n\
             Orders as they arrive:   tovor orders list {cli}\n\
             Ship one:                tovor delivery-notes create ORDER_ID {cli}\n\
             Goods arrive:            tovor stock receive --warehouse {warehouse} {first_sku}=10 {cli}\n\
             What the shop was told:  tovor shops show {shop_id} {cli}\n\
             Ship by GLS:             tovor shipments create --carrier {carrier} ORDER_ID... {cli}\n\
             Print the labels:        tovor shipments print SHIPMENT_ID... -o labels.pdf {cli}\n\
             Follow a parcel:         tovor shipments show SHIPMENT_ID {cli}\n\
             API description:         {base}/api/v1/openapi.json\n\
             \n\
             Web admin:               {base}/  (sign in as {DEMO_EMAIL}, password {DEMO_PASSWORD})\n\
             \n\
             Below: every order the shop takes, and every change of the shop's stock.\n\
             ────────────────────────────────────────────────────────────────────────\n",
            shop_url = self.woo.url(),
            warehouse = warehouse["id"],
            carrier = carrier["id"],
            base = api.base,
        );
        Ok(Session { webhook_url })
    }

    async fn simulate(self, session: Session, every: Duration) {
        let mut ticker = tokio::time::interval(every);
        let mut stock_check = tokio::time::interval(Duration::from_secs(1));
        let mut parcels_move = tokio::time::interval(every.max(Duration::from_secs(5)));
        let mut last_stock = self.stock();
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(error) = self.place_order(&session).await {
                        tracing::warn!("demo shop: could not place an order: {error:#}");
                    }
                }
                _ = stock_check.tick() => {
                    let stock = self.stock();
                    for (sku, quantity) in &stock {
                        if last_stock.get(sku) != Some(quantity) {
                            println!(
                                "demo shop stock: {sku} {} → {}",
                                last_stock.get(sku).map_or("-".into(), i64::to_string),
                                quantity
                            );
                        }
                    }
                    last_stock = stock;
                }
                _ = parcels_move.tick() => self.move_parcels(),
            }
        }
    }

    /// A customer buys one to three random things; the shop sends the webhook.
    async fn place_order(&self, session: &Session) -> anyhow::Result<()> {
        let catalog = self.woo.catalog();
        if catalog.is_empty() {
            bail!("the demo shop sells nothing");
        }
        let spec = {
            let mut rng = rand::rng();
            let mut spec = OrderSpec::new();
            for _ in 0..rng.random_range(1..=3) {
                let entry = &catalog[rng.random_range(0..catalog.len())];
                spec = spec.line(
                    entry.product_id,
                    entry.variation_id,
                    rng.random_range(1..=2),
                );
            }
            if rng.random_bool(0.5) {
                spec = spec.payment("cod", "Cash on delivery").paid(false);
            } else {
                spec = spec.payment("bacs", "Direct bank transfer").paid(true);
            }
            spec
        };
        let order = self.woo.create_order(&spec);
        let id = order["id"].as_u64().context("the new order has no id")?;
        let status = self
            .woo
            .deliver(
                &session.webhook_url,
                &self.woo.delivery("order.created", id),
            )
            .await?;
        println!(
            "demo shop: order #{id} placed ({} {}), webhook answered {status}",
            order["total"].as_str().unwrap_or("?"),
            order["currency"].as_str().unwrap_or("")
        );
        Ok(())
    }

    /// Every demo parcel not yet delivered goes one step further.
    fn move_parcels(&self) {
        for parcel in self.gls.parcels() {
            let Some(number) = parcel.parcel_number else {
                continue;
            };
            if parcel.deleted {
                continue;
            }
            let last = parcel.statuses.last().map(|(code, _)| code.as_str());
            let next = match last.and_then(|code| PARCEL_JOURNEY.iter().position(|c| *c == code)) {
                Some(step) => PARCEL_JOURNEY.get(step + 1),
                None => PARCEL_JOURNEY.first(),
            };
            if let Some(code) = next
                && self.gls.advance(number, code)
            {
                println!("demo GLS: parcel {number} → status {code}");
            }
        }
    }

    /// Stock of every SKU the shop manages.
    fn stock(&self) -> BTreeMap<String, i64> {
        self.woo
            .catalog()
            .into_iter()
            .filter_map(|entry| {
                let quantity = self.woo.stock(entry.product_id, entry.variation_id)?;
                Some((entry.sku, quantity))
            })
            .collect()
    }
}

struct Session {
    webhook_url: String,
}

/// tovor's API, as the demo's user would call it.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        for _ in 0..100 {
            let ready = self
                .http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if ready {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("tovor did not become ready at {}", self.base)
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self.send_post(path, &body).await?;
        answer(path, response).await
    }

    async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        answer(path, response).await
    }

    /// `post`, where "already exists" (409) is as good as created.
    async fn create(&self, path: &str, body: Value) -> anyhow::Result<()> {
        let response = self.send_post(path, &body).await?;
        if response.status() == reqwest::StatusCode::CONFLICT {
            return Ok(());
        }
        answer(path, response).await.map(drop)
    }

    async fn send_post(&self, path: &str, body: &Value) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
    }
}

async fn answer(path: &str, response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{path} answered {status}: {body}");
    }
    Ok(body)
}

fn text(body: &Value, field: &str) -> anyhow::Result<String> {
    body[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {field} in {body}"))
}
