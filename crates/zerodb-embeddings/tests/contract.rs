//! The embedding-provider and embedding-cache contracts, run unchanged against each adapter
//! of this crate: the built-in embedder, the OpenAI-compatible client against a fake server
//! that speaks the same API, and the in-process cache (the Redis cache runs the same
//! contract in its crate).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{App, HttpResponse, HttpServer, web};
use std::time::Duration;
use zerodb_embeddings::{BuiltinEmbedder, InProcessEmbeddingCache, OpenAiEmbedder, OpenAiSettings};
use zerodb_testkit::contracts::{embedding_cache_contract, embedding_provider_contract};

const FAKE_DIMENSION: usize = 8;

/// A deterministic embedding of a text (its bytes folded into a few buckets), as a real
/// model's would be: the same text always gives the same vector.
fn fake_embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0.0_f32; FAKE_DIMENSION];
    for (i, b) in text.bytes().enumerate() {
        v[(i + usize::from(b)) % FAKE_DIMENSION] += f32::from(b) / 255.0;
    }
    v
}

/// An OpenAI-compatible `/v1/embeddings` that answers in reverse order (clients must sort by
/// `index`), as real servers may.
fn fake_server() -> String {
    let server = HttpServer::new(|| {
        App::new().route(
            "/v1/embeddings",
            web::post().to(|body: web::Json<serde_json::Value>| async move {
                let inputs: Vec<String> = body["input"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                let data: Vec<serde_json::Value> = inputs
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(i, t)| serde_json::json!({"index": i, "embedding": fake_embedding(t)}))
                    .collect();
                HttpResponse::Ok().json(serde_json::json!({"data": data}))
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    format!("http://127.0.0.1:{port}/v1")
}

#[tokio::test]
async fn builtin_embedder_keeps_the_contract() {
    embedding_provider_contract(&BuiltinEmbedder::new(384)).await;
}

#[actix_web::test]
async fn openai_compatible_embedder_keeps_the_contract() {
    let embedder = OpenAiEmbedder::new(OpenAiSettings {
        base_url: fake_server(),
        model: "fake-model".into(),
        api_key: Some("sk-test".into()),
        dimension: FAKE_DIMENSION,
        batch_size: 5,
        timeout: Duration::from_secs(5),
        max_retries: 1,
        backoff: Duration::from_millis(10),
    })
    .unwrap();
    embedding_provider_contract(&embedder).await;
}

#[tokio::test]
async fn in_process_embedding_cache_keeps_the_contract() {
    embedding_cache_contract(&InProcessEmbeddingCache::new(1000)).await;
}
