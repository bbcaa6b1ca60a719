//! The fixed texts of a document, one table per language, and the names of units of
//! measure (UN/ECE Recommendation 20 codes).

use crate::model::{Language, PrintKind};

/// Every fixed text a document prints.
#[derive(Debug)]
pub(crate) struct Texts {
    pub invoice: &'static str,
    pub delivery_note: &'static str,
    pub credit_note: &'static str,
    pub cancellation: &'static str,
    pub page: &'static str,
    pub continued: &'static str,
    pub vat_id: &'static str,
    pub registration_number: &'static str,
    pub iban: &'static str,
    pub bic: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub buyer: &'static str,
    pub ship_to: &'static str,
    pub issue_date: &'static str,
    pub delivery_date: &'static str,
    pub due_date: &'static str,
    pub order_number: &'static str,
    pub payment_method: &'static str,
    pub payment_reference: &'static str,
    pub refers_to: &'static str,
    pub refers_to_of: &'static str,
    pub paid: &'static str,
    pub amounts_in: &'static str,
    pub col_position: &'static str,
    pub col_sku: &'static str,
    pub col_name: &'static str,
    pub col_quantity: &'static str,
    pub col_unit: &'static str,
    pub col_unit_price: &'static str,
    pub col_discount: &'static str,
    pub col_vat_rate: &'static str,
    pub col_net: &'static str,
    pub col_gross: &'static str,
    pub vat_recap: &'static str,
    pub recap_rate: &'static str,
    pub recap_base: &'static str,
    pub recap_vat: &'static str,
    pub recap_total: &'static str,
    pub total_net: &'static str,
    pub total_vat: &'static str,
    pub rounding: &'static str,
    pub total_due: &'static str,
    pub total: &'static str,
    pub upn_caption: &'static str,
    pub upn_heading: &'static str,
    pub upn_hint: &'static str,
    pub upn_recipient: &'static str,
    pub upn_amount: &'static str,
    pub upn_purpose: &'static str,
}

const SL: Texts = Texts {
    invoice: "Račun",
    delivery_note: "Dobavnica",
    credit_note: "Dobropis",
    cancellation: "Storno",
    page: "Stran",
    continued: "nadaljevanje",
    vat_id: "ID za DDV",
    registration_number: "Matična številka",
    iban: "IBAN",
    bic: "BIC",
    email: "E-pošta",
    phone: "Telefon",
    buyer: "Kupec",
    ship_to: "Naslov za dostavo",
    issue_date: "Datum izdaje",
    delivery_date: "Datum opravljene storitve/dobave",
    due_date: "Rok plačila",
    order_number: "Številka naročila",
    payment_method: "Način plačila",
    payment_reference: "Sklic",
    refers_to: "Nanaša se na",
    refers_to_of: "z dne",
    paid: "Plačano",
    amounts_in: "Zneski so v",
    col_position: "#",
    col_sku: "Šifra",
    col_name: "Naziv",
    col_quantity: "Količina",
    col_unit: "EM",
    col_unit_price: "Cena",
    col_discount: "Popust",
    col_vat_rate: "DDV",
    col_net: "Vrednost brez DDV",
    col_gross: "Vrednost z DDV",
    vat_recap: "Rekapitulacija DDV",
    recap_rate: "Stopnja",
    recap_base: "Osnova",
    recap_vat: "DDV",
    recap_total: "Skupaj",
    total_net: "Skupaj brez DDV",
    total_vat: "DDV",
    rounding: "Zaokrožitev",
    total_due: "Za plačilo",
    total: "Skupaj",
    upn_caption: "UPN QR",
    upn_heading: "Plačilo",
    upn_hint: "Kodo UPN QR skenirajte z mobilno banko.",
    upn_recipient: "Prejemnik",
    upn_amount: "Znesek",
    upn_purpose: "Namen",
};

