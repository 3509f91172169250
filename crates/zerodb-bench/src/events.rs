//! `zerodb-bench events`: publish throughput, publish-to-subscriber latency and concurrent
//! streams, measured through the real HTTP API.

use crate::kit::load::LoadConnection;
use crate::kit::server::{bench_project, in_process_settings};
use crate::kit::{BenchError, percentile};
use futures_util::StreamExt;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{EventQuery, NewEvent};
use zerodb_server::config::Settings;
use zerodb_server::startup::{Application, Database, jwt_secret};

#[derive(Debug, Clone, clap::Args)]
pub struct EventBenchOptions {
    /// Benchmark a running server instead of starting one in-process.
    #[arg(long)]
    pub url: Option<String>,
    /// Seconds per throughput measurement.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent publishers for the single-event runs.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 16, 64])]
    pub clients: Vec<usize>,
    /// Events timed from publish to delivery.
    #[arg(long, default_value_t = 500)]
    pub latency_events: usize,
    /// Concurrent SSE connections to open.
    #[arg(long, default_value_t = 1000)]
    pub streams: usize,
}

pub(crate) struct Run {
    pub(crate) events: u64,
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
    pub(crate) latencies_ms: Vec<f64>,
}

/// Where the throughput runs send their load.
pub(crate) struct LoadTarget {
    addr: SocketAddr,
    authorization: String,
    project: Uuid,
}

impl LoadTarget {
    pub(crate) fn new(base_url: &str, token: &str, project: Uuid) -> Result<Self, BenchError> {
        let url = reqwest::Url::parse(base_url).map_err(|e| BenchError::Setup(e.to_string()))?;
        let addr = url
            .socket_addrs(|| Some(80))
            .ok()
            .and_then(|addrs| addrs.into_iter().next())
            .ok_or_else(|| BenchError::Setup(format!("cannot resolve {base_url}")))?;
        Ok(Self { addr, authorization: format!("Bearer {token}"), project })
    }
}

