//! 10,000 WooCommerce-shaped orders from the fake WooCommerce on loopback:
//!
//! 1. read through the real connector in Wasm (`list-orders`, 100 per page: the host
//!    does the HTTP, the guest signs with OAuth 1.0a, parses and maps);
//! 2. read with native Rust in the same process (reqwest, then the connector's own
//!    mapping code compiled natively: `woocommerce::woo::map_order`);
//! 3. imported by the service (history import through the connector into SQLite:
//!    orders, items, customers, stock reservations).
//!
//! Prints orders per second for each and the Wasm/native ratio.
//! Run: `cargo bench -p tovor-tests --bench woocommerce` (`ORDERS=n` for another count).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use tovor_fakes::woocommerce::{
    CONSUMER_KEY, CONSUMER_SECRET, CouponKind, FakeWoo, OrderSpec, WEBHOOK_SECRET,
};
use tovor_harness::TestHost;
use tovor_tests::service::{Db, ShopSession};
use woocommerce::woo::{WooOrder, map_order};

const SINCE: time::OffsetDateTime = time::macros::datetime!(2000-01-01 0:00 UTC);

fn main() {
    let orders: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(orders));
}

async fn run(count: usize) {
    sqlx::any::install_default_drivers();
    let woo = FakeWoo::start().await.unwrap();
    fill(&woo, count);
    println!(
        "{count} WooCommerce orders in the fake shop (1–4 lines, variations, coupons, shipping, fees)"
    );

    // Warm-up: compile the component, first connections.
    let host = TestHost::new().unwrap();
    let plugin = host
        .load_crate(tovor_tests::workspace().join("plugins/woocommerce"))
        .await
        .unwrap();
    let shop = host
        .shop(
            plugin.id(),
            [
                ("url", woo.url()),
                ("consumer_key", CONSUMER_KEY.to_owned()),
                ("consumer_secret", CONSUMER_SECRET.to_owned()),
                ("webhook_secret", WEBHOOK_SECRET.to_owned()),
            ],
        )
        .unwrap();
    shop.list_orders(SINCE, None).await.unwrap();
    native_page(&woo, 1).await;

    let started = Instant::now();
    let mut read = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = shop.list_orders(SINCE, cursor.as_deref()).await.unwrap();
        read += page.orders.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let wasm = started.elapsed();
    assert_eq!(read, count, "the connector read every order");

    let started = Instant::now();
    let mut read = 0;
    let mut page = 1;
    loop {
        let (mapped, pages) = native_page(&woo, page).await;
        read += mapped;
        if page >= pages {
            break;
        }
        page += 1;
    }
    let native = started.elapsed();
    assert_eq!(read, count, "native code read every order");

    let imported = import(&woo, count).await;

    let rate = |elapsed: Duration| count as f64 / elapsed.as_secs_f64();
    println!();
    println!("| path | time | orders/s |");
    println!("|---|---|---|");
    println!(
        "| Wasm connector: list-orders + map (100/page) | {:.2} s | {:.0} |",
        wasm.as_secs_f64(),
        rate(wasm)
    );
    println!(
        "| native Rust: reqwest + same mapping code | {:.2} s | {:.0} |",
        native.as_secs_f64(),
        rate(native)
    );
    println!(
        "| service: history import into SQLite | {:.2} s | {:.0} |",
        imported.as_secs_f64(),
        rate(imported)
    );
    let ratio = wasm.as_secs_f64() / native.as_secs_f64();
    println!(
        "\nWasm / native time ratio: {ratio:.2}× (the Wasm path also signs each request with OAuth 1.0a)"
    );
    tovor_bench_figures::record("connector.woocommerce.wasm_native_ratio", ratio, "×");
    tovor_bench_figures::record("connector.woocommerce.wasm_read", rate(wasm), "orders/s");
    tovor_bench_figures::record(
        "connector.woocommerce.history_import",
        rate(imported),
        "orders/s",
    );
}

/// Orders made of a small catalog: three T-shirt sizes, two mug colours, two simple
/// products; a coupon on every fifth, a fee on every seventh.
fn fill(woo: &FakeWoo, count: usize) {
    let (shirt, sizes) = woo.add_variable_product(
        "T-shirt",
        &[
            ("TEE-S", "S", "19.90", Some(1_000_000)),
            ("TEE-M", "M", "19.90", Some(1_000_000)),
            ("TEE-L", "L", "21.90", Some(1_000_000)),
        ],
    );
    let (mug, colours) = woo.add_variable_product(
        "Mug",
        &[
            ("MUG-BLU", "Blue", "9.90", Some(1_000_000)),
            ("MUG-RED", "Red", "9.90", Some(1_000_000)),
        ],
    );
    let book = woo.add_simple_product("BOOK-1", "Cookbook", "24.50", Some(1_000_000));
    let tea = woo.add_simple_product("TEA-1", "Green tea", "4.35", Some(1_000_000));
    woo.add_coupon("SAVE10", CouponKind::Percent, "10");
    let products = [
        (shirt, Some(sizes[0])),
        (shirt, Some(sizes[1])),
        (shirt, Some(sizes[2])),
        (mug, Some(colours[0])),
        (mug, Some(colours[1])),
        (book, None),
        (tea, None),
    ];
    for n in 0..count {
        let mut spec = OrderSpec::new().shipping("GLS", "4.10");
        for line in 0..=(n % 4) {
            let (product, variation) = products[(n * 3 + line * 5) % products.len()];
            spec = spec.line(product, variation, 1 + (n % 3) as u32);
        }
        if n % 5 == 0 {
            spec = spec.coupon("SAVE10");
        }
        if n % 7 == 0 {
            spec = spec.fee("Packaging", "1.50");
        }
        woo.create_order(&spec);
    }
}

/// One page read and mapped natively: (orders mapped, total pages).
async fn native_page(woo: &FakeWoo, page: usize) -> (usize, usize) {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(reqwest::Client::new);
    let url = format!(
        "{}/wp-json/wc/v3/orders?modified_after=2000-01-01T00:00:00&dates_are_gmt=true\
         &orderby=date&order=asc&status=any&per_page=100&page={page}",
        woo.url()
    );
    let response = client
        .get(url)
        .basic_auth(CONSUMER_KEY, Some(CONSUMER_SECRET))
        .send()
        .await
        .unwrap();
    let pages = response
        .headers()
        .get("x-wp-totalpages")
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .unwrap_or(1);
    let body = response.bytes().await.unwrap();
    let orders: Vec<WooOrder> = serde_json::from_slice(&body).unwrap();
    let mapped: Vec<_> = orders
        .into_iter()
        .map(|order| map_order(order).unwrap())
        .collect();
    (std::hint::black_box(mapped).len(), pages)
}

/// The whole import through the service, timed from the request to the last order.
async fn import(woo: &FakeWoo, count: usize) -> Duration {
    let config = json!({
        "url": woo.url(),
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    });
    let session = ShopSession::start(Db::Sqlite, "woocommerce", config, json!({})).await;
    let started = Instant::now();
    session.import_all_history().await;
    loop {
        let view = session
            .get(&format!("/api/v1/shops/{}", session.shop_id))
            .await;
        let history = &view["sync"]["history"];
        if history["state"] == "done" {
            assert_eq!(history["orders"], count, "{history}");
            break;
        }
        assert_ne!(history["state"], "failed", "{history}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    session.service.stop().await;
    elapsed
}
