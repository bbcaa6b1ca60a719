//! Invoices, delivery notes and credit notes: issuing from an order (credit notes from
//! an invoice), numbering, the stock they move, and cancelling (docs/architecture.md, flow 2).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use tovor_domain::document::{
    Credit, DocumentDraft, DocumentKind, DocumentLine, DocumentTotals, LineRef, VatRecap,
    credit_for_refund, credited_so_far, draft_credit_note, draft_document, reverse,
};
use tovor_domain::stock::{movements_for_cancel, movements_for_issue, movements_for_return};
use tovor_domain::{DocumentId, ItemId, OrderId, WarehouseId};

use crate::codec::{RowExt, decimal_text, flag, quantity_e4, time_text, to_json};
use crate::error::{StoreError, StoreResult};
use crate::numbering::{local_year, next_in_year, next_number};
use crate::orders::{Source, history_writes, lock_order, touch_order_for_documents};
use crate::profiles::time_zone_of;
use crate::scope::CompanyScope;
use crate::sql::{ROWS_PER_STATEMENT, Writes, placeholders, value_rows, value_rows_from};
use crate::stock::{document_movements, movement_writes};

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentState {
    Issued,
    /// Cancelled by a reversal document, which undid its stock movements.
    Cancelled,
    /// The document that cancels another: the same lines with opposite signs.
    Reversal,
}

impl DocumentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Cancelled => "cancelled",
            Self::Reversal => "reversal",
        }
    }

    fn parse(text: &str) -> StoreResult<Self> {
        match text {
            "issued" => Ok(Self::Issued),
            "cancelled" => Ok(Self::Cancelled),
            "reversal" => Ok(Self::Reversal),
            other => Err(StoreError::corrupt("documents.state", other)),
        }
    }
}

/// An issued document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: DocumentId,
    pub order: OrderId,
    /// `2026-00042`: gapless per company, kind and year.
    pub number: String,
    pub state: DocumentState,
    /// For a reversal, the document it cancels.
    pub reverses: Option<DocumentId>,
    /// For a credit note, the invoice it credits.
    pub credits: Option<DocumentId>,
    /// For a credit note made from a refund the shop reported, the shop's id of it.
    pub refund_id: Option<String>,
    pub issued_at: OffsetDateTime,
    pub moves_stock: bool,
    pub warehouse: WarehouseId,
    /// Kind, currency, lines with item ids, VAT recap and totals.
    pub draft: DocumentDraft,
    /// The catalog item of each line (`None` for charges and the rounding line).
    pub line_items: Vec<Option<ItemId>>,
}

fn source_parts(source: Option<LineRef>) -> (Option<&'static str>, Option<i64>) {
    match source {
        Some(LineRef::Item(n)) => (Some("item"), Some(i64::from(n))),
        Some(LineRef::Shipping(n)) => (Some("shipping"), Some(i64::from(n))),
        Some(LineRef::Fee(n)) => (Some("fee"), Some(i64::from(n))),
        None => (None, None),
    }
}

fn source_of(kind: Option<String>, index: Option<i64>) -> StoreResult<Option<LineRef>> {
    let (Some(kind), Some(index)) = (kind, index) else {
        return Ok(None);
    };
    let index = u32::try_from(index).map_err(|error| StoreError::corrupt("source_index", error))?;
    Ok(Some(match kind.as_str() {
        "item" => LineRef::Item(index),
        "shipping" => LineRef::Shipping(index),
        "fee" => LineRef::Fee(index),
        other => return Err(StoreError::corrupt("source_kind", other)),
    }))
}

fn parse_kind(text: &str) -> StoreResult<DocumentKind> {
    match text {
        "invoice" => Ok(DocumentKind::Invoice),
        "delivery_note" => Ok(DocumentKind::DeliveryNote),
        "credit_note" => Ok(DocumentKind::CreditNote),
        other => Err(StoreError::corrupt("documents.kind", other)),
    }
}

