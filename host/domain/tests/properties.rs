//! Properties of the rules over generated orders, versions and ledgers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;
use tovor_domain::document::{
    DocumentKind, DocumentLine, DocumentNumber, LineRef, draft_document, reverse,
};
use tovor_domain::import::{
    ImportDecision, ImportSettings, StoredOrderState, Touched, UnchangedReason, decide,
};
use tovor_domain::mapping::{HostStatus, map_status};
use tovor_domain::order::{NormalizedOrder, content_hash, validate};
use tovor_domain::stock::{
    Movement, MovementKind, movements_for_cancel, movements_for_issue, on_hand,
};
use tovor_domain::{DocumentId, ItemId, WarehouseId};

use common::{at, build, order, order_spec, status};

/// What the storage would do with a decision, in memory.
fn apply(
    state: &mut Option<StoredOrderState>,
    incoming: &NormalizedOrder,
    decision: &ImportDecision,
) {
    let hash = content_hash(incoming);
    let mapped = map_status(incoming.status, &incoming.status_raw, &[]);
    match decision {
        ImportDecision::Create => {
            *state = Some(StoredOrderState {
                content_hash: hash,
                shop_modified_at: incoming.modified_at,
                mapped_status: mapped,
                touched: Touched::default(),
                content: incoming.clone(),
            });
        }
        ImportDecision::Overwrite => {
            if let Some(stored) = state {
                stored.content = incoming.clone();
                stored.content_hash = hash;
                stored.shop_modified_at = incoming.modified_at;
                stored.mapped_status = mapped;
            }
        }
        ImportDecision::StatusOnly { .. } => {
            if let Some(stored) = state {
                stored.content_hash = hash;
                stored.shop_modified_at = incoming.modified_at;
                stored.mapped_status = mapped;
            }
        }
        ImportDecision::Unchanged(_) => {}
    }
}

fn import(
    state: &mut Option<StoredOrderState>,
    incoming: &NormalizedOrder,
    settings: ImportSettings,
) -> ImportDecision {
    let decision = decide(state.as_ref(), incoming, &content_hash(incoming), settings);
    apply(state, incoming, &decision);
    decision
}

fn touched() -> impl Strategy<Value = Touched> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(documents_issued, content_edited, status_changed_by_hand, shipment_created)| Touched {
            documents_issued,
            content_edited,
            status_changed_by_hand,
            shipment_created,
        },
    )
}

/// Versions of one order: distinct `modified_at`, differing content and status.
fn versions() -> impl Strategy<Value = Vec<NormalizedOrder>> {
    (
        order(),
        prop::collection::btree_set(0i64..10_000, 2..=6),
        prop::collection::vec((status(), 0u32..4, prop::option::of("[a-z ]{0,8}")), 6),
    )
        .prop_map(|(base, times, changes)| {
            times
                .into_iter()
                .zip(changes)
                .map(|(time, (status, extra, note))| {
                    let mut version = base.clone();
                    version.modified_at = at(time);
                    version.status = status;
                    version.status_raw = format!("{status:?}");
                    version.customer_note = note;
                    version.lines[0].quantity += Decimal::from(extra);
                    version
                })
                .collect()
        })
}

/// A delivery order for `versions`: each at least once, some twice (re-deliveries),
/// shuffled.
fn deliveries(count: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..count, 0..=4)
        .prop_map(move |repeats| (0..count).chain(repeats).collect::<Vec<_>>())
        .prop_shuffle()
}

fn versions_and_deliveries() -> impl Strategy<Value = (Vec<NormalizedOrder>, Vec<usize>)> {
    versions().prop_flat_map(|versions| {
        let count = versions.len();
        (Just(versions), deliveries(count))
    })
}

/// The amount a line is priced in: net for net prices, gross for gross prices. That is
/// the amount whose parts add up exactly; the other one is split by VAT per part.
fn priced_amount(order: &NormalizedOrder, line: &DocumentLine) -> Decimal {
    if order.prices_include_tax {
        line.gross
    } else {
        line.net
    }
}

