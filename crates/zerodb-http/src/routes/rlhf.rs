//! RLHF records: log (one or a batch), list with filters, export as JSON lines.

use super::ListResponse;
use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::Caller;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::pagination::{MAX_LIMIT, PageRequest};
use zerodb_domain::rlhf::{RlhfFilter, RlhfInput, RlhfRecord};
use zerodb_domain::services::Submission;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/projects/{project_id}/database/rlhf").route(web::get().to(list_rlhf)),
    )
    .service(
        super::resource("/projects/{project_id}/database/rlhf/log").route(web::post().to(log_rlhf)),
    )
    .service(
        super::resource("/projects/{project_id}/database/rlhf/log-batch")
            .route(web::post().to(log_rlhf_batch)),
    )
    .service(
        super::resource("/projects/{project_id}/database/rlhf/export")
            .route(web::get().to(export_rlhf)),
    );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogRlhfRequest {
    pub session_id: Uuid,
    #[schema(min_length = 1, max_length = 1048576)]
    pub input_prompt: String,
    /// Required unless `chosen_output` and `rejected_output` form a preference pair.
    pub model_output: Option<String>,
    pub chosen_output: Option<String>,
    pub rejected_output: Option<String>,
    pub reward_score: Option<f64>,
    /// 1..=5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i16>,
    pub notes: Option<String>,
    #[serde(default)]
    #[schema(max_items = 32)]
    pub tags: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

impl From<LogRlhfRequest> for RlhfInput {
    fn from(r: LogRlhfRequest) -> Self {
        RlhfInput {
            session_id: r.session_id,
            input_prompt: r.input_prompt,
            model_output: r.model_output,
            chosen_output: r.chosen_output,
            rejected_output: r.rejected_output,
            reward_score: r.reward_score,
            rating: r.rating,
            notes: r.notes,
            tags: r.tags,
            metadata: r.metadata,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogRlhfBatchRequest {
    /// 1..=1000 records, stored all or none.
    #[schema(min_items = 1, max_items = 1000)]
    pub records: Vec<LogRlhfRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RlhfRecordResponse {
    pub dataset_id: Uuid,
    pub session_id: Uuid,
    pub input_prompt: String,
    pub model_output: Option<String>,
    pub chosen_output: Option<String>,
    pub rejected_output: Option<String>,
    pub reward_score: Option<f64>,
    pub rating: Option<i16>,
    pub notes: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
}

impl From<RlhfRecord> for RlhfRecordResponse {
    fn from(r: RlhfRecord) -> Self {
        Self {
            dataset_id: r.id,
            session_id: r.session_id,
            input_prompt: r.input_prompt,
            model_output: r.model_output,
            chosen_output: r.chosen_output,
            rejected_output: r.rejected_output,
            reward_score: r.reward_score,
            rating: r.rating,
            notes: r.notes,
            tags: r.tags,
            metadata: r.metadata,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedRlhfResponse {
    pub logged: usize,
    pub records: Vec<RlhfRecordResponse>,
}

/// Filters of `GET .../rlhf` and `.../rlhf/export`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RlhfParams {
    pub session_id: Option<Uuid>,
    pub min_reward: Option<f64>,
    pub max_reward: Option<f64>,
    /// Comma-separated; records must carry every one.
    pub tags: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Export format: `jsonl` (the only one).
    pub format: Option<String>,
}

impl RlhfParams {
    fn filter(&self) -> RlhfFilter {
        RlhfFilter {
            session_id: self.session_id,
            min_reward: self.min_reward,
            max_reward: self.max_reward,
            tags: self
                .tags
                .as_deref()
                .map(|t| {
                    t.split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            since: self.since,
            until: self.until,
        }
    }
}

/// Logs one record.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/rlhf/log", tag = "rlhf",
    request_body = LogRlhfRequest,
    responses((status = 201, body = RlhfRecordResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["rlhf:write"])))]
pub async fn log_rlhf(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<LogRlhfRequest>,
) -> Result<HttpResponse, ApiError> {
    let records = state
        .services
        .rlhf
        .log(&caller.0, *path, vec![body.into_inner().into()], Submission::Single)
        .await?;
    let record = records.into_iter().next().map(RlhfRecordResponse::from);
    Ok(HttpResponse::Created().json(record))
}

/// Logs up to 1000 records, all or none.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/rlhf/log-batch", tag = "rlhf",
    request_body = LogRlhfBatchRequest,
    responses((status = 201, body = LoggedRlhfResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["rlhf:write"])))]
pub async fn log_rlhf_batch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<LogRlhfBatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let inputs = body.into_inner().records.into_iter().map(RlhfInput::from).collect();
    let records = state.services.rlhf.log(&caller.0, *path, inputs, Submission::Batch).await?;
    Ok(HttpResponse::Created().json(LoggedRlhfResponse {
        logged: records.len(),
        records: records.into_iter().map(RlhfRecordResponse::from).collect(),
    }))
}

/// Lists records, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/rlhf", tag = "rlhf", params(RlhfParams),
    responses((status = 200, body = ListResponse<RlhfRecordResponse>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["rlhf:read"])))]
pub async fn list_rlhf(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<RlhfParams>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let page = state.services.rlhf.list(&caller.0, *path, &params.filter(), page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, RlhfRecordResponse::from)))
}

/// Streams matching records as JSON lines ready for fine-tuning: `{"prompt", "completion"}`,
/// or `{"prompt", "chosen", "rejected"}` for preference pairs. Newest first.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/rlhf/export", tag = "rlhf", params(RlhfParams),
    responses((status = 200, content_type = "application/x-ndjson", body = String), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["rlhf:read"])))]
pub async fn export_rlhf(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<RlhfParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    match params.format.as_deref() {
        None | Some("jsonl") => {}
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("unknown export format {other:?}; use jsonl"),
            ));
        }
    }
    if params.limit.is_some() || params.cursor.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "export takes filters, not limit or cursor",
        ));
    }
    let project = *path;
    let filter = params.filter();
    let limit = Some(MAX_LIMIT);
    // The first page is fetched before answering, so access and filter errors are real
    // error responses rather than a broken stream.
    let first = state
        .services
        .rlhf
        .list(&caller.0, project, &filter, PageRequest::parse(limit, None)?)
        .await?;
    let stream = futures_util::stream::unfold(
        (Some(first), state, caller, filter),
        move |(page, state, caller, filter)| async move {
            let page = page?;
            let mut chunk = String::new();
            for record in &page.items {
                chunk.push_str(&record.training_example().to_string());
                chunk.push('\n');
            }
            let next = match page.next_cursor {
                Some(cursor) => {
                    let request = PageRequest::parse(limit, Some(&cursor)).ok()?;
                    match state.services.rlhf.list(&caller.0, project, &filter, request).await {
                        Ok(page) => Some(page),
                        Err(e) => {
                            tracing::error!(error = %e, "export stopped early");
                            None
                        }
                    }
                }
                None => None,
            };
            Some((
                Ok::<_, actix_web::Error>(web::Bytes::from(chunk)),
                (next, state, caller, filter),
            ))
        },
    );
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").streaming(stream))
}
