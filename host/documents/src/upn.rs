//! The UPN QR payment code: the QR code of the Slovenian universal payment order
//! (univerzalni plačilni nalog), which Slovenian mobile banks scan to fill in a payment.
//!
//! Sources:
//! - Združenje bank Slovenije (Bank Association of Slovenia), "UPN QR – Tehnični
//!   standard", version 1.1, November 2016, section 5 ("Koda QR") and 5.2 ("Struktura
//!   zapisa kode QR"), in English
//!   <https://www.zbs-giz.si/wp-content/uploads/2021/10/EN_Tehnicni_standard_UPN_QR.pdf>,
//!   with its annexes and specimen forms in
//!   <https://www.zbs-giz.si/wp-content/uploads/2021/07/objava_dokumentacije_UPN_QR-2016-12-15.zip>
//!   (index: <https://www.zbs-giz.si/standardi-in-prirocniki/>).
//! - Združenje bank Slovenije, "Pravila za oblikovanje in uporabo standardiziranih
//!   referenc pri opravljanju plačilnih storitev", version 1.4,
//!   <https://www.zbs-giz.si/wp-content/uploads/2023/12/Pravila-za-oblikovanje-in-uporabo-standardiziranih-referenc-pri-opravljanju-placilnih-storitev-verzija-1.4.pdf>:
//!   the `SI` reference models and their mod 11 check digits.
//! - ISO 11649 (structured creditor reference, `RF`), ISO 13616 (IBAN), ISO 7064 MOD
//!   97-10 (both check digits).
//! - The specimen codes A, B and H of the standard, as zint's test suite carries them
//!   with their module matrices
//!   (<https://github.com/zint/zint/blob/master/backend/tests/test_qr.c>,
//!   `test_upnqr_encode`): this module reproduces their content and the QR symbols bit
//!   for bit (see the tests).
//!
//! The content is 21 fields, each ended by LF: `UPNQR`, then the payer's IBAN (19),
//! deposit `X` (1), withdrawal `X` (1), the payer's reference (26), name (33), street
//! (33), city (33), the amount in cents as 11 digits, the payment date (`DD.MM.YYYY`),
//! urgent `X` (1), the purpose code (4 capital letters, ISO 20022 ExternalPurpose1Code),
//! the purpose (42), the payment deadline (`DD.MM.YYYY`), the recipient's IBAN (34) and
//! reference (26; model and number together without spaces: `SI00123-45`, `RF45SBO2010`),
//! name (33), street (33), city (33); then a checksum of 3 digits, the sum of the
//! lengths of fields 1 to 19 plus 19 (their separators); then the reserve. With every
//! field at its maximum, fields 1–20 and their separators fill the 411 bytes the symbol
//! holds. The symbol is QR Code version 15 (77×77 modules), error correction level M,
//! byte mode after an ECI designator 000004 (ISO 8859-2), the content in ISO 8859-2.
//!
//! The reserve is filled with spaces to 400 characters in all, as in the standard's
//! specimen codes; with that, [`qr_matrix`] draws exactly the specimen symbols.

use std::sync::LazyLock;

use rust_decimal::Decimal;
use time::Date;

/// The leading style, field 1.
const LEADING_STYLE: &str = "UPNQR";
/// Total length the specimen codes of the standard fill with spaces.
const PADDED_LENGTH: usize = 400;
/// Largest amount field 9 holds: 999.999.999,99.
const MAX_AMOUNT_CENTS: i64 = 99_999_999_999;
/// The ECI assignment number of ISO 8859-2.
const ECI_ISO_8859_2: u32 = 4;
/// The QR Code version the standard fixes.
const QR_VERSION: i16 = 15;

