//! Numbers and dates as the document's language writes them.
//!
//! | | Slovenian | English |
//! |---|---|---|
//! | amount | `1.234,56` | `1,234.56` |
//! | money, EUR | `1.234,56 €` | `€1,234.56` |
//! | money, other | `1.234,56 USD` | `USD 1,234.56` |
//! | negative | `-1.234,56 €` | `-€1,234.56` |
//! | quantity | `1.234,5` (no trailing zeros) | `1,234.5` |
//! | VAT rate | `9,5 %` | `9.5%` |
//! | date | `3. 12. 2026` | `3 December 2026` |
//!
//! Slovenian follows the national orthography (Slovenski pravopis: thousands with a
//! dot, decimals with a comma, the unit and `%` after a space, a date as day, month and
//! year each closed by a dot and a space); English follows common British business use.
//! Amounts always have two decimals, rounded half away from zero.

use rust_decimal::{Decimal, RoundingStrategy};
use time::Date;

use crate::model::Language;

/// An amount with two decimals and thousands separators, without a currency.
pub fn amount(value: Decimal, language: Language) -> String {
    let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.2}", rounded.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, "00"));
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    let (group, decimal) = separators(language);
    format!(
        "{sign}{}{decimal}{frac_part}",
        group_thousands(int_part, group)
    )
}

/// A unit price: two decimals, or up to four when the price has them (prices derived
/// from gross prices are kept to four places).
pub fn price(value: Decimal, language: Language) -> String {
    let rounded = value.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
    if rounded.normalize().scale() <= 2 {
        return amount(rounded, language);
    }
    let (group, decimal) = separators(language);
    let text = rounded.normalize().abs().to_string();
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if rounded.is_sign_negative() { "-" } else { "" };
    format!(
        "{sign}{}{decimal}{frac_part}",
        group_thousands(int_part, group)
    )
}

/// An amount with its currency: the euro as `€`, other currencies by their ISO code.
pub fn money(value: Decimal, currency: &str, language: Language) -> String {
    let digits = amount(value.abs(), language);
    let rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    let euro = currency.eq_ignore_ascii_case("EUR");
    match (language, euro) {
        (Language::Sl, true) => format!("{sign}{digits} €"),
        (Language::Sl, false) => format!("{sign}{digits} {currency}"),
        (Language::En, true) => format!("{sign}€{digits}"),
        (Language::En, false) => format!("{sign}{currency} {digits}"),
    }
}

/// A quantity with as many decimals as it has, without trailing zeros.
pub fn quantity(value: Decimal, language: Language) -> String {
    let text = value.normalize().to_string();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, text),
    };
    let (group, decimal) = separators(language);
    let formatted = match text.split_once('.') {
        Some((int_part, frac_part)) => {
            format!("{}{decimal}{frac_part}", group_thousands(int_part, group))
        }
        None => group_thousands(&text, group),
    };
    if negative {
        format!("-{formatted}")
    } else {
        formatted
    }
}

/// A VAT rate in percent.
pub fn percent(value: Decimal, language: Language) -> String {
    let number = quantity(value, language);
    match language {
        Language::Sl => format!("{number} %"),
        Language::En => format!("{number}%"),
    }
}

/// A calendar date.
pub fn date(value: Date, language: Language) -> String {
    let day = value.day();
    let month = u8::from(value.month());
    let year = value.year();
    match language {
        Language::Sl => format!("{day}. {month}. {year}"),
        Language::En => {
            let name = crate::text::month_name_en(month);
            format!("{day} {name} {year}")
        }
    }
}

