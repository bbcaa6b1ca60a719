//! A shop's connector, ready to call: its plugin with the shop's config (plain fields
//! and opened secrets).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tovor_domain::{CompanyId, ShopId};
use tovor_runtime::{CallContext, Lane, ShopClient};
use tovor_store::shops::{Shop, ShopSettings};
use tovor_store::{Store, StoreError};

use crate::error::ServiceError;
use crate::state::AppState;

/// The shop's full connector config: plain fields and opened secrets.
pub fn shop_config(
    state: &AppState,
    shop: &Shop,
) -> Result<BTreeMap<String, String>, ServiceError> {
    settings_config(state, &shop.settings)
}

/// The full connector config of `settings` (a shop's, or as a shop would be saved).
pub fn settings_config(
    state: &AppState,
    settings: &ShopSettings,
) -> Result<BTreeMap<String, String>, ServiceError> {
    let mut config = settings.config.clone();
    config.extend(state.sealer.open(settings.sealed_secrets.as_deref())?);
    Ok(config)
}

/// How calls for `shop` are made: its account label and its connector state.
pub fn shop_context(shop: &Shop, config: BTreeMap<String, String>) -> CallContext {
    let account = format!("shop-{}", shop.id);
    CallContext::new(account.clone(), config).with_state(shop.company.0.to_string(), account)
}

/// A client of the shop's connector, for background work.
pub fn shop_client(state: &AppState, shop: &Shop) -> Result<ShopClient, ServiceError> {
    shop_client_in(state, shop, Lane::Background)
}

/// A client of the shop's connector whose calls wait for instance slots in `lane`.
pub fn shop_client_in(
    state: &AppState,
    shop: &Shop,
    lane: Lane,
) -> Result<ShopClient, ServiceError> {
    if shop.settings.is_custom() {
        return Err(ServiceError::Invalid(
            "a custom-platform shop has no connector".into(),
        ));
    }
    let context = shop_context(shop, shop_config(state, shop)?).in_lane(lane);
    Ok(state.runtime.shop(&shop.settings.plugin_id, context)?)
}

/// Whether the shop's connector takes webhooks from its platform.
pub fn sends_webhooks(state: &AppState, shop: &Shop) -> bool {
    state
        .runtime
        .plugin(&shop.settings.plugin_id)
        .is_some_and(|plugin| plugin.can(tovor_runtime::Capability::Webhooks))
}

/// What the intake needs to verify a delivery, by webhook key.
pub struct IntakeShop {
    pub company: CompanyId,
    pub shop: ShopId,
    pub plugin_id: String,
    pub client: Option<ShopClient>,
}

/// Webhook keys resolved recently, so the hot intake path does not read the shop and
/// open its secrets on every delivery. Entries live a few seconds: a shop changed by
/// another process is seen soon, one changed by this process at once.
#[derive(Default)]
pub struct ShopCache {
    entries: RwLock<HashMap<String, (Instant, Arc<IntakeShop>)>>,
    keys: KeyTable,
}

const CACHE_TTL: Duration = Duration::from_secs(10);

impl ShopCache {
    pub fn get(&self, key: &str) -> Option<Arc<IntakeShop>> {
        let entries = self.entries.read().ok()?;
        let (at, shop) = entries.get(key)?;
        (at.elapsed() < CACHE_TTL).then(|| shop.clone())
    }

    pub fn put(&self, key: &str, shop: Arc<IntakeShop>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 10_000 {
                entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(key.to_owned(), (Instant::now(), shop));
        }
    }

    /// Forgets everything (a shop or plugin changed).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
        self.keys.forget();
    }

    /// Whether `key` may be a shop's webhook key: false only when the key table, read at
    /// most [`KEY_TABLE_TTL`] ago, lacks it. A flood of made-up keys costs a set lookup
    /// each, not a database query; a shop added by another process is reachable once the
    /// table is read again (one added by this process at once: adding clears the cache).
    pub async fn may_be_webhook_key(&self, store: &Store, key: &str) -> Result<bool, StoreError> {
        if let Some(known) = self.keys.lookup(key) {
            return Ok(known);
        }
        let _reading = self.keys.reading.lock().await;
        // Another request may have read the table while this one waited.
        if let Some(known) = self.keys.lookup(key) {
            return Ok(known);
        }
        let keys = store.webhook_keys().await?;
        let known = keys.contains(key);
        if let Ok(mut table) = self.keys.table.write() {
            *table = Some((Instant::now(), keys));
        }
        Ok(known)
    }
}

/// The table of every shop's webhook key, read from the database now and then.
#[derive(Default)]
struct KeyTable {
    table: RwLock<Option<(Instant, HashSet<String>)>>,
    /// One reader of the database at a time; the others wait for its result.
    reading: tokio::sync::Mutex<()>,
}

const KEY_TABLE_TTL: Duration = Duration::from_secs(5);

impl KeyTable {
    fn lookup(&self, key: &str) -> Option<bool> {
        let table = self.table.read().ok()?;
        let (read_at, keys) = table.as_ref()?;
        (read_at.elapsed() < KEY_TABLE_TTL).then(|| keys.contains(key))
    }

    fn forget(&self) {
        if let Ok(mut table) = self.table.write() {
            *table = None;
        }
    }
}
