//! Sync jobs: one row per connector shop, saying when it is next asked for changed
//! orders and from when, plus the progress of an import of its history.

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use tovor_domain::{CompanyId, ShopId};

use crate::codec::{RowExt, time_text};
use crate::db::Store;
use crate::error::{StoreError, StoreResult};
use crate::inbox::parse_opt_time;
use crate::scope::CompanyScope;

/// Where an import of history stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryState {
    None,
    Requested,
    Running,
    Done,
    Failed,
}

impl HistoryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Requested => "requested",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> StoreResult<Self> {
        Ok(match text {
            "none" => Self::None,
            "requested" => Self::Requested,
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => return Err(StoreError::corrupt("history_state", format!("{other:?}"))),
        })
    }
}

/// A shop's sync job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    #[serde(skip)]
    pub company: CompanyId,
    #[serde(skip)]
    pub shop: ShopId,
    #[serde(with = "time::serde::rfc3339")]
    pub next_run_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub cursor: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub requested_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_finished_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    /// Failed runs in a row.
    pub failures: u32,
    /// Orders seen by regular syncs so far.
    pub orders_seen: i64,
    pub history: HistoryProgress,
}

/// The import of a shop's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryProgress {
    pub state: HistoryState,
    #[serde(with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// The connector's cursor of the next page; the import resumes there after a restart.
    #[serde(skip)]
    pub next_page: Option<String>,
    pub pages: i64,
    pub orders: i64,
    pub error: Option<String>,
    /// Failed attempts at the current page in a row (transient trouble: the page is
    /// tried again, never passed).
    pub failures: u32,
    /// When the current page is tried again after a failure.
    #[serde(with = "time::serde::rfc3339::option")]
    pub retry_at: Option<OffsetDateTime>,
}

const SYNC_COLUMNS: &str = "company_id, shop_id, next_run_at, sync_cursor, requested_since, \
     last_started_at, last_finished_at, last_error, failures, orders_seen, history_state, \
     history_from, history_page, history_pages, history_orders, history_error, history_failures, \
     history_retry_at";

fn status_of(row: &sqlx::any::AnyRow) -> StoreResult<SyncStatus> {
    Ok(SyncStatus {
        company: CompanyId(row.int("company_id")?),
        shop: ShopId(row.int("shop_id")?),
        next_run_at: row.time("next_run_at")?,
        cursor: parse_opt_time("sync_cursor", row.opt_text("sync_cursor")?)?,
        requested_since: parse_opt_time("requested_since", row.opt_text("requested_since")?)?,
        last_started_at: parse_opt_time("last_started_at", row.opt_text("last_started_at")?)?,
        last_finished_at: parse_opt_time("last_finished_at", row.opt_text("last_finished_at")?)?,
        last_error: row.opt_text("last_error")?,
        failures: u32::try_from(row.int("failures")?).unwrap_or(u32::MAX),
        orders_seen: row.int("orders_seen")?,
        history: HistoryProgress {
            state: HistoryState::parse(&row.text("history_state")?)?,
            from: parse_opt_time("history_from", row.opt_text("history_from")?)?,
            next_page: row.opt_text("history_page")?,
            pages: row.int("history_pages")?,
            orders: row.int("history_orders")?,
            error: row.opt_text("history_error")?,
            failures: u32::try_from(row.int("history_failures")?).unwrap_or(u32::MAX),
            retry_at: parse_opt_time("history_retry_at", row.opt_text("history_retry_at")?)?,
        },
    })
}

/// How a sync run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRunEnd {
    /// The next regular sync asks for orders changed at or after this.
    pub cursor: Option<OffsetDateTime>,
    pub next_run_at: OffsetDateTime,
    pub orders_seen: i64,
    pub error: Option<String>,
}

