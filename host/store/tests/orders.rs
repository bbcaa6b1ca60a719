//! Importing orders: creation with items and customers, re-imports, updates, stale
//! versions, payment and status mappings. Each test runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{NOW, TestDb, d, history_actions, line, order, tenant, two_line_order};
use time::Duration;
use tovor_domain::document::DocumentKind;
use tovor_domain::import::{ImportDecision, UnchangedReason};
use tovor_domain::mapping::HostStatus;
use tovor_domain::order::OrderStatus;
use tovor_store::StoreError;
use tovor_store::orders::{OrderEdit, Source};

const WEBHOOK: Source<'static> = Source("webhook");

on_both!(
    new_order_creates_items_and_customer,
    second_order_matches_by_link_sku_and_email,
    same_payload_twice_is_one_import,
    reimport_changes_nothing_unless_updates_are_enabled,
    untouched_order_is_fully_overwritten,
    touched_order_gets_status_only_with_differences_recorded,
    older_version_never_overwrites_newer,
    payment_methods_are_mapped_or_listed_as_unmapped,
    status_mapping_overrides_the_default,
    invalid_order_is_refused_with_its_problems,
    concurrent_orders_sharing_new_items_all_import,
    concurrent_batches_sharing_new_items_all_import,
    a_batch_with_a_refused_order_imports_the_rest,
    two_processes_importing_at_once_number_every_order_once,
    an_order_read_while_it_is_overwritten_is_one_version,
);

async fn new_order_creates_items_and_customer(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let incoming = two_line_order("1001", 0);
    let outcome = scope
        .import_order(t.shop, &incoming, WEBHOOK, NOW)
        .await
        .unwrap();

    assert_eq!(outcome.decision, ImportDecision::Create);
    assert_eq!(outcome.number, "2026-00001");
    assert_eq!(outcome.items_created.len(), 2);
    let customer = outcome.customer_created.expect("a new customer");

    let stored = scope.order(outcome.order).await.unwrap();
    assert_eq!(stored.external_id, "1001");
    assert_eq!(stored.external_number, "#1001");
    assert_eq!(stored.status, HostStatus::Processing);
    assert_eq!(stored.customer, Some(customer));
    assert_eq!(stored.total, incoming.total);
    assert_eq!(stored.content, incoming);
    assert_eq!(stored.lines.len(), 2);
    assert_eq!(stored.lines[0].quantity, d("2"));
    assert_eq!(stored.lines[0].item, Some(outcome.items_created[0]));

    let mug = scope.item(outcome.items_created[0]).await.unwrap();
    assert_eq!(mug.code, "MUG-1");
    assert_eq!(mug.vat_rate, d("22"));
    assert_eq!(mug.price, d("10"), "net of 12.20 at 22 %");
    let links = scope.item_links(mug.id).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].product_id, "101");

    let buyer = scope.customer(customer).await.unwrap();
    assert_eq!(buyer.name, "Ana Novak");
    assert_eq!(buyer.email.as_deref(), Some("buyer-1001@example.com"));

    let history = scope.order_history(outcome.order).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "created");
    assert_eq!(history[0].source, "webhook");
}

async fn second_order_matches_by_link_sku_and_email(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let first = scope
        .import_order(t.shop, &two_line_order("1001", 0), WEBHOOK, NOW)
        .await
        .unwrap();

    // Same product ids (linked), one known SKU under a new product id, a new item, and
    // the same buyer's e-mail without a shop customer id.
    let mut second = order(
        "1002",
        vec![
            line("MUG-1", "101", "1", "12.20"),
            line("TEE-2", "999", "1", "24.40"),
            line("CAP-3", "103", "3", "6.10"),
        ],
        0,
    );
    let customer = second.customer.as_mut().unwrap();
    customer.platform_id = None;
    customer.email = Some(" Buyer-1001@Example.com ".into());
    let outcome = scope
        .import_order(t.shop, &second, WEBHOOK, NOW)
        .await
        .unwrap();

    assert_eq!(outcome.number, "2026-00002");
    assert_eq!(outcome.customer_created, None);
    assert_eq!(outcome.items_created.len(), 1, "only CAP-3 is new");
    let stored = scope.order(outcome.order).await.unwrap();
    assert_eq!(
        stored.customer,
        scope.order(first.order).await.unwrap().customer
    );
    assert_eq!(stored.lines[0].item, Some(first.items_created[0]));
    assert_eq!(stored.lines[1].item, Some(first.items_created[1]));
    // The SKU match taught the store the new product id.
    let links = scope.item_links(first.items_created[1]).await.unwrap();
    let products: Vec<_> = links.iter().map(|link| link.product_id.as_str()).collect();
    assert_eq!(products, ["102", "999"]);
}

