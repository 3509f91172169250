//! Vectors: namespaces of embeddings with documents and metadata, and similarity search.
//!
//! Two ports: [`VectorStore`] is what the service uses (the built-in index store and a
//! Qdrant adapter both implement it); [`VectorRecords`] is the durable source of truth with
//! a change feed, from which an in-process index is derived.

mod filter;
mod hybrid;
mod id;
mod metric;
mod replica;

pub use filter::{Condition, MetadataFilter, MetadataView};
pub use hybrid::{
    FusionWeights, Include, LexicalMatch, LexicalRequest, MmrOptions, ScoreBreakdown, SearchMode,
    fuse, maximal_marginal_relevance,
};
pub use id::{MAX_VECTOR_ID_BYTES, VectorId};
pub use metric::{Metric, Quantization};
#[cfg(any(test, feature = "mocks"))]
pub use replica::MockReplicaCursors;
pub use replica::{ReplicaCursors, ReplicaLag};

use crate::error::Cause;
use crate::error::{FieldViolation, ServiceError};
use crate::ids::ProjectId;
use crate::storable::map_violations;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::sync::Arc;

pub const MAX_DIMENSION: usize = 4096;
pub const MAX_VECTORS_PER_BATCH: usize = 1000;
pub const MAX_SEARCH_LIMIT: u32 = 1000;
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
pub const MAX_SOURCE_BYTES: usize = 1024;
pub const MAX_IDS_PER_DELETE: usize = 1000;
pub const DEFAULT_NAMESPACE: &str = "default";

/// A namespace name: `[A-Za-z0-9._-]{1,128}`, not starting with `__` (reserved for
/// ZeroDB's own namespaces, such as agent memory's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamespaceName(String);

impl NamespaceName {
    pub fn new(raw: &str, field: &str) -> Result<Self, ServiceError> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
        if (1..=128).contains(&raw.len()) && raw.bytes().all(allowed) && !raw.starts_with("__") {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ServiceError::invalid(
                field,
                "must match [A-Za-z0-9._-]{1,128} and not start with __",
            ))
        }
    }

    /// Whether a namespace name is one of ZeroDB's own (`__` prefix), hidden from the
    /// vectors API.
    pub fn is_reserved(name: &str) -> bool {
        name.starts_with("__")
    }

    /// One of ZeroDB's own namespaces.
    pub(crate) fn reserved(name: &'static str) -> Self {
        Self(name.to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a namespace compares and stores vectors; fixed when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NamespaceSpec {
    pub metric: Metric,
    pub quantization: Quantization,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Namespace {
    pub name: String,
    /// Fixed by the first vector; `None` while the namespace is empty and was created
    /// without one.
    pub dimension: Option<u32>,
    pub spec: NamespaceSpec,
    /// The embedding model that made the namespace's vectors, when known: recorded by the
    /// first writer that names one and fixed from then on.
    pub embedding_model: Option<String>,
    pub vector_count: u64,
    pub created_at: DateTime<Utc>,
}

/// A namespace as the store reports it, with what its index holds.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceStats {
    pub namespace: Namespace,
    /// Vectors the search index holds right now.
    pub indexed_vectors: u64,
    /// Bytes the search index keeps in memory for the namespace.
    pub index_bytes: u64,
    /// Of `indexed_vectors`, those searched by exact scan until they join the HNSW graph.
    pub graph_pending: u64,
}

/// A vector as a client sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorInput {
    pub vector_id: Option<String>,
    pub namespace: Option<String>,
    /// `None` when the server is to embed `document` with the namespace's model.
    pub embedding: Option<Vec<f32>>,
    pub document: Option<String>,
    pub metadata: Option<Value>,
    pub source: Option<String>,
}

/// A validated vector ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVector {
    pub id: VectorId,
    pub namespace: NamespaceName,
    pub embedding: Vec<f32>,
    pub metadata: Map<String, Value>,
    pub document: Option<String>,
    pub source: Option<String>,
}

