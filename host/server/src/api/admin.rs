//! Operator routes: companies and plugins.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::{Admin, Caller};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCompany {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedCompany {
    pub id: i64,
    /// The company's first API token; shown only here.
    pub token: String,
}

/// Creates a company and its first API token (admin token only).
#[utoipa::path(post, path = "/api/v1/companies", tag = "operator", request_body = NewCompany,
    responses((status = 201, body = CreatedCompany), (status = 403, body = ErrorBody)))]
pub async fn create_company(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    ApiJson(body): ApiJson<NewCompany>,
) -> ApiResult<(StatusCode, Json<CreatedCompany>)> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::field("name", "a company needs a name"));
    }
    let now = OffsetDateTime::now_utc();
    let id = state.store.create_company(name, now).await?;
    let token = state.store.create_api_token(id, "initial", now).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedCompany {
            id: id.0,
            token: token.secret,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub id: String,
    pub name: String,
    /// `shop` or `carrier`.
    pub kind: String,
    pub version: String,
    pub contract: String,
    pub sha256: String,
    pub capabilities: Vec<String>,
    /// The config fields a shop fills in (`secret` ones are never shown back).
    #[schema(value_type = Vec<Object>)]
    pub config: Vec<tovor_manifest::ConfigField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginList {
    pub plugins: Vec<PluginView>,
    /// Plugin folders that did not load, and why.
    pub failures: Vec<PluginFailure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginFailure {
    pub dir: String,
    pub message: String,
}

fn plugin_view(plugin: &tovor_runtime::LoadedPlugin) -> PluginView {
    let info = &plugin.manifest.plugin;
    PluginView {
        id: info.id.clone(),
        name: info.name.clone(),
        kind: info.kind.to_string(),
        version: info.version.to_string(),
        contract: info.contract.to_string(),
        sha256: plugin.wasm_sha256.clone(),
        capabilities: plugin.manifest.capabilities().to_vec(),
        config: plugin.manifest.config.clone(),
    }
}

/// Loaded plugins: id, kind, version, config fields.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins",
    responses((status = 200, body = PluginList), (status = 401, body = ErrorBody)))]
pub async fn list_plugins(State(state): State<Arc<AppState>>, _caller: Caller) -> Json<PluginList> {
    let mut plugins: Vec<PluginView> = state
        .runtime
        .plugins()
        .iter()
        .map(|plugin| plugin_view(plugin))
        .collect();
    plugins.sort_by(|a, b| a.id.cmp(&b.id));
    let failures = state
        .runtime
        .load_failures()
        .into_iter()
        .map(|failure| PluginFailure {
            dir: failure.dir.display().to_string(),
            message: failure.message,
        })
        .collect();
    Json(PluginList { plugins, failures })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPlugin {
    /// The plugin's `plugin.toml`.
    pub manifest: String,
    /// The component (`plugin.wasm`), base64.
    pub wasm_base64: String,
}

/// Adds or replaces a plugin (admin token only). Validated and compiled before it
/// replaces the installed version; a plugin that does not load changes nothing.
#[utoipa::path(post, path = "/api/v1/plugins", tag = "plugins", request_body = NewPlugin,
    responses((status = 201, body = PluginView), (status = 422, body = ErrorBody)))]
pub async fn add_plugin(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    ApiJson(body): ApiJson<NewPlugin>,
) -> ApiResult<(StatusCode, Json<PluginView>)> {
    use base64::Engine;
    let wasm = base64::engine::general_purpose::STANDARD
        .decode(body.wasm_base64.trim())
        .map_err(|_| ApiError::field("wasm_base64", "not base64"))?;
    let plugin = state
        .runtime
        .install(&state.plugins_dir, &body.manifest, &wasm)
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plugin_refused",
                error.to_string(),
            )
        })?;
    state.shops.clear();
    Ok((StatusCode::CREATED, Json(plugin_view(&plugin))))
}

/// Reloads a plugin from its folder (admin token only).
#[utoipa::path(post, path = "/api/v1/plugins/{id}/reload", tag = "plugins",
    params(("id" = String, Path, description = "plugin id")),
    responses((status = 200, body = PluginView), (status = 404, body = ErrorBody)))]
pub async fn reload_plugin(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PluginView>> {
    match state.runtime.reload(&id).await {
        Ok(plugin) => {
            state.shops.clear();
            Ok(Json(plugin_view(&plugin)))
        }
        Err(tovor_runtime::ReloadError::NotLoaded(id)) => {
            Err(ApiError::not_found(format!("no plugin {id}")))
        }
        Err(error) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plugin_refused",
            error.to_string(),
        )),
    }
}
