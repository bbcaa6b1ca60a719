//! Customer orders and their documents (invoices, delivery notes).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::document::{DocumentKind, LineRef};
use tovor_domain::mapping::HostStatus;
use tovor_domain::{DocumentId, OrderId, ShopId};
use tovor_store::documents::{Document, DocumentState};
use tovor_store::orders::{HistoryEntry, Order, OrderFilter, OrderSummary, Source};
use utoipa::{IntoParams, ToSchema};

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, limit};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    pub shop_id: Option<i64>,
    /// Host status: `new`, `processing`, `on_hold`, `completed`, `cancelled`, `refunded`.
    #[param(schema_with = super::schema::host_status)]
    pub status: Option<String>,
    /// Only the orders the shop knows by this number: the number its customer saw
    /// (`external_number`, e.g. `1042`) or the platform's id of the order (`external_id`).
    pub shop_number: Option<String>,
    /// Orders with a smaller id than this (paging, newest first).
    pub before: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummaryView {
    pub id: i64,
    pub number: String,
    pub shop_id: i64,
    /// The platform's id of the order.
    pub external_id: String,
    pub external_number: String,
    pub status: String,
    pub currency: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: OffsetDateTime,
}

fn summary_view(order: OrderSummary) -> OrderSummaryView {
    OrderSummaryView {
        id: order.id.0,
        number: order.number,
        shop_id: order.shop.0,
        external_id: order.external_id,
        external_number: order.external_number,
        status: order.status.as_str().to_owned(),
        currency: order.currency,
        total: order.total,
        placed_at: order.shop_created_at,
    }
}

/// Customer orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = Vec<OrderSummaryView>)))]
pub async fn list_orders(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> ApiResult<Json<Vec<OrderSummaryView>>> {
    let status: Option<HostStatus> = query
        .status
        .as_deref()
        .map(|text| {
            text.parse()
                .map_err(|error: tovor_domain::mapping::UnknownHostStatus| {
                    ApiError::field("status", error.to_string())
                })
        })
        .transpose()?;
    let limit = limit(query.limit, 50, 500)?;
    let filter = OrderFilter {
        shop: query.shop_id.map(ShopId),
        status,
        shop_number: query.shop_number,
        ..OrderFilter::default()
    };
    let found = state
        .store
        .company(company.0)
        .find_orders(&filter, query.before.map(OrderId), limit)
        .await?;
    Ok(Json(found.into_iter().map(summary_view).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: i64,
    pub number: String,
    pub shop_id: i64,
    pub warehouse_id: i64,
    pub external_id: String,
    pub external_number: String,
    pub status: String,
    pub shop_status: String,
    pub shop_status_raw: String,
    pub payment_status: String,
    pub payment_method_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub currency: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = String)]
    pub tax_total: Decimal,
    pub lines: Vec<OrderLineView>,
    pub documents: Vec<DocumentView>,
    /// What happened to the order, oldest first: imports, overwrites, status updates
    /// with the differences a touched order kept from the shop, documents.
    pub history: Vec<HistoryView>,
    /// The order's content as imported (addresses, charges, ...).
    #[schema(value_type = Object)]
    pub content: tovor_domain::order::NormalizedOrder,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// `webhook`, `sync`, `history`, `api`, ...
    pub source: String,
    /// `created`, `overwritten`, `status_updated`, `status_changed`, `edited`,
    /// `document_issued`, `document_cancelled`.
    pub action: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineView {
    pub position: u32,
    pub item_id: Option<i64>,
    pub sku: Option<String>,
    pub name: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub delivered: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: i64,
    pub order_id: i64,
    /// `invoice`, `delivery_note` or `credit_note`.
    pub kind: String,
    pub number: String,
    /// `issued`, `cancelled` or `reversal`.
    pub state: String,
    pub reverses: Option<i64>,
    /// For a credit note, the invoice it credits.
    pub credits: Option<i64>,
    /// For a credit note made from a refund, the shop's id of the refund.
    pub refund_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: OffsetDateTime,
    pub moves_stock: bool,
    pub warehouse_id: i64,
    /// Lines, VAT recap and totals.
    #[schema(value_type = Object)]
    pub draft: tovor_domain::document::DocumentDraft,
}

pub(crate) fn document_view(document: Document) -> DocumentView {
    DocumentView {
        id: document.id.0,
        order_id: document.order.0,
        kind: document.draft.kind.as_str().to_owned(),
        number: document.number,
        state: match document.state {
            DocumentState::Issued => "issued",
            DocumentState::Cancelled => "cancelled",
            DocumentState::Reversal => "reversal",
        }
        .to_owned(),
        reverses: document.reverses.map(|id| id.0),
        credits: document.credits.map(|id| id.0),
        refund_id: document.refund_id,
        issued_at: document.issued_at,
        moves_stock: document.moves_stock,
        warehouse_id: document.warehouse.0,
        draft: document.draft,
    }
}

fn order_view(order: Order, documents: Vec<Document>, history: Vec<HistoryEntry>) -> OrderView {
    OrderView {
        id: order.id.0,
        number: order.number,
        shop_id: order.shop.0,
        warehouse_id: order.warehouse.0,
        external_id: order.external_id,
        external_number: order.external_number,
        status: order.status.as_str().to_owned(),
        shop_status: order.shop_status.as_str().to_owned(),
        shop_status_raw: order.shop_status_raw,
        payment_status: order.payment_status.as_str().to_owned(),
        payment_method_id: order.payment_method.map(|id| id.0),
        customer_id: order.customer.map(|id| id.0),
        currency: order.currency,
        total: order.total,
        tax_total: order.tax_total,
        lines: order
            .lines
            .into_iter()
            .map(|line| OrderLineView {
                position: line.position,
                item_id: line.item.map(|id| id.0),
                sku: line.sku,
                name: line.name,
                quantity: line.quantity,
                delivered: line.delivered,
                unit_price: line.unit_price,
                total: line.total,
            })
            .collect(),
        documents: documents.into_iter().map(document_view).collect(),
        history: history
            .into_iter()
            .map(|entry| HistoryView {
                at: entry.at,
                source: entry.source,
                action: entry.action,
                detail: entry.detail,
            })
            .collect(),
        content: order.content,
    }
}

/// An order with its lines, customer, status and documents.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    let scope = state.store.company(company.0);
    let order = scope.order(OrderId(id)).await?;
    let documents = scope.order_documents(OrderId(id)).await?;
    let history = scope.order_history(OrderId(id)).await?;
    Ok(Json(order_view(order, documents, history)))
}

/// Which order lines (by position, 0-based) and how much of each; all that is left
/// when omitted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    pub lines: Option<Vec<LineQuantity>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    /// The order line's position.
    pub position: u32,
    #[serde(deserialize_with = "tovor_domain::decimal::number_or_string")]
    #[schema(value_type = super::extract::DecimalInput)]
    pub quantity: Decimal,
}

