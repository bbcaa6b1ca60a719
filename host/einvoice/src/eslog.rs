//! e-SLOG 2.0: the Slovenian e-invoice of GZS, UN/EDIFACT INVOIC D.01B as XML in the
//! namespace `urn:eslog:2.00`, with EN 16931's business terms in EDIFACT segments.
//!
//! Structure, element order and field lengths follow the official schema
//! `eSLOG20_INVOIC_v200.xsd` (e-SLOG 2.0 package of ePOS/GZS, August 2020, shipped in
//! the PyPI package `pyslog` 0.1.0.dev16). The qualifiers are UN/EDIFACT codes as the
//! EN 16931 EDIFACT binding (CEN/TS 16931-3-4) uses them, cross-checked against the
//! sample `inv.xml` of Media24si/eslog2 (MIT) and the e-SLOG serializer of
//! grunt-it/fiscalize:
//!
//! - `S_BGM` document type (BT-3) and number (BT-1); `S_DTM` 137 issue date (BT-2),
//!   35 delivery date (BT-72);
//! - `S_FTX` `DOC` specification identifier `urn:cen.eu:en16931:2017` (BT-24, which
//!   UJP requires), `GEN` note (BT-22), `AAB` payment terms (BT-20), `AAT` payment
//!   means text (BT-82), `REG` seller legal information (BT-33), `AGM` VAT exemption
//!   (code BT-121 in `C_C107`, text BT-120 in `C_C108`);
//! - `G_SG1` references: `ON` order (BT-13), `OI` preceding invoice (BT-25) with
//!   `S_DTM` 384 its date (BT-26), `PQ` payment reference (BT-83);
//! - `G_SG2` parties: `S_NAD` `SE` seller, `BY` buyer, `DP` deliver to; `S_FII` `RB`
//!   the seller's account (IBAN BT-84 in `C_C078`, BIC BT-86 in `C_C088`); `G_SG3`
//!   `S_RFF` `VA` VAT identifier (BT-31, BT-48), `XA` company registration number
//!   (BT-30, BT-47);
//! - `G_SG7` `S_CUX` currency (BT-5); `G_SG8` payment terms `S_PAT` 1 with `S_DTM` 13
//!   due date (BT-9) and `S_PAI` payment means code (BT-81, UNCL 4461);
//! - `G_SG26` lines: `S_LIN` number (BT-126), `S_PIA` 5 `SA` seller's item id
//!   (BT-155), `S_IMD` `F` name (BT-153), `S_QTY` 47 quantity and unit (BT-129,
//!   BT-130), `G_SG27` `MOA` 203 net (BT-131) and 38 amount with VAT (national),
//!   `G_SG29` `PRI` `AAA` net price (BT-146), `G_SG34` `S_TAX` 7 `VAT` category and
//!   rate (BT-151, BT-152) with the line's `MOA` 124 VAT and 125 base, `G_SG39`
//!   `S_ALC` `A` allowance (reason 95, BT-139/140) or `C` charge with `MOA` 204 / 23
//!   (BT-136, BT-141);
//! - `G_SG50` totals `MOA` 79 (BT-106), 389 (BT-109), 176 (BT-110), 388 (BT-112),
//!   113 (BT-113), 366 (BT-114), 9 (BT-115); `G_SG52` VAT breakdown `S_TAX` with
//!   `MOA` 125 (BT-116) and 124 (BT-117).

use tovor_documents::Party;

use crate::EInvoiceError;
use crate::semantic::{Line, Semantic, money, non_empty, plain};
use crate::xml::Xml;

/// The namespace of e-SLOG 2.0 documents.
pub const ESLOG_NAMESPACE: &str = "urn:eslog:2.00";

/// BT-24 as e-SLOG 2.0 carries it (`S_FTX` `DOC`).
const SPECIFICATION_ID: &str = "urn:cen.eu:en16931:2017";

