//! Operator routes: companies, their API tokens, and plugins.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, Multipart, State};
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

/// A plugin folder uploaded as it is: what `tovor plugins install DIR` sends.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // describes the multipart body for the API document only
pub struct PluginUpload {
    /// The plugin's `plugin.toml`.
    pub manifest: String,
    /// The component, `plugin.wasm`.
    #[schema(value_type = String, format = Binary)]
    pub wasm: Vec<u8>,
}

/// The largest plugin upload. Far above the global body limit, which is sized for JSON
/// records: connectors are components of a few hundred KiB to a few MiB.
pub const MAX_PLUGIN_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

/// Adds or replaces a plugin (admin token only): `multipart/form-data` with the parts
/// `manifest` (plugin.toml) and `wasm` (plugin.wasm), or JSON with the component in
/// base64; either up to 32 MiB. Validated and compiled
/// before it replaces the installed version; a plugin that does not load changes
/// nothing.
#[utoipa::path(post, path = "/api/v1/plugins", tag = "plugins",
    request_body(content(
        (PluginUpload = "multipart/form-data"),
        (NewPlugin = "application/json"),
    )),
    responses((status = 201, body = PluginView), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_plugin(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<PluginView>)> {
    let (manifest, wasm) = if is_multipart(request.headers()) {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        plugin_parts(form).await?
    } else {
        use base64::Engine;
        let ApiJson(body) = ApiJson::<NewPlugin>::from_request(request, &state).await?;
        let wasm = base64::engine::general_purpose::STANDARD
            .decode(body.wasm_base64.trim())
            .map_err(|_| ApiError::field("wasm_base64", "not base64"))?;
        (body.manifest, wasm)
    };
    let plugin = install_plugin(&state, &manifest, &wasm).await?;
    Ok((StatusCode::CREATED, Json(plugin)))
}

/// Installs a plugin folder's two files: validated and compiled before it replaces
/// the installed version (the API's upload and the admin's both come here).
///
/// # Errors
///
/// `plugin_refused` (422) with the reason when the plugin does not load.
pub async fn install_plugin(
    state: &AppState,
    manifest: &str,
    wasm: &[u8],
) -> ApiResult<PluginView> {
    let plugin = state
        .runtime
        .install(&state.plugins_dir, manifest, wasm)
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plugin_refused",
                error.to_string(),
            )
        })?;
    state.shops.clear();
    Ok(plugin_view(&plugin))
}

fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// The `manifest` and `wasm` parts of a plugin upload.
async fn plugin_parts(mut form: Multipart) -> ApiResult<(String, Vec<u8>)> {
    let mut manifest = None;
    let mut wasm = None;
    while let Some(part) = form.next_field().await.map_err(multipart_error)? {
        let name = part.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "manifest" => {
                let text = part.text().await.map_err(multipart_error)?;
                manifest = Some(text);
            }
            "wasm" => {
                let bytes = part.bytes().await.map_err(multipart_error)?;
                wasm = Some(bytes.to_vec());
            }
            other => {
                return Err(ApiError::field(
                    other,
                    "unknown part: a plugin upload has the parts manifest and wasm",
                ));
            }
        }
    }
    let manifest =
        manifest.ok_or_else(|| ApiError::field("manifest", "the plugin.toml part is missing"))?;
    let wasm = wasm.ok_or_else(|| ApiError::field("wasm", "the plugin.wasm part is missing"))?;
    Ok((manifest, wasm))
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::payload_too_large(MAX_PLUGIN_UPLOAD_BYTES);
    }
    ApiError::bad_request(format!(
        "the multipart body is broken: {}",
        error.body_text()
    ))
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
