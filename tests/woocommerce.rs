//! WooCommerce end to end: the real connector (Wasm) against the fake WooCommerce of
//! `tovor-fakes` (REST API v3 paths, OAuth 1.0a over plain HTTP, `X-WP-TotalPages`,
//! signed `X-WC-Webhook-*` deliveries), through the service's API, inbox, sync and
//! stock push, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use tovor_fakes::woocommerce::{
    CONSUMER_KEY, CONSUMER_SECRET, CouponKind, Delivery, FakeWoo, OrderSpec, WEBHOOK_SECRET,
    WebhookAction,
};
use tovor_tests::service::{Db, ShopSession};

tovor_tests::on_both_databases!(
    webhook_to_order_to_variation_stock,
    duplicate_stale_and_lost_deliveries,
    changes_before_and_after_the_invoice,
    wrong_signature_down_shop_and_rate_limits,
    a_realistic_shop_imports_to_the_cent,
    webhooks_are_registered_when_added_and_removed_when_disabled,
);

/// A shop session on a fake WooCommerce.
struct Woo {
    s: ShopSession,
    woo: FakeWoo,
}

async fn setup(db: Db, settings: Value) -> Woo {
    setup_with(FakeWoo::start().await.unwrap(), db, settings).await
}

async fn setup_with(woo: FakeWoo, db: Db, settings: Value) -> Woo {
    let config = json!({
        "url": woo.url(),
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
    });
    let s = ShopSession::start(db, "woocommerce", config, settings).await;
    Woo { s, woo }
}

impl Woo {
    async fn deliver(&self, delivery: &Delivery) -> u16 {
        self.woo
            .deliver(&self.s.webhook_url, delivery)
            .await
            .unwrap()
    }

    async fn order(&self, woo_id: u64, check: impl Fn(&Value) -> bool) -> Value {
        self.s.order_where(&woo_id.to_string(), check).await
    }

    async fn wait_for_stock(&self, product: u64, variation: Option<u64>, expected: i64) {
        let what = format!("stock {expected} on {product}/{variation:?}");
        self.s
            .until(&what, || async {
                (self.woo.stock(product, variation) == Some(expected)).then_some(())
            })
            .await;
    }
}

/// A T-shirt in three sizes and a mug, in the fake shop.
fn catalog(woo: &FakeWoo) -> (u64, Vec<u64>, u64) {
    let (shirt, sizes) = woo.add_variable_product(
        "T-shirt",
        &[
            ("TEE-S", "S", "19.90", Some(5)),
            ("TEE-M", "M", "19.90", Some(5)),
            ("TEE-L", "L", "21.90", Some(5)),
        ],
    );
    let mug = woo.add_simple_product("MUG-1", "Mug", "9.90", Some(5));
    woo.add_coupon("SAVE10", CouponKind::Percent, "10");
    (shirt, sizes, mug)
}

