//! `tovor orders ...`, `tovor invoices ...`, `tovor delivery-notes ...`,
//! `tovor documents ...`: customer orders and the documents issued for them.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::shipping::save;
use super::show;
use crate::client::ApiOptions;
use crate::output::{Table, cell, items, out, outln, print_fields};
use crate::parse::LineArg;

#[derive(Debug, clap::Subcommand)]
pub enum OrdersCommand {
    /// Customer orders, newest first.
    List {
        /// Only this shop's orders.
        #[arg(long, value_name = "ID")]
        shop: Option<i64>,
        /// Only orders in this status.
        #[arg(long, value_parser = ["new", "processing", "on_hold", "completed", "cancelled", "refunded"])]
        status: Option<String>,
        /// At most this many (default 50).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// An order with its lines, status and documents.
    Show {
        /// The order's id.
        id: i64,
    },
}

/// `invoices create` and `delivery-notes create`.
#[derive(Debug, clap::Subcommand)]
pub enum IssueCommand {
    /// Issue one for an order: every line still open, or only the given ones.
    Create {
        /// The order's id.
        order: i64,
        /// An order line (0-based position, see `orders show`) and how much of it;
        /// repeat for each line.
        #[arg(long = "line", value_name = "POSITION=QTY")]
        lines: Vec<LineArg>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum DocumentsCommand {
    /// A document with its lines and totals.
    Show {
        /// The document's id.
        id: i64,
    },
    /// Cancel a document with a numbered reversal; its stock movements are undone.
    Cancel {
        /// The document's id.
        id: i64,
    },
    /// Save documents as one PDF, each starting on a new page.
    Pdf {
        /// The documents' ids, in print order.
        #[arg(required = true, num_args = 1..)]
        ids: Vec<i64>,
        /// Print prices on delivery notes too.
        #[arg(long)]
        prices: bool,
        /// Where to write it (default: the document's kind and number, or
        /// documents.pdf for several); `-` writes to stdout when it is redirected.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Save an invoice or credit note as an e-invoice (XML).
    Einvoice {
        /// The document's id.
        id: i64,
        /// `eslog` (e-SLOG 2.0) or `ubl` (UBL 2.1, Peppol BIS Billing 3.0).
        #[arg(long, value_parser = ["eslog", "ubl"], default_value = "eslog")]
        format: String,
        /// Where to write it (default KIND-NUMBER-FORMAT.xml).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// E-mail a document's PDF (and its e-invoice) to the buyer, or to --to.
    Send {
        /// The document's id.
        id: i64,
        /// The recipients; the order's buyer when left out. Repeat for more.
        #[arg(long, value_name = "ADDRESS")]
        to: Vec<String>,
        /// Attach the e-invoice too.
        #[arg(long, value_parser = ["eslog", "ubl"])]
        einvoice: Option<String>,
    },
    /// What became of a document's e-mails.
    Sends {
        /// The document's id.
        id: i64,
    },
    /// Credit an invoice: a refund the shop reported, or chosen lines and shipping.
    CreditNote {
        /// The invoice's id.
        invoice: i64,
        /// The shop's refund to credit (see `orders show`).
        #[arg(long, value_name = "ID", conflicts_with_all = ["lines", "shipping"])]
        refund: Option<String>,
        /// An order line (0-based position) and how many pieces to credit; repeat.
        #[arg(long = "line", value_name = "POSITION=QTY")]
        lines: Vec<LineArg>,
        /// How much of the (first) shipping line to credit, tax included.
        #[arg(long, value_name = "AMOUNT")]
        shipping: Option<String>,
        /// The goods came back: book them into the invoice's warehouse.
        #[arg(long)]
        restock: bool,
    },
}

/// The body of `POST /documents/{id}/credit-notes`.
pub fn credit_body(
    refund: Option<&str>,
    lines: &[LineArg],
    shipping: Option<&str>,
    restock: bool,
) -> Value {
    let mut body = json!({"restock": restock});
    if let Some(refund) = refund {
        body["refund_id"] = json!(refund);
    }
    if !lines.is_empty() {
        body["lines"] = json!(
            lines
                .iter()
                .map(|line| json!({"position": line.position, "quantity": line.quantity}))
                .collect::<Vec<_>>()
        );
    }
    if let Some(amount) = shipping {
        body["charges"] = json!([{"kind": "shipping", "position": 0, "amount": amount}]);
    }
    body
}

pub async fn orders(api: &ApiOptions, command: OrdersCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        OrdersCommand::List {
            shop,
            status,
            limit,
        } => {
            let mut query = Vec::new();
            if let Some(shop) = shop {
                query.push(("shop_id", shop.to_string()));
            }
            if let Some(status) = status {
                query.push(("status", status));
            }
            if let Some(limit) = limit {
                query.push(("limit", limit.to_string()));
            }
            let list = client.get(&["orders"], &query).await?;
            show(api, &list, |list| {
                let mut table = Table::new(&[
                    "ID", "NUMBER", "SHOP", "SHOP NO.", "STATUS", "TOTAL", "PLACED",
                ]);
                for order in items(list) {
                    table.row(vec![
                        cell(order, "id"),
                        cell(order, "number"),
                        cell(order, "shop_id"),
                        cell(order, "external_number"),
                        cell(order, "status"),
                        format!("{} {}", cell(order, "total"), cell(order, "currency")),
                        cell(order, "placed_at"),
                    ]);
                }
                table.print_or("no orders");
            })
        }
        OrdersCommand::Show { id } => {
            let order = client.get(&["orders", &id.to_string()], &[]).await?;
            show(api, &order, print_order)
        }
    }
}

/// The body of `POST /orders/{id}/invoices` or `/delivery-notes`: no `lines` means
/// everything still open.
pub fn issue_body(lines: &[LineArg]) -> Option<Value> {
    (!lines.is_empty()).then(|| {
        json!({
            "lines": lines
                .iter()
                .map(|line| json!({"position": line.position, "quantity": line.quantity}))
                .collect::<Vec<_>>(),
        })
    })
}

pub async fn invoices(api: &ApiOptions, command: IssueCommand) -> anyhow::Result<()> {
    issue(api, command, "invoices").await
}

pub async fn delivery_notes(api: &ApiOptions, command: IssueCommand) -> anyhow::Result<()> {
    issue(api, command, "delivery-notes").await
}

async fn issue(api: &ApiOptions, command: IssueCommand, route: &str) -> anyhow::Result<()> {
    let IssueCommand::Create { order, lines } = command;
    let document = api
        .client()?
        .post(
            &["orders", &order.to_string(), route],
            issue_body(&lines).as_ref(),
        )
        .await?;
    show(api, &document, |document| {
        outln!(
            "{} {} issued (document {}) for order {order}: {} {}",
            kind_name(&cell(document, "kind")),
            cell(document, "number"),
            cell(document, "id"),
            cell(&document["draft"]["totals"], "gross"),
            cell(&document["draft"], "currency"),
        );
    })
}

pub async fn documents(api: &ApiOptions, command: DocumentsCommand) -> anyhow::Result<()> {
    let client = api.client()?;
    match command {
        DocumentsCommand::Show { id } => {
            let document = client.get(&["documents", &id.to_string()], &[]).await?;
            show(api, &document, print_document)
        }
        DocumentsCommand::Cancel { id } => {
            let reversal = client
                .post(&["documents", &id.to_string(), "cancel"], None)
                .await?;
            show(api, &reversal, |reversal| {
                outln!(
                    "document {id} cancelled by the reversal {} (document {})",
                    cell(reversal, "number"),
                    cell(reversal, "id")
                );
            })
        }
        DocumentsCommand::Pdf {
            ids,
            prices,
            output,
        } => {
            let answer = if let [id] = ids.as_slice() {
                let query = if prices {
                    vec![("prices", "true".to_owned())]
                } else {
                    Vec::new()
                };
                client
                    .get_bytes(&["documents", &id.to_string(), "pdf"], &query)
                    .await?
            } else {
                client
                    .post_bytes(
                        &["documents", "pdf"],
                        &json!({"document_ids": ids, "prices": prices}),
                    )
                    .await?
            };
            let path = output.unwrap_or_else(|| {
                PathBuf::from(
                    answer
                        .filename()
                        .unwrap_or_else(|| "documents.pdf".to_owned()),
                )
            });
            save(api, &answer, &path, &format!("{} document(s)", ids.len()))
        }
        DocumentsCommand::Einvoice { id, format, output } => {
            let answer = client
                .get_bytes(
                    &["documents", &id.to_string(), "einvoice"],
                    &[("format", format.clone())],
                )
                .await?;
            let path = output.unwrap_or_else(|| {
                PathBuf::from(
                    answer
                        .filename()
                        .unwrap_or_else(|| format!("document-{id}-{format}.xml")),
                )
            });
            save(api, &answer, &path, &format!("{format} e-invoice"))
        }
        DocumentsCommand::Send { id, to, einvoice } => {
            let mut body = json!({});
            if !to.is_empty() {
                body["to"] = json!(to);
            }
            if let Some(format) = einvoice {
                body["einvoice"] = json!(format);
            }
            let send = client
                .post(&["documents", &id.to_string(), "send"], Some(&body))
                .await?;
            show(api, &send, |send| {
                outln!(
                    "document {id} queued for e-mail to {} (send {}): see `tovor documents sends {id}`",
                    items(&send["to"])
                        .iter()
                        .filter_map(|address| address.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    cell(send, "id"),
                );
            })
        }
        DocumentsCommand::Sends { id } => {
            let sends = client
                .get(&["documents", &id.to_string(), "sends"], &[])
                .await?;
            show(api, &sends, |sends| {
                let mut table = Table::new(&["SEND", "TO", "STATE", "ATTEMPTS", "SENT", "ERROR"]);
                for send in items(sends) {
                    table.row(vec![
                        cell(send, "id"),
                        items(&send["to"])
                            .iter()
                            .filter_map(|address| address.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        cell(send, "state"),
                        cell(send, "attempts"),
                        cell(send, "sent_at"),
                        cell(send, "last_error"),
                    ]);
                }
                table.print_or("not sent yet");
            })
        }
        DocumentsCommand::CreditNote {
            invoice,
            refund,
            lines,
            shipping,
            restock,
        } => {
            let body = credit_body(refund.as_deref(), &lines, shipping.as_deref(), restock);
            let note = client
                .post(
                    &["documents", &invoice.to_string(), "credit-notes"],
                    Some(&body),
                )
                .await?;
            show(api, &note, |note| {
                outln!(
                    "credit note {} issued (document {}) for invoice {invoice}: {} {}{}",
                    cell(note, "number"),
                    cell(note, "id"),
                    cell(&note["draft"]["totals"], "gross"),
                    cell(&note["draft"], "currency"),
                    if note["moves_stock"] == true {
                        ", goods back in stock"
                    } else {
                        ""
                    },
                );
            })
        }
    }
}

fn kind_name(kind: &str) -> &str {
    match kind {
        "invoice" => "invoice",
        "delivery_note" => "delivery note",
        "credit_note" => "credit note",
        other => other,
    }
}

fn print_order(order: &Value) {
    let customer = &order["content"]["customer"];
    let customer_name = [cell(customer, "first_name"), cell(customer, "last_name")]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let payment = &order["content"]["payment_method"];
    print_fields(&[
        ("id", cell(order, "id")),
        ("number", cell(order, "number")),
        (
            "shop",
            format!(
                "{} (order {} there, id {})",
                cell(order, "shop_id"),
                cell(order, "external_number"),
                cell(order, "external_id")
            ),
        ),
        (
            "status",
            format!(
                "{} (shop: {})",
                cell(order, "status"),
                cell(order, "shop_status_raw")
            ),
        ),
        ("payment", cell(order, "payment_status")),
        (
            "payment method",
            [cell(payment, "code"), cell(payment, "title")]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("customer", customer_name),
        ("email", cell(customer, "email")),
        ("warehouse", cell(order, "warehouse_id")),
        (
            "total",
            format!(
                "{} {} (tax {})",
                cell(order, "total"),
                cell(order, "currency"),
                cell(order, "tax_total")
            ),
        ),
    ]);
    outln!();
    let mut lines = Table::new(&[
        "POS",
        "SKU",
        "NAME",
        "QTY",
        "DELIVERED",
        "UNIT PRICE",
        "TOTAL",
    ]);
    for line in items(&order["lines"]) {
        lines.row(vec![
            cell(line, "position"),
            cell(line, "sku"),
            cell(line, "name"),
            cell(line, "quantity"),
            cell(line, "delivered"),
            cell(line, "unit_price"),
            cell(line, "total"),
        ]);
    }
    lines.print_or("no lines");
    let documents = items(&order["documents"]);
    if !documents.is_empty() {
        outln!();
        let mut table = Table::new(&["DOCUMENT", "KIND", "NUMBER", "STATE", "GROSS", "ISSUED"]);
        for document in documents {
            table.row(vec![
                cell(document, "id"),
                kind_name(&cell(document, "kind")).to_owned(),
                cell(document, "number"),
                cell(document, "state"),
                cell(&document["draft"]["totals"], "gross"),
                cell(document, "issued_at"),
            ]);
        }
        out!("{}", table.render());
    }
}

fn print_document(document: &Value) {
    let draft = &document["draft"];
    let totals = &draft["totals"];
    print_fields(&[
        ("id", cell(document, "id")),
        ("kind", kind_name(&cell(document, "kind")).to_owned()),
        ("number", cell(document, "number")),
        ("state", cell(document, "state")),
        ("reverses", cell(document, "reverses")),
        ("order", cell(document, "order_id")),
        ("issued", cell(document, "issued_at")),
        ("warehouse", cell(document, "warehouse_id")),
        ("moves stock", cell(document, "moves_stock")),
    ]);
    outln!();
    let mut lines = Table::new(&["SKU", "NAME", "QTY", "UNIT PRICE", "VAT %", "NET", "GROSS"]);
    for line in items(&draft["lines"]) {
        lines.row(vec![
            cell(line, "sku"),
            cell(line, "name"),
            cell(line, "quantity"),
            cell(line, "unit_price"),
            cell(line, "vat_rate"),
            cell(line, "net"),
            cell(line, "gross"),
        ]);
    }
    lines.print_or("no lines");
    outln!();
    print_fields(&[
        ("net", cell(totals, "net")),
        ("vat", cell(totals, "vat")),
        (
            "rounding",
            Some(cell(totals, "rounding"))
                .filter(|rounding| !matches!(rounding.as_str(), "0" | "0.00"))
                .unwrap_or_default(),
        ),
        (
            "gross",
            format!("{} {}", cell(totals, "gross"), cell(draft, "currency")),
        ),
    ]);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn no_lines_means_the_whole_order() {
        assert_eq!(issue_body(&[]), None);
    }

    #[test]
    fn chosen_lines_go_as_positions_and_decimal_strings() {
        let lines: Vec<LineArg> = ["0=2", "2=0.5"]
            .iter()
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(
            issue_body(&lines),
            Some(json!({"lines": [
                {"position": 0, "quantity": "2"},
                {"position": 2, "quantity": "0.5"},
            ]}))
        );
    }
}
