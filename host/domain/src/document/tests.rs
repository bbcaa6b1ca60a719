use rust_decimal::Decimal;

use super::*;
use crate::order::NormalizedOrder;
use crate::test_support::{charge, d, line, order};

fn invoice(o: &NormalizedOrder) -> DocumentDraft {
    draft_document(DocumentKind::Invoice, o, None, &[]).unwrap()
}

#[test]
fn numbers_format_and_parse() {
    let number = DocumentNumber::new(2026, 42).unwrap();
    assert_eq!(number.to_string(), "2026-00042");
    assert_eq!("2026-00042".parse(), Ok(number));
    assert_eq!(
        DocumentNumber::new(2026, 123_456).unwrap().to_string(),
        "2026-123456"
    );
    assert_eq!(
        "2026-123456".parse::<DocumentNumber>().unwrap().seq(),
        123_456
    );
    assert_eq!(
        DocumentNumber::first(2027).unwrap().to_string(),
        "2027-00001"
    );
    assert_eq!(number.next().unwrap().to_string(), "2026-00043");
    for bad in [
        "2026-0042",
        "2026-000042",
        "26-00042",
        "2026/00042",
        "2026-00000",
        "2026-0004a",
        "",
        "-",
        "2026-",
        "0999-00001",
        "+026-00001",
    ] {
        assert!(bad.parse::<DocumentNumber>().is_err(), "{bad:?} parsed");
    }
    assert_eq!(
        DocumentNumber::new(2026, 0),
        Err(DocumentNumberError::ZeroSequence)
    );
    assert_eq!(
        DocumentNumber::new(99, 1),
        Err(DocumentNumberError::YearOutOfRange(99))
    );
    assert_eq!(
        DocumentNumber::new(2026, u32::MAX).unwrap().next(),
        Err(DocumentNumberError::Exhausted(2026))
    );
    assert_eq!(serde_json::to_string(&number).unwrap(), "\"2026-00042\"");
    assert_eq!(
        serde_json::from_str::<DocumentNumber>("\"2026-00042\"").unwrap(),
        number
    );
    assert!(serde_json::from_str::<DocumentNumber>("\"2026-42\"").is_err());
}

#[test]
fn a_full_invoice_carries_every_line_shipping_and_recap() {
    let draft = invoice(&order());
    assert!(draft.covers_whole_order);
    assert_eq!(draft.currency, "EUR");
    let summary: Vec<(Option<LineRef>, Decimal, Decimal, Decimal, Decimal)> = draft
        .lines
        .iter()
        .map(|line| (line.source, line.quantity, line.net, line.vat, line.gross))
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some(LineRef::Item(0)),
                d("2"),
                d("19.00"),
                d("4.18"),
                d("23.18")
            ),
            (
                Some(LineRef::Item(1)),
                d("3"),
                d("13.77"),
                d("1.31"),
                d("15.08")
            ),
            (
                Some(LineRef::Shipping(0)),
                d("1"),
                d("4.10"),
                d("0.90"),
                d("5.00")
            ),
        ]
    );
    assert_eq!(draft.lines[0].unit_price, d("10.00"));
    assert_eq!(draft.lines[0].discount, d("1.00"));
    assert_eq!(draft.lines[0].sku.as_deref(), Some("MUG"));
    assert_eq!(
        draft.vat_recap,
        [
            VatRecap {
                rate: d("9.5"),
                base: d("13.77"),
                vat: d("1.31"),
                gross: d("15.08")
            },
            VatRecap {
                rate: d("22"),
                base: d("23.10"),
                vat: d("5.08"),
                gross: d("28.18")
            },
        ]
    );
    assert_eq!(
        draft.totals,
        DocumentTotals {
            net: d("36.87"),
            vat: d("6.39"),
            rounding: d("0"),
            gross: d("43.26")
        }
    );
    assert_eq!(draft.totals.gross, order().total);
}

#[test]
fn a_delivery_note_lists_goods_only() {
    let draft = draft_document(DocumentKind::DeliveryNote, &order(), None, &[]).unwrap();
    assert_eq!(draft.lines.len(), 2);
    assert!(
        draft
            .lines
            .iter()
            .all(|line| matches!(line.source, Some(LineRef::Item(_))))
    );
    assert!(draft.covers_whole_order);
    assert_eq!(draft.totals.gross, d("38.26"));
}

