//! The rate-limiter and embedding-cache contracts, run unchanged against the Redis adapters
//! on a real redis-server (the in-process adapters run the same ones in their own crates).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::rate_limit::{RateDecision, RateLimit, RateLimiter};
use zerodb_redis::{RedisConnection, RedisEmbeddingCache, RedisRateLimiter, RedisSettings};
use zerodb_testkit::RedisServer;
use zerodb_testkit::contracts::{embedding_cache_contract, rate_limiter_contract};

fn connection() -> RedisConnection {
    RedisConnection::new(&RedisSettings {
        url: RedisServer::shared().url(),
        key_prefix: format!("contract-{}:", uuid::Uuid::new_v4().simple()),
        timeout: Duration::from_secs(1),
    })
    .unwrap()
}

/// The fallback must not answer for Redis here: the contract is Redis's to keep.
struct NoFallback;

#[async_trait]
impl RateLimiter for NoFallback {
    async fn check(&self, _: &str, _: RateLimit) -> RateDecision {
        panic!("the Redis limiter fell back to its local limiter");
    }
}

#[tokio::test]
async fn redis_rate_limiter_keeps_the_contract() {
    let limiter = RedisRateLimiter::new(connection(), Arc::new(NoFallback));
    rate_limiter_contract(&limiter).await;
}

#[tokio::test]
async fn redis_embedding_cache_keeps_the_contract() {
    embedding_cache_contract(&RedisEmbeddingCache::new(connection(), Duration::from_secs(60)))
        .await;
}
