//! Vectors through the HTTP API: upserts, validation, search plans and filters against an
//! exact reference, namespaces, and convergence across processes and restarts.
#![allow(clippy::manual_is_multiple_of)]

use crate::helpers::{
    JWT_SECRET, assert_error, call, on_qdrant, spawn_app, spawn_app_with, start_server,
    test_settings, vector_backend_env, wait_healthy,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{
    Client, GetVectors, HttpMethod, NewNamespace, NewVector, VectorQuery, VectorSearch,
};

/// Deterministic pseudo-random vectors (xorshift), so failures reproduce.
fn vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..n).map(|_| (0..dim).map(|_| next()).collect()).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// The exact top `k` ids by cosine among `candidates`.
fn exact_top(query: &[f32], candidates: &[(String, Vec<f32>)], k: usize) -> Vec<String> {
    let mut scored: Vec<(f32, String)> =
        candidates.iter().map(|(id, v)| (cosine(query, v), id.clone())).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}

async fn upsert_all(client: &Client, pid: Uuid, batch: Vec<NewVector>) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in batch.chunks(500) {
        let done = client.upsert_vectors(pid, chunk).await.unwrap();
        ids.extend(done.vectors.into_iter().map(|v| v.vector_id));
    }
    ids
}

#[tokio::test]
async fn upsert_get_list_search_and_delete() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;

    let first = ada
        .upsert_vector(
            pid,
            &NewVector::new(vec![1.0, 0.0, 0.0])
                .with_document("x axis")
                .with_metadata(json!({"axis": "x"})),
        )
        .await
        .unwrap();
    assert!(first.created);
    let id = Uuid::now_v7().to_string();
    let y = NewVector::new(vec![0.0, 1.0, 0.0]).with_id(&id).with_metadata(json!({"axis": "y"}));
    assert!(ada.upsert_vector(pid, &y).await.unwrap().created);
    // Upserting the same vector again replaces it: idempotent.
    assert!(!ada.upsert_vector(pid, &y).await.unwrap().created);
    let z = NewVector::new(vec![0.0, 0.0, 1.0]).in_namespace("other");
    ada.upsert_vector(pid, &z).await.unwrap();

    let got = ada.get_vector(pid, &id).await.unwrap();
    assert_eq!(got.vector_embedding, Some(vec![0.0, 1.0, 0.0]));
    assert_eq!(got.namespace, "default");
    assert_eq!(got.vector_metadata, json!({"axis": "y"}));

    let page =
        ada.list_vectors(pid, &VectorQuery { limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.items[0].vector_embedding.is_none());
    let rest = ada
        .list_vectors(pid, &VectorQuery { cursor: page.next_cursor.clone(), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next_cursor.is_none());
    let other = ada
        .list_vectors(
            pid,
            &VectorQuery {
                namespace: Some("other".into()),
                include_vectors: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(other.items.len(), 1);
    assert_eq!(other.items[0].vector_embedding, Some(vec![0.0, 0.0, 1.0]));

    let mut search = VectorSearch::new(vec![0.9, 0.1, 0.0], 10);
    search.include_vectors = true;
    let found = ada.search_vectors(pid, &search).await.unwrap();
    assert_eq!(found.count, 2);
    assert_eq!(found.results[0].vector_id, first.vector_id);
    assert_eq!(found.results[0].document.as_deref(), Some("x axis"));
    assert_eq!(found.results[0].vector_embedding, Some(vec![1.0, 0.0, 0.0]));
    let expected = cosine(&[0.9, 0.1, 0.0], &[1.0, 0.0, 0.0]);
    assert!((found.results[0].score - expected).abs() < 1e-5);
    assert!(found.results[0].score > found.results[1].score);
    search.min_score = Some(0.5);
    assert_eq!(ada.search_vectors(pid, &search).await.unwrap().count, 1);

    let status = ada.get_database(pid).await.unwrap();
    let default = status.vector_namespaces.iter().find(|n| n.namespace == "default").unwrap();
    assert_eq!((default.vector_count, default.dimension), (2, Some(3)));
    assert_eq!((default.metric.as_str(), default.quantization.as_str()), ("cosine", "none"));
    assert_eq!(default.indexed_vectors, Some(2));
    if !on_qdrant() {
        assert!(default.index_memory_bytes.unwrap() > 0, "the in-process index's memory");
    }

    ada.delete_vector(pid, &id).await.unwrap();
    assert_eq!(ada.get_vector(pid, &id).await.unwrap_err().status(), Some(404));
    assert_eq!(ada.delete_vector(pid, &id).await.unwrap_err().status(), Some(404));
    let found = ada.search_vectors(pid, &VectorSearch::new(vec![0.0, 1.0, 0.0], 10)).await.unwrap();
    assert!(found.results.iter().all(|h| h.vector_id != id));
    assert_eq!(
        ada.delete_vectors(pid, &[first.vector_id.clone(), id.clone()]).await.unwrap().deleted,
        1
    );
    let err = ada
        .search_vectors(pid, &VectorSearch::new(vec![1.0], 1).in_namespace("nowhere"))
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(404), Some("not_found")));
}

#[tokio::test]
async fn invalid_vectors_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    ada.upsert_vector(pid, &NewVector::new(vec![1.0, 2.0])).await.unwrap();
    let base = format!("/api/v1/projects/{pid}/database/vectors");
    let cases = [
        (json!({"vector_embedding": [1.0, 2.0, 3.0]}), 422, "dimension_mismatch"),
        (json!({"vector_embedding": []}), 422, "validation_failed"),
        (json!({"vector_embedding": [1.0, 1e39]}), 422, "validation_failed"),
        (
            json!({"vector_embedding": vec![0.5; 4097], "namespace": "big"}),
            422,
            "validation_failed",
        ),
        (json!({"vector_embedding": [1.0, 2.0], "vector_metadata": [1]}), 422, "validation_failed"),
        (
            json!({"vector_embedding": [1.0, 2.0], "vector_metadata": {"k": "x".repeat(20000)}}),
            422,
            "validation_failed",
        ),
        (json!({"vector_embedding": [1.0, 2.0], "namespace": "../x"}), 422, "validation_failed"),
        (json!({"vector_embedding": [1.0, 2.0], "extra": 1}), 422, "validation_failed"),
        (json!({"vector_embedding": "nope"}), 422, "validation_failed"),
        (
            json!({"vector_embedding": [1.0, 2.0], "vector_id": "bell\u{7}"}),
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let response = call(&ada, HttpMethod::POST, &format!("{base}/upsert"), Some(body)).await;
        assert_error(&response, status, code);
    }

    // A batch with one bad vector stores none of them.
    let mut batch: Vec<Value> =
        (0..5).map(|i| json!({"vector_embedding": [i as f32, 1.0]})).collect();
    batch.push(json!({"vector_embedding": [1.0, 2.0, 3.0]}));
    let response = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/upsert-batch"),
        Some(json!({"vectors": batch})),
    )
    .await;
    assert_error(&response, 422, "dimension_mismatch");
    assert_eq!(response.body["error"]["details"]["expected"], 2);
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"vector_embedding": [1.0, 2.0]})).collect();
    let response = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/upsert-batch"),
        Some(json!({"vectors": too_many})),
    )
    .await;
    assert_error(&response, 422, "validation_failed");
    let dup = Uuid::now_v7();
    let response = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/upsert-batch"),
        Some(json!({"vectors": [{"vector_id": dup, "vector_embedding": [1.0, 2.0]}, {"vector_id": dup, "vector_embedding": [1.0, 2.0]}]})),
    )
    .await;
    assert_error(&response, 422, "validation_failed");
    assert_eq!(app.db.count("SELECT count(*) AS n FROM zerodb_vectors").await, 1);

    // An id lives in one namespace.
    let taken =
        ada.list_vectors(pid, &VectorQuery::default()).await.unwrap().items[0].vector_id.clone();
    let err = ada
        .upsert_vector(pid, &NewVector::new(vec![1.0]).with_id(taken).in_namespace("elsewhere"))
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(409), Some("vector_id_taken")));
    assert_eq!(app.db.count("SELECT count(*) AS n FROM zerodb_vectors").await, 1);

    for (body, code) in [
        (json!({"query_vector": [1.0, 2.0, 3.0]}), "dimension_mismatch"),
        (json!({"query_vector": [1.0, 2.0], "limit": 0}), "validation_failed"),
        (json!({"query_vector": [1.0, 2.0], "limit": 1001}), "validation_failed"),
        (
            json!({"query_vector": [1.0, 2.0], "filter": {"a": {"$regex": "x"}}}),
            "validation_failed",
        ),
        (json!({"query_vector": [1.0, 2.0], "filter": [1]}), "validation_failed"),
        (json!({"query_vector": []}), "validation_failed"),
    ] {
        let response = call(&ada, HttpMethod::POST, &format!("{base}/search"), Some(body)).await;
        assert_error(&response, 422, code);
    }
    for body in [
        json!({}),
        json!({"vector_ids": []}),
        json!({"vector_ids": [Uuid::now_v7()], "filter": {}}),
        json!({"filter": {"$bad": 1}}),
    ] {
        let response = call(&ada, HttpMethod::POST, &format!("{base}/delete"), Some(body)).await;
        assert_error(&response, 422, "validation_failed");
    }
    assert_eq!(app.db.count("SELECT count(*) AS n FROM zerodb_vectors").await, 1);
}

