//! The document in EN 16931's terms: what both syntaxes carry, decided once.
//!
//! [`Semantic::from_printable`] checks the [`Printable`] for what an e-invoice requires,
//! turns a credit note's negative amounts into the positive amounts of a credit note,
//! derives VAT categories, and recomputes the totals from the lines, refusing a
//! document whose stored figures do not add up. The serializers in `ubl` and `eslog`
//! only lay the result out.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use time::Date;
use tovor_documents::{Party, PaymentMeans, PrintKind, PrintLine, Printable, Reference};

use crate::EInvoiceError;
use crate::codes::{VatCategory, is_valid_iban, vat_category};

/// Invoice or credit note: the document type code (BT-3, UNCL 1001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocType {
    /// 380, commercial invoice.
    Invoice,
    /// 381, credit note: a credit note or a cancellation of the model.
    CreditNote,
}

impl DocType {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Invoice => "380",
            Self::CreditNote => "381",
        }
    }
}

/// How payment is made (BG-16), invoices only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Payment<'a> {
    /// Payment means type code (BT-81, UNCL 4461).
    pub code: &'static str,
    /// Payment means text (BT-82): the method's name as the company calls it.
    pub text: Option<&'a str>,
    /// Payment account identifier (BT-84), for a credit transfer.
    pub iban: Option<&'a str>,
    /// Payment service provider identifier (BT-86).
    pub bic: Option<&'a str>,
}

/// One invoice line (BG-25), signs as a credit note or invoice shows them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line<'a> {
    /// Invoice line identifier (BT-126), from 1.
    pub id: usize,
    /// Item name (BT-153).
    pub name: &'a str,
    /// Item seller's identifier (BT-155).
    pub sku: Option<&'a str>,
    /// Invoiced quantity (BT-129).
    pub quantity: Decimal,
    /// Unit of measure code (BT-130, UN/ECE Rec 20/21).
    pub unit: &'a str,
    /// Item net price (BT-146): before the line's discount, which is a line allowance.
    pub price: Decimal,
    /// Invoice line allowance amount (BT-136), positive.
    pub allowance: Decimal,
    /// Invoice line charge amount (BT-141), positive: a negative discount.
    pub charge: Decimal,
    /// Invoice line net amount (BT-131).
    pub net: Decimal,
    /// The line's VAT, as printed (not an EN 16931 term; e-SLOG carries it).
    pub vat: Decimal,
    /// `net + vat`, as printed (e-SLOG's line amount with VAT).
    pub gross: Decimal,
    /// Invoiced item VAT category code (BT-151).
    pub category: VatCategory,
    /// Invoiced item VAT rate (BT-152), normalized (`22`, `9.5`).
    pub rate: Decimal,
}

/// One VAT breakdown (BG-23).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Breakdown {
    /// VAT category code (BT-118).
    pub category: VatCategory,
    /// VAT category rate (BT-119).
    pub rate: Decimal,
    /// VAT category taxable amount (BT-116): the sum of its lines' net amounts.
    pub taxable: Decimal,
    /// VAT category tax amount (BT-117), as the document states it.
    pub tax: Decimal,
}

/// Document totals (BG-22).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Totals {
    /// Sum of invoice line net amounts (BT-106).
    pub line_net: Decimal,
    /// Invoice total without VAT (BT-109): BT-106, as there are no document level
    /// allowances or charges (shipping and fees are lines).
    pub tax_exclusive: Decimal,
    /// Invoice total VAT amount (BT-110).
    pub tax: Decimal,
    /// Invoice total with VAT (BT-112).
    pub tax_inclusive: Decimal,
    /// Paid amount (BT-113).
    pub prepaid: Decimal,
    /// Rounding amount (BT-114): the model's rounding line.
    pub rounding: Decimal,
    /// Amount due for payment (BT-115).
    pub payable: Decimal,
}

