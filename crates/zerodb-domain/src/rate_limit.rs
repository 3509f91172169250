//! Request rate limits per caller: the port that in-process and shared (Redis) limiters
//! implement.

use async_trait::async_trait;
use std::time::Duration;

/// A sustained rate with a burst allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Over the limit; the next request may succeed after this long.
    Limited {
        retry_after: Duration,
    },
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one request of `subject` against `limit`.
    async fn check(&self, subject: &str, limit: RateLimit) -> RateDecision;
}
