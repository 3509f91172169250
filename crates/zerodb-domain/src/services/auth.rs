//! Registration, login and turning presented credentials into a [`Principal`].

use crate::api_keys::{self, ApiKeyRepository};
use crate::error::{AuthFailure, Cause, ConflictKind, RepositoryError, ServiceError};
use crate::ids::UserId;
use crate::principal::{Principal, Role};
use crate::rate_limit::RateLimit;
use crate::security::{IssuedToken, PasswordHasher, SecurityError, TokenIssuer};
use crate::users::{Email, NewUser, Password, User, UserRepository, UserRepositoryError};
use chrono::{TimeDelta, Utc};
use std::sync::Arc;

/// A well-formed argon2id hash of a random password: verifying against it when the email is
/// unknown makes a failed login take as long as a wrong password, so timing reveals nothing.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$W5qVhPgo9RsdBzTW9HmSUGkVwWnkTkq+SGHyeQqRL7M";

pub struct LoginResult {
    pub user: User,
    pub token: IssuedToken,
}

pub struct AuthService {
    users: Arc<dyn UserRepository>,
    api_keys: Arc<dyn ApiKeyRepository>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenIssuer>,
    allow_registration: bool,
}

impl AuthService {
    pub fn new(
        users: Arc<dyn UserRepository>,
        api_keys: Arc<dyn ApiKeyRepository>,
        hasher: Arc<dyn PasswordHasher>,
        tokens: Arc<dyn TokenIssuer>,
        allow_registration: bool,
    ) -> Self {
        Self { users, api_keys, hasher, tokens, allow_registration }
    }

    /// Self-service sign-up: always creates a plain user.
    pub async fn register(&self, email: &str, password: String) -> Result<User, ServiceError> {
        if !self.allow_registration {
            return Err(ServiceError::RegistrationDisabled);
        }
        self.create_user(email, password, Role::User).await
    }

