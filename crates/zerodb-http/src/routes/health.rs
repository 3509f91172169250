//! Liveness and readiness.

use crate::AppState;
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

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.metrics_source.snapshot().await;
    match state.metrics.render(&snapshot) {
        Ok(text) => HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(text),
        Err(e) => {
            tracing::error!(error = %e, "could not render metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}
