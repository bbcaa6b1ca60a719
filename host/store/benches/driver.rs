//! What sqlx's `any` driver costs against the typed driver of each backend.
//!
//! `cargo bench -p tovor-store --bench driver` runs the statements an import is made
//! of, one connection, one statement at a time, through an `AnyConnection` and through
//! a `SqliteConnection` / `PgConnection` opened on the same database with the same
//! settings, and prints µs per statement for each:
//! - a point read by key (the customer and item matches);
//! - a one-row insert (the order, its history entry);
//! - a five-row insert with 40 values (the order's lines);
//!
//! the inserts inside a transaction, as an import makes them.
//!
//! The rounds alternate between the drivers and each figure is the median of its
//! rounds, so a busy moment of the machine does not fall on one driver only. PostgreSQL is the one
//! at `TOVOR_TEST_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432/test); its
//! tables are made for the run and dropped after it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use sqlx::{AnyConnection, Connection, PgConnection, SqliteConnection};

const ROUNDS: usize = 9;
const PER_ROUND: usize = 2_000;
const ITEMS: i64 = 500;
/// The same settings the store gives every SQLite connection.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// µs per statement of one round, or the median of several.
#[derive(Debug, Clone, Copy)]
struct Costs {
    read: f64,
    insert: f64,
    insert_five: f64,
}

