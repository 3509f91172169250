//! Publishing, reading and following the event log; consumer group positions.

use super::Submission;
use crate::access::{AccessPolicy, Permission};
use crate::error::ServiceError;
use crate::events::{
    ConsumerOffset, Event, EventBus, EventFilter, EventInput, MAX_EVENTS_PER_BATCH, TopicName,
};
use crate::ids::ProjectId;
use crate::pagination::{Page, PageRequest, Position};
use crate::principal::{Area, Operation, Principal};
use crate::quotas::QuotaPolicy;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

const READ: Permission = Permission::Data(Area::Events, Operation::Read);
const WRITE: Permission = Permission::Data(Area::Events, Operation::Write);

/// Where a listing or stream starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventStart {
    /// First offset to deliver (inclusive).
    pub from_offset: Option<i64>,
    /// The last offset the client saw (exclusive), e.g. SSE's `Last-Event-ID`.
    pub after_offset: Option<i64>,
    /// Start after this consumer group's committed offset for the topic.
    pub consumer: Option<String>,
}

pub struct EventService {
    bus: Arc<dyn EventBus>,
    access: Arc<AccessPolicy>,
    max_payload_bytes: usize,
    quotas: Arc<QuotaPolicy>,
}

impl EventService {
    pub fn new(
        bus: Arc<dyn EventBus>,
        access: Arc<AccessPolicy>,
        max_payload_bytes: usize,
        quotas: Arc<QuotaPolicy>,
    ) -> Self {
        Self { bus, access, max_payload_bytes, quotas }
    }

    /// Publishes events atomically; answers once they are durable.
    pub async fn publish(
        &self,
        who: &Principal,
        project_id: ProjectId,
        inputs: Vec<EventInput>,
        submission: Submission,
    ) -> Result<Vec<Event>, ServiceError> {
        let project = self.access.enabled_project(who, project_id, WRITE).await?;
        if inputs.is_empty() || inputs.len() > MAX_EVENTS_PER_BATCH {
            return Err(ServiceError::invalid("events", "must hold 1 to 1000 events"));
        }
        let mut violations = Vec::new();
        let mut events = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.into_iter().enumerate() {
            let prefix = if submission == Submission::Batch {
                format!("events[{i}]")
            } else {
                String::new()
            };
            // Headers travel and are stored with the payload, so they count toward its limit.
            let size = serialized_len(&input.payload)
                .saturating_add(input.headers.as_ref().map_or(0, serialized_len));
            if size > self.max_payload_bytes {
                let field = if submission == Submission::Batch {
                    format!("{prefix}.event_payload")
                } else {
                    "event_payload".into()
                };
                return Err(ServiceError::TooLarge { field, limit: self.max_payload_bytes });
            }
            match input.validate(&prefix) {
                Ok(e) => events.push(e),
                Err(v) => violations.extend(v),
            }
        }
        if !violations.is_empty() {
            return Err(ServiceError::InvalidInput(violations));
        }
        self.quotas
            .check_add(&project, crate::quotas::QuotaResource::Events, events.len() as u64)
            .await?;
        self.bus
            .publish(project_id, events)
            .await
            .map_err(|e| ServiceError::from_repo(e, "project"))
    }

