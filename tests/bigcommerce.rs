//! BigCommerce end to end: the real connector (Wasm) against the fake BigCommerce of
//! `tovor-fakes` (`X-Auth-Token`, v2 orders with 204 for empty pages, v3 hooks and
//! inventory adjustments, Standard-Webhooks-signed deliveries, 429 with
//! `X-Rate-Limit-Time-Reset-Ms`), through the service's API, inbox, sync and stock
//! push, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use tovor_fakes::bigcommerce::{
    ACCESS_TOKEN, CLIENT_SECRET, Delivery, FakeBigCommerce, LOCATION_ID, OrderSpec, STORE_HASH, dec,
};
use tovor_tests::service::{Db, ShopSession};

tovor_tests::on_both_databases!(
    a_signed_webhook_imports_the_order_and_a_delivery_note_sets_variant_stock,
    bad_old_and_replayed_signatures_are_refused_and_a_429_is_retried,
);

struct BigCommerce {
    s: ShopSession,
    store: FakeBigCommerce,
}

async fn setup(db: Db, settings: Value) -> BigCommerce {
    let store = FakeBigCommerce::start().await.unwrap();
    let config = json!({
        "store_hash": STORE_HASH,
        "access_token": ACCESS_TOKEN,
        "client_secret": CLIENT_SECRET,
        "location_id": LOCATION_ID,
        "api_base": store.api_base(),
    });
    let s = ShopSession::start(db, "bigcommerce", config, settings).await;
    BigCommerce { s, store }
}

impl BigCommerce {
    async fn deliver(&self, delivery: &Delivery) -> u16 {
        self.store
            .deliver(&self.s.webhook_url, delivery)
            .await
            .unwrap()
    }

    async fn wait_for_stock(&self, variant: u64, expected: i64) {
        let what = format!("variant {variant} at {expected}");
        self.s
            .until(&what, || async {
                (self.store.stock(variant, LOCATION_ID) == Some(expected)).then_some(())
            })
            .await;
    }
}

/// The shop is added with its hooks registered; a signed delivery imports the order
/// (variants, coupon, customer) to the cent; a delivery note sets the stock of the
/// variants at the configured location.
async fn a_signed_webhook_imports_the_order_and_a_delivery_note_sets_variant_stock(db: Db) {
    let b = setup(db, json!({"stock_mode": "on_hand"})).await;
    b.s.wait_for_first_sync().await;
    let scopes: Vec<String> = b
        .store
        .hooks()
        .iter()
        .filter(|hook| hook["destination"] == b.s.webhook_url.as_str())
        .map(|hook| hook["scope"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        scopes.contains(&"store/order/created".to_owned())
            && scopes.contains(&"store/order/updated".to_owned()),
        "{:#?}",
        b.store.hooks()
    );

    let placed = b.store.create_order(
        &OrderSpec::new()
            .line("TEE-M", 2)
            .line("MUG-1", 1)
            .coupon("SPRING10", 10)
            .shipping("Flat Rate", "4.90"),
    );
    let id = placed["id"].as_u64().unwrap();
    assert_eq!(
        b.deliver(&b.store.delivery("store/order/created", id))
            .await,
        200
    );
    let order = b.s.order_where(&id.to_string(), |_| true).await;
    assert_eq!(
        order["total"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        dec(&placed["total_inc_tax"]),
        "{order:#}"
    );
    assert_eq!(b.s.item_codes().await, ["MUG-1", "TEE-M"]);
    let customers = b.s.get("/api/v1/customers").await;
    assert_eq!(
        customers[0]["email"], "ana.novak@example.si",
        "{customers:#}"
    );

    b.s.receive(&order["warehouse_id"], &[("TEE-M", "10"), ("MUG-1", "7")])
        .await;
    b.wait_for_stock(202, 10).await;
    b.wait_for_stock(204, 7).await;
    b.s.issue(&order, "delivery-notes").await;
    b.wait_for_stock(202, 8).await;
    b.wait_for_stock(204, 6).await;
    assert_eq!(b.store.stock(201, LOCATION_ID), Some(5), "TEE-S untouched");
    b.s.service.stop().await;
}

/// A bad signature, a signed but old delivery and a signature of another body are
/// refused with 401 and import nothing; a 429 is waited out.
async fn bad_old_and_replayed_signatures_are_refused_and_a_429_is_retried(db: Db) {
    let b = setup(db, json!({})).await;
    b.s.wait_for_first_sync().await;
    let placed = b.store.create_order(&OrderSpec::new().line("MUG-1", 2));
    let id = placed["id"].as_u64().unwrap();

    let mut bad = b.store.delivery("store/order/created", id);
    for (name, value) in &mut bad.headers {
        if name == "webhook-signature" {
            *value = "v1,bm90IHRoZSBzaWduYXR1cmU=".into();
        }
    }
    assert_eq!(b.deliver(&bad).await, 401);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old = b.store.delivery_at("store/order/created", id, now - 400);
    assert_eq!(b.deliver(&old).await, 401);
    let other = b.store.delivery("store/order/updated", id + 1);
    let replayed = Delivery {
        headers: other.headers.clone(),
        body: b.store.delivery("store/order/created", id).body,
    };
    assert_eq!(b.deliver(&replayed).await, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(b.s.order_count().await, 0);

    b.store.throttle_next(2);
    assert_eq!(
        b.deliver(&b.store.delivery("store/order/created", id))
            .await,
        200
    );
    b.s.order_where(&id.to_string(), |_| true).await;
    assert_eq!(
        b.store.throttled(),
        2,
        "both 429s were answered and waited out"
    );
    b.s.service.stop().await;
}