#[tokio::test]
async fn namespaces_fix_metric_quantization_and_dimension() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let spec = |metric: &str, quantization: &str, dimension: Option<u32>| NewNamespace {
        namespace: "items".into(),
        metric: Some(metric.into()),
        quantization: Some(quantization.into()),
        dimension,
        embedding_model: None,
    };
    let ns = ada.create_namespace(pid, &spec("dot", "int8", Some(2))).await.unwrap();
    assert_eq!(
        (ns.metric.as_str(), ns.quantization.as_str(), ns.dimension),
        ("dot", "int8", Some(2))
    );
    ada.create_namespace(pid, &spec("dot", "int8", Some(2))).await.unwrap();
    for other in
        [spec("cosine", "int8", None), spec("dot", "none", None), spec("dot", "int8", Some(3))]
    {
        let err = ada.create_namespace(pid, &other).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (Some(409), Some("namespace_exists")));
    }
    let err = ada
        .upsert_vector(pid, &NewVector::new(vec![1.0, 2.0, 3.0]).in_namespace("items"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("dimension_mismatch"));
    let response = call(
        &ada,
        HttpMethod::POST,
        &format!("/api/v1/projects/{pid}/database/vector-namespaces"),
        Some(json!({"namespace": "x", "metric": "manhattan"})),
    )
    .await;
    assert_error(&response, 422, "validation_failed");

    // Dot product ranks by magnitude too; euclidean by distance.
    for v in [[1.0, 0.0], [3.0, 0.0], [0.0, 1.0]] {
        ada.upsert_vector(pid, &NewVector::new(v.to_vec()).in_namespace("items")).await.unwrap();
    }
    let hits = ada
        .search_vectors(pid, &VectorSearch::new(vec![1.0, 0.0], 3).in_namespace("items"))
        .await
        .unwrap();
    let scores: Vec<f32> = hits.results.iter().map(|h| h.score).collect();
    assert_eq!(scores, vec![3.0, 1.0, 0.0]);
    let euclid = NewNamespace {
        namespace: "places".into(),
        metric: Some("euclidean".into()),
        quantization: None,
        dimension: None,
        embedding_model: None,
    };
    ada.create_namespace(pid, &euclid).await.unwrap();
    for v in [[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]] {
        ada.upsert_vector(pid, &NewVector::new(v.to_vec()).in_namespace("places")).await.unwrap();
    }
    let hits = ada
        .search_vectors(pid, &VectorSearch::new(vec![0.0, 0.0], 3).in_namespace("places"))
        .await
        .unwrap();
    let scores: Vec<f32> = hits.results.iter().map(|h| h.score).collect();
    assert_eq!(scores[0], 1.0);
    assert!((scores[2] - 1.0 / 6.0).abs() < 1e-6, "{scores:?}");
    let listed = ada.list_namespaces(pid).await.unwrap();
    assert_eq!(
        listed.iter().map(|n| n.namespace.as_str()).collect::<Vec<_>>(),
        ["items", "places"]
    );
}

