//! `zerodb-bench kafka`: publish throughput with the Kafka relay off and on, the outbox's
//! backlog under that load, and how fast the relay drains a standing backlog.

use crate::events::{LoadTarget, print_run, publish_for};
use crate::kit::server::{bench_project, in_process_settings};
use crate::kit::{BenchError, percentile};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zerodb_domain::relay::EventOutbox;
use zerodb_server::config::{EventBackend, Settings};
use zerodb_server::startup::{Application, Database, jwt_secret};

#[derive(Debug, Clone, clap::Args)]
pub struct KafkaBenchOptions {
    /// Bootstrap brokers of a running Kafka-protocol broker, comma-separated.
    #[arg(long)]
    pub brokers: String,
    /// Seconds per throughput measurement.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent publishers for the single-event runs.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
}

/// Backlog samples taken every 100 ms: (events waiting, age of the oldest in ms).
struct Lag {
    events: Vec<f64>,
    age_ms: Vec<f64>,
}

fn sample_lag(outbox: Arc<dyn EventOutbox>, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Lag> {
    tokio::spawn(async move {
        let mut lag = Lag { events: Vec::new(), age_ms: Vec::new() };
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Ok(backlog) = outbox.backlog().await {
                lag.events.push(backlog.events as f64);
                lag.age_ms.push(backlog.oldest_age(chrono::Utc::now()).as_secs_f64() * 1000.0);
            }
        }
        lag.events.sort_by(f64::total_cmp);
        lag.age_ms.sort_by(f64::total_cmp);
        lag
    })
}

/// Waits until the outbox is empty; the time it took.
async fn drain(outbox: &Arc<dyn EventOutbox>) -> Result<Duration, BenchError> {
    let started = Instant::now();
    loop {
        let backlog = outbox.backlog().await.map_err(|e| BenchError::Setup(e.to_string()))?;
        if backlog.events == 0 {
            return Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(BenchError::Setup(format!(
                "{} events still waiting after 600 s",
                backlog.events
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Started {
    url: String,
    handle: actix_web::dev::ServerHandle,
    stopped: tokio::task::JoinHandle<std::io::Result<()>>,
    outbox: Option<Arc<dyn EventOutbox>>,
}

fn start(settings: &Settings, db: &Database) -> Result<Started, BenchError> {
    let secret = jwt_secret(settings)?;
    let app = Application::build(settings, db, &secret, false)?;
    let url = format!("http://127.0.0.1:{}", app.port());
    let (handle, outbox) = (app.handle(), app.event_outbox());
    let stopped = tokio::spawn(app.run_until_stopped());
    Ok(Started { url, handle, stopped, outbox })
}

async fn runs(
    label: &str,
    target: &LoadTarget,
    options: &KafkaBenchOptions,
    outbox: Option<&Arc<dyn EventOutbox>>,
) -> Result<(), BenchError> {
    for (name, clients, batch) in [
        (format!("single, {} clients, {label}", options.clients), options.clients, 1),
        (format!("batch of 1000, 4 clients, {label}"), 4, 1000),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = outbox.map(|o| sample_lag(o.clone(), stop.clone()));
        let run = publish_for(target, clients, batch, options.seconds).await;
        stop.store(true, Ordering::Relaxed);
        print_run(&name, &run);
        if let (Some(sampler), Some(outbox)) = (sampler, outbox) {
            let lag = sampler.await.map_err(|e| BenchError::Setup(e.to_string()))?;
            let drained = drain(outbox).await?;
            println!(
                "  outbox backlog during the run: events p50 {:.0} / max {:.0}; oldest waiting p50 {:.0} ms / max {:.0} ms; empty {:.0} ms after the load stopped",
                percentile(&lag.events, 50.0),
                lag.events.last().copied().unwrap_or(0.0),
                percentile(&lag.age_ms, 50.0),
                lag.age_ms.last().copied().unwrap_or(0.0),
                drained.as_secs_f64() * 1000.0
            );
        }
    }
    Ok(())
}

pub async fn run_kafka(settings: Settings, options: KafkaBenchOptions) -> Result<(), BenchError> {
    let (mut settings, _dir) = in_process_settings(settings)?;
    settings.events.backend = EventBackend::Postgres;
    let db = Database::connect(&settings).await?;
    let off = start(&settings, &db)?;

    let (_client, token, project) = bench_project(&off.url).await?;

    println!("zerodb-bench kafka, brokers {} ({} s per run)", options.brokers, options.seconds);
    println!("{:<40} {:>12} {:>8} {:>10} {:>10}", "run", "events/s", "errors", "p50 ms", "p95 ms");
    let target = LoadTarget::new(&off.url, &token, project)?;
    let _ = publish_for(&target, options.clients, 1, 2).await;
    runs("relay off", &target, &options, None).await?;
    off.handle.stop(true).await;
    let _ = off.stopped.await;

    // The same database with the relay on: first it delivers everything published so far.
    settings.events.backend = EventBackend::Kafka;
    settings.events.kafka.brokers = Some(options.brokers.clone());
    let on = start(&settings, &db)?;
    let outbox =
        on.outbox.clone().ok_or_else(|| BenchError::Setup("the relay did not start".into()))?;
    let standing = outbox.backlog().await.map_err(|e| BenchError::Setup(e.to_string()))?.events;
    let took = drain(&outbox).await?;
    println!(
        "relay catch-up: {standing} waiting events delivered in {:.2} s ({:.0} events/s)",
        took.as_secs_f64(),
        standing as f64 / took.as_secs_f64().max(1e-9)
    );
    let target = LoadTarget::new(&on.url, &token, project)?;
    let _ = publish_for(&target, options.clients, 1, 2).await;
    drain(&outbox).await?;
    runs("relay on", &target, &options, Some(&outbox)).await?;
    on.handle.stop(true).await;
    let _ = on.stopped.await;
    db.pool.close();
    db.shutdown().await;
    Ok(())
}