fn newest(versions: &[NormalizedOrder]) -> &NormalizedOrder {
    versions
        .iter()
        .max_by_key(|version| version.modified_at)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_orders_are_valid(order in order()) {
        prop_assert_eq!(validate(&order), Ok(()));
    }

    #[test]
    fn the_hash_survives_a_json_round_trip(order in order()) {
        let json = serde_json::to_string(&order).unwrap();
        let back: NormalizedOrder = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(content_hash(&back), content_hash(&order));
    }

    #[test]
    fn importing_the_same_payload_twice_equals_once(
        (versions, _) in versions_and_deliveries(),
        earlier in 0usize..6,
        touched in touched(),
        update_existing in any::<bool>(),
    ) {
        let settings = ImportSettings { update_existing };
        let payload = &versions[versions.len() - 1];
        let mut state = None;
        if earlier < versions.len() - 1 {
            import(&mut state, &versions[earlier], settings);
            if let Some(stored) = &mut state {
                stored.touched = touched;
            }
        }
        let first = import(&mut state, payload, settings);
        let after_once = state.clone();
        let second = import(&mut state, payload, settings);
        prop_assert_eq!(&state, &after_once);
        if first.records_version() {
            prop_assert_eq!(second, ImportDecision::Unchanged(UnchangedReason::Identical));
        } else {
            prop_assert_eq!(second, first);
        }
    }

    #[test]
    fn a_touched_order_is_never_overwritten(
        (versions, deliveries) in versions_and_deliveries(),
        touched in touched(),
        update_existing in any::<bool>(),
    ) {
        prop_assume!(touched.any());
        let settings = ImportSettings { update_existing };
        let first = &versions[deliveries[0]];
        let mut state = None;
        import(&mut state, first, settings);
        if let Some(stored) = &mut state {
            stored.touched = touched;
        }
        for &index in &deliveries[1..] {
            let decision = import(&mut state, &versions[index], settings);
            prop_assert!(!matches!(decision, ImportDecision::Overwrite | ImportDecision::Create), "{:?}", decision);
        }
        let stored = state.unwrap();
        prop_assert_eq!(&stored.content, first, "content must stay as first imported");
    }

    #[test]
    fn out_of_order_versions_converge_to_the_newest((versions, deliveries) in versions_and_deliveries()) {
        let settings = ImportSettings { update_existing: true };
        let mut state = None;
        for &index in &deliveries {
            import(&mut state, &versions[index], settings);
        }
        let newest = newest(&versions);
        let stored = state.unwrap();
        prop_assert_eq!(&stored.content, newest);
        prop_assert_eq!(stored.content_hash, content_hash(newest));
        prop_assert_eq!(stored.shop_modified_at, newest.modified_at);
    }

    #[test]
    fn touched_orders_converge_to_the_newest_status(
        (versions, deliveries) in versions_and_deliveries(),
        touched in touched(),
    ) {
        prop_assume!(touched.any());
        let settings = ImportSettings { update_existing: true };
        let mut state = None;
        for (step, &index) in deliveries.iter().enumerate() {
            import(&mut state, &versions[index], settings);
            if step == 0 && let Some(stored) = &mut state {
                stored.touched = touched;
            }
        }
        let newest = newest(&versions);
        let stored = state.unwrap();
        prop_assert_eq!(stored.mapped_status, map_status(newest.status, &newest.status_raw, &[]));
        prop_assert_eq!(stored.content_hash, content_hash(newest));
    }

    #[test]
    fn a_full_invoice_matches_the_order_total_to_the_cent(order in order()) {
        let draft = draft_document(DocumentKind::Invoice, &order, None, &[]).unwrap();
        prop_assert!(draft.covers_whole_order);
        prop_assert_eq!(draft.totals.gross, order.total);
        let lines_gross: Decimal = draft.lines.iter().map(|line| line.gross).sum();
        prop_assert_eq!(lines_gross, order.total);
        let recap_gross: Decimal = draft.vat_recap.iter().map(|recap| recap.gross).sum();
        prop_assert_eq!(recap_gross + draft.totals.rounding, order.total);
        for line in &draft.lines {
            prop_assert_eq!(line.net + line.vat, line.gross);
            prop_assert_eq!(line.gross.round_dp(2), line.gross);
        }
        let reversal = reverse(&draft);
        prop_assert_eq!(reversal.totals.gross, -order.total);
        prop_assert_eq!(reverse(&reversal), draft);
    }

    #[test]
    fn partial_deliveries_never_exceed_what_was_ordered(
        order in order(),
        requests in prop::collection::vec((0usize..8, 1u32..=12), 1..=12),
    ) {
        let mut issued: Vec<(LineRef, Decimal)> = Vec::new();
        let mut delivered: BTreeMap<usize, Decimal> = BTreeMap::new();
        let mut nets: BTreeMap<usize, Decimal> = BTreeMap::new();
        for (position, halves) in requests {
            let position = position % order.lines.len();
            let line_ref = LineRef::Item(position as u32);
            let quantity = Decimal::new(i64::from(halves) * 5, 1);
            let remaining = order.lines[position].quantity - delivered.get(&position).copied().unwrap_or_default();
            let result = draft_document(DocumentKind::DeliveryNote, &order, Some(&[(line_ref, quantity)]), &issued);
            match result {
                Ok(draft) => {
                    prop_assert!(quantity <= remaining);
                    *delivered.entry(position).or_default() += quantity;
                    *nets.entry(position).or_default() += priced_amount(&order, &draft.lines[0]);
                    issued.extend(draft.issued_quantities());
                }
                Err(_) => prop_assert!(quantity > remaining),
            }
        }
        // Deliver whatever is left, then nothing more fits.
        if let Ok(rest) = draft_document(DocumentKind::DeliveryNote, &order, None, &issued) {
            for line in &rest.lines {
                let Some(LineRef::Item(position)) = line.source else { continue };
                *delivered.entry(position as usize).or_default() += line.quantity;
                *nets.entry(position as usize).or_default() += priced_amount(&order, line);
            }
            issued.extend(rest.issued_quantities());
        }
        let whole = draft_document(DocumentKind::DeliveryNote, &order, None, &[]).unwrap();
        for (position, line) in order.lines.iter().enumerate() {
            prop_assert_eq!(delivered.get(&position).copied().unwrap_or_default(), line.quantity);
            // The parts of a line add up to the whole line, to the cent.
            prop_assert_eq!(
                nets.get(&position).copied().unwrap_or_default(),
                priced_amount(&order, &whole.lines[position])
            );
        }
        prop_assert!(draft_document(DocumentKind::DeliveryNote, &order, None, &issued).is_err());
    }

    #[test]
    fn on_hand_is_the_sum_of_movements_and_a_cancel_restores_it(
        receipts in prop::collection::vec((0i64..3, -10_000i64..10_000), 0..20),
        spec in order_spec(),
        moves_stock in any::<bool>(),
    ) {
        let order = build(&spec);
        let ledger: Vec<Movement> = receipts
            .iter()
            .map(|&(item, milli)| Movement {
                item: ItemId(item),
                warehouse: WarehouseId(1),
                quantity: Decimal::new(milli, 3),
                kind: if milli >= 0 { MovementKind::Receipt } else { MovementKind::Adjustment },
            })
            .collect();
        let expected: Decimal = receipts.iter().map(|&(_, milli)| Decimal::new(milli, 3)).sum();
        prop_assert_eq!(on_hand(&ledger), expected);

        let draft = draft_document(DocumentKind::DeliveryNote, &order, None, &[]).unwrap();
        let item_of = |line: LineRef| match line {
            LineRef::Item(n) => Some(ItemId(i64::from(n) % 3)),
            _ => None,
        };
        let issued = movements_for_issue(&draft, DocumentId(1), WarehouseId(1), moves_stock, item_of).unwrap();
        let per_item = |movements: &[Movement], item: i64| {
            let of_item: Vec<Movement> = movements.iter().filter(|m| m.item == ItemId(item)).cloned().collect();
            on_hand(&of_item)
        };
        let mut after_issue = ledger.clone();
        after_issue.extend(issued.iter().cloned());
        let shipped: Decimal = draft.lines.iter().map(|line| line.quantity).sum();
        prop_assert_eq!(on_hand(&after_issue), expected - if moves_stock { shipped } else { Decimal::ZERO });

        let mut after_cancel = after_issue.clone();
        after_cancel.extend(movements_for_cancel(&issued, DocumentId(1)));
        prop_assert_eq!(on_hand(&after_cancel), on_hand(&ledger));
        for item in 0..3 {
            prop_assert_eq!(per_item(&after_cancel, item), per_item(&ledger, item));
        }
    }

    #[test]
    fn document_numbers_round_trip(year in 1000u16..=9999, seq in 1u32..=u32::MAX) {
        let number = DocumentNumber::new(year, seq).unwrap();
        let text = number.to_string();
        prop_assert_eq!(text.parse::<DocumentNumber>(), Ok(number));
        prop_assert!(text.len() >= 10);
        prop_assert_eq!(&text[..4], year.to_string());
    }

    #[test]
    fn parsed_document_numbers_print_the_same(text in "[0-9]{4}-[0-9]{5,10}") {
        if let Ok(number) = text.parse::<DocumentNumber>() {
            prop_assert_eq!(number.to_string(), text);
        }
    }

    #[test]
    fn mapped_status_is_a_host_status(status in status(), raw in ".{0,12}") {
        prop_assert!(HostStatus::ALL.contains(&map_status(status, &raw, &[])));
    }
}
