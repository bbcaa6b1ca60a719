//! Number sequences per company, kind and year (`2026-00042`), the year taken in the
//! company's time zone.
//!
//! Documents take gapless numbers: the sequence row is incremented by the transaction
//! that uses the number, in one statement; concurrent transactions queue on the row
//! (PostgreSQL's row lock, SQLite's single writer), and a transaction that rolls back
//! gives its number back with it, so the numbers that exist are 1..n without a hole.
//!
//! Orders only need unique numbers. Holding the counter row until an import commits
//! would make every import on PostgreSQL wait for the one before it, so there a process
//! takes order numbers in blocks, each in a short statement of its own
//! ([`OrderNumbers`]), and an import reserves its number before its transaction begins:
//! a transaction that waited on another connection for a number could wait forever
//! behind a lock of its own (a schema change queued behind it, say), unseen by the
//! database's deadlock detection. SQLite has one writer anyway and keeps taking them in
//! the import's transaction, without holes.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use sqlx::{AnyConnection, AnyPool};
use time::OffsetDateTime;
use tovor_domain::company::CompanyTimeZone;
use tovor_domain::document::{DocumentNumber, DocumentNumberError};

use crate::codec::RowExt;
use crate::error::StoreResult;
use crate::profiles::time_zone;

/// The kind of the order numbers' sequence rows.
pub(crate) const ORDER_SEQUENCE: &str = "order";

/// How many order numbers a process takes at once on PostgreSQL. The numbers of a block
/// a process has not used when it stops are never used: a larger block means fewer
/// counter updates but bigger holes after a restart.
const ORDER_BLOCK: i64 = 16;

/// Takes the next gapless number of `kind` in the year `at` falls in, in the company's
/// time zone (00:30 on 1 January in Ljubljana is the new year, though still the old one
/// in UTC).
pub(crate) async fn next_number(
    conn: &mut AnyConnection,
    company: i64,
    kind: &str,
    at: OffsetDateTime,
) -> StoreResult<DocumentNumber> {
    let zone = time_zone(conn, company).await?;
    next_in_year(conn, company, kind, local_year(&zone, at)?).await
}

/// The year `at` falls in, in `zone`: the year of a number taken at `at`.
pub(crate) fn local_year(zone: &CompanyTimeZone, at: OffsetDateTime) -> StoreResult<u16> {
    let year = zone.local_date(at).year();
    Ok(u16::try_from(year).map_err(|_| DocumentNumberError::YearOutOfRange(0))?)
}

/// Takes the next gapless number of `kind` in `year`.
pub(crate) async fn next_in_year(
    conn: &mut AnyConnection,
    company: i64,
    kind: &str,
    year: u16,
) -> StoreResult<DocumentNumber> {
    let last = advance(conn, company, kind, year, 1).await?;
    numbered(year, last)
}

/// Takes the next `count` numbers of `kind` in `year` at once, in their order.
pub(crate) async fn next_many_in_year(
    conn: &mut AnyConnection,
    company: i64,
    kind: &str,
    year: u16,
    count: usize,
) -> StoreResult<Vec<DocumentNumber>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let by = i64::try_from(count).map_err(|_| DocumentNumberError::Exhausted(year))?;
    let last = advance(conn, company, kind, year, by).await?;
    (last - by + 1..=last)
        .map(|seq| numbered(year, seq))
        .collect()
}

/// Moves the counter of (`company`, `kind`, `year`) on by `by` and returns its new
/// value: the last number of the `by` numbers just taken.
async fn advance<'c, E>(
    executor: E,
    company: i64,
    kind: &str,
    year: u16,
    by: i64,
) -> StoreResult<i64>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "INSERT INTO number_sequences (company_id, kind, year, last_seq) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (company_id, kind, year) DO UPDATE SET last_seq = number_sequences.last_seq + $4 \
         RETURNING last_seq",
    )
    .bind(company)
    .bind(kind)
    .bind(i64::from(year))
    .bind(by)
    .fetch_one(executor)
    .await?;
    row.int("last_seq")
}

fn numbered(year: u16, seq: i64) -> StoreResult<DocumentNumber> {
    let seq = u32::try_from(seq).map_err(|_| DocumentNumberError::Exhausted(year))?;
    Ok(DocumentNumber::new(year, seq)?)
}

/// The order numbers this process has taken from the database and not yet used, per
/// company and year. A number an import reserved and did not need comes back; one it
/// used in a transaction that then rolled back becomes a hole, which order numbers may
/// have.
#[derive(Debug, Default)]
pub(crate) struct OrderNumbers {
    unused: Mutex<HashMap<(i64, u16), BTreeSet<u32>>>,
}

/// An order number reserved for one import, given back unless [`Self::take`]n.
#[derive(Debug)]
pub(crate) struct ReservedOrderNumber {
    numbers: Arc<OrderNumbers>,
    company: i64,
    number: Option<DocumentNumber>,
}

impl ReservedOrderNumber {
    pub(crate) fn take(&mut self) -> Option<DocumentNumber> {
        self.number.take()
    }
}

impl Drop for ReservedOrderNumber {
    fn drop(&mut self) {
        if let Some(number) = self.number.take() {
            self.numbers.give_back(self.company, number);
        }
    }
}

impl OrderNumbers {
    /// Reserves the `count` lowest unused numbers of the company's year, taking new
    /// blocks from the counter through `pool` (a statement each) when too few are left.
    /// The caller holds no transaction.
    pub(crate) async fn reserve(
        self: &Arc<Self>,
        pool: &AnyPool,
        company: i64,
        year: u16,
        count: usize,
    ) -> StoreResult<Vec<ReservedOrderNumber>> {
        let reserve = |seq: u32| -> StoreResult<ReservedOrderNumber> {
            Ok(ReservedOrderNumber {
                numbers: self.clone(),
                company,
                number: Some(numbered(year, i64::from(seq))?),
            })
        };
        let mut reserved = Vec::with_capacity(count);
        for seq in self.pop(company, year, count) {
            reserved.push(reserve(seq)?);
        }
        while reserved.len() < count {
            let missing = count - reserved.len();
            let block = i64::try_from(missing).unwrap_or(i64::MAX).max(ORDER_BLOCK);
            let last = advance(pool, company, ORDER_SEQUENCE, year, block).await?;
            let fresh: Vec<u32> = (last - block + 1..=last)
                .filter_map(|seq| u32::try_from(seq).ok())
                .collect();
            let (now, rest) = fresh.split_at(missing.min(fresh.len()));
            if now.is_empty() {
                return Err(DocumentNumberError::Exhausted(year).into());
            }
            for &seq in now {
                reserved.push(reserve(seq)?);
            }
            // Only a panic while holding the lock poisons it: the rest of the block is
            // lost then, which leaves a hole and nothing worse.
            if let Ok(mut unused) = self.unused.lock() {
                unused.entry((company, year)).or_default().extend(rest);
            }
        }
        Ok(reserved)
    }

    fn give_back(&self, company: i64, number: DocumentNumber) {
        if let Ok(mut unused) = self.unused.lock() {
            unused
                .entry((company, number.year()))
                .or_default()
                .insert(number.seq());
        }
    }

    /// Up to `count` of the lowest unused numbers of the company's year.
    fn pop(&self, company: i64, year: u16, count: usize) -> Vec<u32> {
        let Ok(mut unused) = self.unused.lock() else {
            return Vec::new();
        };
        let Some(free) = unused.get_mut(&(company, year)) else {
            return Vec::new();
        };
        std::iter::from_fn(|| free.pop_first())
            .take(count)
            .collect()
    }
}
