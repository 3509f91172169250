//! The event log: publish, list, follow live over Server-Sent Events, consumer groups.

use super::ListResponse;
use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::{Caller, Credential};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use zerodb_domain::ProjectId;
use zerodb_domain::events::{Event, EventInput};
use zerodb_domain::pagination::PageRequest;
use zerodb_domain::services::EventStart;
use zerodb_domain::services::Submission;

/// The pattern of topic and consumer group names, for the OpenAPI document.
pub const TOPIC_PATTERN: &str = "^[A-Za-z0-9._-]{1,249}$";

/// Events read from the database per round of a stream.
const STREAM_BATCH: u32 = 500;
/// Frames buffered per stream before the producer waits for the client.
const STREAM_BUFFER: usize = 256;

pub fn config(cfg: &mut web::ServiceConfig) {
    let base = "/projects/{project_id}/database/events";
    cfg.service(super::resource(base).route(web::get().to(list_events)))
        .service(super::resource(&format!("{base}/publish")).route(web::post().to(publish_event)))
        .service(
            super::resource(&format!("{base}/publish-batch")).route(web::post().to(publish_events)),
        )
        .service(super::resource(&format!("{base}/stream")).route(web::get().to(stream_events)))
        .service(
            super::resource(&format!("{base}/consumers/{{group}}"))
                .route(web::get().to(get_consumer)),
        )
        .service(
            super::resource(&format!("{base}/consumers/{{group}}/commit"))
                .route(web::post().to(commit_consumer)),
        );
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishEventRequest {
    /// `[A-Za-z0-9._-]{1,249}`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,249}$")]
    pub topic: String,
    /// Any JSON value within the configured size.
    #[schema(value_type = Object)]
    pub event_payload: Value,
    /// Optional partitioning key.
    #[schema(min_length = 1, max_length = 256)]
    pub key: Option<String>,
    /// String values only.
    #[schema(value_type = Option<Object>)]
    pub headers: Option<Map<String, Value>>,
}

impl From<PublishEventRequest> for EventInput {
    fn from(r: PublishEventRequest) -> Self {
        EventInput { topic: r.topic, payload: r.event_payload, key: r.key, headers: r.headers }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishEventsRequest {
    /// 1..=1000 events, published atomically with consecutive offsets.
    #[schema(min_items = 1, max_items = 1000)]
    pub events: Vec<PublishEventRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub event_id: Uuid,
    pub offset: i64,
    pub topic: String,
    pub key: Option<String>,
    #[schema(value_type = Object)]
    pub headers: Map<String, Value>,
    #[schema(value_type = Object)]
    pub event_payload: Value,
    pub published_at: DateTime<Utc>,
}

impl From<Event> for EventResponse {
    fn from(e: Event) -> Self {
        Self {
            event_id: e.id,
            offset: e.offset,
            topic: e.topic,
            key: e.key,
            headers: e.headers,
            event_payload: e.payload,
            published_at: e.published_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedEventsResponse {
    pub published: usize,
    pub events: Vec<EventResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    #[param(pattern = "^[A-Za-z0-9._-]{1,249}$")]
    pub topic: Option<String>,
    /// First offset to return (inclusive).
    #[param(minimum = 0)]
    pub from_offset: Option<i64>,
    /// Start after this consumer group's committed offset (needs `topic`).
    #[param(pattern = "^[A-Za-z0-9._-]{1,249}$")]
    pub consumer: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    #[param(pattern = "^[A-Za-z0-9._-]{1,249}$")]
    pub topic: Option<String>,
    /// First offset to deliver (inclusive); ignored when `Last-Event-ID` is sent.
    #[param(minimum = 0)]
    pub from_offset: Option<i64>,
    /// Start after this consumer group's committed offset (needs `topic`).
    #[param(pattern = "^[A-Za-z0-9._-]{1,249}$")]
    pub consumer: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,249}$")]
    pub topic: String,
    /// The last offset the group has processed.
    #[schema(minimum = 0)]
    pub offset: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumerOffsetResponse {
    pub topic: String,
    pub committed_offset: i64,
    /// Offsets between the commit and the log's newest (an upper bound of the events of
    /// this topic still to read: the log holds every topic).
    pub lag: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumerResponse {
    pub group: String,
    /// The newest offset of the project's log.
    pub last_offset: i64,
    pub offsets: Vec<ConsumerOffsetResponse>,
}

/// Publishes one event; answers once it is durable.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/events/publish", tag = "events",
    request_body = PublishEventRequest,
    responses((status = 201, body = EventResponse), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["events:write"])))]
pub async fn publish_event(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<PublishEventRequest>,
) -> Result<HttpResponse, ApiError> {
    let events = state
        .services
        .events
        .publish(&caller.0, *path, vec![body.into_inner().into()], Submission::Single)
        .await?;
    Ok(HttpResponse::Created().json(events.into_iter().next().map(EventResponse::from)))
}

/// Publishes up to 1000 events atomically.
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/events/publish-batch", tag = "events",
    request_body = PublishEventsRequest,
    responses((status = 201, body = PublishedEventsResponse), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["events:write"])))]
pub async fn publish_events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    body: web::Json<PublishEventsRequest>,
) -> Result<HttpResponse, ApiError> {
    let inputs = body.into_inner().events.into_iter().map(EventInput::from).collect();
    let events = state.services.events.publish(&caller.0, *path, inputs, Submission::Batch).await?;
    Ok(HttpResponse::Created().json(PublishedEventsResponse {
        published: events.len(),
        events: events.into_iter().map(EventResponse::from).collect(),
    }))
}

