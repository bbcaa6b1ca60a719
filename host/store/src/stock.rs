//! The stock ledger: movements, running balances, stock levels and the stock-changed
//! outbox the push to shops consumes.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use sqlx::AnyConnection;
use time::OffsetDateTime;
use tovor_domain::stock::{Movement, MovementKind, StockLevel};
use tovor_domain::{DocumentId, ItemId, WarehouseId};

use crate::codec::{RowExt, quantity_e4, quantity_from_e4, time_text};
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;
use crate::sql::{ROWS_PER_STATEMENT, Writes, value_rows};

/// Why a movement was recorded by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualMovement {
    /// Goods received.
    Receipt,
    /// A correction after counting, breakage, ... (either sign).
    Adjustment,
}

/// A movement as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMovement {
    pub id: i64,
    pub movement: Movement,
    pub note: Option<String>,
    pub at: OffsetDateTime,
}

/// A stock-changed record: the item's stock in the warehouse changed (on hand or
/// reserved) and shops selling it from there should be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockChange {
    pub id: i64,
    pub item: ItemId,
    pub warehouse: WarehouseId,
    pub reason: String,
    pub at: OffsetDateTime,
}

fn kind_parts(kind: MovementKind) -> (&'static str, Option<i64>) {
    match kind {
        MovementKind::Receipt => ("receipt", None),
        MovementKind::Adjustment => ("adjustment", None),
        MovementKind::DocumentIssue { document } => ("document_issue", Some(document.0)),
        MovementKind::Reversal { document } => ("reversal", Some(document.0)),
        MovementKind::Return { document } => ("return", Some(document.0)),
    }
}

fn kind_of(kind: &str, document: Option<i64>) -> StoreResult<MovementKind> {
    let document = || {
        document
            .map(DocumentId)
            .ok_or_else(|| StoreError::corrupt("stock_movements.document_id", "missing"))
    };
    Ok(match kind {
        "receipt" => MovementKind::Receipt,
        "adjustment" => MovementKind::Adjustment,
        "document_issue" => MovementKind::DocumentIssue {
            document: document()?,
        },
        "reversal" => MovementKind::Reversal {
            document: document()?,
        },
        "return" => MovementKind::Return {
            document: document()?,
        },
        other => return Err(StoreError::corrupt("stock_movements.kind", other)),
    })
}

fn movement_of(row: &sqlx::any::AnyRow) -> StoreResult<StoredMovement> {
    Ok(StoredMovement {
        id: row.int("id")?,
        movement: Movement {
            item: ItemId(row.int("item_id")?),
            warehouse: WarehouseId(row.int("warehouse_id")?),
            quantity: row.quantity("quantity_e4")?,
            kind: kind_of(&row.text("kind")?, row.opt_int("document_id")?)?,
        },
        note: row.opt_text("note")?,
        at: row.time("at")?,
    })
}

/// Appends movements to the ledger, keeps the balances in step and emits one
/// stock-changed record per item and warehouse touched. Part of the caller's
/// transaction.
pub(crate) async fn apply_movements(
    conn: &mut AnyConnection,
    company: i64,
    movements: &[Movement],
    note: Option<&str>,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let mut writes = Writes::default();
    movement_writes(&mut writes, company, movements, note, at)?;
    writes.execute(conn).await
}

/// The writes of [`apply_movements`], for a caller that sends them with others.
pub(crate) fn movement_writes(
    writes: &mut Writes,
    company: i64,
    movements: &[Movement],
    note: Option<&str>,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let now = time_text(at);
    let mut deltas: BTreeMap<(ItemId, WarehouseId), i64> = BTreeMap::new();
    for chunk in movements.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO stock_movements (company_id, item_id, warehouse_id, quantity_e4, kind, \
             document_id, note, at) VALUES {}",
            value_rows(chunk.len(), 8)
        );
        let mut values = Vec::with_capacity(chunk.len() * 8);
        for movement in chunk {
            let quantity = quantity_e4("movement quantity", movement.quantity)?;
            let delta = deltas
                .entry((movement.item, movement.warehouse))
                .or_default();
            *delta = delta
                .checked_add(quantity)
                .ok_or_else(|| StoreError::Invalid("stock quantity out of range".into()))?;
            let (kind, document) = kind_parts(movement.kind);
            values.extend([
                company.into(),
                movement.item.0.into(),
                movement.warehouse.0.into(),
                quantity.into(),
                kind.into(),
                document.into(),
                note.map(str::to_owned).into(),
                now.clone().into(),
            ]);
        }
        writes.push(sql, values);
    }
    // One row per key: an upsert may not touch the same row twice in one statement.
    let deltas: Vec<_> = deltas.into_iter().collect();
    for chunk in deltas.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO stock_balances (company_id, item_id, warehouse_id, on_hand_e4) VALUES {} \
             ON CONFLICT (company_id, item_id, warehouse_id) \
             DO UPDATE SET on_hand_e4 = stock_balances.on_hand_e4 + excluded.on_hand_e4",
            value_rows(chunk.len(), 4)
        );
        let mut values = Vec::with_capacity(chunk.len() * 4);
        for ((item, warehouse), delta) in chunk {
            values.extend([
                company.into(),
                item.0.into(),
                warehouse.0.into(),
                (*delta).into(),
            ]);
        }
        writes.push(sql, values);
    }
    let touched = deltas.iter().map(|(key, _)| *key);
    stock_change_writes(writes, company, touched, ChangeKind::Movement, at);
    Ok(())
}

