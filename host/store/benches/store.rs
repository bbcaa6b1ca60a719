//! Throughput of the commerce core on SQLite and PostgreSQL.
//!
//! `cargo bench -p tovor-store --bench store` prints, for each backend:
//! - after 1,000 orders with their delivery notes already in (the history every database
//!   in use has), importing 10,000 normalized orders (5 lines each; a quarter bring a new item and a
//!   new customer, the rest reuse linked items and known customers), orders/s, one
//!   importer and four concurrent importers, each first one order at a time (as
//!   webhooks come) and then a page of 100 at a time (as syncs and imports of history
//!   bring them), a quarter of the orders each;
//! - issuing a delivery note for each of them (stock moved, reservation released),
//!   notes/s;
//! - reading an item's stock level once the ledger holds over 100,000 movements, and
//!   summing an item's ledger for an audit.
//!
//! PostgreSQL is the one at `TOVOR_TEST_POSTGRES_URL` (default
//! postgres://postgres@127.0.0.1:5432/test), in a schema made for the run, set up as a
//! production database would be: the tables are analyzed once the catalog, customers
//! and history are in, and autovacuum runs during the run (a server that has it off, as a test
//! machine may, gets it switched on for the run and back off after; the report says
//! so). Where `pg_stat_statements` is loaded, the statements that took the most time
//! in the imports and in the delivery notes are listed after the table.
//! `TOVOR_BENCH_ORDERS` changes the order count (default 10,000);
//! `TOVOR_BENCH_BACKENDS=sqlite` (or `postgres`) runs one backend only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use support::{NOW, TestDb, line, order, tenant};
use tovor_domain::document::DocumentKind;
use tovor_domain::matching::NewCustomer;
use tovor_domain::order::NormalizedOrder;
use tovor_domain::{ItemId, OrderId};
use tovor_store::catalog::{ItemInput, ItemLink};
use tovor_store::orders::Source;
use tovor_store::stock::ManualMovement;

const CATALOG: usize = 500;
const KNOWN_CUSTOMERS: usize = 1_000;
const LINES: usize = 5;
const TARGET_MOVEMENTS: usize = 100_000;
/// Orders (each with its delivery note) in the database before anything is timed.
const HISTORY: usize = 1_000;
/// Orders per page of a sync or an import of history (the page most platforms list).
const PAGE: usize = 100;

fn generated_order(n: usize) -> NormalizedOrder {
    let mut lines = Vec::with_capacity(LINES);
    for k in 0..LINES {
        let pick = (n * 7 + k * 131) % CATALOG;
        lines.push(line(
            &format!("SKU-{pick:04}"),
            &format!("{}", 10_000 + pick),
            "2",
            "12.20",
        ));
    }
    let fresh = n.is_multiple_of(4);
    if fresh {
        lines[LINES - 1] = line(
            &format!("NEW-{n}"),
            &format!("{}", 90_000 + n),
            "1",
            "24.40",
        );
    }
    let mut incoming = order(&format!("{}", 100_000 + n), lines, 0);
    if let Some(customer) = incoming.customer.as_mut() {
        customer.platform_id = Some(if fresh {
            format!("new-{n}")
        } else {
            format!("known-{}", n % KNOWN_CUSTOMERS)
        });
    }
    incoming
}

struct Figures {
    backend: &'static str,
    import_serial: f64,
    import_concurrent: f64,
    pages_serial: f64,
    pages_concurrent: f64,
    notes: f64,
    movements: usize,
    level_us: f64,
    ledger_us: f64,
    /// PostgreSQL with `pg_stat_statements`: where the database spent its time.
    import_statements: Vec<StatementTime>,
    note_statements: Vec<StatementTime>,
}

