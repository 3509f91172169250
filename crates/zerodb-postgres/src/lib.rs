//! PostgreSQL adapters for ZeroDB: every repository port on diesel-async + deadpool, the
//! embedded migrations, and a managed local cluster for the zero-configuration default.

mod admin;
pub mod embedded;
mod error;
mod pool;
mod schema;
mod sql_filter;
#[cfg(feature = "test-support")]
pub mod testing;

mod agent_logs;
mod api_keys;
mod counts;
mod events;
mod files;
mod leader;
mod memory;
mod operations;
mod outbox;
mod projects;
mod quotas;
mod rlhf;
mod tables;
mod users;
mod vector_relay;
mod vectors;

pub use admin::ensure_database;
pub use agent_logs::PgAgentLogRepository;
pub use api_keys::PgApiKeyRepository;
pub use events::PgEventBus;
pub use files::PgFileRepository;
pub use memory::PgMemoryStore;
pub use operations::{PgAdminRepository, PgUsageRepository};
pub use outbox::PgEventOutbox;
pub use pool::{MIGRATIONS, PgPool, PoolOptions, SetupError, build_pool, ping, run_migrations};
pub use projects::PgProjectRepository;
pub use quotas::PgQuotaUsage;
pub use rlhf::PgRlhfRepository;
pub use tables::PgTableRepository;
pub use users::PgUserRepository;
pub use vector_relay::PgReplicaCursors;
pub use vectors::{PgVectorRecords, decode_embedding, encode_embedding};
