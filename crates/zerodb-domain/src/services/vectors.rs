//! Vector namespaces, upserts, similarity search, listing and deletion.

use super::Submission;
use crate::access::{AccessPolicy, Permission};
use crate::error::FieldViolation;
use crate::error::{ConflictKind, ServiceError};
use crate::ids::ProjectId;
use crate::memory::{Embedders, EmbeddingProvider};
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::projects::Project;
use crate::quotas::QuotaPolicy;
use crate::services::memory::embedding_error;
use crate::vectors::{
    FusionWeights, Include, LexicalRequest, MAX_IDS_PER_DELETE, MAX_SEARCH_LIMIT,
    MAX_VECTORS_PER_BATCH, MetadataFilter, Metric, MmrOptions, Namespace, NamespaceName,
    NamespaceSpec, NamespaceStats, NewVector, Quantization, ScoreBreakdown, SearchHit, SearchMode,
    SearchPath, SearchRequest, UpsertOutcome, VectorId, VectorInput, VectorRecord, VectorSelector,
    VectorStore, VectorStoreError, fuse, maximal_marginal_relevance,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

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

/// A search as a client asks for it: a vector or a text, and how to rank.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchInput {
    pub query_vector: Option<Vec<f32>>,
    /// Text: embedded with the namespace's model for the semantic side, words for the
    /// lexical side.
    pub query: Option<String>,
    /// `semantic`, `lexical` or `hybrid`; by default semantic for a vector, hybrid for a
    /// text.
    pub mode: Option<String>,
    pub namespace: Option<String>,
    pub limit: Option<u32>,
    pub filter: Option<Value>,
    pub min_score: Option<f32>,
    /// `None`: documents, metadata and scores.
    pub include: Option<Vec<String>>,
    /// The older spelling of `include: [..., "vectors"]`.
    pub include_vectors: bool,
    pub weights: Option<FusionWeights>,
    pub mmr: Option<MmrOptions>,
}

/// A delete as a client asks for it: ids, or a namespace and a filter.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteInput {
    pub vector_ids: Option<Vec<String>>,
    pub namespace: Option<String>,
    pub filter: Option<Value>,
}

/// A get as a client asks for it: ids, or a filter with a page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GetInput {
    pub ids: Option<Vec<String>>,
    pub namespace: Option<String>,
    pub filter: Option<Value>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// `None`: documents and metadata.
    pub include: Option<Vec<String>>,
}

/// A hit of a search with where its score came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedHit {
    pub hit: SearchHit,
    /// Present in lexical and hybrid mode.
    pub breakdown: Option<ScoreBreakdown>,
}

/// A search's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    pub hits: Vec<RankedHit>,
    pub path: SearchPath,
    pub mode: SearchMode,
    pub include: Include,
}

/// A get's answer: records in the order asked (ids) or id order (filter).
#[derive(Debug, Clone, PartialEq)]
pub struct GetOutcome {
    pub records: Vec<VectorRecord>,
    pub next_cursor: Option<String>,
    pub include: Include,
}

/// How many candidates each list of a hybrid search contributes, per result asked.
const HYBRID_DEPTH_FACTOR: u32 = 4;
/// And at least this many.
const HYBRID_MIN_DEPTH: u32 = 50;

