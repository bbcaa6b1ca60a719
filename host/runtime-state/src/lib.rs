//! The `state` import: a small key-value store per connector account, kept by the host.
//!
//! The runtime checks keys and sizes and hands the rest to a [`StateStore`]; the service
//! keeps values in its database (sealing the ones a connector marks sealed), tests and
//! embedded uses can take [`MemoryStateStore`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

/// The largest value kept under one key.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The most one account may keep, all keys together.
pub const MAX_ACCOUNT_BYTES: usize = 256 * 1024;
/// The longest key.
pub const MAX_KEY_BYTES: usize = 200;

/// Whose state a call reads and writes: one connector account of one company.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateScope {
    /// The tenant (the service's company id).
    pub owner: String,
    /// The account within it (`shop-3`, `carrier-7`).
    pub account: String,
    /// The plugin: a shop switched to another connector does not read the old one's state.
    pub plugin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the value is larger than {0} bytes")]
    ValueTooLarge(u64),
    #[error("the account would keep more than {0} bytes")]
    QuotaExceeded(u64),
    #[error("bad key: {0}")]
    InvalidKey(String),
    #[error("connector state is unavailable: {0}")]
    Unavailable(String),
}

/// Where the host keeps connector state.
pub trait StateStore: Send + Sync + 'static {
    fn get<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StateError>>;

    /// Stores `value` unless the scope's other values and it together exceed `quota`
    /// bytes ([`StateError::QuotaExceeded`]).
    fn set<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
        value: Vec<u8>,
        sealed: bool,
        quota: usize,
    ) -> BoxFuture<'a, Result<(), StateError>>;

    fn delete<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
    ) -> BoxFuture<'a, Result<(), StateError>>;

    /// Stores `value` only if the value under `key` is `expected` now (`None`: nothing is
    /// stored there), atomically with respect to every other write to the key, and within
    /// `quota` like [`StateStore::set`]. `Ok(false)`: another value was there; nothing
    /// was written.
    #[allow(clippy::too_many_arguments)]
    fn compare_and_swap<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        sealed: bool,
        quota: usize,
    ) -> BoxFuture<'a, Result<bool, StateError>>;
}

/// Checks a key: 1 to [`MAX_KEY_BYTES`] bytes of printable ASCII.
pub fn check_key(key: &str) -> Result<(), StateError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(StateError::InvalidKey(format!(
            "a key is 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(StateError::InvalidKey(
            "a key is printable ASCII without spaces".into(),
        ));
    }
    Ok(())
}

/// State in memory: lost when the process ends. For tests and embedded runtimes.
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    values: Mutex<HashMap<StateScope, BTreeMap<String, Vec<u8>>>>,
}

impl MemoryStateStore {
    fn with<R>(
        &self,
        action: impl FnOnce(&mut HashMap<StateScope, BTreeMap<String, Vec<u8>>>) -> R,
    ) -> R {
        let mut values = match self.values.lock() {
            Ok(values) => values,
            Err(poisoned) => poisoned.into_inner(),
        };
        action(&mut values)
    }
}

impl StateStore for MemoryStateStore {
    fn get<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Vec<u8>>, StateError>> {
        let value = self.with(|values| values.get(scope).and_then(|keys| keys.get(key)).cloned());
        Box::pin(async move { Ok(value) })
    }

    fn set<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
        value: Vec<u8>,
        _sealed: bool,
        quota: usize,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        let outcome = self.with(|values| {
            let keys = values.entry(scope.clone()).or_default();
            if quota_used_by_others(keys, key) + key.len() + value.len() > quota {
                return Err(StateError::QuotaExceeded(quota as u64));
            }
            keys.insert(key.to_owned(), value);
            Ok(())
        });
        Box::pin(async move { outcome })
    }

    fn delete<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        self.with(|values| {
            if let Some(keys) = values.get_mut(scope) {
                keys.remove(key);
            }
        });
        Box::pin(async { Ok(()) })
    }

    fn compare_and_swap<'a>(
        &'a self,
        scope: &'a StateScope,
        key: &'a str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        _sealed: bool,
        quota: usize,
    ) -> BoxFuture<'a, Result<bool, StateError>> {
        let outcome = self.with(|values| {
            let keys = values.entry(scope.clone()).or_default();
            if keys.get(key) != expected.as_ref() {
                return Ok(false);
            }
            if quota_used_by_others(keys, key) + key.len() + value.len() > quota {
                return Err(StateError::QuotaExceeded(quota as u64));
            }
            keys.insert(key.to_owned(), value);
            Ok(true)
        });
        Box::pin(async move { outcome })
    }
}

