//! Registration, login and "who am I".

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use zerodb_domain::principal::{Principal, Role};
use zerodb_domain::users::User;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/auth/register").route(web::post().to(register)))
        .service(super::resource("/auth/login").route(web::post().to(login)))
        .service(super::resource("/auth/me").route(web::get().to(me)));
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub user_id: Uuid,
    pub email: String,
    #[schema(value_type = String, example = "user")]
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(u: User) -> Self {
        Self { user_id: u.id.as_uuid(), email: u.email, role: u.role, created_at: u.created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    pub user: UserResponse,
}

/// Who the caller is: a user, or an API key of one project.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// `user` or `api_key`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// Creates a user account (when the server allows self-registration).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, body = UserResponse), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    crate::sign_in::check_attempt(&state, &request, &body.email).await?;
    let user = state.services.auth.register(&body.email, body.password).await?;
    Ok(HttpResponse::Created().json(UserResponse::from(user)))
}

/// Exchanges email and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    crate::sign_in::check_attempt(&state, &request, &body.email).await?;
    let result = state.services.auth.login(&body.email, &body.password).await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        access_token: result.token.token,
        token_type: "Bearer",
        expires_in: result.token.expires_in_seconds,
        expires_at: result.token.expires_at,
        user: result.user.into(),
    }))
}

/// Describes the authenticated caller.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let user = state.services.auth.me(&caller.0).await?;
    let response = match (&caller.0, user) {
        (Principal::ApiKey { key_id, project_id, scopes }, _) => MeResponse {
            kind: "api_key",
            user: None,
            project_id: Some(project_id.as_uuid()),
            key_id: Some(key_id.as_uuid()),
            scopes: Some(scopes.iter().map(ToString::to_string).collect()),
        },
        (Principal::User { .. }, user) => MeResponse {
            kind: "user",
            user: user.map(UserResponse::from),
            project_id: None,
            key_id: None,
            scopes: None,
        },
    };
    Ok(HttpResponse::Ok().json(response))
}
