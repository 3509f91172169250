//! `PgTableRepository`: table definitions in `zerodb_tables`, rows as JSONB in
//! `zerodb_table_rows`.

use crate::error::{TxError, map_diesel, map_pool, violated_unique};
use crate::pool::PgPool;
use crate::schema::{zerodb_projects, zerodb_table_rows, zerodb_tables};
use crate::sql_filter::{Param, SqlBuilder};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::{Map, Value};
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::pagination::{PageRequest, Position};
use zerodb_domain::tables::{
    NewRow, NewTable, Row, RowBatch, RowFilter, RowQuery, Table, TableRepository,
    TableRepositoryError, TableSchema,
};
use zerodb_domain::{ProjectId, RepositoryError, RowId, TableId};

#[derive(Queryable, Selectable)]
#[diesel(table_name = zerodb_tables)]
struct TableRow {
    table_id: Uuid,
    project_id: Uuid,
    table_name: String,
    schema_definition: Value,
    row_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TableRow {
    fn into_domain(self) -> Result<Table, RepositoryError> {
        let schema = TableSchema::from_json(self.schema_definition).map_err(|e| {
            RepositoryError::Internal(Cause::msg(format!("stored schema is invalid: {e}")))
        })?;
        Ok(Table {
            id: TableId::from_uuid(self.table_id),
            project_id: ProjectId::from_uuid(self.project_id),
            name: self.table_name,
            schema,
            row_count: u64::try_from(self.row_count).unwrap_or(0),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = zerodb_tables)]
struct NewTableRow<'a> {
    table_id: Uuid,
    project_id: Uuid,
    table_name: &'a str,
    schema_definition: Value,
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = zerodb_table_rows)]
struct DataRow {
    #[diesel(sql_type = BigInt)]
    row_seq: i64,
    #[diesel(sql_type = SqlUuid)]
    row_id: Uuid,
    #[diesel(sql_type = Jsonb)]
    data: Value,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
}

impl DataRow {
    fn into_domain(self) -> Row {
        Row {
            id: RowId::from_uuid(self.row_id),
            seq: self.row_seq,
            data: match self.data {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = zerodb_table_rows)]
struct NewDataRow {
    row_id: Uuid,
    table_id: Uuid,
    project_id: Uuid,
    data: Value,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

const ROW_COLUMNS: &str = "row_seq, row_id, data, created_at, updated_at";

pub struct PgTableRepository {
    pool: PgPool,
}

impl PgTableRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// `FROM zerodb_table_rows WHERE` scoped to one table of one project, plus the filter.
fn scoped(
    select: &str,
    project_id: ProjectId,
    table_id: TableId,
    filter: &RowFilter,
) -> SqlBuilder {
    let mut b = SqlBuilder::new(select);
    let table = b.param(Param::Uuid(table_id.as_uuid()));
    let project = b.param(Param::Uuid(project_id.as_uuid()));
    b.push(&format!(" WHERE table_id = {table} AND project_id = {project}"));
    b.push_filter(filter);
    b
}

#[async_trait]
impl TableRepository for PgTableRepository {
    async fn create(
        &self,
        table: NewTable,
        max_tables: u32,
    ) -> Result<Table, TableRepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let project = table.project_id.as_uuid();
        let result = conn
            .transaction(async |conn| {
                // Lock the project row so concurrent creates count each other.
                zerodb_projects::table
                    .find(project)
                    .select(zerodb_projects::project_id)
                    .for_update()
                    .first::<Uuid>(conn)
                    .await?;
                let existing: i64 = zerodb_tables::table
                    .filter(zerodb_tables::project_id.eq(project))
                    .count()
                    .get_result(conn)
                    .await?;
                if existing >= i64::from(max_tables) {
                    return Err(TxError(TableRepositoryError::TableLimitReached));
                }
                let row: TableRow = diesel::insert_into(zerodb_tables::table)
                    .values(NewTableRow {
                        table_id: table.id.as_uuid(),
                        project_id: project,
                        table_name: table.name.as_str(),
                        schema_definition: table.schema.to_json(),
                    })
                    .returning(TableRow::as_returning())
                    .get_result(conn)
                    .await
                    .map_err(|e| match violated_unique(&e) {
                        Some(_) => TxError(TableRepositoryError::NameTaken),
                        None => e.into(),
                    })?;
                Ok(row)
            })
            .await
            .map_err(|e: TxError<TableRepositoryError>| e.0)?;
        Ok(result.into_domain()?)
    }

    async fn list(
        &self,
        project_id: ProjectId,
        page: &PageRequest,
    ) -> Result<Vec<Table>, RepositoryError> {
        use zerodb_tables::dsl as t;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let mut query = t::zerodb_tables
            .filter(t::project_id.eq(project_id.as_uuid()))
            .select(TableRow::as_select())
            .order((t::created_at.asc(), t::table_id.asc()))
            .limit(i64::from(page.limit.get()) + 1)
            .into_boxed();
        if let Ok(Some((ts, id))) = page.keyset() {
            query =
                query.filter(t::created_at.gt(ts).or(t::created_at.eq(ts).and(t::table_id.gt(id))));
        }
        let rows: Vec<TableRow> = query.load(&mut conn).await.map_err(map_diesel)?;
        rows.into_iter().map(TableRow::into_domain).collect()
    }

    async fn get(&self, project_id: ProjectId, name: &str) -> Result<Table, RepositoryError> {
        use zerodb_tables::dsl as t;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: TableRow = t::zerodb_tables
            .filter(t::project_id.eq(project_id.as_uuid()))
            .filter(t::table_name.eq(name))
            .select(TableRow::as_select())
            .first(&mut conn)
            .await
            .map_err(map_diesel)?;
        row.into_domain()
    }

    async fn delete(&self, project_id: ProjectId, name: &str) -> Result<(), RepositoryError> {
        use zerodb_tables::dsl as t;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let deleted = diesel::delete(
            t::zerodb_tables
                .filter(t::project_id.eq(project_id.as_uuid()))
                .filter(t::table_name.eq(name)),
        )
        .execute(&mut conn)
        .await
        .map_err(map_diesel)?;
        if deleted == 0 { Err(RepositoryError::NotFound) } else { Ok(()) }
    }

    async fn insert_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        rows: Vec<NewRow>,
        max_rows: Option<u64>,
    ) -> Result<Vec<Row>, TableRepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let table = table_id.as_uuid();
        let project = project_id.as_uuid();
        let values: Vec<NewDataRow> = rows
            .into_iter()
            .map(|r| NewDataRow {
                row_id: r.id.as_uuid(),
                table_id: table,
                project_id: project,
                data: Value::Object(r.data),
            })
            .collect();
        let added = i64::try_from(values.len()).unwrap_or(i64::MAX);
        let inserted = conn
            .transaction(async |conn| {
                // The lock serialises writers of this table so the row limit holds exactly.
                let current: i64 = zerodb_tables::table
                    .filter(zerodb_tables::table_id.eq(table))
                    .filter(zerodb_tables::project_id.eq(project))
                    .select(zerodb_tables::row_count)
                    .for_update()
                    .first(conn)
                    .await?;
                if let Some(max) = max_rows
                    && u64::try_from(current.saturating_add(added)).unwrap_or(u64::MAX) > max
                {
                    return Err(TxError(TableRepositoryError::RowLimitReached));
                }
                let mut inserted: Vec<DataRow> = diesel::insert_into(zerodb_table_rows::table)
                    .values(&values)
                    .returning(DataRow::as_returning())
                    .get_results(conn)
                    .await?;
                diesel::update(zerodb_tables::table.find(table))
                    .set((
                        zerodb_tables::row_count.eq(zerodb_tables::row_count + added),
                        zerodb_tables::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                inserted.sort_by_key(|r| r.row_seq);
                Ok(inserted)
            })
            .await
            .map_err(|e: TxError<TableRepositoryError>| e.0)?;
        Ok(inserted.into_iter().map(DataRow::into_domain).collect())
    }

    async fn query_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        query: &RowQuery,
    ) -> Result<RowBatch, RepositoryError> {
        let mut b = scoped(
            &format!("SELECT {ROW_COLUMNS} FROM zerodb_table_rows"),
            project_id,
            table_id,
            &query.filter,
        );
        let mut offset = 0;
        match &query.page.after {
            Some(Position::Sequence { s }) if query.sort.is_none() => {
                let p = b.param(Param::BigInt(*s));
                b.push(&format!(" AND row_seq > {p}"));
            }
            Some(Position::Offset { o }) => offset = (*o).max(0),
            _ => {}
        }
        b.push_order(query.sort.as_ref());
        let limit = b.param(Param::BigInt(i64::from(query.page.limit.get()) + 1));
        let off = b.param(Param::BigInt(offset));
        b.push(&format!(" LIMIT {limit} OFFSET {off}"));

        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<DataRow> = b.into_query().load(&mut conn).await.map_err(map_diesel)?;
        let total = if query.count {
            let count: Count = scoped(
                "SELECT count(*) AS count FROM zerodb_table_rows",
                project_id,
                table_id,
                &query.filter,
            )
            .into_query()
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
            Some(u64::try_from(count.count).unwrap_or(0))
        } else {
            None
        };
        Ok(RowBatch { rows: rows.into_iter().map(DataRow::into_domain).collect(), total })
    }

    async fn update_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        filter: &RowFilter,
        patch: Map<String, Value>,
    ) -> Result<u64, RepositoryError> {
        let mut b = SqlBuilder::new("UPDATE zerodb_table_rows SET data = data || ");
        let p = b.param(Param::Json(Value::Object(patch)));
        b.push(&format!("{p}, updated_at = now()"));
        let table = b.param(Param::Uuid(table_id.as_uuid()));
        let project = b.param(Param::Uuid(project_id.as_uuid()));
        b.push(&format!(" WHERE table_id = {table} AND project_id = {project}"));
        b.push_filter(filter);
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let changed = b.into_query().execute(&mut conn).await.map_err(map_diesel)?;
        Ok(changed as u64)
    }

    async fn delete_rows(
        &self,
        project_id: ProjectId,
        table_id: TableId,
        filter: &RowFilter,
    ) -> Result<u64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let table = table_id.as_uuid();
        let deleted = conn
            .transaction(async |conn| {
                let query = scoped("DELETE FROM zerodb_table_rows", project_id, table_id, filter)
                    .into_query();
                let deleted = query.execute(conn).await?;
                let removed = i64::try_from(deleted).unwrap_or(i64::MAX);
                diesel::update(zerodb_tables::table.find(table))
                    .set((
                        zerodb_tables::row_count.eq(zerodb_tables::row_count - removed),
                        zerodb_tables::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                Ok::<_, TxError>(deleted as u64)
            })
            .await
            .map_err(|e| e.0)?;
        Ok(deleted)
    }
}
