//! API errors: `{"error": {"code", "message", "field"?, "request_id"?}}` with the right
//! status. A 500's message stays in the log (under the request's id); the client gets
//! only the id to quote, never the database's or a library's text.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tovor_store::StoreError;
use utoipa::ToSchema;

use crate::error::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `rule_refused`, `payload_too_large`, `unavailable`, ...
    pub code: String,
    pub message: String,
    /// The offending field, when one is to blame: a path into the body
    /// (`lines[0].quantity`), or the name of a path or query parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id (also in the `x-request-id` header and in the service's log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::bad_request(message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        )
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    /// The body of this error as the client sees it (also used inside batch answers).
    pub fn detail(self) -> ErrorDetail {
        let request_id = super::request_id::current();
        let message = if self.status == StatusCode::INTERNAL_SERVER_ERROR {
            // What failed inside (a database message, a file path) is the operator's
            // business: it is in the log under this id.
            tracing::error!(code = self.code, message = %self.message, "request failed");
            match &request_id {
                Some(id) => {
                    format!("internal error; the service's log has it under request id {id}")
                }
                None => "internal error".to_owned(),
            }
        } else {
            if self.status.is_server_error() {
                tracing::error!(code = self.code, message = %self.message, "request failed");
            }
            self.message
        };
        ErrorDetail {
            code: self.code.to_owned(),
            message,
            field: self.field,
            request_id,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = ErrorBody {
            error: self.detail(),
        };
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::NotFound { .. } => Self::not_found(error.to_string()),
            StoreError::Conflict(_) => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            StoreError::Invalid(_) => Self::bad_request(error.to_string()),
            StoreError::InvalidOrder(problems) => Self {
                field: problems.first().map(|problem| problem.field.clone()),
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_order",
                    error.to_string(),
                )
            },
            StoreError::Document(_) | StoreError::Numbering(_) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rule_refused",
                error.to_string(),
            ),
            StoreError::Database(_) if error.is_unique_violation() => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "a record with these values exists",
            ),
            _ => Self::internal(error.to_string()),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Store(error) => error.into(),
            ServiceError::Config(errors) => Self {
                field: errors
                    .problems()
                    .first()
                    .map(|problem| format!("config.{}", problem.field)),
                ..Self::bad_request(errors.to_string())
            },
            ServiceError::Invalid(message) => Self::bad_request(message),
            ServiceError::Convert(error) => Self {
                field: Some(error.field.clone()),
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_order",
                    error.to_string(),
                )
            },
            ServiceError::Call(error) if error.is_retryable() => Self::new(
                StatusCode::BAD_GATEWAY,
                "shop_unavailable",
                error.to_string(),
            ),
            ServiceError::Call(error) => Self::new(
                StatusCode::BAD_GATEWAY,
                "connector_failed",
                error.to_string(),
            ),
            ServiceError::Unavailable(message) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            }
            ServiceError::Secret(error) => Self::internal(error.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
