//! Feedback and traces: RLHF records and agent logs.

use super::{Call, forward};
use crate::outcome::ToolError;
use crate::spec::{Effect, tool};
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// One feedback record.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RlhfLog {
    /// The conversation the feedback is about.
    pub session_id: Uuid,
    /// The prompt the model answered.
    pub input_prompt: String,
    /// What the model answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_output: Option<String>,
    /// The better of two answers, for preference data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_output: Option<String>,
    /// The worse of two answers, for preference data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_output: Option<String>,
    /// A reward: any finite number (higher is better).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward_score: Option<f64>,
    /// A rating, 1 to 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<i16>,
    /// Free-text notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Tags to filter exports by.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Any JSON object to keep with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// One agent log line.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentLog {
    /// The agent that logs.
    pub agent_id: Uuid,
    /// The session it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    /// `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub log_level: String,
    /// The message.
    pub log_message: String,
    /// Any JSON to keep with it (a tool call, a stack trace, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_payload: Option<Value>,
}

pub fn tools() -> Vec<Tool> {
    vec![
        tool::<RlhfLog>(
            "rlhf_log",
            "Record feedback",
            "Record human or automatic feedback on a model answer (a reward, a rating, or a \
             chosen/rejected pair) for later fine-tuning. Returns the stored record.",
            Effect::Adds,
        ),
        tool::<AgentLog>(
            "agent_log",
            "Write an agent log line",
            "Append a log line to the agent's trace (what it did, what failed), for people \
             debugging the agent later. Returns the stored line. Not for facts to recall: use \
             memory_store for those.",
            Effect::Adds,
        ),
    ]
}

pub async fn run(
    call: &Call<'_>,
    name: &str,
    args: JsonObject,
) -> Option<Result<Value, ToolError>> {
    Some(match name {
        "rlhf_log" => forward::<RlhfLog>(call, "rlhf/log", args).await,
        "agent_log" => forward::<AgentLog>(call, "agent/log", args).await,
        _ => return None,
    })
}