impl Costs {
    /// Each statement's median over `rounds`, so a busy moment of the machine in one
    /// round moves nothing.
    fn median(rounds: &[Costs]) -> Self {
        let median = |pick: fn(&Costs) -> f64| {
            let mut values: Vec<f64> = rounds.iter().map(pick).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        Self {
            read: median(|c| c.read),
            insert: median(|c| c.insert),
            insert_five: median(|c| c.insert_five),
        }
    }
}

/// Runs one round of the three statements on `$conn`; the body is the same text for
/// every connection type, which is the point: only the driver differs.
macro_rules! round {
    ($conn:expr, $tables:expr, $round:expr) => {{
        let conn = $conn;
        let (items, lines) = $tables;
        let read_sql =
            format!("SELECT sku, name, price FROM {items} WHERE company_id = $1 AND id = $2");
        let started = Instant::now();
        for n in 0..PER_ROUND {
            let id = (n as i64 * 7) % ITEMS;
            let row = sqlx::query(sqlx::AssertSqlSafe(read_sql.clone()))
                .bind(1_i64)
                .bind(id)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            std::hint::black_box(row);
        }
        let read = per_statement(started);

        // The inserts run in one transaction, as an import's do: a commit per
        // statement would measure the commit (a WAL flush) instead of the statement.
        sqlx::raw_sql("BEGIN").execute(&mut *conn).await.unwrap();
        let insert_sql = format!(
            "INSERT INTO {lines} (company_id, order_id, position, sku, name, quantity_e4, \
             unit_price, total) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        let started = Instant::now();
        for n in 0..PER_ROUND {
            sqlx::query(sqlx::AssertSqlSafe(insert_sql.clone()))
                .bind(1_i64)
                .bind(($round * PER_ROUND + n) as i64)
                .bind(0_i64)
                .bind(format!("SKU-{:04}", n % 500))
                .bind("A line of an order")
                .bind(20_000_i64)
                .bind("12.20")
                .bind("24.40")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let insert = per_statement(started);

        let values: Vec<String> = (0..5)
            .map(|row| {
                let first = row * 8;
                let params: Vec<String> = (1..=8).map(|k| format!("${}", first + k)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let five_sql = format!(
            "INSERT INTO {lines} (company_id, order_id, position, sku, name, quantity_e4, \
             unit_price, total) VALUES {}",
            values.join(", ")
        );
        let started = Instant::now();
        for n in 0..PER_ROUND {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(five_sql.clone()));
            for position in 0..5_i64 {
                query = query
                    .bind(1_i64)
                    .bind(($round * PER_ROUND + n) as i64)
                    .bind(position)
                    .bind(format!("SKU-{:04}", (n as i64 + position) % 500))
                    .bind("A line of an order")
                    .bind(20_000_i64)
                    .bind("12.20")
                    .bind("24.40");
            }
            query.execute(&mut *conn).await.unwrap();
        }
        let insert_five = per_statement(started);
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await.unwrap();
        Costs {
            read,
            insert,
            insert_five,
        }
    }};
}

fn per_statement(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64
}

/// Creates the run's two tables and fills the items. Both drivers then work on them.
async fn set_up(conn: &mut AnyConnection, (items, lines): (&str, &str)) {
    for sql in [
        format!("DROP TABLE IF EXISTS {items}"),
        format!("DROP TABLE IF EXISTS {lines}"),
        format!(
            "CREATE TABLE {items} (company_id BIGINT NOT NULL, id BIGINT NOT NULL, \
             sku TEXT NOT NULL, name TEXT NOT NULL, price TEXT NOT NULL, \
             PRIMARY KEY (company_id, id))"
        ),
        format!(
            "CREATE TABLE {lines} (company_id BIGINT NOT NULL, order_id BIGINT NOT NULL, \
             position BIGINT NOT NULL, sku TEXT NOT NULL, name TEXT NOT NULL, \
             quantity_e4 BIGINT NOT NULL, unit_price TEXT NOT NULL, total TEXT NOT NULL)"
        ),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let insert = format!(
        "INSERT INTO {items} (company_id, id, sku, name, price) VALUES ($1, $2, $3, $4, $5)"
    );
    for id in 0..ITEMS {
        sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(1_i64)
            .bind(id)
            .bind(format!("SKU-{id:04}"))
            .bind(format!("Item {id}"))
            .bind("12.20")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

async fn sqlite() -> (Costs, Costs) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("driver.db").display()
    );
    let tables = ("driver_items", "driver_lines");
    let mut any = AnyConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(SQLITE_PRAGMAS)
        .execute(&mut any)
        .await
        .unwrap();
    set_up(&mut any, tables).await;
    let mut typed = SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(SQLITE_PRAGMAS)
        .execute(&mut typed)
        .await
        .unwrap();
    rounds(&mut any, &mut typed, tables).await
}

async fn postgres() -> Option<(Costs, Costs)> {
    let url = tovor_testdb::postgres_url();
    let mut any = match AnyConnection::connect(&url).await {
        Ok(conn) => conn,
        Err(error) => {
            eprintln!("PostgreSQL at {url} is not reachable ({error}); its figures are skipped");
            return None;
        }
    };
    let pid = std::process::id();
    let items = format!("driver_items_{pid}");
    let lines = format!("driver_lines_{pid}");
    let tables = (items.as_str(), lines.as_str());
    set_up(&mut any, tables).await;
    let mut typed = PgConnection::connect(&url).await.unwrap();
    let costs = rounds(&mut any, &mut typed, tables).await;
    for table in [&items, &lines] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
            .execute(&mut any)
            .await
            .unwrap();
    }
    Some(costs)
}

/// Alternates rounds between the `any` and the typed connection; the median of each.
async fn rounds(
    any: &mut AnyConnection,
    typed: &mut impl Measured,
    tables: (&str, &str),
) -> (Costs, Costs) {
    let mut any_rounds = Vec::with_capacity(ROUNDS);
    let mut typed_rounds = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        any_rounds.push(any.round(tables, 2 * round).await);
        typed_rounds.push(typed.round(tables, 2 * round + 1).await);
    }
    (Costs::median(&any_rounds), Costs::median(&typed_rounds))
}

/// A connection of any of the drivers, running [`round!`] on itself.
trait Measured {
    async fn round(&mut self, tables: (&str, &str), round: usize) -> Costs;
}

macro_rules! measured {
    ($($connection:ty),*) => {$(
        impl Measured for $connection {
            async fn round(&mut self, tables: (&str, &str), round: usize) -> Costs {
                round!(self, tables, round)
            }
        }
    )*};
}

measured!(AnyConnection, SqliteConnection, PgConnection);

fn report(backend: &str, any: Costs, typed: Costs) {
    for (statement, key, a, t) in [
        ("point read", "read", any.read, typed.read),
        ("one-row insert", "insert", any.insert, typed.insert),
        (
            "five-row insert",
            "insert_five",
            any.insert_five,
            typed.insert_five,
        ),
    ] {
        println!(
            "{backend:<10} {statement:<16} any {a:>7.1} µs   typed {t:>7.1} µs   any/typed {:>5.2}×",
            a / t
        );
        tovor_bench_figures::record(&format!("store.driver.{backend}.{key}_any"), a, "µs");
        tovor_bench_figures::record(&format!("store.driver.{backend}.{key}_typed"), t, "µs");
    }
}

fn main() {
    sqlx::any::install_default_drivers();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "µs per statement, one connection, median of {ROUNDS} rounds of {PER_ROUND}, \
             the drivers' rounds alternating"
        );
        let (any, typed) = sqlite().await;
        report("sqlite", any, typed);
        if let Some((any, typed)) = postgres().await {
            report("postgres", any, typed);
        }
    });
}
