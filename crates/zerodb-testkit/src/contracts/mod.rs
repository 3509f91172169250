//! One contract per port that has more than one adapter: the same assertions, run unchanged
//! against each adapter from that adapter's own tests. A failure names what broke.

mod embedding_cache;
mod embedding_provider;
mod rate_limiter;
mod vector_store;

pub use embedding_cache::embedding_cache_contract;
pub use embedding_provider::embedding_provider_contract;
pub use rate_limiter::rate_limiter_contract;
pub use vector_store::vector_store_contract;

/// A name no other run uses, so contracts can share a server (Redis, PostgreSQL).
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}
