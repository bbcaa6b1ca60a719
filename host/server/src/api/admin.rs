//! Operator routes: companies, their API tokens, and plugins.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::CompanyId;
use utoipa::ToSchema;

use super::auth::{Admin, Caller};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    #[schema(schema_with = super::schema::name)]
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
pub struct CompanyView {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// Every company (admin token only).
#[utoipa::path(get, path = "/api/v1/companies", tag = "operator",
    responses((status = 200, body = [CompanyView]), (status = 403, body = ErrorBody)))]
pub async fn list_companies(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
) -> ApiResult<Json<Vec<CompanyView>>> {
    let companies = state.store.companies().await?;
    Ok(Json(
        companies
            .into_iter()
            .map(|company| CompanyView {
                id: company.id.0,
                name: company.name,
                created_at: company.created_at,
            })
            .collect(),
    ))
}

/// An API token as listed: its name and first characters, never the token itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Set once the token is revoked; from then on it gets 401.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<tovor_store::companies::ApiToken> for TokenView {
    fn from(token: tovor_store::companies::ApiToken) -> Self {
        Self {
            id: token.id,
            name: token.name,
            prefix: token.prefix,
            created_at: token.created_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for ("shop sync", "accounting export").
    #[schema(schema_with = super::schema::name)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    /// The token; shown only here.
    pub token: String,
}

/// The company whose tokens `caller` may manage: any with the admin token, its own with
/// a company's token (another company's is 404, as everywhere).
async fn token_owner(state: &AppState, caller: Caller, company: i64) -> ApiResult<CompanyId> {
    let company = CompanyId(company);
    let allowed = match caller {
        Caller::Admin => state.store.find_company(company).await?.is_some(),
        Caller::Company(own) => own == company,
    };
    if allowed {
        Ok(company)
    } else {
        Err(ApiError::not_found(format!(
            "company {} not found",
            company.0
        )))
    }
}

/// A company's API tokens, revoked ones included (admin token, or the company's own).
#[utoipa::path(get, path = "/api/v1/companies/{id}/tokens", tag = "operator",
    params(("id" = i64, Path, description = "company id")),
    responses((status = 200, body = [TokenView]), (status = 404, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let company = token_owner(&state, caller, id).await?;
    let tokens = state.store.api_tokens(company).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

/// Makes another API token for a company (admin token, or the company's own); the
/// answer is the only place the token is ever shown.
#[utoipa::path(post, path = "/api/v1/companies/{id}/tokens", tag = "operator",
    params(("id" = i64, Path, description = "company id")), request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let company = token_owner(&state, caller, id).await?;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::field(
            "name",
            "a token needs a name (what it is for)",
        ));
    }
    let token = state
        .store
        .create_api_token(company, name, OffsetDateTime::now_utc())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: token.id,
            name: name.to_owned(),
            token: token.secret,
        }),
    ))
}

/// Revokes a company's API token (admin token, or the company's own): every request
/// with it gets 401 from now on, in every process sharing the database. Revoking a
/// revoked token changes nothing.
#[utoipa::path(post, path = "/api/v1/companies/{id}/tokens/{token_id}/revoke", tag = "operator",
    params(("id" = i64, Path, description = "company id"),
        ("token_id" = i64, Path, description = "token id")),
    responses((status = 200, body = TokenView), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath((id, token_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<TokenView>> {
    let company = token_owner(&state, caller, id).await?;
    let token = state
        .store
        .revoke_api_token(company, token_id, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(token.into()))
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
        contract: plugin.contract.to_string(),
        sha256: plugin.wasm_sha256.clone(),
        capabilities: plugin
            .capabilities
            .iter()
            .map(|capability| capability.interface().to_owned())
            .collect(),
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
#[serde(deny_unknown_fields)]
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
