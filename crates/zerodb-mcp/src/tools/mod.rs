//! The tools, one module per area. Each tool's input type is also its REST twin's body (or
//! query), so argument names are the REST API's field names.

pub mod events;
pub mod feedback;
pub mod files;
pub mod memory;
pub mod tables;
pub mod vectors;

use crate::outcome::ToolError;
use crate::server::McpLimits;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rmcp::model::JsonObject;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;
use zerodb_client::Client;
pub use zerodb_client::HttpMethod;

/// One tool call: the caller's REST client, the project it works in, the limits.
pub struct Call<'a> {
    pub client: &'a Client,
    pub project: Uuid,
    pub limits: &'a McpLimits,
}

impl Call<'_> {
    /// `/api/v1/projects/{project}/database/{tail}`.
    pub fn path(&self, tail: &str) -> String {
        format!("/api/v1/projects/{}/database/{tail}", self.project)
    }

    pub async fn send(
        &self,
        method: HttpMethod,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ToolError> {
        Ok(self.client.call_json(method, path, query, body).await?)
    }

    /// A JSON-body call on `/api/v1/projects/{project}/database/{tail}`.
    pub async fn write(
        &self,
        method: HttpMethod,
        tail: &str,
        body: &impl Serialize,
    ) -> Result<Value, ToolError> {
        let body = serde_json::to_value(body).map_err(|_| ToolError::Unexpected)?;
        self.send(method, &self.path(tail), &[], Some(&body)).await
    }

    pub async fn post(&self, tail: &str, body: &impl Serialize) -> Result<Value, ToolError> {
        self.write(HttpMethod::POST, tail, body).await
    }

    pub async fn get(&self, tail: &str, query: &[(&str, String)]) -> Result<Value, ToolError> {
        self.send(HttpMethod::GET, &self.path(tail), query, None).await
    }
}

/// The tools whose arguments are their REST twin's body as is: read them into `T` (which
/// checks them against the tool's schema) and POST them to `tail`.
pub async fn forward<T: DeserializeOwned + Serialize>(
    call: &Call<'_>,
    tail: &str,
    args: JsonObject,
) -> Result<Value, ToolError> {
    let args: T = crate::spec::parse(args)?;
    call.post(tail, &args).await
}

/// A path segment from a caller's text (a table name), encoded so it cannot leave its segment.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// Query parameters from optional values: the ones that are set, as text.
pub fn query(pairs: &[(&'static str, Option<String>)]) -> Vec<(&'static str, String)> {
    pairs.iter().filter_map(|(k, v)| v.clone().map(|v| (*k, v))).collect()
}

/// Runs a tool by name; `None` when no tool has that name.
pub async fn run(
    call: &Call<'_>,
    name: &str,
    args: JsonObject,
) -> Option<Result<Value, ToolError>> {
    if name.starts_with("memory_") {
        memory::run(call, name, args).await
    } else if name.starts_with("vector_") || name == "embed" {
        vectors::run(call, name, args).await
    } else if name.starts_with("table_") || name.starts_with("rows_") {
        tables::run(call, name, args).await
    } else if name.starts_with("events_") {
        events::run(call, name, args).await
    } else if name.starts_with("file") {
        files::run(call, name, args).await
    } else {
        feedback::run(call, name, args).await
    }
}