pub(crate) fn write(doc: &Semantic<'_>) -> Result<String, EInvoiceError> {
    let mut xml = Xml::new()?;
    xml.open("Invoice", &[("xmlns", ESLOG_NAMESPACE)])?;
    // The Id is where an enveloped XML signature points (schema comment on Invoice).
    xml.open("M_INVOIC", &[("Id", "data")])?;

    xml.open("S_UNH", &[])?;
    xml.leaf("D_0062", message_reference(doc.number))?;
    xml.open("C_S009", &[])?;
    for (name, value) in [
        ("D_0065", "INVOIC"),
        ("D_0052", "D"),
        ("D_0054", "01B"),
        ("D_0051", "UN"),
    ] {
        xml.leaf(name, value)?;
    }
    xml.close("C_S009")?;
    xml.close("S_UNH")?;

    xml.open("S_BGM", &[])?;
    xml.open("C_C002", &[])?;
    xml.leaf("D_1001", doc.doc_type.code())?;
    xml.close("C_C002")?;
    xml.open("C_C106", &[])?;
    xml.leaf("D_1004", fits(doc.number, 70, "BT-1 invoice number")?)?;
    xml.close("C_C106")?;
    xml.close("S_BGM")?;

    date(&mut xml, "137", doc.issued_on)?;
    date(&mut xml, "35", doc.delivered_on)?;

    free_text(&mut xml, "DOC", None, SPECIFICATION_ID, "BT-24")?;
    if let Some(note) = doc.note {
        free_text(&mut xml, "GEN", None, note, "BT-22 invoice note")?;
    }
    if let Some(terms) = doc.payment_terms {
        free_text(&mut xml, "AAB", None, terms, "BT-20 payment terms")?;
    }
    if let Some(text) = doc.payment.as_ref().and_then(|payment| payment.text) {
        free_text(&mut xml, "AAT", None, text, "BT-82 payment means text")?;
    }
    if let Some(info) = doc.seller_legal_info {
        free_text(
            &mut xml,
            "REG",
            None,
            info,
            "BT-33 seller additional legal information",
        )?;
    }
    for group in &doc.breakdown {
        if let (Some(code), Some(text)) = (
            group.category.exemption_reason_code(),
            group.category.exemption_reason_text(doc.slovenian),
        ) {
            free_text(
                &mut xml,
                "AGM",
                Some(code),
                text,
                "BT-120 VAT exemption reason",
            )?;
        }
    }

    if let Some(order_number) = doc.order_number {
        reference(&mut xml, "ON", order_number, None, "BT-13 order reference")?;
    }
    if let Some(preceding) = doc.preceding {
        reference(
            &mut xml,
            "OI",
            preceding.number.trim(),
            Some(preceding.issued_on),
            "BT-25 preceding invoice reference",
        )?;
    }
    if let Some(remittance) = doc.remittance {
        reference(
            &mut xml,
            "PQ",
            remittance,
            None,
            "BT-83 remittance information",
        )?;
    }

    xml.open("G_SG2", &[])?;
    name_and_address(&mut xml, "SE", doc.seller, "seller")?;
    if let Some(payment) = &doc.payment
        && let Some(iban) = payment.iban
    {
        xml.open("S_FII", &[])?;
        xml.leaf("D_3035", "RB")?;
        xml.open("C_C078", &[])?;
        xml.leaf(
            "D_3194",
            fits(iban, 35, "BT-84 payment account identifier")?,
        )?;
        xml.close("C_C078")?;
        if let Some(bic) = payment.bic {
            xml.open("C_C088", &[])?;
            xml.leaf("D_3433", fits(bic, 11, "BT-86 payment service provider")?)?;
            xml.close("C_C088")?;
        }
        xml.close("S_FII")?;
    }
    party_reference(&mut xml, "VA", Some(doc.seller_vat_id))?;
    party_reference(&mut xml, "XA", doc.seller.registration_number.as_deref())?;
    xml.close("G_SG2")?;

    xml.open("G_SG2", &[])?;
    name_and_address(&mut xml, "BY", doc.buyer, "buyer")?;
    party_reference(&mut xml, "VA", doc.buyer_vat_id())?;
    party_reference(&mut xml, "XA", doc.buyer.registration_number.as_deref())?;
    xml.close("G_SG2")?;

    if let Some(deliver_to) = doc.deliver_to() {
        xml.open("G_SG2", &[])?;
        name_and_address(&mut xml, "DP", deliver_to, "deliver to")?;
        xml.close("G_SG2")?;
    }

    xml.open("G_SG7", &[])?;
    xml.open("S_CUX", &[])?;
    xml.open("C_C504", &[])?;
    // 2: reference currency, the invoice's currency.
    xml.leaf("D_6347", "2")?;
    xml.leaf("D_6345", doc.currency)?;
    xml.close("C_C504")?;
    xml.close("S_CUX")?;
    xml.close("G_SG7")?;

    if doc.due_on.is_some() || doc.payment.is_some() {
        xml.open("G_SG8", &[])?;
        xml.open("S_PAT", &[])?;
        // 1: basic payment terms.
        xml.leaf("D_4279", "1")?;
        xml.close("S_PAT")?;
        if let Some(due_on) = doc.due_on {
            date(&mut xml, "13", due_on)?;
        }
        if let Some(payment) = &doc.payment {
            xml.open("S_PAI", &[])?;
            xml.open("C_C534", &[])?;
            xml.leaf("D_4461", payment.code)?;
            xml.close("C_C534")?;
            xml.close("S_PAI")?;
        }
        xml.close("G_SG8")?;
    }

    for line in &doc.lines {
        invoice_line(&mut xml, doc, line)?;
    }

    let totals = &doc.totals;
    let mut summary = vec![
        ("79", totals.line_net),
        ("389", totals.tax_exclusive),
        ("176", totals.tax),
        ("388", totals.tax_inclusive),
    ];
    if !totals.prepaid.is_zero() {
        summary.push(("113", totals.prepaid));
    }
    if !totals.rounding.is_zero() {
        summary.push(("366", totals.rounding));
    }
    summary.push(("9", totals.payable));
    for (code, value) in summary {
        xml.open("G_SG50", &[])?;
        monetary_amount(&mut xml, code, value)?;
        xml.close("G_SG50")?;
    }

    for group in &doc.breakdown {
        xml.open("G_SG52", &[])?;
        tax(&mut xml, group.category.code(), group.rate)?;
        monetary_amount(&mut xml, "125", group.taxable)?;
        monetary_amount(&mut xml, "124", group.tax)?;
        xml.close("G_SG52")?;
    }

    xml.close("M_INVOIC")?;
    xml.close("Invoice")?;
    xml.finish()
}

