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
        self.open(&stored).map(Some)
    }

    /// A value as stored: sealed, or base64 in the clear.
    fn stored(&self, value: &[u8], sealed: bool) -> Result<StoredState, StateError> {
        Ok(StoredState {
            value: if sealed {
                self.sealer
                    .seal_bytes(value)
                    .ok_or_else(|| unavailable("sealing failed"))?
            } else {
                STANDARD.encode(value)
            },
            sealed,
        })
    }

    /// The bytes of a stored value.
    fn open(&self, stored: &StoredState) -> Result<Vec<u8>, StateError> {
        if stored.sealed {
            self.sealer.open_bytes(&stored.value).map_err(unavailable)
        } else {
            STANDARD.decode(&stored.value).map_err(unavailable)
        }
    }

    async fn write(
        &self,
        scope: &StateScope,
        key: &str,
        value: Vec<u8>,
        sealed: bool,
        quota: usize,
    ) -> Result<(), StateError> {
        let size = stored_size(key, &value);
        let stored = self.stored(&value, sealed)?;
        let put = self
            .store
            .company(company(scope)?)
            .put_connector_state(
                account(scope),
                key,
                &stored,
                size,
                quota_bytes(quota),
                OffsetDateTime::now_utc(),
            )
            .await
            .map_err(unavailable)?;
        put_outcome(put, quota).map(drop)
    }

    #[allow(clippy::too_many_arguments)]
    async fn swap(
        &self,
        scope: &StateScope,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        sealed: bool,
        quota: usize,
    ) -> Result<bool, StateError> {
        let size = stored_size(key, &value);
        let stored = self.stored(&value, sealed)?;
        // A stored value that cannot be opened matches nothing; the write then fails
        // as a mismatch and the connector reads the key again.
        let matches = |current: Option<&StoredState>| match (current, &expected) {
            (None, None) => true,
            (Some(current), Some(expected)) => {
                self.open(current).is_ok_and(|bytes| &bytes == expected)
            }
            _ => false,
        };
        let put = self
            .store
            .company(company(scope)?)
            .swap_connector_state(
                account(scope),
                key,
                matches,
                &stored,
                size,
                quota_bytes(quota),
                OffsetDateTime::now_utc(),
            )
            .await
            .map_err(unavailable)?;
        put_outcome(put, quota)
    }
}

fn stored_size(key: &str, value: &[u8]) -> i64 {
    i64::try_from(key.len() + value.len()).unwrap_or(i64::MAX)
}

fn quota_bytes(quota: usize) -> i64 {
    i64::try_from(quota).unwrap_or(i64::MAX)
}

/// Whether the value was stored, or why not.
fn put_outcome(put: StatePut, quota: usize) -> Result<bool, StateError> {
    match put {
        StatePut::Stored => Ok(true),
        StatePut::Mismatch => Ok(false),
        StatePut::OverQuota => Err(StateError::QuotaExceeded(quota as u64)),
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

    fn compare_and_swap<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        sealed: bool,
        quota: usize,
    ) -> BoxFuture<'a, Result<bool, StateError>> {
        Box::pin(self.swap(scope, key, expected, value, sealed, quota))
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
