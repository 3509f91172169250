//! One namespace's index: the HNSW graph (usearch) over quantized vectors, the key map,
//! the full-precision vectors, and each vector's metadata, document and source, so that a
//! search is answered from memory.

use crate::f32_kernels;
use crate::kernels;
use crate::key_map::KeyMap;
use crate::originals::Originals;
use crate::packed::{FieldNames, Packed, View};
use crate::postings::Postings;
use crate::quantize::{Quantizer, Stored};
use crate::text::TextIndex;
use crate::{IndexError, IndexSettings};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};
use zerodb_domain::vectors::{
    MetadataFilter, Metric, NamespaceSpec, Quantization, SearchHit, VectorChange, VectorId,
};

pub(crate) struct Entry {
    pub id: VectorId,
    pub seq: i64,
    pub metadata: Packed,
    /// Document and source, boxed together: most vectors have neither.
    pub texts: Option<Box<Texts>>,
}

pub(crate) struct Texts {
    pub document: Option<Box<str>>,
    pub source: Option<Box<str>>,
}

impl Entry {
    pub fn new(
        id: VectorId,
        seq: i64,
        metadata: Packed,
        document: Option<&str>,
        source: Option<&str>,
    ) -> Self {
        let texts = (document.is_some() || source.is_some()).then(|| {
            Box::new(Texts { document: document.map(Box::from), source: source.map(Box::from) })
        });
        Self { id, seq, metadata, texts }
    }

    pub fn document(&self) -> Option<&str> {
        self.texts.as_ref()?.document.as_deref()
    }

    pub fn source(&self) -> Option<&str> {
        self.texts.as_ref()?.source.as_deref()
    }
}

pub(crate) struct Inner {
    pub index: Index,
    pub quantizer: Option<Quantizer>,
    /// Indexed by usearch key; keys are handed out in order and never reused.
    pub entries: Vec<Option<Entry>>,
    pub by_id: KeyMap,
    /// The metadata field names of this namespace, which packed metadata refers to.
    pub names: FieldNames,
    pub postings: Postings,
    /// The documents' words, for text search.
    pub text: TextIndex,
    /// Full precision, by key: rescoring and `include_vectors` read them.
    pub originals: Originals,
    /// Vectors applied but not yet in the graph, in key order. Searches scan them exactly,
    /// so a write is searchable the moment it is applied; the graph builder moves them into
    /// the graph in the background (Qdrant's unindexed segment is the model), so that a
    /// write's answer does not wait for HNSW insertion.
    pub pending: Vec<(u64, Stored)>,
    /// Changed since the last snapshot.
    pub dirty: bool,
}

pub(crate) struct NamespaceIndex {
    pub name: String,
    pub dimension: usize,
    pub spec: NamespaceSpec,
    pub created_at: DateTime<Utc>,
    settings: IndexSettings,
    inner: RwLock<Inner>,
}

/// What a search asks of one namespace.
pub(crate) struct Query<'a> {
    pub vector: &'a [f32],
    pub limit: usize,
    pub filter: Option<&'a MetadataFilter>,
    pub min_score: Option<f32>,
    pub include_vectors: bool,
}

pub(crate) fn usearch_options(
    dimension: usize,
    spec: NamespaceSpec,
    settings: &IndexSettings,
) -> IndexOptions {
    IndexOptions {
        dimensions: dimension,
        // Cosine vectors are normalised on the way in, so the inner product orders them.
        metric: match spec.metric {
            Metric::Cosine | Metric::Dot => MetricKind::IP,
            Metric::Euclidean => MetricKind::L2sq,
        },
        quantization: match spec.quantization {
            Quantization::None => ScalarKind::F32,
            Quantization::Int8 => ScalarKind::I8,
        },
        connectivity: settings.connectivity,
        expansion_add: settings.expansion_add,
        expansion_search: settings.expansion_search,
        multi: false,
    }
}

