//! E-mailing documents: the company's SMTP settings, sending a document, and what
//! became of each e-mail.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::DocumentId;
use tovor_store::sending::{DocumentSend, SmtpSettings};
use utoipa::ToSchema;

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::mailing;
use crate::state::AppState;

/// The company's outgoing mail server. The password is never shown again; leave it
/// out to keep the one stored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpInput {
    pub host: String,
    /// 587 for `starttls`, 465 for `tls`, 25 for `none` unless given.
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (a local relay only).
    #[schema(pattern = "^(starttls|tls|none)$")]
    pub security: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender's address, e.g. `racuni@trgovina.si`.
    pub from_address: String,
    /// The sender's name, e.g. `Trgovina d.o.o.`.
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SmtpView {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub username: Option<String>,
    pub password_set: bool,
    pub from_address: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
}

fn smtp_view(settings: SmtpSettings) -> SmtpView {
    SmtpView {
        host: settings.host,
        port: settings.port,
        security: settings.security,
        username: settings.username,
        password_set: settings.sealed_password.is_some(),
        from_address: settings.from_address,
        from_name: settings.from_name,
        reply_to: settings.reply_to,
    }
}

/// The company's SMTP settings.
#[utoipa::path(get, path = "/api/v1/company/smtp", tag = "company",
    responses((status = 200, body = SmtpView), (status = 404, body = ErrorBody)))]
pub async fn get_smtp(
    State(state): State<Arc<AppState>>,
    company: Company,
) -> ApiResult<Json<SmtpView>> {
    let settings = state
        .store
        .company(company.0)
        .smtp_settings()
        .await?
        .ok_or_else(|| ApiError::not_found("no mail server is set: PUT /api/v1/company/smtp"))?;
    Ok(Json(smtp_view(settings)))
}

/// Sets the company's SMTP settings (checked, not yet tried: the first send tries them).
#[utoipa::path(put, path = "/api/v1/company/smtp", tag = "company", request_body = SmtpInput,
    responses((status = 200, body = SmtpView), (status = 400, body = ErrorBody)))]
pub async fn put_smtp(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<SmtpInput>,
) -> ApiResult<Json<SmtpView>> {
    let scope = state.store.company(company.0);
    let security = input.security.unwrap_or_else(|| "starttls".into());
    let default_port = match security.as_str() {
        "starttls" => 587,
        "tls" => 465,
        "none" => 25,
        _ => {
            return Err(ApiError::field("security", "use starttls, tls or none"));
        }
    };
    let sealed_password =
        match input.password.filter(|password| !password.is_empty()) {
            Some(password) => Some(state.sealer.seal_bytes(password.as_bytes()).ok_or_else(
                || ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "cannot seal"),
            )?),
            None => scope
                .smtp_settings()
                .await?
                .and_then(|settings| settings.sealed_password),
        };
    let settings = SmtpSettings {
        host: input.host.trim().to_owned(),
        port: input.port.unwrap_or(default_port),
        security,
        username: input.username.filter(|name| !name.trim().is_empty()),
        sealed_password,
        from_address: input.from_address.trim().to_owned(),
        from_name: input.from_name.filter(|name| !name.trim().is_empty()),
        reply_to: input.reply_to.filter(|address| !address.trim().is_empty()),
        updated_at: None,
    };
    mailing::check_settings(&state, &settings)?;
    scope
        .set_smtp_settings(&settings, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(smtp_view(settings)))
}

/// Whom to send a document to, and what to attach beside its PDF.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// The addresses; the buyer's (the order's billing or customer e-mail) when left
    /// out.
    pub to: Option<Vec<String>>,
    /// Attach the e-invoice too: `eslog` or `ubl`.
    pub einvoice: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SendView {
    pub id: i64,
    pub document_id: i64,
    pub to: Vec<String>,
    pub einvoice: Option<String>,
    /// `queued` (waiting for its next attempt), `sent` or `failed`.
    pub state: String,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub message_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<OffsetDateTime>,
}

fn send_view(send: DocumentSend) -> SendView {
    SendView {
        id: send.id,
        document_id: send.document.0,
        to: send.recipients,
        einvoice: send.einvoice,
        state: send.state.as_str().to_owned(),
        attempts: send.attempts,
        next_attempt_at: send.next_attempt_at,
        last_error: send.last_error,
        message_id: send.message_id,
        created_at: send.created_at,
        sent_at: send.sent_at,
    }
}

/// E-mails the document's PDF (and, when asked, its e-invoice) to the buyer: queued,
/// sent by a worker with retries; the outcome is on `GET /documents/{id}/sends`.
#[utoipa::path(post, path = "/api/v1/documents/{id}/send", tag = "orders",
    params(("id" = i64, Path)), request_body = SendRequest,
    responses((status = 202, body = SendView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn send_document(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<SendRequest>>,
) -> ApiResult<(StatusCode, Json<SendView>)> {
    let request = body.map(|ApiJson(body)| body).unwrap_or_default();
    let send = mailing::queue(
        &state,
        company.0,
        DocumentId(id),
        request.to,
        request.einvoice.as_deref(),
    )
    .await?;
    state.wake.mail.notify_one();
    Ok((StatusCode::ACCEPTED, Json(send_view(send))))
}

/// The e-mails of a document, oldest first.
#[utoipa::path(get, path = "/api/v1/documents/{id}/sends", tag = "orders",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<SendView>), (status = 404, body = ErrorBody)))]
pub async fn list_sends(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<SendView>>> {
    let scope = state.store.company(company.0);
    scope.document(DocumentId(id)).await?;
    let sends = scope.document_sends(DocumentId(id)).await?;
    Ok(Json(sends.into_iter().map(send_view).collect()))
}
