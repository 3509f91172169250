//! The two transports: streamable HTTP (a service the HTTP server mounts at `/mcp`) and
//! stdio (what a desktop agent launches).

use crate::credential::CredentialSource;
use crate::server::{McpLimits, ZeroDbMcp};
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::time::Duration;
use uuid::Uuid;

pub use rmcp::transport::streamable_http_server::StreamableHttpService as HttpService;

/// The streamable-HTTP MCP endpoint, with sessions (`Mcp-Session-Id`).
pub type McpHttpService = StreamableHttpService<ZeroDbMcp, LocalSessionManager>;

/// Settings of the streamable-HTTP endpoint.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Where tool calls go: the serving process's own REST API.
    pub rest_url: String,
    pub limits: McpLimits,
    /// Largest accepted MCP message, in bytes.
    pub max_body_bytes: usize,
    /// Idle sessions are closed after this long.
    pub session_idle: Duration,
}

/// The `/mcp` service. Host and Origin are checked by the HTTP server in front of it (with
/// ZeroDB's JSON errors), so the SDK's own checks are off here.
pub fn http_service(settings: &HttpSettings) -> McpHttpService {
    let handler =
        ZeroDbMcp::new(&settings.rest_url, CredentialSource::PerRequest, None, settings.limits);
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(settings.session_idle);
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(settings.max_body_bytes)
        .with_sse_keep_alive(Some(Duration::from_secs(15)));
    StreamableHttpService::new(move || Ok(handler.clone()), sessions.into(), config)
}

/// Why the stdio server stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    #[error("the MCP client did not complete initialization: {0}")]
    Initialize(String),
    #[error("the MCP session ended abnormally: {0}")]
    Session(String),
}

/// Serves MCP on stdin/stdout until the client closes them; every tool call goes to the
/// ZeroDB server at `url` with `credential`.
pub async fn serve_stdio(
    url: &str,
    credential: crate::Credential,
    project: Option<Uuid>,
    limits: McpLimits,
) -> Result<(), StdioError> {
    let handler = ZeroDbMcp::new(url, CredentialSource::Fixed(credential), project, limits);
    let running = handler
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| StdioError::Initialize(e.to_string()))?;
    running.waiting().await.map_err(|e| StdioError::Session(e.to_string()))?;
    Ok(())
}