/// `clients` connections publish `batch` events per request (the single-event endpoint when
/// `batch` is 1) for `seconds`, each waiting for its answer before the next request.
pub(crate) async fn publish_for(
    target: &LoadTarget,
    clients: usize,
    batch: usize,
    seconds: u64,
) -> Run {
    let events = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let base = format!("/api/v1/projects/{}/database/events", target.project);
    let path = if batch == 1 { format!("{base}/publish") } else { format!("{base}/publish-batch") };
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        match LoadConnection::open(target.addr, path.clone(), target.authorization.clone()).await {
            Ok(connection) => connections.push(connection),
            Err(_) => {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (worker, mut connection) in connections.into_iter().enumerate() {
        let (events, errors) = (events.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let body = if batch == 1 {
                    json!({"topic": "bench", "event_payload": {"worker": worker, "n": n}})
                } else {
                    let batch: Vec<_> = (0..batch)
                        .map(|i| {
                            json!({"topic": "bench", "event_payload": {"worker": worker, "n": n, "i": i}})
                        })
                        .collect();
                    json!({ "events": batch })
                };
                let body = serde_json::to_vec(&body).unwrap_or_default();
                let sent = Instant::now();
                let acknowledged = connection.publish(body).await;
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                if acknowledged == batch as u64 {
                    events.fetch_add(acknowledged, Ordering::Relaxed);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
            latencies
        }));
    }
    let mut latencies_ms = Vec::new();
    for task in tasks {
        latencies_ms.extend(task.await.unwrap_or_default());
    }
    latencies_ms.sort_by(f64::total_cmp);
    Run {
        events: events.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        latencies_ms,
    }
}

pub async fn run_events(settings: Settings, options: EventBenchOptions) -> Result<(), BenchError> {
    // In-process server unless a URL is given; the embedded cluster keeps fsync on.
    let mut _server_dir = None;
    let mut database = None;
    let base_url = match &options.url {
        Some(url) => url.clone(),
        None => {
            let (settings, dir) = in_process_settings(settings)?;
            _server_dir = dir;
            let db = Database::connect(&settings).await?;
            let secret = jwt_secret(&settings)?;
            let app = Application::build(&settings, &db, &secret, false)?;
            let url = format!("http://127.0.0.1:{}", app.port());
            tokio::spawn(app.run_until_stopped());
            database = Some(db);
            url
        }
    };
    let (client, token, project) = bench_project(&base_url).await?;

    // Warm-up, unmeasured: opens pooled connections on both sides.
    let target = LoadTarget::new(&base_url, &token, project)?;
    let warmup = options.clients.iter().copied().max().unwrap_or(1);
    let warmup_run = publish_for(&target, warmup, 1, 2).await;
    let (mut acknowledged, mut failed) = (warmup_run.events, warmup_run.errors);
    println!("zerodb-bench events against {base_url} ({} s per run)", options.seconds);
    println!("{:<28} {:>12} {:>8} {:>10} {:>10}", "run", "events/s", "errors", "p50 ms", "p95 ms");
    for &clients in &options.clients {
        let run = publish_for(&target, clients, 1, options.seconds).await;
        print_run(&format!("single, {clients} clients"), &run);
        (acknowledged, failed) = (acknowledged + run.events, failed + run.errors);
    }
    let run = publish_for(&target, 4, 1000, options.seconds).await;
    print_run("batch of 1000, 4 clients", &run);
    (acknowledged, failed) = (acknowledged + run.events, failed + run.errors);

    // Every acknowledged event is in the log, and nothing else: the last offset equals the
    // count (when no request failed, which could have committed unseen).
    let tail = client
        .list_events(
            project,
            &EventQuery { from_offset: Some(acknowledged as i64), ..Default::default() },
        )
        .await?;
    let last_offset = tail.items.last().map_or(0, |e| e.offset);
    println!(
        "log check: {acknowledged} events acknowledged, last offset {last_offset}{}",
        if failed == 0 && last_offset != acknowledged as i64 { " (MISMATCH)" } else { "" }
    );

    // Publish-to-subscriber latency: one subscriber, events published one at a time.
    let mut stream = client
        .stream_events(
            project,
            &EventQuery { topic: Some("latency".into()), ..Default::default() },
            None,
        )
        .await?;
    let mut delays = Vec::with_capacity(options.latency_events);
    for n in 0..options.latency_events {
        let sent = Instant::now();
        client.publish_event(project, &NewEvent::new("latency", json!({"n": n}))).await?;
        match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Ok(Some(Ok(_))) => delays.push(sent.elapsed().as_secs_f64() * 1000.0),
            _ => return Err(BenchError::Setup("subscriber missed an event".into())),
        }
    }
    drop(stream);
    delays.sort_by(f64::total_cmp);
    println!(
        "publish-to-subscriber latency over {} events: p50 {:.2} ms, p95 {:.2} ms",
        delays.len(),
        percentile(&delays, 50.0),
        percentile(&delays, 95.0)
    );

    // Concurrent streams: open them all, publish one event, count deliveries.
    let opened = Instant::now();
    let mut streams = Vec::with_capacity(options.streams);
    let mut open_errors = 0;
    let query = EventQuery { topic: Some("fanout".into()), ..Default::default() };
    for chunk in (0..options.streams).collect::<Vec<_>>().chunks(100) {
        let results = futures_util::future::join_all(
            chunk.iter().map(|_| client.stream_events(project, &query, None)),
        )
        .await;
        for r in results {
            match r {
                Ok(s) => streams.push(s),
                Err(_) => open_errors += 1,
            }
        }
    }
    let open_time = opened.elapsed();
    let sent = Instant::now();
    client.publish_event(project, &NewEvent::new("fanout", json!({"hello": "everyone"}))).await?;
    let deliveries = futures_util::future::join_all(
        streams.iter_mut().map(|s| tokio::time::timeout(Duration::from_secs(10), s.next())),
    )
    .await;
    let delivered = deliveries.iter().filter(|d| matches!(d, Ok(Some(Ok(_))))).count();
    println!(
        "concurrent SSE streams: {} open ({} failed to open, {:.1} s to open), {} received the event ({:.0} ms for all)",
        streams.len(),
        open_errors,
        open_time.as_secs_f64(),
        delivered,
        sent.elapsed().as_secs_f64() * 1000.0
    );
    drop(streams);
    if let Some(db) = database {
        db.pool.close();
        db.shutdown().await;
    }
    Ok(())
}

pub(crate) fn print_run(name: &str, run: &Run) {
    println!(
        "{:<28} {:>12.0} {:>8} {:>10.2} {:>10.2}",
        name,
        run.events as f64 / run.elapsed.as_secs_f64(),
        run.errors,
        percentile(&run.latencies_ms, 50.0),
        percentile(&run.latencies_ms, 95.0)
    );
}
