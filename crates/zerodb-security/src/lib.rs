//! Adapters for the domain's security ports: argon2id password hashing and HS256 JWTs
//! ([`credentials`]), and the in-process rate limiter ([`rate_limit`]).

pub mod credentials;
pub mod rate_limit;

pub use credentials::{Argon2PasswordHasher, JwtTokenIssuer};
pub use rate_limit::InProcessRateLimiter;
