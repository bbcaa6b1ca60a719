//! Where the service keeps connectors' `state`: the database, per company, account and
//! plugin; values a connector marks sealed are encrypted with the service's secret key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::future::BoxFuture;
use time::OffsetDateTime;
use tovor_domain::CompanyId;
use tovor_runtime::connector_state::{StateError, StateScope, StateStore};
use tovor_store::Store;
use tovor_store::connector_state::{StateAccount, StatePut, StoredState};

use crate::secrets::Sealer;

pub struct DbStateStore {
    pub store: Store,
    pub sealer: Sealer,
}

fn company(scope: &StateScope) -> Result<CompanyId, StateError> {
    scope
        .owner
        .parse()
        .map(CompanyId)
        .map_err(|_| StateError::Unavailable(format!("no company {:?}", scope.owner)))
}

fn account(scope: &StateScope) -> StateAccount<'_> {
    StateAccount {
        account: &scope.account,
        plugin_id: &scope.plugin,
    }
}

fn unavailable(error: impl std::fmt::Display) -> StateError {
    // The database's own words stay in the log; the connector hears that it may retry.
    tracing::warn!(%error, "connector state unavailable");
    StateError::Unavailable("the host's database is unavailable".into())
}

impl DbStateStore {
    async fn read(&self, scope: &StateScope, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let stored = self
            .store
            .company(company(scope)?)
            .connector_state(account(scope), key)
            .await
            .map_err(unavailable)?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let value = if stored.sealed {
            self.sealer.open_bytes(&stored.value).map_err(unavailable)?
        } else {
            STANDARD.decode(&stored.value).map_err(unavailable)?
        };
        Ok(Some(value))
    }

    async fn write(
        &self,
        scope: &StateScope,
        key: &str,
        value: Vec<u8>,
        sealed: bool,
        quota: usize,
    ) -> Result<(), StateError> {
        let size = i64::try_from(key.len() + value.len()).unwrap_or(i64::MAX);
        let stored = StoredState {
            value: if sealed {
                self.sealer
                    .seal_bytes(&value)
                    .ok_or_else(|| unavailable("sealing failed"))?
            } else {
                STANDARD.encode(&value)
            },
            sealed,
        };
        let quota_bytes = i64::try_from(quota).unwrap_or(i64::MAX);
        let put = self
            .store
            .company(company(scope)?)
            .put_connector_state(
                account(scope),
                key,
                &stored,
                size,
                quota_bytes,
                OffsetDateTime::now_utc(),
            )
            .await
            .map_err(unavailable)?;
        match put {
            StatePut::Stored => Ok(()),
            StatePut::OverQuota => Err(StateError::QuotaExceeded(quota as u64)),
        }
    }
}

impl StateStore for DbStateStore {
    fn get<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StateError>> {
        Box::pin(self.read(scope, key))
    }

    fn set<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
        value: Vec<u8>,
        sealed: bool,
        quota: usize,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(self.write(scope, key, value, sealed, quota))
    }

    fn delete<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            self.store
                .company(company(scope)?)
                .delete_connector_state(account(scope), key)
                .await
                .map_err(unavailable)
        })
    }
}
