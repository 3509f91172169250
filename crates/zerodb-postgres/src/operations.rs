//! `PgAdminRepository` and `PgUsageRepository`: the operator's views and usage counters.

use crate::counts::{Counts, counts_sql};
use crate::error::{TxError, map_diesel, map_pool};
use crate::pool::PgPool;
use crate::projects::ProjectRow;
use crate::schema::{zerodb_projects, zerodb_usage_daily};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;
use zerodb_domain::admin::{AdminProjectFilter, AdminRepository, ProjectDetails, SystemTotals};
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::projects::Project;
use zerodb_domain::usage::{UsageCount, UsageQuery, UsageRepository};
use zerodb_domain::{ProjectId, RepositoryError};

pub struct PgAdminRepository {
    pool: PgPool,
}

impl PgAdminRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl AdminRepository for PgAdminRepository {
    async fn list_projects(
        &self,
        filter: &AdminProjectFilter,
        page: &PageRequest,
    ) -> Result<Vec<Project>, RepositoryError> {
        use zerodb_projects::dsl as p;
        let mut query = p::zerodb_projects
            .select(ProjectRow::as_select())
            .order((p::created_at.asc(), p::project_id.asc()))
            .limit(i64::from(page.limit.get()) + 1)
            .into_boxed();
        if let Some(owner) = filter.owner {
            query = query.filter(p::user_id.eq(owner.as_uuid()));
        }
        if let Some(active) = filter.active {
            query = query.filter(p::is_active.eq(active));
        }
        if let Ok(Some((t, id))) = page.keyset() {
            query =
                query.filter(p::created_at.gt(t).or(p::created_at.eq(t).and(p::project_id.gt(id))));
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<ProjectRow> = query.load(&mut conn).await.map_err(map_diesel)?;
        Ok(rows.into_iter().map(ProjectRow::into_domain).collect())
    }

    async fn project_details(&self, id: ProjectId) -> Result<ProjectDetails, RepositoryError> {
        #[derive(QueryableByName)]
        struct Extra {
            #[diesel(sql_type = BigInt)]
            storage_bytes: i64,
            #[diesel(sql_type = Nullable<Timestamptz>)]
            last_activity: Option<DateTime<Utc>>,
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let project = zerodb_projects::table
            .find(id.as_uuid())
            .select(ProjectRow::as_select())
            .first(&mut conn)
            .await
            .map_err(map_diesel)?
            .into_domain();
        let counts: Counts = diesel::sql_query(counts_sql("project_id = $1"))
            .bind::<SqlUuid, _>(id.as_uuid())
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        let extra: Extra = diesel::sql_query(
            "SELECT ((SELECT coalesce(sum(pg_column_size(r.data)), 0) FROM zerodb_table_rows r WHERE project_id = $1) \
                   + (SELECT coalesce(sum(pg_column_size(d.*)), 0) FROM zerodb_rlhf_datasets d WHERE project_id = $1) \
                   + (SELECT coalesce(sum(pg_column_size(l.*)), 0) FROM zerodb_agent_logs l WHERE project_id = $1) \
                   + (SELECT coalesce(sum(pg_column_size(t.schema_definition)), 0) FROM zerodb_tables t WHERE project_id = $1) \
                    )::bigint AS storage_bytes, \
                    GREATEST((SELECT updated_at FROM zerodb_projects WHERE project_id = $1), \
                             (SELECT max(updated_at) FROM zerodb_tables WHERE project_id = $1), \
                             (SELECT max(last_used_at) FROM zerodb_api_keys WHERE project_id = $1), \
                             (SELECT max(created_at) FROM zerodb_rlhf_datasets WHERE project_id = $1), \
                             (SELECT max(created_at) FROM zerodb_agent_logs WHERE project_id = $1)) AS last_activity",
        )
        .bind::<SqlUuid, _>(id.as_uuid())
        .get_result(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(ProjectDetails {
            project,
            counts: counts.into(),
            storage_bytes: u64::try_from(extra.storage_bytes).unwrap_or(0),
            last_activity: extra.last_activity,
        })
    }

    async fn system_totals(&self) -> Result<SystemTotals, RepositoryError> {
        #[derive(QueryableByName)]
        struct Totals {
            #[diesel(sql_type = BigInt)]
            users: i64,
            #[diesel(sql_type = BigInt)]
            projects: i64,
            #[diesel(sql_type = BigInt)]
            database_bytes: i64,
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let counts: Counts = diesel::sql_query(counts_sql("true"))
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        let totals: Totals = diesel::sql_query(
            "SELECT (SELECT count(*) FROM users) AS users, \
                    (SELECT count(*) FROM zerodb_projects) AS projects, \
                    pg_database_size(current_database()) AS database_bytes",
        )
        .get_result(&mut conn)
        .await
        .map_err(map_diesel)?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(SystemTotals {
            users: n(totals.users),
            projects: n(totals.projects),
            counts: counts.into(),
            database_bytes: n(totals.database_bytes),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = zerodb_usage_daily)]
struct UsageRow {
    project_id: Uuid,
    day: NaiveDate,
    area: String,
    requests: i64,
}

pub struct PgUsageRepository {
    pool: PgPool,
}

impl PgUsageRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl UsageRepository for PgUsageRepository {
    async fn add(&self, counts: Vec<UsageCount>) -> Result<(), RepositoryError> {
        use zerodb_usage_daily::dsl as u;
        let rows: Vec<UsageRow> = counts
            .into_iter()
            .map(|c| UsageRow {
                project_id: c.project_id.as_uuid(),
                day: c.day,
                area: c.area,
                requests: i64::try_from(c.requests).unwrap_or(i64::MAX),
            })
            .collect();
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        conn.transaction(async |conn| {
            // Bounded statements: PostgreSQL allows at most 65535 parameters in one.
            for chunk in rows.chunks(5000) {
                diesel::insert_into(u::zerodb_usage_daily)
                    .values(chunk)
                    .on_conflict((u::project_id, u::day, u::area))
                    .do_update()
                    .set(u::requests.eq(u::requests + excluded(u::requests)))
                    .execute(conn)
                    .await?;
            }
            Ok::<_, TxError>(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn query(&self, query: &UsageQuery) -> Result<Vec<UsageCount>, RepositoryError> {
        use zerodb_usage_daily::dsl as u;
        let mut q = u::zerodb_usage_daily
            .filter(u::day.ge(query.from))
            .filter(u::day.le(query.to))
            .select(UsageRow::as_select())
            .order((u::day.asc(), u::project_id.asc(), u::area.asc()))
            .into_boxed();
        if let Some(project) = query.project_id {
            q = q.filter(u::project_id.eq(project.as_uuid()));
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<UsageRow> = q.load(&mut conn).await.map_err(map_diesel)?;
        Ok(rows
            .into_iter()
            .map(|r| UsageCount {
                project_id: ProjectId::from_uuid(r.project_id),
                day: r.day,
                area: r.area,
                requests: u64::try_from(r.requests).unwrap_or(0),
            })
            .collect())
    }
}
