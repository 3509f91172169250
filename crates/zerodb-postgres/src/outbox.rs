//! `PgEventOutbox`: the undelivered tail of each project's event log, the delivery cursors
//! in `zerodb_event_outbox`, and the relay's leadership.
//!
//! Leadership is a [`LeaderLock`]: whichever process holds it relays, the others wait; if it
//! dies, another process takes over from the stored cursors.

use crate::error::{map_diesel, map_pool};
use crate::events::{EventRow, Hub};
use crate::leader::LeaderLock;
use crate::pool::PgPool;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
use zerodb_domain::relay::{EventOutbox, OutboxBacklog, OutboxBatch};
use zerodb_domain::{ProjectId, RepositoryError};

/// Advisory lock key of the relay ("relay" in ASCII).
const RELAY_LOCK_KEY: i64 = 0x72_656c_6179;

/// Undelivered events of the projects served least recently, each project's oldest first.
/// A project's offsets have no gaps, so its next `$2` events are exactly the offsets after
/// its cursor: the bounded range keeps the scan to those rows however long the backlog.
const PENDING_SQL: &str = "\
    SELECT p.project_id, e.event_offset, e.event_id, e.topic, e.event_key, e.headers, \
           e.event_payload, e.published_at \
    FROM (SELECT o.project_id, COALESCE(x.delivered_offset, 0) AS delivered, x.updated_at \
          FROM zerodb_event_offsets o LEFT JOIN zerodb_event_outbox x USING (project_id) \
          WHERE o.last_offset > COALESCE(x.delivered_offset, 0) \
          ORDER BY x.updated_at NULLS FIRST LIMIT $1) p \
    CROSS JOIN LATERAL (SELECT * FROM zerodb_events e \
                        WHERE e.project_id = p.project_id AND e.event_offset > p.delivered \
                          AND e.event_offset <= p.delivered + $2 \
                        ORDER BY e.event_offset) e \
    ORDER BY p.project_id, e.event_offset";

const DELIVERED_SQL: &str = "\
    INSERT INTO zerodb_event_outbox (project_id, delivered_offset) VALUES ($1, $2) \
    ON CONFLICT (project_id) DO UPDATE \
    SET delivered_offset = GREATEST(zerodb_event_outbox.delivered_offset, EXCLUDED.delivered_offset), \
        updated_at = now()";

const BACKLOG_SQL: &str = "\
    SELECT COALESCE(SUM(o.last_offset - COALESCE(x.delivered_offset, 0)), 0)::bigint AS events, \
           MIN(e.published_at) AS oldest \
    FROM zerodb_event_offsets o LEFT JOIN zerodb_event_outbox x USING (project_id) \
    LEFT JOIN zerodb_events e ON e.project_id = o.project_id \
         AND e.event_offset = COALESCE(x.delivered_offset, 0) + 1 \
    WHERE o.last_offset > COALESCE(x.delivered_offset, 0)";

#[derive(QueryableByName)]
struct PendingRow {
    #[diesel(sql_type = SqlUuid)]
    project_id: Uuid,
    #[diesel(embed)]
    event: EventRow,
}

#[derive(QueryableByName)]
struct BacklogRow {
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    oldest: Option<DateTime<Utc>>,
}

pub struct PgEventOutbox {
    pool: PgPool,
    hub: Arc<Hub>,
    leader: LeaderLock,
}

impl PgEventOutbox {
    pub(crate) fn new(pool: PgPool, database_url: String, hub: Arc<Hub>) -> Self {
        Self { pool, leader: LeaderLock::new(database_url, RELAY_LOCK_KEY, "event relay"), hub }
    }
}

#[async_trait]
impl EventOutbox for PgEventOutbox {
    async fn lead(&self) -> Result<bool, RepositoryError> {
        self.leader.lead().await
    }

    async fn resign(&self) {
        self.leader.resign().await;
    }

    async fn pending(
        &self,
        max_projects: u32,
        max_events: u32,
    ) -> Result<Vec<OutboxBatch>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<PendingRow> = diesel::sql_query(PENDING_SQL)
            .bind::<Integer, _>(i32::try_from(max_projects).unwrap_or(i32::MAX))
            .bind::<Integer, _>(i32::try_from(max_events).unwrap_or(i32::MAX))
            .load(&mut conn)
            .await
            .map_err(map_diesel)?;
        let mut batches: Vec<OutboxBatch> = Vec::new();
        for row in rows {
            let project_id = ProjectId::from_uuid(row.project_id);
            match batches.last_mut() {
                Some(batch) if batch.project_id == project_id => {
                    batch.events.push(row.event.into());
                }
                _ => batches.push(OutboxBatch { project_id, events: vec![row.event.into()] }),
            }
        }
        Ok(batches)
    }

    async fn delivered(&self, project_id: ProjectId, offset: i64) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        diesel::sql_query(DELIVERED_SQL)
            .bind::<SqlUuid, _>(project_id.as_uuid())
            .bind::<BigInt, _>(offset)
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(map_diesel)
    }

    async fn wait_for_events(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.hub.any_advance.notified()).await;
    }

    async fn backlog(&self) -> Result<OutboxBacklog, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let row: BacklogRow =
            diesel::sql_query(BACKLOG_SQL).get_result(&mut conn).await.map_err(map_diesel)?;
        Ok(OutboxBacklog { events: u64::try_from(row.events).unwrap_or(0), oldest: row.oldest })
    }
}
