//! Project API keys: create (secret shown once), list, revoke.

use super::{ListParams, ListResponse};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;
use zerodb_domain::api_keys::ApiKey;
use zerodb_domain::{ApiKeyId, ProjectId};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/projects/{project_id}/api-keys")
            .route(web::post().to(create_api_key))
            .route(web::get().to(list_api_keys)),
    )
    .service(
        super::resource("/projects/{project_id}/api-keys/{key_id}")
            .route(web::delete().to(revoke_api_key)),
    );
}

#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A label for the key (default "default").
    pub name: Option<String>,
    /// `*` or `<area>:read|write` with area one of database, tables, vectors, memory, events,
    /// files, rlhf, agent.
    #[validate(length(max = 64, message = "at most 64 scopes"))]
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    pub key_id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyResponse {
    fn from(k: ApiKey) -> Self {
        Self {
            key_id: k.id.as_uuid(),
            project_id: k.project_id.as_uuid(),
            name: k.name,
            key_prefix: k.key_prefix,
            scopes: k.scopes.iter().map(ToString::to_string).collect(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyResponse {
    #[serde(flatten)]
    pub key: ApiKeyResponse,
    /// The secret: shown only in this response. Send it as `X-API-Key`.
    pub api_key: String,
}

/// Issues an API key for the project. Owner or admin only.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/api-keys", tag = "api-keys",
    request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKeyResponse), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    crate::extract::validate(&body)?;
    let created = state.services.api_keys.create(&caller.0, *path, body.name, &body.scopes).await?;
    Ok(HttpResponse::Created()
        .json(CreatedApiKeyResponse { key: created.key.into(), api_key: created.secret }))
}

/// The project's active keys (without secrets).
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/api-keys", tag = "api-keys",
    params(ListParams), responses((status = 200, body = ListResponse<ApiKeyResponse>),
    (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state.services.api_keys.list(&caller.0, *path, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, ApiKeyResponse::from)))
}

/// Revokes a key: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/api-keys/{key_id}", tag = "api-keys",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (project_id, key_id) = path.into_inner();
    state.services.api_keys.revoke(&caller.0, project_id, ApiKeyId::from_uuid(key_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
