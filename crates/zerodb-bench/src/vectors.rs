//! `zerodb-bench vectors`: ingest rate, search latency and throughput, recall@10 against
//! exact search, resident memory per vector and start-up time (snapshot load and full
//! rebuild), measured through the real HTTP API of a `zerodb serve` child process.
//!
//! The benchmark starts (or uses) PostgreSQL itself and runs the server as a separate
//! process, so the server's resident memory is its own and restarts are real restarts.

use crate::kit::dataset::{from_dataset, ground_truth, read_fvecs, synthetic};
use crate::kit::server::{ServerProcess, signed_in};
use crate::kit::{BenchError, percentile};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{Client, NewNamespace, NewVector, VectorSearch};
use zerodb_server::config::Settings;
use zerodb_server::startup::Database;

#[derive(Debug, Clone, clap::Args)]
pub struct VectorBenchOptions {
    /// Vectors per configuration.
    #[arg(long, default_value_t = 100_000)]
    pub count: usize,
    /// Dimensions to run (one configuration each, with every quantization).
    #[arg(long, value_delimiter = ',', default_values_t = [1536, 384])]
    pub dims: Vec<usize>,
    /// Quantizations to run: none, int8.
    #[arg(long, value_delimiter = ',', default_values_t = ["int8".to_string(), "none".to_string()])]
    pub quantization: Vec<String>,
    /// Query vectors for latency and recall.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// Concurrent clients for the throughput runs.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 8])]
    pub clients: Vec<usize>,
    /// Seconds per throughput run.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Real embeddings in TEXMEX .fvecs format (e.g. 384-d MiniLM); projected to other
    /// dimensions with a fixed random orthonormal map. Synthetic clustered data otherwise.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Vectors per upsert-batch request while ingesting.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Concurrent ingesting clients.
    #[arg(long, default_value_t = 2)]
    pub ingest_clients: usize,
    /// Skip the restart measurements.
    #[arg(long)]
    pub no_restart: bool,
}

