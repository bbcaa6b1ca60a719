//! The running tovor service.
//!
//! [`Server::start`] wires the store, the connector runtime and the secret sealer into
//! the HTTP API ([`api`]), the webhook intake ([`intake`]) and the background workers
//! ([`workers`]): the inbox processor, the sync scheduler, the stock pusher and the
//! shipping worker ([`shipping`]: settling lost create answers, tracking, telling shops). Every
//! piece of background work is a database row claimed with a lease, so any number of
//! processes can share one PostgreSQL and a process killed mid-way loses nothing.

pub mod accounts;
pub mod api;
pub mod connector_state;
mod connectors;
pub mod convert;
mod error;
pub mod handover;
pub mod ingest;
pub mod intake;
pub mod linking;
pub mod mailing;
pub mod metrics;
pub mod printing;
pub mod secrets;
pub mod shipping;
mod shop_setup;
mod state;
pub mod workers;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tovor_runtime::Runtime;
use tovor_store::Store;

pub use error::ServiceError;
pub use secrets::Sealer;
pub use state::AppState;

/// How the background workers behave.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Run the workers at all (an API-only process sets false).
    pub enabled: bool,
    /// This process's name in leases: unique among the processes sharing a database,
    /// and the same after a restart, so a restarted process takes its work back at once.
    pub node: String,
    /// How long a claimed row stays ours without being finished.
    pub lease: Duration,
    /// How long an idle worker sleeps before looking for due work again (it is also
    /// woken whenever this process queues work).
    pub idle_poll: Duration,
    /// Deliveries claimed at once.
    pub inbox_batch: u32,
    /// Attempts before a delivery is kept as failed.
    pub max_attempts: u32,
    /// First retry delay; doubled per attempt up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Orders changed this long before the last sync's start are asked for again, so
    /// orders saved while the last sync ran (or with a skewed clock) are not missed.
    pub sync_overlap: Duration,
    /// Shops that send webhooks are reconciled this often.
    pub reconcile_every: Duration,
    /// Stock pushes claimed (and sent per shop) at once.
    pub push_batch: u32,
    /// How long a shipment being created stays with the process creating it: longer
    /// than any carrier call may take, so a slow call is never taken for a dead one.
    pub create_lease: Duration,
    /// How long after a lost create answer the carrier is first asked by reference
    /// (doubled for each look-up that finds nothing).
    pub settle_delay: Duration,
    /// Between two looks at a parcel on its way.
    pub track_every: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            node: format!("{}-{}", hostname(), std::process::id()),
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_secs(2),
            inbox_batch: 64,
            max_attempts: 8,
            backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            sync_overlap: Duration::from_secs(600),
            reconcile_every: Duration::from_secs(24 * 3600),
            push_batch: 100,
            create_lease: Duration::from_secs(600),
            settle_delay: Duration::from_secs(60),
            track_every: Duration::from_secs(30 * 60),
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "tovor".to_owned())
}

/// Everything the service needs, opened by the caller.
pub struct ServerConfig {
    pub store: Store,
    pub runtime: Runtime,
    pub sealer: Sealer,
    pub admin_token: String,
    /// Where shops reach this service (`https://tovor.example.com`): webhook URLs are
    /// built from it.
    pub public_url: String,
    /// Where `POST /api/v1/plugins` installs plugins.
    pub plugins_dir: PathBuf,
    /// Largest request body accepted (webhooks, API).
    pub max_body_bytes: usize,
    pub workers: WorkerOptions,
}

/// A started service: its router and its background tasks.
pub struct Server {
    state: Arc<AppState>,
    tasks: TaskTracker,
    stop: CancellationToken,
}

impl Server {
    /// Starts the intake writer and (when enabled) the workers.
    pub fn start(config: ServerConfig) -> Self {
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let (intake, writer) = intake::channel(config.store.clone());
        // Connectors keep their state in the service's database, sealed with its key.
        config
            .runtime
            .set_state_store(Arc::new(connector_state::DbStateStore {
                store: config.store.clone(),
                sealer: config.sealer.clone(),
            }));
        let state = Arc::new(AppState::new(config, intake));
        tasks.spawn(writer.run(state.clone()));
        if state.workers.enabled {
            workers::spawn(&tasks, state.clone(), stop.clone());
        }
        Self { state, tasks, stop }
    }

    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// The router as a service that knows each request's client address (the intake
    /// limits unknown webhook keys per address): what `axum::serve` should be given.
    pub fn make_service(
        &self,
    ) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<
        axum::Router,
        std::net::SocketAddr,
    > {
        self.router()
            .into_make_service_with_connect_info::<std::net::SocketAddr>()
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops the workers after the work in hand, flushes the intake, and waits.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.state.intake.close();
        self.tasks.close();
        self.tasks.wait().await;
    }
}
