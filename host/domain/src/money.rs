//! Exact money arithmetic.
//!
//! Amounts are [`Decimal`]s, never floats. Money is rounded to cents with
//! half-away-from-zero ("commercial") rounding: it is what invoicing programs and tax
//! authorities in the shops' markets use, and unlike banker's rounding it gives the
//! same cent a customer computes by hand (`0.125` → `0.13`, `-0.125` → `-0.13`).

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of a money amount (cents).
pub const MONEY_SCALE: u32 = 2;

/// Decimal places kept for a unit price the host derives itself (a net price computed
/// from a gross one): more than cents, so `quantity × price` still reproduces the shop's
/// amount.
pub const UNIT_PRICE_SCALE: u32 = 4;

/// One cent.
pub const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The largest absolute amount or quantity the rules accept.
///
/// Far beyond any real order, and small enough that products and sums of such values
/// can never overflow [`Decimal`] (which would panic).
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// Rounds to `scale` decimal places, half away from zero.
pub fn round_to(amount: Decimal, scale: u32) -> Decimal {
    amount.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero)
}

/// Rounds to cents, half away from zero.
pub fn round_money(amount: Decimal) -> Decimal {
    round_to(amount, MONEY_SCALE)
}

/// VAT on a net amount at `rate_percent`, rounded to cents.
pub fn vat_on_net(net: Decimal, rate_percent: Decimal) -> Decimal {
    round_money(net * rate_percent / Decimal::ONE_HUNDRED)
}

/// The VAT contained in a gross amount at `rate_percent`, rounded to cents.
pub fn vat_in_gross(gross: Decimal, rate_percent: Decimal) -> Decimal {
    let divisor = Decimal::ONE_HUNDRED + rate_percent;
    if divisor.is_zero() {
        return Decimal::ZERO;
    }
    round_money(gross * rate_percent / divisor)
}

/// The net part of a gross amount at `rate_percent`, unrounded. A rate of −100 %
/// (no real rate) leaves the amount as it is rather than dividing by zero.
pub fn net_from_gross(gross: Decimal, rate_percent: Decimal) -> Decimal {
    let divisor = Decimal::ONE_HUNDRED + rate_percent;
    if divisor.is_zero() {
        return gross;
    }
    gross * Decimal::ONE_HUNDRED / divisor
}

/// The net equivalent of a gross unit price, kept to [`UNIT_PRICE_SCALE`] places.
pub fn net_unit_price(gross: Decimal, rate_percent: Decimal) -> Decimal {
    round_to(net_from_gross(gross, rate_percent), UNIT_PRICE_SCALE)
}

/// Whether `code` looks like an ISO 4217 currency code: exactly three upper-case ASCII
/// letters.
pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Whether `value` is within [`MAX_MAGNITUDE`].
pub fn within_magnitude(value: Decimal) -> bool {
    value.abs() <= MAX_MAGNITUDE
}

/// The canonical text of a decimal: trailing zeros dropped, no negative zero
/// (`"1.50"` → `"1.5"`, `"-0.00"` → `"0"`).
pub fn canonical(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_money(d("0.125")), d("0.13"));
        assert_eq!(round_money(d("-0.125")), d("-0.13"));
        assert_eq!(round_money(d("0.135")), d("0.14"));
        assert_eq!(round_money(d("2.344999")), d("2.34"));
    }

    #[test]
    fn constants_are_what_they_claim() {
        assert_eq!(CENT, d("0.01"));
        assert_eq!(MAX_MAGNITUDE, d("1000000000000"));
    }

    #[test]
    fn vat_from_net_and_from_gross() {
        assert_eq!(vat_on_net(d("8.19"), d("22")), d("1.80"));
        assert_eq!(vat_in_gross(d("9.99"), d("22")), d("1.80"));
        assert_eq!(vat_in_gross(d("10"), d("0")), d("0"));
        assert_eq!(net_unit_price(d("9.99"), d("22")), d("8.1885"));
        assert_eq!(net_unit_price(d("9.99"), d("-100")), d("9.99"));
    }

    #[test]
    fn currency_codes() {
        assert!(is_currency_code("EUR"));
        assert!(!is_currency_code("eur"));
        assert!(!is_currency_code("EURO"));
        assert!(!is_currency_code("E1R"));
        assert!(!is_currency_code("ČZK"));
    }

    #[test]
    fn canonical_text() {
        assert_eq!(canonical(d("1.50")), "1.5");
        assert_eq!(canonical(d("-0.00")), "0");
        assert_eq!(canonical(d("100")), "100");
    }
}
