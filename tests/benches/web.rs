//! Web admin benchmark, printing figures: the server's time to answer the pages a
//! merchant opens most, for a company with 10,000 orders (`TOVOR_BENCH_ORDERS`), on
//! SQLite and PostgreSQL (`TOVOR_BENCH_BACKENDS=sqlite|postgres`).
//!
//! The orders are pushed through the custom-platform API (the import rules, as for any
//! shop), then each page is fetched 200 times over loopback by a signed-in client, one
//! request at a time, and its p50/p99 reported: the order list's first page, a page deep
//! in the list, the list filtered by text, the dashboard and one order.
//!
//! `cargo bench -p tovor-tests --bench web`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use tovor_tests::service::{ADMIN_TOKEN, Db, TestService, quick_workers};

const PASSWORD: &str = "benchmark password";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn order(n: usize) -> Value {
    let day = 1 + n % 28;
    json!({
        "id": n.to_string(),
        "number": format!("W-{n}"),
        "status": if n.is_multiple_of(5) { "completed" } else { "processing" },
        "payment_status": "paid",
        "currency": "EUR",
        "prices_include_tax": false,
        "created_at": format!("2026-11-{day:02}T09:00:00Z"),
        "modified_at": format!("2026-11-{day:02}T09:00:00Z"),
        "customer": {"email": format!("buyer{n}@example.com"), "first_name": "Bo", "last_name": format!("Buyer{n}")},
        "billing": {"name": format!("Bo Buyer{n}"), "city": "Ljubljana", "postal_code": "1000", "country": "SI"},
        "lines": [{"sku": format!("TEA-{}", n % 50), "name": "Tea", "quantity": "3", "unit_price": "4.00",
                   "tax_rate": "9.5", "tax_amount": "1.14", "total": "12.00"}],
        "tax_total": "1.14",
        "total": "13.14"
    })
}

async fn seed(service: &TestService, orders: usize) -> (i64, i64) {
    let token = service.company("Bench").await.unwrap();
    let post = |path: &str, body: Value| {
        let token = token.clone();
        let path = path.to_owned();
        async move {
            let (status, answer) = service
                .call(reqwest::Method::POST, &path, Some(&token), Some(body))
                .await
                .unwrap();
            assert!(status < 300, "{path}: {status} {answer}");
            answer
        }
    };
    let warehouse = post("/api/v1/warehouses", json!({"name": "Main"})).await;
    let shop = post(
        "/api/v1/shops",
        json!({"name": "Own shop", "warehouse_id": warehouse["id"]}),
    )
    .await;
    let path = format!("/api/v1/shops/{}/orders", shop["id"]);
    let started = Instant::now();
    futures::stream::iter(0..orders)
        .map(|n| post(&path, order(n)))
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    println!(
        "  seeded {orders} orders in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (_, companies) = service
        .call(
            reqwest::Method::GET,
            "/api/v1/companies",
            Some(ADMIN_TOKEN),
            None,
        )
        .await
        .unwrap();
    let company = companies[0]["id"].as_i64().unwrap();
    let (status, user) = service
        .call(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(ADMIN_TOKEN),
            Some(
                json!({"email": "bench@example.com", "name": "Bench", "password": PASSWORD,
                        "company": {"id": company}, "language": "en"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{user}");
    let (_, first) = service
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/orders?limit=1&shop_id={}", shop["id"]),
            Some(&token),
            None,
        )
        .await
        .unwrap();
    (company, first[0]["id"].as_i64().unwrap())
}

/// Signs in as the benchmark's person; the session cookie.
async fn session(service: &TestService) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(service.url("/sign-in")).send().await.unwrap();
    let cookie = page.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let at = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    let token = &html[at..at + 64];
    let form = format!(
        "_csrf={token}&email=bench%40example.com&password={}",
        PASSWORD.replace(' ', "+")
    );
    let signed = http
        .post(service.url("/sign-in"))
        .header(COOKIE, cookie)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
        .send()
        .await
        .unwrap();
    signed
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|value| value.starts_with("tovor_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn measure(
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
    rounds: usize,
) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut size = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let response = http.get(url).header(COOKIE, cookie).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        size = response.bytes().await.unwrap().len();
        times.push(started.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), size)
}

async fn bench(db: Db, orders: usize) {
    let service = TestService::start_with_plugins(db, quick_workers("web-bench"), &[])
        .await
        .unwrap();
    let (company, order) = seed(&service, orders).await;
    let cookie = session(&service).await;
    let http = reqwest::Client::new();
    let pages = [
        ("order list, first page", format!("/c/{company}/orders")),
        (
            "order list, deep page",
            format!("/c/{company}/orders?before={}", order - (orders as i64) / 2),
        ),
        (
            "order list, text search",
            format!("/c/{company}/orders?q=buyer4242"),
        ),
        (
            "order list, status and dates",
            format!("/c/{company}/orders?status=completed&from=2026-11-10&to=2026-11-20"),
        ),
        ("dashboard", format!("/c/{company}")),
        ("one order", format!("/c/{company}/orders/{order}")),
    ];
    // Warm the connection and the statement caches.
    measure(&http, &service.url(&pages[0].1), &cookie, 20).await;
    for (name, path) in &pages {
        let (p50, p99, size) = measure(&http, &service.url(path), &cookie, 200).await;
        println!(
            "  {name:<32} p50 {:>6.2} ms  p99 {:>6.2} ms  ({} KiB)",
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0,
            size / 1024
        );
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let backend = format!("{db:?}").to_lowercase();
        tovor_bench_figures::record(
            &format!("web.{backend}.{slug}.p99"),
            p99.as_secs_f64() * 1000.0,
            "ms",
        );
    }
    service.stop().await;
}

fn main() {
    let orders = env_number("TOVOR_BENCH_ORDERS", 10_000);
    let backends =
        std::env::var("TOVOR_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in backends.split(',') {
        let db = match backend.trim() {
            "sqlite" => Db::Sqlite,
            "postgres" if tovor_tests::service::postgres_ready() => Db::Postgres,
            "postgres" => {
                println!("web pages, PostgreSQL: skipped (no server)");
                continue;
            }
            other => panic!("unknown backend {other}"),
        };
        println!("web pages, {backend}, {orders} orders (server time over loopback):");
        runtime.block_on(bench(db, orders));
    }
}
