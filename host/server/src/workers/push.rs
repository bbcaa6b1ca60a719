//! The stock pusher: tells shops the current stock of the items queued for them, in
//! batches per shop, with the figure the shop wants (on hand or available).

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tovor_domain::stock::shop_quantity;
use tovor_domain::{CompanyId, ItemId};
use tovor_runtime::model::{StockLevel, StockTarget};
use tovor_store::StoreError;
use tovor_store::push::{PushOutcome, PushTask};
use tovor_store::shops::Shop;

use super::{backoff, later, lease};
use crate::connectors::shop_client;
use crate::error::ServiceError;
use crate::metrics;
use crate::state::AppState;

pub(super) async fn work(
    state: Arc<AppState>,
    stop: CancellationToken,
) -> Result<bool, ServiceError> {
    let node = state.workers.node.clone();
    let tasks = state
        .store
        .claim_stock_pushes(
            &node,
            state.workers.push_batch,
            lease(&state),
            OffsetDateTime::now_utc(),
        )
        .await?;
    if tasks.is_empty() {
        return Ok(false);
    }
    let mut by_shop: BTreeMap<_, Vec<PushTask>> = BTreeMap::new();
    for task in tasks {
        by_shop
            .entry((task.company, task.shop))
            .or_default()
            .push(task);
    }
    for ((company, shop_id), tasks) in by_shop {
        if stop.is_cancelled() {
            break;
        }
        let shop = match state.store.company(company).shop(shop_id).await {
            Ok(shop) => shop,
            Err(StoreError::NotFound { .. }) => continue,
            Err(error) => return Err(error.into()),
        };
        push_shop_batch(&state, &node, company, &shop, &tasks).await?;
    }
    Ok(true)
}

/// Pushes one shop's claimed items: unlinked ones are recorded as such, the rest go to
/// the connector in one call with their current figure.
pub async fn push_shop_batch(
    state: &AppState,
    node: &str,
    company: CompanyId,
    shop: &Shop,
    tasks: &[PushTask],
) -> Result<(), ServiceError> {
    let scope = state.store.company(company);
    let now = OffsetDateTime::now_utc();
    let items: Vec<ItemId> = tasks.iter().map(|task| task.item).collect();
    let inputs = scope
        .push_inputs(shop.id, shop.settings.warehouse, &items)
        .await?;
    let mut levels = Vec::new();
    let mut sent: Vec<(&PushTask, Decimal)> = Vec::new();
    let mut unlinked: Vec<&PushTask> = Vec::new();
    for task in tasks {
        let input = inputs.iter().find(|input| input.item == task.item);
        let Some((input, link)) =
            input.and_then(|input| input.link.as_ref().map(|link| (input, link)))
        else {
            unlinked.push(task);
            continue;
        };
        let quantity = Decimal::from(shop_quantity(&input.level, shop.settings.stock_mode));
        levels.push(StockLevel {
            target: StockTarget {
                sku: Some(input.code.clone()),
                product_id: link.product_id.clone(),
                variant_id: link.variation_id.clone(),
                stock_key: link.inventory_id.clone(),
            },
            quantity,
        });
        sent.push((task, quantity));
    }
    if !unlinked.is_empty() {
        let outcomes: Vec<(&PushTask, &PushOutcome)> = unlinked
            .iter()
            .map(|task| (*task, &PushOutcome::Unlinked))
            .collect();
        state
            .store
            .complete_stock_pushes(node, &outcomes, now)
            .await?;
        metrics::stock_pushes("unlinked", unlinked.len() as u64);
    }
    if levels.is_empty() {
        return Ok(());
    }
    tracing::debug!(shop = %shop.id, items = levels.len(), "pushing stock");
    // The connector says how many levels one call may carry.
    let client = shop_client(state, shop);
    let batch = match &client {
        Ok(client) => client.stock_batch().await.map_err(ServiceError::from),
        Err(_) => Ok(levels.len()),
    };
    let batch = match batch {
        Ok(batch) => batch.max(1),
        Err(error) => return retry_all(state, node, shop, &sent, &error).await,
    };
    for (levels, sent) in levels.chunks(batch).zip(sent.chunks(batch)) {
        let result = match &client {
            Ok(client) => client.push_stock(levels).await.map_err(ServiceError::from),
            Err(error) => Err(ServiceError::Unavailable(error.to_string())),
        };
        metrics::plugin_call(&shop.settings.plugin_id, "push-stock", result.is_ok());
        let now = OffsetDateTime::now_utc();
        let results = match result {
            Ok(results) => results,
            Err(error) => {
                retry_all(state, node, shop, sent, &error).await?;
                continue;
            }
        };
        let outcomes: Vec<PushOutcome> = sent
            .iter()
            .enumerate()
            .map(|(index, (_, quantity))| match results.get(index) {
                Some(Ok(())) => PushOutcome::Pushed(*quantity),
                Some(Err(error)) => PushOutcome::Refused(error.to_string()),
                None => PushOutcome::Refused("the connector gave no result for this item".into()),
            })
            .collect();
        let pushed = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, PushOutcome::Pushed(_)))
            .count();
        metrics::stock_pushes("pushed", pushed as u64);
        metrics::stock_pushes("refused", (outcomes.len() - pushed) as u64);
        let recorded: Vec<(&PushTask, &PushOutcome)> = sent
            .iter()
            .map(|(task, _)| *task)
            .zip(outcomes.iter())
            .collect();
        state
            .store
            .complete_stock_pushes(node, &recorded, now)
            .await?;
    }
    Ok(())
}

/// Puts pushes back for a later try, after a backoff that grows with their attempts.
async fn retry_all(
    state: &AppState,
    node: &str,
    shop: &Shop,
    sent: &[(&PushTask, Decimal)],
    error: &ServiceError,
) -> Result<(), ServiceError> {
    tracing::warn!(shop = %shop.id, %error, items = sent.len(), "stock push failed; will retry");
    metrics::stock_pushes("retry", sent.len() as u64);
    for (task, _) in sent {
        let delay = backoff(
            task.attempts + 1,
            state.workers.backoff,
            state.workers.max_backoff,
            error.retry_after(),
        );
        state
            .store
            .retry_stock_push(task, node, &error.to_string(), later(delay))
            .await?;
    }
    Ok(())
}
