//! Agent memory: store what was said, find it again by meaning, build a context window.

use super::{Call, forward, query};
use crate::outcome::ToolError;
use crate::spec::{Effect, parse, tool};
use chrono::{DateTime, Utc};
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A message or fact to remember.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryStore {
    /// The agent this memory belongs to (a UUID you choose and reuse for the same agent).
    pub agent_id: Uuid,
    /// The conversation or task it belongs to (a UUID you choose and reuse for the session).
    pub session_id: Uuid,
    /// Who said it: `user`, `assistant` or `system`.
    pub role: String,
    /// The text to remember (1 to 65,536 characters). It is embedded so that memory_search finds it by meaning.
    pub content: String,
    /// Any JSON object to keep with it (tags, source, ...); memory_search can filter on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_metadata: Option<Value>,
    /// How much it matters, 0.0 to 1.0 (default 0.5); raises its rank in memory_search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance: Option<f32>,
    /// When to forget it (RFC 3339); kept until deleted when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What to look for among stored memories.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySearch {
    /// What you are looking for, in words; matched by meaning, not only by exact words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Instead of `query`: an embedding of the project's dimension to search with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_vector: Option<Vec<f32>>,
    /// `semantic` (by meaning, the default), `lexical` (by words) or `hybrid` (both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Only this agent's memories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    /// Only this session's memories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    /// Only memories with this role: `user`, `assistant` or `system`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Only memories stored at or after this time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Only memories stored before this time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// A filter on memory_metadata, e.g. {"topic": "billing"} or {"priority": {"$gte": 2}}.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// How many results, 1 to 1000 (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Which agent's context to assemble.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryContext {
    /// The agent whose memories make the context.
    pub agent_id: Uuid,
    /// Only this session (otherwise all of the agent's sessions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    /// What the context is for; memories relevant to it are preferred.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The token budget of the context (default 8192).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// Which memories to list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryList {
    /// Only this agent's memories.
    pub agent_id: Option<Uuid>,
    /// Only this session's memories.
    pub session_id: Option<Uuid>,
    /// Only this role: `user`, `assistant` or `system`.
    pub role: Option<String>,
    /// Only memories stored at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only memories stored before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page, to read the next one.
    pub cursor: Option<String>,
}

/// The memory to forget.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryDelete {
    /// The memory's id, as memory_store, memory_search or memory_list returned it.
    pub memory_id: Uuid,
}

pub fn tools() -> Vec<Tool> {
    vec![
        tool::<MemoryStore>(
            "memory_store",
            "Remember a message",
            "Store one message or fact in the agent's long-term memory. Use it for anything \
             worth recalling in a later turn or session (what the user said, a decision, a \
             preference). Returns the stored memory with its `memory_id`. To find memories \
             again use memory_search; to build a prompt context use memory_context.",
            Effect::Adds,
        ),
        tool::<MemorySearch>(
            "memory_search",
            "Search memory by meaning",
            "Find stored memories relevant to a question or topic, ranked by a score that \
             combines similarity to `query`, recency and importance (each part is returned). \
             Use it to recall facts before answering. Narrow with agent_id, session_id, role, \
             time range or a metadata `filter`. Returns `results`, best first, each with its \
             content, metadata and scores.",
            Effect::Reads,
        ),
        tool::<MemoryContext>(
            "memory_context",
            "Build a context window",
            "Assemble an agent's most relevant recent memories into a context that fits a \
             token budget, oldest first, ready to put in a prompt. Prefer it over \
             memory_search when you want a conversation summary rather than a ranked list.",
            Effect::Reads,
        ),
        tool::<MemoryList>(
            "memory_list",
            "List memories",
            "List stored memories newest first, filtered by agent, session, role or time, a \
             page at a time (pass `next_cursor` back as `cursor`). Use memory_search instead \
             to find memories about something.",
            Effect::Reads,
        ),
        tool::<MemoryDelete>(
            "memory_delete",
            "Forget a memory",
            "Delete one memory for good by its `memory_id`. It no longer appears in searches, \
             lists or contexts. Returns nothing on success; not_found when there is no such \
             memory in the project.",
            Effect::Destroys,
        ),
    ]
}

pub async fn run(
    call: &Call<'_>,
    name: &str,
    args: JsonObject,
) -> Option<Result<Value, ToolError>> {
    Some(match name {
        "memory_store" => forward::<MemoryStore>(call, "memory/store", args).await,
        "memory_search" => forward::<MemorySearch>(call, "memory/search", args).await,
        "memory_context" => forward::<MemoryContext>(call, "memory/context", args).await,
        "memory_list" => list(call, args).await,
        "memory_delete" => delete(call, args).await,
        _ => return None,
    })
}

async fn list(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: MemoryList = parse(args)?;
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    let pairs = query(&[
        ("agent_id", args.agent_id.map(|v| v.to_string())),
        ("session_id", args.session_id.map(|v| v.to_string())),
        ("role", args.role),
        ("since", time(args.since)),
        ("until", time(args.until)),
        ("limit", args.limit.map(|v| v.to_string())),
        ("cursor", args.cursor),
    ]);
    call.get("memory", &pairs).await
}

async fn delete(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: MemoryDelete = parse(args)?;
    let path = call.path(&format!("memory/{}", args.memory_id));
    call.send(zerodb_client::HttpMethod::DELETE, &path, &[], None).await?;
    Ok(serde_json::json!({"deleted": true, "memory_id": args.memory_id}))
}
