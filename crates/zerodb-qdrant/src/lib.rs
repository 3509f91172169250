//! ZeroDB's Qdrant adapter (`vectors.backend = "qdrant"`).
//!
//! [`QdrantVectorStore`] implements the domain's `VectorStore`. PostgreSQL stays the source
//! of truth: writes commit to the vector records first, then a relay (one leader across
//! processes) applies each project's changes to Qdrant in sequence order and moves the
//! project's cursor only after Qdrant has acknowledged. A writing request waits for that
//! acknowledgement up to `write_wait`. A search asks whether its namespace has changes past
//! the cursor: if not, Qdrant answers; if so, or if Qdrant is unreachable, the search is an
//! exact scan of the records, and says so.
//!
//! Collections: one per (dimension, metric, quantization), shared by every project; each
//! point carries `project_id` (an `is_tenant` keyword index) and `namespace` (a keyword
//! index), and every request filters on both.

mod client;
mod exact;
pub mod filter;
mod relay;
mod store;

pub use client::{CollectionShape, Point, QdrantClient, QdrantError, QdrantSettings, ScoredPoint};
pub use relay::RelayRound;
pub use store::{QdrantVectorStore, StoreOptions};