    /// Creates a user with any role; for operators (the CLI), not for the public API.
    pub async fn create_user(
        &self,
        email: &str,
        password: String,
        role: Role,
    ) -> Result<User, ServiceError> {
        let email = Email::new(email);
        let password = Password::new(password);
        let (email, password) = match (email, password) {
            (Ok(e), Ok(p)) => (e, p),
            (e, p) => {
                let mut violations = Vec::new();
                for err in [e.err(), p.err()].into_iter().flatten() {
                    if let ServiceError::InvalidInput(v) = err {
                        violations.extend(v);
                    }
                }
                return Err(ServiceError::InvalidInput(violations));
            }
        };
        let password_hash = self.hasher.hash(password.expose()).await.map_err(hashing_failed)?;
        let new_user = NewUser { id: UserId::new(), email, password_hash, role };
        self.users.create(new_user).await.map_err(|e| match e {
            UserRepositoryError::EmailTaken => ServiceError::conflict(
                ConflictKind::EmailTaken,
                "a user with this email already exists",
            ),
            UserRepositoryError::Storage(e) => ServiceError::from_repo(e, "user"),
        })
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<LoginResult, ServiceError> {
        let wrong = ServiceError::Unauthenticated(AuthFailure::WrongPassword);
        let Ok(email) = Email::new(email) else {
            return Err(wrong);
        };
        let credentials = match self.users.find_credentials(&email).await {
            Ok(c) => c,
            Err(RepositoryError::NotFound) => {
                // The same work as for a real user, so timing does not reveal who exists.
                self.hasher.verify(password, DUMMY_HASH).await.map_err(hashing_failed)?;
                return Err(wrong);
            }
            Err(e) => return Err(e.into()),
        };
        if !self
            .hasher
            .verify(password, &credentials.password_hash)
            .await
            .map_err(hashing_failed)?
        {
            return Err(wrong);
        }
        let user = credentials.user;
        let token = self
            .tokens
            .issue(user.id, user.role)
            .map_err(|e| ServiceError::Internal(Cause::new(e)))?;
        Ok(LoginResult { user, token })
    }

    /// Verifies a bearer token.
    pub fn authenticate_token(&self, token: &str) -> Result<Principal, ServiceError> {
        let claims = self
            .tokens
            .verify(token)
            .map_err(|_| ServiceError::Unauthenticated(AuthFailure::InvalidCredentials))?;
        Ok(Principal::User { id: claims.user_id, role: claims.role })
    }

    /// Verifies a project API key (constant-time hash comparison); also answers the project's
    /// own rate limit for its keys, if it sets one.
    pub async fn authenticate_api_key(
        &self,
        secret: &str,
    ) -> Result<(Principal, Option<RateLimit>), ServiceError> {
        let invalid = ServiceError::Unauthenticated(AuthFailure::InvalidCredentials);
        let Some(key_id) = api_keys::parse_key_id(secret) else {
            return Err(invalid);
        };
        let stored = match self.api_keys.find_active(key_id).await {
            Ok(k) => k,
            Err(RepositoryError::NotFound) => return Err(invalid),
            Err(e) => return Err(e.into()),
        };
        if !api_keys::key_matches(secret, &stored.key_hash) {
            return Err(invalid);
        }
        // `last_used_at` has minute precision: stamp it only when the stored one is older, so
        // a busy key costs no write per request. Usage tracking never fails a request.
        let stale = stored.key.last_used_at.is_none_or(|t| Utc::now() - t > TimeDelta::minutes(1));
        if stale && let Err(e) = self.api_keys.touch(key_id).await {
            tracing::warn!(error = %e, "could not record API key use");
        }
        let principal = Principal::ApiKey {
            key_id,
            project_id: stored.key.project_id,
            scopes: stored.key.scopes,
        };
        Ok((principal, stored.rate_limit))
    }

    /// The signed-in user behind a principal (`None` for API keys).
    pub async fn me(&self, who: &Principal) -> Result<Option<User>, ServiceError> {
        match who {
            Principal::User { id, .. } => {
                self.users.get(*id).await.map(Some).map_err(|e| match e {
                    // The token outlived its user: the credential is no longer valid.
                    RepositoryError::NotFound => {
                        ServiceError::Unauthenticated(AuthFailure::InvalidCredentials)
                    }
                    other => other.into(),
                })
            }
            Principal::ApiKey { .. } => Ok(None),
        }
    }
}

/// A saturated hasher is a temporary unavailability (503); any other failure is a bug.
fn hashing_failed(e: SecurityError) -> ServiceError {
    match e {
        SecurityError::Busy => ServiceError::Unavailable(Cause::new(e)),
        SecurityError::Hashing(_) | SecurityError::InvalidToken(_) => {
            ServiceError::Internal(Cause::new(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_keys::{ApiKey, GeneratedKey, MockApiKeyRepository, StoredApiKey, hash_key};
    use crate::ids::ProjectId;
    use crate::principal::Scope;
    use crate::security::{MockPasswordHasher, MockTokenIssuer};
    use crate::users::{MockUserRepository, UserCredentials};
    use chrono::Utc;

    fn service(
        users: MockUserRepository,
        keys: MockApiKeyRepository,
        hasher: MockPasswordHasher,
        allow_registration: bool,
    ) -> AuthService {
        let mut tokens = MockTokenIssuer::new();
        tokens.expect_issue().returning(|_, _| {
            Ok(IssuedToken { token: "t".into(), expires_at: Utc::now(), expires_in_seconds: 60 })
        });
        AuthService::new(
            Arc::new(users),
            Arc::new(keys),
            Arc::new(hasher),
            Arc::new(tokens),
            allow_registration,
        )
    }

    fn user() -> User {
        User { id: UserId::new(), email: "a@b.co".into(), role: Role::User, created_at: Utc::now() }
    }

    #[tokio::test]
    async fn registration_can_be_disabled() {
        let s = service(
            MockUserRepository::new(),
            MockApiKeyRepository::new(),
            MockPasswordHasher::new(),
            false,
        );
        assert_eq!(
            s.register("a@b.co", "password1".into()).await.err(),
            Some(ServiceError::RegistrationDisabled)
        );
    }

    #[tokio::test]
    async fn register_reports_all_invalid_fields_and_duplicates() {
        let mut users = MockUserRepository::new();
        users.expect_create().returning(|_| Err(UserRepositoryError::EmailTaken));
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_hash().returning(|_| Ok("h".into()));
        let s = service(users, MockApiKeyRepository::new(), hasher, true);
        match s.register("nope", "short".into()).await {
            Err(ServiceError::InvalidInput(v)) => assert_eq!(v.len(), 2),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            s.register("a@b.co", "password1".into()).await,
            Err(ServiceError::Conflict { kind: ConflictKind::EmailTaken, .. })
        ));
    }

    #[tokio::test]
    async fn login_checks_password_and_hides_unknown_users() {
        let u = user();
        let mut users = MockUserRepository::new();
        let known = u.clone();
        users.expect_find_credentials().returning(move |email| {
            if email.as_str() == "a@b.co" {
                Ok(UserCredentials { user: known.clone(), password_hash: "real".into() })
            } else {
                Err(RepositoryError::NotFound)
            }
        });
        let mut hasher = MockPasswordHasher::new();
        hasher.expect_verify().returning(|pw, hash| Ok(pw == "right-password" && hash == "real"));
        let s = service(users, MockApiKeyRepository::new(), hasher, true);
        assert!(s.login("A@B.co", "right-password").await.is_ok());
        let wrong = Some(ServiceError::Unauthenticated(AuthFailure::WrongPassword));
        assert_eq!(s.login("a@b.co", "wrong").await.err(), wrong);
        assert_eq!(s.login("x@b.co", "right-password").await.err(), wrong);
    }

    #[tokio::test]
    async fn api_keys_verified_by_hash() {
        let generated = GeneratedKey::generate().unwrap_or_else(|e| panic!("{e}"));
        let project_id = ProjectId::new();
        let stored = StoredApiKey {
            key: ApiKey {
                id: generated.id,
                project_id,
                name: "k".into(),
                key_prefix: generated.display_prefix(),
                scopes: vec![Scope::All],
                created_at: Utc::now(),
                last_used_at: None,
            },
            key_hash: hash_key(&generated.secret),
            rate_limit: None,
        };
        let mut keys = MockApiKeyRepository::new();
        let id = generated.id;
        keys.expect_find_active().returning(move |k| {
            if k == id { Ok(stored.clone()) } else { Err(RepositoryError::NotFound) }
        });
        keys.expect_touch().returning(|_| Ok(()));
        let s = service(MockUserRepository::new(), keys, MockPasswordHasher::new(), true);
        let who = s.authenticate_api_key(&generated.secret).await;
        assert!(
            matches!(who, Ok((Principal::ApiKey { project_id: p, .. }, None)) if p == project_id)
        );
        let mut forged = generated.secret.clone();
        let last = if forged.ends_with('A') { 'B' } else { 'A' };
        forged.pop();
        forged.push(last);
        assert!(s.authenticate_api_key(&forged).await.is_err());
        assert!(s.authenticate_api_key("garbage").await.is_err());
    }
}
