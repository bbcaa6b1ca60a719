//! The stock push queue: which (shop, item) pairs a shop must be told about, and what
//! each shop was last told.
//!
//! Every stock change queues the pair for every connector shop selling from the
//! warehouse, in the transaction of the change (see `stock::emit_stock_changes`), so a
//! crash can never lose a push. Many changes of one item coalesce into one queued row;
//! the pusher sends the value current when it runs.

use rust_decimal::Decimal;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use tovor_domain::stock::StockLevel;
use tovor_domain::{CompanyId, ItemId, ShopId, WarehouseId};

use crate::catalog::ItemLink;
use crate::codec::{RowExt, quantity_e4, quantity_from_e4, time_text};
use crate::db::Store;
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;
use crate::sql::{ROWS_PER_STATEMENT, Writes, placeholders, value_rows_from};
use crate::stock::ChangeKind;

/// A queued push claimed by a pusher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTask {
    pub company: CompanyId,
    pub shop: ShopId,
    pub item: ItemId,
    /// Bumped by every change after the claim; the row is removed only if unchanged.
    pub version: i64,
    /// Attempts before this one.
    pub attempts: u32,
}

/// What came of pushing one item.
#[derive(Debug, Clone, PartialEq)]
pub enum PushOutcome {
    /// The shop accepted this value.
    Pushed(Decimal),
    /// The item has no link to the shop: nothing was sent (listed, never guessed).
    Unlinked,
    /// The shop refused the value for this item for good (unknown product, ...).
    Refused(String),
}

/// What a shop was last told about an item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PushState {
    pub item: ItemId,
    pub item_code: String,
    /// `pushed`, `unlinked` or `refused`.
    pub outcome: String,
    pub quantity: Option<Decimal>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub error: Option<String>,
}

/// Queues pushes of these items for every connector shop of the company that sells
/// from the warehouse they changed in.
pub(crate) fn queue_push_writes(
    writes: &mut Writes,
    company_id: i64,
    changed: &[(ItemId, WarehouseId)],
    change: ChangeKind,
    at: OffsetDateTime,
) {
    let now = time_text(at);
    // A reservation leaves the on-hand figure as it was: shops told on-hand stock have
    // nothing new to hear, and telling them the same figure again would undo the
    // decrement a shop like WooCommerce makes itself at checkout.
    let shops = match change {
        ChangeKind::Movement => "",
        ChangeKind::Reservation => " AND s.stock_mode <> 'on_hand'",
    };
    for chunk in changed.chunks(ROWS_PER_STATEMENT) {
        // `WHERE` keeps SQLite from reading `ON CONFLICT` as part of the join. The
        // values are numbered in the order they appear (see `sql::for_connection`).
        let company = 3 + 2 * chunk.len();
        let sql = format!(
            "INSERT INTO stock_push_queue (company_id, shop_id, item_id, queued_at, next_attempt_at) \
             SELECT s.company_id, s.id, v.column1, $1, $2 FROM shops s \
             JOIN (VALUES {}) v ON v.column2 = s.warehouse_id \
             WHERE s.company_id = ${company} AND s.plugin_id <> ''{shops} \
             ON CONFLICT (shop_id, item_id) DO UPDATE SET version = stock_push_queue.version + 1, \
             queued_at = excluded.queued_at",
            value_rows_from(3, chunk.len(), 2)
        );
        let mut values = Vec::with_capacity(3 + chunk.len() * 2);
        values.extend([now.clone().into(), now.clone().into()]);
        for (item, warehouse) in chunk {
            values.extend([item.0.into(), warehouse.0.into()]);
        }
        values.push(company_id.into());
        writes.push(sql, values);
    }
}

impl Store {
    /// Claims up to `limit` due pushes for `owner` until `now + lease`.
    pub async fn claim_stock_pushes(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<PushTask>> {
        let sql = format!(
            "UPDATE stock_push_queue SET lease_owner = $1, lease_until = $2 \
             WHERE (shop_id, item_id) IN (SELECT shop_id, item_id FROM stock_push_queue \
             WHERE next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
             AND shop_id IN (SELECT id FROM shops WHERE enabled = 1) \
             ORDER BY next_attempt_at LIMIT $4{}) \
             RETURNING company_id, shop_id, item_id, version, attempts",
            self.backend().skip_locked()
        );
        let mut tasks: Vec<PushTask> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(time_text(now + lease))
            .bind(time_text(now))
            .bind(i64::from(limit))
            .fetch_all(self.writer())
            .await?
            .iter()
            .map(|row| {
                Ok(PushTask {
                    company: CompanyId(row.int("company_id")?),
                    shop: ShopId(row.int("shop_id")?),
                    item: ItemId(row.int("item_id")?),
                    version: row.int("version")?,
                    attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
                })
            })
            .collect::<StoreResult<_>>()?;
        tasks.sort_by_key(|task| (task.shop, task.item));
        Ok(tasks)
    }

