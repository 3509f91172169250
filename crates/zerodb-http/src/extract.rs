//! Extractors: the authenticated caller, and JSON errors for malformed bodies, paths and
//! query strings.

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use std::future::Future;
use std::pin::Pin;
use zerodb_domain::ServiceError;
use zerodb_domain::error::AuthFailure;
use zerodb_domain::principal::Principal;
use zerodb_domain::rate_limit::{RateDecision, RateLimit};

pub const X_API_KEY: &str = "x-api-key";

/// The authenticated caller of a request: a bearer token's user or an API key.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let credential = Credential::from_request(req);
        let req = req.clone();
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::new(ErrorCode::InternalError, "state missing"))?;
            let (principal, key_limit) = match credential?.authenticate(&state).await {
                Ok(authenticated) => authenticated,
                Err(e) if e.code == ErrorCode::InvalidCredentials => {
                    // Guessing keys or forging tokens is throttled per address.
                    crate::sign_in::count_failure(&state, &req).await?;
                    return Err(e);
                }
                Err(e) => return Err(e),
            };
            enforce_rate_limit(&state, &principal, key_limit).await?;
            Ok(Caller(principal))
        })
    }
}

/// The credential a request presents: a bearer token or an API key.
#[derive(Clone)]
pub enum Credential {
    Bearer(String),
    ApiKey(String),
}

impl Credential {
    /// Reads the credential from the headers: exactly one of Authorization and X-API-Key.
    pub fn from_request(req: &HttpRequest) -> Result<Self, ApiError> {
        let invalid = || ServiceError::Unauthenticated(AuthFailure::InvalidCredentials);
        let text = |v: &actix_web::http::header::HeaderValue| {
            v.to_str().map(str::to_owned).map_err(|_| invalid())
        };
        match (req.headers().get(AUTHORIZATION), req.headers().get(X_API_KEY)) {
            (Some(_), Some(_)) => Err(ApiError::new(
                ErrorCode::BadRequest,
                "send either Authorization or X-API-Key, not both",
            )),
            (Some(header), None) => {
                let header = text(header)?;
                let token = header
                    .strip_prefix("Bearer ")
                    .or_else(|| header.strip_prefix("bearer "))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(invalid)?;
                // Clients that only know bearer tokens (MCP clients among them) may send an
                // API key that way; a JWT never has a key's shape.
                if zerodb_domain::api_keys::parse_key_id(token).is_some() {
                    return Ok(Self::ApiKey(token.to_owned()));
                }
                Ok(Self::Bearer(token.to_owned()))
            }
            (None, Some(key)) => Ok(Self::ApiKey(text(key)?.trim().to_owned())),
            (None, None) => Err(ServiceError::Unauthenticated(AuthFailure::Missing).into()),
        }
    }

    /// Checks the credential now: a token's signature and expiry, an API key's existence
    /// (a revoked key fails). Answers the caller and, for a key, its project's rate limit.
    pub async fn authenticate(
        &self,
        state: &AppState,
    ) -> Result<(Principal, Option<RateLimit>), ApiError> {
        Ok(match self {
            Self::Bearer(token) => (state.services.auth.authenticate_token(token)?, None),
            Self::ApiKey(key) => state.services.auth.authenticate_api_key(key).await?,
        })
    }
}

pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("request body too large: {err}"))
        }
        JsonPayloadError::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "expected Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::new(ErrorCode::ValidationFailed, format!("invalid request body: {e}"))
        }
        _ => ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON body: {err}")),
    };
    api.into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {err}")).into()
}

pub fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidPath, format!("invalid path parameter: {err}")).into()
}

/// Checks a request DTO's transport-level limits (sizes of lists and strings), answering 422
/// with the offending fields named, before the domain sees it.
pub fn validate<T: validator::Validate>(request: &T) -> Result<(), ApiError> {
    request.validate().map_err(|errors| {
        let fields: Vec<serde_json::Value> = errors
            .field_errors()
            .iter()
            .map(|(field, errs)| {
                let reason = errs
                    .iter()
                    .map(|e| e.message.as_deref().unwrap_or(&e.code).to_owned())
                    .collect::<Vec<_>>()
                    .join(", ");
                serde_json::json!({"field": field, "reason": reason})
            })
            .collect();
        ApiError::new(ErrorCode::ValidationFailed, "validation failed")
            .with_details(serde_json::json!({ "fields": fields }))
    })
}

/// Counts the request against the caller's limit: the project's own limit for its API keys
/// when it sets one, the server's default otherwise.
pub async fn enforce_rate_limit(
    state: &AppState,
    principal: &Principal,
    key_limit: Option<RateLimit>,
) -> Result<(), ApiError> {
    let Some(default) = state.default_rate_limit else {
        return Ok(());
    };
    let (subject, limit) = match principal {
        Principal::User { id, .. } => (format!("user:{id}"), default),
        Principal::ApiKey { key_id, .. } => (format!("key:{key_id}"), key_limit.unwrap_or(default)),
    };
    match state.rate_limiter.check(&subject, limit).await {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after } => Err(crate::sign_in::rate_limited(
            format!(
                "rate limit of {} requests/s (burst {}) exceeded",
                limit.per_second, limit.burst
            ),
            retry_after,
        )),
    }
}
