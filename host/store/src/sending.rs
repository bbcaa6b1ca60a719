//! E-mailing documents: the company's SMTP settings and the queue of sends, each with
//! its attempts and outcome.

use std::time::Duration;

use time::OffsetDateTime;
use tovor_domain::{CompanyId, DocumentId};

use crate::Store;
use crate::codec::{RowExt, parse_time, time_text};
use crate::error::{StoreError, StoreResult};
use crate::inbox::parse_opt_time;
use crate::scope::CompanyScope;

/// How a company's documents leave by e-mail.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: Option<String>,
    /// Sealed by the caller; the store keeps it as given.
    pub sealed_password: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    pub updated_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password_set", &self.sealed_password.is_some())
            .field("from_address", &self.from_address)
            .finish_non_exhaustive()
    }
}

/// Where a send stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendState {
    /// Waiting for its (next) attempt.
    Queued,
    Sent,
    /// Given up: a permanent refusal, or too many attempts.
    Failed,
}

impl SendState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> StoreResult<Self> {
        match text {
            "queued" => Ok(Self::Queued),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::corrupt("document_sends.state", other)),
        }
    }
}

/// One e-mail of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSend {
    pub id: i64,
    pub company: CompanyId,
    pub document: DocumentId,
    pub recipients: Vec<String>,
    /// The e-invoice format attached beside the PDF, if any.
    pub einvoice: Option<String>,
    pub state: SendState,
    pub attempts: u32,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

/// What an attempt came to.
#[derive(Debug, Clone, Copy)]
pub enum SendOutcome<'a> {
    Sent {
        message_id: &'a str,
    },
    /// Try again at `at`.
    Retry {
        error: &'a str,
        at: OffsetDateTime,
    },
    Failed {
        error: &'a str,
    },
}

const SEND_COLUMNS: &str = "id, company_id, document_id, recipients, einvoice, state, attempts, \
    next_attempt_at, last_error, message_id, created_at, sent_at";

fn send_of(row: &sqlx::any::AnyRow) -> StoreResult<DocumentSend> {
    let recipients: Vec<String> = row.json("recipients")?;
    Ok(DocumentSend {
        id: row.int("id")?,
        company: CompanyId(row.int("company_id")?),
        document: DocumentId(row.int("document_id")?),
        recipients,
        einvoice: row.opt_text("einvoice")?,
        state: SendState::parse(&row.text("state")?)?,
        attempts: u32::try_from(row.int("attempts")?)
            .map_err(|error| StoreError::corrupt("document_sends.attempts", error))?,
        next_attempt_at: parse_opt_time("next_attempt_at", row.opt_text("next_attempt_at")?)?,
        last_error: row.opt_text("last_error")?,
        message_id: row.opt_text("message_id")?,
        created_at: parse_time("created_at", &row.text("created_at")?)?,
        sent_at: parse_opt_time("sent_at", row.opt_text("sent_at")?)?,
    })
}

