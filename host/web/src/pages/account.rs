//! Signing in and out, the first account, the person's language, and the page that
//! leads a person to their company.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use tovor_domain::UserId;
use tovor_domain::access::Role;
use tovor_domain::company::DocumentLanguage;
use tovor_server::AppState;
use tovor_server::accounts::{self, AccountError, AddUser, SignInError};

use crate::error::{WebError, WebResult};
use crate::i18n::Texts;
use crate::page::{Chrome, CompanyChoice, render};
use crate::session::{
    Button, Form, SESSION_COOKIE, SESSION_LIFETIME, SIGN_IN_COOKIE, SignedIn, cookie, random_token,
    same_token, set_cookie, token_hash, with_cookie,
};

/// The language for someone not signed in: asked for in the address, else the
/// browser's first choice when it is Slovenian or English, else Slovenian.
fn visitor_language(asked: Option<&str>, headers: &HeaderMap) -> DocumentLanguage {
    if let Some(language) = asked.and_then(|asked| asked.parse().ok()) {
        return language;
    }
    let preferred = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(|first| first.trim().to_ascii_lowercase());
    match preferred {
        Some(first) if first.starts_with("en") => DocumentLanguage::En,
        _ => DocumentLanguage::Sl,
    }
}

/// Only paths of this service, so a crafted link cannot send a person elsewhere after
/// signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn client_address(connect: Option<&ConnectInfo<SocketAddr>>) -> IpAddr {
    connect.map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip())
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    t: &'static Texts,
    lang: &'static str,
    csrf: String,
    next: String,
    email: String,
    problem: Option<String>,
    first_time: bool,
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// The sign-in form. Its token lives in a cookie of its own until someone signs in.
async fn sign_in_form(
    state: &AppState,
    headers: &HeaderMap,
    language: DocumentLanguage,
    next: String,
    email: String,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let t = Texts::of(language);
    let token = cookie(headers, SIGN_IN_COOKIE)
        .filter(|token| token.len() == 64)
        .map_or_else(random_token, str::to_owned);
    let first_time = !state.store.has_users().await.unwrap_or(true);
    let page = SignInPage {
        t,
        lang: language.as_str(),
        csrf: token.clone(),
        next,
        email,
        problem,
        first_time,
    };
    with_cookie(
        (status, render(&page)).into_response(),
        set_cookie(state, SIGN_IN_COOKIE, &token, Duration::hours(2)),
    )
}

pub async fn sign_in_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Response {
    let language = visitor_language(query.lang.as_deref(), &headers);
    let next = safe_next(query.next.as_deref());
    sign_in_form(
        &state,
        &headers,
        language,
        next,
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
    lang: Option<String>,
}

/// Starts a session for `user` and sends the browser to `next`.
async fn start_session(state: &AppState, user: UserId, next: &str) -> WebResult<Response> {
    let secret = random_token();
    let now = OffsetDateTime::now_utc();
    state
        .store
        .create_web_session(
            user,
            &token_hash(&secret),
            &random_token(),
            now,
            now + SESSION_LIFETIME,
        )
        .await?;
    let response = with_cookie(
        Redirect::to(next).into_response(),
        set_cookie(state, SESSION_COOKIE, &secret, SESSION_LIFETIME),
    );
    Ok(with_cookie(
        response,
        set_cookie(state, SIGN_IN_COOKIE, "", Duration::ZERO),
    ))
}

pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<SignInForm>,
) -> Response {
    let language = visitor_language(form.lang.as_deref(), &headers);
    let t = Texts::of(language);
    let next = safe_next(form.next.as_deref());
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_token(&form.csrf, expected) {
        tracing::warn!("sign-in refused: the form's token does not match its cookie");
        let problem = Some(t.expired_form.to_owned());
        return sign_in_form(
            &state,
            &headers,
            language,
            next,
            form.email,
            problem,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let address = client_address(extensions.get::<ConnectInfo<SocketAddr>>());
    let outcome = accounts::sign_in(
        &state.store,
        &state.sign_ins,
        &form.email,
        &form.password,
        address,
    )
    .await;
    let (status, problem) = match outcome {
        Ok(user) => {
            return start_session(&state, user.id, &next)
                .await
                .unwrap_or_else(IntoResponse::into_response);
        }
        Err(SignInError::WrongCredentials) => (StatusCode::UNAUTHORIZED, t.wrong_credentials),
        Err(SignInError::TooManyAttempts(_)) => {
            (StatusCode::TOO_MANY_REQUESTS, t.too_many_attempts)
        }
        Err(error) => return WebError::internal(error).into_response(),
    };
    sign_in_form(
        &state,
        &headers,
        language,
        next,
        form.email,
        Some(problem.to_owned()),
        status,
    )
    .await
}

pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    _signed_in: SignedIn,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_web_session(&token_hash(secret)).await?;
    }
    Ok(with_cookie(
        Redirect::to("/sign-in").into_response(),
        set_cookie(&state, SESSION_COOKIE, "", Duration::ZERO),
    ))
}