impl VectorInput {
    /// Validates one vector; `prefix` names it in errors (`vectors[3]`).
    pub fn validate(
        self,
        prefix: &str,
        max_metadata_bytes: usize,
    ) -> Result<NewVector, Vec<FieldViolation>> {
        let field = |name: &str| {
            if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
        };
        let mut v = Vec::new();
        let id = match self.vector_id.as_deref().map(VectorId::check).transpose() {
            Ok(id) => id,
            Err(reason) => {
                v.push(FieldViolation::new(field("vector_id"), reason));
                None
            }
        };
        let namespace = NamespaceName::new(
            self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE),
            &field("namespace"),
        )
        .map_err(|_| {
            v.push(FieldViolation::new(
                field("namespace"),
                "must match [A-Za-z0-9._-]{1,128} and not start with __",
            ))
        })
        .ok();
        match &self.embedding {
            None if self.document.is_none() => v.push(FieldViolation::new(
                field("vector_embedding"),
                "give vector_embedding, or a document for the server to embed",
            )),
            None => {}
            Some(e) if e.is_empty() || e.len() > MAX_DIMENSION => v.push(FieldViolation::new(
                field("vector_embedding"),
                "must have 1 to 4096 numbers",
            )),
            Some(e) => {
                if let Some(i) = e.iter().position(|x| !x.is_finite()) {
                    v.push(FieldViolation::new(
                        field("vector_embedding"),
                        format!(
                            "element {i} is not a finite number (NaN and Infinity are refused)"
                        ),
                    ));
                }
            }
        }
        let metadata = match self.metadata {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => {
                map_violations(&field("vector_metadata"), &map, &mut v);
                if serialized_len(&map) > max_metadata_bytes {
                    v.push(FieldViolation::new(
                        field("vector_metadata"),
                        format!("must be at most {max_metadata_bytes} bytes as JSON"),
                    ));
                }
                map
            }
            Some(_) => {
                v.push(FieldViolation::new(field("vector_metadata"), "must be a JSON object"));
                Map::new()
            }
        };
        if self.document.as_ref().is_some_and(|d| d.len() > MAX_DOCUMENT_BYTES || d.contains('\0'))
        {
            v.push(FieldViolation::new(field("document"), "must be at most 1 MiB without NUL"));
        }
        if self.source.as_ref().is_some_and(|s| s.len() > MAX_SOURCE_BYTES || s.contains('\0')) {
            v.push(FieldViolation::new(field("source"), "must be at most 1024 bytes without NUL"));
        }
        match namespace {
            Some(namespace) if v.is_empty() => Ok(NewVector {
                id: id.unwrap_or_else(VectorId::generate),
                namespace,
                embedding: self.embedding.unwrap_or_default(),
                metadata,
                document: self.document,
                source: self.source,
            }),
            _ => Err(v),
        }
    }
}

fn serialized_len(map: &Map<String, Value>) -> usize {
    serde_json::to_vec(map).map_or(usize::MAX, |b| b.len())
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorRecord {
    pub id: VectorId,
    pub namespace: String,
    /// Empty when the caller did not ask for embeddings.
    pub embedding: Vec<f32>,
    pub metadata: Map<String, Value>,
    pub document: Option<String>,
    pub source: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertOutcome {
    pub id: VectorId,
    /// `false` when an existing vector was replaced.
    pub created: bool,
}

/// Which vectors a delete addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum VectorSelector {
    /// These ids, in any namespace (ZeroDB's own reserved ones included).
    Ids(Vec<VectorId>),
    /// These ids, but only in user namespaces: a vector of a reserved `__` namespace is
    /// left alone, exactly as if it did not exist.
    UserIds(Vec<VectorId>),
    Filter {
        namespace: NamespaceName,
        filter: MetadataFilter,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub namespace: NamespaceName,
    pub query: Vec<f32>,
    pub limit: u32,
    pub filter: Option<MetadataFilter>,
    pub min_score: Option<f32>,
    pub include_vectors: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: VectorId,
    pub score: f32,
    pub namespace: String,
    pub document: Option<String>,
    pub metadata: Map<String, Value>,
    pub source: Option<String>,
    /// Present when the request asked for vectors.
    pub embedding: Option<Vec<f32>>,
}

/// Which path answered a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchPath {
    /// The store's index (the built-in HNSW graph, or the external engine).
    #[default]
    Index,
    /// An exact scan of the PostgreSQL records, because the external engine was
    /// unreachable or had not yet applied the namespace's latest changes.
    ExactFallback,
}

impl SearchPath {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Index => "index",
            Self::ExactFallback => "exact_fallback",
        }
    }
}

/// A search's answer: the hits, best first, and the path that found them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub path: SearchPath,
}

impl SearchResults {
    pub fn from_index(hits: Vec<SearchHit>) -> Self {
        Self { hits, path: SearchPath::Index }
    }
}