async fn run(
    backend: &'static str,
    db: TestDb,
    postgres: Option<&PostgresAdmin>,
    orders: usize,
) -> Figures {
    let t = tenant(&db.store, "Bench", |_| {}).await;
    let scope = t.scope(&db.store);
    let mut catalog = Vec::with_capacity(CATALOG);
    for pick in 0..CATALOG {
        let input = ItemInput {
            code: format!("SKU-{pick:04}"),
            name: format!("Product {pick}"),
            unit: "pcs".into(),
            vat_rate: Decimal::from(22),
            price: Decimal::from(10),
            barcode: None,
        };
        let item = scope.create_item(&input, NOW).await.unwrap();
        let link = ItemLink {
            shop: t.shop,
            item,
            product_id: format!("{}", 10_000 + pick),
            variation_id: None,
            inventory_id: None,
        };
        scope.link_item(&link).await.unwrap();
        catalog.push(item);
    }
    for n in 0..KNOWN_CUSTOMERS {
        let customer = NewCustomer {
            name: format!("Customer {n}"),
            company: None,
            email: Some(format!("known-{n}@example.com")),
            phone: None,
            vat_id: None,
            billing: None,
            delivery: None,
            platform_id: Some(format!("known-{n}")),
        };
        scope
            .create_customer(&customer, Some(t.shop), NOW)
            .await
            .unwrap();
    }
    // A database in use has history: some orders with their delivery notes go in
    // before the timed runs, then the tables are analyzed, so the planner (and the plans
    // PostgreSQL caches per connection, foreign-key checks included) sees tables of
    // their real shape rather than empty ones.
    for n in 0..HISTORY {
        let payload = generated_order(orders + n);
        let outcome = scope
            .import_order(t.shop, &payload, Source("bench"), NOW)
            .await
            .unwrap();
        scope
            .issue_document(
                outcome.order,
                DocumentKind::DeliveryNote,
                None,
                Source("bench"),
                NOW,
            )
            .await
            .unwrap();
    }
    if let Some(admin) = postgres {
        admin.analyze(&db.url).await;
        admin.reset_statements().await;
    }
    let payloads: Vec<NormalizedOrder> = (0..orders).map(generated_order).collect();

    // A quarter each: one importer, four importers at once, one order at a time (as
    // webhooks come); then one importer and four at once, a page at a time (as a sync
    // or an import of history brings them).
    let quarter = orders / 4;
    let mut imported: Vec<OrderId> = Vec::with_capacity(orders);
    let (import_serial, ids) = import_timed(&db.store, &t, &payloads[..quarter], 1, 1).await;
    imported.extend(ids);
    let (import_concurrent, ids) =
        import_timed(&db.store, &t, &payloads[quarter..2 * quarter], 4, 1).await;
    imported.extend(ids);
    let (pages_serial, ids) =
        import_timed(&db.store, &t, &payloads[2 * quarter..3 * quarter], 1, PAGE).await;
    imported.extend(ids);
    let (pages_concurrent, ids) =
        import_timed(&db.store, &t, &payloads[3 * quarter..], 4, PAGE).await;
    imported.extend(ids);
    let import_statements = match postgres {
        Some(admin) => admin.top_statements().await,
        None => Vec::new(),
    };

    let started = Instant::now();
    for &id in &imported {
        scope
            .issue_document(id, DocumentKind::DeliveryNote, None, Source("bench"), NOW)
            .await
            .unwrap();
    }
    let notes = rate(imported.len(), started.elapsed());
    let note_statements = match postgres {
        Some(admin) => admin.top_statements().await,
        None => Vec::new(),
    };

    // Fill the ledger past 100,000 movements with goods receipts of 1,000 lines.
    let mut movements = imported.len() * LINES;
    while movements < TARGET_MOVEMENTS {
        let lines: Vec<(ItemId, Decimal)> = (0..1_000)
            .map(|k| (catalog[(movements + k) % CATALOG], Decimal::from(3)))
            .collect();
        scope
            .record_movements(
                t.warehouse,
                &lines,
                ManualMovement::Receipt,
                Some("bench"),
                NOW,
            )
            .await
            .unwrap();
        movements += lines.len();
    }

    let queries = 2_000;
    let started = Instant::now();
    for n in 0..queries {
        scope
            .stock_level(catalog[(n * 37) % CATALOG], t.warehouse)
            .await
            .unwrap();
    }
    let level_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(queries as u32);
    let started = Instant::now();
    for n in 0..queries {
        scope
            .on_hand_from_ledger(catalog[(n * 37) % CATALOG], t.warehouse)
            .await
            .unwrap();
    }
    let ledger_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(queries as u32);

    Figures {
        backend,
        import_serial,
        import_concurrent,
        pages_serial,
        pages_concurrent,
        notes,
        movements,
        level_us,
        ledger_us,
        import_statements,
        note_statements,
    }
}

