//! Which order lines a shipment tells the shop it carried.

use rust_decimal::Decimal;

/// One order line as far as telling the shop goes: the platform's id of the line, what
/// is to be delivered, and what left the warehouse on delivery notes (or invoices that
/// move stock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineToFulfil<'a> {
    pub platform_line_id: Option<&'a str>,
    pub quantity: Decimal,
    pub delivered: Decimal,
}

/// The lines and quantities a shipment of the whole order carried, for the shop's
/// fulfilment: what the documents delivered when any were issued (a partial delivery
/// note ships only its lines), else every line in full. Empty, meaning "every line not
/// yet fulfilled" to the shop, when a line cannot be named to the platform (it has no
/// platform line id): naming only some lines would leave the others unfulfilled.
pub fn fulfilled_lines(lines: &[LineToFulfil<'_>]) -> Vec<(String, Decimal)> {
    if lines.iter().any(|line| line.platform_line_id.is_none()) {
        return Vec::new();
    }
    let documents_issued = lines.iter().any(|line| !line.delivered.is_zero());
    lines
        .iter()
        .filter_map(|line| {
            let quantity = if documents_issued {
                line.delivered
            } else {
                line.quantity
            };
            let id = line.platform_line_id?;
            (quantity > Decimal::ZERO).then(|| (id.to_owned(), quantity))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn line<'a>(id: Option<&'a str>, quantity: &str, delivered: &str) -> LineToFulfil<'a> {
        LineToFulfil {
            platform_line_id: id,
            quantity: d(quantity),
            delivered: d(delivered),
        }
    }

    #[test]
    fn without_documents_every_line_ships_in_full() {
        let lines = [line(Some("11"), "2", "0"), line(Some("12"), "1", "0")];
        assert_eq!(
            fulfilled_lines(&lines),
            vec![("11".to_owned(), d("2")), ("12".to_owned(), d("1"))]
        );
    }

    #[test]
    fn a_partial_delivery_note_ships_only_what_it_delivered() {
        let lines = [line(Some("11"), "2", "1"), line(Some("12"), "1", "0")];
        assert_eq!(fulfilled_lines(&lines), vec![("11".to_owned(), d("1"))]);
    }

    #[test]
    fn a_line_the_platform_cannot_name_leaves_it_to_the_platform() {
        let lines = [line(Some("11"), "2", "0"), line(None, "1", "0")];
        assert!(fulfilled_lines(&lines).is_empty());
    }
}
