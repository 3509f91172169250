//! Operator endpoints under `/admin/zerodb`: admin role only, others get 403.

use super::ListResponse;
use super::projects::ProjectResponse;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use crate::routes::database::DatabaseStatistics;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use zerodb_domain::admin::AdminProjectFilter;
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::quotas::Quotas;
use zerodb_domain::usage::UsageQuery;
use zerodb_domain::{ProjectId, UserId};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/admin/zerodb/projects").route(web::get().to(admin_list_projects)),
    )
    .service(
        super::resource("/admin/zerodb/projects/{project_id}")
            .route(web::get().to(admin_get_project)),
    )
    .service(
        super::resource("/admin/zerodb/projects/{project_id}/quotas")
            .route(web::get().to(admin_get_quotas))
            .route(web::put().to(admin_set_quotas)),
    )
    .service(super::resource("/admin/zerodb/stats").route(web::get().to(admin_stats)))
    .service(super::resource("/admin/zerodb/usage/analytics").route(web::get().to(admin_usage)));
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AdminProjectParams {
    /// Only this owner's projects.
    pub owner: Option<Uuid>,
    pub active: Option<bool>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminProjectResponse {
    #[serde(flatten)]
    pub project: ProjectResponse,
    pub database_config: serde_json::Value,
    pub counts: DatabaseStatistics,
    pub storage_bytes: u64,
    pub last_activity: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemStatsResponse {
    pub users: u64,
    pub projects: u64,
    pub totals: DatabaseStatistics,
    pub database_bytes: u64,
    pub started_at: DateTime<Utc>,
    pub uptime_seconds: i64,
    pub version: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// First day (UTC, inclusive); default 29 days before `to`.
    pub from: Option<NaiveDate>,
    /// Last day (UTC, inclusive); default today.
    pub to: Option<NaiveDate>,
    pub project_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageRowResponse {
    pub project_id: Uuid,
    pub day: NaiveDate,
    pub area: String,
    pub requests: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageResponse {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<UsageRowResponse>,
}

/// Every owner's projects.
#[utoipa::path(get, path = "/api/v1/admin/zerodb/projects", tag = "admin", params(AdminProjectParams),
    responses((status = 200, body = ListResponse<ProjectResponse>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_list_projects(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<AdminProjectParams>,
) -> Result<HttpResponse, ApiError> {
    let filter =
        AdminProjectFilter { owner: params.owner.map(UserId::from_uuid), active: params.active };
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let page = state.services.admin.list_projects(&caller.0, &filter, page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, ProjectResponse::from)))
}

/// One project with per-area counts, storage and last activity.
#[utoipa::path(get, path = "/api/v1/admin/zerodb/projects/{project_id}", tag = "admin",
    responses((status = 200, body = AdminProjectResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_get_project(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let details = state.services.admin.project(&caller.0, *path).await?;
    let config = serde_json::to_value(&details.project.database_config).unwrap_or_default();
    Ok(HttpResponse::Ok().json(AdminProjectResponse {
        project: details.project.into(),
        database_config: config,
        counts: details.counts.into(),
        storage_bytes: details.storage_bytes,
        last_activity: details.last_activity,
    }))
}

/// System totals, database size, uptime and version.
#[utoipa::path(get, path = "/api/v1/admin/zerodb/stats", tag = "admin",
    responses((status = 200, body = SystemStatsResponse), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn admin_stats(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let stats = state.services.admin.stats(&caller.0).await?;
    Ok(HttpResponse::Ok().json(SystemStatsResponse {
        users: stats.totals.users,
        projects: stats.totals.projects,
        totals: stats.totals.counts.into(),
        database_bytes: stats.totals.database_bytes,
        started_at: stats.started_at,
        uptime_seconds: (Utc::now() - stats.started_at).num_seconds(),
        version: stats.version.to_owned(),
    }))
}

/// Requests per project, UTC day and area, from metering.
#[utoipa::path(get, path = "/api/v1/admin/zerodb/usage/analytics", tag = "admin", params(UsageParams),
    responses((status = 200, body = UsageResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_usage(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<UsageParams>,
) -> Result<HttpResponse, ApiError> {
    let to = params.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = params.from.unwrap_or(to - Duration::days(29));
    let query = UsageQuery { from, to, project_id: params.project_id.map(ProjectId::from_uuid) };
    let rows = state.services.admin.usage(&caller.0, query).await?;
    Ok(HttpResponse::Ok().json(UsageResponse {
        from,
        to,
        items: rows
            .into_iter()
            .map(|r| UsageRowResponse {
                project_id: r.project_id.as_uuid(),
                day: r.day,
                area: r.area,
                requests: r.requests,
            })
            .collect(),
    }))
}

/// A project's quotas: the limits an administrator set for it, and those in force (the
/// server's defaults under them). Every limit is optional; absent means unlimited.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotasBody {
    #[schema(minimum = 0)]
    pub max_vectors: Option<u64>,
    #[schema(minimum = 0)]
    pub max_memories: Option<u64>,
    /// Events kept in the project's log.
    #[schema(minimum = 0)]
    pub max_events: Option<u64>,
    /// Bytes of stored file content.
    #[schema(minimum = 0)]
    pub max_file_bytes: Option<u64>,
    #[schema(minimum = 0)]
    pub max_tables: Option<u64>,
    #[schema(minimum = 0)]
    pub max_rows_per_table: Option<u64>,
}

impl From<Quotas> for QuotasBody {
    fn from(q: Quotas) -> Self {
        Self {
            max_vectors: q.max_vectors,
            max_memories: q.max_memories,
            max_events: q.max_events,
            max_file_bytes: q.max_file_bytes,
            max_tables: q.max_tables,
            max_rows_per_table: q.max_rows_per_table,
        }
    }
}

impl From<QuotasBody> for Quotas {
    fn from(q: QuotasBody) -> Self {
        Self {
            max_vectors: q.max_vectors,
            max_memories: q.max_memories,
            max_events: q.max_events,
            max_file_bytes: q.max_file_bytes,
            max_tables: q.max_tables,
            max_rows_per_table: q.max_rows_per_table,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotasResponse {
    pub project_id: Uuid,
    /// What an administrator set for this project.
    pub overrides: QuotasBody,
    /// The limits in force.
    pub effective: QuotasBody,
}

/// A project's quotas. Admin only.
#[utoipa::path(get, path = "/api/v1/admin/zerodb/projects/{project_id}/quotas", tag = "admin",
    responses((status = 200, body = QuotasResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_get_quotas(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let quotas = state.services.admin.quotas(&caller.0, *path).await?;
    Ok(quotas_response(*path, quotas))
}

/// Replaces a project's quota overrides (a limit left out falls back to the server's
/// default). Admin only.
#[utoipa::path(put, path = "/api/v1/admin/zerodb/projects/{project_id}/quotas", tag = "admin",
    request_body = QuotasBody,
    responses((status = 200, body = QuotasResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_set_quotas(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<QuotasBody>,
) -> Result<HttpResponse, ApiError> {
    let quotas =
        state.services.admin.set_quotas(&caller.0, *path, body.into_inner().into()).await?;
    Ok(quotas_response(*path, quotas))
}

fn quotas_response(
    project_id: ProjectId,
    (overrides, effective): (Quotas, Quotas),
) -> HttpResponse {
    HttpResponse::Ok().json(QuotasResponse {
        project_id: project_id.as_uuid(),
        overrides: overrides.into(),
        effective: effective.into(),
    })
}
