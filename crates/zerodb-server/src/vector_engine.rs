//! The vector store chosen by `vectors.backend`, and what the server runs beside it.

use crate::background::BackgroundTasks;
use crate::config::{Settings, VectorBackend};
use crate::startup::StartupError;
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::vectors::{VectorRecords, VectorStore};
use zerodb_http::metrics::MetricsSnapshot;
use zerodb_index::{IndexSettings, IndexedVectorStore};

#[derive(Clone)]
pub enum VectorEngine {
    /// The in-process HNSW index that follows the records.
    Builtin(Arc<IndexedVectorStore>),
    /// Qdrant, fed by the outbox relay.
    #[cfg(feature = "qdrant")]
    Qdrant(Arc<zerodb_qdrant::QdrantVectorStore>),
}

impl VectorEngine {
    /// The store per `settings.vectors.backend`, over `records`.
    pub fn build(
        settings: &Settings,
        records: Arc<dyn VectorRecords>,
        #[cfg_attr(not(feature = "qdrant"), allow(unused_variables))] db: &crate::startup::Database,
    ) -> Result<Self, StartupError> {
        let v = &settings.vectors;
        tracing::info!(backend = v.backend.as_str(), "vector backend");
        match v.backend {
            VectorBackend::Builtin => {
                let index_settings = IndexSettings {
                    connectivity: v.connectivity,
                    expansion_add: v.expansion_add,
                    expansion_search: v.expansion_search,
                    exact_threshold: v.exact_threshold,
                    oversample: v.oversample,
                    ..IndexSettings::default()
                };
                let snapshot_dir = v.snapshots.then(|| settings.data_dir.join("vectors"));
                tracing::info!(
                    f32_kernels = zerodb_index::f32_kernel_flavour(),
                    "built-in vector index"
                );
                Ok(Self::Builtin(Arc::new(IndexedVectorStore::new(
                    records,
                    index_settings,
                    snapshot_dir,
                ))))
            }
            #[cfg(feature = "qdrant")]
            VectorBackend::Qdrant => {
                let cursors = Arc::new(zerodb_postgres::PgReplicaCursors::new(
                    db.pool.clone(),
                    db.url.clone(),
                ));
                let client = qdrant_client(settings)?;
                let q = &v.qdrant;
                let options = zerodb_qdrant::StoreOptions {
                    write_wait: Duration::from_millis(q.write_wait_ms),
                    relay_batch: q.relay_batch.max(1),
                };
                Ok(Self::Qdrant(Arc::new(zerodb_qdrant::QdrantVectorStore::new(
                    records, cursors, client, options,
                ))))
            }
            #[cfg(not(feature = "qdrant"))]
            VectorBackend::Qdrant => Err(StartupError::Invalid(
                "vectors.backend = \"qdrant\" needs a zerodb built with the `qdrant` feature"
                    .into(),
            )),
        }
    }

    pub fn store(&self) -> Arc<dyn VectorStore> {
        match self {
            Self::Builtin(index) => index.clone(),
            #[cfg(feature = "qdrant")]
            Self::Qdrant(store) => store.clone(),
        }
    }

    /// The built-in index, when it is the engine.
    pub fn builtin(&self) -> Option<Arc<IndexedVectorStore>> {
        match self {
            Self::Builtin(index) => Some(index.clone()),
            #[cfg(feature = "qdrant")]
            Self::Qdrant(_) => None,
        }
    }

    /// Starts the engine's loop: the index's reconciler and snapshots, or the relay.
    pub fn start(&self, settings: &Settings, background: &mut BackgroundTasks) {
        match self {
            Self::Builtin(index) => background.add(
                "vector index reconciler",
                index.spawn_background(
                    Duration::from_millis(settings.vectors.reconcile_interval_ms),
                    Duration::from_secs(settings.vectors.snapshot_interval_secs),
                ),
            ),
            #[cfg(feature = "qdrant")]
            Self::Qdrant(store) => background.add("vector relay", store.spawn_relay()),
        }
    }

    /// Fills the engine's scrape-time metrics.
    pub async fn observe(&self, snapshot: &mut MetricsSnapshot) {
        match self {
            Self::Builtin(index) => snapshot.vector_index = Some(index.totals()),
            #[cfg(feature = "qdrant")]
            Self::Qdrant(store) => match store.backlog().await {
                Ok(waiting) => snapshot.vector_relay_backlog = Some(waiting),
                Err(e) => tracing::warn!(error = %e, "could not read the vector relay backlog"),
            },
        }
    }

    /// At shutdown, after the loops stopped: the index snapshot, or the relay's lead.
    pub async fn stop(&self) {
        match self {
            Self::Builtin(index) => index.snapshot().await,
            #[cfg(feature = "qdrant")]
            Self::Qdrant(store) => store.resign().await,
        }
    }
}

/// The Qdrant REST client per `vectors.qdrant`.
#[cfg(feature = "qdrant")]
pub fn qdrant_client(settings: &Settings) -> Result<zerodb_qdrant::QdrantClient, StartupError> {
    let q = &settings.vectors.qdrant;
    let url = q.url.clone().ok_or_else(|| {
        StartupError::Invalid("vectors.backend = \"qdrant\" needs vectors.qdrant.url".into())
    })?;
    zerodb_qdrant::QdrantClient::new(zerodb_qdrant::QdrantSettings {
        url,
        api_key: q.api_key.as_ref().map(|k| k.expose().to_owned()),
        timeout: Duration::from_millis(q.timeout_ms.max(1)),
        collection_prefix: q.collection_prefix.clone(),
        shard_number: q.shard_number.max(1),
        replication_factor: q.replication_factor.max(1),
        on_disk: q.on_disk,
        m: q.m,
        ef_construct: q.ef_construct,
        ef: q.ef,
        oversampling: q.oversampling,
    })
    .map_err(|e| StartupError::Invalid(format!("vectors.qdrant: {e}")))
}
