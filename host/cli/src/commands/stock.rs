//! `tovor stock ...`: on hand, reserved and available; goods received and counts.

use serde_json::{Value, json};

use super::show;
use crate::client::ApiOptions;
use crate::output::{Table, cell, items, out, outln};
use crate::parse::SkuQty;

#[derive(Debug, clap::Subcommand)]
pub enum StockCommand {
    /// On hand, reserved and available per item and warehouse.
    Show {
        /// Only this item (its code).
        #[arg(long)]
        sku: Option<String>,
        /// Only this item (its id).
        #[arg(long, value_name = "ID", conflicts_with = "sku")]
        item: Option<i64>,
        /// Only this warehouse.
        #[arg(long, value_name = "ID")]
        warehouse: Option<i64>,
    },
    /// Record goods received (stock goes up and the shops hear of it), or with
    /// --adjustment a count correction of either sign.
    Receive {
        /// The warehouse the goods arrived in.
        #[arg(long, value_name = "ID")]
        warehouse: i64,
        /// Item code and quantity; repeat for each item.
        #[arg(value_name = "SKU=QTY", required = true)]
        lines: Vec<SkuQty>,
        /// A count correction (the quantities may be negative) rather than a receipt.
        #[arg(long)]
        adjustment: bool,
        /// A note kept with the movements.
        #[arg(long)]
        note: Option<String>,
    },
}

/// The body of `POST /stock/receipts`.
pub fn receipt_body(
    warehouse: i64,
    lines: &[SkuQty],
    adjustment: bool,
    note: Option<&str>,
) -> Value {
    let mut body = json!({
        "warehouse_id": warehouse,
        "lines": lines
            .iter()
            .map(|line| json!({"sku": line.sku, "quantity": line.quantity}))
            .collect::<Vec<_>>(),
        "kind": if adjustment { "adjustment" } else { "receipt" },
    });
    if let Some(note) = note {
        body["note"] = note.into();
    }
    body
}

fn levels_table(levels: &Value) -> Table {
    let mut table = Table::new(&[
        "SKU",
        "ITEM",
        "WAREHOUSE",
        "ON HAND",
        "RESERVED",
        "AVAILABLE",
    ]);
    for level in items(levels) {
        table.row(vec![
            cell(level, "sku"),
            cell(level, "item_id"),
            cell(level, "warehouse_id"),
            cell(level, "on_hand"),
            cell(level, "reserved"),
            cell(level, "available"),
        ]);
    }
    table
}

pub async fn run(api: &ApiOptions, command: StockCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        StockCommand::Show {
            sku,
            item,
            warehouse,
        } => {
            let mut query = Vec::new();
            if let Some(sku) = sku {
                query.push(("sku", sku));
            }
            if let Some(item) = item {
                query.push(("item_id", item.to_string()));
            }
            if let Some(warehouse) = warehouse {
                query.push(("warehouse_id", warehouse.to_string()));
            }
            let levels = client.get(&["stock"], &query).await?;
            show(api, &levels, |levels| {
                levels_table(levels).print_or("no stock records");
            })
        }
        StockCommand::Receive {
            warehouse,
            lines,
            adjustment,
            note,
        } => {
            let body = receipt_body(warehouse, &lines, adjustment, note.as_deref());
            let levels = client.post(&["stock", "receipts"], Some(&body)).await?;
            show(api, &levels, |levels| {
                outln!(
                    "{} recorded in warehouse {warehouse}; stock now:",
                    if adjustment { "adjustment" } else { "receipt" }
                );
                out!("{}", levels_table(levels).render());
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn receipts_and_adjustments() {
        let lines: Vec<SkuQty> = ["MUG-1=10", "CAP=-1.5"]
            .iter()
            .map(|line| line.parse().unwrap())
            .collect();
        assert_eq!(
            receipt_body(2, &lines, false, None),
            json!({
                "warehouse_id": 2,
                "lines": [{"sku": "MUG-1", "quantity": "10"}, {"sku": "CAP", "quantity": "-1.5"}],
                "kind": "receipt",
            })
        );
        assert_eq!(
            receipt_body(2, &lines[..1], true, Some("yearly count"))["kind"],
            "adjustment"
        );
        assert_eq!(
            receipt_body(2, &lines[..1], true, Some("yearly count"))["note"],
            "yearly count"
        );
    }
}
