//! Agent logs: log (one or a batch), list with filters, newest first.

use super::ListResponse;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use zerodb_domain::agent_logs::{AgentLog, AgentLogFilter, AgentLogInput, LogLevel};
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::services::Submission;
use zerodb_domain::{ProjectId, ServiceError};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/projects/{project_id}/database/agent/logs")
            .route(web::get().to(list_agent_logs)),
    )
    .service(
        super::resource("/projects/{project_id}/database/agent/log")
            .route(web::post().to(log_agent)),
    )
    .service(
        super::resource("/projects/{project_id}/database/agent/log-batch")
            .route(web::post().to(log_agent_batch)),
    );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogAgentRequest {
    pub agent_id: Uuid,
    pub session_id: Option<Uuid>,
    /// DEBUG, INFO, WARN or ERROR.
    #[schema(pattern = "^(DEBUG|INFO|WARN|ERROR)$")]
    pub log_level: String,
    #[schema(min_length = 1, max_length = 65536)]
    pub log_message: String,
    #[schema(value_type = Option<Object>)]
    pub raw_payload: Option<Value>,
}

impl From<LogAgentRequest> for AgentLogInput {
    fn from(r: LogAgentRequest) -> Self {
        AgentLogInput {
            agent_id: r.agent_id,
            session_id: r.session_id,
            level: r.log_level,
            message: r.log_message,
            raw_payload: r.raw_payload,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogAgentBatchRequest {
    /// 1..=1000 logs, stored all or none.
    #[schema(min_items = 1, max_items = 1000)]
    pub logs: Vec<LogAgentRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentLogResponse {
    pub log_id: Uuid,
    pub agent_id: Uuid,
    pub session_id: Option<Uuid>,
    pub log_level: String,
    pub log_message: String,
    #[schema(value_type = Option<Object>)]
    pub raw_payload: Option<Value>,
    pub created_at: DateTime<Utc>,
}

impl From<AgentLog> for AgentLogResponse {
    fn from(l: AgentLog) -> Self {
        Self {
            log_id: l.id,
            agent_id: l.agent_id,
            session_id: l.session_id,
            log_level: l.level.as_str().to_owned(),
            log_message: l.message,
            raw_payload: l.raw_payload,
            created_at: l.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedAgentLogsResponse {
    pub logged: usize,
    pub logs: Vec<AgentLogResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AgentLogParams {
    pub agent_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    /// The minimum level: WARN lists WARN and ERROR.
    #[param(pattern = "^(DEBUG|INFO|WARN|ERROR)$")]
    pub min_level: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Case-insensitive text the message must contain.
    pub contains: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Logs one entry.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/agent/log", tag = "agent",
    request_body = LogAgentRequest,
    responses((status = 201, body = AgentLogResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["agent:write"])))]
pub async fn log_agent(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<LogAgentRequest>,
) -> Result<HttpResponse, ApiError> {
    let logs = state
        .services
        .agent_logs
        .log(&caller.0, *path, vec![body.into_inner().into()], Submission::Single)
        .await?;
    Ok(HttpResponse::Created().json(logs.into_iter().next().map(AgentLogResponse::from)))
}

/// Logs up to 1000 entries, all or none.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/agent/log-batch", tag = "agent",
    request_body = LogAgentBatchRequest,
    responses((status = 201, body = LoggedAgentLogsResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["agent:write"])))]
pub async fn log_agent_batch(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<LogAgentBatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let inputs = body.into_inner().logs.into_iter().map(AgentLogInput::from).collect();
    let logs = state.services.agent_logs.log(&caller.0, *path, inputs, Submission::Batch).await?;
    Ok(HttpResponse::Created().json(LoggedAgentLogsResponse {
        logged: logs.len(),
        logs: logs.into_iter().map(AgentLogResponse::from).collect(),
    }))
}

/// Lists logs, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/agent/logs", tag = "agent", params(AgentLogParams),
    responses((status = 200, body = ListResponse<AgentLogResponse>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["agent:read"])))]
pub async fn list_agent_logs(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<AgentLogParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let min_level =
        params.min_level.as_deref().map(str::parse::<LogLevel>).transpose().map_err(|_| {
            ServiceError::invalid("min_level", "must be DEBUG, INFO, WARN or ERROR")
        })?;
    let filter = AgentLogFilter {
        agent_id: params.agent_id,
        session_id: params.session_id,
        min_level,
        since: params.since,
        until: params.until,
        contains: params.contains,
    };
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let page = state.services.agent_logs.list(&caller.0, *path, &filter, page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, AgentLogResponse::from)))
}
