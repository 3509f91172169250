//! `PgMemoryStore`: agent memory records in `zerodb_memory_records`, with PostgreSQL
//! full-text search (english configuration) over their content.

use crate::error::{map_diesel, map_pool};
use crate::pool::PgPool;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::{
    Array, BigInt, Float4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use serde_json::Value;
use uuid::Uuid;
use zerodb_domain::memory::{LexicalHit, MemoryFilter, MemoryRecord, MemoryRole, MemoryStore};
use zerodb_domain::{ProjectId, RepositoryError};

pub struct PgMemoryStore {
    pool: PgPool,
}

impl PgMemoryStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    memory_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    agent_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    session_id: Uuid,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Text)]
    content: String,
    #[diesel(sql_type = Jsonb)]
    memory_metadata: Value,
    #[diesel(sql_type = Float4)]
    importance: f32,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    expires_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct RankedRow {
    #[diesel(embed)]
    memory: Row,
    #[diesel(sql_type = Float4)]
    rank: f32,
}

impl Row {
    fn into_record(self) -> MemoryRecord {
        MemoryRecord {
            id: self.memory_id,
            agent_id: self.agent_id,
            session_id: self.session_id,
            role: MemoryRole::parse(&self.role).unwrap_or(MemoryRole::User),
            content: self.content,
            metadata: match self.memory_metadata {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            },
            importance: self.importance,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

const COLUMNS: &str = "memory_id, agent_id, session_id, role, content, memory_metadata, \
                       importance, created_at, expires_at";

/// The filter as SQL over binds $2.. (after `$1` project); `now` is always bound as $2.
const FILTER_SQL: &str = "project_id = $1 AND (expires_at IS NULL OR expires_at > $2) \
     AND ($3::uuid IS NULL OR agent_id = $3) AND ($4::uuid IS NULL OR session_id = $4) \
     AND ($5::text IS NULL OR role = $5) AND ($6::timestamptz IS NULL OR created_at >= $6) \
     AND ($7::timestamptz IS NULL OR created_at < $7)";

/// Turns free text into an OR query of its words; only letters and digits reach
/// `to_tsquery`, so no query syntax can be injected.
pub fn or_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        // PostgreSQL indexes no word longer than 2047 bytes; such a word matches nothing.
        .filter(|w| !w.is_empty() && w.len() <= 256)
        .take(64)
        .map(str::to_lowercase)
        .collect();
    (!words.is_empty()).then(|| words.join(" | "))
}

macro_rules! bind_filter {
    ($query:expr, $project:expr, $now:expr, $filter:expr) => {
        $query
            .bind::<SqlUuid, _>($project.as_uuid())
            .bind::<Timestamptz, _>($now)
            .bind::<Nullable<SqlUuid>, _>($filter.agent_id)
            .bind::<Nullable<SqlUuid>, _>($filter.session_id)
            .bind::<Nullable<Text>, _>($filter.role.map(|r| r.as_str().to_owned()))
            .bind::<Nullable<Timestamptz>, _>($filter.since)
            .bind::<Nullable<Timestamptz>, _>($filter.until)
    };
}

#[async_trait]
impl MemoryStore for PgMemoryStore {
    async fn insert(
        &self,
        project_id: ProjectId,
        records: Vec<MemoryRecord>,
    ) -> Result<(), RepositoryError> {
        let n = records.len();
        let (mut ids, mut agents, mut sessions) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut roles, mut contents, mut metadata) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut importances, mut created, mut expires) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for r in records {
            ids.push(r.id);
            agents.push(r.agent_id);
            sessions.push(r.session_id);
            roles.push(r.role.as_str().to_owned());
            contents.push(r.content);
            metadata.push(Value::Object(r.metadata));
            importances.push(r.importance);
            created.push(r.created_at);
            expires.push(r.expires_at);
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        // One statement over parallel arrays: atomic, and one round trip for any batch size.
        sql_query(
            "INSERT INTO zerodb_memory_records (memory_id, project_id, agent_id, session_id, role, \
                 content, memory_metadata, importance, created_at, expires_at) \
             SELECT m.id, $1, m.agent, m.session, m.role, m.content, m.meta, m.importance, \
                    m.created, m.expires \
             FROM unnest($2, $3, $4, $5, $6, $7, $8, $9, $10) \
                  AS m(id, agent, session, role, content, meta, importance, created, expires)",
        )
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<SqlUuid>, _>(agents)
        .bind::<Array<SqlUuid>, _>(sessions)
        .bind::<Array<Text>, _>(roles)
        .bind::<Array<Text>, _>(contents)
        .bind::<Array<Jsonb>, _>(metadata)
        .bind::<Array<Float4>, _>(importances)
        .bind::<Array<Timestamptz>, _>(created)
        .bind::<Array<Nullable<Timestamptz>>, _>(expires)
        .execute(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(())
    }

    async fn get(
        &self,
        project_id: ProjectId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<MemoryRecord, RepositoryError> {
        self.fetch(project_id, &[id], now).await?.pop().ok_or(RepositoryError::NotFound)
    }

    async fn list(
        &self,
        project_id: ProjectId,
        filter: &MemoryFilter,
        before: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<MemoryRecord>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let query = sql_query(format!(
            "SELECT {COLUMNS} FROM zerodb_memory_records WHERE {FILTER_SQL} \
               AND ($8::timestamptz IS NULL OR (created_at, memory_id) < ($8, $9)) \
             ORDER BY created_at DESC, memory_id DESC LIMIT $10"
        ));
        let rows: Vec<Row> = bind_filter!(query, project_id, now, filter)
            .bind::<Nullable<Timestamptz>, _>(before.map(|b| b.0))
            .bind::<SqlUuid, _>(before.map_or(Uuid::nil(), |b| b.1))
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(rows.into_iter().map(Row::into_record).collect())
    }

    async fn fetch(
        &self,
        project_id: ProjectId,
        ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<Vec<MemoryRecord>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<Row> = sql_query(format!(
            "SELECT {COLUMNS} FROM unnest($3::uuid[]) AS ids(id) \
             JOIN zerodb_memory_records m ON m.memory_id = ids.id \
             WHERE m.project_id = $1 AND (m.expires_at IS NULL OR m.expires_at > $2)"
        ))
        .bind::<SqlUuid, _>(project_id.as_uuid())
        .bind::<Timestamptz, _>(now)
        .bind::<Array<SqlUuid>, _>(ids.to_vec())
        .load(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(rows.into_iter().map(Row::into_record).collect())
    }

    async fn lexical(
        &self,
        project_id: ProjectId,
        query: &str,
        filter: &MemoryFilter,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<LexicalHit>, RepositoryError> {
        let Some(tsquery) = or_query(query) else { return Ok(Vec::new()) };
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let sql = sql_query(format!(
            "SELECT {COLUMNS}, ts_rank_cd(content_tsv, q)::real AS rank \
             FROM zerodb_memory_records, to_tsquery('english', $8) AS q \
             WHERE {FILTER_SQL} AND content_tsv @@ q ORDER BY rank DESC, created_at DESC LIMIT $9"
        ));
        let rows: Vec<RankedRow> = bind_filter!(sql, project_id, now, filter)
            .bind::<Text, _>(tsquery)
            .bind::<BigInt, _>(i64::from(limit))
            .load(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(rows
            .into_iter()
            .map(|r| LexicalHit { record: r.memory.into_record(), rank: r.rank })
            .collect())
    }

    async fn delete(&self, project_id: ProjectId, id: Uuid) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let n =
            sql_query("DELETE FROM zerodb_memory_records WHERE project_id = $1 AND memory_id = $2")
                .bind::<SqlUuid, _>(project_id.as_uuid())
                .bind::<SqlUuid, _>(id)
                .execute(&mut conn)
                .await
                .map_err(map_diesel)?;
        if n == 0 { Err(RepositoryError::NotFound) } else { Ok(()) }
    }

    async fn purge_expired(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(ProjectId, Uuid)>, RepositoryError> {
        #[derive(QueryableByName)]
        struct Gone {
            #[diesel(sql_type = SqlUuid)]
            project_id: Uuid,
            #[diesel(sql_type = SqlUuid)]
            memory_id: Uuid,
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let gone: Vec<Gone> = sql_query(
            "DELETE FROM zerodb_memory_records WHERE memory_id IN ( \
                 SELECT memory_id FROM zerodb_memory_records \
                 WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2) \
             RETURNING project_id, memory_id",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(map_diesel)?;
        Ok(gone.into_iter().map(|g| (ProjectId::from_uuid(g.project_id), g.memory_id)).collect())
    }
}