/// A payment order as the UPN QR code carries it. Texts are trimmed; IBANs and
/// references may be given with spaces and in any case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaymentOrder {
    /// Field 2, the payer's IBAN: left empty on a bill, the payer's bank fills it in.
    pub payer_iban: Option<String>,
    /// Field 3, a cash deposit.
    pub deposit: bool,
    /// Field 4, a cash withdrawal.
    pub withdrawal: bool,
    /// Field 5, the payer's reference.
    pub payer_reference: Option<String>,
    /// Field 6, the payer's name.
    pub payer_name: String,
    /// Field 7, the payer's street and number.
    pub payer_street: String,
    /// Field 8, the payer's postal code and city.
    pub payer_city: String,
    /// Field 9, the amount in euros (0,01 to 999.999.999,99, at most two decimals).
    pub amount: Decimal,
    /// Field 10, the day the payment is to be made.
    pub payment_date: Option<Date>,
    /// Field 11, an urgent payment.
    pub urgent: bool,
    /// Field 12, the purpose code: four capital letters (`GDSV` goods and services,
    /// `OTHR` other, …).
    pub purpose_code: String,
    /// Field 13, the purpose as the payer sees it (`Plačilo računa 2026-00042`).
    pub purpose: String,
    /// Field 14, the payment deadline.
    pub due_date: Option<Date>,
    /// Field 15, the recipient's IBAN.
    pub recipient_iban: String,
    /// Field 16, the recipient's reference: `SIxx…` or `RFxx…`.
    pub recipient_reference: Option<String>,
    /// Field 17, the recipient's name.
    pub recipient_name: String,
    /// Field 18, the recipient's street and number.
    pub recipient_street: String,
    /// Field 19, the recipient's postal code and city.
    pub recipient_city: String,
}

/// Why a payment order cannot become a UPN QR code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpnError {
    /// A field is longer than the standard allows.
    #[error("{field}: {length} characters, at most {max} allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length in characters.
        length: usize,
        /// The standard's maximum.
        max: usize,
    },
    /// A required field is empty.
    #[error("{field} is required")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A character ISO 8859-2 does not have (or a control character).
    #[error("{field}: {character:?} is not a character of ISO 8859-2, the character set of UPN QR")]
    Charset {
        /// The field.
        field: &'static str,
        /// The character.
        character: char,
    },
    /// Not an IBAN, or its check digits are wrong.
    #[error("{field}: {value:?} is not a valid IBAN")]
    Iban {
        /// The field.
        field: &'static str,
        /// The IBAN as given.
        value: String,
    },
    /// The amount is zero, negative, too large or has fractions of a cent.
    #[error("the amount {0} is not between 0.01 and 999999999.99 with at most two decimals")]
    Amount(Decimal),
    /// The purpose code is not four capital letters.
    #[error("the purpose code {0:?} is not four capital letters")]
    PurposeCode(String),
    /// Not a valid `SI` or `RF` reference.
    #[error("{value:?} is not a valid payment reference: {reason}")]
    Reference {
        /// The reference as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The content does not fit a version 15 QR code (cannot happen for content from
    /// [`payload`], which keeps to the field lengths).
    #[error("the content does not fit the UPN QR symbol: {0}")]
    Qr(String),
}

/// The content of the UPN QR code of `order`: fields 1 to 20 each ended by LF, the
/// reserve filled with spaces to 400 characters. Every field is checked against the
/// standard: lengths, the character set, the IBANs' and references' check digits, the
/// amount's range.
pub fn payload(order: &PaymentOrder) -> Result<String, UpnError> {
    let payer_iban = match &order.payer_iban {
        Some(iban) if !iban.trim().is_empty() => check_iban("payer IBAN", iban, 19)?,
        _ => String::new(),
    };
    let payer_reference = match &order.payer_reference {
        Some(reference) if !reference.trim().is_empty() => check_reference(reference)?,
        _ => String::new(),
    };
    let recipient_reference = match &order.recipient_reference {
        Some(reference) if !reference.trim().is_empty() => check_reference(reference)?,
        _ => String::new(),
    };
    let purpose_code = order.purpose_code.trim();
    if purpose_code.len() != 4 || !purpose_code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(UpnError::PurposeCode(order.purpose_code.clone()));
    }
    let fields: [String; 19] = [
        LEADING_STYLE.to_owned(),
        payer_iban,
        flag(order.deposit),
        flag(order.withdrawal),
        payer_reference,
        check_text("payer name", &order.payer_name, 33, false)?,
        check_text("payer street", &order.payer_street, 33, false)?,
        check_text("payer city", &order.payer_city, 33, false)?,
        format!("{:011}", amount_cents(order.amount)?),
        order.payment_date.map(upn_date).unwrap_or_default(),
        flag(order.urgent),
        purpose_code.to_owned(),
        check_text("purpose", &order.purpose, 42, true)?,
        order.due_date.map(upn_date).unwrap_or_default(),
        check_iban("recipient IBAN", &order.recipient_iban, 34)?,
        recipient_reference,
        check_text("recipient name", &order.recipient_name, 33, true)?,
        check_text("recipient street", &order.recipient_street, 33, false)?,
        check_text("recipient city", &order.recipient_city, 33, false)?,
    ];
    // Every character is one byte in ISO 8859-2, so characters count as bytes.
    let lengths: usize = fields.iter().map(|field| field.chars().count()).sum();
    let checksum = lengths + fields.len();
    let mut content = String::with_capacity(PADDED_LENGTH + 8);
    for field in &fields {
        content.push_str(field);
        content.push('\n');
    }
    content.push_str(&format!("{checksum:03}\n"));
    let length = content.chars().count();
    content.extend(std::iter::repeat_n(
        ' ',
        PADDED_LENGTH.saturating_sub(length),
    ));
    Ok(content)
}

