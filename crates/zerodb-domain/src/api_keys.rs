//! Project API keys: generated secrets, stored only as SHA-256 hashes.
//!
//! A key reads `zdb_<key id as 32 hex digits>_<43 characters of base64url randomness>`. The
//! embedded id lets the server fetch the one candidate row, and the hash comparison runs in
//! constant time. SHA-256 (not a slow password hash) is right here: the secret has 256 bits of
//! entropy, so it cannot be guessed, and every request pays for the check.

use crate::error::{RepositoryError, ServiceError};
use crate::ids::{ApiKeyId, ProjectId};
use crate::pagination::PageRequest;
use crate::principal::Scope;
use crate::validation::has_control_chars;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub const PREFIX: &str = "zdb_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    pub name: String,
    /// The first characters of the key, safe to show to identify it.
    pub key_prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A stored key with its hash, as needed to authenticate a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    pub key: ApiKey,
    pub key_hash: Vec<u8>,
    /// The owning project's rate limit for its keys, if it sets one.
    pub rate_limit: Option<crate::rate_limit::RateLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    pub name: String,
    pub key_prefix: String,
    pub key_hash: Vec<u8>,
    pub scopes: Vec<Scope>,
}

/// A newly generated key: the full secret exists only in this value.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    pub id: ApiKeyId,
    pub secret: String,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl GeneratedKey {
    pub fn generate() -> Result<Self, ServiceError> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)
            .map_err(|e| ServiceError::internal(format!("no randomness: {e}")))?;
        let id = ApiKeyId::new();
        let secret =
            format!("{PREFIX}{}_{}", id.as_uuid().simple(), URL_SAFE_NO_PAD.encode(random));
        Ok(Self { id, secret })
    }

    /// What may be shown later to recognise the key (`zdb_` and 8 hex digits).
    pub fn display_prefix(&self) -> String {
        self.secret.chars().take(PREFIX.len() + 8).collect()
    }
}

pub fn hash_key(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The key id embedded in a presented key, or `None` if it is not shaped like one of ours.
pub fn parse_key_id(secret: &str) -> Option<ApiKeyId> {
    let rest = secret.strip_prefix(PREFIX)?;
    let (id, random) = rest.split_once('_')?;
    if id.len() != 32 || random.len() != 43 {
        return None;
    }
    Uuid::try_parse(id).ok().map(ApiKeyId::from_uuid)
}

/// Constant-time comparison of a presented key against a stored hash.
pub fn key_matches(secret: &str, stored_hash: &[u8]) -> bool {
    hash_key(secret).ct_eq(stored_hash).into()
}

/// Validates a key's label: 1..=100 characters, no control characters.
pub fn validate_key_name(raw: Option<String>) -> Result<String, ServiceError> {
    let name = raw.unwrap_or_else(|| "default".into());
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || has_control_chars(name) {
        return Err(ServiceError::invalid("name", "must be 1 to 100 printable characters"));
    }
    Ok(name.to_owned())
}

/// Parses scope strings, naming the bad ones; at least one scope is required.
pub fn parse_scopes(raw: &[String]) -> Result<Vec<Scope>, ServiceError> {
    if raw.is_empty() {
        return Err(ServiceError::invalid("scopes", "at least one scope is required"));
    }
    let mut scopes = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let scope =
            s.parse::<Scope>().map_err(|e| ServiceError::invalid(format!("scopes[{i}]"), e))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// Storage of API keys.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ApiKeyRepository: Send + Sync + 'static {
    /// MUST return `NotFound` when the project does not exist.
    async fn create(&self, key: NewApiKey) -> Result<ApiKey, RepositoryError>;
    /// The project's active keys in (created_at, id) order, at most `page.limit + 1`.
    async fn list(
        &self,
        project_id: ProjectId,
        page: &PageRequest,
    ) -> Result<Vec<ApiKey>, RepositoryError>;
    /// An active key by id, with its hash and its project's rate limit. MUST return
    /// `NotFound` for unknown or revoked keys.
    async fn find_active(&self, id: ApiKeyId) -> Result<StoredApiKey, RepositoryError>;
    /// Revokes a key of this project. MUST return `NotFound` when the project has no such
    /// active key.
    async fn revoke(&self, project_id: ProjectId, id: ApiKeyId) -> Result<(), RepositoryError>;
    /// Records that the key was used; best effort.
    async fn touch(&self, id: ApiKeyId) -> Result<(), RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_verify() {
        let key = GeneratedKey::generate().ok();
        let Some(key) = key else { panic!("generation failed") };
        assert_eq!(parse_key_id(&key.secret), Some(key.id));
        let hash = hash_key(&key.secret);
        assert!(key_matches(&key.secret, &hash));
        let mut forged = key.secret.clone();
        forged.pop();
        forged.push('A');
        assert!(!key_matches(&forged, &hash) || forged == key.secret);
        assert_eq!(key.display_prefix().len(), 12);
        assert!(!format!("{key:?}").contains(&key.secret));
    }

    #[test]
    fn junk_is_not_a_key() {
        for junk in ["", "zdb_", "zdb_xyz_abc", "Bearer abc", &"a".repeat(80)] {
            assert_eq!(parse_key_id(junk), None);
        }
    }

    #[test]
    fn scopes_need_at_least_one_valid() {
        assert!(parse_scopes(&[]).is_err());
        assert!(parse_scopes(&["tables:read".into(), "bogus".into()]).is_err());
        assert_eq!(parse_scopes(&["*".into(), "*".into()]).map(|s| s.len()), Ok(1));
    }
}
