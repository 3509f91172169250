//! The optional backends, chosen by configuration: the Kafka event sink and its relay loop,
//! the Redis rate limiter and embedding cache. Each needs its build feature; without it, asking
//! for the backend is a start-up error rather than a silent fallback.

use crate::config::{CacheBackend, EventBackend, Settings};
use crate::startup::StartupError;
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::memory::{CachedEmbedder, EmbeddingCache, EmbeddingProvider};
use zerodb_domain::rate_limit::RateLimiter;
use zerodb_domain::relay::EventSink;
use zerodb_domain::services::{EventRelay, RelayRound};
use zerodb_embeddings::InProcessEmbeddingCache;
use zerodb_security::InProcessRateLimiter;

/// The sink events are relayed to, if `events.backend` names one.
pub fn event_sink(settings: &Settings) -> Result<Option<Arc<dyn EventSink>>, StartupError> {
    tracing::info!(backend = settings.events.backend.as_str(), "event backend");
    match settings.events.backend {
        EventBackend::Postgres => Ok(None),
        EventBackend::Kafka => kafka_sink(settings).map(Some),
    }
}

#[cfg(feature = "kafka")]
fn kafka_sink(settings: &Settings) -> Result<Arc<dyn EventSink>, StartupError> {
    use crate::config::KafkaCompressionKind;
    use zerodb_kafka::{KafkaCompression, KafkaEventSink, KafkaSettings};
    let k = &settings.events.kafka;
    let brokers: Vec<String> = k
        .brokers
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .collect();
    if brokers.is_empty() {
        return Err(StartupError::Invalid("events.kafka.brokers is empty".into()));
    }
    tracing::info!(?brokers, prefix = %k.topic_prefix, "events are relayed to Kafka");
    Ok(Arc::new(KafkaEventSink::new(KafkaSettings {
        brokers,
        topic_prefix: k.topic_prefix.clone(),
        partitions: k.partitions,
        replication_factor: k.replication_factor,
        compression: match k.compression {
            KafkaCompressionKind::None => KafkaCompression::None,
            KafkaCompressionKind::Gzip => KafkaCompression::Gzip,
        },
        client_id: k.client_id.clone(),
        request_timeout: Duration::from_secs(k.request_timeout_secs),
        max_request_bytes: k.max_request_bytes,
    })))
}

#[cfg(not(feature = "kafka"))]
fn kafka_sink(_: &Settings) -> Result<Arc<dyn EventSink>, StartupError> {
    Err(StartupError::Invalid(
        "events.backend = \"kafka\" needs a zerodb built with the `kafka` feature".into(),
    ))
}

/// The rate limiter per `cache.backend`.
pub fn rate_limiter(settings: &Settings) -> Result<Arc<dyn RateLimiter>, StartupError> {
    let local: Arc<dyn RateLimiter> = Arc::new(InProcessRateLimiter::default());
    tracing::info!(
        backend = settings.cache.backend.as_str(),
        "cache backend (rate limits, embeddings)"
    );
    match settings.cache.backend {
        CacheBackend::Memory => Ok(local),
        CacheBackend::Redis => redis_rate_limiter(settings, local),
    }
}

/// `embedder` behind the embedding cache per `cache`, or as it is when caching is off.
pub fn cached_embedder(
    settings: &Settings,
    embedder: Arc<dyn EmbeddingProvider>,
) -> Result<Arc<dyn EmbeddingProvider>, StartupError> {
    let c = &settings.cache;
    if !c.embeddings {
        return Ok(embedder);
    }
    let cache: Arc<dyn EmbeddingCache> = match c.backend {
        CacheBackend::Memory => Arc::new(InProcessEmbeddingCache::new(c.embedding_capacity)),
        CacheBackend::Redis => redis_embedding_cache(settings)?,
    };
    Ok(Arc::new(CachedEmbedder::new(embedder, cache)))
}

#[cfg(feature = "redis")]
fn redis_connection(settings: &Settings) -> Result<zerodb_redis::RedisConnection, StartupError> {
    let r = &settings.cache.redis;
    let url = r.url.as_ref().ok_or_else(|| {
        StartupError::Invalid("cache.backend = \"redis\" needs cache.redis.url".into())
    })?;
    zerodb_redis::RedisConnection::new(&zerodb_redis::RedisSettings {
        url: url.expose().to_owned(),
        key_prefix: r.key_prefix.clone(),
        timeout: Duration::from_millis(r.timeout_ms.max(1)),
    })
    .map_err(StartupError::Redis)
}

#[cfg(feature = "redis")]
fn redis_rate_limiter(
    settings: &Settings,
    local: Arc<dyn RateLimiter>,
) -> Result<Arc<dyn RateLimiter>, StartupError> {
    tracing::info!("rate limits are shared through Redis");
    Ok(Arc::new(zerodb_redis::RedisRateLimiter::new(redis_connection(settings)?, local)))
}

#[cfg(feature = "redis")]
fn redis_embedding_cache(settings: &Settings) -> Result<Arc<dyn EmbeddingCache>, StartupError> {
    let ttl = Duration::from_secs(settings.cache.embedding_ttl_secs);
    Ok(Arc::new(zerodb_redis::RedisEmbeddingCache::new(redis_connection(settings)?, ttl)))
}

#[cfg(not(feature = "redis"))]
fn redis_rate_limiter(
    _: &Settings,
    _: Arc<dyn RateLimiter>,
) -> Result<Arc<dyn RateLimiter>, StartupError> {
    Err(redis_missing())
}

#[cfg(not(feature = "redis"))]
fn redis_embedding_cache(_: &Settings) -> Result<Arc<dyn EmbeddingCache>, StartupError> {
    Err(redis_missing())
}

#[cfg(not(feature = "redis"))]
fn redis_missing() -> StartupError {
    StartupError::Invalid(
        "cache.backend = \"redis\" needs a zerodb built with the `redis` feature".into(),
    )
}

/// Runs the outbox relay until aborted: drains as fast as the sink takes events, waits for
/// new ones when idle (a notification, or a look every second in case one was missed), and
/// backs off while the sink or the database fails.
pub fn spawn_relay(relay: Arc<EventRelay>) -> tokio::task::JoinHandle<()> {
    const IDLE_LOOK: Duration = Duration::from_secs(1);
    const FOLLOWER_LOOK: Duration = Duration::from_secs(2);
    const FIRST_BACKOFF: Duration = Duration::from_millis(100);
    tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match relay.relay_once().await {
                Ok(RelayRound::Delivered(_)) => backoff = FIRST_BACKOFF,
                Ok(RelayRound::Idle) => {
                    backoff = FIRST_BACKOFF;
                    relay.outbox().wait_for_events(IDLE_LOOK).await;
                }
                Ok(RelayRound::NotLeader) => tokio::time::sleep(FOLLOWER_LOOK).await,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "event relay failed; events wait in the outbox");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    })
}
