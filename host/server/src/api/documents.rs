//! Documents beyond issuing: credit notes of invoices, PDFs and e-invoices.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::DocumentId;
use tovor_domain::document::{Credit, DocumentKind, LineRef};
use tovor_store::documents::CreditOf;
use tovor_store::orders::Source;
use utoipa::IntoParams;
use utoipa::ToSchema;

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::orders::{DocumentView, LineQuantity, document_view};
use crate::printing::{self, EInvoiceFormat};
use crate::state::AppState;

/// What a credit note credits: the shop's refund `refund_id`, or the given item
/// quantities and charge amounts of the invoice. Not both.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRequest {
    /// The shop's id of a refund on the invoice's order (see the order's `refunds`).
    pub refund_id: Option<String>,
    /// Item lines by their order position, and how many pieces to credit.
    pub lines: Option<Vec<LineQuantity>>,
    /// Shipping and fees, and how much of each to credit, tax included.
    pub charges: Option<Vec<ChargeAmount>>,
    /// Whether the goods came back to stock: they are booked back into the invoice's
    /// warehouse. For a refund, the refund's own restock flag counts too.
    #[serde(default)]
    pub restock: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeAmount {
    /// `shipping` or `fee`.
    pub kind: String,
    /// Its position among the order's shipping lines or fees.
    pub position: u32,
    /// How much of it, tax included.
    #[serde(deserialize_with = "tovor_domain::decimal::number_or_string")]
    #[schema(value_type = super::extract::DecimalInput)]
    pub amount: Decimal,
}

fn credit_lines(request: CreditNoteRequest) -> ApiResult<Vec<(LineRef, Credit)>> {
    let mut credit: Vec<(LineRef, Credit)> = request
        .lines
        .unwrap_or_default()
        .into_iter()
        .map(|line| {
            (
                LineRef::Item(line.position),
                Credit::Quantity(line.quantity),
            )
        })
        .collect();
    for (index, charge) in request.charges.unwrap_or_default().into_iter().enumerate() {
        let line = match charge.kind.as_str() {
            "shipping" => LineRef::Shipping(charge.position),
            "fee" => LineRef::Fee(charge.position),
            _ => {
                return Err(ApiError::field(
                    &format!("charges[{index}].kind"),
                    "a charge is `shipping` or `fee`",
                ));
            }
        };
        credit.push((line, Credit::Gross(charge.amount)));
    }
    Ok(credit)
}

/// Issues a credit note of an invoice, from a refund the shop reported or for chosen
/// lines. Credit notes have their own gapless series and never credit more than the
/// invoice carried, line by line.
#[utoipa::path(post, path = "/api/v1/documents/{id}/credit-notes", tag = "orders",
    params(("id" = i64, Path, description = "the invoice")), request_body = CreditNoteRequest,
    responses((status = 201, body = DocumentView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_credit_note(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(request): ApiJson<CreditNoteRequest>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    // The invoice first: a request about a document that is not there is a 404 whatever
    // its body says.
    state
        .store
        .company(company.0)
        .document(DocumentId(id))
        .await?;
    let restock = request.restock;
    let refund_id = request.refund_id.clone();
    let has_lines = request.lines.is_some() || request.charges.is_some();
    let lines;
    let credit = match (refund_id.as_deref(), has_lines) {
        (Some(_), true) => {
            return Err(ApiError::field(
                "refund_id",
                "give a refund or lines and charges, not both",
            ));
        }
        (Some(refund), false) => CreditOf::Refund(refund),
        (None, _) => {
            lines = credit_lines(request)?;
            CreditOf::Lines(&lines)
        }
    };
    let note = state
        .store
        .company(company.0)
        .issue_credit_note(
            DocumentId(id),
            credit,
            restock,
            Source("api"),
            OffsetDateTime::now_utc(),
        )
        .await?;
    if note.moves_stock {
        state.wake.push.notify_one();
    }
    Ok((StatusCode::CREATED, Json(document_view(note))))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PdfQuery {
    /// Print prices on a delivery note (invoices and credit notes always have them).
    #[serde(default)]
    pub prices: bool,
}

fn file(content_type: &str, data: Vec<u8>, filename: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        data,
    )
        .into_response()
}

/// The document as a PDF: letterhead, buyer, lines, VAT recap and totals in the
/// company's language, and on an unpaid invoice the UPN QR payment code.
#[utoipa::path(get, path = "/api/v1/documents/{id}/pdf", tag = "orders",
    params(("id" = i64, Path), PdfQuery),
    responses((status = 200, description = "the document", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = ErrorBody)))]
