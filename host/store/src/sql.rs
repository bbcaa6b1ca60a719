//! Building statements with many values: `IN` lists and multi-row `VALUES`.
//!
//! Each statement is a round trip (and, on SQLite, a hop to the connection's worker
//! thread), so rows that belong together go in one statement.

use sqlx::AnyConnection;

use crate::error::StoreResult;

/// Rows per multi-row statement: far below SQLite's 32,766 bound values and
/// PostgreSQL's 65,535 for the widest rows used here.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// `$start, $start+1, ...` for an `IN (...)` list of `count` values.
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2, ...), (...)` for `rows` rows of `columns` values.
pub(crate) fn value_rows(rows: usize, columns: usize) -> String {
    value_rows_from(1, rows, columns)
}

/// Like [`value_rows`], numbered from `$start` (after a statement's fixed values).
pub(crate) fn value_rows_from(start: usize, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(start + row * columns, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value bound to a statement of [`Writes`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        Self::OptInt(value)
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Self {
        Self::OptText(value)
    }
}

/// Writes of one transaction that do not depend on each other (none reads what another
/// writes, no two touch one row). PostgreSQL gets them as one statement, each but the
/// last a data-modifying `WITH` part, which saves a round trip per write; SQLite, which
/// has no data-modifying `WITH`, runs them one after another.
#[derive(Debug, Default)]
pub(crate) struct Writes {
    statements: Vec<(String, Vec<Value>)>,
}

impl Writes {
    /// Adds a statement numbered from `$1` and its values in that order.
    pub(crate) fn push(&mut self, sql: String, values: Vec<Value>) {
        self.statements.push((sql, values));
    }

    /// Runs the writes on `conn`, inside the caller's transaction.
    pub(crate) async fn execute(self, conn: &mut AnyConnection) -> StoreResult<()> {
        if !is_sqlite(conn) && self.statements.len() > 1 {
            let (sql, values) = self.chained();
            return run(conn, sql, values).await;
        }
        for (sql, values) in self.statements {
            let sql = for_connection(conn, sql);
            run(conn, sql, values).await?;
        }
        Ok(())
    }

    /// One statement of all of them: `WITH w1 AS (first), w2 AS (second), … last`, the
    /// placeholders of each moved past those before it.
    fn chained(self) -> (String, Vec<Value>) {
        let mut parts = Vec::with_capacity(self.statements.len());
        let mut all = Vec::new();
        for (statement, values) in self.statements {
            parts.push(renumbered(&statement, all.len()));
            all.extend(values);
        }
        let last = parts.pop().unwrap_or_default();
        let with: Vec<String> = parts
            .iter()
            .enumerate()
            .map(|(n, part)| format!("w{n} AS ({part})"))
            .collect();
        (format!("WITH {} {last}", with.join(", ")), all)
    }
}

fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME
}

/// `sql` as `conn` binds it fastest. SQLite finds the slot of a numbered parameter
/// (`$7`) by walking the list of the statement's parameter names, once for every value
/// bound, so a statement of n numbered parameters costs n² steps to bind: a page's 500
/// order lines, 7,000 values, cost more than the insert itself. Anonymous ones (`?`)
/// are not in that list. So on SQLite a statement whose placeholders run `$1, $2, …`
/// once each, in order, gets them as `?`; any other statement is left as it is.
pub(crate) fn for_connection(conn: &AnyConnection, sql: String) -> String {
    if is_sqlite(conn) {
        anonymous(&sql).unwrap_or(sql)
    } else {
        sql
    }
}

/// `sql` with `$1, $2, …` written as `?`, if they appear once each and in that order.
fn anonymous(sql: &str) -> Option<String> {
    let mut expected = 1;
    map_placeholders(sql, |n| {
        (n == expected).then(|| {
            expected += 1;
            "?".to_owned()
        })
    })
}

/// `sql` with every placeholder `$n` turned into `$(n + offset)`.
fn renumbered(sql: &str, offset: usize) -> String {
    map_placeholders(sql, |n| Some(format!("${}", n + offset))).unwrap_or_else(|| sql.to_owned())
}

/// `sql` with every placeholder `$n` replaced by `replace(n)`, or `None` where `replace`
/// refuses one. The statements built here hold no other `$` followed by a digit.
fn map_placeholders(sql: &str, mut replace: impl FnMut(usize) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' || !chars.peek().is_some_and(char::is_ascii_digit) {
            out.push(c);
            continue;
        }
        let mut number = 0_usize;
        while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
            number = number.checked_mul(10)?.checked_add(digit as usize)?;
            chars.next();
        }
        out.push_str(&replace(number)?);
    }
    Some(out)
}

async fn run(conn: &mut AnyConnection, sql: String, values: Vec<Value>) -> StoreResult<()> {
    bound(sqlx::query(sqlx::AssertSqlSafe(sql)), values)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// `query` with `values` bound in their order.
pub(crate) fn bound(mut query: AnyQuery<'_>, values: Vec<Value>) -> AnyQuery<'_> {
    for value in values {
        query = match value {
            Value::Int(value) => query.bind(value),
            Value::OptInt(value) => query.bind(value),
            Value::Text(value) => query.bind(value),
            Value::OptText(value) => query.bind(value),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_writes_number_their_values_in_order() {
        let mut writes = Writes::default();
        writes.push(
            "INSERT INTO a VALUES ($1, $2)".into(),
            vec![1.into(), "x".into()],
        );
        writes.push(
            "UPDATE b SET c = $2 WHERE d = $1".into(),
            vec![2.into(), 3.into()],
        );
        writes.push(
            "INSERT INTO e VALUES ($1)".into(),
            vec![None::<String>.into()],
        );
        let (sql, values) = writes.chained();
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO a VALUES ($1, $2)), w1 AS (UPDATE b SET c = $4 WHERE d = $3) \
             INSERT INTO e VALUES ($5)"
        );
        assert_eq!(
            values,
            [
                Value::Int(1),
                Value::Text("x".into()),
                Value::Int(2),
                Value::Int(3),
                Value::OptText(None)
            ]
        );
    }

    #[test]
    fn placeholders_in_order_become_anonymous() {
        assert_eq!(
            anonymous("INSERT INTO a VALUES ($1, $2), ($3, $4)").as_deref(),
            Some("INSERT INTO a VALUES (?, ?), (?, ?)")
        );
        let rows = value_rows(500, 14);
        assert_eq!(
            anonymous(&rows).map(|sql| sql.matches('?').count()),
            Some(7_000)
        );
        assert_eq!(anonymous("SELECT $1, $1"), None, "used twice");
        assert_eq!(anonymous("SELECT $2, $1"), None, "out of order");
        assert_eq!(anonymous("SELECT 1").as_deref(), Some("SELECT 1"));
    }

    #[test]
    fn lists_number_their_values() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows_from(3, 2, 2), "($3, $4), ($5, $6)");
    }
}
