//! Invoices and delivery notes drafted from an order (docs/architecture.md, flow 2).
//!
//! [`draft_document`] turns an order (and what was already issued from it) into a
//! [`DocumentDraft`]: lines with net, VAT and gross amounts, the VAT recap per rate and
//! the totals, ready for the storage to number ([`DocumentNumber`]) and persist.
//! [`reverse`] drafts the cancellation of an issued document, [`draft_credit_note`] a
//! credit note of part or all of an invoice (by hand, or [`credit_for_refund`] from a
//! refund the shop reports).

mod credit;
mod draft;
mod number;

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use credit::{
    Credit, Credited, CreditedLines, credit_for_refund, credited_so_far, draft_credit_note,
};
pub use draft::{ROUNDING_LINE_NAME, ROUNDING_TOLERANCE_PER_LINE, draft_document, reverse};
pub use number::{DocumentNumber, DocumentNumberError};

/// What kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// An invoice: goods plus shipping and fees.
    Invoice,
    /// A delivery note: goods only.
    DeliveryNote,
    /// A credit note: part or all of an invoice given back, in its own series.
    CreditNote,
}

impl DocumentKind {
    /// The snake_case name used in JSON and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::DeliveryNote => "delivery_note",
            Self::CreditNote => "credit_note",
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invoice => "invoice",
            Self::DeliveryNote => "delivery note",
            Self::CreditNote => "credit note",
        })
    }
}

/// A line of an order, by its position in one of the order's lists.
///
/// Positions are stable for as long as documents refer to them: issuing a document
/// touches the order, and a touched order's content is never overwritten by the shop
/// (see [`crate::import::decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineRef {
    /// `order.lines[n]`.
    Item(u32),
    /// `order.shipping_lines[n]`.
    Shipping(u32),
    /// `order.fees[n]`.
    Fee(u32),
}

impl fmt::Display for LineRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Item(n) => write!(f, "lines[{n}]"),
            Self::Shipping(n) => write!(f, "shipping_lines[{n}]"),
            Self::Fee(n) => write!(f, "fees[{n}]"),
        }
    }
}

/// One line of a document. Amounts are in the order's currency, rounded to cents except
/// `unit_price`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentLine {
    /// The order line it comes from; `None` for the rounding line.
    pub source: Option<LineRef>,
    /// SKU of the ordered item, for item lines.
    pub sku: Option<String>,
    /// What is sold.
    pub name: String,
    /// Quantity on this document (negative on a cancellation).
    pub quantity: Decimal,
    /// Net price of one unit before discount. Derived from the gross price (to 4
    /// places) when the order's prices include tax.
    pub unit_price: Decimal,
    /// Net discount for this quantity.
    pub discount: Decimal,
    /// VAT rate in percent.
    pub vat_rate: Decimal,
    /// Net amount after discount.
    pub net: Decimal,
    /// VAT on `net`.
    pub vat: Decimal,
    /// `net + vat`.
    pub gross: Decimal,
}

impl DocumentLine {
    /// Whether this is the rounding line.
    pub fn is_rounding(&self) -> bool {
        self.source.is_none()
    }
}

/// VAT recap of one rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VatRecap {
    /// VAT rate in percent.
    pub rate: Decimal,
    /// Sum of the net amounts at this rate.
    pub base: Decimal,
    /// Sum of the VAT at this rate.
    pub vat: Decimal,
    /// `base + vat`.
    pub gross: Decimal,
}

/// Totals of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentTotals {
    /// Sum of the net amounts (rounding line excluded).
    pub net: Decimal,
    /// Sum of the VAT.
    pub vat: Decimal,
    /// The rounding line's amount, zero without one.
    pub rounding: Decimal,
    /// What the document is for: `net + vat + rounding`.
    pub gross: Decimal,
}

