//! Credit notes: part or all of an invoice given back, from a refund the shop reports
//! or chosen by hand.
//!
//! A credit note refers to one invoice and credits its lines: items by quantity, charges
//! (shipping, fees) by an amount. It never credits more than the invoice carried, line
//! by line, counting every earlier credit note of the same invoice. Its amounts are
//! positive: the kind says that they are owed to the buyer.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::draft::assemble;
use super::{DocumentDraft, DocumentError, DocumentKind, DocumentLine, LineRef};
use crate::money;
use crate::order::{NormalizedOrder, Refund};

/// How much of one invoice line to credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit {
    /// Pieces of an item line (returned or not: whether stock moves back is decided
    /// apart).
    Quantity(Decimal),
    /// An amount of a charge line, tax included (part or all of the shipping).
    Gross(Decimal),
}

/// What earlier credit notes took from one invoice line, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Credited {
    pub quantity: Decimal,
    pub discount: Decimal,
    pub net: Decimal,
    pub vat: Decimal,
}

impl Credited {
    /// Adds a credit note line.
    pub fn add(&mut self, line: &DocumentLine) {
        self.quantity += line.quantity;
        self.discount += line.discount;
        self.net += line.net;
        self.vat += line.vat;
    }
}

/// Earlier credit notes of an invoice, per invoice line (`None`: the rounding line).
pub type CreditedLines = BTreeMap<Option<LineRef>, Credited>;

/// Sums the lines of earlier credit notes of one invoice.
pub fn credited_so_far<'a>(
    credit_notes: impl IntoIterator<Item = &'a DocumentDraft>,
) -> CreditedLines {
    let mut credited = CreditedLines::new();
    for note in credit_notes {
        for line in &note.lines {
            credited.entry(line.source).or_default().add(line);
        }
    }
    credited
}

