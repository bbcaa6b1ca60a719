//! Customer orders: the import transaction (docs/architecture.md: flows 1 and 5, "The import rules"), reading orders,
//! their history, and the user's own changes.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use tovor_domain::import::{ImportDecision, ImportSettings, UnchangedReason, decide, diff};
use tovor_domain::mapping::{HostStatus, PaymentResolution, map_payment, map_status};
use tovor_domain::matching::{
    CustomerMatch, InMemoryCustomers, InMemoryItems, ItemMatch, ShopLink, candidate_codes,
    match_customer, match_item, normalize_email, normalize_vat_id, shop_link,
};
use tovor_domain::order::{
    Address, NormalizedOrder, OrderStatus, PaymentStatus, StoredOrderState, Touched, content_hash,
    validate,
};
use tovor_domain::{CustomerId, HostPaymentMethodId, ItemId, OrderId, ShopId, WarehouseId};

use crate::catalog::{insert_customer, insert_new_item, link_customer, link_to, upsert_item_link};
use crate::codec::{RowExt, decimal_text, flag, quantity_e4, time_text, to_json};
use crate::db::Backend;
use crate::error::{StoreError, StoreResult};
use crate::numbering::local_year;
use crate::scope::CompanyScope;
use crate::shops::{ImportContext, load_import_context, parse_status, record_unmapped_payment};
use crate::sql::{ROWS_PER_STATEMENT, placeholders, value_rows};
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

