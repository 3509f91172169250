//! ZeroDB's in-process vector index.
//!
//! [`IndexedVectorStore`] implements the domain's `VectorStore` on top of the durable
//! `VectorRecords` (PostgreSQL): every write commits there first and then reaches the
//! in-memory index of its namespace before it is acknowledged; other processes' writes
//! arrive through the records' change feed. A search never leaves memory: candidates come
//! from the HNSW graph (or an exact scan for small namespaces and selective filters), are
//! rescored exactly from the full-precision vectors (a file read through the page cache),
//! and carry the metadata, documents and sources the index keeps beside them. Changes are
//! applied in sequence order per vector, so a deleted or replaced vector never comes back.

mod f32_kernels;
mod kernels;
mod key_map;
mod namespace;
mod originals;
mod packed;
mod postings;
mod quantize;
mod snapshot;
mod store;
mod text;

pub use f32_kernels::flavour as f32_kernel_flavour;
pub use store::IndexedVectorStore;

/// The in-process benchmark (`cargo bench -p zerodb-index --features bench-internals`),
/// which reaches into the namespace index; not part of the API.
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench;

/// Tuning of every namespace index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSettings {
    /// HNSW graph degree (usearch's connectivity, "M").
    pub connectivity: usize,
    /// Candidate list size while inserting ("ef_construction").
    pub expansion_add: usize,
    /// Candidate list size while searching ("ef").
    pub expansion_search: usize,
    /// Namespaces (or filter matches) up to this size are scanned exactly.
    pub exact_threshold: usize,
    /// int8 namespaces fetch `limit * oversample` candidates for exact rescoring. The default
    /// 4 measured recall@10 0.998 at 100,000 x 1,536 against 0.9895 for 3, at the same p95.
    pub oversample: usize,
    /// Concurrent searches per index (usearch thread contexts).
    pub threads: usize,
    /// Threads that insert a large batch.
    pub build_threads: usize,
}

impl Default for IndexSettings {
    fn default() -> Self {
        Self {
            connectivity: 16,
            expansion_add: 64,
            expansion_search: 128,
            exact_threshold: 2000,
            oversample: 4,
            threads: 16,
            build_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index operation failed")]
    Index(#[source] zerodb_domain::Cause),
    #[error("snapshot rejected")]
    Snapshot(#[source] zerodb_domain::Cause),
    #[error("snapshot i/o")]
    Io(#[from] std::io::Error),
}