/// What a vector store reports on failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VectorStoreError {
    #[error("vector not found")]
    NotFound,
    #[error("namespace not found")]
    NamespaceNotFound,
    #[error("namespace '{namespace}' holds {expected}-dimensional vectors, not {got}")]
    DimensionMismatch { namespace: String, expected: u32, got: u32 },
    #[error("namespace '{namespace}' exists with other settings ({spec:?})")]
    NamespaceSettings { namespace: String, spec: NamespaceSpec },
    #[error("vector {0} already exists in another namespace")]
    IdInOtherNamespace(VectorId),
    #[error("namespace '{namespace}' holds vectors of model '{recorded}', not '{got}'")]
    ModelMismatch { namespace: String, recorded: String, got: String },
    #[error("vector store unavailable")]
    Unavailable(#[source] Cause),
    #[error("vector store failure")]
    Internal(#[source] Cause),
}

/// Vector storage and similarity search for every project.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VectorStore: Send + Sync + 'static {
    /// Creates the namespace unless it exists. MUST return `NamespaceSettings` when it
    /// exists with another spec or dimension, and the existing namespace when it matches.
    async fn create_namespace(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        spec: NamespaceSpec,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError>;
    /// Records that `model` makes the namespace's vectors: creates the namespace (default
    /// spec, `dimension` fixed when given) if absent and sets its model if none is set or
    /// the namespace holds no vectors. MUST return `ModelMismatch` when it holds vectors of
    /// another model, and `DimensionMismatch` when its dimension differs from `dimension`.
    async fn record_embedding_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        model: &str,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError>;
    /// The model recorded for the namespace; `None` when it is absent or has none. Cheap:
    /// searches ask it.
    async fn namespace_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
    ) -> Result<Option<String>, VectorStoreError>;
    /// Forgets whatever the store keeps for a deleted project beyond its records: in-memory
    /// indexes and index files. MUST succeed when there is nothing to forget.
    async fn drop_project(&self, project_id: ProjectId) -> Result<(), VectorStoreError>;
    /// Every namespace of the project, by name.
    async fn namespaces(
        &self,
        project_id: ProjectId,
    ) -> Result<Vec<NamespaceStats>, VectorStoreError>;
    /// Inserts or replaces (by id) all vectors or none. Missing namespaces are created with
    /// `default_spec`, their dimension fixed by the first vector. MUST return
    /// `DimensionMismatch` when a vector's length differs from its namespace's dimension and
    /// `IdInOtherNamespace` when an id exists in another namespace. Once this returns, a
    /// search through the same store sees the vectors.
    async fn upsert(
        &self,
        project_id: ProjectId,
        vectors: Vec<NewVector>,
        default_spec: NamespaceSpec,
    ) -> Result<Vec<UpsertOutcome>, VectorStoreError>;
    /// MUST return `NotFound` when the project has no such vector.
    async fn get(
        &self,
        project_id: ProjectId,
        id: &VectorId,
    ) -> Result<VectorRecord, VectorStoreError>;
    /// The vectors with these ids that exist, with embeddings, in no particular order.
    async fn get_many(
        &self,
        project_id: ProjectId,
        ids: &[VectorId],
    ) -> Result<Vec<VectorRecord>, VectorStoreError>;
    /// Full-text search over the documents of one namespace: the best `limit` matches of
    /// the filter, best first, without embeddings. Sees every write that has returned.
    /// MUST return `NamespaceNotFound` for an unknown namespace.
    async fn lexical(
        &self,
        project_id: ProjectId,
        request: &LexicalRequest,
    ) -> Result<Vec<LexicalMatch>, VectorStoreError>;
    /// Vectors ordered by id, after `after`, at most `limit`; `namespace: None` lists every
    /// user namespace and MUST leave out the reserved (`__`) ones.
    async fn list(
        &self,
        project_id: ProjectId,
        namespace: Option<NamespaceName>,
        after: Option<VectorId>,
        limit: u32,
        with_embeddings: bool,
    ) -> Result<Vec<VectorRecord>, VectorStoreError>;
    /// Deletes the selected vectors and answers how many there were.
    async fn delete(
        &self,
        project_id: ProjectId,
        selector: &VectorSelector,
    ) -> Result<u64, VectorStoreError>;
    /// The `limit` most similar vectors that match the filter, best first, exactly scored.
    /// MUST return `NamespaceNotFound` for an unknown namespace and `DimensionMismatch` for
    /// a query of the wrong length.
    async fn search(
        &self,
        project_id: ProjectId,
        request: &SearchRequest,
    ) -> Result<SearchResults, VectorStoreError>;
}

/// One committed change, in the project's change sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum VectorChange {
    Upserted {
        seq: i64,
        namespace: String,
        id: VectorId,
        embedding: Vec<f32>,
        metadata: Map<String, Value>,
        document: Option<String>,
        source: Option<String>,
    },
    Deleted {
        seq: i64,
        namespace: String,
        id: VectorId,
    },
}

impl VectorChange {
    pub fn seq(&self) -> i64 {
        match self {
            Self::Upserted { seq, .. } | Self::Deleted { seq, .. } => *seq,
        }
    }
    pub fn namespace(&self) -> &str {
        match self {
            Self::Upserted { namespace, .. } | Self::Deleted { namespace, .. } => namespace,
        }
    }
}

