//! Agent memory: what agents said and learned, recalled by meaning, words, recency and
//! importance, and assembled into context windows.
//!
//! Records live behind [`MemoryStore`] (PostgreSQL, with full-text search); their
//! embeddings live in the project's vector store under the reserved namespace
//! [`MEMORY_NAMESPACE`], so memory reuses the vector index instead of keeping a second one.

mod embedders;
mod embedding_cache;
mod ranking;

pub use embedders::{Embedders, OfferedModel};
#[cfg(any(test, feature = "mocks"))]
pub use embedding_cache::MockEmbeddingCache;
pub use embedding_cache::{CachedEmbedder, EmbeddingCache, embedding_key};
pub use ranking::{RRF_K, RankingWeights, ScoreBreakdown, reciprocal_rank_fusion};

use crate::error::Cause;
use crate::error::RepositoryError;
use crate::ids::ProjectId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The vector namespace holding memory embeddings; user namespaces cannot start with `__`.
pub const MEMORY_NAMESPACE: &str = "__memory";
pub const MAX_CONTENT_BYTES: usize = 64 * 1024;
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
pub const DEFAULT_CONTEXT_TOKENS: u32 = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoryRole {
    System,
    User,
    Assistant,
}

impl MemoryRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "system" => Some(Self::System),
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemoryRecord {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub session_id: Uuid,
    pub role: MemoryRole,
    pub content: String,
    pub metadata: Map<String, Value>,
    /// 0..=1, default 0.5.
    pub importance: f32,
    pub created_at: DateTime<Utc>,
    /// After this the record is never returned and is purged.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Which memories to list or search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryFilter {
    pub agent_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub role: Option<MemoryRole>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A full-text hit: the record and its rank (higher is better).
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalHit {
    pub record: MemoryRecord,
    pub rank: f32,
}

/// Durable memory records with full-text search.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MemoryStore: Send + Sync + 'static {
    /// All of `records` or none. MUST return `NotFound` when the project does not exist.
    async fn insert(
        &self,
        project_id: ProjectId,
        records: Vec<MemoryRecord>,
    ) -> Result<(), RepositoryError>;
    /// Records not expired at `now`. MUST return `NotFound` for a missing or expired one.
    async fn get(
        &self,
        project_id: ProjectId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<MemoryRecord, RepositoryError>;
    /// Newest first, strictly before `before` (created_at, id), at most `limit`.
    async fn list(
        &self,
        project_id: ProjectId,
        filter: &MemoryFilter,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<MemoryRecord>, RepositoryError>;
    /// The existing, unexpired records among `ids`.
    async fn fetch(
        &self,
        project_id: ProjectId,
        ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<MemoryRecord>, RepositoryError>;
    /// Full-text search of `content`, best first.
    async fn lexical(
        &self,
        project_id: ProjectId,
        query: &str,
        filter: &MemoryFilter,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<LexicalHit>, RepositoryError>;
    /// MUST return `NotFound` when there is no such record.
    async fn delete(&self, project_id: ProjectId, id: Uuid) -> Result<(), RepositoryError>;
    /// Deletes up to `limit` records expired at `now`; answers them.
    async fn purge_expired(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(ProjectId, Uuid)>, RepositoryError>;
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbeddingError {
    #[error("embedding input invalid: {0}")]
    Invalid(String),
    #[error("embedding service unavailable")]
    Unavailable(#[source] Cause),
}

/// Counts tokens the way a model's tokenizer does (for context windows).
pub trait TokenCounter: Send + Sync + 'static {
    fn count(&self, text: &str) -> usize;
    fn name(&self) -> &'static str;
}

/// Turns texts into vectors.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EmbeddingProvider: Send + Sync + 'static {
    /// One embedding per text, in order, each `dimension()` long.
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbeddingError>;
    fn model(&self) -> String;
    fn dimension(&self) -> usize;
    /// Whether `text` is longer than the model reads (it is embedded from its beginning).
    /// Providers without a known input limit answer false.
    fn truncates(&self, _text: &str) -> bool {
        false
    }
}
