//! Agent memory: store, list, search ranked by meaning, recency and importance, context
//! windows, retention.

use super::Submission;
use crate::access::{AccessPolicy, Permission};
use crate::clock::Clock;
use crate::error::{ConflictKind, FieldViolation, ServiceError};
use crate::ids::ProjectId;
use crate::memory::TokenCounter;
use crate::memory::{
    DEFAULT_CONTEXT_TOKENS, DEFAULT_RETENTION_DAYS, Embedders, EmbeddingError, EmbeddingProvider,
    MAX_CONTENT_BYTES, MEMORY_NAMESPACE, MemoryFilter, MemoryRecord, MemoryRole, MemoryStore,
    ScoreBreakdown, reciprocal_rank_fusion,
};
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::quotas::QuotaPolicy;
use crate::storable::{check_instant, map_violations};
use crate::vectors::{
    MetadataFilter, NamespaceName, NamespaceSpec, NewVector, SearchRequest, VectorId,
    VectorSelector, VectorStore, VectorStoreError,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

const READ: Permission = Permission::Data(Area::Memory, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Memory, Operation::Write);
const EMBED: Permission = Permission::Data(Area::Vectors, Operation::Read);
pub const MAX_EMBED_TEXTS: usize = 256;
pub const MAX_STORE_BATCH: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct StoreInput {
    pub agent_id: Uuid,
    pub session_id: Uuid,
    pub role: String,
    pub content: String,
    pub embedding: Option<Vec<f32>>,
    pub metadata: Option<Value>,
    pub importance: Option<f32>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Memory searches rank by the same modes as the vectors API's.
pub use crate::vectors::SearchMode;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemorySearchInput {
    pub query: Option<String>,
    pub query_vector: Option<Vec<f32>>,
    pub mode: Option<String>,
    pub filter: MemoryFilter,
    pub metadata_filter: Option<Value>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemoryHit {
    pub record: MemoryRecord,
    pub breakdown: ScoreBreakdown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContextWindow {
    /// Chronological, ready for a prompt.
    pub memories: Vec<MemoryRecord>,
    pub total_tokens: usize,
    pub max_tokens: u32,
    pub tokenizer: &'static str,
    /// Whether relevant memories were left out for lack of room.
    pub truncated: bool,
}

/// A memory as stored, with whether its content was longer than the model reads (its
/// embedding then stands for its beginning only).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMemory {
    pub record: MemoryRecord,
    pub embedding_truncated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    pub embeddings: Vec<Vec<f32>>,
    pub model: String,
    pub dimensions: usize,
    /// Positions of the texts longer than the model reads (embedded from their beginning).
    pub truncated: Vec<usize>,
}

pub struct MemoryService {
    store: Arc<dyn MemoryStore>,
    vectors: Arc<dyn VectorStore>,
    embedders: Embedders,
    tokens: Arc<dyn TokenCounter>,
    access: Arc<AccessPolicy>,
    quotas: Arc<QuotaPolicy>,
    clock: Arc<dyn Clock>,
}

pub(crate) fn embedding_error(e: EmbeddingError) -> ServiceError {
    match e {
        EmbeddingError::Invalid(m) => ServiceError::invalid("texts", m),
        EmbeddingError::Unavailable(m) => ServiceError::Unavailable(m),
    }
}

/// Vector store errors about the memory namespace, named as memory.
fn memory_vector_error(e: VectorStoreError) -> ServiceError {
    match e {
        VectorStoreError::DimensionMismatch { expected, got, .. } => {
            ServiceError::DimensionMismatch { namespace: "memory".into(), expected, got }
        }
        VectorStoreError::ModelMismatch { recorded, got, .. } => ServiceError::conflict(
            ConflictKind::EmbeddingModelMismatch,
            format!(
                "the project's memories are embedded with model '{recorded}', not '{got}': set \
                 the database config's embedding_model to '{recorded}', or delete the memories \
                 before switching"
            ),
        ),
        other => other.into(),
    }
}

fn namespace() -> NamespaceName {
    NamespaceName::reserved(MEMORY_NAMESPACE)
}

/// The memory's facts the vector index filters on.
fn vector_metadata(r: &MemoryRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("agent_id".into(), json!(r.agent_id));
    m.insert("session_id".into(), json!(r.session_id));
    m.insert("role".into(), json!(r.role.as_str()));
    m.insert("created_ms".into(), json!(r.created_at.timestamp_millis()));
    m
}

fn vector_filter(f: &MemoryFilter) -> Result<Option<MetadataFilter>, ServiceError> {
    let mut m = Map::new();
    if let Some(a) = f.agent_id {
        m.insert("agent_id".into(), json!(a));
    }
    if let Some(s) = f.session_id {
        m.insert("session_id".into(), json!(s));
    }
    if let Some(r) = f.role {
        m.insert("role".into(), json!(r.as_str()));
    }
    let mut range = Map::new();
    if let Some(s) = f.since {
        range.insert("$gte".into(), json!(s.timestamp_millis()));
    }
    if let Some(u) = f.until {
        range.insert("$lt".into(), json!(u.timestamp_millis()));
    }
    if !range.is_empty() {
        m.insert("created_ms".into(), Value::Object(range));
    }
    if m.is_empty() { Ok(None) } else { MetadataFilter::parse(&Value::Object(m)).map(Some) }
}

/// Validates one memory and makes its record; the embedding is returned when given.
fn prepare(
    input: StoreInput,
    now: DateTime<Utc>,
    retention_days: u32,
) -> Result<(MemoryRecord, Option<Vec<f32>>), Vec<FieldViolation>> {
    let mut v = Vec::new();
    let role = MemoryRole::parse(&input.role);
    if role.is_none() {
        v.push(FieldViolation::new("role", "must be system, user or assistant"));
    }
    if input.content.trim().is_empty()
        || input.content.len() > MAX_CONTENT_BYTES
        || input.content.contains('\0')
    {
        v.push(FieldViolation::new("content", "must be 1 byte to 64 KiB of text without NUL"));
    }
    let importance = input.importance.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&importance) {
        v.push(FieldViolation::new("importance", "must be between 0 and 1"));
    }
    let metadata = match input.metadata {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m))
            if serde_json::to_vec(&m).map_or(usize::MAX, |b| b.len()) <= 16 * 1024 =>
        {
            m
        }
        Some(_) => {
            v.push(FieldViolation::new(
                "memory_metadata",
                "must be a JSON object of at most 16 KiB",
            ));
            Map::new()
        }
    };
    if let Some(e) = &input.embedding
        && (e.is_empty()
            || e.len() > crate::vectors::MAX_DIMENSION
            || e.iter().any(|x| !x.is_finite()))
    {
        v.push(FieldViolation::new("embedding", "must be 1 to 4096 finite numbers"));
    }
    map_violations("memory_metadata", &metadata, &mut v);
    if input.expires_at.is_some_and(|e| e <= now) {
        v.push(FieldViolation::new("expires_at", "must be in the future"));
    }
    if let Some(Err(ServiceError::InvalidInput(bad))) =
        input.expires_at.map(|e| check_instant("expires_at", &e))
    {
        v.extend(bad);
    }
    let (Some(role), true) = (role, v.is_empty()) else {
        return Err(v);
    };
    let expires_at = input.expires_at.or(Some(now + Duration::days(i64::from(retention_days))));
    let record = MemoryRecord {
        id: Uuid::now_v7(),
        agent_id: input.agent_id,
        session_id: input.session_id,
        role,
        content: input.content,
        metadata,
        importance,
        created_at: now,
        expires_at,
    };
    Ok((record, input.embedding))
}

