//! "Add e-store" and everything about one shop: settings, sync, the custom-platform
//! order intake, payment and status mappings, stock push state, webhook deliveries.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::document::DocumentKind;
use tovor_domain::invoicing::{AutoInvoice, CreditNotePolicy};
use tovor_domain::mapping::HostStatus;
use tovor_domain::order::NormalizedOrder;
use tovor_domain::stock::StockMode;
use tovor_domain::{HostPaymentMethodId, ShopId, WarehouseId};
use tovor_store::inbox::{Delivery, DeliveryState};
use tovor_store::problems::SyncProblem;
use tovor_store::push::PushState;
use tovor_store::shops::{DEFAULT_POLL_MINUTES, Shop, ShopSettings};
use tovor_store::sync::SyncStatus;
use utoipa::{IntoParams, ToSchema};

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, JsonBytes, limit, parse_json};
use crate::connectors::{sends_webhooks, settings_config};
use crate::error::ServiceError;
use crate::ingest::{Ingested, ingest};
use crate::shop_setup;
use crate::state::AppState;

/// "Add e-store": a shop and how it is synced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopInput {
    /// The connector plugin's id; leave out for a custom platform that pushes its
    /// orders to `POST /api/v1/shops/{id}/orders`.
    pub plugin: Option<String>,
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    /// The fields the plugin's manifest declares; secret ones are sealed at rest and
    /// never returned.
    #[serde(default, deserialize_with = "super::extract::config_values")]
    #[schema(value_type = Object)]
    pub config: BTreeMap<String, String>,
    pub warehouse_id: i64,
    /// Whether a changed order in the shop may update an imported one.
    #[serde(default)]
    pub update_existing: bool,
    /// Minutes between syncs for shops without webhooks (default 20).
    #[schema(minimum = 1)]
    pub poll_minutes: Option<u32>,
    /// Orders placed before this are not imported (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub import_from: Option<OffsetDateTime>,
    /// `off`, `paid`, or `status:<host status>` (e.g. `status:completed`).
    #[schema(schema_with = super::schema::auto_invoice_or_null)]
    pub auto_invoice: Option<String>,
    /// `offer` (default): refunds the shop reports are shown on the order for a person
    /// to credit; `auto`: each becomes a credit note of the order's invoice at once.
    #[schema(schema_with = super::schema::credit_notes_or_null)]
    pub credit_notes: Option<String>,
    /// `on_hand` or `available` (default).
    #[schema(schema_with = super::schema::stock_mode_or_null)]
    pub stock_mode: Option<String>,
    /// `delivery_note` (default) or `invoice`: which document moves stock.
    #[schema(schema_with = super::schema::stock_document_or_null)]
    pub stock_document: Option<String>,
}

/// Changes to a shop; what is left out stays. Config keys given replace those values
/// (an empty value clears a field); secrets left out are kept.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopPatch {
    #[schema(schema_with = super::schema::name_or_null)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::optional_config_values")]
    #[schema(value_type = Option<Object>)]
    pub config: Option<BTreeMap<String, String>>,
    pub warehouse_id: Option<i64>,
    pub update_existing: Option<bool>,
    #[schema(minimum = 1)]
    pub poll_minutes: Option<u32>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub import_from: Option<OffsetDateTime>,
    #[schema(schema_with = super::schema::auto_invoice_or_null)]
    pub auto_invoice: Option<String>,
    #[schema(schema_with = super::schema::credit_notes_or_null)]
    pub credit_notes: Option<String>,
    #[schema(schema_with = super::schema::stock_mode_or_null)]
    pub stock_mode: Option<String>,
    #[schema(schema_with = super::schema::stock_document_or_null)]
    pub stock_document: Option<String>,
    /// `false` stops syncing, stock pushes and webhook intake, and removes the
    /// webhooks tovor registered on the platform; `true` registers them again.
    pub enabled: Option<bool>,
}

/// How the platform was set up to deliver orders to the shop's webhook URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSetupView {
    /// `registered` (tovor subscribed through the platform's API), `manual` (add
    /// `url` in the platform's admin as `message` says) or `failed` (`message` says
    /// why; orders are still synced by polling).
    pub state: String,
    pub url: String,
    /// The platform's subscriptions: id and topic.
    pub webhooks: Vec<RegisteredWebhookView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredWebhookView {
    pub id: String,
    pub topic: String,
}

