//! Address lines as platforms send them and as invoices and carriers need them.
//!
//! Most shop platforms keep the street and the house number in one line; carriers and
//! e-invoices want them apart. These helpers split the common European and
//! English-speaking forms and leave anything else whole, so nothing is lost.
//!
//! ```
//! use tovor_sdk::address::{non_blank, split_street};
//!
//! assert_eq!(
//!     split_street("Slovenska cesta 12a"),
//!     (Some("Slovenska cesta".into()), Some("12a".into()))
//! );
//! assert_eq!(
//!     split_street("221B Baker Street"),
//!     (Some("Baker Street".into()), Some("221B".into()))
//! );
//! assert_eq!(split_street("Pod lipami"), (Some("Pod lipami".into()), None));
//! assert_eq!(non_blank(Some("  ")), None);
//! ```

/// Splits a street line into street and house number: the number is the last word when
/// it starts with a digit (`"Slovenska cesta 12a"`, `"Trg 1"`), else the first word when
/// that does (`"221B Baker Street"`). Otherwise the whole line is the street and there
/// is no number. A comma between the two (`"Dunajska, 5"`, `"5, Dunajska"`) is dropped.
pub fn split_street(line: &str) -> (Option<String>, Option<String>) {
    let line = line.trim();
    let starts_with_digit = |word: &str| word.starts_with(|c: char| c.is_ascii_digit());
    if let Some((street, number)) = line.rsplit_once(' ')
        && starts_with_digit(number)
        && !street.trim().is_empty()
    {
        return (
            Some(street.trim_end().trim_end_matches(',').to_owned()),
            Some(number.to_owned()),
        );
    }
    if let Some((number, street)) = line.split_once(' ')
        && starts_with_digit(number)
        && !street.trim().is_empty()
    {
        return (
            Some(street.trim().to_owned()),
            Some(number.trim_end_matches(',').to_owned()),
        );
    }
    (non_blank(Some(line)), None)
}

/// The text trimmed, or `None` when there is none or it is blank: platforms send `""`,
/// `" "` and `null` for a field nobody filled in.
pub fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(street: Option<&str>, number: Option<&str>) -> (Option<String>, Option<String>) {
        (street.map(Into::into), number.map(Into::into))
    }

    #[test]
    fn splits_the_common_forms_and_keeps_the_rest_whole() {
        let cases = [
            ("Slovenska cesta 12a", Some("Slovenska cesta"), Some("12a")),
            (" Trg 1 ", Some("Trg"), Some("1")),
            ("Dunajska, 5", Some("Dunajska"), Some("5")),
            ("221B Baker Street", Some("Baker Street"), Some("221B")),
            ("5, Dunajska", Some("Dunajska"), Some("5")),
            ("Pod lipami", Some("Pod lipami"), None),
            ("12", Some("12"), None),
            ("   ", None, None),
        ];
        for (line, street, number) in cases {
            assert_eq!(split_street(line), parts(street, number), "{line:?}");
        }
    }
}
