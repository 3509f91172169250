//! `zerodb vectors reindex`: rebuilds Qdrant's points from the PostgreSQL records.

use crate::config::{Settings, VectorBackend};
use crate::startup::{Database, StartupError};
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{VectorRecords, VectorStoreError};
use zerodb_postgres::{PgReplicaCursors, PgVectorRecords};
use zerodb_qdrant::{QdrantVectorStore, RelayRound, StoreOptions};

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reindexed {
    pub projects: u64,
    pub vectors: u64,
}

/// Rebuilds one project's points, or (without `project`) every project's from empty
/// collections. Searches stay correct meanwhile: the cursors are set back first, so every
/// server answers the affected namespaces exactly from PostgreSQL until Qdrant has them
/// again. The points are written by the vector relay, in sequence order: by this command
/// when no server holds the relay, else by the server that does, while this command shows
/// the progress.
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
    let failed =
        |e: VectorStoreError| StartupError::Invalid(format!("reindex: {e} ({})", chain(&e)));
    let records = Arc::new(PgVectorRecords::start(db.pool.clone(), db.url.clone()));
    let cursors = Arc::new(PgReplicaCursors::new(db.pool.clone(), db.url.clone()));
    let client = crate::vector_engine::qdrant_client(settings)?;
    let options = StoreOptions {
        write_wait: Duration::ZERO,
        relay_batch: settings.vectors.qdrant.relay_batch.max(1),
    };
    let store = QdrantVectorStore::new(records.clone(), cursors, client, options);
    let targets = store.start_over(project).await.map_err(failed)?;
    let mut vectors = 0u64;
    for (p, _) in &targets {
        let namespaces = records.namespaces(*p).await.map_err(failed)?;
        vectors += namespaces.iter().map(|n| n.vector_count).sum::<u64>();
    }
    let bar = if show_progress {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} changes ({per_sec}, {eta} left) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("{vectors} vectors of {} projects", targets.len()));
    let mut last_progress = (0u64, std::time::Instant::now());
    loop {
        let (done, total) = store.rebuilt(&targets).await.map_err(failed)?;
        bar.set_length(total);
        bar.set_position(done);
        if done >= total {
            break;
        }
        if done != last_progress.0 {
            last_progress = (done, std::time::Instant::now());
        } else if last_progress.1.elapsed() > Duration::from_secs(60) {
            // Qdrant down, or the leading server stuck: say so, and keep waiting.
            bar.println(
                "no progress for 60 s: is Qdrant reachable, and is the server holding the \
                 vector relay healthy? (its log says why a round failed)",
            );
            last_progress.1 = std::time::Instant::now();
        }
        match store.relay_once().await {
            Ok(RelayRound::Applied(_)) => {}
            Ok(RelayRound::Idle | RelayRound::NotLeader) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "relay round failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    store.resign().await;
    bar.finish_with_message("done");
    Ok(Reindexed { projects: targets.len() as u64, vectors })
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}
