//! Two server replicas sharing a real Redis: one rate limit between them, and one cache of
//! embeddings.

use crate::helpers::{call, spawn_app_with, start_server, test_settings};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{Client, HttpMethod as M};
use zerodb_domain::memory::{EmbeddingCache, embedding_key};
use zerodb_redis::{RedisConnection, RedisEmbeddingCache, RedisSettings};
use zerodb_server::config::{CacheBackend, Secret, Settings};
use zerodb_testkit::RedisServer;

const BURST: u32 = 6;

fn shared_through_redis(prefix: String) -> impl Fn(&mut Settings) {
    move |s: &mut Settings| {
        s.cache.backend = CacheBackend::Redis;
        s.cache.redis.url = Some(Secret::new(RedisServer::shared().url()));
        s.cache.redis.key_prefix = prefix.clone();
        limited(s);
    }
}

fn limited(s: &mut Settings) {
    s.rate_limit.enabled = true;
    s.rate_limit.requests_per_second = 1;
    s.rate_limit.burst = BURST;
}

/// Sends 24 requests alternating between the replicas with one user's token; answers how
/// many got through and how long it took.
async fn alternate(first: &Client, second: &Client) -> (u32, Duration) {
    let started = Instant::now();
    let mut allowed = 0;
    for i in 0..24 {
        let replica = if i % 2 == 0 { first } else { second };
        let response = call(replica, M::GET, "/api/v1/auth/me", None).await;
        match response.status {
            200 => allowed += 1,
            429 => assert_eq!(response.body["error"]["code"], "rate_limited"),
            other => panic!("unexpected status {other}"),
        }
    }
    (allowed, started.elapsed())
}

/// Two replicas on one database, configured by `adjust`; a client per replica with the same
/// user's token.
async fn two_replicas(adjust: impl Fn(&mut Settings)) -> (crate::helpers::TestApp, Client, Client) {
    let app = spawn_app_with(&adjust).await;
    app.client.register("ada@example.com", "correct horse battery").await.unwrap();
    let token =
        app.client.login("ada@example.com", "correct horse battery").await.unwrap().access_token;
    let mut settings = test_settings(&app.db.url, app.data_dir.path());
    adjust(&mut settings);
    let second = start_server(&settings).await;
    let first = app.client.with_token(&token);
    let second = Client::new(&second.address).with_token(&token);
    (app, first, second)
}

#[tokio::test]
async fn two_replicas_sharing_redis_enforce_one_rate_limit() {
    let prefix = format!("e2e-{}:", Uuid::new_v4().simple());
    let (_app, first, second) = two_replicas(shared_through_redis(prefix)).await;
    let (allowed, took) = alternate(&first, &second).await;
    // One bucket of BURST, refilled at 1/s while the requests ran.
    let refill = took.as_secs_f64().ceil() as u32;
    assert!(
        (BURST..=BURST + refill).contains(&allowed),
        "{allowed} allowed in {took:?} by two replicas sharing a limit of burst {BURST}"
    );
}

#[tokio::test]
async fn without_redis_each_replica_limits_alone() {
    // The contrast: the in-process limiter gives each replica its own bucket.
    let (_app, first, second) = two_replicas(limited).await;
    let (allowed, _) = alternate(&first, &second).await;
    assert!(allowed >= 2 * BURST, "{allowed} allowed by two independent limits of {BURST}");
}

#[tokio::test]
async fn replicas_share_cached_embeddings() {
    let prefix = format!("e2e-{}:", Uuid::new_v4().simple());
    let (app, first, second) = two_replicas(shared_through_redis(prefix.clone())).await;
    let project = first.create_project("emb", None).await.unwrap().project_id;
    first.enable_database(project).await.unwrap();
    let text = "the quick brown fox, cached once";
    let from_first = first.generate_embeddings(project, &[text]).await.unwrap();

    // The vector replica one computed is in Redis under the model's key...
    let cache = RedisEmbeddingCache::new(
        RedisConnection::new(&RedisSettings {
            url: RedisServer::shared().url(),
            key_prefix: prefix,
            timeout: Duration::from_secs(1),
        })
        .unwrap(),
        Duration::from_secs(60),
    );
    let key = embedding_key(&from_first.model, from_first.dimensions, text);
    let cached = cache.get_many(std::slice::from_ref(&key)).await;
    assert_eq!(cached, vec![Some(from_first.embeddings[0].clone())]);

    // ...and replica two answers from it: a planted vector comes back for that text.
    let planted: Vec<f32> = (0..from_first.dimensions).map(|i| i as f32).collect();
    cache.put_many(vec![(key, planted.clone())]).await;
    let from_second = second.generate_embeddings(project, &[text]).await.unwrap();
    assert_eq!(from_second.embeddings, vec![planted]);
    drop(app);
}