/// Imports `payloads` with `tasks` importers at once, each importing `page` orders at a
/// time; orders per second and the orders' ids.
async fn import_timed(
    store: &tovor_store::Store,
    t: &support::Tenant,
    payloads: &[NormalizedOrder],
    tasks: usize,
    page: usize,
) -> (f64, Vec<OrderId>) {
    let started = Instant::now();
    let chunks: Vec<Vec<NormalizedOrder>> = payloads
        .chunks(payloads.len().div_ceil(tasks).max(1))
        .map(<[_]>::to_vec)
        .collect();
    let work = chunks.into_iter().map(|chunk| {
        let store = store.clone();
        let (company, shop) = (t.company, t.shop);
        tokio::spawn(async move {
            let scope = store.company(company);
            let mut ids = Vec::with_capacity(chunk.len());
            for orders in chunk.chunks(page) {
                let results = if page == 1 {
                    vec![
                        scope
                            .import_order(shop, &orders[0], Source("bench"), NOW)
                            .await,
                    ]
                } else {
                    let orders: Vec<&NormalizedOrder> = orders.iter().collect();
                    scope
                        .import_orders(shop, &orders, Source("bench"), NOW)
                        .await
                };
                ids.extend(results.into_iter().map(|result| result.unwrap().order));
            }
            ids
        })
    });
    let mut ids = Vec::with_capacity(payloads.len());
    for chunk in futures::future::join_all(work.collect::<Vec<_>>()).await {
        ids.extend(chunk.unwrap());
    }
    (rate(payloads.len(), started.elapsed()), ids)
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// One statement's share of a run, from `pg_stat_statements`.
struct StatementTime {
    calls: i64,
    total_ms: f64,
    mean_us: f64,
    query: String,
}

/// The bench's hand on the PostgreSQL server itself: statistics, autovacuum and
/// `pg_stat_statements`.
struct PostgresAdmin {
    url: String,
    /// Autovacuum was off on the server and the bench switched it on for the run.
    switched_autovacuum: bool,
    autovacuum: String,
    statements: bool,
}

impl PostgresAdmin {
    async fn connect(url: &str) -> Option<sqlx::PgConnection> {
        use sqlx::Connection;
        sqlx::PgConnection::connect(url).await.ok()
    }

    async fn prepare(switch_autovacuum: bool) -> Self {
        use sqlx::Row;
        let url = support::postgres_url();
        let mut admin = Self {
            url: url.clone(),
            switched_autovacuum: false,
            autovacuum: "unknown".into(),
            statements: false,
        };
        let Some(mut conn) = Self::connect(&url).await else {
            return admin;
        };
        if let Ok(row) = sqlx::query("SHOW autovacuum").fetch_one(&mut conn).await {
            admin.autovacuum = row.try_get::<String, _>(0).unwrap_or_default();
        }
        if switch_autovacuum && admin.autovacuum == "off" {
            let switched = sqlx::raw_sql("ALTER SYSTEM SET autovacuum = on")
                .execute(&mut conn)
                .await
                .is_ok();
            if switched {
                let _ = sqlx::query("SELECT pg_reload_conf()")
                    .execute(&mut conn)
                    .await;
                admin.switched_autovacuum = true;
                admin.autovacuum = "on for this run (the server has it off)".into();
            }
        }
        admin.statements = sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(&mut conn)
            .await
            .is_ok();
        admin
    }

    /// What a production database would have by now: statistics on the seeded tables.
    async fn analyze(&self, scoped_url: &str) {
        use sqlx::Row;
        let Some(mut conn) = Self::connect(scoped_url).await else {
            return;
        };
        let tables: Vec<String> = sqlx::query(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()",
        )
        .fetch_all(&mut conn)
        .await
        .map(|rows| rows.iter().filter_map(|row| row.try_get(0).ok()).collect())
        .unwrap_or_default();
        if !tables.is_empty() {
            let sql = format!("ANALYZE {}", tables.join(", "));
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await;
        }
    }

    async fn reset_statements(&self) {
        if let (true, Some(mut conn)) = (self.statements, Self::connect(&self.url).await) {
            let _ = sqlx::query("SELECT pg_stat_statements_reset()")
                .execute(&mut conn)
                .await;
        }
    }

    /// The statements that took the most time since the last reset, then a reset.
    async fn top_statements(&self) -> Vec<StatementTime> {
        use sqlx::Row;
        if !self.statements {
            return Vec::new();
        }
        let Some(mut conn) = Self::connect(&self.url).await else {
            return Vec::new();
        };
        let rows = sqlx::query(
            "SELECT calls, total_exec_time, mean_exec_time, query FROM pg_stat_statements \
             WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 8",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
        let top = rows
            .iter()
            .filter_map(|row| {
                Some(StatementTime {
                    calls: row.try_get(0).ok()?,
                    total_ms: row.try_get(1).ok()?,
                    mean_us: row.try_get::<f64, _>(2).ok()? * 1000.0,
                    query: row.try_get(3).ok()?,
                })
            })
            .collect();
        let _ = sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(&mut conn)
            .await;
        top
    }

    async fn restore(&self) {
        if !self.switched_autovacuum {
            return;
        }
        if let Some(mut conn) = Self::connect(&self.url).await {
            let _ = sqlx::raw_sql("ALTER SYSTEM RESET autovacuum")
                .execute(&mut conn)
                .await;
            let _ = sqlx::query("SELECT pg_reload_conf()")
                .execute(&mut conn)
                .await;
        }
    }
}

fn print_statements(title: &str, statements: &[StatementTime]) {
    if statements.is_empty() {
        return;
    }
    println!("\n{title} (pg_stat_statements, by total time):");
    println!(
        "{:>8} {:>10} {:>9}  statement",
        "calls", "total ms", "mean µs"
    );
    for statement in statements {
        let query: String = statement
            .query
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let shown: String = query.chars().take(110).collect();
        println!(
            "{:>8} {:>10.1} {:>9.1}  {shown}",
            statement.calls, statement.total_ms, statement.mean_us
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and expects
    // a quick run.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let orders = std::env::var("TOVOR_BENCH_ORDERS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(if quick { 200 } else { 10_000 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let backends =
        std::env::var("TOVOR_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let mut autovacuum = None;
    let figures = runtime.block_on(async {
        let mut figures = Vec::new();
        if backends.contains("sqlite") {
            figures.push(run("SQLite", support::sqlite().await, None, orders).await);
        }
        if backends.contains("postgres") {
            let admin = PostgresAdmin::prepare(!quick).await;
            let db = support::postgres().await;
            autovacuum = Some(admin.autovacuum.clone());
            figures.push(run("PostgreSQL", db, Some(&admin), orders).await);
            admin.restore().await;
        }
        figures
    });
    println!(
        "\ncommerce core, {orders} orders of {LINES} lines (a quarter with a new item and customer)\n"
    );
    println!(
        "{:<11} {:>16} {:>18} {:>12} {:>14} {:>17} {:>22} {:>20}",
        "backend",
        "import orders/s",
        "import 4 tasks/s",
        "pages/s",
        "pages 4 tasks/s",
        "delivery notes/s",
        "stock level µs/query",
        "ledger sum µs/item"
    );
    for f in &figures {
        println!(
            "{:<11} {:>16.0} {:>18.0} {:>12.0} {:>14.0} {:>17.0} {:>22.1} {:>20.1}",
            f.backend,
            f.import_serial,
            f.import_concurrent,
            f.pages_serial,
            f.pages_concurrent,
            f.notes,
            f.level_us,
            f.ledger_us
        );
        let key = f.backend.to_lowercase();
        tovor_bench_figures::record(&format!("store.{key}.import"), f.import_serial, "orders/s");
        tovor_bench_figures::record(
            &format!("store.{key}.import_4_tasks"),
            f.import_concurrent,
            "orders/s",
        );
        tovor_bench_figures::record(
            &format!("store.{key}.import_pages"),
            f.pages_serial,
            "orders/s",
        );
        tovor_bench_figures::record(
            &format!("store.{key}.import_pages_4_tasks"),
            f.pages_concurrent,
            "orders/s",
        );
        tovor_bench_figures::record(&format!("store.{key}.delivery_notes"), f.notes, "notes/s");
        tovor_bench_figures::record(&format!("store.{key}.stock_level"), f.level_us, "µs");
    }
    if let Some(autovacuum) = autovacuum {
        println!("PostgreSQL: tables analyzed after seeding; autovacuum {autovacuum}");
    }
    if let Some(first) = figures.first() {
        println!(
            "\nledger: {} movements over {CATALOG} catalog items plus the new ones; stock level reads the running balance and the open orders' reservations",
            first.movements
        );
    }
    for f in &figures {
        print_statements(&format!("{}: imports", f.backend), &f.import_statements);
        print_statements(
            &format!("{}: delivery notes", f.backend),
            &f.note_statements,
        );
    }
}
