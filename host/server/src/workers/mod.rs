//! Background workers. Each loops: claim due rows (with a lease), work on them, record
//! the outcome; when nothing is due it sleeps until woken or until `idle_poll` passes.
//! On shutdown a worker finishes the row in hand and stops; rows it had claimed but not
//! started are taken over by anyone once their lease runs out.

mod inbox;
mod mail;
mod push;
mod shipping;
mod sync;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::state::AppState;

pub use push::push_shop_batch;

/// Starts every worker on `tasks`, after taking back the work this node held when it
/// last stopped (or was killed).
pub fn spawn(tasks: &TaskTracker, state: Arc<AppState>, stop: CancellationToken) {
    tasks.spawn(async move {
        match state.store.release_leases(&state.workers.node).await {
            Ok(released) => {
                tracing::info!(node = %state.workers.node, released, "workers starting");
            }
            Err(error) => tracing::error!(%error, "cannot release this node's old leases"),
        }
        tokio::join!(
            run_loop(
                "inbox",
                state.clone(),
                stop.clone(),
                |s| &s.wake.inbox,
                inbox::work
            ),
            run_loop(
                "sync",
                state.clone(),
                stop.clone(),
                |s| &s.wake.sync,
                sync::work
            ),
            run_loop(
                "push",
                state.clone(),
                stop.clone(),
                |s| &s.wake.push,
                push::work
            ),
            run_loop(
                "shipping",
                state.clone(),
                stop.clone(),
                |s| &s.wake.shipping,
                shipping::work
            ),
            run_loop(
                "mail",
                state.clone(),
                stop.clone(),
                |s| &s.wake.mail,
                mail::work
            ),
            gauges(state.clone(), stop.clone()),
        );
    });
}

/// Runs `work` until stopped. `work` returns whether it found something to do; when it
/// did not, the loop waits for a wake-up or the idle poll.
async fn run_loop<W, F>(
    name: &'static str,
    state: Arc<AppState>,
    stop: CancellationToken,
    waker: fn(&AppState) -> &Notify,
    work: W,
) where
    W: Fn(Arc<AppState>, CancellationToken) -> F,
    F: Future<Output = Result<bool, crate::ServiceError>>,
{
    tracing::debug!(worker = name, "started");
    while !stop.is_cancelled() {
        let busy = match work(state.clone(), stop.clone()).await {
            Ok(busy) => busy,
            Err(error) => {
                tracing::error!(worker = name, %error, "worker pass failed");
                false
            }
        };
        if !busy {
            tokio::select! {
                () = stop.cancelled() => {}
                () = waker(&state).notified() => {}
                () = tokio::time::sleep(state.workers.idle_poll) => {}
            }
        }
    }
    tracing::debug!(worker = name, "stopped");
}

/// Keeps the queue-depth gauges current.
async fn gauges(state: Arc<AppState>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    let mut purged_at = std::time::Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let inbox = state.store.pending_deliveries().await.unwrap_or(-1);
        let push = state.store.queued_stock_pushes().await.unwrap_or(-1);
        crate::metrics::queue_depths(inbox, push);
        if purged_at.elapsed() > Duration::from_secs(3600) {
            purged_at = std::time::Instant::now();
            let before = OffsetDateTime::now_utc() - time::Duration::days(14);
            if let Err(error) = state.store.purge_deliveries(before).await {
                tracing::warn!(%error, "cannot purge processed deliveries");
            }
        }
    }
}

/// When to try again after `attempts` failures: `base · 2^(attempts-1)`, capped, or
/// what the platform asked for when that is longer.
pub fn backoff(attempts: u32, base: Duration, cap: Duration, asked: Option<Duration>) -> Duration {
    let exponent = attempts.saturating_sub(1).min(20);
    let delay = base.saturating_mul(1_u32 << exponent).min(cap);
    asked.map_or(delay, |asked| delay.max(asked.min(cap)))
}

pub(crate) fn lease(state: &AppState) -> time::Duration {
    time::Duration::try_from(state.workers.lease).unwrap_or(time::Duration::MINUTE)
}

pub(crate) fn later(delay: Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::try_from(delay).unwrap_or(time::Duration::HOUR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let base = Duration::from_secs(5);
        let cap = Duration::from_secs(60);
        assert_eq!(backoff(1, base, cap, None), Duration::from_secs(5));
        assert_eq!(backoff(2, base, cap, None), Duration::from_secs(10));
        assert_eq!(backoff(4, base, cap, None), Duration::from_secs(40));
        assert_eq!(backoff(5, base, cap, None), cap);
        assert_eq!(backoff(99, base, cap, None), cap);
    }

    #[test]
    fn the_platforms_retry_after_wins_when_longer() {
        let base = Duration::from_secs(5);
        let cap = Duration::from_secs(60);
        assert_eq!(
            backoff(1, base, cap, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            backoff(3, base, cap, Some(Duration::from_secs(1))),
            Duration::from_secs(20)
        );
    }
}
