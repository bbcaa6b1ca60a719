use super::*;
use crate::mapping::HostStatus;
use crate::order::{NormalizedOrder, content_hash};
use crate::test_support::{at, d, line, order};

const UPDATES: ImportSettings = ImportSettings {
    update_existing: true,
};
const NO_UPDATES: ImportSettings = ImportSettings {
    update_existing: false,
};

fn stored(content: &NormalizedOrder, touched: Touched) -> StoredOrderState {
    StoredOrderState {
        content_hash: content_hash(content),
        shop_modified_at: content.modified_at,
        mapped_status: HostStatus::Processing,
        touched,
        content: content.clone(),
    }
}

fn newer(mut o: NormalizedOrder) -> NormalizedOrder {
    o.modified_at = at(600);
    o
}

fn decide_on(
    existing: Option<&StoredOrderState>,
    incoming: &NormalizedOrder,
    settings: ImportSettings,
) -> ImportDecision {
    decide(existing, incoming, &content_hash(incoming), settings)
}

#[test]
fn a_new_order_is_created() {
    assert_eq!(
        decide_on(None, &order(), NO_UPDATES),
        ImportDecision::Create
    );
    assert!(ImportDecision::Create.records_version());
}

#[test]
fn an_identical_payload_is_a_no_op_even_with_updates() {
    let state = stored(&order(), Touched::default());
    let decision = decide_on(Some(&state), &order(), UPDATES);
    assert_eq!(
        decision,
        ImportDecision::Unchanged(UnchangedReason::Identical)
    );
    assert!(!decision.records_version());
}

#[test]
fn an_older_version_is_stale() {
    let state = stored(&newer(order()), Touched::default());
    let mut old = order();
    old.total = d("1.00");
    assert_eq!(
        decide_on(Some(&state), &old, UPDATES),
        ImportDecision::Unchanged(UnchangedReason::Stale {
            stored: at(600),
            incoming: at(60)
        })
    );
}

#[test]
fn updates_are_off_by_default() {
    let state = stored(&order(), Touched::default());
    assert_eq!(
        decide_on(Some(&state), &newer(order()), ImportSettings::default()),
        ImportDecision::Unchanged(UnchangedReason::UpdatesDisabled)
    );
}

#[test]
fn an_untouched_order_is_overwritten() {
    let state = stored(&order(), Touched::default());
    let mut incoming = newer(order());
    incoming.lines[0].quantity = d("5");
    assert_eq!(
        decide_on(Some(&state), &incoming, UPDATES),
        ImportDecision::Overwrite
    );
}

#[test]
fn same_time_different_content_counts_as_newer() {
    let state = stored(&order(), Touched::default());
    let mut incoming = order();
    incoming.customer_note = Some("Ring twice".into());
    assert_eq!(
        decide_on(Some(&state), &incoming, UPDATES),
        ImportDecision::Overwrite
    );
}

#[test]
fn a_newer_timestamp_with_the_same_content_still_records_the_version() {
    let state = stored(&order(), Touched::default());
    let decision = decide_on(Some(&state), &newer(order()), UPDATES);
    assert_eq!(decision, ImportDecision::Overwrite);
    assert!(decision.records_version());
}

#[test]
fn any_touch_limits_the_update_to_status() {
    let touches = [
        Touched {
            documents_issued: true,
            ..Touched::default()
        },
        Touched {
            content_edited: true,
            ..Touched::default()
        },
        Touched {
            status_changed_by_hand: true,
            ..Touched::default()
        },
        Touched {
            shipment_created: true,
            ..Touched::default()
        },
    ];
    for touched in touches {
        assert!(touched.any());
        let state = stored(&order(), touched);
        let mut incoming = newer(order());
        incoming.lines[0].quantity = d("5");
        let ImportDecision::StatusOnly { differences } =
            decide_on(Some(&state), &incoming, UPDATES)
        else {
            panic!("{touched:?} must limit the update to status");
        };
        assert_eq!(
            differences,
            [Difference {
                field: "lines[id=11].quantity".into(),
                stored: "2".into(),
                incoming: "5".into()
            }]
        );
    }
    assert!(!Touched::default().any());
}