/// Full-precision indexes measure with our f32 kernels instead of NumKong's f64-widening
/// ones (`f32_kernels` says why). usearch forgets a custom metric when it loads a file, so
/// this runs on every new index and again after every load.
pub(crate) fn install_metric(index: &mut Index, dimension: usize, spec: NamespaceSpec) {
    if spec.quantization == Quantization::None {
        index.change_metric::<f32>(f32_kernels::usearch_metric(spec.metric, dimension));
    }
}

fn usearch_err(e: impl std::fmt::Display) -> IndexError {
    IndexError::Index(zerodb_domain::Cause::msg(e.to_string()))
}

impl NamespaceIndex {
    pub fn new(
        name: String,
        dimension: usize,
        spec: NamespaceSpec,
        created_at: DateTime<Utc>,
        settings: IndexSettings,
        originals: Originals,
    ) -> Result<Self, IndexError> {
        let mut index =
            Index::new(&usearch_options(dimension, spec, &settings)).map_err(usearch_err)?;
        install_metric(&mut index, dimension, spec);
        index.reserve_capacity_and_threads(1024, settings.threads).map_err(usearch_err)?;
        let inner = Inner {
            index,
            quantizer: None,
            entries: Vec::new(),
            by_id: KeyMap::default(),
            names: FieldNames::default(),
            postings: Postings::default(),
            text: TextIndex::default(),
            originals,
            pending: Vec::new(),
            dirty: false,
        };
        Ok(Self { name, dimension, spec, created_at, settings, inner: RwLock::new(inner) })
    }