/// The modules of a QR code, dark or light, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Modules per side (77 for UPN QR), without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module in column `x` of row `y` is dark; outside the symbol, false.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width
            && y < self.width
            && self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }
}

/// The UPN QR symbol of a content from [`payload`]: version 15, level M, an ECI
/// designator for ISO 8859-2, then the content as bytes. The printed symbol needs a
/// quiet zone of four modules around it.
pub fn qr_matrix(payload: &str) -> Result<QrMatrix, UpnError> {
    use qrcode::bits::Bits;
    use qrcode::{Color, EcLevel, QrCode, Version};

    let bytes = latin2(payload)
        .ok_or_else(|| UpnError::Qr("the content has characters outside ISO 8859-2".to_owned()))?;
    let qr_error = |error: qrcode::types::QrError| UpnError::Qr(error.to_string());
    let mut bits = Bits::new(Version::Normal(QR_VERSION));
    bits.push_eci_designator(ECI_ISO_8859_2).map_err(qr_error)?;
    bits.push_byte_data(&bytes).map_err(qr_error)?;
    bits.push_terminator(EcLevel::M).map_err(qr_error)?;
    let code = QrCode::with_bits(bits, EcLevel::M).map_err(qr_error)?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|color| color == Color::Dark)
        .collect();
    Ok(QrMatrix {
        width: code.width(),
        dark,
    })
}

/// The ISO 11649 creditor reference (`RF` and two check digits) of `base`, whose
/// letters and digits are kept (upper case) and anything else dropped: `2026-00042`
/// gives `RF89202600042`. At most 21 letters and digits.
pub fn rf_reference(base: &str) -> Result<String, UpnError> {
    let body: String = base
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if body.is_empty() || body.len() > 21 {
        return Err(UpnError::Reference {
            value: base.to_owned(),
            reason: "an RF reference holds 1 to 21 letters and digits",
        });
    }
    let remainder = mod97(&format!("{body}RF00")).unwrap_or(0);
    Ok(format!("RF{:02}{body}", 98 - remainder))
}

/// A reference of model `SI00` (no check digit) from the digit groups of `number`:
/// `2026-00042` gives `SI002026-42`. Up to three groups of up to 12 digits, 20 digits
/// in all; leading zeros of a group are dropped, as the reference rules write parts
/// without them.
pub fn si00_reference(number: &str) -> Result<String, UpnError> {
    let parts: Vec<&str> = number
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let trimmed = part.trim_start_matches('0');
            if trimmed.is_empty() { "0" } else { trimmed }
        })
        .collect();
    check_reference(&format!("SI00{}", parts.join("-")))
}

