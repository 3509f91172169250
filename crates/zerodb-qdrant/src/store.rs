//! `QdrantVectorStore`: the vector records in PostgreSQL, served for search by Qdrant.

use crate::client::{CollectionShape, QdrantClient, QdrantError, ScoredPoint};
use crate::exact;
use crate::filter;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use zerodb_domain::vectors::{
    LexicalMatch, LexicalRequest, Metric, Namespace, NamespaceName, NamespaceSpec, NamespaceStats,
    NewVector, ReplicaCursors, SearchHit, SearchPath, SearchRequest, SearchResults, UpsertOutcome,
    VectorChange, VectorId, VectorRecord, VectorRecords, VectorSelector, VectorStore,
    VectorStoreError,
};
use zerodb_domain::{Cause, ProjectId, RepositoryError};

/// Most candidates one search asks Qdrant for while sifting an inexact filter.
const MAX_FETCH: usize = 10_000;
/// After Qdrant fails, searches go straight to the fallback and writers stop waiting for
/// the relay for this long, so an outage costs one timeout, not one per request.
const OUTAGE_PAUSE: Duration = Duration::from_secs(1);
/// How often a writer waiting for another process's relay looks at the cursor.
const CURSOR_POLL: Duration = Duration::from_millis(25);
/// How long a namespace found caught up is trusted without asking PostgreSQL again, unless
/// a commit to its project is heard of first (which drops the trust at once).
const TRUSTED_FOR: Duration = Duration::from_millis(500);

/// How the store relays and waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// How long a write waits for Qdrant to acknowledge it before answering anyway (the
    /// write is committed; searches see it through the fallback until Qdrant has it).
    pub write_wait: Duration,
    /// Changes per project per relay round.
    pub relay_batch: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { write_wait: Duration::from_secs(2), relay_batch: 512 }
    }
}

pub struct QdrantVectorStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) records: Arc<dyn VectorRecords>,
    pub(crate) cursors: Arc<dyn ReplicaCursors>,
    pub(crate) client: QdrantClient,
    pub(crate) options: StoreOptions,
    /// Namespaces whose dimension is fixed (their settings never change afterwards).
    namespaces: Mutex<HashMap<(ProjectId, String), Namespace>>,
    /// Collections known to exist.
    pub(crate) collections: Mutex<HashSet<String>>,
    /// Until when Qdrant is taken to be down.
    down_until: Mutex<Option<Instant>>,
    /// Wakes the relay: something was committed.
    pub(crate) wake: Notify,
    /// Cursors this process's relay has moved, and a signal when it moves one.
    pub(crate) applied_here: Mutex<HashMap<ProjectId, i64>>,
    pub(crate) applied_signal: Notify,
    pub(crate) leading: std::sync::atomic::AtomicBool,
    /// Namespaces found caught up, and when; with each project's count of commits heard
    /// of, so that a check that raced a commit is not trusted.
    caught_up: Mutex<CaughtUp>,
}

#[derive(Default)]
struct CaughtUp {
    namespaces: HashMap<(ProjectId, String), Instant>,
    commits: HashMap<ProjectId, u64>,
}

impl CaughtUp {
    fn commit(&mut self, project_id: ProjectId) {
        *self.commits.entry(project_id).or_default() += 1;
        self.namespaces.retain(|(p, _), _| *p != project_id);
    }
}

