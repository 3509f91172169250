//! Connection pool and embedded migrations.

use crate::error::map_diesel;
use diesel::sql_types::BigInt;
use diesel::{Connection, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;
use zerodb_domain::RepositoryError;

pub type PgPool = Pool<AsyncPgConnection>;

/// Every schema change ZeroDB knows, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Advisory lock key under which migrations run, so that replicas starting together apply
/// each migration once ("zerodb" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x7a65_726f_6462;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    pub max_size: usize,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout: Duration,
    /// How long opening a new connection may take.
    pub connect_timeout: Duration,
    /// Longest a statement may run before PostgreSQL cancels it (`None`: no limit). Set per
    /// connection, so a runaway query cannot hold a connection and its locks forever.
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(30)),
        }
    }
}

/// The driver's or pool's error behind a set-up failure.
pub type SetupCause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("could not build the connection pool")]
    Pool(#[source] SetupCause),
    #[error("could not connect to PostgreSQL")]
    Connect(#[source] SetupCause),
    #[error("migration failed")]
    Migration(#[source] SetupCause),
}

pub fn build_pool(url: &str, options: PoolOptions) -> Result<PgPool, SetupError> {
    // Fast recycling skips the `SELECT 1` on every checkout; a broken connection is still
    // detected (and discarded) by the query that meets it.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let url = match options.statement_timeout {
        Some(timeout) => with_statement_timeout(url, timeout),
        None => url.to_owned(),
    };
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(options.max_size)
        .wait_timeout(Some(options.acquire_timeout))
        .create_timeout(Some(options.connect_timeout))
        .recycle_timeout(Some(options.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| SetupError::Pool(e.into()))
}

/// The URL with libpq's `options` parameter setting `statement_timeout` (milliseconds) for
/// every session opened with it.
fn with_statement_timeout(url: &str, timeout: Duration) -> String {
    let millis = timeout.as_millis().max(1);
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20statement_timeout%3D{millis}")
}

/// Applies pending migrations under a PostgreSQL advisory lock; returns the versions applied.
pub async fn run_migrations(url: &str) -> Result<Vec<String>, SetupError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        // Diesel's migration harness is synchronous; the wrapper drives the async connection.
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .map_err(|e| SetupError::Connect(e.into()))?;
        let lock = |sql: &str, conn: &mut AsyncConnectionWrapper<AsyncPgConnection>| {
            diesel::sql_query(sql)
                .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
                .execute(conn)
                .map_err(|e| SetupError::Migration(e.into()))
        };
        lock("SELECT pg_advisory_lock($1)", &mut conn)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(|v| v.to_string()).collect())
            .map_err(SetupError::Migration);
        lock("SELECT pg_advisory_unlock($1)", &mut conn)?;
        applied
    })
    .await
    .map_err(|e| SetupError::Migration(e.into()))?
}

/// Cheap readiness probe: one round trip on a pooled connection.
pub async fn ping(pool: &PgPool) -> Result<(), RepositoryError> {
    let mut conn = pool.get().await.map_err(crate::error::map_pool)?;
    diesel_async::RunQueryDsl::execute(diesel::sql_query("SELECT 1"), &mut conn)
        .await
        .map(|_| ())
        .map_err(map_diesel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_timeout_rides_in_the_url() {
        let t = Duration::from_millis(1500);
        assert_eq!(
            with_statement_timeout("postgres://h/db", t),
            "postgres://h/db?options=-c%20statement_timeout%3D1500"
        );
        assert_eq!(
            with_statement_timeout("postgres://h/db?sslmode=disable", t),
            "postgres://h/db?sslmode=disable&options=-c%20statement_timeout%3D1500"
        );
    }
}
