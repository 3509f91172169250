//! Response and request types of the ZeroDB API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Login {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Me {
    pub kind: String,
    pub user: Option<User>,
    pub project_id: Option<Uuid>,
    pub key_id: Option<Uuid>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Project {
    pub project_id: Uuid,
    pub project_name: String,
    pub description: Option<String>,
    pub user_id: Uuid,
    pub is_active: bool,
    pub database_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ApiKey {
    pub key_id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The secret, returned only once.
    pub api_key: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DatabaseStatistics {
    pub tables: u64,
    pub rows: u64,
    pub api_keys: u64,
    pub rlhf_records: u64,
    pub agent_logs: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DatabaseStatus {
    pub project_id: Uuid,
    pub enabled: bool,
    pub config: Value,
    pub statistics: DatabaseStatistics,
    pub rlhf: RlhfSummary,
    #[serde(default)]
    pub vector_namespaces: Vec<VectorNamespace>,
    /// The model the project embeds with.
    #[serde(default)]
    pub embedding_model: Option<EmbeddingModel>,
    /// Every model the server offers.
    #[serde(default)]
    pub embedding_models: Vec<EmbeddingModel>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EmbeddingModel {
    pub model: String,
    pub dimension: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Table {
    pub table_id: Uuid,
    pub table_name: String,
    pub schema_definition: Value,
    pub row_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Row {
    pub row_id: Uuid,
    pub data: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InsertedRows {
    pub inserted: usize,
    pub rows: Vec<Row>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RowsPage {
    pub items: Vec<Row>,
    pub next_cursor: Option<String>,
    pub total: Option<u64>,
}

/// `limit` and `cursor` for list calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A row query: filter in ZeroDB's JSON filter language, sort (`col` or `-col`), paging.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RowQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub count: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Affected {
    pub affected: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RlhfRecord {
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
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
}

/// One RLHF record to log. Give `model_output`, or `chosen_output` and `rejected_output`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewRlhfRecord {
    pub session_id: Uuid,
    pub input_prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen_output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// Filters (and paging) of RLHF listings and exports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RlhfQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_reward: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_reward: Option<f64>,
    /// Comma-separated tags, all required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoggedRlhf {
    pub logged: usize,
    pub records: Vec<RlhfRecord>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgentLog {
    pub log_id: Uuid,
    pub agent_id: Uuid,
    pub session_id: Option<Uuid>,
    pub log_level: String,
    pub log_message: String,
    pub raw_payload: Option<Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAgentLog {
    pub agent_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    pub log_level: String,
    pub log_message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_payload: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentLogQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoggedAgentLogs {
    pub logged: usize,
    pub logs: Vec<AgentLog>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AdminProjectQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AdminProject {
    #[serde(flatten)]
    pub project: Project,
    pub database_config: Value,
    pub counts: DatabaseStatistics,
    pub storage_bytes: u64,
    pub last_activity: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SystemStats {
    pub users: u64,
    pub projects: u64,
    pub totals: DatabaseStatistics,
    pub database_bytes: u64,
    pub started_at: DateTime<Utc>,
    pub uptime_seconds: i64,
    pub version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UsageRow {
    pub project_id: Uuid,
    pub day: chrono::NaiveDate,
    pub area: String,
    pub requests: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Usage {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub items: Vec<UsageRow>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RewardBucket {
    pub lower: f64,
    pub upper: f64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RlhfSummary {
    pub count: u64,
    pub rewarded: u64,
    pub mean_reward: Option<f64>,
    pub min_reward: Option<f64>,
    pub max_reward: Option<f64>,
    pub histogram: Vec<RewardBucket>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Event {
    pub event_id: Uuid,
    pub offset: i64,
    pub topic: String,
    pub key: Option<String>,
    pub headers: Map<String, Value>,
    pub event_payload: Value,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewEvent {
    pub topic: String,
    pub event_payload: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Value>,
}

impl NewEvent {
    pub fn new(topic: &str, payload: Value) -> Self {
        Self { topic: topic.to_owned(), event_payload: payload, key: None, headers: None }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublishedEvents {
    pub published: usize,
    pub events: Vec<Event>,
}

/// Where a listing or stream starts, and what it covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// First offset (inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_offset: Option<i64>,
    /// Start after this consumer group's committed offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConsumerOffset {
    pub topic: String,
    pub committed_offset: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Consumer {
    pub group: String,
    pub offsets: Vec<ConsumerOffset>,
}

// --- vectors ------------------------------------------------------------------------------

/// A vector to upsert: an embedding, or a document for the server to embed.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct NewVector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_embedding: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl NewVector {
    pub fn new(embedding: Vec<f32>) -> Self {
        Self { vector_embedding: Some(embedding), ..Self::default() }
    }
    /// A document the server embeds with the namespace's model.
    pub fn text(document: &str) -> Self {
        Self { document: Some(document.to_owned()), ..Self::default() }
    }
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }
    /// Any string of 1..=512 bytes without control characters (a UUID works too).
    pub fn with_id(mut self, id: impl ToString) -> Self {
        self.vector_id = Some(id.to_string());
        self
    }
    pub fn with_metadata(mut self, metadata: Value) -> Self {
        self.vector_metadata = Some(metadata);
        self
    }
    pub fn with_document(mut self, document: &str) -> Self {
        self.document = Some(document.to_owned());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UpsertedVector {
    pub vector_id: String,
    pub created: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UpsertedVectors {
    pub upserted: usize,
    pub vectors: Vec<UpsertedVector>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Vector {
    pub vector_id: String,
    pub namespace: String,
    #[serde(default)]
    pub vector_embedding: Option<Vec<f32>>,
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub vector_metadata: Value,
    #[serde(default)]
    pub source: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Hybrid fusion weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FusionWeights {
    pub semantic: f32,
    pub lexical: f32,
}

/// Maximal marginal relevance options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Mmr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetch_k: Option<u32>,
}

/// A search: by vector (similarity), by text (hybrid by default), or by text's words alone.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct VectorSearch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_vector: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `semantic`, `lexical` or `hybrid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub include_vectors: bool,
    /// Any of `documents`, `metadata`, `vectors`, `scores`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<FusionWeights>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmr: Option<Mmr>,
}

impl VectorSearch {
    pub fn new(query: Vec<f32>, limit: u32) -> Self {
        Self { query_vector: Some(query), limit: Some(limit), ..Self::default() }
    }
    /// A text query (hybrid unless a mode is set).
    pub fn text(query: &str, limit: u32) -> Self {
        Self { query: Some(query.to_owned()), limit: Some(limit), ..Self::default() }
    }
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_owned());
        self
    }
    pub fn with_filter(mut self, filter: Value) -> Self {
        self.filter = Some(filter);
        self
    }
    pub fn with_mode(mut self, mode: &str) -> Self {
        self.mode = Some(mode.to_owned());
        self
    }
    pub fn including(mut self, parts: &[&str]) -> Self {
        self.include = Some(parts.iter().map(|p| (*p).to_owned()).collect());
        self
    }
    pub fn with_mmr(mut self, lambda: f32, fetch_k: u32) -> Self {
        self.mmr = Some(Mmr { lambda: Some(lambda), fetch_k: Some(fetch_k) });
        self
    }
}

/// Where a lexical or hybrid hit's score came from.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct HybridScore {
    pub semantic: Option<f32>,
    pub lexical: Option<f32>,
    pub fused: f32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VectorHit {
    pub vector_id: String,
    /// Absent (0) when `include` leaves out `scores`.
    #[serde(default)]
    pub score: f32,
    #[serde(default)]
    pub score_breakdown: Option<HybridScore>,
    pub namespace: String,
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub vector_metadata: Value,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub vector_embedding: Option<Vec<f32>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VectorSearchResults {
    pub results: Vec<VectorHit>,
    pub count: usize,
    /// The mode that ranked the hits.
    #[serde(default)]
    pub mode: String,
    /// `index`, or `exact_fallback` when the server scanned PostgreSQL because its external
    /// vector engine was unreachable or behind.
    #[serde(default)]
    pub served_by: String,
}

/// Vectors by ids, or a filtered page of a namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GetVectors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
}

/// A vector as `get` answers it; parts not included are `None`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GotVector {
    pub vector_id: String,
    pub namespace: String,
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub vector_metadata: Option<Value>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub vector_embedding: Option<Vec<f32>>,
}

/// Which vectors to list.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VectorQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_vectors: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VectorNamespace {
    pub namespace: String,
    pub dimension: Option<u32>,
    pub metric: String,
    pub quantization: String,
    /// The embedding model that made the vectors, when recorded.
    #[serde(default)]
    pub embedding_model: Option<String>,
    pub vector_count: u64,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub indexed_vectors: Option<u64>,
    #[serde(default)]
    pub index_memory_bytes: Option<u64>,
    #[serde(default)]
    pub graph_pending_vectors: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewNamespace {
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeletedVectors {
    pub deleted: u64,
}

// --- memory -------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewMemory {
    pub agent_id: Uuid,
    pub session_id: Uuid,
    pub role: String,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewMemory {
    pub fn new(agent_id: Uuid, session_id: Uuid, role: &str, content: &str) -> Self {
        Self {
            agent_id,
            session_id,
            role: role.to_owned(),
            content: content.to_owned(),
            embedding: None,
            memory_metadata: None,
            importance: None,
            expires_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredMemories {
    pub memories: Vec<Memory>,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Memory {
    pub memory_id: Uuid,
    pub agent_id: Uuid,
    pub session_id: Uuid,
    pub role: String,
    pub content: String,
    pub memory_metadata: Value,
    pub importance: f32,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// In answers to a store: whether the content was longer than the model reads.
    #[serde(default)]
    pub embedding_truncated: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemoryQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemorySearch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_vector: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScoreBreakdown {
    pub similarity: f32,
    pub recency: f32,
    pub importance: f32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MemoryHit {
    #[serde(flatten)]
    pub memory: Memory,
    pub score: f32,
    pub score_breakdown: ScoreBreakdown,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MemorySearchResults {
    pub mode: String,
    pub results: Vec<MemoryHit>,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextQuery {
    pub agent_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContextWindow {
    pub memories: Vec<Memory>,
    pub total_tokens: usize,
    pub max_tokens: u32,
    pub tokenizer: String,
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GeneratedEmbeddings {
    pub embeddings: Vec<Vec<f32>>,
    pub model: String,
    pub dimensions: usize,
    /// Positions of the texts the model read only the beginning of.
    #[serde(default)]
    pub truncated: Vec<usize>,
}

/// A file's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    pub file_id: Uuid,
    pub file_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: Option<u64>,
    pub file_metadata: Value,
    pub sha256: Option<String>,
    /// `stored` or `registered` (metadata only).
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Options of a raw upload.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UploadOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_key: Option<String>,
    /// Hex SHA-256 the server must find, or it keeps nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// The seed's metadata-only registration.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RegisterFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_key: Option<String>,
    pub file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_metadata: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileUrl {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A downloaded body with the headers that describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileContent {
    /// 200, or 206 for a range.
    pub status: u16,
    pub content_type: Option<String>,
    pub content_range: Option<String>,
    pub etag: Option<String>,
    pub bytes: bytes::Bytes,
}

/// A file to upload as one `multipart/form-data` part.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
    pub file_key: Option<String>,
    pub file_metadata: Option<Value>,
}
