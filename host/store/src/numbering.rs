//! Gapless number sequences per company, kind and year (`2026-00042`), the year taken
//! in the company's time zone.
//!
//! The sequence row is incremented by the transaction that uses the number, in one
//! statement: concurrent transactions queue on the row (PostgreSQL's row lock, SQLite's
//! single writer), and a transaction that rolls back gives its number back with it, so
//! the numbers that exist are 1..n without a hole.

use sqlx::AnyConnection;
use time::OffsetDateTime;
use tovor_domain::document::{DocumentNumber, DocumentNumberError};

use crate::codec::RowExt;
use crate::error::StoreResult;
use crate::profiles::time_zone;

/// Takes the next number of `kind` in the year `at` falls in, in the company's time
/// zone (00:30 on 1 January in Ljubljana is the new year, though still the old one in
/// UTC).
pub(crate) async fn next_number(
    conn: &mut AnyConnection,
    company: i64,
    kind: &str,
    at: OffsetDateTime,
) -> StoreResult<DocumentNumber> {
    let year = time_zone(conn, company).await?.local_date(at).year();
    let year = u16::try_from(year).map_err(|_| DocumentNumberError::YearOutOfRange(0))?;
    let row = sqlx::query(
        "INSERT INTO number_sequences (company_id, kind, year, last_seq) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (company_id, kind, year) DO UPDATE SET last_seq = number_sequences.last_seq + 1 \
         RETURNING last_seq",
    )
    .bind(company)
    .bind(kind)
    .bind(i64::from(year))
    .fetch_one(&mut *conn)
    .await?;
    let seq =
        u32::try_from(row.int("last_seq")?).map_err(|_| DocumentNumberError::Exhausted(year))?;
    Ok(DocumentNumber::new(year, seq)?)
}
