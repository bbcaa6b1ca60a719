//! The import transaction (docs/architecture.md: flows 1 and 5, "The import rules"):
//! orders of one shop go through the import rules, and what the rules decide is applied
//! in one transaction, for one order (a webhook) or a page of them (a sync or history
//! page, [`CompanyScope::import_orders`]).
//!
//! Every statement is a round trip, and on SQLite a hop to the connection's thread that
//! costs more than the work it carries. So a transaction reads what all its orders need
//! in one statement per table (the stored orders, the customers and the items they
//! match) and writes their rows in one statement per table (orders, lines, history,
//! stock changes); only what is new to the company (a customer, an item, a link) is
//! written on its own, since the orders after it must find it. A batch that fails for
//! any reason is rolled back and its orders are imported one at a time, so a refused
//! order or a collision with a concurrent import costs time, not orders.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::json;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;
use tovor_domain::import::{ImportDecision, ImportSettings, UnchangedReason, decide, diff};
use tovor_domain::mapping::{HostStatus, PaymentResolution, map_payment, map_status};
use tovor_domain::matching::{
    CustomerLookup, CustomerMatch, InMemoryCustomers, InMemoryItems, ItemMatch, ShopLink,
    candidate_codes, match_customer, match_item, normalize_email, normalize_vat_id, shop_link,
};
use tovor_domain::order::{NormalizedOrder, content_hash, validate};
use tovor_domain::{CustomerId, HostPaymentMethodId, ItemId, OrderId, ShopId, WarehouseId};

use crate::catalog::{insert_customer, insert_new_item, link_customer, link_to, upsert_item_link};
use crate::codec::{RowExt, decimal_text, flag, quantity_e4, time_text, to_json};
use crate::db::Backend;
use crate::error::{StoreError, StoreResult};
use crate::numbering::local_year;
use crate::orders::{
    ImportOutcome, STORED_COLUMNS, Source, StoredRow, history_writes, reservation_change, stored_of,
};
use crate::scope::CompanyScope;
use crate::shops::{ImportContext, load_import_context, record_unmapped_payment};
use crate::sql::{
    ROWS_PER_STATEMENT, Value, Writes, bound, for_connection, placeholders, value_rows,
};
use crate::stock::{ChangeKind, stock_change_writes};

/// How often an import is tried when it collides with a concurrent one.
const IMPORT_ATTEMPTS: u32 = 4;

/// Orders imported in one transaction by [`CompanyScope::import_orders`]: a page of
/// most platforms' listings. More would hold SQLite's write lock longer for little.
pub const ORDERS_PER_TRANSACTION: usize = 100;

