//! Per-call cost of the sandbox.
//!
//! `cargo xtask setup && cargo bench -p tovor-tests --bench plugin_calls`
//!
//! - instantiate + trivial call (the probe's `get-order "ok"`, a small fixed order)
//!   through the whole host path (fresh store, limits, epoch deadline, timeout, the
//!   contract adapter), with and without wasmtime's pooling allocator;
//! - a webhook call that verifies an HMAC and parses and returns a 100-line order
//!   (the example connector's `verify-webhook`).
//!
//! The design's bar for the first is 10 µs with pooling; the figure is printed beside it.

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tovor_runtime::model::{VerifiedWebhook, WebhookEvent, WebhookRequest};
use tovor_runtime::{CallContext, EngineOptions, Runtime, RuntimeOptions};
use tovor_tests::{example_shop, probe};

const WEBHOOK_SECRET: &str = "bench-webhook-secret";

fn runtime(pooling: bool) -> Runtime {
    Runtime::new(RuntimeOptions {
        engine: EngineOptions {
            pooling,
            ..EngineOptions::default()
        },
        cache_dir: None,
        allow_private_egress: false,
    })
    .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn hundred_line_order() -> Vec<u8> {
    let items: Vec<serde_json::Value> = (1..=100)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "sku": format!("SKU-{i:04}"),
                "name": format!("Item number {i}"),
                "quantity": 2,
                "unit_price": "9.90",
                "tax_rate": "22",
                "tax": "4.36",
                "total": "19.80"
            })
        })
        .collect();
    let order = serde_json::json!({
        "id": 1042,
        "number": "1042",
        "status": "paid",
        "currency": "EUR",
        "created_at": "2026-11-28T10:00:00Z",
        "updated_at": "2026-11-28T10:05:00Z",
        "customer": {"id": 7, "email": "ana@example.com", "name": "Ana Novak"},
        "billing_address": {"name": "Ana Novak", "street": "Slovenska cesta 12a", "city": "Ljubljana", "zip": "1000", "country": "SI"},
        "shipping_address": null,
        "payment": {"method": "cod", "title": "Cash on delivery"},
        "items": items,
        "shipping": {"title": "Parcel", "price": "4.10", "tax": "0.90"},
        "total": "2421.00",
        "note": null
    });
    serde_json::to_vec(&order).unwrap_or_default()
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes())
        .unwrap_or_else(|e| panic!("hmac: {e}"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn benches(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio: {e}"));
    let probe = probe().unwrap_or_else(|e| panic!("build the probe: {e}"));
    let example = example_shop().unwrap_or_else(|e| panic!("build the example: {e}"));

    let mut group = c.benchmark_group("instantiate+trivial-call");
    for (label, pooling, figure) in [
        ("pooling", true, "plugin.instantiate_call_pooled"),
        ("on-demand", false, "plugin.instantiate_call_on_demand"),
    ] {
        let runtime = runtime(pooling);
        tokio
            .block_on(runtime.load_plugin_dir(&probe.dir))
            .unwrap_or_else(|e| panic!("load: {e}"));
        let shop = runtime
            .shop("probe", CallContext::default())
            .unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(label, |b| {
            b.to_async(&tokio)
                .iter(|| async { shop.get_order("ok").await.unwrap_or_else(|e| panic!("{e}")) })
        });
        let mean = mean_micros(&tokio, 20_000, || async {
            shop.get_order("ok").await.unwrap_or_else(|e| panic!("{e}"));
        });
        tovor_bench_figures::record(figure, mean, "µs");
    }
    group.finish();

    let runtime = runtime(true);
    tokio
        .block_on(runtime.load_plugin_dir(&example.dir))
        .unwrap_or_else(|e| panic!("load: {e}"));
    let config: BTreeMap<String, String> = [
        ("shop_url", "https://minishop.example"),
        ("api_token", "bench-token"),
        ("webhook_secret", WEBHOOK_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let shop = runtime
        .shop("example-shop", CallContext::new("bench", config))
        .unwrap_or_else(|e| panic!("{e}"));
    let body = hundred_line_order();
    let request = WebhookRequest {
        method: "POST".into(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-minishop-signature".into(), sign(&body)),
            ("x-minishop-event".into(), "order.created".into()),
            ("x-minishop-delivery".into(), "0b5e6f9a-bench".into()),
        ],
        query: String::new(),
        body,
    };
    let checked = tokio
        .block_on(shop.verify_webhook(&request))
        .unwrap_or_else(|e| panic!("the bench webhook must verify: {e}"));
    assert_webhook_has_100_lines(&checked);
    c.bench_function("verify-webhook, 100-line order", |b| {
        b.to_async(&tokio).iter(|| async {
            shop.verify_webhook(&request)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    let mean = mean_micros(&tokio, 1_000, || async {
        shop.verify_webhook(&request)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    });
    tovor_bench_figures::record("plugin.verify_webhook_100_lines", mean, "µs");
    println!("goal: instantiate+trivial call with pooling under 10 µs");
}

/// The mean time of `call` over `calls` calls, for `cargo xtask bench`'s table
/// (criterion's own report stays the one to read for spread).
fn mean_micros<F, Fut>(tokio: &tokio::runtime::Runtime, calls: u32, call: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    tokio.block_on(async {
        let started = std::time::Instant::now();
        for _ in 0..calls {
            call().await;
        }
        started.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
    })
}

fn assert_webhook_has_100_lines(checked: &VerifiedWebhook) {
    match &checked.event {
        WebhookEvent::OrderChanged(hint) => {
            let lines = hint
                .order
                .as_ref()
                .map(|o| o.as_ref().map(|o| o.lines.len()).unwrap_or_default());
            assert_eq!(
                lines,
                Some(100),
                "the example connector returns the whole order"
            );
        }
        other => panic!("expected order-changed, got {other:?}"),
    }
}

criterion_group!(calls, benches);
criterion_main!(calls);
