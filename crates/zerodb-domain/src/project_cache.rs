//! `CachedProjects`: a `ProjectRepository` that remembers projects it read for a moment.
//!
//! Every data request checks its project (owner, enabled database, quotas), and without a
//! cache that is a database round trip in front of work that is otherwise answered from
//! memory (a vector search). Writes through this process replace or drop the entry at
//! once, so this process never acts on a state older than its own changes; a change made
//! by another process (a deletion, a disabled database, new quotas) is seen here within
//! the time to live.

use crate::database::{DatabaseConfig, DatabaseStatistics};
use crate::error::RepositoryError;
use crate::ids::{ProjectId, UserId};
use crate::pagination::PageRequest;
use crate::projects::{NewProject, Project, ProjectRepository, ProjectRepositoryError};
use crate::quotas::Quotas;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// More entries than this and the cache starts over, so it stays small whatever the
/// number of projects.
const MAX_ENTRIES: usize = 10_000;

pub struct CachedProjects {
    inner: Arc<dyn ProjectRepository>,
    ttl: Duration,
    entries: RwLock<HashMap<ProjectId, (Project, Instant)>>,
}

impl CachedProjects {
    pub fn new(inner: Arc<dyn ProjectRepository>, ttl: Duration) -> Self {
        Self { inner, ttl, entries: RwLock::default() }
    }

    fn remember(&self, project: &Project) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(project.id, (project.clone(), Instant::now()));
    }

    fn forget(&self, id: ProjectId) {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    fn remembered(&self, id: ProjectId) -> Option<Project> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let (project, at) = entries.get(&id)?;
        (at.elapsed() < self.ttl).then(|| project.clone())
    }

    fn updated(
        &self,
        result: Result<Project, RepositoryError>,
        id: ProjectId,
    ) -> Result<Project, RepositoryError> {
        match &result {
            Ok(project) => self.remember(project),
            Err(_) => self.forget(id),
        }
        result
    }
}

#[async_trait]
impl ProjectRepository for CachedProjects {
    async fn create(&self, project: NewProject) -> Result<Project, ProjectRepositoryError> {
        self.inner.create(project).await
    }

    async fn get(&self, id: ProjectId) -> Result<Project, RepositoryError> {
        if let Some(project) = self.remembered(id) {
            return Ok(project);
        }
        let project = self.inner.get(id).await?;
        self.remember(&project);
        Ok(project)
    }

    async fn list_by_owner(
        &self,
        owner: UserId,
        page: &PageRequest,
    ) -> Result<Vec<Project>, RepositoryError> {
        self.inner.list_by_owner(owner, page).await
    }

    async fn delete(&self, id: ProjectId) -> Result<(), RepositoryError> {
        // Forgotten before and after: a request racing the deletion must not re-cache it.
        self.forget(id);
        let result = self.inner.delete(id).await;
        self.forget(id);
        result
    }

    async fn enable_database(&self, id: ProjectId) -> Result<Project, RepositoryError> {
        let result = self.inner.enable_database(id).await;
        self.updated(result, id)
    }

    async fn update_config(
        &self,
        id: ProjectId,
        config: DatabaseConfig,
    ) -> Result<Project, RepositoryError> {
        let result = self.inner.update_config(id, config).await;
        self.updated(result, id)
    }

    async fn set_quotas(&self, id: ProjectId, quotas: Quotas) -> Result<Project, RepositoryError> {
        let result = self.inner.set_quotas(id, quotas).await;
        self.updated(result, id)
    }

    async fn statistics(&self, id: ProjectId) -> Result<DatabaseStatistics, RepositoryError> {
        self.inner.statistics(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projects::MockProjectRepository;
    use crate::services::test_support::project;

    fn owned_project() -> Project {
        project(UserId::new())
    }

    #[tokio::test]
    async fn reads_are_cached_and_local_writes_replace_or_drop_them() {
        let project = owned_project();
        let id = project.id;
        let mut inner = MockProjectRepository::new();
        let stored = project.clone();
        inner.expect_get().times(2).returning(move |_| Ok(stored.clone()));
        let mut enabled = project.clone();
        enabled.database_enabled = !project.database_enabled;
        let answer = enabled.clone();
        inner.expect_enable_database().times(1).returning(move |_| Ok(answer.clone()));
        inner.expect_delete().times(1).returning(|_| Ok(()));
        let cache = CachedProjects::new(Arc::new(inner), Duration::from_secs(60));
        assert_eq!(cache.get(id).await, Ok(project.clone()));
        assert_eq!(cache.get(id).await, Ok(project.clone()), "second read from the cache");
        assert_eq!(cache.enable_database(id).await, Ok(enabled.clone()));
        assert_eq!(cache.get(id).await, Ok(enabled), "the write replaced the entry");
        assert_eq!(cache.delete(id).await, Ok(()));
        assert_eq!(cache.get(id).await, Ok(project), "deleted: read again");
    }

    #[tokio::test]
    async fn entries_expire() {
        let project = owned_project();
        let id = project.id;
        let mut inner = MockProjectRepository::new();
        inner.expect_get().times(2).returning(move |_| Ok(project.clone()));
        let cache = CachedProjects::new(Arc::new(inner), Duration::from_millis(20));
        assert!(cache.get(id).await.is_ok());
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(cache.get(id).await.is_ok());
    }
}
