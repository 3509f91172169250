//! ZeroDB's HTTP API: actix-web routes, DTOs, authentication extractors, the error envelope
//! and the OpenAPI document. Handlers only translate between HTTP and the domain services.

pub mod console;
pub mod error;
pub mod extract;
pub mod mcp;
pub mod metrics;
pub mod openapi;
mod openapi_contract;
pub mod request_id;
pub mod routes;
pub mod sign_in;
pub mod sized_json;

use actix_web::web;
use async_trait::async_trait;
use metrics::{HttpMetrics, MetricsSource};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;
use zerodb_domain::rate_limit::{RateLimit, RateLimiter};
use zerodb_domain::services::Services;

/// Reports whether the backends the server depends on answer.
#[async_trait]
pub trait ReadinessProbe: Send + Sync + 'static {
    async fn check(&self) -> Result<(), String>;
}

/// What every handler can reach.
pub struct AppState {
    pub services: Services,
    pub readiness: Arc<dyn ReadinessProbe>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// The limit per user and per API key; `None` turns rate limiting off.
    pub default_rate_limit: Option<RateLimit>,
    pub metrics: HttpMetrics,
    pub metrics_source: Arc<dyn MetricsSource>,
    /// When set, `/metrics` needs `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
    pub stream: routes::events::StreamSettings,
    /// The server's external base URL for links (`server.public_url`).
    pub public_url: Option<String>,
    /// Limits on sign-in attempts and failed authentication.
    pub sign_in: sign_in::SignInLimits,
    /// Live event streams open per project.
    pub open_streams: routes::events::OpenStreams,
}

/// HTTP-level limits.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest batch-upsert body (1000 embeddings as JSON numbers), in bytes.
    pub max_vector_batch_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { max_body_bytes: 8 * 1024 * 1024, max_vector_batch_bytes: 64 * 1024 * 1024 }
    }
}

/// Registers the whole API on an actix `App`: state, extractor error handlers, routes,
/// OpenAPI document and Swagger UI. Wrap the app in [`request_id::observe_requests`].
pub fn configure(
    state: web::Data<AppState>,
    limits: HttpLimits,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let doc = openapi::ApiDoc::openapi();
        let allowed = web::Data::new(routes::AllowedMethods::from_openapi(&doc));
        cfg.app_data(state)
            .app_data(allowed)
            .app_data(
                web::JsonConfig::default()
                    .limit(limits.max_body_bytes)
                    .error_handler(extract::json_error),
            )
            .app_data(web::PayloadConfig::default().limit(limits.max_body_bytes))
            .app_data(sized_json::BodyLimit(limits.max_body_bytes))
            .app_data(web::QueryConfig::default().error_handler(extract::query_error))
            .app_data(web::PathConfig::default().error_handler(extract::path_error))
            .configure(routes::health::config)
            .service(web::redirect("/docs", "/docs/"))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", doc))
            .service(
                // actix tries resources in registration order, one pattern match each:
                // the hottest paths (searches, upserts) come first.
                web::scope("/api/v1")
                    .configure(|cfg| routes::vectors::config(cfg, limits.max_vector_batch_bytes))
                    .configure(|cfg| routes::memory::config(cfg, limits.max_vector_batch_bytes))
                    .configure(routes::auth::config)
                    .configure(routes::projects::config)
                    .configure(routes::api_keys::config)
                    .configure(routes::database::config)
                    .configure(routes::tables::config)
                    .configure(routes::rlhf::config)
                    .configure(routes::agent_logs::config)
                    .configure(routes::events::config)
                    .configure(routes::files::config)
                    .configure(routes::admin::config),
            )
            // After the API: every API request would otherwise first be tried against the
            // console's patterns (one of them a regex).
            .configure(console::config)
            .default_service(web::to(routes::route_not_found));
    }
}
