//! The service's work queues: inbox deliveries, stock pushes and sync jobs are each
//! claimed by exactly one worker, coalesce where they should, and come back after a
//! lease runs out or its owner restarts. Each test runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use support::{NOW, TestDb, d, line, order, tenant};
use time::Duration;
use tovor_domain::stock::StockMode;
use tovor_store::catalog::{ItemInput, ItemLink};
use tovor_store::inbox::{DeliveryState, NewDelivery};
use tovor_store::push::{PushOutcome, PushTask};
use tovor_store::stock::ManualMovement;

on_both!(
    concurrent_claims_never_share_a_delivery,
    duplicate_delivery_ids_are_stored_once,
    stock_changes_queue_one_coalesced_push_per_shop_and_item,
    a_change_during_a_push_keeps_the_item_queued,
    leases_expire_or_are_released_on_restart,
    reservations_queue_pushes_only_for_available_stock,
);

fn delivery(t: &support::Tenant, id: Option<String>) -> NewDelivery {
    NewDelivery {
        company: t.company,
        shop: t.shop,
        delivery_id: id,
        topic: Some("order.updated".into()),
        event: "{}".into(),
        body: None,
        state: DeliveryState::Pending,
        error: None,
    }
}

async fn concurrent_claims_never_share_a_delivery(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let batch: Vec<NewDelivery> = (0..200)
        .map(|n| delivery(&t, Some(format!("d{n}"))))
        .collect();
    assert_eq!(db.store.store_deliveries(&batch, NOW).await.unwrap(), 200);
    let mut workers = Vec::new();
    for worker in 0..4 {
        let store = db.store.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store
                    .claim_deliveries(&format!("w{worker}"), 7, Duration::minutes(1), NOW)
                    .await
                    .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.iter().map(|delivery| delivery.id));
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 200, "every delivery claimed once");
    assert_eq!(distinct.len(), 200);
}

async fn duplicate_delivery_ids_are_stored_once(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let first = vec![delivery(&t, Some("same".into())), delivery(&t, None)];
    assert_eq!(db.store.store_deliveries(&first, NOW).await.unwrap(), 2);
    let again = vec![
        delivery(&t, Some("same".into())),
        delivery(&t, None),
        delivery(&t, None),
    ];
    // Without an id a delivery cannot be recognised, so it is kept.
    assert_eq!(db.store.store_deliveries(&again, NOW).await.unwrap(), 2);
    let stored = db
        .store
        .company(t.company)
        .deliveries(t.shop, None, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 4);
}

/// Every due stock push, claimed by worker "w".
async fn claim_pushes(db: &TestDb) -> Vec<PushTask> {
    db.store
        .claim_stock_pushes("w", 100, Duration::minutes(1), NOW)
        .await
        .unwrap()
}

/// Goods received: a stock movement, so every shop selling from the warehouse hears.
async fn receive(
    scope: &tovor_store::CompanyScope<'_>,
    item: tovor_domain::ItemId,
    warehouse: tovor_domain::WarehouseId,
    quantity: &str,
) {
    scope
        .record_movement(
            item,
            warehouse,
            d(quantity),
            ManualMovement::Receipt,
            None,
            NOW,
        )
        .await
        .unwrap();
}

async fn linked_item(db: &TestDb, t: &support::Tenant, code: &str) -> tovor_domain::ItemId {
    let scope = db.store.company(t.company);
    let item = scope
        .create_item(
            &ItemInput {
                code: code.into(),
                name: code.into(),
                unit: "pcs".into(),
                vat_rate: d("22"),
                price: d("1"),
                barcode: None,
            },
            NOW,
        )
        .await
        .unwrap();
    scope
        .link_item(&ItemLink {
            shop: t.shop,
            item,
            product_id: format!("p-{code}"),
            variation_id: None,
            inventory_id: None,
        })
        .await
        .unwrap();
    item
}

async fn stock_changes_queue_one_coalesced_push_per_shop_and_item(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let scope = db.store.company(t.company);
    let item = linked_item(&db, &t, "MUG").await;
    for _ in 0..5 {
        receive(&scope, item, t.warehouse, "1").await;
    }
    assert_eq!(db.store.queued_stock_pushes().await.unwrap(), 1);
    let tasks = claim_pushes(&db).await;
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].shop, tasks[0].item), (t.shop, item));
    db.store
        .complete_stock_push(&tasks[0], "w", &PushOutcome::Pushed(d("5")), NOW)
        .await
        .unwrap();
    assert_eq!(db.store.queued_stock_pushes().await.unwrap(), 0);
    let states = scope.stock_push_states(t.shop, None).await.unwrap();
    assert_eq!(states[0].quantity, Some(d("5")));
    // Another company's stock changes queue nothing for this shop.
    let other = tenant(&db.store, "B", |_| {}).await;
    let other_item = linked_item(&db, &other, "MUG").await;
    let other_scope = db.store.company(other.company);
    receive(&other_scope, other_item, other.warehouse, "1").await;
    let tasks = claim_pushes(&db).await;
    assert!(tasks.iter().all(|task| task.shop == other.shop));
}

