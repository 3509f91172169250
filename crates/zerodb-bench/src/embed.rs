//! `zerodb-bench embed`: the local embedding model against its reference and against the
//! built-in lexical embedder, on the Debian corpus (../shared/datasets/debian-minilm-384):
//! cosine to the reference vectors over every line, sentences per second one at a time and
//! batched, and how many of the neural model's exact top-10 the lexical embedder finds.

use crate::kit::BenchError;
use crate::kit::dataset::read_fvecs;
use std::path::PathBuf;
use std::time::Instant;
use zerodb_embeddings::BuiltinEmbedder;
use zerodb_embeddings::local::SentenceModel;

#[derive(Debug, Clone, clap::Args)]
pub struct EmbedBenchOptions {
    /// The sentence-transformers model directory.
    #[arg(long, default_value = "target/models/all-MiniLM-L6-v2")]
    pub model_dir: PathBuf,
    /// The corpus: corpus.txt and corpus.fvecs (the reference vectors).
    #[arg(long, default_value = "../shared/datasets/debian-minilm-384")]
    pub corpus: PathBuf,
    /// Texts per batch in the batched run.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Lines held out as queries for the recall comparison (the corpus's last lines).
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Texts embedded one at a time for the unbatched rate.
    #[arg(long, default_value_t = 500)]
    pub singles: usize,
}

fn setup(e: impl ToString) -> BenchError {
    BenchError::Setup(e.to_string())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Indices of the `k` vectors of `docs` closest to `query` (exact, by dot product).
fn top(docs: &[Vec<f32>], query: &[f32], k: usize) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> =
        docs.iter().enumerate().map(|(i, d)| (dot(d, query), i)).collect();
    scored.select_nth_unstable_by(k, |a, b| b.0.total_cmp(&a.0));
    scored.truncate(k);
    scored.into_iter().map(|(_, i)| i).collect()
}

pub fn run_embed(options: EmbedBenchOptions) -> Result<(), BenchError> {
    let model = SentenceModel::load(&options.model_dir, None).map_err(setup)?;
    let lines: Vec<String> = std::fs::read_to_string(options.corpus.join("corpus.txt"))
        .map_err(setup)?
        .lines()
        .map(str::to_owned)
        .collect();
    let reference = read_fvecs(&options.corpus.join("corpus.fvecs"))?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "zerodb-bench embed: {} ({} dimensions, {} tokens at most), {} lines, {threads} cores",
        options.model_dir.display(),
        model.dimension(),
        model.max_tokens(),
        lines.len()
    );

    let started = Instant::now();
    for text in lines.iter().take(options.singles) {
        model.embed(std::slice::from_ref(text)).map_err(setup)?;
    }
    let single_rate = options.singles as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut neural = Vec::with_capacity(lines.len());
    let mut truncated = 0usize;
    for chunk in lines.chunks(options.batch.max(1)) {
        for embedded in model.embed(chunk).map_err(setup)? {
            truncated += usize::from(embedded.truncated);
            neural.push(embedded.vector);
        }
    }
    let batched_rate = lines.len() as f64 / started.elapsed().as_secs_f64();
    let cosines: Vec<f32> = neural
        .iter()
        .zip(&reference)
        .map(|(a, b)| dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt()))
        .collect();
    let min = cosines.iter().copied().fold(f32::MAX, f32::min);
    let mean = cosines.iter().map(|&c| f64::from(c)).sum::<f64>() / cosines.len() as f64;
    let below = cosines.iter().filter(|&&c| c < 0.999).count();
    println!(
        "cosine to the reference over all {} lines: minimum {min:.7}, mean {mean:.7}, below 0.999: {below}",
        cosines.len()
    );
    println!("texts cut to the token limit: {truncated}");
    println!(
        "throughput: {single_rate:.0} sentences/s one at a time, {batched_rate:.0} sentences/s in batches of {}",
        options.batch
    );

    let split = lines.len().saturating_sub(options.queries);
    let lexical = BuiltinEmbedder::new(model.dimension());
    let lexical_vectors: Vec<Vec<f32>> = lines.iter().map(|l| lexical.embed_one(l)).collect();
    let (mut found, mut possible) = (0usize, 0usize);
    for q in split..lines.len() {
        let truth = top(&neural[..split], &neural[q], 10);
        let guess = top(&lexical_vectors[..split], &lexical_vectors[q], 10);
        found += guess.iter().filter(|i| truth.contains(i)).count();
        possible += truth.len();
    }
    println!(
        "recall@10 of the lexical embedder against the neural model's exact top-10 ({} queries: the corpus's last lines, over the {split} before them): {:.3}",
        lines.len() - split,
        found as f64 / possible.max(1) as f64
    );
    Ok(())
}
