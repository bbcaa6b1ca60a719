//! The two migrations describe the same schema: same tables, same columns, same types.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sqlx::{Connection, Row};

/// (table, column, portable type) of every column, sorted.
type Columns = Vec<(String, String, String)>;

fn portable(declared: &str) -> String {
    // SQLite's rowid alias is declared INTEGER; PostgreSQL's identity column is BIGINT.
    match declared.to_ascii_uppercase().as_str() {
        "INTEGER" | "BIGINT" => "integer".to_owned(),
        "TEXT" => "text".to_owned(),
        "BLOB" | "BYTEA" => "bytes".to_owned(),
        other => other.to_lowercase(),
    }
}

async fn sqlite_columns(url: &str) -> Columns {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.get("table_name"),
            row.get("column_name"),
            portable(&row.get::<String, _>("data_type")),
        )
    })
    .collect()
}

async fn postgres_columns(url: &str) -> Columns {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name, \
         data_type::text AS data_type FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx\\_%' \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.get("table_name"),
            row.get("column_name"),
            portable(&row.get::<String, _>("data_type")),
        )
    })
    .collect()
}

#[tokio::test]
async fn sqlite_and_postgresql_schemas_match() {
    if !tovor_testdb::postgres_ready() {
        return;
    }
    let sqlite = support::sqlite().await;
    let postgres = support::postgres().await;
    let sqlite_columns = sqlite_columns(&sqlite.url).await;
    let postgres_columns = postgres_columns(&postgres.url).await;
    assert!(
        sqlite_columns.len() > 100,
        "{} columns",
        sqlite_columns.len()
    );
    assert_eq!(sqlite_columns, postgres_columns);
}