#[test]
fn partial_deliveries_take_what_is_selected_and_refuse_more_than_is_left() {
    let o = order();
    let first = draft_document(
        DocumentKind::DeliveryNote,
        &o,
        Some(&[(LineRef::Item(1), d("2"))]),
        &[],
    )
    .unwrap();
    assert_eq!(first.lines.len(), 1);
    assert_eq!(first.lines[0].quantity, d("2"));
    assert!(!first.covers_whole_order);
    let issued = first.issued_quantities();
    assert_eq!(issued, [(LineRef::Item(1), d("2"))]);

    let error = draft_document(
        DocumentKind::DeliveryNote,
        &o,
        Some(&[(LineRef::Item(1), d("2"))]),
        &issued,
    )
    .unwrap_err();
    assert_eq!(
        error,
        DocumentError::ExceedsRemaining {
            line: LineRef::Item(1),
            name: "Tea".into(),
            requested: d("2"),
            remaining: d("1")
        }
    );
    assert_eq!(
        error.to_string(),
        "lines[1] (Tea): 2 requested, but only 1 left"
    );

    let rest = draft_document(DocumentKind::DeliveryNote, &o, None, &issued).unwrap();
    let quantities: Vec<_> = rest.issued_quantities();
    assert_eq!(
        quantities,
        [(LineRef::Item(0), d("2")), (LineRef::Item(1), d("1"))]
    );
    assert!(!rest.covers_whole_order);

    let all: Vec<_> = issued.into_iter().chain(quantities).collect();
    assert_eq!(
        draft_document(DocumentKind::DeliveryNote, &o, None, &all),
        Err(DocumentError::NothingLeft(DocumentKind::DeliveryNote))
    );
}

#[test]
fn bad_selections_are_refused() {
    let o = order();
    let try_select = |selection: &[(LineRef, Decimal)]| {
        draft_document(DocumentKind::Invoice, &o, Some(selection), &[])
    };
    assert_eq!(try_select(&[]), Err(DocumentError::NothingSelected));
    assert_eq!(
        try_select(&[(LineRef::Item(7), d("1"))]),
        Err(DocumentError::UnknownLine(LineRef::Item(7)))
    );
    assert_eq!(
        try_select(&[(LineRef::Shipping(0), d("1"))]),
        Err(DocumentError::NotSelectable(LineRef::Shipping(0)))
    );
    assert_eq!(
        try_select(&[(LineRef::Fee(0), d("1"))]),
        Err(DocumentError::UnknownLine(LineRef::Fee(0)))
    );
    assert_eq!(
        try_select(&[(LineRef::Item(0), d("1")), (LineRef::Item(0), d("1"))]),
        Err(DocumentError::DuplicateLine(LineRef::Item(0)))
    );
    for quantity in ["0", "-1"] {
        assert_eq!(
            try_select(&[(LineRef::Item(0), d(quantity))]),
            Err(DocumentError::NonPositiveQuantity {
                line: LineRef::Item(0),
                name: "Mug".into(),
                quantity: d(quantity)
            })
        );
    }
}

#[test]
fn inconsistent_issued_quantities_are_refused() {
    let o = order();
    for issued in [
        vec![(LineRef::Item(0), d("3"))],
        vec![(LineRef::Item(0), d("-1"))],
        vec![
            (LineRef::Shipping(0), d("1")),
            (LineRef::Shipping(0), d("1")),
        ],
    ] {
        assert!(matches!(
            draft_document(DocumentKind::Invoice, &o, None, &issued),
            Err(DocumentError::InconsistentIssued { .. })
        ));
    }
    assert_eq!(
        draft_document(
            DocumentKind::Invoice,
            &o,
            None,
            &[(LineRef::Item(9), d("1"))]
        ),
        Err(DocumentError::UnknownLine(LineRef::Item(9)))
    );
}

