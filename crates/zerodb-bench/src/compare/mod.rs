//! `zerodb-bench compare`: ZeroDB, Qdrant and Chroma side by side on one data set, through
//! each one's REST API, driven by the same keep-alive load generator. Each system runs as
//! its own server (started by the operator; docs/benchmarks.md has the commands); a system
//! without a URL is left out.

mod systems;

use crate::kit::dataset::{from_dataset, ground_truth, read_fvecs, synthetic};
use crate::kit::http::JsonConnection;
use crate::kit::{BenchError, percentile};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use systems::{Hnsw, Target};
use uuid::Uuid;

#[derive(Debug, Clone, clap::Args)]
pub struct CompareOptions {
    /// A running ZeroDB (`zerodb serve`), e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub zerodb: Option<String>,
    /// A running Qdrant's REST API, e.g. http://127.0.0.1:6333.
    #[arg(long)]
    pub qdrant: Option<String>,
    /// A running ZeroDB with `vectors.backend = "qdrant"` on the `--qdrant` server, measured
    /// as a fourth system.
    #[arg(long, requires = "qdrant")]
    pub zerodb_qdrant: Option<String>,
    /// A running Chroma (`chroma run`), e.g. http://127.0.0.1:8000.
    #[arg(long)]
    pub chroma: Option<String>,
    /// Embeddings in TEXMEX .fvecs format; seeded synthetic clusters when absent.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Vectors to insert.
    #[arg(long, default_value_t = 50_000)]
    pub count: usize,
    /// Queries (drawn after the inserted vectors) for latency and recall.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Dimension of synthetic data (a data set keeps its own).
    #[arg(long, default_value_t = 384)]
    pub dim: usize,
    /// Vectors per insert request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Concurrent inserting clients.
    #[arg(long, default_value_t = 2)]
    pub ingest_clients: usize,
    /// Concurrent clients of the throughput runs.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 32])]
    pub clients: Vec<usize>,
    /// Seconds per throughput run.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// HNSW degree given to Qdrant and Chroma.
    #[arg(long, default_value_t = 16)]
    pub m: u32,
    /// HNSW construction candidates given to Qdrant and Chroma.
    #[arg(long, default_value_t = 64)]
    pub ef_construct: u32,
    /// HNSW search candidates given to Qdrant and Chroma.
    #[arg(long, default_value_t = 64)]
    pub ef: u32,
    /// Server processes whose resident memory goes in the table, as `system=pid`
    /// (`zerodb=123,qdrant=456,chroma=789`), read from /proc after each system's runs.
    #[arg(long, value_delimiter = ',')]
    pub pids: Vec<String>,
}

