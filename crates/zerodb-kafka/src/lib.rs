//! `KafkaEventSink`: hands ZeroDB events to a Kafka-protocol log (Apache Kafka, Redpanda)
//! with the pure-Rust `rskafka` client.
//!
//! Each project's topic `T` becomes the Kafka topic `<prefix>.<project_id>.T`. Events with
//! a key go to the partition its hash picks; events without one go to partition 0, so with
//! the default single partition a Kafka topic holds its events in ZeroDB offset order. Each
//! record carries the event's JSON payload as value, its key, its headers, and the headers
//! `zerodb-offset`, `zerodb-event-id`, `zerodb-project-id` and `zerodb-topic`.
//!
//! Each partition holds its events in ZeroDB offset order, so the sink skips events at or
//! below the last `zerodb-offset` a partition already holds: it reads that once per
//! partition per connection (and the connection is dropped after any failure). A relay
//! that died between Kafka's acknowledgement and its cursor update, or a delivery that
//! failed half-way, therefore sends nothing twice. Consumers may still skip offsets they
//! have seen, as a guard against other writers of the same topics.

mod naming;

pub use naming::{kafka_topic, partition_for};

use async_trait::async_trait;
use rskafka::BackoffConfig;
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{Compression, OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use zerodb_domain::Cause;
use zerodb_domain::ProjectId;
use zerodb_domain::events::Event;
use zerodb_domain::relay::{EventSink, SinkError};

type TopicPartition = (String, i32);

/// The header that carries an event's ZeroDB offset.
const OFFSET_HEADER: &str = "zerodb-offset";

/// Record compression on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaCompression {
    None,
    Gzip,
}

#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    pub topic_prefix: String,
    /// Partitions of each topic ZeroDB creates.
    pub partitions: i32,
    pub replication_factor: i16,
    pub compression: KafkaCompression,
    pub client_id: String,
    /// Longest wait for any one broker operation; past it the delivery fails and is retried.
    pub request_timeout: Duration,
    /// Largest produce request, in record bytes (keep it under the broker's
    /// `message.max.bytes`, 1 MiB by default).
    pub max_request_bytes: usize,
}

struct Connected {
    client: Client,
    topics: HashSet<String>,
    /// Each partition's client and the highest ZeroDB offset it holds (0 when none).
    partitions: HashMap<(String, i32), (Arc<PartitionClient>, i64)>,
}

pub struct KafkaEventSink {
    settings: KafkaSettings,
    /// Dropped after any failure, so the next delivery reconnects and re-learns topics (a
    /// broker that came back may have lost them).
    connected: Mutex<Option<Connected>>,
}

impl KafkaEventSink {
    pub fn new(settings: KafkaSettings) -> Self {
        Self { settings, connected: Mutex::new(None) }
    }

    async fn timed<T>(
        &self,
        what: &str,
        operation: impl Future<Output = Result<T, KafkaError>>,
    ) -> Result<T, SinkError> {
        match tokio::time::timeout(self.settings.request_timeout, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(classify(what, &e)),
            Err(_) => Err(SinkError::Unavailable(Cause::msg(format!(
                "{what}: no answer within {:?}",
                self.settings.request_timeout
            )))),
        }
    }

