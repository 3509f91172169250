//! The API's error envelope: one `ApiError`, an append-only `ErrorCode`, and one exhaustive
//! mapping from domain errors and codes to HTTP statuses.

use crate::request_id::current_request_id;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use zerodb_domain::error::AuthFailure;
use zerodb_domain::{ConflictKind, ServiceError, error_chain};

/// Stable machine-readable error codes. Append new ones; never rename or reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    InvalidJson,
    InvalidPath,
    InvalidQuery,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    InsufficientScope,
    RegistrationDisabled,
    NotFound,
    MethodNotAllowed,
    EmailTaken,
    ProjectNameTaken,
    TableExists,
    TableLimitExceeded,
    RowLimitExceeded,
    DatabaseNotEnabled,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    RateLimited,
    ServiceUnavailable,
    InternalError,
    DimensionMismatch,
    NamespaceExists,
    VectorIdTaken,
    EmbeddingModelMismatch,
    FileKeyTaken,
    ChecksumMismatch,
    RangeNotSatisfiable,
    InvalidCursor,
    QueryTimeout,
    QuotaExceeded,
    NamespaceWithoutModel,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::InvalidJson
            | ErrorCode::InvalidPath
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidCursor => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden
            | ErrorCode::InsufficientScope
            | ErrorCode::RegistrationDisabled
            | ErrorCode::QuotaExceeded => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::EmailTaken
            | ErrorCode::ProjectNameTaken
            | ErrorCode::TableExists
            | ErrorCode::TableLimitExceeded
            | ErrorCode::RowLimitExceeded
            | ErrorCode::DatabaseNotEnabled
            | ErrorCode::NamespaceExists
            | ErrorCode::VectorIdTaken
            | ErrorCode::EmbeddingModelMismatch
            | ErrorCode::FileKeyTaken => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            ErrorCode::ValidationFailed
            | ErrorCode::DimensionMismatch
            | ErrorCode::NamespaceWithoutModel
            | ErrorCode::ChecksumMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::ServiceUnavailable | ErrorCode::QueryTimeout => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error as the client sees it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds for the `Retry-After` header of a 429.
    pub retry_after: Option<u64>,
}

