//! Properties of the store, checked over generated cases on SQLite and PostgreSQL:
//! gapless numbering under concurrency, the ledger's sums, idempotent import, touched
//! orders never overwritten, out-of-order versions converging to the newest, and a
//! batch of orders imported as one order at a time would be.

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

/// An incoming order of a generated stream: one of a few orders in one of its versions,
/// with lines from a small catalog (some of it new to the company, so a batch creates
/// items its later orders match) and one of a few customers (likewise).
#[derive(Debug, Clone)]
struct Incoming {
    id: u8,
    minute: i64,
    lines: Vec<(u8, u32)>,
    customer: u8,
    cancelled: bool,
    invalid: bool,
}

fn incoming() -> impl Strategy<Value = Incoming> {
    (
        0_u8..6,
        0_i64..4,
        prop::collection::vec((0_u8..6, 1_u32..4), 1..4),
        0_u8..4,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(id, minute, lines, customer, cancelled, invalid)| Incoming {
                id,
                minute,
                lines,
                customer,
                cancelled,
                invalid,
            },
        )
}

fn incoming_order(incoming: &Incoming) -> NormalizedOrder {
    let lines = incoming
        .lines
        .iter()
        .map(|(sku, quantity)| {
            line(
                &format!("SKU-{sku}"),
                &format!("{}", 100 + sku),
                &quantity.to_string(),
                "12.20",
            )
        })
        .collect();
    let mut order = order(&format!("o{}", incoming.id), lines, incoming.minute);
    if let Some(customer) = order.customer.as_mut() {
        customer.platform_id = Some(format!("c{}", incoming.customer));
        customer.email = Some(format!("c{}@example.com", incoming.customer));
    }
    if incoming.cancelled {
        order.status = tovor_domain::order::OrderStatus::Cancelled;
        order.status_raw = "cancelled".into();
    }
    if incoming.invalid {
        order.currency = String::new();
    }
    order
}

/// A company whose catalog knows SKU-0 (linked to the shop), SKU-1 (not linked) and a
/// customer with c0's e-mail (not linked): the rest is new to it.
async fn seeded(store: &tovor_store::Store, name: &str) -> support::Tenant {
    let t = tenant(store, name, |settings| settings.update_existing = true).await;
    let scope = t.scope(store);
    for sku in 0..2 {
        let input = tovor_store::catalog::ItemInput {
            code: format!("SKU-{sku}"),
            name: format!("Product {sku}"),
            unit: "pcs".into(),
            vat_rate: d("22"),
            price: d("10"),
            barcode: None,
        };
        let item = scope.create_item(&input, NOW).await.unwrap();
        if sku == 0 {
            let link = tovor_store::catalog::ItemLink {
                shop: t.shop,
                item,
                product_id: "100".into(),
                variation_id: None,
                inventory_id: None,
            };
            scope.link_item(&link).await.unwrap();
        }
    }
    let customer = tovor_domain::matching::NewCustomer {
        name: "Known".into(),
        company: None,
        email: Some("c0@example.com".into()),
        phone: None,
        vat_id: None,
        billing: None,
        delivery: None,
        platform_id: None,
    };
    scope.create_customer(&customer, None, NOW).await.unwrap();
    t
}

/// What an order looks like in a company, told by codes and e-mails rather than the
/// company's own ids.
async fn order_as_stored(
    scope: &tovor_store::CompanyScope<'_>,
    shop: tovor_domain::ShopId,
    id: &str,
) -> Option<String> {
    let order = scope.order_by_external_id(shop, id).await.unwrap()?;
    let order = scope.order(order).await.unwrap();
    let mut lines = Vec::new();
    for line in &order.lines {
        let code = match line.item {
            Some(item) => scope.item(item).await.unwrap().code,
            None => String::new(),
        };
        lines.push((code, line.quantity, line.total));
    }
    let customer = match order.customer {
        Some(customer) => scope.customer(customer).await.unwrap().email,
        None => None,
    };
    let history = support::history_actions(scope, order.id).await;
    Some(format!(
        "{} {:?} {} {:?} {:?} {:?} {:?}",
        order.number, order.status, order.total, customer, lines, history, order.content
    ))
}

/// A company's customers (by e-mail) and item codes.
async fn catalog(scope: tovor_store::CompanyScope<'_>) -> (Vec<Option<String>>, Vec<String>) {
    let mut emails: Vec<_> = scope
        .customers(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|customer| customer.email)
        .collect();
    emails.sort();
    let codes = scope.items(None, 100).await.unwrap();
    (emails, codes.into_iter().map(|item| item.code).collect())
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

    #[test]
    fn a_batch_imports_as_one_order_at_a_time_would(
        pages in prop::collection::vec(prop::collection::vec(incoming(), 1..8), 1..4),
    ) {
        on_both_backends(|db| {
            let pages = pages.clone();
            async move {
                let alone = seeded(&db.store, "Alone").await;
                let batched = seeded(&db.store, "Batched").await;
                let (alone_scope, batched_scope) = (alone.scope(&db.store), batched.scope(&db.store));
                for page in &pages {
                    let orders: Vec<NormalizedOrder> = page.iter().map(incoming_order).collect();
                    let results = batched_scope.import_orders(batched.shop, &orders.iter().collect::<Vec<_>>(), USER, NOW).await;
                    assert_eq!(results.len(), orders.len());
                    for (order, result) in orders.iter().zip(results) {
                        let expected = alone_scope.import_order(alone.shop, order, USER, NOW).await;
                        match (expected, result) {
                            (Ok(expected), Ok(result)) => {
                                assert_eq!(expected.decision, result.decision);
                                assert_eq!(expected.number, result.number);
                                assert_eq!(expected.items_created.len(), result.items_created.len());
                                assert_eq!(expected.customer_created.is_some(), result.customer_created.is_some());
                                assert_eq!(expected.unmapped_payment, result.unmapped_payment);
                            }
                            (Err(expected), Err(result)) => assert_eq!(expected.to_string(), result.to_string()),
                            (expected, result) => panic!("alone {expected:?}, in a batch {result:?}"),
                        }
                    }
                }
                for id in 0..6 {
                    let id = format!("o{id}");
                    assert_eq!(
                        order_as_stored(&alone_scope, alone.shop, &id).await,
                        order_as_stored(&batched_scope, batched.shop, &id).await,
                        "order {id}"
                    );
                }
                assert_eq!(catalog(alone_scope).await, catalog(batched_scope).await);
            }
        });
    }
}
