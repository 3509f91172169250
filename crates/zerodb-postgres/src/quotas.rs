//! `PgQuotaUsage`: what a project holds, counted for quota checks.

use crate::error::{map_diesel, map_pool};
use crate::pool::PgPool;
use async_trait::async_trait;
use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::quotas::{QuotaResource, QuotaUsage};
use zerodb_domain::{ProjectId, RepositoryError, UserId};

pub struct PgQuotaUsage {
    pool: PgPool,
}

impl PgQuotaUsage {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    async fn count(&self, sql: &str, id: Uuid) -> Result<u64, RepositoryError> {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: N = diesel::sql_query(sql)
            .bind::<SqlUuid, _>(id)
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(u64::try_from(row.n).unwrap_or(0))
    }
}

#[async_trait]
impl QuotaUsage for PgQuotaUsage {
    async fn project_usage(
        &self,
        project_id: ProjectId,
        resource: QuotaResource,
    ) -> Result<u64, RepositoryError> {
        let sql = match resource {
            // Index-only scans over the project's primary-key ranges.
            QuotaResource::Vectors => {
                "SELECT count(*) AS n FROM zerodb_vectors \
                 WHERE project_id = $1 AND left(namespace, 2) <> '__'"
            }
            QuotaResource::Memories => {
                "SELECT count(*) AS n FROM zerodb_memory_records WHERE project_id = $1"
            }
            // Offsets are consecutive from 1, so the newest offset is the log's length.
            QuotaResource::Events => {
                "SELECT coalesce((SELECT last_offset FROM zerodb_event_offsets \
                 WHERE project_id = $1), 0)::bigint AS n"
            }
            QuotaResource::FileBytes => {
                "SELECT coalesce(sum(size_bytes), 0)::bigint AS n FROM zerodb_files \
                 WHERE project_id = $1"
            }
            QuotaResource::Tables => {
                "SELECT count(*) AS n FROM zerodb_tables WHERE project_id = $1"
            }
            QuotaResource::RowsPerTable | QuotaResource::ProjectsPerUser => {
                return Err(RepositoryError::Internal(Cause::msg(format!(
                    "{} is not counted per project",
                    resource.as_str()
                ))));
            }
        };
        self.count(sql, project_id.as_uuid()).await
    }

    async fn existing_vectors(
        &self,
        project_id: ProjectId,
        ids: Vec<zerodb_domain::vectors::VectorId>,
    ) -> Result<u64, RepositoryError> {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: N = diesel::sql_query(
            "SELECT count(*) AS n FROM zerodb_vectors \
             WHERE project_id = $1 AND vector_id = ANY($2)",
        )
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Array<diesel::sql_types::Text>, _>(
            ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
        )
        .get_result(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(u64::try_from(row.n).unwrap_or(0))
    }

    async fn projects_owned(&self, user_id: UserId) -> Result<u64, RepositoryError> {
        self.count(
            "SELECT count(*) AS n FROM zerodb_projects WHERE user_id = $1",
            user_id.as_uuid(),
        )
        .await
    }
}
