//! `PgEventBus`: the event log in `zerodb_events`, with group commit for throughput and
//! LISTEN/NOTIFY for live fan-out across processes.
//!
//! Publishes from all requests of this process go through a few writer tasks. Each writer
//! takes every publish waiting in the queue and appends each project's share with one
//! statement: one WAL flush serves many requests (group commit), and `synchronous_commit`
//! stays on, so a publish answers only once it is durable. Offsets come from a per-project
//! counter row updated by the same statement; its row lock orders concurrent writers of any
//! process, so offsets grow in commit order. The statement also sends
//! `NOTIFY zerodb_events, '<project>:<offset>'`, which every process's listener turns into a
//! wake-up of its local subscribers.

use crate::error::{map_diesel, map_pool};
use crate::outbox::PgEventOutbox;
use crate::pool::{PgPool, PoolOptions, SetupError, build_pool};
use crate::schema::{zerodb_event_consumers, zerodb_event_offsets, zerodb_events};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use uuid::Uuid;
use zerodb_domain::Cause;
use zerodb_domain::events::{ConsumerOffset, Event, EventBus, EventFilter, NewEvent, TopicName};
use zerodb_domain::{ProjectId, RepositoryError};

const CHANNEL: &str = "zerodb_events";
/// Most events one group commit carries.
const MAX_GROUP_EVENTS: usize = 4000;
/// Writer tasks. Each project's publishes always go to the same writer, so writers never
/// wait for each other's locks; different projects commit in parallel.
const WRITERS: usize = 2;

type Reply = oneshot::Sender<Result<Vec<Event>, RepositoryError>>;

struct Job {
    project_id: ProjectId,
    events: Vec<NewEvent>,
    reply: Reply,
}

/// The latest known committed offset per project, watched by local subscribers; and one
/// wake-up for the outbox relay whenever any project advances.
#[derive(Default)]
pub(crate) struct Hub {
    projects: Mutex<HashMap<ProjectId, watch::Sender<i64>>>,
    pub(crate) any_advance: Notify,
}

impl Hub {
    fn sender(&self, project_id: ProjectId) -> watch::Sender<i64> {
        let mut projects = self.projects.lock().unwrap_or_else(PoisonError::into_inner);
        projects.entry(project_id).or_insert_with(|| watch::channel(0).0).clone()
    }

    fn advance(&self, project_id: ProjectId, offset: i64) {
        let newer = self.sender(project_id).send_if_modified(|known| {
            let newer = offset > *known;
            if newer {
                *known = offset;
            }
            newer
        });
        if newer {
            // A stored permit when the relay is busy: it looks again before it waits.
            self.any_advance.notify_one();
        }
    }

    /// Wakes every subscriber (after the listener lost notifications).
    fn wake_all(&self) {
        let projects = self.projects.lock().unwrap_or_else(PoisonError::into_inner);
        for sender in projects.values() {
            sender.send_modify(|_| {});
        }
        self.any_advance.notify_one();
    }
}

