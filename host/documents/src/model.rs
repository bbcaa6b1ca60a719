//! What a printed or exported document shows: everything the renderers need, already
//! decided. The server assembles it from the stored document, the order and the
//! company's profile; renderers only lay it out.

use rust_decimal::Decimal;
use time::Date;
use tovor_domain::document::{DocumentTotals, VatRecap};

/// The language of a document's fixed texts (headings, labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Slovenian.
    #[default]
    Sl,
    /// English.
    En,
}

/// What kind of document is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintKind {
    /// An invoice (`Račun`).
    Invoice,
    /// A delivery note (`Dobavnica`): goods and quantities, prices only when asked.
    DeliveryNote,
    /// A credit note (`Dobropis`) for part or all of an invoice, in
    /// [`Printable::refers_to`].
    CreditNote,
    /// The cancellation (`Storno`) of the document in [`Printable::refers_to`]: its
    /// lines with negative quantities.
    Cancellation,
}

/// A company or person on a document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    /// Legal name, or the person's name.
    pub name: String,
    /// Street and number, and any further address lines, in order.
    pub address_lines: Vec<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, upper case (`SI`).
    pub country: String,
    /// VAT identification number with its country prefix (`SI12345678`), when the
    /// party has one.
    pub vat_id: Option<String>,
    /// Company registration number (`matična številka`).
    pub registration_number: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The company's logo, drawn in the letterhead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logo {
    /// PNG bytes.
    Png(Vec<u8>),
    /// JPEG bytes.
    Jpeg(Vec<u8>),
}

/// The issuing company: its party data, bank account and letterhead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seller {
    pub party: Party,
    /// IBAN without spaces (`SI56191000000123438`).
    pub iban: Option<String>,
    /// BIC of the IBAN's bank.
    pub bic: Option<String>,
    pub logo: Option<Logo>,
    /// Text printed at the foot of every page (registration court, capital, …).
    pub footer: Option<String>,
}

/// How the buyer pays, as far as the e-invoice's payment means (UNCL 4461) and the
/// printed payment instructions need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaymentMeans {
    /// A (SEPA) credit transfer to the seller's IBAN: the default for an unpaid
    /// invoice.
    #[default]
    CreditTransfer,
    /// Cash collected by the carrier on delivery.
    CashOnDelivery,
    /// A payment card, taken by the shop at checkout.
    Card,
    /// Anything else the shop took at checkout (PayPal, a voucher, …).
    Other,
}

/// How and by when the document is paid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaymentDetails {
    /// The payment method's name as the company calls it (`Po povzetju`, `Card`).
    pub method: Option<String>,
    pub means: PaymentMeans,
    /// Whether it is paid already (then no payment code is printed).
    pub paid: bool,
    /// When payment is due.
    pub due_on: Option<Date>,
    /// The creditor reference the buyer quotes: `SI00 …` (Slovenian model 00) or
    /// `RF…` (ISO 11649), already with its check digits.
    pub reference: Option<String>,
    /// The payment's purpose (UPN field "Namen"), e.g. `Plačilo računa 2026-00042`.
    pub purpose: String,
}

/// The document a credit note or cancellation refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub number: String,
    pub issued_on: Date,
}

/// One printed line. Amounts are in the document's currency; negative on a
/// cancellation or credit note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintLine {
    pub sku: Option<String>,
    pub name: String,
    pub quantity: Decimal,
    /// Unit of measure as UN/ECE Recommendation 20 code (`C62` one/piece, `H87`
    /// piece, `KGM` kilogram); renderers print its name in the document's language.
    pub unit: String,
    /// Net price of one unit before discount.
    pub unit_price: Decimal,
    /// Net discount for this line's quantity (positive means less to pay).
    pub discount: Decimal,
    /// VAT rate in percent.
    pub vat_rate: Decimal,
    /// Net amount after discount.
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
    /// The rounding line (outside VAT).
    pub is_rounding: bool,
}

/// A document ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Printable {
    pub kind: PrintKind,
    /// The document's number (`2026-00042`).
    pub number: String,
    /// The day of issue, in the company's time zone.
    pub issued_on: Date,
    /// The day the goods were delivered or the service done, when it differs from
    /// the day of issue.
    pub delivered_on: Option<Date>,
    pub language: Language,
    /// ISO 4217 (`EUR`).
    pub currency: String,
    pub seller: Seller,
    pub buyer: Party,
    /// Where the goods go, when not to the buyer's address.
    pub ship_to: Option<Party>,
    /// The shop's order number.
    pub order_number: Option<String>,
    pub payment: PaymentDetails,
    /// For a credit note or cancellation: the document it corrects.
    pub refers_to: Option<Reference>,
    pub lines: Vec<PrintLine>,
    /// Per VAT rate, ascending.
    pub vat_recap: Vec<VatRecap>,
    pub totals: DocumentTotals,
    /// Whether prices are shown: always on invoices and credit notes; on a delivery
    /// note only when asked.
    pub show_prices: bool,
    /// A free note printed above the lines.
    pub note: Option<String>,
}
