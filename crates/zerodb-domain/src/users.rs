//! Users: validated email and password values, the entity and its repository port.

use crate::error::{RepositoryError, ServiceError};
use crate::ids::UserId;
use crate::principal::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A syntactically valid email address, trimmed and lower-cased so that lookups and the
/// uniqueness rule ignore case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn new(raw: &str) -> Result<Self, ServiceError> {
        let email = raw.trim().to_lowercase();
        let invalid = |reason: &str| ServiceError::invalid("email", reason);
        if email.len() > Self::MAX_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("must be an email address"));
        };
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@');
        if !domain_ok || !local_ok {
            return Err(invalid("must be an email address"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plain-text password that satisfies the length policy. Never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 1024;

    pub fn new(raw: String) -> Result<Self, ServiceError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_LEN {
            return Err(ServiceError::invalid("password", "must be at least 8 characters"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ServiceError::invalid("password", "must be at most 1024 bytes"));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// A user as stored, with the password hash (PHC string) needed to check a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
}

/// How storing a new user fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRepositoryError {
    #[error("the email is already registered")]
    EmailTaken,
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Storage of users.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Inserts a user. MUST return `EmailTaken` when the email is already registered.
    async fn create(&self, user: NewUser) -> Result<User, UserRepositoryError>;
    /// MUST return `NotFound` when no user has this id.
    async fn get(&self, id: UserId) -> Result<User, RepositoryError>;
    /// The user with this (normalised) email and its password hash, or `NotFound`.
    async fn find_credentials(&self, email: &Email) -> Result<UserCredentials, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_normalised_and_checked() {
        assert_eq!(Email::new(" Ada@Example.COM ").map(|e| e.0), Ok("ada@example.com".into()));
        for bad in
            ["", "ada", "ada@", "@example.com", "ada@localhost", "a b@example.com", "a@b@c.d"]
        {
            assert!(Email::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn password_policy_and_redaction() {
        assert!(Password::new("short".into()).is_err());
        assert!(Password::new("x".repeat(1025)).is_err());
        let p = Password::new("long enough".into());
        assert!(p.is_ok());
        assert_eq!(format!("{:?}", p.ok()), "Some(Password(<redacted>))");
    }
}