/// Waits until the server's index holds `count` vectors, all of them in the graph (the
/// builder follows writes in the background); answers the time since `since`.
async fn wait_indexed(
    client: &Client,
    project: Uuid,
    count: u64,
    since: Instant,
) -> Result<Duration, BenchError> {
    loop {
        let ns = client.list_namespaces(project).await?;
        let first = ns.first();
        if first.and_then(|n| n.indexed_vectors) == Some(count)
            && first.and_then(|n| n.graph_pending_vectors) == Some(0)
        {
            return Ok(since.elapsed());
        }
        if since.elapsed() > Duration::from_secs(1800) {
            return Err(BenchError::Setup("index did not load".into()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn throughput(
    client: &Client,
    project: Uuid,
    queries: &[Vec<f32>],
    clients: usize,
    seconds: u64,
) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let queries = Arc::new(queries.to_vec());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (client, done, errors, queries) =
                (client.clone(), done.clone(), errors.clone(), queries.clone());
            tokio::spawn(async move {
                let mut i = w;
                while Instant::now() < deadline {
                    let q = VectorSearch::new(queries[i % queries.len()].clone(), 10);
                    match client.search_vectors(project, &q).await {
                        Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                    i += clients;
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    (
        done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed),
    )
}

pub async fn run_vectors(
    settings: Settings,
    options: VectorBenchOptions,
) -> Result<(), BenchError> {
    let work = tempfile::tempdir().map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut settings = settings;
    if settings.database.url.is_none() {
        settings.data_dir = work.path().join("pg-owner");
    }
    let db = Database::connect(&settings).await?;
    let secret = Uuid::new_v4().simple().to_string().repeat(2);
    let base = options.dataset.as_deref().map(read_fvecs).transpose()?;
    println!(
        "zerodb-bench vectors: {} vectors per run, {} queries, data: {}",
        options.count,
        options.queries,
        options
            .dataset
            .as_ref()
            .map_or("synthetic clustered (seeded)".into(), |p| p.display().to_string())
    );
    for &dim in &options.dims {
        let mut data = match &base {
            Some(base) => from_dataset(base, options.count + options.queries, dim, 42),
            None => synthetic(options.count + options.queries, dim, 42),
        };
        let queries = data.split_off(options.count);
        let truth_started = Instant::now();
        let truth = ground_truth(&data, &queries);
        println!(
            "\n== {} x {dim} (exact ground truth in {:.1} s)",
            data.len(),
            truth_started.elapsed().as_secs_f64()
        );
        for quantization in &options.quantization {
            run_one(
                &db.url,
                work.path(),
                &secret,
                &data,
                &queries,
                &truth,
                dim,
                quantization,
                &options,
            )
            .await?;
        }
    }
    db.pool.close();
    db.shutdown().await;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run_one(
    database_url: &str,
    work: &Path,
    secret: &str,
    data: &[Vec<f32>],
    queries: &[Vec<f32>],
    truth: &[Vec<usize>],
    dim: usize,
    quantization: &str,
    options: &VectorBenchOptions,
) -> Result<(), BenchError> {
    let data_dir = work.join(format!("server-{dim}-{quantization}"));
    let server = ServerProcess::start(database_url, &data_dir, secret).await?;
    let anonymous = Client::new(&server.url);
    let email = format!("bench-{}@example.com", Uuid::new_v4().simple());
    anonymous.register(&email, "bench password").await?;
    let client = signed_in(&server.url, &email).await?;
    let project = client
        .create_project(&format!("bench-{}", Uuid::new_v4().simple()), None)
        .await?
        .project_id;
    client.enable_database(project).await?;
    client
        .create_namespace(
            project,
            &NewNamespace {
                namespace: "default".into(),
                metric: Some("cosine".into()),
                quantization: Some(quantization.into()),
                dimension: Some(dim as u32),
                embedding_model: None,
            },
        )
        .await?;
    let rss_before = server.rss();

    // Ingest: batches of 500 from two concurrent clients; each batch is durable and
    // indexed when its request answers.
    let batch_size = options.batch.clamp(1, 1000);
    let ids = Arc::new(std::sync::Mutex::new(vec![String::new(); data.len()]));
    let next = Arc::new(AtomicU64::new(0));
    let data_arc: Arc<Vec<Vec<f32>>> = Arc::new(data.to_vec());
    let started = Instant::now();
    let tasks: Vec<_> = (0..options.ingest_clients.max(1))
        .map(|_| {
            let (client, ids, next, data) =
                (client.clone(), ids.clone(), next.clone(), data_arc.clone());
            tokio::spawn(async move {
                loop {
                    let start = next.fetch_add(batch_size as u64, Ordering::Relaxed) as usize;
                    if start >= data.len() {
                        return Ok::<(), BenchError>(());
                    }
                    let end = (start + batch_size).min(data.len());
                    let batch: Vec<NewVector> = (start..end)
                        .map(|i| {
                            NewVector::new(data[i].clone())
                                .with_metadata(json!({"i": i, "bucket": i % 100, "decile": i % 10}))
                        })
                        .collect();
                    let done = client.upsert_vectors(project, &batch).await?;
                    let mut ids = ids.lock().map_err(|_| BenchError::Setup("poisoned".into()))?;
                    for (k, v) in done.vectors.into_iter().enumerate() {
                        ids[start + k] = v.vector_id;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| BenchError::Setup(e.to_string()))??;
    }
    let ingest = started.elapsed();
    // Every answered batch is durable and searchable; the graph follows in the background.
    let graphed = wait_indexed(&client, project, data.len() as u64, started).await?;
    let ids: Vec<String> = ids.lock().map_err(|_| BenchError::Setup("poisoned".into()))?.clone();
    let rss_after = server.rss();
    let ns = client.list_namespaces(project).await?;
    let index_bytes = ns.first().and_then(|n| n.index_memory_bytes).unwrap_or(0);
    println!(
        "[{dim}d {quantization}] ingest: {:.0} vectors/s ({} in {:.1} s, batches of {batch_size}, {} clients); all in the graph after {:.1} s",
        data.len() as f64 / ingest.as_secs_f64(),
        data.len(),
        ingest.as_secs_f64(),
        options.ingest_clients,
        graphed.as_secs_f64()
    );
    println!(
        "[{dim}d {quantization}] memory: server RSS +{:.0} bytes/vector ({:.0} MiB -> {:.0} MiB); index reports {:.0} bytes/vector",
        (rss_after.saturating_sub(rss_before)) as f64 / data.len() as f64,
        rss_before as f64 / 1048576.0,
        rss_after as f64 / 1048576.0,
        index_bytes as f64 / data.len() as f64
    );

    // Latency and recall: one client, each query once.
    let position: std::collections::HashMap<String, usize> =
        ids.iter().enumerate().map(|(i, id)| (id.clone(), i)).collect();
    let mut latencies = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for (q, truth) in queries.iter().zip(truth) {
        let sent = Instant::now();
        let found = client.search_vectors(project, &VectorSearch::new(q.clone(), 10)).await?;
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
        hits += found
            .results
            .iter()
            .filter(|h| position.get(&h.vector_id).is_some_and(|p| truth.contains(p)))
            .count();
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "[{dim}d {quantization}] search, 1 client: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms; recall@10 {:.4}",
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 99.0),
        hits as f64 / (10 * queries.len()) as f64
    );
    for &clients in &options.clients {
        let (qps, errors) = throughput(&client, project, queries, clients, options.seconds).await;
        println!(
            "[{dim}d {quantization}] search QPS, {clients} clients: {qps:.0} ({errors} errors)"
        );
    }
    // Filtered searches that 1 % and 10 % of the vectors match.
    for (share, filter) in [("1 %", json!({"bucket": 7})), ("10 %", json!({"decile": 3}))] {
        let mut filtered = Vec::new();
        for q in queries.iter().take(100) {
            let sent = Instant::now();
            let found = client
                .search_vectors(
                    project,
                    &VectorSearch::new(q.clone(), 10).with_filter(filter.clone()),
                )
                .await?;
            filtered.push(sent.elapsed().as_secs_f64() * 1000.0);
            if found.count != 10 {
                return Err(BenchError::Setup(format!(
                    "filtered search ({share}) returned {} of 10",
                    found.count
                )));
            }
        }
        filtered.sort_by(f64::total_cmp);
        println!(
            "[{dim}d {quantization}] filtered search ({share} match): p50 {:.2} ms, p95 {:.2} ms, always 10 results",
            percentile(&filtered, 50.0),
            percentile(&filtered, 95.0)
        );
    }

    if !options.no_restart {
        let stop = server.stop().await?;
        let restarted = Instant::now();
        let server = ServerProcess::start(database_url, &data_dir, secret).await?;
        let client = signed_in(&server.url, &email).await?;
        let load = wait_indexed(&client, project, data.len() as u64, restarted).await?;
        // A restarted process holds the index without the ingest's transient buffers: the
        // steady-state cost of the vectors.
        let loaded_rss = server.rss();
        println!(
            "[{dim}d {quantization}] memory after restart: server RSS +{:.0} bytes/vector over an empty server ({:.0} MiB)",
            loaded_rss.saturating_sub(rss_before) as f64 / data.len() as f64,
            loaded_rss as f64 / 1048576.0
        );
        server.stop().await?;
        std::fs::remove_dir_all(data_dir.join("vectors"))
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        let restarted = Instant::now();
        let server = ServerProcess::start(database_url, &data_dir, secret).await?;
        let client = signed_in(&server.url, &email).await?;
        let rebuild = wait_indexed(&client, project, data.len() as u64, restarted).await?;
        println!(
            "[{dim}d {quantization}] start-up: {:.1} s from snapshot, {:.1} s full rebuild from PostgreSQL (shutdown with snapshot {:.1} s)",
            load.as_secs_f64(),
            rebuild.as_secs_f64(),
            stop.as_secs_f64()
        );
        client.delete_project(project).await?;
        server.stop().await?;
    } else {
        client.delete_project(project).await?;
        server.stop().await?;
    }
    Ok(())
}