    pub fn from_parts(
        name: String,
        dimension: usize,
        spec: NamespaceSpec,
        created_at: DateTime<Utc>,
        settings: IndexSettings,
        inner: Inner,
    ) -> Self {
        Self { name, dimension, spec, created_at, settings, inner: RwLock::new(inner) }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies committed changes. A change older than what the index already holds for the
    /// same vector is skipped, so changes may arrive twice or out of order across sources.
    pub fn apply(&self, changes: &[&VectorChange]) -> Result<(), IndexError> {
        let mut inner = self.write();
        let inner = &mut *inner;
        if inner.quantizer.is_none() {
            let sample = changes.iter().filter_map(|c| match c {
                VectorChange::Upserted { embedding, .. } => Some(embedding.as_slice()),
                VectorChange::Deleted { .. } => None,
            });
            inner.quantizer =
                Some(Quantizer::fit(self.spec.metric, self.spec.quantization, sample));
        }
        let Some(quantizer) = inner.quantizer else { return Ok(()) };
        let mut additions: Vec<(u64, Stored)> = Vec::new();
        for change in changes {
            match change {
                VectorChange::Upserted {
                    seq, id, embedding, metadata, document, source, ..
                } => {
                    if embedding.len() != self.dimension {
                        return Err(IndexError::Index(zerodb_domain::Cause::msg(format!(
                            "vector {id} has {} dimensions, namespace {} has {}",
                            embedding.len(),
                            self.name,
                            self.dimension
                        ))));
                    }
                    if let Some(key) = inner.by_id.get(id, &inner.entries) {
                        let newer =
                            inner.entries[key as usize].as_ref().is_some_and(|e| e.seq >= *seq);
                        if newer {
                            continue;
                        }
                        remove_key(inner, key)?;
                        additions.retain(|(k, _)| *k != key);
                    }
                    let key = inner.entries.len() as u64;
                    inner.postings.add(key, metadata.iter().map(|(k, v)| (k.as_str(), v)));
                    if let Some(document) = document {
                        inner.text.add(key, document);
                    }
                    let metadata = Packed::pack(metadata, &mut inner.names);
                    inner.originals.put(key, embedding)?;
                    let entry = Entry::new(
                        id.clone(),
                        *seq,
                        metadata,
                        document.as_deref(),
                        source.as_deref(),
                    );
                    inner.entries.push(Some(entry));
                    inner.by_id.insert(key, &inner.entries);
                    additions.push((key, quantizer.encode(embedding)));
                }
                VectorChange::Deleted { seq, id, .. } => {
                    if let Some(key) = inner.by_id.get(id, &inner.entries) {
                        let older =
                            inner.entries[key as usize].as_ref().is_some_and(|e| e.seq < *seq);
                        if older {
                            remove_key(inner, key)?;
                            additions.retain(|(k, _)| *k != key);
                        }
                    }
                }
            }
        }
        if inner.postings.needs_rebuild() {
            inner.postings = inner.live_postings();
        }
        if inner.text.needs_rebuild() {
            inner.text = inner.live_text();
        }
        inner.pending.extend(additions);
        inner.dirty = true;
        Ok(())
    }

    /// Moves up to `max` pending vectors into the graph; answers how many are still pending.
    /// Holds the write lock for one chunk only, so searches wait at most that long.
    pub fn build_pending(&self, max: usize) -> Result<usize, IndexError> {
        let mut inner = self.write();
        let inner = &mut *inner;
        let n = inner.pending.len().min(max);
        if n == 0 {
            return Ok(0);
        }
        let needed = inner.index.size() + n;
        if needed > inner.index.capacity() {
            let capacity = needed.max(inner.index.capacity() * 2);
            inner
                .index
                .reserve_capacity_and_threads(capacity, self.settings.threads)
                .map_err(usearch_err)?;
        }
        add_parallel(&inner.index, &inner.pending[..n], self.settings.build_threads)?;
        inner.pending.drain(..n);
        Ok(inner.pending.len())
    }

    /// Moves every pending vector into the graph (before a snapshot).
    pub fn build_all_pending(&self) -> Result<(), IndexError> {
        while self.build_pending(4096)? > 0 {}
        Ok(())
    }

    /// Vectors searchable by exact scan that are not yet in the graph.
    pub fn pending_len(&self) -> usize {
        self.read().pending.len()
    }

    /// Bytes those vectors take while they wait.
    pub fn pending_bytes(&self) -> usize {
        let per_vector = match self.spec.quantization {
            Quantization::None => self.dimension * 4,
            Quantization::Int8 => self.dimension,
        };
        self.pending_len() * per_vector
    }

    /// How many live vectors the index holds.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// Bytes held in memory: the graph and quantized vectors, the key map and metadata.
    pub fn memory_bytes(&self) -> u64 {
        let inner = self.read();
        // Arena space usearch has reserved but not yet used is not resident; leave it out.
        let stats = inner.index.memory_stats();
        let graph = stats.graph_allocated.saturating_sub(stats.graph_reserved)
            + stats.vectors_allocated.saturating_sub(stats.vectors_reserved)
            + inner.index.capacity() * 2 * std::mem::size_of::<u64>();
        let entries = inner.entries.capacity() * std::mem::size_of::<Option<Entry>>();
        let ids = inner.by_id.capacity() * (std::mem::size_of::<u32>() + 1)
            + inner.postings.memory_bytes()
            + inner.text.memory_bytes()
            + inner.names.memory_bytes();
        let text = |t: Option<&str>| t.map_or(0, str::len);
        let metadata: usize = inner
            .entries
            .iter()
            .flatten()
            .map(|e| {
                let texts = e.texts.as_ref().map_or(0, |_| 32);
                e.metadata.len() + texts + text(e.document()) + text(e.source())
            })
            .sum();
        (graph + entries + ids + metadata + inner.originals.heap_bytes()) as u64
    }

    /// The best `limit` matches of the query, scored exactly from full precision, with their
    /// metadata, documents and sources: everything a search answers, without leaving memory.
    pub fn search(&self, query: &Query<'_>) -> Result<Vec<SearchHit>, IndexError> {
        let inner = self.read();
        let k = match self.spec.quantization {
            Quantization::None => query.limit,
            Quantization::Int8 => query.limit.saturating_mul(self.settings.oversample.max(1)),
        };
        let keys = self.candidate_keys(&inner, query.vector, k, query.filter)?;
        let mut original = vec![0f32; self.dimension];
        let mut scored: Vec<(f32, u64)> = Vec::with_capacity(keys.len());
        for key in keys {
            inner.originals.get(key, &mut original)?;
            let score = self.spec.metric.score(query.vector, &original);
            if query.min_score.is_none_or(|min| score >= min) {
                scored.push((score, key));
            }
        }
        let id_of = |key: u64| inner.entries[key as usize].as_ref().map(|e| &e.id);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| id_of(a.1).cmp(&id_of(b.1))));
        scored.truncate(query.limit);
        let mut hits = Vec::with_capacity(scored.len());
        for (score, key) in scored {
            let Some(entry) = inner.entries.get(key as usize).and_then(Option::as_ref) else {
                continue;
            };
            let embedding = if query.include_vectors {
                let mut v = vec![0f32; self.dimension];
                inner.originals.get(key, &mut v)?;
                Some(v)
            } else {
                None
            };
            hits.push(self.hit(&inner, entry, score, embedding));
        }
        Ok(hits)
    }

    /// A hit answered from memory: the entry's id, document, metadata and source.
    fn hit(
        &self,
        inner: &Inner,
        entry: &Entry,
        score: f32,
        embedding: Option<Vec<f32>>,
    ) -> SearchHit {
        SearchHit {
            id: entry.id.clone(),
            score,
            namespace: self.name.clone(),
            document: entry.document().map(str::to_owned),
            metadata: entry.metadata.to_map(&inner.names),
            source: entry.source().map(str::to_owned),
            embedding,
        }
    }

    /// The documents that best match `query`'s words (BM25), among those matching
    /// `filter`, best first; each hit's score is its BM25 score.
    pub fn lexical(
        &self,
        query: &str,
        limit: usize,
        filter: Option<&MetadataFilter>,
    ) -> Vec<SearchHit> {
        let inner = self.read();
        let matches = |key: u32| match (filter, inner.entries.get(key as usize)) {
            (_, None | Some(None)) => false,
            (None, Some(Some(_))) => true,
            (Some(f), Some(Some(e))) => {
                f.matches(&View { names: &inner.names, packed: &e.metadata })
            }
        };
        let ranked = inner.text.search(query, limit, matches);
        ranked
            .into_iter()
            .filter_map(|(key, score)| {
                let entry = inner.entries.get(key as usize)?.as_ref()?;
                Some(self.hit(&inner, entry, score, None))
            })
            .collect()
    }

    /// Ids of up to `k` candidates (tests look at the plan's choice without rescoring).
    #[cfg(test)]
    pub fn candidates(
        &self,
        query: &[f32],
        k: usize,
        filter: Option<&MetadataFilter>,
    ) -> Result<Vec<VectorId>, IndexError> {
        let inner = self.read();
        let keys = self.candidate_keys(&inner, query, k, filter)?;
        Ok(keys
            .into_iter()
            .filter_map(|key| Some(inner.entries.get(key as usize)?.as_ref()?.id.clone()))
            .collect())
    }

    /// Up to `k` keys nearest to `query` among those matching `filter`, nearest first.
    ///
    /// Plans like Qdrant's: with no filter, the graph is searched unless the namespace is
    /// small enough to scan. With a filter, the matching keys are counted first; a selective
    /// filter (few matches) is answered by an exact scan of exactly those vectors, a broad
    /// one by a filtered graph search, which falls back to the scan if it comes up short.
    /// Either way the caller gets `min(k, matches)` candidates.
    fn candidate_keys(
        &self,
        inner: &Inner,
        query: &[f32],
        k: usize,
        filter: Option<&MetadataFilter>,
    ) -> Result<Vec<u64>, IndexError> {
        let Some(quantizer) = inner.quantizer else { return Ok(Vec::new()) };
        let live = inner.by_id.len();
        if live == 0 {
            return Ok(Vec::new());
        }
        let query = quantizer.encode(query);
        let exact_limit = exact_scan_limit(self.settings.exact_threshold, live);
        let pending_keys = || inner.pending.iter().map(|(key, _)| *key);
        let mut keys = match filter {
            None if live <= self.settings.exact_threshold => {
                let all = inner.entries.iter().enumerate().filter(|(_, e)| e.is_some());
                exact(inner, &query, all.map(|(k, _)| k as u64), k, self.spec.metric)?
            }
            None => {
                let mut keys = search(&inner.index, &query, k, None::<fn(u64) -> bool>)?;
                keys.extend(exact(inner, &query, pending_keys(), k, self.spec.metric)?);
                keys
            }
            Some(filter) => {
                let matches = |key: &u64| {
                    inner.entries.get(*key as usize).and_then(Option::as_ref).is_some_and(|e| {
                        filter.matches(&View { names: &inner.names, packed: &e.metadata })
                    })
                };
                // Ascending keys of every match: from the narrowest posting list when the
                // filter requires a listed value, else from a scan of all entries. When
                // that one equality is the whole filter, the list holds exactly the
                // matches, apart from removed entries.
                let live =
                    |key: &u64| inner.entries.get(*key as usize).is_some_and(Option::is_some);
                let listed = |equalities: &[(&str, &Value)]| {
                    Some(inner.postings.narrowest(equalities)?.iter().map(|k| u64::from(*k)))
                };
                let matching: Vec<u64> = match filter.single_equality() {
                    Some(equality) if let Some(keys) = listed(&[equality]) => {
                        keys.filter(live).collect()
                    }
                    _ => match listed(&filter.required_equalities()) {
                        Some(keys) => keys.filter(matches).collect(),
                        None => (0..inner.entries.len() as u64).filter(matches).collect(),
                    },
                };
                let count = matching.len();
                let scan = || exact(inner, &query, matching.iter().copied(), k, self.spec.metric);
                if count == 0 {
                    Vec::new()
                } else if count <= exact_limit {
                    scan()?
                } else {
                    let allowed = |key: u64| matching.binary_search(&key).is_ok();
                    let mut found = search(&inner.index, &query, k, Some(allowed))?;
                    let pending: Vec<u64> = pending_keys().filter(|k| allowed(*k)).collect();
                    let in_graph = count - pending.len();
                    if found.len() < k.min(in_graph) {
                        scan()?
                    } else {
                        found.extend(exact(
                            inner,
                            &query,
                            pending.into_iter(),
                            k,
                            self.spec.metric,
                        )?);
                        found
                    }
                }
            }
        };
        // A key may be both pending and, a moment after, in the graph; rescoring wants it once.
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    pub(crate) fn take_dirty(&self) -> bool {
        std::mem::take(&mut self.write().dirty)
    }

    pub(crate) fn mark_dirty(&self) {
        self.write().dirty = true;
    }
}

