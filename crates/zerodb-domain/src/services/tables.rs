//! Dynamic tables and their rows.

use crate::access::{AccessPolicy, Permission};
use crate::error::{ConflictKind, FieldViolation, ServiceError};
use crate::ids::{ProjectId, RowId, TableId};
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::projects::Project;
use crate::quotas::{QuotaPolicy, QuotaResource};
use crate::tables::{
    MAX_ROWS_PER_INSERT, NewRow, NewTable, Row, RowFilter, RowQuery, RowSort, Table, TableName,
    TableRepository, TableRepositoryError, TableSchema,
};
use serde_json::{Map, Value};
use std::sync::Arc;

const READ: Permission = Permission::Data(Area::Tables, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Tables, Operation::Write);

/// A page of rows, with the total count when it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPage {
    pub page: Page<Row>,
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsertedRows {
    pub rows: Vec<Row>,
}

pub struct TableService {
    tables: Arc<dyn TableRepository>,
    access: Arc<AccessPolicy>,
    quotas: Arc<QuotaPolicy>,
}

fn table_error(e: impl Into<TableRepositoryError>) -> ServiceError {
    match e.into() {
        TableRepositoryError::NameTaken => ServiceError::conflict(
            ConflictKind::TableExists,
            "a table with this name already exists",
        ),
        TableRepositoryError::TableLimitReached => ServiceError::conflict(
            ConflictKind::TableLimitExceeded,
            "the project has reached its max_tables limit",
        ),
        TableRepositoryError::RowLimitReached => ServiceError::conflict(
            ConflictKind::RowLimitExceeded,
            "the rows would exceed the table's max_rows_per_table limit",
        ),
        TableRepositoryError::Storage(e) => ServiceError::from_repo(e, "table"),
    }
}

impl TableService {
    pub fn new(
        tables: Arc<dyn TableRepository>,
        access: Arc<AccessPolicy>,
        quotas: Arc<QuotaPolicy>,
    ) -> Self {
        Self { tables, access, quotas }
    }

    async fn table(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        need: Permission,
    ) -> Result<(Project, Table), ServiceError> {
        let project = self.access.enabled_project(who, project_id, need).await?;
        let table = self.tables.get(project_id, name).await.map_err(table_error)?;
        Ok((project, table))
    }

