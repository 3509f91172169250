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

mod api_keys;
mod projects;
mod tables;
mod users;

pub use admin::ensure_database;
pub use api_keys::PgApiKeyRepository;
pub use pool::{MIGRATIONS, PgPool, PoolOptions, SetupError, build_pool, ping, run_migrations};
pub use projects::PgProjectRepository;
pub use tables::PgTableRepository;
pub use users::PgUserRepository;
