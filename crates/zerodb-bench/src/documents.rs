//! `zerodb-bench documents`: the vectors API as a document store. Search latency per mode
//! (semantic by vector and by text, lexical, hybrid, hybrid under a 1 % filter) over
//! documents with their embeddings; text upserts (embedded by the server) against
//! `embeddings/generate` on the same texts; and, given LoCoMo (`--locomo DIR`), the
//! retrieval quality of each mode next to an Okapi BM25 baseline computed here on the same
//! texts with rank_bm25's formula.

use crate::kit::dataset::{normalise, read_fvecs, synthetic};
use crate::kit::server::BenchServer;
use crate::kit::{BenchError, percentile};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;
use zerodb_client::{Client, NewNamespace, NewVector, VectorSearch};
use zerodb_server::config::Settings;

#[derive(Debug, Clone, clap::Args)]
pub struct DocumentBenchOptions {
    /// Documents to store.
    #[arg(long, default_value_t = 100_000)]
    pub count: usize,
    /// The Debian corpus (corpus.txt and corpus.fvecs, all-MiniLM-L6-v2); repeated with
    /// jittered vectors past its 50,000 lines. Synthetic words and vectors when absent.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Searches per mode.
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
    /// Texts for the text-upsert against embeddings/generate comparison (0 skips it).
    #[arg(long, default_value_t = 2048)]
    pub embed_texts: usize,
    /// LoCoMo conversations (JSON files) for the retrieval-quality table.
    #[arg(long)]
    pub locomo: Option<PathBuf>,
}

/// The documents and, when real, their embeddings by the server's model.
struct Corpus {
    texts: Vec<String>,
    vectors: Option<Vec<Vec<f32>>>,
}

const WORDS: [&str; 40] = [
    "library",
    "tool",
    "server",
    "client",
    "python",
    "module",
    "data",
    "file",
    "network",
    "graphics",
    "audio",
    "video",
    "font",
    "kernel",
    "driver",
    "game",
    "editor",
    "terminal",
    "compiler",
    "debug",
    "documentation",
    "plugin",
    "database",
    "web",
    "browser",
    "mail",
    "image",
    "parser",
    "protocol",
    "system",
    "utility",
    "manager",
    "desktop",
    "theme",
    "shell",
    "test",
    "format",
    "archive",
    "backup",
    "monitor",
];

fn synthetic_corpus(count: usize) -> Corpus {
    let texts = (0..count)
        .map(|i| {
            let w = |k: usize| WORDS[(i * 7 + k * 13 + i / 40 * k) % WORDS.len()];
            format!("{} {} for the {} {} ({i})", w(1), w(2), w(3), w(4))
        })
        .collect();
    Corpus { texts, vectors: None }
}

/// The corpus repeated to `count`, each copy past the first with its vector jittered.
fn real_corpus(dir: &std::path::Path, count: usize) -> Result<Corpus, BenchError> {
    let lines: Vec<String> = std::fs::read_to_string(dir.join("corpus.txt"))
        .map_err(|e| BenchError::Setup(format!("corpus.txt: {e}")))?
        .lines()
        .map(str::to_owned)
        .collect();
    let base = read_fvecs(&dir.join("corpus.fvecs"))?;
    let noise = synthetic(count, base[0].len(), 7);
    let mut texts = Vec::with_capacity(count);
    let mut vectors = Vec::with_capacity(count);
    for (i, jitter) in noise.iter().enumerate() {
        let (line, copy) = (i % lines.len(), i / lines.len());
        let mut v = base[line].clone();
        if copy > 0 {
            v.iter_mut().zip(jitter).for_each(|(x, n)| *x += 0.05 * n);
            normalise(&mut v);
        }
        texts.push(if copy == 0 {
            lines[line].clone()
        } else {
            format!("{} ({copy})", lines[line])
        });
        vectors.push(v);
    }
    Ok(Corpus { texts, vectors: Some(vectors) })
}

/// The search of query number `q` in one run.
type SearchOf = Box<dyn Fn(usize) -> VectorSearch>;

