//! Every answer carries an `x-request-id` (the client's, when it sent a sensible one),
//! every log line written while answering carries it too (the `request` span), and an
//! error body quotes it. Errors produced outside the handlers (an unknown route, a
//! wrong method, a body over the limit while reading a webhook) are turned into the
//! API's JSON error here, so no client ever sees a plain-text refusal.

use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use tracing::Instrument;

use super::error::ApiError;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being answered, inside a handler.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A client's own id is kept when it is short and plain enough to be quoted in logs.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

fn new_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The outermost layer of the router.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id))
        .map_or_else(new_id, str::to_owned);
    let header = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    request.headers_mut().insert(HEADER, header.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let response = REQUEST_ID
        .scope(id.clone(), async move {
            let response = next.run(request).await;
            let response = as_json_error(response).await;
            tracing::debug!(status = response.status().as_u16(), "answered");
            response
        })
        .instrument(span)
        .await;
    let mut response = response;
    response.headers_mut().insert(HEADER, header);
    response
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

/// Refusals that did not come from [`ApiError`] (axum's own: 404 of no route, 405,
/// 413 while buffering a body) become one.
async fn as_json_error(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .filter(|text| !text.trim().is_empty());
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError {
            message: text.unwrap_or_else(|| "the body is too large".to_owned()),
            ..ApiError::new(status, "payload_too_large", "")
        },
        StatusCode::NOT_FOUND => {
            ApiError::not_found(text.unwrap_or_else(|| "no such route".into()))
        }
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "this route does not take this method",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::unsupported_media_type(text.unwrap_or_else(|| "send application/json".into()))
        }
        StatusCode::UNAUTHORIZED => ApiError::unauthorized(),
        StatusCode::INTERNAL_SERVER_ERROR => {
            ApiError::internal(text.unwrap_or_else(|| "no detail".into()))
        }
        _ if status.is_server_error() => ApiError::new(
            status,
            "unavailable",
            text.unwrap_or_else(|| "try again later".into()),
        ),
        _ => ApiError::bad_request(text.unwrap_or_else(|| "the request is not valid".into())),
    };
    let fresh = error.into_response();
    parts.headers.remove(CONTENT_LENGTH);
    let (fresh_parts, fresh_body) = fresh.into_parts();
    parts.headers.extend(fresh_parts.headers);
    Response::from_parts(parts, fresh_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_client_ids_are_kept() {
        assert!(acceptable("3f2a-ci_run.7"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable(&"x".repeat(65)));
        assert!(acceptable(&new_id()));
    }
}