/// Metadata for vector `i`, and the same facts as a Rust value for the reference.
fn metadata(i: usize) -> Value {
    let mut m = json!({
        "group": i % 50,
        "score": (i % 7) as f64 / 2.0,
        "name": format!("item-{i:04}"),
        "tags": if i.is_multiple_of(3) { json!(["red", "round"]) } else { json!(["blue"]) },
        "author": {"name": if i.is_multiple_of(4) { "ada" } else { "bob" }, "born": 1800 + (i % 40)},
    });
    if i.is_multiple_of(5) {
        m["flag"] = json!(true);
    }
    m
}

#[tokio::test]
async fn filters_match_an_exact_reference_and_selective_ones_fill_the_limit() {
    // A small exact threshold makes this 1,500-vector namespace use the HNSW graph.
    let app = spawn_app_with(|s| {
        s.vectors.exact_threshold = 100;
        s.vectors.default_quantization = zerodb_domain::vectors::Quantization::Int8;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let data = vectors(1500, 32, 7);
    let batch: Vec<NewVector> = data
        .iter()
        .enumerate()
        .map(|(i, v)| NewVector::new(v.clone()).with_metadata(metadata(i)))
        .collect();
    let ids = upsert_all(&ada, pid, batch).await;
    let all: Vec<(usize, String, Vec<f32>)> =
        ids.iter().zip(&data).enumerate().map(|(i, (id, v))| (i, id.clone(), v.clone())).collect();

    type Reference = fn(usize) -> bool;
    let cases: Vec<(Value, Reference)> = vec![
        (json!({"group": 7}), |i| i % 50 == 7),
        (json!({"group": {"$in": [1, 2, 3]}}), |i| matches!(i % 50, 1..=3)),
        (json!({"group": {"$nin": [1, 2, 3]}}), |i| !matches!(i % 50, 1..=3)),
        (json!({"group": {"$gte": 10, "$lt": 12}}), |i| matches!(i % 50, 10 | 11)),
        (json!({"score": {"$gt": 2.5}}), |i| (i % 7) as f64 / 2.0 > 2.5),
        (json!({"score": {"$lte": 0.5}}), |i| (i % 7) as f64 / 2.0 <= 0.5),
        (json!({"name": {"$ne": "item-0003"}}), |i| i != 3),
        (json!({"name": {"$gt": "item-1490"}}), |i| i > 1490),
        (json!({"tags": {"$contains": "red"}}), |i| i % 3 == 0),
        (json!({"name": {"$contains": "-00"}}), |i| i < 100),
        (json!({"flag": {"$exists": true}}), |i| i % 5 == 0),
        (json!({"flag": {"$exists": false}}), |i| i % 5 != 0),
        (json!({"author.name": "ada"}), |i| i % 4 == 0),
        (json!({"author.born": {"$lt": 1805}}), |i| i % 40 < 5),
        (json!({"$or": [{"group": 1}, {"author.name": "ada", "flag": true}]}), |i| {
            i % 50 == 1 || (i % 4 == 0 && i % 5 == 0)
        }),
        (json!({"$and": [{"tags": {"$contains": "blue"}}, {"group": {"$lt": 5}}]}), |i| {
            i % 3 != 0 && i % 50 < 5
        }),
        (json!({"$not": {"group": {"$lt": 49}}}), |i| i % 50 == 49),
        (json!({"group": "7"}), |_| false),
    ];
    let query = vectors(1, 32, 99).remove(0);
    for (filter, reference) in &cases {
        let expected: HashSet<String> =
            all.iter().filter(|(i, _, _)| reference(*i)).map(|(_, id, _)| id.clone()).collect();
        let found = ada
            .search_vectors(
                pid,
                &VectorSearch::new(query.clone(), 1000).with_filter(filter.clone()),
            )
            .await
            .unwrap();
        let got: HashSet<String> = found.results.iter().map(|h| h.vector_id.clone()).collect();
        assert_eq!(got.len(), expected.len().min(1000), "{filter}");
        assert!(got.is_subset(&expected), "{filter}");
        if expected.len() <= 1000 {
            assert_eq!(got, expected, "{filter}");
        }
    }

    // Selective filters (30 of 1,500 match) still fill the limit, with the exact best ones.
    for group in [0, 7, 33] {
        let matching: Vec<(String, Vec<f32>)> = all
            .iter()
            .filter(|(i, _, _)| i % 50 == group)
            .map(|(_, id, v)| (id.clone(), v.clone()))
            .collect();
        let found = ada
            .search_vectors(
                pid,
                &VectorSearch::new(query.clone(), 20).with_filter(json!({"group": group})),
            )
            .await
            .unwrap();
        assert_eq!(found.count, 20);
        let got: Vec<String> = found.results.iter().map(|h| h.vector_id.clone()).collect();
        assert_eq!(got, exact_top(&query, &matching, 20));
    }

    // Broad filters go through the graph; their results still match and come best first.
    let found = ada
        .search_vectors(
            pid,
            &VectorSearch::new(query.clone(), 10).with_filter(json!({"flag": {"$exists": false}})),
        )
        .await
        .unwrap();
    assert_eq!(found.count, 10);
    assert!(found.results.windows(2).all(|w| w[0].score >= w[1].score));

    // Unfiltered: the graph plus exact rescoring finds the true nearest neighbours.
    let everything: Vec<(String, Vec<f32>)> =
        all.iter().map(|(_, id, v)| (id.clone(), v.clone())).collect();
    let mut overlap = 0;
    for q in vectors(20, 32, 1234) {
        let found = ada.search_vectors(pid, &VectorSearch::new(q.clone(), 10)).await.unwrap();
        let truth: HashSet<String> = exact_top(&q, &everything, 10).into_iter().collect();
        overlap += found.results.iter().filter(|h| truth.contains(&h.vector_id)).count();
    }
    assert!(overlap >= 190, "recall@10 {} below 0.95", overlap as f64 / 200.0);

    // Delete by filter uses the same language.
    let deleted =
        ada.delete_vectors_where(pid, "default", &json!({"group": {"$in": [1, 2]}})).await.unwrap();
    assert_eq!(deleted.deleted, 60);
    let found = ada
        .search_vectors(
            pid,
            &VectorSearch::new(query.clone(), 100).with_filter(json!({"group": {"$in": [1, 2]}})),
        )
        .await
        .unwrap();
    assert_eq!(found.count, 0);
    assert_eq!(app.db.count("SELECT count(*) AS n FROM zerodb_vectors").await, 1440);
}

/// Polls `check` until it holds; answers how long that took.
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "not converged within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Ids (with documents) a search for `query` returns, best first.
async fn hits(client: &Client, pid: Uuid, query: &[f32]) -> Vec<(String, Option<String>)> {
    let search = VectorSearch::new(query.to_vec(), 50);
    let found = client.search_vectors(pid, &search).await.unwrap();
    found.results.into_iter().map(|h| (h.vector_id, h.document)).collect()
}

/// Ids a lexical search for `text` returns.
async fn words(client: &Client, pid: Uuid, text: &str) -> Vec<String> {
    let search = VectorSearch::text(text, 50).with_mode("lexical");
    let found = client.search_vectors(pid, &search).await.unwrap();
    found.results.into_iter().map(|h| h.vector_id).collect()
}

/// The three promises of docs/architecture.md ("Consistency promises"): a process reads its
/// own acknowledged writes at once, another process converges within a second, and a
/// deletion or replacement once applied never comes back.
#[tokio::test]
async fn consistency_promises_hold_within_and_across_processes() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let base = ada.upsert_vector(pid, &NewVector::new(vec![0.0, 1.0])).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data_dir = tempfile::tempdir().unwrap();
    let mut second = tokio::process::Command::new(env!("CARGO_BIN_EXE_zerodb"))
        .arg("serve")
        .env("DATABASE_URL", &app.db.url)
        .env("ZERODB__AUTH__JWT_SECRET", JWT_SECRET)
        .env("ZERODB__SERVER__PORT", port.to_string())
        .env("ZERODB__DATA_DIR", data_dir.path())
        .env("ZERODB__LOG__LEVEL", "warn")
        .envs(vector_backend_env())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let token =
        app.client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let other = Client::new(&format!("http://127.0.0.1:{port}")).with_token(&token);
    wait_healthy(&other).await;
    // The second process loads the existing vector, then follows new writes.
    assert_eq!(hits(&other, pid, &[1.0, 0.0]).await[0].0, base.vector_id);

    let mut gone: Vec<String> = Vec::new();
    let mut replaced: Vec<String> = Vec::new();
    let mut slowest = Duration::ZERO;
    // Neither process may ever again show a deleted vector or a replaced one's old version.
    let never_back = async |client: &Client,
                            query: &[f32],
                            gone: &[String],
                            replaced: &[String]| {
        for (id, document) in hits(client, pid, query).await {
            assert!(!gone.contains(&id), "deleted vector {id} came back");
            if replaced.contains(&id) {
                assert_eq!(document.as_deref(), Some("replaced"), "old version of {id} came back");
            }
        }
    };
    for round in 0..12 {
        let (writer, reader) = if round % 2 == 0 { (&ada, &other) } else { (&other, &ada) };
        let angle = round as f32 * 0.13;
        let q = vec![angle.cos(), angle.sin()];
        let flipped = vec![-q[0], -q[1]];
        let document = format!("round {round} marker{round}");
        let word = format!("marker{round}");

        // 1. The writer sees its upsert at once; 2. the reader within a second.
        let v = writer
            .upsert_vector(pid, &NewVector::new(q.clone()).with_document(&document))
            .await
            .unwrap();
        let id = v.vector_id;
        let mine = hits(writer, pid, &q).await;
        assert!(
            mine.contains(&(id.clone(), Some(document.clone()))),
            "own upsert not visible: {mine:?}"
        );
        slowest = slowest.max(
            within(Duration::from_secs(1), async || {
                hits(reader, pid, &q).await.iter().any(|h| h.0 == id)
            })
            .await,
        );
        // The same promises hold for text search over the documents.
        assert!(words(writer, pid, &word).await.contains(&id), "own document not found by words");
        slowest = slowest.max(
            within(Duration::from_secs(1), async || words(reader, pid, &word).await.contains(&id))
                .await,
        );

        // Replacing it: the writer sees only the new version at once, the reader within a
        // second, and after that never the old one.
        writer
            .upsert_vector(
                pid,
                &NewVector::new(flipped.clone()).with_id(&id).with_document("replaced"),
            )
            .await
            .unwrap();
        replaced.push(id.clone());
        never_back(writer, &q, &gone, &replaced).await;
        assert!(hits(writer, pid, &flipped).await.contains(&(id.clone(), Some("replaced".into()))));
        slowest = slowest.max(
            within(Duration::from_secs(1), async || {
                hits(reader, pid, &flipped).await.contains(&(id.clone(), Some("replaced".into())))
            })
            .await,
        );
        never_back(reader, &q, &gone, &replaced).await;
        assert!(!words(writer, pid, &word).await.contains(&id), "the old words are gone at once");
        slowest = slowest.max(
            within(Duration::from_secs(1), async || !words(reader, pid, &word).await.contains(&id))
                .await,
        );

        // Deleting it: gone for the writer at once, for the reader within a second.
        writer.delete_vector(pid, &id).await.unwrap();
        gone.push(id.clone());
        never_back(writer, &flipped, &gone, &replaced).await;
        assert!(!words(writer, pid, "replaced").await.contains(&id), "deleted, not found by words");
        slowest = slowest.max(
            within(Duration::from_secs(1), async || {
                hits(reader, pid, &flipped).await.iter().all(|h| h.0 != id)
                    && !words(reader, pid, "replaced").await.contains(&id)
            })
            .await,
        );
        for client in [&ada, &other] {
            never_back(client, &q, &gone, &replaced).await;
            never_back(client, &flipped, &gone, &replaced).await;
        }
    }
    println!("slowest convergence across processes: {slowest:?}");
    // Past a reconciliation pass or two, still nothing comes back, and both agree.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for client in [&ada, &other] {
        for round in 0..12 {
            let angle = round as f32 * 0.13;
            never_back(client, &[angle.cos(), angle.sin()], &gone, &replaced).await;
        }
        let status = client.list_namespaces(pid).await.unwrap();
        assert_eq!(status[0].indexed_vectors, Some(1));
    }
    second.kill().await.unwrap();
}