impl CompanyScope<'_> {
    /// Issues an invoice or delivery note from `order`: of everything not yet on a
    /// document of that kind (`selection` `None`), or of the given line quantities
    /// (partial deliveries). Numbers it, moves stock if it is the shop's stock-moving
    /// kind, and marks the order touched.
    pub async fn issue_document(
        &self,
        order: OrderId,
        kind: DocumentKind,
        selection: Option<&[(LineRef, Decimal)]>,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<Document> {
        let company = self.cid();
        let mut tx = self.store.begin().await?;
        // Locking the order serialises documents of one order across processes, so two
        // partial deliveries cannot both take the same remaining quantity. The shop's
        // stock-moving kind and the company's time zone (the number's year) come with it.
        let touched = touch_order_for_documents(&mut tx, company, order, at).await?;
        let stored = touched.stored;
        let moves_stock = parse_kind(&touched.stock_document)? == kind;
        let zone = time_zone_of(touched.time_zone.as_deref())?;

        let (documents, item_of_line) =
            order_documents_and_items(&mut tx, company, order, kind).await?;
        let already = issued_quantities(&mut tx, company, &documents).await?;
        let draft = draft_document(kind, &stored.state.content, selection, &already)?;
        let line_items: Vec<Option<ItemId>> = draft
            .lines
            .iter()
            .map(|line| match line.source {
                Some(LineRef::Item(n)) => item_of_line.get(&n).copied(),
                _ => None,
            })
            .collect();

        let number = next_in_year(&mut tx, company, kind.as_str(), local_year(&zone, at)?).await?;
        // The lines, the ledger, the delivered quantities and the history are independent
        // writes: one round trip on PostgreSQL (see `Writes`).
        let mut writes = Writes::default();
        let id = insert_document(
            &mut tx,
            &mut writes,
            company,
            NewDocument {
                order,
                number: number.to_string(),
                year: number.year(),
                seq: number.seq(),
                state: DocumentState::Issued,
                reverses: None,
                credits: None,
                refund_id: None,
                moves_stock,
                warehouse: stored.warehouse,
                draft: &draft,
                line_items: &line_items,
            },
            at,
        )
        .await?;

        let movements =
            movements_for_issue(
                &draft,
                id,
                stored.warehouse,
                moves_stock,
                |line| match line {
                    LineRef::Item(n) => item_of_line.get(&n).copied(),
                    _ => None,
                },
            )
            .map_err(|unlinked| StoreError::Invalid(unlinked.to_string()))?;
        movement_writes(&mut writes, company, &movements, None, at)?;
        if moves_stock {
            delivered_writes(&mut writes, company, order, &draft)?;
        }
        let detail = json!({
            "document": id, "kind": kind, "number": number.to_string(), "gross": draft.totals.gross,
        });
        let history = [(order, "document_issued", &detail)];
        history_writes(&mut writes, company, &history, source, at)?;
        writes.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(Document {
            id,
            order,
            number: number.to_string(),
            state: DocumentState::Issued,
            reverses: None,
            credits: None,
            refund_id: None,
            issued_at: at,
            moves_stock,
            warehouse: stored.warehouse,
            draft,
            line_items,
        })
    }

    /// Cancels an issued document with a reversal document (its own number, the same
    /// lines negated) and undoes the stock it moved. Returns the reversal.
    pub async fn cancel_document(
        &self,
        id: DocumentId,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<Document> {
        let company = self.cid();
        let for_update = self.store.backend().for_update();
        let mut tx = self.store.begin().await?;
        let original = load_document(&mut tx, company, id).await?;
        lock_order(&mut tx, company, for_update, original.order).await?;
        // Re-read under the order's lock: a concurrent cancel may have won.
        let original = load_document(&mut tx, company, id).await?;
        if original.state != DocumentState::Issued {
            return Err(StoreError::Conflict(format!(
                "{} {} is {} and cannot be cancelled",
                original.draft.kind,
                original.number,
                original.state.as_str()
            )));
        }
        let reversal = reverse(&original.draft);
        let kind = original.draft.kind;
        let number = next_number(&mut tx, company, kind.as_str(), at).await?;
        let mut writes = Writes::default();
        let reversal_id = insert_document(
            &mut tx,
            &mut writes,
            company,
            NewDocument {
                order: original.order,
                number: number.to_string(),
                year: number.year(),
                seq: number.seq(),
                state: DocumentState::Reversal,
                reverses: Some(id),
                credits: None,
                refund_id: None,
                moves_stock: original.moves_stock,
                warehouse: original.warehouse,
                draft: &reversal,
                line_items: &original.line_items,
            },
            at,
        )
        .await?;
        writes.push(
            "UPDATE documents SET state = 'cancelled' WHERE company_id = $1 AND id = $2".into(),
            vec![company.into(), id.0.into()],
        );
        if original.moves_stock {
            let issued = document_movements(&mut tx, company, id).await?;
            let movements = movements_for_cancel(&issued, reversal_id);
            movement_writes(&mut writes, company, &movements, None, at)?;
            // A credit note's goods came back; they were never delivered by it.
            if kind != DocumentKind::CreditNote {
                delivered_writes(&mut writes, company, original.order, &reversal)?;
            }
        }
        let detail = json!({
            "document": id, "kind": kind, "number": original.number,
            "reversal": reversal_id, "reversal_number": number.to_string(),
        });
        let history = [(original.order, "document_cancelled", &detail)];
        history_writes(&mut writes, company, &history, source, at)?;
        writes.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(Document {
            id: reversal_id,
            order: original.order,
            number: number.to_string(),
            state: DocumentState::Reversal,
            reverses: Some(id),
            credits: None,
            refund_id: None,
            issued_at: at,
            moves_stock: original.moves_stock,
            warehouse: original.warehouse,
            draft: reversal,
            line_items: original.line_items,
        })
    }

    /// Issues a credit note of `invoice`: of the given lines, or of what the shop's
    /// refund `refund_id` (on the invoice's order) gave back. It has its own gapless
    /// series; it moves the credited items back into the invoice's warehouse only when
    /// `restock` says the goods came back (for a refund, when the refund says so or
    /// `restock` is true). A refund becomes at most one credit note.
    pub async fn issue_credit_note(
        &self,
        invoice: DocumentId,
        credit: CreditOf<'_>,
        restock: bool,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<Document> {
        let company = self.cid();
        let for_update = self.store.backend().for_update();
        let mut tx = self.store.begin().await?;
        let original = load_document(&mut tx, company, invoice).await?;
        let stored = lock_order(&mut tx, company, for_update, original.order).await?;
        // Re-read under the order's lock: a concurrent cancel may have won.
        let original = load_document(&mut tx, company, invoice).await?;
        if original.draft.kind != DocumentKind::Invoice || original.state != DocumentState::Issued {
            return Err(StoreError::Conflict(format!(
                "{} {} is {}: only issued invoices are credited",
                original.draft.kind,
                original.number,
                original.state.as_str()
            )));
        }
        let earlier = credit_notes_of(&mut tx, company, invoice).await?;
        let credited = credited_so_far(earlier.iter().map(|note| &note.draft));
        let (request, refund_id, restock) = match credit {
            CreditOf::Lines(lines) => (lines.to_vec(), None, restock),
            CreditOf::Refund(refund_id) => {
                if let Some(note) = earlier
                    .iter()
                    .find(|note| note.refund_id.as_deref() == Some(refund_id))
                {
                    return Err(StoreError::Conflict(format!(
                        "refund {refund_id} is already credited by credit note {}",
                        note.number
                    )));
                }
                let refund = stored
                    .state
                    .content
                    .refunds
                    .iter()
                    .find(|refund| refund.platform_id.as_deref() == Some(refund_id))
                    .ok_or_else(|| StoreError::not_found("refund", refund_id))?;
                let request =
                    credit_for_refund(&stored.state.content, &original.draft, &credited, refund)?;
                (request, Some(refund_id), restock || refund.restock)
            }
        };
        let draft = draft_credit_note(&original.draft, &credited, &request)?;
        let line_items: Vec<Option<ItemId>> = draft
            .lines
            .iter()
            .map(|line| {
                original
                    .draft
                    .lines
                    .iter()
                    .position(|invoiced| invoiced.source == line.source && line.source.is_some())
                    .and_then(|index| original.line_items.get(index).copied().flatten())
            })
            .collect();

        let number = next_number(&mut tx, company, DocumentKind::CreditNote.as_str(), at).await?;
        let mut writes = Writes::default();
        let id = insert_document(
            &mut tx,
            &mut writes,
            company,
            NewDocument {
                order: original.order,
                number: number.to_string(),
                year: number.year(),
                seq: number.seq(),
                state: DocumentState::Issued,
                reverses: None,
                credits: Some(invoice),
                refund_id,
                moves_stock: restock,
                warehouse: original.warehouse,
                draft: &draft,
                line_items: &line_items,
            },
            at,
        )
        .await?;
        if restock {
            let item_of = |line: LineRef| {
                draft
                    .lines
                    .iter()
                    .position(|credited| credited.source == Some(line))
                    .and_then(|index| line_items.get(index).copied().flatten())
            };
            let movements = movements_for_return(&draft, id, original.warehouse, item_of)
                .map_err(|unlinked| StoreError::Invalid(unlinked.to_string()))?;
            movement_writes(&mut writes, company, &movements, None, at)?;
        }
        let detail = json!({
            "document": id, "kind": DocumentKind::CreditNote, "number": number.to_string(),
            "invoice": invoice, "invoice_number": original.number, "refund": refund_id,
            "restock": restock, "gross": draft.totals.gross,
        });
        let history = [(original.order, "credit_note_issued", &detail)];
        history_writes(&mut writes, company, &history, source, at)?;
        writes.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(Document {
            id,
            order: original.order,
            number: number.to_string(),
            state: DocumentState::Issued,
            reverses: None,
            credits: Some(invoice),
            refund_id: refund_id.map(str::to_owned),
            issued_at: at,
            moves_stock: restock,
            warehouse: original.warehouse,
            draft,
            line_items,
        })
    }

    pub async fn document(&self, id: DocumentId) -> StoreResult<Document> {
        let mut snapshot = self.store.read_snapshot().await?;
        let document = load_document(&mut snapshot, self.cid(), id).await?;
        snapshot.commit().await?;
        Ok(document)
    }

    /// The documents issued from an order, in the order they were issued.
    pub async fn order_documents(&self, order: OrderId) -> StoreResult<Vec<Document>> {
        let mut conn = self.store.reader().acquire().await?;
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM documents WHERE company_id = $1 AND order_id = $2 ORDER BY id",
        )
        .bind(self.cid())
        .bind(order.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.int("id"))
        .collect::<StoreResult<_>>()?;
        let mut documents = Vec::with_capacity(ids.len());
        for id in ids {
            documents.push(load_document(&mut conn, self.cid(), DocumentId(id)).await?);
        }
        Ok(documents)
    }

    /// Documents newest first, `limit` at a time before `before`, of one kind or all:
    /// one query, for lists.
    pub async fn document_summaries(
        &self,
        kind: Option<DocumentKind>,
        before: Option<DocumentId>,
        limit: u32,
    ) -> StoreResult<Vec<DocumentSummary>> {
        sqlx::query(
            "SELECT d.id, d.order_id, o.number AS order_number, d.kind, d.number, d.state, \
             d.issued_at, d.currency, d.gross FROM documents d \
             JOIN orders o ON o.company_id = d.company_id AND o.id = d.order_id \
             WHERE d.company_id = $1 AND ($2 = '' OR d.kind = $2) AND d.id < $3 \
             ORDER BY d.id DESC LIMIT $4",
        )
        .bind(self.cid())
        .bind(kind.map_or("", DocumentKind::as_str))
        .bind(before.map_or(i64::MAX, |document| document.0))
        .bind(i64::from(limit))
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| {
            let kind = row.text("kind")?;
            Ok(DocumentSummary {
                id: DocumentId(row.int("id")?),
                order: OrderId(row.int("order_id")?),
                order_number: row.text("order_number")?,
                kind: parse_kind(&kind)?,
                number: row.text("number")?,
                state: DocumentState::parse(&row.text("state")?)?,
                issued_at: row.time("issued_at")?,
                currency: row.text("currency")?,
                gross: row.decimal("gross")?,
            })
        })
        .collect()
    }

    /// Document numbers of a kind and year, in sequence order (for audits: they must
    /// run 1..n without a hole).
    pub async fn document_numbers(
        &self,
        kind: DocumentKind,
        year: u16,
    ) -> StoreResult<Vec<String>> {
        sqlx::query(
            "SELECT number FROM documents WHERE company_id = $1 AND kind = $2 AND year = $3 ORDER BY seq",
        )
        .bind(self.cid())
        .bind(kind.as_str())
        .bind(i64::from(year))
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| row.text("number"))
        .collect()
    }
}

