//! The sync scheduler: asks shops for orders changed since the last sync (every
//! `poll_minutes`, or once a day as a reconciliation for shops whose webhooks are
//! registered on the platform, at once on "sync now"), and runs imports of history page by page.
//!
//! The cursor is the start time of the last successful sync, in UTC; the next sync asks
//! from `overlap` before it, so an order saved while a sync ran is not missed. Orders
//! seen twice are harmless: the import rules leave unchanged ones alone.
//!
//! No order is passed over. An import that fails for a reason that may pass (database,
//! platform or plugin trouble) fails the whole run: the cursor stays and the run is
//! retried with backoff (a history import retries the same page). An order the import
//! rules refuse becomes one of the shop's problems (`GET /shops/{id}/problems`), which
//! every later run fetches and tries again until it imports or the user dismisses it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tovor_domain::CompanyId;
use tovor_domain::order::NormalizedOrder;
use tovor_runtime::ShopClient;
use tovor_runtime::model::PageOrder;
use tovor_store::StoreError;
use tovor_store::problems::{Recorded, Refusal};
use tovor_store::shops::{Shop, WebhookSetupRecord};
use tovor_store::sync::{HistoryState, SyncRunEnd, SyncStatus};

use super::{backoff, later, lease};
use crate::connectors::{sends_webhooks, shop_client};
use crate::error::ServiceError;
use crate::ingest::{HISTORY, ImportFailure, Ingested, classify, ingest, ingest_page};
use crate::metrics;
use crate::state::AppState;

/// The source of orders brought by a regular sync.
const SYNC: &str = "sync";

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
    let mut run = Run {
        state: &state,
        node: &node,
        company: job.company,
        shop: &shop,
        client: &client,
        problems: state
            .store
            .company(job.company)
            .sync_problem_ids(shop.id)
            .await?,
        tried: HashSet::new(),
    };
    let history_due = matches!(
        job.history.state,
        HistoryState::Requested | HistoryState::Running
    ) && job.history.retry_at.is_none_or(|at| at <= now);
    if history_due {
        import_history(&mut run, &job, &stop).await?;
    }
    if job.next_run_at <= now && !stop.is_cancelled() {
        let (seen, error) = match regular_sync(&mut run, &job, now, &stop).await {
            Ok(seen) => (seen, None),
            Err((seen, error)) => (seen, Some(error.to_string())),
        };
        finish(&state, &node, &job, &shop, seen, error).await?;
    } else {
        state.store.release_sync_job(job.shop, &node).await?;
    }
    Ok(true)
}

/// How long until a shop's next regular sync. Only a shop whose webhooks are registered
/// on the platform imports at once and needs just the `reconcile_every` poll; every other
/// shop is polled every `poll_minutes`: one without webhooks, one whose registration
/// failed, and one set up by hand (Wix, an Adobe Commerce webhook), since tovor cannot
/// tell whether the user ever pasted the URL.
fn sync_interval(
    connector_takes_webhooks: bool,
    setup: Option<&WebhookSetupRecord>,
    poll_minutes: u32,
    reconcile_every: Duration,
) -> Duration {
    if connector_takes_webhooks && setup.is_some_and(WebhookSetupRecord::delivers) {
        reconcile_every
    } else {
        Duration::from_secs(u64::from(poll_minutes) * 60)
    }
}

async fn finish(
    state: &AppState,
    node: &str,
    job: &SyncStatus,
    shop: &Shop,
    seen: i64,
    error: Option<String>,
) -> Result<(), ServiceError> {
    let interval = sync_interval(
        sends_webhooks(state, shop),
        shop.webhook_setup.as_ref(),
        shop.settings.poll_minutes,
        state.workers.reconcile_every,
    );
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

/// One claimed job at work: the shop, its connector, and the orders met so far.
struct Run<'a> {
    state: &'a AppState,
    node: &'a str,
    company: CompanyId,
    shop: &'a Shop,
    client: &'a ShopClient,
    /// Platform ids of the shop's problems (open or dismissed): an import of one
    /// resolves it.
    problems: HashSet<String>,
    /// Platform ids handled in this run, so a problem met in a listing is not fetched
    /// and counted a second time.
    tried: HashSet<String>,
}

/// What became of one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    /// Through the import rules (created, updated or unchanged).
    Imported,
    /// Left alone by a rule (placed before import-from).
    Skipped,
    /// Refused by the rules; recorded as a problem.
    Refused,
}

