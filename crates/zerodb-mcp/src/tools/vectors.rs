//! Vectors: upsert embeddings with documents and metadata, search them, delete them, and
//! turn text into embeddings.

use super::{Call, HttpMethod, forward};
use crate::outcome::ToolError;
use crate::spec::{Effect, parse, tool};
use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One vector to store.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorUpsert {
    /// The embedding: a list of numbers of the namespace's dimension (up to 4096). Leave it
    /// out to have the server embed `document` with the namespace's model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_embedding: Option<Vec<f32>>,
    /// Its id: any text of 1 to 512 bytes ("1", "doc-7#2", a UUID); an existing id is
    /// replaced. Left out, a new id is made and returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_id: Option<String>,
    /// The namespace (collection) to store it in; `default` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The text the embedding was made from (or is to be made from), returned with search
    /// hits and searched by words in lexical and hybrid search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Any JSON object to keep with it; vector_search and vector_delete can filter on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_metadata: Option<Value>,
    /// Where it came from (a URL, a file name), at most 1024 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A search by meaning, by words, or both.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorSearch {
    /// The query embedding, of the namespace's dimension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_vector: Option<Vec<f32>>,
    /// Instead of `query_vector`: text, embedded with the namespace's model for meaning and
    /// matched word by word against documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `semantic` (by meaning; the default with query_vector), `lexical` (by words) or
    /// `hybrid` (both fused; the default with query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The namespace to search; `default` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// How many hits, 1 to 1000 (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// A filter on vector_metadata: {"field": value}, or operators such as $eq, $ne, $gt,
    /// $gte, $lt, $lte, $in, $nin, $exists, $contains, combined with $and, $or, $not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    /// Leave out hits scoring below this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f32>,
    /// What each hit carries besides its id: any of documents, metadata, vectors, scores
    /// (default documents, metadata and scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Diversify the hits: {"lambda": 0..1 (1 = relevance only), "fetch_k": candidates}.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmr: Option<Value>,
}

/// Vectors by id, or a page of a namespace's vectors matching a filter.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorGet {
    /// Up to 1000 ids; answered in this order, missing ones left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    /// The namespace (`default` when left out, for a filter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Instead of ids: a metadata filter, paged with limit and cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Any of documents, metadata, vectors (default documents and metadata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
}

/// What to delete: ids, or everything matching a filter (in one namespace or all).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorDelete {
    /// The ids to delete (ids are unique across namespaces, so give no namespace with them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_ids: Option<Vec<String>>,
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
            "Store one document with its metadata in a namespace, or replace the vector with \
             the same `vector_id`: give `vector_embedding`, or only `document` to have the \
             server embed it. To remember conversation text prefer memory_store. Returns the \
             stored vector's id.",
            Effect::Overwrites,
        ),
        tool::<VectorSearch>(
            "vector_search",
            "Search vectors and documents",
            "Find the vectors most similar to a query embedding (`query_vector`), or the \
             documents that best match a text (`query`: hybrid by meaning and words, or \
             `mode` semantic or lexical), optionally filtered by metadata and diversified \
             with `mmr`. Returns `results`, best first, each with vector_id, score (and \
             score_breakdown for text), document and vector_metadata.",
            Effect::Reads,
        ),
        tool::<VectorGet>(
            "vector_get",
            "Get vectors",
            "Read vectors by id (`ids`), or a page of a namespace's vectors whose metadata \
             matches `filter`. Returns `items` and `next_cursor`.",
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
        "vector_search" => forward::<VectorSearch>(call, "vectors/search", args).await,
        "vector_get" => forward::<VectorGet>(call, "vectors/get", args).await,
        "vector_delete" => forward::<VectorDelete>(call, "vectors/delete", args).await,
        "embed" => embed(call, args).await,
        _ => return None,
    })
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