/// A document as a list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSummary {
    pub id: DocumentId,
    pub order: OrderId,
    pub order_number: String,
    pub kind: DocumentKind,
    pub number: String,
    pub state: DocumentState,
    pub issued_at: OffsetDateTime,
    pub currency: String,
    /// The total with VAT (negative for a reversal).
    pub gross: Decimal,
}

/// What a credit note credits.
#[derive(Debug, Clone, Copy)]
pub enum CreditOf<'a> {
    /// These invoice lines: items by quantity, charges by amount.
    Lines(&'a [(LineRef, Credit)]),
    /// What the shop's refund with this id gave back.
    Refund(&'a str),
}

/// The issued (not cancelled) credit notes of an invoice.
async fn credit_notes_of(
    conn: &mut AnyConnection,
    company: i64,
    invoice: DocumentId,
) -> StoreResult<Vec<Document>> {
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM documents WHERE company_id = $1 AND credits_id = $2 AND state = 'issued' \
         ORDER BY id",
    )
    .bind(company)
    .bind(invoice.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.int("id"))
    .collect::<StoreResult<_>>()?;
    let mut notes = Vec::with_capacity(ids.len());
    for id in ids {
        notes.push(load_document(conn, company, DocumentId(id)).await?);
    }
    Ok(notes)
}

