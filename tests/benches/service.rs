//! Stock change to shop: a stock receipt through the API until the fake shop receives
//! the new value from the stock pusher; p50/p99 on SQLite and on PostgreSQL. (Webhook
//! intake under load is the `intake` benchmark.)
//!
//! `cargo bench -p tovor-tests --bench service`; `TOVOR_BENCH_ROUNDS` (default 200),
//! `TOVOR_BENCH_BACKENDS=sqlite|postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use tovor_tests::minishop::Minishop;
use tovor_tests::service::{Db, TestService};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
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
    let p99 = percentile(&latencies, 0.99).as_secs_f64() * 1000.0;
    println!(
        "{db:?} stock change to shop: p50 {:.2} ms, p99 {p99:.2} ms over {rounds} receipts \
         (goal: p99 under 10 ms)",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
    );
    let id = format!("{db:?}").to_lowercase();
    tovor_bench_figures::record(&format!("stock_to_shop.{id}.p99"), p99, "ms");
    service.stop().await;
}

fn main() {
    let rounds = std::env::var("TOVOR_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for db in Db::benchmarked() {
            stock_latency(db, rounds).await;
        }
    });
}
