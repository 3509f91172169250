//! `PgProjectRepository`: `zerodb_projects` and the statistics of what a project owns.

use crate::counts::{Counts, counts_sql};
use crate::error::{map_diesel, map_pool, violated_unique};
use crate::pool::PgPool;
use crate::schema::{zerodb_events, zerodb_projects};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::database::{DatabaseConfig, DatabaseStatistics};
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::projects::{NewProject, Project, ProjectRepository, ProjectRepositoryError};
use zerodb_domain::{ProjectId, RepositoryError, UserId};

#[derive(Queryable, Selectable)]
#[diesel(table_name = zerodb_projects)]
pub(crate) struct ProjectRow {
    project_id: Uuid,
    user_id: Uuid,
    project_name: String,
    description: Option<String>,
    is_active: bool,
    database_enabled: bool,
    database_config: Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    quotas: Value,
}

impl ProjectRow {
    pub(crate) fn into_domain(self) -> Project {
        Project {
            id: ProjectId::from_uuid(self.project_id),
            owner_id: UserId::from_uuid(self.user_id),
            name: self.project_name,
            description: self.description,
            is_active: self.is_active,
            database_enabled: self.database_enabled,
            // Only validated configurations are ever written.
            database_config: serde_json::from_value(self.database_config).unwrap_or_default(),
            quotas: serde_json::from_value(self.quotas).unwrap_or_default(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = zerodb_projects)]
struct NewProjectRow<'a> {
    project_id: Uuid,
    user_id: Uuid,
    project_name: &'a str,
    description: Option<&'a str>,
}

/// How long a looked-up project is reused. Every request checks its project, so the cache
/// saves one query per request; changes made through this repository take effect at once,
/// changes made by another process within this time.
const CACHE_TTL: Duration = Duration::from_secs(1);
const CACHE_MAX: usize = 10_000;

pub struct PgProjectRepository {
    pool: PgPool,
    cache: Mutex<HashMap<ProjectId, (Instant, Project)>>,
}

impl PgProjectRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, cache: Mutex::new(HashMap::new()) }
    }

    fn cached(&self, id: ProjectId) -> Option<Project> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.get(&id).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, p)| p.clone())
    }

    fn remember(&self, project: &Project) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(project.id, (Instant::now(), project.clone()));
    }

    fn forget(&self, id: ProjectId) {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }
}

#[async_trait]
impl ProjectRepository for PgProjectRepository {
    async fn create(&self, project: NewProject) -> Result<Project, ProjectRepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        diesel::insert_into(zerodb_projects::table)
            .values(NewProjectRow {
                project_id: project.id.as_uuid(),
                user_id: project.owner_id.as_uuid(),
                project_name: project.name.as_str(),
                description: project.description.as_deref(),
            })
            .returning(ProjectRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(ProjectRow::into_domain)
            .map_err(|e| match violated_unique(&e) {
                Some(_) => ProjectRepositoryError::NameTaken,
                None => map_diesel(e).into(),
            })
    }

    async fn get(&self, id: ProjectId) -> Result<Project, RepositoryError> {
        if let Some(project) = self.cached(id) {
            return Ok(project);
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let project = zerodb_projects::table
            .find(id.as_uuid())
            .select(ProjectRow::as_select())
            .first(&mut conn)
            .await
            .map(ProjectRow::into_domain)
            .map_err(map_diesel)?;
        self.remember(&project);
        Ok(project)
    }

    async fn list_by_owner(
        &self,
        owner: UserId,
        page: &PageRequest,
    ) -> Result<Vec<Project>, RepositoryError> {
        use zerodb_projects::dsl as p;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let mut query = p::zerodb_projects
            .filter(p::user_id.eq(owner.as_uuid()))
            .select(ProjectRow::as_select())
            .order((p::created_at.asc(), p::project_id.asc()))
            .limit(i64::from(page.limit.get()) + 1)
            .into_boxed();
        if let Ok(Some((t, id))) = page.keyset() {
            query =
                query.filter(p::created_at.gt(t).or(p::created_at.eq(t).and(p::project_id.gt(id))));
        }
        let rows = query.load(&mut conn).await.map_err(map_diesel)?;
        Ok(rows.into_iter().map(ProjectRow::into_domain).collect())
    }

    async fn delete(&self, id: ProjectId) -> Result<(), RepositoryError> {
        self.forget(id);
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        // Every table owned by a project references it ON DELETE CASCADE, except the event
        // log (kept free of a per-row foreign key check): one transaction removes it all.
        let deleted = conn
            .transaction(async |conn| {
                diesel::delete(
                    zerodb_events::table.filter(zerodb_events::project_id.eq(id.as_uuid())),
                )
                .execute(conn)
                .await?;
                diesel::delete(zerodb_projects::table.find(id.as_uuid())).execute(conn).await
            })
            .await
            .map_err(map_diesel)?;
        if deleted == 0 { Err(RepositoryError::NotFound) } else { Ok(()) }
    }

    async fn enable_database(&self, id: ProjectId) -> Result<Project, RepositoryError> {
        self.forget(id);
        use zerodb_projects::dsl as p;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let project = diesel::update(p::zerodb_projects.find(id.as_uuid()))
            .set((p::database_enabled.eq(true), p::updated_at.eq(diesel::dsl::now)))
            .returning(ProjectRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(ProjectRow::into_domain)
            .map_err(map_diesel)?;
        // Another request may have cached the old row meanwhile: replace it.
        self.remember(&project);
        Ok(project)
    }

    async fn update_config(
        &self,
        id: ProjectId,
        config: DatabaseConfig,
    ) -> Result<Project, RepositoryError> {
        use zerodb_projects::dsl as p;
        self.forget(id);
        let config =
            serde_json::to_value(&config).map_err(|e| RepositoryError::Internal(Cause::new(e)))?;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let project = diesel::update(p::zerodb_projects.find(id.as_uuid()))
            .set((p::database_config.eq(config), p::updated_at.eq(diesel::dsl::now)))
            .returning(ProjectRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(ProjectRow::into_domain)
            .map_err(map_diesel)?;
        // Another request may have cached the old row meanwhile: replace it.
        self.remember(&project);
        Ok(project)
    }

    async fn set_quotas(
        &self,
        id: ProjectId,
        quotas: zerodb_domain::quotas::Quotas,
    ) -> Result<Project, RepositoryError> {
        use zerodb_projects::dsl as p;
        self.forget(id);
        let quotas =
            serde_json::to_value(quotas).map_err(|e| RepositoryError::Internal(Cause::new(e)))?;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let project = diesel::update(p::zerodb_projects.find(id.as_uuid()))
            .set((p::quotas.eq(quotas), p::updated_at.eq(diesel::dsl::now)))
            .returning(ProjectRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(ProjectRow::into_domain)
            .map_err(map_diesel)?;
        self.remember(&project);
        Ok(project)
    }

    async fn statistics(&self, id: ProjectId) -> Result<DatabaseStatistics, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let counts: Counts = diesel::sql_query(counts_sql("project_id = $1"))
            .bind::<diesel::sql_types::Uuid, _>(id.as_uuid())
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(counts.into())
    }
}