pub async fn get_pdf(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<PdfQuery>,
) -> ApiResult<Response> {
    let document = state
        .store
        .company(company.0)
        .document(DocumentId(id))
        .await?;
    let pdf = printing::pdf(&state, company.0, &[DocumentId(id)], query.prices).await?;
    Ok(file(
        "application/pdf",
        pdf,
        &format!("{}-{}.pdf", document.draft.kind.as_str(), document.number),
    ))
}

/// Documents to print together.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfBatch {
    /// The documents, in print order.
    #[schema(min_items = 1, max_items = 500)]
    pub document_ids: Vec<i64>,
    /// Print prices on delivery notes.
    #[serde(default)]
    pub prices: bool,
}

/// Many documents as one PDF, each starting on a new page, in the order given.
#[utoipa::path(post, path = "/api/v1/documents/pdf", tag = "orders", request_body = PdfBatch,
    responses((status = 200, description = "the documents", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn print_pdfs(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(batch): ApiJson<PdfBatch>,
) -> ApiResult<Response> {
    if batch.document_ids.is_empty() || batch.document_ids.len() > 500 {
        return Err(ApiError::field("document_ids", "give 1 to 500 documents"));
    }
    let ids: Vec<DocumentId> = batch
        .document_ids
        .iter()
        .map(|id| DocumentId(*id))
        .collect();
    let pdf = printing::pdf(&state, company.0, &ids, batch.prices).await?;
    Ok(file("application/pdf", pdf, "documents.pdf"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EInvoiceQuery {
    /// `eslog` (e-SLOG 2.0) or `ubl` (UBL 2.1, Peppol BIS Billing 3.0).
    #[param(pattern = "^(eslog|ubl)$")]
    pub format: String,
}

/// An invoice, credit note or cancellation as an e-invoice (XML).
#[utoipa::path(get, path = "/api/v1/documents/{id}/einvoice", tag = "orders",
    params(("id" = i64, Path), EInvoiceQuery),
    responses((status = 200, description = "the e-invoice", content_type = "application/xml", body = String),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_einvoice(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<EInvoiceQuery>,
) -> ApiResult<Response> {
    let format = match query.format.as_str() {
        "eslog" => EInvoiceFormat::Eslog,
        "ubl" => EInvoiceFormat::Ubl,
        _ => return Err(ApiError::field("format", "use eslog or ubl")),
    };
    let document = state
        .store
        .company(company.0)
        .document(DocumentId(id))
        .await?;
    let xml = printing::einvoice(&state, company.0, DocumentId(id), format).await?;
    Ok(file(
        "application/xml",
        xml.into_bytes(),
        &format!(
            "{}-{}-{}.xml",
            document.draft.kind.as_str(),
            document.number,
            query.format
        ),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentListQuery {
    /// `invoice`, `delivery_note` or `credit_note`; every kind when left out.
    #[param(pattern = "^(invoice|delivery_note|credit_note)$")]
    pub kind: Option<String>,
    /// Documents with a smaller id than this (paging, newest first).
    pub before: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentSummaryView {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    /// `invoice`, `delivery_note` or `credit_note`.
    pub kind: String,
    pub number: String,
    /// `issued`, `cancelled` or `reversal`.
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: OffsetDateTime,
    pub currency: String,
    /// Total with VAT.
    #[schema(value_type = String)]
    pub gross: Decimal,
}

/// The company's documents, newest first.
#[utoipa::path(get, path = "/api/v1/documents", tag = "orders", params(DocumentListQuery),
    responses((status = 200, body = Vec<DocumentSummaryView>)))]
pub async fn list_documents(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiQuery(query): ApiQuery<DocumentListQuery>,
) -> ApiResult<Json<Vec<DocumentSummaryView>>> {
    let kind = match query.kind.as_deref() {
        None => None,
        Some("invoice") => Some(DocumentKind::Invoice),
        Some("delivery_note") => Some(DocumentKind::DeliveryNote),
        Some("credit_note") => Some(DocumentKind::CreditNote),
        Some(_) => {
            return Err(ApiError::field(
                "kind",
                "must be invoice, delivery_note or credit_note",
            ));
        }
    };
    let limit = super::extract::limit(query.limit, 50, 500)?;
    let documents = state
        .store
        .company(company.0)
        .document_summaries(kind, query.before.map(DocumentId), limit)
        .await?;
    Ok(Json(
        documents
            .into_iter()
            .map(|document| DocumentSummaryView {
                id: document.id.0,
                order_id: document.order.0,
                order_number: document.order_number,
                kind: document.kind.as_str().to_owned(),
                number: document.number,
                state: document.state.as_str().to_owned(),
                issued_at: document.issued_at,
                currency: document.currency,
                gross: document.gross,
            })
            .collect(),
    ))
}
