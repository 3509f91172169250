//! `PgFileRepository`: file metadata in `zerodb_files`. Keys use the "C" collation, so key
//! order and prefix ranges are plain byte order and the unique index serves both.

use crate::error::{map_diesel, map_pool, violated_unique};
use crate::pool::PgPool;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use serde_json::Value;
use std::collections::HashSet;
use uuid::Uuid;
use zerodb_domain::files::{FileRecord, FileRepository, FileRepositoryError, FileStatus};
use zerodb_domain::{ProjectId, RepositoryError};

pub struct PgFileRepository {
    pool: PgPool,
}

impl PgFileRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[derive(QueryableByName)]
struct FileRow {
    #[diesel(sql_type = SqlUuid)]
    file_id: Uuid,
    #[diesel(sql_type = Text)]
    file_key: String,
    #[diesel(sql_type = Text)]
    file_name: String,
    #[diesel(sql_type = Text)]
    content_type: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    size_bytes: Option<i64>,
    #[diesel(sql_type = Jsonb)]
    file_metadata: Value,
    #[diesel(sql_type = Nullable<Text>)]
    sha256: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    file_id: Uuid,
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Bool)]
    taken: bool,
}

impl FileRow {
    fn into_record(self) -> FileRecord {
        FileRecord {
            id: self.file_id,
            file_key: self.file_key,
            file_name: self.file_name,
            content_type: self.content_type,
            size_bytes: self.size_bytes.and_then(|n| u64::try_from(n).ok()),
            metadata: match self.file_metadata {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            },
            sha256: self.sha256,
            status: FileStatus::parse(&self.status).unwrap_or(FileStatus::Registered),
            created_at: self.created_at,
        }
    }
}

const COLUMNS: &str = "file_id, file_key, file_name, content_type, size_bytes, file_metadata, \
                       sha256, status, created_at";

#[async_trait]
impl FileRepository for PgFileRepository {
    async fn insert(
        &self,
        project_id: ProjectId,
        r: FileRecord,
    ) -> Result<(), FileRepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        sql_query(
            "INSERT INTO zerodb_files (file_id, project_id, file_key, file_name, content_type, \
                 size_bytes, file_metadata, sha256, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind::<SqlUuid, _>(r.id)
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Text, _>(&r.file_key)
        .bind::<Text, _>(&r.file_name)
        .bind::<Text, _>(&r.content_type)
        .bind::<Nullable<BigInt>, _>(r.size_bytes.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
        .bind::<Jsonb, _>(Value::Object(r.metadata))
        .bind::<Nullable<Text>, _>(r.sha256)
        .bind::<Text, _>(r.status.as_str())
        .bind::<Timestamptz, _>(r.created_at)
        .execute(&mut conn)
        .await
        .map_err(|e| match violated_unique(&e) {
            Some(_) => FileRepositoryError::KeyTaken,
            None => map_diesel(e).into(),
        })?;
        Ok(())
    }

    async fn get(&self, project_id: ProjectId, id: Uuid) -> Result<FileRecord, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: FileRow = sql_query(format!(
            "SELECT {COLUMNS} FROM zerodb_files WHERE project_id = $1 AND file_id = $2"
        ))
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<SqlUuid, _>(id)
        .get_result(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(row.into_record())
    }

    async fn key_taken(&self, project_id: ProjectId, key: &str) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: Taken = sql_query(
            "SELECT EXISTS (SELECT 1 FROM zerodb_files WHERE project_id = $1 AND file_key = $2) \
             AS taken",
        )
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Text, _>(key)
        .get_result(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(row.taken)
    }

    async fn list(
        &self,
        project_id: ProjectId,
        prefix: Option<String>,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<FileRecord>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        // `file_key >= prefix` lets the index start at the prefix; starts_with decides.
        let rows: Vec<FileRow> = sql_query(format!(
            "SELECT {COLUMNS} FROM zerodb_files WHERE project_id = $1 \
               AND ($2::text IS NULL OR (file_key >= $2 AND starts_with(file_key, $2))) \
               AND ($3::text IS NULL OR file_key > $3) \
             ORDER BY file_key LIMIT $4"
        ))
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Nullable<Text>, _>(prefix)
        .bind::<Nullable<Text>, _>(after)
        .bind::<BigInt, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(rows.into_iter().map(FileRow::into_record).collect())
    }

    async fn delete(&self, project_id: ProjectId, id: Uuid) -> Result<FileRecord, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: FileRow = sql_query(format!(
            "DELETE FROM zerodb_files WHERE project_id = $1 AND file_id = $2 RETURNING {COLUMNS}"
        ))
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<SqlUuid, _>(id)
        .get_result(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(row.into_record())
    }

    async fn existing(&self, ids: Vec<Uuid>) -> Result<HashSet<Uuid>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<IdRow> =
            sql_query("SELECT file_id FROM zerodb_files WHERE file_id = ANY($1)")
                .bind::<Array<SqlUuid>, _>(ids)
                .load(&mut conn)
                .await
                .map_err(map_diesel)?;
        Ok(rows.into_iter().map(|r| r.file_id).collect())
    }
}