/// The most filter matches answered by an exact scan rather than a filtered graph search.
///
/// A scan costs one distance per match; a filtered graph search costs about an unfiltered
/// one divided by the filter's selectivity (`matches / live`), since the walk must pass
/// that many more nodes to find `k` that match. With `threshold` as the unfiltered search's
/// cost in distances, the scan is cheaper while `matches² ≤ threshold × live`. Measured at
/// 100,000 × 1,536 int8 (threshold 2,000, so up to 14,142 matches are scanned): a 10 %
/// filter took 2.9 ms p50 / 3.1 ms p95 as a scan and 5.5 / 19.5 ms as a graph search.
fn exact_scan_limit(threshold: usize, live: usize) -> usize {
    let product = threshold.saturating_mul(live) as f64;
    (product.sqrt() as usize).max(threshold)
}

impl Inner {
    /// Posting lists built afresh from the live entries, in key order.
    pub(crate) fn live_postings(&self) -> Postings {
        let mut postings = Postings::default();
        for (key, entry) in self.entries.iter().enumerate() {
            if let Some(entry) = entry {
                postings.add(key as u64, entry.metadata.fields(&self.names));
            }
        }
        postings
    }

    /// The text index built afresh from the live entries' documents.
    pub(crate) fn live_text(&self) -> TextIndex {
        let mut text = TextIndex::default();
        for (key, entry) in self.entries.iter().enumerate() {
            if let Some(document) = entry.as_ref().and_then(Entry::document) {
                text.add(key as u64, document);
            }
        }
        text
    }
}