/// Records that these items' stock changed in these warehouses.
/// What changed an item's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    /// Goods moved: on hand and available both change.
    Movement,
    /// An order reserved or released goods: only the available quantity changes.
    Reservation,
}

impl ChangeKind {
    fn reason(self) -> &'static str {
        match self {
            Self::Movement => "movement",
            Self::Reservation => "reserved",
        }
    }
}

pub(crate) async fn emit_stock_changes(
    conn: &mut AnyConnection,
    company: i64,
    changed: impl IntoIterator<Item = (ItemId, WarehouseId)>,
    change: ChangeKind,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let mut writes = Writes::default();
    stock_change_writes(&mut writes, company, changed, change, at);
    writes.execute(conn).await
}

/// The writes of [`emit_stock_changes`], for a caller that sends them with others.
pub(crate) fn stock_change_writes(
    writes: &mut Writes,
    company: i64,
    changed: impl IntoIterator<Item = (ItemId, WarehouseId)>,
    change: ChangeKind,
    at: OffsetDateTime,
) {
    let reason = change.reason();
    let now = time_text(at);
    let changed: Vec<(ItemId, WarehouseId)> = changed.into_iter().collect();
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO stock_changes (company_id, item_id, warehouse_id, reason, at) VALUES {}",
            value_rows(chunk.len(), 5)
        );
        let mut values = Vec::with_capacity(chunk.len() * 5);
        for (item, warehouse) in chunk {
            values.extend([
                company.into(),
                item.0.into(),
                warehouse.0.into(),
                reason.into(),
                now.clone().into(),
            ]);
        }
        writes.push(sql, values);
    }
    crate::push::queue_push_writes(writes, company, &changed, change, at);
}

pub(crate) async fn document_movements(
    conn: &mut AnyConnection,
    company: i64,
    document: DocumentId,
) -> StoreResult<Vec<Movement>> {
    sqlx::query(
        "SELECT id, item_id, warehouse_id, quantity_e4, kind, document_id, note, at \
         FROM stock_movements WHERE company_id = $1 AND document_id = $2 ORDER BY id",
    )
    .bind(company)
    .bind(document.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| movement_of(row).map(|stored| stored.movement))
    .collect()
}

