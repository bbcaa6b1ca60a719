//! Invoices, delivery notes, gapless numbering, stock moved and reversed, reservations
//! and the stock-changed outbox. Each test runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;

use support::{NOW, TestDb, d, history_actions, line, order, tenant, two_line_order};
use tovor_domain::company::CompanyTimeZone;
use tovor_domain::document::{Credit, DocumentError, DocumentKind, LineRef};
use tovor_domain::mapping::HostStatus;
use tovor_store::StoreError;
use tovor_store::documents::{CreditOf, DocumentState};
use tovor_store::orders::Source;
use tovor_store::profiles::CompanyProfile;
use tovor_store::stock::ManualMovement;

const USER: Source<'static> = Source("user");

on_both!(
    delivery_note_moves_stock_and_releases_the_reservation,
    partial_deliveries_never_exceed_the_order,
    invoice_matches_the_shop_total_to_the_cent,
    cancelling_reverses_stock_and_takes_its_own_number,
    invoice_moves_stock_when_the_shop_uses_no_delivery_notes,
    numbers_are_gapless_when_many_are_issued_at_once,
    every_stock_change_is_recorded_for_the_push,
    the_year_of_a_number_is_the_companys_year,
    credit_notes_are_gapless_and_never_credit_more_than_invoiced,
);

async fn delivery_note_moves_stock_and_releases_the_reservation(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let imported = scope
        .import_order(t.shop, &two_line_order("1001", 0), Source("poll"), NOW)
        .await
        .unwrap();
    let mug = imported.items_created[0];
    scope
        .record_movement(
            mug,
            t.warehouse,
            d("10"),
            ManualMovement::Receipt,
            Some("delivery from supplier"),
            NOW,
        )
        .await
        .unwrap();
    let level = scope.stock_level(mug, t.warehouse).await.unwrap();
    assert_eq!(
        (level.on_hand, level.reserved, level.available),
        (d("10"), d("2"), d("8"))
    );

    let note = scope
        .issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
        .await
        .unwrap();
    assert_eq!(note.number, "2026-00001");
    assert!(note.moves_stock);
    assert_eq!(
        note.draft.lines.len(),
        2,
        "goods only, no shipping on a delivery note"
    );
    let level = scope.stock_level(mug, t.warehouse).await.unwrap();
    assert_eq!(
        (level.on_hand, level.reserved, level.available),
        (d("8"), d("0"), d("8"))
    );
    assert_eq!(
        scope.on_hand_from_ledger(mug, t.warehouse).await.unwrap(),
        d("8")
    );

    let stored = scope.order(imported.order).await.unwrap();
    assert!(stored.touched.documents_issued);
    assert_eq!(stored.lines[0].delivered, d("2"));
    let error = scope
        .issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Document(DocumentError::NothingLeft(_))),
        "{error}"
    );
}

async fn partial_deliveries_never_exceed_the_order(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let imported = scope
        .import_order(
            t.shop,
            &order("1001", vec![line("MUG-1", "101", "5", "12.20")], 0),
            USER,
            NOW,
        )
        .await
        .unwrap();
    let mug = imported.items_created[0];
    let first = scope
        .issue_document(
            imported.order,
            DocumentKind::DeliveryNote,
            Some(&[(LineRef::Item(0), d("2"))]),
            USER,
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(first.draft.lines[0].quantity, d("2"));
    let level = scope.stock_level(mug, t.warehouse).await.unwrap();
    assert_eq!((level.on_hand, level.reserved), (d("-2"), d("3")));

    let error = scope
        .issue_document(
            imported.order,
            DocumentKind::DeliveryNote,
            Some(&[(LineRef::Item(0), d("4"))]),
            USER,
            NOW,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Document(DocumentError::ExceedsRemaining { .. })
        ),
        "{error}"
    );

    let rest = scope
        .issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
        .await
        .unwrap();
    assert_eq!(rest.number, "2026-00002");
    assert_eq!(rest.draft.lines[0].quantity, d("3"));
    let level = scope.stock_level(mug, t.warehouse).await.unwrap();
    assert_eq!((level.on_hand, level.reserved), (d("-5"), d("0")));
}

async fn invoice_matches_the_shop_total_to_the_cent(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    // Three lines at 12.99 gross: the shop rounded the tax of the whole line.
    let mut incoming = order(
        "1001",
        vec![
            line("A", "1", "3", "12.99"),
            line("B", "2", "7", "0.33"),
            line("C", "3", "1", "9.95"),
        ],
        0,
    );
    incoming.total += d("0.01");
    let imported = scope
        .import_order(t.shop, &incoming, USER, NOW)
        .await
        .unwrap();
    let invoice = scope
        .issue_document(imported.order, DocumentKind::Invoice, None, USER, NOW)
        .await
        .unwrap();
    assert_eq!(invoice.draft.totals.gross, incoming.total);
    assert_eq!(invoice.draft.totals.rounding, d("0.01"));
    assert!(invoice.draft.lines.iter().any(|line| line.is_rounding()));
    assert!(
        !invoice.moves_stock,
        "the shop moves stock with delivery notes"
    );
    let recap_total: rust_decimal::Decimal =
        invoice.draft.vat_recap.iter().map(|rate| rate.gross).sum();
    assert_eq!(
        recap_total + invoice.draft.totals.rounding,
        invoice.draft.totals.gross
    );

    let reread = scope.document(invoice.id).await.unwrap();
    assert_eq!(reread, invoice);
}

