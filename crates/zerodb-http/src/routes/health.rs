//! Liveness and readiness.

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    pub status: &'static str,
    pub version: &'static str,
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/health").route(web::get().to(health)))
        .service(super::resource("/ready").route(web::get().to(ready)))
        .service(super::resource("/metrics").route(web::get().to(metrics)));
}

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = HealthResponse)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok", version: env!("CARGO_PKG_VERSION") })
}

/// The process can serve requests: its database answers.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.readiness.check().await {
        Ok(()) => HttpResponse::Ok()
            .json(HealthResponse { status: "ready", version: env!("CARGO_PKG_VERSION") }),
        Err(cause) => {
            tracing::warn!(cause = %cause, "not ready");
            HttpResponse::ServiceUnavailable()
                .json(HealthResponse { status: "unavailable", version: env!("CARGO_PKG_VERSION") })
        }
    }
}

/// Prometheus metrics in the text exposition format. With `metrics.token` configured, only
/// `Authorization: Bearer <token>` is answered.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn metrics(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.metrics_token {
        let presented = request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Constant-time: the comparison must not tell how much of a guess was right.
        let equal: bool =
            subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), expected.as_bytes()).into();
        if !equal {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "metrics need 'Authorization: Bearer <metrics.token>'",
            ));
        }
    }
    let snapshot = state.metrics_source.snapshot().await;
    match state.metrics.render(&snapshot) {
        Ok(text) => Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text)),
        Err(e) => Err(ApiError::new(ErrorCode::InternalError, format!("rendering metrics: {e}"))),
    }
}
