//! Embedding providers for ZeroDB's `EmbeddingProvider` port.
//!
//! [`BuiltinEmbedder`] works offline with no model: it hashes words, word pairs and
//! character trigrams into a fixed number of dimensions (feature hashing) and normalises the
//! result. It is **lexical, not neural**: texts that share words and spellings come out
//! similar, paraphrases with different words do not. Written by hand because it is a few
//! lines of arithmetic and must stay deterministic across versions. Meaning comes from a
//! neural model: [`local::LocalEmbedder`] (feature `local`) runs a sentence-transformers
//! model in process with candle, [`OpenAiEmbedder`] calls an OpenAI-compatible service.

mod cache;
#[cfg(feature = "local")]
pub mod local;
mod openai;
mod tokens;

pub use cache::InProcessEmbeddingCache;

pub use openai::{OpenAiEmbedder, OpenAiSettings};
pub use tokens::Cl100kTokenCounter;

use async_trait::async_trait;
use zerodb_domain::memory::{EmbeddingError, EmbeddingProvider};

/// Feature-hashing embedder; deterministic for a given dimension.
#[derive(Debug, Clone)]
pub struct BuiltinEmbedder {
    dimension: usize,
}

impl BuiltinEmbedder {
    pub fn new(dimension: usize) -> Self {
        Self { dimension: dimension.clamp(8, 4096) }
    }

    /// The embedding of one text (all zeros for a text without letters or digits).
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dimension];
        let lower = text.to_lowercase();
        let words: Vec<&str> =
            lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let mut add = |feature: &str, kind: u64, weight: f32| {
            let h = fnv1a(feature.as_bytes(), kind);
            let slot = (h % self.dimension as u64) as usize;
            // The sign bit spreads collisions out instead of piling them up.
            let sign = if (h >> 63) == 0 { 1.0 } else { -1.0 };
            v[slot] += sign * weight;
        };
        for w in &words {
            add(w, 1, 1.0);
            let padded: Vec<char> = format!(" {w} ").chars().collect();
            for tri in padded.windows(3) {
                add(&tri.iter().collect::<String>(), 2, 0.3);
            }
        }
        for pair in words.windows(2) {
            add(&format!("{} {}", pair[0], pair[1]), 3, 0.5);
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

/// FNV-1a, seeded by the feature kind so that a word and a trigram never share a hash.
fn fnv1a(bytes: &[u8], kind: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ kind.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    // A final mix so that the low bits (the slot) depend on every byte.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

#[async_trait]
impl EmbeddingProvider for BuiltinEmbedder {
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbeddingError> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }

    fn model(&self) -> String {
        format!("zerodb-builtin-hash-{}", self.dimension)
    }

    fn dimension(&self) -> usize {
        self.dimension
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn shared_words_mean_similar_vectors() {
        let e = BuiltinEmbedder::new(384);
        let a = e.embed_one("The user prefers dark mode in the editor");
        let b = e.embed_one("user prefers the dark mode");
        let c = e.embed_one("Quarterly revenue grew by twelve percent");
        assert!(cos(&a, &b) > 0.5, "{}", cos(&a, &b));
        assert!(cos(&a, &c) < 0.2, "{}", cos(&a, &c));
        assert_eq!(a, e.embed_one("The user prefers dark mode in the editor"));
        assert!((cos(&a, &a) - 1.0).abs() < 1e-5);
        assert!(e.embed_one("  ...  ").iter().all(|x| *x == 0.0));
    }
}
