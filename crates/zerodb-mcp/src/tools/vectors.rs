//! Vectors: upsert embeddings with documents and metadata, search them, delete them, and
//! turn text into embeddings.

use super::{Call, HttpMethod, forward};
use crate::outcome::ToolError;
use crate::spec::{Effect, parse, tool};
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// One vector to store.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorUpsert {
    /// The embedding: a list of numbers of the namespace's dimension (up to 4096).
    pub vector_embedding: Vec<f32>,
    /// Its id; an existing id is replaced. Left out, a new id is made and returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_id: Option<Uuid>,
    /// The namespace (collection) to store it in; `default` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The text the embedding was made from, returned with search hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Any JSON object to keep with it; vector_search and vector_delete can filter on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_metadata: Option<Value>,
    /// Where it came from (a URL, a file name), at most 1024 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A similarity search.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorSearch {
    /// The query embedding, of the namespace's dimension.
    pub query_vector: Option<Vec<f32>>,
    /// Instead of `query_vector`: text, embedded with the project's embedding model (only
    /// meaningful for namespaces filled with that model's embeddings).
    pub query: Option<String>,
    /// The namespace to search; `default` when left out.
    pub namespace: Option<String>,
    /// How many hits, 1 to 1000 (default 10).
    pub limit: Option<u32>,
    /// A filter on vector_metadata: {"field": value}, or operators such as $eq, $ne, $gt,
    /// $gte, $lt, $lte, $in, $nin, $exists, $contains, combined with $and, $or, $not.
    pub filter: Option<Value>,
    /// Leave out hits scoring below this.
    pub min_score: Option<f32>,
    /// Return each hit's embedding too (large; default false).
    #[serde(default)]
    pub include_vectors: bool,
}

/// What to delete: ids, or everything matching a filter (in one namespace or all).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorDelete {
    /// The ids to delete (ids are unique across namespaces, so give no namespace with them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_ids: Option<Vec<Uuid>>,
    /// With `filter`: only this namespace (every namespace when left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Instead of ids: delete every vector whose metadata matches this filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
}

/// Texts to embed.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Embed {
    /// The texts, 1 to 256 of them.
    pub texts: Vec<String>,
    /// One of the server's embedding models (the database status lists them); the
    /// project's own model when absent.
    #[serde(default)]
    pub model: Option<String>,
}

pub fn tools() -> Vec<Tool> {
    vec![
        tool::<VectorUpsert>(
            "vector_upsert",
            "Store a vector",
            "Store one embedding with its document and metadata in a namespace, or replace the \
             vector with the same `vector_id`. Use it when you already have embeddings (from \
             `embed` or elsewhere); to remember conversation text prefer memory_store, which \
             embeds for you. Returns the stored vector's id, namespace and dimension.",
            Effect::Overwrites,
        ),
        tool::<VectorSearch>(
            "vector_search",
            "Search vectors by similarity",
            "Find the vectors most similar to a query embedding (`query_vector`) or to text \
             (`query`, embedded with the project's model), optionally filtered by metadata. \
             Returns `results`, best first, each with vector_id, score, document and \
             vector_metadata.",
            Effect::Reads,
        ),
        tool::<VectorDelete>(
            "vector_delete",
            "Delete vectors",
            "Delete vectors by id (`vector_ids`), or every vector whose metadata matches \
             `filter`, optionally only in one `namespace`. Deleted vectors never come back in searches. Returns how many were \
             deleted.",
            Effect::Destroys,
        ),
        tool::<Embed>(
            "embed",
            "Embed texts",
            "Turn texts into embeddings with the project's embedding model, e.g. to pass to \
             vector_upsert. Returns `embeddings` (one list of numbers per text, in order), \
             the model and the dimension. Nothing is stored.",
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
        "vector_upsert" => forward::<VectorUpsert>(call, "vectors/upsert", args).await,
        "vector_search" => search(call, args).await,
        "vector_delete" => forward::<VectorDelete>(call, "vectors/delete", args).await,
        "embed" => embed(call, args).await,
        _ => return None,
    })
}

async fn search(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: VectorSearch = parse(args)?;
    let query_vector = match (args.query_vector, args.query) {
        (Some(vector), None) => Value::from(vector),
        (None, Some(text)) => {
            let embedded = embed_texts(call, &[text], None).await?;
            embedded["embeddings"][0].clone()
        }
        (Some(_), Some(_)) => {
            return Err(ToolError::invalid("give query_vector or query, not both"));
        }
        (None, None) => return Err(ToolError::invalid("give query_vector or query")),
    };
    let mut body = json!({"query_vector": query_vector, "include_vectors": args.include_vectors});
    for (key, value) in [
        ("namespace", args.namespace.map(Value::from)),
        ("limit", args.limit.map(Value::from)),
        ("filter", args.filter),
        ("min_score", args.min_score.map(Value::from)),
    ] {
        if let Some(value) = value {
            body[key] = value;
        }
    }
    call.post("vectors/search", &body).await
}

async fn embed(call: &Call<'_>, args: JsonObject) -> Result<Value, ToolError> {
    let args: Embed = parse(args)?;
    embed_texts(call, &args.texts, args.model.as_deref()).await
}

/// `model: None` embeds with the project's own model.
async fn embed_texts(
    call: &Call<'_>,
    texts: &[String],
    model: Option<&str>,
) -> Result<Value, ToolError> {
    let path = format!("/api/v1/projects/{}/embeddings/generate", call.project);
    call.send(HttpMethod::POST, &path, &[], Some(&json!({ "texts": texts, "model": model }))).await
}
