//! Events: publish to the project's durable log and read it back.

use super::{Call, forward, query};
use crate::outcome::ToolError;
use crate::spec::{Effect, parse, tool};
use chrono::{DateTime, Utc};
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One event.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsPublish {
    /// The topic, e.g. `orders.created` (letters, digits, `.`, `_`, `-`).
    pub topic: String,
    /// The event itself: any JSON value.
    pub event_payload: Value,
    /// An optional key; events with the same key keep their order downstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Optional string headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Map<String, Value>>,
}

/// Which events to read.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsList {
    /// Only this topic.
    pub topic: Option<String>,
    /// Start at this offset (inclusive); offsets grow by one per event in a project.
    pub from_offset: Option<i64>,
    /// Only events published at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only events published before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page, to read the next one.
    pub cursor: Option<String>,
}

pub fn tools() -> Vec<Tool> {
    vec![
        tool::<EventsPublish>(
            "events_publish",
            "Publish an event",
            "Append one event to a topic of the project's durable event log, where other \
             agents and services read it in order. Returns the event with its `offset`.",
            Effect::Adds,
        ),
        tool::<EventsList>(
            "events_list",
            "Read events",
            "Read events from the log in offset order, by topic, from an offset or in a time \
             range, a page at a time. Returns `items` (topic, offset, payload, time) and the \
             `next_cursor`.",
            Effect::Reads,
        ),
    ]
}

pub async fn run(
    call: &Call<'_>,
    name: &str,
    args: JsonObject,
) -> Option<Result<Value, ToolError>> {
    Some(match name {
        "events_publish" => forward::<EventsPublish>(call, "events/publish", args).await,
        "events_list" => list(call, args).await,
        _ => return None,
    })
}

async fn list(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: EventsList = parse(args)?;
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    let pairs = query(&[
        ("topic", args.topic),
        ("from_offset", args.from_offset.map(|v| v.to_string())),
        ("since", time(args.since)),
        ("until", time(args.until)),
        ("limit", args.limit.map(|v| v.to_string())),
        ("cursor", args.cursor),
    ]);
    call.get("events", &pairs).await
}
