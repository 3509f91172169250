//! `InProcessRateLimiter`: the default `RateLimiter`, GCRA buckets from `governor` kept per
//! caller in this process. A deployment with several replicas plugs in a shared limiter
//! through the same port.

use async_trait::async_trait;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use zerodb_domain::rate_limit::{RateDecision, RateLimit, RateLimiter};

/// Buckets idle this long are forgotten (a fresh one is full, which is the same thing).
const IDLE: Duration = Duration::from_secs(60);
/// Prune idle buckets once the map holds this many.
const PRUNE_AT: usize = 10_000;

struct Bucket {
    limit: RateLimit,
    limiter: DefaultDirectRateLimiter,
    last_seen: Instant,
}

pub struct InProcessRateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
    clock: DefaultClock,
}

impl Default for InProcessRateLimiter {
    fn default() -> Self {
        Self { buckets: Mutex::new(HashMap::new()), clock: DefaultClock::default() }
    }
}

fn quota(limit: RateLimit) -> Quota {
    let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limit.burst).unwrap_or(per_second);
    Quota::per_second(per_second).allow_burst(burst)
}

#[async_trait]
impl RateLimiter for InProcessRateLimiter {
    async fn check(&self, subject: &str, limit: RateLimit) -> RateDecision {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| now.duration_since(b.last_seen) < IDLE);
        }
        let bucket = buckets.entry(subject.to_owned()).or_insert_with(|| Bucket {
            limit,
            limiter: DefaultDirectRateLimiter::direct(quota(limit)),
            last_seen: now,
        });
        if bucket.limit != limit {
            // The configured limit changed: start a bucket under the new one.
            bucket.limit = limit;
            bucket.limiter = DefaultDirectRateLimiter::direct(quota(limit));
        }
        bucket.last_seen = now;
        match bucket.limiter.check() {
            Ok(()) => RateDecision::Allowed,
            Err(not_until) => {
                RateDecision::Limited { retry_after: not_until.wait_time_from(self.clock.now()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn burst_then_limited_per_subject() {
        let limiter = InProcessRateLimiter::default();
        let limit = RateLimit { per_second: 1, burst: 3 };
        for _ in 0..3 {
            assert_eq!(limiter.check("a", limit).await, RateDecision::Allowed);
        }
        match limiter.check("a", limit).await {
            RateDecision::Limited { retry_after } => assert!(retry_after <= Duration::from_secs(1)),
            RateDecision::Allowed => panic!("burst exceeded but allowed"),
        }
        assert_eq!(limiter.check("b", limit).await, RateDecision::Allowed);
    }
}