/// The document as EN 16931 business terms.
#[derive(Debug, Clone)]
pub(crate) struct Semantic<'a> {
    pub doc_type: DocType,
    /// Invoice number (BT-1).
    pub number: &'a str,
    /// Issue date (BT-2).
    pub issued_on: Date,
    /// Actual delivery date (BT-72): the model's delivery day, or the day of issue,
    /// which the model means when it has none.
    pub delivered_on: Date,
    /// Payment due date (BT-9).
    pub due_on: Option<Date>,
    /// Invoice currency code (BT-5).
    pub currency: &'a str,
    /// Invoice note (BT-22).
    pub note: Option<&'a str>,
    /// Whether fixed texts are in Slovenian.
    pub slovenian: bool,
    pub seller: &'a Party,
    /// Seller VAT identifier (BT-31).
    pub seller_vat_id: &'a str,
    /// Seller additional legal information (BT-33): the letterhead's footer.
    pub seller_legal_info: Option<&'a str>,
    pub buyer: &'a Party,
    /// Deliver to (BG-13/BG-15), when the goods go elsewhere than to the buyer.
    pub ship_to: Option<&'a Party>,
    /// Purchase order reference (BT-13): the shop's order number.
    pub order_number: Option<&'a str>,
    /// Preceding invoice reference (BT-25, BT-26), for a credit note.
    pub preceding: Option<&'a Reference>,
    /// Payment instructions; `None` on credit notes and on paid invoices without them.
    pub payment: Option<Payment<'a>>,
    /// Remittance information (BT-83): the creditor reference.
    pub remittance: Option<&'a str>,
    /// Payment terms (BT-20).
    pub payment_terms: Option<&'a str>,
    pub lines: Vec<Line<'a>>,
    pub breakdown: Vec<Breakdown>,
    pub totals: Totals,
}

/// How far a line's stated net amount may be from quantity × price − allowance +
/// charge before the price is restated: half of Peppol's slack of 0.02 in
/// PEPPOL-EN16931-R120.
const LINE_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The most decimals of a restated price: e-SLOG's `decimal15_6` for prices.
const PRICE_DECIMALS: u32 = 6;

