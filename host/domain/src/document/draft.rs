//! Drafting documents from an order.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{
    DocumentDraft, DocumentError, DocumentKind, DocumentLine, DocumentTotals, LineRef, VatRecap,
};
use crate::money;
use crate::order::{ChargeLine, LineItem, NormalizedOrder};

/// The name of the rounding line; the storage or the UI may translate it (it is the
/// line whose `source` is `None`).
pub const ROUNDING_LINE_NAME: &str = "Rounding";

/// How much a rounding line may carry per priced line of the document: one cent for the
/// shop's rounding of the line amount and one for its rounding of the line's tax.
pub const ROUNDING_TOLERANCE_PER_LINE: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

/// Drafts an invoice or delivery note from `order`.
///
/// `already_issued` lists what documents of the same `kind` already carry, per order
/// line; entries for one line add up, so the storage may pass every issued document's
/// [`DocumentDraft::issued_quantities`], cancellations (negative) included.
///
/// **Which lines.** With `selection` `None`, every item quantity not yet issued. With a
/// selection, exactly the given item quantities, each positive and at most what is
/// left of its line (partial deliveries); lines may not repeat, and must be item lines.
///
/// **Shipping and fees** go on invoices only (a delivery note lists goods), and there on
/// the first invoice: every charge not yet invoiced is added to the invoice being
/// drafted, with or without a selection. After a cancellation of that invoice, the next
/// one carries them again.
///
/// **Amounts.** Money is rounded to cents half away from zero
/// ([`money::round_money`]), per line. Net prices: net = quantity × unit price −
/// discount, VAT = net × rate. Gross prices (`prices_include_tax`): gross = quantity ×
/// unit price − discount, VAT = the part of it at the rate, net = gross − VAT. A part
/// of a line gets the difference of the line's amount through all quantities issued
/// after it and through those issued before it, so the parts of a line always add up to
/// the whole line to the cent, whatever the split. A line without a tax rate uses the
/// rate derived from its tax and total ([`LineItem::effective_tax_rate`]).
///
/// **Rounding line.** When one invoice covers the whole order (nothing issued before,
/// nothing left after) and its computed total differs from the shop's `total`, a line
/// with the difference (no VAT) makes the document match the shop to the cent; a
/// difference above [`ROUNDING_TOLERANCE_PER_LINE`] per priced line is refused as
/// [`DocumentError::RoundingTooLarge`], because it means the order's amounts do not add
/// up rather than that they were rounded differently. Partial invoices carry no
/// rounding line: each is correct on its own, and their sum differs from the shop's
/// total by at most the same rounding.
pub fn draft_document(
    kind: DocumentKind,
    order: &NormalizedOrder,
    selection: Option<&[(LineRef, Decimal)]>,
    already_issued: &[(LineRef, Decimal)],
) -> Result<DocumentDraft, DocumentError> {
    if kind == DocumentKind::CreditNote {
        return Err(DocumentError::CreditNoteNeedsInvoice);
    }
    check_magnitudes(order)?;
    let issued = issued_so_far(order, already_issued)?;
    let issued_of = |line: LineRef| issued.get(&line).copied().unwrap_or_default();
    let remaining_of = |position: usize, line: &LineItem| {
        line.quantity - issued_of(LineRef::Item(position_ref(position)))
    };

    // Item quantities on this document, by position.
    let mut quantities: BTreeMap<usize, Decimal> = BTreeMap::new();
    match selection {
        None => {
            for (position, line) in order.lines.iter().enumerate() {
                let remaining = remaining_of(position, line);
                if remaining > Decimal::ZERO {
                    quantities.insert(position, remaining);
                }
            }
        }
        Some([]) => return Err(DocumentError::NothingSelected),
        Some(selected) => {
            for &(line_ref, quantity) in selected {
                let LineRef::Item(position) = line_ref else {
                    item_or_charge(order, line_ref)?;
                    return Err(DocumentError::NotSelectable(line_ref));
                };
                let position = position as usize;
                let line = order
                    .lines
                    .get(position)
                    .ok_or(DocumentError::UnknownLine(line_ref))?;
                if quantities.contains_key(&position) {
                    return Err(DocumentError::DuplicateLine(line_ref));
                }
                if quantity <= Decimal::ZERO {
                    return Err(DocumentError::NonPositiveQuantity {
                        line: line_ref,
                        name: line.name.clone(),
                        quantity,
                    });
                }
                let remaining = remaining_of(position, line);
                if quantity > remaining {
                    return Err(DocumentError::ExceedsRemaining {
                        line: line_ref,
                        name: line.name.clone(),
                        requested: quantity,
                        remaining,
                    });
                }
                quantities.insert(position, quantity);
            }
        }
    }

    let charges: Vec<(LineRef, &ChargeLine)> = match kind {
        DocumentKind::DeliveryNote | DocumentKind::CreditNote => Vec::new(),
        DocumentKind::Invoice => charge_refs(order)
            .filter(|(line_ref, _)| issued_of(*line_ref).is_zero())
            .collect(),
    };
    if quantities.is_empty() && charges.is_empty() {
        return Err(DocumentError::NothingLeft(kind));
    }

    let mut lines = Vec::with_capacity(quantities.len() + charges.len() + 1);
    for (&position, &quantity) in &quantities {
        let line = &order.lines[position];
        let before = issued_of(LineRef::Item(position_ref(position)));
        lines.push(item_line(order, position, line, before, quantity));
    }
    for (line_ref, charge) in &charges {
        lines.push(charge_line(*line_ref, charge));
    }

    let nothing_issued_before = issued.values().all(|quantity| quantity.is_zero());
    // A line with nothing left (removed after checkout) is complete without this
    // document naming it.
    let all_items_now = order.lines.iter().enumerate().all(|(position, line)| {
        let remaining = remaining_of(position, line);
        quantities.get(&position).copied().unwrap_or_default() == remaining
    });
    let all_charges_now = match kind {
        DocumentKind::Invoice => charges.len() == order.shipping_lines.len() + order.fees.len(),
        DocumentKind::DeliveryNote | DocumentKind::CreditNote => true,
    };
    let covers_whole_order = nothing_issued_before && all_items_now && all_charges_now;

    if kind == DocumentKind::Invoice && covers_whole_order {
        let priced_lines = lines.len();
        let computed: Decimal = lines.iter().map(|line| line.gross).sum();
        let difference = order.total - computed;
        let tolerance = ROUNDING_TOLERANCE_PER_LINE * Decimal::from(priced_lines.max(1));
        if difference.abs() > tolerance {
            return Err(DocumentError::RoundingTooLarge {
                computed,
                order_total: order.total,
                difference,
                tolerance,
            });
        }
        if !difference.is_zero() {
            lines.push(rounding_line(difference));
        }
    }

    Ok(assemble(
        kind,
        order.currency.clone(),
        lines,
        covers_whole_order,
    ))
}

