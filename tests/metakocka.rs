//! Metakocka end to end: the real connector (Wasm) against the fake Metakocka of
//! `tovor-fakes` (JSON POSTs with `secret_key`/`company_id`, errors inside HTTP 200,
//! `search` ≤ 50 with `last_change_from`/`_to`, `get_document`, `sync_stock`), polled
//! by the service's sync, with stock sent back by item code, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tovor_fakes::metakocka::{
    COMPANY_ID, FakeMetakocka, OTHER_WAREHOUSE_ID, SECRET_KEY, WAREHOUSE_ID, WEBHOOK_SECRET,
};
use tovor_tests::service::{Db, ShopSession};

tovor_tests::on_both_databases!(
    sales_orders_are_imported_to_the_cent_and_stock_goes_back_by_code,
    a_metakocka_error_inside_200_shows_on_the_sync_status_until_it_goes_away,
);

struct Mk {
    s: ShopSession,
    fake: FakeMetakocka,
}

async fn setup(db: Db) -> Mk {
    let fake = FakeMetakocka::start_seeded().await.unwrap();
    let config = json!({
        "api_base": fake.api_base(),
        "company_id": COMPANY_ID,
        "secret_key": SECRET_KEY,
        "warehouse_id": WAREHOUSE_ID,
        "webhook_secret": WEBHOOK_SECRET,
    });
    let s = ShopSession::start(
        db,
        "metakocka",
        config,
        json!({"stock_mode": "on_hand", "poll_minutes": 1}),
    )
    .await;
    Mk { s, fake }
}

fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {value}"))
        .parse::<Decimal>()
        .unwrap()
        .round_dp(2)
}

impl Mk {
    async fn wait_for_stock(&self, code: &str, expected: i64) {
        self.s
            .until(&format!("stock {expected} of {code}"), || async {
                let amount = self.fake.stock(code)?.parse::<Decimal>().ok()?;
                (amount == Decimal::from(expected)).then_some(())
            })
            .await;
    }
}

async fn sales_orders_are_imported_to_the_cent_and_stock_goes_back_by_code(db: Db) {
    let w = setup(db).await;
    let ids = w.fake.document_ids();
    assert_eq!(ids.len(), 4);
    for id in &ids {
        let order = w.s.order_where(&id.to_string(), |_| true).await;
        let doc = w.fake.document(*id).unwrap();
        assert_eq!(
            decimal(&order["total"]),
            decimal(&doc["sum_all"]),
            "{order:#}"
        );
        assert_eq!(order["currency"], "EUR");
        assert!(
            order
                .to_string()
                .contains(doc["count_code"].as_str().unwrap()),
            "the document number is kept: {order:#}"
        );
    }
    let first = w.s.order_where(&ids[0].to_string(), |_| true).await;
    assert!(
        first.to_string().contains("1042"),
        "the buyer's order: {first:#}"
    );
    assert_eq!(first["lines"].as_array().unwrap().len(), 2, "{first:#}");
    assert_eq!(decimal(&first["total"]), "55.48".parse().unwrap());
    let codes = w.s.item_codes().await;
    for code in ["KAVA-250", "MUG-BLU", "TEE-M"] {
        assert!(codes.contains(&code.to_owned()), "{codes:?}");
    }
    let customers = w.s.get("/api/v1/customers").await.to_string();
    assert!(customers.contains("ana.novak@example.si"), "{customers}");
    assert!(customers.contains("Kavarna Zrno"), "{customers}");

    // Goods arrive, then the delivery note of the first order (2 mugs, 3 coffees).
    w.s.receive(
        &first["warehouse_id"],
        &[("MUG-BLU", "10"), ("KAVA-250", "7")],
    )
    .await;
    w.wait_for_stock("MUG-BLU", 10).await;
    w.wait_for_stock("KAVA-250", 7).await;
    w.s.issue(&first, "delivery-notes").await;
    w.wait_for_stock("MUG-BLU", 8).await;
    w.wait_for_stock("KAVA-250", 4).await;
    assert!(
        w.fake
            .synced()
            .iter()
            .all(|row| row["warehouse_id"].is_string() && row["product_code"].is_string()),
        "{:#?}",
        w.fake.synced()
    );
    // Each push sent the whole stock: the warehouse tovor does not manage is untouched
    // and nothing was removed.
    assert_eq!(
        w.fake.stock_in(OTHER_WAREHOUSE_ID, "MUG-BLU").as_deref(),
        Some("3")
    );
    assert_eq!(
        w.fake.stock_in(OTHER_WAREHOUSE_ID, "KAVA-250").as_deref(),
        Some("12.5")
    );
    assert!(
        w.fake.stock("TEE-M").is_some(),
        "{:?}",
        w.fake.stock_totals()
    );
    assert!(w.fake.removed().is_empty(), "{:?}", w.fake.removed());

    // Metakocka's stock webhook is verified and answered.
    let delivery = w.fake.stock_webhook("MUG-BLU", WEBHOOK_SECRET);
    let status = delivery
        .send(&w.s.webhook_url, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let forged = w.fake.stock_webhook("MUG-BLU", "not the secret");
    let status = forged
        .send(&w.s.webhook_url, Duration::from_secs(10))
        .await
        .unwrap();
    assert_ne!(status, 200);
    w.s.service.stop().await;
}

async fn a_metakocka_error_inside_200_shows_on_the_sync_status_until_it_goes_away(db: Db) {
    let w = setup(db).await;
    w.s.wait_for_first_sync().await;
    let before = w.s.order_count().await;
    w.fake.set_failing(Some((
        "2",
        "Paramether 'query_advance' has invalid value : last_change_from",
    )));
    w.s.sync_now().await;
    let shop_path = format!("/api/v1/shops/{}", w.s.shop_id);
    let failing =
        w.s.until("the sync to fail", || async {
            let view = w.s.get(&shop_path).await;
            (view["sync"]["failures"].as_u64() >= Some(1)).then_some(view)
        })
        .await;
    let error = failing["sync"]["last_error"].as_str().unwrap();
    assert!(
        error.contains("Metakocka error 2") && error.contains("query_advance"),
        "{failing:#}"
    );
    assert!(!error.contains(SECRET_KEY));
    w.fake.set_failing(None);
    w.s.sync_now().await;
    w.s.until("the sync to succeed again", || async {
        let view = w.s.get(&shop_path).await;
        (view["sync"]["failures"] == 0 && view["sync"]["last_error"].is_null()).then_some(())
    })
    .await;
    assert_eq!(w.s.order_count().await, before);
    w.s.service.stop().await;
}