impl<'a> Semantic<'a> {
    /// The e-invoice content of `doc`, or what keeps it from being one.
    pub(crate) fn from_printable(doc: &'a Printable) -> Result<Self, EInvoiceError> {
        let doc_type = match doc.kind {
            PrintKind::Invoice => DocType::Invoice,
            PrintKind::CreditNote | PrintKind::Cancellation => DocType::CreditNote,
            PrintKind::DeliveryNote => return Err(EInvoiceError::NotAnInvoice),
        };
        // The model stores what a credit note or cancellation takes back as negative
        // amounts; EN 16931 expresses crediting by the document type alone and keeps
        // the amounts as they are credited, positive (Peppol BIS 3 syntax guide,
        // "When crediting by means of credit note").
        let sign = match doc_type {
            DocType::Invoice => Decimal::ONE,
            DocType::CreditNote => Decimal::NEGATIVE_ONE,
        };

        let number = required_text(&doc.number, "BT-1 invoice number")?;
        let currency = doc.currency.as_str();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "BT-5 invoice currency code",
                currency,
                "an ISO 4217 code",
            ));
        }

        let seller = &doc.seller.party;
        required_text(&seller.name, "BT-27 seller name")?;
        check_country(&seller.country, "BT-40 seller country code")?;
        let seller_vat_id = seller
            .vat_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or(EInvoiceError::Missing("BT-31 seller VAT identifier"))?;
        check_vat_id(seller_vat_id, "BT-31 seller VAT identifier")?;

        let buyer = &doc.buyer;
        required_text(&buyer.name, "BT-44 buyer name")?;
        check_country(&buyer.country, "BT-55 buyer country code")?;
        let buyer_vat_id = buyer
            .vat_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty());
        if let Some(id) = buyer_vat_id {
            check_vat_id(id, "BT-48 buyer VAT identifier")?;
        }
        if let Some(ship_to) = &doc.ship_to {
            check_country(&ship_to.country, "BT-80 deliver to country code")?;
        }

        let preceding = match doc_type {
            DocType::Invoice => None,
            DocType::CreditNote => Some(
                doc.refers_to
                    .as_ref()
                    .ok_or(EInvoiceError::Missing("BT-25 preceding invoice reference"))?,
            ),
        };
        if let Some(reference) = preceding {
            required_text(&reference.number, "BT-25 preceding invoice reference")?;
        }

        let category_of = |rate: Decimal| {
            vat_category(
                rate,
                &seller.country,
                &buyer.country,
                buyer_vat_id.is_some(),
            )
        };

        let mut lines = Vec::with_capacity(doc.lines.len());
        let mut rounding = Decimal::ZERO;
        for printed in &doc.lines {
            check_cents(printed)?;
            if printed.is_rounding {
                rounding += sign * printed.gross;
                continue;
            }
            let id = lines.len() + 1;
            lines.push(line(id, printed, sign, category_of(printed.vat_rate))?);
        }
        if lines.is_empty() {
            return Err(EInvoiceError::Missing("BG-25 invoice line"));
        }

        let breakdown = breakdown(&lines, doc, sign)?;

        let line_net: Decimal = lines.iter().map(|line| line.net).sum();
        let tax: Decimal = breakdown.iter().map(|group| group.tax).sum();
        let tax_inclusive = line_net + tax;
        let stated = &doc.totals;
        for (term, stated, computed) in [
            ("the net total", sign * stated.net, line_net),
            ("the VAT total", sign * stated.vat, tax),
            ("the rounding", sign * stated.rounding, rounding),
            ("the total", sign * stated.gross, tax_inclusive + rounding),
        ] {
            if stated != computed {
                return Err(EInvoiceError::Inconsistent(format!(
                    "{term} is {stated}, but the lines add up to {computed}"
                )));
            }
        }
        let prepaid = if doc.payment.paid {
            tax_inclusive + rounding
        } else {
            Decimal::ZERO
        };
        let totals = Totals {
            line_net,
            tax_exclusive: line_net,
            tax,
            tax_inclusive,
            prepaid,
            rounding,
            payable: tax_inclusive - prepaid + rounding,
        };

        let payment = match doc_type {
            DocType::Invoice => payment(doc)?,
            // A refund goes to the buyer's account, which the model does not know.
            DocType::CreditNote => None,
        };
        let method = non_empty(doc.payment.method.as_deref());
        let due_on = doc.payment.due_on;
        // Payment terms (BT-20) only where no due date says when to pay: the method's
        // name (`Po povzetju`), or on a credit note what the refund is for.
        let payment_terms = match (doc_type, due_on) {
            (DocType::Invoice, Some(_)) => None,
            (DocType::Invoice, None) => method,
            (DocType::CreditNote, _) => method.or(non_empty(Some(&doc.payment.purpose))),
        };
        // BR-CO-25: an amount due needs a due date or payment terms. A credit note has
        // no document level due date in UBL (only inside the payment means it lacks).
        let has_due_date = due_on.is_some() && doc_type == DocType::Invoice;
        if totals.payable > Decimal::ZERO && !has_due_date && payment_terms.is_none() {
            return Err(EInvoiceError::Missing(
                "BT-9 payment due date or BT-20 payment terms (an amount is due)",
            ));
        }

        Ok(Self {
            doc_type,
            number,
            issued_on: doc.issued_on,
            delivered_on: doc.delivered_on.unwrap_or(doc.issued_on),
            due_on,
            currency,
            note: non_empty(doc.note.as_deref()),
            slovenian: doc.language == tovor_documents::Language::Sl,
            seller,
            seller_vat_id,
            seller_legal_info: non_empty(doc.seller.footer.as_deref()),
            buyer,
            ship_to: doc.ship_to.as_ref(),
            order_number: non_empty(doc.order_number.as_deref()),
            preceding,
            payment,
            remittance: match doc_type {
                DocType::Invoice => non_empty(doc.payment.reference.as_deref()),
                DocType::CreditNote => None,
            },
            payment_terms,
            lines,
            breakdown,
            totals,
        })
    }

    /// The buyer's VAT identifier (BT-48), if any.
    pub(crate) fn buyer_vat_id(&self) -> Option<&'a str> {
        self.buyer
            .vat_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }

    /// Whether a deliver-to address is needed: given by the model, or required by an
    /// intra-community supply (BR-IC-12).
    pub(crate) fn deliver_to(&self) -> Option<&'a Party> {
        self.ship_to.or_else(|| {
            self.breakdown
                .iter()
                .any(|group| group.category == VatCategory::IntraCommunity)
                .then_some(self.buyer)
        })
    }
}

