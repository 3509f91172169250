//! The tool catalog: each tool's name, description, input schema and annotations.

use crate::outcome::ToolError;
use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;

/// What a tool does to the project, for the annotations a client shows its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Only reads.
    Reads,
    /// Adds something new each time it is called.
    Adds,
    /// Writes, and calling it again with the same arguments changes nothing more.
    Overwrites,
    /// Deletes or overwrites what was there.
    Destroys,
}

pub const PROJECT_ID_HELP: &str = "The project to work in (a UUID). Leave it out when connected \
    with an API key: the key belongs to one project and that project is used. Required when \
    signed in as a user.";

/// One tool: how a client sees it.
pub fn tool<T: JsonSchema + 'static>(
    name: &'static str,
    title: &str,
    description: &'static str,
    effect: Effect,
) -> Tool {
    let mut schema: JsonObject = (*schema_for_type::<T>()).clone();
    let properties = schema.entry("properties").or_insert_with(|| json!({}));
    if let Value::Object(properties) = properties {
        properties.insert(
            "project_id".into(),
            json!({"type": "string", "format": "uuid", "description": PROJECT_ID_HELP}),
        );
    }
    let annotations = ToolAnnotations::with_title(title)
        .read_only(effect == Effect::Reads)
        .destructive(effect == Effect::Destroys)
        .idempotent(matches!(effect, Effect::Reads | Effect::Overwrites | Effect::Destroys))
        .open_world(false);
    Tool::new(name, description, Arc::new(schema)).with_title(title).with_annotations(annotations)
}

/// Reads a tool's arguments into its input type; a mismatch is a tool error the model can
/// correct, not a protocol error.
pub fn parse<T: DeserializeOwned>(args: JsonObject) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(args))
        .map_err(|e| ToolError::invalid(format!("arguments: {e}")))
}

/// Every tool, in the order tools/list shows them.
pub fn catalog() -> Vec<Tool> {
    let mut tools = Vec::new();
    tools.extend(crate::tools::memory::tools());
    tools.extend(crate::tools::vectors::tools());
    tools.extend(crate::tools::tables::tools());
    tools.extend(crate::tools::events::tools());
    tools.extend(crate::tools::files::tools());
    tools.extend(crate::tools::feedback::tools());
    tools
}