impl Store {
    /// Claims one due sync job (a due regular sync, a requested sync or a history
    /// import) for `owner` until `now + lease`.
    pub async fn claim_sync_job(
        &self,
        owner: &str,
        lease: Duration,
        now: OffsetDateTime,
    ) -> StoreResult<Option<SyncStatus>> {
        let sql = format!(
            "UPDATE shop_sync SET lease_owner = $1, lease_until = $2, last_started_at = $3 \
             WHERE shop_id IN (SELECT shop_id FROM shop_sync \
             WHERE (next_run_at <= $3 OR (history_state IN ('requested', 'running') \
             AND (history_retry_at IS NULL OR history_retry_at <= $3))) \
             AND (lease_until IS NULL OR lease_until < $3) \
             AND shop_id IN (SELECT id FROM shops WHERE enabled = 1) \
             ORDER BY next_run_at LIMIT 1{}) RETURNING {SYNC_COLUMNS}",
            self.backend().skip_locked()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(time_text(now + lease))
            .bind(time_text(now))
            .fetch_optional(self.writer())
            .await?
            .as_ref()
            .map(status_of)
            .transpose()
    }

    /// Records a page of a history import and extends the lease. False when the lease
    /// was lost (another process took the job over): stop working on it.
    pub async fn save_history_page(
        &self,
        shop: ShopId,
        owner: &str,
        next_page: Option<&str>,
        orders: i64,
        lease_until: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE shop_sync SET history_state = CASE WHEN $3 IS NULL THEN 'done' ELSE 'running' END, \
             history_page = $3, history_pages = history_pages + 1, \
             history_orders = history_orders + $4, lease_until = $5, history_error = NULL, \
             history_failures = 0, history_retry_at = NULL \
             WHERE shop_id = $1 AND lease_owner = $2",
        )
        .bind(shop.0)
        .bind(owner)
        .bind(next_page)
        .bind(orders)
        .bind(time_text(lease_until))
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The current page of a history import met transient trouble: it is tried again
    /// at `retry_at`, from the same page.
    pub async fn retry_history_page(
        &self,
        shop: ShopId,
        owner: &str,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shop_sync SET history_error = $3, history_retry_at = $4, \
             history_failures = history_failures + 1 \
             WHERE shop_id = $1 AND lease_owner = $2",
        )
        .bind(shop.0)
        .bind(owner)
        .bind(error)
        .bind(time_text(retry_at))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Extends the lease of a sync job in hand (between the pages of a long sync).
    /// False when the lease was lost (another process took the job over): stop
    /// working on it.
    pub async fn renew_sync_lease(
        &self,
        shop: ShopId,
        owner: &str,
        lease_until: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE shop_sync SET lease_until = $3 WHERE shop_id = $1 AND lease_owner = $2",
        )
        .bind(shop.0)
        .bind(owner)
        .bind(time_text(lease_until))
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A history import failed; it stays resumable from its last page.
    pub async fn fail_history(&self, shop: ShopId, owner: &str, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shop_sync SET history_state = 'failed', history_error = $3 \
             WHERE shop_id = $1 AND lease_owner = $2",
        )
        .bind(shop.0)
        .bind(owner)
        .bind(error)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Ends a regular sync run and releases the job. A "sync now" asked for while the
    /// run was under way (its `next_run_at` moved past the run's start) is kept, so it
    /// runs next instead of being lost.
    pub async fn finish_sync_run(
        &self,
        shop: ShopId,
        owner: &str,
        end: &SyncRunEnd,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shop_sync SET sync_cursor = COALESCE($3, sync_cursor), \
             next_run_at = CASE WHEN next_run_at > last_started_at THEN next_run_at ELSE $4 END, \
             orders_seen = orders_seen + $5, last_error = $6, \
             failures = CASE WHEN $6 IS NULL THEN 0 ELSE failures + 1 END, \
             requested_since = CASE WHEN $6 IS NULL AND next_run_at <= last_started_at \
                 THEN NULL ELSE requested_since END, \
             last_finished_at = $7, lease_owner = NULL, lease_until = NULL \
             WHERE shop_id = $1 AND lease_owner = $2",
        )
        .bind(shop.0)
        .bind(owner)
        .bind(end.cursor.map(time_text))
        .bind(time_text(end.next_run_at))
        .bind(end.orders_seen)
        .bind(end.error.clone())
        .bind(time_text(at))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Releases a job without running its regular sync (only history was due).
    pub async fn release_sync_job(&self, shop: ShopId, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shop_sync SET lease_owner = NULL, lease_until = NULL \
             WHERE shop_id = $1 AND lease_owner = $2",
        )
        .bind(shop.0)
        .bind(owner)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}

impl CompanyScope<'_> {
    /// The shop's sync job; `NotFound` for a custom-platform shop.
    pub async fn sync_status(&self, shop: ShopId) -> StoreResult<SyncStatus> {
        let sql =
            format!("SELECT {SYNC_COLUMNS} FROM shop_sync WHERE company_id = $1 AND shop_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.cid())
            .bind(shop.0)
            .fetch_optional(self.store.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("shop sync", shop))?;
        status_of(&row)
    }

    /// "Sync now": the shop's job is due at once, from `since` when given.
    pub async fn request_sync(
        &self,
        shop: ShopId,
        since: Option<OffsetDateTime>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE shop_sync SET next_run_at = $3, requested_since = COALESCE($4, requested_since) \
             WHERE company_id = $1 AND shop_id = $2",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(time_text(at))
        .bind(since.map(time_text))
        .execute(self.store.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("shop sync", shop));
        }
        Ok(())
    }

    /// Starts (or restarts) an import of the orders changed since `from`.
    pub async fn request_history_import(
        &self,
        shop: ShopId,
        from: OffsetDateTime,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE shop_sync SET history_state = 'requested', history_from = $3, history_page = NULL, \
             history_pages = 0, history_orders = 0, history_error = NULL, history_failures = 0, \
             history_retry_at = NULL \
             WHERE company_id = $1 AND shop_id = $2",
        )
        .bind(self.cid())
        .bind(shop.0)
        .bind(time_text(from))
        .execute(self.store.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("shop sync", shop));
        }
        Ok(())
    }
}
