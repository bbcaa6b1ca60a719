//! Service benchmark, printing figures:
//!
//! 1. Webhook intake: signed Minishop deliveries sent over loopback by a separate load
//!    process at a fixed concurrency; each is verified by the Wasm connector and made
//!    durable (committed to the inbox) before its 200. Deliveries per second and p50/p99
//!    latency, on SQLite and on PostgreSQL. The workers are off, so only the intake is
//!    measured.
//! 2. Stock change to shop: a stock receipt through the API until the fake shop
//!    receives the new value from the stock pusher; p50/p99.
//!
//! `cargo bench -p tovor-tests --bench service`; `TOVOR_BENCH_DELIVERIES` (default
//! 20000), `TOVOR_BENCH_CONCURRENCY` (a list, default `16,64`),
//! `TOVOR_BENCH_BACKENDS=sqlite|postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use tovor_tests::minishop::{self, Minishop, WEBHOOK_SECRET};
use tovor_tests::service::{Db, TestService, quick_workers};

const LOAD_ARG: &str = "--load-generator";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// The load process: `--load-generator URL COUNT CONCURRENCY`. Prints
/// `ok <count> <seconds> <p50 µs> <p99 µs>`.
async fn generate_load(url: String, count: usize, concurrency: usize) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    // Bodies are signed up front so the load process measures the server, not itself.
    let deliveries: Vec<_> = (0..count)
        .map(|n| {
            let order = minishop::order(
                n as u64 + 1,
                "bench@example.com",
                &[("BENCH-1", 1, "10.00"), ("BENCH-2", 2, "5.00")],
                "2026-11-28T12:00:00Z",
            );
            minishop::signed_delivery(
                "order.updated",
                &format!("bench-{n}"),
                &order,
                WEBHOOK_SECRET,
            )
        })
        .collect();
    let deliveries = std::sync::Arc::new(deliveries);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut lanes = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (http, url, deliveries, next) =
            (http.clone(), url.clone(), deliveries.clone(), next.clone());
        lanes.spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0_usize;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((headers, body)) = deliveries.get(n) else {
                    break;
                };
                let mut request = http.post(&url).body(body.clone());
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let sent = Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        latencies.push(sent.elapsed())
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        });
    }
    let mut latencies = Vec::with_capacity(count);
    let mut failures = 0;
    while let Some(result) = lanes.join_next().await {
        let (lane, failed) = result.unwrap();
        latencies.extend(lane);
        failures += failed;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "ok {} {} {:.6} {} {}",
        latencies.len(),
        failures,
        elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_micros(),
        percentile(&latencies, 0.99).as_micros()
    );
}

async fn intake(db: Db, count: usize, concurrency: usize) {
    let mut workers = quick_workers("bench");
    workers.enabled = false;
    let service = TestService::start_with(db, workers).await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let token = service.company("Bench").await.unwrap();
    let (_, webhook) = service
        .minishop_shop(&token, &shop, json!({}))
        .await
        .unwrap();
    // Warm the connector and the connection pools.
    let warm = minishop::order(
        0,
        "w@example.com",
        &[("W", 1, "1.00")],
        "2026-11-28T12:00:00Z",
    );
    service
        .deliver(&webhook, "order.updated", "warm", &warm, WEBHOOK_SECRET)
        .await
        .unwrap();

    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            LOAD_ARG,
            &webhook,
            &count.to_string(),
            &concurrency.to_string(),
        ])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|line| line.starts_with("ok "))
        .unwrap_or_else(|| {
            panic!(
                "load process failed: {text} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (ok, failed, seconds, p50, p99): (usize, usize, f64, u64, u64) = (
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
        fields[3].parse().unwrap(),
        fields[4].parse().unwrap(),
        fields[5].parse().unwrap(),
    );
    let stored = service.store.pending_deliveries().await.unwrap();
    println!(
        "{db:?} intake: {ok} deliveries in {seconds:.2} s = {:.0} durable deliveries/s at concurrency {concurrency}; \
         p50 {:.2} ms, p99 {:.2} ms; {failed} failed; {stored} rows in the inbox \
         (bar, SQLite on 2 cores: 10,000/s, p99 under 5 ms)",
        ok as f64 / seconds,
        p50 as f64 / 1000.0,
        p99 as f64 / 1000.0,
    );
    service.stop().await;
}

async fn stock_latency(db: Db, rounds: usize) {
    let service = TestService::start(db).await.unwrap();
    let shop = Minishop::start().await.unwrap();
    let token = service.company("Bench").await.unwrap();
    let (shop_id, _) = service
        .minishop_shop(&token, &shop, json!({"stock_mode": "on_hand"}))
        .await
        .unwrap();
    let (_, item) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/items",
            Some(&token),
            Some(json!({"code": "LAT", "name": "Latency", "vat_rate": "22", "price": "1"})),
        )
        .await
        .unwrap();
    service
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/items/{}/links", item["id"]),
            Some(&token),
            Some(json!({"shop_id": shop_id, "product_id": "1"})),
        )
        .await
        .unwrap();
    let (_, warehouses) = service
        .call(
            reqwest::Method::GET,
            "/api/v1/warehouses",
            Some(&token),
            None,
        )
        .await
        .unwrap();
    let warehouse = warehouses[0]["id"].clone();
    let mut latencies = Vec::with_capacity(rounds);
    for round in 1..=rounds {
        let started = Instant::now();
        let (status, _) = service
            .call(
                reqwest::Method::POST,
                "/api/v1/stock/receipts",
                Some(&token),
                Some(
                    json!({"warehouse_id": warehouse, "lines": [{"sku": "LAT", "quantity": "1"}]}),
                ),
            )
            .await
            .unwrap();
        assert_eq!(status, 201);
        assert!(
            shop.wait_for_stock("LAT", round as i64, Duration::from_secs(30))
                .await
        );
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "{db:?} stock change to shop: p50 {:.2} ms, p99 {:.2} ms over {rounds} receipts \
         (bar: p99 under 100 ms)",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    );
    service.stop().await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(at) = args.iter().position(|arg| arg == LOAD_ARG) {
        let url = args[at + 1].clone();
        let count = args[at + 2].parse().unwrap();
        let concurrency = args[at + 3].parse().unwrap();
        runtime.block_on(generate_load(url, count, concurrency));
        return;
    }
    // `cargo bench` passes `--bench`; anything else (a filter) is ignored.
    let count = env_number("TOVOR_BENCH_DELIVERIES", 20_000);
    let concurrencies: Vec<usize> = std::env::var("TOVOR_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "16,64".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let backends =
        std::env::var("TOVOR_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    runtime.block_on(async {
        for db in [Db::Sqlite, Db::Postgres] {
            let name = format!("{db:?}").to_lowercase();
            if !backends.split(',').any(|b| b.trim() == name) {
                continue;
            }
            for &concurrency in &concurrencies {
                intake(db, count, concurrency).await;
            }
            stock_latency(db, 50).await;
        }
    });
}