    /// Resolves the filter a listing or stream starts from, checking access.
    pub async fn start(
        &self,
        who: &Principal,
        project_id: ProjectId,
        topic: Option<&str>,
        start: &EventStart,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<EventFilter, ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let topic = topic.map(|t| TopicName::new(t, "topic")).transpose()?;
        let after_offset = match (start.from_offset, start.after_offset, &start.consumer) {
            (Some(from), None, None) if from >= 0 => from.saturating_sub(1),
            (Some(_), None, None) => {
                return Err(ServiceError::invalid("from_offset", "must be at least 0"));
            }
            (None, Some(after), None) => after.max(0),
            (None, None, Some(group)) => {
                let group = TopicName::new(group, "consumer")?;
                let Some(topic) = &topic else {
                    return Err(ServiceError::invalid("topic", "is required with consumer"));
                };
                let offsets = self.bus.consumer_offsets(project_id, &group).await?;
                offsets.iter().find(|o| o.topic == topic.as_str()).map_or(0, |o| o.committed_offset)
            }
            (None, None, None) => 0,
            _ => {
                return Err(ServiceError::invalid(
                    "from_offset",
                    "give at most one of from_offset, Last-Event-ID/cursor and consumer",
                ));
            }
        };
        for (name, t) in [("since", since), ("until", until)] {
            if let Some(t) = t {
                crate::storable::check_instant(name, &t)?;
            }
        }
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(ServiceError::invalid("since", "must not be after until"));
        }
        Ok(EventFilter { topic, after_offset, since, until })
    }

    /// A page of events in offset order.
    #[allow(clippy::too_many_arguments)]
    pub async fn list(
        &self,
        who: &Principal,
        project_id: ProjectId,
        topic: Option<&str>,
        start: EventStart,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        page: PageRequest,
    ) -> Result<Page<Event>, ServiceError> {
        // A cursor continues where the previous page ended, whatever started the listing.
        let start = match page.after {
            None => start,
            Some(Position::Sequence { s }) => {
                EventStart { after_offset: Some(s), ..EventStart::default() }
            }
            Some(_) => {
                return Err(ServiceError::InvalidCursor("it belongs to another list".into()));
            }
        };
        let filter = self.start(who, project_id, topic, &start, since, until).await?;
        let items = self.bus.read(project_id, &filter, page.limit.get() + 1).await?;
        Ok(Page::from_overfetch(items, page.limit, |e| Position::Sequence { s: e.offset }))
    }

    /// The next events of a stream after `filter.after_offset` (no access check: done by
    /// [`Self::start`]).
    pub async fn next_events(
        &self,
        project_id: ProjectId,
        filter: &EventFilter,
        limit: u32,
    ) -> Result<Vec<Event>, ServiceError> {
        Ok(self.bus.read(project_id, filter, limit).await?)
    }

    /// Whether `who` may still read the project's events (for long-lived streams).
    pub async fn check_read_access(
        &self,
        who: &Principal,
        project_id: ProjectId,
    ) -> Result<(), ServiceError> {
        self.access.enabled_project(who, project_id, READ).await.map(|_| ())
    }

    /// The newest offset known to be committed, without a query (see
    /// [`EventBus::known_last_offset`]).
    pub fn known_last_offset(&self, project_id: ProjectId) -> i64 {
        self.bus.known_last_offset(project_id)
    }

    /// Waits until events after `after_offset` may exist, or `timeout`.
    pub async fn wait(&self, project_id: ProjectId, after_offset: i64, timeout: Duration) {
        self.bus.wait_for_events(project_id, after_offset, timeout).await;
    }

    pub async fn commit(
        &self,
        who: &Principal,
        project_id: ProjectId,
        group: &str,
        topic: &str,
        offset: i64,
    ) -> Result<(), ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let group = TopicName::new(group, "group")?;
        let topic = TopicName::new(topic, "topic")?;
        let last = self.bus.last_offset(project_id).await?;
        if !(0..=last).contains(&offset) {
            return Err(ServiceError::invalid(
                "offset",
                format!("must be between 0 and the last offset, {last}"),
            ));
        }
        Ok(self.bus.commit_offset(project_id, &group, &topic, offset).await?)
    }

    /// The group's committed offsets, with the log's newest offset to measure lag by.
    pub async fn consumer(
        &self,
        who: &Principal,
        project_id: ProjectId,
        group: &str,
    ) -> Result<(Vec<ConsumerOffset>, i64), ServiceError> {
        self.access.enabled_project(who, project_id, READ).await?;
        let group = TopicName::new(group, "group")?;
        let offsets = self.bus.consumer_offsets(project_id, &group).await?;
        Ok((offsets, self.bus.last_offset(project_id).await?))
    }
}

/// The payload's serialised size, counted without building the bytes.
fn serialized_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_serialised_bytes() {
        let v = serde_json::json!({"a": [1, "x"], "b": null});
        assert_eq!(super::serialized_len(&v), serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0));
    }
}