/// The connection check's result, in the answer of the request that ran it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    /// The account as the platform names it.
    pub account: Option<String>,
    /// What works but needs attention.
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopView {
    pub id: i64,
    pub name: String,
    /// `null` for a custom platform.
    pub plugin: Option<String>,
    pub warehouse_id: i64,
    /// The non-secret config fields.
    pub config: BTreeMap<String, String>,
    /// Names of the secret fields that are set (their values are never shown).
    pub secrets_set: Vec<String>,
    pub update_existing: bool,
    pub poll_minutes: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub import_from: Option<OffsetDateTime>,
    pub auto_invoice: String,
    /// `auto` or `offer`.
    pub credit_notes: String,
    pub stock_mode: String,
    pub stock_document: String,
    /// Register this URL in the shop's webhook settings (connector shops).
    pub webhook_url: Option<String>,
    /// Where a custom platform pushes its orders.
    pub orders_url: String,
    /// Whether the platform sends webhooks (otherwise it is polled).
    pub webhooks: bool,
    /// How the platform was set up to deliver to `webhook_url`; `null` before it was
    /// (and for a disabled shop).
    pub webhook_setup: Option<WebhookSetupView>,
    /// A disabled shop is neither synced nor pushed to, and its webhooks are refused.
    pub enabled: bool,
    /// The connection check, when this request ran one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionView>,
    /// Sync health: when it last ran, what failed, history import progress.
    #[schema(value_type = Option<Object>)]
    pub sync: Option<SyncStatus>,
}

fn parse_setting<T: std::str::FromStr>(field: &str, text: &str) -> ApiResult<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|error: T::Err| ApiError::field(field, error.to_string()))
}

fn parse_stock_mode(text: &str) -> ApiResult<StockMode> {
    match text {
        "on_hand" => Ok(StockMode::OnHand),
        "available" => Ok(StockMode::Available),
        _ => Err(ApiError::field(
            "stock_mode",
            "must be on_hand or available",
        )),
    }
}

fn parse_stock_document(text: &str) -> ApiResult<DocumentKind> {
    match text {
        "delivery_note" => Ok(DocumentKind::DeliveryNote),
        "invoice" => Ok(DocumentKind::Invoice),
        _ => Err(ApiError::field(
            "stock_document",
            "must be delivery_note or invoice",
        )),
    }
}

fn stock_mode_text(mode: StockMode) -> &'static str {
    match mode {
        StockMode::OnHand => "on_hand",
        StockMode::Available => "available",
    }
}

/// Checks `values` against the plugin's manifest and splits them into plain fields and
/// sealed secrets.
pub(super) fn checked_config(
    state: &AppState,
    plugin_id: &str,
    kind: tovor_runtime::Kind,
    values: &BTreeMap<String, String>,
) -> ApiResult<(BTreeMap<String, String>, Option<String>)> {
    if plugin_id.is_empty() {
        if values.is_empty() {
            return Ok((BTreeMap::new(), None));
        }
        return Err(ApiError::field(
            "config",
            "a custom-platform shop has no connector config",
        ));
    }
    let plugin = state.runtime.plugin(plugin_id).ok_or_else(|| ApiError {
        field: Some("plugin".to_owned()),
        ..ApiError::not_found(format!("no plugin {plugin_id:?} is loaded"))
    })?;
    if plugin.kind() != kind {
        return Err(ApiError::field(
            "plugin",
            format!("{plugin_id} is not a {kind} connector"),
        ));
    }
    let filled = plugin
        .manifest
        .validate_config(values)
        .map_err(|errors| ApiError::from(ServiceError::Config(errors)))?;
    let (secrets, plain): (BTreeMap<_, _>, BTreeMap<_, _>) =
        filled.into_iter().partition(|(name, _)| {
            plugin
                .manifest
                .field(name)
                .is_some_and(|field| field.secret)
        });
    Ok((plain, state.sealer.seal(&secrets)))
}

/// A plugin config after a patch: the current values (secrets opened) with `changes`
/// applied (an empty value clears a field), checked and split again.
pub(super) fn patched_config(
    state: &AppState,
    plugin_id: &str,
    kind: tovor_runtime::Kind,
    (config, sealed): (&BTreeMap<String, String>, Option<&str>),
    changes: &BTreeMap<String, String>,
) -> ApiResult<(BTreeMap<String, String>, Option<String>)> {
    let mut values = config.clone();
    values.extend(opened_secrets(state, sealed)?);
    for (name, value) in changes {
        if value.is_empty() {
            values.remove(name);
        } else {
            values.insert(name.clone(), value.clone());
        }
    }
    checked_config(state, plugin_id, kind, &values)
}