/// The cancellation of a drafted (issued) document: the same lines with quantities and
/// amounts negated, so the document and its reversal add up to zero line by line.
/// Unit prices and rates stay as they were.
pub fn reverse(draft: &DocumentDraft) -> DocumentDraft {
    let lines = draft
        .lines
        .iter()
        .map(|line| DocumentLine {
            quantity: -line.quantity,
            discount: -line.discount,
            net: -line.net,
            vat: -line.vat,
            gross: -line.gross,
            ..line.clone()
        })
        .collect();
    assemble(
        draft.kind,
        draft.currency.clone(),
        lines,
        draft.covers_whole_order,
    )
}

fn position_ref(position: usize) -> u32 {
    // Orders are validated to far fewer lines than u32::MAX; saturating keeps this total.
    u32::try_from(position).unwrap_or(u32::MAX)
}

fn charge_refs(order: &NormalizedOrder) -> impl Iterator<Item = (LineRef, &ChargeLine)> {
    let shipping = order
        .shipping_lines
        .iter()
        .enumerate()
        .map(|(n, charge)| (LineRef::Shipping(position_ref(n)), charge));
    let fees = order
        .fees
        .iter()
        .enumerate()
        .map(|(n, charge)| (LineRef::Fee(position_ref(n)), charge));
    shipping.chain(fees)
}

/// The quantity ordered of a line (1 for a charge), or `UnknownLine`.
fn item_or_charge(order: &NormalizedOrder, line_ref: LineRef) -> Result<Decimal, DocumentError> {
    let ordered = match line_ref {
        LineRef::Item(n) => order.lines.get(n as usize).map(|line| line.quantity),
        LineRef::Shipping(n) => order.shipping_lines.get(n as usize).map(|_| Decimal::ONE),
        LineRef::Fee(n) => order.fees.get(n as usize).map(|_| Decimal::ONE),
    };
    ordered.ok_or(DocumentError::UnknownLine(line_ref))
}

fn issued_so_far(
    order: &NormalizedOrder,
    already_issued: &[(LineRef, Decimal)],
) -> Result<BTreeMap<LineRef, Decimal>, DocumentError> {
    let mut issued: BTreeMap<LineRef, Decimal> = BTreeMap::new();
    for &(line_ref, quantity) in already_issued {
        item_or_charge(order, line_ref)?;
        if !money::within_magnitude(quantity) {
            return Err(DocumentError::InvalidAmount(format!(
                "issued quantity of {line_ref}"
            )));
        }
        *issued.entry(line_ref).or_default() += quantity;
    }
    for (&line_ref, &quantity) in &issued {
        let ordered = item_or_charge(order, line_ref)?;
        if quantity < Decimal::ZERO || quantity > ordered {
            return Err(DocumentError::InconsistentIssued {
                line: line_ref,
                issued: quantity,
                ordered,
            });
        }
    }
    Ok(issued)
}