struct NewDocument<'a> {
    order: OrderId,
    number: String,
    year: u16,
    seq: u32,
    state: DocumentState,
    reverses: Option<DocumentId>,
    credits: Option<DocumentId>,
    refund_id: Option<&'a str>,
    moves_stock: bool,
    warehouse: WarehouseId,
    draft: &'a DocumentDraft,
    line_items: &'a [Option<ItemId>],
}

/// Inserts the document's row; its lines go into `writes`, which the caller runs.
async fn insert_document(
    conn: &mut AnyConnection,
    writes: &mut Writes,
    company: i64,
    document: NewDocument<'_>,
    at: OffsetDateTime,
) -> StoreResult<DocumentId> {
    let draft = document.draft;
    let id: i64 = sqlx::query(
        "INSERT INTO documents (company_id, order_id, kind, number, year, seq, state, reverses_id, \
         currency, issued_at, net, vat, rounding, gross, vat_recap, covers_whole_order, moves_stock, \
         warehouse_id, credits_id, refund_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id",
    )
    .bind(company)
    .bind(document.order.0)
    .bind(draft.kind.as_str())
    .bind(document.number.as_str())
    .bind(i64::from(document.year))
    .bind(i64::from(document.seq))
    .bind(document.state.as_str())
    .bind(document.reverses.map(|id| id.0))
    .bind(draft.currency.as_str())
    .bind(time_text(at))
    .bind(decimal_text(draft.totals.net))
    .bind(decimal_text(draft.totals.vat))
    .bind(decimal_text(draft.totals.rounding))
    .bind(decimal_text(draft.totals.gross))
    .bind(to_json(&draft.vat_recap)?)
    .bind(flag(draft.covers_whole_order))
    .bind(flag(document.moves_stock))
    .bind(document.warehouse.0)
    .bind(document.credits.map(|id| id.0))
    .bind(document.refund_id)
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?;
    let lines: Vec<(usize, &DocumentLine)> = draft.lines.iter().enumerate().collect();
    for chunk in lines.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO document_lines (company_id, document_id, position, source_kind, source_index, \
             item_id, sku, name, quantity, unit_price, discount, vat_rate, net, vat, gross) VALUES {}",
            value_rows(chunk.len(), 15)
        );
        let mut values = Vec::with_capacity(chunk.len() * 15);
        for &(index, line) in chunk {
            let (source_kind, source_index) = source_parts(line.source);
            let item = document.line_items.get(index).copied().flatten();
            let position =
                i64::try_from(index).map_err(|error| StoreError::Invalid(error.to_string()))?;
            values.extend([
                company.into(),
                id.into(),
                position.into(),
                source_kind.map(str::to_owned).into(),
                source_index.into(),
                item.map(|item| item.0).into(),
                line.sku.clone().into(),
                line.name.clone().into(),
                decimal_text(line.quantity).into(),
                decimal_text(line.unit_price).into(),
                decimal_text(line.discount).into(),
                decimal_text(line.vat_rate).into(),
                decimal_text(line.net).into(),
                decimal_text(line.vat).into(),
                decimal_text(line.gross).into(),
            ]);
        }
        writes.push(sql, values);
    }
    Ok(DocumentId(id))
}