async fn same_payload_twice_is_one_import(db: TestDb) {
    let t = tenant(&db.store, "Acme", |settings| {
        settings.update_existing = true
    })
    .await;
    let scope = t.scope(&db.store);
    let incoming = two_line_order("1001", 0);
    let first = scope
        .import_order(t.shop, &incoming, WEBHOOK, NOW)
        .await
        .unwrap();
    let again = scope
        .import_order(t.shop, &incoming, WEBHOOK, NOW)
        .await
        .unwrap();

    assert_eq!(again.order, first.order);
    assert_eq!(
        again.decision,
        ImportDecision::Unchanged(UnchangedReason::Identical)
    );
    assert_eq!(scope.orders(None, None, 10).await.unwrap().len(), 1);
    assert_eq!(scope.order_history(first.order).await.unwrap().len(), 1);
    assert_eq!(scope.items(None, 10).await.unwrap().len(), 2);
    assert_eq!(scope.customers(None, 10).await.unwrap().len(), 1);
}

async fn reimport_changes_nothing_unless_updates_are_enabled(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let first = scope
        .import_order(t.shop, &two_line_order("1001", 0), WEBHOOK, NOW)
        .await
        .unwrap();
    let mut changed = two_line_order("1001", 5);
    changed.status = OrderStatus::Completed;
    changed.status_raw = "completed".into();
    let again = scope
        .import_order(t.shop, &changed, WEBHOOK, NOW)
        .await
        .unwrap();

    assert_eq!(
        again.decision,
        ImportDecision::Unchanged(UnchangedReason::UpdatesDisabled)
    );
    assert_eq!(
        scope.order(first.order).await.unwrap().status,
        HostStatus::Processing
    );
}

async fn untouched_order_is_fully_overwritten(db: TestDb) {
    let t = tenant(&db.store, "Acme", |settings| {
        settings.update_existing = true
    })
    .await;
    let scope = t.scope(&db.store);
    let first = scope
        .import_order(t.shop, &two_line_order("1001", 0), WEBHOOK, NOW)
        .await
        .unwrap();
    let changed = order("1001", vec![line("MUG-1", "101", "5", "12.20")], 5);
    let again = scope
        .import_order(t.shop, &changed, WEBHOOK, NOW)
        .await
        .unwrap();

    assert_eq!(again.decision, ImportDecision::Overwrite);
    let stored = scope.order(first.order).await.unwrap();
    assert_eq!(stored.content, changed);
    assert_eq!(stored.lines.len(), 1);
    assert_eq!(stored.lines[0].quantity, d("5"));
    assert_eq!(stored.total, changed.total);
    let history = scope.order_history(first.order).await.unwrap();
    assert_eq!(history.last().unwrap().action, "overwritten");
}

async fn touched_order_gets_status_only_with_differences_recorded(db: TestDb) {
    let t = tenant(&db.store, "Acme", |settings| {
        settings.update_existing = true
    })
    .await;
    let scope = t.scope(&db.store);
    let original = two_line_order("1001", 0);
    let first = scope
        .import_order(t.shop, &original, WEBHOOK, NOW)
        .await
        .unwrap();
    scope
        .issue_document(
            first.order,
            DocumentKind::Invoice,
            None,
            Source("user"),
            NOW,
        )
        .await
        .unwrap();

    let mut changed = order("1001", vec![line("MUG-1", "101", "5", "12.20")], 5);
    changed.status = OrderStatus::Completed;
    changed.status_raw = "completed".into();
    let again = scope
        .import_order(t.shop, &changed, WEBHOOK, NOW)
        .await
        .unwrap();

    let ImportDecision::StatusOnly { differences } = &again.decision else {
        panic!("expected status only, got {:?}", again.decision);
    };
    assert!(
        differences
            .iter()
            .any(|difference| difference.field == "total")
    );
    let stored = scope.order(first.order).await.unwrap();
    assert_eq!(stored.status, HostStatus::Completed);
    assert_eq!(stored.content, original, "the content stays as it was");
    assert_eq!(stored.lines.len(), 2);
    let last = scope
        .order_history(first.order)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.action, "status_updated");
    assert!(
        last.detail["differences"]
            .as_array()
            .is_some_and(|list| !list.is_empty())
    );

    // Delivered again (a webhook retry): nothing more happens.
    let retry = scope
        .import_order(t.shop, &changed, WEBHOOK, NOW)
        .await
        .unwrap();
    assert_eq!(
        retry.decision,
        ImportDecision::Unchanged(UnchangedReason::Identical)
    );

    // Edits by hand touch the order too.
    let second = scope
        .import_order(t.shop, &two_line_order("1002", 0), WEBHOOK, NOW)
        .await
        .unwrap();
    let edit = OrderEdit {
        customer_note: Some("Leave at the door".into()),
        ..OrderEdit::default()
    };
    scope
        .edit_order(second.order, &edit, Source("user"), NOW)
        .await
        .unwrap();
    let newer = order("1002", vec![line("MUG-1", "101", "9", "12.20")], 5);
    let outcome = scope
        .import_order(t.shop, &newer, WEBHOOK, NOW)
        .await
        .unwrap();
    assert!(matches!(
        outcome.decision,
        ImportDecision::StatusOnly { .. }
    ));
    let stored = scope.order(second.order).await.unwrap();
    assert_eq!(
        stored.content.customer_note.as_deref(),
        Some("Leave at the door")
    );
    assert_eq!(stored.lines[0].quantity, d("2"));
}