#[test]
fn shipping_goes_on_the_first_invoice_only() {
    let o = order();
    let first = draft_document(
        DocumentKind::Invoice,
        &o,
        Some(&[(LineRef::Item(0), d("1"))]),
        &[],
    )
    .unwrap();
    assert_eq!(
        first
            .lines
            .iter()
            .map(|line| line.source)
            .collect::<Vec<_>>(),
        [Some(LineRef::Item(0)), Some(LineRef::Shipping(0))]
    );
    let issued = first.issued_quantities();
    let second = draft_document(
        DocumentKind::Invoice,
        &o,
        Some(&[(LineRef::Item(0), d("1"))]),
        &issued,
    )
    .unwrap();
    assert_eq!(second.lines.len(), 1);

    // After the first invoice is cancelled, the next one carries shipping again.
    let cancelled: Vec<_> = issued
        .iter()
        .copied()
        .chain(reverse(&first).issued_quantities())
        .collect();
    let again = draft_document(
        DocumentKind::Invoice,
        &o,
        Some(&[(LineRef::Item(1), d("1"))]),
        &cancelled,
    )
    .unwrap();
    assert!(
        again
            .lines
            .iter()
            .any(|line| line.source == Some(LineRef::Shipping(0)))
    );
}

#[test]
fn partial_amounts_add_up_to_the_whole_line() {
    let mut o = order();
    o.lines = vec![line(
        "1", "A", "Thing", "3", "3.33", "1.00", "22", "1.98", "8.99",
    )];
    o.shipping_lines.clear();
    let mut issued = Vec::new();
    let mut net = Decimal::ZERO;
    let mut discount = Decimal::ZERO;
    for _ in 0..3 {
        let part = draft_document(
            DocumentKind::DeliveryNote,
            &o,
            Some(&[(LineRef::Item(0), d("1"))]),
            &issued,
        )
        .unwrap();
        net += part.lines[0].net;
        discount += part.lines[0].discount;
        issued.extend(part.issued_quantities());
    }
    assert_eq!(net, d("8.99"));
    assert_eq!(discount, d("1.00"));
}

#[test]
fn a_rounding_line_bridges_the_shops_order_level_tax() {
    let mut o = order();
    // The shop rounded tax over the whole order (0.30 × 22 % = 0.066 → 0.07), the host
    // rounds per line (3 × 0.022 → 0.06).
    o.lines = vec![
        line("1", "A", "A", "1", "0.10", "0", "22", "0.02", "0.10"),
        line("2", "B", "B", "1", "0.10", "0", "22", "0.02", "0.10"),
        line("3", "C", "C", "1", "0.10", "0", "22", "0.03", "0.10"),
    ];
    o.shipping_lines.clear();
    o.discount_total = d("0");
    o.shipping_total = d("0");
    o.tax_total = d("0.07");
    o.total = d("0.37");
    assert_eq!(crate::order::validate(&o), Ok(()));
    let draft = invoice(&o);
    let rounding = draft.lines.last().unwrap();
    assert!(rounding.is_rounding());
    assert_eq!(
        (rounding.name.as_str(), rounding.gross, rounding.vat),
        (ROUNDING_LINE_NAME, d("0.01"), d("0"))
    );
    assert_eq!(draft.totals.rounding, d("0.01"));
    assert_eq!(draft.totals.gross, d("0.37"));
    assert_eq!(draft.vat_recap.len(), 1);
    assert_eq!(draft.vat_recap[0].gross, d("0.36"));

    // Partial invoices and delivery notes never get one.
    let partial = draft_document(
        DocumentKind::Invoice,
        &o,
        Some(&[(LineRef::Item(0), d("1"))]),
        &[],
    )
    .unwrap();
    assert!(partial.lines.iter().all(|line| !line.is_rounding()));
    let note = draft_document(DocumentKind::DeliveryNote, &o, None, &[]).unwrap();
    assert!(note.lines.iter().all(|line| !line.is_rounding()));
}

#[test]
fn a_difference_beyond_rounding_is_refused() {
    let mut o = order();
    o.total = d("43.33");
    let error = draft_document(DocumentKind::Invoice, &o, None, &[]).unwrap_err();
    assert_eq!(
        error,
        DocumentError::RoundingTooLarge {
            computed: d("43.26"),
            order_total: d("43.33"),
            difference: d("0.07"),
            tolerance: d("0.06"),
        }
    );
    o.total = d("43.32");
    assert_eq!(invoice(&o).totals.gross, d("43.32"));
}

