//! `IndexedVectorStore`: the built-in `VectorStore`, PostgreSQL records plus in-process
//! indexes that follow them.

use crate::namespace::{NamespaceIndex, Query};
use crate::originals::Originals;
use crate::{IndexError, IndexSettings, snapshot};
use async_trait::async_trait;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use zerodb_domain::Cause;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{
    LexicalMatch, LexicalRequest, Namespace, NamespaceName, NamespaceSpec, NamespaceStats,
    NewVector, SearchHit, SearchRequest, SearchResults, UpsertOutcome, VectorChange, VectorId,
    VectorRecord, VectorRecords, VectorSelector, VectorStore, VectorStoreError,
};

/// Changes read per round of catching up.
const CATCH_UP_BATCH: u32 = 2000;
/// Vectors the graph builder adds per turn; searches of that namespace wait for one turn.
const GRAPH_CHUNK: usize = 256;
/// The builder starts when no vector has been applied for this long...
const GRAPH_QUIET: Duration = Duration::from_millis(100);
/// ...or when the waiting vectors take this many bytes, whichever comes first. Until then
/// they are searched exactly (64 MiB: 43,000 float32 vectors of 384 dimensions, a scan of a
/// few milliseconds per search while a bulk load runs).
const GRAPH_BACKLOG_BYTES: usize = 64 << 20;

pub struct IndexedVectorStore {
    shared: Arc<Shared>,
}

struct Shared {
    records: Arc<dyn VectorRecords>,
    settings: IndexSettings,
    snapshot_dir: Option<PathBuf>,
    projects: Mutex<HashMap<ProjectId, Arc<ProjectIndex>>>,
    /// Bounds concurrent index work to the thread contexts usearch has reserved.
    permits: Semaphore,
    /// Wakes the graph builder when vectors are waiting to join a graph.
    graph_work: tokio::sync::Notify,
    /// Counts applied batches, so the builder can tell that writes arrived while it built.
    applied: AtomicU64,
}

struct ProjectIndex {
    id: ProjectId,
    /// Set once the indexes are loaded, so searches skip the state lock.
    loaded: std::sync::atomic::AtomicBool,
    /// Serialises loading, catching up and applying writes, so that changes reach the
    /// index in an order where the newest state of each vector wins.
    state: tokio::sync::Mutex<ProjectState>,
    namespaces: RwLock<HashMap<String, Arc<NamespaceIndex>>>,
}

#[derive(Default)]
struct ProjectState {
    loaded: bool,
    /// Every change up to this sequence has been applied.
    cursor: i64,
}

fn internal(e: IndexError) -> VectorStoreError {
    VectorStoreError::Internal(Cause::new(e))
}

impl ProjectIndex {
    fn namespace(&self, name: &str) -> Option<Arc<NamespaceIndex>> {
        self.namespaces.read().unwrap_or_else(PoisonError::into_inner).get(name).cloned()
    }

    fn all(&self) -> Vec<Arc<NamespaceIndex>> {
        self.namespaces.read().unwrap_or_else(PoisonError::into_inner).values().cloned().collect()
    }

    fn put(&self, ns: NamespaceIndex) -> Arc<NamespaceIndex> {
        let ns = Arc::new(ns);
        self.namespaces
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(ns.name.clone(), ns.clone());
        ns
    }
}