    async fn connect(&self) -> Result<Connected, SinkError> {
        let backoff = BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            deadline: Some(self.settings.request_timeout),
        };
        let builder = ClientBuilder::new(self.settings.brokers.clone())
            .client_id(self.settings.client_id.clone())
            .backoff_config(backoff);
        let client = self.timed("connecting", builder.build()).await?;
        Ok(Connected { client, topics: HashSet::new(), partitions: HashMap::new() })
    }

    async fn ensure_topic(&self, c: &mut Connected, topic: &str) -> Result<(), SinkError> {
        if c.topics.contains(topic) {
            return Ok(());
        }
        let controller = c.client.controller_client().map_err(|e| classify("controller", &e))?;
        let s = &self.settings;
        let timeout_ms = i32::try_from(s.request_timeout.as_millis()).unwrap_or(i32::MAX);
        let created = tokio::time::timeout(
            s.request_timeout,
            controller.create_topic(topic, s.partitions, s.replication_factor, timeout_ms),
        )
        .await;
        match created {
            Ok(Ok(())) => tracing::info!(topic, "created Kafka topic"),
            Ok(Err(KafkaError::ServerError {
                protocol_error: ProtocolError::TopicAlreadyExists,
                ..
            })) => {}
            Ok(Err(e)) => return Err(classify("creating topic", &e)),
            Err(_) => return Err(SinkError::Unavailable(Cause::msg("creating topic: timed out"))),
        }
        c.topics.insert(topic.to_owned());
        Ok(())
    }

    /// The partition's client and the highest ZeroDB offset it already holds.
    async fn partition(
        &self,
        c: &mut Connected,
        topic: &str,
        partition: i32,
    ) -> Result<(Arc<PartitionClient>, i64), SinkError> {
        let key = (topic.to_owned(), partition);
        if let Some(known) = c.partitions.get(&key) {
            return Ok(known.clone());
        }
        let client = Arc::new(
            self.timed(
                "finding the partition leader",
                c.client.partition_client(topic, partition, UnknownTopicHandling::Retry),
            )
            .await?,
        );
        let held = self.last_offset_held(&client).await?;
        c.partitions.insert(key, (client.clone(), held));
        Ok((client, held))
    }

    /// The `zerodb-offset` of the partition's last record (0 when it is empty, or when the
    /// last record is not one of ZeroDB's).
    async fn last_offset_held(&self, client: &PartitionClient) -> Result<i64, SinkError> {
        let end =
            self.timed("reading the partition's end", client.get_offset(OffsetAt::Latest)).await?;
        if end <= 0 {
            return Ok(0);
        }
        let max_bytes =
            i32::try_from(self.settings.max_request_bytes).unwrap_or(i32::MAX).max(1024);
        let fetched = tokio::time::timeout(
            self.settings.request_timeout,
            client.fetch_records(end - 1, 1..max_bytes, 100),
        )
        .await;
        let records = match fetched {
            Ok(Ok((records, _))) => records,
            // Gone to retention meanwhile: nothing to compare with.
            Ok(Err(KafkaError::ServerError {
                protocol_error: ProtocolError::OffsetOutOfRange,
                ..
            })) => {
                return Ok(0);
            }
            Ok(Err(e)) => return Err(classify("reading the partition's last record", &e)),
            Err(_) => {
                return Err(SinkError::Unavailable(Cause::msg(
                    "reading the partition's last record: timed out",
                )));
            }
        };
        // The broker answers with the whole record batch holding that record; ZeroDB offsets
        // grow along a partition, so the highest one is the last.
        Ok(records
            .iter()
            .filter_map(|r| {
                let header = r.record.headers.get(OFFSET_HEADER)?;
                std::str::from_utf8(header).ok()?.parse::<i64>().ok()
            })
            .max()
            .unwrap_or(0))
    }

    async fn deliver_connected(
        &self,
        c: &mut Connected,
        project_id: ProjectId,
        events: &[Event],
    ) -> Result<(), SinkError> {
        // Records per (topic, partition), each list in offset order, with their offsets.
        let mut groups: Vec<(TopicPartition, Vec<(i64, Record)>)> = Vec::new();
        let mut index: HashMap<(String, i32), usize> = HashMap::new();
        for event in events {
            let topic = kafka_topic(&self.settings.topic_prefix, project_id, &event.topic);
            let partition = partition_for(event.key.as_deref(), self.settings.partitions);
            let slot = *index.entry((topic.clone(), partition)).or_insert_with(|| {
                groups.push(((topic, partition), Vec::new()));
                groups.len() - 1
            });
            groups[slot].1.push((event.offset, record(project_id, event)));
        }
        let compression = match self.settings.compression {
            KafkaCompression::None => Compression::NoCompression,
            KafkaCompression::Gzip => Compression::Gzip,
        };
        for ((topic, partition), records) in groups {
            self.ensure_topic(c, &topic).await?;
            let (client, held) = self.partition(c, &topic, partition).await?;
            let fresh: Vec<(i64, Record)> =
                records.into_iter().filter(|(o, _)| *o > held).collect();
            let Some(last) = fresh.last().map(|(o, _)| *o) else { continue };
            let fresh: Vec<Record> = fresh.into_iter().map(|(_, r)| r).collect();
            for chunk in chunks(fresh, self.settings.max_request_bytes) {
                self.timed("producing", client.produce(chunk, compression)).await?;
            }
            if let Some(known) = c.partitions.get_mut(&(topic, partition)) {
                known.1 = last;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl EventSink for KafkaEventSink {
    async fn deliver(&self, project_id: ProjectId, events: &[Event]) -> Result<(), SinkError> {
        let mut connected = self.connected.lock().await;
        if connected.is_none() {
            *connected = Some(self.connect().await?);
        }
        let Some(c) = connected.as_mut() else {
            return Err(SinkError::Unavailable(Cause::msg("not connected")));
        };
        let result = self.deliver_connected(c, project_id, events).await;
        if result.is_err() {
            *connected = None;
        }
        result
    }
}

/// One Kafka record per event.
fn record(project_id: ProjectId, event: &Event) -> Record {
    let mut headers: BTreeMap<String, Vec<u8>> = event
        .headers
        .iter()
        .map(|(name, value)| {
            let bytes = match value.as_str() {
                Some(s) => s.as_bytes().to_vec(),
                None => value.to_string().into_bytes(),
            };
            (name.clone(), bytes)
        })
        .collect();
    headers.insert(OFFSET_HEADER.into(), event.offset.to_string().into_bytes());
    headers.insert("zerodb-event-id".into(), event.id.to_string().into_bytes());
    headers.insert("zerodb-project-id".into(), project_id.to_string().into_bytes());
    headers.insert("zerodb-topic".into(), event.topic.clone().into_bytes());
    Record {
        key: event.key.as_ref().map(|k| k.as_bytes().to_vec()),
        value: Some(serde_json::to_vec(&event.payload).unwrap_or_default()),
        headers,
        timestamp: event.published_at,
    }
}

/// Splits records, in order, into produce requests of at most `max_bytes` (a larger record
/// goes alone).
fn chunks(records: Vec<Record>, max_bytes: usize) -> Vec<Vec<Record>> {
    let mut out: Vec<Vec<Record>> = Vec::new();
    let mut size = 0;
    for record in records {
        let bytes = record.approximate_size() + 64;
        match out.last_mut() {
            Some(current) if size + bytes <= max_bytes => {
                size += bytes;
                current.push(record);
            }
            _ => {
                size = bytes;
                out.push(vec![record]);
            }
        }
    }
    out
}

/// Broker-side refusals are `Rejected` (retrying the same records will not help without an
/// operator); everything else is `Unavailable`.
fn classify(what: &str, e: &KafkaError) -> SinkError {
    match e {
        KafkaError::ServerError {
            protocol_error:
                ProtocolError::MessageTooLarge
                | ProtocolError::RecordListTooLarge
                | ProtocolError::InvalidTopicException
                | ProtocolError::TopicAuthorizationFailed
                | ProtocolError::ClusterAuthorizationFailed
                | ProtocolError::InvalidReplicationFactor
                | ProtocolError::InvalidPartitions,
            ..
        } => SinkError::Rejected(Cause::msg(format!("{what}: {e}"))),
        _ => SinkError::Unavailable(Cause::msg(format!("{what}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn sized(bytes: usize) -> Record {
        Record {
            key: None,
            value: Some(vec![0; bytes]),
            headers: BTreeMap::new(),
            timestamp: Utc::now(),
        }
    }

    #[test]
    fn chunks_keep_order_and_size() {
        let records: Vec<Record> = (0..10).map(|i| sized(100 + i)).collect();
        let split = chunks(records, 400);
        let sizes: Vec<Vec<usize>> = split
            .iter()
            .map(|c| c.iter().map(|r| r.value.as_ref().map_or(0, Vec::len)).collect())
            .collect();
        assert_eq!(sizes.concat(), (100..110).collect::<Vec<_>>());
        assert!(split.iter().all(|c| c.len() <= 2), "{sizes:?}");
        // A record above the limit still goes, alone.
        assert_eq!(chunks(vec![sized(10), sized(1000), sized(10)], 400).len(), 3);
    }
}
