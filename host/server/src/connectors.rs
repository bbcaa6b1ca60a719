//! A shop's connector, ready to call: its plugin with the shop's config (plain fields
//! and opened secrets).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tovor_domain::{CompanyId, ShopId};
use tovor_runtime::{CallContext, ShopClient};
use tovor_store::shops::Shop;

use crate::error::ServiceError;
use crate::state::AppState;

/// The shop's full connector config: plain fields and opened secrets.
pub fn shop_config(
    state: &AppState,
    shop: &Shop,
) -> Result<BTreeMap<String, String>, ServiceError> {
    let mut config = shop.settings.config.clone();
    config.extend(state.sealer.open(shop.settings.sealed_secrets.as_deref())?);
    Ok(config)
}

/// A client of the shop's connector.
pub fn shop_client(state: &AppState, shop: &Shop) -> Result<ShopClient, ServiceError> {
    if shop.settings.is_custom() {
        return Err(ServiceError::Invalid(
            "a custom-platform shop has no connector".into(),
        ));
    }
    let context = CallContext::new(format!("shop-{}", shop.id), shop_config(state, shop)?);
    Ok(state.runtime.shop(&shop.settings.plugin_id, context)?)
}

/// Whether the shop's plugin declares that its platform sends webhooks.
pub fn sends_webhooks(state: &AppState, shop: &Shop) -> bool {
    state
        .runtime
        .plugin(&shop.settings.plugin_id)
        .is_some_and(|plugin| {
            plugin
                .manifest
                .capabilities()
                .iter()
                .any(|c| c == "webhooks")
        })
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
    }
}