impl Run<'_> {
    /// Extends the job's lease between pages. An error when it was lost: another
    /// process has the job now, and this one must stop.
    async fn renew_lease(&self) -> Result<(), ServiceError> {
        let until = OffsetDateTime::now_utc() + lease(self.state);
        if self
            .state
            .store
            .renew_sync_lease(self.shop.id, self.node, until)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::Unavailable(
                "the sync job's lease was taken over by another process".into(),
            ))
        }
    }

    /// Imports one order from the platform. A refusal is recorded as a problem and is
    /// not an error; an error is trouble that may pass, which must fail the run.
    async fn handle(
        &mut self,
        order: &PageOrder,
        source: &'static str,
    ) -> Result<Handled, ServiceError> {
        let result = match &order.order {
            Ok(normalized) => ingest(self.state, self.company, self.shop, normalized, source).await,
            Err(error) => Err(error.clone().into()),
        };
        self.settle(order, source, result).await
    }

    /// [`Self::handle`] for a page of orders, imported together; what became of each,
    /// in their order.
    async fn handle_page(
        &mut self,
        orders: &[PageOrder],
        source: &'static str,
    ) -> Result<Vec<Handled>, ServiceError> {
        let converted: Vec<&NormalizedOrder> = orders
            .iter()
            .filter_map(|order| order.order.as_ref().ok())
            .collect();
        let mut ingested = ingest_page(self.state, self.company, self.shop, &converted, source)
            .await
            .into_iter();
        let mut handled = Vec::with_capacity(orders.len());
        for order in orders {
            let result = match &order.order {
                Ok(_) => ingested.next().unwrap_or_else(|| {
                    Err(ServiceError::Invalid(
                        "fewer import results than orders".into(),
                    ))
                }),
                Err(error) => Err(error.clone().into()),
            };
            handled.push(self.settle(order, source, result).await?);
        }
        Ok(handled)
    }

    /// What an import's result means for the run: a problem resolved, a refusal
    /// recorded, or an error that must fail it.
    async fn settle(
        &mut self,
        order: &PageOrder,
        source: &'static str,
        result: Result<Ingested, ServiceError>,
    ) -> Result<Handled, ServiceError> {
        self.tried.insert(order.id.clone());
        match result {
            Ok(ingested) => {
                if self.problems.remove(&order.id) {
                    self.state
                        .store
                        .company(self.company)
                        .resolve_sync_problem(self.shop.id, &order.id)
                        .await?;
                    tracing::info!(shop = %self.shop.id, order = %order.id, "problem order imported");
                }
                Ok(if ingested.skip_reason().is_some() {
                    Handled::Skipped
                } else {
                    Handled::Imported
                })
            }
            Err(error) => {
                self.refuse(&order.id, &order.modified_at, source, error)
                    .await?;
                Ok(Handled::Refused)
            }
        }
    }

    /// Records `error` as the order's problem when the rules refused it; returns it
    /// when it is trouble that may pass.
    async fn refuse(
        &mut self,
        order_id: &str,
        version: &str,
        source: &'static str,
        error: ServiceError,
    ) -> Result<(), ServiceError> {
        if classify(&error) == ImportFailure::Transient {
            tracing::warn!(shop = %self.shop.id, order = %order_id, %error, "order not imported; the run fails and is retried");
            return Err(error);
        }
        let reason = error.to_string();
        let recorded = self
            .state
            .store
            .company(self.company)
            .record_sync_problem(
                self.shop.id,
                Refusal {
                    order_id,
                    source,
                    reason: &reason,
                    version,
                },
                OffsetDateTime::now_utc(),
            )
            .await?;
        self.problems.insert(order_id.to_owned());
        if recorded == Recorded::Open {
            metrics::refused(source);
            tracing::warn!(shop = %self.shop.id, order = %order_id, %error, "order refused; listed in the shop's problems");
        }
        Ok(())
    }

    /// Tries the shop's open problems this run has not met yet, fetching each one's
    /// current copy from the platform.
    async fn retry_problems(&mut self, stop: &CancellationToken) -> Result<(), ServiceError> {
        let open = self
            .state
            .store
            .company(self.company)
            .sync_problems(self.shop.id, false)
            .await?;
        for problem in open {
            if stop.is_cancelled() {
                break;
            }
            if self.tried.contains(&problem.order_id) {
                continue;
            }
            let source = if problem.source == HISTORY {
                HISTORY
            } else {
                SYNC
            };
            let fetched = self.client.get_order(&problem.order_id).await;
            metrics::plugin_call(&self.shop.settings.plugin_id, "get-order", fetched.is_ok());
            match fetched {
                Ok(order) => {
                    let listed = PageOrder {
                        id: order.id.clone(),
                        modified_at: tovor_runtime::rfc3339_text(order.modified_at),
                        order: Ok(order),
                    };
                    self.handle(&listed, source).await?;
                }
                // Without single-order fetches a problem is tried when a listing
                // brings the order again (when it changes).
                Err(error) if error.is_unsupported() => return Ok(()),
                Err(error) => {
                    self.tried.insert(problem.order_id.clone());
                    self.refuse(&problem.order_id, &problem.version, source, error.into())
                        .await?;
                }
            }
            self.renew_lease().await?;
        }
        Ok(())
    }
}

