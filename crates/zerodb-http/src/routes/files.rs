//! Files: upload (multipart, raw body, or the seed's metadata-only JSON), list, metadata,
//! ranged streaming download, delete, and download links that need no credentials.

use super::ListResponse;
use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::Caller;
use actix_multipart::Multipart;
use actix_web::http::header::{self, ByteRangeSpec, ContentDisposition, DispositionParam, Header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use zerodb_domain::files::FileRecord;
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::principal::Principal;
use zerodb_domain::services::{ByteRange, Download, DownloadLink, RegisterInput, UploadInput};
use zerodb_domain::{ProjectId, ServiceError};

/// Largest text part of a multipart upload, and largest metadata-only JSON body.
const MAX_FIELD_BYTES: usize = 64 * 1024;
const CHECKSUM_HEADER: &str = "x-checksum-sha256";

pub fn config(cfg: &mut web::ServiceConfig) {
    let base = "/projects/{project_id}/database/files";
    cfg.service(super::resource(base).route(web::get().to(list_files)))
        .service(super::resource(&format!("{base}/upload")).route(web::post().to(upload_file)))
        .service(
            super::resource(&format!("{base}/{{file_id}}"))
                .route(web::get().to(get_file))
                .route(web::delete().to(delete_file)),
        )
        .service(
            super::resource(&format!("{base}/{{file_id}}/content"))
                .route(web::get().to(download_file)),
        )
        .service(
            super::resource(&format!("{base}/{{file_id}}/url")).route(web::post().to(file_url)),
        )
        .service(
            super::resource("/files/{file_id}/download").route(web::get().to(download_signed)),
        );
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileResponse {
    pub file_id: Uuid,
    pub file_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: Option<u64>,
    #[schema(value_type = Object)]
    pub file_metadata: Map<String, Value>,
    /// Hex SHA-256 of the content; absent for metadata-only registrations.
    pub sha256: Option<String>,
    /// `stored` (bytes kept) or `registered` (metadata only).
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<FileRecord> for FileResponse {
    fn from(r: FileRecord) -> Self {
        Self {
            file_id: r.id,
            file_key: r.file_key,
            file_name: r.file_name,
            content_type: r.content_type,
            size_bytes: r.size_bytes,
            file_metadata: r.metadata,
            sha256: r.sha256,
            status: r.status.as_str().to_owned(),
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileListParams {
    /// Only keys starting with this.
    pub prefix: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// Required for a raw body; a multipart part's own file name wins.
    pub file_name: Option<String>,
    /// Defaults to the file name.
    pub file_key: Option<String>,
    /// Hex SHA-256 the content must have (or the `X-Checksum-SHA256` header).
    pub checksum: Option<String>,
}

/// The seed's metadata-only registration (`Content-Type: application/json`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterFileRequest {
    pub file_key: Option<String>,
    pub file_name: String,
    pub content_type: Option<String>,
    pub size_bytes: Option<u64>,
    #[schema(value_type = Option<Object>)]
    pub file_metadata: Option<Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileUrlRequest {
    /// Seconds, 1..=604800 (default 3600).
    #[schema(minimum = 1, maximum = 604800)]
    pub expires_in: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileUrlResponse {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SignedParams {
    pub project_id: Uuid,
    pub expires: i64,
    pub signature: String,
}

fn invalid(field: &str, reason: &str) -> ApiError {
    ServiceError::invalid(field, reason).into()
}

fn json_body_error(e: serde_json::Error) -> ApiError {
    let code = if e.is_data() { ErrorCode::ValidationFailed } else { ErrorCode::InvalidJson };
    ApiError::new(code, format!("invalid request body: {e}"))
}

fn header_text<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Lists files in key order.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/files", tag = "files", params(FileListParams),
    responses((status = 200, body = ListResponse<FileResponse>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["files:read"])))]
pub async fn list_files(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<FileListParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let page = PageRequest::parse(p.limit, p.cursor.as_deref())?;
    let project = *path;
    let page = state.services.files.list(&caller.0, project, p.prefix, page).await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, FileResponse::from)))
}

/// Uploads a file: `multipart/form-data` (parts `file_key`, `file_metadata`, `checksum`
/// before the `file` part), any other content type as the raw bytes (`?file_name=`), or
/// `application/json` to register metadata only. Streamed; SHA-256 computed on the way.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/files/upload", tag = "files",
    params(UploadParams), request_body(content = RegisterFileRequest, description = "multipart/form-data, a raw body, or JSON metadata"),
    responses((status = 201, body = FileResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["files:write"])))]
pub async fn upload_file(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<UploadParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let project = *path;
    let params = params.into_inner();
    let content_type = header_text(&req, "content-type").unwrap_or("application/octet-stream");
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let checksum =
        params.checksum.clone().or_else(|| header_text(&req, CHECKSUM_HEADER).map(str::to_owned));
    let record = match essence.as_str() {
        "multipart/form-data" => {
            upload_multipart(&state, &caller.0, project, params, checksum, &req, payload).await?
        }
        "application/json" => {
            let body = read_limited(payload, MAX_FIELD_BYTES).await?;
            let r: RegisterFileRequest = serde_json::from_slice(&body).map_err(json_body_error)?;
            let input = RegisterInput {
                file_key: r.file_key,
                file_name: r.file_name,
                content_type: r.content_type,
                size_bytes: r.size_bytes,
                metadata: r.file_metadata,
            };
            state.services.files.register(&caller.0, project, input).await?
        }
        _ => {
            let Some(file_name) = params.file_name else {
                return Err(invalid("file_name", "a raw upload needs ?file_name="));
            };
            let input = UploadInput {
                file_key: params.file_key,
                file_name,
                content_type: Some(content_type.to_owned()),
                metadata: None,
                checksum_sha256: checksum,
                declared_size: header_text(&req, "content-length").and_then(|v| v.parse().ok()),
            };
            state.services.files.upload(&caller.0, project, input, payload).await?
        }
    };
    Ok(HttpResponse::Created().json(FileResponse::from(record)))
}

async fn read_limited(
    mut stream: impl futures_util::Stream<Item = Result<Bytes, impl std::fmt::Display>> + Unpin,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(ErrorCode::BadRequest, format!("cannot read the body: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

async fn upload_multipart(
    state: &AppState,
    who: &Principal,
    project: ProjectId,
    params: UploadParams,
    mut checksum: Option<String>,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<FileRecord, ApiError> {
    let malformed = |e: actix_multipart::MultipartError| {
        ApiError::new(ErrorCode::BadRequest, format!("malformed multipart body: {e}"))
    };
    let mut form = Multipart::new(req.headers(), payload);
    let (mut file_key, mut metadata) = (params.file_key, None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .or(params.file_name.clone())
                    .ok_or_else(|| invalid("file_name", "the file part needs a filename"))?;
                let input = UploadInput {
                    file_key: file_key.take(),
                    file_name,
                    content_type: field.content_type().map(ToString::to_string),
                    metadata: metadata.take(),
                    checksum_sha256: checksum.take(),
                    declared_size: None,
                };
                let record = state.services.files.upload(who, project, input, &mut field).await?;
                // The form yields its next part only once this one is dropped.
                drop(field);
                // Parts after the file would be lost: refuse them and keep nothing.
                let mut trailing = false;
                while let Some(extra) = form.next().await {
                    let mut extra = extra.map_err(malformed)?;
                    while extra.try_next().await.map_err(malformed)?.is_some() {}
                    trailing = true;
                }
                if trailing {
                    state.services.files.delete(who, project, record.id).await?;
                    return Err(invalid(
                        "file",
                        "send file_key, file_metadata and checksum before the file part",
                    ));
                }
                return Ok(record);
            }
            "file_key" | "file_metadata" | "checksum" => {
                let text = read_limited(&mut field, MAX_FIELD_BYTES).await?;
                let text = String::from_utf8(text.to_vec())
                    .map_err(|_| invalid(&name, "must be UTF-8 text"))?;
                match name.as_str() {
                    "file_key" => file_key = Some(text),
                    "checksum" => checksum = Some(text),
                    _ => {
                        metadata = Some(
                            serde_json::from_str(&text)
                                .map_err(|_| invalid("file_metadata", "must be a JSON object"))?,
                        );
                    }
                }
            }
            other => {
                return Err(invalid(
                    "multipart",
                    &format!(
                        "unknown part '{other}'; expected file_key, file_metadata, checksum, file"
                    ),
                ));
            }
        }
    }
    Err(invalid("file", "a multipart upload needs a 'file' part"))
}

/// A file's metadata.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/files/{file_id}", tag = "files",
    responses((status = 200, body = FileResponse), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["files:read"])))]
