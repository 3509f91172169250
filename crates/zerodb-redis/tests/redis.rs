//! The Redis adapters against a real redis-server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use uuid::Uuid;
use zerodb_domain::memory::EmbeddingCache;
use zerodb_domain::rate_limit::{RateDecision, RateLimit, RateLimiter};
use zerodb_redis::{RedisConnection, RedisEmbeddingCache, RedisRateLimiter, RedisSettings};
use zerodb_testkit::RedisServer;

/// Counts the checks that reach it; allows everything.
#[derive(Default)]
struct Fallback(AtomicUsize);

#[async_trait]
impl RateLimiter for Fallback {
    async fn check(&self, _: &str, _: RateLimit) -> RateDecision {
        self.0.fetch_add(1, Ordering::SeqCst);
        RateDecision::Allowed
    }
}

fn connection(url: String) -> RedisConnection {
    let prefix = format!("test-{}:", Uuid::new_v4().simple());
    RedisConnection::new(&RedisSettings {
        url,
        key_prefix: prefix,
        timeout: Duration::from_secs(1),
    })
    .unwrap()
}

#[tokio::test]
async fn two_limiters_on_one_redis_share_one_bucket() {
    let connection = connection(RedisServer::shared().url());
    let fallback = Arc::new(Fallback::default());
    let a = RedisRateLimiter::new(connection.clone(), fallback.clone());
    let b = RedisRateLimiter::new(connection, fallback.clone());
    let limit = RateLimit { per_second: 1, burst: 5 };
    let mut allowed = 0;
    let mut retry_after = None;
    for i in 0..12 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        match limiter.check("key:one", limit).await {
            RateDecision::Allowed => allowed += 1,
            RateDecision::Limited { retry_after: wait } => retry_after = Some(wait),
        }
    }
    assert_eq!(allowed, 5, "the burst is shared, not per limiter");
    let wait = retry_after.expect("limited");
    assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
    // Another caller has its own bucket.
    assert_eq!(a.check("key:two", limit).await, RateDecision::Allowed);
    // After the wait, one more request passes.
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    assert_eq!(b.check("key:one", limit).await, RateDecision::Allowed);
    assert_eq!(fallback.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unreachable_redis_falls_back() {
    let port = zerodb_testkit::free_port();
    let fallback = Arc::new(Fallback::default());
    let limiter =
        RedisRateLimiter::new(connection(format!("redis://127.0.0.1:{port}/")), fallback.clone());
    let limit = RateLimit { per_second: 1, burst: 1 };
    assert_eq!(limiter.check("k", limit).await, RateDecision::Allowed);
    assert_eq!(fallback.0.load(Ordering::SeqCst), 1);

    let cache = RedisEmbeddingCache::new(
        connection(format!("redis://127.0.0.1:{port}/")),
        Duration::from_secs(60),
    );
    cache.put_many(vec![("k".into(), vec![1.0])]).await;
    assert_eq!(cache.get_many(&["k".into()]).await, vec![None]);
}

#[tokio::test]
async fn the_embedding_cache_is_shared_and_prefixed() {
    let url = RedisServer::shared().url();
    let shared = connection(url.clone());
    let writer = RedisEmbeddingCache::new(shared.clone(), Duration::from_secs(60));
    let reader = RedisEmbeddingCache::new(shared, Duration::from_secs(60));
    writer.put_many(vec![("a".into(), vec![0.5, -1.0]), ("b".into(), vec![2.0, 3.0])]).await;
    assert_eq!(
        reader.get_many(&["b".into(), "missing".into(), "a".into()]).await,
        vec![Some(vec![2.0, 3.0]), None, Some(vec![0.5, -1.0])]
    );
    // Another deployment (prefix) sees nothing of it.
    let other = RedisEmbeddingCache::new(connection(url), Duration::from_secs(60));
    assert_eq!(other.get_many(&["a".into()]).await, vec![None]);
    // Entries expire.
    let short = RedisEmbeddingCache::new(
        connection(RedisServer::shared().url()),
        Duration::from_millis(50),
    );
    short.put_many(vec![("t".into(), vec![1.0])]).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(short.get_many(&["t".into()]).await, vec![None]);
}