/// Called with a project whose vectors may have changed (in any process).
pub type ChangeListener = Arc<dyn Fn(ProjectId) + Send + Sync>;

/// The durable record of every project's vectors, with a change sequence per project that
/// increases in commit order, so that derived indexes can catch up.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VectorRecords: Send + Sync + 'static {
    /// As [`VectorStore::create_namespace`].
    async fn create_namespace(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        spec: NamespaceSpec,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError>;
    /// As [`VectorStore::record_embedding_model`].
    async fn record_embedding_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        model: &str,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError>;
    /// As [`VectorStore::namespace_model`].
    async fn namespace_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
    ) -> Result<Option<String>, VectorStoreError>;
    async fn namespaces(&self, project_id: ProjectId) -> Result<Vec<Namespace>, VectorStoreError>;
    /// As [`VectorStore::upsert`]; also answers the committed changes.
    async fn upsert(
        &self,
        project_id: ProjectId,
        vectors: Vec<NewVector>,
        default_spec: NamespaceSpec,
    ) -> Result<(Vec<UpsertOutcome>, Vec<VectorChange>), VectorStoreError>;
    async fn get(
        &self,
        project_id: ProjectId,
        id: &VectorId,
    ) -> Result<VectorRecord, VectorStoreError>;
    /// As [`VectorStore::lexical`].
    async fn lexical(
        &self,
        project_id: ProjectId,
        request: &LexicalRequest,
    ) -> Result<Vec<LexicalMatch>, VectorStoreError>;
    /// As [`VectorStore::list`]: `None` leaves out the reserved namespaces.
    async fn list(
        &self,
        project_id: ProjectId,
        namespace: Option<NamespaceName>,
        after: Option<VectorId>,
        limit: u32,
        with_embeddings: bool,
    ) -> Result<Vec<VectorRecord>, VectorStoreError>;
    /// The vectors with these ids (those that exist), with embeddings.
    async fn fetch(
        &self,
        project_id: ProjectId,
        ids: &[VectorId],
    ) -> Result<Vec<VectorRecord>, VectorStoreError>;
    /// Deletes the selection; answers the committed `Deleted` changes.
    async fn delete(
        &self,
        project_id: ProjectId,
        selector: &VectorSelector,
    ) -> Result<Vec<VectorChange>, VectorStoreError>;
    /// Changes after `after_seq` in sequence order, at most `limit`. A vector replaced or
    /// deleted since appears only in its latest state.
    async fn changes_since(
        &self,
        project_id: ProjectId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<VectorChange>, VectorStoreError>;
    /// The live vectors of one namespace with sequence after `after_seq`, in sequence order
    /// (for rebuilding an index).
    async fn live_vectors(
        &self,
        project_id: ProjectId,
        namespace: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<VectorChange>, VectorStoreError>;
    /// The last committed sequence of the project (0 if none).
    async fn current_seq(&self, project_id: ProjectId) -> Result<i64, VectorStoreError>;
    /// Every project's last committed sequence, for periodic reconciliation.
    async fn all_seqs(&self) -> Result<Vec<(ProjectId, i64)>, VectorStoreError>;
    /// Registers a listener called whenever another or this process commits a change.
    fn subscribe(&self, listener: ChangeListener);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(embedding: Vec<f32>) -> VectorInput {
        VectorInput {
            vector_id: None,
            namespace: None,
            embedding: Some(embedding),
            document: None,
            metadata: None,
            source: None,
        }
    }

    #[test]
    fn validation_rejects_bad_vectors() {
        assert!(input(vec![]).validate("", 100).is_err());
        assert!(input(vec![0.0; 4097]).validate("", 100).is_err());
        assert!(input(vec![1.0, f32::NAN]).validate("", 100).is_err());
        assert!(input(vec![f32::INFINITY]).validate("", 100).is_err());
        let mut big = input(vec![1.0]);
        big.metadata = Some(json!({"k": "x".repeat(200)}));
        let fields: Vec<_> = big
            .validate("vectors[1]", 100)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, vec!["vectors[1].vector_metadata"]);
        let mut not_object = input(vec![1.0]);
        not_object.metadata = Some(json!([1]));
        assert!(not_object.validate("", 100).is_err());
        let mut bad_ns = input(vec![1.0]);
        bad_ns.namespace = Some("no spaces".into());
        assert!(bad_ns.validate("", 100).is_err());
        let ok = input(vec![0.5, -1.0]).validate("", 100).ok();
        assert_eq!(ok.map(|v| v.namespace.as_str().to_owned()), Some("default".into()));
    }
}
