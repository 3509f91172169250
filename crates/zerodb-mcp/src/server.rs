//! The MCP server: tools/list, tools/call, resources/list and resources/read, each call
//! made with the caller's own credential against the REST API.

use crate::credential::{Credential, CredentialSource};
use crate::outcome::{self, ToolError};
use crate::tools::{self, Call};
use crate::{resources, spec};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ErrorData as McpError, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;
use zerodb_client::{Client, HttpMethod};

/// Size limits of the tool layer.
#[derive(Debug, Clone, Copy)]
pub struct McpLimits {
    /// Largest tool result, in bytes of JSON; larger results are cut and say so.
    pub max_result_bytes: usize,
    /// Largest file file_read returns at once and file_upload accepts, in bytes.
    pub max_file_bytes: usize,
}

impl Default for McpLimits {
    fn default() -> Self {
        Self { max_result_bytes: 256 * 1024, max_file_bytes: 1024 * 1024 }
    }
}

const INSTRUCTIONS: &str = "ZeroDB is this agent's database: long-term memory (memory_*), \
    vector search (vector_*, embed), tables (table_*, rows_*), an event log (events_*), files \
    (file*) and feedback logs (rlhf_log, agent_log). To remember something use memory_store; \
    to recall, memory_search. Every tool works in one project: pass project_id, or leave it \
    out when connected with a project API key. Errors carry a stable `code` (e.g. \
    insufficient_scope, not_found, validation_failed) and a message saying what to change.";

/// Keys seen per process; a bound keeps a flood of distinct keys from growing the cache.
const MAX_CACHED_CREDENTIALS: usize = 4096;

struct Inner {
    /// The REST API, without credentials.
    base: Client,
    source: CredentialSource,
    /// The project used when a call names none (`zerodb mcp --project`).
    default_project: Option<Uuid>,
    limits: McpLimits,
    tools: Vec<Tool>,
    /// The project each API key belongs to (by credential digest), learned from `/auth/me`.
    key_projects: Mutex<HashMap<[u8; 32], Option<Uuid>>>,
}

/// ZeroDB's MCP server handler; cheap to clone (one per session shares everything).
#[derive(Clone)]
pub struct ZeroDbMcp {
    inner: Arc<Inner>,
}