fn check_magnitudes(order: &NormalizedOrder) -> Result<(), DocumentError> {
    let check = |field: String, value: Decimal| {
        if money::within_magnitude(value) {
            Ok(())
        } else {
            Err(DocumentError::InvalidAmount(field))
        }
    };
    for (position, line) in order.lines.iter().enumerate() {
        for (name, value) in [
            ("quantity", line.quantity),
            ("unit_price", line.unit_price),
            ("discount", line.discount),
            ("tax_amount", line.tax_amount),
            ("total", line.total),
        ] {
            check(format!("lines[{position}].{name}"), value)?;
        }
        check_rate(
            format!("lines[{position}].tax_rate"),
            line.effective_tax_rate(),
        )?;
        if line.quantity < Decimal::ZERO {
            return Err(DocumentError::InvalidAmount(format!(
                "lines[{position}].quantity"
            )));
        }
    }
    for (line_ref, charge) in charge_refs(order) {
        for (name, value) in [("amount", charge.amount), ("tax_amount", charge.tax_amount)] {
            check(format!("{line_ref}.{name}"), value)?;
        }
        check_rate(format!("{line_ref}.tax_rate"), charge.effective_tax_rate())?;
    }
    check("total".to_owned(), order.total)
}

fn check_rate(field: String, rate: Decimal) -> Result<(), DocumentError> {
    if (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&rate) {
        Ok(())
    } else {
        Err(DocumentError::InvalidAmount(field))
    }
}

/// Amount of a line through the first `through` units, rounded once, so consecutive
/// parts telescope to the whole line.
fn amount_through(line: &LineItem, through: Decimal) -> Decimal {
    money::round_money(through * line.unit_price - line.discount * through / line.quantity)
}

fn discount_through(line: &LineItem, through: Decimal) -> Decimal {
    money::round_money(line.discount * through / line.quantity)
}

fn item_line(
    order: &NormalizedOrder,
    position: usize,
    line: &LineItem,
    before: Decimal,
    quantity: Decimal,
) -> DocumentLine {
    let after = before + quantity;
    let rate = line.effective_tax_rate();
    let amount = amount_through(line, after) - amount_through(line, before);
    let discount = discount_through(line, after) - discount_through(line, before);
    let (unit_price, discount, net, vat) = if order.prices_include_tax {
        let vat = money::vat_in_gross(amount, rate);
        let net_discount = money::round_money(money::net_from_gross(discount, rate));
        (
            money::net_unit_price(line.unit_price, rate),
            net_discount,
            amount - vat,
            vat,
        )
    } else {
        (
            line.unit_price,
            discount,
            amount,
            money::vat_on_net(amount, rate),
        )
    };
    DocumentLine {
        source: Some(LineRef::Item(position_ref(position))),
        sku: line.sku.clone(),
        name: line.name.clone(),
        quantity,
        unit_price,
        discount,
        vat_rate: rate,
        net,
        vat,
        gross: net + vat,
    }
}

fn charge_line(line_ref: LineRef, charge: &ChargeLine) -> DocumentLine {
    let rate = charge.effective_tax_rate();
    let net = money::round_money(charge.amount);
    let vat = money::vat_on_net(net, rate);
    DocumentLine {
        source: Some(line_ref),
        sku: None,
        name: charge.title.clone(),
        quantity: Decimal::ONE,
        unit_price: charge.amount,
        discount: Decimal::ZERO,
        vat_rate: rate,
        net,
        vat,
        gross: net + vat,
    }
}

fn rounding_line(difference: Decimal) -> DocumentLine {
    DocumentLine {
        source: None,
        sku: None,
        name: ROUNDING_LINE_NAME.to_owned(),
        quantity: Decimal::ONE,
        unit_price: difference,
        discount: Decimal::ZERO,
        vat_rate: Decimal::ZERO,
        net: difference,
        vat: Decimal::ZERO,
        gross: difference,
    }
}

pub(super) fn assemble(
    kind: DocumentKind,
    currency: String,
    lines: Vec<DocumentLine>,
    covers_whole_order: bool,
) -> DocumentDraft {
    let mut by_rate: BTreeMap<Decimal, (Decimal, Decimal)> = BTreeMap::new();
    let mut rounding = Decimal::ZERO;
    for line in &lines {
        if line.is_rounding() {
            rounding += line.gross;
        } else {
            let (base, vat) = by_rate.entry(line.vat_rate.normalize()).or_default();
            *base += line.net;
            *vat += line.vat;
        }
    }
    let vat_recap: Vec<VatRecap> = by_rate
        .into_iter()
        .map(|(rate, (base, vat))| VatRecap {
            rate,
            base,
            vat,
            gross: base + vat,
        })
        .collect();
    let net: Decimal = vat_recap.iter().map(|recap| recap.base).sum();
    let vat: Decimal = vat_recap.iter().map(|recap| recap.vat).sum();
    DocumentDraft {
        kind,
        currency,
        lines,
        vat_recap,
        totals: DocumentTotals {
            net,
            vat,
            rounding,
            gross: net + vat + rounding,
        },
        covers_whole_order,
    }
}