/// Checks a payment reference and gives it as UPN QR writes it (upper case, without
/// spaces). `RF`: ISO 11649, its check digits verified. `SI`: a model of the reference
/// rules (00–12, 18, 19, 21, 28, 31, 38, 40, 41, 48, 49, 51, 55, 58, 99) followed by up
/// to three hyphen-separated parts of digits (at most 12 digits each, 20 in all, 22
/// characters); `SI99` stands alone; model 12's single part is 13 digits whose last is
/// the mod 11 check digit of the first 12, and that is verified. The other models'
/// check digits are not.
pub fn check_reference(reference: &str) -> Result<String, UpnError> {
    let normalized: String = reference
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let invalid = |reason: &'static str| UpnError::Reference {
        value: reference.to_owned(),
        reason,
    };
    if normalized.len() > 26 {
        return Err(invalid("longer than the 26 characters of the field"));
    }
    if let Some(rest) = normalized.strip_prefix("RF") {
        let valid_chars = rest.len() >= 3
            && rest.bytes().take(2).all(|b| b.is_ascii_digit())
            && rest.bytes().skip(2).all(|b| b.is_ascii_alphanumeric());
        if !valid_chars || rest.len() > 23 {
            return Err(invalid(
                "RF, two check digits and 1 to 21 letters or digits",
            ));
        }
        let (check, body) = rest.split_at(2);
        if mod97(&format!("{body}RF{check}")) != Some(1) {
            return Err(invalid("the RF check digits are wrong"));
        }
        return Ok(normalized);
    }
    let Some(rest) = normalized.strip_prefix("SI") else {
        return Err(invalid("a reference starts with SI or RF"));
    };
    let (model, number) = rest.split_at(rest.len().min(2));
    const MODELS: [&str; 23] = [
        "00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "18", "19",
        "21", "28", "31", "38", "40", "41", "48", "49",
    ];
    const MORE_MODELS: [&str; 4] = ["51", "55", "58", "99"];
    if !MODELS.contains(&model) && !MORE_MODELS.contains(&model) {
        return Err(invalid("not a model of the Slovenian reference rules"));
    }
    if model == "99" {
        return if number.is_empty() {
            Ok(normalized)
        } else {
            Err(invalid("model 99 has no number"))
        };
    }
    if number.is_empty() || number.len() > 22 {
        return Err(invalid("the number after the model has 1 to 22 characters"));
    }
    let parts: Vec<&str> = number.split('-').collect();
    if parts.len() > 3 || parts.iter().any(|part| part.is_empty()) {
        return Err(invalid("one to three parts of digits separated by hyphens"));
    }
    if parts
        .iter()
        .any(|part| !part.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid("the parts are digits"));
    }
    if model == "12" {
        let digits = parts.first().copied().unwrap_or_default();
        if parts.len() != 1 || digits.len() != 13 {
            return Err(invalid("model 12 is one part of 13 digits"));
        }
        let (base, check) = digits.split_at(12);
        if mod11_check_digit(base).to_string() != check {
            return Err(invalid("the mod 11 check digit of model 12 is wrong"));
        }
        return Ok(normalized);
    }
    if parts.iter().any(|part| part.len() > 12) {
        return Err(invalid("each part has 1 to 12 digits"));
    }
    if parts.iter().map(|part| part.len()).sum::<usize>() > 20 {
        return Err(invalid("at most 20 digits in all"));
    }
    Ok(normalized)
}

/// The mod 11 check digit of the reference rules: weights 2, 3, 4, … from the right,
/// `11 − sum mod 11`, where 10 and 11 give 0.
fn mod11_check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .zip(2u32..)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    match 11 - sum % 11 {
        10 | 11 => 0,
        digit => digit,
    }
}

