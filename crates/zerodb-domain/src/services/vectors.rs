//! Vector namespaces, upserts, similarity search, listing and deletion.

use super::Submission;
use crate::access::{AccessPolicy, Permission};
use crate::error::{ConflictKind, ServiceError};
use crate::ids::ProjectId;
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::quotas::QuotaPolicy;
use crate::vectors::{
    MAX_IDS_PER_DELETE, MAX_SEARCH_LIMIT, MAX_VECTORS_PER_BATCH, MetadataFilter, Metric, Namespace,
    NamespaceName, NamespaceSpec, NamespaceStats, Quantization, SearchRequest, SearchResults,
    UpsertOutcome, VectorInput, VectorRecord, VectorSelector, VectorStore, VectorStoreError,
};
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

const READ: Permission = Permission::Data(Area::Vectors, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Vectors, Operation::Write);

/// Limits and defaults from configuration.
#[derive(Debug, Clone, Copy)]
pub struct VectorOptions {
    pub max_metadata_bytes: usize,
    /// The spec of a namespace created implicitly by its first upsert.
    pub default_spec: NamespaceSpec,
}

impl Default for VectorOptions {
    fn default() -> Self {
        Self { max_metadata_bytes: 16 * 1024, default_spec: NamespaceSpec::default() }
    }
}

/// A search as a client asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchInput {
    pub query_vector: Vec<f32>,
    pub namespace: Option<String>,
    pub limit: Option<u32>,
    pub filter: Option<Value>,
    pub min_score: Option<f32>,
    pub include_vectors: bool,
}

/// A delete as a client asks for it: ids, or a namespace and a filter.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteInput {
    pub vector_ids: Option<Vec<Uuid>>,
    pub namespace: Option<String>,
    pub filter: Option<Value>,
}

pub struct VectorService {
    store: Arc<dyn VectorStore>,
    access: Arc<AccessPolicy>,
    options: VectorOptions,
    quotas: Arc<QuotaPolicy>,
}

/// What a client may fix when it creates a namespace; absent settings take the defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamespaceSettings {
    pub metric: Option<Metric>,
    pub quantization: Option<Quantization>,
    pub dimension: Option<u32>,
    /// The model that makes the namespace's vectors, recorded so that vectors of another
    /// model are refused.
    pub embedding_model: Option<String>,
}

impl From<VectorStoreError> for ServiceError {
    fn from(err: VectorStoreError) -> Self {
        match err {
            VectorStoreError::NotFound => ServiceError::not_found("vector"),
            VectorStoreError::NamespaceNotFound => ServiceError::not_found("namespace"),
            VectorStoreError::DimensionMismatch { namespace, expected, got } => {
                ServiceError::DimensionMismatch { namespace, expected, got }
            }
            VectorStoreError::NamespaceSettings { namespace, spec } => ServiceError::conflict(
                ConflictKind::NamespaceExists,
                format!(
                    "namespace '{namespace}' already exists with metric {} and quantization {}",
                    spec.metric, spec.quantization
                ),
            ),
            VectorStoreError::IdInOtherNamespace(id) => ServiceError::conflict(
                ConflictKind::VectorIdTaken,
                format!("vector_id {id} is already used in another namespace"),
            ),
            VectorStoreError::ModelMismatch { namespace, recorded, got } => ServiceError::conflict(
                ConflictKind::EmbeddingModelMismatch,
                format!(
                    "namespace '{namespace}' holds vectors made by model '{recorded}', \
                     not '{got}'"
                ),
            ),
            VectorStoreError::Unavailable(m) => ServiceError::Unavailable(m),
            VectorStoreError::Internal(m) => ServiceError::Internal(m),
        }
    }
}

impl VectorService {
    pub fn new(
        store: Arc<dyn VectorStore>,
        access: Arc<AccessPolicy>,
        options: VectorOptions,
        quotas: Arc<QuotaPolicy>,
    ) -> Self {
        Self { store, access, options, quotas }
    }

