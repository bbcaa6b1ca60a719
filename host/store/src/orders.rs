//! Customer orders: reading them, their history, and the user's own changes. The import
//! transaction is [`crate::import`].

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::AnyConnection;
use time::OffsetDateTime;
use tovor_domain::import::{ImportDecision, diff};
use tovor_domain::mapping::HostStatus;
use tovor_domain::order::{
    Address, NormalizedOrder, OrderStatus, PaymentStatus, StoredOrderState, Touched,
};
use tovor_domain::{CustomerId, HostPaymentMethodId, ItemId, OrderId, ShopId, WarehouseId};

use crate::codec::{RowExt, time_text, to_json};
use crate::error::{StoreError, StoreResult};
use crate::scope::CompanyScope;
use crate::shops::parse_status;
use crate::sql::{ROWS_PER_STATEMENT, Writes, value_rows};
use crate::stock::{ChangeKind, emit_stock_changes};

/// Where a change of an order came from, kept in its history: `webhook`, `poll`,
/// `reconciliation`, `history-import`, `api`, `user`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source<'a>(pub &'a str);

/// What importing an order did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub order: OrderId,
    /// The host's number of the order.
    pub number: String,
    /// What the import rules decided (and the store applied).
    pub decision: ImportDecision,
    pub items_created: Vec<ItemId>,
    pub customer_created: Option<CustomerId>,
    /// The order's payment method, when no mapping covers it (it is listed as unmapped).
    pub unmapped_payment: Option<(String, String)>,
}

/// An order as the host keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub number: String,
    pub shop: ShopId,
    pub warehouse: WarehouseId,
    pub external_id: String,
    pub external_number: String,
    /// The host's status.
    pub status: HostStatus,
    /// The shop's status as the connector normalized it, and as the shop calls it.
    pub shop_status: OrderStatus,
    pub shop_status_raw: String,
    pub payment_status: PaymentStatus,
    /// The host's payment method, when the shop's is mapped.
    pub payment_method: Option<HostPaymentMethodId>,
    pub customer: Option<CustomerId>,
    pub currency: String,
    pub total: Decimal,
    pub tax_total: Decimal,
    pub shop_modified_at: OffsetDateTime,
    pub touched: Touched,
    pub lines: Vec<OrderLine>,
    /// The order's content as last applied (lines, charges, addresses, ...): what
    /// documents are drafted from.
    pub content: NormalizedOrder,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub position: u32,
    pub item: Option<ItemId>,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: Decimal,
    /// How much of it left the warehouse on stock-moving documents.
    pub delivered: Decimal,
    pub unit_price: Decimal,
    pub total: Decimal,
}

/// One line of an order list.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSummary {
    pub id: OrderId,
    pub number: String,
    pub shop: ShopId,
    /// The platform's id of the order.
    pub external_id: String,
    pub external_number: String,
    pub status: HostStatus,
    pub currency: String,
    pub total: Decimal,
    pub shop_created_at: OffsetDateTime,
    /// The billing address's name (or company).
    pub buyer: Option<String>,
}

/// Which orders a list shows; every part is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub shop: Option<ShopId>,
    pub status: Option<HostStatus>,
    /// The number the shop's customer saw, or the platform's id of the order, exactly.
    pub shop_number: Option<String>,
    /// Placed at or after.
    pub placed_from: Option<OffsetDateTime>,
    /// Placed before.
    pub placed_before: Option<OffsetDateTime>,
    /// Found in the order's number, the shop's number or the billing address (name,
    /// company, e-mail, town), case-insensitive.
    pub text: Option<String>,
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub at: OffsetDateTime,
    pub source: String,
    /// `created`, `overwritten`, `status_updated`, `status_changed`, `edited`,
    /// `document_issued`, `document_cancelled`.
    pub action: String,
    pub detail: serde_json::Value,
}

/// What a user may change on an imported order by hand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderEdit {
    pub billing: Option<Address>,
    pub shipping: Option<Address>,
    pub customer_note: Option<String>,
}