impl IndexedVectorStore {
    /// A store over `records`; snapshots go under `snapshot_dir` when given. Registers for
    /// the records' change notifications.
    pub fn new(
        records: Arc<dyn VectorRecords>,
        settings: IndexSettings,
        snapshot_dir: Option<PathBuf>,
    ) -> Self {
        let shared = Arc::new(Shared {
            records: records.clone(),
            settings,
            snapshot_dir,
            projects: Mutex::default(),
            permits: Semaphore::new(settings.threads.max(1)),
            graph_work: tokio::sync::Notify::new(),
            applied: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&shared);
        records.subscribe(Arc::new(move |project| {
            if let Some(shared) = weak.upgrade()
                && let Ok(handle) = tokio::runtime::Handle::try_current()
            {
                handle.spawn(async move { shared.sync_if_loaded(project).await });
            }
        }));
        Self { shared }
    }

    /// Loads every project's indexes (from snapshots or PostgreSQL), then keeps them
    /// reconciled with the database every `reconcile` and snapshots changed namespaces
    /// every `snapshot_every`. Runs until aborted (or the runtime stops).
    pub fn spawn_background(
        &self,
        reconcile: Duration,
        snapshot_every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            match shared.records.all_seqs().await {
                Ok(projects) => {
                    let started = Instant::now();
                    for (project, _) in &projects {
                        if let Err(e) = shared.project(*project).await {
                            tracing::error!(project = %project, error = %e, "cannot load vector index");
                        }
                    }
                    tracing::info!(
                        projects = projects.len(),
                        seconds = started.elapsed().as_secs_f64(),
                        "vector indexes loaded"
                    );
                }
                Err(e) => tracing::error!(error = %e, "cannot list projects with vectors"),
            }
            let follow = async {
                let mut last_snapshot = Instant::now();
                loop {
                    tokio::time::sleep(reconcile).await;
                    shared.reconcile().await;
                    if last_snapshot.elapsed() >= snapshot_every {
                        shared.snapshot_changed().await;
                        last_snapshot = Instant::now();
                    }
                }
            };
            tokio::join!(follow, shared.build_graphs());
        })
    }

    /// Writes snapshots of every namespace changed since its last one (call at shutdown).
    pub async fn snapshot(&self) {
        self.shared.snapshot_changed().await;
    }

    /// What the in-memory indexes hold: (projects loaded, vectors, bytes).
    pub fn totals(&self) -> (u64, u64, u64) {
        let projects = self.shared.held_projects();
        let (mut vectors, mut bytes) = (0, 0);
        for project in &projects {
            for ns in project.all() {
                vectors += ns.len() as u64;
                bytes += ns.memory_bytes();
            }
        }
        (projects.len() as u64, vectors, bytes)
    }

    /// Waits until every loaded project has applied all changes committed so far.
    pub async fn sync_all(&self) {
        self.shared.reconcile().await;
    }
}