    /// Creates a namespace with chosen settings (idempotent when they match).
    pub async fn create_namespace(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
        settings: NamespaceSettings,
    ) -> Result<Namespace, ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        let name = NamespaceName::new(name, "namespace")?;
        let NamespaceSettings { metric, quantization, dimension, embedding_model } = settings;
        if dimension.is_some_and(|d| d == 0 || d as usize > crate::vectors::MAX_DIMENSION) {
            return Err(ServiceError::invalid("dimension", "must be 1 to 4096"));
        }
        if embedding_model.as_deref().is_some_and(|m| {
            m.trim().is_empty() || m.len() > 200 || m.chars().any(char::is_control)
        }) {
            return Err(ServiceError::invalid(
                "embedding_model",
                "must be 1 to 200 bytes of printable text",
            ));
        }
        let spec = NamespaceSpec {
            metric: metric.unwrap_or(self.options.default_spec.metric),
            quantization: quantization.unwrap_or(self.options.default_spec.quantization),
        };
        let ns = self.store.create_namespace(project_id, &name, spec, dimension).await?;
        match embedding_model {
            Some(model) => {
                Ok(self.store.record_embedding_model(project_id, &name, &model, dimension).await?)
            }
            None => Ok(ns),
        }
    }

    pub async fn namespaces(
        &self,
        who: &Principal,
        project_id: ProjectId,
    ) -> Result<Vec<NamespaceStats>, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let mut namespaces = self.store.namespaces(project_id).await?;
        namespaces.retain(|n| !NamespaceName::is_reserved(&n.namespace.name));
        Ok(namespaces)
    }

    /// Upserts 1..=1000 vectors, all or nothing.
    pub async fn upsert(
        &self,
        who: &Principal,
        project_id: ProjectId,
        inputs: Vec<VectorInput>,
        submission: Submission,
    ) -> Result<Vec<UpsertOutcome>, ServiceError> {
        let project = self.access.enabled_project(who, project_id, WRITE).await?;
        if inputs.is_empty() || inputs.len() > MAX_VECTORS_PER_BATCH {
            return Err(ServiceError::invalid("vectors", "must hold 1 to 1000 vectors"));
        }
        let mut violations = Vec::new();
        let mut vectors = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix = if submission == Submission::Batch {
                format!("vectors[{i}]")
            } else {
                String::new()
            };
            match input.validate(&prefix, self.options.max_metadata_bytes) {
                Ok(v) => vectors.push(v),
                Err(v) => violations.extend(v),
            }
        }
        if !violations.is_empty() {
            return Err(ServiceError::InvalidInput(violations));
        }
        let mut seen = std::collections::HashSet::with_capacity(vectors.len());
        if let Some(dup) = vectors.iter().find(|v| !seen.insert(v.id)) {
            return Err(ServiceError::invalid(
                "vectors",
                format!("vector_id {} appears more than once", dup.id),
            ));
        }
        self.quotas.check_vectors(&project, vectors.iter().map(|v| v.id).collect()).await?;
        Ok(self.store.upsert(project_id, vectors, self.options.default_spec).await?)
    }

    pub async fn get(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
    ) -> Result<VectorRecord, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let record = self.store.get(project_id, id).await?;
        // ZeroDB's own namespaces (memory embeddings) are not the vectors API's to show.
        if NamespaceName::is_reserved(&record.namespace) {
            return Err(ServiceError::not_found("vector"));
        }
        Ok(record)
    }

    /// Vectors ordered by id, a page at a time.
    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        namespace: Option<&str>,
        with_embeddings: bool,
        page: PageRequest,
    ) -> Result<Page<VectorRecord>, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let namespace = namespace.map(|n| NamespaceName::new(n, "namespace")).transpose()?;
        let after = page.keyset()?.map(|(_, id)| id);
        let records = self
            .store
            .list(project_id, namespace, after, page.limit.get() + 1, with_embeddings)
            .await?;
        Ok(Page::from_overfetch(records, page.limit, |r| Position::Keyset {
            t: r.created_at,
            id: r.id,
        }))
    }

    /// Deletes by ids or by namespace and filter; answers how many were deleted.
    pub async fn delete(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: DeleteInput,
    ) -> Result<u64, ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        let selector = match input {
            DeleteInput { vector_ids: Some(ids), namespace: None, filter: None } => {
                if ids.is_empty() || ids.len() > MAX_IDS_PER_DELETE {
                    return Err(ServiceError::invalid("vector_ids", "must hold 1 to 1000 ids"));
                }
                VectorSelector::UserIds(ids)
            }
            DeleteInput { vector_ids: None, namespace, filter: Some(filter) } => {
                let namespace = NamespaceName::new(
                    namespace.as_deref().unwrap_or(crate::vectors::DEFAULT_NAMESPACE),
                    "namespace",
                )?;
                VectorSelector::Filter { namespace, filter: MetadataFilter::parse(&filter)? }
            }
            _ => {
                return Err(ServiceError::invalid(
                    "vector_ids",
                    "give either vector_ids, or filter (with an optional namespace)",
                ));
            }
        };
        Ok(self.store.delete(project_id, &selector).await?)
    }

    pub async fn delete_one(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
    ) -> Result<(), ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        match self.store.delete(project_id, &VectorSelector::UserIds(vec![id])).await? {
            0 => Err(ServiceError::not_found("vector")),
            _ => Ok(()),
        }
    }

    pub async fn search(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: SearchInput,
    ) -> Result<SearchResults, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let request = search_request(input)?;
        Ok(self.store.search(project_id, &request).await?)
    }
}