/// Resident memory of the process given for `system` in `--pids`, in MiB.
fn resident_mib(pids: &[String], system: &str) -> Option<f64> {
    let pid = pids.iter().find_map(|p| {
        let (name, pid) = p.split_once('=')?;
        name.eq_ignore_ascii_case(system).then(|| pid.trim().to_owned())
    })?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// What one system measured.
struct Row {
    name: &'static str,
    config: String,
    ingest_per_s: f64,
    recall: f64,
    latency_ms: [f64; 3],
    qps: Vec<(usize, f64, u64)>,
    rss_mib: Option<f64>,
}

/// The id of vector `i`, the same in every system within a run. The high half differs per
/// run: ZeroDB's vector ids are unique across projects, so a second run against the same
/// server must not reuse the first one's.
fn id(i: usize) -> Uuid {
    static RUN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let run = *RUN.get_or_init(|| Uuid::new_v4().as_u64_pair().0);
    Uuid::from_u64_pair(run, i as u64 + 1)
}

fn index(id: Uuid) -> usize {
    (id.as_u64_pair().1 as usize).wrapping_sub(1)
}

pub async fn run_compare(options: CompareOptions) -> Result<(), BenchError> {
    let wanted = options.count + options.queries;
    let mut data = match &options.dataset {
        Some(path) => {
            let base = read_fvecs(path)?;
            let dim = base.first().map_or(options.dim, Vec::len);
            from_dataset(&base, wanted, dim, 42)
        }
        None => synthetic(wanted, options.dim, 42),
    };
    let queries = data.split_off(options.count);
    let dim = data.first().map_or(0, Vec::len);
    println!(
        "zerodb-bench compare: {} vectors x {dim}, {} queries, data: {}",
        data.len(),
        queries.len(),
        options
            .dataset
            .as_ref()
            .map_or("synthetic clustered (seeded)".into(), |p| p.display().to_string())
    );
    let truth = ground_truth(&data, &queries);
    let data = Arc::new(data);
    let queries = Arc::new(queries);
    let hnsw = Hnsw { m: options.m, ef_construct: options.ef_construct, ef: options.ef };

    let mut rows = Vec::new();
    if let Some(url) = &options.zerodb {
        let target = systems::zerodb(url, dim, None).await?;
        rows.push(measure(target, &data, &queries, &truth, &options).await?);
    }
    if let Some(url) = &options.zerodb_qdrant {
        let target = systems::zerodb(url, dim, options.qdrant.as_deref()).await?;
        rows.push(measure(target, &data, &queries, &truth, &options).await?);
    }
    if let Some(url) = &options.qdrant {
        rows.push(
            measure(systems::qdrant(url, dim, hnsw).await?, &data, &queries, &truth, &options)
                .await?,
        );
    }
    if let Some(url) = &options.chroma {
        rows.push(
            measure(systems::chroma(url, hnsw).await?, &data, &queries, &truth, &options).await?,
        );
    }
    print_table(&rows, &options.clients);
    Ok(())
}

async fn measure(
    target: Target,
    data: &Arc<Vec<Vec<f32>>>,
    queries: &Arc<Vec<Vec<f32>>>,
    truth: &[Vec<usize>],
    options: &CompareOptions,
) -> Result<Row, BenchError> {
    let target = Arc::new(target);
    println!("\n== {} ({})", target.name, target.config);
    let ingest_per_s = ingest(&target, data, options).await?;
    println!("ingest: {ingest_per_s:.0} vectors/s (every batch durable when answered)");
    let settled = target.settle().await?;
    let ingest_secs = data.len() as f64 / ingest_per_s;
    println!(
        "indexed {:.2} s after the last write: {:.0} vectors/s from the first write to searchable in the graph",
        settled.as_secs_f64(),
        data.len() as f64 / (ingest_secs + settled.as_secs_f64())
    );

    // Latency and recall: every query once, one client.
    let mut connection = JsonConnection::open(target.addr, target.headers.clone())
        .await
        .map_err(BenchError::Setup)?;
    let mut latencies = Vec::with_capacity(queries.len());
    let mut found = 0usize;
    for (q, expected) in queries.iter().zip(truth) {
        let (method, path, body) = target.search(q, 10);
        let started = Instant::now();
        let (status, answer) =
            connection.send(method, &path, body).await.map_err(BenchError::Setup)?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            return Err(BenchError::Setup(format!("{} search: {status}", target.name)));
        }
        let hits = target.hits(&answer).map_err(BenchError::Setup)?;
        found += hits.iter().filter(|h| expected.contains(&index(**h))).count();
    }
    latencies.sort_by(f64::total_cmp);
    let recall = found as f64 / (10 * queries.len().max(1)) as f64;
    let latency_ms = [50.0, 95.0, 99.0].map(|p| percentile(&latencies, p));
    println!(
        "recall@10 {recall:.3}; 1 client p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        latency_ms[0], latency_ms[1], latency_ms[2]
    );
    let mut qps = Vec::new();
    for &clients in &options.clients {
        let (rate, errors) = throughput(&target, queries, clients, options.seconds).await;
        println!("QPS at {clients} clients: {rate:.0} ({errors} errors)");
        qps.push((clients, rate, errors));
    }
    Ok(Row {
        name: target.name,
        config: target.config.clone(),
        ingest_per_s,
        recall,
        latency_ms,
        qps,
        rss_mib: resident_mib(&options.pids, target.name),
    })
}

