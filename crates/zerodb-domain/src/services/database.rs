//! A project's database: status with statistics, enabling, configuration.

use crate::access::{AccessPolicy, Permission};
use crate::database::{DatabaseConfig, DatabaseStatus};
use crate::error::{ConflictKind, ServiceError};
use crate::ids::ProjectId;
use crate::memory::{Embedders, MEMORY_NAMESPACE, OfferedModel};
use crate::principal::{Area, Operation, Principal};
use crate::projects::{Project, ProjectRepository};
use crate::rate_limit::RateLimit;
use crate::rlhf::RlhfRepository;
use crate::vectors::VectorStore;
use serde_json::Value;
use std::sync::Arc;

const READ: Permission = Permission::Data(Area::Database, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Database, Operation::Write);

pub struct DatabaseService {
    projects: Arc<dyn ProjectRepository>,
    rlhf: Arc<dyn RlhfRepository>,
    vectors: Arc<dyn VectorStore>,
    embedders: Embedders,
    access: Arc<AccessPolicy>,
    rate_limit_ceiling: Option<RateLimit>,
}

impl DatabaseService {
    pub fn new(
        projects: Arc<dyn ProjectRepository>,
        rlhf: Arc<dyn RlhfRepository>,
        vectors: Arc<dyn VectorStore>,
        embedders: Embedders,
        access: Arc<AccessPolicy>,
        rate_limit_ceiling: Option<RateLimit>,
    ) -> Self {
        Self { projects, rlhf, vectors, embedders, access, rate_limit_ceiling }
    }

    pub async fn status(
        &self,
        who: &Principal,
        id: ProjectId,
    ) -> Result<DatabaseStatus, ServiceError> {
        let project = self.access.project(who, id, READ).await?;
        self.with_statistics(project).await
    }

    /// Enables the database; calling it again changes nothing and answers the same.
    pub async fn enable(
        &self,
        who: &Principal,
        id: ProjectId,
    ) -> Result<DatabaseStatus, ServiceError> {
        self.access.project(who, id, WRITE).await?;
        let project = self
            .projects
            .enable_database(id)
            .await
            .map_err(|e| ServiceError::from_repo(e, "project"))?;
        self.with_statistics(project).await
    }

    /// Replaces the configuration with a validated document.
    pub async fn update_config(
        &self,
        who: &Principal,
        id: ProjectId,
        config: Value,
    ) -> Result<DatabaseStatus, ServiceError> {
        let current = self.access.project(who, id, WRITE).await?;
        let config = DatabaseConfig::from_json(config)?;
        self.check_model_switch(&current, &config).await?;
        // A project may slow its keys down, not speed them past the server's ceiling;
        // administrators may.
        if let (Some(ceiling), Some(own), false) =
            (self.rate_limit_ceiling, config.rate_limit(), who.is_admin())
        {
            let mut violations = Vec::new();
            if own.per_second > ceiling.per_second {
                violations.push(crate::FieldViolation::new(
                    "rate_limit_per_second",
                    format!("must be at most {} (the server's ceiling)", ceiling.per_second),
                ));
            }
            if own.burst > ceiling.burst {
                violations.push(crate::FieldViolation::new(
                    "rate_limit_burst",
                    format!("must be at most {} (the server's ceiling)", ceiling.burst),
                ));
            }
            if !violations.is_empty() {
                return Err(ServiceError::InvalidInput(violations));
            }
        }
        let project = self
            .projects
            .update_config(id, config)
            .await
            .map_err(|e| ServiceError::from_repo(e, "project"))?;
        self.with_statistics(project).await
    }

    /// A project may choose any model the server offers, but not one that cannot read the
    /// memories it holds: memory keeps one index, made by one model.
    async fn check_model_switch(
        &self,
        current: &Project,
        next: &DatabaseConfig,
    ) -> Result<(), ServiceError> {
        let chosen = self.embedders.for_project(next)?;
        // Keeping the model keeps whatever memory holds: nothing to count.
        if self
            .embedders
            .for_project(&current.database_config)
            .is_ok_and(|p| p.model() == chosen.model())
        {
            return Ok(());
        }
        let namespaces = self.vectors.namespaces(current.id).await?;
        let Some(memory) = namespaces.iter().find(|n| n.namespace.name == MEMORY_NAMESPACE) else {
            return Ok(());
        };
        let memory = &memory.namespace;
        let recorded = memory.embedding_model.as_deref();
        let other_dimension = memory.dimension.is_some_and(|d| d as usize != chosen.dimension());
        let other_model = recorded.is_some_and(|m| m != chosen.model());
        if other_dimension || (other_model && memory.vector_count > 0) {
            return Err(ServiceError::conflict(
                ConflictKind::EmbeddingModelMismatch,
                format!(
                    "the project's memory index holds {} vectors of {} dimensions made by model \
                     '{}'; model '{}' makes {} dimensions and cannot search them: delete the \
                     memories first, or keep the model",
                    memory.vector_count,
                    memory.dimension.unwrap_or_default(),
                    recorded.unwrap_or("unknown"),
                    chosen.model(),
                    chosen.dimension()
                ),
            ));
        }
        Ok(())
    }

    async fn with_statistics(&self, project: Project) -> Result<DatabaseStatus, ServiceError> {
        let statistics = self.projects.statistics(project.id).await?;
        let rlhf = self.rlhf.summary(project.id).await?;
        let vector_namespaces = self.vectors.namespaces(project.id).await?;
        let embedding_model =
            self.embedders.for_project(&project.database_config).ok().map(OfferedModel::of);
        Ok(DatabaseStatus {
            project,
            statistics,
            rlhf,
            vector_namespaces,
            embedding_model,
            embedding_models: self.embedders.offered(),
        })
    }
}