/// A plugin's sealed secret fields, opened; a store that cannot be opened with this
/// key is the operator's problem, not the caller's.
pub(super) fn opened_secrets(
    state: &AppState,
    sealed: Option<&str>,
) -> ApiResult<BTreeMap<String, String>> {
    state
        .sealer
        .open(sealed)
        .map_err(|error| ApiError::internal(error.to_string()))
}

fn view(state: &AppState, shop: Shop, sync: Option<SyncStatus>) -> ApiResult<ShopView> {
    let secrets = opened_secrets(state, shop.settings.sealed_secrets.as_deref())?;
    let custom = shop.settings.is_custom();
    Ok(ShopView {
        id: shop.id.0,
        webhooks: !custom && sends_webhooks(state, &shop),
        webhook_url: (!custom).then(|| state.webhook_url(&shop.webhook_key)),
        webhook_setup: shop.webhook_setup.map(|setup| WebhookSetupView {
            state: setup.state,
            url: setup.url,
            webhooks: setup
                .webhooks
                .into_iter()
                .map(|webhook| RegisteredWebhookView {
                    id: webhook.id,
                    topic: webhook.topic,
                })
                .collect(),
            message: setup.message,
        }),
        enabled: shop.settings.enabled,
        connection: None,
        orders_url: format!("{}/api/v1/shops/{}/orders", state.public_url, shop.id),
        name: shop.settings.name,
        plugin: (!custom).then_some(shop.settings.plugin_id),
        warehouse_id: shop.settings.warehouse.0,
        config: shop.settings.config,
        secrets_set: secrets.into_keys().collect(),
        update_existing: shop.settings.update_existing,
        poll_minutes: shop.settings.poll_minutes,
        import_from: shop.settings.import_from,
        auto_invoice: shop.settings.auto_invoice.to_string(),
        credit_notes: shop.settings.credit_notes.as_str().to_owned(),
        stock_mode: stock_mode_text(shop.settings.stock_mode).to_owned(),
        stock_document: shop.settings.stock_document.as_str().to_owned(),
        sync,
    })
}

async fn load_view(state: &AppState, company: Company, id: ShopId) -> ApiResult<ShopView> {
    let scope = state.store.company(company.0);
    let shop = scope.shop(id).await?;
    let sync = if shop.settings.is_custom() {
        None
    } else {
        Some(scope.sync_status(id).await?)
    };
    view(state, shop, sync)
}

/// "Add e-store". The connector checks the credentials first (a failure is a 422 that
/// says what to fix), then registers the platform's webhooks where the platform allows
/// it; the answer says how they were set up, or which URL to paste by hand.
#[utoipa::path(post, path = "/api/v1/shops", tag = "shops", request_body = ShopInput,
    responses((status = 201, body = ShopView), (status = 400, body = ErrorBody),
        (status = 422, description = "the connection check failed", body = ErrorBody)))]
pub async fn create_shop(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<ShopInput>,
) -> ApiResult<(StatusCode, Json<ShopView>)> {
    let plugin_id = input.plugin.unwrap_or_default().trim().to_owned();
    let (config, sealed_secrets) =
        checked_config(&state, &plugin_id, tovor_runtime::Kind::Shop, &input.config)?;
    let mut settings = ShopSettings::new(
        input.name.trim(),
        &plugin_id,
        WarehouseId(input.warehouse_id),
    );
    settings.config = config;
    settings.sealed_secrets = sealed_secrets;
    settings.update_existing = input.update_existing;
    settings.poll_minutes = input.poll_minutes.unwrap_or(DEFAULT_POLL_MINUTES);
    settings.import_from = input.import_from;
    if let Some(policy) = &input.auto_invoice {
        settings.auto_invoice = parse_setting::<AutoInvoice>("auto_invoice", policy)?;
    }
    if let Some(policy) = &input.credit_notes {
        settings.credit_notes = parse_setting::<CreditNotePolicy>("credit_notes", policy)?;
    }
    if let Some(mode) = &input.stock_mode {
        settings.stock_mode = parse_stock_mode(mode)?;
    }
    if let Some(kind) = &input.stock_document {
        settings.stock_document = parse_stock_document(kind)?;
    }
    // Credentials are tested before anything is saved: a shop that cannot connect
    // would only fail later, in the background, where nobody is looking.
    let connection = if settings.is_custom() {
        None
    } else {
        check(
            &state,
            &plugin_id,
            settings_config(&state, &settings)?,
            None,
        )
        .await?
    };
    let scope = state.store.company(company.0);
    let id = scope
        .create_shop(&settings, OffsetDateTime::now_utc())
        .await?;
    // Its webhook key must be known at once, not when the key table is next read.
    state.shops.clear();
    let shop = scope.shop(id).await?;
    if !settings.is_custom() && sends_webhooks(&state, &shop) {
        shop_setup::register_webhooks(&state, &shop).await?;
    }
    state.wake.sync.notify_one();
    let mut view = load_view(&state, company, id).await?;
    view.connection = connection;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The company's shops.
#[utoipa::path(get, path = "/api/v1/shops", tag = "shops",
    responses((status = 200, body = Vec<ShopView>)))]
