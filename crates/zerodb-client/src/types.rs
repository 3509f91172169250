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
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DatabaseStatus {
    pub project_id: Uuid,
    pub enabled: bool,
    pub config: Value,
    pub statistics: DatabaseStatistics,
    pub updated_at: DateTime<Utc>,
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
