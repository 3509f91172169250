//! Agent memory through the HTTP API: storage and validation, ranking by meaning, recency
//! and importance, hybrid search, context windows, retention, embeddings and access.

use crate::helpers::{
    assert_error, assert_guarded, call, spawn_app, spawn_app_with, spawn_app_with_clock,
};
use chrono::TimeDelta;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use zerodb_client::{ContextQuery, HttpMethod, MemoryQuery, MemorySearch, NewMemory};
use zerodb_domain::clock::ManualClock;

#[tokio::test]
async fn store_list_get_delete_and_validation() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (agent, other_agent, session) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let first = ada
        .store_memory(pid, &NewMemory::new(agent, session, "user", "I like green tea"))
        .await
        .unwrap();
    assert_eq!(first.importance, 0.5);
    let expires = first.expires_at.unwrap();
    let days = (expires - first.created_at).num_days();
    assert_eq!(days, 30, "default retention");
    let mut second = NewMemory::new(agent, session, "assistant", "Noted: green tea");
    second.importance = Some(0.9);
    second.memory_metadata = Some(json!({"topic": "drinks"}));
    let second = ada.store_memory(pid, &second).await.unwrap();
    ada.store_memory(pid, &NewMemory::new(other_agent, session, "user", "Other agent"))
        .await
        .unwrap();

    let all = ada.list_memory(pid, &MemoryQuery::default()).await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert!(all.items.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first");
    let mine = ada
        .list_memory(
            pid,
            &MemoryQuery { agent_id: Some(agent), limit: Some(1), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(mine.items[0].memory_id, second.memory_id);
    let rest = ada
        .list_memory(
            pid,
            &MemoryQuery { agent_id: Some(agent), cursor: mine.next_cursor, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.iter().map(|m| m.memory_id).collect::<Vec<_>>(), vec![first.memory_id]);
    let assistants = ada
        .list_memory(pid, &MemoryQuery { role: Some("assistant".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(assistants.items.len(), 1);
    assert_eq!(
        ada.get_memory(pid, second.memory_id).await.unwrap().memory_metadata,
        json!({"topic": "drinks"})
    );
    ada.delete_memory(pid, first.memory_id).await.unwrap();
    assert_eq!(ada.get_memory(pid, first.memory_id).await.unwrap_err().status(), Some(404));
    let hits = ada
        .search_memory(pid, &MemorySearch { query: Some("green tea".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(hits.results.iter().all(|h| h.memory.memory_id != first.memory_id));

    let base = format!("/api/v1/projects/{pid}/database/memory");
    let ok = json!({"agent_id": agent, "session_id": session, "role": "user", "content": "x"});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    for (body, code) in [
        (with("role", json!("robot")), "validation_failed"),
        (with("content", json!("  ")), "validation_failed"),
        (with("importance", json!(1.5)), "validation_failed"),
        (with("expires_at", json!("2000-01-01T00:00:00Z")), "validation_failed"),
        (with("memory_metadata", json!([1])), "validation_failed"),
        (with("embedding", json!([1.0, 2.0])), "dimension_mismatch"),
        (with("agent_id", json!("nope")), "validation_failed"),
    ] {
        assert_error(
            &call(&ada, HttpMethod::POST, &format!("{base}/store"), Some(body)).await,
            422,
            code,
        );
    }
    for body in [
        json!({}),
        json!({"query": "x", "mode": "telepathic"}),
        json!({"query": "x", "limit": 0}),
        json!({"mode": "lexical", "query_vector": [1.0]}),
        json!({"query": "x", "filter": {"$bogus": 1}}),
    ] {
        assert_error(
            &call(&ada, HttpMethod::POST, &format!("{base}/search"), Some(body)).await,
            422,
            "validation_failed",
        );
    }
    assert_eq!(ada.list_memory(pid, &MemoryQuery::default()).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn batches_store_all_or_nothing() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    let generated = ada.generate_embeddings(pid, &["a given embedding"]).await.unwrap();
    let mut given = NewMemory::new(agent, session, "assistant", "a given embedding");
    given.embedding = Some(generated.embeddings[0].clone());
    let batch = vec![
        NewMemory::new(agent, session, "user", "the quokka lives on Rottnest island"),
        given,
        NewMemory::new(agent, session, "system", "be concise"),
    ];
    let stored = ada.store_memories(pid, &batch).await.unwrap();
    assert_eq!(stored.count, 3);
    let contents: Vec<&str> = stored.memories.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        contents,
        ["the quokka lives on Rottnest island", "a given embedding", "be concise"]
    );
    let hits = ada
        .search_memory(
            pid,
            &MemorySearch {
                query: Some("quokka island".into()),
                mode: Some("semantic".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(hits.results[0].memory.memory_id, stored.memories[0].memory_id);

    let base = format!("/api/v1/projects/{pid}/database/memory/store-batch");
    let ok = json!({"agent_id": agent, "session_id": session, "role": "user", "content": "fine"});
    let bad = json!({"agent_id": agent, "session_id": session, "role": "user", "content": ""});
    let r = call(&ada, HttpMethod::POST, &base, Some(json!({"memories": [ok, bad, ok]}))).await;
    assert_error(&r, 422, "validation_failed");
    assert!(r.body.to_string().contains("memories[1].content"), "{}", r.body);
    let too_many: Vec<_> = (0..501).map(|_| ok.clone()).collect();
    for body in [json!({"memories": []}), json!({"memories": too_many}), json!({})] {
        assert_error(
            &call(&ada, HttpMethod::POST, &base, Some(body)).await,
            422,
            "validation_failed",
        );
    }
    let mismatched = json!({"agent_id": agent, "session_id": session, "role": "user",
        "content": "short vector", "embedding": [1.0, 0.0]});
    let r = call(&ada, HttpMethod::POST, &base, Some(json!({"memories": [ok, mismatched]}))).await;
    assert_error(&r, 422, "dimension_mismatch");
    assert_eq!(ada.list_memory(pid, &MemoryQuery::default()).await.unwrap().items.len(), 3);
}

#[tokio::test]
async fn ranking_prefers_recent_then_important_and_shows_its_breakdown() {
    // The server's clock moves instead of stored timestamps being rewritten.
    let clock = Arc::new(ManualClock::default());
    let app = spawn_app_with_clock(|_| {}, clock.clone()).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    let text = "The deployment key rotates every Monday";
    let old = ada.store_memory(pid, &NewMemory::new(agent, session, "user", text)).await.unwrap();
    clock.advance(TimeDelta::days(10) - TimeDelta::hours(1));
    let recent =
        ada.store_memory(pid, &NewMemory::new(agent, session, "user", text)).await.unwrap();
    clock.advance(TimeDelta::hours(1));
    let search = MemorySearch {
        query: Some("deployment key rotation".into()),
        agent_id: Some(agent),
        ..Default::default()
    };
    let hits = ada.search_memory(pid, &search).await.unwrap();
    assert_eq!(hits.mode, "hybrid");
    assert_eq!(hits.results[0].memory.memory_id, recent.memory_id);
    assert_eq!(hits.results[1].memory.memory_id, old.memory_id);
    assert_eq!(
        hits.results[0].score_breakdown.similarity,
        hits.results[1].score_breakdown.similarity
    );
    for h in &hits.results {
        let b = &h.score_breakdown;
        let sum = 0.7 * b.similarity + 0.2 * b.recency + 0.1 * b.importance;
        assert!((h.score - sum).abs() < 1e-5, "{} != {sum}", h.score);
    }

    // Same text, same age: importance breaks the tie.
    let mut low = NewMemory::new(agent, session, "user", "Backups run at midnight");
    low.importance = Some(0.2);
    let mut high = low.clone();
    high.importance = Some(0.9);
    let low = ada.store_memory(pid, &low).await.unwrap();
    let high = ada.store_memory(pid, &high).await.unwrap();
    clock.advance(TimeDelta::hours(2));
    let hits = ada
        .search_memory(
            pid,
            &MemorySearch {
                query: Some("backups midnight".into()),
                mode: Some("semantic".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(hits.mode, "semantic");
    assert_eq!(hits.results[0].memory.memory_id, high.memory_id);
    assert_eq!(hits.results[1].memory.memory_id, low.memory_id);

    // Weights come from the project's configuration.
    ada.update_database_config(pid, &json!({"memory_ranking": {"similarity": 0.0, "recency": 0.0, "importance": 1.0, "half_life_hours": 24.0}}))
        .await
        .unwrap();
    let hits = ada
        .search_memory(
            pid,
            &MemorySearch {
                query: Some("deployment key".into()),
                mode: Some("lexical".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(hits.results.iter().all(|h| (h.score - h.score_breakdown.importance).abs() < 1e-6));
}

#[tokio::test]
async fn hybrid_search_finds_a_rare_keyword_that_semantic_search_misses() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    // Embeddings from "a neural model": memories near the query direction talk about the
    // weather; the one with the rare part number points elsewhere.
    let direction = |i: usize| -> Vec<f32> {
        (0..384).map(|d| if d == i % 384 { 1.0 } else { 0.01 }).collect()
    };
    for i in 0..30 {
        let mut m = NewMemory::new(
            agent,
            session,
            "user",
            &format!("Weather note {i}: light rain expected"),
        );
        let mut e = direction(0);
        e[(i + 1) % 384] = 0.5;
        m.embedding = Some(e);
        ada.store_memory(pid, &m).await.unwrap();
    }
    let mut rare =
        NewMemory::new(agent, session, "user", "Replace the valve with part XK7491 tomorrow");
    rare.embedding = Some(direction(200));
    let rare = ada.store_memory(pid, &rare).await.unwrap();
    let search = |mode: &str| MemorySearch {
        query: Some("XK7491".into()),
        query_vector: Some(direction(0)),
        mode: Some(mode.into()),
        limit: Some(5),
        ..Default::default()
    };
    let semantic = ada.search_memory(pid, &search("semantic")).await.unwrap();
    assert!(semantic.results.iter().all(|h| h.memory.memory_id != rare.memory_id));
    let hybrid = ada.search_memory(pid, &search("hybrid")).await.unwrap();
    assert!(hybrid.results.iter().any(|h| h.memory.memory_id == rare.memory_id));
    let lexical = ada.search_memory(pid, &search("lexical")).await.unwrap();
    assert_eq!(lexical.results[0].memory.memory_id, rare.memory_id);
    assert_eq!(lexical.count, 1);
}

#[tokio::test]
async fn context_windows_fit_the_budget_in_chronological_order() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    let mut ids = Vec::new();
    for i in 0..20 {
        let content =
            format!("Step {i}: the user asked about invoice number {} and its due date", 1000 + i);
        ids.push(
            ada.store_memory(pid, &NewMemory::new(agent, session, "user", &content))
                .await
                .unwrap()
                .memory_id,
        );
    }
    let ctx = ada
        .memory_context(
            pid,
            &ContextQuery { agent_id: agent, session_id: None, query: None, max_tokens: Some(100) },
        )
        .await
        .unwrap();
    assert_eq!(ctx.tokenizer, "cl100k_base");
    assert!(ctx.total_tokens <= 100 && ctx.total_tokens > 50, "{}", ctx.total_tokens);
    assert!(ctx.truncated);
    assert!(ctx.memories.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    // Without a query the most recent memories are chosen.
    assert_eq!(ctx.memories.last().unwrap().memory_id, *ids.last().unwrap());
    let all = ada
        .memory_context(
            pid,
            &ContextQuery {
                agent_id: agent,
                session_id: Some(session),
                query: None,
                max_tokens: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((all.memories.len(), all.max_tokens, all.truncated), (20, 8192, false));
    let focused = ada
        .memory_context(
            pid,
            &ContextQuery {
                agent_id: agent,
                session_id: None,
                query: Some("invoice 1003".into()),
                max_tokens: Some(30),
            },
        )
        .await
        .unwrap();
    assert!(focused.memories.iter().any(|m| m.content.contains("1003")));
    assert!(focused.total_tokens <= 30);
    let r = call(
        &ada,
        HttpMethod::POST,
        &format!("/api/v1/projects/{pid}/database/memory/context"),
        Some(json!({"agent_id": agent, "max_tokens": 0})),
    )
    .await;
    assert_error(&r, 422, "validation_failed");
}

#[tokio::test]
async fn expired_memories_are_hidden_and_purged() {
    let app = spawn_app_with(|s| s.memory.purge_interval_secs = 1).await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    let mut short = NewMemory::new(agent, session, "user", "ephemeral secret");
    short.expires_at = Some(chrono::Utc::now() + chrono::Duration::milliseconds(1500));
    let short = ada.store_memory(pid, &short).await.unwrap();
    let keep = ada
        .store_memory(pid, &NewMemory::new(agent, session, "user", "ephemeral but kept"))
        .await
        .unwrap();
    ada.update_database_config(pid, &json!({"memory_retention_days": 7})).await.unwrap();
    let week =
        ada.store_memory(pid, &NewMemory::new(agent, session, "user", "a week")).await.unwrap();
    assert_eq!((week.expires_at.unwrap() - week.created_at).num_days(), 7);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(ada.get_memory(pid, short.memory_id).await.unwrap_err().status(), Some(404));
    let listed = ada.list_memory(pid, &MemoryQuery::default()).await.unwrap();
    assert!(listed.items.iter().all(|m| m.memory_id != short.memory_id));
    let hits = ada
        .search_memory(pid, &MemorySearch { query: Some("ephemeral".into()), ..Default::default() })
        .await
        .unwrap();
    let found: Vec<Uuid> = hits.results.iter().map(|h| h.memory.memory_id).collect();
    assert!(found.contains(&keep.memory_id) && !found.contains(&short.memory_id), "{found:?}");
    // The purge deletes the record and then its embedding: wait for both.
    let embedding =
        format!("SELECT count(*) AS n FROM zerodb_vectors WHERE vector_id = '{}'", short.memory_id);
    let mut purged = false;
    for _ in 0..50 {
        let records = app.db.count("SELECT count(*) AS n FROM zerodb_memory_records").await;
        if records == 2 && app.db.count(&embedding).await == 0 {
            purged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(purged, "expired memory or its embedding not purged");
}

#[tokio::test]
async fn embeddings_are_generated_and_memory_is_guarded() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let generated = ada.generate_embeddings(pid, &["hello world", "hello there"]).await.unwrap();
    assert_eq!((generated.embeddings.len(), generated.dimensions), (2, 384));
    assert!(generated.model.starts_with("zerodb-builtin"));
    let norm: f32 = generated.embeddings[0].iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-4);
    let r = call(
        &ada,
        HttpMethod::POST,
        &format!("/api/v1/projects/{pid}/embeddings/generate"),
        Some(json!({"texts": []})),
    )
    .await;
    assert_error(&r, 422, "validation_failed");
    // The memory namespace is ZeroDB's own.
    let r = call(
        &ada,
        HttpMethod::POST,
        &format!("/api/v1/projects/{pid}/database/vectors/upsert"),
        Some(json!({"namespace": "__memory", "vector_embedding": [1.0]})),
    )
    .await;
    assert_error(&r, 422, "validation_failed");

    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    let mine =
        ada.store_memory(pid, &NewMemory::new(agent, session, "user", "private")).await.unwrap();
    let vectors_key = ada.create_api_key(pid, "v", &["vectors:read"]).await.unwrap();
    let reader_key = ada.create_api_key(pid, "r", &["memory:read"]).await.unwrap();
    let vectors_only = app.client.with_api_key(&vectors_key.api_key);
    let reader = app.client.with_api_key(&reader_key.api_key);
    let base = format!("/api/v1/projects/{pid}/database/memory");
    let store =
        json!({"agent_id": agent, "session_id": session, "role": "user", "content": "intruder"});
    let endpoints = [
        (HttpMethod::POST, format!("{base}/store"), Some(store.clone())),
        (HttpMethod::POST, format!("{base}/store-batch"), Some(json!({"memories": [store]}))),
        (HttpMethod::GET, base.clone(), None),
        (HttpMethod::POST, format!("{base}/search"), Some(json!({"query": "private"}))),
        (HttpMethod::POST, format!("{base}/context"), Some(json!({"agent_id": agent}))),
        (HttpMethod::GET, format!("{base}/{}", mine.memory_id), None),
        (HttpMethod::DELETE, format!("{base}/{}", mine.memory_id), None),
    ];
    assert_guarded(&endpoints, 2, &app.client, &bob, &vectors_only, &reader).await;
    assert_eq!(call(&reader, HttpMethod::GET, &base, None).await.status, 200);
    let r = call(
        &bob,
        HttpMethod::POST,
        &format!("/api/v1/projects/{pid}/embeddings/generate"),
        Some(json!({"texts": ["x"]})),
    )
    .await;
    assert_error(&r, 404, "not_found");
    let left = ada.list_memory(pid, &MemoryQuery::default()).await.unwrap();
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].content, "private");
}

#[tokio::test]
async fn an_embedding_server_that_is_down_gives_503_and_stores_nothing() {
    let app = spawn_app_with(|s| {
        s.embeddings.provider = zerodb_server::config::EmbeddingProviderKind::Openai;
        s.embeddings.base_url = Some("http://127.0.0.1:9/v1".into());
        s.embeddings.model = Some("text-embedding-3-small".into());
        s.embeddings.dimension = 4;
        s.embeddings.max_retries = 1;
    })
    .await;
    let ada = app.user("ada@example.com").await;
    let pid = app.enabled_project(&ada, "p").await;
    let (agent, session) = (Uuid::now_v7(), Uuid::now_v7());
    let base = format!("/api/v1/projects/{pid}/database/memory");
    let body = json!({"agent_id": agent, "session_id": session, "role": "user", "content": "hi"});
    let r = ada.raw(HttpMethod::POST, &format!("{base}/store"), Some(&body)).await.unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "service_unavailable");
    let texts = json!({"texts": ["x"]});
    let r = ada
        .raw(HttpMethod::POST, &format!("/api/v1/projects/{pid}/embeddings/generate"), Some(&texts))
        .await
        .unwrap();
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(app.db.count("SELECT count(*) AS n FROM zerodb_memory_records").await, 0);
    // A memory that brings its own embedding needs no embedding server.
    let mut with = NewMemory::new(agent, session, "user", "hi");
    with.embedding = Some(vec![0.1, 0.2, 0.3, 0.4]);
    ada.store_memory(pid, &with).await.unwrap();
    assert_eq!(app.db.count("SELECT count(*) AS n FROM zerodb_memory_records").await, 1);
}
