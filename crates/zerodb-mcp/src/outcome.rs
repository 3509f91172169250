//! What a tool call answers: its REST twin's JSON as text plus structured content, or an
//! MCP tool error (`isError`) carrying the REST API's stable code and message. Results over
//! the size limit are cut down, and say so.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};
use zerodb_client::ClientError;

/// Why a tool call failed, in the REST API's terms.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The REST API refused the call; its stable code and message pass through.
    #[error("{code} ({status}): {message}")]
    Api { status: u16, code: String, message: String, details: Option<Value>, request_id: String },
    /// The arguments do not match the tool's input schema.
    #[error("validation_failed (422): {0}")]
    InvalidArguments(String),
    /// The server could not be reached or did not finish answering.
    #[error("service_unavailable (503): the ZeroDB server did not answer; try again")]
    Unavailable,
    /// The server answered with something the API does not promise.
    #[error("internal_error (500): the ZeroDB server gave an unexpected answer")]
    Unexpected,
}

impl ToolError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ToolError::InvalidArguments(message.into())
    }

    /// Over one of the MCP layer's own size limits, with the REST API's code for it.
    pub fn too_large(message: impl Into<String>) -> Self {
        ToolError::Api {
            status: 413,
            code: "payload_too_large".into(),
            message: message.into(),
            details: None,
            request_id: String::new(),
        }
    }

    fn envelope(&self) -> Value {
        let (status, code, message, details, request_id) = match self {
            ToolError::Api { status, code, message, details, request_id } => {
                (*status, code.as_str(), message.clone(), details.clone(), Some(request_id))
            }
            ToolError::InvalidArguments(message) => {
                (422, "validation_failed", message.clone(), None, None)
            }
            ToolError::Unavailable => {
                (503, "service_unavailable", "the ZeroDB server did not answer".into(), None, None)
            }
            ToolError::Unexpected => (
                500,
                "internal_error",
                "the ZeroDB server gave an unexpected answer".into(),
                None,
                None,
            ),
        };
        let mut error = json!({"code": code, "message": message, "status": status});
        if let Some(details) = details {
            error["details"] = details;
        }
        if let Some(id) = request_id.filter(|id| !id.is_empty()) {
            error["request_id"] = Value::String(id.clone());
        }
        json!({ "error": error })
    }

    /// The MCP answer: `isError` with the code and message as text and as structure.
    pub fn into_result(self) -> CallToolResult {
        let text = self.to_string();
        let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
        result.structured_content = Some(self.envelope());
        result
    }
}

impl From<ClientError> for ToolError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Api { status, code, message, details, request_id } => {
                ToolError::Api { status, code, message, details, request_id }
            }
            // Connection details stay in the server's log, never in the model's context.
            ClientError::Transport(e) => {
                tracing::warn!(error = %e, "MCP tool call: the REST call did not complete");
                ToolError::Unavailable
            }
            ClientError::Unexpected { status, .. } => {
                tracing::warn!(status, "MCP tool call: unexpected REST answer");
                ToolError::Unexpected
            }
        }
    }
}