/// Orders changed since the cursor (less the overlap) or since the requested time,
/// then the shop's open problems.
async fn regular_sync(
    run: &mut Run<'_>,
    job: &SyncStatus,
    now: OffsetDateTime,
    stop: &CancellationToken,
) -> Result<i64, (i64, ServiceError)> {
    let overlap =
        time::Duration::try_from(run.state.workers.sync_overlap).unwrap_or(time::Duration::ZERO);
    let since = job
        .requested_since
        .or(job.cursor.map(|cursor| cursor - overlap))
        .or(run.shop.settings.import_from)
        .unwrap_or(now - time::Duration::DAY);
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    loop {
        let page = run.client.list_orders(since, cursor.as_deref()).await;
        metrics::plugin_call(&run.shop.settings.plugin_id, "list-orders", page.is_ok());
        let page = page.map_err(|error| (seen, error.into()))?;
        seen += i64::try_from(page.orders.len()).unwrap_or(i64::MAX);
        run.handle_page(&page.orders, SYNC)
            .await
            .map_err(|error| (seen, error))?;
        run.renew_lease().await.map_err(|error| (seen, error))?;
        match page.next_cursor {
            Some(next) if !stop.is_cancelled() => cursor = Some(next),
            Some(_) => return Err((seen, ServiceError::Unavailable("stopped mid-way".into()))),
            None => break,
        }
    }
    run.retry_problems(stop)
        .await
        .map_err(|error| (seen, error))?;
    Ok(seen)
}

/// Pages of history from where the import stands; progress is saved after each page,
/// so a restart resumes there. A page whose listing or import met trouble that may pass
/// is tried again after a backoff, never passed.
async fn import_history(
    run: &mut Run<'_>,
    job: &SyncStatus,
    stop: &CancellationToken,
) -> Result<(), ServiceError> {
    let Some(from) = job.history.from else {
        return Ok(());
    };
    let since = from;
    let mut page_cursor = job.history.next_page.clone();
    let mut failures = job.history.failures;
    while !stop.is_cancelled() {
        let page = run.client.list_orders(since, page_cursor.as_deref()).await;
        metrics::plugin_call(&run.shop.settings.plugin_id, "list-orders", page.is_ok());
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                let error = ServiceError::from(error);
                if error.is_retryable() {
                    retry_history_page(run, failures, &error).await?;
                } else {
                    run.state
                        .store
                        .fail_history(run.shop.id, run.node, &error.to_string())
                        .await?;
                }
                return Ok(());
            }
        };
        let imported = match run.handle_page(&page.orders, HISTORY).await {
            Ok(handled) => {
                let imported = handled.iter().filter(|h| **h == Handled::Imported).count();
                i64::try_from(imported).unwrap_or(i64::MAX)
            }
            Err(error) => {
                retry_history_page(run, failures, &error).await?;
                return Ok(());
            }
        };
        failures = 0;
        let still_ours = run
            .state
            .store
            .save_history_page(
                run.shop.id,
                run.node,
                page.next_cursor.as_deref(),
                imported,
                OffsetDateTime::now_utc() + lease(run.state),
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

/// Keeps the history import on its current page and tries it again after a backoff.
async fn retry_history_page(
    run: &Run<'_>,
    failures: u32,
    error: &ServiceError,
) -> Result<(), ServiceError> {
    let workers = &run.state.workers;
    let delay = backoff(
        failures + 1,
        workers.backoff,
        workers.max_backoff,
        error.retry_after(),
    );
    tracing::warn!(shop = %run.shop.id, %error, "history page failed; will retry");
    run.state
        .store
        .retry_history_page(run.shop.id, run.node, &error.to_string(), later(delay))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use tovor_store::shops::RegisteredWebhookRecord;

    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);
    const TWENTY_MINUTES: Duration = Duration::from_secs(20 * 60);

    fn setup(state: &str, subscriptions: usize) -> WebhookSetupRecord {
        WebhookSetupRecord {
            state: state.into(),
            url: "https://tovor.example/hooks/k".into(),
            webhooks: (0..subscriptions)
                .map(|n| RegisteredWebhookRecord {
                    id: n.to_string(),
                    topic: "order.updated".into(),
                })
                .collect(),
            message: None,
        }
    }

    #[test]
    fn only_registered_webhooks_make_the_poll_daily() {
        let registered = setup("registered", 2);
        assert_eq!(sync_interval(true, Some(&registered), 20, DAY), DAY);
        for (takes_webhooks, record) in [
            (false, None),
            (true, None),
            // A plugin that no longer takes webhooks, with an old registration.
            (false, Some(&registered)),
            (true, Some(&setup("registered", 0))),
            (true, Some(&setup("manual", 0))),
            (true, Some(&setup("failed", 0))),
        ] {
            assert_eq!(
                sync_interval(takes_webhooks, record, 20, DAY),
                TWENTY_MINUTES,
                "{takes_webhooks} {record:?}"
            );
        }
    }
}
