//! Companies and their API tokens.
//!
//! A token is shown once, when it is made; the store keeps only its SHA-256. Tokens
//! are 256 random bits, so a fast hash is enough: there is nothing to brute-force.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;
use time::OffsetDateTime;
use tovor_domain::CompanyId;

use crate::codec::{RowExt, time_text};
use crate::db::Store;
use crate::error::{StoreError, StoreResult};

/// What every token starts with, so leaked tokens are recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "tovor_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub created_at: OffsetDateTime,
}

/// A token as listed: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token just made: `secret` is shown to the user once and never again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub id: i64,
    pub secret: String,
}

fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    pub async fn create_company(&self, name: &str, at: OffsetDateTime) -> StoreResult<CompanyId> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a company needs a name".into()));
        }
        let mut tx = self.begin().await?;
        let id: i64 =
            sqlx::query("INSERT INTO companies (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(time_text(at))
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
        tx.commit().await?;
        Ok(CompanyId(id))
    }

    pub async fn companies(&self) -> StoreResult<Vec<Company>> {
        sqlx::query("SELECT id, name, created_at FROM companies ORDER BY id")
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|row| {
                Ok(Company {
                    id: CompanyId(row.int("id")?),
                    name: row.text("name")?,
                    created_at: row.time("created_at")?,
                })
            })
            .collect()
    }

    /// Makes an API token for `company`; the returned secret is the only copy.
    pub async fn create_api_token(
        &self,
        company: CompanyId,
        name: &str,
        at: OffsetDateTime,
    ) -> StoreResult<NewApiToken> {
        let mut random = [0_u8; 32];
        rand::rng().fill_bytes(&mut random);
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(random));
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let mut tx = self.begin().await?;
        let exists = sqlx::query("SELECT id FROM companies WHERE id = $1")
            .bind(company.0)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found("company", company));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (company_id, name, token_prefix, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(company.0)
        .bind(name.trim())
        .bind(&prefix)
        .bind(token_hash(&secret))
        .bind(time_text(at))
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        tx.commit().await?;
        Ok(NewApiToken { id, secret })
    }

    /// The company a presented token belongs to; `None` for unknown or revoked tokens.
    pub async fn authenticate(&self, secret: &str) -> StoreResult<Option<CompanyId>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT company_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash(secret))
        .fetch_optional(self.reader())
        .await?;
        row.map(|row| row.int("company_id").map(CompanyId))
            .transpose()
    }

    pub async fn api_tokens(&self, company: CompanyId) -> StoreResult<Vec<ApiToken>> {
        sqlx::query(
            "SELECT id, name, token_prefix, created_at, revoked_at FROM api_tokens \
             WHERE company_id = $1 ORDER BY id",
        )
        .bind(company.0)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|row| {
            Ok(ApiToken {
                id: row.int("id")?,
                name: row.text("name")?,
                prefix: row.text("token_prefix")?,
                created_at: row.time("created_at")?,
                revoked_at: row.opt_time("revoked_at")?,
            })
        })
        .collect()
    }

    /// One company; `None` when there is none with that id.
    pub async fn find_company(&self, company: CompanyId) -> StoreResult<Option<Company>> {
        sqlx::query("SELECT id, name, created_at FROM companies WHERE id = $1")
            .bind(company.0)
            .fetch_optional(self.reader())
            .await?
            .map(|row| {
                Ok(Company {
                    id: CompanyId(row.int("id")?),
                    name: row.text("name")?,
                    created_at: row.time("created_at")?,
                })
            })
            .transpose()
    }

    /// Revokes a token of `company`: from this moment it authenticates nothing (tokens
    /// are checked against the database on every request, in every process). Revoking
    /// a revoked token changes nothing; the token as it now stands is returned.
    pub async fn revoke_api_token(
        &self,
        company: CompanyId,
        token: i64,
        at: OffsetDateTime,
    ) -> StoreResult<ApiToken> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $3 \
             WHERE company_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(company.0)
        .bind(token)
        .bind(time_text(at))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "SELECT id, name, token_prefix, created_at, revoked_at FROM api_tokens \
             WHERE company_id = $1 AND id = $2",
        )
        .bind(company.0)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("API token", token))?;
        let revoked = ApiToken {
            id: row.int("id")?,
            name: row.text("name")?,
            prefix: row.text("token_prefix")?,
            created_at: row.time("created_at")?,
            revoked_at: row.opt_time("revoked_at")?,
        };
        tx.commit().await?;
        Ok(revoked)
    }
}
