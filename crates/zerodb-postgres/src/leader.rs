//! Leadership across server processes: a session-level advisory lock held by one dedicated
//! connection. Whichever process holds it leads; if that connection dies the lock is
//! released and another process takes over.

use crate::error::map_diesel;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use zerodb_domain::{Cause, RepositoryError};

/// How often a leading process checks that its lock connection is alive.
const LEADER_CHECK: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

pub(crate) struct LeaderLock {
    database_url: String,
    key: i64,
    /// What leads, for the logs.
    role: &'static str,
    /// The connection that holds the lock while this process leads, and when it was last
    /// seen alive.
    held: Mutex<Option<(AsyncPgConnection, Instant)>>,
}

impl LeaderLock {
    pub(crate) fn new(database_url: String, key: i64, role: &'static str) -> Self {
        Self { database_url, key, role, held: Mutex::new(None) }
    }

    /// Whether this process leads now, trying to take the lock if nobody holds it.
    pub(crate) async fn lead(&self) -> Result<bool, RepositoryError> {
        let mut held = self.held.lock().await;
        if let Some((conn, seen)) = held.as_mut() {
            // Still connected means still holding the lock. A busy leader asks every round,
            // so look at most once a second: a lost lock is noticed that much later, which
            // the callers' at-least-once delivery absorbs.
            if seen.elapsed() < LEADER_CHECK {
                return Ok(true);
            }
            if diesel::sql_query("SELECT 1").execute(conn).await.is_ok() {
                *seen = Instant::now();
                return Ok(true);
            }
            tracing::warn!(role = self.role, "lost the leader lock's connection");
            *held = None;
        }
        let mut conn = AsyncPgConnection::establish(&self.database_url)
            .await
            .map_err(|e| RepositoryError::Unavailable(Cause::new(e)))?;
        let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind::<BigInt, _>(self.key)
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        if locked.locked {
            tracing::info!(role = self.role, "this process now leads");
            *held = Some((conn, Instant::now()));
        }
        Ok(locked.locked)
    }

    /// Gives the lock up; closing the connection releases its session lock.
    pub(crate) async fn resign(&self) {
        if self.held.lock().await.take().is_some() {
            tracing::info!(role = self.role, "this process stopped leading");
        }
    }
}
