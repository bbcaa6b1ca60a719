//! PrestaShop end to end: the real connector (Wasm) against the fake PrestaShop
//! Webservice of `tovor-fakes` (1.7 and 8: Basic auth with the key, JSON reads, XML
//! writes, `date=1` filters in shop time, `limit=offset,count`), polled by the
//! service's sync (PrestaShop has no webhooks), with stock pushed to
//! `stock_availables`, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_fakes::prestashop::{FakePrestaShop, OrderSpec, Version, WEBSERVICE_KEY, ids};
use tovor_tests::service::{Db, ShopSession};

tovor_tests::on_both_databases!(
    the_shop_is_added_and_a_poll_imports_orders_to_the_cent_and_stock_follows,
    orders_changed_in_the_same_second_across_a_page_boundary_are_all_imported,
    a_changed_order_is_overwritten_before_any_document,
    an_outage_is_retried_and_nothing_is_skipped,
    the_history_import_reports_progress_and_brings_every_order,
);

/// A shop session on a fake PrestaShop.
struct Presta {
    s: ShopSession,
    shop: FakePrestaShop,
}

async fn setup(shop: FakePrestaShop, db: Db, settings: Value) -> Presta {
    let config = json!({
        "shop_url": shop.url(),
        "webservice_key": WEBSERVICE_KEY,
    });
    let s = ShopSession::start(db, "prestashop", config, settings).await;
    Presta { s, shop }
}

fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {value}"))
        .parse::<Decimal>()
        .unwrap()
        .round_dp(2)
}

impl Presta {
    async fn order(&self, id: u64, check: impl Fn(&Value) -> bool) -> Value {
        self.s.order_where(&id.to_string(), check).await
    }

    async fn wait_for_stock(&self, product: u64, combination: u64, expected: i64) {
        let what = format!("stock {expected} on {product}/{combination}");
        self.s
            .until(&what, || async {
                (self.shop.stock(product, combination) == Some(expected)).then_some(())
            })
            .await;
    }

    async fn wait_for_orders(&self, count: usize) {
        self.s
            .until(&format!("{count} orders"), || async {
                (self.s.order_count().await == count).then_some(())
            })
            .await;
    }

    /// The order as imported matches the shop's, to the cent.
    fn assert_same_totals(&self, id: u64, order: &Value) {
        let placed = self.shop.order(id).unwrap();
        assert_eq!(
            decimal(&order["total"]),
            decimal(&placed["total_paid_tax_incl"]),
            "order {id}"
        );
        assert_eq!(
            decimal(&order["tax_total"]),
            decimal(&placed["total_paid_tax_incl"]) - decimal(&placed["total_paid_tax_excl"]),
            "order {id}"
        );
        assert_eq!(order["currency"], "EUR", "order {id}");
    }
}

async fn the_shop_is_added_and_a_poll_imports_orders_to_the_cent_and_stock_follows(db: Db) {
    let shop = FakePrestaShop::start_seeded(Version::V8).await.unwrap();
    let w = setup(
        shop,
        db,
        json!({"stock_mode": "on_hand", "poll_minutes": 1}),
    )
    .await;
    // Adding the shop checked the connection: the key, the lists, the orders.
    let requests = w.shop.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /api/orders?") && r.contains("limit=0,1")),
        "{requests:#?}"
    );
    let view = w.s.get(&format!("/api/v1/shops/{}", w.s.shop_id)).await;
    assert_eq!(view["webhooks"], false, "PrestaShop is polled: {view}");

    // The first poll brings every order placed today.
    let ids = w.shop.order_ids();
    assert_eq!(ids.len(), 6);
    for id in &ids {
        let order = w.order(*id, |_| true).await;
        w.assert_same_totals(*id, &order);
    }
    let first = w.order(1, |_| true).await;
    let lines = first["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{first:#}");
    assert!(
        first.to_string().contains("POPUST10"),
        "the voucher: {first:#}"
    );
    let codes = w.s.item_codes().await;
    for code in ["KAVA-250", "MUG-01", "TEE-M"] {
        assert!(codes.contains(&code.to_owned()), "{codes:?}");
    }
    let customers = w.s.get("/api/v1/customers").await.to_string();
    assert!(customers.contains("ana.novak@example.si"), "{customers}");
    assert!(
        customers.contains("maria.huber@example.at"),
        "the guest: {customers}"
    );

    // Goods arrive; the shop hears each level on its product or combination.
    w.s.receive(&first["warehouse_id"], &[("TEE-M", "10"), ("MUG-01", "7")])
        .await;
    w.wait_for_stock(ids::TSHIRT, ids::TSHIRT_M, 10).await;
    w.wait_for_stock(ids::MUG, 0, 7).await;
    // The delivery note of order 1 (2 mugs, 1 T-shirt M) takes them out.
    w.s.issue(&first, "delivery-notes").await;
    w.wait_for_stock(ids::TSHIRT, ids::TSHIRT_M, 9).await;
    w.wait_for_stock(ids::MUG, 0, 5).await;
    assert_eq!(
        w.shop.stock(ids::TSHIRT, ids::TSHIRT_S),
        Some(5),
        "untouched"
    );
    assert!(
        w.shop
            .writes()
            .iter()
            .all(|write| write.method == "PUT" && write.body.contains("<stock_available>")),
        "XML PUTs of stock_availables"
    );
    assert!(w.shop.passwords().iter().all(String::is_empty));
    w.s.service.stop().await;
}

