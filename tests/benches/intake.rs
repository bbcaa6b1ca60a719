//! Webhook intake under load, beside its floor, and the service's memory.
//!
//! For each database:
//!
//! 1. **tovor**: signed Minishop deliveries to `POST /hooks/{key}` of a running service,
//!    each verified by the Wasm connector and committed to the inbox (group commit)
//!    before its 200. The workers are off, so only the intake is measured.
//! 2. **the floor**: the least any intake could do for the same delivery, in the same
//!    process and run: a bare axum handler that checks the same HMAC, parses the same
//!    JSON and group-commits the same inbox row through the same store, with no Wasm,
//!    no routing and no middleware. tovor's figure is printed as a ratio to it.
//!
//! The load comes from `wrk` (Debian's package) with a Lua script that gives every
//! request its own delivery id, so every request is a new inbox row: a load generator
//! that costs little per request, where a reqwest client on the same two cores would
//! take CPU from the server. Latency at a fixed concurrency is, by Little's law,
//! concurrency / throughput, so the concurrency is printed with every figure.
//!
//! Memory: the resident set of this process (the service, the fake shop and the bench)
//! idle with the connector loaded and at its peak under the intake load. (`tovor serve`
//! idle with every bundled connector is the `memory` benchmark of `host/cli`.)
//!
//! `cargo bench -p tovor-tests --bench intake`; `TOVOR_BENCH_SECONDS` (default 10),
//! `TOVOR_BENCH_CONCURRENCY` (a list, default `16,64`),
//! `TOVOR_BENCH_BACKENDS=sqlite|postgres`. Without `wrk` on the PATH it says so and
//! stops.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};
use tovor_domain::{CompanyId, ShopId};
use tovor_store::Store;
use tovor_store::inbox::{DeliveryState, NewDelivery};
use tovor_tests::minishop::{self, Minishop, WEBHOOK_SECRET};
use tovor_tests::service::{Db, TestService, quick_workers};

