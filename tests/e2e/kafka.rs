//! Events relayed to a real Kafka-protocol broker (tansu) through the transactional outbox:
//! every event exactly once and in order for a fresh consumer, and events published while
//! the broker is down (and the server restarted) arrive once it is back.

use crate::helpers::{spawn_app_with, start_server, test_settings};
use rskafka::client::ClientBuilder;
use rskafka::client::partition::UnknownTopicHandling;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{Client, EventQuery, NewEvent};
use zerodb_server::config::{EventBackend, Settings};
use zerodb_testkit::KafkaBroker;

fn relay_to(broker: &KafkaBroker) -> impl FnOnce(&mut Settings) + use<> {
    let address = broker.address();
    move |s: &mut Settings| {
        s.events.backend = EventBackend::Kafka;
        s.events.kafka.brokers = Some(address);
        s.events.kafka.request_timeout_secs = 2;
        s.events.relay_batch_events = 50;
    }
}

/// Every record of a topic's partition 0 as (zerodb-offset, payload), read by a fresh
/// consumer from the beginning; waits until `expected` arrived or 20 s passed.
pub(crate) async fn consume(
    broker: &KafkaBroker,
    topic: &str,
    expected: usize,
) -> Vec<(i64, Value)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut records = Vec::new();
    while Instant::now() < deadline {
        records = read_all(broker, topic).await;
        if records.len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    records
}

pub(crate) async fn read_all(broker: &KafkaBroker, topic: &str) -> Vec<(i64, Value)> {
    let Ok(client) = ClientBuilder::new(vec![broker.address()]).build().await else {
        return Vec::new();
    };
    let partition = match tokio::time::timeout(
        Duration::from_secs(2),
        client.partition_client(topic, 0, UnknownTopicHandling::Error),
    )
    .await
    {
        Ok(Ok(p)) => p,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut next = 0;
    loop {
        let Ok((records, high_watermark)) = partition.fetch_records(next, 1..10_000_000, 100).await
        else {
            return out;
        };
        for r in records {
            next = r.offset + 1;
            let offset = String::from_utf8(r.record.headers["zerodb-offset"].clone()).unwrap();
            out.push((
                offset.parse().unwrap(),
                serde_json::from_slice(&r.record.value.unwrap()).unwrap(),
            ));
        }
        if next >= high_watermark {
            return out;
        }
    }
}

/// ZeroDB's own view of a topic: (offset, payload) in offset order.
pub(crate) async fn logged(client: &Client, project: Uuid, topic: &str) -> Vec<(i64, Value)> {
    let query = EventQuery { topic: Some(topic.into()), limit: Some(1000), ..Default::default() };
    let page = client.list_events(project, &query).await.unwrap();
    page.items.into_iter().map(|e| (e.offset, e.event_payload)).collect()
}

#[tokio::test]
async fn every_event_reaches_kafka_once_and_in_order() {
    let broker = KafkaBroker::start();
    let app = spawn_app_with(relay_to(&broker)).await;
    let ada = app.user("ada@example.com").await;
    let project = app.enabled_project(&ada, "kafka").await;

    // Singles, a batch and a second topic, published concurrently from three clients.
    let singles = async {
        for n in 0..40 {
            let mut event = NewEvent::new("orders", json!({"single": n}));
            event.key = (n % 3 == 0).then(|| format!("customer-{n}"));
            ada.publish_event(project, &event).await.unwrap();
        }
    };
    let batches = async {
        for b in 0..3 {
            let batch: Vec<NewEvent> =
                (0..60).map(|i| NewEvent::new("orders", json!({"batch": b, "i": i}))).collect();
            ada.publish_events(project, &batch).await.unwrap();
        }
    };
    let audit = async {
        for n in 0..25 {
            ada.publish_event(project, &NewEvent::new("audit", json!({"audit": n}))).await.unwrap();
        }
    };
    tokio::join!(singles, batches, audit);

    for (topic, count) in [("orders", 220), ("audit", 25)] {
        let expected = logged(&ada, project, topic).await;
        assert_eq!(expected.len(), count);
        let name = format!("zerodb.{project}.{topic}");
        let received = consume(&broker, &name, count).await;
        // Exactly ZeroDB's log of that topic: same offsets, same payloads, same order, once.
        assert_eq!(received, expected, "topic {topic}");
    }
    let outbox = app.outbox.as_ref().expect("kafka backend has an outbox");
    assert_eq!(outbox.backlog().await.unwrap().events, 0);
    // Nothing more arrives later (no duplicates from a second relay round).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(read_all(&broker, &format!("zerodb.{project}.audit")).await.len(), 25);
}

#[tokio::test]
async fn events_wait_out_a_broker_outage_and_a_server_restart() {
    let mut broker = KafkaBroker::start();
    let app = spawn_app_with(relay_to(&broker)).await;
    let ada = app.user("ada@example.com").await;
    let project = app.enabled_project(&ada, "outage").await;
    let topic = format!("zerodb.{project}.jobs");
    for n in 0..5 {
        ada.publish_event(project, &NewEvent::new("jobs", json!({"n": n}))).await.unwrap();
    }
    assert_eq!(consume(&broker, &topic, 5).await.len(), 5);

    // The broker goes away; publishing goes on (PostgreSQL is the source of truth).
    broker.stop();
    for n in 5..15 {
        ada.publish_event(project, &NewEvent::new("jobs", json!({"n": n}))).await.unwrap();
    }
    let batch: Vec<NewEvent> = (15..30).map(|n| NewEvent::new("jobs", json!({"n": n}))).collect();
    ada.publish_events(project, &batch).await.unwrap();
    let outbox = app.outbox.clone().expect("outbox");
    let backlog = outbox.backlog().await.unwrap();
    assert_eq!(backlog.events, 25, "the 25 events wait in the outbox");
    assert!(backlog.oldest.is_some());
    // Operators see it in /metrics.
    let metrics = app.client.metrics().await.unwrap();
    assert!(
        metrics.lines().any(|l| l == "zerodb_event_outbox_backlog_events 25"),
        "{}",
        metrics.lines().filter(|l| l.contains("outbox")).collect::<Vec<_>>().join("\n")
    );

    // The server restarts while they wait, and the broker comes back (empty: its storage is
    // memory, so only what is delivered from now on will be in it).
    app.handle.stop(true).await;
    let _ = app.stopped.await;
    broker.resume();
    let mut settings = test_settings(&app.db.url, app.data_dir.path());
    relay_to(&broker)(&mut settings);
    let server = start_server(&settings).await;

    let received = consume(&broker, &topic, 25).await;
    let offsets: Vec<i64> = received.iter().map(|r| r.0).collect();
    assert_eq!(offsets, (6..=30).collect::<Vec<i64>>(), "each waiting event once, in order");
    let payloads: Vec<Value> = received.into_iter().map(|r| r.1).collect();
    assert_eq!(payloads, (5..30).map(|n| json!({"n": n})).collect::<Vec<_>>());
    let outbox = server.outbox.expect("outbox");
    let deadline = Instant::now() + Duration::from_secs(5);
    while outbox.backlog().await.unwrap().events > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(outbox.backlog().await.unwrap().events, 0);
    server.handle.stop(true).await;
}
