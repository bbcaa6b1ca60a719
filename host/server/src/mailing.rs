//! E-mailing documents: queueing a send, and the attempts the mail worker makes.
//!
//! A send is queued in the database and answered at once; the worker renders the PDF
//! (and the e-invoice when asked) at the time of sending and hands the message to the
//! company's SMTP server. A refusal that will not change (a wrong password, an unknown
//! mailbox) fails the send at once; anything else (the server down or busy) is tried
//! again with backoff, up to the worker's attempts. Issuing never waits for mail.

use std::time::Duration;

use time::OffsetDateTime;
use tovor_domain::document::DocumentKind;
use tovor_domain::{CompanyId, DocumentId};
use tovor_store::documents::{Document, DocumentState};
use tovor_store::sending::{DocumentSend, SendOutcome, SmtpSettings};

use crate::error::ServiceError;
use crate::printing::{self, EInvoiceFormat};
use crate::state::AppState;
use crate::workers::backoff;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

fn format_of(name: &str) -> Result<EInvoiceFormat, ServiceError> {
    match name {
        "eslog" => Ok(EInvoiceFormat::Eslog),
        "ubl" => Ok(EInvoiceFormat::Ubl),
        other => Err(ServiceError::Invalid(format!(
            "{other:?} is not an e-invoice format: use eslog or ubl"
        ))),
    }
}

/// The stored settings as the mail crate takes them, the password opened.
fn smtp_of(
    state: &AppState,
    settings: &SmtpSettings,
) -> Result<tovor_mail::SmtpSettings, ServiceError> {
    let password = settings
        .sealed_password
        .as_deref()
        .map(|sealed| {
            state
                .sealer
                .open_bytes(sealed)
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        })
        .transpose()?;
    let security = match settings.security.as_str() {
        "none" => tovor_mail::Security::None,
        "tls" => tovor_mail::Security::Tls,
        _ => tovor_mail::Security::StartTls,
    };
    Ok(tovor_mail::SmtpSettings {
        host: settings.host.clone(),
        port: settings.port,
        security,
        username: settings.username.clone(),
        password,
        from_address: settings.from_address.clone(),
        from_name: settings.from_name.clone(),
        reply_to: settings.reply_to.clone(),
        timeout: SMTP_TIMEOUT,
    })
}

/// Checks settings before they are kept: the host, the addresses, the credentials.
pub fn check_settings(state: &AppState, settings: &SmtpSettings) -> Result<(), ServiceError> {
    smtp_of(state, settings)?
        .validate()
        .map_err(|error| ServiceError::Invalid(error.to_string()))
}

/// Queues an e-mail of `document` to `to` (the buyer's address when `None`).
pub async fn queue(
    state: &AppState,
    company: CompanyId,
    document: DocumentId,
    to: Option<Vec<String>>,
    einvoice: Option<&str>,
) -> Result<DocumentSend, ServiceError> {
    let scope = state.store.company(company);
    let stored = scope.document(document).await?;
    if let Some(format) = einvoice {
        format_of(format)?;
    }
    if scope.smtp_settings().await?.is_none() {
        return Err(ServiceError::Invalid(
            "no mail server is set: PUT /api/v1/company/smtp first".into(),
        ));
    }
    let to = match to {
        Some(to) => to,
        None => {
            let order = scope.order(stored.order).await?;
            let email = order
                .content
                .billing
                .as_ref()
                .and_then(|address| address.email.clone())
                .or_else(|| {
                    order
                        .content
                        .customer
                        .as_ref()
                        .and_then(|customer| customer.email.clone())
                });
            email.into_iter().collect()
        }
    };
    let to: Vec<String> = to
        .into_iter()
        .map(|address| address.trim().to_owned())
        .filter(|address| !address.is_empty())
        .collect();
    if to.is_empty() {
        return Err(ServiceError::Invalid(
            "the order has no buyer e-mail: give the addresses in `to`".into(),
        ));
    }
    for address in &to {
        tovor_mail::check_address(address)
            .map_err(|error| ServiceError::Invalid(error.to_string()))?;
    }
    Ok(scope
        .queue_send(document, &to, einvoice, OffsetDateTime::now_utc())
        .await?)
}

