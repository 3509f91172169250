//! The sink against a real Kafka-protocol broker (tansu): records land in order with their
//! headers and keys, and a broker outage fails a delivery quickly instead of hanging it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use rskafka::client::ClientBuilder;
use rskafka::client::partition::UnknownTopicHandling;
use serde_json::{Map, Value, json};
use std::time::Duration;
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::events::Event;
use zerodb_domain::relay::{EventSink, SinkError};
use zerodb_kafka::{KafkaCompression, KafkaEventSink, KafkaSettings, kafka_topic, partition_for};
use zerodb_testkit::KafkaBroker;

fn settings(broker: &KafkaBroker, partitions: i32) -> KafkaSettings {
    KafkaSettings {
        brokers: vec![broker.address()],
        topic_prefix: "zerodb".into(),
        partitions,
        replication_factor: 1,
        compression: KafkaCompression::None,
        client_id: "zerodb-test".into(),
        request_timeout: Duration::from_secs(3),
        max_request_bytes: 1_000_000,
    }
}

fn event(offset: i64, topic: &str, key: Option<&str>) -> Event {
    let mut headers = Map::new();
    headers.insert("source".into(), Value::from("test"));
    Event {
        id: Uuid::now_v7(),
        offset,
        topic: topic.into(),
        key: key.map(str::to_owned),
        headers,
        payload: json!({ "n": offset }),
        published_at: Utc::now(),
    }
}

/// Every record of one partition: (zerodb-offset, key, payload).
async fn read_partition(
    broker: &KafkaBroker,
    topic: &str,
    partition: i32,
) -> Vec<(i64, Option<String>, Value)> {
    let client = ClientBuilder::new(vec![broker.address()]).build().await.unwrap();
    let partition =
        client.partition_client(topic, partition, UnknownTopicHandling::Retry).await.unwrap();
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let (records, high_watermark) =
            partition.fetch_records(next, 1..10_000_000, 200).await.unwrap();
        for r in records {
            next = r.offset + 1;
            let headers = &r.record.headers;
            assert_eq!(headers.get("source").map(Vec::as_slice), Some(&b"test"[..]));
            let offset: i64 =
                String::from_utf8(headers["zerodb-offset"].clone()).unwrap().parse().unwrap();
            out.push((
                offset,
                r.record.key.map(|k| String::from_utf8(k).unwrap()),
                serde_json::from_slice(&r.record.value.unwrap()).unwrap(),
            ));
        }
        if next >= high_watermark {
            return out;
        }
    }
}

#[tokio::test]
async fn records_keep_offset_order_per_partition_with_headers_and_keys() {
    let broker = KafkaBroker::start();
    let sink = KafkaEventSink::new(settings(&broker, 4));
    let project = ProjectId::new();
    let keys = [None, Some("alice"), Some("bob")];
    let events: Vec<Event> = (1..=60)
        .map(|o| event(o, if o % 2 == 0 { "even" } else { "odd" }, keys[o as usize % 3]))
        .collect();
    sink.deliver(project, &events[..25]).await.unwrap();
    sink.deliver(project, &events[25..]).await.unwrap();

    for topic in ["even", "odd"] {
        let name = kafka_topic("zerodb", project, topic);
        let mut all = Vec::new();
        for partition in 0..4 {
            let records = read_partition(&broker, &name, partition).await;
            // Within a partition, offsets only grow, and each record sits where its key says.
            assert!(records.windows(2).all(|w| w[0].0 < w[1].0), "{records:?}");
            for (_, key, _) in &records {
                assert_eq!(partition_for(key.as_deref(), 4), partition);
            }
            all.extend(records);
        }
        all.sort_by_key(|r| r.0);
        let expected: Vec<(i64, Option<String>, Value)> = events
            .iter()
            .filter(|e| e.topic == topic)
            .map(|e| (e.offset, e.key.clone(), e.payload.clone()))
            .collect();
        assert_eq!(all, expected, "topic {topic}: every event exactly once");
    }
}

#[tokio::test]
async fn an_outage_fails_fast_and_the_sink_recovers() {
    let mut broker = KafkaBroker::start();
    let sink = KafkaEventSink::new(settings(&broker, 1));
    let project = ProjectId::new();
    sink.deliver(project, &[event(1, "t", None)]).await.unwrap();

    broker.stop();
    let started = std::time::Instant::now();
    let failed = sink.deliver(project, &[event(2, "t", None)]).await;
    assert!(matches!(failed, Err(SinkError::Unavailable(_))), "{failed:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());

    // The broker returns empty (its storage is memory): the topic is made again.
    broker.resume();
    sink.deliver(project, &[event(2, "t", None), event(3, "t", None)]).await.unwrap();
    let records = read_partition(&broker, &kafka_topic("zerodb", project, "t"), 0).await;
    assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), vec![2, 3]);
}

#[tokio::test]
async fn a_batch_sent_again_lands_once() {
    let broker = KafkaBroker::start();
    let project = ProjectId::new();
    let batch = |range: std::ops::RangeInclusive<i64>| -> Vec<Event> {
        range.map(|o| event(o, "jobs", (o % 2 == 0).then_some("even"))).collect()
    };
    let first = KafkaEventSink::new(settings(&broker, 2));
    first.deliver(project, &batch(1..=6)).await.unwrap();
    // The same sink again, overlapping what it sent...
    first.deliver(project, &batch(4..=9)).await.unwrap();
    // ...and a new relay (another process) that starts from an older cursor.
    let second = KafkaEventSink::new(settings(&broker, 2));
    second.deliver(project, &batch(2..=12)).await.unwrap();
    let topic = kafka_topic("zerodb", project, "jobs");
    let mut all: Vec<i64> = Vec::new();
    for partition in 0..2 {
        let offsets: Vec<i64> =
            read_partition(&broker, &topic, partition).await.into_iter().map(|r| r.0).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "partition {partition}: {offsets:?}");
        all.extend(offsets);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=12).collect::<Vec<i64>>(), "each event once");
}
