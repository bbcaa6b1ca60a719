//! The shipping worker: settles shipments whose create answer was lost, tracks parcels
//! not yet delivered (batched per carrier connection), and tells shops tracking numbers.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tovor_store::shipping::{ShipmentTask, ShipmentWork};

use super::lease;
use crate::error::ServiceError;
use crate::shipping;
use crate::state::AppState;

/// Shipments claimed per pass and kind of work; tracking numbers of one carrier
/// connection go to the carrier in one call.
const BATCH: u32 = 50;

pub(super) async fn work(
    state: Arc<AppState>,
    stop: CancellationToken,
) -> Result<bool, ServiceError> {
    let mut busy = false;
    for kind in [
        ShipmentWork::Settle,
        ShipmentWork::TellShop,
        ShipmentWork::Track,
    ] {
        if stop.is_cancelled() {
            break;
        }
        let tasks = state
            .store
            .claim_shipments(
                kind,
                &state.workers.node,
                BATCH,
                lease(&state),
                OffsetDateTime::now_utc(),
            )
            .await?;
        busy |= !tasks.is_empty();
        match kind {
            ShipmentWork::Settle => {
                for task in &tasks {
                    log_failure(task, "settle", shipping::settle(&state, task).await);
                }
            }
            ShipmentWork::TellShop => {
                for task in &tasks {
                    log_failure(task, "tell shop", shipping::tell_shop(&state, task).await);
                }
            }
            ShipmentWork::Track => track(&state, &tasks).await?,
        }
    }
    Ok(busy)
}

/// One carrier call per (company, carrier connection).
async fn track(state: &AppState, tasks: &[ShipmentTask]) -> Result<(), ServiceError> {
    let mut groups: BTreeMap<_, Vec<&ShipmentTask>> = BTreeMap::new();
    for task in tasks {
        groups
            .entry((task.company, task.carrier))
            .or_default()
            .push(task);
    }
    for ((company, _), tasks) in groups {
        let scope = state.store.company(company);
        let mut shipments = Vec::with_capacity(tasks.len());
        for task in &tasks {
            shipments.push(scope.shipment(task.shipment).await?);
        }
        if let Some(first) = tasks.first() {
            log_failure(
                first,
                "track",
                shipping::track(state, company, &shipments).await,
            );
        }
    }
    Ok(())
}

/// Every outcome a pass reaches is recorded (and its lease cleared) by `shipping`. A
/// pass that failed before that keeps its lease: the shipment is tried again when the
/// lease runs out, which spaces out retries of a broken plugin or database.
fn log_failure(task: &ShipmentTask, what: &'static str, result: Result<(), ServiceError>) {
    if let Err(error) = result {
        tracing::warn!(shipment = %task.shipment, %error, "shipping worker: {what} failed");
    }
}