    /// Records what came of a push and takes the pair off the queue, unless the stock
    /// changed again meanwhile (then it stays queued, due at once).
    pub async fn complete_stock_push(
        &self,
        task: &PushTask,
        owner: &str,
        outcome: &PushOutcome,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.complete_stock_pushes(owner, &[(task, outcome)], at)
            .await
    }

    /// Records the outcomes of a batch of pushes in one transaction (one commit for the
    /// batch, not one per item).
    pub async fn complete_stock_pushes(
        &self,
        owner: &str,
        outcomes: &[(&PushTask, &PushOutcome)],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for (task, outcome) in outcomes {
            complete_in(&mut tx, task, owner, outcome, at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A push failed for a reason worth retrying: try again at `retry_at`.
    pub async fn retry_stock_push(
        &self,
        task: &PushTask,
        owner: &str,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE stock_push_queue SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4, \
             lease_owner = NULL, lease_until = NULL WHERE shop_id = $1 AND item_id = $2 AND lease_owner = $5",
        )
        .bind(task.shop.0)
        .bind(task.item.0)
        .bind(error)
        .bind(time_text(retry_at))
        .bind(owner)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Pushes waiting, across all companies (a metric).
    pub async fn queued_stock_pushes(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM stock_push_queue")
            .fetch_one(self.reader())
            .await?;
        row.int("n")
    }
}

impl CompanyScope<'_> {
    /// Queues every item the shop could be told about: those with stock in its
    /// warehouse and those linked to it.
    pub async fn queue_full_stock_push(
        &self,
        shop: ShopId,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        let now = time_text(at);
        let mut tx = self.store.begin().await?;
        let known = sqlx::query("SELECT plugin_id FROM shops WHERE company_id = $1 AND id = $2")
            .bind(self.cid())
            .bind(shop.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("shop", shop))?;
        if known.text("plugin_id")?.is_empty() {
            return Err(StoreError::Invalid(
                "a custom-platform shop reads its stock from the API; nothing is pushed".into(),
            ));
        }
        let queued = sqlx::query(
            "INSERT INTO stock_push_queue (company_id, shop_id, item_id, queued_at, next_attempt_at) \
             SELECT $1, $2, item_id, $3, $3 FROM ( \
               SELECT b.item_id FROM stock_balances b JOIN shops s \
                 ON s.company_id = b.company_id AND s.warehouse_id = b.warehouse_id \
                 WHERE s.company_id = $1 AND s.id = $2 \
               UNION SELECT l.item_id FROM item_links l WHERE l.company_id = $1 AND l.shop_id = $2 \
             ) AS wanted WHERE true \
             ON CONFLICT (shop_id, item_id) DO UPDATE SET version = stock_push_queue.version + 1, \
             queued_at = excluded.queued_at, next_attempt_at = excluded.next_attempt_at, attempts = 0",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(queued)
    }

    /// What the shop was last told about each item, or why it was not; `outcome`
    /// narrows it (`unlinked` lists the items that need a link).
    pub async fn stock_push_states(
        &self,
        shop: ShopId,
        outcome: Option<&str>,
    ) -> StoreResult<Vec<PushState>> {
        sqlx::query(
            "SELECT p.item_id, i.code, p.outcome, p.quantity_e4, p.at, p.error \
             FROM stock_push_state p JOIN items i ON i.company_id = p.company_id AND i.id = p.item_id \
             WHERE p.company_id = $1 AND p.shop_id = $2 AND ($3 IS NULL OR p.outcome = $3) \
             ORDER BY i.code",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(outcome)
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| {
            Ok(PushState {
                item: ItemId(row.int("item_id")?),
                item_code: row.text("code")?,
                outcome: row.text("outcome")?,
                quantity: row.opt_int("quantity_e4")?.map(quantity_from_e4),
                at: row.time("at")?,
                error: row.opt_text("error")?,
            })
        })
        .collect()
    }
}

/// Records one push's outcome and takes its row off the queue (unless it changed since
/// the claim, in which case it goes back in line at once).
async fn complete_in(
    conn: &mut sqlx::AnyConnection,
    task: &PushTask,
    owner: &str,
    outcome: &PushOutcome,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let (label, quantity, error) = match outcome {
        PushOutcome::Pushed(quantity) => ("pushed", Some(quantity_e4("pushed", *quantity)?), None),
        PushOutcome::Unlinked => ("unlinked", None, None),
        PushOutcome::Refused(error) => ("refused", None, Some(error.clone())),
    };
    sqlx::query(
        "INSERT INTO stock_push_state (company_id, shop_id, item_id, outcome, quantity_e4, at, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (shop_id, item_id) DO UPDATE SET \
         outcome = excluded.outcome, quantity_e4 = excluded.quantity_e4, at = excluded.at, \
         error = excluded.error",
    )
    .bind(task.company.0)
    .bind(task.shop.0)
    .bind(task.item.0)
    .bind(label)
    .bind(quantity)
    .bind(time_text(at))
    .bind(error)
    .execute(&mut *conn)
    .await?;
    let removed = sqlx::query(
        "DELETE FROM stock_push_queue WHERE shop_id = $1 AND item_id = $2 AND version = $3 \
         AND lease_owner = $4",
    )
    .bind(task.shop.0)
    .bind(task.item.0)
    .bind(task.version)
    .bind(owner)
    .execute(&mut *conn)
    .await?;
    if removed.rows_affected() == 0 {
        sqlx::query(
            "UPDATE stock_push_queue SET attempts = 0, last_error = NULL, next_attempt_at = $3, \
             lease_owner = NULL, lease_until = NULL \
             WHERE shop_id = $1 AND item_id = $2 AND lease_owner = $4",
        )
        .bind(task.shop.0)
        .bind(task.item.0)
        .bind(time_text(at))
        .bind(owner)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// What the pusher needs of one item to tell a shop its stock: its code, its link to the
/// shop's product (if any), and its level in the shop's warehouse.
#[derive(Debug, Clone, PartialEq)]
pub struct PushInput {
    pub item: ItemId,
    pub code: String,
    pub link: Option<ItemLink>,
    pub level: StockLevel,
}

impl CompanyScope<'_> {
    /// [`PushInput`] of each of `items` for `shop`, selling from `warehouse`: one query
    /// for the batch instead of three per item. Items that no longer exist are left out.
    pub async fn push_inputs(
        &self,
        shop: ShopId,
        warehouse: WarehouseId,
        items: &[ItemId],
    ) -> StoreResult<Vec<PushInput>> {
        let mut inputs: Vec<PushInput> = Vec::with_capacity(items.len());
        for chunk in items.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT i.id, i.code, l.product_id, l.variation_id, l.inventory_id, \
                 (SELECT b.on_hand_e4 FROM stock_balances b WHERE b.company_id = i.company_id \
                  AND b.item_id = i.id AND b.warehouse_id = $2) AS on_hand, \
                 (SELECT CAST(COALESCE(SUM(ol.quantity_e4 - ol.delivered_e4), 0) AS BIGINT) \
                  FROM order_lines ol JOIN orders o ON o.company_id = ol.company_id AND o.id = ol.order_id \
                  WHERE ol.company_id = i.company_id AND ol.item_id = i.id AND o.warehouse_id = $2 \
                  AND o.status IN ('new', 'processing', 'on_hold') \
                  AND ol.quantity_e4 > ol.delivered_e4) AS reserved \
                 FROM items i LEFT JOIN item_links l \
                  ON l.company_id = i.company_id AND l.item_id = i.id AND l.shop_id = $3 \
                 WHERE i.company_id = $1 AND i.id IN ({}) \
                 ORDER BY i.id, l.product_id, l.variation_id",
                placeholders(4, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(self.cid())
                .bind(warehouse.0)
                .bind(shop.0);
            for item in chunk {
                query = query.bind(item.0);
            }
            for row in query.fetch_all(self.store.reader()).await? {
                let item = ItemId(row.int("id")?);
                // An item linked to several products of the shop: the first, as before.
                if inputs.last().is_some_and(|input| input.item == item) {
                    continue;
                }
                let link = match row.opt_text("product_id")? {
                    Some(product_id) => {
                        let variation = row.opt_text("variation_id")?.unwrap_or_default();
                        Some(ItemLink {
                            shop,
                            item,
                            product_id,
                            variation_id: (!variation.is_empty()).then_some(variation),
                            inventory_id: row.opt_text("inventory_id")?,
                        })
                    }
                    None => None,
                };
                inputs.push(PushInput {
                    item,
                    code: row.text("code")?,
                    link,
                    level: StockLevel::from_parts(
                        quantity_from_e4(row.opt_int("on_hand")?.unwrap_or(0)),
                        quantity_from_e4(row.int("reserved")?),
                    ),
                });
            }
        }
        Ok(inputs)
    }
}
