//! The stock ledger (docs/architecture.md: flows 2 and 3, Data).
//!
//! Stock is a ledger of signed movements per item and warehouse: on hand is their sum,
//! reserved is what open orders still await, available is the difference. Shops are
//! told on hand or available, per shop.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::document::{DocumentDraft, LineRef};
use crate::ids::{DocumentId, ItemId, WarehouseId};

/// One entry of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// Which item.
    pub item: ItemId,
    /// In which warehouse.
    pub warehouse: WarehouseId,
    /// Signed quantity: positive adds stock, negative takes it away.
    pub quantity: Decimal,
    /// Why.
    pub kind: MovementKind,
}

/// Why stock moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum MovementKind {
    /// Goods received.
    Receipt,
    /// A correction (stocktaking, breakage).
    Adjustment,
    /// A stock-moving document was issued.
    DocumentIssue {
        /// The document.
        document: DocumentId,
    },
    /// A stock-moving document was cancelled.
    Reversal {
        /// The cancelled document.
        document: DocumentId,
    },
    /// Goods came back with a credit note (the refund restocked them).
    Return {
        /// The credit note.
        document: DocumentId,
    },
}

/// Stock on hand: the sum of the movements given. The caller passes the movements of
/// one item in one warehouse.
///
/// Quantities are bounded by order validation ([`crate::money::MAX_MAGNITUDE`]), so the
/// sum cannot overflow for any ledger a database can hold.
pub fn on_hand(movements: &[Movement]) -> Decimal {
    movements.iter().map(|movement| movement.quantity).sum()
}

/// A line of an open order, as far as stock cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenOrderLine {
    /// Which item.
    pub item: ItemId,
    /// Quantity ordered.
    pub ordered: Decimal,
    /// Quantity already delivered (on stock-moving documents, net of cancellations).
    pub delivered: Decimal,
}

/// Stock reserved by open orders: what they ordered and was not delivered yet. A line
/// delivered beyond what was ordered reserves nothing (not a negative amount).
///
/// The caller passes the lines of open orders (see
/// [`crate::mapping::HostStatus::is_open`]) for one item, from the shops that sell from
/// the warehouse in question.
pub fn reserved(open_order_lines: &[OpenOrderLine]) -> Decimal {
    open_order_lines
        .iter()
        .map(|line| (line.ordered - line.delivered).max(Decimal::ZERO))
        .sum()
}

/// The stock figures of one item in one warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    /// Sum of the movements.
    pub on_hand: Decimal,
    /// Awaited by open orders.
    pub reserved: Decimal,
    /// `on_hand − reserved`; negative when more is promised than there is.
    pub available: Decimal,
}

impl StockLevel {
    /// The level from the item's movements and open order lines.
    pub fn compute(movements: &[Movement], open_order_lines: &[OpenOrderLine]) -> Self {
        Self::from_parts(on_hand(movements), reserved(open_order_lines))
    }

    /// The level from on hand and reserved as the storage aggregated them.
    pub fn from_parts(on_hand: Decimal, reserved: Decimal) -> Self {
        Self {
            on_hand,
            reserved,
            available: on_hand - reserved,
        }
    }
}

/// Which figure a shop is told, a per-shop setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockMode {
    /// Everything in the warehouse.
    OnHand,
    /// On hand minus what open orders await.
    #[default]
    Available,
}

/// The whole number of pieces a shop is told: the figure `mode` picks, rounded down
/// (a shop cannot sell 0.7 of a piece it has), and never below zero. Shops take a
/// negative level as a data error or as "backorders allowed"; zero means "sold out",
/// which is what the merchant means. Figures beyond `i64` saturate.
pub fn shop_quantity(level: &StockLevel, mode: StockMode) -> i64 {
    let figure = match mode {
        StockMode::OnHand => level.on_hand,
        StockMode::Available => level.available,
    };
    if figure <= Decimal::ZERO {
        return 0;
    }
    figure.floor().to_i64().unwrap_or(i64::MAX)
}

/// A document line whose order line has no catalog item: matching should have given
/// every line one, so the caller's data is inconsistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} has no catalog item")]
pub struct UnlinkedLine(pub LineRef);

/// The movements issuing `draft` causes in `warehouse`: for each item line, its quantity
/// leaves stock. Nothing when the document kind does not move stock for this shop
/// (`moves_stock` false: the delivery note by default, the invoice when no delivery
/// notes are used). Shipping, fees and the rounding line are not goods.
///
/// `item_of` tells the catalog item of an order line (the storage knows it from
/// matching at import).
pub fn movements_for_issue(
    draft: &DocumentDraft,
    document: DocumentId,
    warehouse: WarehouseId,
    moves_stock: bool,
    item_of: impl Fn(LineRef) -> Option<ItemId>,
) -> Result<Vec<Movement>, UnlinkedLine> {
    if !moves_stock {
        return Ok(Vec::new());
    }
    draft
        .lines
        .iter()
        .filter_map(|line| match line.source {
            Some(source @ LineRef::Item(_)) => Some((source, line.quantity)),
            _ => None,
        })
        .map(|(source, quantity)| {
            let item = item_of(source).ok_or(UnlinkedLine(source))?;
            Ok(Movement {
                item,
                warehouse,
                quantity: -quantity,
                kind: MovementKind::DocumentIssue { document },
            })
        })
        .collect()
}