async fn load_document(
    conn: &mut AnyConnection,
    company: i64,
    id: DocumentId,
) -> StoreResult<Document> {
    let row = sqlx::query(
        "SELECT order_id, kind, number, state, reverses_id, currency, issued_at, net, vat, rounding, \
         gross, vat_recap, covers_whole_order, moves_stock, warehouse_id, credits_id, refund_id \
         FROM documents WHERE company_id = $1 AND id = $2",
    )
    .bind(company)
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::not_found("document", id))?;
    let mut lines = Vec::new();
    let mut line_items = Vec::new();
    for line in sqlx::query(
        "SELECT source_kind, source_index, item_id, sku, name, quantity, unit_price, discount, vat_rate, \
         net, vat, gross FROM document_lines WHERE company_id = $1 AND document_id = $2 ORDER BY position",
    )
    .bind(company)
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await?
    {
        line_items.push(line.opt_int("item_id")?.map(ItemId));
        lines.push(DocumentLine {
            source: source_of(line.opt_text("source_kind")?, line.opt_int("source_index")?)?,
            sku: line.opt_text("sku")?,
            name: line.text("name")?,
            quantity: line.decimal("quantity")?,
            unit_price: line.decimal("unit_price")?,
            discount: line.decimal("discount")?,
            vat_rate: line.decimal("vat_rate")?,
            net: line.decimal("net")?,
            vat: line.decimal("vat")?,
            gross: line.decimal("gross")?,
        });
    }
    let vat_recap: Vec<VatRecap> = row.json("vat_recap")?;
    Ok(Document {
        id,
        order: OrderId(row.int("order_id")?),
        number: row.text("number")?,
        state: DocumentState::parse(&row.text("state")?)?,
        reverses: row.opt_int("reverses_id")?.map(DocumentId),
        credits: row.opt_int("credits_id")?.map(DocumentId),
        refund_id: row.opt_text("refund_id")?,
        issued_at: row.time("issued_at")?,
        moves_stock: row.flag("moves_stock")?,
        warehouse: WarehouseId(row.int("warehouse_id")?),
        draft: DocumentDraft {
            kind: parse_kind(&row.text("kind")?)?,
            currency: row.text("currency")?,
            lines,
            vat_recap,
            totals: DocumentTotals {
                net: row.decimal("net")?,
                vat: row.decimal("vat")?,
                rounding: row.decimal("rounding")?,
                gross: row.decimal("gross")?,
            },
            covers_whole_order: row.flag("covers_whole_order")?,
        },
        line_items,
    })
}

