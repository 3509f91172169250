//! `/mcp`: the Model Context Protocol's streamable-HTTP transport, in front of the MCP
//! service. Here a request is checked as any REST request is (credential, failed-auth
//! throttling, rate limit) and its `Origin` against the allow-list; then it is handed to
//! the MCP SDK's service, whose tool calls come back through the REST API as the caller.

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{Credential, enforce_rate_limit};
use actix_web::http::StatusCode;
use actix_web::http::header::ORIGIN;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use http_body_util::{BodyStream, Full};
use std::convert::Infallible;
use zerodb_mcp::transport::McpHttpService;

/// The MCP endpoint and who may call it from a browser.
pub struct McpEndpoint {
    pub service: McpHttpService,
    /// Normalised `scheme://host[:port]` origins; empty refuses every browser origin.
    allowed_origins: Vec<String>,
    max_body_bytes: usize,
}

impl McpEndpoint {
    pub fn new(service: McpHttpService, allowed_origins: &[String], max_body_bytes: usize) -> Self {
        let allowed_origins = allowed_origins.iter().map(|o| normalise_origin(o)).collect();
        Self { service, allowed_origins, max_body_bytes }
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|allowed| *allowed == normalise_origin(origin))
    }
}

fn normalise_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Registers `/mcp` (POST for messages, GET for the server's stream, DELETE to end a
/// session).
pub fn config(endpoint: web::Data<McpEndpoint>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let limit = endpoint.max_body_bytes;
        cfg.service(
            crate::routes::resource("/mcp")
                .app_data(endpoint)
                .app_data(web::PayloadConfig::default().limit(limit))
                .route(web::post().to(handle))
                .route(web::get().to(handle))
                .route(web::delete().to(handle)),
        );
    }
}

/// Tool calls and resource reads are charged to the rate limit by their REST twins; every
/// other message (initialize, lists, pings, streams) is charged here.
fn charged_elsewhere(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Message<'a> {
        #[serde(borrow)]
        method: Option<&'a str>,
    }
    serde_json::from_slice::<Message>(body)
        .is_ok_and(|m| matches!(m.method, Some("tools/call" | "resources/read")))
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    endpoint: web::Data<McpEndpoint>,
) -> Result<HttpResponse, ApiError> {
    if let Some(origin) = req.headers().get(ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !endpoint.origin_allowed(origin) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "this Origin may not call /mcp (mcp.allowed_origins)",
            ));
        }
    }
    let credential = Credential::from_request(&req)?;
    let (principal, key_limit) = match credential.authenticate(&state).await {
        Ok(authenticated) => authenticated,
        Err(e) if e.code == ErrorCode::InvalidCredentials => {
            crate::sign_in::count_failure(&state, &req).await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if !charged_elsewhere(&body) {
        enforce_rate_limit(&state, &principal, key_limit).await?;
    }
    let mut request =
        http::Request::builder().method(req.method().as_str()).uri(req.uri().to_string());
    for (name, value) in req.headers() {
        request = request.header(name.as_str(), value.as_bytes());
    }
    let request = request
        .body(Full::new(body))
        .map_err(|_| ApiError::new(ErrorCode::BadRequest, "malformed request head"))?;
    let response = endpoint.service.handle(request).await;
    let (parts, body) = response.into_parts();
    let status = StatusCode::from_u16(parts.status.as_u16())
        .map_err(|_| ApiError::new(ErrorCode::InternalError, "MCP status"))?;
    let mut out = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        out.append_header((name.as_str(), value.as_bytes()));
    }
    // Server-sent events pass through frame by frame, unbuffered.
    let frames = BodyStream::new(body).filter_map(|frame| async move {
        match frame {
            Ok(frame) => frame.into_data().ok().map(Ok::<_, Infallible>),
            Err(never) => match never {},
        }
    });
    Ok(out.streaming(frames))
}
