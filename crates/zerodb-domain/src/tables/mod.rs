//! Dynamic tables: a JSON schema plus rows stored as JSONB, validated on every write.

mod filter;
mod schema;

pub use filter::{Condition, FilterOp, MAX_IN_VALUES, RowFilter, RowSort};
pub use schema::{ColumnDef, ColumnType, MAX_COLUMNS, TableSchema};

use crate::error::{RepositoryError, ServiceError};
use crate::ids::{ProjectId, RowId, TableId};
use crate::pagination::PageRequest;
use crate::validation::is_identifier;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Most rows one insert request may carry.
pub const MAX_ROWS_PER_INSERT: usize = 1000;

/// A table name: an identifier of letters, digits and `_`, at most 63 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(String);

impl TableName {
    pub fn new(raw: &str) -> Result<Self, ServiceError> {
        if is_identifier(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ServiceError::invalid(
                "table_name",
                "letters, digits and _, starting with a letter or _, at most 63 characters",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub id: TableId,
    pub project_id: ProjectId,
    pub name: String,
    pub schema: TableSchema,
    pub row_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTable {
    pub id: TableId,
    pub project_id: ProjectId,
    pub name: TableName,
    pub schema: TableSchema,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: RowId,
    /// Insertion order within the project; the default sort and the cursor key.
    pub seq: i64,
    pub data: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    pub id: RowId,
    pub data: Map<String, Value>,
}

/// A validated row query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowQuery {
    pub filter: RowFilter,
    pub sort: Option<RowSort>,
    pub page: PageRequest,
    /// Also count every matching row (costs a second scan).
    pub count: bool,
}

/// What a row query returns: up to `limit + 1` rows, and the total when asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowBatch {
    pub rows: Vec<Row>,
    pub total: Option<u64>,
}

/// How creating a table or inserting rows fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableRepositoryError {
    #[error("the project already has a table with this name")]
    NameTaken,
    #[error("the project has as many tables as it may")]
    TableLimitReached,
    #[error("the rows would take the table past its row limit")]
    RowLimitReached,
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Storage of tables and their rows. Every method is scoped to `project_id`: a table of
/// another project is `NotFound`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TableRepository: Send + Sync + 'static {
    /// Creates a table unless the project already has `max_tables` of them.
    /// MUST return `NameTaken` when the name is taken and `TableLimitReached` when the
    /// project is full.
    async fn create(&self, table: NewTable, max_tables: u32)
    -> Result<Table, TableRepositoryError>;
    /// Tables in (created_at, id) order, at most `page.limit + 1`.
    async fn list(
        &self,
        project_id: ProjectId,
        page: &PageRequest,
    ) -> Result<Vec<Table>, RepositoryError>;
    /// MUST return `NotFound` when the project has no table of this name.
    async fn get(&self, project_id: ProjectId, name: &str) -> Result<Table, RepositoryError>;
    /// Drops the table and its rows. `NotFound` as for `get`.
    async fn delete(&self, project_id: ProjectId, name: &str) -> Result<(), RepositoryError>;
    /// Inserts all rows or none. MUST return `RowLimitReached` when the rows would take the
    /// table past `max_rows`, and `Storage(NotFound)` if the table is gone.
    async fn insert_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        rows: Vec<NewRow>,
        max_rows: Option<u64>,
    ) -> Result<Vec<Row>, TableRepositoryError>;
    async fn query_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        query: &RowQuery,
    ) -> Result<RowBatch, RepositoryError>;
    /// Merges `patch` into every matching row; returns how many changed.
    async fn update_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        filter: &RowFilter,
        patch: Map<String, Value>,
    ) -> Result<u64, RepositoryError>;
    /// Deletes every matching row; returns how many.
    async fn delete_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        filter: &RowFilter,
    ) -> Result<u64, RepositoryError>;
}