/// `{"error": {...}}`, the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    pub request_id: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, retry_after: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl ApiError {
    /// The error envelope, as the response body carries it.
    pub fn body(&self) -> ErrorBody {
        let request_id = current_request_id().unwrap_or_default();
        let message = match self.code {
            ErrorCode::InternalError => "internal server error".to_owned(),
            _ => self.message.clone(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message,
                details: self.details.clone(),
                request_id,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let body = self.body();
        if self.code == ErrorCode::InternalError {
            // The cause goes to the log; the client gets only the request id to quote.
            tracing::error!(request_id = %body.error.request_id, cause = %self.message, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(body)
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        let message = err.to_string();
        match err {
            ServiceError::NotFound { .. } => ApiError::new(ErrorCode::NotFound, message),
            ServiceError::Conflict { kind, message } => {
                let code = match kind {
                    ConflictKind::EmailTaken => ErrorCode::EmailTaken,
                    ConflictKind::ProjectNameTaken => ErrorCode::ProjectNameTaken,
                    ConflictKind::TableExists => ErrorCode::TableExists,
                    ConflictKind::TableLimitExceeded => ErrorCode::TableLimitExceeded,
                    ConflictKind::RowLimitExceeded => ErrorCode::RowLimitExceeded,
                    ConflictKind::NamespaceExists => ErrorCode::NamespaceExists,
                    ConflictKind::VectorIdTaken => ErrorCode::VectorIdTaken,
                    ConflictKind::EmbeddingModelMismatch => ErrorCode::EmbeddingModelMismatch,
                    ConflictKind::FileKeyTaken => ErrorCode::FileKeyTaken,
                };
                ApiError::new(code, message)
            }
            ServiceError::InvalidInput(violations) => {
                let summary = violations
                    .iter()
                    .map(|v| format!("{}: {}", v.field, v.reason))
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::new(ErrorCode::ValidationFailed, format!("validation failed: {summary}"))
                    .with_details(json!({ "fields": violations }))
            }
            ServiceError::Unauthenticated(failure) => match failure {
                AuthFailure::Missing => ApiError::new(
                    ErrorCode::Unauthenticated,
                    "authentication required: send 'Authorization: Bearer <token>' or 'X-API-Key'",
                ),
                AuthFailure::InvalidCredentials => {
                    ApiError::new(ErrorCode::InvalidCredentials, "invalid or expired credentials")
                }
                AuthFailure::WrongPassword => {
                    ApiError::new(ErrorCode::InvalidCredentials, "wrong email or password")
                }
            },
            ServiceError::Forbidden { .. } => ApiError::new(ErrorCode::Forbidden, message),
            ServiceError::MissingScope { scope } => {
                ApiError::new(ErrorCode::InsufficientScope, message)
                    .with_details(json!({ "required_scope": scope }))
            }
            ServiceError::TooLarge { field, limit } => {
                ApiError::new(ErrorCode::PayloadTooLarge, message)
                    .with_details(json!({ "field": field, "limit_bytes": limit }))
            }
            ServiceError::DimensionMismatch { namespace, expected, got } => {
                ApiError::new(ErrorCode::DimensionMismatch, message).with_details(
                    json!({ "namespace": namespace, "expected": expected, "got": got }),
                )
            }
            ServiceError::NamespaceWithoutModel { namespace } => {
                ApiError::new(ErrorCode::NamespaceWithoutModel, message)
                    .with_details(json!({ "namespace": namespace }))
            }
            ServiceError::ChecksumMismatch { expected, actual } => {
                ApiError::new(ErrorCode::ChecksumMismatch, message)
                    .with_details(json!({ "expected": expected, "actual": actual }))
            }
            ServiceError::RangeNotSatisfiable { size } => {
                ApiError::new(ErrorCode::RangeNotSatisfiable, message)
                    .with_details(json!({ "size": size }))
            }
            ServiceError::QuotaExceeded { quota, limit, used } => {
                ApiError::new(ErrorCode::QuotaExceeded, message)
                    .with_details(json!({ "quota": quota, "limit": limit, "used": used }))
            }
            ServiceError::InvalidCursor(_) => ApiError::new(ErrorCode::InvalidCursor, message),
            ServiceError::RegistrationDisabled => {
                ApiError::new(ErrorCode::RegistrationDisabled, message)
            }
            ServiceError::DatabaseNotEnabled => ApiError::new(
                ErrorCode::DatabaseNotEnabled,
                "the project's database is not enabled: POST /api/v1/projects/{project_id}/database",
            ),
            ServiceError::Unavailable(cause) => {
                tracing::warn!(cause = %error_chain(&cause), "backend unavailable");
                let mut err = ApiError::new(
                    ErrorCode::ServiceUnavailable,
                    "a backend is temporarily unavailable",
                );
                err.retry_after = Some(1);
                err
            }
            ServiceError::TimedOut => {
                let mut err = ApiError::new(
                    ErrorCode::QueryTimeout,
                    "the database took longer than its statement timeout; narrow the request or \
                     retry",
                );
                err.retry_after = Some(1);
                err
            }
            // The whole chain, logged once when the response is built.
            ServiceError::Internal(cause) => {
                ApiError::new(ErrorCode::InternalError, error_chain(&cause))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerodb_domain::{Cause, FieldViolation};

    #[test]
    fn codes_serialise_snake_case() {
        let v = serde_json::to_value(ErrorCode::DatabaseNotEnabled).unwrap();
        assert_eq!(v, "database_not_enabled");
    }

    #[test]
    fn validation_details_name_fields() {
        let err: ApiError =
            ServiceError::InvalidInput(vec![FieldViolation::new("rows[0].n", "expected integer")])
                .into();
        assert_eq!(err.code.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.details.unwrap()["fields"][0]["field"], "rows[0].n");
    }

    #[test]
    fn internal_causes_stay_private() {
        let err: ApiError = ServiceError::Internal(Cause::msg("password=hunter2 at db")).into();
        let resp = err.error_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(resp.into_body());
        let body = futures_util::FutureExt::now_or_never(body).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("hunter2"));
    }
}
