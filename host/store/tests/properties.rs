//! Properties of the store, checked over generated cases on SQLite and PostgreSQL:
//! gapless numbering under concurrency, the ledger's sums, idempotent import, touched
//! orders never overwritten, and out-of-order versions converging to the newest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::future::Future;

use proptest::prelude::*;
use rust_decimal::Decimal;
use support::{NOW, TestDb, d, line, order, tenant};
use tovor_domain::document::DocumentKind;
use tovor_domain::order::NormalizedOrder;
use tovor_store::orders::Source;
use tovor_store::stock::ManualMovement;

const USER: Source<'static> = Source("user");

/// Runs `body` on a fresh database of each backend.
fn on_both_backends<F, Fut>(body: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        body(support::sqlite().await).await;
        if tovor_testdb::postgres_ready() {
            body(support::postgres().await).await;
        }
    });
}

/// Order lines as (quantity, gross unit price in cents).
fn lines_strategy() -> impl Strategy<Value = Vec<(u32, u32)>> {
    prop::collection::vec((1_u32..6, 50_u32..20_000), 1..5)
}

fn order_from(id: &str, lines: &[(u32, u32)], modified_minute: i64) -> NormalizedOrder {
    let lines = lines
        .iter()
        .enumerate()
        .map(|(n, (quantity, cents))| {
            let price = Decimal::new(i64::from(*cents), 2).to_string();
            line(
                &format!("SKU-{n}"),
                &format!("{}", 100 + n),
                &quantity.to_string(),
                &price,
            )
        })
        .collect();
    order(id, lines, modified_minute)
}

#[derive(Debug, Clone)]
enum LedgerOp {
    Receipt(u32),
    Adjustment(i32),
    Deliver,
    Cancel(usize),
}