const EN: Texts = Texts {
    invoice: "Invoice",
    delivery_note: "Delivery note",
    credit_note: "Credit note",
    cancellation: "Cancellation",
    page: "Page",
    continued: "continued",
    vat_id: "VAT ID",
    registration_number: "Registration number",
    iban: "IBAN",
    bic: "BIC",
    email: "Email",
    phone: "Phone",
    buyer: "Buyer",
    ship_to: "Ship to",
    issue_date: "Issue date",
    delivery_date: "Date of supply",
    due_date: "Due date",
    order_number: "Order number",
    payment_method: "Payment method",
    payment_reference: "Payment reference",
    refers_to: "Refers to",
    refers_to_of: "of",
    paid: "Paid",
    amounts_in: "Amounts in",
    col_position: "#",
    col_sku: "Code",
    col_name: "Description",
    col_quantity: "Quantity",
    col_unit: "Unit",
    col_unit_price: "Unit price",
    col_discount: "Discount",
    col_vat_rate: "VAT",
    col_net: "Net amount",
    col_gross: "Gross amount",
    vat_recap: "VAT summary",
    recap_rate: "Rate",
    recap_base: "Taxable amount",
    recap_vat: "VAT",
    recap_total: "Total",
    total_net: "Total excluding VAT",
    total_vat: "VAT",
    rounding: "Rounding",
    total_due: "Total due",
    total: "Total",
    upn_caption: "UPN QR",
    upn_heading: "Payment",
    upn_hint: "Scan the UPN QR code with your mobile banking app.",
    upn_recipient: "Payee",
    upn_amount: "Amount",
    upn_purpose: "Purpose",
};

/// The table of fixed texts of a language.
pub(crate) fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Sl => &SL,
        Language::En => &EN,
    }
}

impl Texts {
    /// The document's title word (`Račun`, `Delivery note`).
    pub(crate) fn kind(&self, kind: PrintKind) -> &'static str {
        match kind {
            PrintKind::Invoice => self.invoice,
            PrintKind::DeliveryNote => self.delivery_note,
            PrintKind::CreditNote => self.credit_note,
            PrintKind::Cancellation => self.cancellation,
        }
    }
}

/// English month names, for dates.
pub(crate) fn month_name_en(month: u8) -> &'static str {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    month
        .checked_sub(1)
        .and_then(|index| MONTHS.get(usize::from(index)))
        .copied()
        .unwrap_or("")
}

/// The printed name of a unit of measure given as a UN/ECE Recommendation 20 code (the
/// codes e-invoices use); a code not in the table is printed as it is.
pub(crate) fn unit_name(code: &str, language: Language) -> String {
    let (sl, en) = match code.trim().to_ascii_uppercase().as_str() {
        // C62 "one" is what shops send for pieces; H87 "piece" and EA "each" mean the same.
        "C62" | "H87" | "EA" => ("kos", "pcs"),
        "SET" => ("komplet", "set"),
        "PR" => ("par", "pair"),
        "KGM" => ("kg", "kg"),
        "GRM" => ("g", "g"),
        "TNE" => ("t", "t"),
        "LTR" => ("l", "l"),
        "MLT" => ("ml", "ml"),
        "MTR" => ("m", "m"),
        "CMT" => ("cm", "cm"),
        "MMT" => ("mm", "mm"),
        "KMT" => ("km", "km"),
        "MTK" => ("m²", "m²"),
        "MTQ" => ("m³", "m³"),
        "KWH" => ("kWh", "kWh"),
        "MIN" => ("min", "min"),
        "HUR" => ("h", "h"),
        "DAY" => ("dan", "day"),
        "WEE" => ("teden", "week"),
        "MON" => ("mesec", "month"),
        "ANN" => ("leto", "year"),
        _ => return code.trim().to_owned(),
    };
    match language {
        Language::Sl => sl.to_owned(),
        Language::En => en.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_named_in_the_language() {
        assert_eq!(unit_name("C62", Language::Sl), "kos");
        assert_eq!(unit_name("H87", Language::En), "pcs");
        assert_eq!(unit_name("kgm", Language::Sl), "kg");
        assert_eq!(unit_name("DAY", Language::Sl), "dan");
        assert_eq!(unit_name("XYZ", Language::En), "XYZ");
    }

    #[test]
    fn titles_per_kind() {
        assert_eq!(texts(Language::Sl).kind(PrintKind::Invoice), "Račun");
        assert_eq!(
            texts(Language::En).kind(PrintKind::CreditNote),
            "Credit note"
        );
        assert_eq!(texts(Language::Sl).kind(PrintKind::Cancellation), "Storno");
        assert_eq!(month_name_en(12), "December");
        assert_eq!(month_name_en(0), "");
    }
}