pub struct VectorService {
    store: Arc<dyn VectorStore>,
    access: Arc<AccessPolicy>,
    options: VectorOptions,
    quotas: Arc<QuotaPolicy>,
    embedders: Embedders,
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
        embedders: Embedders,
    ) -> Self {
        Self { store, access, options, quotas, embedders }
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

    /// One namespace with its settings and count.
    pub async fn namespace(
        &self,
        who: &Principal,
        project_id: ProjectId,
        name: &str,
    ) -> Result<NamespaceStats, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let name = NamespaceName::new(name, "namespace")?;
        self.find_namespace(project_id, &name).await?.ok_or(ServiceError::not_found("namespace"))
    }

    async fn find_namespace(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
    ) -> Result<Option<NamespaceStats>, ServiceError> {
        let all = self.store.namespaces(project_id).await?;
        Ok(all.into_iter().find(|n| n.namespace.name == name.as_str()))
    }

    /// The model that embeds texts for a namespace: the one recorded for its vectors, or
    /// the project's when the namespace is new (`writing`) or empty. A namespace whose
    /// vectors came from the client has no model to embed a text with.
    async fn model_for_text(
        &self,
        project: &Project,
        name: &NamespaceName,
        writing: bool,
    ) -> Result<Arc<dyn EmbeddingProvider>, ServiceError> {
        if let Some(model) = self.store.namespace_model(project.id, name).await? {
            return self.embedders.get(&model).cloned().ok_or_else(|| {
                ServiceError::conflict(
                    ConflictKind::EmbeddingModelMismatch,
                    format!(
                        "namespace '{}' holds vectors made by model '{model}', which this \
                         server no longer offers",
                        name.as_str()
                    ),
                )
            });
        }
        match self.find_namespace(project.id, name).await? {
            Some(ns) if ns.namespace.vector_count > 0 => {
                Err(ServiceError::NamespaceWithoutModel { namespace: name.as_str().to_owned() })
            }
            None if !writing => Err(ServiceError::not_found("namespace")),
            _ => Ok(self.embedders.for_project(&project.database_config)?.clone()),
        }
    }

    /// Upserts 1..=1000 vectors, all or nothing. Vectors sent with a document and without
    /// an embedding are embedded first, one call per namespace, with its model.
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
        let mut seen = HashSet::with_capacity(vectors.len());
        if let Some(dup) = vectors.iter().find(|v| !seen.insert(&v.id)) {
            return Err(ServiceError::invalid(
                "vectors",
                format!("vector_id {} appears more than once", dup.id),
            ));
        }
        self.quotas.check_vectors(&project, vectors.iter().map(|v| v.id.clone()).collect()).await?;
        self.embed_documents(&project, &mut vectors).await?;
        Ok(self.store.upsert(project_id, vectors, self.options.default_spec).await?)
    }

    /// Fills in the embeddings of vectors sent as text.
    async fn embed_documents(
        &self,
        project: &Project,
        vectors: &mut [NewVector],
    ) -> Result<(), ServiceError> {
        let mut by_namespace: BTreeMap<NamespaceName, Vec<usize>> = BTreeMap::new();
        for (i, v) in vectors.iter().enumerate() {
            if v.embedding.is_empty() {
                by_namespace.entry(v.namespace.clone()).or_default().push(i);
            }
        }
        for (namespace, positions) in by_namespace {
            let embedder = self.model_for_text(project, &namespace, true).await?;
            let texts: Vec<String> = positions
                .iter()
                .map(|&i| vectors[i].document.clone().unwrap_or_default())
                .collect();
            let embeddings = embedder.embed(texts).await.map_err(embedding_error)?;
            if embeddings.len() != positions.len() {
                return Err(ServiceError::internal("embedder returned too few embeddings"));
            }
            // Recorded before the vectors are written, so that a concurrent client vector of
            // another model is refused rather than mixed in.
            self.store
                .record_embedding_model(
                    project.id,
                    &namespace,
                    &embedder.model(),
                    Some(embedder.dimension() as u32),
                )
                .await?;
            for (&i, embedding) in positions.iter().zip(embeddings) {
                vectors[i].embedding = embedding;
            }
        }
        Ok(())
    }

    pub async fn get(
        &self,
        who: &Principal,
        project_id: ProjectId,
        id: &str,
    ) -> Result<VectorRecord, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let id = VectorId::parse(id, "vector_id")?;
        let record = self.store.get(project_id, &id).await?;
        // ZeroDB's own namespaces (memory embeddings) are not the vectors API's to show.
        if NamespaceName::is_reserved(&record.namespace) {
            return Err(ServiceError::not_found("vector"));
        }
        Ok(record)
    }

    /// Vectors by ids (in the order asked; missing ones left out), or a page of a
    /// namespace's vectors matching a filter, in id order.
    pub async fn get_many(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: GetInput,
    ) -> Result<GetOutcome, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let include = match &input.include {
            None => Include { documents: true, metadata: true, vectors: false, scores: false },
            Some(names) => parse_include(names)?,
        };
        let namespace =
            input.namespace.as_deref().map(|n| NamespaceName::new(n, "namespace")).transpose()?;
        match input {
            GetInput { ids: Some(ids), filter: None, cursor: None, limit: None, .. } => {
                if ids.is_empty() || ids.len() > MAX_IDS_PER_DELETE {
                    return Err(ServiceError::invalid("ids", "must hold 1 to 1000 ids"));
                }
                let ids = parse_ids("ids", &ids)?;
                let found = self.store.get_many(project_id, &ids).await?;
                let mut by_id: HashMap<VectorId, VectorRecord> = found
                    .into_iter()
                    .filter(|r| !NamespaceName::is_reserved(&r.namespace))
                    .filter(|r| namespace.as_ref().is_none_or(|n| n.as_str() == r.namespace))
                    .map(|r| (r.id.clone(), r))
                    .collect();
                let records = ids.iter().filter_map(|id| by_id.remove(id)).collect();
                Ok(GetOutcome { records, next_cursor: None, include })
            }
            GetInput { ids: None, filter, limit, cursor, .. } => {
                let namespace = match namespace {
                    Some(n) => n,
                    None => NamespaceName::new(crate::vectors::DEFAULT_NAMESPACE, "namespace")?,
                };
                let filter = filter.as_ref().map(MetadataFilter::parse).transpose()?;
                let page = PageRequest::parse(limit, cursor.as_deref())?;
                let mut after = after_id(&page)?;
                let want = page.limit.get() as usize + 1;
                let mut records = Vec::new();
                // The filter language is evaluated in Rust (one implementation for every
                // store), so a page is read in id order until enough records match.
                loop {
                    let ask = if filter.is_some() { MAX_SEARCH_LIMIT } else { want as u32 };
                    let batch = self
                        .store
                        .list(
                            project_id,
                            Some(namespace.clone()),
                            after.clone(),
                            ask,
                            include.vectors,
                        )
                        .await?;
                    let exhausted = batch.len() < ask as usize;
                    after = batch.last().map(|r| r.id.clone());
                    records.extend(
                        batch
                            .into_iter()
                            .filter(|r| filter.as_ref().is_none_or(|f| f.matches(&r.metadata))),
                    );
                    if exhausted || records.len() >= want {
                        break;
                    }
                }
                records.truncate(want);
                let page = Page::from_overfetch(records, page.limit, |r| Position::Key {
                    f: r.id.to_string(),
                });
                Ok(GetOutcome { records: page.items, next_cursor: page.next_cursor, include })
            }
            _ => Err(ServiceError::invalid(
                "ids",
                "give either ids, or a filter (with an optional namespace, limit and cursor)",
            )),
        }
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
        let after = after_id(&page)?;
        let records = self
            .store
            .list(project_id, namespace, after, page.limit.get() + 1, with_embeddings)
            .await?;
        Ok(Page::from_overfetch(records, page.limit, |r| Position::Key { f: r.id.to_string() }))
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
                VectorSelector::UserIds(parse_ids("vector_ids", &ids)?)
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
        id: &str,
    ) -> Result<(), ServiceError> {
        self.access.enabled_project(who, project_id, WRITE).await?;
        let id = VectorId::parse(id, "vector_id")?;
        match self.store.delete(project_id, &VectorSelector::UserIds(vec![id])).await? {
            0 => Err(ServiceError::not_found("vector")),
            _ => Ok(()),
        }
    }

    /// Similarity, text or hybrid search, optionally diversified by MMR.
    pub async fn search(
        &self,
        who: &Principal,
        project_id: ProjectId,
        input: SearchInput,
    ) -> Result<SearchOutcome, ServiceError> {
        let project = self.access.enabled_project(who, project_id, READ).await?;
        let plan = search_plan(input)?;
        let query_vector = match (&plan.vector, &plan.text, plan.mode) {
            (Some(v), _, _) => Some(v.clone()),
            (None, _, SearchMode::Lexical) | (None, None, _) => None,
            (None, Some(text), _) => {
                let embedder = self.model_for_text(&project, &plan.namespace, false).await?;
                let mut embedded =
                    embedder.embed(vec![text.clone()]).await.map_err(embedding_error)?;
                Some(embedded.pop().ok_or_else(|| ServiceError::internal("no query embedding"))?)
            }
        };
        let depth = match (plan.mode, plan.mmr) {
            (_, Some(mmr)) => mmr.fetch_k.max(plan.limit),
            (SearchMode::Hybrid, None) => {
                (plan.limit * HYBRID_DEPTH_FACTOR).clamp(HYBRID_MIN_DEPTH, MAX_SEARCH_LIMIT)
            }
            _ => plan.limit,
        };
        let need_vectors = plan.include.vectors || plan.mmr.is_some();
        // The plain similarity search skips the fusion bookkeeping: it is the hot path.
        if let (Some(query), SearchMode::Semantic, None) = (&query_vector, plan.mode, plan.mmr) {
            let request = SearchRequest {
                namespace: plan.namespace,
                query: query.clone(),
                limit: plan.limit,
                filter: plan.filter,
                min_score: plan.min_score,
                include_vectors: plan.include.vectors,
            };
            let found = self.store.search(project_id, &request).await?;
            let hits =
                found.hits.into_iter().map(|hit| RankedHit { hit, breakdown: None }).collect();
            return Ok(SearchOutcome {
                hits,
                path: found.path,
                mode: plan.mode,
                include: plan.include,
            });
        }
        let mut candidates: Vec<SearchHit> = Vec::new();
        let mut position: HashMap<VectorId, usize> = HashMap::new();
        let mut semantic: Vec<(usize, f32)> = Vec::new();
        let mut path = SearchPath::Index;
        if let Some(query) = query_vector.filter(|_| plan.mode != SearchMode::Lexical) {
            let request = SearchRequest {
                namespace: plan.namespace.clone(),
                query,
                limit: depth,
                filter: plan.filter.clone(),
                // Fused scores are compared with min_score after fusion.
                min_score: plan.min_score.filter(|_| plan.mode == SearchMode::Semantic),
                include_vectors: need_vectors,
            };
            let found = self.store.search(project_id, &request).await?;
            path = found.path;
            for hit in found.hits {
                semantic.push((candidates.len(), hit.score));
                position.insert(hit.id.clone(), candidates.len());
                candidates.push(hit);
            }
        }
        let mut lexical: Vec<(usize, f32)> = Vec::new();
        if let (Some(text), true) = (&plan.text, plan.mode != SearchMode::Semantic) {
            let request = LexicalRequest {
                namespace: plan.namespace.clone(),
                query: text.clone(),
                limit: depth,
                filter: plan.filter.clone(),
            };
            let matches = self.store.lexical(project_id, &request).await?;
            let best = matches.first().map_or(1.0, |m| m.rank).max(f32::MIN_POSITIVE);
            for m in matches {
                let at = *position.entry(m.hit.id.clone()).or_insert_with(|| {
                    candidates.push(m.hit);
                    candidates.len() - 1
                });
                lexical.push((at, (m.rank / best).min(1.0)));
            }
        }
        let semantic_of: HashMap<usize, f32> = semantic.iter().copied().collect();
        let lexical_of: HashMap<usize, f32> = lexical.iter().copied().collect();
        let mut ranked: Vec<(usize, f32)> = match plan.mode {
            SearchMode::Semantic => semantic.clone(),
            SearchMode::Lexical => lexical.clone(),
            SearchMode::Hybrid => {
                let s: Vec<usize> = semantic.iter().map(|(i, _)| *i).collect();
                let l: Vec<usize> = lexical.iter().map(|(i, _)| *i).collect();
                fuse(&s, &l, plan.weights)
            }
        };
        if plan.mode != SearchMode::Semantic
            && let Some(min) = plan.min_score
        {
            ranked.retain(|(_, score)| *score >= min);
        }
        if need_vectors {
            self.fill_embeddings(project_id, &mut candidates, &ranked).await?;
        }
        if let Some(mmr) = plan.mmr {
            ranked.truncate(mmr.fetch_k.max(plan.limit) as usize);
            let relevance: Vec<f32> = ranked.iter().map(|(_, s)| *s).collect();
            let embeddings: Vec<&[f32]> = ranked
                .iter()
                .map(|(i, _)| candidates[*i].embedding.as_deref().unwrap_or(&[]))
                .collect();
            let picked = maximal_marginal_relevance(
                &relevance,
                &embeddings,
                plan.limit as usize,
                mmr.lambda,
            );
            ranked = picked.into_iter().map(|p| ranked[p]).collect();
        }
        ranked.truncate(plan.limit as usize);
        let mut slots: Vec<Option<SearchHit>> = candidates.into_iter().map(Some).collect();
        let hits = ranked
            .into_iter()
            .filter_map(|(i, score)| {
                let mut hit = slots[i].take()?;
                hit.score = score;
                if !plan.include.vectors {
                    hit.embedding = None;
                }
                let breakdown = (plan.mode != SearchMode::Semantic).then(|| ScoreBreakdown {
                    semantic: semantic_of.get(&i).copied(),
                    lexical: lexical_of.get(&i).copied(),
                    fused: score,
                });
                Some(RankedHit { hit, breakdown })
            })
            .collect();
        Ok(SearchOutcome { hits, path, mode: plan.mode, include: plan.include })
    }

    /// Reads the embeddings of ranked candidates that came without one (text matches).
    async fn fill_embeddings(
        &self,
        project_id: ProjectId,
        candidates: &mut [SearchHit],
        ranked: &[(usize, f32)],
    ) -> Result<(), ServiceError> {
        let missing: Vec<VectorId> = ranked
            .iter()
            .filter(|(i, _)| candidates[*i].embedding.is_none())
            .map(|(i, _)| candidates[*i].id.clone())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut found: HashMap<VectorId, Vec<f32>> = self
            .store
            .get_many(project_id, &missing)
            .await?
            .into_iter()
            .map(|r| (r.id, r.embedding))
            .collect();
        for (i, _) in ranked {
            if candidates[*i].embedding.is_none() {
                candidates[*i].embedding = found.remove(&candidates[*i].id);
            }
        }
        Ok(())
    }
}

