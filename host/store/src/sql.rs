//! Building statements with many values: `IN` lists and multi-row `VALUES`.
//!
//! Each statement is a round trip (and, on SQLite, a hop to the connection's worker
//! thread), so rows that belong together go in one statement.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_number_their_values() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows_from(3, 2, 2), "($3, $4), ($5, $6)");
    }
}
