//! Bearer tokens: the operator's admin token, or a company's API token. A company
//! token reaches only its company's records; everything else answers 404 as if it did
//! not exist.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;
use tovor_domain::CompanyId;

use super::error::ApiError;
use crate::state::AppState;

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn is_admin(state: &AppState, token: &str) -> bool {
    bool::from(token.as_bytes().ct_eq(state.admin_token.as_bytes()))
}

/// Whoever presented a valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Company(CompanyId),
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(ApiError::unauthorized)?;
        if is_admin(state, token) {
            return Ok(Self::Admin);
        }
        match state.store.authenticate(token).await? {
            Some(company) => Ok(Self::Company(company)),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// A company's token (company routes).
#[derive(Debug, Clone, Copy)]
pub struct Company(pub CompanyId);

impl FromRequestParts<Arc<AppState>> for Company {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Company(company) => Ok(Self(company)),
            Caller::Admin => Err(ApiError::forbidden(
                "the admin token manages companies and plugins; use a company's token here",
            )),
        }
    }
}

/// The admin token (operator routes).
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Admin => Ok(Self),
            Caller::Company(_) => Err(ApiError::forbidden("this needs the admin token")),
        }
    }
}
