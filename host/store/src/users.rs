//! People who sign in to the web admin, the companies they work in, and their
//! signed-in sessions.
//!
//! The store keeps password hashes as the service hands them over (argon2id PHC
//! strings) and never sees a password. A session's cookie secret is 256 random bits,
//! kept only as its SHA-256, like API tokens.

use sqlx::Row;
use time::OffsetDateTime;
use tovor_domain::access::Role;
use tovor_domain::company::DocumentLanguage;
use tovor_domain::{CompanyId, UserId};

use crate::catalog::conflict;
use crate::codec::{RowExt, flag, time_text};
use crate::db::Store;
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Lower case; what the person signs in with.
    pub email: String,
    pub name: String,
    /// The language of the admin's pages for this person.
    pub language: DocumentLanguage,
    /// The operator manages companies and plugins.
    pub operator: bool,
    pub created_at: OffsetDateTime,
    pub disabled_at: Option<OffsetDateTime>,
}

/// A person as sign-in needs them: with the stored password hash.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Already normalized (`tovor_domain::access::normalize_email`).
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub language: DocumentLanguage,
    pub operator: bool,
}

/// A company a person works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub company: CompanyId,
    pub company_name: String,
    pub role: Role,
}

/// A person of a company, as its people are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: User,
    pub role: Role,
}

/// A signed-in browser, found by its cookie.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: OffsetDateTime,
}

const USER_COLUMNS: &str = "users.id, users.email, users.name, users.language, users.operator, users.created_at, \
     users.disabled_at";

fn read_user(row: &sqlx::any::AnyRow) -> StoreResult<User> {
    let language = row.text("language")?;
    Ok(User {
        id: UserId(row.int("id")?),
        email: row.text("email")?,
        name: row.text("name")?,
        language: language
            .parse()
            .map_err(|_| StoreError::corrupt("users.language", &language))?,
        operator: row.flag("operator")?,
        created_at: row.time("created_at")?,
        disabled_at: row.opt_time("disabled_at")?,
    })
}

fn read_role(row: &sqlx::any::AnyRow) -> StoreResult<Role> {
    let role = row.text("role")?;
    role.parse()
        .map_err(|_| StoreError::corrupt("memberships.role", &role))
}

impl Store {
    /// Adds a person. An address already taken is a [`StoreError::Conflict`].
    pub async fn create_user(&self, user: NewUser<'_>, at: OffsetDateTime) -> StoreResult<UserId> {
        let name = user.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a person needs a name".into()));
        }
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO users (email, name, password_hash, language, operator, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user.email)
        .bind(name)
        .bind(user.password_hash)
        .bind(user.language.as_str())
        .bind(flag(user.operator))
        .bind(time_text(at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| conflict(error, format!("someone already signs in as {}", user.email)))?
        .try_get("id")?;
        tx.commit().await?;
        Ok(UserId(id))
    }

    /// Whether anyone can sign in yet (the first person is made with the admin token).
    pub async fn has_users(&self) -> StoreResult<bool> {
        Ok(sqlx::query("SELECT id FROM users LIMIT 1")
            .fetch_optional(self.reader())
            .await?
            .is_some())
    }