async fn webhook_to_order_to_variation_stock(db: Db) {
    let w = setup(db, json!({"stock_mode": "on_hand"})).await;
    let (shirt, sizes, mug) = catalog(&w.woo);

    // The ping WooCommerce sends when the webhook is saved: answered 200, not stored.
    assert_eq!(w.deliver(&w.woo.ping(12)).await, 200);

    let placed = w.woo.create_order(
        &OrderSpec::new()
            .line(shirt, Some(sizes[1]), 2)
            .line(mug, None, 1)
            .coupon("SAVE10")
            .shipping("GLS", "4.10")
            .payment("cod", "Cash on delivery"),
    );
    let woo_id = placed["id"].as_u64().unwrap();
    assert_eq!(
        w.deliver(&w.woo.delivery("order.created", woo_id)).await,
        200
    );

    let order = w.order(woo_id, |_| true).await;
    // The shop's totals, to the cent.
    assert_eq!(
        order["total"].as_str().unwrap(),
        placed["total"].as_str().unwrap()
    );
    assert_eq!(
        order["tax_total"].as_str().unwrap(),
        placed["total_tax"].as_str().unwrap()
    );
    assert_eq!(order["currency"], placed["currency"]);
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!(w.s.item_codes().await, ["MUG-1", "TEE-M"]);
    let customers = w.s.get("/api/v1/customers").await;
    assert_eq!(customers[0]["email"], placed["billing"]["email"]);

    // Goods arrive for the variation and the mug; the shop hears each on its own
    // product or variation.
    w.s.receive(&order["warehouse_id"], &[("TEE-M", "10"), ("MUG-1", "7")])
        .await;
    w.wait_for_stock(shirt, Some(sizes[1]), 10).await;
    w.wait_for_stock(mug, None, 7).await;

    w.s.issue(&order, "delivery-notes").await;
    w.wait_for_stock(shirt, Some(sizes[1]), 8).await;
    w.wait_for_stock(mug, None, 6).await;
    // The other sizes were never touched, and the parent has no stock of its own.
    assert_eq!(w.woo.stock(shirt, Some(sizes[0])), Some(5));
    assert_eq!(w.woo.stock(shirt, Some(sizes[2])), Some(5));
    let variation_puts = w
        .woo
        .requests()
        .iter()
        .filter(|request| request.contains(&format!("/products/{shirt}/variations")))
        .count();
    assert!(
        variation_puts >= 2,
        "variations pushed through their own endpoint"
    );
    w.s.service.stop().await;
}