pub async fn list_shops(
    State(state): State<Arc<AppState>>,
    company: Company,
) -> ApiResult<Json<Vec<ShopView>>> {
    let shops = state.store.company(company.0).shops().await?;
    let mut views = Vec::with_capacity(shops.len());
    for shop in shops {
        views.push(load_view(&state, company, shop.id).await?);
    }
    Ok(Json(views))
}

/// A shop's settings (secrets never shown) and sync health.
#[utoipa::path(get, path = "/api/v1/shops/{id}", tag = "shops", params(("id" = i64, Path)),
    responses((status = 200, body = ShopView), (status = 404, body = ErrorBody)))]
pub async fn get_shop(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ShopView>> {
    Ok(Json(load_view(&state, company, ShopId(id)).await?))
}

/// Changes a shop's settings.
#[utoipa::path(patch, path = "/api/v1/shops/{id}", tag = "shops", params(("id" = i64, Path)),
    request_body = ShopPatch,
    responses((status = 200, body = ShopView), (status = 404, body = ErrorBody),
        (status = 422, description = "the connection check failed", body = ErrorBody)))]
pub async fn update_shop(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ShopPatch>,
) -> ApiResult<Json<ShopView>> {
    let scope = state.store.company(company.0);
    let shop = scope.shop(ShopId(id)).await?;
    let mut settings = shop.settings.clone();
    if let Some(changes) = &patch.config {
        let (config, sealed) = patched_config(
            &state,
            &settings.plugin_id,
            tovor_runtime::Kind::Shop,
            (&settings.config, settings.sealed_secrets.as_deref()),
            changes,
        )?;
        settings.config = config;
        settings.sealed_secrets = sealed;
    }
    if let Some(name) = patch.name {
        settings.name = name;
    }
    if let Some(warehouse) = patch.warehouse_id {
        settings.warehouse = WarehouseId(warehouse);
    }
    if let Some(update_existing) = patch.update_existing {
        settings.update_existing = update_existing;
    }
    if let Some(minutes) = patch.poll_minutes {
        settings.poll_minutes = minutes;
    }
    if patch.import_from.is_some() {
        settings.import_from = patch.import_from;
    }
    if let Some(policy) = &patch.auto_invoice {
        settings.auto_invoice = parse_setting::<AutoInvoice>("auto_invoice", policy)?;
    }
    if let Some(policy) = &patch.credit_notes {
        settings.credit_notes = parse_setting::<CreditNotePolicy>("credit_notes", policy)?;
    }
    if let Some(mode) = &patch.stock_mode {
        settings.stock_mode = parse_stock_mode(mode)?;
    }
    if let Some(kind) = &patch.stock_document {
        settings.stock_document = parse_stock_document(kind)?;
    }
    if let Some(enabled) = patch.enabled {
        settings.enabled = enabled;
    }
    let config_changed = patch.config.is_some();
    let connection = if config_changed && !settings.is_custom() && settings.enabled {
        check(
            &state,
            &settings.plugin_id,
            settings_config(&state, &settings)?,
            Some(&shop),
        )
        .await?
    } else {
        None
    };
    let webhooks_before = shop.settings.enabled && shop.webhook_setup.is_some();
    // Subscriptions made with the old settings are removed with them (the platform's
    // address or credentials may be what changed).
    if webhooks_before && (!settings.enabled || config_changed) {
        shop_setup::unregister_webhooks(&state, &shop).await?;
    }
    scope.update_shop(ShopId(id), &settings).await?;
    state.shops.clear();
    let updated = scope.shop(ShopId(id)).await?;
    let wants_webhooks = updated.settings.enabled && !updated.settings.is_custom();
    if wants_webhooks
        && (updated.webhook_setup.is_none() || !shop.settings.enabled)
        && sends_webhooks(&state, &updated)
    {
        shop_setup::register_webhooks(&state, &updated).await?;
    }
    if updated.settings.enabled && !shop.settings.enabled {
        state.wake.sync.notify_one();
    }
    let mut view = load_view(&state, company, ShopId(id)).await?;
    view.connection = connection;
    Ok(Json(view))
}