/// The order's documents of `kind` and the catalog item of each of its lines (by
/// position), in one statement.
async fn order_documents_and_items(
    conn: &mut AnyConnection,
    company: i64,
    order: OrderId,
    kind: DocumentKind,
) -> StoreResult<(Vec<i64>, BTreeMap<u32, ItemId>)> {
    // Two index lookups rather than a join: no planner can turn them into a scan. No
    // `item_id IS NOT NULL` on the lines: it tempts SQLite's planner into the by-item
    // index, which scans every line of the company.
    let rows = sqlx::query(
        "SELECT CAST(0 AS BIGINT) AS part, id AS a, CAST(NULL AS BIGINT) AS b FROM documents \
         WHERE company_id = $1 AND order_id = $2 AND kind = $3 \
         UNION ALL SELECT 1, position, item_id FROM order_lines \
         WHERE company_id = $4 AND order_id = $5",
    )
    .bind(company)
    .bind(order.0)
    .bind(kind.as_str())
    .bind(company)
    .bind(order.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut documents = Vec::new();
    let mut items = BTreeMap::new();
    for row in &rows {
        if row.int("part")? == 0 {
            documents.push(row.int("a")?);
            continue;
        }
        let position =
            u32::try_from(row.int("a")?).map_err(|error| StoreError::corrupt("position", error))?;
        if let Some(item) = row.opt_int("b")? {
            items.insert(position, ItemId(item));
        }
    }
    Ok((documents, items))
}

/// What `documents` (of one kind, reversals included, negative) already carry per
/// order line.
async fn issued_quantities(
    conn: &mut AnyConnection,
    company: i64,
    documents: &[i64],
) -> StoreResult<Vec<(LineRef, Decimal)>> {
    let mut issued = Vec::new();
    for chunk in documents.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT source_kind, source_index, quantity FROM document_lines \
             WHERE company_id = $1 AND document_id IN ({}) AND source_kind IS NOT NULL",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            if let Some(source) =
                source_of(row.opt_text("source_kind")?, row.opt_int("source_index")?)?
            {
                issued.push((source, row.decimal("quantity")?));
            }
        }
    }
    Ok(issued)
}

