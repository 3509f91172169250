//! `PgAgentLogRepository`: `zerodb_agent_logs`.

use crate::error::{map_diesel, map_pool};
use crate::pool::PgPool;
use crate::schema::zerodb_agent_logs;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde_json::Value;
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::agent_logs::{
    AgentLog, AgentLogFilter, AgentLogRepository, LogLevel, NewAgentLog,
};
use zerodb_domain::pagination::{PageRequest, Position};
use zerodb_domain::{ProjectId, RepositoryError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = zerodb_agent_logs)]
struct LogRow {
    seq: i64,
    log_id: Uuid,
    agent_id: Uuid,
    session_id: Option<Uuid>,
    log_level: String,
    log_message: String,
    raw_payload: Option<Value>,
    created_at: DateTime<Utc>,
}

impl LogRow {
    fn into_domain(self) -> Result<AgentLog, RepositoryError> {
        let level = self.log_level.parse::<LogLevel>().map_err(|_| {
            RepositoryError::Internal(Cause::msg(format!("unknown level {:?}", self.log_level)))
        })?;
        Ok(AgentLog {
            id: self.log_id,
            seq: self.seq,
            agent_id: self.agent_id,
            session_id: self.session_id,
            level,
            message: self.log_message,
            raw_payload: self.raw_payload,
            created_at: self.created_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = zerodb_agent_logs)]
struct NewLogRow {
    log_id: Uuid,
    project_id: Uuid,
    agent_id: Uuid,
    session_id: Option<Uuid>,
    log_level: &'static str,
    log_message: String,
    raw_payload: Option<Value>,
}

pub struct PgAgentLogRepository {
    pool: PgPool,
}

impl PgAgentLogRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl AgentLogRepository for PgAgentLogRepository {
    async fn insert(
        &self,
        project_id: ProjectId,
        logs: Vec<NewAgentLog>,
    ) -> Result<Vec<AgentLog>, RepositoryError> {
        let rows: Vec<NewLogRow> = logs
            .into_iter()
            .map(|l| NewLogRow {
                log_id: l.id,
                project_id: project_id.as_uuid(),
                agent_id: l.agent_id,
                session_id: l.session_id,
                log_level: l.level.as_str(),
                log_message: l.message,
                raw_payload: l.raw_payload,
            })
            .collect();
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let mut inserted: Vec<LogRow> = diesel::insert_into(zerodb_agent_logs::table)
            .values(&rows)
            .returning(LogRow::as_returning())
            .get_results(&mut conn)
            .await
            .map_err(map_diesel)?;
        inserted.sort_by_key(|r| r.seq);
        inserted.into_iter().map(LogRow::into_domain).collect()
    }

    async fn list(
        &self,
        project_id: ProjectId,
        filter: &AgentLogFilter,
        page: &PageRequest,
    ) -> Result<Vec<AgentLog>, RepositoryError> {
        use zerodb_agent_logs::dsl as l;
        let mut query = l::zerodb_agent_logs
            .filter(l::project_id.eq(project_id.as_uuid()))
            .select(LogRow::as_select())
            .order(l::seq.desc())
            .limit(i64::from(page.limit.get()) + 1)
            .into_boxed();
        if let Some(Position::Sequence { s }) = page.after {
            query = query.filter(l::seq.lt(s));
        }
        if let Some(agent) = filter.agent_id {
            query = query.filter(l::agent_id.eq(agent));
        }
        if let Some(session) = filter.session_id {
            query = query.filter(l::session_id.eq(session));
        }
        if let Some(min) = filter.min_level {
            let levels: Vec<&'static str> =
                min.and_above().into_iter().map(LogLevel::as_str).collect();
            query = query.filter(l::log_level.eq_any(levels));
        }
        if let Some(since) = filter.since {
            query = query.filter(l::created_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(l::created_at.lt(until));
        }
        if let Some(text) = &filter.contains {
            // strpos over lower-cased text: a plain substring test with no pattern syntax.
            query = query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("strpos(lower(log_message), lower(")
                    .bind::<diesel::sql_types::Text, _>(text.clone())
                    .sql(")) > 0"),
            );
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<LogRow> = query.load(&mut conn).await.map_err(map_diesel)?;
        rows.into_iter().map(LogRow::into_domain).collect()
    }
}