    pub async fn create(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        schema: Value,
    ) -> Result<Table, ServiceError> {
        let project = self.access.enabled_project(who, project_id, WRITE).await?;
        let name = TableName::new(name);
        let schema = TableSchema::from_json(schema);
        let (name, schema) = match (name, schema) {
            (Ok(n), Ok(s)) => (n, s),
            (n, s) => return Err(merge_violations([n.err(), s.err()])),
        };
        let new = NewTable { id: TableId::new(), project_id, name, schema };
        // The project's own setting and the administrator's quota: the lower one binds, and
        // going past the quota is `quota_exceeded` rather than the setting's conflict.
        let own = u64::from(project.database_config.max_tables());
        let quota = self.quotas.effective(&project).max_tables.filter(|q| *q < own);
        let limit = quota.unwrap_or(own).min(u64::from(u32::MAX)) as u32;
        self.tables.create(new, limit).await.map_err(|e| match (e, quota) {
            (TableRepositoryError::TableLimitReached, Some(q)) => {
                crate::quotas::exceeded(QuotaResource::Tables, q, q)
            }
            (e, _) => table_error(e),
        })
    }

    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        page: PageRequest,
    ) -> Result<Page<Table>, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        page.keyset()?;
        let items = self.tables.list(project_id, &page).await?;
        Ok(Page::from_overfetch(items, page.limit, |t| Position::Keyset {
            t: t.created_at,
            id: t.id.as_uuid(),
        }))
    }

    pub async fn get(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
    ) -> Result<Table, ServiceError> {
        self.table(who, project_id, name, READ).await.map(|(_, t)| t)
    }

    pub async fn delete(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
    ) -> Result<(), ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        self.tables.delete(project_id, name).await.map_err(table_error)
    }

    /// Validates every row against the schema, then inserts all of them or none.
    pub async fn insert_rows(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        rows: Vec<Map<String, Value>>,
    ) -> Result<InsertedRows, ServiceError> {
        let (project, table) = self.table(who, project_id, name, WRITE).await?;
        if rows.is_empty() || rows.len() > MAX_ROWS_PER_INSERT {
            return Err(ServiceError::invalid(
                "rows",
                format!("must hold 1 to {MAX_ROWS_PER_INSERT} rows"),
            ));
        }
        let mut violations = Vec::new();
        let mut new_rows = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            match table.schema.validate_row(row, &format!("rows[{i}]")) {
                Ok(data) => new_rows.push(NewRow { id: RowId::new(), data }),
                Err(v) => violations.extend(v),
            }
        }
        if !violations.is_empty() {
            return Err(ServiceError::InvalidInput(violations));
        }
        let own = project.database_config.max_rows_per_table;
        let quota = self
            .quotas
            .effective(&project)
            .max_rows_per_table
            .filter(|q| own.is_none_or(|own| *q < own));
        let rows =
            self.tables.insert_rows(project_id, table.id, new_rows, quota.or(own)).await.map_err(
                |e| match (e, quota) {
                    (TableRepositoryError::RowLimitReached, Some(q)) => {
                        crate::quotas::exceeded(QuotaResource::RowsPerTable, q, table.row_count)
                    }
                    (e, _) => table_error(e),
                },
            )?;
        Ok(InsertedRows { rows })
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn query_rows(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        filter: Option<&Value>,
        sort: Option<&str>,
        page: PageRequest,
        count: bool,
    ) -> Result<RowPage, ServiceError> {
        let (_, table) = self.table(who, project_id, name, READ).await?;
        let filter = RowFilter::parse(filter, &table.schema);
        let sort = RowSort::parse(sort, &table.schema);
        let (filter, sort) = match (filter, sort) {
            (Ok(f), Ok(s)) => (f, s),
            (f, s) => return Err(merge_violations([f.err(), s.err()])),
        };
        let offset = match (&page.after, &sort) {
            (None, _) => 0,
            (Some(Position::Sequence { .. }), None) => 0,
            (Some(Position::Offset { o }), Some(_)) if *o >= 0 => *o,
            _ => {
                return Err(ServiceError::InvalidCursor("it belongs to another query".into()));
            }
        };
        let query = RowQuery { filter, sort, page, count };
        let batch = self.tables.query_rows(project_id, table.id, &query).await?;
        let sorted = query.sort.is_some();
        let next_offset = offset.saturating_add(i64::from(query.page.limit.get()));
        let page = Page::from_overfetch(batch.rows, query.page.limit, |row| {
            if sorted {
                // Only the last kept row's position is asked for: it closes the page.
                Position::Offset { o: next_offset }
            } else {
                Position::Sequence { s: row.seq }
            }
        });
        Ok(RowPage { page, total: batch.total })
    }

    /// Applies `set` to every row matching `filter`; returns how many rows changed.
    pub async fn update_rows(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        filter: Option<&Value>,
        set: &Map<String, Value>,
    ) -> Result<u64, ServiceError> {
        let (_, table) = self.table(who, project_id, name, WRITE).await?;
        let filter = RowFilter::parse(filter, &table.schema);
        let patch = table.schema.validate_patch(set);
        let (filter, patch) = match (filter, patch) {
            (Ok(f), Ok(p)) => (f, p),
            (f, p) => return Err(merge_violations([f.err(), p.err()])),
        };
        self.tables.update_rows(project_id, table.id, &filter, patch).await.map_err(table_error)
    }

    /// Sets column values on one row; `NotFound` when the table has no row of this id.
    pub async fn update_row(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        row_id: uuid::Uuid,
        set: &Map<String, Value>,
    ) -> Result<(), ServiceError> {
        let (_, table) = self.table(who, project_id, name, WRITE).await?;
        let patch = table.schema.validate_patch(set)?;
        let filter = RowFilter::row(row_id);
        match self.tables.update_rows(project_id, table.id, &filter, patch).await {
            Ok(0) => Err(ServiceError::not_found("row")),
            Ok(_) => Ok(()),
            Err(e) => Err(table_error(e)),
        }
    }

    /// Deletes one row; `NotFound` when the table has no row of this id.
    pub async fn delete_row(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        row_id: uuid::Uuid,
    ) -> Result<(), ServiceError> {
        let (_, table) = self.table(who, project_id, name, WRITE).await?;
        match self.tables.delete_rows(project_id, table.id, &RowFilter::row(row_id)).await {
            Ok(0) => Err(ServiceError::not_found("row")),
            Ok(_) => Ok(()),
            Err(e) => Err(table_error(e)),
        }
    }

    /// Deletes every row matching `filter`; an empty filter `{}` deletes all rows.
    pub async fn delete_rows(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        filter: Option<&Value>,
    ) -> Result<u64, ServiceError> {
        let (_, table) = self.table(who, project_id, name, WRITE).await?;
        let Some(filter) = filter else {
            return Err(ServiceError::invalid(
                "filter",
                "is required; pass {} to delete every row",
            ));
        };
        let filter = RowFilter::parse(Some(filter), &table.schema)?;
        self.tables.delete_rows(project_id, table.id, &filter).await.map_err(table_error)
    }
}