async fn top_ids(client: &Client, pid: Uuid, queries: &[Vec<f32>]) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for q in queries {
        let hits = client.search_vectors(pid, &VectorSearch::new(q.clone(), 5)).await.unwrap();
        all.push(hits.results.into_iter().map(|h| h.vector_id.clone()).collect());
    }
    all
}

#[tokio::test]
async fn restarts_load_snapshots_and_rebuild_bad_ones() {
    if on_qdrant() {
        // Snapshots belong to the in-process index; Qdrant keeps its own storage.
        return;
    }
    // Searches are exact here (threshold above the namespace size), so results can be
    // compared across restarts; the graph itself is still saved, checked and loaded.
    let app = spawn_app_with(|s| s.vectors.exact_threshold = 1000).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let batch: Vec<NewVector> = vectors(400, 16, 3)
        .into_iter()
        .enumerate()
        .map(|(i, v)| NewVector::new(v).with_metadata(json!({"i": i})))
        .collect();
    let ids = upsert_all(&ada, pid, batch).await;
    let queries = vectors(5, 16, 77);
    let before = top_ids(&ada, pid, &queries).await;
    app.handle.stop(true).await;
    let _ = app.stopped.await;

    let snapshot = app.data_dir.path().join("vectors").join(pid.to_string()).join("ns-default");
    assert!(snapshot.join("index.usearch").exists(), "no snapshot written at shutdown");
    let settings = {
        let mut s = test_settings(&app.db.url, app.data_dir.path());
        s.vectors.exact_threshold = 1000;
        s
    };
    let restart = async |expect_indexed: u64| {
        let server = start_server(&settings).await;
        let token = Client::new(&server.address)
            .login("ada@example.com", "correct horse battery")
            .await
            .unwrap()
            .access_token;
        let client = Client::new(&server.address).with_token(&token);
        let namespaces = client.list_namespaces(pid).await.unwrap();
        assert_eq!(namespaces[0].indexed_vectors, Some(expect_indexed));
        assert_eq!(namespaces[0].vector_count, expect_indexed);
        (server, client)
    };

    // 1. A good snapshot: same results after the restart.
    let (server, client) = restart(400).await;
    assert_eq!(top_ids(&client, pid, &queries).await, before);
    // Changes made while another server is down are caught up from the change sequence.
    client.delete_vectors(pid, &ids[..10]).await.unwrap();
    server.handle.stop(true).await;
    let _ = server.stopped.await;

    // 2. A corrupt index file is detected by its checksum and rebuilt.
    let index_file = snapshot.join("index.usearch");
    let mut bytes = std::fs::read(&index_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&index_file, bytes).unwrap();
    let (server, client) = restart(390).await;
    let after = top_ids(&client, pid, &queries).await;
    let gone: HashSet<String> = ids[..10].iter().cloned().collect();
    for (old, new) in before.iter().zip(&after) {
        let expected: Vec<String> = old.iter().filter(|id| !gone.contains(*id)).cloned().collect();
        assert_eq!(new[..expected.len()], expected[..]);
    }
    server.handle.stop(true).await;
    let _ = server.stopped.await;

    // 3. A snapshot that is consistent but stale (vectors removed behind its back, as by a
    // restore from backup) disagrees on the count after catching up and is rebuilt.
    let removed = app
        .db
        .count(&format!(
            "WITH d AS (DELETE FROM zerodb_vectors WHERE vector_id IN ('{}', '{}') RETURNING 1) \
             SELECT count(*) AS n FROM d",
            ids[20], ids[21]
        ))
        .await;
    assert_eq!(removed, 2);
    let (server, client) = restart(388).await;
    let hits = top_ids(&client, pid, &queries).await;
    assert!(hits.iter().flatten().all(|id| *id != ids[20] && *id != ids[21]));
    server.handle.stop(true).await;
    let _ = server.stopped.await;

    // 4. A snapshot claiming to be ahead of the database is refused.
    let state = snapshot.join("state.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    json["applied_seq"] = json!(1_000_000);
    std::fs::write(&state, serde_json::to_vec(&json).unwrap()).unwrap();
    let (server, _client) = restart(388).await;
    server.handle.stop(true).await;
    let _ = server.stopped.await;
}

#[tokio::test]
async fn strangers_and_scopes_reach_no_vectors() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let mine = ada
        .upsert_vector(pid, &NewVector::new(vec![1.0, 0.0]).with_document("mine"))
        .await
        .unwrap();
    let bob_pid = app.enabled_project(&bob, "q").await;
    let bob_key = bob.create_api_key(bob_pid, "k", &["*"]).await.unwrap();
    let tables_key = ada.create_api_key(pid, "t", &["tables:read"]).await.unwrap();
    let reader_key = ada.create_api_key(pid, "r", &["vectors:read"]).await.unwrap();
    let writer_key = ada.create_api_key(pid, "w", &["vectors:write"]).await.unwrap();

    let base = format!("/api/v1/projects/{pid}/database/vectors");
    let one = format!("{base}/{}", mine.vector_id);
    let reads: Vec<(HttpMethod, String, Option<Value>)> = vec![
        (HttpMethod::GET, base.clone(), None),
        (HttpMethod::GET, one.clone(), None),
        (HttpMethod::POST, format!("{base}/search"), Some(json!({"query_vector": [1.0, 0.0]}))),
        (HttpMethod::POST, format!("{base}/get"), Some(json!({"ids": [mine.vector_id.clone()]}))),
        (HttpMethod::GET, format!("{base}/../vector-namespaces"), None),
        (HttpMethod::GET, format!("{base}/../vector-namespaces/default"), None),
    ];
    let writes: Vec<(HttpMethod, String, Option<Value>)> = vec![
        (HttpMethod::POST, format!("{base}/upsert"), Some(json!({"vector_embedding": [0.0, 1.0]}))),
        (
            HttpMethod::POST,
            format!("{base}/upsert-batch"),
            Some(json!({"vectors": [{"vector_embedding": [0.0, 1.0]}]})),
        ),
        (HttpMethod::POST, format!("{base}/delete"), Some(json!({"filter": {}}))),
        (HttpMethod::DELETE, one.clone(), None),
        (HttpMethod::POST, format!("{base}/namespaces"), Some(json!({"namespace": "n"}))),
        (HttpMethod::POST, format!("{base}/../vector-namespaces"), Some(json!({"namespace": "m"}))),
    ];
    let anonymous = app.client.anonymous();
    let foreign = app.client.with_api_key(&bob_key.api_key);
    let tables = app.client.with_api_key(&tables_key.api_key);
    let reader = app.client.with_api_key(&reader_key.api_key);
    let writer = app.client.with_api_key(&writer_key.api_key);
    for (method, path, body) in reads.iter().chain(&writes) {
        assert_error(
            &call(&anonymous, method.clone(), path, body.clone()).await,
            401,
            "unauthenticated",
        );
        assert_error(&call(&bob, method.clone(), path, body.clone()).await, 404, "not_found");
        assert_error(&call(&foreign, method.clone(), path, body.clone()).await, 404, "not_found");
        assert_error(
            &call(&tables, method.clone(), path, body.clone()).await,
            403,
            "insufficient_scope",
        );
    }
    for (method, path, body) in &writes {
        assert_error(
            &call(&reader, method.clone(), path, body.clone()).await,
            403,
            "insufficient_scope",
        );
    }
    for (method, path, body) in &reads {
        assert_error(
            &call(&writer, method.clone(), path, body.clone()).await,
            403,
            "insufficient_scope",
        );
        assert_eq!(call(&reader, method.clone(), path, body.clone()).await.status, 200, "{path}");
    }
    // Nothing changed.
    let all = ada.list_vectors(pid, &VectorQuery::default()).await.unwrap();
    assert_eq!(all.items.len(), 1);
    assert_eq!(all.items[0].document.as_deref(), Some("mine"));
    assert_eq!(ada.list_namespaces(pid).await.unwrap().len(), 1);
    // A key with the write scope writes.
    assert!(writer.upsert_vector(pid, &NewVector::new(vec![0.0, 1.0])).await.is_ok());
}