/// ISO 7064 MOD 97-10 of letters and digits, letters counting as 10 to 35.
fn mod97(text: &str) -> Option<u32> {
    let mut remainder = 0u32;
    for c in text.chars() {
        let value = c.to_digit(36)?;
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    Some(remainder)
}

fn check_iban(field: &'static str, iban: &str, max: usize) -> Result<String, UpnError> {
    let normalized: String = iban
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let invalid = || UpnError::Iban {
        field,
        value: iban.to_owned(),
    };
    let bytes = normalized.as_bytes();
    let well_formed = (15..=34).contains(&bytes.len())
        && bytes.iter().take(2).all(u8::is_ascii_uppercase)
        && bytes.iter().skip(2).take(2).all(u8::is_ascii_digit)
        && bytes.iter().all(u8::is_ascii_alphanumeric);
    if !well_formed {
        return Err(invalid());
    }
    // A Slovenian IBAN is SI, two check digits and the 15 digits of the account.
    if normalized.starts_with("SI") && normalized.len() != 19 {
        return Err(invalid());
    }
    let (head, tail) = normalized.split_at(4);
    if mod97(&format!("{tail}{head}")) != Some(1) {
        return Err(invalid());
    }
    if normalized.len() > max {
        return Err(UpnError::TooLong {
            field,
            length: normalized.len(),
            max,
        });
    }
    Ok(normalized)
}

fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, UpnError> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(UpnError::Missing { field });
    }
    if let Some(character) = value.chars().find(|&c| !is_latin2_printable(c)) {
        return Err(UpnError::Charset { field, character });
    }
    let length = value.chars().count();
    if length > max {
        return Err(UpnError::TooLong { field, length, max });
    }
    Ok(value.to_owned())
}

fn amount_cents(amount: Decimal) -> Result<i64, UpnError> {
    let cents = amount * Decimal::ONE_HUNDRED;
    if cents.fract() != Decimal::ZERO {
        return Err(UpnError::Amount(amount));
    }
    match i64::try_from(cents) {
        Ok(cents) if (1..=MAX_AMOUNT_CENTS).contains(&cents) => Ok(cents),
        _ => Err(UpnError::Amount(amount)),
    }
}