async fn a_change_during_a_push_keeps_the_item_queued(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    let scope = db.store.company(t.company);
    let item = linked_item(&db, &t, "MUG").await;
    receive(&scope, item, t.warehouse, "1").await;
    let tasks = claim_pushes(&db).await;
    // The stock changes while the push of the old value is on its way.
    receive(&scope, item, t.warehouse, "1").await;
    db.store
        .complete_stock_push(&tasks[0], "w", &PushOutcome::Pushed(d("1")), NOW)
        .await
        .unwrap();
    let again = claim_pushes(&db).await;
    assert_eq!(again.len(), 1, "the newer value still has to go out");
    assert!(again[0].version > tasks[0].version);
}

async fn leases_expire_or_are_released_on_restart(db: TestDb) {
    let t = tenant(&db.store, "A", |_| {}).await;
    db.store
        .store_deliveries(&[delivery(&t, Some("d".into()))], NOW)
        .await
        .unwrap();
    let lease = Duration::minutes(1);
    assert_eq!(
        db.store
            .claim_deliveries("a", 10, lease, NOW)
            .await
            .unwrap()
            .len(),
        1
    );
    // Held: nobody else gets it.
    assert!(
        db.store
            .claim_deliveries("b", 10, lease, NOW)
            .await
            .unwrap()
            .is_empty()
    );
    // Its owner restarts under the same name and takes it back at once.
    assert!(db.store.release_leases("a").await.unwrap() >= 1);
    assert_eq!(
        db.store
            .claim_deliveries("a", 10, lease, NOW)
            .await
            .unwrap()
            .len(),
        1
    );
    // The owner dies for good: the lease runs out and another worker takes over.
    let later = NOW + lease + Duration::seconds(1);
    let taken = db
        .store
        .claim_deliveries("b", 10, lease, later)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 3, "each claim counts as an attempt");
    // The failing attempt goes back in line later; the old owner's late answer is ignored.
    db.store
        .finish_delivery(taken[0].id, "a", None, None, later)
        .await
        .unwrap();
    db.store
        .fail_delivery(
            taken[0].id,
            "b",
            "shop down",
            Some(later + Duration::minutes(5)),
        )
        .await
        .unwrap();
    assert!(
        db.store
            .claim_deliveries("c", 10, lease, later)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = db
        .store
        .claim_deliveries("c", 10, lease, later + Duration::minutes(6))
        .await
        .unwrap();
    assert_eq!(retried[0].last_error.as_deref(), Some("shop down"));
}

/// An order reserves stock: a shop told the available quantity must hear of it, a shop
/// told the on-hand quantity has nothing new to hear (and a push of the old figure would
/// undo the decrement the shop made itself at checkout). A movement reaches both.
async fn reservations_queue_pushes_only_for_available_stock(db: TestDb) {
    for (mode, queued_by_order) in [(StockMode::Available, 1), (StockMode::OnHand, 0)] {
        let t = tenant(&db.store, &format!("{mode:?}"), |settings| {
            settings.stock_mode = mode;
        })
        .await;
        let scope = db.store.company(t.company);
        let item = linked_item(&db, &t, "MUG-1").await;
        let incoming = order("1", vec![line("MUG-1", "p-MUG-1", "2", "12.20")], 0);
        scope
            .import_order(
                t.shop,
                &incoming,
                tovor_store::orders::Source("webhook"),
                NOW,
            )
            .await
            .unwrap();
        let queued = claim_pushes(&db).await;
        assert_eq!(queued.len(), queued_by_order, "{mode:?} after the order");
        for task in &queued {
            db.store
                .complete_stock_push(task, "w", &PushOutcome::Pushed(d("0")), NOW)
                .await
                .unwrap();
        }
        receive(&scope, item, t.warehouse, "3").await;
        let queued = claim_pushes(&db).await;
        assert_eq!(queued.len(), 1, "{mode:?} after a receipt");
        db.store
            .complete_stock_push(&queued[0], "w", &PushOutcome::Pushed(d("3")), NOW)
            .await
            .unwrap();
    }
}