fn remove_key(inner: &mut Inner, key: u64) -> Result<(), IndexError> {
    if let Some(id) = inner.entries.get(key as usize).and_then(Option::as_ref).map(|e| e.id.clone())
    {
        // The map reads ids back from the entries: it forgets this one before the entry goes.
        inner.by_id.remove(&id, &inner.entries);
        if let Some(entry) = inner.entries[key as usize].take() {
            inner.postings.removed(entry.metadata.fields(&inner.names));
        }
        inner.text.remove(key);
    }
    if let Ok(i) = inner.pending.binary_search_by_key(&key, |(k, _)| *k) {
        inner.pending.remove(i);
    } else if inner.index.contains(key) {
        inner.index.remove(key).map_err(usearch_err)?;
    }
    Ok(())
}

/// Adds vectors on several threads: usearch inserts are thread-safe once capacity and
/// thread contexts are reserved.
fn add_parallel(
    index: &Index,
    additions: &[(u64, Stored)],
    threads: usize,
) -> Result<(), IndexError> {
    let add = |(key, stored): &(u64, Stored)| match stored {
        Stored::F32(v) => index.add(*key, v),
        Stored::I8(v) => index.add(*key, v),
    };
    if additions.len() < 64 || threads <= 1 {
        return additions.iter().try_for_each(add).map_err(usearch_err);
    }
    let chunk = additions.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = additions
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().try_for_each(add).map_err(usearch_err)))
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join().map_err(|_| {
                IndexError::Index(zerodb_domain::Cause::msg("index insert thread panicked"))
            })?
        })
    })
}