fn ledger_op() -> impl Strategy<Value = LedgerOp> {
    prop_oneof![
        (1_u32..50).prop_map(LedgerOp::Receipt),
        (-10_i32..10)
            .prop_filter("non-zero", |q| *q != 0)
            .prop_map(LedgerOp::Adjustment),
        Just(LedgerOp::Deliver),
        (0_usize..8).prop_map(LedgerOp::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn numbers_stay_gapless_under_concurrent_issuing(requests in prop::collection::vec(
        prop::collection::vec(prop::bool::ANY, 1..4), 1..8,
    )) {
        on_both_backends(|db| {
            let requests = requests.clone();
            async move {
                let t = tenant(&db.store, "Acme", |_| {}).await;
                let scope = t.scope(&db.store);
                let mut tasks = Vec::new();
                for (n, kinds) in requests.iter().enumerate() {
                    let imported = scope
                        .import_order(t.shop, &order_from(&n.to_string(), &[(2, 1000)], 0), USER, NOW)
                        .await
                        .unwrap();
                    for &invoice in kinds {
                        let kind = if invoice { DocumentKind::Invoice } else { DocumentKind::DeliveryNote };
                        let store = db.store.clone();
                        let company = t.company;
                        tasks.push(tokio::spawn(async move {
                            store.company(company).issue_document(imported.order, kind, None, USER, NOW).await
                        }));
                    }
                }
                for result in futures::future::join_all(tasks).await {
                    // A second document of a kind for one order finds nothing left: fine.
                    let _ = result.unwrap();
                }
                for kind in [DocumentKind::Invoice, DocumentKind::DeliveryNote] {
                    let numbers = scope.document_numbers(kind, 2026).await.unwrap();
                    let expected: Vec<String> =
                        (1..=numbers.len()).map(|seq| format!("2026-{seq:05}")).collect();
                    assert_eq!(numbers, expected);
                    let orders_with_kind = requests
                        .iter()
                        .filter(|kinds| kinds.contains(&(kind == DocumentKind::Invoice)))
                        .count();
                    assert_eq!(numbers.len(), orders_with_kind);
                }
            }
        });
    }

    #[test]
    fn on_hand_is_the_sum_of_movements_and_cancel_restores_it(ops in prop::collection::vec(ledger_op(), 1..14)) {
        on_both_backends(|db| {
            let ops = ops.clone();
            async move {
                let t = tenant(&db.store, "Acme", |_| {}).await;
                let scope = t.scope(&db.store);
                let mut expected = Decimal::ZERO;
                let mut manual = Decimal::ZERO;
                let mut notes = Vec::new();
                let mut item = None;
                for (n, op) in ops.iter().enumerate() {
                    let imported = scope
                        .import_order(t.shop, &order_from(&format!("o{n}"), &[(3, 500)], 0), USER, NOW)
                        .await
                        .unwrap();
                    let mug = *item.get_or_insert_with(|| imported.items_created[0]);
                    match op {
                        LedgerOp::Receipt(q) => {
                            let q = Decimal::from(*q);
                            scope.record_movement(mug, t.warehouse, q, ManualMovement::Receipt, None, NOW).await.unwrap();
                            expected += q;
                            manual += q;
                        }
                        LedgerOp::Adjustment(q) => {
                            let q = Decimal::from(*q);
                            scope.record_movement(mug, t.warehouse, q, ManualMovement::Adjustment, None, NOW).await.unwrap();
                            expected += q;
                            manual += q;
                        }
                        LedgerOp::Deliver => {
                            let note = scope
                                .issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
                                .await
                                .unwrap();
                            expected -= d("3");
                            notes.push(Some(note.id));
                        }
                        LedgerOp::Cancel(index) => {
                            if let Some(slot) = notes.get_mut(*index)
                                && let Some(note) = slot.take()
                            {
                                scope.cancel_document(note, USER, NOW).await.unwrap();
                                expected += d("3");
                            }
                        }
                    }
                    let level = scope.stock_level(mug, t.warehouse).await.unwrap();
                    assert_eq!(level.on_hand, expected);
                    assert_eq!(scope.on_hand_from_ledger(mug, t.warehouse).await.unwrap(), expected);
                    let ledger: Decimal = scope
                        .movements(mug, t.warehouse)
                        .await
                        .unwrap()
                        .iter()
                        .map(|stored| stored.movement.quantity)
                        .sum();
                    assert_eq!(ledger, expected);
                }
                for note in notes.into_iter().flatten() {
                    scope.cancel_document(note, USER, NOW).await.unwrap();
                }
                if let Some(mug) = item {
                    assert_eq!(scope.stock_level(mug, t.warehouse).await.unwrap().on_hand, manual);
                }
            }
        });
    }

    #[test]
    fn importing_the_same_payload_twice_equals_once(lines in lines_strategy(), update in prop::bool::ANY) {
        on_both_backends(|db| {
            let incoming = order_from("1001", &lines, 0);
            async move {
                let t = tenant(&db.store, "Acme", |settings| settings.update_existing = update).await;
                let scope = t.scope(&db.store);
                let first = scope.import_order(t.shop, &incoming, USER, NOW).await.unwrap();
                let snapshot = (
                    scope.order(first.order).await.unwrap(),
                    scope.order_history(first.order).await.unwrap(),
                    scope.items(None, 100).await.unwrap(),
                    scope.customers(None, 100).await.unwrap(),
                    scope.stock_changes(0, 1000).await.unwrap(),
                );
                scope.import_order(t.shop, &incoming, USER, NOW).await.unwrap();
                let again = (
                    scope.order(first.order).await.unwrap(),
                    scope.order_history(first.order).await.unwrap(),
                    scope.items(None, 100).await.unwrap(),
                    scope.customers(None, 100).await.unwrap(),
                    scope.stock_changes(0, 1000).await.unwrap(),
                );
                assert_eq!(again, snapshot);
            }
        });
    }

    #[test]
    fn a_touched_order_is_never_fully_overwritten(
        versions in prop::collection::vec(lines_strategy(), 2..6),
        touch_after in 0_usize..5,
    ) {
        on_both_backends(|db| {
            let versions = versions.clone();
            async move {
                let t = tenant(&db.store, "Acme", |settings| settings.update_existing = true).await;
                let scope = t.scope(&db.store);
                let touch_after = touch_after.min(versions.len() - 1);
                let mut content_when_touched = None;
                for (n, lines) in versions.iter().enumerate() {
                    let incoming = order_from("1001", lines, i64::try_from(n).unwrap());
                    let outcome = scope.import_order(t.shop, &incoming, USER, NOW).await.unwrap();
                    if n == touch_after {
                        scope
                            .issue_document(outcome.order, DocumentKind::Invoice, None, USER, NOW)
                            .await
                            .unwrap();
                        content_when_touched = Some(scope.order(outcome.order).await.unwrap().content);
                    }
                    if let Some(content) = &content_when_touched {
                        assert_eq!(&scope.order(outcome.order).await.unwrap().content, content);
                    }
                }
            }
        });
    }

    #[test]
    fn out_of_order_versions_converge_to_the_newest(
        versions in prop::collection::vec(lines_strategy(), 2..6)
            .prop_flat_map(|versions| {
                let count = versions.len();
                (Just(versions), Just((0..count).collect::<Vec<_>>()).prop_shuffle())
            }),
    ) {
        let (versions, arrival) = versions;
        on_both_backends(|db| {
            let versions = versions.clone();
            let arrival = arrival.clone();
            async move {
                let t = tenant(&db.store, "Acme", |settings| settings.update_existing = true).await;
                let scope = t.scope(&db.store);
                let build = |n: usize| order_from("1001", &versions[n], i64::try_from(n).unwrap());
                let mut last = None;
                for &n in &arrival {
                    last = Some(scope.import_order(t.shop, &build(n), USER, NOW).await.unwrap().order);
                }
                let newest = build(versions.len() - 1);
                let stored = scope.order(last.unwrap()).await.unwrap();
                assert_eq!(stored.content, newest);
                assert_eq!(stored.lines.len(), newest.lines.len());
            }
        });
    }
}