/// Sends what is due; returns whether there was anything.
pub async fn send_due(state: &AppState) -> Result<bool, ServiceError> {
    let now = OffsetDateTime::now_utc();
    let sends = state
        .store
        .claim_sends(&state.workers.node, 10, state.workers.lease, now)
        .await?;
    for send in &sends {
        let outcome = attempt(state, send).await;
        let error_text;
        let recorded = match &outcome {
            Ok(message_id) => SendOutcome::Sent { message_id },
            Err((error, permanent)) => {
                error_text = error.clone();
                if *permanent || send.attempts >= state.workers.max_attempts {
                    SendOutcome::Failed { error: &error_text }
                } else {
                    let delay = backoff(
                        send.attempts,
                        state.workers.backoff,
                        state.workers.max_backoff,
                        None,
                    );
                    SendOutcome::Retry {
                        error: &error_text,
                        at: crate::workers::later(delay),
                    }
                }
            }
        };
        match &recorded {
            SendOutcome::Sent { .. } => {
                tracing::info!(send = send.id, document = %send.document, "document e-mailed")
            }
            SendOutcome::Retry { error, .. } => {
                tracing::warn!(send = send.id, %error, attempts = send.attempts, "e-mail failed, will retry")
            }
            SendOutcome::Failed { error } => {
                tracing::error!(send = send.id, %error, "e-mail failed for good")
            }
        }
        state
            .store
            .finish_send(send.id, recorded, OffsetDateTime::now_utc())
            .await?;
    }
    Ok(!sends.is_empty())
}

/// One attempt: the message id, or the error and whether it is permanent.
async fn attempt(state: &AppState, send: &DocumentSend) -> Result<String, (String, bool)> {
    let scope = state.store.company(send.company);
    let permanent = |error: ServiceError| (error.to_string(), !error.is_retryable());
    let settings = scope
        .smtp_settings()
        .await
        .map_err(|error| permanent(error.into()))?
        .ok_or_else(|| ("no mail server is set".to_owned(), true))?;
    let smtp = smtp_of(state, &settings).map_err(permanent)?;
    let document = scope
        .document(send.document)
        .await
        .map_err(|error| permanent(error.into()))?;
    let profile = scope
        .profile()
        .await
        .map_err(|error| permanent(error.into()))?;
    let pdf = printing::pdf(state, send.company, &[send.document], false)
        .await
        .map_err(permanent)?;
    let base = format!("{}-{}", document.draft.kind.as_str(), document.number);
    let mut attachments = vec![tovor_mail::Attachment {
        filename: format!("{base}.pdf"),
        content_type: "application/pdf".into(),
        data: pdf,
    }];
    if let Some(format) = send.einvoice.as_deref() {
        let xml = printing::einvoice(
            state,
            send.company,
            send.document,
            format_of(format).map_err(permanent)?,
        )
        .await
        .map_err(permanent)?;
        attachments.push(tovor_mail::Attachment {
            filename: format!("{base}-{format}.xml"),
            content_type: "application/xml".into(),
            data: xml.into_bytes(),
        });
    }
    let company_name = profile
        .legal_name
        .clone()
        .unwrap_or_else(|| settings.from_name.clone().unwrap_or_default());
    let (subject, text) = message_text(&document, &company_name, profile.language);
    let mail = tovor_mail::OutgoingMail {
        to: send.recipients.clone(),
        cc: Vec::new(),
        subject,
        text,
        attachments,
    };
    tovor_mail::send(&smtp, &mail)
        .await
        .map(|receipt| receipt.message_id)
        .map_err(|error| (error.to_string(), error.is_permanent()))
}

/// The subject and body of a document's e-mail, in the company's language.
fn message_text(
    document: &Document,
    company: &str,
    language: tovor_domain::company::DocumentLanguage,
) -> (String, String) {
    use tovor_domain::company::DocumentLanguage::{En, Sl};
    let kind = match (language, document.state, document.draft.kind) {
        (Sl, DocumentState::Reversal, _) => "Storno",
        (En, DocumentState::Reversal, _) => "Cancellation",
        (Sl, _, DocumentKind::Invoice) => "Račun",
        (En, _, DocumentKind::Invoice) => "Invoice",
        (Sl, _, DocumentKind::DeliveryNote) => "Dobavnica",
        (En, _, DocumentKind::DeliveryNote) => "Delivery note",
        (Sl, _, DocumentKind::CreditNote) => "Dobropis",
        (En, _, DocumentKind::CreditNote) => "Credit note",
    };
    let subject = format!("{kind} {} – {company}", document.number);
    let text = match language {
        Sl => format!(
            "Pozdravljeni,\n\nv prilogi vam pošiljamo dokument {kind} {}.\n\nLep pozdrav,\n{company}\n",
            document.number
        ),
        En => format!(
            "Hello,\n\nplease find attached {kind} {}.\n\nKind regards,\n{company}\n",
            document.number
        ),
    };
    (subject, text)
}