fn search<F: Fn(u64) -> bool>(
    index: &Index,
    query: &Stored,
    k: usize,
    filter: Option<F>,
) -> Result<Vec<u64>, IndexError> {
    let matches = match (query, filter) {
        (Stored::F32(q), None) => index.search(q, k),
        (Stored::I8(q), None) => index.search(q, k),
        (Stored::F32(q), Some(f)) => index.filtered_search(q, k, f),
        (Stored::I8(q), Some(f)) => index.filtered_search(q, k, f),
    }
    .map_err(usearch_err)?;
    Ok(matches.keys)
}

fn pending_vector(inner: &Inner, key: u64) -> Option<&Stored> {
    let i = inner.pending.binary_search_by_key(&key, |(k, _)| *k).ok()?;
    Some(&inner.pending[i].1)
}

/// Scores every given key in the index's own (possibly quantized) space and keeps the `k`
/// best. Done by hand because usearch's exact search cannot be restricted to a key subset.
fn exact(
    inner: &Inner,
    query: &Stored,
    keys: impl Iterator<Item = u64>,
    k: usize,
    metric: Metric,
) -> Result<Vec<u64>, IndexError> {
    Ok(exact_scored(inner, query, keys, k, metric)?.into_iter().map(|(_, key)| key).collect())
}

