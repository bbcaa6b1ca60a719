//! Orders a sync met but could not import because the import rules refused them
//! (invalid data). Each stays listed for the user, and is tried again by every sync run,
//! until it imports or the user dismisses it; a dismissed one comes back only when the
//! order changes on the platform.

use std::collections::HashSet;

use serde::Serialize;
use time::OffsetDateTime;
use tovor_domain::ShopId;

use crate::codec::{RowExt, time_text};
use crate::error::{StoreError, StoreResult};
use crate::inbox::parse_opt_time;
use crate::scope::CompanyScope;

/// One refused order of a shop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncProblem {
    /// The platform's order id.
    pub order_id: String,
    /// What brought it: `sync` or `history`.
    pub source: String,
    /// Why the rules refused it, last time it was tried.
    pub reason: String,
    /// The platform's `modified_at` of the refused copy.
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// Times it was tried and refused.
    pub attempts: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub dismissed_at: Option<OffsetDateTime>,
}

/// A refusal to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal<'a> {
    pub order_id: &'a str,
    pub source: &'a str,
    pub reason: &'a str,
    pub version: &'a str,
}

/// What recording a refusal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The problem is open (new, or seen again).
    Open,
    /// The user dismissed this very version: nothing changed.
    StillDismissed,
}

const PROBLEM_COLUMNS: &str = "external_id, source, reason, version, first_seen_at, last_seen_at, \
     attempts, dismissed_at";

fn problem_of(row: &sqlx::any::AnyRow) -> StoreResult<SyncProblem> {
    Ok(SyncProblem {
        order_id: row.text("external_id")?,
        source: row.text("source")?,
        reason: row.text("reason")?,
        version: row.text("version")?,
        first_seen_at: row.time("first_seen_at")?,
        last_seen_at: row.time("last_seen_at")?,
        attempts: row.int("attempts")?,
        dismissed_at: parse_opt_time("dismissed_at", row.opt_text("dismissed_at")?)?,
    })
}

impl CompanyScope<'_> {
    /// Records that the rules refused an order of `shop`. A problem seen again counts
    /// one more attempt; one the user dismissed stays dismissed while the platform's
    /// copy is the version they dismissed, and opens again once it changed.
    pub async fn record_sync_problem(
        &self,
        shop: ShopId,
        refusal: Refusal<'_>,
        at: OffsetDateTime,
    ) -> StoreResult<Recorded> {
        // One statement, so two processes recording the same order cannot both insert.
        let row = sqlx::query(
            "INSERT INTO sync_problems (company_id, shop_id, external_id, source, reason, version, \
             first_seen_at, last_seen_at, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1) \
             ON CONFLICT (shop_id, external_id) DO UPDATE SET \
             attempts = CASE WHEN sync_problems.dismissed_at IS NOT NULL \
                 AND sync_problems.version = excluded.version \
                 THEN sync_problems.attempts ELSE sync_problems.attempts + 1 END, \
             last_seen_at = CASE WHEN sync_problems.dismissed_at IS NOT NULL \
                 AND sync_problems.version = excluded.version \
                 THEN sync_problems.last_seen_at ELSE excluded.last_seen_at END, \
             dismissed_at = CASE WHEN sync_problems.version = excluded.version \
                 THEN sync_problems.dismissed_at ELSE NULL END, \
             source = excluded.source, reason = excluded.reason, version = excluded.version \
             WHERE sync_problems.company_id = excluded.company_id \
             RETURNING dismissed_at",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(refusal.order_id)
        .bind(refusal.source)
        .bind(refusal.reason)
        .bind(refusal.version)
        .bind(time_text(at))
        .fetch_optional(self.store.writer())
        .await?
        .ok_or_else(|| StoreError::not_found("shop", shop))?;
        Ok(if row.opt_text("dismissed_at")?.is_some() {
            Recorded::StillDismissed
        } else {
            Recorded::Open
        })
    }

    /// The order imported: its problem, if it had one, is gone.
    pub async fn resolve_sync_problem(&self, shop: ShopId, order_id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM sync_problems WHERE company_id = $1 AND shop_id = $2 AND external_id = $3",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(order_id)
        .execute(self.store.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The shop's problems, oldest first; dismissed ones only when asked for.
    pub async fn sync_problems(
        &self,
        shop: ShopId,
        include_dismissed: bool,
    ) -> StoreResult<Vec<SyncProblem>> {
        let only_open = if include_dismissed {
            ""
        } else {
            " AND dismissed_at IS NULL"
        };
        let sql = format!(
            "SELECT {PROBLEM_COLUMNS} FROM sync_problems WHERE company_id = $1 AND shop_id = $2\
             {only_open} ORDER BY first_seen_at, external_id"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(shop.0)
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(problem_of)
            .collect()
    }

    /// The platform ids of every problem of the shop, dismissed or not: an import of
    /// one of these resolves its problem.
    pub async fn sync_problem_ids(&self, shop: ShopId) -> StoreResult<HashSet<String>> {
        sqlx::query("SELECT external_id FROM sync_problems WHERE company_id = $1 AND shop_id = $2")
            .bind(self.cid())
            .bind(shop.0)
            .fetch_all(self.store.reader())
            .await?
            .iter()
            .map(|row| row.text("external_id"))
            .collect()
    }

    /// The user gives up on a problem: it is no longer tried, until the order changes
    /// on the platform.
    pub async fn dismiss_sync_problem(
        &self,
        shop: ShopId,
        order_id: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE sync_problems SET dismissed_at = COALESCE(dismissed_at, $4) \
             WHERE company_id = $1 AND shop_id = $2 AND external_id = $3",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(order_id)
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("sync problem", order_id));
        }
        Ok(())
    }

    /// Takes a dismissed problem back: the next sync tries it again.
    pub async fn reopen_sync_problem(&self, shop: ShopId, order_id: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE sync_problems SET dismissed_at = NULL \
             WHERE company_id = $1 AND shop_id = $2 AND external_id = $3",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(order_id)
        .execute(self.store.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("sync problem", order_id));
        }
        Ok(())
    }
}