/// Adds a stock-moving document's item quantities (negative for a reversal) to what
/// the order's lines have delivered, which releases their reservation.
fn delivered_writes(
    writes: &mut Writes,
    company: i64,
    order: OrderId,
    draft: &DocumentDraft,
) -> StoreResult<()> {
    // Summed per order line: an `UPDATE … FROM` applies one matching row per line, so
    // two document lines of one order line must arrive as one.
    let mut deltas: BTreeMap<i64, i64> = BTreeMap::new();
    for (source, quantity) in draft.issued_quantities() {
        if let LineRef::Item(position) = source {
            *deltas.entry(i64::from(position)).or_default() +=
                quantity_e4("delivered quantity", quantity)?;
        }
    }
    let deltas: Vec<(i64, i64)> = deltas.into_iter().collect();
    // One statement for every line: `VALUES` names its columns column1, column2 on
    // both databases.
    for chunk in deltas.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE order_lines SET delivered_e4 = order_lines.delivered_e4 + v.column2 \
             FROM (VALUES {}) AS v WHERE order_lines.company_id = $1 \
             AND order_lines.order_id = $2 AND order_lines.position = v.column1",
            value_rows_from(3, chunk.len(), 2)
        );
        let mut values = Vec::with_capacity(2 + chunk.len() * 2);
        values.extend([company.into(), order.0.into()]);
        for &(position, delta) in chunk {
            values.extend([position.into(), delta.into()]);
        }
        writes.push(sql, values);
    }
    Ok(())
}
