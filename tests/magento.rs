//! Magento 2 / Adobe Commerce end to end: the real connector (Wasm) against the fake
//! Magento of `tovor-fakes` (OAuth 1.0a-signed requests, `searchCriteria` paging with
//! `total_count`, configurable and bundle products, MSI sources and legacy stock
//! items), through the service's API, sync, history import and stock push, on SQLite
//! and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_fakes::magento::{
    ACCESS_TOKEN, ACCESS_TOKEN_SECRET, CONSUMER_KEY, CONSUMER_SECRET, FakeMagento, OrderSpec, dec,
    magento_time_in,
};
use tovor_tests::service::{Db, ShopSession};

tovor_tests::on_both_databases!(
    the_shop_is_added_and_a_poll_imports_every_order_to_the_cent,
    a_delivery_note_sets_the_source_item_with_msi,
    a_delivery_note_sets_the_legacy_stock_item_without_msi,
    orders_changed_in_the_same_second_across_a_page_boundary_are_all_imported,
    a_changed_order_is_overwritten_until_invoiced,
    an_outage_is_retried_and_nothing_is_skipped,
    the_history_import_pages_through_everything,
);

/// A shop session on a fake Magento.
struct Magento {
    s: ShopSession,
    store: FakeMagento,
}

fn config(store: &FakeMagento, extra: Value) -> Value {
    let mut config = json!({
        "base_url": store.url(),
        "access_token": ACCESS_TOKEN,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "access_token_secret": ACCESS_TOKEN_SECRET,
    });
    if let (Some(config), Value::Object(extra)) = (config.as_object_mut(), extra) {
        config.extend(extra);
    }
    config
}

async fn setup(store: FakeMagento, db: Db, extra: Value, settings: Value) -> Magento {
    let s = ShopSession::start(db, "magento", config(&store, extra), settings).await;
    Magento { s, store }
}

impl Magento {
    async fn order(&self, id: u64, check: impl Fn(&Value) -> bool) -> Value {
        self.s.order_where(&id.to_string(), check).await
    }

    /// The imported order matches the store's to the cent.
    async fn imported_to_the_cent(&self, id: u64) -> Value {
        let placed = self.store.order(id).unwrap();
        let order = self.order(id, |_| true).await;
        assert_eq!(
            decimal(&order["total"]),
            dec(&placed["grand_total"]),
            "order {id}"
        );
        assert_eq!(
            decimal(&order["tax_total"]),
            dec(&placed["tax_amount"]),
            "order {id}"
        );
        assert_eq!(
            order["currency"], placed["order_currency_code"],
            "order {id}"
        );
        assert_eq!(order["shop_status_raw"], placed["status"], "order {id}");
        order
    }

    async fn wait_for_quantity(&self, sku: &str, source: &str, expected: i64) {
        let what = format!("{sku} at {expected} on {source}");
        self.s
            .until(&what, || async {
                (self.store.quantity(sku, source) == Some(Decimal::from(expected))).then_some(())
            })
            .await;
    }

    async fn view(&self) -> Value {
        self.s
            .get(&format!("/api/v1/shops/{}", self.s.shop_id))
            .await
    }
}

fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not an amount: {value}"))
        .parse()
        .unwrap()
}

fn id_of(order: &Value) -> u64 {
    order["entity_id"].as_u64().unwrap()
}

