//! Operator routes for the people who sign in to the web admin: adding them (the
//! first owner of a company is made here, with the admin token), their roles in
//! companies, and password resets. There is no "forgot password": the operator
//! resets it.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::access::Role;
use tovor_domain::company::DocumentLanguage;
use tovor_domain::{CompanyId, UserId};
use tovor_store::users::User;
use utoipa::ToSchema;

use super::auth::Admin;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::accounts::{self, AccountError, AddUser};
use crate::state::AppState;

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Email(error) => ApiError::field("email", error.to_string()),
            AccountError::Password(error) => ApiError::field("password", error.to_string()),
            AccountError::Hashing(message) => ApiError::internal(message),
            AccountError::Store(error) => error.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// What the person signs in with; stored lower case.
    #[schema(example = "ana.novak@example.si", format = Email,
        pattern = "^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$", max_length = 254)]
    pub email: String,
    #[schema(schema_with = super::schema::name)]
    pub name: String,
    /// At least 10 characters.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    /// `sl` (default) or `en`: the language of the admin's pages.
    #[schema(pattern = "^(sl|en)$")]
    pub language: Option<String>,
    /// The operator manages companies and plugins.
    #[serde(default)]
    pub operator: bool,
    /// A company the person joins at once.
    pub company: Option<JoinCompany>,
}

/// A company someone joins, and as what.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinCompany {
    pub id: i64,
    /// `owner` (default), `staff` or `read_only`.
    #[schema(pattern = "^(owner|staff|read_only)$")]
    pub role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    pub company_id: i64,
    pub company_name: String,
    /// `owner`, `staff` or `read_only`.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub language: String,
    pub operator: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Set while the person may not sign in.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disabled_at: Option<OffsetDateTime>,
    pub companies: Vec<MembershipView>,
}

async fn user_view(state: &AppState, user: User) -> ApiResult<UserView> {
    let companies = state
        .store
        .memberships(user.id)
        .await?
        .into_iter()
        .map(|membership| MembershipView {
            company_id: membership.company.0,
            company_name: membership.company_name,
            role: membership.role.as_str().to_owned(),
        })
        .collect();
    Ok(UserView {
        id: user.id.0,
        email: user.email,
        name: user.name,
        language: user.language.as_str().to_owned(),
        operator: user.operator,
        created_at: user.created_at,
        disabled_at: user.disabled_at,
        companies,
    })
}

fn parse_role(role: Option<&str>) -> ApiResult<Role> {
    role.map_or(Ok(Role::Owner), |role| {
        role.parse()
            .map_err(|error: tovor_domain::access::UnknownRole| {
                ApiError::field("role", error.to_string())
            })
    })
}

async fn find_user(state: &AppState, id: i64) -> ApiResult<User> {
    state
        .store
        .user(UserId(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {id} not found")))
}

/// Adds a person who signs in to the web admin (admin token only), optionally into a
/// company at once: this is how a company's first owner is made.
#[utoipa::path(post, path = "/api/v1/users", tag = "operator", request_body = NewUserBody,
    responses((status = 201, body = UserView), (status = 409, description = "someone already signs in with this address", body = ErrorBody)))]
pub async fn create_user(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    ApiJson(body): ApiJson<NewUserBody>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let language: DocumentLanguage = match body.language.as_deref() {
        Some(language) => language
            .parse()
            .map_err(|_| ApiError::field("language", "use sl or en"))?,
        None => DocumentLanguage::Sl,
    };
    let company = match &body.company {
        Some(company) => Some((
            CompanyId(company.id),
            parse_role(company.role.as_deref())
                .map_err(|error| ApiError::field("company.role", error.message))?,
        )),
        None => None,
    };
    let id = accounts::add_user(
        &state.store,
        AddUser {
            email: body.email,
            name: body.name,
            password: body.password,
            language,
            operator: body.operator,
            company,
        },
    )
    .await?;
    let user = find_user(&state, id.0).await?;
    Ok((StatusCode::CREATED, Json(user_view(&state, user).await?)))
}

/// Everyone who signs in, with their companies (admin token only).
#[utoipa::path(get, path = "/api/v1/users", tag = "operator",
    responses((status = 200, body = [UserView])))]
pub async fn list_users(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
) -> ApiResult<Json<Vec<UserView>>> {
    let mut views = Vec::new();
    for user in state.store.users().await? {
        views.push(user_view(&state, user).await?);
    }
    Ok(Json(views))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

/// Sets a person's password (admin token only) and signs them out everywhere.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "operator",
    params(("id" = i64, Path, description = "user id")), request_body = PasswordBody,
    responses((status = 204, description = "set; the person's sessions are ended")))]
pub async fn reset_password(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    find_user(&state, id).await?;
    accounts::set_password(&state.store, UserId(id), body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `owner`, `staff` or `read_only`.
    #[schema(pattern = "^(owner|staff|read_only)$")]
    pub role: String,
}

/// Puts a person into a company with a role, or changes their role there (admin
/// token only).
#[utoipa::path(put, path = "/api/v1/users/{id}/companies/{company_id}", tag = "operator",
    params(("id" = i64, Path, description = "user id"),
        ("company_id" = i64, Path, description = "company id")), request_body = RoleBody,
    responses((status = 200, body = UserView)))]
pub async fn set_role(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    ApiPath((id, company)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<RoleBody>,
) -> ApiResult<Json<UserView>> {
    let role = parse_role(Some(&body.role))?;
    state
        .store
        .set_membership(
            UserId(id),
            CompanyId(company),
            role,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let user = find_user(&state, id).await?;
    Ok(Json(user_view(&state, user).await?))
}

/// Takes a person out of a company (admin token only).
#[utoipa::path(delete, path = "/api/v1/users/{id}/companies/{company_id}", tag = "operator",
    params(("id" = i64, Path, description = "user id"),
        ("company_id" = i64, Path, description = "company id")),
    responses((status = 200, body = UserView)))]
pub async fn remove_role(
    State(state): State<Arc<AppState>>,
    _admin: Admin,
    ApiPath((id, company)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<UserView>> {
    let user = find_user(&state, id).await?;
    state
        .store
        .remove_membership(UserId(id), CompanyId(company))
        .await?;
    Ok(Json(user_view(&state, user).await?))
}