/// What matching and mapping found for an order's content.
struct Resolved {
    customer: CustomerId,
    customer_created: Option<CustomerId>,
    items: Vec<ItemId>,
    items_created: Vec<ItemId>,
    payment_method: Option<HostPaymentMethodId>,
    unmapped_payment: Option<(String, String)>,
    status: HostStatus,
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

const STORED_COLUMNS: &str = "id, number, warehouse_id, content_hash, shop_modified_at, status, \
     touched_documents, touched_content, touched_status, touched_shipment, content";

fn stored_of(row: &sqlx::any::AnyRow) -> StoreResult<StoredRow> {
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

/// How often an import is tried when it collides with a concurrent one.
const IMPORT_ATTEMPTS: u32 = 4;

impl CompanyScope<'_> {
    /// Imports an order delivered by `shop`'s connector (or the custom-platform API):
    /// decides with [`tovor_domain::import::decide`] and applies the decision in one
    /// transaction, creating missing items and customers and applying the shop's
    /// payment and status mappings.
    pub async fn import_order(
        &self,
        shop: ShopId,
        order: &NormalizedOrder,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<ImportOutcome> {
        validate(order).map_err(StoreError::InvalidOrder)?;
        let hash = content_hash(order);
        // Two processes importing the same new order, or orders sharing a new item or
        // customer, collide on a unique key; the loser's next attempt sees the winner's
        // rows. Each attempt can lose only to rows committed before it began, so a
        // third collision would need a third racing writer on another key.
        let mut attempt = 1;
        loop {
            match self.try_import(shop, order, &hash, source, at).await {
                Err(error) if error.is_collision() && attempt < IMPORT_ATTEMPTS => attempt += 1,
                outcome => return outcome,
            }
        }
    }

    async fn try_import(
        &self,
        shop_id: ShopId,
        order: &NormalizedOrder,
        hash: &str,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<ImportOutcome> {
        let company = self.cid();
        // SQLite has one writer: reading in its transaction spares taking (and pinging)
        // a second connection. On PostgreSQL the context is read, and the order number
        // reserved (never inside the transaction: see `crate::numbering`), before the
        // transaction, which then holds its locks for less; a settings change racing an
        // import lands before or after it either way.
        let (shop, year, mut reserved, mut tx) = match self.store.backend() {
            Backend::Sqlite => {
                let mut tx = self.store.begin().await?;
                let shop = load_import_context(&mut *tx, company, shop_id).await?;
                let year = local_year(&shop.time_zone, at)?;
                (shop, year, None, tx)
            }
            Backend::Postgres => {
                let shop = load_import_context(self.store.reader(), company, shop_id).await?;
                let year = local_year(&shop.time_zone, at)?;
                let reserved = self.store.reserve_order_number(company, year).await?;
                (shop, year, reserved, self.store.begin().await?)
            }
        };
        let sql = format!(
            "SELECT {STORED_COLUMNS} FROM orders \
             WHERE company_id = $1 AND shop_id = $2 AND external_id = $3{}",
            self.store.backend().for_update()
        );
        let existing = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(shop_id.0)
            .bind(order.id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(stored_of)
            .transpose()?;
        let settings = ImportSettings {
            update_existing: shop.update_existing,
        };
        let decision = decide(
            existing.as_ref().map(|row| &row.state),
            order,
            hash,
            settings,
        );

        let outcome = match (&decision, existing) {
            (ImportDecision::Create, _) => {
                let resolved = resolve(&mut tx, company, &shop, order, at).await?;
                let number = self
                    .store
                    .order_number(&mut tx, company, year, reserved.as_mut())
                    .await?
                    .to_string();
                let id = insert_order(
                    &mut tx,
                    company,
                    &shop,
                    (order, &number),
                    hash,
                    &resolved,
                    at,
                )
                .await?;
                insert_lines(&mut tx, company, id, order, &resolved.items).await?;
                let detail = json!({
                    "shop_number": order.number,
                    "status": resolved.status,
                    "items_created": resolved.items_created,
                    "customer_created": resolved.customer_created,
                    "unmapped_payment": resolved.unmapped_payment,
                });
                add_history(&mut tx, company, id, source, "created", &detail, at).await?;
                if resolved.status.is_open() {
                    let items = resolved.items.iter().map(|item| (*item, shop.warehouse));
                    emit_stock_changes(
                        &mut tx,
                        company,
                        items.collect::<BTreeSet<_>>(),
                        ChangeKind::Reservation,
                        at,
                    )
                    .await?;
                }
                outcome_of(id, number, decision.clone(), resolved)
            }
            (ImportDecision::Overwrite, Some(stored)) => {
                let old_items = line_items(&mut tx, company, stored.id).await?;
                let resolved = resolve(&mut tx, company, &shop, order, at).await?;
                overwrite_order(&mut tx, company, stored.id, order, hash, &resolved, at).await?;
                sqlx::query("DELETE FROM order_lines WHERE company_id = $1 AND order_id = $2")
                    .bind(company)
                    .bind(stored.id.0)
                    .execute(&mut *tx)
                    .await?;
                insert_lines(&mut tx, company, stored.id, order, &resolved.items).await?;
                let detail = json!({
                    "status": resolved.status,
                    "differences": diff(&stored.state.content, order),
                    "items_created": resolved.items_created,
                    "customer_created": resolved.customer_created,
                });
                add_history(
                    &mut tx,
                    company,
                    stored.id,
                    source,
                    "overwritten",
                    &detail,
                    at,
                )
                .await?;
                let changed: BTreeSet<_> = old_items
                    .into_iter()
                    .chain(resolved.items.iter().copied())
                    .map(|item| (item, stored.warehouse))
                    .collect();
                emit_stock_changes(&mut tx, company, changed, ChangeKind::Reservation, at).await?;
                outcome_of(stored.id, stored.number, decision.clone(), resolved)
            }
            (ImportDecision::StatusOnly { differences }, Some(stored)) => {
                let status = map_status(order.status, &order.status_raw, &shop.statuses);
                // Refunds are money the shop gave back, not content a person edits: a
                // touched order takes them as they are, so they can be credited.
                let mut content = stored.state.content.clone();
                content.refunds.clone_from(&order.refunds);
                sqlx::query(
                    "UPDATE orders SET status = $3, shop_status = $4, shop_status_raw = $5, \
                     payment_status = $6, content_hash = $7, shop_modified_at = $8, updated_at = $9, \
                     content = $10 WHERE company_id = $1 AND id = $2",
                )
                .bind(company)
                .bind(stored.id.0)
                .bind(status.as_str())
                .bind(order.status.as_str())
                .bind(order.status_raw.as_str())
                .bind(order.payment_status.as_str())
                .bind(hash)
                .bind(time_text(order.modified_at))
                .bind(time_text(at))
                .bind(to_json(&content)?)
                .execute(&mut *tx)
                .await?;
                let detail = json!({
                    "status": {"from": stored.state.mapped_status, "to": status},
                    "differences": differences,
                });
                add_history(
                    &mut tx,
                    company,
                    stored.id,
                    source,
                    "status_updated",
                    &detail,
                    at,
                )
                .await?;
                reservation_follows_status(&mut tx, company, &stored, status, at).await?;
                ImportOutcome {
                    order: stored.id,
                    number: stored.number,
                    decision: decision.clone(),
                    items_created: Vec::new(),
                    customer_created: None,
                    unmapped_payment: None,
                }
            }
            (ImportDecision::Unchanged(reason), Some(stored)) => {
                if let UnchangedReason::Stale {
                    stored: newer,
                    incoming,
                } = reason
                {
                    tracing::info!(
                        order = %stored.number, %newer, %incoming,
                        "ignored an older version of an imported order"
                    );
                }
                ImportOutcome {
                    order: stored.id,
                    number: stored.number,
                    decision: decision.clone(),
                    items_created: Vec::new(),
                    customer_created: None,
                    unmapped_payment: None,
                }
            }
            (_, None) => {
                return Err(StoreError::Invalid(format!(
                    "the import rules decided {decision:?} for an order that is not stored"
                )));
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

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

fn outcome_of(
    order: OrderId,
    number: String,
    decision: ImportDecision,
    resolved: Resolved,
) -> ImportOutcome {
    ImportOutcome {
        order,
        number,
        decision,
        items_created: resolved.items_created,
        customer_created: resolved.customer_created,
        unmapped_payment: resolved.unmapped_payment,
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
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(id.0);
    fetch_stored(conn, query, id).await
}

/// Marks an order touched by documents and loads it, in one statement that also locks
/// its row (an `UPDATE` does on PostgreSQL; SQLite's write transaction excludes the
/// others anyway). The mark is undone with the transaction if no document comes of it.
pub(crate) async fn touch_order_for_documents(
    conn: &mut AnyConnection,
    company: i64,
    id: OrderId,
    at: OffsetDateTime,
) -> StoreResult<StoredRow> {
    let sql = format!(
        "UPDATE orders SET touched_documents = 1, updated_at = $3 \
         WHERE company_id = $1 AND id = $2 RETURNING {STORED_COLUMNS}"
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(id.0)
        .bind(time_text(at));
    fetch_stored(conn, query, id).await
}

/// Runs `query`, which returns [`STORED_COLUMNS`] of the order `id`; the order not
/// found is an error.
async fn fetch_stored(
    conn: &mut AnyConnection,
    query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    id: OrderId,
) -> StoreResult<StoredRow> {
    let row = query
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("order", id))?;
    stored_of(&row)
}

/// An order that opens or closes reserves or releases its items: record a stock change
/// for each of them.
async fn reservation_follows_status(
    conn: &mut AnyConnection,
    company: i64,
    stored: &StoredRow,
    status: HostStatus,
    at: OffsetDateTime,
) -> StoreResult<()> {
    if stored.state.mapped_status.is_open() == status.is_open() {
        return Ok(());
    }
    let items = line_items(conn, company, stored.id).await?;
    let changed: BTreeSet<_> = items
        .into_iter()
        .map(|item| (item, stored.warehouse))
        .collect();
    emit_stock_changes(conn, company, changed, ChangeKind::Reservation, at).await
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
    sqlx::query(
        "INSERT INTO order_history (company_id, order_id, at, source, action, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(company)
    .bind(order.0)
    .bind(time_text(at))
    .bind(source.0)
    .bind(action)
    .bind(to_json(detail)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The distinct items on an order's lines.
async fn line_items(
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

/// Matches the order's customer and items (creating what is missing) and maps its
/// payment method and status.
async fn resolve(
    conn: &mut AnyConnection,
    company: i64,
    shop: &ImportContext,
    order: &NormalizedOrder,
    at: OffsetDateTime,
) -> StoreResult<Resolved> {
    let (customer, customer_created) =
        resolve_customer(conn, company, shop.shop, order, at).await?;
    let (items, items_created) = resolve_items(conn, company, shop.shop, order, at).await?;

    let mut payment_method = None;
    let mut unmapped_payment = None;
    if let Some(raw) = order
        .payment_method
        .as_ref()
        .filter(|raw| !raw.code.trim().is_empty() || !raw.title.trim().is_empty())
    {
        match map_payment(raw, &shop.payments) {
            PaymentResolution::Mapped(method) => payment_method = Some(method),
            PaymentResolution::Unmapped { code, title } => {
                if !shop.unmapped.contains(&(code.clone(), title.clone())) {
                    record_unmapped_payment(conn, company, shop.shop, &code, &title, at).await?;
                }
                unmapped_payment = Some((code, title));
            }
        }
    }
    let status = map_status(order.status, &order.status_raw, &shop.statuses);
    Ok(Resolved {
        customer,
        customer_created,
        items,
        items_created,
        payment_method,
        unmapped_payment,
        status,
    })
}

async fn resolve_customer(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
    order: &NormalizedOrder,
    at: OffsetDateTime,
) -> StoreResult<(CustomerId, Option<CustomerId>)> {
    let customer = order.customer.as_ref();
    let platform_id = customer
        .and_then(|c| c.platform_id.as_deref())
        .map(str::trim)
        .filter(|id| !id.is_empty());
    let email = customer
        .and_then(|c| c.email.as_deref())
        .and_then(normalize_email)
        .or_else(|| {
            order
                .billing
                .as_ref()
                .and_then(|b| b.email.as_deref())
                .and_then(normalize_email)
        });
    let vat_id = customer
        .and_then(|c| c.vat_id.as_deref())
        .and_then(normalize_vat_id);

    // The shop's link, and the oldest customer with the e-mail or VAT id (so matching
    // is stable), in one statement; a key the order lacks is bound as NULL, which
    // matches nothing.
    let found = sqlx::query(
        "SELECT 'link' AS via, customer_id AS id FROM customer_links \
         WHERE company_id = $1 AND shop_id = $2 AND platform_id = $3 \
         UNION ALL SELECT 'email', MIN(id) FROM customers WHERE company_id = $1 AND email_key = $4 \
         UNION ALL SELECT 'vat_id', MIN(id) FROM customers WHERE company_id = $1 AND vat_id_key = $5",
    )
    .bind(company)
    .bind(shop.0)
    .bind(platform_id)
    .bind(email.as_deref())
    .bind(vat_id.as_deref())
    .fetch_all(&mut *conn)
    .await?;
    let mut known = InMemoryCustomers::default();
    for row in &found {
        let Some(id) = row.opt_int("id")?.map(CustomerId) else {
            continue;
        };
        match (row.text("via")?.as_str(), platform_id, &email, &vat_id) {
            ("link", Some(platform_id), _, _) => known.insert_link(platform_id, id),
            ("email", _, Some(key), _) => known.insert_email(key, id),
            ("vat_id", _, _, Some(key)) => known.insert_vat_id(key, id),
            _ => {}
        }
    }

    match match_customer(order, &known) {
        CustomerMatch::Linked(id) => Ok((id, None)),
        CustomerMatch::ByEmail(id) | CustomerMatch::ByVatId(id) => {
            // Remember the shop's id for this customer, so the next order links directly.
            if let Some(platform_id) = platform_id {
                link_customer(conn, company, shop, platform_id, id).await?;
            }
            Ok((id, None))
        }
        CustomerMatch::Create(new) => {
            let id = insert_customer(conn, company, &new, Some(shop), at).await?;
            Ok((id, Some(id)))
        }
    }
}

async fn resolve_items(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
    order: &NormalizedOrder,
    at: OffsetDateTime,
) -> StoreResult<(Vec<ItemId>, Vec<ItemId>)> {
    let products: BTreeSet<String> = order
        .lines
        .iter()
        .filter_map(shop_link)
        .map(|link| link.product_id)
        .collect();
    let codes: BTreeSet<String> = order.lines.iter().flat_map(candidate_codes).collect();
    // The shop's links of the order's products and the items with the order's codes,
    // in one statement.
    let mut parts = Vec::new();
    if !products.is_empty() {
        parts.push(format!(
            "SELECT 'link' AS via, item_id AS id, product_id AS code, variation_id AS variation \
             FROM item_links WHERE company_id = $1 AND shop_id = $2 AND product_id IN ({})",
            placeholders(3, products.len())
        ));
    }
    if !codes.is_empty() {
        parts.push(format!(
            "SELECT 'code' AS via, id, code, '' AS variation FROM items \
             WHERE company_id = $1 AND code IN ({})",
            // After the shop and the products when they are asked for.
            placeholders(
                if products.is_empty() {
                    2
                } else {
                    3 + products.len()
                },
                codes.len()
            )
        ));
    }
    let mut known = InMemoryItems::default();
    if !parts.is_empty() {
        let sql = parts.join(" UNION ALL ");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(company);
        if !products.is_empty() {
            query = query.bind(shop.0);
        }
        for value in products.iter().chain(&codes) {
            query = query.bind(value.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            let id = ItemId(row.int("id")?);
            if row.text("via")? == "link" {
                let variation = row.text("variation")?;
                let link = ShopLink {
                    product_id: row.text("code")?,
                    variation_id: (!variation.is_empty()).then_some(variation),
                };
                known.insert_link(link, id);
            } else {
                known.insert_code(&row.text("code")?, id);
            }
        }
    }

    let mut items = Vec::with_capacity(order.lines.len());
    let mut created = Vec::new();
    for line in &order.lines {
        let item = match match_item(line, order.prices_include_tax, &known) {
            ItemMatch::Linked(id) => id,
            ItemMatch::BySku(id) => {
                // Learn the shop's product for this item, so stock can be pushed to it.
                if let Some(link) = shop_link(line) {
                    upsert_item_link(conn, company, &link_to(shop, id, &link)).await?;
                    known.insert_link(link, id);
                }
                id
            }
            ItemMatch::Create(new) => {
                let id = insert_new_item(conn, company, shop, &new, at).await?;
                known.insert_code(&new.code, id);
                if let Some(link) = new.link {
                    known.insert_link(link, id);
                }
                created.push(id);
                id
            }
        };
        items.push(item);
    }
    Ok((items, created))
}

/// The order columns an import writes from the incoming order, in binding order (see
/// [`bind_content`]).
const CONTENT_COLUMNS: [&str; 22] = [
    "external_number",
    "status",
    "shop_status",
    "shop_status_raw",
    "payment_status",
    "payment_method_code",
    "payment_method_title",
    "payment_method_id",
    "currency",
    "prices_include_tax",
    "customer_id",
    "billing_address",
    "shipping_address",
    "customer_note",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
    "shop_created_at",
    "shop_modified_at",
    "content_hash",
    "content",
];

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds the values of [`CONTENT_COLUMNS`].
fn bind_content<'q>(
    query: AnyQuery<'q>,
    order: &NormalizedOrder,
    hash: &str,
    resolved: &Resolved,
) -> StoreResult<AnyQuery<'q>> {
    let payment = order.payment_method.as_ref();
    Ok(query
        .bind(order.number.clone())
        .bind(resolved.status.as_str())
        .bind(order.status.as_str())
        .bind(order.status_raw.clone())
        .bind(order.payment_status.as_str())
        .bind(payment.map(|p| p.code.clone()))
        .bind(payment.map(|p| p.title.clone()))
        .bind(resolved.payment_method.map(|m| m.0))
        .bind(order.currency.clone())
        .bind(flag(order.prices_include_tax))
        .bind(resolved.customer.0)
        .bind(order.billing.as_ref().map(to_json).transpose()?)
        .bind(order.shipping.as_ref().map(to_json).transpose()?)
        .bind(order.customer_note.clone())
        .bind(decimal_text(order.discount_total))
        .bind(decimal_text(order.shipping_total))
        .bind(decimal_text(order.tax_total))
        .bind(decimal_text(order.total))
        .bind(time_text(order.created_at))
        .bind(time_text(order.modified_at))
        .bind(hash.to_owned())
        .bind(to_json(order)?))
}

async fn insert_order(
    conn: &mut AnyConnection,
    company: i64,
    shop: &ImportContext,
    (order, number): (&NormalizedOrder, &str),
    hash: &str,
    resolved: &Resolved,
    at: OffsetDateTime,
) -> StoreResult<OrderId> {
    // $1-$5 below, the content from $6, then the creation time twice.
    let content_end = 5 + CONTENT_COLUMNS.len();
    let sql = format!(
        "INSERT INTO orders (company_id, shop_id, warehouse_id, number, external_id, {}, \
         created_at, updated_at) VALUES ({}, ${}, ${}) RETURNING id",
        CONTENT_COLUMNS.join(", "),
        placeholders(1, content_end),
        content_end + 1,
        content_end + 1,
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(shop.shop.0)
        .bind(shop.warehouse.0)
        .bind(number.to_owned())
        .bind(order.id.clone());
    let id = bind_content(query, order, hash, resolved)?
        .bind(time_text(at))
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    Ok(OrderId(id))
}

async fn overwrite_order(
    conn: &mut AnyConnection,
    company: i64,
    id: OrderId,
    order: &NormalizedOrder,
    hash: &str,
    resolved: &Resolved,
    at: OffsetDateTime,
) -> StoreResult<()> {
    // $1 and $2 select the row, the content from $3, then the update time.
    let assignments: Vec<String> = CONTENT_COLUMNS
        .iter()
        .enumerate()
        .map(|(n, column)| format!("{column} = ${}", n + 3))
        .collect();
    let sql = format!(
        "UPDATE orders SET {}, updated_at = ${} WHERE company_id = $1 AND id = $2",
        assignments.join(", "),
        CONTENT_COLUMNS.len() + 3
    );
    let query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(id.0);
    bind_content(query, order, hash, resolved)?
        .bind(time_text(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_lines(
    conn: &mut AnyConnection,
    company: i64,
    order_id: OrderId,
    order: &NormalizedOrder,
    items: &[ItemId],
) -> StoreResult<()> {
    let rows: Vec<(usize, (&tovor_domain::order::LineItem, &ItemId))> =
        order.lines.iter().zip(items).enumerate().collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO order_lines (company_id, order_id, position, item_id, platform_line_id, sku, \
             name, quantity, unit_price, discount, vat_rate, vat_amount, total, quantity_e4) VALUES {}",
            value_rows(chunk.len(), 14)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for &(position, (line, item)) in chunk {
            let position =
                i64::try_from(position).map_err(|error| StoreError::Invalid(error.to_string()))?;
            query = query
                .bind(company)
                .bind(order_id.0)
                .bind(position)
                .bind(item.0)
                .bind(line.platform_line_id.clone())
                .bind(line.sku.clone())
                .bind(line.name.clone())
                .bind(decimal_text(line.quantity))
                .bind(decimal_text(line.unit_price))
                .bind(decimal_text(line.discount))
                .bind(decimal_text(line.effective_tax_rate()))
                .bind(decimal_text(line.tax_amount))
                .bind(decimal_text(line.total))
                .bind(quantity_e4(
                    &format!("lines[{position}].quantity"),
                    line.quantity,
                )?);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
