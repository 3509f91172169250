//! `vectors.backend = "qdrant"` end to end: a real Qdrant behind the server, an outage,
//! and `zerodb vectors reindex`.

use crate::helpers::{JWT_SECRET, TestApp, spawn_app_with};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{MemorySearch, NewMemory, NewVector, VectorSearch};
use zerodb_server::config::{Settings, VectorBackend};
use zerodb_testkit::QdrantServer;

fn on_qdrant(qdrant: &QdrantServer) -> impl FnOnce(&mut Settings) + use<> {
    let url = qdrant.url();
    move |s| {
        s.vectors.backend = VectorBackend::Qdrant;
        s.vectors.qdrant.url = Some(url);
        s.vectors.qdrant.timeout_ms = 2000;
    }
}

/// A signed-in user's token and an enabled project.
async fn owner(app: &TestApp) -> (String, Uuid) {
    app.client.register("ada@example.com", "correct horse battery").await.unwrap();
    let login = app.client.login("ada@example.com", "correct horse battery").await.unwrap();
    let ada = app.client.with_token(&login.access_token);
    let project = app.enabled_project(&ada, "on-qdrant").await;
    (login.access_token, project)
}

/// A search through plain HTTP, to see the headers: (fallback header, body).
async fn search(
    app: &TestApp,
    token: &str,
    project: Uuid,
    query: Vec<f32>,
) -> (Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/projects/{project}/database/vectors/search", app.address))
        .bearer_auth(token)
        .json(&json!({"query_vector": query, "limit": 200}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header =
        response.headers().get("x-zerodb-search-fallback").map(|v| v.to_str().unwrap().to_owned());
    (header, response.json().await.unwrap())
}

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["vector_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn axis(i: usize) -> Vec<f32> {
    let mut v = vec![0.05; 16];
    v[i % 16] = 1.0;
    v
}

async fn backlog(app: &TestApp) -> u64 {
    let metrics = app.client.metrics().await.unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("zerodb_vector_relay_backlog_changes "))
        .unwrap_or_else(|| panic!("no backlog gauge in\n{metrics}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn vectors_and_memory_are_served_by_qdrant() {
    let qdrant = QdrantServer::start();
    let app = spawn_app_with(on_qdrant(&qdrant)).await;
    let (token, project) = owner(&app).await;
    let ada = app.client.with_token(&token);
    let vectors: Vec<NewVector> =
        (0..20).map(|i| NewVector::new(axis(i)).with_id(Uuid::now_v7())).collect();
    ada.upsert_vectors(project, &vectors).await.unwrap();
    let (header, body) = search(&app, &token, project, axis(3)).await;
    assert_eq!((header, body["served_by"].as_str()), (None, Some("index")));
    assert_eq!(body["count"], 20);
    assert_eq!(body["results"][0]["vector_id"], json!(vectors[3].vector_id));
    let filtered = ada
        .search_vectors(project, &VectorSearch::new(axis(3), 5).with_filter(json!({"missing": 1})))
        .await
        .unwrap();
    assert_eq!((filtered.count, filtered.served_by.as_str()), (0, "index"));

    // Agent memory finds by meaning through the same backend.
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    for text in ["the quokka lives on Rottnest island", "invoices are due on Fridays"] {
        ada.store_memory(project, &NewMemory::new(agent, session, "user", text)).await.unwrap();
    }
    let search = MemorySearch {
        query: Some("quokka island".into()),
        mode: Some("semantic".into()),
        ..Default::default()
    };
    let hits = ada.search_memory(project, &search).await.unwrap();
    assert!(hits.results[0].memory.content.contains("quokka"));
    let names: Vec<String> = qdrant_collections(&qdrant)
        .await
        .into_iter()
        .filter(|n| n.starts_with("zerodb_"))
        .collect();
    assert_eq!(names.len(), 2, "one collection per (dimension, metric): {names:?}");
}

async fn qdrant_collections(qdrant: &QdrantServer) -> Vec<String> {
    let all: Value =
        reqwest::get(format!("{}/collections", qdrant.url())).await.unwrap().json().await.unwrap();
    all["result"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_qdrant_outage_is_answered_from_postgres_and_the_backlog_drains() {
    let mut qdrant = QdrantServer::start();
    let app = spawn_app_with(on_qdrant(&qdrant)).await;
    let (token, project) = owner(&app).await;
    let ada = app.client.with_token(&token);
    let first: Vec<NewVector> =
        (0..10).map(|i| NewVector::new(axis(i)).with_id(Uuid::now_v7())).collect();
    ada.upsert_vectors(project, &first).await.unwrap();

    qdrant.stop();
    let later: Vec<NewVector> =
        (10..110).map(|i| NewVector::new(axis(i)).with_id(Uuid::now_v7())).collect();
    ada.upsert_vectors(project, &later).await.unwrap();
    let gone = first[0].vector_id.clone().unwrap();
    ada.delete_vector(project, gone).await.unwrap();
    let expected: Vec<String> = {
        let mut all: Vec<String> =
            first[1..].iter().chain(&later).map(|v| v.vector_id.clone().unwrap()).collect();
        all.sort();
        all
    };
    let (header, body) = search(&app, &token, project, axis(12)).await;
    assert_eq!(header.as_deref(), Some("exact"));
    assert_eq!(body["served_by"], "exact_fallback");
    assert_eq!(ids(&body), expected, "every acknowledged write, nothing deleted");
    assert_eq!(ids(&body).len(), 109);
    assert_eq!(backlog(&app).await, 101, "a hundred upserts and a delete wait");

    qdrant.resume();
    let deadline = Instant::now() + Duration::from_secs(60);
    while backlog(&app).await > 0 {
        assert!(Instant::now() < deadline, "the backlog did not drain");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (header, body) = search(&app, &token, project, axis(12)).await;
    assert_eq!((header, body["served_by"].as_str()), (None, Some("index")));
    assert_eq!(ids(&body), expected);
}

#[tokio::test]
async fn vectors_reindex_rebuilds_qdrant_from_postgres() {
    let qdrant = QdrantServer::start();
    let app = spawn_app_with(on_qdrant(&qdrant)).await;
    let (token, project) = owner(&app).await;
    let ada = app.client.with_token(&token);
    let vectors: Vec<NewVector> =
        (0..30).map(|i| NewVector::new(axis(i)).with_id(Uuid::now_v7())).collect();
    ada.upsert_vectors(project, &vectors).await.unwrap();
    for name in qdrant_collections(&qdrant).await {
        reqwest::Client::new()
            .delete(format!("{}/collections/{name}", qdrant.url()))
            .send()
            .await
            .unwrap();
    }
    let (_, body) = search(&app, &token, project, axis(4)).await;
    assert_eq!(body["served_by"], "exact_fallback", "a wiped Qdrant is not trusted");

    // Awaited, not blocking: the server's relay runs on this test's runtime, and the
    // command follows its progress.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
        .args(["vectors", "reindex"])
        .env("DATABASE_URL", &app.db.url)
        .env("ZERODB__AUTH__JWT_SECRET", JWT_SECRET)
        .env("ZERODB__VECTORS__BACKEND", "qdrant")
        .env("ZERODB__VECTORS__QDRANT__URL", qdrant.url())
        .env("ZERODB__LOG__LEVEL", "warn")
        .output()
        .await
        .expect("run zerodb vectors reindex");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("reindexed 30 vectors of 1 projects"), "{stdout}");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (header, body) = search(&app, &token, project, axis(4)).await;
        if body["served_by"] == "index" {
            assert_eq!(header, None);
            assert_eq!(body["count"], 30);
            assert_eq!(body["results"][0]["vector_id"], json!(vectors[4].vector_id));
            break;
        }
        assert!(Instant::now() < deadline, "still answered by the fallback");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
