//! Files: list the project's files, read one as text (or base64), upload text or bytes.
//! Reads and uploads are capped so a file never floods the model's context.

use super::{Call, query};
use crate::outcome::ToolError;
use crate::spec::{Effect, parse, tool};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use zerodb_client::FilePart;

/// Which files to list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesList {
    /// Only files whose key starts with this, e.g. `reports/2026/`.
    pub prefix: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page, to read the next one.
    pub cursor: Option<String>,
}

/// The file (and part of it) to read.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRead {
    /// The file's id, as files_list or file_upload returned it.
    pub file_id: Uuid,
    /// The first byte to read (default 0); use it to read a large file in parts.
    pub offset: Option<u64>,
    /// How many bytes to read at most (default and ceiling: the server's file limit for
    /// tools, 1 MiB unless configured otherwise).
    pub max_bytes: Option<u64>,
}

/// A file to store.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileUpload {
    /// The file's name, e.g. `notes.md`.
    pub file_name: String,
    /// The content as text (UTF-8).
    pub content: Option<String>,
    /// Instead of `content`: the bytes, base64-encoded.
    pub content_base64: Option<String>,
    /// Its media type, e.g. `text/markdown`; `text/plain` for text and
    /// `application/octet-stream` for bytes when left out.
    pub content_type: Option<String>,
    /// The key (path) to store it under, e.g. `notes/2026/today.md`; made from the id
    /// when left out. A key already taken is refused.
    pub file_key: Option<String>,
    /// Any JSON object to keep with it.
    pub file_metadata: Option<Value>,
}

pub fn tools() -> Vec<Tool> {
    vec![
        tool::<FilesList>(
            "files_list",
            "List files",
            "List the project's files (id, key, name, type, size), optionally under a key \
             prefix, a page at a time. Use it to find a file_id for file_read.",
            Effect::Reads,
        ),
        tool::<FileRead>(
            "file_read",
            "Read a file",
            "Read a stored file's content: as text when it is UTF-8, otherwise as base64. \
             Large files are returned in parts: the answer says whether it was `truncated` \
             and the `next_offset` to continue from.",
            Effect::Reads,
        ),
        tool::<FileUpload>(
            "file_upload",
            "Upload a file",
            "Store a file from text (`content`) or base64 bytes (`content_base64`), up to \
             the server's file limit for tools (1 MiB unless configured otherwise). Returns \
             the file's id, key, size and SHA-256.",
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
        "files_list" => list(call, args).await,
        "file_read" => read(call, args).await,
        "file_upload" => upload(call, args).await,
        _ => return None,
    })
}

async fn list(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: FilesList = parse(args)?;
    let pairs = query(&[
        ("prefix", args.prefix),
        ("limit", args.limit.map(|v| v.to_string())),
        ("cursor", args.cursor),
    ]);
    call.get("files", &pairs).await
}

async fn read(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: FileRead = parse(args)?;
    let cap = call.limits.max_file_bytes as u64;
    let wanted = args.max_bytes.unwrap_or(cap).min(cap);
    if wanted == 0 {
        return Err(ToolError::invalid("max_bytes must be at least 1"));
    }
    let info = call.client.get_file(call.project, args.file_id).await?;
    let size = info.size_bytes.unwrap_or(0);
    let offset = args.offset.unwrap_or(0);
    let bytes = if offset >= size {
        if offset > size {
            return Err(ToolError::invalid(format!(
                "offset {offset} is past the end ({size} bytes)"
            )));
        }
        Vec::new()
    } else {
        let last = (offset + wanted).min(size) - 1;
        let range = format!("bytes={offset}-{last}");
        let content = call.client.download_file(call.project, args.file_id, Some(&range)).await?;
        content.bytes.to_vec()
    };
    let (encoding, content, used) = match std::str::from_utf8(&bytes) {
        Ok(text) => ("utf-8", text.to_owned(), bytes.len()),
        // A part that ends inside a character: return the whole characters, continue after.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            let used = e.valid_up_to();
            ("utf-8", String::from_utf8_lossy(&bytes[..used]).into_owned(), used)
        }
        Err(_) => ("base64", STANDARD.encode(&bytes), bytes.len()),
    };
    let next = offset + used as u64;
    Ok(json!({
        "file_id": info.file_id,
        "file_key": info.file_key,
        "file_name": info.file_name,
        "content_type": info.content_type,
        "size_bytes": size,
        "offset": offset,
        "returned_bytes": used,
        "truncated": next < size,
        "next_offset": (next < size).then_some(next),
        "encoding": encoding,
        "content": content,
    }))
}

async fn upload(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: FileUpload = parse(args)?;
    let (content, default_type) = match (args.content, args.content_base64) {
        (Some(text), None) => (text.into_bytes(), "text/plain; charset=utf-8"),
        (None, Some(encoded)) => {
            let bytes = STANDARD
                .decode(encoded.trim())
                .map_err(|e| ToolError::invalid(format!("content_base64: {e}")))?;
            (bytes, "application/octet-stream")
        }
        (Some(_), Some(_)) => {
            return Err(ToolError::invalid("give content or content_base64, not both"));
        }
        (None, None) => return Err(ToolError::invalid("give content or content_base64")),
    };
    if content.len() > call.limits.max_file_bytes {
        return Err(ToolError::too_large(format!(
            "the file is {} bytes; tools upload at most {} (use the REST upload for larger files)",
            content.len(),
            call.limits.max_file_bytes
        )));
    }
    let part = FilePart {
        file_name: args.file_name,
        content_type: args.content_type.unwrap_or_else(|| default_type.to_owned()),
        content,
        file_key: args.file_key,
        file_metadata: args.file_metadata,
    };
    let info = call.client.upload_file_typed(call.project, part).await?;
    serde_json::to_value(info).map_err(|_| ToolError::Unexpected)
}