async fn older_version_never_overwrites_newer(db: TestDb) {
    let t = tenant(&db.store, "Acme", |settings| {
        settings.update_existing = true
    })
    .await;
    let scope = t.scope(&db.store);
    let newer = order("1001", vec![line("MUG-1", "101", "3", "12.20")], 10);
    let first = scope
        .import_order(t.shop, &newer, WEBHOOK, NOW)
        .await
        .unwrap();
    let older = order("1001", vec![line("MUG-1", "101", "1", "12.20")], 5);
    let outcome = scope
        .import_order(t.shop, &older, WEBHOOK, NOW)
        .await
        .unwrap();

    assert!(matches!(
        outcome.decision,
        ImportDecision::Unchanged(UnchangedReason::Stale { .. })
    ));
    assert_eq!(scope.order(first.order).await.unwrap().content, newer);
}

async fn payment_methods_are_mapped_or_listed_as_unmapped(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let transfer = scope
        .create_payment_method("TRR", "Bank transfer", false)
        .await
        .unwrap();

    let first = scope
        .import_order(t.shop, &two_line_order("1001", 0), WEBHOOK, NOW)
        .await
        .unwrap();
    assert_eq!(
        first.unmapped_payment,
        Some(("bacs".to_owned(), "Direct bank transfer".to_owned()))
    );
    scope
        .import_order(
            t.shop,
            &two_line_order("1002", 0),
            WEBHOOK,
            NOW + Duration::minutes(1),
        )
        .await
        .unwrap();
    let unmapped = scope.unmapped_payment_methods(Some(t.shop)).await.unwrap();
    assert_eq!(unmapped.len(), 1);
    assert_eq!(unmapped[0].code, "bacs");
    assert_eq!(unmapped[0].orders_seen, 2);
    assert_eq!(scope.order(first.order).await.unwrap().payment_method, None);

    scope
        .map_payment_method(t.shop, "bacs", "", transfer)
        .await
        .unwrap();
    assert!(
        scope
            .unmapped_payment_methods(None)
            .await
            .unwrap()
            .is_empty()
    );
    let third = scope
        .import_order(t.shop, &two_line_order("1003", 0), WEBHOOK, NOW)
        .await
        .unwrap();
    assert_eq!(third.unmapped_payment, None);
    assert_eq!(
        scope.order(third.order).await.unwrap().payment_method,
        Some(transfer)
    );
}

async fn status_mapping_overrides_the_default(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    scope
        .map_status(t.shop, "awaiting-pickup", HostStatus::OnHold)
        .await
        .unwrap();
    let mut incoming = two_line_order("1001", 0);
    incoming.status = OrderStatus::Other;
    incoming.status_raw = "Awaiting-Pickup".into();
    let outcome = scope
        .import_order(t.shop, &incoming, WEBHOOK, NOW)
        .await
        .unwrap();
    let stored = scope.order(outcome.order).await.unwrap();
    assert_eq!(stored.status, HostStatus::OnHold);
    assert_eq!(stored.shop_status, OrderStatus::Other);
    assert_eq!(stored.shop_status_raw, "Awaiting-Pickup");
}