async fn duplicate_stale_and_lost_deliveries(db: Db) {
    let w = setup(db, json!({"update_existing": true})).await;
    let (_, _, mug) = catalog(&w.woo);
    let placed = w
        .woo
        .create_order(&OrderSpec::new().line(mug, None, 1).status("processing"));
    let woo_id = placed["id"].as_u64().unwrap();

    // The same delivery twice: one order.
    let created = w.woo.delivery("order.created", woo_id);
    assert_eq!(w.deliver(&created).await, 200);
    assert_eq!(w.deliver(&created).await, 200);
    w.order(woo_id, |order| order["shop_status_raw"] == "processing")
        .await;

    // The order is completed in the shop; the newer delivery arrives first, the older
    // one (still "processing") after it: the order stays completed.
    w.woo.update_order(woo_id, |order| {
        order["status"] = json!("completed");
    });
    let newer = w.woo.delivery("order.updated", woo_id);
    assert_eq!(w.deliver(&newer).await, 200);
    w.order(woo_id, |order| order["shop_status_raw"] == "completed")
        .await;
    assert_eq!(w.deliver(&created).await, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let order = w.order(woo_id, |_| true).await;
    assert_eq!(
        order["shop_status_raw"], "completed",
        "a stale payload changes nothing"
    );
    assert_eq!(w.s.order_count().await, 1);

    // An order whose webhook never came: "sync now" finds it.
    let lost = w.woo.create_order(&OrderSpec::new().line(mug, None, 3));
    let lost_id = lost["id"].as_u64().unwrap();
    w.s.sync_now().await;
    let order = w.order(lost_id, |_| true).await;
    assert_eq!(
        order["total"].as_str().unwrap(),
        lost["total"].as_str().unwrap()
    );
    assert_eq!(w.s.order_count().await, 2);
    w.s.service.stop().await;
}

async fn changes_before_and_after_the_invoice(db: Db) {
    let w = setup(db, json!({"update_existing": true})).await;
    let (shirt, sizes, mug) = catalog(&w.woo);
    let placed = w.woo.create_order(&OrderSpec::new().line(mug, None, 1));
    let woo_id = placed["id"].as_u64().unwrap();
    assert_eq!(
        w.deliver(&w.woo.delivery("order.created", woo_id)).await,
        200
    );
    w.order(woo_id, |_| true).await;

    // Before any document: the shop's change (another line) overwrites the order.
    let extended =
        w.woo.create_order(
            &OrderSpec::new()
                .line(mug, None, 1)
                .line(shirt, Some(sizes[0]), 1),
        );
    let replaced = w.woo.update_order(woo_id, |order| {
        order["line_items"] = extended["line_items"].clone();
        for field in [
            "total",
            "total_tax",
            "cart_tax",
            "discount_total",
            "discount_tax",
        ] {
            order[field] = extended[field].clone();
        }
    });
    w.woo.trash_order(extended["id"].as_u64().unwrap());
    assert_eq!(
        w.deliver(&w.woo.delivery("order.updated", woo_id)).await,
        200
    );
    let order = w
        .order(woo_id, |order| {
            order["lines"].as_array().unwrap().len() == 2
        })
        .await;
    assert_eq!(
        order["total"].as_str().unwrap(),
        replaced["total"].as_str().unwrap()
    );
    assert!(
        order["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["action"] == "overwritten"),
        "{}",
        order["history"]
    );

    // An invoice is issued; then the shop changes the status and a quantity: only the
    // status follows, and the difference is recorded.
    w.s.issue(&order, "invoices").await;
    w.woo.update_order(woo_id, |order| {
        order["status"] = json!("completed");
        order["customer_note"] = json!("Please ring twice");
    });
    assert_eq!(
        w.deliver(&w.woo.delivery("order.updated", woo_id)).await,
        200
    );
    let after = w
        .order(woo_id, |order| order["shop_status_raw"] == "completed")
        .await;
    assert_eq!(after["total"], order["total"], "the invoiced content stays");
    assert_eq!(
        after["content"]["customer_note"],
        order["content"]["customer_note"]
    );
    let history = after["history"].as_array().unwrap();
    let update = history
        .iter()
        .find(|entry| entry["action"] == "status_updated")
        .unwrap_or_else(|| panic!("no status update in {history:#?}"));
    assert!(
        update["detail"].to_string().contains("customer_note"),
        "the kept difference is recorded: {update}"
    );
    w.s.service.stop().await;
}

async fn wrong_signature_down_shop_and_rate_limits(db: Db) {
    let w = setup(db, json!({})).await;
    // A forged delivery must be what the test sees refused, not the first sync.
    w.s.wait_for_first_sync().await;
    let (_, _, mug) = catalog(&w.woo);
    let placed = w.woo.create_order(&OrderSpec::new().line(mug, None, 2));
    let woo_id = placed["id"].as_u64().unwrap();

    // A delivery signed with another secret: 401, nothing imported.
    let mut forged = w.woo.delivery("order.created", woo_id);
    for (name, value) in &mut forged.headers {
        if name.eq_ignore_ascii_case("x-wc-webhook-signature") {
            *value = "bm90IHRoZSBzaWduYXR1cmU=".into();
        }
    }
    assert_eq!(w.deliver(&forged).await, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.s.order_count().await, 0);

    // The shop is down when the delivery is worked on: kept, retried, imported later.
    w.woo.set_down(true);
    assert_eq!(
        w.deliver(&w.woo.delivery("order.created", woo_id)).await,
        200
    );
    let waiting = w.s.wait_for_retrying_delivery().await;
    assert!(waiting["last_error"].as_str().is_some(), "{waiting}");
    assert_eq!(w.s.order_count().await, 0);
    w.woo.set_down(false);
    w.order(woo_id, |_| true).await;

    // A hosting limiter answering 429: retried after the wait, nothing lost.
    let second = w.woo.create_order(&OrderSpec::new().line(mug, None, 1));
    let second_id = second["id"].as_u64().unwrap();
    w.woo.rate_limit_next(2, Some(1));
    assert_eq!(
        w.deliver(&w.woo.delivery("order.created", second_id)).await,
        200
    );
    w.order(second_id, |_| true).await;
    assert_eq!(w.s.order_count().await, 2);
    w.s.service.stop().await;
}

/// Every order of a realistic shop (variable products, coupons, two tax rates, prices
/// with and without tax, guests, fees, refunds, a cancelled order, another currency)
/// arrives through the history import with the shop's totals to the cent.
async fn a_realistic_shop_imports_to_the_cent(db: Db) {
    let w = setup_with(FakeWoo::start_seeded().await.unwrap(), db, json!({})).await;
    w.s.import_all_history().await;
    let ids = w.woo.order_ids();
    assert!(ids.len() >= 8, "the seeded shop has orders: {ids:?}");
    for id in ids {
        let placed = w.woo.order(id).unwrap();
        let order = w.order(id, |_| true).await;
        assert_eq!(
            order["total"].as_str(),
            placed["total"].as_str(),
            "order {id}"
        );
        assert_eq!(
            order["tax_total"].as_str(),
            placed["total_tax"].as_str(),
            "order {id}"
        );
        assert_eq!(order["currency"], placed["currency"], "order {id}");
        assert_eq!(order["shop_status_raw"], placed["status"], "order {id}");
    }
    w.s.service.stop().await;
}

/// "Add e-store" subscribes WooCommerce's order topics to the shop's webhook URL through
/// `POST /webhooks` (the fake records them), disabling the shop deletes exactly those,
/// and enabling it subscribes them again; a webhook the owner made by hand is left alone.
async fn webhooks_are_registered_when_added_and_removed_when_disabled(db: Db) {
    let woo = FakeWoo::start().await.unwrap();
    let foreign = woo.add_webhook("order.created", "https://elsewhere.example/hook");
    let w = setup_with(woo, db, json!({})).await;
    let shop_path = format!("/api/v1/shops/{}", w.s.shop_id);
    let ours = |woo: &FakeWoo| -> Vec<(String, String)> {
        let mut topics: Vec<(String, String)> = woo
            .webhooks()
            .iter()
            .filter(|hook| hook["id"].as_u64() != Some(foreign))
            .map(|hook| {
                (
                    hook["topic"].as_str().unwrap().to_owned(),
                    hook["delivery_url"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        topics.sort();
        topics
    };
    let expected: Vec<(String, String)> = [
        "order.created",
        "order.deleted",
        "order.restored",
        "order.updated",
    ]
    .iter()
    .map(|topic| (topic.to_string(), w.s.webhook_url.clone()))
    .collect();
    assert_eq!(ours(&w.woo), expected);
    let shop = w.s.get(&shop_path).await;
    assert_eq!(shop["webhook_setup"]["state"], "registered", "{shop}");
    let registered = shop["webhook_setup"]["webhooks"].as_array().unwrap().len();
    assert_eq!(registered, 4, "{shop}");
    assert!(
        w.woo
            .webhooks()
            .iter()
            .all(|hook| hook["status"] == "active"),
        "{:?}",
        w.woo.webhooks()
    );

    let (status, disabled) =
        w.s.service
            .call(
                reqwest::Method::PATCH,
                &shop_path,
                Some(&w.s.token),
                Some(json!({"enabled": false})),
            )
            .await
            .unwrap();
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["webhook_setup"], Value::Null);
    assert!(ours(&w.woo).is_empty(), "{:?}", w.woo.webhooks());
    assert_eq!(w.woo.webhooks().len(), 1, "the owner's own webhook stays");
    let deleted = w
        .woo
        .webhook_log()
        .iter()
        .filter(|change| change.action == WebhookAction::Deleted)
        .count();
    assert_eq!(deleted, 4);

    let (status, enabled) =
        w.s.service
            .call(
                reqwest::Method::PATCH,
                &shop_path,
                Some(&w.s.token),
                Some(json!({"enabled": true})),
            )
            .await
            .unwrap();
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["webhook_setup"]["state"], "registered");
    assert_eq!(ours(&w.woo), expected);
    w.s.service.stop().await;
}