pub async fn get_file(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (project, id) = path.into_inner();
    let record = state.services.files.get(&caller.0, project, id).await?;
    Ok(HttpResponse::Ok().json(FileResponse::from(record)))
}

/// Deletes a file and its bytes.
#[utoipa::path(delete, path = "/api/v1/projects/{project_id}/database/files/{file_id}", tag = "files",
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["files:write"])))]
pub async fn delete_file(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (project, id) = path.into_inner();
    state.services.files.delete(&caller.0, project, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One byte range from the `Range` header; several ranges or a malformed header are
/// ignored (the whole content is sent), as HTTP allows.
fn requested_range(req: &HttpRequest) -> Option<ByteRange> {
    match header::Range::parse(req).ok()? {
        header::Range::Bytes(specs) if specs.len() == 1 => Some(match specs[0] {
            ByteRangeSpec::FromTo(a, b) => ByteRange::FromTo(a, b),
            ByteRangeSpec::From(a) => ByteRange::From(a),
            ByteRangeSpec::Last(n) => ByteRange::Suffix(n),
        }),
        _ => None,
    }
}

fn content_response(result: Result<Download, ServiceError>) -> Result<HttpResponse, ApiError> {
    let d = match result {
        Ok(d) => d,
        Err(ServiceError::RangeNotSatisfiable { size }) => {
            let mut response =
                ApiError::from(ServiceError::RangeNotSatisfiable { size }).error_response();
            if let Ok(value) = header::HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = if d.partial { HttpResponse::PartialContent() } else { HttpResponse::Ok() };
    response
        .insert_header((header::CONTENT_TYPE, d.record.content_type.as_str()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        // Stored content is served as what it was declared to be, never sniffed into HTML.
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(attachment(&d.record.file_name));
    if let Some(sha) = &d.record.sha256 {
        response.insert_header((header::ETAG, format!("\"{sha}\"")));
    }
    if d.partial {
        let size = d.record.size_bytes.unwrap_or_default();
        let last = d.range.end.saturating_sub(1);
        response.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{last}/{size}", d.range.start),
        ));
    }
    let body = d.body.map_err(std::io::Error::other);
    Ok(response.no_chunking(d.range.end - d.range.start).streaming(body))
}

/// `Content-Disposition: attachment` with the file's name: plain `filename` for ASCII names,
/// and RFC 6266's `filename*` (UTF-8) with an ASCII fallback for the others.
fn attachment(file_name: &str) -> ContentDisposition {
    let mut parameters = Vec::new();
    if file_name.is_ascii() && !file_name.chars().any(|c| c.is_ascii_control()) {
        parameters.push(DispositionParam::Filename(file_name.to_owned()));
    } else {
        let fallback: String = file_name
            .chars()
            .map(|c| if c.is_ascii() && !c.is_ascii_control() && c != '"' { c } else { '_' })
            .collect();
        parameters.push(DispositionParam::Filename(fallback));
        parameters.push(DispositionParam::FilenameExt(header::ExtendedValue {
            charset: header::Charset::Ext("UTF-8".to_owned()),
            language_tag: None,
            value: file_name.as_bytes().to_vec(),
        }));
    }
    ContentDisposition { disposition: header::DispositionType::Attachment, parameters }
}

/// Streams a file's content; honours a single `Range: bytes=...`.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/files/{file_id}/content", tag = "files",
    responses((status = 200, description = "the content"), (status = 206, description = "the asked-for range"),
        (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["files:read"])))]
pub async fn download_file(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, Uuid)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (project, id) = path.into_inner();
    let range = requested_range(&req);
    content_response(state.services.files.download(&caller.0, project, id, range).await)
}

/// A time-limited download URL that works with no other credentials: S3's own presigned
/// URL on S3, an HMAC-signed ZeroDB URL otherwise.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/files/{file_id}/url", tag = "files",
    request_body = FileUrlRequest,
    responses((status = 200, body = FileUrlResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["files:read"])))]