impl CompanyScope<'_> {
    pub async fn smtp_settings(&self) -> StoreResult<Option<SmtpSettings>> {
        let row = sqlx::query(
            "SELECT host, port, security, username, sealed_password, from_address, from_name, \
             reply_to, updated_at FROM company_smtp WHERE company_id = $1",
        )
        .bind(self.cid())
        .fetch_optional(self.store.reader())
        .await?;
        row.map(|row| {
            Ok(SmtpSettings {
                host: row.text("host")?,
                port: u16::try_from(row.int("port")?)
                    .map_err(|error| StoreError::corrupt("company_smtp.port", error))?,
                security: row.text("security")?,
                username: row.opt_text("username")?,
                sealed_password: row.opt_text("sealed_password")?,
                from_address: row.text("from_address")?,
                from_name: row.opt_text("from_name")?,
                reply_to: row.opt_text("reply_to")?,
                updated_at: Some(parse_time("updated_at", &row.text("updated_at")?)?),
            })
        })
        .transpose()
    }

    pub async fn set_smtp_settings(
        &self,
        settings: &SmtpSettings,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO company_smtp (company_id, host, port, security, username, \
             sealed_password, from_address, from_name, reply_to, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (company_id) DO UPDATE SET host = $2, port = $3, security = $4, \
             username = $5, sealed_password = $6, from_address = $7, from_name = $8, \
             reply_to = $9, updated_at = $10",
        )
        .bind(self.cid())
        .bind(settings.host.as_str())
        .bind(i64::from(settings.port))
        .bind(settings.security.as_str())
        .bind(settings.username.as_deref())
        .bind(settings.sealed_password.as_deref())
        .bind(settings.from_address.as_str())
        .bind(settings.from_name.as_deref())
        .bind(settings.reply_to.as_deref())
        .bind(time_text(at))
        .execute(self.store.writer())
        .await?;
        Ok(())
    }

    /// Queues an e-mail of `document` to `recipients`, due at once.
    pub async fn queue_send(
        &self,
        document: DocumentId,
        recipients: &[String],
        einvoice: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<DocumentSend> {
        let recipients = serde_json::to_string(recipients)
            .map_err(|error| StoreError::Invalid(error.to_string()))?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO document_sends (company_id, document_id, recipients, einvoice, state, \
             attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $5) \
             RETURNING {SEND_COLUMNS}"
        )))
        .bind(self.cid())
        .bind(document.0)
        .bind(recipients)
        .bind(einvoice)
        .bind(time_text(at))
        .fetch_one(self.store.writer())
        .await
        .map_err(|error| match error {
            sqlx::Error::Database(ref database) if database.is_foreign_key_violation() => {
                StoreError::not_found("document", document)
            }
            other => other.into(),
        })?;
        send_of(&row)
    }

    /// The e-mails of a document, oldest first.
    pub async fn document_sends(&self, document: DocumentId) -> StoreResult<Vec<DocumentSend>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SEND_COLUMNS} FROM document_sends WHERE company_id = $1 AND document_id = $2 \
             ORDER BY id"
        )))
        .bind(self.cid())
        .bind(document.0)
        .fetch_all(self.store.reader())
        .await?
        .iter()
        .map(send_of)
        .collect()
    }
}

impl Store {
    /// Claims up to `limit` sends that are due, for `lease`.
    pub async fn claim_sends(
        &self,
        owner: &str,
        limit: u32,
        lease: Duration,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<DocumentSend>> {
        let sql = format!(
            "UPDATE document_sends SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM document_sends WHERE state = 'queued' \
             AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
             ORDER BY next_attempt_at LIMIT $4{}) RETURNING {SEND_COLUMNS}",
            self.backend().skip_locked()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(time_text(now + lease))
            .bind(time_text(now))
            .bind(i64::from(limit))
            .fetch_all(self.writer())
            .await?
            .iter()
            .map(send_of)
            .collect()
    }

    /// Records what an attempt came to and frees the row.
    pub async fn finish_send(
        &self,
        id: i64,
        outcome: SendOutcome<'_>,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let query = match outcome {
            SendOutcome::Sent { message_id } => sqlx::query(
                "UPDATE document_sends SET state = 'sent', message_id = $2, sent_at = $3, \
                 last_error = NULL, next_attempt_at = NULL, lease_owner = NULL, \
                 lease_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(message_id.to_owned())
            .bind(time_text(now)),
            SendOutcome::Retry { error, at } => sqlx::query(
                "UPDATE document_sends SET last_error = $2, next_attempt_at = $3, \
                 lease_owner = NULL, lease_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(error.to_owned())
            .bind(time_text(at)),
            SendOutcome::Failed { error } => sqlx::query(
                "UPDATE document_sends SET state = 'failed', last_error = $2, \
                 next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(error.to_owned()),
        };
        query.execute(self.writer()).await?;
        Ok(())
    }
}
