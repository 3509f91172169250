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

/// ZeroDB's own vector namespaces (memory embeddings under `__memory`) are invisible and
/// untouchable through the vectors API, even to a key with every vectors scope.
#[tokio::test]
async fn reserved_namespaces_stay_hidden_from_the_vectors_api() {
    use zerodb_client::HttpMethod as M;
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let db = format!("/api/v1/projects/{pid}/database");
    let stored = call(
        &ada,
        M::POST,
        &format!("{db}/memory/store"),
        Some(json!({"agent_id": uuid::Uuid::now_v7(), "session_id": uuid::Uuid::now_v7(),
                    "role": "user", "content": "a secret only memory:read may see"})),
    )
    .await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let memory_id = stored.body["memory_id"].as_str().unwrap().to_owned();
    let key = ada.create_api_key(pid, "vectors", &["vectors:read", "vectors:write"]).await.unwrap();
    let vectors = ada.with_api_key(&key.api_key);

    let list = call(&vectors, M::GET, &format!("{db}/vectors"), None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"], json!([]), "{}", list.body);
    let list = call(&vectors, M::GET, &format!("{db}/vectors?namespace=__memory"), None).await;
    assert_error(&list, 422, "validation_failed");
    assert_error(
        &call(&vectors, M::GET, &format!("{db}/vectors/{memory_id}"), None).await,
        404,
        "not_found",
    );
    let namespaces = call(&vectors, M::GET, &format!("{db}/vectors/namespaces"), None).await;
    assert!(!namespaces.body.to_string().contains("__memory"), "{}", namespaces.body);
    let search = json!({"query_vector": vec![0.1; 384], "namespace": "__memory"});
    assert_error(
        &call(&vectors, M::POST, &format!("{db}/vectors/search"), Some(search)).await,
        422,
        "validation_failed",
    );
    let by_filter = json!({"namespace": "__memory", "filter": {}});
    assert_error(
        &call(&vectors, M::POST, &format!("{db}/vectors/delete"), Some(by_filter)).await,
        422,
        "validation_failed",
    );
    let by_id = json!({"vector_ids": [memory_id]});
    let deleted = call(&vectors, M::POST, &format!("{db}/vectors/delete"), Some(by_id)).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["deleted"], json!(0), "{}", deleted.body);
    assert_error(
        &call(&vectors, M::DELETE, &format!("{db}/vectors/{memory_id}"), None).await,
        404,
        "not_found",
    );

    // The memory and its embedding are intact: it is still found by meaning.
    let found = call(
        &ada,
        M::POST,
        &format!("{db}/memory/search"),
        Some(json!({"query": "a secret only memory:read may see", "mode": "semantic"})),
    )
    .await;
    assert_eq!(found.body["results"][0]["memory_id"], json!(memory_id), "{}", found.body);
}