/// As the service's own writer: at most this many deliveries per transaction.
const GROUP_COMMIT_MAX: usize = 512;
const WARM_UP_SECONDS: u64 = 2;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one `wrk` run measured.
struct Load {
    requests: u64,
    failed: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Load {
    fn per_second(&self) -> f64 {
        (self.requests - self.failed) as f64 / self.seconds
    }
}

/// `wrk` against `url` at `concurrency` for `seconds`, every request the same signed
/// body under its own delivery id (`{prefix}-{thread}-{n}`).
async fn wrk(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    prefix: &str,
    concurrency: u64,
    seconds: u64,
) -> Load {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("intake.lua");
    let mut lua = String::from("wrk.method = \"POST\"\n");
    lua.push_str(&format!("wrk.body = {}\n", lua_string(body)));
    for (name, value) in headers {
        if name != "x-minishop-delivery" {
            lua.push_str(&format!(
                "wrk.headers[{}] = {}\n",
                lua_string(name.as_bytes()),
                lua_string(value.as_bytes())
            ));
        }
    }
    lua.push_str(&format!(
        r#"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local sent = 0
function request()
  sent = sent + 1
  wrk.headers["x-minishop-delivery"] = "{prefix}-" .. id .. "-" .. sent
  return wrk.format()
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("tovor-wrk %d %d %f %d %d\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99)))
end
"#
    ));
    std::fs::write(&script, lua).unwrap();
    // One wrk thread: its event loop keeps up with far more than this server can take,
    // and the second core stays with the server.
    let output = tokio::process::Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{concurrency}"),
            &format!("-d{seconds}s"),
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(&script)
        .arg(url)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|line| line.starts_with("tovor-wrk "))
        .unwrap_or_else(|| {
            panic!(
                "wrk failed: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().unwrap())
        .collect();
    Load {
        requests: fields[0] as u64,
        failed: fields[1] as u64,
        seconds: fields[2],
        p50_ms: fields[3] / 1000.0,
        p99_ms: fields[4] / 1000.0,
    }
}

fn lua_string(bytes: &[u8]) -> String {
    let mut quoted = String::from("\"");
    for &byte in bytes {
        match byte {
            b'"' => quoted.push_str("\\\""),
            b'\\' => quoted.push_str("\\\\"),
            0x20..=0x7e => quoted.push(char::from(byte)),
            other => quoted.push_str(&format!("\\{other}")),
        }
    }
    quoted.push('"');
    quoted
}

/// The floor's state: the secret, the shop the rows belong to, and its writer.
struct Floor {
    secret: Vec<u8>,
    company: CompanyId,
    shop: ShopId,
    queue: mpsc::Sender<(NewDelivery, oneshot::Sender<bool>)>,
}

async fn floor_handler(
    State(floor): State<Arc<Floor>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("x-minishop-signature")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("sha256="))
        .and_then(|hex_text| hex::decode(hex_text).ok());
    let Some(signature) = signature else {
        return StatusCode::UNAUTHORIZED;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&floor.secret) else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    mac.update(&body);
    if mac.verify_slice(&signature).is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(order) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let delivery_id = headers
        .get("x-minishop-delivery")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let event = json!({"type": "order_changed", "id": order["id"].to_string(), "order": order});
    let delivery = NewDelivery {
        company: floor.company,
        shop: floor.shop,
        delivery_id,
        topic: Some("order.updated".into()),
        event: event.to_string(),
        body: None,
        state: DeliveryState::Pending,
        error: None,
    };
    let (done, stored) = oneshot::channel();
    if floor.queue.send((delivery, done)).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match stored.await {
        Ok(true) => StatusCode::OK,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The floor's group commit: whatever is queued, up to [`GROUP_COMMIT_MAX`], in one
/// transaction.
async fn floor_writer(
    store: Store,
    mut queue: mpsc::Receiver<(NewDelivery, oneshot::Sender<bool>)>,
) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < GROUP_COMMIT_MAX {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (deliveries, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        let stored = store
            .store_deliveries(&deliveries, time::OffsetDateTime::now_utc())
            .await
            .is_ok();
        for waiter in waiters {
            let _ = waiter.send(stored);
        }
    }
}

async fn start_floor(store: Store, company: CompanyId, shop: ShopId) -> String {
    let (queue, receiver) = mpsc::channel(GROUP_COMMIT_MAX * 8);
    tokio::spawn(floor_writer(store, receiver));
    let floor = Arc::new(Floor {
        secret: WEBHOOK_SECRET.as_bytes().to_vec(),
        company,
        shop,
        queue,
    });
    let app = axum::Router::new()
        .route("/floor", axum::routing::post(floor_handler))
        .with_state(floor);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/floor")
}

/// Starts measuring this process's peak resident set afresh (Linux: writing 5 to
/// `clear_refs` resets `VmHWM`).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's resident set and its peak since [`reset_peak_memory`], in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn run(db: Db, concurrencies: &[u64], seconds: u64) {
    let mut workers = quick_workers("bench");
    workers.enabled = false;
    let service = TestService::start_with(db, workers).await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let token = service.company("Bench").await.unwrap();
    let (_, webhook) = service
        .minishop_shop(&token, &shop, json!({}))
        .await
        .unwrap();
    let key = webhook.rsplit('/').next().unwrap().to_owned();
    let stored_shop = service
        .store
        .shop_by_webhook_key(&key)
        .await
        .unwrap()
        .unwrap();
    let order = minishop::order(
        1,
        "bench@example.com",
        &[("BENCH-1", 1, "10.00"), ("BENCH-2", 2, "5.00")],
        "2026-11-28T12:00:00Z",
    );
    let (headers, body) =
        minishop::signed_delivery("order.updated", "warm", &order, WEBHOOK_SECRET);
    let name = format!("{db:?}");
    let id = name.to_lowercase();

    // Idle: the connector compiled and instantiated once.
    service
        .deliver(&webhook, "order.updated", "warm", &order, WEBHOOK_SECRET)
        .await
        .unwrap();
    let (idle_mib, _) = memory();
    reset_peak_memory();

    let mut runs = Vec::new();
    for &concurrency in concurrencies {
        wrk(
            &webhook,
            &headers,
            &body,
            &format!("warm-{concurrency}"),
            concurrency,
            WARM_UP_SECONDS,
        )
        .await;
        let before = service.store.pending_deliveries().await.unwrap();
        let load = wrk(
            &webhook,
            &headers,
            &body,
            &format!("tovor-{concurrency}"),
            concurrency,
            seconds,
        )
        .await;
        let stored = u64::try_from(service.store.pending_deliveries().await.unwrap() - before)
            .unwrap_or_default();
        runs.push((concurrency, load, stored));
    }
    let (_, peak_mib) = memory();

    let floor = start_floor(service.store.clone(), stored_shop.company, stored_shop.id).await;
    println!("\n{name} intake, {seconds} s per run, wrk with one thread:");
    println!(
        "{:>11} {:>12} {:>9} {:>9} {:>12} {:>9} {:>9} {:>11}",
        "concurrency",
        "tovor /s",
        "p50 ms",
        "p99 ms",
        "floor /s",
        "p50 ms",
        "p99 ms",
        "floor/tovor"
    );
    for (concurrency, load, stored) in runs {
        wrk(
            &floor,
            &headers,
            &body,
            &format!("floor-warm-{concurrency}"),
            concurrency,
            WARM_UP_SECONDS,
        )
        .await;
        let bare = wrk(
            &floor,
            &headers,
            &body,
            &format!("floor-{concurrency}"),
            concurrency,
            seconds,
        )
        .await;
        let ratio = bare.per_second() / load.per_second();
        println!(
            "{concurrency:>11} {:>12.0} {:>9.2} {:>9.2} {:>12.0} {:>9.2} {:>9.2} {ratio:>10.2}×",
            load.per_second(),
            load.p50_ms,
            load.p99_ms,
            bare.per_second(),
            bare.p50_ms,
            bare.p99_ms,
        );
        // Requests still in flight when wrk stops are stored but not counted.
        if load.failed > 0 || bare.failed > 0 || stored < load.requests - load.failed {
            println!(
                "{:>11} tovor: {} failed, {stored} of {} answered deliveries in the inbox; floor: {} failed",
                "",
                load.failed,
                load.requests - load.failed,
                bare.failed
            );
        }
        let figure = |what: &str| format!("intake.{id}.c{concurrency}.{what}");
        tovor_bench_figures::record(&figure("per_second"), load.per_second(), "deliveries/s");
        tovor_bench_figures::record(&figure("p99"), load.p99_ms, "ms");
        tovor_bench_figures::record(
            &figure("floor_per_second"),
            bare.per_second(),
            "deliveries/s",
        );
        tovor_bench_figures::record(&figure("floor_ratio"), ratio, "×");
    }
    println!(
        "memory (this process: service, fake shop, bench): {idle_mib:.0} MiB idle, {peak_mib:.0} MiB peak under load"
    );
    tovor_bench_figures::record(&format!("memory.{id}.bench_idle"), idle_mib, "MiB");
    tovor_bench_figures::record(&format!("memory.{id}.peak_under_intake"), peak_mib, "MiB");
    service.stop().await;
}

fn main() {
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("intake bench: wrk is not installed (apt-get install wrk); skipped");
        return;
    }
    let seconds = env_number("TOVOR_BENCH_SECONDS", 10);
    let concurrencies: Vec<u64> = std::env::var("TOVOR_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "16,64".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for db in Db::benchmarked() {
            run(db, &concurrencies, seconds).await;
        }
    });
}
