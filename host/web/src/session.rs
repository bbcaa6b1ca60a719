//! Signed-in browsers: the session cookie, the person behind it, the company a page is
//! about and the person's role there, and the CSRF check on every form.
//!
//! The cookie holds 256 random bits; the database keeps their SHA-256. It is
//! `HttpOnly` (no script reads it), `SameSite=Lax` (other sites' forms do not carry
//! it, links from e-mails still do) and `Secure` when the service is reached over
//! HTTPS. Every form carries the session's CSRF token in `_csrf`; a POST without it is
//! refused before its handler runs.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use tovor_domain::CompanyId;
use tovor_domain::access::{Action, Role};
use tovor_server::AppState;
use tovor_store::users::{Membership, User};

use crate::error::WebError;
use crate::i18n::Texts;

pub const SESSION_COOKIE: &str = "tovor_session";
/// The sign-in form's own token (there is no session yet): a cookie and a hidden
/// field that must match, so another site cannot sign a browser in as someone else.
pub const SIGN_IN_COOKIE: &str = "tovor_signin";
/// A message for the next page after a form was handled (post, redirect, get).
pub const FLASH_COOKIE: &str = "tovor_flash";

/// A session ends this long after it was last extended.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);

pub fn random_token() -> String {
    let mut random = [0_u8; 32];
    rand::rng().fill_bytes(&mut random);
    hex::encode(random)
}

pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` header for `name`: `max_age` zero removes it.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Duration) -> HeaderValue {
    cookie_header(
        state.public_url.starts_with("https://"),
        name,
        value,
        max_age,
    )
}

/// The `Set-Cookie` value: `Secure` when the service is reached over HTTPS (a browser
/// would not send a `Secure` cookie back over plain HTTP at all).
fn cookie_header(secure: bool, name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age.whole_seconds().max(0)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A response that also sets a cookie.
pub fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

/// A redirect that shows `message` on the page it leads to.
pub fn redirect_with_flash(state: &AppState, to: &str, message: &str) -> Response {
    let encoded: String = form_urlencoded(message);
    with_cookie(
        Redirect::to(to).into_response(),
        set_cookie(state, FLASH_COOKIE, &encoded, Duration::minutes(1)),
    )
}

fn form_urlencoded(text: &str) -> String {
    serde_urlencoded::to_string([("m", text)])
        .map(|encoded| encoded.trim_start_matches("m=").to_owned())
        .unwrap_or_default()
}

/// The flash message a redirect left, if any.
pub fn flash(headers: &HeaderMap) -> Option<String> {
    let raw = cookie(headers, FLASH_COOKIE)?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("m={raw}"))
        .ok()?
        .into_iter()
        .next()
        .map(|(_, message)| message)
        .filter(|message| !message.is_empty())
}

/// Someone signed in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub csrf: String,
    pub texts: &'static Texts,
    /// The message a redirect left for this page.
    pub flash: Option<String>,
}

impl SignedIn {
    pub fn is_operator(&self) -> bool {
        self.user.operator
    }
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(signed_in) = parts.extensions.get::<SignedIn>() {
            return Ok(signed_in.clone());
        }
        let to_sign_in = || {
            let next = parts.uri.path_and_query().map_or("/", |path| path.as_str());
            if parts.method == Method::GET {
                Redirect::to(&format!("/sign-in?next={}", form_urlencoded(next))).into_response()
            } else {
                Redirect::to("/sign-in").into_response()
            }
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_sign_in());
        };
        let hash = token_hash(secret);
        let now = OffsetDateTime::now_utc();
        let session = state
            .store
            .web_session(&hash, now)
            .await
            .map_err(|error| WebError::internal(error).into_response())?;
        let Some(session) = session else {
            return Err(to_sign_in());
        };
        // Sliding sessions: extended once half their time has passed, not on every
        // request, so reading pages does not write to the database.
        if session.expires_at - now < SESSION_LIFETIME / 2
            && let Err(error) = state
                .store
                .extend_web_session(&hash, now + SESSION_LIFETIME)
                .await
        {
            tracing::warn!(%error, "extending a web session");
        }
        let texts = Texts::of(session.user.language);
        crate::error::set_language(texts);
        let signed_in = SignedIn {
            texts,
            user: session.user,
            csrf: session.csrf_token,
            flash: flash(&parts.headers),
        };
        parts.extensions.insert(signed_in.clone());
        Ok(signed_in)
    }
}

/// A signed-in person on a page of one company (`/c/{company}/...`) that they work in.
/// A company they do not work in is "not found", like a record of another company.
#[derive(Debug, Clone)]
pub struct Workplace {
    pub signed_in: SignedIn,
    pub company: CompanyId,
    pub company_name: String,
    pub role: Role,
    pub memberships: Vec<Membership>,
}

impl Workplace {
    /// Refuses with 403 unless the person's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), WebError> {
        if self.role.may(action) {
            Ok(())
        } else {
            Err(WebError::forbidden())
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.role.may(action)
    }

    pub fn texts(&self) -> &'static Texts {
        self.signed_in.texts
    }

    /// `/c/{company}` followed by `path`.
    pub fn link(&self, path: &str) -> String {
        format!("/c/{}{path}", self.company.0)
    }
}

impl FromRequestParts<Arc<AppState>> for Workplace {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let signed_in = SignedIn::from_request_parts(parts, state).await?;
        let params = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::not_found().into_response())?;
        let company = params
            .get("company")
            .and_then(|id| id.parse::<i64>().ok())
            .map(CompanyId)
            .ok_or_else(|| WebError::not_found().into_response())?;
        let memberships = state
            .store
            .memberships(signed_in.user.id)
            .await
            .map_err(|error| WebError::internal(error).into_response())?;
        let Some(membership) = memberships
            .iter()
            .find(|membership| membership.company == company)
        else {
            return Err(WebError::not_found().into_response());
        };
        Ok(Workplace {
            company,
            company_name: membership.company_name.clone(),
            role: membership.role,
            memberships: memberships.clone(),
            signed_in,
        })
    }
}

/// A form posted by a signed-in person, after its CSRF token was checked. `T` is read
/// from the same body and ignores `_csrf`.
pub struct Form<T>(pub T);

impl<T> FromRequest<Arc<AppState>> for Form<T>
where
    T: DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let signed_in = SignedIn::from_request_parts(&mut parts, state).await?;
        let texts = signed_in.texts;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| WebError::bad_request(texts.expired_form).into_response())?;
        let presented = pairs
            .iter()
            .find(|(key, _)| key == "_csrf")
            .map_or("", |(_, value)| value.as_str());
        if !same_token(presented, &signed_in.csrf) {
            tracing::warn!(user = %signed_in.user.id, "form refused: CSRF token missing or wrong");
            return Err(WebError::csrf().into_response());
        }
        let value = serde_urlencoded::from_bytes(&bytes)
            .map_err(|error| WebError::bad_request(error.to_string()).into_response())?;
        Ok(Form(value))
    }
}

/// A form with nothing but its CSRF token (a button).
#[derive(Debug, serde::Deserialize)]
pub struct Button {}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;
    use axum::http::header::COOKIE;

    use super::*;

    #[test]
    fn session_cookies_are_http_only_lax_and_secure_behind_https() {
        let plain = cookie_header(false, SESSION_COOKIE, "abc", Duration::hours(12));
        assert_eq!(
            plain.to_str().unwrap(),
            "tovor_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200"
        );
        let secure = cookie_header(true, SESSION_COOKIE, "abc", Duration::ZERO);
        assert!(secure.to_str().unwrap().ends_with("; Max-Age=0; Secure"));
    }

    #[test]
    fn cookies_are_found_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=1; tovor_session=xyz".parse().unwrap());
        headers.append(COOKIE, "tovor_flash=hello%20there".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "missing"), None);
        assert_eq!(flash(&headers).as_deref(), Some("hello there"));
    }

    #[test]
    fn flash_messages_survive_their_cookie() {
        let message = "Dobavnica 2026-00001 izdana; čšž & \"quotes\"";
        let encoded = form_urlencoded(message);
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, format!("{FLASH_COOKIE}={encoded}").parse().unwrap());
        assert_eq!(flash(&headers).as_deref(), Some(message));
    }

    #[test]
    fn tokens_compare_whole_and_never_empty() {
        let token = random_token();
        assert_eq!(token.len(), 64);
        assert!(same_token(&token, &token.clone()));
        assert!(!same_token("", ""));
        assert!(!same_token(&token, &token[..63]));
        assert_eq!(token_hash("x").len(), 64);
    }
}