/// Drafts a credit note of `invoice`.
///
/// Each requested line must be on the invoice, named once, with a positive quantity
/// (items) or amount (charges) no larger than what earlier credit notes left of it. A
/// part of a line gets the line's amounts in proportion, rounded to cents; the part that
/// takes the rest of a line gets exactly what is left, so the credit notes of a line
/// add up to the line to the cent. When this note leaves nothing of the invoice, it
/// also credits the invoice's rounding line, so that the invoice and its credit notes
/// add up to zero.
///
/// # Errors
///
/// [`DocumentError::NotCreditable`] unless `invoice` is an invoice;
/// [`DocumentError::NothingSelected`], [`DocumentError::UnknownLine`],
/// [`DocumentError::DuplicateLine`], [`DocumentError::NonPositiveQuantity`] and
/// [`DocumentError::ExceedsRemaining`] for a request that cannot be met.
pub fn draft_credit_note(
    invoice: &DocumentDraft,
    credited: &CreditedLines,
    request: &[(LineRef, Credit)],
) -> Result<DocumentDraft, DocumentError> {
    if invoice.kind != DocumentKind::Invoice {
        return Err(DocumentError::NotCreditable(invoice.kind));
    }
    if request.is_empty() {
        return Err(DocumentError::NothingSelected);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut lines = Vec::with_capacity(request.len() + 1);
    for &(line_ref, credit) in request {
        if !seen.insert(line_ref) {
            return Err(DocumentError::DuplicateLine(line_ref));
        }
        let invoiced = invoice
            .lines
            .iter()
            .find(|line| line.source == Some(line_ref))
            .ok_or(DocumentError::UnknownLine(line_ref))?;
        let before = credited.get(&Some(line_ref)).copied().unwrap_or_default();
        lines.push(credit_line(invoiced, &before, line_ref, credit)?);
    }

    let mut after = credited.clone();
    for line in &lines {
        after.entry(line.source).or_default().add(line);
    }
    let everything_credited = invoice
        .lines
        .iter()
        .filter(|line| !line.is_rounding())
        .all(|line| {
            let done = after.get(&line.source).copied().unwrap_or_default();
            done.net == line.net && done.vat == line.vat
        });
    if everything_credited {
        for rounding in invoice.lines.iter().filter(|line| line.is_rounding()) {
            let before = credited.get(&None).copied().unwrap_or_default();
            let left = rounding.gross - before.net;
            if !left.is_zero() {
                lines.push(DocumentLine {
                    net: left,
                    gross: left,
                    unit_price: left,
                    ..rounding.clone()
                });
            }
        }
    }
    Ok(assemble(
        DocumentKind::CreditNote,
        invoice.currency.clone(),
        lines,
        everything_credited,
    ))
}

fn credit_line(
    invoiced: &DocumentLine,
    before: &Credited,
    line_ref: LineRef,
    credit: Credit,
) -> Result<DocumentLine, DocumentError> {
    let left_net = invoiced.net - before.net;
    let left_vat = invoiced.vat - before.vat;
    let left_gross = left_net + left_vat;
    match (line_ref, credit) {
        (LineRef::Item(_), Credit::Quantity(quantity)) => {
            let left = invoiced.quantity - before.quantity;
            if quantity <= Decimal::ZERO {
                return Err(DocumentError::NonPositiveQuantity {
                    line: line_ref,
                    name: invoiced.name.clone(),
                    quantity,
                });
            }
            if quantity > left {
                return Err(DocumentError::ExceedsRemaining {
                    line: line_ref,
                    name: invoiced.name.clone(),
                    requested: quantity,
                    remaining: left,
                });
            }
            let (discount, net, vat) = if quantity == left {
                (invoiced.discount - before.discount, left_net, left_vat)
            } else {
                let share =
                    |amount: Decimal| money::round_money(amount * quantity / invoiced.quantity);
                (
                    share(invoiced.discount),
                    share(invoiced.net),
                    share(invoiced.vat),
                )
            };
            Ok(DocumentLine {
                quantity,
                discount,
                net,
                vat,
                gross: net + vat,
                ..invoiced.clone()
            })
        }
        (LineRef::Shipping(_) | LineRef::Fee(_), Credit::Gross(gross)) => {
            let gross = money::round_money(gross);
            if gross <= Decimal::ZERO {
                return Err(DocumentError::NonPositiveQuantity {
                    line: line_ref,
                    name: invoiced.name.clone(),
                    quantity: gross,
                });
            }
            if gross > left_gross {
                return Err(DocumentError::ExceedsRemaining {
                    line: line_ref,
                    name: invoiced.name.clone(),
                    requested: gross,
                    remaining: left_gross,
                });
            }
            // A charge is credited as one charge of the amount given back.
            if gross == left_gross {
                let discount = invoiced.discount - before.discount;
                return Ok(DocumentLine {
                    quantity: Decimal::ONE,
                    unit_price: left_net + discount,
                    discount,
                    net: left_net,
                    vat: left_vat,
                    gross,
                    ..invoiced.clone()
                });
            }
            let vat = money::vat_in_gross(gross, invoiced.vat_rate);
            Ok(DocumentLine {
                quantity: Decimal::ONE,
                unit_price: gross - vat,
                discount: Decimal::ZERO,
                net: gross - vat,
                vat,
                gross,
                ..invoiced.clone()
            })
        }
        (_, _) => Err(DocumentError::WrongCredit(line_ref)),
    }
}

/// What a refund the shop reports credits of `invoice`: each refunded item line by its
/// quantity (found by the platform's line id, else by SKU), and the refunded shipping
/// spread over the invoice's shipping lines in order. Refund lines without a quantity
/// (an amount given back without goods) are left out: they need a person to decide
/// which line they reduce.
///
/// # Errors
///
/// [`DocumentError::RefundLineUnknown`] when a refunded line is not in the order or not
/// on the invoice.
pub fn credit_for_refund(
    order: &NormalizedOrder,
    invoice: &DocumentDraft,
    credited: &CreditedLines,
    refund: &Refund,
) -> Result<Vec<(LineRef, Credit)>, DocumentError> {
    let mut request: Vec<(LineRef, Credit)> = Vec::new();
    for refunded in refund
        .lines
        .iter()
        .filter(|line| line.quantity > Decimal::ZERO)
    {
        let position = order.lines.iter().position(|line| {
            match (&refunded.platform_line_id, &line.platform_line_id) {
                (Some(refunded), Some(ordered)) => refunded == ordered,
                _ => refunded.sku.is_some() && refunded.sku == line.sku,
            }
        });
        let describe = || {
            refunded
                .platform_line_id
                .clone()
                .or_else(|| refunded.sku.clone())
                .unwrap_or_else(|| "a line without id or SKU".into())
        };
        let line_ref = position
            .and_then(|n| u32::try_from(n).ok())
            .map(LineRef::Item)
            .filter(|line_ref| {
                invoice
                    .lines
                    .iter()
                    .any(|line| line.source == Some(*line_ref))
            })
            .ok_or_else(|| DocumentError::RefundLineUnknown(describe()))?;
        match request
            .iter_mut()
            .find(|(existing, _)| *existing == line_ref)
        {
            Some((_, Credit::Quantity(quantity))) => *quantity += refunded.quantity,
            _ => request.push((line_ref, Credit::Quantity(refunded.quantity))),
        }
    }
    let mut shipping = money::round_money(refund.shipping);
    for line in &invoice.lines {
        if shipping <= Decimal::ZERO {
            break;
        }
        let Some(line_ref @ LineRef::Shipping(_)) = line.source else {
            continue;
        };
        let before = credited.get(&Some(line_ref)).copied().unwrap_or_default();
        let left = line.gross - before.net - before.vat;
        let take = shipping.min(left);
        if take > Decimal::ZERO {
            request.push((line_ref, Credit::Gross(take)));
            shipping -= take;
        }
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::document::draft_document;
    use crate::order::RefundLine;
    use crate::test_support::{d, order};

    fn invoice() -> DocumentDraft {
        draft_document(DocumentKind::Invoice, &order(), None, &[]).unwrap()
    }

    fn refund(lines: &[(&str, &str)], shipping: &str, restock: bool) -> Refund {
        Refund {
            platform_id: Some("r1".into()),
            amount: d("0"),
            reason: None,
            created_at: None,
            lines: lines
                .iter()
                .map(|(id, quantity)| RefundLine {
                    platform_line_id: Some((*id).into()),
                    sku: None,
                    quantity: d(quantity),
                    amount: d("0"),
                })
                .collect(),
            shipping: d(shipping),
            restock,
        }
    }

    #[test]
    fn a_refunded_line_is_credited_at_the_invoiced_price() {
        let invoice = invoice();
        let request = credit_for_refund(
            &order(),
            &invoice,
            &CreditedLines::new(),
            &refund(&[("11", "1")], "0", true),
        )
        .unwrap();
        assert_eq!(request, [(LineRef::Item(0), Credit::Quantity(d("1")))]);
        let note = draft_credit_note(&invoice, &CreditedLines::new(), &request).unwrap();
        assert_eq!(note.kind, DocumentKind::CreditNote);
        assert_eq!(note.lines.len(), 1);
        // Half of the mug line: 2 × 10.00 − 1.00 discount = 19.00 net, 4.18 VAT.
        assert_eq!(note.lines[0].quantity, d("1"));
        assert_eq!(note.lines[0].net, d("9.50"));
        assert_eq!(note.lines[0].vat, d("2.09"));
        assert_eq!(note.totals.gross, d("11.59"));
        assert!(!note.covers_whole_order);
    }

    #[test]
    fn the_rest_of_a_line_takes_exactly_what_is_left() {
        let invoice = invoice();
        let tea = [(LineRef::Item(1), Credit::Quantity(d("1")))];
        let first = draft_credit_note(&invoice, &CreditedLines::new(), &tea).unwrap();
        let credited = credited_so_far([&first]);
        let second = draft_credit_note(
            &invoice,
            &credited,
            &[(LineRef::Item(1), Credit::Quantity(d("2")))],
        )
        .unwrap();
        let invoiced = invoice
            .lines
            .iter()
            .find(|l| l.source == Some(LineRef::Item(1)))
            .unwrap();
        assert_eq!(first.lines[0].net + second.lines[0].net, invoiced.net);
        assert_eq!(first.lines[0].vat + second.lines[0].vat, invoiced.vat);
        let credited = credited_so_far([&first, &second]);
        let third = draft_credit_note(&invoice, &credited, &tea);
        assert_eq!(
            third,
            Err(DocumentError::ExceedsRemaining {
                line: LineRef::Item(1),
                name: "Tea".into(),
                requested: d("1"),
                remaining: d("0"),
            })
        );
    }

    #[test]
    fn shipping_is_credited_by_amount_never_more_than_invoiced() {
        let invoice = invoice();
        let part = [(LineRef::Shipping(0), Credit::Gross(d("2.00")))];
        let note = draft_credit_note(&invoice, &CreditedLines::new(), &part).unwrap();
        assert_eq!(note.lines[0].gross, d("2.00"));
        assert_eq!(note.lines[0].vat, d("0.36"));
        let credited = credited_so_far([&note]);
        let too_much = [(LineRef::Shipping(0), Credit::Gross(d("3.01")))];
        assert!(matches!(
            draft_credit_note(&invoice, &credited, &too_much),
            Err(DocumentError::ExceedsRemaining { .. })
        ));
        let rest = [(LineRef::Shipping(0), Credit::Gross(d("3.00")))];
        let last = draft_credit_note(&invoice, &credited, &rest).unwrap();
        assert_eq!(last.totals.gross, d("3.00"));
        // The parts add up to the invoiced 4.10 + 0.90 exactly.
        assert_eq!(note.lines[0].net + last.lines[0].net, d("4.10"));
        assert_eq!(note.lines[0].vat + last.lines[0].vat, d("0.90"));
    }

    #[test]
    fn the_whole_invoice_credited_adds_up_to_it_rounding_included() {
        let mut o = order();
        // The shop's total is a cent off: the invoice carries a rounding line.
        o.total = d("43.27");
        let invoice = draft_document(DocumentKind::Invoice, &o, None, &[]).unwrap();
        assert!(invoice.lines.iter().any(DocumentLine::is_rounding));
        let everything = [
            (LineRef::Item(0), Credit::Quantity(d("2"))),
            (LineRef::Item(1), Credit::Quantity(d("3"))),
            (LineRef::Shipping(0), Credit::Gross(d("5.00"))),
        ];
        let note = draft_credit_note(&invoice, &CreditedLines::new(), &everything).unwrap();
        assert_eq!(note.totals, invoice.totals);
        assert_eq!(note.vat_recap, invoice.vat_recap);
        assert!(note.covers_whole_order);
    }

    #[test]
    fn wrong_requests_are_refused() {
        let invoice = invoice();
        let none = CreditedLines::new();
        assert_eq!(
            draft_credit_note(&invoice, &none, &[]),
            Err(DocumentError::NothingSelected)
        );
        assert_eq!(
            draft_credit_note(
                &invoice,
                &none,
                &[(LineRef::Item(9), Credit::Quantity(d("1")))]
            ),
            Err(DocumentError::UnknownLine(LineRef::Item(9)))
        );
        assert_eq!(
            draft_credit_note(
                &invoice,
                &none,
                &[(LineRef::Item(0), Credit::Gross(d("1")))]
            ),
            Err(DocumentError::WrongCredit(LineRef::Item(0)))
        );
        assert!(matches!(
            draft_credit_note(
                &invoice,
                &none,
                &[(LineRef::Item(0), Credit::Quantity(d("0")))]
            ),
            Err(DocumentError::NonPositiveQuantity { .. })
        ));
        let twice = [
            (LineRef::Item(0), Credit::Quantity(d("1"))),
            (LineRef::Item(0), Credit::Quantity(d("1"))),
        ];
        assert_eq!(
            draft_credit_note(&invoice, &none, &twice),
            Err(DocumentError::DuplicateLine(LineRef::Item(0)))
        );
        let note = draft_document(DocumentKind::DeliveryNote, &order(), None, &[]).unwrap();
        assert_eq!(
            draft_credit_note(
                &note,
                &none,
                &[(LineRef::Item(0), Credit::Quantity(d("1")))]
            ),
            Err(DocumentError::NotCreditable(DocumentKind::DeliveryNote))
        );
        assert!(matches!(
            credit_for_refund(&order(), &invoice, &none, &refund(&[("99", "1")], "0", false)),
            Err(DocumentError::RefundLineUnknown(id)) if id == "99"
        ));
    }

    #[test]
    fn refunded_shipping_goes_to_the_shipping_lines() {
        let invoice = invoice();
        let request = credit_for_refund(
            &order(),
            &invoice,
            &CreditedLines::new(),
            &refund(&[], "9.99", false),
        )
        .unwrap();
        // Only 5.00 of shipping was invoiced.
        assert_eq!(request, [(LineRef::Shipping(0), Credit::Gross(d("5.00")))]);
    }

    proptest! {
        /// However an item line is credited in parts, the parts never exceed it and
        /// the last one makes them add up to it exactly.
        #[test]
        fn parts_of_a_line_add_up_to_it(parts in prop::collection::vec(1u32..3, 1..6)) {
            let invoice = invoice();
            let mut notes: Vec<DocumentDraft> = Vec::new();
            let mut left = 3u32;
            for part in parts {
                let take = part.min(left);
                if take == 0 {
                    break;
                }
                let credited = credited_so_far(notes.iter());
                let request = [(LineRef::Item(1), Credit::Quantity(Decimal::from(take)))];
                notes.push(draft_credit_note(&invoice, &credited, &request).unwrap());
                left -= take;
            }
            let credited = credited_so_far(notes.iter());
            let done = credited[&Some(LineRef::Item(1))];
            let invoiced = invoice.lines.iter().find(|l| l.source == Some(LineRef::Item(1))).unwrap();
            prop_assert!(done.net <= invoiced.net && done.vat <= invoiced.vat);
            if left == 0 {
                prop_assert_eq!(done.net, invoiced.net);
                prop_assert_eq!(done.vat, invoiced.vat);
            }
        }
    }
}