#[test]
fn gross_prices_are_split_into_net_and_vat() {
    let mut o = order();
    o.prices_include_tax = true;
    o.lines = vec![line(
        "1", "MUG", "Mug", "3", "9.99", "0.99", "22", "5.23", "23.75",
    )];
    o.shipping_lines = vec![charge("Post", "4.0902", "22", "0.90")];
    o.discount_total = d("0.99");
    o.shipping_total = d("4.0902");
    o.tax_total = d("6.13");
    o.total = d("33.97");
    assert_eq!(crate::order::validate(&o), Ok(()));
    let draft = invoice(&o);
    let mug = &draft.lines[0];
    assert_eq!(
        (mug.gross, mug.vat, mug.net),
        (d("28.98"), d("5.23"), d("23.75"))
    );
    assert_eq!(mug.unit_price, d("8.1885"));
    assert_eq!(mug.discount, d("0.81"));
    assert_eq!(draft.lines[1].gross, d("4.99"));
    assert_eq!(draft.totals.rounding, d("0"));
    assert_eq!(draft.totals.gross, d("33.97"));
}

#[test]
fn a_reversal_negates_every_amount() {
    let draft = invoice(&order());
    let reversal = reverse(&draft);
    assert_eq!(reversal.lines.len(), draft.lines.len());
    for (line, reversed) in draft.lines.iter().zip(&reversal.lines) {
        assert_eq!(reversed.quantity, -line.quantity);
        assert_eq!(reversed.gross, -line.gross);
        assert_eq!(reversed.unit_price, line.unit_price);
        assert_eq!(reversed.source, line.source);
    }
    assert_eq!(reversal.totals.gross, -draft.totals.gross);
    assert_eq!(reversal.vat_recap[1].vat, -draft.vat_recap[1].vat);
    assert_eq!(reverse(&reversal), draft);
}

#[test]
fn missing_tax_rates_are_derived() {
    let mut o = order();
    o.lines[0].tax_rate = None;
    o.shipping_lines[0].tax_rate = None;
    let draft = invoice(&o);
    assert_eq!(draft.lines[0].vat_rate, d("22"));
    assert_eq!(draft.totals.gross, d("43.26"));
}

#[test]
fn out_of_range_amounts_are_refused_not_panicked_on() {
    let mut o = order();
    o.lines[0].unit_price = Decimal::MAX;
    assert_eq!(
        draft_document(DocumentKind::Invoice, &o, None, &[]),
        Err(DocumentError::InvalidAmount("lines[0].unit_price".into()))
    );
    let mut o = order();
    o.shipping_lines[0].tax_rate = Some(d("-100"));
    assert_eq!(
        draft_document(DocumentKind::Invoice, &o, None, &[]),
        Err(DocumentError::InvalidAmount(
            "shipping_lines[0].tax_rate".into()
        ))
    );
    let mut o = order();
    o.lines[1].quantity = Decimal::NEGATIVE_ONE;
    assert!(draft_document(DocumentKind::Invoice, &o, None, &[]).is_err());
}

#[test]
fn draft_json_shape() {
    let json = serde_json::to_value(invoice(&order())).unwrap();
    assert_eq!(json["kind"], "invoice");
    assert_eq!(
        json["lines"][2]["source"],
        serde_json::json!({"shipping": 0})
    );
    assert_eq!(json["totals"]["gross"], "43.26");
}

/// A line the shop removed after checkout (quantity zero) is neither delivered nor
/// invoiced, and the rest of the order still drafts in full.
#[test]
fn a_removed_line_is_left_out_of_documents() {
    let mut o = order();
    o.lines[1].ordered_quantity = Some(o.lines[1].quantity);
    o.total -= o.lines[1].total + o.lines[1].tax_amount;
    o.tax_total -= o.lines[1].tax_amount;
    o.lines[1].quantity = Decimal::ZERO;
    o.lines[1].total = Decimal::ZERO;
    o.lines[1].tax_amount = Decimal::ZERO;
    for kind in [DocumentKind::Invoice, DocumentKind::DeliveryNote] {
        let draft = draft_document(kind, &o, None, &[]).unwrap();
        assert!(
            draft
                .lines
                .iter()
                .all(|line| line.source != Some(LineRef::Item(1))),
            "{kind:?}: {draft:?}"
        );
    }
}
