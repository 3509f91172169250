//! Projects: create, list mine, get, delete.

use super::{ListParams, ListResponse};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::projects::Project;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/projects")
            .route(web::post().to(create_project))
            .route(web::get().to(list_projects)),
    )
    .service(
        super::resource("/projects/{project_id}")
            .route(web::get().to(get_project))
            .route(web::delete().to(delete_project)),
    );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// 1..=100 characters, unique among your projects.
    pub project_name: String,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectResponse {
    pub project_id: Uuid,
    pub project_name: String,
    pub description: Option<String>,
    /// The owner.
    pub user_id: Uuid,
    pub is_active: bool,
    pub database_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Project> for ProjectResponse {
    fn from(p: Project) -> Self {
        Self {
            project_id: p.id.as_uuid(),
            project_name: p.name,
            description: p.description,
            user_id: p.owner_id.as_uuid(),
            is_active: p.is_active,
            database_enabled: p.database_enabled,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Creates a project owned by the caller.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = CreateProjectRequest,
    responses((status = 201, body = ProjectResponse), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_project(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateProjectRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let project =
        state.services.projects.create(&caller.0, &body.project_name, body.description).await?;
    Ok(HttpResponse::Created().json(ProjectResponse::from(project)))
}

/// Lists the caller's projects, oldest first.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(ListParams),
    responses((status = 200, body = ListResponse<ProjectResponse>)), security(("bearer" = [])))]
pub async fn list_projects(
    state: web::Data<AppState>,
    caller: Caller,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state.services.projects.list_mine(&caller.0, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, ProjectResponse::from)))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}", tag = "projects",
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["database:read"])))]
pub async fn get_project(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    let project = state.services.projects.get(&caller.0, *path).await?;
    Ok(HttpResponse::Ok().json(ProjectResponse::from(project)))
}

/// Deletes a project and everything it holds.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}", tag = "projects",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_project(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
) -> Result<HttpResponse, ApiError> {
    state.services.projects.delete(&caller.0, *path).await?;
    Ok(HttpResponse::NoContent().finish())
}
