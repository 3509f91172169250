//! Use-case services. Each takes the calling [`Principal`](crate::principal::Principal) and
//! asks [`AccessPolicy`](crate::access::AccessPolicy) before touching a project.

mod api_keys;
mod auth;
mod database;
mod projects;
mod tables;

pub use api_keys::{ApiKeyService, CreatedApiKey};
pub use auth::{AuthService, LoginResult};
pub use database::DatabaseService;
pub use projects::ProjectService;
pub use tables::{InsertedRows, RowPage, TableService};

use crate::access::AccessPolicy;
use crate::api_keys::ApiKeyRepository;
use crate::projects::ProjectRepository;
use crate::security::{PasswordHasher, TokenIssuer};
use crate::tables::TableRepository;
use crate::users::UserRepository;
use std::sync::Arc;

/// The adapters a deployment plugs in.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub projects: Arc<dyn ProjectRepository>,
    pub api_keys: Arc<dyn ApiKeyRepository>,
    pub tables: Arc<dyn TableRepository>,
    pub password_hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn TokenIssuer>,
}

/// Policy switches the services need from configuration.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    pub allow_registration: bool,
}

/// Every service, wired to one set of ports.
pub struct Services {
    pub auth: AuthService,
    pub projects: ProjectService,
    pub api_keys: ApiKeyService,
    pub database: DatabaseService,
    pub tables: TableService,
}

impl Services {
    pub fn new(ports: Ports, options: ServiceOptions) -> Self {
        let access = Arc::new(AccessPolicy::new(ports.projects.clone()));
        Self {
            auth: AuthService::new(
                ports.users.clone(),
                ports.api_keys.clone(),
                ports.password_hasher.clone(),
                ports.tokens.clone(),
                options.allow_registration,
            ),
            projects: ProjectService::new(ports.projects.clone(), access.clone()),
            api_keys: ApiKeyService::new(ports.api_keys.clone(), access.clone()),
            database: DatabaseService::new(ports.projects.clone(), access.clone()),
            tables: TableService::new(ports.tables, access),
        }
    }
}