/// A document ready to be numbered and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentDraft {
    /// Invoice or delivery note.
    pub kind: DocumentKind,
    /// The order's currency.
    pub currency: String,
    /// Item lines by position, then shipping, fees and the rounding line.
    pub lines: Vec<DocumentLine>,
    /// Per VAT rate, ascending; the rounding line is outside VAT.
    pub vat_recap: Vec<VatRecap>,
    /// Totals.
    pub totals: DocumentTotals,
    /// Whether this one document carries the whole order (nothing issued before,
    /// nothing left after). Only such invoices get a rounding line.
    pub covers_whole_order: bool,
}

impl DocumentDraft {
    /// The order-line quantities this document accounts for, for the storage to record
    /// per line (charges count 1). Summing them over every document of a kind,
    /// cancellations included, gives the `already_issued` of the next draft.
    pub fn issued_quantities(&self) -> Vec<(LineRef, Decimal)> {
        self.lines
            .iter()
            .filter_map(|line| line.source.map(|source| (source, line.quantity)))
            .collect()
    }
}

/// Why a document cannot be drafted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The selection or the issued quantities name a line the order does not have.
    #[error("{0} does not exist in this order")]
    UnknownLine(LineRef),
    /// Shipping and fees are not selected: they go on the first invoice by themselves.
    #[error(
        "{0} is a charge: charges go on the first invoice by themselves and cannot be selected"
    )]
    NotSelectable(LineRef),
    /// The selection names a line twice.
    #[error("{0} is selected more than once")]
    DuplicateLine(LineRef),
    /// A selected quantity is zero or negative.
    #[error("{line} ({name}): the quantity must be positive, not {quantity}")]
    NonPositiveQuantity {
        /// The line.
        line: LineRef,
        /// Its name.
        name: String,
        /// The quantity asked for.
        quantity: Decimal,
    },
    /// A selected quantity is more than what is left of the line.
    #[error("{line} ({name}): {requested} requested, but only {remaining} left")]
    ExceedsRemaining {
        /// The line.
        line: LineRef,
        /// Its name.
        name: String,
        /// The quantity asked for.
        requested: Decimal,
        /// Ordered minus already issued.
        remaining: Decimal,
    },
    /// An empty selection.
    #[error("no lines selected")]
    NothingSelected,
    /// Everything of the order is already on documents of this kind.
    #[error("nothing is left to put on a {0}")]
    NothingLeft(DocumentKind),
    /// The already issued quantity of a line is negative or more than ordered: the
    /// caller's records are inconsistent.
    #[error("{line}: {issued} recorded as issued, but {ordered} ordered")]
    InconsistentIssued {
        /// The line.
        line: LineRef,
        /// The issued quantity passed in.
        issued: Decimal,
        /// The quantity ordered (1 for a charge).
        ordered: Decimal,
    },
    /// The computed total is too far from the shop's total for a rounding line to
    /// bridge: the order's amounts do not add up.
    #[error(
        "the document adds up to {computed}, the order to {order_total}: a difference of {difference} is more than rounding ({tolerance})"
    )]
    RoundingTooLarge {
        /// The document's total before rounding.
        computed: Decimal,
        /// The shop's order total.
        order_total: Decimal,
        /// `order_total − computed`.
        difference: Decimal,
        /// The most a rounding line may carry for this document.
        tolerance: Decimal,
    },
    /// A credit note is drafted from an invoice ([`draft_credit_note`]), not an order.
    #[error("a credit note is issued for an invoice, not drafted from the order")]
    CreditNoteNeedsInvoice,
    /// Only invoices are credited.
    #[error("a {0} cannot be credited: credit notes are issued for invoices")]
    NotCreditable(DocumentKind),
    /// Items are credited by quantity, charges by amount.
    #[error("{0}: items are credited by quantity, shipping and fees by amount")]
    WrongCredit(LineRef),
    /// A refunded line is not in the order, or not on the invoice being credited.
    #[error("the refunded line {0} is not on the invoice")]
    RefundLineUnknown(String),
    /// An amount, quantity or tax rate of the order is outside what
    /// [`crate::order::validate`] accepts (magnitude, positive quantities, 0–100 %).
    #[error("{0} is out of range")]
    InvalidAmount(String),
}

#[cfg(test)]
mod tests;