/// Combines the validation failures of several independent checks into one error, so a
/// client sees every problem at once.
fn merge_violations<const N: usize>(errors: [Option<ServiceError>; N]) -> ServiceError {
    let mut violations: Vec<FieldViolation> = Vec::new();
    for err in errors.into_iter().flatten() {
        match err {
            ServiceError::InvalidInput(v) => violations.extend(v),
            other => return other,
        }
    }
    ServiceError::InvalidInput(violations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::owned_project;
    use crate::tables::{MockTableRepository, RowBatch};
    use chrono::Utc;
    use serde_json::json;

    fn fixture(tables: MockTableRepository) -> (TableService, Principal, ProjectId) {
        let p = owned_project();
        (TableService::new(Arc::new(tables), p.access, p.quotas), p.owner, p.project_id)
    }

    fn table(project_id: ProjectId) -> Table {
        Table {
            id: TableId::new(),
            project_id,
            name: "t".into(),
            schema: TableSchema::from_json(
                json!({"columns": {"n": {"type": "integer", "required": true}}}),
            )
            .unwrap_or_else(|e| panic!("{e}")),
            row_count: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn invalid_rows_never_reach_storage() {
        let mut repo = MockTableRepository::new();
        repo.expect_get().returning(|p, _| Ok(table(p)));
        repo.expect_insert_rows().never();
        let (svc, who, pid) = fixture(repo);
        let rows = vec![json!({"n": 1}), json!({"n": "two"})]
            .into_iter()
            .filter_map(|v| v.as_object().cloned())
            .collect();
        match svc.insert_rows(&who, pid, "t", rows).await {
            Err(ServiceError::InvalidInput(v)) => assert_eq!(v[0].field, "rows[1].n"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(svc.insert_rows(&who, pid, "t", vec![]).await.is_err());
    }

    #[tokio::test]
    async fn cursor_kind_must_match_query() {
        let mut repo = MockTableRepository::new();
        repo.expect_get().returning(|p, _| Ok(table(p)));
        repo.expect_query_rows().returning(|_, _, _| Ok(RowBatch::default()));
        let (svc, who, pid) = fixture(repo);
        let page = PageRequest { after: Some(Position::Offset { o: 5 }), ..Default::default() };
        assert!(svc.query_rows(&who, pid, "t", None, None, page, false).await.is_err());
        let page = PageRequest { after: Some(Position::Offset { o: 5 }), ..Default::default() };
        assert!(svc.query_rows(&who, pid, "t", None, Some("-n"), page, false).await.is_ok());
    }

    #[tokio::test]
    async fn delete_needs_explicit_filter() {
        let mut repo = MockTableRepository::new();
        repo.expect_get().returning(|p, _| Ok(table(p)));
        repo.expect_delete_rows().never();
        let (svc, who, pid) = fixture(repo);
        assert!(matches!(
            svc.delete_rows(&who, pid, "t", None).await,
            Err(ServiceError::InvalidInput(_))
        ));
    }
}
