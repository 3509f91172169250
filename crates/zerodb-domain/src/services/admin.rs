//! The operator's endpoints: admin role only.

use crate::admin::{AdminProjectFilter, AdminRepository, ProjectDetails, SystemTotals};
use crate::error::{RepositoryError, ServiceError};
use crate::ids::ProjectId;
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::Principal;
use crate::projects::Project;
use crate::quotas::{QuotaPolicy, Quotas};
use crate::usage::{UsageCount, UsageQuery, UsageRepository};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Longest usage window one request may ask for.
pub const MAX_USAGE_DAYS: i64 = 366;

pub struct SystemStats {
    pub totals: SystemTotals,
    pub started_at: DateTime<Utc>,
    pub version: &'static str,
}

pub struct AdminService {
    admin: Arc<dyn AdminRepository>,
    usage: Arc<dyn UsageRepository>,
    started_at: DateTime<Utc>,
    version: &'static str,
    projects: Arc<dyn crate::projects::ProjectRepository>,
    quotas: Arc<QuotaPolicy>,
}

fn require_admin(who: &Principal) -> Result<(), ServiceError> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden { reason: "this endpoint is for administrators".into() })
    }
}

impl AdminService {
    pub fn new(
        admin: Arc<dyn AdminRepository>,
        usage: Arc<dyn UsageRepository>,
        started_at: DateTime<Utc>,
        version: &'static str,
        projects: Arc<dyn crate::projects::ProjectRepository>,
        quotas: Arc<QuotaPolicy>,
    ) -> Self {
        Self { admin, usage, started_at, version, projects, quotas }
    }

    pub async fn list_projects(
        &self,
        who: &Principal,
        filter: &AdminProjectFilter,
        page: PageRequest,
    ) -> Result<Page<Project>, ServiceError> {
        require_admin(who)?;
        page.keyset()?;
        let items = self.admin.list_projects(filter, &page).await?;
        Ok(Page::from_overfetch(items, page.limit, |p| Position::Keyset {
            t: p.created_at,
            id: p.id.as_uuid(),
        }))
    }

    pub async fn project(
        &self,
        who: &Principal,
        id: ProjectId,
    ) -> Result<ProjectDetails, ServiceError> {
        require_admin(who)?;
        self.admin.project_details(id).await.map_err(|e| match e {
            RepositoryError::NotFound => ServiceError::not_found("project"),
            other => other.into(),
        })
    }

    /// A project's quota overrides and the limits in force (the server's defaults under them).
    pub async fn quotas(
        &self,
        who: &Principal,
        id: ProjectId,
    ) -> Result<(Quotas, Quotas), ServiceError> {
        require_admin(who)?;
        let project =
            self.projects.get(id).await.map_err(|e| ServiceError::from_repo(e, "project"))?;
        Ok((project.quotas, self.quotas.effective(&project)))
    }

    /// Replaces a project's quota overrides; an absent limit falls back to the default.
    pub async fn set_quotas(
        &self,
        who: &Principal,
        id: ProjectId,
        quotas: Quotas,
    ) -> Result<(Quotas, Quotas), ServiceError> {
        require_admin(who)?;
        let project = self
            .projects
            .set_quotas(id, quotas)
            .await
            .map_err(|e| ServiceError::from_repo(e, "project"))?;
        Ok((project.quotas, self.quotas.effective(&project)))
    }

    pub async fn stats(&self, who: &Principal) -> Result<SystemStats, ServiceError> {
        require_admin(who)?;
        let totals = self.admin.system_totals().await?;
        Ok(SystemStats { totals, started_at: self.started_at, version: self.version })
    }

    pub async fn usage(
        &self,
        who: &Principal,
        query: UsageQuery,
    ) -> Result<Vec<UsageCount>, ServiceError> {
        require_admin(who)?;
        if query.from > query.to {
            return Err(ServiceError::invalid("from", "must not be after to"));
        }
        if (query.to - query.from).num_days() >= MAX_USAGE_DAYS {
            return Err(ServiceError::invalid("to", "the window may span at most 366 days"));
        }
        Ok(self.usage.query(&query).await?)
    }
}