async fn invalid_order_is_refused_with_its_problems(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let mut broken = two_line_order("1001", 0);
    broken.total += d("5");
    let error = scope
        .import_order(t.shop, &broken, WEBHOOK, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::InvalidOrder(problems) if problems[0].field == "total"),
        "{error}"
    );
    assert!(scope.orders(None, None, 10).await.unwrap().is_empty());
}

/// Orders importing at the same time (two processes, or one process's workers) that
/// share items and a customer nobody has yet: every order imports, each item and the
/// customer exist once.
async fn concurrent_orders_sharing_new_items_all_import(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let imports = (0..8).map(|n| {
        let store = db.store.clone();
        let shop = t.shop;
        let company = t.company;
        // Same SKUs under different product ids, so only the SKU (a unique key) can
        // bring the racing imports together.
        let incoming = order(
            &format!("race-{n}"),
            vec![
                line("RACE-1", &format!("p1-{n}"), "1", "12.20"),
                line("RACE-2", &format!("p2-{n}"), "1", "24.40"),
            ],
            0,
        );
        tokio::spawn(async move {
            store
                .company(company)
                .import_order(shop, &incoming, WEBHOOK, NOW)
                .await
        })
    });
    let outcomes = futures::future::join_all(imports).await;
    for outcome in outcomes {
        let outcome = outcome.unwrap().unwrap();
        assert_eq!(outcome.decision, ImportDecision::Create);
    }
    let scope = t.scope(&db.store);
    let items = scope.items(None, 100).await.unwrap();
    let codes: Vec<_> = items.iter().map(|item| item.code.as_str()).collect();
    assert_eq!(codes, ["RACE-1", "RACE-2"]);
}

/// Batches racing on the same new items and customers: the batch that loses a unique
/// key is imported again one order at a time, and every order gets in once, with its
/// own number, and every new item and customer exists once.
async fn concurrent_batches_sharing_new_items_all_import(db: TestDb) {
    const BATCHES: usize = 4;
    const PER_BATCH: usize = 10;
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let other_process = tovor_store::Store::open(&db.url).await.unwrap();
    let imports = (0..BATCHES).map(|batch| {
        let store = if batch % 2 == 0 {
            db.store.clone()
        } else {
            other_process.clone()
        };
        let (company, shop) = (t.company, t.shop);
        let orders: Vec<_> = (0..PER_BATCH)
            .map(|n| {
                let mut incoming = order(
                    &format!("b{batch}-{n}"),
                    vec![
                        line(&format!("RACE-{n}"), &format!("p{n}-{batch}"), "1", "12.20"),
                        line("RACE-ALL", &format!("all-{batch}"), "1", "24.40"),
                    ],
                    0,
                );
                // Every batch brings the same new customers too.
                let customer = incoming.customer.as_mut().unwrap();
                customer.email = Some(format!("shared-{n}@example.com"));
                customer.platform_id = Some(format!("shared-{n}"));
                incoming
            })
            .collect();
        tokio::spawn(async move {
            store
                .company(company)
                .import_orders(shop, &orders.iter().collect::<Vec<_>>(), WEBHOOK, NOW)
                .await
        })
    });
    let mut numbers = std::collections::BTreeSet::new();
    let mut customers = std::collections::BTreeSet::new();
    for results in futures::future::join_all(imports).await {
        let results = results.unwrap();
        assert_eq!(results.len(), PER_BATCH);
        for outcome in results {
            let outcome = outcome.unwrap();
            assert_eq!(outcome.decision, ImportDecision::Create);
            assert!(
                numbers.insert(outcome.number.clone()),
                "{} twice",
                outcome.number
            );
            customers.insert(
                t.scope(&db.store)
                    .order(outcome.order)
                    .await
                    .unwrap()
                    .customer,
            );
        }
    }
    assert_eq!(numbers.len(), BATCHES * PER_BATCH);
    assert_eq!(customers.len(), PER_BATCH, "one customer per shared e-mail");
    let items = t.scope(&db.store).items(None, 100).await.unwrap();
    assert_eq!(items.len(), PER_BATCH + 1, "every new code created once");
    other_process.close().await;
}