fn upn_date(date: Date) -> String {
    format!(
        "{:02}.{:02}.{:04}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

fn flag(set: bool) -> String {
    if set { "X".to_owned() } else { String::new() }
}

/// The printable characters of ISO 8859-2, sorted.
static LATIN2_PRINTABLE: LazyLock<Vec<char>> = LazyLock::new(|| {
    let bytes: Vec<u8> = (0x20..=0x7e).chain(0xa0..=0xff).collect();
    let (text, _) = encoding_rs::ISO_8859_2.decode_without_bom_handling(&bytes);
    let mut chars: Vec<char> = text.chars().collect();
    chars.sort_unstable();
    chars
});

fn is_latin2_printable(c: char) -> bool {
    LATIN2_PRINTABLE.binary_search(&c).is_ok()
}

fn latin2(text: &str) -> Option<Vec<u8>> {
    let (bytes, _, had_errors) = encoding_rs::ISO_8859_2.encode(text);
    (!had_errors).then(|| bytes.into_owned())
}

/// `text` made fit for a UPN QR text field: line breaks and runs of spaces become one
/// space, characters ISO 8859-2 lacks become `?`, and it is cut to `max` characters.
/// For names and addresses that come from shops, which the payment code must not fail on.
pub(crate) fn fit_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(
            word.chars()
                .map(|c| if is_latin2_printable(c) { c } else { '?' }),
        );
    }
    out.chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use time::macros::date;

    use super::*;

    /// Specimen A of the standard: a bill with an SI05 reference and no deadline.
    fn specimen_a() -> PaymentOrder {
        PaymentOrder {
            payer_name: "Janez Novak".into(),
            payer_street: "Dunajska 1".into(),
            payer_city: "1000 Ljubljana".into(),
            amount: Decimal::new(8105, 2),
            purpose_code: "COST".into(),
            purpose: "Plačilo obveznosti 10/2016".into(),
            recipient_iban: "SI56 0510 0801 0486 080".into(),
            recipient_reference: Some("SI05 98765432100".into()),
            recipient_name: "Novo podjetje d.o.o.".into(),
            recipient_street: "Lepa cesta 15".into(),
            recipient_city: "3698 Loški Potok".into(),
            ..PaymentOrder::default()
        }
    }

    /// Specimen B: the payer's IBAN and reference filled in, three-part SI00 references.
    fn specimen_b() -> PaymentOrder {
        PaymentOrder {
            payer_iban: Some("SI56020170014356205".into()),
            payer_reference: Some("SI003528-990".into()),
            payer_name: "Združenje bank Slovenije".into(),
            payer_street: "Šubičeva 2".into(),
            payer_city: "1000 Ljubljana".into(),
            amount: Decimal::new(128067, 2),
            purpose_code: "ADVA".into(),
            purpose: "Plačilo avansa-ponudba 2016/12".into(),
            recipient_iban: "SI56051008010486080".into(),
            recipient_reference: Some("SI00123456-67890-12345".into()),
            recipient_name: "Novo podjetje d.o.o.".into(),
            recipient_street: "Lepa cesta 15".into(),
            recipient_city: "3698 Loški Potok".into(),
            ..PaymentOrder::default()
        }
    }

    /// Specimen H: an RF reference and a deadline.
    fn specimen_h() -> PaymentOrder {
        PaymentOrder {
            payer_name: "Janez Novak".into(),
            payer_street: "Dunajska 1".into(),
            payer_city: "1000 Ljubljana".into(),
            amount: Decimal::new(8105, 2),
            purpose_code: "RENT".into(),
            purpose: "Plačilo najemnine 10/2016".into(),
            due_date: Some(date!(2016 - 11 - 15)),
            recipient_iban: "SI56051008010486080".into(),
            recipient_reference: Some("RF45SBO2010".into()),
            recipient_name: "Novo podjetje d.o.o.".into(),
            recipient_street: "Lepa cesta 15".into(),
            recipient_city: "3698 Loški Potok".into(),
            ..PaymentOrder::default()
        }
    }

    fn padded(fields: &str) -> String {
        format!("{fields}{}", " ".repeat(400 - fields.chars().count()))
    }

    #[test]
    fn reproduces_the_specimen_contents_of_the_standard() {
        let a = "UPNQR\n\n\n\n\nJanez Novak\nDunajska 1\n1000 Ljubljana\n00000008105\n\n\nCOST\n\
                 Plačilo obveznosti 10/2016\n\nSI56051008010486080\nSI0598765432100\n\
                 Novo podjetje d.o.o.\nLepa cesta 15\n3698 Loški Potok\n183\n";
        assert_eq!(payload(&specimen_a()).unwrap(), padded(a));
        let b = "UPNQR\nSI56020170014356205\n\n\nSI003528-990\nZdruženje bank Slovenije\n\
                 Šubičeva 2\n1000 Ljubljana\n00000128067\n\n\nADVA\n\
                 Plačilo avansa-ponudba 2016/12\n\nSI56051008010486080\n\
                 SI00123456-67890-12345\nNovo podjetje d.o.o.\nLepa cesta 15\n\
                 3698 Loški Potok\n238\n";
        assert_eq!(payload(&specimen_b()).unwrap(), padded(b));
        let h = "UPNQR\n\n\n\n\nJanez Novak\nDunajska 1\n1000 Ljubljana\n00000008105\n\n\nRENT\n\
                 Plačilo najemnine 10/2016\n15.11.2016\nSI56051008010486080\nRF45SBO2010\n\
                 Novo podjetje d.o.o.\nLepa cesta 15\n3698 Loški Potok\n188\n";
        assert_eq!(payload(&specimen_h()).unwrap(), padded(h));
    }

    #[test]
    fn fields_sit_in_their_places() {
        let mut order = specimen_h();
        order.payer_iban = Some("SI56 0201 7001 4356 205".into());
        order.deposit = false;
        order.urgent = true;
        order.payment_date = Some(date!(2016 - 11 - 02));
        let content = payload(&order).unwrap();
        let fields: Vec<&str> = content.split('\n').collect();
        assert_eq!(fields.len(), 21);
        assert_eq!(fields[0], "UPNQR");
        assert_eq!(fields[1], "SI56020170014356205");
        assert_eq!(fields[2], "");
        assert_eq!(fields[3], "");
        assert_eq!(fields[8], "00000008105");
        assert_eq!(fields[9], "02.11.2016");
        assert_eq!(fields[10], "X");
        assert_eq!(fields[11], "RENT");
        assert_eq!(fields[13], "15.11.2016");
        assert_eq!(fields[14], "SI56051008010486080");
        assert_eq!(fields[15], "RF45SBO2010");
        let checksum: usize = fields[..19]
            .iter()
            .map(|f| f.chars().count())
            .sum::<usize>()
            + 19;
        assert_eq!(fields[19], format!("{checksum:03}"));
        assert!(fields[20].chars().all(|c| c == ' '));
        assert_eq!(content.chars().count(), 400);
    }

    #[test]
    fn full_fields_fill_the_symbol_without_padding() {
        let order = PaymentOrder {
            payer_iban: Some("SI56020170014356205".into()),
            deposit: true,
            withdrawal: true,
            payer_reference: Some(format!("SI00{}-{}", "1".repeat(12), "2".repeat(8))),
            payer_name: "Ž".repeat(33),
            payer_street: "a".repeat(33),
            payer_city: "b".repeat(33),
            amount: "999999999.99".parse().unwrap(),
            payment_date: Some(date!(2026 - 12 - 31)),
            urgent: true,
            purpose_code: "GDSV".into(),
            purpose: "č".repeat(42),
            due_date: Some(date!(2027 - 01 - 31)),
            recipient_iban: "MT84MALT011000012345MTLCAST001S".into(),
            recipient_reference: Some(format!("SI00{}-{}", "3".repeat(12), "4".repeat(8))),
            recipient_name: "c".repeat(33),
            recipient_street: "d".repeat(33),
            recipient_city: "e".repeat(33),
        };
        let content = payload(&order).unwrap();
        assert!(
            content.chars().count() <= 411,
            "{}",
            content.chars().count()
        );
        let matrix = qr_matrix(&content).unwrap();
        assert_eq!(matrix.width(), 77);
    }

    #[test]
    fn refuses_what_the_standard_does_not_allow() {
        let mut order = specimen_h();
        order.recipient_iban = "SI56051008010486081".into();
        assert!(matches!(payload(&order), Err(UpnError::Iban { .. })));
        order.recipient_iban = "SI5605100801048608".into();
        assert!(matches!(payload(&order), Err(UpnError::Iban { .. })));
        order.recipient_iban = "DE89370400440532013000".into();
        assert!(payload(&order).is_ok(), "a foreign IBAN fits field 15");

        let mut order = specimen_h();
        order.payer_iban = Some("DE89370400440532013000".into());
        assert!(matches!(
            payload(&order),
            Err(UpnError::TooLong { max: 19, .. })
        ));

        for amount in ["0", "-5", "0.001", "1000000000.00"] {
            let mut order = specimen_h();
            order.amount = amount.parse().unwrap();
            assert!(
                matches!(payload(&order), Err(UpnError::Amount(_))),
                "{amount}"
            );
        }
        let mut order = specimen_h();
        order.amount = "999999999.99".parse().unwrap();
        assert!(payload(&order).unwrap().contains("\n99999999999\n"));

        let mut order = specimen_h();
        order.purpose = "x".repeat(43);
        assert_eq!(
            payload(&order),
            Err(UpnError::TooLong {
                field: "purpose",
                length: 43,
                max: 42
            })
        );
        let mut order = specimen_h();
        order.recipient_name = "x".repeat(34);
        assert!(matches!(
            payload(&order),
            Err(UpnError::TooLong { max: 33, .. })
        ));
        let mut order = specimen_h();
        order.recipient_name = "Ивановъ".into();
        assert!(matches!(payload(&order), Err(UpnError::Charset { .. })));
        let mut order = specimen_h();
        order.purpose = "two\nlines".into();
        assert!(matches!(
            payload(&order),
            Err(UpnError::Charset {
                character: '\n',
                ..
            })
        ));
        let mut order = specimen_h();
        order.purpose_code = "rent".into();
        assert!(matches!(payload(&order), Err(UpnError::PurposeCode(_))));
        let mut order = specimen_h();
        order.recipient_reference = Some("RF46SBO2010".into());
        assert!(matches!(payload(&order), Err(UpnError::Reference { .. })));
        let mut order = specimen_h();
        order.recipient_name = " ".into();
        assert_eq!(
            payload(&order),
            Err(UpnError::Missing {
                field: "recipient name"
            })
        );
    }

    #[test]
    fn rf_references_follow_iso_11649() {
        assert_eq!(rf_reference("539007547034").unwrap(), "RF18539007547034");
        assert_eq!(rf_reference("SBO2010").unwrap(), "RF45SBO2010");
        assert_eq!(rf_reference("2348231").unwrap(), "RF712348231");
        assert_eq!(rf_reference("sbo 2010").unwrap(), "RF45SBO2010");
        assert_eq!(rf_reference("2026-00042").unwrap(), "RF89202600042");
        assert_eq!(check_reference("RF89202600042").unwrap(), "RF89202600042");
        assert!(rf_reference("").is_err());
        assert!(rf_reference(&"1".repeat(22)).is_err());
        assert_eq!(
            check_reference("RF18 5390 0754 7034").unwrap(),
            "RF18539007547034"
        );
        assert!(check_reference("RF19539007547034").is_err());
        assert!(check_reference("RF18").is_err());
    }

    #[test]
    fn si_references_follow_the_reference_rules() {
        for reference in [
            "SI00225268-32526-222",
            "SI003528-990",
            "SI0598765432100",
            "SI121033842574531",
            "SI121234567890120",
            "SI081236-17-345679",
            "SI99",
        ] {
            assert_eq!(check_reference(reference).unwrap(), reference);
        }
        assert_eq!(
            check_reference("si12 1033842574531").unwrap(),
            "SI121033842574531"
        );
        assert!(
            check_reference("SI121033842574532").is_err(),
            "wrong mod 11 check digit"
        );
        assert!(
            check_reference("SI1210338425745").is_err(),
            "model 12 needs 13 digits"
        );
        assert!(check_reference("SI13123").is_err(), "no model 13");
        assert!(check_reference("SI00").is_err());
        assert!(check_reference("SI991").is_err());
        assert!(check_reference("SI00ABC").is_err());
        assert!(check_reference("SI001-2-3-4").is_err());
        assert!(check_reference("SI001--3").is_err());
        assert!(check_reference(&format!("SI00{}", "1".repeat(13))).is_err());
        assert!(check_reference("XX123").is_err());
        assert_eq!(mod11_check_digit("102674"), 7);
        assert_eq!(mod11_check_digit("14"), 0);
        assert_eq!(mod11_check_digit("54"), 0);
        assert_eq!(si00_reference("2026-00042").unwrap(), "SI002026-42");
        assert_eq!(si00_reference("R-0000").unwrap(), "SI000");
        assert!(si00_reference("no digits").is_err());
    }

    /// FNV-1a (64 bits) of a symbol's modules, row by row, `1` dark and `0` light.
    fn fingerprint(matrix: &QrMatrix) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for y in 0..matrix.width() {
            for x in 0..matrix.width() {
                hash ^= u64::from(if matrix.is_dark(x, y) { b'1' } else { b'0' });
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        hash
    }

    #[test]
    fn draws_the_specimen_symbols_of_the_standard() {
        // Fingerprints of the specimen symbols A, B and H of the standard, computed
        // the same way from their module matrices as zint's `test_upnqr_encode`
        // (backend/tests/test_qr.c) lists them: the same bits, mask included.
        for (order, expected) in [
            (specimen_a(), 0x6f9c_a92b_6bc6_0536),
            (specimen_b(), 0x4ca1_8fd9_d4df_d299),
            (specimen_h(), 0x1db5_cee7_7a31_f3bb),
        ] {
            let matrix = qr_matrix(&payload(&order).unwrap()).unwrap();
            assert_eq!(fingerprint(&matrix), expected, "{}", order.purpose);
        }
    }

    #[test]
    fn the_symbol_is_version_15() {
        let matrix = qr_matrix(&payload(&specimen_b()).unwrap()).unwrap();
        assert_eq!(matrix.width(), 77);
        // The finder pattern's corner modules.
        assert!(matrix.is_dark(0, 0) && matrix.is_dark(76, 0) && matrix.is_dark(0, 76));
        assert!(!matrix.is_dark(77, 0));
        assert!(qr_matrix("€").is_err());
    }

    #[test]
    fn texts_are_fitted_for_the_fields() {
        assert_eq!(fit_text("  Ana \n Novak  ", 33), "Ana Novak");
        assert_eq!(fit_text("Иван Čop", 33), "???? Čop");
        assert_eq!(fit_text("Dolga ulica 123456789", 11), "Dolga ulica");
        assert_eq!(fit_text("Dolga ulica 123", 6), "Dolga");
    }
}
