//! Redis adapters, for deployments with several server replicas:
//! [`RedisRateLimiter`] makes every replica count against one limit, and
//! [`RedisEmbeddingCache`] lets them share the embeddings of repeated texts.
//!
//! Redis holds no data that exists nowhere else. When it cannot be reached, the rate
//! limiter falls back to the in-process one and the cache answers misses, so an outage
//! degrades sharing, never requests.

mod cache;
mod connection;
mod rate_limit;

pub use cache::RedisEmbeddingCache;
pub use connection::{RedisConnection, RedisSettings, RedisSetupError};
pub use rate_limit::RedisRateLimiter;