/// An order the rules refuse gets its own error; the rest of its batch is imported,
/// and a second version of an order in the same batch comes after the first.
async fn a_batch_with_a_refused_order_imports_the_rest(db: TestDb) {
    let t = tenant(&db.store, "Acme", |settings| {
        settings.update_existing = true
    })
    .await;
    let scope = t.scope(&db.store);
    let mut refused = two_line_order("1002", 0);
    refused.currency = String::new();
    let newer = order("1001", vec![line("MUG-1", "101", "2", "12.20")], 5);
    let batch = [
        two_line_order("1001", 0),
        refused,
        two_line_order("1003", 0),
        newer.clone(),
    ];
    let batch: Vec<_> = batch.iter().collect();
    let results = scope.import_orders(t.shop, &batch, WEBHOOK, NOW).await;
    assert_eq!(results.len(), 4);
    let first = results[0].as_ref().unwrap();
    assert_eq!(first.decision, ImportDecision::Create);
    assert!(matches!(results[1], Err(StoreError::InvalidOrder(_))));
    assert_eq!(
        results[2].as_ref().unwrap().decision,
        ImportDecision::Create
    );
    let second = results[3].as_ref().unwrap();
    assert_eq!(second.decision, ImportDecision::Overwrite);
    assert_eq!(second.order, first.order);
    let stored = scope.order(first.order).await.unwrap();
    assert_eq!(stored.content, newer);
    assert_eq!(stored.lines.len(), 1);
    let actions = history_actions(&scope, first.order).await;
    assert_eq!(actions, ["created", "overwritten"]);
    assert!(
        scope
            .order_by_external_id(t.shop, "1002")
            .await
            .unwrap()
            .is_none()
    );
}

/// Two processes importing a company's orders at once never hand out one number twice.
/// On SQLite the numbers also run without a hole; on PostgreSQL each process takes
/// numbers in blocks, so they interleave and the unused end of a block is skipped.
async fn two_processes_importing_at_once_number_every_order_once(db: TestDb) {
    const PER_PROCESS: usize = 20;
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let other_process = tovor_store::Store::open(&db.url).await.unwrap();
    let imports = [db.store.clone(), other_process]
        .into_iter()
        .enumerate()
        .flat_map(|(process, store)| {
            (0..PER_PROCESS).map(move |n| {
                let store = store.clone();
                let (company, shop) = (t.company, t.shop);
                let incoming = order(
                    &format!("p{process}-{n}"),
                    vec![line("SKU-1", "101", "1", "12.20")],
                    0,
                );
                tokio::spawn(async move {
                    store
                        .company(company)
                        .import_order(shop, &incoming, WEBHOOK, NOW)
                        .await
                })
            })
        })
        .collect::<Vec<_>>();
    let mut numbers: Vec<String> = futures::future::join_all(imports)
        .await
        .into_iter()
        .map(|outcome| outcome.unwrap().unwrap().number)
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 2 * PER_PROCESS, "{numbers:?}");
    assert!(
        numbers.iter().all(|n| n.starts_with("2026-")),
        "{numbers:?}"
    );
    if db.store.backend() == tovor_store::Backend::Sqlite {
        let expected: Vec<String> = (1..=2 * PER_PROCESS)
            .map(|seq| format!("2026-{seq:05}"))
            .collect();
        assert_eq!(numbers, expected);
    }
}

/// An order is read with several statements (the order, then its lines): a reader
/// running beside imports that overwrite it must get one version whole, never the
/// old order with the new lines.
async fn an_order_read_while_it_is_overwritten_is_one_version(db: TestDb) {
    let t = tenant(&db.store, "Acme", |settings| {
        settings.update_existing = true
    })
    .await;
    let scope = t.scope(&db.store);
    let one_line = |minute| order("1001", vec![line("MUG-1", "101", "1", "12.20")], minute);
    let two_lines = |minute| {
        order(
            "1001",
            vec![
                line("MUG-1", "101", "1", "12.20"),
                line("TEE-1", "102", "2", "24.40"),
            ],
            minute,
        )
    };
    let first = scope
        .import_order(t.shop, &one_line(0), WEBHOOK, NOW)
        .await
        .unwrap();
    let (short_total, long_total) = (one_line(0).total, two_lines(0).total);

    let writer = async {
        for minute in 1..=60 {
            let version = if minute % 2 == 0 {
                one_line(minute)
            } else {
                two_lines(minute)
            };
            scope
                .import_order(t.shop, &version, WEBHOOK, NOW)
                .await
                .unwrap();
        }
    };
    let reader = async {
        for read in 0..300 {
            let stored = scope.order(first.order).await.unwrap();
            let expected = if stored.lines.len() == 1 {
                short_total
            } else {
                long_total
            };
            assert_eq!(
                stored.total,
                expected,
                "read {read}: {} lines with the total of the other version",
                stored.lines.len()
            );
            tokio::task::yield_now().await;
        }
    };
    tokio::join!(writer, reader);
}
