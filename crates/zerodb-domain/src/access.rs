//! The one place that decides who may touch which project.
//!
//! - A user reaches the projects it owns; an admin reaches every project.
//! - An API key reaches only its own project, and only within its scopes.
//! - A project the caller cannot reach is reported exactly like a missing one (`NotFound`),
//!   so that ids of other tenants' projects leak nothing.

use crate::error::{RepositoryError, ServiceError};
use crate::ids::ProjectId;
use crate::principal::{Area, Operation, Principal};
use crate::projects::{Project, ProjectRepository};
use crate::usage::UsageMeter;
use std::sync::Arc;

/// What an operation needs from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Reading or writing one data area; API keys need the matching scope.
    Data(Area, Operation),
    /// Managing the project itself (API keys, deletion): owner or admin, never an API key.
    Manage,
}

pub struct AccessPolicy {
    projects: Arc<dyn ProjectRepository>,
    meter: Option<Arc<UsageMeter>>,
}

impl AccessPolicy {
    pub fn new(projects: Arc<dyn ProjectRepository>) -> Self {
        Self { projects, meter: None }
    }

    /// Counts every granted access in `meter`, per project and area.
    pub fn metered(projects: Arc<dyn ProjectRepository>, meter: Arc<UsageMeter>) -> Self {
        Self { projects, meter: Some(meter) }
    }

    /// Loads the project if `who` holds `need` on it.
    pub async fn project(
        &self,
        who: &Principal,
        id: ProjectId,
        need: Permission,
    ) -> Result<Project, ServiceError> {
        if let Principal::ApiKey { project_id, scopes, .. } = who {
            if *project_id != id {
                return Err(ServiceError::not_found("project"));
            }
            match need {
                Permission::Manage => {
                    return Err(ServiceError::Forbidden {
                        reason: "API keys cannot manage projects; sign in as the owner".into(),
                    });
                }
                Permission::Data(area, op) => {
                    if !scopes.iter().any(|s| s.allows(area, op)) {
                        let wanted = crate::principal::Scope::Area(area, op);
                        return Err(ServiceError::MissingScope { scope: wanted.to_string() });
                    }
                }
            }
        }
        let project = self.projects.get(id).await.map_err(|e| match e {
            RepositoryError::NotFound => ServiceError::not_found("project"),
            other => other.into(),
        })?;
        let allowed = match who {
            Principal::User { id: user_id, .. } => who.is_admin() || project.owner_id == *user_id,
            Principal::ApiKey { project_id, .. } => *project_id == project.id,
        };
        if !allowed {
            return Err(ServiceError::not_found("project"));
        }
        if let Some(meter) = &self.meter {
            let area = match need {
                Permission::Data(area, _) => area.as_str(),
                Permission::Manage => "projects",
            };
            meter.record(project.id, area);
        }
        Ok(project)
    }

    /// As [`Self::project`], and the project's database must be enabled.
    pub async fn enabled_project(
        &self,
        who: &Principal,
        id: ProjectId,
        need: Permission,
    ) -> Result<Project, ServiceError> {
        let project = self.project(who, id, need).await?;
        if project.database_enabled { Ok(project) } else { Err(ServiceError::DatabaseNotEnabled) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::DatabaseConfig;
    use crate::ids::{ApiKeyId, UserId};
    use crate::principal::{Role, Scope};
    use crate::projects::MockProjectRepository;
    use chrono::Utc;

    fn project(owner: UserId, enabled: bool) -> Project {
        Project {
            id: ProjectId::new(),
            owner_id: owner,
            name: "p".into(),
            description: None,
            is_active: true,
            database_enabled: enabled,
            database_config: DatabaseConfig::default(),
            quotas: Default::default(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn policy_with(p: Project) -> AccessPolicy {
        let mut repo = MockProjectRepository::new();
        repo.expect_get().returning(move |id| {
            if id == p.id { Ok(p.clone()) } else { Err(RepositoryError::NotFound) }
        });
        AccessPolicy::new(Arc::new(repo))
    }

    const READ_TABLES: Permission = Permission::Data(Area::Tables, Operation::Read);

    #[tokio::test]
    async fn owner_and_admin_reach_strangers_do_not() {
        let owner = UserId::new();
        let p = project(owner, true);
        let policy = policy_with(p.clone());
        let as_owner = Principal::User { id: owner, role: Role::User };
        let as_admin = Principal::User { id: UserId::new(), role: Role::Admin };
        let stranger = Principal::User { id: UserId::new(), role: Role::User };
        assert!(policy.project(&as_owner, p.id, Permission::Manage).await.is_ok());
        assert!(policy.project(&as_admin, p.id, Permission::Manage).await.is_ok());
        assert_eq!(
            policy.project(&stranger, p.id, READ_TABLES).await.err(),
            Some(ServiceError::not_found("project"))
        );
        assert_eq!(
            policy.project(&as_owner, ProjectId::new(), READ_TABLES).await.err(),
            Some(ServiceError::not_found("project"))
        );
    }

    #[tokio::test]
    async fn api_keys_are_bound_to_project_and_scopes() {
        let p = project(UserId::new(), true);
        let policy = policy_with(p.clone());
        let key =
            |project_id, scopes| Principal::ApiKey { key_id: ApiKeyId::new(), project_id, scopes };
        let reader = key(p.id, vec![Scope::Area(Area::Tables, Operation::Read)]);
        assert!(policy.project(&reader, p.id, READ_TABLES).await.is_ok());
        let write = Permission::Data(Area::Tables, Operation::Write);
        assert!(matches!(
            policy.project(&reader, p.id, write).await,
            Err(ServiceError::MissingScope { scope }) if scope == "tables:write"
        ));
        assert!(matches!(
            policy.project(&reader, p.id, Permission::Manage).await,
            Err(ServiceError::Forbidden { .. })
        ));
        let foreign = key(ProjectId::new(), vec![Scope::All]);
        assert_eq!(
            policy.project(&foreign, p.id, READ_TABLES).await.err(),
            Some(ServiceError::not_found("project"))
        );
    }

    #[tokio::test]
    async fn disabled_database_is_a_conflict() {
        let owner = UserId::new();
        let p = project(owner, false);
        let policy = policy_with(p.clone());
        let who = Principal::User { id: owner, role: Role::User };
        assert_eq!(
            policy.enabled_project(&who, p.id, READ_TABLES).await.err(),
            Some(ServiceError::DatabaseNotEnabled)
        );
    }
}