pub async fn file_url(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, Uuid)>,
    body: web::Bytes,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (project, id) = path.into_inner();
    // The body is optional: empty means the default lifetime.
    let expires_in = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<FileUrlRequest>(&body).map_err(json_body_error)?.expires_in
    };
    let (link, expires_at) = state.services.files.link(&caller.0, project, id, expires_in).await?;
    let url = match link {
        DownloadLink::Absolute(url) => url,
        DownloadLink::ServerPath(path) => format!("{}{path}", public_base(&state, &req)),
    };
    Ok(HttpResponse::Ok().json(FileUrlResponse { url, expires_at }))
}

/// Where links to this server point: `server.public_url` when configured; the proxy's
/// `Forwarded`/`X-Forwarded-*` view only when `server.trust_forwarded_headers` is on; else
/// the address this server listens on. Never the client's `Host` alone: a link built from it
/// would send the file's reader wherever the requester chose.
fn public_base(state: &AppState, req: &HttpRequest) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    if state.sign_in.trust_forwarded_headers {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    format!("http://{}", req.app_config().local_addr())
}

/// Downloads through a signed link from `.../files/{file_id}/url`; no credentials needed.
#[utoipa::path(get, path = "/api/v1/files/{file_id}/download", tag = "files", params(SignedParams),
    responses((status = 200, description = "the content"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download_signed(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    params: web::Query<SignedParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let range = requested_range(&req);
    content_response(
        state
            .services
            .files
            .download_signed(
                ProjectId::from_uuid(p.project_id),
                *path,
                p.expires,
                &p.signature,
                range,
            )
            .await,
    )
}
