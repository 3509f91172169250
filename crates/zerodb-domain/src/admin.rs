//! The operator's view: every project, per-area counts, system totals.

use crate::database::DatabaseStatistics;
use crate::error::RepositoryError;
use crate::ids::{ProjectId, UserId};
use crate::pagination::PageRequest;
use crate::projects::Project;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdminProjectFilter {
    pub owner: Option<UserId>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectDetails {
    pub project: Project,
    pub counts: DatabaseStatistics,
    /// Bytes of the project's stored values (JSON documents and texts), as PostgreSQL
    /// stores them (compressed where it compresses).
    pub storage_bytes: u64,
    pub last_activity: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemTotals {
    pub users: u64,
    pub projects: u64,
    pub counts: DatabaseStatistics,
    pub database_bytes: u64,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AdminRepository: Send + Sync + 'static {
    /// Every owner's projects in (created_at, id) order, at most `page.limit + 1`.
    async fn list_projects(
        &self,
        filter: &AdminProjectFilter,
        page: &PageRequest,
    ) -> Result<Vec<Project>, RepositoryError>;
    /// MUST return `NotFound` when no project has this id.
    async fn project_details(&self, id: ProjectId) -> Result<ProjectDetails, RepositoryError>;
    async fn system_totals(&self) -> Result<SystemTotals, RepositoryError>;
}
