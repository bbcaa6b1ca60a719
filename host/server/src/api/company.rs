//! The company's profile: the data its documents carry about it, its logo, and the time
//! zone and language its documents are written in.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tovor_domain::company::{
    CompanyTimeZone, DEFAULT_TIME_ZONE, ProfileError, normalize_bic, normalize_country,
    normalize_iban, normalize_vat_id,
};
use tovor_store::profiles::{CompanyProfile, DEFAULT_PAYMENT_DAYS, Logo};
use utoipa::ToSchema;

use super::auth::Company;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::ApiJson;
use crate::state::AppState;

/// The largest logo accepted: a letterhead needs a few hundred kilobytes at most.
const MAX_LOGO_BYTES: usize = 1 << 20;

/// The company's profile. Every field may be left out or null, except that documents
/// need a legal name and address to be printed, and an e-invoice needs the VAT number.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// The name documents carry (the company's name when not set).
    pub legal_name: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// ISO 3166 two-letter code, such as `SI`.
    pub country: Option<String>,
    /// With its country prefix: `SI12345679`. Slovenian numbers' check digit is
    /// verified.
    pub vat_id: Option<String>,
    /// The registration number (`matična številka`).
    pub registration_number: Option<String>,
    /// Checked (ISO 13616) and stored without spaces.
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Printed at the foot of every page: court register, share capital, …
    pub footer: Option<String>,
    /// IANA name; `Europe/Ljubljana` when not set. Documents are dated, and numbered
    /// by year, in it.
    pub time_zone: Option<String>,
    /// `sl` (default) or `en`.
    pub language: Option<String>,
    /// Days from issue to the due date of an unpaid invoice; 8 when not set.
    #[schema(minimum = 0, maximum = 365)]
    pub payment_days: Option<u16>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    pub legal_name: Option<String>,
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub vat_id: Option<String>,
    pub registration_number: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub footer: Option<String>,
    pub time_zone: String,
    pub language: String,
    pub payment_days: u16,
    /// The logo is served at `/api/v1/company/logo` when there is one.
    pub has_logo: bool,
    /// When it was last changed; null while the company is on the defaults.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<OffsetDateTime>,
}

fn view(profile: CompanyProfile) -> ProfileView {
    ProfileView {
        legal_name: profile.legal_name,
        street: profile.street,
        postal_code: profile.postal_code,
        city: profile.city,
        country: profile.country,
        vat_id: profile.vat_id,
        registration_number: profile.registration_number,
        iban: profile.iban,
        bic: profile.bic,
        email: profile.email,
        phone: profile.phone,
        footer: profile.footer,
        time_zone: profile.time_zone.name().to_owned(),
        language: profile.language.as_str().to_owned(),
        payment_days: profile.payment_days,
        has_logo: profile.logo_type.is_some(),
        updated_at: profile.updated_at,
    }
}

/// A trimmed text, `None` when empty.
fn text(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn checked(
    field: &str,
    value: Option<String>,
    normalize: impl Fn(&str) -> Result<String, ProfileError>,
) -> ApiResult<Option<String>> {
    text(value)
        .map(|value| normalize(&value).map_err(|error| ApiError::field(field, error.to_string())))
        .transpose()
}

fn profile_of(input: ProfileInput) -> ApiResult<CompanyProfile> {
    let time_zone = match text(input.time_zone) {
        Some(name) => CompanyTimeZone::parse(&name)
            .map_err(|error| ApiError::field("time_zone", error.to_string()))?,
        None => CompanyTimeZone::parse(DEFAULT_TIME_ZONE)
            .map_err(|error| ApiError::field("time_zone", error.to_string()))?,
    };
    let language = match text(input.language) {
        Some(language) => language
            .parse()
            .map_err(|error: ProfileError| ApiError::field("language", error.to_string()))?,
        None => Default::default(),
    };
    let payment_days = input.payment_days.unwrap_or(DEFAULT_PAYMENT_DAYS);
    if payment_days > 365 {
        return Err(ApiError::field("payment_days", "at most 365 days"));
    }
    Ok(CompanyProfile {
        legal_name: text(input.legal_name),
        street: text(input.street),
        postal_code: text(input.postal_code),
        city: text(input.city),
        country: checked("country", input.country, normalize_country)?,
        vat_id: checked("vat_id", input.vat_id, normalize_vat_id)?,
        registration_number: text(input.registration_number),
        iban: checked("iban", input.iban, normalize_iban)?,
        bic: checked("bic", input.bic, normalize_bic)?,
        email: text(input.email),
        phone: text(input.phone),
        footer: text(input.footer),
        time_zone,
        language,
        payment_days,
        logo_type: None,
        updated_at: None,
    })
}

/// The company's profile (the defaults until it is set).
#[utoipa::path(get, path = "/api/v1/company/profile", tag = "company",
    responses((status = 200, body = ProfileView)))]
