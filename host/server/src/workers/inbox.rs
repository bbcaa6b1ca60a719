//! The inbox worker: turns stored webhook deliveries into imported orders.
//!
//! A delivery is a hint: the order is fetched again through the connector, so an old
//! delivery processed late cannot roll an order back, and the import rules decide what
//! changes. Deliveries of one order in one batch are worked on once.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tovor_domain::mapping::HostStatus;
use tovor_domain::order::NormalizedOrder;
use tovor_domain::{CompanyId, OrderId, ShopId};
use tovor_store::StoreError;
use tovor_store::inbox::Delivery;
use tovor_store::orders::Source;

use super::{backoff, later, lease};
use crate::connectors::shop_client;
use crate::error::ServiceError;
use crate::ingest::{SkipReason, ingest};
use crate::intake::InboxEvent;
use crate::metrics;
use crate::state::AppState;

/// The source of orders brought by webhooks.
const WEBHOOK: &str = "webhook";

/// Orders of one claimed batch worked on at once.
const ORDERS_AT_ONCE: usize = 4;

pub(super) async fn work(
    state: Arc<AppState>,
    stop: CancellationToken,
) -> Result<bool, ServiceError> {
    let node = state.workers.node.clone();
    let claimed = state
        .store
        .claim_deliveries(
            &node,
            state.workers.inbox_batch,
            lease(&state),
            OffsetDateTime::now_utc(),
        )
        .await?;
    if claimed.is_empty() {
        return Ok(false);
    }
    // Deliveries of the same order: work once, record the outcome on each.
    let mut groups: Vec<(Option<OrderKey>, Vec<Delivery>)> = Vec::new();
    let mut index: HashMap<OrderKey, usize> = HashMap::new();
    for delivery in claimed {
        let key = order_key(&delivery);
        match key.as_ref().and_then(|key| index.get(key)) {
            Some(&at) => groups[at].1.push(delivery),
            None => {
                if let Some(key) = &key {
                    index.insert(key.clone(), groups.len());
                }
                groups.push((key, vec![delivery]));
            }
        }
    }
    // Different orders are independent: several are fetched and imported at once, so
    // one slow shop answer or one transaction's commit does not hold up the rest.
    let mut work = futures::stream::iter(groups)
        .map(|(_, deliveries)| {
            let (state, node, stop) = (&state, &node, &stop);
            async move {
                if stop.is_cancelled() {
                    // Unstarted deliveries go back to the queue when their lease expires.
                    return Ok(());
                }
                let Some(first) = deliveries.first() else {
                    return Ok(());
                };
                let result = process(state, first).await;
                for delivery in &deliveries {
                    record(state, node, delivery, &result).await?;
                }
                Ok::<(), ServiceError>(())
            }
        })
        .buffer_unordered(ORDERS_AT_ONCE);
    while let Some(done) = work.next().await {
        done?;
    }
    Ok(true)
}

/// What processing a delivery did: the order it is about, or why a rule left it alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Processed {
    order: Option<OrderId>,
    skipped: Option<SkipReason>,
}

/// Deliveries about the same order of the same shop are worked on once.
type OrderKey = (ShopId, String);

fn order_key(delivery: &Delivery) -> Option<OrderKey> {
    match serde_json::from_str::<InboxEvent>(&delivery.event).ok()? {
        InboxEvent::OrderChanged { id, .. } | InboxEvent::OrderDeleted { id } => {
            Some((delivery.shop, id))
        }
    }
}

async fn record(
    state: &AppState,
    node: &str,
    delivery: &Delivery,
    result: &Result<Processed, ServiceError>,
) -> Result<(), ServiceError> {
    match result {
        Ok(processed) => {
            state
                .store
                .finish_delivery(
                    delivery.id,
                    node,
                    processed.order,
                    processed.skipped.map(SkipReason::as_str),
                    OffsetDateTime::now_utc(),
                )
                .await?;
        }
        Err(error) => {
            let attempts = delivery.attempts;
            let retry_at =
                (error.is_retryable() && attempts < state.workers.max_attempts).then(|| {
                    later(backoff(
                        attempts,
                        state.workers.backoff,
                        state.workers.max_backoff,
                        error.retry_after(),
                    ))
                });
            if retry_at.is_none() {
                tracing::error!(delivery = delivery.id, shop = %delivery.shop, %error, attempts, "delivery failed for good; kept for inspection");
            } else {
                tracing::warn!(delivery = delivery.id, shop = %delivery.shop, %error, attempts, "delivery failed; will retry");
            }
            state
                .store
                .fail_delivery(delivery.id, node, &error.to_string(), retry_at)
                .await?;
        }
    }
    Ok(())
}

async fn process(state: &AppState, delivery: &Delivery) -> Result<Processed, ServiceError> {
    let event: InboxEvent = serde_json::from_str(&delivery.event)
        .map_err(|error| ServiceError::Invalid(format!("stored event unreadable: {error}")))?;
    let scope = state.store.company(delivery.company);
    let shop = scope.shop(delivery.shop).await?;
    match event {
        InboxEvent::OrderChanged { id, order } => {
            let current = fetch_current(state, &shop, &id, order).await?;
            let ingested = ingest(state, delivery.company, &shop, &current, WEBHOOK).await?;
            Ok(Processed {
                order: ingested.order(),
                skipped: ingested.skip_reason(),
            })
        }
        InboxEvent::OrderDeleted { id } => {
            match order_deleted(state, delivery.company, shop.id, &id).await? {
                Some(order) => Ok(Processed {
                    order: Some(order),
                    skipped: None,
                }),
                None => {
                    metrics::skipped(SkipReason::Deleted.as_str(), WEBHOOK);
                    Ok(Processed {
                        order: None,
                        skipped: Some(SkipReason::Deleted),
                    })
                }
            }
        }
    }
}

/// The order as the platform has it now; the delivery's own copy only when the
/// connector cannot fetch single orders.
async fn fetch_current(
    state: &AppState,
    shop: &tovor_store::shops::Shop,
    id: &str,
    delivered: Option<Box<NormalizedOrder>>,
) -> Result<NormalizedOrder, ServiceError> {
    let client = shop_client(state, shop)?;
    let fetched = client.get_order(id).await;
    metrics::plugin_call(&shop.settings.plugin_id, "get-order", fetched.is_ok());
    match fetched {
        Ok(order) => Ok(order),
        Err(error) if error.is_unsupported() && delivered.is_some() => Ok(delivered
            .map(|order| *order)
            .ok_or_else(|| ServiceError::Invalid("no order in the delivery".into()))?),
        Err(error) => Err(error.into()),
    }
}

async fn order_deleted(
    state: &AppState,
    company: CompanyId,
    shop: ShopId,
    external_id: &str,
) -> Result<Option<OrderId>, ServiceError> {
    let scope = state.store.company(company);
    let Some(order) = scope.order_by_external_id(shop, external_id).await? else {
        return Ok(None);
    };
    match scope
        .set_order_status(
            order,
            HostStatus::Cancelled,
            Source(WEBHOOK),
            OffsetDateTime::now_utc(),
        )
        .await
    {
        Ok(()) | Err(StoreError::Conflict(_)) => {}
        Err(error) => return Err(error.into()),
    }
    state.wake.push.notify_one();
    Ok(Some(order))
}