impl CompanyScope<'_> {
    /// Records a receipt or an adjustment by hand.
    pub async fn record_movement(
        &self,
        item: ItemId,
        warehouse: WarehouseId,
        quantity: Decimal,
        kind: ManualMovement,
        note: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.record_movements(warehouse, &[(item, quantity)], kind, note, at)
            .await
    }

    /// Records many receipt or adjustment lines at once (a goods receipt, a stock
    /// count) in one transaction: all of them or none.
    pub async fn record_movements(
        &self,
        warehouse: WarehouseId,
        lines: &[(ItemId, Decimal)],
        kind: ManualMovement,
        note: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut movements = Vec::with_capacity(lines.len());
        for &(item, quantity) in lines {
            if quantity.is_zero() {
                return Err(StoreError::Invalid(
                    "a movement of 0 changes nothing".into(),
                ));
            }
            let kind = match kind {
                ManualMovement::Receipt if quantity.is_sign_negative() => {
                    return Err(StoreError::Invalid(
                        "a receipt adds stock: use an adjustment to remove it".into(),
                    ));
                }
                ManualMovement::Receipt => MovementKind::Receipt,
                ManualMovement::Adjustment => MovementKind::Adjustment,
            };
            movements.push(Movement {
                item,
                warehouse,
                quantity,
                kind,
            });
        }
        let mut tx = self.store.begin().await?;
        let items: BTreeSet<ItemId> = lines.iter().map(|(item, _)| *item).collect();
        for item in items {
            ensure_item_and_warehouse(&mut tx, self.cid(), item, warehouse).await?;
        }
        apply_movements(&mut tx, self.cid(), &movements, note, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// On hand, reserved and available for an item in a warehouse: the running balance
    /// and the open orders' undelivered quantities, in one round trip.
    pub async fn stock_level(
        &self,
        item: ItemId,
        warehouse: WarehouseId,
    ) -> StoreResult<StockLevel> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM items WHERE company_id = $1 AND id = $2) AS items, \
             (SELECT COUNT(*) FROM warehouses WHERE company_id = $1 AND id = $3) AS warehouses, \
             (SELECT on_hand_e4 FROM stock_balances \
              WHERE company_id = $1 AND item_id = $2 AND warehouse_id = $3) AS on_hand, \
             (SELECT CAST(COALESCE(SUM(l.quantity_e4 - l.delivered_e4), 0) AS BIGINT) \
              FROM order_lines l JOIN orders o ON o.company_id = l.company_id AND o.id = l.order_id \
              WHERE l.company_id = $1 AND l.item_id = $2 AND o.warehouse_id = $3 \
              AND o.status IN ('new', 'processing', 'on_hold') \
              AND l.quantity_e4 > l.delivered_e4) AS reserved",
        )
        .bind(self.cid())
        .bind(item.0)
        .bind(warehouse.0)
        .fetch_one(self.store.reader())
        .await?;
        if row.int("items")? == 0 {
            return Err(StoreError::not_found("item", item));
        }
        if row.int("warehouses")? == 0 {
            return Err(StoreError::not_found("warehouse", warehouse));
        }
        Ok(StockLevel::from_parts(
            quantity_from_e4(row.opt_int("on_hand")?.unwrap_or(0)),
            quantity_from_e4(row.int("reserved")?),
        ))
    }

    /// On hand as the sum of the ledger itself, for audits: it must equal what
    /// [`Self::stock_level`] reads from the running balance.
    pub async fn on_hand_from_ledger(
        &self,
        item: ItemId,
        warehouse: WarehouseId,
    ) -> StoreResult<Decimal> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(quantity_e4), 0) AS BIGINT) AS on_hand FROM stock_movements \
             WHERE company_id = $1 AND item_id = $2 AND warehouse_id = $3",
        )
        .bind(self.cid())
        .bind(item.0)
        .bind(warehouse.0)
        .fetch_one(self.store.reader())
        .await?;
        Ok(quantity_from_e4(row.int("on_hand")?))
    }

    /// The ledger of an item in a warehouse, oldest first.
    pub async fn movements(
        &self,
        item: ItemId,
        warehouse: WarehouseId,
    ) -> StoreResult<Vec<StoredMovement>> {
        sqlx::query(
            "SELECT id, item_id, warehouse_id, quantity_e4, kind, document_id, note, at \
             FROM stock_movements WHERE company_id = $1 AND item_id = $2 AND warehouse_id = $3 \
             ORDER BY id",
        )
        .bind(self.cid())
        .bind(item.0)
        .bind(warehouse.0)
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(movement_of)
        .collect()
    }

    /// Stock-changed records after `after_id`, oldest first.
    pub async fn stock_changes(&self, after_id: i64, limit: u32) -> StoreResult<Vec<StockChange>> {
        sqlx::query(
            "SELECT id, item_id, warehouse_id, reason, at FROM stock_changes \
             WHERE company_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(self.cid())
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| {
            Ok(StockChange {
                id: row.int("id")?,
                item: ItemId(row.int("item_id")?),
                warehouse: WarehouseId(row.int("warehouse_id")?),
                reason: row.text("reason")?,
                at: row.time("at")?,
            })
        })
        .collect()
    }
}

async fn ensure_item_and_warehouse(
    conn: &mut AnyConnection,
    company: i64,
    item: ItemId,
    warehouse: WarehouseId,
) -> StoreResult<()> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM items WHERE company_id = $1 AND id = $2) AS items, \
         (SELECT COUNT(*) FROM warehouses WHERE company_id = $1 AND id = $3) AS warehouses",
    )
    .bind(company)
    .bind(item.0)
    .bind(warehouse.0)
    .fetch_one(&mut *conn)
    .await?;
    if row.int("items")? == 0 {
        return Err(StoreError::not_found("item", item));
    }
    if row.int("warehouses")? == 0 {
        return Err(StoreError::not_found("warehouse", warehouse));
    }
    Ok(())
}