/// "Add e-store" checks the connection (a wrong secret is refused naming the field),
/// and the first poll imports every order (a configurable, a dynamic bundle and a
/// coupon; a guest with a discount on gross prices; USD; a fixed bundle; closed,
/// canceled, on hold) with the store's totals to the cent, its items and customers.
async fn the_shop_is_added_and_a_poll_imports_every_order_to_the_cent(db: Db) {
    let store = FakeMagento::start_seeded().await.unwrap();
    let m = setup(store, db, json!({}), json!({})).await;

    let mut wrong = config(&m.store, json!({}));
    wrong["consumer_secret"] = json!("not-the-secret");
    let (status, warehouse) =
        m.s.post("/api/v1/warehouses", json!({"name": "Other"}))
            .await;
    assert_eq!(status, 201, "{warehouse}");
    let (status, refused) =
        m.s.post(
            "/api/v1/shops",
            json!({"plugin": "magento", "name": "Wrong", "config": wrong,
                   "warehouse_id": warehouse["id"]}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["error"]["field"], "config.consumer_key",
        "{refused}"
    );

    m.s.wait_for_first_sync().await;
    for id in m.store.order_ids() {
        m.imported_to_the_cent(id).await;
    }
    let first = m.order(m.store.order_ids()[0], |_| true).await;
    let skus: Vec<&str> = first["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["TEE-M", "MUG-1", "BEANS-1KG", "MUG-1"], "{first:#}");
    assert!(
        decimal(&first["content"]["discount_total"]) > Decimal::ZERO,
        "{first:#}"
    );
    let codes = m.s.item_codes().await;
    for sku in ["BEANS-1KG", "GIFT-BOX", "MUG-1", "TEE-L", "TEE-M", "TEE/XL"] {
        assert!(codes.contains(&sku.to_owned()), "{sku} in {codes:?}");
    }
    assert!(
        !codes.contains(&"TEE".to_owned()),
        "the configurable parent is no item"
    );
    let customers = m.s.get("/api/v1/customers").await;
    let emails: Vec<&str> = customers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|customer| customer["email"].as_str())
        .collect();
    assert!(emails.contains(&"ana.novak@example.si"), "{customers:#}");
    // The guest's order carries the guest's name and address.
    let guest = m.order(m.store.order_ids()[1], |_| true).await;
    let text = guest["content"].to_string();
    assert!(
        text.contains("gost@example.si") && text.contains("Marko Horvat"),
        "{guest:#}"
    );
    m.s.service.stop().await;
}

async fn a_delivery_note_sets_the_source_item_with_msi(db: Db) {
    let store = FakeMagento::start().await.unwrap();
    let m = setup(
        store,
        db,
        json!({"source_code": "ljubljana"}),
        json!({"stock_mode": "on_hand"}),
    )
    .await;
    m.s.wait_for_first_sync().await;
    let placed = m.store.create_order(
        &OrderSpec::new()
            .variant("TEE", "TEE-M", 2)
            .line("MUG-1", 1)
            .status("processing")
            .paid(),
    );
    m.s.sync_now().await;
    let order = m.imported_to_the_cent(id_of(&placed)).await;

    m.s.receive(&order["warehouse_id"], &[("TEE-M", "10"), ("MUG-1", "7")])
        .await;
    m.wait_for_quantity("TEE-M", "ljubljana", 10).await;
    m.wait_for_quantity("MUG-1", "ljubljana", 7).await;
    m.s.issue(&order, "delivery-notes").await;
    m.wait_for_quantity("TEE-M", "ljubljana", 8).await;
    m.wait_for_quantity("MUG-1", "ljubljana", 6).await;
    // Only the configured source, only the variant.
    assert_eq!(
        m.store.quantity("TEE-M", "default"),
        Some(Decimal::from(100))
    );
    assert_eq!(
        m.store.quantity("TEE-S", "ljubljana"),
        Some(Decimal::from(100))
    );
    let posts = m.store.source_item_posts();
    assert!(
        posts.iter().all(|post| post["sourceItems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["source_code"] == "ljubljana")),
        "{posts:?}"
    );
    assert!(m.store.stock_item_puts().is_empty());
    m.s.service.stop().await;
}

async fn a_delivery_note_sets_the_legacy_stock_item_without_msi(db: Db) {
    let store = FakeMagento::start().await.unwrap();
    store.set_msi(false);
    let m = setup(store, db, json!({}), json!({"stock_mode": "on_hand"})).await;
    m.s.wait_for_first_sync().await;
    let placed = m.store.create_order(
        &OrderSpec::new()
            .line("TEE/XL", 1)
            .line("BEANS-1KG", 3)
            .status("processing"),
    );
    m.s.sync_now().await;
    let order = m.imported_to_the_cent(id_of(&placed)).await;
    m.s.receive(
        &order["warehouse_id"],
        &[("TEE/XL", "5"), ("BEANS-1KG", "20")],
    )
    .await;
    m.wait_for_quantity("TEE/XL", "default", 5).await;
    m.wait_for_quantity("BEANS-1KG", "default", 20).await;
    m.s.issue(&order, "delivery-notes").await;
    m.wait_for_quantity("TEE/XL", "default", 4).await;
    m.wait_for_quantity("BEANS-1KG", "default", 17).await;
    assert!(m.store.source_item_posts().is_empty());
    let puts = m.store.stock_item_puts();
    assert!(puts.iter().any(|(sku, _)| sku == "TEE/XL"), "{puts:?}");
    m.s.service.stop().await;
}

/// Two orders a page; five orders changed in the same second: pages end inside that
/// second, and every order still arrives.
async fn orders_changed_in_the_same_second_across_a_page_boundary_are_all_imported(db: Db) {
    let store = FakeMagento::start().await.unwrap();
    let m = setup(store, db, json!({"page_size": 2}), json!({})).await;
    m.s.wait_for_first_sync().await;
    let second = magento_time_in(0);
    let mut ids = Vec::new();
    for quantity in 1..=5 {
        let placed = m
            .store
            .create_order(&OrderSpec::new().line("MUG-1", quantity));
        m.store.set_updated_at(id_of(&placed), &second);
        ids.push(id_of(&placed));
    }
    m.s.sync_now().await;
    for id in &ids {
        m.imported_to_the_cent(*id).await;
    }
    assert_eq!(m.s.order_count().await, 5);
    let listed = m
        .store
        .requests()
        .iter()
        .filter(|request| request.starts_with("GET /rest/V1/orders?"))
        .count();
    assert!(listed >= 3, "three pages of two: {listed}");
    m.s.service.stop().await;
}

/// With `update_existing`, a change in Magento before any document overwrites the
/// order; after the invoice only the status follows and the difference is recorded.
async fn a_changed_order_is_overwritten_until_invoiced(db: Db) {
    let store = FakeMagento::start().await.unwrap();
    let m = setup(store, db, json!({}), json!({"update_existing": true})).await;
    m.s.wait_for_first_sync().await;
    let placed = m.store.create_order(&OrderSpec::new().line("MUG-1", 1));
    let id = id_of(&placed);
    m.s.sync_now().await;
    m.order(id, |_| true).await;

    // The admin edits the order: a T-shirt more.
    let edited = m
        .store
        .draft_order(&OrderSpec::new().line("MUG-1", 1).variant("TEE", "TEE-L", 1));
    let replaced = m.store.update_order(id, |order| {
        for field in [
            "items",
            "subtotal",
            "base_subtotal",
            "tax_amount",
            "base_tax_amount",
            "grand_total",
            "base_grand_total",
            "total_due",
        ] {
            order[field] = edited[field].clone();
        }
    });
    m.s.sync_now().await;
    let order = m
        .order(id, |order| order["lines"].as_array().unwrap().len() == 2)
        .await;
    assert_eq!(decimal(&order["total"]), dec(&replaced["grand_total"]));
    assert!(
        order["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["action"] == "overwritten"),
        "{}",
        order["history"]
    );

    // Invoiced; then Magento completes it and the customer's note changes: only the
    // status follows.
    m.s.issue(&order, "invoices").await;
    m.store.update_order(id, |order| {
        order["status"] = json!("complete");
        order["state"] = json!("complete");
        order["customer_note"] = json!("Please ring twice");
    });
    m.s.sync_now().await;
    let after = m
        .order(id, |order| order["shop_status_raw"] == "complete")
        .await;
    assert_eq!(after["total"], order["total"]);
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
    m.s.service.stop().await;
}

/// Magento in maintenance mode: the sync fails, is retried with backoff, and imports
/// every order once the store is back.
async fn an_outage_is_retried_and_nothing_is_skipped(db: Db) {
    let store = FakeMagento::start().await.unwrap();
    let m = setup(store, db, json!({"page_size": 2}), json!({})).await;
    m.s.wait_for_first_sync().await;
    let ids: Vec<u64> = (1..=3)
        .map(|quantity| {
            id_of(
                &m.store
                    .create_order(&OrderSpec::new().line("MUG-1", quantity)),
            )
        })
        .collect();
    m.store.set_down(true);
    m.s.sync_now().await;
    let failing =
        m.s.until("the sync to fail", || async {
            let view = m.view().await;
            (view["sync"]["failures"].as_u64() >= Some(1)).then_some(view)
        })
        .await;
    let error = failing["sync"]["last_error"].as_str().unwrap();
    assert!(error.contains("maintenance"), "{failing:#}");
    assert_eq!(m.s.order_count().await, 0);

    // Back, but the first request after it crashes (500): retried again, not passed.
    m.store.fail_next(1);
    m.store.set_down(false);
    for id in &ids {
        m.imported_to_the_cent(*id).await;
    }
    m.s.until("the sync to succeed again", || async {
        let view = m.view().await;
        (view["sync"]["failures"] == 0 && view["sync"]["last_error"].is_null()).then_some(())
    })
    .await;
    assert_eq!(m.s.order_count().await, 3);
    m.s.service.stop().await;
}

/// "Import history" pages through every order from 2000 with its progress saved.
async fn the_history_import_pages_through_everything(db: Db) {
    let store = FakeMagento::start_seeded().await.unwrap();
    // Orders older than the first poll's window.
    for id in store.order_ids() {
        store.set_updated_at(id, "2024-03-01 08:00:00");
    }
    let m = setup(store, db, json!({"page_size": 2}), json!({})).await;
    m.s.wait_for_first_sync().await;
    assert_eq!(m.s.order_count().await, 0, "older than the first poll");
    m.s.import_all_history().await;
    let done =
        m.s.until("the history import to finish", || async {
            let view = m.view().await;
            (view["sync"]["history"]["state"] == "done").then_some(view)
        })
        .await;
    assert_eq!(done["sync"]["history"]["pages"], 3, "{done:#}");
    assert!(done["sync"]["history"]["error"].is_null(), "{done:#}");
    for id in m.store.order_ids() {
        m.imported_to_the_cent(id).await;
    }
    m.s.service.stop().await;
}