pub async fn get_profile(
    State(state): State<Arc<AppState>>,
    company: Company,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(view(state.store.company(company.0).profile().await?)))
}

/// Sets the company's profile: every field, those left out back to their defaults.
#[utoipa::path(put, path = "/api/v1/company/profile", tag = "company", request_body = ProfileInput,
    responses((status = 200, body = ProfileView), (status = 400, body = ErrorBody)))]
pub async fn put_profile(
    State(state): State<Arc<AppState>>,
    company: Company,
    ApiJson(input): ApiJson<ProfileInput>,
) -> ApiResult<Json<ProfileView>> {
    let profile = profile_of(input)?;
    let saved = state
        .store
        .company(company.0)
        .set_profile(&profile, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(view(saved)))
}

/// The company's logo as uploaded.
#[utoipa::path(get, path = "/api/v1/company/logo", tag = "company",
    responses((status = 200, description = "the logo", content_type = "image/png", body = Vec<u8>),
        (status = 404, body = ErrorBody)))]
pub async fn get_logo(State(state): State<Arc<AppState>>, company: Company) -> ApiResult<Response> {
    let logo = state
        .store
        .company(company.0)
        .logo()
        .await?
        .ok_or_else(|| ApiError::not_found("the company has no logo"))?;
    Ok(([(CONTENT_TYPE, logo.content_type)], logo.data).into_response())
}

/// Sets the logo printed in the letterhead: the body is a PNG or JPEG image, up to
/// 1 MiB, with its content type.
#[utoipa::path(put, path = "/api/v1/company/logo", tag = "company",
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 204, description = "saved"), (status = 400, body = ErrorBody)))]
pub async fn put_logo(
    State(state): State<Arc<AppState>>,
    company: Company,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let expected: &[u8] = match content_type.as_str() {
        "image/png" => b"\x89PNG\r\n\x1a\n",
        "image/jpeg" => b"\xff\xd8\xff",
        _ => {
            return Err(ApiError::field(
                "content-type",
                "send the logo as image/png or image/jpeg",
            ));
        }
    };
    if body.len() > MAX_LOGO_BYTES {
        return Err(ApiError::field("body", "a logo may have at most 1 MiB"));
    }
    if !body.starts_with(expected) {
        return Err(ApiError::field(
            "body",
            format!("the body is not a {content_type} image"),
        ));
    }
    let logo = Logo {
        content_type,
        data: body.to_vec(),
    };
    state
        .store
        .company(company.0)
        .set_logo(Some(&logo), OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the logo.
#[utoipa::path(delete, path = "/api/v1/company/logo", tag = "company",
    responses((status = 204, description = "removed")))]
pub async fn delete_logo(
    State(state): State<Arc<AppState>>,
    company: Company,
) -> ApiResult<StatusCode> {
    state
        .store
        .company(company.0)
        .set_logo(None, OffsetDateTime::now_utc())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_checked_and_normalised() {
        let profile = profile_of(ProfileInput {
            legal_name: Some("  Trgovina d.o.o. ".into()),
            country: Some("si".into()),
            iban: Some("SI56 1910 0000 0123 438".into()),
            vat_id: Some("SI 12345679".into()),
            bic: Some(" ".into()),
            ..ProfileInput::default()
        })
        .unwrap();
        assert_eq!(profile.legal_name.as_deref(), Some("Trgovina d.o.o."));
        assert_eq!(profile.country.as_deref(), Some("SI"));
        assert_eq!(profile.iban.as_deref(), Some("SI56191000000123438"));
        assert_eq!(profile.vat_id.as_deref(), Some("SI12345679"));
        assert_eq!(profile.bic, None);
        assert_eq!(profile.time_zone.name(), "Europe/Ljubljana");
        assert_eq!(profile.payment_days, 8);
        for (input, field) in [
            (
                ProfileInput {
                    iban: Some("SI56191000000123439".into()),
                    ..Default::default()
                },
                "iban",
            ),
            (
                ProfileInput {
                    time_zone: Some("Mars/Olympus".into()),
                    ..Default::default()
                },
                "time_zone",
            ),
            (
                ProfileInput {
                    language: Some("de".into()),
                    ..Default::default()
                },
                "language",
            ),
            (
                ProfileInput {
                    payment_days: Some(400),
                    ..Default::default()
                },
                "payment_days",
            ),
        ] {
            let error = profile_of(input).unwrap_err();
            assert_eq!(error.field.as_deref(), Some(field), "{error:?}");
        }
    }
}
