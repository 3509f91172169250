//! Handing the event log to an external distributed log (Kafka, Redpanda).
//!
//! PostgreSQL stays the source of truth. Every published event is also an entry of a
//! transactional outbox (it commits with the event), and a relay drains the outbox into an
//! [`EventSink`] in offset order, advancing a per-project cursor only after the sink has
//! acknowledged. Delivery is at least once: a crash between the sink's acknowledgement and
//! the cursor update sends those events again, with the same offsets.

use crate::error::Cause;
use crate::error::RepositoryError;
use crate::events::Event;
use crate::ids::ProjectId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The external log cannot be reached or did not answer in time: retry later.
    #[error("external event log unavailable")]
    Unavailable(#[source] Cause),
    /// The external log refused the events (configuration, authorisation, record size).
    #[error("external event log refused the events")]
    Rejected(#[source] Cause),
}

/// An external log that receives every event.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Stores `events` (one project's, in ascending offset order) durably, preserving their
    /// order within each topic and key. Succeeds only once all of them are stored.
    async fn deliver(&self, project_id: ProjectId, events: &[Event]) -> Result<(), SinkError>;
}

/// One project's undelivered events, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxBatch {
    pub project_id: ProjectId,
    pub events: Vec<Event>,
}

/// How far the relay is behind the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxBacklog {
    /// Events committed but not yet delivered, over all projects.
    pub events: u64,
    /// Publication time of the oldest undelivered event.
    pub oldest: Option<DateTime<Utc>>,
}

impl OutboxBacklog {
    /// How long the oldest waiting event has waited at `now` (zero when none waits).
    pub fn oldest_age(&self, now: DateTime<Utc>) -> Duration {
        self.oldest.map_or(Duration::ZERO, |t| (now - t).to_std().unwrap_or(Duration::ZERO))
    }
}

/// The outbox: what is committed but not yet delivered, and the delivery cursors.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventOutbox: Send + Sync + 'static {
    /// Whether this process may relay now. Only one relay across all server processes
    /// drains the outbox at a time, so each project's events leave in order.
    async fn lead(&self) -> Result<bool, RepositoryError>;
    /// Gives up leading (at shutdown), so another process can take over at once.
    async fn resign(&self);
    /// Up to `max_events` undelivered events per project, for up to `max_projects` projects.
    async fn pending(
        &self,
        max_projects: u32,
        max_events: u32,
    ) -> Result<Vec<OutboxBatch>, RepositoryError>;
    /// Records that a project's events up to `offset` were delivered.
    async fn delivered(&self, project_id: ProjectId, offset: i64) -> Result<(), RepositoryError>;
    /// Resolves when new events may be waiting (from any process), or after `timeout`.
    async fn wait_for_events(&self, timeout: Duration);
    async fn backlog(&self) -> Result<OutboxBacklog, RepositoryError>;
}