/// Lists events in offset order.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/events", tag = "events", params(EventParams),
    responses((status = 200, body = ListResponse<EventResponse>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["events:read"])))]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let start = EventStart {
        from_offset: params.from_offset,
        after_offset: None,
        consumer: params.consumer,
    };
    let page = state
        .services
        .events
        .list(&caller.0, *path, params.topic.as_deref(), start, params.since, params.until, page)
        .await?;
    Ok(HttpResponse::Ok().json(ListResponse::from_page(page, EventResponse::from)))
}

/// Follows the log as Server-Sent Events: `id:` is the offset and `data:` the event as JSON.
/// History from the start position is replayed, then live events follow with no gap and no
/// duplicate. Reconnect with `Last-Event-ID` to resume right after the last event seen.
/// Comments (`: keep-alive`) keep idle connections open; a client that stops reading is
/// disconnected.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/events/stream", tag = "events", params(StreamParams),
    responses((status = 200, content_type = "text/event-stream", body = String), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["events:read"])))]
pub async fn stream_events(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ProjectId>,
    params: web::Query<StreamParams>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let project = *path;
    let last_event_id =
        request.headers().get("last-event-id").and_then(|v| v.to_str().ok()).map(str::trim);
    let start = match last_event_id {
        Some(id) => EventStart {
            after_offset: Some(id.parse().map_err(|_| {
                zerodb_domain::ServiceError::invalid("Last-Event-ID", "must be an event offset")
            })?),
            ..EventStart::default()
        },
        None => EventStart {
            from_offset: params.from_offset,
            after_offset: None,
            consumer: params.consumer.clone(),
        },
    };
    let mut filter = state
        .services
        .events
        .start(&caller.0, project, params.topic.as_deref(), &start, None, None)
        .await?;
    let credential = Credential::from_request(&request)?;
    let settings = state.stream;
    let Some(slot) = StreamSlot::take(&state, project, settings.max_per_project) else {
        let mut err = ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "the project already has {} open event streams; close one or retry later",
                settings.max_per_project
            ),
        );
        err.retry_after = Some(settings.recheck.as_secs().max(1));
        return Err(err);
    };
    let (frames, receiver) = mpsc::channel::<web::Bytes>(STREAM_BUFFER);
    let state = state.clone();
    actix_web::rt::spawn(async move {
        let _slot = slot;
        let _open = state.metrics.stream_opened();
        let mut next_check = Instant::now() + settings.recheck;
        let mut last_frame = Instant::now();
        loop {
            if Instant::now() >= next_check {
                // A revoked key, an expired token or a deleted project ends the stream.
                if let Err(e) = still_allowed(&state, &credential, project).await {
                    let data = serde_json::to_string(&e.body()).unwrap_or_default();
                    let frame = web::Bytes::from(format!("event: error\ndata: {data}\n\n"));
                    let _ = frames.send_timeout(frame, settings.slow_consumer_timeout).await;
                    return;
                }
                next_check = Instant::now() + settings.recheck;
            }
            // Read before the query: every event at or below it is visible to the query.
            let known = state.services.events.known_last_offset(project);
            state.metrics.stream_read();
            let events =
                match state.services.events.next_events(project, &filter, STREAM_BATCH).await {
                    Ok(events) => events,
                    Err(e) => {
                        tracing::warn!(error = %e, "event stream ends: read failed");
                        return;
                    }
                };
            let full = events.len() == STREAM_BATCH as usize;
            for event in events {
                let offset = event.offset;
                let data = serde_json::to_string(&EventResponse::from(event)).unwrap_or_default();
                let frame = web::Bytes::from(format!("id: {offset}\ndata: {data}\n\n"));
                match frames.send_timeout(frame, settings.slow_consumer_timeout).await {
                    Ok(()) => {
                        filter.after_offset = offset;
                        last_frame = Instant::now();
                    }
                    Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                        tracing::info!(%project, "disconnecting a consumer that stopped reading");
                        return;
                    }
                    Err(mpsc::error::SendTimeoutError::Closed(_)) => return,
                }
            }
            if full {
                continue;
            }
            // Nothing else up to `known` matches this stream's filter: skip past it, or the
            // wait below would return at once for events of other topics, forever.
            filter.after_offset = filter.after_offset.max(known);
            let before = filter.after_offset;
            let until_check = next_check.saturating_duration_since(Instant::now());
            let keep_alive_due = settings
                .heartbeat
                .saturating_sub(last_frame.elapsed())
                .max(Duration::from_millis(1));
            state.services.events.wait(project, before, until_check.min(keep_alive_due)).await;
            if frames.is_closed() {
                return;
            }
            // A keep-alive at each heartbeat, and at each re-check: writing is how a client
            // that went away is noticed, so its slot frees within one re-check.
            if last_frame.elapsed() >= settings.heartbeat || Instant::now() >= next_check {
                if frames.try_send(web::Bytes::from_static(b": keep-alive\n\n")).is_err()
                    && frames.is_closed()
                {
                    return;
                }
                last_frame = Instant::now();
            }
        }
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|frame| (Ok::<_, actix_web::Error>(frame), receiver))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