/// Bytes the scope's values other than `key` take, keys counted.
fn quota_used_by_others(keys: &BTreeMap<String, Vec<u8>>, key: &str) -> usize {
    keys.iter()
        .filter(|(name, _)| name.as_str() != key)
        .map(|(name, value)| name.len() + value.len())
        .sum()
}

/// One call's access to its account's state: the checks of the import (key, value size,
/// the account's quota) before the store is asked. Without an account (a call made for no
/// shop or carrier, such as loading a plugin) every operation is `unavailable`.
#[derive(Clone, Default)]
pub struct AccountState {
    account: Option<(Arc<dyn StateStore>, StateScope)>,
}

impl std::fmt::Debug for AccountState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountState")
            .field("scope", &self.account.as_ref().map(|(_, scope)| scope))
            .finish()
    }
}

impl AccountState {
    /// State of `scope`, kept in `store`.
    pub fn new(store: Arc<dyn StateStore>, scope: StateScope) -> Self {
        Self {
            account: Some((store, scope)),
        }
    }

    /// No account: every operation answers `unavailable`.
    pub fn none() -> Self {
        Self::default()
    }

    fn account(&self) -> Result<&(Arc<dyn StateStore>, StateScope), StateError> {
        self.account
            .as_ref()
            .ok_or_else(|| StateError::Unavailable("this call is not made for an account".into()))
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        check_key(key)?;
        let (store, scope) = self.account()?;
        store.get(scope, key).await
    }

    pub async fn set(&self, key: &str, value: Vec<u8>, sealed: bool) -> Result<(), StateError> {
        check_key(key)?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(StateError::ValueTooLarge(MAX_VALUE_BYTES as u64));
        }
        let (store, scope) = self.account()?;
        store
            .set(scope, key, value, sealed, MAX_ACCOUNT_BYTES)
            .await
    }

    pub async fn delete(&self, key: &str) -> Result<(), StateError> {
        check_key(key)?;
        let (store, scope) = self.account()?;
        store.delete(scope, key).await
    }

    pub async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        sealed: bool,
    ) -> Result<bool, StateError> {
        check_key(key)?;
        if value.len() > MAX_VALUE_BYTES {
            return Err(StateError::ValueTooLarge(MAX_VALUE_BYTES as u64));
        }
        let (store, scope) = self.account()?;
        store
            .compare_and_swap(scope, key, expected, value, sealed, MAX_ACCOUNT_BYTES)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(account: &str) -> StateScope {
        StateScope {
            owner: "1".into(),
            account: account.into(),
            plugin: "p".into(),
        }
    }

    #[tokio::test]
    async fn accounts_do_not_see_each_other_and_the_quota_counts_all_keys() {
        let store = MemoryStateStore::default();
        store
            .set(&scope("a"), "token", b"one".to_vec(), true, 20)
            .await
            .unwrap();
        assert_eq!(store.get(&scope("b"), "token").await.unwrap(), None);
        assert_eq!(
            store.get(&scope("a"), "token").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        // Replacing a value counts it once.
        store
            .set(&scope("a"), "token", b"two".to_vec(), true, 20)
            .await
            .unwrap();
        let refused = store
            .set(&scope("a"), "cursor", vec![0; 10], false, 20)
            .await;
        assert_eq!(refused, Err(StateError::QuotaExceeded(20)));
        store.delete(&scope("a"), "token").await.unwrap();
        store
            .set(&scope("a"), "cursor", vec![0; 10], false, 20)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_swap_stores_only_over_the_expected_value_and_within_the_quota() {
        let store = MemoryStateStore::default();
        let a = scope("a");
        let swap = |expected: Option<&[u8]>, value: &[u8], quota| {
            store.compare_and_swap(
                &a,
                "n",
                expected.map(<[u8]>::to_vec),
                value.to_vec(),
                false,
                quota,
            )
        };
        assert_eq!(swap(Some(b"0"), b"1", 100).await, Ok(false));
        assert_eq!(swap(None, b"1", 100).await, Ok(true));
        assert_eq!(swap(None, b"2", 100).await, Ok(false));
        assert_eq!(swap(Some(b"1"), b"2", 100).await, Ok(true));
        assert_eq!(
            swap(Some(b"2"), &[0; 200], 100).await,
            Err(StateError::QuotaExceeded(100))
        );
        assert_eq!(
            store.get(&a, "n").await.unwrap().as_deref(),
            Some(&b"2"[..])
        );
    }

    #[test]
    fn keys_are_short_printable_ascii() {
        assert!(check_key("oauth.refresh_token").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("with space").is_err());
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES + 1)).is_err());
    }
}
