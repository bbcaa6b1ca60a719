//! Connector state: small values a connector keeps per account (OAuth tokens, cursors,
//! cached ids), here as the service hands them over (already sealed where asked).

use time::OffsetDateTime;

use crate::codec::{RowExt, time_text};
use crate::error::StoreResult;
use crate::scope::CompanyScope;

/// Which connector account a value belongs to, within the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateAccount<'a> {
    /// `shop-3`, `carrier-7`.
    pub account: &'a str,
    pub plugin_id: &'a str,
}

/// A stored value, as stored: base64 text or a sealed box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState {
    pub value: String,
    pub sealed: bool,
}

/// What writing a value did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatePut {
    Stored,
    /// The account's values would exceed the quota: nothing was written.
    OverQuota,
    /// A compare-and-swap found another value than the expected one: nothing was written.
    Mismatch,
}

impl CompanyScope<'_> {
    pub async fn connector_state(
        &self,
        owner: StateAccount<'_>,
        key: &str,
    ) -> StoreResult<Option<StoredState>> {
        let row = sqlx::query(
            "SELECT state_value, sealed FROM connector_state WHERE company_id = $1 \
             AND account = $2 AND plugin_id = $3 AND state_key = $4",
        )
        .bind(self.cid())
        .bind(owner.account)
        .bind(owner.plugin_id)
        .bind(key)
        .fetch_optional(self.store.reader())
        .await?;
        row.map(|row| {
            Ok(StoredState {
                value: row.text("state_value")?,
                sealed: row.flag("sealed")?,
            })
        })
        .transpose()
    }

    /// Stores `value` under `key` unless the account's other values and this one (as
    /// `size` bytes) would exceed `quota` bytes.
    pub async fn put_connector_state(
        &self,
        owner: StateAccount<'_>,
        key: &str,
        value: &StoredState,
        size: i64,
        quota: i64,
        at: OffsetDateTime,
    ) -> StoreResult<StatePut> {
        let mut tx = self.store.begin().await?;
        let others = used_by_others(&mut tx, self.cid(), owner, key).await?;
        if others + size > quota {
            return Ok(StatePut::OverQuota);
        }
        sqlx::query(
            "INSERT INTO connector_state (company_id, account, plugin_id, state_key, \
             state_value, sealed, size, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (company_id, account, plugin_id, state_key) DO UPDATE SET \
             state_value = excluded.state_value, sealed = excluded.sealed, \
             size = excluded.size, updated_at = excluded.updated_at",
        )
        .bind(self.cid())
        .bind(owner.account)
        .bind(owner.plugin_id)
        .bind(key)
        .bind(&value.value)
        .bind(i64::from(value.sealed))
        .bind(size)
        .bind(time_text(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(StatePut::Stored)
    }

    /// Stores `value` under `key` only if `matches` accepts the value stored there now
    /// (`None` when there is none), as one step: the row is locked (PostgreSQL) or the
    /// database's single writer is held (SQLite) from the read to the write, and of two
    /// first writes racing for an absent key only one inserts. `matches` compares what the
    /// caller can read (it opens sealed values).
    #[allow(clippy::too_many_arguments)]
    pub async fn swap_connector_state(
        &self,
        owner: StateAccount<'_>,
        key: &str,
        matches: impl FnOnce(Option<&StoredState>) -> bool,
        value: &StoredState,
        size: i64,
        quota: i64,
        at: OffsetDateTime,
    ) -> StoreResult<StatePut> {
        let mut tx = self.store.begin().await?;
        let current = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT state_value, sealed FROM connector_state WHERE company_id = $1 \
             AND account = $2 AND plugin_id = $3 AND state_key = $4{}",
            self.store.backend().for_update()
        )))
        .bind(self.cid())
        .bind(owner.account)
        .bind(owner.plugin_id)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| {
            Ok::<_, crate::error::StoreError>(StoredState {
                value: row.text("state_value")?,
                sealed: row.flag("sealed")?,
            })
        })
        .transpose()?;
        if !matches(current.as_ref()) {
            return Ok(StatePut::Mismatch);
        }
        let others = used_by_others(&mut tx, self.cid(), owner, key).await?;
        if others + size > quota {
            return Ok(StatePut::OverQuota);
        }
        let written = if current.is_some() {
            sqlx::query(
                "UPDATE connector_state SET state_value = $5, sealed = $6, size = $7, \
                 updated_at = $8 WHERE company_id = $1 AND account = $2 AND plugin_id = $3 \
                 AND state_key = $4",
            )
        } else {
            // Nothing to lock: a concurrent first write may insert first, and then this
            // one inserts nothing and has lost.
            sqlx::query(
                "INSERT INTO connector_state (company_id, account, plugin_id, state_key, \
                 state_value, sealed, size, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (company_id, account, plugin_id, state_key) DO NOTHING",
            )
        }
        .bind(self.cid())
        .bind(owner.account)
        .bind(owner.plugin_id)
        .bind(key)
        .bind(&value.value)
        .bind(i64::from(value.sealed))
        .bind(size)
        .bind(time_text(at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 0 {
            return Ok(StatePut::Mismatch);
        }
        tx.commit().await?;
        Ok(StatePut::Stored)
    }

    pub async fn delete_connector_state(
        &self,
        owner: StateAccount<'_>,
        key: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM connector_state WHERE company_id = $1 AND account = $2 \
             AND plugin_id = $3 AND state_key = $4",
        )
        .bind(self.cid())
        .bind(owner.account)
        .bind(owner.plugin_id)
        .bind(key)
        .execute(self.store.writer())
        .await?;
        Ok(())
    }
}

/// Bytes the account's values other than `key` take: what the quota counts besides it.
async fn used_by_others(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    company: i64,
    owner: StateAccount<'_>,
    key: &str,
) -> StoreResult<i64> {
    sqlx::query(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS used FROM connector_state \
         WHERE company_id = $1 \
         AND account = $2 AND plugin_id = $3 AND state_key <> $4",
    )
    .bind(company)
    .bind(owner.account)
    .bind(owner.plugin_id)
    .bind(key)
    .fetch_one(&mut **tx)
    .await?
    .int("used")
}
