//! The rate-limiter contract, run unchanged against the in-process limiter (the Redis
//! limiter runs the same one in its crate).

use zerodb_security::InProcessRateLimiter;
use zerodb_testkit::contracts::rate_limiter_contract;

#[tokio::test]
async fn in_process_rate_limiter_keeps_the_contract() {
    rate_limiter_contract(&InProcessRateLimiter::default()).await;
}
