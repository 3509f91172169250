//! Vectors: namespaces, upsert (one or a batch), similarity search, list, get, delete.

use super::ListResponse;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use crate::sized_json::{BodyLimit, SizedJson};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::services::Submission;
use zerodb_domain::services::{DeleteInput, NamespaceSettings, SearchInput};
use zerodb_domain::vectors::{
    Metric, Namespace, NamespaceStats, Quantization, SearchHit, SearchPath, UpsertOutcome,
    VectorInput, VectorRecord,
};

/// Registers the routes; `batch_limit` is the body limit of batch upserts, which carry up
/// to 1000 embeddings as JSON numbers.
pub fn config(cfg: &mut web::ServiceConfig, batch_limit: usize) {
    let base = "/projects/{project_id}/database/vectors";
    cfg.service(super::resource(base).route(web::get().to(list_vectors)))
        .service(super::resource(&format!("{base}/upsert")).route(web::post().to(upsert_vector)))
        .service(
            super::resource(&format!("{base}/upsert-batch"))
                .app_data(BodyLimit(batch_limit))
                .route(web::post().to(upsert_vectors)),
        )
        .service(super::resource(&format!("{base}/search")).route(web::post().to(search_vectors)))
        .service(super::resource(&format!("{base}/delete")).route(web::post().to(delete_vectors)))
        .service(
            super::resource(&format!("{base}/namespaces"))
                .route(web::get().to(list_namespaces))
                .route(web::post().to(create_namespace)),
        )
        .service(
            super::resource(&format!("{base}/{{vector_id}}"))
                .route(web::get().to(get_vector))
                .route(web::delete().to(delete_vector)),
        );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertVectorRequest {
    /// Replaces the vector with this id when it exists; a new id is generated when absent.
    pub vector_id: Option<Uuid>,
    /// `[A-Za-z0-9._-]{1,128}`, default `default`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: Option<String>,
    /// 1..=4096 finite numbers; the first vector of a namespace fixes its dimension.
    #[schema(min_items = 1, max_items = 4096)]
    #[serde(deserialize_with = "super::f32s::required")]
    pub vector_embedding: Vec<f32>,
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
    /// 1..=1000 vectors, stored all or nothing.
    #[schema(min_items = 1, max_items = 1000)]
    pub vectors: Vec<UpsertVectorRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpsertedVector {
    pub vector_id: Uuid,
    /// `false` when an existing vector was replaced.
    pub created: bool,
}

impl From<UpsertOutcome> for UpsertedVector {
    fn from(o: UpsertOutcome) -> Self {
        Self { vector_id: o.id, created: o.created }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpsertedVectors {
    pub upserted: usize,
    pub vectors: Vec<UpsertedVector>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VectorResponse {
    pub vector_id: Uuid,
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
            vector_id: r.id,
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchVectorsRequest {
    #[schema(min_items = 1, max_items = 4096)]
    #[serde(deserialize_with = "super::f32s::required")]
    pub query_vector: Vec<f32>,
    /// Default `default`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub namespace: Option<String>,
    /// 1..=1000, default 10.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Metadata filter: `{"key": value}` equality, `$eq $ne $gt $gte $lt $lte $in $nin
    /// $exists $contains`, `$and $or $not`, dotted paths.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    /// Only results scoring at least this (higher is more similar for every metric).
    pub min_score: Option<f32>,
    #[serde(default)]
    pub include_vectors: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub vector_id: Uuid,
    pub score: f32,
    pub namespace: String,
    pub document: Option<String>,
    #[schema(value_type = Object)]
    pub vector_metadata: Map<String, Value>,
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_embedding: Option<Vec<f32>>,
}

impl From<SearchHit> for SearchResult {
    fn from(h: SearchHit) -> Self {
        Self {
            vector_id: h.id,
            score: h.score,
            namespace: h.namespace,
            document: h.document,
            vector_metadata: h.metadata,
            source: h.source,
            vector_embedding: h.embedding,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    pub results: Vec<SearchResult>,
    pub count: usize,
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
pub struct DeleteVectorsRequest {
    /// 1..=1000 ids; or give `filter` (and `namespace`) instead.
    pub vector_ids: Option<Vec<Uuid>>,
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
    responses((status = 200, body = UpsertedVector), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
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
    responses((status = 200, body = UpsertedVectors), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
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

/// Lists vectors ordered by id.
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

/// One vector, with its embedding.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/vectors/{vector_id}", tag = "vectors",
    responses((status = 200, body = VectorResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn get_vector(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (project_id, id) = path.into_inner();
    let record = state.services.vectors.get(&caller.0, project_id, id).await?;
    Ok(HttpResponse::Ok().json(VectorResponse::from_record(record, true)))
}

/// Deletes one vector.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/database/vectors/{vector_id}", tag = "vectors",
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:write"])))]
pub async fn delete_vector(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (project_id, id) = path.into_inner();
    state.services.vectors.delete_one(&caller.0, project_id, id).await?;
    Ok(HttpResponse::NoContent().finish())
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

/// The most similar vectors, best first, with exact scores.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/vectors/search", tag = "vectors",
    request_body = SearchVectorsRequest,
    responses((status = 200, body = SearchResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["vectors:read"])))]
pub async fn search_vectors(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: SizedJson<SearchVectorsRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let input = SearchInput {
        query_vector: b.query_vector,
        namespace: b.namespace,
        limit: b.limit,
        filter: b.filter,
        min_score: b.min_score,
        include_vectors: b.include_vectors,
    };
    let found = state.services.vectors.search(&caller.0, *path, input).await?;
    let results: Vec<SearchResult> = found.hits.into_iter().map(SearchResult::from).collect();
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
        served_by: found.path.as_str(),
    }))
}

/// Namespaces with their settings, counts and index memory.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/vectors/namespaces", tag = "vectors",
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

/// Creates a namespace with a metric and quantization (idempotent for equal settings).
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
    let b = body.into_inner();
    let settings = NamespaceSettings {
        metric: b.metric,
        quantization: b.quantization,
        dimension: b.dimension,
        embedding_model: b.embedding_model,
    };
    let ns =
        state.services.vectors.create_namespace(&caller.0, *path, &b.namespace, settings).await?;
    Ok(HttpResponse::Ok().json(NamespaceResponse::from(ns)))
}