fn parse_ids(field: &str, raw: &[String]) -> Result<Vec<VectorId>, ServiceError> {
    let mut violations = Vec::new();
    let ids: Vec<VectorId> = raw
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            VectorId::check(r)
                .map_err(|reason| {
                    violations.push(FieldViolation::new(format!("{field}[{i}]"), reason))
                })
                .ok()
        })
        .collect();
    if violations.is_empty() { Ok(ids) } else { Err(ServiceError::InvalidInput(violations)) }
}

fn parse_include(names: &[String]) -> Result<Include, ServiceError> {
    Include::parse(names.iter().map(String::as_str))
        .map_err(|r| ServiceError::invalid("include", r))
}

/// The id a page starts after. Cursors issued before ids were strings carry a time and
/// a UUID; they still work.
fn after_id(page: &PageRequest) -> Result<Option<VectorId>, ServiceError> {
    match &page.after {
        None => Ok(None),
        Some(Position::Key { f }) => Ok(Some(VectorId::from_stored(f))),
        Some(Position::Keyset { id, .. }) => Ok(Some(VectorId::from_uuid(*id))),
        Some(_) => Err(ServiceError::InvalidCursor("it belongs to another list".into())),
    }
}

/// A validated search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    pub namespace: NamespaceName,
    pub vector: Option<Vec<f32>>,
    pub text: Option<String>,
    pub mode: SearchMode,
    pub limit: u32,
    pub filter: Option<MetadataFilter>,
    pub min_score: Option<f32>,
    pub include: Include,
    pub weights: FusionWeights,
    pub mmr: Option<MmrOptions>,
}