/// The `k` nearest of `keys` with their distances, nearest first.
fn exact_scored(
    inner: &Inner,
    query: &Stored,
    keys: impl Iterator<Item = u64>,
    k: usize,
    metric: Metric,
) -> Result<Vec<(f32, u64)>, IndexError> {
    let mut scored: Vec<(f32, u64)> = Vec::new();
    match query {
        Stored::F32(q) => {
            let mut buf = vec![0f32; q.len()];
            for key in keys {
                let buf: &[f32] = match pending_vector(inner, key) {
                    Some(Stored::F32(v)) => v,
                    _ => {
                        inner.index.get(key, &mut buf).map_err(usearch_err)?;
                        &buf
                    }
                };
                scored.push((kernels::distance_f32(metric, q, buf), key));
            }
        }
        Stored::I8(q) => {
            let mut buf = vec![0i8; q.len()];
            for key in keys {
                let buf: &[i8] = match pending_vector(inner, key) {
                    Some(Stored::I8(v)) => v,
                    _ => {
                        inner.index.get(key, &mut buf).map_err(usearch_err)?;
                        &buf
                    }
                };
                scored.push((kernels::distance_i8(metric, q, buf), key));
            }
        }
    }
    let k = k.min(scored.len());
    if k == 0 {
        return Ok(Vec::new());
    }
    scored.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
    scored.truncate(k);
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(scored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upsert(seq: i64, id: VectorId, embedding: Vec<f32>, metadata: Value) -> VectorChange {
        VectorChange::Upserted {
            seq,
            namespace: "n".into(),
            id,
            embedding,
            metadata: metadata.as_object().cloned().unwrap_or_default(),
            document: None,
            source: None,
        }
    }

    fn index(quantization: Quantization, exact_threshold: usize) -> NamespaceIndex {
        let settings = IndexSettings { exact_threshold, ..IndexSettings::default() };
        let spec = NamespaceSpec { metric: Metric::Cosine, quantization };
        NamespaceIndex::new("n".into(), 4, spec, Utc::now(), settings, Originals::Heap(Vec::new()))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The graph walks with our float32 kernels (`install_metric`): under each metric its
    /// nearest neighbour must be the exact one. 24 dimensions exercise the kernels' tails.
    #[test]
    fn graph_searches_find_the_exact_nearest_under_every_metric() {
        let mut seed = 0x2545_f491_u64;
        let mut random = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
        };
        let dimension = 24;
        let vectors: Vec<Vec<f32>> =
            (0..600).map(|_| (0..dimension).map(|_| random()).collect()).collect();
        let queries: Vec<Vec<f32>> =
            (0..30).map(|_| (0..dimension).map(|_| random()).collect()).collect();
        for metric in [Metric::Cosine, Metric::Dot, Metric::Euclidean] {
            let settings = IndexSettings { exact_threshold: 10, ..IndexSettings::default() };
            let spec = NamespaceSpec { metric, quantization: Quantization::None };
            let ns = NamespaceIndex::new(
                "n".into(),
                dimension,
                spec,
                Utc::now(),
                settings,
                Originals::Heap(Vec::new()),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let ids: Vec<VectorId> = vectors.iter().map(|_| VectorId::generate()).collect();
            let changes: Vec<VectorChange> = vectors
                .iter()
                .zip(&ids)
                .enumerate()
                .map(|(i, (v, id))| upsert(i as i64 + 1, id.clone(), v.clone(), json!({})))
                .collect();
            ns.apply(&changes.iter().collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e}"));
            ns.build_all_pending().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ns.pending_len(), 0);
            let better = |q: &[f32], v: &[f32]| -> f64 {
                let dot: f64 = q.iter().zip(v).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
                let norm = |x: &[f32]| x.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
                match metric {
                    Metric::Cosine => dot / (norm(q) * norm(v)),
                    Metric::Dot => dot,
                    Metric::Euclidean => -q
                        .iter()
                        .zip(v)
                        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                        .sum::<f64>(),
                }
            };
            let exact_hits = queries
                .iter()
                .filter(|q| {
                    let best = (0..vectors.len())
                        .max_by(|a, b| better(q, &vectors[*a]).total_cmp(&better(q, &vectors[*b])))
                        .map(|i| ids[i].clone());
                    ns.candidates(q, 1, None).unwrap_or_default().first().cloned() == best
                })
                .count();
            // HNSW is approximate, but over 600 vectors at ef 128 it misses next to nothing;
            // a wrong metric (say, one that ranks the farthest first) finds none.
            assert!(exact_hits >= 28, "{metric:?}: {exact_hits} of 30 nearest found");
        }
    }

    #[test]
    fn older_changes_never_overwrite_newer_ones() {
        let ns = index(Quantization::None, 10);
        let id = VectorId::generate();
        let apply = |c: VectorChange| ns.apply(&[&c]).unwrap_or_else(|e| panic!("{e}"));
        apply(upsert(5, id.clone(), vec![1.0, 0.0, 0.0, 0.0], json!({})));
        apply(VectorChange::Deleted { seq: 3, namespace: "n".into(), id: id.clone() });
        assert_eq!(ns.len(), 1);
        apply(upsert(4, id.clone(), vec![0.0, 1.0, 0.0, 0.0], json!({})));
        let first = ns.candidates(&[1.0, 0.0, 0.0, 0.0], 1, None).unwrap_or_default();
        assert_eq!(first.first(), Some(&id));
        apply(VectorChange::Deleted { seq: 6, namespace: "n".into(), id });
        assert_eq!(ns.len(), 0);
        assert!(ns.candidates(&[1.0, 0.0, 0.0, 0.0], 1, None).unwrap_or_default().is_empty());
    }

    #[test]
    fn selective_filters_are_answered_in_full() {
        for quantization in [Quantization::None, Quantization::Int8] {
            let ns = index(quantization, 10);
            let changes: Vec<VectorChange> = (0..500)
                .map(|i| {
                    let x = i as f32;
                    upsert(
                        i + 1,
                        VectorId::generate(),
                        vec![x.sin(), x.cos(), (x * 0.3).sin(), 1.0],
                        json!({"g": i % 50}),
                    )
                })
                .collect();
            ns.apply(&changes.iter().collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e}"));
            let filter = MetadataFilter::parse(&json!({"g": 3})).unwrap_or_else(|e| panic!("{e}"));
            let found = ns.candidates(&[1.0, 0.0, 0.0, 0.0], 10, Some(&filter)).unwrap_or_default();
            assert_eq!(found.len(), 10, "{quantization:?}");
            let broad =
                MetadataFilter::parse(&json!({"g": {"$ne": 3}})).unwrap_or_else(|e| panic!("{e}"));
            let found = ns.candidates(&[1.0, 0.0, 0.0, 0.0], 10, Some(&broad)).unwrap_or_default();
            assert_eq!(found.len(), 10, "{quantization:?}");
            let none = MetadataFilter::parse(&json!({"g": 99})).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                ns.candidates(&[1.0, 0.0, 0.0, 0.0], 10, Some(&none))
                    .unwrap_or_default()
                    .is_empty()
            );
        }
    }

    #[test]
    fn listed_values_follow_updates_and_deletes() {
        let ns = index(Quantization::None, 10);
        let ids: Vec<VectorId> = (0..300).map(|_| VectorId::generate()).collect();
        let agent = |i: usize| format!("agent-{}", i % 3);
        let changes: Vec<VectorChange> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let x = i as f32;
                upsert(
                    i as i64 + 1,
                    id.clone(),
                    vec![x.sin(), x.cos(), 1.0, 0.5],
                    json!({"a": agent(i)}),
                )
            })
            .collect();
        ns.apply(&changes.iter().collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e}"));
        // Move one vector to another agent, delete another.
        let moved = upsert(1000, ids[0].clone(), vec![1.0, 0.0, 0.0, 0.0], json!({"a": "agent-9"}));
        let deleted =
            VectorChange::Deleted { seq: 1001, namespace: "n".into(), id: ids[3].clone() };
        ns.apply(&[&moved, &deleted]).unwrap_or_else(|e| panic!("{e}"));
        let find = |f: Value| {
            let filter = MetadataFilter::parse(&f).unwrap_or_else(|e| panic!("{e}"));
            let found = ns.candidates(&[1.0, 0.0, 0.0, 0.0], 500, Some(&filter));
            found.unwrap_or_default()
        };
        let zero = find(json!({"a": "agent-0"}));
        assert_eq!(zero.len(), 98, "100 listed, one moved away, one deleted");
        assert!(!zero.contains(&ids[0]) && !zero.contains(&ids[3]));
        assert_eq!(find(json!({"a": "agent-9"})), [ids[0].clone()]);
        assert!(find(json!({"a": "agent-1", "$and": [{"a": {"$ne": "agent-1"}}]})).is_empty());
        assert_eq!(find(json!({"a": {"$in": ["agent-1"]}})).len(), 100, "unlisted path, same set");
    }
}
