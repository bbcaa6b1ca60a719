//! The day's hand-over of a carrier's shipments, its document, and statuses set by hand.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use tovor_domain::shipping::ShipmentStatus;
use tovor_domain::{CarrierId, ShipmentId};
use tovor_store::handovers::Handover;
use utoipa::{IntoParams, ToSchema};

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, limit};
use super::shipping::{ShipmentView, detail, document};
use crate::handover;
use crate::state::AppState;

/// Which day's list: the sender's date, today when not given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    /// `YYYY-MM-DD`. The list takes the carrier's created shipments not handed over yet,
    /// made on that day or before it.
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverView {
    pub id: i64,
    pub carrier_id: i64,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `running`, `done`, `failed` (the carrier refused; its shipments wait for the next
    /// list) or `interrupted` (the host stopped before the carrier answered).
    pub state: String,
    /// The carrier's id for it (a submission id), when it gives one.
    pub reference: Option<String>,
    pub shipment_ids: Vec<i64>,
    pub shipment_count: u32,
    /// A document to print (the courier's manifest) is served at `document_url`.
    pub has_document: bool,
    pub document_url: Option<String>,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
}

async fn view(state: &AppState, company: Company, handover: Handover) -> ApiResult<HandoverView> {
    let shipment_ids = state
        .store
        .company(company.0)
        .handover_shipments(handover.id)
        .await?
        .into_iter()
        .map(|id| id.0)
        .collect();
    let has_document = handover.document_type.is_some();
    Ok(HandoverView {
        id: handover.id,
        carrier_id: handover.carrier.0,
        date: handover.date,
        state: handover.state.as_str().to_owned(),
        reference: handover.reference,
        shipment_ids,
        shipment_count: handover.shipment_count,
        has_document,
        document_url: has_document.then(|| format!("/api/v1/handovers/{}/document", handover.id)),
        error: handover.error,
        created_at: handover.created_at,
        finished_at: handover.finished_at,
    })
}

fn parse_date(text: &str) -> Result<Date, ApiError> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ApiError::field("date", "give the date as YYYY-MM-DD"))
}

#[utoipa::path(post, path = "/api/v1/carriers/{id}/handovers", tag = "shipping",
    params(("id" = i64, Path)), request_body = HandoverInput,
    responses((status = 201, description = "the carrier took the day's shipments", body = HandoverView),
        (status = 400, description = "nothing to hand over, or the carrier has no hand-over", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, description = "the carrier refused or could not be reached; the shipments wait for the next list", body = ErrorBody)))]
pub async fn create_handover(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<HandoverInput>>,
) -> ApiResult<Response> {
    let input = body.map(|ApiJson(input)| input).unwrap_or_default();
    let date = match input.date.as_deref() {
        Some(text) => parse_date(text)?,
        None => OffsetDateTime::now_utc().date(),
    };
    let handover = handover::hand_over(&state, company.0, CarrierId(id), date).await?;
    let view = view(&state, company, handover).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HandoverQuery {
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/carriers/{id}/handovers", tag = "shipping",
    params(("id" = i64, Path), HandoverQuery),
    responses((status = 200, description = "newest first", body = Vec<HandoverView>), (status = 404, body = ErrorBody)))]
pub async fn list_handovers(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<HandoverQuery>,
) -> ApiResult<Json<Vec<HandoverView>>> {
    let scope = state.store.company(company.0);
    scope.carrier(CarrierId(id)).await?;
    let handovers = scope
        .handovers(CarrierId(id), limit(query.limit, 50, 1000)?)
        .await?;
    let mut views = Vec::with_capacity(handovers.len());
    for handover in handovers {
        views.push(view(&state, company, handover).await?);
    }
    Ok(Json(views))
}

#[utoipa::path(get, path = "/api/v1/handovers/{id}", tag = "shipping", params(("id" = i64, Path)),
    responses((status = 200, body = HandoverView), (status = 404, body = ErrorBody)))]
pub async fn get_handover(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<HandoverView>> {
    let handover = state.store.company(company.0).handover(id).await?;
    Ok(Json(view(&state, company, handover).await?))
}

#[utoipa::path(get, path = "/api/v1/handovers/{id}/document", tag = "shipping",
    params(("id" = i64, Path)),
    responses((status = 200, description = "the document as the carrier gave it (a manifest PDF)", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = ErrorBody)))]
pub async fn get_handover_document(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let Some(stored) = state.store.company(company.0).handover_document(id).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("hand-over {id} has no document: its carrier gives none"),
        ));
    };
    Ok(document(
        stored.content_type,
        stored.data,
        &format!("handover-{id}"),
    ))
}

/// A status set by hand, for what the carrier does not tell (or tells wrong).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    #[schema(schema_with = super::schema::shipment_status)]
    pub status: String,
    /// Kept as the event's text ("delivered, signed by the neighbour").
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/status", tag = "shipping",
    params(("id" = i64, Path)), request_body = StatusInput,
    responses((status = 200, body = ShipmentView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_shipment_status(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<StatusInput>,
) -> ApiResult<Json<ShipmentView>> {
    let status = ShipmentStatus::parse(&input.status)
        .ok_or_else(|| ApiError::field("status", "unknown status"))?;
    if input
        .note
        .as_ref()
        .is_some_and(|note| note.chars().count() > 500)
    {
        return Err(ApiError::field("note", "at most 500 characters"));
    }
    handover::set_status(
        &state,
        company.0,
        ShipmentId(id),
        status,
        input.note.as_deref(),
    )
    .await?;
    Ok(Json(detail(&state, company, ShipmentId(id)).await?))
}