pub async fn switch_language(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(Button {}): Form<Button>,
) -> WebResult<Response> {
    let other = match signed_in.user.language {
        DocumentLanguage::Sl => DocumentLanguage::En,
        DocumentLanguage::En => DocumentLanguage::Sl,
    };
    state
        .store
        .set_user_language(signed_in.user.id, other)
        .await?;
    // Back to the page the switch was pressed on, when it was ours.
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|referer| referer.strip_prefix(state.public_url.as_str()))
        .map_or_else(|| "/".to_owned(), |path| safe_next(Some(path)));
    Ok(Redirect::to(&back).into_response())
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    t: &'static Texts,
    lang: &'static str,
    csrf: String,
    name: String,
    email: String,
    company: String,
    problem: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SetupQuery {
    lang: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn setup_form(
    state: &AppState,
    headers: &HeaderMap,
    language: DocumentLanguage,
    name: String,
    email: String,
    company: String,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let token = cookie(headers, SIGN_IN_COOKIE)
        .filter(|token| token.len() == 64)
        .map_or_else(random_token, str::to_owned);
    let page = SetupPage {
        t: Texts::of(language),
        lang: language.as_str(),
        csrf: token.clone(),
        name,
        email,
        company,
        problem,
    };
    with_cookie(
        (status, render(&page)).into_response(),
        set_cookie(state, SIGN_IN_COOKIE, &token, Duration::hours(2)),
    )
}

/// The first account: whoever holds the admin token the service printed makes
/// themselves the operator, and owner of a new company or of the existing ones.
pub async fn setup_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<SetupQuery>,
) -> Response {
    let language = visitor_language(query.lang.as_deref(), &headers);
    setup_form(
        &state,
        &headers,
        language,
        String::new(),
        String::new(),
        String::new(),
        None,
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    admin_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    company: String,
    language: Option<String>,
}

pub async fn setup(
    State(state): State<Arc<AppState>>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<SetupForm>,
) -> Response {
    let language = visitor_language(form.language.as_deref(), &headers);
    let t = Texts::of(language);
    let refuse = |problem: String, status: StatusCode| {
        setup_form(
            &state,
            &headers,
            language,
            form.name.clone(),
            form.email.clone(),
            form.company.clone(),
            Some(problem),
            status,
        )
    };
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_token(&form.csrf, expected) {
        return refuse(t.expired_form.to_owned(), StatusCode::FORBIDDEN);
    }
    // The admin token is tried like a password: the same limits per address.
    let address = client_address(extensions.get::<ConnectInfo<SocketAddr>>());
    if let Err(error) = state.sign_ins.check_address(address) {
        return refuse(error.to_string(), StatusCode::TOO_MANY_REQUESTS);
    }
    let token_matches = bool::from(
        form.admin_token
            .trim()
            .as_bytes()
            .ct_eq(state.admin_token.as_bytes()),
    );
    if !token_matches {
        tracing::warn!(%address, "first-account form: wrong admin token");
        return refuse(t.wrong_admin_token.to_owned(), StatusCode::UNAUTHORIZED);
    }
    match create_first_account(&state, &form, language).await {
        Ok(user) => start_session(&state, user, "/")
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(AccountError::Store(error)) if !error.is_collision() => {
            WebError::from(error).into_response()
        }
        Err(error) => refuse(error.to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    }
}

async fn create_first_account(
    state: &AppState,
    form: &SetupForm,
    language: DocumentLanguage,
) -> Result<UserId, AccountError> {
    let now = OffsetDateTime::now_utc();
    let new_company = form.company.trim();
    let user = accounts::add_user(
        &state.store,
        AddUser {
            email: form.email.clone(),
            name: form.name.clone(),
            password: form.password.clone(),
            language,
            operator: true,
            company: None,
        },
    )
    .await?;
    let companies = if new_company.is_empty() {
        state
            .store
            .companies()
            .await?
            .into_iter()
            .map(|company| company.id)
            .collect()
    } else {
        vec![state.store.create_company(new_company, now).await?]
    };
    for company in companies {
        state
            .store
            .set_membership(user, company, Role::Owner, now)
            .await?;
    }
    Ok(user)
}

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage {
    page: Chrome,
    choices: Vec<CompanyChoice>,
}

/// Where a signed-in person starts: their company, or the choice of their companies.
pub async fn home(State(state): State<Arc<AppState>>, signed_in: SignedIn) -> WebResult<Response> {
    let memberships = state.store.memberships(signed_in.user.id).await?;
    if let [only] = memberships.as_slice() {
        return Ok(Redirect::to(&format!("/c/{}", only.company.0)).into_response());
    }
    let page = ChoosePage {
        page: Chrome::personal(&signed_in, "", signed_in.texts.choose_company),
        choices: memberships
            .into_iter()
            .map(|membership| CompanyChoice {
                href: format!("/c/{}", membership.company.0),
                name: membership.company_name,
                current: false,
            })
            .collect(),
    };
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/c/1/orders?status=new")),
            "/c/1/orders?status=new"
        );
        for outside in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "orders",
        ] {
            assert_eq!(safe_next(Some(outside)), "/", "{outside}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn visitors_read_their_browsers_language() {
        let mut headers = HeaderMap::new();
        assert_eq!(visitor_language(None, &headers), DocumentLanguage::Sl);
        headers.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "en-GB,en;q=0.9".parse().unwrap(),
        );
        assert_eq!(visitor_language(None, &headers), DocumentLanguage::En);
        assert_eq!(visitor_language(Some("sl"), &headers), DocumentLanguage::Sl);
    }
}