async fn orders_changed_in_the_same_second_across_a_page_boundary_are_all_imported(db: Db) {
    let shop = FakePrestaShop::start(Version::V17).await.unwrap();
    let w = setup(shop, db, json!({})).await;
    w.s.wait_for_first_sync().await;
    // 55 orders saved in one second: the page of 50 ends inside that second.
    let placed: Vec<u64> = (0..55)
        .map(|_| {
            w.shop
                .create_order(&OrderSpec::new().line(ids::COFFEE, 0, 1))
        })
        .collect();
    let second = w.shop.now();
    w.shop.set_date_upd(&placed, &second);
    w.s.sync_now().await;
    w.wait_for_orders(55).await;
    for id in [placed[49], placed[50], placed[54]] {
        let order = w.order(id, |_| true).await;
        w.assert_same_totals(id, &order);
    }
    w.s.service.stop().await;
}

async fn a_changed_order_is_overwritten_before_any_document(db: Db) {
    let shop = FakePrestaShop::start(Version::V8).await.unwrap();
    let w = setup(shop, db, json!({"update_existing": true})).await;
    w.s.wait_for_first_sync().await;
    let id = w
        .shop
        .create_order(
            &OrderSpec::new()
                .line(ids::MUG, 0, 1)
                .line(ids::TSHIRT, ids::TSHIRT_S, 1),
        );
    w.s.sync_now().await;
    let order = w.order(id, |_| true).await;
    w.assert_same_totals(id, &order);

    // The merchant edits the order in the back office a second later: three mugs.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.shop.change_quantity(id, ids::MUG, 0, 3);
    w.s.sync_now().await;
    let placed = w.shop.order(id).unwrap();
    let changed = w
        .order(id, |order| {
            decimal(&order["total"]) == decimal(&placed["total_paid_tax_incl"])
        })
        .await;
    w.assert_same_totals(id, &changed);
    assert!(
        changed["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["action"] == "overwritten"),
        "{}",
        changed["history"]
    );

    // Once invoiced, a later change in the shop only moves the status.
    w.s.issue(&changed, "invoices").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.shop.change_quantity(id, ids::MUG, 0, 5);
    w.shop.set_state(id, 4);
    w.s.sync_now().await;
    let after = w.order(id, |order| order["shop_status_raw"] == "4").await;
    assert_eq!(
        after["total"], changed["total"],
        "the invoiced content stays"
    );
    w.s.service.stop().await;
}

async fn an_outage_is_retried_and_nothing_is_skipped(db: Db) {
    let shop = FakePrestaShop::start(Version::V17).await.unwrap();
    let w = setup(shop, db, json!({})).await;
    w.s.wait_for_first_sync().await;
    let before = w.shop.create_order(&OrderSpec::new().line(ids::MUG, 0, 1));
    w.shop.set_down(true);
    w.s.sync_now().await;
    let shop_path = format!("/api/v1/shops/{}", w.s.shop_id);
    let failing =
        w.s.until("the sync to fail", || async {
            let view = w.s.get(&shop_path).await;
            (view["sync"]["failures"].as_u64() >= Some(1)).then_some(view)
        })
        .await;
    assert!(
        failing["sync"]["last_error"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{failing:#}"
    );
    assert_eq!(w.s.order_count().await, 0);
    // An order placed while the shop is away, and one that fails with a PHP error.
    let during = w
        .shop
        .create_order(&OrderSpec::new().line(ids::COFFEE, 0, 2));
    w.shop.set_down(false);
    w.shop.fail_next(1);
    w.wait_for_orders(2).await;
    w.order(before, |_| true).await;
    w.order(during, |_| true).await;
    w.s.until("the sync to succeed again", || async {
        let view = w.s.get(&shop_path).await;
        (view["sync"]["failures"] == 0 && view["sync"]["last_error"].is_null()).then_some(())
    })
    .await;
    w.s.service.stop().await;
}

async fn the_history_import_reports_progress_and_brings_every_order(db: Db) {
    let shop = FakePrestaShop::start_seeded(Version::V17).await.unwrap();
    for _ in 0..60 {
        shop.create_order(&OrderSpec::new().line(ids::TSHIRT, ids::TSHIRT_L, 1));
    }
    // Last year's orders: before the first poll's day.
    let all = shop.order_ids();
    shop.set_date_upd(&all, "2025-05-01 10:00:00");
    let w = setup(shop, db, json!({})).await;
    w.s.wait_for_first_sync().await;
    assert_eq!(w.s.order_count().await, 0);
    w.s.import_all_history().await;
    let shop_path = format!("/api/v1/shops/{}", w.s.shop_id);
    let history =
        w.s.until("the history import to finish", || async {
            let view = w.s.get(&shop_path).await;
            (view["sync"]["history"]["state"] == "done").then(|| view["sync"]["history"].clone())
        })
        .await;
    assert_eq!(history["pages"], 2, "{history:#}");
    assert_eq!(history["orders"], 66, "{history:#}");
    assert!(history["error"].is_null(), "{history:#}");
    assert_eq!(w.s.order_count().await, 66);
    for id in [1, 2, 3, 4, 5, 6, 66] {
        let order = w.order(id, |_| true).await;
        w.assert_same_totals(id, &order);
    }
    w.s.service.stop().await;
}