/// The movements of a credit note whose goods went back to stock: each credited item
/// line's quantity into `warehouse`. Charges move nothing.
///
/// # Errors
///
/// [`UnlinkedLine`] for an item line without a catalog item.
pub fn movements_for_return(
    draft: &DocumentDraft,
    document: DocumentId,
    warehouse: WarehouseId,
    item_of: impl Fn(LineRef) -> Option<ItemId>,
) -> Result<Vec<Movement>, UnlinkedLine> {
    movements_for_issue(draft, document, warehouse, true, item_of).map(|movements| {
        movements
            .into_iter()
            .map(|movement| Movement {
                quantity: -movement.quantity,
                kind: MovementKind::Return { document },
                ..movement
            })
            .collect()
    })
}

/// The movements cancelling a document: the exact opposite of those its issue
/// recorded, loaded from the ledger. Reversing the recorded movements rather than
/// recomputing them from the document keeps the cancel exact even when settings
/// (which document moves stock, the shop's warehouse) changed in between.
pub fn movements_for_cancel(issued: &[Movement], document: DocumentId) -> Vec<Movement> {
    issued
        .iter()
        .map(|movement| Movement {
            item: movement.item,
            warehouse: movement.warehouse,
            quantity: -movement.quantity,
            kind: MovementKind::Reversal { document },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn movement(quantity: &str, kind: MovementKind) -> Movement {
        Movement {
            item: ItemId(1),
            warehouse: WarehouseId(1),
            quantity: d(quantity),
            kind,
        }
    }

    #[test]
    fn on_hand_sums_signed_movements() {
        let ledger = [
            movement("10", MovementKind::Receipt),
            movement(
                "-3",
                MovementKind::DocumentIssue {
                    document: DocumentId(1),
                },
            ),
            movement(
                "3",
                MovementKind::Reversal {
                    document: DocumentId(1),
                },
            ),
            movement("-0.5", MovementKind::Adjustment),
        ];
        assert_eq!(on_hand(&ledger), d("9.5"));
        assert_eq!(on_hand(&[]), Decimal::ZERO);
    }

    #[test]
    fn reserved_counts_only_what_is_not_delivered() {
        let lines = [
            OpenOrderLine {
                item: ItemId(1),
                ordered: d("5"),
                delivered: d("2"),
            },
            OpenOrderLine {
                item: ItemId(1),
                ordered: d("1"),
                delivered: d("3"),
            },
        ];
        assert_eq!(reserved(&lines), d("3"));
        let level = StockLevel::compute(&[movement("2", MovementKind::Receipt)], &lines);
        assert_eq!(level.available, d("-1"));
    }

    #[test]
    fn shop_quantity_floors_and_never_goes_negative() {
        let level = StockLevel::from_parts(d("7.9"), d("3"));
        assert_eq!(shop_quantity(&level, StockMode::OnHand), 7);
        assert_eq!(shop_quantity(&level, StockMode::Available), 4);
        let oversold = StockLevel::from_parts(d("2"), d("5"));
        assert_eq!(shop_quantity(&oversold, StockMode::Available), 0);
        assert_eq!(
            shop_quantity(
                &StockLevel::from_parts(d("0.99"), d("0")),
                StockMode::OnHand
            ),
            0
        );
        let huge = StockLevel::from_parts(Decimal::MAX, Decimal::ZERO);
        assert_eq!(shop_quantity(&huge, StockMode::OnHand), i64::MAX);
    }

    #[test]
    fn cancel_is_the_exact_opposite() {
        let issued = [
            movement(
                "-2",
                MovementKind::DocumentIssue {
                    document: DocumentId(4),
                },
            ),
            movement(
                "-1.5",
                MovementKind::DocumentIssue {
                    document: DocumentId(4),
                },
            ),
        ];
        let cancel = movements_for_cancel(&issued, DocumentId(4));
        assert_eq!(cancel.len(), 2);
        assert_eq!(cancel[0].quantity, d("2"));
        assert_eq!(
            cancel[1].kind,
            MovementKind::Reversal {
                document: DocumentId(4)
            }
        );
        let all: Vec<Movement> = issued.iter().cloned().chain(cancel).collect();
        assert_eq!(on_hand(&all), Decimal::ZERO);
    }

    #[test]
    fn issuing_a_document_takes_its_goods_out_of_stock() {
        use crate::document::{DocumentKind, draft_document};
        let order = crate::test_support::order();
        let draft = draft_document(DocumentKind::Invoice, &order, None, &[]).unwrap();
        let item_of = |line: LineRef| match line {
            LineRef::Item(n) => Some(ItemId(100 + i64::from(n))),
            _ => None,
        };
        let moves =
            movements_for_issue(&draft, DocumentId(9), WarehouseId(2), true, item_of).unwrap();
        assert_eq!(
            moves,
            [
                Movement {
                    item: ItemId(100),
                    warehouse: WarehouseId(2),
                    quantity: d("-2"),
                    kind: MovementKind::DocumentIssue {
                        document: DocumentId(9)
                    }
                },
                Movement {
                    item: ItemId(101),
                    warehouse: WarehouseId(2),
                    quantity: d("-3"),
                    kind: MovementKind::DocumentIssue {
                        document: DocumentId(9)
                    }
                },
            ]
        );
        assert!(
            movements_for_issue(&draft, DocumentId(9), WarehouseId(2), false, item_of)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            movements_for_issue(&draft, DocumentId(9), WarehouseId(2), true, |_| None),
            Err(UnlinkedLine(LineRef::Item(0)))
        );
    }

    #[test]
    fn movement_json_shape() {
        let json = serde_json::to_value(movement(
            "-2",
            MovementKind::DocumentIssue {
                document: DocumentId(4),
            },
        ))
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "item": 1, "warehouse": 1, "quantity": "-2",
                "kind": {"type": "document_issue", "document": 4}
            })
        );
    }
}