fn line<'a>(
    id: usize,
    printed: &'a PrintLine,
    sign: Decimal,
    category: VatCategory,
) -> Result<Line<'a>, EInvoiceError> {
    let name = non_empty(Some(&printed.name))
        .or(non_empty(printed.sku.as_deref()))
        .ok_or(EInvoiceError::Missing("BT-153 item name"))?;
    let unit = non_empty(Some(&printed.unit)).ok_or(EInvoiceError::Missing(
        "BT-130 invoiced quantity unit of measure code",
    ))?;
    if printed.quantity.normalize().scale() > PRICE_DECIMALS {
        return Err(invalid(
            "BT-129 invoiced quantity",
            &printed.quantity.to_string(),
            "a quantity with at most 6 decimals",
        ));
    }
    let mut quantity = sign * printed.quantity;
    // e-SLOG holds prices to 6 decimals; a rounded price is restated below if the
    // rounding shows in the line's arithmetic.
    let mut price = printed
        .unit_price
        .round_dp_with_strategy(PRICE_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    let discount = sign * printed.discount;
    let net = sign * printed.net;
    // BR-27: the item net price is never negative; a negative charge line (a credit
    // given as a fee) is a negative quantity of a positive price instead.
    if price < Decimal::ZERO {
        price = -price;
        quantity = -quantity;
    }
    let (allowance, charge) = if discount >= Decimal::ZERO {
        (discount, Decimal::ZERO)
    } else {
        (Decimal::ZERO, -discount)
    };
    let expected = quantity * price - allowance + charge;
    if (expected - net).abs() > LINE_TOLERANCE {
        // The model's unit price is rounded (prices derived from gross prices keep 4
        // places); over a large quantity the rounding shows. Restate the price so that
        // quantity × price − allowance + charge is the line's net (R120).
        if quantity.is_zero() {
            return Err(EInvoiceError::Inconsistent(format!(
                "line {id} ({name}) has no quantity but a net amount of {net}"
            )));
        }
        price = ((net + allowance - charge) / quantity)
            .round_dp_with_strategy(PRICE_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
        if price < Decimal::ZERO {
            price = -price;
            quantity = -quantity;
        }
        let restated = quantity * price - allowance + charge;
        if (restated - net).abs() > LINE_TOLERANCE {
            return Err(EInvoiceError::Inconsistent(format!(
                "line {id} ({name}): {quantity} × {price} − {allowance} + {charge} is not its net amount {net}"
            )));
        }
    }
    Ok(Line {
        id,
        name,
        sku: non_empty(printed.sku.as_deref()),
        quantity: quantity.normalize(),
        unit,
        price: price.normalize(),
        allowance,
        charge,
        net,
        vat: sign * printed.vat,
        gross: sign * printed.gross,
        category,
        rate: printed.vat_rate.normalize(),
    })
}

/// The VAT breakdown: one group per category and rate (the category follows from the
/// rate, so per rate), taxable amounts from the lines, tax amounts as stated.
///
/// The model's VAT is the sum of each line's rounded VAT, as printed and booked; EN
/// 16931 computes a group's VAT once from its taxable amount. The two differ by at most
/// half a cent per line. EN 16931 accepts a difference below one unit of currency
/// (BR-CO-17, BR-S-09 test `|tax − round(taxable × rate)| < 1`), so the stated VAT is
/// kept, and the e-invoice states the same VAT and total as the printed document. A
/// difference beyond the half cent per line means the figures are not rounding apart
/// and is refused.
fn breakdown(
    lines: &[Line<'_>],
    doc: &Printable,
    sign: Decimal,
) -> Result<Vec<Breakdown>, EInvoiceError> {
    let mut groups: BTreeMap<Decimal, (VatCategory, Decimal, usize)> = BTreeMap::new();
    for line in lines {
        let group = groups
            .entry(line.rate)
            .or_insert((line.category, Decimal::ZERO, 0));
        group.1 += line.net;
        group.2 += 1;
    }
    let mut stated: BTreeMap<Decimal, (Decimal, Decimal)> = BTreeMap::new();
    for recap in &doc.vat_recap {
        let entry = stated.entry(recap.rate.normalize()).or_default();
        entry.0 += sign * recap.base;
        entry.1 += sign * recap.vat;
    }
    for (rate, (base, vat)) in &stated {
        let has_amounts = !base.is_zero() || !vat.is_zero();
        if has_amounts && !groups.contains_key(rate) {
            return Err(EInvoiceError::Inconsistent(format!(
                "the VAT recap has {rate} % but no line has that rate"
            )));
        }
    }
    let half_cent = Decimal::new(5, 3);
    groups
        .into_iter()
        .map(|(rate, (category, taxable, count))| {
            let (base, tax) = stated.get(&rate).copied().ok_or_else(|| {
                EInvoiceError::Inconsistent(format!("the VAT recap has no entry for {rate} %"))
            })?;
            if base != taxable {
                return Err(EInvoiceError::Inconsistent(format!(
                    "the VAT recap's base at {rate} % is {base}, but its lines add up to {taxable}"
                )));
            }
            let computed = round_money(taxable * rate / Decimal::ONE_HUNDRED);
            let bound = (half_cent * Decimal::from(count + 1)).min(Decimal::new(99, 2));
            if (tax - computed).abs() > bound {
                return Err(EInvoiceError::Inconsistent(format!(
                    "the VAT at {rate} % is {tax}, but {taxable} × {rate} % is {computed}"
                )));
            }
            Ok(Breakdown {
                category,
                rate,
                taxable,
                tax,
            })
        })
        .collect()
}

fn payment(doc: &Printable) -> Result<Option<Payment<'_>>, EInvoiceError> {
    let details = &doc.payment;
    let text = non_empty(details.method.as_deref());
    let payment = match details.means {
        PaymentMeans::CreditTransfer => {
            let Some(iban) = non_empty(doc.seller.iban.as_deref()) else {
                // Paid already, the buyer needs no account; unpaid, BR-61 requires one.
                return if details.paid {
                    Ok(None)
                } else {
                    Err(EInvoiceError::Missing(
                        "BT-84 payment account identifier (the seller's IBAN)",
                    ))
                };
            };
            if !is_valid_iban(iban) {
                return Err(invalid(
                    "BT-84 payment account identifier",
                    iban,
                    "a valid IBAN",
                ));
            }
            Payment {
                // 58 is a SEPA credit transfer, which is in euro; 30 any other.
                code: if doc.currency == "EUR" { "58" } else { "30" },
                text,
                iban: Some(iban),
                bic: non_empty(doc.seller.bic.as_deref()),
            }
        }
        // 10: in cash, collected by the carrier.
        PaymentMeans::CashOnDelivery => Payment {
            code: "10",
            text,
            iban: None,
            bic: None,
        },
        // 48: bank card. No card account (BG-18): the model has no card number.
        PaymentMeans::Card => Payment {
            code: "48",
            text,
            iban: None,
            bic: None,
        },
        // ZZZ: mutually defined; the method's name says which.
        PaymentMeans::Other => Payment {
            code: "ZZZ",
            text,
            iban: None,
            bic: None,
        },
    };
    Ok(Some(payment))
}

fn check_cents(line: &PrintLine) -> Result<(), EInvoiceError> {
    for (term, amount) in [
        ("BT-131 invoice line net amount", line.net),
        ("line VAT amount", line.vat),
        ("line amount with VAT", line.gross),
        ("BT-136 invoice line allowance amount", line.discount),
    ] {
        if amount.round_dp(2) != amount {
            return Err(invalid(term, &amount.to_string(), "an amount in cents"));
        }
    }
    Ok(())
}

fn check_country(country: &str, term: &'static str) -> Result<(), EInvoiceError> {
    if country.is_empty() {
        return Err(EInvoiceError::Missing(term));
    }
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(term, country, "an ISO 3166-1 alpha-2 code"));
    }
    Ok(())
}

