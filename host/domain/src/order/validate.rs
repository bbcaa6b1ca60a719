//! Is an order self-consistent? Problems are reported field by field, never panicked on.

use rust_decimal::Decimal;

use super::{ChargeLine, LineItem, NormalizedOrder, derive_tax_rate};
use crate::money::{self, CENT};

/// One thing wrong with an order, named by its JSON path (`lines[2].quantity`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldProblem {
    /// Path of the offending field, as in the order's JSON.
    pub field: String,
    /// What is wrong with it, for people.
    pub message: String,
}

impl FieldProblem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// How far a sum may stray from the sum of its `parts`: a cent per part, because each
/// part may have been rounded by the platform on its own. Never less than one cent.
pub(crate) fn rounding_tolerance(parts: usize) -> Decimal {
    CENT * Decimal::from(parts.max(1))
}

/// Checks that the order is complete and adds up.
///
/// - `id`, `number` and every line `name` are not blank; there is at least one line;
/// - `currency` is three upper-case letters;
/// - quantities are positive; tax rates (given or derived) lie within 0–100 %; no amount
///   exceeds [`money::MAX_MAGNITUDE`];
/// - each line: `quantity × unit_price − discount` equals `total` (or `total +
///   tax_amount` when prices include tax), and `tax_amount` equals `total × tax_rate`
///   when the rate is given, each within one cent;
/// - each charge's `tax_amount` equals `amount × tax_rate` within one cent;
/// - `shipping_total`, `tax_total`, `discount_total` (for net prices; for gross prices
///   platforms disagree on its tax basis) and `total` equal the sums of their parts
///   (`total` = line totals + charges + `tax_total`), within one cent per part.
///
/// All problems are returned, not just the first.
pub fn validate(order: &NormalizedOrder) -> Result<(), Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut amounts_in_range = true;
    let mut check_range = |problems: &mut Vec<FieldProblem>, field: String, value: Decimal| {
        if !money::within_magnitude(value) {
            amounts_in_range = false;
            problems.push(FieldProblem::new(
                field,
                format!(
                    "{value} is out of range (at most {} in absolute value)",
                    money::MAX_MAGNITUDE
                ),
            ));
        }
    };

    if order.id.trim().is_empty() {
        problems.push(FieldProblem::new("id", "must not be empty"));
    }
    if order.number.trim().is_empty() {
        problems.push(FieldProblem::new("number", "must not be empty"));
    }
    if !money::is_currency_code(&order.currency) {
        problems.push(FieldProblem::new(
            "currency",
            format!(
                "{:?} is not an ISO 4217 code (three upper-case letters)",
                order.currency
            ),
        ));
    }
    if order.lines.is_empty() {
        problems.push(FieldProblem::new(
            "lines",
            "an order needs at least one line",
        ));
    }

    for (index, line) in order.lines.iter().enumerate() {
        let path = format!("lines[{index}]");
        if line.name.trim().is_empty() {
            problems.push(FieldProblem::new(
                format!("{path}.name"),
                "must not be empty",
            ));
        }
        for (name, value) in [
            ("quantity", line.quantity),
            ("unit_price", line.unit_price),
            ("discount", line.discount),
            ("tax_amount", line.tax_amount),
            ("total", line.total),
        ] {
            check_range(&mut problems, format!("{path}.{name}"), value);
        }
        // Zero is a line the shop removed or refunded with restock after checkout: it
        // stays so refunds and earlier documents still find it, and ships nothing.
        if line.quantity < Decimal::ZERO {
            problems.push(FieldProblem::new(
                format!("{path}.quantity"),
                format!("must not be negative, is {}", line.quantity),
            ));
        }
    }
    for (list, charges) in [
        ("shipping_lines", &order.shipping_lines),
        ("fees", &order.fees),
    ] {
        for (index, charge) in charges.iter().enumerate() {
            let path = format!("{list}[{index}]");
            check_range(&mut problems, format!("{path}.amount"), charge.amount);
            check_range(
                &mut problems,
                format!("{path}.tax_amount"),
                charge.tax_amount,
            );
        }
    }
    for (name, value) in [
        ("discount_total", order.discount_total),
        ("shipping_total", order.shipping_total),
        ("tax_total", order.tax_total),
        ("total", order.total),
    ] {
        check_range(&mut problems, name.to_owned(), value);
    }
    for (index, refund) in order.refunds.iter().enumerate() {
        check_range(
            &mut problems,
            format!("refunds[{index}].amount"),
            refund.amount,
        );
    }
    if order.total < Decimal::ZERO {
        problems.push(FieldProblem::new(
            "total",
            format!("must not be negative, is {}", order.total),
        ));
    }

    // Arithmetic on out-of-range values could overflow; those are reported already.
    if amounts_in_range {
        for (index, line) in order.lines.iter().enumerate() {
            check_line_sums(
                &mut problems,
                &format!("lines[{index}]"),
                line,
                order.prices_include_tax,
            );
        }
        for (list, charges) in [
            ("shipping_lines", &order.shipping_lines),
            ("fees", &order.fees),
        ] {
            for (index, charge) in charges.iter().enumerate() {
                check_charge_tax(&mut problems, &format!("{list}[{index}]"), charge);
            }
        }
        check_order_sums(&mut problems, order);
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn check_rate(
    problems: &mut Vec<FieldProblem>,
    path: &str,
    given: Option<Decimal>,
    tax: Decimal,
    base: Decimal,
) {
    let valid = Decimal::ZERO..=Decimal::ONE_HUNDRED;
    match given {
        Some(rate) if !valid.contains(&rate) => problems.push(FieldProblem::new(
            format!("{path}.tax_rate"),
            format!("{rate} % is outside 0–100 %"),
        )),
        Some(rate) => {
            let expected = base * rate / Decimal::ONE_HUNDRED;
            if (tax - expected).abs() > CENT {
                problems.push(FieldProblem::new(
                    format!("{path}.tax_amount"),
                    format!(
                        "{tax} is not {rate} % of {base} (expected about {})",
                        money::round_money(expected)
                    ),
                ));
            }
        }
        None => {
            let derived = derive_tax_rate(tax, base);
            if !valid.contains(&derived) {
                problems.push(FieldProblem::new(
                    format!("{path}.tax_amount"),
                    format!("{tax} on {base} is a tax rate of {derived} %, outside 0–100 %"),
                ));
            }
        }
    }
}

fn check_line_sums(
    problems: &mut Vec<FieldProblem>,
    path: &str,
    line: &LineItem,
    prices_include_tax: bool,
) {
    let before_tax_basis = line.quantity * line.unit_price - line.discount;
    let (expected, basis) = if prices_include_tax {
        (line.total + line.tax_amount, "total + tax_amount")
    } else {
        (line.total, "total")
    };
    if (before_tax_basis - expected).abs() > CENT {
        problems.push(FieldProblem::new(
            format!("{path}.total"),
            format!(
                "quantity × unit_price − discount is {}, but {basis} is {expected}",
                money::round_money(before_tax_basis)
            ),
        ));
    }
    check_rate(problems, path, line.tax_rate, line.tax_amount, line.total);
}

fn check_charge_tax(problems: &mut Vec<FieldProblem>, path: &str, charge: &ChargeLine) {
    check_rate(
        problems,
        path,
        charge.tax_rate,
        charge.tax_amount,
        charge.amount,
    );
}

fn check_order_sums(problems: &mut Vec<FieldProblem>, order: &NormalizedOrder) {
    let charges = order.shipping_lines.iter().chain(&order.fees);
    let parts = order.lines.len() + order.shipping_lines.len() + order.fees.len();

    let shipping: Decimal = order
        .shipping_lines
        .iter()
        .map(|charge| charge.amount)
        .sum();
    if (order.shipping_total - shipping).abs() > rounding_tolerance(order.shipping_lines.len()) {
        problems.push(FieldProblem::new(
            "shipping_total",
            format!(
                "{} differs from the sum of shipping_lines, {shipping}",
                order.shipping_total
            ),
        ));
    }

    let tax: Decimal = order
        .lines
        .iter()
        .map(|line| line.tax_amount)
        .sum::<Decimal>()
        + charges
            .clone()
            .map(|charge| charge.tax_amount)
            .sum::<Decimal>();
    if (order.tax_total - tax).abs() > rounding_tolerance(parts) {
        problems.push(FieldProblem::new(
            "tax_total",
            format!(
                "{} differs from the sum of line and charge taxes, {tax}",
                order.tax_total
            ),
        ));
    }

    if !order.prices_include_tax {
        let discount: Decimal = order.lines.iter().map(|line| line.discount).sum();
        if (order.discount_total - discount).abs() > rounding_tolerance(order.lines.len()) {
            problems.push(FieldProblem::new(
                "discount_total",
                format!(
                    "{} differs from the sum of line discounts, {discount}",
                    order.discount_total
                ),
            ));
        }
    }

    let expected = order.lines.iter().map(|line| line.total).sum::<Decimal>()
        + charges.map(|charge| charge.amount).sum::<Decimal>()
        + order.tax_total;
    if (order.total - expected).abs() > rounding_tolerance(parts) {
        problems.push(FieldProblem::new(
            "total",
            format!(
                "{} differs from line totals + shipping + fees + tax_total, {expected}",
                order.total
            ),
        ));
    }
}
