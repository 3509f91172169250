//! Use-case services. Each takes the calling [`Principal`](crate::principal::Principal) and
//! asks [`AccessPolicy`](crate::access::AccessPolicy) before touching a project.

mod admin;
mod agent_logs;
mod api_keys;
mod auth;
mod database;
mod event_relay;
mod events;
mod files;
mod memory;
mod projects;
mod rlhf;
mod tables;
mod vectors;

/// How a write's items arrived: one alone, or a list in a batch request. Errors name a
/// field as the client sent it: `x` for a single item, `vectors[2].x` in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    Single,
    Batch,
}

pub use admin::{AdminService, MAX_USAGE_DAYS, SystemStats};
pub use agent_logs::AgentLogService;
pub use api_keys::{ApiKeyService, CreatedApiKey};
pub use auth::{AuthService, LoginResult};
pub use database::DatabaseService;
pub use event_relay::{EventRelay, RelayError, RelayRound};
pub use events::{EventService, EventStart};
pub use files::{
    ByteRange, Download, DownloadLink, FileOptions, FileService, MAX_LINK_SECS, RegisterInput,
    UploadInput,
};
pub use memory::{
    ContextWindow, Embeddings, MemoryHit, MemorySearchInput, MemoryService, SearchMode, StoreInput,
    StoredMemory,
};
pub use projects::ProjectService;
pub use rlhf::RlhfService;
pub use tables::{InsertedRows, RowPage, TableService};
pub use vectors::{
    DeleteInput, GetInput, GetOutcome, MAX_QUERY_TEXT_BYTES, NamespaceSettings, RankedHit,
    SearchInput, SearchOutcome, SearchPlan, VectorOptions, VectorService, search_plan,
};

use crate::access::AccessPolicy;
use crate::admin::AdminRepository;
use crate::agent_logs::AgentLogRepository;
use crate::api_keys::ApiKeyRepository;
use crate::events::EventBus;
use crate::files::{FileRepository, ObjectStore};
use crate::memory::{Embedders, MemoryStore};
use crate::projects::ProjectRepository;
use crate::quotas::{QuotaPolicy, QuotaUsage, Quotas};
use crate::rlhf::RlhfRepository;
use crate::security::{PasswordHasher, TokenIssuer};
use crate::tables::TableRepository;
use crate::usage::{UsageMeter, UsageRepository};
use crate::users::UserRepository;
use crate::vectors::VectorStore;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The adapters a deployment plugs in.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub projects: Arc<dyn ProjectRepository>,
    pub api_keys: Arc<dyn ApiKeyRepository>,
    pub tables: Arc<dyn TableRepository>,
    pub rlhf: Arc<dyn RlhfRepository>,
    pub agent_logs: Arc<dyn AgentLogRepository>,
    pub admin: Arc<dyn AdminRepository>,
    pub usage: Arc<dyn UsageRepository>,
    pub events: Arc<dyn EventBus>,
    pub vectors: Arc<dyn VectorStore>,
    pub memory: Arc<dyn MemoryStore>,
    pub files: Arc<dyn FileRepository>,
    pub objects: Arc<dyn ObjectStore>,
    /// The server's embedding models; projects choose among them.
    pub embedders: Embedders,
    pub token_counter: Arc<dyn crate::memory::TokenCounter>,
    pub password_hasher: Arc<dyn PasswordHasher>,
    pub tokens: Arc<dyn TokenIssuer>,
    pub quota_usage: Arc<dyn QuotaUsage>,
    /// The time the services read (`SystemClock` in production).
    pub clock: Arc<dyn crate::clock::Clock>,
}

/// Policy switches the services need from configuration.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    pub allow_registration: bool,
    /// When this server started, for uptime reports.
    pub started_at: DateTime<Utc>,
    pub version: &'static str,
    /// Largest accepted event payload, serialised.
    pub max_event_payload_bytes: usize,
    pub vectors: VectorOptions,
    pub files: FileOptions,
    /// The server's default per-project quotas.
    pub quotas: Quotas,
    /// Most projects one (non-admin) user may own.
    pub max_projects_per_user: Option<u64>,
    /// The highest rate limit a project may set for its own API keys (admins may go above).
    pub project_rate_limit_ceiling: Option<crate::rate_limit::RateLimit>,
}