impl ZeroDbMcp {
    /// A server whose tools call the REST API at `base_url`.
    pub fn new(
        base_url: &str,
        source: CredentialSource,
        default_project: Option<Uuid>,
        limits: McpLimits,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                base: Client::new(base_url),
                source,
                default_project,
                limits,
                tools: spec::catalog(),
                key_projects: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn credential(&self, context: &RequestContext<RoleServer>) -> Option<Credential> {
        match &self.inner.source {
            CredentialSource::Fixed(credential) => Some(credential.clone()),
            CredentialSource::PerRequest => context
                .extensions
                .get::<http::request::Parts>()
                .and_then(|parts| Credential::from_headers(&parts.headers)),
        }
    }

    /// The project an API key belongs to (`None` for a user's token), asked once per key.
    async fn key_project(
        &self,
        client: &Client,
        credential: &Credential,
    ) -> Result<Option<Uuid>, ToolError> {
        let digest = credential.fingerprint();
        if let Some(known) = self.cached(&digest) {
            return Ok(known);
        }
        let me = client.call_json(HttpMethod::GET, "/api/v1/auth/me", &[], None).await?;
        let project = me["project_id"].as_str().and_then(|p| Uuid::try_parse(p).ok());
        let mut cache = self.inner.key_projects.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED_CREDENTIALS {
            cache.clear();
        }
        cache.insert(digest, project);
        Ok(project)
    }

    fn cached(&self, digest: &[u8; 32]) -> Option<Option<Uuid>> {
        self.inner.key_projects.lock().unwrap_or_else(|p| p.into_inner()).get(digest).copied()
    }

    /// The project of a call: its `project_id` argument, the configured default, or the
    /// API key's own project.
    async fn project(
        &self,
        client: &Client,
        credential: &Credential,
        given: Option<Value>,
    ) -> Result<Uuid, ToolError> {
        match given {
            Some(Value::String(text)) => Uuid::try_parse(text.trim())
                .map_err(|_| ToolError::invalid("project_id must be a UUID")),
            Some(Value::Null) | None => {
                if let Some(project) = self.inner.default_project {
                    return Ok(project);
                }
                self.key_project(client, credential).await?.ok_or_else(|| {
                    ToolError::invalid(
                        "project_id is required when signed in as a user (an API key names its project)",
                    )
                })
            }
            Some(_) => Err(ToolError::invalid("project_id must be a UUID string")),
        }
    }

    async fn run_tool(
        &self,
        name: &str,
        mut args: rmcp::model::JsonObject,
        credential: &Credential,
    ) -> Result<Value, ToolError> {
        let client = credential.client(&self.inner.base);
        let project = self.project(&client, credential, args.remove("project_id")).await?;
        let call = Call { client: &client, project, limits: &self.inner.limits };
        match tools::run(&call, name, args).await {
            Some(result) => result,
            None => Err(ToolError::invalid(format!("no tool is named {name}"))),
        }
    }

    /// The projects whose resources a credential sees: its key's project, or the user's.
    async fn resource_projects(&self, client: &Client, credential: &Credential) -> Vec<Uuid> {
        if let Some(project) = self.inner.default_project {
            return vec![project];
        }
        match self.key_project(client, credential).await {
            Ok(Some(project)) => return vec![project],
            Ok(None) => {}
            Err(_) => return Vec::new(),
        }
        let listed = client
            .call_json(HttpMethod::GET, "/api/v1/projects", &[("limit", "100".into())], None)
            .await
            .unwrap_or(Value::Null);
        listed["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|p| p["project_id"].as_str().and_then(|s| Uuid::try_parse(s).ok()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn unauthenticated() -> ToolError {
    ToolError::Api {
        status: 401,
        code: "unauthenticated".into(),
        message: "send Authorization: Bearer <token or API key>, or X-API-Key".into(),
        details: None,
        request_id: String::new(),
    }
}

impl ServerHandler for ZeroDbMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(
                Implementation::new("zerodb", env!("CARGO_PKG_VERSION")).with_title("ZeroDB"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.inner.tools.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if !self.inner.tools.iter().any(|t| t.name == request.name) {
            return Err(McpError::invalid_params(format!("unknown tool: {}", request.name), None));
        }
        let result = match self.credential(&context) {
            None => Err(unauthenticated()),
            Some(credential) => {
                let args = request.arguments.unwrap_or_default();
                self.run_tool(&request.name, args, &credential).await
            }
        };
        Ok(match result {
            Ok(value) => outcome::success(value, self.inner.limits.max_result_bytes),
            Err(error) => error.into_result(),
        }
        .into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let Some(credential) = self.credential(&context) else {
            return Err(McpError::invalid_request("unauthenticated", None));
        };
        let client = credential.client(&self.inner.base);
        let projects = self.resource_projects(&client, &credential).await;
        Ok(ListResourcesResult::with_all_items(resources::list(&client, &projects).await))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let Some(credential) = self.credential(&context) else {
            return Err(McpError::invalid_request("unauthenticated", None));
        };
        let client = credential.client(&self.inner.base);
        let not_found =
            || McpError::resource_not_found(format!("no resource {}", request.uri), None);
        match resources::read(&client, &request.uri).await {
            Ok(Some(contents)) => Ok(ReadResourceResult::new(vec![contents]).into()),
            Ok(None) => Err(not_found()),
            // A stranger's project reads as missing, as in the REST API.
            Err(ToolError::Api { status: 403 | 404, .. }) => Err(not_found()),
            Err(error) => Err(McpError::internal_error(error.to_string(), None)),
        }
    }
}
