//! One multiplexed, self-reconnecting connection (`redis::aio::ConnectionManager`) shared by
//! the adapters.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port/db`
    pub url: String,
    /// Prefix of every key ZeroDB writes, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Longest wait for a command; past it the caller falls back.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RedisSetupError {
    #[error("invalid Redis URL")]
    InvalidUrl(#[source] redis::RedisError),
}

/// The connection and key prefix; cheap to clone.
#[derive(Clone)]
pub struct RedisConnection {
    pub(crate) manager: ConnectionManager,
    pub(crate) prefix: String,
}

impl RedisConnection {
    /// Prepares the connection; it is opened on first use and reopened after failures, so
    /// a server that starts before Redis is up works once Redis is.
    pub fn new(settings: &RedisSettings) -> Result<Self, RedisSetupError> {
        let client =
            redis::Client::open(settings.url.as_str()).map_err(RedisSetupError::InvalidUrl)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(RedisSetupError::InvalidUrl)?;
        Ok(Self { manager, prefix: settings.key_prefix.clone() })
    }

    pub(crate) fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.prefix)
    }
}
