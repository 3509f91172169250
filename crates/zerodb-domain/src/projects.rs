//! Projects: the unit of tenancy. Everything else belongs to exactly one project.

use crate::database::{DatabaseConfig, DatabaseStatistics};
use crate::error::{RepositoryError, ServiceError};
use crate::ids::{ProjectId, UserId};
use crate::pagination::PageRequest;
use crate::validation::has_control_chars;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A project name: 1..=100 characters, no control characters, unique per owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn new(raw: &str) -> Result<Self, ServiceError> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::invalid("project_name", "must be 1 to 100 characters"));
        }
        if has_control_chars(name) {
            return Err(ServiceError::invalid(
                "project_name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional free-text description, at most 2000 characters.
pub fn validate_description(raw: Option<String>) -> Result<Option<String>, ServiceError> {
    match raw {
        Some(d) if d.chars().count() > 2000 => {
            Err(ServiceError::invalid("description", "must be at most 2000 characters"))
        }
        Some(d) if d.contains('\0') => {
            Err(ServiceError::invalid("description", "must not contain NUL characters"))
        }
        other => Ok(other),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub owner_id: UserId,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub database_enabled: bool,
    pub database_config: DatabaseConfig,
    /// Limits an administrator set for this project, over the server's defaults.
    pub quotas: crate::quotas::Quotas,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    pub id: ProjectId,
    pub owner_id: UserId,
    pub name: ProjectName,
    pub description: Option<String>,
}

/// How storing a new project fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectRepositoryError {
    #[error("the owner already has a project with this name")]
    NameTaken,
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Storage of projects and their database settings.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProjectRepository: Send + Sync + 'static {
    /// MUST return `NameTaken` when the owner already has a project with this name.
    async fn create(&self, project: NewProject) -> Result<Project, ProjectRepositoryError>;
    /// MUST return `NotFound` when no project has this id.
    async fn get(&self, id: ProjectId) -> Result<Project, RepositoryError>;
    /// The owner's projects in (created_at, id) order, at most `page.limit + 1` of them so
    /// the caller can tell whether another page exists.
    async fn list_by_owner(
        &self,
        owner: UserId,
        page: &PageRequest,
    ) -> Result<Vec<Project>, RepositoryError>;
    /// Deletes the project and everything it owns in one transaction.
    /// MUST return `NotFound` when no project has this id.
    async fn delete(&self, id: ProjectId) -> Result<(), RepositoryError>;
    /// Sets `database_enabled`; enabling twice is not an error. `NotFound` as for `get`.
    async fn enable_database(&self, id: ProjectId) -> Result<Project, RepositoryError>;
    /// Replaces the database configuration. `NotFound` as for `get`.
    async fn update_config(
        &self,
        id: ProjectId,
        config: DatabaseConfig,
    ) -> Result<Project, RepositoryError>;
    /// Replaces the project's quota overrides. `NotFound` as for `get`.
    async fn set_quotas(
        &self,
        id: ProjectId,
        quotas: crate::quotas::Quotas,
    ) -> Result<Project, RepositoryError>;
    /// Counts of what the project stores.
    async fn statistics(&self, id: ProjectId) -> Result<DatabaseStatistics, RepositoryError>;
}