impl Shared {
    /// The project's indexes, loading them on first use.
    async fn project(&self, id: ProjectId) -> Result<Arc<ProjectIndex>, VectorStoreError> {
        let project = {
            let mut projects = self.projects.lock().unwrap_or_else(PoisonError::into_inner);
            projects
                .entry(id)
                .or_insert_with(|| {
                    Arc::new(ProjectIndex {
                        id,
                        loaded: std::sync::atomic::AtomicBool::new(false),
                        state: tokio::sync::Mutex::default(),
                        namespaces: RwLock::default(),
                    })
                })
                .clone()
        };
        if project.loaded.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(project);
        }
        let mut state = project.state.lock().await;
        if !state.loaded {
            self.load(&project, &mut state).await?;
            state.loaded = true;
            project.loaded.store(true, std::sync::atomic::Ordering::Release);
        }
        drop(state);
        Ok(project)
    }

    async fn sync_if_loaded(&self, id: ProjectId) {
        let project =
            self.projects.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
        if let Some(project) = project {
            let mut state = project.state.lock().await;
            if state.loaded
                && let Err(e) = self.catch_up(&project, &mut state).await
            {
                tracing::warn!(project = %id, error = %e, "vector index catch-up failed");
            }
        }
    }

    /// Bytes of the vectors waiting to join a graph, over every namespace this process holds.
    fn pending_total(&self) -> usize {
        self.held_projects().iter().flat_map(|p| p.all()).map(|ns| ns.pending_bytes()).sum()
    }

    /// Moves pending vectors into their graphs, a chunk at a time. Writes tend to come in
    /// streams; building while one runs takes the cores the writes need (on two cores it
    /// halved ingest), so the builder waits for a pause or a backlog, as Qdrant's optimiser
    /// waits for a segment to fill.
    ///
    /// Once started, it builds chunk after chunk without waiting again, unless writes arrive
    /// meanwhile (then it waits for their pause, or for the backlog, once more).
    async fn build_graphs(&self) {
        loop {
            self.graph_work.notified().await;
            'round: loop {
                self.wait_for_quiet_or_backlog().await;
                loop {
                    let writes = self.applied.load(Ordering::Acquire);
                    if !self.build_one_chunk_each().await {
                        break 'round;
                    }
                    let written_meanwhile = self.applied.load(Ordering::Acquire) != writes;
                    if written_meanwhile && self.pending_total() < GRAPH_BACKLOG_BYTES {
                        continue 'round;
                    }
                }
            }
        }
    }

    /// Returns once no vector has been applied for `GRAPH_QUIET`, or the waiting vectors
    /// reach `GRAPH_BACKLOG_BYTES`.
    async fn wait_for_quiet_or_backlog(&self) {
        let mut seen = self.pending_total();
        while seen > 0 && seen < GRAPH_BACKLOG_BYTES {
            tokio::time::sleep(GRAPH_QUIET).await;
            let now = self.pending_total();
            if now == seen {
                break;
            }
            seen = now;
        }
    }

    /// Adds one chunk of each namespace's waiting vectors to its graph; answers whether any
    /// are still waiting.
    async fn build_one_chunk_each(&self) -> bool {
        let mut more = false;
        for project in self.held_projects() {
            for ns in project.all() {
                if ns.pending_len() == 0 {
                    continue;
                }
                let ns2 = ns.clone();
                match tokio::task::spawn_blocking(move || ns2.build_pending(GRAPH_CHUNK)).await {
                    Ok(Ok(left)) => more |= left > 0,
                    Ok(Err(e)) => {
                        tracing::warn!(project = %project.id, namespace = %ns.name, error = %e, "adding vectors to the graph failed; they stay searchable by exact scan")
                    }
                    Err(e) => tracing::warn!(error = %e, "graph builder task failed"),
                }
            }
        }
        more
    }

    async fn reconcile(&self) {
        let Ok(seqs) = self.records.all_seqs().await else { return };
        for (id, _) in seqs {
            self.sync_if_loaded(id).await;
        }
    }

    /// Every project whose indexes this process holds.
    fn held_projects(&self) -> Vec<Arc<ProjectIndex>> {
        self.projects.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect()
    }

    async fn snapshot_changed(&self) {
        let Some(root) = self.snapshot_dir.clone() else { return };
        for project in self.held_projects() {
            // Everything up to the cursor is in the index; changes applied while the file is
            // written carry higher sequences and are replayed harmlessly after a load.
            let cursor = {
                let state = project.state.lock().await;
                if !state.loaded {
                    continue;
                }
                state.cursor
            };
            for ns in project.all() {
                if !ns.take_dirty() {
                    continue;
                }
                let (root, id, ns2) = (root.clone(), project.id, ns.clone());
                let saved =
                    tokio::task::spawn_blocking(move || snapshot::save(&root, id, &ns2, cursor))
                        .await;
                match saved {
                    Ok(Ok(())) => {
                        tracing::debug!(project = %id, namespace = %ns.name, "vector snapshot written")
                    }
                    Ok(Err(e)) => {
                        ns.mark_dirty();
                        tracing::warn!(project = %id, namespace = %ns.name, error = %e, "vector snapshot failed");
                    }
                    Err(e) => tracing::warn!(error = %e, "vector snapshot task failed"),
                }
            }
        }
    }

    async fn load(
        &self,
        project: &ProjectIndex,
        state: &mut ProjectState,
    ) -> Result<(), VectorStoreError> {
        let seq0 = self.records.current_seq(project.id).await?;
        let namespaces = self.records.namespaces(project.id).await?;
        let mut cursor = seq0;
        for meta in namespaces.iter().filter(|n| n.dimension.is_some()) {
            let loaded = match &self.snapshot_dir {
                Some(root) => {
                    let (root, meta2, settings, id) =
                        (root.clone(), meta.clone(), self.settings, project.id);
                    tokio::task::spawn_blocking(move || {
                        snapshot::load(&root, id, &meta2, settings, seq0)
                    })
                    .await
                    .map_err(|e| VectorStoreError::Internal(Cause::new(e)))?
                }
                None => Ok(None),
            };
            match loaded {
                Ok(Some((ns, applied))) => {
                    tracing::info!(project = %project.id, namespace = %meta.name, vectors = ns.len(), "vector index loaded from snapshot");
                    cursor = cursor.min(applied);
                    project.put(ns);
                }
                Ok(None) => {
                    project.put(self.rebuild(project.id, meta).await?);
                }
                Err(e) => {
                    tracing::warn!(project = %project.id, namespace = %meta.name, error = %e, "vector snapshot not trusted; rebuilding from PostgreSQL");
                    project.put(self.rebuild(project.id, meta).await?);
                }
            }
        }
        state.cursor = cursor;
        self.catch_up(project, state).await?;
        // A snapshot that passed its checks may still be stale (for instance a database
        // restored from a backup): after catching up, its count must match PostgreSQL's.
        for meta in self.records.namespaces(project.id).await? {
            let Some(ns) = project.namespace(&meta.name) else { continue };
            if ns.len() as u64 != meta.vector_count {
                tracing::warn!(project = %project.id, namespace = %meta.name, indexed = ns.len(), stored = meta.vector_count, "vector index disagrees with PostgreSQL; rebuilding");
                let before = self.records.current_seq(project.id).await?;
                project.put(self.rebuild(project.id, &meta).await?);
                state.cursor = state.cursor.min(before);
                self.catch_up(project, state).await?;
            }
        }
        Ok(())
    }

    /// An empty index for a namespace, with its full-precision vectors in a new file.
    fn new_namespace(
        &self,
        project: ProjectId,
        meta: &Namespace,
        dimension: u32,
    ) -> Result<NamespaceIndex, VectorStoreError> {
        let dir = self
            .snapshot_dir
            .as_ref()
            .map(|root| crate::snapshot::originals_dir(root, project, &meta.name));
        let originals = Originals::create(dir.as_deref()).map_err(internal)?;
        NamespaceIndex::new(
            meta.name.clone(),
            dimension as usize,
            meta.spec,
            meta.created_at,
            self.settings,
            originals,
        )
        .map_err(internal)
    }

    /// Builds a namespace's index from PostgreSQL.
    async fn rebuild(
        &self,
        project: ProjectId,
        meta: &Namespace,
    ) -> Result<NamespaceIndex, VectorStoreError> {
        let Some(dimension) = meta.dimension else {
            return Err(VectorStoreError::Internal(Cause::msg("namespace has no dimension")));
        };
        let ns = Arc::new(self.new_namespace(project, meta, dimension)?);
        let started = Instant::now();
        let (mut after, mut done, mut last_log) = (0i64, 0u64, Instant::now());
        loop {
            let page =
                self.records.live_vectors(project, &meta.name, after, CATCH_UP_BATCH).await?;
            let Some(last) = page.last() else { break };
            after = last.seq();
            let count = page.len();
            let ns2 = ns.clone();
            // A rebuilt index goes into service complete, with nothing left pending.
            tokio::task::spawn_blocking(move || {
                ns2.apply(&page.iter().collect::<Vec<_>>())?;
                ns2.build_all_pending()
            })
            .await
            .map_err(|e| VectorStoreError::Internal(Cause::new(e)))?
            .map_err(internal)?;
            done += count as u64;
            if last_log.elapsed() >= Duration::from_secs(5) {
                tracing::info!(project = %project, namespace = %meta.name, done, total = meta.vector_count, "rebuilding vector index");
                last_log = Instant::now();
            }
            if count < CATCH_UP_BATCH as usize {
                break;
            }
        }
        tracing::info!(project = %project, namespace = %meta.name, vectors = done, seconds = started.elapsed().as_secs_f64(), "vector index rebuilt from PostgreSQL");
        ns.mark_dirty();
        Arc::try_unwrap(ns)
            .map_err(|_| VectorStoreError::Internal(Cause::msg("index still shared")))
    }

    /// Applies every change committed after the cursor.
    async fn catch_up(
        &self,
        project: &ProjectIndex,
        state: &mut ProjectState,
    ) -> Result<(), VectorStoreError> {
        loop {
            let changes =
                self.records.changes_since(project.id, state.cursor, CATCH_UP_BATCH).await?;
            let Some(last) = changes.last() else { return Ok(()) };
            let last_seq = last.seq();
            let full = changes.len() == CATCH_UP_BATCH as usize;
            self.apply(project, changes).await?;
            state.cursor = last_seq;
            if !full {
                return Ok(());
            }
        }
    }

    /// Applies changes to their namespaces, creating indexes for new namespaces.
    async fn apply(
        &self,
        project: &ProjectIndex,
        changes: Vec<VectorChange>,
    ) -> Result<(), VectorStoreError> {
        let mut by_namespace: HashMap<String, Vec<VectorChange>> = HashMap::new();
        for change in changes {
            by_namespace.entry(change.namespace().to_owned()).or_default().push(change);
        }
        for (name, changes) in by_namespace {
            let ns = match project.namespace(&name) {
                Some(ns) => ns,
                None => {
                    let metas = self.records.namespaces(project.id).await?;
                    let Some(meta) = metas.into_iter().find(|m| m.name == name) else { continue };
                    let Some(dimension) = meta.dimension else { continue };
                    project.put(self.new_namespace(project.id, &meta, dimension)?)
                }
            };
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|e| VectorStoreError::Internal(Cause::new(e)))?;
            tokio::task::spawn_blocking(move || ns.apply(&changes.iter().collect::<Vec<_>>()))
                .await
                .map_err(|e| VectorStoreError::Internal(Cause::new(e)))?
                .map_err(internal)?;
            self.applied.fetch_add(1, Ordering::Release);
            self.graph_work.notify_one();
        }
        Ok(())
    }

    /// Applies this process's own committed writes right away, so it reads its writes.
    async fn apply_own(
        &self,
        id: ProjectId,
        changes: Vec<VectorChange>,
    ) -> Result<(), VectorStoreError> {
        let project = self.project(id).await?;
        let mut state = project.state.lock().await;
        let (first, last) = match (changes.first(), changes.last()) {
            (Some(f), Some(l)) => (f.seq(), l.seq()),
            _ => return Ok(()),
        };
        self.apply(&project, changes).await?;
        // A write's sequences are consecutive; when they directly follow the cursor, nothing
        // in between is missing and catching up need not read them back.
        if state.loaded && first == state.cursor + 1 {
            state.cursor = last;
        }
        Ok(())
    }
}