/// BR-CO-09: a VAT identifier starts with its country's prefix (ISO 3166-1 alpha-2,
/// `EL` for Greece).
fn check_vat_id(id: &str, term: &'static str) -> Result<(), EInvoiceError> {
    let bytes = id.as_bytes();
    let valid = bytes.len() >= 4
        && bytes.len() <= 20
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..].iter().all(u8::is_ascii_alphanumeric);
    if valid {
        Ok(())
    } else {
        Err(invalid(
            term,
            id,
            "a VAT identifier with its country prefix",
        ))
    }
}

fn required_text<'a>(text: &'a str, term: &'static str) -> Result<&'a str, EInvoiceError> {
    non_empty(Some(text)).ok_or(EInvoiceError::Missing(term))
}

/// The text trimmed, or `None` when nothing is left: EN 16931 syntaxes have no empty
/// elements (Peppol PEPPOL-EN16931-R008).
pub(crate) fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

fn invalid(term: &'static str, value: &str, expected: &'static str) -> EInvoiceError {
    EInvoiceError::Invalid {
        term,
        value: value.to_owned(),
        expected,
    }
}

/// Cents, half away from zero, as the model rounds.
pub(crate) fn round_money(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount with exactly two decimals (`12.30`).
pub(crate) fn money(amount: Decimal) -> String {
    format!("{:.2}", round_money(amount))
}

/// A quantity, price or rate without trailing zeros (`2`, `9.5`, `12.3456`).
pub(crate) fn plain(number: Decimal) -> String {
    number.normalize().to_string()
}
