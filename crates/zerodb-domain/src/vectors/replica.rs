//! Following the vector records into an external vector engine (Qdrant).
//!
//! The records are the outbox: every live vector and tombstone carries its project's change
//! sequence. A relay applies each project's changes after its cursor to the engine and
//! moves the cursor only once the engine has acknowledged them. Searches ask whether
//! their namespace has changes past the cursor; if so the engine may not show them yet,
//! and the search is answered exactly from the records instead.

use crate::error::RepositoryError;
use crate::ids::ProjectId;
use async_trait::async_trait;

/// A project whose committed changes are past what the engine has applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaLag {
    pub project_id: ProjectId,
    /// Every change up to here is in the engine.
    pub applied_seq: i64,
    /// The project's last committed change.
    pub last_seq: i64,
    /// How many times the cursor was set back; a batch read in an older generation must
    /// not move it.
    pub generation: i64,
}

/// The cursors of the relay towards an external vector engine, and its leadership.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReplicaCursors: Send + Sync + 'static {
    /// Whether this process may relay now. One relay runs across all processes, so each
    /// project's changes reach the engine in sequence order.
    async fn lead(&self) -> Result<bool, RepositoryError>;
    /// Gives up leading (at shutdown), so another process can take over at once.
    async fn resign(&self);
    /// Up to `max_projects` projects with changes waiting, the least recently served first.
    async fn behind(&self, max_projects: u32) -> Result<Vec<ReplicaLag>, RepositoryError>;
    /// Records that the project's changes up to `seq` are in the engine, if its cursor is
    /// still where `read` found it (same position, same generation); answers whether it
    /// moved. A cursor set back meanwhile (a rebuild) stays where it was set.
    async fn applied(&self, read: &ReplicaLag, seq: i64) -> Result<bool, RepositoryError>;
    /// How far the project's changes are in the engine (0 when none are).
    async fn applied_seq(&self, project_id: ProjectId) -> Result<i64, RepositoryError>;
    /// Whether the namespace has committed changes the engine has not applied.
    async fn namespace_behind(
        &self,
        project_id: ProjectId,
        namespace: &str,
    ) -> Result<bool, RepositoryError>;
    /// Changes waiting over all projects.
    async fn backlog(&self) -> Result<u64, RepositoryError>;
    /// Sets the project's cursor to exactly `seq` in a new generation (a rebuild starts
    /// over from there), and tells every process, as a commit would.
    async fn reset(&self, project_id: ProjectId, seq: i64) -> Result<(), RepositoryError>;
}