/// The first words of a document, as a user would type them.
fn query_of(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn run_documents(
    settings: Settings,
    options: DocumentBenchOptions,
) -> Result<(), BenchError> {
    let bench = BenchServer::start(settings, |s| {
        s.database.max_connections = s.database.max_connections.max(32);
    })
    .await?;
    let (client, project) = (bench.client.clone(), bench.project);
    let probe = client.generate_embeddings(project, &["probe"]).await?;
    let model = probe.model.clone();
    let mut corpus = match &options.dataset {
        Some(dir) => real_corpus(dir, options.count)?,
        None => synthetic_corpus(options.count),
    };
    if corpus.vectors.as_ref().is_some_and(|v| v[0].len() != probe.dimensions) {
        println!("the server's model ({model}) is not the corpus's: documents are sent as text");
        corpus.vectors = None;
    }
    println!(
        "zerodb-bench documents: {} documents ({}), model {model}, {} queries per mode",
        options.count,
        if corpus.vectors.is_some() { "with the corpus's vectors" } else { "sent as text" },
        options.queries
    );
    let namespace = "docs";
    let spec = NewNamespace {
        namespace: namespace.into(),
        metric: None,
        quantization: None,
        dimension: Some(probe.dimensions as u32),
        embedding_model: Some(model.clone()),
    };
    client.create_namespace(project, &spec).await?;

    let corpus = Arc::new(corpus);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (client, corpus, next) = (client.clone(), corpus.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let first = next.fetch_add(500, Ordering::Relaxed);
                    if first >= corpus.texts.len() {
                        return Ok::<(), BenchError>(());
                    }
                    let batch: Vec<NewVector> = (first..corpus.texts.len().min(first + 500))
                        .map(|i| {
                            let v = match &corpus.vectors {
                                Some(vs) => {
                                    NewVector::new(vs[i].clone()).with_document(&corpus.texts[i])
                                }
                                None => NewVector::text(&corpus.texts[i]),
                            };
                            v.with_id(i)
                                .in_namespace(namespace)
                                .with_metadata(json!({"bucket": i % 100}))
                        })
                        .collect();
                    client.upsert_vectors(project, &batch).await?;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.map_err(|e| BenchError::Setup(e.to_string()))??;
    }
    let stored = started.elapsed();
    println!(
        "stored in {:.1} s ({:.0} documents/s, 4 clients, 500 per request)",
        stored.as_secs_f64(),
        options.count as f64 / stored.as_secs_f64()
    );
    loop {
        let ns = client.get_namespace(project, namespace).await?;
        if ns.graph_pending_vectors.unwrap_or(0) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("graph complete {:.1} s after the first write", started.elapsed().as_secs_f64());

    let step = (corpus.texts.len() / options.queries.max(1)).max(1);
    let picks: Vec<usize> =
        (0..options.queries).map(|q| (q * step + step / 2) % corpus.texts.len()).collect();
    let texts: Vec<String> = picks.iter().map(|&i| query_of(&corpus.texts[i])).collect();
    // One search per text first: the server caches the query embeddings, so the figures
    // below leave the model's time out, as the goal asks.
    for t in &texts {
        client.search_vectors(project, &VectorSearch::text(t, 10).in_namespace(namespace)).await?;
    }
    println!("{:<22} {:>8} {:>8} {:>8} {:>10}", "mode", "p50 ms", "p95 ms", "p99 ms", "hits/query");
    let mut runs: Vec<(&str, SearchOf)> = Vec::new();
    if let Some(vs) = &corpus.vectors {
        let vectors: Vec<Vec<f32>> = picks.iter().map(|&i| vs[i].clone()).collect();
        runs.push((
            "semantic (vector)",
            Box::new(move |q| VectorSearch::new(vectors[q].clone(), 10)),
        ));
    }
    let t = texts.clone();
    runs.push((
        "semantic (text)",
        Box::new(move |q| VectorSearch::text(&t[q], 10).with_mode("semantic")),
    ));
    let t = texts.clone();
    runs.push(("lexical", Box::new(move |q| VectorSearch::text(&t[q], 10).with_mode("lexical"))));
    let t = texts.clone();
    runs.push(("hybrid", Box::new(move |q| VectorSearch::text(&t[q], 10))));
    let t = texts.clone();
    runs.push((
        "hybrid, 1 % filter",
        Box::new(move |q| VectorSearch::text(&t[q], 10).with_filter(json!({"bucket": q % 100}))),
    ));
    let t = texts.clone();
    runs.push((
        "lexical, 1 % filter",
        Box::new(move |q| {
            VectorSearch::text(&t[q], 10)
                .with_mode("lexical")
                .with_filter(json!({"bucket": q % 100}))
        }),
    ));
    for (name, search) in &runs {
        let mut latencies = Vec::with_capacity(texts.len());
        let mut hits = 0usize;
        for q in 0..texts.len() {
            let s = search(q).in_namespace(namespace);
            let sent = Instant::now();
            hits += client.search_vectors(project, &s).await?.count;
            latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "{name:<22} {:>8.2} {:>8.2} {:>8.2} {:>10.1}",
            percentile(&latencies, 50.0),
            percentile(&latencies, 95.0),
            percentile(&latencies, 99.0),
            hits as f64 / texts.len() as f64
        );
    }

    if options.embed_texts > 0 {
        text_upserts_against_embeddings(&client, project, &corpus.texts, options.embed_texts)
            .await?;
    }
    if let Some(dir) = &options.locomo {
        locomo_quality(&client, project, dir).await?;
    }
    bench.stop().await;
    Ok(())
}

/// Texts per second through `embeddings/generate` and through text upserts, same texts,
/// same batches (256, the generate limit), one client; the generate run goes first and
/// the upserts use other texts, so neither is served from the embedding cache.
async fn text_upserts_against_embeddings(
    client: &Client,
    project: Uuid,
    texts: &[String],
    count: usize,
) -> Result<(), BenchError> {
    let count = count.min(texts.len() / 2);
    let generate: Vec<&str> = texts[..count].iter().map(String::as_str).collect();
    let started = Instant::now();
    for chunk in generate.chunks(256) {
        client.generate_embeddings(project, chunk).await?;
    }
    let generated = count as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for (c, chunk) in texts[count..2 * count].chunks(256).enumerate() {
        let batch: Vec<NewVector> = chunk
            .iter()
            .enumerate()
            .map(|(k, t)| NewVector::text(t).with_id(format!("t{c}-{k}")).in_namespace("text"))
            .collect();
        client.upsert_vectors(project, &batch).await?;
    }
    let upserted = count as f64 / started.elapsed().as_secs_f64();
    println!(
        "text upserts {upserted:.0} texts/s against embeddings/generate {generated:.0} texts/s ({:.0} %, {count} texts each, 256 per request)",
        100.0 * upserted / generated
    );
    Ok(())
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Okapi BM25 as rank_bm25's `BM25Okapi` computes it (k1 1.5, b 0.75, negative idf
/// floored at 0.25 of the average idf), over lowercase words.
struct Bm25 {
    docs: Vec<HashMap<String, f32>>,
    lengths: Vec<f32>,
    idf: HashMap<String, f32>,
    average_length: f32,
}

impl Bm25 {
    fn new(texts: &[String]) -> Self {
        let mut docs = Vec::with_capacity(texts.len());
        let mut lengths = Vec::with_capacity(texts.len());
        let mut df: HashMap<String, f32> = HashMap::new();
        for t in texts {
            let ws = words(t);
            lengths.push(ws.len() as f32);
            let mut tf: HashMap<String, f32> = HashMap::new();
            for w in ws {
                *tf.entry(w).or_default() += 1.0;
            }
            for w in tf.keys() {
                *df.entry(w.clone()).or_default() += 1.0;
            }
            docs.push(tf);
        }
        let n = texts.len() as f32;
        let mut idf: HashMap<String, f32> =
            df.iter().map(|(w, d)| (w.clone(), ((n - d + 0.5) / (d + 0.5)).ln())).collect();
        let average_idf = idf.values().sum::<f32>() / idf.len().max(1) as f32;
        for v in idf.values_mut() {
            if *v < 0.0 {
                *v = 0.25 * average_idf;
            }
        }
        let average_length = lengths.iter().sum::<f32>() / n.max(1.0);
        Self { docs, lengths, idf, average_length }
    }

    fn top(&self, query: &str, k: usize) -> Vec<usize> {
        let (k1, b) = (1.5f32, 0.75f32);
        let q = words(query);
        let mut scored: Vec<(f32, usize)> = self
            .docs
            .iter()
            .enumerate()
            .map(|(i, tf)| {
                let norm = k1 * (1.0 - b + b * self.lengths[i] / self.average_length);
                let s = q
                    .iter()
                    .map(|w| {
                        let f = tf.get(w).copied().unwrap_or(0.0);
                        self.idf.get(w).copied().unwrap_or(0.0) * f * (k1 + 1.0) / (f + norm)
                    })
                    .sum::<f32>();
                (s, i)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().take(k).map(|(_, i)| i).collect()
    }
}

#[derive(Default)]
struct Recall {
    at5: f64,
    at10: f64,
    hit10: f64,
    n: usize,
}

impl Recall {
    fn add(&mut self, ranked: &[String], evidence: &HashSet<String>) {
        let found = |k: usize| ranked.iter().take(k).filter(|id| evidence.contains(*id)).count();
        let total = evidence.len().max(1) as f64;
        self.at5 += found(5) as f64 / total;
        self.at10 += found(10) as f64 / total;
        self.hit10 += f64::from(u8::from(found(10) > 0));
        self.n += 1;
    }

    fn row(&self, name: &str) {
        let n = self.n.max(1) as f64;
        println!("{name:<24} {:>9.3} {:>9.3} {:>9.3}", self.at5 / n, self.at10 / n, self.hit10 / n);
    }
}

/// Every turn of each conversation stored as a document ("Speaker: text", id = its dia_id)
/// in a namespace of its own; each question of categories 1-4 asked in every mode.
async fn locomo_quality(
    client: &Client,
    project: Uuid,
    dir: &std::path::Path,
) -> Result<(), BenchError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| BenchError::Setup(format!("{dir:?}: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let modes = ["semantic", "lexical", "hybrid"];
    let mut ours: Vec<Recall> = modes.iter().map(|_| Recall::default()).collect();
    let mut bm25 = Recall::default();
    for (c, path) in files.iter().enumerate() {
        let raw = std::fs::read_to_string(path).map_err(|e| BenchError::Setup(e.to_string()))?;
        let conv: Value =
            serde_json::from_str(&raw).map_err(|e| BenchError::Setup(e.to_string()))?;
        let mut turns: Vec<(String, String)> = Vec::new();
        for n in 1.. {
            let Some(session) = conv[format!("session_{n}")].as_array() else {
                if conv.get(format!("session_{}_date_time", n + 1)).is_some() {
                    continue;
                }
                break;
            };
            for turn in session {
                let (Some(id), Some(speaker), Some(text)) =
                    (turn["dia_id"].as_str(), turn["speaker"].as_str(), turn["text"].as_str())
                else {
                    continue;
                };
                // Ids are unique within a project: each conversation's are prefixed.
                turns.push((format!("{c}/{id}"), format!("{speaker}: {text}")));
            }
        }
        let namespace = format!("locomo-{c}");
        for chunk in turns.chunks(256) {
            let batch: Vec<NewVector> = chunk
                .iter()
                .map(|(id, text)| NewVector::text(text).with_id(id).in_namespace(&namespace))
                .collect();
            client.upsert_vectors(project, &batch).await?;
        }
        let texts: Vec<String> = turns.iter().map(|(_, t)| t.clone()).collect();
        let baseline = Bm25::new(&texts);
        for qa in conv["qa"].as_array().into_iter().flatten() {
            let category = qa["category"].as_u64().unwrap_or(5);
            let (Some(question), Some(evidence)) =
                (qa["question"].as_str(), qa["evidence"].as_array())
            else {
                continue;
            };
            let evidence: HashSet<String> =
                evidence.iter().filter_map(Value::as_str).map(|e| format!("{c}/{e}")).collect();
            if !(1..=4).contains(&category) || evidence.is_empty() {
                continue;
            }
            let top: Vec<String> =
                baseline.top(question, 10).into_iter().map(|i| turns[i].0.clone()).collect();
            bm25.add(&top, &evidence);
            for (m, mode) in modes.iter().enumerate() {
                let search =
                    VectorSearch::text(question, 10).in_namespace(&namespace).with_mode(mode);
                let found = client.search_vectors(project, &search).await?;
                let ids: Vec<String> = found.results.into_iter().map(|h| h.vector_id).collect();
                ours[m].add(&ids, &evidence);
            }
        }
    }
    println!(
        "LoCoMo evidence recall, {} conversations, {} questions of categories 1-4, one document per turn:",
        files.len(),
        bm25.n
    );
    println!("{:<24} {:>9} {:>9} {:>9}", "retriever", "recall@5", "recall@10", "hit@10");
    for (m, mode) in modes.iter().enumerate() {
        ours[m].row(&format!("ZeroDB {mode}"));
    }
    bm25.row("BM25 (Okapi, as rank_bm25)");
    Ok(())
}