/// Every service, wired to one set of ports.
pub struct Services {
    pub auth: AuthService,
    pub projects: ProjectService,
    pub api_keys: ApiKeyService,
    pub database: DatabaseService,
    pub tables: TableService,
    pub rlhf: RlhfService,
    pub agent_logs: AgentLogService,
    pub admin: AdminService,
    pub events: EventService,
    pub vectors: VectorService,
    pub memory: MemoryService,
    pub files: FileService,
    /// Counts granted project accesses; flush it periodically and at shutdown.
    pub meter: Arc<UsageMeter>,
}

impl Services {
    pub fn new(ports: Ports, options: ServiceOptions) -> Self {
        let meter = Arc::new(UsageMeter::new(ports.usage.clone()));
        let access = Arc::new(AccessPolicy::metered(ports.projects.clone(), meter.clone()));
        let quotas = Arc::new(QuotaPolicy::new(
            options.quotas,
            options.max_projects_per_user,
            ports.quota_usage.clone(),
        ));
        Self {
            auth: AuthService::new(
                ports.users.clone(),
                ports.api_keys.clone(),
                ports.password_hasher.clone(),
                ports.tokens.clone(),
                options.allow_registration,
            ),
            projects: ProjectService::new(
                ports.projects.clone(),
                access.clone(),
                ports.vectors.clone(),
                ports.objects.clone(),
                quotas.clone(),
            ),
            api_keys: ApiKeyService::new(ports.api_keys.clone(), access.clone()),
            database: DatabaseService::new(
                ports.projects.clone(),
                ports.rlhf.clone(),
                ports.vectors.clone(),
                ports.embedders.clone(),
                access.clone(),
                options.project_rate_limit_ceiling,
            ),
            memory: MemoryService::new(
                ports.memory,
                ports.vectors.clone(),
                ports.embedders.clone(),
                ports.token_counter,
                access.clone(),
                quotas.clone(),
                ports.clock.clone(),
            ),
            files: FileService::new(
                ports.files,
                ports.objects,
                access.clone(),
                options.files,
                quotas.clone(),
                ports.clock.clone(),
            ),
            vectors: VectorService::new(
                ports.vectors,
                access.clone(),
                options.vectors,
                quotas.clone(),
                ports.embedders,
            ),
            tables: TableService::new(ports.tables, access.clone(), quotas.clone()),
            rlhf: RlhfService::new(ports.rlhf, access.clone()),
            agent_logs: AgentLogService::new(ports.agent_logs, access.clone()),
            events: EventService::new(
                ports.events,
                access,
                options.max_event_payload_bytes,
                quotas.clone(),
            ),
            admin: AdminService::new(
                ports.admin,
                ports.usage,
                options.started_at,
                options.version,
                ports.projects.clone(),
                quotas,
            ),
            meter,
        }
    }
}

/// What the services' unit tests share: an enabled project its owner reaches, and quotas
/// that leave it unlimited.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::access::AccessPolicy;
    use crate::database::DatabaseConfig;
    use crate::ids::{ProjectId, UserId};
    use crate::principal::{Principal, Role};
    use crate::projects::{MockProjectRepository, Project};
    use crate::quotas::{MockQuotaUsage, QuotaPolicy};
    use chrono::Utc;
    use std::sync::Arc;

    pub struct OwnedProject {
        pub owner: Principal,
        pub project_id: ProjectId,
        pub access: Arc<AccessPolicy>,
        pub quotas: Arc<QuotaPolicy>,
    }

    /// A project of `owner` with its database enabled.
    pub fn project(owner: UserId) -> Project {
        Project {
            id: ProjectId::new(),
            owner_id: owner,
            name: "p".into(),
            description: None,
            is_active: true,
            database_enabled: true,
            database_config: DatabaseConfig::default(),
            quotas: Default::default(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    pub fn owned_project() -> OwnedProject {
        let owner = UserId::new();
        let project = project(owner);
        let project_id = project.id;
        let mut projects = MockProjectRepository::new();
        projects.expect_get().returning(move |_| Ok(project.clone()));
        OwnedProject {
            owner: Principal::User { id: owner, role: Role::User },
            project_id,
            access: Arc::new(AccessPolicy::new(Arc::new(projects))),
            // No quota is set, so the usage port is never asked (a call would panic).
            quotas: Arc::new(QuotaPolicy::new(
                Default::default(),
                None,
                Arc::new(MockQuotaUsage::new()),
            )),
        }
    }
}
