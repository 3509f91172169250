//! Text search over documents and its fusion with similarity search: modes, weights,
//! reciprocal rank fusion with a score breakdown, and maximal marginal relevance.

use super::{MetadataFilter, NamespaceName, SearchHit};

/// How a search ranks: by meaning, by words, or both fused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    Semantic,
    Lexical,
    Hybrid,
}

impl SearchMode {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "semantic" => Some(Self::Semantic),
            "lexical" => Some(Self::Lexical),
            "hybrid" => Some(Self::Hybrid),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Semantic => "semantic",
            Self::Lexical => "lexical",
            Self::Hybrid => "hybrid",
        }
    }
}

/// A full-text search over one namespace's documents.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalRequest {
    pub namespace: NamespaceName,
    pub query: String,
    pub limit: u32,
    pub filter: Option<MetadataFilter>,
}

/// A document that matched, with its text rank (higher is better, unbounded; the hit's
/// own score is not used).
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalMatch {
    pub hit: SearchHit,
    pub rank: f32,
}

/// Weights of the two lists in hybrid fusion; non-negative, not both zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    pub semantic: f32,
    pub lexical: f32,
}

impl Default for FusionWeights {
    fn default() -> Self {
        Self { semantic: 1.0, lexical: 1.0 }
    }
}

/// Which parts of each hit or record an answer carries. Ids always come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Include {
    pub documents: bool,
    pub metadata: bool,
    pub vectors: bool,
    pub scores: bool,
}

impl Include {
    /// Everything but the vectors: the answer before `include` existed.
    pub const DEFAULT: Self =
        Self { documents: true, metadata: true, vectors: false, scores: true };

    /// From the names `documents`, `metadata`, `vectors`, `scores`; `None` for another name.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut include = Self { documents: false, metadata: false, vectors: false, scores: false };
        for name in names {
            match name {
                "documents" => include.documents = true,
                "metadata" => include.metadata = true,
                "vectors" => include.vectors = true,
                "scores" => include.scores = true,
                other => {
                    return Err(format!(
                        "'{other}' is not one of documents, metadata, vectors, scores"
                    ));
                }
            }
        }
        Ok(include)
    }
}

/// Maximal marginal relevance: pick `limit` of the best `fetch_k` candidates, trading
/// relevance (`lambda` = 1) against difference from those already picked (`lambda` = 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmrOptions {
    pub lambda: f32,
    pub fetch_k: u32,
}

/// Where a hit's score came from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScoreBreakdown {
    /// Similarity to the query vector (the metric's score), when the hit was in that list.
    pub semantic: Option<f32>,
    /// Text rank divided by the best rank of the list, in (0, 1], when it matched words.
    pub lexical: Option<f32>,
    /// The weighted reciprocal rank fusion of the two, in [0, 1]: 1 for a hit first in
    /// both lists.
    pub fused: f32,
}

/// Reciprocal rank fusion constant (the usual 60).
const RRF_K: f32 = 60.0;

/// Fuses two ranked lists of candidate indexes (best first) into one, best first, with
/// each item's fused score: `Σ w/(k + rank)`, divided by the best possible score.
pub fn fuse(semantic: &[usize], lexical: &[usize], weights: FusionWeights) -> Vec<(usize, f32)> {
    let mut scores: std::collections::HashMap<usize, f32> = std::collections::HashMap::new();
    let mut order = Vec::new();
    for (list, weight) in [(semantic, weights.semantic), (lexical, weights.lexical)] {
        for (rank, &item) in list.iter().enumerate() {
            let entry = scores.entry(item).or_insert_with(|| {
                order.push(item);
                0.0
            });
            *entry += weight / (RRF_K + rank as f32 + 1.0);
        }
    }
    let best = (weights.semantic + weights.lexical).max(f32::MIN_POSITIVE) / (RRF_K + 1.0);
    let mut fused: Vec<(usize, f32)> =
        order.into_iter().map(|i| (i, (scores[&i] / best).min(1.0))).collect();
    // Ties keep first-seen order (the semantic list's), so the answer is deterministic.
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na.sqrt() * nb.sqrt()) }
}

/// Picks `limit` candidates by maximal marginal relevance. `relevance[i]` is candidate
/// `i`'s relevance to the query (higher is better) and `embeddings[i]` its vector;
/// answers indexes in the order picked.
pub fn maximal_marginal_relevance(
    relevance: &[f32],
    embeddings: &[&[f32]],
    limit: usize,
    lambda: f32,
) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::with_capacity(limit.min(relevance.len()));
    // The highest similarity of each candidate to anything picked so far.
    let mut redundancy = vec![f32::NEG_INFINITY; relevance.len()];
    while picked.len() < limit.min(relevance.len()) {
        let mut best: Option<(usize, f32)> = None;
        for i in 0..relevance.len() {
            if picked.contains(&i) {
                continue;
            }
            let penalty = if picked.is_empty() { 0.0 } else { redundancy[i] };
            let value = lambda * relevance[i] - (1.0 - lambda) * penalty;
            if best.is_none_or(|(_, b)| value > b) {
                best = Some((i, value));
            }
        }
        let Some((chosen, _)) = best else { break };
        picked.push(chosen);
        for i in 0..relevance.len() {
            let sim = cosine(embeddings[i], embeddings[chosen]);
            redundancy[i] = redundancy[i].max(sim);
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_rewards_agreement_and_respects_weights() {
        let fused = fuse(&[0, 1, 2], &[2, 3], FusionWeights::default());
        assert_eq!(fused[0].0, 2, "in both lists: {fused:?}");
        let first_in_both = fuse(&[7], &[7], FusionWeights::default());
        assert!((first_in_both[0].1 - 1.0).abs() < 1e-6);
        let lexical_only = fuse(&[0, 1], &[1, 0], FusionWeights { semantic: 0.0, lexical: 1.0 });
        assert_eq!(lexical_only[0].0, 1);
    }

    #[test]
    fn mmr_prefers_a_different_second_pick() {
        let a = [1.0, 0.0];
        let a2 = [0.99, 0.01];
        let b = [0.0, 1.0];
        let picked = maximal_marginal_relevance(&[0.9, 0.89, 0.5], &[&a, &a2, &b], 2, 0.5);
        assert_eq!(picked, vec![0, 2]);
        let greedy = maximal_marginal_relevance(&[0.9, 0.89, 0.5], &[&a, &a2, &b], 2, 1.0);
        assert_eq!(greedy, vec![0, 1]);
    }
}