/// An IBAN in groups of four, as it is printed (`SI56 1910 0000 0123 438`).
pub(crate) fn iban(value: &str) -> String {
    let compact: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    compact
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A payment reference as it is printed: `SI00 2026-42` (model, a space, the number),
/// `RF18 5390 0754 7034` (groups of four, as ISO 11649 prints it). Anything else as
/// it is.
pub(crate) fn reference(value: &str) -> String {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.starts_with("RF") {
        return iban(&compact);
    }
    match compact.get(..4) {
        Some(model) if compact.starts_with("SI") && compact.len() > 4 => {
            format!("{model} {}", &compact[4..])
        }
        _ => value.trim().to_owned(),
    }
}

fn separators(language: Language) -> (char, char) {
    match language {
        Language::Sl => ('.', ','),
        Language::En => (',', '.'),
    }
}

fn group_thousands(digits: &str, separator: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use time::macros::date;

    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn amounts_have_two_decimals_and_grouping() {
        assert_eq!(amount(dec("1234.5"), Language::Sl), "1.234,50");
        assert_eq!(amount(dec("1234.5"), Language::En), "1,234.50");
        assert_eq!(amount(dec("0"), Language::Sl), "0,00");
        assert_eq!(amount(dec("999"), Language::Sl), "999,00");
        assert_eq!(amount(dec("1000"), Language::Sl), "1.000,00");
        assert_eq!(amount(dec("1234567.891"), Language::En), "1,234,567.89");
        assert_eq!(amount(dec("0.005"), Language::Sl), "0,01");
        assert_eq!(amount(dec("-0.004"), Language::Sl), "0,00");
        assert_eq!(amount(dec("-1234.56"), Language::Sl), "-1.234,56");
    }

    #[test]
    fn prices_keep_up_to_four_decimals() {
        assert_eq!(price(dec("12.5"), Language::Sl), "12,50");
        assert_eq!(price(dec("8.1967"), Language::Sl), "8,1967");
        assert_eq!(price(dec("8.19670"), Language::En), "8.1967");
        assert_eq!(price(dec("1234.123"), Language::En), "1,234.123");
        assert_eq!(price(dec("1.234567"), Language::Sl), "1,2346");
        assert_eq!(price(dec("-2.25"), Language::Sl), "-2,25");
    }

    #[test]
    fn money_puts_the_currency_where_the_language_does() {
        assert_eq!(money(dec("1234.56"), "EUR", Language::Sl), "1.234,56 €");
        assert_eq!(money(dec("1234.56"), "EUR", Language::En), "€1,234.56");
        assert_eq!(money(dec("-12.3"), "EUR", Language::Sl), "-12,30 €");
        assert_eq!(money(dec("-12.3"), "EUR", Language::En), "-€12.30");
        assert_eq!(money(dec("5"), "USD", Language::Sl), "5,00 USD");
        assert_eq!(money(dec("5"), "USD", Language::En), "USD 5.00");
    }

    #[test]
    fn quantities_drop_trailing_zeros() {
        assert_eq!(quantity(dec("2.000"), Language::Sl), "2");
        assert_eq!(quantity(dec("1.500"), Language::Sl), "1,5");
        assert_eq!(quantity(dec("1.500"), Language::En), "1.5");
        assert_eq!(quantity(dec("12345.25"), Language::Sl), "12.345,25");
        assert_eq!(quantity(dec("-3"), Language::En), "-3");
        assert_eq!(quantity(dec("0.125"), Language::En), "0.125");
    }

    #[test]
    fn rates_and_dates() {
        assert_eq!(percent(dec("9.5"), Language::Sl), "9,5 %");
        assert_eq!(percent(dec("22.00"), Language::En), "22%");
        assert_eq!(date(date!(2026 - 12 - 03), Language::Sl), "3. 12. 2026");
        assert_eq!(date(date!(2026 - 12 - 03), Language::En), "3 December 2026");
        assert_eq!(date(date!(2027 - 01 - 31), Language::En), "31 January 2027");
    }

    #[test]
    fn references_print_as_their_rules_write_them() {
        assert_eq!(reference("SI002026-42"), "SI00 2026-42");
        assert_eq!(reference("SI00 2026-42"), "SI00 2026-42");
        assert_eq!(reference("SI99"), "SI99");
        assert_eq!(reference("RF18539007547034"), "RF18 5390 0754 7034");
        assert_eq!(reference(" 12345 "), "12345");
    }

    #[test]
    fn ibans_print_in_groups_of_four() {
        assert_eq!(iban("SI56191000000123438"), "SI56 1910 0000 0123 438");
        assert_eq!(iban("SI56 1910 0000 0123 438"), "SI56 1910 0000 0123 438");
    }
}
