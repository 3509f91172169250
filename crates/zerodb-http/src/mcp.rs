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
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zerodb_domain::principal::Principal;
use zerodb_mcp::transport::McpHttpService;

/// Sessions remembered per process before idle ones are forgotten.
const MAX_TRACKED_SESSIONS: usize = 10_000;

/// The MCP endpoint and who may call it from a browser.
pub struct McpEndpoint {
    pub service: McpHttpService,
    /// Normalised `scheme://host[:port]` origins; empty refuses every browser origin.
    allowed_origins: Vec<String>,
    max_body_bytes: usize,
    /// Who opened each session (`Mcp-Session-Id`), and when it was last used: a session is
    /// its opener's alone, so another caller who learns its id cannot read its stream.
    sessions: Mutex<HashMap<String, (String, Instant)>>,
    session_idle: Duration,
}

impl McpEndpoint {
    pub fn new(
        service: McpHttpService,
        allowed_origins: &[String],
        max_body_bytes: usize,
        session_idle: Duration,
    ) -> Self {
        let allowed_origins = allowed_origins.iter().map(|o| normalise_origin(o)).collect();
        Self {
            service,
            allowed_origins,
            max_body_bytes,
            sessions: Mutex::new(HashMap::new()),
            session_idle,
        }
    }

    /// Whether `caller` may use `session`: only its opener may (a session this process does
    /// not know is left to the MCP service, which answers 404).
    fn session_belongs_to(&self, session: &str, caller: &str) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match sessions.get_mut(session) {
            Some((opener, last_used)) if opener == caller => {
                *last_used = Instant::now();
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    fn opened(&self, session: &str, caller: String) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.len() >= MAX_TRACKED_SESSIONS {
            let idle = self.session_idle;
            sessions.retain(|_, (_, last_used)| last_used.elapsed() < idle);
        }
        sessions.insert(session.to_owned(), (caller, Instant::now()));
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
    let caller = match &principal {
        Principal::User { id, .. } => format!("user:{id}"),
        Principal::ApiKey { key_id, .. } => format!("key:{key_id}"),
    };
    let session = req.headers().get("mcp-session-id").and_then(|v| v.to_str().ok());
    if let Some(session) = session
        && !endpoint.session_belongs_to(session, &caller)
    {
        return Err(ApiError::new(ErrorCode::NotFound, "no such MCP session"));
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
    if session.is_none()
        && let Some(opened) = parts.headers.get("mcp-session-id").and_then(|v| v.to_str().ok())
    {
        endpoint.opened(opened, caller);
    }
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