/// Checks that the stream's credential still authenticates and still reaches the project.
async fn still_allowed(
    state: &AppState,
    credential: &Credential,
    project: ProjectId,
) -> Result<(), ApiError> {
    let (principal, _) = credential.authenticate(state).await?;
    state.services.events.check_read_access(&principal, project).await?;
    Ok(())
}

/// Records a consumer group's position in a topic (the last offset it processed).
#[utoipa::path(post, path = "/api/v1/projects/{project_id}/database/events/consumers/{group}/commit", tag = "events",
    request_body = CommitRequest,
    responses((status = 200, body = ConsumerResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["events:read"])))]
pub async fn commit_consumer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, String)>,
    body: web::Json<CommitRequest>,
) -> Result<HttpResponse, ApiError> {
    let (project, group) = path.into_inner();
    state.services.events.commit(&caller.0, project, &group, &body.topic, body.offset).await?;
    consumer_response(&state, &caller, project, group).await
}

async fn consumer_response(
    state: &AppState,
    caller: &Caller,
    project: ProjectId,
    group: String,
) -> Result<HttpResponse, ApiError> {
    let (offsets, last_offset) = state.services.events.consumer(&caller.0, project, &group).await?;
    let offsets = offsets
        .into_iter()
        .map(|o| ConsumerOffsetResponse {
            lag: (last_offset - o.committed_offset).max(0),
            topic: o.topic,
            committed_offset: o.committed_offset,
            updated_at: o.updated_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ConsumerResponse { group, last_offset, offsets }))
}

/// A consumer group's committed offsets.
#[utoipa::path(get, path = "/api/v1/projects/{project_id}/database/events/consumers/{group}", tag = "events",
    responses((status = 200, body = ConsumerResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["events:read"])))]
pub async fn get_consumer(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProjectId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (project, group) = path.into_inner();
    consumer_response(&state, &caller, project, group).await
}

/// Timing of live streams.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// Idle time after which a keep-alive comment is sent.
    pub heartbeat: Duration,
    /// How long a stream waits for a client that stopped reading before dropping it.
    pub slow_consumer_timeout: Duration,
    /// Most streams one project may hold open at once.
    pub max_per_project: usize,
    /// How often an open stream re-checks its credential and access.
    pub recheck: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            slow_consumer_timeout: Duration::from_secs(30),
            max_per_project: 64,
            recheck: Duration::from_secs(5),
        }
    }
}

/// The streams open per project in this process, to cap them.
#[derive(Debug, Default)]
pub struct OpenStreams {
    counts: std::sync::Mutex<std::collections::HashMap<ProjectId, usize>>,
}

/// One project's open stream; the count drops with it.
pub struct StreamSlot {
    streams: web::Data<AppState>,
    project: ProjectId,
}

impl OpenStreams {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<ProjectId, usize>> {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl StreamSlot {
    /// Takes a slot unless the project already holds `max` streams.
    fn take(state: &web::Data<AppState>, project: ProjectId, max: usize) -> Option<Self> {
        let mut counts = state.open_streams.lock();
        let open = counts.entry(project).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(Self { streams: state.clone(), project })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut counts = self.streams.open_streams.lock();
        if let Some(open) = counts.get_mut(&self.project) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.remove(&self.project);
            }
        }
    }
}