/// Ids that are route names, carry URL syntax, spaces, emoji, or are 512 bytes long: each
/// one round-trips exactly through upsert, get (by its percent-encoded path segment), list,
/// get by ids, search and delete; no fixed route shadows one.
#[tokio::test]
async fn any_string_is_an_id_and_no_route_shadows_it() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let long = format!("{}{}", "é".repeat(255), "xy");
    assert_eq!(long.len(), 512);
    let ids: Vec<String> = [
        "1",
        "2",
        "search",
        "namespaces",
        "get",
        "upsert",
        "delete",
        "upsert-batch",
        "a/b",
        "q?x=1#frag",
        "100%",
        "with space",
        "🚀 emoji",
        "%2F",
        "..",
        long.as_str(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let batch: Vec<NewVector> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let angle = i as f32 * 0.3;
            NewVector::new(vec![angle.cos(), angle.sin(), 0.1]).with_id(id).with_document(id)
        })
        .collect();
    let done = ada.upsert_vectors(pid, &batch).await.unwrap();
    let answered: Vec<String> = done.vectors.iter().map(|v| v.vector_id.clone()).collect();
    assert_eq!(answered, ids, "answered exactly as given");

    // URL clients resolve the dot segments "." and ".." before sending (even encoded as
    // %2E), so those two ids are read through POST .../vectors/get instead.
    for id in ids.iter().filter(|id| *id != "..") {
        let got = ada.get_vector(pid, id).await.unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert_eq!(&got.vector_id, id);
        assert_eq!(got.document.as_deref(), Some(id.as_str()));
    }
    // The plain path of a route name reads the vector too.
    let plain = call(
        &ada,
        HttpMethod::GET,
        &format!("/api/v1/projects/{pid}/database/vectors/search"),
        None,
    )
    .await;
    assert_eq!((plain.status, plain.body["vector_id"].clone()), (200, json!("search")));
    let listed = ada.list_vectors(pid, &VectorQuery::default()).await.unwrap();
    let mut sorted = ids.clone();
    sorted.sort();
    let listed_ids: Vec<String> = listed.items.iter().map(|v| v.vector_id.clone()).collect();
    assert_eq!(listed_ids, sorted, "byte order");
    let page1 =
        ada.list_vectors(pid, &VectorQuery { limit: Some(5), ..Default::default() }).await.unwrap();
    let page2 = ada
        .list_vectors(
            pid,
            &VectorQuery {
                limit: Some(50),
                cursor: page1.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page1.items.len() + page2.items.len(), ids.len(), "pages cover every id once");

    let wanted: Vec<String> =
        ["🚀 emoji", "missing", "a/b", "1", ".."].iter().map(|s| (*s).to_owned()).collect();
    let got = ada
        .get_vectors(pid, &GetVectors { ids: Some(wanted), ..Default::default() })
        .await
        .unwrap();
    let got_ids: Vec<&str> = got.items.iter().map(|v| v.vector_id.as_str()).collect();
    assert_eq!(got_ids, ["🚀 emoji", "a/b", "1", ".."], "in the order asked, missing left out");

    for (i, id) in ids.iter().enumerate() {
        let angle = i as f32 * 0.3;
        let found = ada
            .search_vectors(pid, &VectorSearch::new(vec![angle.cos(), angle.sin(), 0.1], 1))
            .await
            .unwrap();
        assert_eq!(&found.results[0].vector_id, id);
    }

    for id in ["a/b", "namespaces", "100%", long.as_str()] {
        ada.delete_vector(pid, id).await.unwrap();
        assert_eq!(ada.get_vector(pid, id).await.unwrap_err().status(), Some(404));
    }
    let deleted = ada.delete_vectors(pid, &["q?x=1#frag", "nothing"]).await.unwrap();
    assert_eq!(deleted.deleted, 1);

    let base = format!("/api/v1/projects/{pid}/database/vectors");
    for bad in [json!("a\u{0}b"), json!("tab\there"), json!("x".repeat(513)), json!("")] {
        let response = call(
            &ada,
            HttpMethod::POST,
            &format!("{base}/upsert"),
            Some(json!({"vector_id": bad, "vector_embedding": [1.0, 0.0, 0.0]})),
        )
        .await;
        assert_error(&response, 422, "validation_failed");
    }
    let control = call(&ada, HttpMethod::GET, &format!("{base}/a%01b"), None).await;
    assert_error(&control, 422, "validation_failed");
    // Another project's key cannot read an id it does not own, even one that exists here.
    let eve = app.user("eve@example.com").await;
    let theirs = app.enabled_project(&eve, "theirs").await;
    assert_eq!(eve.get_vector(theirs, "1").await.unwrap_err().status(), Some(404));
    eve.upsert_vector(theirs, &NewVector::new(vec![1.0, 0.0, 0.0]).with_id("1")).await.unwrap();
    assert_eq!(ada.get_vector(pid, "1").await.unwrap().document.as_deref(), Some("1"));
}

