//! The credential a tool call runs with: fixed for stdio, read from each HTTP request's
//! headers for streamable HTTP.

use sha2::{Digest, Sha256};
use std::fmt;

/// A bearer token (a user's JWT or an API key) or an API key sent as `X-API-Key`.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Bearer(String),
    ApiKey(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret itself.
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(..)"),
            Credential::ApiKey(_) => f.write_str("ApiKey(..)"),
        }
    }
}

impl Credential {
    /// Reads `Authorization: Bearer ...` or `X-API-Key` (the server has already refused a
    /// request that carries neither, both, or an invalid one).
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Self> {
        if let Some(value) = headers.get(http::header::AUTHORIZATION) {
            let value = value.to_str().ok()?;
            let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
            return Some(Credential::Bearer(token.trim().to_owned()));
        }
        let key = headers.get("x-api-key")?.to_str().ok()?;
        Some(Credential::ApiKey(key.trim().to_owned()))
    }

    /// The same REST client, authenticating as this credential.
    pub(crate) fn client(&self, base: &zerodb_client::Client) -> zerodb_client::Client {
        match self {
            Credential::Bearer(token) => base.with_token(token),
            Credential::ApiKey(key) => base.with_api_key(key),
        }
    }

    /// A digest that names the credential in caches without keeping the secret.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        let (kind, secret) = match self {
            Credential::Bearer(token) => (b"b", token),
            Credential::ApiKey(key) => (b"k", key),
        };
        let mut hasher = Sha256::new();
        hasher.update(kind);
        hasher.update(secret.as_bytes());
        hasher.finalize().into()
    }
}

/// Where a server's tool calls take their credential from.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// One credential for the whole connection (`zerodb mcp` over stdio).
    Fixed(Credential),
    /// The headers of the HTTP request that carried each message (`/mcp`).
    PerRequest,
}