/// Runs the connector's connection check; a failure is a 422 that says what to fix.
async fn check(
    state: &AppState,
    plugin_id: &str,
    config: BTreeMap<String, String>,
    shop: Option<&Shop>,
) -> ApiResult<Option<ConnectionView>> {
    match shop_setup::check_connection(state, plugin_id, config, shop).await {
        Ok(info) => Ok(info.map(|info| ConnectionView {
            account: info.account,
            warnings: info.warnings,
        })),
        Err(failed) => Err(ApiError {
            field: failed.field,
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "connection_failed",
                failed.message,
            )
        }),
    }
}

/// Registers the platform's webhooks for the shop again (after fixing what made it
/// fail, or when they were removed on the platform).
#[utoipa::path(post, path = "/api/v1/shops/{id}/webhooks", tag = "shops",
    params(("id" = i64, Path)),
    responses((status = 200, body = ShopView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn register_webhooks(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ShopView>> {
    let shop = state.store.company(company.0).shop(ShopId(id)).await?;
    if shop.settings.is_custom() || !sends_webhooks(&state, &shop) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "this shop's platform sends no webhooks; it is synced by polling",
        ));
    }
    if !shop.settings.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the shop is disabled; enable it and its webhooks are registered",
        ));
    }
    shop_setup::register_webhooks(&state, &shop).await?;
    Ok(Json(load_view(&state, company, ShopId(id)).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// Ask for orders changed since this time instead of since the last sync.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub since: Option<OffsetDateTime>,
}

/// Sync now (optionally from a given time). Answers at once; the sync runs in the
/// background and its progress shows in the shop's `sync`.
#[utoipa::path(post, path = "/api/v1/shops/{id}/sync", tag = "shops", params(("id" = i64, Path)),
    request_body = Option<SyncRequest>,
    responses((status = 202, body = ShopView), (status = 404, body = ErrorBody)))]
pub async fn sync_now(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    body: Option<ApiJson<SyncRequest>>,
) -> ApiResult<(StatusCode, Json<ShopView>)> {
    let since = body.and_then(|ApiJson(body)| body.since);
    state
        .store
        .company(company.0)
        .request_sync(ShopId(id), since, OffsetDateTime::now_utc())
        .await?;
    state.wake.sync.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(load_view(&state, company, ShopId(id)).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryRequest {
    /// Import orders changed since this time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: OffsetDateTime,
}

/// Starts an import of the shop's order history; progress shows in `sync.history`.
#[utoipa::path(post, path = "/api/v1/shops/{id}/import-history", tag = "shops",
    params(("id" = i64, Path)), request_body = HistoryRequest,
    responses((status = 202, body = ShopView), (status = 404, body = ErrorBody)))]
pub async fn import_history(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<HistoryRequest>,
) -> ApiResult<(StatusCode, Json<ShopView>)> {
    state
        .store
        .company(company.0)
        .request_history_import(ShopId(id), body.from)
        .await?;
    state.wake.sync.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(load_view(&state, company, ShopId(id)).await?),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// The host's order id; `null` when the order was placed before `import_from`.
    pub order_id: Option<i64>,
    pub number: Option<String>,
    /// `created`, `overwritten`, `status_only`, `unchanged` or `skipped`.
    pub result: String,
    pub items_created: usize,
    pub customer_created: bool,
}

