//! Shipping through the service with the real GLS connector (Wasm) against the fake
//! MyGLS on loopback, on SQLite:
//!
//! 1. 500 orders shipped with one `POST /api/v1/shipments` (recorded, sent to GLS 10
//!    per plugin call, one `PrintLabels` each, labels stored);
//! 2. their 500 labels printed as one PDF with `POST /api/v1/labels` (read from the
//!    database, merged, answered), several times.
//!
//! Prints shipments per second, and the print's time, size and pages. The merge alone
//! is measured by `cargo bench -p tovor-labels --bench merge`.
//! Run: `cargo bench -p tovor-tests --bench shipping` (`SHIPMENTS=n` for another count).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tovor_fakes::gls::{self, FakeGls};
use tovor_tests::service::{Db, TestService, quick_workers};

fn main() {
    let count: usize = std::env::var("SHIPMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(count));
}

async fn post(service: &TestService, token: &str, path: &str, body: Value) -> Value {
    let (status, answer) = service
        .call(Method::POST, path, Some(token), Some(body))
        .await
        .unwrap();
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

fn order(n: usize) -> Value {
    json!({
        "id": format!("B{n}"),
        "number": format!("B-{n}"),
        "status": "processing",
        "payment_status": "unpaid",
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": "2026-11-28T09:00:00Z",
        "modified_at": "2026-11-28T09:00:00Z",
        "shipping": {
            "name": format!("Kupec {n}"),
            "line1": format!("Slovenska cesta {}", n % 200 + 1),
            "city": "Ljubljana",
            "postal_code": "1000",
            "country": "SI",
            "phone": "040 111 222",
            "email": format!("kupec{n}@example.test"),
        },
        "lines": [{"sku": "TEA", "name": "Tea", "quantity": "3", "unit_price": "4.00",
                   "tax_rate": "9.5", "tax_amount": "1.14", "total": "12.00"}],
        "tax_total": "1.14",
        "total": "13.14"
    })
}

async fn run(count: usize) {
    let gls = FakeGls::start().await.unwrap();
    let mut workers = quick_workers("bench-shipping");
    // Only what the requests do is measured: no tracking while it runs.
    workers.track_every = Duration::from_secs(3600);
    let plugin = tovor_tests::connector("gls").unwrap();
    let service = TestService::start_with_plugins(Db::Sqlite, workers, &[plugin])
        .await
        .unwrap();
    let token = service.company("Bench").await.unwrap();
    let warehouse = post(
        &service,
        &token,
        "/api/v1/warehouses",
        json!({"name": "Main"}),
    )
    .await;
    let shop = post(
        &service,
        &token,
        "/api/v1/shops",
        json!({"name": "Own shop", "warehouse_id": warehouse["id"]}),
    )
    .await;
    let orders_path = format!("/api/v1/shops/{}/orders", shop["id"]);
    let mut order_ids = Vec::with_capacity(count);
    for n in 0..count {
        let imported = post(&service, &token, &orders_path, order(n)).await;
        order_ids.push(imported["order_id"].clone());
    }
    let carrier = post(
        &service,
        &token,
        "/api/v1/carriers",
        json!({
            "plugin": "gls",
            "name": "GLS",
            "config": {
                "username": gls::USERNAME,
                "password": gls::PASSWORD,
                "client_number": gls::CLIENT_NUMBER.to_string(),
                "country": "SI",
                "api_base": gls.api_base(),
            },
            "sender": {"name": "Trgovina d.o.o.", "street": "Dunajska cesta 5", "city": "Ljubljana",
                       "postal_code": "1000", "country": "SI"},
        }),
    )
    .await;

    let started = Instant::now();
    let results = post(
        &service,
        &token,
        "/api/v1/shipments",
        json!({"carrier_id": carrier["id"], "order_ids": order_ids}),
    )
    .await;
    let create_time = started.elapsed();
    let shipment_ids: Vec<Value> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|result| {
            assert_eq!(result["shipment"]["state"], "created", "{result}");
            result["shipment"]["id"].clone()
        })
        .collect();
    assert_eq!(gls.parcels().len(), count);

    let mut times = Vec::new();
    let mut pdf = Vec::new();
    for _ in 0..6 {
        let started = Instant::now();
        let response = service
            .http
            .post(service.url("/api/v1/labels"))
            .bearer_auth(&token)
            .json(&json!({"shipment_ids": shipment_ids}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        pdf = response.bytes().await.unwrap().to_vec();
        times.push(started.elapsed());
    }
    // The first print is a warm-up.
    let mut timed = times[1..].to_vec();
    timed.sort();
    let median = timed[timed.len() / 2];
    let pages = tovor_labels::page_count(&pdf).unwrap();
    assert_eq!(pages, count);

    println!(
        "\nshipping through the service (SQLite, GLS connector in Wasm, fake MyGLS on loopback)\n"
    );
    println!("| step | count | time | rate |");
    println!("|---|---|---|---|");
    println!(
        "| create shipments (one POST /shipments: plan, record, PrintLabels, store label) | {count} | {:.2} s | {:.0} shipments/s |",
        create_time.as_secs_f64(),
        count as f64 / create_time.as_secs_f64()
    );
    println!(
        "| print all labels (POST /labels: read {count} labels, merge, answer), median of 5 | {count} | {:.1} ms | {:.0} labels/s |",
        median.as_secs_f64() * 1000.0,
        count as f64 / median.as_secs_f64()
    );
    tovor_bench_figures::record(
        "shipping.create",
        count as f64 / create_time.as_secs_f64(),
        "shipments/s",
    );
    tovor_bench_figures::record(
        "shipping.print_all_labels",
        median.as_secs_f64() * 1000.0,
        "ms",
    );
    println!(
        "\nmerged PDF: {} bytes ({:.2} MiB), {pages} pages",
        pdf.len(),
        pdf.len() as f64 / (1024.0 * 1024.0)
    );
    service.stop().await;
}