/// An order to import with its content hash.
type Incoming<'a> = (&'a NormalizedOrder, &'a str);

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
        self.import_one((order, &content_hash(order)), shop, source, at)
            .await
    }

    /// Imports `orders` of `shop` as [`Self::import_order`] would one after another,
    /// with one result per order in their order, but up to [`ORDERS_PER_TRANSACTION`]
    /// of them in one transaction and a handful of statements. An order the rules
    /// refuse, or a batch that collides with a concurrent import, sends the orders of
    /// its batch through one at a time, so each gets the result it would have had alone.
    pub async fn import_orders(
        &self,
        shop: ShopId,
        orders: &[&NormalizedOrder],
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> Vec<StoreResult<ImportOutcome>> {
        let hashes: Vec<String> = orders.iter().map(|order| content_hash(order)).collect();
        let mut results: Vec<Option<StoreResult<ImportOutcome>>> =
            orders.iter().map(|_| None).collect();
        let mut batch: Vec<usize> = Vec::new();
        let mut ids = HashSet::new();
        for (index, order) in orders.iter().enumerate() {
            if let Err(problems) = validate(order) {
                results[index] = Some(Err(StoreError::InvalidOrder(problems)));
                continue;
            }
            // A second version of an order in the batch starts the next batch, so it is
            // imported after the first, as it would be one at a time.
            if ids.contains(order.id.as_str()) || batch.len() == ORDERS_PER_TRANSACTION {
                self.import_batch(shop, &batch, orders, &hashes, &mut results, (source, at))
                    .await;
                batch.clear();
                ids.clear();
            }
            ids.insert(order.id.as_str());
            batch.push(index);
        }
        self.import_batch(shop, &batch, orders, &hashes, &mut results, (source, at))
            .await;
        results.into_iter().flatten().collect()
    }

    /// Imports the valid orders of `batch` (indices into `orders`, with distinct ids)
    /// in one transaction, or one at a time if that fails, into their `results`.
    async fn import_batch(
        &self,
        shop: ShopId,
        batch: &[usize],
        orders: &[&NormalizedOrder],
        hashes: &[String],
        results: &mut [Option<StoreResult<ImportOutcome>>],
        (source, at): (Source<'_>, OffsetDateTime),
    ) {
        let incoming: Vec<Incoming> = batch
            .iter()
            .map(|&index| (orders[index], hashes[index].as_str()))
            .collect();
        if incoming.len() > 1 {
            match self.try_import(shop, &incoming, source, at).await {
                Ok(outcomes) => {
                    for (&index, outcome) in batch.iter().zip(outcomes) {
                        results[index] = Some(Ok(outcome));
                    }
                    return;
                }
                Err(error) => tracing::debug!(
                    %error, orders = incoming.len(),
                    "a batch of orders was not imported at once; importing them one at a time"
                ),
            }
        }
        for (&index, incoming) in batch.iter().zip(incoming) {
            results[index] = Some(self.import_one(incoming, shop, source, at).await);
        }
    }

    /// Imports one valid order in a transaction of its own.
    async fn import_one(
        &self,
        incoming: Incoming<'_>,
        shop: ShopId,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<ImportOutcome> {
        // Two processes importing the same new order, or orders sharing a new item or
        // customer, collide on a unique key; the loser's next attempt sees the winner's
        // rows. Each attempt can lose only to rows committed before it began, so a
        // third collision would need a third racing writer on another key.
        let mut attempt = 1;
        loop {
            match self.try_import(shop, &[incoming], source, at).await {
                Ok(outcomes) => {
                    return outcomes.into_iter().next().ok_or_else(|| {
                        StoreError::Invalid("the import of an order had no outcome".into())
                    });
                }
                Err(error) if error.is_collision() && attempt < IMPORT_ATTEMPTS => attempt += 1,
                Err(error) => return Err(error),
            }
        }
    }

    /// Imports valid orders with distinct ids in one transaction: all or none.
    async fn try_import(
        &self,
        shop_id: ShopId,
        orders: &[Incoming<'_>],
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<Vec<ImportOutcome>> {
        let company = self.cid();
        // SQLite has one writer: reading in its transaction spares taking a second
        // connection. On PostgreSQL the context is read, and the order numbers
        // reserved (never inside the transaction: see `crate::numbering`), before the
        // transaction, which then holds its locks for less; a settings change racing an
        // import lands before or after it either way.
        let (mut shop, year, mut reserved, mut tx) = match self.store.backend() {
            Backend::Sqlite => {
                let mut tx = self.store.begin().await?;
                let shop = load_import_context(&mut *tx, company, shop_id).await?;
                let year = local_year(&shop.time_zone, at)?;
                (shop, year, Vec::new(), tx)
            }
            Backend::Postgres => {
                let shop = load_import_context(self.store.reader(), company, shop_id).await?;
                let year = local_year(&shop.time_zone, at)?;
                let reserved = self
                    .store
                    .reserve_order_numbers(company, year, orders.len())
                    .await?;
                (shop, year, reserved, self.store.begin().await?)
            }
        };
        let for_update = self.store.backend().for_update();
        let mut stored = stored_orders(&mut tx, company, shop_id, orders, for_update).await?;
        let settings = ImportSettings {
            update_existing: shop.update_existing,
        };
        let decided: Vec<(ImportDecision, Option<StoredRow>)> = orders
            .iter()
            .map(|(order, hash)| {
                let stored = stored.remove(order.id.as_str());
                let decision = decide(stored.as_ref().map(|row| &row.state), order, hash, settings);
                (decision, stored)
            })
            .collect();
        let creates = decided
            .iter()
            .filter(|(decision, _)| *decision == ImportDecision::Create)
            .count();
        let mut numbers = self
            .store
            .order_numbers(&mut tx, company, year, &mut reserved, creates)
            .await?
            .into_iter();
        let matched: Vec<&NormalizedOrder> = orders
            .iter()
            .zip(&decided)
            .filter(|(_, (decision, _))| {
                matches!(decision, ImportDecision::Create | ImportDecision::Overwrite)
            })
            .map(|((order, _), _)| *order)
            .collect();
        let mut known = Known::load(&mut tx, company, shop_id, &matched).await?;

        let mut rows = PageRows::default();
        let mut outcomes = Vec::with_capacity(orders.len());
        for (&(order, hash), (decision, stored)) in orders.iter().zip(decided) {
            let outcome = match (decision, stored) {
                (ImportDecision::Create, _) => {
                    let resolved =
                        resolve(&mut tx, company, &mut shop, &mut known, order, at).await?;
                    let number = numbers
                        .next()
                        .ok_or_else(|| StoreError::Invalid("an order number is missing".into()))?
                        .to_string();
                    let created = OrderRef::Created(rows.created.len());
                    rows.history.push(History {
                        order: created,
                        action: "created",
                        detail: json!({
                            "shop_number": order.number,
                            "status": resolved.status,
                            "items_created": resolved.items_created,
                            "customer_created": resolved.customer_created,
                            "unmapped_payment": resolved.unmapped_payment,
                        }),
                    });
                    if resolved.status.is_open() {
                        rows.changes
                            .extend(resolved.items.iter().map(|item| (*item, shop.warehouse)));
                    }
                    rows.lines.push((created, order, resolved.items.clone()));
                    let outcome =
                        pending(created, number.clone(), ImportDecision::Create, &resolved);
                    rows.created.push(NewOrder {
                        order,
                        hash,
                        number,
                        resolved,
                    });
                    outcome
                }
                (ImportDecision::Overwrite, Some(stored)) => {
                    let old_items = crate::orders::line_items(&mut tx, company, stored.id).await?;
                    let resolved =
                        resolve(&mut tx, company, &mut shop, &mut known, order, at).await?;
                    overwrite_order(&mut tx, company, stored.id, order, hash, &resolved, at)
                        .await?;
                    sqlx::query("DELETE FROM order_lines WHERE company_id = $1 AND order_id = $2")
                        .bind(company)
                        .bind(stored.id.0)
                        .execute(&mut *tx)
                        .await?;
                    let target = OrderRef::Stored(stored.id);
                    rows.lines.push((target, order, resolved.items.clone()));
                    rows.history.push(History {
                        order: target,
                        action: "overwritten",
                        detail: json!({
                            "status": resolved.status,
                            "differences": diff(&stored.state.content, order),
                            "items_created": resolved.items_created,
                            "customer_created": resolved.customer_created,
                        }),
                    });
                    rows.changes.extend(
                        old_items
                            .into_iter()
                            .chain(resolved.items.iter().copied())
                            .map(|item| (item, stored.warehouse)),
                    );
                    pending(target, stored.number, ImportDecision::Overwrite, &resolved)
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
                    let target = OrderRef::Stored(stored.id);
                    rows.history.push(History {
                        order: target,
                        action: "status_updated",
                        detail: json!({
                            "status": {"from": stored.state.mapped_status, "to": status},
                            "differences": differences,
                        }),
                    });
                    rows.changes
                        .extend(reservation_change(&mut tx, company, &stored, status).await?);
                    nothing_created(
                        target,
                        stored.number,
                        ImportDecision::StatusOnly { differences },
                    )
                }
                (ImportDecision::Unchanged(reason), Some(stored)) => {
                    if let UnchangedReason::Stale {
                        stored: newer,
                        incoming,
                    } = &reason
                    {
                        tracing::info!(
                            order = %stored.number, %newer, %incoming,
                            "ignored an older version of an imported order"
                        );
                    }
                    let target = OrderRef::Stored(stored.id);
                    nothing_created(target, stored.number, ImportDecision::Unchanged(reason))
                }
                (decision, None) => {
                    return Err(StoreError::Invalid(format!(
                        "the import rules decided {decision:?} for an order that is not stored"
                    )));
                }
            };
            outcomes.push(outcome);
        }
        let created = rows.apply(&mut tx, company, &shop, source, at).await?;
        tx.commit().await?;
        outcomes
            .into_iter()
            .map(|outcome| outcome.settle(&created))
            .collect()
    }
}

/// The stored orders of `shop` with the ids of `orders`, by id, locked where the
/// database can.
async fn stored_orders(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
    orders: &[Incoming<'_>],
    for_update: &str,
) -> StoreResult<HashMap<String, StoredRow>> {
    let sql = format!(
        "SELECT {STORED_COLUMNS}, external_id FROM orders \
         WHERE company_id = $1 AND shop_id = $2 AND external_id IN ({}){for_update}",
        placeholders(3, orders.len())
    );
    let sql = for_connection(conn, sql);
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(company)
        .bind(shop.0);
    for (order, _) in orders {
        query = query.bind(order.id.as_str());
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((row.text("external_id")?, stored_of(row)?)))
        .collect()
}

/// An order a batch writes to: stored before it, or the batch's `n`th new one, whose
/// id is known once the new orders are inserted.
#[derive(Debug, Clone, Copy)]
enum OrderRef {
    Stored(OrderId),
    Created(usize),
}

impl OrderRef {
    fn id(self, created: &[OrderId]) -> StoreResult<OrderId> {
        match self {
            Self::Stored(id) => Ok(id),
            Self::Created(n) => created
                .get(n)
                .copied()
                .ok_or_else(|| StoreError::Invalid(format!("new order {n} was not inserted"))),
        }
    }
}

/// An [`ImportOutcome`] whose order may still be waiting for its id.
struct Pending {
    order: OrderRef,
    number: String,
    decision: ImportDecision,
    items_created: Vec<ItemId>,
    customer_created: Option<CustomerId>,
    unmapped_payment: Option<(String, String)>,
}

impl Pending {
    fn settle(self, created: &[OrderId]) -> StoreResult<ImportOutcome> {
        Ok(ImportOutcome {
            order: self.order.id(created)?,
            number: self.number,
            decision: self.decision,
            items_created: self.items_created,
            customer_created: self.customer_created,
            unmapped_payment: self.unmapped_payment,
        })
    }
}

fn pending(
    order: OrderRef,
    number: String,
    decision: ImportDecision,
    resolved: &Resolved,
) -> Pending {
    Pending {
        order,
        number,
        decision,
        items_created: resolved.items_created.clone(),
        customer_created: resolved.customer_created,
        unmapped_payment: resolved.unmapped_payment.clone(),
    }
}

/// The outcome of a decision that matched and created nothing (a status update, or
/// nothing to do).
fn nothing_created(order: OrderRef, number: String, decision: ImportDecision) -> Pending {
    Pending {
        order,
        number,
        decision,
        items_created: Vec::new(),
        customer_created: None,
        unmapped_payment: None,
    }
}

/// A new order of a batch.
struct NewOrder<'a> {
    order: &'a NormalizedOrder,
    hash: &'a str,
    number: String,
    resolved: Resolved,
}

/// A history entry of a batch.
struct History {
    order: OrderRef,
    action: &'static str,
    detail: serde_json::Value,
}

/// The rows a batch writes once its orders are decided, one statement per table.
#[derive(Default)]
struct PageRows<'a> {
    created: Vec<NewOrder<'a>>,
    lines: Vec<(OrderRef, &'a NormalizedOrder, Vec<ItemId>)>,
    history: Vec<History>,
    /// Items whose reservations changed, in the warehouse of their order; sorted, so
    /// concurrent transactions queue their pushes in one order and cannot deadlock.
    changes: BTreeSet<(ItemId, WarehouseId)>,
}

impl PageRows<'_> {
    /// Writes the rows: the new orders, then everything else in one go (see
    /// [`Writes`]); the ids of the new orders, in their order.
    async fn apply(
        self,
        conn: &mut AnyConnection,
        company: i64,
        shop: &ImportContext,
        source: Source<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<Vec<OrderId>> {
        let created = insert_orders(conn, company, shop, &self.created, at).await?;
        let mut writes = Writes::default();
        let lines = self
            .lines
            .iter()
            .map(|(order, incoming, items)| Ok((order.id(&created)?, *incoming, items.as_slice())))
            .collect::<StoreResult<Vec<_>>>()?;
        line_writes(&mut writes, company, &lines)?;
        let history = self
            .history
            .iter()
            .map(|entry| Ok((entry.order.id(&created)?, entry.action, &entry.detail)))
            .collect::<StoreResult<Vec<_>>>()?;
        history_writes(&mut writes, company, &history, source, at)?;
        stock_change_writes(
            &mut writes,
            company,
            self.changes,
            ChangeKind::Reservation,
            at,
        );
        writes.execute(conn).await?;
        Ok(created)
    }
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

/// The customers and items a batch's orders can match, loaded for all of them at once
/// and kept up to date with what the batch creates and links.
#[derive(Default)]
struct Known {
    customers: InMemoryCustomers,
    items: InMemoryItems,
}

/// The keys an order's customer is matched by: the shop's id of the customer, the
/// e-mail (the customer's, else the billing address's) and the VAT id, normalized.
struct CustomerKeys {
    platform_id: Option<String>,
    email: Option<String>,
    vat_id: Option<String>,
}

impl CustomerKeys {
    fn of(order: &NormalizedOrder) -> Self {
        let customer = order.customer.as_ref();
        Self {
            platform_id: customer
                .and_then(|c| c.platform_id.as_deref())
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            email: customer
                .and_then(|c| c.email.as_deref())
                .and_then(normalize_email)
                .or_else(|| {
                    order
                        .billing
                        .as_ref()
                        .and_then(|b| b.email.as_deref())
                        .and_then(normalize_email)
                }),
            vat_id: customer
                .and_then(|c| c.vat_id.as_deref())
                .and_then(normalize_vat_id),
        }
    }
}

/// A statement of `UNION ALL` parts whose values are numbered as they are added, so
/// they run `$1, $2, …` in order (see [`for_connection`]).
#[derive(Default)]
struct Union {
    parts: Vec<String>,
    values: Vec<Value>,
}

impl Union {
    /// The placeholder of `value`.
    fn int(&mut self, value: i64) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// `$n, $n+1, ...` for `values`, bound in their order.
    fn list<'v>(&mut self, values: impl IntoIterator<Item = &'v String>) -> String {
        let start = self.values.len() + 1;
        self.values
            .extend(values.into_iter().map(|value| value.clone().into()));
        placeholders(start, self.values.len() + 1 - start)
    }

    /// Runs the parts; nothing when there are none.
    async fn fetch(self, conn: &mut AnyConnection) -> StoreResult<Vec<sqlx::any::AnyRow>> {
        if self.parts.is_empty() {
            return Ok(Vec::new());
        }
        let sql = for_connection(conn, self.parts.join(" UNION ALL "));
        Ok(bound(sqlx::query(sqlx::AssertSqlSafe(sql)), self.values)
            .fetch_all(&mut *conn)
            .await?)
    }
}

impl Known {
    /// The shop's links of the orders' customers and products, the oldest customer of
    /// each e-mail and VAT id (so matching is stable), and the items with the orders'
    /// codes: two statements.
    async fn load(
        conn: &mut AnyConnection,
        company: i64,
        shop: ShopId,
        orders: &[&NormalizedOrder],
    ) -> StoreResult<Self> {
        let mut known = Self::default();
        if orders.is_empty() {
            return Ok(known);
        }
        let keys: Vec<CustomerKeys> = orders.iter().map(|order| CustomerKeys::of(order)).collect();
        let platform_ids: BTreeSet<&String> =
            keys.iter().filter_map(|k| k.platform_id.as_ref()).collect();
        let emails: BTreeSet<&String> = keys.iter().filter_map(|k| k.email.as_ref()).collect();
        let vat_ids: BTreeSet<&String> = keys.iter().filter_map(|k| k.vat_id.as_ref()).collect();
        let mut customers = Union::default();
        if !platform_ids.is_empty() {
            let (company, shop) = (customers.int(company), customers.int(shop.0));
            let list = customers.list(platform_ids);
            customers.parts.push(format!(
                "SELECT 'link' AS via, customer_id AS id, platform_id AS k FROM customer_links \
                 WHERE company_id = {company} AND shop_id = {shop} AND platform_id IN ({list})"
            ));
        }
        for (via, column, values) in [
            ("email", "email_key", emails),
            ("vat_id", "vat_id_key", vat_ids),
        ] {
            if !values.is_empty() {
                let company = customers.int(company);
                let list = customers.list(values);
                customers.parts.push(format!(
                    "SELECT '{via}' AS via, MIN(id) AS id, {column} AS k FROM customers \
                     WHERE company_id = {company} AND {column} IN ({list}) GROUP BY {column}"
                ));
            }
        }
        for row in customers.fetch(conn).await? {
            let id = CustomerId(row.int("id")?);
            let key = row.text("k")?;
            match row.text("via")?.as_str() {
                "link" => known.customers.insert_link(&key, id),
                "email" => known.customers.insert_email(&key, id),
                _ => known.customers.insert_vat_id(&key, id),
            }
        }

        let lines = orders.iter().flat_map(|order| &order.lines);
        let products: BTreeSet<String> = lines
            .clone()
            .filter_map(shop_link)
            .map(|link| link.product_id)
            .collect();
        let codes: BTreeSet<String> = lines.flat_map(candidate_codes).collect();
        let mut items = Union::default();
        if !products.is_empty() {
            let (company, shop) = (items.int(company), items.int(shop.0));
            let list = items.list(&products);
            items.parts.push(format!(
                "SELECT 'link' AS via, item_id AS id, product_id AS code, variation_id AS variation \
                 FROM item_links WHERE company_id = {company} AND shop_id = {shop} \
                 AND product_id IN ({list})"
            ));
        }
        if !codes.is_empty() {
            let company = items.int(company);
            let list = items.list(&codes);
            items.parts.push(format!(
                "SELECT 'code' AS via, id, code, '' AS variation FROM items \
                 WHERE company_id = {company} AND code IN ({list})"
            ));
        }
        for row in items.fetch(conn).await? {
            let id = ItemId(row.int("id")?);
            if row.text("via")? == "link" {
                let variation = row.text("variation")?;
                let link = ShopLink {
                    product_id: row.text("code")?,
                    variation_id: (!variation.is_empty()).then_some(variation),
                };
                known.items.insert_link(link, id);
            } else {
                known.items.insert_code(&row.text("code")?, id);
            }
        }
        Ok(known)
    }
}

/// Matches the order's customer and items (creating what is missing) and maps its
/// payment method and status.
async fn resolve(
    conn: &mut AnyConnection,
    company: i64,
    shop: &mut ImportContext,
    known: &mut Known,
    order: &NormalizedOrder,
    at: OffsetDateTime,
) -> StoreResult<Resolved> {
    let (customer, customer_created) =
        resolve_customer(conn, company, shop.shop, &mut known.customers, order, at).await?;
    let (items, items_created) =
        resolve_items(conn, company, shop.shop, &mut known.items, order, at).await?;

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
                let method = (code, title);
                if !shop.unmapped.contains(&method) {
                    record_unmapped_payment(conn, company, shop.shop, &method.0, &method.1, at)
                        .await?;
                    shop.unmapped.insert(method.clone());
                }
                unmapped_payment = Some(method);
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
    known: &mut InMemoryCustomers,
    order: &NormalizedOrder,
    at: OffsetDateTime,
) -> StoreResult<(CustomerId, Option<CustomerId>)> {
    let keys = CustomerKeys::of(order);
    match match_customer(order, known) {
        CustomerMatch::Linked(id) => Ok((id, None)),
        CustomerMatch::ByEmail(id) | CustomerMatch::ByVatId(id) => {
            // Remember the shop's id for this customer, so the next order links directly.
            if let Some(platform_id) = &keys.platform_id {
                link_customer(conn, company, shop, platform_id, id).await?;
                known.insert_link(platform_id, id);
            }
            Ok((id, None))
        }
        CustomerMatch::Create(new) => {
            let id = insert_customer(conn, company, &new, Some(shop), at).await?;
            if let Some(platform_id) = new.platform_id.as_deref().map(str::trim) {
                known.insert_link(platform_id, id);
            }
            // The oldest customer of an e-mail or VAT id is the one matched: a new one
            // is only when there was none.
            if let Some(email) = new.email.as_deref().and_then(normalize_email)
                && known.by_email(&email).is_none()
            {
                known.insert_email(&email, id);
            }
            if let Some(vat_id) = new.vat_id.as_deref().and_then(normalize_vat_id)
                && known.by_vat_id(&vat_id).is_none()
            {
                known.insert_vat_id(&vat_id, id);
            }
            Ok((id, Some(id)))
        }
    }
}

async fn resolve_items(
    conn: &mut AnyConnection,
    company: i64,
    shop: ShopId,
    known: &mut InMemoryItems,
    order: &NormalizedOrder,
    at: OffsetDateTime,
) -> StoreResult<(Vec<ItemId>, Vec<ItemId>)> {
    let mut items = Vec::with_capacity(order.lines.len());
    let mut created = Vec::new();
    for line in &order.lines {
        let item = match match_item(line, order.prices_include_tax, known) {
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

/// Inserts a batch's new orders; their ids, in their order.
async fn insert_orders(
    conn: &mut AnyConnection,
    company: i64,
    shop: &ImportContext,
    orders: &[NewOrder<'_>],
    at: OffsetDateTime,
) -> StoreResult<Vec<OrderId>> {
    // Per row: $1-$4 (company, shop, warehouse, number), the external id, the content,
    // then the creation time twice.
    let columns = 5 + CONTENT_COLUMNS.len() + 2;
    let mut ids = HashMap::with_capacity(orders.len());
    for chunk in orders.chunks(ROWS_PER_STATEMENT / 4) {
        let sql = format!(
            "INSERT INTO orders (company_id, shop_id, warehouse_id, number, external_id, {}, \
             created_at, updated_at) VALUES {} RETURNING id, external_id",
            CONTENT_COLUMNS.join(", "),
            value_rows(chunk.len(), columns),
        );
        let sql = for_connection(conn, sql);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for new in chunk {
            query = query
                .bind(company)
                .bind(shop.shop.0)
                .bind(shop.warehouse.0)
                .bind(new.number.clone())
                .bind(new.order.id.clone());
            query = bind_content(query, new.order, new.hash, &new.resolved)?
                .bind(time_text(at))
                .bind(time_text(at));
        }
        for row in query.fetch_all(&mut *conn).await? {
            ids.insert(row.text("external_id")?, OrderId(row.try_get("id")?));
        }
    }
    orders
        .iter()
        .map(|new| {
            ids.get(&new.order.id).copied().ok_or_else(|| {
                StoreError::Invalid(format!("order {} was not inserted", new.order.id))
            })
        })
        .collect()
}

/// Inserts the lines of orders, each with the items its lines matched.
fn line_writes(
    writes: &mut Writes,
    company: i64,
    orders: &[(OrderId, &NormalizedOrder, &[ItemId])],
) -> StoreResult<()> {
    let rows: Vec<(OrderId, usize, &tovor_domain::order::LineItem, ItemId)> = orders
        .iter()
        .flat_map(|&(order_id, order, items)| {
            order
                .lines
                .iter()
                .zip(items)
                .enumerate()
                .map(move |(position, (line, item))| (order_id, position, line, *item))
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO order_lines (company_id, order_id, position, item_id, platform_line_id, sku, \
             name, quantity, unit_price, discount, vat_rate, vat_amount, total, quantity_e4) VALUES {}",
            value_rows(chunk.len(), 14)
        );
        let mut values = Vec::with_capacity(chunk.len() * 14);
        for &(order_id, position, line, item) in chunk {
            let position =
                i64::try_from(position).map_err(|error| StoreError::Invalid(error.to_string()))?;
            values.extend([
                company.into(),
                order_id.0.into(),
                position.into(),
                item.0.into(),
                line.platform_line_id.clone().into(),
                line.sku.clone().into(),
                line.name.clone().into(),
                decimal_text(line.quantity).into(),
                decimal_text(line.unit_price).into(),
                decimal_text(line.discount).into(),
                decimal_text(line.effective_tax_rate()).into(),
                decimal_text(line.tax_amount).into(),
                decimal_text(line.total).into(),
                quantity_e4(&format!("lines[{position}].quantity"), line.quantity)?.into(),
            ]);
        }
        writes.push(sql, values);
    }
    Ok(())
}