/// The stored order row the import rules and user actions work on.
pub(crate) struct StoredRow {
    pub(crate) id: OrderId,
    pub(crate) number: String,
    pub(crate) warehouse: WarehouseId,
    pub(crate) state: StoredOrderState,
}

fn parse_enum<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> StoreResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|error| StoreError::corrupt(column, error))
}

fn touched_of(row: &sqlx::any::AnyRow) -> StoreResult<Touched> {
    Ok(Touched {
        documents_issued: row.flag("touched_documents")?,
        content_edited: row.flag("touched_content")?,
        status_changed_by_hand: row.flag("touched_status")?,
        shipment_created: row.flag("touched_shipment")?,
    })
}

pub(crate) const STORED_COLUMNS: &str = "id, number, warehouse_id, content_hash, shop_modified_at, status, \
     touched_documents, touched_content, touched_status, touched_shipment, content";

pub(crate) fn stored_of(row: &sqlx::any::AnyRow) -> StoreResult<StoredRow> {
    Ok(StoredRow {
        id: OrderId(row.int("id")?),
        number: row.text("number")?,
        warehouse: WarehouseId(row.int("warehouse_id")?),
        state: StoredOrderState {
            content_hash: row.text("content_hash")?,
            shop_modified_at: row.time("shop_modified_at")?,
            mapped_status: parse_status("status", &row.text("status")?)?,
            touched: touched_of(row)?,
            content: row.json("content")?,
        },
    })
}