#[async_trait]
impl VectorStore for IndexedVectorStore {
    async fn create_namespace(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        spec: NamespaceSpec,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError> {
        self.shared.records.create_namespace(project_id, name, spec, dimension).await
    }

    async fn record_embedding_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
        model: &str,
        dimension: Option<u32>,
    ) -> Result<Namespace, VectorStoreError> {
        self.shared.records.record_embedding_model(project_id, name, model, dimension).await
    }

    async fn namespace_model(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
    ) -> Result<Option<String>, VectorStoreError> {
        self.shared.records.namespace_model(project_id, name).await
    }

    async fn drop_project(&self, project_id: ProjectId) -> Result<(), VectorStoreError> {
        let removed =
            self.shared.projects.lock().unwrap_or_else(PoisonError::into_inner).remove(&project_id);
        if let Some(project) = removed {
            // Wait out a load or catch-up in progress, so nothing re-adds its namespaces.
            let _state = project.state.lock().await;
            project.namespaces.write().unwrap_or_else(PoisonError::into_inner).clear();
        }
        if let Some(root) = self.shared.snapshot_dir.clone() {
            let dir = root.join(project_id.to_string());
            tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            })
            .await
            .map_err(|e| VectorStoreError::Internal(Cause::new(e)))?
            .map_err(|e| {
                VectorStoreError::Internal(Cause::msg(format!("removing index files: {e}")))
            })?;
        }
        Ok(())
    }

    async fn namespaces(
        &self,
        project_id: ProjectId,
    ) -> Result<Vec<NamespaceStats>, VectorStoreError> {
        let namespaces = self.shared.records.namespaces(project_id).await?;
        if namespaces.is_empty() {
            return Ok(Vec::new());
        }
        let project = self.shared.project(project_id).await?;
        Ok(namespaces
            .into_iter()
            .map(|namespace| {
                let ns = project.namespace(&namespace.name);
                NamespaceStats {
                    indexed_vectors: ns.as_ref().map_or(0, |n| n.len() as u64),
                    index_bytes: ns.as_ref().map_or(0, |n| n.memory_bytes()),
                    graph_pending: ns.as_ref().map_or(0, |n| n.pending_len() as u64),
                    namespace,
                }
            })
            .collect())
    }

    async fn upsert(
        &self,
        project_id: ProjectId,
        vectors: Vec<NewVector>,
        default_spec: NamespaceSpec,
    ) -> Result<Vec<UpsertOutcome>, VectorStoreError> {
        let (outcomes, changes) =
            self.shared.records.upsert(project_id, vectors, default_spec).await?;
        self.shared.apply_own(project_id, changes).await?;
        Ok(outcomes)
    }

    async fn get(
        &self,
        project_id: ProjectId,
        id: &VectorId,
    ) -> Result<VectorRecord, VectorStoreError> {
        self.shared.records.get(project_id, id).await
    }

    async fn get_many(
        &self,
        project_id: ProjectId,
        ids: &[VectorId],
    ) -> Result<Vec<VectorRecord>, VectorStoreError> {
        self.shared.records.fetch(project_id, ids).await
    }

    /// The namespace index's own text index ranks documents (BM25), so text search sees
    /// exactly what vector search sees: its own writes at once, others' within a second.
    async fn lexical(
        &self,
        project_id: ProjectId,
        request: &LexicalRequest,
    ) -> Result<Vec<LexicalMatch>, VectorStoreError> {
        let ns = match self.namespace_index(project_id, &request.namespace).await? {
            Lookup::Indexed(ns) => ns,
            // A namespace without vectors yet has no index: nothing matches.
            Lookup::Unindexed(_) => return Ok(Vec::new()),
        };
        let hits = ns.lexical(&request.query, request.limit as usize, request.filter.as_ref());
        Ok(hits.into_iter().map(|hit| LexicalMatch { rank: hit.score, hit }).collect())
    }

    async fn list(
        &self,
        project_id: ProjectId,
        namespace: Option<NamespaceName>,
        after: Option<VectorId>,
        limit: u32,
        with_embeddings: bool,
    ) -> Result<Vec<VectorRecord>, VectorStoreError> {
        self.shared.records.list(project_id, namespace, after, limit, with_embeddings).await
    }

    async fn delete(
        &self,
        project_id: ProjectId,
        selector: &VectorSelector,
    ) -> Result<u64, VectorStoreError> {
        let changes = self.shared.records.delete(project_id, selector).await?;
        let count = changes.len() as u64;
        if count > 0 {
            self.shared.apply_own(project_id, changes).await?;
        }
        Ok(count)
    }

    async fn search(
        &self,
        project_id: ProjectId,
        request: &SearchRequest,
    ) -> Result<SearchResults, VectorStoreError> {
        self.search_hits(project_id, request).await.map(SearchResults::from_index)
    }
}

