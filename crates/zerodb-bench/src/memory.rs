//! `zerodb-bench memory`: memories stored through the HTTP API across many agents, then
//! search latency (p50/p95/p99) and QPS per mode (semantic, lexical, hybrid).

use crate::kit::server::BenchServer;
use crate::kit::{BenchError, percentile};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{MemorySearch, NewMemory};
use zerodb_server::config::Settings;

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
    let bench = BenchServer::start(settings, |s| {
        s.database.max_connections = s.database.max_connections.max(32);
    })
    .await?;
    let (url, client, project) = (bench.url.clone(), bench.client.clone(), bench.project);
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
        "zerodb-bench memory against {url}: stored {} memories over {} agents in {:.1} s ({:.0}/s, {} clients, {} per request, built-in embeddings)",
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
    bench.stop().await;
    Ok(())
}
