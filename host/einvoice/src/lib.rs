//! E-invoices: a [`tovor_documents::Printable`] invoice or credit note as e-SLOG 2.0
//! ([`eslog`]) and as UBL 2.1 following Peppol BIS Billing 3.0 ([`ubl`]).
//!
//! Both are syntaxes of the European norm EN 16931. The document is first read into the
//! norm's business terms (module `semantic`, the `BT-n` numbers in comments and errors
//! are the norm's), checked and completed once, then written in either syntax, so the
//! two carry the same content.
//!
//! # What each format carries
//!
//! Both: number, dates of issue and delivery, currency, the note, seller (name,
//! address, VAT identifier, registration number, footer as additional legal
//! information, contact), buyer (the same, VAT identifier when it has one), deliver-to
//! party, the order number, for a credit note the invoice it corrects, payment
//! instructions (means, IBAN and BIC, creditor reference, due date, terms), every line
//! (name, SKU, quantity and unit, price, discount, VAT category and rate, net amount),
//! the VAT breakdown per category and rate, and the totals.
//!
//! - **UBL** ([`ubl`]): `Invoice` (type 380) or `CreditNote` (381), with Peppol's
//!   identifiers ([`PEPPOL_CUSTOMIZATION_ID`], [`PEPPOL_PROFILE_ID`]) and electronic
//!   addresses for seller and buyer, as a Peppol access point takes it.
//! - **e-SLOG 2.0** ([`eslog`]): the Slovenian syntax (namespace
//!   [`ESLOG_NAMESPACE`]) that the public payments administration (UJP) and Slovenian
//!   B2B exchanges take; it also carries each line's VAT and amount with VAT, as
//!   e-SLOG's national fields. It needs no electronic addresses, so it also serves a
//!   buyer without a VAT identifier.
//!
//! # Decisions
//!
//! - **Kinds.** An invoice is type 380. A credit note and a cancellation (storno) are
//!   both credit notes, 381, referring to the corrected invoice (BT-25, BT-26). A
//!   delivery note is no invoice: [`EInvoiceError::NotAnInvoice`].
//! - **Signs.** The model keeps what a credit note takes back as negative quantities
//!   and amounts. EN 16931 marks crediting by the document type alone; amounts are as
//!   credited (Peppol BIS 3, "When crediting by means of credit note"). So a credit
//!   note's quantities and amounts are the model's negated, positive for the usual
//!   credit note; prices stay positive (BR-27), a negative price becomes a negative
//!   quantity of a positive price.
//! - **Discounts** are line allowances (BG-27, reason code 95 "Discount") on the price
//!   before discount, so a line's net is quantity × price − allowance (Peppol rule
//!   PEPPOL-EN16931-R120, slack 0.02) with the model's own figures; a negative
//!   discount is a line charge. Where the model's rounded unit price is more than a
//!   cent off over the quantity, the price is restated from the net (to 6 decimals).
//! - **Shipping and fees** are lines like any other; there are no document level
//!   allowances or charges, so the total without VAT (BT-109) is the sum of the lines
//!   (BT-106).
//! - **Rounding.** Every amount has two decimals. The rounding line is not a line but
//!   the rounding amount (BT-114, UBL `PayableRoundingAmount`, e-SLOG `MOA` 366).
//! - **VAT** per category and rate: the taxable amount is the sum of the lines; the
//!   VAT is the model's recap, which sums each line's rounded VAT as printed. EN 16931
//!   computes it once per group, but accepts a difference below one unit (BR-CO-17,
//!   BR-S-09); keeping the printed VAT keeps the e-invoice's VAT and total equal to the
//!   printed document's. A difference over half a cent per line is refused as
//!   [`EInvoiceError::Inconsistent`], as are recap and totals that do not add up.
//! - **VAT category** ([`vat_category`]): `S` above 0 %; at 0 % `G` (export) to a buyer
//!   outside the EU, `K` (intra-community supply) to a buyer with a VAT identifier in
//!   another member state, `Z` otherwise (an exemption `E` would need a reason the
//!   model does not have). `K` and `G` carry reason codes `VATEX-EU-IC` and
//!   `VATEX-EU-G`.
//! - **Paid documents** carry the paid amount (BT-113) equal to the total, so the
//!   amount due (BT-115) is zero.
//! - **Payment means** (UNCL 4461): credit transfer 58 (SEPA, euro) or 30, with the
//!   seller's IBAN (required unless paid, BR-61); cash on delivery 10; card 48; other
//!   `ZZZ`; the company's name for the method is the means text (BT-82) and, where no
//!   due date (BT-9) is given, the payment terms (BT-20), which EN 16931 requires when
//!   an amount is due (BR-CO-25). Credit notes carry no payment means: a refund goes to
//!   the buyer's account, which the model does not have; their terms are the method or
//!   the payment's purpose.
//! - **References.** The shop's order number is the order reference (BT-13); without
//!   one, the buyer's name is the buyer reference (BT-10), which Peppol allows.
//! - **Peppol addresses.** The seller's and buyer's electronic addresses are their VAT
//!   identifiers under the country's Peppol scheme (`9949` for Slovenia). Peppol has no
//!   e-mail scheme, so a buyer without a VAT identifier cannot get a UBL invoice:
//!   [`EInvoiceError::NoElectronicAddress`].
//!
//! Missing data EN 16931 requires is an [`EInvoiceError::Missing`] naming the business
//! term. Sources for every code are cited where it is used.

mod codes;
mod eslog;
mod semantic;
mod ubl;
mod xml;

#[cfg(test)]
mod tests;

use tovor_documents::Printable;

pub use codes::{VatCategory, vat_category};
pub use eslog::ESLOG_NAMESPACE;
pub use ubl::{PEPPOL_CUSTOMIZATION_ID, PEPPOL_PROFILE_ID};

/// `doc` as an e-SLOG 2.0 invoice (`<Invoice xmlns="urn:eslog:2.00">`), UTF-8 text.
pub fn eslog(doc: &Printable) -> Result<String, EInvoiceError> {
    eslog::write(&semantic::Semantic::from_printable(doc)?)
}

/// `doc` as a UBL 2.1 `Invoice` or `CreditNote` following Peppol BIS Billing 3.0,
/// UTF-8 text.
pub fn ubl(doc: &Printable) -> Result<String, EInvoiceError> {
    ubl::write(&semantic::Semantic::from_printable(doc)?)
}

/// Why a document cannot be an e-invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EInvoiceError {
    /// A delivery note: e-invoices are invoices and credit notes.
    #[error("a delivery note is not an invoice and has no e-invoice")]
    NotAnInvoice,
    /// Data EN 16931 requires is missing; the business term it would fill.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A value does not have the form its code list or format requires.
    #[error("{term} {value:?} is not {expected}")]
    Invalid {
        /// The business term.
        term: &'static str,
        /// The value given.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A party has no electronic address that Peppol accepts.
    #[error("{term}: {reason}")]
    NoElectronicAddress {
        /// BT-34 (seller) or BT-49 (buyer).
        term: &'static str,
        /// Why there is none.
        reason: String,
    },
    /// The document's stored figures do not add up.
    #[error("the document does not add up: {0}")]
    Inconsistent(String),
    /// A text is longer than e-SLOG's field for it.
    #[error("{term} is longer than e-SLOG allows ({max})")]
    TooLong {
        /// The business term.
        term: &'static str,
        /// The limit.
        max: &'static str,
    },
    /// Writing the XML failed.
    #[error("writing the XML failed: {0}")]
    Xml(String),
}