async fn ingest(
    target: &Arc<Target>,
    data: &Arc<Vec<Vec<f32>>>,
    options: &CompareOptions,
) -> Result<f64, BenchError> {
    let batch = options.batch.max(1);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..options.ingest_clients.max(1) {
        let (target, data, next) = (target.clone(), data.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = JsonConnection::open(target.addr, target.headers.clone()).await?;
            loop {
                let start = next.fetch_add(batch as u64, Ordering::Relaxed) as usize;
                if start >= data.len() {
                    return Ok::<(), String>(());
                }
                let end = (start + batch).min(data.len());
                let ids: Vec<Uuid> = (start..end).map(id).collect();
                let (method, path, body) = target.upsert(&ids, &data[start..end]);
                let (status, answer) = connection.send(method, &path, body).await?;
                if !status.is_success() {
                    return Err(format!("insert: {status} {}", String::from_utf8_lossy(&answer)));
                }
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| BenchError::Setup(e.to_string()))?.map_err(BenchError::Setup)?;
    }
    Ok(data.len() as f64 / started.elapsed().as_secs_f64())
}

/// Searches per second with `clients` connections for `seconds`; errors counted apart.
async fn throughput(
    target: &Arc<Target>,
    queries: &Arc<Vec<Vec<f32>>>,
    clients: usize,
    seconds: u64,
) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|worker| {
            let (target, queries, done, errors) =
                (target.clone(), queries.clone(), done.clone(), errors.clone());
            tokio::spawn(async move {
                let Ok(mut connection) =
                    JsonConnection::open(target.addr, target.headers.clone()).await
                else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let mut i = worker;
                while Instant::now() < deadline {
                    let (method, path, body) = target.search(&queries[i % queries.len()], 10);
                    match connection.send(method, &path, body).await {
                        Ok((status, _)) if status.is_success() => {
                            done.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => errors.fetch_add(1, Ordering::Relaxed),
                    };
                    i += clients;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    (
        done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed),
    )
}

fn print_table(rows: &[Row], clients: &[usize]) {
    let qps_heads: String = clients.iter().map(|c| format!(" QPS {c} clients |")).collect();
    println!(
        "\n| system | configuration | ingest vec/s | recall@10 | p50 ms | p95 ms | p99 ms |{qps_heads} RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|{}---|", "---|".repeat(clients.len()));
    for r in rows {
        let qps: String = r.qps.iter().map(|(_, q, _)| format!(" {q:.0} |")).collect();
        let rss = r.rss_mib.map_or("-".into(), |m| format!("{m:.0}"));
        println!(
            "| {} | {} | {:.0} | {:.3} | {:.2} | {:.2} | {:.2} |{qps} {rss} |",
            r.name,
            r.config,
            r.ingest_per_s,
            r.recall,
            r.latency_ms[0],
            r.latency_ms[1],
            r.latency_ms[2]
        );
    }
    let ratio = |ours: &Row, other: &Row| {
        let qps: String = ours
            .qps
            .iter()
            .zip(&other.qps)
            .map(|((c, a, _), (_, b, _))| format!(", QPS at {c} {:.2}x", a / b))
            .collect();
        println!(
            "{} against {}: p50 {:.2}x, p95 {:.2}x (lower is better){qps}, ingest {:.2}x",
            ours.name,
            other.name,
            ours.latency_ms[0] / other.latency_ms[0],
            ours.latency_ms[1] / other.latency_ms[1],
            ours.ingest_per_s / other.ingest_per_s
        );
    };
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    if let Some(zerodb) = find("ZeroDB") {
        for other in rows.iter().filter(|r| !r.name.starts_with("ZeroDB")) {
            ratio(zerodb, other);
        }
    }
    // What ZeroDB in front of Qdrant costs over Qdrant alone.
    if let (Some(front), Some(raw)) = (find("ZeroDB+Qdrant"), find("Qdrant")) {
        ratio(front, raw);
    }
}