impl MemoryService {
    pub fn new(
        store: Arc<dyn MemoryStore>,
        vectors: Arc<dyn VectorStore>,
        embedders: Embedders,
        tokens: Arc<dyn TokenCounter>,
        access: Arc<AccessPolicy>,
        quotas: Arc<QuotaPolicy>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, vectors, embedders, tokens, access, quotas, clock }
    }

    /// Stores a memory; embeds its content when no embedding is given.
    pub async fn store(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: StoreInput,
    ) -> Result<StoredMemory, ServiceError> {
        let mut stored =
            self.store_inputs(who, project_id, vec![input], Submission::Single).await?;
        stored.pop().ok_or_else(|| ServiceError::internal("no memory stored"))
    }

    /// Stores up to [`MAX_STORE_BATCH`] memories at once: all of them or, on any invalid
    /// one, none. Missing embeddings are generated in one call to the provider.
    pub async fn store_batch(
        &self,
        who: &Principal,
        project_id: ProjectId,
        inputs: Vec<StoreInput>,
    ) -> Result<Vec<StoredMemory>, ServiceError> {
        if inputs.is_empty() || inputs.len() > MAX_STORE_BATCH {
            return Err(ServiceError::invalid(
                "memories",
                format!("must hold 1 to {MAX_STORE_BATCH} memories"),
            ));
        }
        self.store_inputs(who, project_id, inputs, Submission::Batch).await
    }

    async fn store_inputs(
        &self,
        who: &Principal,
        project_id: ProjectId,
        inputs: Vec<StoreInput>,
        submission: Submission,
    ) -> Result<Vec<StoredMemory>, ServiceError> {
        let project = self.access.enabled_project(who, project_id, WRITE).await?;
        let retention =
            project.database_config.memory_retention_days.unwrap_or(DEFAULT_RETENTION_DAYS);
        let now = self.clock.now();
        let mut violations = Vec::new();
        let mut prepared = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix = if submission == Submission::Batch {
                format!("memories[{i}].")
            } else {
                String::new()
            };
            match prepare(input, now, retention) {
                Ok(p) => prepared.push(p),
                Err(v) => violations.extend(v.into_iter().map(|mut f| {
                    f.field.insert_str(0, &prefix);
                    f
                })),
            }
        }
        if !violations.is_empty() {
            return Err(ServiceError::InvalidInput(violations));
        }
        self.quotas
            .check_add(&project, crate::quotas::QuotaResource::Memories, prepared.len() as u64)
            .await?;
        let embedder = self.embedders.for_project(&project.database_config)?;
        let missing: Vec<String> =
            prepared.iter().filter(|(_, e)| e.is_none()).map(|(r, _)| r.content.clone()).collect();
        let mut generated = if missing.is_empty() {
            Vec::new()
        } else {
            let g = embedder.embed(missing.clone()).await.map_err(embedding_error)?;
            if g.len() != missing.len() {
                return Err(ServiceError::internal("embedder returned too few embeddings"));
            }
            g
        }
        .into_iter();
        let mut records = Vec::with_capacity(prepared.len());
        let mut vectors = Vec::with_capacity(prepared.len());
        for (record, embedding) in prepared {
            let (embedding, embedding_truncated) = match embedding {
                Some(given) => (given, false),
                None => match generated.next() {
                    Some(e) => (e, embedder.truncates(&record.content)),
                    None => return Err(ServiceError::internal("embedding missing")),
                },
            };
            vectors.push(NewVector {
                id: record.id.into(),
                namespace: namespace(),
                embedding,
                metadata: vector_metadata(&record),
                document: None,
                source: Some("memory".into()),
            });
            records.push(StoredMemory { record, embedding_truncated });
        }
        let dimension = vectors.first().map(|v| v.embedding.len() as u32);
        // The embeddings first: a record is only visible once it can be found by meaning too.
        // The namespace records the model, so vectors of two models never mix in it.
        self.vectors
            .record_embedding_model(project_id, &namespace(), &embedder.model(), dimension)
            .await
            .map_err(memory_vector_error)?;
        self.vectors
            .upsert(project_id, vectors, NamespaceSpec::default())
            .await
            .map_err(memory_vector_error)?;
        let plain: Vec<MemoryRecord> = records.iter().map(|s| s.record.clone()).collect();
        if let Err(e) = self.store.insert(project_id, plain).await {
            let ids = records.iter().map(|s| s.record.id.into()).collect();
            // The undo failing leaves embeddings without a record: searches skip them (no
            // record matches the hit) and they go when the project does.
            if let Err(undo) = self.vectors.delete(project_id, &VectorSelector::Ids(ids)).await {
                tracing::warn!(
                    error = %crate::error_chain(&undo),
                    "removing the embeddings of memories that were not stored failed"
                );
            }
            return Err(ServiceError::from_repo(e, "project"));
        }
        Ok(records)
    }

    pub async fn get(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
    ) -> Result<MemoryRecord, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        self.store
            .get(project_id, id, self.clock.now())
            .await
            .map_err(|e| ServiceError::from_repo(e, "memory"))
    }

    pub async fn delete(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: Uuid,
    ) -> Result<(), ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        self.store
            .delete(project_id, id)
            .await
            .map_err(|e| ServiceError::from_repo(e, "memory"))?;
        self.vectors.delete(project_id, &VectorSelector::Ids(vec![id.into()])).await?;
        Ok(())
    }

    /// Newest first.
    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        filter: MemoryFilter,
        page: PageRequest,
    ) -> Result<Page<MemoryRecord>, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let before = page.keyset()?;
        let records = self
            .store
            .list(project_id, &filter, before, page.limit.get() + 1, self.clock.now())
            .await?;
        Ok(Page::from_overfetch(records, page.limit, |r| Position::Keyset {
            t: r.created_at,
            id: r.id,
        }))
    }

    pub async fn search(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: MemorySearchInput,
    ) -> Result<(SearchMode, Vec<MemoryHit>), ServiceError> {
        let project = self.access.enabled_project(who, project_id, READ).await?;
        let weights = project.database_config.memory_ranking.unwrap_or_default();
        let limit = input.limit.unwrap_or(10);
        if !(1..=1000).contains(&limit) {
            return Err(ServiceError::invalid("limit", "must be 1 to 1000"));
        }
        let query = input.query.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let mode = match input.mode.as_deref() {
            Some(m) => SearchMode::parse(m).ok_or_else(|| {
                ServiceError::invalid("mode", "must be semantic, lexical or hybrid")
            })?,
            None if query.is_some() => SearchMode::Hybrid,
            None => SearchMode::Semantic,
        };
        if query.is_none() && (mode != SearchMode::Semantic || input.query_vector.is_none()) {
            return Err(ServiceError::invalid(
                "query",
                "give query text (or query_vector for semantic)",
            ));
        }
        let metadata_filter =
            input.metadata_filter.as_ref().map(MetadataFilter::parse).transpose()?;
        let embedder = self.embedders.for_project(&project.database_config)?;
        let ranked = self
            .candidates(project_id, embedder, query, input.query_vector, mode, &input.filter, limit)
            .await?;
        let now = self.clock.now();
        let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
        let records: HashMap<Uuid, MemoryRecord> =
            self.store.fetch(project_id, &ids, now).await?.into_iter().map(|r| (r.id, r)).collect();
        let mut hits: Vec<MemoryHit> = ranked
            .into_iter()
            .filter_map(|(id, similarity)| {
                let record = records.get(&id)?.clone();
                if metadata_filter.as_ref().is_some_and(|f| !f.matches(&record.metadata)) {
                    return None;
                }
                let age_hours = (now - record.created_at).num_milliseconds() as f32 / 3_600_000.0;
                let breakdown = weights.score(similarity, age_hours, record.importance);
                Some(MemoryHit { record, breakdown })
            })
            .collect();
        hits.sort_by(|a, b| b.breakdown.score.total_cmp(&a.breakdown.score));
        hits.truncate(limit as usize);
        Ok((mode, hits))
    }

    /// Candidate ids with their similarity in [0, 1], by mode.
    #[allow(clippy::too_many_arguments)]
    async fn candidates(
        &self,
        project_id: ProjectId,
        embedder: &Arc<dyn EmbeddingProvider>,
        query: Option<&str>,
        query_vector: Option<Vec<f32>>,
        mode: SearchMode,
        filter: &MemoryFilter,
        limit: u32,
    ) -> Result<Vec<(Uuid, f32)>, ServiceError> {
        let pool = (limit * 5).clamp(50, 1000);
        let semantic = if mode == SearchMode::Lexical {
            Vec::new()
        } else {
            let vector = match (query_vector, query) {
                (Some(v), _) => v,
                (None, Some(q)) => {
                    // A query embedded by one model finds nothing meaningful among vectors of
                    // another: refuse it rather than answer noise.
                    let model = embedder.model();
                    match self.vectors.namespace_model(project_id, &namespace()).await? {
                        Some(recorded) if recorded != model => {
                            return Err(memory_vector_error(VectorStoreError::ModelMismatch {
                                namespace: MEMORY_NAMESPACE.into(),
                                recorded,
                                got: model,
                            }));
                        }
                        _ => {}
                    }
                    embedder
                        .embed(vec![q.to_owned()])
                        .await
                        .map_err(embedding_error)?
                        .pop()
                        .unwrap_or_default()
                }
                (None, None) => Vec::new(),
            };
            let request = SearchRequest {
                namespace: namespace(),
                query: vector,
                limit: pool,
                filter: vector_filter(filter)?,
                min_score: None,
                include_vectors: false,
            };
            match self.vectors.search(project_id, &request).await {
                Ok(found) => found
                    .hits
                    .into_iter()
                    .filter_map(|h| Some((h.id.as_uuid()?, h.score.max(0.0))))
                    .collect(),
                Err(VectorStoreError::NamespaceNotFound) => Vec::new(),
                Err(e) => return Err(memory_vector_error(e)),
            }
        };
        let lexical: Vec<(Uuid, f32)> = match (mode, query) {
            (SearchMode::Semantic, _) | (_, None) => Vec::new(),
            (_, Some(q)) => {
                let hits =
                    self.store.lexical(project_id, q, filter, pool, self.clock.now()).await?;
                let best = hits.iter().map(|h| h.rank).fold(0f32, f32::max).max(f32::MIN_POSITIVE);
                hits.into_iter().map(|h| (h.record.id, h.rank / best)).collect()
            }
        };
        Ok(match mode {
            SearchMode::Semantic => semantic,
            SearchMode::Lexical => lexical,
            SearchMode::Hybrid => {
                let lists = [
                    semantic.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                    lexical.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                ];
                reciprocal_rank_fusion(&lists)
            }
        })
    }

    /// The memories that fit `max_tokens`, chosen by relevance to `query` (or the most
    /// recent without one), in chronological order.
    pub async fn context(
        &self,
        who: &Principal,
        project_id: ProjectId,
        agent_id: Uuid,
        session_id: Option<Uuid>,
        query: Option<String>,
        max_tokens: Option<u32>,
    ) -> Result<ContextWindow, ServiceError> {
        let max_tokens = max_tokens.unwrap_or(DEFAULT_CONTEXT_TOKENS);
        if !(1..=1_000_000).contains(&max_tokens) {
            return Err(ServiceError::invalid("max_tokens", "must be 1 to 1000000"));
        }
        let filter =
            MemoryFilter { agent_id: Some(agent_id), session_id, ..MemoryFilter::default() };
        let candidates: Vec<MemoryRecord> = match query.filter(|q| !q.trim().is_empty()) {
            Some(q) => {
                let input = MemorySearchInput {
                    query: Some(q),
                    filter: filter.clone(),
                    limit: Some(200),
                    ..MemorySearchInput::default()
                };
                self.search(who, project_id, input).await?.1.into_iter().map(|h| h.record).collect()
            }
            None => {
                self.access.enabled_project(who, project_id, READ).await?;
                self.store.list(project_id, &filter, None, 500, self.clock.now()).await?
            }
        };
        let mut chosen = Vec::new();
        let (mut total, mut truncated) = (0usize, false);
        for record in candidates {
            let tokens =
                self.tokens.count(&format!("{}: {}\n", record.role.as_str(), record.content));
            if total + tokens <= max_tokens as usize {
                total += tokens;
                chosen.push(record);
            } else {
                truncated = true;
            }
        }
        chosen.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(ContextWindow {
            memories: chosen,
            total_tokens: total,
            max_tokens,
            tokenizer: self.tokens.name(),
            truncated,
        })
    }

    /// Embeds texts with `model`, or the project's model without one.
    pub async fn embed(
        &self,
        who: &Principal,
        project_id: ProjectId,
        texts: Vec<String>,
        model: Option<&str>,
    ) -> Result<Embeddings, ServiceError> {
        let project = self.access.enabled_project(who, project_id, EMBED).await?;
        let embedder = match model {
            Some(name) => self.embedders.get(name).ok_or_else(|| self.embedders.unknown(name))?,
            None => self.embedders.for_project(&project.database_config)?,
        };
        if texts.is_empty() || texts.len() > MAX_EMBED_TEXTS {
            return Err(ServiceError::invalid("texts", "must hold 1 to 256 texts"));
        }
        if texts.iter().any(|t| t.len() > MAX_CONTENT_BYTES) {
            return Err(ServiceError::invalid("texts", "each text must be at most 64 KiB"));
        }
        let truncated = (0..texts.len()).filter(|&i| embedder.truncates(&texts[i])).collect();
        let embeddings = embedder.embed(texts).await.map_err(embedding_error)?;
        Ok(Embeddings {
            embeddings,
            model: embedder.model(),
            dimensions: embedder.dimension(),
            truncated,
        })
    }

    /// Deletes expired memories (and their embeddings); answers how many.
    pub async fn purge_expired(&self) -> Result<usize, ServiceError> {
        let gone = self.store.purge_expired(self.clock.now(), 1000).await?;
        let mut by_project: HashMap<ProjectId, Vec<Uuid>> = HashMap::new();
        for (p, id) in &gone {
            by_project.entry(*p).or_default().push(*id);
        }
        for (p, ids) in by_project {
            self.vectors
                .delete(p, &VectorSelector::Ids(ids.into_iter().map(VectorId::from).collect()))
                .await?;
        }
        Ok(gone.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::error::{Cause, RepositoryError};
    use crate::memory::{MockEmbeddingProvider, MockMemoryStore};
    use crate::services::test_support::owned_project;
    use crate::vectors::{MockVectorStore, UpsertOutcome};
    use chrono::{TimeDelta, TimeZone};

    struct Words;

    impl TokenCounter for Words {
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
        fn name(&self) -> &'static str {
            "words"
        }
    }

    /// The service over the mocks; the embedder is model "mock" and reads any text whole,
    /// and the memory namespace takes its model.
    fn service(
        store: MockMemoryStore,
        mut vectors: MockVectorStore,
        mut embedder: MockEmbeddingProvider,
        clock: Arc<ManualClock>,
    ) -> (MemoryService, Principal, ProjectId) {
        let p = owned_project();
        embedder.expect_model().returning(|| "mock".into());
        embedder.expect_dimension().return_const(2usize);
        embedder.expect_truncates().return_const(false);
        vectors.expect_record_embedding_model().returning(|_, name, model, dimension| {
            Ok(crate::vectors::Namespace {
                name: name.as_str().into(),
                dimension,
                spec: NamespaceSpec::default(),
                embedding_model: Some(model.into()),
                vector_count: 0,
                created_at: Utc::now(),
            })
        });
        let service = MemoryService::new(
            Arc::new(store),
            Arc::new(vectors),
            Embedders::new(Arc::new(embedder), Vec::new()),
            Arc::new(Words),
            p.access,
            p.quotas,
            clock,
        );
        (service, p.owner, p.project_id)
    }

    fn input(content: &str) -> StoreInput {
        StoreInput {
            agent_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            role: "user".into(),
            content: content.into(),
            embedding: None,
            metadata: None,
            importance: None,
            expires_at: None,
        }
    }

    fn accepted(vectors: &mut MockVectorStore) {
        vectors.expect_upsert().returning(|_, vs, _| {
            Ok(vs.iter().map(|v| UpsertOutcome { id: v.id.clone(), created: true }).collect())
        });
    }

    #[tokio::test]
    async fn a_memory_is_embedded_indexed_then_stored_at_the_clocks_time() {
        let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).single().unwrap_or_default();
        let mut embedder = MockEmbeddingProvider::new();
        embedder
            .expect_embed()
            .withf(|texts| texts == &["green tea".to_owned()])
            .times(1)
            .returning(|_| Ok(vec![vec![0.6, 0.8]]));
        let mut vectors = MockVectorStore::new();
        vectors
            .expect_upsert()
            .withf(|_, vs, _| vs.len() == 1 && vs[0].namespace.as_str() == MEMORY_NAMESPACE)
            .times(1)
            .returning(|_, vs, _| Ok(vec![UpsertOutcome { id: vs[0].id.clone(), created: true }]));
        let mut store = MockMemoryStore::new();
        store
            .expect_insert()
            .withf(move |_, records| {
                records.len() == 1
                    && records[0].created_at == at
                    && records[0].expires_at
                        == Some(at + TimeDelta::days(i64::from(DEFAULT_RETENTION_DAYS)))
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let clock = Arc::new(ManualClock::starting_at(at));
        let (service, owner, project) = service(store, vectors, embedder, clock);
        let record = service.store(&owner, project, input("green tea")).await.unwrap();
        assert_eq!((record.record.content.as_str(), record.record.created_at), ("green tea", at));
        assert!(!record.embedding_truncated);
    }

    #[tokio::test]
    async fn a_query_is_not_compared_with_memories_another_model_embedded() {
        let mut embedder = MockEmbeddingProvider::new();
        embedder.expect_embed().never();
        let mut vectors = MockVectorStore::new();
        vectors.expect_namespace_model().returning(|_, _| Ok(Some("older-model".into())));
        vectors.expect_search().never();
        let (service, owner, project) =
            service(MockMemoryStore::new(), vectors, embedder, Arc::new(ManualClock::default()));
        let input = MemorySearchInput {
            query: Some("tea".into()),
            mode: Some("semantic".into()),
            ..MemorySearchInput::default()
        };
        let err = service.search(&owner, project, input).await.unwrap_err();
        assert!(
            matches!(&err, ServiceError::Conflict { kind: ConflictKind::EmbeddingModelMismatch, message }
                if message.contains("'older-model', not 'mock'")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_record_that_cannot_be_stored_takes_its_embedding_back() {
        let mut embedder = MockEmbeddingProvider::new();
        embedder.expect_embed().returning(|texts| Ok(texts.iter().map(|_| vec![1.0]).collect()));
        let mut vectors = MockVectorStore::new();
        accepted(&mut vectors);
        vectors
            .expect_delete()
            .withf(|_, selector| matches!(selector, VectorSelector::Ids(ids) if ids.len() == 2))
            .times(1)
            .returning(|_, _| Ok(2));
        let mut store = MockMemoryStore::new();
        store
            .expect_insert()
            .returning(|_, _| Err(RepositoryError::Unavailable(Cause::msg("database down"))));
        let (service, owner, project) =
            service(store, vectors, embedder, Arc::new(ManualClock::default()));
        let err = service
            .store_batch(&owner, project, vec![input("one"), input("two")])
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Unavailable(_)), "{err:?}");
    }

    #[tokio::test]
    async fn purges_use_the_clock_and_remove_the_embeddings_too() {
        let clock = Arc::new(ManualClock::default());
        clock.advance(TimeDelta::days(400));
        let expected = clock.now();
        let (project, id) = (ProjectId::new(), Uuid::now_v7());
        let mut store = MockMemoryStore::new();
        store
            .expect_purge_expired()
            .withf(move |now, _| *now == expected)
            .returning(move |_, _| Ok(vec![(project, id)]));
        let mut vectors = MockVectorStore::new();
        vectors
            .expect_delete()
            .withf(move |p, selector| {
                *p == project
                    && matches!(selector, VectorSelector::Ids(ids) if ids == &[VectorId::from(id)])
            })
            .times(1)
            .returning(|_, _| Ok(1));
        let (service, _, _) = service(store, vectors, MockEmbeddingProvider::new(), clock);
        assert_eq!(service.purge_expired().await, Ok(1));
    }
}
