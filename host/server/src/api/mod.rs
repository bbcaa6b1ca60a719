//! The HTTP API (`/api/v1`), the webhook intake (`/hooks/{key}`), health and metrics.

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod company;
pub mod documents;
pub mod error;
pub mod extract;
pub mod handovers;
pub mod orders;
pub mod request_id;
pub mod schema;
pub mod sending;
pub mod shipping;
pub mod shops;
pub mod users;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "tovor", description = "Connects an invoicing and stock program with online shops and parcel carriers. Every /api/v1 route but this document needs `Authorization: Bearer <token>`: a company's API token, or the operator's admin token for companies and plugins. Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`."),
    paths(
        admin::create_company, admin::list_companies, admin::list_tokens, admin::create_token,
        admin::revoke_token, admin::list_plugins, admin::add_plugin, admin::reload_plugin,
        users::create_user, users::list_users, users::reset_password, users::set_role,
        users::remove_role,
        catalog::create_warehouse, catalog::list_warehouses, catalog::create_item, catalog::list_items,
        catalog::link_item, catalog::list_customers, catalog::get_customer, catalog::create_payment_method,
        catalog::list_payment_methods, catalog::stock, catalog::receive_stock,
        shops::create_shop, shops::list_shops, shops::get_shop, shops::update_shop, shops::sync_now,
        shops::register_webhooks,
        shops::import_history, shops::push_order, shops::payment_methods, shops::map_payment_method,
        shops::map_status, shops::push_states, shops::resync_stock, shops::link_products,
        shops::deliveries,
        shops::retry_delivery,
        shops::problems, shops::dismiss_problem, shops::retry_problem,
        orders::list_orders, orders::get_order, orders::create_invoice, orders::create_delivery_note,
        orders::get_document, orders::cancel_document, documents::create_credit_note,
        documents::get_pdf, documents::print_pdfs, documents::get_einvoice,
        documents::list_documents,
        company::get_profile, company::put_profile, company::get_logo, company::put_logo,
        company::delete_logo, sending::get_smtp, sending::put_smtp, sending::send_document,
        sending::list_sends,
        shipping::create_carrier, shipping::list_carriers, shipping::get_carrier,
        shipping::update_carrier,
        shipping::create_shipment, shipping::create_shipments, shipping::list_shipments,
        shipping::get_shipment, shipping::get_label, shipping::print_labels, shipping::track_now,
        shipping::cancel_shipment, shipping::resolve_shipment,
        handovers::create_handover, handovers::list_handovers, handovers::get_handover,
        handovers::get_handover_document, handovers::set_shipment_status,
        openapi, healthz, metrics, crate::intake::receive,
    ),
    modifiers(&BearerAuth, &CommonErrors),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Answers every operation can give besides its own: the body, path and query
/// refusals, the token refusals, and a 500 that carries only a request id. Declared
/// once here so a new handler gets them without repeating them.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let authorized = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let has_body = operation.request_body.is_some();
                let has_params = operation
                    .parameters
                    .as_ref()
                    .is_some_and(|parameters| !parameters.is_empty());
                let mut statuses: Vec<(&str, &str)> = Vec::new();
                if has_body || has_params {
                    statuses.push((
                        "400",
                        "a field, path or query parameter is not valid (`field` names it)",
                    ));
                }
                if authorized {
                    statuses.push(("401", "no valid bearer token"));
                    statuses.push(("403", "the admin token on a company route, or a company's token on an operator route"));
                    statuses.push(("404", "no such record (or another company's)"));
                }
                if has_body {
                    statuses.push((
                        "413",
                        "the body is larger than the service accepts (`payload_too_large`)",
                    ));
                    statuses.push(("415", "the body is not sent as application/json"));
                }
                statuses.push(("500", "an internal failure: the answer carries only the request id, the log has the rest"));
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description).into());
                }
            }
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service", security(()),
    responses((status = 200, description = "the OpenAPI 3 document", content_type = "application/json", body = Object)))]
async fn openapi() -> impl IntoResponse {
    Json(schema::document(&ApiDoc::openapi()))
}

/// Whether the service can reach its database.
#[utoipa::path(get, path = "/healthz", tag = "service", security(()),
    responses((status = 200, description = "the database answers", content_type = "text/plain", body = String),
        (status = 503, description = "the database does not answer", content_type = "text/plain", body = String)))]
async fn healthz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.store.pending_deliveries().await {
        Ok(_) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Prometheus metrics: webhooks by outcome, imports by decision and source, plugin
/// calls and failures, stock pushes, inbox and push queue depths.
#[utoipa::path(get, path = "/metrics", tag = "service", security(()),
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain; version=0.0.4", body = String)))]
async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    state.metrics.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}

async fn unknown_route() -> impl IntoResponse {
    error::ApiError::not_found("no such route")
}

pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route(
            "/companies",
            get(admin::list_companies).post(admin::create_company),
        )
        .route(
            "/companies/{id}/tokens",
            get(admin::list_tokens).post(admin::create_token),
        )
        .route(
            "/companies/{id}/tokens/{token_id}/revoke",
            post(admin::revoke_token),
        )
        .route(
            "/plugins",
            get(admin::list_plugins)
                .post(admin::add_plugin)
                .layer(DefaultBodyLimit::max(admin::MAX_PLUGIN_UPLOAD_BYTES)),
        )
        .route("/plugins/{id}/reload", post(admin::reload_plugin))
        .route("/users", get(users::list_users).post(users::create_user))
        .route("/users/{id}/password", post(users::reset_password))
        .route(
            "/users/{id}/companies/{company_id}",
            put(users::set_role).delete(users::remove_role),
        )
        .route(
            "/warehouses",
            get(catalog::list_warehouses).post(catalog::create_warehouse),
        )
        .route(
            "/items",
            get(catalog::list_items).post(catalog::create_item),
        )
        .route("/items/{id}/links", post(catalog::link_item))
        .route("/customers", get(catalog::list_customers))
        .route("/customers/{id}", get(catalog::get_customer))
        .route(
            "/payment-methods",
            get(catalog::list_payment_methods).post(catalog::create_payment_method),
        )
        .route("/stock", get(catalog::stock))
        .route("/stock/receipts", post(catalog::receive_stock))
        .route("/shops", get(shops::list_shops).post(shops::create_shop))
        .route(
            "/shops/{id}",
            get(shops::get_shop).patch(shops::update_shop),
        )
        .route("/shops/{id}/sync", post(shops::sync_now))
        .route("/shops/{id}/webhooks", post(shops::register_webhooks))
        .route("/shops/{id}/import-history", post(shops::import_history))
        .route("/shops/{id}/orders", post(shops::push_order))
        .route("/shops/{id}/payment-methods", get(shops::payment_methods))
        .route(
            "/shops/{id}/payment-methods/{code}",
            put(shops::map_payment_method),
        )
        .route("/shops/{id}/status-mappings/{raw}", put(shops::map_status))
        .route("/shops/{id}/stock", get(shops::push_states))
        .route("/shops/{id}/stock/resync", post(shops::resync_stock))
        .route("/shops/{id}/products/link", post(shops::link_products))
        .route("/shops/{id}/deliveries", get(shops::deliveries))
        .route(
            "/shops/{id}/deliveries/{delivery}/retry",
            post(shops::retry_delivery),
        )
        .route("/shops/{id}/problems", get(shops::problems))
        .route(
            "/shops/{id}/problems/{order}/dismiss",
            post(shops::dismiss_problem),
        )
        .route(
            "/shops/{id}/problems/{order}/retry",
            post(shops::retry_problem),
        )
        .route("/orders", get(orders::list_orders))
        .route("/orders/{id}", get(orders::get_order))
        .route("/orders/{id}/invoices", post(orders::create_invoice))
        .route(
            "/orders/{id}/delivery-notes",
            post(orders::create_delivery_note),
        )
        .route("/documents", get(documents::list_documents))
        .route("/documents/{id}", get(orders::get_document))
        .route("/documents/{id}/cancel", post(orders::cancel_document))
        .route("/documents/pdf", post(documents::print_pdfs))
        .route("/documents/{id}/pdf", get(documents::get_pdf))
        .route("/documents/{id}/einvoice", get(documents::get_einvoice))
        .route("/documents/{id}/send", post(sending::send_document))
        .route("/documents/{id}/sends", get(sending::list_sends))
        .route(
            "/company/smtp",
            get(sending::get_smtp).put(sending::put_smtp),
        )
        .route(
            "/documents/{id}/credit-notes",
            post(documents::create_credit_note),
        )
        .route(
            "/company/profile",
            get(company::get_profile).put(company::put_profile),
        )
        .route(
            "/company/logo",
            get(company::get_logo)
                .put(company::put_logo)
                .delete(company::delete_logo),
        )
        .route(
            "/carriers",
            get(shipping::list_carriers).post(shipping::create_carrier),
        )
        .route(
            "/carriers/{id}",
            get(shipping::get_carrier).patch(shipping::update_carrier),
        )
        .route("/orders/{id}/shipments", post(shipping::create_shipment))
        .route(
            "/shipments",
            get(shipping::list_shipments).post(shipping::create_shipments),
        )
        .route("/shipments/{id}", get(shipping::get_shipment))
        .route("/shipments/{id}/label", get(shipping::get_label))
        .route("/shipments/{id}/track", post(shipping::track_now))
        .route("/shipments/{id}/cancel", post(shipping::cancel_shipment))
        .route("/shipments/{id}/resolve", post(shipping::resolve_shipment))
        .route(
            "/shipments/{id}/status",
            post(handovers::set_shipment_status),
        )
        .route(
            "/carriers/{id}/handovers",
            get(handovers::list_handovers).post(handovers::create_handover),
        )
        .route("/handovers/{id}", get(handovers::get_handover))
        .route(
            "/handovers/{id}/document",
            get(handovers::get_handover_document),
        )
        .route("/labels", post(shipping::print_labels))
        .fallback(unknown_route);
    let limit = state.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/hooks/{key}", post(crate::intake::receive))
        .nest("/api/v1", api)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(request_id::layer))
        .with_state(state)
}
