//! The relay: each project's committed vector changes, in sequence order, into Qdrant.

use crate::client::{CollectionShape, Point, QdrantError};
use crate::store::{Inner, QdrantVectorStore};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::vectors::{VectorChange, VectorId, VectorStoreError};

/// Projects served per round; the rest wait for the next.
const PROJECTS_PER_ROUND: u32 = 64;
/// Points per upsert request.
const POINTS_PER_REQUEST: usize = 256;

/// What one round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayRound {
    /// Another process holds the relay.
    NotLeader,
    /// Nothing was waiting.
    Idle,
    /// This many changes reached Qdrant (and their cursors moved).
    Applied(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Records(#[from] VectorStoreError),
    #[error("cursor store failed")]
    Cursors(#[source] zerodb_domain::RepositoryError),
    #[error(transparent)]
    Engine(#[from] QdrantError),
}

impl QdrantVectorStore {
    /// Applies up to one batch per waiting project, moving each project's cursor only after
    /// Qdrant has acknowledged the batch. An unreachable Qdrant ends the round; a batch
    /// Qdrant refuses keeps its project's cursor (and is logged) without holding up others.
    pub async fn relay_once(&self) -> Result<RelayRound, RelayError> {
        let inner = &self.inner;
        let leading = inner.cursors.lead().await.map_err(RelayError::Cursors)?;
        inner.leading.store(leading, Ordering::Relaxed);
        if !leading {
            return Ok(RelayRound::NotLeader);
        }
        let lags = inner.cursors.behind(PROJECTS_PER_ROUND).await.map_err(RelayError::Cursors)?;
        if lags.is_empty() {
            return Ok(RelayRound::Idle);
        }
        let batch = inner.options.relay_batch.max(1);
        let mut applied = 0u64;
        for lag in lags {
            let changes =
                inner.records.changes_since(lag.project_id, lag.applied_seq, batch).await?;
            // Replaced and deleted vectors leave gaps in the sequence: with the whole tail
            // read, the cursor may move to the project's last sequence.
            let last = changes.last().map_or(lag.applied_seq, VectorChange::seq);
            let upto = if changes.len() < batch as usize { last.max(lag.last_seq) } else { last };
            match inner.apply(lag.project_id, &changes).await {
                Ok(()) => inner.mark_up(),
                Err(e @ QdrantError::Unavailable(_)) => {
                    inner.mark_down(&e);
                    return Err(e.into());
                }
                Err(e) => {
                    tracing::error!(project = %lag.project_id, error = %e, "Qdrant refuses this project's vector changes; they wait in the outbox");
                    continue;
                }
            }
            let moved = inner.cursors.applied(&lag, upto).await.map_err(RelayError::Cursors)?;
            if !moved {
                // The cursor was set back (a rebuild) while this batch was in flight: the
                // next round starts from where it was set.
                continue;
            }
            {
                let mut here = inner.applied_here.lock().unwrap_or_else(|p| p.into_inner());
                let seq = here.entry(lag.project_id).or_insert(upto);
                *seq = (*seq).max(upto);
            }
            inner.applied_signal.notify_waiters();
            applied += changes.len() as u64;
        }
        Ok(RelayRound::Applied(applied))
    }

    /// Runs the relay until aborted: as fast as Qdrant takes changes, woken by commits when
    /// idle (and looking every second in case a wake-up was missed), backing off while
    /// Qdrant or the database fails. A follower asks for the lead every two seconds.
    pub fn spawn_relay(self: &std::sync::Arc<Self>) -> tokio::task::JoinHandle<()> {
        const IDLE_LOOK: Duration = Duration::from_secs(1);
        const FOLLOWER_LOOK: Duration = Duration::from_secs(2);
        const FIRST_BACKOFF: Duration = Duration::from_millis(100);
        let store = self.clone();
        tokio::spawn(async move {
            let mut backoff = FIRST_BACKOFF;
            loop {
                match store.relay_once().await {
                    Ok(RelayRound::Applied(_)) => backoff = FIRST_BACKOFF,
                    Ok(RelayRound::Idle) => {
                        backoff = FIRST_BACKOFF;
                        let _ = tokio::time::timeout(IDLE_LOOK, store.inner.wake.notified()).await;
                    }
                    Ok(RelayRound::NotLeader) => tokio::time::sleep(FOLLOWER_LOOK).await,
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff, "vector relay failed; changes wait in the outbox");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        })
    }
}

impl Inner {
    /// Writes one project's changes (in sequence order) to Qdrant and returns once Qdrant
    /// has applied them. Each vector's latest change in the batch wins; a vector that moved
    /// between collections is deleted from the old one and written to the new one.
    pub(crate) async fn apply(
        &self,
        project_id: ProjectId,
        changes: &[VectorChange],
    ) -> Result<(), QdrantError> {
        // Latest change per (collection, id): `None` deletes.
        let mut per_collection: HashMap<(String, CollectionShape), HashMap<Uuid, Option<Point>>> =
            HashMap::new();
        for change in changes {
            let namespace = match self.namespace(project_id, change.namespace()).await {
                Ok(Some(ns)) => ns,
                // The namespace went with its project; nothing of it is searched any more.
                Ok(None) => continue,
                Err(e) => return Err(QdrantError::Unavailable(zerodb_domain::Cause::new(e))),
            };
            let (id, dimension, point) = match change {
                VectorChange::Upserted { id, embedding, metadata, document, source, .. } => {
                    let payload = json!({
                        "project_id": project_id.to_string(),
                        "vector_id": id,
                        "namespace": namespace.name,
                        "metadata": metadata,
                        "document": document,
                        "source": source,
                    });
                    let id = point_id(project_id, &namespace.name, id);
                    let point = Point { id, vector: embedding.clone(), payload };
                    (id, embedding.len() as u32, Some(point))
                }
                VectorChange::Deleted { id, .. } => match namespace.dimension {
                    Some(d) => (point_id(project_id, &namespace.name, id), d, None),
                    None => continue,
                },
            };
            let shape = CollectionShape {
                dimension,
                metric: namespace.spec.metric,
                quantization: namespace.spec.quantization,
            };
            let name = self.client.collection_name(shape);
            per_collection.entry((name, shape)).or_default().insert(id, point);
        }
        for ((name, shape), latest) in per_collection {
            let mut deletes = Vec::new();
            let mut upserts = Vec::new();
            for (id, point) in latest {
                match point {
                    Some(p) => upserts.push(p),
                    None => deletes.push(id),
                }
            }
            if !deletes.is_empty() {
                match self.client.delete(&name, json!({"points": deletes})).await {
                    // Nothing to delete from a collection that does not exist.
                    Ok(()) | Err(QdrantError::MissingCollection(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            if upserts.is_empty() {
                continue;
            }
            let collection = self.collection(shape).await?;
            for chunk in upserts.chunks(POINTS_PER_REQUEST) {
                match self.client.upsert(&collection, chunk).await {
                    Ok(()) => {}
                    Err(QdrantError::MissingCollection(_)) => {
                        // Qdrant lost the collection since it was created: create it again.
                        self.collections
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .remove(&collection);
                        let collection = self.collection(shape).await?;
                        self.client.upsert(&collection, chunk).await?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

/// A vector's point id: the UUIDv5 of its project (as the UUID namespace), its namespace
/// and its id, so that points of every project can share a collection whatever ids their
/// clients choose. The id itself travels in the payload (`vector_id`).
pub fn point_id(project_id: ProjectId, namespace: &str, id: &VectorId) -> Uuid {
    // NUL separates the two: neither a namespace nor an id may contain one.
    let name = id.with_str(|id| format!("{namespace}\0{id}"));
    Uuid::new_v5(&project_id.as_uuid(), name.as_bytes())
}