/// Custom platform: pushes one normalized order through the same import rules as a
/// connector's. Idempotent on the order's `id`.
#[utoipa::path(post, path = "/api/v1/shops/{id}/orders", tag = "shops", params(("id" = i64, Path)),
    request_body(content = Object, description = "A normalized order (see tovor_domain::order::NormalizedOrder): id, number, status, currency, prices_include_tax, created_at, modified_at, lines, total, ..."),
    responses((status = 201, body = ImportResult), (status = 200, body = ImportResult),
        (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn push_order(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    JsonBytes(body): JsonBytes,
) -> ApiResult<(StatusCode, Json<ImportResult>)> {
    let shop = state.store.company(company.0).shop(ShopId(id)).await?;
    // Syntax and control characters are the request's form (400); a body that is JSON
    // but not a normalized order is refused like an order that breaks the rules.
    let order: NormalizedOrder = parse_json(&body).map_err(|error| {
        if error.code == "bad_request" && error.field.is_some() {
            ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid_order",
                message: format!("not a normalized order: {}", error.message),
                ..error
            }
        } else {
            error
        }
    })?;
    let ingested = ingest(&state, company.0, &shop, &order, "api").await?;
    Ok(match ingested {
        Ingested::Imported(outcome) => {
            let created = matches!(
                outcome.decision,
                tovor_domain::import::ImportDecision::Create
            );
            let result = crate::ingest::decision_label(&outcome.decision);
            (
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                Json(ImportResult {
                    order_id: Some(outcome.order.0),
                    number: Some(outcome.number),
                    result: result.to_owned(),
                    items_created: outcome.items_created.len(),
                    customer_created: outcome.customer_created.is_some(),
                }),
            )
        }
        Ingested::Skipped(_) => (
            StatusCode::OK,
            Json(ImportResult {
                order_id: None,
                number: None,
                result: "skipped".into(),
                items_created: 0,
                customer_created: false,
            }),
        ),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMethods {
    pub mapped: Vec<MappedMethod>,
    /// Seen on orders without a mapping, and the platform's own methods not mapped yet
    /// (with `orders_seen` 0), so they can be mapped before the first order.
    pub unmapped: Vec<UnmappedMethod>,
    /// Why the platform's list could not be read, when the connector has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MappedMethod {
    pub code: String,
    pub title: String,
    pub payment_method_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnmappedMethod {
    pub code: String,
    pub title: String,
    /// Imported orders carrying it.
    pub orders_seen: i64,
}

/// The shop's payment methods, mapped or not: those seen on its orders, and the ones
/// the platform lists where its connector can (contract 0.2 `payment-methods`).
#[utoipa::path(get, path = "/api/v1/shops/{id}/payment-methods", tag = "shops",
    params(("id" = i64, Path)), responses((status = 200, body = PaymentMethods)))]
pub async fn payment_methods(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PaymentMethods>> {
    let scope = state.store.company(company.0);
    let shop = scope.shop(ShopId(id)).await?;
    let mapped: Vec<MappedMethod> = scope
        .payment_mappings(ShopId(id))
        .await?
        .into_iter()
        .map(|mapping| MappedMethod {
            code: mapping.code,
            title: mapping.title,
            payment_method_id: mapping.method.0,
        })
        .collect();
    let mut unmapped: Vec<UnmappedMethod> = scope
        .unmapped_payment_methods(Some(ShopId(id)))
        .await?
        .into_iter()
        .map(|method| UnmappedMethod {
            code: method.code,
            title: method.title,
            orders_seen: method.orders_seen,
        })
        .collect();
    let mut platform_error = None;
    match platform_payment_methods(&state, &shop).await {
        Ok(listed) => {
            for method in listed {
                let known = mapped.iter().any(|known| known.code == method.code)
                    || unmapped.iter().any(|known| known.code == method.code);
                if !known {
                    unmapped.push(UnmappedMethod {
                        code: method.code,
                        title: method.title,
                        orders_seen: 0,
                    });
                }
            }
        }
        Err(error) => platform_error = Some(error.to_string()),
    }
    Ok(Json(PaymentMethods {
        mapped,
        unmapped,
        platform_error,
    }))
}

/// The platform's payment methods, or none when its connector cannot list them.
async fn platform_payment_methods(
    state: &AppState,
    shop: &Shop,
) -> Result<Vec<tovor_domain::order::PaymentMethod>, ServiceError> {
    if shop.settings.is_custom() {
        return Ok(Vec::new());
    }
    let client = crate::connectors::shop_client(state, shop)?;
    if !client.can(tovor_runtime::Capability::PaymentMethods) {
        return Ok(Vec::new());
    }
    Ok(client.list_payment_methods().await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMappingInput {
    /// The host payment method the shop's method means.
    pub payment_method_id: i64,
    /// Narrow the mapping to one title of the code (default: any title).
    #[serde(default)]
    pub title: String,
}

/// Maps one of the shop's payment methods to a host payment method.
#[utoipa::path(put, path = "/api/v1/shops/{id}/payment-methods/{code}", tag = "shops",
    params(("id" = i64, Path), ("code" = String, Path)), request_body = PaymentMappingInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn map_payment_method(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath((id, code)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<PaymentMappingInput>,
) -> ApiResult<StatusCode> {
    state
        .store
        .company(company.0)
        .map_payment_method(
            ShopId(id),
            &code,
            &body.title,
            HostPaymentMethodId(body.payment_method_id),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusMappingInput {
    /// `new`, `processing`, `on_hold`, `completed`, `cancelled` or `refunded`.
    #[schema(schema_with = super::schema::host_status)]
    pub status: String,
}

/// Maps one of the shop's raw statuses to a host status.
#[utoipa::path(put, path = "/api/v1/shops/{id}/status-mappings/{raw}", tag = "shops",
    params(("id" = i64, Path), ("raw" = String, Path)), request_body = StatusMappingInput,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn map_status(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath((id, raw)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<StatusMappingInput>,
) -> ApiResult<StatusCode> {
    let status: HostStatus = parse_setting("status", &body.status)?;
    state
        .store
        .company(company.0)
        .map_status(ShopId(id), &raw, status)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PushStateQuery {
    /// `pushed`, `unlinked` (items to link) or `refused`.
    #[param(schema_with = super::schema::push_outcome)]
    pub outcome: Option<String>,
}

/// What the shop was last told about each item's stock; `?outcome=unlinked` lists the
/// items that have no link to the shop and were therefore not pushed.
#[utoipa::path(get, path = "/api/v1/shops/{id}/stock", tag = "shops",
    params(("id" = i64, Path), PushStateQuery),
    responses((status = 200, body = Vec<Object>)))]
pub async fn push_states(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<PushStateQuery>,
) -> ApiResult<Json<Vec<PushState>>> {
    let scope = state.store.company(company.0);
    scope.shop(ShopId(id)).await?;
    Ok(Json(
        scope
            .stock_push_states(ShopId(id), query.outcome.as_deref())
            .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resync {
    /// Items queued for pushing.
    pub queued: u64,
}

/// Pushes the stock of every item the shop could be told about again.
#[utoipa::path(post, path = "/api/v1/shops/{id}/stock/resync", tag = "shops",
    params(("id" = i64, Path)), responses((status = 202, body = Resync)))]
pub async fn resync_stock(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Resync>)> {
    let queued = state
        .store
        .company(company.0)
        .queue_full_stock_push(ShopId(id), OffsetDateTime::now_utc())
        .await?;
    state.wake.push.notify_one();
    Ok((StatusCode::ACCEPTED, Json(Resync { queued })))
}

/// What linking the shop's products to items did.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkProductsView {
    /// Products (and variations) read from the shop.
    pub products: u64,
    /// Links made, or completed with the platform's inventory id.
    pub linked: u64,
    pub already_linked: u64,
    /// Products whose SKU is no item's code.
    pub unmatched: u64,
    /// The first 100 of those SKUs.
    pub unmatched_skus: Vec<String>,
    pub without_sku: u64,
}

/// Reads the shop's products through its connector and links each one whose SKU is an
/// item's code, so stock reaches products no order has mentioned yet. Safe to repeat.
#[utoipa::path(post, path = "/api/v1/shops/{id}/products/link", tag = "shops",
    params(("id" = i64, Path)),
    responses((status = 200, body = LinkProductsView), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody)))]
pub async fn link_products(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<LinkProductsView>> {
    let shop = state.store.company(company.0).shop(ShopId(id)).await?;
    let report = crate::linking::link_products(&state, company.0, &shop).await?;
    if report.linked > 0 {
        // Newly linked items may never have been pushed.
        state
            .store
            .company(company.0)
            .queue_full_stock_push(shop.id, OffsetDateTime::now_utc())
            .await?;
        state.wake.push.notify_one();
    }
    Ok(Json(LinkProductsView {
        products: report.products,
        linked: report.linked,
        already_linked: report.already_linked,
        unmatched: report.unmatched,
        unmatched_skus: report.unmatched_skus,
        without_sku: report.without_sku,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `done`, `failed` or `malformed`.
    #[param(schema_with = super::schema::delivery_state)]
    pub state: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub received_at: OffsetDateTime,
    pub delivery_id: Option<String>,
    pub topic: Option<String>,
    pub state: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub order_id: Option<i64>,
    /// Why a processed delivery imported nothing, when a rule left the order alone:
    /// `before_import_from` (placed before the shop's import-from date) or `deleted`
    /// (the platform deleted an order that was never imported).
    pub skipped: Option<String>,
    /// The raw body of a malformed delivery, as text where it is UTF-8.
    pub body: Option<String>,
}

fn delivery_view(delivery: Delivery) -> DeliveryView {
    DeliveryView {
        id: delivery.id,
        received_at: delivery.received_at,
        delivery_id: delivery.delivery_id,
        topic: delivery.topic,
        state: delivery.state.as_str().to_owned(),
        attempts: delivery.attempts,
        last_error: delivery.last_error,
        order_id: delivery.order.map(|order| order.0),
        skipped: delivery.skip_reason,
        body: delivery
            .body
            .map(|body| String::from_utf8_lossy(&body).into_owned()),
    }
}

/// The shop's webhook deliveries, newest first: failed and malformed ones stay here
/// with their error for inspection.
#[utoipa::path(get, path = "/api/v1/shops/{id}/deliveries", tag = "shops",
    params(("id" = i64, Path), DeliveryQuery), responses((status = 200, body = Vec<DeliveryView>)))]
pub async fn deliveries(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    let filter = match query.state.as_deref() {
        None => None,
        Some("pending") => Some(DeliveryState::Pending),
        Some("done") => Some(DeliveryState::Done),
        Some("failed") => Some(DeliveryState::Failed),
        Some("malformed") => Some(DeliveryState::Malformed),
        Some(_) => {
            return Err(ApiError::field(
                "state",
                "must be pending, done, failed or malformed",
            ));
        }
    };
    let scope = state.store.company(company.0);
    scope.shop(ShopId(id)).await?;
    let list = scope
        .deliveries(ShopId(id), filter, limit(query.limit, 50, 500)?)
        .await?;
    Ok(Json(list.into_iter().map(delivery_view).collect()))
}

/// Puts a failed delivery back in line.
#[utoipa::path(post, path = "/api/v1/shops/{id}/deliveries/{delivery}/retry", tag = "shops",
    params(("id" = i64, Path), ("delivery" = i64, Path)),
    responses((status = 202), (status = 404, body = ErrorBody)))]
pub async fn retry_delivery(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath((id, delivery)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let scope = state.store.company(company.0);
    scope.shop(ShopId(id)).await?;
    scope
        .retry_delivery(delivery, OffsetDateTime::now_utc())
        .await?;
    state.wake.inbox.notify_one();
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProblemQuery {
    /// Also list the problems the user dismissed (default: only open ones).
    pub dismissed: Option<bool>,
}

/// An order a sync could not import because the import rules refused it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemView {
    /// The platform's order id.
    pub order_id: String,
    /// `sync` or `history`: what met it.
    pub source: String,
    /// Why it was refused, the last time it was tried.
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub first_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: OffsetDateTime,
    /// Times it was tried and refused.
    pub attempts: i64,
    /// Set once dismissed: not tried again until the order changes on the platform.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub dismissed_at: Option<OffsetDateTime>,
}

fn problem_view(problem: SyncProblem) -> ProblemView {
    ProblemView {
        order_id: problem.order_id,
        source: problem.source,
        reason: problem.reason,
        first_seen_at: problem.first_seen_at,
        last_seen_at: problem.last_seen_at,
        attempts: problem.attempts,
        dismissed_at: problem.dismissed_at,
    }
}

/// Orders the shop's syncs could not import because the import rules refused them,
/// oldest first. Every sync run tries the open ones again until they import.
#[utoipa::path(get, path = "/api/v1/shops/{id}/problems", tag = "shops",
    params(("id" = i64, Path), ProblemQuery),
    responses((status = 200, body = Vec<ProblemView>), (status = 404, body = ErrorBody)))]
pub async fn problems(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ProblemQuery>,
) -> ApiResult<Json<Vec<ProblemView>>> {
    let scope = state.store.company(company.0);
    scope.shop(ShopId(id)).await?;
    let list = scope
        .sync_problems(ShopId(id), query.dismissed.unwrap_or(false))
        .await?;
    Ok(Json(list.into_iter().map(problem_view).collect()))
}

/// Gives up on a problem order: syncs stop trying it, until the order changes on the
/// platform (then it is tried, and listed, again).
#[utoipa::path(post, path = "/api/v1/shops/{id}/problems/{order}/dismiss", tag = "shops",
    params(("id" = i64, Path), ("order" = String, Path, description = "the platform's order id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn dismiss_problem(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath((id, order)): ApiPath<(i64, String)>,
) -> ApiResult<StatusCode> {
    let scope = state.store.company(company.0);
    scope.shop(ShopId(id)).await?;
    scope
        .dismiss_sync_problem(ShopId(id), &order, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tries a problem order again now (a dismissed one too): the shop is synced at once.
#[utoipa::path(post, path = "/api/v1/shops/{id}/problems/{order}/retry", tag = "shops",
    params(("id" = i64, Path), ("order" = String, Path, description = "the platform's order id")),
    responses((status = 202), (status = 404, body = ErrorBody)))]
pub async fn retry_problem(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiPath((id, order)): ApiPath<(i64, String)>,
) -> ApiResult<StatusCode> {
    let scope = state.store.company(company.0);
    scope.shop(ShopId(id)).await?;
    scope.reopen_sync_problem(ShopId(id), &order).await?;
    scope
        .request_sync(ShopId(id), None, OffsetDateTime::now_utc())
        .await?;
    state.wake.sync.notify_one();
    Ok(StatusCode::ACCEPTED)
}