pub struct PgEventBus {
    pool: PgPool,
    queues: Vec<mpsc::Sender<Job>>,
    hub: Arc<Hub>,
    database_url: String,
    /// The writers and the listener, until the owner takes them to stop them.
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl PgEventBus {
    /// Starts the writer tasks and the notification listener on the current Tokio runtime.
    ///
    /// The writers get a pool of their own, opened from their runtime: a connection's I/O
    /// is driven by a task on the runtime that opened it, and the request pool's connections
    /// may live on busy HTTP worker threads, which would stretch every commit.
    pub fn start(pool: PgPool, database_url: String) -> Result<Arc<Self>, SetupError> {
        let writer_pool =
            build_pool(&database_url, PoolOptions { max_size: WRITERS, ..PoolOptions::default() })?;
        let hub = Arc::new(Hub::default());
        let mut tasks = Vec::with_capacity(WRITERS + 1);
        let queues = (0..WRITERS)
            .map(|_| {
                let (queue, receiver) = mpsc::channel::<Job>(8 * 1024);
                tasks.push(tokio::spawn(write_groups(writer_pool.clone(), receiver, hub.clone())));
                queue
            })
            .collect();
        tasks.push(tokio::spawn(listen(database_url.clone(), hub.clone())));
        Ok(Arc::new(Self { pool, queues, hub, database_url, tasks: tasks.into() }))
    }

    /// The writer and listener tasks, for the owner to stop when it shuts down (once they
    /// are taken, later calls answer none).
    pub fn take_tasks(&self) -> Vec<tokio::task::JoinHandle<()>> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The outbox of this log, woken by its publishes and notifications.
    pub fn outbox(&self) -> PgEventOutbox {
        PgEventOutbox::new(self.pool.clone(), self.database_url.clone(), self.hub.clone())
    }
}

async fn write_groups(pool: PgPool, mut receiver: mpsc::Receiver<Job>, hub: Arc<Hub>) {
    loop {
        let jobs = {
            let Some(first) = receiver.recv().await else { return };
            let mut count = first.events.len();
            let mut jobs = vec![first];
            while count < MAX_GROUP_EVENTS {
                match receiver.try_recv() {
                    Ok(job) => {
                        count += job.events.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        match commit_group(&pool, &jobs).await {
            Ok(results) => {
                for (job, events) in jobs.into_iter().zip(results) {
                    if let Some(last) = events.last() {
                        hub.advance(job.project_id, last.offset);
                    }
                    let _ = job.reply.send(Ok(events));
                }
            }
            Err(e) if jobs.len() == 1 => {
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
            Err(_) => {
                // One bad publish (say, for a project deleted meanwhile) must not fail the
                // others: commit each on its own.
                for job in jobs {
                    let result = commit_group(&pool, std::slice::from_ref(&job)).await;
                    let result = result.map(|mut r| r.pop().unwrap_or_default());
                    if let Ok(Some(last)) = result.as_ref().map(|e| e.last()) {
                        hub.advance(job.project_id, last.offset);
                    }
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

/// One statement appends all of a project's events in a group: it takes the offsets,
/// inserts the rows and queues the notification. A single statement is its own transaction,
/// so it is atomic and costs one round trip and one WAL flush.
const APPEND_SQL: &str = "\
    WITH taken AS ( \
        INSERT INTO zerodb_event_offsets (project_id, last_offset) VALUES ($1, $2) \
        ON CONFLICT (project_id) DO UPDATE \
        SET last_offset = zerodb_event_offsets.last_offset + EXCLUDED.last_offset \
        RETURNING last_offset), \
    appended AS ( \
        INSERT INTO zerodb_events \
            (project_id, event_offset, event_id, topic, event_key, headers, event_payload, published_at) \
        SELECT $1, (SELECT last_offset FROM taken) - $2 + u.ord, u.event_id, u.topic, u.event_key, \
               u.headers, u.payload, $3 \
        FROM unnest($4::uuid[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[]) \
             WITH ORDINALITY AS u(event_id, topic, event_key, headers, payload, ord)) \
    SELECT last_offset, pg_notify($9, $1::text || ':' || last_offset) IS NULL AS notified FROM taken";

/// Commits every job's events, one statement per project; returns each job's events.
async fn commit_group(pool: &PgPool, jobs: &[Job]) -> Result<Vec<Vec<Event>>, RepositoryError> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = BigInt)]
        last_offset: i64,
    }
    let mut by_project: BTreeMap<ProjectId, Vec<usize>> = BTreeMap::new();
    for (i, job) in jobs.iter().enumerate() {
        by_project.entry(job.project_id).or_default().push(i);
    }
    let mut conn = pool.get().await.map_err(map_pool)?;
    let now = Utc::now();
    let mut results: Vec<Vec<Event>> = vec![Vec::new(); jobs.len()];
    for (project, members) in by_project {
        let events: Vec<&NewEvent> = members.iter().flat_map(|&i| jobs[i].events.iter()).collect();
        let count = events.len() as i64;
        let last: Last = diesel::sql_query(APPEND_SQL)
            .bind::<SqlUuid, _>(project.as_uuid())
            .bind::<BigInt, _>(count)
            .bind::<Timestamptz, _>(now)
            .bind::<Array<SqlUuid>, _>(events.iter().map(|e| e.id).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(
                events.iter().map(|e| e.topic.as_str().to_owned()).collect::<Vec<_>>(),
            )
            .bind::<Array<Nullable<Text>>, _>(
                events.iter().map(|e| e.key.clone()).collect::<Vec<_>>(),
            )
            .bind::<Array<Jsonb>, _>(
                events.iter().map(|e| Value::Object(e.headers.clone())).collect::<Vec<_>>(),
            )
            .bind::<Array<Jsonb>, _>(events.iter().map(|e| e.payload.clone()).collect::<Vec<_>>())
            .bind::<Text, _>(CHANNEL)
            .get_result(&mut conn)
            .await
            .map_err(map_diesel)?;
        let mut offset = last.last_offset - count;
        for i in members {
            results[i] = jobs[i]
                .events
                .iter()
                .map(|e| {
                    offset += 1;
                    Event {
                        id: e.id,
                        offset,
                        topic: e.topic.as_str().to_owned(),
                        key: e.key.clone(),
                        headers: e.headers.clone(),
                        payload: e.payload.clone(),
                        published_at: now,
                    }
                })
                .collect();
        }
    }
    Ok(results)
}

/// Turns notifications from every process into local wake-ups; reconnects with backoff.
async fn listen(database_url: String, hub: Arc<Hub>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match AsyncPgConnection::establish(&database_url).await {
            Ok(mut conn) => {
                if diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await.is_ok() {
                    backoff = Duration::from_millis(100);
                    // Anything committed while we were not listening: let subscribers re-read.
                    hub.wake_all();
                    let mut notifications = std::pin::pin!(conn.notifications_stream());
                    while let Some(Ok(n)) = notifications.next().await {
                        if let Some((project, offset)) = n.payload.split_once(':')
                            && let (Ok(project), Ok(offset)) =
                                (project.parse::<ProjectId>(), offset.parse::<i64>())
                        {
                            hub.advance(project, offset);
                        }
                    }
                }
                tracing::warn!("event notification connection lost; reconnecting");
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for event notifications"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = zerodb_events)]
pub(crate) struct EventRow {
    event_offset: i64,
    event_id: Uuid,
    topic: String,
    event_key: Option<String>,
    headers: Value,
    event_payload: Value,
    published_at: DateTime<Utc>,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Event {
            id: r.event_id,
            offset: r.event_offset,
            topic: r.topic,
            key: r.event_key,
            headers: match r.headers {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            payload: r.event_payload,
            published_at: r.published_at,
        }
    }
}

#[async_trait]
impl EventBus for PgEventBus {
    async fn publish(
        &self,
        project_id: ProjectId,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Event>, RepositoryError> {
        let (reply, answer) = oneshot::channel();
        let writer = project_id.as_uuid().as_u128() as usize % self.queues.len().max(1);
        self.queues[writer]
            .send(Job { project_id, events, reply })
            .await
            .map_err(|_| RepositoryError::Unavailable(Cause::msg("event writer stopped")))?;
        answer
            .await
            .map_err(|_| RepositoryError::Unavailable(Cause::msg("event writer stopped")))?
    }

    async fn read(
        &self,
        project_id: ProjectId,
        filter: &EventFilter,
        limit: u32,
    ) -> Result<Vec<Event>, RepositoryError> {
        use zerodb_events::dsl as e;
        let mut query = e::zerodb_events
            .filter(e::project_id.eq(project_id.as_uuid()))
            .filter(e::event_offset.gt(filter.after_offset))
            .select(EventRow::as_select())
            .order(e::event_offset.asc())
            .limit(i64::from(limit))
            .into_boxed();
        if let Some(topic) = &filter.topic {
            query = query.filter(e::topic.eq(topic.as_str().to_owned()));
        }
        if let Some(since) = filter.since {
            query = query.filter(e::published_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(e::published_at.lt(until));
        }
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<EventRow> = query.load(&mut conn).await.map_err(map_diesel)?;
        Ok(rows.into_iter().map(Event::from).collect())
    }

    async fn last_offset(&self, project_id: ProjectId) -> Result<i64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let last: Option<i64> = zerodb_event_offsets::table
            .find(project_id.as_uuid())
            .select(zerodb_event_offsets::last_offset)
            .first(&mut conn)
            .await
            .optional()
            .map_err(map_diesel)?;
        Ok(last.unwrap_or(0))
    }

    fn known_last_offset(&self, project_id: ProjectId) -> i64 {
        *self.hub.sender(project_id).borrow()
    }

    async fn wait_for_events(&self, project_id: ProjectId, after_offset: i64, timeout: Duration) {
        let mut receiver = self.hub.sender(project_id).subscribe();
        if *receiver.borrow_and_update() > after_offset {
            return;
        }
        let _ = tokio::time::timeout(timeout, receiver.changed()).await;
    }

    async fn commit_offset(
        &self,
        project_id: ProjectId,
        group: &TopicName,
        topic: &TopicName,
        offset: i64,
    ) -> Result<(), RepositoryError> {
        use zerodb_event_consumers::dsl as c;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        diesel::insert_into(c::zerodb_event_consumers)
            .values((
                c::project_id.eq(project_id.as_uuid()),
                c::group_name.eq(group.as_str()),
                c::topic.eq(topic.as_str()),
                c::committed_offset.eq(offset),
            ))
            .on_conflict((c::project_id, c::group_name, c::topic))
            .do_update()
            .set((
                c::committed_offset.eq(excluded(c::committed_offset)),
                c::updated_at.eq(diesel::dsl::now),
            ))
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(map_diesel)
    }

    async fn consumer_offsets(
        &self,
        project_id: ProjectId,
        group: &TopicName,
    ) -> Result<Vec<ConsumerOffset>, RepositoryError> {
        use zerodb_event_consumers::dsl as c;
        let mut conn = self.pool.get().await.map_err(map_pool)?;
        let rows: Vec<(String, i64, DateTime<Utc>)> = c::zerodb_event_consumers
            .filter(c::project_id.eq(project_id.as_uuid()))
            .filter(c::group_name.eq(group.as_str()))
            .select((c::topic, c::committed_offset, c::updated_at))
            .order(c::topic.asc())
            .load(&mut conn)
            .await
            .map_err(map_diesel)?;
        Ok(rows
            .into_iter()
            .map(|(topic, committed_offset, updated_at)| ConsumerOffset {
                topic,
                committed_offset,
                updated_at,
            })
            .collect())
    }
}
