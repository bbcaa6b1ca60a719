//! SQLite's WAL checkpoints, moved off the write path.
//!
//! By default the connection whose commit takes the WAL past 1,000 pages copies the WAL
//! back into the database file and syncs it, before its commit returns. With the
//! writes of a busy webhook intake that is one commit in a few hundred taking tens of
//! milliseconds longer (the sync), and every request waiting on that group commit with
//! it: the intake's p99. Here the connections never checkpoint on commit
//! (`wal_autocheckpoint = 0`, set with the other pragmas); a task of the store runs a
//! `PASSIVE` checkpoint once a second on a connection of its own instead, which copies
//! what no reader still needs and never blocks the writer or the readers.

use std::time::Duration;

use sqlx::AnyPool;
use tokio::task::JoinHandle;

/// How often the WAL is checkpointed. Between two checkpoints the WAL grows by what
/// was written in one interval, and readers look through that much more of it.
const INTERVAL: Duration = Duration::from_secs(1);

/// The store's checkpoint task; stopped when the last clone of the store is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer(JoinHandle<()>);

impl Checkpointer {
    /// Starts checkpointing the database `pool` is connected to.
    pub(crate) fn start(pool: AnyPool) -> Self {
        Self(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if pool.is_closed() {
                    break;
                }
                if let Err(error) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    if pool.is_closed() {
                        break;
                    }
                    tracing::warn!(%error, "SQLite WAL checkpoint failed; retrying in a second");
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