async fn cancelling_reverses_stock_and_takes_its_own_number(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let imported = scope
        .import_order(t.shop, &two_line_order("1001", 0), USER, NOW)
        .await
        .unwrap();
    let mug = imported.items_created[0];
    scope
        .record_movement(
            mug,
            t.warehouse,
            d("10"),
            ManualMovement::Receipt,
            None,
            NOW,
        )
        .await
        .unwrap();
    let note = scope
        .issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
        .await
        .unwrap();
    let reversal = scope.cancel_document(note.id, USER, NOW).await.unwrap();

    assert_eq!(reversal.number, "2026-00002");
    assert_eq!(reversal.state, DocumentState::Reversal);
    assert_eq!(reversal.reverses, Some(note.id));
    assert_eq!(reversal.draft.totals.gross, -note.draft.totals.gross);
    assert_eq!(
        scope.document(note.id).await.unwrap().state,
        DocumentState::Cancelled
    );
    let level = scope.stock_level(mug, t.warehouse).await.unwrap();
    assert_eq!((level.on_hand, level.reserved), (d("10"), d("2")));
    assert_eq!(
        scope.on_hand_from_ledger(mug, t.warehouse).await.unwrap(),
        d("10")
    );

    let error = scope.cancel_document(note.id, USER, NOW).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error}");
    // The goods can be delivered again.
    let again = scope
        .issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
        .await
        .unwrap();
    assert_eq!(again.number, "2026-00003");
    let actions = history_actions(&scope, imported.order).await;
    assert_eq!(
        actions,
        [
            "created",
            "document_issued",
            "document_cancelled",
            "document_issued"
        ]
    );
}

async fn invoice_moves_stock_when_the_shop_uses_no_delivery_notes(db: TestDb) {
    let t = tenant(&db.store, "Acme", |settings| {
        settings.stock_document = DocumentKind::Invoice
    })
    .await;
    let scope = t.scope(&db.store);
    let imported = scope
        .import_order(t.shop, &two_line_order("1001", 0), USER, NOW)
        .await
        .unwrap();
    let mug = imported.items_created[0];
    let note = scope
        .issue_document(imported.order, DocumentKind::DeliveryNote, None, USER, NOW)
        .await
        .unwrap();
    assert!(!note.moves_stock);
    assert_eq!(
        scope.stock_level(mug, t.warehouse).await.unwrap().on_hand,
        d("0")
    );
    let invoice = scope
        .issue_document(imported.order, DocumentKind::Invoice, None, USER, NOW)
        .await
        .unwrap();
    assert!(invoice.moves_stock);
    assert_eq!(
        invoice.number, "2026-00001",
        "invoices have their own sequence"
    );
    let level = scope.stock_level(mug, t.warehouse).await.unwrap();
    assert_eq!((level.on_hand, level.reserved), (d("-2"), d("0")));
}

async fn numbers_are_gapless_when_many_are_issued_at_once(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let mut orders = Vec::new();
    for n in 0..24 {
        let imported = scope
            .import_order(
                t.shop,
                &two_line_order(&format!("{}", 2000 + n), 0),
                USER,
                NOW,
            )
            .await
            .unwrap();
        orders.push(imported.order);
    }
    // Every order gets a delivery note and an invoice, all at once; each order's
    // delivery note is also requested twice, so half of those must fail cleanly.
    let store = db.store.clone();
    let company = t.company;
    let tasks = orders.iter().flat_map(|&order| {
        [
            DocumentKind::DeliveryNote,
            DocumentKind::Invoice,
            DocumentKind::DeliveryNote,
        ]
        .map(|kind| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .company(company)
                    .issue_document(order, kind, None, USER, NOW)
                    .await
            })
        })
    });
    let results = futures::future::join_all(tasks.collect::<Vec<_>>()).await;
    let issued = results
        .into_iter()
        .map(|result| result.unwrap())
        .filter(Result::is_ok)
        .count();
    assert_eq!(issued, 48);
    for kind in [DocumentKind::DeliveryNote, DocumentKind::Invoice] {
        let numbers = scope.document_numbers(kind, 2026).await.unwrap();
        let expected: Vec<String> = (1..=24).map(|seq| format!("2026-{seq:05}")).collect();
        assert_eq!(numbers, expected, "{kind}");
    }
}