/// The longest text query, in bytes.
pub const MAX_QUERY_TEXT_BYTES: usize = 64 * 1024;

/// Validates a search, naming every field at fault.
pub fn search_plan(input: SearchInput) -> Result<SearchPlan, ServiceError> {
    let mut violations = Vec::new();
    let mut bad = |field: &str, reason: &str| violations.push(FieldViolation::new(field, reason));
    let namespace = NamespaceName::new(
        input.namespace.as_deref().unwrap_or(crate::vectors::DEFAULT_NAMESPACE),
        "namespace",
    )
    .ok();
    if namespace.is_none() {
        bad("namespace", "must match [A-Za-z0-9._-]{1,128} and not start with __");
    }
    match (&input.query_vector, &input.query) {
        (Some(_), Some(_)) => bad("query", "give query (text) or query_vector, not both"),
        (None, None) => bad("query_vector", "give query_vector, or query (a text)"),
        _ => {}
    }
    if let Some(v) = &input.query_vector {
        if v.is_empty() || v.len() > crate::vectors::MAX_DIMENSION {
            bad("query_vector", "must have 1 to 4096 numbers");
        } else if v.iter().any(|x| !x.is_finite()) {
            bad("query_vector", "must hold finite numbers");
        }
    }
    if let Some(t) = &input.query
        && (t.trim().is_empty() || t.len() > MAX_QUERY_TEXT_BYTES || t.contains('\0'))
    {
        bad("query", "must be 1 byte to 64 KiB of text without NUL");
    }
    let default_mode =
        if input.query.is_some() { SearchMode::Hybrid } else { SearchMode::Semantic };
    let mode = match input.mode.as_deref() {
        None => default_mode,
        Some(raw) => SearchMode::parse(raw).unwrap_or_else(|| {
            bad("mode", "must be semantic, lexical or hybrid");
            default_mode
        }),
    };
    if mode != SearchMode::Semantic && input.query.is_none() && input.query_vector.is_some() {
        bad("mode", "lexical and hybrid search need query (a text), not query_vector");
    }
    let limit = input.limit.unwrap_or(10);
    if !(1..=MAX_SEARCH_LIMIT).contains(&limit) {
        bad("limit", "must be 1 to 1000");
    }
    if input.min_score.is_some_and(|s| !s.is_finite()) {
        bad("min_score", "must be a finite number");
    }
    let weights = input.weights.unwrap_or_default();
    let weight_ok = |w: f32| w.is_finite() && w >= 0.0;
    if !weight_ok(weights.semantic)
        || !weight_ok(weights.lexical)
        || weights.semantic + weights.lexical <= 0.0
    {
        bad("weights", "must be finite, non-negative and not both zero");
    }
    if let Some(mmr) = input.mmr {
        if !(0.0..=1.0).contains(&mmr.lambda) {
            bad("mmr.lambda", "must be between 0 and 1");
        }
        if !(1..=MAX_SEARCH_LIMIT).contains(&mmr.fetch_k) {
            bad("mmr.fetch_k", "must be 1 to 1000");
        }
    }
    let mut include = match &input.include {
        None => Include::DEFAULT,
        Some(names) => Include::parse(names.iter().map(String::as_str)).unwrap_or_else(|r| {
            bad("include", &r);
            Include::DEFAULT
        }),
    };
    include.vectors |= input.include_vectors;
    let filter = match input.filter.as_ref().map(MetadataFilter::parse).transpose() {
        Ok(f) => f,
        Err(ServiceError::InvalidInput(v)) => {
            violations.extend(v);
            None
        }
        Err(other) => return Err(other),
    };
    match namespace {
        Some(namespace) if violations.is_empty() => Ok(SearchPlan {
            namespace,
            vector: input.query_vector,
            text: input.query,
            mode,
            limit,
            filter,
            min_score: input.min_score,
            include,
            weights,
            mmr: input.mmr,
        }),
        _ => Err(ServiceError::InvalidInput(violations)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{EmbeddingError, MockEmbeddingProvider};
    use crate::services::test_support::owned_project;
    use crate::vectors::{LexicalMatch, MockVectorStore, Namespace, SearchResults, VectorInput};
    use chrono::Utc;
    use serde_json::json;

    fn service(store: MockVectorStore) -> (VectorService, Principal, ProjectId) {
        service_with(store, MockEmbeddingProvider::new())
    }

    fn service_with(
        store: MockVectorStore,
        mut embedder: MockEmbeddingProvider,
    ) -> (VectorService, Principal, ProjectId) {
        let p = owned_project();
        embedder.expect_model().returning(|| "test-model".into());
        embedder.expect_dimension().returning(|| 2);
        let embedders = Embedders::new(Arc::new(embedder), Vec::new());
        let service = VectorService::new(
            Arc::new(store),
            p.access,
            VectorOptions::default(),
            p.quotas,
            embedders,
        );
        (service, p.owner, p.project_id)
    }

    fn input(embedding: Vec<f32>, metadata: Value) -> VectorInput {
        VectorInput {
            vector_id: None,
            namespace: None,
            embedding: Some(embedding),
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

        let mut twice = input(vec![1.0], json!({}));
        twice.vector_id = Some("same".into());
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
            service.delete_one(&owner, project, "any").await,
            Err(ServiceError::not_found("vector"))
        );
    }

    #[tokio::test]
    async fn strangers_reach_nothing() {
        let (service, _, project) = service(MockVectorStore::new());
        let stranger =
            Principal::User { id: crate::ids::UserId::new(), role: crate::principal::Role::User };
        let search = SearchInput { query_vector: Some(vec![1.0]), ..SearchInput::default() };
        assert!(matches!(
            service.search(&stranger, project, search).await,
            Err(ServiceError::NotFound { .. })
        ));
    }

    fn stats(name: &str, count: u64) -> NamespaceStats {
        NamespaceStats {
            namespace: Namespace {
                name: name.into(),
                dimension: Some(2),
                embedding_model: None,
                spec: NamespaceSpec::default(),
                vector_count: count,
                created_at: Utc::now(),
            },
            indexed_vectors: count,
            index_bytes: 0,
            graph_pending: 0,
        }
    }

    #[tokio::test]
    async fn a_search_gives_one_query_and_a_mode_that_fits_it() {
        let plan = |input: SearchInput| search_plan(input).map(|p| p.mode);
        let text = || Some("hello".to_owned());
        let vector = || Some(vec![1.0]);
        assert!(plan(SearchInput::default()).is_err(), "neither");
        let both = SearchInput { query: text(), query_vector: vector(), ..SearchInput::default() };
        assert!(plan(both).is_err(), "both");
        assert_eq!(
            plan(SearchInput { query: text(), ..SearchInput::default() }),
            Ok(SearchMode::Hybrid)
        );
        assert_eq!(
            plan(SearchInput { query_vector: vector(), ..SearchInput::default() }),
            Ok(SearchMode::Semantic)
        );
        let lexical_vector = SearchInput {
            query_vector: vector(),
            mode: Some("lexical".into()),
            ..SearchInput::default()
        };
        assert!(plan(lexical_vector).is_err(), "words need a text");
        let bad = SearchInput {
            query: text(),
            include: Some(vec!["everything".into()]),
            weights: Some(FusionWeights { semantic: 0.0, lexical: 0.0 }),
            mmr: Some(MmrOptions { lambda: 2.0, fetch_k: 0 }),
            ..SearchInput::default()
        };
        let Err(ServiceError::InvalidInput(v)) = search_plan(bad) else { panic!() };
        let fields: Vec<&str> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["weights", "mmr.lambda", "mmr.fetch_k", "include"]);
    }

    #[tokio::test]
    async fn text_for_a_namespace_of_client_vectors_is_refused_with_its_own_error() {
        let mut store = MockVectorStore::new();
        store.expect_namespace_model().returning(|_, _| Ok(None));
        store.expect_namespaces().returning(|_| Ok(vec![stats("default", 3)]));
        let (service, owner, project) = service(store);
        let search = SearchInput { query: Some("hello".into()), ..SearchInput::default() };
        assert_eq!(
            service.search(&owner, project, search).await,
            Err(ServiceError::NamespaceWithoutModel { namespace: "default".into() })
        );
        let mut text = input(vec![], json!({}));
        text.embedding = None;
        text.document = Some("hello".into());
        assert_eq!(
            service.upsert(&owner, project, vec![text], Submission::Single).await,
            Err(ServiceError::NamespaceWithoutModel { namespace: "default".into() })
        );
    }

    #[tokio::test]
    async fn an_embedder_that_is_down_writes_nothing() {
        let mut store = MockVectorStore::new();
        store.expect_namespace_model().returning(|_, _| Ok(Some("test-model".into())));
        // No upsert expectation: a write would fail the test.
        let mut embedder = MockEmbeddingProvider::new();
        embedder
            .expect_embed()
            .returning(|_| Err(EmbeddingError::Unavailable(crate::Cause::msg("down"))));
        let (service, owner, project) = service_with(store, embedder);
        let mut text = input(vec![], json!({}));
        text.embedding = None;
        text.document = Some("hello".into());
        let err = service.upsert(&owner, project, vec![text], Submission::Single).await;
        assert!(matches!(err, Err(ServiceError::Unavailable(_))), "{err:?}");
    }

    #[tokio::test]
    async fn hybrid_search_fuses_both_lists_and_explains_each_score() {
        let hit = |id: &str, score: f32| SearchHit {
            id: VectorId::check(id).unwrap(),
            score,
            namespace: "default".into(),
            document: Some(format!("doc {id}")),
            metadata: serde_json::Map::new(),
            source: None,
            embedding: None,
        };

        let mut store = MockVectorStore::new();
        store.expect_namespace_model().returning(|_, _| Ok(Some("test-model".into())));
        let semantic = vec![hit("a", 0.9), hit("b", 0.8), hit("c", 0.7)];
        store
            .expect_search()
            .withf(|_, r| r.limit == HYBRID_MIN_DEPTH && r.min_score.is_none())
            .returning(move |_, _| Ok(SearchResults::from_index(semantic.clone())));
        let lexical = vec![
            LexicalMatch { hit: hit("c", 0.0), rank: 0.5 },
            LexicalMatch { hit: hit("d", 0.0), rank: 0.25 },
        ];
        store.expect_lexical().returning(move |_, _| Ok(lexical.clone()));
        let mut embedder = MockEmbeddingProvider::new();
        embedder.expect_embed().returning(|texts| Ok(vec![vec![1.0, 0.0]; texts.len()]));
        let (service, owner, project) = service_with(store, embedder);
        let search =
            SearchInput { query: Some("c".into()), limit: Some(3), ..SearchInput::default() };
        let found = service.search(&owner, project, search).await.unwrap();
        let ids: Vec<String> = found.hits.iter().map(|h| h.hit.id.to_string()).collect();
        assert_eq!(ids, ["c", "a", "b"], "in both lists first, then by rank");
        let c = found.hits[0].breakdown.unwrap();
        assert_eq!((c.semantic, c.lexical), (Some(0.7), Some(1.0)));
        assert!((c.fused - found.hits[0].hit.score).abs() < 1e-6);
        let a = found.hits[1].breakdown.unwrap();
        assert_eq!((a.semantic, a.lexical), (Some(0.9), None));
    }
}
