//! Per-project quotas: server-wide defaults that an administrator can override per project,
//! checked before every write that would grow a project.
//!
//! Each check reads the current usage and refuses a write that would go past the limit, so
//! nothing is partly written. Two writers racing at the limit may overshoot it by at most
//! their batches; tables and rows are checked inside the inserting transaction and are exact.

use crate::error::{RepositoryError, ServiceError};
use crate::ids::{ProjectId, UserId};
use crate::projects::Project;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Limits on what one project may hold; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_vectors: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_memories: Option<u64>,
    /// Events kept in the project's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_events: Option<u64>,
    /// Bytes of stored file content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tables: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows_per_table: Option<u64>,
}

impl Quotas {
    /// These quotas with each limit that `overrides` sets taking precedence.
    pub fn overridden_by(self, overrides: Quotas) -> Quotas {
        Quotas {
            max_vectors: overrides.max_vectors.or(self.max_vectors),
            max_memories: overrides.max_memories.or(self.max_memories),
            max_events: overrides.max_events.or(self.max_events),
            max_file_bytes: overrides.max_file_bytes.or(self.max_file_bytes),
            max_tables: overrides.max_tables.or(self.max_tables),
            max_rows_per_table: overrides.max_rows_per_table.or(self.max_rows_per_table),
        }
    }
}

/// What a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaResource {
    Vectors,
    Memories,
    Events,
    FileBytes,
    Tables,
    RowsPerTable,
    ProjectsPerUser,
}

impl QuotaResource {
    /// The quota's name, as in configuration and in `details.quota` of `quota_exceeded`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Vectors => "max_vectors",
            Self::Memories => "max_memories",
            Self::Events => "max_events",
            Self::FileBytes => "max_file_bytes",
            Self::Tables => "max_tables",
            Self::RowsPerTable => "max_rows_per_table",
            Self::ProjectsPerUser => "max_projects_per_user",
        }
    }

    fn limit(self, quotas: &Quotas) -> Option<u64> {
        match self {
            Self::Vectors => quotas.max_vectors,
            Self::Memories => quotas.max_memories,
            Self::Events => quotas.max_events,
            Self::FileBytes => quotas.max_file_bytes,
            Self::Tables => quotas.max_tables,
            Self::RowsPerTable => quotas.max_rows_per_table,
            Self::ProjectsPerUser => None,
        }
    }
}

/// Reads what a project (or a user) currently holds, for quota checks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait QuotaUsage: Send + Sync + 'static {
    /// How much of `resource` the project holds (vectors of user namespaces, memories,
    /// events in the log, bytes of stored files). `Tables`, `RowsPerTable` and
    /// `ProjectsPerUser` are not asked for here.
    async fn project_usage(
        &self,
        project_id: ProjectId,
        resource: QuotaResource,
    ) -> Result<u64, RepositoryError>;
    /// How many of these vector ids the project already holds (a replacement adds nothing).
    async fn existing_vectors(
        &self,
        project_id: ProjectId,
        ids: Vec<crate::vectors::VectorId>,
    ) -> Result<u64, RepositoryError>;
    /// How many projects the user owns.
    async fn projects_owned(&self, user_id: UserId) -> Result<u64, RepositoryError>;
}

/// The server's default quotas, the usage port, and the checks.
pub struct QuotaPolicy {
    defaults: Quotas,
    max_projects_per_user: Option<u64>,
    usage: Arc<dyn QuotaUsage>,
}

impl QuotaPolicy {
    pub fn new(
        defaults: Quotas,
        max_projects_per_user: Option<u64>,
        usage: Arc<dyn QuotaUsage>,
    ) -> Self {
        Self { defaults, max_projects_per_user, usage }
    }

    /// The limits in force for a project: the server's defaults under its overrides.
    pub fn effective(&self, project: &Project) -> Quotas {
        self.defaults.overridden_by(project.quotas)
    }

    /// Refuses a write that would take the project past its `resource` quota.
    pub async fn check_add(
        &self,
        project: &Project,
        resource: QuotaResource,
        adding: u64,
    ) -> Result<(), ServiceError> {
        let Some(limit) = resource.limit(&self.effective(project)) else {
            return Ok(());
        };
        if adding == 0 {
            return Ok(());
        }
        let used = self.usage.project_usage(project.id, resource).await?;
        if used.saturating_add(adding) > limit {
            return Err(exceeded(resource, limit, used));
        }
        Ok(())
    }

    /// Refuses an upsert of `ids` (new vectors have fresh ids) past the vector quota; ids
    /// the project already holds are replacements and count nothing.
    pub async fn check_vectors(
        &self,
        project: &Project,
        ids: Vec<crate::vectors::VectorId>,
    ) -> Result<(), ServiceError> {
        let Some(limit) = self.effective(project).max_vectors else {
            return Ok(());
        };
        let used = self.usage.project_usage(project.id, QuotaResource::Vectors).await?;
        let batch = ids.len() as u64;
        if used.saturating_add(batch) <= limit {
            return Ok(());
        }
        let replaced = self.usage.existing_vectors(project.id, ids).await?;
        if used.saturating_add(batch - replaced.min(batch)) > limit {
            return Err(exceeded(QuotaResource::Vectors, limit, used));
        }
        Ok(())
    }

    /// How many more file bytes the project may store (`None`: unlimited).
    pub async fn file_bytes_left(&self, project: &Project) -> Result<Option<u64>, ServiceError> {
        let Some(limit) = self.effective(project).max_file_bytes else {
            return Ok(None);
        };
        let used = self.usage.project_usage(project.id, QuotaResource::FileBytes).await?;
        Ok(Some(limit.saturating_sub(used)))
    }

    /// Refuses a new project past the owner's limit (administrators have none).
    pub async fn check_new_project(&self, owner: UserId, admin: bool) -> Result<(), ServiceError> {
        let (Some(limit), false) = (self.max_projects_per_user, admin) else {
            return Ok(());
        };
        let owned = self.usage.projects_owned(owner).await?;
        if owned >= limit {
            return Err(exceeded(QuotaResource::ProjectsPerUser, limit, owned));
        }
        Ok(())
    }
}

pub fn exceeded(resource: QuotaResource, limit: u64, used: u64) -> ServiceError {
    ServiceError::QuotaExceeded { quota: resource.as_str(), limit, used }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_field_by_field() {
        let defaults = Quotas { max_vectors: Some(10), max_tables: Some(5), ..Quotas::default() };
        let project = Quotas { max_vectors: Some(100), max_events: Some(7), ..Quotas::default() };
        let q = defaults.overridden_by(project);
        assert_eq!((q.max_vectors, q.max_tables, q.max_events), (Some(100), Some(5), Some(7)));
        assert_eq!(q.max_memories, None);
    }
}