    pub async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(self.reader())
        .await?
        .as_ref()
        .map(read_user)
        .transpose()
    }

    /// The person who signs in as `email` (already normalized), with their hash.
    pub async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, users.password_hash FROM users WHERE email = $1"
        )))
        .bind(email)
        .fetch_optional(self.reader())
        .await?
        .map(|row| {
            Ok(UserCredentials {
                user: read_user(&row)?,
                password_hash: row.text("password_hash")?,
            })
        })
        .transpose()
    }

    /// Everyone, for the operator.
    pub async fn users(&self) -> StoreResult<Vec<User>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY email"
        )))
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(read_user)
        .collect()
    }

    /// Sets a new password hash and signs the person out everywhere.
    pub async fn set_password_hash(&self, user: UserId, password_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user.0)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::not_found("user", user));
        }
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_user_language(
        &self,
        user: UserId,
        language: DocumentLanguage,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE users SET language = $2 WHERE id = $1")
            .bind(user.0)
            .bind(language.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables (or enables again) a person: a disabled person cannot sign in, and is
    /// signed out everywhere at once.
    pub async fn set_user_disabled(
        &self,
        user: UserId,
        disabled: bool,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let disabled_at = disabled.then(|| time_text(at));
        let changed = sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
            .bind(user.0)
            .bind(disabled_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::not_found("user", user));
        }
        if disabled {
            sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives `user` `role` in `company`, replacing the role they had there.
    pub async fn set_membership(
        &self,
        user: UserId,
        company: CompanyId,
        role: Role,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if sqlx::query("SELECT id FROM companies WHERE id = $1")
            .bind(company.0)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(StoreError::not_found("company", company));
        }
        if sqlx::query("SELECT id FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await?
            .is_none()
        {
            return Err(StoreError::not_found("user", user));
        }
        let updated =
            sqlx::query("UPDATE memberships SET role = $3 WHERE user_id = $1 AND company_id = $2")
                .bind(user.0)
                .bind(company.0)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if updated == 0 {
            sqlx::query(
                "INSERT INTO memberships (user_id, company_id, role, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(user.0)
            .bind(company.0)
            .bind(role.as_str())
            .bind(time_text(at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes `user` out of `company`. Nothing happens when they were not in it.
    pub async fn remove_membership(&self, user: UserId, company: CompanyId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND company_id = $2")
            .bind(user.0)
            .bind(company.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The companies `user` works in, by name.
    pub async fn memberships(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        sqlx::query(
            "SELECT memberships.company_id, companies.name, memberships.role \
             FROM memberships JOIN companies ON companies.id = memberships.company_id \
             WHERE memberships.user_id = $1 ORDER BY companies.name, companies.id",
        )
        .bind(user.0)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|row| {
            Ok(Membership {
                company: CompanyId(row.int("company_id")?),
                company_name: row.text("name")?,
                role: read_role(row)?,
            })
        })
        .collect()
    }

    /// `user`'s role in `company`; `None` when they do not work there.
    pub async fn role_in(&self, user: UserId, company: CompanyId) -> StoreResult<Option<Role>> {
        sqlx::query("SELECT role FROM memberships WHERE user_id = $1 AND company_id = $2")
            .bind(user.0)
            .bind(company.0)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(read_role)
            .transpose()
    }

    /// The people of `company`, by e-mail.
    pub async fn members(&self, company: CompanyId) -> StoreResult<Vec<Member>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, memberships.role FROM memberships \
             JOIN users ON users.id = memberships.user_id \
             WHERE memberships.company_id = $1 ORDER BY users.email"
        )))
        .bind(company.0)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|row| {
            Ok(Member {
                user: read_user(row)?,
                role: read_role(row)?,
            })
        })
        .collect()
    }

    /// Records a signed-in browser; `token_hash` is the SHA-256 of its cookie secret.
    pub async fn create_web_session(
        &self,
        user: UserId,
        token_hash: &str,
        csrf_token: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Expired sessions go when someone signs in, so the table does not grow.
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1")
            .bind(time_text(at))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(csrf_token)
        .bind(time_text(at))
        .bind(time_text(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session a cookie stands for: `None` when unknown, expired, or its person
    /// is disabled.
    pub async fn web_session(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebSession>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, web_sessions.csrf_token, web_sessions.expires_at \
             FROM web_sessions JOIN users ON users.id = web_sessions.user_id \
             WHERE web_sessions.token_hash = $1 AND web_sessions.expires_at > $2 \
             AND users.disabled_at IS NULL"
        )))
        .bind(token_hash)
        .bind(time_text(now))
        .fetch_optional(self.reader())
        .await?
        .map(|row| {
            Ok(WebSession {
                user: read_user(&row)?,
                csrf_token: row.text("csrf_token")?,
                expires_at: row.time("expires_at")?,
            })
        })
        .transpose()
    }

    /// Moves a session's end (sessions slide while they are used).
    pub async fn extend_web_session(
        &self,
        token_hash: &str,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE web_sessions SET expires_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(time_text(expires_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Signs a browser out.
    pub async fn delete_web_session(&self, token_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
