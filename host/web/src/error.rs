//! Pages for what went wrong: not found, not allowed, an expired form, a refusal, an
//! internal failure. A handler returns a [`WebError`]; the page is drawn in the
//! language of whoever is signed in.

use std::cell::Cell;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use tovor_server::api::error::ApiError;
use tovor_store::StoreError;

use crate::i18n::{EN, Texts};
use crate::page::render;

#[derive(Debug)]
enum Kind {
    NotFound,
    Forbidden,
    Csrf,
    /// A refusal whose message the person can act on.
    Refused(String),
    /// Details stay in the log.
    Internal,
}

#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    kind: Kind,
}

pub type WebResult<T> = Result<T, WebError>;

impl WebError {
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: Kind::NotFound,
        }
    }

    pub fn forbidden() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: Kind::Forbidden,
        }
    }

    pub fn csrf() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: Kind::Csrf,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: Kind::Refused(message.into()),
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "web admin request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: Kind::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What the person is told, in their language.
    pub fn message(&self, texts: &Texts) -> String {
        match &self.kind {
            Kind::NotFound => texts.not_found.to_owned(),
            Kind::Forbidden => texts.forbidden.to_owned(),
            Kind::Csrf => texts.expired_form.to_owned(),
            Kind::Refused(message) => message.clone(),
            Kind::Internal => texts.internal_error.to_owned(),
        }
    }

    fn title(&self, texts: &Texts) -> &'static str {
        match &self.kind {
            Kind::NotFound => texts.not_found_title,
            Kind::Forbidden | Kind::Csrf => texts.forbidden_title,
            Kind::Refused(_) => texts.refused,
            Kind::Internal => texts.error_title,
        }
    }

    /// The error as a page in `texts`' language.
    pub fn page(self, texts: &'static Texts) -> Response {
        let page = ErrorPage {
            t: texts,
            title: self.title(texts),
            message: self.message(texts),
        };
        (self.status, render(&page)).into_response()
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: &'static Texts,
    title: &'static str,
    message: String,
}

tokio::task_local! {
    /// The texts of whoever a request is for: set by the sign-in check, read when an
    /// error becomes a page, so handlers can use `?` and still answer in the person's
    /// language.
    static TEXTS: Cell<&'static Texts>;
}

/// Runs a request with a place for its person's language (a middleware).
pub async fn with_language(request: Request, next: Next) -> Response {
    TEXTS.scope(Cell::new(&EN), next.run(request)).await
}

/// Remembers the language of the person this request is for.
pub fn set_language(texts: &'static Texts) {
    let _ = TEXTS.try_with(|cell| cell.set(texts));
}

fn current_texts() -> &'static Texts {
    TEXTS.try_with(Cell::get).unwrap_or(&EN)
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.page(current_texts())
    }
}

impl From<StoreError> for WebError {
    fn from(error: StoreError) -> Self {
        ApiError::from(error).into()
    }
}

impl From<ApiError> for WebError {
    fn from(error: ApiError) -> Self {
        match error.status {
            StatusCode::NOT_FOUND => Self::not_found(),
            StatusCode::FORBIDDEN => Self::forbidden(),
            status if status.is_server_error() => Self::internal(error.message),
            status => Self {
                status,
                kind: Kind::Refused(error.message),
            },
        }
    }
}

/// An HTML page.
pub fn html(body: String) -> Response {
    Html(body).into_response()
}