fn invoice_line(xml: &mut Xml, doc: &Semantic<'_>, line: &Line<'_>) -> Result<(), EInvoiceError> {
    xml.open("G_SG26", &[])?;
    xml.open("S_LIN", &[])?;
    xml.leaf("D_1082", &line.id.to_string())?;
    xml.close("S_LIN")?;
    if let Some(sku) = line.sku {
        xml.open("S_PIA", &[])?;
        // 5: product identification; SA: supplier's article number.
        xml.leaf("D_4347", "5")?;
        xml.open("C_C212", &[])?;
        xml.leaf("D_7140", fits(sku, 35, "BT-155 item seller's identifier")?)?;
        xml.leaf("D_7143", "SA")?;
        xml.close("C_C212")?;
        xml.close("S_PIA")?;
    }
    xml.open("S_IMD", &[])?;
    // F: free-form description.
    xml.leaf("D_7077", "F")?;
    xml.open("C_C273", &[])?;
    let name = split(line.name, 256, 2, "BT-153 item name")?;
    for (part, element) in name.iter().zip(["D_7008", "D_7008_2"]) {
        xml.leaf(element, part)?;
    }
    xml.close("C_C273")?;
    xml.close("S_IMD")?;
    xml.open("S_QTY", &[])?;
    xml.open("C_C186", &[])?;
    // 47: invoiced quantity.
    xml.leaf("D_6063", "47")?;
    xml.leaf("D_6060", &plain(line.quantity))?;
    xml.leaf("D_6411", fits(line.unit, 8, "BT-130 unit of measure")?)?;
    xml.close("C_C186")?;
    xml.close("S_QTY")?;
    for (code, value) in [("203", line.net), ("38", line.gross)] {
        xml.open("G_SG27", &[])?;
        monetary_amount(xml, code, value)?;
        xml.close("G_SG27")?;
    }
    xml.open("G_SG29", &[])?;
    xml.open("S_PRI", &[])?;
    xml.open("C_C509", &[])?;
    xml.leaf("D_5125", "AAA")?;
    xml.leaf("D_5118", &plain(line.price))?;
    xml.leaf("D_5284", "1")?;
    xml.leaf("D_6411", line.unit)?;
    xml.close("C_C509")?;
    xml.close("S_PRI")?;
    xml.close("G_SG29")?;
    xml.open("G_SG34", &[])?;
    tax(xml, line.category.code(), line.rate)?;
    monetary_amount(xml, "124", line.vat)?;
    monetary_amount(xml, "125", line.net)?;
    xml.close("G_SG34")?;
    let discount_text = if doc.slovenian { "Popust" } else { "Discount" };
    let surcharge_text = if doc.slovenian {
        "Doplačilo"
    } else {
        "Surcharge"
    };
    // A: allowance, MOA 204; C: charge, MOA 23.
    for (indicator, amount_code, value, text) in [
        ("A", "204", line.allowance, discount_text),
        ("C", "23", line.charge, surcharge_text),
    ] {
        if value.is_zero() {
            continue;
        }
        xml.open("G_SG39", &[])?;
        xml.open("S_ALC", &[])?;
        xml.leaf("D_5463", indicator)?;
        xml.open("C_C552", &[])?;
        xml.leaf("D_1230", text)?;
        if indicator == "A" {
            // UNCL 5189 95: discount.
            xml.leaf("D_5189", "95")?;
        }
        xml.close("C_C552")?;
        xml.close("S_ALC")?;
        xml.open("G_SG42", &[])?;
        monetary_amount(xml, amount_code, value)?;
        xml.close("G_SG42")?;
        xml.close("G_SG39")?;
    }
    xml.close("G_SG26")
}

