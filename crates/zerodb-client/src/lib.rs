//! A typed async client for the ZeroDB HTTP API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), zerodb_client::ClientError> {
//! let anon = zerodb_client::Client::new("http://127.0.0.1:8080");
//! let login = anon.login("ada@example.com", "correct horse").await?;
//! let client = anon.with_token(&login.access_token);
//! let project = client.create_project("demo", None).await?;
//! client.enable_database(project.project_id).await?;
//! # Ok(()) }
//! ```

mod types;

pub use types::*;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error envelope.
    #[error("{status} {code}: {message}")]
    Api { status: u16, code: String, message: String, details: Option<Value>, request_id: String },
    /// The request did not complete (connection, timeout, ...).
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server's answer was not what the API promises.
    #[error("unexpected response ({status}): {body}")]
    Unexpected { status: u16, body: String },
}

impl ClientError {
    /// The API error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            ClientError::Transport(e) => e.status().map(|s| s.as_u16()),
        }
    }
}

#[derive(Debug, Clone)]
enum Credentials {
    None,
    Bearer(String),
    ApiKey(String),
}

/// A raw response, for endpoints this client has no method for yet.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub request_id: Option<String>,
    /// Seconds from a `Retry-After` header (429 and 503 answers).
    pub retry_after: Option<u64>,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`), without credentials.
    pub fn new(base_url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_owned(),
            credentials: Credentials::None,
        }
    }

    /// The same client, authenticating with a bearer token.
    pub fn with_token(&self, token: &str) -> Self {
        Self { credentials: Credentials::Bearer(token.to_owned()), ..self.clone() }
    }

    /// The same client, authenticating with a project API key.
    pub fn with_api_key(&self, key: &str) -> Self {
        Self { credentials: Credentials::ApiKey(key.to_owned()), ..self.clone() }
    }

    /// The same client without credentials.
    pub fn anonymous(&self) -> Self {
        Self { credentials: Credentials::None, ..self.clone() }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.credentials {
            Credentials::None => builder,
            Credentials::Bearer(t) => builder.bearer_auth(t),
            Credentials::ApiKey(k) => builder.header("X-API-Key", k),
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        if (200..300).contains(&status) {
            let body = if bytes.is_empty() { b"null".as_slice() } else { &bytes };
            return serde_json::from_slice(body).map_err(|_| ClientError::Unexpected {
                status,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        Err(error_from(status, &bytes))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send(self.request(Method::GET, path)).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    async fn delete_no_content(&self, path: &str) -> Result<(), ClientError> {
        self.send::<Value>(self.request(Method::DELETE, path)).await.map(|_| ())
    }

    /// Any request, answered as raw JSON with its status; never fails on an HTTP error status.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<RawResponse, ClientError> {
        let mut builder = self.request(method, path);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let request_id =
            response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(RawResponse { status, request_id, retry_after, body })
    }

    /// Any JSON request with query parameters, answered as its JSON body (`null` when the
    /// answer has none); an error status becomes [`ClientError::Api`].
    pub async fn call_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let mut builder = self.request(method, path);
        if !query.is_empty() {
            builder = builder.query(query);
        }
        if let Some(body) = body {
            builder = builder.json(body);
        }
        self.send(builder).await
    }

    // --- health -------------------------------------------------------------------------

    pub async fn health(&self) -> Result<Health, ClientError> {
        self.get("/health").await
    }

    pub async fn ready(&self) -> Result<Health, ClientError> {
        self.get("/ready").await
    }

    // --- auth ---------------------------------------------------------------------------

    pub async fn register(&self, email: &str, password: &str) -> Result<User, ClientError> {
        self.post("/api/v1/auth/register", &json!({"email": email, "password": password})).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<Login, ClientError> {
        self.post("/api/v1/auth/login", &json!({"email": email, "password": password})).await
    }

    pub async fn me(&self) -> Result<Me, ClientError> {
        self.get("/api/v1/auth/me").await
    }

    // --- projects -----------------------------------------------------------------------

    pub async fn create_project(
        &self,
        name: &str,
        description: Option<&str>,
    ) -> Result<Project, ClientError> {
        self.post("/api/v1/projects", &json!({"project_name": name, "description": description}))
            .await
    }

    pub async fn list_projects(&self, options: &ListOptions) -> Result<Page<Project>, ClientError> {
        self.send(self.request(Method::GET, "/api/v1/projects").query(options)).await
    }

    pub async fn get_project(&self, project_id: Uuid) -> Result<Project, ClientError> {
        self.get(&format!("/api/v1/projects/{project_id}")).await
    }

    pub async fn delete_project(&self, project_id: Uuid) -> Result<(), ClientError> {
        self.delete_no_content(&format!("/api/v1/projects/{project_id}")).await
    }

    // --- API keys -----------------------------------------------------------------------

    pub async fn create_api_key(
        &self,
        project_id: Uuid,
        name: &str,
        scopes: &[&str],
    ) -> Result<CreatedApiKey, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/api-keys"),
            &json!({"name": name, "scopes": scopes}),
        )
        .await
    }

    pub async fn list_api_keys(
        &self,
        project_id: Uuid,
        options: &ListOptions,
    ) -> Result<Page<ApiKey>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/api-keys");
        self.send(self.request(Method::GET, &path).query(options)).await
    }

    pub async fn revoke_api_key(&self, project_id: Uuid, key_id: Uuid) -> Result<(), ClientError> {
        self.delete_no_content(&format!("/api/v1/projects/{project_id}/api-keys/{key_id}")).await
    }

    // --- database -----------------------------------------------------------------------

    pub async fn get_database(&self, project_id: Uuid) -> Result<DatabaseStatus, ClientError> {
        self.get(&format!("/api/v1/projects/{project_id}/database")).await
    }

    pub async fn enable_database(&self, project_id: Uuid) -> Result<DatabaseStatus, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database"), &json!({})).await
    }

    pub async fn update_database_config(
        &self,
        project_id: Uuid,
        config: &Value,
    ) -> Result<DatabaseStatus, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database");
        self.send(self.request(Method::PUT, &path).json(config)).await
    }

    // --- tables -------------------------------------------------------------------------

    pub async fn create_table(
        &self,
        project_id: Uuid,
        name: &str,
        schema: &Value,
    ) -> Result<Table, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/tables"),
            &json!({"table_name": name, "schema_definition": schema}),
        )
        .await
    }

    pub async fn list_tables(
        &self,
        project_id: Uuid,
        options: &ListOptions,
    ) -> Result<Page<Table>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/tables");
        self.send(self.request(Method::GET, &path).query(options)).await
    }

    pub async fn get_table(&self, project_id: Uuid, table: &str) -> Result<Table, ClientError> {
        self.get(&format!("/api/v1/projects/{project_id}/database/tables/{table}")).await
    }

    pub async fn delete_table(&self, project_id: Uuid, table: &str) -> Result<(), ClientError> {
        self.delete_no_content(&format!("/api/v1/projects/{project_id}/database/tables/{table}"))
            .await
    }

    /// Inserts rows (1..=1000), all or none.
    pub async fn insert_rows(
        &self,
        project_id: Uuid,
        table: &str,
        rows: &[Value],
    ) -> Result<InsertedRows, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/tables/{table}/rows"),
            &json!({"rows": rows}),
        )
        .await
    }

    pub async fn query_rows(
        &self,
        project_id: Uuid,
        table: &str,
        query: &RowQuery,
    ) -> Result<RowsPage, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/tables/{table}/rows/query"),
            query,
        )
        .await
    }

    /// Sets `set` on every row matching `filter`; returns how many rows changed.
    pub async fn update_rows(
        &self,
        project_id: Uuid,
        table: &str,
        filter: &Value,
        set: &Value,
    ) -> Result<u64, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/tables/{table}/rows");
        let affected: Affected = self
            .send(self.request(Method::PATCH, &path).json(&json!({"filter": filter, "set": set})))
            .await?;
        Ok(affected.affected)
    }

    /// Deletes every row matching `filter` (`{}` for all); returns how many.
    pub async fn delete_rows(
        &self,
        project_id: Uuid,
        table: &str,
        filter: &Value,
    ) -> Result<u64, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/tables/{table}/rows");
        let affected: Affected =
            self.send(self.request(Method::DELETE, &path).json(&json!({"filter": filter}))).await?;
        Ok(affected.affected)
    }

    /// Sets column values on the row `row_id`.
    pub async fn update_row(
        &self,
        project_id: Uuid,
        table: &str,
        row_id: Uuid,
        set: &Value,
    ) -> Result<(), ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/tables/{table}/rows/{row_id}");
        let _: Affected =
            self.send(self.request(Method::PATCH, &path).json(&json!({"set": set}))).await?;
        Ok(())
    }

    pub async fn delete_row(
        &self,
        project_id: Uuid,
        table: &str,
        row_id: Uuid,
    ) -> Result<(), ClientError> {
        self.delete_no_content(&format!(
            "/api/v1/projects/{project_id}/database/tables/{table}/rows/{row_id}"
        ))
        .await
    }
}

impl Client {
    // --- RLHF ---------------------------------------------------------------------------

    pub async fn log_rlhf(
        &self,
        project_id: Uuid,
        record: &NewRlhfRecord,
    ) -> Result<RlhfRecord, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/rlhf/log"), record).await
    }

    /// Logs up to 1000 records, all or none.
    pub async fn log_rlhf_batch(
        &self,
        project_id: Uuid,
        records: &[NewRlhfRecord],
    ) -> Result<LoggedRlhf, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/rlhf/log-batch"),
            &json!({"records": records}),
        )
        .await
    }

    pub async fn list_rlhf(
        &self,
        project_id: Uuid,
        query: &RlhfQuery,
    ) -> Result<Page<RlhfRecord>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/rlhf");
        self.send(self.request(Method::GET, &path).query(query)).await
    }

    /// The JSON-lines export, one parsed example per line.
    pub async fn export_rlhf(
        &self,
        project_id: Uuid,
        query: &RlhfQuery,
    ) -> Result<Vec<Value>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/rlhf/export");
        let response = self
            .request(Method::GET, &path)
            .query(&[("format", "jsonl")])
            .query(query)
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        if status != 200 {
            return Err(error_from(status, text.as_bytes()));
        }
        text.lines()
            .map(|line| {
                serde_json::from_str(line)
                    .map_err(|_| ClientError::Unexpected { status, body: line.to_owned() })
            })
            .collect()
    }

    // --- agent logs ---------------------------------------------------------------------

    pub async fn log_agent(
        &self,
        project_id: Uuid,
        log: &NewAgentLog,
    ) -> Result<AgentLog, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/agent/log"), log).await
    }

    /// Logs up to 1000 entries, all or none.
    pub async fn log_agent_batch(
        &self,
        project_id: Uuid,
        logs: &[NewAgentLog],
    ) -> Result<LoggedAgentLogs, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/agent/log-batch"),
            &json!({"logs": logs}),
        )
        .await
    }

    pub async fn list_agent_logs(
        &self,
        project_id: Uuid,
        query: &AgentLogQuery,
    ) -> Result<Page<AgentLog>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/agent/logs");
        self.send(self.request(Method::GET, &path).query(query)).await
    }

    // --- admin --------------------------------------------------------------------------

    pub async fn admin_list_projects(
        &self,
        query: &AdminProjectQuery,
    ) -> Result<Page<Project>, ClientError> {
        self.send(self.request(Method::GET, "/api/v1/admin/zerodb/projects").query(query)).await
    }

    pub async fn admin_get_project(&self, project_id: Uuid) -> Result<AdminProject, ClientError> {
        self.get(&format!("/api/v1/admin/zerodb/projects/{project_id}")).await
    }

    pub async fn admin_stats(&self) -> Result<SystemStats, ClientError> {
        self.get("/api/v1/admin/zerodb/stats").await
    }

    pub async fn admin_usage(&self, query: &UsageQuery) -> Result<Usage, ClientError> {
        self.send(self.request(Method::GET, "/api/v1/admin/zerodb/usage/analytics").query(query))
            .await
    }

    /// The Prometheus metrics text.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let response = self.request(Method::GET, "/metrics").send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        if status == 200 { Ok(text) } else { Err(ClientError::Unexpected { status, body: text }) }
    }
}

impl Client {
    // --- events -------------------------------------------------------------------------

    /// Publishes one event; returns it with its offset once it is durable.
    pub async fn publish_event(
        &self,
        project_id: Uuid,
        event: &NewEvent,
    ) -> Result<Event, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/events/publish"), event).await
    }

    /// Publishes up to 1000 events atomically.
    pub async fn publish_events(
        &self,
        project_id: Uuid,
        events: &[NewEvent],
    ) -> Result<PublishedEvents, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/events/publish-batch"),
            &json!({"events": events}),
        )
        .await
    }

    // --- vectors ------------------------------------------------------------------------

    /// Inserts a vector, or replaces the one with its id.
    pub async fn upsert_vector(
        &self,
        project_id: Uuid,
        vector: &NewVector,
    ) -> Result<UpsertedVector, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/vectors/upsert"), vector).await
    }

    /// Upserts up to 1000 vectors, all or nothing.
    pub async fn upsert_vectors(
        &self,
        project_id: Uuid,
        vectors: &[NewVector],
    ) -> Result<UpsertedVectors, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/vectors/upsert-batch"),
            &json!({"vectors": vectors}),
        )
        .await
    }

    pub async fn search_vectors(
        &self,
        project_id: Uuid,
        search: &VectorSearch,
    ) -> Result<VectorSearchResults, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/vectors/search"), search).await
    }

    pub async fn list_vectors(
        &self,
        project_id: Uuid,
        query: &VectorQuery,
    ) -> Result<Page<Vector>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/vectors");
        self.send(self.request(Method::GET, &path).query(query)).await
    }

    /// One vector by id (any string; sent percent-encoded as one path segment).
    pub async fn get_vector(
        &self,
        project_id: Uuid,
        vector_id: impl ToString,
    ) -> Result<Vector, ClientError> {
        let id = path_segment(&vector_id.to_string());
        self.get(&format!("/api/v1/projects/{project_id}/database/vectors/{id}")).await
    }

    pub async fn delete_vector(
        &self,
        project_id: Uuid,
        vector_id: impl ToString,
    ) -> Result<(), ClientError> {
        let id = path_segment(&vector_id.to_string());
        self.delete_no_content(&format!("/api/v1/projects/{project_id}/database/vectors/{id}"))
            .await
    }

    /// Vectors by ids (in the order asked), or a filtered page of a namespace.
    pub async fn get_vectors(
        &self,
        project_id: Uuid,
        get: &GetVectors,
    ) -> Result<Page<GotVector>, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/vectors/get"), get).await
    }

    /// Deletes vectors by id.
    pub async fn delete_vectors<I: serde::Serialize + Sync>(
        &self,
        project_id: Uuid,
        vector_ids: &[I],
    ) -> Result<DeletedVectors, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/vectors/delete"),
            &json!({"vector_ids": vector_ids}),
        )
        .await
    }

    /// Deletes every vector of a namespace matching a metadata filter.
    pub async fn delete_vectors_where(
        &self,
        project_id: Uuid,
        namespace: &str,
        filter: &Value,
    ) -> Result<DeletedVectors, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/vectors/delete"),
            &json!({"namespace": namespace, "filter": filter}),
        )
        .await
    }

    pub async fn create_namespace(
        &self,
        project_id: Uuid,
        namespace: &NewNamespace,
    ) -> Result<VectorNamespace, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/vector-namespaces"), namespace)
            .await
    }

    pub async fn list_namespaces(
        &self,
        project_id: Uuid,
    ) -> Result<Vec<VectorNamespace>, ClientError> {
        self.get(&format!("/api/v1/projects/{project_id}/database/vector-namespaces")).await
    }

    /// One namespace with its vector count.
    pub async fn get_namespace(
        &self,
        project_id: Uuid,
        namespace: &str,
    ) -> Result<VectorNamespace, ClientError> {
        let name = path_segment(namespace);
        self.get(&format!("/api/v1/projects/{project_id}/database/vector-namespaces/{name}")).await
    }

    // --- files ----------------------------------------------------------------------------

    /// Uploads `body` as the raw request body (streamed when it is a stream body).
    pub async fn upload_file(
        &self,
        project_id: Uuid,
        file_name: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
        options: &UploadOptions,
    ) -> Result<FileInfo, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/files/upload");
        let request = self
            .request(Method::POST, &path)
            .query(&[("file_name", file_name)])
            .query(options)
            .header("content-type", content_type)
            .body(body);
        self.send(request).await
    }

    /// Uploads through `multipart/form-data`, with optional key and metadata parts.
    pub async fn upload_file_multipart(
        &self,
        project_id: Uuid,
        file_name: &str,
        content: Vec<u8>,
        file_key: Option<&str>,
        file_metadata: Option<&Value>,
    ) -> Result<FileInfo, ClientError> {
        let mut form = reqwest::multipart::Form::new();
        if let Some(key) = file_key {
            form = form.text("file_key", key.to_owned());
        }
        if let Some(metadata) = file_metadata {
            form = form.text("file_metadata", metadata.to_string());
        }
        form = form
            .part("file", reqwest::multipart::Part::bytes(content).file_name(file_name.to_owned()));
        let path = format!("/api/v1/projects/{project_id}/database/files/upload");
        self.send(self.request(Method::POST, &path).multipart(form)).await
    }

    /// Uploads through `multipart/form-data` with the file part's content type given.
    pub async fn upload_file_typed(
        &self,
        project_id: Uuid,
        file: FilePart,
    ) -> Result<FileInfo, ClientError> {
        let mut form = reqwest::multipart::Form::new();
        if let Some(key) = file.file_key {
            form = form.text("file_key", key);
        }
        if let Some(metadata) = file.file_metadata {
            form = form.text("file_metadata", metadata.to_string());
        }
        let part = reqwest::multipart::Part::bytes(file.content)
            .file_name(file.file_name)
            .mime_str(&file.content_type)
            .map_err(ClientError::Transport)?;
        form = form.part("file", part);
        let path = format!("/api/v1/projects/{project_id}/database/files/upload");
        self.send(self.request(Method::POST, &path).multipart(form)).await
    }

    /// Registers metadata only (no bytes), as the earlier API did.
    pub async fn register_file(
        &self,
        project_id: Uuid,
        file: &RegisterFile,
    ) -> Result<FileInfo, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/files/upload"), file).await
    }

    pub async fn list_files(
        &self,
        project_id: Uuid,
        query: &FileQuery,
    ) -> Result<Page<FileInfo>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/files");
        self.send(self.request(Method::GET, &path).query(query)).await
    }

    pub async fn get_file(&self, project_id: Uuid, file_id: Uuid) -> Result<FileInfo, ClientError> {
        self.get(&format!("/api/v1/projects/{project_id}/database/files/{file_id}")).await
    }

    pub async fn delete_file(&self, project_id: Uuid, file_id: Uuid) -> Result<(), ClientError> {
        self.delete_no_content(&format!("/api/v1/projects/{project_id}/database/files/{file_id}"))
            .await
    }

    /// The response to a content request, for streaming it yourself; errors are returned
    /// as `ClientError::Api`.
    pub async fn file_content_response(
        &self,
        project_id: Uuid,
        file_id: Uuid,
        range: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/files/{file_id}/content");
        let mut request = self.request(Method::GET, &path);
        if let Some(range) = range {
            request = request.header("range", range);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let bytes = response.bytes().await?;
        Err(error_from(status, &bytes))
    }

    /// Downloads a file (or `range`, e.g. `bytes=0-99`) into memory.
    pub async fn download_file(
        &self,
        project_id: Uuid,
        file_id: Uuid,
        range: Option<&str>,
    ) -> Result<FileContent, ClientError> {
        let response = self.file_content_response(project_id, file_id, range).await?;
        content_of(response).await
    }

    /// A time-limited URL that downloads the file with no credentials.
    pub async fn file_url(
        &self,
        project_id: Uuid,
        file_id: Uuid,
        expires_in: Option<u64>,
    ) -> Result<FileUrl, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/files/{file_id}/url");
        self.post(&path, &json!({ "expires_in": expires_in })).await
    }

    /// Fetches any URL (a signed download link) without this client's credentials.
    pub async fn fetch_url(&self, url: &str) -> Result<FileContent, ClientError> {
        let response = self.http.get(url).send().await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let bytes = response.bytes().await?;
            return Err(error_from(status, &bytes));
        }
        content_of(response).await
    }

    // --- memory ---------------------------------------------------------------------------

    pub async fn store_memory(
        &self,
        project_id: Uuid,
        memory: &NewMemory,
    ) -> Result<Memory, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/memory/store"), memory).await
    }

    /// Stores up to 500 memories at once, all or none; answers them in request order.
    pub async fn store_memories(
        &self,
        project_id: Uuid,
        memories: &[NewMemory],
    ) -> Result<StoredMemories, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/memory/store-batch"),
            &json!({"memories": memories}),
        )
        .await
    }

    pub async fn list_memory(
        &self,
        project_id: Uuid,
        query: &MemoryQuery,
    ) -> Result<Page<Memory>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/memory");
        self.send(self.request(Method::GET, &path).query(query)).await
    }

    pub async fn search_memory(
        &self,
        project_id: Uuid,
        search: &MemorySearch,
    ) -> Result<MemorySearchResults, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/memory/search"), search).await
    }

    pub async fn memory_context(
        &self,
        project_id: Uuid,
        query: &ContextQuery,
    ) -> Result<ContextWindow, ClientError> {
        self.post(&format!("/api/v1/projects/{project_id}/database/memory/context"), query).await
    }

    pub async fn get_memory(
        &self,
        project_id: Uuid,
        memory_id: Uuid,
    ) -> Result<Memory, ClientError> {
        self.get(&format!("/api/v1/projects/{project_id}/database/memory/{memory_id}")).await
    }

    pub async fn delete_memory(
        &self,
        project_id: Uuid,
        memory_id: Uuid,
    ) -> Result<(), ClientError> {
        self.delete_no_content(&format!(
            "/api/v1/projects/{project_id}/database/memory/{memory_id}"
        ))
        .await
    }

    pub async fn generate_embeddings(
        &self,
        project_id: Uuid,
        texts: &[&str],
    ) -> Result<GeneratedEmbeddings, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/embeddings/generate"),
            &json!({"texts": texts}),
        )
        .await
    }

    pub async fn list_events(
        &self,
        project_id: Uuid,
        query: &EventQuery,
    ) -> Result<Page<Event>, ClientError> {
        let path = format!("/api/v1/projects/{project_id}/database/events");
        self.send(self.request(Method::GET, &path).query(query)).await
    }

    pub async fn commit_consumer(
        &self,
        project_id: Uuid,
        group: &str,
        topic: &str,
        offset: i64,
    ) -> Result<Consumer, ClientError> {
        self.post(
            &format!("/api/v1/projects/{project_id}/database/events/consumers/{group}/commit"),
            &json!({"topic": topic, "offset": offset}),
        )
        .await
    }

    pub async fn get_consumer(
        &self,
        project_id: Uuid,
        group: &str,
    ) -> Result<Consumer, ClientError> {
        self.get(&format!("/api/v1/projects/{project_id}/database/events/consumers/{group}")).await
    }

    /// Follows the event log over Server-Sent Events. `last_event_id` resumes right after
    /// that offset (as a reconnecting `EventSource` does); otherwise the query's start
    /// applies. The stream replays history, then yields live events until dropped.
    pub async fn stream_events(
        &self,
        project_id: Uuid,
        query: &EventQuery,
        last_event_id: Option<i64>,
    ) -> Result<EventStream, ClientError> {
        use eventsource_stream::Eventsource;
        use futures_util::StreamExt;
        let path = format!("/api/v1/projects/{project_id}/database/events/stream");
        let mut builder =
            self.request(Method::GET, &path).query(query).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            builder = builder.header("last-event-id", id.to_string());
        }
        let response = builder.send().await?;
        let status = response.status().as_u16();
        if status != 200 {
            let bytes = response.bytes().await?;
            return Err(error_from(status, &bytes));
        }
        let events = response.bytes_stream().eventsource().map(move |item| match item {
            Ok(frame) => serde_json::from_str::<Event>(&frame.data)
                .map_err(|_| ClientError::Unexpected { status, body: frame.data }),
            Err(e) => Err(ClientError::Unexpected { status, body: e.to_string() }),
        });
        Ok(EventStream { inner: Box::pin(events) })
    }
}

/// Live events from [`Client::stream_events`].
pub struct EventStream {
    inner: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Event, ClientError>> + Send>>,
}

impl futures_util::Stream for EventStream {
    type Item = Result<Event, ClientError>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The client error for a non-2xx answer.
fn error_from(status: u16, bytes: &[u8]) -> ClientError {
    let envelope: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let error = &envelope["error"];
    match error["code"].as_str() {
        Some(code) => ClientError::Api {
            status,
            code: code.to_owned(),
            message: error["message"].as_str().unwrap_or_default().to_owned(),
            details: error.get("details").cloned(),
            request_id: error["request_id"].as_str().unwrap_or_default().to_owned(),
        },
        None => {
            ClientError::Unexpected { status, body: String::from_utf8_lossy(bytes).into_owned() }
        }
    }
}

pub use reqwest::Method as HttpMethod;

async fn content_of(response: reqwest::Response) -> Result<FileContent, ClientError> {
    let header =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (content_type, content_range, etag) =
        (header("content-type"), header("content-range"), header("etag"));
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    Ok(FileContent { status, content_type, content_range, etag, bytes })
}

/// Percent-encodes a value as one URL path segment: everything but unreserved characters
/// (RFC 3986), so "/", "?", "#" and "%" stay inside the segment.
pub fn path_segment(value: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}
