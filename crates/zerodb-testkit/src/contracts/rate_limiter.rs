//! What every `RateLimiter` promises.

use std::time::Duration;
use zerodb_domain::rate_limit::{RateDecision, RateLimit, RateLimiter};

pub async fn rate_limiter_contract(limiter: &dyn RateLimiter) {
    let limit = RateLimit { per_second: 5, burst: 3 };
    let ada = super::unique("ada");
    let bob = super::unique("bob");

    // The burst is allowed at once, the next request is not, and says how long to wait.
    for i in 0..3 {
        assert_eq!(limiter.check(&ada, limit).await, RateDecision::Allowed, "request {i}");
    }
    let retry_after = match limiter.check(&ada, limit).await {
        RateDecision::Limited { retry_after } => retry_after,
        RateDecision::Allowed => panic!("a request beyond the burst was allowed"),
    };
    assert!(
        retry_after > Duration::ZERO && retry_after <= Duration::from_millis(250),
        "retry_after {retry_after:?} is not within one request's interval (200 ms)"
    );

    // Subjects are counted apart.
    assert_eq!(limiter.check(&bob, limit).await, RateDecision::Allowed, "another subject");

    // Waiting as told is enough.
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    assert_eq!(limiter.check(&ada, limit).await, RateDecision::Allowed, "after waiting");

    // A sustained rate above the limit passes at the limit's rate: 20 requests 50 ms apart
    // against 5 per second with a burst of 3.
    let carol = super::unique("carol");
    let started = std::time::Instant::now();
    let mut allowed = 0u32;
    for _ in 0..20 {
        if limiter.check(&carol, limit).await == RateDecision::Allowed {
            allowed += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let earned = started.elapsed().as_secs_f64() * 5.0;
    assert!(
        f64::from(allowed) <= 3.0 + earned.ceil() + 1.0
            && f64::from(allowed) >= earned.floor() - 1.0,
        "{allowed} of 20 requests passed a 5/s limit (burst 3) over {earned:.1} requests' worth"
    );
}
