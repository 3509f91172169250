//! ZeroDB's domain: entities, validated values, port traits and the use-case services that
//! hold every business and access rule.
//!
//! This crate knows nothing of HTTP, SQL drivers or process set-up. Adapters implement the
//! port traits (`*Repository`, [`security::PasswordHasher`], [`security::TokenIssuer`]) and
//! the transport layer calls the services in [`services`].

pub mod access;
pub mod admin;
pub mod agent_logs;
pub mod api_keys;
pub mod clock;
pub mod database;
pub mod error;
pub mod events;
pub mod files;
pub mod ids;
pub mod memory;
pub mod pagination;
pub mod principal;
pub mod project_cache;
pub mod projects;
pub mod quotas;
pub mod rate_limit;
pub mod relay;
pub mod rlhf;
pub mod security;
pub mod services;
pub mod storable;
pub mod tables;
pub mod usage;
pub mod users;
mod validation;
pub mod vectors;

pub use error::{Cause, ConflictKind, FieldViolation, RepositoryError, ServiceError, error_chain};
pub use ids::{ApiKeyId, ProjectId, RowId, TableId, UserId};