impl CompanyScope<'_> {
    /// The order with its lines.
    pub async fn order(&self, id: OrderId) -> StoreResult<Order> {
        let company = self.cid();
        let mut snapshot = self.store.read_snapshot().await?;
        let row = sqlx::query(
            "SELECT id, number, shop_id, warehouse_id, external_id, external_number, status, \
             shop_status, shop_status_raw, payment_status, payment_method_id, customer_id, currency, \
             total, tax_total, shop_modified_at, touched_documents, touched_content, touched_status, \
             touched_shipment, content FROM orders WHERE company_id = $1 AND id = $2",
        )
        .bind(company)
        .bind(id.0)
        .fetch_optional(&mut *snapshot)
        .await?
        .ok_or_else(|| StoreError::not_found("order", id))?;
        let lines = sqlx::query(
            "SELECT position, item_id, sku, name, quantity_e4, delivered_e4, unit_price, total \
             FROM order_lines WHERE company_id = $1 AND order_id = $2 ORDER BY position",
        )
        .bind(company)
        .bind(id.0)
        .fetch_all(&mut *snapshot)
        .await?
        .iter()
        .map(|line| {
            Ok(OrderLine {
                position: u32::try_from(line.int("position")?)
                    .map_err(|error| StoreError::corrupt("position", error))?,
                item: line.opt_int("item_id")?.map(ItemId),
                sku: line.opt_text("sku")?,
                name: line.text("name")?,
                quantity: line.quantity("quantity_e4")?,
                delivered: line.quantity("delivered_e4")?,
                unit_price: line.decimal("unit_price")?,
                total: line.decimal("total")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        snapshot.commit().await?;
        Ok(Order {
            id,
            number: row.text("number")?,
            shop: ShopId(row.int("shop_id")?),
            warehouse: WarehouseId(row.int("warehouse_id")?),
            external_id: row.text("external_id")?,
            external_number: row.text("external_number")?,
            status: parse_status("status", &row.text("status")?)?,
            shop_status: parse_enum("shop_status", &row.text("shop_status")?)?,
            shop_status_raw: row.text("shop_status_raw")?,
            payment_status: parse_enum("payment_status", &row.text("payment_status")?)?,
            payment_method: row.opt_int("payment_method_id")?.map(HostPaymentMethodId),
            customer: row.opt_int("customer_id")?.map(CustomerId),
            currency: row.text("currency")?,
            total: row.decimal("total")?,
            tax_total: row.decimal("tax_total")?,
            shop_modified_at: row.time("shop_modified_at")?,
            touched: touched_of(&row)?,
            lines,
            content: row.json("content")?,
        })
    }

    /// The order a shop knows by `external_id`, if imported.
    pub async fn order_by_external_id(
        &self,
        shop: ShopId,
        external_id: &str,
    ) -> StoreResult<Option<OrderId>> {
        sqlx::query(
            "SELECT id FROM orders WHERE company_id = $1 AND shop_id = $2 AND external_id = $3",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(external_id)
        .fetch_optional(self.store.reader())
        .await?
        .map(|row| row.int("id").map(OrderId))
        .transpose()
    }

    /// Orders newest first, `limit` at a time before `before` (all shops, or one).
    pub async fn orders(
        &self,
        shop: Option<ShopId>,
        before: Option<OrderId>,
        limit: u32,
    ) -> StoreResult<Vec<OrderSummary>> {
        let filter = OrderFilter {
            shop,
            ..OrderFilter::default()
        };
        self.find_orders(&filter, before, limit).await
    }

    /// Like [`Self::orders`], narrowed to the orders the shop knows by `shop_number`:
    /// the number its customer saw, or the platform's id of the order.
    pub async fn orders_with_shop_number(
        &self,
        shop: Option<ShopId>,
        shop_number: Option<&str>,
        before: Option<OrderId>,
        limit: u32,
    ) -> StoreResult<Vec<OrderSummary>> {
        let filter = OrderFilter {
            shop,
            shop_number: shop_number.map(str::to_owned),
            ..OrderFilter::default()
        };
        self.find_orders(&filter, before, limit).await
    }

    /// The orders `filter` lets through, newest first, `limit` at a time before
    /// `before`: one query, the filter in SQL, so a page costs the same however many
    /// orders the company has.
    pub async fn find_orders(
        &self,
        filter: &OrderFilter,
        before: Option<OrderId>,
        limit: u32,
    ) -> StoreResult<Vec<OrderSummary>> {
        let text = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| {
                let escaped = text
                    .to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            })
            .unwrap_or_default();
        sqlx::query(
            "SELECT id, number, shop_id, external_id, external_number, status, currency, total, \
             shop_created_at, billing_address FROM orders \
             WHERE company_id = $1 AND ($2 = 0 OR shop_id = $2) AND id < $3 \
             AND ($5 = '' OR external_number = $5 OR external_id = $5) \
             AND ($6 = '' OR status = $6) \
             AND ($7 = '' OR shop_created_at >= $7) AND ($8 = '' OR shop_created_at < $8) \
             AND ($9 = '' OR LOWER(number) LIKE $9 ESCAPE '\\' \
                  OR LOWER(external_number) LIKE $9 ESCAPE '\\' \
                  OR LOWER(COALESCE(billing_address, '')) LIKE $9 ESCAPE '\\') \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(self.cid())
        .bind(filter.shop.map_or(0, |shop| shop.0))
        .bind(before.map_or(i64::MAX, |order| order.0))
        .bind(i64::from(limit))
        .bind(filter.shop_number.as_deref().unwrap_or_default())
        .bind(filter.status.map_or("", HostStatus::as_str))
        .bind(filter.placed_from.map(time_text).unwrap_or_default())
        .bind(filter.placed_before.map(time_text).unwrap_or_default())
        .bind(text)
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(|row| {
            let billing: Option<Address> = row.opt_json("billing_address")?;
            Ok(OrderSummary {
                id: OrderId(row.int("id")?),
                number: row.text("number")?,
                shop: ShopId(row.int("shop_id")?),
                external_id: row.text("external_id")?,
                external_number: row.text("external_number")?,
                status: parse_status("status", &row.text("status")?)?,
                currency: row.text("currency")?,
                total: row.decimal("total")?,
                shop_created_at: row.time("shop_created_at")?,
                buyer: billing.and_then(|address| address.name.or(address.company)),
            })
        })
        .collect()
    }

    pub async fn order_history(&self, id: OrderId) -> StoreResult<Vec<HistoryEntry>> {
        let mut conn = self.store.reader().acquire().await?;
        ensure_order(&mut conn, self.cid(), id).await?;
        sqlx::query(
            "SELECT at, source, action, detail FROM order_history \
             WHERE company_id = $1 AND order_id = $2 ORDER BY id",
        )
        .bind(self.cid())
        .bind(id.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(HistoryEntry {
                at: row.time("at")?,
                source: row.text("source")?,
                action: row.text("action")?,
                detail: row.json("detail")?,
            })
        })
        .collect()
    }

    /// Sets the order's status by hand. From then on re-imports change its status only.
    pub async fn set_order_status(
        &self,
        id: OrderId,
        status: HostStatus,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let company = self.cid();
        let mut tx = self.store.begin().await?;
        let stored = lock_order(&mut tx, company, self.store.backend().for_update(), id).await?;
        sqlx::query(
            "UPDATE orders SET status = $3, touched_status = 1, updated_at = $4 \
             WHERE company_id = $1 AND id = $2",
        )
        .bind(company)
        .bind(id.0)
        .bind(status.as_str())
        .bind(time_text(at))
        .execute(&mut *tx)
        .await?;
        let detail = json!({"from": stored.state.mapped_status, "to": status});
        add_history(&mut tx, company, id, source, "status_changed", &detail, at).await?;
        reservation_follows_status(&mut tx, company, &stored, status, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Edits the order's addresses or note by hand. From then on re-imports change its
    /// status only.
    pub async fn edit_order(
        &self,
        id: OrderId,
        edit: &OrderEdit,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let company = self.cid();
        let mut tx = self.store.begin().await?;
        let stored = lock_order(&mut tx, company, self.store.backend().for_update(), id).await?;
        let mut content = stored.state.content.clone();
        if let Some(billing) = &edit.billing {
            content.billing = Some(billing.clone());
        }
        if let Some(shipping) = &edit.shipping {
            content.shipping = Some(shipping.clone());
        }
        if let Some(note) = &edit.customer_note {
            content.customer_note = Some(note.clone());
        }
        let differences = diff(&stored.state.content, &content);
        if differences.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE orders SET billing_address = $3, shipping_address = $4, customer_note = $5, \
             content = $6, touched_content = 1, updated_at = $7 WHERE company_id = $1 AND id = $2",
        )
        .bind(company)
        .bind(id.0)
        .bind(content.billing.as_ref().map(to_json).transpose()?)
        .bind(content.shipping.as_ref().map(to_json).transpose()?)
        .bind(content.customer_note.as_deref())
        .bind(to_json(&content)?)
        .bind(time_text(at))
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "differences": differences });
        add_history(&mut tx, company, id, source, "edited", &detail, at).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn ensure_order(conn: &mut AnyConnection, company: i64, id: OrderId) -> StoreResult<()> {
    sqlx::query("SELECT id FROM orders WHERE company_id = $1 AND id = $2")
        .bind(company)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("order", id))?;
    Ok(())
}

/// Loads an order for a change, locking its row where the database can.
pub(crate) async fn lock_order(
    conn: &mut AnyConnection,
    company: i64,
    for_update: &str,
    id: OrderId,
) -> StoreResult<StoredRow> {
    let sql = format!(
        "SELECT {STORED_COLUMNS} FROM orders WHERE company_id = $1 AND id = $2{for_update}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("order", id))?;
    stored_of(&row)
}

/// An order marked touched by documents, with what a document of it needs to know.
pub(crate) struct TouchedOrder {
    pub(crate) stored: StoredRow,
    /// The shop's stock-moving document kind.
    pub(crate) stock_document: String,
    /// The company's time zone (the year of a document's number), if it has set one.
    pub(crate) time_zone: Option<String>,
}

/// Marks an order touched by documents and loads it with its shop's stock-moving kind
/// and its company's time zone, in one statement that also locks its row (an `UPDATE`
/// does on PostgreSQL; SQLite's write transaction excludes the others anyway). The mark
/// is undone with the transaction if no document comes of it.
pub(crate) async fn touch_order_for_documents(
    conn: &mut AnyConnection,
    company: i64,
    id: OrderId,
    at: OffsetDateTime,
) -> StoreResult<TouchedOrder> {
    let sql = format!(
        "UPDATE orders SET touched_documents = 1, updated_at = $3 \
         WHERE company_id = $1 AND id = $2 RETURNING {STORED_COLUMNS}, \
         (SELECT s.stock_document FROM shops s \
          WHERE s.company_id = orders.company_id AND s.id = orders.shop_id) AS stock_document, \
         (SELECT p.time_zone FROM company_profiles p \
          WHERE p.company_id = orders.company_id) AS time_zone"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(id.0)
        .bind(time_text(at))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("order", id))?;
    Ok(TouchedOrder {
        stored: stored_of(&row)?,
        stock_document: row.text("stock_document")?,
        time_zone: row.opt_text("time_zone")?,
    })
}

/// An order that opens or closes reserves or releases its items: records a stock
/// change for each of them.
async fn reservation_follows_status(
    conn: &mut AnyConnection,
    company: i64,
    stored: &StoredRow,
    status: HostStatus,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let changed = reservation_change(conn, company, stored, status).await?;
    emit_stock_changes(conn, company, changed, ChangeKind::Reservation, at).await
}

/// The items (in the order's warehouse) whose reservations change when the order takes
/// `status`: all of its items when it opens or closes, none otherwise.
pub(crate) async fn reservation_change(
    conn: &mut AnyConnection,
    company: i64,
    stored: &StoredRow,
    status: HostStatus,
) -> StoreResult<BTreeSet<(ItemId, WarehouseId)>> {
    if stored.state.mapped_status.is_open() == status.is_open() {
        return Ok(BTreeSet::new());
    }
    let items = line_items(conn, company, stored.id).await?;
    Ok(items
        .into_iter()
        .map(|item| (item, stored.warehouse))
        .collect())
}

pub(crate) async fn add_history(
    conn: &mut AnyConnection,
    company: i64,
    order: OrderId,
    source: Source<'_>,
    action: &str,
    detail: &serde_json::Value,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let mut writes = Writes::default();
    history_writes(&mut writes, company, &[(order, action, detail)], source, at)?;
    writes.execute(conn).await
}

/// Adds entries to the history of orders.
pub(crate) fn history_writes(
    writes: &mut Writes,
    company: i64,
    entries: &[(OrderId, &str, &serde_json::Value)],
    source: Source<'_>,
    at: OffsetDateTime,
) -> StoreResult<()> {
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO order_history (company_id, order_id, at, source, action, detail) VALUES {}",
            value_rows(chunk.len(), 6)
        );
        let mut values = Vec::with_capacity(chunk.len() * 6);
        for &(order, action, detail) in chunk {
            values.extend([
                company.into(),
                order.0.into(),
                time_text(at).into(),
                source.0.into(),
                action.into(),
                to_json(detail)?.into(),
            ]);
        }
        writes.push(sql, values);
    }
    Ok(())
}

/// The distinct items on an order's lines.
pub(crate) async fn line_items(
    conn: &mut AnyConnection,
    company: i64,
    order: OrderId,
) -> StoreResult<BTreeSet<ItemId>> {
    sqlx::query(
        // Filtered here, not with `item_id IS NOT NULL`: see `order_line_items`.
        "SELECT item_id FROM order_lines WHERE company_id = $1 AND order_id = $2",
    )
    .bind(company)
    .bind(order.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .filter_map(|row| row.opt_int("item_id").transpose())
    .map(|item| item.map(ItemId))
    .collect()
}
