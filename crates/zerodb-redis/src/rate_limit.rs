//! `RedisRateLimiter`: the GCRA of the in-process limiter, with its one number per caller
//! (the theoretical arrival time) kept in Redis and updated by a Lua script, atomically and
//! on Redis's clock, so all replicas share the bucket.
//!
//! Written by hand because no maintained crate does GCRA over Redis (redis-cell is a server
//! module, not available on a stock Redis); the script is twenty lines.

use crate::connection::RedisConnection;
use async_trait::async_trait;
use redis::Script;
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::rate_limit::{RateDecision, RateLimit, RateLimiter};

/// KEYS[1]: the caller's bucket. ARGV[1]: microseconds per request (the emission interval).
/// ARGV[2]: the burst. Returns {1, 0} when allowed, {0, microseconds to wait} when not.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then
  return {0, wait}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return {1, 0}
";

pub struct RedisRateLimiter {
    connection: RedisConnection,
    script: Script,
    /// Used while Redis cannot be reached.
    fallback: Arc<dyn RateLimiter>,
}

impl RedisRateLimiter {
    pub fn new(connection: RedisConnection, fallback: Arc<dyn RateLimiter>) -> Self {
        Self { connection, script: Script::new(GCRA), fallback }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, subject: &str, limit: RateLimit) -> RateDecision {
        let interval_us = 1_000_000 / u64::from(limit.per_second.max(1));
        let burst = limit.burst.max(1);
        // The limit is part of the key: a changed limit starts a fresh bucket, as in-process.
        let key = self.connection.key("rate", &format!("{subject}:{}:{burst}", limit.per_second));
        let mut manager = self.connection.manager.clone();
        let answer: Result<(u8, u64), _> =
            self.script.key(key).arg(interval_us).arg(burst).invoke_async(&mut manager).await;
        match answer {
            Ok((1, _)) => RateDecision::Allowed,
            Ok((_, wait_us)) => {
                RateDecision::Limited { retry_after: Duration::from_micros(wait_us.max(1)) }
            }
            Err(e) => {
                tracing::warn!(error = %e, "Redis rate limiter unavailable; limiting in-process");
                self.fallback.check(subject, limit).await
            }
        }
    }
}