#[cfg(feature = "local-embeddings")]
fn local_model_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/models/all-MiniLM-L6-v2");
    assert!(dir.is_dir(), "{} is missing: scripts/test unpacks it", dir.display());
    dir
}

/// Documents sent as text are embedded by the server with the local model; a text query
/// searches them by meaning, by words, or both fused with a score breakdown, under a
/// selective filter that still fills the limit; get, include and MMR.
#[cfg(feature = "local-embeddings")]
#[tokio::test]
async fn documents_in_text_out_hybrid_search_get_include_and_mmr() {
    let model_dir = local_model_dir();
    let app = spawn_app_with(|s| {
        s.embeddings.provider = zerodb_server::config::EmbeddingProviderKind::Local;
        s.embeddings.local.model_dir = Some(model_dir);
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "docs").await;
    let topics = [
        ("cars", "my car broke down on the motorway and needs a mechanic"),
        ("cars", "the automobile engine makes a strange noise"),
        ("cooking", "a recipe for apple pie with cinnamon"),
        ("cooking", "how to bake sourdough bread at home"),
        ("space", "the rocket launched a satellite into orbit"),
        ("space", "astronauts live on the international space station"),
    ];
    let mut batch = Vec::new();
    for round in 0..5 {
        for (i, (topic, text)) in topics.iter().enumerate() {
            batch.push(
                NewVector::text(&format!("{text} (note {round})"))
                    .with_id(format!("{topic}-{round}-{i}"))
                    .in_namespace("notes")
                    .with_metadata(json!({"topic": topic, "round": round})),
            );
        }
    }
    let done = ada.upsert_vectors(pid, &batch).await.unwrap();
    assert_eq!(done.upserted, 30);
    let ns = ada.get_namespace(pid, "notes").await.unwrap();
    assert_eq!(ns.vector_count, 30, "a namespace's count");
    assert_eq!(ns.dimension, Some(384));
    assert!(ns.embedding_model.is_some(), "the model that embedded them is recorded");

    // By meaning: no shared word with "vehicle repair".
    let semantic = ada
        .search_vectors(
            pid,
            &VectorSearch::text("vehicle repair", 5).in_namespace("notes").with_mode("semantic"),
        )
        .await
        .unwrap();
    assert_eq!(semantic.mode, "semantic");
    assert!(semantic.results.iter().all(|h| h.vector_metadata["topic"] == "cars"), "{semantic:?}");

    // Hybrid is the default with a text; every hit explains its score.
    let hybrid = ada
        .search_vectors(pid, &VectorSearch::text("apple pie", 5).in_namespace("notes"))
        .await
        .unwrap();
    assert_eq!(hybrid.mode, "hybrid");
    assert_eq!(hybrid.count, 5);
    let top = &hybrid.results[0];
    assert_eq!(top.vector_metadata["topic"], "cooking");
    let breakdown = top.score_breakdown.expect("a breakdown");
    assert!(breakdown.semantic.is_some() && breakdown.lexical.is_some(), "{breakdown:?}");
    assert!((breakdown.fused - top.score).abs() < 1e-6);
    assert!(hybrid.results.windows(2).all(|w| w[0].score >= w[1].score));

    // Lexical: words only, stemmed.
    let lexical = ada
        .search_vectors(
            pid,
            &VectorSearch::text("launching rockets", 10).in_namespace("notes").with_mode("lexical"),
        )
        .await
        .unwrap();
    assert_eq!(lexical.count, 5, "the five rocket notes, no others: {lexical:?}");
    assert!(
        lexical.results.iter().all(|h| h.score_breakdown.is_some_and(|b| b.semantic.is_none()))
    );

    // A selective filter still fills the limit, in every mode.
    for mode in ["semantic", "lexical", "hybrid"] {
        let filtered = ada
            .search_vectors(
                pid,
                &VectorSearch::text("orbit of the space station", 4)
                    .in_namespace("notes")
                    .with_mode(mode)
                    .with_filter(json!({"$and": [{"topic": "space"}, {"round": {"$gte": 1}}]})),
            )
            .await
            .unwrap();
        assert_eq!(filtered.count, 4, "{mode}: {filtered:?}");
        assert!(filtered.results.iter().all(|h| h.vector_metadata["topic"] == "space"
            && h.vector_metadata["round"].as_u64() >= Some(1)));
    }

    // include: lean answers carry only what was asked for.
    let base = format!("/api/v1/projects/{pid}/database/vectors");
    let lean = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/search"),
        Some(json!({"query": "bread", "namespace": "notes", "limit": 2, "include": []})),
    )
    .await;
    assert_eq!(lean.status, 200, "{}", lean.body);
    let hit = lean.body["results"][0].as_object().unwrap();
    let keys: Vec<&str> = hit.keys().map(String::as_str).collect();
    assert_eq!(keys, ["namespace", "vector_id"], "only the id and namespace");
    let with_vectors = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/get"),
        Some(json!({"ids": ["cars-0-0"], "include": ["vectors"]})),
    )
    .await;
    let item = &with_vectors.body["items"][0];
    assert_eq!(item["vector_embedding"].as_array().map(Vec::len), Some(384));
    assert!(item.get("document").is_none() && item.get("vector_metadata").is_none());

    // Get by filter, a page at a time.
    let mut cursor = None;
    let mut seen = Vec::new();
    loop {
        let page = ada
            .get_vectors(
                pid,
                &GetVectors {
                    namespace: Some("notes".into()),
                    filter: Some(json!({"topic": "cooking"})),
                    limit: Some(4),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|v| v.vector_id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 10);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]) && seen.iter().all(|id| id.starts_with("cooking"))
    );

    // MMR: without it the top two are near-copies; with it the second differs.
    let plain = ada
        .search_vectors(
            pid,
            &VectorSearch::text("apple pie recipe", 2).in_namespace("notes").with_mode("semantic"),
        )
        .await
        .unwrap();
    let topic_of = |h: &zerodb_client::VectorHit| h.document.clone().unwrap_or_default();
    assert!(plain.results.iter().all(|h| topic_of(h).contains("apple pie")));
    let diverse = ada
        .search_vectors(
            pid,
            &VectorSearch::text("apple pie recipe", 2)
                .in_namespace("notes")
                .with_mode("semantic")
                .with_mmr(0.3, 30),
        )
        .await
        .unwrap();
    assert_eq!(diverse.count, 2);
    assert!(topic_of(&diverse.results[0]).contains("apple pie"));
    assert!(!topic_of(&diverse.results[1]).contains("apple pie"), "{diverse:?}");

    // Clear errors: both queries, neither, and text for vectors that came from outside.
    let both = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/search"),
        Some(json!({"query": "x", "query_vector": [1.0], "namespace": "notes"})),
    )
    .await;
    assert_error(&both, 422, "validation_failed");
    let neither = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/search"),
        Some(json!({"namespace": "notes"})),
    )
    .await;
    assert_error(&neither, 422, "validation_failed");
    ada.upsert_vector(pid, &NewVector::new(vec![1.0, 0.0]).in_namespace("outside")).await.unwrap();
    let outside = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/search"),
        Some(json!({"query": "x", "namespace": "outside"})),
    )
    .await;
    assert_error(&outside, 422, "namespace_without_model");
    let outside_write = call(
        &ada,
        HttpMethod::POST,
        &format!("{base}/upsert"),
        Some(json!({"document": "x", "namespace": "outside"})),
    )
    .await;
    assert_error(&outside_write, 422, "namespace_without_model");
    assert_eq!(ada.get_namespace(pid, "outside").await.unwrap().vector_count, 1, "nothing written");
}
