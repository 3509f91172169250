//! `PgReplicaCursors`: how far each project's vector changes have reached the external
//! vector engine (`zerodb_vector_relay`), and the relay's leadership.

use crate::error::{map_diesel, map_pool};
use crate::leader::LeaderLock;
use crate::pool::PgPool;
use async_trait::async_trait;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Integer, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;
use zerodb_domain::vectors::{ReplicaCursors, ReplicaLag};
use zerodb_domain::{ProjectId, RepositoryError};

/// Advisory lock key of the vector relay ("vrelay" in ASCII).
const VECTOR_RELAY_LOCK_KEY: i64 = 0x7672_656c_6179;

const BEHIND_SQL: &str = "\
    SELECT s.project_id, COALESCE(r.applied_seq, 0) AS applied_seq, s.last_seq, \
           COALESCE(r.generation, 0) AS generation \
    FROM zerodb_vector_sequences s LEFT JOIN zerodb_vector_relay r USING (project_id) \
    WHERE s.last_seq > COALESCE(r.applied_seq, 0) \
    ORDER BY r.updated_at NULLS FIRST LIMIT $1";

/// Moves the cursor from `$3` (generation `$4`) to `$2`, and only from there (no row is
/// position 0 of generation 0).
const APPLIED_SQL: &str = "\
    INSERT INTO zerodb_vector_relay AS r (project_id, applied_seq) \
    SELECT $1, $2 WHERE $3 = 0 AND $4 = 0 \
    ON CONFLICT (project_id) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, updated_at = now() \
    WHERE r.applied_seq = $3 AND r.generation = $4";

const APPLIED_FROM_SQL: &str = "\
    UPDATE zerodb_vector_relay SET applied_seq = $2, updated_at = now() \
    WHERE project_id = $1 AND applied_seq = $3 AND generation = $4";

const RESET_SQL: &str = "\
    INSERT INTO zerodb_vector_relay AS r (project_id, applied_seq, generation) VALUES ($1, $2, 1) \
    ON CONFLICT (project_id) DO UPDATE \
    SET applied_seq = EXCLUDED.applied_seq, generation = r.generation + 1, updated_at = now()";

const APPLIED_SEQ_SQL: &str = "\
    SELECT COALESCE((SELECT applied_seq FROM zerodb_vector_relay WHERE project_id = $1), 0) \
    AS seq";

/// Both lookups use the (project, namespace, seq) indexes and stop at the first row.
const NAMESPACE_BEHIND_SQL: &str = "\
    WITH c AS (SELECT COALESCE((SELECT applied_seq FROM zerodb_vector_relay \
                                WHERE project_id = $1), 0) AS applied) \
    SELECT EXISTS (SELECT 1 FROM zerodb_vectors v, c WHERE v.project_id = $1 \
                   AND v.namespace = $2 AND v.seq > c.applied) \
        OR EXISTS (SELECT 1 FROM zerodb_vector_tombstones t, c WHERE t.project_id = $1 \
                   AND t.namespace = $2 AND t.seq > c.applied) AS behind";

const BACKLOG_SQL: &str = "\
    SELECT COALESCE(SUM(s.last_seq - COALESCE(r.applied_seq, 0)), 0)::bigint AS seq \
    FROM zerodb_vector_sequences s LEFT JOIN zerodb_vector_relay r USING (project_id) \
    WHERE s.last_seq > COALESCE(r.applied_seq, 0)";

#[derive(QueryableByName)]
struct LagRow {
    #[diesel(sql_type = SqlUuid)]
    project_id: Uuid,
    #[diesel(sql_type = BigInt)]
    applied_seq: i64,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
    #[diesel(sql_type = BigInt)]
    generation: i64,
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

#[derive(QueryableByName)]
struct Behind {
    #[diesel(sql_type = Bool)]
    behind: bool,
}

pub struct PgReplicaCursors {
    pool: PgPool,
    leader: LeaderLock,
}

impl PgReplicaCursors {
    pub fn new(pool: PgPool, database_url: String) -> Self {
        Self { pool, leader: LeaderLock::new(database_url, VECTOR_RELAY_LOCK_KEY, "vector relay") }
    }

    async fn set(&self, sql: &str, project_id: ProjectId, seq: i64) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        diesel::sql_query(sql)
            .bind::<SqlUuid, _>(project_id.as_uuid())
            .bind::<BigInt, _>(seq)
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(map_diesel)
    }
}

#[async_trait]
impl ReplicaCursors for PgReplicaCursors {
    async fn lead(&self) -> Result<bool, RepositoryError> {
        self.leader.lead().await
    }

    async fn resign(&self) {
        self.leader.resign().await;
    }

    async fn behind(&self, max_projects: u32) -> Result<Vec<ReplicaLag>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<LagRow> = diesel::sql_query(BEHIND_SQL)
            .bind::<Integer, _>(i32::try_from(max_projects).unwrap_or(i32::MAX))
            .load(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(rows
            .into_iter()
            .map(|r| ReplicaLag {
                project_id: ProjectId::from_uuid(r.project_id),
                applied_seq: r.applied_seq,
                last_seq: r.last_seq,
                generation: r.generation,
            })
            .collect())
    }

    async fn applied(&self, read: &ReplicaLag, seq: i64) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        // From the very start the row may not exist yet; from anywhere else it does.
        let first = read.applied_seq == 0 && read.generation == 0;
        diesel::sql_query(if first { APPLIED_SQL } else { APPLIED_FROM_SQL })
            .bind::<SqlUuid, _>(read.project_id.as_uuid())
            .bind::<BigInt, _>(seq)
            .bind::<BigInt, _>(read.applied_seq)
            .bind::<BigInt, _>(read.generation)
            .execute(&mut conn)
            .await
            .map(|rows| rows == 1)
            .map_err(map_diesel)
    }

    async fn applied_seq(&self, project_id: ProjectId) -> Result<i64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: Seq = diesel::sql_query(APPLIED_SEQ_SQL)
            .bind::<SqlUuid, _>(project_id.as_uuid())
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(row.seq)
    }

    async fn namespace_behind(
        &self,
        project_id: ProjectId,
        namespace: &str,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: Behind = diesel::sql_query(NAMESPACE_BEHIND_SQL)
            .bind::<SqlUuid, _>(project_id.as_uuid())
            .bind::<Text, _>(namespace)
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(row.behind)
    }

    async fn backlog(&self) -> Result<u64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: Seq =
            diesel::sql_query(BACKLOG_SQL).get_result(&mut conn).await.map_err(map_diesel)?;
        Ok(u64::try_from(row.seq).unwrap_or(0))
    }

    async fn reset(&self, project_id: ProjectId, seq: i64) -> Result<(), RepositoryError> {
        self.set(RESET_SQL, project_id, seq).await?;
        // Processes that trust the project to be caught up hear of the reset as of a commit.
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(crate::vectors::CHANNEL)
            .bind::<Text, _>(format!("{project_id}:{seq}"))
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(map_diesel)
    }
}
