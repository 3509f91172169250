//! A project's database: status and statistics, enable, configure.

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::database::DatabaseStatus;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/projects/{project_id}/database")
            .route(web::get().to(get_database))
            .route(web::post().to(enable_database))
            .route(web::put().to(update_database_config)),
    );
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseStatistics {
    pub tables: u64,
    pub rows: u64,
    pub api_keys: u64,
    pub rlhf_records: u64,
    pub agent_logs: u64,
}

impl From<zerodb_domain::database::DatabaseStatistics> for DatabaseStatistics {
    fn from(s: zerodb_domain::database::DatabaseStatistics) -> Self {
        Self {
            tables: s.tables,
            rows: s.rows,
            api_keys: s.api_keys,
            rlhf_records: s.rlhf_records,
            agent_logs: s.agent_logs,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RewardBucket {
    pub lower: f64,
    pub upper: f64,
    pub count: u64,
}

/// Count, mean and distribution of RLHF rewards.
#[derive(Debug, Serialize, ToSchema)]
pub struct RlhfSummary {
    pub count: u64,
    /// Records that carry a reward.
    pub rewarded: u64,
    pub mean_reward: Option<f64>,
    pub min_reward: Option<f64>,
    pub max_reward: Option<f64>,
    /// Ten equal-width bars from min to max (one when all rewards are equal).
    pub histogram: Vec<RewardBucket>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseStatusResponse {
    pub project_id: Uuid,
    pub enabled: bool,
    /// The database configuration (see the configuration reference).
    pub config: Value,
    pub statistics: DatabaseStatistics,
    pub rlhf: RlhfSummary,
    /// Per vector namespace: count, dimension, metric, quantization and index memory.
    pub vector_namespaces: Vec<super::vectors::NamespaceResponse>,
    /// The model memory and `embeddings/generate` use for this project (set it with the
    /// config's `embedding_model`); null when the chosen model is no longer offered.
    pub embedding_model: Option<EmbeddingModel>,
    /// Every model this server offers.
    pub embedding_models: Vec<EmbeddingModel>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmbeddingModel {
    pub model: String,
    pub dimension: usize,
}

impl From<zerodb_domain::memory::OfferedModel> for EmbeddingModel {
    fn from(m: zerodb_domain::memory::OfferedModel) -> Self {
        Self { model: m.model, dimension: m.dimension }
    }
}

impl From<DatabaseStatus> for DatabaseStatusResponse {
    fn from(s: DatabaseStatus) -> Self {
        Self {
            project_id: s.project.id.as_uuid(),
            enabled: s.project.database_enabled,
            config: serde_json::to_value(&s.project.database_config).unwrap_or(Value::Null),
            statistics: s.statistics.into(),
            rlhf: RlhfSummary {
                count: s.rlhf.count,
                rewarded: s.rlhf.rewarded,
                mean_reward: s.rlhf.mean_reward,
                min_reward: s.rlhf.min_reward,
                max_reward: s.rlhf.max_reward,
                histogram: s
                    .rlhf
                    .histogram
                    .into_iter()
                    .map(|b| RewardBucket { lower: b.lower, upper: b.upper, count: b.count })
                    .collect(),
            },
            vector_namespaces: s.vector_namespaces.into_iter().map(Into::into).collect(),
            embedding_model: s.embedding_model.map(Into::into),
            embedding_models: s.embedding_models.into_iter().map(Into::into).collect(),
            updated_at: s.project.updated_at,
        }
    }
}

/// Status and statistics of the project's database.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database", tag = "database",
    responses((status = 200, body = DatabaseStatusResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["database:read"])))]
pub async fn get_database(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let status = state.services.database.status(&caller.0, *path).await?;
    Ok(HttpResponse::Ok().json(DatabaseStatusResponse::from(status)))
}

/// Enables the project's database. Idempotent.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database", tag = "database",
    responses((status = 200, body = DatabaseStatusResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["database:write"])))]
pub async fn enable_database(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let status = state.services.database.enable(&caller.0, *path).await?;
    Ok(HttpResponse::Ok().json(DatabaseStatusResponse::from(status)))
}

/// Replaces the database configuration. Keys: `max_rows_per_table` (>= 1), `max_tables`
/// (1..=100000). Unknown keys are rejected.
#[utoipa::path(put, path = "/api/v1/projects/{project_id}/database", tag = "database",
    request_body = Object,
    responses((status = 200, body = DatabaseStatusResponse), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["database:write"])))]
pub async fn update_database_config(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let status = state.services.database.update_config(&caller.0, *path, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(DatabaseStatusResponse::from(status)))
}
