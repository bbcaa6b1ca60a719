//! Documents beyond issuing: credit notes of invoices.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::Deserialize;
use time::OffsetDateTime;
use tovor_domain::DocumentId;
use tovor_domain::document::{Credit, LineRef};
use tovor_store::documents::CreditOf;
use tovor_store::orders::Source;
use utoipa::ToSchema;

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use super::orders::{DocumentView, LineQuantity, document_view};
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
