//! Business documents as files people print, send and file.
//!
//! The host keeps a document as data (lines, VAT recap and totals drafted by
//! `tovor_domain::document`); this crate turns one, with the company's profile and the
//! buyer, into what leaves the company: a PDF (module `pdf`) carrying, on an unpaid
//! invoice, the UPN QR payment code (module `upn`). The input is [`model::Printable`],
//! plain data that the server assembles from the store; nothing here reads a database,
//! a clock or a file.
//!
//! Modules:
//! - [`model`]: the input, [`Printable`] and its parts.
//! - `pdf` ([`render_pdf`], [`render_many`]): A4 pages with the letterhead (logo, the
//!   company's VAT ID, registration number, IBAN and BIC), buyer and ship-to, the title
//!   and dates, the lines table continued over pages with its header repeated and
//!   "Stran 1/2" / "Page 1/2" numbering, the VAT recap per rate, the totals with any
//!   rounding, the company's footer on every page, and the UPN QR code on an invoice
//!   that is unpaid, payable by credit transfer to the company's IBAN and positive.
//!   Rendering is CPU-bound and synchronous: call it from a blocking task.
//! - [`upn`]: the UPN QR payment code of the Bank Association of Slovenia: its content
//!   ([`upn::payload`]), its symbol ([`upn::qr_matrix`]) and payment references
//!   ([`upn::rf_reference`], [`upn::si00_reference`], [`upn::check_reference`]).
//! - `text`: every fixed text in Slovenian and English, and the names of UN/ECE
//!   Recommendation 20 units (`C62` → "kos" / "pcs").
//! - `format`: numbers and dates per language: `1.234,56 €` and `3. 12. 2026` in
//!   Slovenian, `€1,234.56` and `3 December 2026` in English; amounts with two
//!   decimals, quantities without trailing zeros.

pub mod model;
mod pdf;
pub mod upn;

pub mod format;
mod text;

pub use model::{
    Language, Logo, Party, PaymentDetails, PaymentMeans, PrintKind, PrintLine, Printable,
    Reference, Seller,
};
pub use pdf::{PdfError, render_many, render_pdf};