fn store_err(e: RepositoryError) -> VectorStoreError {
    match e {
        RepositoryError::NotFound => VectorStoreError::NotFound,
        RepositoryError::Unavailable(cause) => VectorStoreError::Unavailable(cause),
        RepositoryError::TimedOut => VectorStoreError::Unavailable(Cause::msg("timed out")),
        RepositoryError::InvalidValue(cause) | RepositoryError::Internal(cause) => {
            VectorStoreError::Internal(cause)
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl QdrantVectorStore {
    /// A store over `records`, relaying through `cursors` to Qdrant. Registers for the
    /// records' change notifications (which wake the relay).
    pub fn new(
        records: Arc<dyn VectorRecords>,
        cursors: Arc<dyn ReplicaCursors>,
        client: QdrantClient,
        options: StoreOptions,
    ) -> Self {
        let inner = Arc::new(Inner {
            records: records.clone(),
            cursors,
            client,
            options,
            namespaces: Mutex::default(),
            collections: Mutex::default(),
            down_until: Mutex::default(),
            wake: Notify::new(),
            applied_here: Mutex::default(),
            applied_signal: Notify::new(),
            leading: std::sync::atomic::AtomicBool::new(false),
            caught_up: Mutex::default(),
        });
        let weak = Arc::downgrade(&inner);
        records.subscribe(Arc::new(move |project_id| {
            if let Some(inner) = weak.upgrade() {
                lock(&inner.caught_up).commit(project_id);
                inner.wake.notify_one();
            }
        }));
        Self { inner }
    }

    pub fn client(&self) -> &QdrantClient {
        &self.inner.client
    }

    /// Changes committed but not yet in Qdrant, over all projects.
    pub async fn backlog(&self) -> Result<u64, VectorStoreError> {
        self.inner.cursors.backlog().await.map_err(store_err)
    }

    /// Gives up the relay's leadership (at shutdown).
    pub async fn resign(&self) {
        self.inner.cursors.resign().await;
    }

    /// Starts Qdrant over for one project, or (without `project`) for all: every cursor
    /// is set back to 0, so that every process answers those namespaces exactly from
    /// PostgreSQL, and then the project's points are deleted (or ZeroDB's collections
    /// dropped, which also removes points of projects deleted while Qdrant was away). The
    /// relay then writes everything again in sequence order, as the only writer; answers
    /// each project's last sequence, which the relay must reach ([`Self::rebuilt`]).
    pub async fn start_over(
        &self,
        project: Option<ProjectId>,
    ) -> Result<Vec<(ProjectId, i64)>, VectorStoreError> {
        let inner = &self.inner;
        let targets: Vec<(ProjectId, i64)> = match project {
            Some(p) => vec![(p, inner.records.current_seq(p).await?)],
            None => inner.records.all_seqs().await?,
        };
        for (p, _) in &targets {
            inner.cursors.reset(*p, 0).await.map_err(store_err)?;
        }
        // No process may still trust a check made before the reset (a lost notification
        // included) once points start to go.
        tokio::time::sleep(TRUSTED_FOR + Duration::from_millis(100)).await;
        let collections = inner.client.collections().await.map_err(engine_err)?;
        for collection in collections {
            let gone = match project {
                Some(p) => {
                    inner.client.delete(&collection, select_filter(filter::project(p))).await
                }
                None => inner.client.drop_collection(&collection).await,
            };
            match gone {
                Ok(()) | Err(QdrantError::MissingCollection(_)) => {}
                Err(e) => return Err(engine_err(e)),
            }
        }
        lock(&inner.collections).clear();
        // Whatever the relay recorded since the first reset may rest on points just deleted:
        // a new generation makes it start over, and refuses a batch it read before.
        for (p, _) in &targets {
            inner.cursors.reset(*p, 0).await.map_err(store_err)?;
        }
        inner.wake.notify_one();
        Ok(targets)
    }

    /// How far the relay is towards `targets`: (changes applied, changes in all), counted
    /// in sequence numbers.
    pub async fn rebuilt(
        &self,
        targets: &[(ProjectId, i64)],
    ) -> Result<(u64, u64), VectorStoreError> {
        let mut done = 0u64;
        let mut total = 0u64;
        for (project, target) in targets {
            let applied = self.inner.cursors.applied_seq(*project).await.map_err(store_err)?;
            done += applied.clamp(0, *target) as u64;
            total += (*target).max(0) as u64;
        }
        Ok((done, total))
    }
}

pub(crate) fn engine_err(e: QdrantError) -> VectorStoreError {
    match e {
        QdrantError::Unavailable(cause) => VectorStoreError::Unavailable(cause),
        other => VectorStoreError::Internal(Cause::new(other)),
    }
}

/// A points selector body: `{"filter": ...}`.
pub(crate) fn select_filter(filter: Value) -> Value {
    serde_json::json!({ "filter": filter })
}

impl Inner {
    pub(crate) fn is_down(&self) -> bool {
        lock(&self.down_until).is_some_and(|until| Instant::now() < until)
    }

    pub(crate) fn mark_down(&self, error: &QdrantError) {
        if matches!(error, QdrantError::Unavailable(_)) {
            *lock(&self.down_until) = Some(Instant::now() + OUTAGE_PAUSE);
        }
    }

    pub(crate) fn mark_up(&self) {
        *lock(&self.down_until) = None;
    }

    /// The namespace, from the cache once its dimension is fixed.
    pub(crate) async fn namespace(
        &self,
        project_id: ProjectId,
        name: &str,
    ) -> Result<Option<Namespace>, VectorStoreError> {
        if let Some(ns) = lock(&self.namespaces).get(&(project_id, name.to_owned())) {
            return Ok(Some(ns.clone()));
        }
        let all = self.records.namespaces(project_id).await?;
        let mut cache = lock(&self.namespaces);
        for ns in &all {
            if ns.dimension.is_some() {
                cache.insert((project_id, ns.name.clone()), ns.clone());
            }
        }
        Ok(all.into_iter().find(|ns| ns.name == name))
    }

    /// Whether the namespace may have changes Qdrant has not applied: asks PostgreSQL,
    /// unless the namespace was found caught up less than `TRUSTED_FOR` ago and no commit
    /// to its project has been heard of since.
    async fn behind(
        &self,
        project_id: ProjectId,
        namespace: &str,
    ) -> Result<bool, VectorStoreError> {
        let key = (project_id, namespace.to_owned());
        let commits = {
            let caught_up = lock(&self.caught_up);
            if caught_up.namespaces.get(&key).is_some_and(|at| at.elapsed() < TRUSTED_FOR) {
                return Ok(false);
            }
            caught_up.commits.get(&project_id).copied().unwrap_or(0)
        };
        let behind =
            self.cursors.namespace_behind(project_id, namespace).await.map_err(store_err)?;
        let mut caught_up = lock(&self.caught_up);
        if !behind && caught_up.commits.get(&project_id).copied().unwrap_or(0) == commits {
            caught_up.namespaces.insert(key, Instant::now());
        }
        Ok(behind)
    }

    pub(crate) fn forget_project(&self, project_id: ProjectId) {
        lock(&self.namespaces).retain(|(p, _), _| *p != project_id);
        lock(&self.applied_here).remove(&project_id);
        lock(&self.caught_up).commit(project_id);
    }

    /// The collection for vectors of this namespace and dimension, created when missing.
    pub(crate) async fn collection(&self, shape: CollectionShape) -> Result<String, QdrantError> {
        let name = self.client.collection_name(shape);
        if lock(&self.collections).contains(&name) {
            return Ok(name);
        }
        let name = self.client.ensure_collection(shape).await?;
        lock(&self.collections).insert(name.clone());
        Ok(name)
    }

    /// After a write committed `changes`: the project's freshness is re-checked, and the
    /// writer waits for its own changes to reach Qdrant (read-your-writes).
    async fn written(&self, project_id: ProjectId, changes: &[VectorChange]) {
        lock(&self.caught_up).commit(project_id);
        if let Some(seq) = changes.iter().map(VectorChange::seq).max() {
            self.wait_applied(project_id, seq).await;
        }
    }

    /// Returns once the relay has applied the project's changes up to `seq`, or once
    /// `write_wait` has passed, or at once while Qdrant is down.
    async fn wait_applied(&self, project_id: ProjectId, seq: i64) {
        self.wake.notify_one();
        let deadline = Instant::now() + self.options.write_wait;
        loop {
            let signal = self.applied_signal.notified();
            if lock(&self.applied_here).get(&project_id).is_some_and(|s| *s >= seq) {
                return;
            }
            if self.is_down() {
                return;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                tracing::debug!(project = %project_id, seq, "write answered before Qdrant acknowledged it");
                return;
            };
            let leading = self.leading.load(std::sync::atomic::Ordering::Relaxed);
            let _ = tokio::time::timeout(left.min(CURSOR_POLL), signal).await;
            // Another process relays: its cursor moves in the database only.
            if !leading
                && self.cursors.applied_seq(project_id).await.is_ok_and(|applied| applied >= seq)
            {
                return;
            }
        }
    }

    async fn search_engine(
        &self,
        project_id: ProjectId,
        spec: NamespaceSpec,
        request: &SearchRequest,
    ) -> Result<Option<Vec<SearchHit>>, QdrantError> {
        let shape = CollectionShape {
            dimension: request.query.len() as u32,
            metric: spec.metric,
            quantization: spec.quantization,
        };
        let collection = self.client.collection_name(shape);
        let limit = request.limit as usize;
        let scope = filter::scoped(project_id, request.namespace.as_str(), request.filter.as_ref());
        let rescore = spec.quantization == zerodb_domain::vectors::Quantization::Int8;
        let mut fetch = limit;
        loop {
            let points = self
                .client
                .query(&collection, &request.query, fetch, scope.clone(), rescore)
                .await?;
            let full_page = points.len() == fetch;
            let mut sifted = false;
            let mut hits = Vec::with_capacity(limit);
            for point in points {
                let hit = to_hit(point, spec.metric, request.namespace.as_str());
                if request.filter.as_ref().is_some_and(|f| !f.matches(&hit.metadata)) {
                    sifted = true;
                    continue;
                }
                if request.min_score.is_none_or(|min| hit.score >= min) {
                    hits.push(hit);
                }
            }
            if hits.len() >= limit || !full_page || !sifted {
                exact::rank(&mut hits, limit);
                return Ok(Some(hits));
            }
            if fetch >= MAX_FETCH {
                // The filter's Qdrant counterpart is too loose to find `limit` matches
                // among this many candidates: let the exact scan answer.
                return Ok(None);
            }
            fetch = (fetch * 4).min(MAX_FETCH);
        }
    }
}

fn to_hit(point: ScoredPoint, metric: Metric, namespace: &str) -> SearchHit {
    let ScoredPoint { id, score, mut payload } = point;
    let text = |v: &mut Value| match v.take() {
        Value::String(s) => Some(s),
        _ => None,
    };
    let metadata = match payload[filter::METADATA].take() {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    // Points written before ids were strings carry none in their payload; their point id
    // was the vector's UUID.
    let id = match payload["vector_id"].take() {
        Value::String(s) => VectorId::from_stored(&s),
        _ => VectorId::from_uuid(id),
    };
    SearchHit {
        id,
        // Qdrant reports Euclid as a distance; ZeroDB's scores are "higher is closer".
        score: match metric {
            Metric::Euclidean => 1.0 / (1.0 + score.max(0.0)),
            Metric::Cosine | Metric::Dot => score,
        },
        namespace: namespace.to_owned(),
        document: text(&mut payload["document"]),
        metadata,
        source: text(&mut payload["source"]),
        embedding: None,
    }
}

#[async_trait]
impl VectorStore for QdrantVectorStore {
    async fn create_namespace(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        spec: NamespaceSpec,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError> {
        self.inner.records.create_namespace(project_id, name, spec, dimension).await
    }

    async fn record_embedding_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        model: &str,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError> {
        self.inner.records.record_embedding_model(project_id, name, model, dimension).await
    }

    async fn namespace_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
    ) -> Result<Option<String>, VectorStoreError> {
        self.inner.records.namespace_model(project_id, name).await
    }

    async fn drop_project(&self, project_id: ProjectId) -> Result<(), VectorStoreError> {
        let inner = &self.inner;
        inner.forget_project(project_id);
        // The records (and the cursor) went with the project. Its points can no longer be
        // found (every search filters on a live project); remove them when Qdrant is up,
        // and leave them to `zerodb vectors reindex` when it is not.
        let collections = match inner.client.collections().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(project = %project_id, error = %e, "could not remove a deleted project's points from Qdrant");
                return Ok(());
            }
        };
        for collection in collections {
            let selector = select_filter(filter::project(project_id));
            if let Err(e) = inner.client.delete(&collection, selector).await {
                tracing::warn!(project = %project_id, %collection, error = %e, "could not remove a deleted project's points from Qdrant");
            }
        }
        Ok(())
    }

    async fn namespaces(
        &self,
        project_id: ProjectId,
    ) -> Result<Vec<NamespaceStats>, VectorStoreError> {
        let inner = &self.inner;
        let mut stats = Vec::new();
        for ns in inner.records.namespaces(project_id).await? {
            // What Qdrant holds of the namespace; 0 while it is unreachable.
            let indexed = match ns.dimension {
                Some(dimension) if !inner.is_down() => {
                    let shape = CollectionShape {
                        dimension,
                        metric: ns.spec.metric,
                        quantization: ns.spec.quantization,
                    };
                    let collection = inner.client.collection_name(shape);
                    let scope = filter::scoped(project_id, &ns.name, None);
                    match inner.client.count(&collection, scope).await {
                        Ok(n) => n,
                        Err(e) => {
                            inner.mark_down(&e);
                            0
                        }
                    }
                }
                _ => 0,
            };
            stats.push(NamespaceStats {
                indexed_vectors: indexed,
                index_bytes: 0,
                graph_pending: ns.vector_count.saturating_sub(indexed),
                namespace: ns,
            });
        }
        Ok(stats)
    }

    async fn upsert(
        &self,
        project_id: ProjectId,
        vectors: Vec<NewVector>,
        default_spec: NamespaceSpec,
    ) -> Result<Vec<UpsertOutcome>, VectorStoreError> {
        let (outcomes, changes) =
            self.inner.records.upsert(project_id, vectors, default_spec).await?;
        self.inner.written(project_id, &changes).await;
        Ok(outcomes)
    }

    async fn get(
        &self,
        project_id: ProjectId,
        id: &VectorId,
    ) -> Result<VectorRecord, VectorStoreError> {
        self.inner.records.get(project_id, id).await
    }

    async fn get_many(
        &self,
        project_id: ProjectId,
        ids: &[VectorId],
    ) -> Result<Vec<VectorRecord>, VectorStoreError> {
        self.inner.records.fetch(project_id, ids).await
    }

    /// PostgreSQL ranks documents: Qdrant's full-text payload index filters but does not
    /// rank, and the records are current without waiting for the relay.
    async fn lexical(
        &self,
        project_id: ProjectId,
        request: &LexicalRequest,
    ) -> Result<Vec<LexicalMatch>, VectorStoreError> {
        self.inner.records.lexical(project_id, request).await
    }

    async fn list(
        &self,
        project_id: ProjectId,
        namespace: Option<NamespaceName>,
        after: Option<VectorId>,
        limit: u32,
        with_embeddings: bool,
    ) -> Result<Vec<VectorRecord>, VectorStoreError> {
        self.inner.records.list(project_id, namespace, after, limit, with_embeddings).await
    }

    async fn delete(
        &self,
        project_id: ProjectId,
        selector: &VectorSelector,
    ) -> Result<u64, VectorStoreError> {
        let changes = self.inner.records.delete(project_id, selector).await?;
        self.inner.written(project_id, &changes).await;
        Ok(changes.len() as u64)
    }

    async fn search(
        &self,
        project_id: ProjectId,
        request: &SearchRequest,
    ) -> Result<SearchResults, VectorStoreError> {
        let inner = &self.inner;
        let name = request.namespace.as_str();
        let ns =
            inner.namespace(project_id, name).await?.ok_or(VectorStoreError::NamespaceNotFound)?;
        let Some(dimension) = ns.dimension else { return Ok(SearchResults::default()) };
        if dimension as usize != request.query.len() {
            return Err(VectorStoreError::DimensionMismatch {
                namespace: ns.name,
                expected: dimension,
                got: request.query.len() as u32,
            });
        }
        if request.limit == 0 {
            return Ok(SearchResults::default());
        }
        if !inner.is_down() && !inner.behind(project_id, name).await? {
            match inner.search_engine(project_id, ns.spec, request).await {
                Ok(Some(mut hits)) => {
                    inner.mark_up();
                    if request.include_vectors {
                        fill_embeddings(&inner.records, project_id, &mut hits).await?;
                    }
                    return Ok(SearchResults::from_index(hits));
                }
                Ok(None) => {}
                Err(e) => {
                    inner.mark_down(&e);
                    tracing::warn!(project = %project_id, namespace = name, error = %e, "Qdrant search failed; answering from PostgreSQL");
                }
            }
        }
        let hits = exact::search(&inner.records, project_id, ns.spec.metric, request).await?;
        Ok(SearchResults { hits, path: SearchPath::ExactFallback })
    }
}

/// Qdrant keeps cosine vectors normalised; the embeddings a search returns are the
/// originals, as stored in PostgreSQL.
async fn fill_embeddings(
    records: &Arc<dyn VectorRecords>,
    project_id: ProjectId,
    hits: &mut [SearchHit],
) -> Result<(), VectorStoreError> {
    let ids: Vec<VectorId> = hits.iter().map(|h| h.id.clone()).collect();
    let mut by_id: HashMap<VectorId, Vec<f32>> =
        records.fetch(project_id, &ids).await?.into_iter().map(|r| (r.id, r.embedding)).collect();
    for hit in hits {
        hit.embedding = by_id.remove(&hit.id);
    }
    Ok(())
}
