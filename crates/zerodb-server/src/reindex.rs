//! `zerodb vectors reindex`: rebuilds Qdrant's points from the PostgreSQL records.

use crate::config::{Settings, VectorBackend};
use crate::startup::{Database, StartupError};
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{ReplicaCursors, VectorRecords};
use zerodb_postgres::{PgReplicaCursors, PgVectorRecords};
use zerodb_qdrant::{QdrantVectorStore, StoreOptions};

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reindexed {
    pub projects: u64,
    pub vectors: u64,
}

/// Rebuilds one project's points, or (without `project`) every project's from empty
/// collections, which also drops the points of projects deleted while Qdrant was away.
/// Searches stay correct meanwhile: the cursors are set back first, so running servers
/// answer the affected namespaces exactly from PostgreSQL until the rebuild is done.
pub async fn reindex(
    settings: &Settings,
    db: &Database,
    project: Option<ProjectId>,
    show_progress: bool,
) -> Result<Reindexed, StartupError> {
    if settings.vectors.backend != VectorBackend::Qdrant {
        return Err(StartupError::Invalid(
            "vectors reindex rebuilds Qdrant, but vectors.backend is not \"qdrant\" (the \
             built-in index rebuilds itself from PostgreSQL when it starts)"
                .into(),
        ));
    }
    let failed = |what: &str| {
        let what = what.to_owned();
        move |e: zerodb_domain::vectors::VectorStoreError| {
            StartupError::Invalid(format!("{what}: {e} ({})", error_chain(&e)))
        }
    };
    let records = Arc::new(PgVectorRecords::start(db.pool.clone(), db.url.clone()));
    let cursors = Arc::new(PgReplicaCursors::new(db.pool.clone(), db.url.clone()));
    let client = crate::vector_engine::qdrant_client(settings)?;
    let store = QdrantVectorStore::new(
        records.clone(),
        cursors.clone(),
        client,
        StoreOptions { write_wait: Duration::ZERO, relay_batch: 512 },
    );
    let projects: Vec<ProjectId> = match project {
        Some(p) => vec![p],
        None => {
            let all: Vec<ProjectId> = records
                .all_seqs()
                .await
                .map_err(failed("listing projects"))?
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            for p in &all {
                cursors
                    .reset(*p, 0)
                    .await
                    .map_err(|e| StartupError::Invalid(format!("cursor: {e}")))?;
            }
            let collections = store
                .client()
                .collections()
                .await
                .map_err(|e| StartupError::Invalid(format!("Qdrant: {e}")))?;
            for collection in collections {
                store
                    .client()
                    .drop_collection(&collection)
                    .await
                    .map_err(|e| StartupError::Invalid(format!("Qdrant: {e}")))?;
            }
            all
        }
    };
    let mut total = 0u64;
    for p in &projects {
        let namespaces = records.namespaces(*p).await.map_err(failed("listing namespaces"))?;
        total += namespaces.iter().map(|n| n.vector_count).sum::<u64>();
    }
    let bar = if show_progress {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} vectors ({per_sec}, {eta} left) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut done = 0u64;
    for p in &projects {
        bar.set_message(format!("project {p}"));
        let written = store
            .reindex_project(*p, &|n| bar.set_position(done + n))
            .await
            .map_err(failed("rebuilding"))?;
        done += written;
    }
    bar.finish_with_message("done");
    Ok(Reindexed { projects: projects.len() as u64, vectors: done })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}
