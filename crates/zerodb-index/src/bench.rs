//! In-process figures for one large namespace, without HTTP or PostgreSQL: build time,
//! memory per vector (as the index counts it and as the process's RSS grows), and search
//! latency unfiltered and with 1 % and 10 % filters. `cargo bench -p zerodb-index
//! --features bench-internals` runs it; `zerodb-bench vectors` measures the same through
//! the server. Environment: `BENCH_N` vectors (100,000), `BENCH_DIM` (1,536),
//! `BENCH_QUANTIZATION` (`int8` or `none`), `BENCH_EXACT` (`exact_threshold`),
//! `BENCH_NO_METADATA` (no metadata instead of three numeric fields).
use crate::IndexSettings;
use crate::namespace::{NamespaceIndex, Query};
use crate::originals::Originals;
use chrono::Utc;
use serde_json::{Map, json};
use std::time::Instant;
use uuid::Uuid;
use zerodb_domain::vectors::{MetadataFilter, Metric, NamespaceSpec, Quantization, VectorChange};

fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    s.split_whitespace().nth(1).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0) * 4096
}

fn rng(state: &mut u64) -> f32 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    ((*state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|x| x.parse().ok()).unwrap_or(default)
}

/// Runs the benchmark and prints its figures; panics on an index error (it is a benchmark).
pub fn run() {
    let n: usize = env_or("BENCH_N", 100_000);
    let dim: usize = env_or("BENCH_DIM", 1536);
    let quantization = match std::env::var("BENCH_QUANTIZATION").as_deref() {
        Ok("none") => Quantization::None,
        _ => Quantization::Int8,
    };
    let dir = std::env::temp_dir().join(format!("zerodb-index-bench-{}", Uuid::now_v7()));
    let spec = NamespaceSpec { metric: Metric::Cosine, quantization };
    let exact_threshold =
        std::env::var("PROBE_EXACT").ok().and_then(|x| x.parse().ok()).unwrap_or(2000);
    let settings = IndexSettings { exact_threshold, ..IndexSettings::default() };
    let ns = NamespaceIndex::new(
        "n".into(),
        dim,
        spec,
        Utc::now(),
        settings,
        Originals::create(Some(&dir)).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut s = 0x1234_5678_9abc_def0u64;
    // 100 clusters, like the HTTP benchmark's synthetic data
    let centers: Vec<Vec<f32>> =
        (0..100).map(|_| (0..dim).map(|_| rng(&mut s)).collect()).collect();
    let before = rss();
    let t = Instant::now();
    let mut seq = 0;
    for chunk in 0..n / 1000 {
        let changes: Vec<VectorChange> = (0..1000)
            .map(|j| {
                let i = chunk * 1000 + j;
                seq += 1;
                let c = &centers[i % 100];
                VectorChange::Upserted {
                    seq,
                    namespace: "n".into(),
                    id: zerodb_domain::vectors::VectorId::generate(),
                    embedding: c.iter().map(|x| x + 0.5 * rng(&mut s)).collect(),
                    metadata: if std::env::var("BENCH_NO_METADATA").is_ok() {
                        Map::new()
                    } else {
                        let m = json!({"i": i, "bucket": i % 100, "decile": i % 10});
                        m.as_object().cloned().unwrap_or_default()
                    },
                    document: None,
                    source: None,
                }
            })
            .collect();
        ns.apply(&changes.iter().collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e}"));
        ns.build_all_pending().unwrap_or_else(|e| panic!("{e}"));
    }
    println!("[{dim}d {quantization}] built {n} vectors in {:.1} s", t.elapsed().as_secs_f64());
    let after = rss();
    println!(
        "[{dim}d {quantization}] memory: index reports {:.0} bytes/vector, RSS +{:.0} bytes/vector",
        ns.memory_bytes() as f64 / n as f64,
        (after - before) as f64 / n as f64
    );
    {
        let inner = ns.read();
        let st = inner.index.memory_stats();
        let per = |x: usize| x as f64 / n as f64;
        println!(
            "[{dim}d {quantization}] per vector: graph {:.0} (of {:.0} allocated), vectors {:.0} (of {:.0}), key map {:.0}, postings {:.0}",
            per(st.graph_allocated - st.graph_reserved),
            per(st.graph_allocated),
            per(st.vectors_allocated - st.vectors_reserved),
            per(st.vectors_allocated),
            per(inner.by_id.capacity() * 5),
            per(inner.postings.memory_bytes())
        );
    }
    let queries: Vec<Vec<f32>> = (0..200)
        .map(|i| centers[i % 100].iter().map(|x| x + 0.5 * rng(&mut s)).collect())
        .collect();
    let f1 = MetadataFilter::parse(&json!({"bucket": 7})).unwrap_or_else(|e| panic!("{e}"));
    let f10 = MetadataFilter::parse(&json!({"decile": 3})).unwrap_or_else(|e| panic!("{e}"));
    for (label, filter) in [("none", None), ("1%", Some(&f1)), ("10%", Some(&f10))] {
        let mut times = Vec::new();
        let mut short = 0;
        for q in &queries {
            let t = Instant::now();
            let hits = ns
                .search(&Query {
                    vector: q,
                    limit: 10,
                    filter,
                    min_score: None,
                    include_vectors: false,
                })
                .unwrap_or_else(|e| panic!("{e}"));
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if hits.len() < 10 {
                short += 1;
            }
        }
        println!(
            "[{dim}d {quantization}] search, filter {label}: p50 {:.2} ms, p95 {:.2} ms, {short} of {} short of 10",
            pct(times.clone(), 0.5),
            pct(times, 0.95),
            queries.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
