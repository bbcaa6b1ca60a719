//! The sync scheduler: asks shops for orders changed since the last sync (every
//! `poll_minutes` for shops without webhooks, once a day as a reconciliation for shops
//! with them, at once on "sync now"), and runs imports of history page by page.
//!
//! The cursor is the start time of the last successful sync, in UTC; the next sync asks
//! from `overlap` before it, so an order saved while a sync ran is not missed. Orders
//! seen twice are harmless: the import rules leave unchanged ones alone.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tovor_domain::CompanyId;
use tovor_runtime::ShopClient;
use tovor_store::StoreError;
use tovor_store::shops::Shop;
use tovor_store::sync::{HistoryState, SyncRunEnd, SyncStatus};

use super::{backoff, later, lease};
use crate::connectors::{sends_webhooks, shop_client};
use crate::convert;
use crate::error::ServiceError;
use crate::ingest::{HISTORY, ingest};
use crate::metrics;
use crate::state::AppState;

pub(super) async fn work(
    state: Arc<AppState>,
    stop: CancellationToken,
) -> Result<bool, ServiceError> {
    let node = state.workers.node.clone();
    let now = OffsetDateTime::now_utc();
    let Some(job) = state
        .store
        .claim_sync_job(&node, lease(&state), now)
        .await?
    else {
        return Ok(false);
    };
    let shop = match state.store.company(job.company).shop(job.shop).await {
        Ok(shop) if !shop.settings.is_custom() => shop,
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            state.store.release_sync_job(job.shop, &node).await?;
            return Ok(true);
        }
        Err(error) => return Err(error.into()),
    };
    let client = match shop_client(&state, &shop) {
        Ok(client) => client,
        Err(error) => {
            finish(&state, &node, &job, &shop, 0, Some(error.to_string())).await?;
            return Ok(true);
        }
    };
    if matches!(
        job.history.state,
        HistoryState::Requested | HistoryState::Running
    ) {
        import_history(&state, &node, &job, &shop, &client, &stop).await?;
    }
    if job.next_run_at <= now && !stop.is_cancelled() {
        let (seen, error) = match regular_sync(&state, &job, &shop, &client, now, &stop).await {
            Ok(seen) => (seen, None),
            Err((seen, error)) => (seen, Some(error.to_string())),
        };
        finish(&state, &node, &job, &shop, seen, error).await?;
    } else {
        state.store.release_sync_job(job.shop, &node).await?;
    }
    Ok(true)
}

async fn finish(
    state: &AppState,
    node: &str,
    job: &SyncStatus,
    shop: &Shop,
    seen: i64,
    error: Option<String>,
) -> Result<(), ServiceError> {
    let interval = if sends_webhooks(state, shop) {
        state.workers.reconcile_every
    } else {
        Duration::from_secs(u64::from(shop.settings.poll_minutes) * 60)
    };
    let (cursor, next_run_at) = match &error {
        None => (job.last_started_at, later(interval)),
        Some(message) => {
            tracing::warn!(shop = %shop.id, %message, "sync failed");
            let retry = backoff(job.failures + 1, state.workers.backoff, interval, None);
            (None, later(retry))
        }
    };
    let end = SyncRunEnd {
        cursor,
        next_run_at,
        orders_seen: seen,
        error,
    };
    state
        .store
        .finish_sync_run(shop.id, node, &end, OffsetDateTime::now_utc())
        .await?;
    Ok(())
}

/// Orders changed since the cursor (less the overlap) or since the requested time.
async fn regular_sync(
    state: &AppState,
    job: &SyncStatus,
    shop: &Shop,
    client: &ShopClient,
    now: OffsetDateTime,
    stop: &CancellationToken,
) -> Result<i64, (i64, ServiceError)> {
    let overlap =
        time::Duration::try_from(state.workers.sync_overlap).unwrap_or(time::Duration::ZERO);
    let since = job
        .requested_since
        .or(job.cursor.map(|cursor| cursor - overlap))
        .or(shop.settings.import_from)
        .unwrap_or(now - time::Duration::DAY);
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    loop {
        let page = client
            .list_orders(&convert::timestamp_text(since), cursor.as_deref())
            .await;
        metrics::plugin_call(&shop.settings.plugin_id, "list-orders", page.is_ok());
        let page = page.map_err(|error| (seen, error.into()))?;
        for order in &page.orders {
            seen += 1;
            import_one(state, job.company, shop, order, "sync").await;
        }
        match page.next_cursor {
            Some(next) if !stop.is_cancelled() => cursor = Some(next),
            Some(_) => return Err((seen, ServiceError::Unavailable("stopped mid-way".into()))),
            None => return Ok(seen),
        }
    }
}

/// One order from a listing. A bad order is logged and skipped: one order the rules
/// refuse must not hold back the rest of the shop.
async fn import_one(
    state: &AppState,
    company: CompanyId,
    shop: &Shop,
    order: &tovor_runtime::types::Order,
    source: &'static str,
) -> bool {
    let result = match convert::order(order) {
        Ok(order) => ingest(state, company, shop, &order, source)
            .await
            .map(|_| ()),
        Err(error) => Err(error.into()),
    };
    if let Err(error) = &result {
        tracing::error!(shop = %shop.id, order = %order.id, %error, "order from sync not imported");
    }
    result.is_ok()
}

/// Pages of history from where the import stands; progress is saved after each page,
/// so a restart resumes there.
async fn import_history(
    state: &AppState,
    node: &str,
    job: &SyncStatus,
    shop: &Shop,
    client: &ShopClient,
    stop: &CancellationToken,
) -> Result<(), ServiceError> {
    let Some(from) = job.history.from else {
        return Ok(());
    };
    let since = convert::timestamp_text(from);
    let mut page_cursor = job.history.next_page.clone();
    while !stop.is_cancelled() {
        let page = client.list_orders(&since, page_cursor.as_deref()).await;
        metrics::plugin_call(&shop.settings.plugin_id, "list-orders", page.is_ok());
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                state
                    .store
                    .fail_history(shop.id, node, &error.to_string())
                    .await?;
                return Ok(());
            }
        };
        let mut imported = 0;
        for order in &page.orders {
            if import_one(state, job.company, shop, order, HISTORY).await {
                imported += 1;
            }
        }
        let still_ours = state
            .store
            .save_history_page(
                shop.id,
                node,
                page.next_cursor.as_deref(),
                imported,
                OffsetDateTime::now_utc() + lease(state),
            )
            .await?;
        if !still_ours {
            return Ok(());
        }
        match page.next_cursor {
            Some(next) => page_cursor = Some(next),
            None => return Ok(()),
        }
    }
    Ok(())
}