/// Where a namespace stands in this process.
enum Lookup {
    Indexed(Arc<NamespaceIndex>),
    /// In PostgreSQL, but without an index here yet (it holds no vectors).
    Unindexed(Namespace),
}

impl IndexedVectorStore {
    /// The namespace's index; MUST answer `NamespaceNotFound` when PostgreSQL has no such
    /// namespace either.
    async fn namespace_index(
        &self,
        project_id: ProjectId,
        name: &NamespaceName,
    ) -> Result<Lookup, VectorStoreError> {
        let shared = &self.shared;
        let project = shared.project(project_id).await?;
        if let Some(ns) = project.namespace(name.as_str()) {
            return Ok(Lookup::Indexed(ns));
        }
        // Perhaps created by another process a moment ago.
        shared.sync_if_loaded(project_id).await;
        if let Some(ns) = project.namespace(name.as_str()) {
            return Ok(Lookup::Indexed(ns));
        }
        let metas = shared.records.namespaces(project_id).await?;
        let meta = metas.into_iter().find(|m| m.name == name.as_str());
        meta.map(Lookup::Unindexed).ok_or(VectorStoreError::NamespaceNotFound)
    }

    async fn search_hits(
        &self,
        project_id: ProjectId,
        request: &SearchRequest,
    ) -> Result<Vec<SearchHit>, VectorStoreError> {
        let ns = match self.namespace_index(project_id, &request.namespace).await? {
            Lookup::Indexed(ns) => ns,
            Lookup::Unindexed(meta) => {
                return match meta.dimension {
                    Some(d) if d as usize != request.query.len() => {
                        Err(VectorStoreError::DimensionMismatch {
                            namespace: meta.name,
                            expected: d,
                            got: request.query.len() as u32,
                        })
                    }
                    _ => Ok(Vec::new()),
                };
            }
        };
        if request.query.len() != ns.dimension {
            return Err(VectorStoreError::DimensionMismatch {
                namespace: ns.name.clone(),
                expected: ns.dimension as u32,
                got: request.query.len() as u32,
            });
        }
        // The search runs right here on the request's worker rather than on the blocking
        // pool: it is a few hundred microseconds of CPU that no await interrupts, and on a
        // machine with as many workers as cores the hop only adds two thread hand-offs and
        // a wake-up per request (docs/benchmarks.md has the before and after).
        let _permit = self
            .shared
            .permits
            .acquire()
            .await
            .map_err(|e| VectorStoreError::Internal(Cause::new(e)))?;
        ns.search(&Query {
            vector: &request.query,
            limit: request.limit as usize,
            filter: request.filter.as_ref(),
            min_score: request.min_score,
            include_vectors: request.include_vectors,
        })
        .map_err(internal)
    }
}
