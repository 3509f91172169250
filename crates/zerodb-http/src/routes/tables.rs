//! Dynamic tables and rows.

use super::{ListParams, ListResponse};
use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::Caller;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;
use zerodb_domain::ProjectId;
use zerodb_domain::services::RowPage;
use zerodb_domain::tables::{Row, Table};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/projects/{project_id}/database/tables")
            .route(web::get().to(list_tables))
            .route(web::post().to(create_table)),
    )
    .service(
        super::resource("/projects/{project_id}/database/tables/{table_name}")
            .route(web::get().to(get_table))
            .route(web::delete().to(delete_table)),
    )
    .service(
        super::resource("/projects/{project_id}/database/tables/{table_name}/rows")
            .route(web::post().to(insert_rows))
            .route(web::get().to(query_rows))
            .route(web::patch().to(update_rows))
            .route(web::delete().to(delete_rows)),
    )
    .service(
        super::resource("/projects/{project_id}/database/tables/{table_name}/rows/query")
            .route(web::post().to(query_rows_post)),
    )
    .service(
        super::resource("/projects/{project_id}/database/tables/{table_name}/rows/{row_id}")
            .route(web::patch().to(update_row))
            .route(web::delete().to(delete_row)),
    );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTableRequest {
    /// Letters, digits and `_`, starting with a letter or `_`, at most 63 characters.
    #[schema(pattern = "^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    pub table_name: String,
    /// `{"columns": {"title": {"type": "string", "required": true}, "views": {"type":
    /// "integer", "default": 0}, "tags": "json"}}`. Types: string, integer, number, boolean,
    /// timestamp, uuid, json.
    #[schema(value_type = Object)]
    pub schema_definition: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TableResponse {
    pub table_id: Uuid,
    pub table_name: String,
    #[schema(value_type = Object)]
    pub schema_definition: Value,
    pub row_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Table> for TableResponse {
    fn from(t: Table) -> Self {
        Self {
            table_id: t.id.as_uuid(),
            table_name: t.name,
            schema_definition: t.schema.to_json(),
            row_count: t.row_count,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowResponse {
    pub row_id: Uuid,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Row> for RowResponse {
    fn from(r: Row) -> Self {
        Self {
            row_id: r.id.as_uuid(),
            data: r.data,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Either `rows` (1..=1000) or a single `row`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InsertRowsRequest {
    #[schema(value_type = Option<Vec<Object>>)]
    #[schema(min_items = 1, max_items = 1000)]
    pub rows: Option<Vec<Map<String, Value>>>,
    #[schema(value_type = Option<Object>)]
    pub row: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InsertRowsResponse {
    pub inserted: usize,
    pub rows: Vec<RowResponse>,
}

/// Query parameters of `GET .../rows`.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RowQueryParams {
    /// A JSON filter, e.g. `{"age": {"$gte": 30}}`.
    #[validate(length(max = 65536, message = "at most 64 KiB"))]
    pub filter: Option<String>,
    /// `column` ascending or `-column` descending.
    #[validate(length(max = 64, message = "at most 64 characters"))]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Also return the number of matching rows.
    pub count: Option<bool>,
}

/// Body of `POST .../rows/query`.
#[derive(Debug, Default, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct QueryRowsRequest {
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    #[validate(length(max = 64, message = "at most 64 characters"))]
    pub sort: Option<String>,
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    #[serde(default)]
    pub count: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RowsPageResponse {
    pub items: Vec<RowResponse>,
    pub next_cursor: Option<String>,
    /// Present when `count` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl From<RowPage> for RowsPageResponse {
    fn from(p: RowPage) -> Self {
        let page = p.page.map(RowResponse::from);
        Self { items: page.items, next_cursor: page.next_cursor, total: p.total }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRowsRequest {
    /// Which rows; `{}` for all.
    #[schema(value_type = Object)]
    pub filter: Value,
    /// Column values to set.
    #[schema(value_type = Object)]
    pub set: Map<String, Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRowsRequest {
    /// Which rows; `{}` for all.
    #[schema(value_type = Object)]
    pub filter: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedRowsResponse {
    pub affected: u64,
}

type TablePath = web::Path<(ProjectId, String)>;

/// Lists the project's tables.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/tables", tag = "tables",
    params(ListParams), responses((status = 200, body = ListResponse<TableResponse>),
    (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:read"])))]
pub async fn list_tables(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let page = state.services.tables.list(&caller.0, *path, params.page()?).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, TableResponse::from)))
}

/// Creates a table from a schema definition.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/tables", tag = "tables",
    request_body = CreateTableRequest,
    responses((status = 201, body = TableResponse), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:write"])))]
pub async fn create_table(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<CreateTableRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let table = state
        .services
        .tables
        .create(&caller.0, *path, &body.table_name, body.schema_definition)
        .await?;
    Ok(HttpResponse::Created().json(TableResponse::from(table)))
}

/// One table and its schema.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/tables/{table_name}",
    tag = "tables", responses((status = 200, body = TableResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:read"])))]
pub async fn get_table(
    state: web::Data<AppState>,
    caller: Caller,
    path: TablePath,
) -> Result<HttpResponse, ApiError> {
    let (project, table) = path.into_inner();
    let table = state.services.tables.get(&caller.0, project, &table).await?;
    Ok(HttpResponse::Ok().json(TableResponse::from(table)))
}

/// Drops a table and all its rows.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/database/tables/{table_name}",
    tag = "tables", responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:write"])))]
pub async fn delete_table(
    state: web::Data<AppState>,
    caller: Caller,
    path: TablePath,
) -> Result<HttpResponse, ApiError> {
    let (project, table) = path.into_inner();
    state.services.tables.delete(&caller.0, project, &table).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Inserts one row or up to 1000, all or none, validated against the schema.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/tables/{table_name}/rows",
    tag = "tables", request_body = InsertRowsRequest,
    responses((status = 201, body = InsertRowsResponse), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:write"])))]
pub async fn insert_rows(
    state: web::Data<AppState>,
    caller: Caller,
    path: TablePath,
    body: web::Json<InsertRowsRequest>,
) -> Result<HttpResponse, ApiError> {
    let (project, table) = path.into_inner();
    let rows = match body.into_inner() {
        InsertRowsRequest { rows: Some(rows), row: None } => rows,
        InsertRowsRequest { rows: None, row: Some(row) } => vec![row],
        _ => {
            return Err(ApiError::new(ErrorCode::ValidationFailed, "send either `rows` or `row`")
                .with_details(serde_json::json!({"fields": [{"field": "rows", "reason": "send either `rows` or `row`"}]})));
        }
    };
    let inserted = state.services.tables.insert_rows(&caller.0, project, &table, rows).await?;
    Ok(HttpResponse::Created().json(InsertRowsResponse {
        inserted: inserted.rows.len(),
        rows: inserted.rows.into_iter().map(RowResponse::from).collect(),
    }))
}

/// Queries rows: filter, sort, pagination, optional count.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/tables/{table_name}/rows",
    tag = "tables", params(RowQueryParams),
    responses((status = 200, body = RowsPageResponse), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:read"])))]
pub async fn query_rows(
    state: web::Data<AppState>,
    caller: Caller,
    path: TablePath,
    params: web::Query<RowQueryParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    crate::extract::validate(&params)?;
    let filter = match params.filter.as_deref() {
        Some(text) => Some(serde_json::from_str::<Value>(text).map_err(|e| {
            ApiError::new(ErrorCode::InvalidQuery, format!("filter is not valid JSON: {e}"))
        })?),
        None => None,
    };
    let request = QueryRowsRequest {
        filter,
        sort: params.sort,
        limit: params.limit,
        cursor: params.cursor,
        count: params.count.unwrap_or(false),
    };
    run_query(&state, &caller, path, request).await
}

/// Queries rows with the filter in a JSON body.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/tables/{table_name}/rows/query",
    tag = "tables", request_body = QueryRowsRequest,
    responses((status = 200, body = RowsPageResponse), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:read"])))]
pub async fn query_rows_post(
    state: web::Data<AppState>,
    caller: Caller,
    path: TablePath,
    body: web::Json<QueryRowsRequest>,
) -> Result<HttpResponse, ApiError> {
    run_query(&state, &caller, path, body.into_inner()).await
}

async fn run_query(
    state: &AppState,
    caller: &Caller,
    path: TablePath,
    request: QueryRowsRequest,
) -> Result<HttpResponse, ApiError> {
    let (project, table) = path.into_inner();
    let page =
        zerodb_domain::pagination::PageRequest::parse(request.limit, request.cursor.as_deref())?;
    let rows = state
        .services
        .tables
        .query_rows(
            &caller.0,
            project,
            &table,
            request.filter.as_ref(),
            request.sort.as_deref(),
            page,
            request.count,
        )
        .await?;
    Ok(HttpResponse::Ok().json(RowsPageResponse::from(rows)))
}

/// Sets column values on every row matching the filter.
#[utoipa::path(patch, path = "/api/v1/projects/{project_id}/database/tables/{table_name}/rows",
    tag = "tables", request_body = UpdateRowsRequest,
    responses((status = 200, body = AffectedRowsResponse), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:write"])))]
pub async fn update_rows(
    state: web::Data<AppState>,
    caller: Caller,
    path: TablePath,
    body: web::Json<UpdateRowsRequest>,
) -> Result<HttpResponse, ApiError> {
    let (project, table) = path.into_inner();
    let affected = state
        .services
        .tables
        .update_rows(&caller.0, project, &table, Some(&body.filter), &body.set)
        .await?;
    Ok(HttpResponse::Ok().json(AffectedRowsResponse { affected }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRowRequest {
    /// Column values to set.
    #[schema(value_type = Object)]
    pub set: Map<String, Value>,
}

type RowPath = web::Path<(ProjectId, String, Uuid)>;

/// Sets column values on one row.
#[utoipa::path(patch, path = "/api/v1/projects/{project_id}/database/tables/{table_name}/rows/{row_id}",
    tag = "tables", request_body = UpdateRowRequest,
    responses((status = 200, body = AffectedRowsResponse), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:write"])))]
pub async fn update_row(
    state: web::Data<AppState>,
    caller: Caller,
    path: RowPath,
    body: web::Json<UpdateRowRequest>,
) -> Result<HttpResponse, ApiError> {
    let (project, table, row_id) = path.into_inner();
    state.services.tables.update_row(&caller.0, project, &table, row_id, &body.set).await?;
    Ok(HttpResponse::Ok().json(AffectedRowsResponse { affected: 1 }))
}

/// Deletes one row.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/database/tables/{table_name}/rows/{row_id}",
    tag = "tables",
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:write"])))]
pub async fn delete_row(
    state: web::Data<AppState>,
    caller: Caller,
    path: RowPath,
) -> Result<HttpResponse, ApiError> {
    let (project, table, row_id) = path.into_inner();
    state.services.tables.delete_row(&caller.0, project, &table, row_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes every row matching the filter.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/database/tables/{table_name}/rows",
    tag = "tables", request_body = DeleteRowsRequest,
    responses((status = 200, body = AffectedRowsResponse), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["tables:write"])))]
pub async fn delete_rows(
    state: web::Data<AppState>,
    caller: Caller,
    path: TablePath,
    body: web::Json<DeleteRowsRequest>,
) -> Result<HttpResponse, ApiError> {
    let (project, table) = path.into_inner();
    let affected =
        state.services.tables.delete_rows(&caller.0, project, &table, Some(&body.filter)).await?;
    Ok(HttpResponse::Ok().json(AffectedRowsResponse { affected }))
}
