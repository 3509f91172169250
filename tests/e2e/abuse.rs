//! Abuse and faults: idle streams stay idle, sign-in is throttled, quotas hold, reserved
//! namespaces stay hidden, limits apply everywhere.

use crate::helpers::*;
use futures_util::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};
use zerodb_client::{EventQuery, NewEvent};

/// The value of an unlabelled counter or gauge in a Prometheus text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from metrics"))
}

/// A stream whose topic gets nothing sleeps while other topics are busy: its reads stay
/// bounded by the wake-ups, not by time, and its first matching event still arrives fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_stream_waits_instead_of_spinning() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    // The project's newest event is on topic a; the stream follows b.
    ada.publish_event(pid, &NewEvent::new("a", json!({"n": 0}))).await.unwrap();
    let query = EventQuery { topic: Some("b".into()), ..Default::default() };
    let mut stream = ada.stream_events(pid, &query, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reads_before =
        metric(&app.client.metrics().await.unwrap(), "zerodb_event_stream_reads_total");

    // Five seconds of other topics' traffic: 25 events.
    let started = Instant::now();
    for n in 1..=25 {
        ada.publish_event(pid, &NewEvent::new("a", json!({"n": n}))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reads = metric(&app.client.metrics().await.unwrap(), "zerodb_event_stream_reads_total")
        - reads_before;
    println!("idle stream: {reads} reads over {:?} with 25 foreign events", started.elapsed());
    // At most one read per wake-up (each foreign event may wake it once), never a loop.
    assert!(reads <= 30.0, "{reads} reads for 25 foreign events in 5 s");

    // A matching event still arrives within 100 ms of being published.
    let published = Instant::now();
    ada.publish_event(pid, &NewEvent::new("b", json!({"hello": true}))).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the matching event arrived")
        .expect("stream open")
        .expect("an event");
    let latency = published.elapsed();
    assert_eq!(got.topic, "b");
    assert!(latency < Duration::from_millis(100), "first matching event took {latency:?}");
}
