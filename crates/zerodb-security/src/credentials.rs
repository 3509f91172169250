//! Adapters for the domain's security ports: argon2id password hashing and HS256 JWTs.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use zerodb_domain::principal::Role;
use zerodb_domain::security::{
    IssuedToken, PasswordHasher, SecurityError, TokenClaims, TokenIssuer,
};
use zerodb_domain::{Cause, UserId};

/// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). Hashing runs on the
/// blocking pool: it takes tens of milliseconds on purpose.
///
/// A bounded number of hashes at once: each takes ~19 MiB and a core for tens
/// of milliseconds, so unbounded concurrency would let a burst of sign-ins exhaust memory and
/// starve every other request. Excess callers wait up to `max_wait`, then get `Busy`.
#[derive(Debug)]
pub struct Argon2PasswordHasher {
    slots: tokio::sync::Semaphore,
    max_wait: std::time::Duration,
}

impl Argon2PasswordHasher {
    pub fn new(max_concurrent: usize, max_wait: std::time::Duration) -> Self {
        Self { slots: tokio::sync::Semaphore::new(max_concurrent.max(1)), max_wait }
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, SecurityError> {
        match tokio::time::timeout(self.max_wait, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => Err(SecurityError::Busy),
        }
    }
}

impl Default for Argon2PasswordHasher {
    /// One hash per core, waiting at most two seconds for a slot.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cores, std::time::Duration::from_secs(2))
    }
}

// argon2 is built without its `std` feature, so its errors are described, not wrapped.
fn argon2() -> Result<Argon2<'static>, SecurityError> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| SecurityError::Hashing(Cause::msg(e.to_string())))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[async_trait]
impl PasswordHasher for Argon2PasswordHasher {
    async fn hash(&self, password: &str) -> Result<String, SecurityError> {
        let _slot = self.slot().await?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()?
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| SecurityError::Hashing(Cause::msg(e.to_string())))
        })
        .await
        .map_err(|e| SecurityError::Hashing(Cause::new(e)))?
    }

    async fn verify(&self, password: &str, hash: &str) -> Result<bool, SecurityError> {
        let _slot = self.slot().await?;
        let password = password.to_owned();
        let hash = hash.to_owned();
        Ok(tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return false;
            };
            let Ok(argon) = argon2() else { return false };
            argon.verify_password(password.as_bytes(), &parsed).is_ok()
        })
        .await
        .unwrap_or(false))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iss: String,
    iat: i64,
    exp: i64,
}

/// HS256 tokens. Verification accepts only HS256 (so `alg: none` and algorithm confusion
/// fail), requires `sub`, `role`, `iss`, `iat` and `exp`, and checks issuer and expiry.
pub struct JwtTokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    lifetime: Duration,
    validation: Validation,
}

impl JwtTokenIssuer {
    pub fn new(secret: &[u8], issuer: &str, lifetime: std::time::Duration) -> Self {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: issuer.to_owned(),
            lifetime: Duration::from_std(lifetime).unwrap_or(Duration::hours(1)),
            validation,
        }
    }
}

impl TokenIssuer for JwtTokenIssuer {
    fn issue(&self, user_id: UserId, role: Role) -> Result<IssuedToken, SecurityError> {
        let now = Utc::now();
        let expires_at = now + self.lifetime;
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            iss: self.issuer.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| SecurityError::Hashing(Cause::new(e)))?;
        Ok(IssuedToken { token, expires_at, expires_in_seconds: self.lifetime.num_seconds() })
    }

    fn verify(&self, token: &str) -> Result<TokenClaims, SecurityError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| SecurityError::InvalidToken(e.to_string()))?;
        let user_id = data
            .claims
            .sub
            .parse::<UserId>()
            .map_err(|_| SecurityError::InvalidToken("sub is not a user id".into()))?;
        let expires_at = DateTime::from_timestamp(data.claims.exp, 0)
            .ok_or_else(|| SecurityError::InvalidToken("bad exp".into()))?;
        Ok(TokenClaims { user_id, role: data.claims.role, expires_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn issuer() -> JwtTokenIssuer {
        JwtTokenIssuer::new(SECRET, "zerodb", std::time::Duration::from_secs(3600))
    }

    #[test]
    fn round_trip() {
        let id = UserId::new();
        let t = issuer().issue(id, Role::Admin).unwrap();
        let claims = issuer().verify(&t.token).unwrap();
        assert_eq!((claims.user_id, claims.role), (id, Role::Admin));
    }

    #[test]
    fn rejects_forgeries() {
        let t = issuer().issue(UserId::new(), Role::User).unwrap().token;
        let other = JwtTokenIssuer::new(
            b"another-secret-another-secret-xx",
            "zerodb",
            std::time::Duration::from_secs(60),
        );
        assert!(other.verify(&t).is_err(), "wrong key");
        let foreign =
            JwtTokenIssuer::new(SECRET, "someone-else", std::time::Duration::from_secs(60));
        assert!(
            issuer().verify(&foreign.issue(UserId::new(), Role::User).unwrap().token).is_err(),
            "issuer"
        );
        // alg: none with the same claims.
        let parts: Vec<&str> = t.split('.').collect();
        let none = format!("{}.{}.", b(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        assert!(issuer().verify(&none).is_err(), "alg none");
        // Expired.
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: UserId::new().to_string(),
            role: Role::Admin,
            iss: "zerodb".into(),
            iat: now - 7200,
            exp: now - 3600,
        };
        let expired = encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(issuer().verify(&expired).is_err(), "expired");
        assert!(issuer().verify("garbage").is_err());
    }

    fn b(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[tokio::test]
    async fn argon2_hashes_verify() {
        let h = Argon2PasswordHasher::default();
        let hash = h.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(h.verify("correct horse", &hash).await.unwrap());
        assert!(!h.verify("wrong horse", &hash).await.unwrap());
        assert!(!h.verify("x", "not a hash").await.unwrap());
    }

    #[tokio::test]
    async fn a_saturated_hasher_answers_busy_instead_of_queueing() {
        let h = Argon2PasswordHasher::new(1, std::time::Duration::from_millis(1));
        let busy = h.slots.acquire().await.unwrap();
        assert!(matches!(h.hash("x").await, Err(SecurityError::Busy)));
        assert!(matches!(h.verify("x", "y").await, Err(SecurityError::Busy)));
        drop(busy);
        assert!(h.verify("x", "not a hash").await.is_ok());
    }
}