fn date(xml: &mut Xml, code: &str, value: time::Date) -> Result<(), EInvoiceError> {
    xml.open("S_DTM", &[])?;
    xml.open("C_C507", &[])?;
    xml.leaf("D_2005", code)?;
    xml.leaf("D_2380", &value.to_string())?;
    xml.close("C_C507")?;
    xml.close("S_DTM")
}

fn free_text(
    xml: &mut Xml,
    subject: &str,
    code: Option<&str>,
    text: &str,
    term: &'static str,
) -> Result<(), EInvoiceError> {
    xml.open("S_FTX", &[])?;
    xml.leaf("D_4451", subject)?;
    if let Some(code) = code {
        xml.open("C_C107", &[])?;
        xml.leaf("D_4441", fits(code, 17, term)?)?;
        xml.close("C_C107")?;
    }
    xml.open("C_C108", &[])?;
    let parts = split(text, 512, 5, term)?;
    for (part, element) in parts
        .iter()
        .zip(["D_4440", "D_4440_2", "D_4440_3", "D_4440_4", "D_4440_5"])
    {
        xml.leaf(element, part)?;
    }
    xml.close("C_C108")?;
    xml.close("S_FTX")
}

fn reference(
    xml: &mut Xml,
    qualifier: &str,
    value: &str,
    dated: Option<time::Date>,
    term: &'static str,
) -> Result<(), EInvoiceError> {
    xml.open("G_SG1", &[])?;
    xml.open("S_RFF", &[])?;
    xml.open("C_C506", &[])?;
    xml.leaf("D_1153", qualifier)?;
    xml.leaf("D_1154", fits(value, 70, term)?)?;
    xml.close("C_C506")?;
    xml.close("S_RFF")?;
    if let Some(dated) = dated {
        // 384: date of the preceding invoice (BT-26).
        date(xml, "384", dated)?;
    }
    xml.close("G_SG1")
}

fn party_reference(
    xml: &mut Xml,
    qualifier: &str,
    value: Option<&str>,
) -> Result<(), EInvoiceError> {
    let Some(value) = non_empty(value) else {
        return Ok(());
    };
    xml.open("G_SG3", &[])?;
    xml.open("S_RFF", &[])?;
    xml.open("C_C506", &[])?;
    xml.leaf("D_1153", qualifier)?;
    xml.leaf("D_1154", fits(value, 70, "party identifier")?)?;
    xml.close("C_C506")?;
    xml.close("S_RFF")?;
    xml.close("G_SG3")
}