/// A successful answer, cut to `max_bytes` of JSON when it is larger.
pub fn success(value: Value, max_bytes: usize) -> CallToolResult {
    let (mut structured, note) = fit(value, max_bytes);
    if !structured.is_object() {
        // Structured content is an object; lists and bare values are wrapped.
        structured = json!({ "result": structured });
    }
    let mut text = structured.to_string();
    if let Some(note) = &note {
        text.push_str("\n\n");
        text.push_str(note);
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

/// Shrinks `value` until its JSON fits in `max_bytes`: drops items from the end of its
/// largest list (saying how many were kept), or, when there is no list to shorten, replaces
/// it with a preview of its text.
fn fit(value: Value, max_bytes: usize) -> (Value, Option<String>) {
    let size = |v: &Value| serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX);
    if size(&value) <= max_bytes {
        return (value, None);
    }
    let (mut holder, field) = match value {
        Value::Array(items) => {
            (Map::from_iter([("result".to_owned(), Value::Array(items))]), "result".to_owned())
        }
        Value::Object(map) => {
            let largest = map
                .iter()
                .filter(|(_, v)| v.is_array())
                .max_by_key(|(_, v)| size(v))
                .map(|(k, _)| k.clone());
            match largest {
                Some(field) => (map, field),
                None => return preview(Value::Object(map), max_bytes),
            }
        }
        other => return preview(other, max_bytes),
    };
    let Some(Value::Array(items)) = holder.remove(&field) else {
        return preview(Value::Object(holder), max_bytes);
    };
    let total = items.len();
    // The largest prefix that fits, by bisection over the number of items kept.
    let attempt = |kept: usize, holder: &Map<String, Value>| {
        let mut candidate = holder.clone();
        candidate.insert(field.clone(), Value::Array(items[..kept].to_vec()));
        candidate.insert(
            "truncated".into(),
            json!({"field": field, "kept": kept, "total": total, "max_bytes": max_bytes}),
        );
        Value::Object(candidate)
    };
    let (mut low, mut high) = (0usize, total);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if size(&attempt(mid, &holder)) <= max_bytes { low = mid } else { high = mid - 1 }
    }
    let shortened = attempt(low, &holder);
    if size(&shortened) > max_bytes {
        return preview(shortened, max_bytes);
    }
    let note = format!(
        "Truncated: {low} of {total} items of `{field}` fit in the {max_bytes}-byte result limit; \
         ask for fewer (a smaller limit, a narrower filter) or page with the cursor."
    );
    (shortened, Some(note))
}

fn preview(value: Value, max_bytes: usize) -> (Value, Option<String>) {
    let text = value.to_string();
    let mut end = max_bytes.saturating_sub(256).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let note = format!(
        "Truncated: the result is {} bytes, over the {max_bytes}-byte limit; the preview holds its first {end} bytes.",
        text.len()
    );
    (
        json!({"truncated": {"bytes": text.len(), "max_bytes": max_bytes}, "preview": &text[..end]}),
        Some(note),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_result_passes_untouched() {
        let (value, note) = fit(json!({"items": [1, 2, 3]}), 1000);
        assert_eq!(value, json!({"items": [1, 2, 3]}));
        assert!(note.is_none());
    }

    #[test]
    fn a_large_list_keeps_the_longest_prefix_that_fits_and_says_so() {
        let items: Vec<Value> =
            (0..1000).map(|i| json!({"id": i, "text": "x".repeat(50)})).collect();
        let (value, note) = fit(json!({"items": items, "next_cursor": "c"}), 4096);
        assert!(serde_json::to_vec(&value).unwrap().len() <= 4096);
        let kept = value["truncated"]["kept"].as_u64().unwrap() as usize;
        assert!(kept > 10 && kept < 1000, "kept {kept}");
        assert_eq!(value["items"].as_array().unwrap().len(), kept);
        assert_eq!(value["items"][0]["id"], 0);
        assert_eq!(value["truncated"]["total"], 1000);
        assert_eq!(value["next_cursor"], "c");
        assert!(note.unwrap().contains(&format!("{kept} of 1000")));
    }

    #[test]
    fn one_huge_value_becomes_a_preview() {
        let (value, note) = fit(json!({"content": "é".repeat(10_000)}), 2048);
        assert!(serde_json::to_vec(&value).unwrap().len() <= 2048);
        assert!(value["preview"].as_str().unwrap().starts_with("{\"content\":\"é"));
        assert!(note.unwrap().starts_with("Truncated"));
    }

    #[test]
    fn errors_carry_the_rest_code_and_status() {
        let result = ToolError::Api {
            status: 403,
            code: "insufficient_scope".into(),
            message: "this key lacks memory:write".into(),
            details: None,
            request_id: "r1".into(),
        }
        .into_result();
        assert_eq!(result.is_error, Some(true));
        let error = &result.structured_content.unwrap()["error"];
        assert_eq!(error["code"], "insufficient_scope");
        assert_eq!(error["status"], 403);
        assert_eq!(error["request_id"], "r1");
    }
}