/// Validates a search.
pub fn search_request(input: SearchInput) -> Result<SearchRequest, ServiceError> {
    let mut violations = Vec::new();
    let namespace = NamespaceName::new(
        input.namespace.as_deref().unwrap_or(crate::vectors::DEFAULT_NAMESPACE),
        "namespace",
    );
    if input.query_vector.is_empty() || input.query_vector.len() > crate::vectors::MAX_DIMENSION {
        violations.push(crate::FieldViolation::new("query_vector", "must have 1 to 4096 numbers"));
    } else if input.query_vector.iter().any(|x| !x.is_finite()) {
        violations.push(crate::FieldViolation::new("query_vector", "must hold finite numbers"));
    }
    let limit = input.limit.unwrap_or(10);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        violations.push(crate::FieldViolation::new("limit", "must be 1 to 1000"));
    }
    if input.min_score.is_some_and(|s| !s.is_finite()) {
        violations.push(crate::FieldViolation::new("min_score", "must be a finite number"));
    }
    let filter = match input.filter.as_ref().map(MetadataFilter::parse).transpose() {
        Ok(f) => f,
        Err(ServiceError::InvalidInput(v)) => {
            violations.extend(v);
            None
        }
        Err(other) => return Err(other),
    };
    let namespace = match namespace {
        Ok(n) => n,
        Err(ServiceError::InvalidInput(v)) => {
            violations.extend(v);
            return Err(ServiceError::InvalidInput(violations));
        }
        Err(other) => return Err(other),
    };
    if !violations.is_empty() {
        return Err(ServiceError::InvalidInput(violations));
    }
    Ok(SearchRequest {
        namespace,
        query: input.query_vector,
        limit,
        filter,
        min_score: input.min_score,
        include_vectors: input.include_vectors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_support::owned_project;
    use crate::vectors::{MockVectorStore, Namespace, VectorInput};
    use chrono::Utc;
    use serde_json::json;

    fn service(store: MockVectorStore) -> (VectorService, Principal, ProjectId) {
        let p = owned_project();
        let service =
            VectorService::new(Arc::new(store), p.access, VectorOptions::default(), p.quotas);
        (service, p.owner, p.project_id)
    }

    fn input(embedding: Vec<f32>, metadata: Value) -> VectorInput {
        VectorInput {
            vector_id: None,
            namespace: None,
            embedding,
            document: None,
            metadata: Some(metadata),
            source: None,
        }
    }

    #[tokio::test]
    async fn invalid_batches_name_each_field_and_never_reach_the_store() {
        // No expectations: any call to the store fails the test.
        let (service, owner, project) = service(MockVectorStore::new());
        let batch = vec![input(vec![1.0, 0.0], json!({})), input(vec![], json!([1]))];
        let err = service.upsert(&owner, project, batch, Submission::Batch).await.unwrap_err();
        let ServiceError::InvalidInput(violations) = err else { panic!("{err:?}") };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert!(fields.iter().all(|f| f.starts_with("vectors[1].")), "{fields:?}");
        assert_eq!(fields.len(), 2, "both of vectors[1]'s problems: {fields:?}");

        let id = Uuid::now_v7();
        let mut twice = input(vec![1.0], json!({}));
        twice.vector_id = Some(id);
        let err = service
            .upsert(&owner, project, vec![twice.clone(), twice], Submission::Batch)
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::InvalidInput(_)), "a repeated id: {err:?}");
    }

    #[tokio::test]
    async fn upserts_carry_the_default_spec_and_report_dimension_mismatches() {
        let mut store = MockVectorStore::new();
        store
            .expect_upsert()
            .withf(|_, vectors, spec| vectors.len() == 1 && *spec == NamespaceSpec::default())
            .times(1)
            .returning(|_, _, _| {
                Err(VectorStoreError::DimensionMismatch {
                    namespace: "default".into(),
                    expected: 3,
                    got: 2,
                })
            });
        let (service, owner, project) = service(store);
        let err = service
            .upsert(&owner, project, vec![input(vec![1.0, 2.0], json!({}))], Submission::Single)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ServiceError::DimensionMismatch { namespace: "default".into(), expected: 3, got: 2 }
        );
    }

    #[tokio::test]
    async fn reserved_namespaces_are_hidden_and_user_deletes_spare_them() {
        let stats = |name: &str| NamespaceStats {
            namespace: Namespace {
                name: name.into(),
                dimension: Some(3),
                embedding_model: None,
                spec: NamespaceSpec::default(),
                vector_count: 1,
                created_at: Utc::now(),
            },
            indexed_vectors: 1,
            index_bytes: 12,
            graph_pending: 0,
        };
        let mut store = MockVectorStore::new();
        let listed = vec![stats("docs"), stats("__memory")];
        store.expect_namespaces().returning(move |_| Ok(listed.clone()));
        store
            .expect_delete()
            .withf(|_, selector| matches!(selector, VectorSelector::UserIds(ids) if ids.len() == 1))
            .returning(|_, _| Ok(0));
        let (service, owner, project) = service(store);
        let names: Vec<String> = service
            .namespaces(&owner, project)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.namespace.name)
            .collect();
        assert_eq!(names, vec!["docs".to_owned()]);
        // A vector of a reserved namespace is out of reach: deleting it finds nothing.
        assert_eq!(
            service.delete_one(&owner, project, Uuid::now_v7()).await,
            Err(ServiceError::not_found("vector"))
        );
    }

    #[tokio::test]
    async fn strangers_reach_nothing() {
        let (service, _, project) = service(MockVectorStore::new());
        let stranger =
            Principal::User { id: crate::ids::UserId::new(), role: crate::principal::Role::User };
        let search = SearchInput {
            query_vector: vec![1.0],
            namespace: None,
            limit: None,
            filter: None,
            min_score: None,
            include_vectors: false,
        };
        assert!(matches!(
            service.search(&stranger, project, search).await,
            Err(ServiceError::NotFound { .. })
        ));
    }
}