/// `S_NAD`: the name in up to five parts of 70 characters, the address lines in up to
/// four of 35, city, postal code and country.
fn name_and_address(
    xml: &mut Xml,
    qualifier: &str,
    party: &Party,
    role: &'static str,
) -> Result<(), EInvoiceError> {
    let (name_term, address_term, city_term, postal_term) = match role {
        "seller" => (
            "BT-27 seller name",
            "BT-35 seller address",
            "BT-37 seller city",
            "BT-38 seller post code",
        ),
        "buyer" => (
            "BT-44 buyer name",
            "BT-50 buyer address",
            "BT-52 buyer city",
            "BT-53 buyer post code",
        ),
        _ => (
            "BT-70 deliver to party name",
            "BT-75 deliver to address",
            "BT-77 deliver to city",
            "BT-78 deliver to post code",
        ),
    };
    xml.open("S_NAD", &[])?;
    xml.leaf("D_3035", qualifier)?;
    xml.open("C_C080", &[])?;
    let name = split(party.name.trim(), 70, 5, name_term)?;
    for (part, element) in name
        .iter()
        .zip(["D_3036", "D_3036_2", "D_3036_3", "D_3036_4", "D_3036_5"])
    {
        xml.leaf(element, part)?;
    }
    xml.close("C_C080")?;
    let mut address_parts = Vec::new();
    for line in &party.address_lines {
        if let Some(line) = non_empty(Some(line)) {
            address_parts.extend(split(line, 35, 4, address_term)?);
        }
    }
    if address_parts.len() > 4 {
        return Err(EInvoiceError::TooLong {
            term: address_term,
            max: "4 lines of 35 characters",
        });
    }
    if !address_parts.is_empty() {
        xml.open("C_C059", &[])?;
        for (part, element) in address_parts
            .iter()
            .zip(["D_3042", "D_3042_2", "D_3042_3", "D_3042_4"])
        {
            xml.leaf(element, part)?;
        }
        xml.close("C_C059")?;
    }
    if let Some(city) = non_empty(Some(&party.city)) {
        xml.leaf("D_3164", fits(city, 35, city_term)?)?;
    }
    if let Some(postal_code) = non_empty(Some(&party.postal_code)) {
        xml.leaf("D_3251", fits(postal_code, 17, postal_term)?)?;
    }
    xml.leaf("D_3207", &party.country)?;
    xml.close("S_NAD")
}

fn tax(xml: &mut Xml, category: &str, rate: rust_decimal::Decimal) -> Result<(), EInvoiceError> {
    xml.open("S_TAX", &[])?;
    // 7: tax.
    xml.leaf("D_5283", "7")?;
    xml.open("C_C241", &[])?;
    xml.leaf("D_5153", "VAT")?;
    xml.close("C_C241")?;
    xml.open("C_C243", &[])?;
    xml.leaf("D_5278", &plain(rate))?;
    xml.close("C_C243")?;
    xml.leaf("D_5305", category)?;
    xml.close("S_TAX")
}

fn monetary_amount(
    xml: &mut Xml,
    code: &str,
    value: rust_decimal::Decimal,
) -> Result<(), EInvoiceError> {
    xml.open("S_MOA", &[])?;
    xml.open("C_C516", &[])?;
    xml.leaf("D_5025", code)?;
    xml.leaf("D_5004", &money(value))?;
    xml.close("C_C516")?;
    xml.close("S_MOA")
}

/// `S_UNH`'s message reference holds 14 characters: the document number, or its last
/// 14 characters, which is where numbers differ.
fn message_reference(number: &str) -> &str {
    let count = number.chars().count();
    match number.char_indices().nth(count.saturating_sub(14)) {
        Some((start, _)) if count > 14 => &number[start..],
        _ => number,
    }
}

fn fits<'a>(text: &'a str, max: usize, term: &'static str) -> Result<&'a str, EInvoiceError> {
    if text.chars().count() <= max {
        Ok(text)
    } else {
        Err(EInvoiceError::TooLong {
            term,
            max: match max {
                11 => "11 characters",
                17 => "17 characters",
                35 => "35 characters",
                70 => "70 characters",
                _ => "the e-SLOG field length",
            },
        })
    }
}

/// `text` in at most `parts` pieces of at most `max` characters, broken after a space
/// where one is near the limit.
fn split<'a>(
    text: &'a str,
    max: usize,
    parts: usize,
    term: &'static str,
) -> Result<Vec<&'a str>, EInvoiceError> {
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if pieces.len() == parts {
            return Err(EInvoiceError::TooLong {
                term,
                max: "the e-SLOG field length",
            });
        }
        let cut = match rest.char_indices().nth(max) {
            None => rest.len(),
            Some((hard_limit, _)) => rest[..hard_limit]
                .rfind(' ')
                .filter(|&space| space > hard_limit / 2)
                .map_or(hard_limit, |space| space + 1),
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece.trim_end());
        rest = tail.trim_start();
    }
    Ok(pieces)
}
