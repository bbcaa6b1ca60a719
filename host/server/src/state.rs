//! What every handler and worker shares.

use std::path::PathBuf;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;
use tovor_runtime::Runtime;
use tovor_store::Store;

use crate::accounts::SignInLimiter;
use crate::connectors::ShopCache;
use crate::intake::{IntakeSender, UnknownKeyLimiter};
use crate::secrets::Sealer;
use crate::{ServerConfig, WorkerOptions};

/// Wakes a worker when this process queued work for it (other processes' work is
/// found by polling).
#[derive(Debug, Default)]
pub struct Wakers {
    pub inbox: Notify,
    pub sync: Notify,
    pub push: Notify,
    pub shipping: Notify,
    pub mail: Notify,
}

pub struct AppState {
    pub store: Store,
    pub runtime: Runtime,
    pub sealer: Sealer,
    pub admin_token: String,
    pub public_url: String,
    pub plugins_dir: PathBuf,
    pub max_body_bytes: usize,
    pub workers: WorkerOptions,
    pub intake: IntakeSender,
    pub wake: Wakers,
    pub shops: ShopCache,
    pub unknown_keys: UnknownKeyLimiter,
    pub sign_ins: SignInLimiter,
    pub metrics: PrometheusHandle,
}

impl AppState {
    pub(crate) fn new(config: ServerConfig, intake: IntakeSender) -> Self {
        Self {
            store: config.store,
            runtime: config.runtime,
            sealer: config.sealer,
            admin_token: config.admin_token,
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            plugins_dir: config.plugins_dir,
            max_body_bytes: config.max_body_bytes,
            workers: config.workers,
            intake,
            wake: Wakers::default(),
            shops: ShopCache::default(),
            unknown_keys: UnknownKeyLimiter::default(),
            sign_ins: SignInLimiter::default(),
            metrics: crate::metrics::install(),
        }
    }

    pub fn webhook_url(&self, key: &str) -> String {
        format!("{}/hooks/{key}", self.public_url)
    }
}
