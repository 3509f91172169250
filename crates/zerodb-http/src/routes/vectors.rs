//! Vectors: namespaces, upsert (one or a batch), similarity search, list, get, delete.

use super::ListResponse;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use crate::sized_json::{BodyLimit, SizedJson};
use actix_web::{HttpResponse, guard, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use zerodb_domain::ProjectId;
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::services::Submission;
use zerodb_domain::services::{
    DeleteInput, GetInput, NamespaceSettings, RankedHit, SearchInput, SearchOutcome,
};
use zerodb_domain::vectors::{
    FusionWeights, Include, Metric, MmrOptions, Namespace, NamespaceStats, Quantization,
    ScoreBreakdown, SearchPath, UpsertOutcome, VectorId, VectorInput, VectorRecord,
};

/// Registers the routes; `batch_limit` is the body limit of batch upserts, which carry up
/// to 1000 embeddings as JSON numbers.
pub fn config(cfg: &mut web::ServiceConfig, batch_limit: usize) {
    let base = "/projects/{project_id}/database/vectors";
    // Every fixed route below `base` is a POST; its guard lets GET and DELETE through to
    // the id route, so that an id may be any string, "search" or "upsert" included: GET and
    // DELETE of `{base}/{vector_id}` always mean the vector.
    let post_only = |path: &str| {
        super::resource(path).guard(guard::Not(guard::Any(guard::Get()).or(guard::Delete())))
    };
    cfg.service(super::resource(base).route(web::get().to(list_vectors)))
        .service(post_only(&format!("{base}/upsert")).route(web::post().to(upsert_vector)))
        .service(
            post_only(&format!("{base}/upsert-batch"))
                .app_data(BodyLimit(batch_limit))
                .route(web::post().to(upsert_vectors)),
        )
        .service(post_only(&format!("{base}/search")).route(web::post().to(search_vectors)))
        .service(post_only(&format!("{base}/get")).route(web::post().to(get_vectors)))
        .service(post_only(&format!("{base}/delete")).route(web::post().to(delete_vectors)))
        // Kept for clients of the earlier path; namespaces are listed and read under
        // vector-namespaces, where no id can be shadowed.
        .service(post_only(&format!("{base}/namespaces")).route(web::post().to(create_namespace)))
        .service(
            super::resource(&format!("{base}/{{vector_id}}"))
                .route(web::get().to(get_vector))
                .route(web::delete().to(delete_vector)),
        )
        .service(
            super::resource("/projects/{project_id}/database/vector-namespaces")
                .route(web::get().to(list_namespaces))
                .route(web::post().to(create_namespace_v2)),
        )
        .service(
            super::resource("/projects/{project_id}/database/vector-namespaces/{namespace}")
                .route(web::get().to(get_namespace)),
        );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertVectorRequest {
    /// Any UTF-8 string of 1..=512 bytes without control characters ("1", "doc-7#2", a
    /// UUID); compared byte for byte and answered exactly as given. Replaces the vector
    /// with this id when it exists; a UUIDv7 is generated when absent.
    #[schema(min_length = 1, max_length = 512)]
    pub vector_id: Option<String>,
    /// `[A-Za-z0-9._-]{1,128}`, default `default`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: Option<String>,
    /// 1..=4096 finite numbers; the first vector of a namespace fixes its dimension. Leave
    /// it out to have the server embed `document` with the namespace's model (the
    /// project's model for a new namespace).
    #[schema(min_items = 1, max_items = 4096)]
    #[serde(default, deserialize_with = "super::f32s::optional")]
    pub vector_embedding: Option<Vec<f32>>,
    /// Text kept with the vector, searched by `lexical` and `hybrid` search.
    #[schema(max_length = 1048576)]
    pub document: Option<String>,
    /// A JSON object within the configured size.
    #[schema(value_type = Option<Object>)]
    pub vector_metadata: Option<Value>,
    #[schema(max_length = 1024)]
    pub source: Option<String>,
}

impl From<UpsertVectorRequest> for VectorInput {
    fn from(r: UpsertVectorRequest) -> Self {
        VectorInput {
            vector_id: r.vector_id,
            namespace: r.namespace,
            embedding: r.vector_embedding,
            document: r.document,
            metadata: r.vector_metadata,
            source: r.source,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertVectorsRequest {
    /// 1..=1000 vectors, stored all or nothing; those sent as text are embedded in one call.
    #[schema(min_items = 1, max_items = 1000)]
    pub vectors: Vec<UpsertVectorRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpsertedVector {
    pub vector_id: String,
    /// `false` when an existing vector was replaced.
    pub created: bool,
}

impl From<UpsertOutcome> for UpsertedVector {
    fn from(o: UpsertOutcome) -> Self {
        Self { vector_id: o.id.to_string(), created: o.created }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpsertedVectors {
    pub upserted: usize,
    pub vectors: Vec<UpsertedVector>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VectorResponse {
    pub vector_id: String,
    pub namespace: String,
    /// Present on get, and on list with `include_vectors=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_embedding: Option<Vec<f32>>,
    pub document: Option<String>,
    #[schema(value_type = Object)]
    pub vector_metadata: Map<String, Value>,
    pub source: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl VectorResponse {
    fn from_record(r: VectorRecord, with_embedding: bool) -> Self {
        Self {
            vector_id: r.id.to_string(),
            namespace: r.namespace,
            vector_embedding: with_embedding.then_some(r.embedding),
            document: r.document,
            vector_metadata: r.metadata,
            source: r.source,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VectorListParams {
    #[param(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: Option<String>,
    /// Include each vector's embedding (default false).
    pub include_vectors: Option<bool>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Weights of the two ranked lists that hybrid search fuses.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FusionWeightsRequest {
    /// Default 1.
    #[schema(minimum = 0)]
    pub semantic: Option<f32>,
    /// Default 1.
    #[schema(minimum = 0)]
    pub lexical: Option<f32>,
}

/// Maximal marginal relevance: diversify the answer among the best `fetch_k` candidates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MmrRequest {
    /// 1 ranks by relevance alone, 0 by difference from the hits already picked; default 0.5.
    #[schema(minimum = 0, maximum = 1)]
    pub lambda: Option<f32>,
    /// Candidates considered, 1..=1000; default 4 × limit (at least 20).
    #[schema(minimum = 1, maximum = 1000)]
    pub fetch_k: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchVectorsRequest {
    /// The query as a vector; or give `query` (a text) instead.
    #[schema(min_items = 1, max_items = 4096)]
    #[serde(default, deserialize_with = "super::f32s::optional")]
    pub query_vector: Option<Vec<f32>>,
    /// The query as text: embedded with the namespace's model for the semantic side, its
    /// words matched against documents for the lexical side.
    #[schema(min_length = 1, max_length = 65536)]
    pub query: Option<String>,
    /// `semantic` (default with `query_vector`), `lexical` or `hybrid` (default with
    /// `query`).
    #[schema(pattern = "^(semantic|lexical|hybrid)$")]
    pub mode: Option<String>,
    /// Default `default`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: Option<String>,
    /// 1..=1000, default 10.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Metadata filter: `{"key": value}` equality, `$eq $ne $gt $gte $lt $lte $in $nin
    /// $exists $contains`, `$and $or $not`, dotted paths. Applies in every mode.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    /// Only results scoring at least this (higher is better in every mode).
    pub min_score: Option<f32>,
    /// What each hit carries besides its id: any of `documents`, `metadata`, `vectors`,
    /// `scores`. Default: documents, metadata and scores.
    pub include: Option<Vec<String>>,
    /// The same as adding `vectors` to `include`.
    #[serde(default)]
    pub include_vectors: bool,
    /// Hybrid fusion weights.
    pub weights: Option<FusionWeightsRequest>,
    /// Diversify the hits by maximal marginal relevance.
    pub mmr: Option<MmrRequest>,
}

/// Where a hit's score came from (lexical and hybrid search).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreBreakdownResponse {
    /// Similarity to the query vector, when the hit was among the semantic candidates.
    pub semantic: Option<f32>,
    /// Text rank over the best rank of the answer, in (0, 1], when its words matched.
    pub lexical: Option<f32>,
    /// Weighted reciprocal rank fusion of the two, in [0, 1] (the hit's score).
    pub fused: f32,
}

impl From<ScoreBreakdown> for ScoreBreakdownResponse {
    fn from(b: ScoreBreakdown) -> Self {
        Self { semantic: b.semantic, lexical: b.lexical, fused: b.fused }
    }
}

/// A search hit. Fields left out by `include` are absent, not null.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    /// Serialised straight from the id (no string is built per hit).
    #[schema(value_type = String)]
    pub vector_id: VectorId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_breakdown: Option<ScoreBreakdownResponse>,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub document: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub vector_metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_embedding: Option<Vec<f32>>,
}

impl SearchResult {
    fn from_hit(r: RankedHit, include: Include) -> Self {
        let RankedHit { hit, breakdown } = r;
        Self {
            vector_id: hit.id,
            score: include.scores.then_some(hit.score),
            score_breakdown: breakdown.filter(|_| include.scores).map(Into::into),
            namespace: hit.namespace,
            document: include.documents.then_some(hit.document),
            vector_metadata: include.metadata.then_some(hit.metadata),
            source: include.metadata.then_some(hit.source),
            vector_embedding: hit.embedding.filter(|_| include.vectors),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    pub results: Vec<SearchResult>,
    pub count: usize,
    /// The mode that ranked the hits.
    #[schema(value_type = String, example = "hybrid")]
    pub mode: &'static str,
    /// `index` normally; `exact_fallback` when the external vector engine was unreachable or
    /// behind, and the records in PostgreSQL were scanned exactly instead (the response
    /// then also carries the `X-ZeroDB-Search-Fallback: exact` header).
    #[schema(value_type = String, example = "index")]
    pub served_by: &'static str,
}

/// Set on a search answered by the exact PostgreSQL fallback.
pub const SEARCH_FALLBACK_HEADER: &str = "x-zerodb-search-fallback";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetVectorsRequest {
    /// 1..=1000 ids: the vectors answer in this order, missing ones left out. Or give a
    /// `filter` (or nothing) with `limit` and `cursor` for a page in id order.
    pub ids: Option<Vec<String>>,
    /// With ids: only vectors of this namespace. With a filter: the namespace read
    /// (default `default`).
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    /// 1..=1000, default 50 (filter pages only).
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Any of `documents`, `metadata`, `vectors`; default documents and metadata.
    pub include: Option<Vec<String>>,
}

/// A vector as `get` answers it. Fields left out by `include` are absent, not null.
#[derive(Debug, Serialize, ToSchema)]
pub struct GotVector {
    pub vector_id: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub document: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub vector_metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_embedding: Option<Vec<f32>>,
}

impl GotVector {
    fn from_record(r: VectorRecord, include: Include) -> Self {
        Self {
            vector_id: r.id.to_string(),
            namespace: r.namespace,
            document: include.documents.then_some(r.document),
            vector_metadata: include.metadata.then_some(r.metadata),
            source: include.metadata.then_some(r.source),
            vector_embedding: include.vectors.then_some(r.embedding),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GetVectorsResponse {
    pub items: Vec<GotVector>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteVectorsRequest {
    /// 1..=1000 ids; or give `filter` (and `namespace`) instead.
    pub vector_ids: Option<Vec<String>>,
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedVectors {
    pub deleted: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNamespaceRequest {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: String,
    /// `cosine` (default), `dot` or `euclidean`.
    #[schema(value_type = Option<String>)]
    pub metric: Option<Metric>,
    /// `none` (float32, default) or `int8` (4x smaller index, results rescored exactly).
    #[schema(value_type = Option<String>)]
    pub quantization: Option<Quantization>,
    /// Fix the dimension now instead of at the first vector.
    pub dimension: Option<u32>,
    /// The embedding model that makes this namespace's vectors (for example
    /// `sentence-transformers/all-MiniLM-L6-v2`): recorded and fixed, so that a later
    /// request naming another model is refused (409 embedding_model_mismatch).
    pub embedding_model: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamespaceResponse {
    pub namespace: String,
    pub dimension: Option<u32>,
    pub metric: String,
    pub quantization: String,
    /// The embedding model that made the vectors, when recorded.
    pub embedding_model: Option<String>,
    pub vector_count: u64,
    pub created_at: DateTime<Utc>,
    /// Vectors in this server's in-memory index (lags `vector_count` briefly after
    /// writes through another server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexed_vectors: Option<u64>,
    /// Bytes this server's index keeps in memory for the namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_memory_bytes: Option<u64>,
    /// Of `indexed_vectors`, those searched by exact scan until the background builder has
    /// put them into the HNSW graph (they are searchable either way).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_pending_vectors: Option<u64>,
}

impl From<Namespace> for NamespaceResponse {
    fn from(n: Namespace) -> Self {
        Self {
            namespace: n.name,
            dimension: n.dimension,
            metric: n.spec.metric.to_string(),
            quantization: n.spec.quantization.to_string(),
            embedding_model: n.embedding_model,
            vector_count: n.vector_count,
            created_at: n.created_at,
            indexed_vectors: None,
            index_memory_bytes: None,
            graph_pending_vectors: None,
        }
    }
}

impl From<NamespaceStats> for NamespaceResponse {
    fn from(s: NamespaceStats) -> Self {
        let mut r = NamespaceResponse::from(s.namespace);
        r.indexed_vectors = Some(s.indexed_vectors);
        r.index_memory_bytes = Some(s.index_bytes);
        r.graph_pending_vectors = Some(s.graph_pending);
        r
    }
}

/// Inserts a vector, or replaces the one with its `vector_id`. Idempotent.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vectors/upsert", tag = "vectors",
    request_body = UpsertVectorRequest,
    responses((status = 200, body = UpsertedVector), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:write"])))]
pub async fn upsert_vector(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: SizedJson<UpsertVectorRequest>,
) -> Result<HttpResponse, ApiError> {
    let outcomes = state
        .services
        .vectors
        .upsert(&caller.0, *path, vec![body.into_inner().into()], Submission::Single)
        .await?;
    Ok(HttpResponse::Ok().json(outcomes.into_iter().next().map(UpsertedVector::from)))
}

/// Upserts up to 1000 vectors, all or nothing.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vectors/upsert-batch", tag = "vectors",
    request_body = UpsertVectorsRequest,
    responses((status = 200, body = UpsertedVectors), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:write"])))]
pub async fn upsert_vectors(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: SizedJson<UpsertVectorsRequest>,
) -> Result<HttpResponse, ApiError> {
    let inputs = body.into_inner().vectors.into_iter().map(VectorInput::from).collect();
    let outcomes =
        state.services.vectors.upsert(&caller.0, *path, inputs, Submission::Batch).await?;
    Ok(HttpResponse::Ok().json(UpsertedVectors {
        upserted: outcomes.len(),
        vectors: outcomes.into_iter().map(UpsertedVector::from).collect(),
    }))
}

/// Lists vectors ordered by id (byte order).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/vectors", tag = "vectors", params(VectorListParams),
    responses((status = 200, body = ListResponse<VectorResponse>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn list_vectors(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<VectorListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let with = params.include_vectors.unwrap_or(false);
    let page = state
        .services
        .vectors
        .list(&caller.0, *path, params.namespace.as_deref(), with, page)
        .await?;
    Ok(HttpResponse::Ok()
        .json(ListResponse::from_page(page, |r| VectorResponse::from_record(r, with))))
}

/// One vector, with its embedding. The id is one path segment, percent-encoded as needed
/// (`a/b` is `a%2Fb`); any id works, `search` or `namespaces` included.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/vectors/{vector_id}", tag = "vectors",
    responses((status = 200, body = VectorResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn get_vector(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_id, id) = path.into_inner();
    let record = state.services.vectors.get(&caller.0, project_id, &id).await?;
    Ok(HttpResponse::Ok().json(VectorResponse::from_record(record, true)))
}

/// Deletes one vector (the id percent-encoded as one path segment).
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/database/vectors/{vector_id}", tag = "vectors",
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:write"])))]
pub async fn delete_vector(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_id, id) = path.into_inner();
    state.services.vectors.delete_one(&caller.0, project_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Vectors by ids (up to 1000, answered in the order asked), or a page of a namespace's
/// vectors that match a filter, in id order.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vectors/get", tag = "vectors",
    request_body = GetVectorsRequest,
    responses((status = 200, body = GetVectorsResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn get_vectors(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: SizedJson<GetVectorsRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = GetInput {
        ids: b.ids,
        namespace: b.namespace,
        filter: b.filter,
        limit: b.limit,
        cursor: b.cursor,
        include: b.include,
    };
    let got = state.services.vectors.get_many(&caller.0, *path, input).await?;
    let include = got.include;
    Ok(HttpResponse::Ok().json(GetVectorsResponse {
        items: got.records.into_iter().map(|r| GotVector::from_record(r, include)).collect(),
        next_cursor: got.next_cursor,
    }))
}

/// Deletes by ids, or every vector of a namespace matching a filter.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vectors/delete", tag = "vectors",
    request_body = DeleteVectorsRequest,
    responses((status = 200, body = DeletedVectors), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:write"])))]
pub async fn delete_vectors(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<DeleteVectorsRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input =
        DeleteInput { vector_ids: body.vector_ids, namespace: body.namespace, filter: body.filter };
    let deleted = state.services.vectors.delete(&caller.0, *path, input).await?;
    Ok(HttpResponse::Ok().json(DeletedVectors { deleted }))
}

impl From<SearchVectorsRequest> for SearchInput {
    fn from(b: SearchVectorsRequest) -> Self {
        let limit = b.limit;
        SearchInput {
            query_vector: b.query_vector,
            query: b.query,
            mode: b.mode,
            namespace: b.namespace,
            limit,
            filter: b.filter,
            min_score: b.min_score,
            include: b.include,
            include_vectors: b.include_vectors,
            weights: b.weights.map(|w| FusionWeights {
                semantic: w.semantic.unwrap_or(1.0),
                lexical: w.lexical.unwrap_or(1.0),
            }),
            mmr: b.mmr.map(|m| MmrOptions {
                lambda: m.lambda.unwrap_or(0.5),
                fetch_k: m
                    .fetch_k
                    .unwrap_or_else(|| (limit.unwrap_or(10).saturating_mul(4)).max(20)),
            }),
        }
    }
}

/// Similarity search by a vector, full-text search by a text, or both fused (hybrid), best
/// first; optionally diversified by maximal marginal relevance.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vectors/search", tag = "vectors",
    request_body = SearchVectorsRequest,
    responses((status = 200, body = SearchResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn search_vectors(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: SizedJson<SearchVectorsRequest>,
) -> Result<HttpResponse, ApiError> {
    let found: SearchOutcome =
        state.services.vectors.search(&caller.0, *path, body.into_inner().into()).await?;
    let include = found.include;
    let results: Vec<SearchResult> =
        found.hits.into_iter().map(|h| SearchResult::from_hit(h, include)).collect();
    let mut response = HttpResponse::Ok();
    match found.path {
        SearchPath::Index => {}
        SearchPath::ExactFallback => {
            response.insert_header((SEARCH_FALLBACK_HEADER, "exact"));
        }
    }
    Ok(response.json(SearchResponse {
        count: results.len(),
        results,
        mode: found.mode.as_str(),
        served_by: found.path.as_str(),
    }))
}

/// Namespaces with their settings, counts and index memory.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/vector-namespaces", tag = "vectors",
    responses((status = 200, body = Vec<NamespaceResponse>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn list_namespaces(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let namespaces = state.services.vectors.namespaces(&caller.0, *path).await?;
    let body: Vec<NamespaceResponse> =
        namespaces.into_iter().map(NamespaceResponse::from).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// One namespace: settings, vector count and index memory.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/vector-namespaces/{namespace}", tag = "vectors",
    responses((status = 200, body = NamespaceResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn get_namespace(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project_id, name) = path.into_inner();
    let ns = state.services.vectors.namespace(&caller.0, project_id, &name).await?;
    Ok(HttpResponse::Ok().json(NamespaceResponse::from(ns)))
}

async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    project_id: ProjectId,
    b: CreateNamespaceRequest,
) -> Result<HttpResponse, ApiError> {
    let settings = NamespaceSettings {
        metric: b.metric,
        quantization: b.quantization,
        dimension: b.dimension,
        embedding_model: b.embedding_model,
    };
    let ns = state
        .services
        .vectors
        .create_namespace(&caller.0, project_id, &b.namespace, settings)
        .await?;
    Ok(HttpResponse::Ok().json(NamespaceResponse::from(ns)))
}

/// Creates a namespace with a metric and quantization (idempotent for equal settings).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vector-namespaces", tag = "vectors",
    request_body = CreateNamespaceRequest,
    responses((status = 200, body = NamespaceResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:write"])))]
pub async fn create_namespace_v2(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<CreateNamespaceRequest>,
) -> Result<HttpResponse, ApiError> {
    create(state, caller, *path, body.into_inner()).await
}

/// Creates a namespace (the earlier path of `POST .../vector-namespaces`).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vectors/namespaces", tag = "vectors",
    request_body = CreateNamespaceRequest,
    responses((status = 200, body = NamespaceResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:write"])))]
pub async fn create_namespace(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<CreateNamespaceRequest>,
) -> Result<HttpResponse, ApiError> {
    create(state, caller, *path, body.into_inner()).await
}