async fn issue(
    state: &AppState,
    company: Company,
    order: i64,
    kind: DocumentKind,
    request: Option<DocumentRequest>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    let selection: Option<Vec<(LineRef, Decimal)>> =
        request.and_then(|request| request.lines).map(|lines| {
            lines
                .into_iter()
                .map(|line| (LineRef::Item(line.position), line.quantity))
                .collect()
        });
    let document = state
        .store
        .company(company.0)
        .issue_document(
            OrderId(order),
            kind,
            selection.as_deref(),
            Source("api"),
            OffsetDateTime::now_utc(),
        )
        .await?;
    if document.moves_stock {
        state.wake.push.notify_one();
    }
    Ok((StatusCode::CREATED, Json(document_view(document))))
}

/// Issues an invoice for the order (all lines when `lines` is omitted).
#[utoipa::path(post, path = "/api/v1/orders/{id}/invoices", tag = "orders",
    params(("id" = i64, Path)), request_body = Option<DocumentRequest>,
    responses((status = 201, body = DocumentView), (status = 422, body = ErrorBody)))]
pub async fn create_invoice(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<DocumentRequest>>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    issue(
        &state,
        company,
        id,
        DocumentKind::Invoice,
        body.map(|ApiJson(body)| body),
    )
    .await
}

/// Issues a delivery note for the order (all undelivered lines when omitted).
#[utoipa::path(post, path = "/api/v1/orders/{id}/delivery-notes", tag = "orders",
    params(("id" = i64, Path)), request_body = Option<DocumentRequest>,
    responses((status = 201, body = DocumentView), (status = 422, body = ErrorBody)))]
pub async fn create_delivery_note(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<DocumentRequest>>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    issue(
        &state,
        company,
        id,
        DocumentKind::DeliveryNote,
        body.map(|ApiJson(body)| body),
    )
    .await
}

/// A document.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)))]
pub async fn get_document(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DocumentView>> {
    let document = state
        .store
        .company(company.0)
        .document(DocumentId(id))
        .await?;
    Ok(Json(document_view(document)))
}

/// Cancels a document with a numbered reversal; its stock movements are undone.
#[utoipa::path(post, path = "/api/v1/documents/{id}/cancel", tag = "orders",
    params(("id" = i64, Path)),
    responses((status = 201, body = DocumentView), (status = 409, body = ErrorBody)))]
pub async fn cancel_document(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    let reversal = state
        .store
        .company(company.0)
        .cancel_document(DocumentId(id), Source("api"), OffsetDateTime::now_utc())
        .await?;
    if reversal.moves_stock {
        state.wake.push.notify_one();
    }
    Ok((StatusCode::CREATED, Json(document_view(reversal))))
}
