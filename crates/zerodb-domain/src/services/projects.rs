//! Creating, listing, reading and deleting projects.

use crate::access::{AccessPolicy, Permission};
use crate::error::{ConflictKind, ServiceError};
use crate::files::{ObjectLocation, ObjectStore};
use crate::ids::ProjectId;
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::projects::{
    NewProject, Project, ProjectName, ProjectRepository, ProjectRepositoryError,
    validate_description,
};
use crate::quotas::QuotaPolicy;
use crate::vectors::VectorStore;
use std::sync::Arc;

pub struct ProjectService {
    projects: Arc<dyn ProjectRepository>,
    access: Arc<AccessPolicy>,
    vectors: Arc<dyn VectorStore>,
    objects: Arc<dyn ObjectStore>,
    quotas: Arc<QuotaPolicy>,
}

fn signed_in_user(who: &Principal) -> Result<crate::ids::UserId, ServiceError> {
    match who {
        Principal::User { id, .. } => Ok(*id),
        Principal::ApiKey { .. } => Err(ServiceError::Forbidden {
            reason: "API keys cannot create or list projects; sign in as a user".into(),
        }),
    }
}

impl ProjectService {
    pub fn new(
        projects: Arc<dyn ProjectRepository>,
        access: Arc<AccessPolicy>,
        vectors: Arc<dyn VectorStore>,
        objects: Arc<dyn ObjectStore>,
        quotas: Arc<QuotaPolicy>,
    ) -> Self {
        Self { projects, access, vectors, objects, quotas }
    }

    /// Creates a project owned by the caller.
    pub async fn create(
        &self,
        who: &Principal,
        name: &str,
        description: Option<String>,
    ) -> Result<Project, ServiceError> {
        let owner_id = signed_in_user(who)?;
        let name = ProjectName::new(name)?;
        let description = validate_description(description)?;
        self.quotas.check_new_project(owner_id, who.is_admin()).await?;
        let new = NewProject { id: ProjectId::new(), owner_id, name, description };
        self.projects.create(new).await.map_err(|e| match e {
            ProjectRepositoryError::NameTaken => ServiceError::conflict(
                ConflictKind::ProjectNameTaken,
                "you already have a project with this name",
            ),
            ProjectRepositoryError::Storage(e) => ServiceError::from_repo(e, "project"),
        })
    }

    /// The caller's own projects, oldest first.
    pub async fn list_mine(
        &self,
        who: &Principal,
        page: PageRequest,
    ) -> Result<Page<Project>, ServiceError> {
        let owner_id = signed_in_user(who)?;
        page.keyset()?;
        let items = self.projects.list_by_owner(owner_id, &page).await?;
        Ok(Page::from_overfetch(items, page.limit, |p| Position::Keyset {
            t: p.created_at,
            id: p.id.as_uuid(),
        }))
    }

    pub async fn get(&self, who: &Principal, id: ProjectId) -> Result<Project, ServiceError> {
        self.access.project(who, id, Permission::Data(Area::Database, Operation::Read)).await
    }

    /// Deletes the project and everything it owns.
    pub async fn delete(&self, who: &Principal, id: ProjectId) -> Result<(), ServiceError> {
        self.access.project(who, id, Permission::Manage).await?;
        self.projects.delete(id).await.map_err(|e| ServiceError::from_repo(e, "project"))?;
        // The records are gone (the database cascades to every area, the outbox cursor
        // included); what lives outside the database goes now. A failure here leaves only
        // unreachable leftovers: the orphan sweep removes objects, a restart forgets indexes.
        if let Err(e) = self.vectors.drop_project(id).await {
            tracing::warn!(project = %id, error = %e, "could not drop a deleted project's vector index");
        }
        self.delete_objects(id).await;
        Ok(())
    }

    async fn delete_objects(&self, id: ProjectId) {
        let prefix = ObjectLocation::project_prefix(id);
        let objects = match self.objects.list(&prefix).await {
            Ok(objects) => objects,
            Err(e) => {
                tracing::warn!(project = %id, error = %e, "could not list a deleted project's objects; the sweep removes them");
                return;
            }
        };
        for object in objects {
            if let Err(e) = self.objects.delete(&ObjectLocation::raw(object.location)).await {
                tracing::warn!(project = %id, error = %e, "could not delete an object of a deleted project; the sweep removes it");
            }
        }
    }
}
