//! Ports for the cryptography the services need, so that tests can replace slow password
//! hashing and so that the token format stays an adapter's concern.

use crate::ids::UserId;
use crate::principal::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityError {
    /// The token is malformed, forged, uses another algorithm, is expired or has the wrong issuer.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("hashing failed")]
    Hashing(#[source] crate::error::Cause),
    /// Every hashing slot stayed busy for longer than the caller may wait.
    #[error("password hashing is saturated; retry shortly")]
    Busy,
}

/// Password hashing (argon2id in production).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Returns a self-describing hash (PHC string) of the password with a fresh salt.
    async fn hash(&self, password: &str) -> Result<String, SecurityError>;
    /// `Ok(true)` when `password` matches `hash`; `Ok(false)` for a mismatch or an unparsable
    /// hash. MUST return `Busy` rather than queue without bound when saturated.
    async fn verify(&self, password: &str, hash: &str) -> Result<bool, SecurityError>;
}

/// The verified content of an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub user_id: UserId,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// An access token as handed to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub expires_in_seconds: i64,
}

/// Issues and verifies access tokens.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenIssuer: Send + Sync + 'static {
    fn issue(&self, user_id: UserId, role: Role) -> Result<IssuedToken, SecurityError>;
    /// MUST return `InvalidToken` for anything but an unexpired token this issuer signed.
    fn verify(&self, token: &str) -> Result<TokenClaims, SecurityError>;
}
