//! The event log: durable, ordered per project, with live subscriptions and consumer groups.

use crate::error::{FieldViolation, RepositoryError, ServiceError};
use crate::ids::ProjectId;
use crate::storable::{json_violations, map_violations};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::time::Duration;
use uuid::Uuid;

pub const MAX_EVENTS_PER_BATCH: usize = 1000;
pub const MAX_HEADERS: usize = 64;
pub const MAX_KEY_BYTES: usize = 256;

/// A topic or consumer group name: `[A-Za-z0-9._-]{1,249}`, as Kafka allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopicName(String);

impl TopicName {
    pub fn new(raw: &str, field: &str) -> Result<Self, ServiceError> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
        if (1..=249).contains(&raw.len()) && raw.bytes().all(allowed) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ServiceError::invalid(field, "must match [A-Za-z0-9._-]{1,249}"))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    /// Position in the project's log: strictly increasing in commit order.
    pub offset: i64,
    pub topic: String,
    pub key: Option<String>,
    pub headers: Map<String, Value>,
    pub payload: Value,
    pub published_at: DateTime<Utc>,
}

/// An event as a client sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventInput {
    pub topic: String,
    pub payload: Value,
    pub key: Option<String>,
    pub headers: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    pub topic: TopicName,
    pub key: Option<String>,
    pub headers: Map<String, Value>,
    pub payload: Value,
}

impl EventInput {
    /// Validates one event; `payload_bytes` is its serialised payload size, checked by the
    /// caller against the configured limit.
    pub fn validate(self, prefix: &str) -> Result<NewEvent, Vec<FieldViolation>> {
        let field = |name: &str| {
            if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
        };
        let mut v = Vec::new();
        let topic = TopicName::new(&self.topic, &field("topic")).map_err(|e| match e {
            ServiceError::InvalidInput(mut f) => f.remove(0),
            other => FieldViolation::new(field("topic"), other.to_string()),
        });
        if self
            .key
            .as_deref()
            .is_some_and(|k| k.is_empty() || k.len() > MAX_KEY_BYTES || k.contains('\0'))
        {
            v.push(FieldViolation::new(field("key"), "must be 1 to 256 bytes without NUL"));
        }
        let headers = self.headers.unwrap_or_default();
        json_violations(&field("event_payload"), &self.payload, &mut v);
        map_violations(&field("headers"), &headers, &mut v);
        if headers.len() > MAX_HEADERS
            || headers.iter().any(|(k, val)| k.is_empty() || k.len() > 256 || !val.is_string())
        {
            v.push(FieldViolation::new(
                field("headers"),
                "at most 64 string values under names of 1 to 256 bytes",
            ));
        }
        match topic {
            Ok(topic) if v.is_empty() => Ok(NewEvent {
                id: Uuid::now_v7(),
                topic,
                key: self.key,
                headers,
                payload: self.payload,
            }),
            Ok(_) => Err(v),
            Err(e) => {
                v.insert(0, e);
                Err(v)
            }
        }
    }
}

/// Which events to read: those after `after_offset`, optionally of one topic and time range.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventFilter {
    pub topic: Option<TopicName>,
    pub after_offset: i64,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerOffset {
    pub topic: String,
    pub committed_offset: i64,
    pub updated_at: DateTime<Utc>,
}

/// The durable event log.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Appends the events atomically and answers only once they are durable. Offsets are
    /// consecutive within the call and greater than every offset committed before.
    /// MUST return `NotFound` when the project does not exist.
    async fn publish(
        &self,
        project_id: ProjectId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>, RepositoryError>;
    /// Events matching `filter` in offset order, at most `limit`.
    async fn read(
        &self,
        project_id: ProjectId,
        filter: &EventFilter,
        limit: u32,
    ) -> Result<Vec<Event>, RepositoryError>;
    /// The highest committed offset (0 for an empty log).
    async fn last_offset(&self, project_id: ProjectId) -> Result<i64, RepositoryError>;
    /// The newest offset this process knows to be committed for the project, without a
    /// query (0 when it knows none). Every event at or below it is visible to `read`, so a
    /// filtered reader may skip past it when a read found nothing to deliver.
    fn known_last_offset(&self, project_id: ProjectId) -> i64;
    /// Resolves once an event after `after_offset` may have been committed (by any process),
    /// or when `timeout` passes. Spurious wake-ups are allowed; missed ones are not.
    async fn wait_for_events(&self, project_id: ProjectId, after_offset: i64, timeout: Duration);
    /// Records a consumer group's position in a topic.
    async fn commit_offset(
        &self,
        project_id: ProjectId,
        group: &TopicName,
        topic: &TopicName,
        offset: i64,
    ) -> Result<(), RepositoryError>;
    /// A group's positions, by topic name.
    async fn consumer_offsets(
        &self,
        project_id: ProjectId,
        group: &TopicName,
    ) -> Result<Vec<ConsumerOffset>, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        for ok in ["orders", "a.b-c_d", &"x".repeat(249)] {
            assert!(TopicName::new(ok, "topic").is_ok());
        }
        for bad in ["", "has space", "slash/no", &"x".repeat(250), "ümlaut", "a\0b"] {
            assert!(TopicName::new(bad, "topic").is_err(), "{bad}");
        }
    }

    #[test]
    fn event_validation_names_fields() {
        let input = EventInput {
            topic: "bad topic".into(),
            payload: Value::Null,
            key: Some(String::new()),
            headers: None,
        };
        let fields: Vec<_> = input
            .validate("events[2]")
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, vec!["events[2].topic", "events[2].key"]);
        let mut headers = Map::new();
        headers.insert("n".into(), Value::from(1));
        let input = EventInput {
            topic: "t".into(),
            payload: Value::Null,
            key: None,
            headers: Some(headers),
        };
        assert!(input.validate("").is_err());
    }
}
