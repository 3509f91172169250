//! `zerodb bench memory`: memories stored through the HTTP API across many agents, then
//! search latency (p50/p95/p99) and QPS per mode (semantic, lexical, hybrid).

use crate::bench::{BenchError, percentile};
use crate::config::{Secret, Settings};
use crate::startup::{Application, Database, jwt_secret};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{Client, MemorySearch, NewMemory};

#[derive(Debug, Clone, clap::Args)]
pub struct MemoryBenchOptions {
    /// Memories to store.
    #[arg(long, default_value_t = 100_000)]
    pub count: usize,
    /// Agents they are spread over.
    #[arg(long, default_value_t = 100)]
    pub agents: usize,
    /// Concurrent clients while storing.
    #[arg(long, default_value_t = 4)]
    pub writers: usize,
    /// Memories per store request (1 uses `memory/store`, more `memory/store-batch`).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Searches per mode for the latency figures.
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
    /// Seconds per QPS run.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
}

const WORDS: [&str; 48] = [
    "invoice", "payment", "deadline", "meeting", "server", "deploy", "rollback", "customer",
    "refund", "password", "backup", "database", "latency", "report", "budget", "contract",
    "travel", "flight", "hotel", "schedule", "vacation", "birthday", "coffee", "lunch", "project",
    "roadmap", "bug", "feature", "release", "review", "design", "metrics", "alert", "incident",
    "ticket", "support", "email", "calendar", "reminder", "weather", "train", "doctor", "gym",
    "recipe", "garden", "music", "movie", "book",
];

/// A reproducible sentence for memory `i`.
fn sentence(i: usize) -> String {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        WORDS[(x % WORDS.len() as u64) as usize]
    };
    format!(
        "Note {i}: the {} about the {} needs a {} before the {} (ref {}{})",
        next(),
        next(),
        next(),
        next(),
        next(),
        i % 9973
    )
}

pub async fn run_memory(settings: Settings, options: MemoryBenchOptions) -> Result<(), BenchError> {
    let dir = tempfile::tempdir().map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut settings = settings;
    if settings.database.url.is_none() {
        settings.data_dir = dir.path().to_path_buf();
    }
    settings.server.port = 0;
    settings.rate_limit.enabled = false;
    settings.database.max_connections = settings.database.max_connections.max(32);
    if settings.auth.jwt_secret.is_none() {
        settings.auth.jwt_secret = Some(Secret::new(Uuid::new_v4().simple().to_string().repeat(2)));
    }
    let db = Database::connect(&settings).await?;
    let secret = jwt_secret(&settings)?;
    let app = Application::build(&settings, &db, &secret, false)?;
    let url = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    let anonymous = Client::new(&url);
    let email = format!("bench-{}@example.com", Uuid::new_v4().simple());
    anonymous.register(&email, "bench password").await?;
    let token = anonymous.login(&email, "bench password").await?.access_token;
    let client = anonymous.with_token(&token);
    let project = client
        .create_project(&format!("bench-{}", Uuid::new_v4().simple()), None)
        .await?
        .project_id;
    client.enable_database(project).await?;
    let agents: Arc<Vec<Uuid>> =
        Arc::new((0..options.agents.max(1)).map(|_| Uuid::now_v7()).collect());

    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..options.writers.max(1))
        .map(|_| {
            let (client, next, agents) = (client.clone(), next.clone(), agents.clone());
            let (count, batch) = (options.count, options.batch.clamp(1, 500));
            tokio::spawn(async move {
                loop {
                    let first = next.fetch_add(batch as u64, Ordering::Relaxed) as usize;
                    if first >= count {
                        return Ok::<(), BenchError>(());
                    }
                    let memories: Vec<NewMemory> = (first..count.min(first + batch))
                        .map(|i| {
                            let agent = agents[i % agents.len()];
                            let role = if i.is_multiple_of(2) { "user" } else { "assistant" };
                            let mut m = NewMemory::new(agent, agent, role, &sentence(i));
                            m.importance = Some((i % 10) as f32 / 10.0);
                            m
                        })
                        .collect();
                    if batch == 1 {
                        client.store_memory(project, &memories[0]).await?;
                    } else {
                        client.store_memories(project, &memories).await?;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| BenchError::Setup(e.to_string()))??;
    }
    let stored = started.elapsed();
    println!(
        "zerodb bench memory against {url}: stored {} memories over {} agents in {:.1} s ({:.0}/s, {} clients, {} per request, built-in embeddings)",
        options.count,
        agents.len(),
        stored.as_secs_f64(),
        options.count as f64 / stored.as_secs_f64(),
        options.writers,
        options.batch.clamp(1, 500)
    );
    println!("{:<10} {:>9} {:>9} {:>9} {:>9}", "mode", "p50 ms", "p95 ms", "p99 ms", "QPS");
    for mode in ["semantic", "lexical", "hybrid"] {
        let search = |i: usize| MemorySearch {
            query: Some(format!("{} {}", WORDS[i % WORDS.len()], WORDS[(i * 7 + 3) % WORDS.len()])),
            mode: Some(mode.into()),
            agent_id: Some(agents[i % agents.len()]),
            limit: Some(10),
            ..MemorySearch::default()
        };
        let mut latencies = Vec::with_capacity(options.queries);
        for i in 0..options.queries {
            let sent = Instant::now();
            client.search_memory(project, &search(i)).await?;
            latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        let deadline = Instant::now() + Duration::from_secs(options.seconds);
        let mut done = 0usize;
        let qps_started = Instant::now();
        while Instant::now() < deadline {
            client.search_memory(project, &search(done)).await?;
            done += 1;
        }
        println!(
            "{:<10} {:>9.2} {:>9.2} {:>9.2} {:>9.0}",
            mode,
            percentile(&latencies, 50.0),
            percentile(&latencies, 95.0),
            percentile(&latencies, 99.0),
            done as f64 / qps_started.elapsed().as_secs_f64()
        );
    }
    handle.stop(true).await;
    // The server task writes the index snapshot on its way out; let it finish first.
    let _ = server.await;
    db.pool.close();
    db.shutdown().await;
    Ok(())
}