async fn every_stock_change_is_recorded_for_the_push(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let imported = scope
        .import_order(t.shop, &two_line_order("1001", 0), USER, NOW)
        .await
        .unwrap();
    let items: BTreeSet<_> = imported.items_created.iter().copied().collect();
    let changes = scope.stock_changes(0, 100).await.unwrap();
    let changed: BTreeSet<_> = changes.iter().map(|change| change.item).collect();
    assert_eq!(changed, items, "a new open order reserves its items");
    assert!(
        changes
            .iter()
            .all(|change| change.reason == "reserved" && change.warehouse == t.warehouse)
    );

    let after = changes.last().unwrap().id;
    scope
        .record_movement(
            imported.items_created[0],
            t.warehouse,
            d("-1"),
            ManualMovement::Adjustment,
            Some("broken"),
            NOW,
        )
        .await
        .unwrap();
    let changes = scope.stock_changes(after, 100).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].reason, "movement");

    let after = changes[0].id;
    scope
        .set_order_status(imported.order, HostStatus::Cancelled, USER, NOW)
        .await
        .unwrap();
    let changed: BTreeSet<_> = scope
        .stock_changes(after, 100)
        .await
        .unwrap()
        .iter()
        .map(|change| change.item)
        .collect();
    assert_eq!(
        changed, items,
        "cancelling the order releases its reservation"
    );
    let level = scope
        .stock_level(imported.items_created[0], t.warehouse)
        .await
        .unwrap();
    assert_eq!(level.reserved, d("0"));
}

/// 00:30 on 1 January in Ljubljana is 23:30 on 31 December in UTC: the invoice belongs to
/// the new year's series in the company's zone, and to the old one for a company that
/// dates its documents in UTC.
async fn the_year_of_a_number_is_the_companys_year(db: TestDb) {
    let new_years_eve_utc = time::macros::datetime!(2026-12-31 23:30 UTC);
    let mut numbers = Vec::new();
    for (name, zone) in [("Ljubljana", None), ("London", Some("UTC"))] {
        let t = tenant(&db.store, name, |_| {}).await;
        let scope = t.scope(&db.store);
        if let Some(zone) = zone {
            let profile = CompanyProfile {
                time_zone: CompanyTimeZone::parse(zone).unwrap(),
                ..scope.profile().await.unwrap()
            };
            scope.set_profile(&profile, NOW).await.unwrap();
        }
        let imported = scope
            .import_order(t.shop, &two_line_order("1001", 0), USER, NOW)
            .await
            .unwrap();
        let invoice = scope
            .issue_document(
                imported.order,
                DocumentKind::Invoice,
                None,
                USER,
                new_years_eve_utc,
            )
            .await
            .unwrap();
        numbers.push(invoice.number);
    }
    assert_eq!(numbers, ["2027-00001", "2026-00001"]);
}

/// Twenty credit notes of twenty invoices at once, and two more of one invoice racing
/// for its last piece: the credit notes' own series runs 1..=21 without a hole, and no
/// line is credited beyond what was invoiced.
async fn credit_notes_are_gapless_and_never_credit_more_than_invoiced(db: TestDb) {
    let t = tenant(&db.store, "Acme", |_| {}).await;
    let scope = t.scope(&db.store);
    let mut invoices = Vec::new();
    for n in 0..20 {
        let imported = scope
            .import_order(
                t.shop,
                &two_line_order(&format!("{}", 3000 + n), 0),
                USER,
                NOW,
            )
            .await
            .unwrap();
        let invoice = scope
            .issue_document(imported.order, DocumentKind::Invoice, None, USER, NOW)
            .await
            .unwrap();
        invoices.push(invoice.id);
    }
    let store = db.store.clone();
    let company = t.company;
    let credit = |invoice, quantity: &str| {
        let store = store.clone();
        let lines = vec![(LineRef::Item(1), Credit::Quantity(d(quantity)))];
        tokio::spawn(async move {
            store
                .company(company)
                .issue_credit_note(invoice, CreditOf::Lines(&lines), false, USER, NOW)
                .await
        })
    };
    // The tee line has one piece: the first invoice gets two requests for it.
    let mut tasks: Vec<_> = invoices
        .iter()
        .map(|&invoice| credit(invoice, "1"))
        .collect();
    tasks.push(credit(invoices[0], "1"));
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|result| result.unwrap())
        .collect();
    let issued: Vec<_> = results
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .collect();
    assert_eq!(
        issued.len(),
        20,
        "one of the two for the same piece is refused"
    );
    let refused: Vec<_> = results
        .iter()
        .filter_map(|result| result.as_ref().err())
        .collect();
    assert!(
        matches!(
            refused.as_slice(),
            [StoreError::Document(DocumentError::ExceedsRemaining { .. })]
        ),
        "{refused:?}"
    );
    let numbers = scope
        .document_numbers(DocumentKind::CreditNote, 2026)
        .await
        .unwrap();
    let expected: Vec<String> = (1..=20).map(|seq| format!("2026-{seq:05}")).collect();
    assert_eq!(numbers, expected);
    for note in issued {
        assert_eq!(note.draft.kind, DocumentKind::CreditNote);
        assert_eq!(note.draft.totals.gross, d("24.40"));
        assert!(!note.moves_stock);
    }
    // Invoices keep their own series.
    assert_eq!(
        scope
            .document_numbers(DocumentKind::Invoice, 2026)
            .await
            .unwrap()
            .len(),
        20
    );
}