#[test]
fn status_only_differences_are_against_the_edited_content() {
    let mut edited = order();
    edited.customer_note = Some("Edited by hand".into());
    let mut state = stored(
        &order(),
        Touched {
            content_edited: true,
            ..Touched::default()
        },
    );
    state.content = edited;
    let ImportDecision::StatusOnly { differences } =
        decide_on(Some(&state), &newer(order()), UPDATES)
    else {
        panic!("expected status only");
    };
    assert_eq!(
        differences,
        [Difference {
            field: "customer_note".into(),
            stored: "Edited by hand".into(),
            incoming: "Leave at the door".into()
        }]
    );
}

#[test]
fn no_differences_between_equal_content() {
    assert!(diff(&order(), &newer(order())).is_empty());
    let mut respelled = order();
    respelled.total = d("43.2600");
    respelled.status = crate::order::OrderStatus::Completed;
    assert!(diff(&order(), &respelled).is_empty());
}

#[test]
fn differences_name_fields_by_path() {
    let mut incoming = order();
    incoming.total = d("44.26");
    incoming.billing.as_mut().unwrap().city = Some("Maribor".into());
    incoming.customer.as_mut().unwrap().email = None;
    incoming.customer_note = None;
    incoming.shipping_lines[0].amount = d("5.10");
    let found = diff(&order(), &incoming);
    let fields: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|difference| {
            (
                difference.field.as_str(),
                difference.stored.as_str(),
                difference.incoming.as_str(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("shipping_lines[code=flat_rate].amount", "4.1", "5.1"),
            ("total", "43.26", "44.26"),
            ("billing.city", "Ljubljana", "Maribor"),
            ("customer.email", "Ana@Example.com", ""),
            ("customer_note", "Leave at the door", ""),
        ]
    );
}

/// An order edited after checkout: a line reduced (the quantity at checkout kept beside
/// it) and a refund with restock show in the differences with what they were for.
#[test]
fn edits_and_refunds_show_in_the_differences() {
    let mut incoming = order();
    incoming.lines[0].ordered_quantity = Some(incoming.lines[0].quantity);
    incoming.lines[0].quantity = d("1");
    incoming.refunds.push(crate::order::Refund {
        platform_id: Some("R7".into()),
        amount: d("12.50"),
        reason: Some("damaged".into()),
        created_at: None,
        lines: vec![crate::order::RefundLine {
            platform_line_id: Some("11".into()),
            sku: Some("MUG".into()),
            quantity: d("1"),
            amount: d("9.50"),
        }],
        shipping: d("3.00"),
        restock: true,
    });
    let found = diff(&order(), &incoming);
    let fields: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|difference| {
            (
                difference.field.as_str(),
                difference.stored.as_str(),
                difference.incoming.as_str(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("lines[id=11].quantity", "2", "1"),
            ("lines[id=11].ordered_quantity", "", "2"),
            (
                "refunds[id=R7]",
                "",
                "12.5 refunded, shipping 3, restocked: 1 × MUG (9.5); \"damaged\""
            ),
        ]
    );
}

#[test]
fn lines_pair_by_id_then_sku_and_report_additions_and_removals() {
    let mut incoming = order();
    incoming.lines.swap(0, 1);
    assert!(
        diff(&order(), &incoming).is_empty(),
        "reordering is no change"
    );

    let mut incoming = order();
    incoming.lines.remove(0);
    incoming.lines.push(line(
        "13", "CUP", "Cup", "1", "5.00", "0", "22", "1.10", "5.00",
    ));
    let found = diff(&order(), &incoming);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].field, "lines[id=11]");
    assert_eq!(found[0].stored, "2 × Mug (MUG), total 19");
    assert_eq!(found[0].incoming, "");
    assert_eq!(found[1].field, "lines[id=13]");
    assert_eq!(found[1].stored, "");

    let without_ids = |mut o: NormalizedOrder| {
        for line in &mut o.lines {
            line.platform_line_id = None;
        }
        o
    };
    let mut incoming = without_ids(order());
    incoming.lines.swap(0, 1);
    incoming.lines[1].quantity = d("4");
    let found = diff(&without_ids(order()), &incoming);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field, "lines[sku=MUG].quantity");
}

#[test]
fn lines_without_keys_pair_by_position() {
    let anonymous = |mut o: NormalizedOrder| {
        for line in &mut o.lines {
            line.platform_line_id = None;
            line.sku = None;
        }
        o
    };
    let mut incoming = anonymous(order());
    incoming.lines[1].name = "Green tea".into();
    let found = diff(&anonymous(order()), &incoming);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field, "lines[1].name");
}
